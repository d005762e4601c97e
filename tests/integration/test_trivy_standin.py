"""The Trivy stand-in (mdtest/trivy.py) answers with Trivy's own output.

Trivy cannot run here, so the scan tests use a stand-in. These tests keep
it honest: for every golden in ../shared/fixtures/trivy/ its answer equals
Trivy's report except for the two fields Trivy derives from the image it is
given (ArtifactName, Metadata.RepoDigests), directly and through its server
mode; and it refuses an invocation Trivy would refuse.
"""

import json
import os
import subprocess
import time

import pytest

from mdtest.trivy import TrivyStandin

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(os.path.dirname(ROOT), "shared", "fixtures", "trivy")
DIGEST = "sha256:" + "c" * 64
GOLDENS = sorted(f for f in os.listdir(FIXTURES) if f.endswith(".json.golden")) \
    if os.path.isdir(FIXTURES) else []


def run(standin, *args, env=None):
    return subprocess.run([standin.path, *args], capture_output=True, text=True, timeout=120,
                          env=env if env is not None else {"PATH": "/usr/bin:/bin"})


def without_derived(report):
    report = json.loads(json.dumps(report))
    report.pop("ArtifactName", None)
    report.get("Metadata", {}).pop("RepoDigests", None)
    return report


def golden(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
        return json.load(f)


def test_fixtures_are_there():
    assert GOLDENS, f"no Trivy goldens in {FIXTURES} (they are read in place)"


@pytest.mark.parametrize("name", GOLDENS)
def test_answers_with_trivys_report(tmp_path, name):
    ref = f"ghcr.io/acme/app@{DIGEST}"
    standin = TrivyStandin(tmp_path, FIXTURES, images={ref: {"report": name}})
    out = run(standin, "image", "--format", "json", "--quiet", ref)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert without_derived(got) == without_derived(golden(name))
    assert got["ArtifactName"] == ref
    assert got["Metadata"]["RepoDigests"] == [ref]


def test_docker_hub_names_as_trivy_writes_them(tmp_path):
    ref = f"docker.io/library/alpine@{DIGEST}"
    standin = TrivyStandin(tmp_path, FIXTURES, images={DIGEST: {"report": GOLDENS[0]}})
    got = json.loads(run(standin, "image", "--format", "json", ref).stdout)
    assert got["ArtifactName"] == ref
    assert got["Metadata"]["RepoDigests"] == [f"alpine@{DIGEST}"]


def test_other_artifact_is_the_golden_verbatim(tmp_path):
    ref = f"ghcr.io/acme/app@{DIGEST}"
    standin = TrivyStandin(tmp_path, FIXTURES,
                           images={ref: {"report": "alpine-39.json.golden",
                                         "mode": "other-artifact"}})
    got = json.loads(run(standin, "image", "--format", "json", ref).stdout)
    assert got == golden("alpine-39.json.golden")


def test_server_mode_answers_the_same(tmp_path):
    ref = f"ghcr.io/acme/app@{DIGEST}"
    standin = TrivyStandin(tmp_path, FIXTURES,
                           images={ref: {"report": "debian-buster.json.golden"}})
    server = subprocess.Popen([standin.path, "server", "--listen", "127.0.0.1:0",
                               "--token", "tok"])
    try:
        portfile = os.path.join(standin.dir, "server.port")
        deadline = time.monotonic() + 60
        while not os.path.exists(portfile) and time.monotonic() < deadline:
            time.sleep(0.05)
        url = f"http://127.0.0.1:{int(open(portfile, encoding='utf-8').read())}"
        env = {"PATH": "/usr/bin:/bin", "TRIVY_TOKEN": "tok"}
        out = run(standin, "image", "--format", "json", "--server", url, ref, env=env)
        assert out.returncode == 0, out.stderr
        assert without_derived(json.loads(out.stdout)) == \
            without_derived(golden("debian-buster.json.golden"))
        env["TRIVY_TOKEN"] = "wrong"
        out = run(standin, "image", "--format", "json", "--server", url, ref, env=env)
        assert out.returncode == 1 and "invalid token" in out.stderr
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_refuses_what_trivy_would(tmp_path):
    standin = TrivyStandin(tmp_path, FIXTURES)
    out = run(standin, "image", "--format", "json", "--exit-code", "1", f"x@{DIGEST}")
    assert out.returncode == 1 and "unknown flag: --exit-code" in out.stderr
    out = run(standin, "image", "--format", "json", f"x@{DIGEST}")
    assert out.returncode == 1 and "unable to find the specified image" in out.stderr
    out = run(standin, "scan", "x")
    assert out.returncode == 1
    calls = standin.calls()
    assert [c["argv"][0] for c in calls] == ["image", "image", "scan"]

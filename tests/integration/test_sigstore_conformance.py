"""The sigstore-conformance bundle-verify suite, driven through `verify-bundle`.

Every case directory of ../shared/fixtures/sigstore-conformance/bundle-verify/
(real public-good and staging bundles, read where they are, never copied) runs
as the suite's harness would: `verify-bundle --bundle F (--certificate-identity
I --certificate-oidc-issuer U | --key K) --trusted-root T ARTIFACT`. A case
whose name ends in `_fail` must be refused (non-zero exit, no crash), every
other case verified. Cases without a trusted_root.json use the public-good
root the suite would use; cases without an artifact use a.txt."""
import os
import subprocess

import pytest

from mdtest.agent import REPO_ROOT, SANITIZER_VARS

SUITE = os.path.join(REPO_ROOT, "..", "shared", "fixtures", "sigstore-conformance")
CASES_DIR = os.path.join(SUITE, "bundle-verify")
DEFAULT_IDENTITY = ("https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-"
                    "beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main")
DEFAULT_ISSUER = "https://token.actions.githubusercontent.com"


def _cases():
    if not os.path.isdir(CASES_DIR):
        return []
    return sorted(d for d in os.listdir(CASES_DIR)
                  if os.path.isfile(os.path.join(CASES_DIR, d, "bundle.sigstore.json")))


def _read(path):
    with open(path, encoding="utf-8") as f:
        return f.read().strip()


def _argv(binary, case):
    d = os.path.join(CASES_DIR, case)

    def opt(name, default):
        p = os.path.join(d, name)
        return p if os.path.exists(p) else default

    argv = [binary, "verify-bundle", "--bundle", os.path.join(d, "bundle.sigstore.json")]
    if os.path.exists(os.path.join(d, "key.pub")):
        argv += ["--key", os.path.join(d, "key.pub")]
    else:
        ident = opt("identity", None)
        issuer = opt("issuer", None)
        argv += ["--certificate-identity", _read(ident) if ident else DEFAULT_IDENTITY,
                 "--certificate-oidc-issuer", _read(issuer) if issuer else DEFAULT_ISSUER]
    argv += ["--trusted-root", opt("trusted_root.json",
                                   os.path.join(SUITE, "public-good-trusted_root.json"))]
    argv.append(opt("artifact", os.path.join(SUITE, "a.txt")))
    return argv


def test_suite_is_present():
    # The fixture directory is part of CI; an empty parametrisation must
    # not pass for a run of the whole suite.
    assert len(_cases()) >= 70, f"conformance cases missing under {CASES_DIR}"


@pytest.mark.parametrize("case", _cases())
def test_conformance_case(magos_bin, tmp_path, case):
    home = tmp_path / "home"
    home.mkdir()
    # No cosign cache in HOME: only the trusted root named on the command line counts.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}
    env.update({k: os.environ[k] for k in SANITIZER_VARS if k in os.environ})
    r = subprocess.run(_argv(magos_bin, case), capture_output=True, text=True, timeout=60,
                       env=env)
    detail = f"{case}: exit {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}"
    assert r.returncode >= 0, "crashed: " + detail
    if case.endswith("_fail"):
        assert r.returncode in (1, 2), detail
        assert r.stdout == "", detail
        assert r.stderr.startswith("magos-dominus: "), detail
    else:
        assert r.returncode == 0, detail
        assert r.stdout.startswith("verified: signed by "), detail

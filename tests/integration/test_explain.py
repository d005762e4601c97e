"""Golden tests for the offline `explain --tags` command.

Each directory under tests/fixtures/explain/ is one case:
  case.json      {"annotation": {...}, "current": "TAG" or null, "now": "RFC3339"}
  tags           the tags file (`tag [created-RFC3339] [os/arch[/variant],...]`)
  expected.txt   the table output
  expected.json  the `--format json` output

`--now` makes minAge reproducible; no case relies on the host's platform
(cases without an explicit `arch` list no platforms). Regenerate the golden
files after an intended change with MAGOS_UPDATE_GOLDEN=1.
"""
import json
import os
import subprocess

import pytest

from mdtest.agent import REPO_ROOT

FIXTURES = os.path.join(REPO_ROOT, "tests", "fixtures", "explain")
CASES = sorted(d for d in os.listdir(FIXTURES) if os.path.isdir(os.path.join(FIXTURES, d)))


def run_explain(magos_bin, case_dir, fmt):
    with open(os.path.join(case_dir, "case.json")) as f:
        case = json.load(f)
    argv = [magos_bin, "explain", "--annotation", json.dumps(case["annotation"]),
            "--tags", os.path.join(case_dir, "tags"), "--now", case["now"]]
    if case.get("current"):
        argv += ["--current", case["current"]]
    if fmt == "json":
        argv += ["--format", "json"]
    env = {"PATH": "/usr/bin:/bin"}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    res = subprocess.run(argv, capture_output=True, text=True, timeout=30, env=env)
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    return res.stdout


def check_golden(path, got):
    if os.environ.get("MAGOS_UPDATE_GOLDEN") == "1":
        with open(path, "w") as f:
            f.write(got)
    with open(path) as f:
        want = f.read()
    assert got == want, f"{path} differs:\n--- got\n{got}\n--- want\n{want}"


@pytest.mark.parametrize("case", CASES)
def test_explain_table(magos_bin, case):
    case_dir = os.path.join(FIXTURES, case)
    check_golden(os.path.join(case_dir, "expected.txt"), run_explain(magos_bin, case_dir, "table"))


@pytest.mark.parametrize("case", CASES)
def test_explain_json(magos_bin, case):
    case_dir = os.path.join(FIXTURES, case)
    got = run_explain(magos_bin, case_dir, "json")
    check_golden(os.path.join(case_dir, "expected.json"), got)
    # The documented shape, exactly.
    doc = json.loads(got)
    assert set(doc) <= {"decision", "candidates", "warning"}
    assert doc["decision"] is None or set(doc["decision"]) == {"tag"}
    for c in doc["candidates"]:
        assert set(c) == {"tag", "kept", "reason"}
        assert isinstance(c["kept"], bool)


def test_explain_table_and_json_agree(magos_bin):
    for case in CASES:
        case_dir = os.path.join(FIXTURES, case)
        doc = json.loads(run_explain(magos_bin, case_dir, "json"))
        table = run_explain(magos_bin, case_dir, "table").splitlines()
        rows = [line.split(None, 2) for line in table[1:1 + len(doc["candidates"])]]
        assert [(r[0], r[1] == "kept", r[2]) for r in rows] == \
            [(c["tag"], c["kept"], c["reason"]) for c in doc["candidates"]]
        chosen = doc["decision"]["tag"] if doc["decision"] else None
        assert table[-1] == f"decision: {chosen}" if chosen else \
            table[-1] == "decision: none (the site is left as it is)"


def test_explain_bad_now(magos_bin, tmp_path):
    tags = tmp_path / "tags"
    tags.write_text("1.0.0\n")
    res = subprocess.run([magos_bin, "explain", "--annotation", '{"magos": {"range": "^1"}}',
                          "--tags", str(tags), "--now", "yesterday"],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 2
    assert res.stderr.startswith("magos-dominus: --now: ")


def test_explain_bad_tags_line(magos_bin, tmp_path):
    tags = tmp_path / "tags"
    tags.write_text("1.0.0\n1.1.0 not-a-time\n")
    res = subprocess.run([magos_bin, "explain", "--annotation", '{"magos": {"range": "^1"}}',
                          "--tags", str(tags)], capture_output=True, text=True, timeout=30)
    assert res.returncode == 1
    assert f"{tags}:2: " in res.stderr


def test_explain_declared_tag_of_unknown_shape(magos_bin, tmp_path):
    """A declared tag that does not read as a version is reported (exit 1),
    as a cycle reports the site; the table still says why."""
    tags = tmp_path / "tags"
    tags.write_text("1.27.3-alpine\n1.27.3\nstable-alpine\n")
    res = subprocess.run([magos_bin, "explain", "--annotation", '{"magos": {"range": "^1"}}',
                          "--current", "stable-alpine", "--tags", str(tags)],
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 1, res
    assert res.stderr == ('magos-dominus: declared tag "stable-alpine" does not read as a '
                          'version, so its shape (scheme, parts, flavour) is unknown and no tag '
                          'may replace it; declare a version tag such as 1.2.3 or 1.2.3-alpine, '
                          'or use "policy": "latest"\n')
    assert res.stdout.splitlines()[1:] == [
        "1.27.3                           dropped  declared tag is not a version",
        "1.27.3-alpine                    dropped  declared tag is not a version",
        "stable-alpine                    dropped  not a semantic version",
        "decision: none (the site is left as it is)"]

"""Assertions and snapshots shared by the integration tests."""
import hashlib
import json
import os
import re

HEX40 = re.compile(r"^[0-9a-f]{40}$")


def annotation(**fields):
    """`# {"magos": {...}}` exactly as a user would write it."""
    return "# " + json.dumps({"magos": fields})


def short(digest):
    """sha256:<12 hex>, the commit message form of a digest-only update."""
    algo, _, hexpart = digest.partition(":")
    return f"{algo}:{hexpart[:12]}"


def replaced_once(before, old, new):
    """`before` with the single occurrence of `old` replaced by `new`;
    asserts that `old` occurs exactly once so the expectation is unambiguous."""
    if isinstance(before, bytes):
        old, new = old.encode() if isinstance(old, str) else old, \
            new.encode() if isinstance(new, str) else new
    n = before.count(old)
    assert n == 1, f"test bug: {old!r} occurs {n} times in the fixture"
    return before.replace(old, new, 1)


def line_of(text, needle):
    """1-based line number of the single line containing `needle`."""
    if isinstance(text, bytes):
        text = text.decode()
    hits = [i + 1 for i, line in enumerate(text.splitlines()) if needle in line]
    assert len(hits) == 1, f"test bug: {needle!r} on lines {hits}"
    return hits[0]


def names_site(stderr, file, line):
    """True when stderr names `file:line`: verbatim, or as JSON log fields
    (file="f:l", or file="f" with line=l)."""
    if f"{file}:{line}" in stderr:
        return True
    for raw in stderr.splitlines():
        try:
            rec = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(rec, dict):
            continue
        if rec.get("file") == f"{file}:{line}":
            return True
        if rec.get("file") == file and str(rec.get("line")) == str(line):
            return True
    return False


def snapshot(root):
    """{relative path: (size, mtime_ns, mode, sha256)} of every file and dir under root."""
    snap = {}
    if not os.path.exists(root):
        return snap
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            digest = None
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
            snap[os.path.relpath(path, root)] = (st.st_size if digest else None,
                                                  st.st_mtime_ns if digest else None,
                                                  st.st_mode, digest)
    return snap


def snapshot_diff(a, b):
    """Human-readable list of what differs between two snapshots."""
    out = []
    for k in sorted(set(a) | set(b)):
        if k not in a:
            out.append(f"+ {k}")
        elif k not in b:
            out.append(f"- {k}")
        elif a[k] != b[k]:
            out.append(f"~ {k}: {a[k]} -> {b[k]}")
    return out


def normalise_diff(text):
    """Drop what differs between two correct unified diffs of the same change
    but carries no content: `index` lines (blob ids) and the function-context
    text git appends after a hunk header's closing @@."""
    out = []
    for line in text.splitlines():
        if line.startswith("index "):
            continue
        m = re.match(r"^(@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@).*$", line)
        out.append(m.group(1) if m else line)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out)

"""The README is part of done: every configuration key the agent knows is
documented in its tables with the default the code uses."""
import os
import re

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def known_keys():
    with open(os.path.join(ROOT, "internal", "config", "config.c")) as f:
        text = f.read()
    defines = dict(re.findall(r'#define (DEFAULT_\w+)\s*\\?\s*"([^"]*)"', text))
    keys = []
    for key, default in re.findall(r'X\("(MD_[A-Z_]+)",\s*(NULL|"[^"]*"|DEFAULT_\w+)', text):
        if default == "NULL":
            default = None
        elif default.startswith("DEFAULT_"):
            default = defines.get(default)
        else:
            default = default.strip('"')
        keys.append((key, default))
    return keys


def readme_rows():
    with open(os.path.join(ROOT, "README.md")) as f:
        text = f.read()
    rows = {}
    for m in re.finditer(r"^\| `(MD_[A-Z_]+)` \| ([^|]*) \|", text, re.M):
        rows[m.group(1)] = m.group(2).strip()
    return rows


def test_every_key_is_documented_with_its_default():
    keys = known_keys()
    assert len(keys) > 30
    rows = readme_rows()
    missing = [k for k, _ in keys if k not in rows]
    assert not missing, f"keys missing from the README tables: {missing}"
    for key, default in keys:
        if default:
            shown = rows[key].replace("\\n", "\n")
            assert f"`{default}`" in shown.replace("\n", "\\n") or f"`{default}`" in shown, \
                f"{key}: README shows {rows[key]!r}, the code's default is {default!r}"


def test_readme_has_no_undocumented_extra_keys():
    known = {k for k, _ in known_keys()}
    extra = [k for k in readme_rows() if k not in known]
    assert not extra, f"README documents keys the agent does not know: {extra}"

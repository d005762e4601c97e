"""The documentation is part of done, and a person who clones the repository
must find every document it points to inside it.

That every configuration key is documented with the program's default is
checked by tests/unit/test_config_docs.c, which takes the key list from the
program itself (md_config_keys()). This file checks the links: every link
in the README and docs/ to a file of the repository resolves, with its
#anchor, and nothing points outside the tree."""
import os
import re
import subprocess

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOCS = ["README.md"] + sorted(
    os.path.join("docs", f) for f in os.listdir(os.path.join(ROOT, "docs")) if f.endswith(".md"))
LINK = re.compile(r"\]\(([^)\s]+)\)")


def text_of(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def prose(text):
    """The text without fenced code blocks (examples may hold any URL)."""
    return re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)


def anchors(text):
    """GitHub's ids for the headings: lowercase, punctuation dropped,
    spaces as dashes."""
    out = set()
    for m in re.finditer(r"^#+ (.+)$", prose(text), re.M):
        out.add(re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-"))
    return out


def local_links(path):
    for target in LINK.findall(prose(text_of(path))):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        yield target


def test_anchor_ids_follow_github():
    text = "# Top\n## Registry API (OCI distribution)\n## `MD_*` keys\n```\n# not a heading\n```\n"
    assert anchors(text) == {"top", "registry-api-oci-distribution", "md_-keys"}


@pytest.mark.parametrize("doc", DOCS)
def test_links_resolve_inside_the_repository(doc):
    base = os.path.dirname(os.path.join(ROOT, doc))
    broken = []
    for target in local_links(doc):
        file, _, anchor = target.partition("#")
        dest = os.path.normpath(os.path.join(base, file)) if file else os.path.join(ROOT, doc)
        if os.path.commonpath([dest, ROOT]) != ROOT:
            broken.append(f"{target}: outside the repository")
        elif not os.path.exists(dest):
            broken.append(f"{target}: no such file")
        elif anchor and dest.endswith(".md") and anchor not in anchors(text_of(dest)):
            broken.append(f"{target}: no heading #{anchor} in {os.path.relpath(dest, ROOT)}")
    assert not broken, f"{doc}: {broken}"


def tracked_text_files():
    """Source, build and documentation files git tracks (fixtures aside)."""
    out = subprocess.run(["git", "-C", ROOT, "ls-files"], capture_output=True, text=True,
                         check=True).stdout.split()
    keep = (".c", ".h", ".py", ".md", ".sh", ".service", ".env", "Makefile", "run")
    return [f for f in out if f.endswith(keep) and not f.startswith("tests/fixtures/")]


def citing_text(path, text):
    """Where a document is cited: prose of a Markdown file (code, code
    spans and URLs of public sources aside), comments of code (data such as
    a file a test creates aside)."""
    text = re.sub(r"https?://\S+", "", text)
    if path.endswith(".md"):
        return re.sub(r"`[^`]*`", "", prose(text))
    return "\n".join(l for l in text.splitlines()
                     if l.lstrip().startswith(("#", "/*", "*", "//")))


MD_NAME = re.compile(r"(?<![\w/.-])([A-Za-z0-9_][A-Za-z0-9_.-]*\.md)\b")


def test_every_cited_document_is_in_the_tree():
    """A `*.md` named anywhere (code comments included) is a file of the
    repository; and no file names a path of the machine it was written on
    (the directory the checkout sits in)."""
    have = {os.path.basename(f) for f in tracked_text_files() if f.endswith(".md")}
    outside = os.path.dirname(ROOT) + os.sep
    bad = []
    for f in tracked_text_files():
        text = text_of(f)
        bad += [f"{f}: {m}" for m in set(MD_NAME.findall(citing_text(f, text))) if m not in have]
        if outside in text:
            bad.append(f"{f}: names {outside}")
    assert not bad, f"documents cited that a clone does not have: {bad}"


def test_readme_points_to_every_document_and_states_the_test_command():
    readme = text_of("README.md")
    linked = {os.path.normpath(t.partition("#")[0]) for t in local_links("README.md")}
    missing = [d for d in DOCS[1:] if d not in linked]
    assert not missing, f"README.md does not link {missing}"
    # CI (.ci/run) runs exactly the README's test command.
    assert "```sh\nmake test\n```" in readme
    assert "make test" in text_of(os.path.join(".ci", "run"))


def test_make_install_ships_the_documents_the_readme_links(tmp_path, magos_bin):
    dest = tmp_path / "dest"
    # -o: install the binary under test as it is, never rebuild it here.
    p = subprocess.run(["make", "-s", "-C", ROOT, "-o", magos_bin, "install", f"DESTDIR={dest}",
                        "PREFIX=/opt/md", f"BIN={magos_bin}"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    doc = dest / "opt/md/share/doc/magos-dominus"
    assert (doc / "README.md").read_text() == text_of("README.md")
    for d in DOCS[1:]:
        assert (doc / d).read_text() == text_of(d), d
    # the README's links to docs/ work from the installed copy too
    for target in local_links("README.md"):
        file = target.partition("#")[0]
        if file.startswith("docs/"):
            assert (doc / file).is_file(), target

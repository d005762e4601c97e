"""Awkward but valid compose files: only the image values may change."""
import pytest

from mdtest.checks import line_of
from mdtest.images import push_image, push_tags

F = "stacks/awkward/compose.yaml"


def awkward(h):
    """Comments everywhere, an anchor on a mapping and on an image value, an
    alias, merge keys, both quote styles, flow mapping and sequence, a fake
    annotation inside a scalar, non-magos comments, trailing blanks, two
    documents with `---`/`...`, all with CRLF line ends."""
    lines = [
        "# GitOps stack: comments everywhere   ",
        "",
        "x-defaults: &defaults   # anchor on a mapping",
        "  restart: unless-stopped",
        '  labels: {tier: "backend", note: \'# not a comment\'}   # flow mapping',
        "",
        "services:",
        "  web:   # the front end",
        "    <<: *defaults",
        f'    image: "{h}/app/web:1.0.0" # {{"magos": {{"policy": "semver", "range": "^1.0"}}}}',
        '    command: ["serve", "--port", "80"]  # flow sequence',
        "  worker:",
        f"    image: &workerimg '{h}/app/worker:1.0.0'   "
        '# {"magos": {"policy": "semver", "range": "~1.0"}}',
        "    environment:",
        f"      IMAGE_NOTE: 'image: {h}/app/web:0.9.0 # {{\"magos\": {{\"policy\": \"latest\"}}}}'",
        "  worker2:",
        "    <<: *defaults",
        "    image: *workerimg",
        f'  api: {{ports: ["8080:80"], image: {h}/app/api:1.0.0}} '
        '# {"magos": {"range": "^1.0"}}',
        "  plain:",
        f"    image: {h}/app/plain:1.0.0 # just a comment, not ours",
        "  other:",
        f'    image: {h}/app/other:1.0.0 # {{"other": {{"policy": "semver"}}}}',
        "",
        "---   # second document",
        "services:",
        "  cache:",
        f'    image:    {h}/app/cache:latest    # {{"magos": {{"policy": "latest"}}}}   ',
        "...",
        "",
    ]
    return "\r\n".join(lines).encode()


def seed(reg):
    d = {}
    for repo in ("web", "worker", "api", "plain", "other"):
        d[repo] = push_tags(reg, f"app/{repo}", ["1.0.0", "1.0.1", "1.1.0", "2.0.0"])
    d["cache"] = {"latest": push_image(reg, "app/cache", "latest")}
    return d


def test_awkward_compose_end_to_end(registry_server, make_remote, make_agent):
    reg = registry_server
    h = reg.host
    d = seed(reg)
    before = awkward(h)
    remote = make_remote({F: before})
    base = remote.head()
    agent = make_agent(remote, h)

    r = agent.once()

    assert r.code == 0, str(r)
    subs = [
        (f'"{h}/app/web:1.0.0"', f'"{h}/app/web:1.1.0@{d["web"]["1.1.0"]}"'),
        (f"'{h}/app/worker:1.0.0'", f"'{h}/app/worker:1.0.1@{d['worker']['1.0.1']}'"),
        (f"image: {h}/app/api:1.0.0}}", f"image: {h}/app/api:1.1.0@{d['api']['1.1.0']}}}"),
        (f"{h}/app/cache:latest ", f"{h}/app/cache:latest@{d['cache']['latest']} "),
    ]
    expected = before
    for old, new in subs:
        assert expected.count(old.encode()) == 1, old
        expected = expected.replace(old.encode(), new.encode())
    after = remote.show(F)
    assert after == expected, "only the four annotated image values may change"
    assert remote.parents() == [base] and remote.changed_files() == [F]
    text = before.decode()
    want = {
        f"{F}:{line_of(text, '/app/web:1.0.0')} {h}/app/web 1.0.0 -> 1.1.0",
        f"{F}:{line_of(text, '/app/worker:1.0.0')} {h}/app/worker 1.0.0 -> 1.0.1",
        f"{F}:{line_of(text, '/app/api:1.0.0')} {h}/app/api 1.0.0 -> 1.1.0",
    }
    got = set(r.lines[:-1])
    assert want <= got and len(got) == 4, str(r)
    cache_line = line_of(text, "/app/cache:latest")
    assert [x for x in got - want][0].startswith(f"{F}:{cache_line} {h}/app/cache "), str(r)


# One awkward feature per case, so a failure points at the feature.
CASES = {
    "crlf": ("services:\r\n  a:\r\n    image: {ref} {ann}\r\n", None),
    "double-quoted": ('services:\n  a:\n    image: "{ref}" {ann}\n', None),
    "single-quoted": ("services:\n  a:\n    image: '{ref}' {ann}\n", None),
    "anchored-value": ("services:\n  a:\n    image: &img {ref} {ann}\n  b:\n    image: *img\n",
                       None),
    "flow-mapping": ("services:\n  a: {{restart: always, image: {ref}}} {ann}\n", None),
    "second-document": ("services:\n  z:\n    image: busybox\n---\nservices:\n  a:\n"
                        "    image: {ref} {ann}\n", None),
    "comments-around": ("# head\nservices: # s\n  # between\n  a: # a\n"
                        "    image:   {ref}   {ann}   \n    # tail\n", None),
    "no-final-newline": ("services:\n  a:\n    image: {ref} {ann}", None),
    "tab-before-comment": ("services:\n  a:\n    image: {ref}\t{ann}\n", None),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_awkward_feature(case, registry_server, make_remote, make_agent):
    reg = registry_server
    digests = push_tags(reg, "app/web", ["1.0.0", "1.1.0"])
    template, _ = CASES[case]
    ann = '# {"magos": {"policy": "semver", "range": "^1.0"}}'
    old = reg.ref("app/web", "1.0.0")
    before = template.format(ref=old, ann=ann).encode()
    remote = make_remote({"compose.yaml": before})
    r = make_agent(remote, reg.host).once()
    assert r.code == 0, str(r)
    new = reg.ref("app/web", "1.1.0", digests["1.1.0"])
    assert remote.show("compose.yaml") == before.replace(old.encode(), new.encode()), str(r)

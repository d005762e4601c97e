"""`once` end to end: registry → policy → byte-exact patch → one commit → push."""
import json
import re

from mdtest import gitutil
from mdtest.agent import AUTHOR
from mdtest.checks import HEX40, names_site, replaced_once, short
from mdtest.compose import compose_site
from mdtest.images import push_image, push_tags

WEB = "app/web"
TAGS = ["1.0.0", "1.0.1", "1.1.0", "2.0.0-rc.1", "2.0.0", "latest"]
COMPOSE = "stacks/web/compose.yaml"
README = "# homelab\n\nNothing to see here.\n"


def clone_in_sync(agent, remote):
    """The agent's clone sits on the remote head with a clean work tree."""
    assert gitutil.worktree_head(remote.home, agent.repo) == remote.head()
    assert gitutil.worktree_status(remote.home, agent.repo) == ""


def test_semver_bump_committed_and_pushed(registry_server, make_remote, make_agent):
    reg = registry_server
    digests = push_tags(reg, WEB, TAGS)
    assert len(set(digests.values())) == len(TAGS)
    old = reg.ref(WEB, "1.0.0")
    before = compose_site(old, policy="semver", range="^1.0").encode()
    remote = make_remote({COMPOSE: before, "README.md": README})
    base = remote.head()
    agent = make_agent(remote, reg.host)

    r = agent.once()

    assert r.code == 0, str(r)
    head = remote.head()
    assert head != base and HEX40.match(head)
    image = f"{reg.host}/{WEB}"
    assert r.lines == [f"{COMPOSE}:3 {image} 1.0.0 -> 1.1.0",
                       f"committed {head} and pushed to origin/main"], str(r)
    assert remote.parents() == [base]
    assert remote.changed_files() == [COMPOSE]
    new = reg.ref(WEB, "1.1.0", digests["1.1.0"])
    assert remote.show(COMPOSE) == replaced_once(before, old, new)
    assert remote.show("README.md") == README.encode()
    assert remote.message().rstrip("\n") == (
        "magos-dominus: update 1 image(s)\n\n"
        f"- {image}: 1.0.0 -> 1.1.0 ({COMPOSE}:3)")
    assert remote.author() == AUTHOR
    clone_in_sync(agent, remote)
    r.logs()  # MD_LOG_FORMAT=json: every stderr line is a JSON object

    again = agent.once()
    assert again.code == 0, str(again)
    assert again.lines == ["no changes"], str(again)
    assert remote.head() == head


def test_latest_pins_digest_and_follows_repush(registry_server, make_remote, make_agent):
    reg = registry_server
    d1 = push_image(reg, "app/cache", "latest")
    old = reg.ref("app/cache", "latest")
    before = compose_site(old, policy="latest").encode()
    remote = make_remote({COMPOSE: before})
    agent = make_agent(remote, reg.host)
    image = f"{reg.host}/app/cache"

    r = agent.once()
    assert r.code == 0, str(r)
    pinned = reg.ref("app/cache", "latest", d1)
    assert remote.show(COMPOSE) == replaced_once(before, old, pinned)
    assert len(r.lines) == 2, str(r)
    assert r.lines[1] == f"committed {remote.head()} and pushed to origin/main", str(r)
    m = re.fullmatch(rf"{re.escape(COMPOSE)}:3 {re.escape(image)} (\S+) -> (\S+)", r.lines[0])
    assert m and m.group(2) == short(d1), str(r)

    d2 = push_image(reg, "app/cache", "latest")
    assert d2 != d1
    first = remote.head()
    r = agent.once()
    assert r.code == 0, str(r)
    head = remote.head()
    assert remote.parents() == [first]
    assert r.lines == [f"{COMPOSE}:3 {image} {short(d1)} -> {short(d2)}",
                       f"committed {head} and pushed to origin/main"], str(r)
    assert remote.show(COMPOSE) == replaced_once(before, old, reg.ref("app/cache", "latest", d2))
    assert remote.message().rstrip("\n") == (
        "magos-dominus: update 1 image(s)\n\n"
        f"- {image}: {short(d1)} -> {short(d2)} ({COMPOSE}:3)")


def test_up_to_date_repository_is_left_alone(registry_server, make_remote, make_agent):
    reg = registry_server
    digests = push_tags(reg, WEB, TAGS)
    current = reg.ref(WEB, "1.1.0", digests["1.1.0"])
    remote = make_remote({COMPOSE: compose_site(current, policy="semver", range="^1.0")})
    base = remote.head()
    agent = make_agent(remote, reg.host)
    for _ in range(2):
        r = agent.once()
        assert r.code == 0, str(r)
        assert r.lines == ["no changes"], str(r)
        assert remote.head() == base
        assert remote.count() == 1
    clone_in_sync(agent, remote)


def test_several_sites_one_commit(registry_server, make_remote, make_agent):
    reg = registry_server
    digests = push_tags(reg, WEB, TAGS)
    dc = push_image(reg, "app/cache", "latest")
    a_old, b_old = reg.ref(WEB, "1.0.0"), reg.ref("app/cache", "latest")
    a = compose_site(a_old, policy="semver", range="~1.0").encode()
    b = compose_site(b_old, policy="latest").encode()
    remote = make_remote({"stacks/a/compose.yaml": a, "stacks/b/docker-compose.yml": b,
                          "notes/compose.txt": "image: not a compose file\n"})
    base = remote.head()
    agent = make_agent(remote, reg.host, MD_COMMIT_TEMPLATE="chore: bump {count} image(s)")
    r = agent.once()
    assert r.code == 0, str(r)
    assert remote.count() == 2 and remote.parents() == [base]
    assert sorted(remote.changed_files()) == ["stacks/a/compose.yaml",
                                              "stacks/b/docker-compose.yml"]
    assert remote.show("stacks/a/compose.yaml") == replaced_once(
        a, a_old, reg.ref(WEB, "1.0.1", digests["1.0.1"]))
    assert remote.show("stacks/b/docker-compose.yml") == replaced_once(
        b, b_old, reg.ref("app/cache", "latest", dc))
    msg = remote.message().rstrip("\n").split("\n")
    assert msg[:2] == ["chore: bump 2 image(s)", ""] and len(msg) == 4, msg
    web_line = f"- {reg.host}/{WEB}: 1.0.0 -> 1.0.1 (stacks/a/compose.yaml:3)"
    assert web_line in msg[2:], msg
    (cache_line,) = [m for m in msg[2:] if m != web_line]
    assert cache_line.startswith(f"- {reg.host}/app/cache: ")
    assert cache_line.endswith(f" -> {short(dc)} (stacks/b/docker-compose.yml:3)")
    assert r.lines[-1] == f"committed {remote.head()} and pushed to origin/main"
    assert len(r.lines) == 3


def test_pin_tag_writes_only_the_tag(registry_server, make_remote, make_agent):
    reg = registry_server
    push_tags(reg, WEB, TAGS)
    old = reg.ref(WEB, "1.0.0")
    before = compose_site(old, policy="semver", range="^1.0", pin="tag").encode()
    remote = make_remote({COMPOSE: before})
    r = make_agent(remote, reg.host).once()
    assert r.code == 0, str(r)
    assert remote.show(COMPOSE) == replaced_once(before, old, reg.ref(WEB, "1.1.0"))
    assert r.lines[0] == f"{COMPOSE}:3 {reg.host}/{WEB} 1.0.0 -> 1.1.0"


def test_digest_policy_replaces_only_the_digest(registry_server, make_remote, make_agent):
    reg = registry_server
    d_old = push_image(reg, WEB, "1.0.0")
    push_image(reg, WEB, "1.1.0")  # a newer tag must not matter to `digest`
    old = reg.ref(WEB, "1.0.0", d_old)
    before = compose_site(old, policy="digest").encode()
    remote = make_remote({COMPOSE: before})
    agent = make_agent(remote, reg.host)
    r = agent.once()
    assert r.code == 0 and r.lines == ["no changes"], str(r)

    d_new = push_image(reg, WEB, "1.0.0")  # the tag is re-pushed
    r = agent.once()
    assert r.code == 0, str(r)
    assert remote.show(COMPOSE) == replaced_once(before, d_old, d_new)
    assert remote.message().rstrip("\n").endswith(
        f"- {reg.host}/{WEB}: {short(d_old)} -> {short(d_new)} ({COMPOSE}:3)")


def test_multiarch_index_digest_is_pinned(registry_server, make_remote, make_agent):
    reg = registry_server
    push_image(reg, WEB, "1.0.0", platforms=["linux/amd64", "linux/arm64"])
    index = push_image(reg, WEB, "1.2.0", platforms=["linux/amd64", "linux/arm64"])
    platform_digests = [m["digest"] for m in
                        json.loads(reg.client().get_manifest(WEB, "1.2.0")[0])["manifests"]]
    old = reg.ref(WEB, "1.0.0")
    before = compose_site(old, policy="semver", range="^1").encode()
    remote = make_remote({COMPOSE: before})
    r = make_agent(remote, reg.host).once()
    assert r.code == 0, str(r)
    after = remote.show(COMPOSE)
    assert after == replaced_once(before, old, reg.ref(WEB, "1.2.0", index))
    for d in platform_digests:
        assert d.encode() not in after


def test_no_downgrade_when_declared_tag_vanished(registry_server, make_remote, make_agent):
    """The declared 1.1.0 is gone upstream; 1.0.1 satisfies ^1.0 but is lower."""
    reg = registry_server
    digests = push_tags(reg, WEB, ["1.0.0", "1.0.1", "1.1.0"])
    current = reg.ref(WEB, "1.1.0", digests["1.1.0"])
    before = compose_site(current, policy="semver", range="^1.0").encode()
    reg.client().delete_tag(WEB, "1.1.0")
    remote = make_remote({COMPOSE: before})
    base = remote.head()
    r = make_agent(remote, reg.host).once()
    assert r.code == 0, str(r)
    assert r.lines == ["no changes"], str(r)
    assert remote.head() == base


def test_lost_state_causes_no_duplicate_commit(registry_server, make_remote, make_agent):
    import shutil
    reg = registry_server
    push_tags(reg, WEB, TAGS)
    remote = make_remote({COMPOSE: compose_site(reg.ref(WEB, "1.0.0"), policy="semver",
                                                range="^1.0")})
    agent = make_agent(remote, reg.host)
    assert agent.once().code == 0
    head = remote.head()
    shutil.rmtree(agent.state_dir)
    r = agent.once()
    assert r.code == 0 and r.lines == ["no changes"], str(r)
    assert remote.head() == head


def test_tag_list_pagination_is_followed(registry_server, make_remote, make_agent, make_proxy):
    reg = registry_server
    digests = push_tags(reg, WEB, TAGS)
    proxy = make_proxy(reg, tag_page_size=2)
    old = proxy.ref(WEB, "1.0.0")
    before = compose_site(old, policy="semver", range="^1.0").encode()
    remote = make_remote({COMPOSE: before})
    r = make_agent(remote, proxy.host).once()
    assert r.code == 0, str(r)
    assert remote.show(COMPOSE) == replaced_once(before, old,
                                                 proxy.ref(WEB, "1.1.0", digests["1.1.0"]))
    pages = [p for m, p, s in proxy.recorded() if "/tags/list" in p and s == 200]
    assert len(pages) == 3, pages  # 6 tags, 2 per page, each page fetched once
    assert pages[1:] == [f"/v2/{WEB}/tags/list?n=2&last=1.0.1",
                         f"/v2/{WEB}/tags/list?n=2&last=2.0.0"], pages


def test_revisions_and_glued_prereleases_keep_their_shape(registry_server, make_remote,
                                                          make_agent):
    """linuxserver.io's -lsN rebuilds move to newer releases and rebuilds;
    Python's 3.13.0rc1-slim stays on -slim (never plain 3.13.1)."""
    reg = registry_server
    ls = push_tags(reg, "app/sonarr", ["4.0.1-ls220", "4.0.1-ls999", "4.0.2-ls1", "4.0.2",
                                       "latest"])
    py = push_tags(reg, "app/python", ["3.13.0rc1-slim", "3.13.0-slim", "3.13.1-slim",
                                       "3.13.1", "3.14.0a1-slim"])
    a_old, b_old = reg.ref("app/sonarr", "4.0.1-ls220"), reg.ref("app/python", "3.13.0rc1-slim")
    a = compose_site(a_old, policy="semver", range="^4").encode()
    b = compose_site(b_old, policy="semver").encode()
    remote = make_remote({"stacks/a/compose.yaml": a, "stacks/b/compose.yaml": b})
    r = make_agent(remote, reg.host).once()
    assert r.code == 0, str(r)
    assert remote.show("stacks/a/compose.yaml") == replaced_once(
        a, a_old, reg.ref("app/sonarr", "4.0.2-ls1", ls["4.0.2-ls1"]))
    assert remote.show("stacks/b/compose.yaml") == replaced_once(
        b, b_old, reg.ref("app/python", "3.13.1-slim", py["3.13.1-slim"]))


def test_declared_tag_of_unknown_shape_is_reported(registry_server, make_remote, make_agent):
    """`alpine` does not read as a version: its flavour cannot be kept, so the
    site is reported with FILE:LINE and left; the other site is updated."""
    reg = registry_server
    digests = push_tags(reg, WEB, ["1.0.0", "1.1.0"])
    push_tags(reg, "app/other", ["1.0.0", "1.1.0", "1.1.0-alpine", "alpine"])
    good_old = reg.ref(WEB, "1.0.0")
    good = compose_site(good_old, policy="semver", range="^1.0").encode()
    odd = compose_site(reg.ref("app/other", "alpine"), policy="semver", range="^1").encode()
    remote = make_remote({"stacks/good/compose.yaml": good, "stacks/odd/compose.yaml": odd})
    base = remote.head()
    agent = make_agent(remote, reg.host)
    r = agent.once()
    assert r.code == 1, str(r)
    (skipped,) = [rec for rec in r.logs() if rec.get("msg") == "site skipped"]
    assert skipped["error"].startswith(
        f"stacks/odd/compose.yaml:3: {reg.host}/app/other:alpine: declared tag \"alpine\" "
        "does not read as a version"), str(r)
    assert remote.parents() == [base]
    assert remote.changed_files() == ["stacks/good/compose.yaml"]
    assert remote.show("stacks/good/compose.yaml") == replaced_once(
        good, good_old, reg.ref(WEB, "1.1.0", digests["1.1.0"]))
    assert remote.show("stacks/odd/compose.yaml") == odd
    # Reported again next cycle, never silently kept or moved.
    r = agent.once()
    assert r.code == 1 and names_site(r.stderr, "stacks/odd/compose.yaml", 3), str(r)
    assert remote.show("stacks/odd/compose.yaml") == odd

"""Failures: bad annotations, unreachable registries, dirty or diverged clones, bad config."""
import os

from mdtest import gitutil
from mdtest.checks import names_site, replaced_once
from mdtest.compose import compose_site
from mdtest.images import push_tags
from mdtest.net import LOOPBACK, free_port

WEB = "app/web"
GOOD = "stacks/good/compose.yaml"
BAD = "stacks/bad/compose.yaml"


def bad_json_compose(ref):
    return ('services:\n  bad:\n'
            f'    image: {ref} # {{"magos": {{"policy": "semver", "range": }}\n')


def test_bad_annotation_does_not_block_other_sites(registry_server, make_remote, make_agent):
    reg = registry_server
    digests = push_tags(reg, WEB, ["1.0.0", "1.1.0"])
    push_tags(reg, "app/other", ["1.0.0", "1.1.0"])
    good_old = reg.ref(WEB, "1.0.0")
    good = compose_site(good_old, policy="semver", range="^1.0").encode()
    bad = bad_json_compose(reg.ref("app/other", "1.0.0")).encode()
    remote = make_remote({GOOD: good, BAD: bad})
    base = remote.head()
    agent = make_agent(remote, reg.host)

    r = agent.once()

    assert r.code == 1, str(r)
    assert names_site(r.stderr, BAD, 3), str(r)
    assert remote.parents() == [base], "the valid site must still be committed and pushed"
    assert remote.changed_files() == [GOOD]
    assert remote.show(GOOD) == replaced_once(good, good_old,
                                              reg.ref(WEB, "1.1.0", digests["1.1.0"]))
    assert remote.show(BAD) == bad
    assert r.lines == [f"{GOOD}:3 {reg.host}/{WEB} 1.0.0 -> 1.1.0",
                       f"committed {remote.head()} and pushed to origin/main"], str(r)

    c = agent.check()
    assert c.code == 1, str(c)
    assert len(c.lines) == 1 and c.lines[0].startswith(f"{BAD}:3: ") \
        and len(c.lines[0]) > len(f"{BAD}:3: "), str(c)


def test_check_is_offline_and_lists_every_problem(make_remote, make_agent):
    host = f"{LOOPBACK}:{free_port()}"  # nothing listens: check must not need it
    files = {
        GOOD: compose_site(f"{host}/{WEB}:1.0.0", policy="semver", range="^1.0"),
        "stacks/also-good/docker-compose.yml": compose_site(f"{host}/app/c:latest",
                                                            policy="latest"),
        BAD: bad_json_compose(f"{host}/app/bad:1.0.0"),
        "stacks/typo/compose.yaml": compose_site(f"{host}/app/t:1.0.0", polcy="semver"),
    }
    remote = make_remote(files)
    agent = make_agent(remote, host)
    gitutil.clone(remote.home, remote.url, agent.repo)
    c = agent.check()
    assert c.code == 1, str(c)
    assert sorted(line.split(": ", 1)[0] for line in c.lines) == [
        f"{BAD}:3", "stacks/typo/compose.yaml:3"], str(c)
    typo = [line for line in c.lines if line.startswith("stacks/typo/")][0]
    assert "polcy" in typo, str(c)

    for rel in (BAD, "stacks/typo/compose.yaml"):
        os.remove(agent.path(rel))
    ok = agent.check()
    assert ok.code == 0, str(ok)
    assert ok.lines == ["ok: 2 sites in 2 files"], str(ok)


def test_unreachable_registry_changes_nothing(make_remote, make_agent):
    host = f"{LOOPBACK}:{free_port()}"
    before = compose_site(f"{host}/{WEB}:1.0.0", policy="semver", range="^1.0").encode()
    remote = make_remote({GOOD: before})
    base = remote.head()
    agent = make_agent(remote, host)
    for attempt in range(2):  # first run clones, second runs on the existing clone
        r = agent.once()
        assert r.code == 1, str(r)
        assert host in r.stderr, str(r)
        assert "committed" not in r.stdout, str(r)
        assert remote.head() == base and remote.count() == 1
        assert gitutil.worktree_head(remote.home, agent.repo) == base
        assert gitutil.worktree_status(remote.home, agent.repo) == ""
        assert agent.read(GOOD) == before


def test_unreachable_registry_skips_only_its_sites(registry_server, make_remote, make_agent):
    reg = registry_server
    digests = push_tags(reg, WEB, ["1.0.0", "1.1.0"])
    down = f"{LOOPBACK}:{free_port()}"
    good_old = reg.ref(WEB, "1.0.0")
    good = compose_site(good_old, policy="semver", range="^1.0").encode()
    bad = compose_site(f"{down}/{WEB}:1.0.0", policy="semver", range="^1.0").encode()
    remote = make_remote({GOOD: good, BAD: bad})
    base = remote.head()
    agent = make_agent(remote, f"{reg.host},{down}")
    r = agent.once()
    assert r.code == 1, str(r)
    assert down in r.stderr, str(r)
    assert remote.parents() == [base] and remote.changed_files() == [GOOD]
    assert remote.show(GOOD) == replaced_once(good, good_old,
                                              reg.ref(WEB, "1.1.0", digests["1.1.0"]))
    assert remote.show(BAD) == bad


def test_dirty_clone_is_refused(registry_server, make_remote, make_agent):
    reg = registry_server
    push_tags(reg, WEB, ["1.0.0", "1.1.0"])
    before = compose_site(reg.ref(WEB, "1.0.0"), policy="semver", range="^1.0")
    remote = make_remote({GOOD: before})
    base = remote.head()
    agent = make_agent(remote, reg.host)
    gitutil.clone(remote.home, remote.url, agent.repo)
    edited = (before + "    # a human is editing this\n").encode()
    with open(agent.path(GOOD), "wb") as f:
        f.write(edited)

    r = agent.once()

    assert r.code == 1, str(r)
    assert "uncommitted changes" in r.stderr, str(r)
    assert GOOD in r.stderr, str(r)
    assert agent.read(GOOD) == edited
    assert remote.head() == base
    assert gitutil.worktree_head(remote.home, agent.repo) == base


def test_diverged_clone_is_refused(registry_server, make_remote, make_agent, scratch):
    reg = registry_server
    push_tags(reg, WEB, ["1.0.0", "1.1.0"])
    before = compose_site(reg.ref(WEB, "1.0.0"), policy="semver", range="^1.0")
    remote = make_remote({GOOD: before, "README.md": "v1\n"})
    agent = make_agent(remote, reg.host)
    home = remote.home
    gitutil.clone(home, remote.url, agent.repo)
    gitutil.write_files(agent.repo, {"README.md": "local edit\n"})
    gitutil.git(home, "commit", "-q", "-am", "local only", cwd=agent.repo)
    local = gitutil.worktree_head(home, agent.repo)
    moved = remote.commit_files(os.path.join(scratch, "human"), {"NOTES.md": "x\n"},
                                "remote moved")

    r = agent.once()

    assert r.code == 1, str(r)
    low = r.stderr.lower()
    assert any(w in low for w in ("diverg", "fast-forward", "fast forward")), str(r)
    assert remote.head() == moved
    assert gitutil.worktree_head(home, agent.repo) == local
    assert gitutil.worktree_status(home, agent.repo) == ""


def _line_of_key(path, key):
    with open(path) as f:
        for i, line in enumerate(f, 1):
            if line.startswith(key + "="):
                return i
    raise AssertionError(f"{key} not in {path}")


def test_unknown_config_key(make_remote, make_agent):
    remote = make_remote({GOOD: "services: {}\n"})
    agent = make_agent(remote, None)
    agent.write_env(extra_lines=["MD_INTERVALL=5m"])
    line = _line_of_key(agent.env_file, "MD_INTERVALL")
    for cmd in ("once", "check", "plan"):
        r = agent.run(cmd)
        assert r.code == 2, str(r)
        assert f"{agent.env_file}:{line}" in r.stderr and "MD_INTERVALL" in r.stderr, str(r)
        assert not os.path.exists(agent.repo), "a config error must stop before cloning"


def test_bad_config_value_names_file_and_line(make_remote, make_agent):
    remote = make_remote({GOOD: "services: {}\n"})
    agent = make_agent(remote, None, MD_PUSH_RETRIES="lots")
    line = _line_of_key(agent.env_file, "MD_PUSH_RETRIES")
    r = agent.once()
    assert r.code == 2, str(r)
    assert f"{agent.env_file}:{line}" in r.stderr and "MD_PUSH_RETRIES" in r.stderr, str(r)


def test_unknown_key_in_environment(make_remote, make_agent):
    remote = make_remote({GOOD: "services: {}\n"})
    agent = make_agent(remote, None)
    r = agent.once(env={"MD_REPOSITORY": "/nowhere"})
    assert r.code == 2, str(r)
    assert "MD_REPOSITORY" in r.stderr, str(r)


def test_missing_md_repo(make_remote, make_agent):
    remote = make_remote({GOOD: "services: {}\n"})
    agent = make_agent(remote, None, MD_REPO=None)
    r = agent.once()
    assert r.code == 2, str(r)
    assert "MD_REPO" in r.stderr, str(r)


def test_missing_config_file(make_agent, tmp_path):
    agent = make_agent(None, None)
    missing = str(tmp_path / "nope.env")
    r = agent.run("--config", missing, "once", config=False)
    assert r.code == 2, str(r)
    assert missing in r.stderr, str(r)

"""PR mode follow-ups: a pull request the user closed without merging is a
"no" (the same target is not proposed again, a newer one is; the agent
closing its own PR is not a "no"), and with MD_APPLY the revert of the
agent's own failed update is proposed as a pull request on
magos/revert/<stack> while the host runs the last good version."""
import os

import pytest

from mdtest.compose import compose_site
from mdtest.github import GitHubStandIn, make_key
from mdtest.images import push_image
from mdtest.podman import PodmanSandbox, push_exiter, push_sleeper

OWNER, REPO = "acme", "homelab"
WEB = "app/web"
BRANCH = "magos/app/web"
COMPOSE = "stacks/web/compose.yaml"
BOT = "magos-test[bot] <99001+magos-test[bot]@users.noreply.github.com>"


@pytest.fixture
def gh(request, tmp_path):
    """The GitHub stand-in over tmp_path/remotes, with an App key (0600)."""
    root = tmp_path / "remotes"
    root.mkdir(exist_ok=True)
    key_file = str(tmp_path / "app-key.pem")
    g = GitHubStandIn(str(root), make_key(key_file))
    g.key_file = key_file
    request.addfinalizer(g.stop)
    return g


def app_settings(gh, **extra):
    s = {"MD_GITHUB_APP_ID": gh.app_id, "MD_GITHUB_APP_KEY_FILE": gh.key_file,
         "MD_GITHUB_API_URL": gh.api_url, "MD_GIT_AUTHOR": None, "MD_MODE": "pr"}
    s.update(extra)
    return s


def homelab(gh, make_remote, files):
    remote = make_remote(files, name=f"{OWNER}/{REPO}")
    remote.url = gh.repo_url(OWNER, REPO)
    return remote


def logged(res, msg, **fields):
    return [r for r in res.logs()
            if r.get("msg") == msg and all(r.get(k) == v for k, v in fields.items())]


# ---- a closed, unmerged PR is the user's "no" ---------------------------------------

def test_closed_pr_is_not_reopened_but_a_newer_tag_is_proposed(gh, registry_server,
                                                                 make_remote, make_agent):
    reg = registry_server
    for t in ("1.0.0", "1.1.0"):
        push_image(reg, WEB, t)
    remote = homelab(gh, make_remote, {COMPOSE: compose_site(reg.ref(WEB, "1.0.0"),
                                                             policy="semver")})
    agent = make_agent(remote, reg.host, **app_settings(gh))
    image = reg.ref(WEB, "1.0.0").rsplit(":", 1)[0]

    r = agent.once()
    assert r.code == 0, str(r)
    (pr,) = gh.open_pulls()
    digest = remote.show(COMPOSE, BRANCH).decode().split("@", 1)[1].split()[0]
    assert f"<!-- magos: {image}=1.1.0@{digest} -->" in pr["body"], pr["body"]

    gh.close_pull(pr["number"])
    tip = remote.head(f"refs/heads/{BRANCH}")
    for _ in range(2):  # every cycle: declined once, nothing reopened or pushed
        r = agent.once()
        assert r.code == 0, str(r)
        assert len(gh.pulls) == 1 and gh.open_pulls() == []
        said = logged(r, f"pull request was closed without merging; not proposing {image} "
                         "1.1.0 again")
        assert len(said) == 1 and said[0]["level"] == "info", r.logs()
        assert said[0]["number"] == str(pr["number"])
        assert f"pull request #{pr['number']} declined: {BRANCH}" in r.stdout, r.stdout
        assert remote.head(f"refs/heads/{BRANCH}") == tip
    (q, *_) = [c.query for c in gh.calls_to("GET", "/pulls") if "state=closed" in c.query]
    assert "head=acme%3Amagos%2Fapp%2Fweb" in q and "base=main" in q, q

    # A newer tag is a new question: a new PR on the same branch.
    push_image(reg, WEB, "1.2.0")
    r = agent.once()
    assert r.code == 0, str(r)
    (pr2,) = gh.open_pulls()
    assert pr2["number"] != pr["number"] and pr2["head"] == BRANCH
    assert "1.2.0" in pr2["title"] and f"<!-- magos: {image}=1.2.0@" in pr2["body"]
    assert b"1.2.0" in remote.show(COMPOSE, BRANCH)
    assert not logged(r, f"pull request was closed without merging; not proposing {image} "
                         "1.2.0 again")


def test_pr_the_agent_closed_is_proposed_again(gh, registry_server, make_remote, make_agent,
                                               scratch):
    reg = registry_server
    for t in ("1.0.0", "1.1.0"):
        push_image(reg, WEB, t)
    old = compose_site(reg.ref(WEB, "1.0.0"), policy="semver")
    remote = homelab(gh, make_remote, {COMPOSE: old})
    agent = make_agent(remote, reg.host, **app_settings(gh))
    assert agent.once().code == 0
    assert len(gh.open_pulls()) == 1
    # Made by hand: the agent closes its PR ...
    remote.commit_files(os.path.join(scratch, "a"), {COMPOSE: remote.show(COMPOSE, BRANCH)},
                        message="by hand", url="file://" + remote.path)
    r = agent.once()
    assert r.code == 0, str(r)
    assert gh.open_pulls() == [] and gh.pulls[0]["state"] == "closed"
    assert "<!-- magos: " not in gh.pulls[0]["body"]
    # ... and when the hand-made change is undone, the same update is proposed again.
    remote.commit_files(os.path.join(scratch, "b"), {COMPOSE: old}, message="undo",
                        url="file://" + remote.path)
    r = agent.once()
    assert r.code == 0, str(r)
    assert [p["number"] for p in gh.open_pulls()] == [2], gh.pulls
    assert not any("closed without merging" in x.get("msg", "") for x in r.logs())


# ---- MD_APPLY in PR mode: the revert is a pull request ------------------------------

ANN = '# {"magos": {"policy": "semver"}}'


def compose(ref):
    return f"services:\n  app:\n    image: {ref} {ANN}\n"


@pytest.fixture
def sb(request, tmp_path, registry_server):
    box = PodmanSandbox(str(tmp_path / "podman"), registries=[registry_server.host])
    request.addfinalizer(box.cleanup)
    box.require_working(registry_server)
    return box


def runs_digest(sb, proj, digest):
    state = sb.wait_running(proj, ["app"])
    digests = sb.image_digests(state["app"][4])
    assert any(d.endswith("@" + digest) for d in digests), (proj, digest, digests, state)


def test_failed_merged_update_is_reverted_through_a_pr(gh, sb, registry_server, make_remote,
                                                      make_agent, tmp_path):
    reg = registry_server
    web = sb.project("web")
    path = f"{web}/compose.yaml"
    w1 = push_sleeper(reg, "apps/web", "1.0.0")
    good = compose(f"{reg.host}/apps/web:1.0.0@{w1}")
    remote = homelab(gh, make_remote, {path: good})
    agent = make_agent(remote, reg.host, **app_settings(
        gh, MD_APPLY="true", MD_HEALTH_TIMEOUT="20s", MD_COMPOSE_TIMEOUT="2m",
        MD_RUNTIME_DIR=str(tmp_path / "run")))

    def once(code):
        res = agent.once(env=sb.env, timeout=240)
        assert res.code == code, res
        return res

    once(0)
    runs_digest(sb, web, w1)

    bad = push_exiter(reg, "apps/web", "1.1.0", code=3)
    once(0)
    (upd,) = gh.open_pulls()
    assert upd["head"] == "magos/apps/web"
    # The user merges the agent's PR with a fast-forward: main's tip is the bot's commit.
    merged = gh.merge_pull(upd["number"], OWNER, REPO)
    assert remote.head() == merged and remote.author(merged) == BOT

    res = once(1)
    assert f"ROLLED BACK stack {web}: " in res.stdout, res
    assert logged(res, "stack failed", stack=web)
    assert remote.head() == merged  # MD_BRANCH is never pushed to in PR mode
    assert not logged(res, "reverted")
    (rev,) = gh.open_pulls()
    branch = f"magos/revert/{web}"
    assert rev["head"] == branch and rev["base"] == "main"
    assert rev["title"] == (f"magos-dominus: revert {reg.host}/apps/web 1.1.0 → 1.0.0 "
                            f"on {web}"), rev["title"]
    assert "failed on this host" in rev["body"]
    tip = remote.head(f"refs/heads/{branch}")
    assert remote.parents(tip) == [merged] and remote.author(tip) == BOT
    assert remote.show(path, branch).decode() == good
    assert remote.message(tip).startswith(f"magos-dominus: revert {reg.host}/apps/web "
                                          f"1.1.0 → 1.0.0 on {web}: ")
    (said,) = logged(res, "revert proposed", stack=web)
    assert said["number"] == str(rev["number"])
    assert f"pull request #{rev['number']} opened: {branch}" in res.stdout, res.stdout
    runs_digest(sb, web, w1)  # the last good version runs meanwhile
    assert bad in remote.show(path).decode()

    # Next cycle: nothing to propose (1.1.0 is what Git declares), the stack
    # is left on the good version, the revert PR stays open and unchanged.
    res = once(0)
    assert remote.head() == merged
    assert [p["number"] for p in gh.open_pulls()] == [rev["number"]]
    assert remote.head(f"refs/heads/{branch}") == tip
    assert not logged(res, "stack failed")
    runs_digest(sb, web, w1)

    # The user merges the revert: the stack is applied from Git again.
    gh.merge_pull(rev["number"], OWNER, REPO)
    res = agent.once(env=sb.env, timeout=240)
    assert logged(res, "stack applied", stack=web), res
    runs_digest(sb, web, w1)
    assert gh.open_pulls() == []  # and the bad 1.1.0 is not proposed again

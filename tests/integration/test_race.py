"""Push races: the remote moves between the agent's fetch and its push."""
import os

import pytest

from mdtest.checks import replaced_once
from mdtest.compose import compose_site
from mdtest.images import push_tags
from mdtest.proxy import OnceHook

WEB = "app/web"
COMPOSE = "stacks/web/compose.yaml"
OTHER = "stacks/db/compose.yaml"
OTHER_BEFORE = "services:\n  db:\n    image: postgres:16\n"
OTHER_AFTER = "services:\n  db:\n    image: postgres:16\n    shm_size: 256mb\n"


@pytest.mark.parametrize("transport", ["file", "smart-http"])
def test_push_race_is_retried_on_top(transport, registry_server, make_remote, make_agent,
                                     make_proxy, git_http, scratch):
    reg = registry_server
    digests = push_tags(reg, WEB, ["1.0.0", "1.1.0"])
    box = {}

    def someone_else_pushes():
        remote = box["remote"]
        box["other"] = remote.commit_files(os.path.join(scratch, "human"),
                                           {OTHER: OTHER_AFTER}, "human: tune db")

    hook = OnceHook("/tags/list", someone_else_pushes)
    proxy = make_proxy(reg, hook=hook)
    old = proxy.ref(WEB, "1.0.0")
    before = compose_site(old, policy="semver", range="^1.0").encode()
    remote = make_remote({COMPOSE: before, OTHER: OTHER_BEFORE},
                         http_server=git_http if transport == "smart-http" else None)
    box["remote"] = remote
    base = remote.head()
    agent = make_agent(remote, proxy.host)

    r = agent.once()

    assert hook.fired and hook.error is None, hook.error
    assert r.code == 0, str(r)
    head = remote.head()
    other = box["other"]
    assert remote.count() == 3
    assert remote.parents() == [other], "the agent's commit must sit on top of the other one"
    assert remote.parents(other) == [base]
    assert remote.changed_files() == [COMPOSE]
    assert remote.show(OTHER) == OTHER_AFTER.encode()
    assert remote.show(COMPOSE) == replaced_once(before, old,
                                                 proxy.ref(WEB, "1.1.0", digests["1.1.0"]))
    assert r.lines == [f"{COMPOSE}:3 {proxy.host}/{WEB} 1.0.0 -> 1.1.0",
                       f"committed {head} and pushed to origin/main"], str(r)
    if transport == "smart-http":
        pushes = [q for q in git_http.recorded() if q.path.endswith("/git-receive-pack")
                  and q.method == "POST" and "libgit2" in q.agent]
        assert pushes, git_http.recorded()  # the agent really pushed over smart HTTP


def test_push_retries_are_bounded(registry_server, make_remote, make_agent, git_http, scratch):
    """The remote moves before every push: the agent redoes its commit on top
    MD_PUSH_RETRIES times, then gives up (exit 1) without leaving a clone that
    the next cycle would see as diverged."""
    reg = registry_server
    digests = push_tags(reg, WEB, ["1.0.0", "1.1.0"])
    old = reg.ref(WEB, "1.0.0")
    before = compose_site(old, policy="semver", range="^1.0").encode()
    remote = make_remote({COMPOSE: before, OTHER: OTHER_BEFORE}, http_server=git_http)
    human = os.path.join(scratch, "human")
    moves = []

    def move_remote(req):
        # Right before the agent reads the receive-pack advertisement.
        if req.query == "service=git-receive-pack" and "libgit2" in req.agent:
            moves.append(remote.commit_files(human, {OTHER: OTHER_BEFORE + f"# {len(moves)}\n"},
                                             f"human {len(moves)}",
                                             url="file://" + remote.path))

    git_http.hook = move_remote
    agent = make_agent(remote, reg.host, MD_PUSH_RETRIES="2")
    r = agent.once()
    git_http.hook = None

    assert r.code == 1, str(r)
    assert len(moves) == 3, f"1 push + 2 retries expected, saw {len(moves)} pushes"
    assert remote.head() == moves[-1]
    assert remote.show(COMPOSE) == before
    assert "committed" not in r.stdout, str(r)

    again = agent.once()
    assert again.code == 0, str(again)
    assert remote.parents() == [moves[-1]]
    assert remote.show(COMPOSE) == replaced_once(before, old, reg.ref(WEB, "1.1.0",
                                                                      digests["1.1.0"]))
    assert remote.show(OTHER) == (OTHER_BEFORE + "# 2\n").encode()

"""Tag lists of all repositories at once, at most MD_REGISTRY_CONCURRENCY in
flight per registry host.

A real docker-registry behind the recording proxy, which holds every tag
list for DELAY seconds and records the most requests it answered at once:
eight repositories on one host, plus one whose tag list is paginated (the
fast path cannot take it: the synchronous path goes on from its first page,
which is not fetched twice). The agent meets the host first through the
synchronous path (one tag list), then runs the rest concurrently: with 4
the proxy sees exactly 4 in flight, with 1 exactly 1, and both runs make
the same requests and commit the same, correct updates."""
import time

import pytest

from mdtest.compose import site_line
from mdtest.images import push_tags
from mdtest.proxy import RegistryProxy

REPOS = [f"app/r{i}" for i in range(8)]
PAGED = "app/paged"  # three tags in pages of two: a Link header
COMPOSE = "stacks/all/compose.yaml"
DELAY = 0.4


def slow_tag_lists(method, path):
    return DELAY if "/tags/list" in path else 0


@pytest.fixture
def proxy(request, registry_server):
    p = RegistryProxy(registry_server.url, delay=slow_tag_lists, tag_page_size=2)
    request.addfinalizer(p.stop)
    return p


def seed(reg):
    digests = {repo: push_tags(reg, repo, ["1.0.0", "1.1.0"]) for repo in REPOS}
    digests[PAGED] = push_tags(reg, PAGED, ["1.0.0", "1.1.0", "1.2.0"])
    return digests


def compose(proxy):
    text = "services:\n"
    for i, repo in enumerate(REPOS + [PAGED]):
        text += f"  s{i}:\n" + site_line(proxy.ref(repo, "1.0.0"), policy="semver",
                                          range="^1.0")
    return text.encode()


def expected(proxy, digests):
    text = "services:\n"
    for i, repo in enumerate(REPOS + [PAGED]):
        new = "1.2.0" if repo == PAGED else "1.1.0"
        text += f"  s{i}:\n" + site_line(proxy.ref(repo, new, digests[repo][new]),
                                          policy="semver", range="^1.0")
    return text.encode()


def run(proxy, make_remote, make_agent, concurrency):
    remote = make_remote({COMPOSE: compose(proxy)})
    agent = make_agent(remote, proxy.host, MD_REGISTRY_CONCURRENCY=str(concurrency))
    proxy.reset_in_flight()
    mark = len(proxy.recorded())
    t0 = time.monotonic()
    r = agent.once()
    elapsed = time.monotonic() - t0
    assert r.code == 0, str(r)
    return remote, proxy.max_in_flight, elapsed, proxy.recorded()[mark:]


def tag_lists(reqs, repo):
    return [(p, s) for m, p, s in reqs if m == "GET" and f"/v2/{repo}/tags/list" in p]


def test_tag_lists_run_concurrently_per_host(registry_server, proxy, make_remote,
                                             make_agent):
    digests = seed(registry_server)
    want = expected(proxy, digests)

    remote4, max4, t4, reqs4 = run(proxy, make_remote, make_agent, 4)
    remote1, max1, t1, reqs1 = run(proxy, make_remote, make_agent, 1)

    assert max4 == 4, reqs4
    assert max1 == 1, reqs1
    assert remote4.show(COMPOSE) == want
    assert remote1.show(COMPOSE) == want
    assert remote4.changed_files() == remote1.changed_files() == [COMPOSE]
    # 10 tag-list pages of 0.4 s each: one by one they take about 4 s,
    # four at a time about half of that.
    assert t1 - t4 > 1.0, (t4, t1)
    for reqs in (reqs4, reqs1):
        # Every plain repository: one tag list, answered on the fast path.
        for repo in REPOS:
            assert tag_lists(reqs, repo) == [(f"/v2/{repo}/tags/list?n=1000", 200)], reqs
        # The paginated one: the fast path saw a Link and handed its page to
        # the synchronous path, which asked for the second page only.
        assert tag_lists(reqs, PAGED) == [(f"/v2/{PAGED}/tags/list?n=1000", 200),
                                          (f"/v2/{PAGED}/tags/list?n=2&last=1.1.0", 200)]
    assert sorted(reqs4) == sorted(reqs1)


def test_one_repository_needs_the_slow_path_alone(registry_server, proxy, make_remote,
                                                  make_agent):
    """A tag list that fails on the fast path (a 404 for a missing
    repository) gets the synchronous path's error; the others go on."""
    digests = seed(registry_server)
    missing = "app/missing"
    before = compose(proxy) + b"  gone:\n" + \
        site_line(proxy.ref(missing, "1.0.0"), policy="semver", range="^1.0").encode()
    remote = make_remote({COMPOSE: before})
    r = make_agent(remote, proxy.host).once()
    assert r.code == 1, str(r)
    assert f"repository {missing} not found" in r.stderr, str(r)
    text = remote.show(COMPOSE)
    for repo in REPOS:
        assert proxy.ref(repo, "1.1.0", digests[repo]["1.1.0"]).encode() in text, text
    assert proxy.ref(missing, "1.0.0").encode() in text

"""The steady-state request budget, counted by the registry itself.

After the first cycle a repository whose tags did not change costs one
request per cycle (its tag list), a site following a mutable tag one HEAD,
a moved tag one HEAD and one GET of the manifest by its new digest (to
verify it, once), and a new tag the requests for that candidate only.
Counted from docker-registry's own access log (User-Agent magos-dominus/),
so nothing between the agent and the registry can hide a request."""
import os
import shutil
import time
import urllib.parse

from mdtest.compose import site_line
from mdtest.images import push_image, push_tags

COMPOSE = "stacks/apps/compose.yaml"
A, B, C, CACHE = "app/alpha", "app/beta", "app/gamma", "app/cache"
SEMVER_REPOS = (A, B, C)


def settled_requests(reg, since, quiet=0.3, limit=5.0):
    """The agent's requests from `since`, once the log stopped growing:
    docker-registry logs a request after answering it."""
    deadline = time.monotonic() + limit
    last = reg.requests(since)
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = reg.requests(since)
        if now == last:
            break
        last = now
    return last


def by_repo(reqs):
    """{repo: [(method, kind, what, status)]}: kind is tags, manifests or
    blobs; what is the reference or digest (no query string)."""
    out = {}
    for method, full, status in reqs:
        path = urllib.parse.urlsplit(full).path
        assert path.startswith("/v2/") and path != "/v2/", (method, full)
        for kind in ("/tags/", "/manifests/", "/blobs/"):
            repo, sep, what = path[len("/v2/"):].partition(kind)
            if sep:
                out.setdefault(repo, []).append((method, kind.strip("/"), what, status))
                break
        else:
            raise AssertionError(f"unexpected request {method} {full}")
    return out


def seed(reg):
    push_tags(reg, A, ["1.0.0", "1.1.0"])
    push_tags(reg, B, ["2.0.0", "2.1.0", "3.0.0"])
    push_tags(reg, C, ["0.9.0", "1.0.0"])
    return push_image(reg, CACHE, "latest")


def compose(host):
    ref = lambda repo, tag: f"{host}/{repo}:{tag}"  # noqa: E731
    return ("services:\n"
            "  alpha:\n" + site_line(ref(A, "1.0.0"), policy="semver", range="^1.0") +
            "  alpha-worker:\n" + site_line(ref(A, "1.0.0"), policy="semver", range="^1.0") +
            "  beta:\n" + site_line(ref(B, "2.0.0"), policy="semver", range="^2.0") +
            "  gamma:\n" + site_line(ref(C, "0.9.0"), policy="semver", range=">=0.9") +
            "  cache:\n" + site_line(ref(CACHE, "latest"), policy="latest")).encode()


def tag_list_only(reqs, repo):
    return [(m, k, s) for m, k, _, s in reqs.get(repo, [])] == [("GET", "tags", 200)]


def head_only(reqs, repo, tag):
    return reqs.get(repo) == [("HEAD", "manifests", tag, 200)]


def head_and_verify(reqs, repo, tag, digest):
    """A followed tag at a digest not seen before: HEAD, then the manifest
    fetched once by that digest to check its bytes hash to it."""
    return reqs.get(repo) == [("HEAD", "manifests", tag, 200),
                              ("GET", "manifests", digest, 200)]


def cycle(agent, reg):
    mark = reg.mark()
    r = agent.once()
    assert r.code == 0, str(r)
    return r, settled_requests(reg, mark)


def test_steady_state_costs_one_request_per_repository(logged_registry, make_remote,
                                                      make_agent):
    reg = logged_registry
    d_cache = seed(reg)
    remote = make_remote({COMPOSE: compose(reg.host)})
    agent = make_agent(remote, reg.host)

    first, cold = cycle(agent, reg)
    assert len([ln for ln in first.lines if " -> " in ln]) == 5, str(first)
    assert d_cache in remote.show(COMPOSE).decode()
    assert cold, "the access log recorded nothing: is it on?"
    assert head_and_verify(by_repo(cold), CACHE, "latest", d_cache), cold
    head = remote.head()

    # Nothing new: each semver repository costs its tag list (shared by the
    # two alpha sites), the latest site one HEAD; no token, no /v2/ probe.
    r, raw = cycle(agent, reg)
    assert r.lines == ["no changes"], str(r)
    reqs = by_repo(raw)
    assert sorted(reqs) == sorted(SEMVER_REPOS + (CACHE,)), raw
    for repo in SEMVER_REPOS:
        assert tag_list_only(reqs, repo), raw
    assert head_only(reqs, CACHE, "latest"), raw
    assert len(raw) == 4, raw
    assert remote.head() == head

    # And again: the steady state is steady.
    r, raw = cycle(agent, reg)
    assert r.lines == ["no changes"] and len(raw) == 4, (str(r), raw)

    # `latest` moved: one HEAD finds it, one GET by the new digest verifies
    # it; nothing else is asked.
    d_cache2 = push_image(reg, CACHE, "latest")
    r, raw = cycle(agent, reg)
    moved = f"{CACHE} {d_cache[:19]} -> {d_cache2[:19]}"
    assert [ln for ln in r.lines if " -> " in ln] == [f"{COMPOSE}:11 {reg.host}/{moved}"], str(r)
    assert d_cache2 in remote.show(COMPOSE).decode()
    reqs = by_repo(raw)
    assert head_and_verify(reqs, CACHE, "latest", d_cache2), raw
    for repo in SEMVER_REPOS:
        assert tag_list_only(reqs, repo), raw
    assert len(raw) == 5, raw

    # Verified once: the next cycle is back to one HEAD for it.
    r, raw = cycle(agent, reg)
    assert r.lines == ["no changes"] and len(raw) == 4, (str(r), raw)
    assert head_only(by_repo(raw), CACHE, "latest"), raw

    # A new release of alpha: its tag list, then the new candidate only
    # (one HEAD shared by both sites, its manifest and config for the
    # host-platform check); the other repositories stay at one request.
    d_a = push_image(reg, A, "1.2.0")
    r, raw = cycle(agent, reg)
    assert len([ln for ln in r.lines if f"{A} 1.1.0 -> 1.2.0" in ln]) == 2, str(r)
    text = remote.show(COMPOSE).decode()
    assert text.count(f"{A}:1.2.0@{d_a}") == 2, text
    reqs = by_repo(raw)
    alpha = reqs[A]
    assert [(m, k) for m, k, _, _ in alpha][0] == ("GET", "tags"), raw
    assert [w for m, k, w, _ in alpha if m == "HEAD"] == ["1.2.0"], raw
    gets = [w for m, k, w, _ in alpha if m == "GET" and k == "manifests"]
    assert gets == [d_a], raw
    config = reg.client().get_manifest(A, d_a)[0].decode()
    assert all(w in config for m, k, w, _ in alpha if k == "blobs"), raw
    assert len(alpha) <= 4 and all(s == 200 for _, _, _, s in alpha), raw
    for repo in (B, C):
        assert tag_list_only(reqs, repo), raw
    assert head_only(reqs, CACHE, "latest"), raw

    # Settled again.
    r, raw = cycle(agent, reg)
    assert r.lines == ["no changes"] and len(raw) == 4, (str(r), raw)


def test_wiped_state_asks_again_and_never_downgrades(logged_registry, make_remote, make_agent):
    """The state is a cache: without it every chosen tag is resolved again
    (a HEAD each), and the decision is the same."""
    reg = logged_registry
    seed(reg)
    remote = make_remote({COMPOSE: compose(reg.host)})
    agent = make_agent(remote, reg.host)
    first, _ = cycle(agent, reg)
    assert len([ln for ln in first.lines if " -> " in ln]) == 5, str(first)
    head = remote.head()

    shutil.rmtree(agent.state_dir)
    r, raw = cycle(agent, reg)
    assert r.lines == ["no changes"], str(r)
    assert remote.head() == head
    reqs = by_repo(raw)
    for repo, tag in ((A, "1.1.0"), (B, "2.1.0"), (C, "1.0.0"), (CACHE, "latest")):
        heads = [w for m, _, w, _ in reqs[repo] if m == "HEAD"]
        assert heads == [tag], (repo, raw)
    assert os.path.exists(os.path.join(agent.state_dir, "state.json"))

    # and the cycle after that is back to one request per repository
    r, raw = cycle(agent, reg)
    assert r.lines == ["no changes"] and len(raw) == 4, (str(r), raw)

"""A followed tag's digest is verified before it is pinned (issue 11): the
digest a HEAD's Docker-Content-Digest names is fetched once by that digest
and its bytes must hash to it. A proxy in front of the real docker-registry
plays the lying registry."""
import hashlib

from mdtest.checks import replaced_once
from mdtest.compose import site_line
from mdtest.images import push_image, push_tags

CACHE, WEB = "app/cache", "app/web"
COMPOSE = "stacks/app/compose.yaml"
FAKE = "sha256:" + hashlib.sha256(b"nobody pushed this").hexdigest()


def _for(repo, reqs):
    return [(m, p.split("?")[0], s) for m, p, s in reqs if p.startswith(f"/v2/{repo}/")]


def test_a_lying_digest_is_refused_and_a_verified_one_costs_one_head(
        registry_server, make_remote, make_agent, make_proxy):
    reg = registry_server
    d1 = push_image(reg, CACHE, "latest")
    web = push_tags(reg, WEB, ["1.0.0"])
    lie = {"on": False, "body": b"", "type": ""}

    def fault(method, path):
        if not lie["on"]:
            return None
        if method == "HEAD" and path == f"/v2/{CACHE}/manifests/latest":
            return {"headers": {"Docker-Content-Digest": FAKE}}
        if method == "GET" and path == f"/v2/{CACHE}/manifests/{FAKE}":
            # the real new manifest, served under the digest the HEAD claimed
            return {"status": 200, "body": lie["body"],
                    "headers": {"Content-Type": lie["type"], "Docker-Content-Digest": FAKE}}
        return None

    proxy = make_proxy(reg, fault=fault)
    before = ("services:\n"
              "  cache:\n" + site_line(proxy.ref(CACHE, "latest"), policy="latest") +
              "  web:\n" + site_line(proxy.ref(WEB, "1.0.0"), policy="semver", range="^1.0")
              ).encode()
    remote = make_remote({COMPOSE: before})
    agent = make_agent(remote, proxy.host)

    # First sight of the tag: HEAD, then the manifest once by its digest.
    r = agent.once()
    assert r.code == 0, str(r)
    pinned = replaced_once(before, proxy.ref(CACHE, "latest"), proxy.ref(CACHE, "latest", d1))
    pinned = replaced_once(pinned, proxy.ref(WEB, "1.0.0"),
                           proxy.ref(WEB, "1.0.0", web["1.0.0"]))
    assert remote.show(COMPOSE) == pinned
    assert _for(CACHE, proxy.recorded()) == [
        ("HEAD", f"/v2/{CACHE}/manifests/latest", 200),
        ("GET", f"/v2/{CACHE}/manifests/{d1}", 200)], proxy.recorded()

    # The tag moves, and the registry lies about where to.
    d2 = push_image(reg, CACHE, "latest")
    data, mtype, _ = reg.client().get_manifest(CACHE, d2)
    lie.update(on=True, body=data, type=mtype)
    push_tags(reg, WEB, ["1.1.0"])
    mark = len(proxy.recorded())
    r = agent.once()
    assert r.code == 1, str(r)
    image = f"{proxy.host}/{CACHE}:latest"
    assert f"{image}: the registry says the tag is at {FAKE}, but that digest does not " \
           "check out" in r.stderr, str(r)
    assert f"has digest {d2} but should have {FAKE}" in r.stderr, str(r)
    text = remote.show(COMPOSE).decode()
    assert FAKE not in text and proxy.ref(CACHE, "latest", d1) in text
    # the cycle went on: the other site moved
    assert proxy.ref(WEB, "1.1.0", reg.client().digest_of(WEB, "1.1.0")) in text
    assert _for(CACHE, proxy.recorded()[mark:]) == [
        ("HEAD", f"/v2/{CACHE}/manifests/latest", 200),
        ("GET", f"/v2/{CACHE}/manifests/{FAKE}", 200)]

    # The truth again: verified once, pinned.
    lie["on"] = False
    mark = len(proxy.recorded())
    r = agent.once()
    assert r.code == 0, str(r)
    assert proxy.ref(CACHE, "latest", d2) in remote.show(COMPOSE).decode()
    assert _for(CACHE, proxy.recorded()[mark:]) == [
        ("HEAD", f"/v2/{CACHE}/manifests/latest", 200),
        ("GET", f"/v2/{CACHE}/manifests/{d2}", 200)]

    # Steady: the unchanged, verified tag costs exactly one HEAD.
    head = remote.head()
    mark = len(proxy.recorded())
    r = agent.once()
    assert r.code == 0 and r.lines == ["no changes"], str(r)
    assert remote.head() == head
    assert _for(CACHE, proxy.recorded()[mark:]) == [
        ("HEAD", f"/v2/{CACHE}/manifests/latest", 200)]

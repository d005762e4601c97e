"""Facts from the registry feed the policy: the arch and minAge gates and the
`newest` policy, against a real docker-registry behind the recording proxy.

Facts (platforms, creation time) cost GETs, so they are looked up only for
sites that need them, in rank order, and cached by digest in the state."""
import datetime
import gzip
import hashlib
import json
import os

from mdtest import gitutil
from mdtest.checks import replaced_once
from mdtest.compose import compose_site, site_line
from mdtest.images import push_image

WEB = "app/web"
CACHE = "app/cache"
COMPOSE = "stacks/web/compose.yaml"
NOW = datetime.datetime.now(datetime.timezone.utc)


def ago(**kw):
    return NOW - datetime.timedelta(**kw)


def manifest_gets(proxy, since=0, repo=None):
    """GETs of manifests and blobs recorded by the proxy from request `since` on."""
    out = []
    for method, path, _ in proxy.recorded()[since:]:
        if method != "GET" or ("/manifests/" not in path and "/blobs/" not in path):
            continue
        if repo is None or path.startswith(f"/v2/{repo}/"):
            out.append(path)
    return out


def test_arch_gate_skips_tag_missing_the_platform(registry_server, make_remote, make_agent,
                                                  make_proxy):
    reg = registry_server
    push_image(reg, WEB, "1.0.0", platforms=["linux/amd64", "linux/arm64"])
    d101 = push_image(reg, WEB, "1.0.1", platforms=["linux/amd64", "linux/arm64"])
    push_image(reg, WEB, "1.1.0", platforms=["linux/amd64"])
    proxy = make_proxy(reg)
    old = proxy.ref(WEB, "1.0.0")
    before = compose_site(old, policy="semver", range="^1.0", arch="arm64").encode()
    remote = make_remote({COMPOSE: before})
    r = make_agent(remote, proxy.host).once()
    assert r.code == 0, str(r)
    # the index digest is written, not the arm64 manifest's
    assert remote.show(COMPOSE) == replaced_once(before, old, proxy.ref(WEB, "1.0.1", d101))
    assert r.lines[0] == f"{COMPOSE}:3 {proxy.host}/{WEB} 1.0.0 -> 1.0.1", str(r)
    # best first: 1.1.0 (refused), then 1.0.1 (chosen); 1.0.0 never looked at
    gets = manifest_gets(proxy)
    assert f"/v2/{WEB}/manifests/{d101}" in gets, gets
    assert not any(p.endswith("/manifests/1.0.0") for p in gets), gets


def test_min_age_waits_for_a_young_release(registry_server, make_remote, make_agent):
    reg = registry_server
    push_image(reg, WEB, "1.0.0", created=ago(days=20))
    d101 = push_image(reg, WEB, "1.0.1", created=ago(days=10))
    push_image(reg, WEB, "1.1.0", created=ago(hours=1))
    old = reg.ref(WEB, "1.0.0")
    before = compose_site(old, policy="semver", range="^1.0", minAge="3d").encode()
    remote = make_remote({COMPOSE: before})
    r = make_agent(remote, reg.host).once()
    assert r.code == 0, str(r)
    assert remote.show(COMPOSE) == replaced_once(before, old, reg.ref(WEB, "1.0.1", d101))


def test_min_age_created_annotation_beats_config(registry_server, make_remote, make_agent):
    """An index annotation saying "built an hour ago" wins over old configs."""
    reg = registry_server
    push_image(reg, WEB, "1.0.0", created=ago(days=20))
    d101 = push_image(reg, WEB, "1.0.1", platforms=["linux/amd64", "linux/arm64"],
                      created=ago(days=10))
    push_image(reg, WEB, "1.1.0", platforms=["linux/amd64", "linux/arm64"],
               created=ago(days=30),
               annotations={"org.opencontainers.image.created":
                            ago(hours=1).strftime("%Y-%m-%dT%H:%M:%SZ")})
    old = reg.ref(WEB, "1.0.0")
    before = compose_site(old, policy="semver", range="^1.0", minAge="72h").encode()
    remote = make_remote({COMPOSE: before})
    r = make_agent(remote, reg.host).once()
    assert r.code == 0, str(r)
    assert remote.show(COMPOSE) == replaced_once(before, old, reg.ref(WEB, "1.0.1", d101))


def test_no_tag_old_enough_leaves_site(registry_server, make_remote, make_agent):
    reg = registry_server
    d100 = push_image(reg, WEB, "1.0.0", created=ago(days=20))
    push_image(reg, WEB, "1.1.0", created=ago(hours=2))
    old = reg.ref(WEB, "1.0.0", d100)
    before = compose_site(old, policy="semver", range="^1.0", minAge="1d").encode()
    remote = make_remote({COMPOSE: before})
    base = remote.head()
    r = make_agent(remote, reg.host).once()
    assert r.code == 0, str(r)
    assert remote.head() == base
    assert r.lines == ["no changes"], str(r)


def test_newest_picks_latest_build_and_caches_facts(registry_server, make_remote, make_agent,
                                                    make_proxy):
    reg = registry_server
    push_image(reg, WEB, "build-a", created=ago(days=3))
    db = push_image(reg, WEB, "build-b", created=ago(hours=5))
    push_image(reg, WEB, "build-c", created=ago(days=1))
    dc = push_image(reg, CACHE, "latest")
    proxy = make_proxy(reg)
    old = proxy.ref(WEB, "build-a")
    cache = proxy.ref(CACHE, "latest")
    before = ("services:\n  web:\n" + site_line(old, policy="newest") +
              "  cache:\n" + site_line(cache, policy="latest")).encode()
    remote = make_remote({COMPOSE: before})
    agent = make_agent(remote, proxy.host)

    r = agent.once()
    assert r.code == 0, str(r)
    after = replaced_once(before, old, proxy.ref(WEB, "build-b", db))
    assert remote.show(COMPOSE) == replaced_once(after, cache, proxy.ref(CACHE, "latest", dc))
    assert f"{COMPOSE}:3 {proxy.host}/{WEB} build-a -> build-b" in r.lines, str(r)
    assert manifest_gets(proxy, repo=WEB), proxy.recorded()
    # the latest site needs no facts: its new digest is only verified, with
    # one GET of the manifest by that digest (issue 11)
    assert manifest_gets(proxy, repo=CACHE) == [f"/v2/{CACHE}/manifests/{dc}"], \
        proxy.recorded()

    # a second cycle: every digest's facts come from the state
    mark = len(proxy.recorded())
    r = agent.once()
    assert r.code == 0, str(r)
    assert r.lines == ["no changes"], str(r)
    assert manifest_gets(proxy, since=mark) == [], proxy.recorded()[mark:]
    heads = [p for m, p, _ in proxy.recorded()[mark:] if m == "HEAD"]
    assert heads, proxy.recorded()[mark:]


def test_host_platform_is_checked_once_per_digest(registry_server, make_remote, make_agent,
                                                  make_proxy):
    """With no `arch`, a choosing policy still checks the host's platform on
    the tag it is about to choose: one manifest (+ config) GET per new
    digest, cached after that. A `latest` site follows one tag and GETs no
    facts: only its manifest, once per new digest, to verify the digest."""
    reg = registry_server
    for t in ("1.0.0", "1.1.0"):
        push_image(reg, WEB, t)
    d_cache = push_image(reg, CACHE, "latest")
    proxy = make_proxy(reg)
    before = ("services:\n  web:\n" +
              site_line(proxy.ref(WEB, "1.0.0"), policy="semver", range="^1.0") +
              "  cache:\n" + site_line(proxy.ref(CACHE, "latest"), policy="latest")).encode()
    remote = make_remote({COMPOSE: before})
    agent = make_agent(remote, proxy.host)
    r = agent.once()
    assert r.code == 0, str(r)
    assert len(r.lines) == 3, str(r)
    gets, verify = manifest_gets(proxy, repo=WEB), f"/v2/{CACHE}/manifests/{d_cache}"
    assert gets and sorted(manifest_gets(proxy)) == sorted(gets + [verify]), proxy.recorded()
    assert d_cache in remote.show(COMPOSE).decode()

    mark = len(proxy.recorded())
    again = agent.once()
    assert again.lines == ["no changes"], str(again)
    assert manifest_gets(proxy, since=mark) == [], proxy.recorded()[mark:]


def test_host_platform_missing_is_passed_over(registry_server, make_remote, make_agent):
    """A release published for another architecture first is not chosen
    on this host until it has this host's platform."""
    reg = registry_server
    host = "linux/amd64" if os.uname().machine == "x86_64" else "linux/arm64"
    other = "linux/s390x"
    push_image(reg, WEB, "1.0.0", platforms=[host, other])
    d101 = push_image(reg, WEB, "1.0.1", platforms=[host, other])
    push_image(reg, WEB, "1.1.0", platforms=[other])
    old = reg.ref(WEB, "1.0.0")
    before = compose_site(old, policy="semver", range="^1.0").encode()
    remote = make_remote({COMPOSE: before})
    r = make_agent(remote, reg.host).once()
    assert r.code == 0, str(r)
    assert remote.show(COMPOSE) == replaced_once(before, old, reg.ref(WEB, "1.0.1", d101))


def test_live_explain_uses_the_registry_facts(registry_server, make_remote, make_agent):
    """`explain FILE:LINE` decides like a cycle: gated tags are checked
    against the registry's facts, and nothing is written."""
    reg = registry_server
    push_image(reg, WEB, "1.0.0", platforms=["linux/amd64", "linux/arm64"])
    push_image(reg, WEB, "1.0.1", platforms=["linux/amd64", "linux/arm64"])
    push_image(reg, WEB, "1.1.0", platforms=["linux/amd64"])
    push_image(reg, WEB, "2.0.0", platforms=["linux/amd64", "linux/arm64"])
    old = reg.ref(WEB, "1.0.0")
    before = compose_site(old, policy="semver", range="^1.0", arch="arm64").encode()
    remote = make_remote({COMPOSE: before})
    agent = make_agent(remote, reg.host)
    # clone without changing anything: plan needs a clone, once would update it
    gitutil.clone(remote.home, remote.url, agent.repo)
    head = gitutil.worktree_head(remote.home, agent.repo)

    r = agent.run("explain", f"{COMPOSE}:3", "--format", "json")
    assert r.code == 0, str(r)
    out = json.loads(r.stdout)
    assert out["decision"] == {"tag": "1.0.1"}
    reasons = {c["tag"]: (c["kept"], c["reason"]) for c in out["candidates"]}
    assert reasons["1.1.0"] == (False, "missing linux/arm64"), reasons
    assert reasons["2.0.0"] == (False, "out of range"), reasons
    assert reasons["1.0.1"][0] is True

    table = agent.run("explain", f"{COMPOSE}:3")
    assert table.code == 0, str(table)
    assert "decision: 1.0.1" in table.stdout
    assert gitutil.worktree_head(remote.home, agent.repo) == head
    assert gitutil.worktree_status(remote.home, agent.repo) == ""
    assert not os.path.exists(agent.state_dir)

    missing = agent.run("explain", f"{COMPOSE}:1")
    assert missing.code == 1
    assert f"{COMPOSE}:1: no annotated image on this line" in missing.stderr


MT_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MT_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MT_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
MT_DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"


def _docker_image(client, repo, plat, created):
    """A Docker v2 schema 2 image for `plat`, pushed by digest → (digest, size)."""
    os_, _, arch = plat.partition("/")
    layer = gzip.compress(os.urandom(64), mtime=0)
    layer_digest = client.push_blob(repo, layer)
    config = json.dumps({"created": created, "architecture": arch, "os": os_,
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    config_digest = client.push_blob(repo, config)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": MT_DOCKER_MANIFEST,
                           "config": {"mediaType": MT_DOCKER_CONFIG, "digest": config_digest,
                                      "size": len(config)},
                           "layers": [{"mediaType": MT_DOCKER_LAYER, "digest": layer_digest,
                                       "size": len(layer)}]}).encode()
    ref = "sha256:" + hashlib.sha256(manifest).hexdigest()
    return client.put_manifest(repo, ref, manifest, MT_DOCKER_MANIFEST), len(manifest)


def _buildkit_list(reg, repo, tag, plats, created):
    """A Docker manifest list as BuildKit pushes it: one entry per platform
    plus an attestation entry (unknown/unknown) per image."""
    client = reg.client()
    entries = []
    for plat in plats:
        digest, size = _docker_image(client, repo, plat, created)
        os_, _, arch = plat.partition("/")
        entries.append({"mediaType": MT_DOCKER_MANIFEST, "digest": digest, "size": size,
                        "platform": {"architecture": arch, "os": os_}})
        att, att_size = _docker_image(client, repo, "unknown/unknown", created)
        entries.append({"mediaType": MT_DOCKER_MANIFEST, "digest": att, "size": att_size,
                        "platform": {"architecture": "unknown", "os": "unknown"},
                        "annotations": {"vnd.docker.reference.type": "attestation-manifest",
                                        "vnd.docker.reference.digest": digest}})
    data = json.dumps({"schemaVersion": 2, "mediaType": MT_DOCKER_LIST,
                       "manifests": entries}).encode()
    return client.put_manifest(repo, tag, data, MT_DOCKER_LIST)


def test_docker_manifest_lists_with_attestations(registry_server, make_remote, make_agent):
    """Docker media types and BuildKit attestation entries: the attestation
    is not a platform, so an index with only the other architecture plus
    attestations is passed over; the list digest is what gets written."""
    reg = registry_server
    host = "linux/amd64" if os.uname().machine == "x86_64" else "linux/arm64"
    created = "2024-01-01T00:00:00Z"
    _buildkit_list(reg, WEB, "1.0.0", [host], created)
    d101 = _buildkit_list(reg, WEB, "1.0.1", [host, "linux/s390x"], created)
    _buildkit_list(reg, WEB, "1.1.0", ["linux/s390x"], created)
    old = reg.ref(WEB, "1.0.0")
    before = compose_site(old, policy="semver", range="^1.0").encode()
    remote = make_remote({COMPOSE: before})
    agent = make_agent(remote, reg.host)
    r = agent.once()
    assert r.code == 0, str(r)
    assert remote.show(COMPOSE) == replaced_once(before, old, reg.ref(WEB, "1.0.1", d101))

    out = json.loads(agent.run("explain", f"{COMPOSE}:3", "--format", "json").stdout)
    reasons = {c["tag"]: c["reason"] for c in out["candidates"]}
    assert reasons["1.1.0"] == f"missing {host}", reasons

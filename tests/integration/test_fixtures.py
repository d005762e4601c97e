"""Self-tests of the fixtures: they must be right before they judge the agent.

These run without the magos-dominus binary."""
import base64
import gzip
import json
import os
import time
import urllib.error

import pytest

from mdtest import gitutil, images, net, registry
from mdtest.proxy import OnceHook, RegistryProxy
from mdtest.registry import RegistryClient, sha256_digest
from mdtest.tokensvc import ALICE


def test_push_image_digest_is_sha256_of_manifest_bytes(registry_server):
    d = images.push_tags(registry_server, "app/web", ["1.0.0", "1.1.0"])
    c = registry_server.client()
    assert sorted(c.tags("app/web")) == ["1.0.0", "1.1.0"]
    data, mt, header = c.get_manifest("app/web", "1.1.0")
    assert mt == registry.MT_OCI_MANIFEST
    assert sha256_digest(data) == header == d["1.1.0"]
    assert d["1.0.0"] != d["1.1.0"]
    manifest = json.loads(data)
    _, _, cfg = c.request("GET", f"/v2/app/web/blobs/{manifest['config']['digest']}")
    cfg = json.loads(cfg)
    assert f"{cfg['os']}/{cfg['architecture']}" == images.host_platform()
    assert cfg["created"].endswith("Z")
    _, _, layer = c.request("GET", f"/v2/app/web/blobs/{manifest['layers'][0]['digest']}")
    assert gzip.decompress(layer)[:512]  # a real gzipped tar


def test_push_multiarch_index(registry_server):
    digest = images.push_image(registry_server.url, "app/multi", "2.0",
                               platforms=["linux/amd64", "linux/arm64"],
                               created="2024-01-02T03:04:05Z",
                               annotations={"org.opencontainers.image.created":
                                            "2024-01-02T03:04:05Z"})
    c = registry_server.client()
    data, mt, header = c.get_manifest("app/multi", "2.0")
    assert mt == registry.MT_OCI_INDEX and header == digest == sha256_digest(data)
    index = json.loads(data)
    assert [(m["platform"]["os"], m["platform"]["architecture"]) for m in index["manifests"]] \
        == [("linux", "amd64"), ("linux", "arm64")]
    for m in index["manifests"]:
        sub, smt, _ = c.get_manifest("app/multi", m["digest"])
        assert smt == registry.MT_OCI_MANIFEST and sha256_digest(sub) == m["digest"]


def test_retag_and_delete(registry_server):
    c = registry_server.client()
    d1 = images.push_image(c, "app/x", "1")
    assert images.retag(c, "app/x", "1", "latest") == d1
    assert c.digest_of("app/x", "latest") == d1
    d2 = images.push_image(c, "app/x", "2")
    images.delete_tag(c, "app/x", "2")
    assert d2 != d1 and sorted(c.tags("app/x")) == ["1", "latest"]


def test_tls_registry_requires_the_test_ca(tls_registry, ca):
    images.push_image(tls_registry, "app/web", "1.0.0")
    assert RegistryClient(tls_registry.url, ssl_context=ca.client_context()).tags(
        "app/web") == ["1.0.0"]
    with pytest.raises(urllib.error.URLError) as e:
        net.opener().open(tls_registry.url + "/v2/", timeout=5)
    assert "CERTIFICATE_VERIFY_FAILED" in str(e.value)
    # localhost is in the SAN too.
    with net.opener(ca.client_context()).open(
            f"https://localhost:{tls_registry.port}/v2/", timeout=5) as r:
        assert r.status == 200


def test_token_registry_anonymous_and_basic(token_registry, token_service):
    images.push_image(token_registry, "app/web", "1.0.0")
    assert all(r.user == "pusher" and r.status == 200 for r in token_service.recorded())
    # The registry itself demands a bearer token for this realm/service.
    with pytest.raises(urllib.error.HTTPError) as e:
        net.opener().open(token_registry.url + "/v2/app/web/tags/list", timeout=5)
    assert e.value.code == 401
    challenge = e.value.headers["WWW-Authenticate"]
    assert challenge == (f'Bearer realm="{token_service.realm}",service="{token_service.service}"'
                         f',scope="repository:app/web:pull"')
    token_service.clear()
    assert RegistryClient(token_registry.url).tags("app/web") == ["1.0.0"]
    (anon,) = token_service.recorded()
    assert anon.user is None and anon.scopes == ["repository:app/web:pull"]
    token_service.clear()
    assert RegistryClient(token_registry.url, credentials=ALICE).tags("app/web") == ["1.0.0"]
    (basic,) = token_service.recorded()
    assert (basic.user, basic.password, basic.status) == (ALICE[0], ALICE[1], 200)
    # Anonymous callers cannot push; wrong passwords are refused by the service.
    with pytest.raises(registry.RegistryError):
        images.push_image(RegistryClient(token_registry.url), "app/web", "evil")
    with pytest.raises(urllib.error.HTTPError) as e:
        RegistryClient(token_registry.url, credentials=("alice", "wrong")).tags("app/web")
    assert e.value.code == 401


def test_token_is_rs256_with_x5c(token_service):
    import jwt
    tok = token_service.issue("bob", [{"type": "repository", "name": "a/b",
                                       "actions": ["pull"]}])
    header = jwt.get_unverified_header(tok)
    assert header["alg"] == "RS256" and len(header["x5c"]) == 1
    claims = jwt.decode(tok, options={"verify_signature": False})
    assert claims["aud"] == token_service.service and claims["iss"] == token_service.issuer
    assert {"sub", "exp", "nbf", "iat", "jti", "access"} <= set(claims)
    base64.b64decode(header["x5c"][0], validate=True)


def test_bare_remote_file_url(make_remote, scratch):
    remote = make_remote({"README.md": "hello\n", "stacks/a/compose.yaml": "services: {}\n"})
    assert remote.url.startswith("file://") and remote.count() == 1
    assert remote.show("README.md") == b"hello\n"
    work = os.path.join(scratch, "w")
    head = remote.commit_files(work, {"README.md": "changed\n"}, "change readme")
    assert remote.head() == head and remote.count() == 2
    assert remote.changed_files() == ["README.md"]


def test_smart_http_clone_and_push(make_remote, git_http, scratch):
    remote = make_remote({"README.md": "hello\n"}, http_server=git_http)
    assert remote.url.startswith(git_http.url)
    work = os.path.join(scratch, "w")
    gitutil.clone(remote.home, remote.url, work)
    # A tiny http.postBuffer makes git stream the push with chunked encoding.
    gitutil.git(remote.home, "config", "http.postBuffer", "65536", cwd=work)
    head = remote.commit_files(work, {f"blobs/{i}.bin": os.urandom(16000) for i in range(8)},
                               "chunked push")
    assert remote.head() == head
    # A fetch that sends many "have" lines: git gzips requests over 1 KiB.
    work2 = os.path.join(scratch, "w2")
    gitutil.clone(remote.home, remote.url, work2)
    now = int(time.time())
    stream = "".join(f"commit refs/heads/main\ncommitter t <t@t> {now + i} +0000\ndata 2\nn\n"
                     f"{'from refs/heads/main^0' if i == 0 else ''}\n" for i in range(60))
    gitutil.git(remote.home, "fast-import", "--quiet", cwd=work2, input=stream.encode())
    gitutil.git(remote.home, "reset", "-q", "--hard", "main", cwd=work2)
    remote.commit_files(work, {"other": "x"}, "other")
    gitutil.git(remote.home, "pull", "-q", "--no-rebase", "--no-edit", cwd=work2)
    gitutil.git(remote.home, "push", "-q", "origin", "HEAD:main", cwd=work2)
    assert remote.head() == gitutil.worktree_head(remote.home, work2)
    reqs = git_http.recorded()
    assert any(r.transfer_encoding == "chunked" and r.path.endswith("/git-receive-pack")
               for r in reqs), reqs
    assert any(r.content_encoding == "gzip" for r in reqs), reqs


def test_registry_proxy_forwards_and_hooks(registry_server):
    digest = images.push_image(registry_server, "app/web", "1.0.0")
    seen = []
    hook = OnceHook("/tags/list", lambda: seen.append("fired"))
    proxy = RegistryProxy(registry_server.url, hook=hook)
    try:
        c = RegistryClient(proxy.url)
        assert c.tags("app/web") == ["1.0.0"]
        assert c.tags("app/web") == ["1.0.0"]
        _, hdrs, body = c.request("HEAD", "/v2/app/web/manifests/1.0.0",
                                  headers={"Accept": registry.ACCEPT})
        assert body == b"" and hdrs["Docker-Content-Digest"] == digest
        assert int(hdrs["Content-Length"]) > 0
        assert seen == ["fired"]
        assert [r[0] for r in proxy.recorded()] == ["GET", "GET", "HEAD"]
    finally:
        proxy.stop()


def test_seed_demo_script(registry_server):
    import subprocess
    import sys
    script = os.path.join(os.path.dirname(__file__), "seed_demo.py")
    p = subprocess.run([sys.executable, script, registry_server.host, "demo/web", "1.0.0",
                        "1.1.0"], capture_output=True, text=True, timeout=60,
                       env={"PATH": "/usr/bin:/bin"})
    assert p.returncode == 0, p.stderr
    c = registry_server.client()
    assert p.stdout.splitlines() == [f"demo/web:1.0.0 {c.digest_of('demo/web', '1.0.0')}",
                                     f"demo/web:1.1.0 {c.digest_of('demo/web', '1.1.0')}"]
    bad = subprocess.run([sys.executable, script, "127.0.0.1:1", "demo/web", "1"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "127.0.0.1:1" in bad.stderr


def test_registry_proxy_paginates_tag_lists(registry_server):
    images.push_tags(registry_server, "app/p", ["b", "a", "d", "c", "e"])
    proxy = RegistryProxy(registry_server.url, tag_page_size=2)
    try:
        c = RegistryClient(proxy.url)
        url, seen, links = "/v2/app/p/tags/list?n=10", [], []
        while url:
            _, hdrs, body = c.request("GET", url)
            seen += json.loads(body)["tags"]
            link = hdrs.get("Link")
            links.append(link)
            url = link[1:link.index(">")] if link else None
        assert seen == ["a", "b", "c", "d", "e"]
        assert links == ['</v2/app/p/tags/list?n=2&last=b>; rel="next"',
                         '</v2/app/p/tags/list?n=2&last=d>; rel="next"', None]
    finally:
        proxy.stop()


def test_git_https_server(make_remote, ca, tmp_path, scratch):
    from mdtest.githttp import GitHTTPServer
    remote = make_remote({"README.md": "x\n"})
    srv = GitHTTPServer(os.path.dirname(remote.path), tls=ca.issue_server("git"))
    try:
        srv.url_for(remote)
        assert remote.url.startswith("https://")
        work = os.path.join(scratch, "w")
        gitutil.git(remote.home, "-c", f"http.sslCAInfo={ca.cert_file}", "clone", "-q",
                    remote.url, work)
        with pytest.raises(RuntimeError, match="certificate"):
            gitutil.clone(remote.home, remote.url, os.path.join(scratch, "w2"))
    finally:
        srv.stop()

"""Registry faults through a fault-injecting proxy in front of the real registry:
429 with Retry-After (seconds and HTTP date), 503 bursts, a hung connection,
a 50 MB body, invalid JSON, a wrong Content-Type, a wrong digest header, the
Docker Hub rate-limit headers, and pagination of 1,000+ tags with a 413 for a
large n. A fault hits one repository; the others on the same cycle go on."""
import email.utils
import threading
import time

import pytest

from mdtest.checks import replaced_once
from mdtest.compose import compose_site
from mdtest.images import push_image, push_tags
from mdtest.proxy import RegistryProxy

WEB = "app/web"
OK = "app/ok"
WEB_FILE = "stacks/web/compose.yaml"
OK_FILE = "stacks/ok/compose.yaml"
TAGS = f"/v2/{WEB}/tags/list"


@pytest.fixture
def proxies(request, registry_server):
    """proxies(fault=None, **kw) → a RegistryProxy in front of registry_server."""
    def make(fault=None, **kw):
        p = RegistryProxy(registry_server.url, fault=fault, **kw)
        request.addfinalizer(p.stop)
        return p

    return make


class Faults:
    """A fault callable: the first `times` requests whose path contains
    `needle` (and whose method is `method`, when given) get `action`."""

    def __init__(self, needle, action, times=None, method=None):
        self.needle, self.action, self.times, self.method = needle, action, times, method
        self.hits = 0
        self._lock = threading.Lock()

    def __call__(self, method, path):
        if self.needle not in path or (self.method and method != self.method):
            return None
        with self._lock:
            if self.times is not None and self.hits >= self.times:
                return None
            self.hits += 1
        return self.action() if callable(self.action) else dict(self.action)


def setup_two(reg, make_remote, make_agent, web_proxy, ok_proxy=None, **settings):
    """WEB behind web_proxy, OK behind ok_proxy (default: the same proxy),
    both ^1.0 sites at 1.0.0 with 1.1.0 available."""
    ok_proxy = ok_proxy or web_proxy
    dw = push_tags(reg, WEB, ["1.0.0", "1.1.0"])
    do = push_tags(reg, OK, ["1.0.0", "1.1.0"])
    files = {WEB_FILE: compose_site(web_proxy.ref(WEB, "1.0.0"), policy="semver",
                                    range="^1.0").encode(),
             OK_FILE: compose_site(ok_proxy.ref(OK, "1.0.0"), policy="semver",
                                   range="^1.0").encode()}
    remote = make_remote(files)
    hosts = ",".join(sorted({web_proxy.host, ok_proxy.host}))
    agent = make_agent(remote, hosts, **settings)
    want = {WEB_FILE: replaced_once(files[WEB_FILE], web_proxy.ref(WEB, "1.0.0"),
                                    web_proxy.ref(WEB, "1.1.0", dw["1.1.0"])),
            OK_FILE: replaced_once(files[OK_FILE], ok_proxy.ref(OK, "1.0.0"),
                                   ok_proxy.ref(OK, "1.1.0", do["1.1.0"]))}
    return agent, remote, files, want


def statuses(proxy, needle):
    return [s for (_, p, s) in proxy.recorded() if needle in p]


def assert_only_web_failed(r, remote, files, want, proxy, *fragments):
    assert r.code == 1, str(r)
    assert remote.show(OK_FILE) == want[OK_FILE], "the healthy repository must be updated"
    assert remote.show(WEB_FILE) == files[WEB_FILE]
    assert remote.changed_files() == [OK_FILE]
    for frag in (proxy.host, WEB) + fragments:
        assert frag in r.stderr, f"{frag!r} not in\n{r}"


# ---- 429 and 5xx ------------------------------------------------------------

def test_429_retry_after_seconds(registry_server, proxies, make_remote, make_agent):
    fault = Faults(TAGS, {"status": 429, "headers": {"Retry-After": "1"}}, times=1)
    proxy = proxies(fault=fault)
    agent, remote, files, want = setup_two(registry_server, make_remote, make_agent, proxy)
    t0 = time.monotonic()
    r = agent.once()
    assert r.code == 0, str(r)
    assert time.monotonic() - t0 >= 1.0
    assert remote.show(WEB_FILE) == want[WEB_FILE] and remote.show(OK_FILE) == want[OK_FILE]
    assert statuses(proxy, TAGS) == [429, 200]


def test_429_retry_after_http_date(registry_server, proxies, make_remote, make_agent):
    def action():
        return {"status": 429,
                "headers": {"Retry-After": email.utils.formatdate(time.time() + 2, usegmt=True)}}

    fault = Faults(TAGS, action, times=1)
    proxy = proxies(fault=fault)
    agent, remote, files, want = setup_two(registry_server, make_remote, make_agent, proxy)
    t0 = time.monotonic()
    r = agent.once()
    assert r.code == 0, str(r)
    assert time.monotonic() - t0 >= 0.9  # a whole-second date: 1 to 2 s from now
    assert remote.show(WEB_FILE) == want[WEB_FILE] and remote.show(OK_FILE) == want[OK_FILE]
    assert statuses(proxy, TAGS) == [429, 200]


def test_429_beyond_budget_fails_that_host_only(registry_server, proxies, make_remote,
                                                make_agent):
    fault = Faults(f"/v2/{WEB}/", {"status": 429, "headers": {"Retry-After": "120"}})
    proxy = proxies(fault=fault)
    other = proxies()
    agent, remote, files, want = setup_two(registry_server, make_remote, make_agent, proxy,
                                           ok_proxy=other)
    t0 = time.monotonic()
    r = agent.once()
    assert time.monotonic() - t0 < 20, "a 120 s Retry-After must not be slept through"
    assert_only_web_failed(r, remote, files, want, proxy, "rate limited (HTTP 429)",
                           "Retry-After: 120", TAGS)
    assert statuses(proxy, TAGS) == [429]


def test_503_burst_then_success(registry_server, proxies, make_remote, make_agent):
    fault = Faults(TAGS, {"status": 503, "body": b'{"errors":[{"code":"UNAVAILABLE"}]}'},
                   times=3)
    proxy = proxies(fault=fault)
    agent, remote, files, want = setup_two(registry_server, make_remote, make_agent, proxy)
    r = agent.once()
    assert r.code == 0, str(r)
    assert remote.show(WEB_FILE) == want[WEB_FILE] and remote.show(OK_FILE) == want[OK_FILE]
    assert statuses(proxy, TAGS) == [503, 503, 503, 200]


def test_503_that_does_not_end(registry_server, proxies, make_remote, make_agent):
    fault = Faults(TAGS, {"status": 503, "body": b'{"errors":[{"code":"UNAVAILABLE",'
                                                 b'"message":"down for maintenance"}]}'})
    proxy = proxies(fault=fault)
    agent, remote, files, want = setup_two(registry_server, make_remote, make_agent, proxy)
    r = agent.once()
    assert_only_web_failed(r, remote, files, want, proxy, "answered HTTP 503",
                           "down for maintenance")
    assert statuses(proxy, TAGS) == [503] * 4


# ---- timeouts and bodies ----------------------------------------------------

def test_hung_connection_times_out(registry_server, proxies, make_remote, make_agent):
    proxy = proxies(fault=Faults(TAGS, {"delay": 4}))
    agent, remote, files, want = setup_two(registry_server, make_remote, make_agent, proxy,
                                           MD_REGISTRY_TIMEOUT="2s",
                                           MD_REGISTRY_CONNECT_TIMEOUT="1s")
    t0 = time.monotonic()
    r = agent.once()
    assert time.monotonic() - t0 < 30
    assert_only_web_failed(r, remote, files, want, proxy, "timed out", TAGS)


def test_50mb_body_aborted_at_the_cap(registry_server, proxies, make_remote, make_agent):
    total = 50 * 1024 * 1024
    proxy = proxies(fault=Faults(TAGS, {"status": 200, "stream": total,
                                        "headers": {"Content-Type": "application/json"}}))
    agent, remote, files, want = setup_two(registry_server, make_remote, make_agent, proxy)
    r = agent.once()
    assert_only_web_failed(r, remote, files, want, proxy, "exceeds 8388608 bytes", TAGS)
    deadline = time.monotonic() + 10
    while not proxy.streamed and time.monotonic() < deadline:
        time.sleep(0.1)
    assert proxy.streamed, "the proxy never saw the client hang up"
    assert proxy.streamed[0] < total // 2, proxy.streamed


def test_invalid_json_tag_list(registry_server, proxies, make_remote, make_agent):
    proxy = proxies(fault=Faults(TAGS, {"status": 200, "body": b'{"name":"app/web","tags":["1.',
                                        "headers": {"Content-Type": "application/json"}}))
    agent, remote, files, want = setup_two(registry_server, make_remote, make_agent, proxy)
    r = agent.once()
    assert_only_web_failed(r, remote, files, want, proxy, TAGS)


def test_tag_list_that_is_not_json(registry_server, proxies, make_remote, make_agent):
    proxy = proxies(fault=Faults(TAGS, {"status": 200, "body": b"<html>maintenance</html>",
                                        "headers": {"Content-Type": "text/html"}}))
    agent, remote, files, want = setup_two(registry_server, make_remote, make_agent, proxy)
    r = agent.once()
    assert_only_web_failed(r, remote, files, want, proxy, TAGS,
                           "is not JSON (Content-Type: text/html)")


def test_wrong_digest_header_on_manifest_get(registry_server, proxies, make_remote,
                                             make_agent):
    wrong = "sha256:" + "0" * 64
    proxy = proxies(fault=Faults(f"/v2/{WEB}/manifests/",
                                 {"headers": {"Docker-Content-Digest": wrong}}, method="GET"))
    agent, remote, files, want = setup_two(registry_server, make_remote, make_agent, proxy)
    r = agent.once()
    assert any(m == "GET" and f"/v2/{WEB}/manifests/" in p for (m, p, _) in proxy.recorded()), \
        "test bug: the agent never GETs a manifest of the repository"
    assert_only_web_failed(r, remote, files, want, proxy, f"the registry says {wrong}")


def test_low_rate_limit_is_logged(registry_server, proxies, make_remote, make_agent):
    hdrs = {"ratelimit-limit": "100;w=21600", "ratelimit-remaining": "4;w=21600"}
    proxy = proxies(fault=Faults(f"/v2/{WEB}/manifests/", {"headers": hdrs}))
    agent, remote, files, want = setup_two(registry_server, make_remote, make_agent, proxy)
    r = agent.once()
    assert r.code == 0, str(r)
    warn = [e for e in r.logs() if e.get("msg") == "registry rate limit nearly used up"]
    assert len(warn) == 1, str(r)
    assert warn[0].get("level") == "warn", warn
    assert (warn[0].get("registry"), warn[0].get("remaining"), warn[0].get("limit")) == \
        (proxy.host, "4", "100"), warn


# ---- pagination ---------------------------------------------------------------

def test_pagination_of_1000_tags_with_413_for_large_n(registry_server, proxies, make_remote,
                                                      make_agent):
    reg = registry_server
    digest = push_image(reg, WEB, "1.0.0")
    client = reg.client()
    data, mt, _ = client.get_manifest(WEB, "1.0.0")
    tags = [f"1.0.{i}" for i in range(1, 1050)]
    for t in tags:
        client.put_manifest(WEB, t, data, mt)
    proxy = proxies(tag_page_size=300, max_n=300)
    old = proxy.ref(WEB, "1.0.0")
    before = compose_site(old, policy="semver", range="^1.0").encode()
    remote = make_remote({WEB_FILE: before})
    r = make_agent(remote, proxy.host).once()
    assert r.code == 0, str(r)
    # 1.0.1049 sorts lexically before 1.0.999: only a client that read every
    # page finds it
    assert remote.show(WEB_FILE) == replaced_once(before, old,
                                                  proxy.ref(WEB, "1.0.1049", digest))
    lists = [(p, s) for (m, p, s) in proxy.recorded() if m == "GET" and TAGS in p]
    assert lists[:3] == [(f"{TAGS}?n=1000", 413), (f"{TAGS}?n=500", 413),
                         (f"{TAGS}?n=250", 200)], lists
    assert all(s == 200 for _, s in lists[2:]), lists
    assert len(lists[2:]) == 5, lists  # 1,050 tags in pages of 250
    assert all("n=250" in p for p, _ in lists[2:]), lists

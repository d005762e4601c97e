"""/healthz and /metrics on MD_LISTEN: promtool-clean metrics, a real
Prometheus scraping the agent, the health window (3 × MD_INTERVAL) tracking
a registry outage, and hostile clients that must not disturb the loop."""
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.error

import pytest

from mdtest import net
from mdtest.compose import compose_site
from mdtest.images import push_tags
from mdtest.sdsock import RunDaemon

WEB = "app/web"
COMPOSE = "stacks/web/compose.yaml"


def get(url, method="GET", timeout=5):
    """(status, headers, body) without raising on HTTP errors."""
    import urllib.request

    req = urllib.request.Request(url, method=method)
    try:
        with net.opener().open(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def health(base):
    code, _, body = get(base + "/healthz")
    return code, json.loads(body)


def wait_until(pred, timeout=30, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = pred()
            if last:
                return last
        except (OSError, ValueError) as e:
            last = e
        time.sleep(0.1)
    raise AssertionError(f"no {what} after {timeout}s (last: {last!r})")


def metric(text, sample):
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


@pytest.fixture
def agent_up(registry_server, make_remote, make_agent):
    """A daemon with the endpoint on a free port; yields (daemon, base URL, agent)."""
    started = []

    def start(registry=None, interval="1h", **settings):
        reg = registry or registry_server
        push_tags(registry_server, WEB, ["1.0.0", "1.1.0"])
        remote = make_remote({COMPOSE: compose_site(reg.ref(WEB, "1.0.0"), policy="semver",
                                                    range="^1.0").encode()})
        port = net.free_port()
        agent = make_agent(remote, reg.host, MD_INTERVAL=interval,
                           MD_LISTEN=f"127.0.0.1:{port}", **settings)
        d = RunDaemon(agent)
        started.append(d)
        base = f"http://127.0.0.1:{port}"
        net.wait_http(base + "/healthz", ok=(200, 503), alive=d.alive)
        return d, base, remote

    yield start
    for d in started:
        d.kill()


def test_metrics_pass_promtool_and_count_the_cycle(agent_up):
    d, base, remote = agent_up()
    text = wait_until(lambda: (lambda t: t if 'magos_cycles_total{result="success"} 1' in t
                               else None)(get(base + "/metrics")[2].decode()),
                      what="first cycle in /metrics")
    code, headers, _ = get(base + "/metrics")
    assert code == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")

    promtool = shutil.which("promtool")
    if promtool:
        p = subprocess.run([promtool, "check", "metrics"], input=text.encode(),
                           capture_output=True, timeout=60)
        assert p.returncode == 0 and p.stderr == b"", (p.returncode, p.stderr, text)

    assert metric(text, "magos_images_watched") == 1
    assert metric(text, 'magos_updates_total{result="pushed"}') == 1
    assert metric(text, 'magos_git_pushes_total{result="success"}') == 1
    assert metric(text, "magos_cycle_duration_seconds_count") == 1
    assert metric(text, 'magos_cycle_duration_seconds_bucket{le="+Inf"}') == 1
    assert metric(text, "magos_last_success_timestamp_seconds") > 1.6e9
    assert metric(text, "process_resident_memory_bytes") > 0
    assert metric(text, "process_start_time_seconds") > 1.6e9
    assert 'magos_build_info{version="' in text
    assert any(line.startswith("magos_registry_requests_total{host=\"127.0.0.1:")
               and 'code="2xx"' in line for line in text.splitlines()), text

    code, _, body = get(base + "/healthz")
    assert code == 200
    h = json.loads(body)
    assert h["status"] == "ok" and h["cycles"] == 1 and h["last_result"] == "success"

    # HEAD works without a body; other methods and paths do not.
    code, _, body = get(base + "/metrics", method="HEAD")
    assert (code, body) == (200, b"")
    code, headers, _ = get(base + "/metrics", method="POST")
    assert code == 405 and headers["Allow"] == "GET, HEAD"
    assert get(base + "/")[0] == 404
    assert get(base + "/metrics/x")[0] == 404
    assert d.stop() == 0


def test_prometheus_scrapes_the_agent(agent_up, tmp_path):
    prom = shutil.which("prometheus")
    if not prom:
        pytest.skip("prometheus not installed")
    d, base, _ = agent_up()
    target = base.split("//", 1)[1]
    cfg = tmp_path / "prometheus.yml"
    cfg.write_text("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                   "scrape_configs:\n  - job_name: magos\n    static_configs:\n"
                   f"      - targets: ['{target}']\n")
    port = net.free_port()
    log = open(tmp_path / "prometheus.log", "wb")
    p = subprocess.Popen([prom, f"--config.file={cfg}", f"--storage.tsdb.path={tmp_path}/tsdb",
                          f"--web.listen-address=127.0.0.1:{port}"],
                         stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/api/v1/query?query=up"

        def up():
            code, _, body = get(url)
            if code != 200:
                return None
            res = json.loads(body)["data"]["result"]
            return res if res and res[0]["value"][1] == "1" else None

        res = wait_until(up, timeout=60, what="up == 1")
        assert res[0]["metric"]["job"] == "magos"

        def scraped():
            code, _, body = get(f"http://127.0.0.1:{port}/api/v1/query?"
                                "query=magos_cycles_total")
            res = json.loads(body)["data"]["result"] if code == 200 else []
            return res or None

        assert {r["metric"]["result"] for r in wait_until(scraped, what="magos series")} == \
            {"success", "problems", "failure"}
    finally:
        p.terminate()
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        log.close()
    assert d.stop() == 0


def test_healthz_follows_a_registry_outage(registry_server, agent_up, make_proxy):
    """MD_INTERVAL=1s: the window is 3 s. A registry answering 503 makes
    every cycle fail; /healthz turns 503 with the reason, and 200 again
    once the registry is back."""
    down = threading.Event()
    proxy = make_proxy(registry_server)
    proxy.fault = lambda method, path: {"status": 503} if down.is_set() else None
    d, base, _ = agent_up(registry=proxy, interval="1s")
    wait_until(lambda: health(base)[1].get("last_result") == "success", what="a success")
    assert health(base)[0] == 200

    down.set()
    code, h = wait_until(lambda: (lambda r: r if r[0] == 503 else None)(health(base)),
                         timeout=45, what="503")
    assert h["status"] == "unhealthy"
    assert "last successful cycle" in h["reason"], h

    down.clear()
    code, h = wait_until(lambda: (lambda r: r if r[0] == 200 else None)(health(base)),
                         timeout=45, what="200 again")
    assert h["status"] == "ok" and h["last_result"] == "success"
    assert d.stop() == 0


def raw(port, data, read=True, timeout=3):
    """Send raw bytes; → what came back (b"" when the server closed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
            if not read:
                return b""
            out = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return out
                out += chunk
        except OSError:
            return b""


def test_hostile_clients_do_not_disturb_the_loop(agent_up):
    d, base, _ = agent_up(interval="1s")
    port = int(base.rsplit(":", 1)[1])
    wait_until(lambda: health(base)[1]["cycles"] >= 1, what="first cycle")
    cycles_before = health(base)[1]["cycles"]

    # Slowloris-ish: connections that send half a request and stall.
    stalled = []
    for _ in range(20):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=3)
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            stalled.append(s)
        except OSError:
            pass

    results = []
    lock = threading.Lock()

    def client(i):
        kind = i % 5
        try:
            if kind == 0:
                r = get(base + "/healthz")[0]
            elif kind == 1:
                r = get(base + f"/nope/{i}")[0]
            elif kind == 2:
                r = get(base + "/metrics", method="POST")[0]
            elif kind == 3:
                r = raw(port, os.urandom(512) + b"\r\n\r\n")[:12]
            else:
                r = raw(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " +
                        b"a" * 200000 + b"\r\n\r\n")[:12]
        except OSError as e:
            r = type(e).__name__
        with lock:
            results.append((kind, r))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 100
    for kind, r in results:
        # Refused or answered, but never a wrong answer.
        if kind == 1 and isinstance(r, int):
            assert r == 404
        if kind == 2 and isinstance(r, int):
            assert r == 405
        if kind == 0 and isinstance(r, int):
            assert r == 200
        if kind == 4 and r:
            assert r.startswith(b"HTTP/1.1 4"), r
    for s in stalled:
        s.close()

    # The loop kept going and the endpoint still answers.
    assert d.alive()
    wait_until(lambda: health(base)[1]["cycles"] >= cycles_before + 3, timeout=30,
               what="more cycles")
    code, h = health(base)
    assert code == 200 and h["status"] == "ok"
    assert d.stop() == 0


class SlowClients:
    """A slowloris attacker on 127.0.0.1 (the address Prometheus scrapes
    from): `dribblers` connections that send one byte of a request every
    second and `silent` ones that send nothing. While `refill` is set, every
    connection the server closes is replaced by a new one, so the attacker
    keeps holding the same number of sockets."""

    REQUEST = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 4000

    def __init__(self, port, dribblers, silent):
        self.port = port
        self.refill = threading.Event()
        self.refill.set()
        self.closed_by_server = 0
        self.lock = threading.Lock()
        self.socks = []  # [socket, bytes sent or None for a silent one]
        self._stop = threading.Event()
        for i in range(dribblers + silent):
            self._open(0 if i < dribblers else None)
        self.first = [s for s, _ in self.socks]
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _open(self, sent):
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=1)
        except OSError:
            return
        s.setblocking(False)
        self.socks.append([s, sent])

    @staticmethod
    def _server_closed(s):
        try:
            while True:
                data = s.recv(65536)
                if not data:
                    return True
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True

    def _tick(self):
        with self.lock:
            old, self.socks = self.socks, []
            for s, sent in old:
                if sent is not None and not self._server_closed(s):
                    try:
                        s.send(self.REQUEST[sent % len(self.REQUEST):][:1])
                        sent += 1
                    except OSError:
                        pass
                if not self._server_closed(s):
                    self.socks.append([s, sent])
                    continue
                s.close()
                self.closed_by_server += 1
                if self.refill.is_set():
                    self._open(sent if sent is None else 0)

    def _run(self):
        while not self._stop.wait(1.0):
            self._tick()

    def open_originals(self):
        with self.lock:
            return [s for s in self.first if s.fileno() >= 0]

    def close(self):
        self._stop.set()
        self._thread.join(timeout=10)
        with self.lock:
            for s, _ in self.socks:
                s.close()


def test_slow_clients_cannot_hold_the_endpoint_unreachable(agent_up):
    """Slowloris from the scraper's own address: 64 sockets dribbling a
    header byte a second and 16 silent ones, replaced as soon as the server
    drops them. A scrape with the client's usual 5 s timeout is answered
    every time, and the server closes every slow socket by itself even
    though the dribblers are never idle for long."""
    d, base, _ = agent_up()
    port = int(base.rsplit(":", 1)[1])
    wait_until(lambda: health(base)[1]["cycles"] >= 1, what="first cycle")

    attack = SlowClients(port, dribblers=64, silent=16)
    try:
        for _ in range(6):
            code, headers, body = get(base + "/metrics", timeout=5)
            assert code == 200, code
            assert b"magos_build_info{" in body
            assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
            code, h = health(base)
            assert code == 200 and h["status"] == "ok", h
            time.sleep(1)

        # Stop replacing them: the sockets still open, dribbling or silent,
        # must all be closed by the server, not by this test.
        attack.refill.clear()
        wait_until(lambda: not attack.open_originals() and not attack.socks, timeout=60,
                   what="the server closing every slow socket")
        assert attack.closed_by_server >= 80
    finally:
        attack.close()
    assert d.alive()
    assert get(base + "/healthz", timeout=5)[0] == 200
    assert d.stop() == 0

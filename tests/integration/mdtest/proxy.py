"""A recording, hookable HTTP proxy in front of a registry (Flask on 127.0.0.1).

The agent is pointed at the proxy's host:port instead of the registry's; the
proxy forwards every request verbatim (method, path, query, body, headers
except Host) and returns the upstream answer verbatim. `hook(method, path)`
runs before forwarding, e.g. to move the Git remote at the worst moment.

docker-registry 2.8 ignores `n`/`last` on tag lists and never paginates;
with `tag_page_size=N` the proxy paginates them itself as the distribution
spec describes (lexical order, `n`, `last`, a relative `Link: <...>;
rel="next"` while more remain), so clients' Link handling can be tested.
With `max_n=N` a tag list asking for more than N tags per page is refused
with 413, as Quay does.

`fault(method, path)` injects registry misbehaviour: it returns None (pass
through) or a dict, see Fault below.

With `basic_auth=(user, password)` every request must carry those Basic
credentials, else 401 with a Basic challenge, as a registry behind an
authenticating reverse proxy; the Authorization header is not forwarded.

`delay(method, path)` returns seconds to hold a request before answering it
(0 or None: none). The server is threaded: `in_flight` is the number of
requests being answered right now and `max_in_flight` the most seen at once
(reset with `reset_in_flight()`), to test client concurrency."""
import base64
import json
import threading
import time
import urllib.parse
import urllib.error
import urllib.request

from flask import Flask, Response, request

from . import net

_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
        "proxy-authorization", "proxy-authenticate", "host", "content-length"}


class RegistryProxy:
    def __init__(self, upstream_url, hook=None, ssl_context=None, tag_page_size=None,
                 fault=None, max_n=None, delay=None, basic_auth=None):
        self.upstream = upstream_url.rstrip("/")
        self.basic_auth = None
        if basic_auth:
            raw = "%s:%s" % tuple(basic_auth)
            self.basic_auth = "Basic " + base64.b64encode(raw.encode()).decode()
        self.hook = hook
        self.tag_page_size = tag_page_size
        self.fault = fault
        self.max_n = max_n
        self.delay = delay
        self.in_flight = 0
        self.max_in_flight = 0
        self.streamed = []  # bytes sent of each streamed body, once the client stopped
        self.requests = []  # (method, path with query, status)
        self._lock = threading.Lock()
        self._opener = net.opener(ssl_context)
        self._server = net.WSGIThread(self._app())
        self.port = self._server.port
        self.host = f"{net.LOOPBACK}:{self.port}"
        self.url = self._server.url

    def stop(self):
        self._server.stop()

    def reset_in_flight(self):
        with self._lock:
            self.max_in_flight = self.in_flight

    def _enter(self):
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self):
        with self._lock:
            self.in_flight -= 1

    def recorded(self):
        with self._lock:
            return list(self.requests)

    def ref(self, repo, tag=None, digest=None):
        s = f"{self.host}/{repo}"
        if tag:
            s += f":{tag}"
        if digest:
            s += f"@{digest}"
        return s

    def _forward(self, method, full_path, body, headers):
        req = urllib.request.Request(self.upstream + full_path, data=body or None, method=method)
        for k, v in headers:
            if k.lower() not in _HOP and not (self.basic_auth and k.lower() == "authorization"):
                req.add_header(k, v)
        try:
            with self._opener.open(req, timeout=30) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def _app(self):
        app = Flask("magos-registry-proxy")

        @app.route("/", defaults={"path": ""}, methods=["GET", "HEAD", "POST", "PUT", "PATCH",
                                                        "DELETE"])
        @app.route("/<path:path>", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
        def proxy(path):
            self._enter()
            try:
                full = request.full_path if request.query_string else request.path
                if self.delay is not None:
                    time.sleep(self.delay(request.method, full) or 0)
                return answer(full)
            finally:
                self._leave()

        def answer(full):
            if self.basic_auth and request.headers.get("Authorization") != self.basic_auth:
                with self._lock:
                    self.requests.append((request.method, full, 401))
                resp = Response(b"" if request.method == "HEAD" else b"{}", status=401)
                resp.headers["WWW-Authenticate"] = 'Basic realm="registry"'
                return resp
            if self.hook is not None:
                self.hook(request.method, full)
            f = self.fault(request.method, full) if self.fault is not None else None
            if f and f.get("delay"):
                time.sleep(f["delay"])
            if f and "status" in f:
                return self._fault_response(request.method, full, f)
            if self.max_n and request.method == "GET" and request.path.endswith("/tags/list") \
                    and int(request.args.get("n") or 0) > self.max_n:
                status, hdrs, data = 413, _Headers({"Content-Type": "application/json"}), \
                    b'{"errors":[{"code":"PAGINATION_NUMBER_INVALID","message":"n too large"}]}'
            elif self.tag_page_size and request.method == "GET" and \
                    request.path.endswith("/tags/list"):
                status, hdrs, data = self._tag_page(request.path, request.args,
                                                    list(request.headers.items()))
            else:
                status, hdrs, data = self._forward(request.method, full, request.get_data(),
                                                   list(request.headers.items()))
            if f and "body" in f:
                data = f["body"]
                hdrs = _Headers({k: v for k, v in hdrs.items() if k.lower() != "content-length"})
                hdrs["Content-Length"] = str(len(data))
            with self._lock:
                self.requests.append((request.method, full, status))
            resp = Response(b"" if request.method == "HEAD" else data, status=status)
            for k, v in hdrs.items():
                if k.lower() not in _HOP and k.lower() not in \
                        {h.lower() for h in (f or {}).get("headers", {})}:
                    resp.headers.add(k, v)
            for k, v in (f or {}).get("headers", {}).items():
                resp.headers[k] = v
            # After set_data: keep upstream's length (HEAD answers have no body).
            if hdrs.get("Content-Length") is not None:
                resp.headers["Content-Length"] = hdrs["Content-Length"]
            return resp

        return app

    def _fault_response(self, method, full, f):
        """Answer without asking upstream: f["status"], f["headers"], and
        f["body"] (bytes) or f["stream"] (that many bytes, sent in chunks
        with no Content-Length, so only the client's own cap stops it)."""
        with self._lock:
            self.requests.append((method, full, f["status"]))
        if "stream" in f:
            total = f["stream"]

            def gen():
                sent, chunk = 0, b" " * 65536
                try:
                    yield b'{"tags":['
                    while sent < total:
                        yield chunk
                        sent += len(chunk)
                finally:
                    with self._lock:
                        self.streamed.append(sent)

            resp = Response(gen(), status=f["status"])
        else:
            resp = Response(b"" if method == "HEAD" else f.get("body", b""), status=f["status"])
        for k, v in f.get("headers", {}).items():
            resp.headers[k] = v
        return resp


    def _tag_page(self, path, args, headers):
        status, hdrs, data = self._forward("GET", path, b"", headers)
        if status != 200:
            return status, hdrs, data
        body = json.loads(data)
        tags = sorted(body.get("tags") or [])
        last = args.get("last")
        if last is not None:
            tags = [t for t in tags if t > last]
        n = min(int(args.get("n") or self.tag_page_size), self.tag_page_size)
        page, more = tags[:n], len(tags) > n
        out = json.dumps({"name": body.get("name"), "tags": page}).encode()
        h = {"Content-Type": "application/json; charset=utf-8",
             "Content-Length": str(len(out))}
        if more and page:
            q = urllib.parse.urlencode({"n": n, "last": page[-1]})
            h["Link"] = f'<{path}?{q}>; rel="next"'
        return 200, _Headers(h), out


class _Headers(dict):
    def get(self, k, default=None):
        for key, v in self.items():
            if key.lower() == k.lower():
                return v
        return default


class OnceHook:
    """Call `action()` exactly once, on the first request whose path contains
    `needle` (e.g. "/tags/list"), before it is forwarded."""

    def __init__(self, needle, action):
        self.needle = needle
        self.action = action
        self.fired = False
        self.error = None
        self._lock = threading.Lock()

    def __call__(self, method, path):
        with self._lock:
            if self.fired or self.needle not in path:
                return
            self.fired = True
            try:
                self.action()
            except Exception as e:  # surfaced by the test, not swallowed
                self.error = e
                raise

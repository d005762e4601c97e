"""Git smart HTTP on 127.0.0.1: `git http-backend` run as a CGI per request.

Request bodies are streamed into the CGI (chunked bodies are de-chunked and
the CGI reads to EOF; `Content-Encoding: gzip` is passed through as
HTTP_CONTENT_ENCODING, which http-backend inflates itself). Responses are
streamed back with chunked transfer encoding. Optional Basic auth sets
REMOTE_USER. Every request is recorded as a GitRequest."""
import base64
import http.server
import os
import subprocess
import threading
import urllib.parse

from . import net

HTTP_BACKEND = "/usr/lib/git-core/git-http-backend"


class GitRequest:
    def __init__(self, method, path, query, user, transfer_encoding, content_encoding, agent):
        self.method, self.path, self.query, self.user = method, path, query, user
        self.transfer_encoding = transfer_encoding
        self.content_encoding = content_encoding
        self.agent = agent

    def __repr__(self):
        return (f"GitRequest({self.method} {self.path}?{self.query} user={self.user!r} "
                f"te={self.transfer_encoding!r} ce={self.content_encoding!r} ua={self.agent!r})")


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "magos-test-git/1"

    def log_message(self, fmt, *args):  # keep pytest output quiet
        pass

    def do_GET(self):
        self._cgi()

    def do_POST(self):
        self._cgi()

    def _user(self):
        creds = self.server.owner.credentials
        if not creds:
            return True, ""
        h = self.headers.get("Authorization", "")
        if h.startswith("Basic "):
            try:
                user, _, pw = base64.b64decode(h[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return False, None
            if (user, pw) == tuple(creds):
                return True, user
        return False, None

    def _body_chunks(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return
                yield self.rfile.read(size)
                self.rfile.readline()
        else:
            left = int(self.headers.get("Content-Length") or 0)
            while left > 0:
                data = self.rfile.read(min(left, 65536))
                if not data:
                    return
                left -= len(data)
                yield data

    def _cgi(self):
        ok, user = self._user()
        path, _, query = self.path.partition("?")
        req = GitRequest(self.command, urllib.parse.unquote(path), query, user,
                         self.headers.get("Transfer-Encoding", ""),
                         self.headers.get("Content-Encoding", ""),
                         self.headers.get("User-Agent", ""))
        self.server.owner._record(req)
        if ok and self.server.owner.hook is not None:
            self.server.owner.hook(req)
        if not ok:
            self.close_connection = True  # the unread body would poison keep-alive
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="magos-test-git"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        env = {"PATH": "/usr/bin:/bin", "GIT_PROJECT_ROOT": self.server.owner.root,
               "GIT_HTTP_EXPORT_ALL": "1", "GIT_CONFIG_NOSYSTEM": "1",
               "HOME": self.server.owner.root, "PATH_INFO": urllib.parse.unquote(path),
               "QUERY_STRING": query, "REQUEST_METHOD": self.command,
               "CONTENT_TYPE": self.headers.get("Content-Type", ""),
               "REMOTE_ADDR": self.client_address[0], "REMOTE_USER": user or "",
               "SERVER_PROTOCOL": "HTTP/1.1", "GATEWAY_INTERFACE": "CGI/1.1"}
        if self.headers.get("Content-Length") and "chunked" not in self.headers.get(
                "Transfer-Encoding", "").lower():
            env["CONTENT_LENGTH"] = self.headers["Content-Length"]
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        proc = subprocess.Popen([HTTP_BACKEND], env=env, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

        def feed():
            try:
                for chunk in self._body_chunks():
                    proc.stdin.write(chunk)
            except (BrokenPipeError, ValueError):
                pass
            finally:
                try:
                    proc.stdin.close()
                except BrokenPipeError:
                    pass

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        try:
            self._relay(proc)
        finally:
            feeder.join(timeout=30)
            proc.stdout.close()
            proc.wait(timeout=30)

    def _relay(self, proc):
        status, headers = 200, []
        while True:
            line = proc.stdout.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            k, _, v = line.decode("latin-1").rstrip("\r\n").partition(":")
            if k.lower() == "status":
                status = int(v.strip().split()[0])
            else:
                headers.append((k, v.strip()))
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(k, v)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        while True:
            data = proc.stdout.read1(65536)
            if not data:
                break
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


class GitHTTPServer:
    """Serve every bare repository under `root` at http://127.0.0.1:<port>/<name>.git."""

    def __init__(self, root, credentials=None, hook=None, tls=None, host=net.LOOPBACK):
        """`hook(GitRequest)`, if set, runs before each request is served (e.g.
        to move a branch right before a client reads the advertisement).
        `tls=(cert_file, key_file)` serves HTTPS instead of HTTP. `host` is the
        name put in URLs (the server always binds 127.0.0.1): "localhost"
        lets TLS clients match a DNS SAN instead of an IP SAN."""
        self.root = str(root)
        self.credentials = credentials
        self.hook = hook
        self.requests = []
        self._lock = threading.Lock()
        self._server = _Server((net.LOOPBACK, 0), _Handler)
        self._server.owner = self
        if tls:
            import ssl
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self._server.socket = ctx.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self.url = f"{'https' if tls else 'http'}://{host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _record(self, req):
        with self._lock:
            self.requests.append(req)

    def recorded(self):
        with self._lock:
            return list(self.requests)

    def url_for(self, remote):
        """URL of a gitutil.Remote living under root; also sets remote.url."""
        rel = os.path.relpath(remote.path, self.root)
        if rel.startswith(".."):
            raise ValueError(f"{remote.path} is not under {self.root}")
        remote.url = f"{self.url}/{rel}"
        return remote.url

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

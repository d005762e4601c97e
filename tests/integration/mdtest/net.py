"""Loopback networking helpers: free ports, readiness polling, HTTP without proxies."""
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request

LOOPBACK = "127.0.0.1"


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def opener(ssl_context=None):
    """A urllib opener that never consults *_proxy variables (hermetic tests)."""
    handlers = [urllib.request.ProxyHandler({})]
    if ssl_context is not None:
        handlers.append(urllib.request.HTTPSHandler(context=ssl_context))
    return urllib.request.build_opener(*handlers)


def wait_http(url, ssl_context=None, timeout=15.0, ok=(200, 401), alive=None):
    """Poll `url` until it answers with one of `ok` statuses.

    `alive` is an optional callable returning False once the server process
    died, so a crashed server fails fast instead of after the timeout."""
    op = opener(ssl_context)
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            raise RuntimeError(f"server for {url} exited during startup")
        try:
            with op.open(url, timeout=2) as resp:
                if resp.status in ok:
                    return
                last = resp.status
        except urllib.error.HTTPError as e:
            if e.code in ok:
                return
            last = e.code
        except (OSError, ssl.SSLError) as e:
            last = e
        time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer in {timeout}s (last: {last})")


class WSGIThread:
    """Serve a WSGI app (Flask) from a thread on 127.0.0.1:<free port>."""

    def __init__(self, app, ssl_context=None):
        import logging

        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no per-request lines
        self._server = make_server(LOOPBACK, 0, app, threaded=True, ssl_context=ssl_context)
        self.port = self._server.server_port
        scheme = "https" if ssl_context else "http"
        self.url = f"{scheme}://{LOOPBACK}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self):
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

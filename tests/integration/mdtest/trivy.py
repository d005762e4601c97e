#!/usr/bin/python3
"""A stand-in for the `trivy` executable (and a stand-in `trivy server`).

Trivy is not packaged for Debian 12 and cannot be fetched in the test
environment, so the tests run this script in its place. It answers with
Trivy's own JSON reports, read where they are in ../shared/fixtures/trivy/
(Trivy's integration goldens, never copied into this repository), chosen by
the image it is asked to scan. The only fields it writes itself are the two
Trivy derives from its argument when it scans a remote image: ArtifactName
(the argument as given) and Metadata.RepoDigests (repository@digest, Docker
Hub names in their short form). Everything else is Trivy's output as Trivy
wrote it. It records every call (argv, environment, working directory, the
Docker config it was given) so tests can assert the exact invocation.

Set up by a test (see TrivyStandin below): a directory holding a symlink
`trivy` to this file and `standin.json` beside it:

  {"fixtures": "/abs/path/to/shared/fixtures/trivy",
   "record": "/abs/path/calls.jsonl",
   "images": {"<name>@<digest>" or "<digest>":
                 {"report": "alpine-39.json.golden", "mode": "ok"}},
   "version": {...}, "version_mode": "ok"}

Image modes: ok, other-artifact (the golden verbatim: a report for the
image tarball Trivy's own tests scanned, not for what was asked), garbage
(not JSON), empty (nothing), fail (Trivy's FATAL line, exit 1), crash (half
a report, then SIGSEGV), hang (starts a child that sleeps, writes its pid to
hang.pid, then sleeps itself: only a process-group kill ends both), huge
(a valid report of more than 50 MB built from the golden's entries),
exit1 (the report, then exit status 1 as with --exit-code 1).
An image not in the map gets Trivy's error for a missing image (exit 1).

`trivy version --format json` prints "version" (version_mode: ok, garbage,
fail). `trivy server --listen 127.0.0.1:0 [--token T]` serves /healthz,
/version and the scan RPC on 127.0.0.1, writing its port to server.port;
in client mode (`image --server URL`) the stand-in asks that server for the
report, sending TRIVY_TOKEN in the Trivy-Token header as Trivy does, so a
wrong or missing token fails the scan.
"""

import json
import os
import signal
import sys
import time

# subprocess, threading, urllib and http.server are imported where they are
# needed: every scan starts this script, and on a loaded test machine each
# import is felt.

PARENT = os.getppid()  # first thing: see exit_with_parent
HERE = os.path.dirname(os.path.abspath(sys.argv[0])) if __name__ == "__main__" else None
SCAN_PATH = "/twirp/trivy.scanner.v1.Scanner/Scan"
HUGE_BYTES = 50 * 1000 * 1000 + 4096


def load_config(directory):
    with open(os.path.join(directory, "standin.json"), encoding="utf-8") as f:
        return json.load(f)


def record(cfg, entry):
    """Append one JSON line to the record file, in one write."""
    path = cfg.get("record")
    if not path:
        return
    line = (json.dumps(entry, sort_keys=True) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def docker_config():
    """What DOCKER_CONFIG/config.json held, and its mode, for the record."""
    d = os.environ.get("DOCKER_CONFIG")
    if not d:
        return None, None
    path = os.path.join(d, "config.json")
    try:
        st = os.stat(path)
        with open(path, encoding="utf-8") as f:
            return json.load(f), oct(st.st_mode & 0o777)
    except (OSError, ValueError) as e:
        return {"error": str(e)}, None


def fatal(msg, code=1):
    # Trivy's log line format: time, level, message (tab separated).
    t = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    sys.stderr.write(f"{t}\tFATAL\tFatal error\t{msg}\n")
    sys.stderr.flush()
    sys.exit(code)


# ---- argument parsing, as strict as cobra -------------------------------------------

VALUE_FLAGS = {"--format", "--scanners", "--image-src", "--platform", "--timeout",
               "--server", "--listen", "--token", "--token-header", "--cache-dir"}
BOOL_FLAGS = {"--quiet", "-q"}


def parse_args(args):
    flags, pos, i = {}, [], 0
    while i < len(args):
        a = args[i]
        if a in BOOL_FLAGS:
            flags[a.lstrip("-")] = True
        elif a in VALUE_FLAGS:
            if i + 1 >= len(args):
                fatal(f"flag needs an argument: {a}")
            flags[a[2:]] = args[i + 1]
            i += 1
        elif a.startswith("-"):
            sys.stderr.write(f"Error: unknown flag: {a}\n")
            sys.exit(1)
        else:
            pos.append(a)
        i += 1
    return flags, pos


# ---- reports -----------------------------------------------------------------------------

def short_repo(name):
    """The repository as Trivy writes it in RepoDigests (Docker Hub short)."""
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        if first not in ("docker.io", "index.docker.io"):
            return name
        name = rest
    return name[len("library/"):] if name.startswith("library/") else name


def lookup(cfg, ref):
    images = cfg.get("images", {})
    if ref in images:
        return images[ref]
    digest = ref.rpartition("@")[2]
    return images.get(digest)


def golden(cfg, entry):
    with open(os.path.join(cfg["fixtures"], entry["report"]), encoding="utf-8") as f:
        return json.load(f)


def for_image(report, ref):
    """The golden as a remote scan of ref would name it."""
    name, _, digest = ref.rpartition("@")
    report["ArtifactName"] = ref
    report.setdefault("Metadata", {})["RepoDigests"] = [f"{short_repo(name)}@{digest}"]
    return report


def emit(text):
    sys.stdout.write(text)
    sys.stdout.flush()


def hang(cfg, partial):
    import subprocess

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    pidfile = os.path.join(os.path.dirname(cfg["record"]), "hang.pid")
    with open(pidfile + ".tmp", "w", encoding="utf-8") as f:
        f.write(f"{child.pid}\n")
    os.rename(pidfile + ".tmp", pidfile)
    emit(partial)
    time.sleep(3600)


def huge(report):
    vulns = [v for r in report.get("Results", []) for v in r.get("Vulnerabilities", [])]
    if not vulns:
        fatal("the huge mode needs a golden with vulnerabilities")
    head = {k: v for k, v in report.items() if k != "Results"}
    text = json.dumps(head)
    # Results last: the text up to its closing brace, then the array.
    emit(text[:-1] + ', "Results": [{"Target": "huge", "Class": "os-pkgs", "Vulnerabilities": [')
    written, i = 0, 0
    while written < HUGE_BYTES:
        chunk = ("," if i else "") + ",".join(json.dumps(v) for v in vulns)
        emit(chunk)
        written += len(chunk)
        i += 1
    emit("]}]}\n")


def answer(cfg, ref, entry, server_mode=False):
    """Print what Trivy would for ref in this entry's mode; may exit."""
    mode = entry.get("mode", "ok")
    if mode == "garbage":
        emit("Trivy would never print this: not JSON\n")
        return 0
    if mode == "empty":
        return 0
    if mode == "fail":
        fatal("run error: image scan error: scan error: unable to initialize a scan service")
    report = golden(cfg, entry)
    text = json.dumps(report if mode == "other-artifact" else for_image(report, ref), indent=2)
    if mode == "crash":
        emit(text[: len(text) // 2])
        os.kill(os.getpid(), signal.SIGSEGV)
    if mode == "hang":
        hang(cfg, text[: len(text) // 3])
    if mode == "huge":
        huge(for_image(report, ref))
        return 0
    emit(text + "\n")
    return 1 if mode == "exit1" else 0


# ---- client mode -------------------------------------------------------------------------------

def scan_via_server(cfg, url, ref):
    import urllib.error
    import urllib.request

    header = os.environ.get("TRIVY_TOKEN_HEADER", "Trivy-Token")
    req = urllib.request.Request(url.rstrip("/") + SCAN_PATH, method="POST",
                                 data=json.dumps({"target": ref}).encode(),
                                 headers={"Content-Type": "application/json"})
    if os.environ.get("TRIVY_TOKEN"):
        req.add_header(header, os.environ["TRIVY_TOKEN"])
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            body = resp.read().decode()
    except urllib.error.HTTPError as e:
        msg = json.loads(e.read().decode() or "{}").get("msg", str(e))
        fatal(f"scan error: twirp error {e.code}: {msg}")
    except OSError as e:
        fatal(f"scan error: failed to connect to {url}: {e}")
    emit(body)
    return 0


def cmd_image(cfg, args):
    flags, pos = parse_args(args)
    if len(pos) != 1:
        fatal("image name is required" if not pos else f"too many arguments: {pos}")
    if flags.get("format") != "json":
        fatal("the stand-in only speaks --format json")
    ref = pos[0]
    if "server" in flags:
        return scan_via_server(cfg, flags["server"], ref)
    entry = lookup(cfg, ref)
    if entry is None:
        fatal(f"run error: image scan error: unable to find the specified image \"{ref}\"")
    return answer(cfg, ref, entry)


def cmd_version(cfg, args):
    flags, pos = parse_args(args)
    if pos or flags.get("format") != "json":
        fatal("the stand-in only answers `version --format json`")
    mode = cfg.get("version_mode", "ok")
    if mode == "garbage":
        emit("Version: 0.50.1\n")
        return 0
    if mode == "fail":
        fatal("version error")
    emit(json.dumps(cfg.get("version", {"Version": "0.50.1"})) + "\n")
    return 0


# ---- server mode -------------------------------------------------------------------------------

def cmd_server(directory, cfg, args):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    flags, _ = parse_args(args)
    host, _, port = flags.get("listen", "127.0.0.1:0").rpartition(":")
    if host not in ("127.0.0.1", "localhost"):
        fatal("the stand-in server listens on 127.0.0.1 only")
    token = flags.get("token")
    token_header = flags.get("token-header", "Trivy-Token")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def send(self, code, body, ctype="application/json"):
            data = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def note(self):
            record(load_config(directory), {"server": {
                "method": self.command, "path": self.path,
                "token": self.headers.get(token_header)}})

        def do_GET(self):
            self.note()
            if self.path == "/healthz":
                return self.send(200, "ok", "text/plain")
            if self.path == "/version":
                c = load_config(directory)
                if c.get("server_version_mode") == "missing":
                    return self.send(404, "404 page not found\n", "text/plain")
                return self.send(200, json.dumps(c.get("version", {})))
            return self.send(404, "404 page not found\n", "text/plain")

        def do_POST(self):
            self.note()
            n = int(self.headers.get("Content-Length", "0"))
            req = json.loads(self.rfile.read(n) or b"{}")
            if self.path != SCAN_PATH:
                return self.send(404, "404 page not found\n", "text/plain")
            if token and self.headers.get(token_header) != token:
                return self.send(401, json.dumps({"code": "unauthenticated",
                                                  "msg": "invalid token"}))
            c = load_config(directory)
            ref = req.get("target", "")
            entry = lookup(c, ref)
            if entry is None:
                return self.send(404, json.dumps({"code": "not_found", "msg": ref}))
            report = golden(c, entry)
            if entry.get("mode", "ok") != "other-artifact":
                report = for_image(report, ref)
            return self.send(200, json.dumps(report, indent=2) + "\n")

    srv = ThreadingHTTPServer(("127.0.0.1", int(port or 0)), Handler)
    portfile = os.path.join(directory, "server.port")
    with open(portfile + ".tmp", "w", encoding="utf-8") as f:
        f.write(f"{srv.server_address[1]}\n")
    os.rename(portfile + ".tmp", portfile)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    threading.Thread(target=exit_with_parent, args=(srv,), daemon=True).start()
    srv.serve_forever()
    return 0


def exit_with_parent(srv):
    """A test that dies must not leave its server behind (holding its
    output pipe open): stop once this process is reparented."""
    while os.getppid() == PARENT:
        time.sleep(0.2)
    srv.shutdown()


def main():
    cfg = load_config(HERE)
    docker_cfg, docker_mode = docker_config()
    record(cfg, {"argv": sys.argv[1:], "env": dict(os.environ), "cwd": os.getcwd(),
                 "cwd_files": sorted(os.listdir(".")), "docker_config": docker_cfg,
                 "docker_config_mode": docker_mode, "pid": os.getpid(),
                 "pgid": os.getpgid(0)})
    if len(sys.argv) < 2:
        fatal("no command")
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "image":
        return cmd_image(cfg, args)
    if cmd == "version":
        return cmd_version(cfg, args)
    if cmd == "server":
        return cmd_server(HERE, cfg, args)
    sys.stderr.write(f"Error: unknown command \"{cmd}\" for \"trivy\"\n")
    return 1


# ---- for tests written in Python -----------------------------------------------------------------

class TrivyStandin:
    """Sets up the stand-in in directory: `trivy` (a symlink to this file)
    and standin.json. Use .path as the executable, .calls() for the record."""

    def __init__(self, directory, fixtures, images=None, version=None, **extra):
        self.dir = os.path.abspath(str(directory))
        os.makedirs(self.dir, exist_ok=True)
        self.path = os.path.join(self.dir, "trivy")
        self.record = os.path.join(self.dir, "calls.jsonl")
        if not os.path.lexists(self.path):
            os.symlink(os.path.abspath(__file__), self.path)
        self.cfg = {"fixtures": os.path.abspath(str(fixtures)), "record": self.record,
                    "images": images or {}, "version": version or {}, **extra}
        self.save()

    def save(self):
        with open(os.path.join(self.dir, "standin.json"), "w", encoding="utf-8") as f:
            json.dump(self.cfg, f)

    def calls(self):
        if not os.path.exists(self.record):
            return []
        with open(self.record, encoding="utf-8") as f:
            return [json.loads(line) for line in f if line.strip()]


if __name__ == "__main__":
    sys.exit(main())

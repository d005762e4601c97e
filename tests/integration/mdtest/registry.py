"""A real docker-registry (distribution 2.8) on 127.0.0.1 and an HTTP client for it."""
import base64
import json
import os
import re
import secrets
import subprocess
import urllib.error
import urllib.parse
import urllib.request

from . import net

REGISTRY_BIN = "/usr/bin/docker-registry"

MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
ACCEPT = ", ".join([MT_OCI_INDEX, "application/vnd.docker.distribution.manifest.list.v2+json",
                    MT_OCI_MANIFEST, "application/vnd.docker.distribution.manifest.v2+json"])


def _yaml_str(s):
    return json.dumps(str(s))  # a JSON string is a valid YAML double-quoted scalar


class Registry:
    """docker-registry serving plain HTTP (default), TLS (`tls=(cert, key)`) or
    token auth (`token=TokenService`). Stop it with stop() (terminate, then kill)."""

    def __init__(self, directory, tls=None, token=None, ca_file=None, credentials=None):
        os.makedirs(directory, exist_ok=True)
        self.dir = directory
        self.tls = tls
        self.token = token
        self.ca_file = ca_file
        self.credentials = credentials  # (user, password) the client helpers use
        self.proc = None
        self.log_file = os.path.join(directory, "registry.log")
        last = None
        for _ in range(3):  # a free port can be taken between probe and bind
            self.port = net.free_port()
            self.host = f"{net.LOOPBACK}:{self.port}"
            self.url = f"{'https' if tls else 'http'}://{self.host}"
            try:
                self._start()
                return
            except (RuntimeError, TimeoutError) as e:
                last = e
                self.stop()
        raise RuntimeError(f"docker-registry did not start: {last}\n{self.log()}")

    def _config(self):
        lines = [
            "version: 0.1",
            "log:",
            "  level: warn",
            "  accesslog:",
            "    disabled: true",
            "storage:",
            "  filesystem:",
            f"    rootdirectory: {_yaml_str(os.path.join(self.dir, 'data'))}",
            "  delete:",
            "    enabled: true",
            "  maintenance:",
            "    uploadpurging:",
            "      enabled: false",
            "http:",
            f"  addr: {_yaml_str(self.host)}",
            f"  secret: {_yaml_str(secrets.token_hex(16))}",
        ]
        if self.tls:
            lines += ["  tls:", f"    certificate: {_yaml_str(self.tls[0])}",
                      f"    key: {_yaml_str(self.tls[1])}"]
        if self.token:
            lines += ["auth:", "  token:",
                      f"    realm: {_yaml_str(self.token.realm)}",
                      f"    service: {_yaml_str(self.token.service)}",
                      f"    issuer: {_yaml_str(self.token.issuer)}",
                      f"    rootcertbundle: {_yaml_str(self.token.cert_file)}"]
        return "\n".join(lines) + "\n"

    def _start(self):
        cfg = os.path.join(self.dir, "config.yml")
        with open(cfg, "w") as f:
            f.write(self._config())
        log = open(self.log_file, "ab")
        try:
            self.proc = subprocess.Popen([REGISTRY_BIN, "serve", cfg], stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log, env={"PATH": "/usr/bin:/bin"},
                                         start_new_session=True)
        finally:
            log.close()
        net.wait_http(self.url + "/v2/", ssl_context=self.ssl_context(),
                      alive=lambda: self.proc.poll() is None)

    def ssl_context(self):
        if not self.tls:
            return None
        import ssl
        return ssl.create_default_context(cafile=self.ca_file)

    def log(self):
        try:
            with open(self.log_file, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None

    def client(self, credentials=None):
        return RegistryClient(self.url, ssl_context=self.ssl_context(),
                              credentials=credentials or self.credentials)

    def ref(self, repo, tag=None, digest=None):
        """The image reference as written in a compose file."""
        s = f"{self.host}/{repo}"
        if tag:
            s += f":{tag}"
        if digest:
            s += f"@{digest}"
        return s


class RegistryError(Exception):
    pass


def _parse_challenge(header):
    """Bearer realm="..",service="..",scope=".." → dict (values may hold commas)."""
    m = re.search(r"Bearer\s+(.*)", header or "", re.I)
    if not m:
        return None
    return dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))


class RegistryClient:
    """Registry HTTP API v2 client used by the tests to seed images.

    Handles the bearer-token dance (with optional Basic credentials sent to the
    realm) so the same helpers work on plain, TLS and token-auth registries."""

    def __init__(self, url, ssl_context=None, credentials=None):
        self.url = url.rstrip("/")
        self.host = urllib.parse.urlsplit(self.url).netloc
        self._opener = net.opener(ssl_context)
        self.credentials = credentials
        self._tokens = {}  # scope → token

    # -- transport -------------------------------------------------------
    def _token(self, challenge):
        scope = challenge.get("scope", "")
        if scope in self._tokens:
            return self._tokens[scope]
        q = {"service": challenge.get("service", "")}
        if scope:
            q["scope"] = scope
        req = urllib.request.Request(challenge["realm"] + "?" + urllib.parse.urlencode(q))
        if self.credentials:
            raw = "%s:%s" % self.credentials
            req.add_header("Authorization", "Basic " + base64.b64encode(raw.encode()).decode())
        with self._opener.open(req, timeout=15) as resp:
            body = json.load(resp)
        tok = body.get("token") or body.get("access_token")
        self._tokens[scope] = tok
        return tok

    def request(self, method, url, body=None, headers=None, ok=(200,)):
        """→ (status, headers, body bytes). Raises RegistryError unless status in ok."""
        if not url.startswith("http"):
            url = self.url + url
        token = None
        for attempt in range(2):
            req = urllib.request.Request(url, data=body, method=method)
            for k, v in (headers or {}).items():
                req.add_header(k, v)
            if token:
                req.add_header("Authorization", "Bearer " + token)
            try:
                with self._opener.open(req, timeout=30) as resp:
                    status, hdrs, data = resp.status, resp.headers, resp.read()
            except urllib.error.HTTPError as e:
                status, hdrs, data = e.code, e.headers, e.read()
            if status == 401 and attempt == 0:
                ch = _parse_challenge(hdrs.get("WWW-Authenticate"))
                if ch and "realm" in ch:
                    token = self._token(ch)
                    continue
            break
        if status not in ok:
            raise RegistryError(f"{method} {url}: HTTP {status}: {data[:500]!r}")
        return status, hdrs, data

    # -- blobs / manifests -----------------------------------------------
    def push_blob(self, repo, data):
        """Monolithic upload: POST uploads/ then PUT <location>&digest=. → digest."""
        digest = sha256_digest(data)
        _, hdrs, _ = self.request("POST", f"/v2/{repo}/blobs/uploads/", body=b"",
                                  headers={"Content-Length": "0"}, ok=(202,))
        loc = urllib.parse.urljoin(self.url + "/", hdrs["Location"])
        sep = "&" if "?" in loc else "?"
        self.request("PUT", f"{loc}{sep}digest={urllib.parse.quote(digest)}", body=data,
                     headers={"Content-Type": "application/octet-stream",
                              "Content-Length": str(len(data))}, ok=(201,))
        return digest

    def put_manifest(self, repo, reference, data, media_type):
        """PUT exact bytes; → their sha256 digest (checked against the registry's)."""
        digest = sha256_digest(data)
        _, hdrs, _ = self.request("PUT", f"/v2/{repo}/manifests/{reference}", body=data,
                                  headers={"Content-Type": media_type}, ok=(201,))
        got = hdrs.get("Docker-Content-Digest")
        if got and got != digest:
            raise RegistryError(f"registry digest {got} != sha256 of bytes PUT {digest}")
        return digest

    def get_manifest(self, repo, reference):
        """→ (bytes, media type, digest header)."""
        _, hdrs, data = self.request("GET", f"/v2/{repo}/manifests/{reference}",
                                     headers={"Accept": ACCEPT})
        return data, hdrs.get("Content-Type", "").split(";")[0], hdrs.get("Docker-Content-Digest")

    def digest_of(self, repo, tag):
        data, _, _ = self.get_manifest(repo, tag)
        return sha256_digest(data)

    def tags(self, repo):
        _, _, data = self.request("GET", f"/v2/{repo}/tags/list")
        return json.loads(data).get("tags") or []

    def retag(self, repo, src, dst):
        """Point tag `dst` at what `src` points to (same bytes, same digest)."""
        data, mt, _ = self.get_manifest(repo, src)
        return self.put_manifest(repo, dst, data, mt)

    def delete_tag(self, repo, tag):
        """distribution deletes by digest (which drops every tag on it): move
        other tags off first if that matters to the test."""
        digest = self.digest_of(repo, tag)
        self.request("DELETE", f"/v2/{repo}/manifests/{digest}", ok=(202,))
        return digest


def sha256_digest(data):
    import hashlib
    return "sha256:" + hashlib.sha256(data).hexdigest()



_ACCESS_LINE = re.compile(r'^\S+ - \S+ \[[^\]]*\] "([A-Z]+) (\S+) HTTP/[0-9.]+" (\d{3}) \S+ '
                          r'"[^"]*" "([^"]*)"')


class AccessLoggedRegistry(Registry):
    """A Registry whose access log is on: docker-registry 2.8 writes one
    combined-log-format line per request to its output (our log file), e.g.
    `127.0.0.1 - - [..] "GET /v2/a/tags/list HTTP/1.1" 200 54 "" "magos-dominus/x"`.
    requests(since=mark, agent=...) parses them; mark() is where "now" is."""

    def _config(self):
        return super()._config().replace("    disabled: true\n", "    disabled: false\n", 1)

    def requests(self, since=0, agent="magos-dominus/"):
        """(method, path with query, status) of every logged request whose
        User-Agent starts with `agent` (None: every client), from byte `since`."""
        try:
            with open(self.log_file, "rb") as f:
                f.seek(since)
                text = f.read().decode(errors="replace")
        except OSError:
            text = ""
        out = []
        for line in text.splitlines():
            m = _ACCESS_LINE.match(line)
            if m and (agent is None or m.group(4).startswith(agent)):
                out.append((m.group(1), m.group(2), int(m.group(3))))
        return out

    def mark(self):
        """The log's size in bytes: requests(since=mark()) are the later ones."""
        try:
            return os.path.getsize(self.log_file)
        except OSError:
            return 0

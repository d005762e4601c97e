"""A GitHub stand-in on 127.0.0.1: the App's REST API (Flask) and git smart
HTTP (git http-backend) over the same bare repositories.

It behaves like GitHub where the agent depends on it: App JWTs are checked
(RS256 signature with the App's public key, iat/exp/iss rules, GitHub's 401
messages), installation tokens are minted (`ghs_…`, expiry per test) and can be
revoked, every REST call needs User-Agent, Accept and X-GitHub-Api-Version
and gets x-ratelimit-* headers, pull requests refuse a duplicate open PR for
the same head (422), closed PRs keep merged_at (null unless merged), lists
come newest first, the Git Data API works on the real bare repository (a
commit with no author gets "GitHub <noreply@github.com>" and is Verified),
and git over HTTP accepts only Basic x-access-token:<valid token>.

Every REST and git request is recorded (GitHubStandIn.calls / git_requests).
"""
import base64
import datetime
import json
import os
import secrets
import subprocess
import threading
import time
import urllib.parse

from . import githttp, net

API_VERSION = "2022-11-28"
ACCEPT = "application/vnd.github+json"
GIT = "/usr/bin/git"


def make_key(path):
    """A fresh RSA key written as PKCS#1 PEM with mode 0600 → public PEM bytes."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM,
                            serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    os.chmod(path, 0o600)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def _iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


class Call:
    def __init__(self, method, path, query, headers, body, auth):
        self.method, self.path, self.query = method, path, query
        self.headers, self.body, self.auth = headers, body, auth

    def __repr__(self):
        return f"Call({self.method} {self.path} auth={self.auth})"


class _GitHandler(githttp._Handler):
    """git http-backend behind installation-token Basic auth."""

    def _user(self):
        owner = self.server.owner.standin
        h = self.headers.get("Authorization", "")
        if h.startswith("Basic "):
            try:
                user, _, pw = base64.b64decode(h[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return False, None
            if user == "x-access-token" and owner.token_valid(pw):
                owner._note_git_token(pw)
                return True, user
        return False, None

    def _cgi(self):
        ok, _ = self._user()
        if ok:
            return super()._cgi()
        path, _, query = self.path.partition("?")
        self.server.owner._record(githttp.GitRequest(
            self.command, urllib.parse.unquote(path), query, None,
            self.headers.get("Transfer-Encoding", ""), self.headers.get("Content-Encoding", ""),
            self.headers.get("User-Agent", "")))
        # Say so: libgit2 would otherwise reuse the connection and read EOF.
        self.close_connection = True
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="GitHub"')
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()


class GitHubStandIn:
    def __init__(self, root, public_key, app_id="4242", slug="magos-test", bot_id=99001,
                 installation_id=777, token_ttl=3600, clock_offset=0):
        self.root = str(root)
        self.public_key = public_key
        self.app_id = str(app_id)
        self.client_id = "Iv1.magostest"
        self.slug = slug
        self.bot_id = bot_id
        self.installation_id = installation_id
        self.token_ttl = token_ttl
        self.clock_offset = clock_offset
        self.delay = 0.0            # seconds every REST answer waits (a slow GitHub)
        self.rest_hook = None       # rest_hook(Call) runs before each REST request is served
        self.tokens = {}            # token -> {"expires": epoch, "revoked": bool}
        self.minted = []            # tokens in the order they were minted
        self.git_tokens = []        # tokens git authenticated with, in order
        self.calls = []
        self.pulls = []
        self.comments = []          # (number, body)
        self.commit_bodies = []     # JSON bodies of POST /git/commits
        self.verified = set()
        self.home = os.path.join(self.root, ".standin-home")
        os.makedirs(self.home, exist_ok=True)
        self._lock = threading.RLock()
        self._api = net.WSGIThread(self._app())
        self.api_url = self._api.url
        self._gitsrv = githttp.GitHTTPServer(self.root)
        self._gitsrv._server.RequestHandlerClass = _GitHandler
        # libgit2 drops connections after a 401: not worth a traceback.
        self._gitsrv._server.handle_error = lambda request, address: None
        self._gitsrv.standin = self
        self.git_url = self._gitsrv.url

    # ---- helpers for tests ---------------------------------------------------------

    def stop(self):
        self._api.stop()
        self._gitsrv.stop()

    def repo_url(self, owner, repo):
        return f"{self.git_url}/{owner}/{repo}.git"

    def revoke_all(self):
        with self._lock:
            for t in self.tokens.values():
                t["revoked"] = True

    def all_text(self):
        """Every token minted, for leak checks."""
        with self._lock:
            return list(self.minted)

    def git_requests(self):
        return self._gitsrv.recorded()

    def calls_to(self, method, fragment):
        with self._lock:
            return [c for c in self.calls if c.method == method and fragment in c.path]

    def open_pulls(self):
        with self._lock:
            return [p for p in self.pulls if p["state"] == "open"]

    def close_pull(self, number):
        """The user closes a PR without merging it (merged_at stays null)."""
        with self._lock:
            (p,) = [p for p in self.pulls if p["number"] == number]
            p["state"] = "closed"
            p["merged_at"] = None

    def merge_pull(self, number, owner, repo):
        """The user merges a PR with a fast-forward of its base to the head's
        tip, so the commits (and their author) stay as the agent made them."""
        with self._lock:
            (p,) = [p for p in self.pulls if p["number"] == number]
            g = os.path.join(self.root, owner, repo + ".git")
            rc, tip, err = self._run_git(g, "rev-parse", "--verify", f"refs/heads/{p['head']}")
            assert rc == 0, err
            rc, _, err = self._run_git(g, "update-ref", f"refs/heads/{p['base']}", tip)
            assert rc == 0, err
            p["state"] = "closed"
            p["merged_at"] = _iso(self.now())
            return tip

    def now(self):
        return time.time() + self.clock_offset

    def token_valid(self, tok):
        with self._lock:
            t = self.tokens.get(tok)
            return bool(t) and not t["revoked"] and t["expires"] > self.now()

    def _note_git_token(self, tok):
        with self._lock:
            if not self.git_tokens or self.git_tokens[-1] != tok:
                self.git_tokens.append(tok)

    def _run_git(self, bare, *args, input=None, env=None):
        e = {"PATH": "/usr/bin:/bin", "HOME": self.home, "GIT_CONFIG_NOSYSTEM": "1",
             "LANG": "C", "TZ": "UTC"}
        e.update(env or {})
        p = subprocess.run([GIT, "--git-dir", bare, *args], input=input, env=e,
                           capture_output=True, timeout=60)
        return p.returncode, p.stdout.decode(errors="replace").strip(), p.stderr.decode(
            errors="replace")

    # ---- the Flask app ----------------------------------------------------------------

    def _app(self):
        import jwt
        from flask import Flask, Response, request

        app = Flask("github-standin")
        me = self

        def answer(status, obj=None, headers=None):
            resp = Response(json.dumps(obj) if obj is not None else "", status=status,
                            mimetype="application/json")
            with me._lock:
                used = len(me.calls)
            resp.headers["x-ratelimit-limit"] = "5000"
            resp.headers["x-ratelimit-remaining"] = str(max(0, 5000 - used))
            resp.headers["x-ratelimit-used"] = str(used)
            resp.headers["x-ratelimit-reset"] = str(int(me.now()) + 3600)
            resp.headers["x-ratelimit-resource"] = "core"
            for k, v in (headers or {}).items():
                resp.headers[k] = v
            return resp

        def msg(status, text, **extra):
            body = {"message": text, "documentation_url": "https://docs.github.com/rest"}
            body.update(extra)
            return answer(status, body)

        def check_jwt(tok):
            try:
                hdr = jwt.get_unverified_header(tok)
                if hdr.get("alg") != "RS256":
                    return "'alg' must be RS256"
                claims = jwt.decode(tok, me.public_key, algorithms=["RS256"],
                                    options={"verify_exp": False, "verify_iat": False,
                                             "verify_nbf": False, "verify_aud": False,
                                             "verify_iss": False})
            except Exception:  # noqa: BLE001 — any decode failure is GitHub's 401
                return "A JSON web token could not be decoded"
            now = me.now()
            iat, exp, iss = claims.get("iat"), claims.get("exp"), claims.get("iss")
            if not isinstance(iat, int) or iat > now + 60:
                return ("'Issued at' claim ('iat') must be an Integer representing the time "
                        "that the assertion was issued.")
            if not isinstance(exp, int) or exp <= now:
                return ("'Expiration time' claim ('exp') must be a numeric value representing "
                        "the future time at which the assertion expires.")
            if exp - iat > 600:
                return "'Expiration time' claim ('exp') is too far in the future."
            if str(iss) not in (me.app_id, me.client_id):
                return "'Issuer' claim ('iss') must be an Integer"
            return None

        @app.before_request
        def gate():
            auth = request.headers.get("Authorization", "")
            kind = None
            body = request.get_json(silent=True)
            if auth.startswith("Bearer ") and auth.count(".") == 2:
                kind = "jwt"
            elif auth.startswith(("Bearer ", "token ")):
                kind = "token"
            with me._lock:
                me.calls.append(Call(request.method, request.path, request.query_string.decode(),
                                     dict(request.headers), body, kind))
            if me.rest_hook is not None:
                me.rest_hook(me.calls[-1])
            if me.delay:
                time.sleep(me.delay)
            if not request.headers.get("User-Agent"):
                return msg(403, "Request forbidden by administrative rules. Please make sure "
                           "your request has a User-Agent header.")
            if request.headers.get("X-GitHub-Api-Version") != API_VERSION:
                return msg(400, f"API version {request.headers.get('X-GitHub-Api-Version')!r} "
                           "is not supported.")
            if ACCEPT not in request.headers.get("Accept", ""):
                return msg(415, "Unsupported 'Accept' header")
            path = request.path
            jwt_paths = path == "/app" or path.startswith("/app/") or (
                path.endswith("/installation") and path.startswith("/repos/"))
            if path.startswith("/users/"):
                return None
            tok = auth.split(" ", 1)[1] if " " in auth else ""
            if jwt_paths:
                if kind != "jwt":
                    return msg(401, "A JSON web token could not be decoded")
                why = check_jwt(tok)
                if why:
                    return msg(401, why)
                return None
            if kind != "token" or not me.token_valid(tok):
                return msg(401, "Bad credentials")
            return None

        @app.get("/app")
        def get_app():
            return answer(200, {"id": int(me.app_id), "slug": me.slug, "client_id": me.client_id,
                                "name": "Magos Test", "owner": {"login": "acme"}})

        @app.get("/users/<path:login>")
        def get_user(login):
            if login != f"{me.slug}[bot]":
                return msg(404, "Not Found")
            return answer(200, {"login": login, "id": me.bot_id, "type": "Bot"})

        @app.get("/repos/<owner>/<repo>/installation")
        def get_installation(owner, repo):
            if not os.path.isdir(os.path.join(me.root, owner, repo + ".git")):
                return msg(404, "Not Found")
            return answer(200, {"id": me.installation_id, "account": {"login": owner},
                                "app_id": int(me.app_id)})

        @app.post("/app/installations/<int:inst>/access_tokens")
        def mint(inst):
            if inst != me.installation_id:
                return msg(404, "Not Found")
            tok = "ghs_" + secrets.token_urlsafe(27).replace("-", "a").replace("_", "b")
            exp = int(me.now()) + int(me.token_ttl)
            with me._lock:
                me.tokens[tok] = {"expires": exp, "revoked": False}
                me.minted.append(tok)
            return answer(201, {"token": tok, "expires_at": _iso(exp),
                                "permissions": {"contents": "write", "pull_requests": "write"},
                                "repository_selection": "selected"})

        # ---- pull requests ----------------------------------------------------------

        def bare(owner, repo):
            return os.path.join(me.root, owner, repo + ".git")

        def ref_sha(owner, repo, branch):
            rc, out, _ = me._run_git(bare(owner, repo), "rev-parse", "--verify", "-q",
                                 f"refs/heads/{branch}^{{commit}}")
            return out if rc == 0 else None

        def pr_json(owner, repo, p):
            full = {"full_name": f"{owner}/{repo}", "name": repo, "owner": {"login": owner}}
            return {"number": p["number"], "state": p["state"], "title": p["title"],
                    "body": p["body"], "merged_at": p.get("merged_at"),
                    "html_url": f"{me.git_url}/{owner}/{repo}/pull/{p['number']}",
                    "head": {"ref": p["head"], "label": f"{owner}:{p['head']}",
                             "sha": ref_sha(owner, repo, p["head"]) or "", "repo": full},
                    "base": {"ref": p["base"], "label": f"{owner}:{p['base']}",
                             "sha": ref_sha(owner, repo, p["base"]) or "", "repo": full}}

        def head_branch(owner, head):
            if ":" in head:
                o, _, b = head.partition(":")
                return b if o == owner else None
            return head

        @app.get("/repos/<owner>/<repo>/pulls")
        def list_pulls(owner, repo):
            state = request.args.get("state", "open")
            head = request.args.get("head")
            base = request.args.get("base")
            per_page = min(int(request.args.get("per_page", 30)), 100)
            page = int(request.args.get("page", 1))
            with me._lock:
                out = [p for p in me.pulls if p["owner_repo"] == (owner, repo)
                       and (state == "all" or p["state"] == state)
                       and (not head or p["head"] == head_branch(owner, head))
                       and (not base or p["base"] == base)]
            # GitHub's default order: newest first.
            out.sort(key=lambda p: p["number"], reverse=True)
            chunk = out[(page - 1) * per_page: page * per_page]
            headers = {}
            if page * per_page < len(out):
                q = dict(request.args)
                q["page"] = str(page + 1)
                headers["Link"] = (f'<{me.api_url}{request.path}?{urllib.parse.urlencode(q)}>; '
                                   'rel="next"')
            return answer(200, [pr_json(owner, repo, p) for p in chunk], headers)

        @app.get("/repos/<owner>/<repo>/pulls/<int:n>")
        def get_pull(owner, repo, n):
            with me._lock:
                for p in me.pulls:
                    if p["number"] == n and p["owner_repo"] == (owner, repo):
                        return answer(200, pr_json(owner, repo, p))
            return msg(404, "Not Found")

        @app.post("/repos/<owner>/<repo>/pulls")
        def create_pull(owner, repo):
            b = request.get_json(silent=True) or {}
            head = head_branch(owner, b.get("head", ""))
            if not b.get("title") or not head or not b.get("base"):
                return msg(422, "Validation Failed",
                           errors=[{"resource": "PullRequest", "code": "missing_field"}])
            with me._lock:
                if any(p["state"] == "open" and p["head"] == head and
                       p["owner_repo"] == (owner, repo) for p in me.pulls):
                    return msg(422, "Validation Failed", errors=[{
                        "resource": "PullRequest", "code": "custom",
                        "message": f"A pull request already exists for {owner}:{head}."}])
                if not ref_sha(owner, repo, head) or not ref_sha(owner, repo, b["base"]):
                    return msg(422, "Validation Failed", errors=[{
                        "resource": "PullRequest", "field": "head", "code": "invalid"}])
                p = {"number": len(me.pulls) + 1, "state": "open", "title": b["title"],
                     "body": b.get("body") or "", "head": head, "base": b["base"],
                     "owner_repo": (owner, repo)}
                me.pulls.append(p)
                return answer(201, pr_json(owner, repo, p))

        @app.patch("/repos/<owner>/<repo>/pulls/<int:n>")
        def update_pull(owner, repo, n):
            b = request.get_json(silent=True) or {}
            with me._lock:
                for p in me.pulls:
                    if p["number"] == n and p["owner_repo"] == (owner, repo):
                        for k in ("title", "body", "state", "base"):
                            if k in b:
                                p[k] = b[k]
                        return answer(200, pr_json(owner, repo, p))
            return msg(404, "Not Found")

        @app.post("/repos/<owner>/<repo>/issues/<int:n>/comments")
        def comment(owner, repo, n):
            b = request.get_json(silent=True) or {}
            with me._lock:
                if not any(p["number"] == n for p in me.pulls):
                    return msg(404, "Not Found")
                me.comments.append((n, b.get("body", "")))
                return answer(201, {"id": len(me.comments), "body": b.get("body", "")})

        # ---- Git Data API on the bare repository --------------------------------------

        @app.post("/repos/<owner>/<repo>/git/blobs")
        def blob(owner, repo):
            b = request.get_json(silent=True) or {}
            data = b.get("content", "")
            data = (base64.b64decode(data) if b.get("encoding") == "base64"
                    else data.encode())
            rc, sha, err = me._run_git(bare(owner, repo), "hash-object", "-w", "--stdin",
                                   input=data)
            if rc:
                return msg(500, err)
            return answer(201, {"sha": sha, "url": f"{me.api_url}/repos/{owner}/{repo}/git/blobs/{sha}"})

        @app.get("/repos/<owner>/<repo>/git/commits/<sha>")
        def get_commit(owner, repo, sha):
            g = bare(owner, repo)
            rc, tree, _ = me._run_git(g, "rev-parse", "--verify", "-q", f"{sha}^{{tree}}")
            if rc:
                return msg(404, "Not Found")
            _, parents, _ = me._run_git(g, "log", "-1", "--format=%P", sha)
            return answer(200, {"sha": sha, "tree": {"sha": tree},
                                "parents": [{"sha": p} for p in parents.split()],
                                "verification": {"verified": sha in me.verified}})

        @app.post("/repos/<owner>/<repo>/git/trees")
        def tree(owner, repo):
            b = request.get_json(silent=True) or {}
            g = bare(owner, repo)
            idx = os.path.join(me.home, f"index-{secrets.token_hex(8)}")
            env = {"GIT_INDEX_FILE": idx}
            try:
                if b.get("base_tree"):
                    rc, _, err = me._run_git(g, "read-tree", b["base_tree"], env=env)
                    if rc:
                        return msg(422, "Invalid tree info", errors=[err])
                else:
                    me._run_git(g, "read-tree", "--empty", env=env)
                for e in b.get("tree", []):
                    sha = e.get("sha")
                    if e.get("content") is not None:
                        _, sha, _ = me._run_git(g, "hash-object", "-w", "--stdin",
                                            input=e["content"].encode())
                    if sha is None:
                        me._run_git(g, "update-index", "--force-remove", e["path"], env=env)
                        continue
                    rc, _, err = me._run_git(g, "update-index", "--add", "--cacheinfo",
                                         f"{e['mode']},{sha},{e['path']}", env=env)
                    if rc:
                        return msg(422, "Invalid tree info", errors=[err])
                rc, sha, err = me._run_git(g, "write-tree", env=env)
                if rc:
                    return msg(500, err)
                return answer(201, {"sha": sha, "truncated": False})
            finally:
                if os.path.exists(idx):
                    os.unlink(idx)

        @app.post("/repos/<owner>/<repo>/git/commits")
        def commit(owner, repo):
            b = request.get_json(silent=True) or {}
            with me._lock:
                me.commit_bodies.append(b)
            author = b.get("author") or {"name": "GitHub", "email": "noreply@github.com"}
            committer = b.get("committer") or author
            env = {"GIT_AUTHOR_NAME": author["name"], "GIT_AUTHOR_EMAIL": author["email"],
                   "GIT_COMMITTER_NAME": committer["name"],
                   "GIT_COMMITTER_EMAIL": committer["email"]}
            args = ["commit-tree", b.get("tree", "")]
            for p in b.get("parents", []):
                args += ["-p", p]
            rc, sha, err = me._run_git(bare(owner, repo), *args, input=b.get("message", "").encode(),
                                   env=env)
            if rc:
                return msg(422, "Validation Failed", errors=[err])
            ok = not any(k in b for k in ("author", "committer", "signature"))
            if ok:
                with me._lock:
                    me.verified.add(sha)
            return answer(201, {"sha": sha, "tree": {"sha": b.get("tree")},
                                "author": author, "committer": committer,
                                "verification": {"verified": ok,
                                                 "reason": "valid" if ok else "unsigned"}})

        def get_ref(owner, repo, ref):
            sha = ref_sha(owner, repo, ref[len("heads/"):]) if ref.startswith("heads/") else None
            if not sha:
                return msg(404, "Not Found")
            return answer(200, {"ref": f"refs/{ref}", "object": {"sha": sha, "type": "commit"}})

        app.add_url_rule("/repos/<owner>/<repo>/git/ref/<path:ref>", "get_ref1", get_ref,
                         methods=["GET"])
        app.add_url_rule("/repos/<owner>/<repo>/git/refs/<path:ref>", "get_ref2", get_ref,
                         methods=["GET"])

        @app.patch("/repos/<owner>/<repo>/git/refs/<path:ref>")
        def patch_ref(owner, repo, ref):
            b = request.get_json(silent=True) or {}
            g = bare(owner, repo)
            if not ref.startswith("heads/"):
                return msg(422, "Reference does not exist")
            old = ref_sha(owner, repo, ref[6:])
            if not old:
                return msg(422, "Reference does not exist")
            new = b.get("sha", "")
            if not b.get("force"):
                rc, _, _ = me._run_git(g, "merge-base", "--is-ancestor", old, new)
                if rc:
                    return msg(422, "Update is not a fast forward")
            rc, _, err = me._run_git(g, "update-ref", f"refs/{ref}", new, old)
            if rc:
                return msg(422, "Object does not exist", errors=[err])
            return answer(200, {"ref": f"refs/{ref}", "object": {"sha": new, "type": "commit"}})

        @app.post("/repos/<owner>/<repo>/git/refs")
        def create_ref(owner, repo):
            b = request.get_json(silent=True) or {}
            ref = b.get("ref", "")
            if not ref.startswith("refs/heads/"):
                return msg(422, "Reference name must start with 'refs/' and have two slashes")
            if ref_sha(owner, repo, ref[11:]):
                return msg(422, "Reference already exists")
            rc, _, err = me._run_git(bare(owner, repo), "update-ref", ref, b.get("sha", ""), "")
            if rc:
                return msg(422, "Object does not exist", errors=[err])
            return answer(201, {"ref": ref, "object": {"sha": b.get("sha"), "type": "commit"}})

        @app.delete("/repos/<owner>/<repo>/git/refs/<path:ref>")
        def delete_ref(owner, repo, ref):
            if not ref.startswith("heads/") or not ref_sha(owner, repo, ref[6:]):
                return msg(422, "Reference does not exist")
            me._run_git(bare(owner, repo), "update-ref", "-d", f"refs/{ref}")
            return answer(204)

        return app

"""pytest fixtures for the magos-dominus integration suite.

Everything runs on 127.0.0.1 with free ports inside pytest's tmp_path and is
stopped at teardown, also when a test fails. Helper modules live in mdtest/.
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from mdtest import agent as agent_mod  # noqa: E402
from mdtest import gitutil, githttp, registry, tlsca, tokensvc  # noqa: E402


@pytest.fixture(scope="session")
def magos_bin():
    """Path of the binary under test; skips when it was never built."""
    path = agent_mod.magos_bin()
    if not os.access(path, os.X_OK):
        if os.environ.get("MAGOS_BIN"):
            pytest.fail(f"MAGOS_BIN={path} is not an executable file")
        pytest.skip(f"{path} not built (run `make` or set MAGOS_BIN)")
    return path


@pytest.fixture(scope="session")
def ca(tmp_path_factory):
    return tlsca.TestCA(str(tmp_path_factory.mktemp("ca")))


def _registry(request, directory, **kw):
    reg = registry.Registry(directory, **kw)

    def stop():
        reg.stop()
        log = reg.log()
        if log:
            print(f"--- docker-registry log ({reg.host})\n{log}")

    request.addfinalizer(stop)
    return reg


@pytest.fixture
def registry_server(request, tmp_path):
    """Plain-HTTP docker-registry."""
    return _registry(request, str(tmp_path / "registry"))


@pytest.fixture
def tls_registry(request, tmp_path, ca):
    cert, key = ca.issue_server("registry")
    return _registry(request, str(tmp_path / "registry-tls"), tls=(cert, key),
                     ca_file=ca.cert_file)


PUSHER, ALICE = tokensvc.PUSHER, tokensvc.ALICE


@pytest.fixture
def token_service(request, tmp_path):
    svc = tokensvc.TokenService(str(tmp_path / "token"), users=dict([PUSHER, ALICE]))
    request.addfinalizer(svc.stop)
    return svc


@pytest.fixture
def token_registry(request, tmp_path, token_service):
    """docker-registry with `auth.token` pointing at token_service; the test
    helpers push as PUSHER, anonymous callers may pull."""
    return _registry(request, str(tmp_path / "registry-token"), token=token_service,
                     credentials=PUSHER)


@pytest.fixture
def git_http(request, tmp_path):
    """Smart HTTP (git http-backend) serving every bare repo under tmp_path/remotes."""
    root = tmp_path / "remotes"
    root.mkdir(exist_ok=True)
    srv = githttp.GitHTTPServer(str(root))
    request.addfinalizer(srv.stop)
    return srv


@pytest.fixture
def make_remote(tmp_path):
    """make_remote(files, http_server=None) → gitutil.Remote (file:// URL, or
    the server's URL when a GitHTTPServer is given)."""
    root = tmp_path / "remotes"
    root.mkdir(exist_ok=True)
    home = tmp_path / "git-home"
    home.mkdir(exist_ok=True)
    counter = [0]

    def make(files, http_server=None, name=None):
        counter[0] += 1
        remote = gitutil.bare_remote(str(root), files, name=name or f"gitops{counter[0]}",
                                     home=str(home))
        if http_server is not None:
            http_server.url_for(remote)
        return remote

    return make


@pytest.fixture
def make_agent(tmp_path, magos_bin):
    """make_agent(remote, registry_host, **settings) → mdtest.agent.Agent."""
    counter = [0]

    def make(remote, registry_host=None, **settings):
        counter[0] += 1
        d = tmp_path / f"agent{counter[0]}"
        d.mkdir()
        return agent_mod.Agent(str(d), git_url=remote.url if remote else None,
                               registry_host=registry_host, **settings)

    return make


@pytest.fixture
def scratch(tmp_path):
    """A directory for side clones made by the tests themselves."""
    d = tmp_path / "scratch"
    d.mkdir()
    return str(d)



@pytest.fixture
def make_proxy(request):
    """make_proxy(upstream_registry, hook=None, tag_page_size=None, **kw) → RegistryProxy
    (kw: RegistryProxy's other options, e.g. fault, basic_auth)."""
    from mdtest.proxy import RegistryProxy

    def make(upstream, hook=None, tag_page_size=None, **kw):
        proxy = RegistryProxy(upstream.url, hook=hook, ssl_context=upstream.ssl_context(),
                              tag_page_size=tag_page_size, **kw)
        request.addfinalizer(proxy.stop)
        return proxy

    return make


@pytest.fixture
def logged_registry(request, tmp_path):
    """Plain-HTTP docker-registry with its access log on (request counting)."""
    reg = registry.AccessLoggedRegistry(str(tmp_path / "registry-logged"))
    request.addfinalizer(reg.stop)  # its log holds every request: not printed
    return reg


# ---- issue 7 (auth): a registry over TLS with token auth, private by default ----

class TLSTokenService(tokensvc.TokenService):
    """TokenService served over HTTPS with a certificate from the test CA (so
    the agent sends Basic credentials to it), which also answers the OAuth2
    refresh-token flow: POST /token grant_type=refresh_token with a token
    from `refresh_tokens` ({token: user}) issues a token for that user."""

    def __init__(self, directory, tls, refresh_tokens=None, **kw):
        import ssl

        from mdtest import net

        self.refresh_tokens = dict(refresh_tokens or {})
        self.forms = []
        super().__init__(directory, **kw)
        self._server.stop()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*tls)
        self._server = net.WSGIThread(self._app(), ssl_context=ctx)
        self.url = self._server.url
        self.realm = f"{self.url}/token"

    def _app(self):
        import datetime

        from flask import jsonify, request

        app = super()._app()

        @app.route("/token", methods=["POST"])
        def token_post():
            form = request.form
            with self._lock:
                self.forms.append(dict(form))
            scopes = form.get("scope", "").split()
            user = self.refresh_tokens.get(form.get("refresh_token"))
            if (form.get("grant_type") != "refresh_token" or not form.get("client_id")
                    or user is None):
                self._record(None, "<refresh>", form.get("service"), scopes, 401)
                return jsonify({"error": "invalid_grant"}), 401
            tok = self.issue(user, self._grant(user, scopes))
            self._record(user, "<refresh>", form.get("service"), scopes, 200)
            issued = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            return jsonify({"access_token": tok, "expires_in": self.ttl, "issued_at": issued,
                            "scope": form.get("scope", "")})

        return app


@pytest.fixture
def tls_token_service(request, tmp_path, ca):
    """Token service over TLS; anonymous callers get nothing (a private registry)."""
    svc = TLSTokenService(str(tmp_path / "token-tls"), ca.issue_server("token"),
                          users=dict([PUSHER, ALICE]), anonymous_actions=())
    request.addfinalizer(svc.stop)
    return svc


@pytest.fixture
def tls_token_registry(request, tmp_path, ca, tls_token_service):
    """docker-registry over TLS (test CA) with `auth.token` at tls_token_service."""
    cert, key = ca.issue_server("registry-tls-token")
    return _registry(request, str(tmp_path / "registry-tls-token"), tls=(cert, key),
                     ca_file=ca.cert_file, token=tls_token_service, credentials=PUSHER)

"""Credentials stay with the origin they belong to (issue 11): a tag list
that links its next page to another origin, and a token realm on a plain
HTTP host nobody listed in MD_INSECURE_REGISTRIES. The "other host" is a
small server on another port of 127.0.0.1: another origin."""
import base64
import json
import os
import threading
import urllib.parse

from flask import Flask, Response, request

from mdtest import net
from mdtest.checks import replaced_once
from mdtest.compose import site_line
from mdtest.images import push_tags
from mdtest.tokensvc import ALICE

WEB, API = "app/web", "app/api"
COMPOSE = "stacks/web/compose.yaml"


class OtherHost:
    """Answers every tag list with `tags` and records each request's
    Authorization header (None when absent)."""

    def __init__(self, tags):
        self.tags = tags
        self.seen = []
        self._lock = threading.Lock()
        app = Flask("magos-other-host")

        @app.route("/<path:path>", methods=["GET", "HEAD"])
        def anything(path):
            with self._lock:
                self.seen.append((request.method, request.full_path,
                                  request.headers.get("Authorization")))
            body = json.dumps({"name": WEB, "tags": self.tags}).encode()
            return Response(body, status=200, content_type="application/json")

        self._server = net.WSGIThread(app)
        self.url = self._server.url

    def stop(self):
        self._server.stop()


def _auth_file(tmp_path, host, user, password):
    path = tmp_path / "auth.json"
    raw = base64.b64encode(f"{user}:{password}".encode()).decode()
    path.write_text(json.dumps({"auths": {host: {"auth": raw}}}))
    os.chmod(path, 0o600)
    return str(path), raw


def test_tag_list_linking_to_another_origin_is_refused(registry_server, make_remote,
                                                        make_agent, make_proxy, request,
                                                        tmp_path):
    reg = registry_server
    web = push_tags(reg, WEB, ["1.0.0", "1.1.0"])
    api = push_tags(reg, API, ["1.0.0", "1.1.0"])
    other = OtherHost(["1.5.0"])  # a tag only the other host lists
    request.addfinalizer(other.stop)
    link = f'<{other.url}/v2/{WEB}/tags/list?last=1.1.0>; rel="next"'

    def fault(method, path):
        if method == "GET" and path.startswith(f"/v2/{WEB}/tags/list"):
            return {"headers": {"Link": link}}
        return None

    # A registry behind Basic authentication (a reverse proxy asking for it).
    proxy = make_proxy(reg, fault=fault, basic_auth=ALICE)
    auth_file, raw = _auth_file(tmp_path, proxy.host, *ALICE)
    before = ("services:\n"
              "  web:\n" + site_line(proxy.ref(WEB, "1.0.0"), policy="semver", range="^1.0") +
              "  api:\n" + site_line(proxy.ref(API, "1.0.0"), policy="semver", range="^1.0")
              ).encode()
    remote = make_remote({COMPOSE: before})
    agent = make_agent(remote, proxy.host, MD_REGISTRY_AUTH_FILE=auth_file)
    r = agent.once()

    # The other origin never saw the registry's credentials (nor anything).
    assert all(authz is None for _, _, authz in other.seen), other.seen
    assert other.seen == [], other.seen
    # The refusal names both origins; the site keeps what it declares.
    assert r.code == 1, str(r)
    here = f"http://{proxy.host}"
    there = f"origin {other.url}, not the registry's origin {here}"
    assert there in r.stderr, str(r)
    text = remote.show(COMPOSE).decode()
    assert "1.5.0" not in text
    assert proxy.ref(WEB, "1.0.0") + " " in text
    # The rest of the cycle went on: the other repository was updated.
    assert remote.show(COMPOSE) == replaced_once(
        before, proxy.ref(API, "1.0.0"), proxy.ref(API, "1.1.0", api["1.1.0"]))
    assert web  # seeded
    for secret in (ALICE[1], raw):
        assert secret not in r.stdout + r.stderr


def _agent_token_reqs(svc):
    return [q for q in svc.recorded() if q.user != "pusher"]


def test_plain_http_token_realm_elsewhere_gets_no_credentials(token_registry, token_service,
                                                              make_remote, make_agent,
                                                              tmp_path):
    """The registry is plain HTTP and listed; its realm is plain HTTP on
    another port (another host, as far as origins go) that is not."""
    reg, svc = token_registry, token_service
    push_tags(reg, WEB, ["1.0.0", "1.1.0"])
    digests = push_tags(reg, API, ["1.0.0", "1.1.0"])
    auth_file, raw = _auth_file(tmp_path, reg.host, *ALICE)
    before = ("services:\n"
              "  web:\n" + site_line(reg.ref(WEB, "1.0.0"), policy="semver", range="^1.0") +
              "  api:\n" + site_line(reg.ref(API, "1.0.0"), policy="semver", range="^1.0")
              ).encode()
    remote = make_remote({COMPOSE: before})
    agent = make_agent(remote, reg.host, MD_REGISTRY_AUTH_FILE=auth_file)
    svc.clear()
    r = agent.once()
    # Anonymous pulls are allowed: the cycle works without the credentials.
    assert r.code == 0, str(r)
    assert reg.ref(API, "1.1.0", digests["1.1.0"]) in remote.show(COMPOSE).decode()
    reqs = _agent_token_reqs(svc)
    assert reqs and all(q.user is None and q.status == 200 for q in reqs), reqs

    # A token service that wants credentials: the error says why none went.
    svc.anonymous_actions = ()
    svc.clear()
    r = agent.once()
    assert r.code == 1, str(r)
    realm_host = urllib.parse.urlsplit(svc.url).netloc
    why = (f"no credentials were sent to the token service {svc.realm}: it is plain HTTP "
           f"and {realm_host} is not listed in MD_INSECURE_REGISTRIES")
    assert why in r.stderr, str(r)
    reqs = _agent_token_reqs(svc)
    assert reqs and all(q.user is None and q.status == 401 for q in reqs), reqs

    # Listed as well, the operator accepts plain HTTP to it: credentials go.
    agent.settings["MD_INSECURE_REGISTRIES"] = f"{reg.host},{realm_host}"
    agent.write_env()
    svc.clear()
    r = agent.once()
    assert r.code == 0, str(r)
    reqs = _agent_token_reqs(svc)
    assert reqs and all((q.user, q.password, q.status) == (ALICE[0], ALICE[1], 200)
                        for q in reqs), reqs
    for secret in (ALICE[1], raw):
        assert secret not in r.stdout + r.stderr

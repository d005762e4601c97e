"""Registry credentials and tokens (issue 7, auth): a docker-registry over TLS
with the test CA and token auth together; credentials found the way podman
finds them (no MD_REGISTRY_AUTH_FILE), Docker credential helpers, identity
(refresh) tokens, token reuse and token expiry."""
import base64
import json
import os
import time

from mdtest.checks import replaced_once
from mdtest.compose import compose_site, site_line
from mdtest.images import push_tags
from mdtest.tokensvc import ALICE

WEB, API = "app/web", "app/api"
COMPOSE = "stacks/web/compose.yaml"


def _b64(user, password):
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def _write_json(path, doc):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(doc, f)
    os.chmod(path, 0o600)
    return path


def _agent_reqs(svc):
    """Token requests made by the agent (the seeding helpers log in as pusher)."""
    return [q for q in svc.recorded() if q.user != "pusher"]


def _setup(reg, make_remote, make_agent, ca, repos=(WEB,)):
    """Seed 1.0.0/1.1.0 in each repository, one ^1.0 site per repository."""
    digests = {repo: push_tags(reg, repo, ["1.0.0", "1.1.0"]) for repo in repos}
    body = "services:\n"
    for i, repo in enumerate(repos):
        body += f"  s{i}:\n" + site_line(f"{reg.host}/{repo}:1.0.0", policy="semver",
                                         range="^1.0")
    remote = make_remote({COMPOSE: body.encode()})
    agent = make_agent(remote, None, MD_CA_FILE=ca.cert_file)
    return agent, remote, body.encode(), digests


def _assert_bumped(remote, before, reg, digests):
    want = before
    for repo, d in digests.items():
        want = replaced_once(want, f"{reg.host}/{repo}:1.0.0",
                             f"{reg.host}/{repo}:1.1.0@{d['1.1.0']}")
    assert remote.show(COMPOSE) == want


def test_anonymous_denied_then_authorised_via_xdg_runtime_dir(
        tls_token_registry, tls_token_service, make_remote, make_agent, ca, tmp_path):
    reg, svc = tls_token_registry, tls_token_service
    agent, remote, before, digests = _setup(reg, make_remote, make_agent, ca)
    base = remote.head()
    run_dir = str(tmp_path / "xdg-run")
    os.makedirs(run_dir)

    svc.clear()
    r = agent.once(env={"XDG_RUNTIME_DIR": run_dir})
    assert r.code == 1, str(r)
    assert reg.host in r.stderr and "denied" in r.stderr, str(r)
    assert remote.head() == base
    reqs = _agent_reqs(svc)
    assert reqs and all(q.user is None and q.status == 401 for q in reqs), reqs

    # Lookup order: $XDG_RUNTIME_DIR/containers/auth.json comes before
    # ~/.docker/config.json, whose stale password must not be used.
    _write_json(os.path.join(run_dir, "containers", "auth.json"),
                {"auths": {reg.host: {"auth": _b64(*ALICE)}}})
    _write_json(os.path.join(agent.home, ".docker", "config.json"),
                {"auths": {reg.host: {"auth": _b64(ALICE[0], "stale-Pw-000")}}})
    svc.clear()
    r = agent.once(env={"XDG_RUNTIME_DIR": run_dir})
    assert r.code == 0, str(r)
    _assert_bumped(remote, before, reg, digests)
    reqs = _agent_reqs(svc)
    assert reqs and all((q.user, q.password, q.status) == (ALICE[0], ALICE[1], 200)
                        for q in reqs), reqs
    for secret in (ALICE[1], _b64(*ALICE), "stale-Pw-000"):
        assert secret not in r.stdout + r.stderr, "secret leaked"


def test_docker_config_and_malformed_file(tls_token_registry, tls_token_service, make_remote,
                                          make_agent, ca):
    reg, svc = tls_token_registry, tls_token_service
    agent, remote, before, digests = _setup(reg, make_remote, make_agent, ca)
    cfg = _write_json(os.path.join(agent.home, ".docker", "config.json"),
                      {"auths": {f"https://{reg.host}": {"auth": _b64(*ALICE)}}})
    # A broken file earlier in the order is an error naming it, not a skip.
    broken = os.path.join(agent.home, ".config", "containers", "auth.json")
    os.makedirs(os.path.dirname(broken))
    with open(broken, "w") as f:
        f.write("{not json")
    base = remote.head()
    r = agent.once()
    assert r.code == 1, str(r)
    assert broken in r.stderr and "not valid JSON" in r.stderr, str(r)
    assert remote.head() == base
    os.unlink(broken)
    svc.clear()
    r = agent.once()
    assert r.code == 0, str(r)
    _assert_bumped(remote, before, reg, digests)
    assert all(q.user == ALICE[0] and q.status == 200 for q in _agent_reqs(svc))
    assert os.path.exists(cfg)


def test_token_reused_within_a_cycle(tls_token_registry, tls_token_service, make_remote,
                                     make_agent, ca, tmp_path):
    reg, svc = tls_token_registry, tls_token_service
    agent, remote, before, digests = _setup(reg, make_remote, make_agent, ca,
                                            repos=(WEB, API))
    _write_json(str(tmp_path / "explicit.json"), {"auths": {reg.host: {"auth": _b64(*ALICE)}}})
    agent.settings["MD_REGISTRY_AUTH_FILE"] = str(tmp_path / "explicit.json")
    agent.write_env()
    svc.clear()
    r = agent.once()
    assert r.code == 0, str(r)
    _assert_bumped(remote, before, reg, digests)
    # Tag list, HEADs and manifest/config fetches of one repository share one
    # token: one token request per repository scope, each with credentials.
    reqs = _agent_reqs(svc)
    scopes = sorted(s for q in reqs for s in q.scopes)
    assert scopes == [f"repository:{API}:pull", f"repository:{WEB}:pull"], reqs
    assert all(q.user == ALICE[0] and q.status == 200 for q in reqs), reqs


def test_token_expiry_reauthenticates(tls_token_registry, tls_token_service, make_remote,
                                      make_agent, ca, tmp_path):
    reg, svc = tls_token_registry, tls_token_service
    agent, remote, before, digests = _setup(reg, make_remote, make_agent, ca)
    run_dir = str(tmp_path / "xdg-run")
    _write_json(os.path.join(run_dir, "containers", "auth.json"),
                {"auths": {reg.host: {"auth": _b64(*ALICE)}}})
    env = {"XDG_RUNTIME_DIR": run_dir}
    svc.ttl = 1  # expires_in: 1, and the registry enforces the JWT's exp
    svc.clear()
    r = agent.once(env=env)
    assert r.code == 0, str(r)
    _assert_bumped(remote, before, reg, digests)
    first = _agent_reqs(svc)
    assert first and all(q.status == 200 for q in first), first
    time.sleep(2)  # every token issued so far has expired at the registry
    svc.clear()
    r = agent.once(env=env)  # nothing to change, but the registry is asked again
    assert r.code == 0, str(r)
    assert "denied" not in r.stderr, str(r)
    again = _agent_reqs(svc)
    # A token that expires within the safety margin is never reused: each
    # registry request that needs one gets a fresh one.
    assert again and all(q.user == ALICE[0] and q.status == 200 for q in again), again


HELPER = """#!/bin/sh
# docker-credential-magostest: the Docker credential helper protocol.
[ "$1" = get ] || exit 2
read -r url
printf '%s\\n' "$url" >> "{log}"
case "$url" in
{host}) printf '{{"ServerURL":"%s","Username":"{user}","Secret":"{secret}"}}\\n' "$url" ;;
*) echo 'credentials not found in native keychain'; exit 1 ;;
esac
"""


def _install_helper(tmp_path, host, user, secret):
    bindir = tmp_path / "helper-bin"
    bindir.mkdir()
    log = tmp_path / "helper.log"
    prog = bindir / "docker-credential-magostest"
    prog.write_text(HELPER.format(log=log, host=host, user=user, secret=secret))
    prog.chmod(0o755)
    return str(bindir), log


def test_credential_helper(tls_token_registry, tls_token_service, make_remote, make_agent, ca,
                           tmp_path):
    reg, svc = tls_token_registry, tls_token_service
    agent, remote, before, digests = _setup(reg, make_remote, make_agent, ca)
    bindir, log = _install_helper(tmp_path, reg.host, *ALICE)
    # credHelpers win over an auths entry for the same registry
    _write_json(os.path.join(agent.home, ".config", "containers", "auth.json"),
                {"auths": {reg.host: {"auth": _b64(ALICE[0], "stale-Pw-000")}},
                 "credHelpers": {reg.host: "magostest"}})
    svc.clear()
    r = agent.once(env={"PATH": f"{bindir}:/usr/bin:/bin"})
    assert r.code == 0, str(r)
    _assert_bumped(remote, before, reg, digests)
    assert log.read_text().splitlines()[0] == reg.host  # the server URL on stdin
    reqs = _agent_reqs(svc)
    assert reqs and all((q.user, q.password, q.status) == (ALICE[0], ALICE[1], 200)
                        for q in reqs), reqs
    assert ALICE[1] not in r.stdout + r.stderr


def test_credential_helper_identity_token(tls_token_registry, tls_token_service, make_remote,
                                          make_agent, ca, tmp_path):
    reg, svc = tls_token_registry, tls_token_service
    refresh = "refresh-Tok-5151"
    svc.refresh_tokens[refresh] = ALICE[0]
    agent, remote, before, digests = _setup(reg, make_remote, make_agent, ca)
    bindir, _ = _install_helper(tmp_path, reg.host, "<token>", refresh)
    _write_json(os.path.join(agent.home, ".docker", "config.json"),
                {"credHelpers": {reg.host: "magostest"}})
    svc.clear()
    r = agent.once(env={"PATH": f"{bindir}:/usr/bin:/bin"})
    assert r.code == 0, str(r)
    _assert_bumped(remote, before, reg, digests)
    reqs = _agent_reqs(svc)
    assert reqs and all((q.user, q.password, q.status) == (ALICE[0], "<refresh>", 200)
                        for q in reqs), reqs
    form = svc.forms[-1]
    assert form["grant_type"] == "refresh_token" and form["client_id"] == "magos-dominus"
    assert form["service"] == svc.service and form["scope"] == f"repository:{WEB}:pull"
    assert refresh not in r.stdout + r.stderr


def test_missing_credential_helper_is_an_error(tls_token_registry, make_remote, make_agent,
                                               ca):
    reg = tls_token_registry
    agent, remote, before, _ = _setup(reg, make_remote, make_agent, ca)
    _write_json(os.path.join(agent.home, ".docker", "config.json"),
                {"credHelpers": {reg.host: "magos-absent"}})
    r = agent.once()
    assert r.code == 1, str(r)
    assert "docker-credential-magos-absent" in r.stderr, str(r)
    assert remote.show(COMPOSE) == before

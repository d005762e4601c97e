"""`check` also checks what the enabled features need from this host — the
compose command and its engine, the age identities, the GitHub App's key —
offline, naming the key and where it was set."""
import os
import shutil

import pytest

from mdtest import gitutil, sopsenc
from mdtest.compose import compose_site

SITE = "stacks/web/compose.yaml"


@pytest.fixture
def agent_with_clone(make_remote, make_agent):
    def make(**settings):
        remote = make_remote({SITE: compose_site("127.0.0.1:9/app/web:1.0.0",
                                                 policy="semver")})
        agent = make_agent(remote, "127.0.0.1:9", **settings)
        gitutil.clone(remote.home, remote.url, agent.repo)
        return agent
    return make


def private_file(agent, name, text):
    path = os.path.join(agent.tmp, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


def test_missing_compose_command_and_bad_age_key(agent_with_clone):
    agent = agent_with_clone(MD_APPLY="true", MD_COMPOSE_CMD="/nonexistent/compose up")
    bad_key = private_file(agent, "age.txt", "# not a key\nAGE-SECRET-KEY-1NOTVALID\n")
    agent.settings["MD_AGE_KEY_FILE"] = bad_key
    agent.write_env()
    c = agent.check()
    assert c.code == 1, str(c)
    assert any(line.startswith(f"{agent.env_file}:") and
               "MD_COMPOSE_CMD: '/nonexistent/compose' is not an executable on PATH" in line
               for line in c.lines), str(c)
    assert any(line.startswith("MD_AGE_KEY_FILE: ") and f"{bad_key}:2:" in line
               for line in c.lines), str(c)
    # the key itself never appears in the output
    assert "NOTVALID" not in c.stdout + c.stderr, str(c)


def test_good_applier_setup_passes(agent_with_clone):
    if not shutil.which("podman-compose", path="/usr/bin:/bin") or \
            not shutil.which("podman", path="/usr/bin:/bin"):
        pytest.skip("podman-compose/podman not installed")
    agent = agent_with_clone(MD_APPLY="true")
    sopsenc.keygen(os.path.join(agent.tmp, "keys.txt"))
    agent.settings["MD_AGE_KEY_FILE"] = os.path.join(agent.tmp, "keys.txt")
    agent.write_env()
    c = agent.check()
    assert c.code == 0, str(c)
    assert c.lines == ["ok: 1 sites in 1 files"], str(c)


def test_github_key_that_is_not_rsa(agent_with_clone):
    agent = agent_with_clone()
    key = private_file(agent, "app.pem", "-----BEGIN RSA PRIVATE KEY-----\nnope\n"
                                         "-----END RSA PRIVATE KEY-----\n")
    agent.settings.update({"MD_GITHUB_APP_ID": "123", "MD_GITHUB_APP_KEY_FILE": key})
    agent.write_env()
    c = agent.check()
    assert c.code == 1, str(c)
    assert any("MD_GITHUB_APP_KEY_FILE: " in line and "not an RSA private key" in line
               for line in c.lines), str(c)

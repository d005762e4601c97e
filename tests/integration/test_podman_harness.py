"""The podman sandbox (mdtest/podman.py) really runs containers: a busybox
image pushed through the registry API, started by podman-compose with the
sandbox environment, seen running, and removed again by cleanup()."""
import os

import pytest

from mdtest import podman as pm


@pytest.fixture
def podman_sandbox(request, tmp_path, registry_server):
    sb = pm.PodmanSandbox(str(tmp_path / "podman"), registries=[registry_server.host])
    request.addfinalizer(sb.cleanup)
    sb.require_working(registry_server)
    return sb


def _stack(directory, text):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "compose.yaml"), "w") as f:
        f.write(text)
    return directory


def test_compose_stack_runs_and_is_cleaned_up(podman_sandbox, registry_server, tmp_path):
    sb = podman_sandbox
    proj = sb.project("web")
    digest = sb_push = pm.push_env_writer(registry_server, "apps/web", "1.0", "GREETING",
                                          "/tmp/greeting",
                                          source="https://example.test/acme/web")
    assert sb_push.startswith("sha256:")
    pm.push_healthcheck(registry_server, "apps/hc", "1.0", passes=True)
    ref = registry_server.ref("apps/web", "1.0", digest)
    stack = _stack(str(tmp_path / proj), f"""\
services:
  web:
    image: {ref}
    environment:
      GREETING: hello-from-compose
  hc:
    image: {registry_server.ref("apps/hc", "1.0")}
""")
    sb.compose(proj, stack, "pull")
    sb.compose(proj, stack, "up", "-d")
    st = sb.wait_running(proj, ["web", "hc"])
    assert st["web"][0] == "running"
    name = next(c["Name"] for c in sb.containers(proj)
                if c["Config"]["Labels"]["com.docker.compose.service"] == "web")
    assert sb.exec(name, "cat", "/tmp/greeting") == "hello-from-compose"
    web = next(c for c in sb.containers(proj)
               if c["Config"]["Labels"]["com.docker.compose.service"] == "web")
    assert web["Config"]["Labels"]["org.opencontainers.image.source"] == \
        "https://example.test/acme/web"
    assert f"{registry_server.host}/apps/web@{digest}" in sb.image_digests(web["Image"])

    # The healthcheck stays "starting" (no systemd timers) until it is run.
    hc = next(c["Name"] for c in sb.containers(proj)
              if c["Config"]["Labels"]["com.docker.compose.service"] == "hc")
    assert sb.healthcheck_run(hc) == 0
    assert sb.service_state(proj)["hc"][2] == "healthy"

    assert sb.cleanup() == []
    assert sb.container_ids(proj) == []
    left = [i for i in sb._json("images", "--format", "json")
            if any(n.startswith(registry_server.host + "/") for n in i.get("Names") or [])]
    assert left == []


def test_exiting_and_unhealthy_images(podman_sandbox, registry_server, tmp_path):
    sb = podman_sandbox
    proj = sb.project("bad")
    pm.push_exiter(registry_server, "apps/exit", "3", code=3)
    pm.push_healthcheck(registry_server, "apps/sick", "1", passes=False)
    stack = _stack(str(tmp_path / proj), f"""\
services:
  quits:
    image: {registry_server.ref("apps/exit", "3")}
  sick:
    image: {registry_server.ref("apps/sick", "1")}
""")
    sb.compose(proj, stack, "up", "-d")
    st = sb.wait_running(proj, ["sick"])
    sick = next(c["Name"] for c in sb.containers(proj)
                if c["Config"]["Labels"]["com.docker.compose.service"] == "sick")
    assert sb.healthcheck_run(sick) != 0
    st = sb.service_state(proj)
    assert st["sick"][2] == "unhealthy"
    assert st["quits"][0] == "exited" and st["quits"][1] == 3
    quits = next(c["Name"] for c in sb.containers(proj)
                 if c["Config"]["Labels"]["com.docker.compose.service"] == "quits")
    assert "exiting with 3" in sb.logs(quits)

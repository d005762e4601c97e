"""MD_APPLY with a one-shot service: an init/migration container that runs
once and exits 0 (`restart: "no"`, and another service waits on it with
`condition: service_completed_successfully`) is done, not failed; a one-shot
that exits non-zero fails its stack, which is rolled back as usual.

podman-compose 1.0.3 reads depends_on (list or map) only for the start order
and ignores `condition`: web may start before migrate has finished. The
agent's rule does not depend on that; these tests only assert what the agent
decides."""
import pytest

from mdtest.podman import push_exiter, push_sleeper
from test_apply import ANN, apply_agent, image, logged, once, runs_digest, sb  # noqa: F401


def stack(migrate, web, annotate=False):
    return ("services:\n"
            "  migrate:\n"
            f"    image: {migrate}{' ' + ANN if annotate else ''}\n"
            "    restart: \"no\"\n"
            "  web:\n"
            f"    image: {web}\n"
            "    depends_on:\n"
            "      migrate:\n"
            "        condition: service_completed_successfully\n")


def migrate_state(sb, proj):
    state = sb.service_state(proj)
    assert "migrate" in state, state
    return state["migrate"][:2]


def test_oneshot_exit_0_is_applied_and_no_drift(sb, registry_server, make_remote,
                                                make_agent, tmp_path):
    reg = registry_server
    app = sb.project("app")
    m1 = push_exiter(reg, "apps/migrate", "1.0.0", code=0)
    w1 = push_sleeper(reg, "apps/web", "1.0.0")
    remote = make_remote({f"{app}/compose.yaml": stack(image(reg, "apps/migrate", "1.0.0", m1),
                                                       image(reg, "apps/web", "1.0.0", w1))})
    agent = apply_agent(make_agent, remote, reg, tmp_path)

    res = once(agent, sb)
    assert logged(res, "stack applied", stack=app, reason="first start"), res
    assert not logged(res, "stack failed")
    runs_digest(sb, app, w1, svc="web")
    assert migrate_state(sb, app) == ("exited", 0)

    # The finished one-shot is not drift: nothing is re-applied.
    res = once(agent, sb)
    assert not logged(res, "drift repaired"), res
    assert not logged(res, "stack applied"), res
    assert not logged(res, "stack failed"), res
    assert migrate_state(sb, app) == ("exited", 0)


def test_oneshot_exit_nonzero_fails_and_is_rolled_back(sb, registry_server, make_remote,
                                                       make_agent, tmp_path):
    reg = registry_server
    app = sb.project("app")
    m1 = push_exiter(reg, "apps/migrate", "1.0.0", code=0)
    w1 = push_sleeper(reg, "apps/web", "1.0.0")
    web = image(reg, "apps/web", "1.0.0", w1)
    good = stack(image(reg, "apps/migrate", "1.0.0", m1), web, annotate=True)
    remote = make_remote({f"{app}/compose.yaml": good})
    agent = apply_agent(make_agent, remote, reg, tmp_path)
    res = once(agent, sb)
    assert logged(res, "stack applied", stack=app), res

    # The agent's update to a migration that exits 3 fails the stack: it is
    # reverted in Git and the last good version runs again.
    bad = push_exiter(reg, "apps/migrate", "1.1.0", code=3)
    res = once(agent, sb, code=1)
    (failed,) = logged(res, "stack failed", stack=app)
    assert "service migrate exited (3)" in failed["error"], failed
    assert "exiting with 3" in failed["error"], failed  # the log tail
    assert logged(res, "reverted", stack=app), res
    assert logged(res, "stack rolled back", stack=app), res
    assert remote.show(f"{app}/compose.yaml").decode() == good
    assert bad in remote.show(f"{app}/compose.yaml", rev=f"{remote.branch}~1").decode()
    runs_digest(sb, app, w1, svc="web")
    assert migrate_state(sb, app) == ("exited", 0)

"""MD_APPLY end to end: real podman + podman-compose + docker-registry.

The agent deploys what Git declares (its own updates and humans' commits),
rolls a failing stack back (reverting its own update in Git and marking the
digest bad; running the last good compose file for a human's change),
repairs drift, and hands SOPS secrets to containers without leaving
plaintext on disk."""
import os

import pytest

from mdtest import sopsenc
from mdtest.podman import PodmanSandbox, push_exiter, push_healthcheck, push_sleeper

ANN = '# {"magos": {"policy": "semver"}}'


@pytest.fixture
def sb(request, tmp_path, registry_server):
    box = PodmanSandbox(str(tmp_path / "podman"), registries=[registry_server.host])
    request.addfinalizer(box.cleanup)
    box.require_working(registry_server)
    return box


def compose(image, annotate=True, env_file=None):
    text = f"services:\n  app:\n    image: {image}{' ' + ANN if annotate else ''}\n"
    if env_file:
        text += f"    env_file: {env_file}\n"
    return text


def image(reg, repo, tag, digest):
    return f"{reg.host}/{repo}:{tag}@{digest}"


def apply_agent(make_agent, remote, reg, tmp_path, **kw):
    settings = {"MD_APPLY": "true", "MD_HEALTH_TIMEOUT": "20s", "MD_COMPOSE_TIMEOUT": "2m",
                "MD_RUNTIME_DIR": str(tmp_path / "run"), "MD_LOG_LEVEL": "debug"}
    settings.update(kw)
    return make_agent(remote, reg.host, **settings)


def once(agent, sb, code=0):
    res = agent.once(env=sb.env, timeout=240)
    assert res.code == code, res
    if os.environ.get('MDT_DEBUG'):
        print(res.stderr)
    return res


def logged(res, msg, **fields):
    """Log records with this message (and these field values)."""
    return [r for r in res.logs()
            if r.get("msg") == msg and all(r.get(k) == v for k, v in fields.items())]


def runs_digest(sb, proj, digest, svc="app"):
    state = sb.wait_running(proj, [svc])
    digests = sb.image_digests(state[svc][4])
    assert any(d.endswith("@" + digest) for d in digests), (proj, digest, digests, state)


def test_agent_update_and_human_change_are_deployed(sb, registry_server, make_remote,
                                                    make_agent, tmp_path, scratch):
    reg = registry_server
    web, db = sb.project("web"), sb.project("db")
    w1 = push_sleeper(reg, "apps/web", "1.0.0")
    w2 = push_sleeper(reg, "apps/web", "1.1.0")
    d1 = push_sleeper(reg, "apps/db", "1.0.0")
    remote = make_remote({f"{web}/compose.yaml": compose(image(reg, "apps/web", "1.0.0", w1)),
                          f"{db}/compose.yaml": compose(image(reg, "apps/db", "1.0.0", d1),
                                                        annotate=False)})
    agent = apply_agent(make_agent, remote, reg, tmp_path)

    res = once(agent, sb)
    # The agent's own update (1.0.0 → 1.1.0) is committed, then every stack
    # is applied on first start.
    assert "1.1.0@" + w2 in remote.show(f"{web}/compose.yaml").decode()
    runs_digest(sb, web, w2)
    runs_digest(sb, db, d1)
    assert {r["stack"] for r in logged(res, "stack applied", reason="first start")} == {web, db}
    assert f"applied stack {web}: first start" in res.lines, res

    # plan with a fresh state lists every stack and runs nothing.
    plan = agent.plan(env=dict(sb.env, MD_STATE_DIR=str(tmp_path / "fresh-state")))
    assert plan.code == 0, plan
    assert f"would apply stack {db}: first start" in plan.lines
    assert f"would apply stack {web}: first start" in plan.lines
    # MD_STACKS limits the stacks this host applies (globs on the directory).
    plan = agent.plan(env=dict(sb.env, MD_STATE_DIR=str(tmp_path / "fresh-state"),
                               MD_STACKS="*-db"))
    assert plan.code == 0, plan
    assert [ln for ln in plan.lines if ln.startswith("would apply")] == [
        f"would apply stack {db}: first start"], plan

    # A human's commit changing the other stack is deployed; web is not touched.
    d2 = push_sleeper(reg, "apps/db", "2.0.0")
    remote.commit_files(os.path.join(scratch, "w"),
                        {f"{db}/compose.yaml": compose(image(reg, "apps/db", "2.0.0", d2),
                                                       annotate=False)},
                        message="db 2.0.0 by hand")
    res = once(agent, sb)
    runs_digest(sb, db, d2)
    runs_digest(sb, web, w2)
    applied = logged(res, "stack applied")
    assert [r["stack"] for r in applied] == [db], applied
    assert applied[0]["reason"].startswith("changed in ")

    # Drift: a container removed by hand is recreated; the stack that still
    # runs what Git declares is left alone.
    sb.podman("rm", "-f", "-t", "0", *sb.container_ids(db))
    res = once(agent, sb)
    repaired = logged(res, "drift repaired")
    assert [r["stack"] for r in repaired] == [db], res
    assert repaired[0]["reason"].startswith("drift: service app"), repaired
    assert not logged(res, "stack applied")
    runs_digest(sb, db, d2)


@pytest.mark.parametrize("failure", ["exits", "unhealthy"])
def test_failed_agent_update_is_reverted(sb, registry_server, make_remote, make_agent,
                                         tmp_path, failure):
    reg = registry_server
    web = sb.project("web")
    w1 = push_sleeper(reg, "apps/web", "1.0.0")
    good = compose(image(reg, "apps/web", "1.0.0", w1))
    remote = make_remote({f"{web}/compose.yaml": good})
    agent = apply_agent(make_agent, remote, reg, tmp_path)
    once(agent, sb)
    runs_digest(sb, web, w1)

    if failure == "exits":
        bad = push_exiter(reg, "apps/web", "1.1.0", code=3)
    else:
        bad = push_healthcheck(reg, "apps/web", "1.1.0", passes=False)
    plan = agent.plan(env=sb.env)
    assert plan.code == 0, plan
    assert (f"would apply stack {web}: image update: {reg.host}/apps/web 1.0.0 -> 1.1.0"
            in plan.lines), plan
    # A stack that had to be rolled back makes the run a failure (exit 1).
    res = once(agent, sb, code=1)
    assert f"ROLLED BACK stack {web}: " in res.stdout, res
    # The update was committed, failed, and was reverted on the remote.
    assert logged(res, "stack failed", stack=web)
    assert logged(res, "reverted", stack=web)
    subject = remote.message().split("\n")[0]
    assert subject.startswith(f"magos-dominus: revert {reg.host}/apps/web 1.1.0 → 1.0.0 "
                              f"on {web}: "), subject
    assert remote.show(f"{web}/compose.yaml").decode() == good
    assert bad in remote.show(f"{web}/compose.yaml", rev=f"{remote.branch}~1").decode()
    runs_digest(sb, web, w1)
    assert logged(res, "stack rolled back", stack=web)

    # The bad digest is not proposed again; the stack is left alone.
    head = remote.head()
    res = once(agent, sb, code=1)
    assert remote.head() == head
    assert any("rolled back on this host" in r.get("error", "")
               for r in logged(res, "site skipped")), res
    assert not logged(res, "stack failed")
    runs_digest(sb, web, w1)


def test_failed_human_change_runs_last_good_version(sb, registry_server, make_remote,
                                                    make_agent, tmp_path, scratch):
    reg = registry_server
    web = sb.project("web")
    w1 = push_healthcheck(reg, "apps/web", "1.0.0", passes=True)
    remote = make_remote({f"{web}/compose.yaml": compose(image(reg, "apps/web", "1.0.0", w1),
                                                         annotate=False)})
    agent = apply_agent(make_agent, remote, reg, tmp_path)
    once(agent, sb)
    runs_digest(sb, web, w1)

    w2 = push_healthcheck(reg, "apps/web", "2.0.0", passes=False)
    human = remote.commit_files(os.path.join(scratch, "w"),
                                {f"{web}/compose.yaml":
                                 compose(image(reg, "apps/web", "2.0.0", w2), annotate=False)},
                                message="web 2.0.0 by hand")
    res = once(agent, sb, code=1)
    assert logged(res, "stack failed", stack=web)
    assert logged(res, "stack rolled back", stack=web)
    assert not logged(res, "reverted")
    assert any("Git still declares" in r["msg"] for r in res.logs())
    assert remote.head() == human  # a human's change is never reverted
    runs_digest(sb, web, w1)
    assert sorted(os.listdir(agent.path(web))) == ["compose.yaml"]


def test_sops_env_reaches_the_container(sb, registry_server, make_remote, make_agent,
                                        tmp_path):
    reg = registry_server
    web, bad = sb.project("web"), sb.project("bad")
    w1 = push_sleeper(reg, "apps/web", "1.0.0")
    keys = str(tmp_path / "keys.txt")
    recipient = sopsenc.keygen(keys)
    secret = sopsenc.encrypt_dotenv({"DB_PASSWORD": "s3cret value", "API_TOKEN": "t0k"},
                                    recipient)
    tampered = sopsenc.encrypt_dotenv({"DB_PASSWORD": "x"}, recipient, tamper_mac=True)
    remote = make_remote({f"{web}/compose.yaml": compose(image(reg, "apps/web", "1.0.0", w1),
                                                         annotate=False),
                          f"{web}/app.sops.env": secret,
                          f"{web}/.sops.yaml": "creation_rules:\n  - age: " + recipient + "\n",
                          f"{bad}/compose.yaml": compose(image(reg, "apps/web", "1.0.0", w1),
                                                         annotate=False),
                          f"{bad}/app.sops.env": tampered})
    run_dir = tmp_path / "run"
    agent = apply_agent(make_agent, remote, reg, tmp_path, MD_AGE_KEY_FILE=keys)
    res = once(agent, sb, code=1)  # the tampered stack fails
    assert logged(res, "stack applied", stack=web), res
    runs_digest(sb, web, w1)
    (ctr,) = sb.containers(web)
    env = ctr["Config"]["Env"]
    assert "DB_PASSWORD=s3cret value" in env and "API_TOKEN=t0k" in env, env
    # No plaintext anywhere on disk: the runtime dir is empty, the stack
    # directory holds only what Git has.
    assert os.listdir(run_dir) == []
    assert sorted(os.listdir(agent.path(web))) == [".sops.yaml", "app.sops.env", "compose.yaml"]
    assert "s3cret" not in res.stderr
    # A file whose MAC does not verify refuses its stack, naming the file;
    # no compose command ran for it.
    (failed,) = logged(res, "stack failed", stack=bad)
    assert f"{bad}/app.sops.env" in failed["error"], failed
    assert sb.container_ids(bad) == []

"""A stack deleted from the repository (issue 6 follow-up): by default the
agent warns once and leaves its containers running; with MD_PRUNE=true it
brings the stack down (`compose down`, no -v: named volumes are kept)."""
import os

from mdtest.gitutil import git
from mdtest.podman import push_sleeper
from test_apply import apply_agent, compose, image, logged, once, sb  # noqa: F401 (fixture)

WARNING = ("stack removed from the repository; its containers keep running "
           "(set MD_PRUNE=true to remove them)")


def with_volume(img, volume):
    return (f"services:\n  app:\n    image: {img}\n    volumes:\n      - {volume}:/data\n"
            f"volumes:\n  {volume}:\n")


def delete_dir(remote, work, path, message):
    """Push a commit removing `path` (a directory) from the branch."""
    if not os.path.isdir(os.path.join(work, ".git")):
        git(remote.home, "clone", "-q", "--branch", remote.branch, remote.url, work)
    else:
        git(remote.home, "pull", "-q", "--ff-only", cwd=work)
    git(remote.home, "rm", "-q", "-r", path, cwd=work)
    git(remote.home, "commit", "-q", "-m", message, cwd=work)
    git(remote.home, "push", "-q", "origin", f"HEAD:refs/heads/{remote.branch}", cwd=work)


def two_stacks(sb, reg, make_remote):  # noqa: F811 (sb is the fixture's value)
    old, keep = sb.project("old"), sb.project("keep")
    o1 = push_sleeper(reg, "apps/old", "1.0.0")
    k1 = push_sleeper(reg, "apps/keep", "1.0.0")
    remote = make_remote({
        f"{old}/compose.yaml": with_volume(image(reg, "apps/old", "1.0.0", o1), "data"),
        f"{keep}/compose.yaml": compose(image(reg, "apps/keep", "1.0.0", k1), annotate=False),
    })
    return old, keep, remote


def test_removed_stack_warns_and_keeps_running(sb, registry_server, make_remote,  # noqa: F811
                                               make_agent, tmp_path, scratch):
    reg = registry_server
    old, keep, remote = two_stacks(sb, reg, make_remote)
    agent = apply_agent(make_agent, remote, reg, tmp_path)
    once(agent, sb)
    sb.wait_running(old, ["app"])

    # plan works on the clone as it is (no sync): a stack that leaves
    # MD_STACKS is gone from this host's point of view too.
    plan = agent.plan(env=dict(sb.env, MD_STACKS=keep))
    assert plan.code == 0, plan
    assert not [ln for ln in plan.lines if old in ln], plan
    delete_dir(remote, os.path.join(scratch, "w"), old, "drop the old stack")

    res = once(agent, sb)
    assert logged(res, WARNING, stack=old, project=old), res.stderr
    assert not logged(res, "stack pruned"), res.stderr
    assert sb.service_state(old)["app"][0] == "running"
    sb.wait_running(keep, ["app"])

    # Once: the stack left the state, the next cycle says nothing.
    res = once(agent, sb)
    assert not logged(res, WARNING), res.stderr
    assert sb.service_state(old)["app"][0] == "running"


def test_removed_stack_is_pruned_with_md_prune(sb, registry_server, make_remote,  # noqa: F811
                                               make_agent, tmp_path, scratch):
    reg = registry_server
    old, keep, remote = two_stacks(sb, reg, make_remote)
    agent = apply_agent(make_agent, remote, reg, tmp_path, MD_PRUNE="true")
    once(agent, sb)
    sb.wait_running(old, ["app"])
    volume = f"{old}_data"
    assert sb.podman("volume", "exists", volume, check=False).returncode == 0

    # plan works on the clone as it is (no sync): a stack that leaves
    # MD_STACKS is gone from this host's point of view too.
    plan = agent.plan(env=dict(sb.env, MD_STACKS=keep))
    assert plan.code == 0, plan
    assert f"would apply stack {old}: removed from the repository: prune" in plan.lines, plan
    assert sb.service_state(old)["app"][0] == "running"  # plan changes nothing
    delete_dir(remote, os.path.join(scratch, "w"), old, "drop the old stack")

    res = once(agent, sb)
    assert logged(res, "stack pruned", stack=old, project=old), res.stderr
    assert not logged(res, WARNING), res.stderr
    assert f"applied stack {old}: removed from the repository: pruned" in res.lines, res
    assert sb.container_ids(old) == []
    # No -v: the named volume (user data) survives.
    assert sb.podman("volume", "exists", volume, check=False).returncode == 0
    sb.wait_running(keep, ["app"])
    # The private copy of the old compose file is gone.
    assert not list((tmp_path / "run").glob("prune-*"))

    # Forgotten: the next cycle neither prunes nor warns again.
    res = once(agent, sb)
    assert not logged(res, "stack pruned") and not logged(res, WARNING), res.stderr

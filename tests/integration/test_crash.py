"""Crash safety: SIGKILL aimed at every phase of a cycle, one instance at a time.

build/magos-dominus-hooks is the agent built with tests/crash/hook.c: with
MAGOS_PAUSE_AT=phase it writes "<pid> <phase>" to MAGOS_PAUSE_FILE and waits
there until the file is removed. Each kill test pauses it at a phase, SIGKILLs
it, checks that the clone and the remote pass `git fsck` and that the state
file still loads, then runs the next cycle with the real binary and requires
that it recovers by itself: exit 0, the newest release declared exactly once
(one commit, no duplicate), the clone on the remote's head with a clean work
tree, and no plaintext secret left in MD_RUNTIME_DIR.

MAGOS_CRASH_KILLS (default 5; `make crash-long`: 100) sets the kills per phase.
"""
import json
import os
import signal
import stat
import subprocess
import time

import pytest

from mdtest import gitutil, sopsenc
from mdtest.agent import AUTHOR, REPO_ROOT, Agent
from mdtest.images import push_tags
from mdtest.podman import PodmanSandbox, push_exiter, push_sleeper

KILLS = int(os.environ.get("MAGOS_CRASH_KILLS", "5"))
ANN = '# {"magos": {"policy": "semver", "range": "^1.0"}}'
WEB = "app/web"
STACKS = ("stacks/web/compose.yaml", "stacks/api/compose.yaml")
README = "# homelab\n"
AGENT_EMAIL = AUTHOR.split("<")[1].rstrip(">")
PAUSE_TIMEOUT = 120  # a hung run fails the test instead of hanging the suite
SECRET = "crash-test-s3cret"


def hooks_bin():
    return os.path.abspath(os.environ.get("MAGOS_HOOKS_BIN") or
                           os.path.join(REPO_ROOT, "build", "magos-dominus-hooks"))


@pytest.fixture(scope="module")
def hooks(magos_bin):
    path = hooks_bin()
    if not os.access(path, os.X_OK):
        if os.environ.get("MAGOS_HOOKS_BIN"):
            pytest.fail(f"MAGOS_HOOKS_BIN={path} is not an executable file")
        pytest.skip(f"{path} not built (run `make {os.path.relpath(path, REPO_ROOT)}`)")
    return path


@pytest.fixture(scope="module")
def reg(request, tmp_path_factory):
    """One registry for the module: 1.0.0 and 1.1.0 of app/web (the update)."""
    from mdtest import registry

    r = registry.Registry(str(tmp_path_factory.mktemp("crash-registry")))
    request.addfinalizer(r.stop)
    r.digests = push_tags(r, WEB, ["1.0.0", "1.1.0"])
    return r


class Paused:
    """The hooks binary running `once`, stopped at a phase."""

    def __init__(self, agent, hooks, phase, env=None):
        self.agent = agent
        self.pause = os.path.join(agent.tmp, "pause")
        self.out = open(os.path.join(agent.tmp, f"paused-{phase}.log"), "w+")
        e = agent.environ(dict(env or {}, MAGOS_PAUSE_AT=phase, MAGOS_PAUSE_FILE=self.pause))
        self.proc = subprocess.Popen([hooks, "--config", agent.env_file, "once"], env=e,
                                     cwd=agent.tmp, stdout=self.out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + PAUSE_TIMEOUT
        while not os.path.exists(self.pause):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"the agent never reached phase {phase} "
                                     f"(exit {self.proc.returncode}):\n{self.output()}")
            time.sleep(0.01)
        pid, at = open(self.pause).read().split()
        assert (int(pid), at) == (self.proc.pid, phase)

    def output(self):
        self.out.seek(0)
        return self.out.read()

    def kill(self):
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        os.unlink(self.pause)
        self.out.close()

    def resume(self):
        """Let it go on; → (exit code, output)."""
        os.unlink(self.pause)
        code = self.proc.wait(timeout=PAUSE_TIMEOUT)
        out = self.output()
        self.out.close()
        return code, out


def compose(reg, tag, digest=None):
    return f"services:\n  app:\n    image: {reg.ref(WEB, tag, digest)} {ANN}\n"


def scenario(reg, tmp, n, phase, with_clone=True):
    """A fresh remote (two stacks on 1.0.0, 1.1.0 available) and agent; with
    with_clone the agent's clone exists and the remote has moved on since
    (a person's commit), so the next fetch has a pack to receive."""
    root = os.path.join(str(tmp), f"{phase}-{n}")
    os.makedirs(root)
    remote = gitutil.bare_remote(root, {**{p: compose(reg, "1.0.0") for p in STACKS},
                                        "README.md": README})
    agent = Agent(os.path.join(root, "agent"), git_url=remote.url, registry_host=reg.host,
                  MD_RUNTIME_DIR=os.path.join(root, "run"))
    if with_clone:
        gitutil.clone(remote.home, remote.url, agent.repo)
        remote.commit_files(os.path.join(root, "person"), {"README.md": README + "more\n"},
                            message="a person's commit")
    remote.base = remote.head()
    return remote, agent


def fsck(home, *args):
    p = subprocess.run([gitutil.GIT, *args, "fsck", "--full", "--no-progress"],
                       env=gitutil.git_env(home), capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, f"git {' '.join(args)} fsck failed:\n{p.stdout}{p.stderr}"


def check_after_kill(agent, remote):
    """Nothing corrupt: both repositories pass fsck, the state file loads."""
    fsck(remote.home, "--git-dir", remote.path)
    if os.path.isdir(os.path.join(agent.repo, ".git")):
        fsck(remote.home, "-C", agent.repo)
    state = os.path.join(agent.state_dir, "state.json")
    if os.path.exists(state):
        with open(state) as f:
            json.load(f)


def agent_commits(remote):
    """Commits by the agent on the branch since the scenario's base."""
    out = remote.git("log", "--format=%ae", f"{remote.base}..{remote.branch}")
    return [e for e in out.split() if e == AGENT_EMAIL]


def plaintext_left(run_dir, secret=SECRET):
    """Files under run_dir holding the secret (the agent's stack-* dirs)."""
    found = []
    for root, _dirs, files in os.walk(run_dir):
        for name in files:
            with open(os.path.join(root, name), "rb") as f:
                if secret.encode() in f.read():
                    found.append(os.path.join(root, name))
    return found


def check_recovered(agent, remote, reg, env=None, timeout=60):
    res = agent.once(env=env, timeout=timeout)
    assert res.code == 0, f"did not recover by itself:\n{res}"
    new = reg.ref(WEB, "1.1.0", reg.digests["1.1.0"])
    for path in STACKS:
        text = remote.show(path).decode()
        assert text.count(new) == 1 and "1.0.0" not in text, (path, text)
    assert len(agent_commits(remote)) == 1, remote.git("log", "--format=%H %ae %s")
    assert gitutil.worktree_head(remote.home, agent.repo) == remote.head()
    assert gitutil.worktree_status(remote.home, agent.repo) == ""
    assert not os.path.exists(os.path.join(agent.state_dir, "intent.json"))
    run_dir = agent.settings["MD_RUNTIME_DIR"]
    assert not plaintext_left(run_dir)
    assert not [n for n in (os.listdir(run_dir) if os.path.isdir(run_dir) else [])
                if n.startswith("stack-")]
    again = agent.once(env=env, timeout=timeout)
    assert again.code == 0 and "no changes" in again.lines, str(again)
    return res


# What each kill must have left behind, so a test cannot pass by killing
# at a point where nothing was under way.
def left_clone(agent, remote):
    parent, name = os.path.split(agent.repo)
    assert not os.path.exists(os.path.join(agent.repo, ".git"))
    assert [n for n in os.listdir(parent) if n.startswith(f".{name}.magos-clone-")]


def left_dirty_tree(agent, remote):
    assert gitutil.worktree_status(remote.home, agent.repo) != ""
    assert os.path.exists(os.path.join(agent.state_dir, "intent.json"))


def left_pushed_untracked(agent, remote):
    assert len(agent_commits(remote)) == 1
    tracking = gitutil.git(remote.home, "rev-parse", "refs/remotes/origin/main",
                           cwd=agent.repo).strip()
    assert tracking != remote.head()


def left_tracking_lock(agent, remote):
    assert os.path.exists(os.path.join(agent.repo, ".git/refs/remotes/origin/main.lock"))


def left_state_tmp(agent, remote):
    assert [n for n in os.listdir(agent.state_dir) if n.startswith("state.json.magos-tmp.")]


GIT_PHASES = {
    "clone": left_clone,
    "fetch": None,
    "compose-write": left_dirty_tree,
    "commit": left_dirty_tree,
    "push": left_pushed_untracked,
    "remote-tracking": left_tracking_lock,
    "state-write": left_state_tmp,
}


@pytest.mark.parametrize("phase", list(GIT_PHASES))
def test_sigkill_at_phase_recovers(phase, hooks, reg, tmp_path):
    for n in range(KILLS):
        remote, agent = scenario(reg, tmp_path, n, phase, with_clone=phase != "clone")
        paused = Paused(agent, hooks, phase)
        paused.kill()
        check_after_kill(agent, remote)
        if GIT_PHASES[phase]:
            GIT_PHASES[phase](agent, remote)
        check_recovered(agent, remote, reg)
        if phase == "clone":  # renamed into place with the mode mkdir gives
            mask = os.umask(0o22)
            os.umask(mask)
            assert stat.S_IMODE(os.stat(agent.repo).st_mode) == 0o777 & ~mask


def test_every_phase_is_reached(hooks, reg, tmp_path):
    """The hook points exist where the kill tests expect them (trace of a
    whole cycle that clones, fetches, commits and pushes)."""
    remote, agent = scenario(reg, tmp_path, 0, "trace", with_clone=False)
    trace = os.path.join(agent.tmp, "trace")
    p = subprocess.run([hooks, "--config", agent.env_file, "once"],
                       env=agent.environ({"MAGOS_HOOK_TRACE": trace}), cwd=agent.tmp,
                       capture_output=True, timeout=PAUSE_TIMEOUT)
    assert p.returncode == 0, p
    # the first once clones and does not fetch anything new: a second run
    # after a person's commit, with nothing to update, fetches
    reached = open(trace).read().split()
    for phase in GIT_PHASES:
        if phase != "fetch":
            assert phase in reached, reached
    remote.commit_files(os.path.join(agent.tmp, "person"), {"README.md": "x\n"})
    p = subprocess.run([hooks, "--config", agent.env_file, "once"],
                       env=agent.environ({"MAGOS_HOOK_TRACE": trace}), cwd=agent.tmp,
                       capture_output=True, timeout=PAUSE_TIMEOUT)
    assert p.returncode == 0, p
    assert "fetch" in open(trace).read().split()


# ---- MD_APPLY: killed while `podman-compose up` gets the decrypted secrets ----

@pytest.fixture(scope="module")
def sb(request, tmp_path_factory, reg):
    box = PodmanSandbox(str(tmp_path_factory.mktemp("crash-podman")), registries=[reg.host])
    request.addfinalizer(box.cleanup)
    box.require_working(reg)
    reg.sleepers = {t: push_sleeper(reg, "apps/sleeper", t) for t in ("1.0.0", "1.1.0")}
    return box


def drop_stack(sb, stack):
    """Remove an iteration's containers and network: 100 iterations must not
    leave 100 containers running until the module ends."""
    ids = sb.container_ids(stack)
    if ids:
        sb.podman("rm", "-f", "-t", "0", *ids)
    sb.podman("network", "rm", "-f", f"{stack}_default", check=False)


def test_sigkill_during_compose_up_leaves_no_secret(hooks, reg, sb, tmp_path):
    keys = str(tmp_path / "keys.txt")  # an identity of our own, made by the real age-keygen
    secret = sopsenc.encrypt_dotenv({"DB_PASSWORD": SECRET}, sopsenc.keygen(keys))
    for n in range(KILLS):
        stack = sb.project(f"crash{n}")
        path = f"{stack}/compose.yaml"
        root = str(tmp_path / f"up-{n}")
        os.makedirs(root)
        old = f"{reg.host}/apps/sleeper:1.0.0@{reg.sleepers['1.0.0']}"
        remote = gitutil.bare_remote(root, {
            path: f"services:\n  app:\n    image: {old} {ANN}\n",
            f"{stack}/app.sops.env": secret})
        remote.base = remote.head()
        run_dir = os.path.join(root, "run")
        agent = Agent(os.path.join(root, "agent"), git_url=remote.url, registry_host=reg.host,
                      MD_APPLY="true", MD_RUNTIME_DIR=run_dir, MD_HEALTH_TIMEOUT="30s",
                      MD_COMPOSE_TIMEOUT="2m",
                      MD_AGE_KEY_FILE=keys)
        paused = Paused(agent, hooks, "compose-up", env=sb.env)
        assert plaintext_left(run_dir), "no decrypted env file while up was starting"
        paused.kill()
        check_after_kill(agent, remote)
        assert plaintext_left(run_dir)  # what the kill left: the next start removes it
        res = agent.once(env=sb.env, timeout=240)
        assert res.code == 0, f"did not recover by itself:\n{res}"
        assert not plaintext_left(run_dir)
        assert os.listdir(run_dir) == []
        new = f"{reg.host}/apps/sleeper:1.1.0@{reg.sleepers['1.1.0']}"
        assert remote.show(path).decode().count(new) == 1
        assert len(agent_commits(remote)) == 1
        assert gitutil.worktree_status(remote.home, agent.repo) == ""
        state = sb.wait_running(stack, ["app"])
        assert any(d.endswith("@" + reg.sleepers["1.1.0"])
                   for d in sb.image_digests(state["app"][4]))
        ctr = sb.containers(stack)[0]
        assert f"DB_PASSWORD={SECRET}" in ctr["Config"]["Env"]
        assert SECRET not in res.stderr
        drop_stack(sb, stack)


def test_sigkill_during_a_revert_recovers(hooks, reg, sb, tmp_path):
    """The agent's update fails on this host and the agent reverts it in Git:
    killed with the revert written but not committed, the next cycle undoes
    the half-made revert and makes it again, once. (Not a phase of every
    cycle: 1 kill in `make test`, KILLS/5 with crash-long.)"""
    for n in range(max(1, KILLS // 5)):
        stack = sb.project(f"revert{n}")
        path = f"{stack}/compose.yaml"
        root = str(tmp_path / f"revert-{n}")
        os.makedirs(root)
        repo = f"apps/flaky{n}"
        good = (f"services:\n  app:\n    image: {reg.host}/{repo}:1.0.0@"
                f"{push_sleeper(reg, repo, '1.0.0')} {ANN}\n")
        remote = gitutil.bare_remote(root, {path: good})
        agent = Agent(os.path.join(root, "agent"), git_url=remote.url, registry_host=reg.host,
                      MD_APPLY="true", MD_RUNTIME_DIR=os.path.join(root, "run"),
                      MD_HEALTH_TIMEOUT="30s", MD_COMPOSE_TIMEOUT="2m")
        first = agent.once(env=sb.env, timeout=240)  # 1.0.0 runs: the last good version
        assert first.code == 0, str(first)
        remote.base = remote.head()
        push_exiter(reg, repo, "1.1.0", code=3)
        paused = Paused(agent, hooks, "revert", env=sb.env)
        paused.kill()
        check_after_kill(agent, remote)
        left_dirty_tree(agent, remote)
        assert len(agent_commits(remote)) == 1  # the update, not yet its revert
        res = agent.once(env=sb.env, timeout=240)
        # recovered by itself: the stack rolled back (exit 1 says so), reverted once
        assert res.code == 1 and f"ROLLED BACK stack {stack}: " in res.stdout, str(res)
        assert "uncommitted changes" not in res.stderr, str(res)
        assert remote.show(path).decode() == good
        assert len(agent_commits(remote)) == 2, remote.git("log", "--format=%H %ae %s")
        assert gitutil.worktree_head(remote.home, agent.repo) == remote.head()
        assert gitutil.worktree_status(remote.home, agent.repo) == ""
        assert not os.path.exists(os.path.join(agent.state_dir, "intent.json"))
        drop_stack(sb, stack)


# ---- one instance -----------------------------------------------------------------

def test_second_instance_exits_2_naming_the_holder(hooks, reg, tmp_path):
    remote, agent = scenario(reg, tmp_path, 0, "lock")
    paused = Paused(agent, hooks, "compose-write")
    try:
        second = agent.once()
        assert second.code == 2, str(second)
        (rec,) = [r for r in second.logs() if r.get("level") == "error"]
        assert rec["pid"] == str(paused.proc.pid), rec
        assert rec["lock"] == os.path.join(agent.state_dir, "lock"), rec
        # plan and check write nothing and run beside it
        assert agent.plan().code == 0
        assert agent.check().code == 0
    finally:
        code, out = paused.resume()
    assert code == 0, out
    assert len(agent_commits(remote)) == 1


def test_three_started_together_leave_a_consistent_clone(reg, tmp_path, magos_bin):
    remote, agent = scenario(reg, tmp_path, 0, "three")
    procs = [subprocess.Popen([magos_bin, "--config", agent.env_file, "once"],
                              env=agent.environ(), cwd=agent.tmp, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
             for _ in range(3)]
    results = [(p.wait(timeout=PAUSE_TIMEOUT), p.stdout.read().decode(),
                p.stderr.read().decode()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert set(codes) <= {0, 2} and 0 in codes, results
    for code, _out, err in results:
        if code == 2:
            assert '"pid":"' in err, err
    fsck(remote.home, "-C", agent.repo)
    check_recovered(agent, remote, reg)


# ---- what earlier runs left behind ------------------------------------------------

def test_stale_git_lock_files_are_removed(reg, tmp_path):
    remote, agent = scenario(reg, tmp_path, 0, "locks")
    git_dir = os.path.join(agent.repo, ".git")
    stale = ["index.lock", "HEAD.lock", "config.lock", "packed-refs.lock",
             "refs/heads/main.lock", "refs/remotes/origin/main.lock"]
    for rel in stale:
        with open(os.path.join(git_dir, rel), "w") as f:
            f.write("stale\n")
    res = check_recovered(agent, remote, reg)
    for rel in stale:
        assert not os.path.exists(os.path.join(git_dir, rel)), rel
    removed = {r["path"] for r in res.logs()
               if r.get("msg") == "removed a stale git lock file left by an earlier run"}
    assert removed == {os.path.join(git_dir, rel) for rel in stale}, removed


def test_stale_secrets_are_removed_and_nothing_else(reg, tmp_path):
    remote, agent = scenario(reg, tmp_path, 0, "secrets")
    run_dir = agent.settings["MD_RUNTIME_DIR"]
    os.makedirs(os.path.join(run_dir, "stack-Ab3xYz"))
    with open(os.path.join(run_dir, "stack-Ab3xYz", "1.env"), "w") as f:
        f.write(f"DB_PASSWORD={SECRET}\n")
    os.makedirs(os.path.join(run_dir, "stack-notours"))   # not mkdtemp's naming
    with open(os.path.join(run_dir, "keep.env"), "w") as f:
        f.write("not the agent's\n")
    res = agent.once()
    assert res.code == 0, str(res)
    assert sorted(os.listdir(run_dir)) == ["keep.env", "stack-notours"]
    assert [r["path"] for r in res.logs()
            if r.get("msg") == "removed decrypted secrets left by an earlier run"] == [
        os.path.join(run_dir, "stack-Ab3xYz")]


def test_git_init_and_remote_add_then_once(reg, tmp_path):
    remote, agent = scenario(reg, tmp_path, 0, "init", with_clone=False)
    gitutil.git(remote.home, "-c", "init.defaultBranch=master", "init", "-q", agent.repo)
    gitutil.git(remote.home, "-C", agent.repo, "remote", "add", "origin", remote.url)
    check_recovered(agent, remote, reg)


def test_commit_failure_after_staging_leaves_a_clean_tree(hooks, reg, tmp_path):
    """A held refs/heads/main.lock fails the commit after the files are
    written and staged: the cycle fails, the tree and index are as before,
    and the next cycle (the lock now stale) commits once."""
    remote, agent = scenario(reg, tmp_path, 0, "commitfail")
    paused = Paused(agent, hooks, "compose-write")
    lock = os.path.join(agent.repo, ".git", "refs", "heads", "main.lock")
    with open(lock, "w") as f:
        f.write("held\n")
    code, out = paused.resume()
    assert code == 1 and "cannot commit" in out, out
    assert gitutil.worktree_status(remote.home, agent.repo) == "", out
    assert not os.path.exists(os.path.join(agent.state_dir, "intent.json"))
    assert agent_commits(remote) == []
    check_recovered(agent, remote, reg)


def test_person_edit_after_a_crash_is_still_refused(hooks, reg, tmp_path):
    """Killed half-way, then a person edits one of the files: the agent
    undoes only what is its own and refuses the person's edit."""
    remote, agent = scenario(reg, tmp_path, 0, "person")
    Paused(agent, hooks, "compose-write").kill()
    edited = STACKS[0]
    with open(agent.path(edited), "a") as f:
        f.write("# a person's note\n")
    res = agent.once()
    assert res.code == 1, str(res)
    assert "uncommitted changes" in res.stderr and edited in res.stderr, str(res)
    status = gitutil.worktree_status(remote.home, agent.repo)
    assert status.split() == ["M", edited], status
    assert agent_commits(remote) == []

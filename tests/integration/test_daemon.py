"""`run`: the loop repeats cycles, SIGUSR1 runs one now, SIGHUP reloads the
configuration (a bad one is rejected and the old one kept), SIGTERM stops
cleanly with exit 0 and leaves no half-made change."""
import json
import signal
import subprocess
import threading
import time

from mdtest import gitutil
from mdtest.agent import magos_bin
from mdtest.compose import compose_site
from mdtest.images import push_tags

WEB = "app/web"
COMPOSE = "stacks/web/compose.yaml"


class Daemon:
    """`magos-dominus run` in the background, its JSON log read line by line."""

    def __init__(self, agent):
        self.agent = agent
        self.proc = subprocess.Popen([magos_bin(), "--config", agent.env_file, "run"],
                                     env=agent.environ(), cwd=agent.tmp,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.records = []

    def wait_for(self, msg, count=1, timeout=30):
        """Read log records until `msg` has been seen `count` times."""
        deadline = time.monotonic() + timeout
        while sum(r.get("msg") == msg for r in self.records) < count:
            assert time.monotonic() < deadline, f"no {msg!r} after {timeout}s: {self.records}"
            line = self.proc.stderr.readline()
            assert line, f"daemon exited ({self.proc.poll()}) before {msg!r}: {self.records}"
            self.records.append(json.loads(line))
        return [r for r in self.records if r.get("msg") == msg]

    def stop(self, timeout=20):
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        rest = self.proc.stderr.read()
        self.records += [json.loads(x) for x in rest.splitlines() if x.strip()]
        return code

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def test_run_cycles_signals_and_reload(registry_server, make_remote, make_agent):
    reg = registry_server
    push_tags(reg, WEB, ["1.0.0", "1.1.0"])
    before = compose_site(reg.ref(WEB, "1.0.0"), policy="semver", range="^1.0").encode()
    remote = make_remote({COMPOSE: before})
    agent = make_agent(remote, reg.host, MD_INTERVAL="1h")
    d = Daemon(agent)
    try:
        d.wait_for("cycle finished")
        first = remote.head()
        assert remote.count() == 2, "the first cycle commits the bump"

        # A new release, then SIGUSR1: a cycle now instead of in an hour.
        digests = push_tags(reg, WEB, ["1.2.0"])
        d.proc.send_signal(signal.SIGUSR1)
        d.wait_for("cycle finished", count=2)
        assert remote.head() != first
        assert reg.ref(WEB, "1.2.0", digests["1.2.0"]).encode() in remote.show(COMPOSE)

        # A broken configuration on SIGHUP is rejected; the daemon keeps going.
        agent.write_env(["MD_INTERVALL=5m"])
        d.proc.send_signal(signal.SIGHUP)
        rejected = d.wait_for("configuration reload rejected; keeping the old one")
        assert "MD_INTERVALL" in rejected[0]["error"]
        assert d.proc.poll() is None

        # A good one is taken.
        agent.write_env()
        d.proc.send_signal(signal.SIGHUP)
        d.wait_for("configuration reloaded")

        assert d.stop() == 0
        assert any(r.get("msg") == "stopping" for r in d.records)
    finally:
        d.kill()
    # Nothing half-made: the clone is clean and on the remote's head.
    assert gitutil.worktree_status(remote.home, agent.repo) == ""
    assert gitutil.worktree_head(remote.home, agent.repo) == remote.head()


def test_sigterm_while_waiting_exits_zero(registry_server, make_remote, make_agent):
    reg = registry_server
    push_tags(reg, WEB, ["1.0.0"])
    before = compose_site(reg.ref(WEB, "1.0.0"), policy="semver", range="^1.0").encode()
    remote = make_remote({COMPOSE: before})
    agent = make_agent(remote, reg.host, MD_INTERVAL="1h")
    d = Daemon(agent)
    try:
        d.wait_for("cycle finished")
        # The next cycle is an hour away: stop() would time out if SIGTERM
        # did not end the wait.
        assert d.stop() == 0
    finally:
        d.kill()


def test_run_with_bad_config_exits_2(make_agent, tmp_path):
    agent = make_agent(None, None, MD_REPO="relative/path")
    p = subprocess.run([magos_bin(), "--config", agent.env_file, "run"], env=agent.environ(),
                       capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert p.returncode == 2, p
    assert "MD_REPO" in p.stderr


def test_run_reuses_the_bearer_token_across_cycles(token_registry, token_service, make_remote,
                                                   make_agent):
    """The daemon keeps its registry client between cycles: a steady cycle
    pays no token request while the token lives."""
    reg = token_registry
    push_tags(reg, WEB, ["1.0.0", "1.1.0"])
    before = compose_site(reg.ref(WEB, "1.0.0"), policy="semver", range="^1.0").encode()
    remote = make_remote({COMPOSE: before})
    agent = make_agent(remote, reg.host, MD_INTERVAL="1h")
    token_service.clear()
    d = Daemon(agent)
    try:
        d.wait_for("cycle finished")
        first = [q for q in token_service.recorded() if q.user is None]
        assert first, token_service.recorded()
        d.proc.send_signal(signal.SIGUSR1)
        d.wait_for("cycle finished", count=2)
        d.proc.send_signal(signal.SIGUSR1)
        d.wait_for("cycle finished", count=3)
        again = [q for q in token_service.recorded() if q.user is None]
        assert again == first, "steady cycles asked for new tokens"
        assert d.stop() == 0
    finally:
        d.kill()


def test_sigterm_interrupts_a_retry_after_wait(registry_server, make_remote, make_agent,
                                               make_proxy):
    """A registry that answers 429 with a long Retry-After (within the
    request budget, so the agent waits) does not hold up a stop: the wait
    is abandoned, the cycle ends, the daemon exits 0 with nothing half-made."""
    reg = registry_server
    push_tags(reg, WEB, ["1.0.0", "1.1.0"])
    seen = threading.Event()

    def fault(method, path):
        if "/tags/list" in path:
            seen.set()
            return {"status": 429, "headers": {"Retry-After": "25"}}
        return None

    proxy = make_proxy(reg)
    proxy.fault = fault
    before = compose_site(proxy.ref(WEB, "1.0.0"), policy="semver", range="^1.0").encode()
    remote = make_remote({COMPOSE: before})
    base = remote.head()
    agent = make_agent(remote, proxy.host, MD_INTERVAL="1h", MD_REGISTRY_TIMEOUT="120s")
    d = Daemon(agent)
    try:
        assert seen.wait(30), "the agent never asked for the tag list"
        time.sleep(0.5)  # let it settle into the Retry-After wait
        # Without an interruptible wait this would take 25 s or more and
        # stop() would time out.
        assert d.stop(timeout=15) == 0
    finally:
        d.kill()
    assert remote.head() == base
    assert gitutil.worktree_status(remote.home, agent.repo) == ""

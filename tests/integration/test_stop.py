"""A stop request reaches inside registry requests (issue 5 follow-up): a
`run` daemon whose registry request hangs (the proxy accepts and never
answers) exits 0 soon after SIGTERM instead of waiting out
MD_REGISTRY_TIMEOUT, and leaves no partial file or commit behind."""
import os
import threading
import time

from mdtest import gitutil
from mdtest.compose import compose_site
from mdtest.images import push_tags
from mdtest.sdsock import RunDaemon

WEB = "app/web"
COMPOSE = "stacks/web/compose.yaml"


def leftovers(top):
    """Temporary files md_file_write_atomic would leave if cut short."""
    out = []
    for root, _, files in os.walk(top):
        out += [os.path.join(root, f) for f in files if ".magos-tmp." in f]
    return out


class HungRegistry:
    """A remote whose one site needs a tag list from a proxy that accepts the
    request and never answers it (until release): only the agent's own
    timeout (5 minutes) or a stop ends it."""

    def __init__(self, registry, make_remote, make_proxy):
        push_tags(registry, WEB, ["1.0.0", "1.1.0"])
        self.hung, self.release = threading.Event(), threading.Event()
        self.proxy = make_proxy(registry)
        self.proxy.delay = self._delay
        self.before = compose_site(self.proxy.ref(WEB, "1.0.0"), policy="semver",
                                   range="^1.0").encode()
        self.remote = make_remote({COMPOSE: self.before})
        self.base = self.remote.head()

    def _delay(self, method, path):
        if "/tags/list" in path:
            self.hung.set()
            self.release.wait(120)
        return 0

    def assert_untouched(self, agent):
        """Nothing half made: the remote as it was, the clone (if any) clean
        and unchanged, no temporary file anywhere."""
        assert self.remote.head() == self.base
        assert self.remote.count() == 1
        if os.path.isdir(os.path.join(agent.repo, ".git")):
            assert gitutil.worktree_status(self.remote.home, agent.repo) == ""
            with open(agent.path(COMPOSE), "rb") as f:
                assert f.read() == self.before
        assert leftovers(agent.tmp) == []


def test_sigterm_cuts_a_hung_registry_request_short(registry_server, make_remote, make_agent,
                                                    make_proxy):
    h = HungRegistry(registry_server, make_remote, make_proxy)
    hung, release, proxy = h.hung, h.release, h.proxy
    agent = make_agent(h.remote, proxy.host, MD_INTERVAL="1h", MD_REGISTRY_TIMEOUT="5m")
    d = RunDaemon(agent)
    try:
        assert hung.wait(30), f"the cycle never asked for the tag list:\n{d.stderr()}"
        assert d.alive(), d.stderr()
        t0 = time.monotonic()
        d.signal(15)  # SIGTERM
        deadline = t0 + 20
        while d.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        took = time.monotonic() - t0
        assert not d.alive(), f"still running {took:.1f}s after SIGTERM:\n{d.stderr()}"
        assert d.proc.returncode == 0, d.stderr()
        # Far below the 5-minute registry timeout (and curl's 60 s cap of
        # what could be mistaken for it): the stop flag ended the request.
        assert took < 60
        assert "timed out" not in d.stderr(), d.stderr()
    finally:
        release.set()
        d.kill()

    h.assert_untouched(agent)
    # The request was sent once: a stopped request is not retried.
    tags = [r for r in proxy.recorded() if "/tags/list" in r[1]]
    assert len(tags) <= 1, tags


def test_sigterm_stops_once_between_steps(registry_server, make_remote, make_agent, make_proxy):
    """`once` handles SIGTERM like `run`: the hung request ends, nothing is
    half made, and the exit status says the cycle did not complete."""
    import subprocess

    h = HungRegistry(registry_server, make_remote, make_proxy)
    agent = make_agent(h.remote, h.proxy.host, MD_REGISTRY_TIMEOUT="5m")
    argv = [agent_bin(), "--config", agent.env_file, "once"]
    p = subprocess.Popen(argv, env=agent.environ(), cwd=agent.tmp, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        assert h.hung.wait(30), "once never asked for the tag list"
        p.terminate()
        out, err = p.communicate(timeout=30)
    finally:
        h.release.set()
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 1, (out, err)
    assert b"stopped" in err, err
    h.assert_untouched(agent)


def agent_bin():
    from mdtest.agent import magos_bin
    return magos_bin()

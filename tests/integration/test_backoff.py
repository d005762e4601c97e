"""A failing cycle is retried sooner than MD_INTERVAL, with waits that grow
(min(interval, 5 s · 2^(n−1)), ±10 %), SIGUSR1 runs a cycle at once, and a
success restores the interval."""
import json
import os
import time

from mdtest.compose import compose_site
from mdtest.images import push_tags
from mdtest.sdsock import RunDaemon

WEB = "app/web"


def events(d, msg):
    out = []
    for line in d.stderr().splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("msg") == msg:
            out.append(rec)
    return out


def wait_for(d, msg, count, deadline_s, seen):
    """Poll until `count` records of msg exist; note when each first appeared."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        n = len(events(d, msg))
        while len(seen) < n:
            seen.append(time.monotonic())
        if n >= count:
            return
        assert d.alive(), d.stderr()
        time.sleep(0.05)
    raise AssertionError(f"{count} x {msg!r} not seen in {deadline_s}s:\n{d.stderr()}")


def test_failed_cycles_back_off_and_success_restores_the_interval(registry_server, make_remote,
                                                                 make_agent):
    push_tags(registry_server, WEB, ["1.0.0"])
    remote = make_remote({"stacks/web/compose.yaml":
                          compose_site(registry_server.ref(WEB, "1.0.0"), policy="semver")})
    hidden = remote.path + ".away"
    os.rename(remote.path, hidden)  # the clone fails until it is back
    agent = make_agent(remote, registry_server.host, MD_INTERVAL="1h")
    d = RunDaemon(agent)
    failed = []
    try:
        wait_for(d, "cycle failed", 3, 60, failed)
        os.rename(hidden, remote.path)
        d.signal(10)  # SIGUSR1: run a cycle now rather than after the next, longer wait
        finished = []
        wait_for(d, "cycle finished", 1, 60, finished)
        done_at = time.monotonic()
        gap1, gap2 = failed[1] - failed[0], failed[2] - failed[1]
        # Retried long before the hour-long interval, each wait longer than the last.
        assert gap1 < 60 and gap2 < 60, (gap1, gap2)
        assert gap2 > 1.5 * gap1, (gap1, gap2)
        # After the success the interval (an hour) applies again: no new cycle
        # where the shortest backoff (gap1) would have brought one.
        time.sleep(1.6 * gap1)
        assert len(events(d, "cycle failed")) == 3
        assert len(events(d, "cycle finished")) == 1, d.stderr()
        assert time.monotonic() - done_at >= 1.6 * gap1
    finally:
        if os.path.exists(hidden):
            os.rename(hidden, remote.path)
        assert d.stop() == 0, d.stderr()

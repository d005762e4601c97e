"""systemd integration of `run`: sd_notify (READY, STATUS, WATCHDOG cadence
tied to progress, RELOADING/READY around SIGHUP, STOPPING), journald's
native protocol (MD_LOG_FORMAT=journal, and auto under a matching
JOURNAL_STREAM), SIGTERM in the middle of a cycle, and the unit files."""
import json
import os
import shutil
import signal
import subprocess
import threading
import time

import pytest

from mdtest import gitutil
from mdtest.agent import REPO_ROOT, magos_bin
from mdtest.compose import compose_site
from mdtest.images import push_tags
from mdtest.sdsock import DatagramRecorder, RunDaemon, journal_dict, notify_lines

WEB = "app/web"
COMPOSE = "stacks/web/compose.yaml"


def records(d):
    out = []
    for line in d.stderr().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def wait_log(d, msg, count=1, timeout=30):
    deadline = time.monotonic() + timeout
    while True:
        got = [r for r in records(d) if r.get("msg") == msg]
        if len(got) >= count:
            return got
        assert d.alive(), f"daemon exited ({d.proc.returncode}) before {msg!r}:\n{d.stderr()}"
        assert time.monotonic() < deadline, f"no {msg!r} x{count} after {timeout}s:\n{d.stderr()}"
        time.sleep(0.05)


def is_msg(text):
    return lambda data: text in notify_lines(data)


def starts(prefix):
    return lambda data: any(x.startswith(prefix) for x in notify_lines(data))


@pytest.fixture
def notify_sock(tmp_path):
    rec = DatagramRecorder(str(tmp_path / "notify.sock"))
    yield rec
    rec.close()


@pytest.fixture
def journal_sock(tmp_path):
    rec = DatagramRecorder(str(tmp_path / "journal.sock"))
    yield rec
    rec.close()


def setup_update(reg, make_remote):
    push_tags(reg, WEB, ["1.0.0", "1.1.0"])
    before = compose_site(reg.ref(WEB, "1.0.0"), policy="semver", range="^1.0").encode()
    return make_remote({COMPOSE: before})


def watchdog_times(rec, after=0.0, before=None):
    return [t for t, d in rec.items() if "WATCHDOG=1" in notify_lines(d) and t >= after and
            (before is None or t <= before)]


def test_notify_ready_status_watchdog_stopping(registry_server, make_remote, make_agent,
                                               notify_sock):
    reg = registry_server
    remote = setup_update(reg, make_remote)
    agent = make_agent(remote, reg.host, MD_INTERVAL="1h")
    d = RunDaemon(agent, env={"NOTIFY_SOCKET": notify_sock.path, "WATCHDOG_USEC": "2000000"})
    try:
        notify_sock.wait_for(is_msg("READY=1"), what="READY=1")
        _, _, status = notify_sock.wait_for(starts("STATUS=cycle 1 "), what="cycle status")
        line = notify_lines(status)[0]
        assert line.startswith("STATUS=cycle 1 ok in "), line
        assert "1 images, 1 updated, commit " in line, line
        assert remote.count() == 2

        # Idle between cycles: a ping about every second (half of 2 s).
        t0 = time.monotonic()
        while len(watchdog_times(notify_sock, after=t0)) < 4:
            assert time.monotonic() - t0 < 15, notify_sock.items()
            time.sleep(0.1)
        pings = watchdog_times(notify_sock, after=t0)
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        assert all(0.8 <= g <= 1.9 for g in gaps), gaps

        assert d.stop() == 0
        notify_sock.wait_for(is_msg("STOPPING=1"), timeout=5, what="STOPPING=1")
    finally:
        d.kill()


def test_watchdog_pid_of_another_process_means_no_pings(registry_server, make_remote,
                                                        make_agent, notify_sock):
    reg = registry_server
    remote = setup_update(reg, make_remote)
    agent = make_agent(remote, reg.host, MD_INTERVAL="1h")
    d = RunDaemon(agent, env={"NOTIFY_SOCKET": notify_sock.path, "WATCHDOG_USEC": "2000000",
                              "WATCHDOG_PID": "1"})
    try:
        notify_sock.wait_for(starts("STATUS=cycle 1 "), what="cycle status")
        time.sleep(1.5)
        assert watchdog_times(notify_sock) == []
        assert d.stop() == 0
    finally:
        d.kill()


def test_pings_stop_while_a_cycle_is_wedged_and_resume(registry_server, make_remote, make_agent,
                                                       make_proxy, notify_sock):
    """A registry that accepts and never answers (within a long timeout)
    holds the cycle without progress: no WATCHDOG=1 until it answers."""
    reg = registry_server
    push_tags(reg, WEB, ["1.0.0", "1.1.0"])
    wedge, release, seen = threading.Event(), threading.Event(), threading.Event()

    def delay(method, path):
        if wedge.is_set() and "/tags/list" in path:
            seen.set()
            release.wait(60)
        return 0

    proxy = make_proxy(reg)
    proxy.delay = delay
    before = compose_site(proxy.ref(WEB, "1.0.0"), policy="semver", range="^1.0").encode()
    remote = make_remote({COMPOSE: before})
    agent = make_agent(remote, proxy.host, MD_INTERVAL="1s", MD_REGISTRY_TIMEOUT="60s")
    d = RunDaemon(agent, env={"NOTIFY_SOCKET": notify_sock.path, "WATCHDOG_USEC": "2000000"})
    try:
        notify_sock.wait_for(starts("STATUS=cycle 1 "), what="first cycle")
        wedge.set()
        assert seen.wait(30), "the next cycle never asked for the tag list"
        t_wedged = time.monotonic()
        time.sleep(3.5)
        # At most one ping may straddle the moment the request went out.
        late = watchdog_times(notify_sock, after=t_wedged + 1.1)
        assert late == [], f"pings while wedged: {[t - t_wedged for t in late]}"
        assert d.alive()

        wedge.clear()
        release.set()
        t_release = time.monotonic()
        notify_sock.wait_for(lambda data: "WATCHDOG=1" in notify_lines(data), timeout=10,
                             what="ping after release", start=len(notify_sock.items()))
        after = watchdog_times(notify_sock, after=t_release)
        assert after, "pings did not resume"
        wait_log(d, "cycle finished", count=2)
        assert d.stop() == 0
    finally:
        release.set()
        d.kill()


def test_sighup_reload_notifies_and_keeps_old_config(registry_server, make_remote, make_agent,
                                                     notify_sock):
    reg = registry_server
    remote = setup_update(reg, make_remote)
    agent = make_agent(remote, reg.host, MD_INTERVAL="1h")
    d = RunDaemon(agent, env={"NOTIFY_SOCKET": notify_sock.path})
    try:
        i, _, _ = notify_sock.wait_for(starts("STATUS=cycle 1 "), what="first cycle")

        agent.write_env(["MD_INTERVALL=5m"])
        d.signal(signal.SIGHUP)
        i, _, data = notify_sock.wait_for(is_msg("RELOADING=1"), start=i + 1, what="RELOADING")
        lines = notify_lines(data)
        usec = [x for x in lines if x.startswith("MONOTONIC_USEC=")]
        assert usec and int(usec[0].split("=", 1)[1]) > 0, lines
        i, _, _ = notify_sock.wait_for(is_msg("READY=1"), start=i + 1, what="READY after bad")
        rejected = wait_log(d, "configuration reload rejected; keeping the old one")
        assert "MD_INTERVALL" in rejected[0]["error"]
        assert d.alive()

        agent.write_env()
        d.signal(signal.SIGHUP)
        i, _, _ = notify_sock.wait_for(is_msg("RELOADING=1"), start=i + 1, what="RELOADING")
        notify_sock.wait_for(is_msg("READY=1"), start=i + 1, what="READY after good")
        wait_log(d, "configuration reloaded")

        # Still working: a cycle on demand after both reloads.
        d.signal(signal.SIGUSR1)
        notify_sock.wait_for(starts("STATUS=cycle 2 "), what="second cycle")
        assert d.stop() == 0
    finally:
        d.kill()


UPDATE_FIELDS = ("MAGOS_IMAGE", "MAGOS_FROM", "MAGOS_TO", "MAGOS_DIGEST", "MAGOS_FILE",
                 "MAGOS_COMMIT", "MAGOS_CYCLE")


def check_update_entry(journal_sock, reg, remote):
    _, _, data = journal_sock.wait_for(lambda b: b"MAGOS_IMAGE=" in b, what="update entry")
    f = journal_dict(data)
    for k in UPDATE_FIELDS + ("PRIORITY", "SYSLOG_IDENTIFIER", "MESSAGE"):
        assert k in f, (k, f)
    assert f["PRIORITY"] == "6"
    assert f["SYSLOG_IDENTIFIER"] == "magos-dominus"
    assert f["MESSAGE"].startswith("image updated ")
    assert f["MAGOS_IMAGE"] == reg.ref(WEB)
    assert f["MAGOS_FROM"] == "1.0.0" and f["MAGOS_TO"] == "1.1.0"
    assert f["MAGOS_DIGEST"].startswith("sha256:")
    assert f["MAGOS_FILE"] == f"{COMPOSE}:3"
    assert f["MAGOS_COMMIT"] == remote.head()
    assert f["MAGOS_CYCLE"] == "1"


def test_journal_native_entries(registry_server, make_remote, make_agent, journal_sock):
    reg = registry_server
    remote = setup_update(reg, make_remote)
    agent = make_agent(remote, reg.host, MD_INTERVAL="1h", MD_LOG_FORMAT="journal",
                       MD_JOURNAL_SOCKET=journal_sock.path)
    d = RunDaemon(agent)
    try:
        journal_sock.wait_for(lambda b: b"MESSAGE=cycle finished" in b, what="cycle finished")
        check_update_entry(journal_sock, reg, remote)
        assert d.stop() == 0
        journal_sock.wait_for(lambda b: b"MESSAGE=stopping" in b, timeout=5, what="stopping")
    finally:
        d.kill()
    assert d.stderr() == ""


def test_journal_auto_when_stderr_is_the_journal_stream(registry_server, make_remote,
                                                        make_agent, journal_sock, tmp_path):
    reg = registry_server
    remote = setup_update(reg, make_remote)
    agent = make_agent(remote, reg.host, MD_INTERVAL="1h", MD_LOG_FORMAT="auto",
                       MD_JOURNAL_SOCKET=journal_sock.path)
    err = tmp_path / "stream.log"
    err.write_bytes(b"")
    st = os.stat(err)
    d = RunDaemon(agent, env={"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"},
                  stderr_path=str(err))
    try:
        journal_sock.wait_for(lambda b: b"MESSAGE=cycle finished" in b, what="cycle finished")
        check_update_entry(journal_sock, reg, remote)
        assert d.stop() == 0
    finally:
        d.kill()
    assert d.stderr() == ""

    # A JOURNAL_STREAM naming another file: plain text on stderr, no entries.
    before = len(journal_sock.items())
    agent2 = make_agent(remote, reg.host, MD_INTERVAL="1h", MD_LOG_FORMAT="auto",
                        MD_JOURNAL_SOCKET=journal_sock.path)
    d2 = RunDaemon(agent2, env={"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino + 1}"})
    try:
        deadline = time.monotonic() + 30
        while " info  cycle finished" not in d2.stderr():
            assert time.monotonic() < deadline, d2.stderr()
            time.sleep(0.05)
        assert d2.stop() == 0
    finally:
        d2.kill()
    assert len(journal_sock.items()) == before


def test_journal_socket_missing_falls_back_to_text(registry_server, make_remote, make_agent,
                                                   tmp_path):
    reg = registry_server
    remote = setup_update(reg, make_remote)
    agent = make_agent(remote, reg.host, MD_LOG_FORMAT="journal",
                       MD_JOURNAL_SOCKET=str(tmp_path / "no-journal.sock"))
    r = agent.once()
    assert r.code == 0, r
    assert " info  image updated image=" in r.stderr, r


def test_sigterm_during_a_cycle_leaves_nothing_half_made(registry_server, make_remote,
                                                         make_agent, make_proxy):
    """SIGTERM at several moments of a first cycle (slowed down by the
    registry): exit 0, a clean work tree, the remote either without the
    update or with the whole commit."""
    reg = registry_server
    push_tags(reg, WEB, ["1.0.0", "1.1.0"])
    proxy = make_proxy(reg)
    proxy.delay = lambda method, path: 0.3 if "/v2/app" in path else 0
    before = compose_site(proxy.ref(WEB, "1.0.0"), policy="semver", range="^1.0").encode()
    for k, when in enumerate((0.3, 0.9, 1.6)):
        remote = make_remote({COMPOSE: before}, name=f"term{k}")
        base = remote.head()
        agent = make_agent(remote, proxy.host, MD_INTERVAL="1h")
        d = RunDaemon(agent)
        try:
            time.sleep(when)
            assert d.stop(timeout=30) == 0, d.stderr()
        finally:
            d.kill()
        if os.path.isdir(os.path.join(agent.repo, ".git")):
            assert gitutil.worktree_status(remote.home, agent.repo) == ""
        head = remote.head()
        if head != base:
            assert remote.parents(head) == [base]
            assert remote.changed_files(head) == [COMPOSE]
            assert proxy.host.encode() + b"/app/web:1.1.0@sha256:" in remote.show(COMPOSE)
        remote.git("fsck", "--strict")  # raises on a broken object


# ---- no core dumps, no peeking --------------------------------------------------

AS_NOBODY = ("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups")


def core_limit(pid):
    """(soft, hard) of RLIMIT_CORE as /proc/PID/limits shows them."""
    for line in open(f"/proc/{pid}/limits"):
        if line.startswith("Max core file size"):
            return tuple(line.split()[4:6])
    raise AssertionError(f"no core limit in /proc/{pid}/limits")


def proc_uid(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError(f"no Uid in /proc/{pid}/status")


def read_environ(pid, as_user):
    """Read /proc/PID/environ from a process of the same user without
    privileges: → (bytes, stderr)."""
    p = subprocess.run([*as_user, "cat", f"/proc/{pid}/environ"], capture_output=True,
                       timeout=30)
    return (p.stdout if p.returncode == 0 else None), p.stderr.decode(errors="replace")


def test_run_cannot_dump_core_nor_be_read_by_its_own_user(registry_server, git_http,
                                                          make_remote, magos_bin):
    """The daemon holds tokens, keys and decrypted secrets: it has a core
    limit of 0 (soft and hard) and is not dumpable, so another process of
    the same user can neither read its memory nor its environment (only a
    process with CAP_SYS_PTRACE could). As root the agent runs as nobody
    here, and so does the reader."""
    import tempfile

    from mdtest.agent import Agent

    as_user = ()
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("setpriv (util-linux) is needed to run the agent unprivileged")
        p = subprocess.run([*AS_NOBODY, magos_bin, "version"], capture_output=True)
        if p.returncode != 0:
            pytest.skip(f"nobody cannot run {magos_bin}: {p.stderr!r}")
        as_user = AS_NOBODY
    reg = registry_server
    push_tags(reg, WEB, ["1.0.0", "1.1.0"])
    before = compose_site(reg.ref(WEB, "1.0.0"), policy="semver", range="^1.0").encode()
    remote = make_remote({COMPOSE: before}, http_server=git_http)
    # Outside pytest's private tmp_path, which nobody cannot enter.
    home = tempfile.mkdtemp(prefix="md-nodump-")
    control = None
    try:
        agent = Agent(home, git_url=remote.url, registry_host=reg.host, MD_INTERVAL="1h")
        if as_user:
            subprocess.run(["chown", "-R", "nobody:nogroup", home], check=True)
        d = RunDaemon(agent, prefix=as_user)
        try:
            wait_log(d, "cycle finished")
            assert [r for r in records(d) if r.get("msg") == "image updated"], d.stderr()
            pid = d.proc.pid
            assert proc_uid(pid) != 0
            assert core_limit(pid) == ("0", "0")
            # Not dumpable: its /proc files belong to root, not to its user...
            assert os.stat(f"/proc/{pid}/environ").st_uid == 0
            # ...and its own user cannot read them.
            data, err = read_environ(pid, as_user)
            assert data is None and "Permission denied" in err, (data, err)

            # The same reader can read a dumpable process of that user.
            control = subprocess.Popen([*as_user, "sleep", "60"], env={"MD_CONTROL": "1"})
            deadline = time.monotonic() + 10
            # Between its setuid and the exec, setpriv is not dumpable either.
            while open(f"/proc/{control.pid}/comm").read().strip() != "sleep":
                assert time.monotonic() < deadline, "setpriv never ran sleep"
                time.sleep(0.05)
            data, err = read_environ(control.pid, as_user)
            assert data is not None and b"MD_CONTROL=1" in data, err
            assert d.stop() == 0
        finally:
            d.kill()
    finally:
        if control:
            control.kill()
            control.wait()
        shutil.rmtree(home, ignore_errors=True)


# ---- unit files --------------------------------------------------------------

UNITS = ("magos-dominus.service", "magos-dominus-user.service")
NO_NEW_PRIVS = ("NoNewPrivileges", "SystemCallFilter", "SystemCallArchitectures",
                "RestrictAddressFamilies", "RestrictNamespaces", "PrivateDevices",
                "ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs",
                "ProtectClock", "MemoryDenyWriteExecute", "RestrictRealtime",
                "RestrictSUIDSGID", "LockPersonality", "DynamicUser", "PrivateUsers",
                "ProtectHome", "ProtectProc")


def unit_keys(path):
    keys = {}
    for line in open(path):
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")) and "=" in line:
            k, v = line.split("=", 1)
            keys.setdefault(k.strip(), []).append(v.strip())
    return keys


@pytest.mark.parametrize("unit", UNITS)
def test_unit_directives(unit):
    keys = unit_keys(os.path.join(REPO_ROOT, "contrib", "systemd", unit))
    for k in NO_NEW_PRIVS:
        assert k not in keys, f"{unit}: {k}= breaks rootless podman (docs/protocols.md, systemd)"
    assert keys["Type"] == ["notify"]
    assert keys["Restart"] == ["on-failure"]
    assert keys["KillMode"] == ["mixed"]
    assert keys["UMask"] == ["0077"]
    for k in ("WatchdogSec", "TimeoutStopSec", "StateDirectory", "RuntimeDirectory"):
        assert k in keys, f"{unit}: no {k}="
    # No core dump of a process holding tokens and decrypted secrets.
    assert keys["LimitCORE"] == ["0"]
    # MD_RUNTIME_DIR is the directory systemd creates private and removes
    # (with whatever a killed agent left there) when the service stops.
    assert keys["RuntimeDirectory"] == ["magos-dominus"]
    assert keys["RuntimeDirectoryMode"] == ["0700"]
    if unit == "magos-dominus.service":
        assert keys["ProtectSystem"] == ["full"]
        assert "MD_RUNTIME_DIR=/run/magos-dominus" in keys["Environment"]
    else:
        assert "MD_RUNTIME_DIR=%t/magos-dominus" in keys["Environment"]


@pytest.mark.parametrize("unit", UNITS)
def test_systemd_analyze_verify(unit, tmp_path, magos_bin):
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze not installed")
    text = open(os.path.join(REPO_ROOT, "contrib", "systemd", unit)).read()
    text = text.replace("/usr/local/bin/magos-dominus", magos_bin)
    path = tmp_path / ("magos-dominus.service")
    path.write_text(text)
    argv = [analyze, "verify"] + (["--user"] if "user" in unit else []) + [str(path)]
    env = dict(os.environ, SYSTEMD_LOG_LEVEL="warning", XDG_RUNTIME_DIR=str(tmp_path))
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
    # Complaints about the host (no running manager, other units) are not ours.
    ours = [x for x in (p.stdout + p.stderr).splitlines() if "magos-dominus" in x]
    assert ours == [], p.stdout + p.stderr
    assert p.returncode == 0, p.stdout + p.stderr


def test_make_install_installs_both_units(tmp_path):
    dest = tmp_path / "dest"
    binary = magos_bin()
    # -o: install the binary under test as it is, never rebuild it here.
    p = subprocess.run(["make", "-s", "-C", REPO_ROOT, "-o", binary, "install",
                        f"DESTDIR={dest}", "PREFIX=/opt/md", f"BIN={binary}"],
                       capture_output=True, text=True, timeout=300)
    if p.returncode != 0 and "No rule to make target" in p.stderr:
        pytest.skip(p.stderr)
    assert p.returncode == 0, p.stderr
    system = (dest / "opt/md/lib/systemd/system/magos-dominus.service").read_text()
    user = (dest / "opt/md/lib/systemd/user/magos-dominus.service").read_text()
    assert "ExecStart=/opt/md/bin/magos-dominus --config /etc/magos.env run" in system
    assert "ExecStart=/opt/md/bin/magos-dominus --config %h/.config/magos-dominus/magos.env run" \
        in user
    assert "/usr/local" not in system + user

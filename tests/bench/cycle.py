#!/usr/bin/python3
"""Benchmark one reconcile cycle of magos-dominus against a realistic homelab repository.

Setup (all on 127.0.0.1, in a temporary directory, removed at the end):
  - a real docker-registry seeded with 25 repositories of 8 tags each
    (7 semver tags including a prerelease, plus `latest` pointing at the newest release);
  - the recording registry proxy in front of it, so every request the agent makes is counted;
  - a bare Git remote with 20 compose files holding 100 annotated sites
    (70 semver with ranges, 20 `latest`, 10 semver with `pin: tag`), every one out of date.

Measured:
  1. the first `once` (clone, 100 updates, one commit, push);
  2. a steady-state `once` (nothing new), repeated;
  3. `plan` on the up-to-date clone, repeated.
For each: wall time, registry requests by method, peak RSS and CPU time of the agent
process (GNU /usr/bin/time; else VmHWM polled from /proc). Figures are printed, never
asserted on.

Usage: tests/bench/cycle.py [/abs/path/to/magos-dominus] [--bin PATH] [--repeat N]
"""
import argparse
import collections
import concurrent.futures
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO_ROOT, "tests", "integration"))

from mdtest import gitutil  # noqa: E402
from mdtest.agent import Agent  # noqa: E402
from mdtest.compose import site_line  # noqa: E402
from mdtest.images import push_tags, retag  # noqa: E402
from mdtest.proxy import RegistryProxy  # noqa: E402
from mdtest.registry import Registry  # noqa: E402

N_REPOS = 25
N_FILES = 20
N_SEMVER, N_LATEST, N_PIN_TAG = 70, 20, 10
N_SITES = N_SEMVER + N_LATEST + N_PIN_TAG
AGENT_TIMEOUT = 120  # seconds; a hung agent is killed, not waited for forever


def repo_name(i):
    return f"homelab/app{i:02d}"


def repo_major(i):
    return 1 + i % 3


def repo_tags(i):
    """7 semver tags (one prerelease) — `latest` is added as a retag of the newest release."""
    m = repo_major(i)
    return [f"{m}.0.0", f"{m}.0.1", f"{m}.1.0", f"{m}.1.1", f"{m}.2.0",
            f"{m + 1}.0.0-rc.1", f"{m + 1}.0.0"]


def seed_registry(reg):
    """Push every repository in parallel (one client per repository)."""
    def seed(i):
        repo = repo_name(i)
        tags = repo_tags(i)
        push_tags(reg, repo, tags)
        retag(reg, repo, tags[-1], "latest")
        return len(tags) + 1

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        return sum(pool.map(seed, range(N_REPOS)))


def site_for(k, host):
    """(reference, annotation fields) of site k: every site is out of date."""
    i = k % N_REPOS
    m = repo_major(i)
    ref = f"{host}/{repo_name(i)}"
    if k < N_SEMVER:
        ranges = [f"^{m}.0", f"~{m}.1", f">={m}.0.0 <{m + 1}.0.0", f"{m}.x", f"^{m}.0.0"]
        current = f"{m}.0.0" if k % 4 else f"{m}.0.1"
        return f"{ref}:{current}", {"policy": "semver", "range": ranges[k % len(ranges)]}
    if k < N_SEMVER + N_LATEST:
        return f"{ref}:latest", {"policy": "latest"}
    return f"{ref}:{m}.0.0", {"range": f"^{m}.0", "pin": "tag"}


def compose_files(host):
    """20 compose files, 5 annotated services each, with the usual unannotated noise."""
    per_file = N_SITES // N_FILES
    # Interleave categories across files so every file holds a mix.
    order = sorted(range(N_SITES), key=lambda k: (k % N_FILES, k))
    files = {}
    for f in range(N_FILES):
        name = "compose.yaml" if f % 4 else "docker-compose.yml"
        path = f"stacks/stack{f:02d}/{name}"
        out = [f"# stack {f:02d} — managed by magos-dominus\n", "services:\n"]
        for j, k in enumerate(order[f * per_file:(f + 1) * per_file]):
            ref, ann = site_for(k, host)
            out += [f"  svc{k:03d}:\n", site_line(ref, **ann),
                    "    restart: unless-stopped\n",
                    "    environment:\n", "      TZ: Europe/Berlin\n",
                    f"      SITE: \"{k}\"\n",
                    "    ports:\n", f"      - \"127.0.0.1:{18000 + k}:80\"\n"]
            if j % 2:
                out += ["    volumes:\n", f"      - ./data/svc{k:03d}:/data\n"]
            out.append("\n")
        files[path] = "".join(out)
    files["README.md"] = "# homelab\n\nBenchmark GitOps repository.\n"
    return files


class Run:
    def __init__(self, argv, code, stdout, stderr, wall, maxrss_kib, cpu, requests):
        self.argv, self.code, self.stdout, self.stderr = argv, code, stdout, stderr
        self.wall, self.maxrss_kib, self.cpu, self.requests = wall, maxrss_kib, cpu, requests

    @property
    def lines(self):
        return self.stdout.splitlines()

    def methods(self):
        return collections.Counter(m for m, _, _ in self.requests)

    def statuses(self):
        return collections.Counter(s for _, _, s in self.requests)

    def dump(self):
        return (f"$ {' '.join(self.argv)}\nexit {self.code}\n--- stdout\n{self.stdout}"
                f"--- stderr (last 40 lines)\n" + "\n".join(self.stderr.splitlines()[-40:]))


GNU_TIME = "/usr/bin/time"


def rss_method():
    """How peak RSS is measured. Not wait4(2) from this process: at exec, Linux folds the
    parent's high-water RSS (this Python process, ~30 MiB) into the child's ru_maxrss.
    GNU time forks the agent from a ~2 MiB process, so its %M is the agent's own peak."""
    try:
        p = subprocess.run([GNU_TIME, "-f", "%M", "-o", os.devnull, "/bin/true"],
                           capture_output=True, timeout=10)
        if p.returncode == 0:
            return "time"
    except (OSError, subprocess.SubprocessError):
        pass
    return "vmhwm"


def _vmhwm(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def run_agent(binary, agent, proxy, command, method):
    """Run `binary --config ENV command` in the sealed environment of mdtest.Agent, and
    measure wall time, the agent's peak RSS (KiB) and CPU time, and its registry requests."""
    argv = [binary, "--config", agent.env_file, command]
    timefile = os.path.join(agent.tmp, "time.out")
    full = [GNU_TIME, "-f", "%M %U %S", "-o", timefile] + argv if method == "time" else argv
    before = len(proxy.recorded())
    hwm = 0
    with tempfile.TemporaryFile(dir=agent.tmp) as out, \
            tempfile.TemporaryFile(dir=agent.tmp) as err:
        t0 = time.perf_counter()
        # Own process group: on timeout or interruption the agent is killed with GNU time.
        p = subprocess.Popen(full, env=agent.environ(), cwd=agent.tmp, stdin=subprocess.DEVNULL,
                             stdout=out, stderr=err, start_new_session=True)
        try:
            deadline = t0 + AGENT_TIMEOUT
            if method == "time":
                p.wait(timeout=AGENT_TIMEOUT)
            else:  # poll the agent's VmHWM until it exits; its CPU time comes from wait4
                while True:
                    hwm = max(hwm, _vmhwm(p.pid))
                    pid, status, ru = os.wait4(p.pid, os.WNOHANG)
                    if pid:
                        p.returncode = os.waitstatus_to_exitcode(status)
                        wait4_cpu = ru.ru_utime + ru.ru_stime
                        break
                    if time.perf_counter() > deadline:
                        raise subprocess.TimeoutExpired(full, AGENT_TIMEOUT)
                    time.sleep(0.002)
        except BaseException:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            if p.returncode is None:
                p.wait()
            raise
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    if method == "time":
        with open(timefile) as f:  # "Command exited with non-zero status N" may precede
            rss, utime, stime = f.read().strip().splitlines()[-1].split()
        os.unlink(timefile)
        maxrss, cpu = int(rss), float(utime) + float(stime)
    else:
        maxrss, cpu = hwm, wait4_cpu
    # The proxy records a request after forwarding it, before answering: every request the
    # agent made has been recorded by the time it exited.
    requests = proxy.recorded()[before:]
    return Run(argv, p.returncode, stdout, stderr, wall, maxrss, cpu, requests)


def fmt_cpu(seconds, digits):
    return "n/a" if seconds != seconds else f"{seconds:.{digits}f} s"


def describe(r):
    m = r.methods()
    parts = ", ".join(f"{k} {m[k]}" for k in sorted(m))
    bad = {s: n for s, n in r.statuses().items() if not 200 <= s < 400}
    extra = f"; non-2xx/3xx: {dict(sorted(bad.items()))}" if bad else ""
    return (f"{r.wall:.2f} s, {len(r.requests)} registry requests ({parts or 'none'}{extra}), "
            f"peak RSS {r.maxrss_kib / 1024:.1f} MiB, CPU {fmt_cpu(r.cpu, 2)}")


def summary(runs):
    walls = [r.wall for r in runs]
    reqs = sorted({len(r.requests) for r in runs})
    m = runs[-1].methods()
    parts = ", ".join(f"{k} {m[k]}" for k in sorted(m))
    return (f"min {min(walls):.2f} s, median {statistics.median(walls):.2f} s over {len(runs)} "
            f"runs, {'/'.join(map(str, reqs))} registry requests ({parts or 'none'}), "
            f"peak RSS {max(r.maxrss_kib for r in runs) / 1024:.1f} MiB, "
            f"CPU median {fmt_cpu(statistics.median(r.cpu for r in runs), 2)}")


def fail(what, r):
    sys.stderr.write(f"cycle.py: {what}\n{r.dump()}\n")
    raise SystemExit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary", nargs="?", help="magos-dominus binary (as `make bench` passes it)")
    ap.add_argument("--bin", dest="bin_opt", help="magos-dominus binary "
                    "(default: build/magos-dominus under the repository root)")
    ap.add_argument("--repeat", type=int, default=5, help="steady-state repetitions (default 5)")
    args = ap.parse_args()
    binary = os.path.abspath(args.bin_opt or args.binary or
                             os.path.join(REPO_ROOT, "build", "magos-dominus"))
    if not os.access(binary, os.X_OK):
        sys.exit(f"cycle.py: {binary} is not an executable file (run `make`)")
    repeat = max(1, args.repeat)

    # SIGTERM (e.g. from a CI timeout) unwinds through the cleanup below like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    method = rss_method()
    tmp = tempfile.mkdtemp(prefix="magos-bench-")
    reg = proxy = None
    try:
        t0 = time.perf_counter()
        reg = Registry(os.path.join(tmp, "registry"))
        n_tags = seed_registry(reg)
        proxy = RegistryProxy(reg.url)
        remote = gitutil.bare_remote(os.path.join(tmp, "remotes"), compose_files(proxy.host),
                                     home=os.path.join(tmp, "git-home"))
        agent_dir = os.path.join(tmp, "agent")
        os.makedirs(agent_dir)
        agent = Agent(agent_dir, git_url=remote.url, registry_host=proxy.host)
        base = remote.head()
        setup = time.perf_counter() - t0

        first = run_agent(binary, agent, proxy, "once", method)
        changes = [ln for ln in first.lines if " -> " in ln]
        if first.code != 0 or len(changes) != N_SITES or \
                not first.lines or not first.lines[-1].startswith("committed "):
            fail(f"first `once` did not update all {N_SITES} sites and push", first)
        if remote.head() == base or remote.parents() != [base]:
            fail("first `once` did not push exactly one commit", first)
        head = remote.head()

        steady = []
        for _ in range(repeat):
            r = run_agent(binary, agent, proxy, "once", method)
            if r.code != 0 or r.lines != ["no changes"] or remote.head() != head:
                fail("steady-state `once` was not `no changes`", r)
            steady.append(r)

        plans = []
        for _ in range(repeat):
            r = run_agent(binary, agent, proxy, "plan", method)
            if r.code != 0 or r.lines != ["no changes"]:
                fail("`plan` on the up-to-date clone was not `no changes`", r)
            plans.append(r)

        print(f"magos-dominus cycle benchmark ({binary})")
        print(f"setup: {setup:.1f} s — docker-registry + recording proxy on 127.0.0.1, "
              f"{N_REPOS} repositories / {n_tags} tags, {N_FILES} compose files / {N_SITES} "
              f"sites ({N_SEMVER} semver, {N_LATEST} latest, {N_PIN_TAG} pin:tag), file:// remote")
        print(f"first cycle:  {describe(first)}")
        print(f"steady cycle: {summary(steady)}")
        print(f"plan (no-op): {summary(plans)}")
        how = ("GNU time %M/%U/%S" if method == "time" else
               "/proc/PID/status VmHWM polled every 2 ms, and wait4(2)")
        print("(wall times include the Python recording proxy in front of the registry; "
              f"peak RSS and CPU are the agent's own, from {how})")
    finally:
        if proxy is not None:
            proxy.stop()
        if reg is not None:
            reg.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Podman in a sandbox: real containers for the applier's end-to-end tests.

How to use it (e.g. in a test of MD_APPLY):

    from mdtest.podman import PodmanSandbox

    @pytest.fixture
    def podman_sandbox(request, tmp_path, registry_server):
        sb = PodmanSandbox(str(tmp_path / "podman"), registries=[registry_server.host])
        request.addfinalizer(sb.cleanup)
        sb.require_working(registry_server)   # pytest.skip(...) when podman cannot run here
        return sb

    def test_x(podman_sandbox, registry_server, make_agent, ...):
        sb = podman_sandbox
        proj = sb.project("web")                  # "mdt-1a2b3c-web": unique per test
        digest = sb.push_sleeper(registry_server, "apps/web", "1.0")
        # A stack directory's base name IS its compose project name: name the
        # stack directory `proj` (e.g. f"{proj}/compose.yaml" in the GitOps repo)
        # so everything the agent starts carries the sandbox prefix.
        agent = make_agent(remote, registry_server.host, MD_APPLY="true", ...)
        res = agent.once(env=sb.env)              # CONTAINERS_CONF, ..._REGISTRIES_CONF, PATH
        sb.wait_running(proj, ["web"])            # or sb.containers(proj) / sb.service_state()
        ...
        # sb.cleanup() (the finalizer) removes every container, pod, network,
        # volume and image that carries the prefix or came from a registry the
        # sandbox knows; it never touches anything else on the host.

Images (pushed as Docker schema-2 images so podman honours their Healthcheck):
    push_sleeper(reg, repo, tag)                  runs forever; stops at once on SIGTERM
    push_exiter(reg, repo, tag, code)             exits at once with `code`
    push_healthcheck(reg, repo, tag, passes=True) runs forever; image HEALTHCHECK
                                                  passes (true) or fails (false)
    push_env_writer(reg, repo, tag, var, path)    writes "$var" to `path` in the
                                                  container, then runs forever
    push_busybox(reg, repo, tag, cmd=..., env=..., labels=..., healthcheck=..., source=...)
                                                  anything else; `source` sets the
                                                  org.opencontainers.image.source label
Each returns the manifest digest; every push is a distinct image (a nonce label).

Notes:
- Root podman with the host's default storage; only objects carrying our
  prefix (or images from our registries) are ever removed.
- No systemd here: podman cannot schedule healthcheck timers, so a container's
  Health.Status stays "starting" until someone runs `podman healthcheck run`
  (sb.healthcheck_run(name) does; the applier does it while waiting).
- podman-compose 1.0.3 mangles `healthcheck: test: ["CMD", ...]` arrays: in
  compose files use `test: ["CMD-SHELL", "..."]` or a plain string.
- podman-compose 1.0.3 `up -d` never recreates an existing container (it
  only `podman start`s it); `sb.compose(..., "up", "-d", "--force-recreate")`
  does.
"""
import gzip
import io
import json
import os
import secrets
import subprocess
import tarfile
import time

from .images import _client, _rfc3339, host_platform
from .registry import sha256_digest

PODMAN = "/usr/bin/podman"
PODMAN_COMPOSE = "/usr/bin/podman-compose"
BUSYBOX = "/bin/busybox"
PATH = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"

MT_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MT_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
MT_DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"

# A shell loop PID 1 that exits 0 on SIGTERM within a second (sh as PID 1
# otherwise ignores TERM and every stop would wait for the kill timeout).
SLEEP_FOREVER = "trap 'exit 0' TERM INT; while :; do sleep 1; done"

_LAYER = None  # (gzip bytes, diff_id): the busybox rootfs, built once per process
_WORKS = {}    # registry host → None (podman runs containers) or a skip reason


def busybox_layer():
    """A gzipped rootfs tar: /bin/busybox (static) with a symlink per applet,
    and the usual empty directories. → (compressed bytes, diff_id)."""
    global _LAYER
    if _LAYER is not None:
        return _LAYER
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, check=True,
                             text=True).stdout.split()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for d, mode in (("bin", 0o755), ("etc", 0o755), ("tmp", 0o1777), ("proc", 0o555),
                        ("sys", 0o555), ("dev", 0o755), ("run", 0o755), ("var", 0o755),
                        ("data", 0o777)):
            info = tarfile.TarInfo(d)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, mode, 0
            tar.addfile(info)
        with open(BUSYBOX, "rb") as f:
            data = f.read()
        info = tarfile.TarInfo("bin/busybox")
        info.size, info.mode, info.mtime = len(data), 0o755, 0
        tar.addfile(info, io.BytesIO(data))
        for name in applets:
            if name == "busybox" or "/" in name:
                continue
            info = tarfile.TarInfo("bin/" + name)
            info.type, info.linkname, info.mode, info.mtime = tarfile.SYMTYPE, "busybox", 0o777, 0
            tar.addfile(info)
        for name, text in (("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"),
                           ("etc/group", "root:x:0:\n")):
            body = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(body), 0o644, 0
            tar.addfile(info, io.BytesIO(body))
    plain = raw.getvalue()
    _LAYER = (gzip.compress(plain, mtime=0, compresslevel=6), sha256_digest(plain))
    return _LAYER


def _ns(seconds):
    return int(seconds * 1_000_000_000)


def push_busybox(registry, repo, tag, cmd=None, env=None, labels=None, healthcheck=None,
                 source=None, stop_signal=None, created=None, **client_kw):
    """Push a runnable busybox image; → manifest digest.

    cmd: a shell command string (run by `sh -c`) or an argv list; default
    sleeps forever. env: {NAME: value}. healthcheck: a shell command string
    (CMD-SHELL; interval 1s, retries 1) or a full Docker Healthcheck dict."""
    client = _client(registry, **client_kw)
    layer, diff_id = busybox_layer()
    layer_digest = client.push_blob(repo, layer)
    if cmd is None:
        cmd = SLEEP_FOREVER
    if isinstance(cmd, str):
        cmd = ["/bin/sh", "-c", cmd]
    all_labels = {"magos.test.nonce": secrets.token_hex(8)}
    if source:
        all_labels["org.opencontainers.image.source"] = source
    all_labels.update(labels or {})
    envs = ["PATH=/bin"] + [f"{k}={v}" for k, v in (env or {}).items()]
    conf = {"Env": envs, "Cmd": list(cmd), "Labels": all_labels, "WorkingDir": "/"}
    if healthcheck is not None:
        if isinstance(healthcheck, str):
            healthcheck = {"Test": ["CMD-SHELL", healthcheck], "Interval": _ns(1),
                           "Timeout": _ns(5), "StartPeriod": 0, "Retries": 1}
        conf["Healthcheck"] = healthcheck
    if stop_signal:
        conf["StopSignal"] = stop_signal
    os_, _, arch = host_platform().partition("/")
    created = _rfc3339(created)
    config = {"architecture": arch, "os": os_, "created": created, "config": conf,
              "rootfs": {"type": "layers", "diff_ids": [diff_id]},
              "history": [{"created": created, "created_by": "magos podman test"}]}
    config_bytes = json.dumps(config, indent=2).encode() + b"\n"
    config_digest = client.push_blob(repo, config_bytes)
    manifest = {"schemaVersion": 2, "mediaType": MT_DOCKER_MANIFEST,
                "config": {"mediaType": MT_DOCKER_CONFIG, "digest": config_digest,
                           "size": len(config_bytes)},
                "layers": [{"mediaType": MT_DOCKER_LAYER, "digest": layer_digest,
                            "size": len(layer)}]}
    data = json.dumps(manifest, indent=2).encode() + b"\n"
    return client.put_manifest(repo, tag, data, MT_DOCKER_MANIFEST)


def push_sleeper(registry, repo, tag, **kw):
    return push_busybox(registry, repo, tag, cmd=SLEEP_FOREVER, **kw)


def push_exiter(registry, repo, tag, code=1, **kw):
    return push_busybox(registry, repo, tag, cmd=f"echo exiting with {int(code)}; exit {int(code)}",
                        **kw)


def push_healthcheck(registry, repo, tag, passes=True, **kw):
    return push_busybox(registry, repo, tag, cmd=SLEEP_FOREVER,
                        healthcheck="true" if passes else "false", **kw)


def push_env_writer(registry, repo, tag, var, path, **kw):
    """Writes the value of $var (nothing when unset) to `path`, then sleeps."""
    if not var.replace("_", "").isalnum():
        raise ValueError(f"not a variable name: {var!r}")
    q = "'" + path.replace("'", "'\\''") + "'"
    return push_busybox(registry, repo, tag,
                        cmd=f'printf "%s" "${{{var}}}" > {q}; {SLEEP_FOREVER}', **kw)


class PodmanSandbox:
    """Config files for podman (runc, ulimits, insecure test registries), the
    environment to run podman / podman-compose / the agent with, and
    bookkeeping to remove everything the test created."""

    def __init__(self, directory, registries=(), prefix=None):
        os.makedirs(directory, exist_ok=True)
        self.dir = directory
        self.prefix = prefix or f"mdt-{secrets.token_hex(3)}-"
        self.registries = []
        self.containers_conf = os.path.join(directory, "containers.conf")
        self.registries_conf = os.path.join(directory, "registries.conf")
        with open(self.containers_conf, "w") as f:
            f.write('[containers]\n'
                    'default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n'
                    '[engine]\n'
                    'runtime = "runc"\n'
                    '[engine.runtimes]\n'
                    'runc = ["/usr/sbin/runc", "/usr/bin/runc"]\n')
        self._write_registries()
        for r in registries:
            self.add_registry(r)
        self.env = {"CONTAINERS_CONF": self.containers_conf,
                    "CONTAINERS_REGISTRIES_CONF": self.registries_conf, "PATH": PATH}
        self.extra_projects = set()

    # -- configuration ---------------------------------------------------
    def add_registry(self, registry):
        """Mark a registry (host:port, or a Registry) insecure (plain HTTP)."""
        host = getattr(registry, "host", registry)
        if host not in self.registries:
            self.registries.append(host)
            self._write_registries()
        return host

    def _write_registries(self):
        lines = ["unqualified-search-registries = []", 'short-name-mode = "permissive"', ""]
        for host in self.registries:
            lines += ["[[registry]]", f'location = "{host}"', "insecure = true", ""]
        with open(self.registries_conf, "w") as f:
            f.write("\n".join(lines))

    def project(self, name):
        """A compose project name unique to this sandbox: prefix + name."""
        return self.prefix + name

    def track_project(self, name):
        """Also clean up a project whose name does not carry the prefix."""
        self.extra_projects.add(name)

    def environ(self, extra=None):
        env = {"HOME": os.path.join(self.dir, "home"), "LANG": "C.UTF-8"}
        os.makedirs(env["HOME"], exist_ok=True)
        env.update(self.env)
        env.update(extra or {})
        return env

    # -- running things --------------------------------------------------
    def podman(self, *args, check=True, timeout=120):
        """Run podman with the sandbox env; → CompletedProcess (text)."""
        p = subprocess.run([PODMAN, *map(str, args)], env=self.environ(), capture_output=True,
                           text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise AssertionError(f"podman {' '.join(map(str, args))}: exit {p.returncode}\n"
                                 f"{p.stdout}{p.stderr}")
        return p

    def compose(self, project, workdir, *args, files=("compose.yaml",), check=True,
                timeout=180):
        """podman-compose -p project -f f... ARGS in workdir; → CompletedProcess."""
        argv = [PODMAN_COMPOSE, "-p", project]
        for f in files:
            argv += ["-f", f]
        argv += list(map(str, args))
        p = subprocess.run(argv, cwd=workdir, env=self.environ(), capture_output=True,
                           text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise AssertionError(f"{' '.join(argv)}: exit {p.returncode}\n{p.stdout}{p.stderr}")
        return p

    def _json(self, *args):
        out = self.podman(*args).stdout.strip()
        if not out:
            return []
        try:
            return json.loads(out)
        except ValueError:  # one object per line
            return [json.loads(line) for line in out.splitlines() if line.strip()]

    def container_ids(self, project):
        ids = []
        for label in ("io.podman.compose.project", "com.docker.compose.project"):
            for c in self._json("ps", "-a", "--filter", f"label={label}={project}",
                                "--format", "json"):
                cid = c.get("Id") or c.get("ID")
                if cid and cid not in ids:
                    ids.append(cid)
        return ids

    def containers(self, project):
        """`podman inspect` of every container of the project (any state)."""
        ids = self.container_ids(project)
        return self._json("inspect", *ids) if ids else []

    def service_state(self, project):
        """{service: (state, exit code, health or None, image name, image id)}."""
        out = {}
        for c in self.containers(project):
            labels = c.get("Config", {}).get("Labels") or {}
            st = c.get("State", {})
            health = (st.get("Health") or st.get("Healthcheck") or {}).get("Status") or None
            out[labels.get("com.docker.compose.service", c.get("Name"))] = (
                st.get("Status"), st.get("ExitCode"), health, c.get("ImageName"),
                c.get("Image"))
        return out

    def healthcheck_run(self, name):
        """Run a container's healthcheck once (no systemd timers here)."""
        return self.podman("healthcheck", "run", name, check=False).returncode

    def logs(self, name, tail=50):
        p = self.podman("logs", "--tail", str(tail), name, check=False)
        return p.stdout + p.stderr

    def exec(self, name, *cmd):
        return self.podman("exec", name, *cmd).stdout

    def wait_running(self, project, services, timeout=60):
        """Poll until each service has a running container; → service_state()."""
        deadline = time.monotonic() + timeout
        while True:
            st = self.service_state(project)
            if all(st.get(s, ("",))[0] == "running" for s in services):
                return st
            if time.monotonic() > deadline:
                raise AssertionError(f"project {project}: services {services} not running "
                                     f"after {timeout}s: {st}")
            time.sleep(0.5)

    def image_digests(self, image_id):
        data = self._json("image", "inspect", image_id)
        return data[0].get("RepoDigests") or [] if data else []

    # -- the real-podman probe -------------------------------------------
    def require_working(self, registry):
        """pytest.skip (with the reason) unless podman can pull from `registry`
        and run a container here. Cached per registry for the session."""
        import pytest

        host = self.add_registry(registry)
        if host not in _WORKS:
            _WORKS[host] = self._probe(registry)
        if _WORKS[host]:
            pytest.skip(f"podman cannot run a container here: {_WORKS[host]}")

    def _probe(self, registry):
        if not (os.access(PODMAN, os.X_OK) and os.access(PODMAN_COMPOSE, os.X_OK)):
            return "podman or podman-compose is not installed"
        try:
            push_busybox(registry, "magos-probe/busybox", "probe", cmd="echo probe-ok")
            ref = f"{self.add_registry(registry)}/magos-probe/busybox:probe"
            p = self.podman("run", "--rm", "--name", self.prefix + "probe",
                            "--label", f"io.podman.compose.project={self.prefix}probe",
                            "--network", "none", ref, check=False)
        except (OSError, subprocess.SubprocessError) as e:
            return str(e)
        if p.returncode != 0 or "probe-ok" not in p.stdout:
            return f"`podman run` exited {p.returncode}: {(p.stderr or p.stdout).strip()[-500:]}"
        return None

    # -- cleanup -----------------------------------------------------------
    def _ours(self, name):
        return bool(name) and (name.startswith(self.prefix) or
                               any(name == p or name.startswith(p + "_")
                                   for p in self.extra_projects))

    def _label_ours(self, labels):
        labels = labels or {}
        return any(self._ours(labels.get(k)) for k in ("io.podman.compose.project",
                                                     "com.docker.compose.project"))

    def cleanup(self):
        """Remove every container, pod, network, volume and image we created.
        Never raises (it runs as a finalizer); returns what it could not remove."""
        failed = []

        def run(*args):
            try:
                p = self.podman(*args, check=False, timeout=120)
                if p.returncode != 0:
                    failed.append(f"podman {' '.join(args)}: {p.stderr.strip()[-300:]}")
                return p
            except (OSError, subprocess.SubprocessError) as e:
                failed.append(str(e))
                return None

        def listing(*args):
            try:
                return self._json(*args)
            except (AssertionError, ValueError, OSError, subprocess.SubprocessError):
                return []

        ids = [c.get("Id") for c in listing("ps", "-a", "--format", "json")
               if self._label_ours(c.get("Labels"))
               or any(self._ours(n) for n in (c.get("Names") or []))]
        if ids:
            run("rm", "-f", "-t", "0", *ids)
        pods = [p.get("Name") for p in listing("pod", "ps", "--format", "json")
                if self._ours(p.get("Name")) or self._ours((p.get("Name") or "")[4:])
                or self._label_ours(p.get("Labels"))]
        if pods:
            run("pod", "rm", "-f", *pods)
        nets = [n.get("name") or n.get("Name") for n in listing("network", "ls", "--format", "json")]
        nets = [n for n in nets if self._ours(n)]
        if nets:
            run("network", "rm", "-f", *nets)
        vols = [v.get("Name") for v in listing("volume", "ls", "--format", "json")
                if self._ours(v.get("Name")) or self._label_ours(v.get("Labels"))]
        if vols:
            run("volume", "rm", "-f", *vols)
        imgs = []
        for img in listing("images", "--format", "json"):
            names = img.get("Names") or []
            names = names + (img.get("RepoDigests") or [])
            if any(n.startswith(h + "/") for n in names for h in self.registries):
                imgs.append(img.get("Id"))
        if imgs:
            run("rmi", "-f", *imgs)
        return failed

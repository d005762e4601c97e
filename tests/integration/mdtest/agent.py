"""Run the magos-dominus binary the way a user would, in a sealed environment.

Agent(tmp, git_url=..., registry_host=..., **overrides) writes <tmp>/magos.env
and runs `MAGOS_BIN --config <env> COMMAND [args]` with a clean environment
(no inherited MD_* or proxy variables, HOME=<tmp>/home) and a timeout."""
import json
import os
import subprocess

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
DEFAULT_TIMEOUT = 60
AUTHOR = "magos test <magos@test.invalid>"
SANITIZER_VARS = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS")


def magos_bin():
    # Absolute: the agent runs with its temp directory as cwd.
    return os.path.abspath(os.environ.get("MAGOS_BIN") or
                           os.path.join(REPO_ROOT, "build", "magos-dominus"))


class Result:
    def __init__(self, argv, code, stdout, stderr):
        self.argv = argv
        self.code = code
        self.stdout = stdout
        self.stderr = stderr

    @property
    def lines(self):
        return self.stdout.splitlines()

    def logs(self):
        """stderr as JSON log records; a non-JSON line is a test failure."""
        out = []
        for line in self.stderr.splitlines():
            if line.strip():
                try:
                    out.append(json.loads(line))
                except ValueError:
                    raise AssertionError(f"stderr line is not JSON: {line!r}\n{self}")
        return out

    def __str__(self):
        return (f"$ {' '.join(self.argv)}\nexit {self.code}\n--- stdout\n{self.stdout}"
                f"--- stderr\n{self.stderr}")

    __repr__ = __str__


def env_line(key, value):
    """KEY=VALUE, double-quoted when the value holds spaces or quotes."""
    value = str(value)
    if value == "" or any(c in value for c in " \t#'\"\\$`"):
        value = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{key}={value}"


class Agent:
    """`settings` override the defaults; a value of None drops the key."""

    def __init__(self, tmp, git_url=None, registry_host=None, **settings):
        self.tmp = str(tmp)
        self.home = os.path.join(self.tmp, "home")
        os.makedirs(self.home, exist_ok=True)
        self.repo = os.path.join(self.tmp, "clone")
        self.state_dir = os.path.join(self.tmp, "state")
        self.env_file = os.path.join(self.tmp, "magos.env")
        base = {"MD_REPO": self.repo, "MD_GIT_URL": git_url, "MD_STATE_DIR": self.state_dir,
                "MD_INSECURE_REGISTRIES": registry_host, "MD_GIT_AUTHOR": AUTHOR,
                "MD_LOG_FORMAT": "json", "MD_LISTEN": "off"}
        base.update(settings)
        self.settings = {k: v for k, v in base.items() if v is not None}
        self.write_env()

    def write_env(self, extra_lines=()):
        lines = ["# written by the magos-dominus integration tests"]
        lines += [env_line(k, v) for k, v in self.settings.items()]
        lines += list(extra_lines)
        with open(self.env_file, "w") as f:
            f.write("\n".join(lines) + "\n")

    def environ(self, extra=None):
        env = {"PATH": "/usr/bin:/bin", "HOME": self.home, "LANG": "C.UTF-8", "TZ": "UTC",
               "GIT_CONFIG_NOSYSTEM": "1", "XDG_CONFIG_HOME": os.path.join(self.home, ".config")}
        # Sanitizer settings pass through so `make asan` can run this suite.
        env.update({k: v for k, v in os.environ.items() if k in SANITIZER_VARS})
        env.update(extra or {})
        return env

    def run(self, *args, config=True, env=None, timeout=DEFAULT_TIMEOUT, global_args=()):
        argv = [magos_bin()]
        if config:
            argv += ["--config", self.env_file]
        argv += list(global_args) + [str(a) for a in args]
        try:
            p = subprocess.run(argv, env=self.environ(env), cwd=self.tmp, capture_output=True,
                               timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as e:
            raise AssertionError(f"{' '.join(argv)} did not finish in {timeout}s\n"
                                 f"stdout: {e.stdout!r}\nstderr: {e.stderr!r}")
        return Result(argv, p.returncode, p.stdout.decode(errors="replace"),
                      p.stderr.decode(errors="replace"))

    def once(self, **kw):
        return self.run("once", **kw)

    def plan(self, **kw):
        return self.run("plan", **kw)

    def check(self, **kw):
        return self.run("check", **kw)

    def path(self, rel):
        return os.path.join(self.repo, rel)

    def read(self, rel):
        with open(self.path(rel), "rb") as f:
            return f.read()

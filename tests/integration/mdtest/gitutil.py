"""Git remotes for the tests: bare repositories seeded from files, driven by the git CLI.

Every git call uses an argv list, GIT_CONFIG_NOSYSTEM=1, a private HOME and
explicit identity, so the developer's own configuration never leaks in."""
import os
import subprocess

GIT = "/usr/bin/git"
AUTHOR = ("magos fixture", "fixture@test.invalid")


def git_env(home):
    return {"PATH": "/usr/bin:/bin", "HOME": home, "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0", "LANG": "C", "LC_ALL": "C", "TZ": "UTC",
            "XDG_CONFIG_HOME": os.path.join(home, ".config")}


def git(home, *args, cwd=None, check=True, input=None):
    """Run git; → stdout (bytes decoded as UTF-8). Raises with stderr on failure."""
    env = git_env(home)
    argv = [GIT, "-c", f"user.name={AUTHOR[0]}", "-c", f"user.email={AUTHOR[1]}",
            "-c", "init.defaultBranch=main", "-c", "core.autocrlf=false",
            "-c", "advice.detachedHead=false", "-c", "protocol.file.allow=always", *args]
    p = subprocess.run(argv, cwd=cwd, env=env, input=input, capture_output=True, timeout=60)
    if check and p.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed ({p.returncode}):\n"
                           f"{p.stderr.decode(errors='replace')}")
    return p.stdout.decode(errors="replace")


def write_files(root, files):
    """files: {relative path: str or bytes}; str is written as UTF-8 bytes verbatim."""
    for rel, content in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if isinstance(content, str):
            content = content.encode()
        with open(path, "wb") as f:
            f.write(content)


class Remote:
    """A bare repository on disk (`path`) reachable as `url` (file:// unless
    served by a GitHTTPServer, which replaces `url`)."""

    def __init__(self, path, home, branch="main"):
        self.path = path
        self.home = home
        self.branch = branch
        self.url = "file://" + path

    def git(self, *args, check=True):
        return git(self.home, "--git-dir", self.path, *args, check=check)

    def head(self, ref=None):
        return self.git("rev-parse", ref or f"refs/heads/{self.branch}").strip()

    def show(self, path, rev=None):
        """Bytes of `path` at `rev` (default: branch head)."""
        env = git_env(self.home)
        p = subprocess.run([GIT, "--git-dir", self.path, "show",
                            f"{rev or self.branch}:{path}"], env=env, capture_output=True,
                           timeout=60, check=True)
        return p.stdout

    def message(self, rev=None):
        """The raw commit message (everything after the header's blank line)."""
        raw = self.git("cat-file", "commit", rev or self.branch)
        return raw.split("\n\n", 1)[1]

    def parents(self, rev=None):
        return self.git("log", "-1", "--format=%P", rev or self.branch).split()

    def count(self, rev=None):
        return int(self.git("rev-list", "--count", rev or self.branch).strip())

    def changed_files(self, rev=None):
        return self.git("diff-tree", "--no-commit-id", "--name-only", "-r", "--no-renames",
                        rev or self.branch).split()

    def author(self, rev=None):
        return self.git("log", "-1", "--format=%an <%ae>", rev or self.branch).strip()

    def commit_diff(self, rev=None, paths=()):
        return self.git("show", "--format=", "--no-color", "--no-ext-diff", "--no-renames",
                        rev or self.branch, "--", *paths)

    def commit_files(self, work, files, message="fixture: change", url=None):
        """Push a commit changing `files` from a separate clone in `work`."""
        if not os.path.isdir(os.path.join(work, ".git")):
            git(self.home, "clone", "-q", "--branch", self.branch, url or self.url, work)
        else:
            git(self.home, "pull", "-q", "--ff-only", cwd=work)
        write_files(work, files)
        git(self.home, "add", "-A", cwd=work)
        git(self.home, "commit", "-q", "-m", message, cwd=work)
        git(self.home, "push", "-q", "origin", f"HEAD:refs/heads/{self.branch}", cwd=work)
        return git(self.home, "rev-parse", "HEAD", cwd=work).strip()


def bare_remote(tmp, files, name="gitops", home=None, branch="main",
                message="initial GitOps repository"):
    """Create <tmp>/<name>.git seeded with one commit of `files` (a dict, or
    the path of a directory to copy) on `branch`. → Remote."""
    tmp = str(tmp)
    home = home or os.path.join(tmp, "home")
    os.makedirs(home, exist_ok=True)
    seed = os.path.join(tmp, f"{name}-seed")
    bare = os.path.join(tmp, f"{name}.git")
    os.makedirs(seed)
    if isinstance(files, (str, os.PathLike)):
        import shutil
        shutil.copytree(files, seed, dirs_exist_ok=True)
    else:
        write_files(seed, files)
    git(home, "init", "-q", "-b", branch, cwd=seed)
    git(home, "add", "-A", cwd=seed)
    git(home, "commit", "-q", "-m", message, cwd=seed)
    git(home, "init", "-q", "--bare", "-b", branch, bare)
    # Allow pushes over smart HTTP (git http-backend) without authentication.
    git(home, "--git-dir", bare, "config", "http.receivepack", "true")
    git(home, "push", "-q", bare, f"{branch}:refs/heads/{branch}", cwd=seed)
    return Remote(bare, home, branch)


def clone(home, url, dest, branch="main"):
    git(home, "clone", "-q", "--branch", branch, url, dest)
    return dest


def worktree_head(home, work):
    return git(home, "rev-parse", "HEAD", cwd=work).strip()


def worktree_status(home, work):
    """Porcelain status without touching the index (no optional locks)."""
    return git(home, "--no-optional-locks", "status", "--porcelain", "--untracked-files=all",
               cwd=work)

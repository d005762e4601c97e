"""The agent as a GitHub App (issue 4): App JWTs and installation tokens,
git over HTTP with x-access-token, the bot identity, PR mode (one branch and
PR per image, updated in place, reused after a restart, closed when no longer
needed), commits through the Git Data API, and tokens that never leak."""
import json
import os
import subprocess
import time
import urllib.request

import pytest

from mdtest import gitutil
from mdtest.agent import magos_bin
from mdtest.compose import compose_site
from mdtest.github import GitHubStandIn, make_key
from mdtest.images import host_platform, push_image
from mdtest.registry import MT_OCI_CONFIG, MT_OCI_LAYER, MT_OCI_MANIFEST

OWNER, REPO = "acme", "homelab"
WEB = "app/web"
BRANCH = "magos/app/web"
COMPOSE = "stacks/web/compose.yaml"
SOURCE = "https://github.com/acme/web"
BOT = "magos-test[bot] <99001+magos-test[bot]@users.noreply.github.com>"


@pytest.fixture
def github(request, tmp_path):
    """The stand-in serving every bare repository under tmp_path/remotes, with
    a fresh App key (mode 0600) in gh.key_file."""
    root = tmp_path / "remotes"
    root.mkdir(exist_ok=True)
    key_file = str(tmp_path / "app-key.pem")
    gh = GitHubStandIn(str(root), make_key(key_file))
    gh.key_file = key_file
    request.addfinalizer(gh.stop)
    return gh


@pytest.fixture
def setup(github, registry_server, make_remote, make_agent):
    """setup(**settings) → (agent, remote, registry) for one image app/web at
    1.0.0 with 1.1.0 available, the repository served by the stand-in."""

    def make(tags=("1.0.0", "1.1.0"), agent_settings=None, **settings):
        reg = registry_server
        for t in tags:
            push_image(reg, WEB, t, annotations={"org.opencontainers.image.source": SOURCE})
        remote = make_remote({COMPOSE: compose_site(reg.ref(WEB, "1.0.0"), policy="semver",
                                                    range="^1.0"), "README.md": "hi\n"},
                             name=f"{OWNER}/{REPO}")
        remote.url = github.repo_url(OWNER, REPO)
        base = {"MD_GITHUB_APP_ID": github.app_id, "MD_GITHUB_APP_KEY_FILE": github.key_file,
                "MD_GITHUB_API_URL": github.api_url, "MD_GIT_AUTHOR": None}
        base.update(settings)
        return make_agent(remote, reg.host, **base), remote, reg

    return make


def git_users(github):
    return {r.user for r in github.git_requests() if r.user}


def assert_no_token(github, *texts):
    tokens = github.all_text()
    assert tokens
    for text in texts:
        for t in tokens:
            assert t not in text


def clone_config(agent):
    with open(os.path.join(agent.repo, ".git", "config")) as f:
        return f.read()


# ---- push mode -------------------------------------------------------------------

def test_push_mode_commits_as_the_app_bot(github, setup):
    agent, remote, reg = setup()
    base = remote.head()

    r = agent.once()

    assert r.code == 0, str(r)
    assert remote.head() != base
    assert remote.author() == BOT
    assert remote.git("log", "-1", "--format=%cn <%ce>").strip() == BOT
    assert b"1.1.0" in remote.show(COMPOSE)
    assert git_users(github) == {"x-access-token"}
    assert any("git-receive-pack" in q.path for q in github.git_requests())
    # Every REST call carried GitHub's required headers.
    assert github.calls
    for c in github.calls:
        assert c.headers.get("User-Agent", "").startswith("magos-dominus/")
        assert c.headers.get("X-Github-Api-Version") == "2022-11-28"
    assert github.calls_to("GET", "/app") and github.calls_to("GET", "/users/magos-test[bot]")
    assert_no_token(github, r.stdout, r.stderr, clone_config(agent))
    assert gitutil.worktree_head(remote.home, agent.repo) == remote.head()


def test_api_commit_is_githubs_and_verified(github, setup):
    agent, remote, reg = setup(MD_COMMIT_VIA_API="true")
    base = remote.head()

    r = agent.once()

    assert r.code == 0, str(r)
    head = remote.head()
    assert head != base and remote.parents() == [base]
    assert remote.author() == "GitHub <noreply@github.com>"
    assert head in github.verified
    assert github.commit_bodies
    for body in github.commit_bodies:
        assert not {"author", "committer", "signature"} & set(body), body
    assert b"1.1.0" in remote.show(COMPOSE)
    # The clone fetched what GitHub made: in sync, clean.
    assert gitutil.worktree_head(remote.home, agent.repo) == head
    assert gitutil.worktree_status(remote.home, agent.repo) == ""
    assert agent.once().lines == ["no changes"]


def test_api_commit_race_is_redone_on_top(github, setup, scratch):
    agent, remote, reg = setup(MD_COMMIT_VIA_API="true")
    moved = []

    def someone_pushes_first(call):
        if call.method == "PATCH" and "/git/refs/heads/main" in call.path and not moved:
            moved.append(remote.commit_files(os.path.join(scratch, "w"), {"README.md": "x\n"},
                                             message="someone else",
                                             url="file://" + remote.path))

    github.rest_hook = someone_pushes_first
    r = agent.once()

    assert r.code == 0, str(r)
    assert moved and remote.parents() == [moved[0]]
    assert remote.author() == "GitHub <noreply@github.com>"
    assert b"1.1.0" in remote.show(COMPOSE) and remote.show("README.md") == b"x\n"
    assert len(github.commit_bodies) == 2
    assert gitutil.worktree_head(remote.home, agent.repo) == remote.head()


# ---- PR mode ---------------------------------------------------------------------

def test_pr_mode_opens_updates_and_never_duplicates(github, setup, registry_server,
                                                     make_agent):
    agent, remote, reg = setup(MD_MODE="pr")
    base = remote.head()

    r = agent.once()

    assert r.code == 0, str(r)
    assert remote.head() == base  # main is never touched in PR mode
    prs = github.open_pulls()
    assert len(prs) == 1, prs
    pr = prs[0]
    assert pr["head"] == BRANCH and pr["base"] == "main"
    assert "1.1.0" in pr["title"]
    assert "| image | update | digest | policy | file | source |" in pr["body"]
    assert "`1.0.0` → `1.1.0`" in pr["body"]
    assert f"`{COMPOSE}:3`" in pr["body"]
    assert f"({SOURCE}/releases/tag/1.1.0)" in pr["body"]
    assert "`semver ^1.0`" in pr["body"]
    tip = remote.head(f"refs/heads/{BRANCH}")
    assert remote.parents(tip) == [base]
    assert remote.changed_files(tip) == [COMPOSE]
    assert b"1.1.0" in remote.show(COMPOSE, BRANCH)
    assert remote.author(tip) == BOT
    logs = r.logs()
    opened = [x for x in logs if x.get("msg") == "pull request opened"]
    assert opened and opened[0]["branch"] == BRANCH and opened[0]["number"] == "1", logs

    # Again: the branch holds the same tree on the same base — no push, no edit.
    pushes = len([q for q in github.git_requests() if q.path.endswith("git-receive-pack")])
    patches = len(github.calls_to("PATCH", "/pulls/"))
    r = agent.once()
    assert r.code == 0, str(r)
    assert remote.head(f"refs/heads/{BRANCH}") == tip
    assert len([q for q in github.git_requests()
                if q.path.endswith("git-receive-pack")]) == pushes
    assert len(github.calls_to("PATCH", "/pulls/")) == patches
    assert len(github.pulls) == 1

    # A newer tag: the same PR, its branch force-updated, title/body edited.
    push_image(reg, WEB, "1.2.0", annotations={"org.opencontainers.image.source": SOURCE})
    r = agent.once()
    assert r.code == 0, str(r)
    assert len(github.pulls) == 1 and github.pulls[0]["state"] == "open"
    assert "1.2.0" in github.pulls[0]["title"]
    assert "`1.0.0` → `1.2.0`" in github.pulls[0]["body"]
    tip2 = remote.head(f"refs/heads/{BRANCH}")
    assert tip2 != tip and remote.parents(tip2) == [base]
    assert any(x.get("msg") == "pull request updated" for x in r.logs())

    # A restart with the state and the clone wiped: the PR is found and reused.
    fresh = make_agent(remote, reg.host, **{k: v for k, v in agent.settings.items()
                                            if k not in ("MD_REPO", "MD_STATE_DIR")},
                       MD_GIT_AUTHOR=None)
    r = fresh.once()
    assert r.code == 0, str(r)
    assert len(github.pulls) == 1
    assert remote.head(f"refs/heads/{BRANCH}") == tip2
    assert len(github.calls_to("POST", "/pulls")) == 1


def test_pr_closed_when_main_has_the_update(github, setup, scratch):
    agent, remote, reg = setup(MD_MODE="pr")
    assert agent.once().code == 0
    assert len(github.open_pulls()) == 1
    # Someone merges the change by hand.
    remote.commit_files(os.path.join(scratch, "w"), {COMPOSE: remote.show(COMPOSE, BRANCH)},
                        message="merge by hand", url="file://" + remote.path)

    r = agent.once()

    assert r.code == 0, str(r)
    assert github.open_pulls() == []
    assert github.pulls[0]["state"] == "closed"
    assert github.comments and github.comments[0][0] == 1
    assert "no longer needs this update" in github.comments[0][1]
    assert remote.git("branch", "--list", BRANCH).strip() == ""
    assert any(x.get("msg") == "pull request closed" for x in r.logs())


def push_labelled(reg, repo, tag, source):
    """An image whose source is only in its config's Labels (docker build --label)."""
    client = reg.client()
    layer = client.push_blob(repo, os.urandom(32))
    os_, _, arch = host_platform().partition("/")
    config = json.dumps({"architecture": arch, "os": os_, "created": "2024-01-01T00:00:00Z",
                         "config": {"Labels": {"org.opencontainers.image.source": source}},
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    cfg = client.push_blob(repo, config)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": MT_OCI_MANIFEST,
                           "config": {"mediaType": MT_OCI_CONFIG, "digest": cfg,
                                      "size": len(config)},
                           "layers": [{"mediaType": MT_OCI_LAYER, "digest": layer,
                                       "size": 32}]}).encode()
    return client.put_manifest(repo, tag, manifest, MT_OCI_MANIFEST)


def test_pr_per_image_with_source_from_labels(github, setup):
    agent, remote, reg = setup(MD_MODE="pr")
    api_src = "https://git.example.org/acme/api"
    for t in ("2.0.0", "2.1.0"):
        push_labelled(reg, "app/api", t, api_src)
    api = "stacks/api/compose.yaml"
    remote.commit_files(os.path.join(str(agent.tmp), "w"), {
        api: compose_site(reg.ref("app/api", "2.0.0"), policy="semver")},
        message="add api", url="file://" + remote.path)
    base = remote.head()

    r = agent.once()

    assert r.code == 0, str(r)
    prs = {p["head"]: p for p in github.open_pulls()}
    assert set(prs) == {BRANCH, "magos/app/api"}, prs
    body = prs["magos/app/api"]["body"]
    assert f"[source]({api_src})" in body and "`2.0.0` → `2.1.0`" in body
    assert "app/web" not in body
    # Each branch holds its own image's change only, both on the same base.
    for branch, path in ((BRANCH, COMPOSE), ("magos/app/api", api)):
        tip = remote.head(f"refs/heads/{branch}")
        assert remote.parents(tip) == [base] and remote.changed_files(tip) == [path]


def test_pr_mode_through_the_api(github, setup):
    agent, remote, reg = setup(MD_MODE="pr", MD_COMMIT_VIA_API="true")
    base = remote.head()

    assert agent.once().code == 0
    tip = remote.head(f"refs/heads/{BRANCH}")
    assert remote.parents(tip) == [base]
    assert remote.author(tip) == "GitHub <noreply@github.com>" and tip in github.verified
    assert len(github.open_pulls()) == 1
    # Restart: same tree on the same base, nothing is committed again.
    n = len(github.commit_bodies)
    assert agent.once().code == 0
    assert len(github.commit_bodies) == n
    assert remote.head(f"refs/heads/{BRANCH}") == tip


# ---- tokens ------------------------------------------------------------------------

def test_revoked_token_is_replaced_mid_run(github, setup):
    agent, remote, reg = setup()

    def revoke_after_fetch(req):
        if req.method == "POST" and req.path.endswith("git-upload-pack"):
            github.revoke_all()

    github._gitsrv.hook = revoke_after_fetch
    r = agent.once()

    assert r.code == 0, str(r)
    assert b"1.1.0" in remote.show(COMPOSE)
    assert len(github.minted) >= 2
    assert len(set(github.git_tokens)) >= 2  # the push went with a fresh token
    assert_no_token(github, r.stdout, r.stderr)


def test_short_lived_tokens_are_renewed(github, setup):
    github.token_ttl = 3  # every use finds the token about to expire
    agent, remote, reg = setup(MD_MODE="pr")

    r = agent.once()

    assert r.code == 0, str(r)
    assert len(github.minted) >= 2
    assert len(github.open_pulls()) == 1


def test_wrong_key_fails_clearly(github, setup, tmp_path):
    other = str(tmp_path / "other.pem")
    make_key(other)
    agent, remote, reg = setup(MD_GITHUB_APP_KEY_FILE=other)
    base = remote.head()

    r = agent.once()

    assert r.code == 1, str(r)
    assert "could not be decoded" in r.stderr, str(r)
    assert remote.head() == base
    assert github.minted == []


def test_key_readable_by_others_is_refused(github, setup):
    os.chmod(github.key_file, 0o644)
    agent, remote, reg = setup()

    r = agent.once()

    assert r.code == 2, str(r)
    assert f"chmod 600 {github.key_file}" in r.stderr
    assert github.calls == []


def test_token_never_in_argv_environ_or_config(github, setup):
    agent, remote, reg = setup(MD_MODE="pr")
    github.delay = 0.3  # a slow GitHub: time to look at the running agent
    argv = [magos_bin(), "--config", agent.env_file, "once"]
    p = subprocess.Popen(argv, env=agent.environ(), cwd=agent.tmp, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    seen = []
    try:
        deadline = time.monotonic() + 60
        while p.poll() is None and time.monotonic() < deadline:
            for name in ("cmdline", "environ"):
                try:
                    with open(f"/proc/{p.pid}/{name}", "rb") as f:
                        seen.append(f.read().decode(errors="replace"))
                except OSError:
                    pass
            time.sleep(0.05)
        out, err = p.communicate(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 0, err.decode()
    assert github.minted and seen
    texts = seen + [out.decode(), err.decode(), clone_config(agent)]
    for root, _, files in os.walk(agent.state_dir):
        for name in files:
            with open(os.path.join(root, name), errors="replace") as f:
                texts.append(f.read())
    assert_no_token(github, *texts)


# ---- the stand-in itself checks JWTs like GitHub ----------------------------------------

def test_standin_enforces_githubs_jwt_rules(github):
    import jwt
    import urllib.error

    from mdtest import net

    with open(github.key_file, "rb") as f:
        key = f.read()
    now = int(time.time())

    def get_app(claims, headers=None):
        tok = jwt.encode(claims, key, algorithm="RS256")
        h = {"Authorization": f"Bearer {tok}", "User-Agent": "t",
             "Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        h.update(headers or {})
        req = urllib.request.Request(f"{github.api_url}/app", headers=h)
        try:
            with net.opener().open(req, timeout=10) as resp:
                assert resp.headers["x-ratelimit-remaining"]
                return resp.status, json.load(resp)
        except urllib.error.HTTPError as e:
            return e.code, json.load(e)

    ok = {"iat": now - 60, "exp": now + 540, "iss": github.app_id}
    assert get_app(ok)[0] == 200
    status, body = get_app(dict(ok, exp=now - 1))
    assert status == 401 and "'Expiration time'" in body["message"]
    status, body = get_app(dict(ok, iat=now + 120))
    assert status == 401 and "'Issued at'" in body["message"]
    status, body = get_app(dict(ok, exp=now + 700, iat=now - 60))
    assert status == 401 and "too far in the future" in body["message"]
    status, body = get_app(dict(ok, iss="1"))
    assert status == 401 and "'Issuer'" in body["message"]
    assert get_app(ok, {"User-Agent": ""})[0] == 403
    assert get_app(ok, {"X-GitHub-Api-Version": "1999-01-01"})[0] == 400

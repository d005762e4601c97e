"""`plan`: the diff `once` would commit, and not one byte written anywhere."""
import os

from mdtest import gitutil
from mdtest.checks import normalise_diff, snapshot, snapshot_diff
from mdtest.compose import compose_site
from mdtest.images import push_image, push_tags

WEB = "app/web"
A = "stacks/a/compose.yaml"
B = "stacks/b/compose.yml"


def test_plan_equals_the_commit_and_writes_nothing(registry_server, make_remote, make_agent,
                                                   scratch):
    reg = registry_server
    push_tags(reg, WEB, ["1.0.0"])
    push_image(reg, "app/cache", "latest")
    files = {
        A: compose_site(reg.ref(WEB, "1.0.0"), policy="semver", range="^1.0") +
        "\n  # trailing context\n  sidecar:\n    image: busybox:1.36\n",
        B: compose_site(reg.ref("app/cache", "latest"), policy="latest"),
        "README.md": "readme\n",
    }
    remote = make_remote(files)
    agent = make_agent(remote, reg.host)
    r = agent.once()  # clones, pins app/cache, creates the state file
    assert r.code == 0, str(r)
    assert os.listdir(agent.state_dir), "once should leave a state file"

    push_tags(reg, WEB, ["1.0.1", "1.1.0", "2.0.0"])
    push_image(reg, "app/cache", "latest")
    # The remote moves too: plan must not fetch it.
    remote.commit_files(os.path.join(scratch, "human"), {"README.md": "moved\n"}, "human")
    home = remote.home
    head = gitutil.worktree_head(home, agent.repo)
    clone_before, state_before = snapshot(agent.repo), snapshot(agent.state_dir)

    p = agent.plan()

    assert p.code == 0, str(p)
    assert snapshot_diff(clone_before, snapshot(agent.repo)) == [], "plan wrote into the clone"
    assert snapshot_diff(state_before, snapshot(agent.state_dir)) == [], "plan wrote state"
    assert gitutil.worktree_head(home, agent.repo) == head
    assert gitutil.worktree_status(home, agent.repo) == ""
    for f in (A, B):
        assert f"diff --git a/{f} b/{f}\n" in p.stdout, str(p)
        assert f"--- a/{f}\n+++ b/{f}\n@@ " in p.stdout, str(p)
    assert "README.md" not in p.stdout, str(p)

    o = agent.once()
    assert o.code == 0, str(o)
    committed = remote.commit_diff(paths=(A, B))
    assert normalise_diff(p.stdout) == normalise_diff(committed), \
        f"plan:\n{p.stdout}\ncommitted:\n{committed}"

    nothing = agent.plan()
    assert nothing.code == 0 and nothing.lines == ["no changes"], str(nothing)


def test_plan_requires_a_clone(registry_server, make_remote, make_agent):
    reg = registry_server
    push_tags(reg, WEB, ["1.0.0", "1.1.0"])
    remote = make_remote({A: compose_site(reg.ref(WEB, "1.0.0"), policy="semver",
                                          range="^1.0")})
    agent = make_agent(remote, reg.host)
    p = agent.plan()
    assert p.code in (1, 2), str(p)
    assert agent.repo in p.stderr or "MD_REPO" in p.stderr, str(p)
    assert not os.path.exists(agent.repo), "plan must not clone"
    assert p.stdout == "", str(p)

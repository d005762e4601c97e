"""CLI surface: version, usage errors, log formats."""
import json
import re

from mdtest.compose import compose_site
from mdtest.images import push_tags


def test_version(make_agent):
    r = make_agent(None, None).run("version", config=False)
    assert r.code == 0, str(r)
    assert re.fullmatch(r"magos-dominus \S+\n", r.stdout), str(r)


def test_unknown_command_is_a_usage_error(make_agent):
    r = make_agent(None, None).run("frobnicate")
    assert r.code == 2, str(r)
    assert "frobnicate" in r.stderr, str(r)


def test_bad_log_format_flag(make_agent):
    r = make_agent(None, None).run("version", config=False, global_args=("--log-format", "xml"))
    assert r.code == 2, str(r)


def test_json_logs_have_ts_level_msg(registry_server, make_remote, make_agent):
    reg = registry_server
    d = push_tags(reg, "app/web", ["1.0.0", "1.1.0"])
    remote = make_remote({"compose.yaml": compose_site(reg.ref("app/web", "1.0.0"),
                                                       policy="semver", range="^1.0")})
    r = make_agent(remote, reg.host).once(global_args=("-v",))
    assert r.code == 0, str(r)
    logs = r.logs()
    assert logs, "-v should log something"
    for rec in logs:
        assert {"ts", "level", "msg"} <= set(rec), rec
    updated = [rec for rec in logs if rec.get("digest") == d["1.1.0"]]
    assert updated, logs
    rec = updated[0]
    assert rec.get("image") == f"{reg.host}/app/web" and rec.get("from") == "1.0.0" \
        and rec.get("to") == "1.1.0", rec
    assert rec.get("commit") == remote.head(), rec


def test_text_log_format_flag_overrides_config(registry_server, make_remote, make_agent):
    reg = registry_server
    push_tags(reg, "app/web", ["1.0.0", "1.1.0"])
    remote = make_remote({"compose.yaml": compose_site(reg.ref("app/web", "1.0.0"),
                                                       policy="semver", range="^1.0")})
    r = make_agent(remote, reg.host).once(global_args=("--log-format", "text", "-v"))
    assert r.code == 0, str(r)
    assert r.stderr.strip(), str(r)
    for line in r.stderr.splitlines():
        try:
            json.loads(line)
        except ValueError:
            continue
        raise AssertionError(f"JSON line under --log-format text: {line!r}")

/* scan: running Trivy for real — a real child process, real pipes, a real
 * deadline and process-group kill — against the Trivy stand-in
 * (tests/integration/mdtest/trivy.py, which answers with Trivy's own
 * reports from ../shared/fixtures/trivy/ and records how it was called).
 * Asserts the exact invocation, where the credentials and the token go (never
 * argv), the filtered environment, and one clear outcome for every way a
 * run goes wrong. */
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "magos/scan.h"
#include "scan_fixture.h"

#define DA "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DB "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define APP "ghcr.io/acme/app"

/* The agent's environment as the tests pretend it: what Trivy may see, and
 * what it must not (the agent's secrets, other credentials, Trivy settings
 * that would filter the report). */
static char *agent_env[] = {
	"PATH=/usr/bin:/bin",
	"HOME=/var/lib/magos-test",
	"LC_ALL=C.UTF-8",
	"TRIVY_CACHE_DIR=/var/cache/trivy-test",
	"TRIVY_SEVERITY=CRITICAL",
	"TRIVY_IGNORE_UNFIXED=true",
	"TRIVY_USERNAME=leaked-user",
	"TRIVY_PASSWORD=leaked-password",
	"TRIVY_TOKEN=leaked-token",
	"AWS_SECRET_ACCESS_KEY=leaked-aws",
	"MD_GITHUB_APP_KEY_FILE=/leaked/key.pem",
	"DOCKER_CONFIG=/leaked/docker",
	"XDG_RUNTIME_DIR=/run/user/leaked",
	NULL,
};

static void opts_for(struct md_scan_opts *o, const struct standin *s)
{
	memset(o, 0, sizeof(*o));
	o->trivy = s->trivy;
	o->platform = "linux/arm64";
	o->tmp_dir = s->work;
	o->env = agent_env;
	o->timeout_ms = 60000;
}

static int dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n == 0;
}

static const char *env_of(json_t *call, const char *name)
{
	return json_string_value(json_object_get(json_object_get(call, "env"), name));
}

static void assert_argv(json_t *call, const char *const *want)
{
	json_t *argv = json_object_get(call, "argv");
	size_t n = 0;

	while (want[n])
		n++;
	if (json_array_size(argv) != n) {
		char *s = json_dumps(argv, 0);

		fail_msg("argv %s has %zu entries, expected %zu", s, json_array_size(argv), n);
	}
	for (size_t i = 0; i < n; i++)
		assert_string_equal(json_string_value(json_array_get(argv, i)), want[i]);
}

/* Nothing secret anywhere in argv, nor any leaked variable in the env. */
static void assert_no_secret(json_t *call, const char *secret)
{
	json_t *v;
	const char *k;
	size_t i;

	json_array_foreach(json_object_get(call, "argv"), i, v)
		if (strstr(json_string_value(v), secret))
			fail_msg("\"%s\" is in argv: %s", secret, json_string_value(v));
	json_object_foreach(json_object_get(call, "env"), k, v) {
		if (strstr(json_string_value(v), "leaked"))
			fail_msg("%s=%s reached Trivy", k, json_string_value(v));
		if (strstr(json_string_value(v), secret))
			fail_msg("\"%s\" is in the environment (%s)", secret, k);
	}
}

/* ---- a scan, and exactly how Trivy was called ---------------------------------------------- */

static void test_run_invocation(void **state)
{
	static const char *want[] = { "image", "--format", "json", "--quiet", "--scanners", "vuln",
				      "--image-src", "remote", "--platform", "linux/arm64",
				      "--timeout", "60s", APP "@" DA, NULL };
	struct md_scan_cred cred = { "bob", "hunter2", 0 };
	struct md_scan_opts o;
	struct md_scan_report *r = NULL;
	struct md_err err;
	struct standin s;
	json_t *call, *auth;
	const char *dcfg;

	(void)state;
	standin_init(&s);
	standin_image(&s, APP "@" DA, "alpine-39.json.golden", "ok");
	opts_for(&o, &s);
	if (md_scan_run(&r, &o, APP, DA, &cred, &err) != MD_SCAN_OK)
		fail_msg("%s", err.msg);
	assert_int_equal(md_scan_report_count(r), 6);
	assert_string_equal(md_scan_report_artifact(r), APP "@" DA);
	md_scan_report_free(r);

	call = standin_last_call(&s);
	assert_argv(call, want);
	assert_no_secret(call, "hunter2");
	/* credentials: a Docker config for ghcr.io only, private, in the
	 * directory Trivy runs in */
	dcfg = env_of(call, "DOCKER_CONFIG");
	assert_non_null(dcfg);
	assert_true(strncmp(dcfg, s.work, strlen(s.work)) == 0);
	assert_string_equal(json_string_value(json_object_get(call, "cwd")), dcfg);
	assert_int_equal(json_array_size(json_object_get(call, "cwd_files")), 1);
	assert_string_equal(json_string_value(json_object_get(call, "docker_config_mode")), "0o600");
	auth = json_object_get(json_object_get(call, "docker_config"), "auths");
	assert_int_equal(json_object_size(auth), 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(auth, "ghcr.io"),
							      "auth")),
			    "Ym9iOmh1bnRlcjI="); /* bob:hunter2 */
	/* the environment: kept, dropped, and no token without a server */
	assert_string_equal(env_of(call, "PATH"), "/usr/bin:/bin");
	assert_string_equal(env_of(call, "HOME"), "/var/lib/magos-test");
	assert_string_equal(env_of(call, "LC_ALL"), "C.UTF-8");
	assert_string_equal(env_of(call, "TRIVY_CACHE_DIR"), "/var/cache/trivy-test");
	assert_null(env_of(call, "TRIVY_SEVERITY"));
	assert_null(env_of(call, "TRIVY_IGNORE_UNFIXED"));
	assert_null(env_of(call, "TRIVY_USERNAME"));
	assert_null(env_of(call, "TRIVY_TOKEN"));
	assert_null(env_of(call, "XDG_RUNTIME_DIR"));
	/* its own process group: a timeout kills what it starts */
	assert_int_equal(json_integer_value(json_object_get(call, "pgid")),
			 json_integer_value(json_object_get(call, "pid")));
	json_decref(call);
	/* the private directory is gone */
	assert_true(dir_is_empty(s.work));
	standin_free(&s);
}

static void test_run_docker_hub_anonymous(void **state)
{
	static const char *want[] = { "image", "--format", "json", "--quiet", "--scanners", "vuln",
				      "--image-src", "remote", "--platform", "linux/arm/v7",
				      "--timeout", "300s", "nginx@" DB, NULL };
	struct md_scan_opts o;
	struct md_scan_report *r = NULL;
	struct md_err err;
	struct standin s;
	json_t *call;

	(void)state;
	standin_init(&s);
	standin_image(&s, DB, "alpine-310.json.golden", "ok");
	opts_for(&o, &s);
	o.platform = "linux/arm/v7";
	o.timeout_ms = 0; /* the default, 5 minutes */
	if (md_scan_run(&r, &o, "nginx", DB, NULL, &err) != MD_SCAN_OK)
		fail_msg("%s", err.msg);
	/* Trivy's RepoDigests name is "nginx"; the report is for it */
	assert_int_equal(md_scan_report_count(r), 4);
	md_scan_report_free(r);
	call = standin_last_call(&s);
	assert_argv(call, want);
	/* no credentials: an empty Docker config, so none from elsewhere */
	assert_int_equal(json_object_size(json_object_get(json_object_get(call, "docker_config"),
							  "auths")),
			 0);
	json_decref(call);
	standin_free(&s);
}

static void test_run_docker_hub_identity_token(void **state)
{
	struct md_scan_cred cred = { "<token>", "refresh-me", 1 };
	struct md_scan_opts o;
	struct md_scan_report *r = NULL;
	struct md_err err;
	struct standin s;
	json_t *call, *entry;

	(void)state;
	standin_init(&s);
	standin_image(&s, DB, "alpine-310.json.golden", "ok");
	opts_for(&o, &s);
	assert_int_equal(md_scan_run(&r, &o, "docker.io/library/redis", DB, &cred, &err),
			 MD_SCAN_OK);
	md_scan_report_free(r);
	call = standin_last_call(&s);
	assert_no_secret(call, "refresh-me");
	entry = json_object_get(json_object_get(json_object_get(call, "docker_config"), "auths"),
				"https://index.docker.io/v1/");
	assert_string_equal(json_string_value(json_object_get(entry, "identitytoken")), "refresh-me");
	json_decref(call);
	standin_free(&s);
}

/* ---- where Trivy is found ---------------------------------------------------------------------- */

static void test_run_path_lookup(void **state)
{
	struct md_scan_opts o;
	struct md_scan_report *r = NULL;
	struct md_err err;
	struct standin s;

	(void)state;
	standin_init(&s);
	standin_image(&s, DA, "alpine-310.json.golden", "ok");
	opts_for(&o, &s);
	o.trivy = NULL;
	o.search_path = s.dir;
	if (md_scan_run(&r, &o, APP, DA, NULL, &err) != MD_SCAN_OK)
		fail_msg("%s", err.msg);
	md_scan_report_free(r);
	assert_int_equal(md_scan_probe(&o, &err), MD_SCAN_OK);

	o.search_path = "/nonexistent/bin:/nonexistent/sbin";
	assert_int_equal(md_scan_run(&r, &o, APP, DA, NULL, &err), MD_SCAN_MISSING);
	assert_null(r);
	assert_string_equal(err.msg, "Trivy scan of " APP "@" DA ": trivy was not found in PATH "
				     "(/nonexistent/bin:/nonexistent/sbin): install Trivy next to "
				     "the agent, or set MD_TRIVY to its path or to a Trivy "
				     "server's URL");
	assert_int_equal(md_scan_probe(&o, &err), MD_SCAN_MISSING);
	standin_free(&s);
}

static void test_run_missing(void **state)
{
	struct md_scan_opts o;
	struct md_scan_report *r = NULL;
	char *key = NULL;
	struct md_err err;
	struct standin s;

	(void)state;
	standin_init(&s);
	opts_for(&o, &s);
	o.trivy = "/nonexistent/trivy";
	assert_int_equal(md_scan_run(&r, &o, APP, DA, NULL, &err), MD_SCAN_MISSING);
	assert_string_equal(err.msg, "Trivy scan of " APP "@" DA ": /nonexistent/trivy is not an "
				     "executable file: install Trivy there, or set MD_TRIVY to "
				     "where it is");
	assert_int_equal(md_scan_db_version(&key, &o, &err), MD_SCAN_MISSING);
	assert_null(key);
	assert_int_equal(md_scan_probe(&o, &err), MD_SCAN_MISSING);
	/* a directory is not an executable either */
	o.trivy = s.dir;
	assert_int_equal(md_scan_run(&r, &o, APP, DA, NULL, &err), MD_SCAN_MISSING);
	standin_free(&s);
}

/* ---- every way a run goes wrong: one outcome, one message, nothing left ------------------------ */

static int progress_calls;

static void count_progress(void *ctx)
{
	(void)ctx;
	progress_calls++;
}

/* Wait (an event, with a generous limit) for pid, reparented to this
 * subreaper when its parent died, and say whether SIGKILL ended it. */
static int reaped_by_sigkill(pid_t pid)
{
	int st;

	for (int i = 0; i < 3000; i++) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid)
			return WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
		if (w < 0 && errno != ECHILD)
			return 0;
		usleep(10000);
	}
	kill(pid, SIGKILL); /* still alive: clean up, then fail */
	waitpid(pid, &st, 0);
	return 0;
}

static void test_run_timeout_kills_group(void **state)
{
	struct md_scan_opts o;
	struct md_scan_report *r = NULL;
	struct md_err err;
	struct standin s;
	char pidfile[PATH_MAX + 16];
	FILE *f;
	int child = 0;

	(void)state;
	standin_init(&s);
	standin_image(&s, DA, "alpine-39.json.golden", "hang");
	opts_for(&o, &s);
	o.timeout_ms = 3000;
	o.progress = count_progress;
	progress_calls = 0;
	assert_int_equal(md_scan_run(&r, &o, APP, DA, NULL, &err), MD_SCAN_TIMEOUT);
	assert_null(r);
	assert_string_equal(err.msg, "Trivy scan of " APP "@" DA ": Trivy did not finish within "
				     "3s and was killed with the processes it started; raise "
				     "MD_TRIVY_TIMEOUT if the registry or the vulnerability DB "
				     "download is slow");
	assert_true(progress_calls > 0);
	/* the stand-in's own child (which held the output pipe open) died of
	 * the process-group kill */
	snprintf(pidfile, sizeof(pidfile), "%s/hang.pid", s.dir);
	f = fopen(pidfile, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &child), 1);
	fclose(f);
	assert_true(reaped_by_sigkill((pid_t)child));
	assert_true(dir_is_empty(s.work));
	standin_free(&s);
}

struct bad_run {
	const char *mode;
	int want;
	const char *msg; /* the message after "Trivy scan of <image>: " */
};

static void test_run_failures(void **state)
{
	static const struct bad_run t[] = {
		{ "crash", MD_SCAN_FAILED, "Trivy exited with status 139: (no message)" },
		{ "fail", MD_SCAN_FAILED,
		  "Trivy exited with status 1: " /* then Trivy's FATAL line */ },
		{ "exit1", MD_SCAN_FAILED, "Trivy exited with status 1: (no message)" },
		{ "garbage", MD_SCAN_INVALID,
		  "Trivy's output is not a vulnerability report (is MD_TRIVY Trivy?): not JSON" },
		{ "empty", MD_SCAN_INVALID,
		  "Trivy's output is not a vulnerability report (is MD_TRIVY Trivy?): the output "
		  "is empty" },
		{ "huge", MD_SCAN_TOO_LARGE,
		  "Trivy printed more than 32 MiB; a report that large is refused" },
		{ "other-artifact", MD_SCAN_WRONG_ARTIFACT,
		  "the report is for testdata/fixtures/images/alpine-39.tar.gz, not for " APP "@" DA },
	};
	const char *prefix = "Trivy scan of " APP "@" DA ": ";

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct md_scan_opts o;
		struct md_scan_report *r = (struct md_scan_report *)1;
		struct md_err err;
		struct standin s;
		int rc;

		standin_init(&s);
		standin_image(&s, DA, "alpine-39.json.golden", t[i].mode);
		opts_for(&o, &s);
		rc = md_scan_run(&r, &o, APP, DA, NULL, &err);
		if (rc != t[i].want)
			fail_msg("%s: %s, expected %s: %s", t[i].mode, md_scan_status_name(rc),
				 md_scan_status_name(t[i].want), err.msg);
		assert_null(r);
		if (strncmp(err.msg, prefix, strlen(prefix)) != 0 ||
		    strncmp(err.msg + strlen(prefix), t[i].msg, strlen(t[i].msg)) != 0)
			fail_msg("%s: message\n  %s\nexpected to start\n  %s%s", t[i].mode, err.msg,
				 prefix, t[i].msg);
		assert_null(strchr(err.msg, '\n'));
		assert_true(dir_is_empty(s.work));
		standin_free(&s);
	}
}

/* Trivy's own error line makes the message: the user sees why. */
static void test_run_trivy_error_line(void **state)
{
	struct md_scan_opts o;
	struct md_scan_report *r = NULL;
	struct md_err err;
	struct standin s;

	(void)state;
	standin_init(&s);
	opts_for(&o, &s);
	/* no image in the map: Trivy's answer for an image it cannot find */
	assert_int_equal(md_scan_run(&r, &o, APP, DA, NULL, &err), MD_SCAN_FAILED);
	if (!strstr(err.msg, "Trivy exited with status 1: ") ||
	    !strstr(err.msg, "FATAL Fatal error run error: image scan error: unable to find the "
			     "specified image \"" APP "@" DA "\""))
		fail_msg("%s", err.msg);
	standin_free(&s);
}

/* A smaller bound is honoured too (the default is tested with 50 MB). */
static void test_run_max_report(void **state)
{
	struct md_scan_opts o;
	struct md_scan_report *r = NULL;
	struct md_err err;
	struct standin s;

	(void)state;
	standin_init(&s);
	standin_image(&s, DA, "alpine-39.json.golden", "ok");
	opts_for(&o, &s);
	o.max_report = 8 << 10; /* the golden is 24 KB */
	assert_int_equal(md_scan_run(&r, &o, APP, DA, NULL, &err), MD_SCAN_TOO_LARGE);
	o.max_report = 1 << 20;
	assert_int_equal(md_scan_run(&r, &o, APP, DA, NULL, &err), MD_SCAN_OK);
	md_scan_report_free(r);
	standin_free(&s);
}

/* ---- arguments that must never reach a command line ---------------------------------------------- */

static void test_run_bad_arguments(void **state)
{
	static const struct {
		const char *name, *digest, *platform, *server, *msg;
	} t[] = {
		{ "--output=/etc/passwd", DA, "linux/amd64", NULL, "not an image name" },
		{ "-q", DA, "linux/amd64", NULL, "not an image name" },
		{ "ghcr.io/acme/app tag", DA, "linux/amd64", NULL, "not an image name" },
		{ "ghcr.io/acme/app@" DA, DA, "linux/amd64", NULL, "not an image name" },
		{ "", DA, "linux/amd64", NULL, "not an image name" },
		{ "ghcr.io/acme/app\nx", DA, "linux/amd64", NULL,
		  "cannot scan \"ghcr.io/acme/app?x\": not an image name" },
		{ NULL, DA, "linux/amd64", NULL, "not an image name" },
		{ APP, "sha256:abc", "linux/amd64", NULL, "is not a sha256 digest" },
		{ APP, "latest", "linux/amd64", NULL, "is not a sha256 digest" },
		{ APP, NULL, "linux/amd64", NULL, "is not a sha256 digest" },
		{ APP, DA, NULL, NULL, "the host platform \"\" is not os/arch" },
		{ APP, DA, "amd64", NULL, "is not os/arch" },
		{ APP, DA, "--server=x/y", NULL, "is not os/arch" },
		{ APP, DA, "linux/amd64", "ftp://127.0.0.1:4954", "does not start with http://" },
		{ APP, DA, "linux/amd64", "http://user:pw@127.0.0.1:4954", "holds credentials" },
		{ APP, DA, "linux/amd64", "http://127.0.0.1:4954 -q", "blank or control" },
		{ APP, DA, "linux/amd64", "http://", "has no host" },
		{ APP, DA, "linux/amd64", "gopher://\x1b[2J", "URL \"gopher://?[2J\" does not start" },
	};
	struct standin s;
	json_t *calls;

	(void)state;
	standin_init(&s);
	standin_image(&s, DA, "alpine-39.json.golden", "ok");
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct md_scan_opts o;
		struct md_scan_report *r = NULL;
		struct md_err err;

		opts_for(&o, &s);
		o.platform = t[i].platform;
		o.server = t[i].server;
		if (md_scan_run(&r, &o, t[i].name, t[i].digest, NULL, &err) != MD_SCAN_ERROR)
			fail_msg("case %zu accepted", i);
		if (!strstr(err.msg, t[i].msg))
			fail_msg("case %zu: \"%s\", expected \"%s\"", i, err.msg, t[i].msg);
	}
	/* Trivy was never run */
	calls = standin_calls(&s);
	assert_int_equal(json_array_size(calls), 0);
	json_decref(calls);
	standin_free(&s);
}

/* ---- the DB version --------------------------------------------------------------------------------- */

static void test_db_version_local(void **state)
{
	static const char *want[] = { "version", "--format", "json", NULL };
	struct md_scan_opts o;
	struct md_err err;
	struct standin s;
	char *key = NULL;
	json_t *call;

	(void)state;
	standin_init(&s);
	opts_for(&o, &s);
	if (md_scan_db_version(&key, &o, &err) != MD_SCAN_OK)
		fail_msg("%s", err.msg);
	assert_string_equal(key, "2:2024-05-01T06:12:33.1Z");
	free(key);
	call = standin_last_call(&s);
	assert_argv(call, want);
	assert_no_secret(call, "leaked");
	json_decref(call);

	/* the DB moved on: a new key */
	standin_set(&s, "version", json_pack("{ss s{si ss}}", "Version", "0.50.1",
					     "VulnerabilityDB", "Version", 2, "UpdatedAt",
					     "2024-05-02T00:00:00Z"));
	assert_int_equal(md_scan_db_version(&key, &o, &err), MD_SCAN_OK);
	assert_string_equal(key, "2:2024-05-02T00:00:00Z");
	free(key);

	/* no DB downloaded yet */
	standin_set(&s, "version", json_pack("{ss}", "Version", "0.50.1"));
	assert_int_equal(md_scan_db_version(&key, &o, &err), MD_SCAN_OK);
	assert_null(key);

	standin_set(&s, "version_mode", json_string("garbage"));
	assert_int_equal(md_scan_db_version(&key, &o, &err), MD_SCAN_INVALID);
	assert_null(key);
	if (!strstr(err.msg, "printed no version JSON"))
		fail_msg("%s", err.msg);

	standin_set(&s, "version_mode", json_string("fail"));
	assert_int_equal(md_scan_db_version(&key, &o, &err), MD_SCAN_FAILED);
	if (!strstr(err.msg, "trivy version: Trivy exited with status 1: "))
		fail_msg("%s", err.msg);
	standin_free(&s);
}

/* ---- a Trivy server ------------------------------------------------------------------------------------ */

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_server_mode(void **state)
{
	const char *seen_token = NULL;
	char tokfile[PATH_MAX + 16], *key = NULL;
	struct md_scan_opts o;
	struct md_scan_report *r = NULL;
	struct md_err err;
	struct standin s;
	json_t *call, *argv;
	size_t n;

	(void)state;
	standin_init(&s);
	standin_image(&s, APP "@" DA, "debian-buster.json.golden", "ok");
	standin_start_server(&s, "s3cret-token");
	snprintf(tokfile, sizeof(tokfile), "%s/token", s.dir);
	write_file(tokfile, "  s3cret-token \n");
	opts_for(&o, &s);
	o.server = s.url;
	o.token_file = tokfile;
	if (md_scan_run(&r, &o, APP, DA, NULL, &err) != MD_SCAN_OK)
		fail_msg("%s", err.msg);
	assert_int_equal(md_scan_report_count(r), 2);
	md_scan_report_free(r);

	/* the client ran with --server and the token in its environment */
	call = standin_last_call(&s);
	argv = json_object_get(call, "argv");
	n = json_array_size(argv);
	assert_string_equal(json_string_value(json_array_get(argv, n - 3)), "--server");
	assert_string_equal(json_string_value(json_array_get(argv, n - 2)), s.url);
	assert_string_equal(json_string_value(json_array_get(argv, n - 1)), APP "@" DA);
	assert_string_equal(env_of(call, "TRIVY_TOKEN"), "s3cret-token");
	/* nowhere else: not in argv, not in another variable */
	json_object_del(json_object_get(call, "env"), "TRIVY_TOKEN");
	assert_no_secret(call, "s3cret");
	json_decref(call);
	assert_int_equal(standin_server_requests(&s, "/twirp/trivy.scanner.v1.Scanner/Scan",
						 &seen_token),
			 1);
	assert_string_equal(seen_token, "s3cret-token");

	/* the server's DB, from its /version (no token sent there) */
	if (md_scan_db_version(&key, &o, &err) != MD_SCAN_OK)
		fail_msg("%s", err.msg);
	assert_string_equal(key, "2:2024-05-01T06:12:33.1Z");
	free(key);
	assert_int_equal(standin_server_requests(&s, "/version", &seen_token), 1);
	assert_string_equal(seen_token, "");
	assert_int_equal(md_scan_probe(&o, &err), MD_SCAN_OK);
	assert_int_equal(standin_server_requests(&s, "/healthz", NULL), 1);

	/* a server too old for /version: the DB cannot be told */
	standin_set(&s, "server_version_mode", json_string("missing"));
	assert_int_equal(md_scan_db_version(&key, &o, &err), MD_SCAN_OK);
	assert_null(key);
	standin_free(&s);
}

static void test_server_token_wrong_or_missing(void **state)
{
	char tokfile[PATH_MAX + 16];
	struct md_scan_opts o;
	struct md_scan_report *r = NULL;
	struct md_err err;
	struct standin s;

	(void)state;
	standin_init(&s);
	standin_image(&s, DA, "debian-buster.json.golden", "ok");
	standin_start_server(&s, "s3cret-token");
	snprintf(tokfile, sizeof(tokfile), "%s/token", s.dir);
	opts_for(&o, &s);
	o.server = s.url;

	write_file(tokfile, "not-the-token\n");
	o.token_file = tokfile;
	assert_int_equal(md_scan_run(&r, &o, APP, DA, NULL, &err), MD_SCAN_FAILED);
	if (!strstr(err.msg, "Trivy exited with status 1: ") || !strstr(err.msg, "invalid token"))
		fail_msg("%s", err.msg);

	o.token_file = NULL;
	assert_int_equal(md_scan_run(&r, &o, APP, DA, NULL, &err), MD_SCAN_FAILED);
	if (!strstr(err.msg, "invalid token"))
		fail_msg("%s", err.msg);

	/* an empty or missing token file stops before Trivy runs */
	write_file(tokfile, " \n");
	o.token_file = tokfile;
	assert_int_equal(md_scan_run(&r, &o, APP, DA, NULL, &err), MD_SCAN_ERROR);
	if (!strstr(err.msg, "the Trivy server token file") || !strstr(err.msg, "is empty"))
		fail_msg("%s", err.msg);
	unlink(tokfile);
	assert_int_equal(md_scan_run(&r, &o, APP, DA, NULL, &err), MD_SCAN_ERROR);
	if (!strstr(err.msg, "the Trivy server token"))
		fail_msg("%s", err.msg);
	standin_free(&s);
}

static void test_server_unreachable(void **state)
{
	struct md_scan_opts o;
	struct md_err err;
	struct standin s;
	char url[64], *key = NULL;

	(void)state;
	standin_init(&s);
	standin_start_server(&s, NULL);
	snprintf(url, sizeof(url), "%s", s.url);
	standin_stop_server(&s); /* its port is now closed */
	opts_for(&o, &s);
	o.server = url;
	assert_int_equal(md_scan_probe(&o, &err), MD_SCAN_UNREACHABLE);
	if (!strstr(err.msg, "did not answer; start it (trivy server --listen HOST:PORT) or "
			     "correct MD_TRIVY"))
		fail_msg("%s", err.msg);
	assert_int_equal(md_scan_db_version(&key, &o, &err), MD_SCAN_UNREACHABLE);
	assert_null(key);
	standin_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_invocation),
		cmocka_unit_test(test_run_docker_hub_anonymous),
		cmocka_unit_test(test_run_docker_hub_identity_token),
		cmocka_unit_test(test_run_path_lookup),
		cmocka_unit_test(test_run_missing),
		cmocka_unit_test(test_run_timeout_kills_group),
		cmocka_unit_test(test_run_failures),
		cmocka_unit_test(test_run_trivy_error_line),
		cmocka_unit_test(test_run_max_report),
		cmocka_unit_test(test_run_bad_arguments),
		cmocka_unit_test(test_db_version_local),
		cmocka_unit_test(test_server_mode),
		cmocka_unit_test(test_server_token_wrong_or_missing),
		cmocka_unit_test(test_server_unreachable),
	};

	/* Orphans of a killed Trivy come to us, so the test can tell how they
	 * ended. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

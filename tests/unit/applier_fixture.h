/* applier unit tests: shared fixture — a scratch directory with a fake
 * engine and a fake compose (small shell scripts that print canned JSON and
 * record how they were called), a stack directory, and canned podman ps /
 * inspect output. Static, so each test_applier*.c gets its own copy; unused
 * ones are marked to keep -Wunused quiet. */
#ifndef MAGOS_APPLIER_FIXTURE_H
#define MAGOS_APPLIER_FIXTURE_H

#include "unit.h"
#include "tmpdir.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "magos/applier.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

#define assert_ok(call)                                                    \
	do {                                                               \
		if ((call) != 0)                                           \
			fail_msg("%s failed: %s", #call, err.msg);         \
	} while (0)

struct fx {
	char dir[64];
	char stack[128];
	char env_fake[160];
	char *envp[4];
	struct md_strv compose;
	struct md_applier_opts opts;
	int progress;
};

__attribute__((unused))
static void put(const struct fx *f, const char *name, const char *text, mode_t mode)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	chmod(path, mode);
}

__attribute__((unused))
static char *slurp(const struct fx *f, const char *name)
{
	char path[256], *text = NULL;
	size_t len;
	struct md_err err;

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	if (md_file_read(path, 1 << 20, &text, &len, &err) < 0)
		return NULL;
	return text;
}

__attribute__((unused))
static void on_progress(void *arg)
{
	((struct fx *)arg)->progress++;
}

/* A fake `podman`: every call appends its argv (one line, words joined by
 * '|') to calls; output comes from files named after the subcommand. ps and
 * inspect read <name>.<state> where state is the content of ./state (so a
 * `healthcheck run` can move a container from starting to healthy). */
__attribute__((unused))
static const char FAKE_ENGINE[] =
	"#!/bin/sh\n"
	"cd \"$FAKE_DIR\" || exit 99\n"
	"line=''; for a in \"$@\"; do line=\"$line|$a\"; done\n"
	"echo \"${line#|}\" >> calls\n"
	"st=$(cat state 2>/dev/null)\n"
	"case \"$1\" in\n"
	"ps) cat ps.json ;;\n"
	"inspect) cat inspect.json.$st 2>/dev/null || cat inspect.json ;;\n"
	"image) [ -f image.json ] || { echo 'Error: image not known' >&2; exit 125; }; cat image.json ;;\n"
	"healthcheck) [ -f next_state ] && cp next_state state; [ -f hc_status ] && exit $(cat hc_status); exit 0 ;;\n"
	"logs) cat logs.txt 2>/dev/null; echo 'to stderr' >&2 ;;\n"
	"*) echo \"unexpected $1\" >&2; exit 2 ;;\n"
	"esac\n";

/* A fake compose: records argv (one word per line, per call, "--" between
 * calls), its cwd, the env files' contents, and exits with ./compose_status
 * (after ./compose_sleep seconds when present). */
__attribute__((unused))
static const char FAKE_COMPOSE[] =
	"#!/bin/sh\n"
	"pwd >> \"$FAKE_DIR/compose_cwd\"\n"
	"for a in \"$@\"; do echo \"$a\" >> \"$FAKE_DIR/compose_argv\"; done\n"
	"echo -- >> \"$FAKE_DIR/compose_argv\"\n"
	"echo \"compose says: $*\"\n"
	"echo 'compose warns' >&2\n"
	"[ -f \"$FAKE_DIR/compose_sleep\" ] && sleep $(cat \"$FAKE_DIR/compose_sleep\")\n"
	"exit $(cat \"$FAKE_DIR/compose_status\" 2>/dev/null || echo 0)\n";

__attribute__((unused))
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char path[256];

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/md-applier-test-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->stack, sizeof(f->stack), "%s/My_Stack.1", f->dir);
	mkdir(f->stack, 0755);
	put(f, "podman", FAKE_ENGINE, 0755);
	put(f, "compose", FAKE_COMPOSE, 0755);
	snprintf(f->env_fake, sizeof(f->env_fake), "FAKE_DIR=%s", f->dir);
	f->envp[0] = "PATH=/usr/bin:/bin";
	f->envp[1] = f->env_fake;
	f->envp[2] = NULL;
	snprintf(path, sizeof(path), "%s/compose", f->dir);
	md_strv_push(&f->compose, path);
	snprintf(path, sizeof(path), "%s/podman", f->dir);
	f->opts.compose_cmd = &f->compose;
	f->opts.engine = md_strdup(path);
	f->opts.compose_timeout = 30;
	f->opts.health_timeout = 10;
	f->opts.envp = f->envp;
	f->opts.progress = on_progress;
	f->opts.progress_arg = f;
	*state = f;
	return 0;
}

__attribute__((unused))
static int teardown(void **state)
{
	struct fx *f = *state;

	rm_rf(f->dir);
	md_strv_clear(&f->compose);
	free((char *)(uintptr_t)f->opts.engine);
	free(f);
	return 0;
}

__attribute__((unused))
static struct md_applier *new_applier(struct fx *f)
{
	struct md_applier *a = NULL;
	struct md_err err;

	assert_ok(md_applier_new(&a, &f->opts, &err));
	return a;
}

__attribute__((unused))
static void stack_file(struct fx *f, const char *name, const char *text)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "My_Stack.1/%s", name);
	put(f, rel, text, 0644);
}

__attribute__((unused))
static const char COMPOSE_WEB_DB[] = "services:\n"
				     "  web:\n"
				     "    image: reg.test/web:1.0@" D1 "\n"
				     "  db:\n"
				     "    image: postgres:16\n";

/* podman 4: ps prints an array; inspect has ImageName, Health, a bare Name. */
__attribute__((unused))
static const char PODMAN_PS[] =
	"[\n {\"Id\": \"aaa111\", \"Names\": [\"p_web_1\"]},\n"
	" {\"Id\": \"bbb222\", \"Names\": [\"p_db_1\"]}\n]\n";

__attribute__((unused))
static const char PODMAN_INSPECT_FMT[] =
	"[{\"Id\": \"aaa111\", \"Name\": \"p_web_1\", \"Image\": \"img1\","
	" \"ImageName\": \"reg.test/web:1.0@" D1 "\","
	" \"State\": {\"Status\": \"running\", \"ExitCode\": 0,"
	"  \"Health\": {\"Status\": \"%s\", \"FailingStreak\": 0}},"
	" \"Config\": {\"Labels\": {\"com.docker.compose.service\": \"web\","
	"  \"com.docker.compose.project\": \"p\"}}},\n"
	" {\"Id\": \"bbb222\", \"Name\": \"p_db_1\", \"Image\": \"img2\","
	" \"ImageName\": \"docker.io/library/postgres:16\","
	" \"State\": {\"Status\": \"%s\", \"ExitCode\": %d, \"Health\": {\"Status\": \"\"}},"
	" \"Config\": {\"Labels\": {\"com.docker.compose.service\": \"db\"}}}]\n";

__attribute__((unused))
static void podman_inspect(struct fx *f, const char *name, const char *web_health,
			   const char *db_state, int db_code)
{
	char text[4096];

	snprintf(text, sizeof(text), PODMAN_INSPECT_FMT, web_health, db_state, db_code);
	put(f, name, text, 0644);
}

__attribute__((unused))
static void health_stack(struct fx *f, struct md_stack_spec *spec, const char **files)
{
	files[0] = "compose.yaml";
	stack_file(f, "compose.yaml", COMPOSE_WEB_DB);
	spec->dir = f->stack;
	spec->files = files;
	spec->nfiles = 1;
	spec->project = "p";
	put(f, "ps.json", PODMAN_PS, 0644);
}

/* A new applier with f's options as they are now runs one health wait of
 * spec: want NULL = it succeeds; else it fails with exactly want. */
__attribute__((unused))
static void expect_wait(struct fx *f, const struct md_stack_spec *spec, const char *want)
{
	struct md_applier *a = new_applier(f);
	struct md_err err;
	int rc = md_applier_wait_healthy(a, spec, &err);

	md_applier_free(a);
	if (!want && rc != 0)
		fail_msg("wait_healthy failed: %s", err.msg);
	if (want) {
		assert_int_equal(rc, -1);
		assert_string_equal(err.msg, want);
	}
}

/* The health wait on the web+db stack — compose text as given (NULL:
 * COMPOSE_WEB_DB), web's health, db's state and exit code, the log lines
 * the fake prints (NULL: none) — fails with exactly want. */
__attribute__((unused))
static void expect_wait_error(struct fx *f, const char *compose, const char *web_health,
			      const char *db_state, int db_code, const char *logs, const char *want)
{
	const char *files[1];
	struct md_stack_spec spec = { 0 };

	health_stack(f, &spec, files);
	if (compose)
		stack_file(f, "compose.yaml", compose);
	podman_inspect(f, "inspect.json", web_health, db_state, db_code);
	if (logs)
		put(f, "logs.txt", logs, 0644);
	expect_wait(f, &spec, want);
}

/* Inspect says state a (web_a, db_a) until web's healthcheck runs, then
 * state b (web_b, db_b exited or running with code 0). */
__attribute__((unused))
static void two_states(struct fx *f, const char *web_a, const char *db_a, const char *web_b,
		       const char *db_b)
{
	put(f, "state", "a\n", 0644);
	podman_inspect(f, "inspect.json.a", web_a, db_a, 0);
	podman_inspect(f, "inspect.json.b", web_b, db_b, 0);
	put(f, "next_state", "b\n", 0644);
}

/* One drift check: db's state and exit code (web healthy), compose.yaml
 * rewritten first when compose is set, and the drift wanted (NULL: none). */
struct drift_step {
	const char *db_state;
	int db_code;
	const char *compose;
	const char *want;
};

/* The web+db stack (compose text as given, NULL: COMPOSE_WEB_DB) with web's
 * image known by digest, checked step by step with one applier. */
__attribute__((unused))
static void expect_drifts(struct fx *f, const char *compose, const struct drift_step *steps,
			  size_t n)
{
	struct md_applier *a = new_applier(f);
	const char *files[1];
	struct md_stack_spec spec = { 0 };
	struct md_err err;

	health_stack(f, &spec, files);
	if (compose)
		stack_file(f, "compose.yaml", compose);
	put(f, "image.json", "[{\"RepoDigests\": [\"reg.test/web@" D1 "\"]}]", 0644);
	for (size_t i = 0; i < n; i++) {
		const struct drift_step *st = &steps[i];
		char *drift = (char *)1;

		podman_inspect(f, "inspect.json", "healthy", st->db_state, st->db_code);
		if (st->compose)
			stack_file(f, "compose.yaml", st->compose);
		if (md_applier_drift(a, &spec, &drift, &err) != 0)
			fail_msg("drift step %zu: %s", i, err.msg);
		if (!st->want != !drift || (drift && strcmp(drift, st->want) != 0))
			fail_msg("drift step %zu: got \"%s\", want \"%s\"", i,
				 drift ? drift : "(none)", st->want ? st->want : "(none)");
		free(drift);
	}
	md_applier_free(a);
}

/* md_applier_declared fails with an error holding frag, and hands back
 * nothing. */
__attribute__((unused))
static void expect_declared_error(const struct md_stack_spec *spec, const char *frag)
{
	struct md_service_decl *d = (struct md_service_decl *)1;
	size_t n = 7;
	struct md_err err;

	assert_int_equal(md_applier_declared(spec, &d, &n, &err), -1);
	if (!strstr(err.msg, frag))
		fail_msg("declared: want an error with \"%s\", got \"%s\"", frag, err.msg);
	assert_null(d);
	assert_int_equal(n, 0);
}

#endif

/* applier: argv construction, the secrets override, timeouts, exit
 * statuses, inspect parsing (podman and docker), health waits, drift,
 * project names and declared services — against fake engines: small shell
 * scripts that print canned JSON and record how they were called. */
#include "unit.h"
#include "applier_fixture.h"

#include "magos/applier.h"

/* ---- project names -------------------------------------------------------- */

static void test_project_name(void **state)
{
	static const struct {
		const char *dir, *want;
	} cases[] = {
		{ "/srv/gitops/My_Stack.1", "my_stack1" },
		{ "/srv/gitops/web/", "web" },
		{ "/srv/gitops/.", "gitops" },
		{ "/srv/Home-Lab/./", "home-lab" },
		{ "/srv/_x-Y", "x-y" },
		{ "/srv/...", "default" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = md_applier_project_name(cases[i].dir);

		assert_non_null(got);
		assert_string_equal(got, cases[i].want);
		free(got);
	}
}

/* ---- declared services ------------------------------------------------------ */

static void test_declared_merge(void **state)
{
	struct fx *f = *state;
	const char *files[] = { "compose.yaml", "override.yaml" };
	struct md_stack_spec spec = { f->stack, files, 2, "p", NULL, 0, NULL };
	struct md_service_decl *d = NULL;
	size_t n = 0;
	struct md_err err;

	stack_file(f, "compose.yaml",
		   "x-base: &base\n  image: base.test/app:1\n"
		   "services:\n"
		   "  web:\n    image: \"reg.test/web:1.0\" # {\"magos\": {}}\n"
		   "  builder:\n    build: .\n"
		   "  worker:\n    <<: *base\n"
		   "  db:\n    image: postgres:16\n");
	stack_file(f, "override.yaml",
		   "services:\n  web:\n    image: reg.test/web:2.0@" D2 "\n"
		   "  db:\n    environment: {A: b}\n  extra:\n    image: ${EXTRA:-busybox}\n");
	assert_ok(md_applier_declared(&spec, &d, &n, &err));
	assert_int_equal(n, 5);
	assert_string_equal(d[0].name, "web");
	assert_string_equal(d[0].image, "reg.test/web:2.0@" D2);
	assert_string_equal(d[1].name, "builder");
	assert_null(d[1].image);
	assert_string_equal(d[2].name, "worker");
	assert_string_equal(d[2].image, "base.test/app:1");
	assert_string_equal(d[3].name, "db");
	assert_string_equal(d[3].image, "postgres:16");
	assert_string_equal(d[4].name, "extra");
	assert_string_equal(d[4].image, "${EXTRA:-busybox}");
	md_service_decls_free(d, n);
	md_service_decls_free(NULL, 0);
}

static void test_declared_errors(void **state)
{
	struct fx *f = *state;
	const char *files[] = { "compose.yaml" };
	struct md_stack_spec spec = { f->stack, files, 1, "p", NULL, 0, NULL };
	struct md_service_decl *d = NULL;
	size_t n = 7;
	struct md_err err;

	stack_file(f, "compose.yaml", "services:\n  web:\n    image: [a, b]\n");
	expect_declared_error(&spec, "My_Stack.1/compose.yaml:3: service web: image is not a string");
	stack_file(f, "compose.yaml", "- a\n- b\n");
	expect_declared_error(&spec, "not a compose file");
	stack_file(f, "compose.yaml", "services:\n  web: {image: [\n");
	expect_declared_error(&spec, "compose.yaml:");
	expect_declared_error(&spec, "invalid YAML");
	files[0] = "missing.yaml";
	expect_declared_error(&spec, "missing.yaml");

	files[0] = "compose.yaml";
	stack_file(f, "compose.yaml", "version: '3'\n");
	assert_ok(md_applier_declared(&spec, &d, &n, &err));
	assert_int_equal(n, 0);
	md_service_decls_free(d, n);
}

/* ---- compose up ----------------------------------------------------------------- */

static void test_up_argv_and_override(void **state)
{
	struct fx *f = *state;
	struct md_applier *a = new_applier(f);
	const char *files[] = { "compose.yaml", "prod.yaml" };
	const char *envs[] = { "/run/magos/s/app.env", "/run/magos/s/we\"ird.env" };
	char secrets[256], *out = NULL, *argv, *ov, *cwd, want[2048];
	struct md_stack_spec spec = { f->stack, files, 2, "my_stack1", envs, 2, secrets };
	struct md_err err;
	struct stat sb;

	snprintf(secrets, sizeof(secrets), "%s/secrets", f->dir);
	mkdir(secrets, 0700);
	stack_file(f, "compose.yaml", COMPOSE_WEB_DB);
	stack_file(f, "prod.yaml", "services:\n  \"we:ird\":\n    image: x\n");
	assert_ok(md_applier_up(a, &spec, &out, &err));
	assert_non_null(out);
	assert_non_null(strstr(out, "compose says: -p my_stack1 -f compose.yaml -f prod.yaml -f "));
	assert_non_null(strstr(out, "compose warns")); /* stderr is kept too */

	argv = slurp(f, "compose_argv");
	snprintf(want, sizeof(want),
		 "-p\nmy_stack1\n-f\ncompose.yaml\n-f\nprod.yaml\n-f\n%s/magos-secrets.compose.yaml\n"
		 "pull\n--\n"
		 "-p\nmy_stack1\n-f\ncompose.yaml\n-f\nprod.yaml\n-f\n%s/magos-secrets.compose.yaml\n"
		 "up\n-d\n--force-recreate\n--\n",
		 secrets, secrets);
	assert_string_equal(argv, want);
	cwd = slurp(f, "compose_cwd");
	snprintf(want, sizeof(want), "%s\n%s\n", f->stack, f->stack);
	assert_string_equal(cwd, want);

	snprintf(want, sizeof(want), "%s/magos-secrets.compose.yaml", secrets);
	assert_int_equal(stat(want, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	ov = slurp(f, "secrets/magos-secrets.compose.yaml");
	assert_non_null(strstr(ov, "services:\n"
				   "  \"web\":\n    env_file:\n"
				   "      - \"/run/magos/s/app.env\"\n"
				   "      - \"/run/magos/s/we\\\"ird.env\"\n"
				   "  \"db\":\n    env_file:\n"));
	assert_non_null(strstr(ov, "  \"we:ird\":\n    env_file:\n"));
	assert_true(f->progress > 0);
	free(argv);
	free(cwd);
	free(ov);
	free(out);
	md_applier_free(a);
	md_applier_free(NULL);
}

static void test_up_without_env_files(void **state)
{
	struct fx *f = *state;
	struct md_applier *a = new_applier(f);
	const char *files[] = { "compose.yaml" };
	struct md_stack_spec spec = { f->stack, files, 1, "p1", NULL, 0, NULL };
	char *out = NULL, *argv;
	struct md_err err;

	stack_file(f, "compose.yaml", COMPOSE_WEB_DB);
	assert_ok(md_applier_up(a, &spec, &out, &err));
	argv = slurp(f, "compose_argv");
	assert_string_equal(argv, "-p\np1\n-f\ncompose.yaml\npull\n--\n"
				  "-p\np1\n-f\ncompose.yaml\nup\n-d\n--force-recreate\n--\n");
	free(argv);
	free(out);
	md_applier_free(a);
}

static void test_up_compose_cmd_words_and_path_lookup(void **state)
{
	struct fx *f = *state;
	struct md_applier *a;
	struct md_strv cmd = { 0 };
	const char *files[] = { "compose.yaml" };
	struct md_stack_spec spec = { f->stack, files, 1, "p1", NULL, 0, NULL };
	char pathvar[128], *out = NULL, *argv;
	struct md_err err;

	/* "compose" found through the children's PATH, not ours */
	snprintf(pathvar, sizeof(pathvar), "PATH=/nonexistent:%s", f->dir);
	f->envp[0] = pathvar;
	md_strv_push(&cmd, "compose");
	md_strv_push(&cmd, "--podman-path=x");
	f->opts.compose_cmd = &cmd;
	a = new_applier(f);
	stack_file(f, "compose.yaml", COMPOSE_WEB_DB);
	assert_ok(md_applier_up(a, &spec, &out, &err));
	argv = slurp(f, "compose_argv");
	assert_true(md_str_has_prefix(argv, "--podman-path=x\n-p\np1\n-f\ncompose.yaml\npull\n"));
	free(argv);
	free(out);
	md_applier_free(a);
	md_strv_clear(&cmd);
}

static void test_up_exit_status(void **state)
{
	struct fx *f = *state;
	struct md_applier *a = new_applier(f);
	const char *files[] = { "compose.yaml" };
	struct md_stack_spec spec = { f->stack, files, 1, "p1", NULL, 0, NULL };
	char *out = NULL, *argv, want[512];
	struct md_err err;

	stack_file(f, "compose.yaml", COMPOSE_WEB_DB);
	put(f, "compose_status", "3\n", 0644);
	assert_int_equal(md_applier_up(a, &spec, &out, &err), -1);
	snprintf(want, sizeof(want), "%s/compose pull for stack %s (project p1) exited with status 3",
		 f->dir, f->stack);
	assert_string_equal(err.msg, want);
	assert_non_null(out); /* the output is still handed over for the log */
	assert_non_null(strstr(out, "compose says: -p p1 -f compose.yaml pull"));
	argv = slurp(f, "compose_argv");
	assert_null(strstr(argv, "up\n")); /* no up after a failed pull */
	free(argv);
	free(out);
	md_applier_free(a);
}

static void test_up_timeout(void **state)
{
	struct fx *f = *state;
	struct md_applier *a;
	const char *files[] = { "compose.yaml" };
	struct md_stack_spec spec = { f->stack, files, 1, "p1", NULL, 0, NULL };
	char *out = NULL, want[512];
	struct md_err err;
	int64_t t0;

	f->opts.compose_timeout = 1;
	a = new_applier(f);
	stack_file(f, "compose.yaml", COMPOSE_WEB_DB);
	put(f, "compose_sleep", "30\n", 0644);
	t0 = md_time_mono_ms();
	assert_int_equal(md_applier_up(a, &spec, &out, &err), -1);
	assert_true(md_time_mono_ms() - t0 < 20000); /* killed, not waited for */
	snprintf(want, sizeof(want),
		 "%s/compose pull for stack %s (project p1) did not finish within 1s and was killed",
		 f->dir, f->stack);
	assert_string_equal(err.msg, want);
	free(out);
	md_applier_free(a);
}

static void test_up_bad_input(void **state)
{
	struct fx *f = *state;
	struct md_applier *a = new_applier(f);
	const char *files[] = { "compose.yaml" };
	const char *envs[] = { "relative.env" };
	struct md_stack_spec spec = { f->stack, files, 1, "p1", envs, 1, "/run/x" };
	struct md_err err;
	char *out = NULL;

	stack_file(f, "compose.yaml", COMPOSE_WEB_DB);
	assert_int_equal(md_applier_up(a, &spec, &out, &err), -1);
	assert_non_null(strstr(err.msg, "env file relative.env is not an absolute path"));
	free(out);
	spec.env_files = NULL;
	spec.nenv_files = 0;
	spec.project = "";
	assert_int_equal(md_applier_up(a, &spec, &out, &err), -1);
	assert_non_null(strstr(err.msg, "needs a directory, a project"));
	free(out);
	md_applier_free(a);

	{
		const char *engine = f->opts.engine;

		f->opts.engine = "";
		assert_int_equal(md_applier_new(&a, &f->opts, &err), -1);
		assert_string_equal(err.msg, "applier: a compose command and an engine are required");
		assert_null(a);
		f->opts.engine = engine;
	}
}

/* ---- inspect parsing ------------------------------------------------------------ */

static void test_containers_podman(void **state)
{
	struct fx *f = *state;
	struct md_applier *a = new_applier(f);
	struct md_container *c = NULL;
	size_t n = 0;
	struct md_err err;
	char *calls;

	put(f, "ps.json", PODMAN_PS, 0644);
	podman_inspect(f, "inspect.json", "healthy", "exited", 3);
	put(f, "image.json", "[{\"Id\": \"img\", \"RepoDigests\": [\"reg.test/web@" D1 "\","
			     " \"reg.test/web@" D1 "\"]}]\n", 0644);
	assert_ok(md_applier_containers(a, "p", &c, &n, &err));
	assert_int_equal(n, 2);
	assert_string_equal(c[0].id, "aaa111");
	assert_string_equal(c[0].name, "p_web_1");
	assert_string_equal(c[0].service, "web");
	assert_string_equal(c[0].image_name, "reg.test/web:1.0@" D1);
	assert_string_equal(c[0].image_id, "img1");
	assert_string_equal(c[0].state, "running");
	assert_string_equal(c[0].health, "healthy");
	assert_int_equal(c[0].repo_digests.n, 1);
	assert_string_equal(c[0].repo_digests.v[0], "reg.test/web@" D1);
	assert_string_equal(c[1].state, "exited");
	assert_int_equal(c[1].exit_code, 3);
	assert_null(c[1].health); /* "" = no healthcheck */
	md_containers_free(c, n);
	md_containers_free(NULL, 0);

	calls = slurp(f, "calls");
	assert_string_equal(calls, "ps|-a|--no-trunc|--filter|label=com.docker.compose.project=p|"
				   "--format|json\n"
				   "inspect|aaa111|bbb222\n"
				   "image|inspect|img1\n"
				   "image|inspect|img2\n");
	free(calls);
	md_applier_free(a);
}

static void test_containers_docker(void **state)
{
	struct fx *f = *state;
	struct md_applier *a = new_applier(f);
	struct md_container *c = NULL;
	size_t n = 0;
	struct md_err err;

	/* docker: ps prints one object per line; Name has a slash; the image
	 * reference is Config.Image; Health only when there is a healthcheck */
	put(f, "ps.json", "{\"ID\":\"c1\",\"Names\":\"p-web-1\"}\n{\"ID\":\"c2\"}\n", 0644);
	put(f, "inspect.json",
	    "[{\"Id\": \"c1\", \"Name\": \"/p-web-1\", \"Image\": \"sha256:abc\","
	    " \"State\": {\"Status\": \"running\", \"ExitCode\": 0,"
	    "  \"Health\": {\"Status\": \"starting\"}},"
	    " \"Config\": {\"Image\": \"nginx:1.25\","
	    "  \"Labels\": {\"com.docker.compose.service\": \"web\"}}},"
	    " {\"Id\": \"c2\", \"Name\": \"/p-db-1\", \"Image\": \"sha256:abc\","
	    " \"State\": {\"Status\": \"restarting\", \"ExitCode\": 1},"
	    " \"Config\": {\"Image\": \"nginx:1.25\", \"Labels\": {}}}]", 0644);
	/* image.json absent: image inspect fails; digests stay empty */
	assert_ok(md_applier_containers(a, "p", &c, &n, &err));
	assert_int_equal(n, 2);
	assert_string_equal(c[0].name, "p-web-1");
	assert_string_equal(c[0].image_name, "nginx:1.25");
	assert_string_equal(c[0].image_id, "sha256:abc");
	assert_string_equal(c[0].health, "starting");
	assert_int_equal(c[0].repo_digests.n, 0);
	assert_null(c[1].service);
	assert_null(c[1].health);
	assert_string_equal(c[1].state, "restarting");
	md_containers_free(c, n);
	md_applier_free(a);
}

static void test_containers_errors(void **state)
{
	struct fx *f = *state;
	struct md_applier *a = new_applier(f);
	struct md_container *c = NULL;
	size_t n = 0;
	struct md_err err;
	char *calls;

	put(f, "ps.json", "[]\n", 0644);
	assert_ok(md_applier_containers(a, "p", &c, &n, &err));
	assert_int_equal(n, 0);
	calls = slurp(f, "calls");
	assert_null(strstr(calls, "inspect")); /* nothing to inspect */
	free(calls);
	md_containers_free(c, n);

	put(f, "ps.json", "[{\"Id\": \"x\"}, \n", 0644);
	assert_int_equal(md_applier_containers(a, "p", &c, &n, &err), -1);
	assert_non_null(strstr(err.msg, "project p: container list: invalid JSON"));

	put(f, "ps.json", "[{\"Id\": \"x\"}]", 0644);
	put(f, "inspect.json", "nonsense", 0644);
	assert_int_equal(md_applier_containers(a, "p", &c, &n, &err), -1);
	assert_non_null(strstr(err.msg, "project p: container inspect: invalid JSON"));
	md_applier_free(a);

	/* an engine that fails names itself, its status and its last words */
	put(f, "podman", "#!/bin/sh\necho 'Error: cannot connect' >&2\nexit 125\n", 0755);
	a = new_applier(f);
	assert_int_equal(md_applier_containers(a, "p", &c, &n, &err), -1);
	assert_non_null(strstr(err.msg, "podman ps exited with status 125: Error: cannot connect"));
	md_applier_free(a);
}

/* ---- health -------------------------------------------------------------------- */

static void test_wait_healthy_runs_healthcheck(void **state)
{
	struct fx *f = *state;
	const char *files[1];
	struct md_stack_spec spec = { 0 };
	char *calls;

	health_stack(f, &spec, files);
	two_states(f, "starting", "running", "healthy", "running");
	expect_wait(f, &spec, NULL);
	calls = slurp(f, "calls");
	assert_non_null(strstr(calls, "healthcheck|run|aaa111\n"));
	assert_null(strstr(calls, "healthcheck|run|bbb222")); /* no healthcheck there */
	assert_true(f->progress > 0);
	free(calls);
}

static void test_wait_healthy_unhealthy(void **state)
{
	expect_wait_error(*state, NULL, "unhealthy", "running", 0,
			  "booting\nlistening on :80\nhealth: 500\n",
			  "stack p: service web is unhealthy (container p_web_1); last log lines: "
			  "booting | listening on :80 | health: 500 | to stderr");
}

static void test_wait_healthy_exited(void **state)
{
	struct fx *f = *state;
	char *calls;

	expect_wait_error(f, NULL, "healthy", "exited", 3, "fatal: no config\n",
			  "stack p: service db exited (3) (container p_db_1); last log lines: "
			  "fatal: no config | to stderr");
	calls = slurp(f, "calls");
	assert_non_null(strstr(calls, "logs|--tail|20|bbb222\n"));
	free(calls);
}

static void test_wait_healthy_timeout_and_stop(void **state)
{
	struct fx *f = *state;
	const char *files[1];
	struct md_stack_spec spec = { 0 };
	volatile sig_atomic_t stop = 1;
	char *text;

	f->opts.health_timeout = 1;
	health_stack(f, &spec, files);
	/* only web exists; db never appears */
	put(f, "ps.json", "[{\"Id\": \"aaa111\"}]", 0644);
	podman_inspect(f, "inspect.json", "healthy", "running", 0);
	/* the canned inspect has both; keep only web's object */
	text = slurp(f, "inspect.json");
	strcpy(strstr(text, ",\n {\"Id\": \"bbb222\""), "]\n");
	put(f, "inspect.json", text, 0644);
	free(text);
	expect_wait(f, &spec, "stack p: not running and healthy within 1s: service db has no "
			      "container");

	f->opts.stop = &stop;
	f->opts.health_timeout = 100;
	expect_wait(f, &spec, "stack p: stopped while waiting for its services");
	f->opts.stop = NULL;
}

/* ---- drift ----------------------------------------------------------------------- */

static void test_drift(void **state)
{
	static const struct drift_step steps[] = {
		/* web by digest, db: postgres:16 = docker.io/library/postgres:16 */
		{ "running", 0, NULL, NULL },
		{ "exited", 1,
		  "services:\n  web:\n    image: reg.test/web:1.1@" D2 "\n"
		  "  db:\n    image: postgres:16\n  cache:\n    image: redis\n",
		  "service web: runs reg.test/web:1.0@" D1 ", declared reg.test/web:1.1@" D2 "; "
		  "service db: exited (1); service cache: no container" },
		/* by name when no digest is declared */
		{ "running", 0,
		  "services:\n  web:\n    image: reg.test/web:1.0\n"
		  "  db:\n    image: docker.io/postgres:15\n",
		  "service db: runs docker.io/library/postgres:16, declared docker.io/postgres:15" },
	};

	expect_drifts(*state, NULL, steps, sizeof(steps) / sizeof(steps[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_project_name),
		cmocka_unit_test_setup_teardown(test_declared_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_declared_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_up_argv_and_override, setup, teardown),
		cmocka_unit_test_setup_teardown(test_up_without_env_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_up_compose_cmd_words_and_path_lookup, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_up_exit_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_up_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_up_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_containers_podman, setup, teardown),
		cmocka_unit_test_setup_teardown(test_containers_docker, setup, teardown),
		cmocka_unit_test_setup_teardown(test_containers_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_healthy_runs_healthcheck, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_healthy_unhealthy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_healthy_exited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_healthy_timeout_and_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drift, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

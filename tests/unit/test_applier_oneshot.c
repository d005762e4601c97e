/* applier: one-shot services (`restart: "no"`, or waited on with
 * `condition: service_completed_successfully`) — how the compose files
 * declare them, and how the health wait and drift treat a container that
 * exited — against the fake engine of applier_fixture.h. */
#include "unit.h"
#include "applier_fixture.h"

#include "magos/applier.h"

/* web waits for db to complete: db is one-shot */
static const char COMPOSE_WEB_MIGRATE[] = "services:\n"
					  "  web:\n"
					  "    image: reg.test/web:1.0@" D1 "\n"
					  "    depends_on:\n"
					  "      db:\n"
					  "        condition: service_completed_successfully\n"
					  "  db:\n"
					  "    image: postgres:16\n";

static const struct md_service_decl *find(const struct md_service_decl *d, size_t n,
					  const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(d[i].name, name) == 0)
			return &d[i];
	fail_msg("service %s not declared", name);
	return NULL;
}

static int oneshot_of(const struct md_service_decl *d, size_t n, const char *name)
{
	return find(d, n, name)->oneshot;
}

/* ---- declared ------------------------------------------------------------------ */

static void test_declared_restart(void **state)
{
	struct fx *f = *state;
	const char *files[] = { "compose.yaml" };
	struct md_stack_spec spec = { f->stack, files, 1, "p", NULL, 0, NULL };
	struct md_service_decl *d = NULL;
	size_t n = 0;
	struct md_err err;

	stack_file(f, "compose.yaml",
		   "x-once: &once\n  restart: \"no\"\n"
		   "services:\n"
		   "  quoted:\n    image: a\n    restart: \"no\"\n"
		   "  plain:\n    image: b\n    restart: no\n"
		   "  single:\n    restart: 'no'\n"
		   "  always:\n    image: c\n    restart: always\n"
		   "  failure:\n    restart: on-failure\n"
		   "  unset:\n    image: d\n"
		   "  merged:\n    <<: *once\n    image: e\n"
		   "  empty:\n");
	assert_ok(md_applier_declared(&spec, &d, &n, &err));
	assert_int_equal(n, 8);
	assert_int_equal(oneshot_of(d, n, "quoted"), 1);
	assert_int_equal(oneshot_of(d, n, "plain"), 1);
	assert_int_equal(oneshot_of(d, n, "single"), 1);
	assert_int_equal(oneshot_of(d, n, "always"), 0);
	assert_int_equal(oneshot_of(d, n, "failure"), 0);
	assert_int_equal(oneshot_of(d, n, "unset"), 0);
	assert_int_equal(oneshot_of(d, n, "merged"), 1);
	assert_int_equal(oneshot_of(d, n, "empty"), 0);
	assert_string_equal(find(d, n, "merged")->image, "e");
	md_service_decls_free(d, n);
}

static void test_declared_depends_on(void **state)
{
	struct fx *f = *state;
	const char *files[] = { "compose.yaml" };
	struct md_stack_spec spec = { f->stack, files, 1, "p", NULL, 0, NULL };
	struct md_service_decl *d = NULL;
	size_t n = 0;
	struct md_err err;

	/* a list means service_started; only the map form can ask for
	 * completion; a dependency declared after its dependent counts too */
	stack_file(f, "compose.yaml",
		   "services:\n"
		   "  web:\n    image: w\n    depends_on: [cache, listed]\n"
		   "  api:\n    image: a\n    depends_on:\n"
		   "      migrate:\n        condition: service_completed_successfully\n"
		   "        restart: true\n"
		   "      cache:\n        condition: service_healthy\n"
		   "      started:\n        condition: service_started\n"
		   "      bare: {}\n"
		   "      null_value:\n"
		   "  cache:\n    image: redis\n"
		   "  listed:\n    image: l\n"
		   "  started:\n    image: s\n"
		   "  bare:\n    image: b\n"
		   "  null_value:\n    image: n\n"
		   "  migrate:\n    image: m\n");
	assert_ok(md_applier_declared(&spec, &d, &n, &err));
	assert_int_equal(n, 8);
	assert_int_equal(oneshot_of(d, n, "migrate"), 1);
	assert_int_equal(oneshot_of(d, n, "web"), 0);
	assert_int_equal(oneshot_of(d, n, "api"), 0);
	assert_int_equal(oneshot_of(d, n, "cache"), 0);
	assert_int_equal(oneshot_of(d, n, "listed"), 0);
	assert_int_equal(oneshot_of(d, n, "started"), 0);
	assert_int_equal(oneshot_of(d, n, "bare"), 0);
	assert_int_equal(oneshot_of(d, n, "null_value"), 0);
	md_service_decls_free(d, n);

	/* a list entry of a dependency that is not declared is no error */
	stack_file(f, "compose.yaml", "services:\n  web:\n    image: w\n    depends_on:\n"
				      "      - elsewhere\n");
	assert_ok(md_applier_declared(&spec, &d, &n, &err));
	assert_int_equal(n, 1);
	assert_int_equal(d[0].oneshot, 0);
	md_service_decls_free(d, n);
}

static void test_declared_merge_across_files(void **state)
{
	struct fx *f = *state;
	const char *files[] = { "compose.yaml", "override.yaml" };
	struct md_stack_spec spec = { f->stack, files, 2, "p", NULL, 0, NULL };
	struct md_service_decl *d = NULL;
	size_t n = 0;
	struct md_err err;

	stack_file(f, "compose.yaml",
		   "services:\n"
		   "  init:\n    image: i\n    restart: \"no\"\n"
		   "  seed:\n    image: s\n    restart: \"no\"\n"
		   "  migrate:\n    image: m\n"
		   "  setup:\n    image: x\n"
		   "  web:\n    image: w\n    depends_on:\n"
		   "      migrate:\n        condition: service_completed_successfully\n"
		   "      setup:\n        condition: service_started\n");
	/* later files override restart and a dependency's condition; a file
	 * that does not mention restart leaves it alone */
	stack_file(f, "override.yaml",
		   "services:\n"
		   "  init:\n    restart: unless-stopped\n"
		   "  seed:\n    image: s2\n"
		   "  web:\n    depends_on:\n"
		   "      migrate:\n        condition: service_started\n"
		   "      setup:\n        condition: service_completed_successfully\n");
	assert_ok(md_applier_declared(&spec, &d, &n, &err));
	assert_int_equal(n, 5);
	assert_int_equal(oneshot_of(d, n, "init"), 0);
	assert_int_equal(oneshot_of(d, n, "seed"), 1);
	assert_string_equal(find(d, n, "seed")->image, "s2");
	assert_int_equal(oneshot_of(d, n, "migrate"), 0);
	assert_int_equal(oneshot_of(d, n, "setup"), 1);
	assert_int_equal(oneshot_of(d, n, "web"), 0);
	md_service_decls_free(d, n);

	/* a dependency added by a later file counts */
	stack_file(f, "compose.yaml", "services:\n  job:\n    image: j\n  web:\n    image: w\n");
	stack_file(f, "override.yaml", "services:\n  web:\n    depends_on:\n      job:\n"
				       "        condition: service_completed_successfully\n");
	assert_ok(md_applier_declared(&spec, &d, &n, &err));
	assert_int_equal(n, 2);
	assert_int_equal(oneshot_of(d, n, "job"), 1);
	assert_int_equal(oneshot_of(d, n, "web"), 0);
	md_service_decls_free(d, n);
}

static void test_declared_oneshot_errors(void **state)
{
	struct fx *f = *state;
	const char *files[] = { "compose.yaml" };
	struct md_stack_spec spec = { f->stack, files, 1, "p", NULL, 0, NULL };
	struct md_service_decl *d = NULL;
	size_t n = 0;
	struct md_err err;

	stack_file(f, "compose.yaml", "services:\n  web:\n    image: w\n    restart: [no]\n");
	assert_int_equal(md_applier_declared(&spec, &d, &n, &err), -1);
	assert_non_null(strstr(err.msg, "My_Stack.1/compose.yaml:4: service web: restart is not "
					"a string"));
	assert_null(d);

	stack_file(f, "compose.yaml", "services:\n  web:\n    depends_on: db\n");
	assert_int_equal(md_applier_declared(&spec, &d, &n, &err), -1);
	assert_non_null(strstr(err.msg, "compose.yaml:3: service web: depends_on is not a list "
					"or a mapping"));

	stack_file(f, "compose.yaml", "services:\n  web:\n    depends_on:\n      - {db: x}\n");
	assert_int_equal(md_applier_declared(&spec, &d, &n, &err), -1);
	assert_non_null(strstr(err.msg, "compose.yaml:4: service web: a depends_on entry is not "
					"a service name"));

	stack_file(f, "compose.yaml", "services:\n  web:\n    depends_on:\n      db:\n"
				      "        condition: [service_completed_successfully]\n");
	assert_int_equal(md_applier_declared(&spec, &d, &n, &err), -1);
	assert_non_null(strstr(err.msg, "compose.yaml:5: service web: depends_on db: condition "
					"is not a string"));
	assert_null(d);
	assert_int_equal(n, 0);
}

/* ---- health wait ------------------------------------------------------------------ */

static void oneshot_stack(struct fx *f, struct md_stack_spec *spec, const char **files)
{
	health_stack(f, spec, files);
	stack_file(f, "compose.yaml", COMPOSE_WEB_MIGRATE);
}

static void test_wait_oneshot_exited_0_is_done(void **state)
{
	struct fx *f = *state;
	struct md_applier *a = new_applier(f);
	const char *files[1];
	struct md_stack_spec spec = { 0 };
	struct md_err err;
	char *calls;

	oneshot_stack(f, &spec, files);
	podman_inspect(f, "inspect.json", "healthy", "exited", 0);
	assert_ok(md_applier_wait_healthy(a, &spec, &err));
	calls = slurp(f, "calls");
	assert_null(strstr(calls, "logs|")); /* nothing failed: no log asked for */
	free(calls);

	/* podman's "stopped" (exited, not yet cleaned up) counts the same */
	podman_inspect(f, "inspect.json", "healthy", "stopped", 0);
	assert_ok(md_applier_wait_healthy(a, &spec, &err));
	md_applier_free(a);
}

static void test_wait_oneshot_exited_nonzero_fails(void **state)
{
	struct fx *f = *state;
	struct md_applier *a = new_applier(f);
	const char *files[1];
	struct md_stack_spec spec = { 0 };
	struct md_err err;

	oneshot_stack(f, &spec, files);
	podman_inspect(f, "inspect.json", "healthy", "exited", 2);
	put(f, "logs.txt", "migrating\nerror: table exists\n", 0644);
	assert_int_equal(md_applier_wait_healthy(a, &spec, &err), -1);
	assert_string_equal(err.msg, "stack p: service db exited (2) (container p_db_1); last log "
				     "lines: migrating | error: table exists | to stderr");
	md_applier_free(a);
}

static void test_wait_long_running_exited_0_still_fails(void **state)
{
	struct fx *f = *state;
	struct md_applier *a = new_applier(f);
	const char *files[1];
	struct md_stack_spec spec = { 0 };
	struct md_err err;

	/* db is not one-shot here: a server that exits 0 has crashed */
	health_stack(f, &spec, files);
	podman_inspect(f, "inspect.json", "healthy", "exited", 0);
	assert_int_equal(md_applier_wait_healthy(a, &spec, &err), -1);
	assert_string_equal(err.msg, "stack p: service db exited (0) (container p_db_1); last log "
				     "lines: to stderr");
	md_applier_free(a);
}

static void test_wait_oneshot_running_is_waited_on(void **state)
{
	struct fx *f = *state;
	struct md_applier *a;
	const char *files[1];
	struct md_stack_spec spec = { 0 };
	struct md_err err;

	/* running, then exited 0: the wait goes on until it has exited (the
	 * fake moves on when web's healthcheck runs) */
	a = new_applier(f);
	oneshot_stack(f, &spec, files);
	put(f, "state", "a\n", 0644);
	podman_inspect(f, "inspect.json.a", "starting", "running", 0);
	podman_inspect(f, "inspect.json.b", "healthy", "exited", 0);
	put(f, "next_state", "b\n", 0644);
	assert_ok(md_applier_wait_healthy(a, &spec, &err));
	md_applier_free(a);

	/* still running when the time is up: a failure that says so */
	f->opts.health_timeout = 1;
	a = new_applier(f);
	put(f, "state", "c\n", 0644);
	podman_inspect(f, "inspect.json.c", "healthy", "running", 0);
	assert_int_equal(md_applier_wait_healthy(a, &spec, &err), -1);
	assert_string_equal(err.msg, "stack p: not running and healthy within 1s: one-shot "
				     "service db is still running");
	md_applier_free(a);
}

/* ---- drift --------------------------------------------------------------------------- */

static void test_drift_oneshot(void **state)
{
	struct fx *f = *state;
	struct md_applier *a = new_applier(f);
	const char *files[1];
	struct md_stack_spec spec = { 0 };
	struct md_err err;
	char *drift = (char *)1;

	oneshot_stack(f, &spec, files);
	put(f, "image.json", "[{\"RepoDigests\": [\"reg.test/web@" D1 "\"]}]", 0644);
	podman_inspect(f, "inspect.json", "healthy", "exited", 0);
	assert_ok(md_applier_drift(a, &spec, &drift, &err));
	assert_null(drift);

	podman_inspect(f, "inspect.json", "healthy", "running", 0);
	assert_ok(md_applier_drift(a, &spec, &drift, &err));
	assert_null(drift);

	podman_inspect(f, "inspect.json", "healthy", "exited", 1);
	assert_ok(md_applier_drift(a, &spec, &drift, &err));
	assert_string_equal(drift, "service db: exited (1)");
	free(drift);

	/* a finished one-shot still has to have run the declared image */
	podman_inspect(f, "inspect.json", "healthy", "exited", 0);
	stack_file(f, "compose.yaml", "services:\n  db:\n    image: postgres:17\n"
				      "    restart: \"no\"\n");
	assert_ok(md_applier_drift(a, &spec, &drift, &err));
	assert_string_equal(drift, "service db: runs docker.io/library/postgres:16, declared "
				   "postgres:17");
	free(drift);

	/* not one-shot: exited 0 is drift as before */
	stack_file(f, "compose.yaml", COMPOSE_WEB_DB);
	assert_ok(md_applier_drift(a, &spec, &drift, &err));
	assert_string_equal(drift, "service db: exited (0)");
	free(drift);
	md_applier_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_declared_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_declared_depends_on, setup, teardown),
		cmocka_unit_test_setup_teardown(test_declared_merge_across_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_declared_oneshot_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_oneshot_exited_0_is_done, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_wait_oneshot_exited_nonzero_fails, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_wait_long_running_exited_0_still_fails, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_wait_oneshot_running_is_waited_on, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_drift_oneshot, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

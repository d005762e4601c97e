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

/* ---- declared ------------------------------------------------------------------ */

struct want_decl {
	const char *name;
	int oneshot;
	const char *image; /* NULL: not checked */
};

/* One declared-services case: compose.yaml (and override.yaml when set)
 * declare want_n services; each of want (ended by a NULL name) is declared
 * with that one-shot flag (and image). */
struct decl_case {
	const char *what;
	const char *compose, *override;
	size_t want_n;
	struct want_decl want[9];
};

static void expect_declared(struct fx *f, const struct decl_case *c)
{
	const char *files[] = { "compose.yaml", "override.yaml" };
	struct md_stack_spec spec = { f->stack, files, c->override ? 2 : 1, "p", NULL, 0, NULL };
	struct md_service_decl *d = NULL;
	size_t n = 0;
	struct md_err err;

	stack_file(f, "compose.yaml", c->compose);
	if (c->override)
		stack_file(f, "override.yaml", c->override);
	if (md_applier_declared(&spec, &d, &n, &err) != 0)
		fail_msg("%s: %s", c->what, err.msg);
	if (n != c->want_n)
		fail_msg("%s: %zu services declared, want %zu", c->what, n, c->want_n);
	for (const struct want_decl *w = c->want; w->name; w++) {
		const struct md_service_decl *s = find(d, n, w->name);

		if (s->oneshot != w->oneshot)
			fail_msg("%s: service %s: oneshot %d, want %d", c->what, w->name, s->oneshot,
				 w->oneshot);
		if (w->image && (!s->image || strcmp(s->image, w->image) != 0))
			fail_msg("%s: service %s: image %s, want %s", c->what, w->name,
				 s->image ? s->image : "(none)", w->image);
	}
	md_service_decls_free(d, n);
}

static void expect_declared_all(struct fx *f, const struct decl_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		expect_declared(f, &c[i]);
}

#define NCASES(c) (sizeof(c) / sizeof((c)[0]))

static void test_declared_restart(void **state)
{
	static const struct decl_case cases[] = {
		{ "restart values and a merge key",
		  "x-once: &once\n  restart: \"no\"\n"
		  "services:\n"
		  "  quoted:\n    image: a\n    restart: \"no\"\n"
		  "  plain:\n    image: b\n    restart: no\n"
		  "  single:\n    restart: 'no'\n"
		  "  always:\n    image: c\n    restart: always\n"
		  "  failure:\n    restart: on-failure\n"
		  "  unset:\n    image: d\n"
		  "  merged:\n    <<: *once\n    image: e\n"
		  "  empty:\n",
		  NULL, 8,
		  { { "quoted", 1, NULL }, { "plain", 1, NULL }, { "single", 1, NULL },
		    { "always", 0, NULL }, { "failure", 0, NULL }, { "unset", 0, NULL },
		    { "merged", 1, "e" }, { "empty", 0, NULL }, { NULL, 0, NULL } } },
	};

	expect_declared_all(*state, cases, NCASES(cases));
}

static void test_declared_depends_on(void **state)
{
	static const struct decl_case cases[] = {
		/* a list means service_started; only the map form can ask for
		 * completion; a dependency declared after its dependent counts too */
		{ "depends_on list and map forms",
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
		  "  migrate:\n    image: m\n",
		  NULL, 8,
		  { { "migrate", 1, NULL }, { "web", 0, NULL }, { "api", 0, NULL },
		    { "cache", 0, NULL }, { "listed", 0, NULL }, { "started", 0, NULL },
		    { "bare", 0, NULL }, { "null_value", 0, NULL }, { NULL, 0, NULL } } },
		/* a list entry of a dependency that is not declared is no error */
		{ "undeclared dependency",
		  "services:\n  web:\n    image: w\n    depends_on:\n      - elsewhere\n",
		  NULL, 1, { { "web", 0, NULL }, { NULL, 0, NULL } } },
	};

	expect_declared_all(*state, cases, NCASES(cases));
}

static void test_declared_merge_across_files(void **state)
{
	static const struct decl_case cases[] = {
		/* later files override restart and a dependency's condition; a
		 * file that does not mention restart leaves it alone */
		{ "overrides",
		  "services:\n"
		  "  init:\n    image: i\n    restart: \"no\"\n"
		  "  seed:\n    image: s\n    restart: \"no\"\n"
		  "  migrate:\n    image: m\n"
		  "  setup:\n    image: x\n"
		  "  web:\n    image: w\n    depends_on:\n"
		  "      migrate:\n        condition: service_completed_successfully\n"
		  "      setup:\n        condition: service_started\n",
		  "services:\n"
		  "  init:\n    restart: unless-stopped\n"
		  "  seed:\n    image: s2\n"
		  "  web:\n    depends_on:\n"
		  "      migrate:\n        condition: service_started\n"
		  "      setup:\n        condition: service_completed_successfully\n",
		  5,
		  { { "init", 0, NULL }, { "seed", 1, "s2" }, { "migrate", 0, NULL },
		    { "setup", 1, NULL }, { "web", 0, NULL }, { NULL, 0, NULL } } },
		/* a dependency added by a later file counts */
		{ "dependency added by a later file",
		  "services:\n  job:\n    image: j\n  web:\n    image: w\n",
		  "services:\n  web:\n    depends_on:\n      job:\n"
		  "        condition: service_completed_successfully\n",
		  2, { { "job", 1, NULL }, { "web", 0, NULL }, { NULL, 0, NULL } } },
	};

	expect_declared_all(*state, cases, NCASES(cases));
}

static void test_declared_oneshot_errors(void **state)
{
	static const struct {
		const char *compose, *want;
	} cases[] = {
		{ "services:\n  web:\n    image: w\n    restart: [no]\n",
		  "My_Stack.1/compose.yaml:4: service web: restart is not a string" },
		{ "services:\n  web:\n    depends_on: db\n",
		  "compose.yaml:3: service web: depends_on is not a list or a mapping" },
		{ "services:\n  web:\n    depends_on:\n      - {db: x}\n",
		  "compose.yaml:4: service web: a depends_on entry is not a service name" },
		{ "services:\n  web:\n    depends_on:\n      db:\n"
		  "        condition: [service_completed_successfully]\n",
		  "compose.yaml:5: service web: depends_on db: condition is not a string" },
	};
	struct fx *f = *state;
	const char *files[] = { "compose.yaml" };
	struct md_stack_spec spec = { f->stack, files, 1, "p", NULL, 0, NULL };

	for (size_t i = 0; i < NCASES(cases); i++) {
		stack_file(f, "compose.yaml", cases[i].compose);
		expect_declared_error(&spec, cases[i].want);
	}
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
	const char *files[1];
	struct md_stack_spec spec = { 0 };
	char *calls;

	oneshot_stack(f, &spec, files);
	podman_inspect(f, "inspect.json", "healthy", "exited", 0);
	expect_wait(f, &spec, NULL);
	calls = slurp(f, "calls");
	assert_null(strstr(calls, "logs|")); /* nothing failed: no log asked for */
	free(calls);

	/* podman's "stopped" (exited, not yet cleaned up) counts the same */
	podman_inspect(f, "inspect.json", "healthy", "stopped", 0);
	expect_wait(f, &spec, NULL);
}

static void test_wait_oneshot_exited_nonzero_fails(void **state)
{
	expect_wait_error(*state, COMPOSE_WEB_MIGRATE, "healthy", "exited", 2,
			  "migrating\nerror: table exists\n",
			  "stack p: service db exited (2) (container p_db_1); last log lines: "
			  "migrating | error: table exists | to stderr");
}

static void test_wait_long_running_exited_0_still_fails(void **state)
{
	/* db is not one-shot here: a server that exits 0 has crashed */
	expect_wait_error(*state, NULL, "healthy", "exited", 0, NULL,
			  "stack p: service db exited (0) (container p_db_1); last log lines: "
			  "to stderr");
}

static void test_wait_oneshot_running_is_waited_on(void **state)
{
	struct fx *f = *state;
	const char *files[1];
	struct md_stack_spec spec = { 0 };

	/* running, then exited 0: the wait goes on until it has exited (the
	 * fake moves on when web's healthcheck runs) */
	oneshot_stack(f, &spec, files);
	two_states(f, "starting", "running", "healthy", "exited");
	expect_wait(f, &spec, NULL);

	/* still running when the time is up: a failure that says so */
	f->opts.health_timeout = 1;
	put(f, "state", "c\n", 0644);
	podman_inspect(f, "inspect.json.c", "healthy", "running", 0);
	expect_wait(f, &spec, "stack p: not running and healthy within 1s: one-shot service db "
			      "is still running");
}

/* ---- drift --------------------------------------------------------------------------- */

static void test_drift_oneshot(void **state)
{
	static const struct drift_step steps[] = {
		{ "exited", 0, NULL, NULL },
		{ "running", 0, NULL, NULL },
		{ "exited", 1, NULL, "service db: exited (1)" },
		/* a finished one-shot still has to have run the declared image */
		{ "exited", 0, "services:\n  db:\n    image: postgres:17\n    restart: \"no\"\n",
		  "service db: runs docker.io/library/postgres:16, declared postgres:17" },
		/* not one-shot: exited 0 is drift as before */
		{ "exited", 0, COMPOSE_WEB_DB, "service db: exited (0)" },
	};

	expect_drifts(*state, COMPOSE_WEB_MIGRATE, steps, NCASES(steps));
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

/* md_applier_down: the argv of `compose down` (no -v: named volumes stay),
 * its working directory, output and errors — with the fake compose of
 * applier_fixture.h. */
#include "unit.h"
#include "magos/applier.h"

#include "applier_fixture.h"

/* An old compose file written to a private dir, named by absolute path, as
 * the daemon does for a stack deleted from the repository. */
static void old_stack(struct fx *f, struct md_stack_spec *spec, const char **files,
		      char *file, size_t len)
{
	snprintf(file, len, "%s/compose.yaml", f->stack);
	stack_file(f, "compose.yaml", COMPOSE_WEB_DB);
	files[0] = file;
	memset(spec, 0, sizeof(*spec));
	spec->dir = f->stack;
	spec->files = files;
	spec->nfiles = 1;
	spec->project = "old";
}

static void test_down_argv(void **state)
{
	struct fx *f = *state;
	struct md_applier *a = new_applier(f);
	struct md_stack_spec spec;
	const char *files[1];
	char file[256], *want, *argv, *cwd, *output = NULL;
	struct md_err err;

	old_stack(f, &spec, files, file, sizeof(file));
	assert_ok(md_applier_down(a, &spec, &output, &err));
	argv = slurp(f, "compose_argv");
	want = md_asprintf("-p\nold\n-f\n%s\ndown\n--\n", file);
	assert_non_null(argv);
	assert_string_equal(argv, want);
	cwd = slurp(f, "compose_cwd");
	assert_non_null(cwd);
	assert_true(!strncmp(cwd, f->stack, strlen(f->stack)) && cwd[strlen(f->stack)] == '\n');
	assert_non_null(output);
	assert_non_null(strstr(output, "compose says: -p old -f "));
	assert_non_null(strstr(output, " down"));
	assert_non_null(strstr(output, "compose warns"));
	assert_true(f->progress > 0);
	free(output);
	free(cwd);
	free(want);
	free(argv);
	md_applier_free(a);
}

/* down never removes volumes and ignores env files (none are written). */
static void test_down_no_volumes_no_override(void **state)
{
	struct fx *f = *state;
	struct md_applier *a = new_applier(f);
	struct md_stack_spec spec;
	const char *files[1], *env[1] = { "/nonexistent/secret.env" };
	char file[256], *argv;
	struct md_err err;

	old_stack(f, &spec, files, file, sizeof(file));
	spec.env_files = env;
	spec.nenv_files = 1;
	spec.secrets_dir = f->dir;
	assert_ok(md_applier_down(a, &spec, NULL, &err));
	argv = slurp(f, "compose_argv");
	assert_non_null(argv);
	assert_null(strstr(argv, "-v\n"));
	assert_null(strstr(argv, "--volumes"));
	assert_null(strstr(argv, "magos-secrets"));
	assert_null(strstr(argv, "pull"));
	free(argv);
	md_applier_free(a);
}

static void test_down_failure_names_command_and_stack(void **state)
{
	struct fx *f = *state;
	struct md_applier *a = new_applier(f);
	struct md_stack_spec spec;
	const char *files[1];
	char file[256], *output = NULL, want[512];
	struct md_err err;

	old_stack(f, &spec, files, file, sizeof(file));
	put(f, "compose_status", "3\n", 0644);
	assert_int_equal(md_applier_down(a, &spec, &output, &err), -1);
	snprintf(want, sizeof(want), "%s/compose down for stack %s (project old) exited with "
		 "status 3", f->dir, f->stack);
	assert_string_equal(err.msg, want);
	assert_non_null(output);
	assert_non_null(strstr(output, "compose says:"));
	free(output);
	md_applier_free(a);
}

static void test_down_timeout(void **state)
{
	struct fx *f = *state;
	struct md_applier *a;
	struct md_stack_spec spec;
	const char *files[1];
	char file[256];
	struct md_err err;

	f->opts.compose_timeout = 1;
	a = new_applier(f);
	old_stack(f, &spec, files, file, sizeof(file));
	put(f, "compose_sleep", "5\n", 0644);
	assert_int_equal(md_applier_down(a, &spec, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "compose down for stack "));
	assert_non_null(strstr(err.msg, "(project old) did not finish within 1s and was killed"));
	md_applier_free(a);
}

static void test_down_refuses_incomplete_spec(void **state)
{
	struct fx *f = *state;
	struct md_applier *a = new_applier(f);
	struct md_stack_spec spec;
	const char *files[1];
	char file[256], *output = (char *)"untouched", *argv;
	struct md_err err;

	old_stack(f, &spec, files, file, sizeof(file));
	spec.project = "";
	assert_int_equal(md_applier_down(a, &spec, &output, &err), -1);
	assert_null(output);
	assert_string_equal(err.msg, "applier: a stack needs a directory, a project and a "
				     "compose file");
	spec.project = "old";
	spec.nfiles = 0;
	assert_int_equal(md_applier_down(a, &spec, NULL, &err), -1);
	assert_int_equal(md_applier_down(a, NULL, NULL, &err), -1);
	argv = slurp(f, "compose_argv");
	assert_null(argv); /* compose never ran */
	md_applier_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_down_argv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_down_no_volumes_no_override, setup, teardown),
		cmocka_unit_test_setup_teardown(test_down_failure_names_command_and_stack, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_down_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_down_refuses_incomplete_spec, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* state: the intent record of an interrupted change (intent.json). */
#include "unit.h"
#include "tmpdir.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magos/state.h"

#define B1 "1111111111111111111111111111111111111111"
#define B2 "2222222222222222222222222222222222222222"

static int setup(void **state)
{
	*state = tmpdir_new("md-intent-test");
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	tmpdir_free(*state);
	return 0;
}

static void write_text(const char *dir, const char *name, const char *text)
{
	char *p = md_asprintf("%s/%s", dir, name);
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(p);
}

static void test_none_then_round_trip_then_removed(void **state)
{
	const char *dir = *state;
	struct md_intent_file files[3] = { { "stacks/a/compose.yaml", B1, B2 },
					   { "b.yaml", "", B1 }, { "x..y/c.yaml", B1, "" } };
	struct md_intent in = { .head = B2, .files = files, .nfiles = 3 };
	struct md_intent *got = NULL;
	struct md_err err;
	char *warning = NULL;

	assert_int_equal(md_state_intent_load(dir, &got, &warning, &err), 1);
	assert_null(got);
	assert_int_equal(md_strv_push(&in.decisions, "web: 1.0 -> 1.1 (a:3)"), 0);
	assert_int_equal(md_state_intent_save(dir, &in, &err), 0);
	assert_int_equal(md_state_intent_load(dir, &got, &warning, &err), 0);
	assert_null(warning);
	assert_string_equal(got->head, B2);
	assert_int_equal(got->nfiles, 3);
	assert_string_equal(got->files[2].path, "x..y/c.yaml");
	assert_string_equal(got->files[0].path, "stacks/a/compose.yaml");
	assert_string_equal(got->files[0].old_id, B1);
	assert_string_equal(got->files[0].new_id, B2);
	assert_string_equal(got->files[1].old_id, "");
	assert_int_equal(got->decisions.n, 1);
	assert_string_equal(got->decisions.v[0], "web: 1.0 -> 1.1 (a:3)");
	md_state_intent_free(got);
	assert_int_equal(md_state_intent_remove(dir, &err), 0);
	assert_int_equal(md_state_intent_load(dir, &got, &warning, &err), 1);
	assert_int_equal(md_state_intent_remove(dir, &err), 0); /* none: no error */
	md_strv_clear(&in.decisions);
}

static void test_bad_input_refused_on_save(void **state)
{
	struct md_intent_file bad[] = { { "../etc/passwd", B1, B2 } };
	struct md_intent_file badid[] = { { "a.yaml", "xyz", B2 } };
	static const char *const paths[] = { "a/../b", "./a", "a//b", "a/", "/abs", "" };
	struct md_intent in = { .files = bad, .nfiles = 1 };
	struct md_err err;

	assert_int_equal(md_state_intent_save(*state, &in, &err), -1);
	assert_non_null(strstr(err.msg, "../etc/passwd"));
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		bad[0].path = (char *)(uintptr_t)paths[i];
		assert_int_equal(md_state_intent_save(*state, &in, &err), -1);
	}
	in.files = badid;
	assert_int_equal(md_state_intent_save(*state, &in, &err), -1);
}

/* A record that does not parse tells nothing: set aside, not fatal. */
static void test_unreadable_record_set_aside(void **state)
{
	static const char *const bad[] = {
		"{not json",
		"{\"version\":2,\"head\":\"\",\"files\":[]}",
		"{\"version\":1,\"head\":\"\",\"files\":[{\"path\":\"/abs\",\"old\":\"\",\"new\":\"\"}]}",
		"{\"version\":1,\"head\":\"\",\"files\":[{\"path\":\"a\",\"old\":\"zz\",\"new\":\"\"}]}",
		"{\"version\":1,\"head\":\"\",\"files\":{}}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct md_intent *got = NULL;
		struct md_err err;
		char *warning = NULL;
		char *path = md_asprintf("%s/intent.json", (const char *)*state);

		write_text(*state, "intent.json", bad[i]);
		assert_int_equal(md_state_intent_load(*state, &got, &warning, &err), 1);
		assert_null(got);
		assert_non_null(warning);
		assert_non_null(strstr(warning, "moved it to"));
		assert_false(md_path_exists(path));
		free(warning);
		free(path);
		tmpdir_free(*state);
		*state = tmpdir_new("md-intent-test");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_none_then_round_trip_then_removed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_input_refused_on_save, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_record_set_aside, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

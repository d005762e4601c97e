/* state, the applier's part: applied commit, per-stack last good commit and
 * status, bad digests — round trips through the file, bounds, and a
 * malformed "applied" object setting the file aside. */
#include "unit.h"
#include "tmpdir.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "magos/state.h"

#define C1 "0123456789abcdef0123456789abcdef01234567"
#define C2 "89abcdef0123456789abcdef0123456789abcdef"
#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

static int setup(void **state)
{
	*state = tmpdir_new("md-state-applied");
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	tmpdir_free(*state);
	return 0;
}

static struct md_state *load(const char *dir)
{
	struct md_state *st = NULL;
	struct md_err err;
	char *warning = NULL;

	if (md_state_load(&st, dir, &warning, &err) != 0)
		fail_msg("load: %s", err.msg);
	assert_null(warning);
	return st;
}

static void save_free(struct md_state *st)
{
	struct md_err err;

	if (md_state_save(st, &err) != 0)
		fail_msg("save: %s", err.msg);
	md_state_free(st);
}

static void write_state(const char *dir, const char *text)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/state.json", dir);
	assert_int_equal(md_file_write_atomic(path, text, strlen(text), 0600, NULL), 0);
}

static char *read_state(const char *dir)
{
	char path[512], *text = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/state.json", dir);
	assert_int_equal(md_file_read(path, 1 << 24, &text, &len, NULL), 0);
	return text;
}

static void test_empty_state_has_nothing_applied(void **state)
{
	struct md_state *st = load(*state);
	struct md_strv list = { 0 };
	char *text;

	assert_null(md_state_applied_commit(st));
	assert_null(md_state_stack_good(st, "web"));
	assert_int_equal(md_state_stack_status(st, "web"), MD_STACK_STATUS_NONE);
	assert_int_equal(md_state_bad_digest(st, "reg/web", D1), 0);
	assert_int_equal(md_state_stack_list(st, &list), 0);
	assert_int_equal(list.n, 0);
	save_free(st);
	/* Nothing applied: the document keeps its old shape. */
	text = read_state(*state);
	assert_null(strstr(text, "\"applied\""));
	free(text);
}

static void test_round_trip(void **state)
{
	struct md_state *st = load(*state);
	struct md_strv list = { 0 };

	assert_int_equal(md_state_set_applied_commit(st, C1), 0);
	assert_int_equal(md_state_stack_set(st, "web", MD_STACK_STATUS_OK, C1, 100), 0);
	assert_int_equal(md_state_stack_set(st, ".", MD_STACK_STATUS_FAILED, NULL, 101), 0);
	assert_int_equal(md_state_stack_set(st, "apps/db", MD_STACK_STATUS_OK, C2, 102), 0);
	/* A later status without a commit keeps the good one. */
	assert_int_equal(md_state_stack_set(st, "apps/db", MD_STACK_STATUS_ROLLED_BACK, NULL, 103),
			 0);
	assert_int_equal(md_state_bad_digest_add(st, "reg:5000/apps/web", D1, 104), 0);
	save_free(st);

	st = load(*state);
	assert_string_equal(md_state_applied_commit(st), C1);
	assert_string_equal(md_state_stack_good(st, "web"), C1);
	assert_int_equal(md_state_stack_status(st, "web"), MD_STACK_STATUS_OK);
	assert_null(md_state_stack_good(st, "."));
	assert_int_equal(md_state_stack_status(st, "."), MD_STACK_STATUS_FAILED);
	assert_string_equal(md_state_stack_good(st, "apps/db"), C2);
	assert_int_equal(md_state_stack_status(st, "apps/db"), MD_STACK_STATUS_ROLLED_BACK);
	assert_int_equal(md_state_bad_digest(st, "reg:5000/apps/web", D1), 1);
	assert_int_equal(md_state_bad_digest(st, "reg:5000/apps/web", D2), 0);
	assert_int_equal(md_state_bad_digest(st, "reg:5000/apps/db", D1), 0);
	assert_int_equal(md_state_stack_list(st, &list), 0);
	assert_int_equal(list.n, 3);
	assert_string_equal(list.v[0], ".");
	assert_string_equal(list.v[1], "apps/db");
	assert_string_equal(list.v[2], "web");
	md_strv_clear(&list);

	assert_int_equal(md_state_stack_forget(st, "web"), 0);
	assert_int_equal(md_state_set_applied_commit(st, NULL), 0);
	save_free(st);
	st = load(*state);
	assert_null(md_state_applied_commit(st));
	assert_int_equal(md_state_stack_status(st, "web"), MD_STACK_STATUS_NONE);
	assert_int_equal(md_state_stack_status(st, "apps/db"), MD_STACK_STATUS_ROLLED_BACK);
	md_state_free(st);
}

static void test_rejects_bad_input(void **state)
{
	struct md_state *st = load(*state);

	assert_int_equal(md_state_set_applied_commit(st, "not hex"), -1);
	assert_int_equal(md_state_set_applied_commit(st, "ABCDEF12"), -1); /* lowercase only */
	assert_int_equal(md_state_set_applied_commit(st, "abc"), -1);       /* too short */
	assert_int_equal(md_state_stack_set(st, "", MD_STACK_STATUS_OK, C1, 1), -1);
	assert_int_equal(md_state_stack_set(st, "/abs", MD_STACK_STATUS_OK, C1, 1), -1);
	assert_int_equal(md_state_stack_set(st, "web", MD_STACK_STATUS_NONE, C1, 1), -1);
	assert_int_equal(md_state_stack_set(st, "web", MD_STACK_STATUS_OK, "xyz!", 1), -1);
	assert_int_equal(md_state_bad_digest_add(st, "reg/web", "sha256:short", 1), -1);
	assert_int_equal(md_state_bad_digest_add(st, "", D1, 1), -1);
	assert_null(md_state_applied_commit(st));
	assert_int_equal(md_state_stack_status(st, "web"), MD_STACK_STATUS_NONE);
	md_state_free(st);
}

static void test_stacks_bounded_oldest_first(void **state)
{
	struct md_state *st = load(*state);
	char dir[32];

	for (int i = 0; i < MD_STATE_MAX_STACKS + 5; i++) {
		snprintf(dir, sizeof(dir), "stack%04d", i);
		assert_int_equal(md_state_stack_set(st, dir, MD_STACK_STATUS_OK, C1, 1000 + i), 0);
	}
	save_free(st);
	st = load(*state);
	for (int i = 0; i < 5; i++) {
		snprintf(dir, sizeof(dir), "stack%04d", i);
		assert_int_equal(md_state_stack_status(st, dir), MD_STACK_STATUS_NONE);
	}
	snprintf(dir, sizeof(dir), "stack%04d", 5);
	assert_string_equal(md_state_stack_good(st, dir), C1);
	snprintf(dir, sizeof(dir), "stack%04d", MD_STATE_MAX_STACKS + 4);
	assert_int_equal(md_state_stack_status(st, dir), MD_STACK_STATUS_OK);
	md_state_free(st);
}

static void test_bad_digests_bounded(void **state)
{
	struct md_state *st = load(*state);
	char d[80], repo[32];

	for (int i = 0; i < MD_STATE_MAX_BAD_DIGESTS + 3; i++) {
		snprintf(d, sizeof(d), "sha256:%064d", i);
		assert_int_equal(md_state_bad_digest_add(st, "reg/web", d, 10 + i), 0);
	}
	snprintf(d, sizeof(d), "sha256:%064d", 2);
	assert_int_equal(md_state_bad_digest(st, "reg/web", d), 0);
	snprintf(d, sizeof(d), "sha256:%064d", 3);
	assert_int_equal(md_state_bad_digest(st, "reg/web", d), 1);
	for (int i = 0; i < MD_STATE_MAX_BAD_REPOS; i++) {
		snprintf(repo, sizeof(repo), "reg/r%d", i);
		assert_int_equal(md_state_bad_digest_add(st, repo, D1, 1000 + i), 0);
	}
	/* reg/web's newest mark is the oldest of all repositories now. */
	assert_int_equal(md_state_bad_digest(st, "reg/web", d), 0);
	assert_int_equal(md_state_bad_digest(st, "reg/r0", D1), 1);
	save_free(st);
	st = load(*state);
	snprintf(repo, sizeof(repo), "reg/r%d", MD_STATE_MAX_BAD_REPOS - 1);
	assert_int_equal(md_state_bad_digest(st, repo, D1), 1);
	md_state_free(st);
}

static void test_malformed_applied_is_set_aside(void **state)
{
	static const char *const docs[] = {
		"{\"version\":1,\"applied\":[]}",
		"{\"version\":1,\"applied\":{\"commit\":\"XYZ\"}}",
		"{\"version\":1,\"applied\":{\"stacks\":{\"web\":{\"status\":\"bogus\",\"at\":1}}}}",
		"{\"version\":1,\"applied\":{\"stacks\":{\"web\":{\"status\":\"ok\"}}}}",
		"{\"version\":1,\"applied\":{\"bad\":{\"reg/web\":{\"sha256:12\":1}}}}",
	};

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct md_state *st = NULL;
		struct md_err err;
		char *warning = NULL;

		write_state(*state, docs[i]);
		assert_int_equal(md_state_load(&st, *state, &warning, &err), 0);
		assert_non_null(warning);
		assert_non_null(strstr(warning, "applied"));
		assert_null(md_state_applied_commit(st));
		free(warning);
		md_state_free(st);
	}
}

static void test_readonly_reads_applied(void **state)
{
	struct md_state *st;
	struct md_err err;

	write_state(*state, "{\"version\":1,\"applied\":{\"commit\":\"" C2 "\",\"stacks\":"
			    "{\"web\":{\"status\":\"ok\",\"good\":\"" C1 "\",\"at\":5}},"
			    "\"bad\":{\"reg/web\":{\"" D2 "\":7}}}}");
	assert_int_equal(md_state_load_readonly(&st, *state, &err), 0);
	assert_string_equal(md_state_applied_commit(st), C2);
	assert_string_equal(md_state_stack_good(st, "web"), C1);
	assert_int_equal(md_state_bad_digest(st, "reg/web", D2), 1);
	md_state_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty_state_has_nothing_applied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejects_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stacks_bounded_oldest_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_digests_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_applied_is_set_aside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly_reads_applied, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

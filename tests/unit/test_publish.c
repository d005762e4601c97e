/* publish: PR grouping and withdrawal as pure functions, the action names,
 * and the commit message's template. */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "magos/publish.h"
#include "../../internal/publish/publish_int.h"

static void test_group(void **state)
{
	const char *b[] = { "magos/web", "magos/db", "magos/web", "magos/cache", "magos/db" };
	size_t group[5], ng = 0;
	const size_t want[] = { 0, 1, 0, 2, 1 };

	(void)state;
	assert_int_equal(md_publish__group(b, 5, group, &ng), 0);
	assert_int_equal(ng, 3);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(group[i], want[i]);
	assert_int_equal(md_publish__group(b, 0, group, &ng), 0);
	assert_int_equal(ng, 0);
}

static void test_withdraw(void **state)
{
	const char *ours[] = { "magos/web", "magos/db" };
	static const struct {
		const char *head;
		int undecided, want;
	} cases[] = {
		{ "magos/web", 0, 0 },          /* still proposed this cycle */
		{ "magos/cache", 0, 1 },        /* no longer needed */
		{ "magos/cache", 1, 0 },        /* a site of it could not be decided */
		{ "magos/revert/web", 0, 0 },   /* the applier's revert PR */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(md_publish__withdraw(cases[i].head, ours, 2, cases[i].undecided),
				 cases[i].want);
}

static void test_action_names(void **state)
{
	(void)state;
	assert_string_equal(md_publish_action_name(MD_PR_OPENED), "opened");
	assert_string_equal(md_publish_action_name(MD_PR_UPDATED), "updated");
	assert_string_equal(md_publish_action_name(MD_PR_UNCHANGED), "unchanged");
	assert_string_equal(md_publish_action_name(MD_PR_CLOSED), "closed");
	assert_string_equal(md_publish_action_name(MD_PR_DECLINED), "declined");
}

static void test_commit_message(void **state)
{
	struct md_change ch[2] = {
		{ .file = "a/compose.yaml", .line = 3, .image = "web", .from = "1.0", .to = "1.1" },
		{ .file = "b.yaml", .line = 7, .image = "db", .from = "2", .to = "3" },
	};
	struct md_cycle_report rep = { .changes = ch, .nchanges = 2 };
	char *m;

	(void)state;
	m = md_publish_commit_message("update {count}: {images}", &rep);
	assert_string_equal(m, "update 2: web, db\n\n- web: 1.0 -> 1.1 (a/compose.yaml:3)\n"
			       "- db: 2 -> 3 (b.yaml:7)\n");
	free(m);
	m = md_publish_commit_message("{changes}", &rep);
	assert_string_equal(m, "- web: 1.0 -> 1.1 (a/compose.yaml:3)\n- db: 2 -> 3 (b.yaml:7)\n");
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_group),
		cmocka_unit_test(test_withdraw),
		cmocka_unit_test(test_action_names),
		cmocka_unit_test(test_commit_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

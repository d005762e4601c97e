/* rollout: the decisions as pure functions — which stacks a cycle applies
 * and why, which stack a path belongs to, what a rollback does — and the
 * look-ups shared with other modules (globs on old commits, default PATH). */
#include "unit.h"

#include <stdlib.h>
#include <string.h>

#include "magos/gitops.h"
#include "magos/rollout.h"
#include "magos/util.h"
#include "../../internal/rollout/rollout_int.h"

static void strv(struct md_strv *v, const char *const *items, size_t n)
{
	memset(v, 0, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		assert_int_equal(md_strv_push(v, items[i]), 0);
}

static void test_owner_index(void **state)
{
	const char *dirs[] = { ".", "apps", "apps/web", "db" };
	static const struct {
		const char *path;
		size_t want;
	} cases[] = {
		{ "compose.yaml", 0 },      { "apps/compose.yaml", 1 }, { "apps/web/x.env", 2 },
		{ "apps/webby/c.yaml", 1 }, { "db/compose.yaml", 3 },   { "dbx/compose.yaml", 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(md_rollout__owner_index(dirs, 4, cases[i].path), cases[i].want);
	/* without a top stack, a path outside every stack has no owner */
	assert_int_equal(md_rollout__owner_index(dirs + 1, 3, "other/compose.yaml"), 3);
}

static void test_choose(void **state)
{
	const char *dirs[] = { ".", "web", "db" };
	const char *changed_v[] = { "web/compose.yaml", "web/.env" };
	struct md_strv changed;
	int failed[3] = { 0, 0, 1 }, none[3] = { 0 };
	static const char applied[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	static const char head[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
	struct {
		struct md_rollout__history h;
		const char *want[3];
	} cases[4];
	char *reasons[3];

	(void)state;
	strv(&changed, changed_v, 2);
	memset(cases, 0, sizeof(cases));
	/* first start: every stack */
	cases[0].h = (struct md_rollout__history){ .head = head, .failed = none };
	cases[0].want[0] = cases[0].want[1] = cases[0].want[2] = "first start";
	/* the applied commit left history: every stack, said so */
	cases[1].h = (struct md_rollout__history){ .applied = applied, .head = head,
						   .ancestor = 0, .failed = none };
	cases[1].want[0] = cases[1].want[1] = cases[1].want[2] =
		"first start: the applied commit aaaaaaa is not an ancestor of HEAD";
	/* changed paths choose their stack; a failed one is retried */
	cases[2].h = (struct md_rollout__history){ .applied = applied, .head = head,
						   .ancestor = 1, .changed = &changed,
						   .failed = failed };
	cases[2].want[1] = "changed in aaaaaaa..bbbbbbb";
	cases[2].want[2] = "retry: the last apply failed";
	/* nothing moved, nothing failed: nothing applied (drift only) */
	cases[3].h = (struct md_rollout__history){ .applied = head, .head = head, .ancestor = 1,
						   .changed = &changed, .failed = none };
	for (size_t i = 0; i < 4; i++) {
		memset(reasons, 0, sizeof(reasons));
		assert_int_equal(md_rollout__choose(dirs, 3, &cases[i].h, reasons), 0);
		for (size_t k = 0; k < 3; k++) {
			if (cases[i].want[k])
				assert_string_equal(reasons[k], cases[i].want[k]);
			else
				assert_null(reasons[k]);
			free(reasons[k]);
		}
	}
	md_strv_clear(&changed);
}

static void test_rollback_decide(void **state)
{
	const char *me_v[] = { "bot@example.org", "magos@example.org" };
	const char *ours_v[] = { "BOT@example.org", "magos@example.org" };
	const char *mixed_v[] = { "bot@example.org", "alice@example.org" };
	struct md_strv me, ours, mixed, empty = { 0 };

	(void)state;
	strv(&me, me_v, 2);
	strv(&ours, ours_v, 2);
	strv(&mixed, mixed_v, 2);
	assert_int_equal(md_rollout__rollback_decide(NULL, 1, &ours, &me),
			 MD_ROLLOUT__FAIL_NO_GOOD);
	assert_int_equal(md_rollout__rollback_decide("c0ffee", 0, &ours, &me),
			 MD_ROLLOUT__FAIL_SAME);
	/* e-mails compare without case */
	assert_int_equal(md_rollout__rollback_decide("c0ffee", 2, &ours, &me), MD_ROLLOUT__REVERT);
	/* one person among the authors: never reverted */
	assert_int_equal(md_rollout__rollback_decide("c0ffee", 2, &mixed, &me),
			 MD_ROLLOUT__RUN_OLD);
	/* no authors known: not the agent's */
	assert_int_equal(md_rollout__rollback_decide("c0ffee", 2, &empty, &me),
			 MD_ROLLOUT__RUN_OLD);
	/* no identity of our own: nothing is ours */
	assert_int_equal(md_rollout__rollback_decide("c0ffee", 2, &ours, &empty),
			 MD_ROLLOUT__RUN_OLD);
	md_strv_clear(&me);
	md_strv_clear(&ours);
	md_strv_clear(&mixed);
}

/* Prune looks compose files of old commits up with MD_COMPOSE_GLOBS the way
 * the work tree's are listed: "*" does not cross "/". */
static void test_old_commit_globs(void **state)
{
	const char *globs_v[] = { "*.yaml", "**/compose.yaml", "stacks/*/docker-compose.yml" };
	struct md_strv globs;

	(void)state;
	strv(&globs, globs_v, 3);
	assert_int_equal(md_git_glob_any(&globs, "top.yaml"), 1);
	assert_int_equal(md_git_glob_any(&globs, "web/other.yaml"), 0); /* "*" stops at "/" */
	assert_int_equal(md_git_glob_any(&globs, "compose.yaml"), 1);  /* "**" matches none */
	assert_int_equal(md_git_glob_any(&globs, "a/b/compose.yaml"), 1);
	assert_int_equal(md_git_glob_any(&globs, "stacks/web/docker-compose.yml"), 1);
	assert_int_equal(md_git_glob_any(&globs, "stacks/web/x/docker-compose.yml"), 0);
	md_strv_clear(&globs);
}

/* check and the applier agree on where the compose command is looked up
 * when PATH is not configured: the default holds the sbin directories too. */
static void test_default_path(void **state)
{
	const char *need[] = { "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin",
			       "/sbin", "/bin" };
	char *p = md_path_find("sh", MD_ROLLOUT_DEFAULT_PATH);

	(void)state;
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		assert_non_null(strstr(MD_ROLLOUT_DEFAULT_PATH, need[i]));
	assert_non_null(p);
	free(p);
	assert_string_equal(md_rollout_engine_for(&(struct md_strv){ 0 }), "podman");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_owner_index),
		cmocka_unit_test(test_choose),
		cmocka_unit_test(test_rollback_decide),
		cmocka_unit_test(test_old_commit_globs),
		cmocka_unit_test(test_default_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* gitops: listing files by glob (ignores and symlinks honoured) and
 * unified diffs of two buffers. */
#include "unit.h"
#include "gitops_fixture.h"

/* ---- files and diffs --------------------------------------------------------- */

static void expect_files(struct md_git *g, const char *const *globs, size_t nglobs,
			 const char *const *want, size_t nwant)
{
	struct md_strv gv = { 0 }, out = { 0 };
	struct md_err err;

	for (size_t i = 0; i < nglobs; i++)
		assert_int_equal(md_strv_push(&gv, globs[i]), 0);
	if (md_git_list_files(g, &gv, &out, &err) != 0)
		fail_msg("md_git_list_files: %s", err.msg);
	for (size_t i = 0; i < out.n && i < nwant; i++)
		assert_string_equal(out.v[i], want[i]);
	assert_int_equal(out.n, nwant);
	md_strv_clear(&gv);
	md_strv_clear(&out);
}

static void test_list_files(void **state)
{
	static const char *const g1[] = { "**/compose.yaml" };
	static const char *const w1[] = { "compose.yaml", "stacks/db/compose.yaml",
					  "stacks/db/deep/x/compose.yaml", "stacks/web/compose.yaml" };
	static const char *const g2[] = { "stacks/**/compose.yaml", "*.md" };
	static const char *const w2[] = { "README.md", "stacks/db/compose.yaml",
					  "stacks/db/deep/x/compose.yaml", "stacks/web/compose.yaml" };
	static const char *const g3[] = { "stacks/*/compose.yaml", "compose/**" };
	static const char *const w3[] = { "compose/web.yaml", "stacks/db/compose.yaml",
					  "stacks/web/compose.yaml" };
	static const char *const g4[] = { "**/*.log", "stacks/db/**/x/*.yaml" };
	static const char *const w4[] = { "stacks/db/deep/x/compose.yaml" };
	struct fx *f = *state;
	struct md_git *g = open_ok(f, 0);
	char link[PATH_MAX];

	write_file(f->path[0], "compose.yaml", "a\n");
	write_file(f->path[0], "stacks/web/compose.yaml", "a\n");
	write_file(f->path[0], "stacks/db/compose.yaml", "a\n");
	write_file(f->path[0], "stacks/db/deep/x/compose.yaml", "a\n");
	write_file(f->path[0], "stacks/db/compose.yml", "a\n");
	write_file(f->path[0], "ignored/compose.yaml", "a\n");
	write_file(f->path[0], "stacks/.gitignore", "old/\n");
	write_file(f->path[0], "stacks/old/compose.yaml", "a\n");
	write_file(f->path[0], "stacks/web/x.log", "a\n");
	snprintf(link, sizeof(link), "%s/linked", f->path[0]);
	assert_int_equal(symlink("stacks", link), 0);
	snprintf(link, sizeof(link), "%s/stacks/web/alias.yaml", f->path[0]);
	assert_int_equal(symlink("compose.yaml", link), 0);
	expect_files(g, g1, 1, w1, 4);
	expect_files(g, g2, 2, w2, 4);
	expect_files(g, g3, 2, w3, 3);
	expect_files(g, g4, 2, w4, 1);
	md_git_free(g);
}

static void test_diff_buffers(void **state)
{
	const char *old = "services:\n  web:\n    image: web:1.0\n    ports: [80]\n";
	const char *new = "services:\n  web:\n    image: web:1.1\n    ports: [80]\n";
	char *out = NULL;
	struct md_err err;

	(void)state;
	assert_int_equal(md_git_diff_buffers(&out, "compose/web.yaml", old, strlen(old), new,
					     strlen(new), &err), 0);
	assert_string_equal(out,
		"diff --git a/compose/web.yaml b/compose/web.yaml\n"
		"index e7ba630..a9ece8c 100644\n"
		"--- a/compose/web.yaml\n"
		"+++ b/compose/web.yaml\n"
		"@@ -1,4 +1,4 @@\n"
		" services:\n"
		"   web:\n"
		"-    image: web:1.0\n"
		"+    image: web:1.1\n"
		"     ports: [80]\n");
	free(out);
	assert_int_equal(md_git_diff_buffers(&out, "a.yaml", old, strlen(old), old, strlen(old),
					     &err), 0);
	assert_string_equal(out, "");
	free(out);
	assert_int_equal(md_git_diff_buffers(&out, "", old, 1, new, 1, &err), -1);
	assert_null(out);
	assert_int_equal(md_git_diff_buffers(&out, "big", old, (size_t)64 << 20, new, 1, &err),
			 -1);
	assert_contains(err.msg, "big");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_list_files),
		cmocka_unit_test(test_diff_buffers),
#undef T
	};

	return cmocka_run_group_tests(tests, gitops_group_setup, gitops_group_teardown);
}

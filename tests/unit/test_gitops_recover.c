/* gitops: what a killed run leaves in its clone — stale lock files, temp
 * files of the agent's naming, an interrupted change (undone when it is the
 * agent's own, left alone when a person's) — and the clone's own leftovers. */
#include "unit.h"
#include "gitops_fixture.h"

static void blob(const char *data, char out[41])
{
	struct md_err err;

	assert_int_equal(md_git_blob_id(data, strlen(data), out, &err), 0);
}

static void touch(const char *dir, const char *rel)
{
	write_file(dir, rel, "stale\n");
}

static void test_stale_locks_removed_objects_untouched(void **state)
{
	struct fx *f = *state;
	struct md_strv removed = { 0 };
	struct md_err err;
	char p[PATH_MAX];

	md_git_free(open_ok(f, 0));
	touch(f->path[0], ".git/index.lock");
	touch(f->path[0], ".git/refs/heads/main.lock");
	touch(f->path[0], ".git/refs/remotes/origin/main.lock");
	touch(f->path[0], ".git/objects/ab/kept.lock");
	touch(f->path[0], ".git/refs/heads/not-a-lock");
	assert_int_equal(md_git_clear_stale_locks(f->path[0], &removed, &err), 0);
	assert_int_equal(removed.n, 3);
	snprintf(p, sizeof(p), "%s/.git/objects/ab/kept.lock", f->path[0]);
	assert_true(md_path_exists(p));
	snprintf(p, sizeof(p), "%s/.git/refs/heads/not-a-lock", f->path[0]);
	assert_true(md_path_exists(p));
	snprintf(p, sizeof(p), "%s/.git/index.lock", f->path[0]);
	assert_false(md_path_exists(p));
	md_strv_clear(&removed);
	/* no clone: nothing to do */
	snprintf(p, sizeof(p), "%s/none", f->root);
	assert_int_equal(md_git_clear_stale_locks(p, NULL, &err), 0);
}

static void test_leftovers_of_our_naming_only(void **state)
{
	struct fx *f = *state;
	struct md_git *g = open_ok(f, 0);
	struct md_strv removed = { 0 };
	struct md_err err;
	char p[PATH_MAX];

	write_file(f->path[0], "compose/.magos-rollback.web.yaml", "x\n");
	write_file(f->path[0], "compose/web.yaml.magos-tmp.aB3xY9", "x\n");
	write_file(f->path[0], "compose/web.yaml.magos-tmp.toolong", "x\n");
	write_file(f->path[0], "notes.txt", "a person's\n");
	assert_int_equal(md_git_clear_leftovers(g, &removed, &err), 0);
	assert_int_equal(removed.n, 2);
	snprintf(p, sizeof(p), "%s/compose/web.yaml.magos-tmp.toolong", f->path[0]);
	assert_true(md_path_exists(p));
	snprintf(p, sizeof(p), "%s/notes.txt", f->path[0]);
	assert_true(md_path_exists(p));
	md_strv_clear(&removed);
	md_git_free(g);
}

/* Written and staged by the agent, then killed: its file goes back to HEAD
 * (index too); a person's edit of another recorded file stays. */
static void test_undo_own_change_keeps_a_persons(void **state)
{
	struct fx *f = *state;
	struct md_git *g = open_ok(f, 0);
	struct md_strv foreign = { 0 };
	char web_old[41], web_new[41], rd_old[41], rd_new[41];
	struct md_git_owned files[2] = { { "compose/web.yaml", web_old, web_new },
					 { "README.md", rd_old, rd_new } };
	struct md_err err;
	char *text;

	blob(SEED_WEB, web_old);
	blob("image: web:1.1\n", web_new);
	blob("hello\n", rd_old);
	blob("agent's\n", rd_new);
	write_file(f->path[0], "compose/web.yaml", "image: web:1.1\n");
	stage(g, "compose/web.yaml");
	write_file(f->path[0], "README.md", "a person's\n");
	assert_int_equal(md_git_sync(g, &err), -1); /* wedged before the undo */
	assert_int_equal(md_git_undo_change(g, files, 2, &foreign, &err), 0);
	assert_int_equal(foreign.n, 1);
	assert_string_equal(foreign.v[0], "README.md");
	text = read_all(f->path[0], "compose/web.yaml");
	assert_string_equal(text, SEED_WEB);
	free(text);
	assert_int_equal(md_git_sync(g, &err), -1);
	assert_contains(err.msg, "uncommitted changes (README.md)");
	write_file(f->path[0], "README.md", "hello\n");
	assert_int_equal(md_git_sync(g, &err), 0); /* index and tree clean again */
	md_strv_clear(&foreign);
	md_git_free(g);
}

static void test_clone_leftovers_removed(void **state)
{
	struct fx *f = *state;
	struct md_strv removed = { 0 };
	struct md_err err;
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/.a.magos-clone-Xy12Zq/.git", f->root);
	assert_int_equal(md_mkdir_p(p, 0700, &err), 0);
	snprintf(p, sizeof(p), "%s/.a.magos-clone-other", f->root); /* not mkdtemp's */
	assert_int_equal(md_mkdir_p(p, 0700, &err), 0);
	assert_int_equal(md_git_clear_clone_leftovers(f->path[0], &removed, &err), 0);
	assert_int_equal(removed.n, 1);
	assert_true(md_path_exists(p));
	md_strv_clear(&removed);
	/* a clone made now lands at the path, nothing left beside it */
	md_git_free(open_ok(f, 0));
	assert_int_equal(md_git_clear_clone_leftovers(f->path[0], &removed, &err), 0);
	assert_int_equal(removed.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_stale_locks_removed_objects_untouched),
		T(test_leftovers_of_our_naming_only),
		T(test_undo_own_change_keeps_a_persons),
		T(test_clone_leftovers_removed),
#undef T
	};

	return cmocka_run_group_tests(tests, gitops_group_setup, gitops_group_teardown);
}

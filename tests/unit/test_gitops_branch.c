/* gitops: PR branches — names, commits built in memory on origin/<base>,
 * "already holds this tree" detection, force pushes, fetching and
 * forgetting branches, origin's URL without a handle. */
#include "unit.h"
#include "gitops_fixture.h"

static const struct md_git_blob WEB_11[] = {
	{ .path = "compose/web.yaml", .data = "image: web:1.1\n", .len = 15, .mode = 0644 },
};

static void test_branch_names(void **state)
{
	static const char *const cases[][2] = {
		{ "acme/web", "magos/acme/web" },
		{ "library/nginx", "magos/library/nginx" },
		{ "a/.hidden/x", "magos/a/_.hidden/x" },
		{ "a..b/c.lock", "magos/a.-b/c-lock" },
		{ "we b/x~y^z:w", "magos/we-b/x-y-z-w" },
		{ "trailing./x.", "magos/trailing-/x-" },
		{ "a//b/", "magos/a/b" },
	};
	struct md_err err;
	char *b = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (md_git_branch_name(&b, "magos/", cases[i][0], &err) != 0)
			fail_msg("%s: %s", cases[i][0], err.msg);
		assert_string_equal(b, cases[i][1]);
		free(b);
	}
	assert_int_equal(md_git_branch_name(&b, "", "", &err), -1);
	assert_null(b);
	assert_contains(err.msg, "cannot make a branch name");
}

static void read_tree_file(const char *bare, const char *rev, const char *path, char *out,
			   size_t outlen)
{
	git_repository *repo;
	git_object *obj;
	char spec[256];

	snprintf(spec, sizeof(spec), "%s:%s", rev, path);
	assert_int_equal(git_repository_open(&repo, bare), 0);
	assert_int_equal(git_revparse_single(&obj, repo, spec), 0);
	snprintf(out, outlen, "%.*s", (int)git_blob_rawsize((git_blob *)obj),
		 (const char *)git_blob_rawcontent((git_blob *)obj));
	git_object_free(obj);
	git_repository_free(repo);
}

static void test_branch_commit_push_and_no_churn(void **state)
{
	struct fx *f = *state;
	struct md_git *g = open_ok(f, 0);
	char oid[41], again[41], tip[41], base[41], text[128];
	struct md_err err;

	assert_int_equal(md_git_sync(g, &err), 0);
	assert_int_equal(md_git_base_head(g, base, &err), 0);
	assert_string_equal(base, f->seed);
	assert_int_equal(md_git_branches_fetch(g, "magos/", &err), 0);
	assert_int_equal(md_git_branch_commit(g, "magos/web", WEB_11, 1, "web 1.1\n", 1, oid, &err),
			 0);
	assert_int_equal(strlen(oid), 40);
	/* the work tree and the local branch stay on the base */
	read_tree_file(f->remote, "main", "compose/web.yaml", text, sizeof(text));
	assert_string_equal(text, SEED_WEB);
	free(read_all(f->path[0], "README.md"));
	{
		char *w = read_all(f->path[0], "compose/web.yaml");

		assert_string_equal(w, SEED_WEB);
		free(w);
	}
	assert_int_equal(md_git_branch_push(g, "magos/web", oid, &err), 0);
	ref_hex(f->remote, "refs/heads/magos/web", tip);
	assert_string_equal(tip, oid);
	read_tree_file(f->remote, "magos/web", "compose/web.yaml", text, sizeof(text));
	assert_string_equal(text, "image: web:1.1\n");
	read_tree_file(f->remote, "magos/web", "README.md", text, sizeof(text));
	assert_string_equal(text, "hello\n");

	/* the same files on the same base: nothing to do, the tip is named */
	assert_int_equal(md_git_branch_commit(g, "magos/web", WEB_11, 1, "web 1.1\n", 1, again,
					      &err), 1);
	assert_string_equal(again, oid);
	md_git_free(g);

	/* a fresh clone (state wiped) finds the branch as it is */
	g = open_ok(f, 1);
	assert_int_equal(md_git_sync(g, &err), 0);
	assert_int_equal(md_git_branches_fetch(g, "magos/", &err), 0);
	assert_int_equal(md_git_branch_commit(g, "magos/web", WEB_11, 1, "x\n", 0, again, &err), 1);
	assert_string_equal(again, oid);
	md_git_free(g);
}

static void test_branch_rebuilt_when_base_moves(void **state)
{
	struct fx *f = *state;
	static const char *const other[] = { "README.md", "moved\n" };
	struct md_git *g = open_ok(f, 0);
	char oid[41], oid2[41], tip[41], moved[41];
	struct md_err err;
	git_repository *repo;
	git_commit *c;
	git_oid id;

	assert_int_equal(md_git_sync(g, &err), 0);
	assert_int_equal(md_git_branch_commit(g, "magos/web", WEB_11, 1, "m\n", 1, oid, &err), 0);
	assert_int_equal(md_git_branch_push(g, "magos/web", oid, &err), 0);
	remote_commit(f->remote, "main", other, 1, "someone\n", moved);
	assert_int_equal(md_git_sync(g, &err), 0);
	assert_int_equal(md_git_branches_fetch(g, "magos/", &err), 0);
	assert_int_equal(md_git_branch_commit(g, "magos/web", WEB_11, 1, "m\n", 1, oid2, &err), 0);
	assert_string_not_equal(oid2, oid);
	/* force: the new commit does not descend from the old tip */
	assert_int_equal(md_git_branch_push(g, "magos/web", oid2, &err), 0);
	ref_hex(f->remote, "refs/heads/magos/web", tip);
	assert_string_equal(tip, oid2);
	assert_int_equal(git_repository_open(&repo, f->remote), 0);
	assert_int_equal(git_oid_fromstr(&id, oid2), 0);
	assert_int_equal(git_commit_lookup(&c, repo, &id), 0);
	git_oid_tostr(tip, sizeof(tip), git_commit_parent_id(c, 0));
	assert_string_equal(tip, moved);
	assert_string_equal(git_commit_author(c)->name, "Magos Bot");
	git_commit_free(c);
	git_repository_free(repo);
	md_git_free(g);
}

static void test_deleted_branch_forgotten(void **state)
{
	struct fx *f = *state;
	struct md_git *g = open_ok(f, 0);
	git_repository *repo;
	git_reference *ref;
	char oid[41], again[41], tip[41];
	struct md_err err;

	assert_int_equal(md_git_sync(g, &err), 0);
	assert_int_equal(md_git_branch_commit(g, "magos/web", WEB_11, 1, "m\n", 1, oid, &err), 0);
	assert_int_equal(md_git_branch_push(g, "magos/web", oid, &err), 0);
	assert_int_equal(git_repository_open(&repo, f->remote), 0);
	assert_int_equal(git_reference_lookup(&ref, repo, "refs/heads/magos/web"), 0);
	assert_int_equal(git_reference_delete(ref), 0);
	git_reference_free(ref);
	git_repository_free(repo);
	assert_int_equal(md_git_branches_fetch(g, "magos/", &err), 0);
	ref_hex(f->path[0], "refs/remotes/origin/magos/web", tip);
	assert_string_equal(tip, "");
	assert_int_equal(md_git_branch_commit(g, "magos/web", WEB_11, 1, "m\n", 0, again, &err), 0);
	md_git_free(g);
}

static void test_branch_bad_args(void **state)
{
	struct fx *f = *state;
	struct md_git *g = open_ok(f, 0);
	char oid[41];
	struct md_err err;

	assert_int_equal(md_git_branch_commit(g, "magos/web", WEB_11, 0, "m\n", 1, oid, &err), -1);
	assert_contains(err.msg, "no files given");
	assert_int_equal(md_git_branch_push(g, "magos/web", "nothex", &err), -1);
	assert_contains(err.msg, "bad branch or commit id");
	md_git_free(g);
}

static void test_origin_url_at(void **state)
{
	struct fx *f = *state;
	struct md_git *g = open_ok(f, 0);
	struct md_err err;
	char *url = NULL;

	md_git_free(g);
	assert_int_equal(md_git_origin_url_at(f->path[0], &url, &err), 0);
	assert_string_equal(url, f->url);
	free(url);
	assert_int_equal(md_git_origin_url_at(f->path[3], &url, &err), 1);
	assert_null(url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		cmocka_unit_test(test_branch_names),
		T(test_branch_commit_push_and_no_churn),
		T(test_branch_rebuilt_when_base_moves),
		T(test_deleted_branch_forgotten),
		T(test_branch_bad_args),
		T(test_origin_url_at),
#undef T
	};

	return cmocka_run_group_tests(tests, gitops_group_setup, gitops_group_teardown);
}

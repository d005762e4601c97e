/* gitops unit tests: shared fixture. Real repositories in a temporary
 * directory built with libgit2: a bare remote with a seed commit on main
 * (setup/teardown per test), helpers to commit "as someone else" straight
 * into it, and a group setup that keeps the tests independent of the
 * user's and the system's git config. Everything is static, so each
 * test_gitops_<part>.c gets its own copy; the ones a part does not use are
 * marked unused to keep -Wunused-function quiet. */
#ifndef MAGOS_GITOPS_FIXTURE_H
#define MAGOS_GITOPS_FIXTURE_H

#include "unit.h"

#include <ftw.h>
#include <git2.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "magos/gitops.h"

#define FX_UNUSED __attribute__((unused))

#define SEED_WEB "services:\n  web:\n    image: web:1.0\n"

struct fx {
	char root[64];
	char remote[128];
	char url[160];
	char path[4][128]; /* clones a, b, c, d */
	char seed[41];
};

/* ---- helpers ----------------------------------------------------------- */

FX_UNUSED static void write_file(const char *dir, const char *rel, const char *data)
{
	char full[PATH_MAX];

	snprintf(full, sizeof(full), "%s/%s", dir, rel);
	*strrchr(full, '/') = '\0';
	assert_int_equal(md_mkdir_p(full, 0755, NULL), 0);
	snprintf(full, sizeof(full), "%s/%s", dir, rel);
	assert_int_equal(md_file_write_atomic(full, data, strlen(data), 0644, NULL), 0);
}

FX_UNUSED static char *read_all(const char *dir, const char *rel)
{
	char full[PATH_MAX];
	char *out;
	size_t n;

	snprintf(full, sizeof(full), "%s/%s", dir, rel);
	assert_int_equal(md_file_read(full, 1 << 20, &out, &n, NULL), 0);
	return out;
}

/* Commit files (path, content pairs; NULL content deletes) directly into
 * the bare remote's branch on top of its tip: "someone else pushed". */
FX_UNUSED static void remote_commit(const char *bare, const char *branch, const char *const *files,
			  size_t nfiles, const char *msg, char oid[41])
{
	git_repository *repo;
	git_index *idx;
	git_oid blob, tree_id, id;
	git_tree *tree;
	git_commit *parent = NULL;
	git_signature *sig;
	char ref[128];
	const git_commit *parents[1];

	snprintf(ref, sizeof(ref), "refs/heads/%s", branch);
	assert_int_equal(git_repository_open(&repo, bare), 0);
	assert_int_equal(git_index_new(&idx), 0);
	if (git_reference_name_to_id(&id, repo, ref) == 0) {
		git_tree *pt;

		assert_int_equal(git_commit_lookup(&parent, repo, &id), 0);
		assert_int_equal(git_commit_tree(&pt, parent), 0);
		assert_int_equal(git_index_read_tree(idx, pt), 0);
		git_tree_free(pt);
	}
	for (size_t i = 0; i < nfiles; i++) {
		git_index_entry e;

		if (!files[2 * i + 1]) {
			assert_int_equal(git_index_remove_bypath(idx, files[2 * i]), 0);
			continue;
		}
		memset(&e, 0, sizeof(e));
		assert_int_equal(git_blob_create_from_buffer(&blob, repo, files[2 * i + 1],
							     strlen(files[2 * i + 1])), 0);
		e.path = files[2 * i];
		e.mode = GIT_FILEMODE_BLOB;
		e.id = blob;
		assert_int_equal(git_index_add(idx, &e), 0);
	}
	assert_int_equal(git_index_write_tree_to(&tree_id, idx, repo), 0);
	assert_int_equal(git_tree_lookup(&tree, repo, &tree_id), 0);
	assert_int_equal(git_signature_new(&sig, "Other", "other@example.org", 1700000000, 0), 0);
	parents[0] = parent;
	assert_int_equal(git_commit_create(&id, repo, ref, sig, sig, NULL, msg, tree,
					   parent ? 1 : 0, parents), 0);
	if (oid)
		git_oid_tostr(oid, 41, &id);
	git_signature_free(sig);
	git_tree_free(tree);
	git_commit_free(parent);
	git_index_free(idx);
	git_repository_free(repo);
}

FX_UNUSED static void ref_hex(const char *repo_path, const char *ref, char out[41])
{
	git_repository *repo;
	git_oid id;

	assert_int_equal(git_repository_open(&repo, repo_path), 0);
	out[0] = '\0';
	if (git_reference_name_to_id(&id, repo, ref) == 0)
		git_oid_tostr(out, 41, &id);
	git_repository_free(repo);
}

/* Config values read and written directly: git_remote_lookup() and friends
 * leak in libgit2 1.5 (see internal/gitops/gitops_int.h). */
FX_UNUSED static void config_get(const char *repo_path, const char *key, char *out, size_t outlen)
{
	git_repository *repo;
	git_config *cfg;
	const char *v = "";

	assert_int_equal(git_repository_open(&repo, repo_path), 0);
	assert_int_equal(git_repository_config_snapshot(&cfg, repo), 0);
	git_config_get_string(&v, cfg, key);
	md_strlcpy(out, v, outlen);
	git_config_free(cfg);
	git_repository_free(repo);
}

FX_UNUSED static void config_set(const char *repo_path, const char *key, const char *val)
{
	git_repository *repo;
	git_config *cfg;

	assert_int_equal(git_repository_open(&repo, repo_path), 0);
	assert_int_equal(git_repository_config(&cfg, repo), 0);
	assert_int_equal(git_config_set_string(cfg, key, val), 0);
	git_config_free(cfg);
	git_repository_free(repo);
}

FX_UNUSED static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

FX_UNUSED static struct md_git_opts opts_for(const struct fx *f, int i)
{
	struct md_git_opts o;

	memset(&o, 0, sizeof(o));
	o.path = f->path[i];
	o.url = f->url;
	o.branch = "main";
	o.author_name = "Magos Bot";
	o.author_email = "bot@example.org";
	return o;
}

FX_UNUSED static struct md_git *open_ok(const struct fx *f, int i)
{
	struct md_git_opts o = opts_for(f, i);
	struct md_git *g = NULL;
	struct md_err err = { "" };
	int rc = md_git_open(&g, &o, &err);

	if (rc != 0)
		fail_msg("md_git_open: %s", err.msg);
	return g;
}

/* A handle on clone i committing as someone other than the agent. */
FX_UNUSED static struct md_git *open_as_user(const struct fx *f, int i)
{
	struct md_git_opts o = opts_for(f, i);
	struct md_git *g = NULL;
	struct md_err err = { "" };

	o.author_name = "Some User";
	o.author_email = "user@example.org";
	if (md_git_open(&g, &o, &err) != 0)
		fail_msg("md_git_open: %s", err.msg);
	return g;
}

FX_UNUSED static void commit_ok(struct md_git *g, const char *rel, const char *data, char oid[41])
{
	const char *paths[1] = { rel };
	struct md_err err = { "" };

	write_file(md_git_workdir(g), rel, data);
	if (md_git_commit(g, paths, 1, "update", oid, &err) != 0)
		fail_msg("md_git_commit: %s", err.msg);
}

FX_UNUSED static void stage(struct md_git *g, const char *rel)
{
	git_repository *repo;
	git_index *idx;

	assert_int_equal(git_repository_open(&repo, md_git_workdir(g)), 0);
	assert_int_equal(git_repository_index(&idx, repo), 0);
	assert_int_equal(git_index_add_bypath(idx, rel), 0);
	assert_int_equal(git_index_write(idx), 0);
	git_index_free(idx);
	git_repository_free(repo);
}

#define assert_contains(hay, needle)                                                       \
	do {                                                                               \
		if (!strstr((hay), (needle)))                                              \
			fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle));       \
	} while (0)

/* ---- fixture: bare remote with a seed commit on main ------------------------- */

FX_UNUSED static int setup(void **state)
{
	static const char *const seed[] = {
		"README.md", "hello\n",
		"compose/web.yaml", SEED_WEB,
		".gitignore", "*.log\nignored/\n",
	};
	git_repository *bare;
	git_repository_init_options io;
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->root, "/tmp/md-gitops-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(f->remote, sizeof(f->remote), "%s/remote.git", f->root);
	snprintf(f->url, sizeof(f->url), "file://%s", f->remote);
	for (int i = 0; i < 4; i++) {
		char p[sizeof(f->path[i])];

		snprintf(p, sizeof(p), "%s/%c", f->root, 'a' + i);
		memcpy(f->path[i], p, sizeof(p));
	}
	git_repository_init_options_init(&io, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
	io.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH;
	io.initial_head = "main";
	assert_int_equal(git_repository_init_ext(&bare, f->remote, &io), 0);
	git_repository_free(bare);
	remote_commit(f->remote, "main", seed, 3, "seed\n", f->seed);
	*state = f;
	return 0;
}

FX_UNUSED static int teardown(void **state)
{
	struct fx *f = *state;

	nftw(f->root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* ---- group fixture: no system, XDG or global git config ---------------------- */

static char gitops_cfg_dir[] = "/tmp/md-gitops-cfg-XXXXXX";

FX_UNUSED static int gitops_group_setup(void **state)
{
	(void)state;
	git_libgit2_init();
	if (!mkdtemp(gitops_cfg_dir))
		return -1;
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_SYSTEM, gitops_cfg_dir);
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_XDG, gitops_cfg_dir);
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_GLOBAL, gitops_cfg_dir);
	git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_PROGRAMDATA, gitops_cfg_dir);
	return 0;
}

FX_UNUSED static int gitops_group_teardown(void **state)
{
	(void)state;
	rmdir(gitops_cfg_dir);
	git_libgit2_shutdown();
	return 0;
}

#endif

/* gitops: diffs of two buffers and the list of work-tree files by glob. */
#include "gitops_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MD_GIT_DIFF_MAX (16u << 20)       /* per side; compose files are tiny */
#define MD_GIT_WALK_MAX_ENTRIES 200000u   /* a repository, not a file system */
#define MD_GIT_WALK_MAX_DEPTH 64

/* ---- diff ---------------------------------------------------------------- */

int md_git_diff_buffers(char **out, const char *path, const char *old_data, size_t old_len,
			const char *new_data, size_t new_len, struct md_err *err)
{
	git_diff_options o;
	git_patch *patch = NULL;
	git_buf b = { 0 };
	int rc = -1;

	*out = NULL;
	if (!path || !path[0])
		return md_err_set(err, "cannot diff: no path given");
	if (old_len > MD_GIT_DIFF_MAX || new_len > MD_GIT_DIFF_MAX)
		return md_err_set(err, "cannot diff %s: larger than %u MiB", path,
				  MD_GIT_DIFF_MAX >> 20);
	/* libgit2's allocator is set up by init, even for repository-less calls. */
	if (md_git__lib_init(err) < 0)
		return -1;
	git_diff_options_init(&o, GIT_DIFF_OPTIONS_VERSION);
	if (git_patch_from_buffers(&patch, old_data, old_len, path, new_data, new_len, path,
				   &o) < 0 ||
	    git_patch_to_buf(&b, patch) < 0) {
		md_git__fail(err, "cannot diff %s", path);
		goto out;
	}
	*out = md_strndup(b.ptr ? b.ptr : "", b.size);
	if (!*out) {
		md_err_set(err, "out of memory");
		goto out;
	}
	rc = 0;
out:
	git_buf_dispose(&b);
	git_patch_free(patch);
	md_git__lib_shutdown();
	return rc;
}

/* ---- globs --------------------------------------------------------------- */

/* The first "**" + "/" that starts a path segment. */
static const char *find_dstar(const char *pat)
{
	for (const char *p = pat; (p = strstr(p, "**/")) != NULL; p++)
		if (p == pat || p[-1] == '/')
			return p;
	return NULL;
}

/* Split path after its k-th '/': copy the head into buf, return the tail
 * (NULL when path has fewer segments). */
static const char *split_after(const char *path, size_t k, char *buf, size_t buflen)
{
	const char *p = path;

	for (size_t i = 0; i < k; i++) {
		p = strchr(p, '/');
		if (!p)
			return NULL;
		p++;
	}
	if (p == path || (size_t)(p - path) > buflen)
		return NULL;
	memcpy(buf, path, (size_t)(p - path) - 1);
	buf[p - path - 1] = '\0';
	return p;
}

static size_t count_slashes(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '/';
	return n;
}

/* fnmatch(FNM_PATHNAME), plus "**" + "/" for zero or more directories and a
 * trailing "/" + "**" for everything below a directory. */
static int glob_match(const char *pat, const char *path)
{
	char head[PATH_MAX], prefix[PATH_MAX];
	const char *q = find_dstar(pat), *tail = path;
	size_t pl = strlen(pat);

	if (pl >= sizeof(prefix))
		return 0;
	if (!q) {
		if (strcmp(pat, "**") == 0)
			return 1;
		if (pl > 3 && strcmp(pat + pl - 3, "/**") == 0) {
			memcpy(prefix, pat, pl - 3);
			prefix[pl - 3] = '\0';
			tail = split_after(path, count_slashes(prefix) + 1, head, sizeof(head));
			return tail && fnmatch(prefix, head, FNM_PATHNAME) == 0;
		}
		return fnmatch(pat, path, FNM_PATHNAME) == 0;
	}
	if (q > pat) { /* "dir/" + "**" + "/rest": the head must match dir exactly */
		memcpy(prefix, pat, (size_t)(q - pat) - 1);
		prefix[q - pat - 1] = '\0';
		tail = split_after(path, count_slashes(prefix) + 1, head, sizeof(head));
		if (!tail || fnmatch(prefix, head, FNM_PATHNAME) != 0)
			return 0;
	}
	for (const char *t = tail;;) {
		if (glob_match(q + 3, t))
			return 1;
		t = strchr(t, '/');
		if (!t)
			return 0;
		t++;
	}
}

int md_git_glob_any(const struct md_strv *globs, const char *path)
{
	for (size_t i = 0; i < globs->n; i++)
		if (glob_match(globs->v[i], path))
			return 1;
	return 0;
}

/* ---- work-tree walk -------------------------------------------------------- */

struct walk {
	const struct md_git *g;
	const struct md_strv *globs;
	struct md_strv found;
	size_t entries;
	char rel[PATH_MAX];
};

static int is_ignored(const struct walk *w, const char *rel, int is_dir, struct md_err *err)
{
	char p[PATH_MAX + 1];
	int ignored = 0;

	snprintf(p, sizeof(p), "%s%s", rel, is_dir ? "/" : "");
	if (git_ignore_path_is_ignored(&ignored, w->g->repo, p) < 0)
		return md_git__fail(err, "cannot check whether %s is ignored in %s", rel,
				    w->g->workdir);
	return ignored;
}

static int walk_dir(struct walk *w, int dfd, size_t rlen, int depth, struct md_err *err);

static int walk_entry(struct walk *w, int dfd, const char *name, size_t rlen, int depth,
		      struct md_err *err)
{
	struct stat st;
	int fd, ign;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : md_err_set(err, "cannot stat %s/%s: %s",
							w->g->workdir, w->rel, strerror(errno));
	/* Symbolic links (to files or directories) are not followed. */
	if (S_ISREG(st.st_mode)) {
		if (!md_git_glob_any(w->globs, w->rel))
			return 0;
		ign = is_ignored(w, w->rel, 0, err);
		if (ign < 0)
			return -1;
		if (!ign && md_strv_push(&w->found, w->rel) < 0)
			return md_err_set(err, "out of memory");
		return 0;
	}
	if (!S_ISDIR(st.st_mode))
		return 0;
	ign = is_ignored(w, w->rel, 1, err);
	if (ign)
		return ign < 0 ? -1 : 0;
	if (depth >= MD_GIT_WALK_MAX_DEPTH)
		return md_err_set(err, "directory %s/%s is nested more than %d levels deep",
				  w->g->workdir, w->rel, MD_GIT_WALK_MAX_DEPTH);
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return md_err_set(err, "cannot open directory %s/%s: %s", w->g->workdir, w->rel,
				  strerror(errno));
	return walk_dir(w, fd, rlen, depth + 1, err);
}

/* Takes ownership of dfd. w->rel holds the directory's relative path
 * (rlen bytes, "" for the root). */
static int walk_dir(struct walk *w, int dfd, size_t rlen, int depth, struct md_err *err)
{
	struct dirent *de;
	DIR *d = fdopendir(dfd);
	int rc = 0;

	if (!d) {
		close(dfd);
		return md_err_set(err, "cannot read directory %s/%s: %s", w->g->workdir, w->rel,
				  strerror(errno));
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		int n;

		if (!strcmp(name, ".") || !strcmp(name, "..") || !strcmp(name, ".git"))
			continue;
		if (++w->entries > MD_GIT_WALK_MAX_ENTRIES) {
			rc = md_err_set(err, "work tree %s has more than %u entries", w->g->workdir,
					MD_GIT_WALK_MAX_ENTRIES);
			break;
		}
		n = snprintf(w->rel + rlen, sizeof(w->rel) - rlen, "%s%s", rlen ? "/" : "", name);
		if (n < 0 || (size_t)n >= sizeof(w->rel) - rlen) {
			w->rel[rlen] = '\0';
			rc = md_err_set(err, "path too long under %s/%s", w->g->workdir, w->rel);
			break;
		}
		rc = walk_entry(w, dirfd(d), name, rlen + (size_t)n, depth, err);
		w->rel[rlen] = '\0';
	}
	closedir(d);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int md_git_list_files(const struct md_git *g, const struct md_strv *globs, struct md_strv *out,
		      struct md_err *err)
{
	struct walk *w;
	int fd, rc = -1;

	w = calloc(1, sizeof(*w));
	if (!w)
		return md_err_set(err, "out of memory");
	w->g = g;
	w->globs = globs;
	fd = open(g->workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		md_err_set(err, "cannot open work tree %s: %s", g->workdir, strerror(errno));
		goto out;
	}
	if (walk_dir(w, fd, 0, 0, err) < 0)
		goto out;
	if (w->found.n)
		qsort(w->found.v, w->found.n, sizeof(*w->found.v), cmp_str);
	for (size_t i = 0; i < w->found.n; i++)
		if (md_strv_push(out, w->found.v[i]) < 0) {
			md_err_set(err, "out of memory");
			goto out;
		}
	rc = 0;
out:
	md_strv_clear(&w->found);
	free(w);
	return rc;
}

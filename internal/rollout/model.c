/* The stack model shared by the rollout's files: which stack a path belongs
 * to, compose's file preference, the report of a stack, progress, and the
 * private directories under MD_RUNTIME_DIR. It calls no other file of the
 * module. */
#include "rollout_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void md_rollout__progress(const struct md_rollout__run *r)
{
	if (r->x->progress)
		r->x->progress(r->x->progress_arg);
}

int md_rollout__report(const struct md_rollout__run *r, const char *dir, const char *reason,
		       enum md_stack_outcome outcome, const char *error)
{
	struct md_cycle_report *rep = r->x->rep;
	struct md_stack_report *v = realloc(rep->stacks, (rep->nstacks + 1) * sizeof(*v));

	if (!v)
		return -1;
	rep->stacks = v;
	v = &rep->stacks[rep->nstacks++];
	v->dir = md_strdup(dir);
	v->reason = md_strdup(reason ? reason : "");
	v->outcome = outcome;
	v->error = error ? md_strdup(error) : NULL;
	return v->dir && v->reason && (!error || v->error) ? 0 : -1;
}

/* Compose's own preference when a directory holds more than one file:
 * compose.yaml first; the rest in name order. */
int md_rollout__file_rank(const char *name)
{
	static const char *const pref[] = { "compose.yaml", "compose.yml", "docker-compose.yaml",
					    "docker-compose.yml" };

	for (size_t i = 0; i < sizeof(pref) / sizeof(pref[0]); i++)
		if (!strcmp(name, pref[i]))
			return (int)i;
	return 100;
}

size_t md_rollout__owner_index(const char *const *dirs, size_t n, const char *path)
{
	size_t best = n, best_len = 0;

	for (size_t i = 0; i < n; i++) {
		const char *d = dirs[i];
		size_t len = strlen(d);

		if (!strcmp(d, ".")) {
			if (best == n)
				best = i;
			continue;
		}
		if (strncmp(path, d, len) == 0 && path[len] == '/' && len >= best_len) {
			best = i;
			best_len = len;
		}
	}
	return best;
}

/* The stacks' directories, for the pure decisions (borrowed pointers). */
const char **md_rollout__dirs(const struct md_rollout__run *r)
{
	const char **v = calloc(r->nstacks ? r->nstacks : 1, sizeof(*v));

	for (size_t i = 0; v && i < r->nstacks; i++)
		v[i] = r->stacks[i].dir;
	return v;
}

size_t md_rollout__stack_index(const struct md_rollout__run *r, const char *path)
{
	const char **dirs = md_rollout__dirs(r);
	size_t i = dirs ? md_rollout__owner_index(dirs, r->nstacks, path) : r->nstacks;

	free(dirs);
	return i;
}

const struct md_rollout__stack *md_rollout__owner(const struct md_rollout__run *r, const char *path)
{
	size_t i = md_rollout__stack_index(r, path);

	return i < r->nstacks ? &r->stacks[i] : NULL;
}

char *md_rollout__private_dir(const char *base, const char *prefix, struct md_err *err)
{
	char *dir;

	if (md_mkdir_p(base, 0700, err) < 0) {
		md_err_prefix(err, "MD_RUNTIME_DIR");
		return NULL;
	}
	if (!(dir = md_asprintf("%s/%sXXXXXX", base, prefix))) {
		md_err_set(err, "out of memory");
		return NULL;
	}
	if (!mkdtemp(dir)) {
		md_err_set(err, "cannot create a private directory in %s: %s", base,
			   strerror(errno));
		free(dir);
		return NULL;
	}
	return dir;
}


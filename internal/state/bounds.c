/* Bounds of the state cache: the document never grows past a number of
 * tags per repository, repositories and digests; what goes first is always
 * the oldest observation, so pruning costs a re-fetch at worst, never a
 * wrong decision. Works on the jansson objects alone (state.c decides when). */
#include "state_int.h"

#include <stdlib.h>
#include <string.h>


/* An entry of some object, aged by a time stamp, that pruning may delete. */
struct aged {
	json_t *obj;
	char *key;
	int64_t ts;
};

static int aged_cmp(const void *a, const void *b)
{
	const struct aged *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return strcmp(x->key, y->key); /* deterministic among equals */
}

/* Delete the k oldest of v[0..n) and free the list. On OOM earlier, v may
 * be NULL: nothing is deleted and the next prune tries again. */
static void drop_oldest(struct aged *v, size_t n, size_t k)
{
	if (v) {
		qsort(v, n, sizeof(*v), aged_cmp);
		for (size_t i = 0; i < k && i < n; i++)
			json_object_del(v[i].obj, v[i].key);
	}
	for (size_t i = 0; v && i < n; i++)
		free(v[i].key);
	free(v);
}

static int aged_push(struct aged *v, size_t *n, json_t *obj, const char *key, int64_t ts)
{
	if (!(v[*n].key = md_strdup(key)))
		return -1;
	v[*n].obj = obj;
	v[(*n)++].ts = ts;
	return 0;
}

/* Keep the `keep` entries of obj whose `field` (a time) is newest. */
static void prune_oldest(json_t *obj, const char *field, size_t keep)
{
	size_t total = json_object_size(obj), n = 0;
	struct aged *v;
	const char *key;
	json_t *e;

	if (total <= keep || !(v = calloc(total, sizeof(*v))))
		return;
	json_object_foreach(obj, key, e)
		if (aged_push(v, &n, obj, key, json_integer_value(json_object_get(e, field))) < 0)
			break;
	drop_oldest(v, n, n == total ? total - keep : 0);
}

void md_state__prune_tags(json_t *tags)
{
	prune_oldest(tags, "first_seen", MD_STATE__MAX_TAGS);
}

/* At most MD_STATE_MAX_DIGESTS facts: the oldest stored go first. */
void md_state__prune_digests(json_t *digests, size_t keep)
{
	prune_oldest(digests, "stored", keep);
}

/* A repository is as recent as the newest tag it has shown us. */
static int64_t repo_age(json_t *r)
{
	int64_t newest = 0;
	const char *tag;
	json_t *e;

	json_object_foreach(json_object_get(r, "tags"), tag, e) {
		int64_t fs = json_integer_value(json_object_get(e, "first_seen"));

		if (fs > newest)
			newest = fs;
	}
	return newest;
}

/* At most MD_STATE__MAX_TAGS tags per repository and MD_STATE__MAX_REPOS repositories: the
 * oldest first_seen go first. */
void md_state__prune_repos(json_t *repos)
{
	size_t total = json_object_size(repos), n = 0;
	struct aged *v;
	const char *repo;
	json_t *r;

	json_object_foreach(repos, repo, r)
		md_state__prune_tags(json_object_get(r, "tags"));
	if (total <= MD_STATE__MAX_REPOS || !(v = calloc(total, sizeof(*v))))
		return;
	json_object_foreach(repos, repo, r)
		if (aged_push(v, &n, repos, repo, repo_age(r)) < 0)
			break;
	drop_oldest(v, n, n == total ? total - MD_STATE__MAX_REPOS : 0);
}

/* Drop the oldest 1/div of all tag observations, then empty repositories. */
void md_state__shed_oldest(json_t *repos, size_t div)
{
	size_t total = 0, n = 0;
	struct aged *v;
	const char *repo, *tag;
	json_t *r, *e, *tmp;

	json_object_foreach(repos, repo, r)
		total += json_object_size(json_object_get(r, "tags"));
	if (total == 0 || !(v = calloc(total, sizeof(*v))))
		return;
	json_object_foreach(repos, repo, r) {
		json_t *tags = json_object_get(r, "tags");

		json_object_foreach(tags, tag, e)
			if (aged_push(v, &n, tags, tag,
				      json_integer_value(json_object_get(e, "first_seen"))) < 0)
				goto drop;
	}
drop:
	drop_oldest(v, n, n == total ? (total + div - 1) / div : 0);
	json_object_foreach_safe(repos, tmp, repo, r)
		if (json_object_size(json_object_get(r, "tags")) == 0)
			json_object_del(repos, repo);
}

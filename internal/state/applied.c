/* The applier's part of the state, under "applied":
 *
 *   {"commit":"<hex>",
 *    "stacks":{"<dir>":{"status":"ok","good":"<hex>","at":N}},
 *    "bad":{"<repo>":{"sha256:…":N}}}
 *
 * "commit" is the commit last applied to this host; a stack's "good" is
 * the commit whose version of it last ran healthy (the rollback target);
 * "bad" holds digests that failed here, so they are never proposed again.
 * Like the rest of the state it is a cache: losing it means the next cycle
 * applies every stack once ("first start"), nothing worse. */
#include "state_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const status_names[] = {
	[MD_STACK_STATUS_NONE] = "none",
	[MD_STACK_STATUS_OK] = "ok",
	[MD_STACK_STATUS_ROLLED_BACK] = "rolled_back",
	[MD_STACK_STATUS_FAILED] = "failed",
};
#define NSTATUS (sizeof(status_names) / sizeof(status_names[0]))

static int hex_commit(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n >= 4 && n <= 64 && strspn(s, "0123456789abcdef") == n;
}

static int valid_dir(const char *d)
{
	size_t n = d ? strlen(d) : 0;

	return n > 0 && n <= MD_STATE_MAX_STACK_DIR && d[0] != '/' && !memchr(d, '\n', n);
}

static int valid_repo(const char *r)
{
	size_t n = r ? strlen(r) : 0;

	return n > 0 && n <= 512;
}

static enum md_stack_status status_parse(const char *s)
{
	for (size_t i = 1; s && i < NSTATUS; i++)
		if (!strcmp(s, status_names[i]))
			return (enum md_stack_status)i;
	return MD_STACK_STATUS_NONE;
}

/* ---- shape check (load) ------------------------------------------------- */

static int check_stack(const char *dir, json_t *e)
{
	json_t *good = json_object_get(e, "good"), *at = json_object_get(e, "at");

	return valid_dir(dir) && json_is_object(e) &&
	       status_parse(json_string_value(json_object_get(e, "status"))) != MD_STACK_STATUS_NONE &&
	       (!good || hex_commit(json_string_value(good))) && json_is_integer(at) ? 0 : -1;
}

static int check_bad(json_t *bad, char *why, size_t n)
{
	const char *repo, *digest;
	json_t *r, *at;

	if (!json_is_object(bad) || json_object_size(bad) > MD_STATE_MAX_BAD_REPOS) {
		snprintf(why, n, "bad \"applied.bad\"");
		return -1;
	}
	json_object_foreach(bad, repo, r) {
		if (!valid_repo(repo) || !json_is_object(r) ||
		    json_object_size(r) > MD_STATE_MAX_BAD_DIGESTS) {
			snprintf(why, n, "bad digests for \"%.200s\"", repo);
			return -1;
		}
		json_object_foreach(r, digest, at)
			if (!md_ref_valid_digest(digest) || !json_is_integer(at)) {
				snprintf(why, n, "bad digest for \"%.200s\"", repo);
				return -1;
			}
	}
	return 0;
}

int md_state__applied_check(json_t *doc, char *why, size_t n)
{
	json_t *commit = json_object_get(doc, "commit"), *stacks = json_object_get(doc, "stacks");
	json_t *bad = json_object_get(doc, "bad"), *e;
	const char *dir;

	if (!json_is_object(doc) || (commit && !hex_commit(json_string_value(commit)))) {
		snprintf(why, n, "bad \"applied\"");
		return -1;
	}
	if (stacks && (!json_is_object(stacks) || json_object_size(stacks) > MD_STATE_MAX_STACKS)) {
		snprintf(why, n, "bad \"applied.stacks\"");
		return -1;
	}
	json_object_foreach(stacks, dir, e)
		if (check_stack(dir, e) < 0) {
			snprintf(why, n, "bad entry for stack \"%.200s\"", dir);
			return -1;
		}
	return bad ? check_bad(bad, why, n) : 0;
}

/* ---- helpers -------------------------------------------------------------- */

/* The child object key of the applied document, created on demand. */
static json_t *child(const struct md_state *st, const char *key, int create)
{
	json_t *ap = st ? md_state__applied(st) : NULL, *o = json_object_get(ap, key);

	if (o || !create || !ap)
		return o;
	if (!(o = json_object()) || json_object_set_new(ap, key, o) < 0)
		return NULL;
	return o;
}

/* Delete the entry of obj with the smallest time (per at_of) while obj
 * holds more than max entries. */
static void drop_oldest(json_t *obj, size_t max, int64_t (*at_of)(json_t *))
{
	while (json_object_size(obj) > max) {
		const char *key, *oldest = NULL;
		int64_t best = 0;
		json_t *e;

		json_object_foreach(obj, key, e) {
			int64_t at = at_of(e);

			if (!oldest || at < best || (at == best && strcmp(key, oldest) < 0)) {
				oldest = key;
				best = at;
			}
		}
		json_object_del(obj, oldest);
	}
}

static int64_t stack_at(json_t *e)
{
	return json_integer_value(json_object_get(e, "at"));
}

static int64_t digest_at(json_t *e)
{
	return json_integer_value(e);
}

/* A repository is as recent as its newest bad digest. */
static int64_t repo_at(json_t *r)
{
	int64_t newest = 0;
	const char *d;
	json_t *at;

	json_object_foreach(r, d, at)
		if (json_integer_value(at) > newest)
			newest = json_integer_value(at);
	return newest;
}

/* ---- applied commit ------------------------------------------------------- */

const char *md_state_applied_commit(const struct md_state *st)
{
	return st ? json_string_value(json_object_get(md_state__applied(st), "commit")) : NULL;
}

int md_state_set_applied_commit(struct md_state *st, const char *commit)
{
	if (!st)
		return -1;
	if (!commit) {
		json_object_del(md_state__applied(st), "commit");
		return 0;
	}
	if (!hex_commit(commit))
		return -1;
	return json_object_set_new(md_state__applied(st), "commit", json_string(commit));
}

/* ---- stacks -------------------------------------------------------------- */

int md_state_stack_set(struct md_state *st, const char *dir, enum md_stack_status status,
		       const char *good, int64_t now)
{
	json_t *stacks, *e, *old;

	if (!st || !valid_dir(dir) || status == MD_STACK_STATUS_NONE || (unsigned)status >= NSTATUS ||
	    (good && !hex_commit(good)) || !(stacks = child(st, "stacks", 1)))
		return -1;
	old = json_object_get(stacks, dir);
	if (!good)
		good = json_string_value(json_object_get(old, "good"));
	e = json_pack("{s:s, s:I}", "status", status_names[status], "at", (json_int_t)now);
	if (!e || (good && json_object_set_new(e, "good", json_string(good)) < 0) ||
	    json_object_set_new(stacks, dir, e) < 0)
		return -1;
	drop_oldest(stacks, MD_STATE_MAX_STACKS, stack_at);
	return 0;
}

enum md_stack_status md_state_stack_status(const struct md_state *st, const char *dir)
{
	json_t *e = dir ? json_object_get(child(st, "stacks", 0), dir) : NULL;

	return status_parse(json_string_value(json_object_get(e, "status")));
}

const char *md_state_stack_good(const struct md_state *st, const char *dir)
{
	json_t *e = dir ? json_object_get(child(st, "stacks", 0), dir) : NULL;

	return json_string_value(json_object_get(e, "good"));
}

static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int md_state_stack_list(const struct md_state *st, struct md_strv *out)
{
	size_t first = out->n;
	const char *dir;
	json_t *e;

	json_object_foreach(child(st, "stacks", 0), dir, e)
		if (md_strv_push(out, dir) < 0)
			return -1;
	if (out->n - first > 1)
		qsort(out->v + first, out->n - first, sizeof(*out->v), strp_cmp);
	return 0;
}

int md_state_stack_forget(struct md_state *st, const char *dir)
{
	json_t *stacks = child(st, "stacks", 0);

	if (stacks && dir)
		json_object_del(stacks, dir);
	return 0;
}

/* ---- bad digests ---------------------------------------------------------- */

int md_state_bad_digest_add(struct md_state *st, const char *repo, const char *digest,
			    int64_t now)
{
	json_t *bad, *r;

	if (!st || !valid_repo(repo) || !digest || !md_ref_valid_digest(digest) ||
	    !(bad = child(st, "bad", 1)))
		return -1;
	if (!(r = json_object_get(bad, repo))) {
		if (!(r = json_object()) || json_object_set_new(bad, repo, r) < 0)
			return -1;
	}
	if (json_object_set_new(r, digest, json_integer(now)) < 0)
		return -1;
	drop_oldest(r, MD_STATE_MAX_BAD_DIGESTS, digest_at);
	drop_oldest(bad, MD_STATE_MAX_BAD_REPOS, repo_at);
	return 0;
}

int md_state_bad_digest(const struct md_state *st, const char *repo, const char *digest)
{
	if (!repo || !digest)
		return 0;
	return json_object_get(json_object_get(child(st, "bad", 0), repo), digest) != NULL;
}

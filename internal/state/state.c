/* The state cache: tag observations and the outcome of the last cycle, kept
 * in memory as a jansson tree shaped exactly like the file:
 *
 *   {"version":1,
 *    "repos":{"<repo>":{"list":"sha256:…",
 *                       "tags":{"<tag>":{"digest":"sha256:…","first_seen":N}}}},
 *    "digests":{"sha256:…":{"created":N,"platforms":["linux/amd64"],"stored":N},
 *               "sha256:…":{"stored":N}},
 *    "last_cycle":{"at":N,"ok":true,"commit":"<hex>"},
 *    "last_success":N}
 *
 * A tag only listed (never resolved) has no "digest". "list" fingerprints
 * the repository's last tag list; a digest is only ever one resolved since
 * that list was last seen to change. A digest under "digests" is one whose
 * manifest was fetched and hashed to it; its facts may be unknown ({"stored"}
 * alone). It is only a cache, so a file that
 * cannot be used is set aside (never deleted, so a human can look at it)
 * and the agent starts empty. */
#include "state_int.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define STATE_VERSION 1

struct md_state {
	char *dir;
	char *path;
	json_t *repos;      /* object: repo → {"tags": {tag → entry}} */
	json_t *digests;    /* object: digest → facts */
	int has_cycle;
	int64_t cycle_at;
	int cycle_ok;
	char *commit;       /* last known commit, NULL when none */
	int64_t last_success;
	int readonly;       /* loaded for plan/explain: save refuses */
	json_t *applied;    /* the applier's part: applied.c */
};

static struct md_state *state_new(const char *dir)
{
	struct md_state *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->dir = md_strdup(dir);
	st->path = md_asprintf("%s/state.json", dir);
	st->repos = json_object();
	st->digests = json_object();
	st->applied = json_object();
	if (!st->dir || !st->path || !st->repos || !st->digests || !st->applied) {
		md_state_free(st);
		return NULL;
	}
	return st;
}

void md_state_free(struct md_state *st)
{
	if (!st)
		return;
	free(st->dir);
	free(st->path);
	json_decref(st->repos);
	json_decref(st->digests);
	json_decref(st->applied);
	free(st->commit);
	free(st);
}

static int valid_commit(const char *s)
{
	size_t n = strlen(s);

	if (n < 4 || n > 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

/* ---- shape checks -------------------------------------------------------- */

static int check_tag(const char *repo, const char *tag, json_t *e, char *why, size_t n)
{
	json_t *d = json_object_get(e, "digest"), *fs = json_object_get(e, "first_seen");

	if (!*tag || !json_is_object(e) ||
	    (d && (!json_is_string(d) || !md_ref_valid_digest(json_string_value(d)))) ||
	    !json_is_integer(fs) ||
	    json_integer_value(fs) < 0) {
		snprintf(why, n, "bad entry for %.200s:%.130s", repo, tag);
		return -1;
	}
	return 0;
}

static int check_repos(json_t *repos, char *why, size_t n)
{
	const char *repo, *tag;
	json_t *r, *e;

	if (!json_is_object(repos)) {
		snprintf(why, n, "\"repos\" is not an object");
		return -1;
	}
	json_object_foreach(repos, repo, r) {
		json_t *tags = json_object_get(r, "tags");

		json_t *list = json_object_get(r, "list");

		if (!*repo || !json_is_object(tags) ||
		    (list && !md_ref_valid_digest(json_string_value(list)))) {
			snprintf(why, n, "bad entry for repository \"%.200s\"", repo);
			return -1;
		}
		json_object_foreach(tags, tag, e)
			if (check_tag(repo, tag, e, why, n) < 0)
				return -1;
	}
	return 0;
}

static int valid_platform(json_t *p)
{
	const char *s = json_string_value(p);

	return s && *s && strlen(s) <= 100;
}

static int check_facts(const char *digest, json_t *e)
{
	json_t *c = json_object_get(e, "created"), *at = json_object_get(e, "stored");
	json_t *pl = json_object_get(e, "platforms"), *p;
	size_t i;

	if (!md_ref_valid_digest(digest) || !json_is_object(e) || !json_is_integer(at))
		return -1;
	if (!c && !pl) /* verified, facts never asked for */
		return 0;
	if (!json_is_integer(c) || json_integer_value(c) < 0 || !json_is_array(pl) ||
	    json_array_size(pl) > MD_STATE_MAX_PLATFORMS)
		return -1;
	json_array_foreach(pl, i, p)
		if (!valid_platform(p))
			return -1;
	return 0;
}

static int check_digests(json_t *digests, char *why, size_t n)
{
	const char *digest;
	json_t *e;

	if (!json_is_object(digests)) {
		snprintf(why, n, "\"digests\" is not an object");
		return -1;
	}
	json_object_foreach(digests, digest, e)
		if (check_facts(digest, e) < 0) {
			snprintf(why, n, "bad facts for %.100s", digest);
			return -1;
		}
	return 0;
}

static int check_cycle(json_t *lc, json_t *ls, char *why, size_t n)
{
	json_t *c = json_object_get(lc, "commit");

	if (lc && (!json_is_object(lc) || !json_is_integer(json_object_get(lc, "at")) ||
		   !json_is_boolean(json_object_get(lc, "ok")) ||
		   (c && !json_is_null(c) &&
		    (!json_is_string(c) || !valid_commit(json_string_value(c)))))) {
		snprintf(why, n, "bad \"last_cycle\"");
		return -1;
	}
	if (ls && !json_is_integer(ls)) {
		snprintf(why, n, "bad \"last_success\"");
		return -1;
	}
	return 0;
}

/* Adopt a parsed document into st, or say (in why) what is wrong with it. */
static int adopt(struct md_state *st, json_t *root, char *why, size_t n)
{
	json_t *ver = json_object_get(root, "version"), *repos = json_object_get(root, "repos");
	json_t *lc = json_object_get(root, "last_cycle"), *ls = json_object_get(root, "last_success");
	json_t *dg = json_object_get(root, "digests"), *ap = json_object_get(root, "applied");
	json_t *c;

	if (!json_is_object(root)) {
		snprintf(why, n, "not a JSON object");
		return -1;
	}
	if (!json_is_integer(ver) || json_integer_value(ver) != STATE_VERSION) {
		snprintf(why, n, "unsupported version (want %d)", STATE_VERSION);
		return -1;
	}
	if ((repos && check_repos(repos, why, n) < 0) || (dg && check_digests(dg, why, n) < 0) ||
	    check_cycle(lc, ls, why, n) < 0 || (ap && md_state__applied_check(ap, why, n) < 0))
		return -1;
	if (repos) {
		json_decref(st->repos);
		st->repos = json_incref(repos);
	}
	if (dg) {
		json_decref(st->digests);
		st->digests = json_incref(dg);
	}
	if (ap) {
		json_decref(st->applied);
		st->applied = json_incref(ap);
	}
	if (lc) {
		st->has_cycle = 1;
		st->cycle_at = json_integer_value(json_object_get(lc, "at"));
		st->cycle_ok = json_is_true(json_object_get(lc, "ok"));
		c = json_object_get(lc, "commit");
		if (json_is_string(c) && !(st->commit = md_strdup(json_string_value(c)))) {
			snprintf(why, n, "out of memory");
			return -1;
		}
	}
	st->last_success = ls ? json_integer_value(ls) : 0;
	return 0;
}

/* ---- load ------------------------------------------------------------------ */

/* Move an unusable file to state.json.corrupt-<time>[.N]; never overwrite an
 * earlier one. */
static int set_aside(const struct md_state *st, const char *why, char **warning,
		     struct md_err *err)
{
	int64_t now = md_time_now();
	char *dest = NULL;

	for (int i = 0; i < 100; i++) {
		free(dest);
		dest = i ? md_asprintf("%s.corrupt-%lld.%d", st->path, (long long)now, i)
			 : md_asprintf("%s.corrupt-%lld", st->path, (long long)now);
		if (!dest)
			return md_err_set(err, "out of memory loading %s", st->path);
		if (!md_path_exists(dest))
			break;
	}
	if (rename(st->path, dest) < 0) {
		md_err_set(err, "state file %s is unusable (%s) and cannot be moved to %s: %s",
			   st->path, why, dest, strerror(errno));
		free(dest);
		return -1;
	}
	*warning = md_asprintf("state file %s is unusable (%s); moved it to %s and started "
			       "with an empty state", st->path, why, dest);
	free(dest);
	return 0;
}

int md_state__parse(struct md_state *st, const char *text, size_t len, char *why, size_t n)
{
	json_error_t jerr;
	json_t *root;
	int rc;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(why, n, "invalid JSON at line %d: %s", jerr.line, jerr.text);
		return -1;
	}
	rc = adopt(st, root, why, n);
	json_decref(root);
	return rc;
}

static int read_doc(struct md_state *st, char *why, size_t n)
{
	struct md_err rerr;
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (md_file_read(st->path, MD_STATE_MAX_FILE, &text, &len, &rerr) < 0) {
		md_strlcpy(why, rerr.msg, n);
		return -1;
	}
	rc = md_state__parse(st, text, len, why, n);
	free(text);
	return rc;
}

int md_state_load_readonly(struct md_state **out, const char *dir, struct md_err *err)
{
	struct md_state *st;
	char why[512];

	*out = NULL;
	if (!(st = state_new(dir)))
		return md_err_set(err, "out of memory loading the state in %s", dir);
	st->readonly = 1;
	if (read_doc(st, why, sizeof(why)) < 0) {
		/* Missing or unreadable: an empty cache, and nothing moved aside. */
		md_state_free(st);
		if (!(st = state_new(dir)))
			return md_err_set(err, "out of memory loading the state in %s", dir);
		st->readonly = 1;
	}
	*out = st;
	return 0;
}

int md_state_load(struct md_state **out, const char *dir, char **warning,
		  struct md_err *err)
{
	struct md_state *st;
	struct stat sb;
	char why[512];

	*out = NULL;
	if (warning)
		*warning = NULL;
	if (md_mkdir_p(dir, 0700, err) < 0)
		return md_err_prefix(err, "state directory");
	if (!(st = state_new(dir)))
		return md_err_set(err, "out of memory loading the state in %s", dir);
	if (stat(st->path, &sb) < 0 && errno == ENOENT)
		goto done;
	if (read_doc(st, why, sizeof(why)) < 0) {
		struct md_state *fresh = state_new(dir);
		char *w = NULL;

		md_state_free(st);
		st = fresh;
		if (!st)
			return md_err_set(err, "out of memory loading the state in %s", dir);
		if (set_aside(st, why, &w, err) < 0) {
			md_state_free(st);
			return -1;
		}
		if (warning)
			*warning = w;
		else
			free(w);
	}
	md_state__prune_repos(st->repos);
	md_state__prune_digests(st->digests, MD_STATE_MAX_DIGESTS);
done:
	*out = st;
	return 0;
}

/* ---- save ------------------------------------------------------------------- */

static json_t *build_doc(const struct md_state *st)
{
	json_t *root = json_object(), *lc;

	if (!root || json_object_set_new(root, "version", json_integer(STATE_VERSION)) < 0 ||
	    json_object_set(root, "repos", st->repos) < 0 ||
	    json_object_set(root, "digests", st->digests) < 0)
		goto fail;
	if (st->has_cycle) {
		lc = json_pack("{s:I, s:b, s:s?}", "at", (json_int_t)st->cycle_at, "ok",
			       st->cycle_ok, "commit", st->commit);
		if (!lc || json_object_set_new(root, "last_cycle", lc) < 0)
			goto fail;
	}
	if (json_object_set_new(root, "last_success", json_integer(st->last_success)) < 0 ||
	    (json_object_size(st->applied) && json_object_set(root, "applied", st->applied) < 0))
		goto fail;
	return root;
fail:
	json_decref(root);
	return NULL;
}

static char *serialise(const struct md_state *st)
{
	json_t *root = build_doc(st);
	char *s = root ? json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	json_decref(root);
	return s;
}

int md_state_save(struct md_state *st, struct md_err *err)
{
	char *text;
	int rc;

	if (st->readonly)
		return md_err_set(err, "the state in %s was loaded read-only", st->dir);
	md_state__prune_repos(st->repos);
	md_state__prune_digests(st->digests, MD_STATE_MAX_DIGESTS);
	text = serialise(st);
	/* Stay loadable: a file over the read cap would be set aside on the
	 * next start, so shed the oldest observations until it fits. */
	for (int i = 0; text && strlen(text) > MD_STATE_MAX_FILE && i < 16; i++) {
		free(text);
		md_state__shed_oldest(st->repos, 4);
		md_state__prune_digests(st->digests, json_object_size(st->digests) * 3 / 4);
		text = serialise(st);
	}
	if (!text)
		return md_err_set(err, "out of memory writing %s", st->path);
	if (strlen(text) > MD_STATE_MAX_FILE) {
		free(text);
		return md_err_set(err, "state for %s exceeds %u bytes", st->path, MD_STATE_MAX_FILE);
	}
	rc = md_file_write_atomic_hooked(st->path, text, strlen(text), 0600, "state-write",
					 err);
	free(text);
	return rc;
}

/* ---- tags ------------------------------------------------------------------ */

static json_t *tag_entry(const struct md_state *st, const char *repo, const char *tag)
{
	if (!st || !repo || !tag)
		return NULL;
	return json_object_get(json_object_get(json_object_get(st->repos, repo), "tags"), tag);
}

static json_t *repo_tags(struct md_state *st, const char *repo)
{
	json_t *r = json_object_get(st->repos, repo), *tags;

	if (r)
		return json_object_get(r, "tags");
	if (!(r = json_object()) || !(tags = json_object()) ||
	    json_object_set_new(r, "tags", tags) < 0 ||
	    json_object_set_new(st->repos, repo, r) < 0)
		return NULL; /* json_*_set_new drop their reference on failure */
	return tags;
}

/* Amortised bounds: prune only once the slack is used up (save and load
 * prune exactly). */
static void bound_after_insert(struct md_state *st, json_t *tags)
{
	if (json_object_size(tags) > MD_STATE__MAX_TAGS + MD_STATE__MAX_TAGS / 4)
		md_state__prune_tags(tags);
	if (json_object_size(st->repos) > MD_STATE__MAX_REPOS + MD_STATE__MAX_REPOS / 4)
		md_state__prune_repos(st->repos);
}

int md_state_tag_seen(struct md_state *st, const char *repo, const char *tag,
		      const char *digest, int64_t now)
{
	json_t *tags, *e;

	if (!st || !repo || !*repo || !tag || !*tag || !digest || !md_ref_valid_digest(digest))
		return -1;
	if (!(tags = repo_tags(st, repo)))
		return -1;
	if ((e = json_object_get(tags, tag)))
		return json_object_set_new(e, "digest", json_string(digest));
	/* The loader refuses a negative first_seen: a clock before 1970
	 * must not make the next start set the file aside. */
	e = json_pack("{s:s, s:I}", "digest", digest, "first_seen", (json_int_t)(now > 0 ? now : 0));
	if (!e || json_object_set_new(tags, tag, e) < 0)
		return -1;
	bound_after_insert(st, tags);
	return 0;
}

int md_state_tag_listed(struct md_state *st, const char *repo, const char *tag, int64_t now)
{
	json_t *tags, *e;

	if (!st || !repo || !*repo || !tag || !*tag)
		return -1;
	if (!(tags = repo_tags(st, repo)))
		return -1;
	if (json_object_get(tags, tag))
		return 0;
	e = json_pack("{s:I}", "first_seen", (json_int_t)(now > 0 ? now : 0));
	if (!e || json_object_set_new(tags, tag, e) < 0)
		return -1;
	bound_after_insert(st, tags);
	return 0;
}

const char *md_state_tag_digest(const struct md_state *st, const char *repo, const char *tag)
{
	return json_string_value(json_object_get(tag_entry(st, repo, tag), "digest"));
}

int64_t md_state_tag_first_seen(const struct md_state *st, const char *repo, const char *tag)
{
	return json_integer_value(json_object_get(tag_entry(st, repo, tag), "first_seen"));
}

/* ---- tag list fingerprints ------------------------------------------------ */

static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* sha256 of the sorted tags, each followed by '\n' (a tag never holds one). */
static int list_fingerprint(const struct md_strv *tags, char out[MD_DIGEST_STR_LEN + 1])
{
	char **v = malloc((tags->n ? tags->n : 1) * sizeof(*v));
	struct md_buf text;
	int ok = v != NULL;

	md_buf_init(&text, SIZE_MAX);
	if (ok && tags->n) {
		memcpy(v, tags->v, tags->n * sizeof(*v));
		qsort(v, tags->n, sizeof(*v), strp_cmp);
	}
	for (size_t i = 0; ok && i < tags->n; i++)
		ok = md_buf_puts(&text, v[i]) == 0 && md_buf_puts(&text, "\n") == 0;
	if (ok)
		md_sha256_digest(text.data ? text.data : "", text.len, out);
	md_buf_clear(&text);
	free(v);
	return ok ? 0 : -1;
}

int md_state_tag_list_seen(struct md_state *st, const char *repo, const struct md_strv *tags)
{
	char fp[MD_DIGEST_STR_LEN + 1];
	const char *tag, *old;
	json_t *r, *e;

	if (!st || !repo || !*repo || !tags || list_fingerprint(tags, fp) < 0 ||
	    !repo_tags(st, repo))
		return -1;
	r = json_object_get(st->repos, repo);
	old = json_string_value(json_object_get(r, "list"));
	if (old && !strcmp(old, fp))
		return 1;
	/* The list changed (or was never seen): any tag may have moved with
	 * it, so no digest recorded before may be taken on trust. */
	json_object_foreach(json_object_get(r, "tags"), tag, e)
		json_object_del(e, "digest");
	return json_object_set_new(r, "list", json_string(fp)) < 0 ? -1 : 0;
}

/* ---- digest facts ------------------------------------------------------------ */

static json_t *platforms_json(const struct md_strv *platforms)
{
	json_t *a = json_array();

	if (!a || !platforms)
		return a;
	if (platforms->n > MD_STATE_MAX_PLATFORMS)
		goto fail;
	for (size_t i = 0; i < platforms->n; i++) {
		json_t *p = json_string(platforms->v[i]);

		if (!valid_platform(p) || json_array_append_new(a, p) < 0) {
			json_decref(p);
			goto fail;
		}
	}
	return a;
fail:
	json_decref(a);
	return NULL;
}

int md_state_digest_facts_put(struct md_state *st, const char *digest, int64_t created,
			      const struct md_strv *platforms, int64_t now)
{
	json_t *pl, *e;

	if (!st || !digest || !md_ref_valid_digest(digest) || !(pl = platforms_json(platforms)))
		return -1;
	e = json_pack("{s:I, s:o, s:I}", "created", (json_int_t)(created > 0 ? created : 0),
		      "platforms", pl, "stored", (json_int_t)now);
	if (!e || json_object_set_new(st->digests, digest, e) < 0)
		return -1;
	if (json_object_size(st->digests) > MD_STATE_MAX_DIGESTS + MD_STATE_MAX_DIGESTS / 4)
		md_state__prune_digests(st->digests, MD_STATE_MAX_DIGESTS);
	return 0;
}

int md_state_digest_facts_get(const struct md_state *st, const char *digest, int64_t *created,
			      struct md_strv *platforms)
{
	json_t *e = st && digest ? json_object_get(st->digests, digest) : NULL, *p;
	size_t i;

	if (!e || !json_object_get(e, "platforms"))
		return 0;
	*created = json_integer_value(json_object_get(e, "created"));
	json_array_foreach(json_object_get(e, "platforms"), i, p)
		if (md_strv_push(platforms, json_string_value(p)) < 0)
			return -1;
	return 1;
}

int md_state_digest_verified_put(struct md_state *st, const char *digest, int64_t now)
{
	json_t *e;

	if (!st || !digest || !md_ref_valid_digest(digest))
		return -1;
	if (json_object_get(st->digests, digest))
		return 0; /* verified already, facts maybe known: keep them */
	e = json_pack("{s:I}", "stored", (json_int_t)now);
	if (!e || json_object_set_new(st->digests, digest, e) < 0)
		return -1;
	if (json_object_size(st->digests) > MD_STATE_MAX_DIGESTS + MD_STATE_MAX_DIGESTS / 4)
		md_state__prune_digests(st->digests, MD_STATE_MAX_DIGESTS);
	return 0;
}

int md_state_digest_verified(const struct md_state *st, const char *digest)
{
	return st && digest && json_object_get(st->digests, digest) != NULL;
}

/* ---- last cycle -------------------------------------------------------------- */

int md_state_set_last_cycle(struct md_state *st, int64_t when, int ok, const char *commit)
{
	char *c = NULL;

	if (!st || (commit && !valid_commit(commit)))
		return -1;
	if (commit) {
		if (!(c = md_strdup(commit)))
			return -1;
		free(st->commit);
		st->commit = c;
	}
	st->has_cycle = 1;
	st->cycle_at = when;
	st->cycle_ok = ok != 0;
	if (ok)
		st->last_success = when;
	return 0;
}

int64_t md_state_last_success(const struct md_state *st)
{
	return st ? st->last_success : 0;
}

const char *md_state_last_commit(const struct md_state *st)
{
	return st ? st->commit : NULL;
}

json_t *md_state__applied(const struct md_state *st)
{
	return st->applied;
}

/* ---- seams for the fuzz target (state_int.h) ----------------------------- */

struct md_state *md_state__new(const char *dir)
{
	return state_new(dir);
}

void md_state__prune(struct md_state *st)
{
	md_state__prune_repos(st->repos);
	md_state__prune_digests(st->digests, MD_STATE_MAX_DIGESTS);
}

char *md_state__serialise(const struct md_state *st)
{
	return serialise(st);
}

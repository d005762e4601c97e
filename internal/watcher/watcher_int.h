/* watcher internals shared by watcher.c (grouping, listing, deciding) and
 * facts.c (the per-candidate facts the gates and `newest` need). */
#ifndef MAGOS_WATCHER_INT_H
#define MAGOS_WATCHER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "magos/watcher.h"

/* Facts (HEAD + cache or GET) sought per repository per cycle at most: a
 * bound on requests for `newest`, which needs the facts of every ranked
 * candidate, and for a gate that keeps refusing the best tags. */
#define MD_WATCH_MAX_FACT_LOOKUPS 50

/* A repository watched by one or more sites, with what we learnt about it. */
struct repo_group {
	char *domain;
	char *path;
	char *canonical;
	int need_tags;
	int listed;
	int unchanged; /* the tag list is the one the state saw last time */
	struct md_strv tags;
	char *error;
	size_t lookups; /* tags whose facts were sought this cycle */
};

/* A digest resolved this cycle, so two sites following one tag cost one
 * HEAD; and its facts once looked up, so they cost one lookup. */
struct resolved {
	const struct repo_group *group;
	char *tag;
	char *digest;
	char *error;
	int cached; /* digest taken from the state, no HEAD this cycle */
	int verified;       /* its manifest was fetched by digest and hashed to it */
	char *verify_error; /* why it could not be verified (the site's error) */
	int has_facts;
	char *facts_error;
	int64_t created;
	struct md_strv platforms;
};

struct watch_run {
	struct md_registry *reg;
	struct md_state *st; /* NULL in plan mode: nothing cached or recorded */
	const struct md_decide_ctx *ctx;
	struct repo_group *groups;
	size_t ngroups;
	struct resolved **res; /* pointers: entries stay put while the list grows */
	size_t nres;
	size_t *site_group; /* index into groups per site */
	struct resolved **site_res; /* the digest each site pins, or NULL */
};

/* The digest of tag, once per (group, tag); NULL only on OOM. With trust,
 * a digest the state recorded under an unchanged tag list is taken without
 * a request; without it (or for a cached answer), HEAD. */
struct resolved *md_watcher__resolve_digest(struct watch_run *w, const struct repo_group *g,
				      const char *tag, int trust);

/* Decide a site whose policy needs facts (s->decision): look them up for
 * the ranked candidates in order until the decision settles. cands[0..n)
 * are the listed tags, facts unknown. Per-site problems land in s->error;
 * *hold is set when the decision must not be applied (s->warning says
 * why). Returns 0. */
int md_watcher__decide_with_facts(struct watch_run *w, struct md_watch_site *s, struct repo_group *g,
			    struct md_candidate *cands, size_t n, int *hold);

#endif

/* state — private declarations shared by the module's .c files: the
 * applier's part of the document lives in applied.c, state.c only loads
 * and saves it. */
#ifndef MAGOS_STATE_INT_H
#define MAGOS_STATE_INT_H

#include <jansson.h>

#include "magos/ref.h"
#include "magos/state.h"

/* The "applied" object of st (never NULL once st exists). */
json_t *md_state__applied(const struct md_state *st);
/* 0 when doc is a well-formed "applied" object; else why says what is wrong. */
int md_state__applied_check(json_t *doc, char *why, size_t n);

/* bounds.c: the cache's bounds, applied by load, save and after inserts
 * (with some slack, so pruning is amortised). Oldest observations go first. */
#define MD_STATE__MAX_TAGS 10000 /* per repository */
#define MD_STATE__MAX_REPOS 2000
/* At most MD_STATE__MAX_TAGS entries in a repository's "tags" object. */
void md_state__prune_tags(json_t *tags);
/* Every repository's tags bounded, then at most MD_STATE__MAX_REPOS
 * repositories (a repository is as recent as its newest tag). */
void md_state__prune_repos(json_t *repos);
/* At most keep digests, the oldest "stored" first. */
void md_state__prune_digests(json_t *digests, size_t keep);
/* Drop the oldest 1/div of all tag observations, then empty repositories. */
void md_state__shed_oldest(json_t *repos, size_t div);

/* What md_state_load does to the file's text, without the file (for the
 * fuzz target): a state for dir (NULL on OOM); adopt the document text
 * into it, or -1 with why saying what is wrong (st is then unusable: free
 * it); the bounds load and save apply; the text save would write (NULL on
 * OOM). */
struct md_state *md_state__new(const char *dir);
int md_state__parse(struct md_state *st, const char *text, size_t len, char *why, size_t n);
void md_state__prune(struct md_state *st);
char *md_state__serialise(const struct md_state *st);

#endif

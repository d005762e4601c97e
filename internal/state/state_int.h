/* state — private declarations shared by the module's .c files: the
 * applier's part of the document lives in applied.c, state.c only loads
 * and saves it. */
#ifndef MAGOS_STATE_INT_H
#define MAGOS_STATE_INT_H

#include <jansson.h>

#include "magos/state.h"

/* The "applied" object of st (never NULL once st exists). */
json_t *md_state__applied(const struct md_state *st);
/* 0 when doc is a well-formed "applied" object; else why says what is wrong. */
int md_state__applied_check(json_t *doc, char *why, size_t n);

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

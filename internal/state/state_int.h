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

#endif

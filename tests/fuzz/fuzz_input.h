/* The harnesses' common first step: the first byte chooses which parser an
 * input feeds, the rest is that parser's text, NUL-terminated. */
#ifndef MAGOS_FUZZ_INPUT_H
#define MAGOS_FUZZ_INPUT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_INPUT_MAX 65536

/* A malloc'd copy of data[1..size) with a NUL after it (*n its length) and
 * the selector byte in *sel; NULL for an empty or oversized input (or OOM):
 * the harness then returns 0. */
static inline char *fuzz_input(const uint8_t *data, size_t size, unsigned *sel, size_t *n)
{
	char *s;

	if (size < 1 || size > FUZZ_INPUT_MAX)
		return NULL;
	*n = size - 1;
	if (!(s = malloc(*n + 1)))
		return NULL;
	memcpy(s, data + 1, *n);
	s[*n] = '\0';
	*sel = data[0];
	return s;
}

#endif

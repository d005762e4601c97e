/* util — private declarations shared by the module's files and its unit
 * tests. */
#ifndef MAGOS_UTIL_INT_H
#define MAGOS_UTIL_INT_H

#include <stddef.h>

/* Test seam: when set, md_free_secret calls it with the block it is about
 * to free, after zeroing it (tests check a secret is gone before the
 * allocator gets the memory back). NULL in the agent. */
extern void (*md_util__freeing_secret)(const void *p, size_t n);

#endif

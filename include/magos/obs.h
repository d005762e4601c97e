/* obs — what the agent says: one line per event on stderr, as text or JSON
 * lines, with structured fields (image, from, to, digest, file, commit,
 * cycle). Secrets never reach it: callers pass only names and digests. */
#ifndef MAGOS_OBS_H
#define MAGOS_OBS_H

#include <stdio.h>

#include "magos/config.h"

void md_log_setup(enum md_log_format fmt, enum md_log_level level, FILE *out);
int md_log_enabled(enum md_log_level level);

/* Log msg with NULL-terminated key/value pairs:
 *   md_log(MD_LOG_INFO, "image updated", "image", ref, "from", a, "to", b, NULL);
 * NULL values are skipped. */
void md_log(enum md_log_level level, const char *msg, ...) __attribute__((sentinel));

int md_log_parse_level(const char *s, enum md_log_level *out);
int md_log_parse_format(const char *s, enum md_log_format *out);

#endif

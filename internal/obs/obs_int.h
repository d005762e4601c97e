/* Private to the obs module. */
#ifndef MAGOS_OBS_INT_H
#define MAGOS_OBS_INT_H

#include <jansson.h>

#include "magos/obs.h"

#define OBS_MAX_FIELDS 32

struct obs_kv {
	const char *k, *v;
};

/* One log event, its pairs collected from md_log's arguments. */
struct obs_entry {
	enum md_log_level level;
	const char *msg;
	struct obs_kv kv[OBS_MAX_FIELDS];
	size_t n;
};

/* log.c */
void obs_format_message(struct md_buf *b, const struct obs_entry *e);
/* A JSON string of s; bytes that are not UTF-8 (outside text cut short,
 * a server's Latin-1) become U+FFFD instead of losing the field. NULL
 * only on OOM. */
json_t *obs_json_string(const char *s);

/* journal.c: 0 when journald took the entry, -1 to fall back to text.
 * Called with the log lock held. */
int obs_journal_send(const struct obs_entry *e);

#endif

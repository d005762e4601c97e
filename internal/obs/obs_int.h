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
void md_obs__format_message(struct md_buf *b, const struct obs_entry *e);
/* A JSON string of s; bytes that are not UTF-8 (outside text cut short,
 * a server's Latin-1) become U+FFFD instead of losing the field. NULL
 * only on OOM. */
json_t *md_obs__json_string(const char *s);
/* The whole line md_log writes for e at ts: text ("ts level msg k=v...")
 * or JSON (fmt MD_LOG_JSON), with its newline (fuzzed). */
void md_obs__format_line(struct md_buf *b, enum md_log_format fmt, const char *ts,
		     const struct obs_entry *e);

/* journal.c: 0 when journald took the entry, -1 to fall back to text.
 * Called with the log lock held. */
int md_obs__journal_send(const struct obs_entry *e);
/* The entry in journald's native format (fuzzed); -1 when it does not fit. */
int md_obs__journal_encode(struct md_buf *b, const struct obs_entry *e);

/* http.c: what to answer a request with, decided without libmicrohttpd
 * (fuzzed): the status, content type, body (in body) and whether an Allow
 * header goes with it. -1 when no answer can be built (out of memory). */
struct md_obs__http_answer {
	unsigned code;
	const char *type;
	int allow;
};
int md_obs__http_answer(struct md_obs *o, const char *method, const char *url, int64_t now_mono_ms,
		    struct md_obs__http_answer *a, struct md_buf *body);

#endif

/* Event logging: one entry per event, as a text or JSON line on stderr or a
 * native journald entry (journal.c). Callers pass only names, tags,
 * digests and error sentences — never secrets — so nothing here scrubs.
 * A mutex makes it safe to call from the HTTP thread too. */
#include "magos/obs.h"
#include "obs_int.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static struct {
	enum md_log_format fmt;
	enum md_log_level level;
	FILE *out;
	uint64_t cycle;
} logger = { MD_LOG_TEXT, MD_LOG_INFO, NULL, 0 };

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void md_log_setup(enum md_log_format fmt, enum md_log_level level, FILE *out)
{
	pthread_mutex_lock(&log_lock);
	logger.fmt = fmt;
	logger.level = level;
	logger.out = out;
	pthread_mutex_unlock(&log_lock);
}

void md_log_set_cycle(uint64_t n)
{
	pthread_mutex_lock(&log_lock);
	logger.cycle = n;
	pthread_mutex_unlock(&log_lock);
}

int md_log_enabled(enum md_log_level level)
{
	return level >= logger.level;
}

/* Quote a text value when it would not read back as one token. */
static void put_text_value(struct md_buf *b, const char *v)
{
	int plain = *v != '\0';

	for (const char *p = v; *p && plain; p++)
		if (*p == ' ' || *p == '"' || *p == '=' || *p == '\\' || (unsigned char)*p < 0x20)
			plain = 0;
	if (plain) {
		md_buf_puts(b, v);
		return;
	}
	md_buf_puts(b, "\"");
	for (const char *p = v; *p; p++) {
		if (*p == '"' || *p == '\\')
			md_buf_printf(b, "\\%c", *p);
		else if (*p == '\n')
			md_buf_puts(b, "\\n");
		else if ((unsigned char)*p < 0x20)
			md_buf_printf(b, "\\x%02x", (unsigned char)*p);
		else
			md_buf_append(b, p, 1);
	}
	md_buf_puts(b, "\"");
}

/* The message as is, but for control characters: a message may quote
 * outside text (a state file's keys, a server's error) and must stay one
 * line. */
static void put_message(struct md_buf *b, const char *m)
{
	for (const char *p = m; *p; p++) {
		if (*p == '\n')
			md_buf_puts(b, "\\n");
		else if ((unsigned char)*p < 0x20)
			md_buf_printf(b, "\\x%02x", (unsigned char)*p);
		else
			md_buf_append(b, p, 1);
	}
}

/* "msg k=v k=v": the text line without time and level, also the journal's
 * MESSAGE so `journalctl` shows the details without -o verbose. */
void md_obs__format_message(struct md_buf *b, const struct obs_entry *e)
{
	put_message(b, e->msg);
	for (size_t i = 0; i < e->n; i++) {
		md_buf_printf(b, " %s=", e->kv[i].k);
		put_text_value(b, e->kv[i].v);
	}
}

static void emit_text(struct md_buf *b, const char *ts, const struct obs_entry *e)
{
	md_buf_printf(b, "%s %-5s ", ts, md_config_log_level_name(e->level));
	md_obs__format_message(b, e);
	md_buf_puts(b, "\n");
}

/* Length of the UTF-8 sequence starting at s (1..4), 0 when none starts
 * there: jansson's rules (no overlong forms, surrogates, or code points
 * above U+10FFFF). Stops at a NUL before reading past it. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (c >= 0xe0 && c <= 0xef)
		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
	if (c >= 0xf0 && c <= 0xf4)
		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80
			       ? 4
			       : 0;
	return 0;
}

json_t *md_obs__json_string(const char *s)
{
	json_t *j = json_string(s);
	struct md_buf b;

	if (j)
		return j;
	md_buf_init(&b, strlen(s) * 3 + 1);
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t n = utf8_len(p);

		md_buf_append(&b, n ? (const char *)p : "\xef\xbf\xbd", n ? n : 3);
		p += n ? n : 1;
	}
	j = json_string(b.data ? b.data : "");
	md_buf_clear(&b);
	return j;
}

static void emit_json(struct md_buf *b, const char *ts, const struct obs_entry *e)
{
	json_t *o = json_object();
	char *s;

	json_object_set_new(o, "ts", json_string(ts));
	json_object_set_new(o, "level", json_string(md_config_log_level_name(e->level)));
	json_object_set_new(o, "msg", md_obs__json_string(e->msg));
	for (size_t i = 0; i < e->n; i++)
		json_object_set_new(o, e->kv[i].k, md_obs__json_string(e->kv[i].v));
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s) {
		md_buf_puts(b, s);
		md_buf_puts(b, "\n");
		free(s);
	}
	json_decref(o);
}

void md_obs__format_line(struct md_buf *b, enum md_log_format fmt, const char *ts,
		     const struct obs_entry *e)
{
	if (fmt == MD_LOG_JSON)
		emit_json(b, ts, e);
	else
		emit_text(b, ts, e);
}

/* Collect the pairs once: every format walks the same list. */
static void collect(struct obs_entry *e, va_list ap, char *cycle, size_t cyclelen)
{
	const char *k, *v;

	while ((k = va_arg(ap, const char *))) {
		v = va_arg(ap, const char *);
		if (v && e->n < OBS_MAX_FIELDS)
			e->kv[e->n++] = (struct obs_kv){ k, v };
	}
	if (logger.cycle && e->n < OBS_MAX_FIELDS) {
		snprintf(cycle, cyclelen, "%llu", (unsigned long long)logger.cycle);
		e->kv[e->n++] = (struct obs_kv){ "cycle", cycle };
	}
}

static void write_line(FILE *out, const char *data, size_t len)
{
	/* One write per line so concurrent writers never interleave mid-line. */
	fwrite(data, 1, len, out);
	fflush(out);
}

void md_log(enum md_log_level level, const char *msg, ...)
{
	struct obs_entry e = { .level = level, .msg = msg };
	struct md_buf b;
	char ts[32], cycle[24];
	va_list ap;
	FILE *out;

	if (!md_log_enabled(level))
		return;
	pthread_mutex_lock(&log_lock);
	out = logger.out ? logger.out : stderr;
	va_start(ap, msg);
	collect(&e, ap, cycle, sizeof(cycle));
	va_end(ap);
	if (logger.fmt == MD_LOG_JOURNAL && md_obs__journal_send(&e) == 0)
		goto out;
	md_time_format_rfc3339(md_time_now(), ts, sizeof(ts));
	md_buf_init(&b, 64 * 1024);
	md_obs__format_line(&b, logger.fmt, ts, &e);
	if (b.data)
		write_line(out, b.data, b.len);
	md_buf_clear(&b);
out:
	pthread_mutex_unlock(&log_lock);
}

/* Event logging: one line per event on stderr, text or JSON lines.
 * Callers pass only names, tags, digests and error sentences — never
 * secrets — so nothing here needs to scrub. */
#include "magos/obs.h"

#include <jansson.h>
#include <stdarg.h>
#include <string.h>
#include <stdlib.h>
#include <strings.h>

static struct {
	enum md_log_format fmt;
	enum md_log_level level;
	FILE *out;
} logger = { MD_LOG_TEXT, MD_LOG_INFO, NULL };

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void md_log_setup(enum md_log_format fmt, enum md_log_level level, FILE *out)
{
	logger.fmt = fmt;
	logger.level = level;
	logger.out = out;
}

int md_log_enabled(enum md_log_level level)
{
	return level >= logger.level;
}

int md_log_parse_level(const char *s, enum md_log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (!strcasecmp(s, level_names[i])) {
			*out = (enum md_log_level)i;
			return 0;
		}
	}
	if (!strcasecmp(s, "warning")) {
		*out = MD_LOG_WARN;
		return 0;
	}
	return -1;
}

int md_log_parse_format(const char *s, enum md_log_format *out)
{
	if (!strcmp(s, "text"))
		*out = MD_LOG_TEXT;
	else if (!strcmp(s, "json"))
		*out = MD_LOG_JSON;
	else
		return -1;
	return 0;
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

static void emit_text(struct md_buf *b, const char *ts, enum md_log_level level,
		      const char *msg, va_list ap)
{
	const char *k, *v;

	md_buf_printf(b, "%s %-5s %s", ts, level_names[level], msg);
	while ((k = va_arg(ap, const char *))) {
		v = va_arg(ap, const char *);
		if (!v)
			continue;
		md_buf_printf(b, " %s=", k);
		put_text_value(b, v);
	}
	md_buf_puts(b, "\n");
}

static void emit_json(struct md_buf *b, const char *ts, enum md_log_level level,
		      const char *msg, va_list ap)
{
	json_t *o = json_object();
	const char *k, *v;
	char *s;

	json_object_set_new(o, "ts", json_string(ts));
	json_object_set_new(o, "level", json_string(level_names[level]));
	json_object_set_new(o, "msg", json_string(msg));
	while ((k = va_arg(ap, const char *))) {
		v = va_arg(ap, const char *);
		if (v)
			json_object_set_new(o, k, json_string(v));
	}
	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s) {
		md_buf_puts(b, s);
		md_buf_puts(b, "\n");
		free(s);
	}
	json_decref(o);
}

void md_log(enum md_log_level level, const char *msg, ...)
{
	struct md_buf b;
	char ts[32];
	va_list ap;
	FILE *out = logger.out ? logger.out : stderr;

	if (!md_log_enabled(level))
		return;
	md_time_format_rfc3339(md_time_now(), ts, sizeof(ts));
	md_buf_init(&b, 64 * 1024);
	va_start(ap, msg);
	if (logger.fmt == MD_LOG_JSON)
		emit_json(&b, ts, level, msg, ap);
	else
		emit_text(&b, ts, level, msg, ap);
	va_end(ap);
	if (b.data) {
		/* One write per line so concurrent writers never interleave mid-line. */
		fwrite(b.data, 1, b.len, out);
		fflush(out);
	}
	md_buf_free(&b);
}

/* Fuzz what obs writes from outside text: the first byte picks (byte % 8,
 * ASCII '0'..'2' are 0..2), the rest is the input.
 *
 *   0  a log entry: a level byte, then message and values separated by NUL
 *      bytes (keys are the callers' literal names). The text line reads
 *      back to the same values and is one line; the JSON line parses to
 *      them; the journal entry parses (native protocol) to the same bytes.
 *   1  the metrics page of a snapshot built from the input (registry rows
 *      from NUL-separated host, method, code triples): a valid exposition
 *      whose registry samples read back to the rows.
 *   2  an HTTP request "METHOD\0URL\0" + snapshot bytes: the status,
 *      content type and body the endpoint answers with.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magos/obs.h"
#include "../../internal/obs/obs_int.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const keys[] = { "image", "tag", "from", "to", "file", "error", "digest",
				    "stack", "branch", "reason", "url", "number", "service",
				    "host", "commit", "warning" };
#define NKEYS (sizeof(keys) / sizeof(keys[0]))
static const char *const levels[] = { "debug", "info", "warn", "error" };
#define TS "2024-05-01T12:00:00Z"

/* NUL-separated pieces of s[0..n) (the last one needs no NUL). */
static size_t split(const char *s, size_t n, const char **v, size_t max)
{
	size_t k = 0;
	const char *p = s, *end = s + n;

	while (k < max && p <= end) {
		const char *z = memchr(p, '\0', (size_t)(end - p));

		v[k++] = p;
		if (!z)
			break;
		p = z + 1;
	}
	return k;
}

static int valid_utf8(const char *s)
{
	json_t *j = json_string(s);

	json_decref(j);
	return j != NULL;
}

/* ---- 0: log lines ----------------------------------------------------- */

/* A text value at *p: plain up to a blank, or quoted with \" \\ \n \xNN;
 * NULL when it is malformed. */
static char *read_text_value(const char **p)
{
	struct md_buf b;
	const char *s = *p;

	md_buf_init(&b, 1 << 20);
	if (*s != '"') {
		size_t n = strcspn(s, " \n");

		if (n == 0 || md_buf_append(&b, s, n) < 0)
			goto bad;
		*p = s + n;
		return md_buf_steal(&b);
	}
	for (s++; *s != '"'; s++) {
		char c = *s;

		if (!c || c == '\n')
			goto bad;
		if (c == '\\') {
			s++;
			if (*s == 'n') {
				c = '\n';
			} else if (*s == 'x' && s[1] && s[2]) {
				char hex[3] = { s[1], s[2], 0 };

				c = (char)strtol(hex, NULL, 16);
				s += 2;
			} else if (*s == '"' || *s == '\\') {
				c = *s;
			} else {
				goto bad;
			}
		}
		if (md_buf_append(&b, &c, 1) < 0)
			goto bad;
	}
	*p = s + 1;
	if (!b.data)
		return md_strdup("");
	return md_buf_steal(&b);
bad:
	md_buf_clear(&b);
	return NULL;
}

static void check_text(const struct obs_entry *e)
{
	struct obs_entry head = *e;
	struct md_buf line, msg;
	const char *p;
	char want[64];

	head.n = 0;
	md_buf_init(&line, 1 << 22);
	md_buf_init(&msg, 1 << 22);
	md_obs__format_line(&line, MD_LOG_TEXT, TS, e);
	md_obs__format_message(&msg, &head);
	if (!line.data || !msg.data)
		goto out; /* OOM */
	/* one line: journalctl and log readers split on newlines */
	if (line.data[line.len - 1] != '\n' || memchr(line.data, '\n', line.len - 1))
		abort();
	snprintf(want, sizeof(want), "%s %-5s ", TS, levels[e->level]);
	if (strncmp(line.data, want, strlen(want)) != 0 ||
	    strncmp(line.data + strlen(want), msg.data, msg.len) != 0)
		abort();
	p = line.data + strlen(want) + msg.len;
	for (size_t i = 0; i < e->n; i++) {
		char *v;

		if (*p++ != ' ' || strncmp(p, e->kv[i].k, strlen(e->kv[i].k)) != 0)
			abort();
		p += strlen(e->kv[i].k);
		if (*p++ != '=' || !(v = read_text_value(&p)) || strcmp(v, e->kv[i].v) != 0)
			abort();
		free(v);
	}
	if (strcmp(p, "\n") != 0)
		abort();
out:
	md_buf_clear(&line);
	md_buf_clear(&msg);
}

static int same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static void check_json(const struct obs_entry *e)
{
	struct md_buf line;
	json_t *o;

	md_buf_init(&line, 1 << 22);
	md_obs__format_line(&line, MD_LOG_JSON, TS, e);
	if (!line.data)
		abort(); /* a line is always written */
	if (line.data[line.len - 1] != '\n' || memchr(line.data, '\n', line.len - 1) ||
	    !(o = json_loads(line.data, 0, NULL)))
		abort();
	if (!same(json_string_value(json_object_get(o, "ts")), TS) ||
	    !same(json_string_value(json_object_get(o, "level")), levels[e->level]) ||
	    !json_is_string(json_object_get(o, "msg")) ||
	    (valid_utf8(e->msg) && strcmp(json_string_value(json_object_get(o, "msg")), e->msg)))
		abort();
	/* nothing lost: every field is there, exactly when it was UTF-8 */
	for (size_t i = 0; i < e->n; i++) {
		const char *v = json_string_value(json_object_get(o, e->kv[i].k));

		if (!v || (valid_utf8(e->kv[i].v) && strcmp(v, e->kv[i].v) != 0))
			abort();
	}
	json_decref(o);
	md_buf_clear(&line);
}

/* The next field of a native journal entry at *p (end at end): its name
 * and value (value points into the entry, *vlen bytes). */
static int next_field(const char **p, const char *end, char *name, size_t namelen,
		      const char **value, size_t *vlen)
{
	const char *s = *p, *stop = s;
	uint64_t n = 0;

	while (stop < end && *stop != '=' && *stop != '\n')
		stop++;
	if (stop == end || stop == s || (size_t)(stop - s) >= namelen)
		return -1;
	memcpy(name, s, (size_t)(stop - s));
	name[stop - s] = '\0';
	if (*stop == '=') {
		const char *nl = memchr(stop + 1, '\n', (size_t)(end - stop - 1));

		if (!nl)
			return -1;
		*value = stop + 1;
		*vlen = (size_t)(nl - stop - 1);
		*p = nl + 1;
		return 0;
	}
	if (end - stop < 9)
		return -1;
	for (int i = 0; i < 8; i++)
		n |= (uint64_t)(unsigned char)stop[1 + i] << (8 * i);
	if (n > (uint64_t)(end - stop - 9) || stop[9 + n] != '\n')
		return -1;
	*value = stop + 9;
	*vlen = (size_t)n;
	*p = stop + 10 + n;
	return 0;
}

static void expect_field(const char **p, const char *end, const char *name, const char *value,
			 size_t len)
{
	char got[80];
	const char *v;
	size_t vlen;

	if (next_field(p, end, got, sizeof(got), &v, &vlen) < 0 || strcmp(got, name) != 0 ||
	    vlen != len || memcmp(v, value, len) != 0)
		abort();
	/* journald's rule: upper case, digits and '_', not starting with a digit */
	if (strspn(got, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(got) ||
	    (got[0] >= '0' && got[0] <= '9') || strlen(got) > 64)
		abort();
}

static void check_journal(const struct obs_entry *e)
{
	static const char prio[] = "7643";
	struct md_buf b, msg;
	const char *p, *end;
	char name[80];

	md_buf_init(&b, 256 * 1024);
	md_buf_init(&msg, 256 * 1024);
	md_obs__format_message(&msg, e);
	if (md_obs__journal_encode(&b, e) < 0 || !b.data || !msg.data)
		goto out; /* too big for an entry: the caller falls back to text */
	p = b.data;
	end = b.data + b.len;
	expect_field(&p, end, "PRIORITY", &prio[e->level], 1);
	expect_field(&p, end, "SYSLOG_IDENTIFIER", "magos-dominus", 13);
	expect_field(&p, end, "MESSAGE", msg.data, msg.len);
	for (size_t i = 0; i < e->n; i++) {
		if (md_journal_field_name(name, sizeof(name), e->kv[i].k) < 0)
			abort();
		expect_field(&p, end, name, e->kv[i].v, strlen(e->kv[i].v));
	}
	if (p != end)
		abort();
out:
	md_buf_clear(&b);
	md_buf_clear(&msg);
}

static void fuzz_log(const char *s, size_t n)
{
	const char *v[NKEYS + 1] = { "" };
	struct obs_entry e;
	size_t k;

	if (n < 1)
		return;
	memset(&e, 0, sizeof(e));
	e.level = (enum md_log_level)((unsigned char)s[0] % 4);
	k = split(s + 1, n - 1, v, NKEYS + 1);
	e.msg = v[0];
	for (size_t i = 1; i < k; i++)
		e.kv[e.n++] = (struct obs_kv){ keys[i - 1], v[i] };
	check_text(&e);
	check_json(&e);
	check_journal(&e);
}

/* ---- snapshots from bytes ----------------------------------------------- */

struct reader {
	const unsigned char *p;
	size_t n;
};

static uint64_t take(struct reader *r, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes && r->n; i++, r->p++, r->n--)
		v = v << 8 | *r->p;
	return v;
}

/* Counters, times and the last error from r; times within what the clock
 * gives (non-negative, < 2^44 ms) and the interval within MD_INTERVAL's
 * bounds (1 s .. 100 years). */
static void snapshot(struct md_obs_snapshot *s, struct reader *r)
{
	size_t elen;

	md_obs_snapshot_init(s, (int64_t)take(r, 4), (int64_t)(take(r, 5) >> 1),
			     1 + (int64_t)(take(r, 4) % (100LL * 365 * 86400)));
	for (int i = 0; i < MD_OBS_NRESULTS; i++)
		s->cycles[i] = take(r, 2);
	for (int i = 0; i < 3; i++)
		md_obs_observe_duration(s, (double)take(r, 2) / 100.0);
	s->sites = take(r, 1);
	s->updates[take(r, 1) % MD_OBS_NUPDATES] = take(r, 8);
	s->pushes_ok = take(r, 1);
	s->pushes_failed = take(r, 1);
	s->stacks[take(r, 1) % MD_OBS_NSTACKS] = take(r, 2);
	s->drift_repairs = take(r, 1);
	s->last_success = (int64_t)take(r, 8);
	s->last_success_mono_ms = (int64_t)(take(r, 5) >> 1);
	s->last_finish_mono_ms = (int64_t)(take(r, 5) >> 1);
	s->cycle = take(r, 2);
	s->last_result = (int)(take(r, 1) % 5) - 1;
	elen = (size_t)take(r, 1);
	if (elen > r->n)
		elen = r->n;
	if (elen >= sizeof(s->last_error))
		elen = sizeof(s->last_error) - 1;
	memcpy(s->last_error, r->p, elen);
	s->last_error[elen] = '\0';
	r->p += elen;
	r->n -= elen;
}

/* ---- 1: metrics ---------------------------------------------------------- */

static int metric_name(const char **p)
{
	const char *s = *p;

	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' || *s == ':'))
		return -1;
	while ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
	       *s == '_' || *s == ':')
		s++;
	*p = s;
	return 0;
}

/* One label value between quotes, unescaped into out. */
static int label_value(const char **p, char *out, size_t outlen)
{
	const char *s = *p;
	size_t n = 0;

	if (*s++ != '"')
		return -1;
	for (; *s != '"'; s++) {
		char c = *s;

		if (!c || c == '\n' || n + 1 >= outlen)
			return -1;
		if (c == '\\') {
			s++;
			if (*s == 'n')
				c = '\n';
			else if (*s == '\\' || *s == '"')
				c = *s;
			else
				return -1;
		}
		out[n++] = c;
	}
	out[n] = '\0';
	*p = s + 1;
	return 0;
}

/* The exposition is well formed; registry rows read back in order. */
static void check_exposition(const char *text, const struct md_obs_snapshot *s)
{
	char family[128] = "", seen[64][128];
	size_t nseen = 0, row = 0;
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n'), *q;
		char name[128];

		if (!nl)
			abort(); /* every line ends */
		if (!strncmp(p, "# HELP ", 7) || !strncmp(p, "# TYPE ", 7)) {
			int help = p[2] == 'H';

			q = p + 7;
			if (metric_name(&q) < 0 || *q != ' ' || (size_t)(q - p - 7) >= sizeof(name))
				abort();
			memcpy(name, p + 7, (size_t)(q - p - 7));
			name[q - p - 7] = '\0';
			if (help) {
				/* a family appears once: its lines together */
				for (size_t i = 0; i < nseen; i++)
					if (!strcmp(seen[i], name))
						abort();
				if (nseen < 64)
					strcpy(seen[nseen++], name);
				strcpy(family, name);
			} else if (strcmp(name, family) != 0 ||
				   (strncmp(q, " counter\n", 9) && strncmp(q, " gauge\n", 7) &&
				    strncmp(q, " histogram\n", 11))) {
				abort();
			}
		} else {
			int reg = !strncmp(p, "magos_registry_requests_total{", 30);
			char vals[3][128];
			size_t nl_ = 0;

			q = p;
			if (metric_name(&q) < 0 || strncmp(p, family, strlen(family)) != 0)
				abort();
			if (*q == '{') {
				q++;
				while (*q != '}') {
					if (metric_name(&q) < 0 || *q++ != '=' ||
					    label_value(&q, nl_ < 3 ? vals[nl_] : name,
							sizeof(name)) < 0)
						abort();
					nl_++;
					if (*q == ',')
						q++;
					else if (*q != '}')
						abort();
				}
				q++;
			}
			if (*q++ != ' ' || q == nl || strspn(q, "0123456789.e+-Inf") != (size_t)(nl - q))
				abort();
			if (reg) {
				const struct md_obs_reg_row *r = &s->reg[row++];
				char num[32];

				snprintf(num, sizeof(num), "%llu", (unsigned long long)r->n);
				if (row > s->nreg || nl_ != 3 || strcmp(vals[0], r->host) ||
				    strcmp(vals[1], r->method) || strcmp(vals[2], r->code) ||
				    strncmp(q, num, strlen(num)) || q[strlen(num)] != '\n')
					abort();
			}
		}
		p = nl + 1;
	}
	if (row != s->nreg)
		abort();
}

static void fuzz_metrics(const char *s, size_t n)
{
	struct md_obs_snapshot *snap = malloc(sizeof(*snap));
	struct reader r = { (const unsigned char *)s, n };
	const char *v[3 * MD_OBS_REG_ROWS + 4];
	struct md_buf b;
	size_t k, skip;

	if (!snap)
		return;
	snapshot(snap, &r);
	/* the rest: host\0method\0code\0... */
	skip = (size_t)((const char *)r.p - s);
	k = split((const char *)r.p, n - skip, v, sizeof(v) / sizeof(v[0]));
	for (size_t i = 0; i + 2 < k; i += 3)
		md_obs_reg_add(snap, v[i], v[i + 1], v[i + 2], (uint64_t)strlen(v[i]));
	if (snap->nreg > MD_OBS_REG_ROWS)
		abort();
	md_buf_init(&b, 256 * 1024);
	if (md_metrics_render(&b, snap, (int64_t)n - 1) == 0) {
		if (!b.data)
			abort();
		check_exposition(b.data, snap);
	}
	md_buf_clear(&b);
	free(snap);
}

/* ---- 2: the HTTP endpoint's answers ------------------------------------ */

static void fuzz_http(const char *s, size_t n)
{
	struct md_obs_snapshot *snap = malloc(sizeof(*snap));
	const char *v[3];
	struct md_obs__http_answer a;
	struct md_obs *o = NULL;
	struct md_err err;
	struct reader r;
	struct md_buf b;
	size_t k = split(s, n, v, 3);
	int known, get;

	if (!snap || k < 3 || md_obs_new(&o, &err) < 0) {
		free(snap);
		return;
	}
	r.p = (const unsigned char *)v[2];
	r.n = n - (size_t)(v[2] - s);
	snapshot(snap, &r);
	md_obs_publish(o, snap);
	known = !strcmp(v[1], "/metrics") || !strcmp(v[1], "/healthz");
	get = !strcmp(v[0], "GET") || !strcmp(v[0], "HEAD");
	md_buf_init(&b, 256 * 1024);
	memset(&a, 0, sizeof(a));
	if (md_obs__http_answer(o, v[0], v[1], snap->last_finish_mono_ms, &a, &b) == 0) {
		if (!a.type || !b.data || (a.allow != (known && !get)))
			abort();
		if (!known && a.code != 404)
			abort();
		if (known && !get && a.code != 405)
			abort();
		if (known && get && !strcmp(v[1], "/metrics")) {
			if (a.code != 200 || strncmp(a.type, "text/plain; version=0.0.4", 25))
				abort();
			check_exposition(b.data, snap);
		} else if (known && get) {
			json_t *j = json_loads(b.data, 0, NULL);
			const char *st = json_string_value(json_object_get(j, "status"));

			/* the body says what the status says, and why when unhealthy */
			if (!j || !st || (a.code == 200) != !strcmp(st, "ok") ||
			    (a.code != 200 && a.code != 503) ||
			    (a.code == 503 && !json_is_string(json_object_get(j, "reason"))))
				abort();
			json_decref(j);
		}
	}
	md_buf_clear(&b);
	md_obs_free(o);
	free(snap);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned sel;
	size_t n;
	char *s = fuzz_input(data, size, &sel, &n);

	if (!s)
		return 0;
	switch (sel % 8) {
	case 0: fuzz_log(s, n); break;
	case 1: fuzz_metrics(s, n); break;
	case 2: fuzz_http(s, n); break;
	default: fuzz_log(s, n); fuzz_metrics(s, n); break;
	}
	free(s);
	return 0;
}

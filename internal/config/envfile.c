/* EnvironmentFile parsing, the way systemd reads `EnvironmentFile=`: the
 * daemon usually runs under a unit that loads the same file into its
 * environment, and the environment overrides the file, so both readings
 * must agree or a value would silently change meaning.
 *
 * Where we differ on purpose we are stricter (an error rather than a guess):
 * a line without '=', an invalid key, text after a closing quote, a quote
 * left open at the end of the line, NUL bytes. Double-quoted values also
 * understand \n and \t so a multi-line template fits on one line. */
#include "magos/config.h"

#include <stdlib.h>
#include <string.h>

#define LINE_MAX_BYTES (64 * 1024)
#define KEY_MAX 128

struct envparser {
	const char *p, *end;
	const char *name;
	int line;
	struct md_err *err;
	struct md_buf val;
};

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int key_printable(const char *k, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)k[i] < 0x20 || k[i] == 0x7f)
			return 0;
	return 1;
}

static int is_key_char(char c, int first)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
	       (!first && c >= '0' && c <= '9');
}

/* End of a physical line: "\n", "\r\n", a final "\r", or the end of text. */
static int at_eol(const struct envparser *ps)
{
	const char *p = ps->p;

	return p == ps->end || *p == '\n' || (*p == '\r' && (p + 1 == ps->end || p[1] == '\n'));
}

static void skip_eol(struct envparser *ps)
{
	if (ps->p < ps->end && *ps->p == '\r')
		ps->p++;
	if (ps->p < ps->end && *ps->p == '\n') {
		ps->p++;
		ps->line++;
	}
}

static void skip_blanks(struct envparser *ps)
{
	while (ps->p < ps->end && is_blank(*ps->p))
		ps->p++;
}

static void skip_line(struct envparser *ps)
{
	while (!at_eol(ps))
		ps->p++;
	skip_eol(ps);
}

/* Reject what would confuse everything after: NULs (C strings end there)
 * and physical lines over the cap. */
static int check_lines(const char *name, const char *text, size_t len, struct md_err *err)
{
	size_t start = 0;
	int line = 1;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && text[i] == '\0')
			return md_err_set(err, "%s:%d: NUL byte in the file", name, line);
		if (i == len || text[i] == '\n') {
			if (i - start > LINE_MAX_BYTES)
				return md_err_set(err, "%s:%d: line longer than %d bytes", name,
						  line, LINE_MAX_BYTES);
			start = i + 1;
			line++;
		}
	}
	return 0;
}

static int value_fail(struct envparser *ps, int line, const char *key, const char *what)
{
	return md_err_set(ps->err, "%s:%d: %s: %s", ps->name, line, key, what);
}

static int append(struct envparser *ps, int line, const char *key, char c)
{
	if (md_buf_append(&ps->val, &c, 1) < 0)
		return md_err_set(ps->err, "%s:%d: %s: value longer than %d bytes", ps->name,
				  line, key, LINE_MAX_BYTES);
	return 0;
}

/* Unquoted: blanks around the value are trimmed (escaped ones are kept),
 * "\X" is X, and a '\' at the end of the line joins the next line. */
static int read_unquoted(struct envparser *ps, int line, const char *key)
{
	size_t keep = 0;

	while (!at_eol(ps)) {
		char c = *ps->p++;

		if (c == '\\') {
			if (ps->p == ps->end)
				break;
			if (at_eol(ps)) {
				skip_eol(ps);
				continue;
			}
			if (append(ps, line, key, *ps->p++) < 0)
				return -1;
			keep = ps->val.len;
			continue;
		}
		if (append(ps, line, key, c) < 0)
			return -1;
		if (!is_blank(c) && c != '\r')
			keep = ps->val.len;
	}
	ps->val.len = keep;
	if (ps->val.data)
		ps->val.data[keep] = '\0';
	return 0;
}

static char dq_escape(char c)
{
	switch (c) {
	case 'n':
		return '\n';
	case 't':
		return '\t';
	case '"':
	case '\\':
	case '$':
	case '`':
		return c;
	default:
		return 0; /* not an escape: keep the backslash */
	}
}

static int read_quoted(struct envparser *ps, int line, const char *key)
{
	char q = *ps->p++;

	for (;;) {
		char c;

		if (at_eol(ps))
			return value_fail(ps, line, key,
					  q == '"' ? "unterminated double-quoted value"
						   : "unterminated single-quoted value");
		c = *ps->p++;
		if (c == q)
			break;
		if (q == '"' && c == '\\' && !at_eol(ps)) {
			char e = dq_escape(*ps->p);

			if (e) {
				ps->p++;
				c = e;
			}
		}
		if (append(ps, line, key, c) < 0)
			return -1;
	}
	skip_blanks(ps);
	if (!at_eol(ps))
		return value_fail(ps, line, key, "unexpected text after the closing quote");
	return 0;
}

static int store(struct md_config_entries *out, const char *key, int line,
		 struct envparser *ps)
{
	char *value = md_buf_steal(&ps->val);
	struct md_config_entry *v;

	if (!value)
		goto oom;
	for (size_t i = 0; i < out->n; i++) {
		if (strcmp(out->v[i].key, key) == 0) {
			free(out->v[i].value);
			out->v[i].value = value;
			out->v[i].line = line;
			return 0;
		}
	}
	v = realloc(out->v, (out->n + 1) * sizeof(*v));
	if (!v)
		goto oom_value;
	out->v = v;
	v[out->n].key = md_strdup(key);
	v[out->n].value = value;
	v[out->n].line = line;
	if (!v[out->n].key)
		goto oom_value;
	out->n++;
	return 0;
oom_value:
	free(value);
oom:
	return md_err_set(ps->err, "%s:%d: out of memory", ps->name, line);
}

/* One KEY=VALUE assignment starting at the key; leaves ps at the next line. */
static int parse_assignment(struct envparser *ps, struct md_config_entries *out)
{
	const char *k, *kend;
	char key[KEY_MAX + 1];
	int line = ps->line;
	size_t klen;

	if ((size_t)(ps->end - ps->p) > 6 && memcmp(ps->p, "export", 6) == 0 &&
	    is_blank(ps->p[6])) {
		ps->p += 6;
		skip_blanks(ps);
	}
	k = ps->p;
	while (!at_eol(ps) && *ps->p != '=')
		ps->p++;
	if (at_eol(ps))
		return md_err_set(ps->err, "%s:%d: expected KEY=VALUE (no '=' on this line)",
				  ps->name, line);
	kend = ps->p++;
	while (kend > k && is_blank(kend[-1]))
		kend--;
	klen = (size_t)(kend - k);
	if (klen == 0)
		return md_err_set(ps->err, "%s:%d: missing key before '='", ps->name, line);
	if (klen > KEY_MAX)
		return md_err_set(ps->err, "%s:%d: key longer than %d characters", ps->name, line,
				  KEY_MAX);
	for (size_t i = 0; i < klen; i++) {
		if (is_key_char(k[i], i == 0))
			continue;
		if (!key_printable(k, klen))
			return md_err_set(ps->err, "%s:%d: invalid key (control characters before '=')",
					  ps->name, line);
		return md_err_set(ps->err,
				  "%s:%d: invalid key '%.*s' (a key is letters, digits and '_', "
				  "not starting with a digit)",
				  ps->name, line, (int)klen, k);
	}
	memcpy(key, k, klen);
	key[klen] = '\0';
	skip_blanks(ps);
	md_buf_reset(&ps->val);
	if (ps->p < ps->end && (*ps->p == '\'' || *ps->p == '"')) {
		if (read_quoted(ps, line, key) < 0)
			return -1;
	} else if (read_unquoted(ps, line, key) < 0) {
		return -1;
	}
	skip_eol(ps);
	return store(out, key, line, ps);
}

int md_config_parse_envfile(struct md_config_entries *out, const char *name,
			    const char *text, size_t len, struct md_err *err)
{
	struct envparser ps = { text, text + len, name, 1, err, { 0 } };

	out->v = NULL;
	out->n = 0;
	md_buf_init(&ps.val, LINE_MAX_BYTES);
	if (check_lines(name, text, len, err) < 0)
		return -1;
	while (ps.p < ps.end) {
		skip_blanks(&ps);
		if (at_eol(&ps)) {
			skip_eol(&ps);
			continue;
		}
		/* Only whole lines are comments: "#" inside a value is data. */
		if (*ps.p == '#' || *ps.p == ';') {
			skip_line(&ps);
			continue;
		}
		if (parse_assignment(&ps, out) < 0) {
			md_buf_clear(&ps.val);
			md_config_entries_clear(out);
			return -1;
		}
	}
	md_buf_clear(&ps.val);
	return 0;
}

void md_config_entries_clear(struct md_config_entries *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n; i++) {
		free(e->v[i].key);
		/* A value may be a secret (SOPS_AGE_KEY): a reload frees them. */
		if (e->v[i].value)
			md_free_secret(e->v[i].value, strlen(e->v[i].value));
	}
	free(e->v);
	e->v = NULL;
	e->n = 0;
}

/* Pure parsers for what registries send: WWW-Authenticate challenges, Link
 * headers, header lines, error and token bodies, tag lists. No I/O, no
 * global state: everything here is unit-tested and fuzzed directly. */
#include "registry_int.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- lexical helpers (RFC 9110 tokens, quoted strings) ---------------- */

static int is_tchar(int c)
{
	return c > 0 && (isalnum(c) || strchr("!#$%&'*+-.^_`|~", c));
}

static int is_token68(int c)
{
	return c > 0 && (isalnum(c) || strchr("-._~+/", c));
}

static const char *skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static const char *skip_ows_commas(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == ',')
		p++;
	return p;
}

static const char *scan_token(const char *p)
{
	while (is_tchar((unsigned char)*p))
		p++;
	return p;
}

/* Parse a token or quoted-string value at p. On success *out (if not NULL)
 * receives the unescaped value and the position after it is returned;
 * NULL on a syntax error, or on OOM with *oom set. */
static const char *scan_value(const char *p, char **out, int *oom)
{
	struct md_buf b;
	const char *end;

	md_buf_init(&b, MD_REG_MAX_HEADER);
	if (*p != '"') {
		/* Unquoted values should be tokens, but servers send bare URLs
		 * (realm=https://…): take everything up to a delimiter. */
		end = p + strcspn(p, ",; \t\"");
		if (end == p)
			return NULL;
		if (out && !(*out = md_strndup(p, (size_t)(end - p)))) {
			*oom = 1;
			return NULL;
		}
		return end;
	}
	for (p++; *p && *p != '"'; p++) {
		if (*p == '\\' && p[1])
			p++;
		if (md_buf_append(&b, p, 1) < 0)
			goto fail;
	}
	if (*p != '"')
		goto fail;
	if (out && !(*out = md_buf_steal(&b))) {
		*oom = 1;
		goto fail;
	}
	md_buf_clear(&b);
	return p + 1;
fail:
	md_buf_clear(&b);
	return NULL;
}

static int span_ieq(const char *p, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(p, word, n) == 0;
}

/* ---- WWW-Authenticate -------------------------------------------------- */

void md_registry__challenge_clear(struct md_reg_challenge *c)
{
	if (!c)
		return;
	free(c->realm);
	free(c->service);
	free(c->scope);
	free(c->error);
	memset(c, 0, sizeof(*c));
}

/* A token68 credential right after the scheme ("Negotiate abc==") ends at
 * the end of the header or a comma; return its end, or NULL if p is not one. */
static const char *scan_token68(const char *p)
{
	const char *q = p;

	while (is_token68((unsigned char)*q))
		q++;
	if (q == p)
		return NULL;
	while (*q == '=')
		q++;
	q = skip_ows(q);
	return (*q == '\0' || *q == ',') ? q : NULL;
}

static char **challenge_slot(struct md_reg_challenge *c, const char *k, size_t n)
{
	if (span_ieq(k, n, "realm"))
		return &c->realm;
	if (span_ieq(k, n, "service"))
		return &c->service;
	if (span_ieq(k, n, "scope"))
		return &c->scope;
	if (span_ieq(k, n, "error"))
		return &c->error;
	return NULL;
}

/* Parse the auth-params of one challenge starting at *pp into c (c may be
 * NULL to only skip them). Stops before the next scheme name. */
static int parse_params(const char **pp, struct md_reg_challenge *c)
{
	const char *p = skip_ows(*pp), *q;
	int oom = 0;

	if ((q = scan_token68(p))) {
		*pp = q;
		return 0;
	}
	for (;;) {
		const char *key, *kend;
		char **slot, *val = NULL;

		p = skip_ows_commas(p);
		key = p;
		kend = scan_token(p);
		if (kend == key)
			break;
		q = skip_ows(kend);
		if (*q != '=') /* a bare token: the next challenge's scheme */
			break;
		slot = c ? challenge_slot(c, key, (size_t)(kend - key)) : NULL;
		p = scan_value(skip_ows(q + 1), (slot && !*slot) ? &val : NULL, &oom);
		if (!p)
			return -1;
		if (val)
			*slot = val;
		/* Be lenient about a missing comma between parameters. */
		p = skip_ows(p);
		if (*p != ',' && *p != '\0' && !is_tchar((unsigned char)*p))
			return -1;
	}
	*pp = p;
	return *p == '\0' || is_tchar((unsigned char)*p) ? 0 : -1;
}

int md_registry__challenge_parse(struct md_reg_challenge *out, const char *header,
			   const char *what, struct md_err *err)
{
	struct md_reg_challenge basic = { 0 }, bearer = { 0 };
	const char *p = header ? header : "";

	memset(out, 0, sizeof(*out));
	for (p = skip_ows_commas(p); *p; p = skip_ows_commas(p)) {
		const char *end = scan_token(p);
		struct md_reg_challenge *c = NULL;

		if (end == p)
			goto syntax;
		if (span_ieq(p, (size_t)(end - p), "bearer") && !bearer.scheme)
			c = &bearer, c->scheme = MD_REG_SCHEME_BEARER;
		else if (span_ieq(p, (size_t)(end - p), "basic") && !basic.scheme)
			c = &basic, c->scheme = MD_REG_SCHEME_BASIC;
		p = end;
		if (parse_params(&p, c) < 0)
			goto syntax;
	}
	if (bearer.scheme) {
		md_registry__challenge_clear(&basic);
		if (!bearer.realm || !*bearer.realm) {
			md_registry__challenge_clear(&bearer);
			return md_err_set(err, "Bearer challenge from %s has no realm", what);
		}
		*out = bearer;
		return 0;
	}
	if (basic.scheme) {
		*out = basic;
		return 0;
	}
	return md_err_set(err, "%s asks for authentication but offers neither Bearer nor Basic",
			  what);
syntax:
	md_registry__challenge_clear(&basic);
	md_registry__challenge_clear(&bearer);
	return md_err_set(err, "%s sent a malformed WWW-Authenticate header", what);
}

/* ---- Link ---------------------------------------------------------------- */

static int rel_has_next(const char *v)
{
	while (*v) {
		size_t n;

		while (*v == ' ' || *v == '\t')
			v++;
		n = strcspn(v, " \t");
		if (span_ieq(v, n, "next"))
			return 1;
		v += n;
	}
	return 0;
}

/* Parse ";param" list after a link target; *is_next set when rel has
 * "next". Returns the position after the params, NULL on bad syntax. */
static const char *link_params(const char *p, int *is_next, int *oom)
{
	for (;;) {
		const char *key, *kend;
		char *val = NULL;

		p = skip_ows(p);
		if (*p != ';')
			return p;
		key = skip_ows(p + 1);
		kend = scan_token(key);
		if (kend == key)
			return NULL;
		p = skip_ows(kend);
		if (*p != '=')
			continue; /* valueless parameter */
		p = scan_value(skip_ows(p + 1),
			       span_ieq(key, (size_t)(kend - key), "rel") ? &val : NULL, oom);
		if (!p)
			return NULL;
		if (val && rel_has_next(val))
			*is_next = 1;
		free(val);
	}
}

int md_registry__link_next(const char *header, char **out)
{
	const char *p = header ? header : "";

	*out = NULL;
	for (p = skip_ows_commas(p); *p == '<'; p = skip_ows_commas(p)) {
		const char *target = p + 1, *end = strchr(target, '>');
		int is_next = 0, oom = 0;

		if (!end)
			return 0;
		p = link_params(end + 1, &is_next, &oom);
		if (!p)
			return oom ? -1 : 0;
		if (is_next) {
			*out = md_strndup(target, (size_t)(end - target));
			return *out ? 0 : -1;
		}
		if (*p != ',' && *p != '\0')
			return 0;
	}
	return 0;
}

/* ---- header lines ------------------------------------------------------ */

int md_registry__header_split(const char *line, size_t len, char *name, size_t name_size,
			const char **value, size_t *value_len)
{
	size_t i = 0, start, end;

	while (i < len && is_tchar((unsigned char)line[i]))
		i++;
	if (i == 0 || i >= len || line[i] != ':' || i >= name_size)
		return -1;
	for (size_t k = 0; k < i; k++)
		name[k] = (char)tolower((unsigned char)line[k]);
	name[i] = '\0';
	start = i + 1;
	while (start < len && (line[start] == ' ' || line[start] == '\t'))
		start++;
	end = len;
	while (end > start && strchr(" \t\r\n", line[end - 1]) && line[end - 1])
		end--;
	*value = line + start;
	*value_len = end - start;
	return 0;
}

char *md_registry__media_type(const char *ct)
{
	size_t n;
	char *s;

	if (!ct)
		return NULL;
	ct = skip_ows(ct);
	n = strcspn(ct, ";");
	while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	if (n == 0 || !(s = md_strndup(ct, n)))
		return NULL;
	for (char *c = s; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return s;
}

/* ---- bodies -------------------------------------------------------------- */

/* Copy at most max bytes of untrusted text, replacing control bytes so an
 * error sentence stays one line. */
static void append_clean(struct md_buf *b, const char *s, size_t max)
{
	for (size_t i = 0; s[i] && i < max; i++) {
		char c = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? ' ' : s[i];

		md_buf_append(b, &c, 1);
	}
}

char *md_registry__error_summary(const char *body, size_t len)
{
	json_t *root, *first, *code, *msg;
	struct md_buf b;
	char *out = NULL;

	if (!body || len == 0)
		return NULL;
	root = json_loadb(body, len, 0, NULL);
	first = json_array_get(json_object_get(root, "errors"), 0);
	code = json_object_get(first, "code");
	msg = json_object_get(first, "message");
	if (!json_is_string(code) && !json_is_string(msg))
		goto out;
	md_buf_init(&b, 512);
	if (json_is_string(code))
		append_clean(&b, json_string_value(code), 64);
	if (json_is_string(code) && json_is_string(msg) && *json_string_value(msg))
		md_buf_puts(&b, ": ");
	if (json_is_string(msg))
		append_clean(&b, json_string_value(msg), 300);
	out = b.len ? md_buf_steal(&b) : NULL;
	md_buf_clear(&b);
out:
	json_decref(root);
	return out;
}

/* A token goes into a header line: printable ASCII only, no blanks. */
static int token_is_clean(const char *t)
{
	if (!*t)
		return 0;
	for (; *t; t++)
		if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f)
			return 0;
	return 1;
}

static int64_t token_expiry(json_t *root, int64_t now)
{
	json_t *ein = json_object_get(root, "expires_in");
	json_t *iat = json_object_get(root, "issued_at");
	int64_t lifetime = 60, issued;

	/* Servers must not issue tokens shorter than 60 s; treat less as 60. */
	if (json_is_integer(ein) && json_integer_value(ein) > 60)
		lifetime = json_integer_value(ein);
	else if (json_is_real(ein) && json_real_value(ein) > 60 && json_real_value(ein) < 1e9)
		lifetime = (int64_t)json_real_value(ein);
	if (lifetime > 365 * 86400)
		lifetime = 365 * 86400;
	/* issued_at is only trusted when our clock agrees it is in the past and
	 * the token is not already stale by it; otherwise count from receipt. */
	if (json_is_string(iat) &&
	    md_time_parse_rfc3339(json_string_value(iat), &issued, NULL) == 0 &&
	    issued <= now && issued + lifetime - MD_REG_TOKEN_MARGIN > now)
		return issued + lifetime;
	return now + lifetime;
}

int md_registry__token_parse(const char *body, size_t len, int64_t now, const char *url,
		       char **token, int64_t *expires_at, struct md_err *err)
{
	json_t *root, *tok;
	int rc = -1;

	*token = NULL;
	root = json_loadb(body ? body : "", len, 0, NULL);
	if (!json_is_object(root)) {
		md_err_set(err, "token service %s did not answer with a JSON object", url);
		goto out;
	}
	tok = json_object_get(root, "token");
	if (!json_is_string(tok) || !*json_string_value(tok))
		tok = json_object_get(root, "access_token");
	if (!json_is_string(tok) || !*json_string_value(tok)) {
		md_err_set(err, "token service %s answered without a token", url);
		goto out;
	}
	if (!token_is_clean(json_string_value(tok))) {
		md_err_set(err, "token service %s answered with a token containing invalid characters",
			   url);
		goto out;
	}
	if (!(*token = md_strdup(json_string_value(tok)))) {
		md_err_set(err, "out of memory reading the token from %s", url);
		goto out;
	}
	*expires_at = token_expiry(root, now);
	rc = 0;
out:
	json_decref(root);
	return rc;
}

int md_registry__tags_parse(const char *body, size_t len, const char *url, struct md_strv *out,
		      size_t max_total, struct md_err *err)
{
	json_error_t jerr;
	json_t *root, *tags, *name, *v;
	size_t i;
	int rc = -1;

	root = json_loadb(body ? body : "", len, 0, &jerr);
	if (!root)
		return md_err_set(err, "tag list from %s is not valid JSON: %s (line %d)", url,
				  jerr.text, jerr.line);
	name = json_object_get(root, "name");
	tags = json_object_get(root, "tags");
	if (!json_is_object(root) || (name && !json_is_string(name)) ||
	    (tags && !json_is_array(tags) && !json_is_null(tags))) {
		md_err_set(err, "tag list from %s is not an object {\"name\": string, \"tags\": [...]}",
			   url);
		goto out;
	}
	json_array_foreach(tags, i, v) {
		if (!json_is_string(v)) {
			md_err_set(err, "tag list from %s has a non-string entry at index %zu", url, i);
			goto out;
		}
		if (!md_ref_valid_tag(json_string_value(v)))
			continue;
		if (out->n >= max_total) {
			md_err_set(err, "repository lists more than %zu tags (at %s)", max_total, url);
			goto out;
		}
		if (md_strv_push(out, json_string_value(v)) < 0) {
			md_err_set(err, "out of memory reading the tag list from %s", url);
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

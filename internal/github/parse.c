/* github — parsers of what GitHub answers: the token, pull requests, Link
 * pagination and error bodies. Everything here is fed untrusted bytes (and
 * fuzzed), so every field is type-checked and bounded. */
#include "github_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int md_github__parse_token(const char *body, size_t len, char **token, int64_t *expires_at,
		      struct md_err *err)
{
	json_t *j = json_loadb(body, len, 0, NULL);
	const char *t, *exp;
	size_t n;
	int rc = -1;

	*token = NULL;
	*expires_at = 0;
	if (!json_is_object(j)) {
		md_err_set(err, "GitHub's installation token answer is not a JSON object");
		goto out;
	}
	t = json_string_value(json_object_get(j, "token"));
	exp = json_string_value(json_object_get(j, "expires_at"));
	if (!t || !exp) {
		md_err_set(err, "GitHub's installation token answer lacks \"token\" or \"expires_at\"");
		goto out;
	}
	n = strlen(t);
	if (n == 0 || n > MD_GH_TOKEN_MAX || n != json_string_length(json_object_get(j, "token"))) {
		md_err_set(err, "GitHub's installation token has an unusable length");
		goto out;
	}
	/* It becomes an HTTP header: nothing that could split or bend it. */
	for (size_t i = 0; i < n; i++)
		if (t[i] <= ' ' || t[i] > '~') {
			md_err_set(err, "GitHub's installation token contains characters not allowed "
					"in a header");
			goto out;
		}
	if (md_time_parse_rfc3339(exp, expires_at, NULL) < 0) {
		md_err_set(err, "GitHub's installation token has an unreadable expires_at");
		goto out;
	}
	*token = md_strdup(t);
	if (!*token) {
		md_err_set(err, "out of memory keeping the installation token");
		goto out;
	}
	rc = 0;
out:
	/* The parsed tree holds the token too: wipe it before it is freed. */
	if (json_is_object(j) && json_is_string(json_object_get(j, "token"))) {
		json_t *s = json_object_get(j, "token");

		md_memzero((char *)(uintptr_t)json_string_value(s), json_string_length(s));
	}
	json_decref(j);
	return rc;
}

/* ---- pull requests ------------------------------------------------------------------ */

static int dup_field(char **dst, json_t *v, int optional)
{
	const char *s = json_string_value(v);

	if (!s) {
		if (!optional)
			return -1;
		s = ""; /* GitHub sends "body": null for an empty description */
	}
	*dst = md_strdup(s);
	return *dst ? 0 : -1;
}

void md_github_pr_clear(struct md_github_pr *pr)
{
	if (!pr)
		return;
	free(pr->head);
	free(pr->base);
	free(pr->title);
	free(pr->body);
	free(pr->html_url);
	free(pr->head_sha);
	memset(pr, 0, sizeof(*pr));
}

int md_github__parse_pr(json_t *o, struct md_github_pr *pr, struct md_err *err)
{
	json_t *head = json_object_get(o, "head"), *base = json_object_get(o, "base");
	json_t *num = json_object_get(o, "number");

	memset(pr, 0, sizeof(*pr));
	if (!json_is_integer(num) || json_integer_value(num) <= 0 ||
	    json_integer_value(num) > 1000000000) {
		return md_err_set(err, "a pull request in GitHub's answer has no valid \"number\"");
	}
	pr->number = (long)json_integer_value(num);
	if (dup_field(&pr->head, json_object_get(head, "ref"), 0) < 0 ||
	    dup_field(&pr->base, json_object_get(base, "ref"), 0) < 0 ||
	    dup_field(&pr->title, json_object_get(o, "title"), 1) < 0 ||
	    dup_field(&pr->body, json_object_get(o, "body"), 1) < 0 ||
	    dup_field(&pr->html_url, json_object_get(o, "html_url"), 1) < 0 ||
	    dup_field(&pr->head_sha, json_object_get(head, "sha"), 1) < 0) {
		md_github_pr_clear(pr);
		return md_err_set(err, "pull request #%ld in GitHub's answer lacks head.ref or "
				       "base.ref",
				  (long)json_integer_value(num));
	}
	return 0;
}

void md_github__prv_free(struct md_gh_prv *pv)
{
	for (size_t i = 0; i < pv->n; i++)
		md_github_pr_clear(&pv->v[i]);
	free(pv->v);
	memset(pv, 0, sizeof(*pv));
}

static int prv_push(struct md_gh_prv *pv, struct md_github_pr *pr)
{
	if (pv->n == pv->cap) {
		size_t cap = pv->cap ? pv->cap * 2 : 8;
		struct md_github_pr *v = realloc(pv->v, cap * sizeof(*v));

		if (!v)
			return -1;
		pv->v = v;
		pv->cap = cap;
	}
	pv->v[pv->n++] = *pr;
	return 0;
}

static int pr_wanted(json_t *o, const char *full_name, const char *prefix)
{
	json_t *head = json_object_get(o, "head");
	const char *ref = json_string_value(json_object_get(head, "ref"));
	const char *fn = json_string_value(json_object_get(json_object_get(head, "repo"),
							   "full_name"));

	/* head.repo is null when the fork was deleted: never ours. */
	if (full_name && (!fn || strcasecmp(fn, full_name) != 0))
		return 0;
	if (prefix && (!ref || !md_str_has_prefix(ref, prefix)))
		return 0;
	return 1;
}

int md_github__parse_pr_list(const char *body, size_t len, const char *full_name,
			const char *prefix, struct md_gh_prv *pv, const char *what,
			struct md_err *err)
{
	json_t *j = json_loadb(body, len, 0, NULL), *o;
	struct md_github_pr pr;
	size_t i;
	int rc = -1;

	if (!json_is_array(j)) {
		md_err_set(err, "GitHub's answer to %s is not a JSON array", what);
		goto out;
	}
	json_array_foreach(j, i, o) {
		if (!json_is_object(o) || !pr_wanted(o, full_name, prefix))
			continue;
		if (md_github__parse_pr(o, &pr, err) < 0) {
			md_err_prefix(err, "%s", what);
			goto out;
		}
		if (prv_push(pv, &pr) < 0) {
			md_github_pr_clear(&pr);
			md_err_set(err, "out of memory listing pull requests from %s", what);
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(j);
	return rc;
}

/* ---- Link: <url>; rel="next", <url>; rel="last" --------------------------------------- */

static int has_rel_next(const char *p, const char *end)
{
	while (p < end) {
		const char *q;

		while (p < end && (*p == ';' || *p == ' ' || *p == '\t'))
			p++;
		if ((size_t)(end - p) >= 4 && strncasecmp(p, "rel=", 4) == 0) {
			p += 4;
			if (p < end && *p == '"')
				p++;
			/* rel may hold several space-separated relation types. */
			for (;;) {
				q = p;
				while (q < end && *q != ' ' && *q != '"' && *q != ';')
					q++;
				if (q - p == 4 && strncasecmp(p, "next", 4) == 0)
					return 1;
				if (q >= end || *q != ' ')
					break;
				p = q + 1;
			}
		}
		while (p < end && *p != ';')
			p++;
	}
	return 0;
}

int md_github__link_next(const char *link, char **out)
{
	const char *p = link;

	*out = NULL;
	while ((p = strchr(p, '<'))) {
		const char *close = strchr(p, '>'), *end;

		if (!close)
			return 0;
		end = close + 1;
		/* Parameters run to the next link; commas inside quotes are rare
		 * enough in GitHub's Link that a plain scan is fine. */
		while (*end && *end != ',' && *end != '<')
			end++;
		if (has_rel_next(close + 1, end)) {
			*out = md_strndup(p + 1, (size_t)(close - p - 1));
			return *out ? 0 : -1;
		}
		p = end;
	}
	return 0;
}

/* ---- error bodies ------------------------------------------------------------------ */

static void append_clean(char *out, size_t outlen, const char *s)
{
	size_t n = strlen(out);

	for (; *s && n + 1 < outlen; s++)
		out[n++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? ' ' : *s;
	out[n] = '\0';
}

void md_github__error_text(const char *body, size_t len, char *out, size_t outlen)
{
	json_t *j, *e0;
	const char *m, *em;

	if (!outlen)
		return;
	out[0] = '\0';
	j = body ? json_loadb(body, len, 0, NULL) : NULL;
	if (!json_is_object(j)) {
		json_decref(j);
		return;
	}
	m = json_string_value(json_object_get(j, "message"));
	e0 = json_array_get(json_object_get(j, "errors"), 0);
	em = json_is_string(e0) ? json_string_value(e0)
				: json_string_value(json_object_get(e0, "message"));
	if (!em)
		em = json_string_value(json_object_get(e0, "code"));
	if (m)
		append_clean(out, outlen, m);
	if (m && em)
		append_clean(out, outlen, ": ");
	if (em)
		append_clean(out, outlen, em);
	json_decref(j);
}

/* ---- the App's slug --------------------------------------------------------------- */

/* GitHub makes an App's slug from its name: lowercase letters, digits and
 * '-'. It becomes the bot's commit author ("<slug>[bot]"), its email and a
 * URL path, so anything else (a newline, '<', '@', ' ') is refused rather
 * than written into a commit. Upper case and '_' are let through: they
 * are harmless in both places. */
int md_github__valid_slug(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 100)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return 0;
	return 1;
}

/* Fuzz the registry module's parsers of untrusted input: the first byte
 * picks the parser (byte % 16; the seeds use ASCII '0'..'=' for 0..13),
 * the rest is its input (NUL-terminated copy). Besides "no crash", each
 * branch checks what the parser promises about its outputs. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "magos/registry.h"
#include "../../internal/registry/registry_int.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_challenge(const char *s)
{
	struct md_reg_challenge c;
	struct md_err err;

	if (md_registry__challenge_parse(&c, s, "fuzz", &err) == 0)
		md_registry__challenge_clear(&c);
}

static void fuzz_link(const char *s, size_t n)
{
	char *out = NULL, *abs = NULL;
	struct md_err err;

	if (md_registry__link_next(s, &out) == 0 && out &&
	    md_registry__url_resolve("https://r.example/v2/a/tags/list?n=10", out, &abs, &err) == 0)
		free(abs);
	free(out);
	(void)n;
}

static void fuzz_header(const char *s, size_t n)
{
	char name[32], *mt;
	const char *v;
	size_t vlen;

	if (md_registry__header_split(s, n, name, sizeof(name), &v, &vlen) == 0 && v + vlen > s + n)
		abort();
	mt = md_registry__media_type(s);
	free(mt);
}

static void fuzz_bodies(const char *s, size_t n)
{
	struct md_strv tags = { 0 };
	struct md_err err;
	int64_t exp;
	char *tok = NULL, *sum;

	sum = md_registry__error_summary(s, n);
	free(sum);
	if (md_registry__token_parse(s, n, 1700000000, "fuzz", &tok, &exp, &err) == 0 && exp < 1700000000)
		abort();
	free(tok);
	md_registry__tags_parse(s, n, "fuzz", &tags, 1000, &err);
	for (size_t i = 0; i < tags.n; i++)
		if (!md_ref_valid_tag(tags.v[i]))
			abort();
	md_strv_clear(&tags);
}

/* "domain\npath\njson" */
static void fuzz_auth(const char *s, size_t n)
{
	const char *nl1 = memchr(s, '\n', n), *nl2;
	char *domain, *path, *user = NULL, *pass = NULL;
	struct md_err err;

	if (!nl1 || !(nl2 = memchr(nl1 + 1, '\n', n - (size_t)(nl1 + 1 - s))))
		return;
	domain = md_strndup(s, (size_t)(nl1 - s));
	path = md_strndup(nl1 + 1, (size_t)(nl2 - nl1 - 1));
	if (domain && path &&
	    md_registry__auth_lookup(nl2 + 1, n - (size_t)(nl2 + 1 - s), "fuzz", domain, path, &user,
			       &pass, &err) == 1 && (!user || !pass))
		abort();
	md_registry__secret_free(user);
	md_registry__secret_free(pass);
	free(domain);
	free(path);
}

static void fuzz_base64(const char *s)
{
	unsigned char *out = NULL;
	size_t len;
	char *back;

	if (md_registry__base64_decode(s, &out, &len) < 0)
		return;
	back = md_registry__base64_encode(out, len);
	if (!back || strcmp(back, s) != 0) {
		/* only canonical encodings round trip; non-zero spare bits may differ */
		unsigned char *again = NULL;
		size_t len2;

		if (!back || md_registry__base64_decode(back, &again, &len2) < 0 || len2 != len ||
		    memcmp(again, out, len) != 0)
			abort();
		free(again);
	}
	free(back);
	free(out);
}

static void fuzz_names(const char *s)
{
	char *u = md_registry__urlencode(s), *t;
	struct md_err err;

	md_registry__check_names(s, "a", s, &err);
	md_registry__check_names("ghcr.io", s, NULL, &err);
	t = md_registry__token_url("https://auth.example/token", s, s);
	free(u);
	free(t);
	if (md_ref_valid_domain(s)) {
		char *b = md_registry__base_url(s, NULL);

		free(b);
	}
}

/* Cut the first line off (*s, *n): a NUL-terminated copy of it, or NULL
 * when no newline is left (then *s and *n are unchanged). */
static char *cut_line(const char **s, size_t *n)
{
	const char *nl = memchr(*s, '\n', *n);
	char *line;

	if (!nl)
		return NULL;
	line = md_strndup(*s, (size_t)(nl - *s));
	*n -= (size_t)(nl + 1 - *s);
	*s = nl + 1;
	return line;
}

/* "os/arch[/variant]", each part non-empty and from OCI's alphabet. */
static void check_platform(const char *p)
{
	size_t parts = 1, len = 0;

	for (; *p; p++) {
		if (*p == '/') {
			if (len == 0)
				abort();
			parts++;
			len = 0;
		} else if (isalnum((unsigned char)*p) || *p == '.' || *p == '_' || *p == '-') {
			len++;
		} else {
			abort();
		}
	}
	if (len == 0 || parts < 2 || parts > 3)
		abort();
}

/* "content-type\nbody", or a body alone (no Content-Type at all). */
static void fuzz_manifest(const char *s, size_t n)
{
	struct md_reg_manifest m;
	struct md_err err;
	char *ct = cut_line(&s, &n);

	err.msg[0] = '\0';
	if (md_registry__manifest_parse(&m, s, n, ct, "fuzz", &err) < 0) {
		/* a failed parse leaves nothing behind and says why */
		if (m.kind || m.platforms.n || m.first || m.config || !err.msg[0])
			abort();
		free(ct);
		return;
	}
	if (m.created < 0 || m.first_created < 0)
		abort();
	if (m.kind == MD_REG_INDEX) {
		if (m.config || m.platforms.n > MD_REG_MAX_PLATFORMS ||
		    (m.first && !md_ref_valid_digest(m.first)))
			abort();
		for (size_t i = 0; i < m.platforms.n; i++) {
			check_platform(m.platforms.v[i]);
			for (size_t j = 0; j < i; j++) /* distinct */
				if (strcmp(m.platforms.v[i], m.platforms.v[j]) == 0)
					abort();
		}
	} else if (m.kind == MD_REG_IMAGE) {
		if (m.platforms.n || m.first || (m.config && !md_ref_valid_digest(m.config)))
			abort();
	} else {
		abort();
	}
	md_registry__manifest_clear(&m);
	free(ct);
}

static void fuzz_config(const char *s, size_t n)
{
	struct md_err err;
	char *plat = NULL;
	int64_t created = -1;

	if (md_registry__config_parse(s, n, "fuzz", &plat, &created, &err) < 0) {
		if (plat || created != 0)
			abort();
		return;
	}
	if (created < 0)
		abort();
	if (plat)
		check_platform(plat);
	free(plat);
}

/* The refresh-token form never lets a value add parameters of its own. */
static void check_refresh_form(const char *secret)
{
	static const char head[] = "grant_type=refresh_token&refresh_token=";
	static const char tail[] = "&client_id=magos-dominus";
	char *f = md_registry__refresh_form(secret, secret, secret);
	size_t len, amps = 0;

	if (!f)
		return; /* OOM */
	len = strlen(f);
	if (strncmp(f, head, sizeof(head) - 1) != 0 || len < sizeof(tail) - 1 ||
	    strcmp(f + len - (sizeof(tail) - 1), tail) != 0)
		abort();
	for (const char *p = f; *p; p++) {
		if (*p == '&')
			amps++;
		else if (!isalnum((unsigned char)*p) && !strchr("-._~%=", *p))
			abort();
	}
	if (amps != 4) /* refresh_token, service, scope, client_id */
		abort();
	md_registry__secret_free(f);
}

/* A credential helper's `get` answer. */
static void fuzz_credhelper(const char *s, size_t n)
{
	struct md_reg_cred c;
	struct md_err err;

	if (md_registry__credhelper_parse(s, n, "fuzz", &c, &err) < 0) {
		if (c.user || c.secret || c.helper || c.identity)
			abort();
		return;
	}
	if (!c.secret || !*c.secret || c.helper || (c.identity ? c.user != NULL : c.user == NULL))
		abort();
	check_refresh_form(c.secret);
	md_registry__cred_clear(&c);
}

/* "legacy\ndomain\npath\njson": a non-empty first line reads the document
 * as a ~/.dockercfg. */
static void fuzz_auth_find(const char *s, size_t n)
{
	char *legacy = cut_line(&s, &n), *domain = cut_line(&s, &n), *path = cut_line(&s, &n);
	struct md_reg_cred c;
	struct md_err err;
	int rc;

	if (!legacy || !domain || !path)
		goto out;
	rc = md_registry__auth_find(s, n, "fuzz", *legacy != '\0', domain, path, &c, &err);
	if (rc < 1) {
		if (rc < -1 || c.user || c.secret || c.helper || c.identity)
			abort();
		goto out;
	}
	if (rc != 1)
		abort();
	if (c.helper) {
		/* becomes part of a program name run from PATH */
		if (c.user || c.secret || !*c.helper || strlen(c.helper) > 64 ||
		    strspn(c.helper, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "0123456789-_.") != strlen(c.helper))
			abort();
	} else if (!c.secret || (c.identity ? !*c.secret : !c.user)) {
		abort();
	}
	md_registry__cred_clear(&c);
out:
	free(legacy);
	free(domain);
	free(path);
}

/* The candidate auth files from up to six environment values, one a line
 * ("-" for unset), and a uid from the rest. */
static void fuzz_auth_files(const char *s, size_t n)
{
	struct md_registry_auth_env env = { 0 };
	const char **slot[] = { &env.md_registry_auth_file, &env.registry_auth_file,
				&env.xdg_runtime_dir, &env.xdg_config_home, &env.home,
				&env.docker_config };
	char *vals[6] = { 0 };
	struct md_strv out = { 0 };
	struct md_err err;
	const char *explicit_file;

	for (size_t i = 0; i < 6; i++) {
		vals[i] = cut_line(&s, &n);
		*slot[i] = vals[i] && strcmp(vals[i], "-") != 0 ? vals[i] : NULL;
	}
	env.uid = (uid_t)strtoul(s, NULL, 10);
	if (md_registry_auth_files(&out, &env, &err) == 0) {
		explicit_file = env.md_registry_auth_file && *env.md_registry_auth_file
					? env.md_registry_auth_file
					: env.registry_auth_file;
		if (explicit_file && *explicit_file) {
			if (out.n != 1 || strcmp(out.v[0], explicit_file) != 0)
				abort();
		} else if (out.n < 1 || out.n > 4) {
			abort();
		}
		for (size_t i = 0; i < out.n; i++)
			if (!*out.v[i])
				abort();
	}
	md_strv_clear(&out);
	for (size_t i = 0; i < 6; i++)
		free(vals[i]);
}

/* Transport headers and URLs: Retry-After, RateLimit-*, host keys,
 * origins, the backoff schedule and status classes. */
static void fuzz_transport(const char *s, size_t n)
{
	int64_t ms = md_registry__retry_after_ms(s, 1700000000), lim, win, d;
	uint64_t rnd = 0;
	char host[64], *origin;
	const char *cls;

	if (ms != -1 && (ms < 0 || ms > MD_REG_RETRY_AFTER_MAX * 1000 || ms % 1000 != 0))
		abort();
	if (md_registry__ratelimit_parse(s, &lim, &win) == 0) {
		if (lim < 0 || lim > 1000000000 || win < 0 || win >= 10000000000)
			abort();
	} else if (lim != 0 || win != 0) {
		abort();
	}
	if (md_registry__url_host(s, host, sizeof(host)) == 0) {
		size_t len = strlen(host);

		if (len == 0 || len >= sizeof(host) || strpbrk(host, "@/?#"))
			abort();
		for (size_t i = 0; i < len; i++)
			if (isupper((unsigned char)host[i]))
				abort();
	}
	origin = md_registry__url_origin(s);
	if (origin && !strstr(origin, "://"))
		abort();
	free(origin);
	for (size_t i = 0; i < n && i < 8; i++)
		rnd = rnd << 8 | (unsigned char)s[i];
	d = md_registry__backoff_ms(n ? (signed char)s[0] : 0, rnd);
	if (d < MD_REG_RETRY_BASE_MS / 2 || d > MD_REG_RETRY_MAX_DELAY_MS)
		abort();
	cls = md_registry__status_class(strtol(s, NULL, 10));
	if (!cls || (strcmp(cls, "error") != 0 && (strlen(cls) != 3 || strcmp(cls + 1, "xx") != 0)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned sel;
	size_t n;
	char *s = fuzz_input(data, size, &sel, &n);

	if (!s)
		return 0;
	switch (sel % 16) {
	case 0: fuzz_challenge(s); break;
	case 1: fuzz_link(s, n); break;
	case 2: fuzz_header(s, n); break;
	case 3: fuzz_bodies(s, n); break;
	case 4: fuzz_auth(s, n); break;
	case 5: fuzz_base64(s); break;
	case 6: fuzz_names(s); break;
	case 8: fuzz_manifest(s, n); break;
	case 9: fuzz_config(s, n); break;
	case 10: fuzz_credhelper(s, n); break;
	case 11: fuzz_auth_find(s, n); break;
	case 12: fuzz_auth_files(s, n); break;
	case 13: fuzz_transport(s, n); break;
	default: fuzz_challenge(s); fuzz_link(s, strlen(s)); break;
	}
	free(s);
	return 0;
}

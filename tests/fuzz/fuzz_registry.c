/* Fuzz the registry module's parsers of untrusted input: the first byte
 * picks the parser, the rest is its input (NUL-terminated copy). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "magos/registry.h"
#include "../../internal/registry/registry_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_challenge(const char *s)
{
	struct md_reg_challenge c;
	struct md_err err;

	if (md_reg_challenge_parse(&c, s, "fuzz", &err) == 0)
		md_reg_challenge_clear(&c);
}

static void fuzz_link(const char *s, size_t n)
{
	char *out = NULL, *abs = NULL;
	struct md_err err;

	if (md_reg_link_next(s, &out) == 0 && out &&
	    md_reg_url_resolve("https://r.example/v2/a/tags/list?n=10", out, &abs, &err) == 0)
		free(abs);
	free(out);
	(void)n;
}

static void fuzz_header(const char *s, size_t n)
{
	char name[32], *mt;
	const char *v;
	size_t vlen;

	if (md_reg_header_split(s, n, name, sizeof(name), &v, &vlen) == 0 && v + vlen > s + n)
		abort();
	mt = md_reg_media_type(s);
	free(mt);
}

static void fuzz_bodies(const char *s, size_t n)
{
	struct md_strv tags = { 0 };
	struct md_err err;
	int64_t exp;
	char *tok = NULL, *sum;

	sum = md_reg_error_summary(s, n);
	free(sum);
	if (md_reg_token_parse(s, n, 1700000000, "fuzz", &tok, &exp, &err) == 0 && exp < 1700000000)
		abort();
	free(tok);
	md_reg_tags_parse(s, n, "fuzz", &tags, 1000, &err);
	for (size_t i = 0; i < tags.n; i++)
		if (!md_reg_valid_tag(tags.v[i]))
			abort();
	md_strv_free(&tags);
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
	    md_reg_auth_lookup(nl2 + 1, n - (size_t)(nl2 + 1 - s), "fuzz", domain, path, &user,
			       &pass, &err) == 1 && (!user || !pass))
		abort();
	md_reg_secret_free(user);
	md_reg_secret_free(pass);
	free(domain);
	free(path);
}

static void fuzz_base64(const char *s)
{
	unsigned char *out = NULL;
	size_t len;
	char *back;

	if (md_reg_base64_decode(s, &out, &len) < 0)
		return;
	back = md_reg_base64_encode(out, len);
	if (!back || strcmp(back, s) != 0) {
		/* only canonical encodings round trip; non-zero spare bits may differ */
		unsigned char *again = NULL;
		size_t len2;

		if (!back || md_reg_base64_decode(back, &again, &len2) < 0 || len2 != len ||
		    memcmp(again, out, len) != 0)
			abort();
		free(again);
	}
	free(back);
	free(out);
}

static void fuzz_names(const char *s)
{
	char *u = md_reg_urlencode(s), *t;

	md_reg_valid_domain(s);
	md_reg_valid_path(s);
	md_reg_valid_reference(s);
	t = md_reg_token_url("https://auth.example/token", s, s);
	free(u);
	free(t);
	if (md_reg_valid_domain(s)) {
		char *b = md_reg_base_url(s, NULL);

		free(b);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	size_t n;

	if (size < 1 || size > 65536)
		return 0;
	n = size - 1;
	s = malloc(n + 1);
	if (!s)
		return 0;
	memcpy(s, data + 1, n);
	s[n] = '\0';
	switch (data[0] % 8) {
	case 0: fuzz_challenge(s); break;
	case 1: fuzz_link(s, n); break;
	case 2: fuzz_header(s, n); break;
	case 3: fuzz_bodies(s, n); break;
	case 4: fuzz_auth(s, n); break;
	case 5: fuzz_base64(s); break;
	case 6: fuzz_names(s); break;
	default: fuzz_challenge(s); fuzz_link(s, strlen(s)); break;
	}
	free(s);
	return 0;
}

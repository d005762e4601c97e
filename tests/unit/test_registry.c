/* registry: pure parsers (challenges, Link, auth.json, URLs, bodies) and
 * the client end to end against a scripted HTTP server forked per test. */
#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "magos/registry.h"
#include "../../internal/registry/registry_int.h"

/* Like assert_int_equal(call, 0) but shows the error sentence. */
#define assert_ok(call)                                                    \
	do {                                                               \
		if ((call) != 0)                                           \
			fail_msg("%s failed: %s", #call, err.msg);         \
	} while (0)

/* ---- WWW-Authenticate ---------------------------------------------------- */

static void test_challenge_bearer(void **state)
{
	struct md_reg_challenge c;
	struct md_err err;

	(void)state;
	assert_int_equal(md_reg_challenge_parse(&c,
		"Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
		"scope=\"repository:samalba/my-app:pull,push\"", "u", &err), 0);
	assert_int_equal(c.scheme, MD_REG_SCHEME_BEARER);
	assert_string_equal(c.realm, "https://auth.docker.io/token");
	assert_string_equal(c.service, "registry.docker.io");
	assert_string_equal(c.scope, "repository:samalba/my-app:pull,push");
	assert_null(c.error);
	md_reg_challenge_clear(&c);
}

static void test_challenge_escaped_quotes(void **state)
{
	struct md_reg_challenge c;
	struct md_err err;

	(void)state;
	assert_int_equal(md_reg_challenge_parse(&c,
		"Bearer realm=\"https://x/t?a=\\\"b\\\"\\\\\", service = \"s, t\"", "u", &err), 0);
	assert_string_equal(c.realm, "https://x/t?a=\"b\"\\");
	assert_string_equal(c.service, "s, t");
	md_reg_challenge_clear(&c);
}

static void test_challenge_basic_then_bearer(void **state)
{
	struct md_reg_challenge c;
	struct md_err err;

	(void)state;
	assert_int_equal(md_reg_challenge_parse(&c,
		"Basic realm=\"Quay, Inc\", Bearer realm=\"https://quay.io/v2/auth\",service=\"quay.io\"",
		"u", &err), 0);
	assert_int_equal(c.scheme, MD_REG_SCHEME_BEARER);
	assert_string_equal(c.realm, "https://quay.io/v2/auth");
	assert_string_equal(c.service, "quay.io");
	assert_null(c.scope);
	md_reg_challenge_clear(&c);
}

static void test_challenge_bearer_then_basic(void **state)
{
	struct md_reg_challenge c;
	struct md_err err;

	(void)state;
	assert_int_equal(md_reg_challenge_parse(&c,
		"Bearer realm=\"https://a/token\", Basic realm=\"b\"", "u", &err), 0);
	assert_int_equal(c.scheme, MD_REG_SCHEME_BEARER);
	assert_string_equal(c.realm, "https://a/token");
	md_reg_challenge_clear(&c);
}

static void test_challenge_basic_only(void **state)
{
	struct md_reg_challenge c;
	struct md_err err;

	(void)state;
	assert_int_equal(md_reg_challenge_parse(&c, "Basic realm=\"Registry Realm\"", "u", &err),
			 0);
	assert_int_equal(c.scheme, MD_REG_SCHEME_BASIC);
	assert_string_equal(c.realm, "Registry Realm");
	md_reg_challenge_clear(&c);
}

static void test_challenge_missing_scope_unquoted(void **state)
{
	struct md_reg_challenge c;
	struct md_err err;

	(void)state;
	assert_int_equal(md_reg_challenge_parse(&c,
		"BEARER REALM=https://ghcr.io/token,Service=ghcr.io,error=insufficient_scope", "u",
		&err), 0);
	assert_int_equal(c.scheme, MD_REG_SCHEME_BEARER);
	assert_string_equal(c.realm, "https://ghcr.io/token");
	assert_string_equal(c.service, "ghcr.io");
	assert_string_equal(c.error, "insufficient_scope");
	assert_null(c.scope);
	md_reg_challenge_clear(&c);
}

static void test_challenge_token68_then_bearer(void **state)
{
	struct md_reg_challenge c;
	struct md_err err;

	(void)state;
	assert_int_equal(md_reg_challenge_parse(&c,
		"Negotiate YII+/abc==, Bearer realm=\"https://r/t\"", "u", &err), 0);
	assert_int_equal(c.scheme, MD_REG_SCHEME_BEARER);
	assert_string_equal(c.realm, "https://r/t");
	md_reg_challenge_clear(&c);
}

static void test_challenge_errors(void **state)
{
	struct md_reg_challenge c;
	struct md_err err;

	(void)state;
	assert_int_equal(md_reg_challenge_parse(&c, "Bearer service=\"x\"", "http://h/v2/", &err),
			 -1);
	assert_string_equal(err.msg, "Bearer challenge from http://h/v2/ has no realm");
	assert_int_equal(md_reg_challenge_parse(&c, "Negotiate abc==", "U", &err), -1);
	assert_string_equal(err.msg, "U asks for authentication but offers neither Bearer nor Basic");
	assert_int_equal(md_reg_challenge_parse(&c, "Bearer realm=\"unterminated", "U", &err), -1);
	assert_string_equal(err.msg, "U sent a malformed WWW-Authenticate header");
	assert_int_equal(md_reg_challenge_parse(&c, NULL, "U", &err), -1);
	assert_non_null(strstr(err.msg, "neither Bearer nor Basic"));
	assert_int_equal(md_reg_challenge_parse(&c, "Bearer realm=\"x\" @@", "U", &err), -1);
	assert_non_null(strstr(err.msg, "malformed"));
}

/* ---- Link ------------------------------------------------------------------ */

static void check_link(const char *header, const char *want)
{
	char *out = (char *)1;

	assert_int_equal(md_reg_link_next(header, &out), 0);
	if (!want) {
		assert_null(out);
		return;
	}
	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
}

static void test_link_relative(void **state)
{
	(void)state;
	check_link("</v2/foo/tags/list?n=100&last=x>; rel=\"next\"",
		   "/v2/foo/tags/list?n=100&last=x");
}

static void test_link_absolute(void **state)
{
	(void)state;
	check_link("<https://ghcr.io/v2/a/b/tags/list?last=1.2&n=100>; rel=\"next\"",
		   "https://ghcr.io/v2/a/b/tags/list?last=1.2&n=100");
}

static void test_link_other_params(void **state)
{
	(void)state;
	check_link("<u1>; title=\"a, b; c <x>\"; type=text/html; rel=\"next\"", "u1");
	check_link("<u2>;rel=next", "u2");
	check_link("<u3>; REL=\"last NEXT\"", "u3");
}

static void test_link_multiple(void **state)
{
	(void)state;
	check_link("<p>; rel=\"prev\", <n>; rel=\"next\"", "n");
	check_link("<p>; rel=\"prev\"", NULL);
	check_link("<p>; rel=\"nextpage\"", NULL);
}

static void test_link_malformed(void **state)
{
	(void)state;
	check_link(NULL, NULL);
	check_link("", NULL);
	check_link("<unterminated; rel=\"next\"", NULL);
	check_link("no-brackets; rel=\"next\"", NULL);
	check_link("<a>; rel=\"next", NULL);
}

/* ---- URLs -------------------------------------------------------------- */

static void test_url_resolve(void **state)
{
	struct md_err err;
	char *out;

	(void)state;
	assert_int_equal(md_reg_url_resolve("http://127.0.0.1:5000/v2/a/tags/list?n=2",
					    "/v2/a/tags/list?n=2&last=b", &out, &err), 0);
	assert_string_equal(out, "http://127.0.0.1:5000/v2/a/tags/list?n=2&last=b");
	free(out);
	assert_int_equal(md_reg_url_resolve("https://r.example/v2/a/tags/list",
					    "list?next_page=abc%2Bdef=", &out, &err), 0);
	assert_string_equal(out, "https://r.example/v2/a/tags/list?next_page=abc%2Bdef=");
	free(out);
	assert_int_equal(md_reg_url_resolve("https://r.example/v2/",
					    "https://cdn.example:8443/blob?x=1", &out, &err), 0);
	assert_string_equal(out, "https://cdn.example:8443/blob?x=1");
	free(out);
	assert_int_equal(md_reg_url_resolve("https://r.example/v2/", "ftp://x/y", &out, &err), -1);
	assert_non_null(strstr(err.msg, "is not http or https"));
	assert_null(out);
}

static void test_url_origin(void **state)
{
	char *a = md_reg_url_origin("https://Registry.Example/v2/x");
	char *b = md_reg_url_origin("https://registry.example:443/other?q=1");
	char *c = md_reg_url_origin("http://registry.example/v2/x");
	char *d = md_reg_url_origin("http://127.0.0.1:5000/v2/");

	(void)state;
	assert_string_equal(a, "https://registry.example:443");
	assert_string_equal(a, b);
	assert_string_equal(c, "http://registry.example:80");
	assert_string_equal(d, "http://127.0.0.1:5000");
	free(a);
	free(b);
	free(c);
	free(d);
}

static void test_token_url(void **state)
{
	char *u;

	(void)state;
	u = md_reg_token_url("https://auth.docker.io/token", "registry.docker.io",
			     "repository:library/nginx:pull");
	assert_string_equal(u, "https://auth.docker.io/token?service=registry.docker.io"
			       "&scope=repository%3Alibrary%2Fnginx%3Apull");
	free(u);
	u = md_reg_token_url("https://q/auth?x=1", NULL, "repository:a b:pull,push");
	assert_string_equal(u, "https://q/auth?x=1&scope=repository%3Aa%20b%3Apull%2Cpush");
	free(u);
}

static void test_base_url(void **state)
{
	struct md_strv insecure = { 0 };
	char *u;

	(void)state;
	assert_int_equal(md_strv_push(&insecure, "127.0.0.1:5000"), 0);
	u = md_reg_base_url("docker.io", &insecure);
	assert_string_equal(u, "https://registry-1.docker.io");
	free(u);
	u = md_reg_base_url("127.0.0.1:5000", &insecure);
	assert_string_equal(u, "http://127.0.0.1:5000");
	free(u);
	u = md_reg_base_url("127.0.0.1:5001", &insecure);
	assert_string_equal(u, "https://127.0.0.1:5001");
	free(u);
	u = md_reg_base_url("ghcr.io", NULL);
	assert_string_equal(u, "https://ghcr.io");
	free(u);
	md_strv_free(&insecure);
}

static void test_validators(void **state)
{
	static const char *good_paths[] = { "library/nginx", "a", "a/b/c", "a.b_c__d--e/f-g",
					    "0/1" };
	static const char *bad_paths[] = { "", "A/b", "a//b", "/a", "a/", "a..b", "a___b",
					   "a/../b", "a?b", "a/b#", "-a", "a-" };

	(void)state;
	for (size_t i = 0; i < sizeof(good_paths) / sizeof(*good_paths); i++)
		assert_true(md_reg_valid_path(good_paths[i]));
	for (size_t i = 0; i < sizeof(bad_paths) / sizeof(*bad_paths); i++)
		assert_false(md_reg_valid_path(bad_paths[i]));
	assert_true(md_reg_valid_reference("1.25-alpine"));
	assert_true(md_reg_valid_reference("_x"));
	assert_true(md_reg_valid_reference(
		"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
	assert_false(md_reg_valid_reference(".x"));
	assert_false(md_reg_valid_reference("a/b"));
	assert_false(md_reg_valid_reference("a?b"));
	assert_false(md_reg_valid_reference("sha256:short"));
	assert_true(md_reg_valid_domain("127.0.0.1:5000"));
	assert_true(md_reg_valid_domain("[::1]:5000"));
	assert_false(md_reg_valid_domain("a/b"));
	assert_false(md_reg_valid_domain("a@b"));
	assert_false(md_reg_valid_domain(""));
}

/* ---- headers and bodies ----------------------------------------------------- */

static void test_header_split(void **state)
{
	const char *v;
	size_t n;
	char name[32];
	const char *line = "WWW-Authenticate:  Bearer realm=\"x\" \r\n";

	(void)state;
	assert_int_equal(md_reg_header_split(line, strlen(line), name, sizeof(name), &v, &n), 0);
	assert_string_equal(name, "www-authenticate");
	assert_int_equal(n, strlen("Bearer realm=\"x\""));
	assert_memory_equal(v, "Bearer realm=\"x\"", n);
	line = "HTTP/1.1 200 OK\r\n";
	assert_int_equal(md_reg_header_split(line, strlen(line), name, sizeof(name), &v, &n), -1);
	line = "\r\n";
	assert_int_equal(md_reg_header_split(line, strlen(line), name, sizeof(name), &v, &n), -1);
	line = "X-A-Very-Long-Header-Name-Beyond-Limit: 1\r\n";
	assert_int_equal(md_reg_header_split(line, strlen(line), name, sizeof(name), &v, &n), -1);
	line = "Link:\r\n";
	assert_int_equal(md_reg_header_split(line, strlen(line), name, sizeof(name), &v, &n), 0);
	assert_int_equal(n, 0);
}

static void test_media_type(void **state)
{
	char *s;

	(void)state;
	s = md_reg_media_type(" Application/vnd.OCI.image.index.v1+json ; charset=utf-8");
	assert_string_equal(s, "application/vnd.oci.image.index.v1+json");
	free(s);
	assert_null(md_reg_media_type(NULL));
	assert_null(md_reg_media_type("; x=y"));
}

static void test_error_summary(void **state)
{
	const char *b1 = "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"repository name "
			 "not known\\nto registry\",\"detail\":{}}]}";
	char *s;

	(void)state;
	s = md_reg_error_summary(b1, strlen(b1));
	assert_string_equal(s, "NAME_UNKNOWN: repository name not known to registry");
	free(s);
	s = md_reg_error_summary("{\"errors\":[{\"code\":\"DENIED\"}]}", 30);
	assert_string_equal(s, "DENIED");
	free(s);
	assert_null(md_reg_error_summary("<html>nope</html>", 17));
	assert_null(md_reg_error_summary("{\"errors\":[]}", 13));
	assert_null(md_reg_error_summary(NULL, 0));
}

static void test_token_parse(void **state)
{
	const char *b1 = "{\"token\":\"abc.def\",\"expires_in\":300,"
			 "\"issued_at\":\"2024-01-02T03:04:05Z\"}";
	struct md_err err;
	int64_t exp = 0, now = 1704164645 + 20;
	char *tok;

	(void)state;
	assert_int_equal(md_reg_token_parse(b1, strlen(b1), now, "U", &tok, &exp, &err), 0);
	assert_string_equal(tok, "abc.def");
	assert_int_equal(exp, 1704164645 + 300);
	free(tok);
	/* access_token fallback; expires_in default 60; short lifetimes raised to 60 */
	assert_int_equal(md_reg_token_parse("{\"access_token\":\"t2\",\"expires_in\":5}", 36, 1000,
					    "U", &tok, &exp, &err), 0);
	assert_string_equal(tok, "t2");
	assert_int_equal(exp, 1060);
	free(tok);
	/* issued_at in the future (clock skew): count from receipt */
	assert_int_equal(md_reg_token_parse(b1, strlen(b1), 1000, "U", &tok, &exp, &err), 0);
	assert_int_equal(exp, 1300);
	free(tok);
}

static void test_token_parse_errors(void **state)
{
	struct md_err err;
	int64_t exp;
	char *tok;

	(void)state;
	assert_int_equal(md_reg_token_parse("{\"expires_in\":60}", 17, 0, "https://t/x", &tok,
					    &exp, &err), -1);
	assert_string_equal(err.msg, "token service https://t/x answered without a token");
	assert_int_equal(md_reg_token_parse("{\"token\":\"a\\r\\nX-Evil: 1\"}", 26, 0, "U", &tok,
					    &exp, &err), -1);
	assert_non_null(strstr(err.msg, "invalid characters"));
	assert_null(strstr(err.msg, "Evil"));
	assert_int_equal(md_reg_token_parse("nope", 4, 0, "U", &tok, &exp, &err), -1);
	assert_string_equal(err.msg, "token service U did not answer with a JSON object");
}

static void test_tags_parse(void **state)
{
	const char *b = "{\"name\":\"a/b\",\"tags\":[\"1.0\",\"latest\",\"bad tag\",\"2.0\"]}";
	struct md_strv tags = { 0 };
	struct md_err err;

	(void)state;
	assert_int_equal(md_reg_tags_parse(b, strlen(b), "U", &tags, 10, &err), 0);
	assert_int_equal(tags.n, 3);
	assert_string_equal(tags.v[0], "1.0");
	assert_string_equal(tags.v[1], "latest");
	assert_string_equal(tags.v[2], "2.0");
	assert_int_equal(md_reg_tags_parse("{\"name\":\"a\",\"tags\":null}", 24, "U", &tags, 10,
					   &err), 0);
	assert_int_equal(tags.n, 3);
	assert_int_equal(md_reg_tags_parse(b, strlen(b), "U", &tags, 5, &err), -1);
	assert_string_equal(err.msg, "repository lists more than 5 tags (at U)");
	md_strv_free(&tags);
	assert_int_equal(md_reg_tags_parse("{\"tags\":[1]}", 12, "U", &tags, 5, &err), -1);
	assert_string_equal(err.msg, "tag list from U has a non-string entry at index 0");
	assert_int_equal(md_reg_tags_parse("{\"tags\":{}}", 11, "U", &tags, 5, &err), -1);
	assert_non_null(strstr(err.msg, "is not an object"));
	assert_int_equal(md_reg_tags_parse("[", 1, "U", &tags, 5, &err), -1);
	assert_non_null(strstr(err.msg, "tag list from U is not valid JSON"));
	md_strv_free(&tags);
}

/* ---- base64 and auth.json ------------------------------------------------- */

static void test_base64(void **state)
{
	static const char *plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
				     "Zm9vYmFy" };
	static const char *bad[] = { "Zg=", "Zg", "Z===", "Zm9v!A==", "Zg==Zg==", "=Zg=",
				     "Zm 9v" };
	unsigned char *out;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(plain) / sizeof(*plain); i++) {
		char *e = md_reg_base64_encode(plain[i], strlen(plain[i]));

		assert_string_equal(e, enc[i]);
		free(e);
		assert_int_equal(md_reg_base64_decode(enc[i], &out, &n), 0);
		assert_int_equal(n, strlen(plain[i]));
		assert_memory_equal(out, plain[i], n);
		free(out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(md_reg_base64_decode(bad[i], &out, &n), -1);
}

/* base64("user:pass") etc. */
#define B64_USER_PASS "dXNlcjpwYXNz"
#define B64_HUB "aHViOmh1YnB3"      /* hub:hubpw */
#define B64_ORG "b3JnOm9yZ3B3"      /* org:orgpw */
#define B64_DEEP "ZGVlcDpkZWVwcHc=" /* deep:deeppw */

static int lookup(const char *json, const char *domain, const char *path, char **user,
		  char **pass, struct md_err *err)
{
	return md_reg_auth_lookup(json, strlen(json), "/etc/auth.json", domain, path, user, pass,
				  err);
}

static void expect_creds(const char *json, const char *domain, const char *path,
			 const char *want_user, const char *want_pass)
{
	struct md_err err;
	char *u, *p;

	assert_int_equal(lookup(json, domain, path, &u, &p, &err), 1);
	assert_string_equal(u, want_user);
	assert_string_equal(p, want_pass);
	md_reg_secret_free(u);
	md_reg_secret_free(p);
}

static void test_auth_exact_host(void **state)
{
	(void)state;
	expect_creds("{\"auths\":{\"ghcr.io\":{\"auth\":\"" B64_USER_PASS "\"}}}", "ghcr.io",
		     "acme/web", "user", "pass");
	expect_creds("{\"auths\":{\"127.0.0.1:5000\":{\"auth\":\"" B64_USER_PASS "\"}}}",
		     "127.0.0.1:5000", "a", "user", "pass");
}

static void test_auth_most_specific(void **state)
{
	const char *j = "{\"auths\":{\"quay.io\":{\"auth\":\"" B64_USER_PASS "\"},"
			"\"quay.io/org\":{\"auth\":\"" B64_ORG "\"},"
			"\"quay.io/org/deep/repo\":{\"auth\":\"" B64_DEEP "\"}}}";

	(void)state;
	expect_creds(j, "quay.io", "org/deep/repo", "deep", "deeppw");
	expect_creds(j, "quay.io", "org/deep/other", "org", "orgpw");
	expect_creds(j, "quay.io", "org/x", "org", "orgpw");
	expect_creds(j, "quay.io", "organisation/x", "user", "pass");
	expect_creds(j, "quay.io", "other", "user", "pass");
}

static void test_auth_docker_aliases(void **state)
{
	(void)state;
	expect_creds("{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"" B64_HUB "\"}}}",
		     "docker.io", "library/nginx", "hub", "hubpw");
	expect_creds("{\"auths\":{\"registry-1.docker.io\":{\"auth\":\"" B64_HUB "\"}}}",
		     "docker.io", "library/nginx", "hub", "hubpw");
	expect_creds("{\"auths\":{\"docker.io\":{\"auth\":\"" B64_HUB "\"}}}",
		     "index.docker.io", "library/nginx", "hub", "hubpw");
	expect_creds("{\"auths\":{\"index.docker.io/acme\":{\"auth\":\"" B64_ORG "\"},"
		     "\"docker.io\":{\"auth\":\"" B64_HUB "\"}}}",
		     "docker.io", "acme/app", "org", "orgpw");
}

static void test_auth_http_prefix(void **state)
{
	(void)state;
	expect_creds("{\"auths\":{\"http://localhost:5000\":{\"auth\":\"" B64_USER_PASS "\"}}}",
		     "localhost:5000", "a/b", "user", "pass");
	expect_creds("{\"auths\":{\"https://GHCR.io/v2/\":{\"auth\":\"" B64_USER_PASS "\"}}}",
		     "ghcr.io", "a/b", "user", "pass");
}

static void test_auth_decoding(void **state)
{
	/* "u:p:w\0\0" → password keeps its colon, trailing NULs stripped */
	(void)state;
	expect_creds("{\"auths\":{\"r.io\":{\"auth\":\"dTpwOncAAA==\"}}}", "r.io", "x", "u",
		     "p:w");
	/* empty user and password */
	expect_creds("{\"auths\":{\"r.io\":{\"auth\":\"Og==\"}}}", "r.io", "x", "", "");
}

static void test_auth_no_match(void **state)
{
	struct md_err err;
	char *u = (char *)1, *p = (char *)1;

	(void)state;
	assert_int_equal(lookup("{\"auths\":{\"ghcr.io\":{\"auth\":\"" B64_USER_PASS "\"}}}",
				"quay.io", "a", &u, &p, &err), 0);
	assert_null(u);
	assert_null(p);
	assert_int_equal(lookup("{\"auths\":{\"ghcr.io/acme\":{\"auth\":\"" B64_USER_PASS "\"}}}",
				"ghcr.io", "acmecorp/x", &u, &p, &err), 0);
	/* {} is a credential-helper entry: anonymous for us, and it stops the search */
	assert_int_equal(lookup("{\"auths\":{\"r.io/a\":{},\"r.io\":{\"auth\":\"" B64_USER_PASS
				"\"}}}", "r.io", "a/b", &u, &p, &err), 0);
	assert_int_equal(lookup("{\"credHelpers\":{}}", "r.io", "a", &u, &p, &err), 0);
}

static void test_auth_bad_entries(void **state)
{
	struct md_err err;
	char *u, *p;

	(void)state;
	assert_int_equal(lookup("{\"auths\":{\"r.io\":{\"auth\":\"dXNlcjpwYXNz!\"}}}", "r.io", "a",
				&u, &p, &err), -1);
	assert_string_equal(err.msg, "auth file /etc/auth.json: entry \"r.io\" has an \"auth\" "
				     "value that is not valid base64");
	assert_int_equal(lookup("{\"auths\":{\"r.io\":{\"auth\":\"bm9jb2xvbg==\"}}}", "r.io", "a",
				&u, &p, &err), -1);
	assert_non_null(strstr(err.msg, "not base64(user:password)"));
	assert_null(strstr(err.msg, "nocolon"));
	assert_int_equal(lookup("{\"auths\":", "r.io", "a", &u, &p, &err), -1);
	assert_non_null(strstr(err.msg, "auth file /etc/auth.json is not valid JSON"));
	assert_int_equal(lookup("[1]", "r.io", "a", &u, &p, &err), -1);
	assert_string_equal(err.msg, "auth file /etc/auth.json is not of the form {\"auths\": {...}}");
	assert_int_equal(lookup("{\"auths\":{\"r.io\":[]}}", "r.io", "a", &u, &p, &err), -1);
	assert_string_equal(err.msg, "auth file /etc/auth.json: entry \"r.io\" is not an object");
}

/* ---- manifests, indexes, configs --------------------------------------------- */

#define DG_1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define DG_2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define DG_3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"
#define MF_URL "http://r/v2/a/manifests/1"

static int parse_mf(struct md_reg_manifest *m, const char *body, const char *ct,
		    struct md_err *err)
{
	return md_reg_manifest_parse(m, body, strlen(body), ct, MF_URL, err);
}

static void test_manifest_index_with_attestations(void **state)
{
	struct md_reg_manifest m;
	struct md_err err;
	static const char body[] =
		"{\"schemaVersion\":2,\"mediaType\":\"" MD_MT_OCI_INDEX "\",\"manifests\":["
		"{\"mediaType\":\"" MD_MT_OCI_MANIFEST "\",\"digest\":\"" DG_1 "\",\"size\":1,"
		" \"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
		"{\"mediaType\":\"" MD_MT_OCI_MANIFEST "\",\"digest\":\"" DG_2 "\",\"size\":1,"
		" \"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}},"
		"{\"mediaType\":\"" MD_MT_OCI_MANIFEST "\",\"digest\":\"" DG_3 "\",\"size\":1,"
		" \"annotations\":{\"vnd.docker.reference.digest\":\"" DG_1 "\","
		"  \"vnd.docker.reference.type\":\"attestation-manifest\"},"
		" \"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"}},"
		"{\"mediaType\":\"application/vnd.example.thing+json\",\"digest\":\"" DG_3 "\","
		" \"platform\":{\"architecture\":\"s390x\",\"os\":\"linux\"}},"
		"{\"mediaType\":\"" MD_MT_OCI_MANIFEST "\",\"digest\":\"" DG_3 "\","
		" \"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
		"{\"mediaType\":\"" MD_MT_OCI_MANIFEST "\",\"digest\":\"" DG_3 "\","
		" \"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\"}},"
		"{\"mediaType\":\"" MD_MT_OCI_MANIFEST "\",\"digest\":\"" DG_3 "\","
		" \"platform\":{\"architecture\":\"a/b\",\"os\":\"linux\"}},"
		"{\"mediaType\":\"" MD_MT_OCI_MANIFEST "\",\"digest\":\"" DG_3 "\"},"
		"7],"
		"\"annotations\":{\"org.opencontainers.image.created\":\"2024-01-02T03:04:05Z\"}}";

	(void)state;
	assert_ok(parse_mf(&m, body, "application/vnd.oci.image.index.v1+json; charset=x", &err));
	assert_int_equal(m.kind, MD_REG_INDEX);
	/* attestation, unknown media type, duplicate, bad name, no platform: skipped */
	assert_int_equal(m.platforms.n, 3);
	assert_string_equal(m.platforms.v[0], "linux/amd64");
	assert_string_equal(m.platforms.v[1], "linux/arm64/v8");
	assert_string_equal(m.platforms.v[2], "linux/arm/v7");
	assert_string_equal(m.first, DG_1);
	assert_int_equal(m.created, 1704164645);
	assert_int_equal(m.first_created, 0);
	assert_null(m.config);
	md_reg_manifest_clear(&m);
}

static void test_manifest_docker_list(void **state)
{
	struct md_reg_manifest m;
	struct md_err err;
	/* attestation first: the first image entry is the one after it */
	static const char body[] =
		"{\"schemaVersion\":2,\"mediaType\":\"" MD_MT_DOCKER_LIST "\",\"manifests\":["
		"{\"mediaType\":\"" MD_MT_DOCKER_MANIFEST "\",\"digest\":\"" DG_3 "\","
		" \"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"}},"
		"{\"mediaType\":\"" MD_MT_DOCKER_MANIFEST "\",\"digest\":\"" DG_2 "\",\"size\":9,"
		" \"annotations\":{\"org.opencontainers.image.created\":\"2023-05-06T07:08:09+02:00\"},"
		" \"platform\":{\"architecture\":\"ppc64le\",\"os\":\"linux\","
		"  \"os.features\":[\"x\"],\"features\":[\"sse4\"]}}]}";

	(void)state;
	assert_ok(parse_mf(&m, body, MD_MT_DOCKER_LIST, &err));
	assert_int_equal(m.kind, MD_REG_INDEX);
	assert_int_equal(m.platforms.n, 1);
	assert_string_equal(m.platforms.v[0], "linux/ppc64le");
	assert_string_equal(m.first, DG_2);
	assert_int_equal(m.created, 0);
	assert_int_equal(m.first_created, 1683349689);
	md_reg_manifest_clear(&m);
	/* an empty index is an index with no platforms */
	assert_ok(parse_mf(&m, "{\"schemaVersion\":2,\"manifests\":[]}", MD_MT_OCI_INDEX, &err));
	assert_int_equal(m.kind, MD_REG_INDEX);
	assert_int_equal(m.platforms.n, 0);
	assert_null(m.first);
	md_reg_manifest_clear(&m);
}

static void test_manifest_image(void **state)
{
	struct md_reg_manifest m;
	struct md_err err;
	static const char oci[] =
		"{\"schemaVersion\":2,\"mediaType\":\"" MD_MT_OCI_MANIFEST "\","
		"\"config\":{\"mediaType\":\"" MD_MT_OCI_CONFIG "\",\"digest\":\"" DG_1 "\",\"size\":2},"
		"\"layers\":[],\"annotations\":{\"org.opencontainers.image.created\":"
		"\"2024-02-03T04:05:06.789Z\"}}";
	static const char docker[] =
		"{\"schemaVersion\":2,\"mediaType\":\"" MD_MT_DOCKER_MANIFEST "\","
		"\"config\":{\"mediaType\":\"" MD_MT_DOCKER_CONFIG "\",\"digest\":\"" DG_2 "\"},"
		"\"layers\":[]}";
	static const char artifact[] =
		"{\"schemaVersion\":2,\"mediaType\":\"" MD_MT_OCI_MANIFEST "\","
		"\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\"" DG_3
		"\",\"size\":2},\"layers\":[]}";

	(void)state;
	assert_ok(parse_mf(&m, oci, MD_MT_OCI_MANIFEST, &err));
	assert_int_equal(m.kind, MD_REG_IMAGE);
	assert_string_equal(m.config, DG_1);
	assert_int_equal(m.created, 1706933106);
	assert_int_equal(m.platforms.n, 0);
	md_reg_manifest_clear(&m);
	assert_ok(parse_mf(&m, docker, MD_MT_DOCKER_MANIFEST, &err));
	assert_string_equal(m.config, DG_2);
	assert_int_equal(m.created, 0);
	md_reg_manifest_clear(&m);
	/* artifacts carry no image config worth fetching */
	assert_ok(parse_mf(&m, artifact, NULL, &err));
	assert_int_equal(m.kind, MD_REG_IMAGE);
	assert_null(m.config);
	md_reg_manifest_clear(&m);
}

/* Without a telling Content-Type, the body's mediaType, then its shape. */
static void test_manifest_type_from_body(void **state)
{
	struct md_reg_manifest m;
	struct md_err err;

	(void)state;
	assert_ok(parse_mf(&m, "{\"mediaType\":\"" MD_MT_DOCKER_LIST "\",\"manifests\":[]}",
			   "application/json", &err));
	assert_int_equal(m.kind, MD_REG_INDEX);
	md_reg_manifest_clear(&m);
	assert_ok(parse_mf(&m, "{\"manifests\":[]}", NULL, &err));
	assert_int_equal(m.kind, MD_REG_INDEX);
	md_reg_manifest_clear(&m);
	assert_ok(parse_mf(&m, "{\"config\":{\"digest\":\"" DG_1 "\"}}", "", &err));
	assert_int_equal(m.kind, MD_REG_IMAGE);
	assert_string_equal(m.config, DG_1);
	md_reg_manifest_clear(&m);
}

static void expect_mf_error(const char *body, const char *ct, const char *want)
{
	struct md_reg_manifest m;
	struct md_err err;

	assert_int_equal(parse_mf(&m, body, ct, &err), -1);
	if (!strstr(err.msg, want))
		fail_msg("error \"%s\" lacks \"%s\"", err.msg, want);
	assert_int_equal(m.platforms.n, 0);
	assert_null(m.first);
	assert_null(m.config);
}

static void test_manifest_errors(void **state)
{
	(void)state;
	expect_mf_error("{\"manifests\":[", MD_MT_OCI_INDEX,
			"manifest at " MF_URL " is not valid JSON (line 1:");
	expect_mf_error("[]", MD_MT_OCI_INDEX, "manifest at " MF_URL " is not a JSON object");
	expect_mf_error("{\"mediaType\":\"" MD_MT_OCI_MANIFEST "\",\"manifests\":[]}",
			MD_MT_OCI_INDEX,
			"manifest at " MF_URL " was served as " MD_MT_OCI_INDEX " but says it is "
			MD_MT_OCI_MANIFEST);
	expect_mf_error("{\"schemaVersion\":1}",
			"application/vnd.docker.distribution.manifest.v1+prettyjws",
			"manifest at " MF_URL " has unsupported media type "
			"application/vnd.docker.distribution.manifest.v1+prettyjws");
	expect_mf_error("{\"mediaType\":\"text/html\"}", NULL, "unsupported media type text/html");
	expect_mf_error("{\"mediaType\":7}", NULL, "has a \"mediaType\" that is not a string");
	expect_mf_error("{\"schemaVersion\":2}", "application/json",
			"document at " MF_URL " is neither an image manifest nor an index");
	expect_mf_error("{\"manifests\":{}}", MD_MT_DOCKER_LIST,
			"index at " MF_URL " has no \"manifests\" array");
	expect_mf_error("{\"layers\":[]}", MD_MT_OCI_MANIFEST,
			"image manifest at " MF_URL " has no config digest");
	expect_mf_error("{\"config\":{\"mediaType\":\"" MD_MT_OCI_CONFIG "\",\"digest\":\"sha512:ab\"}}",
			MD_MT_OCI_MANIFEST, "unsupported config digest \"sha512:ab\"");
	expect_mf_error("", MD_MT_OCI_MANIFEST, "is not valid JSON");
}

static void test_manifest_platform_cap(void **state)
{
	struct md_buf b;
	struct md_reg_manifest m;
	struct md_err err;

	(void)state;
	md_buf_init(&b, 1 << 20);
	md_buf_puts(&b, "{\"manifests\":[");
	for (int i = 0; i <= MD_REG_MAX_PLATFORMS; i++)
		md_buf_printf(&b, "%s{\"digest\":\"" DG_1 "\",\"platform\":{\"os\":\"linux\","
			      "\"architecture\":\"a%d\"}}", i ? "," : "", i);
	md_buf_puts(&b, "]}");
	assert_int_equal(parse_mf(&m, b.data, MD_MT_OCI_INDEX, &err), -1);
	assert_string_equal(err.msg, "index at " MF_URL " lists more than 64 platforms");
	md_buf_free(&b);
}

/* A string literal and its length. */
#define LIT(s) s, sizeof(s) - 1

static void test_config_parse(void **state)
{
	struct md_err err;
	char *plat;
	int64_t created;

	(void)state;
	assert_ok(md_reg_config_parse(LIT("{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\","
				      "\"created\":\"2024-01-02T03:04:05.123456789Z\"}"), "u",
				      &plat, &created, &err));
	assert_string_equal(plat, "linux/arm/v7");
	assert_int_equal(created, 1704164645);
	free(plat);
	/* no created; reproducible builds' epoch means "unknown" too */
	assert_ok(md_reg_config_parse(LIT("{\"architecture\":\"amd64\",\"os\":\"linux\"}"), "u",
				      &plat, &created, &err));
	assert_string_equal(plat, "linux/amd64");
	assert_int_equal(created, 0);
	free(plat);
	assert_ok(md_reg_config_parse(LIT("{\"created\":\"1970-01-01T00:00:00Z\",\"os\":\"linux\"}"),
				      "u", &plat, &created, &err));
	assert_null(plat);
	assert_int_equal(created, 0);
	assert_ok(md_reg_config_parse(LIT("{\"created\":\"yesterday\"}"), "u", &plat, &created, &err));
	assert_int_equal(created, 0);
	assert_int_equal(md_reg_config_parse(LIT("{\"os\":"), "http://r/v2/a/blobs/x", &plat,
					     &created, &err), -1);
	assert_non_null(strstr(err.msg, "image config at http://r/v2/a/blobs/x is not valid JSON"));
	assert_int_equal(md_reg_config_parse(LIT("[1]"), "u", &plat, &created, &err), -1);
	assert_string_equal(err.msg, "image config at u is not a JSON object");
}

/* ---- a scripted HTTP server --------------------------------------------------- */

/* Builds the raw response for one request head; `port` is the server's. */
typedef char *(*fake_handler)(const char *head, int port);

struct fake {
	pid_t pid;
	int port;
	char log[64];
};

static char *read_head(int fd)
{
	struct md_buf b;
	char c;

	md_buf_init(&b, 65536);
	while (read(fd, &c, 1) == 1) {
		md_buf_append(&b, &c, 1);
		if (b.len >= 4 && memcmp(b.data + b.len - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	return md_buf_steal(&b);
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void fake_serve(int ls, int port, fake_handler h, const char *log)
{
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		int fd = accept(ls, NULL, NULL);
		char *head, *resp;
		FILE *f;

		if (fd < 0)
			continue;
		head = read_head(fd);
		if ((f = fopen(log, "a"))) {
			fprintf(f, "%s====\n", head);
			fclose(f);
		}
		resp = h(head, port);
		write_all(fd, resp, strlen(resp));
		shutdown(fd, SHUT_WR);
		close(fd);
		free(head);
		free(resp);
	}
}

static void fake_start(struct fake *f, fake_handler h)
{
	struct sockaddr_in a = { 0 };
	socklen_t len = sizeof(a);
	int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	assert_true(ls >= 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(ls, 16), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &len), 0);
	f->port = ntohs(a.sin_port);
	snprintf(f->log, sizeof(f->log), "/tmp/md-fake-%d-%d.log", (int)getpid(), f->port);
	unlink(f->log);
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0) {
		/* Die with the test process (a failed assertion skips fake_stop)
		 * and do not hold its stdout open for make. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		fake_serve(ls, f->port, h, f->log);
		_exit(0);
	}
	close(ls);
}

/* Stop the server; returns its request log (caller frees). */
static char *fake_stop(struct fake *f)
{
	struct md_err err;
	char *log = NULL;

	kill(f->pid, SIGKILL);
	waitpid(f->pid, NULL, 0);
	if (md_file_read(f->log, 1 << 20, &log, NULL, &err) < 0)
		log = md_strdup("");
	unlink(f->log);
	return log;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static char *reply(int status, const char *headers, const char *body)
{
	return md_asprintf("HTTP/1.1 %d X\r\nConnection: close\r\nContent-Length: %zu\r\n%s\r\n%s",
			   status, strlen(body), headers, body);
}

static struct md_registry *client(int port, const char *auth_file)
{
	static struct md_strv insecure;
	struct md_registry_opts o = { 0 };
	struct md_registry *r;
	struct md_err err;
	char host[64];

	md_strv_free(&insecure);
	snprintf(host, sizeof(host), "127.0.0.1:%d", port);
	md_strv_push(&insecure, host);
	snprintf(host, sizeof(host), "localhost:%d", port);
	md_strv_push(&insecure, host);
	o.insecure_hosts = &insecure;
	o.auth_file = auth_file;
	o.connect_timeout = 5;
	o.timeout = 10;
	o.user_agent = "md-test";
	o.page_size = 2;
	assert_int_equal(md_registry_new(&r, &o, &err), 0);
	return r;
}

#define DIGEST_A "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* Token auth: /token hands out "tok1" (checking Basic creds when sent);
 * tags come in two pages linked by a relative Link. */
static char *h_token_flow(const char *head, int port)
{
	char hdr[512];

	static const char token_req[] =
		"GET /token?service=fake&scope=repository%3Aacme%2Fweb%3Apull ";

	if (strncmp(head, token_req, strlen(token_req)) == 0) {
		if (strstr(head, "Authorization: Basic ") &&
		    !strstr(head, "Authorization: Basic " B64_USER_PASS "\r\n"))
			return reply(401, "", "{}");
		return reply(200, "Content-Type: application/json\r\n",
			     "{\"token\":\"tok1\",\"expires_in\":300}");
	}
	if (!strstr(head, "Authorization: Bearer tok1\r\n")) {
		snprintf(hdr, sizeof(hdr),
			 "WWW-Authenticate: Bearer realm=\"http://127.0.0.1:%d/token\",service=\"fake\","
			 "scope=\"repository:acme/web:pull\"\r\n", port);
		return reply(401, hdr,
			     "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}");
	}
	if (strncmp(head, "GET /v2/acme/web/tags/list?n=2 ", 31) == 0)
		return reply(200, "Link: </v2/acme/web/tags/list?n=2&last=1.1>; rel=\"next\"\r\n",
			     "{\"name\":\"acme/web\",\"tags\":[\"1.0\",\"1.1\"]}");
	if (strncmp(head, "GET /v2/acme/web/tags/list?n=2&last=1.1 ", 40) == 0)
		return reply(200, "", "{\"name\":\"acme/web\",\"tags\":[\"2.0\"]}");
	if (strncmp(head, "HEAD /v2/acme/web/manifests/2.0 ", 32) == 0)
		return md_asprintf("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 10\r\n"
				   "Content-Type: application/vnd.oci.image.index.v1+json; x=y\r\n"
				   "Docker-Content-Digest: " DIGEST_A "\r\n\r\n");
	return reply(404, "", "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\"}]}");
}

static void test_client_token_flow(void **state)
{
	struct md_registry_stats st;
	struct md_strv tags = { 0 };
	struct md_registry *r;
	struct md_err err;
	struct fake f;
	char dom[64], want[256], *dg = NULL, *mt = NULL, *log;

	(void)state;
	fake_start(&f, h_token_flow);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f.port);
	r = client(f.port, NULL);
	assert_ok(md_registry_list_tags(r, dom, "acme/web", &tags, &err));
	assert_int_equal(tags.n, 3);
	assert_string_equal(tags.v[0], "1.0");
	assert_string_equal(tags.v[2], "2.0");
	assert_ok(md_registry_head_manifest(r, dom, "acme/web", "2.0", &dg, &mt, &err));
	assert_string_equal(dg, DIGEST_A);
	assert_string_equal(mt, "application/vnd.oci.image.index.v1+json");
	free(dg);
	free(mt);
	assert_int_equal(md_registry_head_manifest(r, dom, "acme/web", "9.9", &dg, &mt, &err), -1);
	snprintf(want, sizeof(want), "registry %s: tag 9.9 not found in repository acme/web "
		 "(HTTP 404 at HEAD http://%s/v2/acme/web/manifests/9.9)", dom, dom);
	assert_string_equal(err.msg, want);
	md_registry_stats(r, &st);
	/* one 401, one token, then the cached token is sent up front */
	assert_int_equal(st.token_requests, 1);
	assert_int_equal(st.requests, 6);
	assert_int_equal(st.errors, 1);
	md_registry_free(r);
	log = fake_stop(&f);
	assert_int_equal(count(log, "GET /token"), 1);
	assert_null(strstr(log, "Authorization: Basic"));
	assert_int_equal(count(log, "User-Agent: md-test"), 6);
	assert_non_null(strstr(log, "Accept: application/vnd.oci.image.index.v1+json, "
				    "application/vnd.docker.distribution.manifest.list.v2+json, "
				    "application/vnd.oci.image.manifest.v1+json, "
				    "application/vnd.docker.distribution.manifest.v2+json\r\n"));
	free(log);
	md_strv_free(&tags);
}

static char *write_auth_file(const char *content)
{
	char *path = md_asprintf("/tmp/md-auth-%d.json", (int)getpid());
	struct md_err err;

	assert_int_equal(md_file_write_atomic(path, content, strlen(content), 0600, &err), 0);
	return path;
}

static void test_client_basic_to_token_service(void **state)
{
	struct md_strv tags = { 0 };
	struct md_registry *r;
	struct md_err err;
	struct fake f;
	char dom[64], *log, *file, *json;

	(void)state;
	fake_start(&f, h_token_flow);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f.port);
	json = md_asprintf("{\"auths\":{\"http://%s\":{\"auth\":\"" B64_USER_PASS "\"}}}", dom);
	file = write_auth_file(json);
	r = client(f.port, file);
	assert_ok(md_registry_list_tags(r, dom, "acme/web", &tags, &err));
	assert_int_equal(tags.n, 3);
	md_registry_free(r);
	/* wrong password: the token service refuses, and the error says whose */
	free(json);
	json = md_asprintf("{\"auths\":{\"%s\":{\"auth\":\"dXNlcjp3cm9uZw==\"}}}", dom);
	unlink(file);
	free(file);
	file = write_auth_file(json);
	r = client(f.port, file);
	assert_int_equal(md_registry_list_tags(r, dom, "acme/web", &tags, &err), -1);
	assert_non_null(strstr(err.msg, "rejected the credentials for repository acme/web from"));
	assert_non_null(strstr(err.msg, file));
	assert_null(strstr(err.msg, "wrong"));
	assert_null(strstr(err.msg, "dXNlcjp3cm9uZw"));
	md_registry_free(r);
	log = fake_stop(&f);
	assert_non_null(strstr(log, "Authorization: Basic " B64_USER_PASS "\r\n"));
	/* Basic credentials only went to the token service (once per client:
	 * the token is cached), never to the registry */
	assert_int_equal(count(log, "GET /token"), 2);
	assert_int_equal(count(log, "Authorization: Basic"), 2);
	free(log);
	unlink(file);
	free(file);
	free(json);
	md_strv_free(&tags);
}

static void test_client_missing_auth_file(void **state)
{
	struct md_registry_opts o = { 0 };
	struct md_registry *r = (struct md_registry *)1;
	struct md_err err;

	(void)state;
	o.auth_file = "/nonexistent/auth.json";
	assert_int_equal(md_registry_new(&r, &o, &err), -1);
	assert_null(r);
	assert_non_null(strstr(err.msg, "/nonexistent/auth.json"));
	md_registry_free(NULL);
}

/* A token that the registry still refuses: access denied. */
static char *h_denied(const char *head, int port)
{
	char hdr[256];

	if (strncmp(head, "GET /token", 10) == 0)
		return reply(200, "", "{\"access_token\":\"useless\"}");
	snprintf(hdr, sizeof(hdr),
		 "WWW-Authenticate: Bearer realm=\"http://127.0.0.1:%d/token\",service=\"fake\"\r\n",
		 port);
	return reply(401, hdr, "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"requested access to the resource is denied\"}]}");
}

static void test_client_denied(void **state)
{
	struct md_strv tags = { 0 };
	struct md_registry *r;
	struct md_err err;
	struct fake f;
	char dom[64], *log;

	(void)state;
	fake_start(&f, h_denied);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f.port);
	r = client(f.port, NULL);
	assert_int_equal(md_registry_list_tags(r, dom, "private/app", &tags, &err), -1);
	assert_non_null(strstr(err.msg, "access to repository private/app denied (HTTP 401); "
					"check credentials in"));
	assert_non_null(strstr(err.msg, "DENIED: requested access"));
	assert_null(strstr(err.msg, "useless"));
	md_registry_free(r);
	log = fake_stop(&f);
	/* default scope when the challenge has none */
	assert_non_null(strstr(log, "GET /token?service=fake&scope=repository%3Aprivate%2Fapp%3Apull "));
	assert_non_null(strstr(log, "Authorization: Bearer useless\r\n"));
	free(log);
}

/* n= refused with 400; a redirect to another origin; digest by GET. */
static char *h_misc(const char *head, int port)
{
	char hdr[256];

	if (strncmp(head, "GET /token", 10) == 0)
		return reply(200, "", "{\"token\":\"t\"}");
	if (strncmp(head, "GET /v2/x/tags/list?n=2 ", 24) == 0)
		return reply(400, "", "{\"errors\":[{\"code\":\"PAGINATION_NUMBER_INVALID\"}]}");
	if (strncmp(head, "GET /v2/x/tags/list ", 20) == 0)
		return reply(200, "", "{\"name\":\"x\",\"tags\":[\"a\",\"b\"]}");
	if (strncmp(head, "GET /v2/big/tags/list", 21) == 0) {
		size_t n = MD_REGISTRY_MAX_BODY + 10;
		char *body = malloc(n + 1), *out;

		memset(body, ' ', n);
		body[n] = '\0';
		out = reply(200, "", body);
		free(body);
		return out;
	}
	if (strstr(head, "/manifests/old ")) { /* no Docker-Content-Digest: hash the body */
		if (strncmp(head, "HEAD", 4) == 0)
			return md_asprintf("HTTP/1.1 200 OK\r\nConnection: close\r\n"
					   "Content-Length: 2\r\n\r\n");
		return reply(200, "Content-Type: application/vnd.docker.distribution.manifest.v2+json\r\n",
			     "{}");
	}
	if (strstr(head, "/manifests/moved ") && strstr(head, "Host: localhost")) {
		if (strstr(head, "Authorization"))
			return reply(400, "", "{\"errors\":[{\"code\":\"LEAKED\"}]}");
		return md_asprintf("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n"
				   "Docker-Content-Digest: " DIGEST_A "\r\n\r\n");
	}
	if (strstr(head, "/manifests/moved ") && strstr(head, "Authorization: Bearer t\r\n")) {
		snprintf(hdr, sizeof(hdr), "Location: http://localhost:%d/v2/y/manifests/moved\r\n",
			 port);
		return reply(307, hdr, "");
	}
	if (strstr(head, "/manifests/moved ")) {
		snprintf(hdr, sizeof(hdr),
			 "WWW-Authenticate: Bearer realm=\"http://127.0.0.1:%d/token\"\r\n", port);
		return reply(401, hdr, "");
	}
	if (strstr(head, "/manifests/loop "))
		return reply(302, "Location: /v2/y/manifests/loop\r\n", "");
	return reply(404, "", "");
}

static void test_client_page_size_refused(void **state)
{
	struct md_strv tags = { 0 };
	struct md_registry *r;
	struct md_err err;
	struct fake f;
	char dom[64], *log;

	(void)state;
	fake_start(&f, h_misc);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f.port);
	r = client(f.port, NULL);
	assert_ok(md_registry_list_tags(r, dom, "x", &tags, &err));
	assert_int_equal(tags.n, 2);
	assert_string_equal(tags.v[1], "b");
	assert_int_equal(md_registry_list_tags(r, dom, "big", &tags, &err), -1);
	assert_non_null(strstr(err.msg, "response body from http://127.0.0.1:"));
	/* the host refused n above: no n for the rest of the cycle */
	assert_non_null(strstr(err.msg, "/v2/big/tags/list exceeds 8388608 bytes"));
	assert_int_equal(tags.n, 2);
	md_registry_free(r);
	log = fake_stop(&f);
	assert_int_equal(count(log, "GET /v2/x/tags/list"), 2);
	free(log);
	md_strv_free(&tags);
}

static void test_client_digest_by_get(void **state)
{
	struct md_registry *r;
	struct md_err err;
	struct fake f;
	char dom[64], *dg, *mt, want[MD_DIGEST_STR_LEN + 1];

	(void)state;
	fake_start(&f, h_misc);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f.port);
	r = client(f.port, NULL);
	assert_ok(md_registry_head_manifest(r, dom, "y", "old", &dg, &mt, &err));
	md_sha256_digest("{}", 2, want);
	assert_string_equal(dg, want);
	assert_string_equal(mt, "application/vnd.docker.distribution.manifest.v2+json");
	free(dg);
	free(mt);
	md_registry_free(r);
	free(fake_stop(&f));
}

static void test_client_redirect_drops_auth(void **state)
{
	struct md_registry *r;
	struct md_err err;
	struct fake f;
	char dom[64], *dg, *log;

	(void)state;
	fake_start(&f, h_misc);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f.port);
	r = client(f.port, NULL);
	assert_ok(md_registry_head_manifest(r, dom, "y", "moved", &dg, NULL, &err));
	assert_string_equal(dg, DIGEST_A);
	free(dg);
	assert_int_equal(md_registry_head_manifest(r, dom, "y", "loop", &dg, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "more than 5 redirects"));
	md_registry_free(r);
	log = fake_stop(&f);
	/* the hop to localhost (another origin) would have been refused with
	 * 400 LEAKED had the token followed it */
	assert_int_equal(count(log, "Host: localhost:"), 1);
	assert_int_equal(count(log, "GET /token"), 1);
	free(log);
}

static void test_client_connect_refused(void **state)
{
	struct md_strv tags = { 0 };
	struct md_registry_stats st;
	struct md_registry *r;
	struct md_err err;
	struct fake f;
	char dom[64], want[96];

	(void)state;
	/* a port that was just free: start and stop a server to learn one */
	fake_start(&f, h_misc);
	free(fake_stop(&f));
	r = client(f.port, NULL);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f.port);
	usleep(1000);
	assert_int_equal(md_registry_list_tags(r, dom, "x", &tags, &err), -1);
	snprintf(want, sizeof(want), "registry 127.0.0.1:%d: cannot connect (", f.port);
	assert_non_null(strstr(err.msg, want));
	assert_int_equal(md_registry_list_tags(r, dom, "Bad/Name", &tags, &err), -1);
	assert_non_null(strstr(err.msg, "invalid"));
	md_registry_stats(r, &st);
	assert_int_equal(st.errors, 2);
	md_registry_free(r);
}

/* ---- image facts against the scripted server -------------------------------- */

/* Documents served by h_facts, built before the server forks. */
static struct {
	char *multi, *m1, *c1;    /* index without created → first manifest → config */
	char *single, *c2;        /* image manifest with created, config for platform */
	char *stamped;            /* index with created: one request */
	char *badcfg;             /* config whose bytes do not match its digest */
	char d_multi[MD_DIGEST_STR_LEN + 1], d_m1[MD_DIGEST_STR_LEN + 1];
	char d_c1[MD_DIGEST_STR_LEN + 1], d_c2[MD_DIGEST_STR_LEN + 1];
	char d_single[MD_DIGEST_STR_LEN + 1];
} fx;

static void fx_digest(const char *body, char *out)
{
	md_sha256_digest(body, strlen(body), out);
}

static void fx_build(void)
{
	fx.c1 = md_strdup("{\"architecture\":\"amd64\",\"os\":\"linux\","
			  "\"created\":\"2024-01-02T03:04:05Z\"}");
	fx_digest(fx.c1, fx.d_c1);
	fx.m1 = md_asprintf("{\"schemaVersion\":2,\"mediaType\":\"" MD_MT_OCI_MANIFEST "\","
			    "\"config\":{\"mediaType\":\"" MD_MT_OCI_CONFIG "\",\"digest\":\"%s\"},"
			    "\"layers\":[]}", fx.d_c1);
	fx_digest(fx.m1, fx.d_m1);
	fx.multi = md_asprintf("{\"schemaVersion\":2,\"mediaType\":\"" MD_MT_OCI_INDEX "\","
			       "\"manifests\":["
			       "{\"mediaType\":\"" MD_MT_OCI_MANIFEST "\",\"digest\":\"" DG_3 "\","
			       "\"annotations\":{\"vnd.docker.reference.type\":\"attestation-manifest\"},"
			       "\"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"}},"
			       "{\"mediaType\":\"" MD_MT_OCI_MANIFEST "\",\"digest\":\"%s\","
			       "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
			       "{\"mediaType\":\"" MD_MT_OCI_MANIFEST "\",\"digest\":\"" DG_2 "\","
			       "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\"}}]}",
			       fx.d_m1);
	fx_digest(fx.multi, fx.d_multi);
	fx.c2 = md_strdup("{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\","
			  "\"created\":\"2020-01-01T00:00:00Z\"}");
	fx_digest(fx.c2, fx.d_c2);
	fx.single = md_asprintf("{\"schemaVersion\":2,\"mediaType\":\"" MD_MT_DOCKER_MANIFEST "\","
				"\"config\":{\"mediaType\":\"" MD_MT_DOCKER_CONFIG "\","
				"\"digest\":\"%s\"},\"layers\":[],\"annotations\":"
				"{\"org.opencontainers.image.created\":\"2023-03-04T05:06:07Z\"}}",
				fx.d_c2);
	fx_digest(fx.single, fx.d_single);
	fx.stamped = md_strdup("{\"schemaVersion\":2,\"mediaType\":\"" MD_MT_OCI_INDEX "\","
			       "\"manifests\":[{\"mediaType\":\"" MD_MT_OCI_MANIFEST "\","
			       "\"digest\":\"" DG_1 "\",\"platform\":{\"architecture\":\"s390x\","
			       "\"os\":\"linux\"}}],\"annotations\":"
			       "{\"org.opencontainers.image.created\":\"2022-02-02T02:02:02Z\"}}");
	fx.badcfg = md_strdup("{\"schemaVersion\":2,\"mediaType\":\"" MD_MT_OCI_MANIFEST "\","
			      "\"config\":{\"mediaType\":\"" MD_MT_OCI_CONFIG "\",\"digest\":\""
			      DG_1 "\"},\"layers\":[]}");
}

static void fx_free(void)
{
	free(fx.multi);
	free(fx.m1);
	free(fx.c1);
	free(fx.single);
	free(fx.c2);
	free(fx.stamped);
	free(fx.badcfg);
}

/* 200 with the body, its media type and a Docker-Content-Digest (the
 * body's own unless `digest` says otherwise). */
static char *serve_doc(const char *body, const char *type, const char *digest)
{
	char dg[MD_DIGEST_STR_LEN + 1], hdr[400];

	fx_digest(body, dg);
	snprintf(hdr, sizeof(hdr), "Content-Type: %s\r\nDocker-Content-Digest: %s\r\n", type,
		 digest ? digest : dg);
	return reply(200, hdr, body);
}

static int is_get(const char *head, const char *kind, const char *ref)
{
	char line[256];

	snprintf(line, sizeof(line), "GET /v2/acme/app/%s/%s ", kind, ref);
	return strncmp(head, line, strlen(line)) == 0;
}

static char *h_facts(const char *head, int port)
{
	(void)port;
	if (is_get(head, "manifests", "multi") || is_get(head, "manifests", fx.d_multi))
		return serve_doc(fx.multi, MD_MT_OCI_INDEX, NULL);
	if (is_get(head, "manifests", fx.d_m1))
		return serve_doc(fx.m1, MD_MT_OCI_MANIFEST, NULL);
	if (is_get(head, "blobs", fx.d_c1))
		return serve_doc(fx.c1, "application/octet-stream", NULL);
	if (is_get(head, "manifests", "single"))
		return serve_doc(fx.single, MD_MT_DOCKER_MANIFEST, NULL);
	if (is_get(head, "blobs", fx.d_c2)) /* a CDN-style hop, as registries do */
		return reply(307, "Location: /cdn/c2\r\n", "");
	if (strncmp(head, "GET /cdn/c2 ", 12) == 0)
		return serve_doc(fx.c2, "application/octet-stream", NULL);
	if (is_get(head, "blobs", DG_1)) /* not what DG_1 names */
		return serve_doc(fx.c1, "application/octet-stream", NULL);
	if (is_get(head, "manifests", "stamped"))
		return serve_doc(fx.stamped, MD_MT_OCI_INDEX, NULL);
	if (is_get(head, "manifests", "liar"))
		return serve_doc(fx.stamped, MD_MT_OCI_INDEX, DG_1);
	if (is_get(head, "manifests", "mismatch"))
		return serve_doc(fx.single, MD_MT_OCI_INDEX, NULL);
	if (is_get(head, "manifests", "badcfg"))
		return serve_doc(fx.badcfg, MD_MT_OCI_MANIFEST, NULL);
	return reply(404, "", "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\"}]}");
}

static uint64_t requests_of(const struct md_registry *r)
{
	struct md_registry_stats st;

	md_registry_stats(r, &st);
	return st.requests;
}

static void test_client_image_facts(void **state)
{
	struct md_image_facts f;
	struct md_registry *r;
	struct md_err err;
	struct fake f_srv;
	char dom[64], *log;
	uint64_t before;

	(void)state;
	fx_build();
	fake_start(&f_srv, h_facts);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f_srv.port);
	r = client(f_srv.port, NULL);

	/* index without created: its first image entry's config says it */
	assert_ok(md_registry_image_facts(r, dom, "acme/app", fx.d_multi, &f, &err));
	assert_string_equal(f.digest, fx.d_multi);
	assert_int_equal(f.created, 1704164645);
	assert_int_equal(f.platforms.n, 2);
	assert_string_equal(f.platforms.v[0], "linux/amd64");
	assert_string_equal(f.platforms.v[1], "linux/arm64");
	assert_int_equal(requests_of(r), 3);
	md_registry_image_facts_clear(&f);

	/* single manifest: platform from the config, created from the annotation */
	before = requests_of(r);
	assert_ok(md_registry_image_facts(r, dom, "acme/app", "single", &f, &err));
	assert_string_equal(f.digest, fx.d_single);
	assert_int_equal(f.created, 1677906367);
	assert_int_equal(f.platforms.n, 1);
	assert_string_equal(f.platforms.v[0], "linux/arm/v7");
	assert_int_equal(requests_of(r) - before, 3); /* manifest, blob, redirect hop */
	md_registry_image_facts_clear(&f);

	/* an index that says when it was built costs one request */
	before = requests_of(r);
	assert_ok(md_registry_image_facts(r, dom, "acme/app", "stamped", &f, &err));
	assert_int_equal(f.created, 1643767322);
	assert_int_equal(f.platforms.n, 1);
	assert_string_equal(f.platforms.v[0], "linux/s390x");
	assert_int_equal(requests_of(r) - before, 1);
	md_registry_image_facts_clear(&f);
	md_registry_free(r);
	log = fake_stop(&f_srv);
	assert_non_null(strstr(log, "Accept: " MD_REG_MANIFEST_ACCEPT "\r\n"));
	free(log);
	fx_free();
}

static void test_client_image_facts_refused(void **state)
{
	struct md_image_facts f;
	struct md_registry_stats st;
	struct md_registry *r;
	struct md_err err;
	struct fake f_srv;
	char dom[64], want[600];

	(void)state;
	fx_build();
	fake_start(&f_srv, h_facts);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f_srv.port);
	r = client(f_srv.port, NULL);
	assert_int_equal(md_registry_image_facts(r, dom, "acme/app", "liar", &f, &err), -1);
	assert_null(f.digest);
	snprintf(want, sizeof(want), "registry %s: manifest at http://%s/v2/acme/app/manifests/liar "
		 "has digest ", dom, dom);
	assert_true(md_str_has_prefix(err.msg, want));
	assert_true(md_str_has_suffix(err.msg, " but should have " DG_1));
	/* asked by digest: the body must hash to it */
	assert_int_equal(md_registry_image_facts(r, dom, "acme/app", fx.d_single, &f, &err), -1);
	snprintf(want, sizeof(want), "registry %s: manifest %s not found in repository acme/app",
		 dom, fx.d_single);
	assert_true(md_str_has_prefix(err.msg, want));
	assert_int_equal(md_registry_image_facts(r, dom, "acme/app", "mismatch", &f, &err), -1);
	snprintf(want, sizeof(want), "registry %s: manifest at http://%s/v2/acme/app/manifests/"
		 "mismatch was served as " MD_MT_OCI_INDEX " but says it is " MD_MT_DOCKER_MANIFEST,
		 dom, dom);
	assert_string_equal(err.msg, want);
	assert_int_equal(md_registry_image_facts(r, dom, "acme/app", "badcfg", &f, &err), -1);
	snprintf(want, sizeof(want), "registry %s: blob at http://%s/v2/acme/app/blobs/" DG_1
		 " has digest %s but should have " DG_1, dom, dom, fx.d_c1);
	assert_string_equal(err.msg, want);
	assert_int_equal(md_registry_image_facts(r, dom, "acme/app", "nope", &f, &err), -1);
	snprintf(want, sizeof(want), "registry %s: tag nope not found in repository acme/app", dom);
	assert_true(md_str_has_prefix(err.msg, want));
	assert_int_equal(md_registry_image_facts(r, dom, "Acme", "x", &f, &err), -1);
	assert_non_null(strstr(err.msg, "invalid repository name \"Acme\""));
	md_registry_stats(r, &st);
	assert_int_equal(st.errors, 6);
	md_registry_free(r);
	free(fake_stop(&f_srv));
	fx_free();
}

/* ---- transport: retries, Retry-After, page sizes, counters (issue 7) ------- */

static void test_retry_after_parse(void **state)
{
	(void)state;
	assert_int_equal(md_reg_retry_after_ms("5", 0), 5000);
	assert_int_equal(md_reg_retry_after_ms(" 2 ", 0), 2000);
	assert_int_equal(md_reg_retry_after_ms("0", 0), 0);
	assert_int_equal(md_reg_retry_after_ms("99999999999999999999", 0), 86400000);
	assert_int_equal(md_reg_retry_after_ms("5x", 0), -1);
	assert_int_equal(md_reg_retry_after_ms("soon", 0), -1);
	assert_int_equal(md_reg_retry_after_ms("", 0), -1);
	assert_int_equal(md_reg_retry_after_ms(NULL, 0), -1);
	/* HTTP dates (IMF-fixdate, RFC 850, asctime) relative to now */
	assert_int_equal(md_reg_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", 1445412477), 3000);
	assert_int_equal(md_reg_retry_after_ms("Wednesday, 21-Oct-15 07:28:00 GMT", 1445412478),
			 2000);
	assert_int_equal(md_reg_retry_after_ms("Wed Oct 21 07:28:00 2015", 1445412479), 1000);
	assert_int_equal(md_reg_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490), 0);
}

static void test_backoff_schedule_pure(void **state)
{
	(void)state;
	assert_int_equal(md_reg_backoff_ms(0, 0), 250);
	assert_int_equal(md_reg_backoff_ms(0, 250), 500);
	assert_int_equal(md_reg_backoff_ms(0, 251), 250);
	assert_int_equal(md_reg_backoff_ms(1, 0), 500);
	assert_int_equal(md_reg_backoff_ms(1, 500), 1000);
	assert_int_equal(md_reg_backoff_ms(2, 0), 1000);
	assert_int_equal(md_reg_backoff_ms(6, 0), 15000);  /* 32 s capped at 30 s */
	assert_int_equal(md_reg_backoff_ms(60, 15000), 30000);
	for (uint64_t x = 1; x < 100000; x = x * 7 + 3) {
		int64_t d = md_reg_backoff_ms(3, x);

		assert_true(d >= 2000 && d <= 4000);
	}
}

static void test_status_class_table(void **state)
{
	(void)state;
	assert_string_equal(md_reg_status_class(200), "2xx");
	assert_string_equal(md_reg_status_class(206), "2xx");
	assert_string_equal(md_reg_status_class(307), "3xx");
	assert_string_equal(md_reg_status_class(404), "4xx");
	assert_string_equal(md_reg_status_class(429), "4xx");
	assert_string_equal(md_reg_status_class(503), "5xx");
	assert_string_equal(md_reg_status_class(0), "error");
	assert_string_equal(md_reg_status_class(99), "error");
	assert_string_equal(md_reg_status_class(600), "error");
}

static void test_url_host_and_ratelimit_parse(void **state)
{
	char h[64];
	int64_t n, w;

	(void)state;
	assert_int_equal(md_reg_url_host("https://Registry-1.Docker.io/v2/x", h, sizeof(h)), 0);
	assert_string_equal(h, "registry-1.docker.io");
	assert_int_equal(md_reg_url_host("http://127.0.0.1:5000?x=1", h, sizeof(h)), 0);
	assert_string_equal(h, "127.0.0.1:5000");
	assert_int_equal(md_reg_url_host("http://user:pw@host/x", h, sizeof(h)), 0);
	assert_string_equal(h, "host");
	assert_int_equal(md_reg_url_host("no-scheme/x", h, sizeof(h)), -1);
	assert_int_equal(md_reg_url_host("http:///x", h, sizeof(h)), -1);
	assert_int_equal(md_reg_url_host("http://a-very-long-host-name/x", h, 8), -1);
	assert_int_equal(md_reg_ratelimit_parse("76;w=21600", &n, &w), 0);
	assert_int_equal(n, 76);
	assert_int_equal(w, 21600);
	assert_int_equal(md_reg_ratelimit_parse(" 100", &n, &w), 0);
	assert_int_equal(n, 100);
	assert_int_equal(w, 0);
	assert_int_equal(md_reg_ratelimit_parse("none", &n, &w), -1);
	assert_int_equal(md_reg_ratelimit_parse(NULL, &n, &w), -1);
}

struct sleeps {
	int64_t ms[16];
	int n;
};

static void record_sleep(void *ctx, int64_t ms)
{
	struct sleeps *s = ctx;

	if (s->n < 16)
		s->ms[s->n++] = ms;
}

static struct md_registry *tx_client(int port, int page_size, struct sleeps *rec)
{
	static struct md_strv insecure;
	struct md_registry_opts o = { 0 };
	struct md_registry *r;
	struct md_err err;
	char host[64];

	md_strv_free(&insecure);
	snprintf(host, sizeof(host), "127.0.0.1:%d", port);
	md_strv_push(&insecure, host);
	o.insecure_hosts = &insecure;
	o.connect_timeout = 5;
	o.timeout = 10;
	o.page_size = page_size;
	o.sleep_ms = record_sleep;
	o.sleep_ctx = rec;
	assert_int_equal(md_registry_new(&r, &o, &err), 0);
	return r;
}

#define TAGS_JSON(name) "{\"name\":\"" name "\",\"tags\":[\"1.0\",\"2.0\"]}"
#define JSON_CT "Content-Type: application/json; charset=utf-8\r\n"

static char *h_faults(const char *head, int port)
{
	static int burst, limited, dated;
	char hdr[128], date[64];
	time_t t;

	(void)port;
	if (strncmp(head, "GET /v2/burst/tags/list", 23) == 0 && burst++ < 2)
		return reply(503, "", "{\"errors\":[{\"code\":\"UNAVAILABLE\"}]}");
	if (strncmp(head, "GET /v2/burst/tags/list", 23) == 0)
		return reply(200, JSON_CT, TAGS_JSON("burst"));
	if (strncmp(head, "GET /v2/down/tags/list", 22) == 0)
		return reply(503, "", "{\"errors\":[{\"code\":\"UNAVAILABLE\",\"message\":\"down\"}]}");
	if (strncmp(head, "GET /v2/limited/tags/list", 25) == 0 && limited++ < 1)
		return reply(429, "Retry-After: 1\r\n", "");
	if (strncmp(head, "GET /v2/limited/tags/list", 25) == 0)
		return reply(200, JSON_CT, TAGS_JSON("limited"));
	if (strncmp(head, "GET /v2/dated/tags/list", 23) == 0 && dated++ < 1) {
		t = time(NULL) + 2;
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", gmtime(&t));
		snprintf(hdr, sizeof(hdr), "Retry-After: %s\r\n", date);
		return reply(429, hdr, "");
	}
	if (strncmp(head, "GET /v2/dated/tags/list", 23) == 0)
		return reply(200, JSON_CT, TAGS_JSON("dated"));
	if (strncmp(head, "GET /v2/quota/tags/list", 23) == 0)
		return reply(429, "Retry-After: 120\r\n", "");
	if (strncmp(head, "GET /v2/html/tags/list", 22) == 0)
		return reply(200, "Content-Type: text/html\r\n", "<html>maintenance</html>");
	if (strncmp(head, "GET /v2/broken/tags/list", 24) == 0)
		return reply(200, JSON_CT, "{\"name\":\"broken\",\"tags\":[\"1.0\"");
	if (strncmp(head, "GET /v2/huge/tags/list", 22) == 0) {
		/* 50 MB with no Content-Length: only the body cap can stop it */
		size_t n = 50u * 1024 * 1024;
		char *out = malloc(n + 128);
		int k = snprintf(out, 128, "HTTP/1.1 200 OK\r\nConnection: close\r\n" JSON_CT "\r\n");

		memset(out + k, ' ', n);
		out[k + n] = '\0';
		return out;
	}
	if (strncmp(head, "GET /v2/huge2/tags/list", 23) == 0)
		return md_asprintf("HTTP/1.1 200 OK\r\nConnection: close\r\n" JSON_CT
				   "Content-Length: 52428800\r\n\r\n{");
	if (strstr(head, "/manifests/page "))
		return md_asprintf("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n"
				   "Content-Type: text/html\r\n\r\n");
	if (strstr(head, "/manifests/rl "))
		return md_asprintf("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n"
				   "Content-Type: " MD_MT_OCI_INDEX "\r\n"
				   "ratelimit-limit: 100;w=21600\r\nRateLimit-Remaining: 7;w=21600\r\n"
				   "Docker-Content-Digest: " DIGEST_A "\r\n\r\n");
	/* pages: n above 300 is "too large" (Quay answers 413) */
	if (strncmp(head, "GET /v2/p", 9) == 0 && strstr(head, "/tags/list?n=")) {
		int n = atoi(strstr(head, "?n=") + 3);

		if (n > 300)
			return reply(413, "", "{\"errors\":[{\"code\":\"PAGINATION_NUMBER_INVALID\"}]}");
		return reply(200, JSON_CT, TAGS_JSON("p"));
	}
	if (strncmp(head, "GET /v2/non/tags/list?", 22) == 0)
		return reply(400, "", "{\"errors\":[{\"code\":\"PAGINATION_NUMBER_INVALID\"}]}");
	if (strncmp(head, "GET /v2/non/tags/list ", 22) == 0)
		return reply(200, JSON_CT, TAGS_JSON("non"));
	return reply(404, "", "");
}

static uint64_t counter_of(const struct md_registry *r, const char *method, const char *cls)
{
	struct md_registry_counter c;

	for (size_t i = 0; md_registry_counter(r, i, &c) == 0; i++)
		if (strcmp(c.method, method) == 0 && strcmp(c.status_class, cls) == 0)
			return c.n;
	return 0;
}

static void test_client_5xx_backoff(void **state)
{
	struct sleeps rec = { { 0 }, 0 };
	struct md_registry_stats st;
	struct md_registry_counter c;
	struct md_strv tags = { 0 };
	struct md_registry *r;
	struct md_err err;
	struct fake f;
	char dom[64], *log;

	(void)state;
	fake_start(&f, h_faults);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f.port);
	r = tx_client(f.port, 100, &rec);
	assert_ok(md_registry_list_tags(r, dom, "burst", &tags, &err));
	assert_int_equal(tags.n, 2);
	assert_int_equal(rec.n, 2);
	assert_true(rec.ms[0] >= 240 && rec.ms[0] <= 500);
	assert_true(rec.ms[1] >= 490 && rec.ms[1] <= 1000);
	md_registry_stats(r, &st);
	assert_int_equal(st.retries, 2);
	assert_int_equal(st.requests, 3);
	assert_int_equal(counter_of(r, "GET", "5xx"), 2);
	assert_int_equal(counter_of(r, "GET", "2xx"), 1);
	assert_int_equal(md_registry_counter(r, 0, &c), 0);
	assert_string_equal(c.host, dom);
	assert_int_equal(md_registry_counter(r, 2, &c), -1);

	/* a registry that stays down: 4 attempts, 3 waits, then its error */
	rec.n = 0;
	assert_int_equal(md_registry_list_tags(r, dom, "down", &tags, &err), -1);
	assert_non_null(strstr(err.msg, "/v2/down/tags/list?n=100 answered HTTP 503: UNAVAILABLE: down"));
	assert_int_equal(rec.n, 3);
	assert_true(rec.ms[2] >= 990 && rec.ms[2] <= 2000);
	md_registry_free(r);
	log = fake_stop(&f);
	assert_int_equal(count(log, "GET /v2/burst/tags/list"), 3);
	assert_int_equal(count(log, "GET /v2/down/tags/list"), 4);
	free(log);
	md_strv_free(&tags);
}

static void test_client_429_retry_after(void **state)
{
	struct sleeps rec = { { 0 }, 0 };
	struct md_strv tags = { 0 };
	struct md_registry *r;
	struct md_err err;
	struct fake f;
	char dom[64], *log;

	(void)state;
	fake_start(&f, h_faults);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f.port);
	r = tx_client(f.port, 100, &rec);
	assert_ok(md_registry_list_tags(r, dom, "limited", &tags, &err));
	assert_int_equal(rec.n, 1);
	assert_true(rec.ms[0] >= 900 && rec.ms[0] <= 1000);
	assert_ok(md_registry_list_tags(r, dom, "dated", &tags, &err));
	assert_int_equal(rec.n, 2);
	assert_true(rec.ms[1] >= 900 && rec.ms[1] <= 2000);
	assert_int_equal(counter_of(r, "GET", "4xx"), 2);

	/* a Retry-After beyond the budget: no wait, a clear error, and the
	 * host is left alone by the next repository too */
	rec.n = 0;
	assert_int_equal(md_registry_list_tags(r, dom, "quota", &tags, &err), -1);
	assert_int_equal(rec.n, 0);
	assert_non_null(strstr(err.msg, "registry 127.0.0.1:"));
	assert_non_null(strstr(err.msg, "rate limited (HTTP 429) on GET http://127.0.0.1:"));
	assert_non_null(strstr(err.msg, "/v2/quota/tags/list?n=100; gave up after 1 attempt (Retry-After: 120) within the retry budget of 10 s"));
	assert_int_equal(md_registry_list_tags(r, dom, "burst", &tags, &err), -1);
	assert_non_null(strstr(err.msg, "asked to wait (Retry-After: 120), longer than the retry budget of 10 s; GET http://127.0.0.1:"));
	assert_int_equal(rec.n, 0);
	md_registry_free(r);
	log = fake_stop(&f);
	assert_int_equal(count(log, "GET /v2/limited/tags/list"), 2);
	assert_int_equal(count(log, "GET /v2/quota/tags/list"), 1);
	assert_int_equal(count(log, "GET /v2/burst/tags/list"), 0);
	free(log);
	md_strv_free(&tags);
}

static void test_client_bad_bodies(void **state)
{
	struct sleeps rec = { { 0 }, 0 };
	struct md_strv tags = { 0 };
	struct md_registry *r;
	struct md_err err;
	struct fake f;
	char dom[64], *dg = NULL, *mt = NULL;
	int64_t t0;

	(void)state;
	fake_start(&f, h_faults);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f.port);
	r = tx_client(f.port, 100, &rec);
	assert_int_equal(md_registry_list_tags(r, dom, "html", &tags, &err), -1);
	assert_non_null(strstr(err.msg, "repository html: tag list at http://127.0.0.1:"));
	assert_non_null(strstr(err.msg, "/v2/html/tags/list?n=100 is not JSON (Content-Type: text/html)"));
	assert_int_equal(md_registry_list_tags(r, dom, "broken", &tags, &err), -1);
	assert_non_null(strstr(err.msg, "repository broken"));
	assert_non_null(strstr(err.msg, "/v2/broken/tags/list?n=100"));
	t0 = md_time_mono_ms();
	assert_int_equal(md_registry_list_tags(r, dom, "huge", &tags, &err), -1);
	assert_non_null(strstr(err.msg, "/v2/huge/tags/list?n=100 exceeds 8388608 bytes"));
	assert_int_equal(md_registry_list_tags(r, dom, "huge2", &tags, &err), -1);
	assert_non_null(strstr(err.msg, "/v2/huge2/tags/list?n=100 exceeds 8388608 bytes"));
	assert_true(md_time_mono_ms() - t0 < 5000);
	assert_int_equal(tags.n, 0);
	assert_int_equal(counter_of(r, "GET", "error"), 2);
	assert_int_equal(md_registry_head_manifest(r, dom, "x", "page", &dg, &mt, &err), -1);
	assert_non_null(strstr(err.msg, "repository x: page at http://127.0.0.1:"));
	assert_non_null(strstr(err.msg, "/v2/x/manifests/page is not a manifest (Content-Type: text/html)"));
	assert_null(dg);
	assert_int_equal(rec.n, 0);
	md_registry_free(r);
	free(fake_stop(&f));
}

static void test_client_page_size_probe(void **state)
{
	struct sleeps rec = { { 0 }, 0 };
	struct md_strv tags = { 0 };
	struct md_registry *r;
	struct md_err err;
	struct fake f;
	char dom[64], *log;

	(void)state;
	fake_start(&f, h_faults);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f.port);
	r = tx_client(f.port, 1000, &rec);
	assert_ok(md_registry_list_tags(r, dom, "p1", &tags, &err));
	assert_ok(md_registry_list_tags(r, dom, "p2", &tags, &err));
	assert_int_equal(tags.n, 4);
	md_registry_free(r);
	/* no n accepted at all: 1000, 500, 250, 125, 100, then none */
	r = tx_client(f.port, 1000, &rec);
	assert_ok(md_registry_list_tags(r, dom, "non", &tags, &err));
	assert_ok(md_registry_list_tags(r, dom, "non", &tags, &err));
	assert_int_equal(tags.n, 8);
	md_registry_free(r);
	log = fake_stop(&f);
	assert_int_equal(count(log, "GET /v2/p1/tags/list?n=1000 "), 1);
	assert_int_equal(count(log, "GET /v2/p1/tags/list?n=500 "), 1);
	assert_int_equal(count(log, "GET /v2/p1/tags/list?n=250 "), 1);
	assert_int_equal(count(log, "GET /v2/p2/tags/list"), 1);
	assert_int_equal(count(log, "GET /v2/p2/tags/list?n=250 "), 1);
	assert_int_equal(count(log, "GET /v2/non/tags/list?n=125 "), 1);
	assert_int_equal(count(log, "GET /v2/non/tags/list?n=100 "), 1);
	assert_int_equal(count(log, "GET /v2/non/tags/list?"), 5);
	assert_int_equal(count(log, "GET /v2/non/tags/list "), 2);
	assert_int_equal(rec.n, 0);
	free(log);
	md_strv_free(&tags);
}

static void test_client_ratelimit_headers(void **state)
{
	struct sleeps rec = { { 0 }, 0 };
	struct md_registry_ratelimit rl;
	struct md_registry *r;
	struct md_err err;
	struct fake f;
	char dom[64], *dg, *mt;

	(void)state;
	fake_start(&f, h_faults);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f.port);
	r = tx_client(f.port, 100, &rec);
	assert_int_equal(md_registry_ratelimit(r, 0, &rl), -1);
	assert_ok(md_registry_head_manifest(r, dom, "x", "rl", &dg, &mt, &err));
	assert_int_equal(md_registry_ratelimit(r, 0, &rl), 0);
	assert_string_equal(rl.host, dom);
	assert_int_equal(rl.limit, 100);
	assert_int_equal(rl.remaining, 7);
	assert_int_equal(rl.window, 21600);
	assert_int_equal(md_registry_ratelimit(r, 1, &rl), -1);
	assert_int_equal(counter_of(r, "HEAD", "2xx"), 1);
	free(dg);
	free(mt);
	md_registry_free(r);
	free(fake_stop(&f));
}

/* ---- issue 7: auth file lookup order, helpers, identity tokens ------------ */

static void expect_files(const struct md_registry_auth_env *env, const char *const *want)
{
	struct md_strv got = { 0 };
	struct md_err err;
	size_t n = 0;

	assert_ok(md_registry_auth_files(&got, env, &err));
	while (want[n])
		n++;
	if (got.n != n)
		fail_msg("got %zu files, want %zu (first: %s)", got.n, n, got.n ? got.v[0] : "-");
	for (size_t i = 0; i < n; i++)
		assert_string_equal(got.v[i], want[i]);
	md_strv_free(&got);
}

static void test_auth_files_order(void **state)
{
	static const struct {
		struct md_registry_auth_env env;
		const char *want[6];
	} cases[] = {
		/* an explicit file is the only one */
		{ { "/etc/md.json", "/etc/other.json", "/run/user/7", NULL, "/home/u", NULL, 7 },
		  { "/etc/md.json" } },
		{ { "", "/etc/other.json", "/run/user/7", NULL, "/home/u", NULL, 7 },
		  { "/etc/other.json" } },
		/* podman's order */
		{ { NULL, NULL, "/run/user/7", NULL, "/home/u", NULL, 7 },
		  { "/run/user/7/containers/auth.json", "/home/u/.config/containers/auth.json",
		    "/home/u/.docker/config.json", "/home/u/.dockercfg" } },
		{ { NULL, NULL, NULL, "/xdg", "/home/u", "/dc", 1000 },
		  { "/run/containers/1000/auth.json", "/xdg/containers/auth.json",
		    "/dc/config.json", "/home/u/.dockercfg" } },
		/* empty values count as unset; no HOME drops what needs it */
		{ { "", "", "", "", "", "", 0 }, { "/run/containers/0/auth.json" } },
		{ { NULL, NULL, NULL, "/xdg", NULL, "/dc", 0 },
		  { "/run/containers/0/auth.json", "/xdg/containers/auth.json", "/dc/config.json" } },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_files(&cases[i].env, cases[i].want);
}

static int find(const char *json, int legacy, const char *domain, const char *path,
		struct md_reg_cred *c, struct md_err *err)
{
	return md_reg_auth_find(json, strlen(json), "/x/auth.json", legacy, domain, path, c, err);
}

static void test_auth_find_helpers_and_tokens(void **state)
{
	struct md_reg_cred c;
	struct md_err err;
	const char *j = "{\"auths\":{\"ghcr.io\":{\"auth\":\"" B64_USER_PASS "\"},"
			"\"quay.io\":{\"auth\":\"" B64_USER_PASS "\",\"identitytoken\":\"idt-1\"},"
			"\"registry.example\":{}},"
			"\"credHelpers\":{\"ghcr.io\":\"gh\",\"https://index.docker.io/v1/\":\"hub\"}}";

	(void)state;
	/* credHelpers by host win over auths */
	assert_int_equal(find(j, 0, "ghcr.io", "acme/web", &c, &err), 1);
	assert_string_equal(c.helper, "gh");
	assert_null(c.user);
	md_reg_cred_clear(&c);
	assert_int_equal(find(j, 0, "docker.io", "library/nginx", &c, &err), 1);
	assert_string_equal(c.helper, "hub");
	md_reg_cred_clear(&c);
	/* an identitytoken wins over auth */
	assert_int_equal(find(j, 0, "quay.io", "org/app", &c, &err), 1);
	assert_true(c.identity);
	assert_string_equal(c.user, "user");
	assert_string_equal(c.secret, "idt-1");
	md_reg_cred_clear(&c);
	/* {} and no key: nothing here */
	assert_int_equal(find(j, 0, "registry.example", "a", &c, &err), 0);
	assert_int_equal(find(j, 0, "other.example", "a", &c, &err), 0);
	/* the legacy ~/.dockercfg has no "auths" wrapper */
	assert_int_equal(find("{\"https://index.docker.io/v1/\":{\"auth\":\"" B64_HUB "\","
			      "\"email\":\"x@y\"}}", 1, "docker.io", "library/nginx", &c, &err), 1);
	assert_string_equal(c.user, "hub");
	assert_string_equal(c.secret, "hubpw");
	md_reg_cred_clear(&c);
	/* broken helper names never reach posix_spawnp */
	assert_int_equal(find("{\"credHelpers\":{\"ghcr.io\":\"../../bin/sh\"}}", 0, "ghcr.io",
			      "a", &c, &err), -1);
	assert_string_equal(err.msg, "auth file /x/auth.json: credHelpers entry \"ghcr.io\" is not a helper name");
	assert_int_equal(find("{\"credHelpers\":[]}", 0, "ghcr.io", "a", &c, &err), -1);
	assert_string_equal(err.msg, "auth file /x/auth.json: \"credHelpers\" is not an object");
	assert_int_equal(find("[]", 1, "ghcr.io", "a", &c, &err), -1);
	assert_string_equal(err.msg, "auth file /x/auth.json is not a JSON object");
	/* the old interface only reports user/password */
	{
		char *u, *p;

		assert_int_equal(lookup(j, "quay.io", "org/app", &u, &p, &err), 0);
		assert_int_equal(lookup(j, "ghcr.io", "org/app", &u, &p, &err), 0);
		assert_null(u);
	}
}

static void test_credhelper_parse(void **state)
{
	struct md_reg_cred c;
	struct md_err err;
	const char *ok = "{\"ServerURL\":\"ghcr.io\",\"Username\":\"bob\",\"Secret\":\"s3cr3t\"}";
	const char *tok = "{\"ServerURL\":\"ghcr.io\",\"Username\":\"<token>\",\"Secret\":\"rt-9\"}";

	(void)state;
	assert_int_equal(md_reg_credhelper_parse(ok, strlen(ok), "gh", &c, &err), 0);
	assert_false(c.identity);
	assert_string_equal(c.user, "bob");
	assert_string_equal(c.secret, "s3cr3t");
	md_reg_cred_clear(&c);
	assert_int_equal(md_reg_credhelper_parse(tok, strlen(tok), "gh", &c, &err), 0);
	assert_true(c.identity);
	assert_null(c.user);
	assert_string_equal(c.secret, "rt-9");
	md_reg_cred_clear(&c);
	assert_int_equal(md_reg_credhelper_parse("credentials not found in native keychain", 40,
						 "gh", &c, &err), -1);
	assert_string_equal(err.msg, "credential helper docker-credential-gh printed invalid JSON (line 1)");
	assert_int_equal(md_reg_credhelper_parse("{\"Username\":\"bob\",\"Secret\":\"\"}", 30, "gh",
						 &c, &err), -1);
	assert_string_equal(err.msg, "credential helper docker-credential-gh printed no \"Username\" and \"Secret\"");
	assert_int_equal(md_reg_credhelper_parse("{\"Secret\":\"zz-top\"}", 19, "gh", &c, &err), -1);
	assert_null(strstr(err.msg, "zz-top"));
}

static void test_refresh_form(void **state)
{
	char *f;

	(void)state;
	f = md_reg_refresh_form("rt/9+x=", "registry.docker.io", "repository:library/nginx:pull");
	assert_string_equal(f, "grant_type=refresh_token&refresh_token=rt%2F9%2Bx%3D"
			       "&service=registry.docker.io&scope=repository%3Alibrary%2Fnginx%3Apull"
			       "&client_id=magos-dominus");
	md_reg_secret_free(f);
	f = md_reg_refresh_form("rt", NULL, NULL);
	assert_string_equal(f, "grant_type=refresh_token&refresh_token=rt&client_id=magos-dominus");
	md_reg_secret_free(f);
}

/* A client reading credentials from an ordered list of files. */
static struct md_registry *client_files(int port, const struct md_strv *files)
{
	static struct md_strv insecure;
	struct md_registry_opts o = { 0 };
	struct md_registry *r;
	struct md_err err;
	char host[64];

	md_strv_free(&insecure);
	snprintf(host, sizeof(host), "127.0.0.1:%d", port);
	md_strv_push(&insecure, host);
	o.insecure_hosts = &insecure;
	o.auth_files = files;
	o.connect_timeout = 5;
	o.timeout = 10;
	o.page_size = 2;
	if (md_registry_new(&r, &o, &err) < 0)
		fail_msg("md_registry_new: %s", err.msg);
	return r;
}

static char *write_file_at(const char *name, const char *content)
{
	char *path = md_asprintf("/tmp/md-auth-%d-%s", (int)getpid(), name);
	struct md_err err;

	assert_int_equal(md_file_write_atomic(path, content, strlen(content), 0700, &err), 0);
	return path;
}

static void test_client_auth_files_first_match(void **state)
{
	struct md_strv files = { 0 }, tags = { 0 };
	struct md_registry *r;
	struct md_err err;
	struct fake f;
	char dom[64], *log, *wrong, *right, *other, *json;

	(void)state;
	fake_start(&f, h_token_flow);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f.port);
	other = write_file_at("other.json", "{\"auths\":{\"ghcr.io\":{\"auth\":\"dXNlcjp3cm9uZw==\"}}}");
	json = md_asprintf("{\"auths\":{\"%s\":{\"auth\":\"" B64_USER_PASS "\"}}}", dom);
	right = write_file_at("right.json", json);
	free(json);
	json = md_asprintf("{\"auths\":{\"%s\":{\"auth\":\"dXNlcjp3cm9uZw==\"}}}", dom);
	wrong = write_file_at("wrong.json", json);
	/* missing → skipped; no entry for this host → next; first match wins */
	md_strv_push(&files, "/nonexistent/containers/auth.json");
	md_strv_push(&files, other);
	md_strv_push(&files, right);
	md_strv_push(&files, wrong);
	r = client_files(f.port, &files);
	assert_ok(md_registry_list_tags(r, dom, "acme/web", &tags, &err));
	assert_int_equal(tags.n, 3);
	md_registry_free(r);
	log = fake_stop(&f);
	assert_int_equal(count(log, "Authorization: Basic " B64_USER_PASS "\r\n"), 1);
	free(log);
	/* a malformed file is an error naming it, at construction */
	md_file_write_atomic(wrong, "{nope", 5, 0600, &err);
	{
		struct md_registry_opts o = { 0 };

		o.auth_files = &files;
		assert_int_equal(md_registry_new(&r, &o, &err), -1);
		assert_non_null(strstr(err.msg, wrong));
		assert_non_null(strstr(err.msg, "is not valid JSON"));
	}
	unlink(other);
	unlink(right);
	unlink(wrong);
	free(other);
	free(right);
	free(wrong);
	free(json);
	md_strv_free(&files);
	md_strv_free(&tags);
}

/* The helper (a shell script on PATH) answers with user:pass or an
 * identity token depending on the server URL it is given. */
static const char helper_script[] =
	"#!/bin/sh\n"
	"[ \"$1\" = get ] || exit 2\n"
	"read -r url\n"
	"echo \"$url\" >> \"$0.log\"\n"
	"[ -e \"$0.none\" ] && { echo 'credentials not found in native keychain'; exit 1; }\n"
	"case \"$url\" in\n"
	"127.0.0.1:*) printf '{\"ServerURL\":\"%s\",\"Username\":\"user\",\"Secret\":\"pass\"}' \"$url\" ;;\n"
	"localhost:*) printf '{\"ServerURL\":\"%s\",\"Username\":\"<token>\",\"Secret\":\"idt-123\"}' \"$url\" ;;\n"
	"*) echo 'credentials not found in native keychain'; exit 1 ;;\n"
	"esac\n";

static char *install_helper(void)
{
	char *dir = md_asprintf("/tmp/md-helper-%d", (int)getpid());
	char *prog = md_asprintf("%s/docker-credential-mdunit", dir);
	char *path = md_asprintf("%s:/usr/bin:/bin", dir);
	struct md_err err;

	assert_int_equal(md_mkdir_p(dir, 0700, &err), 0);
	assert_int_equal(md_file_write_atomic(prog, helper_script, strlen(helper_script), 0700,
					      &err), 0);
	setenv("PATH", path, 1);
	free(prog);
	free(path);
	return dir;
}

static void remove_helper(char *dir)
{
	char *p = md_asprintf("%s/docker-credential-mdunit", dir), *l = md_asprintf("%s.log", p);

	unlink(p);
	unlink(l);
	rmdir(dir);
	free(p);
	free(l);
	free(dir);
}

static void test_client_credhelper_basic(void **state)
{
	struct md_strv files = { 0 }, tags = { 0 };
	struct md_registry *r;
	struct md_err err;
	struct fake f;
	char dom[64], *log, *file, *json, *dir = install_helper(), *hlog;

	(void)state;
	fake_start(&f, h_token_flow);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f.port);
	/* credHelpers beat an auths entry with wrong credentials */
	json = md_asprintf("{\"auths\":{\"%s\":{\"auth\":\"dXNlcjp3cm9uZw==\"}},"
			   "\"credHelpers\":{\"%s\":\"mdunit\"}}", dom, dom);
	file = write_file_at("helper.json", json);
	md_strv_push(&files, file);
	r = client_files(f.port, &files);
	assert_ok(md_registry_list_tags(r, dom, "acme/web", &tags, &err));
	assert_int_equal(tags.n, 3);
	md_registry_free(r);
	log = fake_stop(&f);
	assert_int_equal(count(log, "Authorization: Basic " B64_USER_PASS "\r\n"), 1);
	free(log);
	hlog = md_asprintf("%s/docker-credential-mdunit.log", dir);
	assert_int_equal(md_file_read(hlog, 4096, &log, NULL, &err), 0);
	json = (free(json), md_asprintf("%s\n", dom));
	assert_string_equal(log, json); /* server URL on stdin, once */
	free(log);
	free(hlog);
	/* "credentials not found" from the helper: anonymous */
	fake_start(&f, h_token_flow);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f.port);
	unlink(file);
	free(file);
	free(json);
	json = md_asprintf("{\"credHelpers\":{\"%s\":\"mdunit\"}}", dom);
	file = write_file_at("helper.json", json);
	hlog = md_asprintf("%s/docker-credential-mdunit.none", dir);
	md_file_write_atomic(hlog, "", 0, 0600, &err);
	r = client_files(f.port, &files);
	assert_ok(md_registry_list_tags(r, dom, "acme/web", &tags, &err));
	md_registry_free(r);
	log = fake_stop(&f);
	assert_int_equal(count(log, "GET /token"), 1);
	assert_null(strstr(log, "Authorization: Basic"));
	free(log);
	unlink(hlog);
	free(hlog);
	/* a helper that is not installed: an error naming it */
	fake_start(&f, h_token_flow);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f.port);
	unlink(file);
	free(file);
	free(json);
	json = md_asprintf("{\"credHelpers\":{\"%s\":\"nosuch\"}}", dom);
	file = write_file_at("helper.json", json);
	r = client_files(f.port, &files);
	assert_int_equal(md_registry_list_tags(r, dom, "acme/web", &tags, &err), -1);
	assert_non_null(strstr(err.msg, "credential helper: cannot run docker-credential-nosuch: No such file or directory"));
	md_registry_free(r);
	free(fake_stop(&f));
	unlink(file);
	free(file);
	free(json);
	md_strv_free(&files);
	md_strv_free(&tags);
	remove_helper(dir);
}

/* Like fake_serve but also reads a request body (Content-Length), so a
 * POST's form reaches the handler and the log. */
static void fake_serve_body(int ls, int port, fake_handler h, const char *log)
{
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		int fd = accept(ls, NULL, NULL);
		char *head, *resp, *cl;
		struct md_buf req;
		FILE *fp;

		if (fd < 0)
			continue;
		head = read_head(fd);
		md_buf_init(&req, 1 << 20);
		md_buf_puts(&req, head);
		if ((cl = strcasestr(head, "\r\nContent-Length: "))) {
			long n = strtol(cl + 18, NULL, 10);
			char c;

			while (n-- > 0 && read(fd, &c, 1) == 1)
				md_buf_append(&req, &c, 1);
		}
		if ((fp = fopen(log, "a"))) {
			fprintf(fp, "%s\n====\n", req.data);
			fclose(fp);
		}
		resp = h(req.data, port);
		write_all(fd, resp, strlen(resp));
		shutdown(fd, SHUT_WR);
		close(fd);
		free(head);
		free(resp);
		md_buf_free(&req);
	}
}

static void fake_start_body(struct fake *f, fake_handler h)
{
	struct sockaddr_in a = { 0 };
	socklen_t len = sizeof(a);
	int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	assert_true(ls >= 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(ls, 16), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &len), 0);
	f->port = ntohs(a.sin_port);
	snprintf(f->log, sizeof(f->log), "/tmp/md-fake-%d-%d.log", (int)getpid(), f->port);
	unlink(f->log);
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		fake_serve_body(ls, f->port, h, f->log);
		_exit(0);
	}
	close(ls);
}

/* The OAuth2 refresh flow: POST /token with the identity token, answered
 * with access_token; a GET /token would be a failure. */
static char *h_refresh_flow(const char *head, int port)
{
	static const char form[] =
		"grant_type=refresh_token&refresh_token=idt-123&service=fake"
		"&scope=repository%3Aacme%2Fweb%3Apull&client_id=magos-dominus";

	if (strncmp(head, "POST /token ", 12) == 0) {
		if (!strstr(head, "Content-Type: application/x-www-form-urlencoded\r\n") ||
		    !strstr(head, form))
			return reply(400, "", "{}");
		return reply(200, "Content-Type: application/json\r\n",
			     "{\"access_token\":\"tok1\",\"expires_in\":300,\"scope\":\"\"}");
	}
	if (strncmp(head, "GET /token", 10) == 0)
		return reply(401, "", "{}");
	return h_token_flow(head, port);
}

static void test_client_identity_token_refresh(void **state)
{
	struct md_strv files = { 0 }, tags = { 0 };
	struct md_registry_stats st;
	struct md_registry *r;
	struct md_err err;
	struct fake f;
	char dom[64], *log, *file, *json, *dir = install_helper();

	(void)state;
	fake_start_body(&f, h_refresh_flow);
	/* "localhost:*" makes the helper answer with an identity token */
	snprintf(dom, sizeof(dom), "localhost:%d", f.port);
	json = md_asprintf("{\"credHelpers\":{\"%s\":\"mdunit\"}}", dom);
	file = write_file_at("idt.json", json);
	md_strv_push(&files, file);
	{
		static struct md_strv insecure;
		struct md_registry_opts o = { 0 };

		md_strv_free(&insecure);
		md_strv_push(&insecure, dom);
		o.insecure_hosts = &insecure;
		o.auth_files = &files;
		o.page_size = 2;
		assert_ok(md_registry_new(&r, &o, &err));
	}
	assert_ok(md_registry_list_tags(r, dom, "acme/web", &tags, &err));
	assert_int_equal(tags.n, 3);
	md_registry_stats(r, &st);
	assert_int_equal(st.token_requests, 1);
	md_registry_free(r);
	log = fake_stop(&f);
	assert_int_equal(count(log, "POST /token"), 1);
	assert_int_equal(count(log, "GET /token"), 0);
	assert_null(strstr(log, "Authorization: Basic"));
	free(log);
	/* the same flow from an auth.json identitytoken */
	unlink(file);
	free(file);
	free(json);
	fake_start_body(&f, h_refresh_flow);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f.port);
	json = md_asprintf("{\"auths\":{\"%s\":{\"identitytoken\":\"idt-123\"}}}", dom);
	file = write_file_at("idt.json", json);
	r = client_files(f.port, &files);
	assert_ok(md_registry_list_tags(r, dom, "acme/web", &tags, &err));
	md_registry_free(r);
	log = fake_stop(&f);
	assert_int_equal(count(log, "POST /token"), 1);
	free(log);
	unlink(file);
	free(file);
	free(json);
	md_strv_free(&files);
	md_strv_free(&tags);
	remove_helper(dir);
}

/* Tokens tokN: the registry accepts tok1 for one request only (as if it
 * expired early), then wants tok2. */
static char *h_token_revoked(const char *head, int port)
{
	static int issued, tok1_uses;
	char hdr[512], body[128];

	if (strncmp(head, "GET /token?", 11) == 0) {
		snprintf(body, sizeof(body), "{\"token\":\"tok%d\",\"expires_in\":300}", ++issued);
		return reply(200, "Content-Type: application/json\r\n", body);
	}
	if ((strstr(head, "Authorization: Bearer tok1\r\n") && tok1_uses++ == 0) ||
	    strstr(head, "Authorization: Bearer tok2\r\n"))
		return md_asprintf("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n"
				   "Content-Type: application/vnd.oci.image.index.v1+json\r\n"
				   "Docker-Content-Digest: " DIGEST_A "\r\n\r\n");
	snprintf(hdr, sizeof(hdr),
		 "WWW-Authenticate: Bearer realm=\"http://127.0.0.1:%d/token\",service=\"fake\","
		 "scope=\"repository:acme/web:pull\"\r\n", port);
	return reply(401, hdr, "{}");
}

static void test_client_reauth_after_401(void **state)
{
	struct md_registry_stats st;
	struct md_registry *r;
	struct md_err err;
	struct fake f;
	char dom[64], *dg = NULL, *mt = NULL, *log;

	(void)state;
	fake_start(&f, h_token_revoked);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f.port);
	r = client(f.port, NULL);
	assert_ok(md_registry_head_manifest(r, dom, "acme/web", "1.0", &dg, &mt, &err));
	free(dg);
	free(mt);
	/* the cached tok1 is refused: dropped, a new token fetched, once */
	assert_ok(md_registry_head_manifest(r, dom, "acme/web", "1.0", &dg, &mt, &err));
	assert_string_equal(dg, DIGEST_A);
	free(dg);
	free(mt);
	md_registry_stats(r, &st);
	assert_int_equal(st.token_requests, 2);
	md_registry_free(r);
	log = fake_stop(&f);
	assert_int_equal(count(log, "Authorization: Bearer tok1"), 2);
	assert_int_equal(count(log, "Authorization: Bearer tok2"), 1);
	free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_challenge_bearer),
		cmocka_unit_test(test_challenge_escaped_quotes),
		cmocka_unit_test(test_challenge_basic_then_bearer),
		cmocka_unit_test(test_challenge_bearer_then_basic),
		cmocka_unit_test(test_challenge_basic_only),
		cmocka_unit_test(test_challenge_missing_scope_unquoted),
		cmocka_unit_test(test_challenge_token68_then_bearer),
		cmocka_unit_test(test_challenge_errors),
		cmocka_unit_test(test_link_relative),
		cmocka_unit_test(test_link_absolute),
		cmocka_unit_test(test_link_other_params),
		cmocka_unit_test(test_link_multiple),
		cmocka_unit_test(test_link_malformed),
		cmocka_unit_test(test_url_resolve),
		cmocka_unit_test(test_url_origin),
		cmocka_unit_test(test_token_url),
		cmocka_unit_test(test_base_url),
		cmocka_unit_test(test_validators),
		cmocka_unit_test(test_header_split),
		cmocka_unit_test(test_media_type),
		cmocka_unit_test(test_error_summary),
		cmocka_unit_test(test_token_parse),
		cmocka_unit_test(test_token_parse_errors),
		cmocka_unit_test(test_tags_parse),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_auth_exact_host),
		cmocka_unit_test(test_auth_most_specific),
		cmocka_unit_test(test_auth_docker_aliases),
		cmocka_unit_test(test_auth_http_prefix),
		cmocka_unit_test(test_auth_decoding),
		cmocka_unit_test(test_auth_no_match),
		cmocka_unit_test(test_auth_bad_entries),
		cmocka_unit_test(test_manifest_index_with_attestations),
		cmocka_unit_test(test_manifest_docker_list),
		cmocka_unit_test(test_manifest_image),
		cmocka_unit_test(test_manifest_type_from_body),
		cmocka_unit_test(test_manifest_errors),
		cmocka_unit_test(test_manifest_platform_cap),
		cmocka_unit_test(test_config_parse),
		cmocka_unit_test(test_client_token_flow),
		cmocka_unit_test(test_client_basic_to_token_service),
		cmocka_unit_test(test_client_missing_auth_file),
		cmocka_unit_test(test_client_denied),
		cmocka_unit_test(test_client_page_size_refused),
		cmocka_unit_test(test_client_digest_by_get),
		cmocka_unit_test(test_client_redirect_drops_auth),
		cmocka_unit_test(test_client_connect_refused),
		cmocka_unit_test(test_client_image_facts),
		cmocka_unit_test(test_client_image_facts_refused),
		cmocka_unit_test(test_auth_files_order),
		cmocka_unit_test(test_auth_find_helpers_and_tokens),
		cmocka_unit_test(test_credhelper_parse),
		cmocka_unit_test(test_refresh_form),
		cmocka_unit_test(test_client_auth_files_first_match),
		cmocka_unit_test(test_client_credhelper_basic),
		cmocka_unit_test(test_client_identity_token_refresh),
		cmocka_unit_test(test_client_reauth_after_401),
		cmocka_unit_test(test_retry_after_parse),
		cmocka_unit_test(test_backoff_schedule_pure),
		cmocka_unit_test(test_status_class_table),
		cmocka_unit_test(test_url_host_and_ratelimit_parse),
		cmocka_unit_test(test_client_5xx_backoff),
		cmocka_unit_test(test_client_429_retry_after),
		cmocka_unit_test(test_client_bad_bodies),
		cmocka_unit_test(test_client_page_size_probe),
		cmocka_unit_test(test_client_ratelimit_headers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

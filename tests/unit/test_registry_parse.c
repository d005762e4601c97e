/* registry: pure parsers of the wire protocol: WWW-Authenticate challenges,
 * Link headers, URLs and name validators, header lines, error bodies,
 * token and tag-list responses. */
#include "unit.h"
#include "ref_cases.h"
#include "registry_fixture.h"

/* ---- WWW-Authenticate ---------------------------------------------------- */

static void test_challenge_bearer(void **state)
{
	struct md_reg_challenge c;
	struct md_err err;

	(void)state;
	assert_int_equal(md_registry__challenge_parse(&c,
		"Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
		"scope=\"repository:samalba/my-app:pull,push\"", "u", &err), 0);
	assert_int_equal(c.scheme, MD_REG_SCHEME_BEARER);
	assert_string_equal(c.realm, "https://auth.docker.io/token");
	assert_string_equal(c.service, "registry.docker.io");
	assert_string_equal(c.scope, "repository:samalba/my-app:pull,push");
	assert_null(c.error);
	md_registry__challenge_clear(&c);
}

static void test_challenge_escaped_quotes(void **state)
{
	struct md_reg_challenge c;
	struct md_err err;

	(void)state;
	assert_int_equal(md_registry__challenge_parse(&c,
		"Bearer realm=\"https://x/t?a=\\\"b\\\"\\\\\", service = \"s, t\"", "u", &err), 0);
	assert_string_equal(c.realm, "https://x/t?a=\"b\"\\");
	assert_string_equal(c.service, "s, t");
	md_registry__challenge_clear(&c);
}

static void test_challenge_basic_then_bearer(void **state)
{
	struct md_reg_challenge c;
	struct md_err err;

	(void)state;
	assert_int_equal(md_registry__challenge_parse(&c,
		"Basic realm=\"Quay, Inc\", Bearer realm=\"https://quay.io/v2/auth\",service=\"quay.io\"",
		"u", &err), 0);
	assert_int_equal(c.scheme, MD_REG_SCHEME_BEARER);
	assert_string_equal(c.realm, "https://quay.io/v2/auth");
	assert_string_equal(c.service, "quay.io");
	assert_null(c.scope);
	md_registry__challenge_clear(&c);
}

static void test_challenge_bearer_then_basic(void **state)
{
	struct md_reg_challenge c;
	struct md_err err;

	(void)state;
	assert_int_equal(md_registry__challenge_parse(&c,
		"Bearer realm=\"https://a/token\", Basic realm=\"b\"", "u", &err), 0);
	assert_int_equal(c.scheme, MD_REG_SCHEME_BEARER);
	assert_string_equal(c.realm, "https://a/token");
	md_registry__challenge_clear(&c);
}

static void test_challenge_basic_only(void **state)
{
	struct md_reg_challenge c;
	struct md_err err;

	(void)state;
	assert_int_equal(md_registry__challenge_parse(&c, "Basic realm=\"Registry Realm\"", "u", &err),
			 0);
	assert_int_equal(c.scheme, MD_REG_SCHEME_BASIC);
	assert_string_equal(c.realm, "Registry Realm");
	md_registry__challenge_clear(&c);
}

static void test_challenge_missing_scope_unquoted(void **state)
{
	struct md_reg_challenge c;
	struct md_err err;

	(void)state;
	assert_int_equal(md_registry__challenge_parse(&c,
		"BEARER REALM=https://ghcr.io/token,Service=ghcr.io,error=insufficient_scope", "u",
		&err), 0);
	assert_int_equal(c.scheme, MD_REG_SCHEME_BEARER);
	assert_string_equal(c.realm, "https://ghcr.io/token");
	assert_string_equal(c.service, "ghcr.io");
	assert_string_equal(c.error, "insufficient_scope");
	assert_null(c.scope);
	md_registry__challenge_clear(&c);
}

static void test_challenge_token68_then_bearer(void **state)
{
	struct md_reg_challenge c;
	struct md_err err;

	(void)state;
	assert_int_equal(md_registry__challenge_parse(&c,
		"Negotiate YII+/abc==, Bearer realm=\"https://r/t\"", "u", &err), 0);
	assert_int_equal(c.scheme, MD_REG_SCHEME_BEARER);
	assert_string_equal(c.realm, "https://r/t");
	md_registry__challenge_clear(&c);
}

static void test_challenge_errors(void **state)
{
	struct md_reg_challenge c;
	struct md_err err;

	(void)state;
	assert_int_equal(md_registry__challenge_parse(&c, "Bearer service=\"x\"", "http://h/v2/", &err),
			 -1);
	assert_string_equal(err.msg, "Bearer challenge from http://h/v2/ has no realm");
	assert_int_equal(md_registry__challenge_parse(&c, "Negotiate abc==", "U", &err), -1);
	assert_string_equal(err.msg, "U asks for authentication but offers neither Bearer nor Basic");
	assert_int_equal(md_registry__challenge_parse(&c, "Bearer realm=\"unterminated", "U", &err), -1);
	assert_string_equal(err.msg, "U sent a malformed WWW-Authenticate header");
	assert_int_equal(md_registry__challenge_parse(&c, NULL, "U", &err), -1);
	assert_non_null(strstr(err.msg, "neither Bearer nor Basic"));
	assert_int_equal(md_registry__challenge_parse(&c, "Bearer realm=\"x\" @@", "U", &err), -1);
	assert_non_null(strstr(err.msg, "malformed"));
}

/* ---- Link ------------------------------------------------------------------ */

static void check_link(const char *header, const char *want)
{
	char *out = (char *)1;

	assert_int_equal(md_registry__link_next(header, &out), 0);
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
	assert_int_equal(md_registry__url_resolve("http://127.0.0.1:5000/v2/a/tags/list?n=2",
					    "/v2/a/tags/list?n=2&last=b", &out, &err), 0);
	assert_string_equal(out, "http://127.0.0.1:5000/v2/a/tags/list?n=2&last=b");
	free(out);
	assert_int_equal(md_registry__url_resolve("https://r.example/v2/a/tags/list",
					    "list?next_page=abc%2Bdef=", &out, &err), 0);
	assert_string_equal(out, "https://r.example/v2/a/tags/list?next_page=abc%2Bdef=");
	free(out);
	assert_int_equal(md_registry__url_resolve("https://r.example/v2/",
					    "https://cdn.example:8443/blob?x=1", &out, &err), 0);
	assert_string_equal(out, "https://cdn.example:8443/blob?x=1");
	free(out);
	assert_int_equal(md_registry__url_resolve("https://r.example/v2/", "ftp://x/y", &out, &err), -1);
	assert_non_null(strstr(err.msg, "is not http or https"));
	assert_null(out);
}

static void test_url_origin(void **state)
{
	char *a = md_registry__url_origin("https://Registry.Example/v2/x");
	char *b = md_registry__url_origin("https://registry.example:443/other?q=1");
	char *c = md_registry__url_origin("http://registry.example/v2/x");
	char *d = md_registry__url_origin("http://127.0.0.1:5000/v2/");

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
	u = md_registry__token_url("https://auth.docker.io/token", "registry.docker.io",
			     "repository:library/nginx:pull");
	assert_string_equal(u, "https://auth.docker.io/token?service=registry.docker.io"
			       "&scope=repository%3Alibrary%2Fnginx%3Apull");
	free(u);
	u = md_registry__token_url("https://q/auth?x=1", NULL, "repository:a b:pull,push");
	assert_string_equal(u, "https://q/auth?x=1&scope=repository%3Aa%20b%3Apull%2Cpush");
	free(u);
}

static void test_base_url(void **state)
{
	struct md_strv insecure = { 0 };
	char *u;

	(void)state;
	assert_int_equal(md_strv_push(&insecure, "127.0.0.1:5000"), 0);
	u = md_registry__base_url("docker.io", &insecure);
	assert_string_equal(u, "https://registry-1.docker.io");
	free(u);
	u = md_registry__base_url("127.0.0.1:5000", &insecure);
	assert_string_equal(u, "http://127.0.0.1:5000");
	free(u);
	u = md_registry__base_url("127.0.0.1:5001", &insecure);
	assert_string_equal(u, "https://127.0.0.1:5001");
	free(u);
	u = md_registry__base_url("ghcr.io", NULL);
	assert_string_equal(u, "https://ghcr.io");
	free(u);
	md_strv_clear(&insecure);
}

static void test_validators(void **state)
{
	static const char *good_paths[] = { "library/nginx", "a", "a/b/c", "a.b_c__d--e/f-g",
					    "0/1" };
	static const char *bad_paths[] = { "", "A/b", "a//b", "/a", "a/", "a..b", "a___b",
					   "a/../b", "a?b", "a/b#", "-a", "a-" };

	struct md_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(good_paths) / sizeof(*good_paths); i++)
		assert_int_equal(md_registry__check_names("ghcr.io", good_paths[i], NULL, &err), 0);
	for (size_t i = 0; i < sizeof(bad_paths) / sizeof(*bad_paths); i++)
		assert_int_equal(md_registry__check_names("ghcr.io", bad_paths[i], NULL, &err), -1);
	assert_int_equal(md_registry__check_names("ghcr.io", "a", "1.25-alpine", &err), 0);
	assert_int_equal(md_registry__check_names("ghcr.io", "a", "_x", &err), 0);
	assert_int_equal(md_registry__check_names("ghcr.io", "a",
		"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", &err), 0);
	assert_int_equal(md_registry__check_names("ghcr.io", "a", ".x", &err), -1);
	assert_int_equal(md_registry__check_names("ghcr.io", "a", "a/b", &err), -1);
	assert_int_equal(md_registry__check_names("ghcr.io", "a", "a?b", &err), -1);
	assert_int_equal(md_registry__check_names("ghcr.io", "a", "sha256:short", &err), -1);
	assert_string_equal(err.msg,
			    "registry ghcr.io: invalid tag or digest \"sha256:short\" for repository a");
	assert_int_equal(md_registry__check_names("127.0.0.1:5000", "a", NULL, &err), 0);
	assert_int_equal(md_registry__check_names("[::1]:5000", "a", NULL, &err), 0);
	assert_int_equal(md_registry__check_names("a/b", "a", NULL, &err), -1);
	assert_int_equal(md_registry__check_names("a@b", "a", NULL, &err), -1);
	assert_int_equal(md_registry__check_names("", "a", NULL, &err), -1);
	assert_int_equal(md_registry__check_names(NULL, "a", NULL, &err), -1);
	assert_int_equal(md_registry__check_names("ghcr.io", NULL, NULL, &err), -1);
}

/* The registry takes exactly what the ref module's grammar takes: in a
 * request (tag or digest) and from a tag list (tags only). */
static void test_names_agree_with_ref(void **state)
{
	struct md_strv tags = { 0 };
	struct md_buf body;
	struct md_err err;
	size_t kept = 0;
	char *url;

	(void)state;
	md_buf_init(&body, 4096);
	md_buf_puts(&body, "{\"name\":\"a\",\"tags\":[");
	for (size_t i = 0; i < REF_PIECE_CASES; i++) {
		const struct ref_piece_case *c = &ref_piece_cases[i];
		int want = c->tag || c->digest ? 0 : -1;

		if (md_registry__check_names("ghcr.io", "a", c->s, &err) != want)
			fail_msg("'%s': the registry disagrees with the ref grammar", c->s);
		md_buf_printf(&body, "%s\"%s\"", i ? "," : "", c->s);
		kept += (size_t)c->tag;
	}
	md_buf_puts(&body, "]}");
	assert_int_equal(md_registry__tags_parse(body.data, body.len, "U", &tags, 100, &err), 0);
	assert_int_equal(tags.n, kept);
	for (size_t i = 0; i < tags.n; i++)
		assert_true(md_ref_valid_tag(tags.v[i]));
	/* Docker Hub's API host by the same rule (host names in any case) */
	url = md_registry__base_url("DOCKER.IO", NULL);
	assert_string_equal(url, "https://registry-1.docker.io");
	free(url);
	md_strv_clear(&tags);
	md_buf_clear(&body);
}

/* ---- headers and bodies ----------------------------------------------------- */

static void test_header_split(void **state)
{
	const char *v;
	size_t n;
	char name[32];
	const char *line = "WWW-Authenticate:  Bearer realm=\"x\" \r\n";

	(void)state;
	assert_int_equal(md_registry__header_split(line, strlen(line), name, sizeof(name), &v, &n), 0);
	assert_string_equal(name, "www-authenticate");
	assert_int_equal(n, strlen("Bearer realm=\"x\""));
	assert_memory_equal(v, "Bearer realm=\"x\"", n);
	line = "HTTP/1.1 200 OK\r\n";
	assert_int_equal(md_registry__header_split(line, strlen(line), name, sizeof(name), &v, &n), -1);
	line = "\r\n";
	assert_int_equal(md_registry__header_split(line, strlen(line), name, sizeof(name), &v, &n), -1);
	line = "X-A-Very-Long-Header-Name-Beyond-Limit: 1\r\n";
	assert_int_equal(md_registry__header_split(line, strlen(line), name, sizeof(name), &v, &n), -1);
	line = "Link:\r\n";
	assert_int_equal(md_registry__header_split(line, strlen(line), name, sizeof(name), &v, &n), 0);
	assert_int_equal(n, 0);
}

static void test_media_type(void **state)
{
	char *s;

	(void)state;
	s = md_registry__media_type(" Application/vnd.OCI.image.index.v1+json ; charset=utf-8");
	assert_string_equal(s, "application/vnd.oci.image.index.v1+json");
	free(s);
	assert_null(md_registry__media_type(NULL));
	assert_null(md_registry__media_type("; x=y"));
}

static void test_error_summary(void **state)
{
	const char *b1 = "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"repository name "
			 "not known\\nto registry\",\"detail\":{}}]}";
	char *s;

	(void)state;
	s = md_registry__error_summary(b1, strlen(b1));
	assert_string_equal(s, "NAME_UNKNOWN: repository name not known to registry");
	free(s);
	s = md_registry__error_summary("{\"errors\":[{\"code\":\"DENIED\"}]}", 30);
	assert_string_equal(s, "DENIED");
	free(s);
	assert_null(md_registry__error_summary("<html>nope</html>", 17));
	assert_null(md_registry__error_summary("{\"errors\":[]}", 13));
	assert_null(md_registry__error_summary(NULL, 0));
}

static void test_token_parse(void **state)
{
	const char *b1 = "{\"token\":\"abc.def\",\"expires_in\":300,"
			 "\"issued_at\":\"2024-01-02T03:04:05Z\"}";
	struct md_err err;
	int64_t exp = 0, now = 1704164645 + 20;
	char *tok;

	(void)state;
	assert_int_equal(md_registry__token_parse(b1, strlen(b1), now, "U", &tok, &exp, &err), 0);
	assert_string_equal(tok, "abc.def");
	assert_int_equal(exp, 1704164645 + 300);
	free(tok);
	/* access_token fallback; expires_in default 60; short lifetimes raised to 60 */
	assert_int_equal(md_registry__token_parse("{\"access_token\":\"t2\",\"expires_in\":5}", 36, 1000,
					    "U", &tok, &exp, &err), 0);
	assert_string_equal(tok, "t2");
	assert_int_equal(exp, 1060);
	free(tok);
	/* issued_at in the future (clock skew): count from receipt */
	assert_int_equal(md_registry__token_parse(b1, strlen(b1), 1000, "U", &tok, &exp, &err), 0);
	assert_int_equal(exp, 1300);
	free(tok);
}

static void test_token_parse_errors(void **state)
{
	struct md_err err;
	int64_t exp;
	char *tok;

	(void)state;
	assert_int_equal(md_registry__token_parse("{\"expires_in\":60}", 17, 0, "https://t/x", &tok,
					    &exp, &err), -1);
	assert_string_equal(err.msg, "token service https://t/x answered without a token");
	assert_int_equal(md_registry__token_parse("{\"token\":\"a\\r\\nX-Evil: 1\"}", 26, 0, "U", &tok,
					    &exp, &err), -1);
	assert_non_null(strstr(err.msg, "invalid characters"));
	assert_null(strstr(err.msg, "Evil"));
	assert_int_equal(md_registry__token_parse("nope", 4, 0, "U", &tok, &exp, &err), -1);
	assert_string_equal(err.msg, "token service U did not answer with a JSON object");
}

static void test_tags_parse(void **state)
{
	const char *b = "{\"name\":\"a/b\",\"tags\":[\"1.0\",\"latest\",\"bad tag\",\"2.0\"]}";
	struct md_strv tags = { 0 };
	struct md_err err;

	(void)state;
	assert_int_equal(md_registry__tags_parse(b, strlen(b), "U", &tags, 10, &err), 0);
	assert_int_equal(tags.n, 3);
	assert_string_equal(tags.v[0], "1.0");
	assert_string_equal(tags.v[1], "latest");
	assert_string_equal(tags.v[2], "2.0");
	assert_int_equal(md_registry__tags_parse("{\"name\":\"a\",\"tags\":null}", 24, "U", &tags, 10,
					   &err), 0);
	assert_int_equal(tags.n, 3);
	assert_int_equal(md_registry__tags_parse(b, strlen(b), "U", &tags, 5, &err), -1);
	assert_string_equal(err.msg, "repository lists more than 5 tags (at U)");
	md_strv_clear(&tags);
	assert_int_equal(md_registry__tags_parse("{\"tags\":[1]}", 12, "U", &tags, 5, &err), -1);
	assert_string_equal(err.msg, "tag list from U has a non-string entry at index 0");
	assert_int_equal(md_registry__tags_parse("{\"tags\":{}}", 11, "U", &tags, 5, &err), -1);
	assert_non_null(strstr(err.msg, "is not an object"));
	assert_int_equal(md_registry__tags_parse("[", 1, "U", &tags, 5, &err), -1);
	assert_non_null(strstr(err.msg, "tag list from U is not valid JSON"));
	md_strv_clear(&tags);
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
		cmocka_unit_test(test_names_agree_with_ref),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

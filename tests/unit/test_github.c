/* github: the pure parts. The App JWT (structure, exact claims, signature
 * checked with the public key), key-file refusals, remote URL parsing and
 * the parsers of GitHub's answers. HTTP behaviours: test_github_http.c. */
#include "unit.h"
#include "test_github_fixture.h"

static struct md_github *plain_client(const char *key_path, struct md_err *err, int *rc)
{
	struct md_github_opts o = { 0 };
	struct md_github *gh = NULL;

	o.api_url = "https://api.example.com/";
	o.app_id = "12345";
	o.key_file = key_path;
	o.owner = "acme";
	o.repo = "web";
	o.user_agent = "md-test/1";
	*rc = md_github_new(&gh, &o, err);
	return gh;
}

/* base64url (no padding) → bytes. */
static unsigned char *b64url_decode(const char *s, size_t n, size_t *outlen)
{
	char *t = calloc(1, n + 4);
	unsigned char *out = calloc(1, n + 4);
	size_t m = n;
	int len;

	for (size_t i = 0; i < n; i++)
		t[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	assert_null(memchr(s, '=', n));
	while (m % 4)
		t[m++] = '=';
	len = EVP_DecodeBlock(out, (unsigned char *)t, (int)m);
	assert_true(len >= 0);
	len -= (int)(m - n); /* EVP_DecodeBlock counts the padding */
	free(t);
	*outlen = (size_t)len;
	out[len] = '\0';
	return out;
}

static void test_jwt_claims_and_signature(void **state)
{
	struct md_err err;
	struct md_github *gh;
	char *jwt = NULL, *d1, *d2;
	unsigned char *hdr, *claims, *sig;
	size_t hl, cl, sl;
	EVP_MD_CTX *ctx;
	int rc;

	(void)state;
	gh = plain_client(fx_key_path, &err, &rc);
	assert_int_equal(rc, 0);
	assert_ok(md_github_jwt(gh, 1700000000, &jwt, &err));
	d1 = strchr(jwt, '.');
	assert_non_null(d1);
	d2 = strchr(d1 + 1, '.');
	assert_non_null(d2);
	assert_null(strchr(d2 + 1, '.'));
	hdr = b64url_decode(jwt, (size_t)(d1 - jwt), &hl);
	claims = b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &cl);
	sig = b64url_decode(d2 + 1, strlen(d2 + 1), &sl);
	assert_string_equal((char *)hdr, "{\"alg\":\"RS256\",\"typ\":\"JWT\"}");
	assert_string_equal((char *)claims, "{\"iat\":1699999940,\"exp\":1700000540,\"iss\":\"12345\"}");
	assert_int_equal(sl, 256);
	/* RS256 over "header.claims", checked with the public half. */
	ctx = EVP_MD_CTX_new();
	assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, fx_key), 1);
	assert_int_equal(EVP_DigestVerify(ctx, sig, sl, (unsigned char *)jwt, (size_t)(d2 - jwt)), 1);
	EVP_MD_CTX_free(ctx);
	/* A changed claim no longer verifies. */
	ctx = EVP_MD_CTX_new();
	jwt[3] ^= 1;
	assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, fx_key), 1);
	assert_int_not_equal(EVP_DigestVerify(ctx, sig, sl, (unsigned char *)jwt, (size_t)(d2 - jwt)),
			     1);
	EVP_MD_CTX_free(ctx);
	free(hdr);
	free(claims);
	free(sig);
	free(jwt);
	md_github_free(gh);
	md_github_free(NULL);
}

static void test_key_pkcs8_accepted(void **state)
{
	char path[160];
	struct md_err err;
	struct md_github *gh;
	char *jwt = NULL;
	int rc;

	(void)state;
	snprintf(path, sizeof(path), "%s/pkcs8.pem", fx_dir);
	write_pem(path, fx_key, 1, 0400);
	gh = plain_client(path, &err, &rc);
	assert_int_equal(rc, 0);
	assert_ok(md_github_jwt(gh, 1, &jwt, &err));
	assert_true(strlen(jwt) > 300);
	free(jwt);
	md_github_free(gh);
}

static void test_key_mode_refused(void **state)
{
	char path[160], want[400];
	struct md_err err;
	struct md_github *gh;
	int rc;

	(void)state;
	snprintf(path, sizeof(path), "%s/open.pem", fx_dir);
	write_pem(path, fx_key, 0, 0640);
	gh = plain_client(path, &err, &rc);
	assert_int_equal(rc, -1);
	assert_null(gh);
	snprintf(want, sizeof(want),
		 "the GitHub App key %s is readable by group or others (mode 0640): run `chmod 600 %s`",
		 path, path);
	assert_string_equal(err.msg, want);
	assert_int_equal(chmod(path, 0604), 0);
	gh = plain_client(path, &err, &rc);
	assert_int_equal(rc, -1);
	assert_contains(err.msg, "(mode 0604): run `chmod 600 ");
	assert_no_secret(err.msg);
	unlink(path);
	/* a missing file is named */
	gh = plain_client("/nonexistent/key.pem", &err, &rc);
	assert_int_equal(rc, -1);
	assert_contains(err.msg, "cannot open the GitHub App key /nonexistent/key.pem");
}

static void test_key_not_rsa_refused(void **state)
{
	char path[160];
	struct md_err err;
	struct md_github *gh;
	EVP_PKEY *ec = EVP_EC_gen("P-256");
	FILE *f;
	int rc;

	(void)state;
	assert_non_null(ec);
	snprintf(path, sizeof(path), "%s/ec.pem", fx_dir);
	write_pem(path, ec, 1, 0600);
	EVP_PKEY_free(ec);
	gh = plain_client(path, &err, &rc);
	assert_int_equal(rc, -1);
	assert_null(gh);
	assert_contains(err.msg, "is not an RSA private key (PEM)");
	assert_contains(err.msg, path);
	/* not PEM at all */
	f = fopen(path, "w");
	fputs("ghs_notakey\n", f);
	fclose(f);
	gh = plain_client(path, &err, &rc);
	assert_int_equal(rc, -1);
	assert_contains(err.msg, "is not an RSA private key (PEM)");
	assert_no_secret(err.msg);
	unlink(path);
}

static void test_new_refuses_missing_options(void **state)
{
	struct md_github_opts o = { 0 };
	struct md_github *gh = (struct md_github *)1;
	struct md_err err;

	(void)state;
	o.api_url = "https://api.example.com";
	o.app_id = "1";
	o.key_file = fx_key_path;
	assert_int_equal(md_github_new(&gh, &o, &err), -1);
	assert_null(gh);
	assert_string_equal(err.msg, "the GitHub client needs a User-Agent");
	o.user_agent = "ua";
	o.installation_id = "12a";
	assert_int_equal(md_github_new(&gh, &o, &err), -1);
	assert_string_equal(err.msg, "the GitHub installation id '12a' is not a number");
	o.installation_id = NULL;
	o.api_url = "ftp://x";
	assert_int_equal(md_github_new(&gh, &o, &err), -1);
	assert_contains(err.msg, "is not an http(s) URL");
}

/* ---- remote URLs ---------------------------------------------------------------------- */

static void test_parse_remote_table(void **state)
{
	static const struct {
		const char *url, *owner, *repo;
	} ok[] = {
		{ "https://github.com/acme/web", "acme", "web" },
		{ "https://github.com/acme/web.git", "acme", "web" },
		{ "https://github.com/acme/web/", "acme", "web" },
		{ "http://github.com/acme/web.git", "acme", "web" },
		{ "https://x-access-token@github.com/Acme-Co/my.repo.git", "Acme-Co", "my.repo" },
		{ "git@github.com:acme/web.git", "acme", "web" },
		{ "git@github.com:acme/web", "acme", "web" },
		{ "github.com:acme/web_2", "acme", "web_2" },
		{ "ssh://git@github.com/acme/web", "acme", "web" },
		{ "ssh://git@github.com:22/acme/web.git", "acme", "web" },
		{ "https://ghes.example.net:8443/ops/homelab.git", "ops", "homelab" },
		{ "http://127.0.0.1:3000/acme/web.git", "acme", "web" },
		/* ".git" inside a name, or a name that is only "git", is fine */
		{ "https://github.com/acme/web.gitops.git", "acme", "web.gitops" },
		{ "https://github.com/acme/git.git", "acme", "git" },
		{ "git@github.com:acme/my.wikis", "acme", "my.wikis" },
	};
	static const char *const bad[] = {
		"", "github.com", "https://github.com/acme", "https://github.com/acme/",
		"https://github.com/acme/web/extra", "https://github.com//web",
		"https://github.com/acme/..", "https://github.com/acme/.git",
		"file:///srv/git/acme/web.git", "/srv/git/acme/web.git", "./acme/web",
		"ftp://github.com/acme/web", "git@github.com:acme", "git@:acme/web",
		"https://github.com/ac me/web", "https://github.com/acme/w%20b",
		"git@github.com:acme/web/x.git",
	};
	struct md_err err;
	char *o, *r;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (md_github_parse_remote(ok[i].url, &o, &r, &err) != 0)
			fail_msg("%s: %s", ok[i].url, err.msg);
		assert_string_equal(o, ok[i].owner);
		assert_string_equal(r, ok[i].repo);
		free(o);
		free(r);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (md_github_parse_remote(bad[i], &o, &r, &err) != -1)
			fail_msg("accepted %s", bad[i]);
		assert_null(o);
		assert_null(r);
		assert_contains(err.msg, "cannot read owner/repo from the remote URL '");
	}
	/* exactly one ".git" is the URL's suffix; GitHub removes ".git" from
	 * names and reserves ".wiki", so what is left must not end in either */
	{
		static const char *const reserved[] = {
			"https://github.com/acme/web.git.git", "git@github.com:acme/web.git.git",
			"https://github.com/acme/web.git.git/", "ssh://git@github.com/acme/web.git.git",
			"https://github.com/acme/web.wiki.git", "https://github.com/acme/web.wiki",
		};

		for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
			if (md_github_parse_remote(reserved[i], &o, &r, &err) != -1)
				fail_msg("accepted %s as %s/%s", reserved[i], o, r);
			assert_null(o);
			assert_null(r);
			assert_contains(err.msg, "acme/web.");
			assert_contains(err.msg, "a GitHub repository name never ends in .git or .wiki");
		}
	}
	/* credentials in the URL never reach the message */
	assert_int_equal(md_github_parse_remote("https://x:ghs_secret@github.com/acme", &o, &r, &err),
			 -1);
	assert_string_equal(err.msg,
			    "cannot read owner/repo from the remote URL 'https://***@github.com/acme': "
			    "expected https://HOST/OWNER/REPO(.git) or git@HOST:OWNER/REPO(.git)");
	assert_no_secret(err.msg);
}

/* ---- parsers --------------------------------------------------------------------------- */

static int parse_tok(const char *b, char **t, int64_t *exp, struct md_err *err)
{
	return md_github__parse_token(b, strlen(b), t, exp, err);
}

static void test_parse_token(void **state)
{
	struct md_err err;
	char *t;
	int64_t exp;

	(void)state;
	assert_ok(parse_tok("{\"token\":\"ghs_abc\",\"expires_at\":\"2016-07-11T22:14:10Z\","
			    "\"permissions\":{}}", &t, &exp, &err));
	assert_string_equal(t, "ghs_abc");
	assert_int_equal(exp, 1468275250);
	free(t);
	assert_int_equal(parse_tok("[]", &t, &exp, &err), -1);
	assert_string_equal(err.msg, "GitHub's installation token answer is not a JSON object");
	assert_int_equal(parse_tok("{\"token\":\"ghs_x\"}", &t, &exp, &err), -1);
	assert_contains(err.msg, "lacks \"token\" or \"expires_at\"");
	assert_int_equal(parse_tok("{\"token\":\"ghs_x\\r\\nX: y\",\"expires_at\":"
				   "\"2016-07-11T22:14:10Z\"}", &t, &exp, &err), -1);
	assert_contains(err.msg, "not allowed in a header");
	assert_int_equal(parse_tok("{\"token\":\"\",\"expires_at\":\"2016-07-11T22:14:10Z\"}", &t,
				   &exp, &err), -1);
	assert_contains(err.msg, "unusable length");
	assert_int_equal(parse_tok("{\"token\":\"ghs_x\",\"expires_at\":\"soon\"}", &t, &exp, &err),
			 -1);
	assert_contains(err.msg, "unreadable expires_at");
	assert_null(t);
	assert_no_secret(err.msg);
}

static void test_link_next(void **state)
{
	char *u;

	(void)state;
	assert_int_equal(md_github__link_next("<https://api.github.com/repositories/1/pulls?page=2>; "
					 "rel=\"next\", <https://api.github.com/repositories/1/"
					 "pulls?page=5>; rel=\"last\"",
					 &u),
			 0);
	assert_string_equal(u, "https://api.github.com/repositories/1/pulls?page=2");
	free(u);
	assert_int_equal(md_github__link_next("<https://a/x?page=1>; rel=\"prev\", <https://a/x?page=3>; "
					 "rel=\"next\"",
					 &u),
			 0);
	assert_string_equal(u, "https://a/x?page=3");
	free(u);
	assert_int_equal(md_github__link_next("<https://a/x?page=1>; rel=\"first\"", &u), 0);
	assert_null(u);
	assert_int_equal(md_github__link_next("<https://a/x?page=1; rel=\"next\"", &u), 0);
	assert_null(u);
	assert_int_equal(md_github__link_next("<https://a/n>; rel=next", &u), 0);
	assert_string_equal(u, "https://a/n");
	free(u);
}

static void test_error_text(void **state)
{
	char out[128];
	const char *b = "{\"message\":\"Validation Failed\",\"errors\":[{\"resource\":\"PullRequest\","
			"\"code\":\"custom\",\"message\":\"No commits between main and x\"}]}";

	(void)state;
	md_github__error_text(b, strlen(b), out, sizeof(out));
	assert_string_equal(out, "Validation Failed: No commits between main and x");
	b = "{\"message\":\"Bad\\ncredentials\"}";
	md_github__error_text(b, strlen(b), out, sizeof(out));
	assert_string_equal(out, "Bad credentials");
	b = "{\"message\":\"V\",\"errors\":[{\"code\":\"missing_field\"}]}";
	md_github__error_text(b, strlen(b), out, sizeof(out));
	assert_string_equal(out, "V: missing_field");
	md_github__error_text("<html>", 6, out, sizeof(out));
	assert_string_equal(out, "");
	md_github__error_text(NULL, 0, out, sizeof(out));
	assert_string_equal(out, "");
}

static void test_pr_list_parse_filters(void **state)
{
	struct md_gh_prv pv = { 0 };
	struct md_err err;
	const char *b =
		"[{\"number\":1,\"title\":\"t1\",\"body\":null,\"html_url\":\"u1\","
		"\"head\":{\"ref\":\"magos/a\",\"sha\":\"s1\",\"repo\":{\"full_name\":\"acme/web\"}},"
		"\"base\":{\"ref\":\"main\"}},"
		"{\"number\":2,\"head\":{\"ref\":\"magos/b\",\"repo\":{\"full_name\":\"fork/web\"}},"
		"\"base\":{\"ref\":\"main\"}},"
		"{\"number\":3,\"head\":{\"ref\":\"feature\",\"repo\":{\"full_name\":\"acme/web\"}},"
		"\"base\":{\"ref\":\"main\"}},"
		"{\"number\":4,\"head\":{\"ref\":\"magos/c\",\"repo\":null},\"base\":{\"ref\":\"main\"}},"
		"7]";

	(void)state;
	assert_ok(md_github__parse_pr_list(b, strlen(b), "acme/web", "magos/", &pv, "GET x", &err));
	assert_int_equal(pv.n, 1);
	assert_int_equal(pv.v[0].number, 1);
	assert_string_equal(pv.v[0].head, "magos/a");
	assert_string_equal(pv.v[0].base, "main");
	assert_string_equal(pv.v[0].title, "t1");
	assert_string_equal(pv.v[0].body, "");
	assert_string_equal(pv.v[0].html_url, "u1");
	assert_string_equal(pv.v[0].head_sha, "s1");
	md_github__prv_free(&pv);
	assert_int_equal(md_github__parse_pr_list("{}", 2, NULL, NULL, &pv, "GET x", &err), -1);
	assert_string_equal(err.msg, "GitHub's answer to GET x is not a JSON array");
	assert_int_equal(md_github__parse_pr_list("[{\"number\":\"1\"}]", 16, NULL, NULL, &pv, "GET x",
					     &err),
			 -1);
	assert_contains(err.msg, "GET x: a pull request in GitHub's answer has no valid \"number\"");
	md_github__prv_free(&pv);
}

static void test_encoders(void **state)
{
	char *s;

	(void)state;
	s = md_github__b64("ab?", 3, 0);
	assert_string_equal(s, "YWI/");
	free(s);
	s = md_github__b64("ab?>", 4, 1);
	assert_string_equal(s, "YWI_Pg");
	free(s);
	s = md_github__b64("ab?>", 4, 0);
	assert_string_equal(s, "YWI/Pg==");
	free(s);
	s = md_github__b64("", 0, 0);
	assert_string_equal(s, "");
	free(s);
	s = md_github__pct("acme:magos/web v1~", 0);
	assert_string_equal(s, "acme%3Amagos%2Fweb%20v1~");
	free(s);
	s = md_github__pct("magos/web+x", 1);
	assert_string_equal(s, "magos/web%2Bx");
	free(s);
	assert_true(md_github__is_oid("0123456789abcdef0123456789abcdef01234567"));
	assert_false(md_github__is_oid("0123456789ABCDEF0123456789abcdef01234567"));
	assert_false(md_github__is_oid("0123"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jwt_claims_and_signature),
		cmocka_unit_test(test_key_pkcs8_accepted),
		cmocka_unit_test(test_key_mode_refused),
		cmocka_unit_test(test_key_not_rsa_refused),
		cmocka_unit_test(test_new_refuses_missing_options),
		cmocka_unit_test(test_parse_remote_table),
		cmocka_unit_test(test_parse_token),
		cmocka_unit_test(test_link_next),
		cmocka_unit_test(test_error_text),
		cmocka_unit_test(test_pr_list_parse_filters),
		cmocka_unit_test(test_encoders),
	};

	return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}

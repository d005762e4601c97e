/* github: HTTP behaviours against a scripted server in a thread. Tokens
 * (minting, caching, renewal, 401 retry), installation lookup, rate limits,
 * caps, pull requests and the Git Data commit sequence. Every failing call's
 * message is checked for tokens and JWTs. */
#include "unit.h"
#include "test_github_fixture.h"
#include "../../internal/util/util_int.h"


#define MINT_PATH "/app/installations/42/access_tokens"

static int is(const char *method, const char *path, const char *m, const char *p)
{
	return strcmp(method, m) == 0 && strcmp(path, p) == 0;
}

/* The mint every handler answers; it insists on a JWT and GitHub's headers. */
static char *maybe_mint(struct srv *s, const char *method, const char *path, const char *head)
{
	if (!is(method, path, "POST", MINT_PATH))
		return NULL;
	if (!strstr(head, "\r\nAuthorization: Bearer eyJ") ||
	    !strstr(head, "\r\nAccept: application/vnd.github+json\r\n") ||
	    !strstr(head, "\r\nX-GitHub-Api-Version: 2022-11-28\r\n") ||
	    !strstr(head, "\r\nUser-Agent: md-test/1\r\n"))
		return reply(400, "", "{\"message\":\"bad mint request\"}");
	return mint_reply(s);
}

/* REST calls must carry the installation token, not the JWT. */
static int has_token(const char *head, const char *tok)
{
	char want[64];

	snprintf(want, sizeof(want), "\r\nAuthorization: Bearer %s\r\n", tok);
	return strstr(head, want) != NULL;
}

/* ---- tokens ---------------------------------------------------------------------------- */

static char *h_mint_only(struct srv *s, const char *method, const char *path, const char *head,
			 const char *body)
{
	char *r = maybe_mint(s, method, path, head);

	(void)body;
	return r ? r : reply(404, "", "{\"message\":\"Not Found\"}");
}

static void test_token_mint_cache_renew(void **state)
{
	struct srv s;
	struct md_github *gh;
	struct md_github_stats st;
	struct md_err err;
	const char *tok;
	int64_t exp;

	(void)state;
	fx_now = 1700000000;
	srv_start(&s, h_mint_only);
	gh = client_for(&s, "42");
	assert_int_equal(md_github_token_expiry(gh), 0);
	assert_ok(md_github_token(gh, &tok, &err));
	assert_string_equal(tok, "ghs_tok1");
	exp = md_github_token_expiry(gh);
	assert_int_equal(exp, 1700000000 + 3600);
	assert_ok(md_github_token(gh, &tok, &err));
	assert_string_equal(tok, "ghs_tok1");
	fx_now = exp - 301; /* still more than 5 minutes left */
	assert_ok(md_github_token(gh, &tok, &err));
	assert_string_equal(tok, "ghs_tok1");
	assert_int_equal(s.mints, 1);
	fx_now = exp - 300; /* 5 minutes left: renew */
	assert_ok(md_github_token(gh, &tok, &err));
	assert_string_equal(tok, "ghs_tok2");
	assert_int_equal(md_github_token_expiry(gh), fx_now + 3600);
	md_github_token_invalidate(gh);
	assert_int_equal(md_github_token_expiry(gh), 0);
	assert_ok(md_github_token(gh, &tok, &err));
	assert_string_equal(tok, "ghs_tok3");
	assert_string_equal(s.log.data, "POST " MINT_PATH "\nPOST " MINT_PATH "\nPOST " MINT_PATH "\n");
	md_github_stats(gh, &st);
	assert_int_equal(st.requests, 3);
	assert_int_equal(st.tokens, 3);
	assert_int_equal(st.errors, 0);
	assert_int_equal(st.rate_remaining, -1);
	md_github_free(gh);
	srv_stop(&s);
}

/* Blocks of memory md_free_secret handed back to the allocator. */
static struct {
	uintptr_t p[64];
	size_t n[64];
	int count, dirty;
} dropped;

static void watch_drop(const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		dropped.dirty |= c[i] != 0;
	if (dropped.count < 64) {
		dropped.p[dropped.count] = (uintptr_t)p;
		dropped.n[dropped.count] = n;
	}
	dropped.count++;
}

/* Was the block at p, n bytes long, zeroed and freed? */
static int was_wiped(uintptr_t p, size_t n)
{
	for (int i = 0; i < dropped.count && i < 64; i++)
		if (dropped.p[i] == p && dropped.n[i] == n)
			return 1;
	return 0;
}

/* A token the client drops (renewed, invalidated, or with the client) is
 * zeroed before its memory is freed; so is every JWT after its request. */
static void test_token_wiped_when_replaced_or_freed(void **state)
{
	struct srv s;
	struct md_github *gh;
	struct md_err err;
	const char *tok;
	uintptr_t old;
	int before;

	(void)state;
	fx_now = 1700000000;
	srv_start(&s, h_mint_only);
	gh = client_for(&s, "42");
	memset(&dropped, 0, sizeof(dropped));
	md_util__freeing_secret = watch_drop;

	assert_ok(md_github_token(gh, &tok, &err));
	assert_string_equal(tok, "ghs_tok1");
	old = (uintptr_t)tok;
	/* The mint's JWT (header.claims.signature, hundreds of bytes) is gone. */
	assert_true(dropped.count >= 1);
	before = dropped.count;

	fx_now += 3600 - 300; /* renewal replaces the cached token */
	assert_ok(md_github_token(gh, &tok, &err));
	assert_string_equal(tok, "ghs_tok2");
	assert_true(was_wiped(old, strlen("ghs_tok1")));
	assert_true(dropped.count > before);

	old = (uintptr_t)tok;
	md_github_token_invalidate(gh);
	assert_true(was_wiped(old, strlen("ghs_tok2")));

	assert_ok(md_github_token(gh, &tok, &err));
	assert_string_equal(tok, "ghs_tok3");
	old = (uintptr_t)tok;
	md_github_free(gh);
	assert_true(was_wiped(old, strlen("ghs_tok3")));
	assert_false(dropped.dirty);
	md_util__freeing_secret = NULL;
	srv_stop(&s);
}

static char *h_install(struct srv *s, const char *method, const char *path, const char *head,
		       const char *body)
{
	(void)body;
	if (is(method, path, "GET", "/repos/acme/web/installation")) {
		if (s->mode == 1)
			return reply(404, "", "{\"message\":\"Not Found\"}");
		if (!strstr(head, "\r\nAuthorization: Bearer eyJ"))
			return reply(401, "", "{}");
		return reply(200, "", "{\"id\":77,\"app_id\":12345}");
	}
	if (is(method, path, "POST", "/app/installations/77/access_tokens"))
		return mint_reply(s);
	return reply(404, "", "{\"message\":\"Not Found\"}");
}

static void test_installation_lookup(void **state)
{
	struct srv s;
	struct md_github *gh;
	struct md_err err;
	const char *tok;
	char want[256];

	(void)state;
	fx_now = 1700000000;
	srv_start(&s, h_install);
	gh = client_for(&s, NULL);
	assert_ok(md_github_token(gh, &tok, &err));
	assert_string_equal(tok, "ghs_tok1");
	md_github_token_invalidate(gh);
	assert_ok(md_github_token(gh, &tok, &err)); /* the id is cached */
	assert_string_equal(s.log.data, "GET /repos/acme/web/installation\n"
					"POST /app/installations/77/access_tokens\n"
					"POST /app/installations/77/access_tokens\n");
	md_github_free(gh);

	s.mode = 1;
	gh = client_for(&s, NULL);
	assert_int_equal(md_github_token(gh, &tok, &err), -1);
	assert_null(tok);
	snprintf(want, sizeof(want),
		 "the GitHub App is not installed on acme/web (GET http://127.0.0.1:%d/repos/acme/web/"
		 "installation returned 404): install it on the repository",
		 s.port);
	assert_string_equal(err.msg, want);
	assert_no_secret(err.msg);
	md_github_free(gh);
	srv_stop(&s);
}

static char *h_jwt_401(struct srv *s, const char *method, const char *path, const char *head,
		       const char *body)
{
	(void)s;
	(void)head;
	(void)body;
	if (is(method, path, "POST", MINT_PATH))
		return reply(401, "", "{\"message\":\"A JSON web token could not be decoded\"}");
	return reply(404, "", "{}");
}

static void test_jwt_rejected(void **state)
{
	struct srv s;
	struct md_github *gh;
	struct md_github_stats st;
	struct md_err err;
	const char *tok;
	char want[300];

	(void)state;
	srv_start(&s, h_jwt_401);
	gh = client_for(&s, "42");
	assert_int_equal(md_github_token(gh, &tok, &err), -1);
	snprintf(want, sizeof(want),
		 "GitHub rejected the App's credentials (401 on POST http://127.0.0.1:%d" MINT_PATH
		 ": A JSON web token could not be decoded): check MD_GITHUB_APP_ID and the key",
		 s.port);
	assert_string_equal(err.msg, want);
	assert_no_secret(err.msg);
	md_github_stats(gh, &st);
	assert_int_equal(st.requests, 1);
	assert_int_equal(st.errors, 1);
	assert_int_equal(st.tokens, 0);
	md_github_free(gh);
	srv_stop(&s);
}

/* PATCH pulls/5: tok1 is refused (mode 0) or every token is (mode 1). */
static char *h_401(struct srv *s, const char *method, const char *path, const char *head,
		   const char *body)
{
	char *r = maybe_mint(s, method, path, head);

	(void)body;
	if (r)
		return r;
	if (is(method, path, "PATCH", "/repos/acme/web/pulls/5")) {
		if (s->mode == 1 || has_token(head, "ghs_tok1"))
			return reply(401, "", "{\"message\":\"Bad credentials\"}");
		return reply(200, "", "{\"number\":5}");
	}
	return reply(404, "", "{}");
}

static void test_401_remints_once(void **state)
{
	struct srv s;
	struct md_github *gh;
	struct md_err err;
	char want[300];

	(void)state;
	fx_now = 1700000000;
	srv_start(&s, h_401);
	gh = client_for(&s, "42");
	assert_ok(md_github_pr_update(gh, 5, "T", "B", &err));
	assert_string_equal(s.log.data, "POST " MINT_PATH "\nPATCH /repos/acme/web/pulls/5\n"
					"POST " MINT_PATH "\nPATCH /repos/acme/web/pulls/5\n");
	assert_string_equal(s.last_body, "{\"title\":\"T\",\"body\":\"B\"}");
	md_github_free(gh);

	/* A second 401 is an error, not a loop. */
	s.mode = 1;
	s.log.len = 0;
	s.log.data[0] = '\0';
	gh = client_for(&s, "42");
	assert_int_equal(md_github_pr_update(gh, 5, "T", "B", &err), -1);
	assert_int_equal(count(s.log.data, "PATCH"), 2);
	snprintf(want, sizeof(want),
		 "GitHub rejected a freshly minted installation token (401 on PATCH "
		 "http://127.0.0.1:%d/repos/acme/web/pulls/5: Bad credentials): check that the App is "
		 "still installed on the repository",
		 s.port);
	assert_string_equal(err.msg, want);
	assert_no_secret(err.msg);
	md_github_free(gh);
	srv_stop(&s);
}

/* ---- rate limits and caps ------------------------------------------------------------- */

static char *h_limits(struct srv *s, const char *method, const char *path, const char *head,
		      const char *body)
{
	char *r = maybe_mint(s, method, path, head), hdr[160];

	(void)body;
	if (r)
		return r;
	if (strcmp(method, "GET") != 0 || !md_str_has_prefix(path, "/repos/acme/web/pulls?"))
		return reply(404, "", "{}");
	s->hits++;
	switch (s->mode) {
	case 0: /* primary limit used up on this answer */
		snprintf(hdr, sizeof(hdr), "x-ratelimit-remaining: %d\r\nx-ratelimit-reset: %lld\r\n",
			 s->hits == 1 ? 0 : 4999, (long long)(fx_now + 600));
		return reply(200, hdr, "[]");
	case 1: /* secondary limit */
		if (s->hits == 1)
			return reply(429, "Retry-After: 30\r\n",
				     "{\"message\":\"You have exceeded a secondary rate limit\"}");
		return reply(200, "", "[]");
	case 2: /* 403 with the primary limit at 0 */
		snprintf(hdr, sizeof(hdr), "X-RateLimit-Remaining: 0\r\nX-RateLimit-Reset: %lld\r\n",
			 (long long)(fx_now + 120));
		return reply(403, hdr, "{\"message\":\"API rate limit exceeded\"}");
	default: { /* a body over the 1 MiB cap */
		size_t n = MD_GH_BODY_MAX + 1;
		char *big = malloc(n + 1);

		memset(big, ' ', n);
		big[0] = '[';
		big[n - 1] = ']';
		big[n] = '\0';
		r = reply(200, "", big);
		free(big);
		return r;
	}
	}
}

static void test_rate_limit_refuses_without_request(void **state)
{
	struct srv s;
	struct md_github *gh;
	struct md_github_pr *pr = (struct md_github_pr *)1;
	struct md_github_stats st;
	struct md_err err;
	char when[32];
	int before;

	(void)state;
	fx_now = 1700000000;
	srv_start(&s, h_limits);
	gh = client_for(&s, "42");
	assert_ok(md_github_pr_find(gh, "magos/web", "main", &pr, &err));
	assert_null(pr);
	md_github_stats(gh, &st);
	assert_int_equal(st.rate_remaining, 0);
	assert_int_equal(st.rate_reset, fx_now + 600);
	before = s.n;
	assert_int_equal(md_github_pr_find(gh, "magos/web", "main", &pr, &err), -1);
	assert_int_equal(s.n, before); /* nothing was sent */
	md_time_format_rfc3339(fx_now + 600, when, sizeof(when));
	assert_contains(err.msg, "GitHub rate limit exhausted (x-ratelimit-remaining: 0): not sending GET");
	assert_contains(err.msg, when);
	assert_no_secret(err.msg);
	fx_now += 601; /* after the reset the call goes out again */
	assert_ok(md_github_pr_find(gh, "magos/web", "main", &pr, &err));
	assert_int_equal(s.n, before + 1);
	md_github_stats(gh, &st);
	assert_int_equal(st.rate_remaining, 4999);
	md_github_free(gh);
	srv_stop(&s);
}

static void test_retry_after_and_403_limit(void **state)
{
	struct srv s;
	struct md_github *gh;
	struct md_github_pr *pr = NULL;
	struct md_err err;
	int before;

	(void)state;
	fx_now = 1700000000;
	srv_start(&s, h_limits);
	s.mode = 1;
	gh = client_for(&s, "42");
	assert_int_equal(md_github_pr_find(gh, "magos/web", "main", &pr, &err), -1);
	assert_contains(err.msg, "GitHub rate-limited GET http://127.0.0.1:");
	assert_contains(err.msg, " (429): retry after 30 s");
	assert_no_secret(err.msg);
	before = s.n;
	fx_now += 10;
	assert_int_equal(md_github_pr_find(gh, "magos/web", "main", &pr, &err), -1);
	assert_int_equal(s.n, before);
	assert_contains(err.msg, "retry after 20 s");
	fx_now += 20;
	assert_ok(md_github_pr_find(gh, "magos/web", "main", &pr, &err));
	assert_int_equal(s.n, before + 1);
	md_github_free(gh);

	s.mode = 2;
	gh = client_for(&s, "42");
	assert_int_equal(md_github_pr_find(gh, "magos/web", "main", &pr, &err), -1);
	assert_contains(err.msg, "(403, x-ratelimit-remaining: 0): the limit resets at ");
	assert_contains(err.msg, "retry after 120 s");
	assert_no_secret(err.msg);
	md_github_free(gh);
	srv_stop(&s);
}

static void test_body_cap(void **state)
{
	struct srv s;
	struct md_github *gh;
	struct md_github_pr *pr = NULL;
	struct md_err err;
	char want[300];

	(void)state;
	fx_now = 1700000000;
	srv_start(&s, h_limits);
	s.mode = 3;
	gh = client_for(&s, "42");
	assert_int_equal(md_github_pr_find(gh, "magos/web", "main", &pr, &err), -1);
	snprintf(want, sizeof(want),
		 "GitHub's answer to GET http://127.0.0.1:%d/repos/acme/web/pulls?state=open&head="
		 "acme%%3Amagos%%2Fweb&base=main&per_page=100 is larger than 1048576 bytes",
		 s.port);
	assert_string_equal(err.msg, want);
	assert_no_secret(err.msg);
	assert_null(pr);
	md_github_free(gh);
	srv_stop(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_mint_cache_renew),
		cmocka_unit_test(test_token_wiped_when_replaced_or_freed),
		cmocka_unit_test(test_installation_lookup),
		cmocka_unit_test(test_jwt_rejected),
		cmocka_unit_test(test_401_remints_once),
		cmocka_unit_test(test_rate_limit_refuses_without_request),
		cmocka_unit_test(test_retry_after_and_403_limit),
		cmocka_unit_test(test_body_cap),
	};

	return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}

/* registry: the client end to end against the scripted server: token
 * flow and paging, denied access, refused page sizes, digests by GET,
 * redirects, connection errors, re-authentication after a 401. */
#include "unit.h"
#include "registry_fixture.h"

/* ---- token flow, errors, redirects ------------------------------------------ */

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
	md_strv_clear(&tags);
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
	md_strv_clear(&tags);
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
		cmocka_unit_test(test_client_token_flow),
		cmocka_unit_test(test_client_denied),
		cmocka_unit_test(test_client_page_size_refused),
		cmocka_unit_test(test_client_digest_by_get),
		cmocka_unit_test(test_client_redirect_drops_auth),
		cmocka_unit_test(test_client_connect_refused),
		cmocka_unit_test(test_client_reauth_after_401),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

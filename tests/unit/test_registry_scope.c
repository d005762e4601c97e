/* registry: credentials and tokens stay with the origin (scheme, host,
 * port) they belong to. Two scripted servers on two ports of 127.0.0.1
 * (different origins): the registry A, whose auth file entry holds
 * user:pass, and "another host" B that records what reaches it. */
#include "unit.h"
#include "registry_fixture.h"

/* Set before the servers fork, read by their handlers. */
static int a_port, b_port;
static int b_anonymous = 1; /* B's token service hands out anonymous tokens */

#define DIGEST_HDR "Docker-Content-Digest: " DIGEST_A "\r\n"

static char *ok_head(void)
{
	return md_asprintf("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n"
			   "Content-Type: application/vnd.oci.image.index.v1+json\r\n" DIGEST_HDR
			   "\r\n");
}

/* "another host": answers everything, so only what it was sent matters. */
static char *h_other(const char *head, int port)
{
	(void)port;
	if (strstr(head, "/tags/list"))
		return reply(200, "Content-Type: application/json\r\n",
			     "{\"name\":\"acme/web\",\"tags\":[\"6.6.6\"]}");
	if (strncmp(head, "GET /token", 10) == 0)
		return reply(200, "", "{\"token\":\"leaked\"}");
	return ok_head();
}

/* A registry behind Basic authentication whose first tag-list page links
 * its next page to B (absolute URL), or to itself named "localhost". */
static char *h_link_elsewhere(const char *head, int port)
{
	char hdr[256];

	if (!strstr(head, "Authorization: Basic " B64_USER_PASS "\r\n"))
		return reply(401, "WWW-Authenticate: Basic realm=\"a\"\r\n", "{}");
	if (strncmp(head, "GET /v2/solo/tags/list", 22) == 0)
		return reply(200, "", "{\"name\":\"solo\",\"tags\":[\"1.0\"]}");
	if (strncmp(head, "GET /v2/acme/web/tags/list?n=2 ", 31) == 0) {
		snprintf(hdr, sizeof(hdr),
			 "Link: <http://127.0.0.1:%d/v2/acme/web/tags/list?n=2&last=1.1>; rel=\"next\"\r\n",
			 b_port);
		return reply(200, hdr, "{\"name\":\"acme/web\",\"tags\":[\"1.0\",\"1.1\"]}");
	}
	if (strncmp(head, "GET /v2/acme/api/tags/list?n=2 ", 31) == 0) {
		snprintf(hdr, sizeof(hdr),
			 "Link: <http://localhost:%d/v2/acme/api/tags/list?n=2&last=1.1>; rel=\"next\"\r\n",
			 port);
		return reply(200, hdr, "{\"name\":\"acme/api\",\"tags\":[\"1.0\",\"1.1\"]}");
	}
	return reply(404, "", "{}");
}

/* A client for A (and B, when both_plain) over plain HTTP, with the auth
 * file (may be NULL). */
static struct md_registry *client_ab(const char *auth_file, int both_plain)
{
	static struct md_strv insecure;
	struct md_registry_opts o;
	char host[64];

	client_opts(&o, a_port);
	md_strv_clear(&insecure);
	snprintf(host, sizeof(host), "127.0.0.1:%d", a_port);
	md_strv_push(&insecure, host);
	snprintf(host, sizeof(host), "localhost:%d", a_port);
	md_strv_push(&insecure, host);
	if (both_plain) {
		snprintf(host, sizeof(host), "127.0.0.1:%d", b_port);
		md_strv_push(&insecure, host);
	}
	o.insecure_hosts = &insecure;
	o.auth_file = auth_file;
	return client_new(&o);
}

static char *auth_file_for(int port, const char *entry)
{
	char *path = md_asprintf("/tmp/md-scope-auth-%d.json", (int)getpid());
	char *json = md_asprintf("{\"auths\":{\"127.0.0.1:%d\":%s}}", port, entry);
	struct md_err err;

	assert_int_equal(md_file_write_atomic(path, json, strlen(json), 0600, &err), 0);
	free(json);
	return path;
}

static void serve_on(struct fake *f, int ls, fake_handler h)
{
	if (fake_fork(f)) {
		fake_serve(ls, f->port, h, f->log, 1);
		_exit(0);
	}
	close(ls);
}

/* Both ports are bound before either server forks: each handler may name
 * the other's port, and a forked child keeps the values it was forked with. */
static void start_ab(struct fake *a, fake_handler ha, struct fake *b, fake_handler hb)
{
	int la = fake_listen(a, "scope-a"), lb = fake_listen(b, "scope-b");

	a_port = a->port;
	b_port = b->port;
	serve_on(a, la, ha);
	serve_on(b, lb, hb);
}

/* ---- pagination ------------------------------------------------------------------ */

static void test_scope_link_to_other_origin_refused(void **state)
{
	struct md_tag_query q[2] = { 0 };
	struct md_strv tags = { 0 };
	struct md_registry *r;
	struct md_err err;
	struct fake a, b;
	char dom[64], want[160], *file, *log;

	(void)state;
	start_ab(&a, h_link_elsewhere, &b, h_other);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", a_port);
	file = auth_file_for(a_port, "{\"auth\":\"" B64_USER_PASS "\"}");
	r = client_ab(file, 1);
	assert_int_equal(md_registry_list_tags(r, dom, "acme/web", &tags, &err), -1);
	snprintf(want, sizeof(want), "links its next page to origin http://127.0.0.1:%d, not the "
		 "registry's origin http://127.0.0.1:%d; refused", b_port, a_port);
	if (!strstr(err.msg, want))
		fail_msg("error \"%s\" does not name both origins", err.msg);
	/* no tag of the listing is used, not even the registry's own page */
	assert_int_equal(tags.n, 0);
	/* the same registry named "localhost" is another origin too */
	assert_int_equal(md_registry_list_tags(r, dom, "acme/api", &tags, &err), -1);
	snprintf(want, sizeof(want), "to origin http://localhost:%d, not the registry's origin "
		 "http://127.0.0.1:%d", a_port, a_port);
	assert_non_null(strstr(err.msg, want));
	/* The concurrent fast path hands the paged answer to the same check;
	 * a listing of another repository in the batch goes on. */
	q[0].domain = q[1].domain = dom;
	q[0].path = "solo";
	q[1].path = "acme/web";
	assert_ok(md_registry_list_tags_many(r, q, 2, &err));
	assert_null(q[0].error);
	assert_int_equal(q[0].tags.n, 1);
	assert_non_null(q[1].error);
	assert_non_null(strstr(q[1].error, "refused"));
	assert_int_equal(q[1].tags.n, 0);
	md_registry_free(r);
	log = fake_stop(&b);
	if (log[0])
		fail_msg("the other origin was sent:\n%s", log);
	free(log);
	free(fake_stop(&a));
	for (size_t i = 0; i < 2; i++) {
		md_strv_clear(&q[i].tags);
		free(q[i].error);
	}
	unlink(file);
	free(file);
}

/* ---- tokens -------------------------------------------------------------------- */

/* A: token auth at its own /token, "tok-user" with A's credentials. */
static char *h_token_a(const char *head, int port)
{
	char hdr[512];

	if (strncmp(head, "GET /token", 10) == 0)
		return reply(200, "", strstr(head, "Authorization: Basic " B64_USER_PASS "\r\n")
					      ? "{\"token\":\"tok-user\",\"expires_in\":300}"
					      : "{\"token\":\"tok-anon\",\"expires_in\":300}");
	if (strstr(head, "Authorization: Bearer tok-"))
		return ok_head();
	snprintf(hdr, sizeof(hdr),
		 "WWW-Authenticate: Bearer realm=\"http://127.0.0.1:%d/token\",service=\"fake\","
		 "scope=\"repository:acme/web:pull\"\r\n", port);
	return reply(401, hdr, "{}");
}

/* B: a registry that names A's realm, service and scope in its challenge,
 * hoping to be handed the token A issued. */
static char *h_mimic(const char *head, int port)
{
	char hdr[512];

	(void)port;
	if (strstr(head, "Authorization: Bearer ") && strstr(head, "/tags/list"))
		return reply(200, "", "{\"name\":\"acme/web\",\"tags\":[\"1.0\"]}");
	if (strstr(head, "Authorization: Bearer "))
		return ok_head();
	snprintf(hdr, sizeof(hdr),
		 "WWW-Authenticate: Bearer realm=\"http://127.0.0.1:%d/token\",service=\"fake\","
		 "scope=\"repository:acme/web:pull\"\r\n", a_port);
	return reply(401, hdr, "{}");
}

static void test_scope_token_stays_with_its_registry(void **state)
{
	struct md_tag_query q = { 0 };
	struct md_registry *r;
	struct md_err err;
	struct fake a, b;
	char da[64], db[64], *dg, *file, *log;

	(void)state;
	start_ab(&a, h_token_a, &b, h_mimic);
	snprintf(da, sizeof(da), "127.0.0.1:%d", a_port);
	snprintf(db, sizeof(db), "127.0.0.1:%d", b_port);
	file = auth_file_for(a_port, "{\"auth\":\"" B64_USER_PASS "\"}");
	r = client_ab(file, 1);
	assert_ok(md_registry_head_manifest(r, da, "acme/web", "1.0", &dg, NULL, &err));
	free(dg);
	/* B asks for the very token A's challenge earned: it gets its own
	 * (anonymous: the auth file has nothing for B) */
	assert_ok(md_registry_head_manifest(r, db, "acme/web", "1.0", &dg, NULL, &err));
	free(dg);
	/* and B's next request, sent with a token up front, still gets B's */
	assert_ok(md_registry_head_manifest(r, db, "acme/web", "1.0", &dg, NULL, &err));
	free(dg);
	q.domain = db;
	q.path = "acme/web";
	assert_ok(md_registry_list_tags_many(r, &q, 1, &err));
	assert_null(q.error);
	assert_int_equal(q.tags.n, 1);
	md_registry_free(r);
	log = fake_stop(&b);
	assert_null(strstr(log, "tok-user"));
	assert_int_equal(count(log, "Authorization: Bearer tok-anon\r\n"), 3);
	free(log);
	log = fake_stop(&a);
	assert_int_equal(count(log, "GET /token"), 2);
	assert_int_equal(count(log, "Authorization: Basic " B64_USER_PASS), 1);
	free(log);
	md_strv_clear(&q.tags);
	free(q.error);
	unlink(file);
	free(file);
}

/* ---- redirects ------------------------------------------------------------------ */

/* A redirects a manifest to B, which then asks for authentication. */
static char *h_redirect_to_b(const char *head, int port)
{
	char hdr[256];

	(void)port;
	if (strstr(head, "/manifests/moved ")) {
		snprintf(hdr, sizeof(hdr),
			 "Location: http://127.0.0.1:%d/v2/y/manifests/moved\r\n", b_port);
		return reply(307, hdr, "");
	}
	return reply(404, "", "{}");
}

static char *h_challenge_b(const char *head, int port)
{
	char hdr[256];

	if (strncmp(head, "GET /token", 10) == 0)
		return reply(200, "", "{\"token\":\"b-token\"}");
	if (strstr(head, "Authorization: "))
		return ok_head();
	snprintf(hdr, sizeof(hdr), "WWW-Authenticate: Bearer realm=\"http://127.0.0.1:%d/token\"\r\n",
		 port);
	return reply(401, hdr, "{}");
}

static void test_scope_challenge_after_redirect_not_answered(void **state)
{
	struct md_registry *r;
	struct md_err err;
	struct fake a, b;
	char dom[64], want[200], *dg = NULL, *file, *log;

	(void)state;
	start_ab(&a, h_redirect_to_b, &b, h_challenge_b);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", a_port);
	file = auth_file_for(a_port, "{\"auth\":\"" B64_USER_PASS "\"}");
	r = client_ab(file, 0);
	assert_int_equal(md_registry_head_manifest(r, dom, "y", "moved", &dg, NULL, &err), -1);
	assert_null(dg);
	md_registry_free(r);
	log = fake_stop(&b);
	/* B's challenge went unanswered: no token asked for, nothing sent */
	assert_int_equal(count(log, "HEAD /v2/y/manifests/moved"), 1);
	assert_int_equal(count(log, "GET /token"), 0);
	assert_null(strstr(log, "Authorization"));
	free(log);
	free(fake_stop(&a));
	snprintf(want, sizeof(want), "was redirected to http://127.0.0.1:%d, which asks for "
		 "authentication (HTTP 401); the credentials of http://127.0.0.1:%d are not sent",
		 b_port, a_port);
	if (!strstr(err.msg, want))
		fail_msg("error \"%s\" does not name both origins", err.msg);
	unlink(file);
	free(file);
}

/* ---- plain-HTTP token realms ------------------------------------------------------ */

/* A (plain HTTP, listed) sends clients to a token realm on B. */
static char *h_realm_on_b(const char *head, int port)
{
	char hdr[256];

	(void)port;
	if (strstr(head, "Authorization: Bearer tok-"))
		return ok_head();
	snprintf(hdr, sizeof(hdr),
		 "WWW-Authenticate: Bearer realm=\"http://127.0.0.1:%d/token\",service=\"fake\"\r\n",
		 b_port);
	return reply(401, hdr, "{}");
}

/* B's token service: Basic or a refresh token earn "tok-user"; anonymous
 * callers "tok-anon" when b_anonymous, else 401. */
static char *h_token_b(const char *head, int port)
{
	(void)port;
	if (strncmp(head, "POST /token", 11) == 0 ||
	    (strncmp(head, "GET /token", 10) == 0 && strstr(head, "Authorization: Basic ")))
		return reply(200, "", "{\"token\":\"tok-user\",\"access_token\":\"tok-user\"}");
	if (strncmp(head, "GET /token", 10) == 0 && b_anonymous)
		return reply(200, "", "{\"token\":\"tok-anon\"}");
	return reply(401, "", "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}");
}

static void test_scope_plain_http_realm_elsewhere_gets_no_credentials(void **state)
{
	struct md_registry *r;
	struct md_err err;
	struct fake a, b;
	char dom[64], want[200], *dg, *file, *log;

	(void)state;
	/* Only A is listed: B's realm is plain HTTP on a host nobody listed. */
	b_anonymous = 1;
	start_ab(&a, h_realm_on_b, &b, h_token_b);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", a_port);
	file = auth_file_for(a_port, "{\"auth\":\"" B64_USER_PASS "\"}");
	r = client_ab(file, 0);
	assert_ok(md_registry_head_manifest(r, dom, "acme/web", "1.0", &dg, NULL, &err));
	free(dg);
	md_registry_free(r);
	/* an identity (refresh) token is not posted there either */
	unlink(file);
	free(file);
	file = auth_file_for(a_port, "{\"identitytoken\":\"idt-123\"}");
	r = client_ab(file, 0);
	assert_ok(md_registry_head_manifest(r, dom, "acme/web", "1.0", &dg, NULL, &err));
	free(dg);
	md_registry_free(r);
	log = fake_stop(&b);
	assert_int_equal(count(log, "GET /token"), 2);
	assert_null(strstr(log, "Authorization"));
	assert_null(strstr(log, "POST /token"));
	assert_null(strstr(log, "idt-123"));
	free(log);
	free(fake_stop(&a));

	/* A token service that wants credentials: the error says why none were sent. */
	b_anonymous = 0;
	start_ab(&a, h_realm_on_b, &b, h_token_b);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", a_port);
	unlink(file);
	free(file);
	file = auth_file_for(a_port, "{\"auth\":\"" B64_USER_PASS "\"}");
	r = client_ab(file, 0);
	assert_int_equal(md_registry_head_manifest(r, dom, "acme/web", "1.0", &dg, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "refused an anonymous token for repository acme/web (HTTP 401"));
	snprintf(want, sizeof(want), "no credentials were sent to the token service "
		 "http://127.0.0.1:%d/token: it is plain HTTP and 127.0.0.1:%d is not listed in "
		 "MD_INSECURE_REGISTRIES", b_port, b_port);
	if (!strstr(err.msg, want))
		fail_msg("error \"%s\" does not say why credentials were withheld", err.msg);
	md_registry_free(r);
	/* listed as well: the operator accepts plain HTTP to it, credentials go */
	r = client_ab(file, 1);
	assert_ok(md_registry_head_manifest(r, dom, "acme/web", "1.0", &dg, NULL, &err));
	free(dg);
	md_registry_free(r);
	log = fake_stop(&b);
	assert_int_equal(count(log, "Authorization: Basic " B64_USER_PASS "\r\n"), 1);
	free(log);
	free(fake_stop(&a));
	b_anonymous = 1;
	unlink(file);
	free(file);
}

static void test_scope_url_plain_listed(void **state)
{
	struct md_strv l = { 0 };

	(void)state;
	md_strv_push(&l, "reg.lan");
	md_strv_push(&l, "127.0.0.1:5001");
	md_strv_push(&l, "[::1]:5002");
	assert_true(md_registry__url_plain_listed("http://reg.lan/token", &l));
	assert_true(md_registry__url_plain_listed("http://REG.lan:80/token?x=1", &l));
	assert_true(md_registry__url_plain_listed("http://127.0.0.1:5001/token", &l));
	assert_true(md_registry__url_plain_listed("http://[::1]:5002/t", &l));
	assert_false(md_registry__url_plain_listed("http://reg.lan:8080/token", &l));
	assert_false(md_registry__url_plain_listed("http://127.0.0.1:5000/token", &l));
	assert_false(md_registry__url_plain_listed("http://127.0.0.1/token", &l));
	assert_false(md_registry__url_plain_listed("http://reg.lan.evil/token", &l));
	assert_false(md_registry__url_plain_listed("http://user@evil/@reg.lan/token", &l));
	assert_false(md_registry__url_plain_listed("https://reg.lan/token", &l));
	assert_false(md_registry__url_plain_listed("ftp://reg.lan/token", &l));
	assert_false(md_registry__url_plain_listed("not a url", &l));
	assert_false(md_registry__url_plain_listed("http://reg.lan/token", NULL));
	md_strv_clear(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scope_link_to_other_origin_refused),
		cmocka_unit_test(test_scope_token_stays_with_its_registry),
		cmocka_unit_test(test_scope_challenge_after_redirect_not_answered),
		cmocka_unit_test(test_scope_plain_http_realm_elsewhere_gets_no_credentials),
		cmocka_unit_test(test_scope_url_plain_listed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

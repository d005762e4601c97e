/* github: REST calls against a scripted server in a thread. Pull requests
 * (idempotent create, find, paginated list, update, close), the Git Data
 * commit sequence and ref updates, branch deletion and the bot identity.
 * Every failing call's message is checked for tokens and JWTs. */
#include "unit.h"
#include "test_github_fixture.h"

#define OID_P "0123456789abcdef0123456789abcdef01234567"
#define OID_T "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define OID_N "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define OID_C "cccccccccccccccccccccccccccccccccccccccc"
#define OID_1 "1111111111111111111111111111111111111111"
#define OID_2 "2222222222222222222222222222222222222222"

#define MINT "POST /app/installations/42/access_tokens\n"

static int is(const char *method, const char *path, const char *m, const char *p)
{
	return strcmp(method, m) == 0 && strcmp(path, p) == 0;
}

/* A test's routes for one request (method, path with query, whole head);
 * the token endpoint is answered before them. */
typedef char *(*routes_fn)(struct srv *s, const char *method, const char *path,
			   const char *head);

static routes_fn routes; /* set before the server thread starts */

static char *h_routes(struct srv *s, const char *method, const char *path, const char *head,
		      const char *body)
{
	(void)body;
	if (is(method, path, "POST", "/app/installations/42/access_tokens"))
		return mint_reply(s);
	return routes(s, method, path, head);
}

/* The scripted server answering with r, and a client of installation 42. */
static struct md_github *rest_start(struct srv *s, routes_fn r)
{
	routes = r;
	srv_start(s, h_routes);
	return client_for(s, "42");
}

static void rest_stop(struct srv *s, struct md_github *gh)
{
	md_github_free(gh);
	srv_stop(s);
}

static void clear_log(struct srv *s)
{
	md_buf_reset(&s->log);
	md_buf_reset(&s->full);
}

/* A PR object as GitHub sends it. */
static char *pr_json(int number, const char *ref, const char *full_name)
{
	return md_asprintf("{\"number\":%d,\"title\":\"t%d\",\"body\":\"b%d\",\"html_url\":"
			   "\"https://github.com/acme/web/pull/%d\",\"state\":\"open\","
			   "\"head\":{\"ref\":\"%s\",\"sha\":\"" OID_C "\",\"repo\":{\"full_name\":"
			   "\"%s\"}},\"base\":{\"ref\":\"main\"}}",
			   number, number, number, number, ref, full_name);
}

/* ---- pull requests ----------------------------------------------------------------------- */

static char *h_pulls(struct srv *s, const char *method, const char *path, const char *head)
{
	char *r, *a, *b;

	(void)head;
	if (is(method, path, "POST", "/repos/acme/web/pulls")) {
		if (s->mode == 1) {
			a = pr_json(10, "magos/web", "acme/web");
			r = reply(201, "", a);
			free(a);
			return r;
		}
		if (s->mode == 2)
			return reply(422, "", "{\"message\":\"Validation Failed\",\"errors\":[{\"resource\":"
					      "\"PullRequest\",\"code\":\"custom\",\"message\":\"No commits "
					      "between main and magos/web\"}]}");
		return reply(422, "", "{\"message\":\"Validation Failed\",\"errors\":[{\"resource\":"
				      "\"PullRequest\",\"code\":\"custom\",\"message\":\"A pull request "
				      "already exists for acme:magos/web.\"}]}");
	}
	if (is(method, path, "GET",
	       "/repos/acme/web/pulls?state=open&head=acme%3Amagos%2Fweb&base=main&per_page=100")) {
		if (s->mode == 3)
			return reply(200, "", "[]");
		a = pr_json(9, "magos/web", "acme/web");
		b = md_asprintf("[%s]", a);
		r = reply(200, "", b);
		free(a);
		free(b);
		return r;
	}
	if (is(method, path, "POST", "/repos/acme/web/issues/9/comments"))
		return reply(201, "", "{\"id\":1}");
	if (is(method, path, "PATCH", "/repos/acme/web/pulls/9"))
		return s->mode == 4 ? reply(403, "", "{\"message\":\"Resource not accessible by "
						     "integration\"}")
				    : reply(200, "", "{\"number\":9}");
	return reply(404, "", "{\"message\":\"Not Found\"}");
}

static void test_pr_create_duplicate_returns_existing(void **state)
{
	struct srv s;
	struct md_github *gh;
	struct md_github_pr *pr = NULL;
	struct md_err err;

	(void)state;
	gh = rest_start(&s, h_pulls);
	assert_ok(md_github_pr_create(gh, "magos/web", "main", "T", "B", &pr, &err));
	assert_non_null(pr);
	assert_int_equal(pr->number, 9);
	assert_string_equal(pr->head, "magos/web");
	assert_string_equal(pr->base, "main");
	assert_string_equal(pr->title, "t9");
	assert_string_equal(pr->body, "b9");
	assert_string_equal(pr->html_url, "https://github.com/acme/web/pull/9");
	assert_string_equal(pr->head_sha, OID_C);
	md_github_pr_clear(pr);
	free(pr);
	assert_string_equal(s.log.data, MINT "POST /repos/acme/web/pulls\n"
					"GET /repos/acme/web/pulls?state=open&head=acme%3Amagos%2Fweb"
					"&base=main&per_page=100\n");
	assert_contains(s.full.data, "{\"title\":\"T\",\"head\":\"magos/web\",\"base\":\"main\","
				     "\"body\":\"B\",\"maintainer_can_modify\":true}");
	assert_contains(s.full.data, "Authorization: Bearer ghs_tok1\r\n");
	rest_stop(&s, gh);
}

static void test_pr_create_find_and_errors(void **state)
{
	struct srv s;
	struct md_github *gh;
	struct md_github_pr *pr = NULL;
	struct md_err err;

	(void)state;
	gh = rest_start(&s, h_pulls);
	s.mode = 1; /* created */
	assert_ok(md_github_pr_create(gh, "magos/web", "main", "T", NULL, &pr, &err));
	assert_int_equal(pr->number, 10);
	md_github_pr_clear(pr);
	free(pr);
	s.mode = 2; /* another 422 */
	assert_int_equal(md_github_pr_create(gh, "magos/web", "main", "T", "B", &pr, &err), -1);
	assert_null(pr);
	assert_string_equal(err.msg, "GitHub refused to open a pull request from magos/web into main "
				     "(422): Validation Failed: No commits between main and magos/web");
	assert_no_secret(err.msg);
	s.mode = 3; /* "already exists" but the lookup finds nothing */
	assert_int_equal(md_github_pr_create(gh, "magos/web", "main", "T", "B", &pr, &err), -1);
	assert_contains(err.msg, "(422): Validation Failed: A pull request already exists");
	assert_ok(md_github_pr_find(gh, "magos/web", "main", &pr, &err));
	assert_null(pr);
	rest_stop(&s, gh);
}

static void test_pr_close_and_permission(void **state)
{
	struct srv s;
	struct md_github *gh;
	struct md_err err;
	char want[300];

	(void)state;
	gh = rest_start(&s, h_pulls);
	assert_ok(md_github_pr_close(gh, 9, "superseded by 1.5.0", &err));
	assert_string_equal(s.log.data, MINT "POST /repos/acme/web/issues/9/comments\n"
					"PATCH /repos/acme/web/pulls/9\n");
	assert_contains(s.full.data, "\r\n\r\n{\"body\":\"superseded by 1.5.0\"}\n====");
	assert_string_equal(s.last_body, "{\"state\":\"closed\"}");
	s.mode = 4;
	assert_int_equal(md_github_pr_update(gh, 9, "T", "B", &err), -1);
	snprintf(want, sizeof(want),
		 "GitHub denied permission for PATCH http://127.0.0.1:%d/repos/acme/web/pulls/9 (403: "
		 "Resource not accessible by integration): the App needs Pull requests: write",
		 s.port);
	assert_string_equal(err.msg, want);
	assert_no_secret(err.msg);
	rest_stop(&s, gh);
}

/* Three pages: page 1 links to 2 (absolute, as GitHub does), 2 to 3. Mode
 * 1: the link points at another host; mode 2: pages never end. */
static char *h_pages(struct srv *s, const char *method, const char *path, const char *head)
{
	char *r, link[256], *a, *b, *c, *page;
	int n;

	(void)head;
	if (strcmp(method, "GET") != 0 || !md_str_has_prefix(path, "/repos/acme/web/pulls?state="
								 "open&base=main&per_page=100"))
		return reply(404, "", "{}");
	page = strstr(path, "&page=");
	n = page ? atoi(page + 6) : 1;
	snprintf(link, sizeof(link),
		 "Link: <http://%s:%d/repos/acme/web/pulls?state=open&base=main&per_page=100&page=%d>; "
		 "rel=\"next\", <http://127.0.0.1:%d/x?page=3>; rel=\"last\"\r\n",
		 s->mode == 1 ? "localhost" : "127.0.0.1", s->port, n + 1, s->port);
	a = pr_json(n * 10 + 1, "magos/a", "acme/web");
	b = pr_json(n * 10 + 2, "feature", "acme/web");
	c = pr_json(n * 10 + 3, "magos/b", "fork/web");
	r = md_asprintf("[%s,%s,%s]", a, b, c);
	free(a);
	free(b);
	free(c);
	a = reply(200, (n < 3 || s->mode == 2) ? link : "", r);
	free(r);
	return a;
}

static void test_pr_list_pages_and_filters(void **state)
{
	struct srv s;
	struct md_github *gh;
	struct md_github_pr *prs = NULL;
	struct md_err err;
	size_t n = 0;

	(void)state;
	gh = rest_start(&s, h_pages);
	assert_ok(md_github_pr_list(gh, "magos/", "main", &prs, &n, &err));
	assert_int_equal(n, 3);
	assert_int_equal(prs[0].number, 11);
	assert_int_equal(prs[1].number, 21);
	assert_int_equal(prs[2].number, 31);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(prs[i].head, "magos/a");
		md_github_pr_clear(&prs[i]);
	}
	free(prs);
	assert_string_equal(s.log.data,
			    MINT "GET /repos/acme/web/pulls?state=open&base=main&per_page=100\n"
				 "GET /repos/acme/web/pulls?state=open&base=main&per_page=100&page=2\n"
				 "GET /repos/acme/web/pulls?state=open&base=main&per_page=100&page=3\n");

	/* The token is never sent to a host the Link header names. */
	s.mode = 1;
	clear_log(&s);
	assert_int_equal(md_github_pr_list(gh, "magos/", "main", &prs, &n, &err), -1);
	assert_null(prs);
	assert_int_equal(n, 0);
	assert_contains(err.msg, "GitHub's next page for http://127.0.0.1:");
	assert_contains(err.msg, " points outside http://127.0.0.1:");
	assert_int_equal(count(s.log.data, "GET"), 1);

	/* Endless pages stop at the cap with an error, not a truncated list. */
	s.mode = 2;
	clear_log(&s);
	assert_int_equal(md_github_pr_list(gh, "magos/", "main", &prs, &n, &err), -1);
	assert_contains(err.msg, "GitHub lists more than 10 pages of open pull requests for ");
	assert_int_equal(count(s.log.data, "GET"), 10);
	assert_no_secret(err.msg);
	rest_stop(&s, gh);
}

/* ---- closed pull requests ------------------------------------------------------------- */

#define MARK_A "<!-- magos: r/web=1.1.0@sha256:aa -->"
#define MARK_B "<!-- magos: r/web=1.2.0@sha256:bb -->"

/* A closed PR object: merged or not, from our repository or a fork. */
static char *closed_json(int number, const char *ref, const char *full_name, const char *merged,
			 const char *marker)
{
	return md_asprintf("{\"number\":%d,\"title\":\"t%d\",\"body\":\"x %s y\",\"html_url\":"
			   "\"https://github.com/acme/web/pull/%d\",\"state\":\"closed\","
			   "\"merged_at\":%s,\"head\":{\"ref\":\"%s\",\"sha\":\"" OID_C "\","
			   "\"repo\":{\"full_name\":\"%s\"}},\"base\":{\"ref\":\"main\"}}",
			   number, number, marker, number, merged, ref, full_name);
}

/* Mode 0: newest first — a merged PR with marker A, a fork's, a turned-down
 * one with marker A (#5), one with marker B (#4); 1: not an array; 2: 403. */
static char *h_closed(struct srv *s, const char *method, const char *path, const char *head)
{
	char *r, *a, *b, *c, *d, *all;

	(void)head;
	if (!is(method, path, "GET", "/repos/acme/web/pulls?state=closed&head=acme%3Amagos%2Fweb"
				     "&base=main&per_page=50"))
		return reply(404, "", "{\"message\":\"Not Found\"}");
	if (s->mode == 1)
		return reply(200, "", "{\"message\":\"hm\"}");
	if (s->mode == 2)
		return reply(403, "", "{\"message\":\"Resource not accessible by integration\"}");
	a = closed_json(7, "magos/web", "acme/web", "\"2024-01-01T00:00:00Z\"", MARK_A);
	b = closed_json(6, "magos/web", "evil/web", "null", MARK_A);
	c = closed_json(5, "magos/web", "acme/web", "null", MARK_A);
	d = closed_json(4, "magos/web", "acme/web", "null", MARK_B);
	all = md_asprintf("[%s,%s,%s,%s]", a, b, c, d);
	r = reply(200, "", all);
	free(a);
	free(b);
	free(c);
	free(d);
	free(all);
	return r;
}

static long closed_number(struct md_github *gh, const char *marker)
{
	struct md_github_pr *pr = NULL;
	struct md_err err;
	long n;

	assert_ok(md_github_pr_find_closed(gh, "magos/web", "main", marker, &pr, &err));
	if (!pr)
		return 0;
	assert_string_equal(pr->head, "magos/web");
	n = pr->number;
	assert_string_equal(pr->html_url, n == 4 ? "https://github.com/acme/web/pull/4"
						 : "https://github.com/acme/web/pull/5");
	assert_string_equal(pr->body, n == 4 ? "x " MARK_B " y" : "x " MARK_A " y");
	md_github_pr_clear(pr);
	free(pr);
	return n;
}

static void test_pr_find_closed(void **state)
{
	struct srv s;
	struct md_github *gh;
	struct md_github_pr *pr = NULL;
	struct md_err err;

	(void)state;
	gh = rest_start(&s, h_closed);
	/* Neither the merged #7 nor the fork's #6 is a refusal. */
	assert_int_equal(closed_number(gh, MARK_A), 5);
	assert_int_equal(closed_number(gh, MARK_B), 4);
	assert_int_equal(closed_number(gh, NULL), 5);
	assert_int_equal(closed_number(gh, "<!-- magos: r/web=1.3.0@sha256:cc -->"), 0);
	assert_string_equal(s.log.data,
			    MINT "GET /repos/acme/web/pulls?state=closed&head=acme%3Amagos%2Fweb"
				 "&base=main&per_page=50\n"
				 "GET /repos/acme/web/pulls?state=closed&head=acme%3Amagos%2Fweb"
				 "&base=main&per_page=50\n"
				 "GET /repos/acme/web/pulls?state=closed&head=acme%3Amagos%2Fweb"
				 "&base=main&per_page=50\n"
				 "GET /repos/acme/web/pulls?state=closed&head=acme%3Amagos%2Fweb"
				 "&base=main&per_page=50\n");
	s.mode = 1;
	assert_int_equal(md_github_pr_find_closed(gh, "magos/web", "main", MARK_A, &pr, &err), -1);
	assert_null(pr);
	assert_contains(err.msg, "GitHub's answer to GET http://127.0.0.1:");
	assert_contains(err.msg, "/repos/acme/web/pulls?state=closed&head=acme%3Amagos%2Fweb&base="
				 "main&per_page=50 is not a JSON array");
	s.mode = 2;
	assert_int_equal(md_github_pr_find_closed(gh, "magos/web", "main", MARK_A, &pr, &err), -1);
	assert_null(pr);
	assert_contains(err.msg, "Pull requests: write");
	assert_no_secret(err.msg);
	rest_stop(&s, gh);
}

/* ---- Git Data ------------------------------------------------------------------------- */

/* Mode 0: the ref moves; 1: not a fast-forward; 2: the ref does not exist
 * (422); 3: 404 for the ref; 4: 403; 5: creating it races another writer. */
static char *h_git(struct srv *s, const char *method, const char *path, const char *head)
{
	(void)head;
	if (is(method, path, "POST", "/repos/acme/web/git/blobs"))
		return reply(201, "", ++s->hits == 1 ? "{\"sha\":\"" OID_1 "\"}"
						     : "{\"sha\":\"" OID_2 "\"}");
	if (is(method, path, "GET", "/repos/acme/web/git/commits/" OID_P))
		return reply(200, "", "{\"sha\":\"" OID_P "\",\"tree\":{\"sha\":\"" OID_T "\"}}");
	if (is(method, path, "POST", "/repos/acme/web/git/trees"))
		return reply(201, "", "{\"sha\":\"" OID_N "\"}");
	if (is(method, path, "POST", "/repos/acme/web/git/commits"))
		return reply(201, "", "{\"sha\":\"" OID_C "\",\"verification\":{\"verified\":true}}");
	if (is(method, path, "PATCH", "/repos/acme/web/git/refs/heads/magos/web")) {
		switch (s->mode) {
		case 1:
			return reply(422, "", "{\"message\":\"Update is not a fast forward\"}");
		case 2:
		case 5:
			return reply(422, "", "{\"message\":\"Reference does not exist\"}");
		case 3:
			return reply(404, "", "{\"message\":\"Not Found\"}");
		case 4:
			return reply(403, "", "{\"message\":\"Resource not accessible by integration\"}");
		default:
			return reply(200, "", "{\"ref\":\"refs/heads/magos/web\"}");
		}
	}
	if (is(method, path, "POST", "/repos/acme/web/git/refs"))
		return s->mode == 5 ? reply(422, "", "{\"message\":\"Reference already exists\"}")
				    : reply(201, "", "{\"ref\":\"refs/heads/magos/web\"}");
	if (is(method, path, "DELETE", "/repos/acme/web/git/refs/heads/magos/web")) {
		static const int st[] = { 204, 404, 422, 500 };

		return md_asprintf("HTTP/1.1 %d X\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s",
				   st[s->mode & 3], s->mode ? 2 : 0, s->mode ? "{}" : "");
	}
	return reply(404, "", "{\"message\":\"Not Found\"}");
}

static const struct md_github_file files[] = {
	{ "stacks/web/compose.yaml", "image: x", 8, 0100644 },
	{ "bin/x.sh", "#!/bin/sh\n", 10, 0100755 },
};

#define GIT_SEQ                                                                          \
	"POST /repos/acme/web/git/blobs\nPOST /repos/acme/web/git/blobs\n"                 \
	"GET /repos/acme/web/git/commits/" OID_P "\nPOST /repos/acme/web/git/trees\n"      \
	"POST /repos/acme/web/git/commits\nPATCH /repos/acme/web/git/refs/heads/magos/web\n"

static void test_commit_sequence(void **state)
{
	struct srv s;
	struct md_github *gh;
	struct md_err err;
	char oid[41];

	(void)state;
	gh = rest_start(&s, h_git);
	assert_int_equal(md_github_commit(gh, "magos/web", OID_P, files, 2, "msg", 0, oid, &err), 0);
	assert_string_equal(oid, OID_C);
	assert_string_equal(s.log.data, MINT GIT_SEQ);
	assert_contains(s.full.data, "\r\n\r\n{\"content\":\"aW1hZ2U6IHg=\",\"encoding\":\"base64\"}");
	assert_contains(s.full.data, "\r\n\r\n{\"content\":\"IyEvYmluL3NoCg==\",\"encoding\":\"base64\"}");
	assert_contains(s.full.data,
			"\r\n\r\n{\"base_tree\":\"" OID_T "\",\"tree\":[{\"path\":\"stacks/web/compose.yaml\","
			"\"mode\":\"100644\",\"type\":\"blob\",\"sha\":\"" OID_1 "\"},{\"path\":\"bin/x.sh\","
			"\"mode\":\"100755\",\"type\":\"blob\",\"sha\":\"" OID_2 "\"}]}\n====");
	/* No author, committer or signature: GitHub signs it. */
	assert_contains(s.full.data, "\r\n\r\n{\"message\":\"msg\",\"tree\":\"" OID_N
				     "\",\"parents\":[\"" OID_P "\"]}\n====");
	assert_null(strstr(s.full.data, "author"));
	assert_null(strstr(s.full.data, "committer"));
	assert_null(strstr(s.full.data, "signature"));
	assert_string_equal(s.last_body, "{\"sha\":\"" OID_C "\",\"force\":false}");

	/* forced */
	clear_log(&s);
	s.hits = 0;
	assert_int_equal(md_github_commit(gh, "magos/web", OID_P, files, 1, "m", 1, oid, &err), 0);
	assert_string_equal(s.last_body, "{\"sha\":\"" OID_C "\",\"force\":true}");
	rest_stop(&s, gh);
}

static void test_commit_ref_outcomes(void **state)
{
	struct srv s;
	struct md_github *gh;
	struct md_err err;
	char oid[41], want[300];

	(void)state;
	gh = rest_start(&s, h_git);
	s.mode = 1; /* not a fast-forward */
	assert_int_equal(md_github_commit(gh, "magos/web", OID_P, files, 2, "msg", 0, oid, &err), 1);
	assert_string_equal(oid, OID_C);

	for (int mode = 2; mode <= 3; mode++) { /* missing ref → created */
		s.mode = mode;
		s.hits = 0;
		clear_log(&s);
		assert_int_equal(md_github_commit(gh, "magos/web", OID_P, files, 2, "msg", 0, oid, &err),
				 0);
		assert_string_equal(s.log.data, GIT_SEQ "POST /repos/acme/web/git/refs\n");
		assert_string_equal(s.last_body,
				    "{\"ref\":\"refs/heads/magos/web\",\"sha\":\"" OID_C "\"}");
	}
	s.mode = 5; /* created meanwhile by someone else: re-sync */
	assert_int_equal(md_github_commit(gh, "magos/web", OID_P, files, 1, "msg", 0, oid, &err), 1);

	s.mode = 4;
	assert_int_equal(md_github_commit(gh, "magos/web", OID_P, files, 1, "msg", 0, oid, &err), -1);
	snprintf(want, sizeof(want),
		 "GitHub denied permission for PATCH http://127.0.0.1:%d/repos/acme/web/git/refs/heads/"
		 "magos/web (403: Resource not accessible by integration): the App needs Contents: write",
		 s.port);
	assert_string_equal(err.msg, want);
	assert_no_secret(err.msg);

	/* bad arguments never reach GitHub */
	clear_log(&s);
	assert_int_equal(md_github_commit(gh, "magos/web", "HEAD", files, 1, "m", 0, oid, &err), -1);
	assert_string_equal(err.msg, "the parent of a commit on magos/web must be 40 hex digits");
	assert_int_equal(md_github_commit(gh, "../x", OID_P, files, 1, "m", 0, oid, &err), -1);
	assert_string_equal(err.msg, "'../x' is not a branch name GitHub can update");
	assert_string_equal(s.log.data, "");
	rest_stop(&s, gh);
}

static void test_branch_delete(void **state)
{
	struct srv s;
	struct md_github *gh;
	struct md_err err;

	(void)state;
	gh = rest_start(&s, h_git);
	for (int mode = 0; mode < 3; mode++) { /* 204, 404, 422 */
		s.mode = mode;
		assert_ok(md_github_branch_delete(gh, "magos/web", &err));
	}
	s.mode = 3;
	assert_int_equal(md_github_branch_delete(gh, "magos/web", &err), -1);
	assert_contains(err.msg, "GitHub answered 500 for DELETE http://127.0.0.1:");
	assert_no_secret(err.msg);
	assert_int_equal(count(s.log.data, "DELETE /repos/acme/web/git/refs/heads/magos/web\n"), 4);
	rest_stop(&s, gh);
}

/* ---- bot identity ----------------------------------------------------------------------- */

static char *h_bot(struct srv *s, const char *method, const char *path, const char *head)
{
	(void)s;
	if (is(method, path, "GET", "/app") && strstr(head, "Authorization: Bearer eyJ"))
		return reply(200, "", "{\"id\":12345,\"slug\":\"magos-dominus\"}");
	if (is(method, path, "GET", "/users/magos-dominus%5Bbot%5D") &&
	    strstr(head, "Authorization: Bearer ghs_tok1\r\n"))
		return reply(200, "", "{\"login\":\"magos-dominus[bot]\",\"id\":4242}");
	return reply(404, "", "{\"message\":\"Not Found\"}");
}

static void test_bot_identity(void **state)
{
	struct srv s;
	struct md_github *gh;
	struct md_err err;
	char *name, *email;

	(void)state;
	gh = rest_start(&s, h_bot);
	for (int i = 0; i < 2; i++) {
		assert_ok(md_github_bot_identity(gh, &name, &email, &err));
		assert_string_equal(name, "magos-dominus[bot]");
		assert_string_equal(email, "4242+magos-dominus[bot]@users.noreply.github.com");
		free(name);
		free(email);
	}
	assert_string_equal(s.log.data, "GET /app\n" MINT "GET /users/magos-dominus%5Bbot%5D\n");
	rest_stop(&s, gh);
}

/* A slug that would bend the commit author (a newline, '<', '@') is
 * refused before anything is built from it. */
static char *h_bot_bad(struct srv *s, const char *method, const char *path, const char *head)
{
	(void)head;
	if (is(method, path, "GET", "/app"))
		return reply(200, "", s->mode ? "{\"id\":1,\"slug\":\"a b@x\"}"
					      : "{\"id\":1,\"slug\":\"evil\\n<x>\"}");
	return reply(404, "", "{\"message\":\"Not Found\"}");
}

static void test_bot_identity_bad_slug(void **state)
{
	struct srv s;
	struct md_github *gh;
	struct md_err err;
	char *name = (char *)1, *email = (char *)1;

	(void)state;
	gh = rest_start(&s, h_bot_bad);
	for (s.mode = 0; s.mode < 2; s.mode++) {
		assert_int_equal(md_github_bot_identity(gh, &name, &email, &err), -1);
		assert_null(name);
		assert_null(email);
		assert_contains(err.msg, "/app has no usable \"slug\"");
	}
	assert_int_equal(count(s.log.data, "/users/"), 0);
	rest_stop(&s, gh);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pr_create_duplicate_returns_existing),
		cmocka_unit_test(test_pr_create_find_and_errors),
		cmocka_unit_test(test_pr_close_and_permission),
		cmocka_unit_test(test_pr_list_pages_and_filters),
		cmocka_unit_test(test_pr_find_closed),
		cmocka_unit_test(test_commit_sequence),
		cmocka_unit_test(test_commit_ref_outcomes),
		cmocka_unit_test(test_branch_delete),
		cmocka_unit_test(test_bot_identity),
		cmocka_unit_test(test_bot_identity_bad_slug),
	};

	return cmocka_run_group_tests(tests, fx_setup, fx_teardown);
}

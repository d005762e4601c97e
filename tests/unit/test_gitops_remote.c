/* gitops: credentials over HTTP: a tiny in-process server answering 401
 * Basic shows how often the credentials callback is asked, and that its
 * secret never reaches an error message. */
#include "unit.h"
#include "gitops_fixture.h"

#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>

/* ---- credentials over HTTP ------------------------------------------------------ */

/* Answers every request with 401 Basic and records what it was sent. */
struct httpd {
	int fd;
	int port;
	volatile int stop;
	int requests;
	char auth[256];
	pthread_t th;
};

static void *httpd_run(void *arg)
{
	static const char resp[] = "HTTP/1.1 401 Unauthorized\r\n"
				   "WWW-Authenticate: Basic realm=\"test\"\r\n"
				   "Content-Length: 0\r\nConnection: close\r\n\r\n";
	struct httpd *h = arg;

	while (!h->stop) {
		struct pollfd p = { h->fd, POLLIN, 0 };
		char req[8192];
		size_t n = 0;
		char *a;
		int c;

		if (poll(&p, 1, 50) <= 0)
			continue;
		c = accept(h->fd, NULL, NULL);
		if (c < 0)
			continue;
		while (n < sizeof(req) - 1) {
			ssize_t r = read(c, req + n, sizeof(req) - 1 - n);

			if (r <= 0)
				break;
			n += (size_t)r;
			req[n] = '\0';
			if (strstr(req, "\r\n\r\n"))
				break;
		}
		req[n] = '\0';
		h->requests++;
		a = strstr(req, "Authorization: ");
		if (a)
			snprintf(h->auth, sizeof(h->auth), "%.*s", (int)strcspn(a, "\r\n"), a);
		if (write(c, resp, sizeof(resp) - 1) < 0)
			h->stop = h->stop;
		close(c);
	}
	return NULL;
}

static void httpd_start(struct httpd *h)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	memset(h, 0, sizeof(*h));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	h->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(h->fd >= 0);
	assert_int_equal(bind(h->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(h->fd, 8), 0);
	assert_int_equal(getsockname(h->fd, (struct sockaddr *)&sa, &len), 0);
	h->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&h->th, NULL, httpd_run, h), 0);
}

static void httpd_stop(struct httpd *h)
{
	h->stop = 1;
	pthread_join(h->th, NULL);
	close(h->fd);
}

struct credlog {
	int calls;
	int answer; /* what the callback returns */
	char url[256];
};

static int test_cred(void *ctx, const char *url, char *user, size_t userlen, char *pass,
		     size_t passlen)
{
	struct credlog *l = ctx;

	l->calls++;
	md_strlcpy(l->url, url, sizeof(l->url));
	md_strlcpy(user, "x-access-token", userlen);
	md_strlcpy(pass, "s3cret-token", passlen);
	return l->answer;
}

static void test_credentials_limited(void **state)
{
	struct fx *f = *state;
	struct md_git_opts o = opts_for(f, 0);
	struct credlog log = { 0, 0, "" };
	struct md_git *g = NULL;
	struct httpd h;
	char url[128];
	struct md_err err;

	httpd_start(&h);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/acme/gitops.git", h.port);
	o.url = url;
	o.cred = test_cred;
	o.cred_ctx = &log;
	assert_int_equal(md_git_open(&g, &o, &err), -1);
	assert_int_equal(log.calls, 3);
	assert_contains(log.url, url);
	assert_contains(err.msg, url);
	assert_contains(err.msg, "refused the credentials 3 times");
	assert_null(strstr(err.msg, "s3cret"));
	/* base64("x-access-token:s3cret-token") */
	assert_string_equal(h.auth, "Authorization: Basic eC1hY2Nlc3MtdG9rZW46czNjcmV0LXRva2Vu");
	assert_false(md_path_exists(f->path[0]));

	/* the callback declines: one call, then a plain authentication error */
	log.calls = 0;
	log.answer = 1;
	assert_int_equal(md_git_open(&g, &o, &err), -1);
	assert_int_equal(log.calls, 1);
	/* the callback fails (say, no token could be minted) */
	log.calls = 0;
	log.answer = -1;
	assert_int_equal(md_git_open(&g, &o, &err), -1);
	assert_int_equal(log.calls, 1);
	assert_contains(err.msg, "the credentials callback failed");
	/* and fetch of an existing clone is wired the same way */
	md_git_free(open_ok(f, 1));
	config_set(f->path[1], "remote.origin.url", url);
	o.path = f->path[1];
	log.answer = 0;
	assert_int_equal(md_git_open(&g, &o, &err), 0);
	log.calls = 0;
	assert_int_equal(md_git_sync(g, &err), -1);
	assert_int_equal(log.calls, 3);
	assert_contains(err.msg, "git fetch origin (");
	assert_null(strstr(err.msg, "s3cret"));
	log.calls = 0;
	assert_int_equal(md_git_push(g, &err), -1);
	assert_int_equal(log.calls, 3);
	md_git_free(g);
	httpd_stop(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_credentials_limited),
#undef T
	};

	return cmocka_run_group_tests(tests, gitops_group_setup, gitops_group_teardown);
}

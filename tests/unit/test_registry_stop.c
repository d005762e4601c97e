/* registry: a stop request reaches inside requests (opts.stop) and every
 * completed response is reported as progress (opts.progress), on the
 * synchronous path (http.c) and on the tag-list multi handle (multi.c).
 * A "hanging" server accepts connections and never answers them. */
#include "unit.h"
#include "registry_fixture.h"

#include <pthread.h>

#define TAGS_JSON(name) "{\"name\":\"" name "\",\"tags\":[\"1.0\",\"2.0\"]}"
#define JSON_CT "Content-Type: application/json\r\n"

static volatile sig_atomic_t stop_flag;
static unsigned progress_calls;

static void on_progress(void *arg)
{
	unsigned *n = arg;

	(*n)++;
}

/* page_size 2 fits h_token_flow's two pages. */
static struct md_registry *stop_client(int port, int with_stop)
{
	struct md_registry_opts o;

	client_opts(&o, port);
	o.timeout = 60; /* far beyond what any test waits: only stop ends a hang */
	o.stop = with_stop ? &stop_flag : NULL;
	o.progress = on_progress;
	o.progress_arg = &progress_calls;
	stop_flag = 0;
	progress_calls = 0;
	return client_new(&o);
}

/* ---- a server that answers some connections and hangs the others --------- */

/* script[i] says what connection i gets: 'A' a tag list, 'H' nothing ever
 * (the socket is held open); connections past the script get its last
 * letter. Each request line is logged, so tests count what was sent. */
static void hang_serve(int ls, const char *script, const char *log)
{
	size_t len = strlen(script);
	int held[64], nheld = 0;

	(void)held; /* kept only so the sockets stay open */
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0;; i++) {
		char mode = script[i < len ? i : len - 1], *head, *resp;
		int fd = accept(ls, NULL, NULL);
		FILE *fp;

		if (fd < 0)
			continue;
		head = read_head(fd);
		if ((fp = fopen(log, "a"))) {
			fprintf(fp, "%.*s\n", (int)strcspn(head, "\r\n"), head);
			fclose(fp);
		}
		if (mode == 'H') {
			if (nheld < 64)
				held[nheld++] = fd; /* never answered, never closed */
			free(head);
			continue;
		}
		resp = reply(200, JSON_CT, TAGS_JSON("x"));
		write_all(fd, resp, strlen(resp));
		shutdown(fd, SHUT_WR);
		close(fd);
		free(resp);
		free(head);
	}
}

static void hang_start(struct fake *f, const char *script)
{
	int ls = fake_listen(f, "stop");

	if (fake_fork(f)) {
		hang_serve(ls, script, f->log);
		_exit(0);
	}
	close(ls);
}

/* Sets the stop flag 200 ms after it starts, like SIGTERM would. */
static void *stop_later(void *arg)
{
	struct timespec ts = { 0, 200 * 1000000L };

	(void)arg;
	nanosleep(&ts, NULL);
	stop_flag = 1;
	return NULL;
}

/* ---- stop ------------------------------------------------------------------ */

static void test_stop_aborts_hung_request(void **state)
{
	struct md_registry_stats st;
	struct md_strv tags = { 0 };
	struct md_err err = { 0 };
	struct fake f;
	struct md_registry *r;
	pthread_t t;
	char dom[64], url[128], *log;
	int64_t t0, took;

	(void)state;
	hang_start(&f, "H");
	r = stop_client(f.port, 1);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f.port);
	assert_int_equal(pthread_create(&t, NULL, stop_later, NULL), 0);
	t0 = md_time_mono_ms();
	assert_int_equal(md_registry_list_tags(r, dom, "acme/web", &tags, &err), -1);
	took = md_time_mono_ms() - t0;
	pthread_join(t, NULL);
	assert_non_null(strstr(err.msg, "stopped"));
	assert_non_null(strstr(err.msg, "GET http://127.0.0.1:"));
	assert_non_null(strstr(err.msg, "/v2/acme/web/tags/list"));
	assert_null(strstr(err.msg, "timed out"));
	/* The client's timeout is 60 s: only the stop flag ends it this soon. */
	assert_true(took < 10000);
	assert_int_equal(tags.n, 0);
	/* Not retried, not a reason to hold the host off, not progress. */
	md_registry_stats(r, &st);
	assert_int_equal(st.requests, 1);
	assert_int_equal(st.retries, 0);
	assert_int_equal(st.retry_wait_ms, 0);
	assert_int_equal(progress_calls, 0);
	snprintf(url, sizeof(url), "http://%s/v2/acme/web/tags/list", dom);
	assert_int_equal(md_registry__net_deferred(r, url), 0);
	md_registry_free(r);
	log = fake_stop(&f);
	assert_int_equal(count(log, "GET /v2/acme/web/tags/list"), 1);
	free(log);
}

static void test_stop_before_request_sends_nothing(void **state)
{
	struct md_registry_stats st;
	struct md_err err = { 0 };
	struct fake f;
	struct md_registry *r;
	char dom[64], *digest = NULL, *mt = NULL, *log;

	(void)state;
	hang_start(&f, "A");
	r = stop_client(f.port, 1);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f.port);
	stop_flag = 1;
	assert_int_equal(md_registry_head_manifest(r, dom, "acme/web", "1.0", &digest, &mt, &err),
			 -1);
	assert_non_null(strstr(err.msg, "stopped"));
	assert_non_null(strstr(err.msg, "HEAD http://127.0.0.1:"));
	assert_null(digest);
	md_registry_stats(r, &st);
	assert_int_equal(st.requests, 0);
	assert_int_equal(progress_calls, 0);
	/* Cleared (a daemon that reloads, say): requests flow again at once. */
	stop_flag = 0;
	{
		struct md_strv tags = { 0 };

		assert_ok(md_registry_list_tags(r, dom, "acme/web", &tags, &err));
		assert_int_equal(tags.n, 2);
		md_strv_clear(&tags);
	}
	assert_int_equal(progress_calls, 1);
	md_registry_free(r);
	log = fake_stop(&f);
	assert_int_equal(count(log, "HEAD "), 0);
	assert_int_equal(count(log, "GET /v2/acme/web/tags/list"), 1);
	free(log);
}

/* The tag lists of many repositories: the first teaches the host (answered
 * synchronously), the others hang on the multi handle until stop. */
static void test_stop_aborts_multi_tag_lists(void **state)
{
	struct md_tag_query q[4] = {
		{ .path = "acme/a" }, { .path = "acme/b" }, { .path = "acme/c" }, { .path = "acme/d" },
	};
	struct md_registry_stats st;
	struct md_err err = { 0 };
	struct fake f;
	struct md_registry *r;
	pthread_t t;
	char dom[64], *log;
	int64_t t0, took;

	(void)state;
	hang_start(&f, "AH");
	r = stop_client(f.port, 1);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f.port);
	for (size_t i = 0; i < 4; i++)
		q[i].domain = dom;
	assert_int_equal(pthread_create(&t, NULL, stop_later, NULL), 0);
	t0 = md_time_mono_ms();
	assert_ok(md_registry_list_tags_many(r, q, 4, &err));
	took = md_time_mono_ms() - t0;
	pthread_join(t, NULL);
	assert_null(q[0].error);
	assert_int_equal(q[0].tags.n, 2);
	for (size_t i = 1; i < 4; i++) {
		assert_non_null(q[i].error);
		assert_non_null(strstr(q[i].error, "stopped"));
		assert_int_equal(q[i].tags.n, 0);
	}
	assert_non_null(strstr(q[2].error, "/v2/acme/c/tags/list"));
	assert_true(took < 10000);
	/* One answer, three aborted requests sent once each, none repeated. */
	md_registry_stats(r, &st);
	assert_int_equal(st.requests, 4);
	assert_int_equal(st.retries, 0);
	assert_int_equal(progress_calls, 1);
	for (size_t i = 0; i < 4; i++) {
		md_strv_clear(&q[i].tags);
		free(q[i].error);
	}
	md_registry_free(r);
	log = fake_stop(&f);
	assert_int_equal(count(log, "GET /v2/acme/"), 4);
	assert_int_equal(count(log, "GET /v2/acme/d/tags/list"), 1);
	free(log);
}

/* ---- progress ---------------------------------------------------------------- */

static void test_progress_once_per_response(void **state)
{
	struct md_registry_stats st;
	struct md_strv tags = { 0 };
	struct md_err err = { 0 };
	struct fake f;
	struct md_registry *r;
	char dom[64], *digest = NULL, *mt = NULL, *log;

	(void)state;
	fake_start(&f, h_token_flow);
	r = stop_client(f.port, 1);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f.port);
	/* 401, token, page 1, page 2: four answers */
	assert_ok(md_registry_list_tags(r, dom, "acme/web", &tags, &err));
	assert_int_equal(tags.n, 3);
	assert_int_equal(progress_calls, 4);
	/* HEAD with the cached token: one more */
	assert_ok(md_registry_head_manifest(r, dom, "acme/web", "2.0", &digest, &mt, &err));
	assert_string_equal(digest, DIGEST_A);
	assert_int_equal(progress_calls, 5);
	free(digest);
	free(mt);
	digest = mt = NULL;
	/* A 404 is an answer too. */
	assert_int_equal(md_registry_head_manifest(r, dom, "acme/web", "nope", &digest, &mt, &err),
			 -1);
	assert_int_equal(progress_calls, 6);
	md_registry_stats(r, &st);
	assert_int_equal(st.requests, 6);
	free(digest);
	free(mt);
	md_strv_clear(&tags);
	md_registry_free(r);
	log = fake_stop(&f);
	assert_int_equal(count(log, "====\n"), 6);
	free(log);
}

static char *h_lists(const char *head, int port)
{
	(void)port;
	if (strncmp(head, "GET /v2/gone/", 13) == 0)
		return reply(404, "", "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"no\"}]}");
	return reply(200, JSON_CT, TAGS_JSON("x"));
}

/* On the multi handle every answer counts once, including one handed to
 * the synchronous path (a 404) that is not sent again. No stop flag. */
static void test_progress_multi(void **state)
{
	struct md_tag_query q[4] = {
		{ .path = "acme/a" }, { .path = "acme/b" }, { .path = "gone/c" }, { .path = "acme/d" },
	};
	struct md_registry_stats st;
	struct md_err err = { 0 };
	struct fake f;
	struct md_registry *r;
	char dom[64], *log;

	(void)state;
	fake_start(&f, h_lists);
	r = stop_client(f.port, 0);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f.port);
	for (size_t i = 0; i < 4; i++)
		q[i].domain = dom;
	assert_ok(md_registry_list_tags_many(r, q, 4, &err));
	assert_null(q[0].error);
	assert_null(q[1].error);
	assert_non_null(q[2].error);
	assert_non_null(strstr(q[2].error, "gone/c"));
	assert_null(q[3].error);
	assert_int_equal(q[3].tags.n, 2);
	md_registry_stats(r, &st);
	assert_int_equal(st.requests, 4);
	assert_int_equal(progress_calls, 4);
	for (size_t i = 0; i < 4; i++) {
		md_strv_clear(&q[i].tags);
		free(q[i].error);
	}
	md_registry_free(r);
	log = fake_stop(&f);
	assert_int_equal(count(log, "====\n"), 4);
	free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stop_aborts_hung_request),
		cmocka_unit_test(test_stop_before_request_sends_nothing),
		cmocka_unit_test(test_stop_aborts_multi_tag_lists),
		cmocka_unit_test(test_progress_once_per_response),
		cmocka_unit_test(test_progress_multi),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* registry: transport. Retry-After, backoff and status classes (pure), then
 * retries, rate limits, bad bodies and page-size probing against the
 * scripted server. */
#include "unit.h"
#include "registry_fixture.h"

/* ---- transport: retries, Retry-After, page sizes, counters (issue 7) ------- */

static void test_retry_after_parse(void **state)
{
	(void)state;
	assert_int_equal(md_registry__retry_after_ms("5", 0), 5000);
	assert_int_equal(md_registry__retry_after_ms(" 2 ", 0), 2000);
	assert_int_equal(md_registry__retry_after_ms("0", 0), 0);
	assert_int_equal(md_registry__retry_after_ms("99999999999999999999", 0), 86400000);
	assert_int_equal(md_registry__retry_after_ms("5x", 0), -1);
	assert_int_equal(md_registry__retry_after_ms("soon", 0), -1);
	assert_int_equal(md_registry__retry_after_ms("", 0), -1);
	assert_int_equal(md_registry__retry_after_ms(NULL, 0), -1);
	/* HTTP dates (IMF-fixdate, RFC 850, asctime) relative to now */
	assert_int_equal(md_registry__retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", 1445412477), 3000);
	assert_int_equal(md_registry__retry_after_ms("Wednesday, 21-Oct-15 07:28:00 GMT", 1445412478),
			 2000);
	assert_int_equal(md_registry__retry_after_ms("Wed Oct 21 07:28:00 2015", 1445412479), 1000);
	assert_int_equal(md_registry__retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", 1445412490), 0);
}

static void test_backoff_schedule_pure(void **state)
{
	(void)state;
	assert_int_equal(md_registry__backoff_ms(0, 0), 250);
	assert_int_equal(md_registry__backoff_ms(0, 250), 500);
	assert_int_equal(md_registry__backoff_ms(0, 251), 250);
	assert_int_equal(md_registry__backoff_ms(1, 0), 500);
	assert_int_equal(md_registry__backoff_ms(1, 500), 1000);
	assert_int_equal(md_registry__backoff_ms(2, 0), 1000);
	assert_int_equal(md_registry__backoff_ms(6, 0), 15000);  /* 32 s capped at 30 s */
	assert_int_equal(md_registry__backoff_ms(60, 15000), 30000);
	for (uint64_t x = 1; x < 100000; x = x * 7 + 3) {
		int64_t d = md_registry__backoff_ms(3, x);

		assert_true(d >= 2000 && d <= 4000);
	}
}

static void test_status_class_table(void **state)
{
	(void)state;
	assert_string_equal(md_registry__status_class(200), "2xx");
	assert_string_equal(md_registry__status_class(206), "2xx");
	assert_string_equal(md_registry__status_class(307), "3xx");
	assert_string_equal(md_registry__status_class(404), "4xx");
	assert_string_equal(md_registry__status_class(429), "4xx");
	assert_string_equal(md_registry__status_class(503), "5xx");
	assert_string_equal(md_registry__status_class(0), "error");
	assert_string_equal(md_registry__status_class(99), "error");
	assert_string_equal(md_registry__status_class(600), "error");
}

static void test_url_host_and_ratelimit_parse(void **state)
{
	char h[64];
	int64_t n, w;

	(void)state;
	assert_int_equal(md_registry__url_host("https://Registry-1.Docker.io/v2/x", h, sizeof(h)), 0);
	assert_string_equal(h, "registry-1.docker.io");
	assert_int_equal(md_registry__url_host("http://127.0.0.1:5000?x=1", h, sizeof(h)), 0);
	assert_string_equal(h, "127.0.0.1:5000");
	assert_int_equal(md_registry__url_host("http://user:pw@host/x", h, sizeof(h)), 0);
	assert_string_equal(h, "host");
	assert_int_equal(md_registry__url_host("no-scheme/x", h, sizeof(h)), -1);
	assert_int_equal(md_registry__url_host("http:///x", h, sizeof(h)), -1);
	assert_int_equal(md_registry__url_host("http://a-very-long-host-name/x", h, 8), -1);
	assert_int_equal(md_registry__ratelimit_parse("76;w=21600", &n, &w), 0);
	assert_int_equal(n, 76);
	assert_int_equal(w, 21600);
	assert_int_equal(md_registry__ratelimit_parse(" 100", &n, &w), 0);
	assert_int_equal(n, 100);
	assert_int_equal(w, 0);
	assert_int_equal(md_registry__ratelimit_parse("none", &n, &w), -1);
	assert_int_equal(md_registry__ratelimit_parse(NULL, &n, &w), -1);
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
	struct md_registry_opts o;

	client_opts(&o, port);
	o.page_size = page_size;
	o.sleep_ms = record_sleep;
	o.sleep_ctx = rec;
	return client_new(&o);
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
	md_strv_clear(&tags);
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
	md_strv_clear(&tags);
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
	md_strv_clear(&tags);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
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

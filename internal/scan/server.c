/* The Trivy DB version, and a Trivy server's health.
 *
 * Locally the DB is the one `trivy version --format json` reports from
 * Trivy's cache. With a server the DB that matters is the server's, which
 * its GET /version returns in the same JSON; GET /healthz answers "ok".
 * Neither endpoint needs the token, so none is sent. Bodies are bounded and
 * requests have a deadline. */
#include "scan_int.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define BODY_MAX ((size_t)64 << 10)
#define HTTP_TIMEOUT_MS 30000
#define CONNECT_TIMEOUT_MS 10000

/* ---- the version JSON ------------------------------------------------------------------ */

/* UpdatedAt is an RFC 3339 time; anything else is not what Trivy wrote. */
static int valid_time(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 64 &&
	       strspn(s, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ:.+-") == n;
}

int md_scan__parse_version(char **out, const char *json, size_t len, struct md_err *err)
{
	json_t *root, *db, *ver, *upd;
	int rc;

	*out = NULL;
	if ((rc = md_scan__json_load(json, len, &root, err)) != MD_SCAN_OK)
		return rc;
	rc = MD_SCAN_INVALID;
	db = json_object_get(root, "VulnerabilityDB");
	if (!json_is_object(root)) {
		md_err_set(err, "the version JSON is not an object");
	} else if (!db || json_is_null(db)) {
		rc = MD_SCAN_OK; /* no DB downloaded yet */
	} else if (!json_is_object(db)) {
		md_err_set(err, "VulnerabilityDB is not an object");
	} else if (!json_is_integer(ver = json_object_get(db, "Version")) ||
		   !json_is_string(upd = json_object_get(db, "UpdatedAt")) ||
		   !valid_time(json_string_value(upd))) {
		md_err_set(err, "VulnerabilityDB has no integer Version and RFC 3339 UpdatedAt");
	} else if (!(*out = md_asprintf("%lld:%s", (long long)json_integer_value(ver),
					 json_string_value(upd)))) {
		md_err_set(err, "out of memory");
		rc = MD_SCAN_ERROR;
	} else {
		rc = MD_SCAN_OK;
	}
	json_decref(root);
	return rc;
}

/* ---- HTTP ---------------------------------------------------------------------------------- */

struct sink {
	struct md_buf *b;
	int over;
};

static size_t on_body(char *p, size_t size, size_t n, void *ctx)
{
	struct sink *s = ctx;

	if (md_buf_append(s->b, p, size * n) < 0) {
		s->over = 1;
		return 0; /* aborts the transfer */
	}
	return size * n;
}

static int64_t http_timeout(const struct md_scan_opts *o)
{
	int64_t t = o->timeout_ms > 0 ? o->timeout_ms : MD_SCAN_TIMEOUT_MS_DEFAULT;

	return t < HTTP_TIMEOUT_MS ? t : HTTP_TIMEOUT_MS;
}

/* GET server + path. 0 with *code and body; -1 without an HTTP answer. */
static int http_get(const struct md_scan_opts *o, const char *path, struct md_buf *body,
		    long *code, struct md_err *err)
{
	char errbuf[CURL_ERROR_SIZE] = "", *url;
	size_t n = strlen(o->server);
	struct sink sink = { body, 0 };
	CURL *c;
	CURLcode res;
	int64_t t = http_timeout(o);

	while (n > 0 && o->server[n - 1] == '/')
		n--;
	url = md_asprintf("%.*s%s", (int)n, o->server, path);
	c = url ? curl_easy_init() : NULL;
	if (!c) {
		free(url);
		return md_err_set(err, "out of memory");
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)t);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(t < CONNECT_TIMEOUT_MS ? t : CONNECT_TIMEOUT_MS));
	curl_easy_setopt(c, CURLOPT_USERAGENT, "magos-dominus");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	res = curl_easy_perform(c);
	if (res == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, code);
	else if (sink.over)
		md_err_set(err, "GET %s answered more than %zu bytes", url, body->max);
	else
		md_err_set(err, "GET %s: %s", url, errbuf[0] ? errbuf : curl_easy_strerror(res));
	curl_easy_cleanup(c);
	free(url);
	return res == CURLE_OK ? 0 : -1;
}

static int unreachable(const struct md_scan_opts *o, struct md_err *err)
{
	md_err_prefix(err, "the Trivy server %s did not answer; start it (trivy server "
			   "--listen HOST:PORT) or correct MD_TRIVY", o->server);
	return MD_SCAN_UNREACHABLE;
}

int md_scan__server_db_version(char **out, const struct md_scan_opts *o, struct md_err *err)
{
	struct md_buf body;
	long code = 0;
	int rc;

	*out = NULL;
	md_buf_init(&body, BODY_MAX);
	if (http_get(o, "/version", &body, &code, err) < 0) {
		rc = unreachable(o, err);
	} else if (code == 404) {
		/* A Trivy older than the endpoint: the DB cannot be told. */
		rc = MD_SCAN_OK;
	} else if (code != 200) {
		md_err_set(err, "GET %s/version answered HTTP %ld", o->server, code);
		rc = unreachable(o, err);
	} else if ((rc = md_scan__parse_version(out, body.data, body.len, err)) != MD_SCAN_OK) {
		md_err_prefix(err, "the Trivy server %s: /version", o->server);
	}
	md_buf_clear(&body);
	return rc;
}

int md_scan__server_health(const struct md_scan_opts *o, struct md_err *err)
{
	struct md_buf body;
	long code = 0;
	int rc = MD_SCAN_OK;

	md_buf_init(&body, BODY_MAX);
	if (http_get(o, "/healthz", &body, &code, err) < 0) {
		rc = unreachable(o, err);
	} else if (code != 200 || !body.data || strncmp(body.data, "ok", 2) != 0) {
		md_err_set(err, "GET %s/healthz answered HTTP %ld, not \"ok\"", o->server, code);
		rc = unreachable(o, err);
	}
	md_buf_clear(&body);
	return rc;
}

/* The request seam: one function performs "a request" (with redirects) and
 * returns status, the headers we care about and a bounded body, on a single
 * reused curl easy handle. The multi-handle scheduler for tag lists
 * (multi.c) configures its handles with the same md_reg_xfer_* functions.
 * Retries and per-host waits wrap it (retry.c). */
#include "registry_int.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

void md_registry__response_init(struct md_reg_response *resp)
{
	memset(resp, 0, sizeof(*resp));
	md_buf_init(&resp->body, MD_REGISTRY_MAX_BODY);
}

static void clear_headers(struct md_reg_response *resp)
{
	char **fields[] = { &resp->www_authenticate, &resp->link, &resp->content_type,
			    &resp->digest, &resp->retry_after, &resp->location };

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		free(*fields[i]);
		*fields[i] = NULL;
	}
}

void md_registry__response_clear(struct md_reg_response *resp)
{
	clear_headers(resp);
	free(resp->url);
	resp->url = NULL;
	md_buf_clear(&resp->body);
	resp->status = 0;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct md_reg_xfer *x = ud;
	size_t n = size * nmemb;

	if (md_buf_append(&x->resp->body, ptr, n) < 0) {
		x->body_overflow = 1;
		return 0; /* aborts the transfer */
	}
	return n;
}

/* Called by libcurl about once a second even while nothing arrives, so a
 * stop request reaches a request that hangs instead of waiting for its
 * timeout. It never reports progress: a wedged connection is not. */
static int on_xferinfo(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct md_reg_xfer *x = ud;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	if (x->stop && *x->stop) {
		x->stopped = 1;
		return 1; /* CURLE_ABORTED_BY_CALLBACK */
	}
	return 0;
}

int md_registry__stopping(const struct md_registry *r)
{
	return r->stop && *r->stop;
}

int md_registry__stopped_error(const struct md_reg_request *req, const char *url,
			 struct md_err *err)
{
	return md_err_set(err, "registry %s: %s %s stopped: shutdown requested", req->what,
			  req->method, url);
}

/* Store (replace) or append (", "-joined) one header value, bounded. */
static int keep_header(char **slot, const char *v, size_t n, int join)
{
	size_t old = (join && *slot) ? strlen(*slot) : 0;
	char *s;

	if (old + n + 3 > MD_REG_MAX_HEADER)
		return -1;
	if (!join || !*slot) {
		free(*slot);
		*slot = md_strndup(v, n);
		return *slot ? 0 : -1;
	}
	if (!(s = realloc(*slot, old + n + 3)))
		return -1;
	memcpy(s + old, ", ", 2);
	memcpy(s + old + 2, v, n);
	s[old + n + 2] = '\0';
	*slot = s;
	return 0;
}

/* A short header value into a fixed buffer; longer ones are ignored
 * (curl's header data is not NUL-terminated). */
static void keep_small(char *dst, size_t size, const char *v, size_t n)
{
	if (n >= size)
		return;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct md_reg_xfer *x = ud;
	struct md_reg_response *r = x->resp;
	size_t n = size * nmemb, vlen;
	const char *v;
	char name[32];
	int rc = 0;

	/* A status line starts a new response (1xx interim, proxy CONNECT):
	 * forget headers of the previous one. */
	if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
		clear_headers(r);
		x->rl_limit[0] = x->rl_remaining[0] = '\0';
		return n;
	}
	if (md_registry__header_split(ptr, n, name, sizeof(name), &v, &vlen) < 0)
		return n;
	if (strcmp(name, "www-authenticate") == 0)
		rc = keep_header(&r->www_authenticate, v, vlen, 1);
	else if (strcmp(name, "link") == 0)
		rc = keep_header(&r->link, v, vlen, 1);
	else if (strcmp(name, "content-type") == 0)
		rc = keep_header(&r->content_type, v, vlen, 0);
	else if (strcmp(name, "docker-content-digest") == 0)
		rc = keep_header(&r->digest, v, vlen, 0);
	else if (strcmp(name, "retry-after") == 0)
		rc = keep_header(&r->retry_after, v, vlen, 0);
	else if (strcmp(name, "location") == 0)
		rc = keep_header(&r->location, v, vlen, 0);
	else if (strcmp(name, "ratelimit-limit") == 0)
		keep_small(x->rl_limit, sizeof(x->rl_limit), v, vlen);
	else if (strcmp(name, "ratelimit-remaining") == 0)
		keep_small(x->rl_remaining, sizeof(x->rl_remaining), v, vlen);
	if (rc < 0) {
		x->header_overflow = 1;
		return 0;
	}
	return n;
}

/* Append a header line; remember the node so a secret can be wiped. */
static int add_header(struct curl_slist **list, const char *name, const char *value)
{
	char *line = md_asprintf("%s: %s", name, value);
	struct curl_slist *l;

	if (!line)
		return -1;
	l = curl_slist_append(*list, line);
	md_registry__secret_free(line);
	if (!l)
		return -1;
	*list = l;
	return 0;
}

/* curl_slist_free_all does not wipe: zero every line (one may be the
 * Authorization header) before freeing. */
static void free_headers(struct curl_slist *list)
{
	for (struct curl_slist *l = list; l; l = l->next)
		if (l->data)
			md_memzero(l->data, strlen(l->data));
	curl_slist_free_all(list);
}

static void setup(struct md_registry *r, CURL *c, const struct md_reg_request *req,
		  const char *url, struct curl_slist *headers, struct md_reg_xfer *x,
		  char *errbuf)
{
	size_t max = req->max_body ? req->max_body : MD_REGISTRY_MAX_BODY;

	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)r->connect_timeout);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)r->timeout);
	curl_easy_setopt(c, CURLOPT_USERAGENT, r->user_agent);
	if (r->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, r->ca_file);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
	if (strcmp(req->method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	if (req->post_form)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->post_form);
	if (x->stop) {
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_xferinfo);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	}
}

static int transport_error(const struct md_reg_request *req, const char *url, CURLcode cc,
			   const char *errbuf, const struct md_reg_xfer *x, size_t max,
			   struct md_err *err)
{
	const char *why = errbuf[0] ? errbuf : curl_easy_strerror(cc);

	if (x->stopped)
		return md_registry__stopped_error(req, url, err);
	if (x->body_overflow || cc == CURLE_FILESIZE_EXCEEDED)
		return md_err_set(err, "registry %s: response body from %s exceeds %zu bytes",
				  req->what, url, max);
	if (x->header_overflow)
		return md_err_set(err, "registry %s: response headers from %s exceed %d bytes",
				  req->what, url, MD_REG_MAX_HEADER);
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return md_err_set(err, "registry %s: cannot connect (%s) for %s %s", req->what,
				  why, req->method, url);
	case CURLE_OPERATION_TIMEDOUT:
		return md_err_set(err, "registry %s: %s %s timed out (%s)", req->what, req->method,
				  url, why);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		return md_err_set(err, "registry %s: TLS failure (%s) for %s %s; check the CA file",
				  req->what, why, req->method, url);
	default:
		return md_err_set(err, "registry %s: %s %s failed (%s)", req->what, req->method, url,
				  why);
	}
}

int md_registry__xfer_prepare(struct md_registry *r, CURL *c, const struct md_reg_request *req,
			const char *url, const char *authorization,
			struct md_reg_response *resp, struct md_reg_xfer *x,
			struct md_err *err)
{
	size_t max = req->max_body ? req->max_body : MD_REGISTRY_MAX_BODY;

	memset(x, 0, sizeof(*x));
	x->resp = resp;
	x->stop = r->stop;
	clear_headers(resp);
	md_buf_clear(&resp->body);
	md_buf_init(&resp->body, max);
	resp->status = 0;
	if ((req->accept && add_header(&x->headers, "Accept", req->accept) < 0) ||
	    (authorization && add_header(&x->headers, "Authorization", authorization) < 0) ||
	    (req->post_form && add_header(&x->headers, "Content-Type",
					  "application/x-www-form-urlencoded") < 0))
		return md_err_set(err, "registry %s: out of memory preparing %s", req->what, url);
	setup(r, c, req, url, x->headers, x, x->errbuf);
	return 0;
}

int md_registry__xfer_finish(struct md_registry *r, CURL *c, const struct md_reg_request *req,
		       const char *url, CURLcode cc, struct md_reg_xfer *x,
		       struct md_err *err)
{
	size_t max = req->max_body ? req->max_body : MD_REGISTRY_MAX_BODY;

	if (cc != CURLE_OK) {
		md_registry__net_count(r, req->method, url, 0);
		return transport_error(req, url, cc, x->errbuf, x, max, err);
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &x->resp->status);
	md_registry__net_count(r, req->method, url, x->resp->status);
	if (x->rl_remaining[0])
		md_registry__net_ratelimit(r, url, x->rl_limit[0] ? x->rl_limit : NULL,
				     x->rl_remaining);
	/* A whole answer arrived, whatever its status: the registry is alive. */
	if (r->progress)
		r->progress(r->progress_arg);
	return 0;
}

void md_registry__xfer_release(CURL *c, struct md_reg_xfer *x)
{
	/* Do not leave a dangling header list (or wiped secret) in the handle. */
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 1L); /* XFERINFODATA pointed at x */
	free_headers(x->headers);
	x->headers = NULL;
}

/* One exchange, no redirect handling. */
static int perform_once(struct md_registry *r, const struct md_reg_request *req,
			const char *url, const char *authorization,
			struct md_reg_response *resp, struct md_err *err)
{
	struct md_reg_xfer x;
	int rc = md_registry__primed_take(r, req, url, authorization, resp, err);

	if (rc != 0) /* answered on the multi handle already */
		return rc > 0 ? 0 : -1;
	if (md_registry__stopping(r)) /* not sent, not counted */
		return md_registry__stopped_error(req, url, err);
	rc = -1;
	if (md_registry__xfer_prepare(r, r->curl, req, url, authorization, resp, &x, err) < 0)
		goto out;
	r->stats.requests++;
	rc = md_registry__xfer_finish(r, r->curl, req, url, curl_easy_perform(r->curl), &x, err);
out:
	md_registry__xfer_release(r->curl, &x);
	return rc;
}

static int is_redirect(long status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 ||
	       status == 308;
}

int md_registry__http_do(struct md_registry *r, const struct md_reg_request *req,
		   struct md_reg_response *resp, struct md_err *err)
{
	return md_registry__retry_do(r, req, resp, err);
}

int md_registry__http_once(struct md_registry *r, const struct md_reg_request *req,
		     struct md_reg_response *resp, struct md_err *err)
{
	const char *authz = req->authorization;
	char *url = md_strdup(req->url);
	int rc = -1;

	if (!url)
		return md_err_set(err, "registry %s: out of memory", req->what);
	for (int hop = 0;; hop++) {
		char *next = NULL, *o1, *o2;
		int same;

		if (perform_once(r, req, url, authz, resp, err) < 0)
			goto out;
		/* A form (it may hold a refresh token) is never re-sent elsewhere:
		 * a redirected POST is answered as it is. */
		if (!is_redirect(resp->status) || req->post_form)
			break;
		if (!resp->location) {
			md_err_set(err, "registry %s: %s %s answered HTTP %ld without a Location",
				   req->what, req->method, url, resp->status);
			goto out;
		}
		if (hop == MD_REG_MAX_REDIRECTS) {
			md_err_set(err, "registry %s: %s %s: more than %d redirects", req->what,
				   req->method, req->url, MD_REG_MAX_REDIRECTS);
			goto out;
		}
		if (md_registry__url_resolve(url, resp->location, &next, err) < 0) {
			md_err_prefix(err, "registry %s: bad redirect", req->what);
			goto out;
		}
		/* Credentials never follow a redirect to another origin. */
		o1 = md_registry__url_origin(url);
		o2 = md_registry__url_origin(next);
		same = o1 && o2 && strcmp(o1, o2) == 0;
		free(o1);
		free(o2);
		if (!same)
			authz = NULL;
		free(url);
		url = next;
	}
	free(resp->url);
	resp->url = url;
	url = NULL;
	rc = 0;
out:
	free(url);
	return rc;
}

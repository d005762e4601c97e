/* Transport policy around the request seam: retries of 429 and 5xx with
 * exponential backoff and jitter, Retry-After (seconds or HTTP date), a
 * per-host "not before" time so every repository on a throttled host waits,
 * the tag page size each host accepted, request counters by (host, method,
 * status class) and the latest Docker Hub rate-limit figures per host.
 *
 * Sleeping goes through an injectable function so tests can record the
 * schedule and the daemon can cut a wait short. The retry budget is counted
 * in time slept, not wall time, so an injected sleep keeps it exact. */
#include "registry_int.h"

#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct net_host {
	char host[MD_REG_NET_HOST_MAX];
	int64_t not_before;   /* md_time_mono_ms() before which nothing is sent */
	char *retry_after;    /* the Retry-After that set it, for error sentences */
	int page_size;        /* -1 unknown, 0 = send no n, else the accepted n */
	int rl_seen;
	int64_t rl_limit, rl_remaining, rl_window;
};

struct net_counter {
	char host[MD_REG_NET_HOST_MAX];
	char method[8];
	const char *cls;
	uint64_t n;
};

struct md_reg_net {
	void (*sleep_ms)(void *ctx, int64_t ms);
	void *sleep_ctx;
	uint64_t rnd;
	struct net_host hosts[MD_REG_HOST_CACHE];
	size_t nhosts;
	struct net_counter counters[MD_REGISTRY_COUNTERS];
	size_t ncounters;
};

static void default_sleep(void *ctx, int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	(void)ctx;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

struct md_reg_net *md_registry__net_new(void (*sleep_ms)(void *ctx, int64_t ms), void *ctx)
{
	struct md_reg_net *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->sleep_ms = sleep_ms ? sleep_ms : default_sleep;
	n->sleep_ctx = sleep_ms ? ctx : NULL;
	/* Jitter only has to differ between agents started together. */
	n->rnd = ((uint64_t)md_time_mono_ms() << 20) ^ (uint64_t)getpid() ^
		 (uint64_t)(uintptr_t)n ^ 0x9e3779b97f4a7c15ULL;
	return n;
}

void md_registry__net_free(struct md_reg_net *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nhosts; i++)
		free(n->hosts[i].retry_after);
	free(n);
}

static uint64_t next_rand(struct md_reg_net *n)
{
	uint64_t x = n->rnd;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	n->rnd = x;
	return x;
}

/* ---- pure helpers ------------------------------------------------------ */

int md_registry__url_host(const char *url, char *out, size_t size)
{
	const char *p = url ? strstr(url, "://") : NULL;
	size_t i = 0;

	if (!p || size == 0)
		return -1;
	for (p += 3; *p && *p != '/' && *p != '?' && *p != '#'; p++) {
		if (*p == '@') { /* userinfo: never part of the key (nor a log) */
			i = 0;
			continue;
		}
		if (i + 1 >= size)
			return -1;
		out[i++] = (char)tolower((unsigned char)*p);
	}
	out[i] = '\0';
	return i ? 0 : -1;
}

int64_t md_registry__retry_after_ms(const char *value, int64_t now)
{
	const char *p = value;
	int64_t s = 0;
	time_t t;

	if (!p)
		return -1;
	while (*p == ' ' || *p == '\t')
		p++;
	if (isdigit((unsigned char)*p)) {
		for (; isdigit((unsigned char)*p); p++)
			if ((s = s * 10 + (*p - '0')) > MD_REG_RETRY_AFTER_MAX)
				s = MD_REG_RETRY_AFTER_MAX; /* "forever" is as good as a day */
		while (*p == ' ' || *p == '\t')
			p++;
		return *p ? -1 : s * 1000;
	}
	if (!*p || (t = curl_getdate(p, NULL)) == (time_t)-1)
		return -1;
	s = (int64_t)t - now;
	if (s < 0)
		s = 0;
	if (s > MD_REG_RETRY_AFTER_MAX)
		s = MD_REG_RETRY_AFTER_MAX;
	return s * 1000;
}

int64_t md_registry__backoff_ms(int attempt, uint64_t rnd)
{
	int64_t d = MD_REG_RETRY_BASE_MS;

	for (int i = 0; i < attempt && d < MD_REG_RETRY_MAX_DELAY_MS; i++)
		d *= 2;
	if (d > MD_REG_RETRY_MAX_DELAY_MS)
		d = MD_REG_RETRY_MAX_DELAY_MS;
	/* "Equal jitter": at least half the step, so retries still back off,
	 * spread over the other half so agents do not retry in lockstep. */
	return d / 2 + (int64_t)(rnd % (uint64_t)(d / 2 + 1));
}

const char *md_registry__status_class(long status)
{
	static const char *const cls[] = { "error", "1xx", "2xx", "3xx", "4xx", "5xx" };

	if (status < 100 || status > 599)
		return "error";
	return cls[status / 100];
}

int md_registry__ratelimit_parse(const char *value, int64_t *n, int64_t *window)
{
	const char *p = value, *w;
	int64_t v = 0;

	*n = 0;
	*window = 0;
	if (!p)
		return -1;
	while (*p == ' ')
		p++;
	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++)
		if ((v = v * 10 + (*p - '0')) > 1000000000)
			return -1;
	*n = v;
	/* "76;w=21600": the window is optional and informative only. */
	if ((w = strstr(p, "w=")) && isdigit((unsigned char)w[2])) {
		v = 0;
		for (w += 2; isdigit((unsigned char)*w) && v < 1000000000; w++)
			v = v * 10 + (*w - '0');
		*window = v;
	}
	return 0;
}

/* ---- per-host memory --------------------------------------------------- */

static struct net_host *host_get(struct md_reg_net *n, const char *host, int create)
{
	struct net_host *h;

	for (size_t i = 0; i < n->nhosts; i++)
		if (strcmp(n->hosts[i].host, host) == 0)
			return &n->hosts[i];
	if (!create)
		return NULL;
	if (n->nhosts == MD_REG_HOST_CACHE) { /* forget the oldest host */
		free(n->hosts[0].retry_after);
		memmove(&n->hosts[0], &n->hosts[1], (n->nhosts - 1) * sizeof(n->hosts[0]));
		n->nhosts--;
	}
	h = &n->hosts[n->nhosts++];
	memset(h, 0, sizeof(*h));
	md_strlcpy(h->host, host, sizeof(h->host));
	h->page_size = -1;
	return h;
}

int md_registry__net_page_size(const struct md_registry *r, const char *url)
{
	char host[MD_REG_NET_HOST_MAX];
	struct net_host *h;

	if (!r->net || md_registry__url_host(url, host, sizeof(host)) < 0)
		return -1;
	h = host_get(r->net, host, 0);
	return h ? h->page_size : -1;
}

void md_registry__net_set_page_size(struct md_registry *r, const char *url, int n)
{
	char host[MD_REG_NET_HOST_MAX];
	struct net_host *h;

	if (r->net && md_registry__url_host(url, host, sizeof(host)) == 0 &&
	    (h = host_get(r->net, host, 1)))
		h->page_size = n;
}

int md_registry__net_deferred(const struct md_registry *r, const char *url)
{
	char host[MD_REG_NET_HOST_MAX];
	struct net_host *h;

	if (!r->net || md_registry__url_host(url, host, sizeof(host)) < 0 ||
	    !(h = host_get(r->net, host, 0)))
		return 0;
	return h->not_before && h->not_before > md_time_mono_ms();
}

/* ---- counters ------------------------------------------------------------ */

void md_registry__net_count(struct md_registry *r, const char *method, const char *url,
		      long status)
{
	struct md_reg_net *n = r->net;
	const char *cls = md_registry__status_class(status);
	char host[MD_REG_NET_HOST_MAX];
	struct net_counter *c;

	if (!n)
		return;
	if (md_registry__url_host(url, host, sizeof(host)) < 0)
		md_strlcpy(host, "unknown", sizeof(host));
	for (size_t i = 0; i < n->ncounters; i++) {
		c = &n->counters[i];
		if (c->cls == cls && strcmp(c->host, host) == 0 && strcmp(c->method, method) == 0) {
			c->n++;
			return;
		}
	}
	/* A full table keeps counting in its last row under "other", so the
	 * totals stay right even when a cycle talks to many hosts. */
	if (n->ncounters == MD_REGISTRY_COUNTERS - 1) {
		c = &n->counters[n->ncounters++];
		md_strlcpy(c->host, "other", sizeof(c->host));
		md_strlcpy(c->method, "other", sizeof(c->method));
		c->cls = "other";
	}
	if (n->ncounters == MD_REGISTRY_COUNTERS) {
		n->counters[MD_REGISTRY_COUNTERS - 1].n++;
		return;
	}
	c = &n->counters[n->ncounters++];
	md_strlcpy(c->host, host, sizeof(c->host));
	md_strlcpy(c->method, method, sizeof(c->method));
	c->cls = cls;
	c->n = 1;
}

void md_registry__net_ratelimit(struct md_registry *r, const char *url, const char *limit,
			  const char *remaining)
{
	char host[MD_REG_NET_HOST_MAX];
	int64_t lim = 0, rem = 0, w1 = 0, w2 = 0;
	struct net_host *h;

	if (!r->net || !remaining || md_registry__ratelimit_parse(remaining, &rem, &w2) < 0 ||
	    md_registry__url_host(url, host, sizeof(host)) < 0 || !(h = host_get(r->net, host, 1)))
		return;
	if (limit && md_registry__ratelimit_parse(limit, &lim, &w1) < 0)
		lim = 0;
	h->rl_seen = 1;
	h->rl_limit = lim;
	h->rl_remaining = rem;
	h->rl_window = w1 ? w1 : w2;
}

int md_registry_counter(const struct md_registry *r, size_t i,
			struct md_registry_counter *out)
{
	const struct net_counter *c;

	memset(out, 0, sizeof(*out));
	if (!r || !r->net || i >= r->net->ncounters)
		return -1;
	c = &r->net->counters[i];
	out->host = c->host;
	out->method = c->method;
	out->status_class = c->cls;
	out->n = c->n;
	return 0;
}

int md_registry_ratelimit(const struct md_registry *r, size_t i,
			  struct md_registry_ratelimit *out)
{
	memset(out, 0, sizeof(*out));
	if (!r || !r->net)
		return -1;
	for (size_t k = 0; k < r->net->nhosts; k++) {
		const struct net_host *h = &r->net->hosts[k];

		if (!h->rl_seen)
			continue;
		if (i-- == 0) {
			out->host = h->host;
			out->limit = h->rl_limit;
			out->remaining = h->rl_remaining;
			out->window = h->rl_window;
			return 0;
		}
	}
	return -1;
}

/* ---- the retry loop ------------------------------------------------------ */

static int retryable(long status)
{
	return status == 429 || status == 500 || status == 502 || status == 503 ||
	       status == 504;
}

/* Wait until the host's not-before time, within what is left of budget. */
static int wait_host(struct md_registry *r, const struct md_reg_request *req,
		     const char *host, int64_t *slept, int64_t budget, struct md_err *err)
{
	struct net_host *h = host_get(r->net, host, 0);
	int64_t wait;

	if (!h || !h->not_before || (wait = h->not_before - md_time_mono_ms()) <= 0)
		return 0;
	if (*slept + wait > budget)
		return md_err_set(err, "registry %s: %s asked to wait (%s%s), longer than the retry budget of %lld s; %s %s not sent",
				  req->what, host, h->retry_after ? "Retry-After: " : "backing off",
				  h->retry_after ? h->retry_after : "",
				  (long long)(budget / 1000), req->method, req->url);
	r->stats.retry_wait_ms += (uint64_t)wait;
	r->net->sleep_ms(r->net->sleep_ctx, wait);
	*slept += wait;
	/* Requests are sequential today: once we waited, the time has passed
	 * (an injected or interrupted sleep must not make us wait twice). */
	h->not_before = 0;
	return 0;
}

static void defer_host(struct md_registry *r, const char *host, int64_t ms,
		       const char *retry_after)
{
	struct net_host *h = host_get(r->net, host, 1);
	int64_t t = md_time_mono_ms() + ms;

	if (!h || t <= h->not_before)
		return;
	h->not_before = t;
	free(h->retry_after);
	h->retry_after = retry_after ? md_strndup(retry_after, strnlen(retry_after, 64)) : NULL;
}

static int give_up_429(const struct md_reg_request *req, const struct md_reg_response *resp,
		       int attempts, int64_t budget, struct md_err *err)
{
	const char *ra = resp->retry_after;

	return md_err_set(err, "registry %s: rate limited (HTTP 429) on %s %s; gave up after %d attempt%s%s%.64s%s within the retry budget of %lld s",
			  req->what, req->method, resp->url ? resp->url : req->url, attempts,
			  attempts == 1 ? "" : "s", ra ? " (Retry-After: " : "",
			  ra ? ra : "", ra ? ")" : "", (long long)(budget / 1000));
}

/* Delay before the next attempt: Retry-After when the server gave a usable
 * one, else exponential backoff; -1 when that exceeds the caps. */
static int64_t next_delay(struct md_registry *r, const struct md_reg_response *resp,
			  int attempt, int64_t slept, int64_t budget)
{
	int64_t d = md_registry__retry_after_ms(resp->retry_after, md_time_now());

	if (d < 0)
		d = md_registry__backoff_ms(attempt, next_rand(r->net));
	if (d > MD_REG_RETRY_MAX_DELAY_MS || slept + d > budget)
		return -1;
	return d;
}

int md_registry__retry_do(struct md_registry *r, const struct md_reg_request *req,
		    struct md_reg_response *resp, struct md_err *err)
{
	int64_t budget = (r->timeout > 0 ? r->timeout : 30) * 1000, slept = 0, d;
	char host[MD_REG_NET_HOST_MAX];

	if (!r->net || md_registry__url_host(req->url, host, sizeof(host)) < 0)
		return md_registry__http_once(r, req, resp, err);
	for (int attempt = 0;; attempt++) {
		if (wait_host(r, req, host, &slept, budget, err) < 0)
			return -1;
		if (md_registry__http_once(r, req, resp, err) < 0)
			return -1;
		if (!retryable(resp->status))
			return 0;
		d = attempt + 1 < MD_REG_RETRY_ATTEMPTS
			    ? next_delay(r, resp, attempt, slept, budget) : -1;
		if (d < 0 && resp->status != 429)
			return 0; /* out of attempts or budget: the caller words the 5xx */
		if (d < 0) {
			/* Other repositories on this host should not spend quota on
			 * requests that will be refused the same way. */
			if ((d = md_registry__retry_after_ms(resp->retry_after, md_time_now())) > 0)
				defer_host(r, host, d, resp->retry_after);
			return give_up_429(req, resp, attempt + 1, budget, err);
		}
		r->stats.retries++;
		defer_host(r, host, d, resp->retry_after);
	}
}

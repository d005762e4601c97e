/* /healthz and /metrics over libmicrohttpd in its own polling thread.
 * The thread reads only the published snapshot (md_obs_read) and logs
 * nothing; limits keep hostile clients from costing more than a few
 * connections' worth of memory, and nothing they do reaches the loop. */
#include "magos/obs.h"
#include "obs_int.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#define HTTP_CONN_LIMIT 32u
#define HTTP_PER_IP_LIMIT 16u
#define HTTP_CONN_MEMORY (16u * 1024u) /* request line + headers; bigger → 431 */
#define HTTP_TIMEOUT_S 5u
#define HTTP_BODY_MAX (256u * 1024u)

struct md_http {
	struct MHD_Daemon *d;
	struct md_obs *obs;
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned code, const char *type,
			     const char *body, size_t len, int allow)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	rc = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return rc;
}

#define TYPE_TEXT "text/plain; charset=utf-8"

static int text_answer(struct obs_http_answer *a, struct md_buf *body, unsigned code,
		       const char *text, int allow)
{
	a->code = code;
	a->type = TYPE_TEXT;
	a->allow = allow;
	md_buf_reset(body);
	return md_buf_puts(body, text);
}

/* GET or HEAD of /metrics or /healthz, from the published snapshot. */
static int serve(struct md_obs *o, const char *url, int64_t now_mono_ms,
		 struct obs_http_answer *a, struct md_buf *b)
{
	struct md_obs_snapshot *s = malloc(sizeof(*s));
	int code;

	if (!s)
		return -1;
	md_obs_read(o, s);
	a->allow = 0;
	if (!strcmp(url, "/metrics")) {
		code = md_metrics_render(b, s, md_metrics_rss_bytes()) == 0 && b->data ? 200 : -1;
		a->type = "text/plain; version=0.0.4; charset=utf-8";
	} else {
		code = md_health_eval(s, now_mono_ms, b);
		a->type = "application/json";
	}
	free(s);
	if (code > 0 && b->data) {
		a->code = (unsigned)code;
		return 0;
	}
	return text_answer(a, b, MHD_HTTP_INTERNAL_SERVER_ERROR,
			   !strcmp(url, "/metrics") ? "metrics unavailable\n" : "health unavailable\n",
			   0);
}

int obs_http_answer(struct md_obs *o, const char *method, const char *url, int64_t now_mono_ms,
		    struct obs_http_answer *a, struct md_buf *body)
{
	int known = !strcmp(url, "/metrics") || !strcmp(url, "/healthz");

	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return known ? text_answer(a, body, MHD_HTTP_METHOD_NOT_ALLOWED,
					   "method not allowed\n", 1)
			     : text_answer(a, body, MHD_HTTP_NOT_FOUND, "not found\n", 0);
	if (!known)
		return text_answer(a, body, MHD_HTTP_NOT_FOUND, "not found\n", 0);
	return serve(o, url, now_mono_ms, a, body);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **req)
{
	struct md_http *h = cls;
	struct obs_http_answer a;
	struct md_buf b;
	enum MHD_Result rc = MHD_NO;

	(void)version;
	(void)upload_data;
	(void)req;
	/* Answer on the first call: bodies are never read, only refused. */
	if (*upload_data_size)
		*upload_data_size = 0;
	md_buf_init(&b, HTTP_BODY_MAX);
	if (obs_http_answer(h->obs, method, url, md_time_mono_ms(), &a, &b) == 0)
		rc = reply(conn, a.code, a.type, b.data ? b.data : "", b.len, a.allow);
	md_buf_free(&b);
	return rc;
}

/* "host:port" or "[v6]:port" → the first address it resolves to. */
static int resolve(const char *listen, struct sockaddr_storage *ss, socklen_t *sslen,
		   struct md_err *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	const char *colon = strrchr(listen, ':');
	char host[256];
	size_t hl;
	int rc;

	if (!colon || colon == listen || !colon[1])
		return md_err_set(err, "MD_LISTEN '%.100s' is not host:port", listen);
	hl = (size_t)(colon - listen);
	if (listen[0] == '[' && hl >= 2 && listen[hl - 1] == ']') {
		listen++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return md_err_set(err, "MD_LISTEN host is too long");
	memcpy(host, listen, hl);
	host[hl] = '\0';
	rc = getaddrinfo(host, colon + 1, &hints, &ai);
	if (rc != 0 || !ai)
		return md_err_set(err, "cannot resolve MD_LISTEN address '%s': %s", host,
				  gai_strerror(rc));
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sslen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

int md_http_start(struct md_http **out, const char *listen, struct md_obs *o,
		  struct md_err *err)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct md_http *h;
	unsigned flags = MHD_USE_POLL_INTERNAL_THREAD;

	*out = NULL;
	if (resolve(listen, &ss, &sslen, err) < 0)
		return -1;
	if (!(h = calloc(1, sizeof(*h))))
		return md_err_set(err, "out of memory");
	h->obs = o;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	errno = 0;
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				MHD_OPTION_CONNECTION_LIMIT, HTTP_CONN_LIMIT,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, HTTP_PER_IP_LIMIT,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
				MHD_OPTION_CONNECTION_TIMEOUT, HTTP_TIMEOUT_S,
				MHD_OPTION_END);
	if (!h->d) {
		int e = errno;

		free(h);
		return md_err_set(err, "cannot listen on %s for /healthz and /metrics%s%s", listen,
				  e ? ": " : "", e ? strerror(e) : "");
	}
	*out = h;
	return 0;
}

void md_http_stop(struct md_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}

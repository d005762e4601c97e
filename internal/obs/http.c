/* /healthz and /metrics over libmicrohttpd, driven by one thread of ours.
 * The thread reads only the published snapshot (md_obs_read) and logs
 * nothing; nothing a client does reaches the loop.
 *
 * Why not libmicrohttpd's own polling thread: its only timeout is an
 * inactivity timeout, so a client sending one header byte a second keeps a
 * connection forever, and once its connection limit is reached it stops
 * accepting. Any local user could hold every slot (the per-IP limit does not
 * help: Prometheus scrapes from 127.0.0.1 like everyone else on the host).
 * So this file runs libmicrohttpd's epoll mode from its own thread and
 * keeps the connections in accept order, with two rules:
 *   - a connection lives at most HTTP_DEADLINE_MS from accept, whatever it
 *     sends (one request per connection: every answer says
 *     "Connection: close");
 *   - when HTTP_CONN_KEEP connections are open, accepting one more closes
 *     the oldest.
 * A legitimate scrape sends its request right after connecting and is
 * answered within the same few polls, so it is never the oldest: it can
 * only be pushed out by a client opening HTTP_CONN_KEEP connections in the
 * meantime. Slow connections are cut with shutdown(2), never close(2): the
 * descriptor stays libmicrohttpd's, which sees end-of-file on its next
 * run and cleans up (and reports NOTIFY_CLOSED) as for any other client.
 * Memory stays bounded by HTTP_CONN_LIMIT × HTTP_CONN_MEMORY. */
#include "magos/obs.h"
#include "obs_int.h"

#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define HTTP_CONN_KEEP 64u     /* open connections before the oldest is cut */
#define HTTP_CONN_LIMIT 96u    /* libmicrohttpd's own cap: room for cut ones */
#define HTTP_CONN_MEMORY (16u * 1024u) /* request line + headers; bigger → 431 */
#define HTTP_DEADLINE_MS 5000  /* a connection's whole life, from accept */
#define HTTP_IDLE_S 5u         /* libmicrohttpd's inactivity timeout (a backstop) */
#define HTTP_BODY_MAX (256u * 1024u)

/* One accepted connection, linked in accept order until it is cut. */
struct conn {
	struct conn *prev, *next;
	int fd;
	int linked;
	int64_t deadline_ms;
};

struct md_http {
	struct MHD_Daemon *d;
	struct md_obs *obs;
	pthread_t thread;
	int wake_fd; /* eventfd: md_http_stop wakes the thread */
	int epoll_fd; /* libmicrohttpd's, for our poll() */
	struct conn *oldest, *newest;
	unsigned open; /* linked connections */
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
	/* One request per connection: its deadline counts from accept. */
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	rc = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return rc;
}

#define TYPE_TEXT "text/plain; charset=utf-8"

static int text_answer(struct md_obs__http_answer *a, struct md_buf *body, unsigned code,
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
		 struct md_obs__http_answer *a, struct md_buf *b)
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

int md_obs__http_answer(struct md_obs *o, const char *method, const char *url, int64_t now_mono_ms,
		    struct md_obs__http_answer *a, struct md_buf *body)
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
	struct md_obs__http_answer a;
	struct md_buf b;
	enum MHD_Result rc = MHD_NO;

	(void)version;
	(void)upload_data;
	(void)req;
	/* Answer on the first call: bodies are never read, only refused. */
	if (*upload_data_size)
		*upload_data_size = 0;
	md_buf_init(&b, HTTP_BODY_MAX);
	if (md_obs__http_answer(h->obs, method, url, md_time_mono_ms(), &a, &b) == 0)
		rc = reply(conn, a.code, a.type, b.data ? b.data : "", b.len, a.allow);
	md_buf_clear(&b);
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

static void unlink_conn(struct md_http *h, struct conn *c)
{
	if (!c->linked)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		h->oldest = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		h->newest = c->prev;
	c->prev = c->next = NULL;
	c->linked = 0;
	h->open--;
}

/* End a connection from our side: libmicrohttpd keeps the descriptor and
 * closes it when it reads the end-of-file, so it can never be reused under
 * it. */
static void cut(struct md_http *h, struct conn *c)
{
	(void)shutdown(c->fd, SHUT_RDWR);
	unlink_conn(h, c);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode what)
{
	struct md_http *h = cls;
	const union MHD_ConnectionInfo *ci;
	struct conn *c = *socket_context;

	if (what == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (c) {
			unlink_conn(h, c);
			free(c);
			*socket_context = NULL;
		}
		return;
	}
	if (what != MHD_CONNECTION_NOTIFY_STARTED)
		return;
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!ci)
		return; /* cannot happen for a socket; the idle timeout still applies */
	if (!(c = calloc(1, sizeof(*c)))) {
		/* A connection without a deadline is one a client could keep. */
		(void)shutdown(ci->connect_fd, SHUT_RDWR);
		return;
	}
	if (h->open >= HTTP_CONN_KEEP)
		cut(h, h->oldest);
	c->fd = ci->connect_fd;
	c->deadline_ms = md_time_mono_ms() + HTTP_DEADLINE_MS;
	c->prev = h->newest;
	if (h->newest)
		h->newest->next = c;
	else
		h->oldest = c;
	h->newest = c;
	c->linked = 1;
	h->open++;
	*socket_context = c;
}

static void cut_expired(struct md_http *h, int64_t now)
{
	while (h->oldest && h->oldest->deadline_ms <= now)
		cut(h, h->oldest);
}

/* Until the oldest connection's deadline or libmicrohttpd's own next
 * timeout, whichever comes first; -1 when there is neither. */
static int wait_ms(struct md_http *h, int64_t now)
{
	MHD_UNSIGNED_LONG_LONG mhd_ms;
	int64_t ms = -1;

	if (h->oldest)
		ms = h->oldest->deadline_ms > now ? h->oldest->deadline_ms - now : 0;
	if (MHD_get_timeout(h->d, &mhd_ms) == MHD_YES && (ms < 0 || mhd_ms < (uint64_t)ms))
		ms = mhd_ms > INT32_MAX ? INT32_MAX : (int64_t)mhd_ms;
	return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

static void *run_thread(void *arg)
{
	struct md_http *h = arg;
	struct pollfd p[2] = {
		{ .fd = h->epoll_fd, .events = POLLIN },
		{ .fd = h->wake_fd, .events = POLLIN },
	};

	for (;;) {
		/* libmicrohttpd must run after every wait, whatever woke it. */
		if (poll(p, 2, wait_ms(h, md_time_mono_ms())) > 0 && p[1].revents)
			return NULL;
		MHD_run(h->d);
		cut_expired(h, md_time_mono_ms());
	}
}

/* The serving thread takes no signals: they belong to the loop. */
static int start_thread(struct md_http *h)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&h->thread, NULL, run_thread, h);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

static void destroy(struct md_http *h)
{
	/* Closes every connection; NOTIFY_CLOSED frees their records. */
	if (h->d)
		MHD_stop_daemon(h->d);
	if (h->wake_fd >= 0)
		close(h->wake_fd);
	free(h);
}

int md_http_start(struct md_http **out, const char *listen, struct md_obs *o,
		  struct md_err *err)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	struct md_http *h;
	const union MHD_DaemonInfo *di;
	unsigned flags = MHD_USE_EPOLL; /* driven by run_thread(), not a thread of its own */
	int e;

	*out = NULL;
	if (resolve(listen, &ss, &sslen, err) < 0)
		return -1;
	if (!(h = calloc(1, sizeof(*h))))
		return md_err_set(err, "out of memory");
	h->obs = o;
	if ((h->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		e = errno;
		free(h);
		return md_err_set(err, "cannot serve /healthz and /metrics: %s", strerror(e));
	}
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	errno = 0;
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				MHD_OPTION_CONNECTION_LIMIT, HTTP_CONN_LIMIT,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
				MHD_OPTION_CONNECTION_TIMEOUT, HTTP_IDLE_S,
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
				MHD_OPTION_END);
	e = errno;
	if (!h->d) {
		destroy(h);
		return md_err_set(err, "cannot listen on %s for /healthz and /metrics%s%s", listen,
				  e ? ": " : "", e ? strerror(e) : "");
	}
	di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	if (di)
		h->epoll_fd = di->epoll_fd;
	if (!di || (e = start_thread(h)) != 0) {
		destroy(h);
		return md_err_set(err, "cannot serve /healthz and /metrics%s%s", di ? ": " : "",
				  di ? strerror(e) : " (no epoll)");
	}
	*out = h;
	return 0;
}

void md_http_stop(struct md_http *h)
{
	uint64_t one = 1;

	if (!h)
		return;
	if (write(h->wake_fd, &one, sizeof(one)) != (ssize_t)sizeof(one)) {
		/* An eventfd write only fails on overflow: it is already readable. */
	}
	pthread_join(h->thread, NULL);
	destroy(h);
}

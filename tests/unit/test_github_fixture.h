/* github unit tests: shared fixture. An RSA key written to a 0600 file, a
 * fake clock, and a scripted HTTP/1.1 server running in a thread of the
 * test on 127.0.0.1 that logs every request (head and body) in memory.
 * Everything is static so each test_github*.c gets its own copy. */
#ifndef MAGOS_TEST_GITHUB_FIXTURE_H
#define MAGOS_TEST_GITHUB_FIXTURE_H

#include "unit.h"
#include "http_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "magos/github.h"
#include "../../internal/github/github_int.h"

/* Every failing call's message is checked for secrets. */
#define assert_no_secret(msg)                                              \
	do {                                                               \
		assert_null(strstr((msg), "ghs_"));                        \
		assert_null(strstr((msg), "eyJ"));                         \
		assert_null(strstr((msg), "PRIVATE KEY"));                 \
	} while (0)

#define assert_contains(hay, needle)                                             \
	do {                                                                     \
		if (!strstr((hay), (needle)))                                    \
			fail_msg("'%s' does not contain '%s'", (hay), (needle)); \
	} while (0)

/* ---- key and clock ------------------------------------------------------------------- */

static EVP_PKEY *fx_key;
static char fx_dir[64];
static char fx_key_path[128];
static int64_t fx_now = 1700000000;

FX_UNUSED static int64_t fx_clock(void *ctx)
{
	(void)ctx;
	return fx_now;
}

FX_UNUSED static void write_pem(const char *path, EVP_PKEY *k, int pkcs8, mode_t mode)
{
	BIO *b = BIO_new_file(path, "w");

	assert_non_null(b);
	if (pkcs8)
		assert_int_equal(PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL), 1);
	else
		assert_int_equal(PEM_write_bio_PrivateKey_traditional(b, k, NULL, NULL, 0, NULL,
								      NULL),
				 1);
	BIO_free(b);
	assert_int_equal(chmod(path, mode), 0);
}

FX_UNUSED static int fx_setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	snprintf(fx_dir, sizeof(fx_dir), "/tmp/md-gh-XXXXXX");
	if (!mkdtemp(fx_dir))
		return -1;
	snprintf(fx_key_path, sizeof(fx_key_path), "%s/app.pem", fx_dir);
	fx_key = EVP_RSA_gen(2048);
	if (!fx_key)
		return -1;
	write_pem(fx_key_path, fx_key, 0, 0600);
	return 0;
}

FX_UNUSED static int fx_teardown(void **state)
{
	char cmd[128];

	(void)state;
	EVP_PKEY_free(fx_key);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx_dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- the scripted server -------------------------------------------------------------- */

struct srv;
/* Builds the raw response for one request (method, path with query, the
 * whole head, the body). */
typedef char *(*srv_handler)(struct srv *s, const char *method, const char *path,
			     const char *head, const char *body);

struct srv {
	int ls, port;
	pthread_t th;
	pthread_mutex_t mu;
	volatile int stop;
	srv_handler h;
	int n;             /* requests served */
	int mints;         /* tokens handed out */
	int mode;          /* what the test's handler should do */
	int hits;          /* handler's own counter */
	struct md_buf log; /* "METHOD PATH\n" per request */
	struct md_buf full; /* heads and bodies */
	char last_body[1 << 16];
};

FX_UNUSED static char *reply(int status, const char *headers, const char *body)
{
	return md_asprintf("HTTP/1.1 %d X\r\nConnection: close\r\nContent-Type: application/json\r\n"
			   "Content-Length: %zu\r\n%s\r\n%s",
			   status, strlen(body), headers, body);
}

/* The token endpoint every handler shares: ghs_tok1, ghs_tok2, ... expiring
 * an hour after the fake clock at minting time. */
FX_UNUSED static char *mint_reply(struct srv *s)
{
	char when[32], body[160];

	md_time_format_rfc3339(fx_now + 3600, when, sizeof(when));
	s->mints++;
	snprintf(body, sizeof(body), "{\"token\":\"ghs_tok%d\",\"expires_at\":\"%s\"}", s->mints,
		 when);
	return reply(201, "", body);
}

static int read_request(int fd, struct md_buf *head, struct md_buf *body)
{
	char c;
	long n;
	const char *cl;

	while (read(fd, &c, 1) == 1) {
		if (md_buf_append(head, &c, 1) < 0)
			return -1;
		if (head->len >= 4 && !memcmp(head->data + head->len - 4, "\r\n\r\n", 4))
			break;
	}
	if (!head->len)
		return -1;
	cl = strcasestr(head->data, "\r\nContent-Length: ");
	n = cl ? strtol(cl + 18, NULL, 10) : 0;
	while (n-- > 0 && read(fd, &c, 1) == 1)
		if (md_buf_append(body, &c, 1) < 0)
			return -1;
	return 0;
}

static void serve_one(struct srv *s, int fd)
{
	struct md_buf head, body;
	char method[16] = "", path[2048] = "", *resp;

	md_buf_init(&head, 1 << 16);
	md_buf_init(&body, 4 << 20);
	if (read_request(fd, &head, &body) == 0 &&
	    sscanf(head.data, "%15s %2047s", method, path) == 2) {
		pthread_mutex_lock(&s->mu);
		s->n++;
		md_buf_printf(&s->log, "%s %s\n", method, path);
		md_buf_printf(&s->full, "%s%s\n====\n", head.data, body.data ? body.data : "");
		md_strlcpy(s->last_body, body.data ? body.data : "", sizeof(s->last_body));
		resp = s->h(s, method, path, head.data, body.data ? body.data : "");
		pthread_mutex_unlock(&s->mu);
		write_all(fd, resp, strlen(resp));
		free(resp);
	}
	md_buf_clear(&head);
	md_buf_clear(&body);
}

static void *srv_main(void *arg)
{
	struct srv *s = arg;

	while (!s->stop) {
		struct pollfd p = { s->ls, POLLIN, 0 };
		int fd;

		if (poll(&p, 1, 50) <= 0)
			continue;
		fd = accept(s->ls, NULL, NULL);
		if (fd < 0)
			continue;
		serve_one(s, fd);
		shutdown(fd, SHUT_WR);
		close(fd);
	}
	return NULL;
}

FX_UNUSED static void srv_start(struct srv *s, srv_handler h)
{
	memset(s, 0, sizeof(*s));
	s->h = h;
	md_buf_init(&s->log, 1 << 20);
	md_buf_init(&s->full, 16 << 20);
	pthread_mutex_init(&s->mu, NULL);
	s->ls = http_listen(&s->port);
	assert_int_equal(pthread_create(&s->th, NULL, srv_main, s), 0);
}

FX_UNUSED static void srv_stop(struct srv *s)
{
	s->stop = 1;
	pthread_join(s->th, NULL);
	close(s->ls);
	pthread_mutex_destroy(&s->mu);
	md_buf_clear(&s->log);
	md_buf_clear(&s->full);
}

/* A client of the server for acme/web with the fake clock. */
FX_UNUSED static struct md_github *client_for(struct srv *s, const char *installation_id)
{
	struct md_github_opts o = { 0 };
	struct md_github *gh = NULL;
	struct md_err err;
	char api[64];

	snprintf(api, sizeof(api), "http://127.0.0.1:%d", s->port);
	o.api_url = api;
	o.app_id = "12345";
	o.key_file = fx_key_path;
	o.installation_id = installation_id;
	o.owner = "acme";
	o.repo = "web";
	o.user_agent = "md-test/1";
	o.timeout = 10;
	o.now = fx_clock;
	assert_ok(md_github_new(&gh, &o, &err));
	return gh;
}

#endif

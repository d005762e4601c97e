/* registry unit tests: shared fixture. A scripted HTTP server forked per
 * test (fake_start/fake_stop), a client for it, and the token-auth
 * handler several parts script against. Everything is static, so each
 * test_registry_<part>.c gets its own copy; the ones a part does not use
 * are marked unused to keep -Wunused-function quiet. */
#ifndef MAGOS_REGISTRY_FIXTURE_H
#define MAGOS_REGISTRY_FIXTURE_H

#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "magos/registry.h"
#include "../../internal/registry/registry_int.h"

#define FX_UNUSED __attribute__((unused))

/* Like assert_int_equal(call, 0) but shows the error sentence. */
#define assert_ok(call)                                                    \
	do {                                                               \
		if ((call) != 0)                                           \
			fail_msg("%s failed: %s", #call, err.msg);         \
	} while (0)

/* base64("user:pass") etc. */
#define B64_USER_PASS "dXNlcjpwYXNz"
#define B64_HUB "aHViOmh1YnB3"      /* hub:hubpw */
#define B64_ORG "b3JnOm9yZ3B3"      /* org:orgpw */
#define B64_DEEP "ZGVlcDpkZWVwcHc=" /* deep:deeppw */

#define DIGEST_A "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* ---- a scripted HTTP server --------------------------------------------------- */

/* Builds the raw response for one request head; `port` is the server's. */
typedef char *(*fake_handler)(const char *head, int port);

struct fake {
	pid_t pid;
	int port;
	char log[64];
};

FX_UNUSED static char *read_head(int fd)
{
	struct md_buf b;
	char c;

	md_buf_init(&b, 65536);
	while (read(fd, &c, 1) == 1) {
		md_buf_append(&b, &c, 1);
		if (b.len >= 4 && memcmp(b.data + b.len - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	return md_buf_steal(&b);
}

FX_UNUSED static void write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* Serve forever. With `with_body` the request body (Content-Length) is
 * read too, so a POST's form reaches the handler and the log. */
FX_UNUSED static void fake_serve(int ls, int port, fake_handler h, const char *log,
				 int with_body)
{
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		int fd = accept(ls, NULL, NULL);
		char *head, *resp, *cl;
		struct md_buf req;
		FILE *fp;

		if (fd < 0)
			continue;
		head = read_head(fd);
		md_buf_init(&req, 1 << 20);
		md_buf_puts(&req, head);
		if (with_body && (cl = strcasestr(head, "\r\nContent-Length: "))) {
			long n = strtol(cl + 18, NULL, 10);
			char c;

			while (n-- > 0 && read(fd, &c, 1) == 1)
				md_buf_append(&req, &c, 1);
		}
		if ((fp = fopen(log, "a"))) {
			fprintf(fp, "%s%s====\n", req.data, with_body ? "\n" : "");
			fclose(fp);
		}
		resp = h(req.data, port);
		write_all(fd, resp, strlen(resp));
		shutdown(fd, SHUT_WR);
		close(fd);
		free(head);
		free(resp);
		md_buf_free(&req);
	}
}

FX_UNUSED static void fake_launch(struct fake *f, fake_handler h, int with_body)
{
	struct sockaddr_in a = { 0 };
	socklen_t len = sizeof(a);
	int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	assert_true(ls >= 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(ls, 16), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &len), 0);
	f->port = ntohs(a.sin_port);
	snprintf(f->log, sizeof(f->log), "/tmp/md-fake-%d-%d.log", (int)getpid(), f->port);
	unlink(f->log);
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid == 0) {
		/* Die with the test process (a failed assertion skips fake_stop)
		 * and do not hold its stdout open for make. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		fake_serve(ls, f->port, h, f->log, with_body);
		_exit(0);
	}
	close(ls);
}

FX_UNUSED static void fake_start(struct fake *f, fake_handler h)
{
	fake_launch(f, h, 0);
}

/* Like fake_start but the handler also sees request bodies. */
FX_UNUSED static void fake_start_body(struct fake *f, fake_handler h)
{
	fake_launch(f, h, 1);
}

/* Stop the server; returns its request log (caller frees). */
FX_UNUSED static char *fake_stop(struct fake *f)
{
	struct md_err err;
	char *log = NULL;

	kill(f->pid, SIGKILL);
	waitpid(f->pid, NULL, 0);
	if (md_file_read(f->log, 1 << 20, &log, NULL, &err) < 0)
		log = md_strdup("");
	unlink(f->log);
	return log;
}

FX_UNUSED static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

FX_UNUSED static char *reply(int status, const char *headers, const char *body)
{
	return md_asprintf("HTTP/1.1 %d X\r\nConnection: close\r\nContent-Length: %zu\r\n%s\r\n%s",
			   status, strlen(body), headers, body);
}

FX_UNUSED static struct md_registry *client(int port, const char *auth_file)
{
	static struct md_strv insecure;
	struct md_registry_opts o = { 0 };
	struct md_registry *r;
	struct md_err err;
	char host[64];

	md_strv_free(&insecure);
	snprintf(host, sizeof(host), "127.0.0.1:%d", port);
	md_strv_push(&insecure, host);
	snprintf(host, sizeof(host), "localhost:%d", port);
	md_strv_push(&insecure, host);
	o.insecure_hosts = &insecure;
	o.auth_file = auth_file;
	o.connect_timeout = 5;
	o.timeout = 10;
	o.user_agent = "md-test";
	o.page_size = 2;
	assert_int_equal(md_registry_new(&r, &o, &err), 0);
	return r;
}

/* Token auth: /token hands out "tok1" (checking Basic creds when sent);
 * tags come in two pages linked by a relative Link. */
FX_UNUSED static char *h_token_flow(const char *head, int port)
{
	char hdr[512];

	static const char token_req[] =
		"GET /token?service=fake&scope=repository%3Aacme%2Fweb%3Apull ";

	if (strncmp(head, token_req, strlen(token_req)) == 0) {
		if (strstr(head, "Authorization: Basic ") &&
		    !strstr(head, "Authorization: Basic " B64_USER_PASS "\r\n"))
			return reply(401, "", "{}");
		return reply(200, "Content-Type: application/json\r\n",
			     "{\"token\":\"tok1\",\"expires_in\":300}");
	}
	if (!strstr(head, "Authorization: Bearer tok1\r\n")) {
		snprintf(hdr, sizeof(hdr),
			 "WWW-Authenticate: Bearer realm=\"http://127.0.0.1:%d/token\",service=\"fake\","
			 "scope=\"repository:acme/web:pull\"\r\n", port);
		return reply(401, hdr,
			     "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}");
	}
	if (strncmp(head, "GET /v2/acme/web/tags/list?n=2 ", 31) == 0)
		return reply(200, "Link: </v2/acme/web/tags/list?n=2&last=1.1>; rel=\"next\"\r\n",
			     "{\"name\":\"acme/web\",\"tags\":[\"1.0\",\"1.1\"]}");
	if (strncmp(head, "GET /v2/acme/web/tags/list?n=2&last=1.1 ", 40) == 0)
		return reply(200, "", "{\"name\":\"acme/web\",\"tags\":[\"2.0\"]}");
	if (strncmp(head, "HEAD /v2/acme/web/manifests/2.0 ", 32) == 0)
		return md_asprintf("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 10\r\n"
				   "Content-Type: application/vnd.oci.image.index.v1+json; x=y\r\n"
				   "Docker-Content-Digest: " DIGEST_A "\r\n\r\n");
	return reply(404, "", "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\"}]}");
}

#endif

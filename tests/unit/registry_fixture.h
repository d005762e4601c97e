/* registry unit tests: shared fixture. A scripted HTTP server forked per
 * test (fake_start/fake_stop), a client for it, and the token-auth
 * handler several parts script against. Everything is static, so each
 * test_registry_<part>.c gets its own copy; the ones a part does not use
 * are marked unused to keep -Wunused-function quiet. */
#ifndef MAGOS_REGISTRY_FIXTURE_H
#define MAGOS_REGISTRY_FIXTURE_H

#include "unit.h"
#include "http_fixture.h"

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
		md_buf_clear(&req);
	}
}

/* A listening socket on a free loopback port; f gets the port and a log
 * path /tmp/md-<tag>-<pid>-<port>.log. */
FX_UNUSED static int fake_listen(struct fake *f, const char *tag)
{
	int ls = http_listen(&f->port);

	snprintf(f->log, sizeof(f->log), "/tmp/md-%s-%d-%d.log", tag, (int)getpid(), f->port);
	unlink(f->log);
	return ls;
}

/* Fork the server process: 1 in the child (which then serves and
 * _exit()s), 0 in the test. */
FX_UNUSED static int fake_fork(struct fake *f)
{
	f->pid = fork();
	assert_true(f->pid >= 0);
	if (f->pid != 0)
		return 0;
	/* Die with the test process (a failed assertion skips fake_stop)
	 * and do not hold its stdout open for make. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	freopen("/dev/null", "w", stdout);
	freopen("/dev/null", "w", stderr);
	return 1;
}

FX_UNUSED static void fake_launch(struct fake *f, fake_handler h, int with_body)
{
	int ls = fake_listen(f, "fake");

	if (fake_fork(f)) {
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

FX_UNUSED static char *reply(int status, const char *headers, const char *body)
{
	return md_asprintf("HTTP/1.1 %d X\r\nConnection: close\r\nContent-Length: %zu\r\n%s\r\n%s",
			   status, strlen(body), headers, body);
}

/* Options for a client of the fake server at port: plain HTTP to it
 * (127.0.0.1 and localhost), short timeouts, pages of 2 tags. The host
 * list is static (md_registry_new copies it). */
FX_UNUSED static void client_opts(struct md_registry_opts *o, int port)
{
	static struct md_strv insecure;
	char host[64];

	memset(o, 0, sizeof(*o));
	md_strv_clear(&insecure);
	snprintf(host, sizeof(host), "127.0.0.1:%d", port);
	md_strv_push(&insecure, host);
	snprintf(host, sizeof(host), "localhost:%d", port);
	md_strv_push(&insecure, host);
	o->insecure_hosts = &insecure;
	o->connect_timeout = 5;
	o->timeout = 10;
	o->page_size = 2;
}

FX_UNUSED static struct md_registry *client_new(const struct md_registry_opts *o)
{
	struct md_registry *r;
	struct md_err err;

	if (md_registry_new(&r, o, &err) < 0)
		fail_msg("md_registry_new: %s", err.msg);
	return r;
}

FX_UNUSED static struct md_registry *client(int port, const char *auth_file)
{
	struct md_registry_opts o;

	client_opts(&o, port);
	o.auth_file = auth_file;
	o.user_agent = "md-test";
	return client_new(&o);
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

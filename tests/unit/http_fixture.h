/* Unit-test fixtures that speak HTTP: what registry_fixture.h and
 * test_github_fixture.h share (a loopback listener, writing a whole reply,
 * counting matches in a request log). Everything is static, so each test
 * file gets its own copy; unused ones are marked to keep -Wunused-function
 * quiet. */
#ifndef MAGOS_HTTP_FIXTURE_H
#define MAGOS_HTTP_FIXTURE_H

#include "unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "magos/util.h"

#define FX_UNUSED __attribute__((unused))

/* Like assert_int_equal(call, 0) but shows the error sentence (of a local
 * struct md_err err). */
#define assert_ok(call)                                                    \
	do {                                                               \
		if ((call) != 0)                                           \
			fail_msg("%s failed: %s", #call, err.msg);         \
	} while (0)

/* A listening socket on a free port of 127.0.0.1; *port gets the port. */
FX_UNUSED static int http_listen(int *port)
{
	struct sockaddr_in a = { 0 };
	socklen_t len = sizeof(a);
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	assert_true(ls >= 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(ls, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(ls, 16), 0);
	assert_int_equal(getsockname(ls, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return ls;
}

/* Write all of p (a client that hung up ends it early). */
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

/* How often needle occurs in hay (overlaps count). */
FX_UNUSED static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

#endif

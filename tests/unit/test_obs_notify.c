/* obs: sd_notify addresses, messages, the watchdog period and its rate
 * limit, datagrams on a real socket (path and abstract). */
#include "unit.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "magos/obs.h"

static void test_address(void **state)
{
	struct sockaddr_un sa;
	socklen_t len;
	struct md_err err;
	char longpath[200];

	(void)state;
	assert_int_equal(md_notify_address(&sa, &len, "/run/systemd/notify", &err), 0);
	assert_string_equal(sa.sun_path, "/run/systemd/notify");
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + 20);
	assert_int_equal(md_notify_address(&sa, &len, "@magos/test", &err), 0);
	assert_int_equal(sa.sun_path[0], '\0');
	assert_memory_equal(sa.sun_path + 1, "magos/test", 10);
	assert_int_equal(len, offsetof(struct sockaddr_un, sun_path) + 11);
	assert_int_equal(md_notify_address(&sa, &len, "relative/sock", &err), -1);
	assert_non_null(strstr(err.msg, "NOTIFY_SOCKET 'relative/sock' is not a socket path"));
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(md_notify_address(&sa, &len, longpath, &err), -1);
	assert_non_null(strstr(err.msg, "is too long"));
}

static void test_watchdog_period(void **state)
{
	(void)state;
	assert_int_equal(md_notify_parse_watchdog("2000000", NULL, 5), 1000);
	assert_int_equal(md_notify_parse_watchdog("2000000", "5", 5), 1000);
	assert_int_equal(md_notify_parse_watchdog("2000000", "6", 5), 0); /* another process's */
	assert_int_equal(md_notify_parse_watchdog("2000000", "5x", 5), 0);
	assert_int_equal(md_notify_parse_watchdog("abc", NULL, 5), 0);
	assert_int_equal(md_notify_parse_watchdog("-5", NULL, 5), 0);
	assert_int_equal(md_notify_parse_watchdog("0", NULL, 5), 0);
	assert_int_equal(md_notify_parse_watchdog("", NULL, 5), 0);
	assert_int_equal(md_notify_parse_watchdog(NULL, NULL, 5), 0);
	assert_int_equal(md_notify_parse_watchdog("1", NULL, 5), 1);
	assert_int_equal(md_notify_parse_watchdog("600000000", "", 5), 300000);
}

static void test_messages(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(md_notify_format_status(out, sizeof(out), "cycle 3\nok\tnow"), 0);
	assert_string_equal(out, "STATUS=cycle 3 ok now");
	assert_int_equal(md_notify_format_status(out, 12, "abcdefghij"), 0);
	assert_string_equal(out, "STATUS=abcd");
	assert_int_equal(md_notify_format_status(out, 7, "x"), -1);
	assert_int_equal(md_notify_format_status(out, 11, "ab\xc3\xa9z"), 0);
	assert_string_equal(out, "STATUS=ab"); /* é does not fit whole: left out */
	assert_int_equal(md_notify_format_reloading(out, sizeof(out), 123456789), 0);
	assert_string_equal(out, "RELOADING=1\nMONOTONIC_USEC=123456789");
	assert_int_equal(md_notify_format_reloading(out, 10, 1), -1);
}

static int bound_socket(struct sockaddr_un *sa, socklen_t len)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)sa, len), 0);
	return fd;
}

static void recv_equal(int fd, const char *want)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void test_send_and_watchdog(void **state)
{
	char dir[] = "/tmp/md-obs-notify-XXXXXX", path[128];
	struct md_notify_env env = { .watchdog_usec = "2000000", .pid = 42 };
	struct sockaddr_un sa;
	socklen_t len;
	struct md_notify *n;
	char buf[16];
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/notify", dir);
	assert_int_equal(md_notify_address(&sa, &len, path, NULL), 0);
	fd = bound_socket(&sa, len);
	env.notify_socket = path;
	assert_int_equal(md_notify_new(&n, &env, NULL), 0);
	assert_true(md_notify_enabled(n));
	assert_int_equal(md_notify_send(n, "READY=1", NULL), 0);
	recv_equal(fd, "READY=1");

	/* Half the timeout, and never more often. */
	assert_int_equal(md_notify_watchdog_period_ms(n), 1000);
	assert_int_equal(md_notify_watchdog_due_in(n, 5000), 0);
	assert_int_equal(md_notify_watchdog(n, 5000), 1);
	recv_equal(fd, "WATCHDOG=1");
	assert_int_equal(md_notify_watchdog_due_in(n, 5400), 600);
	assert_int_equal(md_notify_watchdog(n, 5400), 0);
	assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
	assert_int_equal(md_notify_watchdog(n, 6000), 1);
	recv_equal(fd, "WATCHDOG=1");
	md_notify_free(n);

	/* WATCHDOG_PID of another process: notifications yes, pings no. */
	env.watchdog_pid = "41";
	assert_int_equal(md_notify_new(&n, &env, NULL), 0);
	assert_int_equal(md_notify_watchdog_period_ms(n), 0);
	assert_int_equal(md_notify_watchdog(n, 1000), 0);
	assert_int_equal(md_notify_watchdog_due_in(n, 1000), -1);
	md_notify_free(n);
	close(fd);
	unlink(path);
	rmdir(dir);
}

static void test_abstract_socket(void **state)
{
	char name[64];
	struct md_notify_env env = { .pid = 1 };
	struct sockaddr_un sa;
	socklen_t len;
	struct md_notify *n;
	int fd;

	(void)state;
	snprintf(name, sizeof(name), "@magos-unit-%d", (int)getpid());
	assert_int_equal(md_notify_address(&sa, &len, name, NULL), 0);
	fd = bound_socket(&sa, len);
	env.notify_socket = name;
	assert_int_equal(md_notify_new(&n, &env, NULL), 0);
	assert_int_equal(md_notify_send(n, "STOPPING=1", NULL), 0);
	recv_equal(fd, "STOPPING=1");
	md_notify_free(n);
	close(fd);
}

static void test_without_socket(void **state)
{
	struct md_notify_env env = { .watchdog_usec = "2000000", .pid = 1 };
	struct md_notify *n;
	struct md_err err;

	(void)state;
	assert_int_equal(md_notify_new(&n, &env, &err), 0);
	assert_false(md_notify_enabled(n));
	assert_int_equal(md_notify_send(n, "READY=1", &err), 0);
	assert_int_equal(md_notify_watchdog(n, 0), 0);
	assert_int_equal(md_notify_watchdog_due_in(n, 0), -1);
	md_notify_free(n);
	md_notify_free(NULL);

	env.notify_socket = "not-a-socket";
	assert_int_equal(md_notify_new(&n, &env, &err), -1);
	assert_null(n);
	assert_non_null(strstr(err.msg, "NOTIFY_SOCKET 'not-a-socket'"));

	/* A socket nobody listens on: the send fails with a reason. */
	env.notify_socket = "/nonexistent/notify";
	assert_int_equal(md_notify_new(&n, &env, &err), 0);
	assert_int_equal(md_notify_send(n, "READY=1", &err), -1);
	assert_non_null(strstr(err.msg, "cannot notify the service manager"));
	md_notify_free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_address),
		cmocka_unit_test(test_watchdog_period),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_send_and_watchdog),
		cmocka_unit_test(test_abstract_socket),
		cmocka_unit_test(test_without_socket),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

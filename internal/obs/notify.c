/* sd_notify without libsystemd (docs/protocols.md, systemd): one AF_UNIX datagram
 * per message to $NOTIFY_SOCKET, and the watchdog ping rate-limited to half
 * of WATCHDOG_USEC. The daemon decides when there is progress to report. */
#include "magos/obs.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct md_notify {
	int fd;
	struct sockaddr_un sa;
	socklen_t salen;
	int64_t period_ms; /* 0: watchdog off */
	int64_t last_ping_ms;
	int pinged;
};

int md_notify_address(struct sockaddr_un *sa, socklen_t *salen, const char *socket,
		      struct md_err *err)
{
	size_t n = socket ? strlen(socket) : 0;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (n < 2 || (socket[0] != '/' && socket[0] != '@'))
		return md_err_set(err, "NOTIFY_SOCKET '%.100s' is not a socket path or an "
				       "abstract '@' name", socket ? socket : "");
	if (n >= sizeof(sa->sun_path))
		return md_err_set(err, "NOTIFY_SOCKET '%.100s...' is too long", socket);
	memcpy(sa->sun_path, socket, n);
	if (socket[0] == '@') {
		/* Abstract names are not NUL-terminated: the length says where they end. */
		sa->sun_path[0] = '\0';
		*salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else {
		*salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	}
	return 0;
}

int64_t md_notify_parse_watchdog(const char *usec, const char *pid, pid_t self)
{
	char *end;
	unsigned long long v;

	if (!usec || !*usec)
		return 0;
	if (pid && *pid) {
		errno = 0;
		v = strtoull(pid, &end, 10);
		if (errno || *end || v != (unsigned long long)self)
			return 0; /* meant for another process (e.g. our parent) */
	}
	errno = 0;
	v = strtoull(usec, &end, 10);
	if (errno || *end || *usec == '-' || v == 0)
		return 0;
	/* Half the timeout, at least 1 ms so a tiny value still pings. */
	v /= 2000;
	return v ? (int64_t)(v > INT64_MAX / 2 ? INT64_MAX / 2 : v) : 1;
}

int md_notify_new(struct md_notify **out, const struct md_notify_env *env, struct md_err *err)
{
	struct md_notify *n = calloc(1, sizeof(*n));

	*out = NULL;
	if (!n)
		return md_err_set(err, "out of memory");
	n->fd = -1;
	if (env->notify_socket && *env->notify_socket) {
		if (md_notify_address(&n->sa, &n->salen, env->notify_socket, err) < 0) {
			free(n);
			return -1;
		}
		n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (n->fd < 0) {
			md_err_set(err, "cannot create the notification socket: %s",
				   strerror(errno));
			free(n);
			return -1;
		}
		n->period_ms = md_notify_parse_watchdog(env->watchdog_usec, env->watchdog_pid,
							env->pid);
	}
	*out = n;
	return 0;
}

void md_notify_free(struct md_notify *n)
{
	if (!n)
		return;
	if (n->fd >= 0)
		close(n->fd);
	free(n);
}

int md_notify_enabled(const struct md_notify *n)
{
	return n && n->fd >= 0;
}

int md_notify_send(struct md_notify *n, const char *msg, struct md_err *err)
{
	if (!md_notify_enabled(n))
		return 0;
	if (sendto(n->fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&n->sa, n->salen) < 0)
		return md_err_set(err, "cannot notify the service manager: %s", strerror(errno));
	return 0;
}

int64_t md_notify_watchdog_period_ms(const struct md_notify *n)
{
	return md_notify_enabled(n) ? n->period_ms : 0;
}

int64_t md_notify_watchdog_due_in(const struct md_notify *n, int64_t now_ms)
{
	int64_t left;

	if (!md_notify_watchdog_period_ms(n))
		return -1;
	if (!n->pinged)
		return 0;
	left = n->last_ping_ms + n->period_ms - now_ms;
	return left > 0 ? left : 0;
}

int md_notify_watchdog(struct md_notify *n, int64_t now_ms)
{
	if (md_notify_watchdog_due_in(n, now_ms) != 0)
		return 0;
	n->pinged = 1;
	n->last_ping_ms = now_ms;
	return md_notify_send(n, "WATCHDOG=1", NULL) < 0 ? -1 : 1;
}

int md_notify_format_status(char *out, size_t outlen, const char *line)
{
	static const char key[] = "STATUS=";
	size_t n = sizeof(key) - 1;

	if (outlen < n + 1)
		return -1;
	memcpy(out, key, n);
	const char *p = line;

	for (; *p && n + 1 < outlen; p++)
		out[n++] = (unsigned char)*p < 0x20 || *p == 0x7f ? ' ' : *p;
	/* Cut short: never in the middle of a UTF-8 sequence. */
	if (*p && ((unsigned char)*p & 0xc0) == 0x80) {
		while (n > sizeof(key) - 1 && ((unsigned char)out[n - 1] & 0xc0) == 0x80)
			n--;
		if (n > sizeof(key) - 1 && ((unsigned char)out[n - 1] & 0xc0) == 0xc0)
			n--;
	}
	out[n] = '\0';
	return 0;
}

int md_notify_format_reloading(char *out, size_t outlen, uint64_t monotonic_usec)
{
	int n = snprintf(out, outlen, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64, monotonic_usec);

	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* The instance lock: an exclusive flock() on a file, held for the life of
 * the process and released by the kernel when it dies (even by SIGKILL),
 * so a crash never leaves a lock behind that a person must remove. */
#include "magos/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

/* The holder writes its PID right after locking: a second instance that
 * reads in between sees an empty file for a moment. */
#define PID_READ_TRIES 50
#define PID_READ_WAIT_NS 10000000L

static long read_pid(int fd)
{
	for (int i = 0; i < PID_READ_TRIES; i++) {
		char buf[32];
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
		struct timespec ts = { 0, PID_READ_WAIT_NS };

		if (n > 0) {
			char *end;
			long pid;

			buf[n] = '\0';
			pid = strtol(buf, &end, 10);
			if (end != buf && pid > 0 && (*end == '\n' || *end == '\0'))
				return pid;
		}
		nanosleep(&ts, NULL);
	}
	return 0;
}

int md_lock_acquire(const char *path, int *fd_out, long *holder, struct md_err *err)
{
	char pid[32];
	int fd, n;

	*fd_out = -1;
	*holder = 0;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return md_err_set(err, "cannot open the lock file %s: %s", path, strerror(errno));
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK) {
			*holder = read_pid(fd);
			close(fd);
			return 1;
		}
		md_err_set(err, "cannot lock %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
		md_err_set(err, "cannot write the PID into %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	*fd_out = fd;
	return 0;
}

void md_lock_release(int fd)
{
	/* The PID stays in the file: it is only read while the lock is held. */
	if (fd >= 0)
		close(fd);
}

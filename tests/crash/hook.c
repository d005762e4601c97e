/* md_testhook for build/magos-dominus-hooks, the crash tests' binary.
 *
 * MAGOS_PAUSE_AT=phase[:n] pauses the process the n-th time (default 1st)
 * it reaches phase: it writes "<pid> <phase>\n" to MAGOS_PAUSE_FILE
 * (atomically) and waits until that file is removed — the test either
 * SIGKILLs it there or removes the file to let it go on (after changing
 * something under its feet). MAGOS_HOOK_TRACE=FILE appends every phase
 * reached, one a line. Never linked into the real binary. */
#include "magos/util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static unsigned hits;

static void trace(const char *phase)
{
	const char *file = getenv("MAGOS_HOOK_TRACE");
	char line[256];
	int fd, n;

	if (!file || !*file)
		return;
	fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%s\n", phase);
	if (n > 0 && write(fd, line, (size_t)n) < 0) {
		/* a trace is best effort */
	}
	close(fd);
}

/* 1 when this call is the one to pause at. */
static int wanted(const char *phase)
{
	const char *at = getenv("MAGOS_PAUSE_AT");
	const char *colon;
	size_t len;
	unsigned n = 1;

	if (!at || !*at)
		return 0;
	colon = strchr(at, ':');
	len = colon ? (size_t)(colon - at) : strlen(at);
	if (strlen(phase) != len || strncmp(phase, at, len) != 0)
		return 0;
	if (colon)
		n = (unsigned)strtoul(colon + 1, NULL, 10);
	return ++hits == n;
}

static void announce(const char *file, const char *phase)
{
	char tmp[4096], line[256];
	int fd, n;

	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	n = snprintf(line, sizeof(line), "%ld %s\n", (long)getpid(), phase);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (write(fd, line, (size_t)n) != n) {
		close(fd);
		return;
	}
	close(fd);
	rename(tmp, file);
}

void md_testhook(const char *phase)
{
	const char *file = getenv("MAGOS_PAUSE_FILE");
	struct timespec ts = { 0, 10000000L };

	trace(phase);
	if (!file || !*file || !wanted(phase))
		return;
	announce(file, phase);
	while (access(file, F_OK) == 0)
		nanosleep(&ts, NULL);
}

/* Child processes without a shell: posix_spawnp with an argv array, a pipe
 * each way, a deadline, and a bound on what the child may print. Used to
 * run credential helpers, whose output is a secret and whose hang must not
 * stall a cycle. */
#include "magos/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct proc {
	pid_t pid;
	int in, out; /* our ends: child's stdin, child's stdout */
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int spawn(struct proc *p, char *const argv[], char *const envp[], struct md_err *err)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, rc = -1, e;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, def;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		md_err_set(err, "cannot run %s: pipe: %s", argv[0], strerror(errno));
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	/* The caller blocks SIGPIPE around the run; the child gets defaults. */
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	e = posix_spawnp(&p->pid, argv[0], &fa, &attr, argv, envp ? envp : environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (e != 0) {
		md_err_set(err, "cannot run %s: %s", argv[0], strerror(e));
		goto out;
	}
	p->in = in[1];
	p->out = out[0];
	in[1] = out[0] = -1;
	fcntl(p->in, F_SETFL, O_NONBLOCK);
	fcntl(p->out, F_SETFL, O_NONBLOCK);
	rc = 0;
out:
	close_fd(&in[0]);
	close_fd(&in[1]);
	close_fd(&out[0]);
	close_fd(&out[1]);
	return rc;
}

/* Feed input and drain stdout until the child closes stdout. 0, -1 with
 * err set, or -2 at the deadline (the caller kills the child). */
static int pump(struct proc *p, const char *argv0, const char *input, size_t len,
		struct md_buf *out, int64_t deadline, struct md_err *err)
{
	size_t off = 0;
	char chunk[4096];

	if (len == 0)
		close_fd(&p->in);
	while (p->out >= 0) {
		struct pollfd fds[2] = { { p->out, POLLIN, 0 }, { p->in, POLLOUT, 0 } };
		int64_t left = deadline - md_time_mono_ms();
		int n;

		if (left <= 0)
			return -2;
		n = poll(fds, p->in >= 0 ? 2 : 1, (int)(left > 1000 ? 1000 : left));
		if (n < 0 && errno != EINTR)
			return md_err_set(err, "%s: poll: %s", argv0, strerror(errno));
		if (n <= 0)
			continue;
		if (p->in >= 0 && fds[1].revents) {
			ssize_t w = write(p->in, input + off, len - off);

			if (w > 0)
				off += (size_t)w;
			/* A child that does not read its input is its own business. */
			if ((w < 0 && errno != EAGAIN && errno != EINTR) || off == len)
				close_fd(&p->in);
		}
		if (fds[0].revents) {
			ssize_t r = read(p->out, chunk, sizeof(chunk));

			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
				close_fd(&p->out);
			else if (r > 0 && md_buf_append(out, chunk, (size_t)r) < 0)
				return md_err_set(err, "%s printed more than %zu bytes", argv0,
						  out->max);
		}
	}
	return 0;
}

/* Wait for the child until the deadline; -1 when it is still running. */
static int reap(pid_t pid, int64_t deadline, int *status)
{
	for (;;) {
		pid_t w = waitpid(pid, status, WNOHANG);

		if (w == pid)
			return 0;
		if (w < 0 && errno != EINTR)
			return -1;
		if (md_time_mono_ms() >= deadline)
			return -1;
		usleep(10000);
	}
}

int md_proc_run(char *const argv[], char *const envp[], const void *input, size_t input_len,
		struct md_buf *out, int64_t timeout_ms, int *exit_status, struct md_err *err)
{
	struct proc p = { -1, -1, -1 };
	int64_t deadline = md_time_mono_ms() + timeout_ms;
	sigset_t pipe_set, old;
	int status = 0, rc = -1, prc = 0;

	*exit_status = -1;
	if (!argv || !argv[0])
		return md_err_set(err, "cannot run a program: empty argument list");
	/* A child that exits without reading stdin must not kill us. */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	if (spawn(&p, argv, envp, err) < 0)
		goto out;
	if ((prc = pump(&p, argv[0], input, input ? input_len : 0, out, deadline, err)) < 0 ||
	    reap(p.pid, deadline, &status) < 0) {
		if (prc != -1)
			md_err_set(err, "%s did not finish within %lld ms and was killed", argv[0],
				   (long long)timeout_ms);
		kill(p.pid, SIGKILL);
		waitpid(p.pid, &status, 0);
		goto out;
	}
	*exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	rc = 0;
out:
	close_fd(&p.in);
	close_fd(&p.out);
	if (!sigismember(&old, SIGPIPE)) {
		struct timespec zero = { 0, 0 };

		/* Swallow a SIGPIPE raised by our writes before unblocking. */
		while (sigtimedwait(&pipe_set, NULL, &zero) == SIGPIPE)
			;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	return rc;
}

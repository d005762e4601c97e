/* Child processes without a shell: posix_spawn with an argv array, pipes,
 * a deadline, and a bound on what the child may print. Used to run
 * credential helpers (whose output is a secret and whose hang must not stall
 * a cycle) and the applier's podman / podman-compose (own process group so a
 * timeout kills the engine the tool started, progress for the watchdog). */
#include "magos/util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int md_proc_forbid_dumps(struct md_err *err)
{
	const struct rlimit none = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &none) < 0)
		return md_err_set(err, "cannot turn core dumps off (RLIMIT_CORE): %s",
				  strerror(errno));
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return md_err_set(err, "cannot turn core dumps off (PR_SET_DUMPABLE): %s",
				  strerror(errno));
	return 0;
}

struct proc {
	pid_t pid;
	int in, out, errfd; /* our ends: child's stdin, stdout, stderr */
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int has_input(const struct md_proc_opts *o)
{
	return o->input && o->input_len;
}

/* Where the child's stdin, stdout and stderr go. */
static void plan_fds(posix_spawn_file_actions_t *fa, const struct md_proc_opts *o,
		     const int in[2], const int out[2], const int er[2])
{
	if (has_input(o))
		posix_spawn_file_actions_adddup2(fa, in[0], 0);
	else
		posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(fa, out[1], 1);
	if (o->out_tail)
		posix_spawn_file_actions_adddup2(fa, out[1], 2);
	else if (o->err_tail)
		posix_spawn_file_actions_adddup2(fa, er[1], 2);
	else
		posix_spawn_file_actions_addopen(fa, 2, "/dev/null", O_WRONLY, 0);
	if (o->cwd)
		posix_spawn_file_actions_addchdir_np(fa, o->cwd);
}

static int open_pipes(const struct md_proc_opts *o, int in[2], int out[2], int er[2])
{
	if (has_input(o) && pipe2(in, O_CLOEXEC) < 0)
		return -1;
	if (!o->out_tail && o->err_tail && pipe2(er, O_CLOEXEC) < 0)
		return -1;
	return pipe2(out, O_CLOEXEC);
}

static int spawn(struct proc *p, char *const argv[], const struct md_proc_opts *o,
		 struct md_err *err)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, er[2] = { -1, -1 }, rc = -1, e;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, def;
	short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;

	if (open_pipes(o, in, out, er) < 0) {
		md_err_set(err, "cannot run %s: pipe: %s", argv[0], strerror(errno));
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	plan_fds(&fa, o, in, out, er);
	/* The caller blocks SIGPIPE around the run; the child gets defaults. */
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &def);
	if (o->own_group) {
		posix_spawnattr_setpgroup(&attr, 0);
		flags |= POSIX_SPAWN_SETPGROUP;
	}
	posix_spawnattr_setflags(&attr, flags);
	if (o->file)
		e = posix_spawn(&p->pid, o->file, &fa, &attr, argv, o->envp ? o->envp : environ);
	else
		e = posix_spawnp(&p->pid, argv[0], &fa, &attr, argv, o->envp ? o->envp : environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (e != 0) {
		md_err_set(err, "cannot run %s%s%s: %s", argv[0], o->cwd ? " in " : "",
			   o->cwd ? o->cwd : "", strerror(e));
		goto out;
	}
	p->in = in[1];
	p->out = out[0];
	p->errfd = er[0];
	in[1] = out[0] = er[0] = -1;
	if (p->in >= 0)
		fcntl(p->in, F_SETFL, O_NONBLOCK);
	rc = 0;
out:
	close_fd(&in[0]);
	close_fd(&in[1]);
	close_fd(&out[0]);
	close_fd(&out[1]);
	close_fd(&er[0]);
	close_fd(&er[1]);
	return rc;
}

/* Append keeping only the last b->max bytes. */
static void tail_append(struct md_buf *b, const char *p, size_t n)
{
	if (n >= b->max) {
		md_buf_reset(b);
		md_buf_append(b, p + (n - b->max), b->max);
		return;
	}
	if (b->len + n > b->max) {
		size_t drop = b->len + n - b->max;

		memmove(b->data, b->data + drop, b->len - drop);
		b->len -= drop;
		b->data[b->len] = '\0';
	}
	md_buf_append(b, p, n);
}

/* One read from *fd into b; closes *fd at EOF. -1: b (bounded) overflowed. */
static int drain(int *fd, struct md_buf *b, int tail)
{
	char chunk[4096];
	ssize_t r = read(*fd, chunk, sizeof(chunk));

	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
		close_fd(fd);
		return 0;
	}
	if (r < 0)
		return 0;
	if (tail) {
		tail_append(b, chunk, (size_t)r);
		return 0;
	}
	return md_buf_append(b, chunk, (size_t)r);
}

/* Write what stdin takes now; closes it when all is written or the child
 * stopped reading (a child that does not read its input is its own
 * business). */
static void feed(struct proc *p, const struct md_proc_opts *o, size_t *off)
{
	const char *input = o->input;
	ssize_t w = write(p->in, input + *off, o->input_len - *off);

	if (w > 0)
		*off += (size_t)w;
	if ((w < 0 && errno != EAGAIN && errno != EINTR) || *off == o->input_len)
		close_fd(&p->in);
}

/* Feed input and drain the pipes until the child closes them. 0, -1 with
 * err set, or MD_PROC_TIMEOUT at the deadline (the caller kills). */
static int pump(struct proc *p, const char *argv0, const struct md_proc_opts *o,
		int64_t deadline, struct md_err *err)
{
	int64_t last = md_time_mono_ms();
	size_t off = 0;

	while (p->out >= 0 || p->errfd >= 0) {
		struct pollfd fds[3] = { { p->out, POLLIN, 0 }, { p->errfd, POLLIN, 0 },
					 { p->in, POLLOUT, 0 } };
		int64_t now = md_time_mono_ms(), left = deadline - now;
		int n;

		if (left <= 0)
			return MD_PROC_TIMEOUT;
		/* A long pull must not starve the daemon's watchdog. */
		if (o->progress && now - last >= 1000) {
			o->progress(o->progress_ctx);
			last = now;
		}
		n = poll(fds, 3, (int)(left > 1000 ? 1000 : left));
		if (n < 0 && errno != EINTR)
			return md_err_set(err, "%s: poll: %s", argv0, strerror(errno));
		if (n <= 0)
			continue;
		if (p->in >= 0 && fds[2].revents)
			feed(p, o, &off);
		if (fds[0].revents && drain(&p->out, o->out, o->out_tail) < 0)
			return md_err_set(err, "%s printed more than %zu bytes", argv0,
					  o->out->max);
		if (fds[1].revents)
			drain(&p->errfd, o->err_tail, 1);
	}
	return 0;
}

/* Wait for the child until the deadline: 0, -1, or MD_PROC_TIMEOUT. */
static int reap(pid_t pid, int64_t deadline, int *status)
{
	for (;;) {
		pid_t w = waitpid(pid, status, WNOHANG);

		if (w == pid)
			return 0;
		if (w < 0 && errno != EINTR)
			return -1;
		if (md_time_mono_ms() >= deadline)
			return MD_PROC_TIMEOUT;
		usleep(10000);
	}
}

/* Kill what is left of a run that failed or timed out, and collect it. */
static void kill_child(pid_t pid, int group)
{
	int status;

	if (group)
		kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

static void unblock_sigpipe(const sigset_t *old)
{
	sigset_t pipe_set;
	struct timespec zero = { 0, 0 };

	if (sigismember(old, SIGPIPE))
		return;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	/* Swallow a SIGPIPE raised by our writes before unblocking. */
	while (sigtimedwait(&pipe_set, NULL, &zero) == SIGPIPE)
		;
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

int md_proc_exec(char *const argv[], const struct md_proc_opts *o, int *exit_status,
		 struct md_err *err)
{
	struct proc p = { -1, -1, -1, -1 };
	int64_t deadline = md_time_mono_ms() + o->timeout_ms;
	sigset_t pipe_set, old;
	int status = 0, rc;

	*exit_status = -1;
	if (!argv || !argv[0])
		return md_err_set(err, "cannot run a program: empty argument list");
	/* A child that exits without reading stdin must not kill us. */
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	rc = spawn(&p, argv, o, err);
	if (rc == 0)
		rc = pump(&p, argv[0], o, deadline, err);
	if (rc == 0)
		rc = reap(p.pid, deadline, &status);
	if (rc == MD_PROC_TIMEOUT)
		md_err_set(err, "%s did not finish within %lld ms and was killed", argv[0],
			   (long long)o->timeout_ms);
	if (rc != 0 && p.pid > 0)
		kill_child(p.pid, o->own_group);
	else if (rc == 0)
		*exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	close_fd(&p.in);
	close_fd(&p.out);
	close_fd(&p.errfd);
	unblock_sigpipe(&old);
	return rc;
}

int md_proc_run(char *const argv[], char *const envp[], const void *input, size_t input_len,
		struct md_buf *out, int64_t timeout_ms, int *exit_status, struct md_err *err)
{
	struct md_proc_opts o = { 0 };

	o.envp = envp;
	o.input = input;
	o.input_len = input_len;
	o.out = out;
	o.timeout_ms = timeout_ms;
	return md_proc_exec(argv, &o, exit_status, err) == 0 ? 0 : -1;
}

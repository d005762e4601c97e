/* Child processes for the applier: posix_spawn with an argv (no shell), a
 * working directory, the daemon's environment, stdout (and stderr) through
 * pipes with bounded buffers, and a deadline. The child gets its own process
 * group so a timeout kills podman-compose *and* the podman it started. */
#include "applier_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define ERRTAIL_MAX 4096u

struct child {
	pid_t pid;
	int out, errfd; /* our ends */
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Append keeping only the last b->max bytes (tail mode). */
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

/* posix_spawnp searches *our* PATH; the child's environment decides here. */
static char *resolve(const struct md_applier *a, const char *prog)
{
	const char *p = a->path;

	if (strchr(prog, '/') || !p)
		return md_strdup(prog);
	while (*p) {
		size_t n = strcspn(p, ":");
		char *cand = md_asprintf("%.*s/%s", (int)n, n ? p : ".", prog);

		if (!cand)
			return NULL;
		if (access(cand, X_OK) == 0)
			return cand;
		free(cand);
		p += n;
		if (*p == ':')
			p++;
	}
	return md_strdup(prog);
}

static int spawn(struct md_applier *a, const struct app_cmd *c, struct child *ch,
		 struct md_err *err)
{
	int out[2] = { -1, -1 }, er[2] = { -1, -1 }, rc = -1, e;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, def;
	char *prog = resolve(a, c->argv[0]);

	if (!prog)
		return md_err_set(err, "cannot run %s: out of memory", c->argv[0]);
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(er, O_CLOEXEC) < 0) {
		md_err_set(err, "cannot run %s: pipe: %s", c->argv[0], strerror(errno));
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, c->mode == APP_OUT_TAIL ? out[1] : er[1], 2);
	if (c->cwd)
		posix_spawn_file_actions_addchdir_np(&fa, c->cwd);
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
					       POSIX_SPAWN_SETPGROUP);
	e = posix_spawn(&ch->pid, prog, &fa, &attr, c->argv,
			a->env.n ? a->env.v : environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (e != 0) {
		md_err_set(err, "cannot run %s%s%s: %s", c->argv[0], c->cwd ? " in " : "",
			   c->cwd ? c->cwd : "", strerror(e));
		goto out;
	}
	ch->out = out[0];
	ch->errfd = er[0];
	out[0] = er[0] = -1;
	rc = 0;
out:
	free(prog);
	close_fd(&out[0]);
	close_fd(&out[1]);
	close_fd(&er[0]);
	close_fd(&er[1]);
	return rc;
}

/* One read from fd into its sink; closes fd at EOF. -1: BOUNDED overflow. */
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
	if (tail || !b) {
		if (b)
			tail_append(b, chunk, (size_t)r);
		return 0;
	}
	return md_buf_append(b, chunk, (size_t)r);
}

/* Read both pipes until EOF. 0, -1 (overflow) or APP_RUN_TIMEOUT. */
static int pump(struct md_applier *a, struct child *ch, const struct app_cmd *c,
		struct md_buf *out, struct md_buf *errtail, int64_t deadline)
{
	int64_t last = md_time_mono_ms();

	while (ch->out >= 0 || ch->errfd >= 0) {
		struct pollfd fds[2] = { { ch->out, POLLIN, 0 }, { ch->errfd, POLLIN, 0 } };
		int64_t now = md_time_mono_ms(), left = deadline - now;
		int n;

		if (left <= 0)
			return APP_RUN_TIMEOUT;
		/* A long pull must not starve the daemon's watchdog. */
		if (now - last >= 1000) {
			app_progress(a);
			last = now;
		}
		n = poll(fds, 2, (int)(left > 1000 ? 1000 : left));
		if (n <= 0)
			continue;
		if (fds[0].revents && drain(&ch->out, out, c->mode == APP_OUT_TAIL) < 0)
			return -1;
		if (fds[1].revents)
			drain(&ch->errfd, errtail, 1);
	}
	return 0;
}

static int reap(pid_t pid, int64_t deadline, int *status)
{
	for (;;) {
		pid_t w = waitpid(pid, status, WNOHANG);

		if (w == pid)
			return 0;
		if (w < 0 && errno != EINTR)
			return -1;
		if (md_time_mono_ms() >= deadline)
			return APP_RUN_TIMEOUT;
		usleep(10000);
	}
}

int app_run(struct md_applier *a, const struct app_cmd *c, struct md_buf *out,
	    struct md_buf *errtail, int *status, struct md_err *err)
{
	struct child ch = { -1, -1, -1 };
	struct md_buf etail;
	int64_t deadline = md_time_mono_ms() + c->timeout_ms;
	int rc, wst = 0;

	*status = -1;
	if (!c->argv || !c->argv[0])
		return md_err_set(err, "cannot run a program: empty argument list");
	md_buf_init(&etail, ERRTAIL_MAX);
	if (spawn(a, c, &ch, err) < 0)
		return -1;
	rc = pump(a, &ch, c, out, errtail ? errtail : &etail, deadline);
	if (rc == 0)
		rc = reap(ch.pid, deadline, &wst);
	if (rc != 0) {
		/* The whole group: podman-compose's own children too. */
		kill(-ch.pid, SIGKILL);
		kill(ch.pid, SIGKILL);
		waitpid(ch.pid, &wst, 0);
		if (rc == -1)
			md_err_set(err, "%s printed more than %zu bytes", c->argv[0], out->max);
	} else {
		*status = WIFEXITED(wst) ? WEXITSTATUS(wst) : 128 + WTERMSIG(wst);
	}
	close_fd(&ch.out);
	close_fd(&ch.errfd);
	md_buf_free(&etail);
	app_progress(a);
	return rc;
}

/* The last non-empty line of s (bounded), for an error message. */
static void last_line(const char *s, size_t len, char *dst, size_t dstlen)
{
	size_t end = len, start;

	while (end > 0 && (s[end - 1] == '\n' || s[end - 1] == '\r' || s[end - 1] == ' '))
		end--;
	start = end;
	while (start > 0 && s[start - 1] != '\n')
		start--;
	if (end - start >= dstlen)
		start = end - (dstlen - 1);
	memcpy(dst, s + start, end - start);
	dst[end - start] = '\0';
}

int app_engine(struct md_applier *a, const char *const *args, size_t nargs, struct md_buf *out,
	       struct md_err *err)
{
	struct md_strv argv = { 0 };
	struct md_buf etail;
	struct app_cmd c = { 0 };
	int status, rc = -1, r;
	char line[240];

	md_buf_init(&etail, ERRTAIL_MAX);
	if (md_strv_push(&argv, a->engine) < 0)
		goto oom;
	for (size_t i = 0; i < nargs; i++)
		if (md_strv_push(&argv, args[i]) < 0)
			goto oom;
	c.argv = argv.v;
	c.timeout_ms = APP_ENGINE_TIMEOUT_MS;
	c.mode = APP_OUT_BOUNDED;
	r = app_run(a, &c, out, &etail, &status, err);
	if (r == APP_RUN_TIMEOUT) {
		md_err_set(err, "%s %s did not finish within %d s and was killed", a->engine,
			   args[0], APP_ENGINE_TIMEOUT_MS / 1000);
		goto out;
	}
	if (r < 0)
		goto out;
	if (status != 0) {
		last_line(etail.data ? etail.data : "", etail.len, line, sizeof(line));
		md_err_set(err, "%s %s exited with status %d%s%s", a->engine, args[0], status,
			   line[0] ? ": " : "", line);
		goto out;
	}
	rc = 0;
	goto out;
oom:
	md_err_set(err, "%s %s: out of memory", a->engine, args[0]);
out:
	md_strv_free(&argv);
	md_buf_free(&etail);
	return rc;
}

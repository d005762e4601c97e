/* Child processes for the applier, through md_proc_exec: an argv (no
 * shell), a working directory, the daemon's environment, bounded output and
 * a deadline. The child gets its own process group so a timeout kills
 * podman-compose *and* the podman it started. */
#include "applier_int.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ERRTAIL_MAX 4096u

/* posix_spawnp searches *our* PATH; the child's environment decides here.
 * Not found: the name as it is, so the spawn error names it. */
static char *resolve(const struct md_applier *a, const char *prog)
{
	char *found;

	if (strchr(prog, '/') || !a->path)
		return md_strdup(prog);
	found = md_path_find(prog, a->path);
	return found ? found : md_strdup(prog);
}

static void progress_cb(void *ctx)
{
	md_applier__progress(ctx);
}

int md_applier__run(struct md_applier *a, const struct app_cmd *c, struct md_buf *out,
	    struct md_buf *errtail, int *status, struct md_err *err)
{
	struct md_proc_opts o = { 0 };
	char *prog;
	int rc;

	*status = -1;
	if (!c->argv || !c->argv[0])
		return md_err_set(err, "cannot run a program: empty argument list");
	prog = resolve(a, c->argv[0]);
	if (!prog)
		return md_err_set(err, "cannot run %s: out of memory", c->argv[0]);
	o.file = prog;
	o.envp = a->env.n ? a->env.v : NULL;
	o.cwd = c->cwd;
	o.out = out;
	o.out_tail = c->mode == APP_OUT_TAIL;
	o.err_tail = errtail;
	o.own_group = 1;
	o.progress = progress_cb;
	o.progress_ctx = a;
	o.timeout_ms = c->timeout_ms;
	rc = md_proc_exec(c->argv, &o, status, err);
	free(prog);
	md_applier__progress(a);
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

int md_applier__engine(struct md_applier *a, const char *const *args, size_t nargs, struct md_buf *out,
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
	r = md_applier__run(a, &c, out, &etail, &status, err);
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
	md_strv_clear(&argv);
	md_buf_clear(&etail);
	return rc;
}

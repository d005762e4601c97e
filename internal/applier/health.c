/* After `up`: wait for every declared service to run (and be healthy), and
 * compare what runs with what is declared (drift). */
#include "applier_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOG_TAIL_LINES "20"

/* `<engine> logs --tail 20 <id>` as one line: "a | b | c" (the last
 * APP_LOG_TAIL_MAX bytes), or "" when the engine has none to give. */
static void log_tail(struct md_applier *a, const char *id, char *dst, size_t len)
{
	const char *argv[] = { a->engine, "logs", "--tail", LOG_TAIL_LINES, id, NULL };
	struct app_cmd c = { 0 };
	struct md_buf out;
	struct md_err ignored;
	size_t n = 0, start;
	int status;

	dst[0] = '\0';
	md_buf_init(&out, APP_LOG_TAIL_MAX * 2);
	c.argv = (char *const *)(uintptr_t)argv; /* execve's historic non-const argv */
	c.timeout_ms = APP_ENGINE_TIMEOUT_MS;
	c.mode = APP_OUT_TAIL;
	if (md_applier__run(a, &c, &out, NULL, &status, &ignored) != 0 || status != 0 || !out.data)
		goto out;
	for (size_t i = 0; i < out.len && n + 4 < len; i++) {
		unsigned char ch = (unsigned char)out.data[i];

		if (ch == '\r')
			continue;
		if (ch == '\n') {
			if (i + 1 < out.len && n > 0) {
				memcpy(dst + n, " | ", 3);
				n += 3;
			}
			continue;
		}
		dst[n++] = (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch;
	}
	dst[n] = '\0';
	if (n > APP_LOG_TAIL_MAX) {
		start = n - APP_LOG_TAIL_MAX;
		memmove(dst, dst + start, n - start + 1);
	}
out:
	md_buf_clear(&out);
}

static int fail_container(struct md_applier *a, const struct md_stack_spec *spec,
			  const struct md_container *c, const char *what, struct md_err *err)
{
	char logs[APP_LOG_TAIL_MAX * 2];

	log_tail(a, c->id, logs, sizeof(logs));
	return md_err_set(err, "stack %s: service %s %s (container %s)%s%s", spec->project,
			  c->service, what, c->name ? c->name : c->id,
			  logs[0] ? "; last log lines: " : "; no log output", logs);
}

enum verdict { V_OK, V_PENDING, V_FAIL };

/* A container that ran and ended on its own ("stopped": podman's state
 * between the exit and its cleanup). */
static int has_exited(const struct md_container *c)
{
	return strcmp(c->state, "exited") == 0 || strcmp(c->state, "stopped") == 0;
}

/* One container's verdict; runs the healthcheck when the engine has no
 * timer for it (podman without systemd keeps "starting" forever). A
 * one-shot service is done when its container exited with 0, and is
 * waited on while it runs, healthcheck or not: its work is not done yet. */
static enum verdict judge(struct md_applier *a, const struct md_stack_spec *spec,
			  const struct md_service_decl *d, const struct md_container *c,
			  char *why, size_t whylen, struct md_err *err)
{
	if (d->oneshot && has_exited(c) && c->exit_code == 0)
		return V_OK;
	if (d->oneshot && strcmp(c->state, "running") == 0) {
		snprintf(why, whylen, "one-shot service %s is still running", c->service);
		return V_PENDING;
	}
	if (has_exited(c) || strcmp(c->state, "dead") == 0) {
		char what[64];

		snprintf(what, sizeof(what), "%s (%d)", c->state, c->exit_code);
		fail_container(a, spec, c, what, err);
		return V_FAIL;
	}
	if (strcmp(c->state, "running") != 0) {
		snprintf(why, whylen, "service %s is %s", c->service, c->state);
		return V_PENDING;
	}
	if (!c->health || strcmp(c->health, "healthy") == 0)
		return V_OK;
	if (strcmp(c->health, "unhealthy") == 0) {
		fail_container(a, spec, c, "is unhealthy", err);
		return V_FAIL;
	}
	snprintf(why, whylen, "service %s is %s", c->service, c->health);
	if (a->engine_is_podman) {
		const char *args[] = { "healthcheck", "run", c->id };
		struct md_buf out;
		struct md_err ignored;

		/* Its exit status is the check's; the next inspect tells. */
		md_buf_init(&out, 64 * 1024);
		md_applier__engine(a, args, 3, &out, &ignored);
		md_buf_clear(&out);
	}
	return V_PENDING;
}

/* One poll: V_OK when every declared service is up, V_FAIL with err set. */
static enum verdict poll_once(struct md_applier *a, const struct md_stack_spec *spec,
			      const struct md_service_decl *d, size_t nd, char *why,
			      size_t whylen, struct md_err *err)
{
	struct md_container *cs = NULL;
	size_t nc = 0;
	enum verdict all = V_OK;

	if (md_applier_containers(a, spec->project, &cs, &nc, err) < 0) {
		md_err_prefix(err, "stack %s", spec->project);
		return V_FAIL;
	}
	for (size_t i = 0; i < nd && all != V_FAIL; i++) {
		int found = 0;

		for (size_t j = 0; j < nc && all != V_FAIL; j++) {
			char later[256];
			enum verdict v;

			if (!cs[j].service || strcmp(cs[j].service, d[i].name) != 0)
				continue;
			found = 1;
			/* why names the first service still pending */
			v = judge(a, spec, &d[i], &cs[j], all == V_OK ? why : later,
				  all == V_OK ? whylen : sizeof(later), err);
			if (v != V_OK)
				all = v;
		}
		if (!found && all == V_OK) {
			snprintf(why, whylen, "service %s has no container", d[i].name);
			all = V_PENDING;
		}
	}
	md_containers_free(cs, nc);
	return all;
}

static void nap(struct md_applier *a, int64_t ms)
{
	/* In slices, so a stop request is seen quickly. */
	while (ms > 0 && !md_applier__stopped(a)) {
		int64_t step = ms > 100 ? 100 : ms;
		struct timespec ts = { 0, (long)step * 1000000L };

		nanosleep(&ts, NULL);
		ms -= step;
	}
}

int md_applier_wait_healthy(struct md_applier *a, const struct md_stack_spec *spec,
			    struct md_err *err)
{
	struct md_service_decl *d = NULL;
	size_t nd = 0;
	int64_t deadline = md_time_mono_ms() + a->health_timeout * 1000;
	char why[256] = "";
	int rc = -1;

	if (md_applier_declared(spec, &d, &nd, err) < 0)
		return -1;
	for (;;) {
		enum verdict v;

		if (md_applier__stopped(a)) {
			md_err_set(err, "stack %s: stopped while waiting for its services",
				   spec->project);
			break;
		}
		why[0] = '\0';
		v = poll_once(a, spec, d, nd, why, sizeof(why), err);
		md_applier__progress(a);
		if (v == V_OK) {
			rc = 0;
			break;
		}
		if (v == V_FAIL)
			break;
		if (md_time_mono_ms() >= deadline) {
			md_err_set(err, "stack %s: not running and healthy within %llds: %s",
				   spec->project, (long long)a->health_timeout, why);
			break;
		}
		nap(a, APP_POLL_MS);
	}
	md_service_decls_free(d, nd);
	return rc;
}

/* ---- drift ------------------------------------------------------------ */

static int add_problem(struct md_buf *b, const char *line)
{
	if (b->len && md_buf_puts(b, "; ") < 0)
		return -1;
	return md_buf_puts(b, line);
}

/* The first problem of one declared service, if any, into b. */
static int service_drift(const struct md_service_decl *d, const struct md_container *cs,
			 size_t nc, struct md_buf *b)
{
	char line[1024];
	int found = 0;

	for (size_t j = 0; j < nc; j++) {
		const struct md_container *c = &cs[j];

		if (!c->service || strcmp(c->service, d->name) != 0)
			continue;
		found = 1;
		/* a one-shot that finished well is no drift; its image still counts */
		if (d->oneshot && has_exited(c) && c->exit_code == 0) {
			/* fall through to the image */
		} else if (strcmp(c->state, "exited") == 0) {
			snprintf(line, sizeof(line), "service %s: exited (%d)", d->name,
				 c->exit_code);
			return add_problem(b, line);
		} else if (strcmp(c->state, "running") != 0) {
			snprintf(line, sizeof(line), "service %s: %s", d->name, c->state);
			return add_problem(b, line);
		}
		if (!md_applier__image_matches(c, d->image)) {
			snprintf(line, sizeof(line), "service %s: runs %s, declared %s", d->name,
				 c->image_name ? c->image_name : "(unknown image)", d->image);
			return add_problem(b, line);
		}
	}
	if (!found) {
		snprintf(line, sizeof(line), "service %s: no container", d->name);
		return add_problem(b, line);
	}
	return 0;
}

int md_applier_drift(struct md_applier *a, const struct md_stack_spec *spec, char **drift,
		     struct md_err *err)
{
	struct md_service_decl *d = NULL;
	struct md_container *cs = NULL;
	size_t nd = 0, nc = 0;
	struct md_buf b;
	int rc = -1;

	*drift = NULL;
	md_buf_init(&b, 64 * 1024);
	if (md_applier_declared(spec, &d, &nd, err) < 0)
		goto out;
	if (md_applier_containers(a, spec->project, &cs, &nc, err) < 0) {
		md_err_prefix(err, "stack %s", spec->project);
		goto out;
	}
	for (size_t i = 0; i < nd; i++)
		if (service_drift(&d[i], cs, nc, &b) < 0) {
			md_err_set(err, "stack %s: drift report too long", spec->project);
			goto out;
		}
	if (b.len)
		*drift = md_buf_steal(&b);
	rc = 0;
out:
	md_service_decls_free(d, nd);
	md_containers_free(cs, nc);
	md_buf_clear(&b);
	return rc;
}

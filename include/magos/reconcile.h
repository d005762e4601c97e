/* reconcile — one reconcile cycle (the pipeline in docs/design.md, The cycle
 * step by step) in one of three modes, and `explain`. This is the first layer
 * that logs: the modules below return errors, the cycle decides what to say
 * and what to do next. It calls publish (commits, pull requests) and rollout
 * (MD_APPLY). */
#ifndef MAGOS_RECONCILE_H
#define MAGOS_RECONCILE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "magos/config.h"
#include "magos/policy.h"
#include "magos/report.h"
#include "magos/util.h"

enum md_cycle_mode {
	MD_CYCLE_APPLY, /* sync, decide, patch, commit, push (`once`, `run`) */
	MD_CYCLE_PLAN,  /* decide and diff; write nothing anywhere (`plan`) */
	MD_CYCLE_CHECK, /* validate annotations offline (`check`) */
};

/* Run one cycle. `stop` (may be NULL) is polled between steps; a stop
 * request never interrupts a file write, a commit or a push half-way.
 * Returns -1 when the cycle as a whole failed (err says why); problems with
 * single sites are in report->problems and do not fail the cycle. */
int md_daemon_cycle(const struct md_config *cfg, enum md_cycle_mode mode,
		    struct md_cycle_report *report, volatile sig_atomic_t *stop,
		    struct md_err *err);
void md_cycle_report_clear(struct md_cycle_report *report);

struct md_registry;
struct md_github;

/* What the caller keeps across cycles (the daemon does): the registry
 * client (bearer tokens, per-host memory) and the GitHub client (the
 * installation token), created on first use; and a progress hook the cycle
 * calls whenever it makes progress (a step done, a response received, a
 * child process finished), which the daemon ties its watchdog pings to. */
struct md_daemon_ctx {
	struct md_registry *reg;
	struct md_github *gh;
	void (*progress)(void *arg); /* may be NULL */
	void *progress_arg;
};

/* Free the clients (on a configuration change and at exit); the hook stays. */
void md_daemon_ctx_clear(struct md_daemon_ctx *ctx);

/* The same as md_daemon_cycle, with the caller's context. */
int md_daemon_cycle_with(const struct md_config *cfg, enum md_cycle_mode mode,
			 struct md_daemon_ctx *ctx, struct md_cycle_report *report,
			 volatile sig_atomic_t *stop, struct md_err *err);

/* Explain the site on FILE:LINE of the clone against the live registry,
 * through the same watcher path a cycle takes (facts looked up for gated
 * policies); nothing is written. *decision (caller frees) holds the trace;
 * *problem (caller frees, may be NULL) says why the site could not be
 * decided (a registry error, say) when the trace is incomplete. */
int md_daemon_explain(const struct md_config *cfg, const char *site, int64_t now,
		      struct md_decision **decision, char **problem, struct md_err *err);

#endif

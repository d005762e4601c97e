/* daemon — one reconcile cycle (the pipeline in docs/design.md) and the loop
 * that repeats it. This is the first layer that logs: the modules below
 * return errors, the daemon decides what to say and what to do next. */
#ifndef MAGOS_DAEMON_H
#define MAGOS_DAEMON_H

#include <signal.h>
#include <stddef.h>

#include "magos/config.h"
#include "magos/policy.h"
#include "magos/util.h"

enum md_cycle_mode {
	MD_CYCLE_APPLY, /* sync, decide, patch, commit, push (`once`, `run`) */
	MD_CYCLE_PLAN,  /* decide and diff; write nothing anywhere (`plan`) */
	MD_CYCLE_CHECK, /* validate annotations offline (`check`) */
};

/* One image value that changes. */
struct md_change {
	char *file;      /* relative to the repository */
	int line;
	char *image;     /* the name as written */
	char *from;      /* old tag, or short old digest for digest-only moves */
	char *to;        /* new tag, or short new digest */
	char *digest;    /* new digest, or NULL (pin: tag) */
	char *old_value; /* whole image value before / after */
	char *new_value;
	char *annotation;
};

/* What the applier did with one stack (a directory holding a compose file). */
enum md_stack_outcome {
	MD_STACK_PLANNED,     /* plan: would be applied */
	MD_STACK_APPLIED,     /* pulled, up, healthy */
	MD_STACK_FAILED,      /* failed and could not be rolled back */
	MD_STACK_ROLLED_BACK, /* failed; the last good version runs again */
};

struct md_stack_report {
	char *dir;    /* relative to the repository, "." for the top */
	char *reason; /* why it was (or would be) applied: "first start", "changed in <commit>", "drift: ..." */
	enum md_stack_outcome outcome;
	char *error;  /* failure, or NULL */
};

/* What PR mode did with one branch. */
struct md_pr_report {
	char *branch; /* magos/<image path> */
	char *action; /* "opened", "updated", "unchanged", "closed" */
	long number;
	char *url;    /* html_url, may be NULL */
};

struct md_cycle_report {
	struct md_change *changes;
	size_t nchanges;
	struct md_strv problems; /* "file:line: message" — sites skipped */
	struct md_strv diffs;    /* plan: one unified diff per changed file */
	char commit[41];         /* "" when no commit was made */
	int pushed;
	size_t nsites;
	size_t nfiles;
	struct md_stack_report *stacks; /* applier (MD_APPLY) and plan */
	size_t nstacks;
	struct md_pr_report *prs;       /* MD_MODE=pr */
	size_t nprs;
	size_t reverts;                 /* revert commits made after failed rollouts */
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

/* What a process killed half-way left behind, removed before the first
 * cycle (call it only while holding the instance lock): an unfinished clone
 * next to MD_REPO, stale *.lock files in its .git, decrypted secrets in
 * MD_RUNTIME_DIR, temp files in MD_STATE_DIR. Each removal is logged. */
int md_daemon_recover(const struct md_config *cfg, struct md_err *err);

/* The daemon: run a cycle every MD_INTERVAL (±10 % jitter) until SIGTERM or
 * SIGINT; SIGUSR1 runs a cycle now; SIGHUP reloads the configuration from
 * config_path (an invalid one is rejected and the old one kept). Returns
 * the process exit code. */
int md_daemon_run(const char *config_path, char *const *envp);

#endif

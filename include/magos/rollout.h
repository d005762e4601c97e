/* rollout — MD_APPLY: which stacks this host applies this cycle and why,
 * running them (secrets, pull + up, health), rolling back a failure, drift
 * repair and prune. A rollback that reverts the agent's own change hands a
 * revert plan to the publisher the caller gives (struct
 * md_rollout_publisher): rollout decides, it never publishes itself. */
#ifndef MAGOS_ROLLOUT_H
#define MAGOS_ROLLOUT_H

#include <signal.h>
#include <stddef.h>

#include "magos/config.h"
#include "magos/gitops.h"
#include "magos/report.h"
#include "magos/util.h"

struct md_state;
struct md_age_identities;

/* The agent's own failed update, to be undone in Git. */
struct md_rollout_revert_plan {
	const char *stack;               /* its directory, "." for the top */
	const char *good;                /* the last good commit */
	const char *head;                /* HEAD when the update failed */
	const struct md_strv *paths;     /* the stack's paths changed since good */
	const struct md_git_blob *files; /* MD_MODE=pr: paths as they were at good */
	size_t nfiles;
	const char *message;             /* the revert commit's message */
	const char *title;               /* MD_MODE=pr: the pull request */
	const char *body;
};

struct md_rollout_publisher {
	/* Push a revert commit: 0 with oid set (pushed) or "" (nothing to
	 * revert); -1 not done. */
	int (*push)(void *ctx, const struct md_rollout_revert_plan *plan, char oid[41],
		    struct md_err *err);
	/* MD_MODE=pr: propose it: 0 published, 1 the PR already held it; -1. */
	int (*propose)(void *ctx, const struct md_rollout_revert_plan *plan, long *number,
		       struct md_err *err);
	void *ctx;
};

struct md_rollout_ctx {
	const struct md_config *cfg;       /* the children's environment, SOPS keys */
	const struct md_settings *s;
	int plan;                          /* only list what would be applied */
	struct md_git *git;
	struct md_state *st;
	struct md_cycle_report *rep;       /* stacks and reverts are filled in */
	volatile sig_atomic_t *stop;       /* may be NULL */
	void (*progress)(void *arg);       /* may be NULL */
	void *progress_arg;
	const struct md_strv *agent_emails; /* the cycle's identities: whose commits are ours */
	struct md_rollout_publisher publisher;
};

/* Apply (or, plan, list) the stacks of HEAD; see docs/design.md, step 7. */
int md_rollout_run(const struct md_rollout_ctx *x, struct md_err *err);

/* The container engine the compose command goes with (docker or podman). */
const char *md_rollout_engine_for(const struct md_strv *cmd);

/* The PATH the applier's children get when the configuration sets none;
 * check looks the compose command up on the same. */
#define MD_ROLLOUT_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* One age identity source into ids: the key file, or inline text when file
 * is NULL. -2 when the file cannot be read, -1 when it does not parse. */
int md_rollout_age_source(struct md_age_identities *ids, const char *file,
			  const char *inline_text, struct md_err *err);

/* Remove the private directories of decrypted secrets earlier runs left in
 * runtime_dir (a process killed while `up` ran); removed receives them. */
int md_rollout_clear_stale_secrets(const char *runtime_dir, struct md_strv *removed,
				   struct md_err *err);

#endif

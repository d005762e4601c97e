/* publish — the cycle's decisions reach the remote: one commit pushed (a push
 * that loses a race is redone on the re-synced clone, MD_PUSH_RETRIES),
 * through git or GitHub's Git Data API (MD_COMMIT_VIA_API); MD_MODE=pr, one
 * branch and pull request per image; a revert published either way (a
 * commit pushed to the branch, or a revert pull request); and the intent
 * record that makes a change of the work tree undoable after a crash.
 *
 * It knows nothing of the cycle that calls it: everything comes through
 * struct md_publish_ctx, and what it did goes into the report given there. */
#ifndef MAGOS_PUBLISH_H
#define MAGOS_PUBLISH_H

#include <signal.h>
#include <stddef.h>

#include "magos/config.h"
#include "magos/gitops.h"
#include "magos/report.h"
#include "magos/util.h"

struct md_github;
struct md_registry;
struct md_compose_file;
struct md_ref;
struct md_policy;

#define MD_PUBLISH_PR_PREFIX "magos/"               /* the agent's branches */
#define MD_PUBLISH_REVERT_PREFIX "magos/revert/"    /* one revert branch per stack */

struct md_publish_ctx {
	struct md_git *git;
	struct md_github *gh;        /* PR mode and MD_COMMIT_VIA_API; NULL without an App */
	struct md_registry *reg;     /* PR bodies: image sources; may be NULL */
	const struct md_settings *s;
	volatile sig_atomic_t *stop; /* may be NULL */
	/* Called right before every git network operation (the App's credential
	 * callback tells a first request from a retry by it); may be NULL. */
	void (*git_op)(void *arg);
	void *git_op_arg;
	void (*progress)(void *arg); /* may be NULL */
	void *progress_arg;
	struct md_cycle_report *rep; /* commit, pushed, prs are filled in */
};

/* ---- push mode ---- */

/* One patched file of the work tree. */
struct md_publish_edit {
	const char *path; /* relative to the work tree */
	const char *old_data;
	size_t old_len;
	const char *new_data;
	size_t new_len;
	unsigned mode;    /* permission bits, kept */
};

/* The commit's files (rep->changes are its decisions). After a lost push
 * race and a sync, again() re-reads the files, re-applies the changes (those
 * whose site changed on the remote leave rep->changes) and refreshes edits. */
struct md_publish_source {
	const struct md_publish_edit *edits;
	size_t nedits;
	int (*again)(struct md_publish_source *src, struct md_err *err);
	void *arg;
};

/* Write, commit, push (or commit through the API); 0 also when there is
 * nothing to commit. */
int md_publish_commit(const struct md_publish_ctx *p, struct md_publish_source *src,
		      struct md_err *err);

/* MD_COMMIT_TEMPLATE with {count}, {images} and {changes} substituted; the
 * change list is appended when the template does not place it. NULL on OOM
 * or when the message would exceed its cap. */
char *md_publish_commit_message(const char *tmpl, const struct md_cycle_report *rep);

/* ---- MD_MODE=pr ---- */

/* One parsed site of the cycle, as PR mode needs it. */
struct md_publish_site {
	const char *path;                    /* its file */
	const struct md_compose_file *scan;  /* the file as scanned, to patch */
	size_t index;                        /* the site within scan */
	unsigned mode;                       /* the file's permission bits */
	const struct md_ref *ref;
	const struct md_policy *policy;
	int undecided;                       /* a problem was recorded for it this cycle */
};

/* One branch and PR per image repository for rep->changes; stale PRs of
 * ours closed. */
int md_publish_prs(const struct md_publish_ctx *p, const struct md_publish_site *sites,
		   size_t nsites, struct md_err *err);

/* "opened", "updated", ... for logs and output. */
const char *md_publish_action_name(enum md_pr_action a);

/* ---- reverts ---- */

/* Commit paths back to their content at good and push, redone on a lost
 * race unless the paths changed on the remote since head. 0: pushed (oid
 * set) or nothing to revert (oid ""); -1: not done (err says why). */
int md_publish_revert_push(const struct md_publish_ctx *p, const char *good, const char *head,
			   const struct md_strv *paths, const char *message, char oid[41],
			   struct md_err *err);

/* MD_MODE=pr: files committed on origin/<base> to magos/revert/<stack>, the
 * PR opened or updated; *number receives its number. 1 when the branch
 * already held that revert, 0 when it was published, -1 error. */
int md_publish_revert_pr(const struct md_publish_ctx *p, const char *stack,
			 const struct md_git_blob *files, size_t n, const char *title,
			 const char *body, const char *message, long *number, struct md_err *err);

/* ---- crash safety ---- */

/* What an earlier cycle left in the work tree: an interrupted change of the
 * agent's own (from its intent record in state_dir) undone, rollback copies
 * and temp files removed. Each is logged. */
int md_publish_recover_worktree(struct md_git *git, const char *state_dir, struct md_err *err);

#endif

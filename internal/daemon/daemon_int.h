/* Private to the daemon module: the working set of one cycle. */
#ifndef MAGOS_DAEMON_INT_H
#define MAGOS_DAEMON_INT_H

#include "magos/compose.h"
#include "magos/daemon.h"
#include "magos/gitops.h"
#include "magos/policy.h"
#include "magos/ref.h"
#include "magos/registry.h"
#include "magos/watcher.h"

/* One compose file as read this cycle. */
struct cycle_file {
	char *path; /* relative to the work tree */
	char *data;
	size_t len;
	unsigned mode; /* permission bits, kept on rewrite */
	struct md_compose_file *scan;
	char *patched; /* new content when something changes */
	size_t patched_len;
};

/* One annotated site whose reference and policy parsed. */
struct cycle_site {
	size_t file;
	size_t index; /* site index within the file's scan */
	struct md_ref *ref;
	struct md_policy *policy;
};

struct cycle {
	const struct md_config *cfg; /* for values beyond the settings (auth file lookup) */
	const struct md_settings *s;
	enum md_cycle_mode mode;
	struct md_git *git;
	struct cycle_file *files;
	size_t nfiles;
	struct cycle_site *sites;
	size_t nsites;
	struct md_cycle_report *rep;
	struct md_daemon_ctx *ctx; /* kept by the caller across cycles */
	struct md_state *st;       /* NULL for check */
	volatile sig_atomic_t *stop; /* may be NULL */
	unsigned gh_cred_calls;      /* gh.c: credential requests in the current git operation */
};

/* cycle.c */
void cycle_progress(const struct cycle *c);
void cycle_change_free(struct md_change *ch);
/* ctx (may be NULL) gives the progress hook. The client keeps the hook and
 * stop for its whole life, so both must outlive it (they are the daemon's). */
int cycle_new_registry(const struct md_config *cfg, const struct md_daemon_ctx *ctx,
		       volatile sig_atomic_t *stop, struct md_registry **out,
		       struct md_err *err);

/* apply_stack.c: the container engine the compose command goes with. */
const char *apply_engine_for(const struct md_strv *cmd);

/* preflight.c: check mode — what enabled features need from this host
 * (compose command, age identities, the App's key), as problems. */
void cycle_preflight(struct cycle *c);

/* sites.c: read and scan compose files, parse every site. */
int cycle_load_files(struct cycle *c, struct md_err *err);
void cycle_free_files(struct cycle *c);
int cycle_add_problem(struct cycle *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* edits.c: turn the watcher's answers into changes and patched files. */
int cycle_plan_changes(struct cycle *c, struct md_watch_site *ws, struct md_err *err);
int cycle_patch_files(struct cycle *c, struct md_err *err);
int cycle_reapply(struct cycle *c, struct md_err *err);

/* publish.c: write, commit, push, and survive push races. */
int cycle_publish(struct cycle *c, volatile sig_atomic_t *stop, struct md_err *err);
char *cycle_commit_message(const struct cycle *c);

/* recover.c: the intent record of a change of the work tree (written
 * before the first file is touched, removed once committed or undone), and
 * what an interrupted earlier cycle left in the work tree. when says which
 * run the undone change belonged to ("this cycle", "an earlier run"). */
int cycle_intent_begin(struct cycle *c, struct md_err *err);
/* The same for a revert of paths to their content at commit good. */
int cycle_intent_begin_revert(struct cycle *c, const char *good, const struct md_strv *paths,
			      struct md_err *err);
void cycle_intent_done(struct cycle *c);
int cycle_intent_undo(struct cycle *c, const char *when, struct md_err *err);
int cycle_recover_worktree(struct cycle *c, struct md_err *err);

/* pr.c: MD_MODE=pr — one branch and pull request per image. */
#define PR_PREFIX "magos/"               /* the agent's branches */
#define PR_REVERT_PREFIX "magos/revert/" /* pr_revert.c: one branch per stack */
int cycle_publish_prs(struct cycle *c, volatile sig_atomic_t *stop, struct md_err *err);
/* Whole files for a branch commit, with the buffers they point into. */
struct cycle_blobs {
	struct md_git_blob *v;
	char **owned; /* v[i].data's buffer (NULL when borrowed) */
	size_t n;
};
void cycle_blobs_free(struct cycle_blobs *b);

/* Make branch hold one commit on base_oid with files replaced, pushed with
 * git or created through the Git Data API (MD_COMMIT_VIA_API), forced.
 * 1 when the branch already holds exactly that; 0 published; -1 error. */
int cycle_branch_publish(struct cycle *c, const char *branch, const char *base_oid,
			 const struct md_git_blob *files, size_t n, const char *message,
			 struct md_err *err);
/* Add a PR to the cycle's report and log "pull request <action>" (not for
 * "unchanged" nor "declined"; image may be NULL). -1 only on OOM. */
int cycle_pr_report(struct cycle *c, const char *image, const char *branch, const char *action,
		    long number, const char *url);

/* pr_revert.c: MD_MODE=pr — the applier's revert of the agent's own failed
 * update as a PR: files (their content at the last good commit) committed on
 * origin/<base> to magos/revert/<stack>, the PR opened or updated. *number
 * receives the PR's number; 1 when the branch already held that revert. */
int cycle_pr_revert(struct cycle *c, const char *stack, const struct md_git_blob *files,
		    size_t n, const char *title, const char *body, const char *message,
		    long *number, struct md_err *err);

/* apply*.c */
/* apply.c: MD_APPLY — stacks changed since the last applied commit, drift,
 * health, rollback. In plan mode it only fills report->stacks. */
int cycle_apply(struct cycle *c, volatile sig_atomic_t *stop, struct md_err *err);

struct md_applier;
struct md_age_identities;

/* A stack: a directory holding a compose file. */
struct apply_stack {
	char *dir;            /* relative to the work tree, "." for the top */
	struct md_strv files; /* compose file names inside dir */
	char *reason;         /* why it is applied this cycle; NULL: it is not */
};

/* One cycle's applier run. */
struct apply_run {
	struct cycle *c;
	struct md_applier *a;
	struct md_strv env;             /* the children's environment */
	struct md_age_identities *ids;  /* loaded on the first SOPS file */
	int ids_tried;
	char head[41];                  /* HEAD when the run started */
	char applied_to[41];            /* what the state records as applied */
	struct apply_stack *stacks;
	size_t nstacks;
};

/* Decrypted env files of one stack run, in a private directory. */
struct apply_secrets {
	char *dir; /* NULL when the stack has no SOPS file */
	struct md_strv files;
};

/* apply.c */
const struct apply_stack *apply_owner(const struct apply_run *r, const char *path);
int apply_report(struct cycle *c, const char *dir, const char *reason,
		 enum md_stack_outcome outcome, const char *error);

/* apply_stack.c: run one version of a stack (commit NULL: the work tree;
 * else that commit's compose files through .magos-rollback.<name>), wait
 * for health; and the applier's setup. */
int apply_run_init(struct apply_run *r, struct md_err *err);
void apply_run_clear(struct apply_run *r);
/* Returns -2 when it refused before running any compose command (secrets
 * that do not decrypt, old files missing), -1 when the stack failed. */
int apply_stack_run(struct apply_run *r, const struct apply_stack *s, const char *commit,
		    struct md_err *err);
/* Record and report s as failed (no rollback). */
int apply_failed(struct apply_run *r, const struct apply_stack *s, const char *reason,
		 const char *error, struct md_err *err);
/* Apply s (reason says why), rolling back on failure; reports and logs. */
int apply_stack(struct apply_run *r, const struct apply_stack *s, const char *reason,
		int drift, struct md_err *err);

/* apply_secrets.c: SOPS files of a stack decrypted to env files. */
int apply_secrets_prepare(struct apply_run *r, const struct apply_stack *s,
			  const char *commit, struct apply_secrets *out, struct md_err *err);
void apply_secrets_cleanup(struct apply_secrets *sec);
/* Remove the private directories earlier runs left in runtime_dir (a
 * process killed while `up` ran); removed receives their paths. */
int apply_secrets_clear_stale(const char *runtime_dir, struct md_strv *removed,
			      struct md_err *err);

/* apply_rollback.c: after a failure — revert the agent's own change in Git,
 * or run the last good version (a human's change). Reports and logs. */
int apply_rollback(struct apply_run *r, const struct apply_stack *s, const char *reason,
		   const char *failure, struct md_err *err);

/* gh.c */
/* The GitHub App: the client kept in ctx->gh, the installation token
 * handed to libgit2, the bot identity. Code that runs a git network
 * operation (fetch, push, sync) calls cycle_gh_git_op() right before it. */
/* 1 when an App is configured (MD_GITHUB_APP_ID). */
int cycle_gh_enabled(const struct cycle *c);
/* ctx->gh, created on first use: owner/repo from MD_GIT_URL, else from the
 * clone's origin URL. */
int cycle_github(struct cycle *c, struct md_err *err);
/* md_git_cred_fn (ctx: the cycle): user x-access-token, the installation
 * token as password; asked again within one operation (a 401), the token
 * is dropped and a new one minted, once. */
int cycle_gh_git_cred(void *ctx, const char *url, char *user, size_t userlen, char *pass,
		      size_t passlen);
/* A git network operation starts: its first credentials request is the
 * first, whatever the previous operation asked. */
void cycle_gh_git_op(struct cycle *c);
/* The commit identity: MD_GIT_AUTHOR when set, else (App configured) the
 * App's bot user. *name and *email are caller-freed. */
int cycle_gh_author(struct cycle *c, char **name, char **email, struct md_err *err);

#endif

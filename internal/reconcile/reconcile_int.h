/* Private to the reconcile module: the working set of one cycle. */
#ifndef MAGOS_RECONCILE_INT_H
#define MAGOS_RECONCILE_INT_H

#include "magos/compose.h"
#include "magos/gitops.h"
#include "magos/policy.h"
#include "magos/publish.h"
#include "magos/reconcile.h"
#include "magos/ref.h"
#include "magos/registry.h"
#include "magos/watcher.h"

struct md_github_opts;

/* One compose file as read this cycle. */
struct md_reconcile__file {
	char *path; /* relative to the work tree */
	char *data;
	size_t len;
	unsigned mode; /* permission bits, kept on rewrite */
	struct md_compose_file *scan;
	char *patched; /* new content when something changes */
	size_t patched_len;
};

/* One annotated site whose reference and policy parsed. */
struct md_reconcile__site {
	size_t file;
	size_t index; /* site index within the file's scan */
	struct md_ref *ref;
	struct md_policy *policy;
};

struct md_reconcile__cycle {
	const struct md_config *cfg; /* for values beyond the settings (auth file lookup) */
	const struct md_settings *s;
	enum md_cycle_mode mode;
	struct md_git *git;
	struct md_reconcile__file *files;
	size_t nfiles;
	struct md_reconcile__site *sites;
	size_t nsites;
	struct md_cycle_report *rep;
	struct md_daemon_ctx *ctx; /* kept by the caller across cycles */
	struct md_state *st;       /* NULL for check */
	volatile sig_atomic_t *stop; /* may be NULL */
	unsigned gh_cred_calls;      /* gh.c: credential requests in the current git operation */
	/* The commit identity, resolved once when the clone is opened (apply):
	 * MD_GIT_AUTHOR or the App's bot user. agent_emails: whose commits are
	 * the agent's own (rollback reverts only those). */
	char *author_name, *author_email;
	struct md_strv agent_emails;
	struct md_publish_edit *edits; /* cycle.c: the patched files for publish */
};

/* cycle.c */
void md_reconcile__progress(const struct md_reconcile__cycle *c);
void md_reconcile__change_clear(struct md_change *ch);
/* ctx (may be NULL) gives the progress hook. The client keeps the hook and
 * stop for its whole life, so both must outlive it (they are the daemon's). */
int md_reconcile__new_registry(const struct md_config *cfg, const struct md_daemon_ctx *ctx,
			       volatile sig_atomic_t *stop, struct md_registry **out,
			       struct md_err *err);

/* preflight.c: check mode — what enabled features need from this host
 * (compose command, age identities, the App's key), as problems. */
void md_reconcile__preflight(struct md_reconcile__cycle *c);

/* sites.c: read and scan compose files, parse every site. */
int md_reconcile__load_files(struct md_reconcile__cycle *c, struct md_err *err);
void md_reconcile__files_clear(struct md_reconcile__cycle *c);
/* A problem about file:line (file NULL: about no file, line 0: the whole
 * file), printed "file:line: message". -1 only on OOM. */
int md_reconcile__problem(struct md_reconcile__cycle *c, const char *file, int line,
			  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* edits.c: turn the watcher's answers into changes and patched files. */
int md_reconcile__plan_changes(struct md_reconcile__cycle *c, struct md_watch_site *ws,
			       struct md_err *err);
int md_reconcile__patch_files(struct md_reconcile__cycle *c, struct md_err *err);
int md_reconcile__reapply(struct md_reconcile__cycle *c, struct md_err *err);

/* steps.c: hand the cycle's work to publish and rollout. */
int md_reconcile__publish(struct md_reconcile__cycle *c, struct md_err *err);
int md_reconcile__rollout(struct md_reconcile__cycle *c, struct md_err *err);

/* gh.c */
/* The GitHub App: the client kept in ctx->gh, the installation token
 * handed to libgit2, the bot identity. Code that runs a git network
 * operation (fetch, push, sync) calls md_reconcile__gh_git_op() right
 * before it (publish through md_publish_ctx.git_op). */
/* 1 when an App is configured (MD_GITHUB_APP_ID). */
int md_reconcile__gh_enabled(const struct md_reconcile__cycle *c);
/* The client's options from the settings (owner and repo may be NULL:
 * check only loads the key). */
void md_reconcile__gh_opts(const struct md_settings *s, const char *owner, const char *repo,
			   struct md_github_opts *o);
/* ctx->gh, created on first use: owner/repo from MD_GIT_URL, else from the
 * clone's origin URL. */
int md_reconcile__github(struct md_reconcile__cycle *c, struct md_err *err);
/* md_git_cred_fn (ctx: the cycle): user x-access-token, the installation
 * token as password; asked again within one operation (a 401), the token
 * is dropped and a new one minted, once. */
int md_reconcile__gh_git_cred(void *ctx, const char *url, char *user, size_t userlen, char *pass,
			      size_t passlen);
/* A git network operation starts: its first credentials request is the
 * first, whatever the previous operation asked. */
void md_reconcile__gh_git_op(struct md_reconcile__cycle *c);
/* Resolve the cycle's identity once (author_name, author_email,
 * agent_emails): MD_GIT_AUTHOR when set, else (App configured) the App's
 * bot user. */
int md_reconcile__identity(struct md_reconcile__cycle *c, struct md_err *err);

#endif

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
};

/* cycle.c */
void cycle_progress(const struct cycle *c);
void cycle_change_free(struct md_change *ch);
int cycle_new_registry(const struct md_config *cfg, volatile sig_atomic_t *stop,
		       struct md_registry **out,
		       struct md_err *err);

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

/* pr.c: MD_MODE=pr — one branch and pull request per image (issue 4). */
int cycle_publish_prs(struct cycle *c, volatile sig_atomic_t *stop, struct md_err *err);

/* apply.c: MD_APPLY — stacks changed since the last applied commit, drift,
 * health, rollback (issue 6). In plan mode it only fills report->stacks. */
int cycle_apply(struct cycle *c, volatile sig_atomic_t *stop, struct md_err *err);

#endif

/* Private to the rollout module: one cycle's applier run and its stacks. */
#ifndef MAGOS_ROLLOUT_INT_H
#define MAGOS_ROLLOUT_INT_H

#include "magos/compose.h"
#include "magos/ref.h"
#include "magos/rollout.h"

struct md_applier;
struct md_age_identities;

/* A stack: a directory holding a compose file. */
struct md_rollout__stack {
	char *dir;            /* relative to the work tree, "." for the top */
	struct md_strv files; /* compose file names inside dir */
	char *reason;         /* why it is applied this cycle; NULL: it is not */
};

/* One cycle's applier run. */
struct md_rollout__run {
	const struct md_rollout_ctx *x;
	struct md_applier *a;
	struct md_strv env;             /* the children's environment */
	struct md_age_identities *ids;  /* loaded on the first SOPS file */
	char head[41];                  /* HEAD when the run started */
	char applied_to[41];            /* what the state records as applied */
	struct md_rollout__stack *stacks;
	size_t nstacks;
};

/* Decrypted env files of one stack run, in a private directory. */
struct md_rollout__secrets {
	char *dir; /* NULL when the stack has no SOPS file */
	struct md_strv files;
};

/* ---- decisions: pure functions over plain inputs ---- */

/* The index of the stack a path belongs to among dirs: the deepest stack
 * directory holding it (the top "." holds everything else); n when none. */
size_t md_rollout__owner_index(const char *const *dirs, size_t n, const char *path);

/* Compose's own preference when a directory holds more than one file. */
int md_rollout__file_rank(const char *name);

/* MD_STACKS: 1 when this host applies dir. */
int md_rollout__host_applies(const struct md_strv *stacks, const char *dir);

/* What a cycle knows when it chooses the stacks (plain data). */
struct md_rollout__history {
	const char *applied;           /* the applied commit, NULL on first start */
	const char *head;
	int ancestor;                  /* applied is an ancestor of head */
	const struct md_strv *changed; /* paths changed applied..head */
	const int *failed;             /* per stack: its last apply failed */
};

/* Which stacks (dirs, n) this cycle applies and why: reasons[i] receives
 * a new string or stays NULL. -1 on OOM. */
int md_rollout__choose(const char *const *dirs, size_t n, const struct md_rollout__history *h,
		       char **reasons);

enum md_rollout__rollback {
	MD_ROLLOUT__FAIL_NO_GOOD,   /* no earlier good version: the stack fails */
	MD_ROLLOUT__FAIL_SAME,      /* the last good version is the one that failed */
	MD_ROLLOUT__REVERT,         /* the agent's own change: revert it in Git */
	MD_ROLLOUT__RUN_OLD,        /* a person's change: run the last good version */
};

/* What a rollback does: good is the last good commit (NULL: none), npaths
 * the stack's paths changed since, authors their authors' e-mails, me the
 * agent's identities. */
enum md_rollout__rollback md_rollout__rollback_decide(const char *good, size_t npaths,
						      const struct md_strv *authors,
						      const struct md_strv *me);

/* ---- model.c ---- */
/* The stacks' directories (borrowed pointers; caller frees the array). */
const char **md_rollout__dirs(const struct md_rollout__run *r);
/* md_rollout__owner_index over the run's stacks. */
size_t md_rollout__stack_index(const struct md_rollout__run *r, const char *path);
const struct md_rollout__stack *md_rollout__owner(const struct md_rollout__run *r,
						  const char *path);
int md_rollout__report(const struct md_rollout__run *r, const char *dir, const char *reason,
		       enum md_stack_outcome outcome, const char *error);
void md_rollout__progress(const struct md_rollout__run *r);
/* A fresh 0700 directory <base>/<prefix>XXXXXX (MD_RUNTIME_DIR). */
char *md_rollout__private_dir(const char *base, const char *prefix, struct md_err *err);

/* ---- run.c: one version of a stack (commit NULL: the work tree; else that
 * commit's compose files through .magos-rollback.<name>), health; setup. */
int md_rollout__run_init(struct md_rollout__run *r, struct md_err *err);
void md_rollout__run_clear(struct md_rollout__run *r);
/* -2 when it refused before running any compose command (secrets that do
 * not decrypt, old files missing), -1 when the stack failed. */
int md_rollout__stack_run(struct md_rollout__run *r, const struct md_rollout__stack *s,
			  const char *commit, struct md_err *err);
/* Record and report s as failed (no rollback). */
int md_rollout__failed(struct md_rollout__run *r, const struct md_rollout__stack *s,
		       const char *reason, const char *error, struct md_err *err);
/* Apply s (reason says why), rolling back on failure; reports and logs. */
int md_rollout__apply(struct md_rollout__run *r, const struct md_rollout__stack *s,
		      const char *reason, int drift, struct md_err *err);

/* ---- secrets.c ---- */
int md_rollout__secrets_prepare(struct md_rollout__run *r, const struct md_rollout__stack *s,
				const char *commit, struct md_rollout__secrets *out,
				struct md_err *err);
void md_rollout__secrets_clear(struct md_rollout__secrets *sec);

/* ---- rollback.c ---- */
int md_rollout__rollback(struct md_rollout__run *r, const struct md_rollout__stack *s,
			 const char *reason, const char *failure, struct md_err *err);

#endif

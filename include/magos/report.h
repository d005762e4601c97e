/* report — what one reconcile cycle did, filled by reconcile, publish and
 * rollout and read by the daemon and cli. Types only: the header lets the
 * three cycle modules share the report without calling each other. */
#ifndef MAGOS_REPORT_H
#define MAGOS_REPORT_H

#include <stddef.h>

#include "magos/util.h"

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
enum md_pr_action {
	MD_PR_UNCHANGED, /* the branch and the PR already say this */
	MD_PR_OPENED,
	MD_PR_UPDATED,
	MD_PR_CLOSED,    /* no longer needed: withdrawn by the agent */
	MD_PR_DECLINED,  /* the user closed it without merging: not proposed again */
};

struct md_pr_report {
	char *branch; /* magos/<image path> */
	enum md_pr_action action;
	long number;
	char *url;    /* html_url, may be NULL */
};

/* Something the cycle could not do with one site or file (or, in check, a
 * setting); the others go on. */
struct md_problem {
	char *file;    /* relative to the repository; NULL when about no file */
	int line;      /* 0 when about the whole file */
	char *message;
	char *text;    /* "file:line: message", as printed and logged */
};

struct md_cycle_report {
	struct md_change *changes;
	size_t nchanges;
	struct md_problem *problems; /* sites skipped, checks failed */
	size_t nproblems;
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

#endif

/* policy — private declarations shared by the module's files.
 *
 * Layout: semver.c (version scanning and precedence), range.c (node-semver
 * ranges), annotation.c (the `{"magos": {...}}` comment), policy.c (the
 * table of policy kinds and accessors), candidates.c (the candidate list,
 * its order and the trace), decide.c (the per-kind decisions). */
#ifndef MAGOS_POLICY_INT_H
#define MAGOS_POLICY_INT_H

#include <stddef.h>
#include <stdint.h>

#include "magos/policy.h"

/* ---- versions (semver.c) ----------------------------------------------- */

/* Longest tag we try to read as a version; registries cap tags at 128. */
#define MD_SEMVER_MAX_LEN 256

struct md_semver {
	uint64_t num[3]; /* major, minor, patch */
	char *pre;       /* prerelease identifiers ("rc.1"), NULL when none */
};

/* What a version-shaped token says, before we decide what it means: the
 * range parser reads partials and wildcards, tag parsing wants all three
 * numbers. Pointers point into the scanned text. */
struct md_vparts {
	uint64_t num[3];
	int ncomp;         /* components written, numbers or wildcards (1..3) */
	int nfull;         /* leading numeric components (0..ncomp) */
	const char *pre;   /* prerelease text without '-', NULL when absent */
	size_t pre_len;
};

#define MD_VS_PREFIX_V 0x1u /* accept one leading 'v' or 'V' */
#define MD_VS_PARTIAL 0x2u  /* accept one or two components */
#define MD_VS_WILDCARD 0x4u /* accept 'x', 'X', '*' components */

/* Scan exactly s[0..n) as a version; -1 when it is not one. */
int md_semver_scan(const char *s, size_t n, unsigned flags, struct md_vparts *out);
/* Fill v (owning its prerelease copy) from the numbers given and an
 * optional prerelease. */
int md_semver_set(struct md_semver *v, uint64_t major, uint64_t minor, uint64_t patch,
		  const char *pre, size_t pre_len);
/* A strict tag (optional v/V prefix) into a caller-owned struct. */
int md_semver_parse_into(struct md_semver *v, const char *tag);
void md_semver_clear(struct md_semver *v);
/* Compare major.minor.patch only. */
int md_semver_tuple_cmp(const struct md_semver *a, const struct md_semver *b);

/* ---- policies (policy.c, annotation.c) ----------------------------------- */

/* Annotation fields, as bits so a policy kind can list the ones it accepts. */
enum {
	MD_F_POLICY = 1u << 0,
	MD_F_RANGE = 1u << 1,
	MD_F_PRERELEASE = 1u << 2,
	MD_F_PIN = 1u << 3,
	MD_F_REPO = 1u << 4,
	MD_F_TAG = 1u << 5,
};

struct md_decision;

typedef int (*md_decide_fn)(struct md_decision *d, const struct md_policy *p,
			    const char *current_tag, const struct md_candidate *cands,
			    size_t n, struct md_err *err);

/* One row of the policy table: adding a policy is adding a row (and its
 * decide function). Rows with supported = 0 are documented policies this
 * version refuses by name. */
struct md_policy_kind_info {
	const char *name;
	int supported;
	enum md_policy_kind kind;
	int needs_tag_list;
	unsigned fields; /* MD_F_* valid with this policy */
	md_decide_fn decide;
};

const struct md_policy_kind_info *md_policy_kind_lookup(const char *name);
const struct md_policy_kind_info *md_policy_kind_info_of(enum md_policy_kind kind);

struct md_policy {
	const struct md_policy_kind_info *kind;
	enum md_pin pin;
	char *repo;
	char *tag;
	char *range_text;
	struct md_range *range; /* NULL: any version */
	int prerelease;
	unsigned fields; /* MD_F_* present in the annotation */
};

/* ---- decisions (candidates.c, decide.c) ---------------------------------- */

#define MD_POLICY_MAX_CANDIDATES 100000

/* Trace reasons. */
#define MD_R_CHOSEN "chosen"
#define MD_R_CURRENT "current"
#define MD_R_IN_RANGE "in range"
#define MD_R_LOWER "lower than current"
#define MD_R_SAME "same version as current"
#define MD_R_NOT_SEMVER "not a semantic version"
#define MD_R_OUT_OF_RANGE "out of range"
#define MD_R_PRERELEASE "prerelease"
#define MD_R_FOLLOWED "followed"
#define MD_R_NOT_FOLLOWED "not the followed tag"

/* One candidate on its way through the pipeline. */
struct md_cand {
	const char *tag; /* the caller's string, valid during decide */
	int64_t created;
	int parsed; /* v holds the tag's version */
	struct md_semver v;
	int kept;
	const char *reason;
};

struct md_decision {
	char *tag;
	char *warning;
	struct md_trace_entry *trace;
	char *pool; /* the trace's tag strings */
	size_t n;
};

/* Copy, parse, order (versions descending, then tag; non-versions last)
 * and de-duplicate the caller's candidates. */
int md_cands_prepare(struct md_cand **out, size_t *outn, const struct md_candidate *cands,
		     size_t n, struct md_err *err);
void md_cands_free(struct md_cand *c, size_t n);
/* Record the candidates' verdicts, in their order, as d's trace. */
int md_cands_trace(struct md_decision *d, const struct md_cand *c, size_t n, struct md_err *err);
int md_cands_find(const struct md_cand *c, size_t n, const char *tag);
int md_decision_set_tag(struct md_decision *d, const char *tag, struct md_err *err);

int md_policy_decide_semver(struct md_decision *d, const struct md_policy *p,
			    const char *current_tag, const struct md_candidate *cands, size_t n,
			    struct md_err *err);
int md_policy_decide_follow(struct md_decision *d, const struct md_policy *p,
			    const char *current_tag, const struct md_candidate *cands, size_t n,
			    struct md_err *err);

#endif

/* policy — private declarations shared by the module's files.
 *
 * Layout: semver.c (version scanning and precedence), range.c (node-semver
 * ranges), lenient.c (real-world tag versions and flavours), annotation.c
 * (the `{"magos": {...}}` comment), fields.c (its filter/exclude/extract,
 * arch and minAge fields), regex.c (PCRE2), platform.c (arch matching and
 * the host platform), policy.c (the table of policy kinds and accessors),
 * candidates.c (the candidate list, its order and the trace), stages.c (the
 * pipeline's stages), decide.c (the decisions). */
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
int md_policy__semver_scan(const char *s, size_t n, unsigned flags, struct md_vparts *out);
/* Fill v (owning its prerelease copy) from the numbers given and an
 * optional prerelease. */
int md_policy__semver_set(struct md_semver *v, uint64_t major, uint64_t minor, uint64_t patch,
		  const char *pre, size_t pre_len);
/* A strict tag (optional v/V prefix) into a caller-owned struct. */
int md_policy__semver_parse_into(struct md_semver *v, const char *tag);
void md_policy__semver_clear(struct md_semver *v);
/* Prerelease strings identifier by identifier with the given identifier
 * order (strict SemVer or the lenient tag order). */
typedef int (*md_ident_cmp_fn)(const char *a, size_t an, const char *b, size_t bn);
int md_policy__pre_cmp(const char *a, const char *b, md_ident_cmp_fn ident);
/* Compare major.minor.patch only. */
int md_policy__semver_tuple_cmp(const struct md_semver *a, const struct md_semver *b);

/* ---- lenient tag versions (lenient.c) ------------------------------------ */

struct md_tagver {
	uint64_t num[4]; /* missing components are 0 */
	int nnum;        /* components written (1..4) */
	int vprefix;     /* written with a leading 'v' or 'V' */
	char *pre;       /* prerelease identifiers, '.'-separated, NULL when none */
	int pre_glued;   /* "3.13.0rc1", "2025.1.0.dev3": PEP 440 order */
	char *flavour;   /* "alpine", "bookworm-slim"; NULL when none */
	char *rev;       /* revision "ls220", "r7-ls245", "3.0.2"; NULL when none */
	struct md_semver sv; /* num[0..2] and pre (aliased, not owned) for ranges */
};

/* Read s[0..n) leniently; -1 when it is not version-shaped. */
int md_policy__tagver_parse(struct md_tagver *tv, const char *s, size_t n);
void md_policy__tagver_clear(struct md_tagver *tv);
/* Numbers, then prerelease, then revision (see lenient.c); flavour and tag
 * not compared. */
int md_policy__tagver_cmp(const struct md_tagver *a, const struct md_tagver *b);
/* Whether two revisions are of one kind: both none, or the same pieces
 * ("ls220" and "ls221", "3.0.2" and "3.1.0"; not "ls5" and "r5"). */
int md_policy__tagver_same_rev_kind(const struct md_tagver *a, const struct md_tagver *b);
/* Two digit strings as numbers, leading zeros ignored. */
int md_policy__digits_cmp(const char *a, size_t an, const char *b, size_t bn);
/* The numerical policy's numbers: digits, optionally '.' and digits. */
int md_policy__decimal_valid(const char *s);
/* Two valid decimals as numbers, exactly: "1.5" == "1.50", "9" < "10.1". */
int md_policy__decimal_cmp(const char *a, const char *b);

/* ---- regular expressions (regex.c) --------------------------------------- */

struct md_regex;

/* Compile `pattern` for annotation field `field`; errors name both and the
 * offset. */
int md_policy__regex_compile(struct md_regex **out, const char *field, const char *pattern,
		     struct md_err *err);
void md_policy__regex_free(struct md_regex *re);
/* The number of the named group, 0 when there is none. */
uint32_t md_policy__regex_group(const struct md_regex *re, const char *name);
/* How many capturing groups the pattern has. */
uint32_t md_policy__regex_group_count(const struct md_regex *re);

/* Matching needs scratch space; one per decision. */
struct md_regex_scratch;
struct md_regex_scratch *md_policy__regex_scratch_new(void);
void md_policy__regex_scratch_free(struct md_regex_scratch *s);
/* 1 match, 0 no match, -1 gave up (match limit). With start non-NULL and
 * a match, *start and *len give group's text (group 0: the whole match;
 * len 0 when the group is unset). */
int md_policy__regex_match(const struct md_regex *re, struct md_regex_scratch *s, const char *subject,
		   uint32_t group, size_t *start, size_t *len);

/* ---- platforms (platform.c) ----------------------------------------------- */

#define MD_PLATFORM_PART 32

struct md_platform {
	char os[MD_PLATFORM_PART];
	char arch[MD_PLATFORM_PART];
	char variant[MD_PLATFORM_PART]; /* "" when none; arm64's default is "v8" */
};

/* "amd64", "arm/v7", "linux/arm64", "linux/arm64/v8" -> a platform; -1 when
 * the text is not one. */
int md_policy__platform_parse(struct md_platform *out, const char *text);
/* "linux/arm64" (arm64's default variant is not written). */
void md_policy__platform_format(const struct md_platform *p, char *out, size_t outlen);
/* Whether `have` provides `want` (no variant wanted: any variant). */
int md_policy__platform_satisfies(const struct md_platform *have, const struct md_platform *want);

/* ---- policies (policy.c, annotation.c, fields.c) -------------------------- */

/* Annotation fields, as bits so a policy kind can list the ones it accepts. */
enum {
	MD_F_POLICY = 1u << 0,
	MD_F_RANGE = 1u << 1,
	MD_F_PRERELEASE = 1u << 2,
	MD_F_PIN = 1u << 3,
	MD_F_REPO = 1u << 4,
	MD_F_TAG = 1u << 5,
	MD_F_FILTER = 1u << 6,
	MD_F_EXTRACT = 1u << 7,
	MD_F_EXCLUDE = 1u << 8,
	MD_F_ARCH = 1u << 9,
	MD_F_MINAGE = 1u << 10,
};

/* How a choosing policy orders its candidates. */
enum md_order {
	MD_ORDER_NONE,    /* latest/digest: a fixed tag */
	MD_ORDER_VERSION, /* semver: lenient versions, highest first */
	MD_ORDER_CREATED, /* newest: creation time, newest first */
	MD_ORDER_ALPHA,   /* alphabetical: the (extracted) text, last first */
	MD_ORDER_NUMBER,  /* numerical: the (extracted) number, highest first */
};

struct md_decision;

typedef int (*md_decide_fn)(struct md_decision *d, const struct md_policy *p,
			    const char *current_tag, const struct md_candidate *cands,
			    size_t n, const struct md_decide_ctx *ctx, struct md_err *err);

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
	enum md_order order;
};

const struct md_policy_kind_info *md_policy__kind_lookup(const char *name);
const struct md_policy_kind_info *md_policy__kind_info_of(enum md_policy_kind kind);

struct md_policy {
	const struct md_policy_kind_info *kind;
	enum md_pin pin;
	char *repo;
	char *tag;
	char *range_text;
	struct md_range *range; /* NULL: any version */
	int prerelease;
	unsigned fields; /* MD_F_* present in the annotation */
	struct md_regex *filter, *exclude;
	char *filter_text, *exclude_text;
	char *extract;          /* the group's name or number, without '$'; NULL: none */
	int extract_numbered;   /* extract gave a number ("$1"), not a name */
	uint32_t extract_group; /* its number in filter (0: the whole match) */
	struct md_platform *arch; /* explicit `arch`, NULL: the host's */
	size_t narch;
	int64_t min_age;          /* seconds; 0 when not given */
	char *min_age_text;
};

/* Setters for the fields in fields.c, called by the annotation parser. */
int md_policy__set_filter(struct md_policy *p, const char *field, const char *text,
			 struct md_err *err);
int md_policy__set_extract(struct md_policy *p, const char *text, struct md_err *err);
int md_policy__set_arch_one(struct md_policy *p, const char *text, struct md_err *err);
int md_policy__set_min_age(struct md_policy *p, const char *text, struct md_err *err);
/* Cross-field checks once every field is read (extract needs its group). */
int md_policy__check_fields(struct md_policy *p, struct md_err *err);

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
#define MD_R_SIGNATURE "signature/attestation tag"
#define MD_R_FILTERED "filtered"
#define MD_R_EXCLUDED "excluded"
#define MD_R_REGEX_LIMIT "regex match limit reached"
#define MD_R_FLAVOUR "flavour differs"
#define MD_R_SCHEME "version scheme differs"
#define MD_R_NOT_NUMERIC "not numeric"
#define MD_R_NO_CREATED "creation time unknown"
#define MD_R_NOT_CHECKED "not checked"
#define MD_R_NO_PLATFORMS "platforms unknown"
#define MD_R_OLDER "older than current"
#define MD_R_SAME_BUILD "same build as current"
#define MD_R_CUR_UNREADABLE "declared tag is not a version"

/* One candidate on its way through the pipeline. */
struct md_cand {
	const char *tag; /* the caller's string, valid during decide */
	const struct md_candidate *src; /* its facts; NULL for an unlisted current */
	int64_t created;
	char *key;  /* the extracted text, NULL: the tag itself */
	int parsed; /* the key is usable: a version (semver), a number (numerical) */
	int versioned; /* tv holds the key read as a version */
	const char *filter_why; /* the filter's verdict, NULL passed */
	struct md_tagver tv;
	int kept;
	const char *reason;
	char *own_reason; /* reason when it had to be written ("too young (3h < 72h)") */
};

struct md_decision {
	enum md_decision_status status;
	char *tag;
	char *warning;
	char *problem;
	struct md_trace_entry *trace;
	char *pool; /* the trace's tag strings and written reasons */
	size_t n;
};

/* Everything a decision needs besides the candidates. */
struct md_run {
	const struct md_policy *p;
	const struct md_decide_ctx *ctx;
	struct md_platform host;
	struct md_regex_scratch *scratch;
	const char *cur_flavour; /* the declared tag's flavour, NULL none */
	const struct md_tagver *cur_tv; /* the declared tag's version, NULL when none */
	int cur_unreadable;      /* a declared tag of unknown shape: nothing may replace it */
	int gates;               /* fact gates apply to every candidate */
	int oom;                 /* a stage ran out of memory: fail the decision */
};

int md_policy__run_init(struct md_run *r, const struct md_policy *p, const struct md_decide_ctx *ctx,
		struct md_err *err);
void md_policy__run_clear(struct md_run *r);

/* Copy and de-duplicate the caller's candidates (unordered). */
int md_policy__cands_prepare(struct md_cand **out, size_t *outn, const struct md_candidate *cands,
		     size_t n, struct md_err *err);
/* Order survivors-to-be by the policy's order, then by tag. */
void md_policy__cands_sort(struct md_cand *c, size_t n, enum md_order order);
int md_policy__cand_cmp(const struct md_cand *a, const struct md_cand *b, enum md_order order);
/* Value order only (no tag tie-break): >0 when a is better than b. */
int md_policy__cand_value_cmp(const struct md_cand *a, const struct md_cand *b, enum md_order order);
void md_policy__cand_clear(struct md_cand *c);
void md_policy__cands_free(struct md_cand *c, size_t n);

/* Stages (stages.c). md_policy__stage_key runs the filter and reads the
 * candidate's key (version, number), once, before the others and before
 * sorting. The others return NULL to keep, else the reason to drop. */
void md_policy__stage_key(struct md_run *r, struct md_cand *c);
const char *md_policy__stage_static(struct md_run *r, struct md_cand *c);
const char *md_policy__stage_gates(struct md_run *r, struct md_cand *c);
/* Record the candidates' verdicts, in their order, as d's trace. */
int md_policy__cands_trace(struct md_decision *d, const struct md_cand *c, size_t n, struct md_err *err);
int md_policy__cands_find(const struct md_cand *c, size_t n, const char *tag);
int md_policy__decision_set_tag(struct md_decision *d, const char *tag, struct md_err *err);

int md_policy__decide_choose(struct md_decision *d, const struct md_policy *p,
			    const char *current_tag, const struct md_candidate *cands, size_t n,
			    const struct md_decide_ctx *ctx, struct md_err *err);
int md_policy__decide_follow(struct md_decision *d, const struct md_policy *p,
			    const char *current_tag, const struct md_candidate *cands, size_t n,
			    const struct md_decide_ctx *ctx, struct md_err *err);

#endif

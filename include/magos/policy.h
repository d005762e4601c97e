/* policy — parse a site's annotation and choose the tag it should declare.
 *
 * Pure: no I/O. Input is the parsed annotation, the tag currently declared
 * and the candidate tags (with whatever facts the watcher has); output is a
 * decision (a tag, or none) plus a trace saying, for every candidate, whether
 * it was kept or dropped and why. The watcher resolves the decided tag's
 * digest afterwards.
 *
 * Policies (docs/policies.md): `semver` (with `range`), `latest` (follow a
 * mutable tag, pin its digest), `digest` (like latest for `repo[:tag]@digest`
 * lines), `newest` (creation time), `alphabetical`, `numerical` (with
 * `filter`/`extract`). Choosing policies narrow with `filter`/`exclude` and
 * gate on `arch` and `minAge`. A policy never moves a site to a lower
 * version than the one it declares while the declared one still satisfies
 * it, and semver never to a tag of another shape (scheme, number of parts,
 * flavour, revision kind). newest/alphabetical/numerical report the kind
 * MD_POLICY_SEMVER (they
 * replace the tag like semver); md_policy_name() tells them apart. */
#ifndef MAGOS_POLICY_H
#define MAGOS_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "magos/util.h"

enum md_policy_kind {
	MD_POLICY_SEMVER,
	MD_POLICY_LATEST,
	MD_POLICY_DIGEST,
};

enum md_pin { MD_PIN_DIGEST, MD_PIN_TAG };

struct md_policy;

/* `annotation` is the comment text, e.g. {"magos": {"policy": "semver",
 * "range": "^1.4"}}. Malformed JSON, an unknown field, a wrong type or an
 * invalid range is an error naming the field or token. */
int md_policy_parse(struct md_policy **out, const char *annotation, struct md_err *err);
void md_policy_free(struct md_policy *p);

enum md_policy_kind md_policy_kind(const struct md_policy *p);
/* The policy's own name: "semver", "newest", "numerical", … */
const char *md_policy_name(const struct md_policy *p);
const char *md_policy_kind_name(enum md_policy_kind k);
enum md_pin md_policy_pin(const struct md_policy *p);
/* The `repo` override, or NULL to watch the image line's repository. */
const char *md_policy_repo(const struct md_policy *p);
/* The `tag` field, or NULL. */
const char *md_policy_tag(const struct md_policy *p);
/* The `range` text, or NULL. */
const char *md_policy_range(const struct md_policy *p);
/* Whether `"prerelease": true` was given (semver only). */
int md_policy_prerelease(const struct md_policy *p);
/* Whether the policy chooses among the repository's tags (needs the tag
 * list) rather than following one fixed tag. */
int md_policy_needs_tag_list(const struct md_policy *p);
/* For latest/digest: the tag to follow given the line's tag (may be NULL):
 * the `tag` field, else the line's tag, else "latest". */
const char *md_policy_followed_tag(const struct md_policy *p, const char *line_tag);

/* What the watcher knows about one candidate tag. Facts not known are 0/NULL. */
struct md_candidate {
	const char *tag;
	int64_t created;    /* image creation time, epoch seconds, 0 = unknown */
	int64_t first_seen; /* first time this agent saw the tag (state), 0 = unknown */
	/* Platforms the tag's image provides, "os/arch[/variant]" ("linux/arm64/v8");
	 * NULL when not looked up. */
	const char *const *platforms;
	size_t nplatforms;
	int facts;          /* 1 when created/platforms were looked up (even if absent) */
};

/* The world a decision is made in: the clock (for minAge) and the host's
 * platform (the default `arch`), e.g. "linux/amd64" or "linux/arm/v7". */
struct md_decide_ctx {
	int64_t now;
	const char *host_platform;
};

struct md_trace_entry {
	const char *tag;
	int kept;           /* 1 kept (a valid choice), 0 dropped */
	const char *reason; /* "chosen", "lower than current", "out of range", … */
};

struct md_decision;

/* Decide. current_tag is the tag the line declares (may be NULL). For
 * policies that do not need the tag list, cands may be empty and the
 * decision is the followed tag. */
int md_policy_decide(struct md_decision **out, const struct md_policy *p,
		     const char *current_tag, const struct md_candidate *cands, size_t n,
		     struct md_err *err);
/* The same with an explicit context (md_policy_decide uses now = 0 and
 * host "linux/amd64"). */
int md_policy_decide_ctx(struct md_decision **out, const struct md_policy *p,
			 const char *current_tag, const struct md_candidate *cands, size_t n,
			 const struct md_decide_ctx *ctx, struct md_err *err);
/* Whether deciding needs per-candidate facts (created time, platforms): the
 * arch and minAge gates and the `newest` policy do. */
int md_policy_needs_facts(const struct md_policy *p);
/* The candidate tags that pass every stage not needing facts, best first:
 * the order in which the watcher looks facts up (it stops once a decision
 * settles). */
int md_policy_rank(struct md_strv *out, const struct md_policy *p, const char *current_tag,
		   const struct md_candidate *cands, size_t n, struct md_err *err);
void md_decision_free(struct md_decision *d);

/* What a decision came to: an expected outcome, not a failure. */
enum md_decision_status {
	MD_DECISION_TAG,        /* md_decision_tag is the tag to declare */
	MD_DECISION_NONE,       /* no candidate qualifies: the site is left as it is */
	/* The declared tag does not read as a version (and is not `latest`),
	 * so its shape — scheme, parts, flavour — is unknown and no tag may
	 * replace it: the site is reported (md_decision_problem) and left. */
	MD_DECISION_UNREADABLE,
};

enum md_decision_status md_decision_status(const struct md_decision *d);
/* Why the site must be reported, naming the declared tag; NULL unless the
 * status is MD_DECISION_UNREADABLE. */
const char *md_decision_problem(const struct md_decision *d);
/* The tag the site should declare, or NULL when no candidate qualifies (the
 * site is left as it is). Equal to current_tag when nothing should change. */
const char *md_decision_tag(const struct md_decision *d);
/* A warning worth logging (e.g. the declared tag no longer exists
 * upstream), or NULL. */
const char *md_decision_warning(const struct md_decision *d);
size_t md_decision_trace_count(const struct md_decision *d);
const struct md_trace_entry *md_decision_trace_at(const struct md_decision *d, size_t i);

/* SemVer helpers, exposed for tests and `explain`. */
struct md_semver;
int md_semver_parse(struct md_semver **out, const char *tag);
void md_semver_free(struct md_semver *v);
/* <0, 0, >0 by SemVer 2.0.0 precedence (build metadata ignored). */
int md_semver_cmp(const struct md_semver *a, const struct md_semver *b);

struct md_range;
int md_range_parse(struct md_range **out, const char *text, struct md_err *err);
/* include_prerelease: treat prereleases as ordinary versions. */
int md_range_match(const struct md_range *r, const struct md_semver *v, int include_prerelease);
void md_range_free(struct md_range *r);
/* The range as the primitive comparators it means, e.g. "^1.2" gives
 * ">=1.2.0 <2.0.0-0" (sets joined by " || ", "*" for any). Caller frees;
 * NULL on OOM. For tests and `explain`. */
char *md_range_to_string(const struct md_range *r);

/* Lenient tag versions (see internal/policy/lenient.c for the rules):
 * compare two tags as versions ("1.1" vs "1.2.3.4", "rc9" < "rc10");
 * -1 when either is not version-shaped, else 0 with *out <0, 0, >0. */
int md_tag_version_cmp(const char *a, const char *b, int *out);
/* How a tag reads as a version, for tests and `explain`: "1.2.3",
 * "1.2.3 pre=rc.1", "1.2.3 flavour=alpine", "4.0.1 rev=ls220"; -1 when it
 * is not one. */
int md_tag_version_describe(const char *tag, char *out, size_t outlen);

/* The OCI platform for a `uname -m` machine name ("x86_64" ->
 * "linux/amd64", "armv7l" -> "linux/arm/v7"); -1 when unknown. */
int md_policy_host_platform(const char *machine, char *out, size_t outlen);

#endif

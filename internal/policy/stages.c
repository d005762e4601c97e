/* The stages a candidate of a choosing policy goes through, in order:
 *
 *   signature/attestation tags -> filter -> exclude -> key (version,
 *   number) -> flavour -> range -> prerelease      (md_policy__stage_static)
 *   creation time (newest) -> facts -> arch -> minAge   (md_policy__stage_gates)
 *
 * The first stage that objects drops the candidate with its reason. The
 * static stages need only the tag; the gates need the facts the watcher
 * looks up (created, platforms), which is why md_policy_rank stops before
 * them. */
#include "policy_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magos/ref.h"

int md_policy__run_init(struct md_run *r, const struct md_policy *p, const struct md_decide_ctx *ctx,
		struct md_err *err)
{
	const char *host = ctx && ctx->host_platform ? ctx->host_platform : "linux/amd64";

	memset(r, 0, sizeof(*r));
	r->p = p;
	r->ctx = ctx;
	if (md_policy__platform_parse(&r->host, host) < 0)
		return md_err_set(err, "host platform \"%.64s\" is not os/arch[/variant]", host);
	if (p->filter || p->exclude) {
		r->scratch = md_policy__regex_scratch_new();
		if (!r->scratch)
			return md_err_set(err, "out of memory for regex matching");
	}
	r->gates = p->kind->order == MD_ORDER_CREATED || p->narch > 0 || p->min_age > 0;
	return 0;
}

void md_policy__run_clear(struct md_run *r)
{
	md_policy__regex_scratch_free(r->scratch);
	r->scratch = NULL;
}

/* Cosign and friends push these next to the images; never a choice. */
static int is_signature_tag(const char *tag)
{
	size_t n = strlen(tag);

	/* "sha256-" and a digest's 64 hex digits, then a suffix. */
	if (strncmp(tag, "sha256-", 7) == 0 && n >= MD_DIGEST_STR_LEN) {
		char digest[MD_DIGEST_STR_LEN + 1];

		snprintf(digest, sizeof(digest), "sha256:%.64s", tag + 7);
		if (md_ref_valid_digest(digest))
			return 1;
	}
	return md_str_has_suffix(tag, ".sig") || md_str_has_suffix(tag, ".att") ||
	       md_str_has_suffix(tag, ".sbom");
}

/* What the candidate is ordered by: the version (semver), the number
 * (numerical), the text (alphabetical). Sets c->parsed. */
static void read_key(const struct md_policy *p, struct md_cand *c)
{
	const char *k = c->key ? c->key : c->tag;

	/* With extract, a tag the filter did not match has no key at all. */
	if (p->extract && !c->key) {
		c->parsed = 0;
		return;
	}
	switch (p->kind->order) {
	case MD_ORDER_VERSION:
		c->parsed = c->versioned = md_policy__tagver_parse(&c->tv, k, strlen(k)) == 0;
		break;
	case MD_ORDER_NUMBER:
		c->parsed = md_policy__decimal_valid(k);
		break;
	case MD_ORDER_CREATED:
		/* Ties in creation time go to the most specific version tag. */
		c->versioned = md_policy__tagver_parse(&c->tv, k, strlen(k)) == 0;
		c->parsed = 1;
		break;
	case MD_ORDER_ALPHA:
	case MD_ORDER_NONE:
		c->parsed = 1;
		break;
	}
}

/* The filter's verdict; with extract, also the key. NULL passes. */
static const char *run_filter(struct md_run *r, struct md_cand *c)
{
	const struct md_policy *p = r->p;
	size_t start = 0, len = 0;
	int m;

	if (!p->filter)
		return NULL;
	m = md_policy__regex_match(p->filter, r->scratch, c->tag, p->extract_group,
			   p->extract ? &start : NULL, &len);
	if (m < 0)
		return MD_R_REGEX_LIMIT;
	if (m == 0)
		return MD_R_FILTERED;
	if (p->extract) {
		c->key = md_strndup(c->tag + start, len);
		if (!c->key)
			r->oom = 1;
	}
	return NULL;
}

/* A date used as a version: 20240105, or 2024.01.05 / 2024.1 (CalVer). */
static int date_like(const struct md_tagver *tv)
{
	if (tv->nnum == 1)
		return tv->num[0] >= 19000101 && tv->num[0] <= 29991231;
	return tv->num[0] >= 1900 && tv->num[0] <= 2999;
}

/* Tags of one image often mix schemes: `1.2.3` beside the moving aliases
 * `1.2` and `1`, dates beside versions, `v1.2.3` beside `1.2.3`, rebuilds
 * `4.0.1-ls220` beside releases `4.0.1`. A site keeps the scheme of the
 * tag it declares — as many numeric parts, a date when it is a date, the
 * `v` when it has one, the same kind of revision — so `7.2.4` never moves
 * to the alias `8`, `1.2.3` never to `20240105`, `4.0.1-ls220` never to
 * `4.0.2`. */
static int scheme_differs(const struct md_tagver *cur, const struct md_tagver *c)
{
	return cur && (cur->nnum != c->nnum || date_like(cur) != date_like(c) ||
		       cur->vprefix != c->vprefix || !md_policy__tagver_same_rev_kind(cur, c));
}

static const char *version_stages(struct md_run *r, const struct md_cand *c)
{
	const struct md_policy *p = r->p;
	const char *f = c->tv.flavour, *want = r->cur_flavour;

	if (!c->parsed)
		return MD_R_NOT_SEMVER;
	/* No shape to compare with: nothing may replace the declared tag. */
	if (r->cur_unreadable)
		return MD_R_CUR_UNREADABLE;
	if ((f || want) && (!f || !want || strcmp(f, want) != 0))
		return MD_R_FLAVOUR;
	if (scheme_differs(r->cur_tv, &c->tv))
		return MD_R_SCHEME;
	/* Prereleases are judged by the next check, so "out of range" here
	 * means out of range even if prereleases were welcome. */
	if (p->range && !md_range_match(p->range, &c->tv.sv, 1))
		return MD_R_OUT_OF_RANGE;
	/* A prerelease needs `"prerelease": true`, or a range that names a
	 * prerelease of the same version (node-semver's rule). */
	if (c->tv.pre && !p->prerelease && !(p->range && md_range_match(p->range, &c->tv.sv, 0)))
		return MD_R_PRERELEASE;
	return NULL;
}

void md_policy__stage_key(struct md_run *r, struct md_cand *c)
{
	c->filter_why = run_filter(r, c);
	/* The key is read even for a dropped tag so the trace stays ordered. */
	read_key(r->p, c);
}

const char *md_policy__stage_static(struct md_run *r, struct md_cand *c)
{
	const struct md_policy *p = r->p;

	if (is_signature_tag(c->tag))
		return MD_R_SIGNATURE;
	if (c->filter_why)
		return c->filter_why;
	if (p->exclude) {
		int m = md_policy__regex_match(p->exclude, r->scratch, c->tag, 0, NULL, NULL);

		if (m < 0)
			return MD_R_REGEX_LIMIT;
		if (m > 0)
			return MD_R_EXCLUDED;
	}
	switch (p->kind->order) {
	case MD_ORDER_VERSION:
		return version_stages(r, c);
	case MD_ORDER_NUMBER:
		return c->parsed ? NULL : MD_R_NOT_NUMERIC;
	case MD_ORDER_ALPHA:
	case MD_ORDER_CREATED:
	case MD_ORDER_NONE:
		break;
	}
	return NULL;
}

/* Coarse on purpose: "3h", "2d"; the reason is for people. */
static void format_age(int64_t secs, char *out, size_t outlen)
{
	if (secs < 0)
		secs = 0;
	if (secs < 60)
		snprintf(out, outlen, "%llds", (long long)secs);
	else if (secs < 3600)
		snprintf(out, outlen, "%lldm", (long long)(secs / 60));
	else if (secs < 86400)
		snprintf(out, outlen, "%lldh", (long long)(secs / 3600));
	else
		snprintf(out, outlen, "%lldd", (long long)(secs / 86400));
}

/* A written reason, owned by c from now on. */
static const char *own(struct md_run *r, struct md_cand *c, char *reason)
{
	free(c->own_reason);
	c->own_reason = reason;
	if (!reason) {
		r->oom = 1;
		return MD_R_NOT_CHECKED;
	}
	return reason;
}

static int provides(const struct md_candidate *src, const struct md_platform *want)
{
	for (size_t i = 0; i < src->nplatforms; i++) {
		struct md_platform have;

		if (src->platforms[i] && md_policy__platform_parse(&have, src->platforms[i]) == 0 &&
		    md_policy__platform_satisfies(&have, want))
			return 1;
	}
	return 0;
}

/* Every requested platform (or the host's, when facts are at hand and the
 * image lists its platforms) must be provided. */
static const char *gate_arch(struct md_run *r, struct md_cand *c)
{
	const struct md_policy *p = r->p;
	const struct md_candidate *src = c->src;
	char name[3 * MD_PLATFORM_PART + 3];
	int have_list = src->platforms && src->nplatforms > 0;

	if (p->narch == 0) {
		if (!have_list || provides(src, &r->host))
			return NULL;
		md_policy__platform_format(&r->host, name, sizeof(name));
		return own(r, c, md_asprintf("missing %s", name));
	}
	if (!have_list)
		return MD_R_NO_PLATFORMS;
	for (size_t i = 0; i < p->narch; i++) {
		if (!provides(src, &p->arch[i])) {
			md_policy__platform_format(&p->arch[i], name, sizeof(name));
			return own(r, c, md_asprintf("missing %s", name));
		}
	}
	return NULL;
}

/* Age from the creation time, else from when this agent first saw the tag;
 * a tag with neither was, as far as we know, first seen just now. */
static const char *gate_min_age(struct md_run *r, struct md_cand *c)
{
	const struct md_candidate *src = c->src;
	int64_t now = r->ctx ? r->ctx->now : 0, since = now, age;
	char a[32];

	if (r->p->min_age <= 0)
		return NULL;
	if (src->created)
		since = src->created;
	else if (src->first_seen)
		since = src->first_seen;
	age = now - since;
	if (age >= r->p->min_age)
		return NULL;
	format_age(age, a, sizeof(a));
	return own(r, c, md_asprintf("too young (%s < %s)", a, r->p->min_age_text));
}

const char *md_policy__stage_gates(struct md_run *r, struct md_cand *c)
{
	const struct md_candidate *src = c->src;
	const char *why;

	if (r->p->kind->order == MD_ORDER_CREATED && (!src || !src->facts || !src->created))
		return MD_R_NO_CREATED;
	if (!src || !src->facts)
		return r->gates ? MD_R_NOT_CHECKED : NULL;
	why = gate_arch(r, c);
	return why ? why : gate_min_age(r, c);
}

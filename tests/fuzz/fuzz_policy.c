/* Fuzz the policy module: the whole input as an annotation, a range and a
 * tag; then line by line as "annotation-or-range / current tag / candidate
 * tags" through ranges, precedence (strict and lenient), flavours and a
 * full decision with facts derived from the input, checking the invariants
 * a decision must keep (including: the same choice with the candidates
 * reversed, and a problem exactly when the site is reported). Candidate lines may carry facts as
 * "tag|created|platform,platform" (see add_facts). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "magos/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LINES 64

static void check_order(const char *a, const char *b)
{
	struct md_semver *va = NULL, *vb = NULL;

	if (md_semver_parse(&va, a) == 0 && md_semver_parse(&vb, b) == 0) {
		int ab = md_semver_cmp(va, vb), ba = md_semver_cmp(vb, va);

		/* Precedence is antisymmetric. */
		if ((ab < 0) != (ba > 0) || (ab == 0) != (ba == 0))
			abort();
	}
	md_semver_free(va);
	md_semver_free(vb);
}

/* Lenient versions: antisymmetric, and a description exists exactly when
 * the tag compares. */
static void check_lenient(const char *a, const char *b)
{
	char d[256];
	int ab = 0, ba = 0, ra = md_tag_version_cmp(a, b, &ab), rb = md_tag_version_cmp(b, a, &ba);

	if (ra != rb)
		abort();
	if (ra == 0 && ((ab < 0) != (ba > 0) || (ab == 0) != (ba == 0)))
		abort();
	if (ra == 0 && (md_tag_version_describe(a, d, sizeof(d)) != 0 ||
			md_tag_version_describe(b, d, sizeof(d)) != 0))
		abort();
}

static void check_range(const char *text, char **tags, size_t n)
{
	struct md_range *r = NULL;
	struct md_err err;

	if (md_range_parse(&r, text, &err) < 0)
		return;
	free(md_range_to_string(r));
	for (size_t i = 0; i < n; i++) {
		struct md_semver *v = NULL;

		if (md_semver_parse(&v, tags[i]) == 0) {
			int strict = md_range_match(r, v, 0), loose = md_range_match(r, v, 1);

			/* Including prereleases never excludes anything. */
			if (strict && !loose)
				abort();
		}
		md_semver_free(v);
	}
	md_range_free(r);
}

/* "tag|created|plat,plat": facts for the gates. The tag is cut at the
 * first '|'; created is a small number of hours; platforms are split in
 * place into plats. */
static void add_facts(struct md_candidate *c, char *line, const char **plats, size_t *np)
{
	char *bar = strchr(line, '|'), *save = NULL;

	memset(c, 0, sizeof(*c));
	c->tag = line;
	if (!bar)
		return;
	*bar++ = '\0';
	c->facts = 1;
	c->created = 1700000000 - 3600 * (int64_t)(strtol(bar, NULL, 10) % 100000);
	c->first_seen = c->created / 2;
	bar = strchr(bar, '|');
	if (!bar)
		return;
	c->platforms = plats + *np;
	for (char *t = strtok_r(bar + 1, ",", &save); t && *np < MAX_LINES * 4;
	     t = strtok_r(NULL, ",", &save)) {
		plats[(*np)++] = t;
		c->nplatforms++;
	}
}

/* A reported site (declared tag of unknown shape) has a problem and no
 * tag; any other decision has no problem. */
static void check_status(const struct md_decision *d)
{
	int unreadable = md_decision_status(d) == MD_DECISION_UNREADABLE;

	if (unreadable != (md_decision_problem(d) != NULL))
		abort();
	if (unreadable && md_decision_tag(d))
		abort();
	if (md_decision_status(d) == MD_DECISION_TAG && !md_decision_tag(d))
		abort();
}

/* The same decision with the candidates in reverse order. */
static void check_reversed(const struct md_policy *p, const char *current,
			   const struct md_candidate *cands, size_t n, const char *tag)
{
	struct md_candidate rev[MAX_LINES];
	struct md_decision *d = NULL;
	struct md_err err;
	const char *t;

	for (size_t i = 0; i < n; i++)
		rev[i] = cands[n - 1 - i];
	/* Duplicate tags with different facts may keep either's facts. */
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (strcmp(cands[i].tag, cands[j].tag) == 0)
				return;
	if (md_policy_decide(&d, p, current, rev, n, &err) < 0)
		abort();
	t = md_decision_tag(d);
	if ((t == NULL) != (tag == NULL) || (t && strcmp(t, tag) != 0))
		abort();
	md_decision_free(d);
}

/* The decision is the current tag, a candidate, or nothing; a chosen
 * candidate is one the ranking kept. */
static void check_decision(const char *annotation, const char *current, char **tags, size_t n)
{
	static const char *hosts[] = { "linux/amd64", "linux/arm64", "linux/arm/v7", "bogus//x" };
	struct md_candidate cands[MAX_LINES];
	const char *plats[MAX_LINES * 4];
	struct md_decide_ctx ctx = { 1700000000, hosts[n % 4] };
	struct md_strv ranked = { 0 };
	struct md_decision *d = NULL;
	struct md_policy *p = NULL;
	struct md_err err;
	const char *tag;
	size_t np = 0;
	int found;

	if (md_policy_parse(&p, annotation, &err) < 0 &&
	    md_policy_parse(&p, "{\"magos\": {\"policy\": \"semver\"}}", &err) < 0)
		abort();
	for (size_t i = 0; i < n; i++)
		add_facts(&cands[i], tags[i], plats, &np);
	if (md_policy_rank(&ranked, p, current, cands, n, &err) < 0)
		abort();
	if (md_policy_decide_ctx(&d, p, current, cands, n, &ctx, &err) < 0) {
		/* Only an unparsable host platform may fail a decision. */
		if (ctx.host_platform != hosts[3])
			abort();
		md_strv_clear(&ranked);
		md_policy_free(p);
		return;
	}
	tag = md_decision_tag(d);
	if (tag && md_policy_kind(p) == MD_POLICY_SEMVER && !(current && strcmp(tag, current) == 0) &&
	    !md_strv_contains(&ranked, tag))
		abort();
	md_strv_clear(&ranked);
	md_policy_needs_facts(p);
	check_status(d);
	md_decision_free(d);
	if (md_policy_decide(&d, p, current, cands, n, &err) < 0)
		abort();
	check_status(d);
	tag = md_decision_tag(d);
	check_reversed(p, current, cands, n, tag);
	found = !tag || (current && strcmp(tag, current) == 0) ||
		md_policy_kind(p) != MD_POLICY_SEMVER;
	for (size_t i = 0; i < n && !found; i++)
		found = strcmp(tag, tags[i]) == 0;
	if (!found || md_decision_trace_count(d) > n)
		abort();
	for (size_t i = 0; i < md_decision_trace_count(d); i++)
		if (!md_decision_trace_at(d, i)->reason)
			abort();
	md_decision_free(d);
	md_policy_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text, *lines[MAX_LINES], *save = NULL;
	struct md_policy *p = NULL;
	struct md_range *r = NULL;
	struct md_semver *v = NULL;
	struct md_err err;
	size_t n = 0;

	if (size > 16384)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	if (md_policy_parse(&p, text, &err) == 0)
		md_policy_free(p);
	if (md_range_parse(&r, text, &err) == 0)
		md_range_free(r);
	if (md_semver_parse(&v, text) == 0)
		md_semver_free(v);
	{
		char d[64], host[16];

		md_tag_version_describe(text, d, sizeof(d));
		md_policy_host_platform(text, host, sizeof(host));
	}

	for (char *l = strtok_r(text, "\n", &save); l && n < MAX_LINES;
	     l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	if (n >= 2) {
		check_range(lines[0], lines + 1, n - 1);
		for (size_t i = 2; i < n; i++) {
			check_order(lines[i - 1], lines[i]);
			check_lenient(lines[i - 1], lines[i]);
		}
		check_decision(lines[0], lines[1], lines + 2, n - 2);
	}
	free(text);
	return 0;
}

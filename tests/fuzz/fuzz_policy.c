/* Fuzz the policy module: the whole input as an annotation, a range and a
 * tag; then line by line as "annotation-or-range / current tag / candidate
 * tags" through ranges, precedence and a full decision, checking the
 * invariants a decision must keep. */
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

/* The decision is the current tag, a candidate, or nothing. */
static void check_decision(const char *annotation, const char *current, char **tags, size_t n)
{
	struct md_candidate cands[MAX_LINES];
	struct md_decision *d = NULL;
	struct md_policy *p = NULL;
	struct md_err err;
	const char *tag;
	int found;

	if (md_policy_parse(&p, annotation, &err) < 0 &&
	    md_policy_parse(&p, "{\"magos\": {\"policy\": \"semver\"}}", &err) < 0)
		abort();
	for (size_t i = 0; i < n; i++) {
		cands[i].tag = tags[i];
		cands[i].created = 0;
	}
	if (md_policy_decide(&d, p, current, cands, n, &err) < 0)
		abort();
	tag = md_decision_tag(d);
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

	for (char *l = strtok_r(text, "\n", &save); l && n < MAX_LINES;
	     l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	if (n >= 2) {
		check_range(lines[0], lines + 1, n - 1);
		for (size_t i = 2; i < n; i++)
			check_order(lines[i - 1], lines[i]);
		check_decision(lines[0], lines[1], lines + 2, n - 2);
	}
	free(text);
	return 0;
}

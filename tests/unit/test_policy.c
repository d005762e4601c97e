/* policy: SemVer precedence, ranges, annotations, decisions. Table-driven. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magos/policy.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- SemVer ------------------------------------------------------------ */

static void test_semver_valid(void **state)
{
	static const char *ok[] = {
		"0.0.0", "1.2.3", "v1.2.3", "V1.2.3", "10.20.30", "1.0.0-alpha", "1.0.0-alpha.1",
		"1.0.0-0.3.7", "1.0.0-x.7.z.92", "1.0.0-x-y-z.--", "1.0.0+20130313144700",
		"1.0.0-beta+exp.sha.5114f85", "1.0.0+21AF26D3----117B344092BD", "1.0.0-rc.1+build.01",
		"18446744073709551615.18446744073709551615.18446744073709551615",
		"1.2.3-00a", "1.2.3--", "1.2.3+0001",
	};
	struct md_semver *v;

	(void)state;
	for (size_t i = 0; i < N(ok); i++) {
		if (md_semver_parse(&v, ok[i]) != 0)
			fail_msg("expected \"%s\" to parse", ok[i]);
		md_semver_free(v);
	}
	md_semver_free(NULL);
}

static void test_semver_invalid(void **state)
{
	static const char *bad[] = {
		"", "1", "1.2", "1.2.3.4", "01.2.3", "1.02.3", "1.2.03", "1.2.3-01", "1.2.3-rc.01",
		"1.2.3-", "1.2.3+", "1.2.3-a..b", "1.2.3-a_b", "1.2.3+a+b", "vv1.2.3", " 1.2.3",
		"1.2.3 ", "18446744073709551616.0.0", "0.99999999999999999999.0", "1.2.x", "latest",
		"-1.2.3", "1.-2.3", "1..3", "1.2.3-rc.", "1.2.3+.", "x1.2.3", "1.2.3-β",
	};
	struct md_semver *v = (struct md_semver *)1;

	(void)state;
	for (size_t i = 0; i < N(bad); i++) {
		if (md_semver_parse(&v, bad[i]) != -1)
			fail_msg("expected \"%s\" to be rejected", bad[i]);
		assert_null(v);
	}
	assert_int_equal(md_semver_parse(&v, NULL), -1);
}

static int cmp_tags(const char *a, const char *b)
{
	struct md_semver *va, *vb;
	int r;

	if (md_semver_parse(&va, a) || md_semver_parse(&vb, b))
		fail_msg("cannot parse %s or %s", a, b);
	r = md_semver_cmp(va, vb);
	md_semver_free(va);
	md_semver_free(vb);
	return r < 0 ? -1 : r > 0;
}

static void test_semver_spec_chain(void **state)
{
	static const char *chain[] = {
		"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
		"1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",      "1.0.0",
		"1.0.1",       "1.1.0",         "2.0.0",            "2.1.0",
		"2.1.1",
	};

	(void)state;
	/* Every pair, both ways: the order is total and strict. */
	for (size_t i = 0; i < N(chain); i++)
		for (size_t j = 0; j < N(chain); j++) {
			int want = i < j ? -1 : i > j;

			if (cmp_tags(chain[i], chain[j]) != want)
				fail_msg("%s vs %s: expected %d", chain[i], chain[j], want);
		}
}

static void test_semver_precedence(void **state)
{
	static const struct {
		const char *a, *b;
		int want;
	} t[] = {
		{ "1.0.0-rc.9", "1.0.0-rc.10", -1 },
		{ "1.0.0-rc.2", "1.0.0-rc.11", -1 },
		{ "1.9.0", "1.10.0", -1 },
		{ "1.0.9", "1.0.10", -1 },
		{ "9.0.0", "10.0.0", -1 },
		{ "1.0.0+a", "1.0.0+b", 0 },
		{ "1.0.0-rc.1+x", "1.0.0-rc.1+y", 0 },
		{ "v1.2.3", "1.2.3", 0 },
		{ "V1.2.3", "v1.2.3", 0 },
		{ "1.0.0-1", "1.0.0-a", -1 },
		{ "1.0.0-Z", "1.0.0-a", -1 },
		{ "1.0.0-alpha", "1.0.0-alpha.0", -1 },
		{ "1.0.0-a.b.c", "1.0.0-a.b", 1 },
		{ "1.0.0-99999999999999999999", "1.0.0-100000000000000000000", -1 },
		{ "1.0.0-2", "1.0.0-10", -1 },
		{ "1.0.0-rc10", "1.0.0-rc9", -1 }, /* alphanumeric: ASCII order */
		{ "18446744073709551615.0.0", "18446744073709551614.99.99", 1 },
		{ "0.0.0-0", "0.0.0", -1 },
		{ "1.2.3-beta", "1.2.2", 1 },
	};

	(void)state;
	for (size_t i = 0; i < N(t); i++) {
		if (cmp_tags(t[i].a, t[i].b) != t[i].want)
			fail_msg("%s vs %s: expected %d", t[i].a, t[i].b, t[i].want);
		if (cmp_tags(t[i].b, t[i].a) != -t[i].want)
			fail_msg("%s vs %s: expected %d", t[i].b, t[i].a, -t[i].want);
	}
}

/* ---- ranges ------------------------------------------------------------ */

static void test_range_desugar(void **state)
{
	static const struct {
		const char *in, *out;
	} t[] = {
		/* node-semver README, hyphen ranges */
		{ "1.2.3 - 2.3.4", ">=1.2.3 <=2.3.4" },
		{ "1.2 - 2.3.4", ">=1.2.0 <=2.3.4" },
		{ "1.2.3 - 2.3", ">=1.2.3 <2.4.0-0" },
		{ "1.2.3 - 2", ">=1.2.3 <3.0.0-0" },
		{ "* - 2", "<3.0.0-0" },
		/* x-ranges and partials */
		{ "*", "*" },
		{ "x", "*" },
		{ "X", "*" },
		{ "", "*" },
		{ "  ", "*" },
		{ "1.x", ">=1.0.0 <2.0.0-0" },
		{ "1.2.x", ">=1.2.0 <1.3.0-0" },
		{ "1.2.*", ">=1.2.0 <1.3.0-0" },
		{ "1.X.x", ">=1.0.0 <2.0.0-0" },
		{ "1", ">=1.0.0 <2.0.0-0" },
		{ "1.2", ">=1.2.0 <1.3.0-0" },
		{ "=1.2", ">=1.2.0 <1.3.0-0" },
		{ ">1", ">=2.0.0" },
		{ ">1.2", ">=1.3.0" },
		{ ">=1.2", ">=1.2.0" },
		{ "<1.2", "<1.2.0-0" },
		{ "<=1.2", "<1.3.0-0" },
		{ "<=1", "<2.0.0-0" },
		{ ">*", "<0.0.0-0" },
		{ "<x", "<0.0.0-0" },
		{ ">=*", "*" },
		/* tilde */
		{ "~1.2.3", ">=1.2.3 <1.3.0-0" },
		{ "~1.2", ">=1.2.0 <1.3.0-0" },
		{ "~1", ">=1.0.0 <2.0.0-0" },
		{ "~0.2.3", ">=0.2.3 <0.3.0-0" },
		{ "~0.2", ">=0.2.0 <0.3.0-0" },
		{ "~0", ">=0.0.0 <1.0.0-0" },
		{ "~1.2.3-beta.2", ">=1.2.3-beta.2 <1.3.0-0" },
		{ "~>1.2", ">=1.2.0 <1.3.0-0" },
		/* caret */
		{ "^1.2.3", ">=1.2.3 <2.0.0-0" },
		{ "^0.2.3", ">=0.2.3 <0.3.0-0" },
		{ "^0.0.3", ">=0.0.3 <0.0.4-0" },
		{ "^1.2.3-beta.2", ">=1.2.3-beta.2 <2.0.0-0" },
		{ "^0.0.3-beta", ">=0.0.3-beta <0.0.4-0" },
		{ "^1.2.x", ">=1.2.0 <2.0.0-0" },
		{ "^0.0.x", ">=0.0.0 <0.1.0-0" },
		{ "^0.0", ">=0.0.0 <0.1.0-0" },
		{ "^1.x", ">=1.0.0 <2.0.0-0" },
		{ "^0.x", ">=0.0.0 <1.0.0-0" },
		{ "^1.2", ">=1.2.0 <2.0.0-0" },
		{ "^0", ">=0.0.0 <1.0.0-0" },
		/* primitives, prefixes, whitespace, sets */
		{ "1.2.3", "1.2.3" },
		{ "=1.2.3", "1.2.3" },
		{ "v1.2.3", "1.2.3" },
		{ "=v1.2.3", "1.2.3" },
		{ ">1.2.3", ">1.2.3" },
		{ "<1.2.3", "<1.2.3" },
		{ "<=1.2.3", "<=1.2.3" },
		{ ">= 1.2.3", ">=1.2.3" },
		{ "  >=1.2.3   <2.0.0  ", ">=1.2.3 <2.0.0" },
		{ ">=v1.2.3 < v2", ">=1.2.3 <2.0.0-0" },
		{ "1.2.3+build.5", "1.2.3" },
		{ "^ 1.2", ">=1.2.0 <2.0.0-0" },
		{ "1.2.7 || >=1.2.9 <2.0.0", "1.2.7 || >=1.2.9 <2.0.0" },
		{ "^1||^2", ">=1.0.0 <2.0.0-0 || >=2.0.0 <3.0.0-0" },
		{ "\t~1.2\t||\t3.x", ">=1.2.0 <1.3.0-0 || >=3.0.0 <4.0.0-0" },
		/* bumps that would overflow have no upper bound */
		{ "^18446744073709551615.0.0", ">=18446744073709551615.0.0" },
		{ ">18446744073709551615", "<0.0.0-0" },
	};
	struct md_range *r;
	struct md_err err;

	(void)state;
	for (size_t i = 0; i < N(t); i++) {
		char *s;

		if (md_range_parse(&r, t[i].in, &err) != 0)
			fail_msg("\"%s\": %s", t[i].in, err.msg);
		s = md_range_to_string(r);
		if (strcmp(s, t[i].out) != 0)
			fail_msg("\"%s\" gave \"%s\", expected \"%s\"", t[i].in, s, t[i].out);
		free(s);
		md_range_free(r);
	}
	md_range_free(NULL);
}

static int range_matches(const char *range, const char *ver, int incl)
{
	struct md_range *r;
	struct md_semver *v;
	struct md_err err;
	int m;

	if (md_range_parse(&r, range, &err) != 0)
		fail_msg("\"%s\": %s", range, err.msg);
	if (md_semver_parse(&v, ver) != 0)
		fail_msg("\"%s\" does not parse", ver);
	m = md_range_match(r, v, incl);
	md_semver_free(v);
	md_range_free(r);
	return m;
}

static void test_range_match(void **state)
{
	static const struct {
		const char *range, *ver;
		int incl, want;
	} t[] = {
		/* each operator */
		{ "=1.2.3", "1.2.3", 0, 1 },
		{ "=1.2.3", "1.2.4", 0, 0 },
		{ "1.2.3", "v1.2.3", 0, 1 },
		{ "1.2.3", "1.2.3+build", 0, 1 },
		{ ">1.2.3", "1.2.3", 0, 0 },
		{ ">1.2.3", "1.2.4", 0, 1 },
		{ ">=1.2.3", "1.2.3", 0, 1 },
		{ ">=1.2.3", "1.2.2", 0, 0 },
		{ "<1.2.3", "1.2.3", 0, 0 },
		{ "<1.2.3", "1.2.2", 0, 1 },
		{ "<=1.2.3", "1.2.3", 0, 1 },
		{ "<=1.2.3", "1.2.4", 0, 0 },
		{ ">=1.2.0 <2.0.0", "1.9.9", 0, 1 },
		{ ">=1.2.0 <2.0.0", "2.0.0", 0, 0 },
		{ "1.2.7 || >=1.2.9 <2.0.0", "1.2.8", 0, 0 },
		{ "1.2.7 || >=1.2.9 <2.0.0", "1.2.7", 0, 1 },
		{ "1.2.7 || >=1.2.9 <2.0.0", "1.4.6", 0, 1 },
		{ "1.2.7 || >=1.2.9 <2.0.0", "2.0.0", 0, 0 },
		/* x, tilde, caret, hyphen */
		{ "*", "0.0.0", 0, 1 },
		{ "*", "99.1.1", 0, 1 },
		{ "", "3.0.0", 0, 1 },
		{ "1.x", "1.99.99", 0, 1 },
		{ "1.x", "2.0.0", 0, 0 },
		{ "1.2", "1.2.99", 0, 1 },
		{ "1.2", "1.3.0", 0, 0 },
		{ "~1.2.3", "1.2.9", 0, 1 },
		{ "~1.2.3", "1.3.0", 0, 0 },
		{ "~1", "1.9.0", 0, 1 },
		{ "^1.2.3", "1.99.0", 0, 1 },
		{ "^1.2.3", "1.2.2", 0, 0 },
		{ "^0.2.3", "0.2.9", 0, 1 },
		{ "^0.2.3", "0.3.0", 0, 0 },
		{ "^0.0.3", "0.0.3", 0, 1 },
		{ "^0.0.3", "0.0.4", 0, 0 },
		{ "^0.x", "0.99.0", 0, 1 },
		{ "^0.x", "1.0.0", 0, 0 },
		{ "1.2.3 - 2.3.4", "2.3.4", 0, 1 },
		{ "1.2.3 - 2.3.4", "2.3.5", 0, 0 },
		{ "1.2.3 - 2.3", "2.3.99", 0, 1 },
		{ "1.2.3 - 2.3", "2.4.0", 0, 0 },
		/* prerelease rule (node-semver README examples) */
		{ ">1.2.3-alpha.3", "1.2.3-alpha.7", 0, 1 },
		{ ">1.2.3-alpha.3", "3.4.5-alpha.9", 0, 0 },
		{ ">1.2.3-alpha.3", "3.4.5", 0, 1 },
		{ ">1.2.3-alpha.3", "3.4.5-alpha.9", 1, 1 },
		{ "~1.2.3-beta.2", "1.2.3-beta.4", 0, 1 },
		{ "~1.2.3-beta.2", "1.2.4-beta.2", 0, 0 },
		{ "^1.2.3-beta.2", "1.2.3-beta.4", 0, 1 },
		{ "^1.2.3-beta.2", "1.2.4-beta.2", 0, 0 },
		{ "^1.2.3", "1.5.0-rc.1", 0, 0 },
		{ "^1.2.3", "1.5.0-rc.1", 1, 1 },
		{ "^1.2.3", "2.0.0-rc.1", 1, 0 },
		{ "<2.0.0", "2.0.0-rc.1", 1, 1 },
		{ "<2", "2.0.0-rc.1", 1, 0 },
		{ "*", "1.0.0-beta", 0, 0 },
		{ "*", "1.0.0-beta", 1, 1 },
		{ "1.x", "1.0.0-beta", 1, 1 },
		{ "1.x", "1.0.0-beta", 0, 0 },
		{ ">=1.2.3-rc.1 <2", "1.2.3-rc.2", 0, 1 },
		{ ">=1.2.3-rc.1 <2", "1.2.4-rc.2", 0, 0 },
		{ "1.2.3-rc.1 || >=2", "1.2.3-rc.1", 0, 1 },
		{ "1.2.3-rc.1 || >=2", "2.1.0-rc.1", 0, 0 },
		{ ">=1.0.0-rc.9", "1.0.0-rc.10", 0, 1 },
		{ "<1.0.0-rc.10", "1.0.0-rc.9", 0, 1 },
	};

	(void)state;
	for (size_t i = 0; i < N(t); i++)
		if (range_matches(t[i].range, t[i].ver, t[i].incl) != t[i].want)
			fail_msg("\"%s\" vs %s (include_prerelease=%d): expected %d", t[i].range,
				 t[i].ver, t[i].incl, t[i].want);
	assert_int_equal(md_range_match(NULL, NULL, 0), 0);
}

static void test_range_invalid(void **state)
{
	static const struct {
		const char *in, *token;
	} t[] = {
		{ ">=1.2.3 foo", "foo" },
		{ "latest", "latest" },
		{ ">=", ">=" },
		{ "^", "^" },
		{ ">= foo", "foo" },
		{ "1.2.3 -", "-" },
		{ "1.2.3 - foo", "foo" },
		{ "1.2.3 -2", "-2" },
		{ "^1 ||", "||" },
		{ "|| ^1", "||" },
		{ "1 || || 2", "||" },
		{ "1 | 2", "|" },
		{ "1.2.3.4", "1.2.3.4" },
		{ "01.2.3", "01.2.3" },
		{ "1.x.3", "1.x.3" },
		{ "1.2-beta", "1.2-beta" },
		{ ">=1.2.3,<2", ">=1.2.3,<2" },
		{ "=>1.2.3", "=>1.2.3" },
		{ "~>=1.2", "~>=1.2" },
		{ "18446744073709551616", "18446744073709551616" },
		{ "1.2.3-", "1.2.3-" },
		{ ">=1.0.0 <2 || 3.0.0 - 3.1 !", "!" },
	};
	struct md_range *r = (struct md_range *)1;
	struct md_err err;
	char want[256];

	(void)state;
	for (size_t i = 0; i < N(t); i++) {
		if (md_range_parse(&r, t[i].in, &err) != -1)
			fail_msg("\"%s\" should be rejected", t[i].in);
		assert_null(r);
		snprintf(want, sizeof(want), "invalid range \"%s\": unexpected \"%s\"", t[i].in,
			 t[i].token);
		assert_string_equal(err.msg, want);
	}
	assert_int_equal(md_range_parse(&r, NULL, &err), -1);
}

static void test_range_limits(void **state)
{
	char *big = malloc(5000), *many = malloc(1000);
	struct md_range *r;
	struct md_err err;

	(void)state;
	memset(big, ' ', 4999);
	big[4999] = '\0';
	assert_int_equal(md_range_parse(&r, big, &err), -1);
	assert_string_equal(err.msg, "range is longer than 4096 bytes");
	many[0] = '\0';
	for (int i = 0; i < 70; i++)
		strcat(many, ">=1 ");
	assert_int_equal(md_range_parse(&r, many, &err), -1);
	assert_non_null(strstr(err.msg, "more than 64 terms"));
	/* A long range is abbreviated in the message; the token still shows. */
	memset(big, ' ', 3000);
	strcpy(big + 3000, "^1 bogus");
	assert_int_equal(md_range_parse(&r, big, &err), -1);
	assert_non_null(strstr(err.msg, "...\": unexpected \"bogus\""));
	assert_int_equal(strncmp(err.msg, "invalid range \"    ", 19), 0);
	free(big);
	free(many);
}

/* ---- annotations ------------------------------------------------------- */

static void test_annotation_ok(void **state)
{
	static const struct {
		const char *in;
		enum md_policy_kind kind;
		enum md_pin pin;
		const char *range, *repo, *tag;
		int prerelease, needs_list;
	} t[] = {
		{ "{\"magos\": {\"policy\": \"semver\", \"range\": \"^1.4\"}}", MD_POLICY_SEMVER,
		  MD_PIN_DIGEST, "^1.4", NULL, NULL, 0, 1 },
		{ "{\"magos\": {\"range\": \">=1 <3\"}}", MD_POLICY_SEMVER, MD_PIN_DIGEST, ">=1 <3",
		  NULL, NULL, 0, 1 },
		{ "{\"magos\": {\"policy\": \"semver\"}}", MD_POLICY_SEMVER, MD_PIN_DIGEST, NULL, NULL,
		  NULL, 0, 1 },
		{ "{\"magos\": {\"policy\": \"semver\", \"prerelease\": true, \"pin\": \"tag\"}}",
		  MD_POLICY_SEMVER, MD_PIN_TAG, NULL, NULL, NULL, 1, 1 },
		{ "{\"magos\": {\"policy\": \"semver\", \"prerelease\": false, \"pin\": \"digest\"}}",
		  MD_POLICY_SEMVER, MD_PIN_DIGEST, NULL, NULL, NULL, 0, 1 },
		{ "{\"magos\": {\"policy\": \"semver\", \"range\": \"~2\", \"repo\": \"ghcr.io/a/b\"}}",
		  MD_POLICY_SEMVER, MD_PIN_DIGEST, "~2", "ghcr.io/a/b", NULL, 0, 1 },
		{ "{\"magos\": {\"policy\": \"latest\"}}", MD_POLICY_LATEST, MD_PIN_DIGEST, NULL, NULL,
		  NULL, 0, 0 },
		{ "{\"magos\": {\"policy\": \"latest\", \"tag\": \"stable\", \"repo\": \"docker.io/library/nginx\"}}",
		  MD_POLICY_LATEST, MD_PIN_DIGEST, NULL, "docker.io/library/nginx", "stable", 0, 0 },
		{ "{\"magos\": {\"policy\": \"digest\"}}", MD_POLICY_DIGEST, MD_PIN_DIGEST, NULL, NULL,
		  NULL, 0, 0 },
		{ "{\"magos\": {\"policy\": \"digest\", \"tag\": \"1.25-alpine\", \"pin\": \"digest\"}}",
		  MD_POLICY_DIGEST, MD_PIN_DIGEST, NULL, NULL, "1.25-alpine", 0, 0 },
		{ "  \t{\"magos\":{\"policy\":\"latest\"}}  \n", MD_POLICY_LATEST, MD_PIN_DIGEST, NULL,
		  NULL, NULL, 0, 0 },
		{ "{\"magos\": {\"range\": \"\"}}", MD_POLICY_SEMVER, MD_PIN_DIGEST, "", NULL, NULL, 0,
		  1 },
	};
	struct md_policy *p;
	struct md_err err;

	(void)state;
	for (size_t i = 0; i < N(t); i++) {
		if (md_policy_parse(&p, t[i].in, &err) != 0)
			fail_msg("%s: %s", t[i].in, err.msg);
		assert_int_equal(md_policy_kind(p), t[i].kind);
		assert_int_equal(md_policy_pin(p), t[i].pin);
		if (t[i].range)
			assert_string_equal(md_policy_range(p), t[i].range);
		else
			assert_null(md_policy_range(p));
		if (t[i].repo)
			assert_string_equal(md_policy_repo(p), t[i].repo);
		else
			assert_null(md_policy_repo(p));
		if (t[i].tag)
			assert_string_equal(md_policy_tag(p), t[i].tag);
		else
			assert_null(md_policy_tag(p));
		assert_int_equal(md_policy_prerelease(p), t[i].prerelease);
		assert_int_equal(md_policy_needs_tag_list(p), t[i].needs_list);
		md_policy_free(p);
	}
	md_policy_free(NULL);
}

static void test_annotation_errors(void **state)
{
	static const struct {
		const char *in, *msg;
	} t[] = {
		{ "", "invalid annotation JSON: '[' or '{' expected near end of file (column 0)" },
		{ "{\"magos\": ", "invalid annotation JSON: unexpected token near end of file (column 10)" },
		{ "{\"magos\": {}} trailing", "invalid annotation JSON: end of file expected near 'trailing' (column 22)" },
		{ "{\"magos\": {\"policy\": \"latest\", \"policy\": \"semver\"}}",
		  "invalid annotation JSON: duplicate object key near '\"policy\"' (column 39)" },
		{ "[1]", "magos annotation must be a JSON object" },
		{ "{}", "annotation has no \"magos\" key" },
		{ "{\"magos\": {\"policy\": \"latest\"}, \"x\": 1}",
		  "unexpected key \"x\" in annotation: only \"magos\" is allowed" },
		{ "{\"magos\": 1}", "\"magos\" must be an object" },
		{ "{\"magos\": []}", "\"magos\" must be an object" },
		{ "{\"magos\": {}}", "\"policy\" is required in magos annotation (semver, latest or digest)" },
		{ "{\"magos\": {\"pin\": \"tag\"}}", "\"policy\" is required in magos annotation (semver, latest or digest)" },
		{ "{\"magos\": {\"policy\": 1}}", "\"policy\" must be a string" },
		{ "{\"magos\": {\"policy\": \"Semver\"}}", "unknown policy \"Semver\" (expected semver, latest or digest)" },
		{ "{\"magos\": {\"policy\": \"newest\"}}", "policy \"newest\" is not supported by this version of magos-dominus" },
		{ "{\"magos\": {\"policy\": \"alphabetical\"}}", "policy \"alphabetical\" is not supported by this version of magos-dominus" },
		{ "{\"magos\": {\"policy\": \"numerical\"}}", "policy \"numerical\" is not supported by this version of magos-dominus" },
		{ "{\"magos\": {\"range\": 1}}", "\"range\" must be a string" },
		{ "{\"magos\": {\"range\": null}}", "\"range\" must be a string" },
		{ "{\"magos\": {\"range\": \">=1.2.3 foo\"}}", "invalid range \">=1.2.3 foo\": unexpected \"foo\"" },
		{ "{\"magos\": {\"range\": \"^1\\u0000\"}}", "invalid annotation JSON: \\u0000 is not allowed without JSON_ALLOW_NUL near '\"^1\\u0000\"' (column 30)" },
		{ "{\"magos\": {\"policy\": \"latest\", \"range\": \"^1\"}}", "\"range\" is not valid with policy \"latest\"" },
		{ "{\"magos\": {\"policy\": \"digest\", \"range\": \"^1\"}}", "\"range\" is not valid with policy \"digest\"" },
		{ "{\"magos\": {\"policy\": \"semver\", \"prerelease\": \"yes\"}}", "\"prerelease\" must be true or false" },
		{ "{\"magos\": {\"policy\": \"latest\", \"prerelease\": true}}", "\"prerelease\" is not valid with policy \"latest\"" },
		{ "{\"magos\": {\"policy\": \"semver\", \"pin\": \"sha\"}}", "\"pin\" must be \"digest\" or \"tag\", not \"sha\"" },
		{ "{\"magos\": {\"policy\": \"semver\", \"pin\": true}}", "\"pin\" must be a string" },
		{ "{\"magos\": {\"policy\": \"semver\", \"repo\": \"\"}}", "\"repo\" must be a repository name of 1 to 512 characters" },
		{ "{\"magos\": {\"policy\": \"semver\", \"repo\": \"ghcr.io/a b\"}}", "\"repo\" must not contain spaces or control characters" },
		{ "{\"magos\": {\"policy\": \"semver\", \"repo\": [\"x\"]}}", "\"repo\" must be a string" },
		{ "{\"magos\": {\"policy\": \"semver\", \"tag\": \"stable\"}}", "\"tag\" is not valid with policy \"semver\"" },
		{ "{\"magos\": {\"range\": \"^1\", \"tag\": \"stable\"}}", "\"tag\" is not valid with policy \"semver\"" },
		{ "{\"magos\": {\"policy\": \"latest\", \"tag\": \"a b\"}}", "\"tag\" is not a valid tag: \"a b\"" },
		{ "{\"magos\": {\"policy\": \"latest\", \"tag\": \".x\"}}", "\"tag\" is not a valid tag: \".x\"" },
		{ "{\"magos\": {\"policy\": \"latest\", \"tag\": 3}}", "\"tag\" must be a string" },
		{ "{\"magos\": {\"policy\": \"semver\", \"filter\": \"^v\"}}", "\"filter\" is not supported by this version of magos-dominus" },
		{ "{\"magos\": {\"policy\": \"semver\", \"extract\": \"$v\"}}", "\"extract\" is not supported by this version of magos-dominus" },
		{ "{\"magos\": {\"policy\": \"semver\", \"exclude\": \"rc\"}}", "\"exclude\" is not supported by this version of magos-dominus" },
		{ "{\"magos\": {\"policy\": \"semver\", \"arch\": \"amd64\"}}", "\"arch\" is not supported by this version of magos-dominus" },
		{ "{\"magos\": {\"policy\": \"semver\", \"minAge\": \"3d\"}}", "\"minAge\" is not supported by this version of magos-dominus" },
		{ "{\"magos\": {\"policy\": \"semver\", \"verify\": {}}}", "\"verify\" is not supported by this version of magos-dominus" },
		{ "{\"magos\": {\"policy\": \"semver\", \"scan\": {}}}", "\"scan\" is not supported by this version of magos-dominus" },
		{ "{\"magos\": {\"policy\": \"semver\", \"ranges\": \"^1\"}}", "unknown field \"ranges\" in magos annotation" },
		{ "{\"magos\": {\"Policy\": \"semver\"}}", "unknown field \"Policy\" in magos annotation" },
	};
	struct md_policy *p = (struct md_policy *)1;
	struct md_err err;

	(void)state;
	for (size_t i = 0; i < N(t); i++) {
		if (md_policy_parse(&p, t[i].in, &err) != -1)
			fail_msg("%s should be rejected", t[i].in);
		assert_null(p);
		if (strcmp(err.msg, t[i].msg) != 0)
			fail_msg("%s\n  got:      %s\n  expected: %s", t[i].in, err.msg, t[i].msg);
	}
}

static void test_annotation_limits(void **state)
{
	char *big = malloc(9000);
	struct md_policy *p;
	struct md_err err;

	(void)state;
	strcpy(big, "{\"magos\": {\"policy\": \"latest\"}}");
	memset(big + strlen(big), ' ', 8192 - strlen(big));
	big[8192] = '\0';
	assert_int_equal(md_policy_parse(&p, big, &err), 0); /* exactly 8 KiB is fine */
	md_policy_free(p);
	strcat(big, " ");
	assert_int_equal(md_policy_parse(&p, big, &err), -1);
	assert_string_equal(err.msg, "magos annotation is longer than 8192 bytes");
	assert_int_equal(md_policy_parse(&p, NULL, &err), -1);
	free(big);
}

static void test_policy_names_and_follow(void **state)
{
	struct md_policy *p;
	struct md_err err;

	(void)state;
	assert_string_equal(md_policy_kind_name(MD_POLICY_SEMVER), "semver");
	assert_string_equal(md_policy_kind_name(MD_POLICY_LATEST), "latest");
	assert_string_equal(md_policy_kind_name(MD_POLICY_DIGEST), "digest");
	assert_int_equal(md_policy_parse(&p, "{\"magos\": {\"policy\": \"latest\"}}", &err), 0);
	assert_string_equal(md_policy_followed_tag(p, NULL), "latest");
	assert_string_equal(md_policy_followed_tag(p, ""), "latest");
	assert_string_equal(md_policy_followed_tag(p, "1.25"), "1.25");
	md_policy_free(p);
	assert_int_equal(md_policy_parse(&p, "{\"magos\": {\"policy\": \"digest\", \"tag\": \"stable\"}}", &err), 0);
	assert_string_equal(md_policy_followed_tag(p, "1.25"), "stable");
	assert_string_equal(md_policy_followed_tag(p, NULL), "stable");
	md_policy_free(p);
}

/* ---- decisions --------------------------------------------------------- */

/* The trace as one line: "+tag(reason)" kept, "-tag(reason)" dropped. */
static void trace_string(const struct md_decision *d, char *out, size_t outlen)
{
	size_t off = 0;

	out[0] = '\0';
	for (size_t i = 0; i < md_decision_trace_count(d); i++) {
		const struct md_trace_entry *e = md_decision_trace_at(d, i);

		off += (size_t)snprintf(out + off, outlen - off, "%s%c%s(%s)", i ? " " : "",
					e->kept ? '+' : '-', e->tag, e->reason);
		assert_true(off < outlen);
	}
	assert_null(md_decision_trace_at(d, md_decision_trace_count(d)));
}

struct decide_case {
	const char *annotation;
	const char *current;
	const char *tags; /* space-separated */
	const char *want_tag;
	const char *want_warning;
	const char *want_trace;
};

static void run_decide_case(const struct decide_case *c)
{
	struct md_candidate cands[32];
	char tagbuf[512], trace[2048], *save = NULL;
	struct md_policy *p;
	struct md_decision *d;
	struct md_err err;
	size_t n = 0;

	if (md_policy_parse(&p, c->annotation, &err) != 0)
		fail_msg("%s: %s", c->annotation, err.msg);
	snprintf(tagbuf, sizeof(tagbuf), "%s", c->tags);
	for (char *t = strtok_r(tagbuf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		cands[n].tag = t;
		cands[n++].created = 0;
	}
	if (md_policy_decide(&d, p, c->current, cands, n, &err) != 0)
		fail_msg("%s / %s: %s", c->annotation, c->tags, err.msg);
	/* The decision owns its strings: scribble over the caller's copies. */
	memset(tagbuf, 'Z', sizeof(tagbuf) - 1);
	if (c->want_tag)
		assert_string_equal(md_decision_tag(d), c->want_tag);
	else if (md_decision_tag(d))
		fail_msg("%s / %s: expected no tag, got %s", c->annotation, c->tags,
			 md_decision_tag(d));
	if (c->want_warning)
		assert_string_equal(md_decision_warning(d), c->want_warning);
	else
		assert_null(md_decision_warning(d));
	trace_string(d, trace, sizeof(trace));
	if (strcmp(trace, c->want_trace) != 0)
		fail_msg("%s / %s\n  trace:    %s\n  expected: %s", c->annotation, c->tags, trace,
			 c->want_trace);
	md_decision_free(d);
	md_policy_free(p);
}

#define SEMVER(range) "{\"magos\": {\"policy\": \"semver\", \"range\": \"" range "\"}}"
#define SEMVER_PRE(range) \
	"{\"magos\": {\"policy\": \"semver\", \"range\": \"" range "\", \"prerelease\": true}}"

static void test_decide_semver(void **state)
{
	static const struct decide_case t[] = {
		/* bump within the range */
		{ SEMVER("^1.2"), "1.2.0", "1.2.0 1.2.5 1.3.0 2.0.0 latest", "1.3.0", NULL,
		  "-2.0.0(out of range) +1.3.0(chosen) +1.2.5(in range) +1.2.0(in range) "
		  "-latest(not a semantic version)" },
		/* already the best: nothing changes */
		{ SEMVER("^1.2"), "1.3.0", "1.2.0 1.3.0 2.0.0", "1.3.0", NULL,
		  "-2.0.0(out of range) +1.3.0(current) -1.2.0(lower than current)" },
		/* never downgrade (e.g. a tag pulled from the registry listing order) */
		{ SEMVER(">=1.0.0"), "1.5.0", "1.2.0 1.5.0 1.4.0", "1.5.0", NULL,
		  "+1.5.0(current) -1.4.0(lower than current) -1.2.0(lower than current)" },
		/* declared tag deleted upstream, nothing higher: keep, warn */
		{ SEMVER("^1"), "1.5.0", "1.2.0 1.4.0", "1.5.0",
		  "declared tag 1.5.0 is no longer listed by the registry; keeping it",
		  "-1.4.0(lower than current) -1.2.0(lower than current)" },
		/* declared tag deleted upstream, something higher: move */
		{ SEMVER("^1"), "1.5.0", "1.4.0 1.6.0", "1.6.0", NULL,
		  "+1.6.0(chosen) +1.4.0(in range)" },
		/* declared tag deleted and nothing listed at all */
		{ SEMVER("^1"), "1.5.0", "", "1.5.0",
		  "declared tag 1.5.0 is no longer listed by the registry; keeping it", "" },
		/* the user narrowed the range: moving down is allowed */
		{ SEMVER("~1.2"), "1.4.0", "1.2.0 1.2.7 1.3.0 1.4.0", "1.2.7", NULL,
		  "-1.4.0(out of range) -1.3.0(out of range) +1.2.7(chosen) +1.2.0(in range)" },
		/* prereleases: off by default, on with "prerelease": true; rc.9 < rc.10 */
		{ SEMVER("^1.2"), "1.2.0", "1.2.0 1.3.0-rc.1 1.3.0-rc.10 1.3.0-rc.9", "1.2.0", NULL,
		  "-1.3.0-rc.10(prerelease) -1.3.0-rc.9(prerelease) -1.3.0-rc.1(prerelease) "
		  "+1.2.0(current)" },
		{ SEMVER_PRE("^1.2"), "1.2.0", "1.2.0 1.3.0-rc.1 1.3.0-rc.10 1.3.0-rc.9",
		  "1.3.0-rc.10", NULL,
		  "+1.3.0-rc.10(chosen) +1.3.0-rc.9(in range) +1.3.0-rc.1(in range) +1.2.0(in range)" },
		{ SEMVER_PRE("^1.2"), "1.3.0-rc.10", "1.3.0-rc.9 1.3.0-rc.10 1.3.0 2.0.0-rc.1",
		  "1.3.0", NULL,
		  "-2.0.0-rc.1(out of range) +1.3.0(chosen) +1.3.0-rc.10(in range) "
		  "+1.3.0-rc.9(in range)" },
		/* a range naming a prerelease admits that version's prereleases */
		{ SEMVER(">=1.2.3-rc.1 <2"), NULL, "1.2.2 1.2.3-rc.2 1.3.0-rc.1", "1.2.3-rc.2", NULL,
		  "-1.3.0-rc.1(prerelease) +1.2.3-rc.2(chosen) -1.2.2(out of range)" },
		/* a declared prerelease the policy does not accept may move down */
		{ SEMVER("^1.2"), "1.3.0-rc.1", "1.2.5 1.3.0-rc.1", "1.2.5", NULL,
		  "-1.3.0-rc.1(prerelease) +1.2.5(chosen)" },
		/* no candidate qualifies */
		{ SEMVER("^3"), "2.0.0", "1.0.0 2.0.0", NULL, NULL,
		  "-2.0.0(out of range) -1.0.0(out of range)" },
		{ SEMVER("^1"), "latest", "latest stable", NULL, NULL,
		  "-latest(not a semantic version) -stable(not a semantic version)" },
		{ SEMVER("^1"), NULL, "", NULL, NULL, "" },
		/* moving from a non-version tag onto the policy */
		{ SEMVER("^1"), "latest", "latest 1.0.0 1.1.0", "1.1.0", NULL,
		  "+1.1.0(chosen) +1.0.0(in range) -latest(not a semantic version)" },
		/* ties are broken by the tag string */
		{ SEMVER("*"), NULL, "v1.2.3 1.2.3", "1.2.3", NULL,
		  "+1.2.3(chosen) +v1.2.3(in range)" },
		{ SEMVER("*"), NULL, "1.2.3+b 1.2.3+a", "1.2.3+a", NULL,
		  "+1.2.3+a(chosen) +1.2.3+b(in range)" },
		/* an equal version under another spelling is not a change */
		{ SEMVER("*"), "v1.2.3", "1.2.3 v1.2.3", "v1.2.3", NULL,
		  "-1.2.3(same version as current) +v1.2.3(current)" },
		/* duplicates are traced once; non-versions sorted by tag */
		{ SEMVER("^1"), NULL, "zeta 1.0.0 alpha 1.0.0", "1.0.0", NULL,
		  "+1.0.0(chosen) -alpha(not a semantic version) -zeta(not a semantic version)" },
		/* no range at all: any release */
		{ "{\"magos\": {\"policy\": \"semver\"}}", "1.0.0", "2.0.0-beta 1.0.0 1.1.0", "1.1.0",
		  NULL, "-2.0.0-beta(prerelease) +1.1.0(chosen) +1.0.0(in range)" },
		/* a v-prefixed current is compared as a version */
		{ SEMVER("^1"), "v1.4.0", "v1.3.0 v1.4.0 v1.10.0", "v1.10.0", NULL,
		  "+v1.10.0(chosen) +v1.4.0(in range) +v1.3.0(in range)" },
	};

	(void)state;
	for (size_t i = 0; i < N(t); i++)
		run_decide_case(&t[i]);
}

static void test_decide_follow(void **state)
{
	static const struct decide_case t[] = {
		{ "{\"magos\": {\"policy\": \"latest\"}}", NULL, "", "latest", NULL, "" },
		{ "{\"magos\": {\"policy\": \"latest\"}}", "1.25", "", "1.25", NULL, "" },
		{ "{\"magos\": {\"policy\": \"digest\", \"tag\": \"stable\"}}", "1.25", "", "stable",
		  NULL, "" },
		{ "{\"magos\": {\"policy\": \"latest\"}}", "latest", "latest 1.0.0", "latest", NULL,
		  "-1.0.0(not the followed tag) +latest(followed)" },
	};

	(void)state;
	for (size_t i = 0; i < N(t); i++)
		run_decide_case(&t[i]);
}

static void test_decide_errors(void **state)
{
	struct md_candidate one = { .tag = NULL, .created = 0 };
	struct md_candidate *many;
	struct md_decision *d = (struct md_decision *)1;
	struct md_policy *p;
	struct md_err err;

	(void)state;
	assert_int_equal(md_policy_parse(&p, SEMVER("^1"), &err), 0);
	assert_int_equal(md_policy_decide(&d, p, NULL, &one, 1, &err), -1);
	assert_null(d);
	assert_string_equal(err.msg, "candidate 0 has no tag");
	many = calloc(100001, sizeof(*many));
	for (size_t i = 0; i < 100001; i++)
		many[i].tag = "1.0.0";
	assert_int_equal(md_policy_decide(&d, p, NULL, many, 100001, &err), -1);
	assert_string_equal(err.msg,
			    "refusing 100001 candidate tags: at most 100000 are considered");
	/* exactly at the limit is fine (and all duplicates collapse) */
	assert_int_equal(md_policy_decide(&d, p, NULL, many, 100000, &err), 0);
	assert_string_equal(md_decision_tag(d), "1.0.0");
	assert_int_equal(md_decision_trace_count(d), 1);
	md_decision_free(d);
	md_decision_free(NULL);
	free(many);
	assert_int_equal(md_policy_decide(&d, NULL, NULL, NULL, 0, &err), -1);
	md_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_semver_valid),
		cmocka_unit_test(test_semver_invalid),
		cmocka_unit_test(test_semver_spec_chain),
		cmocka_unit_test(test_semver_precedence),
		cmocka_unit_test(test_range_desugar),
		cmocka_unit_test(test_range_match),
		cmocka_unit_test(test_range_invalid),
		cmocka_unit_test(test_range_limits),
		cmocka_unit_test(test_annotation_ok),
		cmocka_unit_test(test_annotation_errors),
		cmocka_unit_test(test_annotation_limits),
		cmocka_unit_test(test_policy_names_and_follow),
		cmocka_unit_test(test_decide_semver),
		cmocka_unit_test(test_decide_follow),
		cmocka_unit_test(test_decide_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

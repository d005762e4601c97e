/* policy: SemVer precedence, ranges, annotations, decisions. Table-driven. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magos/policy.h"
#include "magos/ref.h"
#include "ref_cases.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Case types for the tables in policy_cases.h. */
struct describe_case {
	const char *tag, *want; /* want NULL: not a version */
};
struct order_case {
	const char *a, *b;
	int want;
};
struct host_case {
	const char *machine, *want;
};
struct range_case {
	const char *range, *ver;
	int incl, want;
};
struct field_ok_case {
	const char *in, *name;
	enum md_policy_kind kind;
	int needs_facts;
};
struct field_err_case {
	const char *in, *msg;
};
struct decide_case {
	const char *annotation;
	const char *current;
	const char *tags; /* space-separated */
	const char *want_tag;
	const char *want_warning;
	const char *want_trace;
};
struct desugar_case {
	const char *in, *out;
};
struct rank_case {
	const char *annotation, *current, *tags, *want;
};
struct engine_case {
	const char *annotation, *current, *tags, *host, *want_tag, *want_trace;
};
struct family_case {
	const char *family, *annotation, *current, *tags, *want;
	enum md_decision_status status;
};
struct status_case {
	const char *annotation, *current, *tags;
	enum md_decision_status status;
	const char *want_tag, *problem, *want_trace;
};

#include "policy_cases_base.h"
#include "policy_cases.h"
#include "policy_families.h"

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
	struct md_range *r;
	struct md_err err;

	(void)state;
	for (size_t i = 0; i < N(desugar_cases); i++) {
		char *s;

		if (md_range_parse(&r, desugar_cases[i].in, &err) != 0)
			fail_msg("\"%s\": %s", desugar_cases[i].in, err.msg);
		s = md_range_to_string(r);
		if (strcmp(s, desugar_cases[i].out) != 0)
			fail_msg("\"%s\" gave \"%s\", expected \"%s\"", desugar_cases[i].in, s, desugar_cases[i].out);
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

	(void)state;
	for (size_t i = 0; i < N(range_cases); i++)
		if (range_matches(range_cases[i].range, range_cases[i].ver, range_cases[i].incl) != range_cases[i].want)
			fail_msg("\"%s\" vs %s (include_prerelease=%d): expected %d", range_cases[i].range,
				 range_cases[i].ver, range_cases[i].incl, range_cases[i].want);
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
		{ "||", "||" },
		{ " || ", "||" },
		{ ">=1,", "," },
		{ ",>=1", "," },
		{ ">=1,,<2", "," },
		{ ">=1, ,<2", "," },
		{ "^1 ,|| 2", "," },
		{ ">= ,1", "," },
		{ "1 -,2", "," },
		{ "1 ,- 2", "," },
		{ "1 - ,2", "," },
		{ "*-alpha", "*-alpha" },
		{ "1.2-beta+b", "1.2-beta+b" },
		{ "1.2.3+", "1.2.3+" },
		{ "^1.x+", "^1.x+" },
		{ "1.x.x-", "1.x.x-" },
		{ "1.x.x-a..b", "1.x.x-a..b" },
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
	/* An empty range would allow every major upgrade: a templating slip. */
	assert_int_equal(md_range_parse(&r, "", &err), -1);
	assert_string_equal(err.msg, "invalid range \"\": empty (leave \"range\" out to allow "
				     "any version, or write \"*\")");
	assert_int_equal(md_range_parse(&r, " \t ", &err), -1);
	assert_string_equal(err.msg, "invalid range \" \t \": empty (leave \"range\" out to "
				     "allow any version, or write \"*\")");
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
		{ "{\"magos\": {\"range\": \">=1.2, <2\"}}", MD_POLICY_SEMVER, MD_PIN_DIGEST,
		  ">=1.2, <2", NULL, NULL, 0, 1 },
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
	struct md_policy *p = (struct md_policy *)1;
	struct md_err err;

	(void)state;
	for (size_t i = 0; i < N(annotation_err_cases); i++) {
		if (md_policy_parse(&p, annotation_err_cases[i].in, &err) != -1)
			fail_msg("%s should be rejected", annotation_err_cases[i].in);
		assert_null(p);
		if (strcmp(err.msg, annotation_err_cases[i].msg) != 0)
			fail_msg("%s\n  got:      %s\n  expected: %s", annotation_err_cases[i].in, err.msg, annotation_err_cases[i].msg);
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

/* The annotation's "tag" takes exactly what the ref module's grammar takes. */
static void test_tag_agrees_with_ref(void **state)
{
	(void)state;
	for (size_t i = 0; i < REF_PIECE_CASES; i++) {
		const struct ref_piece_case *c = &ref_piece_cases[i];
		char ann[512];
		struct md_policy *p = NULL;
		struct md_err err;
		int rc;

		snprintf(ann, sizeof(ann), "{\"magos\": {\"policy\": \"digest\", \"tag\": \"%s\"}}",
			 c->s);
		rc = md_policy_parse(&p, ann, &err);
		if ((rc == 0) != md_ref_valid_tag(c->s))
			fail_msg("tag '%s': the policy %s it", c->s, rc == 0 ? "took" : "refused");
		if (rc < 0)
			assert_non_null(strstr(err.msg, "\"tag\" is not a valid tag"));
		md_policy_free(p);
	}
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


static void run_decide_case(const struct decide_case *c)
{
	struct md_candidate cands[32] = { { 0 } };
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


static void test_decide_semver(void **state)
{

	(void)state;
	for (size_t i = 0; i < N(semver_decide_cases); i++)
		run_decide_case(&semver_decide_cases[i]);
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

/* ---- lenient versions, platforms --------------------------------------- */

static void test_lenient_describe(void **state)
{
	char out[128];

	(void)state;
	for (size_t i = 0; i < N(describe_cases); i++) {
		const struct describe_case *c = &describe_cases[i];
		int rc = md_tag_version_describe(c->tag, out, sizeof(out));

		if (!c->want && rc != -1)
			fail_msg("\"%s\" should not read as a version, got \"%s\"", c->tag, out);
		if (c->want && (rc != 0 || strcmp(out, c->want) != 0))
			fail_msg("\"%s\": got \"%s\" (rc %d), expected \"%s\"", c->tag,
				 rc ? "" : out, rc, c->want);
	}
	assert_int_equal(md_tag_version_describe(NULL, out, sizeof(out)), -1);
}

static void test_lenient_order(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(order_cases); i++) {
		const struct order_case *c = &order_cases[i];
		int ab = 5, ba = 5;
		int ra = md_tag_version_cmp(c->a, c->b, &ab), rb = md_tag_version_cmp(c->b, c->a, &ba);

		if (c->want == 9) {
			if (ra != -1 || rb != -1)
				fail_msg("%s vs %s should not compare", c->a, c->b);
			continue;
		}
		ab = ab < 0 ? -1 : ab > 0;
		ba = ba < 0 ? -1 : ba > 0;
		if (ra || rb || ab != c->want || ba != -c->want)
			fail_msg("%s vs %s: got %d/%d, expected %d", c->a, c->b, ab, ba, c->want);
	}
}

static void test_host_platform(void **state)
{
	char out[32], tiny[4];

	(void)state;
	for (size_t i = 0; i < N(host_cases); i++) {
		const struct host_case *c = &host_cases[i];
		int rc = md_policy_host_platform(c->machine, out, sizeof(out));

		if (c->want) {
			if (rc != 0)
				fail_msg("%s: not mapped", c->machine);
			assert_string_equal(out, c->want);
		} else if (rc != -1 || out[0]) {
			fail_msg("%s: mapped to \"%s\"", c->machine, out);
		}
	}
	assert_int_equal(md_policy_host_platform(NULL, out, sizeof(out)), -1);
	assert_int_equal(md_policy_host_platform("x86_64", tiny, sizeof(tiny)), -1);
	assert_int_equal(md_policy_host_platform("x86_64", NULL, 0), -1);
}

static void test_range_node_fixtures(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(node_range_cases); i++) {
		const struct range_case *c = &node_range_cases[i];

		if (range_matches(c->range, c->ver, c->incl) != c->want)
			fail_msg("\"%s\" vs %s (include_prerelease=%d): expected %d", c->range,
				 c->ver, c->incl, c->want);
	}
}

/* ---- the new annotation fields ------------------------------------------ */

static void test_fields_ok(void **state)
{
	struct md_policy *p;
	struct md_err err;

	(void)state;
	for (size_t i = 0; i < N(field_ok_cases); i++) {
		const struct field_ok_case *c = &field_ok_cases[i];

		if (md_policy_parse(&p, c->in, &err) != 0)
			fail_msg("%s: %s", c->in, err.msg);
		assert_string_equal(md_policy_name(p), c->name);
		assert_int_equal(md_policy_kind(p), c->kind);
		if (md_policy_needs_facts(p) != c->needs_facts)
			fail_msg("%s: needs_facts should be %d", c->in, c->needs_facts);
		md_policy_free(p);
	}
	assert_int_equal(md_policy_needs_facts(NULL), 0);
}

static void test_fields_errors(void **state)
{
	struct md_policy *p = (struct md_policy *)1;
	struct md_err err;
	char big[1200];

	(void)state;
	for (size_t i = 0; i < N(field_err_cases); i++) {
		const struct field_err_case *c = &field_err_cases[i];

		if (md_policy_parse(&p, c->in, &err) != -1)
			fail_msg("%s should be rejected", c->in);
		assert_null(p);
		if (strcmp(err.msg, c->msg) != 0)
			fail_msg("%s\n  got:      %s\n  expected: %s", c->in, err.msg, c->msg);
	}
	/* patterns are capped */
	snprintf(big, sizeof(big), "{\"magos\": {\"policy\": \"semver\", \"filter\": \"%01025d\"}}",
		 0);
	assert_int_equal(md_policy_parse(&p, big, &err), -1);
	assert_string_equal(err.msg, "\"filter\" is longer than 1024 characters");
}

/* ---- decisions with facts ------------------------------------------------ */

static int64_t age_of(const char *s)
{
	int64_t secs;
	struct md_err err;

	if (strcmp(s, "-") == 0)
		return 0;
	if (md_duration_parse(s, &secs, &err) < 0)
		fail_msg("bad age %s in a case", s);
	return NOW - secs;
}

/* "tag|age|platforms[|first-seen]" into c; platform strings into plats. */
static void parse_cand(char *spec, struct md_candidate *c, const char **plats, size_t *np)
{
	char *f[4] = { spec, NULL, NULL, NULL }, *save = NULL;
	size_t nf = 1;

	for (char *bar = strchr(spec, '|'); bar && nf < 4; bar = strchr(bar + 1, '|')) {
		*bar = '\0';
		f[nf++] = bar + 1;
	}
	memset(c, 0, sizeof(*c));
	c->tag = f[0];
	if (nf == 1)
		return;
	c->facts = 1;
	c->created = age_of(f[1]);
	if (nf > 3)
		c->first_seen = age_of(f[3]);
	if (strcmp(f[2], "-") == 0)
		return;
	c->platforms = plats + *np;
	for (char *t = strtok_r(f[2], ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		plats[(*np)++] = t;
		c->nplatforms++;
	}
}

static int listed(const char *tags, const char *tag)
{
	size_t n = strlen(tag);

	for (const char *p = strstr(tags, tag); p; p = strstr(p + 1, tag))
		if ((p == tags || p[-1] == ' ') && (p[n] == ' ' || p[n] == '|' || p[n] == '\0'))
			return 1;
	return 0;
}

static void run_engine_case(const struct engine_case *c)
{
	struct md_candidate cands[16];
	const char *plats[64];
	struct md_decide_ctx ctx = { NOW, c->host ? c->host : "linux/amd64" };
	char buf[1024], trace[2048], want_warn[256], *save = NULL;
	struct md_decision *d;
	struct md_policy *p;
	struct md_err err;
	size_t n = 0, np = 0;

	if (md_policy_parse(&p, c->annotation, &err) != 0)
		fail_msg("%s: %s", c->annotation, err.msg);
	snprintf(buf, sizeof(buf), "%s", c->tags);
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
		parse_cand(t, &cands[n++], plats, &np);
	if (md_policy_decide_ctx(&d, p, c->current, cands, n, &ctx, &err) != 0)
		fail_msg("%s / %s: %s", c->annotation, c->tags, err.msg);
	memset(buf, 'Z', sizeof(buf) - 1);
	if (c->want_tag && (!md_decision_tag(d) || strcmp(md_decision_tag(d), c->want_tag)))
		fail_msg("%s / %s: decided %s, expected %s", c->annotation, c->tags,
			 md_decision_tag(d) ? md_decision_tag(d) : "nothing", c->want_tag);
	if (!c->want_tag && md_decision_tag(d))
		fail_msg("%s / %s: expected no tag, got %s", c->annotation, c->tags,
			 md_decision_tag(d));
	trace_string(d, trace, sizeof(trace));
	if (strcmp(trace, c->want_trace) != 0)
		fail_msg("%s / %s\n  trace:    %s\n  expected: %s", c->annotation, c->tags, trace,
			 c->want_trace);
	/* Keeping a declared tag the registry no longer lists always warns. */
	if (c->current && c->want_tag && !strcmp(c->want_tag, c->current) &&
	    !listed(c->tags, c->current)) {
		snprintf(want_warn, sizeof(want_warn),
			 "declared tag %s is no longer listed by the registry; keeping it",
			 c->current);
		assert_non_null(md_decision_warning(d));
		assert_string_equal(md_decision_warning(d), want_warn);
	} else if (md_decision_warning(d)) {
		fail_msg("%s / %s: unexpected warning %s", c->annotation, c->tags,
			 md_decision_warning(d));
	}
	md_decision_free(d);
	md_policy_free(p);
}

static void test_decide_engine(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(engine_cases); i++)
		run_engine_case(&engine_cases[i]);
}

/* The watcher's lookup order: survivors of the fact-free stages, best
 * first; the gates are not applied. */
static void test_rank(void **state)
{
	struct md_candidate cands[8];
	char buf[256], got[256], *save = NULL;
	struct md_policy *p;
	struct md_err err;

	(void)state;
	for (size_t i = 0; i < N(rank_cases); i++) {
		struct md_strv out = { 0 };
		size_t n = 0, off = 0;

		assert_int_equal(md_policy_parse(&p, rank_cases[i].annotation, &err), 0);
		snprintf(buf, sizeof(buf), "%s", rank_cases[i].tags);
		memset(cands, 0, sizeof(cands));
		for (char *s = strtok_r(buf, " ", &save); s; s = strtok_r(NULL, " ", &save))
			cands[n++].tag = s;
		if (md_policy_rank(&out, p, rank_cases[i].current, cands, n, &err) != 0)
			fail_msg("%s: %s", rank_cases[i].annotation, err.msg);
		got[0] = '\0';
		for (size_t k = 0; k < out.n; k++)
			off += (size_t)snprintf(got + off, sizeof(got) - off, "%s%s", k ? " " : "",
						out.v[k]);
		if (strcmp(got, rank_cases[i].want) != 0)
			fail_msg("%s / %s: ranked \"%s\", expected \"%s\"", rank_cases[i].annotation,
				 rank_cases[i].tags, got, rank_cases[i].want);
		md_strv_clear(&out);
		md_policy_free(p);
	}
	assert_int_equal(md_policy_rank(NULL, NULL, NULL, NULL, 0, &err), -1);
}

/* ---- outcomes, real image families ---------------------------------------- */

#define UNREADABLE_MSG(tag)                                                              \
	"declared tag \"" tag "\" does not read as a version, so its shape (scheme, parts, " \
	"flavour) is unknown and no tag may replace it; declare a version tag such as 1.2.3 " \
	"or 1.2.3-alpine, or use \"policy\": \"latest\""

static const struct status_case status_cases[] = {
	{ SV("*"), "10.10.3ubu2404-ls48", "10.10.3ubu2404-ls48 10.10.4 latest",
	  MD_DECISION_UNREADABLE, NULL, UNREADABLE_MSG("10.10.3ubu2404-ls48"),
	  "-10.10.4(declared tag is not a version) -10.10.3ubu2404-ls48(not a semantic version) "
	  "-latest(not a semantic version)" },
	/* not listed either: still reported, not kept with a warning */
	{ SV("^1"), "stable", "1.0.0 1.1.0-alpine", MD_DECISION_UNREADABLE, NULL,
	  UNREADABLE_MSG("stable"),
	  "-1.1.0-alpine(declared tag is not a version) -1.0.0(declared tag is not a version)" },
	{ ANN("\"filter\": \"^app-(?<v>.+)$\", \"extract\": \"v\", \"range\": \"^1\""),
	  "lib-1.0.0", "app-1.2.0 lib-1.0.0", MD_DECISION_UNREADABLE, NULL,
	  "declared tag \"lib-1.0.0\" does not match \"filter\", so \"extract\" reads no "
	  "version from it and its shape is unknown; no tag may replace it",
	  "-app-1.2.0(declared tag is not a version) -lib-1.0.0(filtered)" },
	{ SV("^1"), "latest", "1.0.0 latest", MD_DECISION_TAG, "1.0.0", NULL,
	  "+1.0.0(chosen) -latest(not a semantic version)" },
	{ SV("^1"), NULL, "1.0.0", MD_DECISION_TAG, "1.0.0", NULL, "+1.0.0(chosen)" },
	{ SV("^1"), "1.0.0", "1.0.0", MD_DECISION_TAG, "1.0.0", NULL, "+1.0.0(current)" },
	{ SV("^3"), "2.0.0", "1.0.0 2.0.0", MD_DECISION_NONE, NULL, NULL,
	  "-2.0.0(out of range) -1.0.0(out of range)" },
	/* the shape rule is semver's: other orders have no shape */
	{ ANN("\"policy\": \"numerical\""), "old-5", "3 4", MD_DECISION_TAG, "4", NULL,
	  "+4(chosen) +3(in range)" },
	{ ANN("\"policy\": \"alphabetical\""), "zz", "a", MD_DECISION_TAG, "zz", NULL,
	  "-a(lower than current)" },
	{ ANN("\"policy\": \"latest\""), "stable", "", MD_DECISION_TAG, "stable", NULL, "" },
};

static void test_decide_status(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(status_cases); i++) {
		const struct status_case *c = &status_cases[i];
		struct md_candidate cands[16];
		char buf[512], trace[1024], *save = NULL;
		struct md_decision *d;
		struct md_policy *p;
		struct md_err err;
		size_t n = 0;

		memset(cands, 0, sizeof(cands));
		snprintf(buf, sizeof(buf), "%s", c->tags);
		for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
			cands[n++].tag = t;
		if (md_policy_parse(&p, c->annotation, &err) != 0)
			fail_msg("%s: %s", c->annotation, err.msg);
		if (md_policy_decide(&d, p, c->current, cands, n, &err) != 0)
			fail_msg("%s: %s", c->annotation, err.msg);
		if (md_decision_status(d) != c->status)
			fail_msg("%s / %s: status %d, expected %d", c->annotation, c->tags,
				 (int)md_decision_status(d), (int)c->status);
		if (c->want_tag)
			assert_string_equal(md_decision_tag(d), c->want_tag);
		else
			assert_null(md_decision_tag(d));
		if (c->problem)
			assert_string_equal(md_decision_problem(d), c->problem);
		else
			assert_null(md_decision_problem(d));
		/* A reported site is never also "kept with a warning". */
		if (c->status == MD_DECISION_UNREADABLE)
			assert_null(md_decision_warning(d));
		trace_string(d, trace, sizeof(trace));
		if (strcmp(trace, c->want_trace) != 0)
			fail_msg("%s / %s\n  trace:    %s\n  expected: %s", c->annotation, c->tags,
				 trace, c->want_trace);
		md_decision_free(d);
		md_policy_free(p);
	}
}

/* Decide one family case with the tags in the given order (1 reversed). */
static void decide_family(const struct family_case *c, int reversed)
{
	struct md_candidate cands[64];
	char buf[1024], *save = NULL, *tags[64];
	struct md_decision *d;
	struct md_policy *p;
	struct md_err err;
	size_t n = 0;
	const char *got;

	snprintf(buf, sizeof(buf), "%s", c->tags);
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		assert_true(n < N(tags));
		tags[n++] = t;
	}
	memset(cands, 0, sizeof(cands));
	for (size_t i = 0; i < n; i++)
		cands[i].tag = tags[reversed ? n - 1 - i : i];
	if (md_policy_parse(&p, c->annotation, &err) != 0)
		fail_msg("%s: %s", c->annotation, err.msg);
	if (md_policy_decide(&d, p, c->current, cands, n, &err) != 0)
		fail_msg("%s: %s", c->family, err.msg);
	got = md_decision_tag(d);
	if ((c->want == NULL) != (got == NULL) || (got && strcmp(got, c->want) != 0) ||
	    md_decision_status(d) != c->status)
		fail_msg("%s %s from %s: decided %s (status %d), expected %s (status %d)", c->family,
			 c->annotation, c->current, got ? got : "nothing", (int)md_decision_status(d),
			 c->want ? c->want : "nothing", (int)c->status);
	md_decision_free(d);
	md_policy_free(p);
}

static void test_families(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(family_cases); i++) {
		decide_family(&family_cases[i], 0);
		decide_family(&family_cases[i], 1);
	}
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
		cmocka_unit_test(test_lenient_describe),
		cmocka_unit_test(test_lenient_order),
		cmocka_unit_test(test_host_platform),
		cmocka_unit_test(test_range_node_fixtures),
		cmocka_unit_test(test_fields_ok),
		cmocka_unit_test(test_fields_errors),
		cmocka_unit_test(test_decide_engine),
		cmocka_unit_test(test_rank),
		cmocka_unit_test(test_tag_agrees_with_ref),
		cmocka_unit_test(test_decide_status),
		cmocka_unit_test(test_families),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

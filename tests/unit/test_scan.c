/* scan: Trivy's JSON reports (its own, from ../shared/fixtures/trivy/, and
 * broken ones), requirements, comparisons and the text they produce.
 * Table-driven (scan_cases.h). The runner is in test_scan_run.c. */
#include "unit.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magos/scan.h"
#include "../../internal/scan/scan_int.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define FIXTURES "../shared/fixtures/trivy/"

struct fixture_case {
	const char *file;
	size_t findings;
	unsigned all[MD_SEV_COUNT], fixable[MD_SEV_COUNT];
	const char *artifact;
};
struct crosscheck_case {
	const char *full, *filtered_by_trivy;
	enum md_severity min;
};
struct judge_case {
	const char *candidate, *declared;
	enum md_severity threshold;
	int ignore_unfixed;
	const char *ignore; /* space-separated */
	int compare;
	enum md_scan_verdict want;
	const char *want_reason; /* NULL: not checked */
};
struct diff_case {
	const char *declared, *candidate;
	int ignore_unfixed;
	const char *ignore;
	size_t top_n;
	const char *want_summary, *want_details;
};
struct artifact_case {
	const char *name_in_report; /* NULL: no ArtifactName */
	const char *repo_digests;   /* space-separated, NULL: none */
	const char *type;           /* ArtifactType, NULL: none */
	const char *name, *digest;
	int want;
};
struct bad_case {
	const char *json, *msg;
};

#include "scan_cases.h"

static struct md_scan_report *load(const char *file)
{
	char path[256], *data = NULL;
	size_t len = 0;
	struct md_scan_report *r = NULL;
	struct md_err err;

	snprintf(path, sizeof(path), FIXTURES "%s", file);
	if (md_file_read(path, 1 << 20, &data, &len, &err) < 0)
		fail_msg("%s (the shared fixtures are read in place; see docs/testing.md)", err.msg);
	if (md_scan_report_parse(&r, data, len, &err) != MD_SCAN_OK)
		fail_msg("%s: %s", file, err.msg);
	free(data);
	return r;
}

static void counts_equal(const char *what, const struct md_scan_counts *c, const unsigned *want)
{
	for (int s = 0; s < MD_SEV_COUNT; s++)
		if (c->n[s] != want[s])
			fail_msg("%s: %u %s findings, expected %u", what, c->n[s],
				 md_scan_severity_name((enum md_severity)s), want[s]);
}

/* ---- severities -------------------------------------------------------------------------- */

static void test_severity_names(void **state)
{
	static const char *names[] = { "UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL" };
	enum md_severity s;

	(void)state;
	for (int i = 0; i < MD_SEV_COUNT; i++) {
		assert_string_equal(md_scan_severity_name((enum md_severity)i), names[i]);
		assert_int_equal(md_scan_severity_parse(names[i], &s), 0);
		assert_int_equal(s, i);
	}
	assert_int_equal(md_scan_severity_parse("high", &s), 0);
	assert_int_equal(s, MD_SEV_HIGH);
	assert_int_equal(md_scan_severity_parse("Critical", &s), 0);
	assert_int_equal(s, MD_SEV_CRITICAL);
	assert_int_equal(md_scan_severity_parse("SEVERE", &s), -1);
	assert_int_equal(md_scan_severity_parse("", &s), -1);
	assert_int_equal(md_scan_severity_parse(NULL, &s), -1);
	assert_int_equal(md_scan_severity_parse("HIGH ", &s), -1);
}

static void test_counts_format(void **state)
{
	struct md_scan_counts c = { { 0 } };
	struct md_buf b;

	(void)state;
	md_buf_init(&b, 256);
	assert_int_equal(md_scan_counts_format(&c, &b), 0);
	assert_string_equal(b.data, "none");
	c.n[MD_SEV_MEDIUM] = 4;
	c.n[MD_SEV_CRITICAL] = 1;
	c.n[MD_SEV_UNKNOWN] = 2;
	md_buf_reset(&b);
	assert_int_equal(md_scan_counts_format(&c, &b), 0);
	assert_string_equal(b.data, "1 CRITICAL, 4 MEDIUM, 2 UNKNOWN");
	assert_int_equal(md_scan_counts_at_least(&c, MD_SEV_HIGH), 1);
	assert_int_equal(md_scan_counts_at_least(&c, MD_SEV_LOW), 5);
	assert_int_equal(md_scan_counts_at_least(&c, MD_SEV_UNKNOWN), 7);
	md_buf_clear(&b);
}

/* ---- Trivy's own reports ------------------------------------------------------------------ */

static void test_fixture_counts(void **state)
{
	struct md_scan_req unfixed = { MD_SEV_UNKNOWN, 1, NULL, 0 };
	struct md_scan_counts c;

	(void)state;
	for (size_t i = 0; i < N(fixture_cases); i++) {
		const struct fixture_case *t = &fixture_cases[i];
		struct md_scan_report *r = load(t->file);
		char what[128];

		if (md_scan_report_count(r) != t->findings)
			fail_msg("%s: %zu findings, expected %zu", t->file, md_scan_report_count(r),
				 t->findings);
		assert_string_equal(md_scan_report_artifact(r), t->artifact);
		md_scan_count(r, NULL, &c);
		counts_equal(t->file, &c, t->all);
		snprintf(what, sizeof(what), "%s with ignoreUnfixed", t->file);
		md_scan_count(r, &unfixed, &c);
		counts_equal(what, &c, t->fixable);
		md_scan_report_free(r);
	}
}

/* The gate's filters on a full report agree with Trivy's own filtering. */
static void test_fixture_crosscheck(void **state)
{
	struct md_scan_req unfixed = { MD_SEV_UNKNOWN, 1, NULL, 0 };

	(void)state;
	for (size_t i = 0; i < N(crosscheck_cases); i++) {
		const struct crosscheck_case *t = &crosscheck_cases[i];
		struct md_scan_report *full = load(t->full), *filtered = load(t->filtered_by_trivy);
		struct md_scan_counts a, b;

		md_scan_count(full, &unfixed, &a);
		md_scan_count(filtered, NULL, &b);
		for (int s = 0; s < (int)t->min; s++)
			a.n[s] = 0;
		counts_equal(t->full, &a, b.n);
		md_scan_report_free(full);
		md_scan_report_free(filtered);
	}
}

static void test_fixture_findings(void **state)
{
	struct md_scan_report *r = load("debian-buster.json.golden");
	const struct md_scan_finding *f;

	(void)state;
	assert_int_equal(md_scan_report_count(r), 2);
	f = md_scan_report_at(r, 0);
	assert_string_equal(f->id, "CVE-2019-18224");
	assert_string_equal(f->pkg, "libidn2-0");
	assert_string_equal(f->installed, "2.0.5-1");
	assert_string_equal(f->fixed, "2.0.5-1+deb10u1");
	assert_string_equal(f->status, "fixed");
	assert_int_equal(f->severity, MD_SEV_CRITICAL);
	assert_true(f->fixable);
	f = md_scan_report_at(r, 1);
	assert_string_equal(f->id, "CVE-2019-18276");
	assert_string_equal(f->pkg, "bash");
	assert_string_equal(f->fixed, "");
	assert_string_equal(f->status, "affected");
	assert_int_equal(f->severity, MD_SEV_LOW);
	assert_false(f->fixable);
	assert_null(md_scan_report_at(r, 2));
	md_scan_report_free(r);
	md_scan_report_free(NULL);
}

/* ---- the requirement ------------------------------------------------------------------------ */

static void test_judge(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(judge_cases); i++) {
		const struct judge_case *t = &judge_cases[i];
		struct md_strv ignore = { 0 };
		struct md_scan_req q = { t->threshold, t->ignore_unfixed, &ignore, t->compare };
		struct md_scan_report *cand = load(t->candidate);
		struct md_scan_report *decl = t->declared ? load(t->declared) : NULL;
		struct md_scan_judgement j;

		if (t->ignore)
			assert_int_equal(md_strv_split(&ignore, t->ignore, " "), 0);
		if (md_scan_judge(&q, cand, decl, &j) != t->want || j.verdict != t->want)
			fail_msg("case %zu (%s): verdict %d, expected %d: %s", i, t->candidate,
				 j.verdict, t->want, j.reason);
		if (t->want_reason && strcmp(j.reason, t->want_reason) != 0)
			fail_msg("case %zu: reason\n  %s\nexpected\n  %s", i, j.reason, t->want_reason);
		assert_int_equal(j.has_declared, decl != NULL);
		assert_int_equal(j.at_threshold, md_scan_counts_at_least(&j.candidate, t->threshold));
		md_strv_clear(&ignore);
		md_scan_report_free(cand);
		md_scan_report_free(decl);
	}
}

/* ---- comparisons ------------------------------------------------------------------------------ */

static void test_diff(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(diff_cases); i++) {
		const struct diff_case *t = &diff_cases[i];
		struct md_strv ignore = { 0 };
		struct md_scan_req q = { MD_SEV_CRITICAL, t->ignore_unfixed, &ignore, 0 };
		struct md_scan_report *decl = load(t->declared), *cand = load(t->candidate);
		struct md_scan_diff *d = NULL;
		struct md_err err;
		struct md_buf b;

		if (t->ignore)
			assert_int_equal(md_strv_split(&ignore, t->ignore, " "), 0);
		assert_int_equal(md_scan_diff(&d, decl, cand, &q, &err), MD_SCAN_OK);
		md_buf_init(&b, 4096);
		assert_int_equal(md_scan_diff_summary(d, t->top_n, &b), 0);
		if (strcmp(b.data, t->want_summary) != 0)
			fail_msg("case %zu: summary\n%s\nexpected\n%s", i, b.data, t->want_summary);
		md_buf_reset(&b);
		assert_int_equal(md_scan_diff_details(d, t->top_n, &b), 0);
		if (t->want_details && strcmp(b.data, t->want_details) != 0)
			fail_msg("case %zu: details\n%s\nexpected\n%s", i, b.data, t->want_details);
		md_buf_clear(&b);
		md_scan_diff_free(d);
		md_strv_clear(&ignore);
		md_scan_report_free(decl);
		md_scan_report_free(cand);
	}
}

static void test_diff_entries(void **state)
{
	struct md_scan_report *decl = load("alpine-39.json.golden");
	struct md_scan_report *cand = load("alpine-310.json.golden");
	const struct md_scan_change *c;
	struct md_scan_diff *d;
	struct md_err err;

	(void)state;
	assert_int_equal(md_scan_diff(&d, decl, cand, NULL, &err), MD_SCAN_OK);
	/* the diff owns its strings: the reports may go first */
	md_scan_report_free(decl);
	md_scan_report_free(cand);
	assert_int_equal(md_scan_diff_fixed_count(d), 1);
	assert_int_equal(md_scan_diff_introduced_count(d), 0);
	c = md_scan_diff_fixed_at(d, 0);
	assert_string_equal(c->id, "CVE-2019-14697");
	assert_int_equal(c->severity, MD_SEV_CRITICAL);
	assert_string_equal(c->pkg, "musl");
	assert_string_equal(c->installed, "1.1.20-r4");
	assert_string_equal(c->fixed, "1.1.20-r5");
	assert_int_equal(c->npkgs, 2);
	assert_null(md_scan_diff_fixed_at(d, 1));
	assert_null(md_scan_diff_introduced_at(d, 0));
	md_scan_diff_free(d);
	md_scan_diff_free(NULL);
}

/* Report text is outside input: what reaches a commit message is bounded
 * and reduced to a safe set. */
static void test_diff_text_is_safe(void **state)
{
	static const char hostile[] =
		"{\"Results\": [{\"Vulnerabilities\": ["
		"{\"VulnerabilityID\": \"CVE-1\\n\\nSigned-off-by: x\", \"PkgName\": \"p`rm -rf`\","
		" \"InstalledVersion\": \"[a](http://evil)\", \"FixedVersion\": \"<img src=x>\","
		" \"Severity\": \"HIGH\"},"
		"{\"VulnerabilityID\": \"CVE-2-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
		" \"Severity\": \"LOW\"}]}]}";
	struct md_scan_report *r, *empty;
	struct md_scan_diff *d;
	struct md_err err;
	struct md_buf b;

	(void)state;
	assert_int_equal(md_scan_report_parse(&r, hostile, strlen(hostile), &err), MD_SCAN_OK);
	assert_int_equal(md_scan_report_parse(&empty, "{}", 2, &err), MD_SCAN_OK);
	assert_int_equal(md_scan_diff(&d, empty, r, NULL, &err), MD_SCAN_OK);
	md_buf_init(&b, 4096);
	assert_int_equal(md_scan_diff_summary(d, 5, &b), 0);
	assert_string_equal(b.data, "fixes: none\n"
				    "introduces: CVE-1??Signed-off-by: x, "
				    "CVE-2-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA... (1 HIGH, 1 LOW)\n");
	md_buf_reset(&b);
	assert_int_equal(md_scan_diff_details(d, 5, &b), 0);
	assert_string_equal(b.data,
			    "fixes: none\n"
			    "introduces:\n"
			    "- CVE-1??Signed-off-by: x (HIGH) p?rm -rf? ?a??http://evil?, fixed in "
			    "<img src=x>\n"
			    "- CVE-2-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA... (LOW), no fix yet\n");
	/* a bounded buffer that is too small is an error, not a cut line */
	md_buf_clear(&b);
	md_buf_init(&b, 16);
	assert_int_equal(md_scan_diff_summary(d, 5, &b), -1);
	md_buf_clear(&b);
	md_scan_diff_free(d);
	md_scan_report_free(r);
	md_scan_report_free(empty);
}

/* ---- small reports the parser must read --------------------------------------------------------- */

static void test_parse_minimal(void **state)
{
	static const char dup[] =
		"{\"Results\": ["
		"{\"Class\": \"lang-pkgs\", \"Vulnerabilities\": [{\"VulnerabilityID\": \"GHSA-1\","
		" \"PkgName\": \"lib\", \"InstalledVersion\": \"1\", \"Severity\": \"LOW\"}]},"
		"{\"Class\": \"lang-pkgs\", \"Vulnerabilities\": [{\"VulnerabilityID\": \"GHSA-1\","
		" \"PkgName\": \"lib\", \"InstalledVersion\": \"1\", \"Severity\": \"HIGH\","
		" \"FixedVersion\": \"2\"}]},"
		"{\"Vulnerabilities\": [{\"VulnerabilityID\": \"GHSA-1\", \"PkgName\": \"lib\","
		" \"InstalledVersion\": \"1.5\"}]}]}";
	static const char *clean[] = {
		"{}",
		"{\"SchemaVersion\": 2, \"ArtifactName\": \"x@" D1 "\", \"Results\": null}",
		"{\"SchemaVersion\": 2, \"Results\": []}",
		"{\"SchemaVersion\": null, \"Metadata\": null, \"Results\": [{\"Target\": \"t\"}]}",
		"{\"Results\": [{\"Target\": \"t\", \"Class\": \"os-pkgs\", \"Vulnerabilities\": null,"
		" \"Packages\": [{\"Name\": \"musl\"}]}], \"Unknown\": {\"x\": [1]}}",
	};
	struct md_scan_report *r;
	const struct md_scan_finding *f;
	struct md_err err;

	(void)state;
	for (size_t i = 0; i < N(clean); i++) {
		if (md_scan_report_parse(&r, clean[i], strlen(clean[i]), &err) != MD_SCAN_OK)
			fail_msg("%s: %s", clean[i], err.msg);
		assert_int_equal(md_scan_report_count(r), 0);
		md_scan_report_free(r);
	}
	/* one finding per (ID, package, installed version): the higher
	 * severity and any fix win */
	assert_int_equal(md_scan_report_parse(&r, dup, strlen(dup), &err), MD_SCAN_OK);
	assert_int_equal(md_scan_report_count(r), 2);
	f = md_scan_report_at(r, 0);
	assert_string_equal(f->installed, "1");
	assert_int_equal(f->severity, MD_SEV_HIGH);
	assert_true(f->fixable);
	f = md_scan_report_at(r, 1);
	assert_string_equal(f->installed, "1.5");
	assert_int_equal(f->severity, MD_SEV_UNKNOWN); /* no Severity */
	assert_false(f->fixable);
	assert_string_equal(f->status, "");
	md_scan_report_free(r);
}

/* Status decides whether a fix exists; FixedVersion only without Status. */
static void test_parse_fixable(void **state)
{
	static const struct {
		const char *vuln;
		int fixable;
	} t[] = {
		{ "{\"Status\": \"fixed\", \"FixedVersion\": \"2\"}", 1 },
		{ "{\"Status\": \"fixed\"}", 1 },
		{ "{\"Status\": \"affected\", \"FixedVersion\": \"2\"}", 0 },
		{ "{\"Status\": \"will_not_fix\"}", 0 },
		{ "{\"Status\": \"end_of_life\"}", 0 },
		{ "{\"FixedVersion\": \"2\"}", 1 },
		{ "{\"FixedVersion\": \"\"}", 0 },
		{ "{}", 0 },
	};

	(void)state;
	for (size_t i = 0; i < N(t); i++) {
		char json[256];
		struct md_scan_report *r;
		struct md_err err;

		snprintf(json, sizeof(json), "{\"Results\": [{\"Vulnerabilities\": [%s]}]}", t[i].vuln);
		assert_int_equal(md_scan_report_parse(&r, json, strlen(json), &err), MD_SCAN_OK);
		if (md_scan_report_at(r, 0)->fixable != t[i].fixable)
			fail_msg("%s: fixable %d, expected %d", t[i].vuln,
				 md_scan_report_at(r, 0)->fixable, t[i].fixable);
		md_scan_report_free(r);
	}
}

static void test_parse_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(bad_cases); i++) {
		const struct bad_case *t = &bad_cases[i];
		struct md_scan_report *r = (struct md_scan_report *)1;
		struct md_err err;

		err.msg[0] = '\0';
		if (md_scan_report_parse(&r, t->json, strlen(t->json), &err) != MD_SCAN_INVALID)
			fail_msg("%s: accepted", t->json);
		assert_null(r);
		if (!strstr(err.msg, t->msg))
			fail_msg("%s: message \"%s\", expected \"%s\"", t->json, err.msg, t->msg);
		for (const char *p = err.msg; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
				fail_msg("%s: control character in \"%s\"", t->json, err.msg);
	}
}

/* Long strings are cut, not refused: the gate needs none of that length. */
static void test_parse_long_strings(void **state)
{
	char json[2048], id[600];
	struct md_scan_report *r;
	struct md_err err;

	(void)state;
	memset(id, 'A', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	snprintf(json, sizeof(json),
		 "{\"Results\": [{\"Vulnerabilities\": [{\"VulnerabilityID\": \"%s\"}]}]}", id);
	assert_int_equal(md_scan_report_parse(&r, json, strlen(json), &err), MD_SCAN_OK);
	assert_int_equal(strlen(md_scan_report_at(r, 0)->id), MD_SCAN__STR_MAX);
	md_scan_report_free(r);
}

/* ---- saving for a cache ----------------------------------------------------------------------- */

static void same_report(const struct md_scan_report *a, const struct md_scan_report *b,
			const char *what)
{
	if (md_scan_report_count(a) != md_scan_report_count(b))
		fail_msg("%s: %zu findings read back as %zu", what, md_scan_report_count(a),
			 md_scan_report_count(b));
	assert_string_equal(md_scan_report_artifact(a), md_scan_report_artifact(b));
	for (size_t i = 0; i < md_scan_report_count(a); i++) {
		const struct md_scan_finding *x = md_scan_report_at(a, i), *y = md_scan_report_at(b, i);

		if (strcmp(x->id, y->id) || strcmp(x->pkg, y->pkg) ||
		    strcmp(x->installed, y->installed) || strcmp(x->fixed, y->fixed) ||
		    strcmp(x->status, y->status) || x->severity != y->severity ||
		    x->fixable != y->fixable)
			fail_msg("%s: finding %zu (%s) differs after saving", what, i, x->id);
	}
}

static void save_and_reload(const struct md_scan_report *r, const char *what)
{
	struct md_scan_report *back = NULL;
	struct md_err err;
	struct md_buf b;

	md_buf_init(&b, 1 << 20);
	assert_int_equal(md_scan_report_save(r, &b), 0);
	if (md_scan_report_parse(&back, b.data, b.len, &err) != MD_SCAN_OK)
		fail_msg("%s: saved report does not parse: %s", what, err.msg);
	same_report(r, back, what);
	md_scan_report_free(back);
	md_buf_clear(&b);
}

static void test_save(void **state)
{
	/* merged rows keep the fix they know of; a long multibyte string is
	 * cut between characters */
	static const char merged[] =
		"{\"ArtifactName\": \"ghcr.io/acme/app@" D1 "\", \"Results\": ["
		"{\"Vulnerabilities\": [{\"VulnerabilityID\": \"CVE-1\", \"PkgName\": \"p\","
		" \"InstalledVersion\": \"1\", \"Status\": \"affected\", \"Severity\": \"LOW\"},"
		"{\"VulnerabilityID\": \"CVE-1\", \"PkgName\": \"p\", \"InstalledVersion\": \"1\","
		" \"Status\": \"fixed\", \"FixedVersion\": \"2\", \"Severity\": \"HIGH\"}]}]}";
	char json[4096], id[1024];
	struct md_scan_report *r;
	struct md_err err;
	struct md_buf small;
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < N(fixture_cases); i++) {
		r = load(fixture_cases[i].file);
		save_and_reload(r, fixture_cases[i].file);
		md_scan_report_free(r);
	}
	assert_int_equal(md_scan_report_parse(&r, merged, strlen(merged), &err), MD_SCAN_OK);
	assert_int_equal(md_scan_report_count(r), 1);
	assert_true(md_scan_report_at(r, 0)->fixable);
	assert_string_equal(md_scan_report_at(r, 0)->status, "fixed");
	assert_string_equal(md_scan_report_at(r, 0)->fixed, "2");
	assert_int_equal(md_scan_report_at(r, 0)->severity, MD_SEV_HIGH);
	save_and_reload(r, "merged");
	md_buf_init(&small, 32);
	assert_int_equal(md_scan_report_save(r, &small), -1);
	md_buf_clear(&small);
	md_scan_report_free(r);

	id[n++] = 'X'; /* so that byte MD_SCAN__STR_MAX falls inside a character */
	while (n + 3 < 3 * 100) { /* "é€" repeated: 2- and 3-byte characters */
		memcpy(id + n, "\xc3\xa9\xe2\x82\xac", 5);
		n += 5;
	}
	id[n] = '\0';
	snprintf(json, sizeof(json),
		 "{\"Results\": [{\"Vulnerabilities\": [{\"VulnerabilityID\": \"%s\"}]}]}", id);
	assert_int_equal(md_scan_report_parse(&r, json, strlen(json), &err), MD_SCAN_OK);
	assert_true(strlen(md_scan_report_at(r, 0)->id) <= MD_SCAN__STR_MAX);
	assert_true(strlen(md_scan_report_at(r, 0)->id) > MD_SCAN__STR_MAX - 3);
	save_and_reload(r, "multibyte");
	md_scan_report_free(r);
}

/* ---- the artifact --------------------------------------------------------------------------------- */

static char *artifact_report(const struct artifact_case *t)
{
	json_t *root = json_object(), *digests = json_array();
	struct md_strv v = { 0 };
	char *s;

	json_object_set_new(root, "SchemaVersion", json_integer(2));
	if (t->name_in_report)
		json_object_set_new(root, "ArtifactName", json_string(t->name_in_report));
	if (t->type)
		json_object_set_new(root, "ArtifactType", json_string(t->type));
	if (t->repo_digests) {
		md_strv_split(&v, t->repo_digests, " ");
		for (size_t i = 0; i < v.n; i++)
			json_array_append_new(digests, json_string(v.v[i]));
		md_strv_clear(&v);
	}
	json_object_set_new(root, "Metadata", json_pack("{so}", "RepoDigests", digests));
	s = json_dumps(root, 0);
	json_decref(root);
	return s;
}

static void test_artifact(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(artifact_cases); i++) {
		const struct artifact_case *t = &artifact_cases[i];
		char *json = artifact_report(t);
		struct md_scan_report *r;
		struct md_err err;
		int rc;

		assert_int_equal(md_scan_report_parse(&r, json, strlen(json), &err), MD_SCAN_OK);
		err.msg[0] = '\0';
		rc = md_scan_report_check_artifact(r, t->name, t->digest, &err);
		if (rc != t->want)
			fail_msg("case %zu (%s vs %s): %d, expected %d", i,
				 t->name_in_report ? t->name_in_report : "(no name)", t->name, rc,
				 t->want);
		if (rc != MD_SCAN_OK && !strstr(err.msg, t->name))
			fail_msg("case %zu: \"%s\" does not name %s", i, err.msg, t->name);
		md_scan_report_free(r);
		free(json);
	}
}

static void test_artifact_fixtures(void **state)
{
	struct md_scan_report *r = load("alpine-39.json.golden");
	struct md_err err;

	(void)state;
	/* Trivy's goldens are for image tarballs: asked about a registry image,
	 * such a report is for another artifact */
	assert_int_equal(md_scan_report_check_artifact(r, "ghcr.io/acme/app", D1, &err),
			 MD_SCAN_WRONG_ARTIFACT);
	assert_string_equal(err.msg, "the report is for testdata/fixtures/images/alpine-39.tar.gz, "
				     "not for ghcr.io/acme/app@" D1);
	md_scan_report_free(r);
}

/* ---- internals: registry keys, Docker config, environment -------------------------------------- */

static void test_registry_key(void **state)
{
	static const struct {
		const char *name, *key;
	} t[] = {
		{ "alpine", "https://index.docker.io/v1/" },
		{ "library/alpine", "https://index.docker.io/v1/" },
		{ "bitnami/redis", "https://index.docker.io/v1/" },
		{ "docker.io/bitnami/redis", "https://index.docker.io/v1/" },
		{ "index.docker.io/library/alpine", "https://index.docker.io/v1/" },
		{ "ghcr.io/acme/app", "ghcr.io" },
		{ "localhost:5000/app", "localhost:5000" },
		{ "localhost/app", "localhost" },
		{ "127.0.0.1:5000/a/b/c", "127.0.0.1:5000" },
		{ "registry-1.docker.io/library/x", "registry-1.docker.io" },
	};
	char key[256];

	(void)state;
	for (size_t i = 0; i < N(t); i++) {
		assert_int_equal(md_scan__registry_key(t[i].name, key, sizeof(key)), 0);
		if (strcmp(key, t[i].key) != 0)
			fail_msg("%s: key %s, expected %s", t[i].name, key, t[i].key);
	}
	assert_int_equal(md_scan__registry_key("ghcr.io/x", key, 4), -1);
}

static json_t *config_json(const char *key, const struct md_scan_cred *cred)
{
	struct md_buf b;
	json_error_t jerr;
	json_t *j;

	md_buf_init(&b, 65536);
	assert_int_equal(md_scan__docker_config(&b, key, cred), 0);
	j = json_loads(b.data, 0, &jerr);
	if (!j)
		fail_msg("not JSON: %s (%s)", b.data, jerr.text);
	md_buf_clear(&b);
	return j;
}

static void test_docker_config(void **state)
{
	struct md_scan_cred basic = { "bob", "hunter2:x", 0 };
	struct md_scan_cred ident = { "<token>", "refresh\"tok\\en\n", 1 };
	json_t *j;

	(void)state;
	j = config_json("ghcr.io", &basic);
	/* base64("bob:hunter2:x"): the first ':' separates, as Docker reads it */
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(json_object_get(j, "auths"), "ghcr.io"), "auth")),
			    "Ym9iOmh1bnRlcjI6eA==");
	json_decref(j);
	j = config_json("https://index.docker.io/v1/", &ident);
	assert_string_equal(
		json_string_value(json_object_get(
			json_object_get(json_object_get(j, "auths"), "https://index.docker.io/v1/"),
			"identitytoken")),
		"refresh\"tok\\en\n");
	json_decref(j);
	/* anonymous: an empty auths, so no credentials from elsewhere */
	j = config_json("ghcr.io", NULL);
	assert_int_equal(json_object_size(json_object_get(j, "auths")), 0);
	json_decref(j);
}

static void test_env_kept(void **state)
{
	static const struct {
		const char *entry;
		int kept;
	} t[] = {
		{ "PATH=/usr/bin", 1 },
		{ "HOME=/var/lib/magos", 1 },
		{ "LANG=C.UTF-8", 1 },
		{ "LC_ALL=C", 1 },
		{ "HTTPS_PROXY=http://proxy:3128", 1 },
		{ "no_proxy=localhost", 1 },
		{ "TRIVY_CACHE_DIR=/var/cache/trivy", 1 },
		{ "TRIVY_DB_REPOSITORY=mirror.example/trivy-db", 1 },
		{ "TRIVY_INSECURE=true", 1 },
		{ "TRIVY_SEVERITY=CRITICAL", 0 },
		{ "TRIVY_IGNORE_UNFIXED=true", 0 },
		{ "TRIVY_IGNOREFILE=/x", 0 },
		{ "TRIVY_EXIT_CODE=1", 0 },
		{ "TRIVY_OUTPUT=/tmp/x", 0 },
		{ "TRIVY_USERNAME=bob", 0 },
		{ "TRIVY_PASSWORD=hunter2", 0 },
		{ "TRIVY_TOKEN=x", 0 },
		{ "TRIVY_SERVER=http://x", 0 },
		{ "DOCKER_CONFIG=/home/u/.docker", 0 },
		{ "REGISTRY_AUTH_FILE=/x", 0 },
		{ "XDG_RUNTIME_DIR=/run/user/1000", 0 },
		{ "AWS_SECRET_ACCESS_KEY=x", 0 },
		{ "GOOGLE_APPLICATION_CREDENTIALS=/x", 0 },
		{ "MD_GITHUB_APP_KEY_FILE=/x", 0 },
		{ "LD_PRELOAD=/x.so", 0 },
		{ "PATHX=/x", 0 },
		{ "PAT=/x", 0 },
		{ "PATH", 0 },
		{ "=x", 0 },
		{ "LC_=x", 0 },
	};

	(void)state;
	for (size_t i = 0; i < N(t); i++)
		if (md_scan__env_kept(t[i].entry) != t[i].kept)
			fail_msg("%s: kept %d, expected %d", t[i].entry, !t[i].kept, t[i].kept);
}

static void test_version_parse(void **state)
{
	static const struct {
		const char *json, *key; /* key NULL: no DB */
		int rc;
	} t[] = {
		{ "{\"Version\":\"0.50.1\",\"VulnerabilityDB\":{\"Version\":2,"
		  "\"NextUpdate\":\"2023-07-20T18:11:37.696263532Z\","
		  "\"UpdatedAt\":\"2023-07-20T12:11:37.696263932Z\","
		  "\"DownloadedAt\":\"2023-07-25T07:01:41.239158Z\"},\"JavaDB\":{\"Version\":1}}",
		  "2:2023-07-20T12:11:37.696263932Z", MD_SCAN_OK },
		{ "{\"Version\":\"0.50.1\"}", NULL, MD_SCAN_OK },
		{ "{\"Version\":\"0.50.1\",\"VulnerabilityDB\":null}", NULL, MD_SCAN_OK },
		{ "{\"VulnerabilityDB\":{\"Version\":\"2\",\"UpdatedAt\":\"2023-07-20T12:11:37Z\"}}",
		  NULL, MD_SCAN_INVALID },
		{ "{\"VulnerabilityDB\":{\"Version\":2}}", NULL, MD_SCAN_INVALID },
		{ "{\"VulnerabilityDB\":{\"Version\":2,\"UpdatedAt\":\"2023 07 20\"}}", NULL,
		  MD_SCAN_INVALID },
		{ "{\"VulnerabilityDB\":[]}", NULL, MD_SCAN_INVALID },
		{ "[]", NULL, MD_SCAN_INVALID },
		{ "Version: 0.50.1", NULL, MD_SCAN_INVALID },
		{ "", NULL, MD_SCAN_INVALID },
	};

	(void)state;
	for (size_t i = 0; i < N(t); i++) {
		char *key = (char *)"x";
		struct md_err err;
		int rc = md_scan__parse_version(&key, t[i].json, strlen(t[i].json), &err);

		if (rc != t[i].rc)
			fail_msg("%s: %d, expected %d", t[i].json, rc, t[i].rc);
		if (t[i].key)
			assert_string_equal(key, t[i].key);
		else
			assert_null(key);
		free(key);
	}
}

static void test_status_names(void **state)
{
	(void)state;
	assert_string_equal(md_scan_status_name(MD_SCAN_OK), "ok");
	assert_string_equal(md_scan_status_name(MD_SCAN_MISSING), "missing");
	assert_string_equal(md_scan_status_name(MD_SCAN_TIMEOUT), "timeout");
	assert_string_equal(md_scan_status_name(MD_SCAN_FAILED), "failed");
	assert_string_equal(md_scan_status_name(MD_SCAN_TOO_LARGE), "too_large");
	assert_string_equal(md_scan_status_name(MD_SCAN_INVALID), "invalid");
	assert_string_equal(md_scan_status_name(MD_SCAN_WRONG_ARTIFACT), "wrong_artifact");
	assert_string_equal(md_scan_status_name(MD_SCAN_UNREACHABLE), "unreachable");
	assert_string_equal(md_scan_status_name(MD_SCAN_ERROR), "error");
	assert_string_equal(md_scan_status_name(MD_SCAN_STATUS_COUNT), "error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_severity_names),
		cmocka_unit_test(test_counts_format),
		cmocka_unit_test(test_fixture_counts),
		cmocka_unit_test(test_fixture_crosscheck),
		cmocka_unit_test(test_fixture_findings),
		cmocka_unit_test(test_judge),
		cmocka_unit_test(test_diff),
		cmocka_unit_test(test_diff_entries),
		cmocka_unit_test(test_diff_text_is_safe),
		cmocka_unit_test(test_parse_minimal),
		cmocka_unit_test(test_parse_fixable),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_long_strings),
		cmocka_unit_test(test_save),
		cmocka_unit_test(test_artifact),
		cmocka_unit_test(test_artifact_fixtures),
		cmocka_unit_test(test_registry_key),
		cmocka_unit_test(test_docker_config),
		cmocka_unit_test(test_env_kept),
		cmocka_unit_test(test_version_parse),
		cmocka_unit_test(test_status_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

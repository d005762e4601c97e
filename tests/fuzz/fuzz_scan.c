/* Fuzz the Trivy report parser and what is built on it: the input as a
 * report (and as `trivy version` JSON). A report either parses or fails with
 * one line; a parsed report keeps its invariants (findings sorted and
 * unique, bounded strings, counts that add up), judges and compares without
 * surprise (nothing differs from itself; a report is never worse than
 * itself), it reads back the same once saved, and the text it yields for
 * commit messages is two lines of safe characters. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "magos/scan.h"
#include "../../internal/scan/scan_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DIGEST "sha256:0000000000000000000000000000000000000000000000000000000000000000"

static void check_message(const struct md_err *err)
{
	if (err->msg[0] == '\0' || strchr(err->msg, '\n'))
		abort();
}

static void check_findings(const struct md_scan_report *r)
{
	struct md_scan_counts c;
	size_t n = md_scan_report_count(r), sum = 0;

	for (size_t i = 0; i < n; i++) {
		const struct md_scan_finding *f = md_scan_report_at(r, i), *p;
		int o;

		if (!f->id || !f->pkg || !f->installed || !f->fixed || !f->status)
			abort();
		if (strlen(f->id) > MD_SCAN__STR_MAX || strlen(f->fixed) > MD_SCAN__STR_MAX)
			abort();
		if ((unsigned)f->severity >= MD_SEV_COUNT)
			abort();
		if (i == 0)
			continue;
		p = md_scan_report_at(r, i - 1);
		o = strcmp(p->id, f->id);

		if (!o)
			o = strcmp(p->pkg, f->pkg);
		if (!o)
			o = strcmp(p->installed, f->installed);
		if (o >= 0) /* sorted, one per (ID, package, version) */
			abort();
	}
	if (md_scan_report_at(r, n) != NULL)
		abort();
	md_scan_count(r, NULL, &c);
	for (int s = 0; s < MD_SEV_COUNT; s++)
		sum += c.n[s];
	if (sum != n || md_scan_counts_at_least(&c, MD_SEV_UNKNOWN) != n)
		abort();
}

/* Two lines, "fixes: …" and "introduces: …", of safe characters. */
static void check_text(const struct md_buf *b, const char *first)
{
	const char *nl;

	if (!b->data || strncmp(b->data, first, strlen(first)) != 0)
		abort();
	nl = strchr(b->data, '\n');
	if (!nl || strncmp(nl + 1, "introduces", 10) != 0)
		abort();
	for (size_t i = 0; i < b->len; i++) {
		char c = b->data[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (c && strchr("._-:+~/@=<>, ()?\n", c))))
			abort();
	}
}

/* Saved and read back, a report is the same report. */
static void check_save(const struct md_scan_report *r)
{
	struct md_scan_report *back = NULL;
	struct md_err err;
	struct md_buf b;

	md_buf_init(&b, 4 << 20);
	if (md_scan_report_save(r, &b) < 0 ||
	    md_scan_report_parse(&back, b.data, b.len, &err) != MD_SCAN_OK)
		abort();
	if (md_scan_report_count(back) != md_scan_report_count(r) ||
	    strcmp(md_scan_report_artifact(back), md_scan_report_artifact(r)) != 0)
		abort();
	for (size_t i = 0; i < md_scan_report_count(r); i++) {
		const struct md_scan_finding *x = md_scan_report_at(r, i);
		const struct md_scan_finding *y = md_scan_report_at(back, i);

		if (strcmp(x->id, y->id) || strcmp(x->pkg, y->pkg) ||
		    strcmp(x->installed, y->installed) || strcmp(x->fixed, y->fixed) ||
		    strcmp(x->status, y->status) || x->severity != y->severity ||
		    x->fixable != y->fixable)
			abort();
	}
	md_scan_report_free(back);
	md_buf_clear(&b);
}

static void check_compare(const struct md_scan_report *r)
{
	struct md_scan_report *empty = NULL;
	struct md_scan_req q = { MD_SEV_HIGH, 0, NULL, 1 };
	struct md_scan_judgement j;
	struct md_scan_diff *d = NULL;
	struct md_err err;
	struct md_buf b;

	/* never worse than itself */
	if (md_scan_judge(&q, r, r, &j) != MD_SCAN_ALLOWED || !j.reason[0])
		abort();
	q.compare = 0;
	if (md_scan_judge(&q, r, NULL, &j) == MD_SCAN_UNDECIDED)
		abort();
	if (md_scan_diff(&d, r, r, NULL, &err) != MD_SCAN_OK)
		abort();
	if (md_scan_diff_fixed_count(d) || md_scan_diff_introduced_count(d))
		abort();
	md_scan_diff_free(d);
	if (md_scan_report_parse(&empty, "{}", 2, &err) != MD_SCAN_OK ||
	    md_scan_diff(&d, empty, r, NULL, &err) != MD_SCAN_OK)
		abort();
	if (md_scan_diff_fixed_count(d) != 0 ||
	    (md_scan_diff_introduced_count(d) == 0) != (md_scan_report_count(r) == 0))
		abort();
	md_buf_init(&b, 1 << 20);
	if (md_scan_diff_summary(d, 5, &b) < 0)
		abort();
	check_text(&b, "fixes: none\n");
	md_buf_reset(&b);
	if (md_scan_diff_details(d, 5, &b) < 0)
		abort();
	md_buf_clear(&b);
	md_scan_diff_free(d);
	md_scan_report_free(empty);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct md_scan_report *r = NULL;
	struct md_err err;
	char *key = NULL;
	int rc;

	if (size > 65536)
		return 0;
	rc = md_scan_report_parse(&r, (const char *)data, size, &err);
	if (rc == MD_SCAN_OK) {
		if (!r)
			abort();
		check_findings(r);
		rc = md_scan_report_check_artifact(r, "ghcr.io/acme/app", DIGEST, &err);
		if (rc != MD_SCAN_OK && rc != MD_SCAN_WRONG_ARTIFACT)
			abort();
		if (rc != MD_SCAN_OK)
			check_message(&err);
		check_compare(r);
		check_save(r);
		md_scan_report_free(r);
	} else if (r != NULL || (rc != MD_SCAN_INVALID && rc != MD_SCAN_ERROR)) {
		abort();
	} else {
		check_message(&err);
	}
	rc = md_scan__parse_version(&key, (const char *)data, size, &err);
	if (rc != MD_SCAN_OK && (key || rc != MD_SCAN_INVALID))
		abort();
	free(key);
	return 0;
}

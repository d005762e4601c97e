/* A site's requirement against a report: which findings count, and whether
 * the candidate may be proposed. Pure. */
#include "scan_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

int md_scan__filtered(const struct md_scan_req *q, const struct md_scan_finding *f)
{
	if (!q)
		return 0;
	if (q->ignore_unfixed && !f->fixable)
		return 1;
	for (size_t i = 0; q->ignore && i < q->ignore->n; i++)
		if (strcasecmp(q->ignore->v[i], f->id) == 0)
			return 1;
	return 0;
}

void md_scan_count(const struct md_scan_report *r, const struct md_scan_req *q,
		   struct md_scan_counts *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < r->n; i++) {
		const struct md_scan_finding *f = &r->f[i].pub;

		if (!md_scan__filtered(q, f))
			out->n[f->severity]++;
	}
}

unsigned md_scan_counts_at_least(const struct md_scan_counts *c, enum md_severity sev)
{
	unsigned n = 0;

	for (int s = (int)sev; s >= 0 && s < MD_SEV_COUNT; s++)
		n += c->n[s];
	return n;
}

int md_scan_counts_format(const struct md_scan_counts *c, struct md_buf *out)
{
	int any = 0;

	for (int s = MD_SEV_COUNT - 1; s >= 0; s--) {
		if (!c->n[s])
			continue;
		if (md_buf_printf(out, "%s%u %s", any ? ", " : "", c->n[s],
				  md_scan_severity_name((enum md_severity)s)) < 0)
			return -1;
		any = 1;
	}
	return any ? 0 : md_buf_puts(out, "none");
}

/* Up to three distinct IDs at or above the threshold, worst first, for the
 * reason line ("CVE-2019-14697, CVE-2019-1549"). */
static void worst_ids(const struct md_scan_report *r, const struct md_scan_req *q,
		      struct md_buf *out)
{
	const char *last = NULL;
	size_t shown = 0;

	for (int s = MD_SEV_COUNT - 1; s >= (int)q->threshold && shown < 3; s--) {
		for (size_t i = 0; i < r->n && shown < 3; i++) {
			const struct md_scan_finding *f = &r->f[i].pub;

			if ((int)f->severity != s || md_scan__filtered(q, f))
				continue;
			if (last && strcmp(last, f->id) == 0)
				continue;
			if ((shown && md_buf_puts(out, ", ") < 0) ||
			    md_scan__put_safe(out, *f->id ? f->id : "(no ID)", 40) < 0)
				return;
			last = f->id;
			shown++;
		}
	}
}

/* "3 at or above HIGH (2 CRITICAL, 1 HIGH: CVE-…, CVE-…)" */
static void describe(char *dst, size_t len, const char *verdict, const char *tail,
		     const struct md_scan_report *r, const struct md_scan_req *q,
		     const struct md_scan_counts *c)
{
	struct md_buf b, ids;

	md_buf_init(&b, 200);
	md_buf_init(&ids, 120);
	md_scan_counts_format(c, &b);
	if (md_scan_counts_at_least(c, q->threshold))
		worst_ids(r, q, &ids);
	snprintf(dst, len, "%s: %u finding%s at or above %s (%s%s%s)%s", verdict,
		 md_scan_counts_at_least(c, q->threshold),
		 md_scan_counts_at_least(c, q->threshold) == 1 ? "" : "s",
		 md_scan_severity_name(q->threshold), b.data ? b.data : "",
		 ids.len ? "; " : "", ids.len ? ids.data : "", tail);
	md_buf_clear(&b);
	md_buf_clear(&ids);
}

enum md_scan_verdict md_scan_judge(const struct md_scan_req *q,
				   const struct md_scan_report *candidate,
				   const struct md_scan_report *declared,
				   struct md_scan_judgement *out)
{
	char tail[96] = "";
	const char *verdict;
	unsigned had;

	memset(out, 0, sizeof(*out));
	md_scan_count(candidate, q, &out->candidate);
	out->at_threshold = md_scan_counts_at_least(&out->candidate, q->threshold);
	if (declared) {
		md_scan_count(declared, q, &out->declared);
		out->has_declared = 1;
	}
	had = md_scan_counts_at_least(&out->declared, q->threshold);
	if (out->at_threshold == 0) {
		out->verdict = MD_SCAN_ALLOWED;
		verdict = "allowed";
	} else if (!q->compare) {
		out->verdict = MD_SCAN_REFUSED;
		verdict = "refused";
	} else if (!declared) {
		/* Worse or not cannot be told: fail closed. */
		out->verdict = MD_SCAN_UNDECIDED;
		verdict = "undecided";
		snprintf(tail, sizeof(tail), ", and the declared digest has no scan to compare with");
	} else if (out->at_threshold > had) {
		out->verdict = MD_SCAN_REFUSED;
		verdict = "refused";
		snprintf(tail, sizeof(tail), ", more than the declared digest's %u", had);
	} else {
		out->verdict = MD_SCAN_ALLOWED;
		verdict = "allowed";
		snprintf(tail, sizeof(tail), ", not more than the declared digest's %u", had);
	}
	describe(out->reason, sizeof(out->reason), verdict, tail, candidate, q, &out->candidate);
	return out->verdict;
}

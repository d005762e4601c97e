/* What an update fixes and introduces: the vulnerability IDs of the
 * declared digest's report against the candidate's, and the short text for
 * a commit message or PR body. Report text is outside input that ends up in
 * Git history and on GitHub, so it is reduced to a safe character set and
 * cut to a bound before it is printed. */
#include "scan_int.h"

#include <stdlib.h>
#include <string.h>

int md_scan__put_safe(struct md_buf *out, const char *s, size_t max)
{
	static const char extra[] = "._-:+~/@=<>, ";
	char c[2] = { 0, 0 };
	size_t n = strnlen(s, max);

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			 (ch >= '0' && ch <= '9') || (ch && strchr(extra, ch));

		c[0] = ok ? (char)ch : '?';
		if (md_buf_append(out, c, 1) < 0)
			return -1;
	}
	if (s[n] && md_buf_puts(out, "...") < 0)
		return -1;
	return 0;
}

/* A change and the strings it owns (the public struct points into them). */
struct change {
	struct md_scan_change pub;
	char *own[4];
};

struct md_scan_diff {
	struct change *fixed, *intro;
	size_t nfixed, nintro;
};

/* One ID's run of findings in a (sorted) report, filtered. */
struct run {
	size_t first, end; /* [first, end) of the report's findings with this ID */
	const struct md_scan_finding *lead; /* first unfiltered finding */
	enum md_severity sev;
	size_t npkgs;
};

/* The next ID at or after *pos with at least one unfiltered finding. */
static int next_run(const struct md_scan_report *r, const struct md_scan_req *q, size_t *pos,
		    struct run *out)
{
	while (*pos < r->n) {
		size_t i = *pos, j = i;

		memset(out, 0, sizeof(*out));
		while (j < r->n && strcmp(r->f[j].pub.id, r->f[i].pub.id) == 0) {
			const struct md_scan_finding *f = &r->f[j].pub;

			if (!md_scan__filtered(q, f)) {
				if (!out->lead)
					out->lead = f;
				if (f->severity > out->sev)
					out->sev = f->severity;
				out->npkgs++;
			}
			j++;
		}
		*pos = j;
		if (out->lead) {
			out->first = i;
			out->end = j;
			return 1;
		}
	}
	return 0;
}

static int add_change(struct change **v, size_t *n, const struct run *run)
{
	const char *src[4] = { run->lead->id, run->lead->pkg, run->lead->installed,
			       run->lead->fixed };
	struct change *c;
	void *p = realloc(*v, (*n + 1) * sizeof(**v));

	if (!p)
		return -1;
	*v = p;
	c = &(*v)[(*n)++];
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < 4; i++)
		if (!(c->own[i] = md_strdup(src[i])))
			return -1;
	c->pub.id = c->own[0];
	c->pub.pkg = c->own[1];
	c->pub.installed = c->own[2];
	c->pub.fixed = c->own[3];
	c->pub.severity = run->sev;
	c->pub.npkgs = run->npkgs;
	return 0;
}

static int change_cmp(const void *a, const void *b)
{
	const struct md_scan_change *x = &((const struct change *)a)->pub;
	const struct md_scan_change *y = &((const struct change *)b)->pub;

	if (x->severity != y->severity)
		return x->severity > y->severity ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* Walk both reports' IDs in order, like a merge: an ID on one side only is
 * a change. */
static int walk(struct md_scan_diff *d, const struct md_scan_report *a,
		const struct md_scan_report *b, const struct md_scan_req *q)
{
	size_t pa = 0, pb = 0;
	struct run ra, rb;
	int has_a = next_run(a, q, &pa, &ra), has_b = next_run(b, q, &pb, &rb);

	while (has_a || has_b) {
		int c = !has_a ? 1 : !has_b ? -1 : strcmp(ra.lead->id, rb.lead->id);

		if (c < 0 && add_change(&d->fixed, &d->nfixed, &ra) < 0)
			return -1;
		if (c > 0 && add_change(&d->intro, &d->nintro, &rb) < 0)
			return -1;
		if (c <= 0)
			has_a = next_run(a, q, &pa, &ra);
		if (c >= 0)
			has_b = next_run(b, q, &pb, &rb);
	}
	return 0;
}

int md_scan_diff(struct md_scan_diff **out, const struct md_scan_report *declared,
		 const struct md_scan_report *candidate, const struct md_scan_req *q,
		 struct md_err *err)
{
	struct md_scan_diff *d = calloc(1, sizeof(*d));

	*out = NULL;
	if (!d || walk(d, declared, candidate, q) < 0) {
		md_scan_diff_free(d);
		md_err_set(err, "out of memory comparing vulnerability reports");
		return MD_SCAN_ERROR;
	}
	if (d->nfixed > 1)
		qsort(d->fixed, d->nfixed, sizeof(*d->fixed), change_cmp);
	if (d->nintro > 1)
		qsort(d->intro, d->nintro, sizeof(*d->intro), change_cmp);
	*out = d;
	return MD_SCAN_OK;
}

static void changes_free(struct change *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < 4; k++)
			free(v[i].own[k]);
	free(v);
}

void md_scan_diff_free(struct md_scan_diff *d)
{
	if (!d)
		return;
	changes_free(d->fixed, d->nfixed);
	changes_free(d->intro, d->nintro);
	free(d);
}

size_t md_scan_diff_fixed_count(const struct md_scan_diff *d)
{
	return d->nfixed;
}

const struct md_scan_change *md_scan_diff_fixed_at(const struct md_scan_diff *d, size_t i)
{
	return i < d->nfixed ? &d->fixed[i].pub : NULL;
}

size_t md_scan_diff_introduced_count(const struct md_scan_diff *d)
{
	return d->nintro;
}

const struct md_scan_change *md_scan_diff_introduced_at(const struct md_scan_diff *d, size_t i)
{
	return i < d->nintro ? &d->intro[i].pub : NULL;
}

/* ---- text ------------------------------------------------------------------------- */

#define ID_MAX 40
#define PKG_MAX 60
#define VER_MAX 40

static const char *id_or(const char *id)
{
	return *id ? id : "(no ID)";
}

/* "fixes: CVE-a, CVE-b and 3 more (1 CRITICAL, 4 MEDIUM)" */
static int summary_line(struct md_buf *out, const char *label, const struct change *v,
			size_t n, size_t top_n)
{
	struct md_scan_counts c = { { 0 } };
	size_t shown = n < top_n ? n : top_n;

	if (md_buf_printf(out, "%s: ", label) < 0)
		return -1;
	if (n == 0)
		return md_buf_puts(out, "none\n");
	for (size_t i = 0; i < n; i++)
		c.n[v[i].pub.severity]++;
	for (size_t i = 0; i < shown; i++)
		if ((i && md_buf_puts(out, ", ") < 0) ||
		    md_scan__put_safe(out, id_or(v[i].pub.id), ID_MAX) < 0)
			return -1;
	if (n > shown && md_buf_printf(out, "%s%zu more", shown ? " and " : "", n - shown) < 0)
		return -1;
	if (md_buf_puts(out, " (") < 0 || md_scan_counts_format(&c, out) < 0)
		return -1;
	return md_buf_puts(out, ")\n");
}

int md_scan_diff_summary(const struct md_scan_diff *d, size_t top_n, struct md_buf *out)
{
	if (summary_line(out, "fixes", d->fixed, d->nfixed, top_n) < 0)
		return -1;
	return summary_line(out, "introduces", d->intro, d->nintro, top_n);
}

/* "- CVE-x (CRITICAL) musl 1.1.20-r4, fixed in 1.1.20-r5, and 1 more package" */
static int detail_item(struct md_buf *out, const struct md_scan_change *c)
{
	if (md_buf_puts(out, "- ") < 0 || md_scan__put_safe(out, id_or(c->id), ID_MAX) < 0 ||
	    md_buf_printf(out, " (%s)", md_scan_severity_name(c->severity)) < 0)
		return -1;
	if (*c->pkg && (md_buf_puts(out, " ") < 0 || md_scan__put_safe(out, c->pkg, PKG_MAX) < 0))
		return -1;
	if (*c->installed &&
	    (md_buf_puts(out, " ") < 0 || md_scan__put_safe(out, c->installed, VER_MAX) < 0))
		return -1;
	if (*c->fixed ? (md_buf_puts(out, ", fixed in ") < 0 ||
			 md_scan__put_safe(out, c->fixed, VER_MAX) < 0)
		      : md_buf_puts(out, ", no fix yet") < 0)
		return -1;
	if (c->npkgs > 1 && md_buf_printf(out, ", and %zu more package%s", c->npkgs - 1,
					  c->npkgs > 2 ? "s" : "") < 0)
		return -1;
	return md_buf_puts(out, "\n");
}

static int details_block(struct md_buf *out, const char *label, const struct change *v,
			 size_t n, size_t top_n)
{
	size_t shown = n < top_n ? n : top_n;

	if (n == 0)
		return md_buf_printf(out, "%s: none\n", label);
	if (md_buf_printf(out, "%s:\n", label) < 0)
		return -1;
	for (size_t i = 0; i < shown; i++)
		if (detail_item(out, &v[i].pub) < 0)
			return -1;
	if (n > shown && md_buf_printf(out, "- and %zu more\n", n - shown) < 0)
		return -1;
	return 0;
}

int md_scan_diff_details(const struct md_scan_diff *d, size_t top_n, struct md_buf *out)
{
	if (details_block(out, "fixes", d->fixed, d->nfixed, top_n) < 0)
		return -1;
	return details_block(out, "introduces", d->intro, d->nintro, top_n);
}

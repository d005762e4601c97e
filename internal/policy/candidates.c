/* The candidate list every decision works on, its order, and the trace it
 * leaves behind; plus the decision object itself. */
#include "policy_int.h"

#include <stdlib.h>
#include <string.h>

/* Versions first, highest first; equal versions ("1.2.3", "v1.2.3") and
 * non-versions by tag, so the order never depends on the registry's. */
static int cand_order(const void *pa, const void *pb)
{
	const struct md_cand *a = pa, *b = pb;
	int r;

	if (a->parsed != b->parsed)
		return a->parsed ? -1 : 1;
	if (a->parsed) {
		r = md_semver_cmp(&b->v, &a->v);
		if (r)
			return r;
	}
	return strcmp(a->tag, b->tag);
}

void md_cands_free(struct md_cand *c, size_t n)
{
	if (!c)
		return;
	for (size_t i = 0; i < n; i++)
		md_semver_clear(&c[i].v);
	free(c);
}

/* Drop exact duplicates (now adjacent) so each tag is traced once. */
static size_t dedupe(struct md_cand *c, size_t n)
{
	size_t w = 0;

	for (size_t i = 0; i < n; i++) {
		if (w && strcmp(c[w - 1].tag, c[i].tag) == 0) {
			md_semver_clear(&c[i].v);
			continue;
		}
		c[w++] = c[i];
	}
	return w;
}

int md_cands_prepare(struct md_cand **out, size_t *outn, const struct md_candidate *cands,
		     size_t n, struct md_err *err)
{
	struct md_cand *c;

	*out = NULL;
	*outn = 0;
	if (n > MD_POLICY_MAX_CANDIDATES)
		return md_err_set(err, "refusing %zu candidate tags: at most %d are considered", n,
				  MD_POLICY_MAX_CANDIDATES);
	if (n && !cands)
		return md_err_set(err, "%zu candidate tags announced but none given", n);
	c = calloc(n ? n : 1, sizeof(*c));
	if (!c)
		return md_err_set(err, "out of memory for %zu candidate tags", n);
	for (size_t i = 0; i < n; i++) {
		if (!cands[i].tag) {
			md_cands_free(c, n);
			return md_err_set(err, "candidate %zu has no tag", i);
		}
		c[i].tag = cands[i].tag;
		c[i].created = cands[i].created;
		c[i].kept = 1;
		/* A parse failure leaves v empty; the stages decide what it means. */
		c[i].parsed = md_semver_parse_into(&c[i].v, cands[i].tag) == 0;
	}
	qsort(c, n, sizeof(*c), cand_order);
	*outn = dedupe(c, n);
	*out = c;
	return 0;
}

int md_cands_find(const struct md_cand *c, size_t n, const char *tag)
{
	if (!tag)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (strcmp(c[i].tag, tag) == 0)
			return (int)i;
	return -1;
}

/* Tags are copied into one pool so the trace outlives the caller's list. */
int md_cands_trace(struct md_decision *d, const struct md_cand *c, size_t n, struct md_err *err)
{
	size_t total = 0, off = 0;

	for (size_t i = 0; i < n; i++)
		total += strlen(c[i].tag) + 1;
	d->trace = calloc(n ? n : 1, sizeof(*d->trace));
	d->pool = malloc(total ? total : 1);
	if (!d->trace || !d->pool)
		return md_err_set(err, "out of memory for the trace of %zu tags", n);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(c[i].tag) + 1;

		memcpy(d->pool + off, c[i].tag, len);
		d->trace[i].tag = d->pool + off;
		d->trace[i].kept = c[i].kept;
		d->trace[i].reason = c[i].reason;
		off += len;
	}
	d->n = n;
	return 0;
}

int md_decision_set_tag(struct md_decision *d, const char *tag, struct md_err *err)
{
	free(d->tag);
	d->tag = NULL;
	if (!tag)
		return 0;
	d->tag = md_strdup(tag);
	return d->tag ? 0 : md_err_set(err, "out of memory for tag \"%s\"", tag);
}

int md_policy_decide(struct md_decision **out, const struct md_policy *p,
		     const char *current_tag, const struct md_candidate *cands, size_t n,
		     struct md_err *err)
{
	struct md_decision *d;

	*out = NULL;
	if (!p)
		return md_err_set(err, "no policy to decide with");
	d = calloc(1, sizeof(*d));
	if (!d)
		return md_err_set(err, "out of memory for a decision");
	if (p->kind->decide(d, p, current_tag, cands, n, err) < 0) {
		md_decision_free(d);
		return -1;
	}
	*out = d;
	return 0;
}

void md_decision_free(struct md_decision *d)
{
	if (!d)
		return;
	free(d->tag);
	free(d->warning);
	free(d->trace);
	free(d->pool);
	free(d);
}

const char *md_decision_tag(const struct md_decision *d)
{
	return d->tag;
}

const char *md_decision_warning(const struct md_decision *d)
{
	return d->warning;
}

size_t md_decision_trace_count(const struct md_decision *d)
{
	return d->n;
}

const struct md_trace_entry *md_decision_trace_at(const struct md_decision *d, size_t i)
{
	return i < d->n ? &d->trace[i] : NULL;
}

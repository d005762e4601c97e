/* The candidate list every decision works on, its order, and the trace it
 * leaves behind; plus the decision object itself. */
#include "policy_int.h"

#include <stdlib.h>
#include <string.h>

/* The text a candidate is ordered by: the extracted group, else the tag. */
static const char *key_of(const struct md_cand *c)
{
	return c->key ? c->key : c->tag;
}

/* Tags pushed from one build share a creation time (`2`, `2.0`, `2.0.3`,
 * `latest`): the tie goes to a version over a word, then to the one with
 * more parts, then to the higher version, so `newest` writes `2.0.3`, never
 * a moving alias of the same image. */
static int specificity_cmp(const struct md_cand *a, const struct md_cand *b)
{
	if (a->versioned != b->versioned)
		return a->versioned ? 1 : -1;
	if (!a->versioned)
		return 0;
	if (a->tv.nnum != b->tv.nnum)
		return a->tv.nnum > b->tv.nnum ? 1 : -1;
	return md_policy__tagver_cmp(&a->tv, &b->tv);
}

int md_policy__cand_value_cmp(const struct md_cand *a, const struct md_cand *b, enum md_order order)
{
	const char *ka = key_of(a), *kb = key_of(b);
	int r;

	switch (order) {
	case MD_ORDER_CREATED:
		if (a->created != b->created)
			return a->created > b->created ? 1 : -1;
		return specificity_cmp(a, b);
	case MD_ORDER_ALPHA:
		if (a->parsed != b->parsed)
			return a->parsed ? 1 : -1;
		r = strcmp(ka, kb);
		return r < 0 ? -1 : r > 0;
	case MD_ORDER_NUMBER:
		if (a->parsed != b->parsed)
			return a->parsed ? 1 : -1;
		return a->parsed ? md_policy__decimal_cmp(ka, kb) : 0;
	case MD_ORDER_VERSION:
		if (a->parsed != b->parsed)
			return a->parsed ? 1 : -1;
		return a->parsed ? md_policy__tagver_cmp(&a->tv, &b->tv) : 0;
	case MD_ORDER_NONE:
		break;
	}
	return 0;
}

/* Best first; equal values ("1.2.3", "v1.2.3") and unordered candidates
 * by tag, so the order never depends on the registry's. Equal versions
 * put the most specific spelling first ("1.2.0" before "1.2"): a site
 * starting from `latest` takes the full version, not a moving alias. */
int md_policy__cand_cmp(const struct md_cand *a, const struct md_cand *b, enum md_order order)
{
	int r = md_policy__cand_value_cmp(a, b, order);

	if (r)
		return -r;
	if (order == MD_ORDER_VERSION && a->versioned && b->versioned &&
	    a->tv.nnum != b->tv.nnum)
		return a->tv.nnum > b->tv.nnum ? -1 : 1;
	return strcmp(a->tag, b->tag);
}

static int sort_cmp(const void *pa, const void *pb, void *arg)
{
	return md_policy__cand_cmp(pa, pb, *(const enum md_order *)arg);
}

void md_policy__cands_sort(struct md_cand *c, size_t n, enum md_order order)
{
	/* glibc's qsort_r (the Makefile defines _GNU_SOURCE): no global state. */
	qsort_r(c, n, sizeof(*c), sort_cmp, &order);
}

void md_policy__cand_clear(struct md_cand *c)
{
	md_policy__tagver_clear(&c->tv);
	free(c->key);
	free(c->own_reason);
	c->key = NULL;
	c->own_reason = NULL;
}

void md_policy__cands_free(struct md_cand *c, size_t n)
{
	if (!c)
		return;
	for (size_t i = 0; i < n; i++)
		md_policy__cand_clear(&c[i]);
	free(c);
}

/* By tag, then by position, so the first of duplicate tags is kept. */
static int tag_cmp(const void *pa, const void *pb)
{
	const struct md_cand *a = pa, *b = pb;
	int r = strcmp(a->tag, b->tag);

	if (r)
		return r;
	return a->src < b->src ? -1 : (a->src > b->src);
}

/* Drop exact duplicates (now adjacent) so each tag is traced once. */
static size_t dedupe(struct md_cand *c, size_t n)
{
	size_t w = 0;

	for (size_t i = 0; i < n; i++) {
		if (w && strcmp(c[w - 1].tag, c[i].tag) == 0)
			continue;
		c[w++] = c[i];
	}
	return w;
}

int md_policy__cands_prepare(struct md_cand **out, size_t *outn, const struct md_candidate *cands,
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
			free(c);
			return md_err_set(err, "candidate %zu has no tag", i);
		}
		c[i].tag = cands[i].tag;
		c[i].src = &cands[i];
		c[i].created = cands[i].created;
		c[i].kept = 1;
	}
	qsort(c, n, sizeof(*c), tag_cmp);
	*outn = dedupe(c, n);
	*out = c;
	return 0;
}

int md_policy__cands_find(const struct md_cand *c, size_t n, const char *tag)
{
	if (!tag)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (strcmp(c[i].tag, tag) == 0)
			return (int)i;
	return -1;
}

/* Tags (and written reasons) are copied into one pool so the trace
 * outlives the caller's list. */
int md_policy__cands_trace(struct md_decision *d, const struct md_cand *c, size_t n, struct md_err *err)
{
	size_t total = 0, off = 0;

	for (size_t i = 0; i < n; i++)
		total += strlen(c[i].tag) + 1 + (c[i].own_reason ? strlen(c[i].own_reason) + 1 : 0);
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
		if (c[i].own_reason && c[i].reason == c[i].own_reason) {
			len = strlen(c[i].own_reason) + 1;
			memcpy(d->pool + off, c[i].own_reason, len);
			d->trace[i].reason = d->pool + off;
			off += len;
		}
	}
	d->n = n;
	return 0;
}

int md_policy__decision_set_tag(struct md_decision *d, const char *tag, struct md_err *err)
{
	free(d->tag);
	d->tag = NULL;
	d->status = tag ? MD_DECISION_TAG : MD_DECISION_NONE;
	if (!tag)
		return 0;
	d->tag = md_strdup(tag);
	return d->tag ? 0 : md_err_set(err, "out of memory for tag \"%s\"", tag);
}

int md_policy_decide(struct md_decision **out, const struct md_policy *p,
		     const char *current_tag, const struct md_candidate *cands, size_t n,
		     struct md_err *err)
{
	static const struct md_decide_ctx dflt = { 0, "linux/amd64" };

	return md_policy_decide_ctx(out, p, current_tag, cands, n, &dflt, err);
}

int md_policy_decide_ctx(struct md_decision **out, const struct md_policy *p,
			 const char *current_tag, const struct md_candidate *cands, size_t n,
			 const struct md_decide_ctx *ctx, struct md_err *err)
{
	static const struct md_decide_ctx dflt = { 0, "linux/amd64" };
	struct md_decision *d;

	*out = NULL;
	if (!p)
		return md_err_set(err, "no policy to decide with");
	d = calloc(1, sizeof(*d));
	if (!d)
		return md_err_set(err, "out of memory for a decision");
	d->status = MD_DECISION_NONE;
	if (p->kind->decide(d, p, current_tag, cands, n, ctx ? ctx : &dflt, err) < 0) {
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
	free(d->problem);
	free(d->trace);
	free(d->pool);
	free(d);
}

enum md_decision_status md_decision_status(const struct md_decision *d)
{
	return d->status;
}

const char *md_decision_problem(const struct md_decision *d)
{
	return d->problem;
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

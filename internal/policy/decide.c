/* Decisions per policy kind.
 *
 * A choosing policy runs its candidates through the pipeline of stages in
 * stages.c; each stage may drop a candidate with a reason. The survivors
 * are then ordered by the policy's order, so the choice is the first
 * survivor, subject to never moving down. */
#include "policy_int.h"

#include <stdlib.h>
#include <string.h>

static void judge(struct md_run *r, struct md_cand *c, int gates)
{
	const char *why;

	md_policy__stage_key(r, c);
	why = md_policy__stage_static(r, c);

	if (!why && gates)
		why = md_policy__stage_gates(r, c);
	c->kept = !why;
	c->reason = why ? why : MD_R_IN_RANGE;
}

static int first_kept(const struct md_cand *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (c[i].kept)
			return (int)i;
	return -1;
}

static const char *below_current(enum md_order order, const struct md_cand *c,
				 const struct md_cand *cur)
{
	if (md_policy__cand_value_cmp(c, cur, order) == 0)
		return MD_R_SAME;
	if (order != MD_ORDER_CREATED)
		return MD_R_LOWER;
	/* `latest` or `2.0` pushed with the declared 2.0.3: not older. */
	return c->created == cur->created ? MD_R_SAME_BUILD : MD_R_OLDER;
}

/* The declared tag stays: survivors at or below it are not choices. */
static int keep_current(struct md_decision *d, struct md_run *r, struct md_cand *c, size_t n,
			const struct md_cand *cur, struct md_err *err)
{
	enum md_order order = r->p->kind->order;

	for (size_t i = 0; i < n; i++) {
		if (!c[i].kept)
			continue;
		if (strcmp(c[i].tag, cur->tag) == 0) {
			c[i].reason = MD_R_CURRENT;
			continue;
		}
		c[i].kept = 0;
		c[i].reason = below_current(order, &c[i], cur);
	}
	if (md_policy__cands_find(c, n, cur->tag) < 0) {
		d->warning = md_asprintf("declared tag %s is no longer listed by the registry; "
					 "keeping it",
					 cur->tag);
		if (!d->warning)
			return md_err_set(err, "out of memory for a warning");
	}
	return md_policy__decision_set_tag(d, cur->tag, err);
}

/* The site is reported, not moved: see MD_DECISION_UNREADABLE. */
static int report_unreadable(struct md_decision *d, const struct md_run *r,
			     const struct md_cand *cur, struct md_err *err)
{
	if (r->p->extract && !cur->key)
		d->problem = md_asprintf("declared tag \"%s\" does not match \"filter\", so "
					 "\"extract\" reads no version from it and its shape is "
					 "unknown; no tag may replace it",
					 cur->tag);
	else
		d->problem = md_asprintf("declared tag \"%s\" does not read as a version, so its "
					 "shape (scheme, parts, flavour) is unknown and no tag may "
					 "replace it; declare a version tag such as 1.2.3 or "
					 "1.2.3-alpine, or use \"policy\": \"latest\"",
					 cur->tag);
	if (!d->problem)
		return md_err_set(err, "out of memory for a problem");
	d->status = MD_DECISION_UNREADABLE;
	return 0;
}

static int decide_choose(struct md_decision *d, struct md_run *r, struct md_cand *c, size_t n,
			 const struct md_cand *cur, struct md_err *err)
{
	int best = first_kept(c, n);

	if (r->cur_unreadable)
		return report_unreadable(d, r, cur, err);

	/* Never downgrade: a declared tag that still satisfies the policy
	 * stays unless something strictly better qualifies. A declared tag
	 * the policy no longer accepts (a narrowed range) may move down. */
	if (cur->tag && cur->kept &&
	    (best < 0 || md_policy__cand_value_cmp(cur, &c[best], r->p->kind->order) >= 0))
		return keep_current(d, r, c, n, cur, err);
	if (best < 0)
		return 0;
	c[best].reason = MD_R_CHOSEN;
	return md_policy__decision_set_tag(d, c[best].tag, err);
}

/* The declared tag goes through the static stages, listed or not, with the
 * facts of its listing if any. The gates are not applied to it: it is
 * already deployed, so its age and platforms were good enough, and a
 * declared tag missing from the listing has no facts at all. */
static void judge_current(struct md_run *r, struct md_cand *cur, const struct md_cand *c,
			  size_t n)
{
	int i = md_policy__cands_find(c, n, cur->tag);
	const char *why;

	if (i >= 0) {
		cur->src = c[i].src;
		cur->created = c[i].created;
	}
	md_policy__stage_key(r, cur);
	/* Its flavour and version scheme are the ones every candidate must
	 * have. `latest` (like a line without a tag) has no shape to keep: the
	 * site starts on the plain versions. Any other tag that does not read
	 * as a version has a shape we cannot see ("3.13.0-foo_1"): guessing
	 * would move the site to another flavour or scheme. */
	r->cur_flavour = cur->tv.flavour;
	r->cur_tv = cur->parsed ? &cur->tv : NULL;
	r->cur_unreadable = r->p->kind->order == MD_ORDER_VERSION && !cur->parsed &&
			    strcmp(cur->tag, "latest") != 0;
	why = md_policy__stage_static(r, cur);
	cur->kept = !why;
	cur->reason = why ? why : MD_R_IN_RANGE;
}

/* Shared by decide and rank: prepare, judge, order. */
static int run_pipeline(struct md_run *r, struct md_cand **c, size_t *nc, struct md_cand *cur,
			const struct md_candidate *cands, size_t n, int gates, struct md_err *err)
{
	if (md_policy__cands_prepare(c, nc, cands, n, err) < 0)
		return -1;
	if (cur->tag)
		judge_current(r, cur, *c, *nc);
	for (size_t i = 0; i < *nc; i++)
		judge(r, &(*c)[i], gates);
	if (r->oom)
		return md_err_set(err, "out of memory judging %zu candidate tags", *nc);
	md_policy__cands_sort(*c, *nc, r->p->kind->order);
	return 0;
}

int md_policy__decide_choose(struct md_decision *d, const struct md_policy *p,
			    const char *current_tag, const struct md_candidate *cands, size_t n,
			    const struct md_decide_ctx *ctx, struct md_err *err)
{
	struct md_cand *c = NULL, cur = { .tag = current_tag };
	struct md_run r;
	size_t nc = 0;
	int rc = -1;

	if (md_policy__run_init(&r, p, ctx, err) < 0)
		goto out;
	if (run_pipeline(&r, &c, &nc, &cur, cands, n, 1, err) < 0 ||
	    decide_choose(d, &r, c, nc, &cur, err) < 0)
		goto out;
	rc = md_policy__cands_trace(d, c, nc, err);
out:
	md_policy__cand_clear(&cur);
	md_policy__cands_free(c, nc);
	md_policy__run_clear(&r);
	return rc;
}

int md_policy_rank(struct md_strv *out, const struct md_policy *p, const char *current_tag,
		   const struct md_candidate *cands, size_t n, struct md_err *err)
{
	struct md_cand *c = NULL, cur = { .tag = current_tag };
	struct md_run r;
	size_t nc = 0;
	int rc = -1;

	if (!p)
		return md_err_set(err, "no policy to rank with");
	if (p->kind->order == MD_ORDER_NONE)
		return 0; /* latest/digest follow one tag: nothing to rank */
	if (md_policy__run_init(&r, p, NULL, err) < 0)
		goto out;
	if (run_pipeline(&r, &c, &nc, &cur, cands, n, 0, err) < 0)
		goto out;
	for (size_t i = 0; i < nc; i++)
		if (c[i].kept && md_strv_push(out, c[i].tag) < 0) {
			md_err_set(err, "out of memory ranking %zu candidate tags", nc);
			goto out;
		}
	rc = 0;
out:
	md_policy__cand_clear(&cur);
	md_policy__cands_free(c, nc);
	md_policy__run_clear(&r);
	return rc;
}

/* latest/digest: the tag is fixed; the watcher re-resolves its digest. The
 * trace only says which listed tag that is. */
int md_policy__decide_follow(struct md_decision *d, const struct md_policy *p,
			    const char *current_tag, const struct md_candidate *cands, size_t n,
			    const struct md_decide_ctx *ctx, struct md_err *err)
{
	const char *tag = md_policy_followed_tag(p, current_tag);
	struct md_cand *c = NULL;
	size_t nc = 0;
	int rc = -1;

	(void)ctx;
	if (md_policy__cands_prepare(&c, &nc, cands, n, err) < 0)
		return -1;
	md_policy__cands_sort(c, nc, MD_ORDER_VERSION);
	for (size_t i = 0; i < nc; i++) {
		c[i].kept = strcmp(c[i].tag, tag) == 0;
		c[i].reason = c[i].kept ? MD_R_FOLLOWED : MD_R_NOT_FOLLOWED;
	}
	if (md_policy__decision_set_tag(d, tag, err) == 0)
		rc = md_policy__cands_trace(d, c, nc, err);
	md_policy__cands_free(c, nc);
	return rc;
}

/* Decisions per policy kind.
 *
 * A choosing policy runs its candidates through a pipeline of stages; each
 * stage may drop a candidate with a reason. Later gates (filters, arch,
 * minimum age) are further stages. The survivors are already ordered, so
 * the choice is the first survivor, subject to never moving down. */
#include "policy_int.h"

#include <stdlib.h>
#include <string.h>

/* NULL keeps the candidate; otherwise the reason it is dropped. */
typedef const char *(*stage_fn)(const struct md_policy *p, const struct md_cand *c);

static const char *stage_semver(const struct md_policy *p, const struct md_cand *c)
{
	(void)p;
	return c->parsed ? NULL : MD_R_NOT_SEMVER;
}

/* Prereleases are judged by the next stage, so "out of range" here means
 * out of range even if prereleases were welcome. */
static const char *stage_range(const struct md_policy *p, const struct md_cand *c)
{
	if (p->range && !md_range_match(p->range, &c->v, 1))
		return MD_R_OUT_OF_RANGE;
	return NULL;
}

/* A prerelease needs `"prerelease": true`, or a range that names a
 * prerelease of the same version (node-semver's rule). */
static const char *stage_prerelease(const struct md_policy *p, const struct md_cand *c)
{
	if (!c->v.pre || p->prerelease)
		return NULL;
	if (p->range && md_range_match(p->range, &c->v, 0))
		return NULL;
	return MD_R_PRERELEASE;
}

static const stage_fn semver_stages[] = { stage_semver, stage_range, stage_prerelease };

static void run_stages(const stage_fn *stages, size_t nstages, const struct md_policy *p,
		       struct md_cand *c)
{
	c->kept = 1;
	c->reason = MD_R_IN_RANGE;
	for (size_t s = 0; s < nstages; s++) {
		const char *why = stages[s](p, c);

		if (why) {
			c->kept = 0;
			c->reason = why;
			return;
		}
	}
}

static int first_kept(const struct md_cand *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (c[i].kept)
			return (int)i;
	return -1;
}

/* The declared tag stays: survivors at or below it are not choices. */
static int keep_current(struct md_decision *d, struct md_cand *c, size_t n,
			const struct md_cand *cur, struct md_err *err)
{
	for (size_t i = 0; i < n; i++) {
		if (!c[i].kept)
			continue;
		if (strcmp(c[i].tag, cur->tag) == 0) {
			c[i].reason = MD_R_CURRENT;
			continue;
		}
		c[i].kept = 0;
		c[i].reason = md_semver_cmp(&c[i].v, &cur->v) < 0 ? MD_R_LOWER : MD_R_SAME;
	}
	if (md_cands_find(c, n, cur->tag) < 0) {
		d->warning = md_asprintf("declared tag %s is no longer listed by the registry; "
					 "keeping it",
					 cur->tag);
		if (!d->warning)
			return md_err_set(err, "out of memory for a warning");
	}
	return md_decision_set_tag(d, cur->tag, err);
}

static int decide_choose(struct md_decision *d, struct md_cand *c, size_t n,
			 const struct md_cand *cur, struct md_err *err)
{
	int best = first_kept(c, n);

	/* Never downgrade: a declared version that still satisfies the policy
	 * stays unless something strictly higher qualifies. A declared version
	 * the policy no longer accepts (a narrowed range) may move down. */
	if (cur->kept && (best < 0 || md_semver_cmp(&cur->v, &c[best].v) >= 0))
		return keep_current(d, c, n, cur, err);
	if (best < 0)
		return 0;
	c[best].reason = MD_R_CHOSEN;
	return md_decision_set_tag(d, c[best].tag, err);
}

int md_policy_decide_semver(struct md_decision *d, const struct md_policy *p,
			    const char *current_tag, const struct md_candidate *cands, size_t n,
			    struct md_err *err)
{
	const size_t nstages = sizeof(semver_stages) / sizeof(semver_stages[0]);
	struct md_cand *c = NULL, cur = { .tag = current_tag };
	size_t nc = 0;
	int rc = -1;

	if (md_cands_prepare(&c, &nc, cands, n, err) < 0)
		return -1;
	for (size_t i = 0; i < nc; i++)
		run_stages(semver_stages, nstages, p, &c[i]);
	/* The declared tag goes through the same stages, listed or not. */
	if (current_tag) {
		cur.parsed = md_semver_parse_into(&cur.v, current_tag) == 0;
		run_stages(semver_stages, nstages, p, &cur);
	}
	if (decide_choose(d, c, nc, &cur, err) < 0)
		goto out;
	rc = md_cands_trace(d, c, nc, err);
out:
	md_semver_clear(&cur.v);
	md_cands_free(c, nc);
	return rc;
}

/* latest/digest: the tag is fixed; the watcher re-resolves its digest. The
 * trace only says which listed tag that is. */
int md_policy_decide_follow(struct md_decision *d, const struct md_policy *p,
			    const char *current_tag, const struct md_candidate *cands, size_t n,
			    struct md_err *err)
{
	const char *tag = md_policy_followed_tag(p, current_tag);
	struct md_cand *c = NULL;
	size_t nc = 0;
	int rc = -1;

	if (md_cands_prepare(&c, &nc, cands, n, err) < 0)
		return -1;
	for (size_t i = 0; i < nc; i++) {
		c[i].kept = strcmp(c[i].tag, tag) == 0;
		c[i].reason = c[i].kept ? MD_R_FOLLOWED : MD_R_NOT_FOLLOWED;
	}
	if (md_decision_set_tag(d, tag, err) == 0)
		rc = md_cands_trace(d, c, nc, err);
	md_cands_free(c, nc);
	return rc;
}

/* Candidate facts for the arch and minAge gates and the `newest` policy.
 *
 * Facts cost requests (a HEAD for the digest, then up to three GETs), so
 * they are looked up lazily: in the policy's rank order, best first,
 * stopping as soon as the decision falls on a tag whose facts are known.
 * A digest's facts never change, so the state keeps them by digest and a
 * tag that did not move costs only its HEAD, or nothing at all when the
 * repository's tag list is unchanged (md_watcher__resolve_digest). */
#include "watcher_int.h"

#include <stdlib.h>
#include <string.h>

/* The facts of r's digest: from the state, else from the registry (and
 * then into the state). */
static int fetch_facts(struct watch_run *w, const struct repo_group *g, struct resolved *r,
		       struct md_err *err)
{
	struct md_image_facts f;
	int known = 0;

	if (w->st) {
		known = md_state_digest_facts_get(w->st, r->digest, &r->created, &r->platforms);
		if (known < 0)
			return md_err_set(err, "out of memory reading cached facts of %s", r->digest);
	}
	if (!known) {
		if (md_registry_image_facts(w->reg, g->domain, g->path, r->digest, &f, err) < 0)
			return -1;
		r->created = f.created;
		md_strv_clear(&r->platforms);
		r->platforms = f.platforms;
		memset(&f.platforms, 0, sizeof(f.platforms));
		md_registry_image_facts_clear(&f);
		/* Best effort: a fact the state refuses is simply asked again. */
		if (w->st)
			md_state_digest_facts_put(w->st, r->digest, r->created, &r->platforms,
						  w->ctx->now);
	}
	r->has_facts = 1;
	return 0;
}

/* Fill c's facts. Returns 1 when filled, 0 when the repository's lookup
 * budget is spent (c stays without facts), -1 with err set when the tag
 * cannot be resolved or its facts cannot be read. */
static int candidate_facts(struct watch_run *w, struct repo_group *g, struct md_candidate *c,
			   struct md_err *err)
{
	struct resolved *r = NULL;

	for (size_t i = 0; i < w->nres && !r; i++)
		if (w->res[i]->group == g && !strcmp(w->res[i]->tag, c->tag))
			r = w->res[i];
	if (!r || (!r->has_facts && !r->facts_error)) {
		if (g->lookups >= MD_WATCH_MAX_FACT_LOOKUPS)
			return 0;
		g->lookups++;
	}
	if (!r && !(r = md_watcher__resolve_digest(w, g, c->tag, 1)))
		return md_err_set(err, "out of memory");
	if (r->error)
		return md_err_set(err, "%s", r->error);
	if (!r->has_facts && !r->facts_error && fetch_facts(w, g, r, err) < 0) {
		/* A digest trusted from the state may be gone upstream (the tag
		 * was re-pushed in place): HEAD once before calling it broken. */
		if (r->cached) {
			md_watcher__resolve_digest(w, g, c->tag, 0);
			if (r->error)
				return md_err_set(err, "%s", r->error);
			if (fetch_facts(w, g, r, err) == 0)
				goto known;
		}
		r->facts_error = md_strdup(err->msg);
		return -1;
	}
known:
	if (r->facts_error)
		return md_err_set(err, "%s", r->facts_error);
	c->created = r->created;
	c->platforms = (const char *const *)r->platforms.v;
	c->nplatforms = r->platforms.n;
	c->facts = 1;
	return 1;
}

static struct md_candidate *find_cand(struct md_candidate *cands, size_t n, const char *tag)
{
	for (size_t i = 0; tag && i < n; i++)
		if (!strcmp(cands[i].tag, tag))
			return &cands[i];
	return NULL;
}

static int decide(struct watch_run *w, struct md_watch_site *s, struct md_candidate *cands,
		  size_t n, struct md_err *err)
{
	md_decision_free(s->decision);
	s->decision = NULL;
	return md_policy_decide_ctx(&s->decision, s->policy, md_ref_tag(s->ref), cands, n,
				    w->ctx, err);
}

/* The decision stands once it names a tag whose facts the gates saw. */
static int settled(const struct md_decision *d, struct md_candidate *cands, size_t n)
{
	const struct md_candidate *c = find_cand(cands, n, md_decision_tag(d));

	return c && c->facts;
}

/* After the budget ran out, a move to a tag nobody looked at would skip
 * the gates: hold the site and say why. */
static int hold_unchecked(struct md_watch_site *s, const struct repo_group *g,
			  struct md_candidate *cands, size_t n)
{
	const char *tag = md_decision_tag(s->decision), *cur = md_ref_tag(s->ref);

	if (!tag || (cur && !strcmp(tag, cur)) || settled(s->decision, cands, n))
		return 0;
	s->warning = md_asprintf("looked up the facts of %d tags of %s this cycle without "
				 "settling on one that passes the gates; site left as it is",
				 MD_WATCH_MAX_FACT_LOOKUPS, g->canonical);
	return 1;
}

int md_watcher__decide_with_facts(struct watch_run *w, struct md_watch_site *s, struct repo_group *g,
			    struct md_candidate *cands, size_t n, int *hold)
{
	/* newest orders by creation time: every ranked candidate needs its
	 * facts before any decision means anything. */
	int newest = !strcmp(md_policy_name(s->policy), "newest"), capped = 0, k;
	struct md_strv ranked = { 0 };
	struct md_err err;

	*hold = 0;
	if (md_policy_rank(&ranked, s->policy, md_ref_tag(s->ref), cands, n, &err) < 0)
		goto fail;
	for (size_t i = 0; i < ranked.n; i++) {
		struct md_candidate *c = find_cand(cands, n, ranked.v[i]);

		if (!c || c->facts)
			continue;
		if ((k = candidate_facts(w, g, c, &err)) < 0)
			goto fail;
		if (k == 0) {
			capped = 1;
			break;
		}
		if (newest)
			continue;
		if (decide(w, s, cands, n, &err) < 0)
			goto fail;
		if (settled(s->decision, cands, n))
			goto done;
	}
	if (decide(w, s, cands, n, &err) < 0)
		goto fail;
	if (capped)
		*hold = hold_unchecked(s, g, cands, n);
done:
	md_strv_clear(&ranked);
	return 0;
fail:
	md_strv_clear(&ranked);
	s->error = md_strdup(err.msg);
	return 0;
}

/* One cycle's registry questions: group sites by repository, list each
 * repository's tags once, decide per site, resolve each needed digest once.
 * Sites whose policy needs facts take the lazy lookup path in facts.c. */
#include "watcher_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

void md_watch_site_clear(struct md_watch_site *s)
{
	if (!s)
		return;
	free(s->tag);
	free(s->digest);
	free(s->warning);
	free(s->error);
	md_decision_free(s->decision);
	s->tag = s->digest = s->warning = s->error = NULL;
	s->decision = NULL;
}

/* The watched repository: the annotation's `repo` when given, else the line's. */
static int watched_repo(const struct md_watch_site *s, char **domain, char **path,
			struct md_err *err)
{
	const char *over = md_policy_repo(s->policy);
	struct md_ref *r = NULL;

	if (over) {
		if (md_ref_parse(&r, over, err) < 0)
			return md_err_prefix(err, "\"repo\"");
		*domain = md_strdup(md_ref_domain(r));
		*path = md_strdup(md_ref_path(r));
		md_ref_free(r);
	} else {
		*domain = md_strdup(md_ref_domain(s->ref));
		*path = md_strdup(md_ref_path(s->ref));
	}
	if (!*domain || !*path) {
		free(*domain);
		free(*path);
		return md_err_set(err, "out of memory");
	}
	return 0;
}

char *md_watcher_repo_of(const struct md_watch_site *s, struct md_err *err)
{
	char *domain, *path, *out;

	if (watched_repo(s, &domain, &path, err) < 0)
		return NULL;
	out = md_asprintf("%s/%s", domain, path);
	free(domain);
	free(path);
	if (!out)
		md_err_set(err, "out of memory");
	return out;
}

static int group_for(struct watch_run *w, const struct md_watch_site *s, size_t *idx,
		     struct md_err *err)
{
	char *domain, *path;
	struct repo_group *g;

	if (watched_repo(s, &domain, &path, err) < 0)
		return -1;
	for (size_t i = 0; i < w->ngroups; i++) {
		if (!strcmp(w->groups[i].domain, domain) && !strcmp(w->groups[i].path, path)) {
			free(domain);
			free(path);
			*idx = i;
			return 0;
		}
	}
	g = &w->groups[w->ngroups];
	memset(g, 0, sizeof(*g));
	g->domain = domain;
	g->path = path;
	g->canonical = md_asprintf("%s/%s", domain, path);
	if (!g->canonical)
		return md_err_set(err, "out of memory");
	*idx = w->ngroups++;
	return 0;
}

/* What the state learns from a group's fresh tag list. */
static void note_group_tags(struct watch_run *w, struct repo_group *g)
{
	/* Steady state: a list identical to last cycle's lets chosen tags
	 * keep the digests the state holds for them, so an unchanged
	 * repository costs its tag list alone. This takes a tag listed
	 * unchanged as unmoved: a tag re-pushed in place, with no tag added
	 * or removed, is seen when the list next changes (`latest`/`digest`
	 * sites, which follow a mutable tag, always HEAD it). */
	if (w->st)
		g->unchanged = md_state_tag_list_seen(w->st, g->canonical, &g->tags) == 1;
	/* First sight of every tag: minAge falls back on it when an image
	 * does not say when it was built. Best effort, like all the state. */
	for (size_t i = 0; w->st && i < g->tags.n; i++)
		md_state_tag_listed(w->st, g->canonical, g->tags.v[i], w->ctx->now);
}

/* The tag lists of every group that needs one, all in one batch (the
 * registry fetches them concurrently). -1 only on OOM. */
static int list_all_tags(struct watch_run *w, struct md_err *err)
{
	struct md_tag_query *q = calloc(w->ngroups ? w->ngroups : 1, sizeof(*q));
	size_t *gi = calloc(w->ngroups ? w->ngroups : 1, sizeof(*gi));
	size_t nq = 0;
	int rc = -1;

	if (!q || !gi) {
		md_err_set(err, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < w->ngroups; i++) {
		struct repo_group *g = &w->groups[i];

		if (g->listed || !g->need_tags)
			continue;
		g->listed = 1;
		q[nq].domain = g->domain;
		q[nq].path = g->path;
		gi[nq++] = i;
	}
	if (nq && md_registry_list_tags_many(w->reg, q, nq, err) < 0)
		goto out;
	for (size_t k = 0; k < nq; k++) {
		struct repo_group *g = &w->groups[gi[k]];

		if (q[k].error) {
			g->error = q[k].error;
			q[k].error = NULL;
			continue;
		}
		g->tags = q[k].tags;
		memset(&q[k].tags, 0, sizeof(q[k].tags));
		note_group_tags(w, g);
	}
	rc = 0;
out:
	for (size_t k = 0; q && k < nq; k++) {
		md_strv_clear(&q[k].tags);
		free(q[k].error);
	}
	free(q);
	free(gi);
	return rc;
}

/* HEAD r's tag (again, when its digest came from the state): whatever was
 * learnt about the old digest goes with it. */
static void head_into(struct watch_run *w, struct resolved *r)
{
	const struct repo_group *g = r->group;
	char *media = NULL, *digest = NULL;
	struct md_err err;

	free(r->digest);
	free(r->error);
	free(r->facts_error);
	free(r->verify_error);
	md_strv_clear(&r->platforms);
	r->digest = r->error = r->facts_error = r->verify_error = NULL;
	r->cached = r->has_facts = r->verified = 0;
	if (md_registry_head_manifest(w->reg, g->domain, g->path, r->tag, &digest, &media,
				      &err) < 0) {
		r->error = md_strdup(err.msg);
		free(digest);
	} else {
		r->digest = digest;
		if (w->st)
			md_state_tag_seen(w->st, g->canonical, r->tag, digest, w->ctx->now);
	}
	free(media);
}

/* The digest of tag, once per (group, tag); the answer is shared by every
 * site. The state's digest is trusted only under an unchanged tag list
 * (md_state_tag_list_seen forgets the digests when the list changes). */
struct resolved *md_watcher__resolve_digest(struct watch_run *w, const struct repo_group *g,
				      const char *tag, int trust)
{
	struct resolved *r, **v;
	const char *known;

	for (size_t i = 0; i < w->nres; i++) {
		r = w->res[i];
		if (r->group != g || strcmp(r->tag, tag))
			continue;
		if (r->cached && !trust)
			head_into(w, r);
		return r;
	}
	v = realloc(w->res, (w->nres + 1) * sizeof(*v));
	if (!v)
		return NULL;
	w->res = v;
	if (!(r = calloc(1, sizeof(*r))))
		return NULL;
	r->group = g;
	if (!(r->tag = md_strdup(tag))) {
		free(r);
		return NULL;
	}
	w->res[w->nres++] = r;
	known = trust && g->unchanged ? md_state_tag_digest(w->st, g->canonical, tag) : NULL;
	if (known) {
		if (!(r->digest = md_strdup(known)))
			return NULL;
		r->cached = 1;
		return r;
	}
	head_into(w, r);
	return r;
}

/* The candidate list: every listed tag, with the first time we saw it. */
static struct md_candidate *candidates(struct watch_run *w, const struct repo_group *g)
{
	struct md_candidate *cands = calloc(g->tags.n ? g->tags.n : 1, sizeof(*cands));

	for (size_t i = 0; cands && i < g->tags.n; i++) {
		cands[i].tag = g->tags.v[i];
		if (w->st)
			cands[i].first_seen =
				md_state_tag_first_seen(w->st, g->canonical, g->tags.v[i]);
	}
	return cands;
}

/* Run the policy: directly, or through the facts lookup when it gates on
 * facts. *hold is set when the decision must not be applied. */
static int run_policy(struct watch_run *w, struct md_watch_site *s, struct repo_group *g,
		      int *hold)
{
	struct md_candidate *cands = NULL;
	struct md_err err;
	size_t n = 0;
	int rc = 0;

	*hold = 0;
	if (md_policy_needs_tag_list(s->policy)) {
		if (!(cands = candidates(w, g)))
			return -1;
		n = g->tags.n;
	}
	if (n && md_policy_needs_facts(s->policy))
		rc = md_watcher__decide_with_facts(w, s, g, cands, n, hold);
	else if (md_policy_decide_ctx(&s->decision, s->policy, md_ref_tag(s->ref), cands, n,
				      w->ctx, &err) < 0)
		s->error = md_strdup(err.msg);
	free(cands);
	return rc;
}

/* *pinned: the resolved digest s pins, checked once every site is decided. */
static int decide_site(struct watch_run *w, struct md_watch_site *s, struct repo_group *g,
		       struct resolved **pinned)
{
	struct resolved *r;
	const char *tag, *warn;
	int hold;

	if (g->error) {
		s->error = md_strdup(g->error);
		return 0;
	}
	if (run_policy(w, s, g, &hold) < 0)
		return -1;
	if (s->error || !s->decision)
		return 0;
	/* A declared tag of unknown shape is the user's to fix: a problem. */
	if (md_decision_status(s->decision) == MD_DECISION_UNREADABLE) {
		s->error = md_strdup(md_decision_problem(s->decision));
		return s->error ? 0 : -1;
	}
	warn = md_decision_warning(s->decision);
	if (warn && !s->warning)
		s->warning = md_strdup(warn);
	if (hold)
		return 0;
	tag = md_decision_tag(s->decision);
	/* A declared tag that vanished upstream is kept as it is (the policy
	 * warned); there is no digest left to ask for. */
	if (!tag || (md_policy_needs_tag_list(s->policy) && !md_strv_contains(&g->tags, tag)))
		return 0;
	s->tag = md_strdup(tag);
	if (md_policy_pin(s->policy) == MD_PIN_TAG && md_policy_kind(s->policy) == MD_POLICY_SEMVER)
		return 0;
	/* A choosing policy may trust the state for an unchanged list; a
	 * followed tag (latest, digest) is mutable by nature: always HEAD. */
	r = md_watcher__resolve_digest(w, g, tag, md_policy_needs_tag_list(s->policy));
	if (!r)
		return -1;
	if (r->error) {
		s->error = md_strdup(r->error);
	} else {
		s->digest = md_strdup(r->digest);
		*pinned = r;
	}
	return 0;
}

/* A digest is pinned only once its manifest was fetched by that digest
 * and its bytes hashed to it: a HEAD's Docker-Content-Digest alone is the
 * registry's word. Facts were fetched that way (now or, from the state, in
 * an earlier cycle), and so was a digest the state records as verified:
 * those cost nothing, so a steady cycle still costs one HEAD. Otherwise
 * one GET, remembered in the state. -1 only on OOM. */
static int verify_pinned(struct watch_run *w, struct resolved *r)
{
	const struct repo_group *g = r->group;
	struct md_err err;

	if (r->verified || r->verify_error)
		return 0;
	if (r->has_facts || (w->st && md_state_digest_verified(w->st, r->digest))) {
		r->verified = 1;
		return 0;
	}
	if (md_registry_verify_manifest(w->reg, g->domain, g->path, r->digest, &err) < 0) {
		r->verify_error = md_asprintf("%s:%s: the registry says the tag is at %s, but that "
					      "digest does not check out (%s); site left as it is",
					      g->canonical, r->tag, r->digest, err.msg);
		return r->verify_error ? 0 : -1;
	}
	r->verified = 1;
	/* Best effort, like all the state: unrecorded, it is checked again. */
	if (w->st)
		md_state_digest_verified_put(w->st, r->digest, w->ctx->now);
	return 0;
}

/* After every site is decided, so a digest whose facts a choosing site
 * fetched is not fetched again to verify it. */
static int verify_sites(struct watch_run *w, struct md_watch_site *sites, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct resolved *r = w->site_res[i];

		if (!r || !sites[i].digest)
			continue;
		if (verify_pinned(w, r) < 0)
			return -1;
		if (!r->verify_error)
			continue;
		free(sites[i].digest);
		sites[i].digest = NULL;
		if (!(sites[i].error = md_strdup(r->verify_error)))
			return -1;
	}
	return 0;
}

static void run_free(struct watch_run *w)
{
	for (size_t i = 0; i < w->ngroups; i++) {
		free(w->groups[i].domain);
		free(w->groups[i].path);
		free(w->groups[i].canonical);
		free(w->groups[i].error);
		md_strv_clear(&w->groups[i].tags);
	}
	for (size_t i = 0; i < w->nres; i++) {
		free(w->res[i]->tag);
		free(w->res[i]->digest);
		free(w->res[i]->error);
		free(w->res[i]->facts_error);
		free(w->res[i]->verify_error);
		md_strv_clear(&w->res[i]->platforms);
		free(w->res[i]);
	}
	free(w->groups);
	free(w->res);
	free(w->site_group);
	free(w->site_res);
}

int md_watcher_resolve_ctx(struct md_registry *reg, struct md_state *st,
			   struct md_watch_site *sites, size_t n, const struct md_decide_ctx *ctx,
			   struct md_err *err)
{
	struct watch_run w = { .reg = reg, .st = st, .ctx = ctx };
	int rc = -1;

	w.groups = calloc(n ? n : 1, sizeof(*w.groups));
	w.site_group = calloc(n ? n : 1, sizeof(*w.site_group));
	w.site_res = calloc(n ? n : 1, sizeof(*w.site_res));
	if (!w.groups || !w.site_group || !w.site_res) {
		md_err_set(err, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct md_err serr;

		w.site_group[i] = SIZE_MAX;
		if (group_for(&w, &sites[i], &w.site_group[i], &serr) < 0) {
			sites[i].error = md_strdup(serr.msg);
			continue;
		}
		if (md_policy_needs_tag_list(sites[i].policy))
			w.groups[w.site_group[i]].need_tags = 1;
	}
	if (list_all_tags(&w, err) < 0)
		goto out;
	/* Sites following a tag first: their fresh HEADs are then what a
	 * choosing site picking the same tag shares, not a trusted digest. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			int choosing = md_policy_needs_tag_list(sites[i].policy) != 0;

			if (w.site_group[i] == SIZE_MAX || choosing != pass)
				continue;
			if (decide_site(&w, &sites[i], &w.groups[w.site_group[i]],
					&w.site_res[i]) < 0) {
				md_err_set(err, "out of memory");
				goto out;
			}
		}
	}
	if (verify_sites(&w, sites, n) < 0) {
		md_err_set(err, "out of memory");
		goto out;
	}
	rc = 0;
out:
	run_free(&w);
	return rc;
}

void md_watcher_host_platform(char *out, size_t outlen)
{
	struct utsname u;

	if (uname(&u) < 0) {
		md_strlcpy(out, "linux/amd64", outlen);
		return;
	}
	/* A machine the policy cannot map keeps its own name: a wrong guess
	 * (amd64) would pass the arch gate for images that cannot run here. */
	if (md_policy_host_platform(u.machine, out, outlen) < 0)
		snprintf(out, outlen, "linux/%s", u.machine);
}

int md_watcher_resolve(struct md_registry *reg, struct md_state *st, struct md_watch_site *sites,
		       size_t n, int64_t now, struct md_err *err)
{
	char platform[128];
	struct md_decide_ctx ctx = { .now = now, .host_platform = platform };

	md_watcher_host_platform(platform, sizeof(platform));
	return md_watcher_resolve_ctx(reg, st, sites, n, &ctx, err);
}

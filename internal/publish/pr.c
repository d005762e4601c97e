/* MD_MODE=pr: one branch and one pull request per image repository.
 *
 * A branch (magos/<image path>) holds one commit on origin/<base>: base's
 * tree with only that image's sites patched, built in memory so the work
 * tree never leaves the base branch. A branch that already holds the same
 * tree on the same base is left alone (a restart causes no churn); a newer
 * decision force-updates it and edits the PR. Open PRs of ours whose image
 * needs no update any more are closed with a comment. A PR the user closed
 * without merging is a "no": the same target is not proposed again (its
 * body carries a marker naming the target); a newer one is. */
#include "publish_int.h"

#include <stdlib.h>
#include <string.h>

#include "magos/github.h"
#include "magos/compose.h"
#include "magos/obs.h"
#include "magos/policy.h"
#include "magos/ref.h"
#include "magos/registry.h"

#define PR_MARK "<!-- magos: "
#define PR_MARK_WITHDRAWN "<!-- magos-withdrawn: "
#define PR_BODY_MAX (60u * 1024)

/* One PR mode run over the cycle's sites. */
struct pr_run {
	const struct md_publish_ctx *p;
	const struct md_publish_site *sites;
	size_t nsites;
};

/* The changes of one image repository: one branch, one PR. */
struct pr_group {
	char *branch;
	const char *image;   /* the first change's image name */
	size_t *changes;     /* indices into rep->changes */
	char **sources;      /* per change: org.opencontainers.image.source, or NULL */
	size_t n;
};

static void groups_free(struct pr_group *g, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < g[i].n; k++)
			free(g[i].sources[k]);
		free(g[i].sources);
		free(g[i].changes);
		free(g[i].branch);
	}
	free(g);
}

/* The parsed site a change was made for (lines are exact: PR mode never
 * re-applies). */
static const struct md_publish_site *site_of(const struct pr_run *c, const struct md_change *ch)
{
	for (size_t i = 0; i < c->nsites; i++) {
		const struct md_publish_site *cs = &c->sites[i];
		const struct md_compose_site *site = md_compose_site_at(cs->scan, cs->index);

		if (site->line == ch->line && !strcmp(cs->path, ch->file) &&
		    !strcmp(site->value, ch->old_value))
			return cs;
	}
	return NULL;
}

static char *branch_of(const struct md_publish_site *cs, struct md_err *err)
{
	char *b = NULL;

	if (md_git_branch_name(&b, MD_PUBLISH_PR_PREFIX, md_ref_path(cs->ref), err) < 0)
		return NULL;
	return b;
}

static int group_add(struct pr_group *g, size_t change)
{
	size_t *v = realloc(g->changes, (g->n + 1) * sizeof(*v));
	char **s;

	if (!v)
		return -1;
	g->changes = v;
	s = realloc(g->sources, (g->n + 1) * sizeof(*s));
	if (!s)
		return -1;
	g->sources = s;
	g->changes[g->n] = change;
	g->sources[g->n] = NULL;
	g->n++;
	return 0;
}

int md_publish__group(const char *const *change_branches, size_t n, size_t *group,
		      size_t *ngroups)
{
	size_t ng = 0;

	for (size_t i = 0; i < n; i++) {
		size_t k;

		for (k = 0; k < i && strcmp(change_branches[k], change_branches[i]); k++)
			;
		group[i] = k < i ? group[k] : ng++;
	}
	*ngroups = ng;
	return 0;
}

static int make_groups(const struct pr_run *c, struct pr_group **out, size_t *nout,
		       struct md_err *err)
{
	const struct md_cycle_report *rep = c->p->rep;
	size_t n = rep->nchanges ? rep->nchanges : 1, ng = 0;
	struct pr_group *g = calloc(n, sizeof(*g));
	char **branches = calloc(n, sizeof(*branches));
	size_t *group = calloc(n, sizeof(*group));
	int rc = -1;

	*out = NULL;
	*nout = 0;
	if (!g || !branches || !group) {
		md_err_set(err, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < rep->nchanges; i++) {
		const struct md_publish_site *cs = site_of(c, &rep->changes[i]);

		if (!cs) {
			md_err_set(err, "%s:%d: the site of %s changed during the cycle",
				   rep->changes[i].file, rep->changes[i].line, rep->changes[i].image);
			goto out;
		}
		if (!(branches[i] = branch_of(cs, err)))
			goto out;
	}
	md_publish__group((const char *const *)branches, rep->nchanges, group, &ng);
	for (size_t i = 0; i < rep->nchanges; i++) {
		struct pr_group *gi = &g[group[i]];

		if (!gi->branch) {
			gi->branch = branches[i];
			branches[i] = NULL;
			gi->image = rep->changes[i].image;
		}
		if (group_add(gi, i) < 0) {
			md_err_set(err, "out of memory");
			goto out;
		}
	}
	*out = g;
	*nout = ng;
	g = NULL;
	rc = 0;
out:
	if (g)
		groups_free(g, ng);
	for (size_t i = 0; i < rep->nchanges; i++)
		free(branches ? branches[i] : NULL);
	free(branches);
	free(group);
	return rc;
}

/* ---- the branch's files ----------------------------------------------------- */

static const struct md_change *change_at(const struct pr_run *c, const struct pr_group *g,
					 size_t k)
{
	return &c->p->rep->changes[g->changes[k]];
}

/* Patch the file of site sf with only the group's changes. 0 and *out
 * NULL when the group changes nothing in it. */
static int patch_for_group(const struct pr_run *c, const struct pr_group *g,
			   const struct md_publish_site *sf, char **out, size_t *len,
			   struct md_err *err)
{
	size_t ns = md_compose_site_count(sf->scan), k = 0;
	struct md_compose_edit *edits = calloc(ns ? ns : 1, sizeof(*edits));
	int rc = 0;

	*out = NULL;
	if (!edits)
		return md_err_set(err, "out of memory");
	for (size_t j = 0; j < g->n; j++) {
		const struct md_change *ch = change_at(c, g, j);
		const struct md_publish_site *cs = site_of(c, ch);

		if (!cs || cs->scan != sf->scan)
			continue;
		edits[k].site = cs->index;
		edits[k].new_value = ch->new_value;
		k++;
	}
	if (k)
		rc = md_compose_patch(out, len, sf->scan, edits, k, err);
	free(edits);
	return rc;
}

/* 1 when site i is the first of its file among the sites. */
static int first_of_file(const struct pr_run *c, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (c->sites[k].scan == c->sites[i].scan)
			return 0;
	return 1;
}

static int group_files(const struct pr_run *c, const struct pr_group *g, struct md_git_blobs *pf,
		       struct md_err *err)
{
	if (md_git_blobs_init(pf, c->nsites) < 0)
		return md_err_set(err, "out of memory");
	for (size_t i = 0; i < c->nsites; i++) {
		const struct md_publish_site *sf = &c->sites[i];
		char *data;
		size_t len = 0;

		if (!first_of_file(c, i))
			continue;
		if (patch_for_group(c, g, sf, &data, &len, err) < 0) {
			md_git_blobs_clear(pf);
			return -1;
		}
		if (!data)
			continue;
		pf->owned[pf->n] = data;
		pf->v[pf->n] = (struct md_git_blob){ .path = sf->path, .data = data, .len = len,
						     .mode = sf->mode };
		pf->n++;
	}
	if (!pf->n) {
		md_git_blobs_clear(pf);
		return md_err_set(err, "branch %s: no file changes", g->branch);
	}
	return 0;
}

/* ---- title, body, message ------------------------------------------------------ */

/* The tag the group moves to when all its changes agree, else NULL. */
static const char *common_target(const struct pr_run *c, const struct pr_group *g)
{
	const char *to = change_at(c, g, 0)->to;

	for (size_t k = 1; k < g->n; k++)
		if (strcmp(change_at(c, g, k)->to, to))
			return NULL;
	return to;
}

static char *pr_title(const struct pr_run *c, const struct pr_group *g)
{
	const char *to = common_target(c, g);

	if (to)
		return md_asprintf("magos-dominus: update %s to %s", g->image, to);
	return md_asprintf("magos-dominus: update %s", g->image);
}

static char *pr_message(const struct pr_run *c, const struct pr_group *g)
{
	struct md_buf b;
	char *title = pr_title(c, g);

	md_buf_init(&b, PR_BODY_MAX);
	md_buf_printf(&b, "%s\n\n", title ? title : "magos-dominus: update");
	for (size_t k = 0; k < g->n; k++) {
		const struct md_change *ch = change_at(c, g, k);

		md_buf_printf(&b, "- %s: %s -> %s (%s:%d)\n", ch->image, ch->from, ch->to, ch->file,
			      ch->line);
	}
	free(title);
	return md_buf_steal(&b);
}

/* What the PR proposes, one HTML comment per change, "<!-- magos:
 * <image>=<tag>@<digest> -->": how a closed PR is matched against a new
 * proposal. Image names, tags and digests cannot hold "-->". */
static char *pr_markers(const struct pr_run *c, const struct pr_group *g)
{
	struct md_buf b;

	md_buf_init(&b, PR_BODY_MAX);
	for (size_t k = 0; k < g->n; k++) {
		const struct md_change *ch = change_at(c, g, k);

		md_buf_printf(&b, "%s" PR_MARK "%s=%s%s%s -->", k ? "\n" : "", ch->image,
			      ch->to, ch->digest ? "@" : "", ch->digest ? ch->digest : "");
	}
	return md_buf_steal(&b);
}

/* Markdown table cells: a '|' or '`' or line break from a file name would
 * break the table. */
static void put_cell(struct md_buf *b, const char *s)
{
	md_buf_puts(b, "`");
	for (; *s; s++) {
		char ch = (*s == '|' || *s == '`' || *s == '\n' || *s == '\r') ? '_' : *s;

		md_buf_append(b, &ch, 1);
	}
	md_buf_puts(b, "`");
}

/* <source>/releases/tag/<tag> for a GitHub source and a tag move, else the
 * source itself. */
static void put_source(struct md_buf *b, const char *src, const struct md_change *ch)
{
	size_t n;

	if (!src) {
		md_buf_puts(b, "—");
		return;
	}
	n = strlen(src);
	while (n && src[n - 1] == '/')
		n--;
	if (n > 4 && !strncmp(src + n - 4, ".git", 4))
		n -= 4;
	if (!strncmp(src, "https://github.com/", 19) && strncmp(ch->to, "sha256:", 7) &&
	    strcmp(ch->from, ch->to))
		md_buf_printf(b, "[release %s](%.*s/releases/tag/%s)", ch->to, (int)n, src, ch->to);
	else
		md_buf_printf(b, "[source](%s)", src);
}

static void put_policy(struct md_buf *b, const struct pr_run *c, const struct md_change *ch)
{
	const struct md_publish_site *cs = site_of(c, ch);
	const char *range;

	if (!cs) {
		md_buf_puts(b, "—");
		return;
	}
	range = md_policy_range(cs->policy);
	md_buf_printf(b, "`%s%s%s`", md_policy_kind_name(md_policy_kind(cs->policy)),
		      range ? " " : "", range ? range : "");
}

static char *pr_body(const struct pr_run *c, const struct pr_group *g, const char *markers)
{
	struct md_buf b;
	char where[1100];

	md_buf_init(&b, PR_BODY_MAX);
	md_buf_printf(&b, "magos-dominus proposes an update of `%s` on `%s`.\n\n", g->image,
		      c->p->s->branch);
	md_buf_puts(&b, "| image | update | digest | policy | file | source |\n"
			"|---|---|---|---|---|---|\n");
	for (size_t k = 0; k < g->n; k++) {
		const struct md_change *ch = change_at(c, g, k);

		md_buf_puts(&b, "| ");
		put_cell(&b, ch->image);
		md_buf_printf(&b, " | `%s` → `%s` | ", ch->from, ch->to);
		if (ch->digest)
			put_cell(&b, ch->digest);
		else
			md_buf_puts(&b, "—");
		md_buf_puts(&b, " | ");
		put_policy(&b, c, ch);
		md_buf_puts(&b, " | ");
		snprintf(where, sizeof(where), "%s:%d", ch->file, ch->line);
		put_cell(&b, where);
		md_buf_puts(&b, " | ");
		put_source(&b, g->sources[k], ch);
		md_buf_puts(&b, " |\n");
	}
	md_buf_puts(&b, "\nThis branch is managed by magos-dominus: it is force-updated when a "
			"newer image is chosen, and this pull request is closed when it is no "
			"longer needed. Closing it without merging declines this update: it is "
			"not proposed again, a newer one is.\n\n");
	md_buf_printf(&b, "%s\n", markers);
	return md_buf_steal(&b);
}

/* Sources are a nicety: a registry that will not say leaves the cell empty. */
static void look_up_sources(struct pr_run *c, struct pr_group *g)
{
	for (size_t k = 0; k < g->n && c->p->reg; k++) {
		const struct md_change *ch = change_at(c, g, k);
		const struct md_publish_site *cs = site_of(c, ch);
		const char *ref = ch->digest ? ch->digest : ch->to;
		struct md_err err;

		if (!cs || !md_ref_valid_digest(ref))
			continue;
		if (md_registry_image_source(c->p->reg, md_ref_domain(cs->ref),
					     md_ref_path(cs->ref), ref, &g->sources[k], &err) < 0)
			md_log(MD_LOG_DEBUG, "cannot read the image's source", "image", ch->image,
			       "error", err.msg, NULL);
	}
}

/* ---- one branch ------------------------------------------------------------------ */

const char *md_publish_action_name(enum md_pr_action a)
{
	switch (a) {
	case MD_PR_OPENED:
		return "opened";
	case MD_PR_UPDATED:
		return "updated";
	case MD_PR_CLOSED:
		return "closed";
	case MD_PR_DECLINED:
		return "declined";
	case MD_PR_UNCHANGED:
		break;
	}
	return "unchanged";
}

int md_publish__pr_report(const struct md_publish_ctx *p, const char *image, const char *branch,
			  enum md_pr_action action, long number, const char *url)
{
	struct md_cycle_report *rep = p->rep;
	struct md_pr_report *v = realloc(rep->prs, (rep->nprs + 1) * sizeof(*v));
	char num[32];

	if (!v)
		return -1;
	rep->prs = v;
	v = &rep->prs[rep->nprs++];
	memset(v, 0, sizeof(*v));
	v->branch = md_strdup(branch);
	v->action = action;
	v->number = number;
	v->url = url ? md_strdup(url) : NULL;
	snprintf(num, sizeof(num), "%ld", number);
	/* "declined" has its own sentence (publish_group). */
	if (action != MD_PR_UNCHANGED && action != MD_PR_DECLINED) {
		char msg[64];

		snprintf(msg, sizeof(msg), "pull request %s", md_publish_action_name(action));
		md_log(MD_LOG_INFO, msg, "image", image, "branch", branch,
		       "number", num, "url", url, NULL);
	}
	return v->branch && (!url || v->url) ? 0 : -1;
}

int md_publish__branch(const struct md_publish_ctx *p, const char *branch, const char *base_oid,
		       const struct md_git_blob *files, size_t n, const char *message,
		       struct md_err *err)
{
	struct md_github_file *api = NULL;
	char oid[41];
	int rc, via_api = p->s->commit_via_api;

	rc = md_git_branch_commit(p->git, branch, files, n, message, !via_api, oid, err);
	if (rc != 0)
		return rc;
	if (!via_api) {
		md_publish__git_op(p);
		rc = md_git_branch_push(p->git, branch, oid, err);
	} else if (!(api = calloc(n ? n : 1, sizeof(*api)))) {
		rc = md_err_set(err, "out of memory");
	} else {
		for (size_t i = 0; i < n; i++)
			api[i] = (struct md_github_file){ .path = files[i].path,
							  .data = files[i].data,
							  .len = files[i].len,
							  .mode = md_publish__blob_mode(files[i].mode) };
		rc = md_github_commit(p->gh, branch, base_oid, api, n, message, 1, oid, err);
		free(api);
	}
	md_publish__progress(p);
	return rc < 0 ? -1 : 0;
}

/* Bring the branch to the commit it should hold: 1 when it already does. */
static int update_branch(struct pr_run *c, const struct pr_group *g, const char *base_oid,
			 struct md_err *err)
{
	struct md_git_blobs pf;
	char *msg = pr_message(c, g);
	int rc = -1;

	if (!msg)
		return md_err_set(err, "out of memory");
	if (group_files(c, g, &pf, err) == 0) {
		rc = md_publish__branch(c->p, g->branch, base_oid, pf.v, pf.n, msg, err);
		md_git_blobs_clear(&pf);
	}
	free(msg);
	return rc;
}

/* 1 when the user closed, without merging, a PR of this branch proposing
 * exactly these markers: the update is declined (reported, logged once per
 * cycle) and neither the branch nor a PR is touched. */
static int declined(struct pr_run *c, const struct pr_group *g, const char *markers,
		    struct md_err *err)
{
	struct md_github_pr *pr = NULL;
	const char *to = common_target(c, g);
	char *msg;
	int rc;

	if (md_github_pr_find_closed(c->p->gh, g->branch, c->p->s->branch, markers, &pr, err) < 0)
		return -1;
	if (!pr)
		return 0;
	msg = md_asprintf("pull request was closed without merging; not proposing %s %s again",
			  g->image, to ? to : "this update");
	if (msg) {
		char num[32];

		snprintf(num, sizeof(num), "%ld", pr->number);
		md_log(MD_LOG_INFO, msg, "image", g->image, "branch", g->branch, "number", num,
		       "url", pr->html_url, NULL);
	}
	rc = md_publish__pr_report(c->p, g->image, g->branch, MD_PR_DECLINED, pr->number,
				   pr->html_url);
	free(msg);
	md_github_pr_clear(pr);
	free(pr);
	return rc < 0 || !msg ? md_err_set(err, "out of memory") : 1;
}

static int publish_group(struct pr_run *c, struct pr_group *g, const char *base_oid,
			 struct md_err *err)
{
	struct md_github *gh = c->p->gh;
	struct md_github_pr *pr = NULL;
	enum md_pr_action action = MD_PR_UNCHANGED;
	char *title = NULL, *body = NULL, *markers = pr_markers(c, g);
	int same, rc = -1;

	if (!markers)
		return md_err_set(err, "out of memory");
	if (md_github_pr_find(gh, g->branch, c->p->s->branch, &pr, err) < 0)
		goto out;
	/* An open PR is still a question, whatever was closed before it. */
	if (!pr && (rc = declined(c, g, markers, err)) != 0) {
		rc = rc < 0 ? -1 : 0;
		goto out;
	}
	rc = -1;
	same = update_branch(c, g, base_oid, err);
	if (same < 0)
		goto out;
	look_up_sources(c, g);
	title = pr_title(c, g);
	body = pr_body(c, g, markers);
	if (!title || !body) {
		md_err_set(err, "out of memory");
		goto out;
	}
	if (!pr) {
		if (md_github_pr_create(gh, g->branch, c->p->s->branch, title, body, &pr, err) < 0)
			goto out;
		action = MD_PR_OPENED;
	} else if (!same || strcmp(pr->title ? pr->title : "", title) ||
		   !strstr(pr->body ? pr->body : "", markers)) {
		if (md_github_pr_update(gh, pr->number, title, body, err) < 0)
			goto out;
		action = MD_PR_UPDATED;
	}
	rc = md_publish__pr_report(c->p, g->image, g->branch, action, pr->number, pr->html_url) < 0
		     ? md_err_set(err, "out of memory") : 0;
out:
	if (pr) {
		md_github_pr_clear(pr);
		free(pr);
	}
	free(markers);
	free(title);
	free(body);
	return rc;
}

/* ---- PRs no longer needed ----------------------------------------------------------- */

/* 1 when some site of this branch could not be decided this cycle: its PR
 * may still be needed. */
static int branch_undecided(const struct pr_run *c, const char *branch)
{
	for (size_t i = 0; i < c->nsites; i++) {
		char *b;
		int mine;

		if (!c->sites[i].undecided)
			continue;
		b = branch_of(&c->sites[i], NULL);
		mine = b && !strcmp(b, branch);
		free(b);
		if (mine)
			return 1;
	}
	return 0;
}

int md_publish__withdraw(const char *head, const char *const *branches, size_t nbranches,
			 int undecided)
{
	/* Revert PRs are the applier's, not the watcher's. */
	if (md_str_has_prefix(head, MD_PUBLISH_REVERT_PREFIX))
		return 0;
	for (size_t k = 0; k < nbranches; k++)
		if (!strcmp(branches[k], head))
			return 0;
	return !undecided;
}

/* The agent closing its own PR is no "no" from the user: the markers are
 * renamed first, so a later proposal of the same target is not declined. */
static int withdraw_markers(struct pr_run *c, const struct md_github_pr *pr, struct md_err *err)
{
	const char *p = pr->body ? pr->body : "", *m;
	struct md_buf b;
	char *body;
	int rc;

	if (!strstr(p, PR_MARK))
		return 0;
	md_buf_init(&b, PR_BODY_MAX + 4096);
	while ((m = strstr(p, PR_MARK))) {
		md_buf_append(&b, p, (size_t)(m - p));
		md_buf_puts(&b, PR_MARK_WITHDRAWN);
		p = m + strlen(PR_MARK);
	}
	md_buf_puts(&b, p);
	if (!(body = md_buf_steal(&b)))
		return md_err_set(err, "pull request #%ld: its description is too long", pr->number);
	rc = md_github_pr_update(c->p->gh, pr->number, pr->title ? pr->title : "", body, err);
	free(body);
	return rc;
}

static int close_stale(struct pr_run *c, const struct pr_group *g, size_t ng, struct md_err *err)
{
	struct md_github_pr *prs = NULL;
	const char **names = calloc(ng ? ng : 1, sizeof(*names));
	size_t n = 0;
	int rc = 0;

	if (!names)
		return md_err_set(err, "out of memory");
	if (md_github_pr_list(c->p->gh, MD_PUBLISH_PR_PREFIX, c->p->s->branch, &prs, &n, err) < 0) {
		free(names);
		return -1;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		const char *head = prs[i].head;
		char *comment;
		size_t k;

		for (k = 0; k < ng; k++)
			names[k] = g[k].branch;
		if (!md_publish__withdraw(head, names, ng, branch_undecided(c, head)))
			continue;
		comment = md_asprintf("magos-dominus: `%s` on `%s` no longer needs this update (it "
				      "was merged or made by hand, or the image is no longer used); "
				      "closing this pull request and deleting its branch.",
				      head + strlen(MD_PUBLISH_PR_PREFIX), c->p->s->branch);
		if (!comment)
			rc = md_err_set(err, "out of memory");
		else if (withdraw_markers(c, &prs[i], err) < 0 ||
			 md_github_pr_close(c->p->gh, prs[i].number, comment, err) < 0 ||
			 md_github_branch_delete(c->p->gh, head, err) < 0)
			rc = -1;
		else if (md_publish__pr_report(c->p, head + strlen(MD_PUBLISH_PR_PREFIX), head, MD_PR_CLOSED,
					 prs[i].number, prs[i].html_url) < 0)
			rc = md_err_set(err, "out of memory");
		free(comment);
	}
	for (size_t i = 0; i < n; i++)
		md_github_pr_clear(&prs[i]);
	free(prs);
	free(names);
	return rc;
}

int md_publish_prs(const struct md_publish_ctx *p, const struct md_publish_site *sites,
		   size_t nsites, struct md_err *err)
{
	struct pr_run run = { .p = p, .sites = sites, .nsites = nsites };
	struct pr_run *c = &run;
	struct pr_group *g = NULL;
	struct md_err gerr;
	char base[41];
	size_t ng = 0;
	int failed = 0;

	/* every branch is pushed whole or not at all; the cycle ends soon */
	if (!p->gh)
		return md_err_set(err, "MD_MODE=pr needs a GitHub App");
	if (md_git_base_head(p->git, base, err) < 0)
		return -1;
	md_publish__git_op(p);
	if (md_git_branches_fetch(p->git, MD_PUBLISH_PR_PREFIX, err) < 0)
		return -1;
	if (make_groups(c, &g, &ng, err) < 0)
		return -1;
	for (size_t i = 0; i < ng; i++) {
		if (publish_group(c, &g[i], base, &gerr) == 0)
			continue;
		md_log(MD_LOG_ERROR, "cannot update the pull request", "branch", g[i].branch,
		       "error", gerr.msg, NULL);
		if (!failed++)
			*err = gerr;
	}
	if (close_stale(c, g, ng, &gerr) < 0) {
		md_log(MD_LOG_ERROR, "cannot close pull requests no longer needed", "error",
		       gerr.msg, NULL);
		if (!failed++)
			*err = gerr;
	}
	groups_free(g, ng);
	md_publish__git_op(p);
	return failed ? -1 : 0;
}

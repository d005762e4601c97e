/* Steps 6 and 7 handed over: the cycle's working set turned into what
 * publish (struct md_publish_ctx, edits, sites) and rollout (struct
 * md_rollout_ctx, the revert publisher) take. This is the only file that
 * knows both sides. */
#include "reconcile_int.h"

#include <stdlib.h>
#include <string.h>

#include "magos/rollout.h"

static void git_op_hook(void *arg)
{
	md_reconcile__gh_git_op(arg);
}

static void progress_hook(void *arg)
{
	md_reconcile__progress(arg);
}

/* The publish context of this cycle; the App's client first when the step
 * needs it (PR mode, MD_COMMIT_VIA_API, a revert PR). */
static int publisher(struct md_reconcile__cycle *c, int needs_app, struct md_publish_ctx *p,
		     struct md_err *err)
{
	if (needs_app && md_reconcile__github(c, err) < 0)
		return -1;
	*p = (struct md_publish_ctx){
		.git = c->git,
		.gh = c->ctx->gh,
		.reg = c->ctx->reg,
		.s = c->s,
		.stop = c->stop,
		.git_op = git_op_hook,
		.git_op_arg = c,
		.progress = progress_hook,
		.progress_arg = c,
		.rep = c->rep,
	};
	return 0;
}

/* ---- push mode ---------------------------------------------------------------- */

/* The patched files as edits (pointers into c->files). */
static int collect_edits(struct md_reconcile__cycle *c, struct md_publish_source *src,
			 struct md_err *err)
{
	size_t n = 0;

	free(c->edits);
	c->edits = calloc(c->nfiles ? c->nfiles : 1, sizeof(*c->edits));
	if (!c->edits)
		return md_err_set(err, "out of memory");
	for (size_t i = 0; i < c->nfiles; i++) {
		const struct md_reconcile__file *f = &c->files[i];

		if (!f->patched)
			continue;
		c->edits[n++] = (struct md_publish_edit){ .path = f->path, .old_data = f->data,
							  .old_len = f->len,
							  .new_data = f->patched,
							  .new_len = f->patched_len,
							  .mode = f->mode };
	}
	src->edits = c->edits;
	src->nedits = n;
	return 0;
}

static int again(struct md_publish_source *src, struct md_err *err)
{
	struct md_reconcile__cycle *c = src->arg;

	if (md_reconcile__reapply(c, err) < 0)
		return -1;
	return collect_edits(c, src, err);
}

/* ---- PR mode ------------------------------------------------------------------- */

/* 1 when a problem was recorded for file:line this cycle. */
static int has_problem(const struct md_cycle_report *rep, const char *file, int line)
{
	for (size_t k = 0; k < rep->nproblems; k++)
		if (rep->problems[k].line == line && rep->problems[k].file &&
		    !strcmp(rep->problems[k].file, file))
			return 1;
	return 0;
}

static struct md_publish_site *pr_sites(const struct md_reconcile__cycle *c)
{
	struct md_publish_site *v = calloc(c->nsites ? c->nsites : 1, sizeof(*v));

	for (size_t i = 0; v && i < c->nsites; i++) {
		const struct md_reconcile__site *cs = &c->sites[i];
		const struct md_reconcile__file *f = &c->files[cs->file];
		const struct md_compose_site *site = md_compose_site_at(f->scan, cs->index);

		v[i] = (struct md_publish_site){ .path = f->path, .scan = f->scan,
						 .index = cs->index, .mode = f->mode,
						 .ref = cs->ref, .policy = cs->policy,
						 .undecided = has_problem(c->rep, f->path, site->line) };
	}
	return v;
}

int md_reconcile__publish(struct md_reconcile__cycle *c, struct md_err *err)
{
	struct md_publish_ctx p;
	int rc;

	if (c->s->mode == MD_MODE_PR) {
		struct md_publish_site *sites;

		if (publisher(c, 1, &p, err) < 0)
			return -1;
		if (!(sites = pr_sites(c)))
			return md_err_set(err, "out of memory");
		rc = md_publish_prs(&p, sites, c->nsites, err);
		free(sites);
		return rc;
	}
	{
		struct md_publish_source src = { .again = again, .arg = c };

		if (publisher(c, c->s->commit_via_api, &p, err) < 0 ||
		    collect_edits(c, &src, err) < 0)
			return -1;
		return md_publish_commit(&p, &src, err);
	}
}

/* ---- rollout and its revert publisher --------------------------------------------- */

static int revert_push(void *ctx, const struct md_rollout_revert_plan *plan, char oid[41],
		       struct md_err *err)
{
	struct md_reconcile__cycle *c = ctx;
	struct md_publish_ctx p;

	if (publisher(c, 0, &p, err) < 0)
		return -1;
	return md_publish_revert_push(&p, plan->good, plan->head, plan->paths, plan->message, oid,
				      err);
}

static int revert_propose(void *ctx, const struct md_rollout_revert_plan *plan, long *number,
			  struct md_err *err)
{
	struct md_reconcile__cycle *c = ctx;
	struct md_publish_ctx p;

	*number = 0;
	if (publisher(c, 1, &p, err) < 0)
		return -1;
	return md_publish_revert_pr(&p, plan->stack, plan->files, plan->nfiles, plan->title,
				    plan->body, plan->message, number, err);
}

int md_reconcile__rollout(struct md_reconcile__cycle *c, struct md_err *err)
{
	struct md_rollout_ctx x = {
		.cfg = c->cfg,
		.s = c->s,
		.plan = c->mode == MD_CYCLE_PLAN,
		.git = c->git,
		.st = c->st,
		.rep = c->rep,
		.stop = c->stop,
		.progress = progress_hook,
		.progress_arg = c,
		.agent_emails = &c->agent_emails,
		.publisher = { .push = revert_push, .propose = revert_propose, .ctx = c },
	};

	return md_rollout_run(&x, err);
}

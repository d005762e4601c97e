/* One reconcile cycle: git sync → compose scan → watcher → policy → patch
 * → commit + push → state (docs/design.md, The cycle step by step). */
#include "reconcile_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "magos/github.h"
#include "magos/obs.h"
#include "magos/registry.h"
#include "magos/state.h"

#define STOPPED(stop) ((stop) && *(stop))

/* The clone, with the GitHub App's token for git and its bot identity as
 * the author when an App is configured (plan and check open it read-only
 * and need neither). */
static int open_repo(struct md_reconcile__cycle *c, struct md_err *err)
{
	const struct md_settings *s = c->s;
	struct md_git_opts o = {
		.path = s->repo,
		.url = s->git_url,
		.branch = s->branch,
		.author_name = s->git_author_name,
		.author_email = s->git_author_email,
		.ca_file = s->ca_file,
	};
	int rc;

	if (c->mode == MD_CYCLE_APPLY) {
		/* The identity is resolved once here; rollback reuses it. */
		if (md_reconcile__gh_enabled(c) && md_reconcile__github(c, err) < 0)
			return -1;
		if (md_reconcile__identity(c, err) < 0)
			return -1;
		if (md_reconcile__gh_enabled(c)) {
			o.author_name = c->author_name;
			o.author_email = c->author_email;
			o.cred = md_reconcile__gh_git_cred;
			o.cred_ctx = c;
		}
		md_reconcile__gh_git_op(c);
		rc = md_git_open(&c->git, &o, err);
		/* the sync that follows is an operation of its own */
		md_reconcile__gh_git_op(c);
		return rc;
	}
	if (!md_path_exists(s->repo))
		return md_err_set(err,
				  "%s does not exist yet; run `magos-dominus once` first to clone "
				  "it from MD_GIT_URL", s->repo);
	return md_git_open_readonly(&c->git, &o, err);
}

/* Docker Hub counts manifest GETs against a quota: warn while there is
 * still time to act (remaining under 10% of the limit). */
static void log_ratelimits(const struct md_registry *reg)
{
	struct md_registry_ratelimit rl;
	char rem[32], lim[32], win[32];

	for (size_t i = 0; md_registry_ratelimit(reg, i, &rl) == 0; i++) {
		if (rl.limit <= 0 || rl.remaining * 10 >= rl.limit)
			continue;
		snprintf(rem, sizeof(rem), "%lld", (long long)rl.remaining);
		snprintf(lim, sizeof(lim), "%lld", (long long)rl.limit);
		snprintf(win, sizeof(win), "%llds", (long long)rl.window);
		md_log(MD_LOG_WARN, "registry rate limit nearly used up", "registry", rl.host,
		       "remaining", rem, "limit", lim, "window", win, NULL);
	}
}

/* Ask the registries and turn the answers into changes. */
static int decide(struct md_reconcile__cycle *c, struct md_state *st, struct md_err *err)
{
	struct md_watch_site *ws = calloc(c->nsites ? c->nsites : 1, sizeof(*ws));
	struct md_registry *reg = c->ctx->reg;
	int rc = -1;

	if (!ws)
		return md_err_set(err, "out of memory");
	for (size_t i = 0; i < c->nsites; i++) {
		ws[i].ref = c->sites[i].ref;
		ws[i].policy = c->sites[i].policy;
	}
	if (!reg && md_reconcile__new_registry(c->cfg, c->ctx, c->stop, &reg, err) < 0)
		goto out;
	c->ctx->reg = reg;
	if (md_watcher_resolve(reg, st, ws, c->nsites, md_time_now(), err) < 0)
		goto out;
	rc = md_reconcile__plan_changes(c, ws, err);
out:
	if (reg)
		log_ratelimits(reg);
	for (size_t i = 0; i < c->nsites; i++)
		md_watch_site_clear(&ws[i]);
	free(ws);
	return rc;
}

static int make_diffs(struct md_reconcile__cycle *c, struct md_err *err)
{
	for (size_t i = 0; i < c->nfiles; i++) {
		struct md_reconcile__file *f = &c->files[i];
		char *diff = NULL;
		int rc;

		if (!f->patched)
			continue;
		if (md_git_diff_buffers(&diff, f->path, f->data, f->len, f->patched,
					f->patched_len, err) < 0)
			return -1;
		rc = md_strv_push(&c->rep->diffs, diff);
		free(diff);
		if (rc < 0)
			return md_err_set(err, "out of memory");
	}
	return 0;
}

static void log_changes(const struct md_cycle_report *rep)
{
	for (size_t i = 0; i < rep->nchanges; i++) {
		const struct md_change *ch = &rep->changes[i];
		char where[1100];

		snprintf(where, sizeof(where), "%s:%d", ch->file, ch->line);
		md_log(MD_LOG_INFO, "image updated", "image", ch->image, "from", ch->from, "to",
		       ch->to, "digest", ch->digest, "file", where,
		       rep->commit[0] ? "commit" : NULL, rep->commit, NULL);
	}
}

static int load_state(const struct md_settings *s, struct md_state **st, struct md_err *err)
{
	char *warning = NULL;

	if (md_state_load(st, s->state_dir, &warning, err) < 0)
		return -1;
	if (warning)
		md_log(MD_LOG_WARN, warning, NULL);
	free(warning);
	return 0;
}

static int run_cycle(struct md_reconcile__cycle *c, struct md_state *st, volatile sig_atomic_t *stop,
		     struct md_err *err)
{
	if (open_repo(c, err) < 0)
		return -1;
	if (c->mode == MD_CYCLE_APPLY &&
	    (md_publish_recover_worktree(c->git, c->s->state_dir, err) < 0 ||
	     md_git_sync(c->git, err) < 0))
		return -1;
	md_reconcile__progress(c); /* the repository is usable: the daemon reports ready */
	if (STOPPED(stop))
		return md_err_set(err, "stopped");
	if (md_reconcile__load_files(c, err) < 0)
		return -1;
	if (c->mode == MD_CYCLE_CHECK) {
		md_reconcile__preflight(c);
		return 0;
	}
	md_reconcile__progress(c);
	if (decide(c, st, err) < 0)
		return -1;
	if (STOPPED(stop))
		return md_err_set(err, "stopped");
	if (md_reconcile__patch_files(c, err) < 0)
		return -1;
	md_reconcile__progress(c);
	if (c->mode == MD_CYCLE_PLAN) {
		if (make_diffs(c, err) < 0)
			return -1;
		return c->s->apply ? md_reconcile__rollout(c, err) : 0;
	}
	/* From here on a stop request waits: write, commit and push run to the
	 * end (or are undone) so no half-made change is ever left behind. */
	if (md_reconcile__publish(c, err) < 0)
		return -1;
	if (c->s->mode != MD_MODE_PR)
		log_changes(c->rep);
	md_reconcile__progress(c);
	if (c->s->apply && !STOPPED(stop))
		return md_reconcile__rollout(c, err);
	return 0;
}

int md_daemon_cycle(const struct md_config *cfg, enum md_cycle_mode mode,
		    struct md_cycle_report *rep, volatile sig_atomic_t *stop, struct md_err *err)
{
	struct md_daemon_ctx ctx = { 0 };
	int rc = md_daemon_cycle_with(cfg, mode, &ctx, rep, stop, err);

	md_daemon_ctx_clear(&ctx);
	return rc;
}

int md_daemon_cycle_with(const struct md_config *cfg, enum md_cycle_mode mode,
			 struct md_daemon_ctx *ctx, struct md_cycle_report *rep,
			 volatile sig_atomic_t *stop, struct md_err *err)
{
	struct md_reconcile__cycle c = { .cfg = cfg, .s = md_config_settings(cfg), .mode = mode, .rep = rep,
			   .ctx = ctx, .stop = stop };
	struct md_state *st = NULL;
	struct md_err serr;
	int rc;

	memset(rep, 0, sizeof(*rep));
	/* plan reads the cache (facts by digest) but must write nothing; check
	 * needs no registry at all. */
	if (mode == MD_CYCLE_APPLY && load_state(c.s, &st, err) < 0)
		return -1;
	if (mode == MD_CYCLE_PLAN && md_state_load_readonly(&st, c.s->state_dir, err) < 0)
		return -1;
	c.st = st;
	rc = run_cycle(&c, st, stop, err);
	if (st && mode == MD_CYCLE_APPLY) {
		md_state_set_last_cycle(st, md_time_now(), rc == 0 && rep->nproblems == 0,
					rep->commit[0] ? rep->commit : NULL);
		if (md_state_save(st, &serr) < 0)
			md_log(MD_LOG_WARN, "cannot save the state", "error", serr.msg, NULL);
	}
	md_reconcile__files_clear(&c);
	free(c.edits);
	free(c.author_name);
	free(c.author_email);
	md_strv_clear(&c.agent_emails);
	md_git_free(c.git);
	md_state_free(st);
	return rc;
}

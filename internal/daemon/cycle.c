/* One reconcile cycle: git sync → compose scan → watcher → policy → patch
 * → commit + push → state (docs/design.md, The cycle step by step). */
#include "daemon_int.h"

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

void cycle_change_free(struct md_change *ch)
{
	free(ch->file);
	free(ch->image);
	free(ch->from);
	free(ch->to);
	free(ch->digest);
	free(ch->old_value);
	free(ch->new_value);
	free(ch->annotation);
}

void md_cycle_report_clear(struct md_cycle_report *rep)
{
	if (!rep)
		return;
	for (size_t i = 0; i < rep->nchanges; i++)
		cycle_change_free(&rep->changes[i]);
	free(rep->changes);
	md_strv_clear(&rep->problems);
	md_strv_clear(&rep->diffs);
	for (size_t i = 0; i < rep->nstacks; i++) {
		free(rep->stacks[i].dir);
		free(rep->stacks[i].reason);
		free(rep->stacks[i].error);
	}
	free(rep->stacks);
	for (size_t i = 0; i < rep->nprs; i++) {
		free(rep->prs[i].branch);
		free(rep->prs[i].action);
		free(rep->prs[i].url);
	}
	free(rep->prs);
	memset(rep, 0, sizeof(*rep));
}

/* The clone, with the GitHub App's token for git and its bot identity as
 * the author when an App is configured (plan and check open it read-only
 * and need neither). */
static int open_repo(struct cycle *c, struct md_err *err)
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
	char *name = NULL, *email = NULL;
	int rc;

	if (c->mode == MD_CYCLE_APPLY) {
		if (cycle_gh_enabled(c)) {
			if (cycle_github(c, err) < 0 || cycle_gh_author(c, &name, &email, err) < 0)
				return -1;
			o.author_name = name;
			o.author_email = email;
			o.cred = cycle_gh_git_cred;
			o.cred_ctx = c;
		}
		cycle_gh_git_op(c);
		rc = md_git_open(&c->git, &o, err);
		/* the sync that follows is an operation of its own */
		cycle_gh_git_op(c);
		free(name);
		free(email);
		return rc;
	}
	if (!md_path_exists(s->repo))
		return md_err_set(err,
				  "%s does not exist yet; run `magos-dominus once` first to clone "
				  "it from MD_GIT_URL", s->repo);
	return md_git_open_readonly(&c->git, &o, err);
}

/* The registry module reads no environment: the candidate auth files
 * (podman's order, docs/protocols.md, Credential files and helpers) are computed here from the config's
 * view of it (environment first, then the config file). */
/* Backoff waits (429 Retry-After, 5xx) in slices, so a stop request is not
 * held up by a registry that asked us to come back in a minute. */
static void sleep_unless_stopped(void *ctx, int64_t ms)
{
	volatile sig_atomic_t *stop = ctx;

	while (ms > 0 && !(stop && *stop)) {
		int64_t step = ms < 100 ? ms : 100;
		struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)step * 1000000L };

		nanosleep(&ts, NULL);
		ms -= step;
	}
}

int cycle_new_registry(const struct md_config *cfg, const struct md_daemon_ctx *ctx,
		       volatile sig_atomic_t *stop, struct md_registry **out,
		       struct md_err *err)
{
	const struct md_settings *s = md_config_settings(cfg);
	struct md_registry_auth_env env = {
		.md_registry_auth_file = s->registry_auth_file,
		.registry_auth_file = md_config_lookup(cfg, "REGISTRY_AUTH_FILE"),
		.xdg_runtime_dir = md_config_lookup(cfg, "XDG_RUNTIME_DIR"),
		.xdg_config_home = md_config_lookup(cfg, "XDG_CONFIG_HOME"),
		.home = md_config_lookup(cfg, "HOME"),
		.docker_config = md_config_lookup(cfg, "DOCKER_CONFIG"),
		.uid = getuid(),
	};
	struct md_strv files = { 0 };
	struct md_registry_opts o = {
		.insecure_hosts = &s->insecure_registries,
		.ca_file = s->ca_file,
		.auth_file = s->registry_auth_file,
		.auth_files = &files,
		.auth_file_exclusive = 1,
		.connect_timeout = s->registry_connect_timeout,
		.timeout = s->registry_timeout,
		.user_agent = "magos-dominus/" MD_VERSION,
		.page_size = s->registry_page_size,
		.concurrency = s->registry_concurrency,
		.sleep_ms = sleep_unless_stopped,
		/* The flag outlives the client: the daemon's is process-wide. */
		.sleep_ctx = (void *)(uintptr_t)stop,
		/* A request that hangs is cut short by a stop request, and every
		 * answer received counts as progress for the watchdog. */
		.stop = stop,
		.progress = ctx ? ctx->progress : NULL,
		.progress_arg = ctx ? ctx->progress_arg : NULL,
	};
	int rc = -1;

	if (md_registry_auth_files(&files, &env, err) == 0)
		rc = md_registry_new(out, &o, err);
	md_strv_clear(&files);
	return rc;
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
static int decide(struct cycle *c, struct md_state *st, struct md_err *err)
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
	if (!reg && cycle_new_registry(c->cfg, c->ctx, c->stop, &reg, err) < 0)
		goto out;
	c->ctx->reg = reg;
	if (md_watcher_resolve(reg, st, ws, c->nsites, md_time_now(), err) < 0)
		goto out;
	rc = cycle_plan_changes(c, ws, err);
out:
	if (reg)
		log_ratelimits(reg);
	for (size_t i = 0; i < c->nsites; i++)
		md_watch_site_clear(&ws[i]);
	free(ws);
	return rc;
}

static int make_diffs(struct cycle *c, struct md_err *err)
{
	for (size_t i = 0; i < c->nfiles; i++) {
		struct cycle_file *f = &c->files[i];
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

static int run_cycle(struct cycle *c, struct md_state *st, volatile sig_atomic_t *stop,
		     struct md_err *err)
{
	if (open_repo(c, err) < 0)
		return -1;
	if (c->mode == MD_CYCLE_APPLY &&
	    (cycle_recover_worktree(c, err) < 0 || md_git_sync(c->git, err) < 0))
		return -1;
	cycle_progress(c); /* the repository is usable: the daemon reports ready */
	if (STOPPED(stop))
		return md_err_set(err, "stopped");
	if (cycle_load_files(c, err) < 0)
		return -1;
	if (c->mode == MD_CYCLE_CHECK) {
		cycle_preflight(c);
		return 0;
	}
	cycle_progress(c);
	if (decide(c, st, err) < 0)
		return -1;
	if (STOPPED(stop))
		return md_err_set(err, "stopped");
	if (cycle_patch_files(c, err) < 0)
		return -1;
	cycle_progress(c);
	if (c->mode == MD_CYCLE_PLAN) {
		if (make_diffs(c, err) < 0)
			return -1;
		return c->s->apply ? cycle_apply(c, stop, err) : 0;
	}
	/* From here on a stop request waits: write, commit and push run to the
	 * end (or are undone) so no half-made change is ever left behind. */
	if (c->s->mode == MD_MODE_PR) {
		if (cycle_publish_prs(c, stop, err) < 0)
			return -1;
	} else {
		if (cycle_publish(c, stop, err) < 0)
			return -1;
		log_changes(c->rep);
	}
	cycle_progress(c);
	if (c->s->apply && !STOPPED(stop))
		return cycle_apply(c, stop, err);
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

void md_daemon_ctx_clear(struct md_daemon_ctx *ctx)
{
	md_registry_free(ctx->reg);
	ctx->reg = NULL;
	md_github_free(ctx->gh);
	ctx->gh = NULL;
}

void cycle_progress(const struct cycle *c)
{
	if (c->ctx && c->ctx->progress)
		c->ctx->progress(c->ctx->progress_arg);
}

int md_daemon_cycle_with(const struct md_config *cfg, enum md_cycle_mode mode,
			 struct md_daemon_ctx *ctx, struct md_cycle_report *rep,
			 volatile sig_atomic_t *stop, struct md_err *err)
{
	struct cycle c = { .cfg = cfg, .s = md_config_settings(cfg), .mode = mode, .rep = rep,
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
		md_state_set_last_cycle(st, md_time_now(), rc == 0 && rep->problems.n == 0,
					rep->commit[0] ? rep->commit : NULL);
		if (md_state_save(st, &serr) < 0)
			md_log(MD_LOG_WARN, "cannot save the state", "error", serr.msg, NULL);
	}
	cycle_free_files(&c);
	md_git_free(c.git);
	md_state_free(st);
	return rc;
}

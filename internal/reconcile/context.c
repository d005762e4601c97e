/* What every step of a cycle shares: the report and its clearing, the
 * progress hook, the clients kept across cycles. It calls no other file of
 * the module. */
#include "reconcile_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "magos/github.h"
#include "magos/registry.h"

/* The strings a report entry owns, freed in one go. */
static void free_strings(char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
}

#define FREE_STRINGS(...)                                                              \
	do {                                                                           \
		char *const v_[] = { __VA_ARGS__ };                                    \
		free_strings(v_, sizeof(v_) / sizeof(v_[0]));                          \
	} while (0)

void md_reconcile__change_clear(struct md_change *ch)
{
	FREE_STRINGS(ch->file, ch->image, ch->from, ch->to, ch->digest, ch->old_value,
		     ch->new_value, ch->annotation);
}

static void problem_clear(struct md_problem *p)
{
	FREE_STRINGS(p->file, p->message, p->text);
}

static void stack_clear(struct md_stack_report *s)
{
	FREE_STRINGS(s->dir, s->reason, s->error);
}

static void pr_clear(struct md_pr_report *p)
{
	FREE_STRINGS(p->branch, p->url);
}

void md_cycle_report_clear(struct md_cycle_report *rep)
{
	if (!rep)
		return;
	for (size_t i = 0; i < rep->nchanges; i++)
		md_reconcile__change_clear(&rep->changes[i]);
	for (size_t i = 0; i < rep->nproblems; i++)
		problem_clear(&rep->problems[i]);
	for (size_t i = 0; i < rep->nstacks; i++)
		stack_clear(&rep->stacks[i]);
	for (size_t i = 0; i < rep->nprs; i++)
		pr_clear(&rep->prs[i]);
	free(rep->changes);
	free(rep->problems);
	free(rep->stacks);
	free(rep->prs);
	md_strv_clear(&rep->diffs);
	memset(rep, 0, sizeof(*rep));
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

int md_reconcile__new_registry(const struct md_config *cfg, const struct md_daemon_ctx *ctx,
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

void md_daemon_ctx_clear(struct md_daemon_ctx *ctx)
{
	md_registry_free(ctx->reg);
	ctx->reg = NULL;
	md_github_free(ctx->gh);
	ctx->gh = NULL;
}

void md_reconcile__progress(const struct md_reconcile__cycle *c)
{
	if (c->ctx && c->ctx->progress)
		c->ctx->progress(c->ctx->progress_arg);
}


/* check: what the enabled features need from this host — the compose
 * command, the age identities, the GitHub App's key — found now rather
 * than in the middle of the first cycle that needs it. Each problem names
 * the key (and where it was set) and is reported like a site problem. */
#include "reconcile_int.h"

#include <stdlib.h>
#include <string.h>

#include "magos/github.h"
#include "magos/rollout.h"
#include "magos/secrets.h"


static int executable(const char *prog, const char *path)
{
	char *found = md_path_find(prog, path);

	free(found);
	return found != NULL;
}

static void check_programs(struct md_reconcile__cycle *c)
{
	const struct md_settings *s = c->s;
	const char *path = md_config_lookup(c->cfg, "PATH");
	const char *cmd = s->compose_cmd.v[0];
	const char *engine = md_rollout_engine_for(&s->compose_cmd);

	if (!path || !*path)
		path = MD_ROLLOUT_DEFAULT_PATH;
	if (!executable(cmd, path))
		md_reconcile__problem(c, NULL, 0, "%s: MD_COMPOSE_CMD: '%s' is not an executable on PATH (%s)",
				  md_config_origin(c->cfg, "MD_COMPOSE_CMD"), cmd, path);
	if (!executable(engine, path))
		md_reconcile__problem(c, NULL, 0, "%s: MD_COMPOSE_CMD: the applier also needs '%s' (inspect, "
				     "healthcheck), which is not on PATH (%s)",
				  md_config_origin(c->cfg, "MD_COMPOSE_CMD"), engine, path);
}

/* One identity source: a problem when it cannot be read or holds none. */
static void check_identities(struct md_reconcile__cycle *c, const char *key, const char *file,
			     const char *inline_text)
{
	struct md_age_identities *ids = NULL;
	struct md_err err;

	if (md_age_identities_new(&ids) < 0)
		return;
	if (md_rollout_age_source(ids, file, inline_text, &err) < 0)
		md_reconcile__problem(c, NULL, 0, "%s: %s", key, err.msg);
	else if (md_age_identities_count(ids) == 0)
		md_reconcile__problem(c, NULL, 0, "%s: no age identity (AGE-SECRET-KEY-1...) in %s",
				      key, file ? file : "the value");
	md_age_identities_free(ids);
}

static void check_age(struct md_reconcile__cycle *c)
{
	const char *sops_file = md_config_lookup(c->cfg, "SOPS_AGE_KEY_FILE");
	const char *sops_key = md_config_lookup(c->cfg, "SOPS_AGE_KEY");

	if (c->s->age_key_file)
		check_identities(c, "MD_AGE_KEY_FILE", c->s->age_key_file, NULL);
	if (sops_file && *sops_file)
		check_identities(c, "SOPS_AGE_KEY_FILE", sops_file, NULL);
	if (sops_key && *sops_key)
		check_identities(c, "SOPS_AGE_KEY", NULL, sops_key);
}

/* Loading the key is all md_github_new does: no request is made. */
static void check_github(struct md_reconcile__cycle *c)
{
	const struct md_settings *s = c->s;
	struct md_github_opts o;
	struct md_github *gh = NULL;
	struct md_err err;

	/* no owner/repo: only the key is loaded (the clone's origin may not
	 * be read in check) */
	md_reconcile__gh_opts(s, NULL, NULL, &o);
	o.ca_file = NULL;
	if (md_github_new(&gh, &o, &err) < 0)
		md_reconcile__problem(c, NULL, 0, "%s: MD_GITHUB_APP_KEY_FILE: %s",
				  md_config_origin(c->cfg, "MD_GITHUB_APP_KEY_FILE"), err.msg);
	md_github_free(gh);
}

void md_reconcile__preflight(struct md_reconcile__cycle *c)
{
	if (c->s->apply) {
		check_programs(c);
		check_age(c);
	}
	if (c->s->github_app_id)
		check_github(c);
}

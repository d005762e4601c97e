/* check: what the enabled features need from this host — the compose
 * command, the age identities, the GitHub App's key — found now rather
 * than in the middle of the first cycle that needs it. Each problem names
 * the key (and where it was set) and is reported like a site problem. */
#include "daemon_int.h"

#include <stdlib.h>
#include <string.h>

#include "magos/github.h"
#include "magos/secrets.h"

#define KEY_FILE_MAX (1024u * 1024)
#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

static int executable(const char *prog, const char *path)
{
	char *found = md_path_find(prog, path);

	free(found);
	return found != NULL;
}

static void check_programs(struct cycle *c)
{
	const struct md_settings *s = c->s;
	const char *path = md_config_lookup(c->cfg, "PATH");
	const char *cmd = s->compose_cmd.v[0];
	const char *engine = apply_engine_for(&s->compose_cmd);

	if (!path || !*path)
		path = DEFAULT_PATH;
	if (!executable(cmd, path))
		cycle_add_problem(c, "%s: MD_COMPOSE_CMD: '%s' is not an executable on PATH (%s)",
				  md_config_origin(c->cfg, "MD_COMPOSE_CMD"), cmd, path);
	if (!executable(engine, path))
		cycle_add_problem(c, "%s: MD_COMPOSE_CMD: the applier also needs '%s' (inspect, "
				     "healthcheck), which is not on PATH (%s)",
				  md_config_origin(c->cfg, "MD_COMPOSE_CMD"), engine, path);
}

/* One identity source: a problem when it cannot be read or holds none. */
static void check_identities(struct cycle *c, const char *key, const char *file,
			     const char *inline_text)
{
	struct md_age_identities *ids = NULL;
	char *text = NULL;
	size_t len = 0;
	struct md_err err;
	int rc;

	if (md_age_identities_new(&ids) < 0)
		return;
	if (file)
		rc = md_file_read(file, KEY_FILE_MAX, &text, &len, &err);
	else
		rc = 0;
	if (rc == 0)
		rc = md_age_identities_add(ids, file ? file : key, file ? text : inline_text,
					   file ? len : strlen(inline_text), NULL, &err);
	if (rc < 0)
		cycle_add_problem(c, "%s: %s", key, err.msg);
	else if (md_age_identities_count(ids) == 0)
		cycle_add_problem(c, "%s: no age identity (AGE-SECRET-KEY-1...) in %s", key,
				  file ? file : "the value");
	if (text)
		md_secrets_free_plain(text, len);
	md_age_identities_free(ids);
}

static void check_age(struct cycle *c)
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
static void check_github(struct cycle *c)
{
	const struct md_settings *s = c->s;
	struct md_github_opts o = {
		.api_url = s->github_api_url,
		.app_id = s->github_app_id,
		.key_file = s->github_app_key_file,
		.installation_id = s->github_installation_id,
		.user_agent = "magos-dominus/" MD_VERSION,
		.timeout = (long)s->registry_timeout,
	};
	struct md_github *gh = NULL;
	struct md_err err;

	if (md_github_new(&gh, &o, &err) < 0)
		cycle_add_problem(c, "%s: MD_GITHUB_APP_KEY_FILE: %s",
				  md_config_origin(c->cfg, "MD_GITHUB_APP_KEY_FILE"), err.msg);
	md_github_free(gh);
}

void cycle_preflight(struct cycle *c)
{
	if (c->s->apply) {
		check_programs(c);
		check_age(c);
	}
	if (c->s->github_app_id)
		check_github(c);
}

/* config — the known keys, their defaults and validation, and the merge of
 * file and environment. The .env syntax itself lives in envfile.c; the
 * value checkers shared with other modules in values.c. */
#include "magos/config.h"

#include "config_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_MAX (1024 * 1024)

#define DEFAULT_GLOBS \
	"**/compose.yaml **/compose.yml **/docker-compose.yaml **/docker-compose.yml"
#define DEFAULT_TEMPLATE "magos-dominus: update {count} image(s)\n\n{changes}"

/* Every known key, one line each: name, default (NULL: none), flags,
 * setter, md_settings field, bounds (for numbers), help. Adding a key is a
 * line here plus its field. */
#define MD_CONFIG_KEYS(X)                                                                     \
	X("MD_REPO", NULL, REQUIRED, cfg_set_abspath, repo, 0, 0,                                  \
	  "path of the agent's clone of the GitOps repository")                               \
	X("MD_GIT_URL", NULL, 0, cfg_set_string, git_url, 0, 0,                                    \
	  "URL to clone from when MD_REPO does not exist yet")                                \
	X("MD_BRANCH", "main", 0, cfg_set_branch, branch, 0, 0,                                    \
	  "branch to follow, commit to and push")                                             \
	X("MD_INTERVAL", "5m", 0, cfg_set_duration, interval, 1, 0,                            \
	  "time between reconcile cycles (at least 1s)")                                      \
	X("MD_STATE_DIR", "/var/lib/magos-dominus", 0, cfg_set_abspath, state_dir, 0, 0,           \
	  "directory of the state cache (absolute path)")                                     \
	X("MD_COMPOSE_GLOBS", DEFAULT_GLOBS, 0, cfg_set_globs, compose_globs, 0, 0,                \
	  "compose files to scan, globs relative to MD_REPO separated by commas or spaces")   \
	X("MD_GIT_AUTHOR", "magos-dominus <magos-dominus@localhost>", 0, cfg_set_author,           \
	  git_author_name, 0, 0, "commit author and committer, 'Name <email>'")               \
	X("MD_COMMIT_TEMPLATE", DEFAULT_TEMPLATE, MULTILINE, cfg_set_template, commit_template, 0,  \
	  0, "commit message; placeholders {count}, {images}, {changes}")                     \
	X("MD_INSECURE_REGISTRIES", "", 0, cfg_set_hosts, insecure_registries, 0, 0,               \
	  "registries (host[:port]) reached over plain HTTP, separated by commas or spaces")  \
	X("MD_CA_FILE", NULL, 0, cfg_set_readable, ca_file, 0, 0,                                  \
	  "extra CA bundle (PEM) for registries and HTTPS Git remotes")                                     \
	X("MD_REGISTRY_AUTH_FILE", NULL, 0, cfg_set_string, registry_auth_file, 0, 0,              \
	  "registry credentials file (containers-auth.json / docker config.json format)")     \
	X("MD_REGISTRY_TIMEOUT", "30s", 0, cfg_set_duration, registry_timeout, 1, 0,               \
	  "timeout of one registry request (at least 1s)")                                    \
	X("MD_REGISTRY_CONNECT_TIMEOUT", "10s", 0, cfg_set_duration, registry_connect_timeout, 1,  \
	  0, "timeout of connecting to a registry (at least 1s)")                             \
	X("MD_REGISTRY_PAGE_SIZE", "1000", 0, cfg_set_int, registry_page_size, 1, 10000,           \
	  "tags asked for per tag-list request (1..10000)")                                   \
	X("MD_REGISTRY_CONCURRENCY", "4", 0, cfg_set_int, registry_concurrency, 1, 32,             \
	  "tag-list requests in flight at once per registry host (1..32)")                    \
	X("MD_PUSH_RETRIES", "3", 0, cfg_set_int, push_retries, 0, 20,                             \
	  "times a rejected push is retried after re-syncing (0..20)")                        \
	X("MD_LOG_FORMAT", "auto", 0, cfg_set_log_format, log_format, 0, 0,                   \
	  "log format: auto (journal under systemd, else text), text, json or journal")      \
	X("MD_LOG_LEVEL", "info", 0, cfg_set_log_level, log_level, 0, 0,                       \
	  "lowest level logged: debug, info, warn (or warning), error")                        \
	X("MD_JOURNAL_SOCKET", "/run/systemd/journal/socket", 0, cfg_set_abspath,              \
	  journal_socket, 0, 0, "journald's native socket (MD_LOG_FORMAT=journal)")            \
	X("MD_GITHUB_APP_ID", NULL, 0, cfg_set_string, github_app_id, 0, 0,                    \
	  "GitHub App id or client id; enables the App identity")                             \
	X("MD_GITHUB_APP_KEY_FILE", NULL, 0, cfg_set_keyfile, github_app_key_file, 0, 0,       \
	  "the App's private key (PEM), readable by the agent's user only")                   \
	X("MD_GITHUB_INSTALLATION_ID", NULL, 0, cfg_set_id, github_installation_id, 0, 0,      \
	  "installation id; default: looked up for the repository")                           \
	X("MD_GITHUB_API_URL", "https://api.github.com", 0, cfg_set_url, github_api_url, 0,   \
	  0, "GitHub REST API (GitHub Enterprise Server: https://HOST/api/v3)")               \
	X("MD_MODE", "push", 0, cfg_set_mode, mode, 0, 0,                                      \
	  "push: commit to MD_BRANCH; pr: one branch and pull request per image")             \
	X("MD_COMMIT_VIA_API", "false", 0, cfg_set_bool, commit_via_api, 0, 0,                 \
	  "create commits through GitHub's Git Data API so GitHub signs them (Verified)")     \
	X("MD_LISTEN", "127.0.0.1:9797", 0, cfg_set_listen, listen, 0, 0,                      \
	  "address of /healthz and /metrics (host:port), or off")                             \
	X("MD_APPLY", "false", 0, cfg_set_bool, apply, 0, 0,                                   \
	  "apply the repository to this host with the compose command")                       \
	X("MD_COMPOSE_CMD", "podman-compose", 0, cfg_set_argv, compose_cmd, 0, 0,             \
	  "compose command, words separated by spaces (run without a shell)")                 \
	X("MD_STACKS", "", 0, cfg_set_globs_opt, stacks, 0, 0,                                 \
	  "stack directories this host applies, globs relative to MD_REPO; empty: all")       \
	X("MD_PRUNE", "false", 0, cfg_set_bool, prune, 0, 0,                                   \
	  "remove the containers of stacks deleted from the repository")                      \
	X("MD_HEALTH_TIMEOUT", "2m", 0, cfg_set_duration, health_timeout, 1, 0,                \
	  "time a stack has after `up -d` to be running and healthy")                         \
	X("MD_COMPOSE_TIMEOUT", "10m", 0, cfg_set_duration, compose_timeout, 1, 0,             \
	  "time limit of one compose command (pull, up)")                                     \
	X("MD_AGE_KEY_FILE", NULL, 0, cfg_set_readable, age_key_file, 0, 0,                    \
	  "age identities for SOPS files (also SOPS_AGE_KEY_FILE, SOPS_AGE_KEY)")              \
	X("MD_RUNTIME_DIR", "/run/magos-dominus", 0, cfg_set_abspath, runtime_dir, 0, 0,      \
	  "private directory (tmpfs) for decrypted env files while a compose command runs")

#define KEY_PUBLIC(k, d, fl, fn, field, lo, hi, help) { k, d, help },
#define KEY_SPEC(k, d, fl, fn, field, lo, hi, help) \
	{ fl, fn, offsetof(struct md_settings, field), lo, hi },
#define KEY_COUNT(...) +1

static const struct md_config_key key_table[] = {
	MD_CONFIG_KEYS(KEY_PUBLIC){ NULL, NULL, NULL },
};
static const struct key_spec key_specs[] = { MD_CONFIG_KEYS(KEY_SPEC) };
enum { NKEYS = 0 MD_CONFIG_KEYS(KEY_COUNT) };

struct md_config {
	struct md_settings s;
	struct md_config_entries file;
	char **file_origin;            /* "FILE:LINE" for each file entry */
	struct md_config_entries env;  /* line is 0 */
	const char *origin[NKEYS];     /* points into file_origin or at a literal */
	enum md_config_source source[NKEYS];
};

const struct md_config_key *md_config_keys(void)
{
	return key_table;
}

/* ---- unknown keys ------------------------------------------------------- */

/* Case-insensitive Levenshtein distance, for "did you mean". */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64], diag;

	if (la >= 64 || lb >= 64)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = (a[i - 1] & ~0x20) == (b[j - 1] & ~0x20) ? 0 : 1;
			size_t best = diag + cost;

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

static int key_index(const char *key)
{
	for (int i = 0; i < NKEYS; i++)
		if (strcmp(key_table[i].key, key) == 0)
			return i;
	return -1;
}

static int unknown_key(struct md_err *err, const char *where, const char *key)
{
	const char *best = NULL;
	size_t best_d = 4;

	for (int i = 0; i < NKEYS; i++) {
		size_t d = edit_distance(key, key_table[i].key);

		if (d < best_d) {
			best_d = d;
			best = key_table[i].key;
		}
	}
	if (best)
		return md_err_set(err, "%s: unknown key %s (did you mean %s?)", where, key, best);
	return md_err_set(err, "%s: unknown key %s (not a magos-dominus setting; the README "
			       "lists them all)", where, key);
}

/* A file is written for us, so "md_interval" is a typo there too; the
 * environment is shared with everything else, so only "MD_" counts. */
static int check_unknown(const struct md_config *cfg, struct md_err *err)
{
	for (size_t i = 0; i < cfg->file.n; i++) {
		const char *key = cfg->file.v[i].key;

		if (strncasecmp(key, "MD_", 3) == 0 && key_index(key) < 0)
			return unknown_key(err, cfg->file_origin[i], key);
	}
	for (size_t i = 0; i < cfg->env.n; i++) {
		const char *key = cfg->env.v[i].key;

		if (strncmp(key, "MD_", 3) == 0 && key_index(key) < 0)
			return unknown_key(err, "environment", key);
	}
	return 0;
}

/* ---- loading ------------------------------------------------------------ */

static const struct md_config_entry *find_entry(const struct md_config_entries *e,
						 const char *key, size_t *idx)
{
	for (size_t i = 0; i < e->n; i++) {
		if (strcmp(e->v[i].key, key) == 0) {
			if (idx)
				*idx = i;
			return &e->v[i];
		}
	}
	return NULL;
}

/* The first "KEY=" wins, as with getenv(3). */
static int load_env(struct md_config_entries *e, char *const *envp, struct md_err *err)
{
	for (size_t i = 0; envp && envp[i]; i++) {
		const char *eq = strchr(envp[i], '=');
		struct md_config_entry *v;
		char *key;

		if (!eq || eq == envp[i])
			continue;
		key = md_strndup(envp[i], (size_t)(eq - envp[i]));
		if (!key)
			return md_config__oom(err);
		if (find_entry(e, key, NULL)) {
			free(key);
			continue;
		}
		v = realloc(e->v, (e->n + 1) * sizeof(*v));
		if (!v) {
			free(key);
			return md_config__oom(err);
		}
		e->v = v;
		v[e->n].key = key;
		v[e->n].line = 0;
		v[e->n].value = md_strdup(eq + 1);
		e->n++;
		if (!v[e->n - 1].value)
			return md_config__oom(err);
	}
	return 0;
}

static int load_file(struct md_config *cfg, const char *path, struct md_err *err)
{
	char *text = NULL;
	size_t len;
	int rc = -1;

	if (md_file_read(path, FILE_MAX, &text, &len, err) < 0)
		return -1;
	if (md_config_parse_envfile(&cfg->file, path, text, len, err) < 0)
		goto out;
	cfg->file_origin = calloc(cfg->file.n + 1, sizeof(char *));
	if (!cfg->file_origin) {
		md_config__oom(err);
		goto out;
	}
	for (size_t i = 0; i < cfg->file.n; i++) {
		cfg->file_origin[i] = md_asprintf("%s:%d", path, cfg->file.v[i].line);
		if (!cfg->file_origin[i]) {
			md_config__oom(err);
			goto out;
		}
	}
	rc = 0;
out:
	md_free_secret(text, len); /* may hold SOPS_AGE_KEY */
	return rc;
}

static int has_control(const char *v)
{
	for (; *v; v++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			return 1;
	return 0;
}

/* Environment over file over default; an empty value is no value. */
static int apply_key(struct md_config *cfg, int i, struct md_err *err)
{
	const struct md_config_entry *e;
	const char *v = NULL, *origin = "default";
	enum md_config_source source = MD_CONFIG_DEFAULT;
	size_t j;

	if ((e = find_entry(&cfg->env, key_table[i].key, NULL))) {
		v = e->value;
		origin = "environment";
		source = MD_CONFIG_ENV;
	} else if ((e = find_entry(&cfg->file, key_table[i].key, &j))) {
		v = e->value;
		origin = cfg->file_origin[j];
		source = MD_CONFIG_FILE;
	}
	if (v && !*v) {
		v = NULL;
		origin = "default";
		source = MD_CONFIG_DEFAULT;
	}
	cfg->origin[i] = origin;
	cfg->source[i] = source;
	if (!v) {
		if (key_specs[i].flags & REQUIRED)
			return md_err_set(err, "%s is required (%s)", key_table[i].key,
					  key_table[i].help);
		if (!key_table[i].def)
			return 0;
		v = key_table[i].def;
	}
	if (!(key_specs[i].flags & MULTILINE) && has_control(v))
		return md_err_set(err, "%s: %s: the value contains a control character", origin,
				  key_table[i].key);
	if (key_specs[i].set(&cfg->s, &key_specs[i], v, err) < 0)
		return md_err_prefix(err, "%s: %s", origin, key_table[i].key);
	return 0;
}

/* Keys that only make sense with others. */
static int check_together(const struct md_config *cfg, struct md_err *err)
{
	const struct md_settings *s = &cfg->s;
	int app = s->github_app_id != NULL;

	if (app != (s->github_app_key_file != NULL))
		return md_err_set(err, "%s is set but %s is not: a GitHub App needs both",
				  app ? "MD_GITHUB_APP_ID" : "MD_GITHUB_APP_KEY_FILE",
				  app ? "MD_GITHUB_APP_KEY_FILE" : "MD_GITHUB_APP_ID");
	if (!app && s->mode == MD_MODE_PR)
		return md_err_set(err, "%s: MD_MODE=pr opens pull requests through the GitHub API "
				       "and needs MD_GITHUB_APP_ID and MD_GITHUB_APP_KEY_FILE",
				  cfg->origin[key_index("MD_MODE")]);
	if (!app && s->commit_via_api)
		return md_err_set(err, "%s: MD_COMMIT_VIA_API=true needs MD_GITHUB_APP_ID and "
				       "MD_GITHUB_APP_KEY_FILE",
				  cfg->origin[key_index("MD_COMMIT_VIA_API")]);
	if (!app && s->github_installation_id)
		return md_err_set(err, "MD_GITHUB_INSTALLATION_ID is set but MD_GITHUB_APP_ID is not");
	return 0;
}

int md_config_load(struct md_config **out, const char *path, char *const *envp,
		   struct md_err *err)
{
	struct md_config *cfg = calloc(1, sizeof(*cfg));
	int rc = -1;

	*out = NULL;
	if (!cfg)
		return md_config__oom(err);
	if (path && load_file(cfg, path, err) < 0)
		goto out;
	if (load_env(&cfg->env, envp, err) < 0 || check_unknown(cfg, err) < 0)
		goto out;
	for (int i = 0; i < NKEYS; i++)
		if (apply_key(cfg, i, err) < 0)
			goto out;
	if (check_together(cfg, err) < 0)
		goto out;
	*out = cfg;
	cfg = NULL;
	rc = 0;
out:
	md_config_free(cfg);
	return rc;
}

const struct md_settings *md_config_settings(const struct md_config *cfg)
{
	return &cfg->s;
}

const char *md_config_origin(const struct md_config *cfg, const char *key)
{
	int i = key_index(key);
	size_t j;

	if (i >= 0)
		return cfg->origin[i];
	if (find_entry(&cfg->env, key, NULL))
		return "environment";
	if (find_entry(&cfg->file, key, &j))
		return cfg->file_origin[j];
	return "default";
}

enum md_config_source md_config_source(const struct md_config *cfg, const char *key)
{
	int i = key_index(key);

	if (i >= 0)
		return cfg->source[i];
	if (find_entry(&cfg->env, key, NULL))
		return MD_CONFIG_ENV;
	if (find_entry(&cfg->file, key, NULL))
		return MD_CONFIG_FILE;
	return MD_CONFIG_DEFAULT;
}

const char *md_config_lookup(const struct md_config *cfg, const char *key)
{
	const struct md_config_entry *e = find_entry(&cfg->env, key, NULL);

	if (!e)
		e = find_entry(&cfg->file, key, NULL);
	return e ? e->value : NULL;
}

static void settings_free(struct md_settings *s)
{
	free(s->repo);
	free(s->git_url);
	free(s->branch);
	free(s->state_dir);
	md_strv_clear(&s->compose_globs);
	free(s->git_author_name);
	free(s->git_author_email);
	free(s->commit_template);
	md_strv_clear(&s->insecure_registries);
	free(s->ca_file);
	free(s->registry_auth_file);
	free(s->journal_socket);
	free(s->github_app_id);
	free(s->github_app_key_file);
	free(s->github_installation_id);
	free(s->github_api_url);
	free(s->listen);
	md_strv_clear(&s->compose_cmd);
	md_strv_clear(&s->stacks);
	free(s->age_key_file);
	free(s->runtime_dir);
}

void md_config_free(struct md_config *cfg)
{
	if (!cfg)
		return;
	settings_free(&cfg->s);
	for (size_t i = 0; cfg->file_origin && i < cfg->file.n; i++)
		free(cfg->file_origin[i]);
	free(cfg->file_origin);
	md_config_entries_clear(&cfg->file);
	md_config_entries_clear(&cfg->env);
	free(cfg);
}

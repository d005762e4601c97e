/* config — the agent's settings from a systemd EnvironmentFile-style .env
 * file, overridden by the process environment.
 *
 * The caller passes the environment explicitly (nothing below the daemon
 * reads it itself). Errors name file:line and the key. Unknown MD_* keys, in
 * the file or the environment, are errors: a typo must not silently do
 * nothing. */
#ifndef MAGOS_CONFIG_H
#define MAGOS_CONFIG_H

#include <stdint.h>

#include "magos/util.h"

/* AUTO: journal when stderr is the journal stream (JOURNAL_STREAM), else text. */
enum md_log_format { MD_LOG_TEXT, MD_LOG_JSON, MD_LOG_JOURNAL, MD_LOG_AUTO };
enum md_mode { MD_MODE_PUSH, MD_MODE_PR };
enum md_log_level { MD_LOG_DEBUG, MD_LOG_INFO, MD_LOG_WARN, MD_LOG_ERROR };

/* Typed, validated settings. Read-only once loaded; owned by md_config. */
struct md_settings {
	char *repo;                         /* MD_REPO (required) */
	char *git_url;                      /* MD_GIT_URL, clone source when repo is absent */
	char *branch;                       /* MD_BRANCH, default "main" */
	int64_t interval;                   /* MD_INTERVAL seconds, default 300 */
	char *state_dir;                    /* MD_STATE_DIR, default /var/lib/magos-dominus */
	struct md_strv compose_globs;       /* MD_COMPOSE_GLOBS */
	char *git_author_name;              /* from MD_GIT_AUTHOR "Name <email>" */
	char *git_author_email;
	char *commit_template;              /* MD_COMMIT_TEMPLATE */
	struct md_strv insecure_registries; /* MD_INSECURE_REGISTRIES */
	char *ca_file;                      /* MD_CA_FILE or NULL */
	char *registry_auth_file;           /* MD_REGISTRY_AUTH_FILE or NULL */
	int64_t registry_timeout;           /* MD_REGISTRY_TIMEOUT seconds, default 30 */
	int64_t registry_connect_timeout;   /* MD_REGISTRY_CONNECT_TIMEOUT seconds, default 10 */
	int registry_page_size;             /* MD_REGISTRY_PAGE_SIZE tags per request, default 1000 */
	int registry_concurrency;           /* MD_REGISTRY_CONCURRENCY per host, default 4 */
	int push_retries;                   /* MD_PUSH_RETRIES, default 3 */
	enum md_log_format log_format;      /* MD_LOG_FORMAT */
	enum md_log_level log_level;        /* MD_LOG_LEVEL */
	char *journal_socket;               /* MD_JOURNAL_SOCKET */

	/* GitHub App and publishing */
	char *github_app_id;                /* MD_GITHUB_APP_ID (app id or client id) or NULL */
	char *github_app_key_file;          /* MD_GITHUB_APP_KEY_FILE, mode checked: no group/other bits */
	char *github_installation_id;       /* MD_GITHUB_INSTALLATION_ID digits, or NULL: discover */
	char *github_api_url;               /* MD_GITHUB_API_URL without trailing '/' */
	enum md_mode mode;                  /* MD_MODE push | pr */
	int commit_via_api;                 /* MD_COMMIT_VIA_API */

	/* Daemon endpoints */
	char *listen;                       /* MD_LISTEN "host:port", NULL when "off" */

	/* Applier */
	int apply;                          /* MD_APPLY */
	struct md_strv compose_cmd;         /* MD_COMPOSE_CMD as argv, e.g. {"podman","compose"} */
	struct md_strv stacks;              /* MD_STACKS globs of stack directories; empty: all */
	int prune;                          /* MD_PRUNE: `down` stacks deleted from the repository */
	int64_t health_timeout;             /* MD_HEALTH_TIMEOUT seconds */
	int64_t compose_timeout;            /* MD_COMPOSE_TIMEOUT seconds, per compose command */
	char *age_key_file;                 /* MD_AGE_KEY_FILE or NULL */
	char *runtime_dir;                  /* MD_RUNTIME_DIR, private dir for decrypted env files */
};

struct md_config;

/* Load `path` (may be NULL: environment only) and apply `envp` overrides
 * (a NULL-terminated "KEY=VALUE" array, may be NULL). */
int md_config_load(struct md_config **out, const char *path, char *const *envp,
		   struct md_err *err);
const struct md_settings *md_config_settings(const struct md_config *cfg);
/* Where a key's value came from, for messages: "FILE:LINE", "environment"
 * or "default". */
const char *md_config_origin(const struct md_config *cfg, const char *key);
/* The same as a code, for decisions (an unset or empty key: default). */
enum md_config_source {
	MD_CONFIG_DEFAULT,
	MD_CONFIG_ENV,
	MD_CONFIG_FILE,
};
enum md_config_source md_config_source(const struct md_config *cfg, const char *key);
/* Any key's value (MD_* or not, e.g. SOPS_AGE_KEY_FILE kept for later
 * modules): the environment wins over the file. NULL when unset. */
const char *md_config_lookup(const struct md_config *cfg, const char *key);
void md_config_free(struct md_config *cfg);

/* Parsers shared with other modules and tests. */
int md_config_parse_bool(const char *s, int *out);
/* Log levels and formats by name, from the one table that MD_LOG_LEVEL,
 * MD_LOG_FORMAT, --log-format and the level printed in log lines share:
 * debug, info, warn (also "warning"), error; auto, text, json, journal.
 * Lowercase only. 0, or -1 with "invalid value '…' (valid: …)" in err. */
int md_config_parse_log_level(const char *s, enum md_log_level *out, struct md_err *err);
int md_config_parse_log_format(const char *s, enum md_log_format *out, struct md_err *err);
/* "debug", "info", "warn" or "error". */
const char *md_config_log_level_name(enum md_log_level level);
/* "Name <email>" → name and email (both newly allocated). */
int md_config_parse_author(const char *s, char **name, char **email, struct md_err *err);

/* The table of known keys with defaults and one-line descriptions, for
 * `check` output and documentation tests. Terminated by a NULL key. */
struct md_config_key {
	const char *key;
	const char *def;
	const char *help;
};
const struct md_config_key *md_config_keys(void);

/* The EnvironmentFile parser on its own (used by md_config_load; exposed for
 * fuzzing and tests). `name` prefixes errors as "name:LINE: ...". A key
 * repeated in the text keeps its last value and line. */
struct md_config_entry {
	char *key;
	char *value;
	int line; /* line of the key; 0 for the environment */
};
struct md_config_entries {
	struct md_config_entry *v;
	size_t n;
};
int md_config_parse_envfile(struct md_config_entries *out, const char *name,
			    const char *text, size_t len, struct md_err *err);
void md_config_entries_clear(struct md_config_entries *e);

#endif

/* config — the known keys, their defaults and validation, and the merge of
 * file and environment. The .env syntax itself lives in envfile.c; the
 * value checkers shared with other modules in values.c. */
#include "magos/config.h"

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
#define SHOW_MAX 80

struct key_spec;
typedef int (*setter_fn)(struct md_settings *s, const struct key_spec *k, const char *v,
			 struct md_err *err);

enum { REQUIRED = 1, MULTILINE = 2 };

struct key_spec {
	int flags;
	setter_fn set;
	size_t off; /* the field in md_settings */
	long long lo, hi;
};

static int set_string(struct md_settings *, const struct key_spec *, const char *,
		      struct md_err *);
static int set_abspath(struct md_settings *, const struct key_spec *, const char *,
		       struct md_err *);
static int set_branch(struct md_settings *, const struct key_spec *, const char *,
		      struct md_err *);
static int set_duration(struct md_settings *, const struct key_spec *, const char *,
			struct md_err *);
static int set_int(struct md_settings *, const struct key_spec *, const char *,
		   struct md_err *);
static int set_globs(struct md_settings *, const struct key_spec *, const char *,
		     struct md_err *);
static int set_hosts(struct md_settings *, const struct key_spec *, const char *,
		     struct md_err *);
static int set_author(struct md_settings *, const struct key_spec *, const char *,
		      struct md_err *);
static int set_template(struct md_settings *, const struct key_spec *, const char *,
			struct md_err *);
static int set_readable(struct md_settings *, const struct key_spec *, const char *,
			struct md_err *);
static int set_log_format(struct md_settings *, const struct key_spec *, const char *,
			  struct md_err *);
static int set_log_level(struct md_settings *, const struct key_spec *, const char *,
			 struct md_err *);

#define DEFAULT_GLOBS \
	"**/compose.yaml **/compose.yml **/docker-compose.yaml **/docker-compose.yml"
#define DEFAULT_TEMPLATE "magos-dominus: update {count} image(s)\n\n{changes}"

/* Every known key, one line each: name, default (NULL: none), flags,
 * setter, md_settings field, bounds (for numbers), help. Adding a key is a
 * line here plus its field. */
#define MD_CONFIG_KEYS(X)                                                                     \
	X("MD_REPO", NULL, REQUIRED, set_abspath, repo, 0, 0,                                  \
	  "path of the agent's clone of the GitOps repository")                               \
	X("MD_GIT_URL", NULL, 0, set_string, git_url, 0, 0,                                    \
	  "URL to clone from when MD_REPO does not exist yet")                                \
	X("MD_BRANCH", "main", 0, set_branch, branch, 0, 0,                                    \
	  "branch to follow, commit to and push")                                             \
	X("MD_INTERVAL", "5m", 0, set_duration, interval, 10, 0,                               \
	  "time between reconcile cycles (at least 10s)")                                     \
	X("MD_STATE_DIR", "/var/lib/magos-dominus", 0, set_abspath, state_dir, 0, 0,           \
	  "directory of the state cache (absolute path)")                                     \
	X("MD_COMPOSE_GLOBS", DEFAULT_GLOBS, 0, set_globs, compose_globs, 0, 0,                \
	  "compose files to scan, globs relative to MD_REPO separated by commas or spaces")   \
	X("MD_GIT_AUTHOR", "magos-dominus <magos-dominus@localhost>", 0, set_author,           \
	  git_author_name, 0, 0, "commit author and committer, 'Name <email>'")               \
	X("MD_COMMIT_TEMPLATE", DEFAULT_TEMPLATE, MULTILINE, set_template, commit_template, 0,  \
	  0, "commit message; placeholders {count}, {images}, {changes}")                     \
	X("MD_INSECURE_REGISTRIES", "", 0, set_hosts, insecure_registries, 0, 0,               \
	  "registries (host[:port]) reached over plain HTTP, separated by commas or spaces")  \
	X("MD_CA_FILE", NULL, 0, set_readable, ca_file, 0, 0,                                  \
	  "extra CA bundle (PEM) for registries and HTTPS Git remotes")                                     \
	X("MD_REGISTRY_AUTH_FILE", NULL, 0, set_string, registry_auth_file, 0, 0,              \
	  "registry credentials file (containers-auth.json / docker config.json format)")     \
	X("MD_REGISTRY_TIMEOUT", "30s", 0, set_duration, registry_timeout, 1, 0,               \
	  "timeout of one registry request (at least 1s)")                                    \
	X("MD_REGISTRY_CONNECT_TIMEOUT", "10s", 0, set_duration, registry_connect_timeout, 1,  \
	  0, "timeout of connecting to a registry (at least 1s)")                             \
	X("MD_REGISTRY_PAGE_SIZE", "1000", 0, set_int, registry_page_size, 1, 10000,           \
	  "tags asked for per tag-list request (1..10000)")                                   \
	X("MD_REGISTRY_CONCURRENCY", "4", 0, set_int, registry_concurrency, 1, 32,             \
	  "tag-list requests in flight at once per registry host (1..32)")                    \
	X("MD_PUSH_RETRIES", "3", 0, set_int, push_retries, 0, 20,                             \
	  "times a rejected push is retried after re-syncing (0..20)")                        \
	X("MD_LOG_FORMAT", "text", 0, set_log_format, log_format, 0, 0,                        \
	  "log format: text or json")                                                         \
	X("MD_LOG_LEVEL", "info", 0, set_log_level, log_level, 0, 0,                           \
	  "lowest level logged: debug, info, warn or error")

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
};

const struct md_config_key *md_config_keys(void)
{
	return key_table;
}

/* ---- helpers ---------------------------------------------------------- */

/* A value as quoted in a message: one printable line of bounded length. */
static const char *show(char *dst, size_t dstlen, const char *v)
{
	size_t i, o = 0;

	for (i = 0; v[i] && i < SHOW_MAX && o + 4 < dstlen; i++) {
		unsigned char c = (unsigned char)v[i];

		dst[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (v[i] && o + 4 <= dstlen) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
	return dst;
}

static void *field(struct md_settings *s, const struct key_spec *k)
{
	return (char *)s + k->off;
}

static int oom(struct md_err *err)
{
	return md_err_set(err, "out of memory");
}

/* ---- setters: v is never empty; errors say what is wrong with v -------- */

static int set_string(struct md_settings *s, const struct key_spec *k, const char *v,
		      struct md_err *err)
{
	char **dst = field(s, k);

	*dst = md_strdup(v);
	return *dst ? 0 : oom(err);
}

static int set_abspath(struct md_settings *s, const struct key_spec *k, const char *v,
		       struct md_err *err)
{
	char shown[SHOW_MAX + 8];

	if (v[0] != '/')
		return md_err_set(err, "'%s' is not an absolute path", show(shown, sizeof(shown), v));
	return set_string(s, k, v, err);
}

/* The parts of git check-ref-format that a branch name can trip over. */
static const char *branch_problem(const char *b)
{
	size_t n = strlen(b);

	if (b[0] == '-')
		return "starts with '-'";
	if (strstr(b, ".."))
		return "contains '..'";
	if (strstr(b, "@{") || strcmp(b, "@") == 0)
		return "contains '@{' or is '@'";
	for (const char *p = b; *p; p++) {
		if (*p == ' ' || (unsigned char)*p < 0x20 || *p == 0x7f)
			return "contains a space or a control character";
		if (strchr("~^:?*[\\", *p))
			return "contains one of ~ ^ : ? * [ \\";
	}
	if (b[0] == '/' || b[n - 1] == '/' || strstr(b, "//"))
		return "has an empty path component";
	if (b[n - 1] == '.' || md_str_has_suffix(b, ".lock"))
		return "ends with '.' or '.lock'";
	if (b[0] == '.' || strstr(b, "/.") || strstr(b, ".lock/"))
		return "has a component starting with '.' or ending with '.lock'";
	return NULL;
}

static int set_branch(struct md_settings *s, const struct key_spec *k, const char *v,
		      struct md_err *err)
{
	char shown[SHOW_MAX + 8];
	const char *why = branch_problem(v);

	if (why)
		return md_err_set(err, "invalid branch name '%s' (%s)",
				  show(shown, sizeof(shown), v), why);
	return set_string(s, k, v, err);
}

static int set_duration(struct md_settings *s, const struct key_spec *k, const char *v,
			struct md_err *err)
{
	char shown[SHOW_MAX + 8], min[32];
	int64_t secs;

	if (md_duration_parse(v, &secs, err) < 0)
		return -1;
	if (secs < k->lo) {
		md_duration_format(k->lo, min, sizeof(min));
		return md_err_set(err, "'%s' is too short (minimum %s)",
				  show(shown, sizeof(shown), v), min);
	}
	*(int64_t *)field(s, k) = secs;
	return 0;
}

static int set_int(struct md_settings *s, const struct key_spec *k, const char *v,
		   struct md_err *err)
{
	char shown[SHOW_MAX + 8];
	const char *p = v + (v[0] == '-' || v[0] == '+');
	long long n;
	char *end;

	if (*p < '0' || *p > '9')
		goto nan;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (*end)
		goto nan;
	if (errno == ERANGE || n < k->lo || n > k->hi)
		return md_err_set(err, "%s is out of range (%lld..%lld)",
				  show(shown, sizeof(shown), v), k->lo, k->hi);
	*(int *)field(s, k) = (int)n;
	return 0;
nan:
	return md_err_set(err, "'%s' is not an integer", show(shown, sizeof(shown), v));
}

static int split_list(struct md_strv *sv, const char *v, struct md_err *err)
{
	if (md_strv_split(sv, v, ", \t\r\n") < 0) {
		md_strv_free(sv);
		return oom(err);
	}
	return 0;
}

static int set_globs(struct md_settings *s, const struct key_spec *k, const char *v,
		     struct md_err *err)
{
	struct md_strv *sv = field(s, k);

	if (split_list(sv, v, err) < 0)
		return -1;
	if (sv->n == 0)
		return md_err_set(err, "no globs given");
	return 0;
}

/* host[:port] where host is a DNS name, an IPv4 address or [IPv6]. */
static int host_port_ok(const char *h)
{
	const char *p = h;
	long port;

	if (*p == '[') {
		size_t n = strspn(p + 1, "0123456789abcdefABCDEF:.");

		if (n == 0 || p[1 + n] != ']')
			return 0;
		p += n + 2;
	} else {
		for (;;) {
			size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz"
					     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-");

			if (n == 0 || p[0] == '-' || p[n - 1] == '-')
				return 0;
			p += n;
			if (*p != '.')
				break;
			p++;
		}
	}
	if (*p == '\0')
		return 1;
	if (*p++ != ':' || strspn(p, "0123456789") != strlen(p) || strlen(p) == 0 ||
	    strlen(p) > 5)
		return 0;
	port = strtol(p, NULL, 10);
	return port >= 1 && port <= 65535;
}

static int set_hosts(struct md_settings *s, const struct key_spec *k, const char *v,
		     struct md_err *err)
{
	char shown[SHOW_MAX + 8];
	struct md_strv *sv = field(s, k);

	if (split_list(sv, v, err) < 0)
		return -1;
	for (size_t i = 0; i < sv->n; i++)
		if (!host_port_ok(sv->v[i]))
			return md_err_set(err,
					  "invalid registry '%s' (expected host[:port], e.g. "
					  "registry.lan:5000)",
					  show(shown, sizeof(shown), sv->v[i]));
	return 0;
}

static int set_author(struct md_settings *s, const struct key_spec *k, const char *v,
		      struct md_err *err)
{
	(void)k;
	return md_config_parse_author(v, &s->git_author_name, &s->git_author_email, err);
}

static int placeholder_ok(const char *w, size_t n)
{
	static const char *const known[] = { "count", "images", "changes" };

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strlen(known[i]) == n && memcmp(known[i], w, n) == 0)
			return 1;
	return 0;
}

/* Only "{word}" is a placeholder; other braces are text (JSON in a message
 * stays possible). */
static int set_template(struct md_settings *s, const struct key_spec *k, const char *v,
			struct md_err *err)
{
	if (strspn(v, " \t\r\n") == strlen(v))
		return md_err_set(err, "the commit message template is blank");
	for (const char *p = strchr(v, '{'); p; p = strchr(p + 1, '{')) {
		size_t n = 0;

		while (p[1 + n] == '_' || (p[1 + n] >= 'a' && p[1 + n] <= 'z') ||
		       (p[1 + n] >= 'A' && p[1 + n] <= 'Z') || (p[1 + n] >= '0' && p[1 + n] <= '9'))
			n++;
		if (n && p[1 + n] == '}' && !placeholder_ok(p + 1, n))
			return md_err_set(err,
					  "unknown placeholder {%.*s} (allowed: {count}, {images}, "
					  "{changes})",
					  (int)(n > SHOW_MAX ? SHOW_MAX : n), p + 1);
	}
	return set_string(s, k, v, err);
}

static int set_readable(struct md_settings *s, const struct key_spec *k, const char *v,
			struct md_err *err)
{
	char shown[SHOW_MAX + 8];
	struct stat st;
	int fd;

	/* O_NONBLOCK: a FIFO named here must not hang the load. */
	fd = open(v, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return md_err_set(err, "cannot read %s: %s", show(shown, sizeof(shown), v),
				  strerror(errno));
	if (fstat(fd, &st) < 0) {
		int saved = errno;

		close(fd);
		return md_err_set(err, "cannot read %s: %s", show(shown, sizeof(shown), v),
				  strerror(saved));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return md_err_set(err, "%s is %s", show(shown, sizeof(shown), v),
				  S_ISDIR(st.st_mode) ? "a directory, not a file"
						      : "not a regular file");
	}
	close(fd);
	return set_string(s, k, v, err);
}

/* Index of v in a NULL-terminated list, which is also the enum value. */
static int set_choice(int *out, const char *const *choices, const char *v, struct md_err *err)
{
	char shown[SHOW_MAX + 8], valid[128] = "";

	for (int i = 0; choices[i]; i++) {
		if (strcmp(choices[i], v) == 0) {
			*out = i;
			return 0;
		}
		snprintf(valid + strlen(valid), sizeof(valid) - strlen(valid), "%s%s",
			 i ? ", " : "", choices[i]);
	}
	return md_err_set(err, "invalid value '%s' (valid: %s)", show(shown, sizeof(shown), v),
			  valid);
}

static int set_log_format(struct md_settings *s, const struct key_spec *k, const char *v,
			  struct md_err *err)
{
	static const char *const names[] = { "text", "json", NULL };
	static const enum md_log_format values[] = { MD_LOG_TEXT, MD_LOG_JSON };
	int i;

	(void)k;
	if (set_choice(&i, names, v, err) < 0)
		return -1;
	s->log_format = values[i];
	return 0;
}

static int set_log_level(struct md_settings *s, const struct key_spec *k, const char *v,
			 struct md_err *err)
{
	static const char *const names[] = { "debug", "info", "warn", "error", NULL };
	static const enum md_log_level values[] = { MD_LOG_DEBUG, MD_LOG_INFO, MD_LOG_WARN,
						    MD_LOG_ERROR };
	int i;

	(void)k;
	if (set_choice(&i, names, v, err) < 0)
		return -1;
	s->log_level = values[i];
	return 0;
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
			return oom(err);
		if (find_entry(e, key, NULL)) {
			free(key);
			continue;
		}
		v = realloc(e->v, (e->n + 1) * sizeof(*v));
		if (!v) {
			free(key);
			return oom(err);
		}
		e->v = v;
		v[e->n].key = key;
		v[e->n].line = 0;
		v[e->n].value = md_strdup(eq + 1);
		e->n++;
		if (!v[e->n - 1].value)
			return oom(err);
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
		oom(err);
		goto out;
	}
	for (size_t i = 0; i < cfg->file.n; i++) {
		cfg->file_origin[i] = md_asprintf("%s:%d", path, cfg->file.v[i].line);
		if (!cfg->file_origin[i]) {
			oom(err);
			goto out;
		}
	}
	rc = 0;
out:
	free(text);
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
	size_t j;

	if ((e = find_entry(&cfg->env, key_table[i].key, NULL))) {
		v = e->value;
		origin = "environment";
	} else if ((e = find_entry(&cfg->file, key_table[i].key, &j))) {
		v = e->value;
		origin = cfg->file_origin[j];
	}
	if (v && !*v) {
		v = NULL;
		origin = "default";
	}
	cfg->origin[i] = origin;
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

int md_config_load(struct md_config **out, const char *path, char *const *envp,
		   struct md_err *err)
{
	struct md_config *cfg = calloc(1, sizeof(*cfg));
	int rc = -1;

	*out = NULL;
	if (!cfg)
		return oom(err);
	if (path && load_file(cfg, path, err) < 0)
		goto out;
	if (load_env(&cfg->env, envp, err) < 0 || check_unknown(cfg, err) < 0)
		goto out;
	for (int i = 0; i < NKEYS; i++)
		if (apply_key(cfg, i, err) < 0)
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
	md_strv_free(&s->compose_globs);
	free(s->git_author_name);
	free(s->git_author_email);
	free(s->commit_template);
	md_strv_free(&s->insecure_registries);
	free(s->ca_file);
	free(s->registry_auth_file);
}

void md_config_free(struct md_config *cfg)
{
	if (!cfg)
		return;
	settings_free(&cfg->s);
	for (size_t i = 0; cfg->file_origin && i < cfg->file.n; i++)
		free(cfg->file_origin[i]);
	free(cfg->file_origin);
	md_config_entries_free(&cfg->file);
	md_config_entries_free(&cfg->env);
	free(cfg);
}

/* config — the setters of the key table: each parses and checks one value
 * and stores it in its md_settings field. */
#include "config_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- helpers ---------------------------------------------------------- */

/* A value as quoted in a message: one printable line of bounded length. */
const char *md_config__show(char *dst, size_t dstlen, const char *v)
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

int md_config__oom(struct md_err *err)
{
	return md_err_set(err, "out of memory");
}

/* ---- setters: v is never empty; errors say what is wrong with v -------- */

int cfg_set_string(struct md_settings *s, const struct key_spec *k, const char *v,
		      struct md_err *err)
{
	char **dst = field(s, k);

	*dst = md_strdup(v);
	return *dst ? 0 : md_config__oom(err);
}

int cfg_set_abspath(struct md_settings *s, const struct key_spec *k, const char *v,
		       struct md_err *err)
{
	char shown[SHOW_MAX + 8];

	if (v[0] != '/')
		return md_err_set(err, "'%s' is not an absolute path", md_config__show(shown, sizeof(shown), v));
	return cfg_set_string(s, k, v, err);
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

int cfg_set_branch(struct md_settings *s, const struct key_spec *k, const char *v,
		      struct md_err *err)
{
	char shown[SHOW_MAX + 8];
	const char *why = branch_problem(v);

	if (why)
		return md_err_set(err, "invalid branch name '%s' (%s)",
				  md_config__show(shown, sizeof(shown), v), why);
	return cfg_set_string(s, k, v, err);
}

int cfg_set_duration(struct md_settings *s, const struct key_spec *k, const char *v,
			struct md_err *err)
{
	char shown[SHOW_MAX + 8], min[32];
	int64_t secs;

	if (md_duration_parse(v, &secs, err) < 0)
		return -1;
	if (secs < k->lo) {
		md_duration_format(k->lo, min, sizeof(min));
		return md_err_set(err, "'%s' is too short (minimum %s)",
				  md_config__show(shown, sizeof(shown), v), min);
	}
	*(int64_t *)field(s, k) = secs;
	return 0;
}

int cfg_set_int(struct md_settings *s, const struct key_spec *k, const char *v,
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
				  md_config__show(shown, sizeof(shown), v), k->lo, k->hi);
	*(int *)field(s, k) = (int)n;
	return 0;
nan:
	return md_err_set(err, "'%s' is not an integer", md_config__show(shown, sizeof(shown), v));
}

static int split_list(struct md_strv *sv, const char *v, struct md_err *err)
{
	if (md_strv_split(sv, v, ", \t\r\n") < 0) {
		md_strv_clear(sv);
		return md_config__oom(err);
	}
	return 0;
}

int cfg_set_globs(struct md_settings *s, const struct key_spec *k, const char *v,
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

int cfg_set_hosts(struct md_settings *s, const struct key_spec *k, const char *v,
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
					  md_config__show(shown, sizeof(shown), sv->v[i]));
	return 0;
}

int cfg_set_author(struct md_settings *s, const struct key_spec *k, const char *v,
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
int cfg_set_template(struct md_settings *s, const struct key_spec *k, const char *v,
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
	return cfg_set_string(s, k, v, err);
}

int cfg_set_readable(struct md_settings *s, const struct key_spec *k, const char *v,
			struct md_err *err)
{
	char shown[SHOW_MAX + 8];
	struct stat st;
	int fd;

	/* O_NONBLOCK: a FIFO named here must not hang the load. */
	fd = open(v, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return md_err_set(err, "cannot read %s: %s", md_config__show(shown, sizeof(shown), v),
				  strerror(errno));
	if (fstat(fd, &st) < 0) {
		int saved = errno;

		close(fd);
		return md_err_set(err, "cannot read %s: %s", md_config__show(shown, sizeof(shown), v),
				  strerror(saved));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return md_err_set(err, "%s is %s", md_config__show(shown, sizeof(shown), v),
				  S_ISDIR(st.st_mode) ? "a directory, not a file"
						      : "not a regular file");
	}
	close(fd);
	return cfg_set_string(s, k, v, err);
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
	return md_err_set(err, "invalid value '%s' (valid: %s)", md_config__show(shown, sizeof(shown), v),
			  valid);
}

/* ---- the one table of log level and format names ---------------------- */

/* Index: enum md_log_level. */
static const char *const log_levels[] = { "debug", "info", "warn", "error", NULL };
/* In the order a message lists them. */
static const char *const log_formats[] = { "auto", "text", "json", "journal", NULL };
static const enum md_log_format log_format_values[] = { MD_LOG_AUTO, MD_LOG_TEXT, MD_LOG_JSON,
							MD_LOG_JOURNAL };

int md_config_parse_log_level(const char *s, enum md_log_level *out, struct md_err *err)
{
	int i;

	/* syslog and journald spell it so; people copy from there. */
	if (strcmp(s, "warning") == 0) {
		*out = MD_LOG_WARN;
		return 0;
	}
	if (set_choice(&i, log_levels, s, err) < 0)
		return -1;
	*out = (enum md_log_level)i;
	return 0;
}

int md_config_parse_log_format(const char *s, enum md_log_format *out, struct md_err *err)
{
	int i;

	if (set_choice(&i, log_formats, s, err) < 0)
		return -1;
	*out = log_format_values[i];
	return 0;
}

const char *md_config_log_level_name(enum md_log_level level)
{
	return level >= MD_LOG_DEBUG && level <= MD_LOG_ERROR ? log_levels[level] : "?";
}

int cfg_set_log_format(struct md_settings *s, const struct key_spec *k, const char *v,
		       struct md_err *err)
{
	(void)k;
	return md_config_parse_log_format(v, &s->log_format, err);
}

int cfg_set_log_level(struct md_settings *s, const struct key_spec *k, const char *v,
		      struct md_err *err)
{
	(void)k;
	return md_config_parse_log_level(v, &s->log_level, err);
}

int cfg_set_bool(struct md_settings *s, const struct key_spec *k, const char *v,
		 struct md_err *err)
{
	char shown[SHOW_MAX + 8];

	if (md_config_parse_bool(v, field(s, k)) < 0)
		return md_err_set(err, "'%s' is not a boolean (true/false, yes/no, on/off, 1/0)",
				  md_config__show(shown, sizeof(shown), v));
	return 0;
}

int cfg_set_mode(struct md_settings *s, const struct key_spec *k, const char *v,
		 struct md_err *err)
{
	static const char *const names[] = { "push", "pr", NULL };
	static const enum md_mode values[] = { MD_MODE_PUSH, MD_MODE_PR };
	int i;

	(void)k;
	if (set_choice(&i, names, v, err) < 0)
		return -1;
	s->mode = values[i];
	return 0;
}

/* host:port to listen on, or "off". The host is an IPv4 address, [IPv6] or
 * a name; the port is required (a default port would hide a typo). */
int cfg_set_listen(struct md_settings *s, const struct key_spec *k, const char *v,
		   struct md_err *err)
{
	char shown[SHOW_MAX + 8];

	if (strcmp(v, "off") == 0)
		return 0;
	if (!host_port_ok(v) || !strrchr(v, ':') || strrchr(v, ']') > strrchr(v, ':'))
		return md_err_set(err, "invalid address '%s' (expected host:port, e.g. "
				       "127.0.0.1:9797, or off)",
				  md_config__show(shown, sizeof(shown), v));
	return cfg_set_string(s, k, v, err);
}

/* A command as argv: words separated by blanks, no quoting, no shell. */
int cfg_set_argv(struct md_settings *s, const struct key_spec *k, const char *v,
		 struct md_err *err)
{
	struct md_strv *sv = field(s, k);

	md_strv_clear(sv);
	if (md_strv_split(sv, v, " \t") < 0)
		return md_config__oom(err);
	if (sv->n == 0)
		return md_err_set(err, "no command given");
	return 0;
}

/* http(s)://host[:port][/path], kept without a trailing slash so paths can
 * be appended as "/repos/...". */
int cfg_set_url(struct md_settings *s, const struct key_spec *k, const char *v,
		struct md_err *err)
{
	char shown[SHOW_MAX + 8];
	char **dst = field(s, k);
	size_t n = strlen(v);

	if (strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0)
		return md_err_set(err, "'%s' is not an http:// or https:// URL",
				  md_config__show(shown, sizeof(shown), v));
	if (strchr(v, ' ') || strchr(v, '?') || strchr(v, '#'))
		return md_err_set(err, "'%s' must not contain spaces, '?' or '#'",
				  md_config__show(shown, sizeof(shown), v));
	while (n > 0 && v[n - 1] == '/')
		n--;
	*dst = md_strndup(v, n);
	return *dst ? 0 : md_config__oom(err);
}

int cfg_set_id(struct md_settings *s, const struct key_spec *k, const char *v,
	       struct md_err *err)
{
	char shown[SHOW_MAX + 8];

	if (strspn(v, "0123456789") != strlen(v) || strlen(v) > 19 || v[0] == '0')
		return md_err_set(err, "'%s' is not a positive number",
				  md_config__show(shown, sizeof(shown), v));
	return cfg_set_string(s, k, v, err);
}

/* A private key file: readable, and not readable by group or others. The
 * message gives the exact command that fixes it. */
int cfg_set_keyfile(struct md_settings *s, const struct key_spec *k, const char *v,
		    struct md_err *err)
{
	char shown[SHOW_MAX + 8];
	struct stat st;

	if (cfg_set_readable(s, k, v, err) < 0)
		return -1;
	if (stat(v, &st) < 0)
		return md_err_set(err, "cannot read %s: %s", md_config__show(shown, sizeof(shown), v),
				  strerror(errno));
	if (st.st_mode & 077)
		return md_err_set(err,
				  "%s is readable by group or others (mode %04o); refusing to use "
				  "a private key others can read: run `chmod 600 %s`",
				  md_config__show(shown, sizeof(shown), v), (unsigned)(st.st_mode & 07777),
				  v);
	return 0;
}

/* Globs that may be empty (empty: no restriction). */
int cfg_set_globs_opt(struct md_settings *s, const struct key_spec *k, const char *v,
		      struct md_err *err)
{
	struct md_strv *sv = field(s, k);

	md_strv_clear(sv);
	if (md_strv_split(sv, v, ", \t\r\n") < 0)
		return md_config__oom(err);
	return 0;
}

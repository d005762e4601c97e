/* What Trivy is given: checked arguments, a filtered environment, and the
 * Docker config that carries the registry credentials.
 *
 * Why a Docker config rather than TRIVY_USERNAME/TRIVY_PASSWORD: Trivy
 * sends those two to every registry it talks to during a scan (its
 * private-registries documentation warns about it), while the keychain it
 * falls back to (go-containerregistry's, reading $DOCKER_CONFIG/config.json)
 * looks credentials up by registry host. So the credentials go to the
 * image's registry only, and never appear on a command line. */
#include "scan_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- arguments ----------------------------------------------------------------------- */

#define NAME_MAX_LEN 512
#define URL_MAX_LEN 512

/* s cut to 80 characters with controls made '?', for a message about a
 * value that was refused (it came from a file or the environment). */
static const char *shown(char *buf, size_t len, const char *s)
{
	size_t n = 0;

	for (; s && s[n] && n < len - 1 && n < 80; n++)
		buf[n] = (unsigned char)s[n] < 0x20 || s[n] == 0x7f ? '?' : s[n];
	buf[n] = '\0';
	return buf;
}

/* Reference characters only, starting with a letter or digit, so the
 * argument can never read as an option to Trivy. */
static int valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN)
		return 0;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
	      (s[0] >= '0' && s[0] <= '9')))
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/:") ==
	       n;
}

/* "os/arch[/variant]" */
static int valid_platform(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 64 || s[0] == '-' || !strchr(s, '/'))
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-/") == n;
}

/* http(s)://authority[/path] without blanks, controls or userinfo (a
 * password in it would be on the command line). */
static int check_server(const char *url, struct md_err *err)
{
	char buf[96];
	const char *auth;
	size_t alen;

	if (strlen(url) > URL_MAX_LEN)
		return md_err_set(err, "the Trivy server URL is longer than %d characters",
				  URL_MAX_LEN);
	if (md_str_has_prefix(url, "http://"))
		auth = url + 7;
	else if (md_str_has_prefix(url, "https://"))
		auth = url + 8;
	else
		return md_err_set(err, "the Trivy server URL \"%s\" does not start with http:// "
				       "or https://", shown(buf, sizeof(buf), url));
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return md_err_set(err, "the Trivy server URL has a blank or control "
					       "character");
	alen = strcspn(auth, "/?#");
	if (alen == 0)
		return md_err_set(err, "the Trivy server URL \"%s\" has no host",
				  shown(buf, sizeof(buf), url));
	if (memchr(auth, '@', alen))
		return md_err_set(err, "the Trivy server URL holds credentials; give the token in "
				       "a token file instead");
	return 0;
}

int md_scan__check_args(const struct md_scan_opts *o, const char *name, const char *digest,
			struct md_err *err)
{
	char buf[96];

	if (!name || !valid_name(name))
		return md_err_set(err, "cannot scan \"%s\": not an image name",
				  name ? shown(buf, sizeof(buf), name) : "(none)");
	if (!digest || !md_ref_valid_digest(digest))
		return md_err_set(err, "cannot scan %s: \"%s\" is not a sha256 digest", name,
				  digest ? shown(buf, sizeof(buf), digest) : "(none)");
	if (!valid_platform(o->platform))
		return md_err_set(err, "cannot scan %s@%s: the host platform \"%s\" is not "
				       "os/arch", name, digest, shown(buf, sizeof(buf), o->platform));
	if (o->server && check_server(o->server, err) < 0)
		return -1;
	return 0;
}

/* ---- the registry's key in a Docker config ------------------------------------------- */

int md_scan__registry_key(const char *name, char *out, size_t outlen)
{
	size_t n = md_ref_domain_len(name, strlen(name));

	/* go-containerregistry normalises docker.io to index.docker.io, whose
	 * key in Docker's config is this URL for historical reasons. */
	if (!n || md_ref_is_hub(name, n))
		return md_strlcpy(out, "https://index.docker.io/v1/", outlen) < outlen ? 0 : -1;
	if (n >= outlen)
		return -1;
	memcpy(out, name, n);
	out[n] = '\0';
	return 0;
}

/* ---- the Docker config ---------------------------------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int put_base64(struct md_buf *out, const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		char q[4];

		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		q[0] = b64[(v >> 18) & 63];
		q[1] = b64[(v >> 12) & 63];
		q[2] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		q[3] = i + 2 < len ? b64[v & 63] : '=';
		if (md_buf_append(out, q, 4) < 0)
			return -1;
	}
	return 0;
}

/* A JSON string: quotes, backslashes and controls escaped. */
static int put_json_string(struct md_buf *out, const char *s)
{
	if (md_buf_puts(out, "\"") < 0)
		return -1;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		int rc;

		if (c == '"' || c == '\\')
			rc = md_buf_printf(out, "\\%c", c);
		else if (c < 0x20)
			rc = md_buf_printf(out, "\\u%04x", c);
		else
			rc = md_buf_append(out, s, 1);
		if (rc < 0)
			return -1;
	}
	return md_buf_puts(out, "\"");
}

/* "user:secret" base64-encoded into out, the joined copy wiped. */
static int put_basic(struct md_buf *out, const struct md_scan_cred *cred)
{
	struct md_buf pair;
	int rc;

	md_buf_init(&pair, 16384);
	rc = md_buf_printf(&pair, "%s:%s", cred->username, cred->secret);
	if (rc == 0)
		rc = put_base64(out, (const unsigned char *)pair.data, pair.len);
	md_buf_clear(&pair);
	return rc;
}

int md_scan__docker_config(struct md_buf *out, const char *key, const struct md_scan_cred *cred)
{
	if (!cred || !cred->secret || !*cred->secret)
		return md_buf_puts(out, "{\"auths\":{}}\n");
	if (md_buf_puts(out, "{\"auths\":{") < 0 || put_json_string(out, key) < 0)
		return -1;
	if (cred->identity) {
		if (md_buf_puts(out, ":{\"identitytoken\":") < 0 ||
		    put_json_string(out, cred->secret) < 0)
			return -1;
	} else {
		if (!cred->username || md_buf_puts(out, ":{\"auth\":\"") < 0 ||
		    put_basic(out, cred) < 0 || md_buf_puts(out, "\"") < 0)
			return -1;
	}
	return md_buf_puts(out, "}}}\n");
}

/* ---- the environment ------------------------------------------------------------------ */

/* What Trivy may see of the agent's environment. Everything else stays
 * out: the agent's own settings, cloud credentials (Trivy would use AWS_*
 * or Google credentials to log in to registries), and TRIVY_* settings
 * that would filter the report (TRIVY_SEVERITY, TRIVY_IGNORE_UNFIXED, …),
 * redirect it (TRIVY_OUTPUT) or change the exit code; the gate applies its
 * own filters to the full report. */
static const char *const kept[] = {
	"PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR",
	"XDG_CACHE_HOME", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy",
	"no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR",
	/* where Trivy keeps and fetches its databases */
	"TRIVY_CACHE_DIR", "TRIVY_DB_REPOSITORY", "TRIVY_JAVA_DB_REPOSITORY",
	"TRIVY_SKIP_DB_UPDATE", "TRIVY_SKIP_JAVA_DB_UPDATE", "TRIVY_OFFLINE_SCAN",
	"TRIVY_INSECURE", "TRIVY_TOKEN_HEADER",
};

int md_scan__env_kept(const char *entry)
{
	size_t n = strcspn(entry, "=");

	if (!entry[n] || n == 0)
		return 0;
	if (n > 3 && !strncmp(entry, "LC_", 3))
		return 1;
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		if (strlen(kept[i]) == n && !strncmp(entry, kept[i], n))
			return 1;
	return 0;
}

int md_scan__env_build(struct md_strv *out, char *const *env, char *const *extra)
{
	for (size_t i = 0; env && env[i]; i++)
		if (md_scan__env_kept(env[i]) && md_strv_push(out, env[i]) < 0)
			return -1;
	for (size_t i = 0; extra && extra[i]; i++)
		if (md_strv_push(out, extra[i]) < 0)
			return -1;
	return 0;
}

void md_scan__env_free(struct md_strv *env)
{
	for (size_t i = 0; i < env->n; i++)
		md_memzero(env->v[i], strlen(env->v[i]));
	md_strv_clear(env);
}

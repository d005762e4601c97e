/* containers auth.json lookup (PROTOCOLS.md §2.4) and the base64 it needs.
 * Pure: the caller reads the file; here only its text is examined. Every
 * decoded secret, and jansson's copy of every encoded one, is zeroed. */
#include "registry_int.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *md_reg_base64_encode(const void *data, size_t len)
{
	const unsigned char *p = data;
	char *out = malloc(4 * ((len + 2) / 3) + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;

		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		*o++ = b64[(v >> 18) & 63];
		*o++ = b64[(v >> 12) & 63];
		*o++ = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? b64[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

static int b64_value(char c)
{
	const char *p = c ? strchr(b64, c) : NULL;

	return p ? (int)(p - b64) : -1;
}

int md_reg_base64_decode(const char *s, unsigned char **out, size_t *outlen)
{
	size_t n = strlen(s), pad = 0, o = 0;
	unsigned char *buf;

	*out = NULL;
	if (n % 4 != 0)
		return -1;
	if (n >= 1 && s[n - 1] == '=')
		pad++;
	if (n >= 2 && s[n - 2] == '=')
		pad++;
	if (!(buf = malloc(n / 4 * 3 + 1)))
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		int v[4];
		int last = i + 4 == n;

		for (int k = 0; k < 4; k++) {
			v[k] = b64_value(s[i + k]);
			if (v[k] < 0 && !(last && s[i + k] == '=' && k >= 4 - (int)pad))
				goto fail;
			if (v[k] < 0)
				v[k] = 0;
		}
		buf[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (!last || pad < 2)
			buf[o++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		if (!last || pad < 1)
			buf[o++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
	}
	buf[o] = '\0';
	*out = buf;
	*outlen = o;
	return 0;
fail:
	md_memzero(buf, n / 4 * 3 + 1);
	free(buf);
	return -1;
}

void md_reg_secret_free(char *s)
{
	if (s) {
		md_memzero(s, strlen(s));
		free(s);
	}
}

/* ---- key matching ------------------------------------------------------ */

static int is_hub(const char *host, size_t n)
{
	return (n == 9 && strncasecmp(host, "docker.io", n) == 0) ||
	       (n == 15 && strncasecmp(host, "index.docker.io", n) == 0) ||
	       (n == 20 && strncasecmp(host, "registry-1.docker.io", n) == 0);
}

/* Normalise an auth.json key or a lookup target: drop an http(s):// prefix
 * together with any path (Docker's "https://index.docker.io/v1/"), fold the
 * Docker Hub aliases to docker.io and lowercase the host. */
static char *normalise_key(const char *key)
{
	const char *rest;
	size_t hostlen;
	char *out;

	if (strncasecmp(key, "https://", 8) == 0)
		key += 8;
	else if (strncasecmp(key, "http://", 7) == 0)
		key += 7;
	else
		goto keep_path;
	hostlen = strcspn(key, "/");
	rest = "";
	goto build;
keep_path:
	hostlen = strcspn(key, "/");
	rest = key + hostlen;
build:
	if (is_hub(key, hostlen))
		return md_asprintf("docker.io%s", rest);
	out = md_asprintf("%.*s%s", (int)hostlen, key, rest);
	for (size_t i = 0; out && i < hostlen; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
	return out;
}

/* Find the entry for exactly `target`: an unmodified key wins over keys
 * that only match after normalisation. */
static json_t *find_entry(json_t *auths, const char *target, const char **matched, int *oom)
{
	const char *key;
	json_t *v, *found = NULL;

	if ((v = json_object_get(auths, target))) {
		*matched = target;
		return v;
	}
	json_object_foreach(auths, key, v) {
		char *norm = normalise_key(key);

		if (!norm) {
			*oom = 1;
			return NULL;
		}
		if (strcmp(norm, target) == 0 && !found) {
			found = v;
			*matched = key;
		}
		free(norm);
	}
	return found;
}

/* Zero jansson's copies of the encoded secrets before the document is
 * freed (json_decref does not wipe). */
static void wipe_secrets(json_t *auths)
{
	static const char *fields[] = { "auth", "password", "identitytoken", "registrytoken" };
	const char *key;
	json_t *entry;

	json_object_foreach(auths, key, entry) {
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			json_t *s = json_object_get(entry, fields[i]);
			const char *cv = json_string_value(s);
			char *w;

			if (!cv)
				continue;
			memcpy(&w, &cv, sizeof(w)); /* jansson owns it; we only wipe */
			md_memzero(w, json_string_length(s));
		}
	}
}

static int decode_entry(json_t *entry, const char *file, const char *key, char **user,
			char **pass, struct md_err *err)
{
	const char *enc = json_string_value(json_object_get(entry, "auth"));
	unsigned char *dec = NULL;
	size_t len = 0;
	char *colon;
	int rc = -1;

	if (!json_is_object(entry))
		return md_err_set(err, "auth file %s: entry \"%s\" is not an object", file, key);
	if (!enc || !*enc)
		return 0; /* {} marks a credential-helper registry: anonymous here */
	if (md_reg_base64_decode(enc, &dec, &len) < 0) {
		md_err_set(err, "auth file %s: entry \"%s\" has an \"auth\" value that is not valid base64",
			   file, key);
		goto out;
	}
	colon = memchr(dec, ':', len);
	if (!colon) {
		md_err_set(err, "auth file %s: entry \"%s\" has an \"auth\" value that is not base64(user:password)",
			   file, key);
		goto out;
	}
	/* Some writers pad the password with NULs; they are not part of it. */
	while (len > 0 && dec[len - 1] == '\0')
		len--;
	*user = md_strndup((const char *)dec, (size_t)(colon - (char *)dec));
	*pass = md_strndup(colon + 1, len - (size_t)(colon + 1 - (char *)dec));
	if (!*user || !*pass) {
		md_reg_secret_free(*user);
		md_reg_secret_free(*pass);
		*user = *pass = NULL;
		md_err_set(err, "out of memory reading auth file %s", file);
		goto out;
	}
	rc = 1;
out:
	if (dec) {
		md_memzero(dec, len + 1);
		free(dec);
	}
	return rc;
}

int md_reg_auth_lookup(const char *json, size_t len, const char *file, const char *domain,
		       const char *path, char **user, char **pass, struct md_err *err)
{
	json_error_t jerr;
	json_t *root, *auths;
	char *target = NULL, *host = NULL;
	int rc = -1, oom = 0;

	*user = *pass = NULL;
	root = json_loadb(json, len, 0, &jerr);
	if (!root)
		return md_err_set(err, "auth file %s is not valid JSON: %s (line %d)", file,
				  jerr.text, jerr.line);
	auths = json_object_get(root, "auths");
	if (!json_is_object(root) || (auths && !json_is_object(auths))) {
		md_err_set(err, "auth file %s is not of the form {\"auths\": {...}}", file);
		goto out;
	}
	rc = 0;
	if (!auths)
		goto out;
	host = normalise_key(domain);
	target = host ? md_asprintf("%s/%s", host, path) : NULL;
	if (!target) {
		rc = md_err_set(err, "out of memory reading auth file %s", file);
		goto out;
	}
	/* Most specific first: host/a/b → host/a → host. */
	for (;;) {
		const char *matched = NULL;
		json_t *entry = find_entry(auths, target, &matched, &oom);
		char *slash;

		if (oom) {
			rc = md_err_set(err, "out of memory reading auth file %s", file);
			break;
		}
		if (entry) {
			rc = decode_entry(entry, file, matched, user, pass, err);
			break;
		}
		if (!(slash = strrchr(target, '/')))
			break;
		*slash = '\0';
	}
out:
	if (json_is_object(auths))
		wipe_secrets(auths);
	json_decref(root);
	free(target);
	free(host);
	return rc;
}

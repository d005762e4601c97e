/* containers auth.json lookup (docs/protocols.md, Credential files and helpers) and the base64 it needs.
 * Pure: the caller reads the file; here only its text is examined. Every
 * decoded secret, and jansson's copy of every encoded one, is zeroed. */
#include "registry_int.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *md_registry__base64_encode(const void *data, size_t len)
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

int md_registry__base64_decode(const char *s, unsigned char **out, size_t *outlen)
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

void md_registry__secret_free(char *s)
{
	if (s) {
		md_memzero(s, strlen(s));
		free(s);
	}
}

/* ---- key matching ------------------------------------------------------ */

/* Docker Hub's domains, and its API host: people key credentials by that
 * too. */
static int is_hub(const char *host, size_t n)
{
	return md_ref_is_hub(host, n) ||
	       (n == strlen(MD_REF_HUB_API) && strncasecmp(host, MD_REF_HUB_API, n) == 0);
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
		return md_asprintf("%s%s", MD_REF_HUB, rest);
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

void md_registry__cred_clear(struct md_reg_cred *c)
{
	md_registry__secret_free(c->user);
	md_registry__secret_free(c->secret);
	free(c->helper);
	memset(c, 0, sizeof(*c));
}

/* Decode base64(user:password) into c->user and c->secret. */
static int decode_auth(const char *enc, const char *file, const char *key,
		       struct md_reg_cred *c, struct md_err *err)
{
	unsigned char *dec = NULL;
	size_t len = 0;
	char *colon;
	int rc = -1;

	if (md_registry__base64_decode(enc, &dec, &len) < 0) {
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
	c->user = md_strndup((const char *)dec, (size_t)(colon - (char *)dec));
	c->secret = md_strndup(colon + 1, len - (size_t)(colon + 1 - (char *)dec));
	if (!c->user || !c->secret) {
		md_err_set(err, "out of memory reading auth file %s", file);
		goto out;
	}
	rc = 0;
out:
	if (dec) {
		md_memzero(dec, len + 1);
		free(dec);
	}
	return rc;
}

/* 1 with credentials, 0 for an entry without any ({} marks a
 * credential-helper registry), -1 for a broken entry. An identitytoken
 * wins over auth: Docker stores both after an OAuth login and the token is
 * what the registry expects (docs/protocols.md, Registry authentication). */
static int decode_entry(json_t *entry, const char *file, const char *key,
			struct md_reg_cred *c, struct md_err *err)
{
	const char *enc = json_string_value(json_object_get(entry, "auth"));
	const char *idt = json_string_value(json_object_get(entry, "identitytoken"));

	if (!json_is_object(entry))
		return md_err_set(err, "auth file %s: entry \"%s\" is not an object", file, key);
	if ((!enc || !*enc) && (!idt || !*idt))
		return 0;
	if (enc && *enc && decode_auth(enc, file, key, c, err) < 0)
		goto fail;
	if (idt && *idt) {
		md_registry__secret_free(c->secret);
		c->identity = 1;
		if (!(c->secret = md_strdup(idt))) {
			md_err_set(err, "out of memory reading auth file %s", file);
			goto fail;
		}
	}
	return 1;
fail:
	md_registry__cred_clear(c);
	return -1;
}

/* credHelpers is keyed by registry host only. */
static int find_helper(json_t *root, const char *file, const char *host,
		       struct md_reg_cred *c, struct md_err *err)
{
	json_t *helpers = json_object_get(root, "credHelpers");
	const char *matched = NULL, *name;
	json_t *v;
	int oom = 0;

	if (!helpers)
		return 0;
	if (!json_is_object(helpers))
		return md_err_set(err, "auth file %s: \"credHelpers\" is not an object", file);
	v = find_entry(helpers, host, &matched, &oom);
	if (oom)
		return md_err_set(err, "out of memory reading auth file %s", file);
	if (!v)
		return 0;
	name = json_string_value(v);
	/* The name becomes part of a program name: keep it to a safe alphabet. */
	if (!name || !*name || strlen(name) > 64 ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
		    strlen(name))
		return md_err_set(err, "auth file %s: credHelpers entry \"%s\" is not a helper name",
				  file, matched);
	if (!(c->helper = md_strdup(name)))
		return md_err_set(err, "out of memory reading auth file %s", file);
	return 1;
}

/* Walk host/a/b → host/a → host in the auths map. */
static int find_auths(json_t *auths, const char *file, const char *host, const char *path,
		      struct md_reg_cred *c, struct md_err *err)
{
	char *target = md_asprintf("%s/%s", host, path);
	int rc = 0, oom = 0;

	if (!target)
		return md_err_set(err, "out of memory reading auth file %s", file);
	for (;;) {
		const char *matched = NULL;
		json_t *entry = find_entry(auths, target, &matched, &oom);
		char *slash;

		if (oom) {
			rc = md_err_set(err, "out of memory reading auth file %s", file);
			break;
		}
		if (entry) {
			rc = decode_entry(entry, file, matched, c, err);
			break;
		}
		if (!(slash = strrchr(target, '/')))
			break;
		*slash = '\0';
	}
	free(target);
	return rc;
}

int md_registry__auth_find(const char *json, size_t len, const char *file, int legacy,
		     const char *domain, const char *path, struct md_reg_cred *out,
		     struct md_err *err)
{
	json_error_t jerr;
	json_t *root, *auths;
	char *host = NULL;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	root = json_loadb(json, len, 0, &jerr);
	if (!root)
		return md_err_set(err, "auth file %s is not valid JSON: %s (line %d)", file,
				  jerr.text, jerr.line);
	/* The legacy ~/.dockercfg is the auths map itself. */
	auths = legacy ? root : json_object_get(root, "auths");
	if (!json_is_object(root) || (auths && !json_is_object(auths))) {
		md_err_set(err, legacy ? "auth file %s is not a JSON object"
				       : "auth file %s is not of the form {\"auths\": {...}}",
			   file);
		goto out;
	}
	if (!(host = normalise_key(domain))) {
		md_err_set(err, "out of memory reading auth file %s", file);
		goto out;
	}
	rc = legacy ? 0 : find_helper(root, file, host, out, err);
	if (rc == 0 && auths)
		rc = find_auths(auths, file, host, path, out, err);
out:
	if (json_is_object(auths))
		wipe_secrets(auths);
	json_decref(root);
	free(host);
	return rc;
}

int md_registry__auth_lookup(const char *json, size_t len, const char *file, const char *domain,
		       const char *path, char **user, char **pass, struct md_err *err)
{
	struct md_reg_cred c;
	int rc = md_registry__auth_find(json, len, file, 0, domain, path, &c, err);

	*user = *pass = NULL;
	if (rc == 1 && c.user && !c.identity && !c.helper) {
		*user = c.user;
		*pass = c.secret;
		c.user = c.secret = NULL;
	} else if (rc == 1) {
		rc = 0; /* helpers and identity tokens need the client */
	}
	md_registry__cred_clear(&c);
	return rc;
}

int md_registry__credhelper_parse(const char *json, size_t len, const char *helper,
			    struct md_reg_cred *out, struct md_err *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(json, len, 0, &jerr);
	const char *user, *secret;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!root)
		return md_err_set(err, "credential helper docker-credential-%s printed invalid JSON (line %d)",
				  helper, jerr.line);
	user = json_string_value(json_object_get(root, "Username"));
	secret = json_string_value(json_object_get(root, "Secret"));
	if (!json_is_object(root) || !user || !secret || !*secret) {
		md_err_set(err, "credential helper docker-credential-%s printed no \"Username\" and \"Secret\"",
			   helper);
		goto out;
	}
	/* "<token>" is the helpers' marker for an identity (refresh) token. */
	out->identity = strcmp(user, "<token>") == 0;
	out->user = out->identity ? NULL : md_strdup(user);
	out->secret = md_strdup(secret);
	if ((!out->identity && !out->user) || !out->secret) {
		md_registry__cred_clear(out);
		md_err_set(err, "out of memory reading credential helper docker-credential-%s",
			   helper);
		goto out;
	}
	rc = 0;
out:
	if (secret) {
		char *w;

		memcpy(&w, &secret, sizeof(w)); /* jansson owns it; we only wipe */
		md_memzero(w, strlen(secret));
	}
	json_decref(root);
	return rc;
}

char *md_registry__refresh_form(const char *refresh_token, const char *service, const char *scope)
{
	char *tok = md_registry__urlencode(refresh_token);
	char *svc = service ? md_registry__urlencode(service) : NULL;
	char *scp = scope ? md_registry__urlencode(scope) : NULL;
	char *out = NULL;

	if (tok && (!service || svc) && (!scope || scp))
		out = md_asprintf("grant_type=refresh_token&refresh_token=%s%s%s%s%s&client_id=magos-dominus",
				  tok, svc ? "&service=" : "", svc ? svc : "", scp ? "&scope=" : "",
				  scp ? scp : "");
	md_registry__secret_free(tok);
	free(svc);
	free(scp);
	return out;
}

/* The decrypted document handed to callers: leaves in document order, the
 * plaintext rendering, the environment-file form; format detection. */
#include "secrets_int.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

struct doc_leaf {
	char *path; /* "a:b:c" */
	const struct sec_node *n;
	int in_list;
};

struct md_sops_doc {
	enum md_sops_format fmt;
	char *name; /* for errors */
	struct sec_node *root;
	struct doc_leaf *leaves;
	size_t n;
	size_t cap;
	struct sec_buf plain;
};

void md_secrets_free_plain(char *p, size_t len)
{
	if (!p)
		return;
	OPENSSL_cleanse(p, len);
	free(p);
}

int md_secrets__doc_new(struct md_sops_doc **out, enum md_sops_format fmt, const char *name,
		struct md_err *err)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return md_err_set(err, "%s: out of memory", name);
	(*out)->fmt = fmt;
	(*out)->name = md_strdup(name);
	if (!(*out)->name) {
		free(*out);
		*out = NULL;
		return md_err_set(err, "%s: out of memory", name);
	}
	md_secrets__buf_init(&(*out)->plain, MD_SECRETS_MAX_FILE * 2);
	return 0;
}

int md_secrets__doc_add_leaf(struct md_sops_doc *d, const struct sec_node *n, const char *path,
		     int in_list, const char *name, struct md_err *err)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct doc_leaf *v = realloc(d->leaves, cap * sizeof(*v));

		if (!v)
			return md_err_set(err, "%s: out of memory", name);
		d->leaves = v;
		d->cap = cap;
	}
	d->leaves[d->n].path = md_strdup(path);
	if (!d->leaves[d->n].path)
		return md_err_set(err, "%s: out of memory", name);
	d->leaves[d->n].n = n;
	d->leaves[d->n].in_list = in_list;
	d->n++;
	return 0;
}

int md_secrets__doc_finish(struct md_sops_doc *d, struct sec_node **root, const char *name,
		   struct md_err *err)
{
	d->root = *root;
	*root = NULL;
	if (md_secrets__emit_plain(&d->plain, d->root, d->fmt) < 0)
		return md_err_set(err, "%s: the plaintext document is too large to render", name);
	return 0;
}

size_t md_sops_doc_count(const struct md_sops_doc *d)
{
	return d ? d->n : 0;
}

int md_sops_doc_leaf(const struct md_sops_doc *d, size_t i, const char **path, const char **value)
{
	if (!d || i >= d->n) {
		if (path)
			*path = NULL;
		if (value)
			*value = NULL;
		return -1;
	}
	if (path)
		*path = d->leaves[i].path;
	if (value)
		*value = d->leaves[i].n->val;
	return 0;
}

int md_sops_doc_plain(const struct md_sops_doc *d, const char **data, size_t *len)
{
	if (!d || !d->plain.data)
		return -1;
	*data = d->plain.data;
	*len = d->plain.len;
	return 0;
}

static int valid_env_name(const char *s)
{
	if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))
		return 0;
	for (s++; *s; s++)
		if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

/* Our leaf paths use ':' between keys; an env name joins them with '_'. A
 * key holding ':' itself cannot be a valid name, so it is still refused. */
static int env_name(char *out, size_t outlen, const struct doc_leaf *l, enum md_sops_format fmt)
{
	size_t n = strlen(l->path);

	if (n + 1 > outlen)
		return -1;
	memcpy(out, l->path, n + 1);
	if (fmt != MD_SOPS_DOTENV)
		for (char *p = out; *p; p++)
			if (*p == ':')
				*p = '_';
	return 0;
}

int md_sops_doc_env(const struct md_sops_doc *d, char **out, size_t *outlen, struct md_err *err)
{
	char name[SEC_MAX_PATH + 2], where[256];
	struct sec_buf b;

	*out = NULL;
	*outlen = 0;
	if (d->fmt == MD_SOPS_BINARY)
		return md_err_set(err, "%s: a SOPS binary file has no environment form", d->name);
	md_secrets__buf_init(&b, MD_SECRETS_MAX_FILE * 2);
	for (size_t i = 0; i < d->n; i++) {
		const struct doc_leaf *l = &d->leaves[i];

		md_secrets__printable(where, sizeof(where), l->path);
		if (l->in_list) {
			md_err_set(err, "%s: key %s is inside a list: lists have no environment "
				   "form", d->name, where);
			goto fail;
		}
		if (env_name(name, sizeof(name), l, d->fmt) < 0 || !valid_env_name(name)) {
			md_err_set(err, "%s: key %s is not a valid environment variable name "
				   "([A-Za-z_][A-Za-z0-9_]*)", d->name, where);
			goto fail;
		}
		if (memchr(l->n->val, '\n', l->n->vallen) || memchr(l->n->val, '\0', l->n->vallen)) {
			md_err_set(err, "%s: the value of key %s holds a newline or NUL byte, "
				   "which an env file cannot carry", d->name, where);
			goto fail;
		}
		if (md_secrets__buf_adds(&b, name) < 0 || md_secrets__buf_addc(&b, '=') < 0 ||
		    md_secrets__buf_add(&b, l->n->val, l->n->vallen) < 0 || md_secrets__buf_addc(&b, '\n') < 0) {
			md_err_set(err, "%s: the environment form is too large", d->name);
			goto fail;
		}
	}
	if (md_secrets__buf_add(&b, "", 0) < 0) {
		md_err_set(err, "%s: out of memory", d->name);
		goto fail;
	}
	*out = b.data;
	*outlen = b.len;
	return 0;
fail:
	md_secrets__buf_free(&b);
	return -1;
}

void md_sops_doc_free(struct md_sops_doc *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		OPENSSL_cleanse(d->leaves[i].path, strlen(d->leaves[i].path));
		free(d->leaves[i].path);
	}
	free(d->leaves);
	md_secrets__node_free(d->root); /* zeroes every key and value */
	md_secrets__buf_free(&d->plain);
	free(d->name);
	free(d);
}

/* ---- format ------------------------------------------------------------------ */

enum md_sops_format md_sops_format_for_path(const char *path)
{
	if (!path)
		return MD_SOPS_BINARY;
	if (md_str_has_suffix(path, ".yaml") || md_str_has_suffix(path, ".yml"))
		return MD_SOPS_YAML;
	if (md_str_has_suffix(path, ".json"))
		return MD_SOPS_JSON;
	if (md_str_has_suffix(path, ".env"))
		return MD_SOPS_DOTENV;
	if (md_str_has_suffix(path, ".ini"))
		return MD_SOPS_INI;
	return MD_SOPS_BINARY;
}

/* Does some line of data, after leading blanks when trim, start with one of
 * the prefixes? */
static int has_line(const char *data, size_t len, const char *const *prefixes, int trim)
{
	size_t pos = 0;

	while (pos < len) {
		const char *l = data + pos, *nl = memchr(l, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - l) : len - pos;

		pos += n + 1;
		while (trim && n && (*l == ' ' || *l == '\t')) {
			l++;
			n--;
		}
		for (const char *const *p = prefixes; *p; p++)
			if (n >= strlen(*p) && memcmp(l, *p, strlen(*p)) == 0)
				return 1;
	}
	return 0;
}

int md_sops_detect(const char *data, size_t len, enum md_sops_format fmt)
{
	static const char *const yaml[] = {"sops:", "\"sops\":", "'sops':", NULL};
	static const char *const env[] = {"sops_mac=", "sops_version=", NULL};
	static const char *const ini[] = {"[sops]", NULL};
	json_t *j;
	int found;

	if (!data || len > MD_SECRETS_MAX_FILE)
		return 0;
	switch (fmt) {
	case MD_SOPS_YAML:
		return has_line(data, len, yaml, 0);
	case MD_SOPS_DOTENV:
		return has_line(data, len, env, 0);
	case MD_SOPS_INI:
		return has_line(data, len, ini, 1);
	default:
		j = json_loadb(data, len, 0, NULL);
		found = json_is_object(j) && json_is_object(json_object_get(j, "sops"));
		json_decref(j);
		return found;
	}
}

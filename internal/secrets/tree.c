/* The document tree every store parses into: maps keep document order,
 * list items carry no key, scalars keep their text. Every string is zeroed
 * when freed since it may hold plaintext. */
#include "secrets_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

static void zfree(char *p, size_t n)
{
	if (p) {
		OPENSSL_cleanse(p, n);
		free(p);
	}
}

void md_secrets__node_free(struct sec_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		md_secrets__node_free(n->kids[i]);
	free(n->kids);
	zfree(n->key, n->keylen);
	zfree(n->val, n->vallen);
	free(n);
}

int md_secrets__node_set_val(struct sec_node *n, const char *val, size_t len)
{
	char *v = malloc(len + 1);

	if (!v)
		return -1;
	if (len)
		memcpy(v, val, len);
	v[len] = '\0';
	zfree(n->val, n->vallen);
	n->val = v;
	n->vallen = len;
	return 0;
}

int md_secrets__tree_init(struct sec_tree *t, const char *name, struct md_err *err)
{
	memset(t, 0, sizeof(*t));
	t->root = calloc(1, sizeof(*t->root));
	if (!t->root)
		return md_err_set(err, "%s: out of memory", name);
	t->root->kind = SEC_MAP;
	t->nodes = 1;
	return 0;
}

void md_secrets__tree_free(struct sec_tree *t)
{
	md_secrets__node_free(t->root);
	for (size_t i = 0; i < t->nmeta; i++) {
		zfree(t->meta[i].key, strlen(t->meta[i].key));
		zfree(t->meta[i].val, strlen(t->meta[i].val));
	}
	free(t->meta);
	memset(t, 0, sizeof(*t));
}

struct sec_node *md_secrets__tree_add(struct sec_tree *t, struct sec_node *parent, enum sec_kind kind,
			      const char *key, size_t keylen, const char *name,
			      struct md_err *err)
{
	struct sec_node *n;

	if (t->nodes >= SEC_MAX_NODES) {
		md_err_set(err, "%s: more than %d nodes in the document", name, SEC_MAX_NODES);
		return NULL;
	}
	if (kind == SEC_SCALAR && t->leaves >= SEC_MAX_LEAVES) {
		md_err_set(err, "%s: more than %d values in the document", name, SEC_MAX_LEAVES);
		return NULL;
	}
	if (key && keylen > SEC_MAX_KEY) {
		md_err_set(err, "%s: a key is longer than %d bytes", name, SEC_MAX_KEY);
		return NULL;
	}
	if (parent->nkids == parent->capkids) {
		size_t cap = parent->capkids ? parent->capkids * 2 : 4;
		struct sec_node **k = realloc(parent->kids, cap * sizeof(*k));

		if (!k)
			goto oom;
		parent->kids = k;
		parent->capkids = cap;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		goto oom;
	n->kind = kind;
	if (key) {
		n->key = md_strndup(key, keylen);
		if (!n->key) {
			free(n);
			goto oom;
		}
		n->keylen = keylen;
	}
	parent->kids[parent->nkids++] = n;
	t->nodes++;
	if (kind == SEC_SCALAR)
		t->leaves++;
	return n;
oom:
	md_err_set(err, "%s: out of memory", name);
	return NULL;
}

int md_secrets__tree_meta_add(struct sec_tree *t, const char *key, size_t keylen, const char *val,
		      size_t vallen, const char *name, struct md_err *err)
{
	struct sec_kv *m;

	if (t->nmeta >= SEC_MAX_META)
		return md_err_set(err, "%s: more than %d sops metadata entries", name, SEC_MAX_META);
	m = realloc(t->meta, (t->nmeta + 1) * sizeof(*m));
	if (!m)
		return md_err_set(err, "%s: out of memory", name);
	t->meta = m;
	m[t->nmeta].key = md_strndup(key, keylen);
	m[t->nmeta].val = md_strndup(val, vallen);
	if (!m[t->nmeta].key || !m[t->nmeta].val) {
		free(m[t->nmeta].key);
		free(m[t->nmeta].val);
		return md_err_set(err, "%s: out of memory", name);
	}
	t->nmeta++;
	return 0;
}

/* Flatten like SOPS's dotenv/ini stores: "__map_<key>", "__list_<i>". */
static int flatten(struct sec_tree *t, const struct sec_node *n, char *prefix, size_t plen,
		   const char *name, struct md_err *err)
{
	if (n->kind == SEC_SCALAR)
		return md_secrets__tree_meta_add(t, prefix, plen, n->val ? n->val : "", n->vallen, name,
					 err);
	for (size_t i = 0; i < n->nkids; i++) {
		const struct sec_node *k = n->kids[i];
		int w;

		if (n->kind == SEC_MAP)
			w = snprintf(prefix + plen, SEC_MAX_PATH - plen, "%s%s", plen ? "__map_" : "",
				     k->key);
		else
			w = snprintf(prefix + plen, SEC_MAX_PATH - plen, "__list_%zu", i);
		if (w < 0 || (size_t)w >= SEC_MAX_PATH - plen)
			return md_err_set(err, "%s: sops metadata key too long", name);
		if (flatten(t, k, prefix, plen + (size_t)w, name, err) < 0)
			return -1;
		prefix[plen] = '\0';
	}
	return 0;
}

int md_secrets__tree_take_meta(struct sec_tree *t, struct sec_node *sops, const char *name,
		       struct md_err *err)
{
	char *prefix = malloc(SEC_MAX_PATH);
	int rc;

	if (!prefix)
		return md_err_set(err, "%s: out of memory", name);
	prefix[0] = '\0';
	t->has_sops = 1;
	rc = sops->kind == SEC_MAP ? flatten(t, sops, prefix, 0, name, err)
				   : md_err_set(err, "%s: the sops metadata is not a map", name);
	free(prefix);
	return rc;
}

/* The JSON store (also the container of the binary store): jansson keeps
 * object keys in insertion order, which is document order. */
#include "secrets_int.h"

#include <stdio.h>
#include <string.h>

#include <jansson.h>

static int set_val(struct sec_node *n, const char *s, size_t len, const char *name,
		   struct md_err *err)
{
	if (md_secrets__node_set_val(n, s, len) < 0)
		return md_err_set(err, "%s: out of memory", name);
	return 0;
}

static int json_scalar(struct sec_node *n, json_t *j, const char *name, struct md_err *err)
{
	char num[64];

	switch (json_typeof(j)) {
	case JSON_STRING:
		n->type = SEC_T_STR;
		return set_val(n, json_string_value(j), json_string_length(j), name, err);
	case JSON_INTEGER:
		n->type = SEC_T_INT;
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		return set_val(n, num, strlen(num), name, err);
	case JSON_REAL:
		n->type = SEC_T_FLOAT;
		if (md_secrets__format_float(num, sizeof(num), json_real_value(j)) < 0)
			return md_err_set(err, "%s: a number cannot be formatted", name);
		return set_val(n, num, strlen(num), name, err);
	case JSON_TRUE:
	case JSON_FALSE:
		n->type = SEC_T_BOOL;
		return set_val(n, json_is_true(j) ? "True" : "False", json_is_true(j) ? 4 : 5, name,
			       err);
	default:
		n->type = SEC_T_NULL;
		return set_val(n, "", 0, name, err);
	}
}

static int walk(struct sec_tree *t, struct sec_node *parent, const char *key, size_t keylen,
		json_t *j, int depth, const char *name, struct md_err *err)
{
	enum sec_kind kind = json_is_object(j) ? SEC_MAP : json_is_array(j) ? SEC_LIST : SEC_SCALAR;
	struct sec_node *n;

	if (depth > SEC_MAX_DEPTH)
		return md_err_set(err, "%s: nesting deeper than %d levels", name, SEC_MAX_DEPTH);
	if (key && memchr(key, '\0', keylen))
		return md_err_set(err, "%s: a key holds a NUL byte", name);
	n = md_secrets__tree_add(t, parent, kind, key, keylen, name, err);
	if (!n)
		return -1;
	if (kind == SEC_SCALAR)
		return json_scalar(n, j, name, err);
	if (kind == SEC_LIST) {
		size_t i;
		json_t *v;

		json_array_foreach(j, i, v)
			if (walk(t, n, NULL, 0, v, depth + 1, name, err) < 0)
				return -1;
		return 0;
	}
	{
		const char *k;
		size_t kl;
		json_t *v;
		void *tmp;

		json_object_keylen_foreach_safe(j, tmp, k, kl, v)
			if (walk(t, n, k, kl, v, depth + 1, name, err) < 0)
				return -1;
	}
	return 0;
}

int md_secrets__parse_json(struct sec_tree *t, const char *name, const char *data, size_t len,
		   struct md_err *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	const char *k;
	size_t kl;
	json_t *v;
	void *tmp;
	int rc = 0;

	if (!root) {
		/* jansson quotes the offending token; it could be a value, so keep
		 * only the part of the message before " near ". */
		char *near = strstr(jerr.text, " near ");

		char text[JSON_ERROR_TEXT_LENGTH];

		if (near)
			*near = '\0';
		return md_err_set(err, "%s:%d: invalid JSON: %s", name, jerr.line,
				  md_secrets__printable(text, sizeof(text), jerr.text));
	}
	if (!json_is_object(root)) {
		json_decref(root);
		return md_err_set(err, "%s: the JSON document is not an object", name);
	}
	json_object_keylen_foreach_safe(root, tmp, k, kl, v) {
		if (kl == 4 && memcmp(k, "sops", 4) == 0) {
			struct sec_tree mt;

			/* Parse the metadata into a scratch tree, then flatten it. */
			if ((rc = md_secrets__tree_init(&mt, name, err)) < 0)
				break;
			rc = walk(&mt, mt.root, k, kl, v, 1, name, err);
			if (rc == 0)
				rc = md_secrets__tree_take_meta(t, mt.root->kids[0], name, err);
			md_secrets__tree_free(&mt);
		} else {
			rc = walk(t, t->root, k, kl, v, 1, name, err);
		}
		if (rc < 0)
			break;
	}
	json_decref(root);
	return rc;
}

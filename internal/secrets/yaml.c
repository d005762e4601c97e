/* The YAML store: libyaml events into the tree, keeping document order.
 * Plain scalars are typed the way go-yaml v3 (what SOPS uses) resolves
 * them, since an unencrypted leaf enters the MAC in its typed form. */
#include "secrets_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

struct yctx {
	yaml_parser_t p;
	struct sec_tree *t;
	const char *name;
	struct md_err *err;
};

static int next_event(struct yctx *y, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&y->p, ev))
		return md_err_set(y->err, "%s:%zu: invalid YAML: %s", y->name,
				  (size_t)y->p.problem_mark.line + 1,
				  y->p.problem ? y->p.problem : "parse error");
	return 0;
}

static int all_digits(const char *s, size_t n, int base)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '_')
			continue;
		if (base == 16 ? !isxdigit(c) : (c < '0' || c >= '0' + base))
			return 0;
	}
	return 1;
}

static int is_int(const char *s, size_t n)
{
	if (n && (s[0] == '-' || s[0] == '+')) {
		s++;
		n--;
	}
	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return all_digits(s + 2, n - 2, 16);
	if (n > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
		return all_digits(s + 2, n - 2, 8);
	if (n > 2 && s[0] == '0' && (s[1] == 'b' || s[1] == 'B'))
		return all_digits(s + 2, n - 2, 2);
	return n && s[0] != '_' && all_digits(s, n, 10);
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? and the .inf/.nan forms. */
static int is_float(const char *s, size_t n)
{
	static const char *const special[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF",
					      "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN"};
	size_t i = 0, d = 0;

	for (size_t k = 0; k < sizeof(special) / sizeof(special[0]); k++)
		if (strlen(special[k]) == n && memcmp(special[k], s, n) == 0)
			return 1;
	if (i < n && (s[i] == '-' || s[i] == '+'))
		i++;
	while (i < n && isdigit((unsigned char)s[i])) {
		i++;
		d++;
	}
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && isdigit((unsigned char)s[i])) {
			i++;
			d++;
		}
	}
	if (d == 0)
		return 0;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		size_t e = 0;

		i++;
		if (i < n && (s[i] == '-' || s[i] == '+'))
			i++;
		while (i < n && isdigit((unsigned char)s[i])) {
			i++;
			e++;
		}
		if (e == 0)
			return 0;
	}
	return i == n;
}

static int str_in(const char *s, size_t n, const char *const *set)
{
	for (; *set; set++)
		if (strlen(*set) == n && memcmp(*set, s, n) == 0)
			return 1;
	return 0;
}

static enum sec_type resolve_plain(const char *s, size_t n, int *truth)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
	static const char *const trues[] = {"true", "True", "TRUE", NULL};
	static const char *const falses[] = {"false", "False", "FALSE", NULL};

	if (str_in(s, n, nulls))
		return SEC_T_NULL;
	if (str_in(s, n, trues) || str_in(s, n, falses)) {
		*truth = str_in(s, n, trues);
		return SEC_T_BOOL;
	}
	if (is_int(s, n))
		return SEC_T_INT;
	if (is_float(s, n))
		return SEC_T_FLOAT;
	return SEC_T_STR;
}

static int set_scalar(struct yctx *y, struct sec_node *n, const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	int truth = 0;

	n->line = (int)ev->start_mark.line + 1;
	n->type = SEC_T_STR;
	if (tag && strcmp(tag, "!") != 0) {
		if (strcmp(tag, YAML_INT_TAG) == 0 && is_int(s, len))
			n->type = SEC_T_INT;
		else if (strcmp(tag, YAML_FLOAT_TAG) == 0 && (is_float(s, len) || is_int(s, len)))
			n->type = SEC_T_FLOAT;
		else if (strcmp(tag, YAML_BOOL_TAG) == 0 && resolve_plain(s, len, &truth) == SEC_T_BOOL)
			n->type = SEC_T_BOOL;
	} else if (ev->data.scalar.plain_implicit && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		n->type = resolve_plain(s, len, &truth);
	}
	/* Booleans are "True"/"False" in the MAC and in our leaves. */
	if (n->type == SEC_T_BOOL) {
		s = truth ? "True" : "False";
		len = strlen(s);
	} else if (n->type == SEC_T_NULL) {
		len = 0;
	}
	if (md_secrets__node_set_val(n, s, len) < 0)
		return md_err_set(y->err, "%s: out of memory", y->name);
	return 0;
}

static int parse_node(struct yctx *y, yaml_event_t *ev, struct sec_node *parent,
		      const char *key, size_t keylen, int depth);

static int parse_children(struct yctx *y, struct sec_node *n, int depth)
{
	yaml_event_t ev, kev;
	int rc;

	for (;;) {
		if (next_event(y, &ev) < 0)
			return -1;
		if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		if (n->kind == SEC_LIST) {
			rc = parse_node(y, &ev, n, NULL, 0, depth + 1);
			yaml_event_delete(&ev);
			if (rc < 0)
				return -1;
			continue;
		}
		if (ev.type != YAML_SCALAR_EVENT) {
			size_t line = (size_t)ev.start_mark.line + 1;

			yaml_event_delete(&ev);
			return md_err_set(y->err, "%s:%zu: a map key is not a scalar", y->name, line);
		}
		kev = ev;
		if (next_event(y, &ev) < 0) {
			yaml_event_delete(&kev);
			return -1;
		}
		rc = parse_node(y, &ev, n, (const char *)kev.data.scalar.value,
				kev.data.scalar.length, depth + 1);
		yaml_event_delete(&ev);
		yaml_event_delete(&kev);
		if (rc < 0)
			return -1;
	}
}

static int parse_node(struct yctx *y, yaml_event_t *ev, struct sec_node *parent,
		      const char *key, size_t keylen, int depth)
{
	size_t line = (size_t)ev->start_mark.line + 1;
	struct sec_node *n;
	enum sec_kind kind;

	if (key && memchr(key, '\0', keylen))
		return md_err_set(y->err, "%s:%zu: a key holds a NUL byte", y->name, line);
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		kind = SEC_SCALAR;
		break;
	case YAML_SEQUENCE_START_EVENT:
		kind = SEC_LIST;
		break;
	case YAML_MAPPING_START_EVENT:
		kind = SEC_MAP;
		break;
	case YAML_ALIAS_EVENT:
		return md_err_set(y->err, "%s:%zu: YAML aliases are not supported in SOPS files",
				  y->name, line);
	default:
		return md_err_set(y->err, "%s:%zu: unexpected YAML event", y->name, line);
	}
	if (depth > SEC_MAX_DEPTH)
		return md_err_set(y->err, "%s:%zu: nesting deeper than %d levels", y->name, line,
				  SEC_MAX_DEPTH);
	n = md_secrets__tree_add(y->t, parent, kind, key, keylen, y->name, y->err);
	if (!n)
		return -1;
	n->line = (int)line;
	if (kind == SEC_SCALAR)
		return set_scalar(y, n, ev);
	return parse_children(y, n, depth);
}

/* Detach the top-level "sops" map into metadata. */
static int split_meta(struct sec_tree *t, const char *name, struct md_err *err)
{
	struct sec_node *root = t->root;

	for (size_t i = 0; i < root->nkids; i++) {
		struct sec_node *s = root->kids[i];
		int rc;

		if (strcmp(s->key, "sops") != 0)
			continue;
		memmove(root->kids + i, root->kids + i + 1, (root->nkids - i - 1) * sizeof(s));
		root->nkids--;
		rc = md_secrets__tree_take_meta(t, s, name, err);
		md_secrets__node_free(s);
		return rc;
	}
	return 0;
}

static int parse_stream(struct yctx *y)
{
	yaml_event_t ev;
	int rc;

	for (int i = 0; i < 2; i++) { /* stream start, document start */
		if (next_event(y, &ev) < 0)
			return -1;
		rc = ev.type == (i ? YAML_DOCUMENT_START_EVENT : YAML_STREAM_START_EVENT);
		yaml_event_delete(&ev);
		if (!rc)
			return md_err_set(y->err, "%s: empty YAML document", y->name);
	}
	if (next_event(y, &ev) < 0)
		return -1;
	if (ev.type != YAML_MAPPING_START_EVENT) {
		yaml_event_delete(&ev);
		return md_err_set(y->err, "%s: the YAML document is not a map", y->name);
	}
	y->t->root->line = (int)ev.start_mark.line + 1;
	yaml_event_delete(&ev);
	if (parse_children(y, y->t->root, 1) < 0)
		return -1;
	if (next_event(y, &ev) < 0) /* document end */
		return -1;
	yaml_event_delete(&ev);
	if (next_event(y, &ev) < 0)
		return -1;
	rc = ev.type == YAML_STREAM_END_EVENT;
	yaml_event_delete(&ev);
	if (!rc)
		return md_err_set(y->err, "%s: multi-document YAML SOPS files are not supported",
				  y->name);
	return 0;
}

int md_secrets__parse_yaml(struct sec_tree *t, const char *name, const char *data, size_t len,
		   struct md_err *err)
{
	struct yctx y = {.t = t, .name = name, .err = err};
	int rc;

	if (!yaml_parser_initialize(&y.p))
		return md_err_set(err, "%s: out of memory", name);
	yaml_parser_set_input_string(&y.p, (const unsigned char *)data, len);
	rc = parse_stream(&y);
	yaml_parser_delete(&y.p);
	if (rc == 0)
		rc = split_meta(t, name, err);
	return rc;
}

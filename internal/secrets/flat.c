/* The line-based stores. dotenv: KEY=VALUE split at the first '=', no
 * trimming, "\n" escapes, metadata as sops_* lines. INI: sections of
 * trimmed key = value lines, metadata in [sops] (flattened the same way
 * without the prefix). Both hold only string values. */
#include "secrets_int.h"

#include <string.h>

struct line {
	const char *s;
	size_t len;
	size_t no;
};

/* Iterate lines of data; returns 0 at the end. */
static int line_next(const char *data, size_t len, size_t *pos, struct line *l)
{
	const char *nl;

	if (*pos >= len)
		return 0;
	l->s = data + *pos;
	nl = memchr(l->s, '\n', len - *pos);
	l->len = nl ? (size_t)(nl - l->s) : len - *pos;
	*pos += l->len + (nl ? 1 : 0);
	l->no++;
	return 1;
}

static int add_string(struct sec_tree *t, struct sec_node *parent, const char *key, size_t keylen,
		      const char *val, size_t vallen, int unescape, size_t lineno,
		      const char *name, struct md_err *err)
{
	struct sec_node *n = md_secrets__tree_add(t, parent, SEC_SCALAR, key, keylen, name, err);
	size_t o = 0;

	if (!n)
		return -1;
	if (md_secrets__node_set_val(n, val, vallen) < 0)
		return md_err_set(err, "%s: out of memory", name);
	n->type = SEC_T_STR;
	n->line = (int)lineno;
	if (!unescape)
		return 0;
	for (size_t i = 0; i < n->vallen; i++) {
		if (n->val[i] == '\\' && i + 1 < n->vallen && n->val[i + 1] == 'n') {
			n->val[o++] = '\n';
			i++;
		} else {
			n->val[o++] = n->val[i];
		}
	}
	/* The bytes past the new end held a copy of the tail: clear them. */
	memset(n->val + o, 0, n->vallen - o);
	n->vallen = o;
	return 0;
}

int md_secrets__parse_dotenv(struct sec_tree *t, const char *name, const char *data, size_t len,
		     struct md_err *err)
{
	struct line l = {0};
	size_t pos = 0;

	while (line_next(data, len, &pos, &l)) {
		const char *eq;
		size_t kl;

		if (l.len == 0 || l.s[0] == '#')
			continue;
		eq = memchr(l.s, '=', l.len);
		if (!eq)
			return md_err_set(err, "%s:%zu: expected KEY=VALUE", name, l.no);
		kl = (size_t)(eq - l.s);
		if (kl == 0)
			return md_err_set(err, "%s:%zu: empty key", name, l.no);
		if (memchr(l.s, '\0', l.len))
			return md_err_set(err, "%s:%zu: NUL byte in the line", name, l.no);
		if (kl > 5 && memcmp(l.s, "sops_", 5) == 0) {
			t->has_sops = 1;
			if (md_secrets__tree_meta_add(t, l.s + 5, kl - 5, eq + 1, l.len - kl - 1, name, err) < 0)
				return -1;
			continue;
		}
		if (add_string(t, t->root, l.s, kl, eq + 1, l.len - kl - 1, 1, l.no, name, err) < 0)
			return -1;
	}
	return 0;
}

static void trim(const char **s, size_t *n)
{
	while (*n && (**s == ' ' || **s == '\t' || **s == '\r')) {
		(*s)++;
		(*n)--;
	}
	while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t' || (*s)[*n - 1] == '\r'))
		(*n)--;
}

static struct sec_node *ini_section(struct sec_tree *t, const char *sec, size_t n,
				    const char *name, struct md_err *err)
{
	/* A repeated section continues the first one, as go-ini merges them. */
	for (size_t i = 0; i < t->root->nkids; i++)
		if (t->root->kids[i]->keylen == n && memcmp(t->root->kids[i]->key, sec, n) == 0)
			return t->root->kids[i];
	return md_secrets__tree_add(t, t->root, SEC_MAP, sec, n, name, err);
}

int md_secrets__parse_ini(struct sec_tree *t, const char *name, const char *data, size_t len,
		  struct md_err *err)
{
	struct sec_node *sec = NULL;
	struct line l = {0};
	size_t pos = 0;
	int in_sops = 0;

	while (line_next(data, len, &pos, &l)) {
		const char *s = l.s, *d, *v;
		size_t n = l.len, kl, vl;

		trim(&s, &n);
		if (n == 0 || s[0] == ';' || s[0] == '#')
			continue;
		if (memchr(s, '\0', n))
			return md_err_set(err, "%s:%zu: NUL byte in the line", name, l.no);
		if (s[0] == '[') {
			if (s[n - 1] != ']')
				return md_err_set(err, "%s:%zu: unterminated section header", name,
						  l.no);
			s++;
			n -= 2;
			trim(&s, &n);
			in_sops = n == 4 && memcmp(s, "sops", 4) == 0;
			if (in_sops) {
				t->has_sops = 1;
				continue;
			}
			if (!(sec = ini_section(t, s, n, name, err)))
				return -1;
			continue;
		}
		/* go-ini splits at the first '=' or ':'. */
		d = s;
		while (d < s + n && *d != '=' && *d != ':')
			d++;
		if (d == s + n)
			return md_err_set(err, "%s:%zu: expected key = value", name, l.no);
		kl = (size_t)(d - s);
		v = d + 1;
		vl = n - kl - 1;
		trim(&s, &kl);
		trim(&v, &vl);
		if (kl == 0)
			return md_err_set(err, "%s:%zu: empty key", name, l.no);
		if (in_sops) {
			if (md_secrets__tree_meta_add(t, s, kl, v, vl, name, err) < 0)
				return -1;
			continue;
		}
		if (!sec && !(sec = ini_section(t, "DEFAULT", 7, name, err)))
			return -1;
		if (add_string(t, sec, s, kl, v, vl, 0, l.no, name, err) < 0)
			return -1;
	}
	return 0;
}

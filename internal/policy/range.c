/* Version ranges with node-semver semantics.
 *
 * Every form (x-ranges, partials, ~, ^, hyphens) is rewritten at parse
 * time into primitive comparators, exactly as node-semver documents, so
 * matching is one small loop. Exclusive upper bounds carry the lowest
 * prerelease ("<2.0.0-0") so that 2.0.0-rc.1 never slips under "<2.0.0"
 * when prereleases are included. Build metadata is ignored wherever it is
 * written ("^1.x.x+build"), as is a prerelease on an x-range
 * ("1.x.x-alpha"). Terms of a set may also be separated by commas, the
 * form Masterminds (and so Flux) writes: ">=1.2, <2" is ">=1.2 <2".
 *
 * Two forms node-semver accepts are refused: an empty range ("") and an
 * empty alternative ("^1 ||", "||"). Both mean "any version" to node, and
 * both are far more often a templating slip than a wish for major
 * upgrades. */
#include "policy_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RANGE_MAX_LEN 4096

enum cmp_op { OP_EQ, OP_LT, OP_LE, OP_GT, OP_GE };

struct comparator {
	enum cmp_op op;
	struct md_semver v;
	/* A lower bound that node-semver writes with "-0" when prereleases
	 * are included (a partial "1.2" or "^1", a hyphen range's "1.0.0 -",
	 * "^0.1.2"): it then admits v's own prereleases (">=1.2.0-0"), but it
	 * never grants the prerelease exception below. */
	int floor_pre;
};

struct cset {
	struct comparator *c;
	size_t n;
};

struct md_range {
	struct cset *sets;
	size_t n;
};

/* A parse in progress: the text for messages, the set being filled. */
struct rparse {
	const char *text;
	struct cset *set;
	struct md_err *err;
};

/* Messages quote at most this much of the range and of the token, so the
 * token always fits in the error sentence. */
#define QUOTE_MAX 200

static const char *abbrev(const char *s, size_t len, char *buf, size_t buflen)
{
	snprintf(buf, buflen, "%.*s%s", (int)(len > QUOTE_MAX ? QUOTE_MAX : len), s,
		 len > QUOTE_MAX ? "..." : "");
	return buf;
}

static int unexpected(struct rparse *rp, const char *tok, size_t len)
{
	char t[QUOTE_MAX + 4], k[QUOTE_MAX + 4];

	return md_err_set(rp->err, "invalid range \"%s\": unexpected \"%s\"",
			  abbrev(rp->text, strlen(rp->text), t, sizeof(t)),
			  abbrev(tok, len, k, sizeof(k)));
}

static int oom(struct rparse *rp)
{
	return md_err_set(rp->err, "out of memory parsing range \"%s\"", rp->text);
}

static int add_cmp(struct rparse *rp, enum cmp_op op, uint64_t ma, uint64_t mi, uint64_t pa,
		   const char *pre, size_t pre_len, int floor_pre)
{
	struct cset *s = rp->set;
	struct comparator *c = realloc(s->c, (s->n + 1) * sizeof(*c));

	if (!c)
		return oom(rp);
	s->c = c;
	c = &s->c[s->n];
	if (md_policy__semver_set(&c->v, ma, mi, pa, pre, pre_len) < 0)
		return oom(rp);
	c->op = op;
	c->floor_pre = floor_pre;
	s->n++;
	return 0;
}

/* "<M.m.p-0": below every release and prerelease of M.m.p. */
static int add_below(struct rparse *rp, uint64_t ma, uint64_t mi, uint64_t pa)
{
	return add_cmp(rp, OP_LT, ma, mi, pa, "0", 1, 0);
}

static int add_nothing(struct rparse *rp)
{
	return add_below(rp, 0, 0, 0);
}

/* Exclusive upper bound at the next major/minor/patch (which = 0/1/2). An
 * overflowing bump has no version above it: the bound is simply omitted. */
static int add_upper_bump(struct rparse *rp, const uint64_t *num, int which)
{
	uint64_t n[3] = { num[0], which > 0 ? num[1] : 0, which > 1 ? num[2] : 0 };

	if (n[which] == UINT64_MAX)
		return 0;
	n[which]++;
	return add_below(rp, n[0], n[1], n[2]);
}

static int add_lower_partial(struct rparse *rp, const uint64_t *num, int nfull)
{
	return add_cmp(rp, OP_GE, num[0], nfull > 1 ? num[1] : 0, 0, NULL, 0, 1);
}

static int add_full(struct rparse *rp, enum cmp_op op, const struct md_vparts *vp)
{
	return add_cmp(rp, op, vp->num[0], vp->num[1], vp->num[2], vp->pre, vp->pre_len, 0);
}

/* ">=M.m.p" that becomes ">=M.m.p-0" when prereleases are included. */
static int add_floor(struct rparse *rp, const struct md_vparts *vp)
{
	return add_cmp(rp, OP_GE, vp->num[0], vp->num[1], vp->num[2], NULL, 0, 1);
}

/* "1", "1.2.x", ">1.2", "<=1": node-semver's replaceXRange. */
static int desugar_x(struct rparse *rp, enum cmp_op op, int bare, const struct md_vparts *vp)
{
	uint64_t n[3] = { vp->num[0], vp->nfull > 1 ? vp->num[1] : 0, 0 };
	int last = vp->nfull - 1; /* the component a bump moves */

	if (vp->nfull == 0)
		return (op == OP_LT || op == OP_GT) ? add_nothing(rp) : 0;
	if (bare || op == OP_EQ) {
		if (add_lower_partial(rp, vp->num, vp->nfull) < 0)
			return -1;
		return add_upper_bump(rp, vp->num, last);
	}
	switch (op) {
	case OP_GT: /* ">1.2" is ">=1.3.0" */
		if (n[last] == UINT64_MAX)
			return add_nothing(rp);
		n[last]++;
		if (last == 0)
			n[1] = 0;
		return add_lower_partial(rp, n, 3);
	case OP_GE:
		return add_lower_partial(rp, n, 3);
	case OP_LE: /* "<=1.2" is "<1.3.0-0" */
		return add_upper_bump(rp, vp->num, last);
	case OP_LT:
		return add_below(rp, n[0], n[1], 0);
	default:
		return 0;
	}
}

/* "~1.2.3": patch-level changes; "~1": minor-level. */
static int desugar_tilde(struct rparse *rp, const struct md_vparts *vp)
{
	if (vp->nfull == 0)
		return 0;
	if (vp->nfull < 3) {
		if (add_lower_partial(rp, vp->num, vp->nfull) < 0)
			return -1;
		return add_upper_bump(rp, vp->num, vp->nfull - 1);
	}
	if (add_full(rp, OP_GE, vp) < 0)
		return -1;
	return add_upper_bump(rp, vp->num, 1);
}

/* "^1.2.3": changes that keep the left-most non-zero component. */
static int desugar_caret(struct rparse *rp, const struct md_vparts *vp)
{
	int which;

	if (vp->nfull == 0)
		return 0;
	if (vp->nfull < 3) {
		if (add_lower_partial(rp, vp->num, vp->nfull) < 0)
			return -1;
		which = (vp->nfull == 2 && vp->num[0] == 0) ? 1 : 0;
		return add_upper_bump(rp, vp->num, which);
	}
	/* node-semver floors "^0.x.y" at its prereleases, not "^1.2.3". */
	if ((vp->num[0] == 0 && !vp->pre ? add_floor(rp, vp) : add_full(rp, OP_GE, vp)) < 0)
		return -1;
	which = vp->num[0] ? 0 : (vp->num[1] ? 1 : 2);
	return add_upper_bump(rp, vp->num, which);
}

/* "A - B": inclusive; a partial B excludes everything past it. */
static int desugar_hyphen(struct rparse *rp, const struct md_vparts *a,
			  const struct md_vparts *b)
{
	if (a->nfull == 3) {
		/* With prereleases, "1.0.0 - 2.0.0" admits 1.0.0-rc.1 (node's
		 * ">=1.0.0-0 <2.0.1-0"). */
		if ((a->pre ? add_full(rp, OP_GE, a) : add_floor(rp, a)) < 0)
			return -1;
	} else if (a->nfull > 0 && add_lower_partial(rp, a->num, a->nfull) < 0) {
		return -1;
	}
	if (b->nfull == 3)
		return add_full(rp, OP_LE, b);
	if (b->nfull > 0)
		return add_upper_bump(rp, b->num, b->nfull - 1);
	return 0;
}

enum sugar { S_NONE, S_EQ, S_LT, S_LE, S_GT, S_GE, S_TILDE, S_CARET };

/* Longest operator at the start of tok; its length goes to *len. */
static enum sugar scan_op(const char *tok, size_t n, size_t *len)
{
	static const struct {
		const char *s;
		enum sugar op;
	} ops[] = { { "<=", S_LE }, { ">=", S_GE }, { "~>", S_TILDE }, { "<", S_LT },
		    { ">", S_GT },  { "=", S_EQ },  { "~", S_TILDE },  { "^", S_CARET } };

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		size_t l = strlen(ops[i].s);

		if (l <= n && memcmp(tok, ops[i].s, l) == 0) {
			*len = l;
			return ops[i].op;
		}
	}
	*len = 0;
	return S_NONE;
}

static int scan_version(struct rparse *rp, const char *tok, size_t n, struct md_vparts *vp)
{
	if (md_policy__semver_scan(tok, n, MD_VS_PREFIX_V | MD_VS_PARTIAL | MD_VS_WILDCARD, vp) < 0)
		return unexpected(rp, tok, n);
	return 0;
}

static int desugar(struct rparse *rp, enum sugar op, const struct md_vparts *vp)
{
	static const enum cmp_op prim[] = { [S_NONE] = OP_EQ, [S_EQ] = OP_EQ, [S_LT] = OP_LT,
					    [S_LE] = OP_LE,   [S_GT] = OP_GT, [S_GE] = OP_GE };

	if (op == S_TILDE)
		return desugar_tilde(rp, vp);
	if (op == S_CARET)
		return desugar_caret(rp, vp);
	if (vp->nfull == 3)
		return add_full(rp, prim[op], vp);
	return desugar_x(rp, prim[op], op == S_NONE, vp);
}

/* The words of one AND-set, separated by whitespace or commas. */
struct words {
	const char *p[64];
	size_t len[64];
	int comma[64]; /* a comma comes before this word */
	size_t n;
};

static int is_blank(char c)
{
	return c != '\0' && strchr(" \t\r\n\v\f", c) != NULL;
}

static int too_many(struct rparse *rp, const struct words *w)
{
	char t[QUOTE_MAX + 4];

	return md_err_set(rp->err, "invalid range \"%s\": more than %zu terms in one set",
			  abbrev(rp->text, strlen(rp->text), t, sizeof(t)),
			  sizeof(w->p) / sizeof(w->p[0]));
}

/* A comma stands between two terms: never first, last or doubled. */
static int split_words(struct rparse *rp, const char *s, size_t n, struct words *w)
{
	const char *comma = NULL;
	size_t i = 0;

	w->n = 0;
	while (i < n) {
		size_t start;

		while (i < n && (is_blank(s[i]) || s[i] == ',')) {
			if (s[i] == ',' && (comma || w->n == 0))
				return unexpected(rp, s + i, 1);
			if (s[i] == ',')
				comma = s + i;
			i++;
		}
		if (i >= n)
			break;
		start = i;
		while (i < n && !is_blank(s[i]) && s[i] != ',')
			i++;
		if (w->n == sizeof(w->p) / sizeof(w->p[0]))
			return too_many(rp, w);
		w->p[w->n] = s + start;
		w->comma[w->n] = comma != NULL;
		w->len[w->n++] = i - start;
		comma = NULL;
	}
	return comma ? unexpected(rp, comma, 1) : 0;
}

static int is_word(const struct words *w, size_t i, const char *s)
{
	return i < w->n && w->len[i] == strlen(s) && memcmp(w->p[i], s, w->len[i]) == 0;
}

/* One AND-set: comparators, possibly with the operator written apart from
 * its version (">= 1.2.3"), and hyphen ranges. */
static int parse_set(struct rparse *rp, const char *s, size_t n)
{
	struct words w;
	size_t i = 0;

	if (split_words(rp, s, n, &w) < 0)
		return -1;
	while (i < w.n) {
		struct md_vparts a, b;
		size_t oplen;
		enum sugar op = scan_op(w.p[i], w.len[i], &oplen);

		if (op == S_NONE && is_word(&w, i + 1, "-")) {
			if (w.comma[i + 1] || (i + 2 < w.n && w.comma[i + 2]))
				return unexpected(rp, ",", 1);
			if (i + 2 >= w.n)
				return unexpected(rp, w.p[i + 1], w.len[i + 1]);
			if (scan_version(rp, w.p[i], w.len[i], &a) < 0 ||
			    scan_version(rp, w.p[i + 2], w.len[i + 2], &b) < 0 ||
			    desugar_hyphen(rp, &a, &b) < 0)
				return -1;
			i += 3;
			continue;
		}
		if (op != S_NONE && oplen == w.len[i]) {
			/* A lone operator takes the next word as its version. */
			if (i + 1 < w.n && w.comma[i + 1])
				return unexpected(rp, ",", 1);
			if (i + 1 >= w.n)
				return unexpected(rp, w.p[i], w.len[i]);
			i++;
			if (scan_version(rp, w.p[i], w.len[i], &a) < 0)
				return -1;
		} else if (md_policy__semver_scan(w.p[i] + oplen, w.len[i] - oplen,
					  MD_VS_PREFIX_V | MD_VS_PARTIAL | MD_VS_WILDCARD, &a) < 0) {
			return unexpected(rp, w.p[i], w.len[i]);
		}
		if (desugar(rp, op, &a) < 0)
			return -1;
		i++;
	}
	return 0;
}

static int is_blank_text(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_blank(s[i]))
			return 0;
	return 1;
}

static int add_set(struct md_range *r, struct rparse *rp)
{
	struct cset *sets = realloc(r->sets, (r->n + 1) * sizeof(*sets));

	if (!sets)
		return oom(rp);
	r->sets = sets;
	rp->set = &sets[r->n++];
	rp->set->c = NULL;
	rp->set->n = 0;
	return 0;
}

static int parse_sets(struct md_range *r, struct rparse *rp)
{
	const char *s = rp->text;
	char t[QUOTE_MAX + 4];

	if (is_blank_text(s, strlen(s)))
		return md_err_set(rp->err, "invalid range \"%s\": empty (leave \"range\" out to "
					   "allow any version, or write \"*\")",
				  abbrev(s, strlen(s), t, sizeof(t)));
	for (;;) {
		const char *bar = strstr(s, "||");
		size_t n = bar ? (size_t)(bar - s) : strlen(s);

		/* "^1 ||" is a typo, not "or anything". */
		if (is_blank_text(s, n))
			return unexpected(rp, "||", 2);
		if (add_set(r, rp) < 0 || parse_set(rp, s, n) < 0)
			return -1;
		if (!bar)
			return 0;
		s = bar + 2;
	}
}

int md_range_parse(struct md_range **out, const char *text, struct md_err *err)
{
	struct rparse rp = { .text = text, .err = err };
	struct md_range *r;

	*out = NULL;
	if (!text)
		return md_err_set(err, "no range given");
	if (strnlen(text, RANGE_MAX_LEN + 1) > RANGE_MAX_LEN)
		return md_err_set(err, "range is longer than %d bytes", RANGE_MAX_LEN);
	r = calloc(1, sizeof(*r));
	if (!r)
		return md_err_set(err, "out of memory parsing a range");
	if (parse_sets(r, &rp) < 0) {
		md_range_free(r);
		return -1;
	}
	*out = r;
	return 0;
}

void md_range_free(struct md_range *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		for (size_t j = 0; j < r->sets[i].n; j++)
			md_policy__semver_clear(&r->sets[i].c[j].v);
		free(r->sets[i].c);
	}
	free(r->sets);
	free(r);
}

static int cmp_test(const struct comparator *c, const struct md_semver *v, int include_pre)
{
	int r;

	if (c->floor_pre && include_pre)
		return md_policy__semver_tuple_cmp(v, &c->v) >= 0;
	r = md_semver_cmp(v, &c->v);
	switch (c->op) {
	case OP_EQ:
		return r == 0;
	case OP_LT:
		return r < 0;
	case OP_LE:
		return r <= 0;
	case OP_GT:
		return r > 0;
	case OP_GE:
		return r >= 0;
	}
	return 0;
}

/* node-semver's prerelease rule: a prerelease qualifies only when the set
 * names a prerelease of the same major.minor.patch, so "^1.2.3" never
 * offers 1.5.0-rc.1 but ">=1.2.3-rc.1" offers 1.2.3-rc.2. */
static int set_match(const struct cset *s, const struct md_semver *v, int include_pre)
{
	for (size_t i = 0; i < s->n; i++)
		if (!cmp_test(&s->c[i], v, include_pre))
			return 0;
	if (!v->pre || include_pre)
		return 1;
	for (size_t i = 0; i < s->n; i++)
		if (s->c[i].v.pre && !s->c[i].floor_pre &&
		    md_policy__semver_tuple_cmp(&s->c[i].v, v) == 0)
			return 1;
	return 0;
}

int md_range_match(const struct md_range *r, const struct md_semver *v, int include_prerelease)
{
	if (!r || !v)
		return 0;
	for (size_t i = 0; i < r->n; i++)
		if (set_match(&r->sets[i], v, include_prerelease))
			return 1;
	return 0;
}

static int put_cmp(struct md_buf *b, const struct comparator *c)
{
	static const char *ops[] = { [OP_EQ] = "", [OP_LT] = "<", [OP_LE] = "<=",
				     [OP_GT] = ">", [OP_GE] = ">=" };

	if (md_buf_printf(b, "%s%llu.%llu.%llu", ops[c->op], (unsigned long long)c->v.num[0],
			  (unsigned long long)c->v.num[1], (unsigned long long)c->v.num[2]) < 0)
		return -1;
	return c->v.pre ? md_buf_printf(b, "-%s", c->v.pre) : 0;
}

char *md_range_to_string(const struct md_range *r)
{
	struct md_buf b;

	if (!r)
		return NULL;
	md_buf_init(&b, 1u << 20);
	for (size_t i = 0; i < r->n; i++) {
		if (i && md_buf_puts(&b, " || ") < 0)
			goto fail;
		if (r->sets[i].n == 0 && md_buf_puts(&b, "*") < 0)
			goto fail;
		for (size_t j = 0; j < r->sets[i].n; j++)
			if ((j && md_buf_puts(&b, " ") < 0) || put_cmp(&b, &r->sets[i].c[j]) < 0)
				goto fail;
	}
	return md_buf_steal(&b);
fail:
	md_buf_clear(&b);
	return NULL;
}

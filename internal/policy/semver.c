/* SemVer 2.0.0: scanning version-shaped text, parsing tags, precedence.
 *
 * One scanner serves tags (three numbers, optional prerelease and build)
 * and ranges (partials and wildcards); flags say which shapes are welcome,
 * so lenient tag forms can be added as further flags. */
#include "policy_int.h"

#include <stdlib.h>
#include <string.h>

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_ident_char(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

static int is_wildcard(char c)
{
	return c == 'x' || c == 'X' || c == '*';
}

static int all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return 0;
	return 1;
}

/* A numeric component at s[*i]: no leading zeros (SemVer §2), no overflow. */
static int scan_number(const char *s, size_t n, size_t *i, uint64_t *out)
{
	size_t j = *i;
	uint64_t v = 0;

	if (j >= n || !is_digit(s[j]))
		return -1;
	if (s[j] == '0' && j + 1 < n && is_digit(s[j + 1]))
		return -1;
	for (; j < n && is_digit(s[j]); j++) {
		unsigned d = (unsigned)(s[j] - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*i = j;
	*out = v;
	return 0;
}

/* Dot-separated, non-empty [0-9A-Za-z-] identifiers. Prerelease numeric
 * identifiers must not have leading zeros; build identifiers may. */
static int check_idents(const char *s, size_t n, int prerelease)
{
	size_t start = 0;

	if (n == 0)
		return -1;
	for (size_t i = 0; i <= n; i++) {
		size_t len;

		if (i < n && s[i] != '.') {
			if (!is_ident_char(s[i]))
				return -1;
			continue;
		}
		len = i - start;
		if (len == 0)
			return -1;
		if (prerelease && len > 1 && s[start] == '0' && all_digits(s + start, len))
			return -1;
		start = i + 1;
	}
	return 0;
}

/* The dot-separated components; stops at the first character that cannot
 * continue them and leaves *i there. */
static int scan_components(const char *s, size_t n, size_t *i, unsigned flags,
			   struct md_vparts *out)
{
	for (int k = 0; k < 3; k++) {
		if (*i < n && is_wildcard(s[*i]) && (flags & MD_VS_WILDCARD)) {
			(*i)++;
		} else {
			/* "1.x.3" says two different things; refuse it. */
			if (out->nfull != out->ncomp)
				return -1;
			if (scan_number(s, n, i, &out->num[k]) < 0)
				return -1;
			out->nfull++;
		}
		out->ncomp++;
		if (k == 2 || *i >= n || s[*i] != '.')
			break;
		(*i)++;
	}
	if (out->ncomp < 3 && !(flags & MD_VS_PARTIAL))
		return -1;
	return 0;
}

int md_policy__semver_scan(const char *s, size_t n, unsigned flags, struct md_vparts *out)
{
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	if ((flags & MD_VS_PREFIX_V) && n > 0 && (s[0] == 'v' || s[0] == 'V'))
		i = 1;
	if (scan_components(s, n, &i, flags, out) < 0)
		return -1;
	/* A prerelease qualifies three written components. On an x-range
	 * ("1.x.x-alpha") node-semver accepts and ignores it, as it ignores
	 * build metadata after any range version ("^1.x+build"); a tag needs
	 * all three numbers for either. */
	if (i < n && s[i] == '-' && (out->ncomp != 3 || (out->nfull != 3 && !(flags & MD_VS_WILDCARD))))
		return -1;
	if (i < n && s[i] == '+' && out->nfull != 3 && !(flags & MD_VS_PARTIAL))
		return -1;
	if (i < n && s[i] == '-') {
		size_t start = ++i;

		while (i < n && s[i] != '+')
			i++;
		if (check_idents(s + start, i - start, 1) < 0)
			return -1;
		if (out->nfull == 3) {
			out->pre = s + start;
			out->pre_len = i - start;
		}
	}
	if (i < n && s[i] == '+') {
		i++;
		if (check_idents(s + i, n - i, 0) < 0)
			return -1;
		i = n;
	}
	return i == n ? 0 : -1;
}

int md_policy__semver_set(struct md_semver *v, uint64_t major, uint64_t minor, uint64_t patch,
		  const char *pre, size_t pre_len)
{
	v->num[0] = major;
	v->num[1] = minor;
	v->num[2] = patch;
	v->pre = NULL;
	if (pre) {
		v->pre = md_strndup(pre, pre_len);
		if (!v->pre)
			return -1;
	}
	return 0;
}

int md_policy__semver_parse_into(struct md_semver *v, const char *tag)
{
	struct md_vparts vp;
	size_t n;

	memset(v, 0, sizeof(*v));
	if (!tag)
		return -1;
	n = strnlen(tag, MD_SEMVER_MAX_LEN + 1);
	if (n > MD_SEMVER_MAX_LEN || md_policy__semver_scan(tag, n, MD_VS_PREFIX_V, &vp) < 0)
		return -1;
	return md_policy__semver_set(v, vp.num[0], vp.num[1], vp.num[2], vp.pre, vp.pre_len);
}

void md_policy__semver_clear(struct md_semver *v)
{
	if (!v)
		return;
	free(v->pre);
	v->pre = NULL;
}

int md_semver_parse(struct md_semver **out, const char *tag)
{
	struct md_semver *v;

	*out = NULL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -1;
	if (md_policy__semver_parse_into(v, tag) < 0) {
		free(v);
		return -1;
	}
	*out = v;
	return 0;
}

void md_semver_free(struct md_semver *v)
{
	if (!v)
		return;
	md_policy__semver_clear(v);
	free(v);
}

int md_policy__semver_tuple_cmp(const struct md_semver *a, const struct md_semver *b)
{
	for (int i = 0; i < 3; i++)
		if (a->num[i] != b->num[i])
			return a->num[i] < b->num[i] ? -1 : 1;
	return 0;
}

/* SemVer §11.4.1-3: numeric identifiers compare as numbers (valid ones
 * have no leading zeros, so the longer is larger), others in ASCII order,
 * and numeric ones sort before alphanumeric ones. */
static int ident_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int anum = all_digits(a, an), bnum = all_digits(b, bn);
	int r;

	if (anum != bnum)
		return anum ? -1 : 1;
	if (anum && an != bn)
		return an < bn ? -1 : 1;
	r = memcmp(a, b, an < bn ? an : bn);
	if (r)
		return r < 0 ? -1 : 1;
	return an == bn ? 0 : (an < bn ? -1 : 1);
}

/* §11.4.4: identifier by identifier; a longer list wins a tie. Lenient
 * tags share the walk with their own identifier order. */
int md_policy__pre_cmp(const char *a, const char *b, md_ident_cmp_fn ident)
{
	while (*a && *b) {
		size_t an = strcspn(a, "."), bn = strcspn(b, ".");
		int r = ident(a, an, b, bn);

		if (r)
			return r;
		a += an + (a[an] == '.');
		b += bn + (b[bn] == '.');
	}
	if (*a)
		return 1;
	return *b ? -1 : 0;
}

int md_semver_cmp(const struct md_semver *a, const struct md_semver *b)
{
	int r = md_policy__semver_tuple_cmp(a, b);

	if (r)
		return r;
	/* §11.3: a prerelease sorts before its release. */
	if (!a->pre || !b->pre)
		return a->pre ? -1 : (b->pre ? 1 : 0);
	return md_policy__pre_cmp(a->pre, b->pre, ident_cmp);
}

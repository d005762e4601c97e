/* Lenient tag versions: what real image tags look like, beyond SemVer.
 *
 * Grammar (after an optional 'v'/'V'):
 *
 *   NUM{1,4 dot-separated, leading zeros allowed} [ '-' SUFFIX ] [ '+' BUILD ]
 *   YYYY-MM-DD [ '-' SUFFIX ]                      (a date tag, read as Y.M.D)
 *
 * SUFFIX is split on '-' into segments. The leading segments that look like
 * a prerelease form the prerelease; everything from the first other segment
 * on is the tag's *flavour* ("alpine", "bookworm-slim", "alpine3.19").
 *
 * The prerelease/flavour rule: a segment is a prerelease when its first
 * dot-separated identifier is all digits (SemVer numeric prerelease,
 * "1.2.3-0.3.7") or one of the words alpha, beta, rc, pre, preview, dev,
 * snapshot, canary, nightly (any case) optionally followed by digits
 * ("rc1", "beta2", "rc.1", "alpha.beta"). So "1.2.3-rc.1-alpine" is the
 * prerelease "rc.1" of flavour "alpine", "1.2.3-alpine3.19" is a release of
 * flavour "alpine3.19", and "1.2.3-x.7.z.92" (valid SemVer) is a release of
 * flavour "x.7.z.92": an unknown word is far more often a variant name
 * than a prerelease in container tags.
 *
 * Prerelease order is SemVer's, identifier by identifier, with one
 * addition: two identifiers that are both letters followed by digits with
 * the same letters ("rc9", "rc10") compare their digit runs as numbers, so
 * rc9 < rc10 (SemVer alone would say "rc10" < "rc9" in ASCII order). */
#include "policy_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_DIGITS 19 /* fits in uint64_t without overflow checks */

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_seg_char(char c)
{
	return is_digit(c) || is_alpha(c) || c == '.' || c == '_';
}

static int all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return 0;
	return n > 0;
}

static int read_num(const char *s, size_t n, size_t *i, uint64_t *out)
{
	size_t j = *i;
	uint64_t v = 0;

	if (j >= n || !is_digit(s[j]))
		return -1;
	for (; j < n && is_digit(s[j]); j++) {
		if (j - *i >= MAX_DIGITS)
			return -1;
		v = v * 10 + (uint64_t)(s[j] - '0');
	}
	*i = j;
	*out = v;
	return 0;
}

/* "2024-01-05": four digits, two, two, then the end or a suffix. */
static int scan_date(const char *s, size_t n, size_t *i, struct md_tagver *tv)
{
	const char *p = s + *i;
	size_t left = n - *i;

	if (left < 10 || !all_digits(p, 4) || p[4] != '-' || !all_digits(p + 5, 2) ||
	    p[7] != '-' || !all_digits(p + 8, 2))
		return -1;
	if (left > 10 && p[10] != '-' && p[10] != '+')
		return -1;
	tv->num[0] = (uint64_t)((p[0] - '0') * 1000 + (p[1] - '0') * 100 + (p[2] - '0') * 10 +
				(p[3] - '0'));
	tv->num[1] = (uint64_t)((p[5] - '0') * 10 + (p[6] - '0'));
	tv->num[2] = (uint64_t)((p[8] - '0') * 10 + (p[9] - '0'));
	tv->nnum = 3;
	*i += 10;
	return 0;
}

static int scan_numbers(const char *s, size_t n, size_t *i, struct md_tagver *tv)
{
	for (int k = 0; k < 4; k++) {
		if (read_num(s, n, i, &tv->num[k]) < 0)
			return -1;
		tv->nnum++;
		if (*i >= n || s[*i] != '.')
			return 0;
		(*i)++;
	}
	return -1; /* a fifth component */
}

static const char *const pre_words[] = {
	"alpha", "beta", "rc", "pre", "preview", "dev", "snapshot", "canary", "nightly",
};

/* Whether a '-' segment starts a prerelease (see the rule above). */
static int is_pre_segment(const char *s, size_t n)
{
	size_t id = 0, letters = 0;

	while (id < n && s[id] != '.')
		id++;
	if (all_digits(s, id))
		return 1;
	while (letters < id && is_alpha(s[letters]))
		letters++;
	if (letters == 0 || (letters < id && !all_digits(s + letters, id - letters)))
		return 0;
	for (size_t w = 0; w < sizeof(pre_words) / sizeof(pre_words[0]); w++)
		if (strlen(pre_words[w]) == letters && strncasecmp(s, pre_words[w], letters) == 0)
			return 1;
	return 0;
}

/* Segments must be non-empty with non-empty dot identifiers. */
static int valid_segment(const char *s, size_t n)
{
	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!is_seg_char(s[i]) || (s[i] == '.' && s[i + 1] == '.'))
			return 0;
	return 1;
}

/* Split s[0..n) (the text after the first '-') into prerelease and flavour. */
static int split_suffix(const char *s, size_t n, struct md_tagver *tv)
{
	size_t i = 0, pre_end = 0, flav = n;
	int in_pre = 1;

	while (i <= n) {
		size_t j = i;

		while (j < n && s[j] != '-')
			j++;
		if (!valid_segment(s + i, j - i))
			return -1;
		if (in_pre && is_pre_segment(s + i, j - i)) {
			pre_end = j;
		} else if (in_pre) {
			in_pre = 0;
			flav = i;
		}
		i = j + 1;
	}
	if (pre_end) {
		/* "rc1-2" reads as identifiers "rc1.2". */
		tv->pre = md_strndup(s, pre_end);
		if (!tv->pre)
			return -1;
		for (char *p = tv->pre; *p; p++)
			if (*p == '-')
				*p = '.';
	}
	if (flav < n) {
		tv->flavour = md_strndup(s + flav, n - flav);
		if (!tv->flavour)
			return -1;
	}
	return 0;
}

static int lenient_scan(struct md_tagver *tv, const char *s, size_t n)
{
	size_t i = 0, end;

	if (n > 0 && (s[0] == 'v' || s[0] == 'V'))
		i = 1;
	if (scan_date(s, n, &i, tv) < 0) {
		tv->nnum = 0;
		if (scan_numbers(s, n, &i, tv) < 0)
			return -1;
	}
	end = i;
	while (end < n && s[end] != '+')
		end++;
	if (end < n && (end + 1 == n || !valid_segment(s + end + 1, n - end - 1)))
		return -1; /* an empty or odd build part */
	if (i == end)
		return 0;
	if (s[i] != '-')
		return -1;
	return split_suffix(s + i + 1, end - i - 1, tv);
}

/* Strict SemVer the lenient rule does not read ("1.0.0-x-y-z.--"): all of
 * it is the prerelease, no flavour. */
static int strict_fallback(struct md_tagver *tv, const char *s, size_t n)
{
	struct md_vparts vp;

	if (md_semver_scan(s, n, MD_VS_PREFIX_V, &vp) < 0)
		return -1;
	memcpy(tv->num, vp.num, sizeof(vp.num));
	tv->nnum = 3;
	if (vp.pre) {
		tv->pre = md_strndup(vp.pre, vp.pre_len);
		if (!tv->pre)
			return -1;
	}
	return 0;
}

void md_tagver_clear(struct md_tagver *tv)
{
	if (!tv)
		return;
	free(tv->pre);
	free(tv->flavour);
	memset(tv, 0, sizeof(*tv));
}

int md_tagver_parse(struct md_tagver *tv, const char *s, size_t n)
{
	memset(tv, 0, sizeof(*tv));
	if (!s || n == 0 || n > MD_SEMVER_MAX_LEN)
		return -1;
	if (lenient_scan(tv, s, n) < 0) {
		md_tagver_clear(tv);
		if (strict_fallback(tv, s, n) < 0) {
			md_tagver_clear(tv);
			return -1;
		}
	}
	/* The view ranges match against: the first three numbers. */
	memcpy(tv->sv.num, tv->num, sizeof(tv->sv.num));
	tv->sv.pre = tv->pre;
	return 0;
}

/* Leading zeros do not count: "007" == "7". */
int md_digits_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int r;

	while (an > 1 && *a == '0')
		a++, an--;
	while (bn > 1 && *b == '0')
		b++, bn--;
	if (an != bn)
		return an < bn ? -1 : 1;
	r = memcmp(a, b, an);
	return r < 0 ? -1 : r > 0;
}

/* Longest integer or fraction part the numerical policy reads. */
#define NUMBER_MAX_DIGITS 64

/* The digit run at s, at most NUMBER_MAX_DIGITS long; its length, 0 when
 * there is none or it is too long. */
static size_t digit_run(const char *s)
{
	size_t i = 0;

	while (s[i] >= '0' && s[i] <= '9')
		i++;
	return i <= NUMBER_MAX_DIGITS ? i : 0;
}

/* The numerical policy's numbers: "42", "007", "53.47333823144817".
 * No sign (a tag cannot start with '-'), exponent or bare dot ("1.",
 * ".5"), and not "1.2.3": that is a version, for semver. */
int md_decimal_valid(const char *s)
{
	size_t i = digit_run(s), f;

	if (i == 0)
		return 0;
	if (s[i] == '\0')
		return 1;
	if (s[i] != '.')
		return 0;
	f = digit_run(s + i + 1);
	return f > 0 && s[i + 1 + f] == '\0';
}

/* Fractions digit by digit; a missing digit is 0, so "5" == "50". */
static int fraction_cmp(const char *a, const char *b)
{
	while (*a || *b) {
		char x = *a ? *a++ : '0', y = *b ? *b++ : '0';

		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

int md_decimal_cmp(const char *a, const char *b)
{
	size_t ai = digit_run(a), bi = digit_run(b);
	int r = md_digits_cmp(a, ai, b, bi);

	if (r)
		return r;
	return fraction_cmp(a[ai] ? a + ai + 1 : a + ai, b[bi] ? b + bi + 1 : b + bi);
}

static size_t alpha_prefix(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && is_alpha(s[i]))
		i++;
	return i;
}

static int ident_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int anum = all_digits(a, an), bnum = all_digits(b, bn);
	size_t al = alpha_prefix(a, an), bl = alpha_prefix(b, bn);
	int r;

	if (anum && bnum)
		return md_digits_cmp(a, an, b, bn);
	if (anum != bnum)
		return anum ? -1 : 1;
	/* "rc9" vs "rc10": same letters, then digits only: by number. */
	if (al && al == bl && al < an && bl < bn && memcmp(a, b, al) == 0 &&
	    all_digits(a + al, an - al) && all_digits(b + bl, bn - bl)) {
		r = md_digits_cmp(a + al, an - al, b + bl, bn - bl);
		if (r)
			return r;
	}
	r = memcmp(a, b, an < bn ? an : bn);
	if (r)
		return r < 0 ? -1 : 1;
	return an == bn ? 0 : (an < bn ? -1 : 1);
}

int md_tagver_cmp(const struct md_tagver *a, const struct md_tagver *b)
{
	/* Missing components are zeros: "1.2" == "1.2.0". */
	for (int i = 0; i < 4; i++)
		if (a->num[i] != b->num[i])
			return a->num[i] < b->num[i] ? -1 : 1;
	if (!a->pre || !b->pre)
		return a->pre ? -1 : (b->pre ? 1 : 0);
	return md_pre_cmp(a->pre, b->pre, ident_cmp);
}

int md_tag_version_cmp(const char *a, const char *b, int *out)
{
	struct md_tagver va, vb;
	int rc = -1;

	if (md_tagver_parse(&va, a, a ? strlen(a) : 0) < 0)
		return -1;
	if (md_tagver_parse(&vb, b, b ? strlen(b) : 0) == 0) {
		*out = md_tagver_cmp(&va, &vb);
		rc = 0;
	}
	md_tagver_clear(&va);
	md_tagver_clear(&vb);
	return rc;
}

int md_tag_version_describe(const char *tag, char *out, size_t outlen)
{
	struct md_tagver v;
	size_t off = 0;

	if (!out || outlen == 0 || md_tagver_parse(&v, tag, tag ? strlen(tag) : 0) < 0)
		return -1;
	out[0] = '\0';
	for (int i = 0; i < v.nnum && off < outlen; i++)
		off += (size_t)snprintf(out + off, outlen - off, "%s%llu", i ? "." : "",
					(unsigned long long)v.num[i]);
	if (v.pre && off < outlen)
		off += (size_t)snprintf(out + off, outlen - off, " pre=%s", v.pre);
	if (v.flavour && off < outlen)
		snprintf(out + off, outlen - off, " flavour=%s", v.flavour);
	md_tagver_clear(&v);
	return 0;
}

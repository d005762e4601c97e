/* Lenient tag versions: what real image tags look like, beyond SemVer.
 *
 * Grammar (after an optional 'v'/'V'):
 *
 *   NUM{1,4 dot-separated, leading zeros allowed} [GLUED] [ '-' SUFFIX ] [ '+' BUILD ]
 *   YYYY-MM-DD [ '-' SUFFIX ]                      (a date tag, read as Y.M.D)
 *
 * GLUED is a prerelease written against the last number, as Python (PEP
 * 440) and PostgreSQL tag them: "3.13.0rc1", "3.8.0b1", "3.14.0a1", "17rc1",
 * "2025.2.0.dev20250110" (dev may follow a dot). Its word is a, alpha, b,
 * beta, rc or dev, always followed by digits; they order dev < a < b < rc,
 * then by number, all before the release.
 *
 * SUFFIX is split on '-' into segments, read as [prerelease] [flavour]
 * [revision]:
 *
 * - prerelease: leading segments that are one of the words alpha, beta,
 *   rc, pre, preview, dev, snapshot, canary, nightly (any case), optionally
 *   followed by digits ("rc1", "beta2", "rc.1", "alpha.beta"); digit
 *   segments after one continue it ("rc1-2" reads "rc1.2");
 * - revision: a rebuild of the same release, ordered after it and by its
 *   own numbers: a last segment "lsN" (linuxserver.io, with an "rN" just
 *   before it: "r7-ls245"), "rN" (Alpine, Bitnami: "debian-12-r5"), or a
 *   suffix that is only dotted digits ("1.25.1-1", NetBox's "v4.1-3.0.2",
 *   Debian's "-1");
 * - flavour: everything in between ("alpine", "bookworm-slim",
 *   "alpine3.19", "debian-12").
 *
 * So "1.2.3-rc.1-alpine" is the prerelease "rc.1" of flavour "alpine",
 * "1.2.3-alpine3.19" a release of flavour "alpine3.19", "4.0.1-ls220"
 * revision ls220 of 4.0.1, and "1.2.3-x.7.z.92" (valid SemVer) a release of
 * flavour "x.7.z.92": an unknown word is far more often a variant name than
 * a prerelease in container tags, and an all-digit suffix far more often a
 * packaging revision than SemVer's numeric prerelease.
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

/* PEP 440's prerelease words, lowest first; alpha/beta are a/b spelled out. */
static const struct {
	const char *word;
	int rank;
} glued_words[] = {
	{ "dev", 0 }, { "a", 1 }, { "alpha", 1 }, { "b", 2 }, { "beta", 2 }, { "rc", 3 },
};

/* The rank of a glued prerelease's word s[0..n), -1 when it is not one. */
static int glued_rank(const char *s, size_t n)
{
	for (size_t w = 0; w < sizeof(glued_words) / sizeof(glued_words[0]); w++)
		if (strlen(glued_words[w].word) == n && memcmp(s, glued_words[w].word, n) == 0)
			return glued_words[w].rank;
	return -1;
}

/* A glued prerelease at s[i]: its word, digits, then the end, '-' or '+'.
 * Returns its length (0 when there is none). */
static size_t glued_len(const char *s, size_t n, size_t i)
{
	size_t j = i, letters;

	while (j < n && s[j] >= 'a' && s[j] <= 'z')
		j++;
	letters = j - i;
	if (letters == 0 || glued_rank(s + i, letters) < 0)
		return 0;
	while (j < n && is_digit(s[j]))
		j++;
	if (j == i + letters || j - i - letters > MAX_DIGITS)
		return 0;
	if (j < n && s[j] != '-' && s[j] != '+')
		return 0;
	return j - i;
}

/* "rc1" right after a number, or ".dev3" (PEP 440's normal form). */
static int read_glued(const char *s, size_t n, size_t *i, struct md_tagver *tv)
{
	size_t at = *i < n && s[*i] == '.' ? *i + 1 : *i, len = glued_len(s, n, at);

	if (len == 0 || (at > *i && strncmp(s + at, "dev", 3) != 0))
		return 0;
	tv->pre = md_strndup(s + at, len);
	if (!tv->pre)
		return -1;
	tv->pre_glued = 1;
	*i = at + len;
	return 0;
}

static int scan_numbers(const char *s, size_t n, size_t *i, struct md_tagver *tv)
{
	for (int k = 0; k < 4; k++) {
		if (read_num(s, n, i, &tv->num[k]) < 0)
			return -1;
		tv->nnum++;
		if (read_glued(s, n, i, tv) < 0)
			return -1;
		if (tv->pre || *i >= n || s[*i] != '.')
			return 0;
		(*i)++;
	}
	return -1; /* a fifth component */
}

static const char *const pre_words[] = {
	"alpha", "beta", "rc", "pre", "preview", "dev", "snapshot", "canary", "nightly",
};

/* Whether a '-' segment is a prerelease word (see the rule above). */
static int is_pre_word(const char *s, size_t n)
{
	size_t id = 0, letters = 0;

	while (id < n && s[id] != '.')
		id++;
	while (letters < id && is_alpha(s[letters]))
		letters++;
	if (letters == 0 || (letters < id && !all_digits(s + letters, id - letters)))
		return 0;
	for (size_t w = 0; w < sizeof(pre_words) / sizeof(pre_words[0]); w++)
		if (strlen(pre_words[w]) == letters && strncasecmp(s, pre_words[w], letters) == 0)
			return 1;
	return 0;
}

/* Digits after a prerelease word continue it: "rc1-2". */
static int starts_with_digits(const char *s, size_t n)
{
	size_t id = 0;

	while (id < n && s[id] != '.')
		id++;
	return all_digits(s, id);
}

/* "ls220", "r5": the given letters, then digits only. */
static int is_tagged_rev(const char *s, size_t n, const char *letters)
{
	size_t l = strlen(letters);

	return n > l && memcmp(s, letters, l) == 0 && all_digits(s + l, n - l);
}

/* "1", "3.0.2": dotted digits. */
static int is_dotted_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_digit(s[i]) && !(s[i] == '.' && i > 0 && i + 1 < n && s[i + 1] != '.'))
			return 0;
	return n > 0;
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

/* A tag is at most MD_SEMVER_MAX_LEN long, so this many segments at most. */
#define MAX_SEGS (MD_SEMVER_MAX_LEN / 2 + 1)

struct segs {
	const char *p[MAX_SEGS];
	size_t len[MAX_SEGS];
	size_t n;
};

static int split_segments(const char *s, size_t n, struct segs *sg)
{
	size_t i = 0;

	sg->n = 0;
	while (i <= n) {
		size_t j = i;

		while (j < n && s[j] != '-')
			j++;
		if (sg->n == MAX_SEGS || !valid_segment(s + i, j - i))
			return -1;
		sg->p[sg->n] = s + i;
		sg->len[sg->n++] = j - i;
		i = j + 1;
	}
	return 0;
}

/* How many leading segments form the prerelease (none after a glued one). */
static size_t pre_segments(const struct segs *sg, const struct md_tagver *tv)
{
	size_t k = 0;

	if (tv->pre)
		return 0;
	while (k < sg->n && (is_pre_word(sg->p[k], sg->len[k]) ||
			     (k > 0 && starts_with_digits(sg->p[k], sg->len[k]))))
		k++;
	return k;
}

/* Where the revision starts among segments [from, n); n when there is none. */
static size_t rev_segment(const struct segs *sg, size_t from)
{
	size_t last = sg->n - 1;

	if (last < from)
		return sg->n;
	if (is_tagged_rev(sg->p[last], sg->len[last], "ls")) {
		if (last > from && is_tagged_rev(sg->p[last - 1], sg->len[last - 1], "r"))
			return last - 1;
		return last;
	}
	if (is_tagged_rev(sg->p[last], sg->len[last], "r"))
		return last;
	/* Plain digits are a revision only on their own: in "debian-12" they
	 * name the flavour. */
	if (last == from && from == 0 && is_dotted_digits(sg->p[last], sg->len[last]))
		return last;
	return sg->n;
}

/* The text of segments [a, b) as written (b > a). */
static char *seg_text(const struct segs *sg, size_t a, size_t b)
{
	const char *end = sg->p[b - 1] + sg->len[b - 1];

	return md_strndup(sg->p[a], (size_t)(end - sg->p[a]));
}

/* Split s[0..n) (the text after the first '-') into prerelease, flavour
 * and revision. */
static int split_suffix(const char *s, size_t n, struct md_tagver *tv)
{
	struct segs sg;
	size_t npre, rev;

	if (split_segments(s, n, &sg) < 0)
		return -1;
	npre = pre_segments(&sg, tv);
	rev = rev_segment(&sg, npre);
	if (npre) {
		tv->pre = seg_text(&sg, 0, npre);
		if (!tv->pre)
			return -1;
		for (char *p = tv->pre; *p; p++)
			if (*p == '-')
				*p = '.';
	}
	if (rev > npre && !(tv->flavour = seg_text(&sg, npre, rev)))
		return -1;
	if (rev < sg.n && !(tv->rev = seg_text(&sg, rev, sg.n)))
		return -1;
	return 0;
}

static int lenient_scan(struct md_tagver *tv, const char *s, size_t n)
{
	size_t i = 0, end;

	if (n > 0 && (s[0] == 'v' || s[0] == 'V'))
		i = 1;
	tv->vprefix = i == 1;
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

	if (md_policy__semver_scan(s, n, MD_VS_PREFIX_V, &vp) < 0)
		return -1;
	memcpy(tv->num, vp.num, sizeof(vp.num));
	tv->nnum = 3;
	tv->vprefix = s[0] == 'v' || s[0] == 'V';
	if (vp.pre) {
		tv->pre = md_strndup(vp.pre, vp.pre_len);
		if (!tv->pre)
			return -1;
	}
	return 0;
}

void md_policy__tagver_clear(struct md_tagver *tv)
{
	if (!tv)
		return;
	free(tv->pre);
	free(tv->flavour);
	free(tv->rev);
	memset(tv, 0, sizeof(*tv));
}

int md_policy__tagver_parse(struct md_tagver *tv, const char *s, size_t n)
{
	memset(tv, 0, sizeof(*tv));
	if (!s || n == 0 || n > MD_SEMVER_MAX_LEN)
		return -1;
	if (lenient_scan(tv, s, n) < 0) {
		md_policy__tagver_clear(tv);
		if (strict_fallback(tv, s, n) < 0) {
			md_policy__tagver_clear(tv);
			return -1;
		}
	}
	/* The view ranges match against: the first three numbers. */
	memcpy(tv->sv.num, tv->num, sizeof(tv->sv.num));
	tv->sv.pre = tv->pre;
	return 0;
}

/* Leading zeros do not count: "007" == "7". */
int md_policy__digits_cmp(const char *a, size_t an, const char *b, size_t bn)
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
int md_policy__decimal_valid(const char *s)
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

int md_policy__decimal_cmp(const char *a, const char *b)
{
	size_t ai = digit_run(a), bi = digit_run(b);
	int r = md_policy__digits_cmp(a, ai, b, bi);

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
		return md_policy__digits_cmp(a, an, b, bn);
	if (anum != bnum)
		return anum ? -1 : 1;
	/* "rc9" vs "rc10": same letters, then digits only: by number. */
	if (al && al == bl && al < an && bl < bn && memcmp(a, b, al) == 0 &&
	    all_digits(a + al, an - al) && all_digits(b + bl, bn - bl)) {
		r = md_policy__digits_cmp(a + al, an - al, b + bl, bn - bl);
		if (r)
			return r;
	}
	r = memcmp(a, b, an < bn ? an : bn);
	if (r)
		return r < 0 ? -1 : 1;
	return an == bn ? 0 : (an < bn ? -1 : 1);
}

/* Glued prereleases: PEP 440's word order, then the number. */
static int glued_cmp(const char *a, const char *b)
{
	size_t al = alpha_prefix(a, strlen(a)), bl = alpha_prefix(b, strlen(b));
	int ra = glued_rank(a, al), rb = glued_rank(b, bl);

	if (ra != rb)
		return ra < rb ? -1 : 1;
	return md_policy__digits_cmp(a + al, strlen(a + al), b + bl, strlen(b + bl));
}

static int pre_cmp(const struct md_tagver *a, const struct md_tagver *b)
{
	if (!a->pre || !b->pre)
		return a->pre ? -1 : (b->pre ? 1 : 0);
	/* Two spellings of prereleases never meet in one shape; any fixed
	 * order between them keeps the order total. */
	if (a->pre_glued != b->pre_glued)
		return a->pre_glued ? -1 : 1;
	if (a->pre_glued)
		return glued_cmp(a->pre, b->pre);
	return md_policy__pre_cmp(a->pre, b->pre, ident_cmp);
}

/* The next piece of a revision ("r7", "ls245", "3"): its letters and its
 * digits. Pieces are separated by '-' or '.'. */
static const char *rev_piece(const char *s, size_t *letters, size_t *digits)
{
	size_t l = alpha_prefix(s, strlen(s)), d = 0;

	while (is_digit(s[l + d]))
		d++;
	*letters = l;
	*digits = d;
	s += l + d;
	return *s ? s + 1 : s;
}

/* Piece by piece: letters, then the number; fewer pieces first. */
static int rev_cmp(const char *a, const char *b)
{
	if (!a || !b)
		return a ? 1 : (b ? -1 : 0);
	while (*a && *b) {
		size_t al, ad, bl, bd;
		const char *an = rev_piece(a, &al, &ad), *bn = rev_piece(b, &bl, &bd);
		int r = memcmp(a, b, al < bl ? al : bl);

		if (r || al != bl)
			return r ? (r < 0 ? -1 : 1) : (al < bl ? -1 : 1);
		r = md_policy__digits_cmp(a + al, ad, b + bl, bd);
		if (r)
			return r;
		a = an;
		b = bn;
	}
	return *a ? 1 : (*b ? -1 : 0);
}

int md_policy__tagver_same_rev_kind(const struct md_tagver *a, const struct md_tagver *b)
{
	const char *x = a->rev, *y = b->rev;

	if (!x || !y)
		return !x && !y;
	while (*x && *y) {
		size_t xl, xd, yl, yd;
		const char *xn = rev_piece(x, &xl, &xd), *yn = rev_piece(y, &yl, &yd);

		if (xl != yl || memcmp(x, y, xl) != 0)
			return 0;
		x = xn;
		y = yn;
	}
	return !*x && !*y;
}

int md_policy__tagver_cmp(const struct md_tagver *a, const struct md_tagver *b)
{
	int r;

	/* Missing components are zeros: "1.2" == "1.2.0". */
	for (int i = 0; i < 4; i++)
		if (a->num[i] != b->num[i])
			return a->num[i] < b->num[i] ? -1 : 1;
	r = pre_cmp(a, b);
	return r ? r : rev_cmp(a->rev, b->rev);
}

int md_tag_version_cmp(const char *a, const char *b, int *out)
{
	struct md_tagver va, vb;
	int rc = -1;

	if (md_policy__tagver_parse(&va, a, a ? strlen(a) : 0) < 0)
		return -1;
	if (md_policy__tagver_parse(&vb, b, b ? strlen(b) : 0) == 0) {
		*out = md_policy__tagver_cmp(&va, &vb);
		rc = 0;
	}
	md_policy__tagver_clear(&va);
	md_policy__tagver_clear(&vb);
	return rc;
}

int md_tag_version_describe(const char *tag, char *out, size_t outlen)
{
	struct md_tagver v;
	size_t off = 0;

	if (!out || outlen == 0 || md_policy__tagver_parse(&v, tag, tag ? strlen(tag) : 0) < 0)
		return -1;
	out[0] = '\0';
	for (int i = 0; i < v.nnum && off < outlen; i++)
		off += (size_t)snprintf(out + off, outlen - off, "%s%llu", i ? "." : "",
					(unsigned long long)v.num[i]);
	if (v.pre && off < outlen)
		off += (size_t)snprintf(out + off, outlen - off, " pre=%s", v.pre);
	if (v.flavour && off < outlen)
		off += (size_t)snprintf(out + off, outlen - off, " flavour=%s", v.flavour);
	if (v.rev && off < outlen)
		snprintf(out + off, outlen - off, " rev=%s", v.rev);
	md_policy__tagver_clear(&v);
	return 0;
}

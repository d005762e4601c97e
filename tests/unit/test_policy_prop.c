/* policy: properties of decisions over many random tag sets.
 *
 * A seeded PRNG (splitmix64) makes every run the same; a failure prints
 * the seed, policy, declared tag and tag list to replay it. Tags come from
 * a grammar of what registries publish (versions of 1-4 parts with and
 * without `v`, flavours, dash and glued prereleases, revisions, dates,
 * words), drawn from small number ranges so that ties and near-misses are
 * common. For every set:
 *
 * - the choice (tag, status and trace) is the same whatever the order of
 *   the tag list, duplicates included;
 * - the chosen tag is the declared one or a listed one;
 * - semver: never lower than the declared tag while the declared tag
 *   satisfies the policy; never of another shape (parts, flavour, `v`,
 *   date or not, revision kind); from `latest` or no tag, never a
 *   flavour; a declared tag that is not a version is reported, never
 *   replaced;
 * - newest: never a less specific tag of the same build (creation time);
 * - numerical: the highest number among the listed numbers. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magos/policy.h"

#define SETS 4000
#define MAX_TAGS 24
#define TAG_LEN 64

static uint64_t rng_state;

static uint64_t next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned pick(unsigned n)
{
	return (unsigned)(next() % n);
}

static int chance(unsigned percent)
{
	return pick(100) < percent;
}

/* ---- tags ------------------------------------------------------------------ */

static const char *const flavours[] = { "alpine", "slim", "bookworm-slim", "alpine3.20",
					"debian-12", "rootless" };
static const char *const words[] = { "latest", "stable", "alpine", "main", "nightly" };

static void cat(char *out, const char *s)
{
	size_t n = strlen(out);

	snprintf(out + n, TAG_LEN - n, "%s", s);
}

static void cat_num(char *out, const char *before, unsigned v)
{
	size_t n = strlen(out);

	snprintf(out + n, TAG_LEN - n, "%s%u", before, v);
}

static void gen_version(char *out)
{
	static const char *const glued[] = { "rc", "b", "a", "dev" };
	static const char *const dashed[] = { "-rc.", "-beta", "-rc", "-alpha." };
	unsigned parts = 1 + pick(4), pre = pick(10), rev = pick(10);
	int flavour = chance(30);

	out[0] = '\0';
	if (chance(20))
		cat(out, "v");
	cat_num(out, "", pick(4));
	for (unsigned i = 1; i < parts; i++)
		cat_num(out, chance(5) ? ".0" : ".", pick(4));
	if (pre == 0)
		cat_num(out, glued[pick(4)], 1 + pick(3));
	else if (pre == 1)
		cat_num(out, dashed[pick(4)], 1 + pick(3));
	if (flavour) {
		cat(out, "-");
		cat(out, flavours[pick(6)]);
	}
	if (rev == 0) {
		cat_num(out, "-ls", 1 + pick(3));
	} else if (rev == 1) {
		cat_num(out, "-r", pick(3));
	} else if (rev == 2) {
		cat_num(out, "-r", pick(3));
		cat_num(out, "-ls", 1 + pick(3));
	} else if (rev == 3 && !flavour && pre != 1) {
		cat_num(out, chance(50) ? "-" : "-3.", 1 + pick(3));
	}
	if (chance(4))
		cat(out, "+b1");
}

static void gen_tag(char *out)
{
	unsigned k = pick(20);

	if (k < 15) {
		gen_version(out);
	} else if (k < 17) {
		snprintf(out, TAG_LEN, pick(2) ? "2024.%02u.%02u" : "2024-%02u-%02u", 1 + pick(3),
			 1 + pick(3));
		if (chance(30))
			strcat(out, "-alpine");
	} else if (k < 18) {
		snprintf(out, TAG_LEN, "202401%02u", 1 + pick(9));
	} else {
		snprintf(out, TAG_LEN, "%s", words[pick(5)]);
	}
}

/* ---- the oracle's view of a tag: its shape ----------------------------------- */

struct shape {
	int readable;
	int nparts;
	int vprefix;
	int date;
	char flavour[TAG_LEN];
	char revkind[TAG_LEN]; /* the revision without its digits: "ls", "r-ls", "..", "" */
};

/* From md_tag_version_describe: "1.2.3 pre=rc1 flavour=slim rev=ls5". */
static void shape_of(const char *tag, struct shape *s)
{
	char d[256], *p, *save = NULL;
	unsigned long long first = 0;

	memset(s, 0, sizeof(*s));
	if (!tag || md_tag_version_describe(tag, d, sizeof(d)) != 0)
		return;
	s->readable = 1;
	s->vprefix = tag[0] == 'v' || tag[0] == 'V';
	p = strtok_r(d, " ", &save);
	first = strtoull(p, NULL, 10);
	s->nparts = 1;
	for (const char *q = p; *q; q++)
		s->nparts += *q == '.';
	s->date = s->nparts == 1 ? first >= 19000101 && first <= 29991231
				 : first >= 1900 && first <= 2999;
	while ((p = strtok_r(NULL, " ", &save)) != NULL) {
		if (!strncmp(p, "flavour=", 8))
			snprintf(s->flavour, sizeof(s->flavour), "%s", p + 8);
		if (!strncmp(p, "rev=", 4)) {
			size_t k = 0;

			for (const char *q = p + 4; *q; q++)
				if (*q < '0' || *q > '9')
					s->revkind[k++] = *q == '.' ? '-' : *q;
			s->revkind[k] = '\0';
		}
	}
}

static int same_shape(const struct shape *a, const struct shape *b)
{
	return a->readable && b->readable && a->nparts == b->nparts &&
	       a->vprefix == b->vprefix && a->date == b->date &&
	       !strcmp(a->flavour, b->flavour) && !strcmp(a->revkind, b->revkind);
}

/* ---- one random set ------------------------------------------------------------ */

struct set {
	const char *annotation;
	char tags[MAX_TAGS][TAG_LEN];
	int64_t created[MAX_TAGS];
	size_t n;
	char current_buf[TAG_LEN];
	const char *current;
};

struct outcome {
	char tag[TAG_LEN];
	int has_tag;
	enum md_decision_status status;
	char trace[MAX_TAGS * 2 * (TAG_LEN + 40)];
};

static void describe_set(const struct set *s, uint64_t seed)
{
	fprintf(stderr, "seed %llu, annotation %s, declared %s, tags:",
		(unsigned long long)seed, s->annotation, s->current ? s->current : "(none)");
	for (size_t i = 0; i < s->n; i++)
		fprintf(stderr, " %s|%lld", s->tags[i], (long long)s->created[i]);
	fprintf(stderr, "\n");
}

/* Decide with the tags in the order given by idx (its length m). */
static void decide(const struct set *s, const size_t *idx, size_t m, struct outcome *o)
{
	struct md_candidate cands[MAX_TAGS * 2];
	struct md_policy *p;
	struct md_decision *d;
	struct md_decide_ctx ctx = { 1700000000, "linux/amd64" };
	struct md_err err;
	size_t off = 0;

	memset(cands, 0, sizeof(cands));
	for (size_t i = 0; i < m; i++) {
		cands[i].tag = s->tags[idx[i]];
		cands[i].created = s->created[idx[i]];
		cands[i].facts = s->created[idx[i]] != 0;
	}
	if (md_policy_parse(&p, s->annotation, &err) != 0)
		fail_msg("%s: %s", s->annotation, err.msg);
	if (md_policy_decide_ctx(&d, p, s->current, cands, m, &ctx, &err) != 0)
		fail_msg("%s: %s", s->annotation, err.msg);
	memset(o, 0, sizeof(*o));
	o->has_tag = md_decision_tag(d) != NULL;
	if (o->has_tag)
		snprintf(o->tag, sizeof(o->tag), "%s", md_decision_tag(d));
	o->status = md_decision_status(d);
	for (size_t i = 0; i < md_decision_trace_count(d); i++) {
		const struct md_trace_entry *e = md_decision_trace_at(d, i);

		off += (size_t)snprintf(o->trace + off, sizeof(o->trace) - off, "%c%s(%s) ",
					e->kept ? '+' : '-', e->tag, e->reason);
	}
	md_decision_free(d);
	md_policy_free(p);
}

static int same_outcome(const struct outcome *a, const struct outcome *b)
{
	return a->has_tag == b->has_tag && !strcmp(a->tag, b->tag) && a->status == b->status &&
	       !strcmp(a->trace, b->trace);
}

static void shuffle(size_t *idx, size_t m)
{
	for (size_t i = m; i > 1; i--) {
		size_t j = pick((unsigned)i), t = idx[i - 1];

		idx[i - 1] = idx[j];
		idx[j] = t;
	}
}

static int listed(const struct set *s, const char *tag)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->tags[i], tag))
			return 1;
	return 0;
}

/* The same choice in any order, with duplicates too. */
static void check_order(const struct set *s, const struct outcome *base, uint64_t seed)
{
	size_t idx[MAX_TAGS * 2], m = s->n;
	struct outcome o;

	for (int round = 0; round < 3; round++) {
		m = s->n;
		for (size_t i = 0; i < m; i++)
			idx[i] = round == 0 ? m - 1 - i : i;
		if (round == 2)
			for (size_t i = 0; i < s->n; i++)
				idx[m++] = pick((unsigned)s->n);
		if (round > 0)
			shuffle(idx, m);
		decide(s, idx, m, &o);
		if (!same_outcome(base, &o)) {
			describe_set(s, seed);
			fail_msg("order changed the decision: %s [%s] vs %s [%s]",
				 base->has_tag ? base->tag : "none", base->trace,
				 o.has_tag ? o.tag : "none", o.trace);
		}
	}
}

/* Whether the declared tag satisfies the policy: listed alone, it stays. */
static int declared_satisfies(const struct set *s)
{
	struct set one = *s;
	struct outcome o;
	size_t idx = 0;

	snprintf(one.tags[0], TAG_LEN, "%s", s->current);
	one.created[0] = 0;
	one.n = 1;
	decide(&one, &idx, 1, &o);
	return o.has_tag && !strcmp(o.tag, s->current);
}

static void check_semver(const struct set *s, const struct outcome *o, uint64_t seed)
{
	struct shape cur, got;
	int adopt = !s->current || !strcmp(s->current, "latest"), cmp = 0;

	shape_of(s->current, &cur);
	shape_of(o->has_tag ? o->tag : NULL, &got);
	if (!adopt && !cur.readable) {
		if (o->status != MD_DECISION_UNREADABLE || o->has_tag) {
			describe_set(s, seed);
			fail_msg("declared tag of unknown shape was not reported (decided %s)",
				 o->has_tag ? o->tag : "none");
		}
		return;
	}
	if (!o->has_tag || (s->current && !strcmp(o->tag, s->current)))
		return;
	if (adopt && got.flavour[0]) {
		describe_set(s, seed);
		fail_msg("starting from %s chose the flavoured %s", s->current ? s->current : "no tag",
			 o->tag);
	}
	if (!adopt && !same_shape(&cur, &got)) {
		describe_set(s, seed);
		fail_msg("%s moved to %s, another shape", s->current, o->tag);
	}
	if (!adopt && declared_satisfies(s) &&
	    (md_tag_version_cmp(o->tag, s->current, &cmp) != 0 || cmp < 0)) {
		describe_set(s, seed);
		fail_msg("%s satisfies the policy but moved down to %s", s->current, o->tag);
	}
}

/* newest: no tag of the chosen one's build is more specific. */
static void check_newest(const struct set *s, const struct outcome *o, uint64_t seed)
{
	struct shape got, other;
	int64_t when = 0;

	if (!o->has_tag || (s->current && !strcmp(o->tag, s->current)))
		return;
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->tags[i], o->tag))
			when = s->created[i];
	shape_of(o->tag, &got);
	for (size_t i = 0; i < s->n; i++) {
		if (s->created[i] != when)
			continue;
		shape_of(s->tags[i], &other);
		if (other.readable > got.readable ||
		    (other.readable && got.readable && other.nparts > got.nparts)) {
			describe_set(s, seed);
			fail_msg("newest chose %s over the more specific %s of the same build", o->tag,
				 s->tags[i]);
		}
	}
}

/* numerical: with no declared tag, the highest listed number. */
static void check_numerical(const struct set *s, const struct outcome *o, uint64_t seed)
{
	double best = -1;

	for (size_t i = 0; i < s->n; i++) {
		char *end;
		double v = strtod(s->tags[i], &end);

		if (*end == '\0' && s->tags[i][0] >= '0' && s->tags[i][0] <= '9' &&
		    !strchr(s->tags[i], 'e') && v > best)
			best = v;
	}
	if (best < 0 ? o->has_tag : (!o->has_tag || strtod(o->tag, NULL) != best)) {
		describe_set(s, seed);
		fail_msg("numerical chose %s, the highest number is %g", o->has_tag ? o->tag : "none",
			 best);
	}
}

static const char *const semver_policies[] = {
	"{\"magos\": {\"range\": \"*\"}}",
	"{\"magos\": {\"range\": \"^1\"}}",
	"{\"magos\": {\"range\": \"~1.2\"}}",
	"{\"magos\": {\"range\": \">=1.0.0 <3\"}}",
	"{\"magos\": {\"range\": \"^0.2\"}}",
	"{\"magos\": {\"range\": \"1.x || 3.x\"}}",
	"{\"magos\": {\"range\": \">=2024.1.0\"}}",
	"{\"magos\": {\"range\": \"*\", \"prerelease\": true}}",
	"{\"magos\": {\"range\": \"1.0.0 - 2.1\", \"prerelease\": true}}",
	"{\"magos\": {\"policy\": \"semver\"}}",
};

static void gen_set(struct set *s, int kind)
{
	memset(s, 0, sizeof(*s));
	s->n = 1 + pick(MAX_TAGS);
	for (size_t i = 0; i < s->n; i++) {
		if (kind == 2)
			snprintf(s->tags[i], TAG_LEN, chance(50) ? "%u" : "%u.%u", pick(30), pick(30));
		else if (kind == 1 && chance(10))
			snprintf(s->tags[i], TAG_LEN, "%s", words[pick(5)]);
		else
			gen_tag(s->tags[i]);
		/* Few distinct times: builds share them. A tag listed twice is
		 * one image, with one creation time. */
		s->created[i] = kind == 1 ? 1600000000 + 3600 * (int64_t)(1 + pick(3)) : 0;
		for (size_t k = 0; k < i; k++)
			if (!strcmp(s->tags[k], s->tags[i]))
				s->created[i] = s->created[k];
	}
	if (kind == 2) {
		s->annotation = "{\"magos\": {\"policy\": \"numerical\"}}";
		return;
	}
	s->annotation = kind == 1 ? "{\"magos\": {\"policy\": \"newest\"}}"
				  : semver_policies[pick(sizeof(semver_policies) / sizeof(*semver_policies))];
	switch (pick(20)) {
	case 0:
	case 1:
		s->current = NULL;
		break;
	case 2:
		s->current = "latest";
		break;
	case 3:
	case 4:
		gen_tag(s->current_buf);
		s->current = s->current_buf;
		break;
	default:
		snprintf(s->current_buf, TAG_LEN, "%s", s->tags[pick((unsigned)s->n)]);
		s->current = s->current_buf;
		break;
	}
}

static void run_sets(int kind, uint64_t seed)
{
	rng_state = seed;
	for (int i = 0; i < SETS; i++) {
		uint64_t set_seed = rng_state;
		struct outcome o;
		struct set s;
		size_t idx[MAX_TAGS];

		gen_set(&s, kind);
		for (size_t k = 0; k < s.n; k++)
			idx[k] = k;
		decide(&s, idx, s.n, &o);
		check_order(&s, &o, set_seed);
		if (o.has_tag && !listed(&s, o.tag) && !(s.current && !strcmp(o.tag, s.current))) {
			describe_set(&s, set_seed);
			fail_msg("chose %s, neither listed nor declared", o.tag);
		}
		if (kind == 0)
			check_semver(&s, &o, set_seed);
		else if (kind == 1)
			check_newest(&s, &o, set_seed);
		else if (!s.current)
			check_numerical(&s, &o, set_seed);
	}
}

static void test_semver_properties(void **state)
{
	(void)state;
	run_sets(0, 20250101);
}

static void test_newest_properties(void **state)
{
	(void)state;
	run_sets(1, 424242);
}

static void test_numerical_properties(void **state)
{
	(void)state;
	run_sets(2, 7);
}

/* The oracle itself: shapes read the way the rules say. */
static void test_shape_oracle(void **state)
{
	struct shape a, b;

	(void)state;
	shape_of("v4.1-3.0.2", &a);
	shape_of("v4.2-3.1.0", &b);
	assert_true(same_shape(&a, &b));
	shape_of("4.0.1-ls220", &a);
	shape_of("4.0.2", &b);
	assert_false(same_shape(&a, &b));
	shape_of("3.13.0rc1-slim", &a);
	shape_of("3.13.1-slim", &b);
	assert_true(same_shape(&a, &b));
	shape_of("3.13.1", &b);
	assert_false(same_shape(&a, &b));
	shape_of("20240105", &a);
	assert_true(a.date);
	shape_of("latest", &a);
	assert_false(a.readable);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shape_oracle),
		cmocka_unit_test(test_semver_properties),
		cmocka_unit_test(test_newest_properties),
		cmocka_unit_test(test_numerical_properties),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

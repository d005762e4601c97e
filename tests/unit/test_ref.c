#include "unit.h"
#include "magos/ref.h"
#include "ref_cases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define SHA "sha256:" D64

struct good_case {
	const char *in;
	const char *name;
	const char *domain;
	const char *path;
	const char *tag;
	const char *digest;
};

static const struct good_case good[] = {
	/* Docker Hub short forms */
	{ "nginx", "nginx", "docker.io", "library/nginx", NULL, NULL },
	{ "nginx:1.25", "nginx", "docker.io", "library/nginx", "1.25", NULL },
	{ "nginx:latest", "nginx", "docker.io", "library/nginx", "latest", NULL },
	{ "foo/bar", "foo/bar", "docker.io", "foo/bar", NULL, NULL },
	{ "foo/bar/baz:v1", "foo/bar/baz", "docker.io", "foo/bar/baz", "v1", NULL },
	{ "library/nginx", "library/nginx", "docker.io", "library/nginx", NULL, NULL },
	{ "docker.io/nginx", "docker.io/nginx", "docker.io", "library/nginx", NULL, NULL },
	{ "docker.io/library/nginx:1", "docker.io/library/nginx", "docker.io", "library/nginx",
	  "1", NULL },
	{ "docker.io/foo/bar", "docker.io/foo/bar", "docker.io", "foo/bar", NULL, NULL },
	{ "index.docker.io/nginx", "index.docker.io/nginx", "docker.io", "library/nginx", NULL,
	  NULL },
	{ "index.docker.io/foo/bar:2", "index.docker.io/foo/bar", "docker.io", "foo/bar", "2",
	  NULL },
	/* host names are case-insensitive: still Docker Hub, so still library/ */
	{ "Docker.IO/nginx", "Docker.IO/nginx", "docker.io", "library/nginx", NULL, NULL },
	{ "INDEX.docker.io/foo/bar", "INDEX.docker.io/foo/bar", "docker.io", "foo/bar", NULL,
	  NULL },
	/* other registries */
	{ "ghcr.io/acme/web:1.4.2", "ghcr.io/acme/web", "ghcr.io", "acme/web", "1.4.2", NULL },
	{ "ghcr.io/a/b", "ghcr.io/a/b", "ghcr.io", "a/b", NULL, NULL },
	{ "quay.io/x", "quay.io/x", "quay.io", "x", NULL, NULL },
	{ "localhost/foo", "localhost/foo", "localhost", "foo", NULL, NULL },
	{ "localhost:5000/foo:dev", "localhost:5000/foo", "localhost:5000", "foo", "dev", NULL },
	{ "myhost:5000/foo", "myhost:5000/foo", "myhost:5000", "foo", NULL, NULL },
	{ "myhost:5000/foo/bar:1.0", "myhost:5000/foo/bar", "myhost:5000", "foo/bar", "1.0",
	  NULL },
	{ "Foo/bar", "Foo/bar", "Foo", "bar", NULL, NULL },
	{ "registry.lan/team/app", "registry.lan/team/app", "registry.lan", "team/app", NULL,
	  NULL },
	{ "127.0.0.1:5000/app:1", "127.0.0.1:5000/app", "127.0.0.1:5000", "app", "1", NULL },
	{ "[::1]/app", "[::1]/app", "[::1]", "app", NULL, NULL },
	{ "[::1]:5000/app:2.0", "[::1]:5000/app", "[::1]:5000", "app", "2.0", NULL },
	{ "[2001:db8::1]:443/a/b", "[2001:db8::1]:443/a/b", "[2001:db8::1]:443", "a/b", NULL,
	  NULL },
	{ "my-registry.example.com/x", "my-registry.example.com/x", "my-registry.example.com",
	  "x", NULL, NULL },
	/* "localhost" without a slash is an image on Docker Hub, with a tag */
	{ "localhost:5000", "localhost", "docker.io", "library/localhost", "5000", NULL },
	/* path component separators */
	{ "a/b.c_d__e---f", "a/b.c_d__e---f", "docker.io", "a/b.c_d__e---f", NULL, NULL },
	{ "foo_bar/baz", "foo_bar/baz", "docker.io", "foo_bar/baz", NULL, NULL },
	/* tags */
	{ "nginx:_x", "nginx", "docker.io", "library/nginx", "_x", NULL },
	{ "nginx:V1.2-rc.3_b", "nginx", "docker.io", "library/nginx", "V1.2-rc.3_b", NULL },
	/* digests */
	{ "nginx@" SHA, "nginx", "docker.io", "library/nginx", NULL, SHA },
	{ "nginx:1.25@" SHA, "nginx", "docker.io", "library/nginx", "1.25", SHA },
	{ "ghcr.io/acme/web:1.4.2@" SHA, "ghcr.io/acme/web", "ghcr.io", "acme/web", "1.4.2", SHA },
	{ "localhost:5000/foo@" SHA, "localhost:5000/foo", "localhost:5000", "foo", NULL, SHA },
	{ "[::1]:5000/app:1@" SHA, "[::1]:5000/app", "[::1]:5000", "app", "1", SHA },
};

static void assert_str_or_null(const char *got, const char *want, const char *in)
{
	if (!want) {
		if (got)
			fail_msg("%s: expected NULL, got '%s'", in, got);
		return;
	}
	if (!got || strcmp(got, want) != 0)
		fail_msg("%s: expected '%s', got '%s'", in, want, got ? got : "(null)");
}

static void test_good_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const struct good_case *c = &good[i];
		struct md_ref *r = NULL;
		struct md_err err = { { 0 } };
		char canon[512];

		if (md_ref_parse(&r, c->in, &err) != 0)
			fail_msg("%s: unexpected error: %s", c->in, err.msg);
		assert_str_or_null(md_ref_name(r), c->name, c->in);
		assert_str_or_null(md_ref_domain(r), c->domain, c->in);
		assert_str_or_null(md_ref_path(r), c->path, c->in);
		assert_str_or_null(md_ref_tag(r), c->tag, c->in);
		assert_str_or_null(md_ref_digest(r), c->digest, c->in);
		snprintf(canon, sizeof(canon), "%s/%s", c->domain, c->path);
		assert_str_or_null(md_ref_canonical(r), canon, c->in);
		md_ref_free(r);
	}
}

/* Formatting with the parsed tag and digest gives back the input. */
static void test_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct md_ref *r = NULL;
		char *s;

		assert_int_equal(md_ref_parse(&r, good[i].in, NULL), 0);
		s = md_ref_format(r, md_ref_tag(r), md_ref_digest(r));
		assert_non_null(s);
		assert_string_equal(s, good[i].in);
		free(s);
		md_ref_free(r);
	}
}

struct bad_case {
	const char *in;
	const char *msg; /* the whole error message */
};

static const struct bad_case bad[] = {
	{ "", "invalid image reference '': empty reference" },
	{ "Foo Bar", "invalid image reference 'Foo Bar': uppercase letters in repository path" },
	{ "Nginx", "invalid image reference 'Nginx': uppercase letters in repository path" },
	{ "foo/Bar", "invalid image reference 'foo/Bar': uppercase letters in repository path" },
	{ "ghcr.io/Acme/web", "invalid image reference 'ghcr.io/Acme/web': uppercase letters "
			      "in repository path" },
	{ "nginx:x!", "invalid image reference 'nginx:x!': invalid tag 'x!'" },
	{ "nginx:", "invalid image reference 'nginx:': invalid tag ''" },
	{ "nginx:-x", "invalid image reference 'nginx:-x': invalid tag '-x'" },
	{ "nginx:.x", "invalid image reference 'nginx:.x': invalid tag '.x'" },
	{ "nginx@sha256:abc", "invalid image reference 'nginx@sha256:abc': invalid digest "
			      "'sha256:abc' (expected sha256: and 64 lowercase hex digits)" },
	{ "nginx@", "invalid image reference 'nginx@': invalid digest '' (expected sha256: and 64 "
		    "lowercase hex digits)" },
	{ "nginx@sha512:" D64, "invalid image reference 'nginx@sha512:" D64 "': unsupported "
			       "digest algorithm 'sha512' (only sha256 is supported)" },
	{ "nginx@sha256:" "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
	  "invalid image reference 'nginx@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef"
	  "0123456789abcdef': invalid digest 'sha256:0123456789ABCDEF0123456789abcdef0123456789"
	  "abcdef0123456789abcdef' (expected sha256: and 64 lowercase hex digits)" },
	{ D64, "invalid image reference '" D64 "': a 64-character hex string is an image ID, not "
	       "a repository name" },
	{ ":tag", "invalid image reference ':tag': missing repository name" },
	{ "@" SHA, "invalid image reference '@" SHA "': missing repository name" },
	{ "foo//bar", "invalid image reference 'foo//bar': empty component in repository path" },
	{ "foo/", "invalid image reference 'foo/': empty component in repository path" },
	{ "ghcr.io/", "invalid image reference 'ghcr.io/': empty component in repository path" },
	{ "foo..bar", "invalid image reference 'foo..bar': invalid repository path component "
		      "'foo..bar'" },
	{ "foo/-bar", "invalid image reference 'foo/-bar': invalid repository path component "
		      "'-bar'" },
	{ "a/b___c", "invalid image reference 'a/b___c': invalid repository path component "
		     "'b___c'" },
	{ "foo bar", "invalid image reference 'foo bar': invalid repository path component "
		     "'foo bar'" },
	{ "-bad.io/x", "invalid image reference '-bad.io/x': invalid registry domain '-bad.io'" },
	{ "bad_host.io/x", "invalid image reference 'bad_host.io/x': invalid registry domain "
			   "'bad_host.io'" },
	{ "host:port/x", "invalid image reference 'host:port/x': invalid registry domain "
			 "'host:port'" },
	{ "host:/x", "invalid image reference 'host:/x': invalid registry domain 'host:'" },
	{ "[zz::1]/x", "invalid image reference '[zz::1]/x': invalid registry domain '[zz::1]'" },
	{ "[]:1/x", "invalid image reference '[]:1/x': invalid registry domain '[]:1'" },
	{ "[]/x", "invalid image reference '[]/x': invalid repository path component '[]'" },
	{ "a..b/x", "invalid image reference 'a..b/x': invalid registry domain 'a..b'" },
	{ "nginx\n", "invalid image reference 'nginx?': invalid repository path component "
		     "'nginx\?'" },
};

static void test_bad_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct md_ref *r = (struct md_ref *)&r; /* must be reset to NULL */
		struct md_err err = { { 0 } };

		if (md_ref_parse(&r, bad[i].in, &err) != -1)
			fail_msg("'%s': parsed, expected an error", bad[i].in);
		assert_null(r);
		if (strcmp(err.msg, bad[i].msg) != 0)
			fail_msg("'%s':\n got  %s\n want %s", bad[i].in, err.msg, bad[i].msg);
	}
}

static void test_path_length(void **state)
{
	char in[300], msg[MD_ERR_MAX];
	struct md_ref *r = NULL;
	struct md_err err;

	(void)state;
	/* 255 characters after "library/" is still fine on another registry... */
	memset(in, 'a', sizeof(in));
	memcpy(in, "ghcr.io/", 8);
	in[8 + 255] = '\0';
	assert_int_equal(md_ref_parse(&r, in, &err), 0);
	assert_int_equal(strlen(md_ref_path(r)), 255);
	md_ref_free(r);
	/* ...one more is not */
	memset(in, 'a', sizeof(in));
	memcpy(in, "ghcr.io/", 8);
	in[8 + 256] = '\0';
	assert_int_equal(md_ref_parse(&r, in, &err), -1);
	assert_non_null(strstr(err.msg, ": repository path longer than 255 characters"));
	/* on Docker Hub "library/" counts towards the limit */
	memset(in, 'b', sizeof(in));
	in[250] = '\0';
	assert_int_equal(md_ref_parse(&r, in, &err), -1);
	snprintf(msg, sizeof(msg), "repository path longer than 255 characters");
	assert_non_null(strstr(err.msg, msg));
	/* the echoed input is shortened */
	assert_non_null(strstr(err.msg, "bbb...': "));
}

static void test_input_cap(void **state)
{
	char *in = malloc(5000);
	struct md_ref *r = NULL;
	struct md_err err;

	(void)state;
	memset(in, 'a', 4999);
	in[4999] = '\0';
	assert_int_equal(md_ref_parse(&r, in, &err), -1);
	assert_null(r);
	assert_non_null(strstr(err.msg, ": longer than 4096 characters"));
	assert_true(strlen(err.msg) < 200);
	assert_int_equal(md_ref_parse(&r, NULL, &err), -1);
	assert_string_equal(err.msg, "invalid image reference '': empty reference");
	free(in);
}

static void test_tag_length(void **state)
{
	char in[256], tag[200];
	struct md_ref *r = NULL;
	struct md_err err;

	(void)state;
	memset(tag, 'x', sizeof(tag));
	tag[128] = '\0';
	assert_true(md_ref_valid_tag(tag));
	snprintf(in, sizeof(in), "nginx:%s", tag);
	assert_int_equal(md_ref_parse(&r, in, &err), 0);
	assert_string_equal(md_ref_tag(r), tag);
	md_ref_free(r);
	tag[128] = 'x';
	tag[129] = '\0';
	assert_false(md_ref_valid_tag(tag));
	snprintf(in, sizeof(in), "nginx:%s", tag);
	assert_int_equal(md_ref_parse(&r, in, &err), -1);
	assert_non_null(strstr(err.msg, ": invalid tag 'xxx"));
}

static void test_api_host(void **state)
{
	static const struct {
		const char *in, *host;
	} cases[] = {
		{ "nginx", "registry-1.docker.io" },
		{ "index.docker.io/foo/bar", "registry-1.docker.io" },
		{ "docker.io/nginx", "registry-1.docker.io" },
		{ "ghcr.io/a/b", "ghcr.io" },
		{ "localhost:5000/a", "localhost:5000" },
		{ "[::1]:5000/a", "[::1]:5000" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct md_ref *r = NULL;

		assert_int_equal(md_ref_parse(&r, cases[i].in, NULL), 0);
		assert_string_equal(md_ref_api_host(r), cases[i].host);
		md_ref_free(r);
	}
}

static void test_format(void **state)
{
	struct md_ref *r = NULL;
	char *s;

	(void)state;
	assert_int_equal(md_ref_parse(&r, "docker.io/nginx:1.24@" SHA, NULL), 0);
	s = md_ref_format(r, "1.25", NULL);
	assert_string_equal(s, "docker.io/nginx:1.25");
	free(s);
	s = md_ref_format(r, NULL, SHA);
	assert_string_equal(s, "docker.io/nginx@" SHA);
	free(s);
	s = md_ref_format(r, NULL, NULL);
	assert_string_equal(s, "docker.io/nginx");
	free(s);
	s = md_ref_format(r, "1.25", SHA);
	assert_string_equal(s, "docker.io/nginx:1.25@" SHA);
	free(s);
	md_ref_free(r);
	/* the user's spelling stays: no normalisation leaks into the output */
	assert_int_equal(md_ref_parse(&r, "index.docker.io/foo/bar", NULL), 0);
	s = md_ref_format(r, "2", NULL);
	assert_string_equal(s, "index.docker.io/foo/bar:2");
	free(s);
	md_ref_free(r);
}

static void test_validators(void **state)
{
	(void)state;
	assert_true(md_ref_valid_tag("latest"));
	assert_true(md_ref_valid_tag("1.2.3-rc.1"));
	assert_true(md_ref_valid_tag("_private"));
	assert_false(md_ref_valid_tag(""));
	assert_false(md_ref_valid_tag(NULL));
	assert_false(md_ref_valid_tag("-x"));
	assert_false(md_ref_valid_tag("a b"));
	assert_false(md_ref_valid_tag("a:b"));
	assert_true(md_ref_valid_digest(SHA));
	assert_false(md_ref_valid_digest(NULL));
	assert_false(md_ref_valid_digest("sha256:abc"));
	assert_false(md_ref_valid_digest("sha512:" D64 D64));
	assert_false(md_ref_valid_digest(SHA "0"));
	md_ref_free(NULL);
}

/* The cases the former copies disagreed on, one answer each. */
static void test_piece_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < REF_PIECE_CASES; i++) {
		const struct ref_piece_case *c = &ref_piece_cases[i];

		if (md_ref_valid_tag(c->s) != c->tag)
			fail_msg("tag '%s': expected %d", c->s, c->tag);
		if (md_ref_valid_digest(c->s) != c->digest)
			fail_msg("digest '%s': expected %d", c->s, c->digest);
	}
}

/* What util's hashing writes is a digest by the grammar. */
static void test_computed_digest(void **state)
{
	char d[MD_DIGEST_STR_LEN + 1];

	(void)state;
	md_sha256_digest("", 0, d);
	assert_true(md_ref_valid_digest(d));
	assert_false(md_ref_valid_digest("sha256:E3B0"));
	assert_false(md_ref_valid_digest(
		"sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
}

static void test_domains_and_paths(void **state)
{
	static const struct {
		const char *s;
		int ok;
	} domains[] = {
		{ "ghcr.io", 1 },     { "127.0.0.1:5000", 1 }, { "[::1]:5000", 1 },
		{ "localhost", 1 },   { "Docker.IO", 1 },      { "", 0 },
		{ "a/b", 0 },         { "a@b", 0 },
		/* the registry's loose check took these */
		{ "a..b", 0 },        { "-a.io", 0 },          { "a.io:x", 0 },
		{ "[::1", 0 },        { "a.io:", 0 },
	};
	static const char *good_paths[] = { "library/nginx", "a", "a/b/c", "a.b_c__d--e/f-g",
					    "0/1" };
	static const char *bad_paths[] = { "", "A/b", "a//b", "/a", "a/", "a..b", "a___b",
					   "a/../b", "a?b", "a/b#", "-a", "a-" };
	char long_name[300];

	(void)state;
	for (size_t i = 0; i < sizeof(domains) / sizeof(*domains); i++)
		if (md_ref_valid_domain(domains[i].s) != domains[i].ok)
			fail_msg("domain '%s': expected %d", domains[i].s, domains[i].ok);
	for (size_t i = 0; i < sizeof(good_paths) / sizeof(*good_paths); i++)
		assert_true(md_ref_valid_path(good_paths[i]));
	for (size_t i = 0; i < sizeof(bad_paths) / sizeof(*bad_paths); i++)
		assert_false(md_ref_valid_path(bad_paths[i]));
	assert_false(md_ref_valid_domain(NULL));
	assert_false(md_ref_valid_path(NULL));
	/* 255 at most for both (the registry capped domains, ref did not) */
	memset(long_name, 'a', sizeof(long_name));
	long_name[255] = '\0';
	assert_true(md_ref_valid_domain(long_name));
	assert_true(md_ref_valid_path(long_name));
	long_name[255] = 'a';
	long_name[256] = '\0';
	assert_false(md_ref_valid_domain(long_name));
	assert_false(md_ref_valid_path(long_name));
}

static void test_hub(void **state)
{
	static const struct {
		const char *domain, *host;
	} cases[] = {
		{ "docker.io", MD_REF_HUB_API },
		{ "index.docker.io", MD_REF_HUB_API },
		{ "DOCKER.IO", MD_REF_HUB_API }, /* the registry mapped it, ref did not */
		{ "registry-1.docker.io", "registry-1.docker.io" },
		{ "docker.io.example", "docker.io.example" },
		{ "ghcr.io", "ghcr.io" },
	};
	static const struct {
		const char *name;
		size_t len;
	} splits[] = {
		{ "nginx", 0 },      { "foo/bar", 0 },       { "Foo/bar", 3 },
		{ "a.b/x", 3 },      { "a:1/x", 3 },         { "localhost/x", 9 },
		{ "localhost", 0 },  { "localhost:5000", 0 }, { "docker.io/nginx", 9 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		assert_string_equal(md_ref_domain_api_host(cases[i].domain), cases[i].host);
	assert_true(md_ref_is_hub("docker.io/x", 9));
	assert_false(md_ref_is_hub("docker.io", 6));
	for (size_t i = 0; i < sizeof(splits) / sizeof(*splits); i++)
		if (md_ref_domain_len(splits[i].name, strlen(splits[i].name)) != splits[i].len)
			fail_msg("'%s': expected a domain of %zu", splits[i].name, splits[i].len);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_table),  cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_bad_table),   cmocka_unit_test(test_path_length),
		cmocka_unit_test(test_input_cap),   cmocka_unit_test(test_tag_length),
		cmocka_unit_test(test_api_host),    cmocka_unit_test(test_format),
		cmocka_unit_test(test_validators),  cmocka_unit_test(test_piece_table),
		cmocka_unit_test(test_computed_digest), cmocka_unit_test(test_domains_and_paths),
		cmocka_unit_test(test_hub),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

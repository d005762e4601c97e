/* state: load/save round trips, corrupt files set aside, bounds. */
#include "unit.h"
#include "tmpdir.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "magos/state.h"

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

#define assert_ok(call)                                                    \
	do {                                                               \
		if ((call) != 0)                                           \
			fail_msg("%s failed: %s", #call, err.msg);         \
	} while (0)

/* Each test gets a fresh directory; `state` carries its path. */
static int setup(void **state)
{
	*state = tmpdir_new("md-state-test");
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	tmpdir_free(*state);
	return 0;
}

static char *path_in(const char *dir, const char *name)
{
	return md_asprintf("%s/%s", dir, name);
}

static void write_file(const char *dir, const char *name, const char *content)
{
	char *p = path_in(dir, name);
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	free(p);
}

static char *read_file(const char *dir, const char *name)
{
	struct md_err err;
	char *p = path_in(dir, name), *out = NULL;

	if (md_file_read(p, 1 << 24, &out, NULL, &err) < 0)
		out = NULL;
	free(p);
	return out;
}

/* Names in dir other than . and .., sorted by readdir order; count only. */
static int count_entries(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && md_str_has_prefix(e->d_name, prefix))
			n++;
	closedir(d);
	return n;
}

static char *two_platform_names[] = { "linux/amd64", "linux/arm/v7", NULL };
static const struct md_strv two_platforms = { two_platform_names, 2, 0 };

static struct md_state *load_ok(const char *dir, char **warning)
{
	struct md_state *st;
	struct md_err err;

	assert_ok(md_state_load(&st, dir, warning, &err));
	return st;
}

static void test_missing_dir_created_0700(void **state)
{
	char *dir = path_in(*state, "a/b/c");
	struct md_state *st;
	struct stat sb;
	char *w = (char *)1;

	umask(022);
	st = load_ok(dir, &w);
	assert_null(w);
	assert_int_equal(stat(dir, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0700);
	assert_null(md_state_tag_digest(st, "r", "t"));
	assert_int_equal(md_state_last_success(st), 0);
	assert_null(md_state_last_commit(st));
	md_state_free(st);
	free(dir);
}

static void test_missing_file_is_empty(void **state)
{
	struct md_state *st = load_ok(*state, NULL);

	assert_int_equal(md_state_tag_first_seen(st, "ghcr.io/a/b", "1.0"), 0);
	assert_int_equal(count_entries(*state, ""), 0);
	md_state_free(st);
}

static void test_round_trip(void **state)
{
	struct md_state *st = load_ok(*state, NULL);
	struct md_err err;
	char *w = (char *)1;

	assert_int_equal(md_state_tag_seen(st, "ghcr.io/acme/web", "1.4.2", D1, 1000), 0);
	assert_int_equal(md_state_tag_seen(st, "ghcr.io/acme/web", "1.5.0", D2, 2000), 0);
	assert_int_equal(md_state_tag_seen(st, "docker.io/library/nginx", "latest", D2, 1500), 0);
	assert_int_equal(md_state_set_last_cycle(st, 3000, 1, "0123abcd"), 0);
	assert_ok(md_state_save(st, &err));
	md_state_free(st);
	st = load_ok(*state, &w);
	assert_null(w);
	assert_string_equal(md_state_tag_digest(st, "ghcr.io/acme/web", "1.4.2"), D1);
	assert_int_equal(md_state_tag_first_seen(st, "ghcr.io/acme/web", "1.4.2"), 1000);
	assert_string_equal(md_state_tag_digest(st, "ghcr.io/acme/web", "1.5.0"), D2);
	assert_int_equal(md_state_tag_first_seen(st, "docker.io/library/nginx", "latest"), 1500);
	assert_null(md_state_tag_digest(st, "ghcr.io/acme/web", "9.9"));
	assert_null(md_state_tag_digest(st, "ghcr.io/other", "1.4.2"));
	assert_int_equal(md_state_last_success(st), 3000);
	assert_string_equal(md_state_last_commit(st), "0123abcd");
	md_state_free(st);
}

static void test_exact_file_format(void **state)
{
	struct md_state *st = load_ok(*state, NULL);
	struct md_err err;
	char *text;

	assert_int_equal(md_state_tag_seen(st, "r.io/b", "t", D1, 7), 0);
	assert_int_equal(md_state_tag_seen(st, "r.io/a", "t", D2, 8), 0);
	assert_int_equal(md_state_tag_listed(st, "r.io/a", "u", 6), 0);
	assert_int_equal(md_state_set_last_cycle(st, 9, 0, "abcd"), 0);
	assert_int_equal(md_state_digest_facts_put(st, D1, 1700000000, &two_platforms, 5), 0);
	assert_ok(md_state_save(st, &err));
	text = read_file(*state, "state.json");
	assert_string_equal(text,
		"{\"digests\":{\"" D1 "\":{\"created\":1700000000,"
		"\"platforms\":[\"linux/amd64\",\"linux/arm/v7\"],\"stored\":5}},"
		"\"last_cycle\":{\"at\":9,\"commit\":\"abcd\",\"ok\":false},\"last_success\":0,"
		"\"repos\":{"
		"\"r.io/a\":{\"tags\":{\"t\":{\"digest\":\"" D2 "\",\"first_seen\":8},"
		"\"u\":{\"first_seen\":6}}},"
		"\"r.io/b\":{\"tags\":{\"t\":{\"digest\":\"" D1 "\",\"first_seen\":7}}}},"
		"\"version\":1}");
	free(text);
	md_state_free(st);
}

static void test_first_seen_kept_digest_updated(void **state)
{
	struct md_state *st = load_ok(*state, NULL);

	(void)state;
	assert_int_equal(md_state_tag_seen(st, "r/a", "latest", D1, 100), 0);
	assert_int_equal(md_state_tag_seen(st, "r/a", "latest", D1, 200), 0);
	assert_int_equal(md_state_tag_first_seen(st, "r/a", "latest"), 100);
	assert_int_equal(md_state_tag_seen(st, "r/a", "latest", D2, 300), 0);
	assert_string_equal(md_state_tag_digest(st, "r/a", "latest"), D2);
	assert_int_equal(md_state_tag_first_seen(st, "r/a", "latest"), 100);
	md_state_free(st);
}

static void test_tag_seen_rejects_bad_input(void **state)
{
	struct md_state *st = load_ok(*state, NULL);

	assert_int_equal(md_state_tag_seen(st, "r/a", "t", "sha256:abc", 1), -1);
	assert_int_equal(md_state_tag_seen(st, "r/a", "t", NULL, 1), -1);
	assert_int_equal(md_state_tag_seen(st, "", "t", D1, 1), -1);
	assert_int_equal(md_state_tag_seen(st, "r/a", "", D1, 1), -1);
	assert_int_equal(md_state_tag_seen(NULL, "r/a", "t", D1, 1), -1);
	assert_null(md_state_tag_digest(st, "r/a", "t"));
	md_state_free(st);
}

static void expect_set_aside(const char *dir, const char *content, const char *reason)
{
	struct md_state *st;
	char *w = NULL, *p = path_in(dir, "state.json"), *aside;
	char want[1024];

	write_file(dir, "state.json", content);
	st = load_ok(dir, &w);
	assert_non_null(w);
	/* the file is gone from its place, kept next to it, and named twice */
	assert_false(md_path_exists(p));
	assert_int_equal(count_entries(dir, "state.json.corrupt-"), 1);
	snprintf(want, sizeof(want), "state file %s is unusable (", p);
	assert_true(md_str_has_prefix(w, want));
	assert_non_null(strstr(w, reason));
	snprintf(want, sizeof(want), "); moved it to %s.corrupt-", p);
	assert_non_null(strstr(w, want));
	assert_true(md_str_has_suffix(w, " and started with an empty state"));
	aside = strstr(w, "moved it to ") + strlen("moved it to ");
	*strstr(aside, " and started") = '\0';
	assert_true(md_path_exists(aside));
	assert_null(md_state_tag_digest(st, "r/a", "t"));
	assert_int_equal(md_state_last_success(st), 0);
	free(w);
	free(p);
	md_state_free(st);
}

static void test_readonly_writes_nothing(void **state)
{
	const char *dir = *state;
	char *missing = path_in(dir, "not-there");
	struct md_state *st = NULL;
	struct md_err err;
	char *text;

	/* a missing directory is not created */
	assert_int_equal(md_state_load_readonly(&st, missing, &err), 0);
	assert_false(md_path_exists(missing));
	assert_int_equal(md_state_set_last_cycle(st, 5, 1, NULL), 0);
	assert_int_equal(md_state_save(st, &err), -1);
	assert_non_null(strstr(err.msg, "read-only"));
	assert_false(md_path_exists(missing));
	md_state_free(st);
	free(missing);

	/* a corrupt file reads as empty and stays where it is */
	write_file(dir, "state.json", "{broken");
	assert_int_equal(md_state_load_readonly(&st, dir, &err), 0);
	assert_null(md_state_tag_digest(st, "r/x", "1.0"));
	md_state_free(st);
	assert_int_equal(count_entries(dir, "state.json.corrupt-"), 0);
	text = read_file(dir, "state.json");
	assert_string_equal(text, "{broken");
	free(text);
}

static void test_corrupt_json_set_aside(void **state)
{
	char *text;

	expect_set_aside(*state, "{\"version\":1,\"repos\":{", "invalid JSON at line 1");
	/* the original bytes are preserved for a human to inspect */
	assert_int_equal(count_entries(*state, "state.json.corrupt-"), 1);
	{
		DIR *d = opendir(*state);
		struct dirent *e;

		while ((e = readdir(d)))
			if (md_str_has_prefix(e->d_name, "state.json.corrupt-"))
				break;
		assert_non_null(e);
		text = read_file(*state, e->d_name);
		closedir(d);
	}
	assert_string_equal(text, "{\"version\":1,\"repos\":{");
	free(text);
}

static void test_empty_file_set_aside(void **state)
{
	expect_set_aside(*state, "", "invalid JSON");
}

static void test_wrong_version_set_aside(void **state)
{
	expect_set_aside(*state, "{\"version\":2,\"repos\":{}}", "unsupported version (want 1)");
}

static void test_wrong_shape_set_aside(void **state)
{
	expect_set_aside(*state, "{\"version\":1,\"repos\":[]}", "\"repos\" is not an object");
	rm_rf(*state);
	mkdir(*state, 0700);
	expect_set_aside(*state,
		"{\"version\":1,\"repos\":{\"r/a\":{\"tags\":{\"t\":{\"digest\":\"md5:x\","
		"\"first_seen\":1}}}}}", "bad entry for r/a:t");
	rm_rf(*state);
	mkdir(*state, 0700);
	expect_set_aside(*state, "{\"version\":1,\"last_cycle\":{\"at\":\"yesterday\",\"ok\":true}}",
			 "bad \"last_cycle\"");
	rm_rf(*state);
	mkdir(*state, 0700);
	expect_set_aside(*state, "[1,2]", "not a JSON object");
	rm_rf(*state);
	mkdir(*state, 0700);
	expect_set_aside(*state, "{\"version\":1,\"digests\":[]}", "\"digests\" is not an object");
	rm_rf(*state);
	mkdir(*state, 0700);
	expect_set_aside(*state,
		"{\"version\":1,\"digests\":{\"" D1 "\":{\"created\":1,\"platforms\":[3],"
		"\"stored\":1}}}", "bad facts for " D1);
	rm_rf(*state);
	mkdir(*state, 0700);
	expect_set_aside(*state,
		"{\"version\":1,\"digests\":{\"sha256:12\":{\"created\":1,\"platforms\":[],"
		"\"stored\":1}}}", "bad facts for sha256:12");
}

static void test_unreadable_set_aside(void **state)
{
	char *p = path_in(*state, "state.json");

	/* a directory where the file should be cannot be read */
	assert_int_equal(mkdir(p, 0700), 0);
	{
		struct md_state *st;
		char *w = NULL;

		st = load_ok(*state, &w);
		assert_non_null(w);
		assert_non_null(strstr(w, "cannot read"));
		assert_false(md_path_exists(p));
		free(w);
		md_state_free(st);
	}
	free(p);
}

static void test_second_corruption_kept_apart(void **state)
{
	struct md_state *st;
	char *w1 = NULL, *w2 = NULL;

	write_file(*state, "state.json", "garbage 1");
	st = load_ok(*state, &w1);
	md_state_free(st);
	write_file(*state, "state.json", "garbage 2");
	st = load_ok(*state, &w2);
	md_state_free(st);
	assert_non_null(w1);
	assert_non_null(w2);
	assert_string_not_equal(w1, w2);
	assert_int_equal(count_entries(*state, "state.json.corrupt-"), 2);
	free(w1);
	free(w2);
}

static void test_unknown_fields_tolerated(void **state)
{
	struct md_state *st;
	char *w = NULL;

	write_file(*state, "state.json",
		   "{\"version\":1,\"future\":{\"x\":1},\"repos\":{\"r/a\":{\"tags\":{\"t\":"
		   "{\"digest\":\"" D1 "\",\"first_seen\":5,\"extra\":true}}}},\"last_success\":4}");
	st = load_ok(*state, &w);
	assert_null(w);
	assert_string_equal(md_state_tag_digest(st, "r/a", "t"), D1);
	assert_int_equal(md_state_last_success(st), 4);
	assert_null(md_state_last_commit(st));
	md_state_free(st);
}

static void test_atomic_save_no_temp_files(void **state)
{
	struct md_state *st = load_ok(*state, NULL);
	struct md_err err;
	struct stat sb;
	char *p = path_in(*state, "state.json");

	for (int i = 0; i < 3; i++) {
		assert_int_equal(md_state_tag_seen(st, "r/a", "t", i % 2 ? D1 : D2, i), 0);
		assert_ok(md_state_save(st, &err));
	}
	assert_int_equal(count_entries(*state, ""), 1);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	free(p);
	md_state_free(st);
}

static void test_save_error_names_file(void **state)
{
	char *dir = path_in(*state, "gone");
	struct md_state *st = load_ok(dir, NULL);
	struct md_err err;

	rm_rf(dir);
	assert_int_equal(md_state_save(st, &err), -1);
	assert_non_null(strstr(err.msg, dir));
	assert_non_null(strstr(err.msg, "state.json"));
	md_state_free(st);
	free(dir);
}

static void test_last_cycle(void **state)
{
	struct md_state *st = load_ok(*state, NULL);

	assert_int_equal(md_state_set_last_cycle(st, 100, 1, "abcdef0"), 0);
	assert_int_equal(md_state_last_success(st), 100);
	/* a failed cycle keeps the last success; no commit keeps the last one */
	assert_int_equal(md_state_set_last_cycle(st, 200, 0, NULL), 0);
	assert_int_equal(md_state_last_success(st), 100);
	assert_string_equal(md_state_last_commit(st), "abcdef0");
	assert_int_equal(md_state_set_last_cycle(st, 300, 1, "1234567"), 0);
	assert_int_equal(md_state_last_success(st), 300);
	assert_string_equal(md_state_last_commit(st), "1234567");
	assert_int_equal(md_state_set_last_cycle(st, 400, 1, "not hex!"), -1);
	assert_string_equal(md_state_last_commit(st), "1234567");
	md_state_free(st);
	md_state_free(NULL);
	assert_int_equal(md_state_last_success(NULL), 0);
	assert_null(md_state_last_commit(NULL));
	assert_null(md_state_tag_digest(NULL, "r", "t"));
}

static void test_bound_tags_per_repo(void **state)
{
	struct md_state *st = load_ok(*state, NULL);
	struct md_err err;
	char tag[32];

	for (int i = 0; i < 10100; i++) {
		snprintf(tag, sizeof(tag), "t%05d", i);
		assert_int_equal(md_state_tag_seen(st, "r/big", tag, D1, 1000 + i), 0);
	}
	assert_int_equal(md_state_tag_seen(st, "r/small", "x", D1, 1), 0);
	assert_ok(md_state_save(st, &err));
	md_state_free(st);
	st = load_ok(*state, NULL);
	/* the 100 oldest went; the newest and the other repository stayed */
	assert_int_equal(md_state_tag_first_seen(st, "r/big", "t00000"), 0);
	assert_int_equal(md_state_tag_first_seen(st, "r/big", "t00099"), 0);
	assert_int_equal(md_state_tag_first_seen(st, "r/big", "t00100"), 1100);
	assert_int_equal(md_state_tag_first_seen(st, "r/big", "t10099"), 11099);
	assert_int_equal(md_state_tag_first_seen(st, "r/small", "x"), 1);
	md_state_free(st);
}

static void test_bound_tags_amortised(void **state)
{
	struct md_state *st = load_ok(*state, NULL);
	char tag[32];

	/* past 10000 + 25 % slack, tag_seen itself prunes back to 10000 */
	for (int i = 0; i < 12501; i++) {
		snprintf(tag, sizeof(tag), "t%05d", i);
		assert_int_equal(md_state_tag_seen(st, "r/big", tag, D2, i + 1), 0);
	}
	assert_int_equal(md_state_tag_first_seen(st, "r/big", "t02500"), 0);
	assert_int_equal(md_state_tag_first_seen(st, "r/big", "t02501"), 2502);
	assert_string_equal(md_state_tag_digest(st, "r/big", "t12500"), D2);
	md_state_free(st);
}

static void test_bound_repos(void **state)
{
	struct md_state *st = load_ok(*state, NULL);
	struct md_err err;
	char repo[32];

	/* repository i last showed a new tag at time 10 + i; repo 0 is busy */
	for (int i = 0; i < 2005; i++) {
		snprintf(repo, sizeof(repo), "r/%04d", i);
		assert_int_equal(md_state_tag_seen(st, repo, "t", D1, 10 + i), 0);
	}
	assert_int_equal(md_state_tag_seen(st, "r/0000", "new", D1, 99999), 0);
	assert_ok(md_state_save(st, &err));
	md_state_free(st);
	st = load_ok(*state, NULL);
	assert_int_equal(md_state_tag_first_seen(st, "r/0000", "t"), 10);
	assert_int_equal(md_state_tag_first_seen(st, "r/0001", "t"), 0);
	assert_int_equal(md_state_tag_first_seen(st, "r/0005", "t"), 0);
	assert_int_equal(md_state_tag_first_seen(st, "r/0006", "t"), 16);
	assert_int_equal(md_state_tag_first_seen(st, "r/2004", "t"), 2014);
	md_state_free(st);
}

/* ---- tags listed without a digest ------------------------------------------ */

static void test_tag_listed(void **state)
{
	struct md_state *st = load_ok(*state, NULL);
	struct md_err err;

	assert_int_equal(md_state_tag_listed(st, "r/a", "1.0", 100), 0);
	assert_int_equal(md_state_tag_listed(st, "r/a", "1.0", 200), 0);
	assert_int_equal(md_state_tag_first_seen(st, "r/a", "1.0"), 100);
	assert_null(md_state_tag_digest(st, "r/a", "1.0"));
	/* resolving it later keeps the first sight */
	assert_int_equal(md_state_tag_seen(st, "r/a", "1.0", D1, 300), 0);
	assert_int_equal(md_state_tag_first_seen(st, "r/a", "1.0"), 100);
	assert_string_equal(md_state_tag_digest(st, "r/a", "1.0"), D1);
	assert_int_equal(md_state_tag_listed(st, "r/a", "1.1", 400), 0);
	assert_int_equal(md_state_tag_listed(st, "", "1.1", 400), -1);
	assert_int_equal(md_state_tag_listed(st, "r/a", "", 400), -1);
	assert_int_equal(md_state_tag_listed(NULL, "r/a", "x", 400), -1);
	assert_ok(md_state_save(st, &err));
	md_state_free(st);
	st = load_ok(*state, NULL);
	assert_int_equal(md_state_tag_first_seen(st, "r/a", "1.0"), 100);
	assert_int_equal(md_state_tag_first_seen(st, "r/a", "1.1"), 400);
	assert_null(md_state_tag_digest(st, "r/a", "1.1"));
	md_state_free(st);
}

/* A clock before 1970 (found by fuzz_state): first_seen is kept at 0, so
 * the file saved loads again instead of being set aside as corrupt. */
static void test_negative_clock_saves_loadable_file(void **state)
{
	struct md_state *st = load_ok(*state, NULL);
	struct md_err err;
	char *w = NULL;

	assert_int_equal(md_state_tag_listed(st, "r/a", "1.0", -4), 0);
	assert_int_equal(md_state_tag_seen(st, "r/a", "2.0", D1, -5), 0);
	assert_int_equal(md_state_tag_first_seen(st, "r/a", "1.0"), 0);
	assert_int_equal(md_state_tag_first_seen(st, "r/a", "2.0"), 0);
	assert_ok(md_state_save(st, &err));
	md_state_free(st);
	st = load_ok(*state, &w);
	assert_null(w);
	assert_string_equal(md_state_tag_digest(st, "r/a", "2.0"), D1);
	assert_int_equal(md_state_tag_first_seen(st, "r/a", "1.0"), 0);
	md_state_free(st);
}

/* ---- digest facts ------------------------------------------------------------ */

static void test_digest_facts_round_trip(void **state)
{
	struct md_state *st = load_ok(*state, NULL);
	struct md_strv pl = { 0 };
	struct md_err err;
	int64_t created = -1;

	assert_int_equal(md_state_digest_facts_get(st, D1, &created, &pl), 0);
	assert_int_equal(created, -1);
	assert_int_equal(md_state_digest_facts_put(st, D1, 1700000000, &two_platforms, 10), 0);
	/* no platforms and no created time are facts too */
	assert_int_equal(md_state_digest_facts_put(st, D2, 0, NULL, 11), 0);
	assert_ok(md_state_save(st, &err));
	md_state_free(st);
	st = load_ok(*state, NULL);
	assert_int_equal(md_state_digest_facts_get(st, D1, &created, &pl), 1);
	assert_int_equal(created, 1700000000);
	assert_int_equal(pl.n, 2);
	assert_string_equal(pl.v[0], "linux/amd64");
	assert_string_equal(pl.v[1], "linux/arm/v7");
	md_strv_clear(&pl);
	assert_int_equal(md_state_digest_facts_get(st, D2, &created, &pl), 1);
	assert_int_equal(created, 0);
	assert_int_equal(pl.n, 0);
	/* replacing overwrites */
	assert_int_equal(md_state_digest_facts_put(st, D2, 5, &two_platforms, 12), 0);
	assert_int_equal(md_state_digest_facts_get(st, D2, &created, &pl), 1);
	assert_int_equal(created, 5);
	assert_int_equal(pl.n, 2);
	md_strv_clear(&pl);
	assert_int_equal(md_state_digest_facts_get(st, NULL, &created, &pl), 0);
	assert_int_equal(md_state_digest_facts_get(NULL, D1, &created, &pl), 0);
	md_state_free(st);
}

/* A digest verified by fetching its manifest, facts not asked for: a
 * {"stored"} entry that facts_get does not take for facts. */
static void test_digest_verified(void **state)
{
	struct md_state *st = load_ok(*state, NULL);
	struct md_strv pl = { 0 };
	struct md_err err;
	int64_t created = -1;
	char *text;

	assert_int_equal(md_state_digest_verified(st, D1), 0);
	assert_int_equal(md_state_digest_verified_put(st, D1, 3), 0);
	assert_int_equal(md_state_digest_verified(st, D1), 1);
	assert_int_equal(md_state_digest_facts_get(st, D1, &created, &pl), 0);
	assert_int_equal(created, -1);
	/* stored facts are verified too (they were fetched by digest) */
	assert_int_equal(md_state_digest_facts_put(st, D2, 7, &two_platforms, 4), 0);
	assert_int_equal(md_state_digest_verified(st, D2), 1);
	/* marking it verified again keeps its facts */
	assert_int_equal(md_state_digest_verified_put(st, D2, 5), 0);
	assert_ok(md_state_save(st, &err));
	text = read_file(*state, "state.json");
	assert_non_null(strstr(text, "\"" D1 "\":{\"stored\":3}"));
	assert_non_null(strstr(text, "\"" D2 "\":{\"created\":7,"));
	free(text);
	md_state_free(st);
	st = load_ok(*state, NULL);
	assert_int_equal(md_state_digest_verified(st, D1), 1);
	assert_int_equal(md_state_digest_facts_get(st, D1, &created, &pl), 0);
	assert_int_equal(md_state_digest_facts_get(st, D2, &created, &pl), 1);
	assert_int_equal(created, 7);
	md_strv_clear(&pl);
	/* facts learnt later replace the bare entry */
	assert_int_equal(md_state_digest_facts_put(st, D1, 9, NULL, 6), 0);
	assert_int_equal(md_state_digest_facts_get(st, D1, &created, &pl), 1);
	assert_int_equal(created, 9);
	assert_int_equal(md_state_digest_verified_put(st, "sha256:abc", 1), -1);
	assert_int_equal(md_state_digest_verified_put(st, NULL, 1), -1);
	assert_int_equal(md_state_digest_verified_put(NULL, D1, 1), -1);
	assert_int_equal(md_state_digest_verified(NULL, D1), 0);
	assert_int_equal(md_state_digest_verified(st, NULL), 0);
	md_state_free(st);
	/* half a facts entry is no entry */
	rm_rf(*state);
	mkdir(*state, 0700);
	expect_set_aside(*state,
		"{\"version\":1,\"digests\":{\"" D1 "\":{\"created\":1,\"stored\":1}}}",
		"bad facts for " D1);
}

static void test_digest_facts_rejects_bad_input(void **state)
{
	struct md_state *st = load_ok(*state, NULL);
	char *bad[] = { "linux/amd64", "", NULL };
	struct md_strv empty_name = { bad, 2, 0 }, many = { 0 };
	struct md_strv pl = { 0 };
	char name[32];
	int64_t created;

	assert_int_equal(md_state_digest_facts_put(st, "sha256:abc", 1, NULL, 1), -1);
	assert_int_equal(md_state_digest_facts_put(st, NULL, 1, NULL, 1), -1);
	assert_int_equal(md_state_digest_facts_put(NULL, D1, 1, NULL, 1), -1);
	assert_int_equal(md_state_digest_facts_put(st, D1, 1, &empty_name, 1), -1);
	for (int i = 0; i <= MD_STATE_MAX_PLATFORMS; i++) {
		snprintf(name, sizeof(name), "linux/arch%d", i);
		md_strv_push(&many, name);
	}
	assert_int_equal(md_state_digest_facts_put(st, D1, 1, &many, 1), -1);
	assert_int_equal(md_state_digest_facts_get(st, D1, &created, &pl), 0);
	/* a negative time is stored as unknown */
	assert_int_equal(md_state_digest_facts_put(st, D1, -5, NULL, 1), 0);
	assert_int_equal(md_state_digest_facts_get(st, D1, &created, &pl), 1);
	assert_int_equal(created, 0);
	md_strv_clear(&many);
	md_state_free(st);
}

static void digest_n(char *out, int i)
{
	snprintf(out, MD_DIGEST_STR_LEN + 1, "sha256:%064x", i);
}

static void test_digest_facts_bounded(void **state)
{
	struct md_state *st = load_ok(*state, NULL);
	struct md_strv pl = { 0 };
	char dg[MD_DIGEST_STR_LEN + 1];
	struct md_err err;
	int64_t created;

	/* past 20000 + 25 % slack, put prunes back to 20000, oldest stored first */
	for (int i = 0; i <= MD_STATE_MAX_DIGESTS + MD_STATE_MAX_DIGESTS / 4; i++) {
		digest_n(dg, i);
		assert_int_equal(md_state_digest_facts_put(st, dg, i, NULL, 1000 + i), 0);
	}
	digest_n(dg, 5000);
	assert_int_equal(md_state_digest_facts_get(st, dg, &created, &pl), 0);
	digest_n(dg, 5001);
	assert_int_equal(md_state_digest_facts_get(st, dg, &created, &pl), 1);
	assert_int_equal(created, 5001);
	/* save keeps exactly the newest 20000 */
	for (int i = 0; i < 10; i++) {
		digest_n(dg, 100000 + i);
		assert_int_equal(md_state_digest_facts_put(st, dg, 1, NULL, 999999), 0);
	}
	assert_ok(md_state_save(st, &err));
	md_state_free(st);
	st = load_ok(*state, NULL);
	digest_n(dg, 5010);
	assert_int_equal(md_state_digest_facts_get(st, dg, &created, &pl), 0);
	digest_n(dg, 5011);
	assert_int_equal(md_state_digest_facts_get(st, dg, &created, &pl), 1);
	digest_n(dg, 100009);
	assert_int_equal(md_state_digest_facts_get(st, dg, &created, &pl), 1);
	md_state_free(st);
}

/* ---- tag list fingerprints --------------------------------------------------- */

static char *list_ab[] = { "1.0", "1.1", NULL };
static char *list_ba[] = { "1.1", "1.0", NULL };
static char *list_abc[] = { "1.0", "1.1", "1.2", NULL };

static void test_tag_list_unchanged_keeps_digests(void **state)
{
	const struct md_strv ab = { list_ab, 2, 0 }, ba = { list_ba, 2, 0 };
	struct md_state *st = load_ok(*state, NULL);
	struct md_err err;
	char *text;

	/* never seen: changed */
	assert_int_equal(md_state_tag_list_seen(st, "r/a", &ab), 0);
	assert_int_equal(md_state_tag_seen(st, "r/a", "1.1", D1, 10), 0);
	/* the same list in another order is the same list */
	assert_int_equal(md_state_tag_list_seen(st, "r/a", &ba), 1);
	assert_string_equal(md_state_tag_digest(st, "r/a", "1.1"), D1);
	assert_ok(md_state_save(st, &err));
	text = read_file(*state, "state.json");
	/* sha256 of "1.0\n1.1\n" */
	assert_non_null(strstr(text, "\"r/a\":{\"list\":\"sha256:"
				     "f12ba77040b7d7de2c79bd7f6ba7f750840d2230a919058cf0e3de1cb0faa319"
				     "\""));
	free(text);
	md_state_free(st);
	/* and it survives a restart */
	st = load_ok(*state, NULL);
	assert_int_equal(md_state_tag_list_seen(st, "r/a", &ab), 1);
	assert_string_equal(md_state_tag_digest(st, "r/a", "1.1"), D1);
	md_state_free(st);
}

static void test_tag_list_changed_forgets_digests(void **state)
{
	const struct md_strv ab = { list_ab, 2, 0 }, abc = { list_abc, 3, 0 };
	const struct md_strv none = { NULL, 0, 0 };
	struct md_state *st = load_ok(*state, NULL);

	assert_int_equal(md_state_tag_list_seen(st, "r/a", &ab), 0);
	assert_int_equal(md_state_tag_seen(st, "r/a", "1.0", D1, 10), 0);
	assert_int_equal(md_state_tag_seen(st, "r/a", "1.1", D2, 11), 0);
	assert_int_equal(md_state_tag_seen(st, "r/b", "1.1", D2, 11), 0);
	/* a new tag: every digest of r/a is forgotten, first sights stay */
	assert_int_equal(md_state_tag_list_seen(st, "r/a", &abc), 0);
	assert_null(md_state_tag_digest(st, "r/a", "1.0"));
	assert_null(md_state_tag_digest(st, "r/a", "1.1"));
	assert_int_equal(md_state_tag_first_seen(st, "r/a", "1.1"), 11);
	/* other repositories are untouched */
	assert_string_equal(md_state_tag_digest(st, "r/b", "1.1"), D2);
	/* back to the old list is a change too (a tag may have moved meanwhile) */
	assert_int_equal(md_state_tag_seen(st, "r/a", "1.1", D1, 12), 0);
	assert_int_equal(md_state_tag_list_seen(st, "r/a", &ab), 0);
	assert_null(md_state_tag_digest(st, "r/a", "1.1"));
	/* an empty list has a fingerprint like any other */
	assert_int_equal(md_state_tag_list_seen(st, "r/a", &none), 0);
	assert_int_equal(md_state_tag_list_seen(st, "r/a", &none), 1);
	assert_int_equal(md_state_tag_list_seen(st, "", &ab), -1);
	assert_int_equal(md_state_tag_list_seen(NULL, "r/a", &ab), -1);
	assert_int_equal(md_state_tag_list_seen(st, "r/a", NULL), -1);
	md_state_free(st);
}

static void test_tag_list_wiped_state_trusts_nothing(void **state)
{
	const struct md_strv ab = { list_ab, 2, 0 };
	struct md_state *st = load_ok(*state, NULL);
	struct md_err err;

	/* a state from before fingerprints: digests, no "list" */
	assert_int_equal(md_state_tag_seen(st, "r/a", "1.1", D1, 10), 0);
	assert_int_equal(md_state_tag_list_seen(st, "r/a", &ab), 0);
	assert_null(md_state_tag_digest(st, "r/a", "1.1"));
	md_state_free(st);
	/* a bad fingerprint makes the file unusable, like any bad shape */
	write_file(*state, "state.json",
		   "{\"version\":1,\"repos\":{\"r/a\":{\"list\":\"x\",\"tags\":{}}}}");
	st = load_ok(*state, NULL);
	assert_int_equal(md_state_tag_list_seen(st, "r/a", &ab), 0);
	assert_ok(md_state_save(st, &err));
	md_state_free(st);
	assert_int_equal(count_entries(*state, "state.json.corrupt-"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_missing_dir_created_0700, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_file_is_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly_writes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exact_file_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_seen_kept_digest_updated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tag_seen_rejects_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_json_set_aside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_file_set_aside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_version_set_aside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_shape_set_aside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_set_aside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_corruption_kept_apart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_fields_tolerated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_atomic_save_no_temp_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_error_names_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_last_cycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_tags_per_repo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_tags_amortised, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_repos, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tag_listed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_negative_clock_saves_loadable_file, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_digest_facts_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_digest_verified, setup, teardown),
		cmocka_unit_test_setup_teardown(test_digest_facts_rejects_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_digest_facts_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tag_list_unchanged_keeps_digests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tag_list_changed_forgets_digests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tag_list_wiped_state_trusts_nothing, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

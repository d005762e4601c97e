/* compose: site scan (libyaml marks) and byte-exact patching. */
#include "unit.h"

#include "magos/compose.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIXDIR "tests/fixtures/compose/"
#define SHA(c) "sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
	c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c

/* ---- helpers ------------------------------------------------------------ */

static struct md_compose_file *scan_str(const char *name, const char *yaml)
{
	struct md_compose_file *f = NULL;
	struct md_err err;

	assert_int_equal(md_compose_scan(&f, name, yaml, strlen(yaml), &err), 0);
	assert_non_null(f);
	return f;
}

static char *read_fixture(const char *file, size_t *len)
{
	char path[256];
	char *data = NULL;
	struct md_err err;

	snprintf(path, sizeof(path), FIXDIR "%s", file);
	if (md_file_read(path, MD_COMPOSE_MAX_FILE, &data, len, &err) < 0)
		fail_msg("%s", err.msg);
	return data;
}

/* Patch one site and return the new content (test fails on error). */
static char *patch1(const struct md_compose_file *f, size_t site, const char *value)
{
	struct md_compose_edit e = { site, value };
	struct md_err err;
	char *out = NULL;
	size_t len;

	if (md_compose_patch(&out, &len, f, &e, 1, &err) < 0)
		fail_msg("patch failed: %s", err.msg);
	assert_int_equal(strlen(out), len);
	return out;
}

/* Patch one site expecting failure; returns the error text. */
static const char *patch1_err(const struct md_compose_file *f, size_t site, const char *value,
			      struct md_err *err)
{
	struct md_compose_edit e = { site, value };
	char *out = (char *)&e; /* must be reset to NULL on failure */
	size_t len = 7;

	assert_int_equal(md_compose_patch(&out, &len, f, &e, 1, err), -1);
	assert_null(out);
	assert_int_equal(len, 0);
	return err->msg;
}

/* ---- fixtures: input + exact expected output ---------------------------- */

struct fx_edit {
	size_t site;
	const char *old;     /* the site's value before */
	const char *service; /* NULL for none */
	int line;
	const char *new_value;
};

struct fx {
	const char *name;
	size_t nsites;
	size_t nedits;
	struct fx_edit e[6];
};

static void check_fixture(const struct fx *t)
{
	char in_name[128], exp_name[128];
	char *in, *exp, *out = NULL;
	size_t in_len, exp_len, out_len;
	struct md_compose_file *f = NULL, *g = NULL;
	struct md_compose_edit edits[6];
	struct md_err err;

	snprintf(in_name, sizeof(in_name), "%s.yaml", t->name);
	snprintf(exp_name, sizeof(exp_name), "%s.expected.yaml", t->name);
	in = read_fixture(in_name, &in_len);
	exp = read_fixture(exp_name, &exp_len);
	assert_int_equal(md_compose_scan(&f, in_name, in, in_len, &err), 0);
	assert_string_equal(md_compose_name(f), in_name);
	for (size_t i = 0; i < md_compose_problem_count(f); i++)
		print_error("unexpected problem: %s\n", md_compose_problem_at(f, i));
	assert_int_equal(md_compose_problem_count(f), 0);
	assert_int_equal(md_compose_site_count(f), t->nsites);
	for (size_t i = 0; i < t->nedits; i++) {
		const struct md_compose_site *s = md_compose_site_at(f, t->e[i].site);

		assert_non_null(s);
		assert_string_equal(s->value, t->e[i].old);
		assert_int_equal(s->line, t->e[i].line);
		if (t->e[i].service)
			assert_string_equal(s->service, t->e[i].service);
		else
			assert_null(s->service);
		assert_true(md_str_has_prefix(s->annotation, "{\"magos\""));
		/* the byte range is exactly the value (no quotes to unescape here) */
		assert_int_equal(s->end - s->start, strlen(s->value));
		assert_memory_equal(in + s->start, s->value, s->end - s->start);
		edits[i].site = t->e[i].site;
		edits[i].new_value = t->e[i].new_value;
	}
	if (md_compose_patch(&out, &out_len, f, edits, t->nedits, &err) < 0)
		fail_msg("%s: %s", t->name, err.msg);
	assert_int_equal(out_len, exp_len);
	assert_memory_equal(out, exp, exp_len);
	/* The result scans to the same sites, now carrying the new values. */
	assert_int_equal(md_compose_scan(&g, in_name, out, out_len, &err), 0);
	assert_int_equal(md_compose_site_count(g), t->nsites);
	assert_int_equal(md_compose_problem_count(g), 0);
	for (size_t i = 0; i < t->nedits; i++)
		assert_string_equal(md_compose_site_at(g, t->e[i].site)->value, t->e[i].new_value);
	md_compose_free(g);
	md_compose_free(f);
	free(out);
	free(in);
	free(exp);
}

static void test_fixture_comments(void **state)
{
	static const struct fx t = {
		"comments", 4, 4,
		{ { 0, "nginx:1.25.3", "web", 8, "nginx:1.25.4@" SHA("a") },
		  { 1, "ghcr.io/acme/worker:2.1.0", "worker", 18, "ghcr.io/acme/worker:2.2.0" },
		  { 2, "traefik:v3.0", "proxy", 21, "traefik:v3.1.2" },
		  { 3, "busybox:1.36", "late", 32, "busybox:1.36.1" } }
	};
	(void)state;
	check_fixture(&t);
}

static void test_fixture_quoting(void **state)
{
	static const struct fx t = {
		"quoting", 5, 5,
		{ { 0, "docker.io/library/nginx:1.25", "plain", 3, "docker.io/library/nginx:1.27.0" },
		  { 1, "ghcr.io/acme/api:0.9.1", "single", 5, "ghcr.io/acme/api:1.0.0" },
		  { 2, "quay.io/acme/db:15.4", "double", 7, "quay.io/acme/db:16.1@" SHA("b") },
		  { 3, "registry.example.com:5000/tools/cli:1.0", "quoted-key", 9,
		    "registry.example.com:5000/tools/cli:1.1" },
		  { 4, "lscr.io/linuxserver/sonarr:4.0.0", "spaced", 11,
		    "lscr.io/linuxserver/sonarr:4.0.5" } }
	};
	(void)state;
	check_fixture(&t);
}

static void test_fixture_anchors(void **state)
{
	/* the alias under app-worker is not a site; the anchored and tagged
	 * values give their own bytes, not the anchor's or the tag's */
	static const struct fx t = {
		"anchors", 3, 3,
		{ { 0, "ghcr.io/acme/app:1.2.3", "x-app", 10, "ghcr.io/acme/app:1.3.0" },
		  { 1, "ghcr.io/acme/sidecar:0.4.0", "sidecar", 25, "ghcr.io/acme/sidecar:0.5.0" },
		  { 2, "ghcr.io/acme/tagged:3.0.0", "tagged", 28, "ghcr.io/acme/tagged:3.1.0" } }
	};
	(void)state;
	check_fixture(&t);
}

static void test_fixture_multidoc(void **state)
{
	static const struct fx t = {
		"multidoc", 3, 2,
		{ { 0, "alpine:3.18", "one", 5, "alpine:3.19" },
		  { 2, "alpine:3.16", "three", 16, "alpine:3.20" } }
	};
	(void)state;
	check_fixture(&t);
}

static void test_fixture_crlf(void **state)
{
	static const struct fx t = {
		"crlf", 2, 2,
		{ { 0, "nginx:1.25", "web", 3, "nginx:1.27" },
		  { 1, "postgres:15", "db", 9, "postgres:16.3" } }
	};
	(void)state;
	check_fixture(&t);
}

static void test_fixture_flow(void **state)
{
	static const struct fx t = {
		"flow", 6, 6,
		{ { 0, "nginx:1.25", "web", 2, "nginx:1.27" },
		  { 1, "ghcr.io/acme/api:1.0", "api", 3, "ghcr.io/acme/api:1.1" },
		  { 2, "postgres:15", "db", 4, "postgres:16" },
		  { 3, "redis:7", NULL, 5, "redis:7.2" },
		  { 4, "memcached:1.6", NULL, 5, "memcached:1.6.21" },
		  { 5, "caddy:2.7", "nested", 6, "caddy:2.8" } }
	};
	(void)state;
	check_fixture(&t);
}

static void test_fixture_nonewline(void **state)
{
	static const struct fx t = {
		"nonewline", 2, 2,
		{ { 1, "postgres:15", "db", 5, "postgres:16" },
		  { 0, "nginx:1.25", "web", 3, "nginx:1.27" } }
	};
	(void)state;
	check_fixture(&t);
}

static void test_fixture_utf8(void **state)
{
	static const struct fx t = {
		"utf8", 3, 3,
		{ { 0, "ghcr.io/acme/cafe-app:1.0", "café", 5, "ghcr.io/acme/cafe-app:1.1" },
		  { 1, "nginx:1.25", "web", 8, "nginx:1.27" },
		  { 2, "jellyfin/jellyfin:10.8.13", "media", 10, "jellyfin/jellyfin:10.9.0" } }
	};
	(void)state;
	check_fixture(&t);
}

static void test_fixture_bom(void **state)
{
	static const struct fx t = {
		"bom", 1, 1, { { 0, "ghcr.io/acme/app:1.0.0", "app", 4, "ghcr.io/acme/app:1.1.0" } }
	};
	(void)state;
	check_fixture(&t);
}

static void test_fixture_homelab(void **state)
{
	/* edits deliberately out of order */
	static const struct fx t = {
		"homelab", 13, 5,
		{ { 12, "ghcr.io/acme/restic-backup:0.16.4@" SHA("3"), "backup", 159,
		    "ghcr.io/acme/restic-backup:0.16.4@" SHA("6") },
		  { 0, "docker.io/library/traefik:v3.0.4@" SHA("1"), "traefik", 21,
		    "docker.io/library/traefik:v3.1.0@" SHA("4") },
		  { 4, "docker.io/library/redis:7.2.5", "redis", 84,
		    "docker.io/library/redis:7.2.6" },
		  { 11, "quay.io/prometheus/node-exporter:latest@" SHA("2"), "node-exporter", 146,
		    "quay.io/prometheus/node-exporter:latest@" SHA("5") },
		  { 2, "docker.io/library/nextcloud:28.0.6-apache", "nextcloud", 51,
		    "docker.io/library/nextcloud:29.0.3-apache" } }
	};
	(void)state;
	check_fixture(&t);
}

/* ---- scanning ----------------------------------------------------------- */

static void test_site_fields(void **state)
{
	const char *y = "services:\n"
			"  web:\n"
			"    image: nginx:1.25 # {\"magos\": {\"policy\": \"semver\"}}\n"
			"  db:\n"
			"    image:  'postgres:16'  #   {\"magos\": {}}   \n"
			"  app:\n"
			"    image: \"ghcr.io/a/b:1\" #{\"magos\":1}\n";
	struct md_compose_file *f = scan_str("s.yaml", y);
	const struct md_compose_site *s;

	(void)state;
	assert_int_equal(md_compose_site_count(f), 3);
	s = md_compose_site_at(f, 0);
	assert_int_equal(s->line, 3);
	assert_int_equal(s->column, 12);
	assert_int_equal(s->start, (size_t)(strstr(y, "nginx") - y));
	assert_int_equal(s->end, s->start + strlen("nginx:1.25"));
	assert_int_equal(s->quote, 0);
	assert_string_equal(s->value, "nginx:1.25");
	assert_string_equal(s->annotation, "{\"magos\": {\"policy\": \"semver\"}}");
	assert_string_equal(s->service, "web");
	s = md_compose_site_at(f, 1);
	assert_int_equal(s->line, 5);
	assert_int_equal(s->column, 14);
	assert_int_equal(s->quote, '\'');
	assert_int_equal(s->start, (size_t)(strstr(y, "postgres") - y));
	assert_int_equal(s->end - s->start, strlen("postgres:16"));
	assert_string_equal(s->annotation, "{\"magos\": {}}");
	s = md_compose_site_at(f, 2);
	assert_int_equal(s->quote, '"');
	assert_string_equal(s->value, "ghcr.io/a/b:1");
	assert_string_equal(s->annotation, "{\"magos\":1}");
	assert_string_equal(s->service, "app");
	assert_null(md_compose_site_at(f, 3));
	assert_null(md_compose_problem_at(f, 0));
	md_compose_free(f);
}

static void test_annotation_tabs_and_trim(void **state)
{
	struct md_compose_file *f =
		scan_str("t.yaml", "a:\n  image: x:1\t#\t {\"magos\": {\"p\": 1}} \t\r\n");

	(void)state;
	assert_int_equal(md_compose_site_count(f), 1);
	assert_string_equal(md_compose_site_at(f, 0)->annotation, "{\"magos\": {\"p\": 1}}");
	md_compose_free(f);
}

static void test_other_comments_ignored(void **state)
{
	const char *y = "# {\"magos\": {}} above the line is not an annotation\n"
			"a:\n"
			"  image: x:1\n"
			"b:\n"
			"  image: x:2 # { \"magos\": {}} (space after the brace)\n"
			"c:\n"
			"  image: x:3 # note {\"magos\": {}}\n"
			"d:\n"
			"  image: x:4#{\"magos\":1}\n"
			"e:\n"
			"  image: x:5 # first # {\"magos\": {}}\n"
			"f:\n"
			"  image: \"x:6 # {\\\"magos\\\": {}}\"\n";
	struct md_compose_file *f = scan_str("o.yaml", y);

	(void)state;
	assert_int_equal(md_compose_site_count(f), 0);
	assert_int_equal(md_compose_problem_count(f), 0);
	md_compose_free(f);
}

static void test_malformed_annotation_passes_through(void **state)
{
	struct md_compose_file *f =
		scan_str("m.yaml", "svc:\n  image: x:1 # {\"magos\": {policy: semver\n");

	(void)state;
	assert_int_equal(md_compose_problem_count(f), 0);
	assert_int_equal(md_compose_site_count(f), 1);
	assert_string_equal(md_compose_site_at(f, 0)->annotation, "{\"magos\": {policy: semver");
	md_compose_free(f);
}

static void test_service_and_keys(void **state)
{
	const char *y = "image: top:1 # {\"magos\": 1}\n"
			"list:\n"
			"  - image: item:1 # {\"magos\": 2}\n"
			"deep: {a: {b: {image: d:1}}} # {\"magos\": 3}\n"
			"svc:\n"
			"  images: no:1 # {\"magos\": 4}\n"
			"  container_image: no:2 # {\"magos\": 5}\n"
			"  \"image\": yes:1 # {\"magos\": 6}\n";
	struct md_compose_file *f = scan_str("k.yaml", y);

	(void)state;
	assert_int_equal(md_compose_site_count(f), 4);
	assert_string_equal(md_compose_site_at(f, 0)->value, "top:1");
	assert_null(md_compose_site_at(f, 0)->service);
	assert_string_equal(md_compose_site_at(f, 1)->value, "item:1");
	assert_null(md_compose_site_at(f, 1)->service);
	assert_string_equal(md_compose_site_at(f, 2)->value, "d:1");
	assert_string_equal(md_compose_site_at(f, 2)->service, "b");
	assert_string_equal(md_compose_site_at(f, 3)->value, "yes:1");
	assert_string_equal(md_compose_site_at(f, 3)->service, "svc");
	assert_string_equal(md_compose_site_at(f, 3)->annotation, "{\"magos\": 6}");
	md_compose_free(f);
}

static void test_problem_block_scalar(void **state)
{
	const char *y = "services:\n"
			"  a:\n"
			"    image: | # {\"magos\": {}}\n"
			"      nginx:1\n"
			"  b:\n"
			"    image: >- # {\"magos\": {}}\n"
			"      nginx:2\n"
			"  c:\n"
			"    image: ok:1 # {\"magos\": {}}\n";
	struct md_compose_file *f = scan_str("compose.yaml", y);

	(void)state;
	assert_int_equal(md_compose_problem_count(f), 2);
	assert_string_equal(md_compose_problem_at(f, 0),
			    "compose.yaml:3: image value must be a single-line scalar");
	assert_string_equal(md_compose_problem_at(f, 1),
			    "compose.yaml:6: image value must be a single-line scalar");
	/* the other site of the same file is still returned */
	assert_int_equal(md_compose_site_count(f), 1);
	assert_string_equal(md_compose_site_at(f, 0)->value, "ok:1");
	md_compose_free(f);
}

static void test_problem_collection_under_image(void **state)
{
	const char *y = "a:\n"
			"  image: # {\"magos\": {}}\n"
			"    name: nginx\n"
			"b:\n"
			"  image: [nginx] # {\"magos\": {}}\n"
			"c:\n"
			"  image:\n"
			"    - nginx # plain comment, not ours\n";
	struct md_compose_file *f = scan_str("dir/c.yaml", y);

	(void)state;
	assert_int_equal(md_compose_site_count(f), 0);
	assert_int_equal(md_compose_problem_count(f), 2);
	assert_string_equal(md_compose_problem_at(f, 0),
			    "dir/c.yaml:2: image value must be a single-line scalar");
	assert_string_equal(md_compose_problem_at(f, 1),
			    "dir/c.yaml:5: image value must be a single-line scalar");
	md_compose_free(f);
}

static void test_problem_multiline_scalar(void **state)
{
	const char *y = "a:\n"
			"  image: nginx\n"
			"    :1.0 # {\"magos\": {}}\n"
			"b:\n"
			"  image: \"nginx\n"
			"    :2.0\" # {\"magos\": {}}\n"
			"c:\n"
			"  image: &x\n"
			"    'one\n"
			"    two' # {\"magos\": {}}\n";
	struct md_compose_file *f = scan_str("m.yaml", y);

	(void)state;
	assert_int_equal(md_compose_site_count(f), 0);
	assert_int_equal(md_compose_problem_count(f), 3);
	assert_string_equal(md_compose_problem_at(f, 0),
			    "m.yaml:3: image value must be a single-line scalar");
	assert_string_equal(md_compose_problem_at(f, 1),
			    "m.yaml:6: image value must be a single-line scalar");
	assert_string_equal(md_compose_problem_at(f, 2),
			    "m.yaml:10: image value must be a single-line scalar");
	md_compose_free(f);
}

static void test_problem_syntax_error(void **state)
{
	const char *y = "services:\n"
			"  web:\n"
			"    image: nginx:1 # {\"magos\": {}}\n"
			"    ports: [80\n"
			"  db: {}\n";
	struct md_compose_file *f = scan_str("bad.yaml", y);

	(void)state;
	/* marks after an error are unreliable: no sites, one problem */
	assert_int_equal(md_compose_site_count(f), 0);
	assert_int_equal(md_compose_problem_count(f), 1);
	assert_string_equal(md_compose_problem_at(f, 0),
			    "bad.yaml:5: invalid YAML: did not find expected ',' or ']'");
	md_compose_free(f);
}

static void test_problem_bad_encoding(void **state)
{
	struct md_compose_file *f;

	(void)state;
	f = scan_str("u.yaml", "a: b\nc:\n  image: x:1 # {\"magos\": {}}\nd: \xff\n");
	assert_int_equal(md_compose_site_count(f), 0);
	assert_int_equal(md_compose_problem_count(f), 1);
	assert_string_equal(md_compose_problem_at(f, 0),
			    "u.yaml:4: invalid YAML: invalid leading UTF-8 octet");
	md_compose_free(f);
	/* UTF-16 is not accepted (marks could not be mapped onto the bytes) */
	f = NULL;
	{
		static const char u16[] = "\xff\xfe" "a\0:\0 \0b\0\n\0";
		struct md_err err;

		assert_int_equal(md_compose_scan(&f, "w.yaml", u16, sizeof(u16) - 1, &err), 0);
	}
	assert_int_equal(md_compose_problem_count(f), 1);
	assert_true(md_str_has_prefix(md_compose_problem_at(f, 0), "w.yaml:1: invalid YAML: "));
	md_compose_free(f);
}

static void test_problem_empty_and_misplaced(void **state)
{
	const char *y = "a:\n"
			"  image: # {\"magos\": {}}\n"
			"  x: 1\n"
			"b:\n"
			"  image: '' # {\"magos\": {}}\n"
			"c:\n"
			"  image: # {\"magos\": {}}\n"
			"    nginx:1\n";
	struct md_compose_file *f = scan_str("e.yaml", y);

	(void)state;
	assert_int_equal(md_compose_site_count(f), 0);
	assert_int_equal(md_compose_problem_count(f), 3);
	assert_string_equal(md_compose_problem_at(f, 0), "e.yaml:2: image value is empty");
	assert_string_equal(md_compose_problem_at(f, 1), "e.yaml:5: image value is empty");
	assert_string_equal(md_compose_problem_at(f, 2),
			    "e.yaml:7: the magos comment must be on the line where the image "
			    "value ends");
	md_compose_free(f);
}

static void test_alias_not_site(void **state)
{
	const char *y = "x: &img nginx:1 # {\"magos\": {}}\n"
			"svc:\n"
			"  image: *img # {\"magos\": {}}\n";
	struct md_compose_file *f = scan_str("a.yaml", y);

	(void)state;
	assert_int_equal(md_compose_site_count(f), 0);
	assert_int_equal(md_compose_problem_count(f), 0);
	md_compose_free(f);
}

static void test_anchor_and_tag_ranges(void **state)
{
	const char *y = "a:\n"
			"  image: &web ghcr.io/x:1.0 # {\"magos\": {}}\n"
			"b:\n"
			"  image: !!str   'ghcr.io/y:2.0' # {\"magos\": {}}\n"
			"c:\n"
			"  image: &c !!str \"ghcr.io/z:3.0\" # {\"magos\": {}}\n"
			"d:\n"
			"  image: &d\n"
			"    ghcr.io/w:4.0 # {\"magos\": {}}\n";
	struct md_compose_file *f = scan_str("r.yaml", y);
	const char *vals[] = { "ghcr.io/x:1.0", "ghcr.io/y:2.0", "ghcr.io/z:3.0", "ghcr.io/w:4.0" };
	const int lines[] = { 2, 4, 6, 9 };
	const int cols[] = { 15, 19, 20, 5 };

	(void)state;
	assert_int_equal(md_compose_problem_count(f), 0);
	assert_int_equal(md_compose_site_count(f), 4);
	for (size_t i = 0; i < 4; i++) {
		const struct md_compose_site *s = md_compose_site_at(f, i);

		assert_int_equal(s->start, (size_t)(strstr(y, vals[i]) - y));
		assert_int_equal(s->end, s->start + strlen(vals[i]));
		assert_int_equal(s->line, lines[i]);
		assert_int_equal(s->column, cols[i]);
		assert_string_equal(s->value, vals[i]);
	}
	md_compose_free(f);
}

static void test_multibyte_offsets(void **state)
{
	/* libyaml marks count characters: é (2 bytes), 😀 (4 bytes) and CRLF
	 * before the site must not shift its byte range */
	const char *y = "# é😀 ünï\r\n"
			"svc: {note: \"日本\", image: 'nginx:1'} # {\"magos\": {\"x\": \"ç\"}}\r\n";
	struct md_compose_file *f = scan_str("mb.yaml", y);
	const struct md_compose_site *s;
	char *out;

	(void)state;
	assert_int_equal(md_compose_site_count(f), 1);
	s = md_compose_site_at(f, 0);
	assert_int_equal(s->start, (size_t)(strstr(y, "nginx") - y));
	assert_int_equal(s->end, s->start + 7);
	assert_int_equal(s->line, 2);
	assert_string_equal(s->annotation, "{\"magos\": {\"x\": \"ç\"}}");
	out = patch1(f, 0, "nginx:2");
	assert_string_equal(out, "# é😀 ünï\r\n"
				 "svc: {note: \"日本\", image: 'nginx:2'} # {\"magos\": {\"x\": \"ç\"}}\r\n");
	free(out);
	md_compose_free(f);
}

static void test_too_large_and_empty(void **state)
{
	struct md_compose_file *f = NULL;
	struct md_err err;
	char *big = calloc(1, MD_COMPOSE_MAX_FILE + 2);

	(void)state;
	assert_non_null(big);
	memset(big, '#', MD_COMPOSE_MAX_FILE + 1);
	assert_int_equal(md_compose_scan(&f, "huge.yaml", big, MD_COMPOSE_MAX_FILE + 1, &err), -1);
	assert_null(f);
	assert_string_equal(err.msg, "huge.yaml is larger than 4194304 bytes");
	/* exactly at the cap is fine */
	assert_int_equal(md_compose_scan(&f, "cap.yaml", big, MD_COMPOSE_MAX_FILE, &err), 0);
	assert_int_equal(md_compose_site_count(f), 0);
	assert_int_equal(md_compose_problem_count(f), 0);
	md_compose_free(f);
	free(big);
	assert_int_equal(md_compose_scan(&f, "empty.yaml", "", 0, &err), 0);
	assert_int_equal(md_compose_site_count(f), 0);
	assert_int_equal(md_compose_problem_count(f), 0);
	md_compose_free(f);
	md_compose_free(NULL);
}

static void test_nesting_cap(void **state)
{
	size_t n = 1500;
	char *y = malloc(2 * n + 2);
	struct md_compose_file *f;

	(void)state;
	memset(y, '[', n);
	memset(y + n, ']', n);
	y[2 * n] = '\n';
	y[2 * n + 1] = '\0';
	f = scan_str("deep.yaml", y);
	assert_int_equal(md_compose_problem_count(f), 1);
	assert_string_equal(md_compose_problem_at(f, 0),
			    "deep.yaml:1: invalid YAML: nesting is deeper than 1000 levels");
	md_compose_free(f);
	free(y);
}

static void test_problems_sorted_by_line(void **state)
{
	/* the anchored multi-line value is only decided after the walk */
	const char *y = "a:\n"
			"  image: &a\n"
			"    'x\n"
			"    y' # {\"magos\": {}}\n"
			"b:\n"
			"  image: | # {\"magos\": {}}\n"
			"    z\n";
	struct md_compose_file *f = scan_str("p.yaml", y);

	(void)state;
	assert_int_equal(md_compose_problem_count(f), 2);
	assert_string_equal(md_compose_problem_at(f, 0),
			    "p.yaml:4: image value must be a single-line scalar");
	assert_string_equal(md_compose_problem_at(f, 1),
			    "p.yaml:6: image value must be a single-line scalar");
	md_compose_free(f);
}

static void test_column_after_multiline_value(void **state)
{
	/* duplicate keys parse; the first value spans lines, the second
	 * shares its end line and must get that line's column */
	struct md_compose_file *f =
		scan_str("c.yaml", "s: {image: \"x\n  y\", image: z:1} # {\"magos\": 1}\n");

	(void)state;
	assert_int_equal(md_compose_problem_count(f), 1);
	assert_string_equal(md_compose_problem_at(f, 0),
			    "c.yaml:2: image value must be a single-line scalar");
	assert_int_equal(md_compose_site_count(f), 1);
	assert_int_equal(md_compose_site_at(f, 0)->line, 2);
	assert_int_equal(md_compose_site_at(f, 0)->column, 14);
	assert_int_equal(md_compose_site_at(f, 0)->start, 27);
	md_compose_free(f);
}

static void test_comment_after_quoted_scalars(void **state)
{
	/* quotes inside plain scalars are text; '#' inside quoted scalars
	 * later on the line is not a comment; a quoted scalar running past
	 * the line end hides the rest of the line */
	const char *y = "s: {note: it's, image: a:\"1, q: \"x # y\", z: 'p''s # q'} # {\"magos\": 1}\n"
			"t: {image: b:1, q: \"x # {\\\"magos\\\": 2}\n"
			"  y\"}\n"
			"u: [{image: c:1}, \"# {\\\"magos\\\": 3}\"]\n";
	struct md_compose_file *f = scan_str("q.yaml", y);

	(void)state;
	assert_int_equal(md_compose_problem_count(f), 0);
	assert_int_equal(md_compose_site_count(f), 1);
	assert_string_equal(md_compose_site_at(f, 0)->value, "a:\"1");
	assert_string_equal(md_compose_site_at(f, 0)->annotation, "{\"magos\": 1}");
	assert_string_equal(md_compose_site_at(f, 0)->service, "s");
	md_compose_free(f);
}

static void test_many_sites_on_one_line(void **state)
{
	/* one comment serves every image key of a long flow line */
	size_t n = 20000;
	struct md_buf b;
	struct md_compose_file *f;
	char *out;

	(void)state;
	md_buf_init(&b, 4u << 20);
	assert_int_equal(md_buf_puts(&b, "all: ["), 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(md_buf_printf(&b, "%s{image: 'x:%zu', q: \"# no\"}", i ? ", " : "",
					       i), 0);
	assert_int_equal(md_buf_puts(&b, "] # {\"magos\": {}}\n"), 0);
	f = scan_str("long.yaml", b.data);
	assert_int_equal(md_compose_site_count(f), n);
	assert_string_equal(md_compose_site_at(f, n - 1)->value, "x:19999");
	assert_string_equal(md_compose_site_at(f, n - 1)->annotation, "{\"magos\": {}}");
	assert_int_equal(md_compose_site_at(f, 1)->column, 43);
	out = patch1(f, n - 1, "y:1");
	assert_non_null(strstr(out, "{image: 'y:1', q: \"# no\"}] # {"));
	free(out);
	md_compose_free(f);
	md_buf_free(&b);
}

/* ---- patching ------------------------------------------------------------ */

static void test_patch_single_quote_escape(void **state)
{
	struct md_compose_file *f = scan_str("q.yaml", "s:\n  image: 'a:1' # {\"magos\": {}}\n");
	struct md_compose_file *g;
	char *out;

	(void)state;
	out = patch1(f, 0, "it's:1");
	assert_string_equal(out, "s:\n  image: 'it''s:1' # {\"magos\": {}}\n");
	g = scan_str("q.yaml", out);
	assert_string_equal(md_compose_site_at(g, 0)->value, "it's:1");
	md_compose_free(g);
	free(out);
	md_compose_free(f);
}

static void test_patch_double_quote_escape(void **state)
{
	struct md_compose_file *f =
		scan_str("q.yaml", "s: {image: \"a\\x3a1\"} # {\"magos\": {}}\n");
	struct md_compose_file *g;
	char *out;

	(void)state;
	assert_string_equal(md_compose_site_at(f, 0)->value, "a:1");
	out = patch1(f, 0, "a\"b\\c:2");
	assert_string_equal(out, "s: {image: \"a\\\"b\\\\c:2\"} # {\"magos\": {}}\n");
	g = scan_str("q.yaml", out);
	assert_string_equal(md_compose_site_at(g, 0)->value, "a\"b\\c:2");
	md_compose_free(g);
	free(out);
	md_compose_free(f);
}

static void test_patch_plain_unsafe(void **state)
{
	struct md_compose_file *f = scan_str("p.yaml", "s:\n"
						       "  image: a:1 # {\"magos\": {}}\n"
						       "t: {image: b:1} # {\"magos\": {}}\n");
	static const char *block_bad[] = { "a: b", "a #b", "-x", "x:", "&x", "*x", "!x", "'x",
					   "\"x", "%x", "@x", "`x", "|x", ">x", "[x", "{x", "#x",
					   "?x", " x", "x " };
	static const char *flow_bad[] = { "a,b", "a]", "a}", "a[b", "{a" };
	struct md_err err;
	char want[256];
	char *out;

	(void)state;
	for (size_t i = 0; i < sizeof(block_bad) / sizeof(block_bad[0]); i++) {
		snprintf(want, sizeof(want),
			 "p.yaml:2: \"%s\" cannot be written as a plain YAML scalar here",
			 block_bad[i]);
		assert_string_equal(patch1_err(f, 0, block_bad[i], &err), want);
	}
	for (size_t i = 0; i < sizeof(flow_bad) / sizeof(flow_bad[0]); i++) {
		snprintf(want, sizeof(want),
			 "p.yaml:3: \"%s\" cannot be written as a plain YAML scalar here",
			 flow_bad[i]);
		assert_string_equal(patch1_err(f, 1, flow_bad[i], &err), want);
	}
	/* flow indicators are fine outside a flow collection, '#' without a
	 * blank before it too */
	out = patch1(f, 0, "a,b]#c");
	assert_string_equal(out, "s:\n  image: a,b]#c # {\"magos\": {}}\nt: {image: b:1} # "
				 "{\"magos\": {}}\n");
	free(out);
	md_compose_free(f);
}

static void test_patch_refused_when_structure_changes(void **state)
{
	struct md_compose_file *f = scan_str("r.yaml", "s:\n"
						       "  image: a:1 # {\"magos\": {}}\n"
						       "t: {image: b:1} # {\"magos\": {}}\n"
						       "u:\n"
						       "  image: 'c:1' # {\"magos\": {}}\n");
	struct md_err err;

	(void)state;
	/* libyaml rejects ':' before '?' in a flow plain scalar: the patched
	 * file would not parse */
	assert_string_equal(patch1_err(f, 1, "b:?1", &err),
			    "r.yaml:3: refusing to write: the patched file would differ in more "
			    "than the image value");
	/* NEL and LS are YAML line breaks: the value would span lines */
	assert_string_equal(patch1_err(f, 0, "a\xc2\x85" "b", &err),
			    "r.yaml:2: refusing to write: the patched file would differ in more "
			    "than the image value");
	assert_string_equal(patch1_err(f, 2, "c\xe2\x80\xa8" "d", &err),
			    "r.yaml:5: refusing to write: the patched file would differ in more "
			    "than the image value");
	/* invalid UTF-8 breaks the parse */
	assert_string_equal(patch1_err(f, 2, "c\xff", &err),
			    "r.yaml:5: refusing to write: the patched file would differ in more "
			    "than the image value");
	md_compose_free(f);
}

static void test_patch_bad_values(void **state)
{
	struct md_compose_file *f = scan_str("v.yaml", "s:\n  image: \"a:1\" # {\"magos\": {}}\n");
	struct md_err err;
	char *big = malloc(MD_COMPOSE_MAX_VALUE + 2);

	(void)state;
	assert_string_equal(patch1_err(f, 0, "", &err), "v.yaml:2: the new image value is empty");
	assert_string_equal(patch1_err(f, 0, NULL, &err), "v.yaml:2: the new image value is empty");
	assert_string_equal(patch1_err(f, 0, "a\nb", &err),
			    "v.yaml:2: the new image value contains a control character");
	assert_string_equal(patch1_err(f, 0, "a\tb", &err),
			    "v.yaml:2: the new image value contains a control character");
	memset(big, 'x', MD_COMPOSE_MAX_VALUE + 1);
	big[MD_COMPOSE_MAX_VALUE + 1] = '\0';
	assert_string_equal(patch1_err(f, 0, big, &err),
			    "v.yaml:2: the new image value is longer than 1024 bytes");
	big[MD_COMPOSE_MAX_VALUE] = '\0';
	free(patch1(f, 0, big));
	free(big);
	md_compose_free(f);
}

static void test_patch_duplicate_and_range(void **state)
{
	struct md_compose_file *f = scan_str("d.yaml", "a:\n"
						       "  image: a:1 # {\"magos\": {}}\n"
						       "b:\n"
						       "  image: b:1 # {\"magos\": {}}\n");
	struct md_compose_edit dup[] = { { 1, "x:1" }, { 0, "y:1" }, { 1, "z:1" } };
	struct md_compose_edit range[] = { { 0, "x:1" }, { 2, "y:1" } };
	struct md_err err;
	char *out = NULL;
	size_t len;

	(void)state;
	assert_int_equal(md_compose_patch(&out, &len, f, dup, 3, &err), -1);
	assert_null(out);
	assert_string_equal(err.msg, "d.yaml:4: the image value is edited more than once");
	assert_int_equal(md_compose_patch(&out, &len, f, range, 2, &err), -1);
	assert_null(out);
	assert_string_equal(err.msg, "d.yaml: edit 1 refers to image site 2, but the file has 2");
	md_compose_free(f);
}

static void test_patch_order_independent(void **state)
{
	const char *y = "a:\n"
			"  image: a:1 # {\"magos\": {}}\n"
			"b: {image: 'b:1'} # {\"magos\": {}}\n"
			"c:\n"
			"  image: \"c:1\" # {\"magos\": {}}\n";
	struct md_compose_file *f = scan_str("o.yaml", y);
	struct md_compose_edit fwd[] = { { 0, "a:22" }, { 1, "b" }, { 2, "c:333" } };
	struct md_compose_edit rev[] = { { 2, "c:333" }, { 1, "b" }, { 0, "a:22" } };
	struct md_err err;
	char *o1, *o2;
	size_t l1, l2;

	(void)state;
	assert_int_equal(md_compose_patch(&o1, &l1, f, fwd, 3, &err), 0);
	assert_int_equal(md_compose_patch(&o2, &l2, f, rev, 3, &err), 0);
	assert_string_equal(o1, "a:\n"
				"  image: a:22 # {\"magos\": {}}\n"
				"b: {image: 'b'} # {\"magos\": {}}\n"
				"c:\n"
				"  image: \"c:333\" # {\"magos\": {}}\n");
	assert_int_equal(l1, l2);
	assert_string_equal(o1, o2);
	free(o1);
	free(o2);
	md_compose_free(f);
}

static void test_patch_no_edits_and_same_value(void **state)
{
	const char *y = "# keep me\r\nsvc:\r\n  image: a:1   # {\"magos\": {}}   \r\n\r\n";
	struct md_compose_file *f = scan_str("n.yaml", y);
	struct md_err err;
	char *out = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(md_compose_patch(&out, &len, f, NULL, 0, &err), 0);
	assert_int_equal(len, strlen(y));
	assert_string_equal(out, y);
	free(out);
	out = patch1(f, 0, "a:1");
	assert_string_equal(out, y);
	free(out);
	md_compose_free(f);
}

static void test_patch_keeps_anchor_for_aliases(void **state)
{
	const char *y = "x-img: &img ghcr.io/a:1 # {\"magos\": {}}\n"
			"services:\n"
			"  one:\n"
			"    image: *img\n"
			"  two:\n"
			"    <<: {image: *img}\n";
	struct md_compose_file *f = scan_str("al.yaml", y);
	char *out;

	(void)state;
	assert_int_equal(md_compose_site_count(f), 0); /* key is x-img, not image */
	md_compose_free(f);
	f = scan_str("al.yaml", "svc:\n  image: &img ghcr.io/a:1 # {\"magos\": {}}\n"
				"other:\n  image: *img\n");
	assert_int_equal(md_compose_site_count(f), 1);
	out = patch1(f, 0, "ghcr.io/a:2");
	assert_string_equal(out, "svc:\n  image: &img ghcr.io/a:2 # {\"magos\": {}}\n"
				 "other:\n  image: *img\n");
	free(out);
	md_compose_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_comments),
		cmocka_unit_test(test_fixture_quoting),
		cmocka_unit_test(test_fixture_anchors),
		cmocka_unit_test(test_fixture_multidoc),
		cmocka_unit_test(test_fixture_crlf),
		cmocka_unit_test(test_fixture_flow),
		cmocka_unit_test(test_fixture_nonewline),
		cmocka_unit_test(test_fixture_utf8),
		cmocka_unit_test(test_fixture_bom),
		cmocka_unit_test(test_fixture_homelab),
		cmocka_unit_test(test_site_fields),
		cmocka_unit_test(test_annotation_tabs_and_trim),
		cmocka_unit_test(test_other_comments_ignored),
		cmocka_unit_test(test_malformed_annotation_passes_through),
		cmocka_unit_test(test_service_and_keys),
		cmocka_unit_test(test_problem_block_scalar),
		cmocka_unit_test(test_problem_collection_under_image),
		cmocka_unit_test(test_problem_multiline_scalar),
		cmocka_unit_test(test_problem_syntax_error),
		cmocka_unit_test(test_problem_bad_encoding),
		cmocka_unit_test(test_problem_empty_and_misplaced),
		cmocka_unit_test(test_alias_not_site),
		cmocka_unit_test(test_anchor_and_tag_ranges),
		cmocka_unit_test(test_multibyte_offsets),
		cmocka_unit_test(test_too_large_and_empty),
		cmocka_unit_test(test_nesting_cap),
		cmocka_unit_test(test_problems_sorted_by_line),
		cmocka_unit_test(test_column_after_multiline_value),
		cmocka_unit_test(test_comment_after_quoted_scalars),
		cmocka_unit_test(test_many_sites_on_one_line),
		cmocka_unit_test(test_patch_single_quote_escape),
		cmocka_unit_test(test_patch_double_quote_escape),
		cmocka_unit_test(test_patch_plain_unsafe),
		cmocka_unit_test(test_patch_refused_when_structure_changes),
		cmocka_unit_test(test_patch_bad_values),
		cmocka_unit_test(test_patch_duplicate_and_range),
		cmocka_unit_test(test_patch_order_independent),
		cmocka_unit_test(test_patch_no_edits_and_same_value),
		cmocka_unit_test(test_patch_keeps_anchor_for_aliases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

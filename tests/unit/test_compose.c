/* compose: byte-exact patching of fixture files (input + exact expected
 * output). Scanning: test_compose_scan.c; patching edge cases:
 * test_compose_patch.c. */
#include "unit.h"
#include "compose_fixture.h"

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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

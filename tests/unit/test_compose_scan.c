/* compose: the site scan (libyaml marks) — sites, annotations, the
 * problems it reports, offsets and caps. */
#include "unit.h"
#include "compose_fixture.h"

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
	md_buf_clear(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

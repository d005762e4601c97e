/* compose: patching — quoting and escapes, refusals, edit sets. */
#include "unit.h"
#include "compose_fixture.h"

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

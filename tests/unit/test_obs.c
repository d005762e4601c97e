/* obs: log lines in text and JSON, levels, quoting. */
#include "unit.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magos/obs.h"

static char *capture(enum md_log_format fmt, enum md_log_level level)
{
	static char buf[4096];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	md_log_setup(fmt, level, f);
	md_log(MD_LOG_DEBUG, "hidden unless debug", NULL);
	md_log(MD_LOG_INFO, "image updated", "image", "ghcr.io/acme/web", "from", "1.0.0", "to",
	       "1.1.0", "digest", NULL, "file", "stacks/web compose.yaml:3", NULL);
	fclose(f);
	md_log_setup(MD_LOG_TEXT, MD_LOG_INFO, stderr);
	return buf;
}

static void test_text_line(void **state)
{
	char *out = capture(MD_LOG_TEXT, MD_LOG_INFO);

	(void)state;
	assert_null(strstr(out, "hidden"));
	assert_non_null(strstr(out, " info  image updated image=ghcr.io/acme/web from=1.0.0 "
				    "to=1.1.0 file=\"stacks/web compose.yaml:3\"\n"));
	assert_null(strstr(out, "digest="));
	assert_int_equal(strchr(out, '\n') - out + 1, (long)strlen(out));
}

static void test_json_line(void **state)
{
	char *out = capture(MD_LOG_JSON, MD_LOG_INFO);
	json_error_t jerr;
	json_t *o = json_loads(out, 0, &jerr);

	(void)state;
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "level")), "info");
	assert_string_equal(json_string_value(json_object_get(o, "msg")), "image updated");
	assert_string_equal(json_string_value(json_object_get(o, "to")), "1.1.0");
	assert_null(json_object_get(o, "digest"));
	assert_non_null(json_object_get(o, "ts"));
	json_decref(o);
}

static void test_debug_level(void **state)
{
	char *out = capture(MD_LOG_TEXT, MD_LOG_DEBUG);

	(void)state;
	assert_non_null(strstr(out, "hidden unless debug"));
}

static void test_parse(void **state)
{
	enum md_log_level l;
	enum md_log_format f;

	(void)state;
	assert_int_equal(md_log_parse_level("WARN", &l), 0);
	assert_int_equal(l, MD_LOG_WARN);
	assert_int_equal(md_log_parse_level("loud", &l), -1);
	assert_int_equal(md_log_parse_format("json", &f), 0);
	assert_int_equal(f, MD_LOG_JSON);
	assert_int_equal(md_log_parse_format("xml", &f), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_line),
		cmocka_unit_test(test_json_line),
		cmocka_unit_test(test_debug_level),
		cmocka_unit_test(test_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

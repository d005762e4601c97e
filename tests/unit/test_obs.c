/* obs: log lines in text and JSON, levels, quoting; the journal's native
 * field encoding, JOURNAL_STREAM matching, entries on a test socket. */
#include "unit.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

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

static void test_journal_field_names(void **state)
{
	char name[80], small[8];
	char key[100];

	(void)state;
	assert_int_equal(md_journal_field_name(name, sizeof(name), "image"), 0);
	assert_string_equal(name, "MAGOS_IMAGE");
	assert_int_equal(md_journal_field_name(name, sizeof(name), "from-ref.x9"), 0);
	assert_string_equal(name, "MAGOS_FROM_REF_X9");
	assert_int_equal(md_journal_field_name(name, sizeof(name), "caf\xc3\xa9"), 0);
	assert_string_equal(name, "MAGOS_CAF__");
	memset(key, 'a', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	assert_int_equal(md_journal_field_name(name, sizeof(name), key), 0);
	assert_int_equal(strlen(name), 64); /* journald's limit */
	assert_int_equal(md_journal_field_name(name, sizeof(name), ""), -1);
	assert_int_equal(md_journal_field_name(small, sizeof(small), "image"), 0);
	assert_string_equal(small, "MAGOS_I");
}

static void test_journal_encoding(void **state)
{
	static const char want[] = "MESSAGE=plain value\n"
				   "ERROR\n\x07\0\0\0\0\0\0\0two\nfor\n";
	struct md_buf b;

	(void)state;
	md_buf_init(&b, 1024);
	assert_int_equal(md_journal_append(&b, "MESSAGE", "plain value", 11), 0);
	assert_int_equal(md_journal_append(&b, "ERROR", "two\nfor", 7), 0);
	assert_int_equal(b.len, sizeof(want) - 1);
	assert_memory_equal(b.data, want, b.len);
	md_buf_clear(&b);

	/* A field that does not fit leaves nothing half-written. */
	md_buf_init(&b, 12);
	assert_int_equal(md_journal_append(&b, "A", "b", 1), 0);
	assert_int_equal(md_journal_append(&b, "LONGER", "value", 5), -1);
	assert_int_equal(b.len, 4);
	assert_string_equal(b.data, "A=b\n");
	md_buf_clear(&b);
}

static void test_journal_stream_matching(void **state)
{
	char path[] = "/tmp/md-obs-stream-XXXXXX", js[64];
	struct stat st;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	assert_int_equal(md_log_journal_stream_matches(js, fd), 1);
	assert_int_equal(md_log_resolve_format(MD_LOG_AUTO, js, fd), MD_LOG_JOURNAL);
	assert_int_equal(md_log_resolve_format(MD_LOG_JSON, js, fd), MD_LOG_JSON);
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + 1);
	assert_int_equal(md_log_journal_stream_matches(js, fd), 0);
	assert_int_equal(md_log_resolve_format(MD_LOG_AUTO, js, fd), MD_LOG_TEXT);
	snprintf(js, sizeof(js), "%llu:%llux", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	assert_int_equal(md_log_journal_stream_matches(js, fd), 0);
	assert_int_equal(md_log_journal_stream_matches("", fd), 0);
	assert_int_equal(md_log_resolve_format(MD_LOG_AUTO, NULL, fd), MD_LOG_TEXT);
	close(fd);
	unlink(path);
}

/* The value of field name in a received entry, binary form included. */
static char *field(const char *d, size_t n, const char *name)
{
	size_t nl = strlen(name);
	const char *p = d, *end = d + n;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *eq = memchr(p, '=', eol ? (size_t)(eol - p) : (size_t)(end - p));

		if (!eol)
			return NULL;
		if (eq) {
			if ((size_t)(eq - p) == nl && !memcmp(p, name, nl))
				return strndup(eq + 1, (size_t)(eol - eq - 1));
			p = eol + 1;
			continue;
		}
		{
			uint64_t len = 0;
			const unsigned char *l = (const unsigned char *)eol + 1;

			for (int i = 7; i >= 0; i--)
				len = len << 8 | l[i];
			if ((size_t)(eol - p) == nl && !memcmp(p, name, nl))
				return strndup((const char *)l + 8, (size_t)len);
			p = (const char *)l + 8 + len + 1;
		}
	}
	return NULL;
}

static void test_journal_entries_on_a_socket(void **state)
{
	char dir[] = "/tmp/md-obs-journal-XXXXXX", sock[128], buf[8192], text[512];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	FILE *out = fmemopen(text, sizeof(text), "w");
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	ssize_t n;
	char *v;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/socket", dir);
	md_strlcpy(sa.sun_path, sock, sizeof(sa.sun_path));
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	md_log_set_journal_socket(sock);
	md_log_setup(MD_LOG_JOURNAL, MD_LOG_INFO, out);
	md_log_set_cycle(7);
	md_log(MD_LOG_INFO, "image updated", "image", "ghcr.io/acme/web", "from", "1.0.0", "to",
	       "1.1.0", "digest", "sha256:abc", "file", "stacks/web/compose.yaml:3", "commit",
	       "0123abcd", NULL);
	md_log_set_cycle(0);
	md_log(MD_LOG_ERROR, "cycle failed", "error", "line one\nline two", NULL);

	n = recv(fd, buf, sizeof(buf), 0);
	assert_true(n > 0);
	assert_string_equal(v = field(buf, (size_t)n, "PRIORITY"), "6"), free(v);
	assert_string_equal(v = field(buf, (size_t)n, "SYSLOG_IDENTIFIER"), "magos-dominus"), free(v);
	assert_string_equal(v = field(buf, (size_t)n, "MAGOS_IMAGE"), "ghcr.io/acme/web"), free(v);
	assert_string_equal(v = field(buf, (size_t)n, "MAGOS_FROM"), "1.0.0"), free(v);
	assert_string_equal(v = field(buf, (size_t)n, "MAGOS_TO"), "1.1.0"), free(v);
	assert_string_equal(v = field(buf, (size_t)n, "MAGOS_DIGEST"), "sha256:abc"), free(v);
	assert_string_equal(v = field(buf, (size_t)n, "MAGOS_FILE"), "stacks/web/compose.yaml:3"),
		free(v);
	assert_string_equal(v = field(buf, (size_t)n, "MAGOS_COMMIT"), "0123abcd"), free(v);
	assert_string_equal(v = field(buf, (size_t)n, "MAGOS_CYCLE"), "7"), free(v);
	v = field(buf, (size_t)n, "MESSAGE");
	assert_non_null(strstr(v, "image updated image=ghcr.io/acme/web from=1.0.0"));
	free(v);

	n = recv(fd, buf, sizeof(buf), 0);
	assert_true(n > 0);
	assert_string_equal(v = field(buf, (size_t)n, "PRIORITY"), "3"), free(v);
	assert_string_equal(v = field(buf, (size_t)n, "MAGOS_ERROR"), "line one\nline two"), free(v);
	assert_null(field(buf, (size_t)n, "MAGOS_CYCLE"));

	/* journald gone: the entry falls back to a text line on stderr. */
	close(fd);
	unlink(sock);
	md_log(MD_LOG_WARN, "still said", "image", "x", NULL);
	fflush(out);
	assert_non_null(strstr(text, " warn  still said image=x\n"));
	fclose(out);
	md_log_setup(MD_LOG_TEXT, MD_LOG_INFO, stderr);
	md_log_set_journal_socket(NULL);
	rmdir(dir);
}

static void test_cycle_in_text_lines(void **state)
{
	char buf[512];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	(void)state;
	md_log_setup(MD_LOG_TEXT, MD_LOG_INFO, f);
	md_log_set_cycle(42);
	md_log(MD_LOG_INFO, "cycle finished", NULL);
	md_log_set_cycle(0);
	md_log(MD_LOG_INFO, "stopping", NULL);
	fclose(f);
	md_log_setup(MD_LOG_TEXT, MD_LOG_INFO, stderr);
	assert_non_null(strstr(buf, " info  cycle finished cycle=42\n"));
	assert_non_null(strstr(buf, " info  stopping\n"));
}

/* A message holding a newline (a state file's warning quotes its keys)
 * stays one text line (found by fuzz_obs). */
static void test_text_message_one_line(void **state)
{
	char buf[512];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	(void)state;
	md_log_setup(MD_LOG_TEXT, MD_LOG_INFO, f);
	md_log(MD_LOG_WARN, "state unusable (bad entry for \"a\nb\r\")", "file", "x", NULL);
	fclose(f);
	md_log_setup(MD_LOG_TEXT, MD_LOG_INFO, stderr);
	assert_non_null(strstr(buf, " warn  state unusable (bad entry for \"a\\nb\\x0d\") file=x\n"));
	assert_int_equal(strchr(buf, '\n') - buf + 1, (long)strlen(buf));
}

/* A value or message that is not UTF-8 (a registry's error text) keeps
 * its field in a JSON line, invalid bytes shown as U+FFFD (found by
 * fuzz_obs). */
static void test_json_keeps_invalid_utf8(void **state)
{
	char buf[512];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	json_t *o;

	(void)state;
	md_log_setup(MD_LOG_JSON, MD_LOG_INFO, f);
	md_log(MD_LOG_ERROR, "fetch failed \xff", "error", "caf\xc3", "tag", "1.0",
	       "host", "\xed\xa0\x80x\xf4\x90\x80\x80", NULL);
	fclose(f);
	md_log_setup(MD_LOG_TEXT, MD_LOG_INFO, stderr);
	o = json_loads(buf, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "msg")), "fetch failed \xef\xbf\xbd");
	assert_string_equal(json_string_value(json_object_get(o, "error")), "caf\xef\xbf\xbd");
	assert_string_equal(json_string_value(json_object_get(o, "tag")), "1.0");
	/* a surrogate and a code point above U+10FFFF are not UTF-8 either */
	assert_string_equal(json_string_value(json_object_get(o, "host")),
			    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdx\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_line),
		cmocka_unit_test(test_json_line),
		cmocka_unit_test(test_debug_level),
		cmocka_unit_test(test_journal_field_names),
		cmocka_unit_test(test_journal_encoding),
		cmocka_unit_test(test_journal_stream_matching),
		cmocka_unit_test(test_journal_entries_on_a_socket),
		cmocka_unit_test(test_cycle_in_text_lines),
		cmocka_unit_test(test_text_message_one_line),
		cmocka_unit_test(test_json_keeps_invalid_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

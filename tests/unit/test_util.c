/* util: buffers, durations, timestamps, atomic writes, digests. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "magos/util.h"
#include "../../internal/util/util_int.h"

static void test_buf_bounded(void **state)
{
	struct md_buf b;

	(void)state;
	md_buf_init(&b, 8);
	assert_int_equal(md_buf_puts(&b, "abcd"), 0);
	assert_int_equal(md_buf_printf(&b, "%d", 1234), 0);
	assert_string_equal(b.data, "abcd1234");
	assert_int_equal(md_buf_puts(&b, "x"), -1);
	assert_string_equal(b.data, "abcd1234");
	md_buf_clear(&b);
}

static void test_duration(void **state)
{
	static const struct {
		const char *in;
		int64_t secs;
	} ok[] = { { "90s", 90 }, { "5m", 300 }, { "1h", 3600 }, { "1h30m", 5400 },
		   { "3d", 259200 }, { "0", 0 }, { "250ms", 1 }, { "2w", 1209600 } };
	static const char *bad[] = { "", "5", "m", "5x", "1h-", "-5m", "5 m" };
	struct md_err err;
	int64_t v;
	char out[32];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(md_duration_parse(ok[i].in, &v, &err), 0);
		assert_int_equal(v, ok[i].secs);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(md_duration_parse(bad[i], &v, &err), -1);
		assert_non_null(strstr(err.msg, "duration"));
	}
	md_duration_format(5400, out, sizeof(out));
	assert_string_equal(out, "1h30m");
	md_duration_format(259200 + 7, out, sizeof(out));
	assert_string_equal(out, "3d7s");
}

static void test_rfc3339(void **state)
{
	struct md_err err;
	int64_t t;
	char out[32];

	(void)state;
	assert_int_equal(md_time_parse_rfc3339("2024-01-02T03:04:05Z", &t, &err), 0);
	assert_int_equal(t, 1704164645);
	assert_int_equal(md_time_parse_rfc3339("2024-01-02T05:04:05.123+02:00", &t, &err), 0);
	assert_int_equal(t, 1704164645);
	assert_int_equal(md_time_parse_rfc3339("2024-01-02", &t, &err), -1);
	assert_int_equal(md_time_parse_rfc3339("2024-13-02T03:04:05Z", &t, &err), -1);
	md_time_format_rfc3339(1704164645, out, sizeof(out));
	assert_string_equal(out, "2024-01-02T03:04:05Z");
	/* a year gmtime cannot represent (a server's x-ratelimit-reset of 18
	 * digits) is said so, not printed from an unset struct tm */
	memset(out, 'x', sizeof(out));
	md_time_format_rfc3339(INT64_MAX, out, sizeof(out));
	assert_string_equal(out, "(time out of range)");
	md_time_format_rfc3339(999999999999999999LL, out, sizeof(out));
	assert_string_equal(out, "(time out of range)");
}

static void test_atomic_write(void **state)
{
	char dir[] = "/tmp/magos-util-XXXXXX";
	char path[256], *data = NULL;
	struct md_err err;
	struct stat st;
	size_t len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sub/dir/file", dir);
	*strrchr(path, '/') = '\0';
	assert_int_equal(md_mkdir_p(path, 0700, &err), 0);
	strcat(path, "/file");
	assert_int_equal(md_file_write_atomic(path, "one", 3, 0600, &err), 0);
	assert_int_equal(md_file_write_atomic(path, "two!", 4, 0640, &err), 0);
	assert_int_equal(md_file_read(path, 100, &data, &len, &err), 0);
	assert_int_equal(len, 4);
	assert_string_equal(data, "two!");
	free(data);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(md_file_read(path, 3, &data, &len, &err), -1);
	assert_non_null(strstr(err.msg, "larger than"));
	assert_int_equal(md_file_read("/nonexistent/x", 3, &data, &len, &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent/x"));
}

static void test_digest(void **state)
{
	char d[MD_DIGEST_STR_LEN + 1];

	(void)state;
	md_sha256_digest("", 0, d);
	assert_string_equal(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_strv(void **state)
{
	struct md_strv sv = { 0 };

	(void)state;
	assert_int_equal(md_strv_split(&sv, " a, b ,,c d", ", "), 0);
	assert_int_equal(sv.n, 4);
	assert_string_equal(sv.v[0], "a");
	assert_string_equal(sv.v[3], "d");
	assert_null(sv.v[4]);
	assert_true(md_strv_contains(&sv, "c"));
	md_strv_clear(&sv);
}

/* ---- child processes (proc.c) ------------------------------------------ */

static void test_proc_stdin_to_stdout(void **state)
{
	char *argv[] = { (char *)(uintptr_t) "cat", NULL };
	struct md_buf out;
	struct md_err err;
	int status = -1;

	(void)state;
	md_buf_init(&out, 1024);
	assert_int_equal(md_proc_run(argv, NULL, "hello\n", 6, &out, 5000, &status, &err), 0);
	assert_int_equal(status, 0);
	assert_string_equal(out.data, "hello\n");
	md_buf_clear(&out);
}

static void test_proc_exit_status_and_stderr(void **state)
{
	char *argv[] = { (char *)(uintptr_t) "sh", (char *)(uintptr_t) "-c",
			 (char *)(uintptr_t) "echo noise >&2; printf out; exit 3", NULL };
	char *envp[] = { (char *)(uintptr_t) "PATH=/usr/bin:/bin", NULL };
	struct md_buf out;
	struct md_err err;
	int status = -1;

	(void)state;
	md_buf_init(&out, 1024);
	/* No input: the child sees EOF on stdin at once. */
	assert_int_equal(md_proc_run(argv, envp, NULL, 0, &out, 5000, &status, &err), 0);
	assert_int_equal(status, 3);
	assert_string_equal(out.data, "out"); /* stderr went to /dev/null */
	md_buf_clear(&out);
}

static void test_proc_timeout_kills(void **state)
{
	char *argv[] = { (char *)(uintptr_t) "sleep", (char *)(uintptr_t) "5", NULL };
	struct md_buf out;
	struct md_err err;
	int64_t t0 = md_time_mono_ms();
	int status = 0;

	(void)state;
	md_buf_init(&out, 1024);
	assert_int_equal(md_proc_run(argv, NULL, NULL, 0, &out, 200, &status, &err), -1);
	assert_string_equal(err.msg, "sleep did not finish within 200 ms and was killed");
	assert_true(md_time_mono_ms() - t0 < 3000);
	assert_int_equal(status, -1);
	md_buf_clear(&out);
}

static void test_proc_output_cap(void **state)
{
	char *argv[] = { (char *)(uintptr_t) "head", (char *)(uintptr_t) "-c",
			 (char *)(uintptr_t) "100000", (char *)(uintptr_t) "/dev/zero", NULL };
	struct md_buf out;
	struct md_err err;
	int status = 0;

	(void)state;
	md_buf_init(&out, 1000);
	assert_int_equal(md_proc_run(argv, NULL, NULL, 0, &out, 5000, &status, &err), -1);
	assert_string_equal(err.msg, "head printed more than 1000 bytes");
	md_buf_clear(&out);
}

static void test_proc_missing_program(void **state)
{
	char *argv[] = { (char *)(uintptr_t) "md-no-such-program-7", NULL };
	struct md_buf out;
	struct md_err err;
	int status = 0;

	(void)state;
	md_buf_init(&out, 1000);
	assert_int_equal(md_proc_run(argv, NULL, "x", 1, &out, 5000, &status, &err), -1);
	assert_string_equal(err.msg, "cannot run md-no-such-program-7: No such file or directory");
	md_buf_clear(&out);
}

static void test_proc_child_ignores_stdin(void **state)
{
	char *argv[] = { (char *)(uintptr_t) "true", NULL };
	static char big[1 << 20]; /* more than a pipe holds: the write hits EPIPE */
	struct md_buf out;
	struct md_err err;
	int status = -1;

	(void)state;
	memset(big, 'x', sizeof(big));
	md_buf_init(&out, 1000);
	assert_int_equal(md_proc_run(argv, NULL, big, sizeof(big), &out, 5000, &status, &err), 0);
	assert_int_equal(status, 0);
	md_buf_clear(&out);
}

static void count_progress(void *ctx)
{
	(*(int *)ctx)++;
}

static void test_proc_exec_tail_cwd_group(void **state)
{
	char *argv[] = { (char *)(uintptr_t) "sh", (char *)(uintptr_t) "-c",
			 (char *)(uintptr_t) "pwd; echo 0123456789 >&2; exit 4", NULL };
	struct md_proc_opts o = { 0 };
	struct md_buf out;
	struct md_err err;
	int status = -1;

	(void)state;
	md_buf_init(&out, 8);
	o.cwd = "/tmp";
	o.out = &out;
	o.out_tail = 1; /* stdout + stderr merged; only the last 8 bytes stay */
	o.own_group = 1;
	o.timeout_ms = 5000;
	assert_int_equal(md_proc_exec(argv, &o, &status, &err), 0);
	assert_int_equal(status, 4);
	assert_string_equal(out.data, "3456789\n");
	md_buf_clear(&out);
}

static void test_proc_exec_err_tail_and_file(void **state)
{
	char *argv[] = { (char *)(uintptr_t) "not-looked-up", (char *)(uintptr_t) "-c",
			 (char *)(uintptr_t) "printf out; printf abcdef >&2", NULL };
	struct md_proc_opts o = { 0 };
	struct md_buf out, etail;
	struct md_err err;
	int status = -1;

	(void)state;
	md_buf_init(&out, 100);
	md_buf_init(&etail, 3);
	o.file = "/bin/sh"; /* argv[0] is only the name the child sees */
	o.out = &out;
	o.err_tail = &etail;
	o.timeout_ms = 5000;
	assert_int_equal(md_proc_exec(argv, &o, &status, &err), 0);
	assert_int_equal(status, 0);
	assert_string_equal(out.data, "out");
	assert_string_equal(etail.data, "def");
	md_buf_clear(&out);
	md_buf_clear(&etail);
}

static void test_proc_exec_timeout_progress(void **state)
{
	/* sh's sleep holds stdout open: only the deadline ends the run. */
	char *argv[] = { (char *)(uintptr_t) "sh", (char *)(uintptr_t) "-c",
			 (char *)(uintptr_t) "sleep 30; true", NULL };
	struct md_proc_opts o = { 0 };
	struct md_buf out;
	struct md_err err;
	int status = 0, ticks = 0;

	(void)state;
	md_buf_init(&out, 100);
	o.out = &out;
	o.own_group = 1;
	o.progress = count_progress;
	o.progress_ctx = &ticks;
	o.timeout_ms = 2500;
	assert_int_equal(md_proc_exec(argv, &o, &status, &err), MD_PROC_TIMEOUT);
	assert_string_equal(err.msg, "sh did not finish within 2500 ms and was killed");
	assert_int_equal(status, -1);
	assert_true(ticks >= 1);
	md_buf_clear(&out);
}

static void test_path_find(void **state)
{
	char dir[] = "/tmp/md-test-path-XXXXXX";
	char *exe, *plain, *path, *found;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	exe = md_asprintf("%s/tool", dir);
	plain = md_asprintf("%s/data", dir);
	f = fopen(exe, "w");
	fputs("#!/bin/sh\n", f);
	fclose(f);
	chmod(exe, 0755);
	f = fopen(plain, "w");
	fclose(f);
	chmod(plain, 0644);
	path = md_asprintf("/nonexistent::%s", dir);

	found = md_path_find("tool", path);
	assert_string_equal(found, exe); /* found after an empty and a missing entry */
	free(found);
	assert_null(md_path_find("data", path)); /* not executable */
	assert_null(md_path_find("missing", path));
	assert_null(md_path_find("", path));
	found = md_path_find(exe, "/nonexistent");
	assert_string_equal(found, exe); /* a path is taken as it is */
	free(found);
	assert_null(md_path_find(plain, path));
	unlink(exe);
	unlink(plain);
	rmdir(dir);
	free(exe);
	free(plain);
	free(path);
}

static void test_proc_exec_missing_in_cwd(void **state)
{
	char *argv[] = { (char *)(uintptr_t) "true", NULL };
	struct md_proc_opts o = { 0 };
	struct md_buf out;
	struct md_err err;
	int status = 0;

	(void)state;
	md_buf_init(&out, 100);
	o.file = "/nonexistent/md-true";
	o.cwd = "/tmp";
	o.out = &out;
	o.timeout_ms = 5000;
	assert_int_equal(md_proc_exec(argv, &o, &status, &err), -1);
	assert_string_equal(err.msg, "cannot run true in /tmp: No such file or directory");
	md_buf_clear(&out);
}

/* What md_free_secret handed back to the allocator, checked on the way. */
static struct {
	const void *p[64];
	size_t n[64];
	int count, dirty;
} freed;

static void watch_free(const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		freed.dirty |= c[i] != 0;
	if (freed.count < 64) {
		freed.p[freed.count] = p;
		freed.n[freed.count] = n;
	}
	freed.count++;
}

/* A growing buffer moves its bytes by hand: every block it lets go of
 * (each growth, then the free) is zeroed first, so a token read in pieces
 * leaves no copy behind in freed memory. */
static void test_buf_growth_leaves_no_copy(void **state)
{
	static const char secret[] = "ghs_0123456789abcdefghijklmnopqrstuvwxyz";
	struct md_buf b;
	const void *blocks[16];
	int nblocks = 0;

	(void)state;
	memset(&freed, 0, sizeof(freed));
	md_util__freeing_secret = watch_free;
	md_buf_init(&b, 1 << 20);
	for (int i = 0; i < 200; i++) {
		const void *before = b.data;

		assert_int_equal(md_buf_append(&b, secret, sizeof(secret) - 1), 0);
		if (before && before != b.data && nblocks < 16)
			blocks[nblocks++] = before;
	}
	assert_true(nblocks >= 5); /* 64 → 16384: it grew, and moved, every time */
	assert_int_equal(freed.count, nblocks);
	for (int i = 0; i < nblocks; i++)
		assert_ptr_equal(freed.p[i], blocks[i]);
	assert_memory_equal(b.data + 199 * (sizeof(secret) - 1), secret, sizeof(secret) - 1);
	assert_int_equal(memcmp(b.data, secret, sizeof(secret) - 1), 0);

	const void *last = b.data;
	size_t cap = b.cap;

	md_buf_clear(&b);
	assert_int_equal(freed.count, nblocks + 1);
	assert_ptr_equal(freed.p[nblocks], last);
	assert_int_equal(freed.n[nblocks], cap);
	assert_false(freed.dirty);
	md_util__freeing_secret = NULL;
}

/* In a child (the flags are for the whole process): no core dump, not
 * dumpable, and no way to raise the limit again. */
static void test_forbid_dumps(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl, up = { 1 << 20, 1 << 20 };
		struct md_err err;

		if (prctl(PR_GET_DUMPABLE) != 1 || md_proc_forbid_dumps(&err) < 0)
			_exit(10);
		if (prctl(PR_GET_DUMPABLE) != 0)
			_exit(11);
		if (getrlimit(RLIMIT_CORE, &rl) < 0 || rl.rlim_cur != 0 || rl.rlim_max != 0)
			_exit(12);
		/* Lowering the hard limit is for good (as root: without
		 * CAP_SYS_RESOURCE this fails; with it, that is root's choice). */
		if (geteuid() != 0 && setrlimit(RLIMIT_CORE, &up) == 0)
			_exit(13);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_bounded), cmocka_unit_test(test_duration),
		cmocka_unit_test(test_buf_growth_leaves_no_copy),
		cmocka_unit_test(test_forbid_dumps),
		cmocka_unit_test(test_rfc3339),     cmocka_unit_test(test_atomic_write),
		cmocka_unit_test(test_digest),      cmocka_unit_test(test_strv),
		cmocka_unit_test(test_proc_stdin_to_stdout),
		cmocka_unit_test(test_proc_exit_status_and_stderr),
		cmocka_unit_test(test_proc_timeout_kills),
		cmocka_unit_test(test_proc_output_cap),
		cmocka_unit_test(test_proc_missing_program),
		cmocka_unit_test(test_proc_child_ignores_stdin),
		cmocka_unit_test(test_proc_exec_tail_cwd_group),
		cmocka_unit_test(test_proc_exec_err_tail_and_file),
		cmocka_unit_test(test_proc_exec_timeout_progress),
		cmocka_unit_test(test_proc_exec_missing_in_cwd),
		cmocka_unit_test(test_path_find),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

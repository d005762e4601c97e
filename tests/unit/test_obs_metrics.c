/* obs: the Prometheus text renderer (escaping, histogram buckets, family
 * layout), the registry table, and the /healthz rule. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magos/obs.h"

static char *render(const struct md_obs_snapshot *s, int64_t rss)
{
	struct md_buf b;

	md_buf_init(&b, 1 << 20);
	assert_int_equal(md_metrics_render(&b, s, rss), 0);
	return md_buf_steal(&b);
}

static void test_label_escaping(void **state)
{
	struct md_buf b;

	(void)state;
	md_buf_init(&b, 256);
	assert_int_equal(md_metrics_escape_label(&b, "a\\b\"c\nd"), 0);
	assert_string_equal(b.data, "a\\\\b\\\"c\\nd");
	md_buf_clear(&b);
}

static void test_histogram_buckets(void **state)
{
	struct md_obs_snapshot s;
	char *out;

	(void)state;
	md_obs_snapshot_init(&s, 1700000000, 1000, 60);
	md_obs_observe_duration(&s, 0.01);
	md_obs_observe_duration(&s, 0.3);
	md_obs_observe_duration(&s, 2.5); /* on a bound: counted in it (le) */
	md_obs_observe_duration(&s, 1000);
	out = render(&s, -1);
	assert_non_null(strstr(out, "magos_cycle_duration_seconds_bucket{le=\"0.05\"} 1\n"
				    "magos_cycle_duration_seconds_bucket{le=\"0.1\"} 1\n"
				    "magos_cycle_duration_seconds_bucket{le=\"0.25\"} 1\n"
				    "magos_cycle_duration_seconds_bucket{le=\"0.5\"} 2\n"
				    "magos_cycle_duration_seconds_bucket{le=\"1\"} 2\n"
				    "magos_cycle_duration_seconds_bucket{le=\"2.5\"} 3\n"));
	assert_non_null(strstr(out, "magos_cycle_duration_seconds_bucket{le=\"300\"} 3\n"
				    "magos_cycle_duration_seconds_bucket{le=\"+Inf\"} 4\n"
				    "magos_cycle_duration_seconds_sum 1002.81\n"
				    "magos_cycle_duration_seconds_count 4\n"));
	free(out);
}

/* Name of the family a sample line belongs to. */
static void family_of(const char *line, char *out, size_t outlen)
{
	static const char *const suffixes[] = { "_bucket", "_sum", "_count" };
	size_t n = strcspn(line, "{ ");

	snprintf(out, outlen, "%.*s", (int)n, line);
	for (size_t i = 0; i < 3; i++) {
		size_t sl = strlen(suffixes[i]), ol = strlen(out);

		if (ol > sl && !strcmp(out + ol - sl, suffixes[i]) &&
		    !strncmp(out, "magos_cycle_duration_seconds", 28))
			out[ol - sl] = '\0';
	}
}

static void test_families_contiguous_with_help_and_type(void **state)
{
	struct md_obs_snapshot s;
	char *out, *save = NULL, seen[64][96], cur[96] = "", typed[96] = "";
	size_t nseen = 0, samples = 0;

	(void)state;
	md_obs_snapshot_init(&s, 1700000000, 1000, 60);
	md_obs_reg_add(&s, "ghcr.io", "GET", "2xx", 3);
	md_obs_reg_add(&s, "127.0.0.1:5000", "HEAD", "error", 1);
	md_obs_reg_add(&s, "ghcr.io", "GET", "2xx", 2);
	s.cycles[MD_OBS_SUCCESS] = 5;
	out = render(&s, 4096);
	assert_int_equal(out[strlen(out) - 1], '\n');
	for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char fam[96];

		if (!strncmp(line, "# HELP ", 7)) {
			family_of(line + 7, fam, sizeof(fam));
			for (size_t i = 0; i < nseen; i++)
				assert_string_not_equal(seen[i], fam); /* never reopened */
			assert_true(nseen < 64);
			strcpy(seen[nseen++], fam);
			strcpy(cur, fam);
			typed[0] = '\0';
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			family_of(line + 7, fam, sizeof(fam));
			assert_string_equal(fam, cur);
			strcpy(typed, fam);
			continue;
		}
		family_of(line, fam, sizeof(fam));
		assert_string_equal(fam, cur);   /* a sample of the open family */
		assert_string_equal(typed, cur); /* TYPE came before it */
		samples++;
	}
	assert_true(samples > 20);
	free(out);
	out = render(&s, 4096);
	assert_non_null(strstr(out, "magos_registry_requests_total{host=\"ghcr.io\",method=\"GET\","
				    "code=\"2xx\"} 5\n"));
	assert_non_null(strstr(out, "magos_registry_requests_total{host=\"127.0.0.1:5000\","
				    "method=\"HEAD\",code=\"error\"} 1\n"));
	assert_non_null(strstr(out, "magos_cycles_total{result=\"success\"} 5\n"
				    "magos_cycles_total{result=\"problems\"} 0\n"
				    "magos_cycles_total{result=\"failure\"} 0\n"));
	assert_non_null(strstr(out, "# TYPE magos_build_info gauge\nmagos_build_info{version=\""));
	assert_non_null(strstr(out, "process_resident_memory_bytes 4096\n"));
	assert_non_null(strstr(out, "process_start_time_seconds 1700000000\n"));
	assert_non_null(strstr(out, "magos_last_success_timestamp_seconds 0\n"));
	free(out);
}

static void test_registry_table_overflow(void **state)
{
	struct md_obs_snapshot s;
	char host[32];

	(void)state;
	md_obs_snapshot_init(&s, 0, 0, 60);
	for (int i = 0; i < MD_OBS_REG_ROWS + 10; i++) {
		snprintf(host, sizeof(host), "h%d", i);
		md_obs_reg_add(&s, host, "GET", "2xx", 1);
	}
	assert_int_equal(s.nreg, MD_OBS_REG_ROWS);
	assert_string_equal(s.reg[MD_OBS_REG_ROWS - 1].host, "other");
	assert_int_equal(s.reg[MD_OBS_REG_ROWS - 1].n, 11); /* totals stay right */
	assert_int_equal(s.reg[0].n, 1);
}

static int health(const struct md_obs_snapshot *s, int64_t now, char *body, size_t len)
{
	struct md_buf b;
	int code;

	md_buf_init(&b, 4096);
	code = md_health_eval(s, now, &b);
	snprintf(body, len, "%s", b.data ? b.data : "");
	md_buf_clear(&b);
	return code;
}

static void test_health(void **state)
{
	struct md_obs_snapshot s;
	char body[1024];

	(void)state;
	md_obs_snapshot_init(&s, 1700000000, 10000, 1); /* window: 3 s */
	/* Start-up grace: within 3 × interval of the start. */
	assert_int_equal(health(&s, 12000, body, sizeof(body)), 200);
	assert_non_null(strstr(body, "\"status\":\"ok\""));
	assert_int_equal(health(&s, 13001, body, sizeof(body)), 503);
	assert_non_null(strstr(body, "\"reason\":\"no cycle finished yet after 3s\""));

	s.cycle = 1;
	s.last_result = MD_OBS_SUCCESS;
	s.last_success = 1700000004;
	s.last_success_mono_ms = 14000;
	assert_int_equal(health(&s, 16000, body, sizeof(body)), 200);
	assert_non_null(strstr(body, "\"last_result\":\"success\""));
	assert_non_null(strstr(body, "\"last_success\":\"2023-11-14T22:13:24Z\""));

	s.cycle = 5;
	s.last_result = MD_OBS_FAILURE;
	strcpy(s.last_error, "cannot reach 127.0.0.1:5000");
	assert_int_equal(health(&s, 17500, body, sizeof(body)), 503);
	assert_non_null(strstr(body, "\"status\":\"unhealthy\""));
	assert_non_null(strstr(body, "last successful cycle 3s ago (limit 3s); last error: cannot "
				     "reach 127.0.0.1:5000"));

	/* Cycles ran but none succeeded since the start. */
	s.last_success = 0;
	s.last_success_mono_ms = 0;
	assert_int_equal(health(&s, 20000, body, sizeof(body)), 503);
	assert_non_null(strstr(body, "no successful cycle since the start 10s ago"));
}

/* An error text cut inside a UTF-8 character (last_error holds 255 bytes)
 * still gives the reason (found by fuzz_obs). */
static void test_health_reason_not_utf8(void **state)
{
	struct md_obs_snapshot s;
	char body[1024];

	(void)state;
	md_obs_snapshot_init(&s, 1700000000, 10000, 1);
	s.cycle = 2;
	strcpy(s.last_error, "registry said caf\xc3");
	assert_int_equal(health(&s, 20000, body, sizeof(body)), 503);
	assert_non_null(strstr(body, "\"reason\":\"no successful cycle since the start 10s ago; "
				     "last error: registry said caf\xef\xbf\xbd\""));
}

static void test_rss(void **state)
{
	(void)state;
	assert_true(md_metrics_rss_bytes() > 0);
}

static void test_shared_snapshot(void **state)
{
	struct md_obs *o;
	struct md_obs_snapshot a, b;

	(void)state;
	assert_int_equal(md_obs_new(&o, NULL), 0);
	md_obs_read(o, &b);
	assert_int_equal(b.last_result, -1);
	md_obs_snapshot_init(&a, 5, 6, 7);
	a.cycle = 3;
	md_obs_publish(o, &a);
	md_obs_read(o, &b);
	assert_int_equal(b.cycle, 3);
	assert_int_equal(b.interval, 7);
	md_obs_free(o);
	md_obs_free(NULL);
	md_http_stop(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_histogram_buckets),
		cmocka_unit_test(test_families_contiguous_with_help_and_type),
		cmocka_unit_test(test_registry_table_overflow),
		cmocka_unit_test(test_health),
		cmocka_unit_test(test_health_reason_not_utf8),
		cmocka_unit_test(test_rss),
		cmocka_unit_test(test_shared_snapshot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

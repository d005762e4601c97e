/* Clocks, durations and RFC 3339 timestamps. */
#include "magos/util.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t md_time_now(void)
{
	return (int64_t)time(NULL);
}

int64_t md_time_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int unit_seconds(const char *u, size_t n, int64_t *mul, int *is_ms)
{
	static const struct {
		const char *name;
		int64_t secs;
	} units[] = { { "s", 1 },     { "m", 60 },     { "h", 3600 },
		      { "d", 86400 }, { "w", 604800 }, { "ms", 0 } };

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strlen(units[i].name) == n && memcmp(units[i].name, u, n) == 0) {
			*mul = units[i].secs;
			*is_ms = units[i].secs == 0;
			return 0;
		}
	}
	return -1;
}

int md_duration_parse(const char *s, int64_t *out, struct md_err *err)
{
	const char *p = s;
	int64_t total_ms = 0;

	if (!s || !*s)
		return md_err_set(err, "empty duration (expected e.g. 90s, 5m, 1h)");
	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	while (*p) {
		int64_t v = 0, mul;
		const char *u;
		int is_ms, digits = 0;

		while (isdigit((unsigned char)*p)) {
			if (v > 1000000000LL)
				return md_err_set(err, "duration '%s' is too large", s);
			v = v * 10 + (*p++ - '0');
			digits++;
		}
		u = p;
		while (isalpha((unsigned char)*p))
			p++;
		if (!digits || p == u || unit_seconds(u, (size_t)(p - u), &mul, &is_ms) < 0)
			return md_err_set(err,
					  "invalid duration '%s' (expected a number and a unit "
					  "ms/s/m/h/d/w, e.g. 90s, 5m, 1h30m)", s);
		total_ms += is_ms ? v : v * mul * 1000;
		if (total_ms > 100LL * 365 * 86400 * 1000)
			return md_err_set(err, "duration '%s' is too large", s);
	}
	*out = (total_ms + 999) / 1000;
	return 0;
}

void md_duration_format(int64_t secs, char *out, size_t outlen)
{
	int64_t d = secs / 86400, h = secs % 86400 / 3600;
	int64_t m = secs % 3600 / 60, s = secs % 60;
	size_t n = 0;

	out[0] = '\0';
	if (secs <= 0) {
		snprintf(out, outlen, "0s");
		return;
	}
	if (d)
		n += (size_t)snprintf(out + n, n < outlen ? outlen - n : 0, "%lldd", (long long)d);
	if (h && n < outlen)
		n += (size_t)snprintf(out + n, outlen - n, "%lldh", (long long)h);
	if (m && n < outlen)
		n += (size_t)snprintf(out + n, outlen - n, "%lldm", (long long)m);
	if (s && n < outlen)
		snprintf(out + n, outlen - n, "%llds", (long long)s);
}

static int parse_digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static int expect(const char **p, const char *set)
{
	if (!**p || !strchr(set, **p))
		return -1;
	(*p)++;
	return 0;
}

int md_time_parse_rfc3339(const char *s, int64_t *out, struct md_err *err)
{
	const char *p = s;
	struct tm tm;
	int Y, M, D, h, m, sec, oh = 0, om = 0, sign = 0;

	memset(&tm, 0, sizeof(tm));
	if (parse_digits(&p, 4, &Y) || expect(&p, "-") || parse_digits(&p, 2, &M) ||
	    expect(&p, "-") || parse_digits(&p, 2, &D) || expect(&p, "Tt ") ||
	    parse_digits(&p, 2, &h) || expect(&p, ":") || parse_digits(&p, 2, &m) ||
	    expect(&p, ":") || parse_digits(&p, 2, &sec))
		goto bad;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			goto bad;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (parse_digits(&p, 2, &oh) || expect(&p, ":") || parse_digits(&p, 2, &om))
			goto bad;
	} else {
		goto bad;
	}
	if (*p || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
		goto bad;
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	*out = (int64_t)timegm(&tm) - sign * (oh * 3600 + om * 60);
	return 0;
bad:
	return md_err_set(err, "invalid RFC 3339 timestamp '%s'", s);
}

void md_time_format_rfc3339(int64_t t, char *out, size_t outlen)
{
	time_t tt = (time_t)t;
	struct tm tm;

	/* A year beyond int (from a header) leaves tm unset. */
	if (!gmtime_r(&tt, &tm)) {
		md_strlcpy(out, "(time out of range)", outlen);
		return;
	}
	strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

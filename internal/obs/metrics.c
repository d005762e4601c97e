/* Prometheus text exposition 0.0.4 (docs/protocols.md, Prometheus text format) of one snapshot.
 * Every family has HELP and TYPE before its samples, its lines together;
 * labelled counters show every known label value from the start (0) so
 * rate() works from the first scrape. Names pass `promtool check metrics`. */
#include "magos/obs.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef MD_VERSION
#define MD_VERSION "0.0.0"
#endif

int md_metrics_escape_label(struct md_buf *out, const char *v)
{
	for (const char *p = v; *p; p++) {
		int rc;

		if (*p == '\\')
			rc = md_buf_puts(out, "\\\\");
		else if (*p == '"')
			rc = md_buf_puts(out, "\\\"");
		else if (*p == '\n')
			rc = md_buf_puts(out, "\\n");
		else
			rc = md_buf_append(out, p, 1);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int family(struct md_buf *b, const char *name, const char *type, const char *help)
{
	return md_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{label="value"} n */
static int labelled(struct md_buf *b, const char *name, const char *label, const char *value,
		    uint64_t n)
{
	if (md_buf_printf(b, "%s{%s=\"", name, label) < 0 || md_metrics_escape_label(b, value) < 0)
		return -1;
	return md_buf_printf(b, "\"} %" PRIu64 "\n", n);
}

static int counter_set(struct md_buf *b, const char *name, const char *help, const char *label,
		       const char *const *values, const uint64_t *n, size_t count)
{
	int rc = family(b, name, "counter", help);

	for (size_t i = 0; i < count && rc == 0; i++)
		rc = labelled(b, name, label, values[i], n[i]);
	return rc;
}

static int render_histogram(struct md_buf *b, const struct md_obs_snapshot *s)
{
	static const char name[] = "magos_cycle_duration_seconds";
	uint64_t cum = 0;
	int rc = family(b, name, "histogram", "How long reconcile cycles took.");

	for (size_t i = 0; i < MD_OBS_BUCKETS && rc == 0; i++) {
		cum += s->duration_buckets[i];
		rc = md_buf_printf(b, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name,
				   md_obs_bucket_bounds[i], cum);
	}
	cum += s->duration_buckets[MD_OBS_BUCKETS];
	if (rc == 0)
		rc = md_buf_printf(b, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n%s_sum %.9g\n"
				   "%s_count %" PRIu64 "\n", name, cum, name, s->duration_sum,
				   name, cum);
	return rc;
}

static int render_registry(struct md_buf *b, const struct md_obs_snapshot *s)
{
	static const char name[] = "magos_registry_requests_total";
	int rc = family(b, name, "counter",
			"Registry HTTP requests by host, method and status class.");

	for (size_t i = 0; i < s->nreg && rc == 0; i++) {
		const struct md_obs_reg_row *r = &s->reg[i];

		rc = md_buf_printf(b, "%s{host=\"", name);
		rc = rc ? rc : md_metrics_escape_label(b, r->host);
		rc = rc ? rc : md_buf_puts(b, "\",method=\"");
		rc = rc ? rc : md_metrics_escape_label(b, r->method);
		rc = rc ? rc : md_buf_puts(b, "\",code=\"");
		rc = rc ? rc : md_metrics_escape_label(b, r->code);
		rc = rc ? rc : md_buf_printf(b, "\"} %" PRIu64 "\n", r->n);
	}
	return rc;
}

static int render_cycles(struct md_buf *b, const struct md_obs_snapshot *s)
{
	static const char *const results[] = { "success", "problems", "failure" };
	static const char *const updates[] = { "pushed", "committed", "proposed", "failed" };
	static const char *const stacks[] = { "applied", "failed", "rolled_back" };
	const uint64_t pushes[] = { s->pushes_ok, s->pushes_failed };
	static const char *const push_results[] = { "success", "failure" };

	if (counter_set(b, "magos_cycles_total", "Reconcile cycles by result (problems: some "
			"sites were skipped).", "result", results, s->cycles, MD_OBS_NRESULTS) ||
	    render_histogram(b, s) ||
	    family(b, "magos_images_watched", "gauge",
		   "Annotated image sites seen in the last cycle.") ||
	    md_buf_printf(b, "magos_images_watched %" PRIu64 "\n", s->sites) ||
	    counter_set(b, "magos_updates_total", "Image updates by result.", "result", updates,
			s->updates, MD_OBS_NUPDATES) ||
	    counter_set(b, "magos_git_pushes_total", "Pushes to the Git remote by result.",
			"result", push_results, pushes, 2) ||
	    counter_set(b, "magos_stack_applies_total", "Stacks applied by result.", "result",
			stacks, s->stacks, MD_OBS_NSTACKS) ||
	    family(b, "magos_drift_repairs_total", "counter",
		   "Stacks re-applied because the running containers drifted.") ||
	    md_buf_printf(b, "magos_drift_repairs_total %" PRIu64 "\n", s->drift_repairs))
		return -1;
	return 0;
}

int md_metrics_render(struct md_buf *out, const struct md_obs_snapshot *s, int64_t rss_bytes)
{
	if (family(out, "magos_build_info", "gauge", "Build information; always 1.") ||
	    labelled(out, "magos_build_info", "version", MD_VERSION, 1) ||
	    render_cycles(out, s) ||
	    (s->nreg && render_registry(out, s)) ||
	    family(out, "magos_last_success_timestamp_seconds", "gauge",
		   "When the last cycle without problems finished (0: never).") ||
	    md_buf_printf(out, "magos_last_success_timestamp_seconds %lld\n",
			  (long long)s->last_success) ||
	    family(out, "process_start_time_seconds", "gauge",
		   "Start time of the process since the Unix epoch in seconds.") ||
	    md_buf_printf(out, "process_start_time_seconds %lld\n", (long long)s->start_time))
		return -1;
	if (rss_bytes >= 0 &&
	    (family(out, "process_resident_memory_bytes", "gauge",
		    "Resident memory size in bytes.") ||
	     md_buf_printf(out, "process_resident_memory_bytes %lld\n", (long long)rss_bytes)))
		return -1;
	return 0;
}

int64_t md_metrics_rss_bytes(void)
{
	unsigned long long size, resident;
	long page = sysconf(_SC_PAGESIZE);
	FILE *f = fopen("/proc/self/statm", "re");
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "%llu %llu", &size, &resident);
	fclose(f);
	if (n != 2 || page <= 0)
		return -1;
	return (int64_t)(resident * (unsigned long long)page);
}

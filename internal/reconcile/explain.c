/* `explain FILE:LINE`: one site through the watcher, exactly as a cycle
 * would decide it, with nothing written (no state, no file, no fetch). */
#include "reconcile_int.h"

#include "magos/state.h"

#include <stdlib.h>
#include <string.h>

/* Read and scan FILE of the clone; find the annotated site on LINE. */
static int find_site(const struct md_settings *s, const char *spec,
		     struct md_compose_file **scan, const struct md_compose_site **site,
		     struct md_err *err)
{
	const char *colon = strrchr(spec, ':');
	char *rel = NULL, *abs = NULL, *data = NULL, *end = NULL;
	size_t len;
	long line = colon ? strtol(colon + 1, &end, 10) : 0;
	int rc = -1;

	if (!colon || line <= 0 || *end)
		return md_err_set(err, "expected FILE:LINE, got '%s'", spec);
	rel = md_strndup(spec, (size_t)(colon - spec));
	abs = rel ? md_asprintf("%s/%s", s->repo, rel) : NULL;
	if (!abs) {
		md_err_set(err, "out of memory");
		goto out;
	}
	if (md_file_read(abs, MD_COMPOSE_MAX_FILE, &data, &len, err) < 0 ||
	    md_compose_scan(scan, rel, data, len, err) < 0)
		goto out;
	for (size_t i = 0; i < md_compose_site_count(*scan); i++) {
		if (md_compose_site_at(*scan, i)->line == line) {
			*site = md_compose_site_at(*scan, i);
			rc = 0;
			goto out;
		}
	}
	for (size_t i = 0; i < md_compose_problem_count(*scan); i++)
		if (md_compose_problem_line(*scan, i) == line) {
			md_err_set(err, "%s", md_compose_problem_at(*scan, i));
			goto out;
		}
	md_err_set(err, "%s:%ld: no annotated image on this line", rel, line);
out:
	free(data);
	free(abs);
	free(rel);
	return rc;
}

int md_daemon_explain(const struct md_config *cfg, const char *spec, int64_t now,
		      struct md_decision **decision, char **problem, struct md_err *err)
{
	const struct md_settings *s = md_config_settings(cfg);
	const struct md_compose_site *site = NULL;
	struct md_compose_file *scan = NULL;
	struct md_watch_site ws = { 0 };
	struct md_registry *reg = NULL;
	struct md_policy *policy = NULL;
	struct md_ref *ref = NULL;
	struct md_state *st = NULL;
	char platform[128];
	struct md_decide_ctx ctx = { .now = now, .host_platform = platform };
	int rc = -1;

	*decision = NULL;
	*problem = NULL;
	md_watcher_host_platform(platform, sizeof(platform));
	if (find_site(s, spec, &scan, &site, err) < 0)
		goto out;
	if (md_ref_parse(&ref, site->value, err) < 0 ||
	    md_policy_parse(&policy, site->annotation, err) < 0) {
		md_err_prefix(err, "%s", spec);
		goto out;
	}
	ws.ref = ref;
	ws.policy = policy;
	/* The cache is read (facts by digest, first sightings for minAge) but
	 * never written: explain changes nothing. */
	if (md_state_load_readonly(&st, s->state_dir, err) < 0 ||
	    md_reconcile__new_registry(cfg, NULL, NULL, &reg, err) < 0 ||
	    md_watcher_resolve_ctx(reg, st, &ws, 1, &ctx, err) < 0)
		goto out;
	if (ws.error && !(*problem = md_strdup(ws.error))) {
		md_err_set(err, "out of memory");
		goto out;
	}
	*decision = ws.decision;
	ws.decision = NULL;
	rc = 0;
out:
	md_watch_site_clear(&ws);
	md_state_free(st);
	md_registry_free(reg);
	md_policy_free(policy);
	md_ref_free(ref);
	md_compose_free(scan);
	return rc;
}

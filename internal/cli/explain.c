/* explain: why each tag was kept or dropped for one site, from the live
 * registry (FILE:LINE) or offline (--annotation, --current, --tags). */
#include "cli_int.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "magos/compose.h"
#include "magos/gitops.h"
#include "magos/obs.h"
#include "magos/policy.h"
#include "magos/ref.h"
#include "magos/registry.h"

#define TAGS_FILE_MAX (16u * 1024 * 1024)

struct explain_args {
	const char *annotation;
	const char *current;
	const char *tags_file;
	const char *site; /* FILE:LINE */
	const char *now;  /* --now RFC3339, for reproducible output */
	int json;
};

/* The candidate tags: offline, the file's lines (tags point into data);
 * live, the registry's list. */
struct tag_list {
	struct md_strv live;
	char *data;
	char **tags;
	size_t n, cap;
	int64_t *created;       /* offline only; 0 when the line gives none */
	struct md_strv *plats;  /* offline only; empty when the line gives none */
};

static void tag_list_free(struct tag_list *l)
{
	for (size_t i = 0; i < l->n && l->plats; i++)
		md_strv_free(&l->plats[i]);
	free(l->plats);
	free(l->created);
	if (l->tags != l->live.v)
		free(l->tags);
	md_strv_free(&l->live);
	free(l->data);
}

/* Doubling, so 100,000 lines cost no quadratic copying. */
static int tag_list_grow(struct tag_list *l)
{
	size_t cap = l->cap ? l->cap * 2 : 64;
	int64_t *cr;
	struct md_strv *pl;
	char **tg;

	if (l->n < l->cap)
		return 0;
	tg = realloc(l->tags, cap * sizeof(*tg));
	if (!tg)
		return -1;
	l->tags = tg;
	cr = realloc(l->created, cap * sizeof(*cr));
	if (!cr)
		return -1;
	l->created = cr;
	pl = realloc(l->plats, cap * sizeof(*pl));
	if (!pl)
		return -1;
	l->plats = pl;
	l->cap = cap;
	return 0;
}

/* The optional columns after the tag: a creation time and/or a
 * comma-separated platform list (told apart by the '/'). */
static int read_columns(struct tag_list *l, size_t i, char **tok_save, struct md_err *err)
{
	char *col;

	while ((col = strtok_r(NULL, " \t\r", tok_save)) != NULL) {
		if (col[0] == '#')
			break;
		if (strchr(col, '/')) {
			if (md_strv_split(&l->plats[i], col, ",") < 0)
				return md_err_set(err, "out of memory");
		} else if (md_time_parse_rfc3339(col, &l->created[i], err) < 0) {
			return -1;
		}
	}
	return 0;
}

/* One tag a line: `tag [created-RFC3339] [os/arch[/variant],...]`; # comments. */
static int read_tags_file(const char *path, struct tag_list *l, struct md_err *err)
{
	char *save = NULL;
	size_t len, lineno = 0;

	if (md_file_read(path, TAGS_FILE_MAX, &l->data, &len, err) < 0)
		return -1;
	for (char *line = strtok_r(l->data, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *tok_save = NULL, *tag;
		size_t i = l->n;

		lineno++;
		tag = strtok_r(line, " \t\r", &tok_save);
		if (!tag || tag[0] == '#')
			continue;
		if (tag_list_grow(l) < 0)
			return md_err_set(err, "out of memory");
		l->tags[i] = tag;
		l->created[i] = 0;
		memset(&l->plats[i], 0, sizeof(l->plats[i]));
		l->n++;
		if (read_columns(l, i, &tok_save, err) < 0)
			return md_err_prefix(err, "%s:%zu", path, lineno);
	}
	return 0;
}

/* `uname -m` as an OCI platform; an unknown machine is taken as linux/<m>. */
static void host_platform(char *out, size_t outlen)
{
	struct utsname u;

	if (uname(&u) < 0) {
		snprintf(out, outlen, "linux/amd64");
		return;
	}
	if (md_policy_host_platform(u.machine, out, outlen) < 0)
		snprintf(out, outlen, "linux/%.40s", u.machine);
}

static void print_table(const struct md_decision *d)
{
	const char *chosen = md_decision_tag(d);

	printf("%-32s %-8s %s\n", "TAG", "RESULT", "REASON");
	for (size_t i = 0; i < md_decision_trace_count(d); i++) {
		const struct md_trace_entry *e = md_decision_trace_at(d, i);

		printf("%-32s %-8s %s\n", e->tag, e->kept ? "kept" : "dropped", e->reason);
	}
	if (md_decision_warning(d))
		printf("warning: %s\n", md_decision_warning(d));
	printf("decision: %s\n", chosen ? chosen : "none (the site is left as it is)");
}

static void print_json(const struct md_decision *d)
{
	json_t *o = json_object(), *cands = json_array();
	const char *chosen = md_decision_tag(d);
	char *s;

	json_object_set_new(o, "decision",
			    chosen ? json_pack("{s:s}", "tag", chosen) : json_null());
	for (size_t i = 0; i < md_decision_trace_count(d); i++) {
		const struct md_trace_entry *e = md_decision_trace_at(d, i);

		json_array_append_new(cands, json_pack("{s:s,s:b,s:s}", "tag", e->tag, "kept",
						       e->kept, "reason", e->reason));
	}
	json_object_set_new(o, "candidates", cands);
	if (md_decision_warning(d))
		json_object_set_new(o, "warning", json_string(md_decision_warning(d)));
	s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (s)
		printf("%s\n", s);
	free(s);
	json_decref(o);
}

/* Offline lines (l->created set) carry their facts, so the gates apply;
 * live tags have none. */
static int decide_and_print(const struct explain_args *a, const struct md_policy *p,
			    const char *current, const struct tag_list *l, int64_t now)
{
	struct md_candidate *cands = calloc(l->n ? l->n : 1, sizeof(*cands));
	struct md_decision *d = NULL;
	struct md_decide_ctx ctx = { now, NULL };
	char host[64];
	struct md_err err;

	if (!cands)
		return 1;
	host_platform(host, sizeof(host));
	ctx.host_platform = host;
	for (size_t i = 0; i < l->n; i++) {
		cands[i].tag = l->tags[i];
		if (!l->created)
			continue;
		cands[i].facts = 1;
		cands[i].created = l->created[i];
		if (l->plats[i].n) {
			cands[i].platforms = (const char *const *)l->plats[i].v;
			cands[i].nplatforms = l->plats[i].n;
		}
	}
	if (md_policy_decide_ctx(&d, p, current, cands, l->n, &ctx, &err) < 0) {
		free(cands);
		fprintf(stderr, "magos-dominus: %s\n", err.msg);
		return 1;
	}
	if (a->json)
		print_json(d);
	else
		print_table(d);
	md_decision_free(d);
	free(cands);
	return 0;
}

/* --now, else the clock. */
static int explain_now(const struct explain_args *a, int64_t *now)
{
	struct md_err err;

	*now = md_time_now();
	if (a->now && md_time_parse_rfc3339(a->now, now, &err) < 0) {
		fprintf(stderr, "magos-dominus: --now: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int explain_offline(const struct explain_args *a)
{
	struct tag_list l = { 0 };
	struct md_policy *p = NULL;
	struct md_err err;
	int64_t now;
	int rc = 1;

	if (explain_now(a, &now) < 0)
		return 2;
	if (md_policy_parse(&p, a->annotation, &err) < 0) {
		fprintf(stderr, "magos-dominus: --annotation: %s\n", err.msg);
		return 2;
	}
	if (read_tags_file(a->tags_file, &l, &err) < 0) {
		fprintf(stderr, "magos-dominus: %s\n", err.msg);
		goto out;
	}
	rc = decide_and_print(a, p, a->current, &l, now);
out:
	tag_list_free(&l);
	md_policy_free(p);
	return rc;
}

/* Find the site on FILE:LINE of the agent's clone. */
static int find_site(const struct md_settings *s, const char *spec, char **value,
		     char **annotation, struct md_err *err)
{
	const char *colon = strrchr(spec, ':');
	struct md_compose_file *f = NULL;
	char *rel, *abs, *data = NULL;
	size_t len;
	int line, rc = -1;

	if (!colon || (line = atoi(colon + 1)) <= 0)
		return md_err_set(err, "expected FILE:LINE, got '%s'", spec);
	rel = md_strndup(spec, (size_t)(colon - spec));
	abs = rel ? md_asprintf("%s/%s", s->repo, rel) : NULL;
	if (!abs || md_file_read(abs, MD_COMPOSE_MAX_FILE, &data, &len, err) < 0 ||
	    md_compose_scan(&f, rel, data, len, err) < 0)
		goto out;
	for (size_t i = 0; i < md_compose_site_count(f); i++) {
		const struct md_compose_site *site = md_compose_site_at(f, i);

		if (site->line == line) {
			*value = md_strdup(site->value);
			*annotation = md_strdup(site->annotation);
			rc = 0;
			goto out;
		}
	}
	md_err_set(err, "%s:%d: no annotated image on this line", rel, line);
out:
	md_compose_free(f);
	free(data);
	free(abs);
	free(rel);
	return rc;
}

static int explain_live(struct cli *c, const struct explain_args *a)
{
	struct md_config *cfg = NULL;
	const struct md_settings *s;
	struct md_registry_opts ro = { 0 };
	struct md_registry *reg = NULL;
	struct md_policy *p = NULL;
	struct md_ref *ref = NULL;
	struct tag_list l = { 0 };
	char *value = NULL, *annotation = NULL;
	struct md_err err;
	int64_t now;
	int rc;

	if (explain_now(a, &now) < 0)
		return 2;
	rc = cli_load_config(c, &cfg);
	if (rc)
		return rc;
	rc = 1;
	s = md_config_settings(cfg);
	ro.insecure_hosts = &s->insecure_registries;
	ro.ca_file = s->ca_file;
	ro.auth_file = s->registry_auth_file;
	ro.connect_timeout = 10;
	ro.timeout = s->registry_timeout;
	ro.user_agent = "magos-dominus/" MD_VERSION;
	ro.page_size = s->registry_page_size;
	if (find_site(s, a->site, &value, &annotation, &err) < 0 ||
	    md_ref_parse(&ref, value, &err) < 0 || md_policy_parse(&p, annotation, &err) < 0 ||
	    md_registry_new(&reg, &ro, &err) < 0)
		goto fail;
	if (md_policy_needs_tag_list(p)) {
		struct md_ref *watched = NULL;
		const char *over = md_policy_repo(p);

		if (over && md_ref_parse(&watched, over, &err) < 0)
			goto fail;
		rc = md_registry_list_tags(reg, md_ref_domain(watched ? watched : ref),
					   md_ref_path(watched ? watched : ref), &l.live, &err);
		md_ref_free(watched);
		if (rc < 0) {
			rc = 1;
			goto fail;
		}
	}
	l.tags = l.live.v;
	l.n = l.live.n;
	rc = decide_and_print(a, p, md_ref_tag(ref), &l, now);
	goto out;
fail:
	fprintf(stderr, "magos-dominus: %s\n", err.msg);
out:
	tag_list_free(&l);
	md_registry_free(reg);
	md_policy_free(p);
	md_ref_free(ref);
	free(value);
	free(annotation);
	md_config_free(cfg);
	return rc;
}

int cli_cmd_explain(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "annotation", required_argument, NULL, 'a' },
		{ "current", required_argument, NULL, 'c' },
		{ "tags", required_argument, NULL, 't' },
		{ "format", required_argument, NULL, 'f' },
		{ "now", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct explain_args a = { 0 };
	int o;

	optind = 0; /* argv[0] here is the subcommand itself */
	while ((o = getopt_long(argc + 1, argv - 1, "", opts, NULL)) != -1) {
		switch (o) {
		case 'a': a.annotation = optarg; break;
		case 'c': a.current = optarg; break;
		case 't': a.tags_file = optarg; break;
		case 'n': a.now = optarg; break;
		case 'f':
			if (strcmp(optarg, "json") && strcmp(optarg, "table")) {
				fprintf(stderr, "magos-dominus: --format must be table or json\n");
				return 2;
			}
			a.json = !strcmp(optarg, "json");
			break;
		default: return 2;
		}
	}
	if (optind < argc + 1)
		a.site = argv[optind - 1];
	if (a.annotation || a.tags_file) {
		if (!a.annotation || !a.tags_file || a.site) {
			fprintf(stderr, "magos-dominus: offline explain needs --annotation JSON "
					"--tags FILE [--current TAG] [--now RFC3339]\n");
			return 2;
		}
		return explain_offline(&a);
	}
	if (!a.site) {
		fprintf(stderr, "magos-dominus: explain needs FILE:LINE, or --annotation and --tags\n");
		return 2;
	}
	return explain_live(c, &a);
}

/* explain: why each tag was kept or dropped for one site, from the live
 * registry (FILE:LINE) or offline (--annotation, --current, --tags). */
#include "cli_int.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magos/daemon.h"
#include "magos/policy.h"
#include "magos/watcher.h"

#define TAGS_FILE_MAX (16u * 1024 * 1024)

struct explain_args {
	const char *annotation;
	const char *current;
	const char *tags_file;
	const char *site; /* FILE:LINE */
	const char *now;  /* --now RFC3339, for reproducible output */
	int json;
};

void md_cli__tags_free(struct cli_tags *l)
{
	for (size_t i = 0; i < l->n && l->plats; i++)
		md_strv_clear(&l->plats[i]);
	free(l->plats);
	free(l->created);
	if (l->tags != l->live.v)
		free(l->tags);
	md_strv_clear(&l->live);
	free(l->data);
}

/* Doubling, so 100,000 lines cost no quadratic copying. */
static int tag_list_grow(struct cli_tags *l)
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
static int read_columns(struct cli_tags *l, size_t i, char **tok_save, struct md_err *err)
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

int md_cli__tags_parse(struct cli_tags *l, const char *path, char *data, struct md_err *err)
{
	char *save = NULL;
	size_t lineno = 0;

	l->data = data;
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

static int read_tags_file(const char *path, struct cli_tags *l, struct md_err *err)
{
	char *data = NULL;

	if (md_file_read(path, TAGS_FILE_MAX, &data, NULL, err) < 0)
		return -1;
	return md_cli__tags_parse(l, path, data, err);
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

static void print_decision(const struct explain_args *a, const struct md_decision *d)
{
	if (a->json)
		print_json(d);
	else
		print_table(d);
}

/* Offline lines (l->created set) carry their facts, so the gates apply;
 * live tags have none. */
static int decide_and_print(const struct explain_args *a, const struct md_policy *p,
			    const char *current, const struct cli_tags *l, int64_t now)
{
	struct md_candidate *cands = calloc(l->n ? l->n : 1, sizeof(*cands));
	struct md_decision *d = NULL;
	struct md_decide_ctx ctx = { now, NULL };
	char host[64];
	struct md_err err;
	int rc;

	if (!cands)
		return 1;
	md_watcher_host_platform(host, sizeof(host));
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
	print_decision(a, d);
	/* The site would be reported, as a cycle reports it. */
	rc = md_decision_status(d) == MD_DECISION_UNREADABLE;
	if (rc)
		fprintf(stderr, "magos-dominus: %s\n", md_decision_problem(d));
	md_decision_free(d);
	free(cands);
	return rc;
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
	struct cli_tags l = { 0 };
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
	md_cli__tags_free(&l);
	md_policy_free(p);
	return rc;
}

/* FILE:LINE of the clone, decided the way a cycle decides it. */
static int explain_live(struct cli *c, const struct explain_args *a)
{
	struct md_config *cfg = NULL;
	struct md_decision *d = NULL;
	char *problem = NULL;
	struct md_err err;
	int64_t now;
	int rc;

	if (explain_now(a, &now) < 0)
		return 2;
	rc = md_cli__load_config(c, &cfg);
	if (rc)
		return rc;
	rc = md_daemon_explain(cfg, a->site, now, &d, &problem, &err) < 0 ? 1 : 0;
	if (rc)
		fprintf(stderr, "magos-dominus: %s\n", err.msg);
	else if (d)
		print_decision(a, d);
	if (problem) {
		fprintf(stderr, "magos-dominus: %s: %s\n", a->site, problem);
		rc = 1;
	}
	free(problem);
	md_decision_free(d);
	md_config_free(cfg);
	return rc;
}

int md_cli__cmd_explain(struct cli *c, int argc, char **argv)
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

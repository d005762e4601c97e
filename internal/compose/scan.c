/* compose — walk libyaml's events to find `image:` values.
 *
 * One pass over the events keeps a stack of open collections, so a node in
 * value position under an `image` key is recognised at any depth, in block
 * and flow style, and knows its service (the key above its mapping).
 * site.c decides what such a value is. libyaml reports an anchored or
 * tagged scalar's start at its properties, so those few sites get their
 * own start from a second, token-level pass. */
#include "compose_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- the walk ---------------------------------------------------------- */

static struct md_compose_frame *top(struct md_compose_walk *w)
{
	return w->depth ? &w->st[w->depth - 1] : NULL;
}

/* A node begins: remember scalar keys, inspect values of `image`. */
static int on_node(struct md_compose_walk *w, const yaml_event_t *ev)
{
	struct md_compose_frame *fr = top(w);

	if (!fr || !fr->is_map)
		return 0;
	if (fr->expect_key) {
		if (ev->type != YAML_SCALAR_EVENT)
			return 0;
		fr->key = md_strndup((const char *)ev->data.scalar.value,
				     ev->data.scalar.length);
		if (!fr->key)
			return -1;
		fr->key_len = ev->data.scalar.length;
		fr->key_end = ev->end_mark;
		return 0;
	}
	if (fr->key && fr->key_len == 5 && memcmp(fr->key, "image", 5) == 0)
		return md_compose__image_value(w, fr, ev);
	return 0;
}

/* A node ended: a mapping alternates between key and value. */
static void node_done(struct md_compose_walk *w)
{
	struct md_compose_frame *fr = top(w);

	if (!fr || !fr->is_map)
		return;
	if (fr->expect_key) {
		fr->expect_key = 0;
		return;
	}
	fr->expect_key = 1;
	free(fr->key);
	fr->key = NULL;
}

/* 1 when nesting is too deep, -1 on OOM. */
static int push(struct md_compose_walk *w, const yaml_event_t *ev)
{
	struct md_compose_frame *parent, *fr;
	int is_map = ev->type == YAML_MAPPING_START_EVENT;
	int flow = is_map ? ev->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE
			  : ev->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;

	if (w->depth >= MD_COMPOSE_MAX_DEPTH)
		return 1;
	if (w->depth == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;

		fr = realloc(w->st, cap * sizeof(*fr));
		if (!fr)
			return -1;
		w->st = fr;
		w->cap = cap;
	}
	parent = top(w); /* after the realloc: the stack may have moved */
	fr = &w->st[w->depth];
	memset(fr, 0, sizeof(*fr));
	fr->is_map = is_map;
	fr->expect_key = 1;
	fr->flow = flow || (parent && parent->flow);
	if (parent && parent->is_map && !parent->expect_key && parent->key) {
		fr->parent = md_strdup(parent->key);
		if (!fr->parent)
			return -1;
	}
	w->depth++;
	return 0;
}

static void pop(struct md_compose_walk *w)
{
	struct md_compose_frame *fr = top(w);

	if (!fr)
		return;
	free(fr->key);
	free(fr->parent);
	w->depth--;
}

/* 0 ok, 1 the file must be given up (problem recorded), -1 OOM. */
static int on_event(struct md_compose_walk *w, const yaml_event_t *ev)
{
	int rc;

	switch (ev->type) {
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		if (on_node(w, ev) < 0)
			return -1;
		rc = push(w, ev);
		if (rc > 0 && md_compose__add_problem(w, (int)ev->start_mark.line + 1,
						     "invalid YAML: nesting is deeper than %d levels",
						     MD_COMPOSE_MAX_DEPTH) < 0)
			return -1;
		return rc;
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		pop(w);
		node_done(w);
		return 0;
	case YAML_SCALAR_EVENT:
	case YAML_ALIAS_EVENT:
		if (on_node(w, ev) < 0)
			return -1;
		node_done(w);
		return 0;
	default:
		return 0;
	}
}

static int walk_events(struct md_compose_walk *w)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int rc = 0;

	if (md_compose__parser_init(&p, w->d, w->len) < 0)
		return -1;
	for (;;) {
		yaml_event_type_t type;

		if (!yaml_parser_parse(&p, &ev)) {
			if (p.error == YAML_MEMORY_ERROR) {
				rc = -1;
				break;
			}
			w->bad = 1;
			rc = md_compose__add_problem(w, md_compose__error_line(&p, w->d, w->len),
						    "invalid YAML: %s", md_compose__error_text(&p));
			break;
		}
		type = ev.type;
		rc = md_compose__before_event(w, &ev);
		if (rc == 0)
			rc = on_event(w, &ev);
		yaml_event_delete(&ev);
		w->ordinal++;
		if (rc != 0) {
			w->bad = rc > 0;
			rc = rc < 0 ? -1 : 0;
			break;
		}
		if (type == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&p);
	while (w->depth)
		pop(w);
	return rc;
}

/* ---- public ------------------------------------------------------------ */

static int cmp_problem(const void *a, const void *b)
{
	const struct md_compose_problem *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void drop_sites(struct md_compose_file *f)
{
	for (size_t i = 0; i < f->nsites; i++)
		md_compose__site_clear(&f->sites[i]);
	f->nsites = 0;
}

/* After a syntax error marks are unreliable: report only the error (the
 * problem found last), no sites. */
static void keep_only_error(struct md_compose_file *f)
{
	drop_sites(f);
	if (!f->nproblems)
		return;
	for (size_t i = 0; i + 1 < f->nproblems; i++)
		free(f->problems[i].text);
	f->problems[0] = f->problems[f->nproblems - 1];
	f->nproblems = 1;
}

static int scan_file(struct md_compose_file *f)
{
	struct md_compose_walk w;
	int rc;

	memset(&w, 0, sizeof(w));
	w.f = f;
	w.d = f->data + f->bom;
	w.len = f->len - f->bom;
	md_compose__cmap_init(&w.cm, w.d, w.len);
	rc = walk_events(&w);
	if (rc == 0 && !w.bad)
		rc = md_compose__resolve_tokens(&w);
	free(w.st);
	free(w.ex);
	if (w.bad)
		keep_only_error(f);
	if (f->nproblems > 1)
		qsort(f->problems, f->nproblems, sizeof(*f->problems), cmp_problem);
	return rc;
}

int md_compose_scan(struct md_compose_file **out, const char *name, const char *data,
		    size_t len, struct md_err *err)
{
	struct md_compose_file *f;

	*out = NULL;
	if (!name)
		name = "(compose file)";
	if (len > MD_COMPOSE_MAX_FILE)
		return md_err_set(err, "%s is larger than %u bytes", name, MD_COMPOSE_MAX_FILE);
	f = calloc(1, sizeof(*f));
	if (!f)
		return md_err_set(err, "out of memory scanning %s", name);
	f->name = md_strdup(name);
	f->data = md_strndup(data ? data : "", data ? len : 0);
	f->len = data ? len : 0;
	if (!f->name || !f->data)
		goto oom;
	/* libyaml would skip a UTF-8 BOM itself, but without counting it in
	 * its marks: skipping it here keeps the arithmetic in one place. */
	if (f->len >= 3 && memcmp(f->data, "\xEF\xBB\xBF", 3) == 0)
		f->bom = 3;
	if (scan_file(f) < 0)
		goto oom;
	*out = f;
	return 0;
oom:
	md_compose_free(f);
	return md_err_set(err, "out of memory scanning %s", name);
}

void md_compose_free(struct md_compose_file *f)
{
	if (!f)
		return;
	drop_sites(f);
	free(f->sites);
	for (size_t i = 0; i < f->nproblems; i++)
		free(f->problems[i].text);
	free(f->problems);
	free(f->name);
	free(f->data);
	free(f);
}

const char *md_compose_name(const struct md_compose_file *f)
{
	return f->name;
}

size_t md_compose_site_count(const struct md_compose_file *f)
{
	return f->nsites;
}

const struct md_compose_site *md_compose_site_at(const struct md_compose_file *f, size_t i)
{
	return i < f->nsites ? &f->sites[i].pub : NULL;
}

size_t md_compose_problem_count(const struct md_compose_file *f)
{
	return f->nproblems;
}

const char *md_compose_problem_at(const struct md_compose_file *f, size_t i)
{
	return i < f->nproblems ? f->problems[i].text : NULL;
}

int md_compose_problem_line(const struct md_compose_file *f, size_t i)
{
	return i < f->nproblems ? f->problems[i].line : 0;
}

const char *md_compose_problem_message(const struct md_compose_file *f, size_t i)
{
	return i < f->nproblems ? f->problems[i].text + f->problems[i].msg : NULL;
}

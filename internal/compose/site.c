/* compose — from `image:` values to sites and problems.
 *
 * Whether a value is a site depends on the comment at the end of its line,
 * and a '#' inside a quoted scalar later on that line is not a comment. So
 * each value becomes a pending candidate, and is settled once the parser
 * has moved past its line: by then every quoted scalar on the line is
 * known (from its marks) and the comment search can step over them. */
#include "compose_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int md_compose__add_problem(struct md_compose_walk *w, int line, const char *fmt, ...)
{
	struct md_compose_file *f = w->f;
	struct md_compose_problem *p;
	char msg[512];
	va_list ap;

	if (f->nproblems == f->capproblems) {
		size_t cap = f->capproblems ? f->capproblems * 2 : 4;

		p = realloc(f->problems, cap * sizeof(*p));
		if (!p)
			return -1;
		f->problems = p;
		f->capproblems = cap;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p = &f->problems[f->nproblems];
	p->text = md_asprintf("%s:%d: %s", f->name, line, msg);
	if (!p->text)
		return -1;
	p->msg = strlen(p->text) - strlen(msg);
	p->line = line;
	p->seq = w->seq++;
	f->nproblems++;
	return 0;
}

void md_compose__site_clear(struct md_compose_site_priv *s)
{
	free(s->value);
	free(s->annotation);
	free(s->service);
	s->value = s->annotation = s->service = NULL;
}

/* ---- candidates ----------------------------------------------------------- */

static struct md_compose_site_priv *new_candidate(struct md_compose_walk *w,
						  enum md_compose_kind kind, size_t from_ci,
						  size_t from_line)
{
	struct md_compose_file *f = w->f;
	struct md_compose_site_priv *s;

	if (f->nsites == f->capsites) {
		size_t cap = f->capsites ? f->capsites * 2 : 8;

		s = realloc(f->sites, cap * sizeof(*s));
		if (!s)
			return NULL;
		f->sites = s;
		f->capsites = cap;
	}
	s = &f->sites[f->nsites++];
	memset(s, 0, sizeof(*s));
	s->pending = 1;
	s->kind = kind;
	s->from = md_compose__cmap_byte(&w->cm, from_ci);
	s->from_line = from_line;
	s->pub.line = (int)from_line + 1;
	w->npending++;
	return s;
}

/* Byte range of the value text (quotes excluded) from the character
 * indexes of the scalar token, plus its 1-based byte column (`line` is the
 * token's 0-based start line). */
static void set_range(struct md_compose_walk *w, struct md_compose_site_priv *s,
		      size_t start_ci, size_t end_ci, size_t line)
{
	size_t a, b;

	b = md_compose__cmap_byte(&w->cm, end_ci);
	a = md_compose__cmap_byte(&w->cm, start_ci);
	if (s->pub.quote && b - a >= 2) {
		a++;
		b--;
	}
	/* one backward walk per line: a long flow line may hold many sites */
	if (!w->ls_valid || w->ls_line != line) {
		w->ls_valid = 1;
		w->ls_line = line;
		w->ls_byte = md_compose__line_start(w->d, a);
	}
	s->pub.column = (int)(a - w->ls_byte) + 1;
	s->pub.start = a + w->f->bom;
	s->pub.end = b + w->f->bom;
}

static char quote_of(yaml_scalar_style_t style)
{
	if (style == YAML_SINGLE_QUOTED_SCALAR_STYLE)
		return '\'';
	if (style == YAML_DOUBLE_QUOTED_SCALAR_STYLE)
		return '"';
	return 0;
}

static int ours_at(const struct md_compose_walk *w, size_t from,
		   const struct md_compose_range *ex, size_t nex, const char **text,
		   size_t *tlen)
{
	return md_compose__find_comment(w->d, w->len, from, ex, nex, text, tlen) &&
	       md_compose__is_ours(*text, *tlen);
}

/* A value that ends below its key: is our comment on the key line? Only
 * the value itself can be a quoted scalar between the key and that line's
 * end. */
static int key_line_ours(struct md_compose_walk *w, const struct md_compose_frame *fr,
			 const yaml_event_t *ev)
{
	struct md_compose_range r;
	const char *text;
	size_t tlen, from = md_compose__cmap_byte(&w->cm, fr->key_end.index);

	r.b = md_compose__cmap_byte(&w->cm, ev->end_mark.index);
	r.a = md_compose__cmap_byte(&w->cm, ev->start_mark.index);
	return ours_at(w, from, &r, ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? 0 : 1,
		       &text, &tlen);
}

static int scalar_candidate(struct md_compose_walk *w, const struct md_compose_frame *fr,
			    const yaml_event_t *ev)
{
	const yaml_scalar_style_t style = ev->data.scalar.style;
	int props = ev->data.scalar.anchor || ev->data.scalar.tag;
	struct md_compose_site_priv *s;

	if (style == YAML_LITERAL_SCALAR_STYLE || style == YAML_FOLDED_SCALAR_STYLE)
		/* the header line (`image: | # …`) is where a comment can sit */
		return new_candidate(w, MD_COMPOSE_CAND_BAD, ev->start_mark.index,
				     ev->start_mark.line) ? 0 : -1;
	s = new_candidate(w, MD_COMPOSE_CAND_SCALAR, ev->end_mark.index, ev->end_mark.line);
	if (!s)
		return -1;
	s->value = md_strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
	s->service = fr->parent ? md_strdup(fr->parent) : NULL;
	if (!s->value || (fr->parent && !s->service))
		return -1;
	s->pub.value = s->value;
	s->pub.service = s->service;
	s->pub.quote = quote_of(style);
	s->ordinal = w->ordinal;
	s->flow = fr->flow;
	s->end_char = ev->end_mark.index;
	/* An anchor or tag may sit on an earlier line than the scalar itself:
	 * the token pass decides those. */
	s->multi = ev->start_mark.line != ev->end_mark.line && !props;
	s->needs_token = props;
	if (!props && !s->multi)
		set_range(w, s, ev->start_mark.index, ev->end_mark.index, ev->start_mark.line);
	if (ev->end_mark.line > fr->key_end.line && key_line_ours(w, fr, ev))
		s->key_ours = (int)fr->key_end.line + 1;
	return 0;
}

int md_compose__image_value(struct md_compose_walk *w, const struct md_compose_frame *fr,
			   const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return scalar_candidate(w, fr, ev);
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		return new_candidate(w, MD_COMPOSE_CAND_BAD, fr->key_end.index,
				     fr->key_end.line) ? 0 : -1;
	default:
		return 0; /* an alias is not a site: its value lives elsewhere */
	}
}

/* ---- settling ------------------------------------------------------------- */

/* A line has at most one comment, and every candidate on the line starts
 * its search before it: one search per line serves them all (a long flow
 * line with many `image` keys stays linear). */
struct line_comment {
	int valid, ours;
	size_t line;
	const char *text;
	size_t tlen;
};

static int line_ours(struct md_compose_walk *w, const struct md_compose_site_priv *s,
		     struct line_comment *lc)
{
	if (!lc->valid || lc->line != s->from_line) {
		lc->valid = 1;
		lc->line = s->from_line;
		lc->ours = ours_at(w, s->from, w->ex, w->nex, &lc->text, &lc->tlen);
	}
	return lc->ours;
}

/* 1 the candidate is a site, 0 it is not (maybe a problem), -1 OOM. */
static int settle(struct md_compose_walk *w, struct md_compose_site_priv *s,
		  struct line_comment *lc)
{
	int ours = line_ours(w, s, lc);

	if (s->kind == MD_COMPOSE_CAND_BAD)
		return ours ? md_compose__add_problem(w, s->pub.line, MD_COMPOSE_MSG_SINGLE_LINE)
			    : 0;
	if (!ours) {
		/* say so rather than silently not watching the image */
		if (s->key_ours)
			return md_compose__add_problem(w, s->key_ours,
						      "the magos comment must be on the line "
						      "where the image value ends");
		return 0;
	}
	if (s->multi)
		return md_compose__add_problem(w, s->pub.line, MD_COMPOSE_MSG_SINGLE_LINE);
	if (!*s->value)
		return md_compose__add_problem(w, s->pub.line, "image value is empty");
	s->annotation = md_strndup(lc->text, lc->tlen);
	if (!s->annotation)
		return -1;
	s->pub.annotation = s->annotation;
	s->pending = 0;
	return 1;
}

/* Settle the pending candidates whose line is before `line` (all when
 * `all`). They sit at the tail of the sites in line order, so a prefix of
 * them settles and the rest stays. */
static int settle_upto(struct md_compose_walk *w, size_t line, int all)
{
	struct md_compose_file *f = w->f;
	struct line_comment lc = { 0, 0, 0, NULL, 0 };
	size_t first = f->nsites - w->npending, keep = first, i;
	int rc = 0;

	for (i = first; i < f->nsites; i++) {
		struct md_compose_site_priv *s = &f->sites[i];

		if (rc == 0 && (all || s->from_line < line)) {
			rc = settle(w, s, &lc);
			if (rc > 0) {
				rc = 0;
				f->sites[keep++] = *s;
				continue;
			}
			if (rc == 0) {
				md_compose__site_clear(s);
				continue;
			}
		}
		f->sites[keep++] = *s; /* still waiting (or kept for cleanup on OOM) */
	}
	f->nsites = keep;
	w->npending = 0;
	for (i = first; i < keep; i++)
		w->npending += f->sites[i].pending;
	if (!w->npending)
		w->nex = 0;
	return rc;
}

static int add_range(struct md_compose_walk *w, const yaml_event_t *ev)
{
	struct md_compose_range *r;

	if (w->nex == w->capex) {
		size_t cap = w->capex ? w->capex * 2 : 8;

		r = realloc(w->ex, cap * sizeof(*r));
		if (!r)
			return -1;
		w->ex = r;
		w->capex = cap;
	}
	r = &w->ex[w->nex++];
	r->b = md_compose__cmap_byte(&w->cm, ev->end_mark.index);
	r->a = md_compose__cmap_byte(&w->cm, ev->start_mark.index);
	return 0;
}

int md_compose__before_event(struct md_compose_walk *w, const yaml_event_t *ev)
{
	if (!w->npending)
		return 0;
	if (ev->type == YAML_STREAM_END_EVENT)
		return settle_upto(w, 0, 1);
	/* the oldest candidate has the lowest line: nothing to settle while
	 * the parser is still on it */
	if (w->f->sites[w->f->nsites - w->npending].from_line < ev->start_mark.line &&
	    settle_upto(w, ev->start_mark.line, 0) < 0)
		return -1;
	if (w->npending && ev->type == YAML_SCALAR_EVENT &&
	    (ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
	     ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE))
		return add_range(w, ev);
	return 0;
}

/* ---- anchored and tagged sites ------------------------------------------ */

/* Give each anchored/tagged site the start of its scalar token (matched by
 * end index: both passes read the same bytes), then turn the ones that
 * span lines into problems. */
int md_compose__resolve_tokens(struct md_compose_walk *w)
{
	struct md_compose_file *f = w->f;
	yaml_parser_t p;
	yaml_token_t tok;
	size_t k = 0, keep = 0;
	int rc = 0;

	while (k < f->nsites && !f->sites[k].needs_token)
		k++;
	if (k == f->nsites)
		return 0;
	if (md_compose__parser_init(&p, w->d, w->len) < 0)
		return -1;
	md_compose__cmap_init(&w->cm, w->d, w->len);
	w->ls_valid = 0;
	while (k < f->nsites) {
		struct md_compose_site_priv *s;
		yaml_token_type_t type;

		if (!yaml_parser_scan(&p, &tok)) {
			rc = p.error == YAML_MEMORY_ERROR ? -1 : 0;
			break;
		}
		type = tok.type;
		/* a site no token ends at stays unresolved (and is dropped) */
		while (type == YAML_SCALAR_TOKEN && k < f->nsites &&
		       (!f->sites[k].needs_token || f->sites[k].end_char < tok.end_mark.index))
			k++;
		s = k < f->nsites ? &f->sites[k] : NULL;
		if (s && type == YAML_SCALAR_TOKEN && tok.end_mark.index == s->end_char) {
			if (tok.start_mark.line == tok.end_mark.line) {
				set_range(w, s, tok.start_mark.index, tok.end_mark.index,
					  tok.start_mark.line);
				s->needs_token = 0;
			}
			k++;
		}
		yaml_token_delete(&tok);
		if (type == YAML_STREAM_END_TOKEN)
			break;
	}
	yaml_parser_delete(&p);
	if (rc < 0)
		return -1;
	for (k = 0; k < f->nsites; k++) {
		struct md_compose_site_priv *s = &f->sites[k];

		if (s->needs_token) {
			md_compose__site_clear(s);
			if (md_compose__add_problem(w, s->pub.line, MD_COMPOSE_MSG_SINGLE_LINE) < 0)
				rc = -1;
			continue;
		}
		f->sites[keep++] = *s;
	}
	f->nsites = keep;
	return rc;
}

/* compose — byte-exact patching of site values, checked by re-parsing.
 *
 * Only the bytes of each edited value change. The result is then parsed
 * alongside the original, event by event: anything that differs besides
 * the edited values (a new key, a lost anchor, a changed style) means the
 * edit leaked into the structure, and nothing is written. */
#include "compose_int.h"

#include <stdlib.h>
#include <string.h>

#define MSG_REFUSE "refusing to write: the patched file would differ in more than the image value"

static const struct md_compose_site_priv *site_of(const struct md_compose_file *f,
						  const struct md_compose_edit *e)
{
	return &f->sites[e->site];
}

static int cmp_edit(const void *a, const void *b)
{
	const struct md_compose_edit *x = *(const struct md_compose_edit *const *)a;
	const struct md_compose_edit *y = *(const struct md_compose_edit *const *)b;

	return x->site < y->site ? -1 : x->site > y->site;
}

/* ---- what can be written where ------------------------------------------ */

/* A plain scalar must read back as exactly these bytes: no indicator
 * first, no ": " or " #" inside, no edge blanks, and inside a flow
 * collection no flow indicators at all. */
static int plain_safe(const char *v, int flow)
{
	size_t n = strlen(v);

	if (strchr("-?:,[]{}#&*!|>'\"%@`", v[0]) || v[0] == ' ' || v[n - 1] == ' ')
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] == ':' && (v[i + 1] == ' ' || v[i + 1] == '\0'))
			return 0;
		if (v[i] == '#' && i > 0 && v[i - 1] == ' ')
			return 0;
		if (flow && strchr(",[]{}", v[i]))
			return 0;
	}
	return 1;
}

static int check_value(const struct md_compose_file *f, const struct md_compose_site_priv *s,
		       const char *v, struct md_err *err)
{
	size_t n;

	if (!v || !*v)
		return md_err_set(err, "%s:%d: the new image value is empty", f->name, s->pub.line);
	n = strlen(v);
	if (n > MD_COMPOSE_MAX_VALUE)
		return md_err_set(err, "%s:%d: the new image value is longer than %u bytes",
				  f->name, s->pub.line, MD_COMPOSE_MAX_VALUE);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return md_err_set(err,
					  "%s:%d: the new image value contains a control character",
					  f->name, s->pub.line);
	if (!s->pub.quote && !plain_safe(v, s->flow))
		return md_err_set(err, "%s:%d: \"%s\" cannot be written as a plain YAML scalar here",
				  f->name, s->pub.line, v);
	return 0;
}

/* The value in the site's style: '' doubles in single quotes, \ escapes
 * in double quotes, plain as is (already checked). */
static int append_value(struct md_buf *b, const char *v, char quote)
{
	for (; *v; v++) {
		if (quote == '\'' && *v == '\'' && md_buf_append(b, "'", 1) < 0)
			return -1;
		if (quote == '"' && (*v == '"' || *v == '\\') && md_buf_append(b, "\\", 1) < 0)
			return -1;
		if (md_buf_append(b, v, 1) < 0)
			return -1;
	}
	return 0;
}

/* ---- event comparison ---------------------------------------------------- */

static int str_eq(const yaml_char_t *a, const yaml_char_t *b)
{
	if (!a || !b)
		return a == b;
	return strcmp((const char *)a, (const char *)b) == 0;
}

static int doc_start_eq(const yaml_event_t *a, const yaml_event_t *b)
{
	const yaml_version_directive_t *va = a->data.document_start.version_directive;
	const yaml_version_directive_t *vb = b->data.document_start.version_directive;
	const yaml_tag_directive_t *ta = a->data.document_start.tag_directives.start;
	const yaml_tag_directive_t *tb = b->data.document_start.tag_directives.start;
	const yaml_tag_directive_t *ea = a->data.document_start.tag_directives.end;
	const yaml_tag_directive_t *eb = b->data.document_start.tag_directives.end;

	if (a->data.document_start.implicit != b->data.document_start.implicit)
		return 0;
	if ((va == NULL) != (vb == NULL) ||
	    (va && (va->major != vb->major || va->minor != vb->minor)))
		return 0;
	if (ea - ta != eb - tb)
		return 0;
	for (; ta < ea; ta++, tb++)
		if (!str_eq(ta->handle, tb->handle) || !str_eq(ta->prefix, tb->prefix))
			return 0;
	return 1;
}

static int scalar_eq(const yaml_event_t *a, const yaml_event_t *b, int with_value)
{
	if (!str_eq(a->data.scalar.anchor, b->data.scalar.anchor) ||
	    !str_eq(a->data.scalar.tag, b->data.scalar.tag) ||
	    a->data.scalar.plain_implicit != b->data.scalar.plain_implicit ||
	    a->data.scalar.quoted_implicit != b->data.scalar.quoted_implicit ||
	    a->data.scalar.style != b->data.scalar.style)
		return 0;
	return !with_value || (a->data.scalar.length == b->data.scalar.length &&
			       memcmp(a->data.scalar.value, b->data.scalar.value,
				      a->data.scalar.length) == 0);
}

/* Equal in everything but position (marks shift when a value's length
 * changes). */
static int events_eq(const yaml_event_t *a, const yaml_event_t *b)
{
	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case YAML_STREAM_START_EVENT:
		return a->data.stream_start.encoding == b->data.stream_start.encoding;
	case YAML_DOCUMENT_START_EVENT:
		return doc_start_eq(a, b);
	case YAML_DOCUMENT_END_EVENT:
		return a->data.document_end.implicit == b->data.document_end.implicit;
	case YAML_ALIAS_EVENT:
		return str_eq(a->data.alias.anchor, b->data.alias.anchor);
	case YAML_SCALAR_EVENT:
		return scalar_eq(a, b, 1);
	case YAML_SEQUENCE_START_EVENT:
		return str_eq(a->data.sequence_start.anchor, b->data.sequence_start.anchor) &&
		       str_eq(a->data.sequence_start.tag, b->data.sequence_start.tag) &&
		       a->data.sequence_start.implicit == b->data.sequence_start.implicit &&
		       a->data.sequence_start.style == b->data.sequence_start.style;
	case YAML_MAPPING_START_EVENT:
		return str_eq(a->data.mapping_start.anchor, b->data.mapping_start.anchor) &&
		       str_eq(a->data.mapping_start.tag, b->data.mapping_start.tag) &&
		       a->data.mapping_start.implicit == b->data.mapping_start.implicit &&
		       a->data.mapping_start.style == b->data.mapping_start.style;
	default:
		return 1;
	}
}

/* The edited scalar: same properties, and it reads back as the request. */
static int edited_eq(const yaml_event_t *a, const yaml_event_t *b, const char *want)
{
	size_t n = strlen(want);

	return a->type == YAML_SCALAR_EVENT && b->type == YAML_SCALAR_EVENT &&
	       scalar_eq(a, b, 0) && b->data.scalar.length == n &&
	       memcmp(b->data.scalar.value, want, n) == 0;
}

/* ---- verification ------------------------------------------------------- */

struct lockstep {
	yaml_parser_t a, b;
	int a_ok, b_ok;
};

/* 1 equal so far and more to come, 0 both streams ended equal, -1 differ
 * (*line set), -2 out of memory. */
static int step(struct lockstep *ls, const struct md_compose_file *f,
		const struct md_compose_edit *const *ed, size_t n, size_t *k, size_t ordinal,
		const char *nd, size_t nlen, int *line)
{
	yaml_event_t ea, eb;
	const struct md_compose_site_priv *s = *k < n ? site_of(f, ed[*k]) : NULL;
	int same, done;

	if (!yaml_parser_parse(&ls->a, &ea)) {
		*line = md_compose__error_line(&ls->a, f->data + f->bom, f->len - f->bom);
		return ls->a.error == YAML_MEMORY_ERROR ? -2 : -1;
	}
	if (!yaml_parser_parse(&ls->b, &eb)) {
		yaml_event_delete(&ea);
		*line = md_compose__error_line(&ls->b, nd + f->bom, nlen - f->bom);
		return ls->b.error == YAML_MEMORY_ERROR ? -2 : -1;
	}
	if (s && s->ordinal == ordinal) {
		same = edited_eq(&ea, &eb, ed[*k]->new_value);
		*line = s->pub.line;
		(*k)++;
	} else {
		same = events_eq(&ea, &eb);
		*line = (int)ea.start_mark.line + 1;
	}
	/* Values never contain line breaks, so every event must stay on its
	 * lines; a value that reads back whole but spans lines (an LS or NEL
	 * inside) would no longer be a site. */
	same = same && ea.start_mark.line == eb.start_mark.line &&
	       ea.end_mark.line == eb.end_mark.line;
	done = ea.type == YAML_STREAM_END_EVENT;
	yaml_event_delete(&ea);
	yaml_event_delete(&eb);
	if (!same)
		return -1;
	return done ? 0 : 1;
}

static int verify(const struct md_compose_file *f, const char *nd, size_t nlen,
		  const struct md_compose_edit *const *ed, size_t n, struct md_err *err)
{
	struct lockstep ls;
	size_t k = 0, ordinal = 0;
	int rc = -2, line = site_of(f, ed[0])->pub.line;

	memset(&ls, 0, sizeof(ls));
	ls.a_ok = md_compose__parser_init(&ls.a, f->data + f->bom, f->len - f->bom) == 0;
	ls.b_ok = ls.a_ok && md_compose__parser_init(&ls.b, nd + f->bom, nlen - f->bom) == 0;
	if (ls.b_ok) {
		while ((rc = step(&ls, f, ed, n, &k, ordinal, nd, nlen, &line)) == 1)
			ordinal++;
	}
	if (ls.a_ok)
		yaml_parser_delete(&ls.a);
	if (ls.b_ok)
		yaml_parser_delete(&ls.b);
	if (rc == -2)
		return md_err_set(err, "out of memory checking the patch of %s", f->name);
	if (rc < 0 || k != n)
		return md_err_set(err, "%s:%d: " MSG_REFUSE, f->name, line);
	return 0;
}

/* ---- public ------------------------------------------------------------- */

/* Edits sorted by site (sites are in document order), each checked. */
static int prepare(const struct md_compose_edit **ed, const struct md_compose_file *f,
		   const struct md_compose_edit *edits, size_t n, size_t *extra,
		   struct md_err *err)
{
	*extra = 0;
	for (size_t i = 0; i < n; i++) {
		if (edits[i].site >= f->nsites)
			return md_err_set(err, "%s: edit %zu refers to image site %zu, but the "
					  "file has %zu", f->name, i, edits[i].site, f->nsites);
		if (check_value(f, site_of(f, &edits[i]), edits[i].new_value, err) < 0)
			return -1;
		*extra += 2 * strlen(edits[i].new_value);
		ed[i] = &edits[i];
	}
	qsort(ed, n, sizeof(*ed), cmp_edit);
	for (size_t i = 1; i < n; i++)
		if (ed[i]->site == ed[i - 1]->site)
			return md_err_set(err, "%s:%d: the image value is edited more than once",
					  f->name, site_of(f, ed[i])->pub.line);
	return 0;
}

int md_compose_patch(char **out, size_t *outlen, const struct md_compose_file *f,
		     const struct md_compose_edit *edits, size_t n, struct md_err *err)
{
	const struct md_compose_edit **ed = NULL;
	struct md_buf b;
	size_t pos = 0, extra = 0, len;
	int rc = -1;

	*out = NULL;
	if (outlen)
		*outlen = 0;
	md_buf_init(&b, 0);
	if (n && !(ed = malloc(n * sizeof(*ed))))
		return md_err_set(err, "out of memory patching %s", f->name);
	if (n && prepare(ed, f, edits, n, &extra, err) < 0)
		goto out;
	/* The output is bounded by the input plus every value fully escaped. */
	md_buf_init(&b, f->len + extra + 1);
	for (size_t i = 0; i < n; i++) {
		const struct md_compose_site_priv *s = site_of(f, ed[i]);

		if (md_buf_append(&b, f->data + pos, s->pub.start - pos) < 0 ||
		    append_value(&b, ed[i]->new_value, s->pub.quote) < 0)
			goto oom;
		pos = s->pub.end;
	}
	if (md_buf_append(&b, f->data + pos, f->len - pos) < 0)
		goto oom;
	if (n && verify(f, b.data ? b.data : "", b.len, ed, n, err) < 0)
		goto out;
	len = b.len;
	*out = md_buf_steal(&b);
	if (!*out)
		goto oom;
	if (outlen)
		*outlen = len;
	rc = 0;
	goto out;
oom:
	md_err_set(err, "out of memory patching %s", f->name);
out:
	md_buf_clear(&b);
	free(ed);
	return rc;
}

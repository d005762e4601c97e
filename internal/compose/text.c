/* compose — raw-text helpers: libyaml marks to byte offsets, line breaks,
 * and finding the comment that trails a value on its line. */
#include "compose_int.h"

#include <string.h>

static int is_cont(char c)
{
	return ((unsigned char)c & 0xC0) == 0x80;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

void md_compose__cmap_init(struct md_cmap *m, const char *d, size_t len)
{
	m->d = d;
	m->len = len;
	m->ci = 0;
	m->bi = 0;
}

/* libyaml advances mark.index by one per character (a CRLF is two), so a
 * character index is the number of UTF-8 sequences before the byte. The
 * data up to any mark libyaml reported has been validated as UTF-8. */
size_t md_compose__cmap_byte(struct md_cmap *m, size_t ci)
{
	while (m->ci < ci && m->bi < m->len) {
		m->bi++;
		while (m->bi < m->len && is_cont(m->d[m->bi]))
			m->bi++;
		m->ci++;
	}
	while (m->ci > ci && m->bi > 0) {
		m->bi--;
		while (m->bi > 0 && is_cont(m->d[m->bi]))
			m->bi--;
		m->ci--;
	}
	return m->bi;
}

size_t md_compose__break_len(const char *d, size_t len, size_t p)
{
	const unsigned char *u = (const unsigned char *)d;

	if (p >= len)
		return 0;
	if (u[p] == '\r')
		return p + 1 < len && u[p + 1] == '\n' ? 2 : 1;
	if (u[p] == '\n')
		return 1;
	if (u[p] == 0xC2 && p + 1 < len && u[p + 1] == 0x85)
		return 2; /* NEL */
	if (u[p] == 0xE2 && p + 2 < len && u[p + 1] == 0x80 &&
	    (u[p + 2] == 0xA8 || u[p + 2] == 0xA9))
		return 3; /* LS, PS */
	return 0;
}

/* True when the bytes just before p end a line break. */
static int after_break(const char *d, size_t p)
{
	const unsigned char *u = (const unsigned char *)d;

	if (p == 0)
		return 1;
	if (u[p - 1] == '\n' || u[p - 1] == '\r')
		return 1;
	if (p >= 2 && u[p - 2] == 0xC2 && u[p - 1] == 0x85)
		return 1;
	return p >= 3 && u[p - 3] == 0xE2 && u[p - 2] == 0x80 &&
	       (u[p - 1] == 0xA8 || u[p - 1] == 0xA9);
}

size_t md_compose__line_start(const char *d, size_t p)
{
	while (!after_break(d, p))
		p--;
	return p;
}

int md_compose__line_of(const char *d, size_t len, size_t p)
{
	int line = 1;
	size_t i = 0;

	if (p > len)
		p = len;
	while (i < p) {
		size_t n = md_compose__break_len(d, len, i);

		if (n) {
			line++;
			i += n;
		} else {
			i++;
		}
	}
	return line;
}

static void comment_text(const char *d, size_t len, size_t p, const char **text, size_t *tlen)
{
	size_t e;

	while (p < len && is_blank(d[p]))
		p++;
	e = p;
	while (e < len && !md_compose__break_len(d, len, e))
		e++;
	while (e > p && is_blank(d[e - 1]))
		e--;
	*text = d + p;
	*tlen = e - p;
}

int md_compose__find_comment(const char *d, size_t len, size_t p,
			    const struct md_compose_range *ex, size_t nex, const char **text,
			    size_t *tlen)
{
	char prev = after_break(d, p) ? ' ' : d[p - 1];
	size_t eol = p, k = 0;

	while (eol < len && !md_compose__break_len(d, len, eol))
		eol++;
	size_t hi = nex;

	/* first range ending after p: ranges are sorted and disjoint, and a
	 * long flow line may hold very many of them */
	while (k < hi) {
		size_t mid = k + (hi - k) / 2;

		if (ex[mid].b <= p)
			k = mid + 1;
		else
			hi = mid;
	}
	while (p < eol) {
		if (k < nex && p >= ex[k].a) {
			/* inside a quoted scalar: a '#' there is text, and one
			 * running past the line end hides the rest of it */
			if (ex[k].b > eol)
				return 0;
			p = ex[k++].b;
			prev = d[p - 1];
			continue;
		}
		if (d[p] == '#' && is_blank(prev)) {
			comment_text(d, len, p + 1, text, tlen);
			return 1;
		}
		prev = d[p++];
	}
	return 0;
}

int md_compose__is_ours(const char *text, size_t tlen)
{
	static const char tag[] = "{\"magos\"";

	return tlen >= sizeof(tag) - 1 && memcmp(text, tag, sizeof(tag) - 1) == 0;
}

int md_compose__parser_init(yaml_parser_t *p, const char *d, size_t len)
{
	if (!yaml_parser_initialize(p))
		return -1;
	yaml_parser_set_input_string(p, (const unsigned char *)d, len);
	/* Explicit UTF-8: libyaml's own detection would also accept UTF-16,
	 * whose marks could not be mapped back onto these bytes. */
	yaml_parser_set_encoding(p, YAML_UTF8_ENCODING);
	return 0;
}

int md_compose__error_line(const yaml_parser_t *p, const char *d, size_t len)
{
	/* Reader errors (bad UTF-8, control characters) carry a byte offset
	 * instead of a mark. */
	if (p->error == YAML_READER_ERROR)
		return md_compose__line_of(d, len, p->problem_offset);
	return (int)p->problem_mark.line + 1;
}

const char *md_compose__error_text(const yaml_parser_t *p)
{
	return p->problem ? p->problem : "unknown error";
}

/* compose — private declarations shared by the module's .c files:
 * scan.c (the event walk), site.c (candidates, comments, problems),
 * text.c (raw-text helpers), patch.c. */
#ifndef MAGOS_COMPOSE_INT_H
#define MAGOS_COMPOSE_INT_H

#include <stddef.h>

#include <yaml.h>

#include "magos/compose.h"

/* Deeper nesting than this is refused: compose files are shallow, and the
 * walker keeps one frame per level. */
#define MD_COMPOSE_MAX_DEPTH 1000

#define MD_COMPOSE_MSG_SINGLE_LINE "image value must be a single-line scalar"

enum md_compose_kind {
	MD_COMPOSE_CAND_SCALAR, /* a flow scalar: a site if its line is ours */
	MD_COMPOSE_CAND_BAD,    /* block scalar or collection: a problem if ours */
};

/* A site, or while `pending` a candidate waiting for the rest of its line
 * to be parsed (a quoted scalar later on the line may hide a '#'). */
struct md_compose_site_priv {
	struct md_compose_site pub;
	char *value, *annotation, *service; /* owned; pub points at them */
	size_t ordinal;   /* index of the site's scalar event in the stream */
	int flow;         /* inside a flow collection: stricter plain scalars */
	size_t end_char;  /* libyaml end mark index, to match the scalar token */
	int needs_token;  /* anchored/tagged: start comes from the token pass */
	/* candidate state */
	int pending;
	enum md_compose_kind kind;
	size_t from;      /* where the comment search starts (byte) */
	size_t from_line; /* libyaml's 0-based line of `from` */
	int multi;        /* the scalar spans lines */
	int key_ours;     /* 1-based key line carrying our comment instead, or 0 */
};

struct md_compose_problem {
	int line;
	size_t seq;  /* discovery order: keeps the line sort stable */
	char *text;  /* "name:line: message" */
	size_t msg;  /* where message starts in text */
};

struct md_compose_file {
	char *name;
	char *data;  /* a private copy, NUL-terminated */
	size_t len;
	size_t bom;  /* bytes of UTF-8 BOM skipped before libyaml sees the data */
	struct md_compose_site_priv *sites;
	size_t nsites, capsites;
	struct md_compose_problem *problems; /* sorted by line once scanned */
	size_t nproblems, capproblems;
};

/* libyaml marks count characters, not bytes; this cursor converts a
 * character index into a byte offset by walking UTF-8 from the last
 * position, so converting marks in document order costs O(file). */
struct md_cmap {
	const char *d;
	size_t len;
	size_t ci, bi;
};

/* A byte range [a, b) of a quoted scalar: no comment can start inside. */
struct md_compose_range {
	size_t a, b;
};

struct md_compose_frame {
	int is_map, flow, expect_key;
	char *key;            /* scalar key awaiting its value, or NULL */
	size_t key_len;
	yaml_mark_t key_end;
	char *parent;         /* key this collection is the value of, or NULL */
};

struct md_compose_walk {
	struct md_compose_file *f;
	const char *d;        /* what libyaml sees: the data after any BOM */
	size_t len;
	struct md_cmap cm;
	struct md_compose_frame *st;
	size_t depth, cap;
	size_t ordinal;       /* index of the current event */
	size_t seq;           /* problems found so far */
	int bad;              /* YAML error: no sites from this file */
	size_t npending;      /* candidates at the tail of f->sites */
	struct md_compose_range *ex; /* quoted scalars seen while candidates wait */
	size_t nex, capex;
	int ls_valid;         /* cached start (byte) of line ls_line, for columns */
	size_t ls_line, ls_byte;
};

/* ---- text.c ---- */
void md_compose__cmap_init(struct md_cmap *m, const char *d, size_t len);
size_t md_compose__cmap_byte(struct md_cmap *m, size_t ci);
/* Length of the line break at p (CR, LF, CRLF, NEL, LS, PS: libyaml's
 * set), 0 when there is none. */
size_t md_compose__break_len(const char *d, size_t len, size_t p);
/* Offset of the first byte of the line containing p. */
size_t md_compose__line_start(const char *d, size_t p);
/* 1-based line of byte offset p, counting breaks as libyaml does. */
int md_compose__line_of(const char *d, size_t len, size_t p);
/* Find the YAML comment between p and the end of its line: the first '#'
 * preceded by a blank outside the quoted scalars `ex` (sorted). On success
 * *text and *tlen give the trimmed text after '#' and 1 is returned. */
int md_compose__find_comment(const char *d, size_t len, size_t p,
			    const struct md_compose_range *ex, size_t nex, const char **text,
			    size_t *tlen);
/* True when a comment text is ours: it starts with {"magos". */
int md_compose__is_ours(const char *text, size_t tlen);
/* Feed d[0..len) to a parser as UTF-8 (the BOM has already been skipped).
 * 0 on success, -1 when libyaml cannot allocate the parser. */
int md_compose__parser_init(yaml_parser_t *p, const char *d, size_t len);
/* The 1-based line of a parser error, and its libyaml problem text. */
int md_compose__error_line(const yaml_parser_t *p, const char *d, size_t len);
const char *md_compose__error_text(const yaml_parser_t *p);

/* ---- site.c ---- */
int md_compose__add_problem(struct md_compose_walk *w, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void md_compose__site_clear(struct md_compose_site_priv *s);
/* A node in value position under an `image` key: queue a candidate. */
int md_compose__image_value(struct md_compose_walk *w, const struct md_compose_frame *fr,
			   const yaml_event_t *ev);
/* Before each event: note quoted scalars, settle the candidates whose
 * line is complete (all of them at the end of the stream). */
int md_compose__before_event(struct md_compose_walk *w, const yaml_event_t *ev);
/* After the walk: anchored/tagged sites get their start from the tokens. */
int md_compose__resolve_tokens(struct md_compose_walk *w);

#endif

/* compose — find annotated `image:` values in compose files and patch
 * exactly their bytes.
 *
 * A *site* is an `image:` mapping value (a scalar) whose line carries a
 * comment starting with `# {"magos"`. Scanning uses libyaml's marks, so the
 * byte range of every value is exact. Patching replaces only those bytes,
 * then re-parses the result and refuses it unless the event stream is
 * identical to the original except for the patched values. Comments, blank
 * lines, quoting style, anchors/aliases, multiple documents and CRLF line
 * endings all survive unchanged.
 *
 * Bad YAML or a malformed site is reported as a *problem* ("file:line:
 * message"); the other sites of the same file are still returned when the
 * YAML itself parses. */
#ifndef MAGOS_COMPOSE_H
#define MAGOS_COMPOSE_H

#include <stddef.h>

#include "magos/util.h"

/* Caps: a compose file larger than this is refused. */
#define MD_COMPOSE_MAX_FILE (4u * 1024 * 1024)
/* A new image value longer than this is refused by md_compose_patch. */
#define MD_COMPOSE_MAX_VALUE 1024u

struct md_compose_site {
	int line;               /* 1-based line of the image value */
	int column;             /* 1-based column of the value's first byte */
	size_t start, end;      /* byte range of the value text, quotes excluded */
	char quote;             /* 0 (plain), '\'' or '"' */
	const char *value;      /* the image reference as written (unquoted) */
	const char *annotation; /* the comment text after '#', trimmed: {"magos": …} */
	const char *service;    /* the service name (parent mapping key) or NULL */
};

struct md_compose_file;

/* Scan `data` (len bytes). `name` is used in problem messages (usually the
 * path relative to the repository). Returns -1 only when the file cannot
 * be handled at all (too large, out of memory); YAML errors become
 * problems. */
int md_compose_scan(struct md_compose_file **out, const char *name, const char *data,
		    size_t len, struct md_err *err);
void md_compose_free(struct md_compose_file *f);

const char *md_compose_name(const struct md_compose_file *f);
size_t md_compose_site_count(const struct md_compose_file *f);
const struct md_compose_site *md_compose_site_at(const struct md_compose_file *f, size_t i);
size_t md_compose_problem_count(const struct md_compose_file *f);
/* "name:line: message", sorted by line. Messages: "invalid YAML: <libyaml
 * problem>" (then the file has no sites), "image value must be a
 * single-line scalar", "image value is empty", "the magos comment must be
 * on the line where the image value ends". */
const char *md_compose_problem_at(const struct md_compose_file *f, size_t i);
/* The same problem's line and message alone. */
int md_compose_problem_line(const struct md_compose_file *f, size_t i);
const char *md_compose_problem_message(const struct md_compose_file *f, size_t i);

struct md_compose_edit {
	size_t site;           /* index into the file's sites */
	const char *new_value; /* the new image reference */
};

/* Apply edits to the scanned file's bytes. *out (NUL-terminated, *outlen
 * bytes) is the new content. Fails — naming the file and line — when a
 * value cannot be written in the site's quoting style or the re-parse
 * differs from the original anywhere but the edited values. */
int md_compose_patch(char **out, size_t *outlen, const struct md_compose_file *f,
		     const struct md_compose_edit *edits, size_t n, struct md_err *err);

#endif

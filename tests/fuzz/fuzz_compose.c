/* Fuzz target for compose: scan arbitrary bytes; for every site found,
 * patch it (alone, then all sites at once) with a fixed image reference.
 * A patch must either fail cleanly with a message or produce a file that
 * scans to the same sites with the new value in place. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "magos/compose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char NEW_VALUE[] =
	"ghcr.io/fuzz/app:1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/* The patched file must keep every site, with the edited ones now
 * reading NEW_VALUE. */
static void check_result(const struct md_compose_file *f, const char *out, size_t len,
			 const struct md_compose_edit *edits, size_t n)
{
	struct md_compose_file *g = NULL;
	struct md_err err;

	if (out[len] != '\0')
		abort();
	if (md_compose_scan(&g, "fuzz.yaml", out, len, &err) < 0)
		abort();
	if (md_compose_site_count(g) != md_compose_site_count(f))
		abort();
	for (size_t i = 0; i < n; i++) {
		const struct md_compose_site *s = md_compose_site_at(g, edits[i].site);

		if (strcmp(s->value, NEW_VALUE) != 0 ||
		    s->line != md_compose_site_at(f, edits[i].site)->line)
			abort();
	}
	md_compose_free(g);
}

static void try_patch(const struct md_compose_file *f, const struct md_compose_edit *edits,
		      size_t n)
{
	struct md_err err;
	char *out = NULL;
	size_t len = 0;

	err.msg[0] = '\0';
	if (md_compose_patch(&out, &len, f, edits, n, &err) < 0) {
		/* a clean error: a message, nothing returned */
		if (out || !err.msg[0])
			abort();
		return;
	}
	check_result(f, out, len, edits, n);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct md_compose_file *f = NULL;
	struct md_compose_edit *all;
	struct md_err err;
	size_t n, prev_end = 0;

	if (md_compose_scan(&f, "fuzz.yaml", (const char *)data, size, &err) < 0)
		return 0;
	for (size_t i = 0; i < md_compose_problem_count(f); i++)
		if (!md_compose_problem_at(f, i) ||
		    strncmp(md_compose_problem_at(f, i), "fuzz.yaml:", 10) != 0)
			abort();
	n = md_compose_site_count(f);
	all = calloc(n ? n : 1, sizeof(*all));
	if (!all)
		abort();
	for (size_t i = 0; i < n; i++) {
		const struct md_compose_site *s = md_compose_site_at(f, i);

		/* ranges lie inside the input, in document order, disjoint */
		if (s->start < prev_end || s->start > s->end || s->end > size)
			abort();
		prev_end = s->end;
		all[i].site = i;
		all[i].new_value = NEW_VALUE;
		try_patch(f, &all[i], 1);
	}
	if (n > 1)
		try_patch(f, all, n);
	free(all);
	md_compose_free(f);
	return 0;
}

/* compose unit tests: shared helpers (scan a string, read a fixture file,
 * patch one site expecting success or failure). Static, so each
 * test_compose*.c gets its own copy; unused ones are marked to keep
 * -Wunused-function quiet. */
#ifndef MAGOS_COMPOSE_FIXTURE_H
#define MAGOS_COMPOSE_FIXTURE_H

#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magos/compose.h"

#define FIXDIR "tests/fixtures/compose/"
#define SHA(c) "sha256:" c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c \
	c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c

__attribute__((unused)) static struct md_compose_file *scan_str(const char *name, const char *yaml)
{
	struct md_compose_file *f = NULL;
	struct md_err err;

	assert_int_equal(md_compose_scan(&f, name, yaml, strlen(yaml), &err), 0);
	assert_non_null(f);
	return f;
}

__attribute__((unused)) static char *read_fixture(const char *file, size_t *len)
{
	char path[256];
	char *data = NULL;
	struct md_err err;

	snprintf(path, sizeof(path), FIXDIR "%s", file);
	if (md_file_read(path, MD_COMPOSE_MAX_FILE, &data, len, &err) < 0)
		fail_msg("%s", err.msg);
	return data;
}

/* Patch one site and return the new content (test fails on error). */
__attribute__((unused)) static char *patch1(const struct md_compose_file *f, size_t site, const char *value)
{
	struct md_compose_edit e = { site, value };
	struct md_err err;
	char *out = NULL;
	size_t len;

	if (md_compose_patch(&out, &len, f, &e, 1, &err) < 0)
		fail_msg("patch failed: %s", err.msg);
	assert_int_equal(strlen(out), len);
	return out;
}

/* Patch one site expecting failure; returns the error text. */
__attribute__((unused)) static const char *patch1_err(const struct md_compose_file *f, size_t site, const char *value,
			      struct md_err *err)
{
	struct md_compose_edit e = { site, value };
	char *out = (char *)&e; /* must be reset to NULL on failure */
	size_t len = 7;

	assert_int_equal(md_compose_patch(&out, &len, f, &e, 1, err), -1);
	assert_null(out);
	assert_int_equal(len, 0);
	return err->msg;
}
#endif

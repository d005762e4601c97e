/* config: docs/configuration.md documents every key the program knows, with
 * the default the program uses. The key list comes from md_config_keys(),
 * the table the loader itself runs on, not from reading C source.
 *
 * The reference is a set of Markdown tables whose rows start with the key:
 *     | `MD_BRANCH` | `main` | meaning ... |
 * The second cell shows the default in backticks (a newline as \n); a key
 * without a default says so in parentheses: "(none)", "(required)", "(all)".
 * The README's short table follows the same rules for the keys it shows. */
#include "unit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magos/config.h"

#define DOC "docs/configuration.md" /* tests run from the repository's root */
#define REPORT_MAX 8192

struct report {
	char text[REPORT_MAX];
	int problems;
};

__attribute__((format(printf, 2, 3))) static void complain(struct report *r,
							   const char *fmt, ...)
{
	size_t used = strlen(r->text);
	va_list ap;

	r->problems++;
	va_start(ap, fmt);
	vsnprintf(r->text + used, sizeof(r->text) - used, fmt, ap);
	va_end(ap);
}

/* The default as the document writes it: backticks around it, newlines as \n. */
static void shown_default(const char *def, char *out, size_t cap)
{
	size_t n = 0;

	out[n++] = '`';
	for (const char *p = def; *p && n + 4 < cap; p++) {
		if (*p == '\n') {
			out[n++] = '\\';
			out[n++] = 'n';
		} else {
			out[n++] = *p;
		}
	}
	out[n++] = '`';
	out[n] = '\0';
}

static const struct md_config_key *find_key(const struct md_config_key *keys, const char *key,
					    size_t len)
{
	for (const struct md_config_key *k = keys; k->key; k++)
		if (strlen(k->key) == len && !strncmp(k->key, key, len))
			return k;
	return NULL;
}

/* One table row "| `KEY` | default | meaning ... |": checks it against the
 * program's table and counts it in seen[]. */
static void check_row(const char *line, size_t len, const struct md_config_key *keys,
		      int *seen, struct report *r)
{
	char row[2048], want[1024];
	const struct md_config_key *k;
	const char *key, *end, *cell, *cell_end;

	if (len >= sizeof(row))
		len = sizeof(row) - 1;
	memcpy(row, line, len);
	row[len] = '\0';
	key = row + 3;
	end = strchr(key, '`');
	k = end ? find_key(keys, key, (size_t)(end - key)) : NULL;
	if (!k) {
		complain(r, "documents a key the program does not know: %s\n", row);
		return;
	}
	seen[k - keys]++;
	cell = end + 4;
	cell_end = strncmp(end, "` | ", 4) ? NULL : strstr(cell, " |");
	if (!cell_end || !strstr(cell_end + 2, " |")) {
		complain(r, "%s: the row has no default and meaning cells: %s\n", k->key, row);
		return;
	}
	if (!k->def || !*k->def) {
		if (cell[0] != '(')
			complain(r, "%s: the program has no default but the document shows "
				 "one: %s\n", k->key, row);
		return;
	}
	shown_default(k->def, want, sizeof(want));
	if (!memmem(cell, (size_t)(cell_end - cell), want, strlen(want)))
		complain(r, "%s: the default cell does not show %s\n", k->key, want);
}

/* Every key once (all: else at most once), with its default; no row for a
 * key the program lacks. */
static void check_doc(const char *text, const struct md_config_key *keys, int all,
		      struct report *r)
{
	int seen[128] = { 0 };
	size_t nkeys = 0;

	for (const struct md_config_key *k = keys; k->key; k++)
		nkeys++;
	assert_true(nkeys < sizeof(seen) / sizeof(seen[0]));
	for (const char *line = text; *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		if (len > 5 && !strncmp(line, "| `MD_", 6))
			check_row(line, len, keys, seen, r);
		line += len + (nl ? 1 : 0);
	}
	for (size_t i = 0; i < nkeys; i++) {
		if (seen[i] == 0 && all)
			complain(r, "%s is not documented\n", keys[i].key);
		else if (seen[i] > 1)
			complain(r, "%s has more than one row\n", keys[i].key);
	}
}

static void check_file(const char *path, int all)
{
	struct report r = { { 0 }, 0 };
	struct md_err err;
	size_t len;
	char *text;

	if (md_file_read(path, 1 << 20, &text, &len, &err) < 0)
		fail_msg("%s", err.msg);
	check_doc(text, md_config_keys(), all, &r);
	free(text);
	if (r.problems)
		fail_msg("%s: %d problem(s):\n%s", path, r.problems, r.text);
}

static void test_configuration_md_documents_every_key(void **state)
{
	size_t n = 0;

	(void)state;
	for (const struct md_config_key *k = md_config_keys(); k->key; k++)
		n++;
	assert_true(n > 30);
	check_file(DOC, 1);
}

/* The README's short table shows some keys: with the program's defaults. */
static void test_readme_keys_agree(void **state)
{
	(void)state;
	check_file("README.md", 0);
}

/* The checker itself catches each kind of mistake. */
static void test_checker_finds_mistakes(void **state)
{
	static const struct md_config_key keys[] = {
		{ "MD_A", "x y", "a" },
		{ "MD_B", NULL, "b" },
		{ "MD_C", "one\ntwo", "c" },
		{ "MD_D", "", "d" },
		{ NULL, NULL, NULL },
	};
	static const struct {
		const char *doc;
		const char *complaint; /* NULL: no problem */
	} cases[] = {
		{ "| `MD_A` | `x y` | a |\n| `MD_B` | (none) | b |\n"
		  "| `MD_C` | `one\\ntwo` | c |\n| `MD_D` | (all) | d |\n", NULL },
		{ "| `MD_A` | `x y` | a |\n| `MD_B` | (none) | b |\n"
		  "| `MD_D` | (all) | d |\n", "MD_C is not documented" },
		{ "| `MD_A` | `x` | a |\n| `MD_B` | (none) | b |\n"
		  "| `MD_C` | `one\\ntwo` | c |\n| `MD_D` | (all) | d |\n",
		  "MD_A: the default cell does not show `x y`" },
		{ "| `MD_A` | `x y` | a |\n| `MD_B` | `z` | b |\n"
		  "| `MD_C` | `one\\ntwo` | c |\n| `MD_D` | (all) | d |\n",
		  "MD_B: the program has no default" },
		{ "| `MD_A` | `x y` | a |\n| `MD_B` | (none) | b |\n"
		  "| `MD_C` | `one\\ntwo` | c |\n| `MD_D` | (all) | d |\n| `MD_Z` | `1` | z |\n",
		  "documents a key the program does not know: | `MD_Z`" },
		{ "| `MD_A` | `x y` | a |\n| `MD_A` | `x y` | again |\n| `MD_B` | (none) | b |\n"
		  "| `MD_C` | `one\\ntwo` | c |\n| `MD_D` | (all) | d |\n",
		  "MD_A has more than one row" },
		{ "| `MD_A` | `x y` |\n| `MD_B` | (none) | b |\n"
		  "| `MD_C` | `one\\ntwo` | c |\n| `MD_D` | (all) | d |\n",
		  "MD_A: the row has no default and meaning cells" },
		/* a key mentioned in prose or inside another row is not a row */
		{ "Set `MD_C` as you like.\n| `MD_A` | `x y` | see `MD_C` |\n"
		  "| `MD_B` | (none) | b |\n| `MD_D` | (all) | d |\n", "MD_C is not documented" },
	};
	struct report partial = { { 0 }, 0 };

	(void)state;
	/* a partial table (the README's) may leave keys out, not get them wrong */
	check_doc("| `MD_A` | `x y` | a |\n", keys, 0, &partial);
	assert_int_equal(partial.problems, 0);
	check_doc("| `MD_A` | `y` | a |\n", keys, 0, &partial);
	assert_int_equal(partial.problems, 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct report r = { { 0 }, 0 };

		check_doc(cases[i].doc, keys, 1, &r);
		if (!cases[i].complaint) {
			if (r.problems)
				fail_msg("case %zu: unexpected problems:\n%s", i, r.text);
			continue;
		}
		if (r.problems != 1 || !strstr(r.text, cases[i].complaint))
			fail_msg("case %zu: expected one problem \"%s\", got %d:\n%s", i,
				 cases[i].complaint, r.problems, r.text);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checker_finds_mistakes),
		cmocka_unit_test(test_configuration_md_documents_every_key),
		cmocka_unit_test(test_readme_keys_agree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

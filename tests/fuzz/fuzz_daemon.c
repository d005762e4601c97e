/* Fuzz MD_COMMIT_TEMPLATE expansion (md_publish_commit_message): the input is a
 * template, a NUL byte, then the changes, one a line as
 * "image|from|to|file|line". The loader keeps an accepted template
 * verbatim (fuzz_config covers that side), so any string is expanded, as
 * the README says: {count}, {images} (names
 * joined by ", "), {changes} ("- image: from -> to (file:line)" lines),
 * the change list appended after a blank line when the template does not
 * place it, and a final newline. Placeholders are replaced in one pass:
 * text that came from a change is never expanded again. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magos/publish.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_CHANGES 64
#define LIST_MAX (1024 * 1024) /* md_publish_commit_message's own caps */
#define IMAGES_MAX (64 * 1024)
#define OUT_MAX (2 * 1024 * 1024)

/* The expansion as the README states it, or NULL when it would not fit
 * the caps (then only the weaker checks apply). */
static char *expected(const char *t, const struct md_cycle_report *rep)
{
	struct md_buf list, images, out;
	int ok = 1;

	md_buf_init(&list, LIST_MAX);
	md_buf_init(&images, IMAGES_MAX);
	md_buf_init(&out, OUT_MAX);
	for (size_t i = 0; i < rep->nchanges; i++) {
		const struct md_change *c = &rep->changes[i];

		ok &= md_buf_printf(&list, "%s- %s: %s -> %s (%s:%d)", i ? "\n" : "", c->image,
				    c->from, c->to, c->file, c->line) == 0;
		ok &= md_buf_printf(&images, "%s%s", i ? ", " : "", c->image) == 0;
	}
	for (const char *p = t; *p && ok;) {
		if (!strncmp(p, "{count}", 7)) {
			ok &= md_buf_printf(&out, "%zu", rep->nchanges) == 0;
			p += 7;
		} else if (!strncmp(p, "{images}", 8)) {
			ok &= md_buf_append(&out, images.data ? images.data : "", images.len) == 0;
			p += 8;
		} else if (!strncmp(p, "{changes}", 9)) {
			ok &= md_buf_append(&out, list.data ? list.data : "", list.len) == 0;
			p += 9;
		} else {
			ok &= md_buf_append(&out, p++, 1) == 0;
		}
	}
	if (ok && !strstr(t, "{changes}"))
		ok &= md_buf_printf(&out, "\n\n%s", list.data ? list.data : "") == 0;
	ok &= md_buf_puts(&out, "\n") == 0;
	md_buf_clear(&list);
	md_buf_clear(&images);
	if (!ok) {
		md_buf_clear(&out);
		return NULL;
	}
	return md_buf_steal(&out);
}

static void check(const char *t, struct md_cycle_report *rep)
{
	char *msg, *want;

	msg = md_publish_commit_message(t, rep);
	if (!msg)
		return; /* OOM, or over a cap */
	want = expected(t, rep);
	if (want && strcmp(msg, want) != 0)
		abort();
	if (!want && (!*msg || msg[strlen(msg) - 1] != '\n'))
		abort();
	/* every change is named in the message */
	for (size_t i = 0; want && i < rep->nchanges; i++) {
		char line[512];

		snprintf(line, sizeof(line), "- %s: %s -> %s (%s:%d)", rep->changes[i].image,
			 rep->changes[i].from, rep->changes[i].to, rep->changes[i].file,
			 rep->changes[i].line);
		if (strlen(line) < sizeof(line) - 1 && !strstr(msg, line))
			abort();
	}
	free(want);
	free(msg);
}

/* "image|from|to|file|line" lines into rep (fields point into text). */
static void parse_changes(char *text, struct md_change *v, struct md_cycle_report *rep)
{
	char *save = NULL;

	for (char *l = strtok_r(text, "\n", &save); l && rep->nchanges < MAX_CHANGES;
	     l = strtok_r(NULL, "\n", &save)) {
		struct md_change *c = &v[rep->nchanges];
		char *f[5] = { l, "", "", "", "0" };

		for (int i = 1; i < 5; i++) {
			char *bar = strchr(f[i - 1], '|');

			if (!bar)
				break;
			*bar = '\0';
			f[i] = bar + 1;
		}
		memset(c, 0, sizeof(*c));
		c->image = f[0];
		c->from = f[1];
		c->to = f[2];
		c->file = f[3];
		c->line = (int)strtol(f[4], NULL, 10);
		rep->nchanges++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct md_change v[MAX_CHANGES];
	struct md_cycle_report rep;
	char *text, *changes;

	if (size > 65536)
		return 0;
	text = malloc(size + 2);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = text[size + 1] = '\0';
	changes = text + strlen(text) + 1;
	memset(&rep, 0, sizeof(rep));
	rep.changes = v;
	if (changes <= text + size)
		parse_changes(changes, v, &rep);
	check(text, &rep);
	free(text);
	return 0;
}

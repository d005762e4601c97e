/* Fuzz the `explain --tags FILE` reader: one tag a line, an optional
 * creation time (RFC 3339) and platform list, # comments. What it reads
 * must be what a registry could have listed (non-empty, no blanks, not a
 * comment), an error names fuzz.tags:LINE, and the candidates then go
 * through the decision explain prints, whose choice is one of them (or the
 * current tag, or none). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "magos/policy.h"
#include "../../internal/cli/cli_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const annotations[] = {
	"{\"magos\": {\"policy\": \"semver\"}}",
	"{\"magos\": {\"policy\": \"semver\", \"range\": \"<2\", \"minAge\": \"2d\"}}",
	"{\"magos\": {\"policy\": \"alphabetical\"}}",
	"{\"magos\": {\"policy\": \"semver\", \"arch\": \"linux/arm64\"}}",
};

static void check_tags(const struct cli_tags *l)
{
	for (size_t i = 0; i < l->n; i++) {
		const char *t = l->tags[i];

		if (!*t || t[0] == '#' || strpbrk(t, " \t\r\n"))
			abort();
		for (size_t j = 0; j < l->plats[i].n; j++)
			if (!*l->plats[i].v[j])
				abort();
	}
}

/* What explain does with them (decide_and_print, without the printing). */
static void decide(const struct cli_tags *l, size_t pick)
{
	struct md_candidate *c = calloc(l->n ? l->n : 1, sizeof(*c));
	struct md_decide_ctx ctx = { 1700000000, "linux/amd64" };
	const char *current = l->n ? l->tags[0] : NULL, *tag;
	struct md_decision *d = NULL;
	struct md_policy *p = NULL;
	struct md_err err;
	int found;

	if (!c)
		return;
	if (md_policy_parse(&p, annotations[pick % 4], &err) < 0)
		abort();
	for (size_t i = 0; i < l->n; i++) {
		c[i].tag = l->tags[i];
		c[i].facts = 1;
		c[i].created = l->created[i];
		c[i].platforms = (const char *const *)l->plats[i].v;
		c[i].nplatforms = l->plats[i].n;
	}
	if (md_policy_decide_ctx(&d, p, current, c, l->n, &ctx, &err) < 0)
		abort();
	tag = md_decision_tag(d);
	found = !tag;
	for (size_t i = 0; i < l->n && !found; i++)
		found = strcmp(tag, l->tags[i]) == 0;
	if (!found || md_decision_trace_count(d) > l->n)
		abort();
	for (size_t i = 0; i < md_decision_trace_count(d); i++)
		if (!md_decision_trace_at(d, i)->reason || !md_decision_trace_at(d, i)->tag)
			abort();
	md_decision_free(d);
	md_policy_free(p);
	free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cli_tags l;
	struct md_err err = { { 0 } };
	char *text;

	if (size > 65536)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&l, 0, sizeof(l));
	if (md_cli__tags_parse(&l, "fuzz.tags", text, &err) == 0) {
		check_tags(&l);
		decide(&l, size);
	} else if (strncmp(err.msg, "fuzz.tags:", 10) != 0 || err.msg[10] < '1' ||
		   err.msg[10] > '9') {
		abort();
	}
	md_cli__tags_free(&l); /* frees text too */
	return 0;
}

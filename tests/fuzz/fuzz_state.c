/* Fuzz the state file loader: the input is a state.json, optionally
 * followed by a line "---" and operations on the loaded state, one a line,
 * fields separated by '|':
 *
 *   s|repo|tag|digest|now        tag seen with a digest
 *   l|repo|tag|now               tag listed
 *   L|repo|tag,tag,...           a whole tag list seen
 *   f|digest|created|plat,...|now  image facts stored
 *   c|when|ok|commit             last cycle ("" commit: keep)
 *   a|commit                     applied commit ("" forgets it)
 *   k|dir|status|good|now        stack status (1 ok, 2 rolled back, 3 failed)
 *   x|dir                        stack forgotten
 *   b|repo|digest|now            bad digest
 *
 * What is loaded, and whatever the setters accept, must be saved as a text
 * that loads again and saves to the same bytes (the state never writes a
 * file its next start would set aside), and the getters must tell what
 * the setters were given. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magos/state.h"
#include "../../internal/state/state_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FIELDS 6

/* Split line at '|' in place into f (at most MAX_FIELDS); the count. */
static size_t fields(char *line, char **f)
{
	size_t n = 0;

	f[n++] = line;
	for (char *p = line; *p && n < MAX_FIELDS; p++)
		if (*p == '|') {
			*p = '\0';
			f[n++] = p + 1;
		}
	return n;
}

static int64_t num(const char *s)
{
	return (int64_t)strtoll(s, NULL, 10);
}

static int same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

static void op_tags(struct md_state *st, char **f, size_t n)
{
	if (f[0][0] == 's' && n >= 5) {
		if (md_state_tag_seen(st, f[1], f[2], f[3], num(f[4])) == 0 &&
		    !same(md_state_tag_digest(st, f[1], f[2]), f[3]))
			abort();
	} else if (f[0][0] == 'l' && n >= 4) {
		int64_t before = md_state_tag_first_seen(st, f[1], f[2]), after;

		/* first_seen is set the first time only (0 may be a known tag's) */
		if (md_state_tag_listed(st, f[1], f[2], num(f[3])) == 0 &&
		    (after = md_state_tag_first_seen(st, f[1], f[2])) != before &&
		    !(before == 0 && after == num(f[3])))
			abort();
	} else if (f[0][0] == 'L' && n >= 3) {
		struct md_strv tags = { 0 };
		int first, again;

		if (md_strv_split(&tags, f[2], ",") < 0)
			return;
		first = md_state_tag_list_seen(st, f[1], &tags);
		again = md_state_tag_list_seen(st, f[1], &tags);
		/* the same list twice: the second time it is known */
		if (first >= 0 && again != 1)
			abort();
		for (size_t i = 0; first == 0 && i < tags.n; i++)
			if (md_state_tag_digest(st, f[1], tags.v[i]))
				abort();
		md_strv_clear(&tags);
	}
}

static void op_facts(struct md_state *st, char **f, size_t n)
{
	struct md_strv plats = { 0 }, back = { 0 };
	int64_t created = -1;

	if (n < 5 || md_strv_split(&plats, f[3], ",") < 0)
		return;
	if (md_state_digest_facts_put(st, f[1], num(f[2]), &plats, num(f[4])) == 0) {
		if (md_state_digest_facts_get(st, f[1], &created, &back) != 1 ||
		    created != (num(f[2]) > 0 ? num(f[2]) : 0) || back.n != plats.n)
			abort();
		for (size_t i = 0; i < back.n; i++)
			if (strcmp(back.v[i], plats.v[i]) != 0)
				abort();
	}
	md_strv_clear(&plats);
	md_strv_clear(&back);
}

static size_t input_size;

static size_t stack_count(const struct md_state *st)
{
	struct md_strv dirs = { 0 };
	size_t n;

	if (md_state_stack_list(st, &dirs) < 0)
		return MD_STATE_MAX_STACKS; /* OOM: assume full */
	n = dirs.n;
	md_strv_clear(&dirs);
	return n;
}

static void op_applied(struct md_state *st, char **f, size_t n)
{
	switch (f[0][0]) {
	case 'c':
		if (n >= 4 &&
		    md_state_set_last_cycle(st, num(f[1]), f[2][0] == '1', *f[3] ? f[3] : NULL) == 0 &&
		    ((*f[3] && !same(md_state_last_commit(st), f[3])) ||
		     (f[2][0] == '1' && md_state_last_success(st) != num(f[1]))))
			abort();
		break;
	case 'a':
		if (n >= 2 && md_state_set_applied_commit(st, *f[1] ? f[1] : NULL) == 0 &&
		    (*f[1] ? !same(md_state_applied_commit(st), f[1]) : !!md_state_applied_commit(st)))
			abort();
		break;
	case 'k':
		/* unless the bound pushed it out at once (it was the oldest) */
		if (n >= 5 && md_state_stack_set(st, f[1], (enum md_stack_status)num(f[2]),
						 *f[3] ? f[3] : NULL, num(f[4])) == 0 &&
		    (md_state_stack_status(st, f[1]) != (enum md_stack_status)num(f[2]) ||
		     (*f[3] && !same(md_state_stack_good(st, f[1]), f[3]))) &&
		    stack_count(st) < MD_STATE_MAX_STACKS)
			abort();
		break;
	case 'x':
		if (n >= 2 && (md_state_stack_forget(st, f[1]) != 0 ||
			       md_state_stack_status(st, f[1]) != MD_STACK_STATUS_NONE))
			abort();
		break;
	case 'b':
		/* A bound can push the new one out at once only when the file
		 * held MD_STATE_MAX_BAD_DIGESTS (71-byte keys) for the repo. */
		if (n >= 4 && md_state_bad_digest_add(st, f[1], f[2], num(f[3])) == 0 &&
		    !md_state_bad_digest(st, f[1], f[2]) && input_size < 71 * MD_STATE_MAX_BAD_DIGESTS)
			abort();
		break;
	default:
		break;
	}
}

static void run_ops(struct md_state *st, char *ops)
{
	char *save = NULL, *f[MAX_FIELDS];

	for (char *line = strtok_r(ops, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t n = fields(line, f);

		if (strchr("slL", f[0][0]))
			op_tags(st, f, n);
		else if (f[0][0] == 'f')
			op_facts(st, f, n);
		else
			op_applied(st, f, n);
	}
}

/* Every stack listed is known, in order. */
static void check_stacks(const struct md_state *st)
{
	struct md_strv dirs = { 0 };

	if (md_state_stack_list(st, &dirs) < 0)
		return;
	for (size_t i = 0; i < dirs.n; i++) {
		if (md_state_stack_status(st, dirs.v[i]) == MD_STACK_STATUS_NONE ||
		    (i && strcmp(dirs.v[i - 1], dirs.v[i]) >= 0))
			abort();
	}
	md_strv_clear(&dirs);
}

static void fail_reload(const char *why, const char *text)
{
	fprintf(stderr, "fuzz_state: the saved text does not load again (%s):\n%s\n", why, text);
	abort();
}

/* What st would save loads again, and saves to the same text. */
static void check_round_trip(const struct md_state *st)
{
	char *text = md_state__serialise(st), *again, why[512];
	struct md_state *st2;

	if (!text)
		return; /* OOM */
	st2 = md_state__new("/fuzz");
	if (!st2)
		abort();
	why[0] = '\0';
	if (md_state__parse(st2, text, strlen(text), why, sizeof(why)) < 0)
		fail_reload(why, text); /* we wrote a file we would set aside */
	md_state__prune(st2);
	again = md_state__serialise(st2);
	if (!again || strcmp(again, text) != 0)
		abort();
	if (!same(md_state_applied_commit(st), md_state_applied_commit(st2)) &&
	    (md_state_applied_commit(st) || md_state_applied_commit(st2)))
		abort();
	if (md_state_last_success(st) != md_state_last_success(st2))
		abort();
	check_stacks(st2);
	free(again);
	free(text);
	md_state_free(st2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct md_state *st;
	char *text, *ops, why[512];

	if (size > 1 << 20)
		return 0;
	input_size = size;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	ops = strstr(text, "\n---\n");
	if (ops) {
		*ops = '\0';
		ops += 5;
	}
	st = md_state__new("/fuzz");
	if (!st)
		abort();
	why[0] = '\0';
	if (md_state__parse(st, text, strlen(text), why, sizeof(why)) < 0) {
		/* said why (it may quote a key holding a newline: md_log keeps
		 * the warning one line) */
		if (!why[0] || strlen(why) >= sizeof(why))
			abort();
		md_state_free(st);
		/* the operations still run on an empty state */
		st = md_state__new("/fuzz");
		if (!st)
			abort();
	}
	md_state__prune(st);
	check_round_trip(st);
	check_stacks(st);
	if (ops) {
		run_ops(st, ops);
		check_round_trip(st);
	}
	md_state_free(st);
	free(text);
	return 0;
}

/* PCRE2 for the annotation's filter and exclude fields.
 *
 * Patterns are compiled once, when the annotation is parsed. A user's
 * pattern runs against every tag of a repository, so matching is bounded:
 * a match limit and a depth limit stop catastrophic backtracking, and a
 * tag that hits them is dropped with a reason rather than failing the
 * decision. */
#include "policy_int.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdlib.h>
#include <string.h>

#define PATTERN_MAX 1024
#define MATCH_LIMIT 100000u
#define DEPTH_LIMIT 1000u

struct md_regex {
	pcre2_code *code;
};

struct md_regex_scratch {
	pcre2_match_context *mctx;
	pcre2_match_data *md;
};

int md_policy__regex_compile(struct md_regex **out, const char *field, const char *pattern,
		     struct md_err *err)
{
	struct md_regex *re;
	PCRE2_UCHAR msg[160];
	PCRE2_SIZE off = 0;
	size_t len = strnlen(pattern, PATTERN_MAX + 1);
	int code = 0;

	*out = NULL;
	if (len > PATTERN_MAX)
		return md_err_set(err, "\"%s\" is longer than %d characters", field, PATTERN_MAX);
	re = calloc(1, sizeof(*re));
	if (!re)
		return md_err_set(err, "out of memory compiling \"%s\"", field);
	/* \C could split a code unit; tags are ASCII anyway. */
	re->code = pcre2_compile((PCRE2_SPTR)pattern, len, PCRE2_NEVER_BACKSLASH_C, &code, &off,
				 NULL);
	if (!re->code) {
		free(re);
		if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
			strcpy((char *)msg, "unknown error");
		return md_err_set(err, "invalid \"%s\" regex \"%.200s\": %s at offset %zu", field,
				  pattern, (const char *)msg, (size_t)off);
	}
	*out = re;
	return 0;
}

void md_policy__regex_free(struct md_regex *re)
{
	if (!re)
		return;
	pcre2_code_free(re->code);
	free(re);
}

uint32_t md_policy__regex_group(const struct md_regex *re, const char *name)
{
	int n = pcre2_substring_number_from_name(re->code, (PCRE2_SPTR)name);

	return n > 0 ? (uint32_t)n : 0;
}

uint32_t md_policy__regex_group_count(const struct md_regex *re)
{
	uint32_t n = 0;

	return pcre2_pattern_info(re->code, PCRE2_INFO_CAPTURECOUNT, &n) == 0 ? n : 0;
}

struct md_regex_scratch *md_policy__regex_scratch_new(void)
{
	struct md_regex_scratch *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->mctx = pcre2_match_context_create(NULL);
	/* Enough pairs for any pattern we accept (groups are capped by
	 * PCRE2 at 65535; patterns are at most 1 KiB, so far fewer). */
	s->md = pcre2_match_data_create(PATTERN_MAX / 2 + 1, NULL);
	if (!s->mctx || !s->md) {
		md_policy__regex_scratch_free(s);
		return NULL;
	}
	pcre2_set_match_limit(s->mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(s->mctx, DEPTH_LIMIT);
	return s;
}

void md_policy__regex_scratch_free(struct md_regex_scratch *s)
{
	if (!s)
		return;
	pcre2_match_data_free(s->md);
	pcre2_match_context_free(s->mctx);
	free(s);
}

int md_policy__regex_match(const struct md_regex *re, struct md_regex_scratch *s, const char *subject,
		   uint32_t group, size_t *start, size_t *len)
{
	PCRE2_SIZE *ov;
	int rc = pcre2_match(re->code, (PCRE2_SPTR)subject, strlen(subject), 0, 0, s->md, s->mctx);

	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc < 0)
		return -1;
	if (start) {
		ov = pcre2_get_ovector_pointer(s->md);
		*start = 0;
		*len = 0;
		/* \K in a lookahead can put a group's end before its start. */
		if (group < pcre2_get_ovector_count(s->md) && ov[2 * group] != PCRE2_UNSET &&
		    ov[2 * group + 1] >= ov[2 * group]) {
			*start = ov[2 * group];
			*len = ov[2 * group + 1] - ov[2 * group];
		}
	}
	return 1;
}

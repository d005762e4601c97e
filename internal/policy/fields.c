/* The annotation fields that narrow and gate a choosing policy: filter,
 * exclude and extract (PCRE2), arch and minAge. The JSON side (types) is in
 * annotation.c; these take the field's text. */
#include "policy_int.h"

#include <stdlib.h>
#include <string.h>

#define MAX_ARCH 16
#define GROUP_NAME_MAX 32
#define GROUP_NUMBER_DIGITS 5 /* PCRE2 allows at most 65535 groups */

int md_policy__set_filter(struct md_policy *p, const char *field, const char *text,
			 struct md_err *err)
{
	int is_filter = strcmp(field, "filter") == 0;
	struct md_regex **re = is_filter ? &p->filter : &p->exclude;
	char **dst = is_filter ? &p->filter_text : &p->exclude_text;

	if (md_policy__regex_compile(re, field, text, err) < 0)
		return -1;
	*dst = md_strdup(text);
	return *dst ? 0 : md_err_set(err, "out of memory parsing the magos annotation");
}

static int bad_extract(const char *text, struct md_err *err)
{
	return md_err_set(err, "\"extract\" must name or number a group of \"filter\", e.g. "
			       "\"$version\" or \"$1\", not \"%.64s\"",
			  text);
}

static int is_word_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* "$name", "name" or "${name}" name a group; "$1", "1" or "${1}" number
 * one, as Flux writes it ("$0": the whole match). PCRE2 group names are
 * word characters, not starting with a digit, at most 32 long. */
int md_policy__set_extract(struct md_policy *p, const char *text, struct md_err *err)
{
	const char *ref = text[0] == '$' ? text + 1 : text;
	size_t n = strlen(ref), digits = 0;

	if (text[0] == '$' && ref[0] == '{') {
		if (n < 2 || ref[n - 1] != '}')
			return bad_extract(text, err);
		ref++;
		n -= 2;
	}
	if (n == 0 || n > GROUP_NAME_MAX)
		return bad_extract(text, err);
	while (digits < n && ref[digits] >= '0' && ref[digits] <= '9')
		digits++;
	for (size_t i = 0; i < n; i++)
		if (!is_word_char(ref[i]))
			return bad_extract(text, err);
	if (digits == n) {
		if (n > GROUP_NUMBER_DIGITS)
			return bad_extract(text, err);
		p->extract_numbered = 1;
		p->extract_group = (uint32_t)strtoul(ref, NULL, 10);
	} else if (digits > 0) {
		return bad_extract(text, err);
	}
	p->extract = md_strndup(ref, n);
	return p->extract ? 0 : md_err_set(err, "out of memory parsing the magos annotation");
}

int md_policy__set_arch_one(struct md_policy *p, const char *text, struct md_err *err)
{
	struct md_platform pl, *grown;

	if (md_policy__platform_parse(&pl, text) < 0)
		return md_err_set(err, "\"arch\" has an invalid platform \"%.64s\" (expected e.g. "
				       "\"amd64\", \"arm64\" or \"linux/arm/v7\")",
				  text);
	if (p->narch >= MAX_ARCH)
		return md_err_set(err, "\"arch\" lists more than %d platforms", MAX_ARCH);
	for (size_t i = 0; i < p->narch; i++)
		if (memcmp(&p->arch[i], &pl, sizeof(pl)) == 0)
			return 0; /* "arm64" and "linux/arm64/v8" are one platform */
	grown = realloc(p->arch, (p->narch + 1) * sizeof(*grown));
	if (!grown)
		return md_err_set(err, "out of memory parsing the magos annotation");
	p->arch = grown;
	p->arch[p->narch++] = pl;
	return 0;
}

int md_policy__set_min_age(struct md_policy *p, const char *text, struct md_err *err)
{
	if (md_duration_parse(text, &p->min_age, err) < 0)
		return md_err_prefix(err, "\"minAge\"");
	p->min_age_text = md_strdup(text);
	return p->min_age_text ? 0 : md_err_set(err, "out of memory parsing the magos annotation");
}

int md_policy__check_fields(struct md_policy *p, struct md_err *err)
{
	if ((p->fields & MD_F_ARCH) && p->narch == 0)
		return md_err_set(err, "\"arch\" must name at least one platform");
	if (!p->extract)
		return 0;
	if (!p->filter)
		return md_err_set(err, "\"extract\" needs a \"filter\" with the %s group \"%s\"",
				  p->extract_numbered ? "numbered" : "named", p->extract);
	if (p->extract_numbered) {
		uint32_t count = md_policy__regex_group_count(p->filter);

		if (p->extract_group > count)
			return md_err_set(err, "\"extract\": \"filter\" has no group %u (it has %u)",
					  p->extract_group, count);
		return 0;
	}
	p->extract_group = md_policy__regex_group(p->filter, p->extract);
	if (!p->extract_group)
		return md_err_set(err, "\"extract\": \"filter\" has no group named \"%s\"",
				  p->extract);
	return 0;
}

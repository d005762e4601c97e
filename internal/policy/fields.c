/* The annotation fields that narrow and gate a choosing policy: filter,
 * exclude and extract (PCRE2), arch and minAge. The JSON side (types) is in
 * annotation.c; these take the field's text. */
#include "policy_int.h"

#include <stdlib.h>
#include <string.h>

#define MAX_ARCH 16
#define GROUP_NAME_MAX 32

int md_policy_set_filter(struct md_policy *p, const char *field, const char *text,
			 struct md_err *err)
{
	int is_filter = strcmp(field, "filter") == 0;
	struct md_regex **re = is_filter ? &p->filter : &p->exclude;
	char **dst = is_filter ? &p->filter_text : &p->exclude_text;

	if (md_regex_compile(re, field, text, err) < 0)
		return -1;
	*dst = md_strdup(text);
	return *dst ? 0 : md_err_set(err, "out of memory parsing the magos annotation");
}

/* "$name" or "name": PCRE2 group names are word characters, not starting
 * with a digit, at most 32 long. */
int md_policy_set_extract(struct md_policy *p, const char *text, struct md_err *err)
{
	const char *name = text[0] == '$' ? text + 1 : text;
	size_t n = strlen(name);

	if (n == 0 || n > GROUP_NAME_MAX || (name[0] >= '0' && name[0] <= '9'))
		return md_err_set(err, "\"extract\" must name a group of \"filter\", e.g. \"$version\", "
				       "not \"%.64s\"",
				  text);
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_'))
			return md_err_set(err, "\"extract\" must name a group of \"filter\", e.g. "
					       "\"$version\", not \"%.64s\"",
					  text);
	}
	p->extract = md_strdup(name);
	return p->extract ? 0 : md_err_set(err, "out of memory parsing the magos annotation");
}

int md_policy_set_arch_one(struct md_policy *p, const char *text, struct md_err *err)
{
	struct md_platform pl, *grown;

	if (md_platform_parse(&pl, text) < 0)
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

int md_policy_set_min_age(struct md_policy *p, const char *text, struct md_err *err)
{
	if (md_duration_parse(text, &p->min_age, err) < 0)
		return md_err_prefix(err, "\"minAge\"");
	p->min_age_text = md_strdup(text);
	return p->min_age_text ? 0 : md_err_set(err, "out of memory parsing the magos annotation");
}

int md_policy_check_fields(struct md_policy *p, struct md_err *err)
{
	if ((p->fields & MD_F_ARCH) && p->narch == 0)
		return md_err_set(err, "\"arch\" must name at least one platform");
	if (!p->extract)
		return 0;
	if (!p->filter)
		return md_err_set(err, "\"extract\" needs a \"filter\" with the named group \"%s\"",
				  p->extract);
	p->extract_group = md_regex_group(p->filter, p->extract);
	if (!p->extract_group)
		return md_err_set(err, "\"extract\": \"filter\" has no group named \"%s\"",
				  p->extract);
	return 0;
}

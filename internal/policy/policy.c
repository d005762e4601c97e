/* The table of policy kinds and the policy's accessors. */
#include "policy_int.h"

#include <stdlib.h>
#include <string.h>

#define FOLLOW_FIELDS (MD_F_POLICY | MD_F_PIN | MD_F_REPO | MD_F_TAG)

/* Documented policies arrive one row at a time; unsupported rows exist so a
 * user who writes them is told plainly rather than "unknown policy". */
static const struct md_policy_kind_info kinds[] = {
	{ "semver", 1, MD_POLICY_SEMVER, 1,
	  MD_F_POLICY | MD_F_RANGE | MD_F_PRERELEASE | MD_F_PIN | MD_F_REPO,
	  md_policy_decide_semver },
	{ "latest", 1, MD_POLICY_LATEST, 0, FOLLOW_FIELDS, md_policy_decide_follow },
	{ "digest", 1, MD_POLICY_DIGEST, 0, FOLLOW_FIELDS, md_policy_decide_follow },
	{ "newest", 0, MD_POLICY_SEMVER, 1, 0, NULL },
	{ "alphabetical", 0, MD_POLICY_SEMVER, 1, 0, NULL },
	{ "numerical", 0, MD_POLICY_SEMVER, 1, 0, NULL },
};

const struct md_policy_kind_info *md_policy_kind_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].name, name) == 0)
			return &kinds[i];
	return NULL;
}

const struct md_policy_kind_info *md_policy_kind_info_of(enum md_policy_kind kind)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].supported && kinds[i].kind == kind)
			return &kinds[i];
	return NULL;
}

const char *md_policy_kind_name(enum md_policy_kind k)
{
	const struct md_policy_kind_info *info = md_policy_kind_info_of(k);

	return info ? info->name : "unknown";
}

void md_policy_free(struct md_policy *p)
{
	if (!p)
		return;
	free(p->repo);
	free(p->tag);
	free(p->range_text);
	md_range_free(p->range);
	free(p);
}

enum md_policy_kind md_policy_kind(const struct md_policy *p)
{
	return p->kind->kind;
}

enum md_pin md_policy_pin(const struct md_policy *p)
{
	return p->pin;
}

const char *md_policy_repo(const struct md_policy *p)
{
	return p->repo;
}

const char *md_policy_tag(const struct md_policy *p)
{
	return p->tag;
}

const char *md_policy_range(const struct md_policy *p)
{
	return p->range_text;
}

int md_policy_prerelease(const struct md_policy *p)
{
	return p->prerelease;
}

int md_policy_needs_tag_list(const struct md_policy *p)
{
	return p->kind->needs_tag_list;
}

const char *md_policy_followed_tag(const struct md_policy *p, const char *line_tag)
{
	if (p && p->tag)
		return p->tag;
	if (line_tag && *line_tag)
		return line_tag;
	return "latest";
}

/* The table of policy kinds and the policy's accessors. */
#include "policy_int.h"

#include <stdlib.h>
#include <string.h>

#define FOLLOW_FIELDS (MD_F_POLICY | MD_F_PIN | MD_F_REPO | MD_F_TAG)
#define CHOOSE_FIELDS \
	(MD_F_POLICY | MD_F_PIN | MD_F_REPO | MD_F_FILTER | MD_F_EXCLUDE | MD_F_ARCH | MD_F_MINAGE)

/* Adding a policy is adding a row. The choosing policies other than semver
 * report the kind MD_POLICY_SEMVER: to the rest of the agent the kind only
 * says "replaces the tag" versus "follows one tag" (see md_policy_name for
 * the policy's own name). */
static const struct md_policy_kind_info kinds[] = {
	{ "semver", 1, MD_POLICY_SEMVER, 1,
	  CHOOSE_FIELDS | MD_F_RANGE | MD_F_PRERELEASE | MD_F_EXTRACT, md_policy__decide_choose,
	  MD_ORDER_VERSION },
	{ "latest", 1, MD_POLICY_LATEST, 0, FOLLOW_FIELDS, md_policy__decide_follow,
	  MD_ORDER_NONE },
	{ "digest", 1, MD_POLICY_DIGEST, 0, FOLLOW_FIELDS, md_policy__decide_follow,
	  MD_ORDER_NONE },
	{ "newest", 1, MD_POLICY_SEMVER, 1, CHOOSE_FIELDS, md_policy__decide_choose,
	  MD_ORDER_CREATED },
	{ "alphabetical", 1, MD_POLICY_SEMVER, 1, CHOOSE_FIELDS | MD_F_EXTRACT,
	  md_policy__decide_choose, MD_ORDER_ALPHA },
	{ "numerical", 1, MD_POLICY_SEMVER, 1, CHOOSE_FIELDS | MD_F_EXTRACT,
	  md_policy__decide_choose, MD_ORDER_NUMBER },
};

const struct md_policy_kind_info *md_policy__kind_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].name, name) == 0)
			return &kinds[i];
	return NULL;
}

const struct md_policy_kind_info *md_policy__kind_info_of(enum md_policy_kind kind)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (kinds[i].supported && kinds[i].kind == kind)
			return &kinds[i];
	return NULL;
}

const char *md_policy_kind_name(enum md_policy_kind k)
{
	const struct md_policy_kind_info *info = md_policy__kind_info_of(k);

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
	md_policy__regex_free(p->filter);
	md_policy__regex_free(p->exclude);
	free(p->filter_text);
	free(p->exclude_text);
	free(p->extract);
	free(p->arch);
	free(p->min_age_text);
	free(p);
}

const char *md_policy_name(const struct md_policy *p)
{
	return p->kind->name;
}

int md_policy_needs_facts(const struct md_policy *p)
{
	/* Every policy that chooses among tags checks the host's platform by
	 * default (a release often reaches one architecture before the
	 * others), so it needs the facts of the tag it is about to choose. */
	return p && p->kind->order != MD_ORDER_NONE;
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

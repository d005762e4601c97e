/* The site annotation: {"magos": {"policy": ..., "range": ..., ...}}.
 *
 * Each field is a row in a table with its setter; documented fields this
 * version does not implement have no setter and are refused by name, so a
 * user learns the field exists but is not available yet. */
#include "policy_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "magos/ref.h"

#define ANNOTATION_MAX 8192
#define REPO_MAX 512

typedef int (*field_setter)(struct md_policy *p, json_t *v, struct md_err *err);

struct field_spec {
	const char *name;
	unsigned bit;
	field_setter set; /* NULL: documented, not supported yet */
};

/* The field's string value. Embedded NULs never get here: json_loads
 * refuses "\u0000" unless JSON_ALLOW_NUL is given. */
static int get_string(json_t *v, const char *name, const char **out, struct md_err *err)
{
	*out = "";
	if (!json_is_string(v))
		return md_err_set(err, "\"%s\" must be a string", name);
	*out = json_string_value(v);
	return 0;
}

static int dup_into(char **dst, const char *s, struct md_err *err)
{
	*dst = md_strdup(s);
	return *dst ? 0 : md_err_set(err, "out of memory parsing the magos annotation");
}

static int set_policy(struct md_policy *p, json_t *v, struct md_err *err)
{
	const struct md_policy_kind_info *k;
	const char *s;

	if (get_string(v, "policy", &s, err) < 0)
		return -1;
	k = md_policy__kind_lookup(s);
	if (!k)
		return md_err_set(err, "unknown policy \"%s\" (expected semver, latest, digest, "
				       "newest, alphabetical or numerical)",
				  s);
	if (!k->supported)
		return md_err_set(err, "policy \"%s\" is not supported by this version of magos-dominus",
				  s);
	p->kind = k;
	return 0;
}

static int set_range(struct md_policy *p, json_t *v, struct md_err *err)
{
	const char *s;

	if (get_string(v, "range", &s, err) < 0 || md_range_parse(&p->range, s, err) < 0)
		return -1;
	return dup_into(&p->range_text, s, err);
}

static int set_prerelease(struct md_policy *p, json_t *v, struct md_err *err)
{
	if (!json_is_boolean(v))
		return md_err_set(err, "\"prerelease\" must be true or false");
	p->prerelease = json_is_true(v);
	return 0;
}

static int set_pin(struct md_policy *p, json_t *v, struct md_err *err)
{
	const char *s;

	if (get_string(v, "pin", &s, err) < 0)
		return -1;
	if (strcmp(s, "digest") == 0)
		p->pin = MD_PIN_DIGEST;
	else if (strcmp(s, "tag") == 0)
		p->pin = MD_PIN_TAG;
	else
		return md_err_set(err, "\"pin\" must be \"digest\" or \"tag\", not \"%s\"", s);
	return 0;
}

/* Loose on purpose: the ref module owns reference grammar; this only keeps
 * out what could never be a repository name. */
static int set_repo(struct md_policy *p, json_t *v, struct md_err *err)
{
	const char *s;
	size_t n;

	if (get_string(v, "repo", &s, err) < 0)
		return -1;
	n = strlen(s);
	if (n == 0 || n > REPO_MAX)
		return md_err_set(err, "\"repo\" must be a repository name of 1 to %d characters",
				  REPO_MAX);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
			return md_err_set(err, "\"repo\" must not contain spaces or control characters");
	return dup_into(&p->repo, s, err);
}

static int set_tag(struct md_policy *p, json_t *v, struct md_err *err)
{
	const char *s;

	if (get_string(v, "tag", &s, err) < 0)
		return -1;
	if (!md_ref_valid_tag(s))
		return md_err_set(err, "\"tag\" is not a valid tag: \"%s\"", s);
	return dup_into(&p->tag, s, err);
}

static int set_filter(struct md_policy *p, json_t *v, struct md_err *err)
{
	const char *s;

	if (get_string(v, "filter", &s, err) < 0)
		return -1;
	return md_policy__set_filter(p, "filter", s, err);
}

static int set_exclude(struct md_policy *p, json_t *v, struct md_err *err)
{
	const char *s;

	if (get_string(v, "exclude", &s, err) < 0)
		return -1;
	return md_policy__set_filter(p, "exclude", s, err);
}

static int set_extract(struct md_policy *p, json_t *v, struct md_err *err)
{
	const char *s;

	if (get_string(v, "extract", &s, err) < 0)
		return -1;
	return md_policy__set_extract(p, s, err);
}

/* A string or a non-empty array of strings. */
static int set_arch(struct md_policy *p, json_t *v, struct md_err *err)
{
	size_t i;
	json_t *e;

	if (json_is_string(v))
		return md_policy__set_arch_one(p, json_string_value(v), err);
	if (!json_is_array(v) || json_array_size(v) == 0)
		return md_err_set(err, "\"arch\" must be a platform or a non-empty array of them");
	json_array_foreach(v, i, e) {
		if (!json_is_string(e))
			return md_err_set(err, "\"arch\" must be a platform or a non-empty array of "
					       "them");
		if (md_policy__set_arch_one(p, json_string_value(e), err) < 0)
			return -1;
	}
	return 0;
}

static int set_min_age(struct md_policy *p, json_t *v, struct md_err *err)
{
	const char *s;

	if (get_string(v, "minAge", &s, err) < 0)
		return -1;
	return md_policy__set_min_age(p, s, err);
}

static const struct field_spec fields[] = {
	{ "policy", MD_F_POLICY, set_policy },
	{ "range", MD_F_RANGE, set_range },
	{ "prerelease", MD_F_PRERELEASE, set_prerelease },
	{ "pin", MD_F_PIN, set_pin },
	{ "repo", MD_F_REPO, set_repo },
	{ "tag", MD_F_TAG, set_tag },
	{ "filter", MD_F_FILTER, set_filter },
	{ "extract", MD_F_EXTRACT, set_extract },
	{ "exclude", MD_F_EXCLUDE, set_exclude },
	{ "arch", MD_F_ARCH, set_arch },
	{ "minAge", MD_F_MINAGE, set_min_age },
	{ "verify", 0, NULL },
	{ "scan", 0, NULL },
};

#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

static const struct field_spec *field_lookup(const char *name)
{
	for (size_t i = 0; i < NFIELDS; i++)
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	return NULL;
}

static int apply_field(struct md_policy *p, const char *key, json_t *v, struct md_err *err)
{
	const struct field_spec *f = field_lookup(key);

	if (!f)
		return md_err_set(err, "unknown field \"%s\" in magos annotation", key);
	if (!f->set)
		return md_err_set(err, "\"%s\" is not supported by this version of magos-dominus",
				  key);
	if (f->set(p, v, err) < 0)
		return -1;
	p->fields |= f->bit;
	return 0;
}

/* The policy kind, then fields the kind does not accept. */
static int check_combination(struct md_policy *p, struct md_err *err)
{
	if (!p->kind) {
		if (!(p->fields & MD_F_RANGE))
			return md_err_set(err, "\"policy\" is required in magos annotation "
					       "(semver, latest, digest, newest, alphabetical or "
					       "numerical)");
		p->kind = md_policy__kind_lookup("semver");
	}
	for (size_t i = 0; i < NFIELDS; i++)
		if ((p->fields & fields[i].bit) && !(p->kind->fields & fields[i].bit))
			return md_err_set(err, "\"%s\" is not valid with policy \"%s\"",
					  fields[i].name, p->kind->name);
	return md_policy__check_fields(p, err);
}

/* The document around the fields: one object, one key, "magos". */
static int magos_object(json_t *root, json_t **out, struct md_err *err)
{
	const char *key;
	json_t *v;

	if (!json_is_object(root))
		return md_err_set(err, "magos annotation must be a JSON object");
	json_object_foreach(root, key, v) {
		if (strcmp(key, "magos") != 0)
			return md_err_set(err, "unexpected key \"%s\" in annotation: only \"magos\" "
					       "is allowed",
					  key);
	}
	*out = json_object_get(root, "magos");
	if (!*out)
		return md_err_set(err, "annotation has no \"magos\" key");
	if (!json_is_object(*out))
		return md_err_set(err, "\"magos\" must be an object");
	return 0;
}

static int parse_doc(struct md_policy *p, const char *annotation, struct md_err *err)
{
	json_error_t jerr;
	json_t *root, *magos;
	const char *key;
	json_t *v;
	int rc = -1;

	root = json_loads(annotation, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return md_err_set(err, "invalid annotation JSON: %s (column %d)", jerr.text,
				  jerr.column);
	if (magos_object(root, &magos, err) < 0)
		goto out;
	json_object_foreach(magos, key, v) {
		if (apply_field(p, key, v, err) < 0)
			goto out;
	}
	rc = check_combination(p, err);
out:
	json_decref(root);
	return rc;
}

int md_policy_parse(struct md_policy **out, const char *annotation, struct md_err *err)
{
	struct md_policy *p;

	*out = NULL;
	if (!annotation)
		return md_err_set(err, "no magos annotation given");
	if (strnlen(annotation, ANNOTATION_MAX + 1) > ANNOTATION_MAX)
		return md_err_set(err, "magos annotation is longer than %d bytes", ANNOTATION_MAX);
	p = calloc(1, sizeof(*p));
	if (!p)
		return md_err_set(err, "out of memory parsing the magos annotation");
	p->pin = MD_PIN_DIGEST;
	if (parse_doc(p, annotation, err) < 0) {
		md_policy_free(p);
		return -1;
	}
	*out = p;
	return 0;
}

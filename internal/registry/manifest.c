/* Pure parsers for image manifests, indexes (OCI index, Docker manifest
 * list) and image config blobs: which platforms an image provides and when
 * it was built (docs/protocols.md, Registry API). No I/O: unit-tested directly. */
#include "registry_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define ANN_CREATED "org.opencontainers.image.created"
#define ANN_REF_TYPE "vnd.docker.reference.type"
#define MAX_PLATFORM_PART 32

void md_registry__manifest_clear(struct md_reg_manifest *m)
{
	if (!m)
		return;
	md_strv_clear(&m->platforms);
	free(m->first);
	free(m->config);
	memset(m, 0, sizeof(*m));
}

static int is_index_type(const char *t)
{
	return !strcmp(t, MD_MT_OCI_INDEX) || !strcmp(t, MD_MT_DOCKER_LIST);
}

static int is_image_type(const char *t)
{
	return !strcmp(t, MD_MT_OCI_MANIFEST) || !strcmp(t, MD_MT_DOCKER_MANIFEST);
}

/* Content types that say nothing about the manifest: the body decides. */
static int is_generic_type(const char *t)
{
	return !t || !*t || !strcmp(t, "application/json") ||
	       !strcmp(t, "application/octet-stream") || !strcmp(t, "text/plain");
}

/* An RFC 3339 time, or 0 when absent, malformed or not after the epoch
 * (reproducible builds often stamp 1970 or Go's zero time: no information). */
static int64_t time_or_zero(json_t *v)
{
	int64_t t = 0;

	if (!json_is_string(v) || md_time_parse_rfc3339(json_string_value(v), &t, NULL) < 0)
		return 0;
	return t > 0 ? t : 0;
}

static int64_t created_annotation(json_t *obj)
{
	return time_or_zero(json_object_get(json_object_get(obj, "annotations"), ANN_CREATED));
}

/* One platform name part: what OCI uses (linux, arm64, v8, rva20u64, …). */
static int valid_part(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MAX_PLATFORM_PART)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

/* "os/arch[/variant]" from an object with os, architecture and optional
 * variant strings; NULL (with *oom clear) when they are absent or unusable. */
static char *platform_of(json_t *obj, int *oom)
{
	const char *os = json_string_value(json_object_get(obj, "os"));
	const char *arch = json_string_value(json_object_get(obj, "architecture"));
	const char *variant = json_string_value(json_object_get(obj, "variant"));
	char *s;

	*oom = 0;
	if (!os || !arch || !valid_part(os) || !valid_part(arch))
		return NULL;
	if (variant && *variant && !valid_part(variant))
		return NULL;
	if (variant && *variant)
		s = md_asprintf("%s/%s/%s", os, arch, variant);
	else
		s = md_asprintf("%s/%s", os, arch);
	*oom = !s;
	return s;
}

/* BuildKit stores provenance/SBOM as index entries for unknown/unknown
 * with a reference-type annotation: they are not runnable platforms. */
static int is_attestation(json_t *entry, const char *platform)
{
	const char *t = json_string_value(
		json_object_get(json_object_get(entry, "annotations"), ANN_REF_TYPE));

	return (t && !strcmp(t, "attestation-manifest")) ||
	       (platform && !strcmp(platform, "unknown/unknown"));
}

/* Fold one index entry into m. Entries we cannot use are skipped, as the
 * image spec asks for unknown media types. */
static int index_entry(struct md_reg_manifest *m, json_t *e, const char *url,
		       struct md_err *err)
{
	const char *mt = json_string_value(json_object_get(e, "mediaType"));
	const char *digest = json_string_value(json_object_get(e, "digest"));
	char *plat;
	int oom, rc = 0;

	if (!json_is_object(e) || (mt && !is_image_type(mt)))
		return 0;
	plat = platform_of(json_object_get(e, "platform"), &oom);
	if (oom)
		return md_err_set(err, "out of memory reading the index at %s", url);
	if (!plat || is_attestation(e, plat))
		goto out;
	if (!m->first && digest && md_ref_valid_digest(digest)) {
		if (!(m->first = md_strdup(digest))) {
			rc = md_err_set(err, "out of memory reading the index at %s", url);
			goto out;
		}
		m->first_created = created_annotation(e);
	}
	if (md_strv_contains(&m->platforms, plat))
		goto out;
	if (m->platforms.n >= MD_REG_MAX_PLATFORMS)
		rc = md_err_set(err, "index at %s lists more than %d platforms", url,
				MD_REG_MAX_PLATFORMS);
	else if (md_strv_push(&m->platforms, plat) < 0)
		rc = md_err_set(err, "out of memory reading the index at %s", url);
out:
	free(plat);
	return rc;
}

static int parse_index(struct md_reg_manifest *m, json_t *root, const char *url,
		       struct md_err *err)
{
	json_t *list = json_object_get(root, "manifests"), *e;
	size_t i;

	if (!json_is_array(list))
		return md_err_set(err, "index at %s has no \"manifests\" array", url);
	if (json_array_size(list) > MD_REG_MAX_INDEX_ENTRIES)
		return md_err_set(err, "index at %s has more than %d entries", url,
				  MD_REG_MAX_INDEX_ENTRIES);
	json_array_foreach(list, i, e)
		if (index_entry(m, e, url, err) < 0)
			return -1;
	return 0;
}

static int parse_image(struct md_reg_manifest *m, json_t *root, const char *url,
		       struct md_err *err)
{
	json_t *cfg = json_object_get(root, "config");
	const char *mt = json_string_value(json_object_get(cfg, "mediaType"));
	const char *digest = json_string_value(json_object_get(cfg, "digest"));

	if (!json_is_object(cfg) || !digest)
		return md_err_set(err, "image manifest at %s has no config digest", url);
	/* Artifacts (Helm charts, signatures, the empty config) carry no
	 * platform or build time worth a request. */
	if (mt && strcmp(mt, MD_MT_OCI_CONFIG) != 0 && strcmp(mt, MD_MT_DOCKER_CONFIG) != 0)
		return 0;
	if (!md_ref_valid_digest(digest))
		return md_err_set(err, "image manifest at %s has an unsupported config digest \"%.80s\"",
				  url, digest);
	if (!(m->config = md_strdup(digest)))
		return md_err_set(err, "out of memory reading the manifest at %s", url);
	return 0;
}

/* The manifest kind from the header and the body's mediaType, which must
 * agree; the document's shape only decides when neither names a type. */
static int manifest_kind(json_t *root, const char *content_type, const char *url,
			 enum md_reg_manifest_kind *kind, struct md_err *err)
{
	json_t *bmt = json_object_get(root, "mediaType");
	char *ct = md_registry__media_type(content_type);
	const char *t = NULL;
	int rc = -1;

	if (bmt && !json_is_string(bmt)) {
		md_err_set(err, "manifest at %s has a \"mediaType\" that is not a string", url);
		goto out;
	}
	if (!is_generic_type(ct))
		t = ct;
	if (t && bmt && strcmp(t, json_string_value(bmt)) != 0) {
		md_err_set(err, "manifest at %s was served as %.100s but says it is %.100s", url, t,
			   json_string_value(bmt));
		goto out;
	}
	if (!t && bmt)
		t = json_string_value(bmt);
	if (t && !is_index_type(t) && !is_image_type(t)) {
		md_err_set(err, "manifest at %s has unsupported media type %.100s", url, t);
		goto out;
	}
	if (t)
		*kind = is_index_type(t) ? MD_REG_INDEX : MD_REG_IMAGE;
	else if (json_is_array(json_object_get(root, "manifests")))
		*kind = MD_REG_INDEX;
	else if (json_is_object(json_object_get(root, "config")))
		*kind = MD_REG_IMAGE;
	else {
		md_err_set(err, "document at %s is neither an image manifest nor an index", url);
		goto out;
	}
	rc = 0;
out:
	free(ct);
	return rc;
}

int md_registry__manifest_parse(struct md_reg_manifest *out, const char *body, size_t len,
			  const char *content_type, const char *url, struct md_err *err)
{
	json_error_t jerr;
	json_t *root;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	root = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return md_err_set(err, "manifest at %s is not valid JSON (line %d: %s)", url,
				  jerr.line, jerr.text);
	if (!json_is_object(root)) {
		md_err_set(err, "manifest at %s is not a JSON object", url);
		goto out;
	}
	if (manifest_kind(root, content_type, url, &out->kind, err) < 0)
		goto out;
	out->created = created_annotation(root);
	if (out->kind == MD_REG_INDEX)
		rc = parse_index(out, root, url, err);
	else
		rc = parse_image(out, root, url, err);
out:
	json_decref(root);
	if (rc < 0)
		md_registry__manifest_clear(out);
	return rc;
}

int md_registry__config_parse(const char *body, size_t len, const char *url, char **platform,
			int64_t *created, struct md_err *err)
{
	json_error_t jerr;
	json_t *root;
	int oom, rc = -1;

	*platform = NULL;
	*created = 0;
	root = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return md_err_set(err, "image config at %s is not valid JSON (line %d: %s)", url,
				  jerr.line, jerr.text);
	if (!json_is_object(root)) {
		md_err_set(err, "image config at %s is not a JSON object", url);
		goto out;
	}
	*platform = platform_of(root, &oom);
	if (oom) {
		md_err_set(err, "out of memory reading the image config at %s", url);
		goto out;
	}
	*created = time_or_zero(json_object_get(root, "created"));
	rc = 0;
out:
	json_decref(root);
	return rc;
}

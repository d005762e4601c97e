/* Where an image comes from: org.opencontainers.image.source, for the link
 * a pull request shows next to an update. Annotations first (they cost no
 * extra request), then the config's Labels, which is where `docker build
 * --label` and most CI pipelines put it. */
#include "registry_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define SOURCE_KEY "org.opencontainers.image.source"
#define SOURCE_MAX 512

/* The value ends up in markdown and in a URL: accept a plain http(s) URL
 * of unreserved, reserved and percent characters only. */
static int source_ok(const char *s)
{
	size_t n = strlen(s);

	if (n > SOURCE_MAX || (strncmp(s, "https://", 8) && strncmp(s, "http://", 7)))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || strchr("-._~:/?#@!$&'*+,;=%", ch)))
			return 0;
	}
	return 1;
}

/* *out = the source in obj[field] (an object of strings), when valid. */
static int take_source(json_t *obj, const char *field, char **out)
{
	json_t *v = json_object_get(json_object_get(obj, field), SOURCE_KEY);

	if (!json_is_string(v) || !source_ok(json_string_value(v)))
		return 0;
	*out = md_strdup(json_string_value(v));
	return *out ? 1 : -1;
}

/* GET a manifest or blob by reference into a parsed document, checking the
 * bytes against a digest reference. */
static int get_json(struct md_registry *r, const char *domain, const char *path,
		    const char *kind, const char *ref, json_t **root, struct md_err *err)
{
	int manifest = !strcmp(kind, "manifests");
	struct md_reg_request req = { .method = "GET",
				      .accept = manifest ? MD_REG_MANIFEST_ACCEPT : NULL,
				      .what = domain,
				      .max_body = manifest ? MD_REG_MAX_MANIFEST : MD_REG_MAX_CONFIG };
	struct md_reg_response resp;
	char dg[MD_DIGEST_STR_LEN + 1];
	char *url = md_registry__object_url(r, domain, path, kind, ref);
	json_error_t je;
	int rc = -1;

	*root = NULL;
	md_registry__response_init(&resp);
	if (!(req.url = url)) {
		md_err_set(err, "registry %s: out of memory", domain);
		goto out;
	}
	if (md_registry__authed_do(r, domain, path, &req, &resp, err) < 0)
		goto out;
	if (resp.status != 200) {
		md_registry__status_error(r, domain, path, &req, &resp, err);
		goto out;
	}
	md_sha256_digest(resp.body.data ? resp.body.data : "", resp.body.len, dg);
	if (strchr(ref, ':') && strcmp(ref, dg) != 0) {
		md_err_set(err, "registry %s: %s at %s has digest %s but should have %s", domain,
			   manifest ? "manifest" : "blob", resp.url, dg, ref);
		goto out;
	}
	*root = json_loadb(resp.body.data ? resp.body.data : "", resp.body.len, 0, &je);
	if (!json_is_object(*root)) {
		md_err_set(err, "registry %s: %s at %s is not a JSON object", domain,
			   manifest ? "manifest" : "blob", resp.url);
		json_decref(*root);
		*root = NULL;
		goto out;
	}
	rc = 0;
out:
	md_registry__response_clear(&resp);
	free(url);
	return rc;
}

/* The first image entry of an index: not an attestation, a digest. */
static const char *first_image(json_t *index)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(index, "manifests"), i, e) {
		const char *d = json_string_value(json_object_get(e, "digest"));
		json_t *ann = json_object_get(e, "annotations");

		if (json_object_get(ann, "vnd.docker.reference.type"))
			continue;
		if (d && md_ref_valid_digest(d))
			return d;
	}
	return NULL;
}

static int config_source(struct md_registry *r, const char *domain, const char *path,
			 json_t *manifest, char **out, struct md_err *err)
{
	const char *cfg = json_string_value(json_object_get(json_object_get(manifest, "config"),
							    "digest"));
	json_t *blob = NULL;
	int rc;

	if (!cfg || !md_ref_valid_digest(cfg))
		return 0;
	if (get_json(r, domain, path, "blobs", cfg, &blob, err) < 0)
		return -1;
	rc = take_source(json_object_get(blob, "config"), "Labels", out);
	json_decref(blob);
	return rc;
}

static int image_source(struct md_registry *r, const char *domain, const char *path,
			const char *reference, char **out, struct md_err *err)
{
	json_t *doc = NULL, *img = NULL;
	const char *first;
	int rc;

	if (get_json(r, domain, path, "manifests", reference, &doc, err) < 0)
		return -1;
	rc = take_source(doc, "annotations", out);
	if (rc == 0 && json_is_array(json_object_get(doc, "manifests"))) {
		first = first_image(doc);
		if (first && (rc = get_json(r, domain, path, "manifests", first, &img, err)) == 0) {
			rc = take_source(img, "annotations", out);
			if (rc == 0)
				rc = config_source(r, domain, path, img, out, err);
		}
	} else if (rc == 0) {
		rc = config_source(r, domain, path, doc, out, err);
	}
	json_decref(img);
	json_decref(doc);
	if (rc < 0 && err && !err->msg[0])
		md_err_set(err, "registry %s: out of memory", domain);
	return rc < 0 ? -1 : 0;
}

int md_registry_image_source(struct md_registry *r, const char *domain, const char *path,
			     const char *reference, char **source, struct md_err *err)
{
	*source = NULL;
	if (err)
		err->msg[0] = '\0';
	if (md_registry__check_names(domain, path, reference, err) < 0 ||
	    image_source(r, domain, path, reference, source, err) < 0) {
		free(*source);
		*source = NULL;
		r->stats.errors++;
		return -1;
	}
	return 0;
}

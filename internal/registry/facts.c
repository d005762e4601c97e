/* Image facts: GET a tag's manifest (and, when it does not say enough, one
 * platform manifest and one config blob) to learn which platforms the
 * image provides and when it was built. Every body is bounded and hashed:
 * a document whose bytes do not match its digest is refused. */
#include "registry_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void md_registry_image_facts_clear(struct md_image_facts *f)
{
	if (!f)
		return;
	free(f->digest);
	md_strv_clear(&f->platforms);
	memset(f, 0, sizeof(*f));
}

/* GET /v2/<path>/<kind>/<ref> with a body cap; dg receives the sha256 of
 * the exact bytes, which must match ref when ref is a digest and the
 * registry's Docker-Content-Digest when it sends one. */
static int get_verified(struct md_registry *r, const char *domain, const char *path,
			const char *kind, const char *ref, size_t max,
			struct md_reg_response *resp, char *dg, struct md_err *err)
{
	int manifest = !strcmp(kind, "manifests");
	struct md_reg_request req = { .method = "GET",
				      .accept = manifest ? MD_REG_MANIFEST_ACCEPT : NULL,
				      .what = domain, .max_body = max };
	char *url = md_registry__object_url(r, domain, path, kind, ref), what[400];
	const char *claimed;
	int rc = -1;

	if (!(req.url = url))
		return md_err_set(err, "registry %s: out of memory", domain);
	if (md_registry__authed_do(r, domain, path, &req, resp, err) < 0)
		goto out;
	if (resp->status == 404) {
		snprintf(what, sizeof(what), "%s %s not found in repository %s",
			 !manifest ? "blob" : md_ref_valid_tag(ref) ? "tag" : "manifest", ref, path);
		md_registry__not_found(domain, what, &req, resp, err);
		goto out;
	}
	if (resp->status != 200) {
		md_registry__status_error(r, domain, path, &req, resp, err);
		goto out;
	}
	md_sha256_digest(resp->body.data ? resp->body.data : "", resp->body.len, dg);
	claimed = strchr(ref, ':') ? ref : resp->digest;
	if (claimed && md_ref_valid_digest(claimed) && strcmp(claimed, dg) != 0) {
		md_err_set(err, "registry %s: %s at %s has digest %s but should have %s", domain,
			   manifest ? "manifest" : "blob", resp->url, dg, claimed);
		goto out;
	}
	/* A Docker-Content-Digest that disagrees with the bytes is wrong even
	 * when we asked by digest: something between us and the registry lies. */
	if (resp->digest && md_ref_valid_digest(resp->digest) && strcmp(resp->digest, dg) != 0) {
		md_err_set(err, "registry %s: %s at %s has digest %s but the registry says %s",
			   domain, manifest ? "manifest" : "blob", resp->url, dg, resp->digest);
		goto out;
	}
	rc = 0;
out:
	free(url);
	return rc;
}

int md_registry_verify_manifest(struct md_registry *r, const char *domain, const char *path,
				const char *digest, struct md_err *err)
{
	struct md_reg_response resp;
	char dg[MD_DIGEST_STR_LEN + 1];
	int rc = -1;

	md_registry__response_init(&resp);
	if (md_registry__check_names(domain, path, digest, err) < 0)
		goto out;
	if (!md_ref_valid_digest(digest)) {
		md_err_set(err, "registry %s: repository %s: cannot verify \"%.100s\": not a sha256 digest",
			   domain, path, digest);
		goto out;
	}
	if (get_verified(r, domain, path, "manifests", digest, MD_REG_MAX_MANIFEST, &resp, dg,
			 err) < 0)
		goto out;
	rc = 0;
out:
	md_registry__response_clear(&resp);
	if (rc < 0)
		r->stats.errors++;
	return rc;
}

/* GET a manifest and parse it. */
static int get_manifest(struct md_registry *r, const char *domain, const char *path,
			const char *ref, struct md_reg_manifest *m, char *dg, struct md_err *err)
{
	struct md_reg_response resp;
	int rc = -1;

	md_registry__response_init(&resp);
	if (get_verified(r, domain, path, "manifests", ref, MD_REG_MAX_MANIFEST, &resp, dg,
			 err) < 0)
		goto out;
	if (md_registry__manifest_parse(m, resp.body.data, resp.body.len, resp.content_type, resp.url,
				  err) < 0) {
		md_err_prefix(err, "registry %s", domain);
		goto out;
	}
	rc = 0;
out:
	md_registry__response_clear(&resp);
	return rc;
}

/* GET an image config blob and read its platform and created time. */
static int get_config(struct md_registry *r, const char *domain, const char *path,
		      const char *digest, char **platform, int64_t *created, struct md_err *err)
{
	struct md_reg_response resp;
	char dg[MD_DIGEST_STR_LEN + 1];
	int rc = -1;

	md_registry__response_init(&resp);
	if (get_verified(r, domain, path, "blobs", digest, MD_REG_MAX_CONFIG, &resp, dg, err) < 0)
		goto out;
	if (md_registry__config_parse(resp.body.data, resp.body.len, resp.url, platform, created,
				err) < 0) {
		md_err_prefix(err, "registry %s", domain);
		goto out;
	}
	rc = 0;
out:
	md_registry__response_clear(&resp);
	return rc;
}

/* An index without a created annotation: ask its first image entry (its
 * manifest's annotation, else its config's created). */
static int index_created(struct md_registry *r, const char *domain, const char *path,
			 const struct md_reg_manifest *idx, int64_t *created, struct md_err *err)
{
	struct md_reg_manifest m;
	char dg[MD_DIGEST_STR_LEN + 1], *plat = NULL;
	int rc;

	if (!idx->first)
		return 0;
	if (get_manifest(r, domain, path, idx->first, &m, dg, err) < 0)
		return -1;
	rc = 0;
	/* A nested index is legal but rare; its age is not worth more requests. */
	if (m.kind == MD_REG_IMAGE) {
		*created = m.created;
		if (!*created && m.config)
			rc = get_config(r, domain, path, m.config, &plat, created, err);
	}
	free(plat);
	md_registry__manifest_clear(&m);
	return rc;
}

static int image_facts(struct md_registry *r, const char *domain, const char *path,
		       const char *ref, struct md_image_facts *out, struct md_err *err)
{
	struct md_reg_manifest m;
	char dg[MD_DIGEST_STR_LEN + 1], *plat = NULL;
	int64_t cfg_created = 0;
	int rc = -1;

	if (get_manifest(r, domain, path, ref, &m, dg, err) < 0)
		return -1;
	if (!(out->digest = md_strdup(dg)))
		goto oom;
	if (m.kind == MD_REG_INDEX) {
		out->platforms = m.platforms;
		memset(&m.platforms, 0, sizeof(m.platforms));
		out->created = m.created ? m.created : m.first_created;
		if (!out->created && index_created(r, domain, path, &m, &out->created, err) < 0)
			goto out;
	} else {
		if (m.config && get_config(r, domain, path, m.config, &plat, &cfg_created, err) < 0)
			goto out;
		if (plat && md_strv_push(&out->platforms, plat) < 0)
			goto oom;
		out->created = m.created ? m.created : cfg_created;
	}
	rc = 0;
	goto out;
oom:
	md_err_set(err, "registry %s: out of memory reading %s in repository %s", domain, ref,
		   path);
out:
	free(plat);
	md_registry__manifest_clear(&m);
	return rc;
}

int md_registry_image_facts(struct md_registry *r, const char *domain, const char *path,
			    const char *reference, struct md_image_facts *out,
			    struct md_err *err)
{
	memset(out, 0, sizeof(*out));
	if (md_registry__check_names(domain, path, reference, err) < 0 ||
	    image_facts(r, domain, path, reference, out, err) < 0) {
		md_registry_image_facts_clear(out);
		r->stats.errors++;
		return -1;
	}
	return 0;
}

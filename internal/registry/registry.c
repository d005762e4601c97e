/* The registry client: construction, tag listing with Link pagination and
 * manifest digests by HEAD (GET + sha256 as the fallback). Requests go
 * through md_registry__authed_do (auth.c) and md_registry__http_do (http.c). */
#include "registry_int.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int copy_opts(struct md_registry *r, const struct md_registry_opts *o)
{
	if (o->insecure_hosts)
		for (size_t i = 0; i < o->insecure_hosts->n; i++)
			if (md_strv_push(&r->insecure, o->insecure_hosts->v[i]) < 0)
				return -1;
	if ((o->ca_file && !(r->ca_file = md_strdup(o->ca_file))) ||
	    (o->auth_file && !(r->auth_file = md_strdup(o->auth_file))))
		return -1;
	r->user_agent = md_strdup(o->user_agent && *o->user_agent ? o->user_agent
								  : "magos-dominus");
	r->connect_timeout = o->connect_timeout > 0 ? o->connect_timeout : 10;
	r->timeout = o->timeout > 0 ? o->timeout : 30;
	r->page_size = o->page_size > 0 ? o->page_size : 1000;
	r->concurrency = o->concurrency > 0 ? o->concurrency : 4;
	r->stop = o->stop;
	r->progress = o->progress;
	r->progress_arg = o->progress_arg;
	return r->user_agent ? 0 : -1;
}

int md_registry_new(struct md_registry **out, const struct md_registry_opts *opts,
		    struct md_err *err)
{
	static const struct md_registry_opts none = { 0 };
	struct md_registry *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return md_err_set(err, "out of memory creating the registry client");
	if (copy_opts(r, opts ? opts : &none) < 0) {
		md_err_set(err, "out of memory creating the registry client");
		goto fail;
	}
	if (md_registry__auth_init(r, opts ? opts : &none, err) < 0)
		goto fail;
	if (!(r->net = md_registry__net_new(opts ? opts->sleep_ms : NULL,
				      opts ? opts->sleep_ctx : NULL))) {
		md_err_set(err, "out of memory creating the registry client");
		goto fail;
	}
	/* Reference counted by libcurl; paired with the cleanup in _free. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		md_err_set(err, "cannot initialise libcurl");
		goto fail;
	}
	if (!(r->curl = curl_easy_init())) {
		curl_global_cleanup();
		md_err_set(err, "cannot create a libcurl handle");
		goto fail;
	}
	*out = r;
	return 0;
fail:
	md_registry_free(r);
	return -1;
}

void md_registry_free(struct md_registry *r)
{
	if (!r)
		return;
	md_registry__auth_free(r);
	md_registry__net_free(r->net);
	if (r->curl) {
		curl_easy_cleanup(r->curl);
		curl_global_cleanup();
	}
	md_strv_clear(&r->insecure);
	free(r->ca_file);
	free(r->auth_file);
	free(r->user_agent);
	free(r);
}

void md_registry_stats(const struct md_registry *r, struct md_registry_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (r)
		*out = r->stats;
}

int md_registry__check_names(const char *domain, const char *path, const char *ref,
		       struct md_err *err)
{
	if (!md_ref_valid_domain(domain))
		return md_err_set(err, "registry \"%.100s\": invalid registry domain",
				  domain ? domain : "");
	if (!md_ref_valid_path(path))
		return md_err_set(err, "registry %s: invalid repository name \"%.200s\"", domain,
				  path ? path : "");
	if (ref && !md_ref_valid_tag(ref) && !md_ref_valid_digest(ref))
		return md_err_set(err, "registry %s: invalid tag or digest \"%.200s\" for repository %s",
				  domain, ref, path);
	return 0;
}

/* ---- tags ------------------------------------------------------------- */

/* n > 0 asks for that page size, 0 sends no n (the server picks). */
char *md_registry__tags_url(struct md_registry *r, const char *domain, const char *path, int n)
{
	char *base = md_registry__base_url(domain, &r->insecure);
	char *url = NULL;

	if (base && n > 0)
		url = md_asprintf("%s/v2/%s/tags/list?n=%d", base, path, n);
	else if (base)
		url = md_asprintf("%s/v2/%s/tags/list", base, path);
	free(base);
	return url;
}

/* A next page on another origin would get the registry's credentials and
 * could add tags the registry never listed: refused, naming both origins. */
static int check_next_origin(const char *domain, const char *path, const char *home,
			     const char *page, const char *next, struct md_err *err)
{
	char *there = md_registry__url_origin(next);
	int same = there && strcmp(there, home) == 0;

	if (!same)
		md_err_set(err, "registry %s: repository %s: tag list page %.300s links its next page to origin %s, not the registry's origin %s; refused (no credentials sent there, no tags of this listing used)",
			   domain, path, page, there ? there : "(unparsable)", home);
	free(there);
	return same ? 0 : -1;
}

/* Next page URL from resp's Link header, or NULL (rc 0) at the end; it
 * must be on home, the registry's origin. */
static int next_page(const struct md_reg_response *resp, const char *domain, const char *path,
		     const char *home, char **next, struct md_err *err)
{
	char *link = NULL;
	int rc;

	*next = NULL;
	if (md_registry__link_next(resp->link, &link) < 0)
		return md_err_set(err, "registry %s: out of memory", domain);
	if (!link)
		return 0;
	rc = md_registry__url_resolve(resp->url, link, next, err);
	free(link);
	if (rc < 0)
		return md_err_prefix(err, "registry %s: bad Link header", domain);
	if (check_next_origin(domain, path, home, resp->url, *next, err) < 0) {
		free(*next);
		*next = NULL;
		return -1;
	}
	return 0;
}

int md_registry__not_found(const char *domain, const char *what, const struct md_reg_request *req,
		     const struct md_reg_response *resp, struct md_err *err)
{
	char *s = md_registry__error_summary(resp->body.data, resp->body.len);

	md_err_set(err, "registry %s: %s (HTTP 404%s%s at %s %s)", domain, what, s ? ": " : "",
		   s ? s : "", req->method, resp->url);
	free(s);
	return -1;
}

/* A tag list must be JSON; a missing Content-Type is tolerated (old
 * registries), an HTML error page from a proxy is not. */
int md_registry__is_json_type(const char *ct)
{
	char *mt = ct ? md_registry__media_type(ct) : NULL;
	size_t n = mt ? strlen(mt) : 0;
	int ok = !ct || !*ct || (mt && (strcasecmp(mt, "application/json") == 0 ||
				   (n > 5 && strcasecmp(mt + n - 5, "+json") == 0)));

	free(mt);
	return ok;
}

/* Page size to try after the registry refused n (400/413): halve down to
 * MD_REG_PAGE_MIN, then no n at all; -1 when nothing is left to try. */
static int smaller_page(int n)
{
	if (n <= 0)
		return -1;
	if (n <= MD_REG_PAGE_MIN)
		return 0;
	return n / 2 > MD_REG_PAGE_MIN ? n / 2 : MD_REG_PAGE_MIN;
}

/* One page: fetch, check, parse into acc; *next gets the following page. */
static int list_page(struct md_registry *r, const char *domain, const char *path,
		     const char *home, struct md_reg_request *req, struct md_reg_response *resp,
		     struct md_strv *acc, char **next, struct md_err *err)
{
	char what[320];

	if (resp->status == 404) {
		snprintf(what, sizeof(what), "repository %s not found", path);
		return md_registry__not_found(domain, what, req, resp, err);
	}
	if (resp->status != 200)
		return md_registry__status_error(r, domain, path, req, resp, err);
	if (!md_registry__is_json_type(resp->content_type))
		return md_err_set(err, "registry %s: repository %s: tag list at %s is not JSON (Content-Type: %.100s)",
				  domain, path, resp->url, resp->content_type);
	if (md_registry__tags_parse(resp->body.data, resp->body.len, resp->url, acc,
			      MD_REGISTRY_MAX_TAGS, err) < 0)
		return md_err_prefix(err, "registry %s: repository %s", domain, path);
	return next_page(resp, domain, path, home, next, err);
}

static int list_pages(struct md_registry *r, const char *domain, const char *path,
		      struct md_strv *acc, struct md_err *err)
{
	struct md_reg_request req = { .method = "GET", .accept = "application/json", .what = domain };
	struct md_reg_response resp;
	char *url = NULL, *next = NULL, *home = md_registry__home_origin(r, domain);
	int n = r->page_size, known, rc = -1;

	md_registry__response_init(&resp);
	if ((url = md_registry__tags_url(r, domain, path, 0)) && (known = md_registry__net_page_size(r, url)) >= 0)
		n = known; /* what this host accepted earlier in the cycle */
	free(url);
	url = md_registry__tags_url(r, domain, path, n);
	for (int page = 0;; page++) {
		if (!url || !home) {
			md_err_set(err, "registry %s: out of memory listing tags of %s", domain, path);
			goto out;
		}
		req.url = url;
		if (md_registry__authed_do(r, domain, path, &req, &resp, err) < 0)
			goto out;
		/* Some registries refuse n (400) or a large n (413, Quay): try
		 * smaller pages, then none, and remember what worked. */
		if (page == 0 && (resp.status == 400 || resp.status == 413) &&
		    (n = smaller_page(n)) >= 0) {
			free(url);
			url = md_registry__tags_url(r, domain, path, n);
			page = -1;
			continue;
		}
		if (page == 0 && resp.status == 200)
			md_registry__net_set_page_size(r, url, n);
		if (list_page(r, domain, path, home, &req, &resp, acc, &next, err) < 0)
			goto out;
		if (!next)
			break;
		if (strcmp(next, resp.url) == 0 || page + 1 >= MD_REG_MAX_PAGES) {
			md_err_set(err, "registry %s: repository %s: tag pagination does not end (at %s)",
				   domain, path, next);
			goto out;
		}
		free(url);
		url = next;
		next = NULL;
	}
	rc = 0;
out:
	free(home);
	free(url);
	free(next);
	md_registry__response_clear(&resp);
	return rc;
}

int md_registry_list_tags(struct md_registry *r, const char *domain, const char *path,
			  struct md_strv *out, struct md_err *err)
{
	struct md_strv acc = { 0 };
	int rc = -1;

	if (md_registry__check_names(domain, path, NULL, err) < 0)
		goto out;
	if (list_pages(r, domain, path, &acc, err) < 0)
		goto out;
	if (out->n == 0) {
		md_strv_clear(out);
		*out = acc;
		acc.v = NULL;
		acc.n = 0;
	} else {
		for (size_t i = 0; i < acc.n; i++)
			if (md_strv_push(out, acc.v[i]) < 0) {
				md_err_set(err, "registry %s: out of memory listing tags of %s", domain,
					   path);
				goto out;
			}
	}
	rc = 0;
out:
	md_strv_clear(&acc);
	if (rc < 0)
		r->stats.errors++;
	return rc;
}

/* ---- manifests ---------------------------------------------------------- */

char *md_registry__home_origin(struct md_registry *r, const char *domain)
{
	char *base = md_registry__base_url(domain, &r->insecure);
	char *origin = base ? md_registry__url_origin(base) : NULL;

	free(base);
	return origin;
}

char *md_registry__object_url(struct md_registry *r, const char *domain, const char *path,
			const char *kind, const char *ref)
{
	char *base = md_registry__base_url(domain, &r->insecure);
	char *url = base ? md_asprintf("%s/v2/%s/%s/%s", base, path, kind, ref) : NULL;

	free(base);
	return url;
}

/* Old registries omit Docker-Content-Digest: GET the manifest and hash the
 * exact bytes received. A digest header that is present must agree. */
static int digest_by_get(struct md_registry *r, const char *domain, const char *path,
			 const char *url, char *digest, char **media_type, struct md_err *err)
{
	struct md_reg_request req = { .method = "GET", .url = url, .accept = MD_REG_MANIFEST_ACCEPT,
				      .what = domain };
	struct md_reg_response resp;
	int rc = -1;

	md_registry__response_init(&resp);
	if (md_registry__authed_do(r, domain, path, &req, &resp, err) < 0)
		goto out;
	if (resp.status != 200) {
		md_registry__status_error(r, domain, path, &req, &resp, err);
		goto out;
	}
	md_sha256_digest(resp.body.data ? resp.body.data : "", resp.body.len, digest);
	if (resp.digest && md_ref_valid_digest(resp.digest) && strcmp(resp.digest, digest) != 0) {
		md_err_set(err, "registry %s: manifest at %s has digest %s but the registry says %s",
			   domain, resp.url, digest, resp.digest);
		goto out;
	}
	free(*media_type);
	*media_type = md_registry__media_type(resp.content_type);
	rc = 0;
out:
	md_registry__response_clear(&resp);
	return rc;
}

/* We asked for these four (MD_REG_MANIFEST_ACCEPT); anything else (an
 * HTML page, a schema1 manifest) cannot be pinned safely. */
static int is_manifest_type(const char *mt)
{
	return strcmp(mt, MD_MT_OCI_INDEX) == 0 || strcmp(mt, MD_MT_DOCKER_LIST) == 0 ||
	       strcmp(mt, MD_MT_OCI_MANIFEST) == 0 || strcmp(mt, MD_MT_DOCKER_MANIFEST) == 0;
}

static int head_manifest(struct md_registry *r, const char *domain, const char *path,
			 const char *ref, char **digest, char **media_type, struct md_err *err)
{
	struct md_reg_request req = { .method = "HEAD", .accept = MD_REG_MANIFEST_ACCEPT,
				      .what = domain };
	struct md_reg_response resp;
	char dg[MD_DIGEST_STR_LEN + 1], what[400];
	char *url = md_registry__object_url(r, domain, path, "manifests", ref);
	int rc = -1;

	md_registry__response_init(&resp);
	req.url = url;
	if (!url) {
		md_err_set(err, "registry %s: out of memory", domain);
		goto out;
	}
	if (md_registry__authed_do(r, domain, path, &req, &resp, err) < 0)
		goto out;
	if (resp.status == 404) {
		snprintf(what, sizeof(what), "%s %s not found in repository %s",
			 md_ref_valid_tag(ref) ? "tag" : "manifest", ref, path);
		md_registry__not_found(domain, what, &req, &resp, err);
		goto out;
	}
	if (resp.status != 200) {
		md_registry__status_error(r, domain, path, &req, &resp, err);
		goto out;
	}
	*media_type = md_registry__media_type(resp.content_type);
	if (*media_type && !is_manifest_type(*media_type)) {
		md_err_set(err, "registry %s: repository %s: %s at %s is not a manifest (Content-Type: %.100s)",
			   domain, path, ref, resp.url, *media_type);
		goto out;
	}
	if (resp.digest && md_ref_valid_digest(resp.digest))
		md_strlcpy(dg, resp.digest, sizeof(dg));
	else if (digest_by_get(r, domain, path, url, dg, media_type, err) < 0)
		goto out;
	if (strchr(ref, ':') && strcmp(ref, dg) != 0) {
		md_err_set(err, "registry %s: manifest %s in repository %s came back with digest %s",
			   domain, ref, path, dg);
		goto out;
	}
	if (!(*digest = md_strdup(dg))) {
		md_err_set(err, "registry %s: out of memory", domain);
		goto out;
	}
	rc = 0;
out:
	free(url);
	md_registry__response_clear(&resp);
	return rc;
}

int md_registry_head_manifest(struct md_registry *r, const char *domain, const char *path,
			      const char *reference, char **digest, char **media_type,
			      struct md_err *err)
{
	char *mt = NULL;
	int rc;

	*digest = NULL;
	if (media_type)
		*media_type = NULL;
	rc = md_registry__check_names(domain, path, reference, err);
	if (rc == 0)
		rc = head_manifest(r, domain, path, reference, digest, &mt, err);
	if (rc < 0) {
		free(mt);
		r->stats.errors++;
		return -1;
	}
	if (media_type)
		*media_type = mt;
	else
		free(mt);
	return 0;
}

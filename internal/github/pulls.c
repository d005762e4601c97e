/* github — pull requests: find, list, create (idempotently), update, close;
 * find one the user closed without merging. */
#include "github_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NEED_PULLS "Pull requests: write"

/* GET url and every rel="next" page after it (same API host only, at most
 * MD_GH_PAGES_MAX pages), filtering into pv. */
static int get_pr_pages(struct md_github *gh, const char *first, const char *prefix,
			struct md_gh_prv *pv, struct md_err *err)
{
	struct md_gh_req req = { "GET", NULL, NULL, MD_GH_AUTH_TOKEN, NEED_PULLS, NULL };
	struct md_gh_resp resp;
	char *full = md_asprintf("%s/%s", gh->owner, gh->repo), *url = md_strdup(first);
	char *what = NULL;
	int rc = -1, page;

	md_github__resp_init(&resp, gh->body_max);
	if (!full || !url) {
		md_err_set(err, "out of memory listing pull requests of %s/%s", gh->owner, gh->repo);
		goto out;
	}
	for (page = 0; url; page++) {
		if (page == MD_GH_PAGES_MAX) {
			md_err_set(err, "GitHub lists more than %d pages of open pull requests for %s",
				   MD_GH_PAGES_MAX, first);
			goto out;
		}
		req.url = url;
		if (md_github__call(gh, &req, &resp, err) < 0)
			goto out;
		free(what);
		if (!(what = md_asprintf("GET %s", url))) {
			md_err_set(err, "out of memory listing pull requests");
			goto out;
		}
		if (md_github__parse_pr_list(resp.body.data ? resp.body.data : "", resp.body.len, full,
					prefix, pv, what, err) < 0)
			goto out;
		free(url);
		url = resp.link_next;
		resp.link_next = NULL;
		/* Never send the token to a host the Link header made up. */
		if (url && (!md_str_has_prefix(url, gh->api_url) || url[strlen(gh->api_url)] != '/')) {
			md_err_set(err, "GitHub's next page for %s points outside %s", first,
				   gh->api_url);
			goto out;
		}
	}
	rc = 0;
out:
	md_github__resp_clear(&resp);
	md_buf_clear(&resp.body);
	free(full);
	free(url);
	free(what);
	return rc;
}

static int steal_first(struct md_gh_prv *pv, struct md_github_pr **out, struct md_err *err)
{
	*out = NULL;
	if (pv->n == 0)
		return 0;
	*out = malloc(sizeof(**out));
	if (!*out)
		return md_err_set(err, "out of memory returning a pull request");
	**out = pv->v[0];
	memmove(pv->v, pv->v + 1, (pv->n - 1) * sizeof(*pv->v));
	pv->n--;
	return 0;
}

int md_github_pr_find(struct md_github *gh, const char *head, const char *base,
		      struct md_github_pr **out, struct md_err *err)
{
	struct md_gh_prv pv = { 0 };
	char *h = NULL, *b = NULL, *q = NULL, *url = NULL, *spec;
	int rc = -1;

	*out = NULL;
	spec = md_asprintf("%s:%s", gh->owner ? gh->owner : "", head);
	if (!spec || !(h = md_github__pct(spec, 0)) || !(b = md_github__pct(base, 0)) ||
	    !(q = md_asprintf("/pulls?state=open&head=%s&base=%s&per_page=100", h, b))) {
		md_err_set(err, "out of memory looking up the pull request for %s", head);
		goto out;
	}
	if (!(url = md_github__repo_url(gh, q, err)))
		goto out;
	/* The query already selects head; the name filter only guards forks. */
	if (get_pr_pages(gh, url, NULL, &pv, err) < 0)
		goto out;
	for (size_t i = 0; i < pv.n; i++)
		if (strcmp(pv.v[i].head, head) == 0) {
			struct md_github_pr t = pv.v[0];

			pv.v[0] = pv.v[i];
			pv.v[i] = t;
			rc = steal_first(&pv, out, err);
			goto out;
		}
	rc = 0;
out:
	md_github__prv_free(&pv);
	free(spec);
	free(h);
	free(b);
	free(q);
	free(url);
	return rc;
}

int md_github_pr_list(struct md_github *gh, const char *prefix, const char *base,
		      struct md_github_pr **out, size_t *n, struct md_err *err)
{
	struct md_gh_prv pv = { 0 };
	char *b = NULL, *q = NULL, *url = NULL;
	int rc = -1;

	*out = NULL;
	*n = 0;
	if (!(b = md_github__pct(base, 0)) ||
	    !(q = md_asprintf("/pulls?state=open&base=%s&per_page=100", b))) {
		md_err_set(err, "out of memory listing pull requests into %s", base);
		goto out;
	}
	if (!(url = md_github__repo_url(gh, q, err)) || get_pr_pages(gh, url, prefix, &pv, err) < 0)
		goto out;
	*out = pv.v;
	*n = pv.n;
	memset(&pv, 0, sizeof(pv));
	rc = 0;
out:
	md_github__prv_free(&pv);
	free(b);
	free(q);
	free(url);
	return rc;
}

/* Send one JSON body to a repository endpoint, the answer unread. */
static int repo_send(struct md_github *gh, const char *method, const char *suffix, json_t *body,
		     struct md_err *err)
{
	struct md_gh_repo_req rr = { method, suffix, body, NEED_PULLS, NULL, 0 };
	struct md_gh_answer a;

	return md_github__repo_call(gh, &rr, &a, err);
}

int md_github_pr_create(struct md_github *gh, const char *head, const char *base,
			const char *title, const char *body, struct md_github_pr **out,
			struct md_err *err)
{
	static const long accept[] = { 422, 0 };
	struct md_gh_repo_req rr = { "POST", "/pulls", NULL, NEED_PULLS, accept, 1 };
	struct md_gh_answer a = { 0 };
	json_t *req;
	int rc = -1;

	*out = NULL;
	req = json_pack("{s:s, s:s, s:s, s:s, s:b}", "title", title, "head", head, "base", base,
			"body", body ? body : "", "maintainer_can_modify", 1);
	if (!req)
		return md_err_set(err, "out of memory building the pull request for %s", head);
	rr.body = req;
	if (md_github__repo_call(gh, &rr, &a, err) < 0)
		goto out;
	if (a.status == 422) {
		/* A restart after GitHub opened it: use the one that exists. */
		if (strcasestr(a.msg, "already exists")) {
			if (md_github_pr_find(gh, head, base, out, err) < 0)
				goto out;
			if (*out) {
				rc = 0;
				goto out;
			}
		}
		md_err_set(err, "GitHub refused to open a pull request from %s into %s (422): %s",
			   head, base, a.msg[0] ? a.msg : "Validation Failed");
		goto out;
	}
	if (!(*out = calloc(1, sizeof(**out)))) {
		md_err_set(err, "out of memory returning the pull request for %s", head);
		goto out;
	}
	if (md_github__parse_pr(a.json, *out, err) < 0) {
		free(*out);
		*out = NULL;
		md_err_prefix(err, "POST /repos/%s/%s/pulls", gh->owner, gh->repo);
		goto out;
	}
	rc = 0;
out:
	json_decref(req);
	json_decref(a.json);
	return rc;
}

int md_github_pr_update(struct md_github *gh, long number, const char *title, const char *body,
			struct md_err *err)
{
	char suffix[64];
	json_t *req;
	int rc;

	snprintf(suffix, sizeof(suffix), "/pulls/%ld", number);
	req = json_pack("{s:s, s:s}", "title", title, "body", body ? body : "");
	if (!req)
		return md_err_set(err, "out of memory updating pull request #%ld", number);
	rc = repo_send(gh, "PATCH", suffix, req, err);
	json_decref(req);
	return rc;
}

int md_github_pr_close(struct md_github *gh, long number, const char *comment,
		       struct md_err *err)
{
	char suffix[64];
	json_t *req;
	int rc = 0;

	if (comment && *comment) {
		snprintf(suffix, sizeof(suffix), "/issues/%ld/comments", number);
		if (!(req = json_pack("{s:s}", "body", comment)))
			return md_err_set(err, "out of memory commenting on pull request #%ld", number);
		rc = repo_send(gh, "POST", suffix, req, err);
		json_decref(req);
		if (rc < 0)
			return -1;
	}
	snprintf(suffix, sizeof(suffix), "/pulls/%ld", number);
	if (!(req = json_pack("{s:s}", "state", "closed")))
		return md_err_set(err, "out of memory closing pull request #%ld", number);
	rc = repo_send(gh, "PATCH", suffix, req, err);
	json_decref(req);
	return rc;
}

/* ---- closed pull requests ------------------------------------------------------ */

/* A closed PR of ours that the user turned down: from this repository's
 * head branch, never merged, proposing what marker names. */
static int closed_wanted(json_t *o, const char *full_name, const char *head, const char *marker)
{
	json_t *h = json_object_get(o, "head");
	const char *ref = json_string_value(json_object_get(h, "ref"));
	const char *fn = json_string_value(json_object_get(json_object_get(h, "repo"),
							   "full_name"));
	const char *body = json_string_value(json_object_get(o, "body"));
	const char *state = json_string_value(json_object_get(o, "state"));

	/* A merge says yes; only merged_at tells a merge from a close. */
	if (json_is_string(json_object_get(o, "merged_at")))
		return 0;
	if (state && strcmp(state, "closed") != 0)
		return 0;
	if (!fn || strcasecmp(fn, full_name) != 0 || !ref || strcmp(ref, head) != 0)
		return 0;
	return !marker || (body && strstr(body, marker));
}

int md_github__pick_closed(json_t *arr, const char *full, const char *head, const char *marker,
		      const char *what, struct md_github_pr **out, struct md_err *err)
{
	size_t i;
	json_t *o;
	int rc = 0;

	*out = NULL;
	json_array_foreach(arr, i, o) {
		if (!json_is_object(o) || !closed_wanted(o, full, head, marker))
			continue;
		if (!(*out = calloc(1, sizeof(**out)))) {
			rc = md_err_set(err, "out of memory reading %s", what);
			break;
		}
		if (md_github__parse_pr(o, *out, err) < 0) {
			free(*out);
			*out = NULL;
			md_err_prefix(err, "%s", what);
			rc = -1;
		}
		break;
	}
	return rc;
}

static int pick_closed(struct md_github *gh, json_t *arr, const char *head, const char *marker,
		       const char *what, struct md_github_pr **out, struct md_err *err)
{
	char *full = md_asprintf("%s/%s", gh->owner, gh->repo);
	int rc;

	if (!full)
		return md_err_set(err, "out of memory reading %s", what);
	rc = md_github__pick_closed(arr, full, head, marker, what, out, err);
	free(full);
	return rc;
}

int md_github_pr_find_closed(struct md_github *gh, const char *head, const char *base,
			     const char *marker, struct md_github_pr **out, struct md_err *err)
{
	struct md_gh_req req = { "GET", NULL, NULL, MD_GH_AUTH_TOKEN, NEED_PULLS, NULL };
	struct md_gh_resp resp;
	char *h = NULL, *b = NULL, *q = NULL, *url = NULL, *spec, *what = NULL;
	json_t *j = NULL;
	int rc = -1;

	*out = NULL;
	md_github__resp_init(&resp, gh->body_max);
	spec = md_asprintf("%s:%s", gh->owner ? gh->owner : "", head);
	if (!spec || !(h = md_github__pct(spec, 0)) || !(b = md_github__pct(base, 0)) ||
	    !(q = md_asprintf("/pulls?state=closed&head=%s&base=%s&per_page=50", h, b))) {
		md_err_set(err, "out of memory looking up closed pull requests for %s", head);
		goto out;
	}
	if (!(url = md_github__repo_url(gh, q, err)))
		goto out;
	if (!(what = md_asprintf("GET %s", url))) {
		md_err_set(err, "out of memory looking up closed pull requests for %s", head);
		goto out;
	}
	req.url = url;
	/* GitHub lists newest first: the first page holds the recent refusals. */
	if (md_github__call(gh, &req, &resp, err) < 0 || md_github__resp_json(&req, &resp, 1, &j, err) < 0)
		goto out;
	rc = pick_closed(gh, j, head, marker, what, out, err);
out:
	json_decref(j);
	md_github__resp_clear(&resp);
	md_buf_clear(&resp.body);
	free(spec);
	free(h);
	free(b);
	free(q);
	free(url);
	free(what);
	return rc;
}

/* github — one REST request: headers, caps, rate limits, the 401 retry and
 * the sentence each failing status deserves. */
#include "github_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void md_github__resp_init(struct md_gh_resp *r, size_t max)
{
	memset(r, 0, sizeof(*r));
	md_buf_init(&r->body, max);
	r->retry_after = -1;
	r->rate_remaining = -1;
}

void md_github__resp_clear(struct md_gh_resp *r)
{
	size_t max = r->body.max;

	md_buf_clear(&r->body);
	free(r->link_next);
	md_github__resp_init(r, max);
}

char *md_github__json_text(json_t *o)
{
	return json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
}

char *md_github__repo_url(const struct md_github *gh, const char *suffix, struct md_err *err)
{
	char *o = NULL, *r = NULL, *url = NULL;

	if (!gh->owner || !gh->repo) {
		md_err_set(err, "the GitHub client has no repository (owner/repo) to work on");
		return NULL;
	}
	if ((o = md_github__pct(gh->owner, 0)) && (r = md_github__pct(gh->repo, 0)))
		url = md_asprintf("%s/repos/%s/%s%s", gh->api_url, o, r, suffix);
	if (!url)
		md_err_set(err, "out of memory building a GitHub URL for %s/%s", gh->owner,
			   gh->repo);
	free(o);
	free(r);
	return url;
}

/* ---- libcurl callbacks -------------------------------------------------------------- */

struct xfer {
	struct md_github *gh;
	struct md_gh_resp *resp;
	struct md_buf link;
	int64_t rate_remaining, rate_reset;
};

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;

	if (md_buf_append(&x->resp->body, p, nmemb) < 0) {
		x->resp->body_overflow = 1;
		return 0; /* aborts the transfer */
	}
	(void)size;
	return nmemb;
}

/* Value of header `name` in the raw line, trimmed, or NULL. */
static const char *header_value(const char *line, size_t len, const char *name, size_t *vlen)
{
	size_t n = strlen(name);
	const char *v, *end = line + len;

	if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return NULL;
	v = line + n + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && isspace((unsigned char)end[-1]))
		end--;
	*vlen = (size_t)(end - v);
	return v;
}

static int64_t header_int(const char *v, size_t n)
{
	int64_t x = 0;
	size_t i;

	if (n == 0 || n > 18)
		return -1;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	return x;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	const char *v;
	size_t n;

	(void)size;
	/* A new response (after a 100 Continue) starts over. */
	if (nmemb >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		md_buf_reset(&x->link);
		x->resp->retry_after = -1;
		x->rate_remaining = x->rate_reset = -1;
	} else if ((v = header_value(p, nmemb, "x-ratelimit-remaining", &n))) {
		x->rate_remaining = header_int(v, n);
	} else if ((v = header_value(p, nmemb, "x-ratelimit-reset", &n))) {
		x->rate_reset = header_int(v, n);
	} else if ((v = header_value(p, nmemb, "retry-after", &n))) {
		x->resp->retry_after = header_int(v, n);
	} else if ((v = header_value(p, nmemb, "link", &n))) {
		if (x->link.len && md_buf_puts(&x->link, ", ") < 0)
			x->resp->link_overflow = 1;
		else if (md_buf_append(&x->link, v, n) < 0)
			x->resp->link_overflow = 1;
	}
	return nmemb;
}

/* ---- one exchange ----------------------------------------------------------------- */

static struct curl_slist *make_headers(const struct md_gh_req *req, const char *cred)
{
	struct curl_slist *h = NULL, *t;
	char *auth = md_asprintf("Authorization: Bearer %s", cred);
	const char *fixed[] = { "Accept: application/vnd.github+json",
				"X-GitHub-Api-Version: 2022-11-28",
				/* no 100-continue round trip for large blobs */
				"Expect:", req->body ? "Content-Type: application/json" : NULL };

	if (!auth)
		return NULL;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		if (!fixed[i])
			continue;
		if (!(t = curl_slist_append(h, fixed[i])))
			goto fail;
		h = t;
	}
	if (!(t = curl_slist_append(h, auth)))
		goto fail;
	md_free_secret(auth, strlen(auth));
	return t;
fail:
	md_free_secret(auth, strlen(auth));
	curl_slist_free_all(h);
	return NULL;
}

/* The Authorization line holds a secret: wipe curl's copy before freeing. */
static void free_headers(struct curl_slist *h)
{
	for (struct curl_slist *p = h; p; p = p->next)
		md_memzero(p->data, strlen(p->data));
	curl_slist_free_all(h);
}

static void setup(CURL *c, struct md_github *gh, const struct md_gh_req *req,
		  struct curl_slist *headers, struct xfer *x, char *errbuf)
{
	curl_easy_reset(c); /* keeps the connection cache */
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	/* A redirect could carry the Authorization header elsewhere. */
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_TIMEOUT, gh->timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, gh->timeout < 10 ? gh->timeout : 10L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, gh->user_agent);
	/* Replaces the system bundle for GitHub calls: meant for GHES or tests. */
	if (gh->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, gh->ca_file);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	if (strcmp(req->method, "GET") == 0) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
		if (req->body || strcmp(req->method, "POST") == 0) {
			const char *b = req->body ? req->body : "";

			curl_easy_setopt(c, CURLOPT_POSTFIELDS, b);
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(b));
		}
	}
}

static int refuse_if_limited(struct md_github *gh, const struct md_gh_req *req,
			     struct md_err *err)
{
	int64_t now = md_github__now(gh);
	char when[32];

	if (gh->blocked_until > now) {
		gh->st.errors++;
		return md_err_set(err,
				  "GitHub asked the App to slow down: not sending %s %s, retry after "
				  "%lld s",
				  req->method, req->url, (long long)(gh->blocked_until - now));
	}
	if (gh->st.rate_remaining == 0 && gh->st.rate_reset > now) {
		md_time_format_rfc3339(gh->st.rate_reset, when, sizeof(when));
		gh->st.errors++;
		return md_err_set(err,
				  "GitHub rate limit exhausted (x-ratelimit-remaining: 0): not sending "
				  "%s %s before the reset at %s",
				  req->method, req->url, when);
	}
	return 0;
}

static int finish(struct md_github *gh, const struct md_gh_req *req, struct xfer *x,
		  CURLcode cc, const char *errbuf, struct md_err *err)
{
	struct md_gh_resp *r = x->resp;

	r->rate_remaining = x->rate_remaining;
	if (x->rate_remaining >= 0) {
		gh->st.rate_remaining = x->rate_remaining;
		if (x->rate_reset >= 0)
			gh->st.rate_reset = x->rate_reset;
	}
	if (r->body_overflow)
		return md_err_set(err, "GitHub's answer to %s %s is larger than %zu bytes",
				  req->method, req->url, r->body.max);
	if (cc != CURLE_OK)
		return md_err_set(err, "cannot reach GitHub for %s %s: %s", req->method, req->url,
				  errbuf[0] ? errbuf : curl_easy_strerror(cc));
	curl_easy_getinfo(gh->curl, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->link_overflow)
		return md_err_set(err, "GitHub's Link header for %s %s is longer than %d bytes",
				  req->method, req->url, MD_GH_LINK_MAX);
	if (x->link.len && md_github__link_next(x->link.data, &r->link_next) < 0)
		return md_err_set(err, "out of memory reading the Link header of %s", req->url);
	return 0;
}

static int send_once(struct md_github *gh, const struct md_gh_req *req, const char *cred,
		     struct md_gh_resp *resp, struct md_err *err)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers;
	struct xfer x = { gh, resp, { 0 }, -1, -1 };
	CURLcode cc;
	int rc;

	if (refuse_if_limited(gh, req, err) < 0)
		return -1;
	headers = make_headers(req, cred);
	if (!headers)
		return md_err_set(err, "out of memory preparing %s %s", req->method, req->url);
	md_buf_init(&x.link, MD_GH_LINK_MAX);
	setup(gh->curl, gh, req, headers, &x, errbuf);
	gh->st.requests++;
	cc = curl_easy_perform(gh->curl);
	curl_easy_setopt(gh->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(gh->curl, CURLOPT_ERRORBUFFER, NULL);
	free_headers(headers);
	rc = finish(gh, req, &x, cc, errbuf, err);
	md_buf_clear(&x.link);
	if (rc < 0 || resp->status >= 400)
		gh->st.errors++;
	return rc;
}

/* ---- statuses ------------------------------------------------------------------------ */

static int rate_limited(struct md_github *gh, const struct md_gh_req *req,
			const struct md_gh_resp *r, struct md_err *err)
{
	int64_t now = md_github__now(gh);
	char when[32];

	if (r->retry_after >= 0) {
		gh->blocked_until = now + r->retry_after;
		return md_err_set(err, "GitHub rate-limited %s %s (%ld): retry after %lld s",
				  req->method, req->url, r->status, (long long)r->retry_after);
	}
	if (r->rate_remaining == 0 && gh->st.rate_reset > 0) {
		md_time_format_rfc3339(gh->st.rate_reset, when, sizeof(when));
		return md_err_set(err,
				  "GitHub rate-limited %s %s (%ld, x-ratelimit-remaining: 0): the "
				  "limit resets at %s, retry after %lld s",
				  req->method, req->url, r->status, when,
				  (long long)(gh->st.rate_reset > now ? gh->st.rate_reset - now : 0));
	}
	/* GitHub's advice without a hint: wait at least a minute. */
	gh->blocked_until = now + 60;
	return md_err_set(err, "GitHub rate-limited %s %s (%ld): retry after 60 s", req->method,
			  req->url, r->status);
}

static int status_error(struct md_github *gh, const struct md_gh_req *req,
			const struct md_gh_resp *r, struct md_err *err)
{
	char gm[512];

	md_github__error_text(r->body.data, r->body.len, gm, sizeof(gm));
	if (r->status == 429 ||
	    (r->status == 403 && (r->retry_after >= 0 || r->rate_remaining == 0)))
		return rate_limited(gh, req, r, err);
	if (r->status == 401 && req->auth == MD_GH_AUTH_JWT)
		return md_err_set(err,
				  "GitHub rejected the App's credentials (401 on %s %s%s%s): check "
				  "MD_GITHUB_APP_ID and the key",
				  req->method, req->url, gm[0] ? ": " : "", gm);
	if (r->status == 401)
		return md_err_set(err,
				  "GitHub rejected a freshly minted installation token (401 on %s "
				  "%s%s%s): check that the App is still installed on the repository",
				  req->method, req->url, gm[0] ? ": " : "", gm);
	if (r->status == 403)
		return md_err_set(err, "GitHub denied permission for %s %s (403%s%s): the App needs %s",
				  req->method, req->url, gm[0] ? ": " : "", gm,
				  req->need ? req->need : "more repository permissions");
	if (r->status == 404)
		return md_err_set(err,
				  "GitHub answered 404 for %s %s%s%s: check the repository name and "
				  "that the App can see it",
				  req->method, req->url, gm[0] ? ": " : "", gm);
	if (r->status == 422)
		return md_err_set(err, "GitHub refused %s %s (422)%s%s", req->method, req->url,
				  gm[0] ? ": " : "", gm);
	return md_err_set(err, "GitHub answered %ld for %s %s%s%s", r->status, req->method,
			  req->url, gm[0] ? ": " : "", gm);
}

static int accepted(const struct md_gh_req *req, long status)
{
	if (status >= 200 && status < 300)
		return 1;
	for (const long *a = req->accept; a && *a; a++)
		if (*a == status)
			return 1;
	return 0;
}

int md_github__call(struct md_github *gh, const struct md_gh_req *req, struct md_gh_resp *resp,
	       struct md_err *err)
{
	for (int attempt = 0;; attempt++) {
		const char *token = NULL;
		char *jwt = NULL;
		int rc;

		if (req->auth == MD_GH_AUTH_JWT) {
			if (md_github_jwt(gh, md_github__now(gh), &jwt, err) < 0)
				return -1;
		} else if (md_github_token(gh, &token, err) < 0) {
			return -1;
		}
		md_github__resp_clear(resp);
		rc = send_once(gh, req, jwt ? jwt : token, resp, err);
		md_free_secret(jwt, jwt ? strlen(jwt) : 0);
		if (rc < 0)
			return -1;
		/* A token GitHub no longer accepts (revoked, clock skew): mint once more. */
		if (resp->status == 401 && req->auth == MD_GH_AUTH_TOKEN && attempt == 0) {
			md_github_token_invalidate(gh);
			continue;
		}
		break;
	}
	if (accepted(req, resp->status))
		return 0;
	return status_error(gh, req, resp, err);
}

int md_github__resp_json(const struct md_gh_req *req, const struct md_gh_resp *resp, int want_array,
		    json_t **out, struct md_err *err)
{
	json_error_t je;
	json_t *j;

	j = json_loadb(resp->body.data ? resp->body.data : "", resp->body.len, 0, &je);
	if (!j || (want_array ? !json_is_array(j) : !json_is_object(j))) {
		json_decref(j);
		*out = NULL;
		return md_err_set(err, "GitHub's answer to %s %s is not a JSON %s", req->method,
				  req->url, want_array ? "array" : "object");
	}
	*out = j;
	return 0;
}

int md_github__repo_call(struct md_github *gh, const struct md_gh_repo_req *rr, struct md_gh_answer *a,
		    struct md_err *err)
{
	struct md_gh_req req = { rr->method, NULL, NULL, MD_GH_AUTH_TOKEN, rr->need, rr->accept };
	struct md_gh_resp resp;
	char *url = NULL, *text = NULL;
	int rc = -1;

	memset(a, 0, sizeof(*a));
	md_github__resp_init(&resp, gh->body_max);
	if (!(url = md_github__repo_url(gh, rr->suffix, err)))
		goto out;
	if (rr->body && !(text = md_github__json_text(rr->body))) {
		md_err_set(err, "out of memory encoding the body of %s %s", rr->method, url);
		goto out;
	}
	req.url = url;
	req.body = text;
	if (md_github__call(gh, &req, &resp, err) < 0)
		goto out;
	a->status = resp.status;
	if (resp.status < 200 || resp.status >= 300)
		md_github__error_text(resp.body.data, resp.body.len, a->msg, sizeof(a->msg));
	else if (rr->want_json && resp.status != 204 &&
		 md_github__resp_json(&req, &resp, 0, &a->json, err) < 0)
		goto out;
	rc = 0;
out:
	md_github__resp_clear(&resp);
	md_buf_clear(&resp.body);
	free(url);
	free(text);
	return rc;
}

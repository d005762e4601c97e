/* github — the installation: its id, its tokens, and the App's bot user. */
#include "github_int.h"

#include <stdlib.h>
#include <string.h>

/* GET url as auth says → *j, the answer's object. A status in accept
 * comes back in *status with *j NULL. */
static int get_object(struct md_github *gh, const char *url, enum md_gh_auth auth,
		      const long *accept, long *status, json_t **j, struct md_err *err)
{
	struct md_gh_req req = { "GET", url, NULL, auth, NULL, accept };
	struct md_gh_resp resp;
	int rc;

	*j = NULL;
	md_github__resp_init(&resp, gh->body_max);
	rc = md_github__call(gh, &req, &resp, err);
	if (rc == 0 && status)
		*status = resp.status;
	if (rc == 0 && resp.status >= 200 && resp.status < 300)
		rc = md_github__resp_json(&req, &resp, 0, j, err);
	md_github__resp_clear(&resp);
	md_buf_clear(&resp.body);
	return rc;
}

long long md_github__positive_id(json_t *o)
{
	json_t *id = json_object_get(o, "id");

	return json_is_integer(id) && json_integer_value(id) > 0 ? (long long)json_integer_value(id)
								 : 0;
}

/* GET /repos/{owner}/{repo}/installation with the JWT → id. */
static int lookup_installation(struct md_github *gh, struct md_err *err)
{
	static const long accept[] = { 404, 0 };
	json_t *j = NULL;
	long status = 0;
	long long id;
	char *url;
	int rc = -1;

	url = md_github__repo_url(gh, "/installation", err);
	if (!url)
		return -1;
	if (get_object(gh, url, MD_GH_AUTH_JWT, accept, &status, &j, err) < 0)
		goto out;
	if (status == 404) {
		md_err_set(err,
			   "the GitHub App is not installed on %s/%s (GET %s returned 404): install "
			   "it on the repository",
			   gh->owner, gh->repo, url);
		goto out;
	}
	if (!(id = md_github__positive_id(j))) {
		md_err_set(err, "GitHub's answer to GET %s has no installation \"id\"", url);
		goto out;
	}
	gh->installation_id = md_asprintf("%lld", id);
	if (!gh->installation_id) {
		md_err_set(err, "out of memory keeping the installation id");
		goto out;
	}
	rc = 0;
out:
	json_decref(j);
	free(url);
	return rc;
}

/* POST /app/installations/{id}/access_tokens with the JWT → 201 {token, expires_at}. */
static int mint(struct md_github *gh, struct md_err *err)
{
	struct md_gh_req req = { "POST", NULL, NULL, MD_GH_AUTH_JWT, NULL, NULL };
	struct md_gh_resp resp;
	char *url, *token = NULL;
	int64_t exp = 0;
	int rc = -1;

	url = md_asprintf("%s/app/installations/%s/access_tokens", gh->api_url,
			  gh->installation_id);
	if (!url)
		return md_err_set(err, "out of memory building the GitHub token URL");
	req.url = url;
	md_github__resp_init(&resp, gh->body_max);
	if (md_github__call(gh, &req, &resp, err) < 0)
		goto out;
	if (md_github__parse_token(resp.body.data ? resp.body.data : "", resp.body.len, &token, &exp,
			      err) < 0) {
		md_err_prefix(err, "POST %s", url);
		goto out;
	}
	md_github_token_invalidate(gh);
	gh->token = token;
	gh->token_exp = exp;
	gh->st.tokens++;
	rc = 0;
out:
	/* The answer held the token in clear. */
	if (resp.body.data)
		md_memzero(resp.body.data, resp.body.len);
	md_buf_clear(&resp.body);
	free(resp.link_next);
	free(url);
	return rc;
}

int md_github_token(struct md_github *gh, const char **token, struct md_err *err)
{
	*token = NULL;
	if (gh->token && md_github__now(gh) < gh->token_exp - MD_GH_RENEW_BEFORE) {
		*token = gh->token;
		return 0;
	}
	if (!gh->installation_id && lookup_installation(gh, err) < 0)
		return -1;
	if (mint(gh, err) < 0)
		return -1;
	*token = gh->token;
	return 0;
}

/* ---- the bot identity ----------------------------------------------------------------- */

static int app_slug(struct md_github *gh, char **slug, struct md_err *err)
{
	json_t *j = NULL;
	const char *s;
	char *url;
	int rc = -1;

	*slug = NULL;
	if (!(url = md_asprintf("%s/app", gh->api_url)))
		return md_err_set(err, "out of memory building the GitHub /app URL");
	if (get_object(gh, url, MD_GH_AUTH_JWT, NULL, NULL, &j, err) < 0)
		goto out;
	s = json_string_value(json_object_get(j, "slug"));
	if (!md_github__valid_slug(s)) {
		md_err_set(err, "GitHub's answer to GET %s has no usable \"slug\"", url);
		goto out;
	}
	if (!(*slug = md_strdup(s))) {
		md_err_set(err, "out of memory keeping the App slug");
		goto out;
	}
	rc = 0;
out:
	json_decref(j);
	free(url);
	return rc;
}

static int bot_user_id(struct md_github *gh, const char *slug, long long *id,
		       struct md_err *err)
{
	json_t *j = NULL;
	char *url = NULL, *enc;
	int rc = -1;

	enc = md_github__pct(slug, 0);
	if (!enc || !(url = md_asprintf("%s/users/%s%%5Bbot%%5D", gh->api_url, enc))) {
		md_err_set(err, "out of memory building the GitHub user URL");
		goto out;
	}
	if (get_object(gh, url, MD_GH_AUTH_TOKEN, NULL, NULL, &j, err) < 0)
		goto out;
	if (!(*id = md_github__positive_id(j))) {
		md_err_set(err, "GitHub's answer to GET %s has no user \"id\"", url);
		goto out;
	}
	rc = 0;
out:
	json_decref(j);
	free(enc);
	free(url);
	return rc;
}

int md_github_bot_identity(struct md_github *gh, char **name, char **email, struct md_err *err)
{
	char *slug = NULL;
	long long id = 0;
	int rc = -1;

	*name = *email = NULL;
	if (!gh->bot_name) {
		if (app_slug(gh, &slug, err) < 0 || bot_user_id(gh, slug, &id, err) < 0)
			goto out;
		gh->bot_name = md_asprintf("%s[bot]", slug);
		gh->bot_email = md_asprintf("%lld+%s[bot]@users.noreply.github.com", id, slug);
		if (!gh->bot_name || !gh->bot_email) {
			free(gh->bot_name);
			free(gh->bot_email);
			gh->bot_name = gh->bot_email = NULL;
			md_err_set(err, "out of memory building the bot identity");
			goto out;
		}
	}
	*name = md_strdup(gh->bot_name);
	*email = md_strdup(gh->bot_email);
	if (!*name || !*email) {
		free(*name);
		free(*email);
		*name = *email = NULL;
		md_err_set(err, "out of memory copying the bot identity");
		goto out;
	}
	rc = 0;
out:
	free(slug);
	return rc;
}

/* The agent as a GitHub App: one md_github client kept across cycles, the
 * installation token handed to libgit2 (never to .git/config, argv or a
 * log line), and the bot identity commits are made with. */
#include "daemon_int.h"

#include <stdlib.h>
#include <string.h>

#include "magos/github.h"
#include "magos/obs.h"

#define GIT_TOKEN_USER "x-access-token"

int cycle_gh_enabled(const struct cycle *c)
{
	return c->s->github_app_id != NULL && c->s->github_app_key_file != NULL;
}

/* owner/repo from MD_GIT_URL, else from the clone's origin. */
static int repo_slug(const struct cycle *c, char **owner, char **repo, struct md_err *err)
{
	char *url = NULL;
	int rc;

	if (c->s->git_url)
		return md_github_parse_remote(c->s->git_url, owner, repo, err);
	rc = md_git_origin_url_at(c->s->repo, &url, err);
	if (rc == 1)
		return md_err_set(err, "the GitHub App needs the repository's owner and name: set "
				  "MD_GIT_URL, or give the clone %s an origin", c->s->repo);
	if (rc == 0)
		rc = md_github_parse_remote(url, owner, repo, err);
	free(url);
	return rc;
}

int cycle_github(struct cycle *c, struct md_err *err)
{
	const struct md_settings *s = c->s;
	char *owner = NULL, *repo = NULL;
	int rc;

	if (c->ctx->gh)
		return 0;
	if (!cycle_gh_enabled(c))
		return md_err_set(err, "no GitHub App configured (MD_GITHUB_APP_ID, "
				  "MD_GITHUB_APP_KEY_FILE)");
	if (repo_slug(c, &owner, &repo, err) < 0)
		return -1;
	{
		struct md_github_opts o = {
			.api_url = s->github_api_url,
			.app_id = s->github_app_id,
			.key_file = s->github_app_key_file,
			.installation_id = s->github_installation_id,
			.owner = owner,
			.repo = repo,
			.ca_file = s->ca_file,
			.user_agent = "magos-dominus/" MD_VERSION,
			.timeout = (long)s->registry_timeout,
		};

		rc = md_github_new(&c->ctx->gh, &o, err);
	}
	free(owner);
	free(repo);
	return rc;
}

void cycle_gh_git_op(struct cycle *c)
{
	c->gh_cred_calls = 0;
}

int cycle_gh_git_cred(void *ctx, const char *url, char *user, size_t userlen, char *pass,
		      size_t passlen)
{
	struct cycle *c = ctx;
	struct md_github *gh = c->ctx->gh;
	const char *token = NULL;
	struct md_err err;

	(void)url;
	if (!gh)
		return 1;
	if (c->gh_cred_calls >= 2) {
		md_log(MD_LOG_ERROR, "git refused a freshly minted GitHub installation token; "
		       "does the App have the Contents permission on the repository?", NULL);
		return -1;
	}
	if (c->gh_cred_calls++ == 1) {
		/* Asked again within one operation: the remote answered 401 to
		 * the token we gave (revoked, or expired early). A clone is two
		 * operations in one call (ls-remote, then the clone), so this
		 * also happens once there, at the cost of one token. */
		md_log(MD_LOG_DEBUG, "git asked for credentials again; minting a new GitHub "
		       "installation token", NULL);
		md_github_token_invalidate(gh);
	}
	if (md_github_token(gh, &token, &err) < 0) {
		md_log(MD_LOG_ERROR, "cannot get a GitHub installation token for git", "error",
		       err.msg, NULL);
		return -1;
	}
	if (strlen(token) >= passlen || strlen(GIT_TOKEN_USER) >= userlen) {
		md_log(MD_LOG_ERROR, "the GitHub installation token is too long for git", NULL);
		return -1;
	}
	md_strlcpy(user, GIT_TOKEN_USER, userlen);
	md_strlcpy(pass, token, passlen);
	return 0;
}

int cycle_gh_author(struct cycle *c, char **name, char **email, struct md_err *err)
{
	const struct md_settings *s = c->s;
	const char *origin = md_config_origin(c->cfg, "MD_GIT_AUTHOR");

	*name = *email = NULL;
	if (cycle_gh_enabled(c) && origin && !strcmp(origin, "default")) {
		if (cycle_github(c, err) < 0 ||
		    md_github_bot_identity(c->ctx->gh, name, email, err) < 0)
			return -1;
		return 0;
	}
	*name = md_strdup(s->git_author_name);
	*email = md_strdup(s->git_author_email);
	if ((s->git_author_name && !*name) || (s->git_author_email && !*email)) {
		free(*name);
		free(*email);
		*name = *email = NULL;
		return md_err_set(err, "out of memory");
	}
	return 0;
}

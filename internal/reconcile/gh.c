/* The agent as a GitHub App: one md_github client kept across cycles, the
 * installation token handed to libgit2 (never to .git/config, argv or a
 * log line), and the bot identity commits are made with. */
#include "reconcile_int.h"

#include <stdlib.h>
#include <string.h>

#include "magos/github.h"
#include "magos/obs.h"

#define GIT_TOKEN_USER "x-access-token"

int md_reconcile__gh_enabled(const struct md_reconcile__cycle *c)
{
	return c->s->github_app_id != NULL && c->s->github_app_key_file != NULL;
}

/* owner/repo from MD_GIT_URL, else from the clone's origin. */
static int repo_slug(const struct md_reconcile__cycle *c, char **owner, char **repo, struct md_err *err)
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

void md_reconcile__gh_opts(const struct md_settings *s, const char *owner, const char *repo,
			   struct md_github_opts *o)
{
	*o = (struct md_github_opts){
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
}

int md_reconcile__github(struct md_reconcile__cycle *c, struct md_err *err)
{
	const struct md_settings *s = c->s;
	char *owner = NULL, *repo = NULL;
	int rc;

	if (c->ctx->gh)
		return 0;
	if (!md_reconcile__gh_enabled(c))
		return md_err_set(err, "no GitHub App configured (MD_GITHUB_APP_ID, "
				  "MD_GITHUB_APP_KEY_FILE)");
	if (repo_slug(c, &owner, &repo, err) < 0)
		return -1;
	{
		struct md_github_opts o;

		md_reconcile__gh_opts(s, owner, repo, &o);
		rc = md_github_new(&c->ctx->gh, &o, err);
	}
	free(owner);
	free(repo);
	return rc;
}

void md_reconcile__gh_git_op(struct md_reconcile__cycle *c)
{
	c->gh_cred_calls = 0;
}

int md_reconcile__gh_git_cred(void *ctx, const char *url, char *user, size_t userlen, char *pass,
		      size_t passlen)
{
	struct md_reconcile__cycle *c = ctx;
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

/* MD_GIT_AUTHOR when set, else (App configured) the App's bot user. */
static int author(struct md_reconcile__cycle *c, char **name, char **email, struct md_err *err)
{
	const struct md_settings *s = c->s;

	*name = *email = NULL;
	if (md_reconcile__gh_enabled(c) &&
	    md_config_source(c->cfg, "MD_GIT_AUTHOR") == MD_CONFIG_DEFAULT) {
		if (md_reconcile__github(c, err) < 0 ||
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

int md_reconcile__identity(struct md_reconcile__cycle *c, struct md_err *err)
{
	const char *configured = c->s->git_author_email;

	if (author(c, &c->author_name, &c->author_email, err) < 0)
		return -1;
	/* MD_GIT_AUTHOR's e-mail and, with a GitHub App, the bot identity its
	 * commits are made under. */
	if ((configured && md_strv_push(&c->agent_emails, configured) < 0) ||
	    (md_reconcile__gh_enabled(c) && c->author_email && *c->author_email &&
	     md_strv_push(&c->agent_emails, c->author_email) < 0))
		return md_err_set(err, "out of memory");
	return 0;
}

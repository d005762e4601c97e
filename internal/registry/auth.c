/* Authentication: answer 401 challenges with a Bearer token (fetched
 * anonymously or with Basic credentials from the auth file) or with Basic
 * credentials, cache tokens by (registry origin, realm, service, scope)
 * until shortly before they expire, and remember each host's challenge so
 * later requests can send a cached token up front instead of paying a 401
 * round trip.
 *
 * Scope: a registry's credentials and the tokens its challenges earn go to
 * that registry's origin (scheme, host, port) and to the token realm its
 * own challenge names, nowhere else: not to a URL on another origin, not in
 * answer to a challenge from another origin, and over plain HTTP only to a
 * host listed as insecure. */
#include "registry_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* ---- token cache --------------------------------------------------------- */

static void token_free(struct md_reg_token *t)
{
	free(t->origin);
	free(t->realm);
	free(t->service);
	free(t->scope);
	free(t->path);
	md_registry__secret_free(t->token);
	memset(t, 0, sizeof(*t));
}

static void token_remove(struct md_registry *r, size_t i)
{
	token_free(&r->tokens[i]);
	r->tokens[i] = r->tokens[--r->ntokens];
	memset(&r->tokens[r->ntokens], 0, sizeof(r->tokens[0]));
}

static int token_fresh(const struct md_reg_token *t, int64_t now)
{
	return t->expires_at - MD_REG_TOKEN_MARGIN > now;
}

/* A registry that names another registry's realm, service and scope in its
 * challenge still never gets that registry's token: origin is part of the key. */
static struct md_reg_token *token_find(struct md_registry *r, const char *origin,
				       const char *realm, const char *service,
				       const char *scope)
{
	int64_t now = md_time_now();

	for (size_t i = 0; i < r->ntokens; i++) {
		struct md_reg_token *t = &r->tokens[i];

		if (str_eq(t->origin, origin) && str_eq(t->realm, realm) &&
		    str_eq(t->service, service) && str_eq(t->scope, scope) &&
		    token_fresh(t, now))
			return t;
	}
	return NULL;
}

/* Drop every token of this realm/service fetched for path: the registry
 * just refused one of them. */
static void token_forget_path(struct md_registry *r, const char *origin, const char *realm,
			      const char *service, const char *path)
{
	for (size_t i = r->ntokens; i-- > 0;) {
		struct md_reg_token *t = &r->tokens[i];

		if (str_eq(t->origin, origin) && str_eq(t->realm, realm) &&
		    str_eq(t->service, service) && str_eq(t->path, path))
			token_remove(r, i);
	}
}

/* Takes ownership of token (wiped on failure). */
static int token_store(struct md_registry *r, const char *origin,
		       const struct md_reg_challenge *c, const char *scope, const char *path,
		       char *token, int64_t expires_at)
{
	int64_t now = md_time_now();
	struct md_reg_token *t;

	for (size_t i = r->ntokens; i-- > 0;)
		if (!token_fresh(&r->tokens[i], now) ||
		    (str_eq(r->tokens[i].origin, origin) && str_eq(r->tokens[i].realm, c->realm) &&
		     str_eq(r->tokens[i].service, c->service) && str_eq(r->tokens[i].scope, scope)))
			token_remove(r, i);
	if (r->ntokens == MD_REG_TOKEN_CACHE) {
		size_t oldest = 0;

		for (size_t i = 1; i < r->ntokens; i++)
			if (r->tokens[i].expires_at < r->tokens[oldest].expires_at)
				oldest = i;
		token_remove(r, oldest);
	}
	t = &r->tokens[r->ntokens];
	t->origin = md_strdup(origin);
	t->realm = md_strdup(c->realm);
	t->service = c->service ? md_strdup(c->service) : NULL;
	t->scope = md_strdup(scope);
	t->path = md_strdup(path);
	t->token = token;
	t->expires_at = expires_at;
	if (!t->origin || !t->realm || (c->service && !t->service) || !t->scope || !t->path) {
		token_free(t);
		return -1;
	}
	r->ntokens++;
	return 0;
}

/* ---- per-host challenge memory ----------------------------------------- */

static struct md_reg_host *host_find(struct md_registry *r, const char *domain)
{
	for (size_t i = 0; i < r->nhosts; i++)
		if (strcmp(r->hosts[i].domain, domain) == 0)
			return &r->hosts[i];
	return NULL;
}

static void host_free(struct md_reg_host *h)
{
	free(h->domain);
	free(h->realm);
	free(h->service);
	memset(h, 0, sizeof(*h));
}

static void host_remember(struct md_registry *r, const char *domain,
			  const struct md_reg_challenge *c)
{
	struct md_reg_host *h = host_find(r, domain);

	if (h) {
		host_free(h);
	} else {
		if (r->nhosts == MD_REG_HOST_CACHE) {
			host_free(&r->hosts[0]);
			memmove(&r->hosts[0], &r->hosts[1], (r->nhosts - 1) * sizeof(r->hosts[0]));
			memset(&r->hosts[--r->nhosts], 0, sizeof(r->hosts[0]));
		}
		h = &r->hosts[r->nhosts++];
	}
	h->domain = md_strdup(domain);
	h->scheme = c->scheme;
	h->realm = c->realm ? md_strdup(c->realm) : NULL;
	h->service = c->service ? md_strdup(c->service) : NULL;
	if (!h->domain) { /* OOM only costs a 401 round trip later */
		host_free(h);
		*h = r->hosts[--r->nhosts];
		memset(&r->hosts[r->nhosts], 0, sizeof(r->hosts[0]));
	}
}

/* ---- credentials ---------------------------------------------------------- */

static char *basic_header(const char *user, const char *pass)
{
	char *plain = md_asprintf("%s:%s", user, pass);
	char *enc = plain ? md_registry__base64_encode(plain, strlen(plain)) : NULL;
	char *out = enc ? md_asprintf("Basic %s", enc) : NULL;

	md_registry__secret_free(plain);
	md_registry__secret_free(enc);
	return out;
}

/* "Basic …" for domain/path, or *out = NULL when there are no credentials
 * (or only an identity token, which Basic cannot carry). */
static int basic_for(struct md_registry *r, const char *domain, const char *path, char **out,
		     struct md_err *err)
{
	struct md_reg_cred c;
	int rc = md_registry__creds_get(r, domain, path, &c, err);

	*out = NULL;
	if (rc > 0 && !c.identity && c.user && !(*out = basic_header(c.user, c.secret)))
		rc = md_err_set(err, "registry %s: out of memory", domain);
	md_registry__cred_clear(&c);
	return rc < 0 ? -1 : 0;
}

static const char *auth_file_hint(const struct md_registry *r)
{
	if (r->auth_file)
		return r->auth_file;
	return r->auth_files.n ? "the registry auth files (containers auth.json, Docker config.json)"
			       : "the registry auth file (none is configured)";
}

/* ---- error sentences -------------------------------------------------- */

int md_registry__status_error(struct md_registry *r, const char *domain, const char *path,
			const struct md_reg_request *req, const struct md_reg_response *resp,
			struct md_err *err)
{
	char *summary = md_registry__error_summary(resp->body.data, resp->body.len);
	const char *url = resp->url ? resp->url : req->url;
	const char *s1 = summary ? ": " : "", *s2 = summary ? summary : "";

	if (resp->status == 401 || resp->status == 403)
		md_err_set(err, "registry %s: access to repository %s denied (HTTP %ld); check credentials in %s (%s %s%s%s)",
			   domain, path, resp->status, auth_file_hint(r), req->method, url, s1, s2);
	else if (resp->status == 429)
		md_err_set(err, "registry %s: rate limited (HTTP 429) on %s %s%s%s", domain,
			   req->method, url, resp->retry_after ? "; Retry-After: " : "",
			   resp->retry_after ? resp->retry_after : "");
	else
		md_err_set(err, "registry %s: %s %s answered HTTP %ld%s%s", domain, req->method, url,
			   resp->status, s1, s2);
	free(summary);
	return -1;
}

/* ---- tokens ------------------------------------------------------------ */

/* Credentials travel over TLS, or over plain HTTP to a host the operator
 * listed as insecure. The exception is for the hosts listed, not for a
 * realm one of them names elsewhere. */
static int creds_may_go(const struct md_registry *r, const char *realm)
{
	return md_str_has_prefix(realm, "https://") ||
	       md_registry__url_plain_listed(realm, &r->insecure);
}

/* Say why a token request went without credentials, at the end of err: a
 * refusal must not be blamed on the auth file. */
static void note_withheld(struct md_err *err, const char *realm)
{
	char host[MD_REG_NET_HOST_MAX];
	size_t n;

	if (!err)
		return;
	if (md_registry__url_host(realm, host, sizeof(host)) < 0)
		md_strlcpy(host, "its host", sizeof(host));
	n = strlen(err->msg);
	snprintf(err->msg + n, sizeof(err->msg) - n,
		 "; no credentials were sent to the token service %.300s: it is plain HTTP and "
		 "%s is not listed in MD_INSECURE_REGISTRIES", realm, host);
}

/* withheld: the realm credentials were kept from (NULL when none were). */
static int token_error(struct md_registry *r, const char *domain, const char *path,
		       const char *url, const struct md_reg_response *resp, int had_creds,
		       const char *withheld, struct md_err *err)
{
	char *summary = md_registry__error_summary(resp->body.data, resp->body.len);
	const char *s1 = summary ? ": " : "", *s2 = summary ? summary : "";
	int denied = resp->status == 401 || resp->status == 403;

	if (denied && had_creds)
		md_err_set(err, "registry %s: token service %s rejected the credentials for repository %s from %s (HTTP %ld%s%s)",
			   domain, url, path, auth_file_hint(r), resp->status, s1, s2);
	else if (denied && withheld)
		md_err_set(err, "registry %s: token service %s refused an anonymous token for repository %s (HTTP %ld%s%s)",
			   domain, url, path, resp->status, s1, s2);
	else if (denied)
		md_err_set(err, "registry %s: access to repository %s denied by token service %s (HTTP %ld); check credentials in %s",
			   domain, path, url, resp->status, auth_file_hint(r));
	else
		md_err_set(err, "registry %s: token service %s answered HTTP %ld%s%s", domain, url,
			   resp->status, s1, s2);
	if (denied && withheld)
		note_withheld(err, withheld);
	free(summary);
	return -1;
}

/* One token request: GET with Basic credentials (or none), or the OAuth2
 * refresh-token POST when what we hold is an identity token. allow_creds
 * is creds_may_go(realm): without it the request is anonymous. */
static int token_fetch(struct md_registry *r, const char *domain, const char *path,
		       const struct md_reg_challenge *c, const char *scope, const char *url,
		       int allow_creds, struct md_reg_response *resp, int *had_creds,
		       struct md_err *err)
{
	struct md_reg_request req = { .method = "GET", .url = url, .accept = "application/json",
				      .what = domain, .max_body = MD_REG_MAX_TOKEN_BODY };
	struct md_reg_cred cred = { 0 };
	char *basic = NULL, *form = NULL;
	int rc = -1;

	*had_creds = 0;
	if (allow_creds && md_registry__creds_get(r, domain, path, &cred, err) < 0)
		goto out;
	r->stats.token_requests++;
	if (cred.identity) {
		*had_creds = 1;
		if (!(form = md_registry__refresh_form(cred.secret, c->service, scope))) {
			md_err_set(err, "registry %s: out of memory", domain);
			goto out;
		}
		md_buf_init(&resp->body, MD_REG_MAX_TOKEN_BODY);
		if (md_registry__token_post(r, c->realm, form, &resp->status, &resp->body, err) < 0) {
			md_err_prefix(err, "registry %s", domain);
			goto out;
		}
		rc = 0;
		goto out;
	}
	if (cred.user && !(basic = basic_header(cred.user, cred.secret))) {
		md_err_set(err, "registry %s: out of memory", domain);
		goto out;
	}
	*had_creds = basic != NULL;
	req.authorization = basic;
	rc = md_registry__http_do(r, &req, resp, err);
out:
	md_registry__cred_clear(&cred);
	md_registry__secret_free(basic);
	md_registry__secret_free(form);
	return rc;
}

/* Fetch (or reuse) a token for the challenge home (the registry's origin)
 * sent; *authz = "Bearer …". */
static int bearer_for(struct md_registry *r, const char *domain, const char *home,
		      const char *path, const struct md_reg_challenge *c, char **authz,
		      struct md_err *err)
{
	struct md_reg_response resp;
	char *scope = c->scope ? md_strdup(c->scope) : md_asprintf("repository:%s:pull", path);
	char *url = NULL, *token = NULL;
	struct md_reg_token *t;
	int64_t expires_at = 0;
	int rc = -1, had_creds = 0, allow = creds_may_go(r, c->realm);

	md_registry__response_init(&resp);
	*authz = NULL;
	if (!scope || !(url = md_registry__token_url(c->realm, c->service, scope))) {
		md_err_set(err, "registry %s: out of memory", domain);
		goto out;
	}
	if ((t = token_find(r, home, c->realm, c->service, scope))) {
		*authz = md_asprintf("Bearer %s", t->token);
		rc = *authz ? 0 : md_err_set(err, "registry %s: out of memory", domain);
		goto out;
	}
	if (token_fetch(r, domain, path, c, scope, url, allow, &resp, &had_creds, err) < 0)
		goto out;
	if (resp.status != 200) {
		token_error(r, domain, path, url, &resp, had_creds, allow ? NULL : c->realm, err);
		goto out;
	}
	if (md_registry__token_parse(resp.body.data, resp.body.len, md_time_now(), url, &token,
			       &expires_at, err) < 0) {
		md_err_prefix(err, "registry %s", domain);
		goto out;
	}
	*authz = md_asprintf("Bearer %s", token);
	if (!*authz || token_store(r, home, c, scope, path, token, expires_at) < 0)
		md_registry__secret_free(token); /* not cached; still usable once */
	token = NULL;
	rc = *authz ? 0 : md_err_set(err, "registry %s: out of memory", domain);
out:
	md_registry__secret_free(token);
	if (resp.body.data)
		md_memzero(resp.body.data, resp.body.len);
	md_registry__response_clear(&resp);
	free(scope);
	free(url);
	return rc;
}

/* What to send before any challenge: a fresh cached token for this path
 * earned by this registry origin (home), or Basic credentials for a host
 * known to ask for them. Callers send it to home only. */
static int preemptive(struct md_registry *r, const char *domain, const char *home,
		      const char *path, char **authz, struct md_err *err)
{
	struct md_reg_host *h = host_find(r, domain);
	int64_t now = md_time_now();

	*authz = NULL;
	if (!h)
		return 0;
	if (h->scheme == MD_REG_SCHEME_BASIC)
		return basic_for(r, domain, path, authz, err);
	for (size_t i = 0; i < r->ntokens; i++) {
		struct md_reg_token *t = &r->tokens[i];

		if (str_eq(t->origin, home) && str_eq(t->realm, h->realm) &&
		    str_eq(t->service, h->service) && str_eq(t->path, path) &&
		    token_fresh(t, now)) {
			*authz = md_asprintf("Bearer %s", t->token);
			return *authz ? 0 : md_err_set(err, "registry %s: out of memory", domain);
		}
	}
	return 0;
}

int md_registry__auth_upfront(struct md_registry *r, const char *domain, const char *path,
			char **authz, struct md_err *err)
{
	struct md_reg_host *h = host_find(r, domain);
	char *home = md_registry__home_origin(r, domain);
	int rc;

	*authz = NULL;
	if (!home)
		return md_err_set(err, "registry %s: out of memory", domain);
	rc = preemptive(r, domain, home, path, authz, err);
	free(home);
	if (rc < 0)
		return -1;
	return *authz || !h || h->scheme != MD_REG_SCHEME_BEARER;
}

/* *withheld (caller frees) is the realm credentials were kept from, or NULL. */
static int answer_challenge(struct md_registry *r, const char *domain, const char *home,
			    const char *path, const struct md_reg_response *resp, char **authz,
			    char **withheld, struct md_err *err)
{
	struct md_reg_challenge c;
	int rc = -1;

	if (md_registry__challenge_parse(&c, resp->www_authenticate, resp->url, err) < 0)
		return md_err_prefix(err, "registry %s: HTTP 401", domain);
	host_remember(r, domain, &c);
	if (c.scheme == MD_REG_SCHEME_BEARER) {
		rc = bearer_for(r, domain, home, path, &c, authz, err);
		if (rc == 0 && !creds_may_go(r, c.realm) && !(*withheld = md_strdup(c.realm)))
			rc = md_err_set(err, "registry %s: out of memory", domain);
	} else {
		rc = basic_for(r, domain, path, authz, err);
		if (rc == 0 && !*authz)
			rc = md_err_set(err, "registry %s: access to repository %s needs credentials (Basic authentication at %s); check credentials in %s",
					domain, path, resp->url, auth_file_hint(r));
	}
	md_registry__challenge_clear(&c);
	return rc;
}

/* 1 when url is on origin. */
static int on_origin(const char *url, const char *origin)
{
	char *o = url ? md_registry__url_origin(url) : NULL;
	int same = o && strcmp(o, origin) == 0;

	free(o);
	return same;
}

/* The 401 came from the registry's own origin (not after a redirect
 * elsewhere), so its challenge may be answered with the registry's
 * credentials. */
static int challenge_from_home(const char *domain, const char *home,
			       const struct md_reg_request *req,
			       const struct md_reg_response *resp, struct md_err *err)
{
	char *there;

	if (on_origin(resp->url, home))
		return 0;
	there = resp->url ? md_registry__url_origin(resp->url) : NULL;
	md_err_set(err, "registry %s: %s %s was redirected to %s, which asks for authentication (HTTP 401); the credentials of %s are not sent to another origin",
		   domain, req->method, req->url, there ? there : "another origin", home);
	free(there);
	return -1;
}

int md_registry__authed_do(struct md_registry *r, const char *domain, const char *path,
		     const struct md_reg_request *in, struct md_reg_response *resp,
		     struct md_err *err)
{
	struct md_reg_request req = *in;
	struct md_reg_host *h;
	char *home = md_registry__home_origin(r, domain), *authz = NULL, *withheld = NULL;
	int rc = -1;

	if (!home) {
		md_err_set(err, "registry %s: out of memory", domain);
		goto out;
	}
	/* Every URL we build is on home; one that is not (a bug, or a link
	 * the caller failed to check) is not sent at all. */
	if (!on_origin(req.url, home)) {
		md_err_set(err, "registry %s: %s %.300s is not on the registry's origin %s; not sent",
			   domain, req.method, req.url, home);
		goto out;
	}
	if (preemptive(r, domain, home, path, &authz, err) < 0)
		goto out;
	req.authorization = authz;
	if (md_registry__http_do(r, &req, resp, err) < 0)
		goto out;
	if (resp->status != 401) {
		rc = 0;
		goto out;
	}
	if (challenge_from_home(domain, home, &req, resp, err) < 0)
		goto out;
	if (authz && (h = host_find(r, domain)) && h->scheme == MD_REG_SCHEME_BEARER)
		token_forget_path(r, home, h->realm, h->service, path);
	md_registry__secret_free(authz);
	authz = NULL;
	if (answer_challenge(r, domain, home, path, resp, &authz, &withheld, err) < 0)
		goto out;
	req.authorization = authz;
	if (md_registry__http_do(r, &req, resp, err) < 0)
		goto out;
	if (resp->status == 401 || resp->status == 403) {
		md_registry__status_error(r, domain, path, &req, resp, err);
		if (withheld)
			note_withheld(err, withheld);
		goto out;
	}
	rc = 0;
out:
	md_registry__secret_free(authz);
	free(withheld);
	free(home);
	return rc;
}

void md_registry__auth_free(struct md_registry *r)
{
	while (r->ntokens)
		token_remove(r, r->ntokens - 1);
	for (size_t i = 0; i < r->nhosts; i++)
		host_free(&r->hosts[i]);
	r->nhosts = 0;
	md_strv_clear(&r->auth_files);
}

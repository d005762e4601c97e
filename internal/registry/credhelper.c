/* Where credentials come from (docs/protocols.md, Credential files and helpers): the ordered list of
 * candidate auth files, the walk through them (first file with a match
 * wins), docker-credential-<name> helpers, and the OAuth2 refresh-token
 * POST used when what we hold is an identity token. */
#include "registry_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- candidate files --------------------------------------------------- */

static const char *val(const char *s)
{
	return s && *s ? s : NULL;
}

static int push_fmt(struct md_strv *out, char *s)
{
	int rc = s ? md_strv_push(out, s) : -1;

	free(s);
	return rc;
}

int md_registry_auth_files(struct md_strv *out, const struct md_registry_auth_env *env,
			   struct md_err *err)
{
	const char *explicit_file = val(env->md_registry_auth_file)
					    ? val(env->md_registry_auth_file)
					    : val(env->registry_auth_file);
	const char *home = val(env->home), *xdg = val(env->xdg_config_home);
	const char *run = val(env->xdg_runtime_dir), *dc = val(env->docker_config);
	int rc = 0;

	if (explicit_file)
		return md_strv_push(out, explicit_file) < 0 ? md_err_set(err, "out of memory") : 0;
	if (run)
		rc |= push_fmt(out, md_asprintf("%s/containers/auth.json", run));
	else
		rc |= push_fmt(out, md_asprintf("/run/containers/%lu/auth.json",
						(unsigned long)env->uid));
	if (xdg)
		rc |= push_fmt(out, md_asprintf("%s/containers/auth.json", xdg));
	else if (home)
		rc |= push_fmt(out, md_asprintf("%s/.config/containers/auth.json", home));
	if (dc)
		rc |= push_fmt(out, md_asprintf("%s/config.json", dc));
	else if (home)
		rc |= push_fmt(out, md_asprintf("%s/.docker/config.json", home));
	if (home)
		rc |= push_fmt(out, md_asprintf("%s/.dockercfg", home));
	return rc ? md_err_set(err, "out of memory") : 0;
}

static int is_legacy(const char *file)
{
	const char *slash = strrchr(file, '/');

	return strcmp(slash ? slash + 1 : file, ".dockercfg") == 0;
}

/* Read and look up one file; 0 also when it does not exist (unless it is
 * the explicit one, which must). */
static int lookup_file(struct md_registry *r, const char *file, const char *domain,
		       const char *path, struct md_reg_cred *out, struct md_err *err)
{
	int explicit_file = r->auth_file && strcmp(file, r->auth_file) == 0;
	char *text = NULL;
	size_t len = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!explicit_file && !md_path_exists(file))
		return 0;
	if (md_file_read(file, MD_REG_MAX_AUTH_FILE, &text, &len, err) < 0)
		return md_err_prefix(err, "cannot read the registry auth file");
	rc = md_registry__auth_find(text, len, file, is_legacy(file), domain, path, out, err);
	md_memzero(text, len);
	free(text);
	return rc;
}

int md_registry__auth_init(struct md_registry *r, const struct md_registry_opts *o,
		     struct md_err *err)
{
	const struct md_strv *more = o->auth_files;

	if (o->auth_file && md_strv_push(&r->auth_files, o->auth_file) < 0)
		return md_err_set(err, "out of memory creating the registry client");
	if (more && !(o->auth_file && o->auth_file_exclusive))
		for (size_t i = 0; i < more->n; i++)
			if (!md_strv_contains(&r->auth_files, more->v[i]) &&
			    md_strv_push(&r->auth_files, more->v[i]) < 0)
				return md_err_set(err, "out of memory creating the registry client");
	/* Checked once up front so a typo or a broken file is reported at
	 * start-up; read again whenever credentials are needed, so secrets
	 * are held only briefly and edits take effect without a restart. */
	for (size_t i = 0; i < r->auth_files.n; i++) {
		struct md_reg_cred c;
		int rc = lookup_file(r, r->auth_files.v[i], "localhost", "x", &c, err);

		md_registry__cred_clear(&c);
		if (rc < 0)
			return md_err_prefix(err, "registry auth file");
	}
	return 0;
}

/* ---- credential helpers ------------------------------------------------- */

static int run_helper(struct md_registry *r, const char *domain, struct md_reg_cred *c,
		      struct md_err *err)
{
	char *helper = c->helper, *prog = md_asprintf("docker-credential-%s", helper);
	/* Docker Hub credentials live under Docker's historical index URL. */
	const char *server = md_ref_is_hub(domain, strlen(domain)) ? "https://index.docker.io/v1/"
								   : domain;
	char get[] = "get";
	char *argv[] = { prog, get, NULL };
	struct md_buf outb;
	int status = -1, rc = -1;

	(void)r;
	c->helper = NULL;
	md_buf_init(&outb, MD_REG_HELPER_MAX_OUT);
	if (!prog) {
		md_err_set(err, "registry %s: out of memory", domain);
		goto out;
	}
	if (md_proc_run(argv, NULL, server, strlen(server), &outb, MD_REG_HELPER_TIMEOUT_MS,
			&status, err) < 0) {
		md_err_prefix(err, "registry %s: credential helper", domain);
		goto out;
	}
	if (status != 0) {
		/* The helper protocol's answer for "nothing stored". */
		if (outb.data && strstr(outb.data, "credentials not found")) {
			rc = 0;
			goto out;
		}
		md_err_set(err, "registry %s: credential helper %s get exited with status %d",
			   domain, prog, status);
		goto out;
	}
	if (md_registry__credhelper_parse(outb.data ? outb.data : "", outb.len, helper, c, err) < 0) {
		md_err_prefix(err, "registry %s", domain);
		goto out;
	}
	rc = 1;
out:
	if (outb.data)
		md_memzero(outb.data, outb.len);
	md_buf_clear(&outb);
	free(prog);
	free(helper);
	return rc;
}

int md_registry__creds_get(struct md_registry *r, const char *domain, const char *path,
		     struct md_reg_cred *out, struct md_err *err)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < r->auth_files.n; i++) {
		int rc = lookup_file(r, r->auth_files.v[i], domain, path, out, err);

		if (rc < 0)
			return md_err_prefix(err, "registry %s", domain);
		if (rc == 0)
			continue;
		if (out->helper)
			return run_helper(r, domain, out, err);
		return 1;
	}
	return 0;
}

/* ---- OAuth2 refresh-token POST ------------------------------------------- */

/* Through the one request function, so the POST gets the same caps, retries
 * on 429/5xx and request counters as every other registry request. */
int md_registry__token_post(struct md_registry *r, const char *realm, const char *form,
		      long *status, struct md_buf *body, struct md_err *err)
{
	struct md_reg_request req = {
		.method = "POST",
		.post_form = form,
		.url = realm,
		.accept = "application/json",
		.what = realm,
		.max_body = body->max,
	};
	struct md_reg_response resp;
	int rc;

	*status = 0;
	md_registry__response_init(&resp);
	rc = md_registry__http_do(r, &req, &resp, err);
	if (rc == 0) {
		*status = resp.status;
		md_buf_reset(body);
		if (resp.body.len && md_buf_append(body, resp.body.data, resp.body.len) < 0)
			rc = md_err_set(err, "token service %s sent more than %zu bytes", realm,
					body->max);
	}
	if (resp.body.data)
		md_memzero(resp.body.data, resp.body.len);
	md_registry__response_clear(&resp);
	return rc;
}

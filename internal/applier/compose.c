/* `compose pull` and `compose up -d` (and `down`) for one stack, with the secrets
 * override: env files reach the containers through an extra compose file
 * (`env_file:` per service), never through argv or our environment. */
#include "applier_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define OVERRIDE_NAME "magos-secrets.compose.yaml"

/* A YAML double-quoted scalar: safe for any name or path. */
static int yaml_quote(struct md_buf *b, const char *s)
{
	if (md_buf_puts(b, "\"") < 0)
		return -1;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		int rc;

		if (*p == '"' || *p == '\\')
			rc = md_buf_printf(b, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			rc = md_buf_printf(b, "\\x%02x", *p);
		else
			rc = md_buf_append(b, p, 1);
		if (rc < 0)
			return -1;
	}
	return md_buf_puts(b, "\"");
}

static int override_text(const struct md_stack_spec *spec, const struct md_service_decl *d,
			 size_t nd, struct md_buf *b)
{
	if (md_buf_puts(b, "# Written by magos-dominus: every service gets the stack's "
			   "decrypted env files.\nservices:\n") < 0)
		return -1;
	for (size_t i = 0; i < nd; i++) {
		if (md_buf_puts(b, "  ") < 0 || yaml_quote(b, d[i].name) < 0 ||
		    md_buf_puts(b, ":\n    env_file:\n") < 0)
			return -1;
		for (size_t j = 0; j < spec->nenv_files; j++)
			if (md_buf_puts(b, "      - ") < 0 || yaml_quote(b, spec->env_files[j]) < 0 ||
			    md_buf_puts(b, "\n") < 0)
				return -1;
	}
	return 0;
}

/* Write <secrets_dir>/magos-secrets.compose.yaml (0600); *path gets its name. */
static int write_override(const struct md_stack_spec *spec, char **path, struct md_err *err)
{
	struct md_service_decl *d = NULL;
	struct md_buf b;
	size_t nd = 0;
	int rc = -1;

	*path = NULL;
	if (!spec->secrets_dir || spec->secrets_dir[0] != '/')
		return md_err_set(err, "stack %s: env files need an absolute secrets directory",
				  spec->dir);
	for (size_t j = 0; j < spec->nenv_files; j++)
		if (!spec->env_files[j] || spec->env_files[j][0] != '/')
			return md_err_set(err, "stack %s: env file %s is not an absolute path",
					  spec->dir, spec->env_files[j] ? spec->env_files[j] : "(null)");
	md_buf_init(&b, APP_COMPOSE_FILE_MAX);
	if (md_applier_declared(spec, &d, &nd, err) < 0)
		goto out;
	if (override_text(spec, d, nd, &b) < 0) {
		md_err_set(err, "stack %s: the secrets override is larger than %u bytes", spec->dir,
			   APP_COMPOSE_FILE_MAX);
		goto out;
	}
	*path = md_asprintf("%s/%s", spec->secrets_dir, OVERRIDE_NAME);
	if (!*path) {
		md_err_set(err, "stack %s: out of memory", spec->dir);
		goto out;
	}
	if (md_file_write_atomic(*path, b.data ? b.data : "", b.len, 0600, err) < 0) {
		free(*path);
		*path = NULL;
		goto out;
	}
	rc = 0;
out:
	md_service_decls_free(d, nd);
	md_buf_clear(&b);
	return rc;
}

/* compose_cmd -p project -f f... [-f override] verb... */
static int build_argv(const struct md_applier *a, const struct md_stack_spec *spec,
		      const char *override, const char *const *verb, struct md_strv *argv)
{
	for (size_t i = 0; i < a->compose_cmd.n; i++)
		if (md_strv_push(argv, a->compose_cmd.v[i]) < 0)
			return -1;
	if (md_strv_push(argv, "-p") < 0 || md_strv_push(argv, spec->project) < 0)
		return -1;
	for (size_t i = 0; i < spec->nfiles; i++)
		if (md_strv_push(argv, "-f") < 0 || md_strv_push(argv, spec->files[i]) < 0)
			return -1;
	if (override && (md_strv_push(argv, "-f") < 0 || md_strv_push(argv, override) < 0))
		return -1;
	for (; *verb; verb++)
		if (md_strv_push(argv, *verb) < 0)
			return -1;
	return 0;
}

static void join_words(const char *const *w, char *dst, size_t len)
{
	size_t off = 0;

	dst[0] = '\0';
	for (; *w && off < len; w++)
		off += (size_t)snprintf(dst + off, len - off, "%s%s", off ? " " : "", *w);
}

static int run_verb(struct md_applier *a, const struct md_stack_spec *spec, const char *override,
		    const char *const *verb, struct md_buf *out, struct md_err *err)
{
	struct md_strv argv = { 0 };
	struct app_cmd c = { 0 };
	char what[160], words[64];
	int status, r, rc = -1;

	join_words(verb, words, sizeof(words));
	snprintf(what, sizeof(what), "%s %s", a->compose_cmd.v[0], words);
	if (build_argv(a, spec, override, verb, &argv) < 0) {
		md_err_set(err, "stack %s: out of memory", spec->dir);
		goto out;
	}
	c.argv = argv.v;
	c.cwd = spec->dir;
	c.timeout_ms = a->compose_timeout * 1000;
	c.mode = APP_OUT_TAIL;
	r = md_applier__run(a, &c, out, NULL, &status, err);
	if (r == APP_RUN_TIMEOUT)
		md_err_set(err, "%s for stack %s (project %s) did not finish within %llds and was "
				"killed", what, spec->dir, spec->project,
			   (long long)a->compose_timeout);
	else if (r < 0)
		md_err_prefix(err, "stack %s", spec->dir);
	else if (status != 0)
		md_err_set(err, "%s for stack %s (project %s) exited with status %d", what,
			   spec->dir, spec->project, status);
	else
		rc = 0;
out:
	md_strv_clear(&argv);
	return rc;
}

/* podman-compose 1.0.3 `up -d` only starts containers that already exist;
 * --force-recreate is what makes a changed image or env file take effect
 * (docker compose accepts it too). */
static const char *const verb_pull[] = { "pull", NULL };
static const char *const verb_up[] = { "up", "-d", "--force-recreate", NULL };

/* What every compose run needs; *output starts NULL. */
static int check_spec(const struct md_stack_spec *spec, char **output, struct md_err *err)
{
	if (output)
		*output = NULL;
	if (!spec || !spec->dir || !spec->project || !spec->project[0] || !spec->files ||
	    spec->nfiles == 0)
		return md_err_set(err, "applier: a stack needs a directory, a project and a "
				       "compose file");
	return 0;
}

int md_applier_up(struct md_applier *a, const struct md_stack_spec *spec, char **output,
		  struct md_err *err)
{
	struct md_buf out;
	char *override = NULL;
	int rc = -1;

	if (check_spec(spec, output, err) < 0)
		return -1;
	md_buf_init(&out, MD_APPLIER_OUTPUT_MAX);
	if (spec->nenv_files > 0 && write_override(spec, &override, err) < 0)
		goto out;
	if (run_verb(a, spec, override, verb_pull, &out, err) < 0)
		goto out;
	if (run_verb(a, spec, override, verb_up, &out, err) < 0)
		goto out;
	rc = 0;
out:
	if (output)
		*output = md_buf_steal(&out);
	md_buf_clear(&out);
	free(override);
	return rc;
}

/* No -v: named volumes hold the user's data and outlive the stack. */
static const char *const verb_down[] = { "down", NULL };

int md_applier_down(struct md_applier *a, const struct md_stack_spec *spec, char **output,
		    struct md_err *err)
{
	struct md_buf out;
	int rc;

	if (check_spec(spec, output, err) < 0)
		return -1;
	md_buf_init(&out, MD_APPLIER_OUTPUT_MAX);
	rc = run_verb(a, spec, NULL, verb_down, &out, err);
	if (output)
		*output = md_buf_steal(&out);
	md_buf_clear(&out);
	return rc;
}

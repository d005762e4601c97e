/* Step 7: one stack on this host — secrets, `pull` + `up -d`, health — and
 * the applier's setup: the compose command, its engine, and the small
 * environment its children get. */
#include "rollout_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "magos/applier.h"
#include "magos/obs.h"
#include "magos/secrets.h"
#include "magos/state.h"

#define ROLLBACK_PREFIX MD_GIT_ROLLBACK_PREFIX

/* ---- setup ------------------------------------------------------------------ */

/* Children see these and nothing else of the agent's environment (no
 * tokens, no MD_* settings). The process environment wins over the file. */
static const char *const child_keys[] = {
	"PATH", "HOME", "XDG_RUNTIME_DIR", "CONTAINERS_CONF", "CONTAINERS_REGISTRIES_CONF",
	"REGISTRY_AUTH_FILE", "DOCKER_HOST", "DOCKER_CONFIG",
};

static int build_env(struct md_rollout__run *r, struct md_err *err)
{
	for (size_t i = 0; i < sizeof(child_keys) / sizeof(child_keys[0]); i++) {
		const char *v = md_config_lookup(r->x->cfg, child_keys[i]);
		char *kv;
		int rc;

		if (!v && !strcmp(child_keys[i], "PATH"))
			v = MD_ROLLOUT_DEFAULT_PATH;
		if (!v)
			continue;
		if (!(kv = md_asprintf("%s=%s", child_keys[i], v)))
			return md_err_set(err, "out of memory");
		rc = md_strv_push(&r->env, kv);
		free(kv);
		if (rc < 0)
			return md_err_set(err, "out of memory");
	}
	return 0;
}

/* docker's compose plugin inspects with docker; everything else is podman. */
const char *md_rollout_engine_for(const struct md_strv *cmd)
{
	const char *c0 = cmd->n ? cmd->v[0] : "";

	if (!strcmp(c0, "docker") || md_str_has_suffix(c0, "/docker"))
		return "docker";
	return "podman";
}

static void progress_hook(void *arg)
{
	md_rollout__progress(arg);
}

int md_rollout__run_init(struct md_rollout__run *r, struct md_err *err)
{
	const struct md_settings *s = r->x->s;
	struct md_applier_opts o;

	if (build_env(r, err) < 0)
		return -1;
	memset(&o, 0, sizeof(o));
	o.compose_cmd = &s->compose_cmd;
	o.engine = md_rollout_engine_for(&s->compose_cmd);
	o.compose_timeout = s->compose_timeout;
	o.health_timeout = s->health_timeout;
	o.envp = r->env.v;
	o.progress = progress_hook;
	o.progress_arg = r;
	o.stop = r->x->stop;
	return md_applier_new(&r->a, &o, err);
}

void md_rollout__run_clear(struct md_rollout__run *r)
{
	md_applier_free(r->a);
	r->a = NULL;
	md_age_identities_free(r->ids);
	r->ids = NULL;
	md_strv_clear(&r->env);
}

/* ---- one run -------------------------------------------------------------- */

/* The last good version of a human's change runs from temporary copies of
 * the old compose files IN the stack directory, so relative paths (build
 * contexts, bind mounts, env files) still resolve. */
static int write_rollback_files(struct md_rollout__run *r, const struct md_rollout__stack *s,
				const char *abs, const char *commit, struct md_strv *names,
				struct md_err *err)
{
	for (size_t i = 0; i < s->files.n; i++) {
		char *rel = strcmp(s->dir, ".") ? md_asprintf("%s/%s", s->dir, s->files.v[i])
						: md_strdup(s->files.v[i]);
		char *name = md_asprintf(ROLLBACK_PREFIX "%s", s->files.v[i]);
		char *path = name ? md_asprintf("%s/%s", abs, name) : NULL;
		char *data = NULL;
		size_t len = 0;
		int rc = -1, at;

		if (!rel || !name || !path) {
			md_err_set(err, "out of memory");
			goto next;
		}
		at = md_git_file_at(r->x->git, commit, rel, MD_COMPOSE_MAX_FILE, &data, &len, err);
		if (at == 1)
			md_err_set(err, "%s did not exist in commit %.7s", rel, commit);
		if (at != 0)
			goto next;
		if (md_strv_push(names, name) < 0) {
			md_err_set(err, "out of memory");
			goto next;
		}
		rc = md_file_write_atomic(path, data, len, 0644, err);
next:
		free(data);
		free(path);
		free(name);
		free(rel);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static void remove_rollback_files(const char *abs, const struct md_strv *names)
{
	for (size_t i = 0; i < names->n; i++) {
		char *path = md_asprintf("%s/%s", abs, names->v[i]);

		if (path && unlink(path) < 0 && errno != ENOENT)
			md_log(MD_LOG_ERROR, "cannot remove a temporary rollback compose file", "file",
			       path, "error", strerror(errno), NULL);
		free(path);
	}
}

static void log_output(const struct md_rollout__stack *s, const char *output)
{
	if (output && *output)
		md_log(MD_LOG_DEBUG, "compose output", "stack", s->dir, "output", output, NULL);
}

/* up (secrets removed right after it, success or not), then health. */
static int up_and_wait(struct md_rollout__run *r, const struct md_rollout__stack *s,
		       struct md_stack_spec *spec, const char *commit, struct md_err *err)
{
	struct md_rollout__secrets sec = { 0 };
	char *output = NULL;
	int rc;

	if (md_rollout__secrets_prepare(r, s, commit, &sec, err) < 0)
		return -2;
	spec->env_files = (const char *const *)sec.files.v;
	spec->nenv_files = sec.files.n;
	spec->secrets_dir = sec.dir;
	md_testhook("compose-up"); /* the secrets are decrypted on disk */
	rc = md_applier_up(r->a, spec, &output, err);
	md_rollout__progress(r);
	md_rollout__secrets_clear(&sec);
	spec->env_files = NULL;
	spec->nenv_files = 0;
	spec->secrets_dir = NULL;
	log_output(s, output);
	free(output);
	if (rc < 0)
		return -1;
	rc = md_applier_wait_healthy(r->a, spec, err);
	md_rollout__progress(r);
	return rc;
}

int md_rollout__stack_run(struct md_rollout__run *r, const struct md_rollout__stack *s, const char *commit,
		    struct md_err *err)
{
	char *abs = strcmp(s->dir, ".") ? md_asprintf("%s/%s", md_git_workdir(r->x->git), s->dir)
					: md_strdup(md_git_workdir(r->x->git));
	char *project = abs ? md_applier_project_name(abs) : NULL;
	struct md_strv names = { 0 };
	struct md_stack_spec spec;
	int rc = -1;

	if (!abs || !project) {
		md_err_set(err, "out of memory");
		goto out;
	}
	memset(&spec, 0, sizeof(spec));
	spec.dir = abs;
	spec.project = project;
	spec.files = (const char *const *)s->files.v;
	spec.nfiles = s->files.n;
	if (commit) {
		if (write_rollback_files(r, s, abs, commit, &names, err) < 0) {
			rc = -2;
			goto out;
		}
		spec.files = (const char *const *)names.v;
		spec.nfiles = names.n;
	}
	rc = up_and_wait(r, s, &spec, commit, err);
out:
	if (abs)
		remove_rollback_files(abs, &names);
	md_strv_clear(&names);
	free(project);
	free(abs);
	return rc;
}

/* ---- apply with rollback --------------------------------------------------- */

int md_rollout__failed(struct md_rollout__run *r, const struct md_rollout__stack *s, const char *reason,
		 const char *error, struct md_err *err)
{
	if (md_state_stack_set(r->x->st, s->dir, MD_STACK_STATUS_FAILED, NULL, md_time_now()) < 0 ||
	    md_rollout__report(r, s->dir, reason, MD_STACK_FAILED, error) < 0)
		return md_err_set(err, "out of memory");
	return 0;
}

int md_rollout__apply(struct md_rollout__run *r, const struct md_rollout__stack *s, const char *reason,
		int drift, struct md_err *err)
{
	struct md_err serr;
	char head[41];

	int rc;

	md_log(MD_LOG_INFO, "applying stack", "stack", s->dir, "reason", reason, NULL);
	rc = md_rollout__stack_run(r, s, NULL, &serr);
	if (rc < 0)
		md_log(MD_LOG_ERROR, "stack failed", "stack", s->dir, "reason", reason, "error",
		       serr.msg, NULL);
	if (rc == -2) /* refused before any compose command ran: nothing to undo */
		return md_rollout__failed(r, s, reason, serr.msg, err);
	if (rc < 0)
		return md_rollout__rollback(r, s, reason, serr.msg, err);
	if (md_git_head(r->x->git, head, err) < 0)
		return -1;
	md_log(MD_LOG_INFO, drift ? "drift repaired" : "stack applied", "stack", s->dir, "reason",
	       reason, "commit", head, NULL);
	if (md_state_stack_set(r->x->st, s->dir, MD_STACK_STATUS_OK, head, md_time_now()) < 0 ||
	    md_rollout__report(r, s->dir, reason, MD_STACK_APPLIED, NULL) < 0)
		return md_err_set(err, "out of memory");
	return 0;
}

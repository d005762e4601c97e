/* Step 7, secrets: a stack's SOPS files (*.sops.env, *.sops.yaml,
 * *.sops.yml, *.sops.json) decrypted with the host's age identities into
 * one env file each (0600) in a fresh private directory under
 * MD_RUNTIME_DIR, which lives only as long as `up -d` runs. Plaintext in
 * memory is zeroed; an undecryptable file refuses the whole stack. */
#include "rollout_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "magos/obs.h"
#include "magos/secrets.h"

#define KEY_FILE_MAX (1024u * 1024)

static const char *const sops_globs[] = { "*.sops.env", "*.sops.yaml", "*.sops.yml",
					  "*.sops.json" };

/* ---- identities -------------------------------------------------------- */

int md_rollout_age_source(struct md_age_identities *ids, const char *file,
			  const char *inline_text, struct md_err *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (!file)
		return md_age_identities_add(ids, "SOPS_AGE_KEY", inline_text, strlen(inline_text),
					     NULL, err);
	if (md_file_read(file, KEY_FILE_MAX, &text, &len, err) < 0)
		return -2;
	rc = md_age_identities_add(ids, file, text, len, NULL, err);
	md_secrets_free_plain(text, len);
	return rc;
}

/* One source of the run's identities; a file that cannot be read is named
 * by its key. */
static int add_source(struct md_age_identities *ids, const char *key, const char *file,
		      const char *inline_text, struct md_err *err)
{
	int rc = md_rollout_age_source(ids, file, inline_text, err);

	if (rc == -2)
		return md_err_prefix(err, "%s", key);
	return rc;
}

/* Every identity source that is set: MD_AGE_KEY_FILE, SOPS_AGE_KEY_FILE,
 * SOPS_AGE_KEY (inline). */
static int load_identities(struct md_rollout__run *r, struct md_err *err)
{
	const char *file = r->x->s->age_key_file;
	const char *sops_file = md_config_lookup(r->x->cfg, "SOPS_AGE_KEY_FILE");
	const char *inline_key = md_config_lookup(r->x->cfg, "SOPS_AGE_KEY");

	if (r->ids)
		return 0;
	if (md_age_identities_new(&r->ids) < 0)
		return md_err_set(err, "out of memory");
	if ((file && add_source(r->ids, "MD_AGE_KEY_FILE", file, NULL, err) < 0) ||
	    (sops_file && *sops_file &&
	     add_source(r->ids, "SOPS_AGE_KEY_FILE", sops_file, NULL, err) < 0) ||
	    (inline_key && *inline_key &&
	     add_source(r->ids, "SOPS_AGE_KEY", NULL, inline_key, err) < 0)) {
		md_age_identities_free(r->ids);
		r->ids = NULL;
		return -1;
	}
	return 0;
}

/* ---- which files ---------------------------------------------------------- */

static int sops_files_of(struct md_rollout__run *r, const struct md_rollout__stack *s, struct md_strv *out,
			 struct md_err *err)
{
	struct md_strv globs = { 0 }, all = { 0 };
	int rc = -1;

	for (size_t i = 0; i < sizeof(sops_globs) / sizeof(sops_globs[0]); i++) {
		char *g = strcmp(s->dir, ".") ? md_asprintf("%s/**/%s", s->dir, sops_globs[i])
					      : md_asprintf("**/%s", sops_globs[i]);
		int prc = g ? md_strv_push(&globs, g) : -1;

		free(g);
		if (prc < 0) {
			md_err_set(err, "out of memory");
			goto out;
		}
	}
	if (md_git_list_files(r->x->git, &globs, &all, err) < 0)
		goto out;
	for (size_t i = 0; i < all.n; i++) {
		const char *base = strrchr(all.v[i], '/') ? strrchr(all.v[i], '/') + 1 : all.v[i];

		/* .sops.yaml holds sops's creation rules, not secrets. */
		if (!strcmp(base, ".sops.yaml") || !strcmp(base, ".sops.yml") ||
		    md_rollout__owner(r, all.v[i]) != s)
			continue;
		if (md_strv_push(out, all.v[i]) < 0) {
			md_err_set(err, "out of memory");
			goto out;
		}
	}
	rc = 0;
out:
	md_strv_clear(&globs);
	md_strv_clear(&all);
	return rc;
}

/* ---- decrypt --------------------------------------------------------------- */

static int read_version(struct md_rollout__run *r, const char *rel, const char *commit, char **data,
			size_t *len, struct md_err *err)
{
	char *abs;
	int rc;

	if (commit)
		return md_git_file_at(r->x->git, commit, rel, MD_SECRETS_MAX_FILE, data, len, err);
	if (!(abs = md_asprintf("%s/%s", md_git_workdir(r->x->git), rel)))
		return md_err_set(err, "out of memory");
	rc = md_file_read(abs, MD_SECRETS_MAX_FILE, data, len, err);
	free(abs);
	return rc;
}

/* Decrypt rel into the env file <sec->dir>/<n>.env. */
static int decrypt_one(struct md_rollout__run *r, const char *rel, const char *commit,
		       struct md_rollout__secrets *sec, struct md_err *err)
{
	struct md_sops_doc *doc = NULL;
	char *data = NULL, *env = NULL, *path = NULL;
	size_t len = 0, envlen = 0;
	int rc = -1, got;

	got = read_version(r, rel, commit, &data, &len, err);
	if (got == 1)
		return 0; /* not in the old version: nothing to hand over */
	if (got < 0)
		return -1;
	if (md_sops_decrypt(&doc, r->ids, rel, data, len, md_sops_format_for_path(rel), err) < 0 ||
	    md_sops_doc_env(doc, &env, &envlen, err) < 0)
		goto out;
	if (!(path = md_asprintf("%s/%zu.env", sec->dir, sec->files.n + 1)) ||
	    md_strv_push(&sec->files, path) < 0) {
		md_err_set(err, "out of memory");
		goto out;
	}
	rc = md_file_write_new(path, env, envlen, 0600, err);
out:
	if (env)
		md_secrets_free_plain(env, envlen);
	md_sops_doc_free(doc);
	free(data);
	free(path);
	return rc;
}

#define SECRETS_DIR_PREFIX "stack-"

static int make_private_dir(struct md_rollout__run *r, struct md_rollout__secrets *sec,
			    struct md_err *err)
{
	sec->dir = md_rollout__private_dir(r->x->s->runtime_dir, SECRETS_DIR_PREFIX, err);
	return sec->dir ? 0 : -1;
}

int md_rollout__secrets_prepare(struct md_rollout__run *r, const struct md_rollout__stack *s,
			  const char *commit, struct md_rollout__secrets *out, struct md_err *err)
{
	struct md_strv files = { 0 };
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (sops_files_of(r, s, &files, err) < 0)
		return -1;
	if (!files.n) {
		rc = 0;
		goto out;
	}
	if (load_identities(r, err) < 0)
		goto out;
	if (!md_age_identities_count(r->ids)) {
		md_err_set(err, "%s is encrypted with SOPS but no age identity is configured "
			   "(MD_AGE_KEY_FILE, SOPS_AGE_KEY_FILE or SOPS_AGE_KEY)", files.v[0]);
		goto out;
	}
	if (make_private_dir(r, out, err) < 0)
		goto out;
	for (size_t i = 0; i < files.n; i++)
		if (decrypt_one(r, files.v[i], commit, out, err) < 0)
			goto out;
	rc = 0;
out:
	if (rc < 0)
		md_rollout__secrets_clear(out);
	md_strv_clear(&files);
	return rc;
}

/* Remove every file in the private directory (our env files and whatever
 * the applier put next to them), then the directory. */
void md_rollout__secrets_clear(struct md_rollout__secrets *sec)
{
	DIR *d;
	struct dirent *e;

	if (sec->dir && (d = opendir(sec->dir))) {
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
			    unlinkat(dirfd(d), e->d_name, 0) < 0)
				md_log(MD_LOG_ERROR, "cannot remove a decrypted secrets file", "dir",
				       sec->dir, "file", e->d_name, "error", strerror(errno), NULL);
		closedir(d);
	}
	if (sec->dir && rmdir(sec->dir) < 0 && errno != ENOENT)
		md_log(MD_LOG_ERROR, "cannot remove the secrets directory", "dir", sec->dir, "error",
		       strerror(errno), NULL);
	free(sec->dir);
	sec->dir = NULL;
	md_strv_clear(&sec->files);
}

/* "stack-" and mkdtemp's six characters. */
static int is_secrets_dir_name(const char *name)
{
	const char *p = name + strlen(SECRETS_DIR_PREFIX);

	if (!md_str_has_prefix(name, SECRETS_DIR_PREFIX) || strlen(p) != 6)
		return 0;
	for (; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
			return 0;
	return 1;
}

int md_rollout_clear_stale_secrets(const char *runtime_dir, struct md_strv *removed,
			      struct md_err *err)
{
	DIR *d = opendir(runtime_dir);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return errno == ENOENT ? 0 : md_err_set(err, "cannot read MD_RUNTIME_DIR %s: %s",
							  runtime_dir, strerror(errno));
	while (rc == 0 && (e = readdir(d))) {
		struct stat st;
		char *path;

		/* only our own private directories, never anything else there */
		if (!is_secrets_dir_name(e->d_name) ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
			continue;
		if (!(path = md_asprintf("%s/%s", runtime_dir, e->d_name))) {
			rc = md_err_set(err, "out of memory");
			break;
		}
		rc = md_remove_tree(path, err);
		if (rc == 0 && md_strv_push(removed, path) < 0)
			rc = md_err_set(err, "out of memory");
		free(path);
	}
	closedir(d);
	return rc;
}

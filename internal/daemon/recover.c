/* Crash safety on start: what a process killed half-way leaves behind,
 * cleared under the instance lock (md_daemon_recover: an unfinished clone,
 * stale git lock files, decrypted secrets, temp files of the state). What a
 * cycle left in the work tree is cleared by each cycle
 * (md_publish_recover_worktree). */
#include "magos/daemon.h"
#include "magos/gitops.h"
#include "magos/rollout.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "magos/obs.h"
#include "magos/state.h"

static void log_removed(const char *msg, const struct md_strv *removed)
{
	for (size_t i = 0; i < removed->n; i++)
		md_log(MD_LOG_WARN, msg, "path", removed->v[i], NULL);
}

/* state.json / intent.json temp files of a write cut short. */
static int clear_state_tmp(const char *dir, struct md_strv *removed, struct md_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = 0;

	if (!d)
		return errno == ENOENT ? 0 : md_err_set(err, "cannot read MD_STATE_DIR %s: %s", dir,
							  strerror(errno));
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if ((!md_str_has_prefix(de->d_name, "state.json" MD_FILE_TMP_INFIX) &&
		     !md_str_has_prefix(de->d_name, "intent.json" MD_FILE_TMP_INFIX)) ||
		    !md_file_is_atomic_tmp(de->d_name))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
			rc = md_err_set(err, "cannot remove %s/%s: %s", dir, de->d_name,
					strerror(errno));
		else if (md_strv_push(removed, de->d_name) < 0)
			rc = md_err_set(err, "out of memory");
	}
	closedir(d);
	return rc;
}

int md_daemon_recover(const struct md_config *cfg, struct md_err *err)
{
	const struct md_settings *s = md_config_settings(cfg);
	struct md_strv clones = { 0 }, locks = { 0 }, secrets = { 0 }, tmp = { 0 };
	int rc = -1;

	if (md_git_clear_clone_leftovers(s->repo, &clones, err) < 0 ||
	    md_git_clear_stale_locks(s->repo, &locks, err) < 0 ||
	    md_rollout_clear_stale_secrets(s->runtime_dir, &secrets, err) < 0 ||
	    clear_state_tmp(s->state_dir, &tmp, err) < 0)
		goto out;
	rc = 0;
out:
	log_removed("removed an unfinished clone left by an earlier run", &clones);
	log_removed("removed a stale git lock file left by an earlier run", &locks);
	log_removed("removed decrypted secrets left by an earlier run", &secrets);
	log_removed("removed a temporary state file left by an earlier run", &tmp);
	md_strv_clear(&clones);
	md_strv_clear(&locks);
	md_strv_clear(&secrets);
	md_strv_clear(&tmp);
	return rc;
}

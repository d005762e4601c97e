/* config unit tests: shared fixture. A scratch directory with the .env
 * file every test writes, and loaders that expect success or one exact
 * error sentence. Everything is static, so each test_config*.c gets its
 * own copy; unused ones are marked to keep -Wunused-function quiet. */
#ifndef MAGOS_CONFIG_FIXTURE_H
#define MAGOS_CONFIG_FIXTURE_H

#include "unit.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "magos/config.h"

static char tmpdir[64];
static char envpath[128]; /* the .env file every test writes */

__attribute__((unused)) static int group_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/md-test-config-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(envpath, sizeof(envpath), "%s/magos.env", tmpdir);
	return 0;
}

__attribute__((unused)) static int group_teardown(void **state)
{
	char p[160];

	(void)state;
	unlink(envpath);
	snprintf(p, sizeof(p), "%s/ca.pem", tmpdir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/dir", tmpdir);
	rmdir(p);
	return rmdir(tmpdir);
}

__attribute__((unused)) static void write_env(const char *text, size_t len)
{
	FILE *f = fopen(envpath, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Load `text` as the file with `envp`; expect success. */
__attribute__((unused)) static struct md_config *load_ok(const char *text, char *const *envp)
{
	struct md_config *cfg = NULL;
	struct md_err err = { { 0 } };

	write_env(text, strlen(text));
	if (md_config_load(&cfg, envpath, envp, &err) != 0)
		fail_msg("unexpected error: %s", err.msg);
	assert_non_null(cfg);
	return cfg;
}

/* Load and expect exactly `want` (with "@" standing for the file's path). */
__attribute__((unused)) static void load_fails(const char *text, char *const *envp, const char *want)
{
	struct md_config *cfg = (struct md_config *)&cfg;
	struct md_err err = { { 0 } };
	char expect[MD_ERR_MAX];
	const char *at = strchr(want, '@');

	write_env(text, strlen(text));
	assert_int_equal(md_config_load(&cfg, envpath, envp, &err), -1);
	assert_null(cfg);
	if (at)
		snprintf(expect, sizeof(expect), "%.*s%s%s", (int)(at - want), want, envpath,
			 at + 1);
	else
		snprintf(expect, sizeof(expect), "%s", want);
	if (strcmp(err.msg, expect) != 0)
		fail_msg("\n got  %s\n want %s", err.msg, expect);
}

#define REPO "MD_REPO=/srv/gitops\n"

#endif

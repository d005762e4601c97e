#include "unit.h"
#include "magos/config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[64];
static char envpath[128]; /* the .env file every test writes */

static int group_setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/md-test-config-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(envpath, sizeof(envpath), "%s/magos.env", tmpdir);
	return 0;
}

static int group_teardown(void **state)
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

static void write_env(const char *text, size_t len)
{
	FILE *f = fopen(envpath, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Load `text` as the file with `envp`; expect success. */
static struct md_config *load_ok(const char *text, char *const *envp)
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
static void load_fails(const char *text, char *const *envp, const char *want)
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

/* ---- syntax ------------------------------------------------------------- */

static void test_defaults(void **state)
{
	struct md_config *cfg;
	const struct md_settings *s;

	(void)state;
	cfg = load_ok(REPO, NULL);
	s = md_config_settings(cfg);
	assert_string_equal(s->repo, "/srv/gitops");
	assert_null(s->git_url);
	assert_string_equal(s->branch, "main");
	assert_int_equal(s->interval, 300);
	assert_string_equal(s->state_dir, "/var/lib/magos-dominus");
	assert_int_equal(s->compose_globs.n, 4);
	assert_string_equal(s->compose_globs.v[0], "**/compose.yaml");
	assert_string_equal(s->compose_globs.v[3], "**/docker-compose.yml");
	assert_null(s->compose_globs.v[4]);
	assert_string_equal(s->git_author_name, "magos-dominus");
	assert_string_equal(s->git_author_email, "magos-dominus@localhost");
	assert_string_equal(s->commit_template,
			    "magos-dominus: update {count} image(s)\n\n{changes}");
	assert_int_equal(s->insecure_registries.n, 0);
	assert_null(s->ca_file);
	assert_null(s->registry_auth_file);
	assert_int_equal(s->registry_timeout, 30);
	assert_int_equal(s->registry_page_size, 1000);
	assert_int_equal(s->registry_concurrency, 4);
	assert_int_equal(s->push_retries, 3);
	assert_int_equal(s->log_format, MD_LOG_AUTO);
	assert_int_equal(s->log_level, MD_LOG_INFO);
	assert_string_equal(md_config_origin(cfg, "MD_INTERVAL"), "default");
	md_config_free(cfg);
	md_config_free(NULL);
}

static void test_keys_table(void **state)
{
	static const char *const want[] = {
		"MD_REPO", "MD_GIT_URL", "MD_BRANCH", "MD_INTERVAL", "MD_STATE_DIR",
		"MD_COMPOSE_GLOBS", "MD_GIT_AUTHOR", "MD_COMMIT_TEMPLATE",
		"MD_INSECURE_REGISTRIES", "MD_CA_FILE", "MD_REGISTRY_AUTH_FILE",
		"MD_REGISTRY_TIMEOUT", "MD_REGISTRY_CONNECT_TIMEOUT", "MD_REGISTRY_PAGE_SIZE",
		"MD_REGISTRY_CONCURRENCY", "MD_PUSH_RETRIES",
		"MD_LOG_FORMAT", "MD_LOG_LEVEL", "MD_JOURNAL_SOCKET",
		"MD_GITHUB_APP_ID", "MD_GITHUB_APP_KEY_FILE", "MD_GITHUB_INSTALLATION_ID",
		"MD_GITHUB_API_URL", "MD_MODE", "MD_COMMIT_VIA_API", "MD_LISTEN", "MD_APPLY",
		"MD_COMPOSE_CMD", "MD_STACKS", "MD_HEALTH_TIMEOUT", "MD_COMPOSE_TIMEOUT",
		"MD_AGE_KEY_FILE", "MD_RUNTIME_DIR",
	};
	const struct md_config_key *k = md_config_keys();
	size_t n = 0;

	(void)state;
	for (; k[n].key; n++) {
		assert_true(n < sizeof(want) / sizeof(want[0]));
		assert_string_equal(k[n].key, want[n]);
		assert_non_null(k[n].help);
		assert_true(strlen(k[n].help) > 10);
		assert_null(strchr(k[n].help, '\n'));
	}
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	assert_null(k[0].def);
	assert_string_equal(k[0].help, "path of the agent's clone of the GitOps repository");
	assert_string_equal(k[2].def, "main");
	assert_string_equal(k[3].def, "5m");
	assert_string_equal(k[6].def, "magos-dominus <magos-dominus@localhost>");
	assert_string_equal(k[7].def, "magos-dominus: update {count} image(s)\n\n{changes}");
	assert_null(k[9].def);
	assert_string_equal(k[12].def, "10s");
	assert_string_equal(k[13].def, "1000");
	assert_string_equal(k[14].def, "4");
	assert_string_equal(k[16].def, "auto");
}

static void test_quoting(void **state)
{
	struct md_config *cfg;

	(void)state;
	cfg = load_ok(REPO "A=  plain value  \n"
			   "B='single \\n $HOME \"x\" # y'\n"
			   "C=\"dq \\\" \\\\ \\n \\t \\$ \\q\"\n"
			   "D=\"  kept  \"   \n"
			   "E=''\n"
			   "F=a'b'c\n"
			   "G=x\\ \n"
			   "H=\n",
		      NULL);
	assert_string_equal(md_config_lookup(cfg, "A"), "plain value");
	assert_string_equal(md_config_lookup(cfg, "B"), "single \\n $HOME \"x\" # y");
	assert_string_equal(md_config_lookup(cfg, "C"), "dq \" \\ \n \t $ \\q");
	assert_string_equal(md_config_lookup(cfg, "D"), "  kept  ");
	assert_string_equal(md_config_lookup(cfg, "E"), "");
	assert_string_equal(md_config_lookup(cfg, "F"), "a'b'c");
	/* an escaped blank survives trimming */
	assert_string_equal(md_config_lookup(cfg, "G"), "x ");
	assert_string_equal(md_config_lookup(cfg, "H"), "");
	md_config_free(cfg);
}

static void test_export_and_comments(void **state)
{
	struct md_config *cfg;

	(void)state;
	cfg = load_ok("# a comment\n"
		      "   ; another\n"
		      "\n"
		      "\t\n"
		      "export MD_REPO=/srv/r\n"
		      "export\tMD_BRANCH = prod\n"
		      "URL=http://x/#frag  # not a comment\n"
		      "export=1\n"
		      "  # MD_TYPO=ignored in a comment\n",
		      NULL);
	assert_string_equal(md_config_settings(cfg)->repo, "/srv/r");
	assert_string_equal(md_config_settings(cfg)->branch, "prod");
	assert_string_equal(md_config_lookup(cfg, "URL"), "http://x/#frag  # not a comment");
	assert_string_equal(md_config_lookup(cfg, "export"), "1");
	assert_string_equal(md_config_origin(cfg, "MD_BRANCH") + strlen(envpath), ":6");
	md_config_free(cfg);
}

static void test_continuation(void **state)
{
	struct md_config *cfg;

	(void)state;
	cfg = load_ok("MD_COMPOSE_GLOBS=a/compose.yaml \\\n"
		      "  b/compose.yaml,\\\n"
		      "c/compose.yml\n" REPO "X=\\\nnext\n",
		      NULL);
	assert_int_equal(md_config_settings(cfg)->compose_globs.n, 3);
	assert_string_equal(md_config_settings(cfg)->compose_globs.v[1], "b/compose.yaml");
	assert_string_equal(md_config_lookup(cfg, "MD_COMPOSE_GLOBS"),
			    "a/compose.yaml   b/compose.yaml,c/compose.yml");
	assert_string_equal(md_config_lookup(cfg, "X"), "next");
	/* the key's line is where it started; later lines count the joined ones */
	assert_string_equal(md_config_origin(cfg, "MD_COMPOSE_GLOBS") + strlen(envpath), ":1");
	assert_string_equal(md_config_origin(cfg, "MD_REPO") + strlen(envpath), ":4");
	assert_string_equal(md_config_origin(cfg, "X") + strlen(envpath), ":5");
	md_config_free(cfg);
}

static void test_crlf(void **state)
{
	struct md_config *cfg;

	(void)state;
	cfg = load_ok("# windows\r\nMD_REPO=/srv/gitops\r\nA=x  \r\nB=\"q\"\r\nC='s'  \r\n"
		      "D=one\\\r\ntwo\r\n",
		      NULL);
	assert_string_equal(md_config_settings(cfg)->repo, "/srv/gitops");
	assert_string_equal(md_config_lookup(cfg, "A"), "x");
	assert_string_equal(md_config_lookup(cfg, "B"), "q");
	assert_string_equal(md_config_lookup(cfg, "C"), "s");
	assert_string_equal(md_config_lookup(cfg, "D"), "onetwo");
	md_config_free(cfg);
	load_fails("MD_REPO=/srv\r\n\r\nMD_INTERVAL=0s\r\n", NULL,
		   "@:3: MD_INTERVAL: '0s' is too short (minimum 1s)");
}

static void test_last_wins(void **state)
{
	struct md_config *cfg;

	(void)state;
	cfg = load_ok(REPO "MD_INTERVAL=1m\nMD_INTERVAL=2m\n", NULL);
	assert_int_equal(md_config_settings(cfg)->interval, 120);
	assert_string_equal(md_config_origin(cfg, "MD_INTERVAL") + strlen(envpath), ":3");
	md_config_free(cfg);
}

static void test_syntax_errors(void **state)
{
	(void)state;
	load_fails(REPO "just words\n", NULL, "@:2: expected KEY=VALUE (no '=' on this line)");
	load_fails(REPO "=x\n", NULL, "@:2: missing key before '='");
	load_fails("1KEY=x\n", NULL,
		   "@:1: invalid key '1KEY' (a key is letters, digits and '_', not starting "
		   "with a digit)");
	load_fails("A-B=x\n", NULL,
		   "@:1: invalid key 'A-B' (a key is letters, digits and '_', not starting "
		   "with a digit)");
	load_fails(REPO "\nA='open\n", NULL, "@:3: A: unterminated single-quoted value");
	load_fails("A=\"open\\\"\nB=1\n", NULL, "@:1: A: unterminated double-quoted value");
	load_fails("A=\"x\" # note\n", NULL, "@:1: A: unexpected text after the closing quote");
	load_fails("A='x'y\n", NULL, "@:1: A: unexpected text after the closing quote");
}

static void test_file_limits(void **state)
{
	struct md_config *cfg = NULL;
	struct md_err err;
	char *big = malloc(2 * 1024 * 1024), want[MD_ERR_MAX];

	(void)state;
	/* a 64 KiB + 1 line */
	memset(big, 'x', 70000);
	memcpy(big, "MD_REPO=/srv\nA=", 15);
	big[13 + 65537] = '\n'; /* line 2 starts at offset 13 */
	write_env(big, 13 + 65538);
	assert_int_equal(md_config_load(&cfg, envpath, NULL, &err), -1);
	snprintf(want, sizeof(want), "%s:2: line longer than 65536 bytes", envpath);
	assert_string_equal(err.msg, want);
	/* NUL bytes */
	write_env("MD_REPO=/srv\nA=x\0y\n", 19);
	assert_int_equal(md_config_load(&cfg, envpath, NULL, &err), -1);
	snprintf(want, sizeof(want), "%s:2: NUL byte in the file", envpath);
	assert_string_equal(err.msg, want);
	/* over 1 MiB */
	memset(big, '#', 2 * 1024 * 1024);
	write_env(big, 1024 * 1024 + 1);
	assert_int_equal(md_config_load(&cfg, envpath, NULL, &err), -1);
	snprintf(want, sizeof(want), "%s is larger than 1048576 bytes", envpath);
	assert_string_equal(err.msg, want);
	free(big);
	/* missing file */
	assert_int_equal(md_config_load(&cfg, "/nonexistent/magos.env", NULL, &err), -1);
	assert_string_equal(err.msg,
			    "cannot open /nonexistent/magos.env: No such file or directory");
	assert_null(cfg);
}

/* A logical line built from continuations is capped like a physical one. */
static void test_value_cap(void **state)
{
	size_t n = 0, chunk = 60000;
	char *big = malloc(3 * chunk + 64);

	(void)state;
	n += (size_t)sprintf(big, "MD_REPO=/srv\nA=");
	for (int i = 0; i < 2; i++) {
		memset(big + n, 'v', chunk);
		n += chunk;
		memcpy(big + n, "\\\n", 2);
		n += 2;
	}
	big[n++] = '\n';
	big[n] = '\0';
	load_fails(big, NULL, "@:2: A: value longer than 65536 bytes");
	free(big);
	load_fails("A=1\nB\x01C=2\n", NULL, "@:2: invalid key (control characters before '=')");
}

/* ---- environment -------------------------------------------------------- */

static void test_env_overrides(void **state)
{
	char *envp[] = { "PATH=/usr/bin", "MD_INTERVAL=1h", "SOPS_AGE_KEY_FILE=/env/key",
			 "NOEQUALS", "MD_INTERVAL=2h", NULL };
	struct md_config *cfg;

	(void)state;
	cfg = load_ok(REPO "MD_INTERVAL=1m\nSOPS_AGE_KEY_FILE=/file/key\nOTHER=o\n", envp);
	assert_int_equal(md_config_settings(cfg)->interval, 3600);
	assert_string_equal(md_config_origin(cfg, "MD_INTERVAL"), "environment");
	assert_string_equal(md_config_origin(cfg, "MD_REPO") + strlen(envpath), ":1");
	assert_string_equal(md_config_lookup(cfg, "SOPS_AGE_KEY_FILE"), "/env/key");
	assert_string_equal(md_config_origin(cfg, "SOPS_AGE_KEY_FILE"), "environment");
	assert_string_equal(md_config_lookup(cfg, "OTHER"), "o");
	assert_string_equal(md_config_lookup(cfg, "PATH"), "/usr/bin");
	assert_string_equal(md_config_lookup(cfg, "MD_INTERVAL"), "1h");
	assert_null(md_config_lookup(cfg, "NOEQUALS"));
	assert_null(md_config_lookup(cfg, "UNSET"));
	assert_string_equal(md_config_origin(cfg, "UNSET"), "default");
	md_config_free(cfg);
}

static void test_env_only(void **state)
{
	char *envp[] = { "MD_REPO=/srv/x", "MD_LOG_FORMAT=json", "MD_LOG_LEVEL=debug", NULL };
	char *none[] = { "HOME=/root", NULL };
	struct md_config *cfg = NULL;
	struct md_err err;

	(void)state;
	assert_int_equal(md_config_load(&cfg, NULL, envp, &err), 0);
	assert_string_equal(md_config_settings(cfg)->repo, "/srv/x");
	assert_int_equal(md_config_settings(cfg)->log_format, MD_LOG_JSON);
	assert_int_equal(md_config_settings(cfg)->log_level, MD_LOG_DEBUG);
	assert_string_equal(md_config_origin(cfg, "MD_REPO"), "environment");
	md_config_free(cfg);
	assert_int_equal(md_config_load(&cfg, NULL, none, &err), -1);
	assert_string_equal(err.msg, "MD_REPO is required (path of the agent's clone of the "
				     "GitOps repository)");
	assert_int_equal(md_config_load(&cfg, NULL, NULL, &err), -1);
	assert_null(cfg);
}

static void test_empty_means_unset(void **state)
{
	char *envp[] = { "MD_INTERVAL=", NULL };
	struct md_config *cfg;

	(void)state;
	/* an empty value in the environment unsets the file's value */
	cfg = load_ok(REPO "MD_INTERVAL=1m\nMD_CA_FILE=\nMD_BRANCH=\n", envp);
	assert_int_equal(md_config_settings(cfg)->interval, 300);
	assert_null(md_config_settings(cfg)->ca_file);
	assert_string_equal(md_config_settings(cfg)->branch, "main");
	assert_string_equal(md_config_origin(cfg, "MD_INTERVAL"), "default");
	assert_string_equal(md_config_origin(cfg, "MD_CA_FILE"), "default");
	md_config_free(cfg);
	load_fails("MD_REPO=\n", NULL,
		   "MD_REPO is required (path of the agent's clone of the GitOps repository)");
}

static void test_unknown_keys(void **state)
{
	char *env_typo[] = { "MD_LOG_LEVELL=info", NULL };
	char *env_near[] = { "MD_FOO=1", NULL };
	char *env_far[] = { "MD_WEBHOOK_SECRET_FILE=/x", NULL };
	char *env_lower[] = { "md_whatever=1", NULL };
	struct md_config *cfg;

	(void)state;
	load_fails("MD_REPO=/x\n\nMD_INTERVALL=5m\n", NULL,
		   "@:3: unknown key MD_INTERVALL (did you mean MD_INTERVAL?)");
	load_fails("MD_REPO=/x\nmd_interval=5m\n", NULL,
		   "@:2: unknown key md_interval (did you mean MD_INTERVAL?)");
	load_fails("MD_REPO=/x\nMD_BRNCH=dev\n", NULL,
		   "@:2: unknown key MD_BRNCH (did you mean MD_BRANCH?)");
	load_fails("MD_REPO=/x\nMD_COMPLETELY_DIFFERENT=1\n", NULL,
		   "@:2: unknown key MD_COMPLETELY_DIFFERENT (not a magos-dominus setting; the "
		   "README lists them all)");
	load_fails(REPO, env_typo,
		   "environment: unknown key MD_LOG_LEVELL (did you mean MD_LOG_LEVEL?)");
	/* edit distance 3 still earns a suggestion */
	load_fails(REPO, env_near, "environment: unknown key MD_FOO (did you mean MD_REPO?)");
	load_fails(REPO, env_far,
		   "environment: unknown key MD_WEBHOOK_SECRET_FILE (not a magos-dominus setting; "
		   "the README lists them all)");
	/* the environment is shared: only the exact MD_ prefix is ours there */
	cfg = load_ok(REPO, env_lower);
	md_config_free(cfg);
}

/* ---- validation --------------------------------------------------------- */

static void test_repo_and_state_dir(void **state)
{
	struct md_config *cfg;

	(void)state;
	load_fails("MD_REPO=srv/gitops\n", NULL, "@:1: MD_REPO: 'srv/gitops' is not an absolute path");
	load_fails(REPO "MD_STATE_DIR=./state\n", NULL,
		   "@:2: MD_STATE_DIR: './state' is not an absolute path");
	cfg = load_ok(REPO "MD_STATE_DIR=/var/tmp/md\nMD_GIT_URL=https://git.lan/o/r.git\n"
			   "MD_REGISTRY_AUTH_FILE=relative/auth.json\n",
		      NULL);
	assert_string_equal(md_config_settings(cfg)->state_dir, "/var/tmp/md");
	assert_string_equal(md_config_settings(cfg)->git_url, "https://git.lan/o/r.git");
	assert_string_equal(md_config_settings(cfg)->registry_auth_file, "relative/auth.json");
	md_config_free(cfg);
}

static void test_branch(void **state)
{
	struct md_config *cfg;

	(void)state;
	cfg = load_ok(REPO "MD_BRANCH=release/v1.2\n", NULL);
	assert_string_equal(md_config_settings(cfg)->branch, "release/v1.2");
	md_config_free(cfg);
	load_fails(REPO "MD_BRANCH=\"my branch\"\n", NULL,
		   "@:2: MD_BRANCH: invalid branch name 'my branch' (contains a space or a "
		   "control character)");
	load_fails(REPO "MD_BRANCH=a..b\n", NULL,
		   "@:2: MD_BRANCH: invalid branch name 'a..b' (contains '..')");
	load_fails(REPO "MD_BRANCH=-x\n", NULL,
		   "@:2: MD_BRANCH: invalid branch name '-x' (starts with '-')");
	load_fails(REPO "MD_BRANCH=a:b\n", NULL,
		   "@:2: MD_BRANCH: invalid branch name 'a:b' (contains one of ~ ^ : ? * [ \\)");
	load_fails(REPO "MD_BRANCH=x.lock\n", NULL,
		   "@:2: MD_BRANCH: invalid branch name 'x.lock' (ends with '.' or '.lock')");
	load_fails(REPO "MD_BRANCH=a//b\n", NULL,
		   "@:2: MD_BRANCH: invalid branch name 'a//b' (has an empty path component)");
	load_fails(REPO "MD_BRANCH=\"a\\tb\"\n", NULL,
		   "@:2: MD_BRANCH: the value contains a control character");
}

static void test_durations(void **state)
{
	char *envp[] = { "MD_REGISTRY_TIMEOUT=0", NULL };
	struct md_config *cfg;

	(void)state;
	load_fails("MD_REPO=/srv\nA=1\nB=2\n\n\n\nMD_INTERVAL=fivemin\n", NULL,
		   "@:7: MD_INTERVAL: invalid duration 'fivemin' (expected a number and a unit "
		   "ms/s/m/h/d/w, e.g. 90s, 5m, 1h30m)");
	load_fails(REPO "MD_INTERVAL=0s\n", NULL,
		   "@:2: MD_INTERVAL: '0s' is too short (minimum 1s)");
	load_fails(REPO, envp, "environment: MD_REGISTRY_TIMEOUT: '0' is too short (minimum 1s)");
	cfg = load_ok(REPO "MD_INTERVAL=10s\nMD_REGISTRY_TIMEOUT=1m30s\n", NULL);
	assert_int_equal(md_config_settings(cfg)->interval, 10);
	assert_int_equal(md_config_settings(cfg)->registry_timeout, 90);
	assert_int_equal(md_config_settings(cfg)->registry_connect_timeout, 10);
	md_config_free(cfg);
	cfg = load_ok(REPO "MD_REGISTRY_CONNECT_TIMEOUT=3s\n", NULL);
	assert_int_equal(md_config_settings(cfg)->registry_connect_timeout, 3);
	md_config_free(cfg);
	load_fails(REPO "MD_REGISTRY_CONNECT_TIMEOUT=0s\n", NULL,
		   "@:2: MD_REGISTRY_CONNECT_TIMEOUT: '0s' is too short (minimum 1s)");
}

static void test_integers(void **state)
{
	struct md_config *cfg;

	(void)state;
	cfg = load_ok(REPO "MD_REGISTRY_PAGE_SIZE=10000\nMD_PUSH_RETRIES=0\n", NULL);
	assert_int_equal(md_config_settings(cfg)->registry_page_size, 10000);
	assert_int_equal(md_config_settings(cfg)->push_retries, 0);
	md_config_free(cfg);
	load_fails(REPO "MD_REGISTRY_PAGE_SIZE=0\n", NULL,
		   "@:2: MD_REGISTRY_PAGE_SIZE: 0 is out of range (1..10000)");
	load_fails(REPO "MD_REGISTRY_PAGE_SIZE=10001\n", NULL,
		   "@:2: MD_REGISTRY_PAGE_SIZE: 10001 is out of range (1..10000)");
	cfg = load_ok(REPO "MD_REGISTRY_CONCURRENCY=32\n", NULL);
	assert_int_equal(md_config_settings(cfg)->registry_concurrency, 32);
	md_config_free(cfg);
	load_fails(REPO "MD_REGISTRY_CONCURRENCY=0\n", NULL,
		   "@:2: MD_REGISTRY_CONCURRENCY: 0 is out of range (1..32)");
	load_fails(REPO "MD_REGISTRY_CONCURRENCY=33\n", NULL,
		   "@:2: MD_REGISTRY_CONCURRENCY: 33 is out of range (1..32)");
	load_fails(REPO "MD_PUSH_RETRIES=21\n", NULL,
		   "@:2: MD_PUSH_RETRIES: 21 is out of range (0..20)");
	load_fails(REPO "MD_PUSH_RETRIES=-1\n", NULL,
		   "@:2: MD_PUSH_RETRIES: -1 is out of range (0..20)");
	load_fails(REPO "MD_PUSH_RETRIES=three\n", NULL,
		   "@:2: MD_PUSH_RETRIES: 'three' is not an integer");
	load_fails(REPO "MD_PUSH_RETRIES=3x\n", NULL,
		   "@:2: MD_PUSH_RETRIES: '3x' is not an integer");
	load_fails(REPO "MD_PUSH_RETRIES=99999999999999999999\n", NULL,
		   "@:2: MD_PUSH_RETRIES: 99999999999999999999 is out of range (0..20)");
}

static void test_lists(void **state)
{
	struct md_config *cfg;
	const struct md_settings *s;

	(void)state;
	cfg = load_ok(REPO "MD_COMPOSE_GLOBS=\"stacks/*/compose.yaml, apps/**/*.yml\"\n"
			   "MD_INSECURE_REGISTRIES=registry.lan:5000,127.0.0.1:5000 [::1]:5000 "
			   "localhost\n",
		      NULL);
	s = md_config_settings(cfg);
	assert_int_equal(s->compose_globs.n, 2);
	assert_string_equal(s->compose_globs.v[0], "stacks/*/compose.yaml");
	assert_string_equal(s->compose_globs.v[1], "apps/**/*.yml");
	assert_int_equal(s->insecure_registries.n, 4);
	assert_string_equal(s->insecure_registries.v[2], "[::1]:5000");
	assert_true(md_strv_contains(&s->insecure_registries, "localhost"));
	md_config_free(cfg);
	load_fails(REPO "MD_COMPOSE_GLOBS=\" , ,\"\n", NULL, "@:2: MD_COMPOSE_GLOBS: no globs given");
	load_fails(REPO "MD_INSECURE_REGISTRIES=ok.lan http://bad.lan\n", NULL,
		   "@:2: MD_INSECURE_REGISTRIES: invalid registry 'http://bad.lan' (expected "
		   "host[:port], e.g. registry.lan:5000)");
	load_fails(REPO "MD_INSECURE_REGISTRIES=host:99999\n", NULL,
		   "@:2: MD_INSECURE_REGISTRIES: invalid registry 'host:99999' (expected "
		   "host[:port], e.g. registry.lan:5000)");
	load_fails(REPO "MD_INSECURE_REGISTRIES=-bad.lan\n", NULL,
		   "@:2: MD_INSECURE_REGISTRIES: invalid registry '-bad.lan' (expected "
		   "host[:port], e.g. registry.lan:5000)");
}

static void test_author_and_template(void **state)
{
	struct md_config *cfg;
	const struct md_settings *s;

	(void)state;
	cfg = load_ok(REPO "MD_GIT_AUTHOR=\"Homelab Bot <bot@home.lan>\"\n"
			   "MD_COMMIT_TEMPLATE=\"chore: {images}\\n\\n{changes}\\n{\\\"json\\\": 1} "
			   "{count}\"\n",
		      NULL);
	s = md_config_settings(cfg);
	assert_string_equal(s->git_author_name, "Homelab Bot");
	assert_string_equal(s->git_author_email, "bot@home.lan");
	assert_string_equal(s->commit_template, "chore: {images}\n\n{changes}\n{\"json\": 1} {count}");
	md_config_free(cfg);
	load_fails(REPO "MD_GIT_AUTHOR=bot@home.lan\n", NULL,
		   "@:2: MD_GIT_AUTHOR: invalid author 'bot@home.lan' (expected 'Name <email>')");
	load_fails(REPO "MD_COMMIT_TEMPLATE=update {cnt} images\n", NULL,
		   "@:2: MD_COMMIT_TEMPLATE: unknown placeholder {cnt} (allowed: {count}, "
		   "{images}, {changes})");
	load_fails(REPO "MD_COMMIT_TEMPLATE=\"  \\n \"\n", NULL,
		   "@:2: MD_COMMIT_TEMPLATE: the commit message template is blank");
}

static void test_ca_file(void **state)
{
	char ca[160], dir[160], text[400], want[600];
	struct md_config *cfg;
	FILE *f;

	(void)state;
	snprintf(ca, sizeof(ca), "%s/ca.pem", tmpdir);
	snprintf(dir, sizeof(dir), "%s/dir", tmpdir);
	f = fopen(ca, "w");
	assert_non_null(f);
	fputs("-----BEGIN CERTIFICATE-----\n", f);
	fclose(f);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(text, sizeof(text), REPO "MD_CA_FILE=%s\n", ca);
	cfg = load_ok(text, NULL);
	assert_string_equal(md_config_settings(cfg)->ca_file, ca);
	md_config_free(cfg);
	snprintf(text, sizeof(text), REPO "MD_CA_FILE=%s/missing.pem\n", tmpdir);
	snprintf(want, sizeof(want),
		 "@:2: MD_CA_FILE: cannot read %s/missing.pem: No such file or directory", tmpdir);
	load_fails(text, NULL, want);
	snprintf(text, sizeof(text), REPO "MD_CA_FILE=%s\n", dir);
	snprintf(want, sizeof(want), "@:2: MD_CA_FILE: %s is a directory, not a file", dir);
	load_fails(text, NULL, want);
	load_fails(REPO "MD_CA_FILE=/dev/null\n", NULL,
		   "@:2: MD_CA_FILE: /dev/null is not a regular file");
}

static void test_log_settings(void **state)
{
	char *envp[] = { "MD_LOG_LEVEL=warn", NULL };
	struct md_config *cfg;

	(void)state;
	cfg = load_ok(REPO "MD_LOG_FORMAT=json\nMD_LOG_LEVEL=error\n", envp);
	assert_int_equal(md_config_settings(cfg)->log_format, MD_LOG_JSON);
	assert_int_equal(md_config_settings(cfg)->log_level, MD_LOG_WARN);
	md_config_free(cfg);
	load_fails(REPO "MD_LOG_FORMAT=xml\n", NULL,
		   "@:2: MD_LOG_FORMAT: invalid value 'xml' (valid: auto, text, json, journal)");
	load_fails(REPO "MD_LOG_LEVEL=INFO\n", NULL,
		   "@:2: MD_LOG_LEVEL: invalid value 'INFO' (valid: debug, info, warn, error)");
}

/* ---- keys of the GitHub App, the daemon endpoints and the applier -------- */

static void test_github_keys(void **state)
{
	char keypath[PATH_MAX];
	struct md_config *cfg;
	char *text;
	FILE *f;

	(void)state;
	snprintf(keypath, sizeof(keypath), "%s.key", envpath);
	f = fopen(keypath, "w");
	assert_non_null(f);
	fputs("-----BEGIN RSA PRIVATE KEY-----\n", f);
	fclose(f);
	chmod(keypath, 0644);
	text = md_asprintf(REPO "MD_GITHUB_APP_ID=123\nMD_GITHUB_APP_KEY_FILE=%s\n", keypath);
	{
		struct md_err err = { { 0 } };

		write_env(text, strlen(text));
		assert_int_equal(md_config_load(&cfg, envpath, NULL, &err), -1);
		assert_non_null(strstr(err.msg, "MD_GITHUB_APP_KEY_FILE"));
		assert_non_null(strstr(err.msg, "(mode 0644)"));
		assert_non_null(strstr(err.msg, "run `chmod 600 "));
	}
	chmod(keypath, 0600);
	cfg = load_ok(text, NULL);
	assert_string_equal(md_config_settings(cfg)->github_app_id, "123");
	assert_string_equal(md_config_settings(cfg)->github_api_url, "https://api.github.com");
	assert_int_equal(md_config_settings(cfg)->mode, MD_MODE_PUSH);
	assert_null(md_config_settings(cfg)->github_installation_id);
	md_config_free(cfg);
	free(text);
	text = md_asprintf(REPO "MD_GITHUB_APP_ID=Iv1.abc\nMD_GITHUB_APP_KEY_FILE=%s\n"
			   "MD_MODE=pr\nMD_GITHUB_API_URL=https://ghe.lan/api/v3/\n"
			   "MD_GITHUB_INSTALLATION_ID=42\nMD_COMMIT_VIA_API=yes\n", keypath);
	cfg = load_ok(text, NULL);
	assert_int_equal(md_config_settings(cfg)->mode, MD_MODE_PR);
	assert_string_equal(md_config_settings(cfg)->github_api_url, "https://ghe.lan/api/v3");
	assert_string_equal(md_config_settings(cfg)->github_installation_id, "42");
	assert_int_equal(md_config_settings(cfg)->commit_via_api, 1);
	md_config_free(cfg);
	free(text);
	unlink(keypath);
	load_fails(REPO "MD_MODE=pr\n", NULL,
		   "@:2: MD_MODE=pr opens pull requests through the GitHub API and needs "
		   "MD_GITHUB_APP_ID and MD_GITHUB_APP_KEY_FILE");
	load_fails(REPO "MD_GITHUB_APP_ID=1\n", NULL,
		   "MD_GITHUB_APP_ID is set but MD_GITHUB_APP_KEY_FILE is not: a GitHub App needs "
		   "both");
	load_fails(REPO "MD_MODE=merge\n", NULL,
		   "@:2: MD_MODE: invalid value 'merge' (valid: push, pr)");
	load_fails(REPO "MD_GITHUB_API_URL=api.github.com\n", NULL,
		   "@:2: MD_GITHUB_API_URL: 'api.github.com' is not an http:// or https:// URL");
	load_fails(REPO "MD_GITHUB_INSTALLATION_ID=12x\n", NULL,
		   "@:2: MD_GITHUB_INSTALLATION_ID: '12x' is not a positive number");
	load_fails(REPO "MD_COMMIT_VIA_API=maybe\n", NULL,
		   "@:2: MD_COMMIT_VIA_API: 'maybe' is not a boolean (true/false, yes/no, on/off, "
		   "1/0)");
}

static void test_daemon_and_applier_keys(void **state)
{
	struct md_config *cfg;
	const struct md_settings *s;

	(void)state;
	cfg = load_ok(REPO, NULL);
	s = md_config_settings(cfg);
	assert_string_equal(s->listen, "127.0.0.1:9797");
	assert_int_equal(s->log_format, MD_LOG_AUTO);
	assert_int_equal(s->apply, 0);
	assert_int_equal(s->compose_cmd.n, 1);
	assert_string_equal(s->compose_cmd.v[0], "podman-compose");
	assert_int_equal(s->stacks.n, 0);
	assert_int_equal(s->health_timeout, 120);
	assert_int_equal(s->compose_timeout, 600);
	assert_string_equal(s->runtime_dir, "/run/magos-dominus");
	assert_string_equal(s->journal_socket, "/run/systemd/journal/socket");
	md_config_free(cfg);
	cfg = load_ok(REPO "MD_LISTEN=off\nMD_APPLY=on\nMD_COMPOSE_CMD=podman  compose\n"
			   "MD_STACKS=apps/*, infra/db\nMD_HEALTH_TIMEOUT=30s\n",
		      NULL);
	s = md_config_settings(cfg);
	assert_null(s->listen);
	assert_int_equal(s->apply, 1);
	assert_int_equal(s->compose_cmd.n, 2);
	assert_string_equal(s->compose_cmd.v[1], "compose");
	assert_int_equal(s->stacks.n, 2);
	assert_string_equal(s->stacks.v[1], "infra/db");
	assert_int_equal(s->health_timeout, 30);
	md_config_free(cfg);
	cfg = load_ok(REPO "MD_LISTEN=[::1]:9000\n", NULL);
	assert_string_equal(md_config_settings(cfg)->listen, "[::1]:9000");
	md_config_free(cfg);
	load_fails(REPO "MD_LISTEN=9797\n", NULL,
		   "@:2: MD_LISTEN: invalid address '9797' (expected host:port, e.g. "
		   "127.0.0.1:9797, or off)");
	load_fails(REPO "MD_LISTEN=[::1]\n", NULL,
		   "@:2: MD_LISTEN: invalid address '[::1]' (expected host:port, e.g. "
		   "127.0.0.1:9797, or off)");
	load_fails(REPO "MD_RUNTIME_DIR=run/md\n", NULL,
		   "@:2: MD_RUNTIME_DIR: 'run/md' is not an absolute path");
}

/* ---- shared parsers ----------------------------------------------------- */

static void test_parse_bool(void **state)
{
	static const char *const yes[] = { "1", "yes", "true", "on", "YES", "True", "oN" };
	static const char *const no[] = { "0", "no", "false", "off", "NO", "False", "OFF" };
	static const char *const bad[] = { "", "2", "y", "n", "enabled", " yes", "true " };
	int v;

	(void)state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		v = -1;
		assert_int_equal(md_config_parse_bool(yes[i], &v), 0);
		assert_int_equal(v, 1);
		assert_int_equal(md_config_parse_bool(no[i], &v), 0);
		assert_int_equal(v, 0);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 7;
		assert_int_equal(md_config_parse_bool(bad[i], &v), -1);
		assert_int_equal(v, 7);
	}
	assert_int_equal(md_config_parse_bool(NULL, &v), -1);
}

static void test_parse_author(void **state)
{
	static const struct {
		const char *in, *name, *email;
	} good[] = {
		{ "magos-dominus <magos-dominus@localhost>", "magos-dominus",
		  "magos-dominus@localhost" },
		{ "  Jane Q. Doe   <jane@example.org>  ", "Jane Q. Doe", "jane@example.org" },
		{ "bot<bot@x>", "bot", "bot@x" },
	};
	static const struct {
		const char *in, *msg;
	} bad[] = {
		{ "", "invalid author '' (expected 'Name <email>')" },
		{ "Jane", "invalid author 'Jane' (expected 'Name <email>')" },
		{ "Jane <jane@x", "invalid author 'Jane <jane@x' (expected 'Name <email>')" },
		{ "<jane@x>", "invalid author '<jane@x>' (the name before <email> is empty)" },
		{ "Jane <>", "invalid author 'Jane <>' (the email between < and > is empty)" },
		{ "Ja>ne <j@x>", "invalid author 'Ja>ne <j@x>' (the name contains '<', '>' or a "
				 "control character)" },
		{ "Jane <j @x>", "invalid author 'Jane <j @x>' (the email contains a space, '<', "
				 "'>' or a control character)" },
		{ "Jane <a> <b>", "invalid author 'Jane <a> <b>' (the name contains '<', '>' or "
				  "a control character)" },
		{ "Ja\nne <j@x>", "invalid author (the name contains '<', '>' or a control "
				  "character)" },
	};
	struct md_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char *name = NULL, *email = NULL;

		assert_int_equal(md_config_parse_author(good[i].in, &name, &email, &err), 0);
		assert_string_equal(name, good[i].name);
		assert_string_equal(email, good[i].email);
		free(name);
		free(email);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *name = NULL, *email = NULL;

		assert_int_equal(md_config_parse_author(bad[i].in, &name, &email, &err), -1);
		assert_null(name);
		assert_null(email);
		assert_string_equal(err.msg, bad[i].msg);
	}
}

static void test_parse_envfile_direct(void **state)
{
	static const char text[] = "A=1\nexport B = two words \nA=3\n";
	struct md_config_entries e;
	struct md_err err;

	(void)state;
	assert_int_equal(md_config_parse_envfile(&e, "mem", text, sizeof(text) - 1, &err), 0);
	assert_int_equal(e.n, 2);
	assert_string_equal(e.v[0].key, "A");
	assert_string_equal(e.v[0].value, "3");
	assert_int_equal(e.v[0].line, 3);
	assert_string_equal(e.v[1].key, "B");
	assert_string_equal(e.v[1].value, "two words");
	assert_int_equal(e.v[1].line, 2);
	md_config_entries_free(&e);
	assert_int_equal(md_config_parse_envfile(&e, "mem", "X", 1, &err), -1);
	assert_string_equal(err.msg, "mem:1: expected KEY=VALUE (no '=' on this line)");
	assert_int_equal(e.n, 0);
	assert_int_equal(md_config_parse_envfile(&e, "mem", "", 0, &err), 0);
	assert_int_equal(e.n, 0);
	md_config_entries_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_keys_table),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_export_and_comments),
		cmocka_unit_test(test_continuation),
		cmocka_unit_test(test_crlf),
		cmocka_unit_test(test_last_wins),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_file_limits),
		cmocka_unit_test(test_value_cap),
		cmocka_unit_test(test_env_overrides),
		cmocka_unit_test(test_env_only),
		cmocka_unit_test(test_empty_means_unset),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_repo_and_state_dir),
		cmocka_unit_test(test_branch),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_author_and_template),
		cmocka_unit_test(test_ca_file),
		cmocka_unit_test(test_log_settings),
		cmocka_unit_test(test_github_keys),
		cmocka_unit_test(test_daemon_and_applier_keys),
		cmocka_unit_test(test_parse_bool),
		cmocka_unit_test(test_parse_author),
		cmocka_unit_test(test_parse_envfile_direct),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/* config: the value checks of each key (the setters) and the keys of the
 * GitHub App, the daemon endpoints and the applier. */
#include "unit.h"
#include "config_fixture.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
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
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

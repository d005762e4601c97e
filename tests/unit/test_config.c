/* config: the .env syntax, the environment's part, the key table and the
 * shared parsers. Value checks per key: test_config_keys.c. */
#include "unit.h"
#include "config_fixture.h"

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
		"MD_COMPOSE_CMD", "MD_STACKS", "MD_PRUNE", "MD_HEALTH_TIMEOUT",
		"MD_COMPOSE_TIMEOUT", "MD_AGE_KEY_FILE", "MD_RUNTIME_DIR",
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

/* One table of log level and format names for the settings, --log-format
 * and the log lines (moved here from test_obs with the parsers). */
static void test_log_names(void **state)
{
	char *warning[] = { "MD_REPO=/srv/x", "MD_LOG_LEVEL=warning", NULL };
	char *loud[] = { "MD_LOG_LEVEL=loud", NULL };
	enum md_log_level l;
	enum md_log_format f;
	struct md_config *cfg = NULL;
	struct md_err err;

	(void)state;
	/* "warning", as syslog and journald spell it, is warn */
	assert_int_equal(md_config_load(&cfg, NULL, warning, &err), 0);
	assert_int_equal(md_config_settings(cfg)->log_level, MD_LOG_WARN);
	md_config_free(cfg);
	cfg = load_ok(REPO "MD_LOG_LEVEL=warning\n", NULL);
	assert_int_equal(md_config_settings(cfg)->log_level, MD_LOG_WARN);
	md_config_free(cfg);
	/* nonsense is refused, naming the key and the valid names */
	load_fails(REPO, loud,
		   "environment: MD_LOG_LEVEL: invalid value 'loud' (valid: debug, info, warn, "
		   "error)");
	load_fails(REPO "MD_LOG_LEVEL=loud\n", NULL,
		   "@:2: MD_LOG_LEVEL: invalid value 'loud' (valid: debug, info, warn, error)");

	assert_int_equal(md_config_parse_log_level("warn", &l, &err), 0);
	assert_int_equal(l, MD_LOG_WARN);
	assert_int_equal(md_config_parse_log_level("warning", &l, &err), 0);
	assert_int_equal(l, MD_LOG_WARN);
	/* lowercase only, as MD_LOG_LEVEL always was (test_config_keys) */
	assert_int_equal(md_config_parse_log_level("WARN", &l, &err), -1);
	assert_int_equal(md_config_parse_log_level("loud", &l, &err), -1);
	assert_string_equal(err.msg, "invalid value 'loud' (valid: debug, info, warn, error)");
	assert_int_equal(md_config_parse_log_format("json", &f, &err), 0);
	assert_int_equal(f, MD_LOG_JSON);
	assert_int_equal(md_config_parse_log_format("xml", &f, &err), -1);
	assert_string_equal(err.msg, "invalid value 'xml' (valid: auto, text, json, journal)");
	assert_int_equal(md_config_parse_log_format("journal", &f, &err), 0);
	assert_int_equal(f, MD_LOG_JOURNAL);
	assert_int_equal(md_config_parse_log_format("auto", &f, &err), 0);
	assert_int_equal(f, MD_LOG_AUTO);
	assert_int_equal(md_config_parse_log_format("text", &f, &err), 0);
	assert_int_equal(f, MD_LOG_TEXT);
	/* what a log line prints reads back as the same level */
	for (l = MD_LOG_DEBUG; l <= MD_LOG_ERROR; l++) {
		enum md_log_level back;

		assert_int_equal(md_config_parse_log_level(md_config_log_level_name(l), &back, &err),
				 0);
		assert_int_equal(back, l);
	}
	assert_string_equal(md_config_log_level_name(MD_LOG_WARN), "warn");
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
	md_config_entries_clear(&e);
	assert_int_equal(md_config_parse_envfile(&e, "mem", "X", 1, &err), -1);
	assert_string_equal(err.msg, "mem:1: expected KEY=VALUE (no '=' on this line)");
	assert_int_equal(e.n, 0);
	assert_int_equal(md_config_parse_envfile(&e, "mem", "", 0, &err), 0);
	assert_int_equal(e.n, 0);
	md_config_entries_clear(&e);
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
		cmocka_unit_test(test_parse_bool),
		cmocka_unit_test(test_log_names),
		cmocka_unit_test(test_parse_author),
		cmocka_unit_test(test_parse_envfile_direct),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

/* Global flags and subcommand dispatch. */
#include "cli_int.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "magos/cli.h"
#include "magos/daemon.h"
#include "magos/obs.h"

static const char usage_text[] =
	"usage: magos-dominus [--config FILE] [--log-format auto|text|json|journal] [-v]\n"
	"                     [COMMAND]\n"
	"\n"
	"commands:\n"
	"  run        the daemon: a cycle every MD_INTERVAL (default)\n"
	"  once       one cycle: sync, decide, rewrite, commit, push\n"
	"  plan       print the diff a cycle would commit; write nothing\n"
	"  check      validate the configuration and every annotation\n"
	"  explain    FILE:LINE, or --annotation JSON --current TAG --tags FILE\n"
	"             [--format json] [--now RFC3339]: why each tag was kept or dropped\n"
	"  version    print the version\n"
	"  verify-bundle --bundle F (--certificate-identity I --certificate-oidc-issuer U\n"
	"             | --key K) [--trusted-root T] FILE_OR_DIGEST: verify a Sigstore bundle\n";

static const char *env_get(char **envp, const char *key)
{
	size_t n = strlen(key);

	for (; envp && *envp; envp++)
		if (!strncmp(*envp, key, n) && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

static int usage(FILE *out, int code)
{
	fputs(usage_text, out);
	return code;
}

/* Load the configuration and apply command-line overrides. Exit code 2 on
 * a configuration error (reported once, here). */
int md_cli__load_config(struct cli *c, struct md_config **out)
{
	struct md_err err;
	const struct md_settings *s;
	enum md_log_format fmt;

	if (md_config_load(out, c->config_path, c->envp, &err) < 0) {
		fprintf(stderr, "magos-dominus: %s\n", err.msg);
		return 2;
	}
	s = md_config_settings(*out);
	fmt = c->log_format_set ? c->log_format : s->log_format;
	/* auto: native journal entries when stderr is the journal stream
	 * systemd set up for us, else text. */
	fmt = md_log_resolve_format(fmt, env_get(c->envp, "JOURNAL_STREAM"), STDERR_FILENO);
	md_log_set_journal_socket(s->journal_socket);
	md_log_setup(fmt, c->verbose ? MD_LOG_DEBUG : s->log_level, stderr);
	return 0;
}

static int parse_globals(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "log-format", required_argument, NULL, 'l' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct md_err err;
	int o;

	/* '+' stops at the first non-option: the subcommand parses the rest. */
	while ((o = getopt_long(argc, argv, "+c:l:vhV", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			c->config_path = optarg;
			break;
		case 'l':
			if (md_config_parse_log_format(optarg, &c->log_format, &err) < 0) {
				fprintf(stderr, "magos-dominus: --log-format: %s\n", err.msg);
				return 2;
			}
			c->log_format_set = 1;
			break;
		case 'v':
			c->verbose = 1;
			break;
		case 'h':
			usage(stdout, 0);
			return -1; /* help shown: exit 0 */
		case 'V':
			c->command = "version";
			return 0;
		default:
			return usage(stderr, 2);
		}
	}
	return 0;
}

int md_cli_main(int argc, char **argv, char **envp)
{
	static const struct {
		const char *name;
		int (*fn)(struct cli *c, int argc, char **argv);
	} cmds[] = {
		{ "run", md_cli__cmd_run },         { "once", md_cli__cmd_once },
		{ "plan", md_cli__cmd_plan },       { "check", md_cli__cmd_check },
		{ "explain", md_cli__cmd_explain }, { "version", md_cli__cmd_version },
		{ "verify-bundle", md_cli__cmd_verify_bundle },
	};
	struct cli c = { .envp = envp };
	struct md_err err;
	int rc;

	md_log_setup(MD_LOG_TEXT, MD_LOG_INFO, stderr);
	/* Before anything reads a key, a token or the configuration (which
	 * may hold SOPS_AGE_KEY): fail closed if memory cannot be kept in. */
	if (md_proc_forbid_dumps(&err) < 0) {
		fprintf(stderr, "magos-dominus: %s\n", err.msg);
		return 1;
	}
	rc = parse_globals(&c, argc, argv);
	if (rc == -1)
		return 0; /* --help */
	if (rc)
		return rc;
	if (!c.command)
		c.command = optind < argc ? argv[optind++] : "run";
	if (!strcmp(c.command, "help"))
		return usage(stdout, 0);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(c.command, cmds[i].name))
			return cmds[i].fn(&c, argc - optind, argv + optind);
	fprintf(stderr, "magos-dominus: unknown command '%s'\n\n", c.command);
	return usage(stderr, 2);
}

/* Private to the cli module. */
#ifndef MAGOS_CLI_INT_H
#define MAGOS_CLI_INT_H

#include "magos/config.h"

struct cli {
	const char *config_path;
	char **envp;
	const char *command;
	int verbose;
	int log_format_set;
	enum md_log_format log_format;
};

int cli_load_config(struct cli *c, struct md_config **out);

int cli_cmd_run(struct cli *c, int argc, char **argv);
int cli_cmd_once(struct cli *c, int argc, char **argv);
int cli_cmd_plan(struct cli *c, int argc, char **argv);
int cli_cmd_check(struct cli *c, int argc, char **argv);
int cli_cmd_explain(struct cli *c, int argc, char **argv);
int cli_cmd_version(struct cli *c, int argc, char **argv);
int cli_cmd_verify_bundle(struct cli *c, int argc, char **argv);

#endif

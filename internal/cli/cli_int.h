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

int md_cli__load_config(struct cli *c, struct md_config **out);

/* The candidate tags of explain: offline, the --tags file's lines (tags
 * point into data); live, the registry's list. */
struct cli_tags {
	struct md_strv live;
	char *data;
	char **tags;
	size_t n, cap;
	int64_t *created;       /* offline only; 0 when the line gives none */
	struct md_strv *plats;  /* offline only; empty when the line gives none */
};
void md_cli__tags_free(struct cli_tags *l);
/* The --tags file (explain.c, fuzzed): one tag a line, `tag
 * [created-RFC3339] [os/arch[/variant],...]`, # comments. l (zeroed) takes
 * data (NUL-terminated, parsed in place); errors name path:line. */
int md_cli__tags_parse(struct cli_tags *l, const char *path, char *data, struct md_err *err);

int md_cli__cmd_run(struct cli *c, int argc, char **argv);
int md_cli__cmd_once(struct cli *c, int argc, char **argv);
int md_cli__cmd_plan(struct cli *c, int argc, char **argv);
int md_cli__cmd_check(struct cli *c, int argc, char **argv);
int md_cli__cmd_explain(struct cli *c, int argc, char **argv);
int md_cli__cmd_version(struct cli *c, int argc, char **argv);
int md_cli__cmd_verify_bundle(struct cli *c, int argc, char **argv);

#endif

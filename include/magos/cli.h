/* cli — the command line: global flags, subcommands, exit codes and every
 * message a user reads on stdout. Exit codes: 0 ok, 1 failure, 2 usage or
 * configuration error. */
#ifndef MAGOS_CLI_H
#define MAGOS_CLI_H

int md_cli_main(int argc, char **argv, char **envp);

#endif

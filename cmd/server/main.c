/* magos-dominus entry point: everything happens in internal/cli. */
#include "magos/cli.h"

int main(int argc, char **argv, char **envp)
{
	return md_cli_main(argc, argv, envp);
}

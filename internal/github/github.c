/* Placeholder until the GitHub module lands: only the free. */
#include "magos/github.h"

#include <stdlib.h>

void md_github_free(struct md_github *gh)
{
	free(gh);
}

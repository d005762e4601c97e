/* Placeholder until the applier lands. */
#include "magos/applier.h"

#include <stdlib.h>

void md_applier_free(struct md_applier *a)
{
	free(a);
}

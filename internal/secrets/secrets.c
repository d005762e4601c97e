/* Placeholder until the secrets module lands. */
#include "magos/secrets.h"

#include <stdlib.h>

void md_secrets_free_plain(char *p, size_t len)
{
	md_memzero(p, len);
	free(p);
}

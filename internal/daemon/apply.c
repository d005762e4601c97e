/* MD_APPLY: apply changed stacks to this host (placeholder). */
#include "daemon_int.h"

int cycle_apply(struct cycle *c, volatile sig_atomic_t *stop, struct md_err *err)
{
	(void)c;
	(void)stop;
	return md_err_set(err, "MD_APPLY is not implemented yet");
}

/* MD_MODE=pr: one branch and pull request per image (placeholder). */
#include "daemon_int.h"

int cycle_publish_prs(struct cycle *c, volatile sig_atomic_t *stop, struct md_err *err)
{
	(void)c;
	(void)stop;
	return md_err_set(err, "MD_MODE=pr is not implemented yet");
}

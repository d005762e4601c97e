/* The production build's test hook: nothing. The crash tests link
 * tests/crash/hook.c instead (build/magos-dominus-hooks), whose version
 * pauses the process at a named phase so it can be killed there. */
#include "magos/util.h"

void md_testhook(const char *phase)
{
	(void)phase;
}

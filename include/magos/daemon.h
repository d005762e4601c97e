/* daemon — the loop that repeats the reconcile cycle (internal/reconcile/):
 * signals, timers, backoff, reload, status and health. The cycle's own entry
 * points (md_daemon_cycle, md_daemon_explain) are in magos/reconcile.h. */
#ifndef MAGOS_DAEMON_H
#define MAGOS_DAEMON_H

#include "magos/config.h"
#include "magos/reconcile.h"
#include "magos/util.h"

/* What a process killed half-way left behind, removed before the first
 * cycle (call it only while holding the instance lock): an unfinished clone
 * next to MD_REPO, stale *.lock files in its .git, decrypted secrets in
 * MD_RUNTIME_DIR, temp files in MD_STATE_DIR. Each removal is logged. */
int md_daemon_recover(const struct md_config *cfg, struct md_err *err);

/* The daemon: run a cycle every MD_INTERVAL (±10 % jitter) until SIGTERM or
 * SIGINT; SIGUSR1 runs a cycle now; SIGHUP reloads the configuration from
 * config_path (an invalid one is rejected and the old one kept). Returns
 * the process exit code. */
int md_daemon_run(const char *config_path, char *const *envp);

#endif

/* Private to the daemon: turning a cycle's outcome into the published
 * snapshot (metrics, health) and the one-line systemd STATUS=. */
#ifndef MAGOS_DAEMON_STATUS_INT_H
#define MAGOS_DAEMON_STATUS_INT_H

#include "magos/daemon.h"
#include "magos/obs.h"
#include "magos/registry.h"

/* The registry client's counters as last seen, so each cycle adds only
 * what happened since (the client, and its counters, are replaced on a
 * reload). */
struct status_reg_seen {
	const struct md_registry *client;
	struct md_obs_reg_row rows[MD_OBS_REG_ROWS];
	size_t n;
};

struct status_cycle {
	const struct md_cycle_report *rep;
	int rc;
	const char *error;   /* rc < 0: why */
	int64_t duration_ms;
	int64_t now;         /* Unix seconds at the end */
	int64_t now_mono_ms;
	enum md_mode mode;
};

/* Count one finished cycle into s. */
void status_record(struct md_obs_snapshot *s, const struct status_cycle *c);
/* Add the client's requests since the last call. */
void status_registry(struct md_obs_snapshot *s, struct status_reg_seen *seen,
		     const struct md_registry *reg);
/* "cycle 3 ok in 0.4s: 12 images, 1 updated, commit abc1234" and the like. */
void status_line(char *out, size_t outlen, const struct md_obs_snapshot *s,
		 const struct status_cycle *c);

#endif

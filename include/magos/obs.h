/* obs — what the agent says and shows: one event per log entry (text or
 * JSON lines on stderr, or native journald entries), sd_notify messages for
 * systemd (readiness, status, watchdog), and the /healthz + /metrics
 * endpoints served from a snapshot the daemon loop publishes.
 *
 * Secrets never reach it: callers pass only names, digests and error
 * sentences. Nothing here reads the environment: the caller passes the
 * values (NOTIFY_SOCKET, JOURNAL_STREAM, ...) it found. */
#ifndef MAGOS_OBS_H
#define MAGOS_OBS_H

#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include "magos/config.h"
#include "magos/util.h"

/* ---- logging (log.c, journal.c) ------------------------------------------ */

/* fmt MD_LOG_AUTO is taken as text here: resolve it first with
 * md_log_resolve_format. MD_LOG_JOURNAL sends to the journal socket (see
 * md_log_set_journal_socket) and falls back to text on `out` when that
 * socket cannot take the entry. Safe to call from any thread. */
void md_log_setup(enum md_log_format fmt, enum md_log_level level, FILE *out);
int md_log_enabled(enum md_log_level level);

/* Log msg with NULL-terminated key/value pairs:
 *   md_log(MD_LOG_INFO, "image updated", "image", ref, "from", a, "to", b, NULL);
 * NULL values are skipped. In the journal, key "image" becomes the field
 * MAGOS_IMAGE (keys are upper-cased, other characters become '_'). */
void md_log(enum md_log_level level, const char *msg, ...) __attribute__((sentinel));

/* Level and format names: md_config_parse_log_level and friends
 * (magos/config.h). */

/* Where journal entries go (default /run/systemd/journal/socket); NULL
 * restores the default. */
void md_log_set_journal_socket(const char *path);

/* The running cycle's number, added to every entry as "cycle" (journal:
 * MAGOS_CYCLE); 0 when no cycle runs. */
void md_log_set_cycle(uint64_t n);

/* 1 when journal_stream ("dev:inode", from $JOURNAL_STREAM) names the file
 * open on fd (stderr already goes to the journal), else 0. */
int md_log_journal_stream_matches(const char *journal_stream, int fd);

/* AUTO → JOURNAL when fd is the journal stream, else TEXT; other formats
 * unchanged. */
enum md_log_format md_log_resolve_format(enum md_log_format fmt, const char *journal_stream,
					 int fd);

/* Journal native protocol encoding (exposed for tests and fuzzing).
 * The field name for a log key: "image" → "MAGOS_IMAGE", sanitized to
 * [A-Z0-9_] and cut to journald's 64 characters. -1 when out is too small
 * or the key is empty. */
int md_journal_field_name(char *out, size_t outlen, const char *key);
/* Append one field: "NAME=value\n", or for a value holding a newline
 * "NAME\n" + 64-bit little-endian length + value + "\n". */
int md_journal_append(struct md_buf *b, const char *name, const char *value, size_t vlen);

/* ---- sd_notify (notify.c) ------------------------------------------------ */

struct md_notify;

/* What the service manager exported; NULL or "" when unset. */
struct md_notify_env {
	const char *notify_socket; /* $NOTIFY_SOCKET */
	const char *watchdog_usec; /* $WATCHDOG_USEC */
	const char *watchdog_pid;  /* $WATCHDOG_PID */
	pid_t pid;                 /* getpid() */
};

/* Always gives a handle: without NOTIFY_SOCKET every send is a no-op that
 * returns 0. Fails only on a NOTIFY_SOCKET that is not a usable address. */
int md_notify_new(struct md_notify **out, const struct md_notify_env *env, struct md_err *err);
void md_notify_free(struct md_notify *n);

/* One datagram holding msg ("KEY=VALUE\n..."). -1 with err on failure. */
int md_notify_send(struct md_notify *n, const char *msg, struct md_err *err);
int md_notify_enabled(const struct md_notify *n);

/* The ping period: half of WATCHDOG_USEC in ms, 0 when the watchdog is
 * off (unset, invalid, or WATCHDOG_PID names another process). */
int64_t md_notify_watchdog_period_ms(const struct md_notify *n);
/* Ping when at least one period passed since the last ping (rate limit):
 * returns 1 when a ping went out, 0 when not due or off, -1 on a send
 * failure. */
int md_notify_watchdog(struct md_notify *n, int64_t now_ms);
/* Milliseconds until the next ping is due (0: now); -1 when off. */
int64_t md_notify_watchdog_due_in(const struct md_notify *n, int64_t now_ms);

/* Builders (exposed for tests). */
/* "STATUS=<line>" with control characters turned into spaces, cut to fit. */
int md_notify_format_status(char *out, size_t outlen, const char *line);
/* "RELOADING=1\nMONOTONIC_USEC=<usec>". */
int md_notify_format_reloading(char *out, size_t outlen, uint64_t monotonic_usec);
/* Ping period in ms from WATCHDOG_USEC/WATCHDOG_PID as given; 0: off. */
int64_t md_notify_parse_watchdog(const char *usec, const char *pid, pid_t self);
/* $NOTIFY_SOCKET → address ('/' path or '@' abstract). */
int md_notify_address(struct sockaddr_un *sa, socklen_t *salen, const char *socket,
		      struct md_err *err);

/* ---- the snapshot the loop publishes (metrics.c, health.c) ------------- */

#define MD_OBS_BUCKETS 12 /* finite histogram bounds; +Inf is implicit */
#define MD_OBS_REG_ROWS 64
#define MD_OBS_ERR_MAX 256

/* Registry requests by host, method and status class ("2xx", "error"...). */
struct md_obs_reg_row {
	char host[128];
	char method[16];
	char code[8];
	uint64_t n;
};

enum md_obs_cycle_result { MD_OBS_SUCCESS, MD_OBS_PROBLEMS, MD_OBS_FAILURE, MD_OBS_NRESULTS };
enum md_obs_update_result {
	MD_OBS_UPD_PUSHED,    /* committed and pushed */
	MD_OBS_UPD_COMMITTED, /* committed, not pushed */
	MD_OBS_UPD_PROPOSED,  /* PR mode: on a pull request branch */
	MD_OBS_UPD_FAILED,    /* decided but the cycle failed */
	MD_OBS_NUPDATES
};
enum md_obs_stack_result {
	MD_OBS_STACK_APPLIED, MD_OBS_STACK_FAILED, MD_OBS_STACK_ROLLED_BACK, MD_OBS_NSTACKS
};

/* Plain values: the loop fills one, md_obs_publish copies it, the HTTP
 * thread renders its own copy. Times: *_mono_ms are CLOCK_MONOTONIC ms,
 * others Unix seconds; 0 = never. */
struct md_obs_snapshot {
	int64_t start_time;
	int64_t start_mono_ms;
	int64_t interval;             /* MD_INTERVAL seconds */
	uint64_t cycles[MD_OBS_NRESULTS];
	uint64_t duration_buckets[MD_OBS_BUCKETS + 1]; /* per bucket, last = above all bounds */
	double duration_sum;
	uint64_t sites;               /* images watched (annotated sites) last cycle */
	uint64_t updates[MD_OBS_NUPDATES];
	uint64_t pushes_ok, pushes_failed;
	uint64_t stacks[MD_OBS_NSTACKS];
	uint64_t drift_repairs;
	int64_t last_success;         /* Unix seconds */
	int64_t last_success_mono_ms;
	int64_t last_finish_mono_ms;
	uint64_t cycle;               /* number of the last finished cycle */
	int last_result;              /* enum md_obs_cycle_result, -1 before the first */
	char last_error[MD_OBS_ERR_MAX];
	struct md_obs_reg_row reg[MD_OBS_REG_ROWS];
	size_t nreg;
};

/* The histogram's finite upper bounds, in seconds (MD_OBS_BUCKETS of them). */
extern const double md_obs_bucket_bounds[MD_OBS_BUCKETS];

void md_obs_snapshot_init(struct md_obs_snapshot *s, int64_t now, int64_t now_mono_ms,
			  int64_t interval);
/* Count one cycle duration into the histogram. */
void md_obs_observe_duration(struct md_obs_snapshot *s, double seconds);
/* Add n requests to the (host, method, code) row; a full table counts in
 * its last row as "other". */
void md_obs_reg_add(struct md_obs_snapshot *s, const char *host, const char *method,
		    const char *code, uint64_t n);

/* Prometheus text exposition 0.0.4 of s, plus the process's resident set
 * (bytes, <0: left out). Families are contiguous, each with HELP and TYPE. */
int md_metrics_render(struct md_buf *out, const struct md_obs_snapshot *s, int64_t rss_bytes);
/* Label value escaping: \ " and newline. */
int md_metrics_escape_label(struct md_buf *out, const char *v);
/* The resident set size from /proc/self/statm; -1 when unreadable. */
int64_t md_metrics_rss_bytes(void);

/* Healthy when the last successful cycle (or the start, before the first
 * one) is at most 3 × interval ago. Fills body with a small JSON object
 * and returns the HTTP status: 200 or 503. */
int md_health_eval(const struct md_obs_snapshot *s, int64_t now_mono_ms, struct md_buf *body);

/* ---- shared state and the HTTP endpoint (state.c, http.c) --------------- */

struct md_obs;

int md_obs_new(struct md_obs **out, struct md_err *err);
void md_obs_free(struct md_obs *o);
/* Copy s in (the loop) / out (the HTTP thread), under the lock. */
void md_obs_publish(struct md_obs *o, const struct md_obs_snapshot *s);
void md_obs_read(struct md_obs *o, struct md_obs_snapshot *out);

struct md_http;

/* Serve GET/HEAD /healthz and /metrics from o on listen ("host:port",
 * "[v6]:port") in a thread of its own; everything else is 404/405. A
 * connection lives at most a few seconds and the oldest makes way for a new
 * one (slow clients cannot starve a scrape). o must outlive the server. */
int md_http_start(struct md_http **out, const char *listen, struct md_obs *o,
		  struct md_err *err);
void md_http_stop(struct md_http *h);

#endif

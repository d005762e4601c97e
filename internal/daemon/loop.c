/* The daemon loop: one poll() over a signalfd (SIGHUP, SIGUSR1), a timerfd
 * (the next cycle) and an eventfd (SIGTERM/SIGINT, whose real handler also
 * sets the flag a running cycle polls between its steps).
 *
 * Timing: a cycle every MD_INTERVAL ±10 %; after a failed cycle (the cycle
 * as a whole, not single skipped sites) the next try comes after
 * min(interval, 5 s · 2^(failures-1)) ±10 %, so a broken remote is retried
 * soon but never more often than every 5 s, and success restores the
 * interval.
 *
 * systemd (Type=notify): READY=1 once the repository is usable (the first
 * progress of the first cycle, which comes after the clone/sync), or after
 * the first cycle attempt when it never gets that far; STATUS= after every
 * cycle; WATCHDOG=1 at half of WATCHDOG_USEC from this loop and from the
 * cycle's progress hook only, so a cycle stuck without progress stops the
 * pings; RELOADING=1/READY=1 around SIGHUP; STOPPING=1 on the way out. */
#include "magos/daemon.h"

#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "magos/obs.h"
#include "magos/registry.h"
#include "status_int.h"

#define BACKOFF_BASE_MS 5000

/* SIGTERM/SIGINT set this from a real handler (not the signalfd) so a
 * running cycle sees the request between its steps. */
static volatile sig_atomic_t stop_requested;
static int stop_efd = -1;

static void on_stop_signal(int sig)
{
	uint64_t one = 1;
	int saved = errno;

	(void)sig;
	stop_requested = 1;
	/* Wakes the poll() even when the signal lands just before it. */
	if (stop_efd >= 0 && write(stop_efd, &one, sizeof(one)) < 0) {
		/* Nothing to do: the flag is set and poll() returns EINTR. */
	}
	errno = saved;
}

struct loop {
	int sfd, tfd;
	struct md_config *cfg;
	struct md_daemon_ctx ctx; /* kept across cycles: tokens are reused */
	const char *config_path;
	char *const *envp;
	int reload;
	int run_now;
	unsigned seed;
	unsigned failures; /* consecutive failed cycles */
	struct md_notify *notify;
	int ready;
	struct md_obs *obs;
	struct md_http *http;
	char *listen; /* what http listens on, NULL when off */
	struct md_obs_snapshot snap;
	struct status_reg_seen seen;
};

static const char *env_get(char *const *envp, const char *key)
{
	size_t n = strlen(key);

	for (; envp && *envp; envp++)
		if (!strncmp(*envp, key, n) && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

static void notify(struct loop *l, const char *msg)
{
	struct md_err err;

	if (md_notify_send(l->notify, msg, &err) < 0)
		md_log(MD_LOG_WARN, "systemd notification failed", "error", err.msg, NULL);
}

static void notify_status(struct loop *l, const char *line)
{
	char msg[512];

	if (md_notify_enabled(l->notify) && md_notify_format_status(msg, sizeof(msg), line) == 0)
		notify(l, msg);
}

static void send_ready(struct loop *l)
{
	if (l->ready)
		return;
	l->ready = 1;
	notify(l, "READY=1");
}

static void ping(struct loop *l)
{
	md_notify_watchdog(l->notify, md_time_mono_ms());
}

/* The cycle's progress hook: the repository is usable (READY) and the loop
 * is alive (WATCHDOG). */
static void on_progress(void *arg)
{
	struct loop *l = arg;

	send_ready(l);
	ping(l);
}

static void drain_signals(struct loop *l)
{
	struct signalfd_siginfo si;

	while (read(l->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			l->reload = 1;
		else if (si.ssi_signo == SIGUSR1)
			l->run_now = 1;
	}
}

static int setup_signals(struct loop *l)
{
	struct sigaction sa;
	sigset_t set;

	stop_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (stop_efd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	l->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	return l->sfd < 0 || l->tfd < 0 ? -1 : 0;
}

static void apply_log_settings(struct loop *l, const struct md_settings *s)
{
	md_log_set_journal_socket(s->journal_socket);
	md_log_setup(md_log_resolve_format(s->log_format, env_get(l->envp, "JOURNAL_STREAM"),
					   STDERR_FILENO),
		     s->log_level, NULL);
}

static int start_http(struct loop *l, const char *listen)
{
	struct md_err err;

	if (!listen)
		return 0;
	if (md_http_start(&l->http, listen, l->obs, &err) < 0) {
		md_log(MD_LOG_ERROR, "cannot serve /healthz and /metrics", "error", err.msg, NULL);
		return -1;
	}
	l->listen = md_strdup(listen);
	md_log(MD_LOG_INFO, "serving /healthz and /metrics", "listen", listen, NULL);
	return 0;
}

static void stop_http(struct loop *l)
{
	md_http_stop(l->http);
	l->http = NULL;
	free(l->listen);
	l->listen = NULL;
}

static int same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static void reload_endpoints(struct loop *l, const struct md_settings *s)
{
	if (same_str(l->listen, s->listen))
		return;
	stop_http(l);
	start_http(l, s->listen); /* logged; the loop goes on without it */
}

static void reload(struct loop *l)
{
	const struct md_settings *old = md_config_settings(l->cfg), *s;
	struct md_config *fresh = NULL;
	struct timespec ts;
	struct md_err err;
	char msg[96];

	l->reload = 0;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (md_notify_format_reloading(msg, sizeof(msg), (uint64_t)ts.tv_sec * 1000000u +
				       (uint64_t)ts.tv_nsec / 1000u) == 0)
		notify(l, msg);
	if (md_config_load(&fresh, l->config_path, l->envp, &err) < 0) {
		md_log(MD_LOG_ERROR, "configuration reload rejected; keeping the old one", "error",
		       err.msg, NULL);
		notify(l, "READY=1");
		notify_status(l, "configuration reload rejected; keeping the old one");
		return;
	}
	s = md_config_settings(fresh);
	/* Leave --log-format and -v in force unless the file changed these keys. */
	if (s->log_format != old->log_format || s->log_level != old->log_level ||
	    !same_str(s->journal_socket, old->journal_socket))
		apply_log_settings(l, s);
	md_config_free(l->cfg);
	l->cfg = fresh;
	/* Registry options may have changed (CA, auth files, timeouts). */
	md_daemon_ctx_clear(&l->ctx);
	l->seen.client = NULL;
	l->snap.interval = s->interval;
	md_obs_publish(l->obs, &l->snap);
	reload_endpoints(l, s);
	md_log(MD_LOG_INFO, "configuration reloaded", NULL);
	notify(l, "READY=1");
	notify_status(l, "configuration reloaded");
}

static void publish_cycle(struct loop *l, const struct md_cycle_report *rep, int rc,
			  const char *error, int64_t started_ms)
{
	struct status_cycle sc = { .rep = rep, .rc = rc, .error = error,
				   .now = md_time_now(), .now_mono_ms = md_time_mono_ms(),
				   .mode = md_config_settings(l->cfg)->mode };
	char line[400];

	sc.duration_ms = sc.now_mono_ms - started_ms;
	status_registry(&l->snap, &l->seen, l->ctx.reg);
	status_record(&l->snap, &sc);
	md_obs_publish(l->obs, &l->snap);
	status_line(line, sizeof(line), &l->snap, &sc);
	notify_status(l, line);
}

static int cycle_once(struct loop *l)
{
	struct md_cycle_report rep;
	struct md_err err;
	int64_t started = md_time_mono_ms();
	int rc;

	md_log_set_cycle(l->snap.cycle + 1);
	rc = md_daemon_cycle_with(l->cfg, MD_CYCLE_APPLY, &l->ctx, &rep, &stop_requested, &err);
	/* Sites cut short by a stop request are not problems worth an error. */
	for (size_t i = 0; i < rep.nproblems; i++)
		md_log(stop_requested ? MD_LOG_DEBUG : MD_LOG_ERROR, "site skipped", "error",
		       rep.problems[i].text, NULL);
	if (rc < 0 && stop_requested)
		md_log(MD_LOG_INFO, "cycle abandoned: stopping", "error", err.msg, NULL);
	else if (rc < 0)
		md_log(MD_LOG_ERROR, "cycle failed", "error", err.msg, NULL);
	else
		md_log(MD_LOG_INFO, "cycle finished", "commit", rep.commit[0] ? rep.commit : NULL,
		       NULL);
	md_log_set_cycle(0);
	publish_cycle(l, &rep, rc, rc < 0 ? err.msg : NULL, started);
	md_cycle_report_clear(&rep);
	l->failures = rc < 0 ? l->failures + 1 : 0;
	/* A cycle's peak (file contents, tag lists) is not the daemon's steady
	 * state: give the pages back. */
	malloc_trim(0);
	return rc;
}

/* Milliseconds until the next cycle: the interval, or the backoff after
 * failures, ±10 %. */
static int64_t next_wait_ms(struct loop *l)
{
	int64_t ms = md_config_settings(l->cfg)->interval * 1000;
	int64_t spread;

	if (l->failures) {
		int64_t b = BACKOFF_BASE_MS;

		for (unsigned i = 1; i < l->failures && b < ms; i++)
			b *= 2;
		if (b < ms)
			ms = b;
	}
	spread = ms / 10;
	if (spread > 0)
		ms += (int64_t)(rand_r(&l->seed) % (unsigned)(2 * spread + 1)) - spread;
	return ms > 0 ? ms : 1;
}

static void arm_timer(struct loop *l, int64_t ms)
{
	struct itimerspec it = { .it_value = { .tv_sec = ms / 1000,
					       .tv_nsec = (long)(ms % 1000) * 1000000L } };

	timerfd_settime(l->tfd, 0, &it, NULL);
}

/* Wait for the timer, SIGUSR1 or a stop, pinging the watchdog meanwhile
 * and reloading on SIGHUP. */
static void wait_next(struct loop *l)
{
	uint64_t buf;

	arm_timer(l, next_wait_ms(l));
	while (!stop_requested && !l->run_now) {
		struct pollfd p[3] = { { .fd = l->sfd, .events = POLLIN },
				       { .fd = l->tfd, .events = POLLIN },
				       { .fd = stop_efd, .events = POLLIN } };
		int64_t due;
		int rc;

		ping(l);
		due = md_notify_watchdog_due_in(l->notify, md_time_mono_ms());
		rc = poll(p, 3, due < 0 ? -1 : (int)(due > 0x7fffffff ? 0x7fffffff : due));
		if (rc < 0 && errno != EINTR)
			return;
		if (rc <= 0)
			continue;
		if (p[2].revents & POLLIN)
			while (read(stop_efd, &buf, sizeof(buf)) > 0) {
			}
		drain_signals(l);
		if (l->reload)
			reload(l);
		if ((p[1].revents & POLLIN) && read(l->tfd, &buf, sizeof(buf)) > 0)
			return;
	}
}

static int start(struct loop *l)
{
	const struct md_settings *s = md_config_settings(l->cfg);
	struct md_notify_env ne = { .notify_socket = env_get(l->envp, "NOTIFY_SOCKET"),
				    .watchdog_usec = env_get(l->envp, "WATCHDOG_USEC"),
				    .watchdog_pid = env_get(l->envp, "WATCHDOG_PID"),
				    .pid = getpid() };
	struct md_err err;

	if (md_notify_new(&l->notify, &ne, &err) < 0) {
		md_log(MD_LOG_WARN, "not notifying systemd", "error", err.msg, NULL);
		ne.notify_socket = NULL;
		if (md_notify_new(&l->notify, &ne, &err) < 0)
			return -1;
	}
	if (setup_signals(l) < 0) {
		md_log(MD_LOG_ERROR, "cannot set up signal handling", "error", strerror(errno), NULL);
		return -1;
	}
	if (md_obs_new(&l->obs, &err) < 0)
		return -1;
	md_obs_snapshot_init(&l->snap, md_time_now(), md_time_mono_ms(), s->interval);
	md_obs_publish(l->obs, &l->snap);
	l->ctx.progress = on_progress;
	l->ctx.progress_arg = l;
	return start_http(l, s->listen);
}

static void finish(struct loop *l)
{
	stop_http(l);
	md_obs_free(l->obs);
	if (l->sfd >= 0)
		close(l->sfd);
	if (l->tfd >= 0)
		close(l->tfd);
	if (stop_efd >= 0)
		close(stop_efd);
	stop_efd = -1;
	md_notify_free(l->notify);
	md_daemon_ctx_clear(&l->ctx);
	md_config_free(l->cfg);
}

int md_daemon_run(const char *config_path, char *const *envp)
{
	struct loop l = { .sfd = -1, .tfd = -1, .config_path = config_path, .envp = envp };
	struct md_err err;
	int rc = 0;

	/* One thread does the work and the HTTP thread serves a few bytes: two
	 * arenas are plenty and keep the resident set small. */
	mallopt(M_ARENA_MAX, 2);
	l.seed = (unsigned)(md_time_mono_ms() ^ getpid());
	if (md_config_load(&l.cfg, config_path, envp, &err) < 0) {
		md_log(MD_LOG_ERROR, "invalid configuration", "error", err.msg, NULL);
		return 2;
	}
	if (start(&l) < 0) {
		rc = 1;
		goto out;
	}
	md_log(MD_LOG_INFO, "started", "version", MD_VERSION, "repo",
	       md_config_settings(l.cfg)->repo, NULL);
	notify_status(&l, "starting: first cycle");
	while (!stop_requested) {
		l.run_now = 0;
		cycle_once(&l);
		send_ready(&l);
		drain_signals(&l);
		if (l.reload)
			reload(&l);
		wait_next(&l);
	}
	notify(&l, "STOPPING=1");
	md_log(MD_LOG_INFO, "stopping", NULL);
out:
	finish(&l);
	return rc;
}

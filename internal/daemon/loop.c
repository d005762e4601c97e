/* The daemon loop: a cycle every MD_INTERVAL with ±10 % jitter, signals
 * read from a signalfd so handlers never run inside library code. SIGTERM
 * and SIGINT stop between steps; SIGUSR1 runs a cycle now; SIGHUP reloads
 * the configuration (a bad one is rejected and the old one kept). */
#include "magos/daemon.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "magos/obs.h"
#include "magos/registry.h"

/* SIGTERM/SIGINT set this from a real handler (not the signalfd) so a
 * running cycle sees the request between its steps. */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct loop {
	int sfd;
	struct md_config *cfg;
	struct md_daemon_ctx ctx; /* kept across cycles: tokens are reused */
	const char *config_path;
	char *const *envp;
	int reload;
	int run_now;
	unsigned seed;
};

/* Drain pending signals into flags. Non-blocking: called between steps. */
static void drain_signals(struct loop *l)
{
	struct signalfd_siginfo si;

	while (read(l->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			l->reload = 1;
			break;
		case SIGUSR1:
			l->run_now = 1;
			break;
		default:
			break;
		}
	}
}

static int setup_signals(struct loop *l)
{
	struct sigaction sa;
	sigset_t set;

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
	return l->sfd < 0 ? -1 : 0;
}

static void reload(struct loop *l)
{
	struct md_config *fresh = NULL;
	struct md_err err;

	l->reload = 0;
	if (md_config_load(&fresh, l->config_path, l->envp, &err) < 0) {
		md_log(MD_LOG_ERROR, "configuration reload rejected; keeping the old one", "error",
		       err.msg, NULL);
		return;
	}
	md_config_free(l->cfg);
	l->cfg = fresh;
	/* Registry options may have changed (CA, auth files, timeouts). */
	md_daemon_ctx_clear(&l->ctx);
	md_log_setup(md_config_settings(fresh)->log_format, md_config_settings(fresh)->log_level,
		     NULL);
	md_log(MD_LOG_INFO, "configuration reloaded", NULL);
}

static int cycle_once(struct loop *l)
{
	struct md_cycle_report rep;
	struct md_err err;
	int rc;

	rc = md_daemon_cycle_with(l->cfg, MD_CYCLE_APPLY, &l->ctx, &rep, &stop_requested, &err);
	for (size_t i = 0; i < rep.problems.n; i++)
		md_log(MD_LOG_ERROR, "site skipped", "error", rep.problems.v[i], NULL);
	if (rc < 0)
		md_log(MD_LOG_ERROR, "cycle failed", "error", err.msg, NULL);
	else
		md_log(MD_LOG_INFO, "cycle finished", "commit", rep.commit[0] ? rep.commit : NULL,
		       NULL);
	md_cycle_report_free(&rep);
	return rc;
}

/* Milliseconds until the next cycle: the interval ±10 %. */
static int next_wait_ms(struct loop *l)
{
	int64_t ms = md_config_settings(l->cfg)->interval * 1000;
	int64_t spread = ms / 10;

	if (spread > 0)
		ms += (int64_t)(rand_r(&l->seed) % (unsigned)(2 * spread + 1)) - spread;
	return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

/* Wait for the timer or a signal. */
static void wait_next(struct loop *l)
{
	int64_t deadline = md_time_mono_ms() + next_wait_ms(l);

	while (!stop_requested && !l->run_now) {
		struct pollfd p = { .fd = l->sfd, .events = POLLIN };
		int64_t left = deadline - md_time_mono_ms();

		if (left <= 0)
			return;
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return;
		drain_signals(l);
		if (l->reload)
			reload(l);
	}
}

int md_daemon_run(const char *config_path, char *const *envp)
{
	struct loop l = { .config_path = config_path, .envp = envp };
	struct md_err err;

	l.seed = (unsigned)(md_time_mono_ms() ^ getpid());
	if (md_config_load(&l.cfg, config_path, envp, &err) < 0) {
		md_log(MD_LOG_ERROR, "invalid configuration", "error", err.msg, NULL);
		return 2;
	}
	if (setup_signals(&l) < 0) {
		md_log(MD_LOG_ERROR, "cannot set up signal handling", "error", strerror(errno), NULL);
		md_config_free(l.cfg);
		return 1;
	}
	md_log(MD_LOG_INFO, "started", "version", MD_VERSION, "repo",
	       md_config_settings(l.cfg)->repo, NULL);
	while (!stop_requested) {
		l.run_now = 0;
		cycle_once(&l);
		drain_signals(&l);
		if (l.reload)
			reload(&l);
		wait_next(&l);
	}
	md_log(MD_LOG_INFO, "stopping", NULL);
	close(l.sfd);
	md_daemon_ctx_clear(&l.ctx);
	md_config_free(l.cfg);
	return 0;
}

/* run, once, plan, check, version: what each prints and how it exits. */
#include "cli_int.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magos/daemon.h"
#include "magos/publish.h"
#include "magos/obs.h"

static int no_args(const char *cmd, int argc)
{
	if (argc == 0)
		return 0;
	fprintf(stderr, "magos-dominus: %s takes no arguments\n", cmd);
	return 2;
}

int md_cli__cmd_version(struct cli *c, int argc, char **argv)
{
	(void)c;
	(void)argv;
	if (no_args("version", argc))
		return 2;
	printf("magos-dominus %s\n", MD_VERSION);
	return 0;
}

/* The commands that write (the clone, the remote, the state, the host)
 * hold MD_STATE_DIR/lock for their whole life: two instances would race
 * on the clone. The kernel drops the lock when the process dies, however
 * it dies. Then what a killed earlier run left behind is cleared. Returns
 * 0 with *fd held, or the exit code: 2 when another instance holds it. */
static int take_instance_lock(const struct md_config *cfg, int *fd)
{
	const char *dir = md_config_settings(cfg)->state_dir;
	char *path = md_asprintf("%s/lock", dir);
	struct md_err err;
	char pid[24];
	long holder = 0;
	int rc;

	if (!path || md_mkdir_p(dir, 0700, &err) < 0 ||
	    (rc = md_lock_acquire(path, fd, &holder, &err)) < 0) {
		md_log(MD_LOG_ERROR, "cannot take the instance lock", "error",
		       path ? err.msg : "out of memory", NULL);
		free(path);
		return 1;
	}
	if (rc == 1) {
		snprintf(pid, sizeof(pid), "%ld", holder);
		md_log(MD_LOG_ERROR, holder ? "another instance is running (it holds the instance "
				       "lock); only one may write at a time"
					    : "another instance is running (it holds the instance "
					      "lock, its PID is not known yet)",
		       "pid", holder ? pid : NULL, "lock", path, NULL);
		free(path);
		return 2;
	}
	free(path);
	if (md_daemon_recover(cfg, &err) < 0) {
		md_log(MD_LOG_ERROR, "cannot clear what an earlier run left behind", "error", err.msg,
		       NULL);
		md_lock_release(*fd);
		*fd = -1;
		return 1;
	}
	return 0;
}

int md_cli__cmd_run(struct cli *c, int argc, char **argv)
{
	struct md_config *cfg = NULL;
	int rc, lock = -1;

	(void)argv;
	if (no_args("run", argc))
		return 2;
	/* Validate up front so a bad config exits 2 before the loop starts. */
	rc = md_cli__load_config(c, &cfg);
	if (rc == 0)
		rc = take_instance_lock(cfg, &lock);
	md_config_free(cfg);
	if (rc)
		return rc;
	rc = md_daemon_run(c->config_path, c->envp);
	md_lock_release(lock);
	return rc;
}

static void log_problems(const struct md_cycle_report *rep)
{
	for (size_t i = 0; i < rep->nproblems; i++)
		md_log(MD_LOG_ERROR, "site skipped", "error", rep->problems[i].text, NULL);
}

/* "no changes", and when sites were skipped, how many: skipped sites may
 * well have had updates. */
static void print_no_changes(const struct md_cycle_report *rep)
{
	if (rep->nproblems)
		printf("no changes (%zu site(s) skipped, see the log)\n", rep->nproblems);
	else
		printf("no changes\n");
}

/* A stack that failed, even one rolled back to its last good version, is
 * a failed run: what Git declares is not what runs. */
static int stacks_failed(const struct md_cycle_report *rep)
{
	for (size_t i = 0; i < rep->nstacks; i++)
		if (rep->stacks[i].outcome == MD_STACK_FAILED ||
		    rep->stacks[i].outcome == MD_STACK_ROLLED_BACK)
			return 1;
	return 0;
}

/* What each cycle command prints on stdout from the report. */
typedef void (*report_printer)(const struct md_cycle_report *rep, int rc, const char *branch);

/* SIGTERM/SIGINT during once: finish or undo the current step (a write,
 * commit or push is never left half-done), then exit 1 — as `run` does. */
static volatile sig_atomic_t once_stop;

static void on_stop(int sig)
{
	(void)sig;
	once_stop = 1;
}

static void catch_stop_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

/* once, plan and check: one cycle in a mode, its report printed, exit 1
 * when the cycle failed or any site was skipped (2 on a config error). */
static int cycle_command(struct cli *c, const char *name, int argc, enum md_cycle_mode mode,
			 report_printer print)
{
	struct md_cycle_report rep;
	struct md_config *cfg = NULL;
	char branch[256];
	struct md_err err;
	int rc, lock = -1;

	if (no_args(name, argc))
		return 2;
	rc = md_cli__load_config(c, &cfg);
	/* plan and check write nothing: they run beside a daemon */
	if (rc == 0 && mode == MD_CYCLE_APPLY)
		rc = take_instance_lock(cfg, &lock);
	if (rc) {
		md_config_free(cfg);
		return rc;
	}
	md_strlcpy(branch, md_config_settings(cfg)->branch, sizeof(branch));
	catch_stop_signals();
	rc = md_daemon_cycle(cfg, mode, &rep, &once_stop, &err) < 0 ? 1 : 0;
	if (rc)
		md_log(MD_LOG_ERROR, "cycle failed", "error", err.msg, NULL);
	md_config_free(cfg);
	print(&rep, rc, branch);
	if (rep.nproblems || stacks_failed(&rep))
		rc = 1;
	md_cycle_report_clear(&rep);
	md_lock_release(lock);
	return rc;
}

static void print_stacks(const struct md_cycle_report *rep)
{
	static const char *const verb[] = {
		[MD_STACK_PLANNED] = "would apply",
		[MD_STACK_APPLIED] = "applied",
		[MD_STACK_FAILED] = "FAILED",
		[MD_STACK_ROLLED_BACK] = "ROLLED BACK",
	};

	for (size_t i = 0; i < rep->nstacks; i++) {
		const struct md_stack_report *st = &rep->stacks[i];

		printf("%s stack %s: %s%s%s\n", verb[st->outcome], st->dir, st->reason,
		       st->error ? ": " : "", st->error ? st->error : "");
	}
}

static void print_once(const struct md_cycle_report *rep, int rc, const char *branch)
{
	log_problems(rep);
	for (size_t i = 0; i < rep->nchanges && (rep->commit[0] || rep->nprs); i++)
		printf("%s:%d %s %s -> %s\n", rep->changes[i].file, rep->changes[i].line,
		       rep->changes[i].image, rep->changes[i].from, rep->changes[i].to);
	if (rep->commit[0])
		printf("committed %s and pushed to origin/%s\n", rep->commit, branch);
	for (size_t i = 0; i < rep->nprs; i++)
		printf("pull request #%ld %s: %s%s%s\n", rep->prs[i].number,
		       md_publish_action_name(rep->prs[i].action),
		       rep->prs[i].branch, rep->prs[i].url ? " " : "",
		       rep->prs[i].url ? rep->prs[i].url : "");
	if (!rep->commit[0] && !rep->nprs && rc == 0)
		print_no_changes(rep);
	print_stacks(rep);
}

static void print_plan(const struct md_cycle_report *rep, int rc, const char *branch)
{
	(void)branch;
	log_problems(rep);
	for (size_t i = 0; i < rep->diffs.n; i++)
		fputs(rep->diffs.v[i], stdout);
	if (rc == 0 && rep->diffs.n == 0)
		print_no_changes(rep);
	/* MD_APPLY: the stacks this host would apply, and why. */
	print_stacks(rep);
}

static void print_check(const struct md_cycle_report *rep, int rc, const char *branch)
{
	(void)branch;
	for (size_t i = 0; i < rep->nproblems; i++)
		printf("%s\n", rep->problems[i].text);
	if (rc == 0 && rep->nproblems == 0)
		printf("ok: %zu sites in %zu files\n", rep->nsites, rep->nfiles);
}

int md_cli__cmd_once(struct cli *c, int argc, char **argv)
{
	(void)argv;
	return cycle_command(c, "once", argc, MD_CYCLE_APPLY, print_once);
}

int md_cli__cmd_plan(struct cli *c, int argc, char **argv)
{
	(void)argv;
	return cycle_command(c, "plan", argc, MD_CYCLE_PLAN, print_plan);
}

int md_cli__cmd_check(struct cli *c, int argc, char **argv)
{
	(void)argv;
	return cycle_command(c, "check", argc, MD_CYCLE_CHECK, print_check);
}

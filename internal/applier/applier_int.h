/* applier — private declarations shared by the module's files. */
#ifndef MAGOS_APPLIER_INT_H
#define MAGOS_APPLIER_INT_H

#include "magos/applier.h"

#define APP_JSON_MAX (4u * 1024 * 1024) /* ps / inspect output */
#define APP_CONTAINERS_MAX 256u           /* containers of one project */
#define APP_SERVICES_MAX 512u             /* services of one stack */
#define APP_COMPOSE_FILE_MAX (1u * 1024 * 1024)
#define APP_LOG_TAIL_MAX 480u             /* log tail quoted in an error */
#define APP_POLL_MS 500
#define APP_ENGINE_TIMEOUT_MS 60000       /* one ps / inspect / logs call */

struct md_applier {
	struct md_strv compose_cmd;
	char *engine;
	int engine_is_podman; /* only podman has `healthcheck run` */
	int64_t compose_timeout;
	int64_t health_timeout;
	struct md_strv env;   /* owned copy of opts->envp (empty: inherit) */
	const char *path;     /* PATH= value inside env, or NULL */
	void (*progress)(void *arg);
	void *progress_arg;
	volatile sig_atomic_t *stop;
};

/* How a child's output is kept. */
enum app_out {
	APP_OUT_BOUNDED, /* stdout only; more than out->max is an error */
	APP_OUT_TAIL,    /* stdout + stderr merged; the last out->max bytes kept */
};

struct app_cmd {
	char *const *argv;
	const char *cwd;  /* NULL: ours */
	int64_t timeout_ms;
	enum app_out mode;
};

#define APP_RUN_TIMEOUT MD_PROC_TIMEOUT

/* Run a child (no shell). 0 when it exited (*status: exit code, or 128 +
 * signal), APP_RUN_TIMEOUT when it was killed at the deadline, -1 when it
 * could not start or printed too much (err set, naming argv[0]). stderr is
 * kept (tail, up to 4 KiB) in errtail when given, in BOUNDED mode. */
int md_applier__run(struct md_applier *a, const struct app_cmd *c, struct md_buf *out,
	    struct md_buf *errtail, int *status, struct md_err *err);

/* `<engine> args...` with bounded stdout; a non-zero exit is an error that
 * quotes the last stderr line. */
int md_applier__engine(struct md_applier *a, const char *const *args, size_t nargs, struct md_buf *out,
	       struct md_err *err);

void md_applier__progress(struct md_applier *a);
int md_applier__stopped(const struct md_applier *a);

/* containers.c */
int md_applier__parse_ps(const char *json, struct md_strv *ids, struct md_err *err);
int md_applier__parse_inspect(const char *json, struct md_container **out, size_t *n,
		      struct md_err *err);
int md_applier__parse_repo_digests(const char *json, struct md_strv *digests);

/* declared.c: md_applier_declared on texts already read, one per compose
 * file in order (path names it in errors). */
struct app_text {
	const char *path;
	const char *text;
	size_t len;
};
int md_applier__declared_texts(const struct app_text *files, size_t nfiles, struct md_service_decl **out,
		       size_t *n, struct md_err *err);

/* image.c */
/* Does the container run the declared image? */
int md_applier__image_matches(const struct md_container *c, const char *declared);
/* Canonical form for comparison: docker.io/library/ and :latest filled in. */
char *md_applier__image_normalise(const char *ref);

#endif

/* applier — one host's side of GitOps: run the compose command for a stack
 * (a directory holding a compose file), wait for its containers to be
 * running and healthy, and tell what runs against what is declared.
 *
 * Child processes run with an argv (no shell), a timeout and captured
 * output (bounded). Nothing here logs or reads the environment; secrets are
 * handed in as env-file paths and never appear in argv or messages. */
#ifndef MAGOS_APPLIER_H
#define MAGOS_APPLIER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "magos/util.h"

#define MD_APPLIER_OUTPUT_MAX (64u * 1024) /* tail of a child's output kept */

struct md_applier_opts {
	const struct md_strv *compose_cmd; /* e.g. {"podman-compose"} or {"podman","compose"} */
	const char *engine;                /* "podman" or "docker": inspect/ps/healthcheck */
	int64_t compose_timeout;           /* seconds per compose command */
	int64_t health_timeout;            /* seconds for running + healthy after up */
	char *const *envp;                 /* environment of the children (PATH, HOME, XDG_*) */
	/* Called while waiting (each poll, each child exit): the daemon's
	 * watchdog hook. May be NULL. */
	void (*progress)(void *arg);
	void *progress_arg;
	/* Polled while waiting; a stop request ends a health wait early (as a
	 * failure "stopped") but never kills a compose command half-way. */
	volatile sig_atomic_t *stop;
};

struct md_applier;

int md_applier_new(struct md_applier **out, const struct md_applier_opts *opts,
		   struct md_err *err);
void md_applier_free(struct md_applier *a);

/* The compose project name of a stack directory, as compose derives it from
 * the directory's base name: lowercased, only [a-z0-9_-] kept; "." (the
 * repository root) uses the repository directory's name. */
char *md_applier_project_name(const char *abs_dir);

/* A stack to run: its directory (absolute), compose files (relative to
 * dir, at least one), project name, and extra files: env files (absolute,
 * 0600, e.g. decrypted secrets) that every service gets through an
 * override compose file written next to them in secrets_dir. */
struct md_stack_spec {
	const char *dir;
	const char *const *files;
	size_t nfiles;
	const char *project;
	const char *const *env_files; /* may be NULL */
	size_t nenv_files;
	const char *secrets_dir;      /* private dir for the override file; NULL when no env files */
};

/* One service as declared in the stack's compose files. */
struct md_service_decl {
	char *name;
	char *image; /* as written, after ${VAR} defaults are left as is */
	/* A service meant to run once and exit: the compose files declare
	 * `restart: "no"` for it, or another service depends on it with
	 * `condition: service_completed_successfully`. Its container having
	 * exited with code 0 is success (health wait) and no drift; any other
	 * service that exits, even with 0, has failed. */
	int oneshot;
};

/* Services and images declared by the stack's compose files (libyaml;
 * later files override earlier ones per service). */
int md_applier_declared(const struct md_stack_spec *spec, struct md_service_decl **out,
			size_t *n, struct md_err *err);
void md_service_decls_free(struct md_service_decl *v, size_t n);

/* One container of a compose project, from the engine's inspect JSON. */
struct md_container {
	char *id;
	char *name;
	char *service;      /* com.docker.compose.service label */
	char *image_name;   /* the reference it was created from */
	char *image_id;
	struct md_strv repo_digests; /* "repo@sha256:..." of its image */
	char *state;        /* "running", "exited", "created", ... */
	int exit_code;
	char *health;       /* "healthy", "unhealthy", "starting", or NULL: no healthcheck */
};
void md_containers_free(struct md_container *v, size_t n);

/* Containers (any state) labelled com.docker.compose.project=project. */
int md_applier_containers(struct md_applier *a, const char *project, struct md_container **out,
			  size_t *n, struct md_err *err);

/* `compose pull`, then `compose up -d`. *output (caller frees) gets the tail
 * of what the commands printed, for the log. On failure err names the
 * command, its exit status (or the timeout) and the stack. */
int md_applier_up(struct md_applier *a, const struct md_stack_spec *spec, char **output,
		  struct md_err *err);

/* Wait until every declared service has a running container and, where a
 * healthcheck exists, a healthy one (running the healthcheck itself with
 * `<engine> healthcheck run` when the engine has no timer for it). A
 * one-shot service (oneshot in md_service_decl) must instead exit 0. Fails
 * early on an exited container (exit 0 of a one-shot excepted) or an
 * unhealthy one, naming the service, its state/exit code and the last lines
 * of its log. */
int md_applier_wait_healthy(struct md_applier *a, const struct md_stack_spec *spec,
			    struct md_err *err);

/* Compare what runs with what is declared. *drift (caller frees, NULL when
 * none) is one sentence per problem: "service web: no container",
 * "service web: exited (1)", "service web: runs X, declared Y" (a one-shot
 * that exited 0 is not drift). A declared
 * image with @sha256: matches a container whose image has that digest in
 * its RepoDigests; one without a digest matches by image name. */
int md_applier_drift(struct md_applier *a, const struct md_stack_spec *spec, char **drift,
		     struct md_err *err);

/* `compose down` for a stack deleted from the repository: its containers
 * and networks go, named volumes stay (no -v). spec->files may be absolute
 * (old versions written elsewhere); env files are not used. *output as for
 * md_applier_up. */
int md_applier_down(struct md_applier *a, const struct md_stack_spec *spec, char **output,
		    struct md_err *err);

#endif

/* applier — the handle, project names, and the small shared helpers. */
#include "applier_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

int md_applier_new(struct md_applier **out, const struct md_applier_opts *opts,
		   struct md_err *err)
{
	struct md_applier *a;

	*out = NULL;
	if (!opts || !opts->compose_cmd || opts->compose_cmd->n == 0 || !opts->engine ||
	    !opts->engine[0])
		return md_err_set(err, "applier: a compose command and an engine are required");
	if (opts->compose_timeout <= 0 || opts->health_timeout <= 0)
		return md_err_set(err, "applier: compose and health timeouts must be positive");
	a = calloc(1, sizeof(*a));
	if (!a)
		return md_err_set(err, "applier: out of memory");
	for (size_t i = 0; i < opts->compose_cmd->n; i++)
		if (md_strv_push(&a->compose_cmd, opts->compose_cmd->v[i]) < 0)
			goto oom;
	for (size_t i = 0; opts->envp && opts->envp[i]; i++) {
		if (md_strv_push(&a->env, opts->envp[i]) < 0)
			goto oom;
		if (md_str_has_prefix(opts->envp[i], "PATH="))
			a->path = a->env.v[a->env.n - 1] + 5;
	}
	a->engine = md_strdup(opts->engine);
	if (!a->engine)
		goto oom;
	{
		const char *base = strrchr(a->engine, '/');

		a->engine_is_podman = strcmp(base ? base + 1 : a->engine, "podman") == 0;
	}
	a->compose_timeout = opts->compose_timeout;
	a->health_timeout = opts->health_timeout;
	a->progress = opts->progress;
	a->progress_arg = opts->progress_arg;
	a->stop = opts->stop;
	*out = a;
	return 0;
oom:
	md_applier_free(a);
	return md_err_set(err, "applier: out of memory");
}

void md_applier_free(struct md_applier *a)
{
	if (!a)
		return;
	md_strv_clear(&a->compose_cmd);
	md_strv_clear(&a->env);
	free(a->engine);
	free(a);
}

void md_applier__progress(struct md_applier *a)
{
	if (a->progress)
		a->progress(a->progress_arg);
}

int md_applier__stopped(const struct md_applier *a)
{
	return a->stop && *a->stop;
}

char *md_applier_project_name(const char *abs_dir)
{
	size_t end, start;
	char *name;
	size_t n = 0;

	if (!abs_dir)
		return NULL;
	end = strlen(abs_dir);
	while (end > 1 && abs_dir[end - 1] == '/')
		end--;
	/* "/repo/." is the repository root: its directory's name. */
	while (end >= 2 && abs_dir[end - 1] == '.' && abs_dir[end - 2] == '/') {
		end -= 2;
		while (end > 1 && abs_dir[end - 1] == '/')
			end--;
	}
	start = end;
	while (start > 0 && abs_dir[start - 1] != '/')
		start--;
	name = malloc(end - start + sizeof("default"));
	if (!name)
		return NULL;
	for (size_t i = start; i < end; i++) {
		int ch = tolower((unsigned char)abs_dir[i]);

		/* compose: the name must start with a letter or a digit */
		if (isdigit(ch) || (ch >= 'a' && ch <= 'z') ||
		    (n > 0 && (ch == '_' || ch == '-')))
			name[n++] = (char)ch;
	}
	if (n == 0) {
		memcpy(name, "default", sizeof("default"));
		return name;
	}
	name[n] = '\0';
	return name;
}

void md_service_decls_free(struct md_service_decl *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].image);
	}
	free(v);
}

void md_containers_free(struct md_container *v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++) {
		free(v[i].id);
		free(v[i].name);
		free(v[i].service);
		free(v[i].image_name);
		free(v[i].image_id);
		md_strv_clear(&v[i].repo_digests);
		free(v[i].state);
		free(v[i].health);
	}
	free(v);
}

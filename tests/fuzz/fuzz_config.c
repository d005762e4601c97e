/* Fuzz the EnvironmentFile parser, then run whatever it accepted through the
 * whole loader (as an environment, so no file is written) to reach every
 * value validator; also the shared author and boolean parsers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "magos/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void load_as_env(const struct md_config_entries *e)
{
	char **envp = calloc(e->n + 2, sizeof(*envp));
	struct md_config *cfg = NULL;
	struct md_err err;
	size_t n = 0;

	if (!envp)
		return;
	/* MD_REPO first: a file without it would stop at "required". */
	envp[n++] = md_strdup("MD_REPO=/srv/fuzz");
	for (size_t i = 0; i < e->n; i++)
		envp[n++] = md_asprintf("%s=%s", e->v[i].key, e->v[i].value);
	if (md_config_load(&cfg, NULL, envp, &err) == 0) {
		const struct md_settings *s = md_config_settings(cfg);

		/* The loader's contract: the required and defaulted strings are
		 * set, and every duration and count lies within its key's
		 * bounds (config.c's table: durations at least 1 s). */
		if (!s->repo || !s->branch || !s->commit_template || s->compose_globs.n == 0 ||
		    !s->state_dir || !s->runtime_dir || !s->git_author_name ||
		    !*s->git_author_name || !s->git_author_email || !*s->git_author_email ||
		    s->compose_cmd.n == 0 || s->interval < 1 || s->registry_timeout < 1 ||
		    s->registry_connect_timeout < 1 || s->health_timeout < 1 ||
		    s->compose_timeout < 1 || s->registry_page_size < 1 ||
		    s->registry_page_size > 10000 || s->registry_concurrency < 1 ||
		    s->registry_concurrency > 32 || s->push_retries < 0 || s->push_retries > 20)
			abort();
		for (size_t i = 0; i < e->n; i++)
			if (!md_config_lookup(cfg, e->v[i].key) ||
			    !md_config_origin(cfg, e->v[i].key))
				abort();
		md_config_free(cfg);
	} else if (cfg || err.msg[0] == '\0') {
		abort();
	}
	for (size_t i = 0; i < n; i++)
		free(envp[i]);
	free(envp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct md_config_entries e;
	struct md_err err;
	char *s, *name = NULL, *email = NULL;
	int b;

	if (md_config_parse_envfile(&e, "fuzz.env", (const char *)data, size, &err) == 0) {
		load_as_env(&e);
		md_config_entries_clear(&e);
	} else if (e.n != 0 || e.v != NULL || err.msg[0] == '\0') {
		abort();
	}
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (md_config_parse_author(s, &name, &email, &err) == 0 && (!*name || !*email))
		abort();
	free(name);
	free(email);
	md_config_parse_bool(s, &b);
	free(s);
	return 0;
}

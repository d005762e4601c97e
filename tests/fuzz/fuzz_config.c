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

		if (!s->repo || !s->branch || !s->commit_template || s->compose_globs.n == 0 ||
		    s->interval < 10)
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
		md_config_entries_free(&e);
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

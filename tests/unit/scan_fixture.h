/* The Trivy stand-in (tests/integration/mdtest/trivy.py) for C tests: a
 * scratch directory holding a symlink `trivy` to it and its standin.json,
 * the record of every call it got, and its `trivy server` mode on
 * 127.0.0.1. The stand-in answers with Trivy's own reports, read in place
 * from ../shared/fixtures/trivy/ (docs/testing.md). Static, one copy per
 * test file; tests run from the repository's root. */
#ifndef MAGOS_TEST_SCAN_FIXTURE_H
#define MAGOS_TEST_SCAN_FIXTURE_H

#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tmpdir.h"

#define STANDIN_SCRIPT "tests/integration/mdtest/trivy.py"
#define STANDIN_FIXTURES "../shared/fixtures/trivy"

extern char **environ;

struct standin {
	char *dir;
	char trivy[PATH_MAX], record[PATH_MAX], work[PATH_MAX];
	json_t *cfg;
	pid_t server;
	char url[64];
};

__attribute__((unused)) static void standin_save(struct standin *s)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/standin.json", s->dir);
	if (json_dump_file(s->cfg, path, 0) < 0)
		fail_msg("cannot write %s", path);
}

__attribute__((unused)) static void standin_init(struct standin *s)
{
	char script[PATH_MAX], fixtures[PATH_MAX];

	memset(s, 0, sizeof(*s));
	if (!realpath(STANDIN_SCRIPT, script))
		fail_msg("%s not found (run from the repository's root)", STANDIN_SCRIPT);
	if (!realpath(STANDIN_FIXTURES, fixtures))
		fail_msg("%s not found: the shared fixtures are read in place (docs/testing.md)",
			 STANDIN_FIXTURES);
	s->dir = tmpdir_new("md-scan");
	assert_non_null(s->dir);
	snprintf(s->trivy, sizeof(s->trivy), "%s/trivy", s->dir);
	snprintf(s->record, sizeof(s->record), "%s/calls.jsonl", s->dir);
	snprintf(s->work, sizeof(s->work), "%s/work", s->dir);
	assert_int_equal(symlink(script, s->trivy), 0);
	assert_int_equal(mkdir(s->work, 0700), 0);
	s->cfg = json_pack("{ss ss s{} s{ss s{si ss}}}", "fixtures", fixtures, "record", s->record,
			   "images", "version", "Version", "0.50.1", "VulnerabilityDB", "Version", 2,
			   "UpdatedAt", "2024-05-01T06:12:33.1Z");
	assert_non_null(s->cfg);
	standin_save(s);
}

/* Answer `key` (name@digest or a digest) with a golden in a mode. */
__attribute__((unused)) static void standin_image(struct standin *s, const char *key,
						  const char *report, const char *mode)
{
	json_object_set_new(json_object_get(s->cfg, "images"), key,
			    json_pack("{ssss}", "report", report, "mode", mode));
	standin_save(s);
}

__attribute__((unused)) static void standin_set(struct standin *s, const char *key, json_t *v)
{
	json_object_set_new(s->cfg, key, v);
	standin_save(s);
}

/* Every record line, in order (an empty array before the first call). */
__attribute__((unused)) static json_t *standin_calls(const struct standin *s)
{
	json_t *all = json_array();
	FILE *f = fopen(s->record, "r");
	char *line = NULL;
	size_t cap = 0;

	while (f && getline(&line, &cap, f) > 0) {
		json_error_t jerr;
		json_t *j = json_loads(line, 0, &jerr);

		if (!j)
			fail_msg("bad record line: %s", jerr.text);
		json_array_append_new(all, j);
	}
	free(line);
	if (f)
		fclose(f);
	return all;
}

/* The last call of the executable (not a server request); NULL if none.
 * Caller decrefs. */
__attribute__((unused)) static json_t *standin_last_call(const struct standin *s)
{
	json_t *all = standin_calls(s), *last = NULL, *c;
	size_t i;

	json_array_foreach(all, i, c)
		if (json_object_get(c, "argv"))
			last = c;
	if (last)
		json_incref(last);
	json_decref(all);
	return last;
}

/* The server's requests for path (0 when none). */
__attribute__((unused)) static size_t standin_server_requests(const struct standin *s,
							      const char *path, const char **token)
{
	json_t *all = standin_calls(s), *c, *srv;
	size_t i, n = 0;
	static char last_token[256];

	last_token[0] = '\0';
	json_array_foreach(all, i, c) {
		srv = json_object_get(c, "server");
		if (!srv || strcmp(json_string_value(json_object_get(srv, "path")), path) != 0)
			continue;
		n++;
		snprintf(last_token, sizeof(last_token), "%s",
			 json_is_string(json_object_get(srv, "token"))
				 ? json_string_value(json_object_get(srv, "token"))
				 : "");
	}
	json_decref(all);
	if (token)
		*token = last_token;
	return n;
}

/* `trivy server --listen 127.0.0.1:0 [--token T]`; waits for its port. */
__attribute__((unused)) static void standin_start_server(struct standin *s, const char *token)
{
	char tok[256];
	char *argv[] = { "trivy", "server", "--listen", "127.0.0.1:0", "--token", tok, NULL };
	char portfile[PATH_MAX + 16];
	int port = 0;

	snprintf(tok, sizeof(tok), "%s", token ? token : "");
	if (!token)
		argv[4] = NULL;
	snprintf(portfile, sizeof(portfile), "%s/server.port", s->dir);
	if (posix_spawn(&s->server, s->trivy, NULL, NULL, argv, environ) != 0)
		fail_msg("cannot start the stand-in server");
	/* an event, not a time limit: the server writes its port when it
	 * listens; give up only after a minute */
	for (int i = 0; i < 6000 && port == 0; i++) {
		FILE *f = fopen(portfile, "r");

		if (f) {
			if (fscanf(f, "%d", &port) != 1)
				port = 0;
			fclose(f);
		}
		if (port == 0)
			usleep(10000);
	}
	if (port == 0)
		fail_msg("the stand-in server never wrote its port");
	snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d", port);
}

__attribute__((unused)) static void standin_stop_server(struct standin *s)
{
	int st;

	if (s->server <= 0)
		return;
	kill(s->server, SIGTERM);
	waitpid(s->server, &st, 0);
	s->server = 0;
}

__attribute__((unused)) static void standin_free(struct standin *s)
{
	standin_stop_server(s);
	json_decref(s->cfg);
	tmpdir_free(s->dir);
}

#endif

/* Fuzz the github module's parsers of untrusted input: the first byte picks
 * the parser (byte % 8, so the seeds' ASCII '0'..'4' are parsers 0..4), the
 * rest is its input. Besides "no crash", each branch checks what the parser
 * promises. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "magos/github.h"
#include "../../internal/github/github_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_token(const char *s, size_t n)
{
	struct md_err err;
	char *token = NULL;
	int64_t exp = 0;

	if (md_gh_parse_token(s, n, &token, &exp, &err) == 0) {
		/* whatever is accepted is safe to put in a header */
		for (const char *p = token; *p; p++)
			if (*p <= ' ' || *p > '~')
				abort();
		if (!*token || strlen(token) > MD_GH_TOKEN_MAX)
			abort();
		free(token);
	} else if (token || strstr(err.msg, "ghs_")) {
		abort();
	}
}

static void fuzz_prs(const char *s, size_t n)
{
	struct md_gh_prv pv = { 0 };
	struct md_err err;

	if (md_gh_parse_pr_list(s, n, n & 1 ? "acme/web" : NULL, n & 2 ? "magos/" : NULL, &pv,
				"GET fuzz", &err) == 0) {
		for (size_t i = 0; i < pv.n; i++)
			if (pv.v[i].number <= 0 || !pv.v[i].head || !pv.v[i].base ||
			    !pv.v[i].title || !pv.v[i].body || !pv.v[i].html_url ||
			    !pv.v[i].head_sha || ((n & 2) && strncmp(pv.v[i].head, "magos/", 6)))
				abort();
	}
	md_gh_prv_free(&pv);
}

static void fuzz_remote(const char *s)
{
	struct md_err err;
	char *owner, *repo;

	if (md_github_parse_remote(s, &owner, &repo, &err) == 0) {
		if (!*owner || !*repo || strchr(owner, '/') || strchr(repo, '/') ||
		    md_str_has_suffix(repo, ".git") || !strcmp(repo, ".."))
			abort();
		free(owner);
		free(repo);
	} else if (owner || repo) {
		abort();
	}
}

static void fuzz_link(const char *s)
{
	char *next = NULL;

	if (md_gh_link_next(s, &next) == 0 && next && strchr(next, '>'))
		abort();
	free(next);
}

static void fuzz_error(const char *s, size_t n)
{
	char out[96];

	md_gh_error_text(s, n, out, sizeof(out));
	if (strlen(out) >= sizeof(out) || strchr(out, '\n') || strchr(out, '\r'))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1 || size > 65536)
		return 0;
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 8) {
	case 0:
		fuzz_token(s, size - 1);
		break;
	case 1:
		fuzz_prs(s, size - 1);
		break;
	case 2:
		fuzz_remote(s);
		break;
	case 3:
		fuzz_link(s);
		break;
	default:
		fuzz_error(s, size - 1);
		break;
	}
	free(s);
	return 0;
}

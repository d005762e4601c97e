/* Fuzz the github module's parsers of untrusted input: the first byte picks
 * the parser (byte % 16, so the seeds' ASCII '0'..'8' are parsers 0..8), the
 * rest is its input: 0 installation token, 1 PR list, 2 remote URL, 3 Link,
 * 4 error body, 5 Git Data answers (blob, tree, commit), 6 the PR that
 * POST/PATCH .../pulls answers, 7 "head\nmarker\n" + closed PRs, 8 the
 * installation and App answers (id, slug). Besides "no crash", each branch
 * checks what the parser promises. */
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

	if (md_github__parse_token(s, n, &token, &exp, &err) == 0) {
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

	if (md_github__parse_pr_list(s, n, n & 1 ? "acme/web" : NULL, n & 2 ? "magos/" : NULL, &pv,
				"GET fuzz", &err) == 0) {
		for (size_t i = 0; i < pv.n; i++)
			if (pv.v[i].number <= 0 || !pv.v[i].head || !pv.v[i].base ||
			    !pv.v[i].title || !pv.v[i].body || !pv.v[i].html_url ||
			    !pv.v[i].head_sha || ((n & 2) && strncmp(pv.v[i].head, "magos/", 6)))
				abort();
	}
	md_github__prv_free(&pv);
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

	if (md_github__link_next(s, &next) == 0 && next && strchr(next, '>'))
		abort();
	free(next);
}

static void fuzz_error(const char *s, size_t n)
{
	char out[96];

	md_github__error_text(s, n, out, sizeof(out));
	if (strlen(out) >= sizeof(out) || strchr(out, '\n') || strchr(out, '\r'))
		abort();
}

/* A 2xx body as md_github__resp_json hands it to the callers. */
static json_t *answer(const char *s, size_t n, int want_array)
{
	struct md_gh_req req = { "GET", "https://api.example/x", NULL, MD_GH_AUTH_TOKEN, NULL,
				 NULL };
	struct md_gh_resp resp;
	struct md_err err = { { 0 } };
	json_t *j = NULL;

	md_github__resp_init(&resp, MD_GH_BODY_MAX);
	if (md_buf_append(&resp.body, s, n) == 0 &&
	    md_github__resp_json(&req, &resp, want_array, &j, &err) < 0 &&
	    (j || !strstr(err.msg, "https://api.example/x")))
		abort();
	md_github__resp_clear(&resp);
	md_buf_clear(&resp.body);
	return j;
}

static void check_sha(json_t *j, const char *key)
{
	const char *want = json_string_value(json_object_get(key ? json_object_get(j, key) : j, "sha"));
	struct md_err err = { { 0 } };
	char sha[41];

	if (md_github__answer_sha(j, key, "POST fuzz", sha, &err) == 0) {
		/* exactly the answer's 40 lowercase hex digits */
		if (!want || strcmp(sha, want) != 0 || strlen(sha) != 40 ||
		    strspn(sha, "0123456789abcdef") != 40)
			abort();
	} else if (!strstr(err.msg, "POST fuzz")) {
		abort();
	}
}

static void fuzz_gitdata(const char *s, size_t n)
{
	json_t *j = answer(s, n, 0);

	if (!j)
		return;
	check_sha(j, NULL);   /* blob, tree, commit */
	check_sha(j, "tree"); /* a parent commit's tree */
	json_decref(j);
}

static void check_pr(const struct md_github_pr *pr)
{
	if (pr->number <= 0 || pr->number > 1000000000 || !pr->head || !pr->base || !pr->title ||
	    !pr->body || !pr->html_url || !pr->head_sha)
		abort();
}

static void fuzz_pr_answer(const char *s, size_t n)
{
	struct md_github_pr pr;
	struct md_err err = { { 0 } };
	json_t *j = answer(s, n, 0);

	if (!j)
		return;
	if (md_github__parse_pr(j, &pr, &err) == 0) {
		check_pr(&pr);
		md_github_pr_clear(&pr);
	} else if (pr.head || pr.base || pr.title || pr.body || !err.msg[0]) {
		abort();
	}
	json_decref(j);
}

/* "head\nmarker\n[closed PRs]" (an empty marker: none). */
static void fuzz_closed(char *s, size_t n)
{
	char *marker = memchr(s, '\n', n), *body;
	struct md_github_pr *pr = (struct md_github_pr *)1;
	struct md_err err = { { 0 } };
	json_t *j;

	if (!marker || !(body = memchr(marker + 1, '\n', n - (size_t)(marker + 1 - s))))
		return;
	*marker++ = '\0';
	*body++ = '\0';
	if (!(j = answer(body, n - (size_t)(body - s), 1)))
		return;
	if (md_github__pick_closed(j, "acme/web", s, *marker ? marker : NULL, "GET fuzz", &pr, &err) == 0) {
		/* only one of ours, from that branch, with the marker */
		if (pr && (strcmp(pr->head, s) != 0 || (*marker && !strstr(pr->body, marker))))
			abort();
		if (pr)
			check_pr(pr);
	} else if (pr || !strstr(err.msg, "GET fuzz")) {
		abort();
	}
	md_github_pr_clear(pr);
	free(pr);
	json_decref(j);
}

static void fuzz_install(const char *s, size_t n)
{
	json_t *j = answer(s, n, 0), *id;
	const char *slug;
	long long v;

	if (!j)
		return;
	id = json_object_get(j, "id");
	v = md_github__positive_id(j);
	if (v < 0 || (v > 0 && (!json_is_integer(id) || json_integer_value(id) != v)) ||
	    (v == 0 && json_is_integer(id) && json_integer_value(id) > 0))
		abort();
	slug = json_string_value(json_object_get(j, "slug"));
	if (md_github__valid_slug(slug)) {
		/* it becomes "<slug>[bot]" and "<id>+<slug>[bot]@users.noreply..." */
		if (!*slug || strlen(slug) > 100 || strpbrk(slug, "<>@ \n\r\t\"\\/%?#:"))
			abort();
		for (const char *p = slug; *p; p++)
			if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
				abort();
	}
	json_decref(j);
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
	switch (data[0] % 16) {
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
	case 5:
		fuzz_gitdata(s, size - 1);
		break;
	case 6:
		fuzz_pr_answer(s, size - 1);
		break;
	case 7:
		fuzz_closed(s, size - 1);
		break;
	case 8:
		fuzz_install(s, size - 1);
		break;
	default:
		fuzz_error(s, size - 1);
		break;
	}
	free(s);
	return 0;
}

/* github — owner and repository from a Git remote URL. */
#include "github_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REMOTE_MAX 2048

/* GitHub logins: letters, digits and '-'. Repository names add '_' and '.'
 * but may not be "." or "..". */
static int valid_owner(const char *s, size_t n)
{
	if (n == 0 || n > 100)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

static int valid_repo(const char *s, size_t n)
{
	if (n == 0 || n > 100 || (n == 1 && s[0] == '.') || (n == 2 && !strncmp(s, "..", 2)))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return 0;
	}
	return 1;
}

/* The URL for an error message, without any user:password@ part. */
static void redact(const char *url, char *out, size_t outlen)
{
	const char *scheme = strstr(url, "://"), *at, *slash;

	if (scheme && (slash = strchr(scheme + 3, '/'), at = strchr(scheme + 3, '@')) &&
	    (!slash || at < slash)) {
		snprintf(out, outlen, "%.*s***%s", (int)(scheme + 3 - url), url, at);
		return;
	}
	md_strlcpy(out, url, outlen);
}

/* Host part (after the scheme or before ':' in scp syntax) must be sane. */
static int valid_host(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || strchr("/\\?#", s[i]))
			return 0;
	return 1;
}

static int has_suffix_n(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && !strncmp(s + n - k, suffix, k);
}

/* Split "OWNER/REPO[.git][/]" into its parts.
 *
 * One ".git" is Git's conventional suffix for the repository's URL and is
 * not part of its name. GitHub never lets a repository's own name end in
 * ".git" (it removes that suffix when one is created or renamed) and
 * reserves ".wiki" for the wiki's repository, so a name that still ends in
 * either after the one ".git" is cut (".../web.git.git", ".../web.wiki.git")
 * names no repository the API knows: refused rather than guessed. */
static int split_path(const char *path, char **owner, char **repo)
{
	const char *slash = strchr(path, '/');
	size_t olen, rlen;

	if (!slash)
		return -1;
	olen = (size_t)(slash - path);
	rlen = strlen(slash + 1);
	if (rlen && slash[1 + rlen - 1] == '/')
		rlen--;
	if (has_suffix_n(slash + 1, rlen, ".git"))
		rlen -= 4;
	if (!valid_owner(path, olen) || !valid_repo(slash + 1, rlen) ||
	    memchr(slash + 1, '/', rlen))
		return -1;
	if (has_suffix_n(slash + 1, rlen, ".git") || has_suffix_n(slash + 1, rlen, ".wiki"))
		return -2;
	*owner = md_strndup(path, olen);
	*repo = md_strndup(slash + 1, rlen);
	if (!*owner || !*repo) {
		free(*owner);
		free(*repo);
		*owner = *repo = NULL;
		return -1;
	}
	return 0;
}

static const char *path_of(const char *url)
{
	static const char *const schemes[] = { "https://", "http://", "ssh://", "git+ssh://" };
	const char *rest = NULL, *slash, *at, *colon;

	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (md_str_has_prefix(url, schemes[i]))
			rest = url + strlen(schemes[i]);
	if (rest) {
		slash = strchr(rest, '/');
		if (!slash)
			return NULL;
		at = memchr(rest, '@', (size_t)(slash - rest));
		if (at)
			rest = at + 1;
		return valid_host(rest, (size_t)(slash - rest)) ? slash + 1 : NULL;
	}
	if (strstr(url, "://"))
		return NULL; /* file://, ftp://, ... */
	/* scp-like: [user@]host:owner/repo; a '/' before the ':' means a path. */
	colon = strchr(url, ':');
	slash = strchr(url, '/');
	if (!colon || (slash && slash < colon))
		return NULL;
	at = memchr(url, '@', (size_t)(colon - url));
	rest = at ? at + 1 : url;
	return valid_host(rest, (size_t)(colon - rest)) ? colon + 1 : NULL;
}

int md_github_parse_remote(const char *url, char **owner, char **repo, struct md_err *err)
{
	char shown[256];
	const char *path;
	int rc = -1;

	*owner = *repo = NULL;
	if (url && strlen(url) < REMOTE_MAX && (path = path_of(url)) &&
	    (rc = split_path(path, owner, repo)) == 0)
		return 0;
	redact(url ? url : "", shown, sizeof(shown));
	if (rc == -2)
		return md_err_set(err,
				  "cannot read owner/repo from the remote URL '%s': a GitHub "
				  "repository name never ends in .git or .wiki",
				  shown);
	return md_err_set(err,
			  "cannot read owner/repo from the remote URL '%s': expected "
			  "https://HOST/OWNER/REPO(.git) or git@HOST:OWNER/REPO(.git)",
			  shown);
}

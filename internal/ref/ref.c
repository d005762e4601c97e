/* ref — image references by the distribution/reference grammar, written out
 * by hand (no regex library), with Docker Hub normalisation.
 *
 * The name is kept exactly as the user wrote it so that rewriting a compose
 * file changes nothing but the tag and digest; the normalised domain and
 * path exist only for talking to registries and grouping. */
#include "magos/ref.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define REF_MAX 4096      /* longest reference accepted at all */
#define REF_PATH_MAX 255  /* distribution's RepositoryNameTotalLengthMax */
#define REF_TAG_MAX 128
#define REF_DOMAIN_MAX 255 /* a DNS name's limit, with room for a port */
#define REF_SHOW_MAX 96   /* how much of a bad input an error message echoes */

#define DOCKER_HUB_LEGACY "index.docker.io"

struct md_ref {
	char *name;      /* as written, without tag and digest */
	char *domain;    /* normalised */
	char *path;      /* normalised, "library/" added on Docker Hub */
	char *tag;       /* NULL when absent */
	char *digest;    /* NULL when absent */
	char *canonical; /* domain "/" path */
};

/* ---- character classes ------------------------------------------------ */

static int is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static int is_word(char c)
{
	return is_alnum(c) || c == '_';
}

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

/* 1 when s[0..n) is all lowercase hex digits. */
static int lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static const char *memchr_last(const char *s, size_t n, char c)
{
	while (n--)
		if (s[n] == c)
			return s + n;
	return NULL;
}

/* ---- errors ----------------------------------------------------------- */

/* Copy at most REF_SHOW_MAX bytes of s[0..n) for an error message, with
 * control bytes replaced so the message stays one printable line. */
static const char *show(char *dst, size_t dstlen, const char *s, size_t n)
{
	size_t i, o = 0, lim = n > REF_SHOW_MAX ? REF_SHOW_MAX : n;

	for (i = 0; i < lim && o + 4 < dstlen; i++) {
		unsigned char c = (unsigned char)s[i];

		dst[o++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (i < n && o + 4 <= dstlen) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
	return dst;
}

static int ref_fail(struct md_err *err, const char *input, const char *reason)
{
	char shown[REF_SHOW_MAX + 8];

	show(shown, sizeof(shown), input, strnlen(input, REF_MAX + 1));
	return md_err_set(err, "invalid image reference '%s': %s", shown, reason);
}

/* ---- grammar pieces --------------------------------------------------- */

/* [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)* */
static int path_component_ok(const char *s, size_t n)
{
	size_t i = 0;

	for (;;) {
		size_t start = i;

		while (i < n && is_lower_alnum(s[i]))
			i++;
		if (i == start)
			return 0;
		if (i == n)
			return 1;
		if (s[i] == '.') {
			i++;
		} else if (s[i] == '_') {
			i++;
			if (i < n && s[i] == '_')
				i++;
		} else if (s[i] == '-') {
			while (i < n && s[i] == '-')
				i++;
		} else {
			return 0;
		}
	}
}

/* [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9] */
static int domain_component_ok(const char *s, size_t n)
{
	if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return 0;
	for (size_t i = 1; i + 1 < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-')
			return 0;
	return 1;
}

/* (domain-name | "[" [a-fA-F0-9:]+ "]") (":" [0-9]+)? */
static int domain_ok(const char *s, size_t n)
{
	size_t i = 0;

	if (n > REF_DOMAIN_MAX)
		return 0;
	if (n && s[0] == '[') {
		size_t start = ++i;

		while (i < n && (is_hex(s[i]) || s[i] == ':'))
			i++;
		if (i == start || i == n || s[i] != ']')
			return 0;
		i++;
	} else {
		for (;;) {
			size_t start = i;

			while (i < n && s[i] != '.' && s[i] != ':')
				i++;
			if (!domain_component_ok(s + start, i - start))
				return 0;
			if (i == n || s[i] == ':')
				break;
			i++; /* '.' */
		}
	}
	if (i == n)
		return 1;
	if (s[i++] != ':' || i == n)
		return 0;
	for (; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int md_ref_valid_tag(const char *tag)
{
	size_t n;

	if (!tag || !is_word(tag[0]))
		return 0;
	n = strnlen(tag, REF_TAG_MAX + 1);
	if (n > REF_TAG_MAX)
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!is_word(tag[i]) && tag[i] != '.' && tag[i] != '-')
			return 0;
	return 1;
}

/* Only sha256 (the algorithm every registry serves and the agent checks
 * bytes against), in the canonical lowercase the OCI image spec requires. */
int md_ref_valid_digest(const char *digest)
{
	return digest && strncmp(digest, "sha256:", 7) == 0 &&
	       strlen(digest) == MD_DIGEST_STR_LEN && lower_hex(digest + 7, MD_DIGEST_STR_LEN - 7);
}

int md_ref_valid_domain(const char *domain)
{
	return domain && domain_ok(domain, strlen(domain));
}

int md_ref_is_hub(const char *domain, size_t n)
{
	return (n == strlen(MD_REF_HUB) && strncasecmp(domain, MD_REF_HUB, n) == 0) ||
	       (n == strlen(DOCKER_HUB_LEGACY) && strncasecmp(domain, DOCKER_HUB_LEGACY, n) == 0);
}

const char *md_ref_domain_api_host(const char *domain)
{
	return md_ref_is_hub(domain, strlen(domain)) ? MD_REF_HUB_API : domain;
}

/* The general digest grammar, to tell "some other algorithm" from garbage:
 * [A-Za-z][A-Za-z0-9]*([-_+.][A-Za-z][A-Za-z0-9]*)* ":" [[:xdigit:]]{32,} */
static int digest_grammar_ok(const char *s, size_t *algo_len)
{
	const char *p = s, *colon;
	size_t hex = 0;

	for (;;) {
		if (!((*p >= 'a' && *p <= 'z') || is_upper(*p)))
			return 0;
		while (is_alnum(*p))
			p++;
		if (*p == ':')
			break;
		if (*p != '-' && *p != '_' && *p != '+' && *p != '.')
			return 0;
		p++;
	}
	colon = p++;
	while (is_hex(p[hex]))
		hex++;
	if (p[hex] != '\0' || hex < 32)
		return 0;
	*algo_len = (size_t)(colon - s);
	return 1;
}

/* ---- parsing ---------------------------------------------------------- */

static int bare_image_id(const char *s, size_t n)
{
	return n == 64 && lower_hex(s, n);
}

/* splitDockerDomain's rule: the first component names a registry only when
 * it cannot be a Docker Hub namespace. */
size_t md_ref_domain_len(const char *name, size_t n)
{
	const char *slash = memchr(name, '/', n);
	size_t first = slash ? (size_t)(slash - name) : 0;

	if (!slash)
		return 0;
	if (first == 9 && memcmp(name, "localhost", 9) == 0)
		return first;
	for (size_t i = 0; i < first; i++)
		if (name[i] == '.' || name[i] == ':' || is_upper(name[i]))
			return first;
	return 0;
}

/* Validate the path components of rest[0..n); reason written on failure. */
static int check_path(const char *rest, size_t n, char *reason, size_t rlen)
{
	char shown[REF_SHOW_MAX + 8];
	size_t i = 0;

	for (size_t j = 0; j < n; j++) {
		if (is_upper(rest[j])) {
			snprintf(reason, rlen, "uppercase letters in repository path");
			return -1;
		}
	}
	for (;;) {
		const char *slash = memchr(rest + i, '/', n - i);
		size_t end = slash ? (size_t)(slash - rest) : n;

		if (end == i) {
			snprintf(reason, rlen, "empty component in repository path");
			return -1;
		}
		if (!path_component_ok(rest + i, end - i)) {
			snprintf(reason, rlen, "invalid repository path component '%s'",
				 show(shown, sizeof(shown), rest + i, end - i));
			return -1;
		}
		if (!slash)
			return 0;
		i = end + 1;
	}
}

int md_ref_valid_path(const char *path)
{
	char reason[8];

	return path && strlen(path) <= REF_PATH_MAX &&
	       check_path(path, strlen(path), reason, sizeof(reason)) == 0;
}

/* Split name[0..n) into normalised domain and path (both allocated). */
static int split_name(struct md_ref *r, const char *name, size_t n, char *reason, size_t rlen)
{
	char shown[REF_SHOW_MAX + 8];
	size_t dlen = md_ref_domain_len(name, n);
	const char *rest = dlen ? name + dlen + 1 : name;
	size_t rest_len = dlen ? n - dlen - 1 : n;
	int hub;

	if (dlen) {
		if (!domain_ok(name, dlen)) {
			snprintf(reason, rlen, "invalid registry domain '%s'",
				 show(shown, sizeof(shown), name, dlen));
			return -1;
		}
	}
	if (check_path(rest, rest_len, reason, rlen) < 0)
		return -1;
	hub = dlen == 0 || md_ref_is_hub(name, dlen);
	r->domain = hub ? md_strdup(MD_REF_HUB) : md_strndup(name, dlen);
	if (hub && !memchr(rest, '/', rest_len))
		r->path = md_asprintf("library/%.*s", (int)rest_len, rest);
	else
		r->path = md_strndup(rest, rest_len);
	if (!r->domain || !r->path) {
		snprintf(reason, rlen, "out of memory");
		return -1;
	}
	if (strlen(r->path) > REF_PATH_MAX) {
		snprintf(reason, rlen, "repository path longer than %d characters", REF_PATH_MAX);
		return -1;
	}
	return 0;
}

static int check_digest(const char *d, char *reason, size_t rlen)
{
	char shown[REF_SHOW_MAX + 8];
	size_t algo_len;

	if (md_ref_valid_digest(d))
		return 0;
	if (digest_grammar_ok(d, &algo_len) &&
	    !(algo_len == 6 && memcmp(d, "sha256", 6) == 0)) {
		snprintf(reason, rlen, "unsupported digest algorithm '%s' (only sha256 is supported)",
			 show(shown, sizeof(shown), d, algo_len));
		return -1;
	}
	snprintf(reason, rlen,
		 "invalid digest '%s' (expected sha256: and 64 lowercase hex digits)",
		 show(shown, sizeof(shown), d, strlen(d)));
	return -1;
}

/* name [":" tag] ["@" digest]: the digest follows the first '@' (no other
 * piece may contain one); a tag is the text after the last ':' that comes
 * after the last '/', so "host:5000/x" keeps its port. */
static int split_reference(struct md_ref *r, const char *s, size_t len, size_t *name_len,
			   char *reason, size_t rlen)
{
	char shown[REF_SHOW_MAX + 8];
	const char *at = memchr(s, '@', len);
	size_t nlen = at ? (size_t)(at - s) : len;
	const char *slash = memchr_last(s, nlen, '/');
	const char *colon = memchr_last(s, nlen, ':');

	if (at && !(r->digest = md_strdup(at + 1)))
		goto oom;
	if (colon && (!slash || colon > slash)) {
		r->tag = md_strndup(colon + 1, (size_t)(s + nlen - colon - 1));
		if (!r->tag)
			goto oom;
		nlen = (size_t)(colon - s);
	}
	*name_len = nlen;
	if (nlen == 0) {
		snprintf(reason, rlen, "missing repository name");
		return -1;
	}
	if (r->tag && !md_ref_valid_tag(r->tag)) {
		snprintf(reason, rlen, "invalid tag '%s'",
			 show(shown, sizeof(shown), r->tag, strlen(r->tag)));
		return -1;
	}
	if (r->digest && check_digest(r->digest, reason, rlen) < 0)
		return -1;
	return 0;
oom:
	snprintf(reason, rlen, "out of memory");
	return -1;
}

int md_ref_parse(struct md_ref **out, const char *s, struct md_err *err)
{
	char reason[MD_ERR_MAX / 2];
	struct md_ref *r = NULL;
	size_t len, name_len;

	*out = NULL;
	if (!s || !*s)
		return ref_fail(err, "", "empty reference");
	len = strnlen(s, REF_MAX + 1);
	if (len > REF_MAX) {
		snprintf(reason, sizeof(reason), "longer than %d characters", REF_MAX);
		return ref_fail(err, s, reason);
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return ref_fail(err, s, "out of memory");
	if (split_reference(r, s, len, &name_len, reason, sizeof(reason)) < 0)
		goto fail;
	if (bare_image_id(s, name_len)) {
		snprintf(reason, sizeof(reason),
			 "a 64-character hex string is an image ID, not a repository name");
		goto fail;
	}
	if (split_name(r, s, name_len, reason, sizeof(reason)) < 0)
		goto fail;
	r->name = md_strndup(s, name_len);
	r->canonical = md_asprintf("%s/%s", r->domain, r->path);
	if (!r->name || !r->canonical) {
		snprintf(reason, sizeof(reason), "out of memory");
		goto fail;
	}
	*out = r;
	return 0;
fail:
	md_ref_free(r);
	return ref_fail(err, s, reason);
}

void md_ref_free(struct md_ref *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->domain);
	free(r->path);
	free(r->tag);
	free(r->digest);
	free(r->canonical);
	free(r);
}

/* ---- accessors -------------------------------------------------------- */

const char *md_ref_name(const struct md_ref *r)
{
	return r->name;
}

const char *md_ref_domain(const struct md_ref *r)
{
	return r->domain;
}

const char *md_ref_path(const struct md_ref *r)
{
	return r->path;
}

const char *md_ref_tag(const struct md_ref *r)
{
	return r->tag;
}

const char *md_ref_digest(const struct md_ref *r)
{
	return r->digest;
}

const char *md_ref_canonical(const struct md_ref *r)
{
	return r->canonical;
}

const char *md_ref_api_host(const struct md_ref *r)
{
	return md_ref_domain_api_host(r->domain);
}

char *md_ref_format(const struct md_ref *r, const char *tag, const char *digest)
{
	return md_asprintf("%s%s%s%s%s", r->name, tag ? ":" : "", tag ? tag : "",
			   digest ? "@" : "", digest ? digest : "");
}

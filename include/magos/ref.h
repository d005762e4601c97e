/* ref — container image references (distribution/reference grammar) with
 * Docker Hub normalisation, and formatting that keeps the user's spelling.
 *
 *   name [":" tag] ["@" digest]     name = [domain "/"] path
 *
 * "nginx" is docker.io/library/nginx; "foo/bar" is docker.io/foo/bar; the
 * first component is a domain when it is "localhost" or contains '.', ':'
 * or an uppercase letter. */
#ifndef MAGOS_REF_H
#define MAGOS_REF_H

#include "magos/util.h"

struct md_ref;

int md_ref_parse(struct md_ref **out, const char *s, struct md_err *err);
void md_ref_free(struct md_ref *r);

/* The name exactly as written ("nginx", "ghcr.io/acme/web"). */
const char *md_ref_name(const struct md_ref *r);
/* Normalised registry domain: "docker.io", "ghcr.io", "localhost:5000". */
const char *md_ref_domain(const struct md_ref *r);
/* Normalised repository path within the registry: "library/nginx". */
const char *md_ref_path(const struct md_ref *r);
/* Tag as written, or NULL when absent. */
const char *md_ref_tag(const struct md_ref *r);
/* Digest as written ("sha256:…"), or NULL when absent. */
const char *md_ref_digest(const struct md_ref *r);
/* "docker.io/library/nginx": domain + "/" + path, for grouping and state keys. */
const char *md_ref_canonical(const struct md_ref *r);
/* The host that serves the registry API: "registry-1.docker.io" for docker.io,
 * otherwise the domain itself. */
const char *md_ref_api_host(const struct md_ref *r);

/* Format the user's name with a new tag and/or digest (either may be NULL to
 * omit it). Returns a new string or NULL on OOM. */
char *md_ref_format(const struct md_ref *r, const char *tag, const char *digest);

/* ---- the grammar's pieces, for every module (docs/protocols.md) ----------
 * Validators: 1 when valid, 0 otherwise (NULL is invalid).
 *   tag     [A-Za-z0-9_][A-Za-z0-9._-]{0,127}
 *   digest  "sha256:" and exactly 64 lowercase hex digits, the only algorithm
 *           the agent supports
 *   domain  host components or "[" IPv6 "]", optional ":" port, 255 at most
 *   path    "/"-separated [a-z0-9]+((.|_|__|-+)[a-z0-9]+)*, 255 at most */
int md_ref_valid_tag(const char *tag);
int md_ref_valid_digest(const char *digest);
int md_ref_valid_domain(const char *domain);
int md_ref_valid_path(const char *path);

/* Docker Hub: the normalised domain and the host serving its API. */
#define MD_REF_HUB "docker.io"
#define MD_REF_HUB_API "registry-1.docker.io"

/* 1 when domain[0..n) names Docker Hub: "docker.io" or "index.docker.io",
 * in any case (host names are case-insensitive). */
int md_ref_is_hub(const char *domain, size_t n);
/* The API host for a domain: MD_REF_HUB_API for Docker Hub, else domain. */
const char *md_ref_domain_api_host(const char *domain);
/* Length of the registry domain that starts name[0..n): the first
 * component names a registry only when it is "localhost" or contains '.',
 * ':' or an uppercase letter; 0 when the name is on Docker Hub unprefixed. */
size_t md_ref_domain_len(const char *name, size_t n);

#endif

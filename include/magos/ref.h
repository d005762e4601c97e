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

/* Validators for single pieces: 1 when valid, 0 otherwise. A digest is
 * valid only as "sha256:" and 64 lowercase hex digits. */
int md_ref_valid_tag(const char *tag);
int md_ref_valid_digest(const char *digest);

#endif

/* scan — private declarations shared by the module's files and its unit
 * tests. */
#ifndef MAGOS_SCAN_INT_H
#define MAGOS_SCAN_INT_H

#include <jansson.h>
#include <stddef.h>

#include "magos/ref.h"
#include "magos/scan.h"

/* Longest string kept from a report (IDs, names, versions): longer ones are
 * cut; nothing the gate needs is that long. */
#define MD_SCAN__STR_MAX 200
/* Findings one report may hold before it is refused as unreasonable. */
#define MD_SCAN__FINDINGS_MAX 1000000u

/* A finding and the strings it owns (the public struct points into them). */
struct md_scan__finding {
	struct md_scan_finding pub;
	char *own[5];
};

struct md_scan_report {
	char *artifact;      /* ArtifactName, "" when absent */
	char *artifact_type; /* ArtifactType, "" when absent */
	struct md_strv repo_digests;
	struct md_scan__finding *f;
	size_t n, cap;
};

/* Whether the requirement filters finding f out (ignore list,
 * ignoreUnfixed). q may be NULL (nothing is filtered). */
int md_scan__filtered(const struct md_scan_req *q, const struct md_scan_finding *f);

/* Append s to out reduced to characters safe in a commit message, a log
 * line and Markdown (letters, digits, ". _ - : + ~ / @ = < > ,"), others
 * as '?', at most max characters. */
int md_scan__put_safe(struct md_buf *out, const char *s, size_t max);

/* The repository part of an image name in the short form Trivy writes in
 * RepoDigests: Docker Hub's "docker.io/" or "index.docker.io/" and
 * "library/" dropped. Returns a pointer into name. */
const char *md_scan__short_name(const char *name);

/* Parse Trivy's JSON output (duplicate keys refused) into *root: MD_SCAN_OK,
 * or MD_SCAN_INVALID with err "the output is empty" or "not JSON
 * (<jansson's text>, line L column C)", the input bytes jansson quotes
 * ("near '…'") made printable: a message is one line, whatever Trivy (or
 * something posing as it) printed. */
int md_scan__json_load(const char *json, size_t len, json_t **root, struct md_err *err);

/* Valid name / digest / platform / server URL for the command line (no
 * leading '-', no blanks, no credentials in a URL). -1 with err set. */
int md_scan__check_args(const struct md_scan_opts *o, const char *name, const char *digest,
			struct md_err *err);

/* The key Docker's config (and go-containerregistry's keychain) uses for
 * the registry of name: "https://index.docker.io/v1/" for Docker Hub, else
 * the host[:port]. out must hold 256 bytes. -1 when the host is too long. */
int md_scan__registry_key(const char *name, char *out, size_t outlen);

/* The Docker config JSON holding cred for key (no credentials: empty
 * auths, so no credentials from elsewhere are used). Caller frees with
 * md_buf_clear (the buffer zeroes what it held). */
int md_scan__docker_config(struct md_buf *out, const char *key, const struct md_scan_cred *cred);

/* The child's environment: the kept variables of env (NULL-terminated),
 * then extra (NULL-terminated, may be NULL). Strings are copied; free with
 * md_scan__env_free (which zeroes them: TRIVY_TOKEN is among them). */
int md_scan__env_build(struct md_strv *out, char *const *env, char *const *extra);
void md_scan__env_free(struct md_strv *env);
/* Whether NAME=… from the agent's environment is passed on to Trivy. */
int md_scan__env_kept(const char *entry);

/* Parse `trivy version --format json` (or a server's /version): *out the
 * cache key or NULL when there is no DB. MD_SCAN_OK or MD_SCAN_INVALID. */
int md_scan__parse_version(char **out, const char *json, size_t len, struct md_err *err);

/* server.c: md_scan_db_version and md_scan_probe with a Trivy server
 * (GET /version, GET /healthz). */
int md_scan__server_db_version(char **out, const struct md_scan_opts *o, struct md_err *err);
int md_scan__server_health(const struct md_scan_opts *o, struct md_err *err);

#endif

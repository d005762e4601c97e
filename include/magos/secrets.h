/* secrets — SOPS files decrypted natively with age identities
 * (docs/protocols.md, SOPS and age): age v1 (X25519 recipients, armored or binary), SOPS
 * AES-256-GCM values with 32-byte IVs and key-path additional data, and the
 * SOPS MAC, which must match or nothing is returned.
 *
 * Plaintext lives only in memory this module owns and zeroes when freed;
 * errors name the file and the key path, never a value. Nothing here logs
 * or reads the environment: the caller passes the identities' text. */
#ifndef MAGOS_SECRETS_H
#define MAGOS_SECRETS_H

#include <stddef.h>

#include "magos/util.h"

#define MD_SECRETS_MAX_FILE (4u * 1024 * 1024)

/* ---- age ------------------------------------------------------------------ */

struct md_age_identities;

int md_age_identities_new(struct md_age_identities **out);
/* Add the identities in text (a keys.txt: "AGE-SECRET-KEY-1..." lines, '#'
 * comments, blank lines). name prefixes errors ("name:LINE: ..."); a line
 * that is not a valid identity is an error. Post-quantum and plugin
 * identities are skipped (counted in *skipped when not NULL). */
int md_age_identities_add(struct md_age_identities *ids, const char *name, const char *text,
			  size_t len, size_t *skipped, struct md_err *err);
size_t md_age_identities_count(const struct md_age_identities *ids);
void md_age_identities_free(struct md_age_identities *ids); /* zeroes the keys */

/* Decrypt an age file (ASCII armor or binary) with any of the identities.
 * *out (caller frees with md_secrets_free_plain) receives the plaintext.
 * name prefixes errors. */
int md_age_decrypt(char **out, size_t *outlen, const struct md_age_identities *ids,
		   const char *name, const char *data, size_t len, struct md_err *err);

/* ---- SOPS ----------------------------------------------------------------- */

enum md_sops_format {
	MD_SOPS_YAML,
	MD_SOPS_JSON,
	MD_SOPS_DOTENV,
	MD_SOPS_INI,
	MD_SOPS_BINARY, /* SOPS "binary": JSON with one "data" key */
};

/* Format from a file name as sops picks it: .yaml/.yml, .json, .env, .ini,
 * anything else binary. */
enum md_sops_format md_sops_format_for_path(const char *path);

/* 1 when data looks like a SOPS file (has the sops metadata: a top-level
 * "sops" key, or sops_mac= / sops_version= lines in dotenv / [sops] in ini). */
int md_sops_detect(const char *data, size_t len, enum md_sops_format fmt);

/* One decrypted document: its leaves in document order, each with its key
 * path ("a:b:c", list elements add no component) and plaintext value as
 * text (bools True/False, numbers as written). */
struct md_sops_doc;

int md_sops_decrypt(struct md_sops_doc **out, const struct md_age_identities *ids,
		    const char *name, const char *data, size_t len, enum md_sops_format fmt,
		    struct md_err *err);
size_t md_sops_doc_count(const struct md_sops_doc *d);
/* The i-th leaf; NULL past the end. Strings stay owned by d. */
int md_sops_doc_leaf(const struct md_sops_doc *d, size_t i, const char **path,
		     const char **value);
/* The whole plaintext document in its own format (for binary: the data). */
int md_sops_doc_plain(const struct md_sops_doc *d, const char **data, size_t *len);

/* The document as environment variables, "KEY=VALUE\n" lines for a compose
 * --env-file: dotenv keys as they are; YAML/JSON/INI top-level scalar keys
 * (nested paths joined with '_', INI "section_key"). A key that is not a
 * valid variable name ([A-Za-z_][A-Za-z0-9_]*) or a value holding a newline
 * is an error naming the key. *out (free with md_secrets_free_plain). */
int md_sops_doc_env(const struct md_sops_doc *d, char **out, size_t *outlen,
		    struct md_err *err);
void md_sops_doc_free(struct md_sops_doc *d); /* zeroes every plaintext byte */

/* Zero and free plaintext returned by this module. */
void md_secrets_free_plain(char *p, size_t len);

#endif

/* sigstore — cosign signatures verified natively (OpenSSL 3, jansson,
 * PCRE2), without the cosign binary: Sigstore bundles v0.1–v0.3 (message
 * signatures and DSSE envelopes) and cosign's legacy `.sig` layers, signed
 * with a key or keyless (Fulcio certificate, Rekor v1/v2 log, CT log,
 * RFC 3161 timestamps), against a Sigstore `trusted_root.json`.
 *
 * Use: load a trusted root, build a requirement from what the user wrote,
 * parse a bundle (or a legacy layer and its annotations), verify it for a
 * subject (an image digest, or an artifact). Every input is untrusted and
 * bounded; nothing here logs, reads the environment or touches the network. */
#ifndef MAGOS_SIGSTORE_H
#define MAGOS_SIGSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "magos/util.h"

/* Upper bound of every input this module parses (bundle, trusted root,
 * payload, each annotation). Real ones are a few kilobytes. */
#define MD_SIGSTORE_MAX_INPUT (1024u * 1024)

/* The in-toto predicate type `cosign sign` (v3) uses for an image signature
 * bundle; an image gate requires it (cosign itself does not). */
#define MD_SIGSTORE_PREDICATE_SIGN "https://sigstore.dev/cosign/sign/v1"

/* Where cosign puts signatures (for the registry side): the bundle media type
 * of an OCI 1.1 referrer (its artifactType and its one layer), and the legacy
 * `sha256-<hex>.sig` layer's media type and annotation keys. */
#define MD_SIGSTORE_BUNDLE_MEDIA_TYPE "application/vnd.dev.sigstore.bundle.v0.3+json"
#define MD_SIGSTORE_SIMPLESIGNING_MEDIA_TYPE "application/vnd.dev.cosign.simplesigning.v1+json"
#define MD_SIGSTORE_ANN_SIGNATURE "dev.cosignproject.cosign/signature"
#define MD_SIGSTORE_ANN_CERTIFICATE "dev.sigstore.cosign/certificate"
#define MD_SIGSTORE_ANN_CHAIN "dev.sigstore.cosign/chain"
#define MD_SIGSTORE_ANN_BUNDLE "dev.sigstore.cosign/bundle"

/* ---- trusted root ------------------------------------------------------- */

/* Fulcio CAs, Rekor v1/v2 log keys, CT logs and TSAs with their validity
 * windows (inclusive at both ends). */
struct md_sigstore_root;

/* Read and parse a trusted_root.json; errors name the file. */
int md_sigstore_root_load(struct md_sigstore_root **out, const char *path, struct md_err *err);
/* The same from memory; name prefixes errors. */
int md_sigstore_root_parse(struct md_sigstore_root **out, const char *name, const char *data,
			   size_t len, struct md_err *err);
void md_sigstore_root_free(struct md_sigstore_root *r);

/* Where cosign caches the public-good trusted root under home
 * (`$HOME/.sigstore/root/tuf-repo-cdn.sigstore.dev/targets/trusted_root.json`).
 * Caller frees; NULL on OOM or when home is NULL/empty. */
char *md_sigstore_root_cosign_cache(const char *home);

/* ---- requirement: who must have signed ------------------------------------ */

/* What the user asked for, as written (NULL = not given). Either a key, or a
 * keyless identity: identity or identityRegexp, plus issuer or issuerRegexp;
 * or the shorthand github "owner/repo" (identity
 * https://github.com/owner/repo/… any workflow, issuer GitHub Actions), with
 * an optional full ref ("refs/heads/main", "refs/tags/v1.2.3"). Regexps are
 * PCRE2, anchored at both ends. */
struct md_sigstore_req_spec {
	const char *key_path;  /* PEM public key file: ECDSA P-256/384/521, RSA, Ed25519 */
	const char *key_pem;   /* or the PEM text itself (key_path wins) */
	size_t key_pem_len;
	const char *identity;
	const char *identity_regexp;
	const char *issuer;
	const char *issuer_regexp;
	const char *github;
	const char *github_ref;
	/* "tlog": false — a key-based signature without a transparency log
	 * entry is accepted (cosign's --insecure-ignore-tlog). An entry that is
	 * there is still checked when the trusted root lists its log. Only
	 * with a key. */
	int tlog_optional;
};

struct md_sigstore_req;

/* Validate the combination and compile it; an invalid one (both key and
 * identity, identity without issuer, a bad regexp, an unreadable key...)
 * is an error naming the field. */
int md_sigstore_req_new(struct md_sigstore_req **out, const struct md_sigstore_req_spec *spec,
			struct md_err *err);
void md_sigstore_req_free(struct md_sigstore_req *q);
/* A canonical one-line description ("identity=… issuer=…", "key sha256:…"),
 * stable across runs: for messages and as a cache key. Owned by q. */
const char *md_sigstore_req_describe(const struct md_sigstore_req *q);
int md_sigstore_req_is_keyless(const struct md_sigstore_req *q);

/* ---- signatures ----------------------------------------------------------- */

/* A parsed bundle or legacy signature, not yet trusted. */
struct md_sigstore_bundle;

/* Parse a Sigstore bundle (JSON). A shape the spec forbids (unknown media
 * type, v0.3 with a certificate chain, a chain holding a root certificate,
 * a DSSE envelope without exactly one signature, a negative log index, a
 * v0.1 entry without its promise, a v0.2+ entry without its proof...) is
 * an error. name prefixes errors. */
int md_sigstore_bundle_parse(struct md_sigstore_bundle **out, const char *name,
			     const char *data, size_t len, struct md_err *err);

/* A cosign legacy signature: one layer of the `sha256-<hex>.sig` image, its
 * blob (the simple-signing payload) and its descriptor's annotations. */
struct md_sigstore_legacy {
	const void *payload; /* the layer blob */
	size_t payload_len;
	const char *signature;   /* MD_SIGSTORE_ANN_SIGNATURE: base64 */
	const char *certificate; /* MD_SIGSTORE_ANN_CERTIFICATE: PEM, or NULL */
	const char *chain;       /* MD_SIGSTORE_ANN_CHAIN: PEM, or NULL */
	const char *bundle;      /* MD_SIGSTORE_ANN_BUNDLE: Rekor bundle JSON, or NULL */
};

int md_sigstore_legacy_parse(struct md_sigstore_bundle **out, const char *name,
			     const struct md_sigstore_legacy *in, struct md_err *err);
void md_sigstore_bundle_free(struct md_sigstore_bundle *b);

/* ---- verification --------------------------------------------------------- */

enum md_sigstore_kind {
	/* a container image: digest is the manifest (or index) digest; a DSSE
	 * statement must be of predicate type MD_SIGSTORE_PREDICATE_SIGN with
	 * the digest as subject, a legacy payload must name it as
	 * docker-manifest-digest */
	MD_SIGSTORE_IMAGE,
	/* an artifact (the conformance protocol): its bytes, or only its digest */
	MD_SIGSTORE_ARTIFACT,
};

struct md_sigstore_subject {
	enum md_sigstore_kind kind;
	const char *digest; /* "sha256:<64 hex>"; may be NULL for an artifact given as data */
	const void *data;   /* artifact bytes, or NULL */
	size_t len;
};

enum md_sigstore_outcome {
	MD_SIGSTORE_VERIFIED = 0,
	MD_SIGSTORE_REFUSED = 1,   /* the evidence was examined and does not verify */
	MD_SIGSTORE_UNDECIDED = 2, /* no verdict (no trusted root, out of memory): fail closed */
};

/* Which check refused (for metrics; the sentence is in err). */
enum md_sigstore_check {
	MD_SIGSTORE_CHECK_NONE = 0,
	MD_SIGSTORE_CHECK_SHAPE,       /* input malformed or of a kind not accepted here */
	MD_SIGSTORE_CHECK_MATERIAL,    /* key vs certificate does not fit the requirement */
	MD_SIGSTORE_CHECK_SIGNATURE,   /* the signature does not verify */
	MD_SIGSTORE_CHECK_DIGEST,      /* signed content is not about this subject */
	MD_SIGSTORE_CHECK_TLOG,        /* log entry missing, unverifiable or not matching */
	MD_SIGSTORE_CHECK_TIMESTAMP,   /* no trusted time for a certificate */
	MD_SIGSTORE_CHECK_CERTIFICATE, /* chain, validity at the signing time, usage */
	MD_SIGSTORE_CHECK_SCT,         /* no valid embedded SCT from a trusted CT log */
	MD_SIGSTORE_CHECK_IDENTITY,    /* SAN does not match */
	MD_SIGSTORE_CHECK_ISSUER,      /* OIDC issuer does not match */
};

#define MD_SIGSTORE_NAME_MAX 512

struct md_sigstore_result {
	enum md_sigstore_check failed;
	int keyless;
	/* From the certificate (keyless); filled as soon as the certificate is
	 * read, so a refusal can say who signed. Trust them only when the
	 * outcome is MD_SIGSTORE_VERIFIED. */
	char identity[MD_SIGSTORE_NAME_MAX];
	char issuer[MD_SIGSTORE_NAME_MAX];
	int64_t signed_at;    /* earliest verified time (log or TSA), 0 if none */
	size_t tlog_verified; /* log entries that verified */
	size_t stamps_verified; /* RFC 3161 timestamps that verified */
};

/* Verify b for subject s against requirement q, with trusted root r (may be
 * NULL for a key with tlog_optional: log entries are then not checked). Checks, in this order: the
 * material fits q; the signature over the payload (or DSSE PAE); the signed
 * content names the subject's digest; each log entry from a trusted log
 * (SET, inclusion proof + signed checkpoint, body matching signature,
 * certificate or key, and payload); RFC 3161 timestamps; keyless: the
 * certificate chains to a trusted Fulcio CA valid at every verified time,
 * code-signing usage, an embedded SCT from a trusted CT log, then SAN and
 * issuer. Returns the outcome; err holds the reason sentence when it is not
 * MD_SIGSTORE_VERIFIED. res (may be NULL) receives the details. */
enum md_sigstore_outcome md_sigstore_verify(const struct md_sigstore_root *r,
					    const struct md_sigstore_req *q,
					    const struct md_sigstore_subject *s,
					    const struct md_sigstore_bundle *b,
					    struct md_sigstore_result *res, struct md_err *err);

#endif

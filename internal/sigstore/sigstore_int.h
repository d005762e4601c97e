/* Private to the sigstore module. */
#ifndef MAGOS_SIGSTORE_INT_H
#define MAGOS_SIGSTORE_INT_H

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdint.h>

#include "magos/sigstore.h"

/* Internal results: a check either passes, refuses (err says why), or
 * cannot decide (out of memory, an OpenSSL failure that is not about the
 * input). */
#define SG_OK 0
#define SG_REFUSE (-1)
#define SG_UNDECIDED (-2)

#define SG_MAX_LOGS 64      /* per kind in a trusted root */
#define SG_MAX_CHAIN 10     /* certificates in a chain */
#define SG_MAX_ENTRIES 32   /* tlog entries in a bundle */
#define SG_MAX_PROOF 64     /* hashes in an inclusion proof (tree depth) */
#define SG_MAX_STAMPS 32    /* RFC 3161 timestamps in a bundle */
#define SG_KEYID_MAX 64

/* ---- trusted root ---- */

/* A validity window in milliseconds since the epoch, inclusive. */
struct sg_range {
	int64_t start, end;
	int has_start, has_end;
};

/* A Rekor log or a CT log. */
struct sg_log {
	char *base_url;
	char *authority; /* host[:port] of base_url: a checkpoint's origin */
	unsigned char key_id[SG_KEYID_MAX];
	size_t key_id_len;
	EVP_PKEY *key;
	struct sg_range valid;
};

/* A Fulcio CA or a TSA: chain[0..n-2] intermediates (or the TSA's leaf),
 * chain[n-1] the trust anchor. */
struct sg_ca {
	STACK_OF(X509) *chain;
	struct sg_range valid;
};

struct md_sigstore_root {
	struct sg_log *tlogs, *ctlogs;
	size_t n_tlogs, n_ctlogs;
	struct sg_ca *cas, *tsas;
	size_t n_cas, n_tsas;
};

/* ---- parsed signature ---- */

struct sg_entry {
	int64_t log_index;
	unsigned char log_id[SG_KEYID_MAX];
	size_t log_id_len;
	char kind[32];    /* kindVersion; empty for a legacy Rekor bundle */
	char version[16];
	int64_t integrated_time;
	unsigned char *set; /* NULL: no inclusion promise */
	size_t set_len;
	int has_proof;
	int64_t proof_index, tree_size;
	unsigned char root_hash[32];
	unsigned char *hashes; /* n_hashes × 32 bytes */
	size_t n_hashes;
	char *checkpoint;
	unsigned char *body;
	size_t body_len;
};

enum sg_content { SG_MESSAGE, SG_DSSE };

struct md_sigstore_bundle {
	char *name;
	int minor; /* bundle v0.<minor>; 0 for a legacy signature */
	int legacy;
	X509 *leaf; /* NULL: signed with a key */
	struct sg_entry *entries;
	size_t n_entries;
	unsigned char **stamps; /* RFC 3161 TimeStampResp DER */
	size_t *stamp_lens;
	size_t n_stamps;
	enum sg_content content;
	/* message signature: the digest hint (bundles) */
	int has_digest;
	unsigned char digest[64];
	size_t digest_len;
	/* DSSE payload, or the legacy simple-signing payload; NULL for a
	 * bundle's message signature (the artifact is outside) */
	unsigned char *payload;
	size_t payload_len;
	char *payload_type; /* DSSE */
	unsigned char *sig;
	size_t sig_len;
};

/* ---- encoding helpers (encode.c) ---- */

/* Strict base64 (standard alphabet, padding optional but exact when
 * present; no whitespace). *out is NUL-terminated, caller frees. */
int md_sigstore__b64_decode(const char *s, size_t len, unsigned char **out, size_t *outlen);
/* Standard base64 with padding; caller frees; NULL on OOM. */
char *md_sigstore__b64_encode(const unsigned char *p, size_t n);
void md_sigstore__hex(const unsigned char *p, size_t n, char *out); /* out: 2n+1 */
int md_sigstore__unhex(const char *s, unsigned char *out, size_t outlen);
void md_sigstore__sha256(const void *p, size_t n, unsigned char out[32]);
/* RFC 3339 with optional fraction → milliseconds. */
int md_sigstore__time_ms(const char *s, int64_t *out);
int md_sigstore__range_has(const struct sg_range *r, int64_t t_seconds);
void md_sigstore__fmt_time(int64_t t, char *out, size_t outlen);

/* JSON fields (json.c). Missing fields are errors naming `what`. */
json_t *md_sigstore__json_parse(const char *data, size_t len, const char *name,
				struct md_err *err);
const char *md_sigstore__json_str(json_t *o, const char *key);
/* protobuf-JSON int64: a decimal string or an integer. 1 found, 0 absent,
 * -1 malformed. */
int md_sigstore__json_int64(json_t *o, const char *key, int64_t *out);
/* A base64 field decoded; 1 found, 0 absent, -1 malformed. */
int md_sigstore__json_b64(json_t *o, const char *key, unsigned char **out, size_t *outlen);
/* Certificate i of a chain, {"rawBytes": base64 DER}; NULL with err
 * naming `where` and i when it is missing or not a certificate. */
X509 *md_sigstore__json_cert(json_t *v, const char *where, size_t i, struct md_err *err);

/* ---- crypto (crypto.c) ---- */

/* Verify sig over data with key: ECDSA (the curve's hash, then SHA-256),
 * RSA PKCS#1 v1.5 SHA-256, Ed25519. When data is NULL, prehash is the
 * SHA-256 of the data (not possible for Ed25519). 1 valid, 0 not. */
int md_sigstore__verify_sig(EVP_PKEY *key, const void *data, size_t len,
			    const unsigned char *prehash, const unsigned char *sig, size_t siglen);
/* Verify with the SHA-256 hash only (SETs, checkpoints, SCTs). */
int md_sigstore__verify_sha256(EVP_PKEY *key, const void *data, size_t len,
			       const unsigned char *sig, size_t siglen);
/* A public key we accept: EC P-256/384/521, RSA ≥ 2048 bits, Ed25519. */
int md_sigstore__key_ok(EVP_PKEY *key, char *why, size_t whylen);
/* PEM public key or certificate text → key / cert; NULL when not one. */
EVP_PKEY *md_sigstore__pem_key(const void *pem, size_t len);
X509 *md_sigstore__pem_cert(const void *pem, size_t len);
/* DER certificate, all bytes consumed. */
X509 *md_sigstore__der_cert(const unsigned char *p, size_t len);
/* DER SubjectPublicKeyInfo of a key; caller frees with OPENSSL_free. */
int md_sigstore__spki(EVP_PKEY *key, unsigned char **out, size_t *outlen);

/* ---- trusted root lookups (root.c) ---- */

const struct sg_log *md_sigstore__find_tlog(const struct md_sigstore_root *r,
					    const unsigned char *id, size_t len);

/* ---- transparency log (tlog.c) ---- */

/* What a log entry must be about. */
struct sg_expect {
	enum sg_content content;
	const unsigned char *sig;
	size_t sig_len;
	X509 *leaf;     /* keyless */
	EVP_PKEY *key;  /* key-based */
	/* message: SHA-256 of the signed bytes */
	const unsigned char *msg_sha256;
	/* DSSE: SHA-256 of the payload and of the PAE; the payload type */
	const unsigned char *payload_sha256;
	const unsigned char *pae_sha256;
	const char *payload_type;
};

/* Check one entry whose log is known: SET (when present; *set_time gets
 * the integrated time it vouches for, else 0), inclusion proof + signed
 * checkpoint (when present), and the body against x. */
int md_sigstore__check_entry(const struct sg_log *log, const struct sg_entry *e,
			     const struct sg_expect *x, int64_t *set_time, struct md_err *err);
/* RFC 9162 inclusion proof; 1 valid. */
int md_sigstore__merkle_verify(const unsigned char leaf_hash[32], int64_t index, int64_t size,
			       const unsigned char *hashes, size_t n,
			       const unsigned char root[32]);
/* A signed note (checkpoint) against the log: origin, size and root hash,
 * and one signature by the log. */
int md_sigstore__check_checkpoint(const struct sg_log *log, const char *note, int64_t tree_size,
				  const unsigned char root[32], struct md_err *err);

/* ---- RFC 3161 (tsa.c) ---- */

/* Verify one TimeStampResp over data (the signature bytes) against the
 * trusted TSAs; *t receives its time. */
int md_sigstore__check_stamp(const struct md_sigstore_root *r, const unsigned char *der,
			     size_t len, const unsigned char *data, size_t dlen, int64_t *t,
			     struct md_err *err);

/* ---- certificates (cert.c) ---- */

/* Chain leaf to a trusted Fulcio CA valid at t (seconds), with the CA's
 * own chain only; *issuer (borrowed from a returned chain the caller frees
 * with sk_X509_pop_free) is the leaf's issuer. */
int md_sigstore__check_chain(const struct md_sigstore_root *r, X509 *leaf, int64_t t,
			     STACK_OF(X509) **chain, struct md_err *err);
int md_sigstore__check_codesign(X509 *leaf, struct md_err *err);
int md_sigstore__check_scts(const struct md_sigstore_root *r, X509 *leaf, X509 *issuer,
			    struct md_err *err);
/* SAN (URI, else email, else Fulcio's username OtherName) and OIDC issuer
 * (1.3.6.1.4.1.57264.1.8, else 1.1). */
int md_sigstore__cert_identity(X509 *leaf, char *san, size_t sanlen, char *iss, size_t isslen,
			       struct md_err *err);

/* ---- requirement (req.c) ---- */

EVP_PKEY *md_sigstore__req_key(const struct md_sigstore_req *q);
int md_sigstore__req_tlog_optional(const struct md_sigstore_req *q);
int md_sigstore__req_match_identity(const struct md_sigstore_req *q, const char *san);
int md_sigstore__req_match_issuer(const struct md_sigstore_req *q, const char *iss);
/* What the requirement wants, for messages. */
const char *md_sigstore__req_want_identity(const struct md_sigstore_req *q);
const char *md_sigstore__req_want_issuer(const struct md_sigstore_req *q);

#endif

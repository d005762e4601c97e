/* secrets — private interfaces shared by the module's files.
 *
 * Layout: crypto.c (OpenSSL primitives, base64, a zeroing buffer),
 * age_key.c (Bech32 identities), age.c (age v1 files), tree.c (the parsed
 * document tree), yaml.c / json.c / flat.c (the four SOPS stores),
 * meta.c (the sops metadata block), emit.c (plaintext renderings),
 * sops.c (decryption, MAC, the public document API). */
#ifndef MAGOS_SECRETS_INT_H
#define MAGOS_SECRETS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "magos/secrets.h"

/* Caps on what one document may hold: a hostile file is refused with a
 * clear error long before it costs real memory or stack. */
#define SEC_MAX_LEAVES 10000
#define SEC_MAX_NODES 20000
#define SEC_MAX_DEPTH 64
#define SEC_MAX_KEY 1024    /* one map key / dotenv or INI name */
#define SEC_MAX_PATH 4096   /* a whole key path, i.e. the AAD */
#define SEC_MAX_META 256    /* flattened metadata entries */

/* ---- crypto.c ----------------------------------------------------------- */

/* A growable buffer that never leaves plaintext behind: growth copies into
 * a fresh block and zeroes the old one; free zeroes. Always NUL-terminated. */
struct sec_buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

void md_secrets__buf_init(struct sec_buf *b, size_t max);
int md_secrets__buf_add(struct sec_buf *b, const void *p, size_t n);
int md_secrets__buf_adds(struct sec_buf *b, const char *s);
int md_secrets__buf_addc(struct sec_buf *b, char c);
void md_secrets__buf_free(struct sec_buf *b);

/* A single-line, printable copy of untrusted text for an error message:
 * control and non-ASCII bytes become '?', long text is cut with "...". */
const char *md_secrets__printable(char *out, size_t outlen, const char *s);

/* Standard-alphabet base64. padded=1: '=' padding required (length a
 * multiple of 4); padded=0: no padding and canonical (unused bits zero), as
 * age headers demand. -1 on any invalid input or when outcap is too small. */
int md_secrets__b64_decode(unsigned char *out, size_t outcap, size_t *outlen, const char *in,
		   size_t inlen, int padded);

/* 0 ok; -1 failure; -2 the shared secret is all zeros (low-order point). */
int md_secrets__x25519(unsigned char out[32], const unsigned char priv[32], const unsigned char pub[32]);
int md_secrets__x25519_pub(unsigned char pub[32], const unsigned char priv[32]);
int md_secrets__hkdf_sha256(unsigned char *out, size_t outlen, const unsigned char *ikm, size_t ikmlen,
		    const unsigned char *salt, size_t saltlen, const char *info);
int md_secrets__hmac_sha256(unsigned char out[32], const unsigned char *key, size_t keylen,
		    const unsigned char *data, size_t len);
/* ChaCha20-Poly1305 open: in = ciphertext || 16-byte tag, out holds inlen-16. */
int md_secrets__chacha_open(unsigned char *out, const unsigned char key[32], const unsigned char nonce[12],
		    const unsigned char *in, size_t inlen);
/* AES-256-GCM open with an arbitrary IV length (SOPS uses 32 bytes). */
int md_secrets__gcm_open(unsigned char *out, const unsigned char key[32], const unsigned char *iv,
		 size_t ivlen, const unsigned char *aad, size_t aadlen, const unsigned char *ct,
		 size_t ctlen, const unsigned char tag[16]);

/* ---- age.c -------------------------------------------------------------- */

/* md_age_decrypt, but -2 (err set) when no identity matches any stanza. */
int md_secrets__age_decrypt(char **out, size_t *outlen, const struct md_age_identities *ids,
		    const char *name, const char *data, size_t len, struct md_err *err);

/* ---- age_key.c ---------------------------------------------------------- */

struct sec_identity {
	unsigned char priv[32];
	unsigned char pub[32];
	char recipient[80]; /* "age1..." (public, fine to name in errors) */
};

size_t md_secrets__age_identity_n(const struct md_age_identities *ids);
const struct sec_identity *md_secrets__age_identity_at(const struct md_age_identities *ids, size_t i);
/* Bech32-encode 32 bytes under hrp (lowercase). out needs 90 bytes. */
int md_secrets__bech32_encode(char *out, size_t outlen, const char *hrp, const unsigned char data[32]);
/* "age1a…, age1b…" for errors, at most a few, into out. */
void md_secrets__age_identities_describe(const struct md_age_identities *ids, char *out, size_t outlen);

/* ---- tree.c -------------------------------------------------------------- */

enum sec_kind { SEC_MAP, SEC_LIST, SEC_SCALAR };
enum sec_type { SEC_T_STR, SEC_T_INT, SEC_T_FLOAT, SEC_T_BOOL, SEC_T_NULL, SEC_T_TIME, SEC_T_BYTES };

struct sec_node {
	enum sec_kind kind;
	char *key; /* in a map: the key; else NULL */
	size_t keylen;
	char *val; /* scalar text: as written, plaintext once decrypted */
	size_t vallen;
	enum sec_type type;
	int encrypted; /* the value was an ENC[...] that we decrypted */
	int line;      /* 1-based source line when known, else 0 */
	struct sec_node **kids;
	size_t nkids;
	size_t capkids;
};

/* A flattened metadata entry: "age__list_0__map_enc" = "-----BEGIN...". */
struct sec_kv {
	char *key;
	char *val;
};

struct sec_tree {
	struct sec_node *root; /* a map: the document without its sops block */
	struct sec_kv *meta;
	size_t nmeta;
	size_t nodes;
	size_t leaves;
	int has_sops; /* a sops block / sops_ lines / [sops] section was seen */
};

int md_secrets__tree_init(struct sec_tree *t, const char *name, struct md_err *err);
void md_secrets__tree_free(struct sec_tree *t);
/* Append a node to parent (a map when key != NULL, else a list); enforces
 * the node and leaf caps. NULL with err set on failure. */
struct sec_node *md_secrets__tree_add(struct sec_tree *t, struct sec_node *parent, enum sec_kind kind,
			      const char *key, size_t keylen, const char *name,
			      struct md_err *err);
int md_secrets__node_set_val(struct sec_node *n, const char *val, size_t len);
void md_secrets__node_free(struct sec_node *n);
/* Add one metadata entry (copies both). */
int md_secrets__tree_meta_add(struct sec_tree *t, const char *key, size_t keylen, const char *val,
		      size_t vallen, const char *name, struct md_err *err);
/* Move a YAML/JSON "sops" subtree into flattened metadata and free it. */
int md_secrets__tree_take_meta(struct sec_tree *t, struct sec_node *sops, const char *name,
		       struct md_err *err);

/* ---- the stores -------------------------------------------------------- */

int md_secrets__parse_yaml(struct sec_tree *t, const char *name, const char *data, size_t len,
		   struct md_err *err);
int md_secrets__parse_json(struct sec_tree *t, const char *name, const char *data, size_t len,
		   struct md_err *err);
int md_secrets__parse_dotenv(struct sec_tree *t, const char *name, const char *data, size_t len,
		     struct md_err *err);
int md_secrets__parse_ini(struct sec_tree *t, const char *name, const char *data, size_t len,
		  struct md_err *err);

/* ---- meta.c --------------------------------------------------------------- */

struct sec_age_entry {
	const char *recipient;
	const char *enc; /* armored age file holding the 32-byte data key */
};

struct sec_meta {
	const char *mac;
	const char *lastmodified;
	const char *unencrypted_suffix;
	const char *encrypted_suffix;
	const char *unencrypted_regex;
	const char *encrypted_regex;
	int mac_only_encrypted;
	struct sec_age_entry age[32];
	size_t nage;
	size_t ngroups; /* distinct key_groups seen (0: none) */
};

/* Read the flattened entries; strings point into t (unescaped in place). */
int md_secrets__meta_read(struct sec_meta *m, struct sec_tree *t, const char *name, struct md_err *err);

/* ---- sops.c / select.c / secrets.c --------------------------------------- */

/* The parts of "ENC[AES256_GCM,data:...,iv:...,tag:...,type:...]". */
struct sec_enc {
	const char *data, *iv, *tag, *type;
	size_t datal, ivl, tagl, typel;
};

int md_secrets__enc_parse(struct sec_enc *e, const char *s, size_t n);
/* 0 ok; -1 out of memory; -2 malformed; -3 authentication failed. */
int md_secrets__enc_open(char **out, size_t *outlen, const struct sec_enc *e, const unsigned char key[32],
		 const char *aad);
int md_secrets__path_join(char *out, size_t outlen, const char *const *path, size_t n, char sep,
		  int trailing);

/* Which leaves SOPS encrypted: the suffix and regex selectors. */
struct sec_selectors {
	void *unenc_re; /* pcre2_code * */
	void *enc_re;
	void *md;       /* pcre2_match_data * */
};

int md_secrets__selectors_init(struct sec_selectors *s, const struct sec_meta *m, const char *name,
		       struct md_err *err);
int md_secrets__should_encrypt(const struct sec_selectors *s, const struct sec_meta *m,
		       const char *const *path, size_t n);
void md_secrets__selectors_free(struct sec_selectors *s);

int md_secrets__doc_new(struct md_sops_doc **out, enum md_sops_format fmt, const char *name,
		struct md_err *err);
/* Record a leaf (node stays owned by the tree until md_secrets__doc_finish). */
int md_secrets__doc_add_leaf(struct md_sops_doc *d, const struct sec_node *n, const char *path,
		     int in_list, const char *name, struct md_err *err);
/* Take the tree's root and render the plaintext document. */
int md_secrets__doc_finish(struct md_sops_doc *d, struct sec_node **root, const char *name,
		   struct md_err *err);

/* ---- emit.c ---------------------------------------------------------------- */

int md_secrets__emit_plain(struct sec_buf *out, const struct sec_node *root, enum md_sops_format fmt);
/* Go strconv.FormatFloat(v, 'f', -1, 64): shortest round-trip, no exponent. */
int md_secrets__format_float(char *out, size_t outlen, double v);

#endif

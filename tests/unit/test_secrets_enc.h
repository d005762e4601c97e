/* Test-only encryptors for the secrets unit tests: age v1 files (with
 * knobs to damage them in precise ways) and SOPS values, MACs and data-key
 * entries, all with OpenSSL, so every refusal case is built exactly. */
#ifndef TEST_SECRETS_ENC_H
#define TEST_SECRETS_ENC_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "magos/secrets.h"
#include "../../internal/secrets/secrets_int.h"

/* A fixed test identity: private key bytes 1..32. */
struct tid {
	unsigned char priv[32];
	unsigned char pub[32];
	char secret[100]; /* "AGE-SECRET-KEY-1..." */
	char recipient[100];
};

static inline void tid_make(struct tid *t, unsigned char seed)
{
	for (int i = 0; i < 32; i++)
		t->priv[i] = (unsigned char)(seed + i);
	assert_int_equal(md_secrets__x25519_pub(t->pub, t->priv), 0);
	assert_int_equal(md_secrets__bech32_encode(t->secret, sizeof(t->secret), "age-secret-key-", t->priv), 0);
	for (char *p = t->secret; *p; p++)
		*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
	assert_int_equal(md_secrets__bech32_encode(t->recipient, sizeof(t->recipient), "age", t->pub), 0);
}

static inline struct md_age_identities *tid_ids(const struct tid *t)
{
	struct md_age_identities *ids;
	struct md_err err;

	assert_int_equal(md_age_identities_new(&ids), 0);
	assert_int_equal(md_age_identities_add(ids, "test", t->secret, strlen(t->secret), NULL, &err), 0);
	return ids;
}

/* Standard base64; unpadded when pad is 0. */
static inline void b64(struct md_buf *o, const unsigned char *p, size_t n, int pad)
{
	char *tmp = malloc(n / 3 * 4 + 8);
	int len = EVP_EncodeBlock((unsigned char *)tmp, p, (int)n);

	while (!pad && len && tmp[len - 1] == '=')
		len--;
	assert_int_equal(md_buf_append(o, tmp, (size_t)len), 0);
	free(tmp);
}

static inline void hkdf(unsigned char *out, size_t outlen, const unsigned char *ikm, size_t ikml,
		 const unsigned char *salt, size_t saltl, const char *info)
{
	assert_int_equal(md_secrets__hkdf_sha256(out, outlen, ikm, ikml, salt, saltl, info), 0);
}

/* ChaCha20-Poly1305 seal: out gets n + 16 bytes. */
static inline void chacha_seal(unsigned char *out, const unsigned char key[32], const unsigned char nonce[12],
			const unsigned char *in, size_t n)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int l = 0;

	assert_true(EVP_EncryptInit_ex(c, EVP_chacha20_poly1305(), NULL, key, nonce) > 0);
	if (n)
		assert_true(EVP_EncryptUpdate(c, out, &l, in, (int)n) > 0);
	assert_true(EVP_EncryptFinal_ex(c, out + n, &l) > 0);
	assert_true(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, out + n) > 0);
	EVP_CIPHER_CTX_free(c);
}

/* Ways to damage an age file. */
enum age_flaw {
	AF_NONE,
	AF_EXTRA_ARG,    /* "-> X25519 <share> extra" */
	AF_LOW_ORDER,    /* the share is the all-zero point */
	AF_BAD_MAC,      /* flip a bit of the header MAC */
	AF_SCRYPT,       /* add a scrypt stanza */
	AF_NO_LAST,      /* drop the final chunk */
	AF_TRAILING,     /* append bytes after the final chunk */
	AF_FLIP_PAYLOAD, /* flip a payload byte */
};

/* Encrypt pt to recipient pub as a binary age file. */
static inline void age_encrypt(struct md_buf *o, const unsigned char pub[32], const void *pt, size_t n,
			enum age_flaw flaw)
{
	unsigned char file_key[16], eph[32], eph_pub[32], shared[32], salt[64], wrap[32], body[32];
	unsigned char zero12[12] = {0}, hkey[32], mac[32], nonce[16], pkey[32];
	unsigned int ml = 32;
	size_t off = 0, chunks_start, last_start = 0;
	uint64_t ctr = 0;

	for (int i = 0; i < 16; i++)
		file_key[i] = (unsigned char)(0xA0 + i);
	for (int i = 0; i < 32; i++)
		eph[i] = (unsigned char)(0x40 + 3 * i);
	assert_int_equal(md_secrets__x25519_pub(eph_pub, eph), 0);
	if (flaw == AF_LOW_ORDER) {
		memset(eph_pub, 0, 32);
		memset(wrap, 0x11, 32);
	} else {
		assert_int_equal(md_secrets__x25519(shared, eph, pub), 0);
		memcpy(salt, eph_pub, 32);
		memcpy(salt + 32, pub, 32);
		hkdf(wrap, 32, shared, 32, salt, 64, "age-encryption.org/v1/X25519");
	}
	chacha_seal(body, wrap, zero12, file_key, 16);
	md_buf_puts(o, "age-encryption.org/v1\n");
	if (flaw == AF_SCRYPT)
		md_buf_puts(o, "-> scrypt c2FsdHNhbHRzYWx0c2FsdA 18\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n");
	md_buf_puts(o, "-> X25519 ");
	b64(o, eph_pub, 32, 0);
	if (flaw == AF_EXTRA_ARG)
		md_buf_puts(o, " extra");
	md_buf_puts(o, "\n");
	b64(o, body, 32, 0);
	md_buf_puts(o, "\n---");
	hkdf(hkey, 32, file_key, 16, NULL, 0, "header");
	HMAC(EVP_sha256(), hkey, 32, (unsigned char *)o->data, o->len, mac, &ml);
	if (flaw == AF_BAD_MAC)
		mac[5] ^= 1;
	md_buf_puts(o, " ");
	b64(o, mac, 32, 0);
	md_buf_puts(o, "\n");
	for (int i = 0; i < 16; i++)
		nonce[i] = (unsigned char)(0x70 + i);
	md_buf_append(o, nonce, 16);
	hkdf(pkey, 32, file_key, 16, nonce, 16, "payload");
	chunks_start = o->len;
	do {
		size_t c = n - off > 65536 ? 65536 : n - off;
		int last = off + c == n;
		unsigned char cn[12] = {0}, *ct = malloc(c + 16);

		for (int i = 0; i < 8; i++)
			cn[10 - i] = (unsigned char)(ctr >> (8 * i));
		cn[11] = last ? 1 : 0;
		chacha_seal(ct, pkey, cn, (const unsigned char *)pt + off, c);
		last_start = o->len;
		md_buf_append(o, ct, c + 16);
		free(ct);
		off += c;
		ctr++;
	} while (off < n);
	if (flaw == AF_NO_LAST) {
		o->len = last_start;
		o->data[o->len] = '\0';
	}
	if (flaw == AF_TRAILING)
		md_buf_puts(o, "trailing");
	if (flaw == AF_FLIP_PAYLOAD)
		o->data[chunks_start + 3] ^= 0x20;
}

/* ASCII armor at the given column width (64 is right). */
static inline void age_armor(struct md_buf *o, const struct md_buf *bin, size_t cols)
{
	struct md_buf b;

	md_buf_init(&b, 1 << 26);
	b64(&b, (const unsigned char *)bin->data, bin->len, 1);
	md_buf_puts(o, "-----BEGIN AGE ENCRYPTED FILE-----\n");
	for (size_t i = 0; i < b.len; i += cols) {
		md_buf_append(o, b.data + i, b.len - i < cols ? b.len - i : cols);
		md_buf_puts(o, "\n");
	}
	md_buf_puts(o, "-----END AGE ENCRYPTED FILE-----\n");
	md_buf_clear(&b);
}

/* ---- SOPS ------------------------------------------------------------------ */

struct tsops {
	unsigned char key[32];
	EVP_MD_CTX *mac;
	unsigned iv_ctr;
};

static inline void tsops_init(struct tsops *s, int mac_only_encrypted)
{
	for (int i = 0; i < 32; i++)
		s->key[i] = (unsigned char)(0x10 + i);
	s->mac = EVP_MD_CTX_new();
	s->iv_ctr = 0;
	EVP_DigestInit_ex(s->mac, EVP_sha512(), NULL);
	if (mac_only_encrypted) {
		unsigned char h[32];

		EVP_Digest("sops", 4, h, NULL, EVP_sha256(), NULL);
		EVP_DigestUpdate(s->mac, h, 32);
	}
}

/* "ENC[AES256_GCM,...]" of pt under aad; returns a static-lifetime-free string. */
static inline char *tsops_enc_raw(struct tsops *s, const char *aad, const char *pt, const char *type)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	unsigned char iv[32], tag[16], *ct = malloc(strlen(pt) + 1);
	struct md_buf o;
	int l = 0;

	for (int i = 0; i < 32; i++)
		iv[i] = (unsigned char)(s->iv_ctr * 7 + (unsigned)i);
	s->iv_ctr++;
	assert_true(EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) > 0);
	assert_true(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_IVLEN, 32, NULL) > 0);
	assert_true(EVP_EncryptInit_ex(c, NULL, NULL, s->key, iv) > 0);
	if (*aad)
		assert_true(EVP_EncryptUpdate(c, NULL, &l, (const unsigned char *)aad, (int)strlen(aad)) > 0);
	if (*pt)
		assert_true(EVP_EncryptUpdate(c, ct, &l, (const unsigned char *)pt, (int)strlen(pt)) > 0);
	assert_true(EVP_EncryptFinal_ex(c, ct, &l) > 0);
	assert_true(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, tag) > 0);
	EVP_CIPHER_CTX_free(c);
	md_buf_init(&o, 1 << 20);
	md_buf_puts(&o, "ENC[AES256_GCM,data:");
	b64(&o, ct, strlen(pt), 1);
	md_buf_puts(&o, ",iv:");
	b64(&o, iv, 32, 1);
	md_buf_puts(&o, ",tag:");
	b64(&o, tag, 16, 1);
	md_buf_printf(&o, ",type:%s]", type);
	free(ct);
	return md_buf_steal(&o);
}

/* An encrypted leaf: fed to the MAC as pt (already in ToBytes form). */
static inline char *E(struct tsops *s, const char *aad, const char *pt, const char *type)
{
	EVP_DigestUpdate(s->mac, pt, strlen(pt));
	return tsops_enc_raw(s, aad, pt, type);
}

/* A plain leaf's MAC bytes (skip this under mac_only_encrypted). */
static inline void P(struct tsops *s, const char *bytes)
{
	EVP_DigestUpdate(s->mac, bytes, strlen(bytes));
}

/* The encrypted MAC for lastmodified. */
static inline char *tsops_mac(struct tsops *s, const char *lastmodified_aad)
{
	unsigned char h[64];
	char hex[129];
	unsigned int l;

	EVP_DigestFinal_ex(s->mac, h, &l);
	EVP_MD_CTX_free(s->mac);
	s->mac = NULL;
	for (int i = 0; i < 64; i++)
		sprintf(hex + 2 * i, "%02X", h[i]);
	return tsops_enc_raw(s, lastmodified_aad, hex, "str");
}

/* The data key, age-encrypted to pub and armored. */
static inline char *tsops_key_armor(struct tsops *s, const unsigned char pub[32])
{
	struct md_buf bin, arm;

	md_buf_init(&bin, 1 << 20);
	md_buf_init(&arm, 1 << 20);
	age_encrypt(&bin, pub, s->key, 32, AF_NONE);
	age_armor(&arm, &bin, 64);
	md_buf_clear(&bin);
	return md_buf_steal(&arm);
}

/* Armor as one line with "\n" escapes, for dotenv/ini metadata. */
static inline char *escape_nl(const char *s)
{
	struct md_buf o;

	md_buf_init(&o, 1 << 20);
	for (; *s; s++)
		if (*s == '\n')
			md_buf_puts(&o, "\\n");
		else
			md_buf_append(&o, s, 1);
	return md_buf_steal(&o);
}

/* The armor indented for a YAML block scalar. */
static inline char *indent_block(const char *s, const char *ind)
{
	struct md_buf o;

	md_buf_init(&o, 1 << 20);
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t l = nl ? (size_t)(nl - s) : strlen(s);

		md_buf_puts(&o, ind);
		md_buf_append(&o, s, l);
		md_buf_puts(&o, "\n");
		s += l + (nl ? 1 : 0);
	}
	return md_buf_steal(&o);
}

#endif

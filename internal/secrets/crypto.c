/* The primitives age and SOPS need, from OpenSSL libcrypto, plus base64
 * and a buffer that zeroes whatever it drops. */
#include "secrets_int.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

/* ---- zeroing buffer ----------------------------------------------------- */

void md_secrets__buf_init(struct sec_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

/* realloc() would leave a plaintext copy in freed memory: move by hand. */
static int sec_buf_grow(struct sec_buf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 256;
	char *p;

	while (cap < need)
		cap *= 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	p = malloc(cap);
	if (!p)
		return -1;
	if (b->data) {
		memcpy(p, b->data, b->len + 1);
		OPENSSL_cleanse(b->data, b->cap);
		free(b->data);
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int md_secrets__buf_add(struct sec_buf *b, const void *p, size_t n)
{
	if (n > b->max - b->len)
		return -1;
	if (b->len + n + 1 > b->cap && sec_buf_grow(b, b->len + n + 1) < 0)
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int md_secrets__buf_adds(struct sec_buf *b, const char *s)
{
	return md_secrets__buf_add(b, s, strlen(s));
}

int md_secrets__buf_addc(struct sec_buf *b, char c)
{
	return md_secrets__buf_add(b, &c, 1);
}

void md_secrets__buf_free(struct sec_buf *b)
{
	if (b->data) {
		OPENSSL_cleanse(b->data, b->cap);
		free(b->data);
	}
	b->data = NULL;
	b->len = b->cap = 0;
}

const char *md_secrets__printable(char *out, size_t outlen, const char *s)
{
	size_t o = 0;

	for (; *s && o + 1 < outlen; s++)
		out[o++] = (unsigned char)*s < 32 || (unsigned char)*s > 126 ? '?' : *s;
	out[o] = '\0';
	if (*s && outlen > 4)
		memcpy(out + outlen - 4, "...", 4);
	return out;
}

/* ---- base64 -------------------------------------------------------------- */

static int b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int md_secrets__b64_decode(unsigned char *out, size_t outcap, size_t *outlen, const char *in,
		   size_t inlen, int padded)
{
	size_t n = inlen, o = 0, rem;
	uint32_t acc = 0;
	int bits = 0;

	if (padded) {
		if (inlen % 4)
			return -1;
		if (n && in[n - 1] == '=')
			n--;
		if (n && in[n - 1] == '=')
			n--;
	}
	rem = n % 4;
	if (rem == 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int v = b64_val((unsigned char)in[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (o >= outcap)
				return -1;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* age wants canonical encodings (unused bits zero); Go's padded
	 * StdEncoding, which SOPS uses, does not check them. */
	if (!padded && acc != 0)
		return -1;
	*outlen = o;
	return 0;
}

/* ---- X25519, HKDF, HMAC ---------------------------------------------------- */

int md_secrets__x25519(unsigned char out[32], const unsigned char priv[32], const unsigned char pub[32])
{
	static const unsigned char zero[32];
	EVP_PKEY *k = NULL, *peer = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t outlen = 32;
	int rc = -1;

	k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
	peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pub, 32);
	if (!k || !peer)
		goto out;
	ctx = EVP_PKEY_CTX_new(k, NULL);
	if (!ctx || EVP_PKEY_derive_init(ctx) <= 0 || EVP_PKEY_derive_set_peer(ctx, peer) <= 0)
		goto out;
	/* OpenSSL refuses an all-zero result itself; check anyway, and report
	 * both as a low-order share. */
	if (EVP_PKEY_derive(ctx, out, &outlen) <= 0 || outlen != 32) {
		rc = -2;
		goto out;
	}
	rc = CRYPTO_memcmp(out, zero, 32) == 0 ? -2 : 0;
out:
	if (rc < 0)
		OPENSSL_cleanse(out, 32);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(k);
	EVP_PKEY_free(peer);
	return rc;
}

int md_secrets__x25519_pub(unsigned char pub[32], const unsigned char priv[32])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
	size_t len = 32;
	int rc = -1;

	if (k && EVP_PKEY_get_raw_public_key(k, pub, &len) > 0 && len == 32)
		rc = 0;
	EVP_PKEY_free(k);
	return rc;
}

int md_secrets__hkdf_sha256(unsigned char *out, size_t outlen, const unsigned char *ikm, size_t ikmlen,
		    const unsigned char *salt, size_t saltlen, const char *info)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = NULL;
	OSSL_PARAM params[5], *p = params;
	int rc = -1;

	if (!kdf)
		return -1;
	ctx = EVP_KDF_CTX_new(kdf);
	if (!ctx)
		goto out;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)(uintptr_t) "SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)(uintptr_t)ikm, ikmlen);
	/* An empty salt is HMAC's all-zero key: omitting it means the same. */
	if (saltlen)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
							 (void *)(uintptr_t)salt, saltlen);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)(uintptr_t)info,
						 strlen(info));
	*p = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(ctx, out, outlen, params) > 0)
		rc = 0;
out:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return rc;
}

int md_secrets__hmac_sha256(unsigned char out[32], const unsigned char *key, size_t keylen,
		    const unsigned char *data, size_t len)
{
	unsigned int outlen = 32;

	if (!HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &outlen) || outlen != 32)
		return -1;
	return 0;
}

/* ---- AEADs ------------------------------------------------------------------ */

static int aead_open(const EVP_CIPHER *cipher, unsigned char *out, const unsigned char *key,
		     const unsigned char *iv, size_t ivlen, const unsigned char *aad,
		     size_t aadlen, const unsigned char *ct, size_t ctlen,
		     const unsigned char *tag)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	unsigned char scratch[16];
	int n = 0, rc = -1;

	if (!ctx || ctlen > INT32_MAX || aadlen > INT32_MAX)
		goto out;
	if (EVP_DecryptInit_ex(ctx, cipher, NULL, NULL, NULL) <= 0 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, (int)ivlen, NULL) <= 0 ||
	    EVP_DecryptInit_ex(ctx, NULL, NULL, key, iv) <= 0)
		goto out;
	if (aadlen && EVP_DecryptUpdate(ctx, NULL, &n, aad, (int)aadlen) <= 0)
		goto out;
	if (ctlen && EVP_DecryptUpdate(ctx, out, &n, ct, (int)ctlen) <= 0)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, 16, (void *)(uintptr_t)tag) <= 0)
		goto out;
	if (EVP_DecryptFinal_ex(ctx, scratch, &n) <= 0) {
		OPENSSL_cleanse(out, ctlen);
		goto out;
	}
	rc = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int md_secrets__chacha_open(unsigned char *out, const unsigned char key[32], const unsigned char nonce[12],
		    const unsigned char *in, size_t inlen)
{
	if (inlen < 16)
		return -1;
	return aead_open(EVP_chacha20_poly1305(), out, key, nonce, 12, NULL, 0, in, inlen - 16,
			 in + inlen - 16);
}

int md_secrets__gcm_open(unsigned char *out, const unsigned char key[32], const unsigned char *iv,
		 size_t ivlen, const unsigned char *aad, size_t aadlen, const unsigned char *ct,
		 size_t ctlen, const unsigned char tag[16])
{
	return aead_open(EVP_aes_256_gcm(), out, key, iv, ivlen, aad, aadlen, ct, ctlen, tag);
}

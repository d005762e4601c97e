/* Signature verification and key/certificate decoding with OpenSSL 3. */
#include "sigstore_int.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>

/* The hash sigstore pairs with an ECDSA curve. */
static const EVP_MD *curve_md(EVP_PKEY *key)
{
	char group[64] = "";
	size_t n = 0;

	if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group,
					    sizeof(group), &n))
		return EVP_sha256();
	if (!strcmp(group, "secp384r1") || !strcmp(group, "P-384"))
		return EVP_sha384();
	if (!strcmp(group, "secp521r1") || !strcmp(group, "P-521"))
		return EVP_sha512();
	return EVP_sha256();
}

/* Verify a signature over an already computed digest. */
static int verify_digest(EVP_PKEY *key, const EVP_MD *md, const unsigned char *dg,
			 size_t dglen, const unsigned char *sig, size_t siglen)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
	int ok = 0;

	if (!ctx)
		return 0;
	if (EVP_PKEY_verify_init(ctx) == 1 && EVP_PKEY_CTX_set_signature_md(ctx, md) == 1)
		ok = EVP_PKEY_verify(ctx, sig, siglen, dg, dglen) == 1;
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

static int verify_ed25519(EVP_PKEY *key, const void *data, size_t len, const unsigned char *sig,
			  size_t siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = 0;

	if (!ctx)
		return 0;
	if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1)
		ok = EVP_DigestVerify(ctx, sig, siglen, data, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

static int verify_with(EVP_PKEY *key, const EVP_MD *md, const void *data, size_t len,
		       const unsigned char *prehash, const unsigned char *sig, size_t siglen)
{
	unsigned char dg[EVP_MAX_MD_SIZE];
	unsigned int dglen = 0;

	if (data) {
		if (EVP_Digest(data, len, dg, &dglen, md, NULL) != 1)
			return 0;
		return verify_digest(key, md, dg, dglen, sig, siglen);
	}
	if (prehash && EVP_MD_get_type(md) == NID_sha256)
		return verify_digest(key, md, prehash, 32, sig, siglen);
	return 0;
}

int md_sigstore__verify_sig(EVP_PKEY *key, const void *data, size_t len,
			    const unsigned char *prehash, const unsigned char *sig, size_t siglen)
{
	const EVP_MD *md;

	if (!key || !sig || !siglen)
		return 0;
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_ED25519:
		return data ? verify_ed25519(key, data, len, sig, siglen) : 0;
	case EVP_PKEY_EC:
		/* cosign signs with SHA-256 whatever the curve; sigstore-go
		 * pairs P-384 with SHA-384: accept either. */
		md = curve_md(key);
		if (verify_with(key, md, data, len, prehash, sig, siglen))
			return 1;
		return EVP_MD_get_type(md) != NID_sha256 &&
		       verify_with(key, EVP_sha256(), data, len, prehash, sig, siglen);
	case EVP_PKEY_RSA:
		return verify_with(key, EVP_sha256(), data, len, prehash, sig, siglen);
	default:
		return 0;
	}
}

int md_sigstore__verify_sha256(EVP_PKEY *key, const void *data, size_t len,
			       const unsigned char *sig, size_t siglen)
{
	if (!key || !sig || !siglen)
		return 0;
	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519)
		return verify_ed25519(key, data, len, sig, siglen);
	return verify_with(key, EVP_sha256(), data, len, NULL, sig, siglen);
}

int md_sigstore__key_ok(EVP_PKEY *key, char *why, size_t whylen)
{
	int bits = EVP_PKEY_get_bits(key);

	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_ED25519:
		return 1;
	case EVP_PKEY_EC:
		if (bits == 256 || bits == 384 || bits == 521)
			return 1;
		snprintf(why, whylen, "an ECDSA key of %d bits (P-256, P-384 or P-521 expected)",
			 bits);
		return 0;
	case EVP_PKEY_RSA:
		if (bits >= 2048)
			return 1;
		snprintf(why, whylen, "an RSA key of %d bits (2048 or more expected)", bits);
		return 0;
	default:
		snprintf(why, whylen, "a key of type %s (ECDSA, RSA or Ed25519 expected)",
			 OBJ_nid2sn(EVP_PKEY_get_base_id(key)));
		return 0;
	}
}

EVP_PKEY *md_sigstore__pem_key(const void *pem, size_t len)
{
	BIO *bio;
	EVP_PKEY *k;

	if (len > MD_SIGSTORE_MAX_INPUT)
		return NULL;
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return NULL;
	k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return k;
}

X509 *md_sigstore__pem_cert(const void *pem, size_t len)
{
	BIO *bio;
	X509 *c;

	if (len > MD_SIGSTORE_MAX_INPUT)
		return NULL;
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio)
		return NULL;
	c = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	return c;
}

X509 *md_sigstore__der_cert(const unsigned char *p, size_t len)
{
	const unsigned char *q = p;
	X509 *c;

	if (len > MD_SIGSTORE_MAX_INPUT)
		return NULL;
	c = d2i_X509(NULL, &q, (long)len);
	if (c && q != p + len) {
		X509_free(c);
		return NULL;
	}
	return c;
}

int md_sigstore__spki(EVP_PKEY *key, unsigned char **out, size_t *outlen)
{
	unsigned char *p = NULL;
	int n = i2d_PUBKEY(key, &p);

	if (n <= 0)
		return -1;
	*out = p;
	*outlen = (size_t)n;
	return 0;
}

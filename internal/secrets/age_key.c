/* age X25519 identities: Bech32 "AGE-SECRET-KEY-1..." lines, kept with
 * their public keys (HKDF needs them) and recipient strings (errors name
 * those, never the secret). */
#include "secrets_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#define MAX_IDENTITIES 1024
#define MAX_IDENTITY_LINE 512

struct md_age_identities {
	struct sec_identity *v;
	size_t n;
	size_t cap;
};

static const char bech32_charset[] = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

static uint32_t bech32_polymod_step(uint32_t chk, unsigned v)
{
	static const uint32_t gen[5] = {0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd,
					0x2a1462b3};
	uint32_t top = chk >> 25;

	chk = ((chk & 0x1ffffff) << 5) ^ v;
	for (int i = 0; i < 5; i++)
		if ((top >> i) & 1)
			chk ^= gen[i];
	return chk;
}

static uint32_t bech32_hrp_chk(const char *hrp, size_t hlen)
{
	uint32_t chk = 1;

	for (size_t i = 0; i < hlen; i++)
		chk = bech32_polymod_step(chk, (unsigned char)hrp[i] >> 5);
	chk = bech32_polymod_step(chk, 0);
	for (size_t i = 0; i < hlen; i++)
		chk = bech32_polymod_step(chk, (unsigned char)hrp[i] & 31);
	return chk;
}

int md_secrets__bech32_encode(char *out, size_t outlen, const char *hrp, const unsigned char data[32])
{
	size_t hlen = strlen(hrp), o = 0;
	unsigned char five[64];
	size_t nfive = 0;
	uint32_t acc = 0, chk;
	int bits = 0;

	for (int i = 0; i < 32; i++) {
		acc = (acc << 8) | data[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			five[nfive++] = (acc >> bits) & 31;
		}
	}
	if (bits)
		five[nfive++] = (acc << (5 - bits)) & 31;
	if (hlen + 1 + nfive + 6 + 1 > outlen)
		return -1;
	memcpy(out, hrp, hlen);
	o = hlen;
	out[o++] = '1';
	chk = bech32_hrp_chk(hrp, hlen);
	for (size_t i = 0; i < nfive; i++) {
		chk = bech32_polymod_step(chk, five[i]);
		out[o++] = bech32_charset[five[i]];
	}
	for (int i = 0; i < 6; i++)
		chk = bech32_polymod_step(chk, 0);
	chk ^= 1;
	for (int i = 0; i < 6; i++)
		out[o++] = bech32_charset[(chk >> (5 * (5 - i))) & 31];
	out[o] = '\0';
	return 0;
}

/* Decode a Bech32 string whose lowercase HRP must equal hrp into 32 bytes.
 * The checksum is over the lowercase form; mixed case is invalid. */
static int bech32_decode32(unsigned char out[32], const char *s, size_t len, const char *hrp)
{
	char low[MAX_IDENTITY_LINE];
	int upper = 0, lower = 0;
	size_t sep, hlen = strlen(hrp), o = 0;
	uint32_t chk, acc = 0;
	int bits = 0;

	if (len >= sizeof(low) || len < hlen + 7)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 33 || c > 126)
			return -1;
		upper |= isupper(c) != 0;
		lower |= islower(c) != 0;
		low[i] = (char)tolower(c);
	}
	if (upper && lower)
		return -1;
	sep = len;
	while (sep > 0 && low[sep - 1] != '1')
		sep--;
	if (sep == 0 || sep - 1 != hlen || memcmp(low, hrp, hlen) != 0)
		return -1;
	chk = bech32_hrp_chk(low, hlen);
	for (size_t i = sep; i < len; i++) {
		const char *p = strchr(bech32_charset, low[i]);

		if (!p || !*p)
			goto bad;
		chk = bech32_polymod_step(chk, (unsigned)(p - bech32_charset));
		if (i + 6 >= len)
			continue; /* the checksum characters carry no data */
		acc = (acc << 5) | (uint32_t)(p - bech32_charset);
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (o >= 32)
				goto bad;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (chk != 1 || o != 32 || bits >= 5 || acc != 0)
		goto bad;
	OPENSSL_cleanse(low, sizeof(low));
	return 0;
bad:
	OPENSSL_cleanse(low, sizeof(low));
	OPENSSL_cleanse(out, 32);
	return -1;
}

int md_age_identities_new(struct md_age_identities **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -1;
}

static int identities_push(struct md_age_identities *ids, const unsigned char priv[32])
{
	struct sec_identity *id;

	if (ids->n == ids->cap) {
		size_t cap = ids->cap ? ids->cap * 2 : 4;
		struct sec_identity *v = calloc(cap, sizeof(*v));

		if (!v)
			return -1;
		/* Move by hand so no key copy is left in freed memory. */
		if (ids->v) {
			memcpy(v, ids->v, ids->n * sizeof(*v));
			OPENSSL_cleanse(ids->v, ids->cap * sizeof(*v));
			free(ids->v);
		}
		ids->v = v;
		ids->cap = cap;
	}
	id = &ids->v[ids->n];
	memcpy(id->priv, priv, 32);
	if (md_secrets__x25519_pub(id->pub, id->priv) < 0 ||
	    md_secrets__bech32_encode(id->recipient, sizeof(id->recipient), "age", id->pub) < 0) {
		OPENSSL_cleanse(id, sizeof(*id));
		return -1;
	}
	ids->n++;
	return 0;
}

static int add_line(struct md_age_identities *ids, const char *name, size_t lineno,
		    const char *s, size_t len, size_t *skipped, struct md_err *err)
{
	unsigned char priv[32];

	if (len == 0 || s[0] == '#')
		return 0;
	/* Post-quantum and plugin identities need code we do not have. */
	if ((len > 18 && strncasecmp(s, "AGE-SECRET-KEY-PQ-", 18) == 0) ||
	    (len > 11 && strncasecmp(s, "AGE-PLUGIN-", 11) == 0)) {
		if (skipped)
			(*skipped)++;
		return 0;
	}
	if (bech32_decode32(priv, s, len, "age-secret-key-") < 0)
		return md_err_set(err, "%s:%zu: not a valid age identity (expected AGE-SECRET-KEY-1...)",
				  name, lineno);
	if (ids->n >= MAX_IDENTITIES) {
		OPENSSL_cleanse(priv, sizeof(priv));
		return md_err_set(err, "%s:%zu: more than %d age identities", name, lineno,
				  MAX_IDENTITIES);
	}
	if (identities_push(ids, priv) < 0) {
		OPENSSL_cleanse(priv, sizeof(priv));
		return md_err_set(err, "%s:%zu: cannot load the age identity (out of memory?)",
				  name, lineno);
	}
	OPENSSL_cleanse(priv, sizeof(priv));
	return 0;
}

int md_age_identities_add(struct md_age_identities *ids, const char *name, const char *text,
			  size_t len, size_t *skipped, struct md_err *err)
{
	size_t pos = 0, lineno = 0;

	if (!name)
		name = "identities";
	if (len > MD_SECRETS_MAX_FILE)
		return md_err_set(err, "%s: identity file is larger than %u bytes", name,
				  MD_SECRETS_MAX_FILE);
	while (pos < len) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - line) : len - pos;

		pos += l + (nl ? 1 : 0);
		lineno++;
		while (l && isspace((unsigned char)line[l - 1]))
			l--;
		while (l && isspace((unsigned char)*line)) {
			line++;
			l--;
		}
		if (add_line(ids, name, lineno, line, l, skipped, err) < 0)
			return -1;
	}
	return 0;
}

size_t md_age_identities_count(const struct md_age_identities *ids)
{
	return ids ? ids->n : 0;
}

void md_age_identities_free(struct md_age_identities *ids)
{
	if (!ids)
		return;
	if (ids->v) {
		OPENSSL_cleanse(ids->v, ids->cap * sizeof(*ids->v));
		free(ids->v);
	}
	free(ids);
}

size_t md_secrets__age_identity_n(const struct md_age_identities *ids)
{
	return ids ? ids->n : 0;
}

const struct sec_identity *md_secrets__age_identity_at(const struct md_age_identities *ids, size_t i)
{
	return ids && i < ids->n ? &ids->v[i] : NULL;
}

void md_secrets__age_identities_describe(const struct md_age_identities *ids, char *out, size_t outlen)
{
	size_t n = md_secrets__age_identity_n(ids), o = 0;

	out[0] = '\0';
	if (n == 0) {
		md_strlcpy(out, "none", outlen);
		return;
	}
	for (size_t i = 0; i < n && i < 4; i++) {
		int w = snprintf(out + o, outlen - o, "%s%s", i ? ", " : "", ids->v[i].recipient);

		if (w < 0 || (size_t)w >= outlen - o)
			return;
		o += (size_t)w;
	}
	if (n > 4)
		snprintf(out + o, outlen - o, " and %zu more", n - 4);
}

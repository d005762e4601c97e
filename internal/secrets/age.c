/* age v1 decryption (age-encryption.org/v1): strict ASCII armor, the
 * textual header with its stanzas and MAC, X25519 unwrapping of the file
 * key, and the STREAM payload in 64 KiB ChaCha20-Poly1305 chunks. */
#include "secrets_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define ARMOR_BEGIN "-----BEGIN AGE ENCRYPTED FILE-----"
#define ARMOR_END "-----END AGE ENCRYPTED FILE-----"
#define ARMOR_COLS 64
#define AGE_MAGIC "age-encryption.org/v1\n"
#define MAX_STANZAS 64
#define MAX_ARGS 16
#define MAX_BODY 16384
#define CHUNK 65536
#define TAGLEN 16

struct stanza {
	const char *args[MAX_ARGS]; /* args[0] is the type; pointers into line copies */
	size_t argl[MAX_ARGS];
	size_t nargs;
	unsigned char *body;
	size_t bodylen;
};

struct header {
	struct stanza st[MAX_STANZAS];
	size_t n;
	size_t mac_off;   /* header bytes covered by the MAC: up to and including "---" */
	unsigned char mac[32];
	size_t payload;   /* offset of the payload */
};

static void header_free(struct header *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->st[i].body);
	h->n = 0;
}

/* ---- armor ----------------------------------------------------------------- */

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* The next line of s[pos..len): its length without "\n" / "\r\n"; *next is
 * past the terminator; *eol says whether there was a '\n'. */
static size_t next_line(const char *s, size_t len, size_t pos, size_t *next, int *eol)
{
	const char *nl = memchr(s + pos, '\n', len - pos);
	size_t l = nl ? (size_t)(nl - (s + pos)) : len - pos;

	*next = pos + l + (nl ? 1 : 0);
	*eol = nl != NULL;
	if (nl && l && s[pos + l - 1] == '\r')
		l--;
	return l;
}

static int dearmor(unsigned char **out, size_t *outlen, const char *name, const char *s,
		   size_t len, struct md_err *err)
{
	struct md_buf b64;
	size_t pos = 0, next, l, lineno = 1, dlen;
	int eol, ended = 0, rc = -1;
	unsigned char *bin = NULL;

	md_buf_init(&b64, len);
	while (pos < len && is_ws(s[pos]))
		pos++;
	l = next_line(s, len, pos, &next, &eol);
	if (l != strlen(ARMOR_BEGIN) || memcmp(s + pos, ARMOR_BEGIN, l) != 0 || !eol) {
		md_err_set(err, "%s: invalid age armor: the first line is not %s", name, ARMOR_BEGIN);
		goto out;
	}
	for (pos = next; pos < len; pos = next) {
		int short_line;

		lineno++;
		l = next_line(s, len, pos, &next, &eol);
		if (l == strlen(ARMOR_END) && memcmp(s + pos, ARMOR_END, l) == 0) {
			ended = 1;
			break;
		}
		if (l > ARMOR_COLS) {
			md_err_set(err, "%s: invalid age armor: line %zu is longer than %d columns",
				   name, lineno, ARMOR_COLS);
			goto out;
		}
		/* Only the last line before the END line may be short. */
		short_line = l < ARMOR_COLS;
		if (md_buf_append(&b64, s + pos, l) < 0)
			goto oom;
		if (short_line) {
			size_t n2;
			size_t l2 = next_line(s, len, next, &n2, &eol);

			if (next >= len)
				break;
			if (l2 != strlen(ARMOR_END) || memcmp(s + next, ARMOR_END, l2) != 0) {
				md_err_set(err, "%s: invalid age armor: line %zu is shorter than %d "
					   "columns but is not the last", name, lineno, ARMOR_COLS);
				goto out;
			}
		}
	}
	if (!ended) {
		md_err_set(err, "%s: truncated age armor: no %s line", name, ARMOR_END);
		goto out;
	}
	for (pos = next; pos < len; pos++)
		if (!is_ws(s[pos])) {
			md_err_set(err, "%s: invalid age armor: data after the %s line", name,
				   ARMOR_END);
			goto out;
		}
	bin = malloc(b64.len / 4 * 3 + 3);
	if (!bin)
		goto oom;
	if (md_secrets__b64_decode(bin, b64.len / 4 * 3 + 3, &dlen, b64.data ? b64.data : "", b64.len,
			   1) < 0) {
		md_err_set(err, "%s: invalid age armor: the body is not padded base64", name);
		goto out;
	}
	*out = bin;
	*outlen = dlen;
	bin = NULL;
	rc = 0;
	goto out;
oom:
	md_err_set(err, "%s: out of memory reading the age armor", name);
out:
	free(bin);
	md_buf_clear(&b64);
	return rc;
}

/* ---- header ---------------------------------------------------------------- */

static int parse_stanza_line(struct stanza *st, const char *line, size_t l)
{
	size_t i = 3; /* past "-> " */

	st->nargs = 0;
	while (i <= l) {
		size_t j = i;

		while (j < l && line[j] != ' ')
			j++;
		if (j == i || st->nargs == MAX_ARGS)
			return -1;
		for (size_t k = i; k < j; k++)
			if ((unsigned char)line[k] < 33 || (unsigned char)line[k] > 126)
				return -1;
		st->args[st->nargs] = line + i;
		st->argl[st->nargs++] = j - i;
		i = j + 1;
	}
	return st->nargs ? 0 : -1;
}

/* Body lines: unpadded canonical base64, full lines of 64, ended by a
 * shorter (possibly empty) one. */
static int parse_stanza_body(struct stanza *st, const char *s, size_t len, size_t *pos)
{
	unsigned char tmp[48];
	size_t next, l, n;
	int eol;

	st->body = malloc(MAX_BODY);
	if (!st->body)
		return -1;
	st->bodylen = 0;
	for (;;) {
		if (*pos >= len)
			return -1;
		l = next_line(s, len, *pos, &next, &eol);
		/* Header lines end in "\n" only: a "\r" is not base64 either. */
		if (!eol || l > ARMOR_COLS || (next - *pos) != l + 1)
			return -1;
		if (md_secrets__b64_decode(tmp, sizeof(tmp), &n, s + *pos, l, 0) < 0 ||
		    st->bodylen + n > MAX_BODY)
			return -1;
		memcpy(st->body + st->bodylen, tmp, n);
		st->bodylen += n;
		*pos = next;
		if (l < ARMOR_COLS)
			return 0;
	}
}

static int parse_header(struct header *h, const char *name, const char *s, size_t len,
			struct md_err *err)
{
	size_t pos = strlen(AGE_MAGIC), next, l, n;
	int eol;

	if (len < pos || memcmp(s, AGE_MAGIC, pos) != 0)
		return md_err_set(err, "%s: not an age v1 file (no age-encryption.org/v1 line)",
				  name);
	for (;;) {
		const char *line = s + pos;

		if (pos >= len)
			return md_err_set(err, "%s: truncated age header (no --- MAC line)", name);
		l = next_line(s, len, pos, &next, &eol);
		if (!eol || next - pos != l + 1)
			return md_err_set(err, "%s: truncated or malformed age header line", name);
		if (l >= 3 && memcmp(line, "---", 3) == 0) {
			if (l != 4 + 43 || line[3] != ' ' ||
			    md_secrets__b64_decode(h->mac, sizeof(h->mac), &n, line + 4, 43, 0) < 0 ||
			    n != 32)
				return md_err_set(err, "%s: malformed age header MAC line", name);
			h->mac_off = pos + 3;
			h->payload = next;
			break;
		}
		if (l < 3 || memcmp(line, "-> ", 3) != 0)
			return md_err_set(err, "%s: malformed age header: unexpected line", name);
		if (h->n == MAX_STANZAS)
			return md_err_set(err, "%s: age header has more than %d stanzas", name,
					  MAX_STANZAS);
		if (parse_stanza_line(&h->st[h->n], line, l) < 0)
			return md_err_set(err, "%s: malformed age stanza line (bad arguments)", name);
		pos = next;
		h->n++;
		if (parse_stanza_body(&h->st[h->n - 1], s, len, &pos) < 0)
			return md_err_set(err, "%s: malformed age stanza body", name);
	}
	if (h->n == 0)
		return md_err_set(err, "%s: age header has no recipient stanzas", name);
	return 0;
}

/* ---- file key ----------------------------------------------------------------- */

static int arg_is(const struct stanza *st, size_t i, const char *s)
{
	return st->argl[i] == strlen(s) && memcmp(st->args[i], s, st->argl[i]) == 0;
}

/* 1: unwrapped; 0: not this identity; -1: error set. */
static int unwrap_x25519(unsigned char file_key[16], const struct stanza *st,
			 const struct sec_identity *id, const char *name, struct md_err *err)
{
	static const unsigned char zero_nonce[12];
	unsigned char share[32], shared[32], salt[64], wrap[32];
	size_t n;
	int rc, r;

	if (st->nargs != 2)
		return md_err_set(err, "%s: invalid X25519 stanza: %zu arguments, want 2 (type and "
				  "share)", name, st->nargs);
	if (st->argl[1] != 43 || md_secrets__b64_decode(share, sizeof(share), &n, st->args[1], 43, 0) < 0 ||
	    n != 32)
		return md_err_set(err, "%s: invalid X25519 stanza: the share is not 32 bytes", name);
	if (st->bodylen != 32)
		return md_err_set(err, "%s: invalid X25519 stanza: the body is %zu bytes, want 32",
				  name, st->bodylen);
	r = md_secrets__x25519(shared, id->priv, share);
	if (r == -2)
		return md_err_set(err, "%s: X25519 stanza has a low-order share (all-zero shared "
				  "secret)", name);
	if (r < 0)
		return md_err_set(err, "%s: X25519 key agreement failed", name);
	memcpy(salt, share, 32);
	memcpy(salt + 32, id->pub, 32);
	rc = -1;
	if (md_secrets__hkdf_sha256(wrap, 32, shared, 32, salt, 64, "age-encryption.org/v1/X25519") < 0) {
		md_err_set(err, "%s: HKDF failed", name);
		goto out;
	}
	rc = md_secrets__chacha_open(file_key, wrap, zero_nonce, st->body, 32) == 0 ? 1 : 0;
out:
	OPENSSL_cleanse(shared, sizeof(shared));
	OPENSSL_cleanse(wrap, sizeof(wrap));
	return rc;
}

static int find_file_key(unsigned char file_key[16], const struct header *h,
			 const struct md_age_identities *ids, const char *name, struct md_err *err)
{
	char types[256] = "", tried[512];
	size_t nx = 0, o = 0;

	for (size_t i = 0; i < h->n; i++)
		if (arg_is(&h->st[i], 0, "scrypt"))
			return md_err_set(err, "%s: passphrase-encrypted (scrypt) age files are not "
					  "supported; encrypt to an X25519 recipient", name);
	for (size_t i = 0; i < h->n; i++) {
		const struct stanza *st = &h->st[i];

		if (!arg_is(st, 0, "X25519")) {
			int w = snprintf(types + o, sizeof(types) - o, "%s%.*s", o ? ", " : "",
					 (int)(st->argl[0] > 32 ? 32 : st->argl[0]), st->args[0]);

			if (w > 0 && (size_t)w < sizeof(types) - o)
				o += (size_t)w;
			continue;
		}
		nx++;
		for (size_t k = 0; k < md_secrets__age_identity_n(ids); k++) {
			int r = unwrap_x25519(file_key, st, md_secrets__age_identity_at(ids, k), name, err);

			if (r != 0)
				return r > 0 ? 0 : -1;
		}
		/* With no identity the stanza is still checked for shape. */
		if (md_secrets__age_identity_n(ids) == 0 && h->st[i].nargs != 2)
			return md_err_set(err, "%s: invalid X25519 stanza: %zu arguments, want 2 "
					  "(type and share)", name, st->nargs);
	}
	md_secrets__age_identities_describe(ids, tried, sizeof(tried));
	md_err_set(err, "%s: no identity matches: %zu X25519 stanza(s)%s%s%s; identities "
			  "tried: %s", name, nx, o ? " and unsupported stanza types (" : "", types,
			  o ? ")" : "", tried);
	return -2;
}

/* ---- payload -------------------------------------------------------------------- */

static int open_chunk(unsigned char *out, const unsigned char key[32], uint64_t counter,
		      int last, const unsigned char *in, size_t inlen)
{
	unsigned char nonce[12] = {0};

	for (int i = 0; i < 8; i++)
		nonce[10 - i] = (unsigned char)(counter >> (8 * i));
	nonce[11] = last ? 1 : 0;
	return md_secrets__chacha_open(out, key, nonce, in, inlen);
}

static int decrypt_payload(struct sec_buf *pt, const unsigned char file_key[16],
			   const unsigned char *p, size_t len, const char *name,
			   struct md_err *err)
{
	unsigned char key[32], *chunk = NULL;
	uint64_t counter = 0;
	size_t pos = 16;
	int rc = -1;

	if (len < 16)
		return md_err_set(err, "%s: truncated age payload (no nonce)", name);
	if (md_secrets__hkdf_sha256(key, 32, file_key, 16, p, 16, "payload") < 0)
		return md_err_set(err, "%s: HKDF failed", name);
	chunk = malloc(CHUNK);
	if (!chunk) {
		md_err_set(err, "%s: out of memory decrypting the age payload", name);
		goto out;
	}
	for (;; counter++) {
		size_t rem = len - pos, n = rem > CHUNK + TAGLEN ? CHUNK + TAGLEN : rem;
		int last = rem <= CHUNK + TAGLEN;

		if (n < TAGLEN || (n == TAGLEN && counter > 0)) {
			md_err_set(err, "%s: age payload is missing its final chunk (truncated)", name);
			goto out;
		}
		if (open_chunk(chunk, key, counter, last, p + pos, n) == 0)
			goto got;
		/* Tell truncation and trailing data apart from tampering. */
		if (open_chunk(chunk, key, counter, !last, p + pos, n) == 0) {
			md_err_set(err, last ? "%s: age payload is missing its final chunk "
					       "(truncated)" : "%s: trailing data after the final "
					       "age payload chunk", name);
			goto out;
		}
		md_err_set(err, "%s: age payload chunk %llu failed authentication (tampered or "
			   "truncated)", name, (unsigned long long)counter);
		goto out;
got:
		if (md_secrets__buf_add(pt, chunk, n - TAGLEN) < 0) {
			md_err_set(err, "%s: age plaintext is larger than %zu bytes", name, pt->max);
			goto out;
		}
		pos += n;
		if (last)
			break;
	}
	rc = 0;
out:
	if (chunk) {
		OPENSSL_cleanse(chunk, CHUNK);
		free(chunk);
	}
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

/* ---- entry point --------------------------------------------------------------------- */

static int looks_armored(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && is_ws(s[i]))
		i++;
	return len - i >= strlen(ARMOR_BEGIN) &&
	       memcmp(s + i, ARMOR_BEGIN, strlen(ARMOR_BEGIN)) == 0;
}

int md_secrets__age_decrypt(char **out, size_t *outlen, const struct md_age_identities *ids,
		    const char *name, const char *data, size_t len, struct md_err *err)
{
	unsigned char *bin = NULL, file_key[16], hkey[32], mac[32];
	const unsigned char *b = (const unsigned char *)data;
	struct header *h = NULL;
	struct sec_buf pt;
	size_t blen = len;
	int rc = -1, r;

	*out = NULL;
	*outlen = 0;
	if (!name)
		name = "age file";
	md_secrets__buf_init(&pt, MD_SECRETS_MAX_FILE);
	if (len > MD_SECRETS_MAX_FILE)
		return md_err_set(err, "%s: age file is larger than %u bytes", name,
				  MD_SECRETS_MAX_FILE);
	if (looks_armored(data, len)) {
		if (dearmor(&bin, &blen, name, data, len, err) < 0)
			return -1;
		b = bin;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		md_err_set(err, "%s: out of memory", name);
		goto out;
	}
	if (parse_header(h, name, (const char *)b, blen, err) < 0)
		goto out;
	if ((r = find_file_key(file_key, h, ids, name, err)) < 0) {
		rc = r;
		goto out;
	}
	if (md_secrets__hkdf_sha256(hkey, 32, file_key, 16, NULL, 0, "header") < 0 ||
	    md_secrets__hmac_sha256(mac, hkey, 32, b, h->mac_off) < 0) {
		md_err_set(err, "%s: HMAC failed", name);
		goto out;
	}
	if (CRYPTO_memcmp(mac, h->mac, 32) != 0) {
		md_err_set(err, "%s: age header MAC mismatch (the header was altered)", name);
		goto out;
	}
	if (decrypt_payload(&pt, file_key, b + h->payload, blen - h->payload, name, err) < 0)
		goto out;
	if (md_secrets__buf_add(&pt, "", 0) < 0) { /* an empty payload still gets a buffer */
		md_err_set(err, "%s: out of memory", name);
		goto out;
	}
	*out = pt.data;
	*outlen = pt.len;
	pt.data = NULL;
	rc = 0;
out:
	OPENSSL_cleanse(file_key, sizeof(file_key));
	OPENSSL_cleanse(hkey, sizeof(hkey));
	if (h) {
		header_free(h);
		free(h);
	}
	free(bin);
	md_secrets__buf_free(&pt);
	return rc;
}

int md_age_decrypt(char **out, size_t *outlen, const struct md_age_identities *ids,
		   const char *name, const char *data, size_t len, struct md_err *err)
{
	return md_secrets__age_decrypt(out, outlen, ids, name, data, len, err) < 0 ? -1 : 0;
}

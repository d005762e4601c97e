/* Encodings the Sigstore formats use: base64 (strict), hex, SHA-256, and
 * RFC 3339 times with fractions. */
#include "sigstore_int.h"

#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

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

/* Hand-written rather than EVP_DecodeBlock, which skips any whitespace and
 * cannot say how much padding it saw: a signature with stray characters
 * must be refused, not silently repaired. Line breaks are skipped, as Go's
 * decoder (hence protojson, hence sigstore-go) does: wrapped base64 from
 * `base64 file` is valid there. */
static int b64_decode_clean(const char *s, size_t len, unsigned char *buf, size_t *outlen)
{
	size_t pad = 0, n, o = 0;
	uint32_t acc = 0;
	int bits = 0;

	while (pad < 2 && len > pad && s[len - 1 - pad] == '=')
		pad++;
	n = len - pad;
	if ((pad && len % 4) || n % 4 == 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int v = b64_val((unsigned char)s[i]);

		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[o++] = (unsigned char)(acc >> bits);
		}
	}
	/* Leftover bits must be zero (canonical encoding). */
	if (bits && (acc & ((1u << bits) - 1)))
		return -1;
	*outlen = o;
	return 0;
}

int md_sigstore__b64_decode(const char *s, size_t len, unsigned char **out, size_t *outlen)
{
	char *clean = malloc(len + 1);
	unsigned char *buf = malloc(len / 4 * 3 + 4);
	size_t n = 0;

	*out = NULL;
	*outlen = 0;
	if (!clean || !buf)
		goto bad;
	for (size_t i = 0; i < len; i++)
		if (s[i] != '\n' && s[i] != '\r')
			clean[n++] = s[i];
	if (b64_decode_clean(clean, n, buf, outlen) < 0)
		goto bad;
	free(clean);
	buf[*outlen] = 0;
	*out = buf;
	return 0;
bad:
	free(clean);
	free(buf);
	*outlen = 0;
	return -1;
}

char *md_sigstore__b64_encode(const unsigned char *p, size_t n)
{
	char *s = malloc(4 * ((n + 2) / 3) + 1);

	if (!s)
		return NULL;
	EVP_EncodeBlock((unsigned char *)s, p, (int)n);
	return s;
}

void md_sigstore__hex(const unsigned char *p, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly 2*outlen hex digits. */
int md_sigstore__unhex(const char *s, unsigned char *out, size_t outlen)
{
	if (strlen(s) != 2 * outlen)
		return -1;
	for (size_t i = 0; i < outlen; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

void md_sigstore__sha256(const void *p, size_t n, unsigned char out[32])
{
	SHA256(p, n, out);
}

/* util parses the seconds; the fraction matters for validity windows that
 * end at .999 (the public-good root's first Fulcio CA). */
int md_sigstore__time_ms(const char *s, int64_t *out)
{
	const char *t = strchr(s, 'T'), *dot;
	int64_t sec, ms = 0;
	int mult = 100;

	if (!t)
		t = strchr(s, 't');
	if (!t || md_time_parse_rfc3339(s, &sec, NULL) < 0)
		return -1;
	dot = strchr(t, '.');
	if (dot)
		for (const char *p = dot + 1; *p >= '0' && *p <= '9'; p++) {
			ms += (*p - '0') * mult;
			mult /= 10;
		}
	if (sec > INT64_MAX / 1000 - 1 || sec < INT64_MIN / 1000 + 1)
		return -1;
	*out = sec * 1000 + ms;
	return 0;
}

int md_sigstore__range_has(const struct sg_range *r, int64_t t)
{
	int64_t ms;

	if (t > INT64_MAX / 1000 || t < INT64_MIN / 1000)
		return 0;
	ms = t * 1000;
	if (r->has_start && ms < r->start)
		return 0;
	/* an end at .999 still covers that whole second */
	if (r->has_end && ms > r->end)
		return 0;
	return 1;
}

void md_sigstore__fmt_time(int64_t t, char *out, size_t outlen)
{
	md_time_format_rfc3339(t, out, outlen);
}

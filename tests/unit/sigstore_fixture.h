/* Unit tests of the sigstore module: the project's generated signatures
 * (tests/fixtures/sigstore/, see its README) loaded, edited as JSON and
 * verified through the public header. Static helpers, one copy per test. */
#ifndef MAGOS_TEST_SIGSTORE_FIXTURE_H
#define MAGOS_TEST_SIGSTORE_FIXTURE_H

#include "unit.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "magos/sigstore.h"

#define FIX "tests/fixtures/sigstore/"
#define BASE FIX "base/"
#define EXTRA FIX "extra/"
/* every fixture signs this image digest */
#define DIGEST "sha256:cdb8ed95c33770329cd8d56d315174ead048b7c05ea1150c9e40e35a3c04a1d7"
#define OTHER_DIGEST "sha256:0000000000000000000000000000000000000000000000000000000000000001"
#define GH_ISSUER "https://token.actions.githubusercontent.com"
#define BASE_ID "https://github.com/magos-test/app/.github/workflows/release.yml@refs/heads/main"
#define EXTRA_ID "https://github.com/magos-test/app/.github/workflows/release.yml@refs/tags/v1.2.3"

__attribute__((unused)) static char *slurp(const char *path, size_t *len)
{
	struct md_err err;
	size_t n;
	char *s;

	if (md_file_read(path, 1 << 24, &s, len ? len : &n, &err) < 0)
		fail_msg("%s", err.msg);
	return s;
}

__attribute__((unused)) static struct md_sigstore_root *root_at(const char *path)
{
	struct md_sigstore_root *r;
	struct md_err err;

	if (md_sigstore_root_load(&r, path, &err) < 0)
		fail_msg("%s", err.msg);
	return r;
}

__attribute__((unused)) static struct md_sigstore_root *root_json(json_t *j)
{
	struct md_sigstore_root *r;
	struct md_err err;
	char *s = json_dumps(j, JSON_COMPACT);

	if (md_sigstore_root_parse(&r, "edited root", s, strlen(s), &err) < 0)
		fail_msg("%s", err.msg);
	free(s);
	json_decref(j);
	return r;
}

__attribute__((unused)) static struct md_sigstore_req *req_spec(const struct md_sigstore_req_spec *sp)
{
	struct md_sigstore_req *q;
	struct md_err err;

	if (md_sigstore_req_new(&q, sp, &err) < 0)
		fail_msg("%s", err.msg);
	return q;
}

__attribute__((unused)) static struct md_sigstore_req *req_keyless(const char *id, const char *iss)
{
	struct md_sigstore_req_spec sp = { .identity = id, .issuer = iss };

	return req_spec(&sp);
}

__attribute__((unused)) static struct md_sigstore_req *req_key(const char *path, int tlog_optional)
{
	struct md_sigstore_req_spec sp = { .key_path = path, .tlog_optional = tlog_optional };

	return req_spec(&sp);
}

__attribute__((unused)) static json_t *load_json(const char *path)
{
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);

	if (!j)
		fail_msg("%s: %s", path, je.text);
	return j;
}

/* The node at a dotted path; numbers index arrays ("a.b.0.c"). */
__attribute__((unused)) static json_t *jpath(json_t *j, const char *path)
{
	char buf[256], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && j; tok = strtok_r(NULL, ".", &save))
		j = json_is_array(j) ? json_array_get(j, strtoul(tok, NULL, 10)) : json_object_get(j, tok);
	if (!j)
		fail_msg("no %s in the fixture", path);
	return j;
}

/* Set the last key of a dotted path (the parent must exist). */
__attribute__((unused)) static void jset(json_t *j, const char *path, json_t *v)
{
	char parent[256];
	const char *dot = strrchr(path, '.');
	json_t *p = j;

	if (dot) {
		snprintf(parent, sizeof(parent), "%.*s", (int)(dot - path), path);
		p = jpath(j, parent);
	}
	if (json_is_array(p))
		json_array_set_new(p, strtoul(dot ? dot + 1 : path, NULL, 10), v);
	else
		json_object_set_new(p, dot ? dot + 1 : path, v);
}

__attribute__((unused)) static void jdel(json_t *j, const char *path)
{
	char parent[256];
	const char *dot = strrchr(path, '.');

	if (!dot) {
		json_object_del(j, path);
		return;
	}
	snprintf(parent, sizeof(parent), "%.*s", (int)(dot - path), path);
	json_object_del(jpath(j, parent), dot + 1);
}

/* Flip one bit of the bytes under a base64 string field. */
__attribute__((unused)) static void jflip_b64(json_t *j, const char *path, size_t at)
{
	const char *s = json_string_value(jpath(j, path));
	size_t n = strlen(s);
	unsigned char *raw = malloc(n);
	char *out = malloc(n + 4);
	int len = EVP_DecodeBlock(raw, (const unsigned char *)s, (int)n);

	assert_true(len > 0);
	while (n && s[n - 1] == '=') {
		n--;
		len--;
	}
	raw[at % (size_t)len] ^= 0x01;
	EVP_EncodeBlock((unsigned char *)out, raw, len);
	jset(j, path, json_string(out));
	free(raw);
	free(out);
}

/* Replace a base64 field's bytes with the given ones. */
__attribute__((unused)) static void jset_b64(json_t *j, const char *path, const void *p, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	jset(j, path, json_string(out));
	free(out);
}

__attribute__((unused)) static int bundle_from(struct md_sigstore_bundle **b, json_t *j,
					       struct md_err *err)
{
	char *s = json_dumps(j, JSON_COMPACT);
	int rc = md_sigstore_bundle_parse(b, "bundle.json", s, strlen(s), err);

	free(s);
	return rc;
}

__attribute__((unused)) static struct md_sigstore_bundle *bundle_json(json_t *j)
{
	struct md_sigstore_bundle *b;
	struct md_err err;

	if (bundle_from(&b, j, &err) < 0)
		fail_msg("%s", err.msg);
	json_decref(j);
	return b;
}

__attribute__((unused)) static struct md_sigstore_bundle *bundle_at(const char *path)
{
	return bundle_json(load_json(path));
}

/* A legacy layer from a fixture directory holding payload.json and
 * manifest.json; manifest edits apply to the layer's annotations. */
__attribute__((unused)) static int legacy_from(struct md_sigstore_bundle **b, const char *payload,
					       size_t plen, json_t *ann, struct md_err *err)
{
	struct md_sigstore_legacy in = {
		.payload = payload,
		.payload_len = plen,
		.signature = json_string_value(json_object_get(ann, MD_SIGSTORE_ANN_SIGNATURE)),
		.certificate = json_string_value(json_object_get(ann, MD_SIGSTORE_ANN_CERTIFICATE)),
		.chain = json_string_value(json_object_get(ann, MD_SIGSTORE_ANN_CHAIN)),
		.bundle = json_string_value(json_object_get(ann, MD_SIGSTORE_ANN_BUNDLE)),
	};

	return md_sigstore_legacy_parse(b, "layer 0", &in, err);
}

__attribute__((unused)) static json_t *legacy_annotations(const char *dir)
{
	char path[256];
	json_t *m, *ann;

	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	m = load_json(path);
	/* the generators write what cosign writes */
	assert_string_equal(json_string_value(jpath(m, "layers.0.mediaType")),
			    MD_SIGSTORE_SIMPLESIGNING_MEDIA_TYPE);
	ann = json_incref(jpath(m, "layers.0.annotations"));
	json_decref(m);
	return ann;
}

__attribute__((unused)) static struct md_sigstore_bundle *legacy_at(const char *dir)
{
	struct md_sigstore_bundle *b;
	struct md_err err;
	char path[256], *payload;
	json_t *ann = legacy_annotations(dir);
	size_t n;

	snprintf(path, sizeof(path), "%s/payload.json", dir);
	payload = slurp(path, &n);
	if (legacy_from(&b, payload, n, ann, &err) < 0)
		fail_msg("%s", err.msg);
	free(payload);
	json_decref(ann);
	return b;
}

/* Verify b for the fixtures' image digest (or another subject). */
__attribute__((unused)) static enum md_sigstore_outcome
verify_subject(const struct md_sigstore_root *r, const struct md_sigstore_req *q,
	       const struct md_sigstore_subject *s, const struct md_sigstore_bundle *b,
	       struct md_sigstore_result *res, struct md_err *err)
{
	memset(err, 0, sizeof(*err));
	return md_sigstore_verify(r, q, s, b, res, err);
}

__attribute__((unused)) static enum md_sigstore_outcome
verify_image(const struct md_sigstore_root *r, const struct md_sigstore_req *q,
	     const struct md_sigstore_bundle *b, struct md_sigstore_result *res, struct md_err *err)
{
	struct md_sigstore_subject s = { .kind = MD_SIGSTORE_IMAGE, .digest = DIGEST };

	return verify_subject(r, q, &s, b, res, err);
}

#define assert_verified(o, err)                                                             \
	do {                                                                                \
		if ((o) != MD_SIGSTORE_VERIFIED)                                            \
			fail_msg("expected verified, got %d: %s", (int)(o), (err).msg);    \
	} while (0)

/* Refused by check c with a reason holding frag. */
#define assert_refused(o, err, res, c, frag)                                                \
	do {                                                                                \
		if ((o) != MD_SIGSTORE_REFUSED)                                             \
			fail_msg("expected refused, got %d: %s", (int)(o), (err).msg);     \
		if ((res).failed != (c))                                                    \
			fail_msg("refused by check %d, not %d: %s", (int)(res).failed,      \
				 (int)(c), (err).msg);                                      \
		if (!strstr((err).msg, (frag)))                                             \
			fail_msg("reason '%s' lacks '%s'", (err).msg, (frag));              \
	} while (0)

#endif

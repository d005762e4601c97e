/* Fuzz the sigstore parsers: every input is tried as a trusted root, as a
 * bundle (then verified, keyless and with a key, for an image and for an
 * artifact), as a DER and a PEM certificate, as a legacy Rekor bundle
 * annotation, as a checkpoint and as an RFC 3161 response. Verification
 * uses the project's generated root and, when the shared fixtures are
 * there, the public-good root, so real bundles from the conformance suite
 * (replayed beside this corpus: FUZZ_SEEDS_sigstore in the Makefile) reach
 * the log, certificate and SCT checks. A refusal must say why in one line. */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magos/sigstore.h"

#include "../../internal/sigstore/sigstore_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DIGEST "sha256:cdb8ed95c33770329cd8d56d315174ead048b7c05ea1150c9e40e35a3c04a1d7"

static struct md_sigstore_root *roots[2];
static struct md_sigstore_req *reqs[3];

static void check_err(const struct md_err *err)
{
	if (err->msg[0] == '\0' || strchr(err->msg, '\n'))
		abort();
}

static void init(void)
{
	static const char *paths[] = {
		"tests/fixtures/sigstore/base/trusted_root.json",
		"../shared/fixtures/sigstore-conformance/public-good-trusted_root.json",
	};
	struct md_sigstore_req_spec id = {
		.identity_regexp = "https://github\\.com/.*",
		.issuer = "https://token.actions.githubusercontent.com",
	};
	struct md_sigstore_req_spec gh = { .github = "magos-test/app" };
	struct md_sigstore_req_spec key = {
		.key_path = "tests/fixtures/sigstore/base/keyed/cosign.pub", .tlog_optional = 1,
	};
	struct md_err err;

	for (int i = 0; i < 2; i++)
		if (md_sigstore_root_load(&roots[i], paths[i], &err) < 0)
			roots[i] = NULL; /* the parsers are still fuzzed */
	md_sigstore_req_new(&reqs[0], &id, &err);
	md_sigstore_req_new(&reqs[1], &gh, &err);
	md_sigstore_req_new(&reqs[2], &key, &err); /* NULL when run elsewhere */
}

static void verify_all(const struct md_sigstore_bundle *b)
{
	struct md_sigstore_subject img = { .kind = MD_SIGSTORE_IMAGE, .digest = DIGEST };
	struct md_sigstore_subject art = { .kind = MD_SIGSTORE_ARTIFACT, .data = "a", .len = 1 };

	for (int r = 0; r < 2; r++)
		for (int q = 0; q < 3; q++) {
			struct md_sigstore_result res;
			struct md_err err = { "" };
			enum md_sigstore_outcome o;

			if (!reqs[q])
				continue;
			o = md_sigstore_verify(roots[r], reqs[q], q == 1 ? &img : &art, b, &res, &err);
			if (o != MD_SIGSTORE_VERIFIED && o != MD_SIGSTORE_REFUSED &&
			    o != MD_SIGSTORE_UNDECIDED)
				abort();
			if (o != MD_SIGSTORE_VERIFIED)
				check_err(&err);
		}
}

static void as_bundle(const char *s, size_t n)
{
	struct md_sigstore_bundle *b = NULL;
	struct md_err err = { "" };

	if (md_sigstore_bundle_parse(&b, "fuzz", s, n, &err) < 0) {
		if (b)
			abort();
		check_err(&err);
		return;
	}
	verify_all(b);
	md_sigstore_bundle_free(b);
}

/* The input as the DER certificate of a bundle. */
static void as_der_cert(const uint8_t *data, size_t size)
{
	char *b64 = malloc(4 * ((size + 2) / 3) + 1), *json;

	if (!b64)
		return;
	EVP_EncodeBlock((unsigned char *)b64, data, (int)size);
	json = md_asprintf("{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\","
			   "\"verificationMaterial\":{\"certificate\":{\"rawBytes\":\"%s\"}},"
			   "\"messageSignature\":{\"signature\":\"MEUCIQ==\"}}", b64);
	if (json)
		as_bundle(json, strlen(json));
	free(json);
	free(b64);
}

/* The input as a legacy layer's certificate, then as its Rekor bundle. */
static void as_legacy(const char *s)
{
	struct md_sigstore_legacy in = { .payload = "{}", .payload_len = 2, .signature = "MEUCIQ==" };
	struct md_sigstore_bundle *b = NULL;
	struct md_err err = { "" };

	for (int i = 0; i < 2; i++) {
		in.certificate = i == 0 ? s : NULL;
		in.bundle = i == 1 ? s : NULL;
		if (md_sigstore_legacy_parse(&b, "fuzz", &in, &err) < 0) {
			check_err(&err);
			continue;
		}
		verify_all(b);
		md_sigstore_bundle_free(b);
	}
}

static void as_log_material(const char *s, const uint8_t *data, size_t size)
{
	unsigned char root[32] = { 0 };
	struct md_err err = { "" };
	int64_t t;

	for (int r = 0; r < 2; r++) {
		if (!roots[r])
			continue;
		for (size_t i = 0; i < roots[r]->n_tlogs; i++)
			if (md_sigstore__check_checkpoint(&roots[r]->tlogs[i], s, 1, root, &err) ==
			    SG_REFUSE)
				check_err(&err);
		if (md_sigstore__check_stamp(roots[r], data, size, data, size, &t, &err) == SG_REFUSE)
			check_err(&err);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct md_sigstore_root *r = NULL;
	struct md_err err = { "" };
	char *s;

	if (!ready) {
		init();
		ready = 1;
	}
	if (size > 256 * 1024)
		return 0;
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	if (md_sigstore_root_parse(&r, "fuzz", s, size, &err) == 0)
		md_sigstore_root_free(r);
	else
		check_err(&err);
	as_bundle(s, size);
	as_der_cert(data, size);
	as_legacy(s);
	as_log_material(s, data, size);
	free(s);
	return 0;
}

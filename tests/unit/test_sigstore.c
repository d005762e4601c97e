/* sigstore: trusted roots, requirements, and the bundle and legacy parsers
 * fed bad input (truncated, huge, invalid base64, shapes the spec forbids). */
#include "sigstore_fixture.h"

#include <openssl/pem.h>
#include <stdio.h>

#define SHARED "../shared/fixtures/sigstore-conformance/"
#define ENTRY_PATH "verificationMaterial.tlogEntries.0."

static void expect_root_error(const char *json, const char *frag)
{
	struct md_sigstore_root *r = (struct md_sigstore_root *)1;
	struct md_err err = { "" };

	assert_int_equal(md_sigstore_root_parse(&r, "root.json", json, strlen(json), &err), -1);
	assert_null(r);
	if (!strstr(err.msg, frag) || !strstr(err.msg, "root.json"))
		fail_msg("unexpected error: %s", err.msg);
}

/* The base root with one edit. */
static void expect_edited_root_error(const char *path, json_t *v, const char *frag)
{
	json_t *j = load_json(BASE "trusted_root.json");
	char *s;

	jset(j, path, v);
	s = json_dumps(j, JSON_COMPACT);
	expect_root_error(s, frag);
	free(s);
	json_decref(j);
}

static void test_roots_load(void **state)
{
	struct md_sigstore_root *r;
	struct md_err err;

	(void)state;
	r = root_at(BASE "trusted_root.json");
	md_sigstore_root_free(r);
	r = root_at(EXTRA "trusted_root.json");
	md_sigstore_root_free(r);
	/* the public-good root: Rekor v1 and v2, RSA and EC CT logs, a TSA */
	r = root_at(SHARED "public-good-trusted_root.json");
	md_sigstore_root_free(r);
	assert_int_equal(md_sigstore_root_load(&r, "tests/fixtures/sigstore/nope.json", &err), -1);
	assert_non_null(strstr(err.msg, "trusted root: cannot open tests/fixtures/sigstore/nope.json"));
}

static void test_bad_roots(void **state)
{
	(void)state;
	expect_root_error("{", "invalid JSON");
	expect_root_error("[]", "not a JSON object");
	expect_root_error("{\"mediaType\": \"application/json\"}", "not a Sigstore trusted root");
	expect_root_error("{\"tlogs\": []}", "mediaType is missing");
	expect_edited_root_error("tlogs.0.publicKey.validFor", json_object(), "validFor.start is missing");
	expect_edited_root_error("ctlogs.0.publicKey.validFor.start", json_string("yesterday"),
				 "is not an RFC 3339 time");
	expect_edited_root_error("tlogs.0.publicKey.rawBytes", json_string("AAAA"),
				 "tlogs[0]: publicKey.rawBytes is not a DER public key");
	expect_edited_root_error("tlogs.0.publicKey.rawBytes", json_string("not base64!"),
				 "publicKey.rawBytes is missing or not base64");
	expect_edited_root_error("tlogs.0.hashAlgorithm", json_string("SHA2_384"),
				 "hashAlgorithm SHA2_384 is not supported");
	expect_edited_root_error("tlogs.0.logId", json_object(), "logId.keyId is missing");
	expect_edited_root_error("certificateAuthorities.0.certChain.certificates", json_array(),
				 "certificateAuthorities[0]: certChain.certificates is missing or empty");
	expect_edited_root_error("certificateAuthorities.0.certChain.certificates.0.rawBytes",
				 json_string("MIIB"), "is not a DER certificate");
	expect_edited_root_error("tlogs", json_string("x"), "tlogs is not a list");
}

static void test_root_too_large(void **state)
{
	size_t n = 10u * 1024 * 1024;
	char *big = malloc(n + 1);
	struct md_sigstore_root *r;
	struct md_err err;

	(void)state;
	memset(big, ' ', n);
	big[n] = 0;
	assert_int_equal(md_sigstore_root_parse(&r, "huge.json", big, n, &err), -1);
	assert_non_null(strstr(err.msg, "huge.json: 10485760 bytes, more than the 1048576 allowed"));
	free(big);
}

/* ---- requirements ------------------------------------------------------------- */

static void expect_req_error(const struct md_sigstore_req_spec *sp, const char *frag)
{
	struct md_sigstore_req *q = (struct md_sigstore_req *)1;
	struct md_err err = { "" };

	assert_int_equal(md_sigstore_req_new(&q, sp, &err), -1);
	assert_null(q);
	if (!strstr(err.msg, frag))
		fail_msg("unexpected error: %s", err.msg);
}

static void test_invalid_requirements(void **state)
{
	const char *key = BASE "keyed/cosign.pub";

	(void)state;
	expect_req_error(&(struct md_sigstore_req_spec){ 0 }, "give a key, or an identity");
	expect_req_error(&(struct md_sigstore_req_spec){ .key_path = key, .identity = BASE_ID },
			 "a key and a keyless identity are exclusive");
	expect_req_error(&(struct md_sigstore_req_spec){ .key_path = key, .github = "a/b" },
			 "exclusive");
	expect_req_error(&(struct md_sigstore_req_spec){ .identity = BASE_ID },
			 "exactly one of issuer and issuerRegexp");
	expect_req_error(&(struct md_sigstore_req_spec){ .issuer = GH_ISSUER },
			 "exactly one of identity and identityRegexp");
	expect_req_error(&(struct md_sigstore_req_spec){ .identity = BASE_ID, .identity_regexp = ".*",
							 .issuer = GH_ISSUER },
			 "exactly one of identity and identityRegexp");
	expect_req_error(&(struct md_sigstore_req_spec){ .identity_regexp = "(unclosed",
							 .issuer = GH_ISSUER },
			 "identityRegexp '(unclosed' is not a valid regular expression");
	expect_req_error(&(struct md_sigstore_req_spec){ .identity = BASE_ID, .issuer_regexp = "[" },
			 "issuerRegexp '[' is not a valid regular expression");
	expect_req_error(&(struct md_sigstore_req_spec){ .github = "a/b", .issuer = GH_ISSUER },
			 "github replaces identity and issuer");
	expect_req_error(&(struct md_sigstore_req_spec){ .github = "owner" }, "is not owner/repo");
	expect_req_error(&(struct md_sigstore_req_spec){ .github = "a/b/c" }, "is not owner/repo");
	expect_req_error(&(struct md_sigstore_req_spec){ .github = "a/b c" }, "is not owner/repo");
	expect_req_error(&(struct md_sigstore_req_spec){ .github = "a/.." }, "is not owner/repo");
	expect_req_error(&(struct md_sigstore_req_spec){ .github = "a/b", .github_ref = "main" },
			 "ref 'main' is not a full Git ref");
	expect_req_error(&(struct md_sigstore_req_spec){ .github_ref = "refs/heads/main",
							 .identity = BASE_ID, .issuer = GH_ISSUER },
			 "ref needs github");
	expect_req_error(&(struct md_sigstore_req_spec){ .identity = BASE_ID, .issuer = GH_ISSUER,
							 .tlog_optional = 1 },
			 "tlog: false is only for key-based signatures");
	expect_req_error(&(struct md_sigstore_req_spec){ .key_path = "tests/fixtures/sigstore/none.pub" },
			 "key: cannot open tests/fixtures/sigstore/none.pub");
	expect_req_error(&(struct md_sigstore_req_spec){ .key_path = BASE "trusted_root.json" },
			 "trusted_root.json is not a PEM public key");
	expect_req_error(&(struct md_sigstore_req_spec){ .key_pem = "-----BEGIN PUBLIC KEY-----\nAA\n"
								   "-----END PUBLIC KEY-----\n",
							 .key_pem_len = 55 },
			 "key is not a PEM public key");
}

static void test_weak_rsa_key_refused(void **state)
{
	EVP_PKEY *k = EVP_RSA_gen(1024);
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem;
	long n;
	struct md_sigstore_req_spec sp = { 0 };

	(void)state;
	assert_non_null(k);
	assert_int_equal(PEM_write_bio_PUBKEY(bio, k), 1);
	n = BIO_get_mem_data(bio, &pem);
	sp.key_pem = pem;
	sp.key_pem_len = (size_t)n;
	expect_req_error(&sp, "an RSA key of 1024 bits (2048 or more expected)");
	BIO_free(bio);
	EVP_PKEY_free(k);
}

static void test_describe_is_canonical(void **state)
{
	struct md_sigstore_req *a = req_keyless(BASE_ID, GH_ISSUER);
	struct md_sigstore_req_spec re = { .identity_regexp = BASE_ID, .issuer = GH_ISSUER };
	struct md_sigstore_req *b = req_spec(&re);
	struct md_sigstore_req_spec gh = { .github = "magos-test/app", .github_ref = "refs/tags/v1" };
	struct md_sigstore_req *c = req_spec(&gh);
	struct md_sigstore_req *k = req_key(BASE "keyed/cosign.pub", 0);
	struct md_sigstore_req *kt = req_key(BASE "keyed/cosign.pub", 1);

	(void)state;
	assert_string_equal(md_sigstore_req_describe(a), "identity=" BASE_ID " issuer=" GH_ISSUER);
	/* the same text as a regexp is another requirement */
	assert_string_equal(md_sigstore_req_describe(b), "identityRegexp=" BASE_ID " issuer=" GH_ISSUER);
	assert_string_equal(md_sigstore_req_describe(c), "github=magos-test/app ref=refs/tags/v1");
	assert_true(md_str_has_prefix(md_sigstore_req_describe(k), "key=sha256:"));
	assert_int_equal(strlen(md_sigstore_req_describe(k)), strlen("key=sha256:") + 64);
	assert_string_equal(md_sigstore_req_describe(kt) + strlen(md_sigstore_req_describe(k)),
			    " tlog=false");
	assert_true(md_sigstore_req_is_keyless(a));
	assert_false(md_sigstore_req_is_keyless(k));
	md_sigstore_req_free(a);
	md_sigstore_req_free(b);
	md_sigstore_req_free(c);
	md_sigstore_req_free(k);
	md_sigstore_req_free(kt);
}

/* ---- bundles -------------------------------------------------------------------- */

static void expect_bundle_error(json_t *j, const char *frag)
{
	struct md_sigstore_bundle *b = (struct md_sigstore_bundle *)1;
	struct md_err err = { "" };

	assert_int_equal(bundle_from(&b, j, &err), -1);
	assert_null(b);
	if (!strstr(err.msg, frag) || !strstr(err.msg, "bundle.json"))
		fail_msg("unexpected error: %s", err.msg);
	json_decref(j);
}

static json_t *edited(const char *file, const char *path, json_t *v)
{
	json_t *j = load_json(file);

	if (v)
		jset(j, path, v);
	else
		jdel(j, path);
	return j;
}

#define DSSE BASE "bundle-dsse.sigstore.json"
#define MSG BASE "bundle-msgsig.sigstore.json"

static void test_bundle_shapes_refused(void **state)
{
	char longtype[300];
	json_t *j, *root;

	(void)state;
	expect_bundle_error(edited(DSSE, "mediaType", json_string("application/vnd.dev.sigstore.bundle.v0.4+json")),
			    "unsupported bundle media type 'application/vnd.dev.sigstore.bundle.v0.4+json'");
	expect_bundle_error(edited(DSSE, "mediaType", NULL), "unsupported bundle media type (none)");
	expect_bundle_error(edited(DSSE, "verificationMaterial", NULL), "verificationMaterial is missing");
	expect_bundle_error(edited(DSSE, "verificationMaterial.certificate", NULL),
			    "needs exactly one of publicKey, x509CertificateChain or certificate");
	expect_bundle_error(edited(DSSE, "verificationMaterial.certificate.rawBytes", json_string("MIIB")),
			    "certificate.rawBytes is not a DER certificate");
	/* v0.3 carries one certificate, never a chain */
	j = load_json(DSSE);
	jset(j, "verificationMaterial.x509CertificateChain",
	     json_pack("{s:[{s:O}]}", "certificates", "rawBytes",
		       jpath(j, "verificationMaterial.certificate.rawBytes")));
	jdel(j, "verificationMaterial.certificate");
	expect_bundle_error(j, "a v0.3 bundle must carry a single certificate");
	/* older versions may, but without a root certificate in it */
	j = load_json(DSSE);
	root = load_json(BASE "trusted_root.json");
	jset(j, "mediaType", json_string("application/vnd.dev.sigstore.bundle+json;version=0.2"));
	jset(j, "verificationMaterial.x509CertificateChain",
	     json_pack("{s:[{s:O}]}", "certificates", "rawBytes",
		       jpath(root, "certificateAuthorities.0.certChain.certificates.0.rawBytes")));
	jdel(j, "verificationMaterial.certificate");
	json_decref(root);
	expect_bundle_error(j, "the certificate chain holds a self-signed root certificate");
	j = edited(DSSE, "mediaType", json_string("application/vnd.dev.sigstore.bundle+json;version=0.2"));
	jset(j, "verificationMaterial.x509CertificateChain", json_pack("{s:[]}", "certificates"));
	jdel(j, "verificationMaterial.certificate");
	expect_bundle_error(j, "x509CertificateChain has no certificate");

	/* content */
	j = load_json(DSSE);
	root = load_json(MSG);
	jset(j, "messageSignature", json_incref(jpath(root, "messageSignature")));
	json_decref(root);
	expect_bundle_error(j, "exactly one of messageSignature and dsseEnvelope");
	expect_bundle_error(edited(DSSE, "dsseEnvelope", NULL), "exactly one of messageSignature");
	j = load_json(DSSE);
	json_array_append(jpath(j, "dsseEnvelope.signatures"), jpath(j, "dsseEnvelope.signatures.0"));
	expect_bundle_error(j, "dsseEnvelope must hold exactly one signature, not 2");
	expect_bundle_error(edited(DSSE, "dsseEnvelope.signatures", json_array()),
			    "exactly one signature, not 0");
	expect_bundle_error(edited(DSSE, "dsseEnvelope.payloadType", NULL),
			    "dsseEnvelope needs a base64 payload and a payloadType");
	expect_bundle_error(edited(MSG, "messageSignature.messageDigest.digest", json_string("AAAA")),
			    "messageDigest is not a SHA-256");
	memset(longtype, 'a', sizeof(longtype) - 1);
	longtype[sizeof(longtype) - 1] = 0;
	expect_bundle_error(edited(DSSE, "dsseEnvelope.payloadType", json_string(longtype)),
			    "the DSSE payload type is longer than 256 bytes");
}

static void test_bundle_entries_refused(void **state)
{
	json_t *j;

	(void)state;
	expect_bundle_error(edited(DSSE, ENTRY_PATH "logIndex", json_string("-1")),
			    "tlog entry 0: logIndex is missing or negative");
	expect_bundle_error(edited(DSSE, ENTRY_PATH "logIndex", json_string("12x")),
			    "logIndex is missing or negative");
	expect_bundle_error(edited(DSSE, ENTRY_PATH "kindVersion", NULL), "kindVersion is missing");
	expect_bundle_error(edited(DSSE, ENTRY_PATH "integratedTime", json_string("-5")),
			    "integratedTime is not a non-negative integer");
	expect_bundle_error(edited(DSSE, ENTRY_PATH "canonicalizedBody", json_string("")),
			    "canonicalizedBody is missing or not base64");
	expect_bundle_error(edited(DSSE, ENTRY_PATH "inclusionProof", NULL),
			    "a v0.3 bundle entry needs an inclusion proof");
	expect_bundle_error(edited(DSSE, ENTRY_PATH "inclusionProof.checkpoint", NULL),
			    "inclusionProof has no checkpoint");
	expect_bundle_error(edited(DSSE, ENTRY_PATH "inclusionProof.rootHash", json_string("AAAA")),
			    "inclusionProof.rootHash is not a base64 SHA-256");
	expect_bundle_error(edited(DSSE, ENTRY_PATH "inclusionProof.treeSize", json_string("0")),
			    "positive treeSize");
	expect_bundle_error(edited(DSSE, ENTRY_PATH "inclusionProof.hashes", json_pack("[s]", "AAAA")),
			    "inclusionProof hash 0 is not a base64 SHA-256");
	/* v0.1 needs the promise */
	j = edited(DSSE, "mediaType", json_string("application/vnd.dev.sigstore.bundle+json;version=0.1"));
	jdel(j, ENTRY_PATH "inclusionPromise");
	expect_bundle_error(j, "a v0.1 bundle entry needs an inclusion promise");
	/* 33 entries */
	j = load_json(DSSE);
	for (int i = 0; i < 32; i++)
		json_array_append(jpath(j, "verificationMaterial.tlogEntries"),
				  jpath(j, "verificationMaterial.tlogEntries.0"));
	expect_bundle_error(j, "more than 32 tlog entries");
}

static void test_invalid_base64_refused(void **state)
{
	static const char *bad[] = {
		"INVALID!!!BASE64!!!ENCODING====", /* the conformance suite's */
		"MEUCIQ==x",                       /* data after padding */
		"MEUCIQ=",                         /* partial padding */
		"MEUCI Q==",                       /* space */
		"M",                               /* a lone sextet */
		"MEV=",                            /* non-zero leftover bits */
		"",                                /* empty signature */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_bundle_error(edited(MSG, "messageSignature.signature", json_string(bad[i])),
				    "messageSignature.signature is missing or not base64");
	expect_bundle_error(edited(DSSE, "dsseEnvelope.payload", json_string("e30=!")),
			    "dsseEnvelope needs a base64 payload");
}

static void test_wrapped_base64_accepted(void **state)
{
	/* Go's decoder (so sigstore-go's) skips line breaks: `base64 file`
	 * output is valid there, and in real bundles. */
	json_t *j = load_json(DSSE);
	const char *sig = json_string_value(jpath(j, "dsseEnvelope.signatures.0.sig"));
	char wrapped[512];
	struct md_sigstore_bundle *b;
	struct md_sigstore_root *r = root_at(BASE "trusted_root.json");
	struct md_sigstore_req *q = req_keyless(BASE_ID, GH_ISSUER);
	struct md_sigstore_result res;
	struct md_err err;

	(void)state;
	snprintf(wrapped, sizeof(wrapped), "%.20s\n%.20s\r\n%s", sig, sig + 20, sig + 40);
	jset(j, "dsseEnvelope.signatures.0.sig", json_string(wrapped));
	b = bundle_json(j);
	assert_verified(verify_image(r, q, b, &res, &err), err);
	md_sigstore_bundle_free(b);
	md_sigstore_req_free(q);
	md_sigstore_root_free(r);
}

static void test_truncated_bundles_refused(void **state)
{
	size_t n;
	char *data = slurp(DSSE, &n);

	(void)state;
	/* every proper prefix is refused with a message, never a crash */
	for (size_t cut = 0; cut < n - 1; cut++) {
		struct md_sigstore_bundle *b = NULL;
		struct md_err err = { "" };
		char save = data[cut];

		data[cut] = 0;
		if (md_sigstore_bundle_parse(&b, "cut.json", data, cut, &err) == 0)
			fail_msg("prefix of %zu bytes parsed", cut);
		assert_null(b);
		assert_true(md_str_has_prefix(err.msg, "cut.json: "));
		data[cut] = save;
	}
	free(data);
}

static void test_huge_and_odd_json_refused(void **state)
{
	size_t n = 10u * 1024 * 1024, len;
	char *big = malloc(n + 1), *dup, *data;
	struct md_sigstore_bundle *b;
	struct md_err err;

	(void)state;
	memset(big, 'A', n);
	big[n] = 0;
	assert_int_equal(md_sigstore_bundle_parse(&b, "big.json", big, n, &err), -1);
	assert_non_null(strstr(err.msg, "big.json: 10485760 bytes, more than the 1048576 allowed"));
	free(big);
	/* a key given twice: two parsers could see two documents */
	data = slurp(DSSE, &len);
	dup = md_asprintf("{\"mediaType\":\"x\",%s", data + 1);
	assert_int_equal(md_sigstore_bundle_parse(&b, "dup.json", dup, strlen(dup), &err), -1);
	assert_non_null(strstr(err.msg, "duplicate object key"));
	free(dup);
	free(data);
	assert_int_equal(md_sigstore_bundle_parse(&b, "arr.json", "[1]", 3, &err), -1);
	assert_non_null(strstr(err.msg, "arr.json: not a JSON object"));
}

/* ---- legacy layers ---------------------------------------------------------------- */

static void expect_legacy_error(json_t *ann, const char *payload, size_t plen, const char *frag)
{
	struct md_sigstore_bundle *b = (struct md_sigstore_bundle *)1;
	struct md_err err = { "" };

	assert_int_equal(legacy_from(&b, payload, plen, ann, &err), -1);
	assert_null(b);
	if (!strstr(err.msg, frag) || !strstr(err.msg, "layer 0"))
		fail_msg("unexpected error: %s", err.msg);
	json_decref(ann);
}

static json_t *ann_edited(const char *key, const char *value)
{
	json_t *a = legacy_annotations(BASE "legacy");

	if (value)
		json_object_set_new(a, key, json_string(value));
	else
		json_object_del(a, key);
	return a;
}

static void test_legacy_bad_input(void **state)
{
	size_t n, huge = 10u * 1024 * 1024;
	char *p = slurp(BASE "legacy/payload.json", &n), *big = malloc(huge + 1);

	(void)state;
	memset(big, 'A', huge);
	big[huge] = 0;
	expect_legacy_error(ann_edited("dev.cosignproject.cosign/signature", NULL), p, n,
			    "dev.cosignproject.cosign/signature is missing or not base64");
	expect_legacy_error(ann_edited("dev.cosignproject.cosign/signature", "not base64"), p, n,
			    "signature is missing or not base64");
	expect_legacy_error(ann_edited("dev.cosignproject.cosign/signature", big), p, n,
			    "signature is missing or not base64");
	expect_legacy_error(ann_edited("dev.sigstore.cosign/certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n"
									 "-----END CERTIFICATE-----\n"),
			    p, n, "dev.sigstore.cosign/certificate is not a PEM certificate");
	expect_legacy_error(ann_edited("dev.sigstore.cosign/certificate", big), p, n,
			    "a certificate annotation is larger than 1048576 bytes");
	expect_legacy_error(ann_edited("dev.sigstore.cosign/chain", "garbage"), p, n,
			    "dev.sigstore.cosign/chain is not PEM certificates");
	expect_legacy_error(ann_edited("dev.sigstore.cosign/bundle", "{\"SignedEntryTimestamp\":"), p, n,
			    "dev.sigstore.cosign/bundle: invalid JSON");
	expect_legacy_error(ann_edited("dev.sigstore.cosign/bundle", big), p, n,
			    "dev.sigstore.cosign/bundle: 10485760 bytes, more than the 1048576 allowed");
	expect_legacy_error(ann_edited("dev.sigstore.cosign/bundle",
				       "{\"SignedEntryTimestamp\":\"AAAA\",\"Payload\":{\"body\":\"e30=\","
				       "\"integratedTime\":1,\"logIndex\":1,\"logID\":\"xyz\"}}"),
			    p, n, "the Rekor bundle's logID is not hex");
	expect_legacy_error(ann_edited("dev.sigstore.cosign/bundle",
				       "{\"SignedEntryTimestamp\":\"AAAA\",\"Payload\":{\"body\":\"e30=\","
				       "\"integratedTime\":-1,\"logIndex\":1,\"logID\":\"00\"}}"),
			    p, n, "needs a non-negative integratedTime and logIndex");
	expect_legacy_error(ann_edited("dev.sigstore.cosign/bundle", "{\"Payload\":{}}"), p, n,
			    "SignedEntryTimestamp is missing");
	expect_legacy_error(legacy_annotations(BASE "legacy"), big, huge,
			    "the signature payload is missing or larger than 1048576 bytes");
	free(big);
	free(p);
}

static void test_legacy_payload_claims(void **state)
{
	struct md_sigstore_root *r = root_at(BASE "trusted_root.json");
	struct md_sigstore_req *q = req_key(BASE "keyed/cosign.pub", 1);
	struct md_sigstore_bundle *b = legacy_at(BASE "keyed");
	struct md_sigstore_subject art = { .kind = MD_SIGSTORE_ARTIFACT, .digest = DIGEST };
	struct md_sigstore_result res;
	struct md_err err;

	(void)state;
	/* a legacy signature signs an image */
	assert_refused(verify_subject(r, q, &art, b, &res, &err), err, res, MD_SIGSTORE_CHECK_DIGEST,
		       "signs an image, not an artifact");
	md_sigstore_bundle_free(b);
	md_sigstore_req_free(q);
	md_sigstore_root_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roots_load),
		cmocka_unit_test(test_bad_roots),
		cmocka_unit_test(test_root_too_large),
		cmocka_unit_test(test_invalid_requirements),
		cmocka_unit_test(test_weak_rsa_key_refused),
		cmocka_unit_test(test_describe_is_canonical),
		cmocka_unit_test(test_bundle_shapes_refused),
		cmocka_unit_test(test_bundle_entries_refused),
		cmocka_unit_test(test_invalid_base64_refused),
		cmocka_unit_test(test_wrapped_base64_accepted),
		cmocka_unit_test(test_truncated_bundles_refused),
		cmocka_unit_test(test_huge_and_odd_json_refused),
		cmocka_unit_test(test_legacy_bad_input),
		cmocka_unit_test(test_legacy_payload_claims),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* sigstore: verification of generated signatures, good and altered one
 * field at a time, keyless and key-based, bundle and legacy. */
#include "sigstore_fixture.h"

#include <stdio.h>

struct env {
	struct md_sigstore_root *base, *extra;
	struct md_sigstore_req *base_id, *extra_id;
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	e->base = root_at(BASE "trusted_root.json");
	e->extra = root_at(EXTRA "trusted_root.json");
	e->base_id = req_keyless(BASE_ID, GH_ISSUER);
	e->extra_id = req_keyless(EXTRA_ID, GH_ISSUER);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	md_sigstore_root_free(e->base);
	md_sigstore_root_free(e->extra);
	md_sigstore_req_free(e->base_id);
	md_sigstore_req_free(e->extra_id);
	free(e);
	return 0;
}

/* Verify an edited copy of a bundle fixture for the image digest. */
static enum md_sigstore_outcome verify_edited(const struct md_sigstore_root *r,
					      const struct md_sigstore_req *q, json_t *j,
					      struct md_sigstore_result *res, struct md_err *err)
{
	struct md_sigstore_bundle *b = bundle_json(j);
	enum md_sigstore_outcome o = verify_image(r, q, b, res, err);

	md_sigstore_bundle_free(b);
	return o;
}

/* ---- keyless, the shared generator's shapes ------------------------------- */

static void test_keyless_dsse_bundle_verifies(void **state)
{
	struct env *e = *state;
	struct md_sigstore_bundle *b = bundle_at(BASE "bundle-dsse.sigstore.json");
	json_t *b_json = load_json(BASE "bundle-dsse.sigstore.json");
	json_t *meta = load_json(BASE "meta.json");
	struct md_sigstore_result res;
	struct md_err err;

	assert_string_equal(json_string_value(jpath(b_json, "mediaType")), MD_SIGSTORE_BUNDLE_MEDIA_TYPE);
	json_decref(b_json);
	assert_verified(verify_image(e->base, e->base_id, b, &res, &err), err);
	assert_int_equal(res.failed, MD_SIGSTORE_CHECK_NONE);
	assert_true(res.keyless);
	assert_string_equal(res.identity, BASE_ID);
	assert_string_equal(res.issuer, GH_ISSUER);
	assert_int_equal(res.tlog_verified, 1);
	assert_int_equal(res.signed_at, json_integer_value(jpath(meta, "dsseIntegratedTime")));
	json_decref(meta);
	md_sigstore_bundle_free(b);
}

static void test_message_bundle_is_for_artifacts(void **state)
{
	struct env *e = *state;
	struct md_sigstore_bundle *b = bundle_at(BASE "bundle-msgsig.sigstore.json");
	struct md_sigstore_result res;
	struct md_err err;
	size_t n;
	char *payload = slurp(BASE "legacy/payload.json", &n), digest[MD_DIGEST_STR_LEN + 1];
	struct md_sigstore_subject bytes = { .kind = MD_SIGSTORE_ARTIFACT, .data = payload, .len = n };
	struct md_sigstore_subject dg = { .kind = MD_SIGSTORE_ARTIFACT, .digest = digest };

	assert_verified(verify_subject(e->base, e->base_id, &bytes, b, &res, &err), err);
	md_sha256_digest(payload, n, digest);
	assert_verified(verify_subject(e->base, e->base_id, &dg, b, &res, &err), err);
	/* an image signature must carry what it signs */
	assert_refused(verify_image(e->base, e->base_id, b, &res, &err), err, res,
		       MD_SIGSTORE_CHECK_SHAPE, "does not carry what it signs");
	/* another artifact */
	payload[0] ^= 1;
	assert_refused(verify_subject(e->base, e->base_id, &bytes, b, &res, &err), err, res,
		       MD_SIGSTORE_CHECK_SIGNATURE, "does not verify");
	free(payload);
	md_sigstore_bundle_free(b);
}

static void test_legacy_keyless_verifies(void **state)
{
	struct env *e = *state;
	struct md_sigstore_bundle *b = legacy_at(BASE "legacy");
	struct md_sigstore_result res;
	struct md_err err;

	assert_verified(verify_image(e->base, e->base_id, b, &res, &err), err);
	assert_string_equal(res.identity, BASE_ID);
	assert_int_equal(res.tlog_verified, 1);
	md_sigstore_bundle_free(b);

	b = legacy_at(EXTRA "legacy-keyless");
	assert_verified(verify_image(e->extra, e->extra_id, b, &res, &err), err);
	md_sigstore_bundle_free(b);
}

/* ---- identity and issuer -------------------------------------------------- */

static void test_wrong_identity_and_issuer(void **state)
{
	struct env *e = *state;
	struct md_sigstore_bundle *b = bundle_at(BASE "bundle-dsse.sigstore.json");
	struct md_sigstore_req *q =
		req_keyless("https://github.com/magos-test/app/.github/workflows/other.yml@refs/heads/main",
			    GH_ISSUER);
	struct md_sigstore_result res;
	struct md_err err;

	assert_refused(verify_image(e->base, q, b, &res, &err), err, res,
		       MD_SIGSTORE_CHECK_IDENTITY, "is signed by '" BASE_ID "'");
	assert_non_null(strstr(err.msg, "other.yml"));
	/* who signed is reported even when refused */
	assert_string_equal(res.identity, BASE_ID);
	md_sigstore_req_free(q);

	q = req_keyless(BASE_ID, "https://accounts.google.com");
	assert_refused(verify_image(e->base, q, b, &res, &err), err, res, MD_SIGSTORE_CHECK_ISSUER,
		       "issuer is '" GH_ISSUER "', not https://accounts.google.com");
	md_sigstore_req_free(q);
	md_sigstore_bundle_free(b);
}

static void test_regexps_are_anchored(void **state)
{
	struct env *e = *state;
	struct md_sigstore_bundle *b = bundle_at(BASE "bundle-dsse.sigstore.json");
	struct md_sigstore_req_spec unanchored = { .identity_regexp = "https://github\\.com/magos-test/",
						   .issuer = GH_ISSUER };
	struct md_sigstore_req_spec good = { .identity_regexp = "https://github\\.com/magos-test/app/.*@refs/heads/main",
					     .issuer_regexp = "https://token\\.actions\\.githubusercontent\\.com" };
	struct md_sigstore_req_spec iss_prefix = { .identity = BASE_ID, .issuer_regexp = "https://token" };
	struct md_sigstore_req *q = req_spec(&unanchored);
	struct md_sigstore_result res;
	struct md_err err;

	assert_refused(verify_image(e->base, q, b, &res, &err), err, res,
		       MD_SIGSTORE_CHECK_IDENTITY, "not by matching https://github");
	md_sigstore_req_free(q);
	q = req_spec(&good);
	assert_verified(verify_image(e->base, q, b, &res, &err), err);
	md_sigstore_req_free(q);
	q = req_spec(&iss_prefix);
	assert_refused(verify_image(e->base, q, b, &res, &err), err, res, MD_SIGSTORE_CHECK_ISSUER,
		       "matching https://token");
	md_sigstore_req_free(q);
	md_sigstore_bundle_free(b);
}

static void test_github_shorthand(void **state)
{
	static const struct {
		const char *repo, *ref;
		int ok;
	} cases[] = {
		{ "magos-test/app", NULL, 1 },
		{ "magos-test/app", "refs/heads/main", 1 },
		{ "magos-test/app", "refs/tags/v1.2.3", 0 },
		{ "magos-test/ap", NULL, 0 },   /* a prefix of the repository name */
		{ "magos-test/other", NULL, 0 },
		{ "magos/app", NULL, 0 },
	};
	struct env *e = *state;
	struct md_sigstore_bundle *b = bundle_at(BASE "bundle-dsse.sigstore.json");
	struct md_sigstore_result res;
	struct md_err err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct md_sigstore_req_spec sp = { .github = cases[i].repo, .github_ref = cases[i].ref };
		struct md_sigstore_req *q = req_spec(&sp);
		enum md_sigstore_outcome o = verify_image(e->base, q, b, &res, &err);

		if (cases[i].ok)
			assert_verified(o, err);
		else
			assert_refused(o, err, res, MD_SIGSTORE_CHECK_IDENTITY, "https://github.com/");
		md_sigstore_req_free(q);
	}
	md_sigstore_bundle_free(b);
}

/* ---- the signature and what it is about ---------------------------------- */

static void test_tampered_payload(void **state)
{
	struct env *e = *state;
	struct md_sigstore_bundle *b;
	struct md_sigstore_result res;
	struct md_err err;
	json_t *ann = legacy_annotations(BASE "legacy");
	size_t n;
	char *payload = slurp(BASE "legacy/payload.json", &n);
	json_t *j = load_json(BASE "bundle-dsse.sigstore.json");

	jflip_b64(j, "dsseEnvelope.payload", 40);
	assert_refused(verify_edited(e->base, e->base_id, j, &res, &err), err, res,
		       MD_SIGSTORE_CHECK_SIGNATURE, "the signature does not verify");

	/* legacy: one byte of the layer */
	payload[n / 2] ^= 0x20;
	assert_int_equal(legacy_from(&b, payload, n, ann, &err), 0);
	assert_refused(verify_image(e->base, e->base_id, b, &res, &err), err, res,
		       MD_SIGSTORE_CHECK_SIGNATURE, "layer 0: the signature does not verify");
	md_sigstore_bundle_free(b);
	free(payload);
	json_decref(ann);
}

static void test_signature_for_another_digest(void **state)
{
	struct env *e = *state;
	struct md_sigstore_subject other = { .kind = MD_SIGSTORE_IMAGE, .digest = OTHER_DIGEST };
	struct md_sigstore_bundle *b = bundle_at(BASE "bundle-dsse.sigstore.json");
	struct md_sigstore_bundle *l = legacy_at(BASE "legacy");
	struct md_sigstore_result res;
	struct md_err err;

	assert_refused(verify_subject(e->base, e->base_id, &other, b, &res, &err), err, res,
		       MD_SIGSTORE_CHECK_DIGEST, "is not about " OTHER_DIGEST);
	assert_refused(verify_subject(e->base, e->base_id, &other, l, &res, &err), err, res,
		       MD_SIGSTORE_CHECK_DIGEST, "the signature is for " DIGEST ", not " OTHER_DIGEST);
	md_sigstore_bundle_free(b);
	md_sigstore_bundle_free(l);
}

static void test_attestation_is_not_an_image_signature(void **state)
{
	struct env *e = *state;
	struct md_sigstore_bundle *b = bundle_at(EXTRA "attestation.sigstore.json");
	struct md_sigstore_subject art = { .kind = MD_SIGSTORE_ARTIFACT, .digest = DIGEST };
	struct md_sigstore_result res;
	struct md_err err;

	assert_refused(verify_image(e->extra, e->extra_id, b, &res, &err), err, res,
		       MD_SIGSTORE_CHECK_DIGEST, "predicate type is 'https://slsa.dev/provenance/v1'");
	/* the same statement is a valid attestation about the artifact */
	assert_verified(verify_subject(e->extra, e->extra_id, &art, b, &res, &err), err);
	md_sigstore_bundle_free(b);
}

/* ---- the transparency log ------------------------------------------------- */

#define ENTRY "verificationMaterial.tlogEntries.0."

static void test_bad_set(void **state)
{
	struct env *e = *state;
	struct md_sigstore_result res;
	struct md_err err;
	json_t *j = load_json(BASE "bundle-dsse.sigstore.json");

	jflip_b64(j, ENTRY "inclusionPromise.signedEntryTimestamp", 20);
	assert_refused(verify_edited(e->base, e->base_id, j, &res, &err), err, res,
		       MD_SIGSTORE_CHECK_TLOG, "the signed entry timestamp does not verify");

	/* the SET covers the index and the time */
	j = load_json(BASE "bundle-dsse.sigstore.json");
	jset(j, ENTRY "logIndex", json_string("1"));
	assert_refused(verify_edited(e->base, e->base_id, j, &res, &err), err, res,
		       MD_SIGSTORE_CHECK_TLOG, "signed entry timestamp");
	j = load_json(BASE "bundle-dsse.sigstore.json");
	jset(j, ENTRY "integratedTime", json_string("1700000000"));
	assert_refused(verify_edited(e->base, e->base_id, j, &res, &err), err, res,
		       MD_SIGSTORE_CHECK_TLOG, "signed entry timestamp");
}

static void test_legacy_bad_set(void **state)
{
	struct env *e = *state;
	struct md_sigstore_bundle *b;
	struct md_sigstore_result res;
	struct md_err err;
	json_t *ann = legacy_annotations(BASE "legacy"), *rb;
	size_t n;
	char *payload = slurp(BASE "legacy/payload.json", &n), *s;

	rb = json_loads(json_string_value(json_object_get(ann, "dev.sigstore.cosign/bundle")), 0, NULL);
	jflip_b64(rb, "SignedEntryTimestamp", 10);
	s = json_dumps(rb, JSON_COMPACT);
	json_object_set_new(ann, "dev.sigstore.cosign/bundle", json_string(s));
	assert_int_equal(legacy_from(&b, payload, n, ann, &err), 0);
	assert_refused(verify_image(e->base, e->base_id, b, &res, &err), err, res,
		       MD_SIGSTORE_CHECK_TLOG, "the signed entry timestamp does not verify");
	md_sigstore_bundle_free(b);
	free(s);
	json_decref(rb);
	json_decref(ann);
	free(payload);
}

static void test_bad_inclusion_proof_and_checkpoint(void **state)
{
	struct env *e = *state;
	struct md_sigstore_result res;
	struct md_err err;
	const char *cp;
	char *edited;
	json_t *j = load_json(BASE "bundle-dsse.sigstore.json");

	jflip_b64(j, ENTRY "inclusionProof.rootHash", 3);
	assert_refused(verify_edited(e->base, e->base_id, j, &res, &err), err, res,
		       MD_SIGSTORE_CHECK_TLOG, "the inclusion proof does not lead to its root hash");

	/* a checkpoint whose signed text changed */
	j = load_json(BASE "bundle-dsse.sigstore.json");
	cp = json_string_value(jpath(j, ENTRY "inclusionProof.checkpoint.envelope"));
	edited = strdup(cp);
	edited[strcspn(edited, "\n") + 1] = '2'; /* the tree size line */
	jset(j, ENTRY "inclusionProof.checkpoint.envelope", json_string(edited));
	assert_refused(verify_edited(e->base, e->base_id, j, &res, &err), err, res,
		       MD_SIGSTORE_CHECK_TLOG, "checkpoint");
	free(edited);

	/* a checkpoint without its signature */
	j = load_json(BASE "bundle-dsse.sigstore.json");
	cp = json_string_value(jpath(j, ENTRY "inclusionProof.checkpoint.envelope"));
	edited = strdup(cp);
	strstr(edited, "\n\n")[2] = 0;
	jset(j, ENTRY "inclusionProof.checkpoint.envelope", json_string(edited));
	assert_refused(verify_edited(e->base, e->base_id, j, &res, &err), err, res,
		       MD_SIGSTORE_CHECK_TLOG, "the checkpoint carries no valid signature");
	free(edited);
}

static void test_body_must_match(void **state)
{
	struct env *e = *state;
	struct md_sigstore_result res;
	struct md_err err;
	json_t *j = load_json(BASE "bundle-dsse.sigstore.json");

	/* the body is under the SET: any change breaks it */
	jflip_b64(j, ENTRY "canonicalizedBody", 30);
	assert_refused(verify_edited(e->base, e->base_id, j, &res, &err), err, res,
		       MD_SIGSTORE_CHECK_TLOG, "log entry");

	/* a valid entry of the same log, about another signature */
	j = load_json(BASE "bundle-dsse.sigstore.json");
	{
		json_t *other = load_json(BASE "bundle-msgsig.sigstore.json");

		jset(j, "verificationMaterial.tlogEntries",
		     json_incref(jpath(other, "verificationMaterial.tlogEntries")));
		json_decref(other);
	}
	assert_refused(verify_edited(e->base, e->base_id, j, &res, &err), err, res,
		       MD_SIGSTORE_CHECK_TLOG, "a hashedrekord entry cannot record a DSSE envelope");
	/* kindVersion is not under the SET but must name the body's kind */
	j = load_json(BASE "bundle-dsse.sigstore.json");
	jset(j, ENTRY "kindVersion.kind", json_string("hashedrekord"));
	assert_refused(verify_edited(e->base, e->base_id, j, &res, &err), err, res,
		       MD_SIGSTORE_CHECK_TLOG,
		       "kindVersion hashedrekord/0.0.1 does not match the body's dsse/0.0.1");
}

static void test_log_entry_required(void **state)
{
	struct env *e = *state;
	struct md_sigstore_result res;
	struct md_err err;
	json_t *j = load_json(BASE "bundle-dsse.sigstore.json");

	jset(j, "verificationMaterial.tlogEntries", json_array());
	assert_refused(verify_edited(e->base, e->base_id, j, &res, &err), err, res,
		       MD_SIGSTORE_CHECK_TLOG, "has no transparency log entry");
}

static void test_unknown_log_and_log_validity(void **state)
{
	struct env *e = *state;
	struct md_sigstore_bundle *b = bundle_at(BASE "bundle-dsse.sigstore.json");
	struct md_sigstore_root *r;
	struct md_sigstore_result res;
	struct md_err err;
	json_t *root;

	/* another instance's root */
	assert_refused(verify_image(e->extra, e->base_id, b, &res, &err), err, res,
		       MD_SIGSTORE_CHECK_TLOG, "none of its 1 log entries is from a log in the trusted root");

	/* the log's key became valid after the entry was logged */
	root = load_json(BASE "trusted_root.json");
	jset(root, "tlogs.0.publicKey.validFor.start", json_string("2099-01-01T00:00:00Z"));
	r = root_json(root);
	assert_refused(verify_image(r, e->base_id, b, &res, &err), err, res, MD_SIGSTORE_CHECK_TLOG,
		       "key was not valid at the integrated time");
	md_sigstore_root_free(r);
	md_sigstore_bundle_free(b);
}

/* ---- the certificate ------------------------------------------------------ */

static void test_expired_leaf_and_chain(void **state)
{
	struct env *e = *state;
	struct md_sigstore_bundle *b = bundle_at(EXTRA "expired-leaf.sigstore.json");
	struct md_sigstore_result res;
	struct md_err err;

	assert_refused(verify_image(e->extra, e->extra_id, b, &res, &err), err, res,
		       MD_SIGSTORE_CHECK_CERTIFICATE, "the signing certificate was not valid at");
	md_sigstore_bundle_free(b);
	b = bundle_at(EXTRA "expired-chain.sigstore.json");
	assert_refused(verify_image(e->extra, e->extra_id, b, &res, &err), err, res,
		       MD_SIGSTORE_CHECK_CERTIFICATE, "certificate has expired");
	md_sigstore_bundle_free(b);
}

static void test_ca_validity_window(void **state)
{
	struct env *e = *state;
	struct md_sigstore_bundle *b = bundle_at(BASE "bundle-dsse.sigstore.json");
	json_t *root = load_json(BASE "trusted_root.json");
	struct md_sigstore_root *r;
	struct md_sigstore_result res;
	struct md_err err;

	jset(root, "certificateAuthorities.0.validFor.end", json_string("2001-01-01T00:00:00Z"));
	jset(root, "certificateAuthorities.0.validFor.start", json_string("2000-01-01T00:00:00Z"));
	r = root_json(root);
	assert_refused(verify_image(r, e->base_id, b, &res, &err), err, res,
		       MD_SIGSTORE_CHECK_CERTIFICATE, "no trusted Fulcio CA was valid at");
	md_sigstore_root_free(r);
	md_sigstore_bundle_free(b);
}

static void test_sct_needs_a_trusted_ct_log(void **state)
{
	struct env *e = *state;
	struct md_sigstore_bundle *b = bundle_at(BASE "bundle-dsse.sigstore.json");
	json_t *root = load_json(BASE "trusted_root.json");
	struct md_sigstore_root *r;
	struct md_sigstore_result res;
	struct md_err err;

	jset(root, "ctlogs", json_array());
	r = root_json(root);
	assert_refused(verify_image(r, e->base_id, b, &res, &err), err, res, MD_SIGSTORE_CHECK_SCT,
		       "none of the certificate's 1 embedded SCTs verifies");
	md_sigstore_root_free(r);
	md_sigstore_bundle_free(b);
}

static void test_odd_certificates(void **state)
{
	static const struct {
		const char *file;
		enum md_sigstore_check check; /* NONE: verifies */
		const char *reason;
	} cases[] = {
		{ "cert-no-sct", MD_SIGSTORE_CHECK_SCT, "has no embedded SCT" },
		{ "cert-issuer-mismatch", MD_SIGSTORE_CHECK_IDENTITY, "names two different OIDC issuers" },
		{ "cert-issuer-duplicated", MD_SIGSTORE_CHECK_IDENTITY, "repeats the OIDC issuer extension" },
		{ "cert-issuer-missing", MD_SIGSTORE_CHECK_IDENTITY, "names no OIDC issuer" },
		{ "cert-issuer-not-utf8string", MD_SIGSTORE_CHECK_IDENTITY, "(1.3.6.1.4.1.57264.1.8) is malformed" },
		{ "cert-two-sans", MD_SIGSTORE_CHECK_IDENTITY, "has 2 subject alternative names" },
		{ "cert-critical-unknown-extension", MD_SIGSTORE_CHECK_CERTIFICATE, "critical extension" },
		{ "cert-no-codesigning", MD_SIGSTORE_CHECK_CERTIFICATE, "not for code signing" },
		{ "cert-issuer-v1-only", MD_SIGSTORE_CHECK_NONE, NULL },
		{ "cert-leaf-p384", MD_SIGSTORE_CHECK_NONE, NULL },
	};
	struct env *e = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[256];
		struct md_sigstore_bundle *b;
		struct md_sigstore_result res;
		struct md_err err;
		enum md_sigstore_outcome o;

		snprintf(path, sizeof(path), EXTRA "%s.sigstore.json", cases[i].file);
		b = bundle_at(path);
		o = verify_image(e->extra, e->extra_id, b, &res, &err);
		print_message("%s: %s\n", cases[i].file, o ? err.msg : "verified");
		if (cases[i].check == MD_SIGSTORE_CHECK_NONE)
			assert_verified(o, err);
		else
			assert_refused(o, err, res, cases[i].check, cases[i].reason);
		md_sigstore_bundle_free(b);
	}
}

static void test_email_identity(void **state)
{
	struct env *e = *state;
	struct md_sigstore_bundle *b = bundle_at(EXTRA "cert-email-san.sigstore.json");
	struct md_sigstore_req *q = req_keyless("dev@magos.test", "https://github.com/login/oauth");
	struct md_sigstore_result res;
	struct md_err err;

	assert_verified(verify_image(e->extra, q, b, &res, &err), err);
	assert_string_equal(res.identity, "dev@magos.test");
	md_sigstore_req_free(q);
	md_sigstore_bundle_free(b);
}

/* ---- RFC 3161 timestamps ---------------------------------------------------- */

static void test_timestamp(void **state)
{
	struct env *e = *state;
	struct md_sigstore_bundle *b = bundle_at(EXTRA "keyless-intermediate.sigstore.json");
	struct md_sigstore_result res;
	struct md_err err;
	json_t *root, *j;
	struct md_sigstore_root *r;

	assert_verified(verify_image(e->extra, e->extra_id, b, &res, &err), err);
	assert_int_equal(res.stamps_verified, 1);
	assert_int_equal(res.tlog_verified, 1);
	md_sigstore_bundle_free(b);

	/* a TSA the root does not list: the stamp is no time, the SET still is */
	root = load_json(EXTRA "trusted_root.json");
	jset(root, "timestampAuthorities", json_array());
	r = root_json(root);
	b = bundle_at(EXTRA "keyless-intermediate.sigstore.json");
	assert_verified(verify_image(r, e->extra_id, b, &res, &err), err);
	assert_int_equal(res.stamps_verified, 0);
	md_sigstore_bundle_free(b);
	md_sigstore_root_free(r);

	/* a stamp over another signature is skipped, not a time */
	j = load_json(EXTRA "keyless-intermediate.sigstore.json");
	jflip_b64(j, "verificationMaterial.timestampVerificationData.rfc3161Timestamps.0.signedTimestamp",
		  70);
	assert_verified(verify_edited(e->extra, e->extra_id, j, &res, &err), err);
	assert_int_equal(res.stamps_verified, 0);

	/* without the log entry a keyless signature is refused even with a stamp */
	j = load_json(EXTRA "keyless-intermediate.sigstore.json");
	jset(j, "verificationMaterial.tlogEntries", json_array());
	assert_refused(verify_edited(e->extra, e->extra_id, j, &res, &err), err, res,
		       MD_SIGSTORE_CHECK_TLOG, "no transparency log entry");
}

/* ---- key-based ---------------------------------------------------------------- */

static void test_key_bundles(void **state)
{
	static const char *keys[] = { "p256", "p384", "rsa", "ed25519" };
	struct env *e = *state;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char bpath[256], kpath[256], other[256];
		struct md_sigstore_bundle *b;
		struct md_sigstore_req *q, *wrong;
		struct md_sigstore_result res;
		struct md_err err;

		snprintf(bpath, sizeof(bpath), EXTRA "key-%s.sigstore.json", keys[i]);
		snprintf(kpath, sizeof(kpath), EXTRA "key-%s.pub", keys[i]);
		snprintf(other, sizeof(other), EXTRA "key-%s.pub", keys[(i + 1) % 4]);
		b = bundle_at(bpath);
		q = req_key(kpath, 0);
		wrong = req_key(other, 0);
		assert_verified(verify_image(e->extra, q, b, &res, &err), err);
		assert_false(res.keyless);
		assert_int_equal(res.tlog_verified, 1);
		assert_refused(verify_image(e->extra, wrong, b, &res, &err), err, res,
			       MD_SIGSTORE_CHECK_SIGNATURE, "does not verify with the required key");
		/* no identity policy accepts a key signature */
		assert_refused(verify_image(e->extra, e->extra_id, b, &res, &err), err, res,
			       MD_SIGSTORE_CHECK_MATERIAL, "signed with a key");
		md_sigstore_req_free(q);
		md_sigstore_req_free(wrong);
		md_sigstore_bundle_free(b);
	}
}

static void test_key_against_certificate(void **state)
{
	struct env *e = *state;
	struct md_sigstore_bundle *b = bundle_at(BASE "bundle-dsse.sigstore.json");
	struct md_sigstore_req *q = req_key(BASE "keyed/cosign.pub", 0);
	struct md_sigstore_result res;
	struct md_err err;

	assert_refused(verify_image(e->base, q, b, &res, &err), err, res, MD_SIGSTORE_CHECK_MATERIAL,
		       "signed with a certificate, but a key is required");
	md_sigstore_bundle_free(b);
	b = bundle_at(BASE "keyed/bundle-dsse-key.sigstore.json");
	assert_verified(verify_image(e->base, q, b, &res, &err), err);
	md_sigstore_bundle_free(b);
	b = legacy_at(BASE "keyed");
	assert_verified(verify_image(e->base, q, b, &res, &err), err);
	md_sigstore_bundle_free(b);
	md_sigstore_req_free(q);
}

static void test_tlog_optional_for_keys(void **state)
{
	struct env *e = *state;
	struct md_sigstore_bundle *b = bundle_at(EXTRA "key-p256-notlog.sigstore.json");
	struct md_sigstore_bundle *l = legacy_at(EXTRA "legacy-key-notlog");
	struct md_sigstore_req *strict = req_key(EXTRA "key-p256.pub", 0);
	struct md_sigstore_req *lax = req_key(EXTRA "key-p256.pub", 1);
	struct md_sigstore_result res;
	struct md_err err;
	json_t *j;

	assert_refused(verify_image(e->extra, strict, b, &res, &err), err, res,
		       MD_SIGSTORE_CHECK_TLOG, "tlog: false");
	assert_refused(verify_image(e->extra, strict, l, &res, &err), err, res,
		       MD_SIGSTORE_CHECK_TLOG, "has no transparency log entry");
	assert_verified(verify_image(e->extra, lax, b, &res, &err), err);
	assert_verified(verify_image(e->extra, lax, l, &res, &err), err);
	/* no trusted root needed then */
	assert_verified(verify_image(NULL, lax, l, &res, &err), err);
	assert_int_equal(verify_image(NULL, strict, l, &res, &err), MD_SIGSTORE_UNDECIDED);
	assert_non_null(strstr(err.msg, "trusted root"));
	md_sigstore_bundle_free(b);
	md_sigstore_bundle_free(l);

	/* an entry that is there is still checked */
	b = bundle_at(EXTRA "key-p256.sigstore.json");
	assert_verified(verify_image(e->extra, lax, b, &res, &err), err);
	assert_int_equal(res.tlog_verified, 1);
	md_sigstore_bundle_free(b);
	j = load_json(EXTRA "key-p256.sigstore.json");
	jflip_b64(j, "verificationMaterial.tlogEntries.0.inclusionPromise.signedEntryTimestamp", 9);
	b = bundle_json(j);
	assert_refused(verify_image(e->extra, lax, b, &res, &err), err, res, MD_SIGSTORE_CHECK_TLOG,
		       "the signed entry timestamp does not verify");
	/* unless no root lists its log */
	assert_verified(verify_image(e->base, lax, b, &res, &err), err);
	assert_int_equal(res.tlog_verified, 0);
	md_sigstore_bundle_free(b);
	md_sigstore_req_free(strict);
	md_sigstore_req_free(lax);
}

static void test_legacy_p384_sha256(void **state)
{
	struct env *e = *state;
	struct md_sigstore_bundle *l = legacy_at(EXTRA "legacy-key-p384");
	struct md_sigstore_req *q = req_key(EXTRA "key-p384.pub", 0);
	struct md_sigstore_result res;
	struct md_err err;

	assert_verified(verify_image(e->extra, q, l, &res, &err), err);
	md_sigstore_req_free(q);
	md_sigstore_bundle_free(l);
}

static void test_keyless_without_root_is_undecided(void **state)
{
	struct env *e = *state;
	struct md_sigstore_bundle *b = bundle_at(BASE "bundle-dsse.sigstore.json");
	struct md_sigstore_result res;
	struct md_err err;

	assert_int_equal(verify_image(NULL, e->base_id, b, &res, &err), MD_SIGSTORE_UNDECIDED);
	assert_non_null(strstr(err.msg, "cannot decide: keyless verification needs a Sigstore "
					"trusted root"));
	md_sigstore_bundle_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyless_dsse_bundle_verifies),
		cmocka_unit_test(test_message_bundle_is_for_artifacts),
		cmocka_unit_test(test_legacy_keyless_verifies),
		cmocka_unit_test(test_wrong_identity_and_issuer),
		cmocka_unit_test(test_regexps_are_anchored),
		cmocka_unit_test(test_github_shorthand),
		cmocka_unit_test(test_tampered_payload),
		cmocka_unit_test(test_signature_for_another_digest),
		cmocka_unit_test(test_attestation_is_not_an_image_signature),
		cmocka_unit_test(test_bad_set),
		cmocka_unit_test(test_legacy_bad_set),
		cmocka_unit_test(test_bad_inclusion_proof_and_checkpoint),
		cmocka_unit_test(test_body_must_match),
		cmocka_unit_test(test_log_entry_required),
		cmocka_unit_test(test_unknown_log_and_log_validity),
		cmocka_unit_test(test_expired_leaf_and_chain),
		cmocka_unit_test(test_ca_validity_window),
		cmocka_unit_test(test_sct_needs_a_trusted_ct_log),
		cmocka_unit_test(test_odd_certificates),
		cmocka_unit_test(test_email_identity),
		cmocka_unit_test(test_timestamp),
		cmocka_unit_test(test_key_bundles),
		cmocka_unit_test(test_key_against_certificate),
		cmocka_unit_test(test_tlog_optional_for_keys),
		cmocka_unit_test(test_legacy_p384_sha256),
		cmocka_unit_test(test_keyless_without_root_is_undecided),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

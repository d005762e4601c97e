/* The Fulcio signing certificate: its chain to a trusted CA at the signing
 * time, code-signing usage, the embedded SCTs (RFC 6962 precertificate
 * timestamps, rebuilt by hand because OpenSSL's CT log store can only be
 * loaded from a file), and the identity it certifies. */
#include "sigstore_int.h"

#include <openssl/ct.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- chain ---------------------------------------------------------------- */

/* Verify leaf against one CA's chain at time t; the verified chain (leaf
 * first) in *out. Returns the X509_V_ERR code (X509_V_OK on success). */
static int verify_with_ca(const struct sg_ca *ca, X509 *leaf, int64_t t, STACK_OF(X509) **out)
{
	int n = sk_X509_num(ca->chain), code = X509_V_ERR_UNSPECIFIED;
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();

	if (!store || !ctx || !untrusted || n < 1)
		goto out;
	/* Only the trusted root's own intermediates: a bundle's chain never
	 * decides what is trusted. */
	for (int i = 0; i < n - 1; i++)
		if (!sk_X509_push(untrusted, sk_X509_value(ca->chain, i)))
			goto out;
	if (!X509_STORE_add_cert(store, sk_X509_value(ca->chain, n - 1)) ||
	    !X509_STORE_CTX_init(ctx, store, leaf, untrusted))
		goto out;
	X509_STORE_CTX_set_time(ctx, 0, (time_t)t);
	/* the anchor may be an intermediate (the spec allows it) */
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN);
	if (X509_verify_cert(ctx) == 1) {
		*out = X509_STORE_CTX_get1_chain(ctx);
		code = *out ? X509_V_OK : X509_V_ERR_OUT_OF_MEM;
	} else {
		code = X509_STORE_CTX_get_error(ctx);
	}
out:
	ERR_clear_error();
	sk_X509_free(untrusted);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return code;
}

int md_sigstore__check_chain(const struct md_sigstore_root *r, X509 *leaf, int64_t t,
			     STACK_OF(X509) **chain, struct md_err *err)
{
	int code = X509_V_OK, tried = 0;
	char when[32];

	*chain = NULL;
	md_sigstore__fmt_time(t, when, sizeof(when));
	if (X509_cmp_time(X509_get0_notBefore(leaf), &(time_t){ (time_t)t }) > 0 ||
	    X509_cmp_time(X509_get0_notAfter(leaf), &(time_t){ (time_t)t }) < 0) {
		md_err_set(err, "the signing certificate was not valid at %s, when the signature "
				"was logged or timestamped", when);
		return SG_REFUSE;
	}
	/* OpenSSL would say only "unable to get local issuer certificate" */
	if (X509_get_extension_flags(leaf) & EXFLAG_CRITICAL) {
		md_err_set(err, "the signing certificate has a critical extension this verifier "
				"does not know");
		return SG_REFUSE;
	}
	for (size_t i = 0; r && i < r->n_cas; i++) {
		if (!md_sigstore__range_has(&r->cas[i].valid, t))
			continue;
		tried++;
		code = verify_with_ca(&r->cas[i], leaf, t, chain);
		if (code == X509_V_OK)
			return SG_OK;
		if (code == X509_V_ERR_OUT_OF_MEM)
			return SG_UNDECIDED;
	}
	if (!tried)
		md_err_set(err, "no trusted Fulcio CA was valid at %s, when the signature was logged "
				"or timestamped", when);
	else
		md_err_set(err, "the signing certificate does not chain to a trusted Fulcio CA at "
				"%s: %s", when, X509_verify_cert_error_string(code));
	return SG_REFUSE;
}

int md_sigstore__check_codesign(X509 *leaf, struct md_err *err)
{
	uint32_t xku = X509_get_extended_key_usage(leaf);

	if (!(X509_get_extension_flags(leaf) & EXFLAG_XKUSAGE) || !(xku & XKU_CODE_SIGN)) {
		md_err_set(err, "the signing certificate is not for code signing (no codeSigning "
				"extended key usage)");
		return SG_REFUSE;
	}
	if ((X509_get_extension_flags(leaf) & EXFLAG_INVALID)) {
		md_err_set(err, "the signing certificate has malformed extensions");
		return SG_REFUSE;
	}
	return SG_OK;
}

/* ---- SCT ------------------------------------------------------------------ */

static const struct sg_log *find_ctlog(const struct md_sigstore_root *r, const unsigned char *id,
				       size_t len)
{
	for (size_t i = 0; i < r->n_ctlogs; i++)
		if (r->ctlogs[i].key_id_len == len && !memcmp(r->ctlogs[i].key_id, id, len))
			return &r->ctlogs[i];
	return NULL;
}

/* The leaf's TBSCertificate without the SCT list: what the CT log saw as a
 * precertificate. */
static int precert_tbs(X509 *leaf, unsigned char **out, size_t *outlen)
{
	X509 *dup = X509_dup(leaf);
	unsigned char *p = NULL;
	int idx, n;

	if (!dup)
		return -1;
	idx = X509_get_ext_by_NID(dup, NID_ct_precert_scts, -1);
	if (idx >= 0)
		X509_EXTENSION_free(X509_delete_ext(dup, idx));
	n = i2d_re_X509_tbs(dup, &p);
	X509_free(dup);
	if (n <= 0)
		return -1;
	*out = p;
	*outlen = (size_t)n;
	return 0;
}

/* RFC 6962 §3.2 digitally-signed struct for a precert entry. */
static int sct_signed_data(const SCT *sct, const unsigned char ikh[32], const unsigned char *tbs,
			   size_t tbslen, struct md_buf *b)
{
	unsigned char hdr[12], *ext = NULL;
	uint64_t ts = SCT_get_timestamp(sct);
	size_t extlen = SCT_get0_extensions(sct, &ext);

	if (tbslen > 0xffffff || extlen > 0xffff)
		return -1;
	hdr[0] = 0; /* v1 */
	hdr[1] = 0; /* certificate_timestamp */
	for (int i = 0; i < 8; i++)
		hdr[2 + i] = (unsigned char)(ts >> (56 - 8 * i));
	hdr[10] = 0; /* entry type precert_entry (1) */
	hdr[11] = 1;
	if (md_buf_append(b, hdr, sizeof(hdr)) < 0 || md_buf_append(b, ikh, 32) < 0)
		return -1;
	hdr[0] = (unsigned char)(tbslen >> 16);
	hdr[1] = (unsigned char)(tbslen >> 8);
	hdr[2] = (unsigned char)tbslen;
	if (md_buf_append(b, hdr, 3) < 0 || md_buf_append(b, tbs, tbslen) < 0)
		return -1;
	hdr[0] = (unsigned char)(extlen >> 8);
	hdr[1] = (unsigned char)extlen;
	if (md_buf_append(b, hdr, 2) < 0 || (extlen && md_buf_append(b, ext, extlen) < 0))
		return -1;
	return 0;
}

static int sct_ok(const struct md_sigstore_root *r, const SCT *sct, const unsigned char ikh[32],
		  const unsigned char *tbs, size_t tbslen)
{
	unsigned char *id = NULL, *sig = NULL;
	size_t idlen = SCT_get0_log_id(sct, &id), siglen = SCT_get0_signature(sct, &sig);
	const struct sg_log *log;
	struct md_buf b;
	int ok;

	if (SCT_get_version(sct) != SCT_VERSION_V1)
		return 0;
	log = find_ctlog(r, id, idlen);
	/* the SCT's time is in milliseconds; the log's key must cover it */
	if (!log || !md_sigstore__range_has(&log->valid, (int64_t)(SCT_get_timestamp(sct) / 1000)))
		return 0;
	md_buf_init(&b, 2 * MD_SIGSTORE_MAX_INPUT);
	ok = sct_signed_data(sct, ikh, tbs, tbslen, &b) == 0 &&
	     md_sigstore__verify_sha256(log->key, b.data, b.len, sig, siglen);
	md_buf_clear(&b);
	return ok;
}

int md_sigstore__check_scts(const struct md_sigstore_root *r, X509 *leaf, X509 *issuer,
			    struct md_err *err)
{
	STACK_OF(SCT) *scts;
	unsigned char ikh[32], *spki = NULL, *tbs = NULL;
	int crit = -1, n, spkilen, found = 0;
	size_t tbslen;

	scts = X509_get_ext_d2i(leaf, NID_ct_precert_scts, &crit, NULL);
	if (!scts) {
		ERR_clear_error();
		md_err_set(err, crit == -1 ? "the signing certificate has no embedded SCT"
					   : "the signing certificate's SCT list is malformed");
		return SG_REFUSE;
	}
	n = sk_SCT_num(scts);
	spkilen = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(issuer), &spki);
	if (spkilen <= 0 || precert_tbs(leaf, &tbs, &tbslen) < 0) {
		OPENSSL_free(spki);
		SCT_LIST_free(scts);
		md_err_set(err, "the signing certificate cannot be re-encoded as a precertificate");
		return SG_REFUSE;
	}
	md_sigstore__sha256(spki, (size_t)spkilen, ikh);
	for (int i = 0; i < n && !found; i++)
		found = sct_ok(r, sk_SCT_value(scts, i), ikh, tbs, tbslen);
	OPENSSL_free(spki);
	OPENSSL_free(tbs);
	SCT_LIST_free(scts);
	if (!found) {
		md_err_set(err, "none of the certificate's %d embedded SCTs verifies with a trusted "
				"CT log", n);
		return SG_REFUSE;
	}
	return SG_OK;
}

/* ---- identity ------------------------------------------------------------- */

/* A string value without NUL bytes, into out. */
static int copy_str(const unsigned char *p, int n, char *out, size_t outlen)
{
	if (n < 0 || !p || memchr(p, 0, (size_t)n) || (size_t)n >= outlen)
		return -1;
	memcpy(out, p, (size_t)n);
	out[n] = 0;
	return 0;
}

#define OID_USERNAME "1.3.6.1.4.1.57264.1.7"
#define OID_ISSUER_V1 "1.3.6.1.4.1.57264.1.1"
#define OID_ISSUER_V2 "1.3.6.1.4.1.57264.1.8"

/* Fulcio issues exactly one SAN; more would leave room to argue which one
 * is the identity, so such a certificate is refused. */
static int cert_san(X509 *leaf, char *san, size_t sanlen, struct md_err *err)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	GENERAL_NAME *g;
	char oid[64];
	int rc = -1;

	if (!gens) {
		ERR_clear_error();
		return md_err_set(err, "the signing certificate has no subject alternative name");
	}
	if (sk_GENERAL_NAME_num(gens) != 1) {
		md_err_set(err, "the signing certificate has %d subject alternative names, not one",
			   sk_GENERAL_NAME_num(gens));
		goto out;
	}
	g = sk_GENERAL_NAME_value(gens, 0);
	if (g->type == GEN_URI || g->type == GEN_EMAIL) {
		ASN1_IA5STRING *s = g->type == GEN_URI ? g->d.uniformResourceIdentifier
						       : g->d.rfc822Name;

		rc = copy_str(ASN1_STRING_get0_data(s), ASN1_STRING_length(s), san, sanlen);
	} else if (g->type == GEN_OTHERNAME) {
		OBJ_obj2txt(oid, sizeof(oid), g->d.otherName->type_id, 1);
		if (!strcmp(oid, OID_USERNAME) && g->d.otherName->value->type == V_ASN1_UTF8STRING) {
			ASN1_UTF8STRING *s = g->d.otherName->value->value.utf8string;

			rc = copy_str(ASN1_STRING_get0_data(s), ASN1_STRING_length(s), san, sanlen);
		}
	}
	if (rc < 0)
		md_err_set(err, "the signing certificate's subject alternative name is not a URI, "
				"an email or a Fulcio username of at most %zu bytes", sanlen - 1);
out:
	GENERAL_NAMES_free(gens);
	return rc;
}

/* The extension with this OID: its raw value; 0 absent, 1 found, -1 duplicated. */
static int cert_ext(X509 *leaf, const char *oidtxt, const unsigned char **p, int *n)
{
	ASN1_OBJECT *oid = OBJ_txt2obj(oidtxt, 1);
	int idx;
	ASN1_OCTET_STRING *v;

	if (!oid)
		return -1;
	idx = X509_get_ext_by_OBJ(leaf, oid, -1);
	if (idx >= 0 && X509_get_ext_by_OBJ(leaf, oid, idx) >= 0) {
		ASN1_OBJECT_free(oid);
		return -1;
	}
	ASN1_OBJECT_free(oid);
	if (idx < 0)
		return 0;
	v = X509_EXTENSION_get_data(X509_get_ext(leaf, idx));
	*p = ASN1_STRING_get0_data(v);
	*n = ASN1_STRING_length(v);
	return 1;
}

/* The OIDC issuer: 1.8 (a DER UTF8String, every byte consumed), else the
 * deprecated 1.1 (raw bytes). When both are present they must agree:
 * cosign's legacy code reads 1.1 and sigstore-go 1.8. */
static int cert_issuer(X509 *leaf, char *iss, size_t isslen, struct md_err *err)
{
	const unsigned char *p = NULL, *q;
	char v1[MD_SIGSTORE_NAME_MAX];
	int n = 0, r1, r8;

	r8 = cert_ext(leaf, OID_ISSUER_V2, &p, &n);
	if (r8 < 0)
		return md_err_set(err, "the signing certificate repeats the OIDC issuer extension");
	if (r8 > 0) {
		ASN1_UTF8STRING *s;

		q = p;
		s = d2i_ASN1_UTF8STRING(NULL, &q, n);
		if (!s || q != p + n ||
		    copy_str(ASN1_STRING_get0_data(s), ASN1_STRING_length(s), iss, isslen) < 0) {
			ASN1_UTF8STRING_free(s);
			ERR_clear_error();
			return md_err_set(err, "the signing certificate's OIDC issuer extension "
					       "(1.3.6.1.4.1.57264.1.8) is malformed");
		}
		ASN1_UTF8STRING_free(s);
	}
	r1 = cert_ext(leaf, OID_ISSUER_V1, &p, &n);
	if (r1 < 0)
		return md_err_set(err, "the signing certificate repeats the OIDC issuer extension");
	if (r1 > 0 && copy_str(p, n, v1, sizeof(v1)) < 0)
		return md_err_set(err, "the signing certificate's OIDC issuer extension "
				       "(1.3.6.1.4.1.57264.1.1) is malformed");
	if (r1 > 0 && r8 > 0 && strcmp(v1, iss))
		return md_err_set(err, "the signing certificate names two different OIDC issuers "
				       "('%s' and '%s')", iss, v1);
	if (r1 > 0 && r8 == 0 && md_strlcpy(iss, v1, isslen) >= isslen)
		return md_err_set(err, "the signing certificate's OIDC issuer is too long");
	if (!r1 && !r8)
		return md_err_set(err, "the signing certificate names no OIDC issuer");
	return 0;
}

int md_sigstore__cert_identity(X509 *leaf, char *san, size_t sanlen, char *iss, size_t isslen,
			       struct md_err *err)
{
	san[0] = iss[0] = 0;
	if (cert_san(leaf, san, sanlen, err) < 0)
		return -1;
	return cert_issuer(leaf, iss, isslen, err);
}

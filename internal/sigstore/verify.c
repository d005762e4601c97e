/* The verification of one signature, in cosign's order: material, the
 * signature itself, what it is about, the transparency log, timestamps,
 * then for a certificate its chain at the signing time, usage, SCT and
 * identity. Every step refuses with a sentence naming what failed. */
#include "sigstore_int.h"
#include "magos/ref.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INTOTO_TYPE "application/vnd.in-toto+json"
#define SIMPLE_SIGNING_TYPE "cosign container image signature"

struct vctx {
	const struct md_sigstore_root *r;
	const struct md_sigstore_req *q;
	const struct md_sigstore_subject *s;
	const struct md_sigstore_bundle *b;
	struct md_sigstore_result *res;
	struct md_err *err;
	EVP_PKEY *signer;
	unsigned char subject[32]; /* the subject's SHA-256 */
	char subject_str[MD_DIGEST_STR_LEN + 1];
	unsigned char msg_sha[32], payload_sha[32], pae_sha[32];
	unsigned char *pae;
	size_t pae_len;
	int64_t times[SG_MAX_ENTRIES + SG_MAX_STAMPS];
	size_t n_times;
};

static enum md_sigstore_outcome refuse(struct vctx *v, enum md_sigstore_check c)
{
	v->res->failed = c;
	return MD_SIGSTORE_REFUSED;
}

static enum md_sigstore_outcome undecided(struct vctx *v, const char *why)
{
	md_err_set(v->err, "cannot decide: %s", why);
	return MD_SIGSTORE_UNDECIDED;
}

/* Map an internal check result; SG_OK continues. */
static int outcome(struct vctx *v, int rc, enum md_sigstore_check c, enum md_sigstore_outcome *o)
{
	if (rc == SG_OK)
		return 0;
	if (rc == SG_UNDECIDED) {
		*o = undecided(v, "out of memory or a cryptographic library failure");
		return -1;
	}
	*o = refuse(v, c);
	return -1;
}

/* ---- the subject ------------------------------------------------------------ */

static int subject_digest(struct vctx *v)
{
	const struct md_sigstore_subject *s = v->s;
	unsigned char given[32];

	if (s->digest && (!md_ref_valid_digest(s->digest) ||
			  md_sigstore__unhex(s->digest + 7, given, 32) < 0))
		return md_err_set(v->err, "the subject digest '%s' is not sha256:<64 hex>",
				  s->digest);
	if (s->kind == MD_SIGSTORE_ARTIFACT && s->data) {
		md_sigstore__sha256(s->data, s->len, v->subject);
		if (s->digest && memcmp(given, v->subject, 32))
			return md_err_set(v->err, "the artifact's bytes do not have digest %s",
					  s->digest);
	} else if (s->digest) {
		memcpy(v->subject, given, 32);
	} else {
		return md_err_set(v->err, "no subject digest to verify against");
	}
	memcpy(v->subject_str, "sha256:", 7);
	md_sigstore__hex(v->subject, 32, v->subject_str + 7);
	return 0;
}

/* ---- step 1: key or certificate ---------------------------------------------- */

static int check_material(struct vctx *v)
{
	struct md_err ignored;

	if (md_sigstore_req_is_keyless(v->q)) {
		if (!v->b->leaf)
			return md_err_set(v->err, "%s is signed with a key, but a keyless identity is "
						  "required (%s)", v->b->name,
					  md_sigstore_req_describe(v->q));
		v->signer = X509_get0_pubkey(v->b->leaf);
		v->res->keyless = 1;
		/* who it claims to be, for the caller's messages; checked last */
		md_sigstore__cert_identity(v->b->leaf, v->res->identity, sizeof(v->res->identity),
					   v->res->issuer, sizeof(v->res->issuer), &ignored);
		if (!v->signer)
			return md_err_set(v->err, "%s: the certificate's public key cannot be read",
					  v->b->name);
		return 0;
	}
	if (v->b->leaf)
		return md_err_set(v->err, "%s is signed with a certificate, but a key is required",
				  v->b->name);
	v->signer = md_sigstore__req_key(v->q);
	return 0;
}

/* ---- step 2: the signature ------------------------------------------------------ */

/* DSSE's pre-authentication encoding: "DSSEv1 <len> <type> <len> <body>". */
static int make_pae(struct vctx *v)
{
	const struct md_sigstore_bundle *b = v->b;
	char head[64 + 256]; /* the parser bounds the payload type */
	int n;

	n = snprintf(head, sizeof(head), "DSSEv1 %zu %s %zu ", strlen(b->payload_type),
		     b->payload_type, b->payload_len);
	if (n < 0 || (size_t)n >= sizeof(head))
		return -1;
	v->pae = malloc((size_t)n + b->payload_len + 1);
	if (!v->pae)
		return -1;
	memcpy(v->pae, head, (size_t)n);
	memcpy(v->pae + n, b->payload, b->payload_len);
	v->pae_len = (size_t)n + b->payload_len;
	md_sigstore__sha256(v->pae, v->pae_len, v->pae_sha);
	md_sigstore__sha256(b->payload, b->payload_len, v->payload_sha);
	return 0;
}

static const char *signer_name(struct vctx *v)
{
	return v->b->leaf ? "the signing certificate's key" : "the required key";
}

static int check_signature(struct vctx *v, enum md_sigstore_outcome *o)
{
	const struct md_sigstore_bundle *b = v->b;
	int ok;

	if (b->content == SG_DSSE) {
		if (make_pae(v) < 0) {
			*o = undecided(v, "out of memory");
			return -1;
		}
		ok = md_sigstore__verify_sig(v->signer, v->pae, v->pae_len, NULL, b->sig, b->sig_len);
	} else if (b->payload) { /* legacy: the layer is what was signed */
		md_sigstore__sha256(b->payload, b->payload_len, v->msg_sha);
		ok = md_sigstore__verify_sig(v->signer, b->payload, b->payload_len, NULL, b->sig,
					     b->sig_len);
	} else if (v->s->kind == MD_SIGSTORE_IMAGE) {
		md_err_set(v->err, "%s is a message-signature bundle, which does not carry what it "
				   "signs; an image signature is a DSSE bundle or a legacy .sig layer",
			   b->name);
		*o = refuse(v, MD_SIGSTORE_CHECK_SHAPE);
		return -1;
	} else { /* an artifact, by its bytes or only its digest */
		memcpy(v->msg_sha, v->subject, 32);
		ok = md_sigstore__verify_sig(v->signer, v->s->data, v->s->len, v->subject, b->sig,
					     b->sig_len);
	}
	if (!ok) {
		md_err_set(v->err, "%s: the signature does not verify with %s%s", b->name,
			   signer_name(v),
			   b->content == SG_MESSAGE && !b->payload ? " over this artifact" : "");
		*o = refuse(v, MD_SIGSTORE_CHECK_SIGNATURE);
		return -1;
	}
	return 0;
}

/* ---- step 3: what was signed is about the subject ------------------------------- */

static int subject_listed(struct vctx *v, json_t *subjects)
{
	json_t *e;
	size_t i;

	json_array_foreach(subjects, i, e) {
		json_t *d = json_object_get(e, "digest");
		const char *hex = json_is_object(d) ? md_sigstore__json_str(d, "sha256") : NULL;
		unsigned char got[32];

		if (hex && md_sigstore__unhex(hex, got, 32) == 0 && !memcmp(got, v->subject, 32))
			return 1;
	}
	return 0;
}

static int check_statement(struct vctx *v)
{
	const struct md_sigstore_bundle *b = v->b;
	struct md_err jerr;
	const char *type, *pred;
	json_t *j;
	int rc = -1;

	if (strcmp(b->payload_type, INTOTO_TYPE))
		return md_err_set(v->err, "%s: the DSSE payload type is '%s', not an in-toto "
					  "statement", b->name, b->payload_type);
	j = md_sigstore__json_parse((const char *)b->payload, b->payload_len, "statement", &jerr);
	if (!j)
		return md_err_set(v->err, "%s: the DSSE payload: %s", b->name, jerr.msg);
	type = md_sigstore__json_str(j, "_type");
	pred = md_sigstore__json_str(j, "predicateType");
	if (!type || (strcmp(type, "https://in-toto.io/Statement/v1") &&
		      strcmp(type, "https://in-toto.io/Statement/v0.1")))
		md_err_set(v->err, "%s: the DSSE payload is not an in-toto statement", b->name);
	else if (!pred)
		md_err_set(v->err, "%s: the in-toto statement has no predicateType", b->name);
	/* Any attestation by the same identity (an SBOM, provenance) would
	 * otherwise pass for an image signature. */
	else if (v->s->kind == MD_SIGSTORE_IMAGE && strcmp(pred, MD_SIGSTORE_PREDICATE_SIGN))
		md_err_set(v->err, "%s: the statement's predicate type is '%s', not a cosign "
				   "signature (%s)", b->name, pred, MD_SIGSTORE_PREDICATE_SIGN);
	else if (!json_is_array(json_object_get(j, "subject")) ||
		 !subject_listed(v, json_object_get(j, "subject")))
		md_err_set(v->err, "%s: the signed statement is not about %s", b->name,
			   v->subject_str);
	else
		rc = 0;
	json_decref(j);
	return rc;
}

/* The simple-signing payload of a legacy signature:
 * {"critical": {"identity": {...}, "image": {"docker-manifest-digest": D},
 * "type": "cosign container image signature"}, "optional": ...}. */
static int check_simple_signing(struct vctx *v)
{
	const struct md_sigstore_bundle *b = v->b;
	struct md_err jerr;
	json_t *j, *crit, *img;
	const char *type, *dg;
	int rc = -1;

	j = md_sigstore__json_parse((const char *)b->payload, b->payload_len, "payload", &jerr);
	if (!j)
		return md_err_set(v->err, "%s: the signed payload: %s", b->name, jerr.msg);
	crit = json_object_get(j, "critical");
	img = json_is_object(crit) ? json_object_get(crit, "image") : NULL;
	type = json_is_object(crit) ? md_sigstore__json_str(crit, "type") : NULL;
	dg = json_is_object(img) ? md_sigstore__json_str(img, "docker-manifest-digest") : NULL;
	if (!type || strcmp(type, SIMPLE_SIGNING_TYPE))
		md_err_set(v->err, "%s: the signed payload is not a cosign container image "
				   "signature", b->name);
	else if (!dg || strcmp(dg, v->subject_str))
		md_err_set(v->err, "%s: the signature is for %s, not %s", b->name,
			   dg ? dg : "no image digest", v->subject_str);
	else
		rc = 0;
	json_decref(j);
	return rc;
}

static int check_content(struct vctx *v)
{
	const struct md_sigstore_bundle *b = v->b;

	if (b->content == SG_DSSE)
		return check_statement(v);
	if (b->legacy) {
		if (v->s->kind != MD_SIGSTORE_IMAGE)
			return md_err_set(v->err, "%s: a legacy signature signs an image, not an "
						  "artifact", b->name);
		return check_simple_signing(v);
	}
	/* The digest in a message-signature bundle is only a hint, but one that
	 * disagrees with the artifact is a broken bundle. */
	if (b->has_digest && memcmp(b->digest, v->subject, 32))
		return md_err_set(v->err, "%s: the bundle's message digest is not the artifact's "
					  "(%s)", b->name, v->subject_str);
	return 0;
}

/* ---- step 4: transparency log ----------------------------------------------------- */

static int check_tlog(struct vctx *v, enum md_sigstore_outcome *o)
{
	const struct md_sigstore_bundle *b = v->b;
	struct sg_expect x = {
		.content = b->content, .sig = b->sig, .sig_len = b->sig_len,
		.leaf = b->leaf, .key = b->leaf ? NULL : v->signer,
		.msg_sha256 = v->msg_sha, .payload_sha256 = v->payload_sha,
		.pae_sha256 = v->pae_sha, .payload_type = b->payload_type,
	};
	int optional = !md_sigstore_req_is_keyless(v->q) && md_sigstore__req_tlog_optional(v->q);
	size_t unknown = 0;

	/* tlog: false makes an entry optional, not a bad one acceptable */
	if (optional && !v->r)
		return 0;
	for (size_t i = 0; i < b->n_entries; i++) {
		const struct sg_entry *e = &b->entries[i];
		const struct sg_log *log = md_sigstore__find_tlog(v->r, e->log_id, e->log_id_len);
		int64_t set_time;
		int rc;

		if (!log) { /* a log we do not trust proves nothing, nor harms */
			unknown++;
			continue;
		}
		for (size_t k = 0; k < i; k++)
			if (b->entries[k].log_index == e->log_index &&
			    b->entries[k].log_id_len == e->log_id_len &&
			    !memcmp(b->entries[k].log_id, e->log_id, e->log_id_len)) {
				md_err_set(v->err, "%s: log entry %" PRId64 " appears twice", b->name,
					   e->log_index);
				*o = refuse(v, MD_SIGSTORE_CHECK_TLOG);
				return -1;
			}
		rc = md_sigstore__check_entry(log, e, &x, &set_time, v->err);
		if (rc != SG_OK) {
			if (rc == SG_REFUSE)
				md_err_prefix(v->err, "%s", b->name);
			return outcome(v, rc, MD_SIGSTORE_CHECK_TLOG, o);
		}
		if (set_time)
			v->times[v->n_times++] = set_time;
		v->res->tlog_verified++;
	}
	if (v->res->tlog_verified || optional)
		return 0;
	if (!b->n_entries)
		md_err_set(v->err, "%s has no transparency log entry%s", b->name,
			   md_sigstore_req_is_keyless(v->q)
				   ? ""
				   : " (a key-based requirement may accept that with tlog: false)");
	else
		md_err_set(v->err, "%s: none of its %zu log entries is from a log in the trusted "
				   "root", b->name, unknown);
	*o = refuse(v, MD_SIGSTORE_CHECK_TLOG);
	return -1;
}

/* ---- step 5: RFC 3161 timestamps ---------------------------------------------- */

/* A timestamp that does not verify is skipped, as sigstore-go does: it is
 * not a time, but it does not undo a verified one. */
static int check_stamps(struct vctx *v, enum md_sigstore_outcome *o)
{
	const struct md_sigstore_bundle *b = v->b;
	struct md_err last = { "" };

	for (size_t i = 0; i < b->n_stamps; i++) {
		int64_t t;
		int rc = md_sigstore__check_stamp(v->r, b->stamps[i], b->stamp_lens[i], b->sig,
						  b->sig_len, &t, &last);

		if (rc == SG_UNDECIDED)
			return outcome(v, rc, MD_SIGSTORE_CHECK_TIMESTAMP, o);
		if (rc == SG_OK) {
			v->times[v->n_times++] = t;
			v->res->stamps_verified++;
		}
	}
	for (size_t i = 0; i < v->n_times; i++)
		if (!v->res->signed_at || v->times[i] < v->res->signed_at)
			v->res->signed_at = v->times[i];
	if (v->n_times || !v->b->leaf)
		return 0;
	md_err_set(v->err, "%s: no trusted time to check the certificate at: no log entry with a "
			   "signed entry timestamp%s%s", b->name,
		   b->n_stamps ? ", and " : " and no RFC 3161 timestamp", last.msg);
	*o = refuse(v, MD_SIGSTORE_CHECK_TIMESTAMP);
	return -1;
}

/* ---- step 6: the certificate ----------------------------------------------------- */

static int check_certificate(struct vctx *v, enum md_sigstore_outcome *o)
{
	STACK_OF(X509) *chain = NULL;
	int rc;

	/* valid at every verified time, not just one of them */
	for (size_t i = 0; i < v->n_times; i++) {
		STACK_OF(X509) *c = NULL;

		rc = md_sigstore__check_chain(v->r, v->b->leaf, v->times[i], &c, v->err);
		if (rc != SG_OK) {
			sk_X509_pop_free(chain, X509_free);
			md_err_prefix(v->err, "%s", v->b->name);
			return outcome(v, rc, MD_SIGSTORE_CHECK_CERTIFICATE, o);
		}
		if (chain)
			sk_X509_pop_free(c, X509_free);
		else
			chain = c;
	}
	rc = md_sigstore__check_codesign(v->b->leaf, v->err);
	if (rc == SG_OK && sk_X509_num(chain) < 2) {
		md_err_set(v->err, "the certificate chain has no issuer");
		rc = SG_REFUSE;
	}
	if (rc != SG_OK) {
		sk_X509_pop_free(chain, X509_free);
		md_err_prefix(v->err, "%s", v->b->name);
		return outcome(v, rc, MD_SIGSTORE_CHECK_CERTIFICATE, o);
	}
	rc = md_sigstore__check_scts(v->r, v->b->leaf, sk_X509_value(chain, 1), v->err);
	sk_X509_pop_free(chain, X509_free);
	if (rc != SG_OK) {
		md_err_prefix(v->err, "%s", v->b->name);
		return outcome(v, rc, MD_SIGSTORE_CHECK_SCT, o);
	}
	return 0;
}

/* ---- step 7: identity ------------------------------------------------------------- */

static int check_identity(struct vctx *v, enum md_sigstore_outcome *o)
{
	char san[MD_SIGSTORE_NAME_MAX], iss[MD_SIGSTORE_NAME_MAX];

	if (md_sigstore__cert_identity(v->b->leaf, san, sizeof(san), iss, sizeof(iss), v->err) < 0) {
		md_err_prefix(v->err, "%s", v->b->name);
		*o = refuse(v, MD_SIGSTORE_CHECK_IDENTITY);
		return -1;
	}
	if (!md_sigstore__req_match_identity(v->q, san)) {
		md_err_set(v->err, "%s is signed by '%s', not by %s", v->b->name, san,
			   md_sigstore__req_want_identity(v->q));
		*o = refuse(v, MD_SIGSTORE_CHECK_IDENTITY);
		return -1;
	}
	if (!md_sigstore__req_match_issuer(v->q, iss)) {
		md_err_set(v->err, "%s: the signer's OIDC issuer is '%s', not %s", v->b->name, iss,
			   md_sigstore__req_want_issuer(v->q));
		*o = refuse(v, MD_SIGSTORE_CHECK_ISSUER);
		return -1;
	}
	return 0;
}

static enum md_sigstore_outcome run(struct vctx *v)
{
	enum md_sigstore_outcome o = MD_SIGSTORE_VERIFIED;
	int keyless = md_sigstore_req_is_keyless(v->q);

	if (!v->r && (keyless || !md_sigstore__req_tlog_optional(v->q)))
		return undecided(v, keyless ? "keyless verification needs a Sigstore trusted root "
					      "(trusted_root.json)"
					    : "checking the transparency log needs a Sigstore trusted "
					      "root (trusted_root.json)");
	if (subject_digest(v) < 0)
		return refuse(v, MD_SIGSTORE_CHECK_SHAPE);
	if (check_material(v) < 0)
		return refuse(v, MD_SIGSTORE_CHECK_MATERIAL);
	if (check_signature(v, &o) < 0)
		return o;
	if (check_content(v) < 0)
		return refuse(v, MD_SIGSTORE_CHECK_DIGEST);
	if (check_tlog(v, &o) < 0 || check_stamps(v, &o) < 0)
		return o;
	if (!keyless)
		return MD_SIGSTORE_VERIFIED;
	if (check_certificate(v, &o) < 0 || check_identity(v, &o) < 0)
		return o;
	return MD_SIGSTORE_VERIFIED;
}

enum md_sigstore_outcome md_sigstore_verify(const struct md_sigstore_root *r,
					    const struct md_sigstore_req *q,
					    const struct md_sigstore_subject *s,
					    const struct md_sigstore_bundle *b,
					    struct md_sigstore_result *res, struct md_err *err)
{
	struct md_sigstore_result scratch;
	struct vctx v = { .r = r, .q = q, .s = s, .b = b, .res = res ? res : &scratch, .err = err };
	enum md_sigstore_outcome o;

	memset(v.res, 0, sizeof(*v.res));
	o = run(&v);
	free(v.pae);
	if (o == MD_SIGSTORE_VERIFIED)
		v.res->failed = MD_SIGSTORE_CHECK_NONE;
	return o;
}

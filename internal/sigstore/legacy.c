/* cosign's legacy signature: a layer of the `sha256-<hex>.sig` image whose
 * blob is the simple-signing payload, with the signature, certificate,
 * chain and Rekor bundle in the layer descriptor's annotations. It becomes
 * a message signature over the payload with at most one log entry (a SET,
 * never an inclusion proof). */
#include "sigstore_int.h"

#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

/* dev.sigstore.cosign/bundle: {"SignedEntryTimestamp": b64, "Payload":
 * {"body": b64, "integratedTime": n, "logIndex": n, "logID": hex}}. */
static int parse_rekor_bundle(struct md_sigstore_bundle *b, const char *text, struct md_err *err)
{
	struct sg_entry *e;
	json_t *j, *p;
	const char *lid;
	int rc = -1;

	j = md_sigstore__json_parse(text, strlen(text), "dev.sigstore.cosign/bundle", err);
	if (!j)
		return md_err_prefix(err, "%s", b->name);
	b->entries = calloc(1, sizeof(*b->entries));
	if (!b->entries) {
		json_decref(j);
		return md_err_set(err, "out of memory");
	}
	e = &b->entries[0];
	b->n_entries = 1;
	p = json_object_get(j, "Payload");
	lid = json_is_object(p) ? md_sigstore__json_str(p, "logID") : NULL;
	if (md_sigstore__json_b64(j, "SignedEntryTimestamp", &e->set, &e->set_len) != 1 ||
	    !e->set_len) {
		md_err_set(err, "%s: the Rekor bundle's SignedEntryTimestamp is missing or not "
				"base64", b->name);
	} else if (!json_is_object(p) ||
		   md_sigstore__json_b64(p, "body", &e->body, &e->body_len) != 1 || !e->body_len) {
		md_err_set(err, "%s: the Rekor bundle's Payload.body is missing or not base64",
			   b->name);
	} else if (md_sigstore__json_int64(p, "integratedTime", &e->integrated_time) != 1 ||
		   e->integrated_time < 0 ||
		   md_sigstore__json_int64(p, "logIndex", &e->log_index) != 1 || e->log_index < 0) {
		md_err_set(err, "%s: the Rekor bundle needs a non-negative integratedTime and "
				"logIndex", b->name);
	} else if (!lid || strlen(lid) > 2 * SG_KEYID_MAX || !*lid || strlen(lid) % 2 ||
		   md_sigstore__unhex(lid, e->log_id, strlen(lid) / 2) < 0) {
		md_err_set(err, "%s: the Rekor bundle's logID is not hex", b->name);
	} else {
		e->log_id_len = strlen(lid) / 2;
		rc = 0;
	}
	json_decref(j);
	return rc;
}

static int parse_certs(struct md_sigstore_bundle *b, const struct md_sigstore_legacy *in,
		       struct md_err *err)
{
	size_t n = strlen(in->certificate);

	b->leaf = md_sigstore__pem_cert(in->certificate, n);
	if (!b->leaf)
		return md_err_set(err, "%s: dev.sigstore.cosign/certificate is not a PEM "
				       "certificate", b->name);
	if (X509_check_issued(b->leaf, b->leaf) == X509_V_OK)
		return md_err_set(err, "%s: the signing certificate is self-signed", b->name);
	/* The chain annotation is read only to refuse garbage: trust comes from
	 * the trusted root's chains, as for bundles. */
	if (in->chain && *in->chain) {
		X509 *c = md_sigstore__pem_cert(in->chain, strlen(in->chain));

		if (!c)
			return md_err_set(err, "%s: dev.sigstore.cosign/chain is not PEM "
					       "certificates", b->name);
		X509_free(c);
	}
	return 0;
}

int md_sigstore_legacy_parse(struct md_sigstore_bundle **out, const char *name,
			     const struct md_sigstore_legacy *in, struct md_err *err)
{
	struct md_sigstore_bundle *b;
	int rc = -1;

	*out = NULL;
	b = calloc(1, sizeof(*b));
	if (!b || !(b->name = md_strdup(name))) {
		free(b);
		return md_err_set(err, "out of memory");
	}
	b->legacy = 1;
	b->content = SG_MESSAGE;
	if (!in->payload || in->payload_len > MD_SIGSTORE_MAX_INPUT) {
		md_err_set(err, "%s: the signature payload is missing or larger than %u bytes", name,
			   MD_SIGSTORE_MAX_INPUT);
	} else if (!in->signature || strlen(in->signature) > MD_SIGSTORE_MAX_INPUT ||
		   md_sigstore__b64_decode(in->signature, strlen(in->signature), &b->sig,
					   &b->sig_len) < 0 ||
		   !b->sig_len) {
		md_err_set(err, "%s: dev.cosignproject.cosign/signature is missing or not base64",
			   name);
	} else if ((in->certificate && strlen(in->certificate) > MD_SIGSTORE_MAX_INPUT) ||
		   (in->chain && strlen(in->chain) > MD_SIGSTORE_MAX_INPUT)) {
		md_err_set(err, "%s: a certificate annotation is larger than %u bytes", name,
			   MD_SIGSTORE_MAX_INPUT);
	} else if (in->certificate && *in->certificate && parse_certs(b, in, err) < 0) {
		/* err set */
	} else if (in->bundle && *in->bundle && parse_rekor_bundle(b, in->bundle, err) < 0) {
		/* err set */
	} else if (!(b->payload = malloc(in->payload_len + 1))) {
		md_err_set(err, "out of memory");
	} else {
		memcpy(b->payload, in->payload, in->payload_len);
		b->payload[in->payload_len] = 0;
		b->payload_len = in->payload_len;
		rc = 0;
	}
	if (rc < 0) {
		md_sigstore_bundle_free(b);
		return -1;
	}
	*out = b;
	return 0;
}

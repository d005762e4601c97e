/* Sigstore bundles v0.1–v0.3 (protobuf JSON of dev.sigstore.bundle.v1.Bundle):
 * verification material, transparency log entries, RFC 3161 timestamps,
 * and a message signature or a DSSE envelope. Only the shape is checked
 * here; nothing is trusted yet. */
#include "sigstore_int.h"

#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

static void entry_clear(struct sg_entry *e)
{
	free(e->set);
	free(e->hashes);
	free(e->checkpoint);
	free(e->body);
}

void md_sigstore_bundle_free(struct md_sigstore_bundle *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n_entries; i++)
		entry_clear(&b->entries[i]);
	for (size_t i = 0; i < b->n_stamps; i++)
		free(b->stamps[i]);
	free(b->stamps);
	free(b->stamp_lens);
	free(b->entries);
	X509_free(b->leaf);
	free(b->payload);
	free(b->payload_type);
	free(b->sig);
	free(b->name);
	free(b);
}

/* The media type names the version: "application/vnd.dev.sigstore.bundle+json;version=0.N"
 * or "application/vnd.dev.sigstore.bundle.v0.N+json". */
static int bundle_minor(const char *mt)
{
	static const struct {
		const char *mt;
		int minor;
	} known[] = {
		{ "application/vnd.dev.sigstore.bundle+json;version=0.1", 1 },
		{ "application/vnd.dev.sigstore.bundle+json;version=0.2", 2 },
		{ "application/vnd.dev.sigstore.bundle+json;version=0.3", 3 },
		{ "application/vnd.dev.sigstore.bundle.v0.3+json", 3 },
	};

	for (size_t i = 0; mt && i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(mt, known[i].mt))
			return known[i].minor;
	return 0;
}

/* A certificate that signed itself: a root, which a bundle must not carry
 * (the trust anchor comes from the trusted root, never from the signer). */
static int self_signed(X509 *x)
{
	return X509_check_issued(x, x) == X509_V_OK;
}

static int parse_chain(struct md_sigstore_bundle *b, json_t *ch, struct md_err *err)
{
	json_t *certs = json_is_object(ch) ? json_object_get(ch, "certificates") : NULL, *v;
	size_t i;

	if (!json_is_array(certs) || !json_array_size(certs))
		return md_err_set(err, "%s: x509CertificateChain has no certificate", b->name);
	if (json_array_size(certs) > SG_MAX_CHAIN)
		return md_err_set(err, "%s: x509CertificateChain has more than %d certificates",
				  b->name, SG_MAX_CHAIN);
	json_array_foreach(certs, i, v) {
		X509 *x = md_sigstore__json_cert(v, b->name, i, err);

		if (!x)
			return -1;
		if (self_signed(x)) {
			X509_free(x);
			return md_err_set(err, "%s: the certificate chain holds a self-signed root "
					       "certificate (certificate %zu)", b->name, i);
		}
		/* Only the leaf is used: intermediates come from the trusted root. */
		if (i == 0)
			b->leaf = x;
		else
			X509_free(x);
	}
	return 0;
}

static int parse_material(struct md_sigstore_bundle *b, json_t *vm, struct md_err *err)
{
	json_t *ch = json_object_get(vm, "x509CertificateChain");
	json_t *c = json_object_get(vm, "certificate"), *pk = json_object_get(vm, "publicKey");
	unsigned char *der = NULL;
	size_t len;

	if (!!ch + !!c + !!pk != 1)
		return md_err_set(err, "%s: verificationMaterial needs exactly one of publicKey, "
				       "x509CertificateChain or certificate", b->name);
	if (pk)
		return json_is_object(pk) ? 0
					  : md_err_set(err, "%s: publicKey is not an object", b->name);
	if (ch) {
		if (b->minor >= 3)
			return md_err_set(err, "%s: a v0.3 bundle must carry a single certificate, "
					       "not x509CertificateChain", b->name);
		return parse_chain(b, ch, err);
	}
	if (!json_is_object(c) || md_sigstore__json_b64(c, "rawBytes", &der, &len) != 1)
		return md_err_set(err, "%s: certificate.rawBytes is missing or not base64", b->name);
	b->leaf = md_sigstore__der_cert(der, len);
	free(der);
	if (!b->leaf)
		return md_err_set(err, "%s: certificate.rawBytes is not a DER certificate", b->name);
	if (self_signed(b->leaf))
		return md_err_set(err, "%s: the signing certificate is self-signed", b->name);
	return 0;
}

static int parse_proof(struct sg_entry *e, json_t *p, const char *where, struct md_err *err)
{
	json_t *hashes = json_object_get(p, "hashes"), *cp = json_object_get(p, "checkpoint"), *v;
	unsigned char *root = NULL;
	const char *env;
	size_t i, len;

	if (md_sigstore__json_int64(p, "logIndex", &e->proof_index) != 1 || e->proof_index < 0 ||
	    md_sigstore__json_int64(p, "treeSize", &e->tree_size) != 1 || e->tree_size <= 0)
		return md_err_set(err, "%s: inclusionProof needs a non-negative logIndex and a "
				       "positive treeSize", where);
	if (md_sigstore__json_b64(p, "rootHash", &root, &len) != 1 || len != 32) {
		free(root);
		return md_err_set(err, "%s: inclusionProof.rootHash is not a base64 SHA-256", where);
	}
	memcpy(e->root_hash, root, 32);
	free(root);
	if (hashes && !json_is_array(hashes))
		return md_err_set(err, "%s: inclusionProof.hashes is not a list", where);
	if (json_array_size(hashes) > SG_MAX_PROOF)
		return md_err_set(err, "%s: inclusionProof has more than %d hashes", where,
				  SG_MAX_PROOF);
	e->hashes = calloc(json_array_size(hashes) + 1, 32);
	if (!e->hashes)
		return md_err_set(err, "out of memory");
	json_array_foreach(hashes, i, v) {
		unsigned char *h = NULL;
		size_t hl;

		if (!json_is_string(v) ||
		    md_sigstore__b64_decode(json_string_value(v), json_string_length(v), &h, &hl) < 0 ||
		    hl != 32) {
			free(h);
			return md_err_set(err, "%s: inclusionProof hash %zu is not a base64 SHA-256",
					  where, i);
		}
		memcpy(e->hashes + 32 * i, h, 32);
		free(h);
	}
	e->n_hashes = json_array_size(hashes);
	env = json_is_object(cp) ? md_sigstore__json_str(cp, "envelope") : NULL;
	if (!env || !*env)
		return md_err_set(err, "%s: inclusionProof has no checkpoint", where);
	e->checkpoint = md_strdup(env);
	if (!e->checkpoint)
		return md_err_set(err, "out of memory");
	e->has_proof = 1;
	return 0;
}

static int parse_entry(struct md_sigstore_bundle *b, struct sg_entry *e, json_t *o,
		       const char *where, struct md_err *err)
{
	json_t *kv = json_object_get(o, "kindVersion"), *ip = json_object_get(o, "inclusionPromise");
	json_t *lid = json_object_get(o, "logId"), *pr = json_object_get(o, "inclusionProof");
	const char *kind = json_is_object(kv) ? md_sigstore__json_str(kv, "kind") : NULL;
	const char *ver = json_is_object(kv) ? md_sigstore__json_str(kv, "version") : NULL;
	unsigned char *id = NULL;
	size_t idlen;
	int rc;

	if (!json_is_object(o))
		return md_err_set(err, "%s: not an object", where);
	if (md_sigstore__json_int64(o, "logIndex", &e->log_index) != 1 || e->log_index < 0)
		return md_err_set(err, "%s: logIndex is missing or negative", where);
	if (!json_is_object(lid) || md_sigstore__json_b64(lid, "keyId", &id, &idlen) != 1 ||
	    !idlen || idlen > SG_KEYID_MAX) {
		free(id);
		return md_err_set(err, "%s: logId.keyId is missing or not base64", where);
	}
	memcpy(e->log_id, id, idlen);
	e->log_id_len = idlen;
	free(id);
	if (!kind || !ver || strlen(kind) >= sizeof(e->kind) || strlen(ver) >= sizeof(e->version))
		return md_err_set(err, "%s: kindVersion is missing", where);
	strcpy(e->kind, kind);
	strcpy(e->version, ver);
	rc = md_sigstore__json_int64(o, "integratedTime", &e->integrated_time);
	if (rc < 0 || e->integrated_time < 0)
		return md_err_set(err, "%s: integratedTime is not a non-negative integer", where);
	if (ip) {
		if (!json_is_object(ip) ||
		    md_sigstore__json_b64(ip, "signedEntryTimestamp", &e->set, &e->set_len) != 1 ||
		    !e->set_len)
			return md_err_set(err, "%s: inclusionPromise.signedEntryTimestamp is "
					       "missing or not base64", where);
	}
	if (pr && (!json_is_object(pr) || parse_proof(e, pr, where, err) < 0))
		return json_is_object(pr) ? -1 : md_err_set(err, "%s: bad inclusionProof", where);
	if (md_sigstore__json_b64(o, "canonicalizedBody", &e->body, &e->body_len) != 1 ||
	    !e->body_len)
		return md_err_set(err, "%s: canonicalizedBody is missing or not base64", where);
	/* The version rules of sigstore's bundle spec. */
	if (b->minor == 1 && !e->set)
		return md_err_set(err, "%s: a v0.1 bundle entry needs an inclusion promise", where);
	if (b->minor >= 2 && !e->has_proof)
		return md_err_set(err, "%s: a v0.%d bundle entry needs an inclusion proof", where,
				  b->minor);
	return 0;
}

static int parse_entries(struct md_sigstore_bundle *b, json_t *vm, struct md_err *err)
{
	json_t *a = json_object_get(vm, "tlogEntries"), *v;
	char where[300];
	size_t i;

	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a))
		return md_err_set(err, "%s: tlogEntries is not a list", b->name);
	if (json_array_size(a) > SG_MAX_ENTRIES)
		return md_err_set(err, "%s: more than %d tlog entries", b->name, SG_MAX_ENTRIES);
	b->entries = calloc(json_array_size(a) + 1, sizeof(*b->entries));
	if (!b->entries)
		return md_err_set(err, "out of memory");
	json_array_foreach(a, i, v) {
		snprintf(where, sizeof(where), "%s: tlog entry %zu", b->name, i);
		b->n_entries++;
		if (parse_entry(b, &b->entries[i], v, where, err) < 0)
			return -1;
	}
	return 0;
}

static int parse_stamps(struct md_sigstore_bundle *b, json_t *vm, struct md_err *err)
{
	json_t *tvd = json_object_get(vm, "timestampVerificationData");
	json_t *a = json_is_object(tvd) ? json_object_get(tvd, "rfc3161Timestamps") : NULL, *v;
	size_t i, n = json_array_size(a);

	if (tvd && !json_is_object(tvd))
		return md_err_set(err, "%s: timestampVerificationData is not an object", b->name);
	if (a && !json_is_array(a))
		return md_err_set(err, "%s: rfc3161Timestamps is not a list", b->name);
	if (n > SG_MAX_STAMPS)
		return md_err_set(err, "%s: more than %d timestamps", b->name, SG_MAX_STAMPS);
	if (!n)
		return 0;
	b->stamps = calloc(n, sizeof(*b->stamps));
	b->stamp_lens = calloc(n, sizeof(*b->stamp_lens));
	if (!b->stamps || !b->stamp_lens)
		return md_err_set(err, "out of memory");
	json_array_foreach(a, i, v) {
		if (!json_is_object(v) ||
		    md_sigstore__json_b64(v, "signedTimestamp", &b->stamps[i], &b->stamp_lens[i]) != 1 ||
		    !b->stamp_lens[i])
			return md_err_set(err, "%s: timestamp %zu is missing or not base64", b->name,
					  i);
		b->n_stamps++;
	}
	return 0;
}

static int parse_message(struct md_sigstore_bundle *b, json_t *ms, struct md_err *err)
{
	json_t *md = json_object_get(ms, "messageDigest");

	b->content = SG_MESSAGE;
	if (!json_is_object(ms))
		return md_err_set(err, "%s: messageSignature is not an object", b->name);
	if (md_sigstore__json_b64(ms, "signature", &b->sig, &b->sig_len) != 1 || !b->sig_len)
		return md_err_set(err, "%s: messageSignature.signature is missing or not base64",
				  b->name);
	if (md) {
		const char *alg = json_is_object(md) ? md_sigstore__json_str(md, "algorithm") : NULL;
		unsigned char *d = NULL;
		size_t len;

		if (!alg || md_sigstore__json_b64(md, "digest", &d, &len) != 1) {
			free(d);
			return md_err_set(err, "%s: messageDigest is malformed", b->name);
		}
		/* Only SHA-256 digests are compared; others are an unchecked hint. */
		if (!strcmp(alg, "SHA2_256")) {
			if (len != 32) {
				free(d);
				return md_err_set(err, "%s: messageDigest is not a SHA-256", b->name);
			}
			memcpy(b->digest, d, 32);
			b->digest_len = 32;
			b->has_digest = 1;
		}
		free(d);
	}
	return 0;
}

static int parse_dsse(struct md_sigstore_bundle *b, json_t *env, struct md_err *err)
{
	json_t *sigs = json_is_object(env) ? json_object_get(env, "signatures") : NULL;
	const char *pt = json_is_object(env) ? md_sigstore__json_str(env, "payloadType") : NULL;
	json_t *s0;

	b->content = SG_DSSE;
	if (!pt || md_sigstore__json_b64(env, "payload", &b->payload, &b->payload_len) != 1)
		return md_err_set(err, "%s: dsseEnvelope needs a base64 payload and a payloadType",
				  b->name);
	if (strlen(pt) > 256)
		return md_err_set(err, "%s: the DSSE payload type is longer than 256 bytes", b->name);
	b->payload_type = md_strdup(pt);
	if (!b->payload_type)
		return md_err_set(err, "out of memory");
	if (!json_is_array(sigs) || json_array_size(sigs) != 1)
		return md_err_set(err, "%s: dsseEnvelope must hold exactly one signature, not %zu",
				  b->name, json_array_size(sigs));
	s0 = json_array_get(sigs, 0);
	if (!json_is_object(s0) || md_sigstore__json_b64(s0, "sig", &b->sig, &b->sig_len) != 1 ||
	    !b->sig_len)
		return md_err_set(err, "%s: the DSSE signature is missing or not base64", b->name);
	return 0;
}

static int parse_bundle(struct md_sigstore_bundle *b, json_t *j, struct md_err *err)
{
	const char *mt = md_sigstore__json_str(j, "mediaType");
	json_t *vm = json_object_get(j, "verificationMaterial");
	json_t *ms = json_object_get(j, "messageSignature"), *env = json_object_get(j, "dsseEnvelope");

	b->minor = bundle_minor(mt);
	if (!b->minor)
		return md_err_set(err, "%s: unsupported bundle media type %s%s%s", b->name,
				  mt ? "'" : "", mt ? mt : "(none)", mt ? "'" : "");
	if (!json_is_object(vm))
		return md_err_set(err, "%s: verificationMaterial is missing", b->name);
	if (parse_material(b, vm, err) < 0 || parse_entries(b, vm, err) < 0 ||
	    parse_stamps(b, vm, err) < 0)
		return -1;
	if (!!ms == !!env)
		return md_err_set(err, "%s: a bundle holds exactly one of messageSignature and "
				       "dsseEnvelope", b->name);
	return ms ? parse_message(b, ms, err) : parse_dsse(b, env, err);
}

int md_sigstore_bundle_parse(struct md_sigstore_bundle **out, const char *name,
			     const char *data, size_t len, struct md_err *err)
{
	struct md_sigstore_bundle *b;
	json_t *j;

	*out = NULL;
	j = md_sigstore__json_parse(data, len, name, err);
	if (!j)
		return -1;
	b = calloc(1, sizeof(*b));
	if (!b || !(b->name = md_strdup(name))) {
		free(b);
		json_decref(j);
		return md_err_set(err, "out of memory");
	}
	if (parse_bundle(b, j, err) < 0) {
		json_decref(j);
		md_sigstore_bundle_free(b);
		return -1;
	}
	json_decref(j);
	*out = b;
	return 0;
}

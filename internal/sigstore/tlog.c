/* Rekor transparency log entries: the signed entry timestamp (SET), the
 * RFC 6962/9162 inclusion proof and its signed checkpoint, and the entry
 * body, which must describe the very signature, certificate or key, and
 * payload being verified (the SET and the proof authenticate only the
 * body). */
#include "sigstore_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- SET ------------------------------------------------------------------ */

/* The SET signs the RFC 8785 (JCS) form of {body, integratedTime, logID,
 * logIndex}; base64 and hex need no escaping and the keys are already in
 * JCS order, so printf produces the canonical bytes. The body is
 * re-encoded from its bytes: the bundle may have spelled it differently. */
static int check_set(const struct sg_log *log, const struct sg_entry *e, const char *where,
		     struct md_err *err)
{
	char logid[2 * SG_KEYID_MAX + 1], when[32];
	char *body = md_sigstore__b64_encode(e->body, e->body_len), *canon;
	int ok;

	if (!body)
		return SG_UNDECIDED;
	md_sigstore__hex(e->log_id, e->log_id_len, logid);
	canon = md_asprintf("{\"body\":\"%s\",\"integratedTime\":%" PRId64
			    ",\"logID\":\"%s\",\"logIndex\":%" PRId64 "}",
			    body, e->integrated_time, logid, e->log_index);
	free(body);
	if (!canon)
		return SG_UNDECIDED;
	ok = md_sigstore__verify_sha256(log->key, canon, strlen(canon), e->set, e->set_len);
	free(canon);
	if (!ok) {
		md_err_set(err, "%s: the signed entry timestamp does not verify with the key of "
				"log %s", where, log->base_url);
		return SG_REFUSE;
	}
	if (!md_sigstore__range_has(&log->valid, e->integrated_time)) {
		md_sigstore__fmt_time(e->integrated_time, when, sizeof(when));
		md_err_set(err, "%s: log %s's key was not valid at the integrated time %s", where,
			   log->base_url, when);
		return SG_REFUSE;
	}
	return SG_OK;
}

/* ---- Merkle inclusion (RFC 9162 §2.1.3.2) ---------------------------------- */

static void node_hash(const unsigned char *l, const unsigned char *r, unsigned char out[32])
{
	unsigned char buf[65];

	buf[0] = 1;
	memcpy(buf + 1, l, 32);
	memcpy(buf + 33, r, 32);
	md_sigstore__sha256(buf, sizeof(buf), out);
}

int md_sigstore__merkle_verify(const unsigned char leaf_hash[32], int64_t index, int64_t size,
			       const unsigned char *hashes, size_t n,
			       const unsigned char root[32])
{
	uint64_t fn, sn;
	unsigned char r[32];

	if (index < 0 || size <= 0 || index >= size)
		return 0;
	fn = (uint64_t)index;
	sn = (uint64_t)size - 1;
	memcpy(r, leaf_hash, 32);
	for (size_t i = 0; i < n; i++) {
		const unsigned char *p = hashes + 32 * i;

		if (sn == 0)
			return 0;
		if ((fn & 1) || fn == sn) {
			node_hash(p, r, r);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			node_hash(r, p, r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && !memcmp(r, root, 32);
}

/* ---- checkpoint (signed note) ---------------------------------------------- */

/* A signed note: body lines, a blank line, then "— <name> <base64(hint[4] ‖
 * signature)>" lines. The body (with its final newline) is what is signed. */
struct note {
	const char *text;
	size_t body_len;
	char origin[256];
	int64_t size;
	unsigned char root[32];
};

static int note_line(const char **p, const char *end, char *out, size_t outlen)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n;

	if (!nl)
		return -1;
	n = (size_t)(nl - *p);
	if (n >= outlen)
		return -1;
	memcpy(out, *p, n);
	out[n] = 0;
	*p = nl + 1;
	return 0;
}

static int note_parse(struct note *nt, const char *text, struct md_err *err)
{
	const char *split = NULL, *p = text, *bend;
	char line[512], *endp;
	unsigned char *root = NULL;
	size_t rlen;

	for (const char *q = strstr(text, "\n\n"); q; q = strstr(q + 1, "\n\n"))
		split = q;
	if (!split)
		return md_err_set(err, "the checkpoint has no signature block");
	nt->text = text;
	nt->body_len = (size_t)(split - text) + 1;
	bend = text + nt->body_len;
	if (note_line(&p, bend, nt->origin, sizeof(nt->origin)) < 0 || !nt->origin[0])
		return md_err_set(err, "the checkpoint has no origin line");
	if (note_line(&p, bend, line, sizeof(line)) < 0 || !line[0] || line[0] < '0' ||
	    line[0] > '9')
		return md_err_set(err, "the checkpoint has no tree size line");
	nt->size = strtoll(line, &endp, 10);
	if (*endp || nt->size <= 0)
		return md_err_set(err, "the checkpoint's tree size '%s' is not a number", line);
	if (note_line(&p, bend, line, sizeof(line)) < 0 ||
	    md_sigstore__b64_decode(line, strlen(line), &root, &rlen) < 0 || rlen != 32) {
		free(root);
		return md_err_set(err, "the checkpoint has no base64 root hash line");
	}
	memcpy(nt->root, root, 32);
	free(root);
	return 0;
}

/* The key name a signature line must carry: the origin up to its first
 * space ("rekor.sigstore.dev - 1193050959916656506" for Rekor v1, the
 * bare host for Rekor v2). */
static void origin_name(const char *origin, char *out, size_t outlen)
{
	size_t n = strcspn(origin, " ");

	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, origin, n);
	out[n] = 0;
}

/* One signature line; 1 when it is the log's and verifies. */
static int note_sig_ok(const struct sg_log *log, const struct note *nt, const char *name,
		       const char *line)
{
	static const char dash[] = "\xe2\x80\x94 "; /* U+2014 EM DASH, space */
	const char *sp;
	unsigned char *raw = NULL;
	size_t rawlen;
	int ok;

	if (strncmp(line, dash, sizeof(dash) - 1))
		return 0;
	line += sizeof(dash) - 1;
	sp = strchr(line, ' ');
	if (!sp || (size_t)(sp - line) != strlen(name) || strncmp(line, name, strlen(name)))
		return 0;
	if (md_sigstore__b64_decode(sp + 1, strlen(sp + 1), &raw, &rawlen) < 0 || rawlen < 5) {
		free(raw);
		return 0;
	}
	/* the key hint: the first four bytes of the log's key id */
	ok = log->key_id_len >= 4 && !memcmp(raw, log->key_id, 4) &&
	     md_sigstore__verify_sha256(log->key, nt->text, nt->body_len, raw + 4, rawlen - 4);
	free(raw);
	return ok;
}

int md_sigstore__check_checkpoint(const struct sg_log *log, const char *text, int64_t tree_size,
				  const unsigned char root[32], struct md_err *err)
{
	struct note nt;
	char name[256], line[1024];
	const char *p, *end;
	int found = 0;

	if (note_parse(&nt, text, err) < 0)
		return SG_REFUSE;
	origin_name(nt.origin, name, sizeof(name));
	/* Witnesses may cosign; only the log's own signature counts, and it must
	 * name the log's host. */
	if (strcmp(name, log->authority)) {
		md_err_set(err, "the checkpoint's origin '%s' is not log %s", nt.origin,
			   log->base_url);
		return SG_REFUSE;
	}
	p = text + nt.body_len + 1;
	end = text + strlen(text);
	while (p < end && !found) {
		if (note_line(&p, end, line, sizeof(line)) < 0)
			break;
		found = note_sig_ok(log, &nt, name, line);
	}
	if (!found) {
		md_err_set(err, "the checkpoint carries no valid signature by log %s",
			   log->base_url);
		return SG_REFUSE;
	}
	if (nt.size != tree_size || memcmp(nt.root, root, 32)) {
		md_err_set(err, "the checkpoint (tree size %" PRId64 ") is not the tree of the "
				"inclusion proof (tree size %" PRId64 ")", nt.size, tree_size);
		return SG_REFUSE;
	}
	return SG_OK;
}

static int check_proof(const struct sg_log *log, const struct sg_entry *e, const char *where,
		       struct md_err *err)
{
	unsigned char leaf[32], *buf = malloc(e->body_len + 1);
	int rc;

	if (!buf)
		return SG_UNDECIDED;
	buf[0] = 0; /* RFC 6962 leaf prefix */
	memcpy(buf + 1, e->body, e->body_len);
	md_sigstore__sha256(buf, e->body_len + 1, leaf);
	free(buf);
	if (!md_sigstore__merkle_verify(leaf, e->proof_index, e->tree_size, e->hashes, e->n_hashes,
					e->root_hash)) {
		md_err_set(err, "%s: the inclusion proof does not lead to its root hash", where);
		return SG_REFUSE;
	}
	rc = md_sigstore__check_checkpoint(log, e->checkpoint, e->tree_size, e->root_hash, err);
	if (rc != SG_OK)
		md_err_prefix(err, "%s", where);
	return rc;
}

/* ---- body --------------------------------------------------------------- */

/* A base64 field equal to the given bytes. */
static int b64_equals(const char *s, const unsigned char *want, size_t wlen)
{
	unsigned char *d = NULL;
	size_t dl;
	int eq;

	if (!s || md_sigstore__b64_decode(s, strlen(s), &d, &dl) < 0)
		return 0;
	eq = dl == wlen && !memcmp(d, want, wlen);
	free(d);
	return eq;
}

static int hex_equals(const char *s, const unsigned char *want)
{
	unsigned char d[32];

	return s && md_sigstore__unhex(s, d, 32) == 0 && !memcmp(d, want, 32);
}

/* A base64 PEM (certificate or public key) naming the signer. */
static int pem_b64_is_signer(const char *s, const struct sg_expect *x)
{
	unsigned char *pem = NULL;
	size_t len;
	int ok = 0;

	if (!s || md_sigstore__b64_decode(s, strlen(s), &pem, &len) < 0)
		return 0;
	if (x->leaf) {
		X509 *c = md_sigstore__pem_cert(pem, len);

		ok = c && !X509_cmp(c, x->leaf);
		X509_free(c);
	} else if (x->key && !strstr((char *)pem, "CERTIFICATE")) {
		EVP_PKEY *k = md_sigstore__pem_key(pem, len);

		ok = k && EVP_PKEY_eq(k, x->key) == 1;
		EVP_PKEY_free(k);
	}
	free(pem);
	return ok;
}

/* Rekor v2's verifier: {x509Certificate: {rawBytes}} or {publicKey: {rawBytes}}. */
static int v2_verifier_is_signer(json_t *v, const struct sg_expect *x)
{
	json_t *c = json_object_get(v, "x509Certificate"), *k = json_object_get(v, "publicKey");
	unsigned char *der = NULL;
	size_t len;
	int ok = 0;

	if (x->leaf && json_is_object(c) && md_sigstore__json_b64(c, "rawBytes", &der, &len) == 1) {
		X509 *cert = md_sigstore__der_cert(der, len);

		ok = cert && !X509_cmp(cert, x->leaf);
		X509_free(cert);
	} else if (x->key && json_is_object(k) &&
		   md_sigstore__json_b64(k, "rawBytes", &der, &len) == 1) {
		const unsigned char *p = der;
		EVP_PKEY *key = d2i_PUBKEY(NULL, &p, (long)len);

		ok = key && p == der + len && EVP_PKEY_eq(key, x->key) == 1;
		EVP_PKEY_free(key);
	}
	free(der);
	return ok;
}

#define JGET(o, ...) json_path(o, __VA_ARGS__, NULL)

static json_t *json_path(json_t *o, ...) __attribute__((sentinel));
static json_t *json_path(json_t *o, ...)
{
	va_list ap;
	const char *k;

	va_start(ap, o);
	while (o && (k = va_arg(ap, const char *)))
		o = json_is_object(o) ? json_object_get(o, k) : NULL;
	va_end(ap);
	return o;
}

static const char *jstr(json_t *o)
{
	return json_is_string(o) ? json_string_value(o) : NULL;
}

/* hashedrekord 0.0.1: {data: {hash: {algorithm, value}}, signature:
 * {content, publicKey: {content}}}. */
static const char *body_hashedrekord1(json_t *spec, const struct sg_expect *x)
{
	const char *alg = jstr(JGET(spec, "data", "hash", "algorithm"));

	if (x->content != SG_MESSAGE)
		return "a hashedrekord entry cannot record a DSSE envelope";
	if (!alg || strcmp(alg, "sha256") ||
	    !hex_equals(jstr(JGET(spec, "data", "hash", "value")), x->msg_sha256))
		return "the entry's digest is not the signed artifact's";
	if (!b64_equals(jstr(JGET(spec, "signature", "content")), x->sig, x->sig_len))
		return "the entry's signature is not the bundle's";
	if (!pem_b64_is_signer(jstr(JGET(spec, "signature", "publicKey", "content")), x))
		return "the entry's certificate or key is not the signer's";
	return NULL;
}

/* hashedrekord 0.0.2 (Rekor v2): {hashedRekordV002: {data: {algorithm,
 * digest}, signature: {content, verifier}}}; for DSSE the digest is of
 * the PAE. */
static const char *body_hashedrekord2(json_t *spec, const struct sg_expect *x)
{
	json_t *h = json_object_get(spec, "hashedRekordV002");
	const char *alg = jstr(JGET(h, "data", "algorithm"));
	const unsigned char *want = x->content == SG_DSSE ? x->pae_sha256 : x->msg_sha256;

	if (!alg || strcmp(alg, "SHA2_256") || !b64_equals(jstr(JGET(h, "data", "digest")), want, 32))
		return "the entry's digest is not the signed content's";
	if (!b64_equals(jstr(JGET(h, "signature", "content")), x->sig, x->sig_len))
		return "the entry's signature is not the bundle's";
	if (!v2_verifier_is_signer(JGET(h, "signature", "verifier"), x))
		return "the entry's certificate or key is not the signer's";
	return NULL;
}

/* dsse 0.0.1: {payloadHash: {algorithm, value}, signatures: [{signature,
 * verifier}]}; dsse 0.0.2: {dsseV002: {payloadHash: {algorithm, digest},
 * signatures: [{content, verifier}]}}. */
static const char *body_dsse(json_t *spec, const struct sg_expect *x, int v2)
{
	json_t *s = v2 ? json_object_get(spec, "dsseV002") : spec;
	json_t *sigs = json_object_get(s, "signatures"), *v;
	const char *alg = jstr(JGET(s, "payloadHash", "algorithm"));
	size_t i;

	if (x->content != SG_DSSE)
		return "a dsse entry cannot record a message signature";
	if (!alg || strcmp(alg, v2 ? "SHA2_256" : "sha256") ||
	    !(v2 ? b64_equals(jstr(JGET(s, "payloadHash", "digest")), x->payload_sha256, 32)
		 : hex_equals(jstr(JGET(s, "payloadHash", "value")), x->payload_sha256)))
		return "the entry's payload hash is not the envelope's payload";
	json_array_foreach(sigs, i, v) {
		const char *sig = jstr(json_object_get(v, v2 ? "content" : "signature"));

		if (!b64_equals(sig, x->sig, x->sig_len))
			continue;
		if (v2 ? v2_verifier_is_signer(json_object_get(v, "verifier"), x)
		       : pem_b64_is_signer(jstr(json_object_get(v, "verifier")), x))
			return NULL;
		return "the entry's certificate or key is not the signer's";
	}
	return "the entry's signature is not the envelope's";
}

/* intoto 0.0.2: {content: {envelope: {payloadType, signatures: [{sig:
 * b64(b64 sig), publicKey: b64 PEM}]}, payloadHash: {algorithm, value}}}. */
static const char *body_intoto(json_t *spec, const struct sg_expect *x)
{
	json_t *env = JGET(spec, "content", "envelope"), *sigs = json_object_get(env, "signatures"), *v;
	const char *alg = jstr(JGET(spec, "content", "payloadHash", "algorithm"));
	const char *pt = jstr(json_object_get(env, "payloadType"));
	size_t i;

	if (x->content != SG_DSSE)
		return "an intoto entry cannot record a message signature";
	if (!alg || strcmp(alg, "sha256") ||
	    !hex_equals(jstr(JGET(spec, "content", "payloadHash", "value")), x->payload_sha256))
		return "the entry's payload hash is not the envelope's payload";
	if (!pt || strcmp(pt, x->payload_type))
		return "the entry's payload type is not the envelope's";
	json_array_foreach(sigs, i, v) {
		const char *s = jstr(json_object_get(v, "sig"));
		unsigned char *inner = NULL;
		size_t n;
		int same;

		/* the signature is base64 twice */
		if (!s || md_sigstore__b64_decode(s, strlen(s), &inner, &n) < 0)
			continue;
		same = b64_equals((char *)inner, x->sig, x->sig_len);
		free(inner);
		if (!same)
			continue;
		if (pem_b64_is_signer(jstr(json_object_get(v, "publicKey")), x))
			return NULL;
		return "the entry's certificate or key is not the signer's";
	}
	return "the entry's signature is not the envelope's";
}

static int check_body(const struct sg_entry *e, const struct sg_expect *x, const char *where,
		      struct md_err *err)
{
	struct md_err jerr;
	const char *kind, *ver, *why = NULL;
	json_t *j, *spec;

	j = md_sigstore__json_parse((const char *)e->body, e->body_len, "log entry body", &jerr);
	if (!j) {
		md_err_set(err, "%s: %s", where, jerr.msg);
		return SG_REFUSE;
	}
	kind = md_sigstore__json_str(j, "kind");
	ver = md_sigstore__json_str(j, "apiVersion");
	spec = json_object_get(j, "spec");
	if (!kind || !ver || !json_is_object(spec)) {
		why = "the body has no kind, apiVersion or spec";
	} else if (e->kind[0] && (strcmp(kind, e->kind) || strcmp(ver, e->version))) {
		md_err_set(err, "%s: kindVersion %s/%s does not match the body's %s/%s", where,
			   e->kind, e->version, kind, ver);
		json_decref(j);
		return SG_REFUSE;
	} else if (!strcmp(kind, "hashedrekord") && !strcmp(ver, "0.0.1")) {
		why = body_hashedrekord1(spec, x);
	} else if (!strcmp(kind, "hashedrekord") && !strcmp(ver, "0.0.2")) {
		why = body_hashedrekord2(spec, x);
	} else if (!strcmp(kind, "dsse") && (!strcmp(ver, "0.0.1") || !strcmp(ver, "0.0.2"))) {
		why = body_dsse(spec, x, !strcmp(ver, "0.0.2"));
	} else if (!strcmp(kind, "intoto") && !strcmp(ver, "0.0.2")) {
		why = body_intoto(spec, x);
	} else {
		md_err_set(err, "%s: log entries of kind %s %s are not supported", where, kind, ver);
		json_decref(j);
		return SG_REFUSE;
	}
	if (why)
		md_err_set(err, "%s (%s %s): %s", where, kind ? kind : "?", ver ? ver : "?", why);
	json_decref(j);
	return why ? SG_REFUSE : SG_OK;
}

int md_sigstore__check_entry(const struct sg_log *log, const struct sg_entry *e,
			     const struct sg_expect *x, int64_t *set_time, struct md_err *err)
{
	char where[128];
	int rc;

	snprintf(where, sizeof(where), "log entry %" PRId64 " of %s", e->log_index,
		 log->base_url);
	*set_time = 0;
	if (e->set) {
		rc = check_set(log, e, where, err);
		if (rc != SG_OK)
			return rc;
		*set_time = e->integrated_time;
	}
	if (e->has_proof) {
		rc = check_proof(log, e, where, err);
		if (rc != SG_OK)
			return rc;
	}
	if (!e->set && !e->has_proof) {
		md_err_set(err, "%s: neither a signed entry timestamp nor an inclusion proof", where);
		return SG_REFUSE;
	}
	return check_body(e, x, where, err);
}

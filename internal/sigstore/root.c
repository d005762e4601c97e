/* The Sigstore trusted root (`trusted_root.json`): protobuf JSON of
 * TrustedRoot — tlogs, certificateAuthorities, ctlogs, timestampAuthorities. */
#include "sigstore_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void log_clear(struct sg_log *l)
{
	free(l->base_url);
	free(l->authority);
	EVP_PKEY_free(l->key);
}

static void ca_clear(struct sg_ca *c)
{
	sk_X509_pop_free(c->chain, X509_free);
}

void md_sigstore_root_free(struct md_sigstore_root *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_tlogs; i++)
		log_clear(&r->tlogs[i]);
	for (size_t i = 0; i < r->n_ctlogs; i++)
		log_clear(&r->ctlogs[i]);
	for (size_t i = 0; i < r->n_cas; i++)
		ca_clear(&r->cas[i]);
	for (size_t i = 0; i < r->n_tsas; i++)
		ca_clear(&r->tsas[i]);
	free(r->tlogs);
	free(r->ctlogs);
	free(r->cas);
	free(r->tsas);
	free(r);
}

/* "https://host:port/path" → "host:port". */
static char *url_authority(const char *url)
{
	const char *p = strstr(url, "://"), *end;

	p = p ? p + 3 : url;
	end = p + strcspn(p, "/?#");
	return md_strndup(p, (size_t)(end - p));
}

/* validFor {start, end}; start is required where `need_start`. */
static int parse_range(json_t *o, struct sg_range *r, int need_start, const char *where,
		       struct md_err *err)
{
	json_t *vf = json_object_get(o, "validFor");
	const char *s;

	memset(r, 0, sizeof(*r));
	if (vf && !json_is_object(vf))
		return md_err_set(err, "%s: validFor is not an object", where);
	s = vf ? md_sigstore__json_str(vf, "start") : NULL;
	if (s) {
		if (md_sigstore__time_ms(s, &r->start) < 0)
			return md_err_set(err, "%s: validFor.start '%s' is not an RFC 3339 time",
					  where, s);
		r->has_start = 1;
	} else if (need_start || (vf && json_object_get(vf, "start"))) {
		/* A missing bound is not "forever": the trust root is malformed. */
		return md_err_set(err, "%s: validFor.start is missing", where);
	}
	s = vf ? md_sigstore__json_str(vf, "end") : NULL;
	if (s) {
		if (md_sigstore__time_ms(s, &r->end) < 0)
			return md_err_set(err, "%s: validFor.end '%s' is not an RFC 3339 time",
					  where, s);
		r->has_end = 1;
	} else if (vf && json_object_get(vf, "end") && !json_is_null(json_object_get(vf, "end"))) {
		return md_err_set(err, "%s: validFor.end is not a string", where);
	}
	return 0;
}

static int parse_log(json_t *o, struct sg_log *l, const char *where, struct md_err *err)
{
	json_t *pk = json_object_get(o, "publicKey"), *lid = json_object_get(o, "logId");
	const char *url = md_sigstore__json_str(o, "baseUrl");
	const char *alg = md_sigstore__json_str(o, "hashAlgorithm");
	const char *details = json_is_object(pk) ? md_sigstore__json_str(pk, "keyDetails") : NULL;
	unsigned char *raw = NULL, *id = NULL;
	const unsigned char *p;
	size_t rawlen, idlen;
	char why[128], pkwhere[300];

	if (!json_is_object(o))
		return md_err_set(err, "%s: not an object", where);
	if (alg && strcmp(alg, "SHA2_256"))
		return md_err_set(err, "%s: hashAlgorithm %s is not supported (SHA2_256 only)",
				  where, alg);
	l->base_url = md_strdup(url ? url : "");
	l->authority = url_authority(url ? url : "");
	if (!l->base_url || !l->authority)
		return md_err_set(err, "out of memory");
	if (!json_is_object(pk) || md_sigstore__json_b64(pk, "rawBytes", &raw, &rawlen) != 1)
		return md_err_set(err, "%s: publicKey.rawBytes is missing or not base64", where);
	p = raw;
	/* PKCS1_* key details carry a bare PKCS#1 RSAPublicKey, the others a
	 * SubjectPublicKeyInfo. */
	if (details && md_str_has_prefix(details, "PKCS1_"))
		l->key = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)rawlen);
	else
		l->key = d2i_PUBKEY(NULL, &p, (long)rawlen);
	if (!l->key || p != raw + rawlen) {
		free(raw);
		return md_err_set(err, "%s: publicKey.rawBytes is not a DER public key", where);
	}
	free(raw);
	if (!md_sigstore__key_ok(l->key, why, sizeof(why)))
		return md_err_set(err, "%s: publicKey is %s", where, why);
	snprintf(pkwhere, sizeof(pkwhere), "%s: publicKey", where);
	if (parse_range(pk, &l->valid, 1, pkwhere, err) < 0)
		return -1;
	if (!json_is_object(lid) || md_sigstore__json_b64(lid, "keyId", &id, &idlen) != 1 ||
	    !idlen || idlen > SG_KEYID_MAX) {
		free(id);
		return md_err_set(err, "%s: logId.keyId is missing or not base64", where);
	}
	memcpy(l->key_id, id, idlen);
	l->key_id_len = idlen;
	free(id);
	return 0;
}

static int parse_ca(json_t *o, struct sg_ca *c, const char *where, struct md_err *err)
{
	json_t *cc = json_object_get(o, "certChain");
	json_t *certs = json_is_object(cc) ? json_object_get(cc, "certificates") : NULL;
	size_t i;
	json_t *v;

	if (!json_is_object(o))
		return md_err_set(err, "%s: not an object", where);
	if (!json_is_array(certs) || !json_array_size(certs))
		return md_err_set(err, "%s: certChain.certificates is missing or empty", where);
	if (json_array_size(certs) > SG_MAX_CHAIN)
		return md_err_set(err, "%s: more than %d certificates", where, SG_MAX_CHAIN);
	c->chain = sk_X509_new_null();
	if (!c->chain)
		return md_err_set(err, "out of memory");
	json_array_foreach(certs, i, v) {
		X509 *x = md_sigstore__json_cert(v, where, i, err);

		if (!x)
			return -1;
		if (!sk_X509_push(c->chain, x)) {
			X509_free(x);
			return md_err_set(err, "out of memory");
		}
	}
	return parse_range(o, &c->valid, 0, where, err);
}

/* One list of the root: `what` names it in errors. */
static int parse_list(json_t *j, const char *what, int is_log, void **arr, size_t *n,
		      const char *name, struct md_err *err)
{
	json_t *a = json_object_get(j, what), *v;
	size_t i, sz = is_log ? sizeof(struct sg_log) : sizeof(struct sg_ca);
	char where[256];

	if (!a || json_is_null(a))
		return 0;
	if (!json_is_array(a))
		return md_err_set(err, "%s: %s is not a list", name, what);
	if (json_array_size(a) > SG_MAX_LOGS)
		return md_err_set(err, "%s: %s has more than %d entries", name, what, SG_MAX_LOGS);
	if (!json_array_size(a))
		return 0;
	*arr = calloc(json_array_size(a), sz);
	if (!*arr)
		return md_err_set(err, "out of memory");
	json_array_foreach(a, i, v) {
		int rc;

		snprintf(where, sizeof(where), "%s: %s[%zu]", name, what, i);
		(*n)++;
		rc = is_log ? parse_log(v, (struct sg_log *)*arr + i, where, err)
			    : parse_ca(v, (struct sg_ca *)*arr + i, where, err);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int md_sigstore_root_parse(struct md_sigstore_root **out, const char *name, const char *data,
			   size_t len, struct md_err *err)
{
	struct md_sigstore_root *r;
	const char *mt;
	json_t *j;

	*out = NULL;
	j = md_sigstore__json_parse(data, len, name, err);
	if (!j)
		return -1;
	mt = md_sigstore__json_str(j, "mediaType");
	if (!mt || !md_str_has_prefix(mt, "application/vnd.dev.sigstore.trustedroot")) {
		md_err_set(err, "%s: mediaType is %s%s%s, not a Sigstore trusted root", name,
			   mt ? "'" : "", mt ? mt : "missing", mt ? "'" : "");
		json_decref(j);
		return -1;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		json_decref(j);
		return md_err_set(err, "out of memory");
	}
	if (parse_list(j, "tlogs", 1, (void **)&r->tlogs, &r->n_tlogs, name, err) < 0 ||
	    parse_list(j, "ctlogs", 1, (void **)&r->ctlogs, &r->n_ctlogs, name, err) < 0 ||
	    parse_list(j, "certificateAuthorities", 0, (void **)&r->cas, &r->n_cas, name, err) < 0 ||
	    parse_list(j, "timestampAuthorities", 0, (void **)&r->tsas, &r->n_tsas, name, err) < 0) {
		json_decref(j);
		md_sigstore_root_free(r);
		return -1;
	}
	json_decref(j);
	*out = r;
	return 0;
}

int md_sigstore_root_load(struct md_sigstore_root **out, const char *path, struct md_err *err)
{
	char *data;
	size_t len;
	int rc;

	*out = NULL;
	if (md_file_read(path, MD_SIGSTORE_MAX_INPUT, &data, &len, err) < 0)
		return md_err_prefix(err, "trusted root");
	rc = md_sigstore_root_parse(out, path, data, len, err);
	free(data);
	return rc;
}

char *md_sigstore_root_cosign_cache(const char *home)
{
	if (!home || !*home)
		return NULL;
	return md_asprintf("%s/.sigstore/root/tuf-repo-cdn.sigstore.dev/targets/trusted_root.json",
			   home);
}

const struct sg_log *md_sigstore__find_tlog(const struct md_sigstore_root *r,
					    const unsigned char *id, size_t len)
{
	for (size_t i = 0; r && i < r->n_tlogs; i++)
		if (r->tlogs[i].key_id_len == len && !memcmp(r->tlogs[i].key_id, id, len))
			return &r->tlogs[i];
	return NULL;
}

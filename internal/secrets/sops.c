/* SOPS decryption: the data key from an age entry, every ENC[...] value
 * (AES-256-GCM, 32-byte IV, the key path as AAD), and the MAC over all
 * leaves, which must match before anything is handed out. */
#include "secrets_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>


struct sops_ctx {
	const char *name;
	struct sec_meta meta;
	struct sec_selectors sel;
	unsigned char key[32];
	EVP_MD_CTX *mac;
	const char *path[SEC_MAX_DEPTH + 2];
	size_t depth;
	struct md_sops_doc *doc;
	struct md_err *err;
};

/* ---- small helpers ---------------------------------------------------------- */

/* "a:b:c" (sep ':') or "a_b_c" (sep '_'), with trailing sep when asked. */
int md_secrets__path_join(char *out, size_t outlen, const char *const *path, size_t n, char sep,
		  int trailing)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(path[i]);

		if (o + l + 2 > outlen)
			return -1;
		memcpy(out + o, path[i], l);
		o += l;
		if (i + 1 < n || trailing)
			out[o++] = sep;
	}
	out[o] = '\0';
	return 0;
}

/* Go's time.Format(RFC3339) of lastmodified: seconds precision, "Z" for a
 * zero offset, other offsets kept as written. */
static int rfc3339_aad(char out[32], const char *s)
{
	int64_t t;
	size_t n = strlen(s), i = 19;

	if (n < 20 || md_time_parse_rfc3339(s, &t, NULL) < 0)
		return -1;
	memcpy(out, s, 19);
	out[10] = 'T';
	if (s[i] == '.')
		while (++i < n && isdigit((unsigned char)s[i]))
			;
	if (i == n)
		return -1;
	if (s[i] == 'Z' || s[i] == 'z' || strcmp(s + i, "+00:00") == 0 ||
	    strcmp(s + i, "-00:00") == 0) {
		strcpy(out + 19, "Z");
		return 0;
	}
	if (n - i != 6)
		return -1;
	memcpy(out + 19, s + i, 6);
	out[25] = '\0';
	return 0;
}

/* ---- ENC[...] values ------------------------------------------------------------- */

static int enc_field(const char **p, const char *end, const char *label, const char **v,
		     size_t *vl)
{
	size_t ll = strlen(label);
	const char *c;

	if ((size_t)(end - *p) < ll || memcmp(*p, label, ll) != 0)
		return -1;
	*p += ll;
	c = memchr(*p, ',', (size_t)(end - *p));
	if (!c)
		c = end;
	*v = *p;
	*vl = (size_t)(c - *p);
	*p = c < end ? c + 1 : c;
	return 0;
}

int md_secrets__enc_parse(struct sec_enc *e, const char *s, size_t n)
{
	const char *p = s, *end = s + n - 1;

	if (n < 16 || memcmp(s, "ENC[AES256_GCM,", 15) != 0 || s[n - 1] != ']')
		return -1;
	p += 15;
	if (enc_field(&p, end, "data:", &e->data, &e->datal) < 0 ||
	    enc_field(&p, end, "iv:", &e->iv, &e->ivl) < 0 ||
	    enc_field(&p, end, "tag:", &e->tag, &e->tagl) < 0 ||
	    enc_field(&p, end, "type:", &e->type, &e->typel) < 0 || p != end)
		return -1;
	return 0;
}

static int enc_type(const struct sec_enc *e, enum sec_type *t)
{
	static const struct {
		const char *s;
		enum sec_type t;
	} types[] = {{"str", SEC_T_STR},    {"int", SEC_T_INT},   {"float", SEC_T_FLOAT},
		     {"bool", SEC_T_BOOL},  {"bytes", SEC_T_BYTES}, {"time", SEC_T_TIME}};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(types[i].s) == e->typel && memcmp(types[i].s, e->type, e->typel) == 0) {
			*t = types[i].t;
			return 0;
		}
	return -1;
}

/* Decrypt e with key and aad into a fresh NUL-terminated buffer. */
int md_secrets__enc_open(char **out, size_t *outlen, const struct sec_enc *e, const unsigned char key[32],
		 const char *aad)
{
	unsigned char iv[64], tag[16], *ct = NULL;
	size_t ivl, tagl, ctl;
	char *pt = NULL;
	int rc = -2;

	if (md_secrets__b64_decode(iv, sizeof(iv), &ivl, e->iv, e->ivl, 1) < 0 || ivl == 0 ||
	    md_secrets__b64_decode(tag, sizeof(tag), &tagl, e->tag, e->tagl, 1) < 0 || tagl != 16)
		return -2;
	ct = malloc(e->datal / 4 * 3 + 3);
	pt = malloc(e->datal / 4 * 3 + 4);
	if (!ct || !pt) {
		rc = -1;
		goto out;
	}
	if (md_secrets__b64_decode(ct, e->datal / 4 * 3 + 3, &ctl, e->data, e->datal, 1) < 0)
		goto out;
	if (md_secrets__gcm_open((unsigned char *)pt, key, iv, ivl, (const unsigned char *)aad,
			 strlen(aad), ct, ctl, tag) < 0) {
		rc = -3;
		goto out;
	}
	pt[ctl] = '\0';
	*out = pt;
	*outlen = ctl;
	pt = NULL;
	rc = 0;
out:
	free(ct);
	if (pt) {
		OPENSSL_cleanse(pt, e->datal / 4 * 3 + 4);
		free(pt);
	}
	return rc;
}

/* ---- typed forms for the MAC ------------------------------------------------------- */

static int parse_go_bool(const char *s, int *v)
{
	static const char *const t[] = {"1", "t", "T", "TRUE", "true", "True", NULL};
	static const char *const f[] = {"0", "f", "F", "FALSE", "false", "False", NULL};

	for (int i = 0; t[i]; i++) {
		if (strcmp(s, t[i]) == 0)
			return *v = 1, 0;
		if (strcmp(s, f[i]) == 0)
			return *v = 0, 0;
	}
	return -1;
}

/* Integers as go-yaml and strconv read them: sign, 0x/0o/0b or leading-0
 * octal, underscores. */
static int parse_int(const char *s, long long *v)
{
	char buf[80], *end;
	size_t o = 0;
	int base = 10;
	const char *p = s;

	if (*p == '+' || *p == '-')
		buf[o++] = *p++;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		base = 16, p += 2;
	else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O'))
		base = 8, p += 2;
	else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
		base = 2, p += 2;
	else if (p[0] == '0' && p[1])
		base = 8, p += 1;
	for (; *p && o < sizeof(buf) - 1; p++)
		if (*p != '_')
			buf[o++] = *p;
	if (*p || o == 0)
		return -1;
	buf[o] = '\0';
	errno = 0;
	*v = strtoll(buf, &end, base);
	return errno || *end || end == buf ? -1 : 0;
}

static int parse_float(const char *s, double *v)
{
	char *end;

	if (strstr(s, "inf") || strstr(s, "Inf") || strstr(s, "INF")) {
		*v = s[0] == '-' ? -1.0 / 0.0 : 1.0 / 0.0;
		return 0;
	}
	if (strstr(s, "nan") || strstr(s, "NaN") || strstr(s, "NAN")) {
		*v = 0.0 / 0.0;
		return 0;
	}
	errno = 0;
	*v = strtod(s, &end);
	return *end || end == s ? -1 : 0;
}

/* The bytes a leaf contributes to the MAC (Go's ToBytes of its value). */
static int mac_bytes(char *tmp, size_t tmplen, const struct sec_node *n, const char **b,
		     size_t *bl)
{
	long long i;
	double d;
	int t;

	*b = n->val;
	*bl = n->vallen;
	switch (n->type) {
	case SEC_T_INT:
		if (parse_int(n->val, &i) < 0)
			return -1;
		snprintf(tmp, tmplen, "%lld", i);
		break;
	case SEC_T_FLOAT:
		if (parse_float(n->val, &d) < 0 || md_secrets__format_float(tmp, tmplen, d) < 0)
			return -1;
		break;
	case SEC_T_BOOL:
		if (parse_go_bool(n->val, &t) < 0)
			return -1;
		snprintf(tmp, tmplen, "%s", t ? "True" : "False");
		break;
	case SEC_T_NULL:
		*bl = 0;
		return 0;
	default:
		return 0;
	}
	*b = tmp;
	*bl = strlen(tmp);
	return 0;
}

/* ---- the walk -------------------------------------------------------------------------- */

static int decrypt_leaf(struct sops_ctx *c, struct sec_node *n, const char *aad,
			const char *where)
{
	struct sec_enc e;
	enum sec_type type;
	char *pt;
	size_t ptl;
	int r;

	if (n->type == SEC_T_NULL || n->vallen == 0)
		return 0; /* SOPS leaves empty values as they are */
	if (n->type != SEC_T_STR || md_secrets__enc_parse(&e, n->val, n->vallen) < 0)
		return md_err_set(c->err, "%s: the value at %s is not encrypted, but the sops "
				  "metadata says it should be", c->name, where);
	if (enc_type(&e, &type) < 0)
		return md_err_set(c->err, "%s: the value at %s has an unknown type", c->name, where);
	r = md_secrets__enc_open(&pt, &ptl, &e, c->key, aad);
	if (r == -1)
		return md_err_set(c->err, "%s: out of memory", c->name);
	if (r == -2)
		return md_err_set(c->err, "%s: the value at %s is a malformed ENC[...] (bad "
				  "base64, IV or tag)", c->name, where);
	if (r < 0)
		return md_err_set(c->err, "%s: cannot decrypt the value at %s: AES-GCM "
				  "authentication failed (tampered value or wrong key path)",
				  c->name, where);
	OPENSSL_cleanse(n->val, n->vallen);
	free(n->val);
	n->val = pt;
	n->vallen = ptl;
	n->type = type;
	n->encrypted = 1;
	return 0;
}

static int visit_leaf(struct sops_ctx *c, struct sec_node *n, int in_list)
{
	char aad[SEC_MAX_PATH + 2], path[SEC_MAX_PATH + 2], where[256], tmp[64];
	int encrypt = md_secrets__should_encrypt(&c->sel, &c->meta, c->path, c->depth);
	const char *b;
	size_t bl;

	if (md_secrets__path_join(aad, sizeof(aad), c->path, c->depth, ':', 1) < 0 ||
	    md_secrets__path_join(path, sizeof(path), c->path, c->depth, ':', 0) < 0)
		return md_err_set(c->err, "%s: a key path is longer than %d bytes", c->name,
				  SEC_MAX_PATH);
	md_secrets__printable(where, sizeof(where), path);
	if (encrypt && decrypt_leaf(c, n, aad, where) < 0)
		return -1;
	if (!c->meta.mac_only_encrypted || encrypt) {
		if (mac_bytes(tmp, sizeof(tmp), n, &b, &bl) < 0)
			return md_err_set(c->err, "%s: the value at %s is not a valid %s", c->name,
					  where, n->type == SEC_T_INT ? "int" :
					  n->type == SEC_T_BOOL ? "bool" : "float");
		if (EVP_DigestUpdate(c->mac, b, bl) <= 0)
			return md_err_set(c->err, "%s: SHA-512 failed", c->name);
		OPENSSL_cleanse(tmp, sizeof(tmp));
	}
	return md_secrets__doc_add_leaf(c->doc, n, path, in_list, c->name, c->err);
}

static int walk(struct sops_ctx *c, struct sec_node *n, int in_list)
{
	for (size_t i = 0; i < n->nkids; i++) {
		struct sec_node *k = n->kids[i];
		int rc;

		if (n->kind == SEC_MAP) {
			if (c->depth >= SEC_MAX_DEPTH + 1)
				return md_err_set(c->err, "%s: nesting deeper than %d levels", c->name,
						  SEC_MAX_DEPTH);
			c->path[c->depth++] = k->key;
		}
		if (k->kind == SEC_SCALAR)
			rc = visit_leaf(c, k, in_list);
		else
			rc = walk(c, k, in_list || k->kind == SEC_LIST);
		if (n->kind == SEC_MAP)
			c->depth--;
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* ---- data key, MAC --------------------------------------------------------------------- */

static int data_key(struct sops_ctx *c, const struct md_age_identities *ids)
{
	char recips[512] = "", tried[512], ename[256];
	size_t o = 0;
	struct md_err e2;

	if (c->meta.nage == 0)
		return md_err_set(c->err, "%s: the file has no age recipients (other key types "
				  "are not supported)", c->name);
	for (size_t i = 0; i < c->meta.nage; i++) {
		const struct sec_age_entry *a = &c->meta.age[i];
		char rb[96];
		const char *r = md_secrets__printable(rb, sizeof(rb),
					      a->recipient ? a->recipient : "(no recipient)");
		char *dk = NULL;
		size_t dkl = 0;
		int rc, w;

		w = snprintf(recips + o, sizeof(recips) - o, "%s%s", o ? ", " : "", r);
		if (w > 0 && (size_t)w < sizeof(recips) - o)
			o += (size_t)w;
		if (!a->enc)
			continue;
		snprintf(ename, sizeof(ename), "%s (age key for %s)", c->name, r);
		rc = md_secrets__age_decrypt(&dk, &dkl, ids, ename, a->enc, strlen(a->enc), &e2);
		if (rc == 0 && dkl == 32) {
			memcpy(c->key, dk, 32);
			md_secrets_free_plain(dk, dkl);
			return 0;
		}
		if (rc == 0) {
			md_secrets_free_plain(dk, dkl);
			return md_err_set(c->err, "%s: the data key for %s is %zu bytes, want 32",
					  c->name, r, dkl);
		}
		if (rc != -2) /* a damaged entry, not just someone else's */
			return md_err_set(c->err, "%s", e2.msg);
	}
	md_secrets__age_identities_describe(ids, tried, sizeof(tried));
	return md_err_set(c->err, "%s: no identity matches the file's age recipients (%s); "
			  "identities tried: %s", c->name, recips, tried);
}

static int check_mac(struct sops_ctx *c)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char h[64];
	char want[129], aad[32], *got = NULL;
	struct sec_enc e;
	unsigned int hl = 0;
	size_t gotl;
	int r, rc = -1;

	if (EVP_DigestFinal_ex(c->mac, h, &hl) <= 0 || hl != 64)
		return md_err_set(c->err, "%s: SHA-512 failed", c->name);
	for (int i = 0; i < 64; i++) {
		want[2 * i] = hex[h[i] >> 4];
		want[2 * i + 1] = hex[h[i] & 15];
	}
	want[128] = '\0';
	if (rfc3339_aad(aad, c->meta.lastmodified) < 0)
		return md_err_set(c->err, "%s: the sops lastmodified is not an RFC 3339 time",
				  c->name);
	if (md_secrets__enc_parse(&e, c->meta.mac, strlen(c->meta.mac)) < 0)
		return md_err_set(c->err, "%s: the sops mac is not an ENC[...] value", c->name);
	r = md_secrets__enc_open(&got, &gotl, &e, c->key, aad);
	if (r == -1)
		return md_err_set(c->err, "%s: out of memory", c->name);
	if (r < 0)
		return md_err_set(c->err, "%s: MAC mismatch: the sops mac does not decrypt "
				  "(tampered mac or lastmodified); refusing to use the file", c->name);
	if (gotl != 128 || CRYPTO_memcmp(got, want, 128) != 0)
		md_err_set(c->err, "%s: MAC mismatch: the file was changed outside sops; refusing "
			   "to use it", c->name);
	else
		rc = 0;
	md_secrets_free_plain(got, gotl);
	return rc;
}

/* ---- entry point ------------------------------------------------------------------------- */

static int parse_store(struct sec_tree *t, const char *name, const char *data, size_t len,
		       enum md_sops_format fmt, struct md_err *err)
{
	switch (fmt) {
	case MD_SOPS_YAML:
		return md_secrets__parse_yaml(t, name, data, len, err);
	case MD_SOPS_DOTENV:
		return md_secrets__parse_dotenv(t, name, data, len, err);
	case MD_SOPS_INI:
		return md_secrets__parse_ini(t, name, data, len, err);
	case MD_SOPS_JSON:
		return md_secrets__parse_json(t, name, data, len, err);
	case MD_SOPS_BINARY:
		if (md_secrets__parse_json(t, name, data, len, err) < 0)
			return -1;
		if (t->root->nkids != 1 || strcmp(t->root->kids[0]->key, "data") != 0 ||
		    t->root->kids[0]->kind != SEC_SCALAR)
			return md_err_set(err, "%s: a SOPS binary file holds exactly one \"data\" "
					  "value", name);
		return 0;
	}
	return md_err_set(err, "%s: unknown SOPS format", name);
}

int md_sops_decrypt(struct md_sops_doc **out, const struct md_age_identities *ids,
		    const char *name, const char *data, size_t len, enum md_sops_format fmt,
		    struct md_err *err)
{
	struct sops_ctx c = {.name = name ? name : "sops file", .err = err};
	struct sec_tree t;
	int rc = -1;

	*out = NULL;
	if (len > MD_SECRETS_MAX_FILE)
		return md_err_set(err, "%s: file is larger than %u bytes", c.name,
				  MD_SECRETS_MAX_FILE);
	if (md_secrets__tree_init(&t, c.name, err) < 0)
		return -1;
	if (parse_store(&t, c.name, data, len, fmt, err) < 0)
		goto out;
	if (!t.has_sops) {
		md_err_set(err, "%s: not a SOPS file (no sops metadata)", c.name);
		goto out;
	}
	if (md_secrets__meta_read(&c.meta, &t, c.name, err) < 0 ||
	    md_secrets__selectors_init(&c.sel, &c.meta, c.name, err) < 0 || data_key(&c, ids) < 0)
		goto out;
	c.mac = EVP_MD_CTX_new();
	if (!c.mac || EVP_DigestInit_ex(c.mac, EVP_sha512(), NULL) <= 0) {
		md_err_set(err, "%s: SHA-512 failed", c.name);
		goto out;
	}
	if (c.meta.mac_only_encrypted) {
		unsigned char sops_hash[32];
		unsigned int l = 0;

		/* MACOnlyEncryptedInitialization: sha256("sops") first. */
		if (EVP_Digest("sops", 4, sops_hash, &l, EVP_sha256(), NULL) <= 0 ||
		    EVP_DigestUpdate(c.mac, sops_hash, 32) <= 0) {
			md_err_set(err, "%s: SHA-512 failed", c.name);
			goto out;
		}
	}
	if (md_secrets__doc_new(&c.doc, fmt, c.name, err) < 0 || walk(&c, t.root, 0) < 0 ||
	    check_mac(&c) < 0)
		goto out;
	if (md_secrets__doc_finish(c.doc, &t.root, c.name, err) < 0)
		goto out;
	*out = c.doc;
	c.doc = NULL;
	rc = 0;
out:
	md_sops_doc_free(c.doc);
	EVP_MD_CTX_free(c.mac);
	md_secrets__selectors_free(&c.sel);
	OPENSSL_cleanse(c.key, sizeof(c.key));
	md_secrets__tree_free(&t);
	return rc;
}

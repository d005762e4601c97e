/* The requirement: the key, or the keyless identity and OIDC issuer, a
 * signature must carry. Regexps are PCRE2, anchored at both ends (cosign's
 * are unanchored RE2, which lets `github.com/org/` match any repository
 * that merely contains it). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "sigstore_int.h"

#include <ctype.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#define GITHUB_ISSUER "https://token.actions.githubusercontent.com"

struct md_sigstore_req {
	EVP_PKEY *key;
	int tlog_optional;
	char *identity, *issuer;           /* exact */
	pcre2_code *identity_re, *issuer_re;
	char *github_prefix;               /* "https://github.com/owner/repo/" */
	char *github_ref;
	char *want_id, *want_iss; /* for messages */
	char *describe;
};

void md_sigstore_req_free(struct md_sigstore_req *q)
{
	if (!q)
		return;
	EVP_PKEY_free(q->key);
	free(q->identity);
	free(q->issuer);
	pcre2_code_free(q->identity_re);
	pcre2_code_free(q->issuer_re);
	free(q->github_prefix);
	free(q->github_ref);
	free(q->want_id);
	free(q->want_iss);
	free(q->describe);
	free(q);
}

static pcre2_code *compile(const char *field, const char *re, struct md_err *err)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	int code;
	pcre2_code *c = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED,
				      PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_UTF, &code, &off,
				      NULL);

	if (!c) {
		pcre2_get_error_message(code, msg, sizeof(msg));
		md_err_set(err, "%s '%s' is not a valid regular expression at offset %zu: %s", field,
			   re, (size_t)off, (char *)msg);
	}
	return c;
}

static int re_match(const pcre2_code *re, const char *s)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	int rc;

	if (!md)
		return 0;
	rc = pcre2_match(re, (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL);
	pcre2_match_data_free(md);
	return rc >= 0;
}

/* GitHub owner and repository names: letters, digits, '-', '_', '.'. */
static int github_name_ok(const char *s, size_t n)
{
	if (!n || (n == 1 && s[0] == '.') || (n == 2 && !strncmp(s, "..", 2)))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-_.", s[i]))
			return 0;
	return 1;
}

static int load_key(struct md_sigstore_req *q, const struct md_sigstore_req_spec *sp,
		    struct md_err *err)
{
	const char *what = sp->key_path ? sp->key_path : "key";
	char *data = NULL, why[128];
	size_t len = sp->key_pem_len;

	if (sp->key_path) {
		if (md_file_read(sp->key_path, MD_SIGSTORE_MAX_INPUT, &data, &len, err) < 0)
			return md_err_prefix(err, "key");
	}
	q->key = md_sigstore__pem_key(data ? data : sp->key_pem, len);
	free(data);
	ERR_clear_error();
	if (!q->key)
		return md_err_set(err, "%s is not a PEM public key", what);
	if (!md_sigstore__key_ok(q->key, why, sizeof(why)))
		return md_err_set(err, "%s is %s", what, why);
	return 0;
}

static int set_github(struct md_sigstore_req *q, const struct md_sigstore_req_spec *sp,
		      struct md_err *err)
{
	const char *slash = strchr(sp->github, '/');

	if (!slash || strchr(slash + 1, '/') ||
	    !github_name_ok(sp->github, (size_t)(slash - sp->github)) ||
	    !github_name_ok(slash + 1, strlen(slash + 1)))
		return md_err_set(err, "github '%s' is not owner/repo", sp->github);
	if (sp->github_ref && (!md_str_has_prefix(sp->github_ref, "refs/") ||
			       strlen(sp->github_ref) < 6 || strpbrk(sp->github_ref, " @\n")))
		return md_err_set(err, "ref '%s' is not a full Git ref (refs/heads/main, "
				       "refs/tags/v1.2.3)", sp->github_ref);
	q->github_prefix = md_asprintf("https://github.com/%s/", sp->github);
	q->issuer = md_strdup(GITHUB_ISSUER);
	if (sp->github_ref)
		q->github_ref = md_strdup(sp->github_ref);
	if (!q->github_prefix || !q->issuer || (sp->github_ref && !q->github_ref))
		return md_err_set(err, "out of memory");
	return 0;
}

static int set_keyless(struct md_sigstore_req *q, const struct md_sigstore_req_spec *sp,
		       struct md_err *err)
{
	if (sp->github)
		return set_github(q, sp, err);
	if (!sp->identity == !sp->identity_regexp)
		return md_err_set(err, "keyless verification needs exactly one of identity and "
				       "identityRegexp");
	if (!sp->issuer == !sp->issuer_regexp)
		return md_err_set(err, "keyless verification needs exactly one of issuer and "
				       "issuerRegexp");
	if (sp->identity && !(q->identity = md_strdup(sp->identity)))
		return md_err_set(err, "out of memory");
	if (sp->issuer && !(q->issuer = md_strdup(sp->issuer)))
		return md_err_set(err, "out of memory");
	if (sp->identity_regexp &&
	    !(q->identity_re = compile("identityRegexp", sp->identity_regexp, err)))
		return -1;
	if (sp->issuer_regexp && !(q->issuer_re = compile("issuerRegexp", sp->issuer_regexp, err)))
		return -1;
	return 0;
}

/* The canonical description (a cache key: exact and regexp spellings of
 * the same text must differ) and the wanted values for messages. */
static int describe(struct md_sigstore_req *q, const struct md_sigstore_req_spec *sp)
{
	unsigned char *spki, h[32];
	char hex[65];
	size_t n;

	if (q->key) {
		if (md_sigstore__spki(q->key, &spki, &n) < 0)
			return -1;
		md_sigstore__sha256(spki, n, h);
		OPENSSL_free(spki);
		md_sigstore__hex(h, 32, hex);
		q->describe = md_asprintf("key=sha256:%s%s", hex, q->tlog_optional ? " tlog=false" : "");
		return q->describe ? 0 : -1;
	}
	if (sp->github) {
		q->describe = md_asprintf("github=%s%s%s", sp->github, sp->github_ref ? " ref=" : "",
					  sp->github_ref ? sp->github_ref : "");
		q->want_id = md_asprintf("%s<workflow>@%s", q->github_prefix,
					 sp->github_ref ? sp->github_ref : "<any ref>");
	} else {
		q->describe = md_asprintf("%s=%s %s=%s", sp->identity ? "identity" : "identityRegexp",
					  sp->identity ? sp->identity : sp->identity_regexp,
					  sp->issuer ? "issuer" : "issuerRegexp",
					  sp->issuer ? sp->issuer : sp->issuer_regexp);
		q->want_id = sp->identity ? md_strdup(sp->identity)
					  : md_asprintf("matching %s", sp->identity_regexp);
	}
	q->want_iss = q->issuer ? md_strdup(q->issuer) : md_asprintf("matching %s", sp->issuer_regexp);
	return q->describe && q->want_id && q->want_iss ? 0 : -1;
}

int md_sigstore_req_new(struct md_sigstore_req **out, const struct md_sigstore_req_spec *sp,
			struct md_err *err)
{
	int has_key = sp->key_path || sp->key_pem;
	int has_id = sp->identity || sp->identity_regexp || sp->issuer || sp->issuer_regexp;
	struct md_sigstore_req *q;
	int rc;

	*out = NULL;
	if (has_key && (has_id || sp->github))
		return md_err_set(err, "a key and a keyless identity are exclusive");
	if (sp->github && has_id)
		return md_err_set(err, "github replaces identity and issuer; give one or the other");
	if (sp->github_ref && !sp->github)
		return md_err_set(err, "ref needs github");
	if (!has_key && !has_id && !sp->github)
		return md_err_set(err, "give a key, or an identity and an issuer, or github");
	if (sp->tlog_optional && !has_key)
		return md_err_set(err, "tlog: false is only for key-based signatures (a keyless "
				       "certificate is trusted only through its log entry)");
	q = calloc(1, sizeof(*q));
	if (!q)
		return md_err_set(err, "out of memory");
	q->tlog_optional = sp->tlog_optional;
	rc = has_key ? load_key(q, sp, err) : set_keyless(q, sp, err);
	if (rc == 0 && describe(q, sp) < 0)
		rc = md_err_set(err, "out of memory");
	if (rc < 0) {
		md_sigstore_req_free(q);
		return -1;
	}
	*out = q;
	return 0;
}

const char *md_sigstore_req_describe(const struct md_sigstore_req *q)
{
	return q->describe;
}

int md_sigstore_req_is_keyless(const struct md_sigstore_req *q)
{
	return !q->key;
}

EVP_PKEY *md_sigstore__req_key(const struct md_sigstore_req *q)
{
	return q->key;
}

int md_sigstore__req_tlog_optional(const struct md_sigstore_req *q)
{
	return q->tlog_optional;
}

int md_sigstore__req_match_identity(const struct md_sigstore_req *q, const char *san)
{
	if (q->github_prefix) {
		const char *rest = san + strlen(q->github_prefix), *at;

		if (!md_str_has_prefix(san, q->github_prefix))
			return 0;
		/* "<workflow path>@<ref>": any workflow; the ref when asked */
		at = strrchr(rest, '@');
		if (!at || at == rest)
			return 0;
		return !q->github_ref || !strcmp(at + 1, q->github_ref);
	}
	if (q->identity)
		return !strcmp(san, q->identity);
	return q->identity_re && re_match(q->identity_re, san);
}

int md_sigstore__req_match_issuer(const struct md_sigstore_req *q, const char *iss)
{
	if (q->issuer)
		return !strcmp(iss, q->issuer);
	return q->issuer_re && re_match(q->issuer_re, iss);
}

const char *md_sigstore__req_want_identity(const struct md_sigstore_req *q)
{
	return q->want_id ? q->want_id : "";
}

const char *md_sigstore__req_want_issuer(const struct md_sigstore_req *q)
{
	return q->want_iss ? q->want_iss : "";
}

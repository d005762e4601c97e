/* github — the client: options, the App's private key, the RS256 JWT,
 * encoders and stats. HTTP is in http.c, tokens in token.c. */
#include "github_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/pem.h>

int64_t md_github__now(const struct md_github *gh)
{
	return gh->now ? gh->now(gh->now_ctx) : md_time_now();
}

/* ---- encoders ----------------------------------------------------------------- */

char *md_github__b64(const void *data, size_t len, int url)
{
	static const char std[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static const char safe[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	const char *tab = url ? safe : std;
	const unsigned char *p = data;
	char *out, *o;
	size_t i;

	if (len > (SIZE_MAX - 4) / 4 * 3)
		return NULL;
	out = malloc((len + 2) / 3 * 4 + 1);
	if (!out)
		return NULL;
	o = out;
	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		*o++ = tab[v >> 18 & 63];
		*o++ = tab[v >> 12 & 63];
		*o++ = tab[v >> 6 & 63];
		*o++ = tab[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);

		*o++ = tab[v >> 18 & 63];
		*o++ = tab[v >> 12 & 63];
		if (i + 1 < len)
			*o++ = tab[v >> 6 & 63];
		else if (!url)
			*o++ = '=';
		if (!url)
			*o++ = '=';
	}
	*o = '\0';
	return out;
}

char *md_github__pct(const char *s, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	struct md_buf b;

	md_buf_init(&b, strlen(s) * 3 + 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char enc[3] = { '%', hex[*p >> 4], hex[*p & 15] };
		int plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			    (*p >= '0' && *p <= '9') || strchr("-._~", *p) ||
			    (keep_slash && *p == '/');

		if (md_buf_append(&b, plain ? (const char *)p : enc, plain ? 1 : 3) < 0) {
			md_buf_clear(&b);
			return NULL;
		}
	}
	return md_buf_steal(&b);
}

int md_github__is_oid(const char *s)
{
	size_t i;

	for (i = 0; i < 40; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[40] == '\0';
}

/* ---- the private key ------------------------------------------------------------ */

/* Never prompt on a terminal for a passphrase: an encrypted key just fails. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

/* Read the key file after checking its mode on the same open descriptor. */
static int read_key_file(const char *path, struct md_buf *pem, struct md_err *err)
{
	char chunk[4096];
	struct stat st;
	ssize_t n;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return md_err_set(err, "cannot open the GitHub App key %s: %s", path,
				  strerror(errno));
	if (fstat(fd, &st) < 0) {
		md_err_set(err, "cannot stat the GitHub App key %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		md_err_set(err, "the GitHub App key %s is not a regular file", path);
		goto out;
	}
	if (st.st_mode & 077) {
		md_err_set(err,
			   "the GitHub App key %s is readable by group or others (mode %04o): "
			   "run `chmod 600 %s`",
			   path, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			md_err_set(err, "cannot read the GitHub App key %s: %s", path,
				   strerror(errno));
			goto out;
		}
		if (md_buf_append(pem, chunk, (size_t)n) < 0) {
			md_err_set(err, "the GitHub App key %s is larger than %u bytes", path,
				   MD_GH_KEY_MAX);
			goto out;
		}
	}
	rc = 0;
out:
	md_memzero(chunk, sizeof(chunk));
	close(fd);
	return rc;
}

static int load_key(struct md_github *gh, const char *path, struct md_err *err)
{
	struct md_buf pem;
	BIO *bio = NULL;
	int rc = -1;

	md_buf_init(&pem, MD_GH_KEY_MAX);
	if (read_key_file(path, &pem, err) < 0)
		goto out;
	bio = BIO_new_mem_buf(pem.data ? pem.data : "", (int)pem.len);
	if (!bio) {
		md_err_set(err, "out of memory loading the GitHub App key %s", path);
		goto out;
	}
	gh->key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	if (!gh->key || EVP_PKEY_get_base_id(gh->key) != EVP_PKEY_RSA) {
		md_err_set(err,
			   "the GitHub App key %s is not an RSA private key (PEM): download a "
			   "private key from the App's settings page",
			   path);
		goto out;
	}
	rc = 0;
out:
	BIO_free(bio);
	if (pem.data)
		md_memzero(pem.data, pem.len);
	md_buf_clear(&pem);
	return rc;
}

/* ---- new / free ------------------------------------------------------------------ */

static int copy_opt(char **dst, const char *src, const char *name, int required,
		    struct md_err *err)
{
	if (!src || !*src) {
		if (required)
			return md_err_set(err, "the GitHub client needs %s", name);
		return 0;
	}
	*dst = md_strdup(src);
	if (!*dst)
		return md_err_set(err, "out of memory copying the GitHub %s", name);
	return 0;
}

static int copy_opts(struct md_github *gh, const struct md_github_opts *o, struct md_err *err)
{
	size_t n;

	if (copy_opt(&gh->api_url, o->api_url, "an API URL", 1, err) < 0 ||
	    copy_opt(&gh->app_id, o->app_id, "an App id", 1, err) < 0 ||
	    copy_opt(&gh->key_file, o->key_file, "a private key file", 1, err) < 0 ||
	    copy_opt(&gh->user_agent, o->user_agent, "a User-Agent", 1, err) < 0 ||
	    copy_opt(&gh->installation_id, o->installation_id, "installation id", 0, err) < 0 ||
	    copy_opt(&gh->owner, o->owner, "owner", 0, err) < 0 ||
	    copy_opt(&gh->repo, o->repo, "repository", 0, err) < 0 ||
	    copy_opt(&gh->ca_file, o->ca_file, "CA file", 0, err) < 0)
		return -1;
	if (!md_str_has_prefix(gh->api_url, "https://") &&
	    !md_str_has_prefix(gh->api_url, "http://"))
		return md_err_set(err, "the GitHub API URL %s is not an http(s) URL", gh->api_url);
	n = strlen(gh->api_url);
	while (n > 0 && gh->api_url[n - 1] == '/')
		gh->api_url[--n] = '\0';
	if (gh->installation_id) {
		const char *p = gh->installation_id;

		while (*p >= '0' && *p <= '9')
			p++;
		if (*p || p - gh->installation_id > 20)
			return md_err_set(err, "the GitHub installation id '%s' is not a number",
					  gh->installation_id);
	}
	gh->timeout = o->timeout > 0 ? o->timeout : 30;
	gh->now = o->now;
	gh->now_ctx = o->now_ctx;
	return 0;
}

int md_github_new(struct md_github **out, const struct md_github_opts *opts, struct md_err *err)
{
	struct md_github *gh;

	*out = NULL;
	gh = calloc(1, sizeof(*gh));
	if (!gh)
		return md_err_set(err, "out of memory creating the GitHub client");
	gh->st.rate_remaining = -1;
	gh->body_max = MD_GH_BODY_MAX;
	if (copy_opts(gh, opts, err) < 0 || load_key(gh, gh->key_file, err) < 0)
		goto fail;
	gh->curl = curl_easy_init();
	if (!gh->curl) {
		md_err_set(err, "cannot initialise libcurl for %s", gh->api_url);
		goto fail;
	}
	*out = gh;
	return 0;
fail:
	md_github_free(gh);
	return -1;
}

static void free_secret(char **s)
{
	if (*s) {
		md_free_secret(*s, strlen(*s));
		*s = NULL;
	}
}

void md_github_free(struct md_github *gh)
{
	if (!gh)
		return;
	free_secret(&gh->token);
	if (gh->curl)
		curl_easy_cleanup(gh->curl);
	EVP_PKEY_free(gh->key);
	free(gh->api_url);
	free(gh->app_id);
	free(gh->key_file);
	free(gh->installation_id);
	free(gh->owner);
	free(gh->repo);
	free(gh->ca_file);
	free(gh->user_agent);
	free(gh->bot_name);
	free(gh->bot_email);
	free(gh);
}

void md_github_token_invalidate(struct md_github *gh)
{
	free_secret(&gh->token);
	gh->token_exp = 0;
}

int64_t md_github_token_expiry(const struct md_github *gh)
{
	return gh->token ? gh->token_exp : 0;
}

void md_github_stats(const struct md_github *gh, struct md_github_stats *out)
{
	*out = gh->st;
}

/* ---- the App JWT ----------------------------------------------------------------- */

static int sign_rs256(EVP_PKEY *key, const char *input, unsigned char **sig, size_t *siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t cap = 0;
	int rc = -1;

	*sig = NULL;
	if (!ctx || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(ctx, NULL, &cap, (const unsigned char *)input, strlen(input)) != 1)
		goto out;
	*sig = malloc(cap);
	*siglen = cap;
	if (!*sig ||
	    EVP_DigestSign(ctx, *sig, siglen, (const unsigned char *)input, strlen(input)) != 1)
		goto out;
	rc = 0;
out:
	if (rc < 0) {
		md_free_secret(*sig, *sig ? cap : 0);
		*sig = NULL;
	}
	EVP_MD_CTX_free(ctx);
	return rc;
}

int md_github_jwt(struct md_github *gh, int64_t now, char **out, struct md_err *err)
{
	static const char header[] = "{\"alg\":\"RS256\",\"typ\":\"JWT\"}";
	char *h = NULL, *c = NULL, *claims = NULL, *input = NULL, *s = NULL;
	unsigned char *sig = NULL;
	size_t siglen = 0;
	json_t *o;
	int rc = -1;

	*out = NULL;
	/* iat in the past absorbs clock drift; exp stays under GitHub's 10 min. */
	o = json_pack("{s:I, s:I, s:s}", "iat", (json_int_t)(now - 60), "exp",
		      (json_int_t)(now + 540), "iss", gh->app_id);
	claims = o ? md_github__json_text(o) : NULL;
	json_decref(o);
	if (!claims || !(h = md_github__b64(header, strlen(header), 1)) ||
	    !(c = md_github__b64(claims, strlen(claims), 1)) ||
	    !(input = md_asprintf("%s.%s", h, c))) {
		md_err_set(err, "out of memory building the GitHub App JWT");
		goto out;
	}
	if (sign_rs256(gh->key, input, &sig, &siglen) < 0) {
		md_err_set(err, "cannot sign the GitHub App JWT with the key %s", gh->key_file);
		goto out;
	}
	if (!(s = md_github__b64(sig, siglen, 1)) || !(*out = md_asprintf("%s.%s", input, s))) {
		md_err_set(err, "out of memory building the GitHub App JWT");
		goto out;
	}
	rc = 0;
out:
	free(h);
	free(c);
	free(claims);
	free(input);
	/* The signature is what makes the JWT a credential. */
	md_free_secret(sig, siglen);
	md_free_secret(s, s ? strlen(s) : 0);
	return rc;
}

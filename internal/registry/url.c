/* URLs: a domain's base URL (names are checked by the ref module's
 * grammar, magos/ref.h), token endpoint URLs, and relative-URL resolution
 * through curl's URL API (which parses only; it performs no I/O). */
#include "registry_int.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

char *md_registry__base_url(const char *domain, const struct md_strv *insecure)
{
	const char *host = md_ref_domain_api_host(domain);
	int plain = insecure && (md_strv_contains(insecure, domain) ||
				 md_strv_contains(insecure, host));

	return md_asprintf("%s://%s", plain ? "http" : "https", host);
}

char *md_registry__urlencode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct md_buf b;

	md_buf_init(&b, 3 * strlen(s) + 1);
	if (md_buf_puts(&b, "") < 0)
		return NULL;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char enc[3] = { '%', hex[c >> 4], hex[c & 15] };

		if (isalnum(c) || strchr("-._~", c))
			md_buf_append(&b, s, 1);
		else
			md_buf_append(&b, enc, 3);
	}
	return md_buf_steal(&b);
}

char *md_registry__token_url(const char *realm, const char *service, const char *scope)
{
	char *svc = service ? md_registry__urlencode(service) : NULL;
	char *scp = scope ? md_registry__urlencode(scope) : NULL;
	char sep = strchr(realm, '?') ? '&' : '?';
	char *url = NULL;

	if ((service && !svc) || (scope && !scp))
		goto out;
	if (svc && scp)
		url = md_asprintf("%s%cservice=%s&scope=%s", realm, sep, svc, scp);
	else if (svc)
		url = md_asprintf("%s%cservice=%s", realm, sep, svc);
	else if (scp)
		url = md_asprintf("%s%cscope=%s", realm, sep, scp);
	else
		url = md_strdup(realm);
out:
	free(svc);
	free(scp);
	return url;
}

static int http_scheme(CURLU *h)
{
	char *scheme = NULL;
	int ok;

	if (curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
		return 0;
	ok = strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0;
	curl_free(scheme);
	return ok;
}

int md_registry__url_resolve(const char *base, const char *ref, char **out, struct md_err *err)
{
	CURLU *h = curl_url();
	CURLUcode uc;
	char *s = NULL;
	int rc = -1;

	*out = NULL;
	if (!h)
		return md_err_set(err, "out of memory resolving %s", ref);
	if ((uc = curl_url_set(h, CURLUPART_URL, base, 0)) != CURLUE_OK ||
	    (uc = curl_url_set(h, CURLUPART_URL, ref, 0)) != CURLUE_OK) {
		md_err_set(err, "cannot resolve URL \"%.200s\" against %s: %s", ref, base,
			   curl_url_strerror(uc));
		goto out;
	}
	if (!http_scheme(h)) {
		md_err_set(err, "URL \"%.200s\" (from %s) is not http or https", ref, base);
		goto out;
	}
	if (curl_url_get(h, CURLUPART_URL, &s, 0) != CURLUE_OK || !(*out = md_strdup(s))) {
		md_err_set(err, "out of memory resolving %s", ref);
		goto out;
	}
	rc = 0;
out:
	curl_free(s);
	curl_url_cleanup(h);
	return rc;
}

char *md_registry__url_origin(const char *url)
{
	CURLU *h = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *out = NULL;

	if (!h)
		return NULL;
	if (curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
		goto out;
	for (char *c = host; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	for (char *c = scheme; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	out = md_asprintf("%s://%s:%s", scheme, host, port);
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(h);
	return out;
}

/* 1 when host matches entry ("host" or "host:port", as MD_INSECURE_REGISTRIES
 * lists them): a bare host stands for the default port. */
static int listed_as(const char *entry, const char *host, const char *port, int port_given)
{
	size_t n = strlen(host);

	if (strncasecmp(entry, host, n) != 0)
		return 0;
	if (entry[n] == '\0')
		return !port_given || strcmp(port, "80") == 0;
	return entry[n] == ':' && strcmp(entry + n + 1, port) == 0;
}

int md_registry__url_plain_listed(const char *url, const struct md_strv *insecure)
{
	CURLU *h = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *given = NULL;
	int ok = 0;

	if (!h || !insecure)
		goto out;
	if (curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    strcasecmp(scheme, "http") != 0 ||
	    curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
		goto out;
	/* CURLUE_NO_PORT when the URL has none: then a bare listed host matches. */
	curl_url_get(h, CURLUPART_PORT, &given, 0);
	for (size_t i = 0; i < insecure->n && !ok; i++)
		ok = listed_as(insecure->v[i], host, port, given != NULL);
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(given);
	curl_url_cleanup(h);
	return ok;
}

/* JSON access for protobuf-JSON documents (bundles, trusted roots, log
 * entry bodies). */
#include "sigstore_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Duplicate keys are refused: two parsers could read two different
 * documents out of the same bytes. */
json_t *md_sigstore__json_parse(const char *data, size_t len, const char *name,
				struct md_err *err)
{
	json_error_t je;
	json_t *j;

	if (len > MD_SIGSTORE_MAX_INPUT) {
		md_err_set(err, "%s: %zu bytes, more than the %u allowed", name, len,
			   MD_SIGSTORE_MAX_INPUT);
		return NULL;
	}
	j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		md_err_set(err, "%s: invalid JSON at line %d column %d: %s", name, je.line,
			   je.column, je.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		md_err_set(err, "%s: not a JSON object", name);
		return NULL;
	}
	return j;
}

const char *md_sigstore__json_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

int md_sigstore__json_int64(json_t *o, const char *key, int64_t *out)
{
	json_t *v = json_object_get(o, key);
	const char *s;
	char *end;
	long long n;

	if (!v)
		return 0;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 1;
	}
	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	if (!*s || !(*s == '-' || (*s >= '0' && *s <= '9')))
		return -1;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = n;
	return 1;
}

int md_sigstore__json_b64(json_t *o, const char *key, unsigned char **out, size_t *outlen)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	*outlen = 0;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return -1;
	if (md_sigstore__b64_decode(json_string_value(v), json_string_length(v), out, outlen) < 0)
		return -1;
	return 1;
}

X509 *md_sigstore__json_cert(json_t *v, const char *where, size_t i, struct md_err *err)
{
	unsigned char *der = NULL;
	size_t len;
	X509 *x;

	if (!json_is_object(v) || md_sigstore__json_b64(v, "rawBytes", &der, &len) != 1) {
		free(der);
		md_err_set(err, "%s: certificate %zu is missing or not base64", where, i);
		return NULL;
	}
	x = md_sigstore__der_cert(der, len);
	free(der);
	if (!x)
		md_err_set(err, "%s: certificate %zu is not a DER certificate", where, i);
	return x;
}

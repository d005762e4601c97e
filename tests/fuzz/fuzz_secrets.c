/* Fuzz the secrets parsers: every input goes through md_sops_decrypt in
 * each of the five formats and through md_age_decrypt, with the public test
 * identities of the fixtures (so seeds built from them reach the crypto and
 * the MAC). A failure must leave nothing behind and say why in one line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "magos/secrets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The public test identities of ../shared/fixtures/sops/keys.txt and
 * ../shared/fixtures/age/example_keys.txt, whose files `make fuzz-replay`
 * replays beside this corpus (FUZZ_SEEDS_secrets in the Makefile). */
static const char keys[] =
	"AGE-SECRET-KEY-1NJT5YCS2LWU4V4QAJQ6R4JNU7LXPDX602DZ9NUFANVU5GDTGUWCQ5T59M6\n"
	"AGE-SECRET-KEY-1T0Z66WSXS6RMNCPSL7P2E8N4Q7SUD8VMG9ND27S08JL7Y2XAU9EQECHDS7\n"
	"AGE-SECRET-KEY-184JMZMVQH3E6U0PSL869004Y3U2NYV7R30EU99CSEDNPH02YUVFSZW44VU\n";

static void check_err(const struct md_err *err)
{
	if (err->msg[0] == '\0' || strchr(err->msg, '\n'))
		abort();
}

static void one_format(const struct md_age_identities *ids, const char *s, size_t n,
		       enum md_sops_format fmt)
{
	struct md_sops_doc *d = NULL;
	struct md_err err = {{0}};
	const char *p, *v, *plain;
	size_t len, envlen;
	char *env;

	if (md_sops_decrypt(&d, ids, "fuzz", s, n, fmt, &err) < 0) {
		if (d)
			abort();
		check_err(&err);
		return;
	}
	for (size_t i = 0; i < md_sops_doc_count(d); i++)
		if (md_sops_doc_leaf(d, i, &p, &v) < 0 || !p || !v)
			abort();
	if (md_sops_doc_leaf(d, md_sops_doc_count(d), &p, &v) == 0)
		abort();
	if (md_sops_doc_plain(d, &plain, &len) < 0 || strlen(plain) > len)
		abort();
	if (md_sops_doc_env(d, &env, &envlen, &err) == 0)
		md_secrets_free_plain(env, envlen);
	else
		check_err(&err);
	md_sops_doc_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct md_age_identities *ids;
	struct md_err err = {{0}};
	char *s, *out = NULL;
	size_t outlen = 0;

	if (!ids && (md_age_identities_new(&ids) < 0 ||
		     md_age_identities_add(ids, "keys", keys, strlen(keys), NULL, &err) < 0))
		abort();
	if (size > 1 << 20)
		return 0;
	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	for (int f = MD_SOPS_YAML; f <= MD_SOPS_BINARY; f++) {
		one_format(ids, s, size, (enum md_sops_format)f);
		(void)md_sops_detect(s, size, (enum md_sops_format)f);
	}
	if (md_age_decrypt(&out, &outlen, ids, "fuzz", s, size, &err) == 0)
		md_secrets_free_plain(out, outlen);
	else if (out)
		abort();
	else
		check_err(&err);
	/* The identity parser too. */
	{
		struct md_age_identities *tmp;

		if (md_age_identities_new(&tmp) == 0) {
			(void)md_age_identities_add(tmp, "keys", s, size, NULL, &err);
			md_age_identities_free(tmp);
		}
	}
	free(s);
	return 0;
}

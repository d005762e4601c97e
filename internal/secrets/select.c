/* Which leaves a SOPS file encrypted, decided as sops does: the selectors
 * are applied in turn (unencrypted_suffix, encrypted_suffix,
 * unencrypted_regex, encrypted_regex) over every key on the leaf's path.
 * Decryption must follow the metadata, not the look of a value: with
 * mac_only_encrypted an attacker could otherwise swap an ENC[...] for a
 * plain value outside the MAC. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "secrets_int.h"

#include <string.h>

#include <pcre2.h>

static int compile(void **out, const char *re, const char *what, const char *name,
		   struct md_err *err)
{
	int ec;
	PCRE2_SIZE off;

	*out = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &ec, &off, NULL);
	if (!*out)
		return md_err_set(err, "%s: the sops %s is not a valid regular expression (at "
				  "offset %zu)", name, what, (size_t)off);
	return 0;
}

int md_secrets__selectors_init(struct sec_selectors *s, const struct sec_meta *m, const char *name,
		       struct md_err *err)
{
	memset(s, 0, sizeof(*s));
	if (m->unencrypted_regex && *m->unencrypted_regex &&
	    compile(&s->unenc_re, m->unencrypted_regex, "unencrypted_regex", name, err) < 0)
		return -1;
	if (m->encrypted_regex && *m->encrypted_regex &&
	    compile(&s->enc_re, m->encrypted_regex, "encrypted_regex", name, err) < 0)
		return -1;
	if (s->unenc_re || s->enc_re) {
		s->md = pcre2_match_data_create(4, NULL);
		if (!s->md)
			return md_err_set(err, "%s: out of memory", name);
	}
	return 0;
}

static int any_matches(const struct sec_selectors *s, void *re, const char *const *path, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (pcre2_match(re, (PCRE2_SPTR)path[i], strlen(path[i]), 0, 0, s->md, NULL) >= 0)
			return 1;
	return 0;
}

static int any_suffix(const char *suffix, const char *const *path, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (md_str_has_suffix(path[i], suffix))
			return 1;
	return 0;
}

int md_secrets__should_encrypt(const struct sec_selectors *s, const struct sec_meta *m,
		       const char *const *path, size_t n)
{
	int enc = 1;

	if (m->unencrypted_suffix && *m->unencrypted_suffix &&
	    any_suffix(m->unencrypted_suffix, path, n))
		enc = 0;
	if (m->encrypted_suffix && *m->encrypted_suffix)
		enc = any_suffix(m->encrypted_suffix, path, n);
	if (s->unenc_re && any_matches(s, s->unenc_re, path, n))
		enc = 0;
	if (s->enc_re)
		enc = any_matches(s, s->enc_re, path, n);
	return enc;
}

void md_secrets__selectors_free(struct sec_selectors *s)
{
	pcre2_code_free(s->unenc_re);
	pcre2_code_free(s->enc_re);
	pcre2_match_data_free(s->md);
	memset(s, 0, sizeof(*s));
}

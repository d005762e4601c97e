/* The sops metadata, read from its flattened form (what the dotenv and
 * ini stores write, and what tree.c makes of a YAML/JSON "sops" map). */
#include "secrets_int.h"

#include <stdlib.h>
#include <string.h>

/* Undo the dotenv/ini escaping of newlines ("\n" as two characters). */
static void unescape_newlines(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] == 'n') {
			*o++ = '\n';
			s++;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

static int parse_bool(const char *s)
{
	return strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0;
}

/* "age__list_3" or "key_groups__list_0__map_age__list_1": the part before
 * the last "__map_" names one age entry. Returns the entry id length, or 0
 * when key is not an age entry field; *field is what follows. */
static size_t age_entry_id(const char *key, const char **field)
{
	const char *m = NULL, *p = key, *id;
	size_t len;

	while ((p = strstr(p, "__map_")) != NULL)
		m = p++;
	if (!m)
		return 0;
	len = (size_t)(m - key);
	*field = m + 6;
	/* The id must end with "age__list_<digits>", "age" being a whole key. */
	id = m;
	while (id > key && id[-1] >= '0' && id[-1] <= '9')
		id--;
	if (id == m || (size_t)(id - key) < 10 || memcmp(id - 10, "age__list_", 10) != 0)
		return 0;
	id -= 10;
	if (id != key && (id - key < 6 || memcmp(id - 6, "__map_", 6) != 0))
		return 0;
	return len;
}

int md_secrets__meta_read(struct sec_meta *m, struct sec_tree *t, const char *name, struct md_err *err)
{
	/* Per-entry ids, parallel to m->age. */
	const char *ids[32];
	size_t idl[32];

	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < t->nmeta; i++) {
		char *key = t->meta[i].key, *val = t->meta[i].val;
		const char *field = NULL;
		size_t idlen = age_entry_id(key, &field), e;

		if (strcmp(key, "mac") == 0)
			m->mac = val;
		else if (strcmp(key, "lastmodified") == 0)
			m->lastmodified = val;
		else if (strcmp(key, "unencrypted_suffix") == 0)
			m->unencrypted_suffix = val;
		else if (strcmp(key, "encrypted_suffix") == 0)
			m->encrypted_suffix = val;
		else if (strcmp(key, "unencrypted_regex") == 0)
			m->unencrypted_regex = val;
		else if (strcmp(key, "encrypted_regex") == 0)
			m->encrypted_regex = val;
		else if (strcmp(key, "mac_only_encrypted") == 0)
			m->mac_only_encrypted = parse_bool(val);
		else if ((strcmp(key, "unencrypted_comment_regex") == 0 ||
			  strcmp(key, "encrypted_comment_regex") == 0) && *val)
			return md_err_set(err, "%s: sops %s is not supported", name, key);
		if (strncmp(key, "key_groups__list_", 17) == 0) {
			size_t g = strtoul(key + 17, NULL, 10) + 1;

			if (g > m->ngroups)
				m->ngroups = g;
		}
		if (!idlen || (strcmp(field, "recipient") != 0 && strcmp(field, "enc") != 0))
			continue;
		for (e = 0; e < m->nage; e++)
			if (idl[e] == idlen && memcmp(ids[e], key, idlen) == 0)
				break;
		if (e == m->nage) {
			if (m->nage == sizeof(m->age) / sizeof(m->age[0]))
				return md_err_set(err, "%s: more than %zu age entries in the sops "
						  "metadata", name, e);
			ids[e] = key;
			idl[e] = idlen;
			m->nage++;
		}
		if (field[0] == 'e') {
			unescape_newlines(val);
			m->age[e].enc = val;
		} else {
			m->age[e].recipient = val;
		}
	}
	if (m->ngroups > 1)
		return md_err_set(err, "%s: sops key groups (Shamir secret sharing) are not "
				  "supported", name);
	if (!m->mac || !*m->mac)
		return md_err_set(err, "%s: the sops metadata has no mac", name);
	if (!m->lastmodified || !*m->lastmodified)
		return md_err_set(err, "%s: the sops metadata has no lastmodified", name);
	return 0;
}

/* secrets: SOPS files (the sops repository's age-encrypted examples, and
 * documents encrypted here with OpenSSL for the cases they do not cover). */
#include "unit.h"

#include "magos/secrets.h"

#include <stdlib.h>
#include <string.h>

#include "test_secrets_enc.h"

/* The sops repository's examples are third-party data, read where they are:
 * ../shared/fixtures/ from the repository's root, where the tests run (see
 * docs/testing.md). */
#define FIX "../shared/fixtures/sops/"
#define LM "2024-05-01T10:00:00Z"

static char *slurp(const char *path, size_t *len)
{
	struct md_err err;
	char *s;

	if (md_file_read(path, 1 << 24, &s, len, &err) < 0)
		fail_msg("%s", err.msg);
	return s;
}

static struct md_age_identities *fixture_ids(void)
{
	struct md_age_identities *ids;
	struct md_err err;
	size_t len;
	char *s = slurp(FIX "keys.txt", &len);

	assert_int_equal(md_age_identities_new(&ids), 0);
	assert_int_equal(md_age_identities_add(ids, "keys.txt", s, len, NULL, &err), 0);
	free(s);
	return ids;
}

static struct md_sops_doc *decrypt_ok(const struct md_age_identities *ids, const char *name,
				      const char *data, enum md_sops_format fmt)
{
	struct md_sops_doc *d;
	struct md_err err;

	if (md_sops_decrypt(&d, ids, name, data, strlen(data), fmt, &err) < 0)
		fail_msg("%s", err.msg);
	return d;
}

static void decrypt_fails(const struct md_age_identities *ids, const char *data, size_t len,
			  enum md_sops_format fmt, const char *frag1, const char *frag2)
{
	struct md_sops_doc *d = (struct md_sops_doc *)1;
	struct md_err err = {{0}};

	assert_int_equal(md_sops_decrypt(&d, ids, "s.file", data, len, fmt, &err), -1);
	assert_null(d);
	if (!strstr(err.msg, frag1) || (frag2 && !strstr(err.msg, frag2)) || !strstr(err.msg, "s.file"))
		fail_msg("unexpected error: %s", err.msg);
}

static void leaf_is(const struct md_sops_doc *d, size_t i, const char *path, const char *value)
{
	const char *p, *v;

	assert_int_equal(md_sops_doc_leaf(d, i, &p, &v), 0);
	assert_string_equal(p, path);
	assert_string_equal(v, value);
}

static void fixture_file(const char *file, enum md_sops_format fmt, struct md_sops_doc **d)
{
	struct md_age_identities *ids = fixture_ids();
	size_t len;
	char *s = slurp(file, &len);

	assert_int_equal(md_sops_format_for_path(file), fmt);
	assert_int_equal(md_sops_detect(s, len, fmt), 1);
	*d = decrypt_ok(ids, file, s, fmt);
	free(s);
	md_age_identities_free(ids);
}

/* ---- the sops repository's examples ------------------------------------------ */

static void test_fixture_yaml(void **state)
{
	struct md_sops_doc *d;
	const char *plain, *v;
	size_t len;

	(void)state;
	fixture_file(FIX "example.yaml", MD_SOPS_YAML, &d);
	assert_int_equal(md_sops_doc_count(d), 16);
	leaf_is(d, 0, "myapp1", "t00m4nys3cr3tzupdated");
	leaf_is(d, 1, "app2:db:user", "eve");
	leaf_is(d, 2, "app2:db:password", "c4r1b0u");
	assert_int_equal(md_sops_doc_leaf(d, 3, NULL, &v), 0);
	assert_true(md_str_has_prefix(v, "-----BEGIN RSA PRIVATE KEY-----\nMIIBPAIBAAJBAPTMNIyHuZtpLYc7"));
	assert_true(md_str_has_suffix(v, "-----END RSA PRIVATE KEY-----\n"));
	leaf_is(d, 4, "number", "1234568000");
	leaf_is(d, 5, "an_array", "secretuser1");
	leaf_is(d, 8, "an_array", "some other value");
	leaf_is(d, 9, "somebooleans", "True");
	leaf_is(d, 10, "somebooleans", "False");
	leaf_is(d, 11, "this:is:a:nested:value", "with something secret in it");
	leaf_is(d, 12, "somelist_unencrypted", "all elements of this list");
	leaf_is(d, 14, "somelist_unencrypted", "because of the _encrypted suffix in the key");
	leaf_is(d, 15, "nested_unencrypted:this:is:all", "going to remain in clear text");
	assert_int_equal(md_sops_doc_leaf(d, 16, NULL, &v), -1);
	assert_null(v);
	assert_int_equal(md_sops_doc_plain(d, &plain, &len), 0);
	assert_true(md_str_has_prefix(plain, "myapp1: t00m4nys3cr3tzupdated\napp2:\n    db:\n        user: eve\n"));
	assert_non_null(strstr(plain, "somebooleans:\n    - true\n    - false\n"));
	assert_null(strstr(plain, "sops"));
	assert_int_equal(strlen(plain), len);
	md_sops_doc_free(d);
	md_sops_doc_free(NULL);
}

static void test_fixture_json(void **state)
{
	struct md_sops_doc *d;
	const char *plain;
	size_t len;

	(void)state;
	fixture_file(FIX "example.json", MD_SOPS_JSON, &d);
	assert_int_equal(md_sops_doc_count(d), 12);
	leaf_is(d, 0, "firstName", "John");
	leaf_is(d, 1, "lastName", "Smith");
	leaf_is(d, 2, "age", "25.4");
	leaf_is(d, 4, "address:postalCode", "10021-3100");
	leaf_is(d, 6, "address:streetAddress", "21 2nd Street");
	leaf_is(d, 7, "phoneNumbers:number", "212 555-1234");
	leaf_is(d, 10, "phoneNumbers:type", "office");
	leaf_is(d, 11, "anEmptyValue", "");
	assert_int_equal(md_sops_doc_plain(d, &plain, &len), 0);
	assert_true(md_str_has_prefix(plain, "{\n\t\"firstName\": \"John\",\n\t\"lastName\": \"Smith\",\n\t\"age\": 25.4,\n"));
	assert_true(md_str_has_suffix(plain, "\t\"anEmptyValue\": \"\"\n}\n"));
	md_sops_doc_free(d);
}

static void test_fixture_ini(void **state)
{
	struct md_sops_doc *d;
	struct md_err err;
	const char *plain;
	char *env;
	size_t len;

	(void)state;
	fixture_file(FIX "example.ini", MD_SOPS_INI, &d);
	assert_int_equal(md_sops_doc_count(d), 10);
	leaf_is(d, 0, "name:firstName", "John");
	leaf_is(d, 2, "name:age", "25.4");
	leaf_is(d, 3, "address:city", "New York");
	leaf_is(d, 7, "phoneNumbers:home", "212 555-1234");
	leaf_is(d, 8, "phoneNumbers:office", "646 555-4567");
	leaf_is(d, 9, "not private:notsecret_unencrypted", "hi there!");
	assert_int_equal(md_sops_doc_plain(d, &plain, &len), 0);
	assert_true(md_str_has_prefix(plain, "[name]\nfirstName = John\nlastName = Smith\nage = 25.4\n\n[address]\n"));
	/* "not private_notsecret_unencrypted" is no variable name */
	assert_int_equal(md_sops_doc_env(d, &env, &len, &err), -1);
	assert_string_equal(err.msg, FIX "example.ini: key not private:notsecret_unencrypted is not a "
			    "valid environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
	md_sops_doc_free(d);
}

static void test_fixture_binary(void **state)
{
	struct md_sops_doc *d;
	struct md_err err;
	const char *plain;
	char *env;
	size_t len;

	(void)state;
	fixture_file(FIX "example.txt", MD_SOPS_BINARY, &d);
	assert_int_equal(md_sops_doc_count(d), 1);
	assert_int_equal(md_sops_doc_plain(d, &plain, &len), 0);
	assert_string_equal(plain, "Welcome to SOPS!\n\nSOPS is a manager of encrypted files designed "
			    "to help distribute secrets.\nCheck it out, it's on github: "
			    "https://github.com/mozilla/sops\n\n");
	assert_int_equal(md_sops_doc_env(d, &env, &len, &err), -1);
	assert_non_null(strstr(err.msg, "a SOPS binary file has no environment form"));
	md_sops_doc_free(d);
}

/* Replace the first occurrence of from (after the text `after`) by to. */
static char *edit(const char *s, const char *after, const char *from, const char *to)
{
	const char *a = strstr(s, after), *p;
	struct md_buf o;

	assert_non_null(a);
	p = strstr(a, from);
	assert_non_null(p);
	md_buf_init(&o, 1 << 24);
	md_buf_append(&o, s, (size_t)(p - s));
	md_buf_puts(&o, to);
	md_buf_puts(&o, p + strlen(from));
	return md_buf_steal(&o);
}

/* One way to damage a YAML document: the first `from` after `after`
 * becomes `to`; decrypting must then fail naming frag1 (and frag2). */
struct tamper {
	const char *what, *after, *from, *to, *frag1, *frag2;
};

static void tampered_fails(const struct md_age_identities *ids, const char *text,
			   const struct tamper *t)
{
	char *bad = edit(text, t->after, t->from, t->to);
	struct md_sops_doc *d = (struct md_sops_doc *)1;
	struct md_err err = {{0}};

	if (md_sops_decrypt(&d, ids, "s.file", bad, strlen(bad), MD_SOPS_YAML, &err) != -1 || d)
		fail_msg("%s: the tampered document was accepted", t->what);
	if (!strstr(err.msg, t->frag1) || (t->frag2 && !strstr(err.msg, t->frag2)) ||
	    !strstr(err.msg, "s.file"))
		fail_msg("%s: unexpected error: %s", t->what, err.msg);
	free(bad);
}

static void test_fixture_refusals(void **state)
{
	static const struct tamper cases[] = {
		{ "one base64 character of password's data flipped", "password: ", "data:DywXZc",
		  "data:DywXZd", "cannot decrypt the value at app2:db:password",
		  "AES-GCM authentication failed" },
		{ "an unencrypted leaf changed: only the MAC notices", "nested_unencrypted:",
		  "going to remain", "going to REMAIN", "MAC mismatch", NULL },
		{ "the mac itself tampered", "mac: ENC", "data:dwrq", "data:dwrr", "MAC mismatch", NULL },
		{ "lastmodified changed: the mac's AAD no longer matches", "lastmodified", "22:11:15Z",
		  "22:11:16Z", "MAC mismatch", NULL },
		{ "a value moved under another key fails its AAD", "myapp1:", "myapp1:", "myapp2:",
		  "cannot decrypt the value at myapp2", NULL },
		{ "an encrypted value replaced by plaintext", "user: ",
		  "ENC[AES256_GCM,data:/cSI,iv:v78SLfb75AgxJU6hyorI1NdFIS9BPQhfaYohvnP4+zY=,"
		  "tag:RT4DZqfxr6acgPTUpYMv0A==,type:str]", "mallory",
		  "the value at app2:db:user is not encrypted, but the sops metadata says it should be",
		  NULL },
	};
	struct md_age_identities *ids = fixture_ids(), *wrong;
	struct tid t;
	size_t len;
	char *s = slurp(FIX "example.yaml", &len);

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		tampered_fails(ids, s, &cases[i]);
	/* the wrong key: the file's recipients are named */
	tid_make(&t, 3);
	wrong = tid_ids(&t);
	decrypt_fails(wrong, s, len, MD_SOPS_YAML,
		      "no identity matches the file's age recipients "
		      "(age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw, "
		      "age1tmaae3ld5vpevmsh5yacsauzx8jetg300mpvc4ugp5zr5l6ssq9sla97ep)",
		      t.recipient);
	md_age_identities_free(wrong);
	/* not a sops file, and too large */
	decrypt_fails(ids, "a: 1\n", 5, MD_SOPS_YAML, "not a SOPS file (no sops metadata)", NULL);
	{
		size_t n = MD_SECRETS_MAX_FILE + 1;
		char *big = malloc(n);

		memset(big, 'a', n);
		decrypt_fails(ids, big, n, MD_SOPS_YAML, "file is larger than 4194304 bytes", NULL);
		free(big);
	}
	free(s);
	md_age_identities_free(ids);
}

/* ---- documents encrypted here ------------------------------------------------- */

struct built {
	struct tid id;
	struct md_age_identities *ids;
	char *text;
};

/* The MAC over s's values, and the data key's age entry for id: with
 * indent, the armor as an indented YAML block; without, on one line with
 * its newlines escaped (dotenv, JSON). */
static void seal(struct tsops *s, const struct tid *id, const char *lm, const char *indent,
		 char **mac, char **enc)
{
	char *armor;

	*mac = tsops_mac(s, lm);
	armor = tsops_key_armor(s, id->pub);
	*enc = indent ? indent_block(armor, indent) : escape_nl(armor);
	free(armor);
}

/* A YAML document: nested maps, a list, typed values, comments, an
 * unencrypted subtree. With mac_only the plain leaves stay out of the MAC. */
static void build_yaml(struct built *b, int mac_only, int with_list)
{
	struct tsops s;
	struct md_buf o;
	char *v[8], *block, *mac;

	tid_make(&b->id, 5);
	b->ids = tid_ids(&b->id);
	tsops_init(&s, mac_only);
	v[0] = E(&s, "db:user:", "admin", "str");
	v[1] = E(&s, "db:port:", "5432", "int");
	v[2] = E(&s, "db:ratio:", "0.75", "float");
	v[3] = E(&s, "db:enabled:", "True", "bool");
	v[4] = E(&s, "db:pass word:", "it's: \"quoted\"\n", "str");
	v[5] = with_list ? E(&s, "hosts:", "a.example", "str") : NULL;
	v[6] = with_list ? E(&s, "hosts:", "b.example", "str") : NULL;
	if (!mac_only) {
		P(&s, "31");    /* 0x1F */
		P(&s, "True");  /* true */
		P(&s, "1000");  /* 1e3 */
		P(&s, "hello");
	}
	seal(&s, &b->id, LM, "            ", &mac, &block);
	md_buf_init(&o, 1 << 20);
	md_buf_printf(&o, "# a comment\ndb:\n    user: %s\n    port: %s\n    ratio: %s\n"
		      "    #ENC[AES256_GCM,data:AAAA,iv:AAAA,tag:AAAA,type:comment]\n"
		      "    enabled: %s\n    pass word: %s\n", v[0], v[1], v[2], v[3], v[4]);
	if (with_list)
		md_buf_printf(&o, "hosts:\n    - %s\n    - %s\n", v[5], v[6]);
	md_buf_printf(&o, "plain_unencrypted:\n    count: 0x1F\n    flag: true\n    big: 1e3\n"
		      "    name: hello # inline comment\nempty: \"\"\nsops:\n    kms: []\n    age:\n"
		      "        - recipient: %s\n          enc: |\n%s    lastmodified: \"%s\"\n"
		      "    mac: %s\n    unencrypted_suffix: _unencrypted\n%s    version: 3.8.1\n",
		      b->id.recipient, block, LM, mac, mac_only ? "    mac_only_encrypted: true\n" : "");
	b->text = md_buf_steal(&o);
	for (int i = 0; i < 7; i++)
		free(v[i]);
	free(mac);
	free(block);
}

static void built_free(struct built *b)
{
	md_age_identities_free(b->ids);
	free(b->text);
}

static void test_built_yaml(void **state)
{
	struct built b;
	struct md_sops_doc *d;
	struct md_err err;
	const char *plain;
	char *env;
	size_t len;

	(void)state;
	build_yaml(&b, 0, 1);
	assert_int_equal(md_sops_detect(b.text, strlen(b.text), MD_SOPS_YAML), 1);
	d = decrypt_ok(b.ids, "s.yaml", b.text, MD_SOPS_YAML);
	assert_int_equal(md_sops_doc_count(d), 12);
	leaf_is(d, 0, "db:user", "admin");
	leaf_is(d, 1, "db:port", "5432");
	leaf_is(d, 2, "db:ratio", "0.75");
	leaf_is(d, 3, "db:enabled", "True");
	leaf_is(d, 4, "db:pass word", "it's: \"quoted\"\n");
	leaf_is(d, 5, "hosts", "a.example");
	leaf_is(d, 6, "hosts", "b.example");
	leaf_is(d, 7, "plain_unencrypted:count", "0x1F");
	leaf_is(d, 8, "plain_unencrypted:flag", "True");
	leaf_is(d, 9, "plain_unencrypted:big", "1e3");
	leaf_is(d, 10, "plain_unencrypted:name", "hello");
	leaf_is(d, 11, "empty", "");
	assert_int_equal(md_sops_doc_plain(d, &plain, &len), 0);
	assert_string_equal(plain,
			    "db:\n    user: admin\n    port: 5432\n    ratio: 0.75\n    enabled: true\n"
			    "    \"pass word\": \"it's: \\\"quoted\\\"\\n\"\n"
			    "hosts:\n    - a.example\n    - b.example\n"
			    "plain_unencrypted:\n    count: 0x1F\n    flag: true\n    big: 1e3\n"
			    "    name: hello\nempty: \"\"\n");
	/* the first leaf env cannot carry is named */
	assert_int_equal(md_sops_doc_env(d, &env, &len, &err), -1);
	assert_string_equal(err.msg, "s.yaml: key db:pass word is not a valid environment variable "
			    "name ([A-Za-z_][A-Za-z0-9_]*)");
	md_sops_doc_free(d);
	built_free(&b);
}

static void test_env_list_and_rename(void **state)
{
	static const struct tamper renamed = {
		"renamed key", "db:", "    pass word:", "    pass_word:",
		"cannot decrypt the value at db:pass_word", NULL
	};
	struct built b;
	struct md_sops_doc *d;
	struct md_err err;
	char *env;
	size_t len;

	(void)state;
	/* renaming a key breaks its AAD: the error names the new path */
	build_yaml(&b, 0, 1);
	tampered_fails(b.ids, b.text, &renamed);
	built_free(&b);
	/* a list has no env form: the error names the key */
	fixture_file(FIX "example.json", MD_SOPS_JSON, &d);
	env = (char *)1;
	assert_int_equal(md_sops_doc_env(d, &env, &len, &err), -1);
	assert_null(env);
	assert_string_equal(err.msg, FIX "example.json: key phoneNumbers:number is inside a list: "
			    "lists have no environment form");
	md_sops_doc_free(d);
}

static void test_mac_only_encrypted(void **state)
{
	static const struct tamper no_flag = {
		"without the flag the same document's MAC does not match", "sops:",
		"    mac_only_encrypted: true\n", "", "MAC mismatch", NULL
	};
	static const struct tamper full_mac = {
		"in a full-MAC document the same change is refused", "plain_unencrypted",
		"name: hello", "name: hallo", "MAC mismatch", NULL
	};
	struct built b;
	struct md_sops_doc *d;
	char *t;

	(void)state;
	build_yaml(&b, 1, 1);
	d = decrypt_ok(b.ids, "s.yaml", b.text, MD_SOPS_YAML);
	leaf_is(d, 10, "plain_unencrypted:name", "hello");
	md_sops_doc_free(d);
	/* plain leaves are outside the MAC: changing one is accepted */
	t = edit(b.text, "plain_unencrypted", "name: hello", "name: hallo");
	d = decrypt_ok(b.ids, "s.yaml", t, MD_SOPS_YAML);
	leaf_is(d, 10, "plain_unencrypted:name", "hallo");
	md_sops_doc_free(d);
	free(t);
	tampered_fails(b.ids, b.text, &no_flag);
	built_free(&b);
	build_yaml(&b, 0, 0);
	tampered_fails(b.ids, b.text, &full_mac);
	built_free(&b);
}

/* A dotenv document (seed 7), with a multi-line value when multi is set. */
static void build_dotenv(struct built *b, int multi)
{
	struct tsops s;
	struct md_buf o;
	char *u, *p, *m = NULL, *mac, *esc;

	tid_make(&b->id, 7);
	b->ids = tid_ids(&b->id);
	tsops_init(&s, 0);
	u = E(&s, "DB_USER:", "admin", "str");
	p = E(&s, "DB_PASS:", "p=ss w0rd", "str");
	if (multi)
		m = E(&s, "MULTI:", "line1\nline2", "str");
	P(&s, "visible");
	seal(&s, &b->id, LM, NULL, &mac, &esc);
	md_buf_init(&o, 1 << 20);
	md_buf_printf(&o, "# comment\nDB_USER=%s\nDB_PASS=%s\n", u, p);
	if (multi)
		md_buf_printf(&o, "MULTI=%s\n", m);
	md_buf_printf(&o, "\nPLAIN_unencrypted=visible\nsops_age__list_0__map_enc=%s\n"
		      "sops_age__list_0__map_recipient=%s\nsops_lastmodified=%s\nsops_mac=%s\n"
		      "sops_unencrypted_suffix=_unencrypted\nsops_version=3.8.1\n",
		      esc, b->id.recipient, LM, mac);
	b->text = md_buf_steal(&o);
	free(u);
	free(p);
	free(m);
	free(mac);
	free(esc);
}

static void test_built_dotenv(void **state)
{
	struct built b;
	struct md_sops_doc *d;
	struct md_err err;
	const char *plain;
	char *env;
	size_t len;

	(void)state;
	build_dotenv(&b, 1);
	assert_int_equal(md_sops_detect(b.text, strlen(b.text), MD_SOPS_DOTENV), 1);
	d = decrypt_ok(b.ids, "s.env", b.text, MD_SOPS_DOTENV);
	assert_int_equal(md_sops_doc_count(d), 4);
	leaf_is(d, 0, "DB_USER", "admin");
	leaf_is(d, 1, "DB_PASS", "p=ss w0rd");
	leaf_is(d, 2, "MULTI", "line1\nline2");
	leaf_is(d, 3, "PLAIN_unencrypted", "visible");
	assert_int_equal(md_sops_doc_plain(d, &plain, &len), 0);
	assert_string_equal(plain, "DB_USER=admin\nDB_PASS=p=ss w0rd\nMULTI=line1\\nline2\n"
			    "PLAIN_unencrypted=visible\n");
	assert_int_equal(md_sops_doc_env(d, &env, &len, &err), -1);
	assert_string_equal(err.msg, "s.env: the value of key MULTI holds a newline or NUL byte, "
			    "which an env file cannot carry");
	md_sops_doc_free(d);
	built_free(&b);

	build_dotenv(&b, 0);
	d = decrypt_ok(b.ids, "s.env", b.text, MD_SOPS_DOTENV);
	assert_int_equal(md_sops_doc_env(d, &env, &len, &err), 0);
	assert_string_equal(env, "DB_USER=admin\nDB_PASS=p=ss w0rd\nPLAIN_unencrypted=visible\n");
	assert_int_equal(len, strlen(env));
	md_secrets_free_plain(env, len);
	md_sops_doc_free(d);
	built_free(&b);
}

/* A JSON document (seed 8): lastmodified as written, aad_lm as the MAC
 * covers it; odd_key replaces "token:" when set. */
static void build_json(struct built *b, const char *lastmodified, const char *aad_lm,
		       const char *odd_key)
{
	struct tsops s;
	struct md_buf o;
	char *u, *p, *dbg, *tok, *mac, *esc;

	tid_make(&b->id, 8);
	b->ids = tid_ids(&b->id);
	tsops_init(&s, 0);
	u = E(&s, "app:user:", "u1", "str");
	p = E(&s, "app:port:", "8080", "int");
	dbg = E(&s, "app:debug:", "False", "bool");
	tok = odd_key ? E(&s, odd_key, "x", "str") : E(&s, "token:", "t0k", "str");
	P(&s, "1.5");
	P(&s, "True");
	seal(&s, &b->id, aad_lm, NULL, &mac, &esc);
	md_buf_init(&o, 1 << 20);
	md_buf_printf(&o, "{\n  \"app\": {\"user\": \"%s\", \"port\": \"%s\", \"debug\": \"%s\"},\n"
		      "  \"%.*s\": \"%s\",\n  \"ratio_unencrypted\": 1.50,\n  \"on_unencrypted\": true,\n"
		      "  \"sops\": {\"kms\": null, \"age\": [{\"recipient\": \"%s\", \"enc\": \"%s\"}],\n"
		      "    \"lastmodified\": \"%s\", \"mac\": \"%s\",\n"
		      "    \"unencrypted_suffix\": \"_unencrypted\", \"version\": \"3.8.1\"}\n}\n",
		      u, p, dbg, odd_key ? (int)strlen(odd_key) - 1 : 5, odd_key ? odd_key : "token",
		      tok, b->id.recipient, esc, lastmodified, mac);
	b->text = md_buf_steal(&o);
	free(u);
	free(p);
	free(dbg);
	free(tok);
	free(mac);
	free(esc);
}

static void test_built_json(void **state)
{
	struct built b;
	struct md_sops_doc *d;
	struct md_err err;
	const char *plain;
	char *env;
	size_t len;

	(void)state;
	/* lastmodified with a fraction and an offset: the AAD drops the
	 * fraction and keeps the offset, as Go's RFC3339 formatting does */
	build_json(&b, "2024-05-01T12:00:00.123456+02:00", "2024-05-01T12:00:00+02:00", NULL);
	assert_int_equal(md_sops_detect(b.text, strlen(b.text), MD_SOPS_JSON), 1);
	d = decrypt_ok(b.ids, "s.json", b.text, MD_SOPS_JSON);
	assert_int_equal(md_sops_doc_count(d), 6);
	leaf_is(d, 0, "app:user", "u1");
	leaf_is(d, 1, "app:port", "8080");
	leaf_is(d, 2, "app:debug", "False");
	leaf_is(d, 3, "token", "t0k");
	leaf_is(d, 4, "ratio_unencrypted", "1.5");
	leaf_is(d, 5, "on_unencrypted", "True");
	assert_int_equal(md_sops_doc_env(d, &env, &len, &err), 0);
	assert_string_equal(env, "app_user=u1\napp_port=8080\napp_debug=False\ntoken=t0k\n"
			    "ratio_unencrypted=1.5\non_unencrypted=True\n");
	md_secrets_free_plain(env, len);
	assert_int_equal(md_sops_doc_plain(d, &plain, &len), 0);
	assert_string_equal(plain, "{\n\t\"app\": {\n\t\t\"user\": \"u1\",\n\t\t\"port\": 8080,\n"
			    "\t\t\"debug\": false\n\t},\n\t\"token\": \"t0k\",\n"
			    "\t\"ratio_unencrypted\": 1.5,\n\t\"on_unencrypted\": true\n}\n");
	md_sops_doc_free(d);
	built_free(&b);

	/* a key that is no variable name */
	build_json(&b, LM, LM, "my-key:");
	d = decrypt_ok(b.ids, "s.json", b.text, MD_SOPS_JSON);
	assert_int_equal(md_sops_doc_env(d, &env, &len, &err), -1);
	assert_string_equal(err.msg, "s.json: key my-key is not a valid environment variable name "
			    "([A-Za-z_][A-Za-z0-9_]*)");
	md_sops_doc_free(d);
	built_free(&b);
}

static void test_encrypted_regex(void **state)
{
	struct tid id;
	struct md_age_identities *ids;
	struct md_sops_doc *d;
	struct tsops s;
	struct md_buf o;
	char *pw, *mac, *block;

	(void)state;
	tid_make(&id, 11);
	ids = tid_ids(&id);
	tsops_init(&s, 0);
	P(&s, "bob");
	pw = E(&s, "svc:password:", "hunter2", "str");
	seal(&s, &id, LM, "      ", &mac, &block);
	md_buf_init(&o, 1 << 20);
	md_buf_printf(&o, "svc:\n  user: bob\n  password: %s\nsops:\n  age:\n  - recipient: %s\n"
		      "    enc: |\n%s  lastmodified: '%s'\n  mac: %s\n"
		      "  encrypted_regex: ^(password|token)$\n", pw, id.recipient, block, LM, mac);
	d = decrypt_ok(ids, "r.yaml", o.data, MD_SOPS_YAML);
	leaf_is(d, 0, "svc:user", "bob");
	leaf_is(d, 1, "svc:password", "hunter2");
	md_sops_doc_free(d);
	md_buf_clear(&o);
	free(pw);
	free(mac);
	free(block);
	md_age_identities_free(ids);
}

/* ---- bounds ----------------------------------------------------------------------- */

static void test_bounds(void **state)
{
	struct md_age_identities *ids = fixture_ids();
	struct md_buf o;

	(void)state;
	md_buf_init(&o, 1 << 24);
	/* depth */
	md_buf_puts(&o, "k: ");
	for (int i = 0; i < 70; i++)
		md_buf_puts(&o, "{a: ");
	md_buf_puts(&o, "x");
	for (int i = 0; i < 70; i++)
		md_buf_puts(&o, "}");
	decrypt_fails(ids, o.data, o.len, MD_SOPS_YAML, "nesting deeper than 64 levels", NULL);
	md_buf_reset(&o);
	md_buf_puts(&o, "{\"k\": ");
	for (int i = 0; i < 70; i++)
		md_buf_puts(&o, "[");
	for (int i = 0; i < 70; i++)
		md_buf_puts(&o, "]");
	md_buf_puts(&o, "}");
	decrypt_fails(ids, o.data, o.len, MD_SOPS_JSON, "nesting deeper than 64 levels", NULL);
	/* number of values */
	md_buf_reset(&o);
	md_buf_puts(&o, "l: [");
	for (int i = 0; i < 10001; i++)
		md_buf_puts(&o, "1,");
	md_buf_puts(&o, "1]\n");
	decrypt_fails(ids, o.data, o.len, MD_SOPS_YAML, "more than 10000 values", NULL);
	/* key length */
	md_buf_reset(&o);
	for (int i = 0; i < 1100; i++)
		md_buf_puts(&o, "K");
	md_buf_puts(&o, "=v\n");
	decrypt_fails(ids, o.data, o.len, MD_SOPS_DOTENV, "a key is longer than 1024 bytes", NULL);
	/* shapes */
	decrypt_fails(ids, "- a\n", 4, MD_SOPS_YAML, "the YAML document is not a map", NULL);
	decrypt_fails(ids, "a: &x 1\nb: *x\n", 14, MD_SOPS_YAML, "s.file:2: YAML aliases are not supported", NULL);
	decrypt_fails(ids, "a: 1\n---\nb: 2\n", 14, MD_SOPS_YAML, "multi-document YAML", NULL);
	decrypt_fails(ids, "a: [1\n", 6, MD_SOPS_YAML, "invalid YAML", NULL);
	decrypt_fails(ids, "{\"a\": secret}", 13, MD_SOPS_JSON, "s.file:1: invalid JSON", NULL);
	decrypt_fails(ids, "NOEQUALS\n", 9, MD_SOPS_DOTENV, "s.file:1: expected KEY=VALUE", NULL);
	decrypt_fails(ids, "[a]\nnovalue\n", 12, MD_SOPS_INI, "s.file:2: expected key = value", NULL);
	decrypt_fails(ids, "{\"data\": \"x\", \"y\": 1}", 21, MD_SOPS_BINARY, "exactly one \"data\" value", NULL);
	md_buf_clear(&o);
	md_age_identities_free(ids);
}

static void test_format_and_detect(void **state)
{
	(void)state;
	assert_int_equal(md_sops_format_for_path("stack/secrets.enc.yaml"), MD_SOPS_YAML);
	assert_int_equal(md_sops_format_for_path("a.yml"), MD_SOPS_YAML);
	assert_int_equal(md_sops_format_for_path("a.json"), MD_SOPS_JSON);
	assert_int_equal(md_sops_format_for_path("app.env"), MD_SOPS_DOTENV);
	assert_int_equal(md_sops_format_for_path("a.ini"), MD_SOPS_INI);
	assert_int_equal(md_sops_format_for_path("cert.pem"), MD_SOPS_BINARY);
	assert_int_equal(md_sops_detect("a: 1\n", 5, MD_SOPS_YAML), 0);
	assert_int_equal(md_sops_detect("a: 1\nsops:\n  mac: x\n", 20, MD_SOPS_YAML), 1);
	assert_int_equal(md_sops_detect("A=1\n", 4, MD_SOPS_DOTENV), 0);
	assert_int_equal(md_sops_detect("A=1\nsops_version=3.8.1\n", 22, MD_SOPS_DOTENV), 1);
	assert_int_equal(md_sops_detect("[a]\nb=1\n", 8, MD_SOPS_INI), 0);
	assert_int_equal(md_sops_detect("{\"sops\": 1}", 11, MD_SOPS_JSON), 0);
	assert_int_equal(md_sops_detect("{\"sops\": {}}", 12, MD_SOPS_BINARY), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_yaml),
		cmocka_unit_test(test_fixture_json),
		cmocka_unit_test(test_fixture_ini),
		cmocka_unit_test(test_fixture_binary),
		cmocka_unit_test(test_fixture_refusals),
		cmocka_unit_test(test_built_yaml),
		cmocka_unit_test(test_env_list_and_rename),
		cmocka_unit_test(test_mac_only_encrypted),
		cmocka_unit_test(test_built_dotenv),
		cmocka_unit_test(test_built_json),
		cmocka_unit_test(test_encrypted_regex),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_format_and_detect),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

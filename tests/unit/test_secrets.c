/* secrets: age identities and age v1 decryption. */
#include "unit.h"

#include "magos/secrets.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_secrets_enc.h"
#include "tmpdir.h"

/* Third-party test vectors are read where they are: ../shared/fixtures/
 * from the repository's root, where the tests run (see docs/testing.md). */
#define SHARED "../shared/fixtures/"

static char *slurp(const char *path, size_t *len)
{
	struct md_err err;
	char *s;

	if (md_file_read(path, 1 << 24, &s, len, &err) < 0)
		fail_msg("%s", err.msg);
	return s;
}

static struct md_age_identities *load_ids(const char *path)
{
	struct md_age_identities *ids;
	struct md_err err;
	size_t len;
	char *s = slurp(path, &len);

	assert_int_equal(md_age_identities_new(&ids), 0);
	if (md_age_identities_add(ids, path, s, len, NULL, &err) < 0)
		fail_msg("%s", err.msg);
	free(s);
	return ids;
}

/* Decrypt and expect failure with a message containing each fragment. */
static void expect_age_error(const struct md_age_identities *ids, const char *data, size_t len,
			     const char *frag1, const char *frag2)
{
	struct md_err err = {{0}};
	char *out = (char *)1;
	size_t outlen = 1;

	assert_int_equal(md_age_decrypt(&out, &outlen, ids, "f.age", data, len, &err), -1);
	assert_null(out);
	if (!strstr(err.msg, frag1) || (frag2 && !strstr(err.msg, frag2)))
		fail_msg("unexpected error: %s", err.msg);
	assert_non_null(strstr(err.msg, "f.age"));
}

static void test_example_age(void **state)
{
	struct md_age_identities *ids = load_ids(SHARED "age/example_keys.txt");
	struct md_err err;
	size_t len, outlen;
	char *data = slurp(SHARED "age/example.age", &len), *out;

	(void)state;
	assert_int_equal(md_age_identities_count(ids), 1);
	if (md_age_decrypt(&out, &outlen, ids, "example.age", data, len, &err) < 0)
		fail_msg("%s", err.msg);
	/* 19 bytes: no trailing newline (checked with the age CLI). */
	assert_int_equal(outlen, 19);
	assert_string_equal(out, "Black lives matter.");
	md_secrets_free_plain(out, outlen);
	free(data);
	md_age_identities_free(ids);
}

static void test_identities_parse(void **state)
{
	struct md_age_identities *ids;
	struct md_err err;
	size_t skipped = 0;
	const char *text = "# comment\n\n  AGE-SECRET-KEY-1NJT5YCS2LWU4V4QAJQ6R4JNU7LXPDX602DZ9NUFANVU5GDTGUWCQ5T59M6  \r\n"
			   "AGE-SECRET-KEY-PQ-1XXXXXXXXXXXXXXXXXXXXXXXXXXXXX\n"
			   "AGE-PLUGIN-YUBIKEY-1QQQQQQQQ\n"
			   "age-secret-key-1t0z66wsxs6rmncpsl7p2e8n4q7sud8vmg9nd27s08jl7y2xau9eqechds7\n";

	(void)state;
	assert_int_equal(md_age_identities_new(&ids), 0);
	assert_int_equal(md_age_identities_add(ids, "keys.txt", text, strlen(text), &skipped, &err), 0);
	assert_int_equal(md_age_identities_count(ids), 2);
	assert_int_equal(skipped, 2);
	/* The public recipients derive from the keys (keys.txt's comments). */
	assert_string_equal(md_secrets__age_identity_at(ids, 0)->recipient,
			    "age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw");
	assert_string_equal(md_secrets__age_identity_at(ids, 1)->recipient,
			    "age1tmaae3ld5vpevmsh5yacsauzx8jetg300mpvc4ugp5zr5l6ssq9sla97ep");
	md_age_identities_free(ids);
	md_age_identities_free(NULL);
}

static void test_identities_invalid(void **state)
{
	static const char *const bad[] = {
		/* checksum: last character changed */
		"AGE-SECRET-KEY-1NJT5YCS2LWU4V4QAJQ6R4JNU7LXPDX602DZ9NUFANVU5GDTGUWCQ5T59M7",
		/* mixed case */
		"AGE-SECRET-KEY-1NJT5YCS2LWU4V4QAJQ6R4JNU7LXPDX602DZ9NUFANVU5GDTGUWCQ5T59m6",
		/* wrong HRP */
		"AGE-PUBLIC-KEY-1NJT5YCS2LWU4V4QAJQ6R4JNU7LXPDX602DZ9NUFANVU5GDTGUWCQ5T59M6",
		"age1yt3tfqlfrwdwx0z0ynwplcr6qxcxfaqycuprpmy89nr83ltx74tqdpszlw",
		"garbage",
	};
	char text[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct md_age_identities *ids;
		struct md_err err;

		snprintf(text, sizeof(text), "# header\n\n%s\n", bad[i]);
		assert_int_equal(md_age_identities_new(&ids), 0);
		assert_int_equal(md_age_identities_add(ids, "keys.txt", text, strlen(text), NULL, &err), -1);
		assert_string_equal(err.msg, "keys.txt:3: not a valid age identity (expected AGE-SECRET-KEY-1...)");
		/* the secret never reaches the message */
		assert_null(strstr(err.msg, "NJT5"));
		md_age_identities_free(ids);
	}
}

static void test_roundtrip_binary_and_armor(void **state)
{
	struct tid t;
	struct md_age_identities *ids;
	struct md_buf bin, arm;
	struct md_err err;
	char *out, *big = malloc(200000);
	size_t outlen;

	(void)state;
	tid_make(&t, 1);
	ids = tid_ids(&t);
	for (size_t i = 0; i < 200000; i++)
		big[i] = (char)('a' + i % 26);
	md_buf_init(&bin, 1 << 22);
	md_buf_init(&arm, 1 << 22);
	/* Three chunks: 64 KiB, 64 KiB, and a short final one. */
	age_encrypt(&bin, t.pub, big, 200000, AF_NONE);
	if (md_age_decrypt(&out, &outlen, ids, "big.age", bin.data, bin.len, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(outlen, 200000);
	assert_memory_equal(out, big, 200000);
	md_secrets_free_plain(out, outlen);
	age_armor(&arm, &bin, 64);
	if (md_age_decrypt(&out, &outlen, ids, "big.age", arm.data, arm.len, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(outlen, 200000);
	md_secrets_free_plain(out, outlen);
	/* Exactly one full chunk is a full final chunk, and an empty payload works. */
	md_buf_reset(&bin);
	age_encrypt(&bin, t.pub, big, 65536, AF_NONE);
	assert_int_equal(md_age_decrypt(&out, &outlen, ids, "x", bin.data, bin.len, &err), 0);
	assert_int_equal(outlen, 65536);
	md_secrets_free_plain(out, outlen);
	md_buf_reset(&bin);
	age_encrypt(&bin, t.pub, "", 0, AF_NONE);
	assert_int_equal(md_age_decrypt(&out, &outlen, ids, "x", bin.data, bin.len, &err), 0);
	assert_int_equal(outlen, 0);
	assert_string_equal(out, "");
	md_secrets_free_plain(out, outlen);
	free(big);
	md_buf_clear(&bin);
	md_buf_clear(&arm);
	md_age_identities_free(ids);
}

static void test_wrong_identity(void **state)
{
	struct tid t, other;
	struct md_age_identities *ids;
	struct md_buf bin;
	char msg[512];

	(void)state;
	tid_make(&t, 1);
	tid_make(&other, 77);
	ids = tid_ids(&other);
	md_buf_init(&bin, 1 << 20);
	age_encrypt(&bin, t.pub, "hello", 5, AF_NONE);
	snprintf(msg, sizeof(msg), "identities tried: %s", other.recipient);
	expect_age_error(ids, bin.data, bin.len, "no identity matches: 1 X25519 stanza(s)", msg);
	md_buf_clear(&bin);
	md_age_identities_free(ids);
}

static void test_armor_refusals(void **state)
{
	struct tid t;
	struct md_age_identities *ids;
	struct md_buf bin, arm;
	char *cut;

	(void)state;
	tid_make(&t, 1);
	ids = tid_ids(&t);
	md_buf_init(&bin, 1 << 20);
	md_buf_init(&arm, 1 << 20);
	age_encrypt(&bin, t.pub, "hello world, this is a test", 27, AF_NONE);

	/* truncated: the END line is missing */
	age_armor(&arm, &bin, 64);
	cut = strstr(arm.data, "-----END");
	expect_age_error(ids, arm.data, (size_t)(cut - arm.data), "truncated age armor",
			 "-----END AGE ENCRYPTED FILE-----");
	/* lines of 76 columns (PEM's MIME habit) */
	md_buf_reset(&arm);
	age_armor(&arm, &bin, 76);
	expect_age_error(ids, arm.data, arm.len, "invalid age armor: line 2 is longer than 64 columns",
			 NULL);
	/* short lines before the last */
	md_buf_reset(&arm);
	age_armor(&arm, &bin, 60);
	expect_age_error(ids, arm.data, arm.len, "line 2 is shorter than 64 columns but is not the last",
			 NULL);
	/* garbage after the END line; whitespace is fine */
	md_buf_reset(&arm);
	age_armor(&arm, &bin, 64);
	md_buf_puts(&arm, "\n  \n");
	{
		char *out;
		size_t outlen;
		struct md_err err;

		assert_int_equal(md_age_decrypt(&out, &outlen, ids, "f", arm.data, arm.len, &err), 0);
		md_secrets_free_plain(out, outlen);
	}
	md_buf_puts(&arm, "x");
	expect_age_error(ids, arm.data, arm.len, "invalid age armor: data after the", NULL);
	md_buf_clear(&bin);
	md_buf_clear(&arm);
	md_age_identities_free(ids);
}

static void check_flaw(enum age_flaw flaw, size_t n, const char *frag1, const char *frag2)
{
	struct tid t;
	struct md_age_identities *ids;
	struct md_buf bin;
	char *pt = calloc(1, n + 1);

	tid_make(&t, 1);
	ids = tid_ids(&t);
	md_buf_init(&bin, 1 << 22);
	age_encrypt(&bin, t.pub, pt, n, flaw);
	expect_age_error(ids, bin.data, bin.len, frag1, frag2);
	md_buf_clear(&bin);
	md_age_identities_free(ids);
	free(pt);
}

static void test_header_refusals(void **state)
{
	(void)state;
	check_flaw(AF_BAD_MAC, 10, "age header MAC mismatch", NULL);
	check_flaw(AF_EXTRA_ARG, 10, "invalid X25519 stanza: 3 arguments, want 2", NULL);
	check_flaw(AF_LOW_ORDER, 10, "low-order share (all-zero shared secret)", NULL);
	check_flaw(AF_SCRYPT, 10, "passphrase-encrypted (scrypt) age files are not supported", NULL);
}

static void test_payload_refusals(void **state)
{
	(void)state;
	/* 65537 bytes: a full chunk and a 1-byte final one; drop the final. */
	check_flaw(AF_NO_LAST, 65537, "age payload is missing its final chunk", NULL);
	/* a full final chunk followed by more data */
	check_flaw(AF_TRAILING, 65536, "trailing data after the final age payload chunk", NULL);
	check_flaw(AF_FLIP_PAYLOAD, 100, "age payload chunk 0 failed authentication", NULL);
	/* a short final chunk with bytes after it cannot be told from tampering */
	check_flaw(AF_TRAILING, 10, "age payload chunk 0 failed authentication", NULL);
}

static void test_header_syntax(void **state)
{
	struct tid t;
	struct md_age_identities *ids;
	struct md_buf bin;
	char *p;

	(void)state;
	tid_make(&t, 1);
	ids = tid_ids(&t);
	md_buf_init(&bin, 1 << 20);
	expect_age_error(ids, "hello", 5, "not an age v1 file", NULL);
	age_encrypt(&bin, t.pub, "x", 1, AF_NONE);
	/* cut inside the header */
	expect_age_error(ids, bin.data, 40, "truncated or malformed age header line", NULL);
	/* a stanza line with a double space (empty argument) */
	p = strstr(bin.data, "-> X25519 ");
	p[9] = ' ';
	memmove(p + 10, p + 9, 5);
	expect_age_error(ids, bin.data, bin.len, "malformed age", NULL);
	md_buf_clear(&bin);
	md_age_identities_free(ids);
}

static void test_size_cap(void **state)
{
	struct md_age_identities *ids;
	size_t n = MD_SECRETS_MAX_FILE + 1;
	char *big = calloc(1, n);
	struct md_err err;

	(void)state;
	assert_int_equal(md_age_identities_new(&ids), 0);
	expect_age_error(ids, big, n, "age file is larger than 4194304 bytes", NULL);
	assert_int_equal(md_age_identities_add(ids, "keys", big, n, NULL, &err), -1);
	assert_string_equal(err.msg, "keys: identity file is larger than 4194304 bytes");
	free(big);
	md_age_identities_free(ids);
	md_secrets_free_plain(NULL, 0);
}

/* The real age binary decrypts what our test encryptor writes, so the
 * refusal cases above are built on correct files. */
static void test_encryptor_matches_age_cli(void **state)
{
	struct tid t;
	struct md_buf bin;
	char dir[] = "/tmp/md-secrets-XXXXXX", cmd[512], got[64] = "";
	FILE *f;

	(void)state;
	if (access("/usr/bin/age", X_OK) != 0)
		skip();
	tid_make(&t, 9);
	assert_non_null(mkdtemp(dir));
	md_buf_init(&bin, 1 << 20);
	age_encrypt(&bin, t.pub, "cross-checked", 13, AF_NONE);
	snprintf(cmd, sizeof(cmd), "%s/k", dir);
	f = fopen(cmd, "w");
	fprintf(f, "%s\n", t.secret);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "%s/f.age", dir);
	f = fopen(cmd, "w");
	fwrite(bin.data, 1, bin.len, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "/usr/bin/age -d -i %s/k %s/f.age 2>&1", dir, dir);
	f = popen(cmd, "r");
	assert_non_null(fgets(got, sizeof(got), f));
	pclose(f);
	assert_string_equal(got, "cross-checked");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	md_buf_clear(&bin);
}

/* Run a tool (no shell); its exit status must be 0. */
static void run_tool(char *const argv[])
{
	struct md_err err;
	int status = -1;

	if (md_proc_run(argv, NULL, NULL, 0, NULL, 30000, &status, &err) < 0)
		fail_msg("%s", err.msg);
	if (status != 0)
		fail_msg("%s exited with %d", argv[0], status);
}

/* The recipient age-keygen wrote in its "# public key: " comment. */
static void keygen_recipient(const char *keys, char *out, size_t outlen)
{
	char buf[256];
	FILE *f = fopen(keys, "r");

	assert_non_null(f);
	out[0] = '\0';
	while (fgets(buf, sizeof(buf), f))
		if (!strncmp(buf, "# public key: ", 14)) {
			size_t n = strcspn(buf + 14, "\n");

			assert_true(n < outlen);
			memcpy(out, buf + 14, n);
			out[n] = '\0';
		}
	fclose(f);
	assert_true(out[0] != '\0');
}

/* Files made at run time by the real age tools: a fresh identity from
 * age-keygen, then the same plaintext (over one 64 KiB chunk, ending in a
 * newline) encrypted by `age -r` in binary and in armor. Our decryption
 * must give back exactly those bytes, with the identity file as written. */
static void test_decrypts_files_made_by_age_cli(void **state)
{
	char *dir, keys[256], plain[256], enc[256], recipient[128], opt_armor[] = "-a";
	struct md_age_identities *ids;
	size_t n = 70000, len, outlen;
	char *text, *data, *out;
	struct md_err err;
	FILE *f;

	(void)state;
	if (access("/usr/bin/age", X_OK) != 0 || access("/usr/bin/age-keygen", X_OK) != 0)
		skip();
	dir = tmpdir_new("md-age-cli");
	assert_non_null(dir);
	snprintf(keys, sizeof(keys), "%s/keys.txt", dir);
	snprintf(plain, sizeof(plain), "%s/plain", dir);
	snprintf(enc, sizeof(enc), "%s/f.age", dir);
	run_tool((char *const[]){ "/usr/bin/age-keygen", "-o", keys, NULL });
	ids = load_ids(keys);
	assert_int_equal(md_age_identities_count(ids), 1);
	/* age-keygen names the recipient in a comment; ours derives the same */
	keygen_recipient(keys, recipient, sizeof(recipient));
	assert_string_equal(md_secrets__age_identity_at(ids, 0)->recipient, recipient);
	text = malloc(n);
	for (size_t i = 0; i < n; i++)
		text[i] = (char)('a' + i % 26);
	text[n - 1] = '\n';
	f = fopen(plain, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, n, f), n);
	fclose(f);
	for (size_t i = 0; i < 2; i++) {
		char *argv[8], **a = argv;

		*a++ = "/usr/bin/age";
		*a++ = "-r";
		*a++ = recipient;
		if (i == 1)
			*a++ = opt_armor;
		*a++ = "-o";
		*a++ = enc;
		*a++ = plain;
		*a = NULL;
		unlink(enc);
		run_tool(argv);
		data = slurp(enc, &len);
		assert_int_equal(strncmp(data, i == 1 ? "-----BEGIN AGE ENCRYPTED FILE-----"
						       : "age-encryption.org/v1\n", 21), 0);
		if (md_age_decrypt(&out, &outlen, ids, "f.age", data, len, &err) < 0)
			fail_msg("%s", err.msg);
		assert_int_equal(outlen, n);
		assert_memory_equal(out, text, n);
		md_secrets_free_plain(out, outlen);
		free(data);
	}
	free(text);
	md_age_identities_free(ids);
	tmpdir_free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_age),
		cmocka_unit_test(test_identities_parse),
		cmocka_unit_test(test_identities_invalid),
		cmocka_unit_test(test_roundtrip_binary_and_armor),
		cmocka_unit_test(test_wrong_identity),
		cmocka_unit_test(test_armor_refusals),
		cmocka_unit_test(test_header_refusals),
		cmocka_unit_test(test_payload_refusals),
		cmocka_unit_test(test_header_syntax),
		cmocka_unit_test(test_size_cap),
		cmocka_unit_test(test_encryptor_matches_age_cli),
		cmocka_unit_test(test_decrypts_files_made_by_age_cli),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

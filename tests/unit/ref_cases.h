/* The tags and digests on which the grammar's former copies (registry,
 * policy, util, sigstore) disagreed, with the one answer docs/protocols.md
 * gives ("Image references"). test_ref checks the ref module against it;
 * the registry and policy tests check that they now answer the same. */
#ifndef REF_CASES_H
#define REF_CASES_H

#define RC_HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define RC_HEX64_UPPER "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"
#define RC_X16 "xxxxxxxxxxxxxxxx"
#define RC_X128 RC_X16 RC_X16 RC_X16 RC_X16 RC_X16 RC_X16 RC_X16 RC_X16

struct ref_piece_case {
	const char *s;
	int tag;    /* md_ref_valid_tag */
	int digest; /* md_ref_valid_digest */
};

static const struct ref_piece_case ref_piece_cases[] = {
	{ "latest", 1, 0 },
	{ "_x", 1, 0 },
	{ "1.25-alpine", 1, 0 },
	{ ".x", 0, 0 },
	{ "-x", 0, 0 },
	{ "", 0, 0 },
	{ RC_X128, 1, 0 },
	{ RC_X128 "x", 0, 0 },   /* 129 characters */
	{ "v1\xc3\xa9", 0, 0 },  /* non-ASCII: once up to the C library's locale */
	{ "a b", 0, 0 },
	{ "a/b", 0, 0 },
	{ "sha256:" RC_HEX64, 0, 1 },
	{ "sha256:" RC_HEX64_UPPER, 0, 0 },       /* registry and sigstore took it */
	{ "sha512:" RC_HEX64 RC_HEX64, 0, 0 },    /* registry took it */
	{ "sha256:0123456789abcdef0123456789abcdef", 0, 0 }, /* 32 digits: registry took it */
	{ "sha256:" RC_HEX64 "0", 0, 0 },
	{ "sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564", 0, 0 }, /* registry took it */
	{ "sha256:short", 0, 0 },
};

#define REF_PIECE_CASES (sizeof(ref_piece_cases) / sizeof(ref_piece_cases[0]))

#endif

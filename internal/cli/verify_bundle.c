/* verify-bundle: the sigstore-conformance CLI protocol, so the official
 * suite can drive the verifier:
 *   verify-bundle --bundle F (--certificate-identity I --certificate-oidc-issuer U
 *                 | --key K) [--trusted-root T] FILE_OR_DIGEST
 * Exit 0 verified, 1 refused or undecided, 2 usage. */
#include "cli_int.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magos/ref.h"
#include "magos/sigstore.h"

#define ARTIFACT_MAX (256u * 1024 * 1024)

struct vb_args {
	const char *bundle, *root, *subject;
	int image;
	struct md_sigstore_req_spec spec;
};

static const char *env_home(char **envp)
{
	for (; envp && *envp; envp++)
		if (!strncmp(*envp, "HOME=", 5))
			return *envp + 5;
	return NULL;
}

static int parse_args(struct vb_args *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "certificate-identity", required_argument, NULL, 'i' },
		{ "certificate-identity-regexp", required_argument, NULL, 'I' },
		{ "certificate-oidc-issuer", required_argument, NULL, 'o' },
		{ "certificate-oidc-issuer-regexp", required_argument, NULL, 'O' },
		{ "key", required_argument, NULL, 'k' },
		{ "trusted-root", required_argument, NULL, 't' },
		{ "image", no_argument, NULL, 'm' },
		{ "staging", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	int o;

	optind = 0; /* argv[0] here is the subcommand itself */
	while ((o = getopt_long(argc + 1, argv - 1, "", opts, NULL)) != -1) {
		switch (o) {
		case 'b': a->bundle = optarg; break;
		case 'i': a->spec.identity = optarg; break;
		case 'I': a->spec.identity_regexp = optarg; break;
		case 'o': a->spec.issuer = optarg; break;
		case 'O': a->spec.issuer_regexp = optarg; break;
		case 'k': a->spec.key_path = optarg; break;
		case 't': a->root = optarg; break;
		case 'm': a->image = 1; break;
		case 's':
			fprintf(stderr, "magos-dominus: --staging is not supported: pass the staging "
					"instance's --trusted-root\n");
			return 2;
		default: return 2;
		}
	}
	if (optind == argc) /* exactly one operand after the options */
		a->subject = argv[optind - 1];
	if (!a->bundle || !a->subject) {
		fprintf(stderr, "magos-dominus: verify-bundle --bundle FILE (--certificate-identity I "
				"--certificate-oidc-issuer U | --key FILE) [--trusted-root FILE] "
				"[--image] FILE_OR_DIGEST\n");
		return 2;
	}
	return 0;
}

/* The trusted root: --trusted-root, else cosign's cached copy when there
 * is one. *r stays NULL when there is none. */
static int load_root(const struct vb_args *a, char **envp, struct md_sigstore_root **r)
{
	char *cache = a->root ? NULL : md_sigstore_root_cosign_cache(env_home(envp));
	const char *path = a->root ? a->root : cache;
	struct md_err err;
	int rc = 0;

	*r = NULL;
	if (path && (a->root || md_path_exists(path)) && md_sigstore_root_load(r, path, &err) < 0) {
		fprintf(stderr, "magos-dominus: %s\n", err.msg);
		rc = 2;
	}
	free(cache);
	return rc;
}

static int verify(const struct vb_args *a, const struct md_sigstore_root *r,
		  const struct md_sigstore_req *q)
{
	struct md_sigstore_subject s = { .kind = a->image ? MD_SIGSTORE_IMAGE : MD_SIGSTORE_ARTIFACT };
	struct md_sigstore_bundle *b = NULL;
	struct md_sigstore_result res;
	enum md_sigstore_outcome o;
	struct md_err err;
	char *bundle = NULL, *data = NULL;
	size_t blen, dlen;
	int rc = 1;

	if (md_ref_valid_digest(a->subject) || a->image) {
		s.digest = a->subject;
	} else if (md_file_read(a->subject, ARTIFACT_MAX, &data, &dlen, &err) < 0) {
		fprintf(stderr, "magos-dominus: %s\n", err.msg);
		return 2;
	} else {
		s.data = data;
		s.len = dlen;
	}
	if (md_file_read(a->bundle, MD_SIGSTORE_MAX_INPUT, &bundle, &blen, &err) < 0 ||
	    md_sigstore_bundle_parse(&b, a->bundle, bundle, blen, &err) < 0) {
		fprintf(stderr, "magos-dominus: refused: %s\n", err.msg);
		goto out;
	}
	o = md_sigstore_verify(r, q, &s, b, &res, &err);
	if (o == MD_SIGSTORE_VERIFIED) {
		char when[32] = "";

		if (res.signed_at)
			md_time_format_rfc3339(res.signed_at, when, sizeof(when));
		if (res.keyless)
			printf("verified: signed by %s (issuer %s)", res.identity, res.issuer);
		else
			printf("verified: signed by %s", md_sigstore_req_describe(q));
		printf("%s%s; %zu log entries, %zu timestamps\n", *when ? " at " : "", when,
		       res.tlog_verified, res.stamps_verified);
		rc = 0;
	} else {
		fprintf(stderr, "magos-dominus: %s%s\n", o == MD_SIGSTORE_REFUSED ? "refused: " : "",
			err.msg);
	}
out:
	md_sigstore_bundle_free(b);
	free(bundle);
	free(data);
	return rc;
}

int md_cli__cmd_verify_bundle(struct cli *c, int argc, char **argv)
{
	struct vb_args a = { 0 };
	struct md_sigstore_root *r = NULL;
	struct md_sigstore_req *q = NULL;
	struct md_err err;
	int rc;

	rc = parse_args(&a, argc, argv);
	if (rc)
		return rc;
	if (md_sigstore_req_new(&q, &a.spec, &err) < 0) {
		fprintf(stderr, "magos-dominus: verify-bundle: %s\n", err.msg);
		return 2;
	}
	rc = load_root(&a, c->envp, &r);
	if (!rc)
		rc = verify(&a, r, q);
	md_sigstore_root_free(r);
	md_sigstore_req_free(q);
	return rc;
}

/* registry: manifests, indexes and image configs (pure parsers), then
 * image facts fetched from the scripted server. */
#include "unit.h"
#include "registry_fixture.h"

/* ---- manifests, indexes, configs --------------------------------------------- */

#define DG_1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define DG_2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define DG_3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"
#define MF_URL "http://r/v2/a/manifests/1"

static int parse_mf(struct md_reg_manifest *m, const char *body, const char *ct,
		    struct md_err *err)
{
	return md_registry__manifest_parse(m, body, strlen(body), ct, MF_URL, err);
}

static void test_manifest_index_with_attestations(void **state)
{
	struct md_reg_manifest m;
	struct md_err err;
	static const char body[] =
		"{\"schemaVersion\":2,\"mediaType\":\"" MD_MT_OCI_INDEX "\",\"manifests\":["
		"{\"mediaType\":\"" MD_MT_OCI_MANIFEST "\",\"digest\":\"" DG_1 "\",\"size\":1,"
		" \"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
		"{\"mediaType\":\"" MD_MT_OCI_MANIFEST "\",\"digest\":\"" DG_2 "\",\"size\":1,"
		" \"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}},"
		"{\"mediaType\":\"" MD_MT_OCI_MANIFEST "\",\"digest\":\"" DG_3 "\",\"size\":1,"
		" \"annotations\":{\"vnd.docker.reference.digest\":\"" DG_1 "\","
		"  \"vnd.docker.reference.type\":\"attestation-manifest\"},"
		" \"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"}},"
		"{\"mediaType\":\"application/vnd.example.thing+json\",\"digest\":\"" DG_3 "\","
		" \"platform\":{\"architecture\":\"s390x\",\"os\":\"linux\"}},"
		"{\"mediaType\":\"" MD_MT_OCI_MANIFEST "\",\"digest\":\"" DG_3 "\","
		" \"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
		"{\"mediaType\":\"" MD_MT_OCI_MANIFEST "\",\"digest\":\"" DG_3 "\","
		" \"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\"}},"
		"{\"mediaType\":\"" MD_MT_OCI_MANIFEST "\",\"digest\":\"" DG_3 "\","
		" \"platform\":{\"architecture\":\"a/b\",\"os\":\"linux\"}},"
		"{\"mediaType\":\"" MD_MT_OCI_MANIFEST "\",\"digest\":\"" DG_3 "\"},"
		"7],"
		"\"annotations\":{\"org.opencontainers.image.created\":\"2024-01-02T03:04:05Z\"}}";

	(void)state;
	assert_ok(parse_mf(&m, body, "application/vnd.oci.image.index.v1+json; charset=x", &err));
	assert_int_equal(m.kind, MD_REG_INDEX);
	/* attestation, unknown media type, duplicate, bad name, no platform: skipped */
	assert_int_equal(m.platforms.n, 3);
	assert_string_equal(m.platforms.v[0], "linux/amd64");
	assert_string_equal(m.platforms.v[1], "linux/arm64/v8");
	assert_string_equal(m.platforms.v[2], "linux/arm/v7");
	assert_string_equal(m.first, DG_1);
	assert_int_equal(m.created, 1704164645);
	assert_int_equal(m.first_created, 0);
	assert_null(m.config);
	md_registry__manifest_clear(&m);
}

static void test_manifest_docker_list(void **state)
{
	struct md_reg_manifest m;
	struct md_err err;
	/* attestation first: the first image entry is the one after it */
	static const char body[] =
		"{\"schemaVersion\":2,\"mediaType\":\"" MD_MT_DOCKER_LIST "\",\"manifests\":["
		"{\"mediaType\":\"" MD_MT_DOCKER_MANIFEST "\",\"digest\":\"" DG_3 "\","
		" \"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"}},"
		"{\"mediaType\":\"" MD_MT_DOCKER_MANIFEST "\",\"digest\":\"" DG_2 "\",\"size\":9,"
		" \"annotations\":{\"org.opencontainers.image.created\":\"2023-05-06T07:08:09+02:00\"},"
		" \"platform\":{\"architecture\":\"ppc64le\",\"os\":\"linux\","
		"  \"os.features\":[\"x\"],\"features\":[\"sse4\"]}}]}";

	(void)state;
	assert_ok(parse_mf(&m, body, MD_MT_DOCKER_LIST, &err));
	assert_int_equal(m.kind, MD_REG_INDEX);
	assert_int_equal(m.platforms.n, 1);
	assert_string_equal(m.platforms.v[0], "linux/ppc64le");
	assert_string_equal(m.first, DG_2);
	assert_int_equal(m.created, 0);
	assert_int_equal(m.first_created, 1683349689);
	md_registry__manifest_clear(&m);
	/* an empty index is an index with no platforms */
	assert_ok(parse_mf(&m, "{\"schemaVersion\":2,\"manifests\":[]}", MD_MT_OCI_INDEX, &err));
	assert_int_equal(m.kind, MD_REG_INDEX);
	assert_int_equal(m.platforms.n, 0);
	assert_null(m.first);
	md_registry__manifest_clear(&m);
}

static void test_manifest_image(void **state)
{
	struct md_reg_manifest m;
	struct md_err err;
	static const char oci[] =
		"{\"schemaVersion\":2,\"mediaType\":\"" MD_MT_OCI_MANIFEST "\","
		"\"config\":{\"mediaType\":\"" MD_MT_OCI_CONFIG "\",\"digest\":\"" DG_1 "\",\"size\":2},"
		"\"layers\":[],\"annotations\":{\"org.opencontainers.image.created\":"
		"\"2024-02-03T04:05:06.789Z\"}}";
	static const char docker[] =
		"{\"schemaVersion\":2,\"mediaType\":\"" MD_MT_DOCKER_MANIFEST "\","
		"\"config\":{\"mediaType\":\"" MD_MT_DOCKER_CONFIG "\",\"digest\":\"" DG_2 "\"},"
		"\"layers\":[]}";
	static const char artifact[] =
		"{\"schemaVersion\":2,\"mediaType\":\"" MD_MT_OCI_MANIFEST "\","
		"\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\"" DG_3
		"\",\"size\":2},\"layers\":[]}";

	(void)state;
	assert_ok(parse_mf(&m, oci, MD_MT_OCI_MANIFEST, &err));
	assert_int_equal(m.kind, MD_REG_IMAGE);
	assert_string_equal(m.config, DG_1);
	assert_int_equal(m.created, 1706933106);
	assert_int_equal(m.platforms.n, 0);
	md_registry__manifest_clear(&m);
	assert_ok(parse_mf(&m, docker, MD_MT_DOCKER_MANIFEST, &err));
	assert_string_equal(m.config, DG_2);
	assert_int_equal(m.created, 0);
	md_registry__manifest_clear(&m);
	/* artifacts carry no image config worth fetching */
	assert_ok(parse_mf(&m, artifact, NULL, &err));
	assert_int_equal(m.kind, MD_REG_IMAGE);
	assert_null(m.config);
	md_registry__manifest_clear(&m);
}

/* Without a telling Content-Type, the body's mediaType, then its shape. */
static void test_manifest_type_from_body(void **state)
{
	struct md_reg_manifest m;
	struct md_err err;

	(void)state;
	assert_ok(parse_mf(&m, "{\"mediaType\":\"" MD_MT_DOCKER_LIST "\",\"manifests\":[]}",
			   "application/json", &err));
	assert_int_equal(m.kind, MD_REG_INDEX);
	md_registry__manifest_clear(&m);
	assert_ok(parse_mf(&m, "{\"manifests\":[]}", NULL, &err));
	assert_int_equal(m.kind, MD_REG_INDEX);
	md_registry__manifest_clear(&m);
	assert_ok(parse_mf(&m, "{\"config\":{\"digest\":\"" DG_1 "\"}}", "", &err));
	assert_int_equal(m.kind, MD_REG_IMAGE);
	assert_string_equal(m.config, DG_1);
	md_registry__manifest_clear(&m);
}

static void expect_mf_error(const char *body, const char *ct, const char *want)
{
	struct md_reg_manifest m;
	struct md_err err;

	assert_int_equal(parse_mf(&m, body, ct, &err), -1);
	if (!strstr(err.msg, want))
		fail_msg("error \"%s\" lacks \"%s\"", err.msg, want);
	assert_int_equal(m.platforms.n, 0);
	assert_null(m.first);
	assert_null(m.config);
}

static void test_manifest_errors(void **state)
{
	(void)state;
	expect_mf_error("{\"manifests\":[", MD_MT_OCI_INDEX,
			"manifest at " MF_URL " is not valid JSON (line 1:");
	expect_mf_error("[]", MD_MT_OCI_INDEX, "manifest at " MF_URL " is not a JSON object");
	expect_mf_error("{\"mediaType\":\"" MD_MT_OCI_MANIFEST "\",\"manifests\":[]}",
			MD_MT_OCI_INDEX,
			"manifest at " MF_URL " was served as " MD_MT_OCI_INDEX " but says it is "
			MD_MT_OCI_MANIFEST);
	expect_mf_error("{\"schemaVersion\":1}",
			"application/vnd.docker.distribution.manifest.v1+prettyjws",
			"manifest at " MF_URL " has unsupported media type "
			"application/vnd.docker.distribution.manifest.v1+prettyjws");
	expect_mf_error("{\"mediaType\":\"text/html\"}", NULL, "unsupported media type text/html");
	expect_mf_error("{\"mediaType\":7}", NULL, "has a \"mediaType\" that is not a string");
	expect_mf_error("{\"schemaVersion\":2}", "application/json",
			"document at " MF_URL " is neither an image manifest nor an index");
	expect_mf_error("{\"manifests\":{}}", MD_MT_DOCKER_LIST,
			"index at " MF_URL " has no \"manifests\" array");
	expect_mf_error("{\"layers\":[]}", MD_MT_OCI_MANIFEST,
			"image manifest at " MF_URL " has no config digest");
	expect_mf_error("{\"config\":{\"mediaType\":\"" MD_MT_OCI_CONFIG "\",\"digest\":\"sha512:ab\"}}",
			MD_MT_OCI_MANIFEST, "unsupported config digest \"sha512:ab\"");
	expect_mf_error("", MD_MT_OCI_MANIFEST, "is not valid JSON");
}

static void test_manifest_platform_cap(void **state)
{
	struct md_buf b;
	struct md_reg_manifest m;
	struct md_err err;

	(void)state;
	md_buf_init(&b, 1 << 20);
	md_buf_puts(&b, "{\"manifests\":[");
	for (int i = 0; i <= MD_REG_MAX_PLATFORMS; i++)
		md_buf_printf(&b, "%s{\"digest\":\"" DG_1 "\",\"platform\":{\"os\":\"linux\","
			      "\"architecture\":\"a%d\"}}", i ? "," : "", i);
	md_buf_puts(&b, "]}");
	assert_int_equal(parse_mf(&m, b.data, MD_MT_OCI_INDEX, &err), -1);
	assert_string_equal(err.msg, "index at " MF_URL " lists more than 64 platforms");
	md_buf_clear(&b);
}

/* A string literal and its length. */
#define LIT(s) s, sizeof(s) - 1

static void test_config_parse(void **state)
{
	struct md_err err;
	char *plat;
	int64_t created;

	(void)state;
	assert_ok(md_registry__config_parse(LIT("{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\","
				      "\"created\":\"2024-01-02T03:04:05.123456789Z\"}"), "u",
				      &plat, &created, &err));
	assert_string_equal(plat, "linux/arm/v7");
	assert_int_equal(created, 1704164645);
	free(plat);
	/* no created; reproducible builds' epoch means "unknown" too */
	assert_ok(md_registry__config_parse(LIT("{\"architecture\":\"amd64\",\"os\":\"linux\"}"), "u",
				      &plat, &created, &err));
	assert_string_equal(plat, "linux/amd64");
	assert_int_equal(created, 0);
	free(plat);
	assert_ok(md_registry__config_parse(LIT("{\"created\":\"1970-01-01T00:00:00Z\",\"os\":\"linux\"}"),
				      "u", &plat, &created, &err));
	assert_null(plat);
	assert_int_equal(created, 0);
	assert_ok(md_registry__config_parse(LIT("{\"created\":\"yesterday\"}"), "u", &plat, &created, &err));
	assert_int_equal(created, 0);
	assert_int_equal(md_registry__config_parse(LIT("{\"os\":"), "http://r/v2/a/blobs/x", &plat,
					     &created, &err), -1);
	assert_non_null(strstr(err.msg, "image config at http://r/v2/a/blobs/x is not valid JSON"));
	assert_int_equal(md_registry__config_parse(LIT("[1]"), "u", &plat, &created, &err), -1);
	assert_string_equal(err.msg, "image config at u is not a JSON object");
}

/* ---- image facts against the scripted server -------------------------------- */

/* Documents served by h_facts, built before the server forks. */
static struct {
	char *multi, *m1, *c1;    /* index without created → first manifest → config */
	char *single, *c2;        /* image manifest with created, config for platform */
	char *stamped;            /* index with created: one request */
	char *badcfg;             /* config whose bytes do not match its digest */
	char d_multi[MD_DIGEST_STR_LEN + 1], d_m1[MD_DIGEST_STR_LEN + 1];
	char d_c1[MD_DIGEST_STR_LEN + 1], d_c2[MD_DIGEST_STR_LEN + 1];
	char d_single[MD_DIGEST_STR_LEN + 1];
} fx;

static void fx_digest(const char *body, char *out)
{
	md_sha256_digest(body, strlen(body), out);
}

static void fx_build(void)
{
	fx.c1 = md_strdup("{\"architecture\":\"amd64\",\"os\":\"linux\","
			  "\"created\":\"2024-01-02T03:04:05Z\"}");
	fx_digest(fx.c1, fx.d_c1);
	fx.m1 = md_asprintf("{\"schemaVersion\":2,\"mediaType\":\"" MD_MT_OCI_MANIFEST "\","
			    "\"config\":{\"mediaType\":\"" MD_MT_OCI_CONFIG "\",\"digest\":\"%s\"},"
			    "\"layers\":[]}", fx.d_c1);
	fx_digest(fx.m1, fx.d_m1);
	fx.multi = md_asprintf("{\"schemaVersion\":2,\"mediaType\":\"" MD_MT_OCI_INDEX "\","
			       "\"manifests\":["
			       "{\"mediaType\":\"" MD_MT_OCI_MANIFEST "\",\"digest\":\"" DG_3 "\","
			       "\"annotations\":{\"vnd.docker.reference.type\":\"attestation-manifest\"},"
			       "\"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"}},"
			       "{\"mediaType\":\"" MD_MT_OCI_MANIFEST "\",\"digest\":\"%s\","
			       "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},"
			       "{\"mediaType\":\"" MD_MT_OCI_MANIFEST "\",\"digest\":\"" DG_2 "\","
			       "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\"}}]}",
			       fx.d_m1);
	fx_digest(fx.multi, fx.d_multi);
	fx.c2 = md_strdup("{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\","
			  "\"created\":\"2020-01-01T00:00:00Z\"}");
	fx_digest(fx.c2, fx.d_c2);
	fx.single = md_asprintf("{\"schemaVersion\":2,\"mediaType\":\"" MD_MT_DOCKER_MANIFEST "\","
				"\"config\":{\"mediaType\":\"" MD_MT_DOCKER_CONFIG "\","
				"\"digest\":\"%s\"},\"layers\":[],\"annotations\":"
				"{\"org.opencontainers.image.created\":\"2023-03-04T05:06:07Z\"}}",
				fx.d_c2);
	fx_digest(fx.single, fx.d_single);
	fx.stamped = md_strdup("{\"schemaVersion\":2,\"mediaType\":\"" MD_MT_OCI_INDEX "\","
			       "\"manifests\":[{\"mediaType\":\"" MD_MT_OCI_MANIFEST "\","
			       "\"digest\":\"" DG_1 "\",\"platform\":{\"architecture\":\"s390x\","
			       "\"os\":\"linux\"}}],\"annotations\":"
			       "{\"org.opencontainers.image.created\":\"2022-02-02T02:02:02Z\"}}");
	fx.badcfg = md_strdup("{\"schemaVersion\":2,\"mediaType\":\"" MD_MT_OCI_MANIFEST "\","
			      "\"config\":{\"mediaType\":\"" MD_MT_OCI_CONFIG "\",\"digest\":\""
			      DG_1 "\"},\"layers\":[]}");
}

static void fx_free(void)
{
	free(fx.multi);
	free(fx.m1);
	free(fx.c1);
	free(fx.single);
	free(fx.c2);
	free(fx.stamped);
	free(fx.badcfg);
}

/* 200 with the body, its media type and a Docker-Content-Digest (the
 * body's own unless `digest` says otherwise). */
static char *serve_doc(const char *body, const char *type, const char *digest)
{
	char dg[MD_DIGEST_STR_LEN + 1], hdr[400];

	fx_digest(body, dg);
	snprintf(hdr, sizeof(hdr), "Content-Type: %s\r\nDocker-Content-Digest: %s\r\n", type,
		 digest ? digest : dg);
	return reply(200, hdr, body);
}

static int is_get(const char *head, const char *kind, const char *ref)
{
	char line[256];

	snprintf(line, sizeof(line), "GET /v2/acme/app/%s/%s ", kind, ref);
	return strncmp(head, line, strlen(line)) == 0;
}

static char *h_facts(const char *head, int port)
{
	(void)port;
	if (is_get(head, "manifests", "multi") || is_get(head, "manifests", fx.d_multi))
		return serve_doc(fx.multi, MD_MT_OCI_INDEX, NULL);
	if (is_get(head, "manifests", fx.d_m1))
		return serve_doc(fx.m1, MD_MT_OCI_MANIFEST, NULL);
	if (is_get(head, "blobs", fx.d_c1))
		return serve_doc(fx.c1, "application/octet-stream", NULL);
	if (is_get(head, "manifests", "single"))
		return serve_doc(fx.single, MD_MT_DOCKER_MANIFEST, NULL);
	if (is_get(head, "blobs", fx.d_c2)) /* a CDN-style hop, as registries do */
		return reply(307, "Location: /cdn/c2\r\n", "");
	if (strncmp(head, "GET /cdn/c2 ", 12) == 0)
		return serve_doc(fx.c2, "application/octet-stream", NULL);
	if (is_get(head, "blobs", DG_1)) /* not what DG_1 names */
		return serve_doc(fx.c1, "application/octet-stream", NULL);
	if (is_get(head, "manifests", DG_2)) /* m1's bytes, claimed to be DG_2 */
		return serve_doc(fx.m1, MD_MT_OCI_MANIFEST, DG_2);
	if (is_get(head, "manifests", "stamped"))
		return serve_doc(fx.stamped, MD_MT_OCI_INDEX, NULL);
	if (is_get(head, "manifests", "liar"))
		return serve_doc(fx.stamped, MD_MT_OCI_INDEX, DG_1);
	if (is_get(head, "manifests", "mismatch"))
		return serve_doc(fx.single, MD_MT_OCI_INDEX, NULL);
	if (is_get(head, "manifests", "badcfg"))
		return serve_doc(fx.badcfg, MD_MT_OCI_MANIFEST, NULL);
	return reply(404, "", "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\"}]}");
}

static uint64_t requests_of(const struct md_registry *r)
{
	struct md_registry_stats st;

	md_registry_stats(r, &st);
	return st.requests;
}

static void test_client_image_facts(void **state)
{
	struct md_image_facts f;
	struct md_registry *r;
	struct md_err err;
	struct fake f_srv;
	char dom[64], *log;
	uint64_t before;

	(void)state;
	fx_build();
	fake_start(&f_srv, h_facts);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f_srv.port);
	r = client(f_srv.port, NULL);

	/* index without created: its first image entry's config says it */
	assert_ok(md_registry_image_facts(r, dom, "acme/app", fx.d_multi, &f, &err));
	assert_string_equal(f.digest, fx.d_multi);
	assert_int_equal(f.created, 1704164645);
	assert_int_equal(f.platforms.n, 2);
	assert_string_equal(f.platforms.v[0], "linux/amd64");
	assert_string_equal(f.platforms.v[1], "linux/arm64");
	assert_int_equal(requests_of(r), 3);
	md_registry_image_facts_clear(&f);

	/* single manifest: platform from the config, created from the annotation */
	before = requests_of(r);
	assert_ok(md_registry_image_facts(r, dom, "acme/app", "single", &f, &err));
	assert_string_equal(f.digest, fx.d_single);
	assert_int_equal(f.created, 1677906367);
	assert_int_equal(f.platforms.n, 1);
	assert_string_equal(f.platforms.v[0], "linux/arm/v7");
	assert_int_equal(requests_of(r) - before, 3); /* manifest, blob, redirect hop */
	md_registry_image_facts_clear(&f);

	/* an index that says when it was built costs one request */
	before = requests_of(r);
	assert_ok(md_registry_image_facts(r, dom, "acme/app", "stamped", &f, &err));
	assert_int_equal(f.created, 1643767322);
	assert_int_equal(f.platforms.n, 1);
	assert_string_equal(f.platforms.v[0], "linux/s390x");
	assert_int_equal(requests_of(r) - before, 1);
	md_registry_image_facts_clear(&f);
	md_registry_free(r);
	log = fake_stop(&f_srv);
	assert_non_null(strstr(log, "Accept: " MD_REG_MANIFEST_ACCEPT "\r\n"));
	free(log);
	fx_free();
}

static void test_client_image_facts_refused(void **state)
{
	struct md_image_facts f;
	struct md_registry_stats st;
	struct md_registry *r;
	struct md_err err;
	struct fake f_srv;
	char dom[64], want[600];

	(void)state;
	fx_build();
	fake_start(&f_srv, h_facts);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f_srv.port);
	r = client(f_srv.port, NULL);
	assert_int_equal(md_registry_image_facts(r, dom, "acme/app", "liar", &f, &err), -1);
	assert_null(f.digest);
	snprintf(want, sizeof(want), "registry %s: manifest at http://%s/v2/acme/app/manifests/liar "
		 "has digest ", dom, dom);
	assert_true(md_str_has_prefix(err.msg, want));
	assert_true(md_str_has_suffix(err.msg, " but should have " DG_1));
	/* asked by digest: the body must hash to it */
	assert_int_equal(md_registry_image_facts(r, dom, "acme/app", fx.d_single, &f, &err), -1);
	snprintf(want, sizeof(want), "registry %s: manifest %s not found in repository acme/app",
		 dom, fx.d_single);
	assert_true(md_str_has_prefix(err.msg, want));
	assert_int_equal(md_registry_image_facts(r, dom, "acme/app", "mismatch", &f, &err), -1);
	snprintf(want, sizeof(want), "registry %s: manifest at http://%s/v2/acme/app/manifests/"
		 "mismatch was served as " MD_MT_OCI_INDEX " but says it is " MD_MT_DOCKER_MANIFEST,
		 dom, dom);
	assert_string_equal(err.msg, want);
	assert_int_equal(md_registry_image_facts(r, dom, "acme/app", "badcfg", &f, &err), -1);
	snprintf(want, sizeof(want), "registry %s: blob at http://%s/v2/acme/app/blobs/" DG_1
		 " has digest %s but should have " DG_1, dom, dom, fx.d_c1);
	assert_string_equal(err.msg, want);
	assert_int_equal(md_registry_image_facts(r, dom, "acme/app", "nope", &f, &err), -1);
	snprintf(want, sizeof(want), "registry %s: tag nope not found in repository acme/app", dom);
	assert_true(md_str_has_prefix(err.msg, want));
	assert_int_equal(md_registry_image_facts(r, dom, "Acme", "x", &f, &err), -1);
	assert_non_null(strstr(err.msg, "invalid repository name \"Acme\""));
	md_registry_stats(r, &st);
	assert_int_equal(st.errors, 6);
	md_registry_free(r);
	free(fake_stop(&f_srv));
	fx_free();
}

/* A digest a HEAD claimed: fetched by digest, its bytes must hash to it. */
static void test_client_verify_manifest(void **state)
{
	struct md_registry_stats st;
	struct md_registry *r;
	struct md_err err;
	struct fake f_srv;
	char dom[64], want[600], *log;

	(void)state;
	fx_build();
	fake_start(&f_srv, h_facts);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f_srv.port);
	r = client(f_srv.port, NULL);
	assert_ok(md_registry_verify_manifest(r, dom, "acme/app", fx.d_m1, &err));
	assert_int_equal(requests_of(r), 1);
	assert_int_equal(md_registry_verify_manifest(r, dom, "acme/app", DG_2, &err), -1);
	snprintf(want, sizeof(want), "registry %s: manifest at http://%s/v2/acme/app/manifests/"
		 DG_2 " has digest %s but should have " DG_2, dom, dom, fx.d_m1);
	assert_string_equal(err.msg, want);
	assert_int_equal(md_registry_verify_manifest(r, dom, "acme/app", DG_3, &err), -1);
	snprintf(want, sizeof(want), "registry %s: manifest " DG_3 " not found in repository "
		 "acme/app", dom);
	assert_true(md_str_has_prefix(err.msg, want));
	assert_int_equal(md_registry_verify_manifest(r, dom, "acme/app", "multi", &err), -1);
	assert_non_null(strstr(err.msg, "cannot verify \"multi\": not a sha256 digest"));
	md_registry_stats(r, &st);
	assert_int_equal(st.errors, 3);
	assert_int_equal(st.requests, 3); /* the tag was not asked for */
	md_registry_free(r);
	log = fake_stop(&f_srv);
	assert_non_null(strstr(log, "Accept: " MD_REG_MANIFEST_ACCEPT "\r\n"));
	assert_int_equal(count(log, "GET /v2/acme/app/manifests/"), 3);
	free(log);
	fx_free();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifest_index_with_attestations),
		cmocka_unit_test(test_manifest_docker_list),
		cmocka_unit_test(test_manifest_image),
		cmocka_unit_test(test_manifest_type_from_body),
		cmocka_unit_test(test_manifest_errors),
		cmocka_unit_test(test_manifest_platform_cap),
		cmocka_unit_test(test_config_parse),
		cmocka_unit_test(test_client_image_facts),
		cmocka_unit_test(test_client_image_facts_refused),
		cmocka_unit_test(test_client_verify_manifest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

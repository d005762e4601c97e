/* watcher: a digest is pinned only once its manifest was fetched by that
 * digest and hashed to it (issue 11), against the scripted registry of
 * registry_fixture.h. Each repository serves one image manifest of its own
 * (an annotation names the repository, so digests differ); acme/liar's
 * HEAD claims a digest its manifest does not hash to. */
#include "unit.h"
#include "registry_fixture.h"
#include "tmpdir.h"

#include "magos/policy.h"
#include "magos/ref.h"
#include "magos/state.h"
#include "magos/watcher.h"

#define CONFIG_BODY "{\"architecture\":\"amd64\",\"os\":\"linux\"}"

/* The image manifest acme/<name> serves (caller frees); *dg its digest. */
static char *manifest_of(const char *name, char *dg)
{
	char cfg[MD_DIGEST_STR_LEN + 1], *m;

	md_sha256_digest(CONFIG_BODY, strlen(CONFIG_BODY), cfg);
	m = md_asprintf("{\"schemaVersion\":2,\"mediaType\":\"" MD_MT_OCI_MANIFEST "\","
			"\"config\":{\"mediaType\":\"" MD_MT_OCI_CONFIG "\",\"digest\":\"%s\","
			"\"size\":%zu},\"layers\":[],"
			"\"annotations\":{\"test.repo\":\"%s\"}}", cfg, strlen(CONFIG_BODY), name);
	if (dg)
		md_sha256_digest(m, strlen(m), dg);
	return m;
}

/* "acme/<name>/" of a request line, into name. */
static int repo_of(const char *head, char *name, size_t size)
{
	const char *p = strstr(head, "/v2/acme/"), *e;

	if (!p)
		return -1;
	p += strlen("/v2/acme/");
	if (!(e = strchr(p, '/')) || (size_t)(e - p) >= size)
		return -1;
	memcpy(name, p, (size_t)(e - p));
	name[e - p] = '\0';
	return 0;
}

static char *h_registry(const char *head, int port)
{
	char name[32], dg[MD_DIGEST_STR_LEN + 1], *m, *out;
	const char *claim;

	(void)port;
	if (repo_of(head, name, sizeof(name)) < 0)
		return reply(404, "", "{}");
	if (strncmp(head, "GET /v2/acme/app/tags/list", 26) == 0)
		return reply(200, "Content-Type: application/json\r\n",
			     "{\"name\":\"acme/app\",\"tags\":[\"1.0\",\"1.1\"]}");
	if (strstr(head, "/blobs/sha256:"))
		return reply(200, "Content-Type: application/octet-stream\r\n", CONFIG_BODY);
	m = manifest_of(name, dg);
	claim = strcmp(name, "liar") ? dg : DIGEST_A;
	if (strncmp(head, "HEAD ", 5) == 0)
		out = md_asprintf("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %zu\r\n"
				  "Content-Type: " MD_MT_OCI_MANIFEST "\r\n"
				  "Docker-Content-Digest: %s\r\n\r\n", strlen(m), claim);
	else if (strstr(head, "/manifests/sha256:"))
		out = reply(200, "Content-Type: " MD_MT_OCI_MANIFEST "\r\n", m);
	else
		out = reply(404, "", "{}");
	free(m);
	return out;
}

struct site_def {
	const char *ref;        /* after "127.0.0.1:<port>/" */
	const char *annotation;
};

static const struct site_def defs[] = {
	{ "acme/liar:latest", "{\"magos\": {\"policy\": \"latest\"}}" },
	{ "acme/web:latest", "{\"magos\": {\"policy\": \"latest\"}}" },
	{ "acme/app:1.0", "{\"magos\": {\"policy\": \"semver\", \"range\": \"^1.0\"}}" },
	{ "acme/app@" DIGEST_A, "{\"magos\": {\"policy\": \"digest\", \"tag\": \"1.1\"}}" },
};
#define NSITES (sizeof(defs) / sizeof(defs[0]))

struct sites {
	struct md_watch_site s[NSITES];
	struct md_ref *refs[NSITES];
	struct md_policy *pols[NSITES];
};

static void sites_init(struct sites *v, int port)
{
	struct md_err err;
	char ref[128];

	memset(v, 0, sizeof(*v));
	for (size_t i = 0; i < NSITES; i++) {
		snprintf(ref, sizeof(ref), "127.0.0.1:%d/%s", port, defs[i].ref);
		assert_ok(md_ref_parse(&v->refs[i], ref, &err));
		assert_ok(md_policy_parse(&v->pols[i], defs[i].annotation, &err));
		v->s[i].ref = v->refs[i];
		v->s[i].policy = v->pols[i];
	}
}

static void sites_free(struct sites *v)
{
	for (size_t i = 0; i < NSITES; i++) {
		md_watch_site_clear(&v->s[i]);
		md_ref_free(v->refs[i]);
		md_policy_free(v->pols[i]);
	}
}

static void resolve(struct md_registry *r, struct md_state *st, struct sites *v, int port)
{
	struct md_decide_ctx ctx = { .now = 1700000000, .host_platform = "linux/amd64" };
	struct md_err err;

	sites_init(v, port);
	assert_ok(md_watcher_resolve_ctx(r, st, v->s, NSITES, &ctx, &err));
}

/* The request log so far (caller frees). */
static char *log_now(const struct fake *f)
{
	struct md_err err;
	char *log = NULL;

	if (md_file_read(f->log, 1 << 20, &log, NULL, &err) < 0)
		log = md_strdup("");
	return log;
}

static size_t count_since(const char *log, size_t from, const char *needle)
{
	return count(log + from, needle);
}

static void test_pinned_digest_is_verified_once(void **state)
{
	char d_web[MD_DIGEST_STR_LEN + 1], d_app[MD_DIGEST_STR_LEN + 1], d_liar[MD_DIGEST_STR_LEN + 1];
	char want[512], *dir = tmpdir_new("md-watcher"), *log, *warn = NULL;
	struct md_registry *r;
	struct md_state *st;
	struct md_err err;
	struct sites v;
	struct fake f;
	size_t mark;

	(void)state;
	free(manifest_of("web", d_web));
	free(manifest_of("app", d_app));
	free(manifest_of("liar", d_liar));
	fake_start(&f, h_registry);
	r = client(f.port, NULL);
	assert_ok(md_state_load(&st, dir, &warn, &err));

	resolve(r, st, &v, f.port);
	/* the lie is refused, naming the image, the tag and both digests */
	assert_null(v.s[0].digest);
	assert_non_null(v.s[0].error);
	snprintf(want, sizeof(want), "127.0.0.1:%d/acme/liar:latest: the registry says the tag "
		 "is at " DIGEST_A ", but that digest does not check out (", f.port);
	if (!strstr(v.s[0].error, want) || !strstr(v.s[0].error, d_liar))
		fail_msg("error \"%s\"", v.s[0].error);
	/* the others pin their verified digests */
	assert_null(v.s[1].error);
	assert_string_equal(v.s[1].digest, d_web);
	assert_string_equal(v.s[2].tag, "1.1");
	assert_string_equal(v.s[2].digest, d_app);
	assert_string_equal(v.s[3].digest, d_app);
	log = log_now(&f);
	assert_int_equal(count(log, "GET /v2/acme/liar/manifests/" DIGEST_A " "), 1);
	assert_int_equal(count(log, "GET /v2/acme/web/manifests/sha256:"), 1);
	assert_int_equal(count(log, "HEAD /v2/acme/app/manifests/1.1 "), 1);
	/* fetched once for the platform check, which verified it too */
	assert_int_equal(count(log, "GET /v2/acme/app/manifests/sha256:"), 1);
	assert_int_equal(md_state_digest_verified(st, d_web), 1);
	assert_int_equal(md_state_digest_verified(st, d_app), 1);
	assert_int_equal(md_state_digest_verified(st, DIGEST_A), 0);
	mark = strlen(log);
	free(log);
	sites_free(&v);

	/* Steady: verified digests cost their HEAD only (the state, saved and
	 * loaded, remembers them); the lie is asked and refused again. */
	assert_ok(md_state_save(st, &err));
	md_state_free(st);
	assert_ok(md_state_load(&st, dir, &warn, &err));
	resolve(r, st, &v, f.port);
	assert_string_equal(v.s[1].digest, d_web);
	assert_string_equal(v.s[3].digest, d_app);
	assert_non_null(v.s[0].error);
	log = log_now(&f);
	assert_int_equal(count_since(log, mark, "HEAD /v2/acme/web/manifests/latest "), 1);
	assert_int_equal(count_since(log, mark, "GET /v2/acme/web/"), 0);
	assert_int_equal(count_since(log, mark, "GET /v2/acme/app/manifests/"), 0);
	assert_int_equal(count_since(log, mark, "GET /v2/acme/app/blobs/"), 0);
	assert_int_equal(count_since(log, mark, "GET /v2/acme/liar/manifests/" DIGEST_A " "), 1);
	free(log);
	sites_free(&v);

	/* Without a state (plan on a fresh host) nothing is remembered, but a
	 * digest is still never pinned unverified. */
	resolve(r, NULL, &v, f.port);
	assert_null(v.s[0].digest);
	assert_string_equal(v.s[1].digest, d_web);
	sites_free(&v);

	md_state_free(st);
	md_registry_free(r);
	free(fake_stop(&f));
	tmpdir_free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pinned_digest_is_verified_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* registry: credentials. base64 and auth.json lookups, podman's auth file
 * order, credHelpers and identity tokens (pure), then the client using them
 * against the scripted server: Basic to the token service, first matching
 * file, a credential helper on PATH, the OAuth2 refresh flow. */
#include "unit.h"
#include "registry_fixture.h"

/* ---- base64 and auth.json ------------------------------------------------- */

static void test_base64(void **state)
{
	static const char *plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
				     "Zm9vYmFy" };
	static const char *bad[] = { "Zg=", "Zg", "Z===", "Zm9v!A==", "Zg==Zg==", "=Zg=",
				     "Zm 9v" };
	unsigned char *out;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(plain) / sizeof(*plain); i++) {
		char *e = md_registry__base64_encode(plain[i], strlen(plain[i]));

		assert_string_equal(e, enc[i]);
		free(e);
		assert_int_equal(md_registry__base64_decode(enc[i], &out, &n), 0);
		assert_int_equal(n, strlen(plain[i]));
		assert_memory_equal(out, plain[i], n);
		free(out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(md_registry__base64_decode(bad[i], &out, &n), -1);
}

static int lookup(const char *json, const char *domain, const char *path, char **user,
		  char **pass, struct md_err *err)
{
	return md_registry__auth_lookup(json, strlen(json), "/etc/auth.json", domain, path, user, pass,
				  err);
}

static void expect_creds(const char *json, const char *domain, const char *path,
			 const char *want_user, const char *want_pass)
{
	struct md_err err;
	char *u, *p;

	assert_int_equal(lookup(json, domain, path, &u, &p, &err), 1);
	assert_string_equal(u, want_user);
	assert_string_equal(p, want_pass);
	md_registry__secret_free(u);
	md_registry__secret_free(p);
}

static void test_auth_exact_host(void **state)
{
	(void)state;
	expect_creds("{\"auths\":{\"ghcr.io\":{\"auth\":\"" B64_USER_PASS "\"}}}", "ghcr.io",
		     "acme/web", "user", "pass");
	expect_creds("{\"auths\":{\"127.0.0.1:5000\":{\"auth\":\"" B64_USER_PASS "\"}}}",
		     "127.0.0.1:5000", "a", "user", "pass");
}

static void test_auth_most_specific(void **state)
{
	const char *j = "{\"auths\":{\"quay.io\":{\"auth\":\"" B64_USER_PASS "\"},"
			"\"quay.io/org\":{\"auth\":\"" B64_ORG "\"},"
			"\"quay.io/org/deep/repo\":{\"auth\":\"" B64_DEEP "\"}}}";

	(void)state;
	expect_creds(j, "quay.io", "org/deep/repo", "deep", "deeppw");
	expect_creds(j, "quay.io", "org/deep/other", "org", "orgpw");
	expect_creds(j, "quay.io", "org/x", "org", "orgpw");
	expect_creds(j, "quay.io", "organisation/x", "user", "pass");
	expect_creds(j, "quay.io", "other", "user", "pass");
}

static void test_auth_docker_aliases(void **state)
{
	(void)state;
	expect_creds("{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"" B64_HUB "\"}}}",
		     "docker.io", "library/nginx", "hub", "hubpw");
	expect_creds("{\"auths\":{\"registry-1.docker.io\":{\"auth\":\"" B64_HUB "\"}}}",
		     "docker.io", "library/nginx", "hub", "hubpw");
	expect_creds("{\"auths\":{\"docker.io\":{\"auth\":\"" B64_HUB "\"}}}",
		     "index.docker.io", "library/nginx", "hub", "hubpw");
	expect_creds("{\"auths\":{\"index.docker.io/acme\":{\"auth\":\"" B64_ORG "\"},"
		     "\"docker.io\":{\"auth\":\"" B64_HUB "\"}}}",
		     "docker.io", "acme/app", "org", "orgpw");
}

static void test_auth_http_prefix(void **state)
{
	(void)state;
	expect_creds("{\"auths\":{\"http://localhost:5000\":{\"auth\":\"" B64_USER_PASS "\"}}}",
		     "localhost:5000", "a/b", "user", "pass");
	expect_creds("{\"auths\":{\"https://GHCR.io/v2/\":{\"auth\":\"" B64_USER_PASS "\"}}}",
		     "ghcr.io", "a/b", "user", "pass");
}

static void test_auth_decoding(void **state)
{
	/* "u:p:w\0\0" → password keeps its colon, trailing NULs stripped */
	(void)state;
	expect_creds("{\"auths\":{\"r.io\":{\"auth\":\"dTpwOncAAA==\"}}}", "r.io", "x", "u",
		     "p:w");
	/* empty user and password */
	expect_creds("{\"auths\":{\"r.io\":{\"auth\":\"Og==\"}}}", "r.io", "x", "", "");
}

static void test_auth_no_match(void **state)
{
	struct md_err err;
	char *u = (char *)1, *p = (char *)1;

	(void)state;
	assert_int_equal(lookup("{\"auths\":{\"ghcr.io\":{\"auth\":\"" B64_USER_PASS "\"}}}",
				"quay.io", "a", &u, &p, &err), 0);
	assert_null(u);
	assert_null(p);
	assert_int_equal(lookup("{\"auths\":{\"ghcr.io/acme\":{\"auth\":\"" B64_USER_PASS "\"}}}",
				"ghcr.io", "acmecorp/x", &u, &p, &err), 0);
	/* {} is a credential-helper entry: anonymous for us, and it stops the search */
	assert_int_equal(lookup("{\"auths\":{\"r.io/a\":{},\"r.io\":{\"auth\":\"" B64_USER_PASS
				"\"}}}", "r.io", "a/b", &u, &p, &err), 0);
	assert_int_equal(lookup("{\"credHelpers\":{}}", "r.io", "a", &u, &p, &err), 0);
}

static void test_auth_bad_entries(void **state)
{
	struct md_err err;
	char *u, *p;

	(void)state;
	assert_int_equal(lookup("{\"auths\":{\"r.io\":{\"auth\":\"dXNlcjpwYXNz!\"}}}", "r.io", "a",
				&u, &p, &err), -1);
	assert_string_equal(err.msg, "auth file /etc/auth.json: entry \"r.io\" has an \"auth\" "
				     "value that is not valid base64");
	assert_int_equal(lookup("{\"auths\":{\"r.io\":{\"auth\":\"bm9jb2xvbg==\"}}}", "r.io", "a",
				&u, &p, &err), -1);
	assert_non_null(strstr(err.msg, "not base64(user:password)"));
	assert_null(strstr(err.msg, "nocolon"));
	assert_int_equal(lookup("{\"auths\":", "r.io", "a", &u, &p, &err), -1);
	assert_non_null(strstr(err.msg, "auth file /etc/auth.json is not valid JSON"));
	assert_int_equal(lookup("[1]", "r.io", "a", &u, &p, &err), -1);
	assert_string_equal(err.msg, "auth file /etc/auth.json is not of the form {\"auths\": {...}}");
	assert_int_equal(lookup("{\"auths\":{\"r.io\":[]}}", "r.io", "a", &u, &p, &err), -1);
	assert_string_equal(err.msg, "auth file /etc/auth.json: entry \"r.io\" is not an object");
}

/* ---- the client with one auth file against the scripted server ---------- */

static char *write_auth_file(const char *content)
{
	char *path = md_asprintf("/tmp/md-auth-%d.json", (int)getpid());
	struct md_err err;

	assert_int_equal(md_file_write_atomic(path, content, strlen(content), 0600, &err), 0);
	return path;
}

static void test_client_basic_to_token_service(void **state)
{
	struct md_strv tags = { 0 };
	struct md_registry *r;
	struct md_err err;
	struct fake f;
	char dom[64], *log, *file, *json;

	(void)state;
	fake_start(&f, h_token_flow);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f.port);
	json = md_asprintf("{\"auths\":{\"http://%s\":{\"auth\":\"" B64_USER_PASS "\"}}}", dom);
	file = write_auth_file(json);
	r = client(f.port, file);
	assert_ok(md_registry_list_tags(r, dom, "acme/web", &tags, &err));
	assert_int_equal(tags.n, 3);
	md_registry_free(r);
	/* wrong password: the token service refuses, and the error says whose */
	free(json);
	json = md_asprintf("{\"auths\":{\"%s\":{\"auth\":\"dXNlcjp3cm9uZw==\"}}}", dom);
	unlink(file);
	free(file);
	file = write_auth_file(json);
	r = client(f.port, file);
	assert_int_equal(md_registry_list_tags(r, dom, "acme/web", &tags, &err), -1);
	assert_non_null(strstr(err.msg, "rejected the credentials for repository acme/web from"));
	assert_non_null(strstr(err.msg, file));
	assert_null(strstr(err.msg, "wrong"));
	assert_null(strstr(err.msg, "dXNlcjp3cm9uZw"));
	md_registry_free(r);
	log = fake_stop(&f);
	assert_non_null(strstr(log, "Authorization: Basic " B64_USER_PASS "\r\n"));
	/* Basic credentials only went to the token service (once per client:
	 * the token is cached), never to the registry */
	assert_int_equal(count(log, "GET /token"), 2);
	assert_int_equal(count(log, "Authorization: Basic"), 2);
	free(log);
	unlink(file);
	free(file);
	free(json);
	md_strv_clear(&tags);
}

static void test_client_missing_auth_file(void **state)
{
	struct md_registry_opts o = { 0 };
	struct md_registry *r = (struct md_registry *)1;
	struct md_err err;

	(void)state;
	o.auth_file = "/nonexistent/auth.json";
	assert_int_equal(md_registry_new(&r, &o, &err), -1);
	assert_null(r);
	assert_non_null(strstr(err.msg, "/nonexistent/auth.json"));
	md_registry_free(NULL);
}

/* ---- issue 7: auth file lookup order, helpers, identity tokens ------------ */

static void expect_files(const struct md_registry_auth_env *env, const char *const *want)
{
	struct md_strv got = { 0 };
	struct md_err err;
	size_t n = 0;

	assert_ok(md_registry_auth_files(&got, env, &err));
	while (want[n])
		n++;
	if (got.n != n)
		fail_msg("got %zu files, want %zu (first: %s)", got.n, n, got.n ? got.v[0] : "-");
	for (size_t i = 0; i < n; i++)
		assert_string_equal(got.v[i], want[i]);
	md_strv_clear(&got);
}

static void test_auth_files_order(void **state)
{
	static const struct {
		struct md_registry_auth_env env;
		const char *want[6];
	} cases[] = {
		/* an explicit file is the only one */
		{ { "/etc/md.json", "/etc/other.json", "/run/user/7", NULL, "/home/u", NULL, 7 },
		  { "/etc/md.json" } },
		{ { "", "/etc/other.json", "/run/user/7", NULL, "/home/u", NULL, 7 },
		  { "/etc/other.json" } },
		/* podman's order */
		{ { NULL, NULL, "/run/user/7", NULL, "/home/u", NULL, 7 },
		  { "/run/user/7/containers/auth.json", "/home/u/.config/containers/auth.json",
		    "/home/u/.docker/config.json", "/home/u/.dockercfg" } },
		{ { NULL, NULL, NULL, "/xdg", "/home/u", "/dc", 1000 },
		  { "/run/containers/1000/auth.json", "/xdg/containers/auth.json",
		    "/dc/config.json", "/home/u/.dockercfg" } },
		/* empty values count as unset; no HOME drops what needs it */
		{ { "", "", "", "", "", "", 0 }, { "/run/containers/0/auth.json" } },
		{ { NULL, NULL, NULL, "/xdg", NULL, "/dc", 0 },
		  { "/run/containers/0/auth.json", "/xdg/containers/auth.json", "/dc/config.json" } },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_files(&cases[i].env, cases[i].want);
}

static int find(const char *json, int legacy, const char *domain, const char *path,
		struct md_reg_cred *c, struct md_err *err)
{
	return md_registry__auth_find(json, strlen(json), "/x/auth.json", legacy, domain, path, c, err);
}

static void test_auth_find_helpers_and_tokens(void **state)
{
	struct md_reg_cred c;
	struct md_err err;
	const char *j = "{\"auths\":{\"ghcr.io\":{\"auth\":\"" B64_USER_PASS "\"},"
			"\"quay.io\":{\"auth\":\"" B64_USER_PASS "\",\"identitytoken\":\"idt-1\"},"
			"\"registry.example\":{}},"
			"\"credHelpers\":{\"ghcr.io\":\"gh\",\"https://index.docker.io/v1/\":\"hub\"}}";

	(void)state;
	/* credHelpers by host win over auths */
	assert_int_equal(find(j, 0, "ghcr.io", "acme/web", &c, &err), 1);
	assert_string_equal(c.helper, "gh");
	assert_null(c.user);
	md_registry__cred_clear(&c);
	assert_int_equal(find(j, 0, "docker.io", "library/nginx", &c, &err), 1);
	assert_string_equal(c.helper, "hub");
	md_registry__cred_clear(&c);
	/* an identitytoken wins over auth */
	assert_int_equal(find(j, 0, "quay.io", "org/app", &c, &err), 1);
	assert_true(c.identity);
	assert_string_equal(c.user, "user");
	assert_string_equal(c.secret, "idt-1");
	md_registry__cred_clear(&c);
	/* {} and no key: nothing here */
	assert_int_equal(find(j, 0, "registry.example", "a", &c, &err), 0);
	assert_int_equal(find(j, 0, "other.example", "a", &c, &err), 0);
	/* the legacy ~/.dockercfg has no "auths" wrapper */
	assert_int_equal(find("{\"https://index.docker.io/v1/\":{\"auth\":\"" B64_HUB "\","
			      "\"email\":\"x@y\"}}", 1, "docker.io", "library/nginx", &c, &err), 1);
	assert_string_equal(c.user, "hub");
	assert_string_equal(c.secret, "hubpw");
	md_registry__cred_clear(&c);
	/* broken helper names never reach posix_spawnp */
	assert_int_equal(find("{\"credHelpers\":{\"ghcr.io\":\"../../bin/sh\"}}", 0, "ghcr.io",
			      "a", &c, &err), -1);
	assert_string_equal(err.msg, "auth file /x/auth.json: credHelpers entry \"ghcr.io\" is not a helper name");
	assert_int_equal(find("{\"credHelpers\":[]}", 0, "ghcr.io", "a", &c, &err), -1);
	assert_string_equal(err.msg, "auth file /x/auth.json: \"credHelpers\" is not an object");
	assert_int_equal(find("[]", 1, "ghcr.io", "a", &c, &err), -1);
	assert_string_equal(err.msg, "auth file /x/auth.json is not a JSON object");
	/* the old interface only reports user/password */
	{
		char *u, *p;

		assert_int_equal(lookup(j, "quay.io", "org/app", &u, &p, &err), 0);
		assert_int_equal(lookup(j, "ghcr.io", "org/app", &u, &p, &err), 0);
		assert_null(u);
	}
}

static void test_credhelper_parse(void **state)
{
	struct md_reg_cred c;
	struct md_err err;
	const char *ok = "{\"ServerURL\":\"ghcr.io\",\"Username\":\"bob\",\"Secret\":\"s3cr3t\"}";
	const char *tok = "{\"ServerURL\":\"ghcr.io\",\"Username\":\"<token>\",\"Secret\":\"rt-9\"}";

	(void)state;
	assert_int_equal(md_registry__credhelper_parse(ok, strlen(ok), "gh", &c, &err), 0);
	assert_false(c.identity);
	assert_string_equal(c.user, "bob");
	assert_string_equal(c.secret, "s3cr3t");
	md_registry__cred_clear(&c);
	assert_int_equal(md_registry__credhelper_parse(tok, strlen(tok), "gh", &c, &err), 0);
	assert_true(c.identity);
	assert_null(c.user);
	assert_string_equal(c.secret, "rt-9");
	md_registry__cred_clear(&c);
	assert_int_equal(md_registry__credhelper_parse("credentials not found in native keychain", 40,
						 "gh", &c, &err), -1);
	assert_string_equal(err.msg, "credential helper docker-credential-gh printed invalid JSON (line 1)");
	assert_int_equal(md_registry__credhelper_parse("{\"Username\":\"bob\",\"Secret\":\"\"}", 30, "gh",
						 &c, &err), -1);
	assert_string_equal(err.msg, "credential helper docker-credential-gh printed no \"Username\" and \"Secret\"");
	assert_int_equal(md_registry__credhelper_parse("{\"Secret\":\"zz-top\"}", 19, "gh", &c, &err), -1);
	assert_null(strstr(err.msg, "zz-top"));
}

static void test_refresh_form(void **state)
{
	char *f;

	(void)state;
	f = md_registry__refresh_form("rt/9+x=", "registry.docker.io", "repository:library/nginx:pull");
	assert_string_equal(f, "grant_type=refresh_token&refresh_token=rt%2F9%2Bx%3D"
			       "&service=registry.docker.io&scope=repository%3Alibrary%2Fnginx%3Apull"
			       "&client_id=magos-dominus");
	md_registry__secret_free(f);
	f = md_registry__refresh_form("rt", NULL, NULL);
	assert_string_equal(f, "grant_type=refresh_token&refresh_token=rt&client_id=magos-dominus");
	md_registry__secret_free(f);
}

/* A client reading credentials from an ordered list of files. */
static struct md_registry *client_files(int port, const struct md_strv *files)
{
	struct md_registry_opts o;

	client_opts(&o, port);
	o.auth_files = files;
	return client_new(&o);
}

static char *write_file_at(const char *name, const char *content)
{
	char *path = md_asprintf("/tmp/md-auth-%d-%s", (int)getpid(), name);
	struct md_err err;

	assert_int_equal(md_file_write_atomic(path, content, strlen(content), 0700, &err), 0);
	return path;
}

static void test_client_auth_files_first_match(void **state)
{
	struct md_strv files = { 0 }, tags = { 0 };
	struct md_registry *r;
	struct md_err err;
	struct fake f;
	char dom[64], *log, *wrong, *right, *other, *json;

	(void)state;
	fake_start(&f, h_token_flow);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f.port);
	other = write_file_at("other.json", "{\"auths\":{\"ghcr.io\":{\"auth\":\"dXNlcjp3cm9uZw==\"}}}");
	json = md_asprintf("{\"auths\":{\"%s\":{\"auth\":\"" B64_USER_PASS "\"}}}", dom);
	right = write_file_at("right.json", json);
	free(json);
	json = md_asprintf("{\"auths\":{\"%s\":{\"auth\":\"dXNlcjp3cm9uZw==\"}}}", dom);
	wrong = write_file_at("wrong.json", json);
	/* missing → skipped; no entry for this host → next; first match wins */
	md_strv_push(&files, "/nonexistent/containers/auth.json");
	md_strv_push(&files, other);
	md_strv_push(&files, right);
	md_strv_push(&files, wrong);
	r = client_files(f.port, &files);
	assert_ok(md_registry_list_tags(r, dom, "acme/web", &tags, &err));
	assert_int_equal(tags.n, 3);
	md_registry_free(r);
	log = fake_stop(&f);
	assert_int_equal(count(log, "Authorization: Basic " B64_USER_PASS "\r\n"), 1);
	free(log);
	/* a malformed file is an error naming it, at construction */
	md_file_write_atomic(wrong, "{nope", 5, 0600, &err);
	{
		struct md_registry_opts o = { 0 };

		o.auth_files = &files;
		assert_int_equal(md_registry_new(&r, &o, &err), -1);
		assert_non_null(strstr(err.msg, wrong));
		assert_non_null(strstr(err.msg, "is not valid JSON"));
	}
	unlink(other);
	unlink(right);
	unlink(wrong);
	free(other);
	free(right);
	free(wrong);
	free(json);
	md_strv_clear(&files);
	md_strv_clear(&tags);
}

/* The helper (a shell script on PATH) answers with user:pass or an
 * identity token depending on the server URL it is given. */
static const char helper_script[] =
	"#!/bin/sh\n"
	"[ \"$1\" = get ] || exit 2\n"
	"read -r url\n"
	"echo \"$url\" >> \"$0.log\"\n"
	"[ -e \"$0.none\" ] && { echo 'credentials not found in native keychain'; exit 1; }\n"
	"case \"$url\" in\n"
	"127.0.0.1:*) printf '{\"ServerURL\":\"%s\",\"Username\":\"user\",\"Secret\":\"pass\"}' \"$url\" ;;\n"
	"localhost:*) printf '{\"ServerURL\":\"%s\",\"Username\":\"<token>\",\"Secret\":\"idt-123\"}' \"$url\" ;;\n"
	"*) echo 'credentials not found in native keychain'; exit 1 ;;\n"
	"esac\n";

static char *install_helper(void)
{
	char *dir = md_asprintf("/tmp/md-helper-%d", (int)getpid());
	char *prog = md_asprintf("%s/docker-credential-mdunit", dir);
	char *path = md_asprintf("%s:/usr/bin:/bin", dir);
	struct md_err err;

	assert_int_equal(md_mkdir_p(dir, 0700, &err), 0);
	assert_int_equal(md_file_write_atomic(prog, helper_script, strlen(helper_script), 0700,
					      &err), 0);
	setenv("PATH", path, 1);
	free(prog);
	free(path);
	return dir;
}

static void remove_helper(char *dir)
{
	char *p = md_asprintf("%s/docker-credential-mdunit", dir), *l = md_asprintf("%s.log", p);

	unlink(p);
	unlink(l);
	rmdir(dir);
	free(p);
	free(l);
	free(dir);
}

static void test_client_credhelper_basic(void **state)
{
	struct md_strv files = { 0 }, tags = { 0 };
	struct md_registry *r;
	struct md_err err;
	struct fake f;
	char dom[64], *log, *file, *json, *dir = install_helper(), *hlog;

	(void)state;
	fake_start(&f, h_token_flow);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f.port);
	/* credHelpers beat an auths entry with wrong credentials */
	json = md_asprintf("{\"auths\":{\"%s\":{\"auth\":\"dXNlcjp3cm9uZw==\"}},"
			   "\"credHelpers\":{\"%s\":\"mdunit\"}}", dom, dom);
	file = write_file_at("helper.json", json);
	md_strv_push(&files, file);
	r = client_files(f.port, &files);
	assert_ok(md_registry_list_tags(r, dom, "acme/web", &tags, &err));
	assert_int_equal(tags.n, 3);
	md_registry_free(r);
	log = fake_stop(&f);
	assert_int_equal(count(log, "Authorization: Basic " B64_USER_PASS "\r\n"), 1);
	free(log);
	hlog = md_asprintf("%s/docker-credential-mdunit.log", dir);
	assert_int_equal(md_file_read(hlog, 4096, &log, NULL, &err), 0);
	json = (free(json), md_asprintf("%s\n", dom));
	assert_string_equal(log, json); /* server URL on stdin, once */
	free(log);
	free(hlog);
	/* "credentials not found" from the helper: anonymous */
	fake_start(&f, h_token_flow);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f.port);
	unlink(file);
	free(file);
	free(json);
	json = md_asprintf("{\"credHelpers\":{\"%s\":\"mdunit\"}}", dom);
	file = write_file_at("helper.json", json);
	hlog = md_asprintf("%s/docker-credential-mdunit.none", dir);
	md_file_write_atomic(hlog, "", 0, 0600, &err);
	r = client_files(f.port, &files);
	assert_ok(md_registry_list_tags(r, dom, "acme/web", &tags, &err));
	md_registry_free(r);
	log = fake_stop(&f);
	assert_int_equal(count(log, "GET /token"), 1);
	assert_null(strstr(log, "Authorization: Basic"));
	free(log);
	unlink(hlog);
	free(hlog);
	/* a helper that is not installed: an error naming it */
	fake_start(&f, h_token_flow);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f.port);
	unlink(file);
	free(file);
	free(json);
	json = md_asprintf("{\"credHelpers\":{\"%s\":\"nosuch\"}}", dom);
	file = write_file_at("helper.json", json);
	r = client_files(f.port, &files);
	assert_int_equal(md_registry_list_tags(r, dom, "acme/web", &tags, &err), -1);
	assert_non_null(strstr(err.msg, "credential helper: cannot run docker-credential-nosuch: No such file or directory"));
	md_registry_free(r);
	free(fake_stop(&f));
	unlink(file);
	free(file);
	free(json);
	md_strv_clear(&files);
	md_strv_clear(&tags);
	remove_helper(dir);
}

/* The OAuth2 refresh flow: POST /token with the identity token, answered
 * with access_token; a GET /token would be a failure. */
static char *h_refresh_flow(const char *head, int port)
{
	static const char form[] =
		"grant_type=refresh_token&refresh_token=idt-123&service=fake"
		"&scope=repository%3Aacme%2Fweb%3Apull&client_id=magos-dominus";

	if (strncmp(head, "POST /token ", 12) == 0) {
		if (!strstr(head, "Content-Type: application/x-www-form-urlencoded\r\n") ||
		    !strstr(head, form))
			return reply(400, "", "{}");
		return reply(200, "Content-Type: application/json\r\n",
			     "{\"access_token\":\"tok1\",\"expires_in\":300,\"scope\":\"\"}");
	}
	if (strncmp(head, "GET /token", 10) == 0)
		return reply(401, "", "{}");
	return h_token_flow(head, port);
}

static void test_client_identity_token_refresh(void **state)
{
	struct md_strv files = { 0 }, tags = { 0 };
	struct md_registry_stats st;
	struct md_registry *r;
	struct md_err err;
	struct fake f;
	char dom[64], realm_host[64], *log, *file, *json, *dir = install_helper();

	(void)state;
	fake_start_body(&f, h_refresh_flow);
	/* "localhost:*" makes the helper answer with an identity token */
	snprintf(dom, sizeof(dom), "localhost:%d", f.port);
	json = md_asprintf("{\"credHelpers\":{\"%s\":\"mdunit\"}}", dom);
	file = write_file_at("idt.json", json);
	md_strv_push(&files, file);
	{
		static struct md_strv insecure;
		struct md_registry_opts o = { 0 };

		md_strv_clear(&insecure);
		md_strv_push(&insecure, dom);
		/* the realm (h_token_flow) names 127.0.0.1: listed too, or no
		 * refresh token would be sent to it over plain HTTP */
		snprintf(realm_host, sizeof(realm_host), "127.0.0.1:%d", f.port);
		md_strv_push(&insecure, realm_host);
		o.insecure_hosts = &insecure;
		o.auth_files = &files;
		o.page_size = 2;
		assert_ok(md_registry_new(&r, &o, &err));
	}
	assert_ok(md_registry_list_tags(r, dom, "acme/web", &tags, &err));
	assert_int_equal(tags.n, 3);
	md_registry_stats(r, &st);
	assert_int_equal(st.token_requests, 1);
	md_registry_free(r);
	log = fake_stop(&f);
	assert_int_equal(count(log, "POST /token"), 1);
	assert_int_equal(count(log, "GET /token"), 0);
	assert_null(strstr(log, "Authorization: Basic"));
	free(log);
	/* the same flow from an auth.json identitytoken */
	unlink(file);
	free(file);
	free(json);
	fake_start_body(&f, h_refresh_flow);
	snprintf(dom, sizeof(dom), "127.0.0.1:%d", f.port);
	json = md_asprintf("{\"auths\":{\"%s\":{\"identitytoken\":\"idt-123\"}}}", dom);
	file = write_file_at("idt.json", json);
	r = client_files(f.port, &files);
	assert_ok(md_registry_list_tags(r, dom, "acme/web", &tags, &err));
	md_registry_free(r);
	log = fake_stop(&f);
	assert_int_equal(count(log, "POST /token"), 1);
	free(log);
	unlink(file);
	free(file);
	free(json);
	md_strv_clear(&files);
	md_strv_clear(&tags);
	remove_helper(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_auth_exact_host),
		cmocka_unit_test(test_auth_most_specific),
		cmocka_unit_test(test_auth_docker_aliases),
		cmocka_unit_test(test_auth_http_prefix),
		cmocka_unit_test(test_auth_decoding),
		cmocka_unit_test(test_auth_no_match),
		cmocka_unit_test(test_auth_bad_entries),
		cmocka_unit_test(test_client_basic_to_token_service),
		cmocka_unit_test(test_client_missing_auth_file),
		cmocka_unit_test(test_auth_files_order),
		cmocka_unit_test(test_auth_find_helpers_and_tokens),
		cmocka_unit_test(test_credhelper_parse),
		cmocka_unit_test(test_refresh_form),
		cmocka_unit_test(test_client_auth_files_first_match),
		cmocka_unit_test(test_client_credhelper_basic),
		cmocka_unit_test(test_client_identity_token_refresh),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

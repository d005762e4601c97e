/* Running Trivy: one child process per scan through md_proc_exec, in its
 * own process group (a timeout kills Trivy and anything it started), in a
 * private directory that holds the Docker config and is removed afterwards,
 * with bounded output. Every way this can go wrong maps to one
 * md_scan_status and one message naming the image, the cause and the fix. */
#include "scan_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"
#define ERRTAIL_MAX 4096u
#define VERSION_MAX ((size_t)64 << 10)
#define TOKEN_MAX 4096u

const char *md_scan_status_name(enum md_scan_status st)
{
	static const char *const names[MD_SCAN_STATUS_COUNT] = {
		"ok", "missing", "timeout", "failed", "too_large", "invalid", "wrong_artifact",
		"unreachable", "error",
	};

	return (unsigned)st < MD_SCAN_STATUS_COUNT ? names[st] : "error";
}

static int64_t timeout_of(const struct md_scan_opts *o)
{
	return o->timeout_ms > 0 ? o->timeout_ms : MD_SCAN_TIMEOUT_MS_DEFAULT;
}

/* ---- the executable ----------------------------------------------------------------- */

static int find_trivy(const struct md_scan_opts *o, char **exe, struct md_err *err)
{
	const char *prog = o->trivy && *o->trivy ? o->trivy : "trivy";
	const char *path = o->search_path ? o->search_path : DEFAULT_PATH;
	struct stat sb;

	*exe = md_path_find(prog, path);
	/* a directory passes the X_OK test, but cannot be run */
	if (*exe && stat(*exe, &sb) == 0 && S_ISREG(sb.st_mode))
		return MD_SCAN_OK;
	free(*exe);
	*exe = NULL;
	if (strchr(prog, '/'))
		md_err_set(err, "%s is not an executable file: install Trivy there, or set "
				"MD_TRIVY to where it is", prog);
	else
		md_err_set(err, "%s was not found in PATH (%s): install Trivy next to the agent, "
				"or set MD_TRIVY to its path or to a Trivy server's URL", prog, path);
	return MD_SCAN_MISSING;
}

/* ---- the private directory ---------------------------------------------------------- */

/* Remove what Trivy might have left besides our file, a few levels deep;
 * the directory is ours alone (mkdtemp, mode 0700). */
static void rm_tree(const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d) {
		while ((e = readdir(d))) {
			char path[PATH_MAX];
			struct stat sb;

			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path))
				continue;
			if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode) && depth > 0)
				rm_tree(path, depth - 1);
			else
				unlink(path);
		}
		closedir(d);
	}
	rmdir(dir);
}

static int write_private(const char *path, const struct md_buf *b, struct md_err *err)
{
	return md_file_write_new(path, b->data, b->len, 0600, err);
}

/* mkdtemp under tmp_dir, with config.json for the image's registry. */
static int make_workdir(const struct md_scan_opts *o, const char *name,
			const struct md_scan_cred *cred, char *dir, size_t dirlen,
			struct md_err *err)
{
	char key[256], file[PATH_MAX + 16];
	struct md_buf cfg;
	int rc;

	if (snprintf(dir, dirlen, "%s/magos-trivy-XXXXXX", o->tmp_dir ? o->tmp_dir : "/tmp") >=
	    (int)dirlen)
		return md_err_set(err, "the temporary directory name is too long");
	if (!mkdtemp(dir))
		return md_err_set(err, "cannot make a private directory under %s: %s",
				  o->tmp_dir ? o->tmp_dir : "/tmp", strerror(errno));
	if (md_scan__registry_key(name ? name : "", key, sizeof(key)) < 0) {
		rm_tree(dir, 0);
		return md_err_set(err, "the registry name of %.80s is too long", name);
	}
	snprintf(file, sizeof(file), "%s/config.json", dir);
	md_buf_init(&cfg, 65536);
	rc = md_scan__docker_config(&cfg, key, cred);
	if (rc < 0)
		md_err_set(err, "the registry credentials are too long or memory ran out");
	else
		rc = write_private(file, &cfg, err);
	md_buf_clear(&cfg);
	if (rc < 0)
		rm_tree(dir, 0);
	return rc;
}

/* ---- one run ------------------------------------------------------------------------- */

/* The token file's first line; blanks around it dropped. */
static int read_token(const char *path, char **out, struct md_err *err)
{
	char *data = NULL;
	size_t len = 0, start = 0, end;

	if (md_file_read(path, TOKEN_MAX, &data, &len, err) < 0)
		return md_err_prefix(err, "the Trivy server token");
	while (start < len && (data[start] == ' ' || data[start] == '\t'))
		start++;
	end = start + strcspn(data + start, "\r\n");
	while (end > start && (data[end - 1] == ' ' || data[end - 1] == '\t'))
		end--;
	if (end == start) {
		md_free_secret(data, len);
		return md_err_set(err, "the Trivy server token file %s is empty", path);
	}
	*out = md_asprintf("TRIVY_TOKEN=%.*s", (int)(end - start), data + start);
	md_free_secret(data, len);
	if (!*out)
		return md_err_set(err, "out of memory");
	return 0;
}

/* The last non-empty line of Trivy's stderr, controls made blanks, for the
 * message of a failed run. */
static void last_line(const struct md_buf *b, char *dst, size_t dstlen)
{
	const char *s = b->data ? b->data : "";
	size_t end = b->len, start, n;

	while (end > 0 && (s[end - 1] == '\n' || s[end - 1] == '\r' || s[end - 1] == ' '))
		end--;
	start = end;
	while (start > 0 && s[start - 1] != '\n')
		start--;
	n = end - start < dstlen - 1 ? end - start : dstlen - 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[start + i];

		dst[i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	dst[n] = '\0';
}

struct invocation {
	const char *what;  /* "Trivy scan of x@sha256:…" */
	const char *exe;
	char *const *argv;
	const char *image; /* name whose registry gets the credentials, or NULL */
	const struct md_scan_cred *cred;
	char *token_env; /* "TRIVY_TOKEN=…" or NULL */
	size_t max_out;
};

static int classify(const struct md_scan_opts *o, const struct invocation *iv, int rc,
		    int status, const struct md_buf *out, const struct md_buf *etail,
		    struct md_err *err)
{
	char line[300], when[32];

	if (rc == MD_PROC_TIMEOUT) {
		md_duration_format((timeout_of(o) + 999) / 1000, when, sizeof(when));
		md_err_set(err, "%s: Trivy did not finish within %s and was killed with the "
				"processes it started; raise MD_TRIVY_TIMEOUT if the registry or the "
				"vulnerability DB download is slow", iv->what, when);
		return MD_SCAN_TIMEOUT;
	}
	if (rc < 0 && out->len > 0) {
		/* md_proc_exec fails after output only when the output outgrew
		 * its bound (a spawn failure has printed nothing). */
		md_err_set(err, "%s: Trivy printed more than %zu MiB; a report that large is "
				"refused", iv->what, iv->max_out >> 20);
		return MD_SCAN_TOO_LARGE;
	}
	if (rc < 0) {
		md_err_prefix(err, "%s", iv->what);
		return MD_SCAN_FAILED;
	}
	if (status != 0) {
		last_line(etail, line, sizeof(line));
		md_err_set(err, "%s: Trivy exited with status %d: %s", iv->what, status,
			   line[0] ? line : "(no message)");
		return MD_SCAN_FAILED;
	}
	return MD_SCAN_OK;
}

static int invoke(const struct md_scan_opts *o, const struct invocation *iv, struct md_buf *out,
		  struct md_err *err)
{
	char dir[PATH_MAX], *dockercfg = NULL, *extra[3] = { NULL, NULL, NULL };
	struct md_strv env = { 0 };
	struct md_proc_opts po = { 0 };
	struct md_buf etail;
	int rc, status = -1;

	if (make_workdir(o, iv->image, iv->cred, dir, sizeof(dir), err) < 0) {
		md_err_prefix(err, "%s", iv->what);
		return MD_SCAN_ERROR;
	}
	md_buf_init(&etail, ERRTAIL_MAX);
	extra[0] = dockercfg = md_asprintf("DOCKER_CONFIG=%s", dir);
	extra[1] = iv->token_env;
	if (!dockercfg || md_scan__env_build(&env, o->env ? o->env : environ, extra) < 0) {
		md_err_set(err, "%s: out of memory", iv->what);
		rc = MD_SCAN_ERROR;
		goto out;
	}
	po.file = iv->exe;
	po.envp = env.v;
	po.cwd = dir;
	po.out = out;
	po.err_tail = &etail;
	po.own_group = 1;
	po.progress = o->progress;
	po.progress_ctx = o->progress_ctx;
	po.timeout_ms = timeout_of(o);
	rc = md_proc_exec(iv->argv, &po, &status, err);
	rc = classify(o, iv, rc, status, out, &etail, err);
out:
	rm_tree(dir, 3);
	free(dockercfg);
	md_scan__env_free(&env);
	md_buf_clear(&etail);
	return rc;
}

/* ---- scanning --------------------------------------------------------------------------- */

static int push_all(struct md_strv *v, const char *const *items)
{
	for (; *items; items++)
		if (md_strv_push(v, *items) < 0)
			return -1;
	return 0;
}

/* trivy image --format json --quiet --scanners vuln --image-src remote
 * --platform P --timeout Ns [--server URL] name@digest. Trivy's own
 * --timeout (default 5m) is set to ours so a longer MD_TRIVY_TIMEOUT is
 * honoured by Trivy too. No filter and no --exit-code: the report is
 * complete and the exit code means only "it worked" or "it did not". */
static int scan_argv(struct md_strv *argv, const char *exe, const struct md_scan_opts *o,
		     const char *image)
{
	const char *fixed[] = { "image", "--format", "json", "--quiet", "--scanners", "vuln",
				"--image-src", "remote", "--platform", o->platform, NULL };
	char secs[32];

	snprintf(secs, sizeof(secs), "%llds", (long long)((timeout_of(o) + 999) / 1000));
	if (md_strv_push(argv, exe) < 0 || push_all(argv, fixed) < 0 ||
	    md_strv_push(argv, "--timeout") < 0 || md_strv_push(argv, secs) < 0)
		return -1;
	if (o->server && (md_strv_push(argv, "--server") < 0 || md_strv_push(argv, o->server) < 0))
		return -1;
	return md_strv_push(argv, image);
}

static int read_report(struct md_scan_report **out, const struct md_buf *b, const char *what,
		       const char *name, const char *digest, struct md_err *err)
{
	struct md_scan_report *r = NULL;
	int rc = md_scan_report_parse(&r, b->data ? b->data : "", b->len, err);

	if (rc != MD_SCAN_OK) {
		md_err_prefix(err, "%s: Trivy's output is not a vulnerability report (is MD_TRIVY "
				   "Trivy?)", what);
		return rc;
	}
	rc = md_scan_report_check_artifact(r, name, digest, err);
	if (rc != MD_SCAN_OK) {
		md_err_prefix(err, "%s", what);
		md_scan_report_free(r);
		return rc;
	}
	*out = r;
	return MD_SCAN_OK;
}

int md_scan_run(struct md_scan_report **out, const struct md_scan_opts *o, const char *name,
		const char *digest, const struct md_scan_cred *cred, struct md_err *err)
{
	char what[700], image[600], *exe = NULL;
	struct invocation iv = { 0 };
	struct md_strv argv = { 0 };
	struct md_buf report;
	int rc;

	*out = NULL;
	if (md_scan__check_args(o, name, digest, err) < 0)
		return MD_SCAN_ERROR;
	snprintf(image, sizeof(image), "%s@%s", name, digest);
	snprintf(what, sizeof(what), "Trivy scan of %s", image);
	iv.max_out = o->max_report ? o->max_report : MD_SCAN_MAX_REPORT_DEFAULT;
	md_buf_init(&report, iv.max_out);
	if ((rc = find_trivy(o, &exe, err)) != MD_SCAN_OK) {
		md_err_prefix(err, "%s", what);
		goto out;
	}
	if (o->server && o->token_file && read_token(o->token_file, &iv.token_env, err) < 0) {
		md_err_prefix(err, "%s", what);
		rc = MD_SCAN_ERROR;
		goto out;
	}
	if (scan_argv(&argv, exe, o, image) < 0) {
		md_err_set(err, "%s: out of memory", what);
		rc = MD_SCAN_ERROR;
		goto out;
	}
	iv.what = what;
	iv.exe = exe;
	iv.argv = argv.v;
	iv.image = name;
	iv.cred = cred;
	rc = invoke(o, &iv, &report, err);
	if (rc == MD_SCAN_OK)
		rc = read_report(out, &report, what, name, digest, err);
out:
	if (iv.token_env)
		md_free_secret(iv.token_env, strlen(iv.token_env));
	md_strv_clear(&argv);
	md_buf_clear(&report);
	free(exe);
	return rc;
}

/* ---- the DB version and the probe ------------------------------------------------------- */

static int local_db_version(char **out, const struct md_scan_opts *o, struct md_err *err)
{
	const char *what = "trivy version";
	struct invocation iv = { 0 };
	struct md_buf b;
	char *exe = NULL, *argv[5] = { NULL, "version", "--format", "json", NULL };
	int rc;

	if ((rc = find_trivy(o, &exe, err)) != MD_SCAN_OK)
		return rc;
	argv[0] = exe;
	iv.what = what;
	iv.exe = exe;
	iv.argv = argv;
	iv.max_out = VERSION_MAX;
	md_buf_init(&b, VERSION_MAX);
	rc = invoke(o, &iv, &b, err);
	if (rc == MD_SCAN_OK && (rc = md_scan__parse_version(out, b.data, b.len, err)) != MD_SCAN_OK)
		md_err_prefix(err, "%s printed no version JSON (is MD_TRIVY Trivy?)", exe);
	md_buf_clear(&b);
	free(exe);
	return rc;
}

int md_scan_db_version(char **out, const struct md_scan_opts *o, struct md_err *err)
{
	*out = NULL;
	if (o->server)
		return md_scan__server_db_version(out, o, err);
	return local_db_version(out, o, err);
}

int md_scan_probe(const struct md_scan_opts *o, struct md_err *err)
{
	char *exe = NULL;
	int rc = find_trivy(o, &exe, err);

	free(exe);
	if (rc == MD_SCAN_OK && o->server)
		rc = md_scan__server_health(o, err);
	return rc;
}

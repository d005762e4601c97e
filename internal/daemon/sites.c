/* Step 2 of the pipeline: find compose files, scan them, parse every site's
 * reference and annotation. A bad site becomes a problem; the rest go on. */
#include "daemon_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int cycle_add_problem(struct cycle *c, const char *fmt, ...)
{
	char msg[MD_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return md_strv_push(&c->rep->problems, msg);
}

static int load_one(struct cycle *c, const char *rel, struct md_err *err)
{
	struct cycle_file *f = &c->files[c->nfiles];
	char *abs = md_asprintf("%s/%s", md_git_workdir(c->git), rel);
	struct md_err ferr;
	struct stat st;
	int rc = -1;

	memset(f, 0, sizeof(*f));
	if (!abs)
		return md_err_set(err, "out of memory");
	f->path = md_strdup(rel);
	if (!f->path) {
		md_err_set(err, "out of memory");
		goto out;
	}
	c->nfiles++;
	if (stat(abs, &st) < 0 ||
	    md_file_read(abs, MD_COMPOSE_MAX_FILE, &f->data, &f->len, &ferr) < 0) {
		rc = cycle_add_problem(c, "%s: cannot read the file", rel);
		goto out;
	}
	f->mode = st.st_mode & 07777;
	if (md_compose_scan(&f->scan, rel, f->data, f->len, &ferr) < 0) {
		rc = cycle_add_problem(c, "%s", ferr.msg);
		goto out;
	}
	for (size_t i = 0; i < md_compose_problem_count(f->scan); i++)
		if (md_strv_push(&c->rep->problems, md_compose_problem_at(f->scan, i)) < 0)
			goto out;
	rc = 0;
out:
	free(abs);
	return rc < 0 && !err->msg[0] ? md_err_set(err, "out of memory") : rc;
}

/* Parse one site's image and annotation; problems are recorded, not fatal. */
static int parse_site(struct cycle *c, size_t fi, size_t si)
{
	const struct cycle_file *f = &c->files[fi];
	const struct md_compose_site *site = md_compose_site_at(f->scan, si);
	struct cycle_site *cs = &c->sites[c->nsites];
	struct md_err perr;

	memset(cs, 0, sizeof(*cs));
	cs->file = fi;
	cs->index = si;
	if (md_ref_parse(&cs->ref, site->value, &perr) < 0)
		return cycle_add_problem(c, "%s:%d: %s", f->path, site->line, perr.msg);
	if (md_policy_parse(&cs->policy, site->annotation, &perr) < 0) {
		md_ref_free(cs->ref);
		return cycle_add_problem(c, "%s:%d: %s", f->path, site->line, perr.msg);
	}
	if (md_policy_kind(cs->policy) == MD_POLICY_DIGEST && !md_ref_digest(cs->ref)) {
		md_ref_free(cs->ref);
		md_policy_free(cs->policy);
		return cycle_add_problem(c,
					 "%s:%d: policy \"digest\" needs an image pinned by digest "
					 "(repo[:tag]@sha256:…), got '%s'",
					 f->path, site->line, site->value);
	}
	c->nsites++;
	return 0;
}

int cycle_load_files(struct cycle *c, struct md_err *err)
{
	struct md_strv paths = { 0 };
	size_t total = 0;
	int rc = -1;

	md_err_clear(err);
	if (md_git_list_files(c->git, &c->s->compose_globs, &paths, err) < 0)
		return -1;
	c->files = calloc(paths.n ? paths.n : 1, sizeof(*c->files));
	if (!c->files) {
		md_err_set(err, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < paths.n; i++)
		if (load_one(c, paths.v[i], err) < 0)
			goto out;
	for (size_t i = 0; i < c->nfiles; i++)
		if (c->files[i].scan)
			total += md_compose_site_count(c->files[i].scan);
	c->sites = calloc(total ? total : 1, sizeof(*c->sites));
	if (!c->sites) {
		md_err_set(err, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < c->nfiles; i++) {
		if (!c->files[i].scan)
			continue;
		for (size_t j = 0; j < md_compose_site_count(c->files[i].scan); j++)
			if (parse_site(c, i, j) < 0) {
				md_err_set(err, "out of memory");
				goto out;
			}
	}
	c->rep->nfiles = c->nfiles;
	c->rep->nsites = total;
	rc = 0;
out:
	md_strv_clear(&paths);
	return rc;
}

void cycle_free_files(struct cycle *c)
{
	for (size_t i = 0; i < c->nsites; i++) {
		md_ref_free(c->sites[i].ref);
		md_policy_free(c->sites[i].policy);
	}
	for (size_t i = 0; i < c->nfiles; i++) {
		free(c->files[i].path);
		free(c->files[i].data);
		free(c->files[i].patched);
		md_compose_free(c->files[i].scan);
	}
	free(c->sites);
	free(c->files);
	c->sites = NULL;
	c->files = NULL;
	c->nsites = c->nfiles = 0;
}

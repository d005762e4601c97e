/* Step 2 of the pipeline: find compose files, scan them, parse every site's
 * reference and annotation. A bad site becomes a problem; the rest go on. */
#include "reconcile_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int add_problem(struct md_cycle_report *rep, const char *file, int line, const char *msg)
{
	struct md_problem *v = realloc(rep->problems, (rep->nproblems + 1) * sizeof(*v));
	struct md_problem *p;

	if (!v)
		return -1;
	rep->problems = v;
	p = &v[rep->nproblems];
	memset(p, 0, sizeof(*p));
	p->file = file ? md_strdup(file) : NULL;
	p->line = line;
	p->message = md_strdup(msg);
	if (file && line > 0)
		p->text = md_asprintf("%s:%d: %s", file, line, msg);
	else if (file)
		p->text = md_asprintf("%s: %s", file, msg);
	else
		p->text = md_strdup(msg);
	if ((file && !p->file) || !p->message || !p->text) {
		free(p->file);
		free(p->message);
		free(p->text);
		return -1;
	}
	rep->nproblems++;
	return 0;
}

int md_reconcile__problem(struct md_reconcile__cycle *c, const char *file, int line,
			  const char *fmt, ...)
{
	char msg[MD_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return add_problem(c->rep, file, line, msg);
}

static int load_one(struct md_reconcile__cycle *c, const char *rel, struct md_err *err)
{
	struct md_reconcile__file *f = &c->files[c->nfiles];
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
		rc = md_reconcile__problem(c, rel, 0, "cannot read the file");
		goto out;
	}
	f->mode = st.st_mode & 07777;
	if (md_compose_scan(&f->scan, rel, f->data, f->len, &ferr) < 0) {
		rc = md_reconcile__problem(c, NULL, 0, "%s", ferr.msg);
		goto out;
	}
	for (size_t i = 0; i < md_compose_problem_count(f->scan); i++)
		if (add_problem(c->rep, rel, md_compose_problem_line(f->scan, i),
				md_compose_problem_message(f->scan, i)) < 0)
			goto out;
	rc = 0;
out:
	free(abs);
	return rc < 0 && !err->msg[0] ? md_err_set(err, "out of memory") : rc;
}

/* Parse one site's image and annotation; problems are recorded, not fatal. */
static int parse_site(struct md_reconcile__cycle *c, size_t fi, size_t si)
{
	const struct md_reconcile__file *f = &c->files[fi];
	const struct md_compose_site *site = md_compose_site_at(f->scan, si);
	struct md_reconcile__site *cs = &c->sites[c->nsites];
	struct md_err perr;

	memset(cs, 0, sizeof(*cs));
	cs->file = fi;
	cs->index = si;
	if (md_ref_parse(&cs->ref, site->value, &perr) < 0)
		return md_reconcile__problem(c, f->path, site->line, "%s", perr.msg);
	if (md_policy_parse(&cs->policy, site->annotation, &perr) < 0) {
		md_ref_free(cs->ref);
		return md_reconcile__problem(c, f->path, site->line, "%s", perr.msg);
	}
	if (md_policy_kind(cs->policy) == MD_POLICY_DIGEST && !md_ref_digest(cs->ref)) {
		md_ref_free(cs->ref);
		md_policy_free(cs->policy);
		return md_reconcile__problem(c, f->path, site->line,
					     "policy \"digest\" needs an image pinned by digest "
					     "(repo[:tag]@sha256:…), got '%s'", site->value);
	}
	c->nsites++;
	return 0;
}

int md_reconcile__load_files(struct md_reconcile__cycle *c, struct md_err *err)
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

void md_reconcile__files_clear(struct md_reconcile__cycle *c)
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

/* Step 7, rollback: a stack that failed (pull, up, health) goes back to its
 * last good commit's version. When every commit since then that touched
 * the stack is the agent's own, the agent undoes its update in Git (a
 * revert commit, pushed), marks the digests bad so they are never proposed
 * again, and applies the work tree. In MD_MODE=pr the revert is proposed
 * as a pull request instead and the last good version runs
 * until it is merged. A human's change is never reverted: the old compose
 * files run from temporary copies and the user is told that Git still
 * declares the failing version. Publishing the revert is the publisher's
 * (struct md_rollout_publisher): this file only decides and describes it. */
#include "rollout_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "magos/obs.h"
#include "magos/state.h"

#define REASON_MAX 200 /* characters of the failure kept in a commit subject */
#define REVERT_FILE_MAX (4u << 20) /* one file of a reverted stack */

struct revert_desc {
	struct md_buf what;       /* "web 1.1 → 1.0, db sha256:… → sha256:…" */
	struct md_strv bad_repos; /* parallel: repository, digest that failed */
	struct md_strv bad_digests;
};

/* ---- what the failing change was --------------------------------------- */

/* Paths changed between good and head that belong to s. */
static int stack_paths(struct md_rollout__run *r, const struct md_rollout__stack *s, const char *good,
		       const char *head, struct md_strv *out, struct md_err *err)
{
	struct md_strv all = { 0 };
	int rc = 0;

	if (md_git_changed_paths(r->x->git, good, head, &all, err) < 0)
		return -1;
	for (size_t i = 0; i < all.n && rc == 0; i++)
		if (md_rollout__owner(r, all.v[i]) == s && md_strv_push(out, all.v[i]) < 0)
			rc = md_err_set(err, "out of memory");
	md_strv_clear(&all);
	return rc;
}

static int is_agent(const struct md_strv *me, const char *email)
{
	for (size_t i = 0; i < me->n; i++)
		if (*me->v[i] && !strcasecmp(me->v[i], email))
			return 1;
	return 0;
}

enum md_rollout__rollback md_rollout__rollback_decide(const char *good, size_t npaths,
						      const struct md_strv *authors,
						      const struct md_strv *me)
{
	int own = authors->n > 0;

	if (!good)
		return MD_ROLLOUT__FAIL_NO_GOOD;
	if (!npaths)
		return MD_ROLLOUT__FAIL_SAME;
	for (size_t i = 0; i < authors->n && own; i++)
		own = is_agent(me, authors->v[i]);
	return own ? MD_ROLLOUT__REVERT : MD_ROLLOUT__RUN_OLD;
}

static char *short_of(const struct md_ref *ref)
{
	const char *d = md_ref_digest(ref);

	return d ? md_strndup(d, 19) : md_strdup("(unpinned)");
}

static void describe_site(struct revert_desc *d, const char *old_value, const char *new_value)
{
	struct md_ref *ro = NULL, *rn = NULL;
	char *from = NULL, *to = NULL;

	if (md_ref_parse(&ro, old_value, NULL) < 0 || md_ref_parse(&rn, new_value, NULL) < 0)
		goto out;
	if (md_ref_tag(ro) && md_ref_tag(rn) && strcmp(md_ref_tag(ro), md_ref_tag(rn))) {
		from = md_strdup(md_ref_tag(ro));
		to = md_strdup(md_ref_tag(rn));
	} else {
		from = short_of(ro);
		to = short_of(rn);
	}
	if (from && to)
		md_buf_printf(&d->what, "%s%s %s → %s", d->what.len ? ", " : "", md_ref_name(rn), to,
			      from);
	if (md_ref_digest(rn) &&
	    (!md_ref_digest(ro) || strcmp(md_ref_digest(ro), md_ref_digest(rn))) &&
	    md_strv_push(&d->bad_repos, md_ref_name(rn)) == 0 &&
	    md_strv_push(&d->bad_digests, md_ref_digest(rn)) < 0) {
		/* keep the lists parallel; OOM only loses a mark */
		free(d->bad_repos.v[--d->bad_repos.n]);
		d->bad_repos.v[d->bad_repos.n] = NULL;
	}
out:
	free(from);
	free(to);
	md_ref_free(ro);
	md_ref_free(rn);
}

/* The annotated sites whose value differs between the two versions of a
 * compose file (matched by position, or by service when sites moved). */
static void describe_file(struct md_rollout__run *r, const char *rel, const char *good,
			  const char *head, struct revert_desc *d)
{
	char *od = NULL, *nd = NULL;
	size_t ol = 0, nl = 0;
	struct md_compose_file *fo = NULL, *fn = NULL;

	if (md_git_file_at(r->x->git, good, rel, MD_COMPOSE_MAX_FILE, &od, &ol, NULL) != 0 ||
	    md_git_file_at(r->x->git, head, rel, MD_COMPOSE_MAX_FILE, &nd, &nl, NULL) != 0 ||
	    md_compose_scan(&fo, rel, od, ol, NULL) < 0 || md_compose_scan(&fn, rel, nd, nl, NULL) < 0)
		goto out;
	for (size_t i = 0; i < md_compose_site_count(fn); i++) {
		const struct md_compose_site *n = md_compose_site_at(fn, i), *o = NULL;

		if (md_compose_site_count(fo) == md_compose_site_count(fn))
			o = md_compose_site_at(fo, i);
		for (size_t j = 0; !o && n->service && j < md_compose_site_count(fo); j++) {
			const struct md_compose_site *c = md_compose_site_at(fo, j);

			if (c->service && !strcmp(c->service, n->service))
				o = c;
		}
		if (o && strcmp(o->value, n->value))
			describe_site(d, o->value, n->value);
	}
out:
	md_compose_free(fo);
	md_compose_free(fn);
	free(od);
	free(nd);
}

static void desc_free(struct revert_desc *d)
{
	md_buf_clear(&d->what);
	md_strv_clear(&d->bad_repos);
	md_strv_clear(&d->bad_digests);
}

/* "magos-dominus: revert <image> <to> → <from> on <stack>: <reason>" */
static char *revert_message(const struct md_rollout__stack *s, const struct revert_desc *d,
			    const struct md_strv *paths, const char *failure)
{
	char reason[REASON_MAX + 4];
	size_t n = strcspn(failure, "\n");

	if (n > REASON_MAX) {
		memcpy(reason, failure, REASON_MAX);
		memcpy(reason + REASON_MAX, "...", 4);
	} else {
		memcpy(reason, failure, n);
		reason[n] = '\0';
	}
	return md_asprintf("magos-dominus: revert %s on %s: %s\n\nThe update failed on this host "
			   "and was rolled back; magos-dominus will not propose it again.\n",
			   d->what.len ? d->what.data : paths->v[0], s->dir, reason);
}

/* ---- the two ways back ------------------------------------------------------ */

static void mark_bad(struct md_rollout__run *r, const struct revert_desc *d)
{
	for (size_t i = 0; i < d->bad_digests.n; i++) {
		md_state_bad_digest_add(r->x->st, d->bad_repos.v[i], d->bad_digests.v[i],
					md_time_now());
		md_log(MD_LOG_WARN, "digest marked bad on this host; it will not be proposed again",
		       "image", d->bad_repos.v[i], "digest", d->bad_digests.v[i], NULL);
	}
}

static int rolled_back(struct md_rollout__run *r, const struct md_rollout__stack *s, const char *reason,
		       const char *failure, enum md_stack_status status, const char *good,
		       struct md_err *err)
{
	if (md_state_stack_set(r->x->st, s->dir, status, good, md_time_now()) < 0 ||
	    md_rollout__report(r, s->dir, reason, MD_STACK_ROLLED_BACK, failure) < 0)
		return md_err_set(err, "out of memory");
	return 0;
}

/* A human's change (or a revert that could not be pushed, or one waiting
 * in pull request #pr): run the good commit's compose files; Git keeps
 * declaring the failing version. */
static int run_old_version(struct md_rollout__run *r, const struct md_rollout__stack *s, const char *good,
			   long pr, const char *reason, const char *failure, struct md_err *err)
{
	struct md_err rerr;
	char *both;
	int rc;

	if (md_rollout__stack_run(r, s, good, &rerr) < 0) {
		both = md_asprintf("%s; rolling back to %.7s failed too: %s", failure, good,
				   rerr.msg);
		md_log(MD_LOG_ERROR, "stack failed", "stack", s->dir, "error",
		       both ? both : rerr.msg, NULL);
		rc = md_rollout__failed(r, s, reason, both ? both : failure, err);
		free(both);
		return rc;
	}
	md_log(MD_LOG_WARN, "stack rolled back", "stack", s->dir, "to", good, "error", failure,
	       NULL);
	if (pr > 0) {
		char num[32];

		snprintf(num, sizeof(num), "%ld", pr);
		md_log(MD_LOG_WARN, "the revert waits in a pull request; the host runs the last good "
		       "version of this stack until it is merged", "stack", s->dir, "good", good,
		       "number", num, NULL);
	} else {
		md_log(MD_LOG_ERROR, "Git still declares the failing version of this stack; the host "
		       "runs the last good one until the repository is fixed or reverted", "stack",
		       s->dir, "good", good, NULL);
	}
	return rolled_back(r, s, reason, failure, MD_STACK_STATUS_ROLLED_BACK, NULL, err);
}

/* ---- MD_MODE=pr: the revert as a pull request ------------------------------------ */


/* The paths as they were at good, with the work tree's permission bits.
 * A path good did not have cannot be expressed as a file to write: that
 * revert is refused (the caller runs the old version without it). */
static int good_files(struct md_rollout__run *r, const char *good, const struct md_strv *paths,
		      struct md_git_blobs *f, struct md_err *err)
{
	if (md_git_blobs_init(f, paths->n) < 0)
		return md_err_set(err, "out of memory");
	for (size_t i = 0; i < paths->n; i++) {
		char *abs = md_asprintf("%s/%s", md_git_workdir(r->x->git), paths->v[i]);
		struct stat st;
		size_t len = 0;
		int rc;

		rc = md_git_file_at(r->x->git, good, paths->v[i], REVERT_FILE_MAX, &f->owned[f->n],
				    &len, err);
		if (rc == 1)
			md_err_set(err, "%s did not exist in %.7s; a revert pull request cannot delete "
				   "it", paths->v[i], good);
		if (rc != 0) {
			free(f->owned[f->n]);
			f->owned[f->n] = NULL;
			free(abs);
			return -1;
		}
		f->v[f->n] = (struct md_git_blob){ .path = paths->v[i], .data = f->owned[f->n],
						   .len = len, .mode = 0644 };
		if (abs && stat(abs, &st) == 0)
			f->v[f->n].mode = st.st_mode & 0777;
		f->n++;
		free(abs);
	}
	return 0;
}

static char *revert_pr_body(const struct md_rollout__stack *s, const struct revert_desc *d,
			    const char *failure)
{
	struct md_buf b;

	md_buf_init(&b, 64u * 1024);
	md_buf_printf(&b, "magos-dominus applied its own update of stack `%s` (%s) and it failed "
		      "on this host:\n\n```\n", s->dir, d->what.len ? d->what.data : "");
	for (const char *p = failure; *p && b.len < 60u * 1024; p++)
		md_buf_append(&b, *p == '`' ? "'" : p, 1);
	md_buf_puts(&b, "\n```\n\nThe host runs the last good version of the stack until this "
			"pull request is merged. The failing digests are marked bad on this host "
			"and will not be proposed again.\n");
	return md_buf_steal(&b);
}

/* Push the revert to magos/revert/<stack>, open or update its PR, and run
 * the good version meanwhile; Git's base branch is left alone. */
static int revert_by_pr(struct md_rollout__run *r, const struct md_rollout__stack *s, const char *good,
			const struct md_strv *paths, const struct revert_desc *d, const char *msg,
			const char *reason, const char *failure, struct md_err *err)
{
	struct md_git_blobs f = { 0 };
	struct md_rollout_revert_plan plan = { .stack = s->dir, .good = good, .paths = paths,
					       .message = msg };
	struct md_err perr;
	char *title = NULL, *body = NULL, num[32];
	long pr = 0;
	int rc;

	title = md_asprintf("magos-dominus: revert %s on %s", d->what.len ? d->what.data
									 : paths->v[0], s->dir);
	body = revert_pr_body(s, d, failure);
	if (!title || !body)
		rc = md_err_set(&perr, "out of memory");
	else if ((rc = good_files(r, good, paths, &f, &perr)) == 0)
	{
		plan.files = f.v;
		plan.nfiles = f.n;
		plan.title = title;
		plan.body = body;
		rc = r->x->publisher.propose(r->x->publisher.ctx, &plan, &pr, &perr);
	}
	md_git_blobs_clear(&f);
	if (rc < 0) {
		md_log(MD_LOG_ERROR, "cannot propose the revert of the failed update; running the last "
		       "good version instead", "stack", s->dir, "error", perr.msg, NULL);
		pr = 0;
	} else {
		if (rc == 0)
			r->x->rep->reverts++;
		snprintf(num, sizeof(num), "%ld", pr);
		md_log(MD_LOG_WARN, "revert proposed", "stack", s->dir, "change",
		       d->what.len ? d->what.data : paths->v[0], "number", num, NULL);
	}
	free(title);
	free(body);
	return run_old_version(r, s, good, pr, reason, failure, err);
}

/* The agent's own update failed: revert it in Git, then apply the work tree. */
static int revert_and_apply(struct md_rollout__run *r, const struct md_rollout__stack *s, const char *good,
			    const char *head, const struct md_strv *paths, const char *reason,
			    const char *failure, struct md_err *err)
{
	struct revert_desc d = { .bad_repos = { 0 } };
	struct md_rollout_revert_plan plan = { 0 };
	struct md_err rerr;
	char oid[41] = "", now[41];
	char *msg = NULL;
	int rc = -1;

	md_buf_init(&d.what, 4096);
	for (size_t i = 0; i < s->files.n; i++) {
		char *rel = strcmp(s->dir, ".") ? md_asprintf("%s/%s", s->dir, s->files.v[i])
						: md_strdup(s->files.v[i]);

		if (rel && md_strv_contains(paths, rel))
			describe_file(r, rel, good, head, &d);
		free(rel);
	}
	mark_bad(r, &d);
	if (!(msg = revert_message(s, &d, paths, failure))) {
		md_err_set(err, "out of memory");
		goto out;
	}
	if (r->x->s->mode == MD_MODE_PR) {
		rc = revert_by_pr(r, s, good, paths, &d, msg, reason, failure, err);
		goto out;
	}
	plan.stack = s->dir;
	plan.good = good;
	plan.head = head;
	plan.paths = paths;
	plan.message = msg;
	if (r->x->publisher.push(r->x->publisher.ctx, &plan, oid, &rerr) < 0) {
		md_log(MD_LOG_ERROR, "cannot revert the failed update in Git; running the last good "
		       "version instead", "stack", s->dir, "error", rerr.msg, NULL);
		rc = run_old_version(r, s, good, 0, reason, failure, err);
		goto out;
	}
	if (oid[0]) {
		r->x->rep->reverts++;
		md_log(MD_LOG_WARN, "reverted", "stack", s->dir, "commit", oid, "change",
		       d.what.len ? d.what.data : paths->v[0], "branch", r->x->s->branch, NULL);
		/* Nothing else moved: the revert is what this host now applies. */
		if (!strcmp(r->applied_to, head))
			memcpy(r->applied_to, oid, sizeof(oid));
	}
	if (md_rollout__stack_run(r, s, NULL, &rerr) < 0) {
		md_log(MD_LOG_ERROR, "stack failed", "stack", s->dir, "error", rerr.msg, NULL);
		rc = md_rollout__failed(r, s, reason, rerr.msg, err);
		goto out;
	}
	if (md_git_head(r->x->git, now, err) < 0)
		goto out;
	md_log(MD_LOG_WARN, "stack rolled back", "stack", s->dir, "to", now, "error", failure, NULL);
	rc = rolled_back(r, s, reason, failure, MD_STACK_STATUS_OK, now, err);
out:
	free(msg);
	desc_free(&d);
	return rc;
}

/* The authors of the stack's changes good..head (an error reads as none:
 * a person's change, never reverted). */
static int authors_of(struct md_rollout__run *r, const char *good, const char *head,
		      const struct md_strv *paths, struct md_strv *authors, struct md_err *err)
{
	return md_git_authors_between(r->x->git, good, head, paths, authors, err);
}

int md_rollout__rollback(struct md_rollout__run *r, const struct md_rollout__stack *s,
			 const char *reason, const char *failure, struct md_err *err)
{
	const char *g = md_state_stack_good(r->x->st, s->dir);
	static const struct md_strv none = { 0 };
	struct md_strv paths = { 0 }, authors = { 0 };
	char good[65], head[41], *why = NULL;
	int rc = -1;

	if (g) {
		md_strlcpy(good, g, sizeof(good));
		if (md_git_head(r->x->git, head, err) < 0 ||
		    stack_paths(r, s, good, head, &paths, err) < 0)
			goto out;
		if (paths.n && authors_of(r, good, head, &paths, &authors, err) < 0)
			goto out;
	}
	switch (md_rollout__rollback_decide(g, paths.n, &authors,
					    r->x->agent_emails ? r->x->agent_emails : &none)) {
	case MD_ROLLOUT__FAIL_NO_GOOD:
		why = md_asprintf("%s; no earlier good version to roll back to", failure);
		rc = md_rollout__failed(r, s, reason, why ? why : failure, err);
		break;
	case MD_ROLLOUT__FAIL_SAME:
		why = md_asprintf("%s; the last good version (%.7s) is the one that failed", failure,
				  good);
		rc = md_rollout__failed(r, s, reason, why ? why : failure, err);
		break;
	case MD_ROLLOUT__REVERT:
		rc = revert_and_apply(r, s, good, head, &paths, reason, failure, err);
		break;
	case MD_ROLLOUT__RUN_OLD:
		rc = run_old_version(r, s, good, 0, reason, failure, err);
		break;
	}
out:
	free(why);
	md_strv_clear(&authors);
	md_strv_clear(&paths);
	return rc;
}

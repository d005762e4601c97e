/* Step 6: the watcher's answers become changes, the changes become patched
 * file contents. After a push race the same changes are re-applied to the
 * freshly synced files by matching each site's old value. */
#include "reconcile_int.h"

#include <stdlib.h>
#include <string.h>

#include "magos/obs.h"
#include "magos/state.h"

/* "sha256:0123456789ab" — enough to tell digests apart in messages. */
static char *short_digest(const char *d)
{
	if (!d)
		return md_strdup("(unpinned)");
	return md_strndup(d, strlen(d) < 19 ? strlen(d) : 19);
}

/* What the site's value should become, per the rewrite rules in docs/configuration.md (What is rewritten). */
static char *new_value_for(const struct md_reconcile__site *cs, const struct md_watch_site *ws)
{
	enum md_policy_kind k = md_policy_kind(cs->policy);

	if (k == MD_POLICY_SEMVER)
		return md_ref_format(cs->ref, ws->tag,
				     md_policy_pin(cs->policy) == MD_PIN_TAG ? NULL : ws->digest);
	/* latest / digest follow a tag but only ever replace the digest. */
	if (md_policy_pin(cs->policy) == MD_PIN_TAG)
		return md_ref_format(cs->ref, md_ref_tag(cs->ref), md_ref_digest(cs->ref));
	return md_ref_format(cs->ref, md_ref_tag(cs->ref), ws->digest);
}

static int add_change(struct md_reconcile__cycle *c, const struct md_reconcile__site *cs,
		      const struct md_watch_site *ws, char *value)
{
	const struct md_compose_site *site =
		md_compose_site_at(c->files[cs->file].scan, cs->index);
	struct md_cycle_report *rep = c->rep;
	const char *old_tag = md_ref_tag(cs->ref);
	struct md_change *ch;

	ch = realloc(rep->changes, (rep->nchanges + 1) * sizeof(*ch));
	if (!ch)
		return -1;
	rep->changes = ch;
	ch = &rep->changes[rep->nchanges++];
	memset(ch, 0, sizeof(*ch));
	ch->file = md_strdup(c->files[cs->file].path);
	ch->line = site->line;
	ch->image = md_strdup(md_ref_name(cs->ref));
	if (old_tag && ws->tag && strcmp(old_tag, ws->tag) != 0) {
		ch->from = md_strdup(old_tag);
		ch->to = md_strdup(ws->tag);
	} else if (!old_tag && ws->tag && md_policy_kind(cs->policy) == MD_POLICY_SEMVER) {
		ch->from = md_strdup("(none)");
		ch->to = md_strdup(ws->tag);
	} else {
		ch->from = short_digest(md_ref_digest(cs->ref));
		ch->to = short_digest(ws->digest);
	}
	ch->digest = ws->digest ? md_strdup(ws->digest) : NULL;
	ch->old_value = md_strdup(site->value);
	ch->new_value = value;
	ch->annotation = md_strdup(site->annotation);
	if (!ch->file || !ch->image || !ch->from || !ch->to || !ch->old_value ||
	    !ch->annotation)
		return -1;
	return 0;
}

int md_reconcile__plan_changes(struct md_reconcile__cycle *c, struct md_watch_site *ws, struct md_err *err)
{
	for (size_t i = 0; i < c->nsites; i++) {
		const struct md_reconcile__site *cs = &c->sites[i];
		const struct md_reconcile__file *f = &c->files[cs->file];
		const struct md_compose_site *site = md_compose_site_at(f->scan, cs->index);
		char *value;

		if (ws[i].warning)
			md_log(MD_LOG_WARN, ws[i].warning, "image", site->value, "file", f->path,
			       NULL);
		if (ws[i].error) {
			if (md_reconcile__problem(c, f->path, site->line, "%s: %s", site->value,
						  ws[i].error) < 0)
				return md_err_set(err, "out of memory");
			continue;
		}
		if (!ws[i].tag) {
			if (ws[i].warning)
				continue; /* already said why */
			md_log(MD_LOG_INFO, "no tag satisfies the policy; site left as it is",
			       "image", site->value, "file", f->path, NULL);
			continue;
		}
		value = new_value_for(cs, &ws[i]);
		if (!value)
			return md_err_set(err, "out of memory");
		if (!strcmp(value, site->value)) {
			free(value);
			continue;
		}
		/* A digest this host rolled back (MD_APPLY) is never proposed again. */
		if (ws[i].digest && md_state_bad_digest(c->st, md_ref_name(cs->ref), ws[i].digest)) {
			free(value);
			if (md_reconcile__problem(c, f->path, site->line, "%s: %s was rolled back on "
						  "this host after it failed; not proposing it again",
						  site->value, ws[i].digest) < 0)
				return md_err_set(err, "out of memory");
			continue;
		}
		if (add_change(c, cs, &ws[i], value) < 0)
			return md_err_set(err, "out of memory");
	}
	return 0;
}

/* The change (if any) that applies to a scanned site. Lines are compared
 * only on the first pass: after a push race the file may have moved. */
static const struct md_change *change_for(const struct md_reconcile__cycle *c, const char *path,
					  const struct md_compose_site *site, int match_line)
{
	for (size_t i = 0; i < c->rep->nchanges; i++) {
		const struct md_change *ch = &c->rep->changes[i];

		if (strcmp(ch->file, path) || strcmp(ch->old_value, site->value) ||
		    strcmp(ch->annotation, site->annotation))
			continue;
		if (match_line && ch->line != site->line)
			continue;
		return ch;
	}
	return NULL;
}

static int patch_file(struct md_reconcile__cycle *c, struct md_reconcile__file *f, int match_line,
		      struct md_err *err)
{
	size_t n = md_compose_site_count(f->scan), k = 0;
	struct md_compose_edit *edits = calloc(n ? n : 1, sizeof(*edits));
	struct md_err perr;
	int rc = 0;

	if (!edits)
		return md_err_set(err, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const struct md_change *ch =
			change_for(c, f->path, md_compose_site_at(f->scan, i), match_line);

		if (ch) {
			edits[k].site = i;
			edits[k].new_value = ch->new_value;
			k++;
		}
	}
	free(f->patched);
	f->patched = NULL;
	if (k && md_compose_patch(&f->patched, &f->patched_len, f->scan, edits, k, &perr) < 0)
		rc = md_reconcile__problem(c, NULL, 0, "%s", perr.msg) < 0 ? md_err_set(err, "out of memory")
							       : 0;
	free(edits);
	return rc;
}

int md_reconcile__patch_files(struct md_reconcile__cycle *c, struct md_err *err)
{
	for (size_t i = 0; i < c->nfiles; i++)
		if (c->files[i].scan && patch_file(c, &c->files[i], 1, err) < 0)
			return -1;
	return 0;
}

/* After re-syncing: re-read the files, drop changes whose site no longer
 * holds the old value (someone else changed it; their change wins) and
 * patch the rest again. */
int md_reconcile__reapply(struct md_reconcile__cycle *c, struct md_err *err)
{
	struct md_cycle_report *rep = c->rep;
	size_t kept = 0;

	md_reconcile__files_clear(c);
	if (md_reconcile__load_files(c, err) < 0)
		return -1;
	for (size_t i = 0; i < rep->nchanges; i++) {
		struct md_change *ch = &rep->changes[i];
		int found = 0;

		for (size_t f = 0; f < c->nfiles && !found; f++) {
			if (!c->files[f].scan || strcmp(c->files[f].path, ch->file))
				continue;
			for (size_t s = 0; s < md_compose_site_count(c->files[f].scan); s++) {
				const struct md_compose_site *site =
					md_compose_site_at(c->files[f].scan, s);

				if (!strcmp(site->value, ch->old_value) &&
				    !strcmp(site->annotation, ch->annotation)) {
					ch->line = site->line;
					found = 1;
					break;
				}
			}
		}
		if (found) {
			rep->changes[kept++] = *ch;
			continue;
		}
		md_log(MD_LOG_WARN, "site changed on the remote meanwhile; its update is dropped",
		       "image", ch->image, "file", ch->file, NULL);
		md_reconcile__change_clear(ch);
	}
	rep->nchanges = kept;
	for (size_t i = 0; i < c->nfiles; i++)
		if (c->files[i].scan && patch_file(c, &c->files[i], 0, err) < 0)
			return -1;
	return 0;
}

/* state — the agent's small JSON cache in MD_STATE_DIR/state.json.
 *
 * It is a cache: Git is the truth, and losing the file must never cause a
 * downgrade, a duplicate commit or a lost update. Saved atomically (temp
 * file, fsync, rename, fsync of the directory). A corrupt file is moved
 * aside to state.json.corrupt-<time> and an empty state used; the caller
 * gets a warning to log, never a fatal error. */
#ifndef MAGOS_STATE_H
#define MAGOS_STATE_H

#include <stdint.h>

#include "magos/util.h"

#define MD_STATE_MAX_FILE (16u * 1024 * 1024)

struct md_state;

/* Create dir if needed and load dir/state.json. On a corrupt file, *warning
 * (caller frees) says what was set aside; it is NULL otherwise. */
int md_state_load(struct md_state **out, const char *dir, char **warning,
		  struct md_err *err);
/* Load for reading only (plan, explain): never creates the directory,
 * never sets a corrupt file aside (an unreadable one reads as empty), and
 * md_state_save refuses. Changes stay in memory. */
int md_state_load_readonly(struct md_state **out, const char *dir, struct md_err *err);
int md_state_save(struct md_state *st, struct md_err *err);
void md_state_free(struct md_state *st);

/* Tag observations per repository ("ghcr.io/acme/web"). The digest last
 * seen for a tag (if one was resolved) and the first time this agent saw
 * the tag. tag_seen returns -1 for an empty name or a digest that is not
 * sha256:<64 hex>.
 * At most 10000 tags per repository and 2000 repositories are kept; the
 * oldest first_seen go first (a repository ages by its newest tag). */
int md_state_tag_seen(struct md_state *st, const char *repo, const char *tag,
		      const char *digest, int64_t now);
/* Returns the digest last recorded for repo:tag, or NULL. The string is
 * valid until the next md_state_tag_seen or md_state_free. */
const char *md_state_tag_digest(const struct md_state *st, const char *repo, const char *tag);
/* First time repo:tag was seen, 0 when never. */
int64_t md_state_tag_first_seen(const struct md_state *st, const char *repo, const char *tag);

/* Record that repo:tag was listed, digest unknown: sets first_seen the
 * first time only (minAge falls back on first sight when an image has no
 * creation time). Returns -1 for an empty name or on OOM. */
int md_state_tag_listed(struct md_state *st, const char *repo, const char *tag, int64_t now);

/* Image facts by digest (creation time, platforms "os/arch[/variant]").
 * A digest's content never changes, so they are kept until pushed out:
 * at most MD_STATE_MAX_DIGESTS, the oldest stored go first. Only digests
 * whose manifest was fetched and hashed to the digest are stored, so a
 * digest present here (with facts or without) is a verified one. */
#define MD_STATE_MAX_DIGESTS 20000
#define MD_STATE_MAX_PLATFORMS 64

/* Store (or replace) the facts of digest. created 0 means the image does
 * not say. Returns -1 for a digest that is not sha256:<64 hex>, more than
 * MD_STATE_MAX_PLATFORMS platforms, an empty or overlong platform, or OOM. */
int md_state_digest_facts_put(struct md_state *st, const char *digest, int64_t created,
			      const struct md_strv *platforms, int64_t now);
/* 1 when the facts of digest are known: *created set, platforms appended to
 * *platforms (caller frees). 0 when unknown, -1 on OOM. */
int md_state_digest_facts_get(const struct md_state *st, const char *digest, int64_t *created,
			      struct md_strv *platforms);
/* Record that digest's manifest was fetched and hashed to it, facts not
 * asked for (an entry with facts is left as it is). -1 for a digest that
 * is not sha256:<64 hex>, or on OOM. */
int md_state_digest_verified_put(struct md_state *st, const char *digest, int64_t now);
/* 1 when digest was verified (md_state_digest_verified_put, or facts stored), else 0. */
int md_state_digest_verified(const struct md_state *st, const char *digest);

/* Outcome of the last cycle, for status and health. ok also sets the last
 * success time; commit (lowercase hex) may be NULL to keep the last one. */
int md_state_set_last_cycle(struct md_state *st, int64_t when, int ok, const char *commit);
int64_t md_state_last_success(const struct md_state *st);
const char *md_state_last_commit(const struct md_state *st);

/* Record that repo's tag list was fetched whole, as tags: its fingerprint
 * (sha256 of the sorted list) is compared with the one recorded last time.
 * Returns 1 when equal: the list did not change, and a digest recorded for
 * one of its tags was resolved while the list was this one. Returns 0 when
 * it differs or none was recorded: the new fingerprint is recorded and
 * every digest recorded for repo's tags is forgotten (md_state_tag_digest
 * returns NULL until a tag is resolved again), since any tag may have
 * moved with the list. -1 for an empty repo or on OOM (nothing trusted). */
int md_state_tag_list_seen(struct md_state *st, const char *repo, const struct md_strv *tags);

/* ---- applier ---- */

/* What this host applied (MD_APPLY): the commit last applied, each stack's
 * last good commit and status, and digests that failed here and must not
 * be proposed again (repository → digests). Stacks are directories
 * relative to the repository ("." for the top). At most
 * MD_STATE_MAX_STACKS stacks (the least recently applied go first) and
 * MD_STATE_MAX_BAD_DIGESTS bad digests per repository in at most
 * MD_STATE_MAX_BAD_REPOS repositories (the oldest go first). Commits are
 * lowercase hex (4..64). */
#define MD_STATE_MAX_STACKS 1000
#define MD_STATE_MAX_BAD_DIGESTS 100
#define MD_STATE_MAX_BAD_REPOS 500
#define MD_STATE_MAX_STACK_DIR 1024

enum md_stack_status {
	MD_STACK_STATUS_NONE,        /* never applied (unknown stack) */
	MD_STACK_STATUS_OK,          /* runs the version at its good commit */
	MD_STACK_STATUS_ROLLED_BACK, /* its latest version failed; the good one runs */
	MD_STACK_STATUS_FAILED,      /* failed and not rolled back: retry */
};

/* The commit last applied, NULL when none. Valid until the next setter. */
const char *md_state_applied_commit(const struct md_state *st);
/* commit NULL forgets it (the next cycle applies every stack). -1 for a
 * commit that is not hex, or on OOM. */
int md_state_set_applied_commit(struct md_state *st, const char *commit);

/* Record a stack's status; good (NULL: keep the one recorded) is the
 * commit whose version of the stack last ran healthy. -1 for a bad dir or
 * commit, or on OOM. */
int md_state_stack_set(struct md_state *st, const char *dir, enum md_stack_status status,
		       const char *good, int64_t now);
enum md_stack_status md_state_stack_status(const struct md_state *st, const char *dir);
/* The stack's last good commit, NULL when none. Valid until the next setter. */
const char *md_state_stack_good(const struct md_state *st, const char *dir);
/* Stacks recorded, sorted, appended to *out (caller frees). */
int md_state_stack_list(const struct md_state *st, struct md_strv *out);
int md_state_stack_forget(struct md_state *st, const char *dir);

/* Remember that digest of repo ("ghcr.io/acme/web") failed on this host. */
int md_state_bad_digest_add(struct md_state *st, const char *repo, const char *digest,
			    int64_t now);
/* 1 when digest of repo is recorded as bad, else 0. */
int md_state_bad_digest(const struct md_state *st, const char *repo, const char *digest);

/* ---- intent: a change of the work tree in progress ---- */

/* Recorded in <dir>/intent.json before the agent writes any file of its
 * clone, removed once the change is committed or undone: after a crash the
 * next start undoes exactly that change (its files hold one of the two
 * recorded contents) and nothing else. */
struct md_intent_file {
	char *path;      /* relative to the work tree */
	char old_id[41]; /* git blob ids, "" where the file does not exist */
	char new_id[41];
};

struct md_intent {
	char head[41];             /* HEAD when the change started ("" unborn) */
	struct md_intent_file *files;
	size_t nfiles;
	struct md_strv decisions;  /* what the change was, for the log */
};

/* Write the record atomically (temp file, fsync, rename, fsync of dir). */
int md_state_intent_save(const char *dir, const struct md_intent *in, struct md_err *err);
/* 0 with *out (free with md_state_intent_free); 1 when there is none. A
 * record that cannot be read is moved aside to intent.json.corrupt-<time>
 * and 1 returned with *warning (caller frees) saying so. -1 on error. */
int md_state_intent_load(const char *dir, struct md_intent **out, char **warning,
			 struct md_err *err);
/* Remove the record (no error when there is none) and sync the directory. */
int md_state_intent_remove(const char *dir, struct md_err *err);
void md_state_intent_free(struct md_intent *in);

#endif

/* watcher — what to ask which registry this cycle, and the answers.
 *
 * Sites are grouped by the repository they watch (the annotation's `repo`
 * or the image line's own). Each repository's tag list is fetched once per
 * cycle, however many sites watch it; each (repository, tag) digest is
 * resolved once with HEAD. A registry failure is recorded on the sites of
 * that repository only; the others go on. */
#ifndef MAGOS_WATCHER_H
#define MAGOS_WATCHER_H

#include <stddef.h>
#include <stdint.h>

#include "magos/policy.h"
#include "magos/ref.h"
#include "magos/registry.h"
#include "magos/state.h"
#include "magos/util.h"

struct md_watch_site {
	/* in */
	const struct md_ref *ref;         /* the image line, parsed */
	const struct md_policy *policy;
	/* out (owned by the site; md_watch_site_clear frees them) */
	char *tag;                        /* decided tag, NULL when none qualifies */
	char *digest;                     /* its digest when pinning, else NULL */
	char *warning;                    /* something worth logging, or NULL */
	char *error;                      /* why this site could not be decided, or NULL */
	struct md_decision *decision;     /* the policy's trace */
};

/* Resolve every site. Returns -1 only on out-of-memory-class failures;
 * per-site failures land in site->error. */
int md_watcher_resolve(struct md_registry *reg, struct md_state *st, struct md_watch_site *sites,
		       size_t n, int64_t now, struct md_err *err);
/* The same with an explicit decision context (the clock for minAge, the
 * host platform for the default arch); md_watcher_resolve uses `now` and
 * the host's platform from uname. Sites whose policy gates on facts
 * (md_policy_needs_facts) get them looked up lazily in rank order, cached
 * by digest in st (which may be NULL: nothing cached or recorded). */
int md_watcher_resolve_ctx(struct md_registry *reg, struct md_state *st,
			   struct md_watch_site *sites, size_t n, const struct md_decide_ctx *ctx,
			   struct md_err *err);
void md_watch_site_clear(struct md_watch_site *s);

/* The host's platform for the default `arch` ("linux/amd64",
 * "linux/arm/v7"), from uname's machine name. A machine the policy cannot
 * map keeps its own name ("linux/<machine>"): a wrong guess would pass the
 * arch gate for images that cannot run here. */
void md_watcher_host_platform(char *out, size_t outlen);

/* The repository a site watches, as "domain/path" (caller frees). */
char *md_watcher_repo_of(const struct md_watch_site *s, struct md_err *err);

#endif

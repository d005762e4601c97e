/* Does a container run the declared image? By digest when the declaration
 * pins one (tag@sha256:...), else by normalised name:tag. */
#include "applier_int.h"

#include <stdlib.h>
#include <string.h>

#include "magos/ref.h"

/* "nginx" → "docker.io/library/nginx:latest"; the digest part is dropped.
 * Enough of the reference grammar to compare what compose was given with
 * what the engine reports (podman and docker both fill in these defaults). */
char *md_applier__image_normalise(const char *ref)
{
	size_t len = strcspn(ref, "@");
	size_t dlen = md_ref_domain_len(ref, len);
	const char *name = dlen ? ref + dlen + 1 : ref;
	int hub = !dlen || md_ref_is_hub(ref, dlen);
	const char *domain = hub ? MD_REF_HUB : ref, *lib = "";
	size_t nlen = len - (size_t)(name - ref);
	const char *last, *tag;

	if (hub) {
		dlen = strlen(MD_REF_HUB);
		if (!memchr(name, '/', nlen))
			lib = "library/";
	}
	last = name;
	for (const char *p = name; p < name + nlen; p++)
		if (*p == '/')
			last = p + 1;
	tag = memchr(last, ':', (size_t)(name + nlen - last));
	return md_asprintf("%.*s/%s%.*s%s", (int)dlen, domain, lib, (int)nlen, name,
			   tag ? "" : ":latest");
}

static int has_digest(const struct md_container *c, const char *digest)
{
	const char *at;

	for (size_t i = 0; i < c->repo_digests.n; i++) {
		at = strrchr(c->repo_digests.v[i], '@');
		if (at && strcmp(at + 1, digest) == 0)
			return 1;
	}
	at = c->image_name ? strrchr(c->image_name, '@') : NULL;
	return at && strcmp(at + 1, digest) == 0;
}

int md_applier__image_matches(const struct md_container *c, const char *declared)
{
	const char *at;
	char *x, *y;
	int same;

	/* Unknown or interpolated (${TAG}) declarations cannot be judged. */
	if (!declared || strchr(declared, '$'))
		return 1;
	at = strrchr(declared, '@');
	if (at)
		return has_digest(c, at + 1);
	if (!c->image_name)
		return 0;
	x = md_applier__image_normalise(declared);
	y = md_applier__image_normalise(c->image_name);
	same = x && y && strcmp(x, y) == 0;
	free(x);
	free(y);
	return same;
}

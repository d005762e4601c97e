/* Fuzz the applier's readers of outside input: the first byte picks one
 * (byte % 8, so ASCII '0'..'4' are 0..4), the rest is its input.
 *
 *   0  `podman ps --format json` (an array, or docker's one object a line)
 *   1  `podman inspect` (state, exit code, health, labels)
 *   2  `podman image inspect` (RepoDigests)
 *   3  "declared\nrunning[\nrepo@digest...]": image name comparison
 *   4  compose files separated by NUL bytes: services, image, restart,
 *      depends_on (merged over the files in order)
 *
 * Besides "no crash", each checks what its callers rely on. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "magos/applier.h"
#include "../../internal/applier/applier_int.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FILES 4

static void check_err(const struct md_err *err)
{
	if (!err->msg[0])
		abort();
}

static void fuzz_ps(const char *s)
{
	struct md_strv ids = { 0 };
	struct md_err err = { { 0 } };

	if (md_applier__parse_ps(s, &ids, &err) == 0) {
		/* distinct, non-empty, bounded: each becomes an inspect argument */
		if (ids.n > APP_CONTAINERS_MAX)
			abort();
		for (size_t i = 0; i < ids.n; i++) {
			if (!ids.v[i][0])
				abort();
			for (size_t j = 0; j < i; j++)
				if (!strcmp(ids.v[i], ids.v[j]))
					abort();
		}
	} else {
		check_err(&err);
	}
	md_strv_clear(&ids);
}

static void fuzz_inspect(const char *s)
{
	struct md_container *v = NULL;
	struct md_err err = { { 0 } };
	size_t n = 0;

	if (md_applier__parse_inspect(s, &v, &n, &err) < 0) {
		if (v || n)
			abort();
		check_err(&err);
		return;
	}
	if (n > APP_CONTAINERS_MAX)
		abort();
	/* the health wait compares state and health; an id names it */
	for (size_t i = 0; i < n; i++)
		if (!v[i].id || !v[i].state || (v[i].health && !v[i].health[0]))
			abort();
	md_containers_free(v, n);
}

static void fuzz_digests(const char *s)
{
	struct md_strv d = { 0 };

	if (md_applier__parse_repo_digests(s, &d) == 0)
		for (size_t i = 0; i < d.n; i++)
			for (size_t j = 0; j < i; j++)
				if (!strcmp(d.v[i], d.v[j]))
					abort();
	md_strv_clear(&d);
}

static void check_normalise(const char *ref)
{
	char *x = md_applier__image_normalise(ref), *y;

	if (!x)
		return; /* OOM */
	/* domain/path:tag, and normalising again changes nothing */
	if (!strchr(x, '/') || strchr(x, '@'))
		abort();
	y = md_applier__image_normalise(x);
	if (y && strcmp(x, y) != 0)
		abort();
	free(x);
	free(y);
}

/* "declared\nrunning[\nrepo-digest...]" */
static void fuzz_images(char *s)
{
	char *running = strchr(s, '\n'), *rest = NULL, *save = NULL;
	struct md_container c = { 0 };

	if (running) {
		*running++ = '\0';
		rest = strchr(running, '\n');
		if (rest)
			*rest++ = '\0';
	}
	for (char *d = rest ? strtok_r(rest, "\n", &save) : NULL; d; d = strtok_r(NULL, "\n", &save))
		if (md_strv_push(&c.repo_digests, d) < 0)
			goto out;
	check_normalise(s);
	c.image_name = running;
	md_applier__image_matches(&c, s);
	/* a container runs what it was created from */
	c.image_name = s;
	if (!md_applier__image_matches(&c, s))
		abort();
	if (running) {
		check_normalise(running);
		c.image_name = running;
		if (!md_applier__image_matches(&c, running))
			abort();
	}
out:
	md_strv_clear(&c.repo_digests);
}

static int decls_equal(const struct md_service_decl *a, size_t na, const struct md_service_decl *b,
		       size_t nb)
{
	if (na != nb)
		return 0;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i].name, b[i].name) || a[i].oneshot != b[i].oneshot ||
		    (a[i].image ? !b[i].image || strcmp(a[i].image, b[i].image) : !!b[i].image))
			return 0;
	return 1;
}

/* Compose files split at NUL bytes. */
static void fuzz_compose(const char *s, size_t n)
{
	static const char *const names[MAX_FILES] = { "a/compose.yaml", "a/b.yaml", "a/c.yaml",
						      "a/d.yaml" };
	struct app_text f[MAX_FILES * 2];
	struct md_service_decl *v = NULL, *w = NULL;
	struct md_err err = { { 0 } };
	size_t nf = 0, nv = 0, nw = 0;
	const char *p = s, *end = s + n;

	while (nf < MAX_FILES) {
		const char *z = memchr(p, '\0', (size_t)(end - p));

		f[nf].path = names[nf];
		f[nf].text = p;
		f[nf].len = z ? (size_t)(z - p) : (size_t)(end - p);
		nf++;
		if (!z)
			break;
		p = z + 1;
	}
	if (md_applier__declared_texts(f, nf, &v, &nv, &err) < 0) {
		/* an error names the file it is about */
		if (v || nv || strncmp(err.msg, "a/", 2) != 0)
			abort();
		return;
	}
	if (nv > APP_SERVICES_MAX)
		abort();
	for (size_t i = 0; i < nv; i++) {
		if (!v[i].name || !v[i].name[0] || (v[i].image && !v[i].image[0]))
			abort();
		for (size_t j = 0; j < i; j++)
			if (!strcmp(v[i].name, v[j].name))
				abort();
	}
	/* merging is idempotent: the same files twice declare the same */
	memcpy(f + nf, f, nf * sizeof(*f));
	if (md_applier__declared_texts(f, nf * 2, &w, &nw, &err) < 0 || !decls_equal(v, nv, w, nw))
		abort();
	md_service_decls_free(v, nv);
	md_service_decls_free(w, nw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned sel;
	size_t n;
	char *s = fuzz_input(data, size, &sel, &n);

	if (!s)
		return 0;
	switch (sel % 8) {
	case 0: fuzz_ps(s); break;
	case 1: fuzz_inspect(s); break;
	case 2: fuzz_digests(s); break;
	case 3: fuzz_images(s); break;
	case 4: fuzz_compose(s, n); break;
	default:
		fuzz_ps(s);
		fuzz_inspect(s);
		fuzz_digests(s);
		break;
	}
	free(s);
	return 0;
}

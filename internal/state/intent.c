/* The intent record, MD_STATE_DIR/intent.json: a change of the work tree
 * the agent is about to make, written (atomically, fsynced) before the
 * first file is touched and removed once the commit is made or the change
 * undone. After a crash it tells the agent's own half-made change apart
 * from a person's edit:
 *
 *   {"version":1,"head":"<hex>",
 *    "files":[{"path":"stacks/web/compose.yaml","old":"<blob>","new":"<blob>"}],
 *    "decisions":["ghcr.io/acme/web: 1.0 -> 1.1 (stacks/web/compose.yaml:3)"]}
 *
 * "old"/"new" are git blob ids, "" where the file does not exist. */
#include "state_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define INTENT_FILE "intent.json"
#define INTENT_VERSION 1
#define INTENT_MAX_FILE (4u * 1024 * 1024)
#define INTENT_MAX_FILES 10000

void md_state_intent_free(struct md_intent *in)
{
	if (!in)
		return;
	for (size_t i = 0; i < in->nfiles; i++)
		free(in->files[i].path);
	free(in->files);
	md_strv_clear(&in->decisions);
	free(in);
}

static int blob_id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n != 0 && n != 40)
		return 0;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return 0;
	return 1;
}

/* Relative, inside the work tree: no "." or ".." component, no "//". */
static int rel_path_ok(const char *p)
{
	if (!*p || *p == '/' || strlen(p) >= 4096)
		return 0;
	while (*p) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		p += n;
		if (*p == '/' && !*++p)
			return 0;
	}
	return 1;
}

static char *intent_path(const char *dir)
{
	return md_asprintf("%s/" INTENT_FILE, dir);
}

static json_t *build(const struct md_intent *in)
{
	json_t *root = json_object(), *files = json_array(), *dec = json_array();

	if (!root || !files || !dec)
		goto fail;
	for (size_t i = 0; i < in->nfiles; i++) {
		const struct md_intent_file *f = &in->files[i];

		if (json_array_append_new(files, json_pack("{s:s, s:s, s:s}", "path", f->path,
							   "old", f->old_id, "new", f->new_id)) < 0)
			goto fail;
	}
	for (size_t i = 0; i < in->decisions.n; i++)
		if (json_array_append_new(dec, json_string(in->decisions.v[i])) < 0)
			goto fail;
	if (json_object_set_new(root, "version", json_integer(INTENT_VERSION)) < 0 ||
	    json_object_set_new(root, "head", json_string(in->head)) < 0 ||
	    json_object_set_new(root, "files", files) < 0 ||
	    json_object_set_new(root, "decisions", dec) < 0)
		goto fail_root;
	return root;
fail:
	json_decref(files);
	json_decref(dec);
fail_root:
	json_decref(root);
	return NULL;
}

int md_state_intent_save(const char *dir, const struct md_intent *in, struct md_err *err)
{
	json_t *doc;
	char *text = NULL, *path = NULL;
	int rc = -1;

	for (size_t i = 0; i < in->nfiles; i++)
		if (!rel_path_ok(in->files[i].path) || !blob_id_ok(in->files[i].old_id) ||
		    !blob_id_ok(in->files[i].new_id))
			return md_err_set(err, "cannot record the change of \"%.200s\": bad path or "
					  "blob id", in->files[i].path);
	if (md_mkdir_p(dir, 0700, err) < 0)
		return -1;
	doc = build(in);
	if (doc)
		text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	path = intent_path(dir);
	if (!text || !path)
		md_err_set(err, "out of memory recording the change in %s", dir);
	else
		rc = md_file_write_atomic(path, text, strlen(text), 0600, err);
	free(text);
	free(path);
	return rc;
}

static int parse_files(json_t *files, struct md_intent *in, char *why, size_t n)
{
	size_t count = json_array_size(files), i;
	json_t *f;

	if (!json_is_array(files) || count > INTENT_MAX_FILES)
		return snprintf(why, n, "\"files\" is not a list of at most %d", INTENT_MAX_FILES),
		       -1;
	in->files = calloc(count ? count : 1, sizeof(*in->files));
	if (!in->files)
		return snprintf(why, n, "out of memory"), -1;
	json_array_foreach(files, i, f) {
		const char *p = json_string_value(json_object_get(f, "path"));
		const char *o = json_string_value(json_object_get(f, "old"));
		const char *w = json_string_value(json_object_get(f, "new"));
		struct md_intent_file *d = &in->files[in->nfiles];

		if (!p || !o || !w || !rel_path_ok(p) || !blob_id_ok(o) || !blob_id_ok(w))
			return snprintf(why, n, "file %zu has no valid path, old and new", i), -1;
		if (!(d->path = md_strdup(p)))
			return snprintf(why, n, "out of memory"), -1;
		md_strlcpy(d->old_id, o, sizeof(d->old_id));
		md_strlcpy(d->new_id, w, sizeof(d->new_id));
		in->nfiles++;
	}
	return 0;
}

static int parse(const char *text, size_t len, struct md_intent *in, char *why, size_t n)
{
	json_error_t je;
	json_t *root = json_loadb(text, len, 0, &je), *dec, *v;
	const char *head;
	size_t i;
	int rc = -1;

	if (!root)
		return snprintf(why, n, "line %d: %s", je.line, je.text), -1;
	head = json_string_value(json_object_get(root, "head"));
	dec = json_object_get(root, "decisions");
	if (json_integer_value(json_object_get(root, "version")) != INTENT_VERSION)
		snprintf(why, n, "unknown version");
	else if (!head || !blob_id_ok(head))
		snprintf(why, n, "no valid \"head\"");
	else if (dec && !json_is_array(dec))
		snprintf(why, n, "\"decisions\" is not a list");
	else if (parse_files(json_object_get(root, "files"), in, why, n) == 0)
		rc = 0;
	if (rc == 0) {
		md_strlcpy(in->head, head, sizeof(in->head));
		json_array_foreach(dec, i, v)
			if (json_is_string(v) && md_strv_push(&in->decisions, json_string_value(v)) < 0)
				rc = -1;
	}
	json_decref(root);
	return rc;
}

/* A record that cannot be read tells nothing: move it aside (for a person
 * to look at) and go on; whatever it described then counts as a person's. */
static int set_aside(const char *path, const char *why, char **warning, struct md_err *err)
{
	char *dest = md_asprintf("%s.corrupt-%lld", path, (long long)md_time_now());

	if (!dest)
		return md_err_set(err, "out of memory");
	if (rename(path, dest) < 0) {
		md_err_set(err, "intent record %s is unusable (%s) and cannot be moved to %s: %s",
			   path, why, dest, strerror(errno));
		free(dest);
		return -1;
	}
	*warning = md_asprintf("intent record %s is unusable (%s); moved it to %s", path, why,
			       dest);
	free(dest);
	return 0;
}

int md_state_intent_load(const char *dir, struct md_intent **out, char **warning,
			 struct md_err *err)
{
	char *path = intent_path(dir), *text = NULL;
	struct md_intent *in = NULL;
	char why[256] = "";
	size_t len = 0;
	int rc;

	*out = NULL;
	*warning = NULL;
	if (!path)
		return md_err_set(err, "out of memory");
	if (!md_path_exists(path)) {
		free(path);
		return 1;
	}
	if (md_file_read(path, INTENT_MAX_FILE, &text, &len, err) < 0) {
		free(path);
		return -1;
	}
	in = calloc(1, sizeof(*in));
	if (!in) {
		rc = md_err_set(err, "out of memory");
	} else if (parse(text, len, in, why, sizeof(why)) < 0) {
		md_state_intent_free(in);
		in = NULL;
		rc = set_aside(path, why, warning, err) < 0 ? -1 : 1;
	} else {
		*out = in;
		rc = 0;
	}
	if (rc != 0)
		md_state_intent_free(in);
	free(text);
	free(path);
	return rc;
}

int md_state_intent_remove(const char *dir, struct md_err *err)
{
	char *path = intent_path(dir);
	int fd, rc = 0;

	if (!path)
		return md_err_set(err, "out of memory");
	if (unlink(path) < 0 && errno != ENOENT)
		rc = md_err_set(err, "cannot remove %s: %s", path, strerror(errno));
	free(path);
	/* The removal must reach the disk before the next change is recorded. */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	return rc;
}

/* What runs: `<engine> ps -a --filter label=...` for the ids, `<engine>
 * inspect` for the details, `<engine> image inspect` for RepoDigests.
 * podman 4 prints JSON arrays; docker prints one JSON object per line for
 * ps and names fields slightly differently in inspect: both are read. */
#include "applier_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* A JSON array, or one JSON value per line (docker's --format json). */
static json_t *load_any(const char *text, struct md_err *err, const char *what)
{
	json_error_t je;
	json_t *all, *v;
	size_t off = 0, len = strlen(text);

	while (off < len && strchr(" \t\r\n", text[off]))
		off++;
	if (off == len)
		return json_array();
	if (text[off] == '[') {
		all = json_loads(text + off, 0, &je);
		if (!all || !json_is_array(all)) {
			json_decref(all);
			md_err_set(err, "%s: invalid JSON: %s", what, je.text);
			return NULL;
		}
		return all;
	}
	all = json_array();
	while (all && off < len) {
		v = json_loadb(text + off, len - off, JSON_DISABLE_EOF_CHECK, &je);
		if (!v) {
			json_decref(all);
			md_err_set(err, "%s: invalid JSON: %s", what, je.text);
			return NULL;
		}
		json_array_append_new(all, v);
		off += je.position;
		while (off < len && strchr(" \t\r\n", text[off]))
			off++;
	}
	return all;
}

static const char *str_field(json_t *o, const char *k1, const char *k2)
{
	const char *s = json_string_value(json_object_get(o, k1));

	if (!s && k2)
		s = json_string_value(json_object_get(o, k2));
	return s;
}

int md_applier__parse_ps(const char *json, struct md_strv *ids, struct md_err *err)
{
	json_t *all = load_any(json, err, "container list");
	size_t i;
	json_t *c;

	if (!all)
		return -1;
	json_array_foreach(all, i, c) {
		const char *id = str_field(c, "Id", "ID");

		if (!id || !id[0] || md_strv_contains(ids, id))
			continue;
		if (ids->n >= APP_CONTAINERS_MAX) {
			json_decref(all);
			return md_err_set(err, "container list: more than %u containers",
					  APP_CONTAINERS_MAX);
		}
		if (md_strv_push(ids, id) < 0) {
			json_decref(all);
			return md_err_set(err, "container list: out of memory");
		}
	}
	json_decref(all);
	return 0;
}

static int dup_field(char **dst, const char *s)
{
	*dst = NULL;
	if (!s)
		return 0;
	*dst = md_strdup(s);
	return *dst ? 0 : -1;
}

static int parse_one(json_t *o, struct md_container *c)
{
	json_t *cfg = json_object_get(o, "Config"), *st = json_object_get(o, "State");
	json_t *labels = json_object_get(cfg, "Labels"), *health;
	const char *name = str_field(o, "Name", NULL), *image_name, *h;

	/* podman: ImageName; docker: Config.Image (Image is the id in both) */
	image_name = str_field(o, "ImageName", NULL);
	if (!image_name)
		image_name = str_field(cfg, "Image", NULL);
	if (name && name[0] == '/') /* docker */
		name++;
	health = json_object_get(st, "Health");
	if (!json_is_object(health))
		health = json_object_get(st, "Healthcheck");
	h = str_field(health, "Status", NULL);
	if (dup_field(&c->id, str_field(o, "Id", "ID")) < 0 || dup_field(&c->name, name) < 0 ||
	    dup_field(&c->service, str_field(labels, "com.docker.compose.service", NULL)) < 0 ||
	    dup_field(&c->image_name, image_name) < 0 ||
	    dup_field(&c->image_id, str_field(o, "Image", NULL)) < 0 ||
	    dup_field(&c->state, str_field(st, "Status", NULL)) < 0 ||
	    dup_field(&c->health, h && h[0] ? h : NULL) < 0)
		return -1;
	c->exit_code = (int)json_integer_value(json_object_get(st, "ExitCode"));
	return 0;
}

int md_applier__parse_inspect(const char *json, struct md_container **out, size_t *n,
		      struct md_err *err)
{
	json_t *all = load_any(json, err, "container inspect");
	struct md_container *v = NULL;
	size_t i, nv = 0, total;
	json_t *o;

	*out = NULL;
	*n = 0;
	if (!all)
		return -1;
	total = json_array_size(all);
	if (total > APP_CONTAINERS_MAX) {
		json_decref(all);
		return md_err_set(err, "container inspect: more than %u containers",
				  APP_CONTAINERS_MAX);
	}
	v = calloc(total ? total : 1, sizeof(*v));
	if (!v)
		goto oom;
	json_array_foreach(all, i, o) {
		if (!json_is_object(o) || !str_field(o, "Id", "ID"))
			continue;
		if (parse_one(o, &v[nv++]) < 0)
			goto oom;
		if (!v[nv - 1].state && !(v[nv - 1].state = md_strdup("unknown")))
			goto oom;
	}
	json_decref(all);
	*out = v;
	*n = nv;
	return 0;
oom:
	json_decref(all);
	md_containers_free(v, nv);
	return md_err_set(err, "container inspect: out of memory");
}

int md_applier__parse_repo_digests(const char *json, struct md_strv *digests)
{
	json_t *all = load_any(json, NULL, "image inspect"), *img, *d;
	size_t i, j;

	if (!all)
		return -1;
	json_array_foreach(all, i, img) {
		json_array_foreach(json_object_get(img, "RepoDigests"), j, d) {
			const char *s = json_string_value(d);

			if (s && !md_strv_contains(digests, s) && md_strv_push(digests, s) < 0) {
				json_decref(all);
				return -1;
			}
		}
	}
	json_decref(all);
	return 0;
}

static int ps_ids(struct md_applier *a, const char *project, struct md_strv *ids,
		  struct md_err *err)
{
	struct md_buf out;
	char *filter = md_asprintf("label=com.docker.compose.project=%s", project);
	const char *args[] = { "ps", "-a", "--no-trunc", "--filter", filter, "--format", "json" };
	int rc = -1;

	md_buf_init(&out, APP_JSON_MAX);
	if (!filter) {
		md_err_set(err, "project %s: out of memory", project);
		goto out;
	}
	if (md_applier__engine(a, args, sizeof(args) / sizeof(args[0]), &out, err) < 0 ||
	    md_applier__parse_ps(out.data ? out.data : "", ids, err) < 0) {
		md_err_prefix(err, "project %s", project);
		goto out;
	}
	rc = 0;
out:
	free(filter);
	md_buf_clear(&out);
	return rc;
}

/* RepoDigests for every container, one `image inspect` per distinct image
 * id. An image that is gone (pruned) just has none. */
static void fill_digests(struct md_applier *a, struct md_container *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct md_buf out;
		const char *args[] = { "image", "inspect", v[i].image_id };
		size_t j;
		struct md_err ignored;

		if (!v[i].image_id)
			continue;
		for (j = 0; j < i; j++)
			if (v[j].image_id && strcmp(v[j].image_id, v[i].image_id) == 0)
				break;
		if (j < i) {
			for (size_t k = 0; k < v[j].repo_digests.n; k++)
				md_strv_push(&v[i].repo_digests, v[j].repo_digests.v[k]);
			continue;
		}
		md_buf_init(&out, APP_JSON_MAX);
		if (md_applier__engine(a, args, 3, &out, &ignored) == 0)
			md_applier__parse_repo_digests(out.data ? out.data : "", &v[i].repo_digests);
		md_buf_clear(&out);
	}
}

static int inspect_ids(struct md_applier *a, const struct md_strv *ids, struct md_container **out,
		       size_t *n, struct md_err *err)
{
	struct md_strv args = { 0 };
	struct md_buf buf;
	int rc = -1;

	md_buf_init(&buf, APP_JSON_MAX);
	if (md_strv_push(&args, "inspect") < 0)
		goto oom;
	for (size_t i = 0; i < ids->n; i++)
		if (md_strv_push(&args, ids->v[i]) < 0)
			goto oom;
	if (md_applier__engine(a, (const char *const *)args.v, args.n, &buf, err) < 0 ||
	    md_applier__parse_inspect(buf.data ? buf.data : "", out, n, err) < 0)
		goto out;
	rc = 0;
	goto out;
oom:
	md_err_set(err, "out of memory");
out:
	md_strv_clear(&args);
	md_buf_clear(&buf);
	return rc;
}

int md_applier_containers(struct md_applier *a, const char *project, struct md_container **out,
			  size_t *n, struct md_err *err)
{
	*out = NULL;
	*n = 0;
	if (!project || !project[0])
		return md_err_set(err, "applier: no project name");
	/* A container removed between ps and inspect makes inspect fail:
	 * one retry with a fresh list covers a compose run in progress. */
	for (int attempt = 0;; attempt++) {
		struct md_strv ids = { 0 };
		int rc;

		if (ps_ids(a, project, &ids, err) < 0)
			return -1;
		rc = ids.n ? inspect_ids(a, &ids, out, n, err) : 0;
		md_strv_clear(&ids);
		if (rc == 0)
			break;
		if (attempt == 1)
			return md_err_prefix(err, "project %s", project);
	}
	fill_digests(a, *out, *n);
	return 0;
}

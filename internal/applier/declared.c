/* The services a stack declares: top-level `services:` → each service's
 * `image:` scalar, over all its compose files (later files override the
 * image of a service, as compose merges them), and whether it is one-shot
 * (`restart: "no"`, or a dependency some service waits on with
 * `condition: service_completed_successfully`). libyaml's document API:
 * anchors and aliases resolve to the same node; `<<` merge keys count. */
#include "applier_int.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MERGE_DEPTH 8
#define COND_STARTED "service_started"
#define COND_COMPLETED "service_completed_successfully"

enum restart { RESTART_UNSET, RESTART_NO, RESTART_OTHER };

/* What the merge needs beyond the public struct, one per service. */
struct svc_extra {
	enum restart restart;
	struct md_strv dep_names; /* depends_on keys, with dep_conds in parallel */
	struct md_strv dep_conds;
};

/* The services merged so far; v belongs to the caller once done. */
struct decls {
	struct md_service_decl *v;
	size_t n;
	struct svc_extra *x;
};

static void decls_extra_free(struct decls *s)
{
	for (size_t i = 0; s->x && i < s->n; i++) {
		md_strv_clear(&s->x[i].dep_names);
		md_strv_clear(&s->x[i].dep_conds);
	}
	free(s->x);
	s->x = NULL;
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static size_t line_of(const yaml_node_t *n)
{
	return n ? (size_t)n->start_mark.line + 1 : 0;
}

/* The value of key in mapping node m (direct keys first, then `<<` merges). */
static yaml_node_t *lookup(yaml_document_t *doc, yaml_node_t *m, const char *key, int depth)
{
	yaml_node_pair_t *p;

	if (!m || m->type != YAML_MAPPING_NODE || depth > MERGE_DEPTH)
		return NULL;
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		const char *k = scalar(yaml_document_get_node(doc, p->key));

		if (k && strcmp(k, key) == 0)
			return yaml_document_get_node(doc, p->value);
	}
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		const char *k = scalar(yaml_document_get_node(doc, p->key));
		yaml_node_t *v = yaml_document_get_node(doc, p->value), *r = NULL;

		if (!k || strcmp(k, "<<") != 0 || !v)
			continue;
		if (v->type == YAML_MAPPING_NODE) {
			r = lookup(doc, v, key, depth + 1);
		} else if (v->type == YAML_SEQUENCE_NODE) {
			for (yaml_node_item_t *it = v->data.sequence.items.start;
			     !r && it < v->data.sequence.items.top; it++)
				r = lookup(doc, yaml_document_get_node(doc, *it), key, depth + 1);
		}
		if (r)
			return r;
	}
	return NULL;
}

/* The index of service name, added when new. */
static int find_or_add(struct decls *s, const char *name, const char *path, size_t *idx,
		       struct md_err *err)
{
	struct md_service_decl *nv;
	struct svc_extra *nx;
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i].name, name) == 0) {
			*idx = i;
			return 0;
		}
	if (s->n >= APP_SERVICES_MAX)
		return md_err_set(err, "%s: more than %u services", path, APP_SERVICES_MAX);
	nx = realloc(s->x, (s->n + 1) * sizeof(*nx));
	if (!nx)
		return md_err_set(err, "%s: out of memory", path);
	s->x = nx;
	memset(&nx[i], 0, sizeof(nx[i]));
	nv = realloc(s->v, (s->n + 1) * sizeof(*nv));
	if (!nv)
		return md_err_set(err, "%s: out of memory", path);
	s->v = nv;
	memset(&nv[i], 0, sizeof(nv[i]));
	nv[i].name = md_strdup(name);
	if (!nv[i].name)
		return md_err_set(err, "%s: out of memory", path);
	s->n++;
	*idx = i;
	return 0;
}

static int set_image(struct decls *s, size_t i, const char *image, const char *path,
		     struct md_err *err)
{
	char *dup = md_strdup(image);

	if (!dup)
		return md_err_set(err, "%s: out of memory", path);
	free(s->v[i].image);
	s->v[i].image = dup;
	return 0;
}

/* Record "service i depends on dep with cond"; a later file's entry for the
 * same dependency replaces the earlier one, as compose merges the map. */
static int add_dep(struct svc_extra *x, const char *dep, const char *cond, const char *path,
		   struct md_err *err)
{
	for (size_t k = 0; k < x->dep_names.n; k++) {
		char *dup;

		if (strcmp(x->dep_names.v[k], dep) != 0)
			continue;
		if (!(dup = md_strdup(cond)))
			return md_err_set(err, "%s: out of memory", path);
		free(x->dep_conds.v[k]);
		x->dep_conds.v[k] = dup;
		return 0;
	}
	if (x->dep_names.n >= APP_SERVICES_MAX)
		return md_err_set(err, "%s: more than %u dependencies", path, APP_SERVICES_MAX);
	if (md_strv_push(&x->dep_names, dep) < 0)
		return md_err_set(err, "%s: out of memory", path);
	if (md_strv_push(&x->dep_conds, cond) < 0) {
		/* keep the two lists the same length */
		free(x->dep_names.v[--x->dep_names.n]);
		x->dep_names.v[x->dep_names.n] = NULL;
		return md_err_set(err, "%s: out of memory", path);
	}
	return 0;
}

/* `depends_on: [a, b]` (each: service_started) or `depends_on: {a:
 * {condition: ...}}` (no condition: service_started). */
static int parse_depends_on(yaml_document_t *doc, yaml_node_t *dn, const char *name,
			    struct svc_extra *x, const char *path, struct md_err *err)
{
	if (dn->type == YAML_SCALAR_NODE && !dn->data.scalar.length)
		return 0; /* `depends_on:` with nothing */
	if (dn->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *it = dn->data.sequence.items.start;
		     it < dn->data.sequence.items.top; it++) {
			yaml_node_t *in = yaml_document_get_node(doc, *it);
			const char *dep = scalar(in);

			if (!dep)
				return md_err_set(err, "%s:%zu: service %s: a depends_on entry is "
						  "not a service name", path, line_of(in), name);
			if (add_dep(x, dep, COND_STARTED, path, err) < 0)
				return -1;
		}
		return 0;
	}
	if (dn->type != YAML_MAPPING_NODE)
		return md_err_set(err, "%s:%zu: service %s: depends_on is not a list or a mapping",
				  path, line_of(dn), name);
	for (yaml_node_pair_t *p = dn->data.mapping.pairs.start; p < dn->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = yaml_document_get_node(doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(doc, p->value);
		const char *dep = scalar(kn), *cond = COND_STARTED;
		yaml_node_t *cn;

		if (!dep)
			return md_err_set(err, "%s:%zu: service %s: a depends_on key is not a "
					  "service name", path, line_of(kn), name);
		cn = lookup(doc, vn, "condition", 0);
		if (cn && !(cond = scalar(cn)))
			return md_err_set(err, "%s:%zu: service %s: depends_on %s: condition is "
					  "not a string", path, line_of(cn), name, dep);
		if (add_dep(x, dep, cond[0] ? cond : COND_STARTED, path, err) < 0)
			return -1;
	}
	return 0;
}

/* One service's mapping: image, restart, depends_on. */
static int parse_service(yaml_document_t *doc, yaml_node_t *sv, const char *name,
			 struct decls *s, const char *path, struct md_err *err)
{
	yaml_node_t *in = lookup(doc, sv, "image", 0);
	yaml_node_t *rn = lookup(doc, sv, "restart", 0);
	yaml_node_t *dn = lookup(doc, sv, "depends_on", 0);
	const char *image = NULL, *restart = NULL;
	size_t i = 0;

	if (in && !(image = scalar(in)))
		return md_err_set(err, "%s:%zu: service %s: image is not a string", path,
				  line_of(in), name);
	if (rn && !(restart = scalar(rn)))
		return md_err_set(err, "%s:%zu: service %s: restart is not a string", path,
				  line_of(rn), name);
	if (find_or_add(s, name, path, &i, err) < 0)
		return -1;
	/* an empty image or restart leaves what an earlier file said */
	if (image && image[0] && set_image(s, i, image, path, err) < 0)
		return -1;
	if (restart && restart[0])
		s->x[i].restart = strcmp(restart, "no") == 0 ? RESTART_NO : RESTART_OTHER;
	if (dn && parse_depends_on(doc, dn, name, &s->x[i], path, err) < 0)
		return -1;
	return 0;
}

static int walk(yaml_document_t *doc, const char *path, struct decls *s, struct md_err *err)
{
	yaml_node_t *root = yaml_document_get_root_node(doc), *svcs;

	if (!root) /* an empty file declares nothing */
		return 0;
	if (root->type != YAML_MAPPING_NODE)
		return md_err_set(err, "%s: not a compose file: the top level is not a mapping",
				  path);
	svcs = lookup(doc, root, "services", 0);
	if (!svcs || (svcs->type == YAML_SCALAR_NODE && !svcs->data.scalar.length))
		return 0;
	if (svcs->type != YAML_MAPPING_NODE)
		return md_err_set(err, "%s:%zu: services is not a mapping", path, line_of(svcs));
	for (yaml_node_pair_t *p = svcs->data.mapping.pairs.start; p < svcs->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = yaml_document_get_node(doc, p->key);
		yaml_node_t *sv = yaml_document_get_node(doc, p->value);
		const char *name = scalar(kn);

		if (!name || !name[0])
			return md_err_set(err, "%s:%zu: a service name must be a string", path,
					  line_of(kn));
		if (sv && sv->type != YAML_MAPPING_NODE &&
		    !(sv->type == YAML_SCALAR_NODE && !sv->data.scalar.length))
			return md_err_set(err, "%s:%zu: service %s is not a mapping", path,
					  line_of(sv), name);
		if (parse_service(doc, sv, name, s, path, err) < 0)
			return -1;
	}
	return 0;
}

static int merge_text(const char *path, const char *text, size_t len, struct decls *s,
		      struct md_err *err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	int rc;

	if (!yaml_parser_initialize(&parser))
		return md_err_set(err, "%s: out of memory", path);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = md_err_set(err, "%s:%zu: invalid YAML: %s", path,
				(size_t)parser.problem_mark.line + 1,
				parser.problem ? parser.problem : "parse error");
		yaml_parser_delete(&parser);
		return rc;
	}
	rc = walk(&doc, path, s, err);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

/* oneshot from the merged result: restart "no", or waited on to complete.
 * Services whose restart no file set keep what v said on entry. */
static void mark_oneshot(struct decls *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->x[i].restart != RESTART_UNSET)
			s->v[i].oneshot = s->x[i].restart == RESTART_NO;
	for (size_t j = 0; j < s->n; j++)
		for (size_t k = 0; k < s->x[j].dep_names.n; k++) {
			if (strcmp(s->x[j].dep_conds.v[k], COND_COMPLETED) != 0)
				continue;
			for (size_t i = 0; i < s->n; i++)
				if (strcmp(s->v[i].name, s->x[j].dep_names.v[k]) == 0)
					s->v[i].oneshot = 1;
		}
}

/* The merged services once every file is read (or none on error). */
static int decls_finish(struct decls *s, int rc, struct md_service_decl **out, size_t *n)
{
	if (rc == 0)
		mark_oneshot(s);
	decls_extra_free(s);
	if (rc < 0) {
		md_service_decls_free(s->v, s->n);
		return -1;
	}
	*out = s->v;
	*n = s->n;
	return 0;
}

int md_applier__declared_texts(const struct app_text *files, size_t nfiles, struct md_service_decl **out,
		       size_t *n, struct md_err *err)
{
	struct decls s = { NULL, 0, NULL };
	int rc = 0;

	*out = NULL;
	*n = 0;
	for (size_t i = 0; i < nfiles && rc == 0; i++)
		rc = merge_text(files[i].path, files[i].text, files[i].len, &s, err);
	return decls_finish(&s, rc, out, n);
}

int md_applier_declared(const struct md_stack_spec *spec, struct md_service_decl **out,
			size_t *n, struct md_err *err)
{
	struct decls s = { NULL, 0, NULL };
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (!spec || !spec->dir || !spec->files || spec->nfiles == 0)
		return md_err_set(err, "stack: no compose file given");
	for (size_t i = 0; i < spec->nfiles && rc == 0; i++) {
		char *path = spec->files[i][0] == '/' ? md_strdup(spec->files[i])
						      : md_asprintf("%s/%s", spec->dir, spec->files[i]);
		char *text = NULL;
		size_t len = 0;

		if (!path) {
			rc = md_err_set(err, "stack %s: out of memory", spec->dir);
			break;
		}
		rc = md_file_read(path, APP_COMPOSE_FILE_MAX, &text, &len, err);
		if (rc == 0)
			rc = merge_text(path, text, len, &s, err);
		free(text);
		free(path);
	}
	return decls_finish(&s, rc, out, n);
}

/* The services a stack declares: top-level `services:` → each service's
 * `image:` scalar, over all its compose files (later files override the
 * image of a service, as compose merges them). libyaml's document API:
 * anchors and aliases resolve to the same node; `<<` merge keys count. */
#include "applier_int.h"

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MERGE_DEPTH 8

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
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

/* Set or add service name; image NULL leaves an existing image alone. */
static int put(struct md_service_decl **v, size_t *n, const char *name, const char *image,
	       const char *path, struct md_err *err)
{
	struct md_service_decl *nv;
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp((*v)[i].name, name) == 0)
			break;
	if (i == *n) {
		if (*n >= APP_SERVICES_MAX)
			return md_err_set(err, "%s: more than %u services", path, APP_SERVICES_MAX);
		nv = realloc(*v, (*n + 1) * sizeof(**v));
		if (!nv)
			return md_err_set(err, "%s: out of memory", path);
		*v = nv;
		nv[i].name = md_strdup(name);
		nv[i].image = NULL;
		if (!nv[i].name)
			return md_err_set(err, "%s: out of memory", path);
		(*n)++;
	}
	if (image) {
		char *dup = md_strdup(image);

		if (!dup)
			return md_err_set(err, "%s: out of memory", path);
		free((*v)[i].image);
		(*v)[i].image = dup;
	}
	return 0;
}

static int walk(yaml_document_t *doc, const char *path, struct md_service_decl **v, size_t *n,
		struct md_err *err)
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
		return md_err_set(err, "%s:%zu: services is not a mapping", path,
				  (size_t)svcs->start_mark.line + 1);
	for (yaml_node_pair_t *p = svcs->data.mapping.pairs.start; p < svcs->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = yaml_document_get_node(doc, p->key);
		yaml_node_t *sv = yaml_document_get_node(doc, p->value);
		const char *name = scalar(kn), *image = NULL;
		yaml_node_t *in;

		if (!name || !name[0])
			return md_err_set(err, "%s:%zu: a service name must be a string", path,
					  kn ? (size_t)kn->start_mark.line + 1 : 0);
		if (sv && sv->type != YAML_MAPPING_NODE &&
		    !(sv->type == YAML_SCALAR_NODE && !sv->data.scalar.length))
			return md_err_set(err, "%s:%zu: service %s is not a mapping", path,
					  (size_t)sv->start_mark.line + 1, name);
		in = lookup(doc, sv, "image", 0);
		if (in) {
			image = scalar(in);
			if (!image)
				return md_err_set(err, "%s:%zu: service %s: image is not a string",
						  path, (size_t)in->start_mark.line + 1, name);
		}
		if (put(v, n, name, image && image[0] ? image : NULL, path, err) < 0)
			return -1;
	}
	return 0;
}

int app_declared_merge(const char *path, const char *text, size_t len,
		       struct md_service_decl **v, size_t *n, struct md_err *err)
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
	rc = walk(&doc, path, v, n, err);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

int md_applier_declared(const struct md_stack_spec *spec, struct md_service_decl **out,
			size_t *n, struct md_err *err)
{
	struct md_service_decl *v = NULL;
	size_t nv = 0;

	*out = NULL;
	*n = 0;
	if (!spec || !spec->dir || !spec->files || spec->nfiles == 0)
		return md_err_set(err, "stack: no compose file given");
	for (size_t i = 0; i < spec->nfiles; i++) {
		char *path = spec->files[i][0] == '/' ? md_strdup(spec->files[i])
						      : md_asprintf("%s/%s", spec->dir, spec->files[i]);
		char *text = NULL;
		size_t len = 0;
		int rc;

		if (!path) {
			md_service_decls_free(v, nv);
			return md_err_set(err, "stack %s: out of memory", spec->dir);
		}
		rc = md_file_read(path, APP_COMPOSE_FILE_MAX, &text, &len, err);
		if (rc == 0)
			rc = app_declared_merge(path, text, len, &v, &nv, err);
		free(text);
		free(path);
		if (rc < 0) {
			md_service_decls_free(v, nv);
			return -1;
		}
	}
	*out = v;
	*n = nv;
	return 0;
}

/* Trivy's JSON report: the few fields the gate needs, read defensively.
 *
 * Trivy marks most fields omitempty (Results, Vulnerabilities, FixedVersion
 * and Status may all be absent), so absence is never an error; a field of
 * the wrong type, an unknown severity or a schema other than 2 is, because
 * a gate that guesses would let findings through. Only strings are kept;
 * the jansson tree is freed before returning. */
#include "scan_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const sev_names[MD_SEV_COUNT] = { "UNKNOWN", "LOW", "MEDIUM", "HIGH",
						     "CRITICAL" };

const char *md_scan_severity_name(enum md_severity s)
{
	return (unsigned)s < MD_SEV_COUNT ? sev_names[s] : "UNKNOWN";
}

int md_scan_severity_parse(const char *s, enum md_severity *out)
{
	for (int i = 0; s && i < MD_SEV_COUNT; i++) {
		if (strcasecmp(s, sev_names[i]) == 0) {
			*out = (enum md_severity)i;
			return 0;
		}
	}
	return -1;
}

/* ---- parsing ------------------------------------------------------------------ */

static int json_error(struct md_err *err, const char *text, int line, int column)
{
	char clean[JSON_ERROR_TEXT_LENGTH];
	size_t n = strnlen(text, sizeof(clean) - 1);

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)text[i];

		clean[i] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
	}
	clean[n] = '\0';
	if (line > 0)
		return md_err_set(err, "not JSON (%s, line %d column %d)", clean, line, column);
	return md_err_set(err, "not JSON (%s)", clean);
}

int md_scan__json_load(const char *json, size_t len, json_t **root, struct md_err *err)
{
	json_error_t jerr;

	*root = NULL;
	if (len == 0) {
		md_err_set(err, "the output is empty");
		return MD_SCAN_INVALID;
	}
	*root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!*root) {
		json_error(err, jerr.text, jerr.line, jerr.column);
		return MD_SCAN_INVALID;
	}
	return MD_SCAN_OK;
}

/* The string at key, "" when absent or null; NULL (err set) for another
 * type. where names the object for the message. */
static const char *opt_string(json_t *obj, const char *key, const char *where,
			      struct md_err *err)
{
	json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v))
		return "";
	if (!json_is_string(v)) {
		md_err_set(err, "%s.%s is not a string", where, key);
		return NULL;
	}
	return json_string_value(v);
}

/* The array at key, NULL when absent or null; *bad set for another type. */
static json_t *opt_array(json_t *obj, const char *key, const char *where, int *bad,
			 struct md_err *err)
{
	json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_array(v)) {
		*bad = 1;
		md_err_set(err, "%s.%s is not an array", where, key);
		return NULL;
	}
	return v;
}

/* A copy cut to MD_SCAN__STR_MAX bytes, never inside a UTF-8 sequence
 * (jansson only holds valid UTF-8, and a saved report must stay so). */
static char *keep(const char *s)
{
	size_t n = strnlen(s, MD_SCAN__STR_MAX);

	if (s[n])
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	return md_strndup(s, n);
}

static void finding_free(struct md_scan__finding *f)
{
	for (int i = 0; i < 5; i++)
		free(f->own[i]);
}

static int push_finding(struct md_scan_report *r, const char *const s[5], enum md_severity sev,
			int fixable)
{
	struct md_scan__finding *f;

	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		void *p = realloc(r->f, cap * sizeof(*r->f));

		if (!p)
			return -1;
		r->f = p;
		r->cap = cap;
	}
	f = &r->f[r->n];
	memset(f, 0, sizeof(*f));
	for (int i = 0; i < 5; i++) {
		if (!(f->own[i] = keep(s[i]))) {
			finding_free(f);
			return -1;
		}
	}
	f->pub.id = f->own[0];
	f->pub.pkg = f->own[1];
	f->pub.installed = f->own[2];
	f->pub.fixed = f->own[3];
	f->pub.status = f->own[4];
	f->pub.severity = sev;
	f->pub.fixable = fixable;
	r->n++;
	return 0;
}

/* Status decides, as in Trivy's --ignore-unfixed; without Status (a Trivy
 * older than the field) a FixedVersion does. */
static int is_fixable(const char *status, const char *fixed)
{
	if (*status)
		return strcmp(status, "fixed") == 0;
	return *fixed != '\0';
}

static int parse_vuln(struct md_scan_report *r, json_t *v, const char *where, struct md_err *err)
{
	static const char *const keys[5] = { "VulnerabilityID", "PkgName", "InstalledVersion",
					     "FixedVersion", "Status" };
	const char *s[5], *sevs;
	enum md_severity sev = MD_SEV_UNKNOWN;

	if (!json_is_object(v))
		return md_err_set(err, "%s is not an object", where);
	for (int i = 0; i < 5; i++)
		if (!(s[i] = opt_string(v, keys[i], where, err)))
			return -1;
	if (!(sevs = opt_string(v, "Severity", where, err)))
		return -1;
	if (*sevs && md_scan_severity_parse(sevs, &sev) < 0) {
		struct md_buf shown;

		md_buf_init(&shown, 64);
		md_scan__put_safe(&shown, sevs, 40);
		md_err_set(err, "%s.Severity \"%s\" is not a Trivy severity", where,
			   shown.data ? shown.data : "");
		md_buf_clear(&shown);
		return -1;
	}
	if (r->n >= MD_SCAN__FINDINGS_MAX)
		return md_err_set(err, "more than %u findings", MD_SCAN__FINDINGS_MAX);
	if (push_finding(r, s, sev, is_fixable(s[4], s[3])) < 0)
		return md_err_set(err, "out of memory");
	return 0;
}

static int parse_result(struct md_scan_report *r, json_t *res, size_t i, struct md_err *err)
{
	char where[32];
	json_t *vulns, *v;
	size_t j;
	int bad = 0;

	snprintf(where, sizeof(where), "Results[%zu]", i);
	if (!json_is_object(res))
		return md_err_set(err, "%s is not an object", where);
	vulns = opt_array(res, "Vulnerabilities", where, &bad, err);
	if (bad)
		return -1;
	json_array_foreach(vulns, j, v) {
		char vwhere[80];

		snprintf(vwhere, sizeof(vwhere), "%s.Vulnerabilities[%zu]", where, j);
		if (parse_vuln(r, v, vwhere, err) < 0)
			return -1;
	}
	return 0;
}

static int parse_metadata(struct md_scan_report *r, json_t *root, struct md_err *err)
{
	json_t *meta = json_object_get(root, "Metadata"), *digests, *d;
	size_t i;
	int bad = 0;

	if (!meta || json_is_null(meta))
		return 0;
	if (!json_is_object(meta))
		return md_err_set(err, "Metadata is not an object");
	digests = opt_array(meta, "RepoDigests", "Metadata", &bad, err);
	if (bad)
		return -1;
	json_array_foreach(digests, i, d) {
		if (!json_is_string(d))
			return md_err_set(err, "Metadata.RepoDigests[%zu] is not a string", i);
		if (md_strv_push(&r->repo_digests, json_string_value(d)) < 0)
			return md_err_set(err, "out of memory");
	}
	return 0;
}

static int parse_top(struct md_scan_report *r, json_t *root, struct md_err *err)
{
	json_t *schema = json_object_get(root, "SchemaVersion"), *results, *res;
	const char *name, *type;
	size_t i;
	int bad = 0;

	if (!json_is_object(root))
		return md_err_set(err, "the document is not a JSON object");
	if (schema && !json_is_null(schema) &&
	    (!json_is_integer(schema) || json_integer_value(schema) != 2))
		return md_err_set(err, "SchemaVersion is not 2 (the report format this agent reads)");
	if (!(name = opt_string(root, "ArtifactName", "report", err)) ||
	    !(type = opt_string(root, "ArtifactType", "report", err)))
		return -1;
	if (!(r->artifact = keep(name)) || !(r->artifact_type = keep(type)))
		return md_err_set(err, "out of memory");
	if (parse_metadata(r, root, err) < 0)
		return -1;
	results = opt_array(root, "Results", "report", &bad, err);
	if (bad)
		return -1;
	json_array_foreach(results, i, res)
		if (parse_result(r, res, i, err) < 0)
			return -1;
	return 0;
}

/* ---- one finding per (ID, package, installed version) --------------------------- */

static int finding_cmp(const void *a, const void *b)
{
	const struct md_scan_finding *x = &((const struct md_scan__finding *)a)->pub;
	const struct md_scan_finding *y = &((const struct md_scan__finding *)b)->pub;
	int c = strcmp(x->id, y->id);

	if (!c)
		c = strcmp(x->pkg, y->pkg);
	if (!c)
		c = strcmp(x->installed, y->installed);
	return c;
}

/* Give dst the fix src knows of: its FixedVersion and Status, so the
 * strings still say what `fixable` says (a saved report reads back the
 * same). */
static void take_fix(struct md_scan__finding *dst, struct md_scan__finding *src)
{
	for (int k = 3; k < 5; k++) {
		char *t = dst->own[k];

		dst->own[k] = src->own[k];
		src->own[k] = t;
	}
	dst->pub.fixed = dst->own[3];
	dst->pub.status = dst->own[4];
	dst->pub.fixable = 1;
}

/* The same vulnerability of the same package can be listed twice (a
 * library found at two paths of one image); it is one thing to fix. The
 * merged finding keeps the higher severity and any fix. */
static void dedup(struct md_scan_report *r)
{
	size_t w = 0;

	if (r->n > 1)
		qsort(r->f, r->n, sizeof(*r->f), finding_cmp);
	for (size_t i = 0; i < r->n; i++) {
		struct md_scan__finding *prev = w ? &r->f[w - 1] : NULL;

		if (prev && finding_cmp(prev, &r->f[i]) == 0) {
			if (r->f[i].pub.severity > prev->pub.severity)
				prev->pub.severity = r->f[i].pub.severity;
			if (r->f[i].pub.fixable && !prev->pub.fixable)
				take_fix(prev, &r->f[i]);
			finding_free(&r->f[i]);
			continue;
		}
		r->f[w++] = r->f[i];
	}
	r->n = w;
}

int md_scan_report_parse(struct md_scan_report **out, const char *json, size_t len,
			 struct md_err *err)
{
	struct md_scan_report *r;
	json_t *root;
	int rc;

	*out = NULL;
	if ((rc = md_scan__json_load(json, len, &root, err)) != MD_SCAN_OK)
		return rc;
	if (!(r = calloc(1, sizeof(*r)))) {
		json_decref(root);
		md_err_set(err, "out of memory");
		return MD_SCAN_ERROR;
	}
	rc = parse_top(r, root, err);
	json_decref(root);
	if (rc < 0) {
		md_scan_report_free(r);
		return MD_SCAN_INVALID;
	}
	dedup(r);
	*out = r;
	return MD_SCAN_OK;
}

void md_scan_report_free(struct md_scan_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		finding_free(&r->f[i]);
	free(r->f);
	free(r->artifact);
	free(r->artifact_type);
	md_strv_clear(&r->repo_digests);
	free(r);
}

const char *md_scan_report_artifact(const struct md_scan_report *r)
{
	return r->artifact;
}

size_t md_scan_report_count(const struct md_scan_report *r)
{
	return r->n;
}

const struct md_scan_finding *md_scan_report_at(const struct md_scan_report *r, size_t i)
{
	return i < r->n ? &r->f[i].pub : NULL;
}

/* ---- which image the report is about --------------------------------------------- */

const char *md_scan__short_name(const char *name)
{
	size_t n = md_ref_domain_len(name, strlen(name));

	if (n) {
		if (!md_ref_is_hub(name, n))
			return name;
		name += n + 1;
	}
	return md_str_has_prefix(name, "library/") ? name + 8 : name;
}

/* "repo@digest" equal to name@digest, Docker Hub spellings aside. */
static int same_image(const char *ref, const char *name, const char *digest)
{
	const char *at = strrchr(ref, '@');
	char *repo;
	int same;

	if (!at || strcmp(at + 1, digest) != 0)
		return 0;
	if (!(repo = md_strndup(ref, (size_t)(at - ref))))
		return 0;
	same = strcmp(md_scan__short_name(repo), md_scan__short_name(name)) == 0;
	free(repo);
	return same;
}

int md_scan_report_check_artifact(const struct md_scan_report *r, const char *name,
				  const char *digest, struct md_err *err)
{
	struct md_buf shown;

	if (*r->artifact_type && strcmp(r->artifact_type, "container_image") != 0) {
		md_buf_init(&shown, 120);
		md_scan__put_safe(&shown, r->artifact_type, 80);
		md_err_set(err, "the report is for a %s, not for the image %s@%s",
			   shown.data ? shown.data : "", name, digest);
		md_buf_clear(&shown);
		return MD_SCAN_WRONG_ARTIFACT;
	}
	if (*r->artifact) {
		if (same_image(r->artifact, name, digest))
			return MD_SCAN_OK;
		md_buf_init(&shown, 200);
		md_scan__put_safe(&shown, r->artifact, 160);
		md_err_set(err, "the report is for %s, not for %s@%s", shown.data ? shown.data : "",
			   name, digest);
		md_buf_clear(&shown);
		return MD_SCAN_WRONG_ARTIFACT;
	}
	for (size_t i = 0; i < r->repo_digests.n; i++)
		if (same_image(r->repo_digests.v[i], name, digest))
			return MD_SCAN_OK;
	md_err_set(err, "the report names no image (no ArtifactName, and %s@%s is not among its "
			"RepoDigests)", name, digest);
	return MD_SCAN_WRONG_ARTIFACT;
}

/* ---- saving ------------------------------------------------------------------------ */

/* A Trivy report of its own, so md_scan_report_parse reads it back: the
 * artifact and one Vulnerabilities entry per finding. */
int md_scan_report_save(const struct md_scan_report *r, struct md_buf *out)
{
	json_t *root, *vulns;
	char *text = NULL;
	int rc = -1;

	vulns = json_array();
	root = json_pack("{si ss ss s[{so}]}", "SchemaVersion", 2, "ArtifactName", r->artifact,
			 "ArtifactType", r->artifact_type, "Results", "Vulnerabilities", vulns);
	if (!root)
		return -1;
	for (size_t i = 0; i < r->n; i++) {
		const struct md_scan_finding *f = &r->f[i].pub;
		json_t *v = json_pack("{ss ss ss ss ss ss}", "VulnerabilityID", f->id, "PkgName",
				      f->pkg, "InstalledVersion", f->installed, "FixedVersion",
				      f->fixed, "Status", f->status, "Severity",
				      md_scan_severity_name(f->severity));

		if (!v || json_array_append_new(vulns, v) < 0)
			goto out;
	}
	text = json_dumps(root, JSON_COMPACT);
	rc = text ? md_buf_puts(out, text) : -1;
out:
	free(text);
	json_decref(root);
	return rc;
}

/* Plaintext renderings of a decrypted tree, each in the store's own
 * format. Everything goes through sec_buf so no copy of a value is left
 * behind in freed memory. */
#include "secrets_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- numbers ------------------------------------------------------------ */

int md_secrets__format_float(char *out, size_t outlen, double v)
{
	char e[40], digits[24];
	int prec, exp, nd = 0, o = 0;
	const char *p;

	if (isnan(v))
		return snprintf(out, outlen, "NaN") < (int)outlen ? 0 : -1;
	if (isinf(v))
		return snprintf(out, outlen, v > 0 ? "+Inf" : "-Inf") < (int)outlen ? 0 : -1;
	/* Shortest %e that reads back as the same double. */
	for (prec = 0; prec < 17; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec, v);
		if (strtod(e, NULL) == v)
			break;
	}
	p = e;
	if (*p == '-')
		out[o++] = *p++;
	for (; *p && *p != 'e'; p++)
		if (*p != '.')
			digits[nd++] = *p;
	exp = atoi(p + 1);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	/* digits d0.d1d2... x 10^exp laid out without an exponent. */
	if ((size_t)(nd + abs(exp) + 4) >= outlen - (size_t)o)
		return -1;
	if (exp < 0) {
		out[o++] = '0';
		out[o++] = '.';
		for (int i = 0; i < -exp - 1; i++)
			out[o++] = '0';
		for (int i = 0; i < nd; i++)
			out[o++] = digits[i];
	} else {
		for (int i = 0; i <= exp; i++)
			out[o++] = i < nd ? digits[i] : '0';
		if (nd > exp + 1) {
			out[o++] = '.';
			for (int i = exp + 1; i < nd; i++)
				out[o++] = digits[i];
		}
	}
	out[o] = '\0';
	return 0;
}

/* ---- YAML ----------------------------------------------------------------- */

static int add_indent(struct sec_buf *b, int n)
{
	for (int i = 0; i < n; i++)
		if (md_secrets__buf_addc(b, ' ') < 0)
			return -1;
	return 0;
}

static int yaml_safe_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '/' || c == '-';
}

/* Plain style only for text no YAML 1.1 or 1.2 reader could take for
 * anything but this string (podman-compose reads with PyYAML, 1.1). */
static int yaml_plain_ok(const char *s, size_t n)
{
	static const char *const words[] = {"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No",
					    "NO", "on", "On", "ON", "off", "Off", "OFF", "true",
					    "True", "TRUE", "false", "False", "FALSE", "null",
					    "Null", "NULL", "~", NULL};
	int digit_like = 1;

	if (n == 0 || s[0] == '-' || s[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!yaml_safe_char(s[i]))
			return 0;
		if (!((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == 'e' ||
		      s[i] == 'E' || s[i] == 'x' || s[i] == 'o' || s[i] == 'b' ||
		      (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F')))
			digit_like = 0;
	}
	if (s[0] >= '0' && s[0] <= '9' && digit_like)
		return 0;
	for (const char *const *w = words; *w; w++)
		if (strlen(*w) == n && memcmp(*w, s, n) == 0)
			return 0;
	return 1;
}

/* One character of a double-quoted scalar, escaped as the format wants:
 * YAML takes \xNN for controls and DEL, JSON \uNNNN for controls. */
static void escape_char(unsigned char c, int json, char esc[8])
{
	if (c == '"' || c == '\\') {
		esc[0] = '\\';
		esc[1] = (char)c;
		esc[2] = '\0';
	} else if (c == '\n') {
		memcpy(esc, "\\n", 3);
	} else if (c == '\t') {
		memcpy(esc, "\\t", 3);
	} else if (json && c == '\r') {
		memcpy(esc, "\\r", 3);
	} else if (json && c < 0x20) {
		snprintf(esc, 8, "\\u%04x", c);
	} else if (!json && (c < 0x20 || c == 0x7f)) {
		snprintf(esc, 8, "\\x%02x", c);
	} else {
		esc[0] = (char)c;
		esc[1] = '\0';
	}
}

/* s in double quotes, escaped for YAML or (json) JSON. */
static int quoted_string(struct sec_buf *b, const char *s, size_t n, int json)
{
	if (md_secrets__buf_addc(b, '"') < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char esc[8];

		escape_char((unsigned char)s[i], json, esc);
		if (md_secrets__buf_adds(b, esc) < 0)
			return -1;
	}
	return md_secrets__buf_addc(b, '"');
}

static int yaml_string(struct sec_buf *b, const char *s, size_t n)
{
	if (yaml_plain_ok(s, n))
		return md_secrets__buf_add(b, s, n);
	return quoted_string(b, s, n, 0);
}

static int yaml_scalar(struct sec_buf *b, const struct sec_node *n)
{
	switch (n->type) {
	case SEC_T_BOOL:
		return md_secrets__buf_adds(b, strcmp(n->val, "True") == 0 ? "true" : "false");
	case SEC_T_NULL:
		return md_secrets__buf_adds(b, "null");
	case SEC_T_INT:
	case SEC_T_FLOAT:
		/* A "number" that does not look like one stays text. */
		if (n->vallen && strspn(n->val, "0123456789+-.eExXoObB_abcdefABCDEFinINaAn") == n->vallen)
			return md_secrets__buf_add(b, n->val, n->vallen);
		return yaml_string(b, n->val, n->vallen);
	default:
		return yaml_string(b, n->val, n->vallen);
	}
}

static int yaml_node(struct sec_buf *b, const struct sec_node *n, int indent, int inline_first);

static int yaml_child(struct sec_buf *b, const struct sec_node *k, int indent)
{
	if (k->kind == SEC_SCALAR) {
		if (md_secrets__buf_addc(b, ' ') < 0 || yaml_scalar(b, k) < 0)
			return -1;
		return md_secrets__buf_addc(b, '\n');
	}
	if (k->nkids == 0)
		return md_secrets__buf_adds(b, k->kind == SEC_MAP ? " {}\n" : " []\n");
	if (md_secrets__buf_addc(b, '\n') < 0)
		return -1;
	return yaml_node(b, k, indent, 0);
}

static int yaml_node(struct sec_buf *b, const struct sec_node *n, int indent, int inline_first)
{
	for (size_t i = 0; i < n->nkids; i++) {
		const struct sec_node *k = n->kids[i];

		if (!(inline_first && i == 0) && add_indent(b, indent) < 0)
			return -1;
		if (n->kind == SEC_MAP) {
			if (yaml_string(b, k->key, k->keylen) < 0 || md_secrets__buf_addc(b, ':') < 0 ||
			    yaml_child(b, k, indent + 4) < 0)
				return -1;
			continue;
		}
		if (md_secrets__buf_addc(b, '-') < 0)
			return -1;
		if (k->kind == SEC_SCALAR || k->nkids == 0) {
			if (yaml_child(b, k, indent + 2) < 0)
				return -1;
		} else if (md_secrets__buf_addc(b, ' ') < 0 || yaml_node(b, k, indent + 2, 1) < 0) {
			return -1;
		}
	}
	return 0;
}

/* ---- JSON ------------------------------------------------------------------ */

static int json_string(struct sec_buf *b, const char *s, size_t n)
{
	return quoted_string(b, s, n, 1);
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)? */
static int json_number_ok(const char *s)
{
	size_t i = 0, d;

	if (s[i] == '-')
		i++;
	if (s[i] == '0')
		i++;
	else if (s[i] >= '1' && s[i] <= '9')
		while (s[i] >= '0' && s[i] <= '9')
			i++;
	else
		return 0;
	if (s[i] == '.') {
		for (d = ++i; s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == d)
			return 0;
	}
	if (s[i] == 'e' || s[i] == 'E') {
		i++;
		if (s[i] == '+' || s[i] == '-')
			i++;
		for (d = i; s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == d)
			return 0;
	}
	return s[i] == '\0';
}

static int json_node(struct sec_buf *b, const struct sec_node *n, int indent)
{
	if (n->kind == SEC_SCALAR) {
		if (n->type == SEC_T_BOOL)
			return md_secrets__buf_adds(b, strcmp(n->val, "True") == 0 ? "true" : "false");
		if (n->type == SEC_T_NULL)
			return md_secrets__buf_adds(b, "null");
		if ((n->type == SEC_T_INT || n->type == SEC_T_FLOAT) && json_number_ok(n->val))
			return md_secrets__buf_add(b, n->val, n->vallen);
		return json_string(b, n->val, n->vallen);
	}
	if (md_secrets__buf_addc(b, n->kind == SEC_MAP ? '{' : '[') < 0)
		return -1;
	for (size_t i = 0; i < n->nkids; i++) {
		if (md_secrets__buf_adds(b, i ? ",\n" : "\n") < 0)
			return -1;
		for (int t = 0; t <= indent; t++)
			if (md_secrets__buf_addc(b, '\t') < 0)
				return -1;
		if (n->kind == SEC_MAP && (json_string(b, n->kids[i]->key, n->kids[i]->keylen) < 0 ||
					   md_secrets__buf_adds(b, ": ") < 0))
			return -1;
		if (json_node(b, n->kids[i], indent + 1) < 0)
			return -1;
	}
	if (n->nkids) {
		if (md_secrets__buf_addc(b, '\n') < 0)
			return -1;
		for (int t = 0; t < indent; t++)
			if (md_secrets__buf_addc(b, '\t') < 0)
				return -1;
	}
	return md_secrets__buf_addc(b, n->kind == SEC_MAP ? '}' : ']');
}

/* ---- dotenv, INI ------------------------------------------------------------ */

static int dotenv_value(struct sec_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\n' ? md_secrets__buf_adds(b, "\\n") < 0 : md_secrets__buf_addc(b, s[i]) < 0)
			return -1;
	return 0;
}

static int emit_dotenv(struct sec_buf *b, const struct sec_node *root)
{
	for (size_t i = 0; i < root->nkids; i++) {
		const struct sec_node *k = root->kids[i];

		if (md_secrets__buf_add(b, k->key, k->keylen) < 0 || md_secrets__buf_addc(b, '=') < 0 ||
		    dotenv_value(b, k->val, k->vallen) < 0 || md_secrets__buf_addc(b, '\n') < 0)
			return -1;
	}
	return 0;
}

static int emit_ini(struct sec_buf *b, const struct sec_node *root)
{
	for (size_t i = 0; i < root->nkids; i++) {
		const struct sec_node *s = root->kids[i];

		if ((i && md_secrets__buf_addc(b, '\n') < 0) || md_secrets__buf_addc(b, '[') < 0 ||
		    md_secrets__buf_add(b, s->key, s->keylen) < 0 || md_secrets__buf_adds(b, "]\n") < 0)
			return -1;
		for (size_t j = 0; j < s->nkids; j++) {
			const struct sec_node *k = s->kids[j];

			if (md_secrets__buf_add(b, k->key, k->keylen) < 0 || md_secrets__buf_adds(b, " = ") < 0 ||
			    dotenv_value(b, k->val, k->vallen) < 0 || md_secrets__buf_addc(b, '\n') < 0)
				return -1;
		}
	}
	return 0;
}

int md_secrets__emit_plain(struct sec_buf *out, const struct sec_node *root, enum md_sops_format fmt)
{
	int rc;

	switch (fmt) {
	case MD_SOPS_YAML:
		rc = root->nkids ? yaml_node(out, root, 0, 0) : md_secrets__buf_adds(out, "{}\n");
		break;
	case MD_SOPS_JSON:
		rc = json_node(out, root, 0);
		if (rc == 0)
			rc = md_secrets__buf_addc(out, '\n');
		break;
	case MD_SOPS_DOTENV:
		rc = emit_dotenv(out, root);
		break;
	case MD_SOPS_INI:
		rc = emit_ini(out, root);
		break;
	default:
		rc = root->nkids == 1 ? md_secrets__buf_add(out, root->kids[0]->val, root->kids[0]->vallen)
				      : -1;
		break;
	}
	/* Always hand back a buffer, even for an empty document. */
	return rc < 0 ? -1 : md_secrets__buf_add(out, "", 0);
}

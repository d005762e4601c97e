/* Small string helpers and owned string lists. */
#include "magos/util.h"
#include "util_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *md_strdup(const char *s)
{
	return s ? md_strndup(s, strlen(s)) : NULL;
}

char *md_strndup(const char *s, size_t n)
{
	char *p;

	if (!s)
		return NULL;
	p = malloc(n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *md_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	p = malloc((size_t)n + 1);
	if (!p)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

size_t md_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

int md_str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int md_str_has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

int md_strv_push(struct md_strv *sv, const char *s)
{
	char *copy = md_strdup(s);

	if (!copy)
		return -1;
	/* Double the slots (one is the NULL terminator) so pushing n strings
	 * costs O(n), not O(n^2): tag lists run to 100,000 entries. */
	if (sv->n + 2 > sv->cap) {
		size_t cap = sv->cap ? sv->cap * 2 : 8;
		char **v = realloc(sv->v, cap * sizeof(*v));

		if (!v) {
			free(copy);
			return -1;
		}
		sv->v = v;
		sv->cap = cap;
	}
	sv->v[sv->n++] = copy;
	sv->v[sv->n] = NULL;
	return 0;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int md_strv_split(struct md_strv *sv, const char *s, const char *seps)
{
	while (*s) {
		size_t n = strcspn(s, seps);
		const char *a = s, *b = s + n;
		char *item;
		int rc;

		while (a < b && is_blank(*a))
			a++;
		while (b > a && is_blank(b[-1]))
			b--;
		if (b > a) {
			item = md_strndup(a, (size_t)(b - a));
			if (!item)
				return -1;
			rc = md_strv_push(sv, item);
			free(item);
			if (rc < 0)
				return -1;
		}
		s += n;
		if (*s)
			s++;
	}
	return 0;
}

int md_strv_contains(const struct md_strv *sv, const char *s)
{
	for (size_t i = 0; i < sv->n; i++)
		if (strcmp(sv->v[i], s) == 0)
			return 1;
	return 0;
}

void md_strv_clear(struct md_strv *sv)
{
	if (!sv)
		return;
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
	sv->cap = 0;
}

void md_memzero(void *p, size_t n)
{
	volatile unsigned char *q = p;

	while (n--)
		*q++ = 0;
}

void (*md_util__freeing_secret)(const void *p, size_t n);

void md_free_secret(void *p, size_t n)
{
	if (!p)
		return;
	md_memzero(p, n);
	if (md_util__freeing_secret)
		md_util__freeing_secret(p, n);
	free(p);
}

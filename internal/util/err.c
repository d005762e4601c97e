/* Error sentences and bounded buffers. */
#include "magos/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int md_err_setv(struct md_err *err, const char *fmt, va_list ap)
{
	if (err)
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return -1;
}

int md_err_set(struct md_err *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	md_err_setv(err, fmt, ap);
	va_end(ap);
	return -1;
}

int md_err_prefix(struct md_err *err, const char *fmt, ...)
{
	char prefix[MD_ERR_MAX];
	char old[MD_ERR_MAX];
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	md_strlcpy(old, err->msg, sizeof(old));
	/* Truncation is acceptable: the message stays one bounded sentence. */
	size_t n = md_strlcpy(err->msg, prefix, sizeof(err->msg));

	if (n + 2 < sizeof(err->msg)) {
		memcpy(err->msg + n, ": ", 3);
		md_strlcpy(err->msg + n + 2, old, sizeof(err->msg) - n - 2);
	}
	return -1;
}

void md_err_clear(struct md_err *err)
{
	if (err)
		err->msg[0] = '\0';
}

void md_buf_init(struct md_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

static int buf_reserve(struct md_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (extra > b->max || b->len > b->max - extra)
		return -1;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	/* Not realloc(): it would leave the old bytes in freed memory. */
	p = malloc(cap);
	if (!p)
		return -1;
	if (b->data) {
		memcpy(p, b->data, b->len + 1);
		md_free_secret(b->data, b->cap);
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

int md_buf_append(struct md_buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int md_buf_puts(struct md_buf *b, const char *s)
{
	return md_buf_append(b, s, strlen(s));
}

int md_buf_printf(struct md_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_reserve(b, (size_t)n) < 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void md_buf_reset(struct md_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *md_buf_steal(struct md_buf *b)
{
	char *p = b->data;

	if (!p)
		p = md_strdup("");
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

void md_buf_clear(struct md_buf *b)
{
	if (!b)
		return;
	md_free_secret(b->data, b->cap);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

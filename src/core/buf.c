/* core/buf.c: growable byte buffer, always NUL-terminated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

int
bw_buf_reserve(struct bw_buf *b, size_t extra)
{
	size_t need, cap;
	uint8_t *p;

	if (extra > SIZE_MAX - b->len - 1)	/* catch size_t overflow */
		return BW_ENOMEM;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if ((p = realloc(b->data, cap)) == NULL)
		return BW_ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int
bw_buf_append(struct bw_buf *b, const void *p, size_t n)
{
	if (bw_buf_reserve(b, n) != 0)
		return BW_ENOMEM;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
bw_buf_append_str(struct bw_buf *b, const char *s)
{
	return bw_buf_append(b, s, strlen(s));
}

int
bw_buf_append_byte(struct bw_buf *b, uint8_t c)
{
	return bw_buf_append(b, &c, 1);
}

int
bw_buf_printf(struct bw_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || bw_buf_reserve(b, (size_t)n) != 0)
		return BW_ENOMEM;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void
bw_buf_free(struct bw_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *
bw_buf_take(struct bw_buf *b, size_t *len)
{
	char *s;

	if (b->data == NULL && bw_buf_reserve(b, 0) != 0)
		return NULL;
	b->data[b->len] = '\0';
	s = (char *)b->data;
	if (len != NULL)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}

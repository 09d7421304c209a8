/* SPDX-License-Identifier: ISC */
/* textbuf.c: a growing text buffer with a sticky error. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "textbuf.h"

int
textbuf_init(struct textbuf *t, size_t size)
{
	*t = (struct textbuf){.buf = malloc(size), .size = size};
	if (t->buf == NULL) {
		t->error = -ENOMEM;
		return -ENOMEM;
	}
	t->buf[0] = '\0';
	return 0;
}

void
textbuf_printf(struct textbuf *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	while (t->error == 0) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->error = -EINVAL;
			return;
		}
		if ((size_t)n < t->size - t->len) {
			t->len += (size_t)n;
			return;
		}
		size_t size = t->size * 2 + (size_t)n;
		char *grown = realloc(t->buf, size);

		if (grown == NULL) {
			t->error = -ENOMEM;
			return;
		}
		t->buf = grown;
		t->size = size;
	}
}

void
textbuf_free(struct textbuf *t)
{
	free(t->buf);
	*t = (struct textbuf){0};
}

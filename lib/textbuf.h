/* SPDX-License-Identifier: ISC */
/*
 * A growing text buffer for output built piece by piece (Prometheus
 * exposition text). Appends never fail loudly: the first error sticks in
 * ->error and later appends do nothing, so a writer checks once at the end.
 */
#ifndef TK_TEXTBUF_H
#define TK_TEXTBUF_H

#include <stddef.h>

struct textbuf {
	char *buf; /* NUL-terminated while error is 0; owned, free with
	              textbuf_free */
	size_t len; /* bytes written, without the NUL */
	size_t size; /* bytes allocated */
	int error; /* 0, or the first -ENOMEM / -EINVAL */
};

/* Allocates size bytes to start with. Returns 0 or -ENOMEM. */
int textbuf_init(struct textbuf *t, size_t size);

/* Appends printf-style text, growing the buffer as needed. */
void textbuf_printf(struct textbuf *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Frees the buffer; safe on a buffer whose init failed. */
void textbuf_free(struct textbuf *t);

#endif

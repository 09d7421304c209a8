/* SPDX-License-Identifier: ISC */
/*
 * An output-only JSON writer into a caller-owned buffer. No allocation,
 * so it can run on every sample of a monitor.
 *
 * Commas and nesting are tracked by the writer; the first error (buffer
 * full, too deep, a value where a key is due) sticks and is returned by
 * json_finish(). Strings are escaped per RFC 8259: quote, backslash and
 * control characters are escaped, and bytes that are not valid UTF-8 are
 * replaced by U+FFFD so the output is always valid JSON text.
 */
#ifndef TK_JSON_H
#define TK_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 16

struct json_writer {
	char *buf;
	size_t size;
	size_t len;
	int error; /* 0 or the first -errno */
	unsigned depth;
	bool in_object[JSON_MAX_DEPTH];
	bool has_items[JSON_MAX_DEPTH];
	bool key_pending; /* a key was written, its value is due */
};

void json_init(struct json_writer *w, char *buf, size_t size);

void json_object_begin(struct json_writer *w);
void json_object_end(struct json_writer *w);
void json_array_begin(struct json_writer *w);
void json_array_end(struct json_writer *w);

/* Inside an object every value must be preceded by a key. */
void json_key(struct json_writer *w, const char *key);

void json_string(struct json_writer *w, const char *s);
void json_string_len(struct json_writer *w, const char *s, size_t len);
void json_u64(struct json_writer *w, uint64_t v);
void json_i64(struct json_writer *w, int64_t v);
/* Fixed-point with the given decimals (0..9); NaN and infinities: null. */
void json_double(struct json_writer *w, double v, int decimals);
void json_bool(struct json_writer *w, bool v);
void json_null(struct json_writer *w);

/* Shorthands for a member of an object: the key, then its value. */
void json_kv_string(struct json_writer *w, const char *key, const char *s);
void json_kv_u64(struct json_writer *w, const char *key, uint64_t v);
void json_kv_double(
    struct json_writer *w, const char *key, double v, int decimals);
/* The value when present is true, else null: a figure not measured. */
void json_kv_double_or_null(struct json_writer *w, const char *key,
    bool present, double v, int decimals);

/*
 * Checks that every object and array is closed and NUL-terminates the
 * buffer. Returns the length of the text, -ENOBUFS if it did not fit,
 * or -EINVAL for misuse (unbalanced, too deep, key/value out of order).
 */
int json_finish(struct json_writer *w);

#endif

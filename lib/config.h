/* SPDX-License-Identifier: ISC */
/*
 * INI configuration with typed key tables, on top of the vendored inih.
 *
 * A program describes each section it accepts with a table of keys; every
 * key names its type and where in the section's struct the value goes.
 * Unknown sections, unknown keys, a key given twice, a section given
 * twice, a missing required key and a value that does not parse are all
 * errors, reported in struct conf_error with the file, the line and the
 * key. Nothing is printed: the caller logs conf_error.msg once.
 *
 * A key needs a value: "key" alone is an error, and so is an empty value
 * ("key =") for every type but CONF_STRING, which stores "". Lines longer
 * than CONF_MAX_LINE, NUL bytes and a carriage return anywhere but before
 * the newline are errors too. "#" and ";" start a comment only at the
 * start of a line: "key = a ; b" sets "a ; b".
 *
 * Bounds (min, max) apply to CONF_U64, CONF_U32, CONF_DURATION (in ns)
 * and CONF_SIZE (in bytes); max 0 means no upper bound. A CONF_STRING
 * field must be NULL or malloc'ed when parsing starts: a value already
 * there is freed when the key is set.
 *
 * Example: sections "[feedcache]" (a singleton) and "[feed NAME]" (named,
 * any number):
 *
 *	static const struct conf_key feed_keys[] = {
 *		CONF_KEY_REQUIRED("url", CONF_STRING, struct feed, url),
 *		CONF_KEY("interval", CONF_DURATION, struct feed, interval_ns),
 *		CONF_KEY_END
 *	};
 *	static const struct conf_section sections[] = {
 *		{ "feedcache", false, main_keys, open_main },
 *		{ "feed", true, feed_keys, open_feed },
 *		{ 0 }
 *	};
 */
#ifndef TK_CONFIG_H
#define TK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Lines up to this length (excluding the newline) are accepted. */
#define CONF_MAX_LINE 8192
/* conf_parse_file() refuses larger files with -EFBIG. */
#define CONF_MAX_FILE (1024 * 1024)

enum conf_type {
	CONF_STRING, /* char *, strdup'ed; the owner frees it */
	CONF_BOOL, /* int, 0 or 1 (parse_bool) */
	CONF_U64, /* uint64_t within [min, max] (parse_u64) */
	CONF_U32, /* uint32_t within [min, max] (parse_u32) */
	CONF_DURATION, /* uint64_t nanoseconds within [min, max] */
	CONF_SIZE, /* uint64_t bytes within [min, max] */
	CONF_MODE, /* uint32_t file mode (parse_mode) */
	CONF_PERCENT, /* double fraction in [0, 1] (parse_percent) */
	CONF_CUSTOM, /* parsed by the key's parse callback */
};

/*
 * A CONF_CUSTOM parser: stores value into field. Returns 0, or -errno and
 * a short reason in why (e.g. "not an http or https URL"). The reason
 * does not quote the value: the message does, once ("KEY: 'VALUE':
 * REASON.").
 */
typedef int conf_parse_fn(
    void *field, const char *value, char *why, size_t why_size);

/*
 * Writes value as an error message may show it, its secret part replaced
 * by *** (a URL's password, a header's value).
 */
typedef void conf_mask_fn(const char *value, char *buf, size_t size);

struct conf_key {
	const char *name;
	enum conf_type type;
	size_t offset; /* of the field in the section's struct */
	uint64_t min, max; /* for numbers; max 0: no upper bound */
	bool required;
	bool repeatable; /* may be given more than once (CONF_CUSTOM) */
	conf_parse_fn *parse; /* CONF_CUSTOM only */
	bool secret; /* errors never quote the value (it holds a password) */
	conf_mask_fn *mask; /* or quote it through this (CONF_CUSTOM only) */
};

/* One initializer per line reads better than clang-format's layout. */
/* clang-format off */
#define CONF_KEY(name, type, st, field) \
	{ (name), (type), offsetof(st, field), 0, 0, false, false, NULL, false, \
	  NULL }
#define CONF_KEY_RANGE(name, type, st, field, lo, hi) \
	{ (name), (type), offsetof(st, field), (lo), (hi), false, false, NULL, \
	  false, NULL }
#define CONF_KEY_REQUIRED(name, type, st, field) \
	{ (name), (type), offsetof(st, field), 0, 0, true, false, NULL, false, \
	  NULL }
#define CONF_KEY_CUSTOM(name, st, field, fn, rep) \
	{ (name), CONF_CUSTOM, offsetof(st, field), 0, 0, false, (rep), (fn), \
	  false, NULL }
#define CONF_KEY_MASKED(name, st, field, fn, rep, mask) \
	{ (name), CONF_CUSTOM, offsetof(st, field), 0, 0, false, (rep), (fn), \
	  false, (mask) }
#define CONF_KEY_SECRET(name, st, field, fn) \
	{ (name), CONF_CUSTOM, offsetof(st, field), 0, 0, false, false, (fn), \
	  true, NULL }
#define CONF_KEY_END \
	{ NULL, CONF_STRING, 0, 0, 0, false, false, NULL, false, NULL }
/* clang-format on */

/*
 * Returns the struct that a section's keys are stored into. For a named
 * section ("[feed news]") instance is the name ("news"), for a singleton
 * it is NULL; it is only valid during the call. Returns NULL and a
 * reason in why to reject the section (a bad name, too many sections, out
 * of memory).
 */
typedef void *conf_open_fn(
    void *ctx, const char *instance, char *why, size_t why_size);

struct conf_section {
	const char *name; /* "feedcache", or "feed" for "[feed NAME]" */
	bool named;
	const struct conf_key *keys; /* ends with CONF_KEY_END */
	conf_open_fn *open; /* NULL (unnamed only): keys go into ctx */
};

struct conf_error {
	char file[256];
	unsigned line; /* 0 when not tied to a line */
	char key[64]; /* "" when not tied to a key */
	char msg[512]; /* a whole sentence: "FILE:LINE: key: ..." */
};

/*
 * Parses the INI file at path. sections ends with an entry whose name is
 * NULL. Returns 0, -ENOENT/-EACCES/... when the file cannot be read,
 * -EFBIG when it is larger than CONF_MAX_FILE, -EINVAL for a
 * configuration error, or -ENOMEM; on error *err is filled (err may be
 * NULL). Values already stored before an error stay stored (the caller
 * frees them).
 */
int conf_parse_file(const char *path, const struct conf_section *sections,
    void *ctx, struct conf_error *err);

/*
 * The same for text held in memory (len bytes, no terminating NUL needed);
 * name is used in messages. A UTF-8 byte order mark at the start is
 * skipped; lines may end in "\n" or "\r\n".
 */
int conf_parse_buf(const char *name, const char *buf, size_t len,
    const struct conf_section *sections, void *ctx, struct conf_error *err);

/*
 * How a program loads its configuration struct: start() clears it and
 * sets the defaults (name is the file, for messages), finish() (may be
 * NULL) fills what depends on the file and checks across keys, free()
 * releases it and must accept a half-filled struct.
 */
struct conf_loader {
	const struct conf_section *sections;
	void (*start)(void *conf, const char *name);
	int (*finish)(void *conf, struct conf_error *err);
	void (*free)(void *conf);
};

/*
 * start, parse the file name (or, when buf is not NULL, len bytes of
 * text named name), finish; on any failure free, so *conf holds nothing
 * to release. Returns 0, -errno when the file cannot be read, or
 * -EINVAL with err filled.
 */
int conf_load(const struct conf_loader *l, const char *name, const char *buf,
    size_t len, void *conf, struct conf_error *err);

/*
 * For CONF_CUSTOM keys that hold a comma-separated list: calls fn on each
 * item, blanks trimmed, with the same field. An empty item (",,") or one
 * over 2 KiB is an error. Returns 0 or fn's first error; in a list of
 * more than one item, why then names the item: "item 2, '10.0.0.0/33':
 * " and fn's reason.
 */
int conf_each_item(const char *value, conf_parse_fn *fn, void *field, char *why,
    size_t why_size);

/*
 * Fills *err the way the parser does, for checks a program makes after
 * parsing (one key against another): msg becomes "FILE:LINE: KEY: " and
 * the formatted text, without LINE when line is 0 and without KEY when
 * key is NULL or "". The text should be a sentence ending in ".".
 */
void conf_error_set(struct conf_error *err, const char *file, unsigned line,
    const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif

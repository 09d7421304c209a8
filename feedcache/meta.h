/* SPDX-License-Identifier: ISC */
/*
 * The per-feed state kept beside the cached body, in CACHE_DIR/.NAME.meta:
 * validators, content hash, times, failures, the last result and error,
 * any Retry-After deadline, and counters for metrics. A text file of
 * "key value" lines, replaced atomically like the body.
 */
#ifndef FEEDCACHE_META_H
#define FEEDCACHE_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define META_MAGIC "feedcache-meta 1"
#define META_MAX_SIZE 8192

/* What one request came to; also the label of the request counters. */
enum fetch_result {
	RESULT_NONE, /* never fetched */
	RESULT_UPDATED, /* 200, new content stored */
	RESULT_UNCHANGED, /* 200, same content as the copy */
	RESULT_NOT_MODIFIED, /* 304 */
	RESULT_HTTP_ERROR, /* 4xx, 5xx, other unexpected status */
	RESULT_RATE_LIMITED, /* 429 or 503 with Retry-After */
	RESULT_NETWORK, /* DNS, connect, reset, short body */
	RESULT_TIMEOUT, /* total timeout or too slow */
	RESULT_TOO_LARGE, /* body over max_size */
	RESULT_INVALID, /* failed validation */
	RESULT_REDIRECT, /* too many or to a forbidden scheme */
	RESULT_REFUSED, /* an address this feed may not reach */
	RESULT_LOCAL, /* our side: disk full, out of memory */
	RESULT_MAX
};

const char *fetch_result_name(enum fetch_result r);
bool fetch_result_ok(enum fetch_result r);

struct feed_meta {
	char etag[512];
	char last_modified[128];
	char content_type[128]; /* the origin's Content-Type, for readers */
	char hash[65]; /* SHA-256 of the body, hex; "" if none */
	uint64_t size; /* of the body */
	/* Which file on disk that hash describes: validators are only sent
	 * for that very file, so a crash between replacing the body and the
	 * meta file, or a hand edit, costs a full GET, never a wrong 304. */
	uint64_t body_ino;
	int64_t body_mtime_ns;
	int64_t fetched; /* when the body was last replaced (unix s) */
	int64_t checked; /* when the origin last answered well */
	int64_t attempted; /* when a request last ended */
	int64_t next_due; /* not before this, normally */
	int64_t retry_after; /* no request at all before this; 0: none */
	uint32_t failures; /* consecutive */
	enum fetch_result last_result;
	char last_error[256];
	/* The class of address (addr_class_name) this feed's configured
	 * origin was first reached at, and that origin: later connections
	 * are judged against it, so a name that answered public once is
	 * never followed to a private address (DNS rebinding). */
	char origin[256];
	char origin_class[24];
	uint64_t requests[RESULT_MAX]; /* counters, by result */
	uint64_t bytes; /* bytes received, in all */
};

/* What metrics need of a feed's meta, kept in memory for every feed. */
struct feed_stats {
	int64_t checked;
	uint32_t failures;
	bool have_copy;
	uint64_t size, bytes;
	uint64_t requests[RESULT_MAX];
};

void meta_stats(const struct feed_meta *m, struct feed_stats *s);

/* Records the body just written into the cache: its hash, size and the
 * identity of its file (st, an fstat of it). */
void meta_set_body(struct feed_meta *m, const char *hash, uint64_t size,
    const struct stat *st);

/* Is st the very file m describes? Only then may m's validators and
 * hash speak for it. */
bool meta_describes(const struct feed_meta *m, const struct stat *st);

/*
 * Parses a meta file image. Unknown keys are skipped (newer versions may
 * add some); a bad value or a missing magic line is -EINVAL. Pure.
 */
int meta_parse(const char *buf, size_t len, struct feed_meta *out);

/*
 * Formats m. Values are cut at a newline so the file stays one value a
 * line whatever an origin sent. Returns the length, or -ENOBUFS.
 */
int meta_format(const struct feed_meta *m, char *buf, size_t size);

/*
 * Removes control characters (C0 and DEL) from s in place: text from an
 * origin or from Redis is shown as text, never as terminal commands or
 * broken log lines.
 */
void text_strip_controls(char *s);

/* Reads path; -ENOENT if there is none. Returns 0 or -errno/-EINVAL. */
int meta_load(const char *path, struct feed_meta *m);

/* Writes path atomically with mode (the feed's: a private feed's
 * validators and hashes are private too). Returns 0 or -errno. */
int meta_save(const char *path, const struct feed_meta *m, uint32_t mode);

/* The same, the file given to group (the readers' group; (gid_t)-1:
 * the writer's own), so readers in it may read it whatever its mode. */
int meta_save_group(
    const char *path, const struct feed_meta *m, uint32_t mode, gid_t group);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * The fleet key: what a node signs the records it publishes to Redis
 * with, and checks the records it follows against (HMAC-SHA256). The
 * key file holds one key, or two during a rotation: the first signs,
 * either verifies.
 */
#ifndef FEEDCACHE_FLEETKEY_H
#define FEEDCACHE_FLEETKEY_H

#include <stdbool.h>
#include <stddef.h>

#define FLEET_KEY_MIN 32 /* characters: `openssl rand -hex 32` gives 64 */
#define FLEET_KEY_MAX 256
#define FLEET_KEY_FILE_MAX 4096
#define FLEET_SIG_HEX 64 /* HMAC-SHA256 in hex */

struct fleet_keys {
	char *path; /* the key file, NULL without one */
	unsigned count; /* 1, or 2 during a rotation */
	size_t len[2];
	unsigned char key[2][FLEET_KEY_MAX];
};

/*
 * Reads the keys out of a key file's text: one key a line, blank lines
 * and lines starting with '#' ignored, blanks around a key dropped. A
 * key is FLEET_KEY_MIN to FLEET_KEY_MAX printable ASCII characters
 * without spaces; one or two keys. Returns 0, or -EINVAL with why (that
 * never quotes a key). Pure: buffer in, struct out.
 */
int fleet_keys_parse(const char *text, size_t len, struct fleet_keys *out,
    char *why, size_t why_size);

/*
 * Loads the key file at path (absolute), refusing one that is not a
 * regular file or that anyone but its owner may read or write. Fills
 * out (path strdup'ed). Returns 0, or -errno with why naming what is
 * wrong (without the path, which the caller's message names).
 */
int fleet_keys_load(
    const char *path, struct fleet_keys *out, char *why, size_t why_size);

/* Forgets the keys (explicit_bzero) and frees the path. */
void fleet_keys_free(struct fleet_keys *k);

/* The fields a signature covers, as published in Redis. */
enum {
	SIG_NAME,
	SIG_URL,
	SIG_HASH,
	SIG_SIZE,
	SIG_FETCHED,
	SIG_ETAG,
	SIG_LAST_MODIFIED,
	SIG_FIELDS
};

/*
 * HMAC-SHA256 under key number which of k over the fields, each with its
 * length in front so no two sets of fields sign alike. Writes
 * FLEET_SIG_HEX lowercase hex digits and a NUL into sig. Returns 0, or
 * -ENOMEM.
 */
int fleet_sign(const struct fleet_keys *k, unsigned which,
    const char *const field[SIG_FIELDS], const size_t len[SIG_FIELDS],
    char sig[FLEET_SIG_HEX + 1]);

/*
 * True if sig (siglen bytes, as read from Redis) is the signature of the
 * fields under any of k's keys; compared in constant time.
 */
bool fleet_verify(const struct fleet_keys *k,
    const char *const field[SIG_FIELDS], const size_t len[SIG_FIELDS],
    const char *sig, size_t siglen);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * Checking a seed server's answer: pollen's protocol, as entropyd
 * speaks it. Pure, so it is fuzzed.
 */
#ifndef ENTROPY_SEED_RESPONSE_H
#define ENTROPY_SEED_RESPONSE_H

#include <stddef.h>

#define RESPONSE_MAX 4096 /* a body over this is a failure */
#define SEED_MAX 1024

/*
 * body must be exactly "SHA512HEX\nSEEDHEX\n" (the last newline
 * optional): the first line the lowercase hex SHA-512 of challenge, the
 * second exactly 2 * seed_len lowercase hex characters. On success the
 * decoded seed goes to seed (seed_len bytes) and 0 is returned; else
 * -EINVAL with the reason in why. Nothing is written to seed on failure.
 */
int response_check(const char *body, size_t len, const char *challenge,
    size_t seed_len, unsigned char *seed, char *why, size_t why_size);

/* Lowercase hex of SHA-512(data) into out (129 bytes). 0 or -EIO. */
int sha512_hex(const void *data, size_t len, char out[129]);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * The seed protocol, pollen's: a challenge in, its SHA-512 and fresh
 * random bytes out.
 *
 *	request:  POST body "challenge=HEX[&bytes=N]" (form), or GET
 *	          "?challenge=HEX[&bytes=N]"
 *	response: 200 text/plain, "SHA512HEX\nSEEDHEX\n"
 *
 * The challenge is 32 to 256 hex characters; bytes is 16 to 1024
 * (default 64). The SHA-512 is of the challenge string as sent.
 */
#ifndef ENTROPYD_SEED_H
#define ENTROPYD_SEED_H

#include <stddef.h>

#define CHALLENGE_MIN 32
#define CHALLENGE_MAX 256
#define SEED_BYTES_DEFAULT 64
#define SEED_BYTES_MIN 16
#define SEED_BYTES_MAX 1024
#define SEED_FORM_MAX 1024 /* longer requests are refused unread (413) */
#define SEED_RESPONSE_MAX (128 + 1 + 2 * SEED_BYTES_MAX + 1 + 1)

struct seed_request {
	char challenge[CHALLENGE_MAX + 1];
	size_t challenge_len;
	unsigned bytes;
};

/*
 * Parses an application/x-www-form-urlencoded string (a POST body or a
 * GET query, without the '?'): "challenge" required, "bytes" optional,
 * other fields ignored, a repeated field is an error, at most
 * SEED_FORM_MAX bytes. Pure. Returns 0, or -EINVAL with a one-line
 * reason in why ("challenge: not hex"); *out is untouched on error.
 */
int seed_request_parse(const char *form, size_t len, struct seed_request *out,
    char *why, size_t why_size);

/*
 * Formats the response for req with seed (req->bytes random bytes) into
 * out (SEED_RESPONSE_MAX bytes), NUL-terminated. Returns the length
 * without the NUL, -EINVAL for a request seed_request_parse would not
 * have made, -ENOBUFS if size is too small, or -EIO if the hash failed.
 * Pure apart from the hash.
 */
int seed_response_format(const struct seed_request *req,
    const unsigned char *seed, char *out, size_t size);

/*
 * Fills buf with len fresh bytes from getrandom(2) without blocking.
 * Returns 0, -EAGAIN while the kernel RNG is not yet initialized (then
 * nothing may be served), or -errno.
 */
int seed_random(unsigned char *buf, size_t len);

#endif

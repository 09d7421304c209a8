/* SPDX-License-Identifier: ISC */
/*
 * The answer of a seed server is checked completely before a byte of it
 * may reach the kernel: the challenge echo proves the answer is to this
 * request (not a replay or a cache), and the exact shape rules out an
 * error page, a proxy's banner or a truncated body.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "hex.h"
#include "response.h"

int
sha512_hex(const void *data, size_t len, char out[129])
{
	unsigned char md[64];
	unsigned int n = 0;

	if (EVP_Digest(data, len, md, &n, EVP_sha512(), NULL) != 1 || n != 64)
		return -EIO;
	*hex_encode(out, md, 64) = '\0';
	return 0;
}

int
response_check(const char *body, size_t len, const char *challenge,
    size_t seed_len, unsigned char *seed, char *why, size_t why_size)
{
	char expect[129];
	const char *nl, *line2;
	size_t l2;

	if (seed_len == 0 || seed_len > SEED_MAX) {
		snprintf(why, why_size, "bad seed size");
		return -EINVAL;
	}
	if (len > RESPONSE_MAX) {
		snprintf(why, why_size, "answer over %d bytes", RESPONSE_MAX);
		return -EINVAL;
	}
	if (sha512_hex(challenge, strlen(challenge), expect) < 0) {
		snprintf(why, why_size, "SHA-512 failed");
		return -EINVAL;
	}
	nl = memchr(body, '\n', len);
	if (nl == NULL || (size_t)(nl - body) != 128 ||
	    memcmp(body, expect, 128) != 0) {
		snprintf(why, why_size,
		    "first line is not the SHA-512 of our challenge");
		return -EINVAL;
	}
	line2 = nl + 1;
	l2 = len - (size_t)(line2 - body);
	if (l2 > 0 && line2[l2 - 1] == '\n')
		l2--;
	if (l2 != 2 * seed_len || memchr(line2, '\n', l2) != NULL) {
		snprintf(why, why_size,
		    "second line is not %zu hex characters (%zu bytes)",
		    2 * seed_len, seed_len);
		return -EINVAL;
	}
	for (size_t i = 0; i < l2; i++) {
		/* The protocol is lowercase: A-F is not a seed. */
		if (hex_digit(line2[i], false) < 0) {
			snprintf(
			    why, why_size, "second line is not lowercase hex");
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < seed_len; i++)
		seed[i] = (unsigned char)(hex_digit(line2[2 * i], false) << 4 |
		                          hex_digit(line2[2 * i + 1], false));
	return 0;
}

/* SPDX-License-Identifier: ISC */
/*
 * A seed server's answer: any bytes from the network. The first input
 * byte picks the seed size asked for (0 means the default 64), the rest
 * is the body, checked against a fixed challenge. An accepted body must
 * have exactly the protocol's shape and the seed must be what its second
 * line spells; a refused one leaves the seed untouched and gives a reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "response.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 64 bytes 0x00..0x3f in hex: the shape of the challenge the client sends.
 * The corpus answers carry its SHA-512. */
static const char challenge[] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char digits[] = "0123456789abcdef";
	unsigned char seed[SEED_MAX];
	char expect[129], why[300];
	const char *body, *line2;
	size_t len, seed_len, l2;
	int rc;

	if (size < 1)
		return 0;
	seed_len = data[0] == 0 ? 64 : data[0];
	body = (const char *)data + 1;
	len = size - 1;
	memset(seed, 0xa5, sizeof(seed));
	memset(why, 'x', sizeof(why));
	rc = response_check(
	    body, len, challenge, seed_len, seed, why, sizeof(why));
	if (rc != 0) {
		/* Refused: a reason, and not a byte written to the seed. */
		if (memchr(why, '\0', sizeof(why)) == NULL || why[0] == '\0')
			abort();
		for (size_t i = 0; i < sizeof(seed); i++)
			if (seed[i] != 0xa5)
				abort();
		return 0;
	}
	/* Accepted: "ECHO\nSEED" plus at most one newline, under the limit. */
	if (len > RESPONSE_MAX ||
	    sha512_hex(challenge, strlen(challenge), expect) != 0)
		abort();
	if (len < 129 || memcmp(body, expect, 128) != 0 || body[128] != '\n')
		abort();
	line2 = body + 129;
	l2 = len - 129;
	if (l2 == 2 * seed_len + 1 && line2[l2 - 1] == '\n')
		l2--;
	if (l2 != 2 * seed_len)
		abort();
	/* The seed decodes from the second line: it spells it, lowercase. */
	for (size_t i = 0; i < seed_len; i++)
		if (line2[2 * i] != digits[seed[i] >> 4] ||
		    line2[2 * i + 1] != digits[seed[i] & 15])
			abort();
	/* And nothing past seed_len was written. */
	for (size_t i = seed_len; i < sizeof(seed); i++)
		if (seed[i] != 0xa5)
			abort();
	return 0;
}

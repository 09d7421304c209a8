/* SPDX-License-Identifier: ISC */
/*
 * What a client controls in a seed request: the form (POST body or GET
 * query), the Authorization header, and (from the configuration) an
 * allow-list range. Whatever is accepted must satisfy what the server
 * relies on without checking again.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "acl.h"
#include "seed.h"
#include "tokens.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

static bool
is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static void
check_request(const uint8_t *data, size_t size)
{
	static unsigned char seed[SEED_BYTES_MAX];
	static char out[SEED_RESPONSE_MAX];
	struct seed_request req;
	char why[128];
	size_t i, want;
	int n;

	why[0] = '\0';
	if (seed_request_parse(
	        (const char *)data, size, &req, why, sizeof(why)) < 0) {
		/* A refusal always says why, on one line. */
		if (why[0] == '\0' || strchr(why, '\n') != NULL)
			abort();
		return;
	}
	if (req.challenge_len < CHALLENGE_MIN ||
	    req.challenge_len > CHALLENGE_MAX ||
	    req.challenge[req.challenge_len] != '\0')
		abort();
	for (i = 0; i < req.challenge_len; i++)
		if (!is_hex(req.challenge[i]))
			abort();
	if (req.bytes < SEED_BYTES_MIN || req.bytes > SEED_BYTES_MAX)
		abort();

	n = seed_response_format(&req, seed, out, sizeof(out));
	want = 128 + 1 + 2 * (size_t)req.bytes + 1;
	if (n < 0 || (size_t)n != want || out[n] != '\0' || out[128] != '\n' ||
	    out[n - 1] != '\n')
		abort();
	for (i = 0; i < (size_t)n - 1; i++)
		if (i != 128 && !is_lower_hex(out[i]))
			abort();
}

static void
check_bearer(const char *text)
{
	const char *token;
	size_t len, i;

	if (bearer_parse(text, &token, &len) < 0)
		return;
	if (len == 0 || len > BEARER_TOKEN_MAX || token < text ||
	    token + len > text + strlen(text))
		abort();
	for (i = 0; i < len; i++)
		if (token[i] == ' ' || token[i] == '\t')
			abort();
}

/* An accepted range holds its own network address and is in bounds. */
static void
check_cidr(const char *text)
{
	struct sockaddr_in6 sin6;
	struct acl acl = {0};
	struct cidr c;

	if (cidr_parse(text, &c) < 0)
		return;
	if (c.prefix > 128)
		abort();
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	memcpy(&sin6.sin6_addr, c.addr, 16);
	if (acl_add(&acl, &c) < 0)
		return;
	if (!acl_match(&acl, (const struct sockaddr *)&sin6))
		abort();
	acl_free(&acl);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	check_request(data, size);

	/* Header values and configuration words are C strings. */
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	check_bearer(text);
	check_cidr(text);
	free(text);
	return 0;
}

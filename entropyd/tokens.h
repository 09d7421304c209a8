/* SPDX-License-Identifier: ISC */
/*
 * Bearer tokens. The tokens file holds "name:HEX" lines, HEX being the
 * SHA-256 of the token, so the file leaking does not leak tokens.
 * Blank lines and lines starting with '#' are ignored.
 */
#ifndef ENTROPYD_TOKENS_H
#define ENTROPYD_TOKENS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOKEN_NAME_MAX 64
#define BEARER_TOKEN_MAX 512 /* longer presented tokens are refused */

struct token_entry {
	char name[TOKEN_NAME_MAX + 1]; /* [A-Za-z0-9_.-]+ */
	uint8_t hash[32];
};

/* Whether c may be in a name: A-Z a-z 0-9 _ . - (not locale-dependent). */
bool token_name_char(char c);

struct tokens {
	struct token_entry *entries;
	size_t count;
};

/*
 * Parses a tokens file image. Returns 0, or -EINVAL with the 1-based line
 * of the first bad line in *bad_line and a reason in why (a duplicate
 * name is an error too). On success *out owns its entries.
 */
int tokens_parse(const char *buf, size_t len, struct tokens *out,
    unsigned *bad_line, char *why, size_t why_size);

void tokens_free(struct tokens *t);

/*
 * Looks up a presented token (not NUL-terminated, len bytes): hashes it
 * and compares with every entry in constant time, so neither the match
 * nor its position shows in the timing. Returns the entry's name, or
 * NULL.
 */
const char *tokens_check(const struct tokens *t, const char *token, size_t len);

/*
 * The same for an entry whose hash is of the token and a newline (made
 * with "echo TOKEN | sha256sum"): the name, or NULL. The caller names
 * the entry so the operator can make it again.
 */
const char *tokens_check_newline(
    const struct tokens *t, const char *token, size_t len);

/*
 * Extracts the token from an Authorization header value "Bearer TOKEN"
 * (scheme case-insensitive, one or more spaces, TOKEN an RFC 6750
 * b64token of at most BEARER_TOKEN_MAX characters). Pure. Returns 0 and
 * points *token and *len into value, or -EINVAL.
 */
int bearer_parse(const char *value, const char **token, size_t *len);

#endif

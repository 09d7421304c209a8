/* SPDX-License-Identifier: ISC */
/* tokens.c: the tokens file, bearer headers, constant-time token lookup. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "hex.h"
#include "tokens.h"

#define HASH_HEX_LEN 64

/* A parsed entry and the line it came from, until duplicates are checked. */
struct parsed_entry {
	struct token_entry entry;
	unsigned line;
};

static void
set_why(char *why, size_t why_size, const char *reason)
{
	if (why != NULL && why_size > 0)
		snprintf(why, why_size, "%s", reason);
}

bool
token_name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/*
 * Parses one line (without its '\n'; surrounding blanks and a CR from
 * CRLF already trimmed) as "name:HEX". Returns 0, or -EINVAL with a
 * reason.
 */
static int
parse_entry(
    const char *s, size_t len, struct token_entry *e, const char **reason)
{
	const char *colon = memchr(s, ':', len);
	size_t name_len, i;
	const char *hex;

	if (colon == NULL) {
		*reason = "expected name:sha256hex";
		return -EINVAL;
	}
	name_len = (size_t)(colon - s);
	if (name_len == 0) {
		*reason = "empty name";
		return -EINVAL;
	}
	if (name_len > TOKEN_NAME_MAX) {
		*reason = "name longer than 64 characters";
		return -EINVAL;
	}
	for (i = 0; i < name_len; i++) {
		if (!token_name_char(s[i])) {
			*reason = "name may hold only A-Z a-z 0-9 _ . -";
			return -EINVAL;
		}
	}
	hex = colon + 1;
	if (len - name_len - 1 != HASH_HEX_LEN) {
		*reason = "hash must be 64 hex digits (a SHA-256)";
		return -EINVAL;
	}
	for (i = 0; i < sizeof(e->hash); i++) {
		int hi = hex_digit(hex[2 * i], true),
		    lo = hex_digit(hex[2 * i + 1], true);

		if (hi < 0 || lo < 0) {
			*reason = "hash is not hex";
			return -EINVAL;
		}
		e->hash[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(e->name, s, name_len);
	e->name[name_len] = '\0';
	return 0;
}

static int
compare_by_name_then_line(const void *a, const void *b)
{
	const struct parsed_entry *x = a, *y = b;
	int c = strcmp(x->entry.name, y->entry.name);

	if (c != 0)
		return c;
	return (x->line > y->line) - (x->line < y->line);
}

/*
 * The first line (lowest number) that repeats a name seen on an earlier
 * line, or 0. Sorts p (a scratch copy) so that a file of many entries
 * costs n log n, not n squared. *first is the line the name first had.
 */
static unsigned
first_duplicate(struct parsed_entry *p, size_t n, unsigned *first,
    char name[TOKEN_NAME_MAX + 1])
{
	unsigned dup = 0;
	size_t i;

	if (n < 2)
		return 0;
	qsort(p, n, sizeof(*p), compare_by_name_then_line);
	for (i = 1; i < n; i++) {
		if (strcmp(p[i - 1].entry.name, p[i].entry.name) != 0)
			continue;
		if (dup == 0 || p[i].line < dup) {
			dup = p[i].line;
			*first = p[i - 1].line;
			memcpy(name, p[i].entry.name, TOKEN_NAME_MAX + 1);
		}
	}
	return dup;
}

/*
 * Reads lines until the end or the first malformed one, then looks for
 * repeated names among the good ones before it: the first bad line of
 * either kind is reported.
 */
int
tokens_parse(const char *buf, size_t len, struct tokens *out,
    unsigned *bad_line, char *why, size_t why_size)
{
	struct parsed_entry *parsed = NULL, *grown;
	size_t count = 0, cap = 0, pos = 0, i;
	unsigned line = 0, syntax_line = 0, dup_line, dup_first = 0;
	const char *reason = NULL;
	struct token_entry *entries = NULL;
	char msg[128], dup_name[TOKEN_NAME_MAX + 1] = "";

	while (pos < len) {
		const char *s = buf + pos, *nl = memchr(s, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - s) : len - pos;

		pos += n + (nl != NULL);
		line++;
		while (n > 0 && is_blank(s[n - 1]))
			n--;
		while (n > 0 && is_blank(*s)) {
			s++;
			n--;
		}
		if (n == 0 || *s == '#')
			continue;
		if (count == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			grown = reallocarray(parsed, cap, sizeof(*parsed));
			if (grown == NULL) {
				free(parsed);
				return -ENOMEM;
			}
			parsed = grown;
		}
		if (parse_entry(s, n, &parsed[count].entry, &reason) < 0) {
			syntax_line = line;
			break;
		}
		parsed[count++].line = line;
	}

	if (count > 0) {
		entries = calloc(count, sizeof(*entries));
		if (entries == NULL) {
			free(parsed);
			return -ENOMEM;
		}
		for (i = 0; i < count; i++)
			entries[i] = parsed[i].entry;
	}
	dup_line = first_duplicate(parsed, count, &dup_first, dup_name);
	free(parsed);

	if (dup_line != 0 && (syntax_line == 0 || dup_line < syntax_line)) {
		snprintf(msg, sizeof(msg),
		    "duplicate name %s (first on line %u)", dup_name,
		    dup_first);
		set_why(why, why_size, msg);
		if (bad_line != NULL)
			*bad_line = dup_line;
		free(entries);
		return -EINVAL;
	}
	if (syntax_line != 0) {
		set_why(why, why_size, reason);
		if (bad_line != NULL)
			*bad_line = syntax_line;
		free(entries);
		return -EINVAL;
	}
	out->entries = entries;
	out->count = count;
	return 0;
}

void
tokens_free(struct tokens *t)
{
	if (t == NULL)
		return;
	if (t->entries != NULL)
		explicit_bzero(t->entries, t->count * sizeof(*t->entries));
	free(t->entries);
	t->entries = NULL;
	t->count = 0;
}

/*
 * Every entry is compared in full and the winner picked with masks, not
 * branches, so the time taken depends only on the number of entries:
 * not on whether the token matched, which entry it matched, or how many
 * leading bytes of some hash it got right.
 */
static const char *
check_digest(const struct tokens *t, uint8_t digest[32])
{
	size_t i, j, found = 0, mask;
	unsigned any = 0;

	for (i = 0; i < t->count; i++) {
		unsigned diff = 0, equal;

		for (j = 0; j < 32; j++)
			diff |= (unsigned)(digest[j] ^ t->entries[i].hash[j]);
		/* diff is 0..255: equal is 1 iff it is 0. */
		equal = ((diff - 1) >> 8) & 1;
		mask = (size_t)0 - (size_t)equal;
		found = (i & mask) | (found & ~mask);
		any |= equal;
	}
	explicit_bzero(digest, 32);
	return any ? t->entries[found].name : NULL;
}

const char *
tokens_check(const struct tokens *t, const char *token, size_t len)
{
	uint8_t digest[32];

	if (t == NULL || t->count == 0 || token == NULL || len == 0)
		return NULL;
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, token, len, digest) < 0)
		return NULL;
	return check_digest(t, digest);
}

const char *
tokens_check_newline(const struct tokens *t, const char *token, size_t len)
{
	uint8_t digest[32];
	gnutls_hash_hd_t h;
	int rc;

	if (t == NULL || t->count == 0 || token == NULL || len == 0)
		return NULL;
	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
		return NULL;
	rc = gnutls_hash(h, token, len);
	if (rc >= 0)
		rc = gnutls_hash(h, "\n", 1);
	gnutls_hash_deinit(h, digest);
	if (rc < 0)
		return NULL;
	return check_digest(t, digest);
}

/* RFC 6750 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" /
 * "/" ) *"=". */
static bool
is_token_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~' || c == '+' || c == '/';
}

int
bearer_parse(const char *value, const char **token, size_t *len)
{
	const char *s, *start;
	size_t n;

	if (value == NULL)
		return -EINVAL;
	s = value;
	while (*s == ' ' || *s == '\t')
		s++;
	if (strncasecmp(s, "bearer", 6) != 0 || (s[6] != ' ' && s[6] != '\t'))
		return -EINVAL;
	s += 6;
	while (*s == ' ' || *s == '\t')
		s++;
	start = s;
	while (is_token_char(*s))
		s++;
	if (s == start)
		return -EINVAL;
	while (*s == '=')
		s++;
	n = (size_t)(s - start);
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s != '\0' || n > BEARER_TOKEN_MAX)
		return -EINVAL;
	*token = start;
	*len = n;
	return 0;
}

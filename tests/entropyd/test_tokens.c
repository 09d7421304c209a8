/* SPDX-License-Identifier: ISC */
/*
 * The tokens file and bearer tokens: what is accepted, what is refused
 * and on which line, and which name a presented token is known by.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tokens.h"

/* sha256("abc"), sha256("s3cret-token-A"), sha256("another.token_B") */
#define H_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define H_A "a39969010bd83bc2dc783737ffb9f1ec43e1861a7276680035b5057b8720b42c"
#define H_B "1d168bf1514a3c85f7da53846da769b0c8cf97a9510613f14108289efd2df7a0"

/* sha256("abc\n"): the echo | sha256sum mistake. */
#define H_ABC_NL                                                               \
	"edeaaff3f1774ad2888673770c6d64097e391bc362d7d6fb34982ddf0efd18cb"

static const char *
check(const struct tokens *t, const char *token)
{
	return tokens_check(t, token, strlen(token));
}

static void
test_good_file(void **state)
{
	static const char file[] = "# instances of the web tier\n"
	                           "\n"
	                           "web-1:" H_A "\r\n"
	                           "   \t\n"
	                           "  # indented comment\n"
	                           "db.primary_2:" H_B "  \n"
	                           "ABC:" H_ABC;
	struct tokens t = {0};
	unsigned line = 0;
	char why[128] = "";

	(void)state;
	assert_int_equal(
	    tokens_parse(file, strlen(file), &t, &line, why, sizeof(why)), 0);
	assert_int_equal(t.count, 3);
	assert_string_equal(t.entries[0].name, "web-1");
	assert_string_equal(t.entries[1].name, "db.primary_2");
	assert_string_equal(t.entries[2].name, "ABC");
	assert_int_equal(t.entries[2].hash[0], 0xba);
	assert_int_equal(t.entries[2].hash[31], 0xad);

	assert_string_equal(check(&t, "s3cret-token-A"), "web-1");
	assert_string_equal(check(&t, "another.token_B"), "db.primary_2");
	assert_string_equal(check(&t, "abc"), "ABC");
	/* Wrong, near, empty, and the stored hash itself as a token. */
	assert_null(check(&t, "s3cret-token-a"));
	assert_null(check(&t, "s3cret-token-A "));
	assert_null(check(&t, "ab"));
	assert_null(check(&t, ""));
	assert_null(check(&t, H_A));
	/* The length given counts, not a NUL. */
	assert_null(tokens_check(&t, "abcd", 4));
	assert_string_equal(tokens_check(&t, "abcd", 3), "ABC");
	tokens_free(&t);
	assert_null(t.entries);
	assert_int_equal(t.count, 0);
	tokens_free(NULL);
}

static void
test_upper_case_hex(void **state)
{
	char file[128];
	struct tokens t = {0};
	size_t i;

	(void)state;
	snprintf(file, sizeof(file), "x:%s\n", H_ABC);
	for (i = 0; file[i] != '\0'; i++)
		if (file[i] >= 'a' && file[i] <= 'f')
			file[i] = (char)(file[i] - 'a' + 'A');
	assert_int_equal(
	    tokens_parse(file, strlen(file), &t, NULL, NULL, 0), 0);
	assert_string_equal(check(&t, "abc"), "x");
	tokens_free(&t);
}

static void
test_empty_file(void **state)
{
	struct tokens t = {0};

	(void)state;
	assert_int_equal(tokens_parse("", 0, &t, NULL, NULL, 0), 0);
	assert_int_equal(t.count, 0);
	assert_null(check(&t, "abc"));
	assert_int_equal(
	    tokens_parse("# none yet\n\n", 12, &t, NULL, NULL, 0), 0);
	assert_int_equal(t.count, 0);
	tokens_free(&t);
}

/* Parses file, expecting failure at line with a reason containing what. */
static void
expect_bad(const char *file, unsigned want_line, const char *what)
{
	struct tokens t = {(struct token_entry *)0x1, 77};
	unsigned line = 0;
	char why[128] = "";

	if (tokens_parse(file, strlen(file), &t, &line, why, sizeof(why)) !=
	    -EINVAL)
		fail_msg("accepted: %s", file);
	if (line != want_line)
		fail_msg("line %u, not %u, for: %s (%s)", line, want_line, file,
		    why);
	if (strstr(why, what) == NULL)
		fail_msg("reason \"%s\" lacks \"%s\"", why, what);
	/* Nothing handed out on failure. */
	assert_ptr_equal(t.entries, (struct token_entry *)0x1);
	assert_int_equal(t.count, 77);
}

static void
test_bad_files(void **state)
{
	(void)state;
	expect_bad("a:" H_A "\nb:" H_B "\na:" H_ABC "\n", 3,
	    "duplicate name a (first on line 1)");
	expect_bad("a:" H_A "\nb:" H_B "\na:" H_ABC "\n", 3, "line 1");
	expect_bad("a:" H_A "\nb " H_B "\n", 2, "name:");
	expect_bad("a:" H_A "\n:" H_B "\n", 2, "empty name");
	expect_bad("bad name:" H_A "\n", 1, "name may");
	expect_bad("caf\xc3\xa9:" H_A "\n", 1, "name may");
	expect_bad("a:" H_A "0\n", 1, "64 hex");
	expect_bad("a:" H_A "\nb:deadbeef\n", 2, "64 hex");
	expect_bad("a:\n", 1, "64 hex");
	expect_bad(
	    "\n\nb:"
	    "ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	    "\n",
	    3, "not hex");
	expect_bad("a:" H_A ":" H_B "\n", 1, "64 hex");
	expect_bad("a:" H_A " # comment\n", 1, "64 hex");
	expect_bad(
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaa:" H_A "\n",
	    1, "longer than 64");
	/* The first bad line wins, whichever kind it is. */
	expect_bad("a:" H_A "\na:" H_B "\njunk\n", 2, "duplicate");
	expect_bad("a:" H_A "\njunk\na:" H_B "\n", 2, "name:");
}

static void
test_longest_name(void **state)
{
	char file[256];
	struct tokens t = {0};

	(void)state;
	snprintf(file, sizeof(file), "%.64s:%s",
	    "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
	    "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn",
	    H_A);
	assert_int_equal(
	    tokens_parse(file, strlen(file), &t, NULL, NULL, 0), 0);
	assert_int_equal(strlen(t.entries[0].name), TOKEN_NAME_MAX);
	tokens_free(&t);
}

/*
 * Every entry is compared whatever matched: a token matching the first,
 * a middle, the last or no entry of many must each come back right,
 * including when two entries share a hash prefix.
 */
static void
test_every_position(void **state)
{
	enum { N = 500 };
	char *file = malloc(N * 80), *p = file, name[16];
	struct tokens t = {0};
	size_t i;

	(void)state;
	assert_non_null(file);
	for (i = 0; i < N; i++) {
		const char *hash = i == 0       ? H_A
		                   : i == N / 2 ? H_ABC
		                   : i == N - 1 ? H_B
		                                : NULL;
		char filler[65];

		if (hash == NULL) {
			/* Same leading bytes as H_ABC, differing late. */
			snprintf(filler, sizeof(filler), "%.56s%08x", H_ABC,
			    (unsigned)i);
			hash = filler;
		}
		p += sprintf(p, "n%zu:%s\n", i, hash);
	}
	assert_int_equal(
	    tokens_parse(file, (size_t)(p - file), &t, NULL, NULL, 0), 0);
	assert_int_equal(t.count, N);
	assert_string_equal(check(&t, "s3cret-token-A"), "n0");
	snprintf(name, sizeof(name), "n%d", N / 2);
	assert_string_equal(check(&t, "abc"), name);
	snprintf(name, sizeof(name), "n%d", N - 1);
	assert_string_equal(check(&t, "another.token_B"), name);
	assert_null(check(&t, "abd"));
	tokens_free(&t);
	free(file);
}

static void
expect_bearer(const char *value, const char *token)
{
	const char *tok = NULL;
	size_t len = 0;

	if (bearer_parse(value, &tok, &len) != 0)
		fail_msg("refused \"%s\"", value);
	assert_int_equal(len, strlen(token));
	assert_memory_equal(tok, token, len);
	/* A pointer into the header, not a copy. */
	assert_true(tok >= value && tok + len <= value + strlen(value));
}

static void
test_bearer(void **state)
{
	static const char *const bad[] = {"", "Bearer", "Bearer ",
	    "Bearer  \t ", "Basic dXNlcjpwYXNz", "Bearerabc", "Bearer a b",
	    "Bearer a,b", "Bearer a\"b", "Bearer =abc", "Token abc",
	    "Bearer ab=c", NULL};
	char longest[BEARER_TOKEN_MAX + 16];
	const char *tok;
	size_t len, i;

	(void)state;
	expect_bearer("Bearer abc", "abc");
	expect_bearer("bearer abc", "abc");
	expect_bearer("BEARER   s3cret-token-A", "s3cret-token-A");
	expect_bearer("Bearer\tabc", "abc");
	expect_bearer("Bearer abc  ", "abc");
	expect_bearer("  Bearer abc", "abc");
	expect_bearer("Bearer dG9rZW4/+~._-==", "dG9rZW4/+~._-==");
	for (i = 0; bad[i] != NULL; i++)
		if (bearer_parse(bad[i], &tok, &len) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
	assert_int_equal(bearer_parse(NULL, &tok, &len), -EINVAL);

	memcpy(longest, "Bearer ", 7);
	memset(longest + 7, 'x', BEARER_TOKEN_MAX);
	longest[7 + BEARER_TOKEN_MAX] = '\0';
	assert_int_equal(bearer_parse(longest, &tok, &len), 0);
	assert_int_equal(len, BEARER_TOKEN_MAX);
	longest[7 + BEARER_TOKEN_MAX] = 'x';
	longest[8 + BEARER_TOKEN_MAX] = '\0';
	assert_int_equal(bearer_parse(longest, &tok, &len), -EINVAL);
}

static void
test_newline_hash(void **state)
{
	static const char text[] = "a:" H_ABC_NL "\nb:" H_A "\n";
	struct tokens t = {0};
	unsigned line = 0;
	char why[128];

	(void)state;
	assert_int_equal(
	    tokens_parse(text, strlen(text), &t, &line, why, sizeof(why)), 0);
	/* Not a match as it is; recognised as the newline mistake. */
	assert_null(check(&t, "abc"));
	assert_string_equal(tokens_check_newline(&t, "abc", 3), "a");
	assert_null(tokens_check_newline(&t, "abd", 3));
	assert_null(tokens_check_newline(&t, "s3cret-token-A", 14));
	tokens_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_file),
	    cmocka_unit_test(test_upper_case_hex),
	    cmocka_unit_test(test_empty_file),
	    cmocka_unit_test(test_bad_files),
	    cmocka_unit_test(test_longest_name),
	    cmocka_unit_test(test_every_position),
	    cmocka_unit_test(test_bearer),
	    cmocka_unit_test(test_newline_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: ISC */
/*
 * The answer of a seed server: exactly "SHA512(challenge)\nSEEDHEX\n" is
 * accepted and decoded; every other shape is refused with a reason and
 * leaves the seed buffer untouched.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "response.h"

/* FIPS 180-2 test vector: SHA-512("abc"). */
#define SHA512_ABC                                                             \
	"ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"     \
	"2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
/* SHA-512 of the empty string. */
#define SHA512_EMPTY                                                           \
	"cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"     \
	"47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
/* 64 bytes 0x00, 0x01, ..., 0x3f in lowercase hex. */
#define SEED64                                                                 \
	"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"     \
	"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"

#define GOOD SHA512_ABC "\n" SEED64 "\n"

static int
check(const char *body, size_t len, size_t seed_len, unsigned char *seed,
    char *why, size_t why_size)
{
	return response_check(body, len, "abc", seed_len, seed, why, why_size);
}

static void
expect_good(const char *body, size_t len)
{
	unsigned char seed[64];
	char why[300] = "";

	memset(seed, 0xee, sizeof(seed));
	if (check(body, len, sizeof(seed), seed, why, sizeof(why)) != 0)
		fail_msg("refused a good answer: %s", why);
	for (unsigned i = 0; i < sizeof(seed); i++)
		assert_int_equal(seed[i], i);
}

/* Refused, with a reason containing reason, and seed untouched. */
static void
expect_bad_n(const char *body, size_t len, size_t seed_len, const char *reason)
{
	unsigned char seed[SEED_MAX + 1], untouched[SEED_MAX + 1];
	char why[300] = "";

	memset(untouched, 0x5a, sizeof(untouched));
	memcpy(seed, untouched, sizeof(seed));
	if (check(body, len, seed_len, seed, why, sizeof(why)) != -EINVAL)
		fail_msg("accepted \"%.200s\"", body);
	assert_memory_equal(seed, untouched, sizeof(seed));
	if (strstr(why, reason) == NULL)
		fail_msg("reason \"%s\" does not say \"%s\"", why, reason);
}

static void
expect_bad(const char *body, const char *reason)
{
	expect_bad_n(body, strlen(body), 64, reason);
}

static void
test_sha512_vector(void **state)
{
	char out[129];

	(void)state;
	memset(out, 'x', sizeof(out));
	assert_int_equal(sha512_hex("abc", 3, out), 0);
	assert_string_equal(out, SHA512_ABC);
	assert_int_equal(sha512_hex("", 0, out), 0);
	assert_string_equal(out, SHA512_EMPTY);
}

static void
test_good(void **state)
{
	(void)state;
	expect_good(GOOD, strlen(GOOD));
	/* The final newline is optional. */
	expect_good(GOOD, strlen(GOOD) - 1);
}

static void
test_other_sizes(void **state)
{
	static const char body[] = SHA512_ABC "\n"
	                                      "00ff10\n";
	unsigned char seed[3];
	char why[300];

	(void)state;
	assert_int_equal(
	    check(body, strlen(body), 3, seed, why, sizeof(why)), 0);
	assert_int_equal(seed[0], 0x00);
	assert_int_equal(seed[1], 0xff);
	assert_int_equal(seed[2], 0x10);
	/* A 64-byte answer to a 3-byte request is refused. */
	expect_bad_n(GOOD, strlen(GOOD), 3, "not 6 hex characters");
	/* Sizes outside 1..SEED_MAX are refused before the body is read. */
	expect_bad_n(GOOD, strlen(GOOD), 0, "bad seed size");
	expect_bad_n(GOOD, strlen(GOOD), SEED_MAX + 1, "bad seed size");
}

static void
test_wrong_echo(void **state)
{
	char body[sizeof(GOOD)];

	(void)state;
	/* The SHA-512 of another challenge (a replay, a cache). */
	expect_bad(SHA512_EMPTY "\n" SEED64 "\n", "SHA-512 of our challenge");
	/* One digit off. */
	memcpy(body, GOOD, sizeof(GOOD));
	body[127] = body[127] == '0' ? '1' : '0';
	expect_bad(body, "SHA-512 of our challenge");
	/* The echo in uppercase is not the protocol. */
	memcpy(body, GOOD, sizeof(GOOD));
	for (int i = 0; i < 128; i++)
		if (body[i] >= 'a' && body[i] <= 'f')
			body[i] = (char)(body[i] - 'a' + 'A');
	expect_bad(body, "SHA-512 of our challenge");
	/* The challenge itself instead of its hash. */
	expect_bad("abc\n" SEED64 "\n", "SHA-512 of our challenge");
	/* A short or long first line. */
	expect_bad(SHA512_ABC "0\n" SEED64 "\n", "SHA-512 of our challenge");
	memcpy(body, GOOD, sizeof(GOOD));
	memmove(body + 127, body + 128, sizeof(GOOD) - 128);
	expect_bad(body, "SHA-512 of our challenge");
}

/* Refused: the right echo and seed_line as the second line. */
static void
expect_bad_seed_line(const char *seed_line, const char *reason)
{
	char body[RESPONSE_MAX];

	snprintf(body, sizeof(body), "%s\n%s", SHA512_ABC, seed_line);
	expect_bad(body, reason);
}

static void
test_seed_line_length(void **state)
{
	char line[300];

	(void)state;
	/* One hex digit short, one byte short. */
	snprintf(line, sizeof(line), "%.127s\n", SEED64);
	expect_bad_seed_line(line, "not 128 hex characters");
	snprintf(line, sizeof(line), "%.126s\n", SEED64);
	expect_bad_seed_line(line, "not 128 hex characters");
	/* One hex digit long, one byte long. */
	expect_bad_seed_line(SEED64 "0\n", "not 128 hex characters");
	expect_bad_seed_line(SEED64 "40\n", "not 128 hex characters");
	/* Half a seed, an empty line, no line at all. */
	snprintf(line, sizeof(line), "%.64s\n", SEED64);
	expect_bad_seed_line(line, "not 128 hex characters");
	expect_bad_seed_line("\n", "not 128 hex characters");
	expect_bad_seed_line("", "not 128 hex characters");
	/* No newline after the echo, or nothing at all. */
	expect_bad(SHA512_ABC, "SHA-512 of our challenge");
	expect_bad("", "SHA-512 of our challenge");
}

static void
test_short_seed_by_cutting(void **state)
{
	char body[sizeof(GOOD)];

	(void)state;
	/* The good answer with its seed line cut at every length. */
	for (size_t n = 129; n < strlen(GOOD) - 1; n++) {
		memcpy(body, GOOD, n);
		body[n] = '\0';
		expect_bad_n(body, n, 64, "not 128 hex characters");
		body[n] = '\n';
		expect_bad_n(body, n + 1, 64, "not 128 hex characters");
	}
}

static void
test_not_lowercase_hex(void **state)
{
	static const char *const bad[] = {
	    "g", "G", "A", "F", " ", "\t", "-", "x", "\x80", "\xff"};
	char body[sizeof(GOOD)];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		for (size_t at = 129; at < 129 + 128; at += 37) {
			memcpy(body, GOOD, sizeof(GOOD));
			body[at] = bad[i][0];
			expect_bad(body, "not lowercase hex");
		}
	/* The whole seed in uppercase. */
	memcpy(body, GOOD, sizeof(GOOD));
	for (int i = 129; i < 129 + 128; i++)
		if (body[i] >= 'a' && body[i] <= 'f')
			body[i] = (char)(body[i] - 'a' + 'A');
	expect_bad(body, "not lowercase hex");
	/* A NUL inside the seed line. */
	memcpy(body, GOOD, sizeof(GOOD));
	body[200] = '\0';
	expect_bad_n(body, strlen(GOOD), 64, "not lowercase hex");
}

static void
test_extra_data(void **state)
{
	(void)state;
	expect_bad(GOOD "\n", "not 128 hex characters");
	expect_bad(GOOD "x", "not 128 hex characters");
	expect_bad(GOOD "extra line\n", "not 128 hex characters");
	expect_bad(GOOD SEED64 "\n", "not 128 hex characters");
	expect_bad(GOOD " ", "not 128 hex characters");
	/* A trailing NUL is data too. */
	expect_bad_n(GOOD, strlen(GOOD) + 1, 64, "not 128 hex characters");
}

static void
test_crlf(void **state)
{
	(void)state;
	expect_bad(SHA512_ABC "\r\n" SEED64 "\r\n", "SHA-512 of our challenge");
	expect_bad(SHA512_ABC "\n" SEED64 "\r\n", "not 128 hex characters");
	expect_bad(SHA512_ABC "\r\n" SEED64 "\n", "SHA-512 of our challenge");
}

static void
test_missing_newline(void **state)
{
	(void)state;
	/* Both lines run together, with or without a final newline. */
	expect_bad(SHA512_ABC SEED64 "\n", "SHA-512 of our challenge");
	expect_bad(SHA512_ABC SEED64, "SHA-512 of our challenge");
	/* A space or a CR instead of the newline. */
	expect_bad(SHA512_ABC " " SEED64 "\n", "SHA-512 of our challenge");
	expect_bad(SHA512_ABC "\r" SEED64 "\n", "SHA-512 of our challenge");
}

static void
test_oversize(void **state)
{
	static char body[RESPONSE_MAX + 2];
	size_t n = strlen(GOOD);

	(void)state;
	/* A good answer padded past the limit is refused for its size. */
	memcpy(body, GOOD, n);
	memset(body + n, '\n', sizeof(body) - n);
	expect_bad_n(body, RESPONSE_MAX + 1, 64, "over 4096 bytes");
	expect_bad_n(body, sizeof(body), 64, "over 4096 bytes");
	/* At the limit, the shape decides. */
	expect_bad_n(body, RESPONSE_MAX, 64, "not 128 hex characters");
	/* The largest seed fits in an answer under the limit. */
	{
		static char big[RESPONSE_MAX];
		static unsigned char seed[SEED_MAX];
		char why[300] = "";
		size_t len;

		len = (size_t)snprintf(big, sizeof(big), "%s\n", SHA512_ABC);
		for (int i = 0; i < SEED_MAX; i++)
			len += (size_t)snprintf(
			    big + len, sizeof(big) - len, "%02x", i & 0xff);
		big[len++] = '\n';
		assert_true(len <= RESPONSE_MAX);
		assert_int_equal(
		    check(big, len, SEED_MAX, seed, why, sizeof(why)), 0);
		for (int i = 0; i < SEED_MAX; i++)
			assert_int_equal(seed[i], i & 0xff);
	}
}

static void
test_reason_carries_no_seed(void **state)
{
	unsigned char seed[64];
	char why[300] = "";

	(void)state;
	/* A refused answer's reason never quotes the seed line. */
	assert_int_equal(
	    check(GOOD "x", strlen(GOOD) + 1, 64, seed, why, sizeof(why)),
	    -EINVAL);
	assert_null(strstr(why, "0001020304"));
	assert_int_equal(check(SHA512_ABC "\n" SEED64 "G\n", strlen(GOOD) + 1,
	                     64, seed, why, sizeof(why)),
	    -EINVAL);
	assert_null(strstr(why, "0001020304"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sha512_vector),
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_other_sizes),
	    cmocka_unit_test(test_wrong_echo),
	    cmocka_unit_test(test_seed_line_length),
	    cmocka_unit_test(test_short_seed_by_cutting),
	    cmocka_unit_test(test_not_lowercase_hex),
	    cmocka_unit_test(test_extra_data),
	    cmocka_unit_test(test_crlf),
	    cmocka_unit_test(test_missing_newline),
	    cmocka_unit_test(test_oversize),
	    cmocka_unit_test(test_reason_carries_no_seed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

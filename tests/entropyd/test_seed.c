/* SPDX-License-Identifier: ISC */
/*
 * The seed protocol: what requests are accepted, the reason given for
 * those that are not, and the exact bytes of the answer pollinate
 * checks.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "seed.h"

/* sha512("abc"): what pollinate would send as a challenge. */
#define SHA512_ABC                                                             \
	"ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"     \
	"2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
/* printf "$SHA512_ABC" | sha512sum: what pollinate then expects back. */
#define SHA512_OF_SHA512_ABC                                                   \
	"ee02b3dd5b2c06e4e61888d141998abac194d57692f77ae7a28d748fdf9b9f28"     \
	"f756d980687f7290f1306857edf3fe01f8ebf4626880d49a33e029399cb2d700"
#define MIXED_CASE "0123456789abcdef0123456789ABCDEF"
/* printf 0123456789abcdef0123456789ABCDEF | sha512sum */
#define SHA512_MIXED_CASE                                                      \
	"dfd9dfaffa7964d134b05f1f1df7d0749b401dcdc54485a9423dadbeabe0b36e"     \
	"a7dce2edb7a0abf2635f44aa410e82f8cabd83b424dce673f623698b4ac9b980"

static int
parse(const char *form, struct seed_request *req, char *why, size_t size)
{
	return seed_request_parse(form, strlen(form), req, why, size);
}

static void
expect_ok(const char *form, const char *challenge, unsigned bytes)
{
	struct seed_request req;
	char why[128] = "";

	if (parse(form, &req, why, sizeof(why)) != 0)
		fail_msg("refused \"%.80s\": %s", form, why);
	assert_string_equal(req.challenge, challenge);
	assert_int_equal(req.challenge_len, strlen(challenge));
	assert_int_equal(req.bytes, bytes);
}

static void
expect_bad(const char *form, const char *reason)
{
	struct seed_request req, untouched;
	char why[128] = "";

	memset(&untouched, 0x5a, sizeof(untouched));
	req = untouched;
	if (parse(form, &req, why, sizeof(why)) != -EINVAL)
		fail_msg("accepted \"%.80s\"", form);
	if (strstr(why, reason) == NULL)
		fail_msg(
		    "\"%.80s\": reason \"%s\" lacks \"%s\"", form, why, reason);
	assert_memory_equal(&req, &untouched, sizeof(req));
}

static void
test_pollinate_request(void **state)
{
	(void)state;
	/* Exactly what pollinate posts. */
	expect_ok("challenge=" SHA512_ABC, SHA512_ABC, SEED_BYTES_DEFAULT);
	expect_ok("challenge=" MIXED_CASE, MIXED_CASE, 64);
	expect_ok("bytes=32&challenge=" MIXED_CASE, MIXED_CASE, 32);
	expect_ok("challenge=" MIXED_CASE "&bytes=1024", MIXED_CASE, 1024);
	expect_ok("challenge=" MIXED_CASE "&bytes=16", MIXED_CASE, 16);
	/* Unknown fields, empty fields and valueless fields are ignored. */
	expect_ok("x=1&&challenge=" MIXED_CASE "&flag&y=%zz&", MIXED_CASE, 64);
	/* Escapes decode, even where hex never needs them. */
	expect_ok("ch%61llenge=0123456789%61bcdef0123456789ABCDEF",
	    "0123456789abcdef0123456789ABCDEF", 64);
	expect_ok("challenge=" MIXED_CASE "&bytes=%3128", MIXED_CASE, 128);
}

static void
test_challenge_refused(void **state)
{
	char form[600];

	(void)state;
	expect_bad("", "challenge: missing");
	expect_bad("bytes=64", "challenge: missing");
	expect_bad("challengee=" MIXED_CASE, "challenge: missing");
	expect_bad("Challenge=" MIXED_CASE, "challenge: missing");
	expect_bad("challenge=", "challenge: empty");
	expect_bad("challenge", "challenge: empty");
	expect_bad("challenge=" MIXED_CASE "&challenge=" MIXED_CASE,
	    "challenge: given twice");
	expect_bad("challenge=0123456789abcdef0123456789abcdeg", "not hex");
	expect_bad("challenge=0123456789abcdef+0123456789abcdef", "not hex");
	expect_bad("challenge=0123456789abcdef%200123456789abcdef", "not hex");
	/* A %00 is refused as it is decoded, before it could cut a value. */
	expect_bad("challenge=0123456789abcdef%000123456789abcdef", "%-escape");
	expect_bad("challenge=0123456789abcdef0123456789abcdef&bytes=64%00junk",
	    "bytes:");
	expect_bad("challenge=0x23456789abcdef0123456789abcdef", "not hex");
	expect_bad("challenge=" MIXED_CASE "%", "bad %-escape");
	expect_bad("challenge=" MIXED_CASE "%4", "bad %-escape");
	expect_bad("challenge=" MIXED_CASE "%g1", "bad %-escape");
	/* 31, 32, 256 and 257 hex digits. */
	expect_bad("challenge=0123456789abcdef0123456789abcde", "too short");
	snprintf(form, sizeof(form), "challenge=%0256d", 0);
	expect_ok(form, form + 10, 64);
	snprintf(form, sizeof(form), "challenge=%0257d", 0);
	expect_bad(form, "too long");
	snprintf(form, sizeof(form), "challenge=%0500d", 0);
	expect_bad(form, "too long");
}

static void
test_bytes_refused(void **state)
{
	(void)state;
	expect_bad("challenge=" MIXED_CASE "&bytes=15", "bytes:");
	expect_bad("challenge=" MIXED_CASE "&bytes=1025", "bytes:");
	expect_bad("challenge=" MIXED_CASE "&bytes=0", "bytes:");
	expect_bad("challenge=" MIXED_CASE "&bytes=", "bytes:");
	expect_bad("challenge=" MIXED_CASE "&bytes=-64", "bytes:");
	expect_bad("challenge=" MIXED_CASE "&bytes=+64", "bytes:");
	expect_bad("challenge=" MIXED_CASE "&bytes=64k", "bytes:");
	expect_bad("challenge=" MIXED_CASE "&bytes=0x40", "bytes:");
	expect_bad(
	    "challenge=" MIXED_CASE "&bytes=99999999999999999999999", "bytes:");
	expect_bad(
	    "challenge=" MIXED_CASE "&bytes=32&bytes=32", "bytes: given twice");
}

static void
test_bounded_input(void **state)
{
	char form[SEED_FORM_MAX + 2];
	struct seed_request req;
	size_t n;

	(void)state;
	n = (size_t)snprintf(
	    form, sizeof(form), "challenge=%s&pad=", MIXED_CASE);
	memset(form + n, 'p', sizeof(form) - n);
	assert_int_equal(
	    seed_request_parse(form, SEED_FORM_MAX, &req, NULL, 0), 0);
	assert_int_equal(
	    seed_request_parse(form, SEED_FORM_MAX + 1, &req, NULL, 0),
	    -EINVAL);
	/* Only len bytes are read: no NUL needed, nothing past len. */
	assert_int_equal(
	    seed_request_parse(
	        "challenge=" MIXED_CASE "&bytes=1234", 52, &req, NULL, 0),
	    0);
	assert_int_equal(req.bytes, 123);
	assert_int_equal(
	    seed_request_parse(
	        "challenge=" MIXED_CASE "&bytes=1234", 53, &req, NULL, 0),
	    -EINVAL);
	assert_int_equal(
	    seed_request_parse("challenge=" MIXED_CASE "0", 42, &req, NULL, 0),
	    0);
	assert_int_equal(req.challenge_len, 32);
}

/* What pollinate checks: the first line, byte for byte. */
static void
test_response_for_pollinate(void **state)
{
	struct seed_request req;
	unsigned char seed[SEED_BYTES_MAX];
	char out[SEED_RESPONSE_MAX], want[SEED_RESPONSE_MAX];
	size_t i;
	int n;

	(void)state;
	assert_int_equal(parse("challenge=" SHA512_ABC, &req, NULL, 0), 0);
	for (i = 0; i < sizeof(seed); i++)
		seed[i] = (unsigned char)(i * 7 + 0xa0);
	n = seed_response_format(&req, seed, out, sizeof(out));
	assert_int_equal(n, 128 + 1 + 128 + 1);
	assert_int_equal(strlen(out), (size_t)n);
	snprintf(want, sizeof(want), "%s\n", SHA512_OF_SHA512_ABC);
	assert_memory_equal(out, want, 129);
	for (i = 0; i < 64; i++)
		snprintf(want + 129 + 2 * i, 3, "%02x", seed[i]);
	want[129 + 128] = '\n';
	want[129 + 129] = '\0';
	assert_string_equal(out, want);

	/* Hashed as sent: case is not folded. */
	assert_int_equal(parse("challenge=" MIXED_CASE, &req, NULL, 0), 0);
	assert_int_equal(
	    seed_response_format(&req, seed, out, sizeof(out)), 258);
	assert_memory_equal(out, SHA512_MIXED_CASE "\n", 129);
}

static void
test_response_sizes(void **state)
{
	struct seed_request req;
	unsigned char seed[SEED_BYTES_MAX];
	char out[SEED_RESPONSE_MAX + 8];

	(void)state;
	memset(seed, 0xff, sizeof(seed));
	/* The known vector: SHA-512 of "abc". */
	memset(&req, 0, sizeof(req));
	memcpy(req.challenge, "abc", 4);
	req.challenge_len = 3;
	req.bytes = SEED_BYTES_MAX;
	assert_int_equal(
	    seed_response_format(&req, seed, out, SEED_RESPONSE_MAX),
	    SEED_RESPONSE_MAX - 1);
	assert_memory_equal(out, SHA512_ABC "\n", 129);
	assert_int_equal(out[129], 'f');
	assert_int_equal(out[129 + 2047], 'f');
	assert_int_equal(out[129 + 2048], '\n');
	assert_int_equal(out[129 + 2049], '\0');
	/* One byte short of room for the NUL. */
	assert_int_equal(
	    seed_response_format(&req, seed, out, SEED_RESPONSE_MAX - 1),
	    -ENOBUFS);
	req.bytes = SEED_BYTES_MIN;
	assert_int_equal(seed_response_format(&req, seed, out, 162), -ENOBUFS);
	assert_int_equal(seed_response_format(&req, seed, out, 163), 162);
	req.bytes = SEED_BYTES_MAX + 1;
	assert_int_equal(
	    seed_response_format(&req, seed, out, sizeof(out)), -EINVAL);
	req.bytes = 0;
	assert_int_equal(
	    seed_response_format(&req, seed, out, sizeof(out)), -EINVAL);
}

static void
test_random_differs(void **state)
{
	unsigned char a[64], b[64], big[SEED_BYTES_MAX], zero[64] = {0};

	(void)state;
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	assert_int_equal(seed_random(a, sizeof(a)), 0);
	assert_int_equal(seed_random(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, zero, sizeof(a));
	assert_int_equal(seed_random(big, sizeof(big)), 0);
	assert_memory_not_equal(big, big + 512, 512);
	assert_int_equal(seed_random(a, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pollinate_request),
	    cmocka_unit_test(test_challenge_refused),
	    cmocka_unit_test(test_bytes_refused),
	    cmocka_unit_test(test_bounded_input),
	    cmocka_unit_test(test_response_for_pollinate),
	    cmocka_unit_test(test_response_sizes),
	    cmocka_unit_test(test_random_differs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

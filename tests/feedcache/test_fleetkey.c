/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for the fleet key file and record signatures.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fleetkey.h"

#define KA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define KB "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static int
parse(const char *text, struct fleet_keys *k, char *why)
{
	memset(k, 0, sizeof(*k));
	return fleet_keys_parse(text, strlen(text), k, why, 200);
}

static void
test_parse(void **state)
{
	struct fleet_keys k;
	char why[200];

	(void)state;
	assert_int_equal(
	    parse("# the fleet key\n\n  " KA "  \r\n", &k, why), 0);
	assert_int_equal(k.count, 1);
	assert_int_equal(k.len[0], 64);
	assert_memory_equal(k.key[0], KA, 64);
	assert_int_equal(parse(KB "\n" KA, &k, why), 0);
	assert_int_equal(k.count, 2);
	assert_memory_equal(k.key[0], KB, 64);
	assert_memory_equal(k.key[1], KA, 64);

	assert_int_equal(parse("", &k, why), -EINVAL);
	assert_non_null(strstr(why, "no key"));
	assert_int_equal(parse("# only a comment\n", &k, why), -EINVAL);
	assert_int_equal(parse("tooshort\n", &k, why), -EINVAL);
	assert_non_null(strstr(why, "line 1: the key is 8 characters"));
	assert_null(strstr(why, "tooshort")); /* a key is never quoted */
	assert_int_equal(parse(KA "\n" KB "\n" KA "\n", &k, why), -EINVAL);
	assert_non_null(strstr(why, "line 3: a third key"));
	assert_int_equal(
	    parse("0123456789abcdef 0123456789abcdef0123\n", &k, why), -EINVAL);
	assert_non_null(strstr(why, "without spaces"));
}

static void
test_sign_verify(void **state)
{
	struct fleet_keys a, b, rotated;
	const char *f[SIG_FIELDS] = {"news", "https://example.org/rss.xml",
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "0", "1700000000", "\"v1\"", ""};
	size_t len[SIG_FIELDS];
	char sig[FLEET_SIG_HEX + 1], other[FLEET_SIG_HEX + 1], why[200];

	(void)state;
	for (int i = 0; i < SIG_FIELDS; i++)
		len[i] = strlen(f[i]);
	assert_int_equal(parse(KA, &a, why), 0);
	assert_int_equal(parse(KB, &b, why), 0);
	assert_int_equal(parse(KB "\n" KA, &rotated, why), 0);

	assert_int_equal(fleet_sign(&a, 0, f, len, sig), 0);
	assert_int_equal(strlen(sig), FLEET_SIG_HEX);
	assert_int_equal(strspn(sig, "0123456789abcdef"), FLEET_SIG_HEX);
	assert_true(fleet_verify(&a, f, len, sig, strlen(sig)));
	/* Another key does not verify it; a rotated file still does. */
	assert_false(fleet_verify(&b, f, len, sig, strlen(sig)));
	assert_true(fleet_verify(&rotated, f, len, sig, strlen(sig)));
	/* The rotated file signs with its first key. */
	assert_int_equal(fleet_sign(&rotated, 0, f, len, other), 0);
	assert_true(fleet_verify(&b, f, len, other, strlen(other)));
	assert_false(fleet_verify(&a, f, len, other, strlen(other)));
	/* Wrong length, or one changed digit. */
	assert_false(fleet_verify(&a, f, len, sig, FLEET_SIG_HEX - 1));
	sig[10] = sig[10] == '0' ? '1' : '0';
	assert_false(fleet_verify(&a, f, len, sig, FLEET_SIG_HEX));
	sig[10] = sig[10] == '0' ? '1' : '0';

	/* Each field counts, and so do its boundaries: moving a byte from
	 * the etag to last_modified changes the signature. */
	for (int i = 0; i < SIG_FIELDS; i++) {
		const char *was = f[i];

		f[i] = "changed";
		len[i] = strlen(f[i]);
		assert_false(fleet_verify(&a, f, len, sig, FLEET_SIG_HEX));
		f[i] = was;
		len[i] = strlen(was);
	}
	f[SIG_ETAG] = "\"v1";
	f[SIG_LAST_MODIFIED] = "\"";
	len[SIG_ETAG] = 3;
	len[SIG_LAST_MODIFIED] = 1;
	assert_false(fleet_verify(&a, f, len, sig, FLEET_SIG_HEX));
	assert_int_equal(fleet_sign(&a, 1, f, len, other), -EINVAL);
	fleet_keys_free(&a);
	assert_int_equal(a.count, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_sign_verify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

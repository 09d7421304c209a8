/* SPDX-License-Identifier: ISC */
/*
 * The refresh path's pure parts: backoff, jitter, Retry-After.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fetch.h"
#include "timeutil.h"

#define S(n) ((uint64_t)(n)*NSEC_PER_SEC)

static void
test_backoff_window_grows_and_caps(void **state)
{
	(void)state;
	/* The first window is [1 s, 10 s]: rnd picks within it, wrapping. */
	assert_int_equal(backoff_delay_ns(1, S(300), S(3600), 0), S(1));
	assert_int_equal(backoff_delay_ns(1, S(300), S(3600), S(9)), S(10));
	assert_int_equal(backoff_delay_ns(1, S(300), S(3600), S(9) + 1), S(1));
	for (uint32_t n = 1; n < 100; n++) {
		uint64_t window = S(10) << (n - 1 > 40 ? 40 : n - 1);

		if (window > S(3600) || n > 40)
			window = S(3600);
		for (uint64_t r = 0; r < 2000; r += 7) {
			uint64_t d = backoff_delay_ns(
			    n, S(300), S(3600), r * 0x9e3779b97f4a7c15ULL);

			assert_true(d >= S(1));
			assert_true(d <= window);
		}
	}
	/* A short interval shrinks the first window. */
	for (uint64_t r = 0; r < 1000; r++)
		assert_true(
		    backoff_delay_ns(1, S(2), S(3600), r * 7919) <= S(2));
	/* max_backoff below the base still bounds it. */
	assert_true(backoff_delay_ns(30, S(300), S(5), UINT64_MAX / 3) <= S(5));
}

static void
test_due_jitter(void **state)
{
	(void)state;
	for (uint64_t r = 0; r < 5000; r++) {
		uint64_t d = due_jitter_ns(S(300), r * 0x9e3779b97f4a7c15ULL);

		assert_true(d >= S(270));
		assert_true(d < S(330));
	}
}

static void
test_retry_after(void **state)
{
	int64_t now = 1795671393; /* Thu, 26 Nov 2026 05:36:33 GMT */

	(void)state;
	assert_int_equal(retry_after_parse("120", now), 120);
	assert_int_equal(retry_after_parse(" 0 ", now), 0);
	/* Clamped to a day, however large. */
	assert_int_equal(retry_after_parse("99999999999999999999", now), 86400);
	assert_int_equal(
	    retry_after_parse("Thu, 26 Nov 2026 05:38:33 GMT", now), 120);
	assert_int_equal(
	    retry_after_parse("Thursday, 26-Nov-26 05:38:33 GMT", now), 120);
	assert_int_equal(
	    retry_after_parse("Thu Nov 26 05:38:33 2026", now), 120);
	/* A date in the past means now. */
	assert_int_equal(
	    retry_after_parse("Thu, 01 Jan 2026 00:00:00 GMT", now), 0);
	assert_int_equal(
	    retry_after_parse("Fri, 01 Jan 2100 00:00:00 GMT", now), 86400);
	assert_int_equal(retry_after_parse("-5", now), -1);
	assert_int_equal(retry_after_parse("soon", now), -1);
	assert_int_equal(retry_after_parse("12 seconds", now), -1);
	assert_int_equal(retry_after_parse("", now), -1);
}

static void
test_random_varies(void **state)
{
	uint64_t a = fetch_random(), b = fetch_random();

	(void)state;
	assert_true(a != b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_backoff_window_grows_and_caps),
	    cmocka_unit_test(test_due_jitter),
	    cmocka_unit_test(test_retry_after),
	    cmocka_unit_test(test_random_varies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: ISC */
/*
 * Token buckets as a client sees them: burst, refusal with the right
 * Retry-After, refill, a bounded table that forgets the oldest client.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ratelimit.h"

#define S(x) ((uint64_t)((x)*1e9))
#define T0 S(1000) /* a monotonic clock that has run a while */

static bool
take(struct ratelimit *rl, const char *key, uint64_t now, unsigned *retry)
{
	return ratelimit_take(rl, key, strlen(key), now, retry);
}

/* The defaults: 6/min, burst 3. */
static void
test_burst_then_refusal(void **state)
{
	struct ratelimit *rl = ratelimit_new(100, 6.0 / 60, 3);
	unsigned retry = 0;

	(void)state;
	assert_non_null(rl);
	assert_true(take(rl, "10.0.0.1", T0, &retry));
	assert_true(take(rl, "10.0.0.1", T0, &retry));
	assert_true(take(rl, "10.0.0.1", T0 + S(0.001), &retry));
	assert_false(take(rl, "10.0.0.1", T0 + S(0.002), &retry));
	assert_int_equal(retry, 10);
	/* Refusals cost nothing and the wait counts down. */
	assert_false(take(rl, "10.0.0.1", T0 + S(4), &retry));
	assert_int_equal(retry, 6);
	assert_false(take(rl, "10.0.0.1", T0 + S(9.5), &retry));
	assert_int_equal(retry, 1);
	/* Retry-After honoured to the second: served. */
	assert_true(take(rl, "10.0.0.1", T0 + S(10), &retry));
	assert_false(take(rl, "10.0.0.1", T0 + S(10), &retry));
	assert_int_equal(retry, 10);
	/* Other clients have their own bucket. */
	assert_true(take(rl, "10.0.0.2", T0 + S(10), &retry));
	assert_int_equal(ratelimit_size(rl), 2);
	ratelimit_free(rl);
}

static void
test_refill_caps_at_burst(void **state)
{
	struct ratelimit *rl = ratelimit_new(100, 1, 3);
	unsigned retry = 0;
	int i;

	(void)state;
	for (i = 0; i < 3; i++)
		assert_true(take(rl, "c", T0, &retry));
	assert_false(take(rl, "c", T0, &retry));
	assert_int_equal(retry, 1);
	/* An hour idle refills three tokens, not 3600. */
	for (i = 0; i < 3; i++)
		assert_true(take(rl, "c", T0 + S(3600), &retry));
	assert_false(take(rl, "c", T0 + S(3600), &retry));
	/* Half a token after half a second, a whole one after one. */
	assert_false(take(rl, "c", T0 + S(3600.5), &retry));
	assert_int_equal(retry, 1);
	assert_true(take(rl, "c", T0 + S(3601), &retry));
	ratelimit_free(rl);
}

static void
test_slow_and_fractional_rates(void **state)
{
	struct ratelimit *rl = ratelimit_new(10, 1.0 / 3600, 1);
	unsigned retry = 0;

	(void)state;
	assert_true(take(rl, "h", T0, &retry));
	assert_false(take(rl, "h", T0 + S(1), &retry));
	assert_int_equal(retry, 3599);
	assert_false(take(rl, "h", T0 + S(3599), &retry));
	assert_int_equal(retry, 1);
	assert_true(take(rl, "h", T0 + S(3600), &retry));

	/* 0.5/s: one every two seconds. */
	ratelimit_configure(rl, 0.5, 1);
	assert_true(take(rl, "f", T0, &retry));
	assert_false(take(rl, "f", T0 + S(0.5), &retry));
	assert_int_equal(retry, 2);
	assert_true(take(rl, "f", T0 + S(2), &retry));
	ratelimit_free(rl);
}

static void
test_clock_going_back(void **state)
{
	struct ratelimit *rl = ratelimit_new(10, 1, 1);
	unsigned retry = 0;

	(void)state;
	assert_true(take(rl, "k", T0, &retry));
	assert_false(take(rl, "k", T0 - S(100), &retry));
	assert_false(take(rl, "k", T0, &retry));
	assert_true(take(rl, "k", T0 + S(1), &retry));
	ratelimit_free(rl);
}

static void
test_keys_are_bytes(void **state)
{
	struct ratelimit *rl = ratelimit_new(10, 1.0 / 60, 1);
	uint8_t a[16] = {0}, b[16] = {0};
	unsigned retry;

	(void)state;
	b[15] = 1;
	assert_true(ratelimit_take(rl, a, 16, T0, &retry));
	assert_true(ratelimit_take(rl, b, 16, T0, &retry));
	assert_false(ratelimit_take(rl, a, 16, T0, &retry));
	/* A key and its prefix are different clients. */
	assert_true(take(rl, "t:web", T0, &retry));
	assert_true(take(rl, "t:web1", T0, &retry));
	assert_true(take(rl, "t:we", T0, &retry));
	assert_false(take(rl, "t:web", T0, &retry));
	assert_int_equal(ratelimit_size(rl), 5);
	ratelimit_free(rl);
}

/*
 * Capacity 3, burst 1 and a rate too slow to matter, so a client that
 * is served again must have been forgotten.
 */
static void
test_evicts_least_recently_seen(void **state)
{
	struct ratelimit *rl = ratelimit_new(3, 1e-6, 1);
	unsigned retry;

	(void)state;
	assert_true(take(rl, "A", T0, &retry));
	assert_true(take(rl, "B", T0 + 1, &retry));
	assert_true(take(rl, "C", T0 + 2, &retry));
	assert_false(take(rl, "A", T0 + 3, &retry)); /* A seen again */
	assert_int_equal(ratelimit_evictions(rl), 0);
	assert_true(take(rl, "D", T0 + 4, &retry)); /* B goes */
	assert_int_equal(ratelimit_evictions(rl), 1);
	assert_int_equal(ratelimit_size(rl), 3);
	assert_false(take(rl, "A", T0 + 5, &retry));
	assert_false(take(rl, "C", T0 + 6, &retry));
	assert_false(take(rl, "D", T0 + 7, &retry));
	/* B was forgotten; coming back it starts with a full bucket. */
	assert_true(take(rl, "B", T0 + 8, &retry)); /* A goes */
	assert_true(take(rl, "A", T0 + 9, &retry)); /* C goes */
	assert_false(take(rl, "D", T0 + 10, &retry));
	assert_false(take(rl, "B", T0 + 11, &retry));
	assert_int_equal(ratelimit_evictions(rl), 3);
	ratelimit_free(rl);
}

/* A flood of distinct addresses: memory stays bounded, order kept. */
static void
test_flood_stays_bounded(void **state)
{
	enum { CAP = 1000, FLOOD = 100000 };
	struct ratelimit *rl = ratelimit_new(CAP, 6.0 / 60, 3);
	unsigned retry, i;
	uint8_t key[16] = {0};

	(void)state;
	assert_non_null(rl);
	for (i = 0; i < FLOOD; i++) {
		memcpy(key + 12, &i, sizeof(i));
		assert_true(ratelimit_take(rl, key, 16, T0 + i, &retry));
		assert_true(ratelimit_size(rl) <= CAP);
	}
	assert_int_equal(ratelimit_size(rl), CAP);
	assert_int_equal(ratelimit_evictions(rl), FLOOD - CAP);
	/* The newest CAP are remembered (each has 2 tokens left)... */
	for (i = FLOOD - CAP; i < FLOOD; i++) {
		memcpy(key + 12, &i, sizeof(i));
		assert_true(ratelimit_take(rl, key, 16, T0 + FLOOD, &retry));
		assert_true(ratelimit_take(rl, key, 16, T0 + FLOOD, &retry));
		assert_false(ratelimit_take(rl, key, 16, T0 + FLOOD, &retry));
	}
	/* ... and an old one was forgotten: a full bucket again. */
	i = 0;
	memcpy(key + 12, &i, sizeof(i));
	assert_true(ratelimit_take(rl, key, 16, T0 + FLOOD, &retry));
	assert_true(ratelimit_take(rl, key, 16, T0 + FLOOD, &retry));
	assert_true(ratelimit_take(rl, key, 16, T0 + FLOOD, &retry));
	assert_int_equal(ratelimit_size(rl), CAP);
	ratelimit_free(rl);
}

static void
test_reconfigure(void **state)
{
	struct ratelimit *rl = ratelimit_new(10, 1.0 / 60, 10);
	unsigned retry;

	(void)state;
	assert_true(take(rl, "x", T0, &retry)); /* 9 left */
	/* SIGHUP: burst 2. The 9 saved tokens are cut to 2. */
	ratelimit_configure(rl, 1.0 / 60, 2);
	assert_true(take(rl, "x", T0, &retry));
	assert_true(take(rl, "x", T0, &retry));
	assert_false(take(rl, "x", T0, &retry));
	assert_int_equal(retry, 60);
	/* A faster rate shortens the wait at once. */
	ratelimit_configure(rl, 1, 2);
	assert_false(take(rl, "x", T0, &retry));
	assert_int_equal(retry, 1);
	/* New clients get the new burst. */
	assert_true(take(rl, "y", T0, &retry));
	assert_true(take(rl, "y", T0, &retry));
	assert_false(take(rl, "y", T0, &retry));
	ratelimit_free(rl);
	ratelimit_free(NULL);
}

static void
test_capacity_one(void **state)
{
	struct ratelimit *rl = ratelimit_new(0, 1, 1);
	unsigned retry;

	(void)state;
	assert_non_null(rl);
	assert_true(take(rl, "a", T0, &retry));
	assert_true(take(rl, "b", T0, &retry));
	assert_true(take(rl, "a", T0, &retry));
	assert_int_equal(ratelimit_size(rl), 1);
	assert_int_equal(ratelimit_evictions(rl), 2);
	ratelimit_free(rl);
}

static void
expect_rate(const char *text, double want)
{
	double got = -1, off;

	if (rate_parse(text, &got) != 0)
		fail_msg("refused \"%s\"", text);
	off = got > want ? got - want : want - got;
	if (off > want * 1e-12)
		fail_msg("\"%s\": %g, not %g", text, got, want);
}

static void
test_rate_parse(void **state)
{
	static const char *const bad[] = {"", "6", "6/", "/s", "6/d", "6/mins",
	    "6 /min", "6/ min", "-1/s", "+1/s", "1e3/s", "0x10/s", ".5/s",
	    "5./s", "6/MIN", "1234567890/s", "6/min ", "1/s/s", NULL};
	double r = 42;
	size_t i;

	(void)state;
	expect_rate("6/min", 0.1);
	expect_rate("6/m", 0.1);
	expect_rate("10/s", 10);
	expect_rate("10/sec", 10);
	expect_rate("100/h", 100.0 / 3600);
	expect_rate("100/hour", 100.0 / 3600);
	expect_rate("0.5/s", 0.5);
	expect_rate("1.25/min", 1.25 / 60);
	expect_rate("999999999/s", 999999999);
	for (i = 0; bad[i] != NULL; i++)
		if (rate_parse(bad[i], &r) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
	assert_int_equal(rate_parse("0/s", &r), -ERANGE);
	assert_int_equal(rate_parse("0.000/min", &r), -ERANGE);
	assert_true(r == 42);
}

static void
test_shun_after_strikes(void **state)
{
	struct ratelimit *rl = ratelimit_new(16, 1, 1);
	const uint64_t s = 1000000000ULL, t0 = 100 * s;

	(void)state;
	assert_non_null(rl);
	assert_false(ratelimit_shunned(rl, "a", 1, t0));
	/* Impatient but not flooding: two 429s in one deadline. */
	ratelimit_shun(rl, "a", 1, t0, t0 + 10 * s);
	ratelimit_shun(rl, "a", 1, t0 + s, t0 + 10 * s);
	assert_false(ratelimit_shunned(rl, "a", 1, t0 + 2 * s));
	/* The third within the deadline: turned away until it passes. */
	ratelimit_shun(rl, "a", 1, t0 + 2 * s, t0 + 10 * s);
	assert_true(ratelimit_shunned(rl, "a", 1, t0 + 3 * s));
	assert_false(ratelimit_shunned(rl, "b", 1, t0 + 3 * s));
	assert_false(ratelimit_shunned(rl, "a", 1, t0 + 10 * s));
	/* After the deadline the count starts again. */
	ratelimit_shun(rl, "a", 1, t0 + 11 * s, t0 + 20 * s);
	assert_false(ratelimit_shunned(rl, "a", 1, t0 + 12 * s));
	ratelimit_free(rl);
}

static void
test_vouched_never_shunned(void **state)
{
	struct ratelimit *rl = ratelimit_new(16, 1, 1);
	const uint64_t s = 1000000000ULL, t0 = 100 * s;

	(void)state;
	assert_non_null(rl);
	/* An identified client was served from "a" until t0 + 5 s. */
	ratelimit_vouch(rl, "a", 1, t0, t0 + 5 * s);
	for (int i = 0; i < 5; i++)
		ratelimit_shun(rl, "a", 1, t0 + (uint64_t)i, t0 + 10 * s);
	assert_false(ratelimit_shunned(rl, "a", 1, t0 + s));
	/* The vouch over, the flood's own strikes count. */
	assert_true(ratelimit_shunned(rl, "a", 1, t0 + 6 * s));
	ratelimit_free(rl);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_burst_then_refusal),
	    cmocka_unit_test(test_refill_caps_at_burst),
	    cmocka_unit_test(test_slow_and_fractional_rates),
	    cmocka_unit_test(test_clock_going_back),
	    cmocka_unit_test(test_keys_are_bytes),
	    cmocka_unit_test(test_evicts_least_recently_seen),
	    cmocka_unit_test(test_flood_stays_bounded),
	    cmocka_unit_test(test_reconfigure),
	    cmocka_unit_test(test_capacity_one),
	    cmocka_unit_test(test_rate_parse),
	    cmocka_unit_test(test_shun_after_strikes),
	    cmocka_unit_test(test_vouched_never_shunned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

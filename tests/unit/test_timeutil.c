/* SPDX-License-Identifier: ISC */
/* test_timeutil.c: clocks move, sleeps end on time, stamps are RFC 3339. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "timeutil.h"

static void
test_clocks_advance(void **state)
{
	uint64_t m1, m2, r1, r2, b1, w1, c1, c2;

	(void)state;
	m1 = time_mono_ns();
	r1 = time_mono_raw_ns();
	b1 = time_boot_ns();
	w1 = time_wall_ns();
	c1 = time_thread_cpu_ns();
	/* Burn CPU until the thread clock moves, for at most a second. */
	do {
		c2 = time_thread_cpu_ns();
		m2 = time_mono_ns();
	} while (c2 == c1 && m2 - m1 < NSEC_PER_SEC);
	r2 = time_mono_raw_ns();

	assert_true(m1 > 0);
	assert_true(m2 > m1);
	assert_true(r1 > 0);
	assert_true(r2 > r1);
	assert_true(b1 >= m1); /* boottime also counts suspend */
	assert_true(c2 > c1);
	/* Wall clock after 2020-01-01 and before 2100: nanoseconds. */
	assert_true(w1 > 1577836800ULL * NSEC_PER_SEC);
	assert_true(w1 < 4102444800ULL * NSEC_PER_SEC);
}

static void
test_sleep_until(void **state)
{
	uint64_t start, end;

	(void)state;
	start = time_mono_ns();
	assert_int_equal(time_sleep_until_ns(start + 20 * NSEC_PER_MSEC), 0);
	end = time_mono_ns();
	assert_true(end >= start + 20 * NSEC_PER_MSEC);

	/* A deadline in the past returns 0 (at once: no clock bound here). */
	start = time_mono_ns();
	assert_int_equal(time_sleep_until_ns(start - NSEC_PER_SEC), 0);
	assert_int_equal(time_sleep_until_ns(0), 0);
}

static void
on_alarm(int sig)
{
	(void)sig;
}

static void
test_sleep_interrupted(void **state)
{
	struct sigaction sa;
	struct itimerval it;
	uint64_t start;
	int r;

	(void)state;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm; /* no SA_RESTART: the sleep must end */
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGALRM, &sa, NULL), 0);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_usec = 20000;
	assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);

	start = time_mono_ns();
	r = time_sleep_until_ns(start + 10 * NSEC_PER_SEC);
	assert_int_equal(r, -EINTR);
	signal(SIGALRM, SIG_DFL);
}

static void
expect_stamp(uint64_t ns, int digits, const char *want)
{
	char buf[32];
	int n;

	memset(buf, 'x', sizeof(buf));
	n = time_format_rfc3339(ns, digits, buf, sizeof(buf));
	assert_string_equal(buf, want);
	assert_int_equal(n, (int)strlen(want));
}

static void
test_rfc3339(void **state)
{
	/* 2026-11-26T05:15:26 UTC, plus 123456789 ns. */
	const uint64_t t = 1795670126ULL * NSEC_PER_SEC + 123456789;
	char buf[32];

	(void)state;
	expect_stamp(t, 0, "2026-11-26T05:15:26Z");
	expect_stamp(t, 3, "2026-11-26T05:15:26.123Z");
	expect_stamp(t, 6, "2026-11-26T05:15:26.123456Z");
	expect_stamp(t, 9, "2026-11-26T05:15:26.123456789Z");
	expect_stamp(0, 3, "1970-01-01T00:00:00.000Z");
	/* Leading zeros of the fraction are kept. */
	expect_stamp(5 * NSEC_PER_MSEC, 3, "1970-01-01T00:00:00.005Z");
	/* Leap day, end of a year. */
	expect_stamp(951782400ULL * NSEC_PER_SEC, 0, "2000-02-29T00:00:00Z");
	expect_stamp(1704067199ULL * NSEC_PER_SEC + 999999999, 9,
	    "2023-12-31T23:59:59.999999999Z");
	/* The largest input still fits the documented 32 bytes. */
	assert_true(time_format_rfc3339(UINT64_MAX, 9, buf, 32) > 0);

	/* Exactly fits; one byte short; bad digit counts. */
	assert_int_equal(time_format_rfc3339(t, 0, buf, 21), 20);
	memcpy(buf, "untouched", 10);
	assert_int_equal(time_format_rfc3339(t, 0, buf, 20), -ENOBUFS);
	assert_int_equal(time_format_rfc3339(t, 0, buf, 0), -ENOBUFS);
	assert_string_equal(buf, "untouched");
	assert_int_equal(time_format_rfc3339(t, 2, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(time_format_rfc3339(t, -3, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(time_format_rfc3339(t, 12, buf, sizeof(buf)), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clocks_advance),
	    cmocka_unit_test(test_sleep_until),
	    cmocka_unit_test(test_sleep_interrupted),
	    cmocka_unit_test(test_rfc3339),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

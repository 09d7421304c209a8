/* SPDX-License-Identifier: ISC */
/* test_parse.c: the checked parsers accept what users write, reject junk. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "parse.h"

#define SENTINEL 0x5a5a5a5a5a5a5a5aULL

static void
expect_duration(const char *s, uint64_t want)
{
	uint64_t got = SENTINEL;

	print_message("duration \"%s\"\n", s);
	assert_int_equal(parse_duration_ns(s, &got), 0);
	assert_int_equal(got, want);
}

static void
expect_duration_error(const char *s, int error)
{
	uint64_t got = SENTINEL;

	print_message("duration \"%s\"\n", s);
	assert_int_equal(parse_duration_ns(s, &got), error);
	assert_int_equal(got, SENTINEL); /* output untouched on failure */
}

static void
expect_size(const char *s, uint64_t want)
{
	uint64_t got = SENTINEL;

	print_message("size \"%s\"\n", s);
	assert_int_equal(parse_size(s, &got), 0);
	assert_int_equal(got, want);
}

static void
expect_size_error(const char *s, int error)
{
	uint64_t got = SENTINEL;

	print_message("size \"%s\"\n", s);
	assert_int_equal(parse_size(s, &got), error);
	assert_int_equal(got, SENTINEL);
}

static void
test_u64(void **state)
{
	uint64_t v = SENTINEL;
	uint32_t v32 = 7;

	(void)state;
	assert_int_equal(parse_u64("0", 0, UINT64_MAX, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_u64("42", 0, UINT64_MAX, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(
	    parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	assert_int_equal(v, UINT64_MAX);

	v = SENTINEL;
	assert_int_equal(
	    parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(
	    parse_u64("99999999999999999999", 0, UINT64_MAX, &v), -ERANGE);
	/* strtoull would accept these, and wrap "-1" to UINT64_MAX. */
	assert_int_equal(parse_u64("-1", 0, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(parse_u64("+1", 0, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(parse_u64(" 1", 0, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(parse_u64("1 ", 0, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(parse_u64("0x10", 0, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(parse_u64("", 0, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(parse_u64("12a", 0, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(parse_u64(NULL, 0, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(parse_u64("5", 10, 20, &v), -ERANGE);
	assert_int_equal(parse_u64("21", 10, 20, &v), -ERANGE);
	assert_int_equal(v, SENTINEL);
	assert_int_equal(parse_u64("20", 10, 20, &v), 0);
	assert_int_equal(v, 20);

	assert_int_equal(parse_u32("4294967295", 0, UINT32_MAX, &v32), 0);
	assert_int_equal(v32, UINT32_MAX);
	assert_int_equal(parse_u32("4294967296", 0, UINT32_MAX, &v32), -ERANGE);
	assert_int_equal(parse_u32("-0", 0, UINT32_MAX, &v32), -EINVAL);
	assert_int_equal(v32, UINT32_MAX);
}

static void
test_duration(void **state)
{
	(void)state;
	expect_duration("30s", 30000000000ULL);
	expect_duration("30", 30000000000ULL);
	expect_duration("5m", 300000000000ULL);
	expect_duration("1h", 3600000000000ULL);
	expect_duration("1d", 86400000000000ULL);
	expect_duration("0.5", 500000000ULL);
	expect_duration("1.5s", 1500000000ULL);
	expect_duration("250ms", 250000000ULL);
	expect_duration("100us", 100000ULL);
	expect_duration("7ns", 7);
	expect_duration("0", 0);
	expect_duration("1.5m", 90000000000ULL);
	expect_duration("0.25h", 900000000000ULL);
	/* Below one nanosecond is truncated, not rounded. */
	expect_duration("1.9ns", 1);
	expect_duration("0.0000000019", 1);
	/* A third of an hour, to far more digits than a double holds. */
	expect_duration("0.33333333333333333333333333h", 1199999999999ULL);
	/* The largest value and one past it. */
	expect_duration("18446744073709551615ns", UINT64_MAX);
	expect_duration_error("18446744073709551616ns", -ERANGE);
	expect_duration_error("18446744073709551616", -ERANGE);
	expect_duration_error("99999999999999999999", -ERANGE);
	expect_duration_error("18446744073.709551616s", -ERANGE);
	expect_duration_error("213504d", -ERANGE);

	expect_duration_error("-5s", -EINVAL);
	expect_duration_error("+5s", -EINVAL);
	expect_duration_error(" 5s", -EINVAL);
	expect_duration_error("5s ", -EINVAL);
	expect_duration_error("5 s", -EINVAL);
	expect_duration_error("5x", -EINVAL);
	expect_duration_error("5S", -EINVAL);
	expect_duration_error("5sec", -EINVAL);
	expect_duration_error("", -EINVAL);
	expect_duration_error("s", -EINVAL);
	expect_duration_error("1.5.5s", -EINVAL);
	expect_duration_error("1.s", -EINVAL);
	expect_duration_error(".5s", -EINVAL);
	expect_duration_error("1,5s", -EINVAL);
	expect_duration_error("1e3s", -EINVAL);
	/* Junk wins over overflow: the user's mistake is the junk. */
	expect_duration_error("99999999999999999999x", -EINVAL);
	expect_duration_error(NULL, -EINVAL);
}

static void
test_size(void **state)
{
	(void)state;
	expect_size("0", 0);
	expect_size("512", 512);
	expect_size("512B", 512);
	expect_size("64K", 65536);
	expect_size("64k", 65536);
	expect_size("64KB", 65536);
	expect_size("64KiB", 65536);
	expect_size("5M", 5242880);
	expect_size("5MiB", 5242880);
	expect_size("2G", 2147483648ULL);
	expect_size("3T", 3298534883328ULL);
	expect_size("16777215T", 16777215ULL << 40);
	expect_size("18446744073709551615", UINT64_MAX);

	expect_size_error("16777216T", -ERANGE);
	expect_size_error("18446744073709551616", -ERANGE);
	expect_size_error("", -EINVAL);
	expect_size_error("K", -EINVAL);
	expect_size_error("-1K", -EINVAL);
	expect_size_error("+1K", -EINVAL);
	expect_size_error(" 1K", -EINVAL);
	expect_size_error("1K ", -EINVAL);
	expect_size_error("1.5K", -EINVAL);
	expect_size_error("1X", -EINVAL);
	expect_size_error("1KBB", -EINVAL);
	expect_size_error("1iB", -EINVAL);
	expect_size_error("1Ki", -EINVAL);
	expect_size_error(NULL, -EINVAL);
}

static void
test_percent(void **state)
{
	double f = -1;

	(void)state;
	assert_int_equal(parse_percent("12.5", &f), 0);
	assert_true(f == 0.125);
	assert_int_equal(parse_percent("12.5%", &f), 0);
	assert_true(f == 0.125);
	assert_int_equal(parse_percent("0", &f), 0);
	assert_true(f == 0.0);
	assert_int_equal(parse_percent("100%", &f), 0);
	assert_true(f == 1.0);
	assert_int_equal(parse_percent("100.000", &f), 0);
	assert_true(f == 1.0);
	assert_int_equal(parse_percent("33.3", &f), 0);
	assert_true(f > 0.33299999 && f < 0.33300001);

	f = -1;
	assert_int_equal(parse_percent("100.01", &f), -ERANGE);
	assert_int_equal(parse_percent("101", &f), -ERANGE);
	assert_int_equal(parse_percent("99999999999999999999", &f), -ERANGE);
	assert_int_equal(parse_percent("-1", &f), -EINVAL);
	assert_int_equal(parse_percent("", &f), -EINVAL);
	assert_int_equal(parse_percent("%", &f), -EINVAL);
	assert_int_equal(parse_percent("12,5", &f), -EINVAL);
	assert_int_equal(parse_percent("12.", &f), -EINVAL);
	assert_int_equal(parse_percent("12%%", &f), -EINVAL);
	assert_int_equal(parse_percent("nan", &f), -EINVAL);
	assert_true(f == -1);
}

static void
test_mode(void **state)
{
	uint32_t m = 1;

	(void)state;
	assert_int_equal(parse_mode("0644", &m), 0);
	assert_int_equal(m, 0644);
	assert_int_equal(parse_mode("644", &m), 0);
	assert_int_equal(m, 0644);
	assert_int_equal(parse_mode("7777", &m), 0);
	assert_int_equal(m, 07777);
	assert_int_equal(parse_mode("0", &m), 0);
	assert_int_equal(m, 0);

	m = 1;
	assert_int_equal(parse_mode("10000", &m), -ERANGE);
	assert_int_equal(parse_mode("7777777777777777777777", &m), -ERANGE);
	assert_int_equal(parse_mode("0648", &m), -EINVAL);
	assert_int_equal(parse_mode("0o644", &m), -EINVAL);
	assert_int_equal(parse_mode("-644", &m), -EINVAL);
	assert_int_equal(parse_mode("", &m), -EINVAL);
	assert_int_equal(parse_mode("rw-r--r--", &m), -EINVAL);
	assert_int_equal(m, 1);
}

static void
test_bool(void **state)
{
	static const char *const truthy[] = {
	    "yes", "YES", "true", "True", "on", "On", "1"};
	static const char *const falsy[] = {
	    "no", "NO", "false", "FALSE", "off", "oFF", "0"};
	size_t i;
	int b;

	(void)state;
	for (i = 0; i < sizeof(truthy) / sizeof(truthy[0]); i++) {
		b = -1;
		assert_int_equal(parse_bool(truthy[i], &b), 0);
		assert_int_equal(b, 1);
	}
	for (i = 0; i < sizeof(falsy) / sizeof(falsy[0]); i++) {
		b = -1;
		assert_int_equal(parse_bool(falsy[i], &b), 0);
		assert_int_equal(b, 0);
	}
	b = -1;
	assert_int_equal(parse_bool("", &b), -EINVAL);
	assert_int_equal(parse_bool("y", &b), -EINVAL);
	assert_int_equal(parse_bool("yess", &b), -EINVAL);
	assert_int_equal(parse_bool("tru", &b), -EINVAL);
	assert_int_equal(parse_bool("2", &b), -EINVAL);
	assert_int_equal(parse_bool(" yes", &b), -EINVAL);
	assert_int_equal(b, -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_u64),
	    cmocka_unit_test(test_duration),
	    cmocka_unit_test(test_size),
	    cmocka_unit_test(test_percent),
	    cmocka_unit_test(test_mode),
	    cmocka_unit_test(test_bool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: ISC */
/*
 * The -P word: which words are CPU lists, and which CPUs of a list a
 * machine or a history does not have.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cmdopts.h"

static void
test_looks_like(void **state)
{
	(void)state;
	assert_true(cpu_list_looks_like("ALL"));
	assert_true(cpu_list_looks_like("all"));
	assert_true(cpu_list_looks_like("1"));
	assert_true(cpu_list_looks_like("0,2-3"));
	/* Mistakes in a list are lists, to be refused as such. */
	assert_true(cpu_list_looks_like("ALL,1"));
	assert_true(cpu_list_looks_like("2,x"));
	assert_true(cpu_list_looks_like("3-"));
	/* Intervals stay intervals. */
	assert_false(cpu_list_looks_like("0.5"));
	assert_false(cpu_list_looks_like("5s"));
	assert_false(cpu_list_looks_like("100ms"));
	assert_false(cpu_list_looks_like("1.5,2"));
}

static void
test_missing(void **state)
{
	static const unsigned ids[] = {0, 1, 3};
	struct cpu_list l;
	char buf[64];
	bool some;

	(void)state;
	assert_int_equal(cpu_list_parse("0-7,9", &l), 0);
	assert_int_equal(
	    cpu_list_missing(&l, ids, 3, buf, sizeof(buf), &some), 6);
	assert_string_equal(buf, "2, 4-7, 9");
	assert_true(some);

	assert_int_equal(cpu_list_parse("5", &l), 0);
	assert_int_equal(
	    cpu_list_missing(&l, ids, 3, buf, sizeof(buf), &some), 1);
	assert_string_equal(buf, "5");
	assert_false(some);

	assert_int_equal(cpu_list_parse("ALL", &l), 0);
	assert_int_equal(
	    cpu_list_missing(&l, ids, 3, buf, sizeof(buf), &some), 0);
	assert_string_equal(buf, "");
	assert_true(some);

	/* A long answer is cut, never overrun. */
	assert_int_equal(cpu_list_parse("4,6,8,10,12,14,16", &l), 0);
	assert_int_equal(cpu_list_missing(&l, ids, 3, buf, 8, NULL), 7);
	assert_string_equal(buf, "4, 6, 8");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_looks_like),
	    cmocka_unit_test(test_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

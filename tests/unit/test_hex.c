/* SPDX-License-Identifier: ISC */
/* test_hex.c: lowercase hex out; digits in, with or without A-F. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hex.h"

static void
test_encode(void **state)
{
	static const unsigned char in[] = {0x00, 0x0f, 0xa5, 0xff};
	char out[16] = "xxxxxxxxxxxxxxx";

	(void)state;
	assert_ptr_equal(hex_encode(out, in, sizeof(in)), out + 8);
	assert_memory_equal(out, "000fa5ffx", 9); /* no NUL written */
	assert_ptr_equal(hex_encode(out, in, 0), out);
}

static void
test_digit(void **state)
{
	(void)state;
	assert_int_equal(hex_digit('0', false), 0);
	assert_int_equal(hex_digit('9', false), 9);
	assert_int_equal(hex_digit('a', false), 10);
	assert_int_equal(hex_digit('f', false), 15);
	assert_int_equal(hex_digit('F', false), -1);
	assert_int_equal(hex_digit('F', true), 15);
	assert_int_equal(hex_digit('A', true), 10);
	assert_int_equal(hex_digit('g', true), -1);
	assert_int_equal(hex_digit('G', true), -1);
	assert_int_equal(hex_digit('/', true), -1);
	assert_int_equal(hex_digit(':', true), -1);
	assert_int_equal(hex_digit('\0', true), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_encode),
	    cmocka_unit_test(test_digit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

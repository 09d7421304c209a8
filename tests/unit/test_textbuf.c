/* SPDX-License-Identifier: ISC */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "textbuf.h"

/* A buffer that starts too small grows and keeps every byte, in order. */
static void
test_grows(void **state)
{
	struct textbuf t;
	char want[1024] = "";

	(void)state;
	assert_int_equal(textbuf_init(&t, 4), 0);
	for (int i = 0; i < 100; i++) {
		char piece[16];

		snprintf(piece, sizeof(piece), "m%d ", i);
		strcat(want, piece);
		textbuf_printf(&t, "m%d ", i);
	}
	assert_int_equal(t.error, 0);
	assert_int_equal(t.len, strlen(want));
	assert_string_equal(t.buf, want);
	assert_true(t.size > t.len);
	textbuf_free(&t);
	assert_null(t.buf);
}

/* Nothing printed: an empty string, not garbage. */
static void
test_empty(void **state)
{
	struct textbuf t;

	(void)state;
	assert_int_equal(textbuf_init(&t, 16), 0);
	assert_int_equal(t.len, 0);
	assert_string_equal(t.buf, "");
	textbuf_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_grows),
	    cmocka_unit_test(test_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

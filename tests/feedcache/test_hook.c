/* SPDX-License-Identifier: ISC */
/*
 * Unit tests for on_change's word splitting (no shell).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hook.h"

static int
split(const char *text, char *buf, char **argv, char *why)
{
	snprintf(buf, 512, "%s", text);
	return hook_split(buf, argv, why, 200);
}

static void
test_split(void **state)
{
	char buf[512], why[200], *argv[HOOK_ARGS_MAX + 1];

	(void)state;
	assert_int_equal(split("  /bin/x  a\tb ", buf, argv, why), 3);
	assert_string_equal(argv[0], "/bin/x");
	assert_string_equal(argv[1], "a");
	assert_string_equal(argv[2], "b");
	assert_null(argv[3]);
	assert_int_equal(
	    split("/bin/x 'a b' \"c \\\"d\\\" \\\\ \\n\" e'f g'h ''", buf, argv,
	        why),
	    5);
	assert_string_equal(argv[1], "a b");
	assert_string_equal(argv[2], "c \"d\" \\ \\n");
	assert_string_equal(argv[3], "ef gh");
	assert_string_equal(argv[4], "");
	/* No shell: $, *, > and | are plain characters. */
	assert_int_equal(split("/bin/x $HOME * >out |y", buf, argv, why), 5);
	assert_string_equal(argv[1], "$HOME");
	assert_string_equal(argv[3], ">out");

	assert_int_equal(split("   ", buf, argv, why), -EINVAL);
	assert_non_null(strstr(why, "empty"));
	assert_int_equal(split("bin/x", buf, argv, why), -EINVAL);
	assert_non_null(strstr(why, "absolute path"));
	assert_int_equal(split("/bin/x 'a", buf, argv, why), -EINVAL);
	assert_non_null(strstr(why, "unclosed ' quote"));
	assert_int_equal(split("/bin/x \"a\\\"", buf, argv, why), -EINVAL);
	assert_non_null(strstr(why, "unclosed \" quote"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

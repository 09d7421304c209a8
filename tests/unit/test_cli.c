/* SPDX-License-Identifier: ISC */
/* test_cli.c: a bad option is named as the user typed it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "cli.h"

static const struct option opts[] = {
    {"config", required_argument, NULL, 'c'},
    {"count", required_argument, NULL, 'n'},
    {"json", no_argument, NULL, 'j'},
    CLI_HELP_VERSION,
    {NULL, 0, NULL, 0},
};

/*
 * Parses the NULL-terminated words after "prog" with "+c:jhV" (or
 * "c:jhV" when permute) and returns c.why after the first bad option,
 * or "" when there was none.
 */
static const char *
first_error(struct cli *c, bool permute, ...)
{
	static char *argv[16];
	va_list ap;
	int argc = 1, ch;

	argv[0] = "prog";
	va_start(ap, permute);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	assert_int_equal(cli_start(c, permute ? "c:jhV" : "+c:jhV", opts), 0);
	while ((ch = cli_next(c, argc, argv)) != -1)
		if (ch == '?')
			return c->why;
	return "";
}

static void
test_bad_options_named(void **state)
{
	struct cli c;

	(void)state;
	assert_string_equal(
	    first_error(&c, true, "-x", NULL), "unknown option '-x'");
	assert_string_equal(
	    first_error(&c, true, "-jx", NULL), "unknown option '-x'");
	/* The group is still being read: not the long option before it. */
	assert_string_equal(first_error(&c, true, "--json", "-xj", NULL),
	    "unknown option '-x'");
	assert_string_equal(first_error(&c, true, "--bogus=1", NULL),
	    "unknown option '--bogus'");
	assert_string_equal(first_error(&c, true, "-j", "-c", NULL),
	    "option '-c' needs a value");
	assert_string_equal(first_error(&c, true, "--config", NULL),
	    "option '--config' needs a value");
	assert_string_equal(first_error(&c, true, "--json=yes", NULL),
	    "option '--json' takes no value");
	assert_string_equal(first_error(&c, true, "--co", "x", NULL),
	    "option '--co' is ambiguous (--config, --count)");
	/* An unambiguous abbreviation is the option. */
	assert_string_equal(first_error(&c, true, "--conf", "x", NULL), "");
}

static void
test_operands(void **state)
{
	struct cli c;
	char *argv[] = {"prog", "-j", "one", "two", NULL};

	(void)state;
	/* With '+' the scan stops at the first operand. */
	assert_string_equal(first_error(&c, false, "op", "-x", NULL), "");
	assert_int_equal(optind, 1);

	cli_start(&c, "jhV", opts);
	while (cli_next(&c, 4, argv) != -1)
		;
	assert_false(cli_too_many(&c, 4, argv, 2));
	assert_true(cli_too_many(&c, 4, argv, 1));
	assert_string_equal(c.why, "extra operand 'two'");
	assert_true(cli_too_many(&c, 4, argv, 0));
	assert_string_equal(c.why, "extra operand 'one'");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad_options_named),
	    cmocka_unit_test(test_operands),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

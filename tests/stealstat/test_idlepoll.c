/* SPDX-License-Identifier: ISC */
/*
 * Idle polling detection: which guests' idle vCPUs can accrue steal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "idlepoll.h"

static void
test_halting_guests(void **state)
{
	char buf[64];

	(void)state;
	assert_false(idle_poll_describe(NULL, NULL, NULL, buf, sizeof(buf)));
	assert_false(idle_poll_describe(
	    "acpi_idle\n", NULL, "ro quiet console=ttyS0\n", buf, sizeof(buf)));
	/* haltpoll with its poll window set to 0 just halts. */
	assert_false(idle_poll_describe("haltpoll\n", "0\n",
	    "cpuidle_haltpoll.force=1 haltpoll.guest_halt_poll_ns=0\n", buf,
	    sizeof(buf)));
	/* Not a kernel parameter: an init argument, or part of a word. */
	assert_false(idle_poll_describe(
	    NULL, NULL, "quiet -- idle=poll\n", buf, sizeof(buf)));
	assert_false(
	    idle_poll_describe(NULL, NULL, "xidle=poll\n", buf, sizeof(buf)));
	assert_false(idle_poll_describe(
	    "haltpollx\n", "200000\n", NULL, buf, sizeof(buf)));
	assert_false(
	    idle_poll_describe("haltpoll\n", "junk\n", NULL, buf, sizeof(buf)));
}

static void
test_polling_guests(void **state)
{
	char buf[64];

	(void)state;
	assert_true(idle_poll_describe(
	    "haltpoll\n", "200000\n", NULL, buf, sizeof(buf)));
	assert_string_equal(buf, "cpuidle haltpoll, up to 200 us");
	assert_true(
	    idle_poll_describe("haltpoll", NULL, NULL, buf, sizeof(buf)));
	assert_string_equal(buf, "cpuidle haltpoll");
	assert_true(idle_poll_describe("acpi_idle\n", NULL,
	    "BOOT_IMAGE=/vmlinuz idle=poll quiet\n", buf, sizeof(buf)));
	assert_string_equal(buf, "idle=poll");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_halting_guests),
	    cmocka_unit_test(test_polling_guests),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

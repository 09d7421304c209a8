/* SPDX-License-Identifier: ISC */
/*
 * Address classes: every range the connection check must know, the
 * IPv4-mapped and NAT64 spellings, the edges of each range.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "addr.h"

static void
test_classes(void **state)
{
	static const struct {
		const char *addr;
		enum addr_class c;
	} cases[] = {
	    {"8.8.8.8", ADDR_PUBLIC}, {"203.0.113.10", ADDR_PUBLIC},
	    {"127.0.0.1", ADDR_LOOPBACK}, {"127.255.255.254", ADDR_LOOPBACK},
	    {"10.0.0.1", ADDR_PRIVATE}, {"172.15.255.255", ADDR_PUBLIC},
	    {"172.16.0.0", ADDR_PRIVATE}, {"172.31.255.255", ADDR_PRIVATE},
	    {"172.32.0.0", ADDR_PUBLIC}, {"192.168.1.1", ADDR_PRIVATE},
	    {"192.169.0.1", ADDR_PUBLIC}, {"100.63.255.255", ADDR_PUBLIC},
	    {"100.64.0.0", ADDR_PRIVATE}, {"100.127.255.255", ADDR_PRIVATE},
	    {"100.128.0.0", ADDR_PUBLIC}, {"169.254.169.254", ADDR_LINK_LOCAL},
	    {"169.253.255.255", ADDR_PUBLIC}, {"0.0.0.0", ADDR_NEVER},
	    {"0.1.2.3", ADDR_NEVER}, {"224.0.0.1", ADDR_NEVER},
	    {"239.255.255.255", ADDR_NEVER}, {"240.0.0.1", ADDR_NEVER},
	    {"255.255.255.255", ADDR_NEVER}, {"223.255.255.255", ADDR_PUBLIC},
	    {"::1", ADDR_LOOPBACK}, {"::", ADDR_NEVER},
	    {"::169.254.169.254", ADDR_NEVER},
	    {"::ffff:169.254.169.254", ADDR_LINK_LOCAL},
	    {"::ffff:127.0.0.1", ADDR_LOOPBACK},
	    {"::ffff:10.1.2.3", ADDR_PRIVATE}, {"::ffff:8.8.8.8", ADDR_PUBLIC},
	    {"64:ff9b::a9fe:a9fe", ADDR_LINK_LOCAL},
	    {"64:ff9b::808:808", ADDR_PUBLIC}, {"fd00:ec2::254", ADDR_PRIVATE},
	    {"fc00::1", ADDR_PRIVATE}, {"fe80::1", ADDR_LINK_LOCAL},
	    {"febf::1", ADDR_LINK_LOCAL}, {"fec0::1", ADDR_PRIVATE},
	    {"ff02::1", ADDR_NEVER}, {"2001:db8::1", ADDR_PUBLIC},
	    {"2600::1", ADDR_PUBLIC}, {"not an address", ADDR_NEVER},
	    {"2852039166", ADDR_NEVER}, /* text is never resolved here */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum addr_class c = addr_classify_text(cases[i].addr);

		if (c != cases[i].c)
			fail_msg("%s: %s, expected %s", cases[i].addr,
			    addr_class_name(c), addr_class_name(cases[i].c));
	}
}

static void
test_rule(void **state)
{
	(void)state;
	/* Public is always allowed; the unspecified never. */
	assert_true(addr_allowed(ADDR_PUBLIC, ADDR_LOOPBACK, false));
	assert_false(addr_allowed(ADDR_NEVER, ADDR_NEVER, true));
	/* A public origin never reaches an internal class... */
	for (int c = ADDR_LOOPBACK; c <= ADDR_LINK_LOCAL; c++) {
		assert_false(addr_allowed(c, ADDR_PUBLIC, false));
		assert_false(addr_allowed(c, ADDR_UNKNOWN, false));
		/* ...unless the operator opts in. */
		assert_true(addr_allowed(c, ADDR_PUBLIC, true));
		/* An internal origin reaches its own class only. */
		assert_true(addr_allowed(c, c, false));
	}
	assert_false(addr_allowed(ADDR_LINK_LOCAL, ADDR_PRIVATE, false));
	assert_false(addr_allowed(ADDR_PRIVATE, ADDR_LOOPBACK, false));
	/* Class names round-trip through the meta file. */
	for (int c = ADDR_PUBLIC; c < ADDR_NEVER; c++)
		assert_int_equal(addr_class_parse(addr_class_name(c)), c);
	assert_int_equal(addr_class_parse("bogus"), ADDR_UNKNOWN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_classes),
	    cmocka_unit_test(test_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

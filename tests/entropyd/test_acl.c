/* SPDX-License-Identifier: ISC */
/*
 * Access lists: which addresses a range admits, which ranges are refused
 * as typos, how clients are keyed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "acl.h"

/* A socket address for text, as accept(2) would fill it. */
static struct sockaddr_storage
addr(const char *text)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else {
		assert_int_equal(
		    inet_pton(AF_INET6, text, &sin6->sin6_addr), 1);
		sin6->sin6_family = AF_INET6;
	}
	return ss;
}

static bool
matches(const struct acl *acl, const char *text)
{
	struct sockaddr_storage ss = addr(text);

	return acl_match(acl, (struct sockaddr *)&ss);
}

static struct acl
acl_of(const char *const *ranges)
{
	struct acl acl = {0};
	struct cidr c;

	for (; *ranges != NULL; ranges++) {
		assert_int_equal(cidr_parse(*ranges, &c), 0);
		assert_int_equal(acl_add(&acl, &c), 0);
	}
	return acl;
}

static void
test_parse_forms(void **state)
{
	struct cidr c;

	(void)state;
	assert_int_equal(cidr_parse("10.0.0.0/8", &c), 0);
	assert_int_equal(c.prefix, 104);
	assert_int_equal(c.addr[10], 0xff);
	assert_int_equal(c.addr[11], 0xff);
	assert_int_equal(c.addr[12], 10);

	assert_int_equal(cidr_parse("192.0.2.7", &c), 0);
	assert_int_equal(c.prefix, 128);
	assert_int_equal(cidr_parse("::1", &c), 0);
	assert_int_equal(c.prefix, 128);
	assert_int_equal(cidr_parse("fd00::/8", &c), 0);
	assert_int_equal(c.prefix, 8);
	assert_int_equal(c.addr[0], 0xfd);
	assert_int_equal(cidr_parse("0.0.0.0/0", &c), 0);
	assert_int_equal(c.prefix, 96);
	assert_int_equal(cidr_parse("::/0", &c), 0);
	assert_int_equal(c.prefix, 0);
	assert_int_equal(cidr_parse("2001:db8::/32", &c), 0);
	assert_int_equal(cidr_parse("::ffff:10.0.0.0/104", &c), 0);
}

static void
test_parse_refuses(void **state)
{
	static const char *const bad[] = {"", "/8", "10.0.0.0/", "10.0.0.0/-1",
	    "10.0.0.0/+8", "10.0.0.0/8/8", "10.0.0.0 /8", " 10.0.0.0/8",
	    "10.0.0/8", "10.0.0.256", "junk", "fe80::1%eth0", "10.0.0.0/8x",
	    "::1/0x80", "1111:2222:3333:4444:5555:6666:7777:8888:9999/128",
	    NULL};
	struct cidr c, untouched;
	size_t i;

	(void)state;
	memset(&untouched, 0x5a, sizeof(untouched));
	for (i = 0; bad[i] != NULL; i++) {
		c = untouched;
		if (cidr_parse(bad[i], &c) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_memory_equal(&c, &untouched, sizeof(c));
	}
	assert_int_equal(cidr_parse(NULL, &c), -EINVAL);
	/* The reason is told apart: a length too long, host bits set. */
	c = untouched;
	assert_int_equal(cidr_parse("10.0.0.0/33", &c), -ERANGE);
	assert_int_equal(cidr_parse("::/129", &c), -ERANGE);
	assert_int_equal(
	    cidr_parse("1.2.3.4/99999999999999999999", &c), -ERANGE);
	assert_int_equal(cidr_parse("10.0.0.1/8", &c), -EDOM);
	assert_int_equal(cidr_parse("fd00::1/8", &c), -EDOM);
	assert_memory_equal(&c, &untouched, sizeof(c));
}

static void
test_match_v4(void **state)
{
	static const char *const ranges[] = {
	    "10.0.0.0/8", "192.0.2.7", "198.51.100.128/25", NULL};
	struct acl acl = acl_of(ranges);

	(void)state;
	assert_true(matches(&acl, "10.0.0.0"));
	assert_true(matches(&acl, "10.255.255.255"));
	assert_false(matches(&acl, "11.0.0.0"));
	assert_false(matches(&acl, "9.255.255.255"));
	assert_true(matches(&acl, "192.0.2.7"));
	assert_false(matches(&acl, "192.0.2.8"));
	assert_true(matches(&acl, "198.51.100.128"));
	assert_true(matches(&acl, "198.51.100.255"));
	assert_false(matches(&acl, "198.51.100.127"));
	/* The same clients arriving on a dual-stack socket. */
	assert_true(matches(&acl, "::ffff:10.1.2.3"));
	assert_false(matches(&acl, "::ffff:11.1.2.3"));
	assert_true(matches(&acl, "::ffff:198.51.100.200"));
	/* A v4 range says nothing about native IPv6. */
	assert_false(matches(&acl, "::a01:203"));
	assert_false(matches(&acl, "::1"));
	acl_free(&acl);
}

static void
test_match_v6(void **state)
{
	static const char *const ranges[] = {
	    "fd00::/8", "2001:db8:1::/48", "::1", NULL};
	struct acl acl = acl_of(ranges);

	(void)state;
	assert_true(matches(&acl, "fd12:3456::1"));
	assert_false(matches(&acl, "fe00::1"));
	assert_true(matches(&acl, "2001:db8:1:ffff::1"));
	assert_false(matches(&acl, "2001:db8:2::1"));
	assert_true(matches(&acl, "::1"));
	assert_false(matches(&acl, "::2"));
	assert_false(matches(&acl, "10.0.0.1"));
	assert_false(matches(&acl, "127.0.0.1"));
	acl_free(&acl);
}

static void
test_match_everything_and_nothing(void **state)
{
	static const char *const all_v4[] = {"0.0.0.0/0", NULL};
	static const char *const all[] = {"::/0", NULL};
	struct acl acl = {0}, v4 = acl_of(all_v4), any = acl_of(all);
	struct sockaddr_un_like {
		sa_family_t family;
		char path[32];
	} other = {AF_UNIX, "/run/x"};

	(void)state;
	assert_false(matches(&acl, "10.0.0.1"));
	assert_true(matches(&v4, "203.0.113.9"));
	assert_false(matches(&v4, "2001:db8::1"));
	assert_true(matches(&any, "2001:db8::1"));
	assert_true(matches(&any, "203.0.113.9"));
	assert_false(acl_match(&any, (struct sockaddr *)&other));
	assert_false(acl_match(&any, NULL));
	acl_free(&v4);
	acl_free(&any);
	acl_free(&acl);
	acl_free(NULL);
}

static void
test_many_ranges(void **state)
{
	struct acl acl = {0};
	struct cidr c;
	char text[32];
	int i;

	(void)state;
	for (i = 0; i < 200; i++) {
		snprintf(text, sizeof(text), "10.%d.0.0/16", i);
		assert_int_equal(cidr_parse(text, &c), 0);
		assert_int_equal(acl_add(&acl, &c), 0);
	}
	assert_int_equal(acl.count, 200);
	assert_true(matches(&acl, "10.199.3.4"));
	assert_false(matches(&acl, "10.200.3.4"));
	acl_free(&acl);
	assert_null(acl.ranges);
	assert_int_equal(acl.count, 0);
}

static void
key_of(const char *text, uint8_t key[16])
{
	struct sockaddr_storage ss = addr(text);

	acl_client_key((struct sockaddr *)&ss, 64, key);
}

static void
key_by(const char *text, unsigned prefix, uint8_t key[16])
{
	struct sockaddr_storage ss = addr(text);

	acl_client_key((struct sockaddr *)&ss, prefix, key);
}

static void
test_client_key(void **state)
{
	uint8_t a[16], b[16];

	(void)state;
	/* IPv4: every address its own client. */
	key_of("192.0.2.1", a);
	key_of("192.0.2.2", b);
	assert_memory_not_equal(a, b, 16);
	/* ... and the same client over a dual-stack socket. */
	key_of("::ffff:192.0.2.1", b);
	assert_memory_equal(a, b, 16);
	/* IPv6: one /64, one client. */
	key_of("2001:db8:0:1::1", a);
	key_of("2001:db8:0:1:ffff:ffff:ffff:ffff", b);
	assert_memory_equal(a, b, 16);
	key_of("2001:db8:0:2::1", b);
	assert_memory_not_equal(a, b, 16);
	/* ipv6_prefix = 128: every address its own client. */
	key_by("2001:db8:0:1::1", 128, a);
	key_by("2001:db8:0:1::2", 128, b);
	assert_memory_not_equal(a, b, 16);
	/* A prefix that is not a whole byte: /60 keeps 4 bits of byte 7. */
	key_by("2001:db8:0:1:ff::1", 60, a);
	key_by("2001:db8:0:1:f0::2", 60, b);
	assert_memory_equal(a, b, 16);
	key_by("2001:db8:0:1:0f::2", 60, b);
	assert_memory_equal(a, b, 16);
	key_by("2001:db8:0:11::2", 60, b);
	assert_memory_not_equal(a, b, 16);
	/* IPv4 ignores it. */
	key_by("192.0.2.1", 64, a);
	key_by("192.0.2.2", 64, b);
	assert_memory_not_equal(a, b, 16);
}

static bool
loopback(const char *text)
{
	struct sockaddr_storage ss = addr(text);

	return addr_is_loopback((struct sockaddr *)&ss);
}

static void
test_loopback(void **state)
{
	(void)state;
	assert_true(loopback("127.0.0.1"));
	assert_true(loopback("127.255.0.9"));
	assert_true(loopback("::1"));
	assert_true(loopback("::ffff:127.0.0.1"));
	assert_false(loopback("128.0.0.1"));
	assert_false(loopback("::2"));
	assert_false(loopback("::"));
	assert_false(loopback("::ffff:10.0.0.1"));
	assert_false(loopback("::127.0.0.1"));
	assert_false(addr_is_loopback(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_forms),
	    cmocka_unit_test(test_parse_refuses),
	    cmocka_unit_test(test_match_v4),
	    cmocka_unit_test(test_match_v6),
	    cmocka_unit_test(test_match_everything_and_nothing),
	    cmocka_unit_test(test_many_ranges),
	    cmocka_unit_test(test_client_key),
	    cmocka_unit_test(test_loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

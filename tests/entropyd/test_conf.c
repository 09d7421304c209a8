/* SPDX-License-Identifier: ISC */
/*
 * entropyd's configuration: listen addresses, defaults, and errors that
 * name their line and key.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"
#include "parse.h"
#include "timeutil.h"

static int
load(const char *text, struct entropyd_conf *c, struct conf_error *err)
{
	return entropyd_conf_load_buf("e.conf", text, strlen(text), c, err);
}

static void
test_listen_addresses(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char text[64];

	(void)state;
	assert_int_equal(parse_sockaddr("127.0.0.1:42443", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	addr_format((struct sockaddr *)&ss, text, sizeof(text));
	assert_string_equal(text, "127.0.0.1:42443");
	assert_int_equal(parse_sockaddr("[::1]:443", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	addr_format((struct sockaddr *)&ss, text, sizeof(text));
	assert_string_equal(text, "[::1]:443");
	/* Explicit wildcards are allowed; a host name or a bare port not. */
	assert_int_equal(parse_sockaddr("0.0.0.0:42443", &ss, &len), 0);
	assert_int_equal(parse_sockaddr("example.org:443", &ss, &len), -EINVAL);
	assert_int_equal(parse_sockaddr(":443", &ss, &len), -EINVAL);
	assert_int_equal(parse_sockaddr("127.0.0.1", &ss, &len), -EINVAL);
	assert_int_equal(parse_sockaddr("127.0.0.1:0", &ss, &len), -EINVAL);
	assert_int_equal(parse_sockaddr("127.0.0.1:65536", &ss, &len), -EINVAL);
	assert_int_equal(parse_sockaddr("::1:443", &ss, &len), -EINVAL);
	assert_int_equal(parse_sockaddr("[::1]443", &ss, &len), -EINVAL);
}

static void
test_defaults(void **state)
{
	struct entropyd_conf c;
	struct conf_error err;

	(void)state;
	assert_int_equal(
	    load("[entropyd]\ntls_cert = /c.pem\ntls_key = /k.pem\n", &c, &err),
	    0);
	/* Loopback only unless told otherwise. */
	assert_int_equal(c.listen.count, 2);
	assert_int_equal(c.plain_listen.count, 0);
	assert_int_equal(c.admin_listen.count, 0);
	/* Sized for a group booting at once (issue 15). */
	assert_true(c.rate_per_s > 9.99 && c.rate_per_s < 10.01);
	assert_int_equal(c.burst, 100);
	assert_int_equal(c.ipv6_prefix, 128);
	assert_int_equal(c.timeout_ns, 5 * NSEC_PER_SEC);
	assert_string_equal(c.user, "entropyd");
	assert_int_equal(c.clients, 100000);
	assert_int_equal(c.allow.count, 0);
	entropyd_conf_free(&c);
	assert_int_equal(load("[entropyd]\ntls_cert = /c\ntls_key = /k\n"
	                      "listen = 127.0.0.1:1, [::1]:2\n"
	                      "allow = 10.0.0.0/8, fd00::/8\nrate = 2/s\n"
	                      "burst = 9\nclients = 1000\ntimeout = 3s\n"
	                      "ipv6_prefix = 64\n",
	                     &c, &err),
	    0);
	assert_int_equal(c.listen.count, 2);
	assert_int_equal(c.allow.count, 2);
	assert_true(c.rate_per_s > 1.99 && c.rate_per_s < 2.01);
	assert_int_equal(c.burst, 9);
	assert_int_equal(c.timeout_ns, 3 * NSEC_PER_SEC);
	assert_int_equal(c.ipv6_prefix, 64);
	entropyd_conf_free(&c);
}

static void
expect_error(const char *text, unsigned line, const char *key)
{
	struct entropyd_conf c;
	struct conf_error err;

	assert_int_equal(load(text, &c, &err), -EINVAL);
	assert_int_equal(err.line, line);
	assert_string_equal(err.key, key);
}

static void
test_errors(void **state)
{
	(void)state;
	expect_error("[entropyd]\nlisten = example.org:443\n", 2, "listen");
	expect_error("[entropyd]\nallow = 10.0.0.1/8\n", 2, "allow");
	expect_error("[entropyd]\nrate = 0/min\n", 2, "rate");
	expect_error("[entropyd]\nrate = fast\n", 2, "rate");
	expect_error("[entropyd]\nburst = 0\n", 2, "burst");
	expect_error("[entropyd]\nbogus = 1\n", 2, "bogus");
	expect_error("[entropyd]\ntls_key = /k\n", 0, "tls_cert");
	expect_error("[entropyd]\ntls_cert = /c\n", 0, "tls_key");
}

/* Each message quotes the value once and gives the real reason. */
static void
expect_message(const char *text, const char *msg)
{
	struct entropyd_conf c;
	struct conf_error err;

	assert_int_equal(load(text, &c, &err), -EINVAL);
	assert_string_equal(err.msg, msg);
}

static void
test_messages(void **state)
{
	(void)state;
	expect_message("[entropyd]\nallow = 10.0.0.0/33\n",
	    "e.conf:2: allow: '10.0.0.0/33': the prefix length is more "
	    "than 32.");
	expect_message("[entropyd]\nallow = fd00::/200\n",
	    "e.conf:2: allow: 'fd00::/200': the prefix length is more "
	    "than 128.");
	expect_message("[entropyd]\nallow = 10.0.0.1/8\n",
	    "e.conf:2: allow: '10.0.0.1/8': host bits are set below the "
	    "prefix length; write the network address (10.0.0.0/8, not "
	    "10.0.0.1/8).");
	expect_message("[entropyd]\nallow = example.org\n",
	    "e.conf:2: allow: 'example.org': not an address or a CIDR "
	    "range (10.0.0.0/8, fd00::/8).");
	expect_message("[entropyd]\nallow = 10.0.0.0/8, 10.1.0.0/8\n",
	    "e.conf:2: allow: '10.0.0.0/8, 10.1.0.0/8': item 2, "
	    "'10.1.0.0/8': host bits are set below the prefix length; write "
	    "the network address (10.0.0.0/8, not 10.0.0.1/8).");
	expect_message("[entropyd]\nlisten = example.org:443\n",
	    "e.conf:2: listen: 'example.org:443': not ADDRESS:PORT or "
	    "[IPv6]:PORT.");
	expect_message("[entropyd]\ntls_key = /k\n",
	    "e.conf: tls_cert: required: entropyd serves seeds over TLS "
	    "only (see entropyd.conf(5) for making a key and certificate).");
	/* Listeners that cannot all be bound are found by --check-config. */
	expect_message("[entropyd]\ntls_cert = /c\ntls_key = /k\n"
	               "listen = 127.0.0.1:9450, 127.0.0.1:9450\n",
	    "e.conf: listen: 127.0.0.1:9450 is given twice; each address "
	    "can be bound once.");
	expect_message(
	    "[entropyd]\ntls_cert = /c\ntls_key = /k\n"
	    "listen = 127.0.0.1:9450\nadmin_listen = 127.0.0.1:9450\n",
	    "e.conf: admin_listen: 127.0.0.1:9450 is also in listen; each "
	    "address can be bound once.");
	expect_message("[entropyd]\ntls_cert = /c\ntls_key = /k\n"
	               "listen = 0.0.0.0:9450\nplain_listen = 127.0.0.1:9450\n",
	    "e.conf: plain_listen: 127.0.0.1:9450 overlaps 0.0.0.0:9450 in "
	    "listen; each address can be bound once.");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_listen_addresses),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

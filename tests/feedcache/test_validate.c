/* SPDX-License-Identifier: ISC */
/*
 * Body validation: what may replace a good copy.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "feed.h"
#include "validate.h"

static int
check(int kind, const char *body, char *why)
{
	return validate_body(kind, body, strlen(body), why, 200);
}

static void
test_xml(void **state)
{
	char why[200];

	(void)state;
	validate_init();
	assert_int_equal(
	    check(VALIDATE_XML, "<?xml version=\"1.0\"?><rss><channel/></rss>",
	        why),
	    0);
	assert_int_equal(
	    check(VALIDATE_XML, "<rss><channel></rss>", why), -EINVAL);
	assert_non_null(strstr(why, "not well-formed XML"));
	/* An error page is not a feed, even when it is well-formed. */
	assert_int_equal(
	    check(VALIDATE_XML, "<html><body><h1>502</h1></body></html>", why),
	    -EINVAL);
	assert_non_null(strstr(why, "HTML"));
	assert_int_equal(check(VALIDATE_XML,
	                     "<html><body>Bad gateway<br></body></html>", why),
	    -EINVAL);
	assert_int_equal(check(VALIDATE_XML, "", why), -EINVAL);
	/* External entities are not fetched and nothing is expanded. */
	assert_int_equal(check(VALIDATE_XML,
	                     "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x "
	                     "SYSTEM \"http://127.0.0.1:1/x\">]><r>&x;</r>",
	                     why),
	    0);
}

static void
test_json_and_others(void **state)
{
	char why[200];

	(void)state;
	assert_int_equal(check(VALIDATE_JSON, "{\"a\": [1, 2]}", why), 0);
	assert_int_equal(check(VALIDATE_JSON, "\"just a string\"", why), 0);
	assert_int_equal(check(VALIDATE_JSON, "{\"a\": ", why), -EINVAL);
	assert_non_null(strstr(why, "not valid JSON"));
	assert_int_equal(check(VALIDATE_JSON, "<html></html>", why), -EINVAL);
	assert_int_equal(check(VALIDATE_NONEMPTY, "x", why), 0);
	assert_int_equal(check(VALIDATE_NONEMPTY, "", why), -EINVAL);
	assert_int_equal(check(VALIDATE_NONE, "", why), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_xml),
	    cmocka_unit_test(test_json_and_others),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: ISC */
/*
 * The text edits of "entropyd token": an entry and its comment added at
 * the end, removed together, and the time read back; nothing else in
 * the file is touched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tokencmd.h"

#define H64 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static void
test_add(void **state)
{
	char *out;

	(void)state;
	out = tokens_text_add("", 0, "web", H64, "2026-12-04T10:00:00Z");
	assert_string_equal(
	    out, "# web added 2026-12-04T10:00:00Z\nweb:" H64 "\n");
	free(out);
	/* A file without a final newline gets one first. */
	out = tokens_text_add("# mine\nold:" H64, 11 + 64, "web", H64, "T");
	assert_string_equal(
	    out, "# mine\nold:" H64 "\n# web added T\nweb:" H64 "\n");
	free(out);
}

static void
test_revoke(void **state)
{
	static const char text[] = "# keep me\n"
	                           "# web added T1\n"
	                           "web:" H64 "\n"
	                           "webber:" H64 "\n"
	                           "# db added T2\n"
	                           "db:" H64 "\n";
	char *out;
	int found;

	(void)state;
	out = tokens_text_revoke(text, strlen(text), "web", &found);
	assert_int_equal(found, 1);
	assert_string_equal(
	    out, "# keep me\nwebber:" H64 "\n# db added T2\ndb:" H64 "\n");
	free(out);
	out = tokens_text_revoke(text, strlen(text), "we", &found);
	assert_int_equal(found, 0);
	assert_string_equal(out, text);
	free(out);
	/* An entry written by hand, without a comment. */
	out = tokens_text_revoke(text, strlen(text), "webber", &found);
	assert_int_equal(found, 1);
	assert_null(strstr(out, "webber"));
	assert_non_null(strstr(out, "# web added T1\nweb:"));
	free(out);
}

static void
test_added(void **state)
{
	static const char text[] = "# web added 2026-12-04T10:00:00Z\n"
	                           "web:" H64 "\nhand:" H64 "\n";
	char when[64];

	(void)state;
	tokens_text_added(text, strlen(text), "web", when, sizeof(when));
	assert_string_equal(when, "2026-12-04T10:00:00Z");
	tokens_text_added(text, strlen(text), "hand", when, sizeof(when));
	assert_string_equal(when, "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_add),
	    cmocka_unit_test(test_revoke),
	    cmocka_unit_test(test_added),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

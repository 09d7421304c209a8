/* SPDX-License-Identifier: ISC */
/* test_json.c: the writer's text is valid JSON, byte for byte as expected. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "json.h"

static char buf[4096];

/* The JSON text of one string value written with json_string_len. */
static const char *
string_json(const char *s, size_t len)
{
	struct json_writer w;

	json_init(&w, buf, sizeof(buf));
	json_string_len(&w, s, len);
	assert_true(json_finish(&w) > 0);
	return buf;
}

static void
expect_escaped(const char *in, const char *want)
{
	print_message("string %s\n", want);
	assert_string_equal(string_json(in, strlen(in)), want);
}

static void
expect_fixed(double v, int decimals, const char *want)
{
	struct json_writer w;

	json_init(&w, buf, sizeof(buf));
	json_double(&w, v, decimals);
	assert_int_equal(json_finish(&w), (int)strlen(want));
	assert_string_equal(buf, want);
}

static void
test_document_shape(void **state)
{
	struct json_writer w;
	const char *want = "{\"host\":\"vm-7\",\"cpus\":[0,1,2],"
	                   "\"steal\":{\"pct\":12.50,\"ok\":true},"
	                   "\"empty\":{},\"none\":[],\"err\":null,"
	                   "\"nested\":[[],[1],{\"a\":[{}]}],\"delta\":-3}";

	(void)state;
	json_init(&w, buf, sizeof(buf));
	json_object_begin(&w);
	json_key(&w, "host");
	json_string(&w, "vm-7");
	json_key(&w, "cpus");
	json_array_begin(&w);
	json_u64(&w, 0);
	json_u64(&w, 1);
	json_u64(&w, 2);
	json_array_end(&w);
	json_key(&w, "steal");
	json_object_begin(&w);
	json_key(&w, "pct");
	json_double(&w, 12.5, 2);
	json_key(&w, "ok");
	json_bool(&w, true);
	json_object_end(&w);
	json_key(&w, "empty");
	json_object_begin(&w);
	json_object_end(&w);
	json_key(&w, "none");
	json_array_begin(&w);
	json_array_end(&w);
	json_key(&w, "err");
	json_null(&w);
	json_key(&w, "nested");
	json_array_begin(&w);
	json_array_begin(&w);
	json_array_end(&w);
	json_array_begin(&w);
	json_i64(&w, 1);
	json_array_end(&w);
	json_object_begin(&w);
	json_key(&w, "a");
	json_array_begin(&w);
	json_object_begin(&w);
	json_object_end(&w);
	json_array_end(&w);
	json_object_end(&w);
	json_array_end(&w);
	json_key(&w, "delta");
	json_i64(&w, -3);
	json_object_end(&w);
	assert_int_equal(json_finish(&w), (int)strlen(want));
	assert_string_equal(buf, want);
}

static void
test_scalars_at_top_level(void **state)
{
	struct json_writer w;

	(void)state;
	json_init(&w, buf, sizeof(buf));
	json_bool(&w, false);
	assert_int_equal(json_finish(&w), 5);
	assert_string_equal(buf, "false");

	json_init(&w, buf, sizeof(buf));
	json_u64(&w, UINT64_MAX);
	assert_int_equal(json_finish(&w), 20);
	assert_string_equal(buf, "18446744073709551615");

	json_init(&w, buf, sizeof(buf));
	json_array_begin(&w);
	json_i64(&w, INT64_MIN);
	json_i64(&w, INT64_MAX);
	json_i64(&w, 0);
	json_array_end(&w);
	assert_true(json_finish(&w) > 0);
	assert_string_equal(
	    buf, "[-9223372036854775808,9223372036854775807,0]");
}

static void
test_escape_control_chars(void **state)
{
	static const char *const short_forms[0x20] = {
	    ['\b'] = "\\b",
	    ['\t'] = "\\t",
	    ['\n'] = "\\n",
	    ['\f'] = "\\f",
	    ['\r'] = "\\r",
	};
	char in[1], want[16];
	int c;

	(void)state;
	for (c = 0; c < 0x20; c++) {
		in[0] = (char)c;
		if (short_forms[c] != NULL)
			snprintf(want, sizeof(want), "\"%s\"", short_forms[c]);
		else
			snprintf(want, sizeof(want), "\"\\u%04x\"", c);
		assert_string_equal(string_json(in, 1), want);
	}
	expect_escaped("say \"hi\"", "\"say \\\"hi\\\"\"");
	expect_escaped("C:\\dir", "\"C:\\\\dir\"");
	/* Slash and DEL need no escape; plain text is copied. */
	expect_escaped("a/b\x7f", "\"a/b\x7f\"");
	expect_escaped("", "\"\"");
	expect_escaped(
	    "line1\nline2\ttab\x1b[0m", "\"line1\\nline2\\ttab\\u001b[0m\"");
	/* An embedded NUL, by length. */
	assert_string_equal(string_json("a\0b", 3), "\"a\\u0000b\"");
	/* json_string stops at the NUL. */
	{
		struct json_writer w;

		json_init(&w, buf, sizeof(buf));
		json_string(&w, "a\0b");
		assert_int_equal(json_finish(&w), 3);
		assert_string_equal(buf, "\"a\"");
	}
}

static void
test_valid_utf8_kept(void **state)
{
	(void)state;
	expect_escaped("caf\xc3\xa9", "\"caf\xc3\xa9\""); /* U+00E9 */
	expect_escaped("\xe2\x82\xac 5", "\"\xe2\x82\xac 5\""); /* U+20AC */
	expect_escaped(
	    "\xf0\x9d\x84\x9e", "\"\xf0\x9d\x84\x9e\""); /* U+1D11E */
	expect_escaped("\xc2\x80", "\"\xc2\x80\""); /* U+0080 */
	expect_escaped("\xe0\xa0\x80", "\"\xe0\xa0\x80\""); /* U+0800 */
	expect_escaped("\xed\x9f\xbf", "\"\xed\x9f\xbf\""); /* U+D7FF */
	expect_escaped("\xee\x80\x80", "\"\xee\x80\x80\""); /* U+E000 */
	expect_escaped("\xef\xbf\xbf", "\"\xef\xbf\xbf\""); /* U+FFFF */
	expect_escaped(
	    "\xf0\x90\x80\x80", "\"\xf0\x90\x80\x80\""); /* U+10000 */
	expect_escaped(
	    "\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\""); /* U+10FFFF */
}

static void
test_invalid_utf8_replaced(void **state)
{
	(void)state;
	/* Lone continuation bytes and bytes that never start a sequence. */
	expect_escaped("a\x80z", "\"a\\ufffdz\"");
	expect_escaped("\xbf", "\"\\ufffd\"");
	expect_escaped("\xfe\xff", "\"\\ufffd\\ufffd\"");
	expect_escaped("\xf5\x80\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	/* Overlong forms: "/" as 2, 3 and 4 bytes, NUL as 2. */
	expect_escaped("\xc0\xaf", "\"\\ufffd\\ufffd\"");
	expect_escaped("\xc1\xbf", "\"\\ufffd\\ufffd\"");
	expect_escaped("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");
	expect_escaped("\xe0\x9f\xbf", "\"\\ufffd\\ufffd\\ufffd\"");
	expect_escaped("\xf0\x80\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	expect_escaped("\xf0\x8f\xbf\xbf", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	assert_string_equal(string_json("\xc0\x80", 2), "\"\\ufffd\\ufffd\"");
	/* UTF-16 surrogates, alone and as a CESU-8 pair. */
	expect_escaped("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	expect_escaped("\xed\xbf\xbf", "\"\\ufffd\\ufffd\\ufffd\"");
	expect_escaped("\xed\xa0\xbd\xed\xb8\x80",
	    "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"");
	/* Beyond U+10FFFF. */
	expect_escaped("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	/* Truncated: one U+FFFD for the whole started sequence. */
	expect_escaped("\xe2\x82", "\"\\ufffd\"");
	expect_escaped("x\xe2\x82y", "\"x\\ufffdy\"");
	expect_escaped("\xf0\x9f\x98", "\"\\ufffd\"");
	expect_escaped("\xf0\x9f\x98\"", "\"\\ufffd\\\"\"");
	expect_escaped("\xc3", "\"\\ufffd\"");
	expect_escaped("\xc3\xc3\xa9", "\"\\ufffd\xc3\xa9\"");
	/* Cut by the length, not by a NUL. */
	assert_string_equal(string_json("\xe2\x82\xac", 2), "\"\\ufffd\"");
	/* Keys are escaped the same way. */
	{
		struct json_writer w;

		json_init(&w, buf, sizeof(buf));
		json_object_begin(&w);
		json_key(&w, "k\xff\n");
		json_u64(&w, 1);
		json_object_end(&w);
		assert_true(json_finish(&w) > 0);
		assert_string_equal(buf, "{\"k\\ufffd\\n\":1}");
	}
}

static void
test_doubles(void **state)
{
	(void)state;
	expect_fixed(0, 0, "0");
	expect_fixed(0, 3, "0.000");
	expect_fixed(3.14159, 3, "3.142");
	expect_fixed(3.14159, 0, "3");
	expect_fixed(2.5, 0, "3");
	expect_fixed(-2.5, 0, "-3");
	expect_fixed(0.125, 2, "0.13");
	expect_fixed(0.999, 2, "1.00");
	expect_fixed(9.9999999999, 9, "10.000000000");
	expect_fixed(-0.25, 1, "-0.3");
	expect_fixed(0.05, 1, "0.1");
	expect_fixed(1.0 / 3.0, 9, "0.333333333");
	expect_fixed(123456.789, 0, "123457");
	expect_fixed(42, 2, "42.00");
	expect_fixed(-7, 1, "-7.0");
	/* Negative values that round to zero, and negative zero: no "-". */
	expect_fixed(-0.0001, 2, "0.00");
	expect_fixed(-0.0, 1, "0.0");
	/* Exactly representable fractions of large values survive. */
	expect_fixed(1e15 + 0.5, 1, "1000000000000000.5");
	expect_fixed(9007199254740993.0, 2, "9007199254740992.00");
	expect_fixed(9223372036854775808.0, 0, "9223372036854775808");
	expect_fixed(18446744073709551616.0, 0, "18446744073709551616");
	expect_fixed(-1e20, 2, "-100000000000000000000.00");
	expect_fixed(1e300, 0,
	    "1000000000000000052504760255204420248704468581108159154915854115"
	    "5118024579889081957863713750804478640437044438328838781769425232"
	    "3536043057564479218478670698284838720092657580373783023379478809"
	    "0059368953234970799945081119038967640880074652742780142494579258"
	    "788820056842838115669472196386865459400540160");
	expect_fixed(-DBL_MAX, 1,
	    "-1797693134862315708145274237317043567980705675258449965989174768"
	    "0315726078002853876058955863276687817154045895351438246423432132"
	    "6889464182768467546703537516986049910576551282076245490090389328"
	    "9440758685084551339423045832369032229481658085593321233482747978"
	    "26204144723168738177180919299881250404026184124858368.0");
	/* Not numbers in JSON. */
	expect_fixed(NAN, 2, "null");
	expect_fixed(INFINITY, 2, "null");
	expect_fixed(-INFINITY, 0, "null");
}

static void
test_doubles_in_context(void **state)
{
	struct json_writer w;

	(void)state;
	json_init(&w, buf, sizeof(buf));
	json_array_begin(&w);
	json_double(&w, NAN, 3);
	json_double(&w, 0.5, 1);
	json_array_end(&w);
	assert_true(json_finish(&w) > 0);
	assert_string_equal(buf, "[null,0.5]");

	json_init(&w, buf, sizeof(buf));
	json_double(&w, 1.0, 10);
	assert_int_equal(json_finish(&w), -EINVAL);
	json_init(&w, buf, sizeof(buf));
	json_double(&w, 1.0, -1);
	assert_int_equal(json_finish(&w), -EINVAL);
}

/* Writes a small fixed document; returns json_finish's result. */
static int
write_sample(char *out, size_t size)
{
	struct json_writer w;

	json_init(&w, out, size);
	json_object_begin(&w);
	json_key(&w, "t");
	json_string(&w, "2026-11-26T05:15:26Z");
	json_key(&w, "cpu");
	json_array_begin(&w);
	json_double(&w, 0.25, 3);
	json_string(&w, "\x01\xff");
	json_array_end(&w);
	json_object_end(&w);
	return json_finish(&w);
}

static void
test_overflow(void **state)
{
	const char *want = "{\"t\":\"2026-11-26T05:15:26Z\","
	                   "\"cpu\":[0.250,\"\\u0001\\ufffd\"]}";
	const size_t need = strlen(want) + 1;
	char small[128];
	size_t size;

	(void)state;
	/* Every buffer one byte too small or less fails cleanly. */
	for (size = 0; size < need; size++) {
		memset(small, 'x', sizeof(small));
		assert_int_equal(write_sample(small, size), -ENOBUFS);
		if (size > 0)
			assert_int_equal(small[0], '\0');
		/* Nothing written past the buffer's end. */
		assert_int_equal(small[size], 'x');
	}
	assert_int_equal(write_sample(small, need), (int)need - 1);
	assert_string_equal(small, want);
	assert_int_equal(write_sample(NULL, 0), -ENOBUFS);
}

static void
expect_misuse(void (*misuse)(struct json_writer *))
{
	struct json_writer w;

	json_init(&w, buf, sizeof(buf));
	misuse(&w);
	assert_int_equal(json_finish(&w), -EINVAL);
	assert_string_equal(buf, "");
}

static void
value_without_key(struct json_writer *w)
{
	json_object_begin(w);
	json_u64(w, 1);
	json_object_end(w);
}

static void
key_in_array(struct json_writer *w)
{
	json_array_begin(w);
	json_key(w, "k");
	json_u64(w, 1);
	json_array_end(w);
}

static void
two_keys(struct json_writer *w)
{
	json_object_begin(w);
	json_key(w, "a");
	json_key(w, "b");
	json_u64(w, 1);
	json_object_end(w);
}

static void
end_after_key(struct json_writer *w)
{
	json_object_begin(w);
	json_key(w, "a");
	json_object_end(w);
}

static void
wrong_end(struct json_writer *w)
{
	json_object_begin(w);
	json_array_end(w);
}

static void
unclosed(struct json_writer *w)
{
	json_array_begin(w);
	json_u64(w, 1);
}

static void
extra_end(struct json_writer *w)
{
	json_array_begin(w);
	json_array_end(w);
	json_array_end(w);
}

static void
two_top_level_values(struct json_writer *w)
{
	json_u64(w, 1);
	json_u64(w, 2);
}

static void
nothing(struct json_writer *w)
{
	(void)w;
}

static void
key_at_top_level(struct json_writer *w)
{
	json_key(w, "k");
}

static void
null_string(struct json_writer *w)
{
	json_array_begin(w);
	json_string(w, NULL);
	json_array_end(w);
}

static void
too_deep(struct json_writer *w)
{
	for (int i = 0; i <= JSON_MAX_DEPTH; i++)
		json_array_begin(w);
	for (int i = 0; i <= JSON_MAX_DEPTH; i++)
		json_array_end(w);
}

static void
test_misuse(void **state)
{
	(void)state;
	expect_misuse(value_without_key);
	expect_misuse(key_in_array);
	expect_misuse(two_keys);
	expect_misuse(end_after_key);
	expect_misuse(wrong_end);
	expect_misuse(unclosed);
	expect_misuse(extra_end);
	expect_misuse(two_top_level_values);
	expect_misuse(nothing);
	expect_misuse(key_at_top_level);
	expect_misuse(null_string);
	expect_misuse(too_deep);
}

static void
test_max_depth_and_sticky_error(void **state)
{
	struct json_writer w;
	char tiny[4];
	int i;

	(void)state;
	json_init(&w, buf, sizeof(buf));
	for (i = 0; i < JSON_MAX_DEPTH; i++)
		json_array_begin(&w);
	for (i = 0; i < JSON_MAX_DEPTH; i++)
		json_array_end(&w);
	assert_int_equal(json_finish(&w), 2 * JSON_MAX_DEPTH);

	/* Full first, misused later: the first error is what is reported. */
	json_init(&w, tiny, sizeof(tiny));
	json_array_begin(&w);
	json_string(&w, "too long for four bytes");
	json_key(&w, "misuse");
	json_array_end(&w);
	assert_int_equal(json_finish(&w), -ENOBUFS);

	json_init(&w, tiny, sizeof(tiny));
	json_key(&w, "misuse");
	json_string(&w, "too long for four bytes");
	assert_int_equal(json_finish(&w), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_document_shape),
	    cmocka_unit_test(test_scalars_at_top_level),
	    cmocka_unit_test(test_escape_control_chars),
	    cmocka_unit_test(test_valid_utf8_kept),
	    cmocka_unit_test(test_invalid_utf8_replaced),
	    cmocka_unit_test(test_doubles),
	    cmocka_unit_test(test_doubles_in_context),
	    cmocka_unit_test(test_overflow),
	    cmocka_unit_test(test_misuse),
	    cmocka_unit_test(test_max_depth_and_sticky_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

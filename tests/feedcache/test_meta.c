/* SPDX-License-Identifier: ISC */
/*
 * The meta file: round trip, damage, and hostile values.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "meta.h"

#define S_MAGIC_BAD "feedcache-meta 2\nfailures 1\n"

static void
sample(struct feed_meta *m)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->etag, sizeof(m->etag), "W/\"abc def\"");
	snprintf(m->last_modified, sizeof(m->last_modified),
	    "Thu, 26 Nov 2026 04:36:32 GMT");
	memset(m->hash, 'a', 64);
	m->size = 12345;
	m->fetched = 1795671393;
	m->checked = 1795671400;
	m->attempted = 1795671401;
	m->next_due = 1795671700;
	m->retry_after = 1795672000;
	m->failures = 3;
	m->last_result = RESULT_RATE_LIMITED;
	snprintf(
	    m->last_error, sizeof(m->last_error), "HTTP 503, Retry-After: 120");
	m->requests[RESULT_UPDATED] = 7;
	m->requests[RESULT_RATE_LIMITED] = 2;
	m->bytes = 99999;
}

static void
test_round_trip(void **state)
{
	struct feed_meta m, back;
	char buf[META_MAX_SIZE];
	int n;

	(void)state;
	sample(&m);
	n = meta_format(&m, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(meta_parse(buf, (size_t)n, &back), 0);
	assert_memory_equal(&m, &back, sizeof(m));
	assert_int_equal(strncmp(buf, META_MAGIC "\n", sizeof(META_MAGIC)), 0);
}

static void
test_newlines_cannot_forge_lines(void **state)
{
	struct feed_meta m, back;
	char buf[META_MAX_SIZE];
	int n;

	(void)state;
	sample(&m);
	/* An origin's ETag with a line break must not become a key. */
	snprintf(m.etag, sizeof(m.etag), "\"x\"\nretry_after 0");
	n = meta_format(&m, buf, sizeof(buf));
	assert_int_equal(meta_parse(buf, (size_t)n, &back), 0);
	assert_string_equal(back.etag, "\"x\"");
	assert_int_equal(back.retry_after, m.retry_after);
}

static void
test_damage(void **state)
{
	struct feed_meta m, back;
	char buf[META_MAX_SIZE];
	int n;

	(void)state;
	sample(&m);
	n = meta_format(&m, buf, sizeof(buf));
	/* Cut anywhere inside the last line: an error, not a silent 0. */
	assert_int_equal(meta_parse(buf, (size_t)n - 2, &back), -EINVAL);
	assert_int_equal(meta_parse("", 0, &back), -EINVAL);
	assert_int_equal(
	    meta_parse(S_MAGIC_BAD, sizeof(S_MAGIC_BAD) - 1, &back), -EINVAL);
	assert_int_equal(meta_parse(META_MAGIC "\nfailures x\n",
	                     sizeof(META_MAGIC "\nfailures x\n") - 1, &back),
	    -EINVAL);
	assert_int_equal(meta_parse(META_MAGIC "\nnext_due -5\n",
	                     sizeof(META_MAGIC "\nnext_due -5\n") - 1, &back),
	    -EINVAL);
	assert_int_equal(meta_parse(META_MAGIC "\nhash xyz\n",
	                     sizeof(META_MAGIC "\nhash xyz\n") - 1, &back),
	    -EINVAL);
	assert_int_equal(
	    meta_parse(META_MAGIC "\nlast_result maybe\n",
	        sizeof(META_MAGIC "\nlast_result maybe\n") - 1, &back),
	    -EINVAL);
	/* Keys of a newer version are skipped. */
	assert_int_equal(
	    meta_parse(META_MAGIC "\nfuture_key 1\nfailures 2\n",
	        sizeof(META_MAGIC "\nfuture_key 1\nfailures 2\n") - 1, &back),
	    0);
	assert_int_equal(back.failures, 2);
}

static void
test_save_and_load(void **state)
{
	struct feed_meta m, back;
	char dir[4096], path[4200];
	struct stat st;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/metaXXXXXX",
	    getenv("TK_TEST_TMPDIR") ? getenv("TK_TEST_TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/.news.meta", dir);
	assert_int_equal(meta_load(path, &back), -ENOENT);
	sample(&m);
	assert_int_equal(meta_save(path, &m, 0644), 0);
	assert_int_equal(meta_load(path, &back), 0);
	assert_memory_equal(&m, &back, sizeof(m));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	unlink(path);
	rmdir(dir);
	assert_string_equal(
	    fetch_result_name(RESULT_NOT_MODIFIED), "not_modified");
	assert_true(fetch_result_ok(RESULT_UNCHANGED));
	assert_false(fetch_result_ok(RESULT_TIMEOUT));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_newlines_cannot_forge_lines),
	    cmocka_unit_test(test_damage),
	    cmocka_unit_test(test_save_and_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

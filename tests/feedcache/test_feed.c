/* SPDX-License-Identifier: ISC */
/*
 * feedcache's configuration: defaults, every check that keeps a feed
 * inside the cache directory and on http(s), and the origin used for the
 * one-transfer-per-origin rule.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "feed.h"
#include "fleet.h"
#include "timeutil.h"

static int
load(const char *text, struct feedcache_conf *conf, struct conf_error *err)
{
	return feedcache_conf_load_buf(
	    "test.conf", text, strlen(text), conf, err);
}

static void
test_defaults_and_values(void **state)
{
	struct feedcache_conf c;
	struct conf_error err;
	const struct feed *f;

	(void)state;
	assert_int_equal(load("[feedcache]\n"
	                      "cache_dir = /srv/cache\n"
	                      "max_parallel = 4\n"
	                      "[feed news]\n"
	                      "url = https://Example.org/rss.xml\n"
	                      "[feed api_2]\n"
	                      "url = http://[::1]:8080/v1?x=1\n"
	                      "interval = 30s\n"
	                      "timeout = 2.5s\n"
	                      "max_size = 64K\n"
	                      "max_backoff = 10m\n"
	                      "mode = 0600\n"
	                      "validate = json\n"
	                      "header = Authorization: Bearer abc\n"
	                      "header = X-Trace: 1\n",
	                     &c, &err),
	    0);
	assert_string_equal(c.cache_dir, "/srv/cache");
	assert_int_equal(c.max_parallel, 4);
	assert_int_equal(c.nfeeds, 2);
	f = feedcache_conf_find(&c, "news");
	assert_non_null(f);
	assert_int_equal(f->interval_ns, 300 * NSEC_PER_SEC);
	assert_int_equal(f->timeout_ns, 10 * NSEC_PER_SEC);
	assert_int_equal(f->max_size, 5 << 20);
	assert_int_equal(f->max_backoff_ns, 3600 * NSEC_PER_SEC);
	assert_int_equal(f->mode, 0644);
	assert_int_equal(f->validate, VALIDATE_NONEMPTY);
	assert_string_equal(f->origin, "https://example.org:443");
	f = feedcache_conf_find(&c, "api_2");
	assert_int_equal(f->timeout_ns, 2500 * NSEC_PER_MSEC);
	assert_int_equal(f->max_size, 65536);
	assert_int_equal(f->mode, 0600);
	assert_int_equal(f->validate, VALIDATE_JSON);
	assert_int_equal(f->headers.count, 2);
	assert_string_equal(f->headers.line[1], "X-Trace: 1");
	assert_string_equal(f->origin, "http://[::1]:8080");
	assert_null(feedcache_conf_find(&c, "nope"));
	assert_true(feed_same(f, f));
	assert_false(feed_same(f, feedcache_conf_find(&c, "news")));
	feedcache_conf_free(&c);
}

/* Each bad configuration names its line and key. */
static void
expect_error(
    const char *text, unsigned line, const char *key, const char *words)
{
	struct feedcache_conf c;
	struct conf_error err;

	assert_int_equal(load(text, &c, &err), -EINVAL);
	assert_int_equal(err.line, line);
	assert_string_equal(err.key, key);
	if (strstr(err.msg, words) == NULL)
		fail_msg("message '%s' lacks '%s'", err.msg, words);
	assert_int_equal(c.nfeeds, 0);
}

static void
test_errors(void **state)
{
	(void)state;
	expect_error("[feed a]\nurl = ftp://x/\n", 2, "url", "http");
	expect_error("[feed a]\nurl = file:///etc/passwd\n", 2, "url", "http");
	expect_error("[feed a]\nurl = http:///path\n", 2, "url", "no host");
	expect_error("[feed a]\nurl = http://x/a b\n", 2, "url", "space");
	/* A port or an IPv6 literal libcurl would refuse at fetch time. */
	expect_error("[feed a]\nurl = http://127.0.0.1:70000/rss.xml\n", 2,
	    "url", "port");
	expect_error(
	    "[feed a]\nurl = http://127.0.0.1:0/rss.xml\n", 2, "url", "port");
	expect_error("[feed a]\nurl = http://127.0.0.1:18431x/rss.xml\n", 2,
	    "url", "port");
	expect_error("[feed a]\nurl = http://[::1/x\n", 2, "url", "]");
	expect_error("[feed a]\nurl = http://::1]/x\n", 2, "url", "[");
	expect_error("[feed a]\nurl = http://[::1]x:80/\n", 2, "url", "]");
	/* The service reads its own meta file and writes the copy. */
	expect_error("[feed a]\nurl = http://x/\nmode = 0200\n", 3, "mode",
	    "'0200': the owner must be able to read and write it");
	expect_error("[feed a]\nurl = http://x/\nmode = 0000\n", 3, "mode",
	    "owner must be able to read and write");
	expect_error("[feed a]\nurl = http://x/\nmode = 0444\n", 3, "mode",
	    "owner must be able to read and write");
	expect_error(
	    "[feed a]\nurl = http://x/\nmode = 4644\n", 3, "mode", "setuid");
	expect_error("[feed a]\nurl = http://x/\nmode = 0646\n", 3, "mode",
	    "world-writable");
	expect_error("[feed ../etc]\nurl = http://x/\n", 1, "", "name");
	expect_error("[feed a.b]\nurl = http://x/\n", 1, "", "name");
	expect_error("[feed a]\ninterval = 5m\n", 1, "url", "missing");
	expect_error(
	    "[feed a]\nurl = http://x/\ninterval = 0s\n", 3, "interval", "");
	expect_error("[feed a]\nurl = http://x/\nvalidate = yaml\n", 3,
	    "validate", "xml");
	expect_error("[feed a]\nurl = http://x/\nheader = Bad Name: x\n", 3,
	    "header", "name");
	expect_error("[feed a]\nurl = http://x/\nheader = NoColon\n", 3,
	    "header", "Name: value");
	expect_error(
	    "[feedcache]\ncache_dir = relative\n", 2, "cache_dir", "absolute");
	expect_error("[feedcache]\nmax_parallel = 0\n", 2, "max_parallel", "");
	expect_error("[feedcache]\nbogus = 1\n", 2, "bogus", "");
	expect_error("[feedcache]\ncache_dir = /srv\ngroup = nosuchgroup\n", 3,
	    "group", "group: 'nosuchgroup': no such group");
	expect_error(
	    "[feed a]\nurl = http://x/\nurl = http://y/\n", 3, "url", "");
}

static void
test_redis_url(void **state)
{
	struct redis_addr a;
	char why[128];

	(void)state;
	assert_int_equal(redis_url_parse("redis://cache1", &a, why, 128), 0);
	assert_string_equal(a.host, "cache1");
	assert_int_equal(a.port, 6379);
	assert_int_equal(a.db, 0);
	assert_string_equal(a.password, "");
	assert_int_equal(
	    redis_url_parse("redis://:s3cr@t@10.0.0.5:7000/3", &a, why, 128),
	    -EINVAL); /* an @ in a password must not pass for the host */
	assert_int_equal(
	    redis_url_parse("redis://:s3cret@10.0.0.5:7000/3", &a, why, 128),
	    0);
	assert_string_equal(a.host, "10.0.0.5");
	assert_string_equal(a.user, "");
	assert_string_equal(a.password, "s3cret");
	assert_int_equal(a.port, 7000);
	assert_int_equal(a.db, 3);
	assert_int_equal(
	    redis_url_parse("redis://app:pw@[fd00::7]:6380/", &a, why, 128), 0);
	assert_string_equal(a.host, "fd00::7");
	assert_string_equal(a.user, "app");
	assert_int_equal(a.port, 6380);
	assert_int_equal(redis_url_parse("http://x/", &a, why, 128), -EINVAL);
	assert_non_null(strstr(why, "redis://"));
	assert_int_equal(
	    redis_url_parse("redis://x:70000", &a, why, 128), -EINVAL);
	assert_int_equal(
	    redis_url_parse("redis://x/db", &a, why, 128), -EINVAL);
	assert_int_equal(
	    redis_url_parse("redis://[::1", &a, why, 128), -EINVAL);
	assert_int_equal(redis_url_parse("redis://", &a, why, 128), -EINVAL);
	assert_int_equal(
	    redis_url_parse("redis://user@host", &a, why, 128), -EINVAL);
	assert_int_equal(
	    redis_url_parse("redis://bob:hunter2@h:99999", &a, why, 128),
	    -EINVAL);
	assert_null(strstr(why, "hunter2")); /* never echoes a password */
}

static void
test_fleet_keys(void **state)
{
	struct feedcache_conf c;
	struct conf_error err;
	const char *base = getenv("TK_TEST_TMPDIR");
	char key[PATH_MAX], text[PATH_MAX + 256];
	int fd;

	(void)state;
	snprintf(key, sizeof(key), "%s/feed-fleet-key.XXXXXX",
	    base != NULL && *base != '\0' ? base : "/tmp");
	assert_true((fd = mkstemp(key)) >= 0); /* mode 0600 */
	assert_int_equal(
	    write(fd, "0123456789abcdef0123456789abcdef\n", 33), 33);
	close(fd);
	snprintf(text, sizeof(text),
	    "[feedcache]\nredis = redis://:pw@127.0.0.1:1/2\n"
	    "node_name = web-7\nredis_prefix = site1:\n"
	    "redis_timeout = 200ms\nfleet_key = %s\n",
	    key);
	assert_int_equal(
	    feedcache_conf_load_buf("t.conf", text, strlen(text), &c, &err), 0);
	assert_int_equal(c.fleet_key.count, 1);
	assert_int_equal(c.fleet_key.len[0], 32);
	assert_string_equal(c.node_name, "web-7");
	assert_string_equal(c.redis_prefix, "site1:");
	assert_int_equal(c.redis_timeout_ns, 200 * 1000000ULL);
	feedcache_conf_free(&c);
	expect_error("[feedcache]\nnode_name = two words\n", 2, "node_name",
	    "no spaces");
	expect_error("[feedcache]\nredis = redis://h:0/\n", 2, "redis", "port");
	/* Fleet mode is never unsigned. */
	expect_error("[feedcache]\nredis = redis://h/\n", 0, "fleet_key",
	    "needs fleet_key");
	expect_error("[feedcache]\nfleet_key = fleet.key\n", 2, "fleet_key",
	    "not an absolute path");
	chmod(key, 0640);
	assert_int_equal(
	    feedcache_conf_load_buf("t.conf", text, strlen(text), &c, &err),
	    -EINVAL);
	assert_non_null(strstr(err.msg, "group or others may read it"));
	unlink(key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults_and_values),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_redis_url),
	    cmocka_unit_test(test_fleet_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: ISC */
/* Unit tests for lib/config.c: typed INI parsing and its error messages. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

#define MAX_FEEDS 4
#define MAX_TAGS 3

struct main_conf {
	char *name;
	int verbose;
	uint64_t count;
	uint32_t workers;
	uint64_t interval_ns;
	uint64_t cache_bytes;
	uint32_t mode;
	double share;
};

struct tags {
	unsigned n;
	char v[MAX_TAGS][16];
};

struct feed {
	char name[32];
	char *url;
	uint64_t interval_ns;
	struct tags tags;
	struct tags passwords; /* "pass": a tag that errors show masked */
};

struct test_conf {
	struct main_conf main;
	struct feed feeds[MAX_FEEDS];
	unsigned nfeeds;
};

static struct test_conf conf;
static struct conf_error err;

static void *
open_main(void *ctx, const char *instance, char *why, size_t why_size)
{
	struct test_conf *c = ctx;

	(void)why;
	(void)why_size;
	assert_null(instance);
	return &c->main;
}

/* Feed names are [a-z0-9-]; at most MAX_FEEDS of them. */
static void *
open_feed(void *ctx, const char *instance, char *why, size_t why_size)
{
	struct test_conf *c = ctx;
	struct feed *f;

	assert_non_null(instance);
	if (instance[0] == '\0' ||
	    strspn(instance, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
	        strlen(instance) ||
	    strlen(instance) >= sizeof(f->name)) {
		snprintf(why, why_size, "bad feed name");
		return NULL;
	}
	if (c->nfeeds == MAX_FEEDS) {
		snprintf(why, why_size, "more than %d feeds", MAX_FEEDS);
		return NULL;
	}
	f = &c->feeds[c->nfeeds++];
	snprintf(f->name, sizeof(f->name), "%s", instance);
	return f;
}

/* A tag is one lowercase word; a feed has at most MAX_TAGS. */
static int
parse_tag(void *field, const char *value, char *why, size_t why_size)
{
	struct tags *t = field;

	if (strspn(value, "abcdefghijklmnopqrstuvwxyz") != strlen(value) ||
	    strlen(value) >= sizeof(t->v[0])) {
		snprintf(why, why_size, "not a lowercase word");
		return -EINVAL;
	}
	if (t->n == MAX_TAGS) {
		snprintf(why, why_size, "more than %d tags", MAX_TAGS);
		return -EINVAL;
	}
	snprintf(t->v[t->n++], sizeof(t->v[0]), "%s", value);
	return 0;
}

static const struct conf_key main_keys[] = {
    CONF_KEY("name", CONF_STRING, struct main_conf, name),
    CONF_KEY("verbose", CONF_BOOL, struct main_conf, verbose),
    CONF_KEY("count", CONF_U64, struct main_conf, count),
    CONF_KEY_RANGE("workers", CONF_U32, struct main_conf, workers, 1, 64),
    CONF_KEY_RANGE("interval", CONF_DURATION, struct main_conf, interval_ns,
        UINT64_C(1000000000), UINT64_C(3600000000000)),
    CONF_KEY_RANGE("cache", CONF_SIZE, struct main_conf, cache_bytes, 4096,
        UINT64_C(1) << 30),
    CONF_KEY("mode", CONF_MODE, struct main_conf, mode),
    CONF_KEY("share", CONF_PERCENT, struct main_conf, share),
    CONF_KEY_END,
};

/* A "pass" as errors show it: its first letter, then ***. */
static void
mask_tag(const char *value, char *buf, size_t size)
{
	snprintf(buf, size, "%.1s***", value);
}

static const struct conf_key feed_keys[] = {
    CONF_KEY_REQUIRED("url", CONF_STRING, struct feed, url),
    CONF_KEY("interval", CONF_DURATION, struct feed, interval_ns),
    CONF_KEY_CUSTOM("tag", struct feed, tags, parse_tag, true),
    CONF_KEY_MASKED("pass", struct feed, passwords, parse_tag, true, mask_tag),
    CONF_KEY_END,
};

static const struct conf_section sections[] = {
    {"main", false, main_keys, open_main},
    {"feed", true, feed_keys, open_feed},
    {0},
};

static int
reset(void **state)
{
	unsigned i;

	(void)state;
	free(conf.main.name);
	for (i = 0; i < MAX_FEEDS; i++)
		free(conf.feeds[i].url);
	memset(&conf, 0, sizeof(conf));
	memset(&err, 0, sizeof(err));
	return 0;
}

static int
parse_len(const char *text, size_t len)
{
	return conf_parse_buf("test.ini", text, len, sections, &conf, &err);
}

static int
parse(const char *text)
{
	return parse_len(text, strlen(text));
}

/*
 * Parses text and checks it fails with -EINVAL at line on key, with a
 * message "test.ini:LINE: " (plus "KEY: ") that contains want.
 */
static void
expect_error(const char *text, unsigned line, const char *key, const char *want)
{
	char prefix[128];

	assert_int_equal(parse(text), -EINVAL);
	assert_string_equal(err.file, "test.ini");
	assert_int_equal(err.line, line);
	assert_string_equal(err.key, key);
	if (key[0] != '\0')
		snprintf(
		    prefix, sizeof(prefix), "test.ini:%u: %s: ", line, key);
	else
		snprintf(prefix, sizeof(prefix), "test.ini:%u: ", line);
	if (strncmp(err.msg, prefix, strlen(prefix)) != 0 ||
	    strstr(err.msg, want) == NULL)
		fail_msg("message \"%s\" lacks \"%s\" or \"%s\"", err.msg,
		    prefix, want);
	assert_int_equal(err.msg[strlen(err.msg) - 1], '.');
	reset(NULL);
}

static void
test_all_types(void **state)
{
	(void)state;
	assert_int_equal(parse("[main]\n"
	                       "name = box one\n"
	                       "verbose = yes\n"
	                       "count = 18446744073709551615\n"
	                       "workers = 64\n"
	                       "interval = 5m\n"
	                       "cache = 64M\n"
	                       "mode = 0640\n"
	                       "share = 12.5%\n"),
	    0);
	assert_string_equal(conf.main.name, "box one");
	assert_int_equal(conf.main.verbose, 1);
	assert_true(conf.main.count == UINT64_MAX);
	assert_int_equal(conf.main.workers, 64);
	assert_true(conf.main.interval_ns == UINT64_C(300000000000));
	assert_true(conf.main.cache_bytes == UINT64_C(64) << 20);
	assert_int_equal(conf.main.mode, 0640);
	assert_true(conf.main.share > 0.1249 && conf.main.share < 0.1251);
}

static void
test_named_sections(void **state)
{
	(void)state;
	assert_int_equal(parse("[feed news]\n"
	                       "url = https://a.example/news\n"
	                       "tag = world\n"
	                       "tag = daily\n"
	                       "[main]\n"
	                       "count = 3\n"
	                       "[feed   sport  ]\n"
	                       "url = https://a.example/sport\n"
	                       "interval = 90s\n"
	                       "[feed\tweather]\n"
	                       "url = https://b.example/\n"),
	    0);
	assert_int_equal(conf.nfeeds, 3);
	assert_string_equal(conf.feeds[0].name, "news");
	assert_string_equal(conf.feeds[0].url, "https://a.example/news");
	assert_int_equal(conf.feeds[0].tags.n, 2);
	assert_string_equal(conf.feeds[0].tags.v[1], "daily");
	assert_string_equal(conf.feeds[1].name, "sport");
	assert_true(conf.feeds[1].interval_ns == UINT64_C(90000000000));
	assert_string_equal(conf.feeds[2].name, "weather");
	assert_string_equal(conf.feeds[2].url, "https://b.example/");
	assert_int_equal(conf.main.count, 3);
}

static void
test_long_url(void **state)
{
	static const char head[] = "[feed big]\nurl = ";
	char *text, *url;
	size_t n = 5000;

	(void)state;
	url = malloc(n + 1);
	text = malloc(sizeof(head) + n + 2);
	assert_non_null(url);
	assert_non_null(text);
	memcpy(url, "https://x.example/", 18);
	for (size_t i = 18; i < n; i++)
		url[i] = (char)('a' + i % 26);
	url[n] = '\0';
	snprintf(text, sizeof(head) + n + 2, "%s%s\n", head, url);
	assert_int_equal(parse(text), 0);
	assert_int_equal(strlen(conf.feeds[0].url), n);
	assert_string_equal(conf.feeds[0].url, url);
	free(url);
	free(text);
}

/* A line of exactly CONF_MAX_LINE characters passes, LF or CRLF. */
static void
test_line_limit(void **state)
{
	const char *eols[] = {"\n", "\r\n", ""};
	size_t n = CONF_MAX_LINE, i, len;
	char *text = malloc(n + 32);

	(void)state;
	assert_non_null(text);
	for (i = 0; i < 3; i++) {
		len = (size_t)sprintf(text, "[main]\nname = ");
		memset(text + len, 'v', n - 7);
		len += n - 7;
		len += (size_t)sprintf(text + len, "%s", eols[i]);
		assert_int_equal(parse_len(text, len), 0);
		assert_int_equal(strlen(conf.main.name), n - 7);
		reset(NULL);

		/* One more character is refused, not cut. */
		len = (size_t)sprintf(text, "[main]\nname = ");
		memset(text + len, 'v', n - 6);
		len += n - 6;
		len += (size_t)sprintf(text + len, "%s", eols[i]);
		assert_int_equal(parse_len(text, len), -EINVAL);
		assert_int_equal(err.line, 2);
		assert_string_equal(
		    err.msg, "test.ini:2: line too long (limit 8192).");
		assert_null(conf.main.name);
		reset(NULL);
	}
	free(text);
}

static void
test_bom_crlf_comments(void **state)
{
	(void)state;
	assert_int_equal(parse("\xef\xbb\xbf; a comment\r\n"
	                       "# another\r\n"
	                       "[main]\r\n"
	                       "  ; indented comment\r\n"
	                       "name = a ; not a comment\r\n"
	                       "\r\n"
	                       "count = 7\r\n"
	                       "[feed x]\r\n"
	                       "url = https://x.example/\r\n"),
	    0);
	assert_string_equal(conf.main.name, "a ; not a comment");
	assert_int_equal(conf.main.count, 7);
	assert_string_equal(conf.feeds[0].url, "https://x.example/");
	reset(NULL);

	/* The BOM does not shift line numbers. */
	expect_error(
	    "\xef\xbb\xbf[main]\nbogus = 1\n", 2, "bogus", "unknown key");
}

static void
test_empty_values(void **state)
{
	(void)state;
	assert_int_equal(parse("[main]\nname =\n"), 0);
	assert_string_equal(conf.main.name, "");
	reset(NULL);

	expect_error("[main]\nname\n", 2, "name", "no value");
	expect_error("[main]\n\ncount\n", 3, "count", "no value");
	expect_error("[main]\ncount =\n", 2, "count",
	    "empty value; expected a whole number");
	expect_error("[main]\ninterval =   \n", 2, "interval",
	    "empty value; expected a duration");
	expect_error("[main]\n= 3\n", 2, "", "no key name");
}

static void
test_structure_errors(void **state)
{
	(void)state;
	expect_error(
	    "# top\nurl = x\n[feed a]\n", 2, "url", "before any section");
	expect_error("[main]\n[bogus]\n", 2, "",
	    "unknown section [bogus]; known sections are [main], "
	    "[feed NAME].");
	expect_error("[main]\nname = a\n\n[main]\n", 4, "",
	    "section [main] given twice (first on line 1)");
	expect_error("[feed a]\nurl = x\n[feed b]\nurl = y\n[feed  a]\n", 5, "",
	    "section [feed a] given twice (first on line 1)");
	expect_error(
	    "[main]\nbogus = 1\n", 2, "bogus", "unknown key in section [main]");
	expect_error("[feed a]\nurl = x\nname = y\n", 3, "name",
	    "unknown key in section [feed a]");
	expect_error("[main]\nname = a\ncount = 1\nname = b\n", 4, "name",
	    "given twice in section [main] (first on line 2)");
	expect_error("[feed]\n", 1, "", "needs a name");
	expect_error("[main x]\n", 1, "", "takes no name");
	expect_error("[feed Bad!]\nurl = x\n", 1, "",
	    "section [feed Bad!] refused: bad feed name.");
	expect_error("[main] ; note\n", 1, "", "text after ']'");
	expect_error("[main]\n[feed a\n", 2, "", "without a closing ']'");
	expect_error("[main]\nname = a\rcount = 1\n", 2, "", "carriage return");
}

static void
test_required(void **state)
{
	(void)state;
	/* Reported on the header line, when the next section starts... */
	expect_error("[feed a]\ninterval = 5m\n\n[main]\n", 1, "url",
	    "required key missing from section [feed a]");
	/* ...and at the end of the file. */
	expect_error("[main]\n[feed b]\ninterval = 5m\n", 2, "url",
	    "required key missing from section [feed b]");
}

static void
test_value_errors(void **state)
{
	(void)state;
	assert_int_equal(parse("[main]\ninterval = 5x\n"), -EINVAL);
	assert_string_equal(err.msg,
	    "test.ini:2: interval: '5x' is not a duration (e.g. 30s, 5m, "
	    "1h).");
	reset(NULL);

	expect_error("[main]\nworkers = 65\n", 2, "workers",
	    "'65' is out of range (1 to 64).");
	expect_error(
	    "[main]\nworkers = 0\n", 2, "workers", "out of range (1 to 64)");
	expect_error(
	    "[main]\nworkers = -1\n", 2, "workers", "is not a whole number");
	expect_error(
	    "[main]\ncount = 18446744073709551616\n", 2, "count", "too large");
	expect_error("[main]\ninterval = 2h\n", 2, "interval",
	    "'2h' is out of range (1s to 1h).");
	expect_error("[main]\ninterval = 500ms\n", 2, "interval",
	    "out of range (1s to 1h)");
	expect_error("[main]\ncache = 1K\n", 2, "cache",
	    "'1K' is out of range (4K to 1G).");
	expect_error("[main]\ncache = lots\n", 2, "cache", "is not a size");
	expect_error("[main]\nverbose = maybe\n", 2, "verbose",
	    "'maybe' is not a boolean");
	expect_error(
	    "[main]\nmode = 0999\n", 2, "mode", "is not an octal file mode");
	expect_error("[main]\nshare = 150\n", 2, "share",
	    "is not a percentage from 0 to 100");
	expect_error("[feed a]\nurl = x\ntag = Big\n", 3, "tag",
	    "'Big': not a lowercase word.");
	expect_error("[feed a]\nurl = x\ntag = a\ntag = b\ntag = c\ntag = d\n",
	    6, "tag", "more than 3 tags");
	/* A masked key's bad value is quoted through its mask only. */
	expect_error("[feed a]\nurl = x\npass = Sekret\n", 3, "pass",
	    "'S***': not a lowercase word.");
	assert_null(strstr(err.msg, "ekret"));
}

/* Control characters in a bad value are not copied into the message. */
static void
test_quoting(void **state)
{
	char text[300];

	(void)state;
	expect_error("[main]\nverbose = \x1b[31mred\n", 2, "verbose",
	    "'?[31mred' is not a boolean");
	snprintf(text, sizeof(text), "[main]\nverbose = %0200d\n", 1);
	expect_error(text, 2, "verbose", "...' is not a boolean");
}

static void
test_nul_byte(void **state)
{
	static const char text[] = "[main]\nname = a\0b\n";

	(void)state;
	assert_int_equal(parse_len(text, sizeof(text) - 1), -EINVAL);
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.msg, "NUL byte"));
}

/* The parse stops at the first error: later lines are not applied. */
static void
test_stops_at_first_error(void **state)
{
	(void)state;
	assert_int_equal(
	    parse("[main]\ncount = 1\nbogus = 2\ncount = 3\n"), -EINVAL);
	assert_int_equal(conf.main.count, 1);
	assert_int_equal(err.line, 3);
}

static void
test_error_set(void **state)
{
	struct conf_error e;

	(void)state;
	conf_error_set(&e, "a.ini", 7, "url", "must be %s.", "https");
	assert_string_equal(e.msg, "a.ini:7: url: must be https.");
	assert_int_equal(e.line, 7);
	assert_string_equal(e.key, "url");
	conf_error_set(&e, "a.ini", 0, NULL, "no feeds.");
	assert_string_equal(e.msg, "a.ini: no feeds.");
	assert_string_equal(e.key, "");
	conf_error_set(&e, "a.ini", 3, "", "bad.");
	assert_string_equal(e.msg, "a.ini:3: bad.");
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void
test_parse_file(void **state)
{
	const char *dir = getenv("TK_TEST_TMPDIR");
	char path[512];
	FILE *f;

	(void)state;
	if (dir == NULL)
		dir = "/tmp";
	snprintf(
	    path, sizeof(path), "%s/test_config.%ld.ini", dir, (long)getpid());
	write_file(path, "[main]\nname = from file\n[feed f]\nurl = u\n"
	                 "[feed g]\nurl = v\nbogus = 1\n");
	assert_int_equal(conf_parse_file(path, sections, &conf, &err), -EINVAL);
	assert_string_equal(err.file, path);
	assert_int_equal(err.line, 7);
	assert_string_equal(err.key, "bogus");
	assert_string_equal(conf.main.name, "from file");
	reset(NULL);

	write_file(path, "[main]\nname = from file\n");
	assert_int_equal(conf_parse_file(path, sections, &conf, &err), 0);
	assert_string_equal(conf.main.name, "from file");
	reset(NULL);

	/* Larger than CONF_MAX_FILE: refused whole. */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[main]\n", f);
	for (int i = 0; i < CONF_MAX_FILE / 16; i++)
		fputs("# padding line.\n", f); /* 16 bytes */
	assert_int_equal(fclose(f), 0);
	assert_int_equal(conf_parse_file(path, sections, &conf, &err), -EFBIG);
	assert_int_equal(err.line, 0);
	assert_non_null(strstr(err.msg, "larger than"));
	reset(NULL);

	assert_int_equal(unlink(path), 0);
	assert_int_equal(conf_parse_file(path, sections, &conf, &err), -ENOENT);
	assert_string_equal(err.file, path);
	assert_non_null(strstr(err.msg, "No such file"));
	assert_int_equal(conf_parse_file(dir, sections, &conf, &err), -EISDIR);
}

/* Collects list items into a '|'-joined string; refuses "bad". */
static int
collect(void *field, const char *value, char *why, size_t why_size)
{
	char *out = field;

	if (strcmp(value, "bad") == 0) {
		snprintf(why, why_size, "refused");
		return -EINVAL;
	}
	if (out[0] != '\0')
		strcat(out, "|");
	strcat(out, value);
	return 0;
}

static void
test_each_item(void **state)
{
	char out[128] = "", why[64];

	(void)state;
	assert_int_equal(
	    conf_each_item(" a, b ,c\t", collect, out, why, sizeof(why)), 0);
	assert_string_equal(out, "a|b|c");
	out[0] = '\0';
	assert_int_equal(
	    conf_each_item("a,,b", collect, out, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "empty"));
	out[0] = '\0';
	assert_int_equal(
	    conf_each_item("a, bad, c", collect, out, why, sizeof(why)),
	    -EINVAL);
	/* In a list, the item is named; alone, the value says it all. */
	assert_string_equal(why, "item 2, 'bad': refused");
	assert_string_equal(out, "a");
	out[0] = '\0';
	assert_int_equal(
	    conf_each_item(" bad ", collect, out, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "refused");
}

/* conf_load: defaults, a singleton section with no open(), finish, free. */
struct loaded {
	uint32_t workers;
	char name[32];
	int freed;
};

static const struct conf_key loaded_keys[] = {
    CONF_KEY("workers", CONF_U32, struct loaded, workers),
    CONF_KEY_END,
};

static const struct conf_section loaded_sections[] = {
    {"main", false, loaded_keys, NULL},
    {0},
};

static void
loaded_start(void *c, const char *name)
{
	struct loaded *l = c;

	memset(l, 0, sizeof(*l));
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->workers = 4;
}

static int
loaded_finish(void *c, struct conf_error *e)
{
	struct loaded *l = c;

	if (l->workers % 2 == 0)
		return 0;
	conf_error_set(e, l->name, 0, "workers", "must be even.");
	return -EINVAL;
}

static void
loaded_free(void *c)
{
	((struct loaded *)c)->freed++;
}

static void
test_load(void **state)
{
	static const struct conf_loader loader = {
	    loaded_sections, loaded_start, loaded_finish, loaded_free};
	static const struct conf_section named_without_open[] = {
	    {"feed", true, loaded_keys, NULL},
	    {0},
	};
	struct loaded l;

	(void)state;
	assert_int_equal(conf_load(&loader, "a.conf", "", 0, &l, &err), 0);
	assert_int_equal(l.workers, 4);
	assert_string_equal(l.name, "a.conf");

	assert_int_equal(
	    conf_load(&loader, "b.conf", "[main]\nworkers = 8\n", 19, &l, &err),
	    0);
	assert_int_equal(l.workers, 8);
	assert_int_equal(l.freed, 0);

	assert_int_equal(
	    conf_load(&loader, "c.conf", "[main]\nworkers = 7\n", 19, &l, &err),
	    -EINVAL);
	assert_string_equal(err.msg, "c.conf: workers: must be even.");
	assert_int_equal(l.freed, 1);

	assert_int_equal(
	    conf_load(&loader, "/nonexistent/d.conf", NULL, 0, &l, &err),
	    -ENOENT);
	assert_int_equal(l.freed, 1);

	assert_int_equal(conf_parse_buf("e.conf", "[feed a]\n", 9,
	                     named_without_open, &l, &err),
	    -EINVAL);
	assert_non_null(strstr(err.msg, "named and has no open function"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_all_types, reset),
	    cmocka_unit_test_teardown(test_named_sections, reset),
	    cmocka_unit_test_teardown(test_long_url, reset),
	    cmocka_unit_test_teardown(test_line_limit, reset),
	    cmocka_unit_test_teardown(test_bom_crlf_comments, reset),
	    cmocka_unit_test_teardown(test_empty_values, reset),
	    cmocka_unit_test_teardown(test_structure_errors, reset),
	    cmocka_unit_test_teardown(test_required, reset),
	    cmocka_unit_test_teardown(test_value_errors, reset),
	    cmocka_unit_test_teardown(test_quoting, reset),
	    cmocka_unit_test_teardown(test_nul_byte, reset),
	    cmocka_unit_test_teardown(test_stops_at_first_error, reset),
	    cmocka_unit_test_teardown(test_error_set, reset),
	    cmocka_unit_test_teardown(test_parse_file, reset),
	    cmocka_unit_test(test_each_item),
	    cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: ISC */
/*
 * Fuzzes conf_parse_buf() with a table like a real program's: a singleton
 * section with a key of every type and a named section with a required
 * string and a repeatable CONF_CUSTOM key. Besides crashes it checks the
 * promises of config.h: success means every required key is set, failure
 * means -EINVAL or -ENOMEM and a message naming the file.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define MAX_FEEDS 16
#define MAX_TAGS 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
	char *url;
	char *title;
	uint64_t interval_ns;
	struct tags tags;
};

struct fuzz_conf {
	struct main_conf main;
	struct feed feeds[MAX_FEEDS];
	unsigned nfeeds;
};

static void *
open_main(void *ctx, const char *instance, char *why, size_t why_size)
{
	struct fuzz_conf *c = ctx;

	if (instance != NULL) {
		snprintf(why, why_size, "singleton opened with a name");
		return NULL;
	}
	return &c->main;
}

static void *
open_feed(void *ctx, const char *instance, char *why, size_t why_size)
{
	struct fuzz_conf *c = ctx;

	if (instance == NULL || instance[0] == '\0' ||
	    strspn(instance, "abcdefghijklmnopqrstuvwxyz0123456789-_.") !=
	        strlen(instance)) {
		snprintf(why, why_size, "bad feed name");
		return NULL;
	}
	if (c->nfeeds == MAX_FEEDS) {
		snprintf(why, why_size, "more than %d feeds", MAX_FEEDS);
		return NULL;
	}
	return &c->feeds[c->nfeeds++];
}

static int
parse_tag(void *field, const char *value, char *why, size_t why_size)
{
	struct tags *t = field;
	size_t len = strlen(value);

	if (len == 0 || len >= sizeof(t->v[0]) ||
	    strspn(value, "abcdefghijklmnopqrstuvwxyz") != len) {
		snprintf(why, why_size, "not a short lowercase word");
		return -EINVAL;
	}
	if (t->n == MAX_TAGS) {
		snprintf(why, why_size, "more than %d tags", MAX_TAGS);
		return -EINVAL;
	}
	memcpy(t->v[t->n++], value, len + 1);
	return 0;
}

static const struct conf_key main_keys[] = {
    CONF_KEY("name", CONF_STRING, struct main_conf, name),
    CONF_KEY("verbose", CONF_BOOL, struct main_conf, verbose),
    CONF_KEY("count", CONF_U64, struct main_conf, count),
    CONF_KEY_RANGE("workers", CONF_U32, struct main_conf, workers, 1, 64),
    CONF_KEY_RANGE("interval", CONF_DURATION, struct main_conf, interval_ns,
        UINT64_C(1000000000), UINT64_C(86400000000000)),
    CONF_KEY_RANGE("cache", CONF_SIZE, struct main_conf, cache_bytes, 4096, 0),
    CONF_KEY("mode", CONF_MODE, struct main_conf, mode),
    CONF_KEY("share", CONF_PERCENT, struct main_conf, share),
    CONF_KEY_END,
};

static const struct conf_key feed_keys[] = {
    CONF_KEY_REQUIRED("url", CONF_STRING, struct feed, url),
    CONF_KEY("title", CONF_STRING, struct feed, title),
    CONF_KEY("interval", CONF_DURATION, struct feed, interval_ns),
    CONF_KEY_CUSTOM("tag", struct feed, tags, parse_tag, true),
    CONF_KEY_END,
};

static const struct conf_section sections[] = {
    {"main", false, main_keys, open_main},
    {"feed", true, feed_keys, open_feed},
    {0},
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_conf conf;
	struct conf_error err;
	unsigned i;
	int r;

	memset(&conf, 0, sizeof(conf));
	memset(&err, 0, sizeof(err));
	r = conf_parse_buf(
	    "fuzz.ini", (const char *)data, size, sections, &conf, &err);
	if (r == 0) {
		for (i = 0; i < conf.nfeeds; i++)
			if (conf.feeds[i].url == NULL)
				abort(); /* a required key went missing */
		if (conf.main.workers > 64 || conf.main.share > 1.0 ||
		    conf.main.mode > 07777)
			abort();
	} else {
		if (r != -EINVAL && r != -ENOMEM)
			abort();
		if (strncmp(err.msg, "fuzz.ini:", 9) != 0 ||
		    memchr(err.msg, '\0', sizeof(err.msg)) == NULL)
			abort();
	}

	free(conf.main.name);
	for (i = 0; i < conf.nfeeds; i++) {
		free(conf.feeds[i].url);
		free(conf.feeds[i].title);
	}
	return 0;
}

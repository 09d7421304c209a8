/* SPDX-License-Identifier: ISC */
/*
 * feedcache's configuration reader: the INI layer, the key tables and
 * the custom parsers (url, header, validate, cache_dir). Anything it
 * accepts must keep every feed name inside the cache directory and every
 * URL on http or https.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feedcache_conf conf;
	struct conf_error err;

	if (feedcache_conf_load_buf(
	        "fuzz.conf", (const char *)data, size, &conf, &err) < 0)
		return 0;
	for (size_t i = 0; i < conf.nfeeds; i++) {
		const struct feed *f = conf.feeds[i];

		if (!feed_name_valid(f->name) ||
		    (strncasecmp(f->url, "http://", 7) != 0 &&
		        strncasecmp(f->url, "https://", 8) != 0))
			abort();
	}
	if (conf.cache_dir[0] != '/')
		abort();
	feedcache_conf_free(&conf);
	return 0;
}

/* SPDX-License-Identifier: ISC */
/*
 * The meta file reader: any bytes in a cache directory. Whatever parses
 * must format back to text that parses to the same state.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "meta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feed_meta m, back;
	char buf[META_MAX_SIZE * 2], again[META_MAX_SIZE * 2];
	int n, n2;

	if (meta_parse((const char *)data, size, &m) < 0)
		return 0;
	n = meta_format(&m, buf, sizeof(buf));
	if (n < 0 || meta_parse(buf, (size_t)n, &back) < 0)
		abort();
	n2 = meta_format(&back, again, sizeof(again));
	if (n2 != n || memcmp(buf, again, (size_t)n) != 0)
		abort();
	return 0;
}

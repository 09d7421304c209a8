/* SPDX-License-Identifier: ISC */
/*
 * The speed probe's parsers: /proc/cpuinfo (first byte even) and the
 * best-time file (odd). A cpuinfo that parses must give a key that is
 * one printable line; a best-time file that parses must format back to
 * something that parses to the same table.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "speed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data + 1;
	uint64_t best[4], again[4];
	struct speed_best b = {.cap = 4, .best_ns = best};
	struct speed_best c = {.cap = 4, .best_ns = again};
	struct cpu_ident id;
	char key[SPEED_KEY_MAX], out[1024];
	int n;

	if (size < 1)
		return 0;
	size--;
	if (data[0] % 2 == 0) {
		if (cpuinfo_parse(text, size, &id) == 0 &&
		    (n = speed_key(&id, key, sizeof(key))) > 0) {
			for (int i = 0; i < n; i++)
				if (key[i] < 0x20 || key[i] >= 0x7f)
					abort();
		}
		return 0;
	}
	if (speed_best_parse(text, size, &b) < 0)
		return 0;
	n = speed_best_format(&b, out, sizeof(out));
	if (n < 0)
		abort();
	if (speed_best_parse(out, (size_t)n, &c) < 0 ||
	    strcmp(b.key, c.key) != 0 || memcmp(best, again, sizeof(best)) != 0)
		abort();
	return 0;
}

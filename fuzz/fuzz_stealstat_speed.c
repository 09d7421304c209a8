/* SPDX-License-Identifier: ISC */
/*
 * The speed probe's parsers, picked by the first byte modulo 3:
 * /proc/cpuinfo (0), the best-time file (1), a sample's speed blob (2).
 * A cpuinfo that parses must give a key that is one printable line; a
 * best-time file or a blob that parses must format back to something
 * that parses to the same values.
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
	if (data[0] % 3 == 2) {
		struct speed_point p[4], q[4];
		int m;

		memset(p, 0, sizeof(p)); /* padding compares equal */
		memset(q, 0, sizeof(q));
		n = speed_points_parse(text, size, p, 4);
		if (n < 0)
			return 0;
		m = speed_points_format(p, (unsigned)n, out, sizeof(out));
		if (m < 0 || speed_points_parse(out, (size_t)m, q, 4) != n ||
		    memcmp(p, q, (size_t)n * sizeof(p[0])) != 0)
			abort();
		for (int i = 0; i < n; i++)
			if (!(speed_point_ratio(&p[i]) > 0) ||
			    speed_point_ratio(&p[i]) > 1.0)
				abort();
		return 0;
	}
	if (data[0] % 3 == 0) {
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

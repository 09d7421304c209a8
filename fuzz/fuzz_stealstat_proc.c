/* SPDX-License-Identifier: ISC */
/*
 * The /proc parsers of stealstat: /proc/stat, /proc/pressure/cpu and a
 * cgroup's cpu.stat. The first byte picks the parser; the rest is the
 * file. A CPU table smaller than the input's CPU count checks -ENOSPC.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "procstat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct procstat_cpu cpus[4];
	struct procstat ps = {.cpu = cpus, .cpu_cap = 4};
	struct psi_cpu psi;
	struct cgroup_cpu cg;
	const char *text = (const char *)data + 1;
	char path[256];
	int n;

	if (size < 1)
		return 0;
	ps.cpu_detail = (data[0] & 4) == 0;
	size--;
	switch (data[0] % 4) {
	case 0:
		n = procstat_parse(text, size, &ps);
		if (n > 4 || (n >= 0 && (unsigned)n != ps.ncpu) ||
		    (n >= 0 &&
		        (ps.ncols < PROCSTAT_MIN_COLS || ps.ncols > COL_MAX)))
			abort();
		break;
	case 1:
		psi_parse(text, size, &psi);
		break;
	case 2:
		cgroup_cpu_parse(text, size, &cg);
		break;
	case 3: {
		/* /proc/self/cgroup, a NUL, then /proc/self/mountinfo. */
		const char *nul = memchr(text, '\0', size);
		size_t first = nul != NULL ? (size_t)(nul - text) : size;
		size_t rest = nul != NULL ? size - first - 1 : 0;

		if (cgroup_cpu_stat_path(text, first, nul ? nul + 1 : text,
		        rest, path, sizeof(path)) == 0 &&
		    strlen(path) >= sizeof(path))
			abort();
		break;
	}
	}
	return 0;
}

/* SPDX-License-Identifier: ISC */
/*
 * Snapshots: parsing the raw text of one sample into counters.
 */
#include <errno.h>
#include <stdlib.h>

#include "snapshot.h"

int
snapshot_init(struct snapshot *s, unsigned cpu_cap, bool cpu_detail)
{
	*s = (struct snapshot){0};
	if (cpu_cap == 0)
		cpu_cap = 1;
	s->stat.cpu = calloc(cpu_cap, sizeof(*s->stat.cpu));
	if (s->stat.cpu == NULL)
		return -ENOMEM;
	s->stat.cpu_cap = cpu_cap;
	s->stat.cpu_detail = cpu_detail;
	return 0;
}

void
snapshot_free(struct snapshot *s)
{
	if (s == NULL)
		return;
	free(s->stat.cpu);
	s->stat.cpu = NULL;
	s->stat.cpu_cap = 0;
}

int
snapshot_parse(
    const struct raw_snapshot *raw, struct snapshot *s, const char **what)
{
	int n;

	*what = "stat";
	for (;;) {
		n = procstat_parse(raw->stat, raw->stat_len, &s->stat);
		if (n != -ENOSPC)
			break;
		/* Hotplug added CPUs: grow once, outside the steady state. */
		unsigned cap = s->stat.ncpu * 2;
		struct procstat_cpu *cpu =
		    realloc(s->stat.cpu, cap * sizeof(*cpu));
		if (cpu == NULL)
			return -ENOMEM;
		s->stat.cpu = cpu;
		s->stat.cpu_cap = cap;
	}
	if (n < 0)
		return n;

	s->have_psi = false;
	if (raw->psi != NULL) {
		*what = "pressure/cpu";
		if (psi_parse(raw->psi, raw->psi_len, &s->psi) < 0)
			return -EINVAL;
		s->have_psi = true;
	}
	s->have_cgroup = false;
	if (raw->cgroup != NULL) {
		*what = "cgroup cpu.stat";
		if (cgroup_cpu_parse(raw->cgroup, raw->cgroup_len, &s->cgroup) <
		    0)
			return -EINVAL;
		s->have_cgroup = true;
	}
	s->mono_ns = raw->mono_ns;
	s->wall_ns = raw->wall_ns;
	*what = NULL;
	return 0;
}

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
	free(s->speed);
	s->speed = NULL;
	s->speed_cap = 0;
	s->nspeed = 0;
	s->have_speed = false;
}

/* Parses the speed blob, growing s->speed as needed. */
static int
parse_speed(const struct raw_snapshot *raw, struct snapshot *s)
{
	for (;;) {
		int n = speed_points_parse(
		    raw->speed, raw->speed_len, s->speed, s->speed_cap);
		unsigned cap;
		struct speed_point *p;

		if (n >= 0) {
			s->nspeed = (unsigned)n;
			return 0;
		}
		if (n != -ENOSPC || s->speed_cap >= SPEED_BEST_CPUS)
			return -EINVAL;
		cap = s->speed_cap > 0 ? s->speed_cap * 2 : 8;
		if (cap > SPEED_BEST_CPUS)
			cap = SPEED_BEST_CPUS;
		if ((p = realloc(s->speed, cap * sizeof(*p))) == NULL)
			return -ENOMEM;
		s->speed = p;
		s->speed_cap = cap;
	}
}

const struct speed_point *
snapshot_speed(const struct snapshot *s, unsigned id)
{
	if (!s->have_speed)
		return NULL;
	for (unsigned i = 0; i < s->nspeed; i++)
		if (s->speed[i].cpu == id)
			return &s->speed[i];
	return NULL;
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
	s->have_speed = false;
	s->nspeed = 0;
	if (raw->speed != NULL) {
		int rc;

		*what = "speed";
		if ((rc = parse_speed(raw, s)) < 0)
			return rc;
		s->have_speed = true;
	}
	s->mono_ns = raw->mono_ns;
	s->wall_ns = raw->wall_ns;
	*what = NULL;
	return 0;
}

void
speed_attach(struct speed_prober *p, struct raw_snapshot *raw)
{
	raw->speed = NULL;
	raw->speed_len = 0;
	if (speed_prober_run(p) > 0)
		raw->speed = speed_prober_blob(p, &raw->speed_len);
}

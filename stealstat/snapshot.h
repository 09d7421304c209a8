/* SPDX-License-Identifier: ISC */
/*
 * A snapshot: the kernel's counters at one instant, as raw text (what
 * record mode stores) and parsed (what the engine compares).
 */
#ifndef STEALSTAT_SNAPSHOT_H
#define STEALSTAT_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "procstat.h"
#include "speed.h"

/* The files as read; a source that is absent has NULL text. */
struct raw_snapshot {
	uint64_t mono_ns; /* CLOCK_MONOTONIC when /proc/stat was read */
	uint64_t wall_ns; /* CLOCK_REALTIME, for display only */
	const char *stat;
	size_t stat_len;
	const char *psi;
	size_t psi_len;
	const char *cgroup;
	size_t cgroup_len;
	const char *speed; /* the speed blob (speed.h), NULL when not probed */
	size_t speed_len;
};

struct snapshot {
	uint64_t mono_ns;
	uint64_t wall_ns;
	struct procstat stat; /* stat.cpu is owned by the snapshot */
	bool have_psi;
	struct psi_cpu psi;
	bool have_cgroup;
	struct cgroup_cpu cgroup;
	bool have_speed; /* the sample carries a speed blob */
	unsigned nspeed; /* probed CPUs in speed[], ids ascending */
	unsigned speed_cap;
	struct speed_point *speed; /* owned */
};

/*
 * Allocates room for cpu_cap CPUs; cpu_detail asks for per-CPU columns
 * (see struct procstat). Returns 0 or -ENOMEM.
 */
int snapshot_init(struct snapshot *s, unsigned cpu_cap, bool cpu_detail);
void snapshot_free(struct snapshot *s);

/*
 * Parses raw into s, growing s->stat.cpu if the image has more CPUs
 * (allocation happens only then, never in the steady state). Returns 0,
 * or -EINVAL with *what set to the file that did not parse ("stat",
 * "pressure/cpu", "cgroup cpu.stat", "speed"); -ENOMEM.
 */
int snapshot_parse(
    const struct raw_snapshot *raw, struct snapshot *s, const char **what);

/*
 * Runs one round of the speed probe and attaches its blob to raw (valid
 * until the next round). A round that probed nothing attaches nothing.
 */
void speed_attach(struct speed_prober *p, struct raw_snapshot *raw);

/* The speed point of CPU id in s, or NULL when it was not probed. */
const struct speed_point *snapshot_speed(const struct snapshot *s, unsigned id);

#endif

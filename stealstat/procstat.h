/* SPDX-License-Identifier: ISC */
/*
 * Parsers for the kernel files stealstat samples: /proc/stat,
 * /proc/pressure/cpu and a cgroup's cpu.stat (v1 or v2). Pure functions:
 * buffer in, struct out, no I/O and no allocation, so they are fuzzed.
 */
#ifndef STEALSTAT_PROCSTAT_H
#define STEALSTAT_PROCSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The columns of a "cpu" line, in USER_HZ ticks, in kernel order. */
enum cpu_col {
	COL_USER,
	COL_NICE,
	COL_SYSTEM,
	COL_IDLE,
	COL_IOWAIT, /* 2.5.41 */
	COL_IRQ, /* 2.6.0 */
	COL_SOFTIRQ, /* 2.6.0 */
	COL_STEAL, /* 2.6.11 */
	COL_GUEST, /* 2.6.24; already included in COL_USER */
	COL_GUEST_NICE, /* 2.6.33; already included in COL_NICE */
	COL_MAX
};

/* The fewest columns any kernel printed (2.4: user nice system idle). */
#define PROCSTAT_MIN_COLS 4

struct cpu_times {
	uint64_t col[COL_MAX];
};

struct procstat_cpu {
	unsigned id; /* N of the "cpuN" line */
	struct cpu_times t;
};

#define PROCSTAT_HAVE_INTR (1u << 0)
#define PROCSTAT_HAVE_CTXT (1u << 1)
#define PROCSTAT_HAVE_RUNNING (1u << 2)
#define PROCSTAT_HAVE_BLOCKED (1u << 3)

struct procstat {
	struct cpu_times total; /* the aggregate "cpu" line */
	unsigned ncols; /* columns on the "cpu" line; missing are 0 */
	unsigned ncpu; /* "cpuN" lines found (online CPUs) */
	unsigned cpu_cap; /* capacity of cpu[], set by the caller */
	bool cpu_detail; /* set by the caller: parse per-CPU columns, or
	                    only the ids (cheaper, for the aggregate view) */
	struct procstat_cpu *cpu; /* caller-owned, cpu_cap entries */
	uint64_t intr; /* total interrupts serviced */
	uint64_t ctxt; /* context switches */
	uint32_t procs_running; /* runnable tasks, including ourselves */
	uint32_t procs_blocked;
	unsigned have; /* PROCSTAT_HAVE_* */
};

/*
 * Parses a /proc/stat image. Fills *out (cpu[] must hold cpu_cap
 * entries; their columns only when out->cpu_detail is set). Returns the number
 * of per-CPU lines, -EINVAL if the text is not a /proc/stat image (no leading
 * "cpu" line, a column that is not a number, fewer than 4 columns, per-CPU
 * lines with a different column count, CPU ids out of order), or -ENOSPC if
 * there are more than cpu_cap CPUs (then out->ncpu holds how many were seen so
 * far, at least cpu_cap + 1). Lines it does not know are skipped.
 */
int procstat_parse(const char *buf, size_t len, struct procstat *out);

/* /proc/pressure/cpu: cumulative stall time in microseconds. */
struct psi_cpu {
	uint64_t some_total_us;
};

/* Returns 0 or -EINVAL if there is no well-formed "some" line. */
int psi_parse(const char *buf, size_t len, struct psi_cpu *out);

/*
 * A cgroup's CPU throttling counters, from cgroup v2 cpu.stat
 * (nr_periods, nr_throttled, throttled_usec) or cgroup v1 cpu/cpu.stat
 * (nr_periods, nr_throttled, throttled_time in ns). Normalized to ns.
 */
struct cgroup_cpu {
	uint64_t nr_periods;
	uint64_t nr_throttled;
	uint64_t throttled_ns;
};

/* Returns 0 or -EINVAL if nr_throttled or the throttled time is missing. */
int cgroup_cpu_parse(const char *buf, size_t len, struct cgroup_cpu *out);

#endif

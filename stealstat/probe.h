/* SPDX-License-Identifier: ISC */
/*
 * Probe mode: measures steal directly, with pinned spinning threads, and
 * compares it with what /proc/stat reports over the same window.
 */
#ifndef STEALSTAT_PROBE_H
#define STEALSTAT_PROBE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct probe_opts {
	uint64_t duration_ns; /* whole probe; 0: 5 s; capped at 24 h */
	bool idle_vs_busy; /* alternate idle and busy phases */
	unsigned phases; /* idle+busy pairs for idle_vs_busy (0: 3) */
	bool json; /* one JSON object per line instead of a table */
	const char *proc_root; /* "/proc" unless --proc (NULL: "/proc") */
};

/*
 * Set by the caller's signal handler to end the probe early: every load
 * loop checks it, the threads are joined and the partial window is
 * reported. probe_run never clears it.
 */
extern volatile sig_atomic_t probe_stop;

/*
 * Runs the probe and prints its report to out. Returns 0 (also when
 * probe_stop ended it early), or -errno if the probe could not run (no
 * CPUs usable, /proc/stat unreadable or not a /proc/stat image, out not
 * writable); the caller logs that.
 */
int probe_run(const struct probe_opts *opts, FILE *out);

/* /proc/thread-self/schedstat: "run_ns wait_ns timeslices\n". */
struct schedstat {
	uint64_t run_ns; /* time on a CPU */
	uint64_t wait_ns; /* runnable on a runqueue but not running */
	uint64_t timeslices; /* times it was switched in */
};

/*
 * Parses one schedstat line: three decimal numbers separated by single
 * spaces, an optional final newline, nothing else. Returns 0, -EINVAL for
 * anything else, -ERANGE for a number above UINT64_MAX. *out is not
 * touched on failure.
 */
int schedstat_parse(const char *buf, size_t len, struct schedstat *out);

/*
 * The pct-th percentile (0..100, nearest rank) of n sorted samples; 0
 * when n is 0.
 */
uint64_t percentile_u64(const uint64_t *sorted, size_t n, unsigned pct);

struct lateness {
	size_t n;
	uint64_t p50_ns;
	uint64_t p99_ns;
	uint64_t max_ns;
};

/* Sorts samples in place and summarizes them into *out. */
void lateness_summarize(uint64_t *samples, size_t n, struct lateness *out);

/* /proc/stat over the idle or the busy phases, summed over the CPUs. */
struct phase_steal {
	uint64_t steal_ns; /* steal column */
	uint64_t nonidle_ns; /* user+nice+system+irq+softirq columns */
	uint64_t cpu_ns; /* phase wall time times CPUs */
};

enum phases_verdict {
	PHASES_INCONCLUSIVE, /* no steal seen in either phase */
	PHASES_NO_IDLE_STEAL, /* idle ~ 0, busy > 0: HLT is intercepted */
	PHASES_IDLE_STEAL, /* idle vCPUs accrue steal */
	PHASES_IDLE_NOT_IDLE, /* busy > 0, but the idle phases were busy */
};

/*
 * Decides what the idle and busy phases say about idle vCPUs. Steal
 * counts as seen when it exceeds noise_ns (the tick rounding of the
 * samples) and 0.1% of the CPU time. Idle phases are never perfectly
 * idle, so the steal their own non-idle time explains (at the busy
 * phases' steal per non-idle ns) is taken off first; and idle phases
 * that were more busy than idle cannot show that idle vCPUs are spared.
 */
enum phases_verdict phases_verdict(const struct phase_steal *idle,
    const struct phase_steal *busy, uint64_t noise_ns);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * The verdict engine: from two snapshots, what happened in the interval
 * between them, per CPU and in aggregate, and whether steal hurt.
 *
 * Pure: no I/O, no clock. Live mode and replay feed it the same
 * snapshots and so print the same thing.
 */
#ifndef STEALSTAT_ENGINE_H
#define STEALSTAT_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"
#include "speed.h"

enum verdict {
	VERDICT_OK,
	VERDICT_IDLE_STEAL,
	VERDICT_SATURATED,
	VERDICT_STOLEN,
	VERDICT_CAPPED,
	VERDICT_THROTTLED,
	VERDICT_GLITCH,
	VERDICT_SLOWED, /* the speed probe: slower, not stolen */
	VERDICT_MAX
};

const char *verdict_name(enum verdict v);

/* Thresholds, all documented in stealstat.1. Fractions, not percents. */
struct verdict_opts {
	double busy; /* u at or above this is "busy" (0.50) */
	double steal; /* r at or above this is heavy steal (0.10) */
	unsigned sustain; /* intervals heavy steal must last (3) */
	double capped_util; /* u at or above this for capped (0.95) */
	double capped_spread; /* max - min of r over the window (0.05) */
	double psi; /* PSI cpu some share for saturated (0.20) */
	double runq; /* runnable tasks per CPU for saturated (1.0) */
	double throttle; /* share of quota periods throttled (0.05) */
	double slow; /* speed below this, sustained, is slowed (0.70) */
};

void verdict_opts_default(struct verdict_opts *o);

#define ENGINE_WINDOW_MAX 32 /* largest sustain */
#define REASON_MAX 192

/* Why a verdict was given; the text is made only when it is shown. */
enum reason {
	REASON_NO_STEAL,
	REASON_NO_STEAL_FIELD, /* an old kernel without the steal column */
	REASON_BELOW_THRESHOLD,
	REASON_NOT_SUSTAINED,
	REASON_IDLE_STEAL,
	REASON_STOLEN,
	REASON_CAPPED,
	REASON_SATURATED,
	REASON_THROTTLED,
	REASON_GLITCH,
	REASON_SLOWED,
};

/* One CPU (or the aggregate) over one interval. */
struct cpu_interval {
	int cpu; /* -1 for the aggregate */
	/* Shares of all ticks in the interval, as vmstat/mpstat show. */
	double pct_user, pct_system, pct_idle, pct_iowait, pct_steal;
	uint64_t steal_ticks;
	uint64_t busy_ticks, idle_ticks; /* B and I above */
	double u; /* B / (B + I): how busy the vCPU wanted to be */
	double r; /* S / (B + S): share of wanted time stolen */
	double wake_delay_us; /* S / interrupts, < 0 when unknown */
	enum verdict verdict;
	enum reason why;
	unsigned heavy_run; /* consecutive heavy-steal intervals */
	double r_min, r_max; /* of r over those intervals */
	/* The speed probe (speed.h), when the sample carried it. */
	bool have_speed;
	double speed; /* best / this unit, (0, 1] */
	double lost_us; /* the probe's lost time */
	unsigned speed_flags; /* SPEED_OTHERS_BUSY ... */
	double others_busy; /* u of the guest's other CPUs, < 0: none */
	enum slow_judgement slow;
	unsigned slow_run; /* slow probes in a row */
	double slow_worst; /* lowest speed of that run */
	double slow_last; /* the latest slow probe's speed */
};

struct interval {
	uint64_t elapsed_ns;
	uint64_t wall_ns; /* end of the interval */
	unsigned ncols; /* /proc/stat columns; < 8 means no steal */
	bool glitch; /* dropped, see glitch_reason */
	char glitch_reason[REASON_MAX];
	unsigned ncpu;
	bool cpu_detail; /* cpu[] rows computed (else only total) */
	struct cpu_interval total;
	struct cpu_interval *cpu; /* ncpu entries, owned by the engine */
	uint32_t runnable; /* procs_running minus ourselves */
	bool have_psi;
	double psi_some; /* share of the interval some task stalled */
	bool have_cgroup;
	uint64_t nr_periods; /* quota periods that elapsed */
	uint64_t nr_throttled; /* of which the cgroup was throttled in */
	double throttled; /* nr_throttled / nr_periods */
	double throttled_s; /* time throttled, summed over CPUs */
	bool have_speed; /* some CPU carries a speed this interval */
};

/* Per-CPU memory of recent intervals, for "sustained" and "steady". */
struct cpu_history {
	unsigned id;
	unsigned count; /* valid entries, at most sustain */
	unsigned head;
	double u[ENGINE_WINDOW_MAX], r[ENGINE_WINDOW_MAX];
	struct slow_state slow; /* the speed probe's run */
};

/* Totals over the valid intervals of a run, for the summary. */
struct run_totals {
	unsigned intervals, glitches;
	unsigned by_verdict[VERDICT_MAX];
	uint64_t elapsed_ns;
	uint64_t ticks[COL_MAX];
	uint64_t intr;
	bool have_intr;
	uint64_t psi_some_us;
	bool have_psi;
	uint64_t throttled_ns, nr_throttled, nr_periods;
	bool have_cgroup;
	unsigned ncpu;
	unsigned ncols;
	double max_pct_steal;
	uint64_t heavy_busy, heavy_steal; /* ticks in stolen/capped intervals */
	uint64_t start_wall_ns,
	    end_wall_ns; /* of the first and last interval */
	double speed_sum, speed_min; /* of the aggregate rows with speed */
	unsigned speed_n;
};

struct summary {
	enum verdict verdict;
	double pct_steal, u, r, psi_some, throttled, wake_delay_us;
	double speed; /* mean of the probed intervals, < 0 when none */
	char reason[REASON_MAX];
	const char *advice; /* static text, or advice_buf */
	char advice_buf[320];
};

struct engine {
	struct verdict_opts opts;
	unsigned hz; /* USER_HZ, ticks per second */
	struct interval iv;
	unsigned cpu_cap;
	struct cpu_history total_hist;
	struct cpu_history *hist;
	struct run_totals run;
	/* How idle vCPUs poll (idlepoll.h), "" when they halt. */
	char idle_poll[64];
	bool speed_seen; /* some interval carried the speed probe */
};

/* Returns 0 or -ENOMEM / -EINVAL (bad options). */
int engine_init(struct engine *e, const struct verdict_opts *o, unsigned hz);
void engine_free(struct engine *e);

/*
 * Computes the interval from prev to cur into e->iv and folds it into the
 * run totals. A glitch (counter backwards, impossible steal, a forward
 * jump, a changed CPU set) is marked, explained and left out of the
 * totals. Returns &e->iv, or NULL on allocation failure.
 */
const struct interval *engine_step(
    struct engine *e, const struct snapshot *prev, const struct snapshot *cur);

/*
 * Explains ci's verdict (a row of iv) in a sentence with the numbers
 * behind it. Returns buf.
 */
const char *engine_reason(const struct engine *e, const struct interval *iv,
    const struct cpu_interval *ci, char *buf, size_t size);

/* Forgets the run totals (not the recent history behind sustain). */
void engine_reset_run(struct engine *e);
/*
 * Whether the views list verdict v: slowed only once the speed probe has
 * been seen, so that output without it (old recordings) is unchanged.
 */
bool engine_verdict_shown(const struct engine *e, enum verdict v);

/* The verdict for the whole run so far. */
void engine_summary(const struct engine *e, struct summary *out);

#endif

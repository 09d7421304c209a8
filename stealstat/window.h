/* SPDX-License-Identifier: ISC */
/*
 * A window of history judged by the live engine: sar-like rows of a
 * period chosen to fit the window, the verdict for the window and its
 * worst stretch. svg.c draws the same rows.
 */
#ifndef STEALSTAT_WINDOW_H
#define STEALSTAT_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"

/* One period row (the aggregate, or one CPU with cpu >= 0). */
struct window_row {
	uint64_t start_ns, end_ns; /* the period's bounds */
	int cpu;
	unsigned intervals, dropped;
	double pct_user, pct_system, pct_idle, pct_iowait, pct_steal;
	double u, r; /* busy, and steal of wanted time (fractions) */
	bool have_psi, have_cgroup;
	double psi_some, throttled;
	/* The speed probe: the mean speed of the period (the aggregate:
	 * of the probed CPUs), and the lowest probe (the aggregate: of
	 * its slowest CPU). Fractions of the best speed. */
	bool have_speed;
	double speed, speed_min;
	enum verdict verdict;
	char reason[REASON_MAX];
};

/* A run of sustained steal: the worst one is named in the summary. */
struct window_stretch {
	uint64_t start_ns, end_ns;
	uint64_t busy_ticks, steal_ticks;
	enum verdict verdict;
};

/* A run of slowed probes of one CPU: the longest is named. */
struct window_slowed {
	unsigned cpu;
	uint64_t start_ns, end_ns;
	double speed_min; /* the lowest probe in it */
	bool counts; /* it reached the slowed verdict */
};

/* One CPU's speed over the whole window. */
#define WINDOW_SPEED_BINS 101 /* whole percents of the best, 0 to 100 */
struct window_speed {
	unsigned cpu;
	unsigned probes;
	double sum, min;
	unsigned bins[WINDOW_SPEED_BINS]; /* for the median */
	bool in_slowed;
	struct window_slowed cur;
};

/* Something that happened to the recorder, for the notes. */
struct window_event {
	enum { EVENT_GAP, EVENT_CLOCK_STEP, EVENT_CPUS } kind;
	uint64_t at_ns, until_ns;
	int64_t step_ns;
	unsigned from_cpus, to_cpus;
};

struct window {
	uint64_t since_ns, until_ns, period_ns;
	struct window_row *rows; /* aggregate rows, oldest first */
	unsigned nrows, rows_cap;
	struct window_row *cpu_rows; /* with -P: per period, per CPU */
	unsigned ncpu_rows, cpu_rows_cap;
	bool have_worst;
	struct window_stretch worst;
	struct window_speed *speed; /* per probed CPU, ids ascending */
	unsigned nspeed;
	bool have_slowed;
	struct window_slowed slowed; /* the longest slowed stretch */
	struct window_event events[32];
	unsigned nevents;
	char host[64];
};

/* The median of a CPU's probes, to the whole percent (a fraction). */
double window_speed_median(const struct window_speed *ws);

/* Picks the row period for a window: about 150 rows at most. */
uint64_t window_period_ns(uint64_t span_ns);

/*
 * Draws the window as an SVG image (svg.c) into path. thresholds come
 * from e. Returns 0 or -errno.
 */
int window_svg(const struct window *w, const struct engine *e, const char *path,
    const char *title);

#endif

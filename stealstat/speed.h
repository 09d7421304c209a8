/* SPDX-License-Identifier: ISC */
/*
 * The speed probe: a fixed, tiny unit of work run pinned to one CPU and
 * timed with the thread's CPU clock, so a CPU that delivers less work
 * per second of CPU time (a busy SMT sibling, a contended core cache, a
 * host clocked down) shows up even when steal does not move.
 *
 * speed = best CPU time of the unit ever seen on this CPU / this
 * interval's CPU time of the unit (1.0: as fast as ever seen). The best
 * times are kept in a small file keyed by the CPU model and microcode
 * (and the version of the unit), and re-learned when the key changes.
 *
 * The pure parts (cpuinfo parser, best-time file, context, ratios) do
 * no I/O; speed_probe_cpu and the *_read/_load/_save helpers do.
 */
#ifndef STEALSTAT_SPEED_H
#define STEALSTAT_SPEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "procstat.h"

/*
 * The unit of work. Changing any of these changes what a "best time"
 * means, so SPEED_WORK_VERSION goes into the key and old bests are
 * dropped. The walk (128 KiB, one 64-byte line per hop, a random cycle)
 * is larger than any L1d and smaller than any L2 since 2008; a first,
 * untimed read in order brings it in, so the timed part measures the core
 * and its own caches, not the memory a previous interval left behind.
 */
#define SPEED_WORK_VERSION 1
#define SPEED_WALK_BYTES (128u * 1024u)
#define SPEED_LINE_BYTES 64u
#define SPEED_WALK_PASSES 8u
#define SPEED_CHAIN_STEPS 40000u
#define SPEED_ATTEMPTS                                                         \
	3 /* runs of the unit when the kernel switches it out                  \
	   */

struct speed_work {
	uint32_t *next; /* SPEED_WALK_BYTES, one index per line */
	size_t lines;
};

/* Allocates and links the walk. Returns 0 or -ENOMEM. */
int speed_work_init(struct speed_work *w);
void speed_work_free(struct speed_work *w); /* NULL-safe, idempotent */

/*
 * One read of the walk in order (the untimed warm-up), and the timed unit: the
 * dependent integer chain, then SPEED_WALK_PASSES passes of the walk.
 * Both return a value that depends on every step, so that nothing can
 * be optimised away; the result is meaningless otherwise.
 */
uint64_t speed_work_warm(const struct speed_work *w);
uint64_t speed_work_unit(const struct speed_work *w, uint64_t seed);

/* One probe of one CPU. */
struct speed_sample {
	unsigned cpu;
	int err; /* 0, or -errno: the CPU could not be probed */
	uint64_t unit_cpu_ns; /* thread CPU time of the timed unit */
	uint64_t unit_wall_ns; /* CLOCK_MONOTONIC over the same */
	/* From before the move to the CPU to the end of the unit. */
	uint64_t span_wall_ns, span_cpu_ns;
	uint64_t lost_ns; /* span_wall - span_cpu: time the probe did not run */
	bool have_run_delay;
	uint64_t run_delay_ns; /* of which runnable on the guest's runqueue */
	unsigned ran_on; /* sched_getcpu() during the unit */
	unsigned preempted; /* units thrown away: switched out halfway */
};

/*
 * Moves the calling thread to cpu, runs the warm-up pass and the timed
 * unit there, and moves it back to the CPUs it was allowed before.
 * schedstat_fd is an open /proc/thread-self/schedstat of the calling
 * thread, or -1. Fills *out (out->err set too). Returns 0, or -errno
 * (-EINVAL: the CPU is not one this thread may run on).
 */
int speed_probe_cpu(const struct speed_work *w, unsigned cpu, int schedstat_fd,
    struct speed_sample *out);

/*
 * The speed of one measurement against the best: best_ns / unit_ns,
 * capped at 1.0 (a new best is 1.0 by definition). -1 when unknown
 * (unit_ns 0).
 */
double speed_ratio(uint64_t best_ns, uint64_t unit_ns);

/* ---- What identifies the CPU a best time belongs to ---- */

#define SPEED_KEY_MAX 160

struct cpu_ident {
	char vendor[32]; /* vendor_id, or "CPU implementer" on arm64 */
	char model_name[96]; /* "model name", "" when absent */
	bool have_family;
	unsigned long family, model, stepping;
	bool have_microcode;
	unsigned long long microcode;
	unsigned blocks; /* processor blocks seen */
	bool mixed; /* the blocks disagree on the fields above */
};

/*
 * Parses a /proc/cpuinfo image: the identity of the first processor
 * block, and whether the later blocks agree with it. Pure. Returns 0,
 * or -EINVAL when there is no processor block or nothing identifying
 * (no vendor, no model name, no family) in the first one.
 */
int cpuinfo_parse(const char *buf, size_t len, struct cpu_ident *out);

/*
 * The key a best time is kept under: the unit's version, the vendor,
 * family/model/stepping, the microcode and the model name, one line of
 * printable ASCII. Returns its length, or -ENOSPC.
 */
int speed_key(const struct cpu_ident *id, char *buf, size_t size);

/* ---- The best times, kept across restarts ---- */

#define SPEED_BEST_CPUS 4096

struct speed_best {
	char key[SPEED_KEY_MAX];
	unsigned cap; /* entries in best_ns, set by the caller */
	uint64_t *best_ns; /* per CPU id, 0 = not seen; caller-owned */
};

/*
 * Parses a best-time file:
 *
 *	stealstat-speed 1
 *	key <key>
 *	cpu <id> <best ns>
 *	...
 *
 * into *out (best_ns cleared first; ids at or above cap are ignored).
 * Pure. Returns 0, or -EINVAL for anything else (the caller then starts
 * afresh; a damaged file only costs re-learning).
 */
int speed_best_parse(const char *buf, size_t len, struct speed_best *out);

/* Formats *b as above. Returns the length, or -ENOSPC. */
int speed_best_format(const struct speed_best *b, char *buf, size_t size);

/*
 * Folds a measurement of cpu into b. Returns true when it is a new best
 * (then the file is worth saving).
 */
bool speed_best_update(struct speed_best *b, unsigned cpu, uint64_t unit_ns);

/*
 * Loads path into b if its key is key; otherwise (absent, damaged,
 * another CPU or unit) leaves b empty under key. Returns 1 when loaded,
 * 0 when starting afresh, -errno for I/O errors other than ENOENT.
 */
int speed_best_load(const char *path, const char *key, struct speed_best *b);

/* Writes b to path atomically. Returns 0 or -errno. */
int speed_best_save(const char *path, const struct speed_best *b);

/* ---- Context, so a low speed is not misread ---- */

struct speed_context {
	/* The guest's other online CPUs between two /proc/stat reads. */
	bool others_known;
	uint64_t others_busy_ticks; /* user nice system irq softirq */
	uint64_t others_ticks; /* all columns */
	unsigned others; /* how many other CPUs */
	uint32_t runnable; /* procs_running after, less ourselves */
	/* This CPU's frequency, where the guest sees cpufreq. */
	bool freq_known;
	uint64_t freq_khz; /* at the end of the probe */
	bool freq_changed; /* since the previous probe, or during this one */
};

/*
 * Fills the /proc/stat half of *ctx from the two parsed images read
 * before and after the probe of cpu (with cpu_detail). Pure.
 */
void speed_context_from_stat(const struct procstat *before,
    const struct procstat *after, unsigned cpu, struct speed_context *ctx);

/*
 * The frequency half: prev_khz (the previous probe's, 0 when none),
 * before and after this one (0 when unknown). Pure.
 */
void speed_context_freq(struct speed_context *ctx, uint64_t prev_khz,
    uint64_t before_khz, uint64_t after_khz);

/*
 * Whether the other CPUs were busy: the share of their time that was
 * busy, or runnable tasks waiting, at or above busy (a fraction).
 */
bool speed_context_others_busy(const struct speed_context *ctx, double busy);

/*
 * Reads /sys/devices/system/cpu/cpuCPU/cpufreq/scaling_cur_freq under
 * sys_root ("/sys" when NULL). Returns the kHz, or 0 when the guest has
 * no cpufreq (most do not) or the file does not parse.
 */
uint64_t speed_read_freq_khz(const char *sys_root, unsigned cpu);

/*
 * How many CPUs to probe per interval so that probing costs at most
 * budget_ns of CPU time per interval, given one probe's cost: at least 1,
 * at most ncpu. The rest are probed in later intervals, in turn.
 */
unsigned speed_cpus_per_interval(
    uint64_t budget_ns, uint64_t probe_cost_ns, unsigned ncpu);

/* ---- The prober: what the live loop runs once per interval ---- */

/* Where the monitor keeps the bests: its history directory. */
#define SPEED_BEST_NAME "speed-best"
#define SPEED_BEST_DEFAULT "/var/lib/stealstat/" SPEED_BEST_NAME

/* The CPU time a round may cost: 0.1% of the interval. */
uint64_t speed_budget_ns(uint64_t interval_ns);

/* What one CPU's latest probe said. */
struct speed_cpu {
	bool probed; /* in the last round (else: not its turn, or offline) */
	struct speed_sample s;
	double speed; /* best / unit, (0, 1]; < 0 when not probed */
	uint64_t best_ns;
	struct speed_context ctx;
	uint64_t prev_khz;
};

struct speed_prober {
	struct speed_work work;
	struct speed_best best; /* best.best_ns owned */
	char *best_path; /* NULL: bests live only as long as the process */
	bool best_dirty;
	uint64_t best_saved_ns; /* CLOCK_MONOTONIC of the last save */
	int best_load_rc; /* speed_best_load's answer, for the caller */
	char *sys_root;
	int schedstat_fd; /* -1 when absent */
	int stat_fd;
	char *stat_buf;
	size_t stat_size;
	struct procstat before, after; /* cpu[] owned, cap CPUs */
	unsigned cap; /* CPU ids below this are probed */
	struct speed_cpu *cpu; /* cap entries, by CPU id */
	unsigned cursor; /* where the next round starts, for rotation */
	uint64_t budget_ns; /* CPU time allowed per round */
	uint64_t cost_ns; /* CPU time of one CPU's probe, last round */
	unsigned probed; /* CPUs probed in the last round */
	bool best_readonly; /* load the bests, never write them */
	struct speed_point *points; /* cap entries, for the blob */
	char *blob; /* the last round as a speed blob */
	size_t blob_size;
};

/*
 * Sets up the unit, reads PROC/cpuinfo for the key, loads the best times
 * from best_path (NULL: none kept) and opens PROC/stat and the thread's
 * schedstat. budget_ns: CPU time a round may cost (0.1% of the interval).
 * Returns 0 or -errno (PROC/stat unreadable, no memory); the state of the
 * best-time file is in p->best_load_rc, never fatal.
 */
int speed_prober_init(struct speed_prober *p, const char *proc_root,
    const char *sys_root, const char *best_path, uint64_t budget_ns);

/*
 * One round: reads PROC/stat, probes as many online CPUs as the budget
 * allows (all of them on small guests; in turn on large ones), reads
 * PROC/stat again for the context, and saves new bests (at most every
 * ten minutes). Must run on the thread that called speed_prober_init.
 * Returns the number of CPUs probed, or -errno when PROC/stat fails.
 */
int speed_prober_run(struct speed_prober *p);

/* The latest result for CPU id, or NULL when it was never probed. */
const struct speed_cpu *speed_prober_cpu(
    const struct speed_prober *p, unsigned id);

/*
 * The last round as a speed blob (speed_points_format), in a buffer the
 * prober owns until the next call. NULL when no CPU answered.
 */
const char *speed_prober_blob(struct speed_prober *p, size_t *len);

/* Saves unsaved bests and releases everything. NULL-safe. */
void speed_prober_free(struct speed_prober *p);

/* ---- What a sample carries: the speed blob ---- */

/*
 * One probed CPU in a sample, as records and the history keep it: the
 * unit's time and the best time it is judged against (so that a reader
 * recomputes speed exactly), the lost time and the context flags.
 */
#define SPEED_OTHERS_BUSY (1u << 0) /* other CPUs busy around the round */
#define SPEED_FREQ_CHANGED (1u << 1) /* cpufreq moved */
#define SPEED_PREEMPTED (1u << 2) /* a unit was switched out and rerun */
#define SPEED_FLAGS_ALL 7u

struct speed_point {
	unsigned cpu;
	uint64_t unit_ns; /* > 0 */
	uint64_t best_ns; /* > 0, at most unit_ns */
	uint64_t lost_ns;
	unsigned flags; /* SPEED_* above */
};

/*
 * Parses a speed blob, one line per probed CPU, CPU ids ascending:
 *
 *	cpuN UNIT_NS BEST_NS LOST_NS FLAGS
 *
 * into out (at most cap points). Pure. Returns the number of points, or
 * -EINVAL (anything else, best above unit, a zero time, unknown flags),
 * -ENOSPC (more than cap).
 */
int speed_points_parse(
    const char *buf, size_t len, struct speed_point *out, unsigned cap);

/* Formats n points as above. Returns the length, or -ENOSPC. */
int speed_points_format(
    const struct speed_point *p, unsigned n, char *buf, size_t size);

/* A point's speed: best / unit, in (0, 1]. */
double speed_point_ratio(const struct speed_point *p);

/*
 * The last round of a prober as points (the CPUs it probed that
 * answered). Returns how many were written (at most cap).
 */
unsigned speed_prober_points(
    const struct speed_prober *p, struct speed_point *out, unsigned cap);

/* ---- The "slowed" verdict, per CPU ---- */

/*
 * Thresholds, fractions: the engine takes them from its struct
 * verdict_opts (--slow, --sustain, --steal, --busy; stealstat.1).
 */
struct slow_opts {
	double slow; /* speed below this is slow (0.70, --slow 70) */
	unsigned sustain; /* probes in a row it must last (3) */
	double steal; /* r at or above this: steal explains it (0.10) */
	double busy; /* the other CPUs' busy share at or above this: the
	                guest may be slowing itself (0.50) */
};

/* Once slowed, speed must climb this far above --slow to clear it. */
#define SLOW_HYSTERESIS 0.05

/* What one CPU's probe says, after the context is weighed. */
enum slow_judgement {
	SLOW_UNKNOWN, /* not probed this interval (rotation, offline);
	                 a slowed CPU stays SLOW_YES until probed again */
	SLOW_NO, /* at or above --slow */
	SLOW_PENDING, /* below --slow, not yet for --sustain probes */
	SLOW_STEAL, /* below, but steal is high: steal explains it */
	SLOW_SELF, /* below, but the guest's other CPUs were busy */
	SLOW_YES, /* slowed */
};

/* Per-CPU memory between probes. */
struct slow_state {
	unsigned run; /* slow probes in a row */
	bool slowed; /* the verdict stands (hysteresis) */
	double worst; /* lowest speed of the run */
	double last; /* the latest slow probe's speed */
};

/*
 * Judges one probe of one CPU: speed (< 0: not probed), r (the share of
 * wanted time stolen on this CPU in the interval), others_busy (the busy
 * share u of the guest's other CPUs over the interval, < 0 when
 * unknown or when there are none). Updates *st. Pure.
 */
enum slow_judgement slow_judge(const struct slow_opts *o, struct slow_state *st,
    double speed, double r, double others_busy);

/* The advice for a slowed CPU (stealstat.1, VERDICTS). */
extern const char slow_advice[];

#endif

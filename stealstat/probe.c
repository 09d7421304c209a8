/* SPDX-License-Identifier: ISC */
/*
 * Probe mode: one spinning thread pinned to each CPU measures the time its
 * vCPU was taken away while it was running, a sleeping canary measures
 * how late its wakeups are, and /proc/stat is read around the same window
 * so the two views of steal can be compared.
 */
#include <sys/prctl.h>
#include <sys/resource.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "idlepoll.h"
#include "probe.h"
#include "procstat.h"
#include "sample.h"
#include "snapshot.h"
#include "timeutil.h"

#define PROBE_DEFAULT_NS (5 * NSEC_PER_SEC)
#define PROBE_MAX_NS (24 * 3600 * NSEC_PER_SEC)
#define PROBE_DEFAULT_PHASES 3
#define PROBE_MAX_PHASES 1000

/* The canary wakes every 1 ms, slower if that would need more samples. */
#define CANARY_PERIOD_NS NSEC_PER_MSEC
#define CANARY_MAX_SAMPLES (1u << 21)

/* An idle phase sleeps in slices so probe_stop is noticed promptly. */
#define IDLE_SLICE_NS (100 * NSEC_PER_MSEC)

/* /proc/stat is read in one pread; the buffer grows up to this. */

#define SCHEDSTAT_PATH "/proc/thread-self/schedstat"

volatile sig_atomic_t probe_stop;

/* One load window: when it ends, and whether the probe gave up on it. */
struct window {
	uint64_t end_ns; /* CLOCK_MONOTONIC */
	atomic_bool abort;
};

struct spinner {
	pthread_t thread;
	bool started;
	unsigned cpu;
	struct window *win;
	/* Results of one window, written by the thread before it ends. */
	int err; /* 0 or the errno of failed_step */
	const char *failed_step;
	bool idle_policy; /* SCHED_IDLE; else nice 19 */
	bool have_run_delay;
	uint64_t wall_ns;
	uint64_t cpu_ns;
	uint64_t run_delay_ns;
};

struct canary {
	pthread_t thread;
	bool started;
	struct window *win;
	uint64_t period_ns;
	uint64_t *lateness_ns; /* preallocated, cap entries */
	uint64_t *beyond_ns; /* lateness less its guest run delay */
	size_t cap;
	size_t n; /* stored samples, over all windows */
	uint64_t wakes; /* all wakes, stored or not */
	uint64_t max_ns; /* over all wakes */
	uint64_t beyond_max_ns;
	bool have_run_delay; /* beyond_ns is meaningful */
	int err;
};

/* /proc/stat deltas of one CPU over the idle or the busy phases. */
struct phase_cpu {
	uint64_t steal_ticks;
	uint64_t nonidle_ticks;
	uint64_t irq_ticks; /* irq + softirq */
	unsigned missing; /* windows where the CPU had no line */
};

/* Everything known about one probed CPU, summed over the windows. */
struct cpu_tally {
	unsigned cpu;
	int err;
	const char *failed_step;
	bool idle_policy;
	bool have_run_delay;
	uint64_t wall_ns;
	uint64_t cpu_ns;
	uint64_t run_delay_ns;
	struct phase_cpu busy;
	struct phase_cpu idle;
};

struct probe {
	const struct probe_opts *opts;
	FILE *out;
	uint64_t duration_ns;
	unsigned phases;
	long hz;
	unsigned ncpu;
	struct cpu_tally *tally;
	struct spinner *spinner;
	struct canary canary;
	int stat_fd;
	char *stat_buf;
	size_t stat_cap;
	struct snapshot snap[2];
	uint64_t busy_ns; /* /proc/stat elapsed over busy windows */
	uint64_t idle_ns;
	unsigned busy_windows;
	unsigned idle_windows;
	bool interrupted;
};

static uint64_t
sat_sub(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static double
percent(double part, double whole)
{
	return whole > 0 ? 100.0 * part / whole : 0.0;
}

static bool
window_over(struct window *win)
{
	return probe_stop || atomic_load(&win->abort);
}

/*
 * Reads one decimal field of a schedstat line at *pos and moves *pos past
 * it. Returns 0, -EINVAL (no digit there) or -ERANGE.
 */
static int
schedstat_field(const char *buf, size_t len, size_t *pos, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = *pos;

	if (i >= len || buf[i] < '0' || buf[i] > '9')
		return -EINVAL;
	for (; i < len && buf[i] >= '0' && buf[i] <= '9'; i++) {
		unsigned digit = (unsigned)(buf[i] - '0');

		if (v > (UINT64_MAX - digit) / 10)
			return -ERANGE;
		v = v * 10 + digit;
	}
	*pos = i;
	*out = v;
	return 0;
}

int
schedstat_parse(const char *buf, size_t len, struct schedstat *out)
{
	uint64_t field[3];
	size_t pos = 0;
	int rc;

	if (len > 0 && buf[len - 1] == '\n')
		len--;
	for (int i = 0; i < 3; i++) {
		if (i > 0) {
			if (pos >= len || buf[pos] != ' ')
				return -EINVAL;
			pos++;
		}
		if ((rc = schedstat_field(buf, len, &pos, &field[i])) < 0)
			return rc;
	}
	if (pos != len)
		return -EINVAL;
	out->run_ns = field[0];
	out->wait_ns = field[1];
	out->timeslices = field[2];
	return 0;
}

uint64_t
percentile_u64(const uint64_t *sorted, size_t n, unsigned pct)
{
	uint64_t rank;

	if (n == 0)
		return 0;
	if (pct > 100)
		pct = 100;
	/* Nearest rank: the smallest sample with pct% at or below it. */
	rank = ((uint64_t)pct * n + 99) / 100;
	if (rank == 0)
		rank = 1;
	return sorted[rank - 1];
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

void
lateness_summarize(uint64_t *samples, size_t n, struct lateness *out)
{
	if (n > 0)
		qsort(samples, n, sizeof(*samples), cmp_u64);
	out->n = n;
	out->p50_ns = percentile_u64(samples, n, 50);
	out->p99_ns = percentile_u64(samples, n, 99);
	out->max_ns = n > 0 ? samples[n - 1] : 0;
}

/* Steal is seen when it is above the tick noise and 0.1% of CPU time. */
static bool
steal_seen(double steal_ns, uint64_t cpu_ns, uint64_t noise_ns)
{
	return steal_ns > (double)noise_ns && steal_ns >= 0.001 * cpu_ns;
}

enum phases_verdict
phases_verdict(const struct phase_steal *idle, const struct phase_steal *busy,
    uint64_t noise_ns)
{
	double explained = 0, excess;

	if (busy->nonidle_ns > 0)
		explained = (double)busy->steal_ns * idle->nonidle_ns /
		            busy->nonidle_ns;
	excess = (double)idle->steal_ns - explained;
	if (steal_seen(excess, idle->cpu_ns, noise_ns))
		return PHASES_IDLE_STEAL;
	if (!steal_seen(busy->steal_ns, busy->cpu_ns, noise_ns))
		return PHASES_INCONCLUSIVE;
	if (idle->nonidle_ns * 2 > idle->cpu_ns)
		return PHASES_IDLE_NOT_IDLE;
	return PHASES_NO_IDLE_STEAL;
}

static int
schedstat_read(int fd, struct schedstat *out)
{
	char buf[128];
	ssize_t n;

	n = pread(fd, buf, sizeof(buf), 0);
	if (n < 0)
		return -errno;
	return schedstat_parse(buf, (size_t)n, out);
}

/* Pins the calling thread to one CPU. Returns 0 or an errno. */
static int
pin_self(unsigned cpu)
{
	size_t setsize = CPU_ALLOC_SIZE(cpu + 1);
	cpu_set_t *set;
	int rc;

	if ((set = CPU_ALLOC(cpu + 1)) == NULL)
		return ENOMEM;
	CPU_ZERO_S(setsize, set);
	CPU_SET_S(cpu, setsize, set);
	rc = pthread_setaffinity_np(pthread_self(), setsize, set);
	CPU_FREE(set);
	return rc;
}

/* The three clocks of a spinner at one instant. */
struct spin_snap {
	uint64_t wall_ns;
	uint64_t cpu_ns;
	uint64_t run_delay_ns;
};

/*
 * Reads the wall clock, the thread's CPU time and its run delay at one
 * instant of its running. A guest context switch between the reads
 * would put a whole stretch of run delay on one side only (and a
 * SCHED_IDLE thread on a busy CPU is switched out at many a syscall
 * return), so the reads are bracketed by two schedstat reads and
 * repeated until the timeslice count did not move. Returns whether the
 * run delay could be read.
 */
static bool
spin_snapshot(int fd, struct spin_snap *snap)
{
	struct schedstat before, after = {0};

	for (int tries = 0; tries < 100; tries++) {
		if (fd < 0 || schedstat_read(fd, &before) < 0)
			break;
		snap->wall_ns = time_mono_raw_ns();
		snap->cpu_ns = time_thread_cpu_ns();
		if (schedstat_read(fd, &after) < 0)
			break;
		if (after.timeslices == before.timeslices) {
			snap->run_delay_ns = after.wait_ns;
			return true;
		}
	}
	snap->wall_ns = time_mono_raw_ns();
	snap->cpu_ns = time_thread_cpu_ns();
	snap->run_delay_ns = 0;
	return false;
}

/*
 * A spinner runs on one CPU for the whole window and measures three
 * clocks: wall time, its own CPU time (which excludes steal on a kernel
 * with paravirt steal accounting) and its own guest run delay (time
 * runnable on the guest runqueue behind other tasks). What is left is
 * the time the vCPU was not running while this thread was on it:
 * host-side steal (plus irq time, where the kernel keeps that out of
 * thread CPU time).
 *
 * Wall time is CLOCK_MONOTONIC_RAW: the scheduler clocks behind thread
 * CPU time and run delay are not slewed by NTP, and a 500 ppm slew of
 * CLOCK_MONOTONIC would otherwise show up as 2.5 ms of "steal" in 5 s.
 *
 * The spinner lowers itself to SCHED_IDLE (nice 19 if that fails) so that
 * the canary, and any real work on the machine, preempts it at once.
 */
static void *
spinner_main(void *arg)
{
	struct spinner *sp = arg;
	struct sched_param param = {0};
	struct spin_snap s0, s1;
	bool have0, have1;
	int fd, rc;

	if ((rc = pin_self(sp->cpu)) != 0) {
		sp->err = rc;
		sp->failed_step = "pin";
		return NULL;
	}
	if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &param) == 0)
		sp->idle_policy = true;
	else
		(void)setpriority(PRIO_PROCESS, (id_t)gettid(), 19);

	/* thread-self resolves at open, so each thread opens its own. */
	fd = open(SCHEDSTAT_PATH, O_RDONLY | O_CLOEXEC);

	have0 = spin_snapshot(fd, &s0);
	while (!window_over(sp->win) && time_mono_ns() < sp->win->end_ns)
		continue;
	have1 = spin_snapshot(fd, &s1);

	sp->wall_ns = sat_sub(s1.wall_ns, s0.wall_ns);
	sp->cpu_ns = sat_sub(s1.cpu_ns, s0.cpu_ns);
	sp->have_run_delay = have0 && have1;
	if (sp->have_run_delay)
		sp->run_delay_ns = sat_sub(s1.run_delay_ns, s0.run_delay_ns);
	if (fd >= 0)
		close(fd);
	return NULL;
}

/*
 * The canary sleeps to absolute deadlines one period apart and records
 * how late each wakeup is. Its timer slack is cut to 1 ns, or the
 * default 50 us would be all it measures. After a late wake it skips the
 * deadlines already past instead of firing them back to back, so every
 * sample is a real sleep.
 *
 * The run delay the guest added to each wake (waiting on the runqueue
 * behind other tasks) comes from the canary's own schedstat, read after
 * each wake; what is left of the lateness is timer delivery and the host
 * not running the vCPU.
 */
static void *
canary_main(void *arg)
{
	struct canary *c = arg;
	struct schedstat prev = {0}, cur;
	uint64_t deadline, now, late, guest;
	bool have;
	int fd, rc;

	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
	fd = open(SCHEDSTAT_PATH, O_RDONLY | O_CLOEXEC);
	have = fd >= 0 && schedstat_read(fd, &prev) == 0;
	deadline = time_mono_ns() + c->period_ns;
	while (!window_over(c->win) && deadline < c->win->end_ns) {
		rc = time_sleep_until_ns(deadline);
		if (rc == -EINTR)
			continue;
		if (rc < 0) {
			c->err = -rc;
			break;
		}
		now = time_mono_ns();
		late = sat_sub(now, deadline);
		guest = 0;
		if (have && (have = schedstat_read(fd, &cur) == 0)) {
			guest = sat_sub(cur.wait_ns, prev.wait_ns);
			prev = cur;
		}
		if (c->n < c->cap) {
			c->lateness_ns[c->n] = late;
			c->beyond_ns[c->n++] = sat_sub(late, guest);
		}
		c->wakes++;
		if (late > c->max_ns)
			c->max_ns = late;
		if (sat_sub(late, guest) > c->beyond_max_ns)
			c->beyond_max_ns = sat_sub(late, guest);
		deadline += c->period_ns;
		if (deadline <= now)
			deadline += ((now - deadline) / c->period_ns + 1) *
			            c->period_ns;
	}
	c->have_run_delay = c->have_run_delay && have;
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* Reads and parses /proc/stat into snap, growing its cpu[] as needed. */
static int
stat_sample(struct probe *p, struct snapshot *snap)
{
	struct raw_snapshot raw = {0};
	const char *what;

	ssize_t n = read_whole_at0(
	    p->stat_fd, &p->stat_buf, &p->stat_cap, STAT_BUF_MAX);

	if (n < 0)
		return (int)n;
	raw.stat = p->stat_buf;
	raw.stat_len = (size_t)n;
	return snapshot_parse(&raw, snap, &what);
}

static const struct cpu_times *
stat_find(const struct procstat *ps, unsigned id)
{
	for (unsigned i = 0; i < ps->ncpu && i < ps->cpu_cap; i++)
		if (ps->cpu[i].id == id)
			return &ps->cpu[i].t;
	return NULL;
}

static uint64_t
col_delta(
    const struct cpu_times *a, const struct cpu_times *b, enum cpu_col col)
{
	return sat_sub(b->col[col], a->col[col]);
}

/* Adds the /proc/stat deltas between snap[0] and snap[1] to each CPU. */
static void
tally_stat(struct probe *p, bool busy)
{
	for (unsigned i = 0; i < p->ncpu; i++) {
		struct cpu_tally *t = &p->tally[i];
		struct phase_cpu *ph = busy ? &t->busy : &t->idle;
		const struct cpu_times *a = stat_find(&p->snap[0].stat, t->cpu);
		const struct cpu_times *b = stat_find(&p->snap[1].stat, t->cpu);

		if (a == NULL || b == NULL) {
			ph->missing++;
			continue;
		}
		ph->steal_ticks += col_delta(a, b, COL_STEAL);
		ph->irq_ticks +=
		    col_delta(a, b, COL_IRQ) + col_delta(a, b, COL_SOFTIRQ);
		ph->nonidle_ticks +=
		    col_delta(a, b, COL_USER) + col_delta(a, b, COL_NICE) +
		    col_delta(a, b, COL_SYSTEM) + col_delta(a, b, COL_IRQ) +
		    col_delta(a, b, COL_SOFTIRQ);
	}
}

/*
 * One busy window: spinners on every CPU and the canary, bracketed by two
 * /proc/stat samples. Returns 0 or -errno (a thread that could not be
 * created: the others are told to stop and are joined).
 */
static int
busy_window(struct probe *p, uint64_t len_ns)
{
	struct window win;
	uint64_t t0, t1;
	int rc, err = 0;

	if ((rc = stat_sample(p, &p->snap[0])) < 0)
		return rc;
	t0 = time_mono_ns();
	win.end_ns = t0 + len_ns;
	atomic_init(&win.abort, false);
	memset(p->spinner, 0, p->ncpu * sizeof(*p->spinner));

	p->canary.win = &win;
	p->canary.started = false;
	rc = pthread_create(&p->canary.thread, NULL, canary_main, &p->canary);
	if (rc == 0)
		p->canary.started = true;
	else
		err = rc;
	for (unsigned i = 0; i < p->ncpu && err == 0; i++) {
		struct spinner *sp = &p->spinner[i];

		sp->cpu = p->tally[i].cpu;
		sp->win = &win;
		rc = pthread_create(&sp->thread, NULL, spinner_main, sp);
		if (rc != 0)
			err = rc;
		else
			sp->started = true;
	}
	if (err != 0)
		atomic_store(&win.abort, true);
	for (unsigned i = 0; i < p->ncpu; i++)
		if (p->spinner[i].started)
			pthread_join(p->spinner[i].thread, NULL);
	if (p->canary.started)
		pthread_join(p->canary.thread, NULL);
	t1 = time_mono_ns();
	if (err != 0)
		return -err;
	if (p->canary.err != 0)
		return -p->canary.err;

	if ((rc = stat_sample(p, &p->snap[1])) < 0)
		return rc;
	tally_stat(p, true);
	p->busy_ns += t1 - t0;
	p->busy_windows++;
	for (unsigned i = 0; i < p->ncpu; i++) {
		struct spinner *sp = &p->spinner[i];
		struct cpu_tally *t = &p->tally[i];

		if (sp->err != 0) {
			t->err = sp->err;
			t->failed_step = sp->failed_step;
			continue;
		}
		t->idle_policy = sp->idle_policy;
		t->have_run_delay = sp->have_run_delay;
		t->wall_ns += sp->wall_ns;
		t->cpu_ns += sp->cpu_ns;
		t->run_delay_ns += sp->run_delay_ns;
	}
	return 0;
}

/* One idle window: nothing of ours runs but two /proc/stat samples. */
static int
idle_window(struct probe *p, uint64_t len_ns)
{
	uint64_t t0, t1, end, wake;
	int rc;

	if ((rc = stat_sample(p, &p->snap[0])) < 0)
		return rc;
	t0 = time_mono_ns();
	end = t0 + len_ns;
	while (!probe_stop && (t1 = time_mono_ns()) < end) {
		wake = end - t1 > IDLE_SLICE_NS ? t1 + IDLE_SLICE_NS : end;
		(void)time_sleep_until_ns(wake);
	}
	t1 = time_mono_ns();
	if ((rc = stat_sample(p, &p->snap[1])) < 0)
		return rc;
	tally_stat(p, false);
	p->idle_ns += t1 - t0;
	p->idle_windows++;
	return 0;
}

/* The CPUs this process may run on: the ones it can pin a spinner to. */
static int
probe_cpus(struct probe *p)
{
	long conf = sysconf(_SC_NPROCESSORS_CONF);
	unsigned ncpus = conf > 1024 ? (unsigned)conf : 1024;
	size_t setsize;
	cpu_set_t *set;
	unsigned n = 0;
	int err;

	for (;;) {
		if ((set = CPU_ALLOC(ncpus)) == NULL)
			return -ENOMEM;
		setsize = CPU_ALLOC_SIZE(ncpus);
		if (sched_getaffinity(0, setsize, set) == 0)
			break;
		err = errno;
		CPU_FREE(set);
		if (err != EINVAL || ncpus >= 65536)
			return -err;
		ncpus *= 2;
	}
	p->ncpu = (unsigned)CPU_COUNT_S(setsize, set);
	if (p->ncpu == 0) {
		CPU_FREE(set);
		return -ENODEV;
	}
	p->tally = calloc(p->ncpu, sizeof(*p->tally));
	p->spinner = calloc(p->ncpu, sizeof(*p->spinner));
	if (p->tally == NULL || p->spinner == NULL) {
		CPU_FREE(set);
		return -ENOMEM;
	}
	for (unsigned cpu = 0; cpu < ncpus && n < p->ncpu; cpu++)
		if (CPU_ISSET_S(cpu, setsize, set))
			p->tally[n++].cpu = cpu;
	CPU_FREE(set);
	return 0;
}

/*
 * Allocates everything the windows need, so nothing is allocated while
 * they run. The canary's samples: one per period over all busy time.
 */
static int
probe_setup(struct probe *p, const struct probe_opts *opts, FILE *out)
{
	const char *root = opts->proc_root ? opts->proc_root : "/proc";
	uint64_t busy_total, period;
	char path[PATH_MAX];
	unsigned windows;
	int rc;

	p->opts = opts;
	p->out = out;
	p->stat_fd = -1;
	p->duration_ns =
	    opts->duration_ns ? opts->duration_ns : PROBE_DEFAULT_NS;
	if (p->duration_ns > PROBE_MAX_NS)
		p->duration_ns = PROBE_MAX_NS;
	p->phases = opts->phases ? opts->phases : PROBE_DEFAULT_PHASES;
	if (p->phases > PROBE_MAX_PHASES)
		p->phases = PROBE_MAX_PHASES;
	if ((p->hz = sysconf(_SC_CLK_TCK)) <= 0)
		return -EINVAL;

	if (snprintf(path, sizeof(path), "%s/stat", root) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if ((p->stat_fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	if ((rc = probe_cpus(p)) < 0)
		return rc;
	for (int i = 0; i < 2; i++) {
		if (snapshot_init(
		        &p->snap[i], p->ncpu < 64 ? 64 : p->ncpu, true) < 0)
			return -ENOMEM;
	}

	busy_total = opts->idle_vs_busy ? p->duration_ns / 2 : p->duration_ns;
	windows = opts->idle_vs_busy ? p->phases : 1;
	period = busy_total / CANARY_MAX_SAMPLES;
	p->canary.period_ns =
	    period > CANARY_PERIOD_NS ? period : CANARY_PERIOD_NS;
	p->canary.cap = busy_total / p->canary.period_ns + windows + 1;
	p->canary.lateness_ns = calloc(p->canary.cap, sizeof(uint64_t));
	p->canary.beyond_ns = calloc(p->canary.cap, sizeof(uint64_t));
	if (p->canary.lateness_ns == NULL || p->canary.beyond_ns == NULL)
		return -ENOMEM;
	p->canary.have_run_delay = true;
	return 0;
}

static void
probe_free(struct probe *p)
{
	if (p->stat_fd >= 0)
		close(p->stat_fd);
	free(p->stat_buf);
	snapshot_free(&p->snap[0]);
	snapshot_free(&p->snap[1]);
	free(p->tally);
	free(p->spinner);
	free(p->canary.lateness_ns);
	free(p->canary.beyond_ns);
}

static uint64_t
ticks_ns(const struct probe *p, uint64_t ticks)
{
	return ticks * NSEC_PER_SEC / (uint64_t)p->hz;
}

static int
json_emit(struct json_writer *w, FILE *out)
{
	int rc;

	if ((rc = json_finish(w)) < 0)
		return rc;
	fprintf(out, "%s\n", w->buf);
	return 0;
}

enum comparison {
	CMP_AGREE,
	CMP_PROCSTAT_MORE,
	CMP_PROCSTAT_LESS,
	CMP_UNKNOWN,
};

static const char *const cmp_name[] = {
    [CMP_AGREE] = "agree",
    [CMP_PROCSTAT_MORE] = "procstat_more",
    [CMP_PROCSTAT_LESS] = "procstat_less",
    [CMP_UNKNOWN] = "unknown",
};

/* What one CPU's numbers come to, ready to print. */
struct cpu_report {
	double share;
	uint64_t steal_ns; /* clamped at 0 */
	uint64_t overrun_ns; /* cpu + run delay beyond wall, if any */
	bool clocks_disagree;
	bool have_procstat;
	uint64_t procstat_steal_ns;
	uint64_t irq_ns;
	enum comparison cmp;
};

/*
 * Works out one CPU's figures. The two views may differ by the tick
 * rounding of /proc/stat (one tick per window), by what happened while
 * the spinner was not yet or no longer running (the /proc/stat window
 * also covers thread start and join) and by 5% for clock drift.
 */
static void
cpu_figures(
    const struct probe *p, const struct cpu_tally *t, struct cpu_report *r)
{
	uint64_t used = t->cpu_ns + t->run_delay_ns, slack, tol, hi;

	memset(r, 0, sizeof(*r));
	/* A thread cannot run longer than the wall clock: more is the two
	 * clocks' granularity, large only over a window a spinner started
	 * late into (a loaded machine), so it reads as all of it. */
	r->share = t->wall_ns ? (double)t->cpu_ns / t->wall_ns : 0;
	if (r->share > 1)
		r->share = 1;
	r->steal_ns = sat_sub(t->wall_ns, used);
	r->overrun_ns = sat_sub(used, t->wall_ns);
	slack = 100000ULL * p->busy_windows + t->wall_ns / 1000;
	r->clocks_disagree = r->overrun_ns > slack;
	r->have_procstat = t->busy.missing == 0 && p->busy_windows > 0;
	r->procstat_steal_ns = ticks_ns(p, t->busy.steal_ticks);
	r->irq_ns = ticks_ns(p, t->busy.irq_ticks);
	if (!r->have_procstat) {
		r->cmp = CMP_UNKNOWN;
		return;
	}
	hi = r->steal_ns > r->procstat_steal_ns ? r->steal_ns
	                                        : r->procstat_steal_ns;
	tol = ticks_ns(p, p->busy_windows) + sat_sub(p->busy_ns, t->wall_ns) +
	      hi / 20;
	if (r->procstat_steal_ns > r->steal_ns + tol)
		r->cmp = CMP_PROCSTAT_MORE;
	else if (r->steal_ns > r->procstat_steal_ns + tol)
		r->cmp = CMP_PROCSTAT_LESS;
	else
		r->cmp = CMP_AGREE;
}

static void
print_comparison(const struct cpu_report *r, FILE *out)
{
	switch (r->cmp) {
	case CMP_AGREE:
		fprintf(out, "agree");
		break;
	case CMP_PROCSTAT_MORE:
		fprintf(out, "/proc/stat shows more (steal while the spinner "
		             "was not running, or a kernel that counts steal "
		             "as run time)");
		break;
	case CMP_PROCSTAT_LESS:
		fprintf(out, "/proc/stat shows less (delay it does not call "
		             "steal");
		if (r->irq_ns > 0)
			fprintf(out,
			    "; %.1f ms irq/softirq here, which the "
			    "thread clock may exclude",
			    (double)r->irq_ns / NSEC_PER_MSEC);
		fprintf(out, ")");
		break;
	case CMP_UNKNOWN:
		fprintf(out, "no /proc/stat line for this CPU");
		break;
	}
}

static double
steal_rate_pct(
    const struct probe *p, const struct phase_cpu *ph, uint64_t elapsed_ns)
{
	return percent(
	    (double)ticks_ns(p, ph->steal_ticks), (double)elapsed_ns);
}

static int
report_cpu(const struct probe *p, const struct cpu_tally *t)
{
	struct cpu_report r;
	struct json_writer w;
	char buf[1024];

	if (p->opts->json) {
		json_init(&w, buf, sizeof(buf));
		json_object_begin(&w);
		json_key(&w, "type");
		json_string(&w, "cpu");
		json_key(&w, "cpu");
		json_u64(&w, t->cpu);
	}
	if (t->err != 0) {
		if (!p->opts->json) {
			fprintf(p->out, "cpu%u: not measured (%s: %s)\n",
			    t->cpu, t->failed_step, strerror(t->err));
			return 0;
		}
		json_key(&w, "error");
		json_string(&w, strerror(t->err));
		json_object_end(&w);
		return json_emit(&w, p->out);
	}

	cpu_figures(p, t, &r);
	if (!p->opts->json) {
		fprintf(p->out,
		    "cpu%u: share %.1f%%, steal while running %.1f ms "
		    "(%.2f%%), guest run delay ",
		    t->cpu, 100 * r.share, (double)r.steal_ns / NSEC_PER_MSEC,
		    percent(r.steal_ns, t->wall_ns));
		if (t->have_run_delay)
			fprintf(p->out, "%.1f ms",
			    (double)t->run_delay_ns / NSEC_PER_MSEC);
		else
			fprintf(p->out, "n/a");
		if (r.have_procstat)
			fprintf(p->out, ", /proc/stat steal %.1f ms (%.2f%%): ",
			    (double)r.procstat_steal_ns / NSEC_PER_MSEC,
			    percent(r.procstat_steal_ns, p->busy_ns));
		else
			fprintf(p->out, ": ");
		print_comparison(&r, p->out);
		if (r.clocks_disagree)
			fprintf(p->out,
			    "; note: CPU time + run delay exceed wall "
			    "time by %.1f ms",
			    (double)r.overrun_ns / NSEC_PER_MSEC);
		if (r.share < 0.1 && t->wall_ns > 0)
			fprintf(p->out,
			    "; note: other work held this CPU, steal was "
			    "watched for only %.1f ms of running",
			    (double)t->cpu_ns / NSEC_PER_MSEC);
		if (p->opts->idle_vs_busy && r.have_procstat &&
		    t->idle.missing == 0)
			fprintf(p->out,
			    "; /proc/stat steal idle %.2f%%, "
			    "busy %.2f%%",
			    steal_rate_pct(p, &t->idle, p->idle_ns),
			    steal_rate_pct(p, &t->busy, p->busy_ns));
		fprintf(p->out, "\n");
		return 0;
	}

	json_key(&w, "wall_ns");
	json_u64(&w, t->wall_ns);
	json_key(&w, "cpu_ns");
	json_u64(&w, t->cpu_ns);
	json_key(&w, "share_pct");
	json_double(&w, 100 * r.share, 2);
	json_key(&w, "run_delay_ns");
	if (t->have_run_delay)
		json_u64(&w, t->run_delay_ns);
	else
		json_null(&w);
	json_key(&w, "steal_running_ns");
	json_u64(&w, r.steal_ns);
	json_key(&w, "steal_running_pct");
	json_double(&w, percent(r.steal_ns, t->wall_ns), 3);
	json_key(&w, "clocks_overrun_ns");
	json_u64(&w, r.overrun_ns);
	json_key(&w, "procstat_steal_ns");
	if (r.have_procstat)
		json_u64(&w, r.procstat_steal_ns);
	else
		json_null(&w);
	json_key(&w, "procstat_steal_pct");
	if (r.have_procstat)
		json_double(&w, percent(r.procstat_steal_ns, p->busy_ns), 3);
	else
		json_null(&w);
	json_key(&w, "procstat_irq_ns");
	json_u64(&w, r.irq_ns);
	json_key(&w, "comparison");
	json_string(&w, cmp_name[r.cmp]);
	if (p->opts->idle_vs_busy) {
		json_key(&w, "idle_steal_pct");
		json_double(&w, steal_rate_pct(p, &t->idle, p->idle_ns), 3);
		json_key(&w, "busy_steal_pct");
		json_double(&w, steal_rate_pct(p, &t->busy, p->busy_ns), 3);
	}
	json_object_end(&w);
	return json_emit(&w, p->out);
}

static const char *
spinner_policy(const struct probe *p)
{
	for (unsigned i = 0; i < p->ncpu; i++)
		if (p->tally[i].err == 0 && !p->tally[i].idle_policy)
			return "nice 19";
	return "SCHED_IDLE";
}

static int
report_canary(struct probe *p)
{
	struct canary *c = &p->canary;
	struct lateness l, b;
	struct json_writer w;
	char buf[1024];

	lateness_summarize(c->lateness_ns, c->n, &l);
	lateness_summarize(c->beyond_ns, c->n, &b);
	/* The stored samples may stop at cap; the max covers every wake. */
	if (c->max_ns > l.max_ns)
		l.max_ns = c->max_ns;
	if (c->beyond_max_ns > b.max_ns)
		b.max_ns = c->beyond_max_ns;
	if (!p->opts->json) {
		fprintf(p->out,
		    "canary: %llu wakes every %.3f ms, lateness p50 %.3f ms, "
		    "p99 %.3f ms, max %.3f ms",
		    (unsigned long long)c->wakes,
		    (double)c->period_ns / NSEC_PER_MSEC,
		    (double)l.p50_ns / NSEC_PER_MSEC,
		    (double)l.p99_ns / NSEC_PER_MSEC,
		    (double)l.max_ns / NSEC_PER_MSEC);
		if (c->have_run_delay)
			fprintf(p->out,
			    "; less guest run delay p50 %.3f ms, p99 %.3f ms, "
			    "max %.3f ms",
			    (double)b.p50_ns / NSEC_PER_MSEC,
			    (double)b.p99_ns / NSEC_PER_MSEC,
			    (double)b.max_ns / NSEC_PER_MSEC);
		fprintf(p->out, "\n");
		return 0;
	}
	json_init(&w, buf, sizeof(buf));
	json_object_begin(&w);
	json_key(&w, "type");
	json_string(&w, "canary");
	json_key(&w, "period_ns");
	json_u64(&w, c->period_ns);
	json_key(&w, "wakes");
	json_u64(&w, c->wakes);
	json_key(&w, "p50_ns");
	json_u64(&w, l.p50_ns);
	json_key(&w, "p99_ns");
	json_u64(&w, l.p99_ns);
	json_key(&w, "max_ns");
	json_u64(&w, l.max_ns);
	json_key(&w, "less_guest_delay");
	if (c->have_run_delay) {
		json_object_begin(&w);
		json_key(&w, "p50_ns");
		json_u64(&w, b.p50_ns);
		json_key(&w, "p99_ns");
		json_u64(&w, b.p99_ns);
		json_key(&w, "max_ns");
		json_u64(&w, b.max_ns);
		json_object_end(&w);
	} else {
		json_null(&w);
	}
	json_key(&w, "spinner_policy");
	json_string(&w, spinner_policy(p));
	json_object_end(&w);
	return json_emit(&w, p->out);
}

static const char *const verdict_name[] = {
    [PHASES_INCONCLUSIVE] = "inconclusive",
    [PHASES_NO_IDLE_STEAL] = "no_idle_steal",
    [PHASES_IDLE_STEAL] = "idle_steal",
    [PHASES_IDLE_NOT_IDLE] = "idle_not_idle",
};

static const char *const verdict_text[] = {
    [PHASES_INCONCLUSIVE] = "too little steal while busy (within the "
                            "tick noise) to tell what idle vCPUs do: "
                            "inconclusive, try a longer run at a "
                            "busier time",
    [PHASES_NO_IDLE_STEAL] = "idle vCPUs accrue no steal here (the host "
                             "intercepts HLT: the KVM/Xen default); "
                             "steal only delays a vCPU that has work "
                             "to run",
    [PHASES_IDLE_STEAL] = "idle vCPUs do accrue steal here: the host "
                          "does not intercept HLT (e.g. "
                          "KVM_X86_DISABLE_EXITS_HLT, QEMU -overcommit "
                          "cpu-pm=on), or the guest polls in idle "
                          "(haltpoll, idle=poll)",
    [PHASES_IDLE_NOT_IDLE] = "steal seen while busy, but the idle "
                             "phases were mostly busy with other work: "
                             "inconclusive about idle vCPUs, try again "
                             "when the machine is quiet",
};

/*
 * The idle-vs-busy summary: /proc/stat steal as a share of wall time in
 * each kind of phase, over the CPUs that had a line in every window.
 */
static int
report_phases(const struct probe *p)
{
	struct phase_steal idle = {0}, busy = {0};
	uint64_t noise;
	enum phases_verdict v;
	struct json_writer w;
	char buf[1024], idle_poll[64];
	bool polls;
	unsigned counted = 0;

	for (unsigned i = 0; i < p->ncpu; i++) {
		const struct cpu_tally *t = &p->tally[i];

		if (t->idle.missing || t->busy.missing)
			continue;
		counted++;
		idle.steal_ns += ticks_ns(p, t->idle.steal_ticks);
		idle.nonidle_ns += ticks_ns(p, t->idle.nonidle_ticks);
		busy.steal_ns += ticks_ns(p, t->busy.steal_ticks);
		busy.nonidle_ns += ticks_ns(p, t->busy.nonidle_ticks);
	}
	idle.cpu_ns = p->idle_ns * counted;
	busy.cpu_ns = p->busy_ns * counted;
	noise = ticks_ns(p, 1) * counted * p->busy_windows;
	v = phases_verdict(&idle, &busy, noise);
	polls = idle_poll_detect(
	    p->opts->proc_root != NULL ? p->opts->proc_root : "/proc",
	    idle_poll, sizeof(idle_poll));

	if (!p->opts->json) {
		fprintf(p->out,
		    "idle vs busy: %u pairs, %.2f s idle, %.2f s busy, "
		    "%u CPUs\n",
		    p->idle_windows, (double)p->idle_ns / NSEC_PER_SEC,
		    (double)p->busy_ns / NSEC_PER_SEC, counted);
		fprintf(p->out,
		    "  /proc/stat steal: idle %.2f%% (CPUs %.1f%% busy with "
		    "other work), busy %.2f%%\n",
		    percent(idle.steal_ns, idle.cpu_ns),
		    percent(idle.nonidle_ns, idle.cpu_ns),
		    percent(busy.steal_ns, busy.cpu_ns));
		fprintf(p->out, "  idle vCPUs here: %s%s\n",
		    polls ? "poll, " : "halt", polls ? idle_poll : "");
		fprintf(p->out, "conclusion: %s\n", verdict_text[v]);
		return 0;
	}
	json_init(&w, buf, sizeof(buf));
	json_object_begin(&w);
	json_key(&w, "type");
	json_string(&w, "idle_vs_busy");
	json_key(&w, "pairs");
	json_u64(&w, p->idle_windows);
	json_key(&w, "cpus");
	json_u64(&w, counted);
	json_key(&w, "idle_ns");
	json_u64(&w, p->idle_ns);
	json_key(&w, "busy_ns");
	json_u64(&w, p->busy_ns);
	json_key(&w, "idle_steal_pct");
	json_double(&w, percent(idle.steal_ns, idle.cpu_ns), 3);
	json_key(&w, "idle_other_work_pct");
	json_double(&w, percent(idle.nonidle_ns, idle.cpu_ns), 3);
	json_key(&w, "busy_steal_pct");
	json_double(&w, percent(busy.steal_ns, busy.cpu_ns), 3);
	json_key(&w, "idle_poll");
	if (polls)
		json_string(&w, idle_poll);
	else
		json_null(&w);
	json_key(&w, "verdict");
	json_string(&w, verdict_name[v]);
	json_key(&w, "conclusion");
	json_string(&w, verdict_text[v]);
	json_object_end(&w);
	return json_emit(&w, p->out);
}

/*
 * The last line, for a newcomer: the most any vCPU lost while it wanted
 * to run, in words, and what a timer felt. It judges the same figures
 * the rows show, so it never says "no steal" beside steal it printed.
 */
static int
report_closing(struct probe *p)
{
	struct cpu_report r;
	struct lateness l;
	double worst = 0, worst_procstat = 0;
	unsigned worst_cpu = 0, measured = 0;
	char line[512];
	size_t n;

	for (unsigned i = 0; i < p->ncpu; i++) {
		const struct cpu_tally *t = &p->tally[i];
		double pct, proc;

		if (t->err != 0)
			continue;
		measured++;
		cpu_figures(p, t, &r);
		pct = percent(r.steal_ns, t->wall_ns);
		proc = r.have_procstat
		           ? percent(r.procstat_steal_ns, p->busy_ns)
		           : 0;
		if (pct > worst || (pct == worst && proc > worst_procstat)) {
			worst = pct;
			worst_cpu = t->cpu;
		}
		if (proc > worst_procstat)
			worst_procstat = proc;
	}
	lateness_summarize(p->canary.lateness_ns, p->canary.n, &l);
	if (measured == 0)
		n = (size_t)snprintf(line, sizeof(line),
		    "no CPU could be measured (see the errors above)");
	else if (worst < 0.1 && worst_procstat < 0.1)
		n = (size_t)snprintf(line, sizeof(line),
		    "the host gave every vCPU the CPU whenever it asked: "
		    "under 0.1%% stolen while running");
	else
		n = (size_t)snprintf(line, sizeof(line),
		    "the host took up to %.1f%% of the time a vCPU wanted to "
		    "run (cpu%u; /proc/stat says up to %.1f%%)%s",
		    worst, worst_cpu, worst_procstat,
		    worst >= 10 || worst_procstat >= 10
		        ? ": heavy steal, see stealstat(1) VERDICTS"
		        : ": light steal, rarely worth action");
	if (n < sizeof(line) && p->canary.n > 0)
		snprintf(line + n, sizeof(line) - n,
		    "; a 1 ms timer woke %.2f ms late at p99",
		    (double)l.p99_ns / NSEC_PER_MSEC);
	if (!p->opts->json) {
		fprintf(p->out, "in short: %s\n", line);
		return 0;
	}
	struct json_writer w;
	char buf[768];

	json_init(&w, buf, sizeof(buf));
	json_object_begin(&w);
	json_key(&w, "type");
	json_string(&w, "summary");
	json_key(&w, "max_steal_running_pct");
	json_double(&w, worst, 3);
	json_key(&w, "max_procstat_steal_pct");
	json_double(&w, worst_procstat, 3);
	json_key(&w, "text");
	json_string(&w, line);
	json_object_end(&w);
	return json_emit(&w, p->out);
}

static int
report(struct probe *p)
{
	int rc;

	if (!p->opts->json) {
		fprintf(p->out,
		    "probe: %u CPUs, %.2f s under load, spinners at %s, "
		    "USER_HZ %ld%s\n",
		    p->ncpu, (double)p->busy_ns / NSEC_PER_SEC,
		    spinner_policy(p), p->hz,
		    p->interrupted ? " (interrupted)" : "");
	}
	for (unsigned i = 0; i < p->ncpu; i++)
		if ((rc = report_cpu(p, &p->tally[i])) < 0)
			return rc;
	if ((rc = report_canary(p)) < 0)
		return rc;
	if (p->opts->idle_vs_busy && (rc = report_phases(p)) < 0)
		return rc;
	return report_closing(p);
}

/*
 * The canary runs beside the spinners rather than in a quiet phase of its
 * own: steal only shows when the vCPUs have work (a halted vCPU is asleep
 * on the host and is not stolen from), and the spinners being SCHED_IDLE
 * means its wakeups preempt them at once. Its lateness is then timer
 * delivery plus host preemption of the vCPU, not the spinners' time
 * slices; whatever other guest work delays it is measured from its own
 * run delay and shown apart. With idle_vs_busy it runs in the busy phases
 * only: its 1 ms wakeups would keep the "idle" vCPUs from staying idle.
 */
int
probe_run(const struct probe_opts *opts, FILE *out)
{
	struct probe p;
	uint64_t phase_ns;
	int rc;

	memset(&p, 0, sizeof(p));
	if ((rc = probe_setup(&p, opts, out)) < 0)
		goto done;
	/* Fail before any load if /proc/stat is not what we expect. */
	if ((rc = stat_sample(&p, &p.snap[0])) < 0)
		goto done;

	if (!opts->idle_vs_busy) {
		rc = busy_window(&p, p.duration_ns);
	} else {
		phase_ns = p.duration_ns / (2 * p.phases);
		for (unsigned i = 0; i < p.phases && !probe_stop; i++) {
			if ((rc = idle_window(&p, phase_ns)) < 0 ||
			    (rc = busy_window(&p, phase_ns)) < 0)
				break;
		}
	}
	if (rc < 0)
		goto done;
	p.interrupted = probe_stop != 0;
	if ((rc = report(&p)) < 0)
		goto done;
	if (fflush(out) != 0 || ferror(out))
		rc = -EIO;
done:
	probe_free(&p);
	return rc;
}

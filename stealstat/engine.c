/* SPDX-License-Identifier: ISC */
/*
 * The verdict engine. See engine.h and the VERDICTS section of
 * stealstat.1, which this file implements.
 *
 * Notation: per CPU and interval, S = Δsteal, B = Δ(user + nice + system
 * + irq + softirq), I = Δ(idle + iowait), all in USER_HZ ticks. guest and
 * guest_nice are already inside user and nice, so they are not added.
 * u = B / (B + I) is how busy the vCPU wanted to be; r = S / (B + S) is
 * the share of the time it wanted that the hypervisor gave to others.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "stealstat.h"
#include "timeutil.h"

static const char *const verdict_names[VERDICT_MAX] = {
    [VERDICT_OK] = "ok",
    [VERDICT_IDLE_STEAL] = "idle-steal",
    [VERDICT_SATURATED] = "saturated",
    [VERDICT_STOLEN] = "stolen",
    [VERDICT_CAPPED] = "capped",
    [VERDICT_THROTTLED] = "throttled",
    [VERDICT_GLITCH] = "glitch",
    [VERDICT_SLOWED] = "slowed",
};

static const char *const verdict_advice[VERDICT_MAX] = {
    [VERDICT_OK] = "nothing to do: no steal, so none of this machine's "
                   "CPU time was lost to the hypervisor.",
    [VERDICT_IDLE_STEAL] =
        "no throughput lost. On KVM and Xen an idle vCPU accrues no "
        "steal; this steal is time a waking vCPU waited for the host. "
        "Ignore it unless tail latency of a mostly idle service matters, "
        "then consider a dedicated (non-shared) instance.",
    [VERDICT_SATURATED] =
        "the VM is short of CPU by its own load, not the hypervisor's: "
        "a larger instance (more vCPUs) or less work helps; moving to "
        "another host does not.",
    [VERDICT_STOLEN] =
        "the host is oversubscribed: move to another host (stop and start "
        "the instance) or to a dedicated or non-burstable instance type. "
        "A larger instance is not the fix.",
    [VERDICT_CAPPED] =
        "steady steal while fully busy is the pattern of a burstable "
        "instance out of CPU credits: enable unlimited mode, lower the "
        "sustained load, or use a non-burstable instance type.",
    [VERDICT_THROTTLED] =
        "the cgroup's CPU quota is throttling this workload: raise the "
        "container's CPU limit (cpu.max, cpu.cfs_quota_us, docker --cpus, "
        "Kubernetes limits.cpu).",
    [VERDICT_GLITCH] = "no usable interval: counters jumped (live "
                       "migration, host suspend or CPU hotplug). Run "
                       "again.",
    [VERDICT_SLOWED] = slow_advice,
};

/* Idle-steal where idle vCPUs poll instead of halting (idlepoll.h). */
static const char idle_steal_polling_advice[] =
    "no throughput lost. This guest's idle vCPUs poll instead of "
    "halting, so the host can preempt them while idle: this steal is "
    "time a polling or waking vCPU waited, not work lost. Ignore it "
    "unless tail latency of a mostly idle service matters.";

const char *
verdict_name(enum verdict v)
{
	return v < VERDICT_MAX ? verdict_names[v] : "?";
}

void
verdict_opts_default(struct verdict_opts *o)
{
	o->busy = 0.50;
	o->steal = 0.10;
	o->sustain = 3;
	o->capped_util = 0.95;
	o->capped_spread = 0.05;
	o->psi = 0.20;
	o->runq = 1.0;
	o->throttle = 0.05;
	o->slow = 0.70;
}

int
engine_init(struct engine *e, const struct verdict_opts *o, unsigned hz)
{
	*e = (struct engine){0};
	if (o->sustain < 1 || o->sustain > ENGINE_WINDOW_MAX || hz == 0)
		return -EINVAL;
	e->opts = *o;
	e->hz = hz;
	e->total_hist.id = (unsigned)-1;
	return 0;
}

void
engine_free(struct engine *e)
{
	free(e->iv.cpu);
	free(e->hist);
	e->iv.cpu = NULL;
	e->hist = NULL;
	e->cpu_cap = 0;
}

static int
engine_reserve(struct engine *e, unsigned ncpu)
{
	struct cpu_interval *cpu;
	struct cpu_history *hist;

	if (ncpu <= e->cpu_cap)
		return 0;
	cpu = realloc(e->iv.cpu, ncpu * sizeof(*cpu));
	if (cpu == NULL)
		return -ENOMEM;
	e->iv.cpu = cpu;
	hist = realloc(e->hist, ncpu * sizeof(*hist));
	if (hist == NULL)
		return -ENOMEM;
	memset(hist + e->cpu_cap, 0, (ncpu - e->cpu_cap) * sizeof(*hist));
	e->hist = hist;
	e->cpu_cap = ncpu;
	return 0;
}

static uint64_t
busy_of(const uint64_t *d)
{
	return d[COL_USER] + d[COL_NICE] + d[COL_SYSTEM] + d[COL_IRQ] +
	       d[COL_SOFTIRQ];
}

static uint64_t
idle_of(const uint64_t *d)
{
	return d[COL_IDLE] + d[COL_IOWAIT];
}

static double
ratio(uint64_t num, uint64_t den)
{
	return den == 0 ? 0.0 : (double)num / (double)den;
}

static double
ticks_to_s(const struct engine *e, uint64_t ticks)
{
	return (double)ticks / e->hz;
}

static const char *
cpu_name(int id, char name[16])
{
	if (id < 0)
		return "cpu";
	snprintf(name, 16, "cpu%d", id);
	return name;
}

/*
 * The column deltas from a to b. proc(5): iowait may decrease (its
 * accounting moves time between idle and iowait), so the two are one
 * quantity when either steps back, and their sum must not; the guest
 * columns are already inside user and nice and are not judged. Returns
 * -1, or the column that went backwards (COL_IDLE for idle+iowait):
 * only then is the interval dropped.
 */
static int
col_deltas(const struct cpu_times *a, const struct cpu_times *b, uint64_t *d)
{
	uint64_t ia = a->col[COL_IDLE] + a->col[COL_IOWAIT];
	uint64_t ib = b->col[COL_IDLE] + b->col[COL_IOWAIT];

	for (int c = 0; c < COL_MAX; c++) {
		if (b->col[c] >= a->col[c]) {
			d[c] = b->col[c] - a->col[c];
			continue;
		}
		if (c == COL_GUEST || c == COL_GUEST_NICE) {
			d[c] = 0;
			continue;
		}
		if (c != COL_IDLE && c != COL_IOWAIT)
			return c;
	}
	if (ib < ia)
		return COL_IDLE;
	if (b->col[COL_IOWAIT] < a->col[COL_IOWAIT]) {
		d[COL_IOWAIT] = 0;
		d[COL_IDLE] = ib - ia;
	} else if (b->col[COL_IDLE] < a->col[COL_IDLE]) {
		d[COL_IDLE] = 0;
		d[COL_IOWAIT] = ib - ia;
	}
	return -1;
}

/*
 * Deltas of one cpu line (id -1: the aggregate). Returns false and
 * explains in why if the counters are not a plausible interval of ncpu
 * CPUs over elapsed_ns. The explanation is only formatted on failure.
 */
static bool
cpu_delta(const struct engine *e, const struct cpu_times *a,
    const struct cpu_times *b, uint64_t elapsed_ns, unsigned ncpu, int id,
    uint64_t *d, char *why, size_t why_size)
{
	static const char *const col_names[COL_MAX] = {"user", "nice", "system",
	    "idle", "iowait", "irq", "softirq", "steal", "guest", "guest_nice"};
	/* One tick of slack per CPU: the counters move in whole ticks. */
	double interval_ticks = (double)elapsed_ns * e->hz / NSEC_PER_SEC;
	double slack = ncpu;
	uint64_t total;
	char name[16];

	int c = col_deltas(a, b, d);

	if (c >= 0) {
		if (c == COL_IDLE)
			snprintf(why, why_size,
			    "%s idle+iowait counters went backwards by %llu "
			    "ticks",
			    cpu_name(id, name),
			    (unsigned long long)(a->col[COL_IDLE] +
			                         a->col[COL_IOWAIT] -
			                         b->col[COL_IDLE] -
			                         b->col[COL_IOWAIT]));
		else
			snprintf(why, why_size,
			    "%s %s counter went backwards by %llu ticks",
			    cpu_name(id, name), col_names[c],
			    (unsigned long long)(a->col[c] - b->col[c]));
		return false;
	}
	if ((double)d[COL_STEAL] > interval_ticks * ncpu + slack) {
		snprintf(why, why_size,
		    "%s steal of %.2f s in a %.2f s interval (host suspend or "
		    "live migration)",
		    cpu_name(id, name), ticks_to_s(e, d[COL_STEAL]) / ncpu,
		    (double)elapsed_ns / NSEC_PER_SEC);
		return false;
	}
	total = busy_of(d) + idle_of(d) + d[COL_STEAL];
	if ((double)total > interval_ticks * ncpu * 1.05 + 2 * slack) {
		snprintf(why, why_size,
		    "%s counters advanced %.2f s in a %.2f s interval (suspend "
		    "or a clock jump)",
		    cpu_name(id, name), ticks_to_s(e, total) / ncpu,
		    (double)elapsed_ns / NSEC_PER_SEC);
		return false;
	}
	return true;
}

static void
fill_shares(struct cpu_interval *ci, const uint64_t *d)
{
	uint64_t b = busy_of(d), i = idle_of(d), s = d[COL_STEAL];
	uint64_t total = b + i + s;

	ci->pct_user = 100.0 * ratio(d[COL_USER] + d[COL_NICE], total);
	ci->pct_system =
	    100.0 * ratio(d[COL_SYSTEM] + d[COL_IRQ] + d[COL_SOFTIRQ], total);
	ci->pct_idle = 100.0 * ratio(d[COL_IDLE], total);
	ci->pct_iowait = 100.0 * ratio(d[COL_IOWAIT], total);
	ci->pct_steal = 100.0 * ratio(s, total);
	ci->steal_ticks = s;
	ci->busy_ticks = b;
	ci->idle_ticks = i;
	/* A vCPU stolen for the whole interval wanted to run all of it. */
	ci->u = b + i == 0 ? (s > 0 ? 1.0 : 0.0) : ratio(b, b + i);
	ci->r = ratio(s, b + s);
}

static void
history_push(struct cpu_history *h, unsigned window, double u, double r)
{
	h->u[h->head] = u;
	h->r[h->head] = r;
	h->head = (h->head + 1) % window;
	if (h->count < window)
		h->count++;
}

/* The i-th most recent entry (0 is the newest). */
static unsigned
history_at(const struct cpu_history *h, unsigned window, unsigned i)
{
	return (h->head + window - 1 - i) % window;
}

/*
 * The steal verdicts, shared by per-CPU rows and the aggregate: stolen
 * and capped need sustain consecutive heavy intervals; idle-steal is
 * steal on a vCPU that mostly did not want to run.
 */
static void
classify_steal(const struct engine *e, struct cpu_history *h,
    struct cpu_interval *ci, bool kernel_has_steal)
{
	const struct verdict_opts *o = &e->opts;
	unsigned w = o->sustain, heavy_run = 0;
	double rmin = 1.0, rmax = 0.0;
	bool all_full = true;

	history_push(h, w, ci->u, ci->r);
	for (unsigned i = 0; i < h->count; i++) {
		unsigned k = history_at(h, w, i);

		if (h->u[k] < o->busy || h->r[k] < o->steal)
			break;
		heavy_run++;
		if (h->u[k] < o->capped_util)
			all_full = false;
		if (h->r[k] < rmin)
			rmin = h->r[k];
		if (h->r[k] > rmax)
			rmax = h->r[k];
	}
	ci->heavy_run = heavy_run;
	ci->r_min = rmin;
	ci->r_max = rmax;

	ci->verdict = VERDICT_OK;
	if (heavy_run >= w && all_full && rmax - rmin <= o->capped_spread) {
		ci->verdict = VERDICT_CAPPED;
		ci->why = REASON_CAPPED;
	} else if (heavy_run >= w) {
		ci->verdict = VERDICT_STOLEN;
		ci->why = REASON_STOLEN;
	} else if (heavy_run > 0) {
		ci->why = REASON_NOT_SUSTAINED;
	} else if (ci->steal_ticks > 0 && ci->u < o->busy) {
		ci->verdict = VERDICT_IDLE_STEAL;
		ci->why = REASON_IDLE_STEAL;
	} else if (ci->steal_ticks > 0) {
		ci->why = REASON_BELOW_THRESHOLD;
	} else {
		ci->why =
		    kernel_has_steal ? REASON_NO_STEAL : REASON_NO_STEAL_FIELD;
	}
}

const char *
engine_reason(const struct engine *e, const struct interval *iv,
    const struct cpu_interval *ci, char *buf, size_t size)
{
	const struct verdict_opts *o = &e->opts;

	switch (ci->why) {
	case REASON_NO_STEAL:
		snprintf(buf, size, "no steal");
		break;
	case REASON_NO_STEAL_FIELD:
		snprintf(buf, size, "this kernel reports no steal");
		break;
	case REASON_BELOW_THRESHOLD:
		snprintf(buf, size,
		    "steal %.1f%% of wanted time, below the %.0f%% threshold",
		    100 * ci->r, 100 * o->steal);
		break;
	case REASON_NOT_SUSTAINED:
		snprintf(buf, size,
		    "steal %.0f%% of wanted time, not yet sustained (%u of %u "
		    "interval%s)",
		    100 * ci->r, ci->heavy_run, o->sustain,
		    plural_s(o->sustain));
		break;
	case REASON_IDLE_STEAL:
		if (ci->wake_delay_us >= 0)
			snprintf(buf, size,
			    "%.0f%% busy; steal ~%.0f us per interrupt: wakeup "
			    "latency, no throughput lost",
			    100 * ci->u, ci->wake_delay_us);
		else
			snprintf(buf, size,
			    "%.0f%% busy; steal is wakeup latency, no "
			    "throughput lost",
			    100 * ci->u);
		break;
	case REASON_STOLEN:
		snprintf(buf, size,
		    "got %.0f%% of the vCPU it asked for; steal %.0f%% of "
		    "wanted time for %u interval%s",
		    100 * (1 - ci->r), 100 * ci->r, ci->heavy_run,
		    plural_s(ci->heavy_run));
		break;
	case REASON_CAPPED:
		snprintf(buf, size,
		    "steal steady at %.0f-%.0f%% of wanted time while %.0f%% "
		    "busy for %u interval%s",
		    100 * ci->r_min, 100 * ci->r_max, 100 * ci->u,
		    ci->heavy_run, plural_s(ci->heavy_run));
		break;
	case REASON_SATURATED:
		snprintf(buf, size,
		    "%u runnable on %u CPUs, PSI some %.0f%%, steal only "
		    "%.0f%% of wanted time",
		    iv->runnable, iv->ncpu, 100 * iv->psi_some, 100 * ci->r);
		break;
	case REASON_THROTTLED:
		snprintf(buf, size,
		    "cgroup CPU quota throttled %llu of %llu periods (%.0f%%), "
		    "%.2f s of run queue time",
		    (unsigned long long)iv->nr_throttled,
		    (unsigned long long)iv->nr_periods, 100 * iv->throttled,
		    iv->throttled_s);
		break;
	case REASON_GLITCH:
		snprintf(buf, size, "%s",
		    ci->cpu < 0 ? iv->glitch_reason : "interval dropped");
		break;
	case REASON_SLOWED:
		snprintf(buf, size,
		    "ran at %.0f%% of its best speed for %u probe%s (at worst "
		    "%.0f%%), steal %.1f%% of wanted time",
		    100 * ci->slow_last, ci->slow_run, plural_s(ci->slow_run),
		    100 * ci->slow_worst, 100 * ci->r);
		break;
	}
	return buf;
}

static void
history_reset(struct engine *e)
{
	e->total_hist.count = e->total_hist.head = 0;
	e->total_hist.slow = (struct slow_state){0};
	for (unsigned i = 0; i < e->cpu_cap; i++) {
		e->hist[i].count = e->hist[i].head = 0;
		e->hist[i].slow = (struct slow_state){0};
	}
}

static void
mark_glitch(struct engine *e, const char *why)
{
	struct interval *iv = &e->iv;

	iv->glitch = true;
	iv->total.verdict = VERDICT_GLITCH;
	iv->total.why = REASON_GLITCH;
	snprintf(iv->glitch_reason, sizeof(iv->glitch_reason), "%s", why);
	for (unsigned i = 0; iv->cpu_detail && i < iv->ncpu; i++) {
		iv->cpu[i].verdict = VERDICT_GLITCH;
		iv->cpu[i].why = REASON_GLITCH;
	}
	history_reset(e);
	e->run.glitches++;
}

/* The aggregate's extra verdicts: throttled and saturated. */
static void
classify_total(struct engine *e)
{
	const struct verdict_opts *o = &e->opts;
	struct interval *iv = &e->iv;
	struct cpu_interval *t = &iv->total;
	bool runq_high = iv->runnable > o->runq * iv->ncpu;
	bool psi_high = iv->have_psi && iv->psi_some >= o->psi;

	if (iv->have_cgroup && iv->throttled >= o->throttle) {
		t->verdict = VERDICT_THROTTLED;
		t->why = REASON_THROTTLED;
	} else if (t->verdict != VERDICT_STOLEN &&
	           t->verdict != VERDICT_CAPPED && t->u >= o->busy &&
	           t->r < o->steal && (psi_high || runq_high)) {
		t->verdict = VERDICT_SATURATED;
		t->why = REASON_SATURATED;
	}
}

/*
 * Judges one row's speed (speed.h: slow_judge) and turns a sustained
 * slowdown into the slowed verdict, unless a steal verdict already
 * explains the row or it is saturated or throttled by the guest itself.
 */
static void
judge_speed(const struct engine *e, struct slow_state *st,
    struct cpu_interval *ci, double speed)
{
	struct slow_opts so = {.slow = e->opts.slow,
	    .sustain = e->opts.sustain,
	    .steal = e->opts.steal,
	    .busy = e->opts.busy};

	ci->slow = slow_judge(&so, st, speed, ci->r, ci->others_busy);
	ci->slow_run = st->run;
	ci->slow_worst = st->worst;
	ci->slow_last = st->last;
	if (ci->slow == SLOW_YES &&
	    (ci->verdict == VERDICT_OK || ci->verdict == VERDICT_IDLE_STEAL)) {
		ci->verdict = VERDICT_SLOWED;
		ci->why = REASON_SLOWED;
	}
}

/*
 * The speed probe's rows: each probed CPU against its best, the guest's
 * other CPUs' busy share over the interval as the context, and for the
 * aggregate the mean speed of the CPUs probed, slowed when one is.
 */
static void
classify_speed(struct engine *e, const struct snapshot *b)
{
	struct interval *iv = &e->iv;
	struct cpu_interval *t = &iv->total;
	double sum = 0;
	unsigned n = 0;
	bool any_slowed = false;

	iv->have_speed = false;
	if (!b->have_speed || b->nspeed == 0)
		return;
	for (unsigned i = 0; iv->cpu_detail && i < iv->ncpu; i++) {
		struct cpu_interval *ci = &iv->cpu[i];
		const struct speed_point *p =
		    snapshot_speed(b, (unsigned)ci->cpu);
		double others = 0;

		for (unsigned j = 0; j < iv->ncpu; j++)
			if (j != i)
				others += iv->cpu[j].u;
		ci->others_busy = iv->ncpu > 1 ? others / (iv->ncpu - 1) : -1;
		if (p == NULL) {
			judge_speed(e, &e->hist[i].slow, ci, -1);
			any_slowed |= ci->verdict == VERDICT_SLOWED;
			continue;
		}
		ci->have_speed = true;
		ci->speed = speed_point_ratio(p);
		ci->lost_us = (double)p->lost_ns / NSEC_PER_USEC;
		ci->speed_flags = p->flags;
		judge_speed(e, &e->hist[i].slow, ci, ci->speed);
		any_slowed |= ci->verdict == VERDICT_SLOWED;
	}
	for (unsigned k = 0; k < b->nspeed; k++) {
		sum += speed_point_ratio(&b->speed[k]);
		t->lost_us += (double)b->speed[k].lost_ns / NSEC_PER_USEC;
		n++;
	}
	t->have_speed = true;
	t->speed = sum / n;
	t->lost_us /= n;
	iv->have_speed = true;
	e->speed_seen = true;
	if (iv->cpu_detail) {
		/* The aggregate is slowed when one of its CPUs is. */
		t->slow = any_slowed ? SLOW_YES : SLOW_NO;
		if (any_slowed && (t->verdict == VERDICT_OK ||
		                      t->verdict == VERDICT_IDLE_STEAL)) {
			t->verdict = VERDICT_SLOWED;
			t->why = REASON_SLOWED;
			t->slow_run = 0;
			t->slow_worst = 1.0;
			for (unsigned i = 0; i < iv->ncpu; i++)
				if (iv->cpu[i].verdict == VERDICT_SLOWED &&
				    iv->cpu[i].slow_worst < t->slow_worst) {
					t->slow_worst = iv->cpu[i].slow_worst;
					t->slow_run = iv->cpu[i].slow_run;
					t->slow_last = iv->cpu[i].slow_last;
				}
		}
	} else {
		/* Without per-CPU columns the whole guest's busy share
		   stands in for the other CPUs'. */
		t->others_busy = iv->ncpu > 1 ? t->u : -1;
		judge_speed(e, &e->total_hist.slow, t, t->speed);
	}
}

static void
run_add(struct engine *e, const uint64_t *d, const struct snapshot *a,
    const struct snapshot *b)
{
	struct run_totals *rt = &e->run;
	struct interval *iv = &e->iv;

	if (rt->intervals++ == 0)
		rt->start_wall_ns = a->wall_ns;
	rt->end_wall_ns = b->wall_ns;
	rt->by_verdict[iv->total.verdict]++;
	if (iv->total.verdict == VERDICT_STOLEN ||
	    iv->total.verdict == VERDICT_CAPPED) {
		rt->heavy_busy += busy_of(d);
		rt->heavy_steal += d[COL_STEAL];
	}
	rt->elapsed_ns += iv->elapsed_ns;
	for (int c = 0; c < COL_MAX; c++)
		rt->ticks[c] += d[c];
	rt->ncpu = iv->ncpu;
	rt->ncols = iv->ncols;
	if (iv->total.pct_steal > rt->max_pct_steal)
		rt->max_pct_steal = iv->total.pct_steal;
	if (iv->have_speed) {
		if (rt->speed_n == 0 || iv->total.speed < rt->speed_min)
			rt->speed_min = iv->total.speed;
		rt->speed_sum += iv->total.speed;
		rt->speed_n++;
	}
	if ((a->stat.have & b->stat.have & PROCSTAT_HAVE_INTR) &&
	    b->stat.intr >= a->stat.intr) {
		rt->intr += b->stat.intr - a->stat.intr;
		rt->have_intr = true;
	}
	if (iv->have_psi) {
		rt->psi_some_us += b->psi.some_total_us - a->psi.some_total_us;
		rt->have_psi = true;
	}
	if (iv->have_cgroup) {
		rt->throttled_ns +=
		    b->cgroup.throttled_ns - a->cgroup.throttled_ns;
		rt->nr_throttled += iv->nr_throttled;
		rt->nr_periods += iv->nr_periods;
		rt->have_cgroup = true;
	}
}

static double
wake_delay(const struct engine *e, uint64_t steal_ticks, double interrupts)
{
	if (interrupts <= 0)
		return -1;
	return ticks_to_s(e, steal_ticks) * 1e6 / interrupts;
}

const struct interval *
engine_step(
    struct engine *e, const struct snapshot *a, const struct snapshot *b)
{
	struct interval *iv = &e->iv;
	uint64_t d[COL_MAX], dc[COL_MAX];
	char why[REASON_MAX];
	double interrupts = -1;
	bool has_steal;

	if (engine_reserve(e, b->stat.ncpu) < 0)
		return NULL;
	iv->glitch = false;
	iv->ncpu = b->stat.ncpu;
	iv->ncols = b->stat.ncols;
	iv->wall_ns = b->wall_ns;
	iv->elapsed_ns = b->mono_ns > a->mono_ns ? b->mono_ns - a->mono_ns : 0;
	iv->total = (struct cpu_interval){.cpu = -1, .wake_delay_us = -1};
	iv->cpu_detail = a->stat.cpu_detail && b->stat.cpu_detail;
	for (unsigned i = 0; iv->cpu_detail && i < iv->ncpu; i++)
		iv->cpu[i] = (struct cpu_interval){
		    .cpu = (int)b->stat.cpu[i].id, .wake_delay_us = -1};
	iv->runnable =
	    b->stat.procs_running > 0 ? b->stat.procs_running - 1 : 0;
	iv->have_psi = a->have_psi && b->have_psi;
	iv->have_cgroup = a->have_cgroup && b->have_cgroup;
	iv->psi_some = 0;
	iv->throttled = iv->throttled_s = 0;
	iv->nr_throttled = iv->nr_periods = 0;

	if (iv->elapsed_ns == 0) {
		mark_glitch(e, "the clock did not advance between samples");
		return iv;
	}
	if (a->stat.ncpu != b->stat.ncpu || a->stat.ncols != b->stat.ncols) {
		snprintf(why, sizeof(why),
		    "CPU set changed: %u to %u CPUs online (hotplug)",
		    a->stat.ncpu, b->stat.ncpu);
		mark_glitch(e, why);
		return iv;
	}
	for (unsigned i = 0; i < iv->ncpu; i++) {
		if (a->stat.cpu[i].id != b->stat.cpu[i].id) {
			snprintf(why, sizeof(why),
			    "CPU set changed: cpu%u replaced by cpu%u "
			    "(hotplug)",
			    a->stat.cpu[i].id, b->stat.cpu[i].id);
			mark_glitch(e, why);
			return iv;
		}
	}
	if (!cpu_delta(e, &a->stat.total, &b->stat.total, iv->elapsed_ns,
	        iv->ncpu > 0 ? iv->ncpu : 1, -1, d, why, sizeof(why))) {
		mark_glitch(e, why);
		return iv;
	}
	for (unsigned i = 0; iv->cpu_detail && i < iv->ncpu; i++) {
		if (!cpu_delta(e, &a->stat.cpu[i].t, &b->stat.cpu[i].t,
		        iv->elapsed_ns, 1, (int)b->stat.cpu[i].id, dc, why,
		        sizeof(why))) {
			mark_glitch(e, why);
			return iv;
		}
	}
	if (iv->have_psi) {
		if (b->psi.some_total_us < a->psi.some_total_us) {
			mark_glitch(e, "PSI cpu total went backwards");
			return iv;
		}
		iv->psi_some =
		    (double)(b->psi.some_total_us - a->psi.some_total_us) *
		    NSEC_PER_USEC / (double)iv->elapsed_ns;
		if (iv->psi_some > 1.0)
			iv->psi_some = 1.0;
	}
	if (iv->have_cgroup) {
		if (b->cgroup.throttled_ns < a->cgroup.throttled_ns ||
		    b->cgroup.nr_throttled < a->cgroup.nr_throttled) {
			mark_glitch(e, "cgroup throttling counters went "
			               "backwards");
			return iv;
		}
		/* Throttled time is summed over the group's per-CPU run
		 * queues and can pass 100% of the interval; the share of
		 * quota periods throttled cannot. */
		iv->nr_throttled =
		    b->cgroup.nr_throttled - a->cgroup.nr_throttled;
		iv->nr_periods =
		    b->cgroup.nr_periods > a->cgroup.nr_periods
		        ? b->cgroup.nr_periods - a->cgroup.nr_periods
		        : 0;
		iv->throttled = ratio(iv->nr_throttled, iv->nr_periods);
		iv->throttled_s =
		    (double)(b->cgroup.throttled_ns - a->cgroup.throttled_ns) /
		    NSEC_PER_SEC;
	}

	if ((a->stat.have & b->stat.have & PROCSTAT_HAVE_INTR) &&
	    b->stat.intr >= a->stat.intr)
		interrupts = (double)(b->stat.intr - a->stat.intr);
	has_steal = iv->ncols > COL_STEAL;

	/* Valid interval: shares and verdicts, per CPU then aggregate. */
	if (b->stat.ncpu > 0 && e->hist[0].id != b->stat.cpu[0].id)
		history_reset(e);
	for (unsigned i = 0; iv->cpu_detail && i < iv->ncpu; i++) {
		struct cpu_interval *ci = &iv->cpu[i];

		(void)col_deltas(&a->stat.cpu[i].t, &b->stat.cpu[i].t, dc);
		fill_shares(ci, dc);
		/* Interrupts are only counted system-wide: share them out. */
		ci->wake_delay_us =
		    wake_delay(e, ci->steal_ticks, interrupts / iv->ncpu);
		e->hist[i].id = b->stat.cpu[i].id;
		classify_steal(e, &e->hist[i], ci, has_steal);
	}
	fill_shares(&iv->total, d);
	iv->total.wake_delay_us =
	    wake_delay(e, iv->total.steal_ticks, interrupts);
	classify_steal(e, &e->total_hist, &iv->total, has_steal);
	classify_total(e);
	classify_speed(e, b);
	run_add(e, d, a, b);
	return iv;
}

bool
engine_verdict_shown(const struct engine *e, enum verdict v)
{
	return v != VERDICT_SLOWED || e->speed_seen;
}

void
engine_reset_run(struct engine *e)
{
	e->run = (struct run_totals){0};
}

void
engine_summary(const struct engine *e, struct summary *out)
{
	const struct verdict_opts *o = &e->opts;
	const struct run_totals *rt = &e->run;
	const uint64_t *t = rt->ticks;
	uint64_t s = t[COL_STEAL], b = busy_of(t), i = idle_of(t);
	unsigned n = rt->intervals;
	unsigned heavy =
	    rt->by_verdict[VERDICT_STOLEN] + rt->by_verdict[VERDICT_CAPPED];

	*out = (struct summary){
	    .verdict = VERDICT_OK, .wake_delay_us = -1, .speed = -1};
	if (rt->speed_n > 0)
		out->speed = rt->speed_sum / rt->speed_n;
	out->pct_steal = 100.0 * ratio(s, b + i + s);
	out->u = b + i == 0 ? 0.0 : ratio(b, b + i);
	out->r = ratio(s, b + s);
	if (rt->have_psi && rt->elapsed_ns > 0)
		out->psi_some = (double)rt->psi_some_us * NSEC_PER_USEC /
		                (double)rt->elapsed_ns;
	if (rt->have_cgroup && rt->elapsed_ns > 0)
		out->throttled = ratio(rt->nr_throttled, rt->nr_periods);
	if (rt->have_intr && rt->intr > 0)
		out->wake_delay_us = ticks_to_s(e, s) * 1e6 / (double)rt->intr;

	if (n == 0) {
		out->verdict = rt->glitches > 0 ? VERDICT_GLITCH : VERDICT_OK;
		snprintf(out->reason, sizeof(out->reason),
		    "no complete interval (%u dropped)", rt->glitches);
	} else if (rt->have_cgroup && out->throttled >= o->throttle) {
		out->verdict = VERDICT_THROTTLED;
		snprintf(out->reason, sizeof(out->reason),
		    "cgroup CPU quota throttled %llu of %llu periods (%.1f%%)",
		    (unsigned long long)rt->nr_throttled,
		    (unsigned long long)rt->nr_periods, 100 * out->throttled);
	} else if (2 * rt->by_verdict[VERDICT_CAPPED] >= n &&
	           rt->by_verdict[VERDICT_CAPPED] > 0) {
		out->verdict = VERDICT_CAPPED;
		snprintf(out->reason, sizeof(out->reason),
		    "steady steal of %.0f%% of wanted time while busy in %u of "
		    "%u interval%s",
		    100 * out->r, rt->by_verdict[VERDICT_CAPPED], n,
		    plural_s(n));
	} else if ((2 * heavy >= n && heavy > 0) ||
	           (n >= o->sustain && out->u >= o->busy &&
	               out->r >= o->steal)) {
		out->verdict = VERDICT_STOLEN;
		snprintf(out->reason, sizeof(out->reason),
		    "got %.0f%% of the CPU it asked for: steal %.0f%% of "
		    "wanted time, %.0f%% busy",
		    100 * (1 - out->r), 100 * out->r, 100 * out->u);
	} else if (heavy > 0) {
		/* Sustained steal for part of the run: that part is what a
		 * user asks about, so it is the verdict, with its share. */
		double hr =
		    ratio(rt->heavy_steal, rt->heavy_busy + rt->heavy_steal);

		out->verdict = rt->by_verdict[VERDICT_CAPPED] >
		                       rt->by_verdict[VERDICT_STOLEN]
		                   ? VERDICT_CAPPED
		                   : VERDICT_STOLEN;
		snprintf(out->reason, sizeof(out->reason),
		    "%s in %u of %u interval%s: got %.0f%% of the CPU it asked "
		    "for then (steal %.0f%% of wanted time)",
		    verdict_name(out->verdict), heavy, n, plural_s(n),
		    100 * (1 - hr), 100 * hr);
	} else if (out->u >= o->busy && out->r < o->steal &&
	           (2 * rt->by_verdict[VERDICT_SATURATED] >= n ||
	               (rt->have_psi && out->psi_some >= o->psi))) {
		out->verdict = VERDICT_SATURATED;
		snprintf(out->reason, sizeof(out->reason),
		    "%.0f%% busy, PSI some %.0f%%, steal only %.1f%% of wanted "
		    "time",
		    100 * out->u, 100 * out->psi_some, 100 * out->r);
	} else if (2 * rt->by_verdict[VERDICT_SLOWED] >= n &&
	           rt->by_verdict[VERDICT_SLOWED] > 0) {
		out->verdict = VERDICT_SLOWED;
		snprintf(out->reason, sizeof(out->reason),
		    "slowed in %u of %u interval%s: the CPUs ran at %.0f%% of "
		    "their best speed (at worst %.0f%%), steal %.1f%% of "
		    "wanted time",
		    rt->by_verdict[VERDICT_SLOWED], n, plural_s(n),
		    100 * out->speed, 100 * rt->speed_min, 100 * out->r);
	} else if (s > 0 && out->u < o->busy) {
		out->verdict = VERDICT_IDLE_STEAL;
		snprintf(out->reason, sizeof(out->reason),
		    "%.0f%% busy, steal %.2f%% of all time (~%.0f us per "
		    "interrupt)",
		    100 * out->u, out->pct_steal,
		    out->wake_delay_us >= 0 ? out->wake_delay_us : 0.0);
	} else if (rt->ncols <= COL_STEAL) {
		snprintf(out->reason, sizeof(out->reason),
		    "this kernel's /proc/stat has %u columns and no steal "
		    "field",
		    rt->ncols);
	} else if (s > 0 && out->r >= o->steal) {
		/* Over the threshold in too few intervals to be stolen (a
		 * report's short period): said so, never "below". */
		snprintf(out->reason, sizeof(out->reason),
		    "%.0f%% busy, steal %.1f%% of wanted time over %u "
		    "interval%s, fewer than the %u in a row that count "
		    "(--sustain)",
		    100 * out->u, 100 * out->r, n, plural_s(n), o->sustain);
	} else if (s > 0) {
		snprintf(out->reason, sizeof(out->reason),
		    "%.0f%% busy, steal %.1f%% of wanted time, below the "
		    "%.0f%% threshold (%.2f%% of all time)",
		    100 * out->u, 100 * out->r, 100 * o->steal, out->pct_steal);
	} else {
		snprintf(out->reason, sizeof(out->reason),
		    "%.0f%% busy, no steal", 100 * out->u);
	}
	out->advice = verdict_advice[out->verdict];
	/* The advice never says more than the numbers: steal that is
	 * there but under the threshold is said to be, in the user's own
	 * terms. */
	if (out->verdict == VERDICT_OK && s > 0 && out->r >= o->steal) {
		snprintf(out->advice_buf, sizeof(out->advice_buf),
		    "no action yet: steal took %.1f%% of the CPU time this "
		    "machine wanted, over your %.0f%% (--steal), but only "
		    "for %u interval%s; a longer window says whether it "
		    "lasts.",
		    100 * out->r, 100 * o->steal, n, plural_s(n));
		out->advice = out->advice_buf;
	} else if (out->verdict == VERDICT_OK && s > 0) {
		snprintf(out->advice_buf, sizeof(out->advice_buf),
		    "no action by your thresholds: steal took %.1f%% of the "
		    "CPU time this machine wanted, below the %.0f%% that "
		    "counts as heavy (--steal). If that much matters here, "
		    "lower --steal.",
		    100 * out->r, 100 * o->steal);
		out->advice = out->advice_buf;
	}
	if (out->verdict == VERDICT_IDLE_STEAL && e->idle_poll[0] != '\0')
		out->advice = idle_steal_polling_advice;
}

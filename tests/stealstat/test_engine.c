/* SPDX-License-Identifier: ISC */
/*
 * The verdict engine on synthetic snapshots: each rule of the VERDICTS
 * section of stealstat.1, its thresholds, and the glitch checks.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "engine.h"
#include "timeutil.h"

#define HZ 100
#define NCPU 2

/* A run under test: the counters so far and the engine. */
struct run {
	struct engine e;
	struct procstat_cpu cpu[2][4];
	struct snapshot snap[2];
	int cur;
	unsigned ncpu; /* CPUs online in the next snapshot */
	uint64_t rewind; /* the next snapshot's cpu1 idle goes back */
};

static struct run run;

static void
run_start(const struct verdict_opts *o)
{
	struct verdict_opts d;

	if (o == NULL) {
		verdict_opts_default(&d);
		o = &d;
	}
	memset(&run, 0, sizeof(run));
	assert_int_equal(engine_init(&run.e, o, HZ), 0);
	for (int s = 0; s < 2; s++) {
		run.snap[s].stat.cpu = run.cpu[s];
		run.snap[s].stat.cpu_cap = 4;
		run.snap[s].stat.cpu_detail = true;
		run.snap[s].stat.ncpu = NCPU;
		run.snap[s].stat.ncols = COL_MAX;
		run.snap[s].stat.have = PROCSTAT_HAVE_INTR;
		run.snap[s].have_psi = true;
		run.snap[s].have_cgroup = true;
		for (unsigned i = 0; i < NCPU; i++) {
			run.cpu[s][i].id = i;
			/* Counters of a machine up for a while. */
			for (int c = 0; c < COL_MAX; c++) {
				run.cpu[s][i].t.col[c] = 1000000;
				run.snap[s].stat.total.col[c] += 1000000;
			}
		}
	}
	run.snap[0].mono_ns = 1000 * NSEC_PER_SEC;
	run.ncpu = NCPU;
}

/* Ticks of one CPU over a 1 s interval (100 ticks). */
struct ticks {
	uint64_t user, system, idle, steal;
};

/*
 * Advances the run by one second with the same ticks on each CPU, plus
 * system-wide figures, and returns the engine's interval.
 */
static const struct interval *
step(struct ticks t, uint64_t intr, uint32_t running, uint64_t psi_us,
    uint64_t throttled_ns)
{
	struct snapshot *a = &run.snap[run.cur], *b = &run.snap[!run.cur];
	struct cpu_times total = {{0}};

	b->stat.ncpu = run.ncpu;
	for (unsigned i = 0; i < b->stat.ncpu; i++) {
		struct cpu_times *ct = &b->stat.cpu[i].t;

		b->stat.cpu[i].id = a->stat.cpu[i].id;
		*ct = a->stat.cpu[i].t;
		ct->col[COL_USER] += t.user;
		ct->col[COL_SYSTEM] += t.system;
		ct->col[COL_IDLE] += t.idle;
		ct->col[COL_STEAL] += t.steal;
		if (i == 1) {
			ct->col[COL_IDLE] -= run.rewind;
			run.rewind = 0;
		}
		for (int c = 0; c < COL_MAX; c++)
			total.col[c] += ct->col[c];
	}
	b->stat.total = total;
	b->stat.intr = a->stat.intr + intr;
	b->stat.procs_running = running;
	b->psi.some_total_us = a->psi.some_total_us + psi_us;
	b->cgroup.throttled_ns = a->cgroup.throttled_ns + throttled_ns;
	/* Ten quota periods a second, three of them throttled if any. */
	b->cgroup.nr_periods = a->cgroup.nr_periods + 10;
	b->cgroup.nr_throttled =
	    a->cgroup.nr_throttled + 3 * (throttled_ns > 0);
	b->mono_ns = a->mono_ns + NSEC_PER_SEC;
	run.cur = !run.cur;
	return engine_step(&run.e, a, b);
}

static const struct interval *
quiet_step(struct ticks t)
{
	return step(t, 1000, 1, 0, 0);
}

static void
test_idle_steal(void **state)
{
	const struct interval *iv;
	struct summary s;

	(void)state;
	run_start(NULL);
	iv = step((struct ticks){2, 1, 96, 1}, 400, 1, 1000, 0);
	assert_false(iv->glitch);
	assert_int_equal(iv->total.verdict, VERDICT_IDLE_STEAL);
	assert_int_equal(iv->cpu[0].verdict, VERDICT_IDLE_STEAL);
	/* 2 ticks of steal (20 ms) over 400 interrupts: 50 us each. */
	assert_true(
	    iv->total.wake_delay_us > 49.9 && iv->total.wake_delay_us < 50.1);
	engine_summary(&run.e, &s);
	assert_int_equal(s.verdict, VERDICT_IDLE_STEAL);
	engine_free(&run.e);
}

static void
test_stolen_needs_sustain(void **state)
{
	const struct interval *iv;
	char why[REASON_MAX];
	struct summary s;

	(void)state;
	run_start(NULL);
	for (int i = 0; i < 2; i++) {
		iv = quiet_step((struct ticks){70, 5, 0, 25});
		assert_int_equal(iv->total.verdict, VERDICT_OK);
		assert_int_equal(iv->total.why, REASON_NOT_SUSTAINED);
	}
	/* Steal that varies is a noisy neighbour, not a credit cap. */
	iv = quiet_step((struct ticks){60, 5, 0, 35});
	assert_int_equal(iv->total.verdict, VERDICT_STOLEN);
	assert_int_equal(iv->cpu[1].verdict, VERDICT_STOLEN);
	engine_reason(&run.e, iv, &iv->total, why, sizeof(why));
	assert_non_null(strstr(why, "got 65% of the vCPU"));
	engine_summary(&run.e, &s);
	assert_int_equal(s.verdict, VERDICT_STOLEN);
	engine_free(&run.e);
}

static void
test_capped(void **state)
{
	const struct interval *iv = NULL;
	struct summary s;

	(void)state;
	run_start(NULL);
	for (int i = 0; i < 5; i++)
		iv = quiet_step((struct ticks){20, 0, 0, 80});
	assert_int_equal(iv->total.verdict, VERDICT_CAPPED);
	engine_summary(&run.e, &s);
	assert_int_equal(s.verdict, VERDICT_CAPPED);
	engine_free(&run.e);
}

static void
test_threshold_option(void **state)
{
	struct verdict_opts o;
	const struct interval *iv = NULL;

	(void)state;
	verdict_opts_default(&o);
	o.steal = 0.50;
	run_start(&o);
	for (int i = 0; i < 5; i++)
		iv = quiet_step((struct ticks){60, 5, 0, 35});
	assert_int_equal(iv->total.verdict, VERDICT_OK);
	assert_int_equal(iv->total.why, REASON_BELOW_THRESHOLD);
	engine_free(&run.e);
}

static void
test_saturated_and_not_when_stolen(void **state)
{
	const struct interval *iv;

	(void)state;
	run_start(NULL);
	iv = step((struct ticks){90, 10, 0, 0}, 1000, 7, 400000, 0);
	assert_int_equal(iv->total.verdict, VERDICT_SATURATED);
	assert_true(iv->psi_some > 0.39 && iv->psi_some < 0.41);
	assert_int_equal(iv->runnable, 6);
	/* Heavy steal is never blamed on the VM's own load. */
	iv = step((struct ticks){50, 10, 0, 40}, 1000, 7, 400000, 0);
	assert_int_not_equal(iv->total.verdict, VERDICT_SATURATED);
	engine_free(&run.e);
}

static void
test_throttled(void **state)
{
	const struct interval *iv;
	struct summary s;

	(void)state;
	run_start(NULL);
	iv =
	    step((struct ticks){30, 5, 65, 0}, 1000, 1, 0, 300 * NSEC_PER_MSEC);
	assert_int_equal(iv->total.verdict, VERDICT_THROTTLED);
	assert_true(iv->throttled > 0.29 && iv->throttled < 0.31);
	assert_true(iv->throttled_s > 0.29 && iv->throttled_s < 0.31);
	engine_summary(&run.e, &s);
	assert_int_equal(s.verdict, VERDICT_THROTTLED);
	engine_free(&run.e);
}

static void
test_glitches(void **state)
{
	const struct interval *iv;
	(void)state;
	run_start(NULL);
	quiet_step((struct ticks){70, 5, 0, 25});
	quiet_step((struct ticks){70, 5, 0, 25});
	/* A forward jump: 30 s of steal in 1 s. */
	iv = quiet_step((struct ticks){70, 5, 0, 3000});
	assert_true(iv->glitch);
	assert_int_equal(iv->total.verdict, VERDICT_GLITCH);
	assert_non_null(strstr(iv->glitch_reason, "steal of"));
	/* The history starts again: one heavy interval is not sustained. */
	iv = quiet_step((struct ticks){70, 5, 0, 25});
	assert_false(iv->glitch);
	assert_int_equal(iv->total.why, REASON_NOT_SUSTAINED);

	/* A counter going backwards, then moving on from there. */
	run.rewind = 200;
	iv = quiet_step((struct ticks){10, 0, 90, 0});
	assert_true(iv->glitch);
	assert_non_null(strstr(iv->glitch_reason, "backwards"));
	iv = quiet_step((struct ticks){10, 0, 90, 0});
	assert_false(iv->glitch);

	/* Hotplug: a CPU goes away. */
	run.ncpu = 1;
	iv = quiet_step((struct ticks){10, 0, 90, 0});
	assert_true(iv->glitch);
	assert_non_null(strstr(iv->glitch_reason, "CPU set changed"));
	assert_int_equal(run.e.run.glitches, 3);
	engine_free(&run.e);
}

static void
test_no_interval_summary(void **state)
{
	struct summary s;

	(void)state;
	run_start(NULL);
	engine_summary(&run.e, &s);
	assert_int_equal(s.verdict, VERDICT_OK);
	assert_non_null(s.advice);
	engine_free(&run.e);
}

static void
test_bad_options(void **state)
{
	struct verdict_opts o;
	struct engine e;

	(void)state;
	verdict_opts_default(&o);
	o.sustain = 0;
	assert_int_equal(engine_init(&e, &o, HZ), -EINVAL);
	o.sustain = ENGINE_WINDOW_MAX + 1;
	assert_int_equal(engine_init(&e, &o, HZ), -EINVAL);
	assert_string_equal(verdict_name(VERDICT_IDLE_STEAL), "idle-steal");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_idle_steal),
	    cmocka_unit_test(test_stolen_needs_sustain),
	    cmocka_unit_test(test_capped),
	    cmocka_unit_test(test_threshold_option),
	    cmocka_unit_test(test_saturated_and_not_when_stolen),
	    cmocka_unit_test(test_throttled),
	    cmocka_unit_test(test_glitches),
	    cmocka_unit_test(test_no_interval_summary),
	    cmocka_unit_test(test_bad_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

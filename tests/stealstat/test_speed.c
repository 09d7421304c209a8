/* SPDX-License-Identifier: ISC */
/*
 * The speed probe: its unit of work, the /proc/cpuinfo identity, the
 * best-time file, the context and one real pinned run.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine.h"
#include "procstat.h"
#include "record.h"
#include "snapshot.h"
#include "speed.h"
#include "timeutil.h"

#define S(text) text, sizeof(text) - 1

static void
test_walk_is_one_cycle_through_every_line(void **state)
{
	struct speed_work w;
	unsigned char *seen;
	uint32_t p = 0;

	(void)state;
	assert_int_equal(speed_work_init(&w), 0);
	assert_int_equal(w.lines, SPEED_WALK_BYTES / SPEED_LINE_BYTES);
	seen = calloc(w.lines, 1);
	assert_non_null(seen);
	for (size_t i = 0; i < w.lines; i++) {
		size_t line = p / (SPEED_LINE_BYTES / sizeof(uint32_t));

		assert_true(line < w.lines);
		assert_int_equal(seen[line], 0);
		seen[line] = 1;
		p = w.next[p];
	}
	assert_int_equal(p, 0); /* back at the start: a single cycle */
	/* The same work every time: the unit is a pure function. */
	assert_true(speed_work_unit(&w, 42) == speed_work_unit(&w, 42));
	assert_true(speed_work_unit(&w, 42) != speed_work_unit(&w, 44));
	/* The warm-up reads every line: the sum of all the links. */
	assert_true(
	    speed_work_warm(&w) == (uint64_t)(w.lines - 1) * w.lines / 2 *
	                               (SPEED_LINE_BYTES / sizeof(uint32_t)));
	free(seen);
	speed_work_free(&w);
	speed_work_free(&w);
	assert_null(w.next);
}

static void
test_ratio(void **state)
{
	(void)state;
	assert_true(speed_ratio(100, 200) == 0.5);
	assert_true(speed_ratio(100, 100) == 1.0);
	assert_true(speed_ratio(100, 50) == 1.0); /* a new best */
	assert_true(speed_ratio(0, 50) == 1.0); /* the first ever */
	assert_true(speed_ratio(100, 0) < 0); /* not measured */
}

/* Two blocks of this machine's kind (a VM: no microcode line). */
static const char cpuinfo_vm[] = "processor\t: 0\n"
                                 "vendor_id\t: AuthenticAMD\n"
                                 "cpu family\t: 26\n"
                                 "model\t\t: 2\n"
                                 "model name\t: AMD EPYC\n"
                                 "stepping\t: 1\n"
                                 "cpu MHz\t\t: 2096.010\n"
                                 "flags\t\t: fpu vme de pse\n"
                                 "\n"
                                 "processor\t: 1\n"
                                 "vendor_id\t: AuthenticAMD\n"
                                 "cpu family\t: 26\n"
                                 "model\t\t: 2\n"
                                 "model name\t: AMD EPYC\n"
                                 "stepping\t: 1\n"
                                 "cpu MHz\t\t: 2096.010\n"
                                 "\n";

static void
test_cpuinfo_x86(void **state)
{
	struct cpu_ident id;
	char key[SPEED_KEY_MAX], key2[SPEED_KEY_MAX];

	(void)state;
	assert_int_equal(cpuinfo_parse(S(cpuinfo_vm), &id), 0);
	assert_string_equal(id.vendor, "AuthenticAMD");
	assert_string_equal(id.model_name, "AMD EPYC");
	assert_true(id.have_family);
	assert_int_equal(id.family, 26);
	assert_int_equal(id.model, 2);
	assert_int_equal(id.stepping, 1);
	assert_false(id.have_microcode);
	assert_int_equal(id.blocks, 2);
	assert_false(id.mixed);
	assert_true(speed_key(&id, key, sizeof(key)) > 0);
	assert_string_equal(key, "v1 AuthenticAMD 26/2/1 ucode=none AMD EPYC");

	/* Bare metal: microcode, which goes into the key. */
	assert_int_equal(cpuinfo_parse(S("processor\t: 0\n"
	                                 "vendor_id\t: GenuineIntel\n"
	                                 "cpu family\t: 6\n"
	                                 "model\t\t: 85\n"
	                                 "model name\t: Intel(R) Xeon(R) "
	                                 "Platinum 8259CL CPU @ 2.50GHz\n"
	                                 "stepping\t: 7\n"
	                                 "microcode\t: 0x5003604\n"),
	                     &id),
	    0);
	assert_true(id.have_microcode);
	assert_int_equal(id.microcode, 0x5003604);
	assert_int_equal(id.model, 85);
	assert_true(speed_key(&id, key, sizeof(key)) > 0);
	id.microcode = 0x5003707; /* a microcode update */
	assert_true(speed_key(&id, key2, sizeof(key2)) > 0);
	assert_string_not_equal(key, key2);
	assert_int_equal(speed_key(&id, key, 10), -ENOSPC);
}

static void
test_cpuinfo_arm64_and_mixed(void **state)
{
	struct cpu_ident id;

	(void)state;
	assert_int_equal(cpuinfo_parse(S("processor\t: 0\n"
	                                 "BogoMIPS\t: 243.75\n"
	                                 "CPU implementer\t: 0x41\n"
	                                 "CPU architecture: 8\n"
	                                 "CPU variant\t: 0x3\n"
	                                 "CPU part\t: 0xd0c\n"
	                                 "CPU revision\t: 1\n"),
	                     &id),
	    0);
	assert_string_equal(id.vendor, "0x41");
	assert_int_equal(id.family, 8);
	assert_int_equal(id.model, 0xd0c);
	assert_int_equal(id.stepping, 1);

	/* A late microcode load caught halfway: the blocks disagree. */
	assert_int_equal(cpuinfo_parse(S("processor\t: 0\n"
	                                 "vendor_id\t: GenuineIntel\n"
	                                 "microcode\t: 0x10\n\n"
	                                 "processor\t: 1\n"
	                                 "vendor_id\t: GenuineIntel\n"
	                                 "microcode\t: 0x11\n"),
	                     &id),
	    0);
	assert_true(id.mixed);
	assert_int_equal(id.microcode, 0x10);
}

static void
test_cpuinfo_rejects_damage(void **state)
{
	struct cpu_ident id = {.family = 77};

	(void)state;
	assert_int_equal(cpuinfo_parse(S(""), &id), -EINVAL);
	assert_int_equal(cpuinfo_parse(S("no colon here\n"), &id), -EINVAL);
	/* A block with nothing that identifies a CPU. */
	assert_int_equal(
	    cpuinfo_parse(S("processor\t: 0\nflags\t: fpu\n"), &id), -EINVAL);
	assert_int_equal(id.family, 77); /* untouched on failure */
	/* Cut in the middle of a line, and a bad number: what is whole. */
	assert_int_equal(cpuinfo_parse(S("processor\t: 0\n"
	                                 "vendor_id\t: AuthenticAMD\n"
	                                 "cpu family\t: 2x6\n"
	                                 "model name\t: AMD EP"),
	                     &id),
	    0);
	assert_false(id.have_family);
	assert_string_equal(id.model_name, "AMD EP");
	/* Control bytes never reach the key (it is one line of a file). */
	assert_int_equal(cpuinfo_parse(S("processor : 0\n"
	                                 "model name : a\x01"
	                                 "b\r\n"),
	                     &id),
	    0);
	assert_string_equal(id.model_name, "a?b?");
}

static uint64_t best_ns[8];

static void
test_best_file_round_trip(void **state)
{
	struct speed_best b = {.cap = 8, .best_ns = best_ns};
	char buf[512];
	int n;

	(void)state;
	memset(best_ns, 0, sizeof(best_ns));
	strcpy(b.key, "v1 AuthenticAMD 26/2/1 ucode=none AMD EPYC");
	assert_true(speed_best_update(&b, 0, 150000));
	assert_true(speed_best_update(&b, 3, 160000));
	assert_false(speed_best_update(&b, 0, 151000)); /* slower */
	assert_true(speed_best_update(&b, 0, 149000));
	assert_false(speed_best_update(&b, 8, 1)); /* beyond the table */
	assert_false(speed_best_update(&b, 1, 0)); /* not measured */
	n = speed_best_format(&b, buf, sizeof(buf));
	assert_true(n > 0);
	assert_string_equal(buf, "stealstat-speed 1\n"
	                         "key v1 AuthenticAMD 26/2/1 ucode=none AMD "
	                         "EPYC\n"
	                         "cpu 0 149000\n"
	                         "cpu 3 160000\n");
	assert_int_equal(speed_best_format(&b, buf, 20), -ENOSPC);
	n = speed_best_format(&b, buf, sizeof(buf));
	memset(best_ns, 0xff, sizeof(best_ns));
	assert_int_equal(speed_best_parse(buf, (size_t)n, &b), 0);
	assert_int_equal(best_ns[0], 149000);
	assert_int_equal(best_ns[1], 0);
	assert_int_equal(best_ns[3], 160000);
	/* CPUs beyond the table are ignored, not an error. */
	assert_int_equal(
	    speed_best_parse(S("stealstat-speed 1\nkey k\ncpu 9 5\n"), &b), 0);
	assert_string_equal(b.key, "k");
}

static void
test_best_file_rejects_damage(void **state)
{
	struct speed_best b = {.cap = 8, .best_ns = best_ns};
	static const char *bad[] = {
	    "",
	    "stealstat-speed 2\nkey k\n",
	    "stealstat-speed 1\n",
	    "stealstat-speed 1\nkey \n",
	    "stealstat-speed 1\nkey k",
	    "stealstat-speed 1\nkey k\ncpu 0 0\n",
	    "stealstat-speed 1\nkey k\ncpu 0 12",
	    "stealstat-speed 1\nkey k\ncpu 0 -12\n",
	    "stealstat-speed 1\nkey k\ncpu 0 12 13\n",
	    "stealstat-speed 1\nkey k\ncpu 0\n",
	    "stealstat-speed 1\nkey k\ncpu x 1\n",
	    "stealstat-speed 1\nkey k\ncpu 0 99999999999999999999\n",
	    "stealstat-speed 1\nkey k\x7f\n",
	    "stealstat-speed 1\nkey k\nbogus\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(best_ns, 0xff, sizeof(best_ns));
		assert_int_equal(
		    speed_best_parse(bad[i], strlen(bad[i]), &b), -EINVAL);
		/* Nothing half-read survives a failure. */
		assert_int_equal(best_ns[0], 0);
		assert_string_equal(b.key, "");
	}
}

static void
tmp_path(char *buf, size_t size, const char *name)
{
	const char *dir = getenv("TK_TEST_TMPDIR");

	snprintf(buf, size, "%s/%s.%ld", dir != NULL ? dir : "/tmp", name,
	    (long)getpid());
}

static void
test_best_file_persists_and_relearns(void **state)
{
	struct speed_best b = {.cap = 8, .best_ns = best_ns};
	char path[512];
	FILE *f;

	(void)state;
	tmp_path(path, sizeof(path), "speed-best");
	unlink(path);
	/* Absent: start afresh under the key. */
	assert_int_equal(speed_best_load(path, "cpu A", &b), 0);
	assert_string_equal(b.key, "cpu A");
	assert_true(speed_best_update(&b, 1, 1234));
	assert_int_equal(speed_best_save(path, &b), 0);
	memset(best_ns, 0, sizeof(best_ns));
	/* The same CPU after a restart: the best survives. */
	assert_int_equal(speed_best_load(path, "cpu A", &b), 1);
	assert_int_equal(best_ns[1], 1234);
	/* Another model or microcode: re-learned from nothing. */
	assert_int_equal(speed_best_load(path, "cpu B", &b), 0);
	assert_int_equal(best_ns[1], 0);
	assert_string_equal(b.key, "cpu B");
	/* A damaged file costs only re-learning. */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("stealstat-speed 1\nkey cpu A\ncpu 1 12", f);
	fclose(f);
	assert_int_equal(speed_best_load(path, "cpu A", &b), 0);
	assert_int_equal(best_ns[1], 0);
	unlink(path);
}

static struct procstat_cpu before_cpu[4], after_cpu[4];

static void
stat_image(struct procstat *ps, struct procstat_cpu *cpus, unsigned n,
    const uint64_t (*busy_idle)[2], uint32_t running)
{
	memset(ps, 0, sizeof(*ps));
	ps->cpu = cpus;
	ps->cpu_cap = 4;
	ps->cpu_detail = true;
	ps->ncpu = n;
	ps->ncols = COL_MAX;
	ps->have = PROCSTAT_HAVE_RUNNING;
	ps->procs_running = running;
	for (unsigned i = 0; i < n; i++) {
		memset(&cpus[i], 0, sizeof(cpus[i]));
		cpus[i].id = i;
		cpus[i].t.col[COL_USER] = busy_idle[i][0];
		cpus[i].t.col[COL_GUEST] = busy_idle[i][0]; /* in user */
		cpus[i].t.col[COL_IDLE] = busy_idle[i][1];
	}
}

static void
test_context_other_cpus(void **state)
{
	struct procstat before, after;
	struct speed_context ctx;
	const uint64_t b0[3][2] = {{100, 100}, {100, 100}, {100, 100}};
	/* cpu0 (probed) busy; cpu1 busy 3 of 4 ticks; cpu2 idle. */
	const uint64_t a0[3][2] = {{200, 100}, {103, 101}, {100, 104}};

	(void)state;
	stat_image(&before, before_cpu, 3, b0, 1);
	stat_image(&after, after_cpu, 3, a0, 1);
	speed_context_from_stat(&before, &after, 0, &ctx);
	assert_true(ctx.others_known);
	assert_int_equal(ctx.others, 2);
	assert_int_equal(ctx.others_busy_ticks, 3);
	assert_int_equal(ctx.others_ticks, 8);
	assert_int_equal(ctx.runnable, 0); /* only ourselves */
	assert_false(speed_context_others_busy(&ctx, 0.5));
	assert_true(speed_context_others_busy(&ctx, 0.3));

	/* Runnable tasks waiting count even between ticks. */
	after.procs_running = 3;
	speed_context_from_stat(&before, &after, 0, &ctx);
	assert_int_equal(ctx.runnable, 2);
	assert_true(speed_context_others_busy(&ctx, 0.5));

	/* A counter going backwards adds nothing. */
	after_cpu[1].t.col[COL_USER] = 50;
	after.procs_running = 1;
	speed_context_from_stat(&before, &after, 0, &ctx);
	assert_int_equal(ctx.others_busy_ticks, 0);

	/* A CPU that came online between the reads is not known. */
	stat_image(&before, before_cpu, 2, b0, 1);
	stat_image(&after, after_cpu, 3, a0, 1);
	speed_context_from_stat(&before, &after, 0, &ctx);
	assert_false(ctx.others_known);
	assert_int_equal(ctx.others, 1);

	/* A one-CPU guest has no other CPUs to be busy. */
	stat_image(&before, before_cpu, 1, b0, 4);
	stat_image(&after, after_cpu, 1, a0, 4);
	speed_context_from_stat(&before, &after, 0, &ctx);
	assert_int_equal(ctx.others, 0);
	assert_false(speed_context_others_busy(&ctx, 0.0));
}

static void
test_context_frequency(void **state)
{
	struct speed_context ctx;

	(void)state;
	speed_context_freq(&ctx, 0, 0, 0); /* no cpufreq in the guest */
	assert_false(ctx.freq_known);
	assert_false(ctx.freq_changed);
	speed_context_freq(&ctx, 0, 3000000, 3000000); /* first probe */
	assert_true(ctx.freq_known);
	assert_false(ctx.freq_changed);
	speed_context_freq(&ctx, 3000000, 2000000, 2000000); /* since last */
	assert_true(ctx.freq_changed);
	speed_context_freq(&ctx, 3000000, 3000000, 2800000); /* during */
	assert_true(ctx.freq_changed);
	assert_int_equal(ctx.freq_khz, 2800000);
	/* A guest without cpufreq reads 0 from a missing file. */
	assert_int_equal(speed_read_freq_khz("/nonexistent", 0), 0);
}

static void
test_budget_rotation(void **state)
{
	(void)state;
	/* 0.1% of 10 s is 10 ms; 400 us a probe: 25 CPUs per interval. */
	assert_int_equal(speed_cpus_per_interval(10000000, 400000, 64), 25);
	assert_int_equal(speed_cpus_per_interval(10000000, 400000, 2), 2);
	/* Never starve: at least one CPU per interval. */
	assert_int_equal(speed_cpus_per_interval(1000, 400000, 8), 1);
	assert_int_equal(speed_cpus_per_interval(10000000, 0, 8), 8);
	assert_int_equal(speed_cpus_per_interval(10000000, 1, 0), 0);
}

static void
test_probe_runs_pinned_and_restores_affinity(void **state)
{
	struct speed_work w;
	struct speed_sample s;
	cpu_set_t before, after, only0;
	int fd, ncpu = 0;

	(void)state;
	assert_int_equal(speed_work_init(&w), 0);
	assert_int_equal(sched_getaffinity(0, sizeof(before), &before), 0);
	fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &before))
			continue;
		ncpu++;
		assert_int_equal(speed_probe_cpu(&w, (unsigned)cpu, fd, &s), 0);
		assert_int_equal(s.err, 0);
		assert_int_equal(s.ran_on, cpu);
		assert_true(s.unit_cpu_ns > 0);
		assert_true(s.span_wall_ns >= s.unit_wall_ns);
		assert_true(s.span_cpu_ns >= s.unit_cpu_ns);
		assert_true(s.lost_ns <= s.span_wall_ns);
		if (fd >= 0)
			assert_true(s.have_run_delay);
		assert_int_equal(
		    sched_getaffinity(0, sizeof(after), &after), 0);
		assert_true(CPU_EQUAL(&before, &after));
	}
	assert_true(ncpu > 0);
	assert_int_equal(speed_probe_cpu(&w, SPEED_BEST_CPUS, fd, &s), -EINVAL);
	/* A CPU outside what we were given (taskset) is never entered. */
	if (ncpu > 1) {
		int first = -1, other = -1;

		for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
			if (CPU_ISSET(cpu, &before)) {
				if (first < 0)
					first = cpu;
				else if (other < 0)
					other = cpu;
			}
		CPU_ZERO(&only0);
		CPU_SET(first, &only0);
		assert_int_equal(
		    sched_setaffinity(0, sizeof(only0), &only0), 0);
		assert_int_equal(
		    speed_probe_cpu(&w, (unsigned)other, fd, &s), -EINVAL);
		assert_int_equal(s.err, -EINVAL);
		assert_int_equal(
		    sched_getaffinity(0, sizeof(after), &after), 0);
		assert_true(CPU_EQUAL(&only0, &after));
		assert_int_equal(
		    sched_setaffinity(0, sizeof(before), &before), 0);
	}
	if (fd >= 0)
		close(fd);
	speed_work_free(&w);
}

/* A proc root with a real /proc/stat and a chosen /proc/cpuinfo. */
static void
fake_proc(char *dir, size_t size, const char *cpuinfo)
{
	char path[600], cmd[1300];
	FILE *f;

	tmp_path(dir, size, "proc");
	snprintf(cmd, sizeof(cmd), "mkdir -p %s && cat /proc/stat > %s/stat",
	    dir, dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/cpuinfo", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(cpuinfo, f);
	fclose(f);
}

static void
test_prober_round_keeps_bests_across_restarts(void **state)
{
	struct speed_prober p;
	char dir[512], best[600], cmd[1300];
	uint64_t first_best[2] = {0, 0};
	int n;

	(void)state;
	fake_proc(dir, sizeof(dir), cpuinfo_vm);
	snprintf(best, sizeof(best), "%s/speed-best", dir);
	assert_int_equal(
	    speed_prober_init(&p, dir, "/nonexistent", best, 10 * 1000 * 1000),
	    0);
	assert_int_equal(p.best_load_rc, 0); /* nothing to load yet */
	n = speed_prober_run(&p);
	assert_true(n >= 1);
	for (unsigned id = 0; id < 2 && id < p.cap; id++) {
		const struct speed_cpu *c = speed_prober_cpu(&p, id);

		if (c == NULL)
			continue;
		/* The first probe of a CPU is its best: 1.0 by definition. */
		assert_true(c->speed == 1.0);
		assert_true(c->best_ns == c->s.unit_cpu_ns);
		assert_false(c->ctx.freq_known); /* /nonexistent: no cpufreq */
		first_best[id] = c->best_ns;
	}
	assert_true(p.cost_ns > 0);
	speed_prober_free(&p); /* saves */
	speed_prober_free(&p); /* idempotent */

	/* A restart on the same CPU: the bests come back. */
	assert_int_equal(speed_prober_init(&p, dir, NULL, best, 10000000), 0);
	assert_int_equal(p.best_load_rc, 1);
	for (unsigned id = 0; id < 2 && id < p.cap; id++)
		assert_true(p.best.best_ns[id] == first_best[id]);
	speed_prober_free(&p);

	/* New microcode (or a migration to another model): re-learned. */
	fake_proc(dir, sizeof(dir),
	    "processor\t: 0\nvendor_id\t: AuthenticAMD\n"
	    "cpu family\t: 26\nmodel\t\t: 2\nmicrocode\t: 0xb002\n");
	assert_int_equal(speed_prober_init(&p, dir, NULL, best, 10000000), 0);
	assert_int_equal(p.best_load_rc, 0);
	assert_true(p.best.best_ns[0] == 0);
	speed_prober_free(&p);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_prober_rotates_within_budget(void **state)
{
	struct speed_prober p;
	unsigned online = 0, seen = 0;
	cpu_set_t mine;

	(void)state;
	assert_int_equal(sched_getaffinity(0, sizeof(mine), &mine), 0);
	assert_int_equal(speed_prober_init(&p, NULL, NULL, NULL, 1), 0);
	/* A budget of 1 ns: one CPU a round, every CPU in turn. */
	for (int round = 0; round < 8; round++) {
		assert_true(speed_prober_run(&p) <= 1);
		assert_true(p.probed <= 1);
	}
	for (unsigned id = 0; id < p.cap; id++) {
		if (CPU_ISSET(id, &mine))
			online++;
		seen += speed_prober_cpu(&p, id) != NULL;
	}
	assert_true(seen >= (online < 8 ? online : 8));
	speed_prober_free(&p);
}

static void
test_slowed_needs_sustained_slowness_without_steal_or_own_load(void **state)
{
	struct verdict_opts v;
	struct slow_opts o;
	struct slow_state st = {0};

	(void)state;
	/* The defaults, as the engine passes them (judge_speed). */
	verdict_opts_default(&v);
	o = (struct slow_opts){.slow = v.slow,
	    .sustain = v.sustain,
	    .steal = v.steal,
	    .busy = v.busy};
	assert_true(o.slow == 0.70 && o.sustain == 3);
	/* Sustained: three slow probes in a row. */
	assert_int_equal(slow_judge(&o, &st, 0.60, 0.0, 0.1), SLOW_PENDING);
	assert_int_equal(slow_judge(&o, &st, 0.50, 0.0, 0.1), SLOW_PENDING);
	assert_int_equal(slow_judge(&o, &st, 0.65, 0.0, 0.1), SLOW_YES);
	assert_true(st.worst == 0.50);
	/* Hysteresis: just above --slow is not yet relief... */
	assert_int_equal(slow_judge(&o, &st, 0.72, 0.0, 0.1), SLOW_YES);
	/* ...5 points above is. */
	assert_int_equal(slow_judge(&o, &st, 0.76, 0.0, 0.1), SLOW_NO);
	assert_int_equal(st.run, 0);
	assert_false(st.slowed);

	/* One fast probe breaks the run; a missed one (rotation) does not. */
	assert_int_equal(slow_judge(&o, &st, 0.60, 0.0, 0.1), SLOW_PENDING);
	assert_int_equal(slow_judge(&o, &st, 0.90, 0.0, 0.1), SLOW_NO);
	assert_int_equal(slow_judge(&o, &st, 0.60, 0.0, 0.1), SLOW_PENDING);
	assert_int_equal(slow_judge(&o, &st, -1.0, 0.0, 0.1), SLOW_UNKNOWN);
	assert_int_equal(slow_judge(&o, &st, 0.60, 0.0, 0.1), SLOW_PENDING);
	assert_int_equal(slow_judge(&o, &st, 0.60, 0.0, 0.1), SLOW_YES);

	/* Heavy steal explains a slow CPU: not slowed, and the run ends. */
	assert_int_equal(slow_judge(&o, &st, 0.40, 0.25, 0.1), SLOW_STEAL);
	assert_false(st.slowed);
	assert_int_equal(slow_judge(&o, &st, 0.40, 0.0, 0.1), SLOW_PENDING);

	/* The guest's other CPUs busy: it may be slowing itself. */
	assert_int_equal(slow_judge(&o, &st, 0.40, 0.0, 0.80), SLOW_SELF);
	assert_int_equal(st.run, 0);

	/* A one-CPU guest has no other CPUs (< 0): they cannot be blamed. */
	for (int i = 0; i < 2; i++)
		assert_int_equal(
		    slow_judge(&o, &st, 0.40, 0.0, -1.0), SLOW_PENDING);
	assert_int_equal(slow_judge(&o, &st, 0.40, 0.0, -1.0), SLOW_YES);

	/* The user's threshold is the one used. */
	o.slow = 0.30;
	st = (struct slow_state){0};
	for (int i = 0; i < 5; i++)
		assert_int_equal(slow_judge(&o, &st, 0.40, 0.0, 0.1), SLOW_NO);
}

static void
test_speed_blob(void **state)
{
	struct speed_point p[4];
	char buf[256];
	int n;

	(void)state;
	n = speed_points_parse(S("cpu0 150000 140000 3100 0\n"
	                         "cpu3 300000 150000 4000000 5\n"),
	    p, 4);
	assert_int_equal(n, 2);
	assert_int_equal(p[1].cpu, 3);
	assert_true(speed_point_ratio(&p[1]) == 0.5);
	assert_int_equal(p[1].flags, SPEED_OTHERS_BUSY | SPEED_PREEMPTED);
	assert_int_equal(speed_points_format(p, 2, buf, sizeof(buf)),
	    (int)strlen("cpu0 150000 140000 3100 0\n"
	                "cpu3 300000 150000 4000000 5\n"));
	assert_string_equal(buf, "cpu0 150000 140000 3100 0\n"
	                         "cpu3 300000 150000 4000000 5\n");
	assert_int_equal(speed_points_format(p, 2, buf, 20), -ENOSPC);
	assert_int_equal(speed_points_parse(S(""), p, 4), 0);
	/* The last line may lack its newline (a blob as read). */
	assert_int_equal(speed_points_parse(S("cpu1 2 1 0 0"), p, 4), 1);
	assert_int_equal(
	    speed_points_parse(S("cpu1 2 1 0 0\n"), p, 0), -ENOSPC);
	/* Damage. */
	assert_int_equal(speed_points_parse(S("cpu1 1 2 0 0\n"), p, 4),
	    -EINVAL); /* best above unit */
	assert_int_equal(
	    speed_points_parse(S("cpu1 0 0 0 0\n"), p, 4), -EINVAL);
	assert_int_equal(
	    speed_points_parse(S("cpu1 2 1 0 8\n"), p, 4), -EINVAL);
	assert_int_equal(speed_points_parse(S("cpu1 2 1 0\n"), p, 4), -EINVAL);
	assert_int_equal(
	    speed_points_parse(S("cpu1 2 1 0 0 0\n"), p, 4), -EINVAL);
	assert_int_equal(
	    speed_points_parse(S("cpu1  2 1 0 0\n"), p, 4), -EINVAL);
	assert_int_equal(
	    speed_points_parse(S("cpu1 2 1 0 0\n\n"), p, 4), -EINVAL);
	assert_int_equal(speed_points_parse(S("cpu2 2 1 0 0\n"
	                                      "cpu1 2 1 0 0\n"),
	                     p, 4),
	    -EINVAL); /* out of order */
	assert_int_equal(
	    speed_points_parse(S("cpux 2 1 0 0\n"), p, 4), -EINVAL);
}

static void
test_prober_points_are_what_it_measured(void **state)
{
	struct speed_prober pr;
	struct speed_point pts[64];
	unsigned n;

	(void)state;
	assert_int_equal(speed_prober_init(&pr, NULL, NULL, NULL, 10000000), 0);
	assert_true(speed_prober_run(&pr) > 0);
	n = speed_prober_points(&pr, pts, 64);
	assert_int_equal(n, pr.probed);
	for (unsigned i = 0; i < n; i++) {
		const struct speed_cpu *c = speed_prober_cpu(&pr, pts[i].cpu);

		assert_non_null(c);
		assert_true(pts[i].unit_ns == c->s.unit_cpu_ns);
		assert_true(pts[i].best_ns <= pts[i].unit_ns);
		assert_true(speed_point_ratio(&pts[i]) == c->speed);
		if (i > 0)
			assert_true(pts[i].cpu > pts[i - 1].cpu);
	}
	speed_prober_free(&pr);
}

static void
test_record_carries_the_speed_blob(void **state)
{
	static const char stat[] = "cpu  1 2 3 4 5 6 7 8 0 0\n"
	                           "cpu0 1 2 3 4 5 6 7 8 0 0\n"
	                           "cpu1 0 0 0 0 0 0 0 0 0 0\n";
	static const char blob[] = "cpu1 300000 150000 4000 1\n";
	struct raw_snapshot raw = {.mono_ns = 1,
	    .wall_ns = 2,
	    .stat = stat,
	    .stat_len = sizeof(stat) - 1,
	    .speed = blob,
	    .speed_len = sizeof(blob) - 1};
	struct record_reader r;
	struct snapshot snap;
	const char *what;
	char path[512], *buf;
	long len;
	FILE *f;
	int fd;

	(void)state;
	tmp_path(path, sizeof(path), "speed.rec");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(record_write_header(fd, 100, ""), 0);
	assert_int_equal(record_write_snapshot(fd, &raw), 0);
	raw.speed = NULL; /* a sample whose round did not run */
	assert_int_equal(record_write_snapshot(fd, &raw), 0);
	close(fd);
	f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = malloc((size_t)len);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	unlink(path);

	assert_int_equal(snapshot_init(&snap, 1, true), 0);
	assert_int_equal(record_open(&r, "speed.rec", buf, (size_t)len), 0);
	assert_int_equal(record_next(&r, &raw), 1);
	assert_int_equal(snapshot_parse(&raw, &snap, &what), 0);
	assert_true(snap.have_speed);
	assert_int_equal(snap.nspeed, 1);
	assert_null(snapshot_speed(&snap, 0));
	assert_non_null(snapshot_speed(&snap, 1));
	assert_true(speed_point_ratio(snapshot_speed(&snap, 1)) == 0.5);
	/* The next sample has none: nothing left over from the last. */
	assert_int_equal(record_next(&r, &raw), 1);
	assert_null(raw.speed);
	assert_int_equal(snapshot_parse(&raw, &snap, &what), 0);
	assert_false(snap.have_speed);
	assert_null(snapshot_speed(&snap, 1));
	assert_int_equal(record_next(&r, &raw), 0);

	/* A damaged blob names itself. */
	raw.speed = "cpu1 1 2 0 0\n";
	raw.speed_len = strlen(raw.speed);
	assert_int_equal(snapshot_parse(&raw, &snap, &what), -EINVAL);
	assert_string_equal(what, "speed");
	snapshot_free(&snap);
	free(buf);
}

/* Two CPUs over 1 s intervals (100 ticks), for the engine's speed rows. */
struct speed_run {
	struct engine e;
	struct procstat_cpu cpu[2][2];
	struct speed_point pts[2][2];
	struct snapshot snap[2];
	int cur;
};

static struct speed_run sr;

static void
speed_run_start(void)
{
	struct verdict_opts o;

	memset(&sr, 0, sizeof(sr));
	verdict_opts_default(&o);
	assert_int_equal(engine_init(&sr.e, &o, 100), 0);
	for (int s = 0; s < 2; s++) {
		sr.snap[s].stat.cpu = sr.cpu[s];
		sr.snap[s].stat.cpu_cap = 2;
		sr.snap[s].stat.cpu_detail = true;
		sr.snap[s].stat.ncpu = 2;
		sr.snap[s].stat.ncols = COL_MAX;
		sr.snap[s].speed = sr.pts[s];
		sr.snap[s].speed_cap = 2;
		for (unsigned i = 0; i < 2; i++)
			sr.cpu[s][i].id = i;
	}
	sr.snap[0].mono_ns = NSEC_PER_SEC;
}

/*
 * One second: CPU i busy busy[i] ticks of 100 (steal[i] of them stolen
 * instead of idle); cpu1 probed at speed1 (best 100 us); -1: no probe at
 * all, -2: only cpu0 probed.
 */
static const struct interval *
speed_step(const unsigned busy[2], const unsigned steal[2], double speed1)
{
	struct snapshot *a = &sr.snap[sr.cur], *b = &sr.snap[!sr.cur];

	*b = *a;
	b->stat.cpu = sr.cpu[!sr.cur];
	b->speed = sr.pts[!sr.cur];
	memset(&b->stat.total, 0, sizeof(b->stat.total));
	for (unsigned i = 0; i < 2; i++) {
		b->stat.cpu[i] = a->stat.cpu[i];
		b->stat.cpu[i].t.col[COL_USER] += busy[i];
		b->stat.cpu[i].t.col[COL_STEAL] += steal[i];
		b->stat.cpu[i].t.col[COL_IDLE] += 100 - busy[i] - steal[i];
		for (int c = 0; c < COL_MAX; c++)
			b->stat.total.col[c] += b->stat.cpu[i].t.col[c];
	}
	b->mono_ns = a->mono_ns + NSEC_PER_SEC;
	/* -2: a round that probed cpu0 (at full speed) but not cpu1. */
	b->have_speed = speed1 >= 0 || speed1 < -1.5;
	b->nspeed = b->have_speed ? 1 : 0;
	if (speed1 >= 0)
		b->speed[0] = (struct speed_point){.cpu = 1,
		    .unit_ns = (uint64_t)(100000 / speed1),
		    .best_ns = 100000,
		    .lost_ns = 2000};
	else if (b->have_speed)
		b->speed[0] = (struct speed_point){
		    .cpu = 0, .unit_ns = 100000, .best_ns = 100000};
	sr.cur = !sr.cur;
	return engine_step(&sr.e, a, b);
}

static void
test_engine_gives_slowed_only_with_idle_others_and_low_steal(void **state)
{
	const unsigned busy[2] = {2, 60}, none[2] = {0, 0};
	const unsigned own_load[2] = {90, 60}, stolen[2] = {0, 30};
	const struct interval *iv;
	struct summary sum;
	char why[REASON_MAX];

	(void)state;
	/* Without the probe there is no slowed anywhere, not even a count. */
	speed_run_start();
	iv = speed_step(busy, none, -1);
	assert_false(iv->have_speed);
	assert_false(engine_verdict_shown(&sr.e, VERDICT_SLOWED));
	assert_true(engine_verdict_shown(&sr.e, VERDICT_STOLEN));
	engine_free(&sr.e);

	/* cpu1 at half its best, steal 0, cpu0 idle: slowed, sustained. */
	speed_run_start();
	iv = speed_step(busy, none, 0.5);
	assert_true(iv->have_speed);
	assert_true(engine_verdict_shown(&sr.e, VERDICT_SLOWED));
	assert_true(iv->cpu[1].have_speed);
	assert_false(iv->cpu[0].have_speed);
	assert_true(iv->cpu[1].speed == 0.5);
	assert_int_equal(iv->cpu[1].slow, SLOW_PENDING);
	assert_int_equal(iv->cpu[1].verdict, VERDICT_OK);
	iv = speed_step(busy, none, 0.5);
	assert_int_equal(iv->cpu[1].verdict, VERDICT_OK);
	iv = speed_step(busy, none, 0.4);
	assert_int_equal(iv->cpu[1].verdict, VERDICT_SLOWED);
	assert_int_equal(iv->cpu[0].verdict, VERDICT_OK);
	assert_int_equal(iv->total.verdict, VERDICT_SLOWED);
	assert_true(iv->total.speed == 0.4); /* the mean of those probed */
	engine_reason(&sr.e, iv, &iv->cpu[1], why, sizeof(why));
	assert_string_equal(why, "ran at 40% of its best speed for 3 probes "
	                         "(at worst 40%), steal 0.0% of wanted time");
	/* A round that missed cpu1 (rotation) neither clears nor adds. */
	iv = speed_step(busy, none, -2);
	assert_int_equal(iv->cpu[1].verdict, VERDICT_SLOWED);
	assert_false(iv->cpu[1].have_speed);
	iv = speed_step(busy, none, 0.5);
	assert_int_equal(iv->cpu[1].verdict, VERDICT_SLOWED);
	engine_summary(&sr.e, &sum);
	assert_int_equal(sum.verdict, VERDICT_SLOWED);
	assert_ptr_equal(sum.advice, slow_advice);
	/* Back to full speed: cleared. */
	iv = speed_step(busy, none, 1.0);
	assert_int_equal(iv->cpu[1].verdict, VERDICT_OK);
	assert_int_equal(iv->cpu[1].slow, SLOW_NO);
	engine_free(&sr.e);

	/* The guest's own other CPU busy: never slowed. */
	speed_run_start();
	for (int i = 0; i < 5; i++) {
		iv = speed_step(own_load, none, 0.4);
		assert_int_equal(iv->cpu[1].slow, SLOW_SELF);
		assert_int_equal(iv->cpu[1].verdict, VERDICT_OK);
		assert_int_equal(iv->total.verdict, VERDICT_OK);
	}
	engine_free(&sr.e);

	/* Heavy steal explains it: stolen, not slowed. */
	speed_run_start();
	for (int i = 0; i < 5; i++)
		iv = speed_step(busy, stolen, 0.4);
	assert_int_equal(iv->cpu[1].slow, SLOW_STEAL);
	assert_int_equal(iv->cpu[1].verdict, VERDICT_STOLEN);
	engine_free(&sr.e);

	/* An idle machine at full speed: ok, and speed in the rows. */
	speed_run_start();
	for (int i = 0; i < 5; i++)
		iv = speed_step(none, none, 0.98);
	assert_int_equal(iv->total.verdict, VERDICT_OK);
	assert_true(iv->cpu[1].speed > 0.979 && iv->cpu[1].speed < 0.981);
	engine_summary(&sr.e, &sum);
	assert_int_equal(sum.verdict, VERDICT_OK);
	assert_true(sum.speed > 0.97 && sum.speed < 0.99);
	engine_free(&sr.e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_walk_is_one_cycle_through_every_line),
	    cmocka_unit_test(test_ratio),
	    cmocka_unit_test(test_cpuinfo_x86),
	    cmocka_unit_test(test_cpuinfo_arm64_and_mixed),
	    cmocka_unit_test(test_cpuinfo_rejects_damage),
	    cmocka_unit_test(test_best_file_round_trip),
	    cmocka_unit_test(test_best_file_rejects_damage),
	    cmocka_unit_test(test_best_file_persists_and_relearns),
	    cmocka_unit_test(test_context_other_cpus),
	    cmocka_unit_test(test_context_frequency),
	    cmocka_unit_test(test_budget_rotation),
	    cmocka_unit_test(test_probe_runs_pinned_and_restores_affinity),
	    cmocka_unit_test(test_prober_round_keeps_bests_across_restarts),
	    cmocka_unit_test(test_prober_rotates_within_budget),
	    cmocka_unit_test(
	        test_slowed_needs_sustained_slowness_without_steal_or_own_load),
	    cmocka_unit_test(test_speed_blob),
	    cmocka_unit_test(test_prober_points_are_what_it_measured),
	    cmocka_unit_test(test_record_carries_the_speed_blob),
	    cmocka_unit_test(
	        test_engine_gives_slowed_only_with_idle_others_and_low_steal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

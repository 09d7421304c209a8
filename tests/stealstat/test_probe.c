/* SPDX-License-Identifier: ISC */
/*
 * test_probe.c: the pure parts of probe mode (schedstat lines,
 * percentiles, the idle-vs-busy verdict) and short real runs checked for
 * what a user would notice: one line per CPU, sane shares, no negative
 * steal, a canary line, a conclusion that gets the facts right. No timing
 * thresholds: the machine running the test may be as busy as it likes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "probe.h"

#define MS 1000000ULL

static void
schedstat_good(void **state)
{
	struct schedstat s;

	(void)state;
	assert_int_equal(schedstat_parse("123456 7890 42\n", 15, &s), 0);
	assert_true(s.run_ns == 123456);
	assert_true(s.wait_ns == 7890);
	assert_true(s.timeslices == 42);

	/* No final newline, zeros, and the largest value. */
	assert_int_equal(schedstat_parse("0 0 0", 5, &s), 0);
	assert_true(s.run_ns == 0 && s.wait_ns == 0 && s.timeslices == 0);
	const char *max = "18446744073709551615 1 18446744073709551615\n";
	assert_int_equal(schedstat_parse(max, strlen(max), &s), 0);
	assert_true(s.run_ns == UINT64_MAX && s.wait_ns == 1);

	/* Only len bytes count: what follows is not looked at. */
	assert_int_equal(schedstat_parse("5 6 7 garbage", 5, &s), 0);
	assert_true(s.run_ns == 5 && s.wait_ns == 6 && s.timeslices == 7);
}

static void
schedstat_garbage(void **state)
{
	static const char *const bad[] = {
	    "",
	    "\n",
	    "1 2",
	    "1 2\n",
	    "1 2 3 4\n",
	    "1  2 3\n",
	    " 1 2 3\n",
	    "1 2 3 \n",
	    "1\t2\t3\n",
	    "-1 2 3\n",
	    "+1 2 3\n",
	    "1 2 3x\n",
	    "0x10 2 3\n",
	    "1 2 3\n\n",
	    "1 2 3\r\n",
	    "a b c\n",
	    "1,2,3\n",
	};
	struct schedstat s = {11, 22, 33};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (schedstat_parse(bad[i], strlen(bad[i]), &s) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
	}
	/* A NUL inside the buffer is garbage, not an end. */
	assert_int_equal(schedstat_parse("1 2\0003\n", 6, &s), -EINVAL);
	/* Overflow is a range error. */
	const char *big = "18446744073709551616 1 1\n";
	assert_int_equal(schedstat_parse(big, strlen(big), &s), -ERANGE);
	const char *huge = "1 1 99999999999999999999999\n";
	assert_int_equal(schedstat_parse(huge, strlen(huge), &s), -ERANGE);
	/* Failure leaves the output alone. */
	assert_true(s.run_ns == 11 && s.wait_ns == 22 && s.timeslices == 33);
}

static void
percentiles(void **state)
{
	uint64_t v[1000] = {0};

	(void)state;
	assert_true(percentile_u64(v, 0, 50) == 0);

	v[0] = 7;
	assert_true(percentile_u64(v, 1, 0) == 7);
	assert_true(percentile_u64(v, 1, 50) == 7);
	assert_true(percentile_u64(v, 1, 100) == 7);

	for (unsigned i = 0; i < 100; i++)
		v[i] = i + 1;
	assert_true(percentile_u64(v, 100, 0) == 1);
	assert_true(percentile_u64(v, 100, 1) == 1);
	assert_true(percentile_u64(v, 100, 50) == 50);
	assert_true(percentile_u64(v, 100, 99) == 99);
	assert_true(percentile_u64(v, 100, 100) == 100);
	assert_true(percentile_u64(v, 100, 250) == 100);

	/* Nearest rank: of 3 samples the median is the middle one. */
	assert_true(percentile_u64(v, 3, 50) == 2);
	/* p99 of 10 samples is the largest: one in ten is above 90%. */
	assert_true(percentile_u64(v, 10, 99) == 10);

	for (unsigned i = 0; i < 1000; i++)
		v[i] = i + 1;
	assert_true(percentile_u64(v, 1000, 99) == 990);
	assert_true(percentile_u64(v, 1000, 50) == 500);
}

static void
lateness_unsorted(void **state)
{
	uint64_t v[] = {900, 5, 70, 5, 1000000, 60, 40, 50, 30, 20};
	struct lateness l;

	(void)state;
	lateness_summarize(v, 10, &l);
	assert_true(l.n == 10);
	assert_true(l.p50_ns == 40);
	assert_true(l.p99_ns == 1000000);
	assert_true(l.max_ns == 1000000);
	assert_true(v[0] == 5 && v[9] == 1000000);

	lateness_summarize(v, 0, &l);
	assert_true(l.n == 0 && l.p50_ns == 0 && l.max_ns == 0);
}

static void
verdicts(void **state)
{
	/* 2 CPUs, 1 s in each kind of phase, a 10 ms tick of noise. */
	const uint64_t cpu = 2000 * MS, noise = 10 * MS;
	struct phase_steal idle = {0, 10 * MS, cpu};
	struct phase_steal busy = {0, 1900 * MS, cpu};

	(void)state;
	/* Nothing anywhere: say so, do not guess. */
	assert_int_equal(
	    phases_verdict(&idle, &busy, noise), PHASES_INCONCLUSIVE);

	/* Steal only while busy: the host intercepts HLT. */
	busy.steal_ns = 100 * MS;
	assert_int_equal(
	    phases_verdict(&idle, &busy, noise), PHASES_NO_IDLE_STEAL);

	/* One tick in the idle phases is rounding, not a finding. */
	idle.steal_ns = 10 * MS;
	assert_int_equal(
	    phases_verdict(&idle, &busy, noise), PHASES_NO_IDLE_STEAL);

	/* Steal explained by the idle phases' own work is not idle steal. */
	idle.nonidle_ns = 900 * MS;
	idle.steal_ns = 45 * MS;
	assert_int_equal(
	    phases_verdict(&idle, &busy, noise), PHASES_NO_IDLE_STEAL);

	/* Idle phases that were mostly busy say nothing about idle vCPUs. */
	idle.nonidle_ns = 1500 * MS;
	idle.steal_ns = 0;
	assert_int_equal(
	    phases_verdict(&idle, &busy, noise), PHASES_IDLE_NOT_IDLE);

	/* Steal while nothing ran: idle vCPUs accrue it. */
	idle.nonidle_ns = 10 * MS;
	idle.steal_ns = 80 * MS;
	assert_int_equal(
	    phases_verdict(&idle, &busy, noise), PHASES_IDLE_STEAL);
	busy.steal_ns = 0;
	assert_int_equal(
	    phases_verdict(&idle, &busy, noise), PHASES_IDLE_STEAL);

	/* Below 0.1% of CPU time is noise even above the tick. */
	idle.steal_ns = 0;
	busy.steal_ns = 1 * MS;
	assert_int_equal(phases_verdict(&idle, &busy, 0), PHASES_INCONCLUSIVE);
}

static unsigned
online_cpus(void)
{
	cpu_set_t set;

	assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
	return (unsigned)CPU_COUNT(&set);
}

/* Runs the probe into a tmpfile() and returns what it printed. */
static char *
run_probe(const struct probe_opts *opts, int *rc)
{
	FILE *f = tmpfile();
	char *text;
	long size;

	assert_non_null(f);
	*rc = probe_run(opts, f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size >= 0);
	rewind(f);
	text = calloc(1, (size_t)size + 1);
	assert_non_null(text);
	assert_true(fread(text, 1, (size_t)size, f) == (size_t)size);
	fclose(f);
	return text;
}

/* Checks the "cpuN: share ..." lines; returns how many there were. */
static unsigned
check_cpu_lines(char *text)
{
	unsigned lines = 0, cpu;
	double share, steal, steal_pct;
	char *line, *save = NULL;

	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "cpu", 3) != 0)
			continue;
		assert_int_equal(sscanf(line,
		                     "cpu%u: share %lf%%, steal while running "
		                     "%lf ms (%lf%%)",
		                     &cpu, &share, &steal, &steal_pct),
		    4);
		if (share < 0 || share > 102)
			fail_msg("cpu%u share %.1f%%", cpu, share);
		if (steal < 0 || steal_pct < 0)
			fail_msg("cpu%u negative steal: %s", cpu, line);
		assert_non_null(strstr(line, "guest run delay"));
		assert_non_null(strstr(line, "/proc/stat steal"));
		lines++;
	}
	return lines;
}

/*
 * The last line is "in short: ..." and agrees with the rows: it says
 * "under 0.1% stolen" only when no row shows 0.1% or more.
 */
static void
assert_closing_agrees(const char *text)
{
	const char *last = strstr(text, "\nin short: "), *p = text;
	double most = 0, a, b;
	const char *nl;

	assert_non_null(last);
	nl = strchr(last + 1, '\n');
	assert_true(nl != NULL && nl[1] == '\0');
	while ((p = strstr(p, "steal while running ")) != NULL) {
		if (sscanf(p, "steal while running %*f ms (%lf%%)", &a) == 1 &&
		    a > most)
			most = a;
		p++;
	}
	for (p = text; (p = strstr(p, "/proc/stat steal ")) != NULL; p++)
		if (sscanf(p, "/proc/stat steal %*f ms (%lf%%)", &b) == 1 &&
		    b > most)
			most = b;
	/* The rows round to 0.01%: judge clear of the 0.1% line only. */
	if (most >= 0.11)
		assert_null(strstr(last, "gave every vCPU"));
	else if (most < 0.09)
		assert_non_null(strstr(last, "gave every vCPU"));
}

static void
probe_table(void **state)
{
	struct probe_opts opts = {.duration_ns = 300 * MS};
	char *text;
	int rc;

	(void)state;
	probe_stop = 0;
	text = run_probe(&opts, &rc);
	assert_int_equal(rc, 0);
	assert_true(strncmp(text, "probe: ", 7) == 0);
	assert_non_null(strstr(text, "\ncanary: "));
	assert_null(strstr(text, "interrupted"));
	/* Before check_cpu_lines, which cuts the text into lines. */
	assert_closing_agrees(text);
	assert_int_equal(check_cpu_lines(text), online_cpus());
	free(text);
}

/* The number after "key": in a JSON line, which must be there. */
static double
json_number(const char *line, const char *key)
{
	char pat[64];
	const char *at;
	char *end;
	double v;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	if ((at = strstr(line, pat)) == NULL)
		fail_msg("no %s in %s", key, line);
	v = strtod(at + strlen(pat), &end);
	if (end == at + strlen(pat))
		fail_msg("%s is not a number in %s", key, line);
	return v;
}

static void
probe_json(void **state)
{
	struct probe_opts opts = {.duration_ns = 300 * MS, .json = true};
	unsigned cpus = 0, canaries = 0, summaries = 0;
	char *text, *line, *save = NULL;
	int rc;

	(void)state;
	probe_stop = 0;
	text = run_probe(&opts, &rc);
	assert_int_equal(rc, 0);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		assert_true(line[0] == '{' && line[strlen(line) - 1] == '}');
		if (strstr(line, "\"type\":\"cpu\"") != NULL) {
			double share = json_number(line, "share_pct");

			assert_true(share >= 0 && share <= 102);
			assert_true(json_number(line, "steal_running_ns") >= 0);
			assert_true(json_number(line, "wall_ns") > 0);
			assert_non_null(strstr(line, "\"comparison\":\""));
			cpus++;
		} else if (strstr(line, "\"type\":\"canary\"") != NULL) {
			assert_true(json_number(line, "wakes") > 0);
			assert_true(json_number(line, "max_ns") >=
			            json_number(line, "p99_ns"));
			assert_true(json_number(line, "p99_ns") >=
			            json_number(line, "p50_ns"));
			canaries++;
		} else if (strstr(line, "\"type\":\"summary\"") != NULL) {
			assert_true(
			    json_number(line, "max_steal_running_pct") >= 0);
			assert_non_null(strstr(line, "\"text\":\""));
			summaries++;
		} else {
			fail_msg("unexpected line %s", line);
		}
	}
	assert_int_equal(cpus, online_cpus());
	assert_int_equal(canaries, 1);
	assert_int_equal(summaries, 1);
	free(text);
}

static void
probe_idle_vs_busy(void **state)
{
	static const char *const conclusions[] = {
	    "conclusion: idle vCPUs accrue no steal here (the host "
	    "intercepts HLT: the KVM/Xen default)",
	    "conclusion: idle vCPUs do accrue steal here: the host does "
	    "not intercept HLT",
	    "conclusion: too little steal while busy (within the tick "
	    "noise) to tell what idle vCPUs do: inconclusive",
	    "conclusion: steal seen while busy, but the idle phases were "
	    "mostly busy with other work",
	};
	struct probe_opts opts = {
	    .duration_ns = 400 * MS,
	    .idle_vs_busy = true,
	    .phases = 2,
	};
	unsigned found = 0;
	char *text, *at;
	int rc;

	(void)state;
	probe_stop = 0;
	text = run_probe(&opts, &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(text, "\ncanary: "));
	assert_non_null(strstr(text, "\nidle vs busy: 2 pairs"));
	assert_null(strstr(text, "borrowed"));
	for (size_t i = 0; i < 4; i++)
		if ((at = strstr(text, conclusions[i])) != NULL)
			found++;
	assert_int_equal(found, 1);
	assert_int_equal(check_cpu_lines(text), online_cpus());
	free(text);
}

/* Stopped before it starts: returns at once, still says what it saw. */
static void
probe_stopped(void **state)
{
	struct probe_opts opts = {.duration_ns = 60 * 1000 * MS};
	char *text;
	int rc;

	(void)state;
	probe_stop = 1;
	text = run_probe(&opts, &rc);
	probe_stop = 0;
	assert_int_equal(rc, 0);
	assert_non_null(strstr(text, "(interrupted)"));
	assert_int_equal(check_cpu_lines(text), online_cpus());
	free(text);
}

/* A /proc that is not one is an error, and nothing half-made is printed. */
static void
probe_bad_proc(void **state)
{
	const char *base = getenv("TK_TEST_TMPDIR");
	char dir[PATH_MAX], path[PATH_MAX + 16];
	struct probe_opts opts = {.duration_ns = 300 * MS};
	char *text;
	int fd, rc;

	(void)state;
	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(dir, sizeof(dir), "%s/probe.XXXXXX", base);
	assert_non_null(mkdtemp(dir));
	opts.proc_root = dir;

	text = run_probe(&opts, &rc);
	assert_int_equal(rc, -ENOENT);
	assert_string_equal(text, "");
	free(text);

	snprintf(path, sizeof(path), "%s/stat", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_true(write(fd, "not /proc/stat\n", 15) == 15);
	close(fd);
	text = run_probe(&opts, &rc);
	assert_int_equal(rc, -EINVAL);
	assert_string_equal(text, "");
	free(text);

	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(schedstat_good),
	    cmocka_unit_test(schedstat_garbage),
	    cmocka_unit_test(percentiles),
	    cmocka_unit_test(lateness_unsorted),
	    cmocka_unit_test(verdicts),
	    cmocka_unit_test(probe_table),
	    cmocka_unit_test(probe_json),
	    cmocka_unit_test(probe_idle_vs_busy),
	    cmocka_unit_test(probe_stopped),
	    cmocka_unit_test(probe_bad_proc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

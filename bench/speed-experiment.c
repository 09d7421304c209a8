/* SPDX-License-Identifier: ISC */
/*
 * The speed probe's controlled experiment: make a slowdown happen inside
 * this guest and see whether the probe sees it, in paired runs (each
 * condition next to an idle run, in alternating order, so drift in the
 * rest of the machine cancels out).
 *
 *   speed-experiment [--pairs N] [--probes K] [--cpu C] [--table]
 *   speed-experiment --cost ROUNDS
 *
 * Conditions, each against "idle" (nothing added):
 *   mem-other     a thread on another CPU doing random read-modify-writes
 *                 over 64 MiB (memory bandwidth and latency)
 *   cache-other   the same over 2 MiB (shared caches, where there are any)
 *   mem-sibling   the mem hog on an SMT sibling of the probed CPU, when
 *                 the guest has one (thread_siblings_list)
 *   spin-same     a CPU-bound thread on the probed CPU itself
 *
 * Without --table it is a test (exit 0 pass, 1 fail, 77 skip) asserting
 * directions only, never a timing threshold:
 *   - spin-same barely lowers speed: the probe times its own CPU time,
 *     and runs its unit again when the kernel switched it out halfway,
 *     so a hog that only takes turns on the CPU costs the unit far less
 *     than the wall clock: in at least 80% of the pairs the unit's time
 *     grows by a smaller factor than unit plus lost time does. (It does
 *     lower speed a little: measured 0.87 to 0.78 in the release build.)
 *   - spin-same shows as run-queue pressure: the probe's lost time (wall
 *     minus CPU from asking for the CPU to the end of the unit) is higher
 *     with the hog in at least 80% of the pairs;
 *   - mem-sibling, where the guest has an SMT sibling: speed is lower with
 *     the hog in at least 80% of the pairs.
 * The table prints every condition with the medians and the counts,
 * including those (mem-other, cache-other) whose direction depends on the
 * host and is therefore reported, not asserted.
 *
 * --cost runs ROUNDS rounds of the live prober (every online CPU probed,
 * /proc/stat read around them), 100 ms apart so each starts cold as it
 * would every 10 s, and prints the CPU time of a round: what
 * bench/stealstat-speed sets against the 0.1% budget.
 *
 * Every hog stops by itself after HOG_MAX_NS even if the probe side
 * never tells it to.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "procstat.h"
#include "speed.h"
#include "timeutil.h"

#define PAIRS_DEFAULT 20
#define PROBES_DEFAULT 15
#define PAIRS_MAX 100
#define PROBES_MAX 200
#define HOG_MAX_NS (20 * NSEC_PER_SEC)
/* Between probes, so that each starts as the live one does: cold. */
#define PROBE_GAP_NS (3 * NSEC_PER_MSEC)

enum hog_kind { HOG_NONE, HOG_MEM, HOG_CACHE, HOG_SPIN };

struct hog {
	pthread_t thread;
	enum hog_kind kind;
	unsigned cpu;
	atomic_bool stop;
	atomic_bool running;
	uint64_t *buf;
	size_t words;
	uint64_t work; /* keeps the loop's result alive */
};

static void *
hog_main(void *arg)
{
	struct hog *h = arg;
	uint64_t end = time_mono_ns() + HOG_MAX_NS;
	uint64_t s = 0x2545f4914f6cdd1dULL, acc = 1;
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(h->cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one) == -1)
		return NULL;
	atomic_store(&h->running, true);
	/* Bounded twice: told to stop, or HOG_MAX_NS, whichever first. */
	while (!atomic_load_explicit(&h->stop, memory_order_relaxed) &&
	       time_mono_ns() < end) {
		for (int k = 0; k < 4096; k++) {
			if (h->kind == HOG_SPIN) {
				acc = acc * 6364136223846793005ULL + 1;
				continue;
			}
			s ^= s << 13;
			s ^= s >> 7;
			s ^= s << 17;
			h->buf[s % h->words] += acc++;
		}
	}
	h->work = acc;
	return NULL;
}

static int
hog_start(struct hog *h, enum hog_kind kind, unsigned cpu)
{
	size_t bytes = kind == HOG_MEM ? 64u << 20 : 2u << 20;

	memset(h, 0, sizeof(*h));
	h->kind = kind;
	h->cpu = cpu;
	if (kind == HOG_NONE)
		return 0;
	if (kind != HOG_SPIN) {
		h->words = bytes / sizeof(uint64_t);
		if ((h->buf = calloc(h->words, sizeof(uint64_t))) == NULL)
			return -ENOMEM;
		memset(h->buf, 1, bytes); /* fault it in before timing */
	}
	if (pthread_create(&h->thread, NULL, hog_main, h) != 0) {
		free(h->buf);
		return -EAGAIN;
	}
	/* Wait (bounded) until it runs on its CPU. */
	for (int i = 0; i < 2000 && !atomic_load(&h->running); i++)
		usleep(1000);
	usleep(20000); /* let it fill the caches it thrashes */
	return 0;
}

static void
hog_stop(struct hog *h)
{
	if (h->kind == HOG_NONE)
		return;
	atomic_store(&h->stop, true);
	pthread_join(h->thread, NULL);
	free(h->buf);
	h->buf = NULL;
}

/* Medians of one run of K probes. */
struct run {
	uint64_t unit_ns; /* median unit CPU time */
	uint64_t lost_ns; /* median lost time */
	uint64_t run_delay_ns;
	uint64_t steal_ticks; /* /proc/stat steal of the CPU over the run */
	uint64_t min_unit_ns;
};

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t
median(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return n > 0 ? v[n / 2] : 0;
}

static uint64_t
cpu_steal(unsigned cpu)
{
	static char buf[64 * 1024];
	static struct procstat_cpu cpus[SPEED_BEST_CPUS];
	struct procstat ps = {
	    .cpu = cpus, .cpu_cap = SPEED_BEST_CPUS, .cpu_detail = true};
	ssize_t n;
	int fd = open("/proc/stat", O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		return 0;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0 || procstat_parse(buf, (size_t)n, &ps) < 0)
		return 0;
	for (unsigned i = 0; i < ps.ncpu; i++)
		if (cpus[i].id == cpu)
			return cpus[i].t.col[COL_STEAL];
	return 0;
}

static int
measure(const struct speed_work *w, unsigned cpu, int sfd, unsigned probes,
    enum hog_kind kind, unsigned hog_cpu, struct run *out)
{
	uint64_t unit[PROBES_MAX], lost[PROBES_MAX], delay[PROBES_MAX];
	uint64_t steal0;
	struct speed_sample s;
	struct hog h;
	int rc;

	if ((rc = hog_start(&h, kind, hog_cpu)) < 0)
		return rc;
	steal0 = cpu_steal(cpu);
	out->min_unit_ns = UINT64_MAX;
	for (unsigned i = 0; i < probes; i++) {
		struct timespec gap = {0, (long)PROBE_GAP_NS};

		nanosleep(&gap, NULL);
		if ((rc = speed_probe_cpu(w, cpu, sfd, &s)) < 0) {
			hog_stop(&h);
			return rc;
		}
		unit[i] = s.unit_cpu_ns;
		lost[i] = s.lost_ns;
		delay[i] = s.run_delay_ns;
		if (s.unit_cpu_ns < out->min_unit_ns)
			out->min_unit_ns = s.unit_cpu_ns;
	}
	out->steal_ticks = cpu_steal(cpu) - steal0;
	hog_stop(&h);
	out->unit_ns = median(unit, probes);
	out->lost_ns = median(lost, probes);
	out->run_delay_ns = median(delay, probes);
	return 0;
}

struct condition {
	const char *name;
	enum hog_kind kind;
	bool same_cpu, sibling;
	/* Filled by the experiment. */
	bool ran;
	struct run idle[PAIRS_MAX], hog[PAIRS_MAX];
	unsigned slower, more_lost; /* pairs where the hog run was */
};

/* The SMT siblings of cpu other than itself, from sysfs; -1 if none. */
static int
smt_sibling(unsigned cpu)
{
	char path[128], buf[256];
	int fd, sib = -1;
	ssize_t n;

	snprintf(path, sizeof(path),
	    "/sys/devices/system/cpu/cpu%u/topology/thread_siblings_list", cpu);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* "0,4" or "0-1": the first number that is not cpu. */
	for (char *p = buf; *p != '\0';) {
		char *end;
		long v = strtol(p, &end, 10);

		if (end == p) {
			p++;
			continue;
		}
		if (v >= 0 && (unsigned long)v != cpu) {
			sib = (int)v;
			break;
		}
		p = end;
	}
	return sib;
}

static int
cost_rounds(unsigned rounds)
{
	uint64_t t[PROBES_MAX];
	struct speed_prober p;
	unsigned probed = 0;
	int rc;

	if ((rc = speed_prober_init(&p, NULL, NULL, NULL, UINT64_MAX)) < 0) {
		fprintf(
		    stderr, "speed-experiment: prober: %s\n", strerror(-rc));
		return 1;
	}
	for (unsigned i = 0; i < rounds; i++) {
		struct timespec gap = {0, 100 * 1000 * 1000};
		uint64_t c0;

		nanosleep(&gap, NULL);
		c0 = time_thread_cpu_ns();
		if ((rc = speed_prober_run(&p)) < 0) {
			fprintf(stderr, "speed-experiment: round: %s\n",
			    strerror(-rc));
			speed_prober_free(&p);
			return 1;
		}
		t[i] = time_thread_cpu_ns() - c0;
		probed = (unsigned)rc;
	}
	qsort(t, rounds, sizeof(t[0]), cmp_u64);
	printf("rounds %u cpus %u median_ns %llu p90_ns %llu max_ns %llu\n",
	    rounds, probed, (unsigned long long)t[rounds / 2],
	    (unsigned long long)t[rounds * 9 / 10],
	    (unsigned long long)t[rounds - 1]);
	speed_prober_free(&p);
	return 0;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: speed-experiment [--pairs N] [--probes K] "
	           "[--cpu C] [--table]\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"pairs", required_argument, NULL, 'n'},
	    {"probes", required_argument, NULL, 'k'},
	    {"cpu", required_argument, NULL, 'c'},
	    {"table", no_argument, NULL, 't'},
	    {"cost", required_argument, NULL, 'C'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static struct condition cond[] = {
	    {.name = "mem-other", .kind = HOG_MEM},
	    {.name = "cache-other", .kind = HOG_CACHE},
	    {.name = "mem-sibling", .kind = HOG_MEM, .sibling = true},
	    {.name = "spin-same", .kind = HOG_SPIN, .same_cpu = true},
	};
	const size_t ncond = sizeof(cond) / sizeof(cond[0]);
	unsigned pairs = PAIRS_DEFAULT, probes = PROBES_DEFAULT, cpu = 0;
	unsigned cost = 0;
	bool table = false, fail = false;
	int other = -1, sibling, sfd, c;
	uint64_t best = UINT64_MAX;
	struct speed_work w;
	cpu_set_t mine;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			pairs = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'k':
			probes = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'c':
			cpu = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 't':
			table = true;
			break;
		case 'C':
			cost = (unsigned)strtoul(optarg, NULL, 10);
			if (cost < 1 || cost > PROBES_MAX) {
				usage(stderr);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (cost > 0)
		return cost_rounds(cost);
	if (pairs < 1 || pairs > PAIRS_MAX || probes < 1 ||
	    probes > PROBES_MAX) {
		usage(stderr);
		return 2;
	}
	if (sched_getaffinity(0, sizeof(mine), &mine) == -1 ||
	    !CPU_ISSET(cpu, &mine)) {
		printf("skip: cannot run on CPU %u\n", cpu);
		return 77;
	}
	for (int i = 0; i < CPU_SETSIZE && other < 0; i++)
		if (CPU_ISSET(i, &mine) && (unsigned)i != cpu)
			other = i;
	if (other < 0) {
		printf("skip: needs two CPUs, has one\n");
		return 77;
	}
	sibling = smt_sibling(cpu);
	if (sibling >= 0 && !CPU_ISSET(sibling, &mine))
		sibling = -1;
	/* The other CPU for the *-other hogs: not a sibling, if we can. */
	if (sibling >= 0 && other == sibling)
		for (int i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &mine) && (unsigned)i != cpu &&
			    i != sibling) {
				other = i;
				break;
			}
	if (speed_work_init(&w) < 0) {
		fprintf(stderr, "speed-experiment: out of memory\n");
		return 1;
	}
	sfd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
	printf("probed CPU %u; other CPU %d; SMT sibling of CPU %u: ", cpu,
	    other, cpu);
	if (sibling >= 0)
		printf("CPU %d\n", sibling);
	else
		printf("none (thread_siblings_list)\n");
	for (size_t ci = 0; ci < ncond; ci++) {
		struct condition *k = &cond[ci];
		unsigned hog_cpu = k->same_cpu  ? cpu
		                   : k->sibling ? (unsigned)sibling
		                                : (unsigned)other;

		if (k->sibling && sibling < 0)
			continue;
		k->ran = true;
		for (unsigned p = 0; p < pairs; p++) {
			/* Alternate which goes first, so drift cancels. */
			bool hog_first = p % 2 == 1;
			int rc = 0;

			if (hog_first)
				rc = measure(&w, cpu, sfd, probes, k->kind,
				    hog_cpu, &k->hog[p]);
			if (rc == 0)
				rc = measure(&w, cpu, sfd, probes, HOG_NONE, 0,
				    &k->idle[p]);
			if (rc == 0 && !hog_first)
				rc = measure(&w, cpu, sfd, probes, k->kind,
				    hog_cpu, &k->hog[p]);
			if (rc < 0) {
				fprintf(stderr, "speed-experiment: probe: %s\n",
				    strerror(-rc));
				return 1;
			}
			if (k->idle[p].min_unit_ns < best)
				best = k->idle[p].min_unit_ns;
			if (k->hog[p].min_unit_ns < best)
				best = k->hog[p].min_unit_ns;
			k->slower += k->hog[p].unit_ns > k->idle[p].unit_ns;
			k->more_lost += k->hog[p].lost_ns > k->idle[p].lost_ns;
		}
	}
	printf("%u pairs of %u probes each; speed = best unit time of the "
	       "whole experiment (%.1f us) / a run's median\n",
	    pairs, probes, (double)best / 1000.0);
	printf("%-12s %9s %9s %9s %11s %11s %9s %9s\n", "condition", "spd idle",
	    "spd hog", "slower", "lost idle", "lost hog", "more lost", "steal");
	for (size_t ci = 0; ci < ncond; ci++) {
		struct condition *k = &cond[ci];
		uint64_t ui[PAIRS_MAX], uh[PAIRS_MAX], li[PAIRS_MAX],
		    lh[PAIRS_MAX];
		uint64_t steal = 0;

		if (!k->ran) {
			printf(
			    "%-12s (no SMT sibling in this guest)\n", k->name);
			continue;
		}
		for (unsigned p = 0; p < pairs; p++) {
			ui[p] = k->idle[p].unit_ns;
			uh[p] = k->hog[p].unit_ns;
			li[p] = k->idle[p].lost_ns;
			lh[p] = k->hog[p].lost_ns;
			steal += k->hog[p].steal_ticks + k->idle[p].steal_ticks;
		}
		printf("%-12s %9.3f %9.3f %6u/%-2u %9.1fus %9.1fus %6u/%-2u "
		       "%6llu t\n",
		    k->name, speed_ratio(best, median(ui, pairs)),
		    speed_ratio(best, median(uh, pairs)), k->slower, pairs,
		    (double)median(li, pairs) / 1000.0,
		    (double)median(lh, pairs) / 1000.0, k->more_lost, pairs,
		    (unsigned long long)steal);
	}
	if (!table) {
		struct condition *spin = &cond[3], *sib = &cond[2];
		unsigned need = (pairs * 8 + 9) / 10;

		/* CPU time, not wall time: the hog costs the unit far less
		   than it costs the probe's wall clock. */
		unsigned cpu_less = 0;

		for (unsigned p = 0; p < pairs; p++) {
			double by_cpu = (double)spin->hog[p].unit_ns /
			                (double)spin->idle[p].unit_ns;
			double wall = (double)(spin->hog[p].unit_ns +
			                       spin->hog[p].lost_ns) /
			              (double)(spin->idle[p].unit_ns +
			                       spin->idle[p].lost_ns);

			cpu_less += by_cpu < wall;
		}
		if (cpu_less < need) {
			printf("FAIL: spin-same slowed the unit's CPU time as "
			       "much as the wall clock in %u of %u pairs: "
			       "the probe is not timing its own CPU time\n",
			    pairs - cpu_less, pairs);
			fail = true;
		}
		if (spin->more_lost < need) {
			printf("FAIL: spin-same raised the probe's lost time "
			       "in only %u of %u pairs (want %u)\n",
			    spin->more_lost, pairs, need);
			fail = true;
		}
		if (sib->ran && sib->slower < need) {
			printf("FAIL: mem-sibling lowered speed in only %u of "
			       "%u pairs (want %u)\n",
			    sib->slower, pairs, need);
			fail = true;
		}
		printf("%s\n", fail ? "speed-experiment: FAIL"
		                    : "speed-experiment: directions hold");
	}
	if (sfd >= 0)
		close(sfd);
	speed_work_free(&w);
	return fail ? 1 : 0;
}

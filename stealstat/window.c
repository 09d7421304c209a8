/* SPDX-License-Identifier: ISC */
/*
 * `stealstat report`: a window of the history, judged by the engine live
 * mode runs. Two engines see the same snapshot pairs: one for the whole
 * window (its summary is the window's verdict, exactly as a live run's
 * summary), one whose totals restart at each period (a row's verdict);
 * both keep the recent intervals that "sustained" needs across rows.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cmdopts.h"
#include "history.h"
#include "json.h"
#include "log.h"
#include "parse.h"
#include "readfile.h"
#include "report.h"
#include "stealstat.h"
#include "timeutil.h"
#include "window.h"

struct window_opts {
	const char *dir;
	const char *since, *until;
	bool per_cpu, json, wide;
	struct cpu_list cpus; /* with per_cpu: the CPUs that get rows */
	const char *svg;
	struct verdict_opts verdict;
};

static const char window_usage[] =
    "usage: stealstat report [--since 24h|TIME] [--until TIME] [-P [CPUS]] "
    "[--json] [--svg FILE]\n"
    "                        [--history DIR | --from DIR] [--wide]\n"
    "Judges a window of the history stealstat monitor keeps: a row per "
    "period,\n"
    "the verdict and advice, and the worst stretch of steal.\n"
    "      --since 24h|TIME   start: a duration back from --until, or a "
    "time\n"
    "                         (2026-11-26 02:00, 2026-11-26T02:00:00Z, "
    "02:00)\n"
    "      --until TIME       end (default now)\n"
    "      --history DIR      the history (default /var/lib/stealstat)\n"
    "      --from DIR         a history copied from another machine\n"
    "  -P, --per-cpu[=CPUS]   rows per CPU as well; -P ALL, or only "
    "CPUS: -P 0,2-3\n"
    "  -j, --json             JSON lines: rows, then the summary\n"
    "      --svg FILE         draw the window into FILE (SVG)\n"
    "      --wide             rows with their reasons, however long\n"
    "      --busy PCT --steal PCT --sustain N ...  verdict thresholds\n"
    "  -h, --help, -V, --version\n";

enum {
	WOPT_SINCE = 256,
	WOPT_UNTIL,
	WOPT_HISTORY,
	WOPT_SVG,
	WOPT_WIDE,
};

static void
window_args(int argc, char **argv, struct window_opts *o)
{
	static const struct option longopts[] = {
	    {"since", required_argument, NULL, WOPT_SINCE},
	    {"until", required_argument, NULL, WOPT_UNTIL},
	    {"history", required_argument, NULL, WOPT_HISTORY},
	    {"from", required_argument, NULL, WOPT_HISTORY},
	    {"svg", required_argument, NULL, WOPT_SVG},
	    {"wide", no_argument, NULL, WOPT_WIDE},
	    {"per-cpu", optional_argument, NULL, 'P'},
	    {"json", no_argument, NULL, 'j'},
	    CLI_HELP_VERSION,
	    CMDOPTS_VERDICT_LONG,
	    {NULL, 0, NULL, 0},
	};
	struct cli cli;
	char why[160];
	int c;

	*o = (struct window_opts){.dir = "/var/lib/stealstat", .since = "24h"};
	o->cpus.all = true;
	verdict_opts_default(&o->verdict);
	cli_start(&cli, "P::jhV", longopts);
	while ((c = cli_next(&cli, argc, argv)) != -1) {
		int rc =
		    cmdopts_verdict(c, optarg, &o->verdict, why, sizeof(why));

		if (rc < 0)
			cmdopts_usage_error("report", "%s", why);
		if (rc > 0)
			continue;
		switch (c) {
		case 'h':
			fputs(window_usage, stdout);
			exit(0);
		case 'V':
			printf("stealstat %s\n", TK_VERSION);
			exit(0);
		case 'P':
			o->per_cpu = true;
			/* mpstat's -P ALL, -P 0,2: the list is the next word.
			 */
			if (optarg == NULL && optind < argc &&
			    cpu_list_looks_like(argv[optind]))
				optarg = argv[optind++];
			if (optarg != NULL &&
			    cpu_list_parse(optarg, &o->cpus) < 0)
				cmdopts_usage_error("report",
				    "-P '%s': not ALL or a list of CPUs "
				    "(0,2-3)",
				    optarg);
			break;
		case 'j':
			o->json = true;
			break;
		case WOPT_SINCE:
			o->since = optarg;
			break;
		case WOPT_UNTIL:
			o->until = optarg;
			break;
		case WOPT_HISTORY:
			o->dir = optarg;
			break;
		case WOPT_SVG:
			o->svg = optarg;
			break;
		case WOPT_WIDE:
			o->wide = true;
			break;
		default:
			cmdopts_usage_error("report", "%s", cli.why);
		}
	}
	if (cli_too_many(&cli, argc, argv, 0))
		cmdopts_usage_error("report", "%s", cli.why);
}

/*
 * A time on the command line: "now", a duration back from base ("24h",
 * "90m", "7d"), or a date and time, local unless it ends in Z.
 */
static int
parse_when(const char *s, uint64_t base_ns, uint64_t *out)
{
	static const char *const formats[] = {"%Y-%m-%dT%H:%M:%S",
	    "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d",
	    "%H:%M:%S", "%H:%M"};
	size_t n = strlen(s);
	uint64_t d;

	if (strcmp(s, "now") == 0) {
		*out = base_ns;
		return 0;
	}
	if (n > 1 && s[n - 1] >= 'a' && s[n - 1] <= 'z' &&
	    parse_duration_ns(s, &d) == 0) {
		*out = d < base_ns ? base_ns - d : 0;
		return 0;
	}
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		struct tm tm = {0};
		const char *end;
		time_t t;
		bool utc = false;

		if (formats[i][1] == 'H') {
			/* A time of day: today's (local). */
			time_t now = (time_t)(base_ns / NSEC_PER_SEC);

			localtime_r(&now, &tm);
			tm.tm_sec = 0;
		}
		end = strptime(s, formats[i], &tm);
		if (end == NULL)
			continue;
		if (*end == 'Z' && end[1] == '\0')
			utc = true;
		else if (*end != '\0')
			continue;
		tm.tm_isdst = -1;
		t = utc ? timegm(&tm) : mktime(&tm);
		if (t < 0)
			return -EINVAL;
		*out = (uint64_t)t * NSEC_PER_SEC;
		return 0;
	}
	return -EINVAL;
}

uint64_t
window_period_ns(uint64_t span_ns)
{
	static const unsigned ladder[] = {
	    10, 30, 60, 300, 600, 1800, 3600, 7200, 21600, 43200, 86400};
	unsigned i = 0;

	while (i + 1 < sizeof(ladder) / sizeof(ladder[0]) &&
	       span_ns / (ladder[i] * NSEC_PER_SEC) > 150)
		i++;
	return ladder[i] * NSEC_PER_SEC;
}

/* --- accumulating rows --------------------------------------------------- */

struct cpu_acc {
	unsigned id;
	double user, system, idle, iowait, steal, busy; /* ticks */
	unsigned intervals, by_verdict[VERDICT_MAX];
	double speed_sum, speed_min; /* of the probes in the period */
	unsigned speed_n;
};

struct window_run {
	const struct window_opts *o;
	struct window w;
	struct engine all, period;
	uint64_t period_start; /* of the open row, 0: none */
	struct cpu_acc *acc;
	unsigned nacc;
	struct window_stretch cur_stretch;
	bool in_stretch, stretch_counts;
	bool period_fixed;
	int64_t tz_offset_s;
};

static int
row_push(struct window_row **rows, unsigned *n, unsigned *cap,
    const struct window_row *row)
{
	if (*n == *cap) {
		unsigned c = *cap ? *cap * 2 : 64;
		struct window_row *r = realloc(*rows, c * sizeof(*r));

		if (r == NULL)
			return -ENOMEM;
		*rows = r;
		*cap = c;
	}
	(*rows)[(*n)++] = *row;
	return 0;
}

static double
share(double part, double whole)
{
	return whole > 0 ? 100.0 * part / whole : 0.0;
}

/* Closes the open period: its aggregate row and, with -P, its CPUs. */
static void
row_close(struct window_run *wr)
{
	const struct run_totals *rt = &wr->period.run;
	const uint64_t *t = rt->ticks;
	struct window_row row = {.start_ns = wr->period_start,
	    .end_ns = wr->period_start + wr->w.period_ns,
	    .cpu = -1};
	struct summary s;
	double total;

	if (wr->period_start == 0 || (rt->intervals == 0 && rt->glitches == 0))
		goto reset;
	engine_summary(&wr->period, &s);
	total = (double)(t[COL_USER] + t[COL_NICE] + t[COL_SYSTEM] +
	                 t[COL_IRQ] + t[COL_SOFTIRQ] + t[COL_IDLE] +
	                 t[COL_IOWAIT] + t[COL_STEAL]);
	row.intervals = rt->intervals;
	row.dropped = rt->glitches;
	row.pct_user = share((double)(t[COL_USER] + t[COL_NICE]), total);
	row.pct_system =
	    share((double)(t[COL_SYSTEM] + t[COL_IRQ] + t[COL_SOFTIRQ]), total);
	row.pct_idle = share((double)t[COL_IDLE], total);
	row.pct_iowait = share((double)t[COL_IOWAIT], total);
	row.pct_steal = s.pct_steal;
	row.u = s.u;
	row.r = s.r;
	row.have_psi = rt->have_psi;
	row.psi_some = s.psi_some;
	row.have_cgroup = rt->have_cgroup;
	row.throttled = s.throttled;
	if (rt->speed_n > 0) {
		row.have_speed = true;
		row.speed = s.speed;
		row.speed_min = 1;
		for (unsigned i = 0; i < wr->nacc; i++)
			if (wr->acc[i].speed_n > 0 &&
			    wr->acc[i].speed_min < row.speed_min)
				row.speed_min = wr->acc[i].speed_min;
	}
	row.verdict = s.verdict;
	snprintf(row.reason, sizeof(row.reason), "%s", s.reason);
	if (row_push(&wr->w.rows, &wr->w.nrows, &wr->w.rows_cap, &row) < 0)
		fatalx("out of memory");
	for (unsigned i = 0; wr->o->per_cpu && i < wr->nacc; i++) {
		struct cpu_acc *a = &wr->acc[i];
		double all = a->busy + a->idle + a->steal;
		unsigned heavy = a->by_verdict[VERDICT_STOLEN] +
		                 a->by_verdict[VERDICT_CAPPED];
		struct window_row c = {.start_ns = row.start_ns,
		    .end_ns = row.end_ns,
		    .cpu = (int)a->id,
		    .intervals = a->intervals};

		/* All CPUs are summed (the slowest one is the aggregate
		 * row's); rows go to the ones -P asked for. */
		if (a->intervals == 0 || !cpu_list_has(&wr->o->cpus, c.cpu))
			continue;
		c.pct_user = share(a->user, all);
		c.pct_system = share(a->system, all);
		c.pct_idle = share(a->idle - a->iowait, all);
		c.pct_iowait = share(a->iowait, all);
		c.pct_steal = share(a->steal, all);
		c.u = a->busy + a->idle > 0 ? a->busy / (a->busy + a->idle) : 0;
		c.r = a->busy + a->steal > 0 ? a->steal / (a->busy + a->steal)
		                             : 0;
		if (a->speed_n > 0) {
			c.have_speed = true;
			c.speed = a->speed_sum / a->speed_n;
			c.speed_min = a->speed_min;
		}
		/* The rule engine_summary applies to the aggregate. */
		if (2 * a->by_verdict[VERDICT_CAPPED] >= a->intervals &&
		    a->by_verdict[VERDICT_CAPPED] > 0)
			c.verdict = VERDICT_CAPPED;
		else if (2 * heavy >= a->intervals && heavy > 0)
			c.verdict = VERDICT_STOLEN;
		else if (2 * a->by_verdict[VERDICT_SLOWED] >= a->intervals &&
		         a->by_verdict[VERDICT_SLOWED] > 0)
			c.verdict = VERDICT_SLOWED;
		else if (a->steal > 0 && c.u < wr->o->verdict.busy)
			c.verdict = VERDICT_IDLE_STEAL;
		else
			c.verdict = VERDICT_OK;
		if (c.verdict == VERDICT_SLOWED)
			snprintf(c.reason, sizeof(c.reason),
			    "slowed in %u of %u interval%s, at %.0f%% of its "
			    "best speed (at worst %.0f%%)",
			    a->by_verdict[VERDICT_SLOWED], a->intervals,
			    plural_s(a->intervals), 100 * c.speed,
			    100 * c.speed_min);
		else
			snprintf(c.reason, sizeof(c.reason),
			    "steal %.1f%% of wanted time, %.0f%% busy",
			    100 * c.r, 100 * c.u);
		if (row_push(&wr->w.cpu_rows, &wr->w.ncpu_rows,
		        &wr->w.cpu_rows_cap, &c) < 0)
			fatalx("out of memory");
	}
reset:
	engine_reset_run(&wr->period);
	for (unsigned i = 0; i < wr->nacc; i++)
		wr->acc[i] = (struct cpu_acc){.id = wr->acc[i].id};
}

/* The period's per-CPU sums: the -P rows, and the aggregate row's
 * slowest CPU. */
static void
cpu_add(struct window_run *wr, const struct interval *iv)
{
	if (!iv->cpu_detail || iv->glitch ||
	    (!wr->o->per_cpu && !iv->have_speed))
		return;
	for (unsigned i = 0; i < iv->ncpu; i++) {
		const struct cpu_interval *ci = &iv->cpu[i];
		struct cpu_acc *a = NULL;
		double all =
		    (double)(ci->busy_ticks + ci->idle_ticks + ci->steal_ticks);

		for (unsigned k = 0; k < wr->nacc && a == NULL; k++)
			if (wr->acc[k].id == (unsigned)ci->cpu)
				a = &wr->acc[k];
		if (a == NULL) {
			struct cpu_acc *n =
			    realloc(wr->acc, (wr->nacc + 1) * sizeof(*n));

			if (n == NULL)
				fatalx("out of memory");
			wr->acc = n;
			a = &wr->acc[wr->nacc++];
			*a = (struct cpu_acc){.id = (unsigned)ci->cpu};
		}
		a->user += ci->pct_user * all / 100;
		a->system += ci->pct_system * all / 100;
		a->iowait += ci->pct_iowait * all / 100;
		a->idle += (double)ci->idle_ticks;
		a->steal += (double)ci->steal_ticks;
		a->busy += (double)ci->busy_ticks;
		a->intervals++;
		a->by_verdict[ci->verdict]++;
		if (ci->have_speed) {
			if (a->speed_n == 0 || ci->speed < a->speed_min)
				a->speed_min = ci->speed;
			a->speed_sum += ci->speed;
			a->speed_n++;
		}
	}
}

static struct window_speed *
speed_of(struct window *w, unsigned cpu)
{
	struct window_speed *n;
	unsigned i = 0;

	while (i < w->nspeed && w->speed[i].cpu < cpu)
		i++;
	if (i < w->nspeed && w->speed[i].cpu == cpu)
		return &w->speed[i];
	if ((n = realloc(w->speed, (w->nspeed + 1) * sizeof(*n))) == NULL)
		fatalx("out of memory");
	w->speed = n;
	memmove(&n[i + 1], &n[i], (w->nspeed - i) * sizeof(*n));
	w->nspeed++;
	n[i] = (struct window_speed){.cpu = cpu};
	return &n[i];
}

/* Ends a CPU's open slowed stretch: the longest so far if it counts. */
static void
slowed_end(struct window *w, struct window_speed *ws)
{
	const struct window_slowed *c = &ws->cur;
	const struct window_slowed *b = &w->slowed;

	if (ws->in_slowed && c->counts &&
	    (!w->have_slowed ||
	        c->end_ns - c->start_ns > b->end_ns - b->start_ns ||
	        (c->end_ns - c->start_ns == b->end_ns - b->start_ns &&
	            c->speed_min < b->speed_min))) {
		w->slowed = *c;
		w->have_slowed = true;
	}
	ws->in_slowed = false;
}

/*
 * Each CPU's speed over the window, from the engine that judges the
 * whole window, and its runs of slow probes: a run that reached the
 * slowed verdict is a stretch, as sustained steal is for the worst.
 */
static void
speed_track(struct window_run *wr, const struct interval *iv, uint64_t start_ns)
{
	if (iv->glitch) { /* a dropped interval ends every stretch */
		for (unsigned i = 0; i < wr->w.nspeed; i++)
			slowed_end(&wr->w, &wr->w.speed[i]);
		return;
	}
	if (!iv->cpu_detail)
		return;
	for (unsigned i = 0; i < iv->ncpu; i++) {
		const struct cpu_interval *ci = &iv->cpu[i];
		struct window_speed *ws;
		bool slow;

		if (!ci->have_speed && ci->slow != SLOW_YES)
			continue;
		ws = speed_of(&wr->w, (unsigned)ci->cpu);
		if (ci->have_speed) {
			int bin = (int)(100 * ci->speed + 0.5);

			ws->bins[bin < 0 ? 0 : bin > 100 ? 100 : bin]++;
			if (ws->probes == 0 || ci->speed < ws->min)
				ws->min = ci->speed;
			ws->sum += ci->speed;
			ws->probes++;
		}
		slow = ci->slow == SLOW_PENDING || ci->slow == SLOW_YES;
		if (!slow) {
			slowed_end(&wr->w, ws);
			continue;
		}
		if (!ws->in_slowed) {
			ws->cur = (struct window_slowed){.cpu = ws->cpu,
			    .start_ns = start_ns,
			    .speed_min = 1};
			ws->in_slowed = true;
		}
		ws->cur.end_ns = iv->wall_ns;
		if (ci->have_speed && ci->speed < ws->cur.speed_min)
			ws->cur.speed_min = ci->speed;
		if (ci->verdict == VERDICT_SLOWED)
			ws->cur.counts = true;
	}
}

double
window_speed_median(const struct window_speed *ws)
{
	unsigned seen = 0;

	for (int b = 0; b < WINDOW_SPEED_BINS; b++) {
		seen += ws->bins[b];
		if (2 * seen >= ws->probes && ws->probes > 0)
			return b / 100.0;
	}
	return -1;
}

/* Ends the open stretch, if any: the worst so far if it counts. */
static void
stretch_end(struct window_run *wr)
{
	struct window_stretch *s = &wr->cur_stretch;

	if (wr->in_stretch && wr->stretch_counts &&
	    (!wr->w.have_worst || s->steal_ticks > wr->w.worst.steal_ticks)) {
		wr->w.worst = *s;
		wr->w.have_worst = true;
	}
	wr->in_stretch = false;
}

/* Follows runs of heavy steal; the one with the most stolen ticks is
 * the window's worst stretch, if it ever reached stolen or capped. */
static void
stretch_track(
    struct window_run *wr, const struct interval *iv, uint64_t start_ns)
{
	const struct cpu_interval *t = &iv->total;
	struct window_stretch *s = &wr->cur_stretch;
	bool heavy = !iv->glitch && t->heavy_run > 0;

	if (heavy) {
		if (!wr->in_stretch) {
			*s = (struct window_stretch){
			    .start_ns = start_ns, .verdict = VERDICT_STOLEN};
			wr->in_stretch = true;
			wr->stretch_counts = false;
		}
		s->end_ns = iv->wall_ns;
		s->busy_ticks += t->busy_ticks;
		s->steal_ticks += t->steal_ticks;
		if (t->verdict == VERDICT_CAPPED ||
		    t->verdict == VERDICT_STOLEN) {
			wr->stretch_counts = true;
			if (t->verdict == VERDICT_CAPPED)
				s->verdict = VERDICT_CAPPED;
		}
	}
	if (!heavy)
		stretch_end(wr);
}

static void
event_add(struct window *w, const struct window_event *ev)
{
	/* The notes name the first 32; later ones are left out. */
	if (w->nevents < sizeof(w->events) / sizeof(w->events[0]))
		w->events[w->nevents++] = *ev;
}

/* The start of the period holding t, aligned in local time. */
static uint64_t
period_of(const struct window_run *wr, uint64_t t)
{
	int64_t local = (int64_t)(t / NSEC_PER_SEC) + wr->tz_offset_s;
	uint64_t p = wr->w.period_ns / NSEC_PER_SEC;

	if (local < 0)
		local = 0;
	return ((uint64_t)local / p * p - (uint64_t)wr->tz_offset_s) *
	       NSEC_PER_SEC;
}

/* One pair of consecutive samples of the same run. */
static void
window_pair(struct window_run *wr, const struct snapshot *prev,
    const struct snapshot *cur)
{
	const struct interval *iv;
	uint64_t dm = cur->mono_ns - prev->mono_ns, p;
	int64_t dw = (int64_t)(cur->wall_ns - prev->wall_ns);
	int64_t step = dw - (int64_t)dm;

	if (cur->wall_ns <= wr->w.since_ns || cur->wall_ns > wr->w.until_ns)
		return;
	/* The wall clock moved by other than the monotonic one: stepped
	 * (NTP, an operator, a resumed VM). Intervals are measured on the
	 * monotonic clock, so the numbers stand; the rows follow the wall
	 * clock. */
	if (step > (int64_t)(2 * NSEC_PER_SEC) ||
	    step < -(int64_t)(2 * NSEC_PER_SEC))
		event_add(
		    &wr->w, &(struct window_event){.kind = EVENT_CLOCK_STEP,
		                .at_ns = cur->wall_ns,
		                .step_ns = step});
	if (prev->stat.ncpu != cur->stat.ncpu)
		event_add(&wr->w, &(struct window_event){.kind = EVENT_CPUS,
		                      .at_ns = cur->wall_ns,
		                      .from_cpus = prev->stat.ncpu,
		                      .to_cpus = cur->stat.ncpu});
	/* Rows are never shorter than the samples. */
	if (!wr->period_fixed) {
		uint64_t q = window_period_ns(dm * 150);

		if (q > wr->w.period_ns)
			wr->w.period_ns = q;
		wr->period_fixed = true;
	}
	p = period_of(wr, cur->wall_ns - 1);
	if (p != wr->period_start) {
		row_close(wr);
		wr->period_start = p;
	}
	if ((iv = engine_step(&wr->all, prev, cur)) == NULL)
		fatalx("out of memory");
	stretch_track(wr, iv, prev->wall_ns);
	speed_track(wr, iv, prev->wall_ns);
	if ((iv = engine_step(&wr->period, prev, cur)) == NULL)
		fatalx("out of memory");
	cpu_add(wr, iv);
}

/* Reads one segment file into the run. Returns 0, or -errno. */
static int
window_segment(struct window_run *wr, int dir_fd, uint32_t seq,
    struct snapshot *prev, bool *have_prev, unsigned *hz)
{
	char name[16];
	struct history_reader r;
	uint8_t *buf;
	size_t len;
	int fd, rc;

	snprintf(name, sizeof(name), "%08u.sth", seq);
	fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	rc = read_fd_max(
	    fd, HISTORY_SEGMENT_MAX_BYTES, (char **)&buf, &len, NULL);
	close(fd);
	if (rc < 0)
		return rc;
	if (len == 0) { /* made by a monitor that never sampled */
		free(buf);
		return 0;
	}
	if (history_reader_open(&r, buf, len) < 0) {
		log_warnx("%s/%s: %s; skipped", wr->o->dir, name, r.error);
		history_reader_free(&r);
		free(buf);
		return 0;
	}
	if (*hz == 0) {
		*hz = r.hz;
		wr->all.hz = wr->period.hz = r.hz;
		snprintf(wr->all.idle_poll, sizeof(wr->all.idle_poll), "%s",
		    r.idle_poll);
		snprintf(wr->w.host, sizeof(wr->w.host), "%s", r.host);
	}
	while ((rc = history_reader_next(&r)) > 0) {
		const struct snapshot *cur = &r.cur;

		if (r.flags & HISTORY_NEW_RUN) {
			if (*have_prev && cur->wall_ns > wr->w.since_ns &&
			    prev->wall_ns < wr->w.until_ns)
				event_add(&wr->w,
				    &(struct window_event){.kind = EVENT_GAP,
				        .at_ns = prev->wall_ns,
				        .until_ns = cur->wall_ns});
			*have_prev = false;
		}
		if (*have_prev)
			window_pair(wr, prev, cur);
		if (snapshot_copy(prev, cur) < 0)
			fatalx("out of memory");
		*have_prev = true;
	}
	if (r.corrupt > 0)
		log_warnx("%s/%s: %llu damaged records skipped", wr->o->dir,
		    name, (unsigned long long)r.corrupt);
	if (r.torn_bytes > 0)
		log_warnx("%s/%s: the last record is incomplete (the monitor "
		          "stopped while writing it): %llu bytes ignored",
		    wr->o->dir, name, (unsigned long long)r.torn_bytes);
	history_reader_free(&r);
	free(buf);
	return rc < 0 ? rc : 0;
}

/* --- printing ------------------------------------------------------------ */

static void
fmt_time(const struct window_run *wr, uint64_t ns, bool with_date, char *buf,
    size_t size)
{
	time_t t = (time_t)(ns / NSEC_PER_SEC);
	struct tm tm;

	bool secs = wr->w.period_ns < 60 * NSEC_PER_SEC;

	localtime_r(&t, &tm);
	strftime(buf, size,
	    with_date ? (secs ? "%Y-%m-%d %H:%M:%S" : "%Y-%m-%d %H:%M")
	              : (secs ? "%H:%M:%S" : "%H:%M"),
	    &tm);
}

static bool
spans_days(const struct window_run *wr)
{
	char a[32], b[32];

	fmt_time(wr, wr->w.since_ns, true, a, sizeof(a));
	fmt_time(wr, wr->w.until_ns - 1, true, b, sizeof(b));
	return strncmp(a, b, 10) != 0;
}

static int
time_width(const struct window_run *wr, bool dates)
{
	return (dates ? 11 : 5) + (wr->w.period_ns < 60 * NSEC_PER_SEC ? 3 : 0);
}

static void
print_pct(FILE *f, bool have, double v, int width)
{
	if (have)
		fprintf(f, "%*.1f", width, v);
	else
		fprintf(f, "%*s", width, "-");
}

static void
print_row(const struct window_run *wr, FILE *f, const struct window_row *r,
    bool dates)
{
	char when[32];

	fmt_time(wr, r->start_ns, dates, when, sizeof(when));
	if (dates)
		memmove(when, when + 5, strlen(when + 5) + 1); /* MM-DD */
	fprintf(f, "%-*s", time_width(wr, dates), when);
	if (wr->o->per_cpu) {
		if (r->cpu < 0)
			fprintf(f, "  all");
		else
			fprintf(f, "%5d", r->cpu);
	}
	if (r->intervals == 0) {
		fprintf(f, "%6s%6s%6s%8s%7s%8s%6s%6s%s  glitch: %s\n", "-", "-",
		    "-", "-", "-", "-", "-", "-",
		    wr->w.nspeed > 0 ? "     -" : "", r->reason);
		return;
	}
	fprintf(f, "%6.1f%6.1f%6.1f%8.1f%7.1f%8.1f", r->pct_user, r->pct_system,
	    r->pct_idle, r->pct_iowait, r->pct_steal, 100 * r->r);
	print_pct(f, r->cpu < 0 && r->have_psi, 100 * r->psi_some, 6);
	print_pct(f, r->cpu < 0 && r->have_cgroup, 100 * r->throttled, 6);
	if (wr->w.nspeed > 0)
		print_pct(f, r->have_speed, 100 * r->speed, 6);
	fprintf(f, "  %s", verdict_name(r->verdict));
	if (wr->o->wide && r->verdict != VERDICT_OK)
		fprintf(f, ": %s", r->reason);
	if (r->dropped > 0)
		fprintf(f, " (%u dropped)", r->dropped);
	fputc('\n', f);
}

static void
json_rows(const struct window_run *wr, FILE *f, const struct window_row *r)
{
	struct json_writer w;
	char text[2048], a[40], b[40], cpu[16];

	time_format_rfc3339(r->start_ns, 0, a, sizeof(a));
	time_format_rfc3339(r->end_ns, 0, b, sizeof(b));
	snprintf(cpu, sizeof(cpu), r->cpu < 0 ? "all" : "%d", r->cpu);
	json_init(&w, text, sizeof(text) - 1);
	json_object_begin(&w);
	json_kv_string(&w, "start", a);
	json_kv_string(&w, "end", b);
	json_kv_string(&w, "cpu", cpu);
	json_kv_u64(&w, "intervals", r->intervals);
	json_kv_u64(&w, "dropped", r->dropped);
	json_kv_double(&w, "user", r->pct_user, 2);
	json_kv_double(&w, "system", r->pct_system, 2);
	json_kv_double(&w, "idle", r->pct_idle, 2);
	json_kv_double(&w, "iowait", r->pct_iowait, 2);
	json_kv_double(&w, "steal", r->pct_steal, 2);
	json_kv_double(&w, "busy", 100 * r->u, 2);
	json_kv_double(&w, "wanted_steal", 100 * r->r, 2);
	if (r->cpu < 0) {
		json_kv_double_or_null(
		    &w, "psi_some", r->have_psi, 100 * r->psi_some, 2);
		json_kv_double_or_null(
		    &w, "throttled", r->have_cgroup, 100 * r->throttled, 2);
	}
	/* Only where the probe ran: older histories read as they did. */
	if (wr->w.nspeed > 0) {
		json_kv_double_or_null(
		    &w, "speed", r->have_speed, 100 * r->speed, 2);
		json_kv_double_or_null(
		    &w, "speed_min", r->have_speed, 100 * r->speed_min, 2);
	}
	json_kv_string(&w, "verdict", verdict_name(r->verdict));
	json_kv_string(&w, "reason", r->reason);
	json_object_end(&w);
	if (json_finish(&w) > 0)
		fprintf(f, "%s\n", text);
}

/*
 * -P names CPUs the window has: none of them is a usage error (returns
 * -EINVAL, logged), some of them a warning naming the others.
 */
static int
check_cpus(const struct window_run *wr)
{
	unsigned *ids = calloc(wr->nacc + 1, sizeof(*ids));
	char missing[200];
	unsigned nmissing;
	bool some;

	if (ids == NULL)
		fatalx("out of memory");
	for (unsigned i = 0; i < wr->nacc; i++)
		ids[i] = wr->acc[i].id;
	nmissing = cpu_list_missing(
	    &wr->o->cpus, ids, wr->nacc, missing, sizeof(missing), &some);
	free(ids);
	if (nmissing == 0)
		return 0;
	if (!some) {
		log_usage("report",
		    "-P: no CPU %s in the history over this "
		    "window (%u CPUs)",
		    missing, wr->nacc);
		return -EINVAL;
	}
	log_warnx("-P: no CPU %s in the history over this window (%u CPUs)",
	    missing, wr->nacc);
	return 0;
}

static void
print_rows(const struct window_run *wr, FILE *f)
{
	bool dates = spans_days(wr);
	unsigned k = 0;

	if (!wr->o->json)
		fprintf(f,
		    "%-*s%s  %%usr  %%sys %%idle %%iowait %%steal "
		    "%%stolen  %%psi  %%thr%s  verdict\n",
		    time_width(wr, dates), "time",
		    wr->o->per_cpu ? "  cpu" : "",
		    wr->w.nspeed > 0 ? "  %spd" : "");
	for (unsigned i = 0; i < wr->w.nrows; i++) {
		const struct window_row *r = &wr->w.rows[i];

		if (wr->o->json)
			json_rows(wr, f, r);
		else
			print_row(wr, f, r, dates);
		for (; k < wr->w.ncpu_rows &&
		       wr->w.cpu_rows[k].start_ns == r->start_ns;
		     k++) {
			if (wr->o->json)
				json_rows(wr, f, &wr->w.cpu_rows[k]);
			else
				print_row(wr, f, &wr->w.cpu_rows[k], dates);
		}
	}
}

/* The lines about the recorder itself and the worst stretch. */
static void
notes(const struct window_run *wr, char *buf, size_t size)
{
	const struct window *w = &wr->w;
	bool dates = spans_days(wr);
	size_t n = 0;
	char a[32], b[32];

	buf[0] = '\0';
	if (w->have_worst) {
		const struct window_stretch *s = &w->worst;
		double r = (double)s->steal_ticks /
		           (double)(s->busy_ticks + s->steal_ticks);

		fmt_time(wr, s->start_ns, dates, a, sizeof(a));
		fmt_time(wr, s->end_ns, dates, b, sizeof(b));
		n += (size_t)snprintf(buf + n, size - n,
		    "  worst: %s from %s to %s: got %.0f%% of the CPU it "
		    "asked for\n",
		    verdict_name(s->verdict), a, b, 100 * (1 - r));
	} else {
		n += (size_t)snprintf(buf + n, size - n,
		    "  worst: no stretch of sustained steal (%.0f%% of wanted "
		    "time for %u interval%s)\n",
		    100 * wr->o->verdict.steal, wr->o->verdict.sustain,
		    plural_s(wr->o->verdict.sustain));
	}
	for (unsigned i = 0; i < w->nspeed && n < size; i++) {
		const struct window_speed *ws = &w->speed[i];

		if (ws->probes == 0)
			continue;
		n += (size_t)snprintf(buf + n, size - n,
		    "  speed: cpu %u median %.0f%% of its best speed, mean "
		    "%.0f%%, lowest %.0f%% (%u probe%s)\n",
		    ws->cpu, 100 * window_speed_median(ws),
		    100 * ws->sum / ws->probes, 100 * ws->min, ws->probes,
		    plural_s(ws->probes));
	}
	if (w->have_slowed && n < size) {
		fmt_time(wr, w->slowed.start_ns, dates, a, sizeof(a));
		fmt_time(wr, w->slowed.end_ns, dates, b, sizeof(b));
		n += (size_t)snprintf(buf + n, size - n,
		    "  slowed: cpu %u from %s to %s: down to %.0f%% of its "
		    "best speed\n",
		    w->slowed.cpu, a, b, 100 * w->slowed.speed_min);
	}
	for (unsigned i = 0; i < w->nevents && n < size; i++) {
		const struct window_event *ev = &w->events[i];

		fmt_time(wr, ev->at_ns, dates, a, sizeof(a));
		switch (ev->kind) {
		case EVENT_GAP:
			fmt_time(wr, ev->until_ns, dates, b, sizeof(b));
			n += (size_t)snprintf(buf + n, size - n,
			    "  gap: no samples from %s to %s (the monitor "
			    "was not running)\n",
			    a, b);
			break;
		case EVENT_CLOCK_STEP:
			n += (size_t)snprintf(buf + n, size - n,
			    "  clock: the wall clock stepped %+.0f s at %s; "
			    "intervals are timed on the monotonic clock\n",
			    (double)ev->step_ns / NSEC_PER_SEC, a);
			break;
		case EVENT_CPUS:
			n += (size_t)snprintf(buf + n, size - n,
			    "  cpus: %u to %u CPUs online at %s (hotplug)\n",
			    ev->from_cpus, ev->to_cpus, a);
			break;
		}
	}
}

/* The summary's speed fields for --json: per CPU, and the stretch. */
static void
speed_json(struct json_writer *j, const void *arg)
{
	const struct window_run *wr = arg;
	const struct window *w = &wr->w;
	char a[40];

	if (w->nspeed == 0)
		return;
	json_key(j, "speed_cpus");
	json_array_begin(j);
	for (unsigned i = 0; i < w->nspeed; i++) {
		const struct window_speed *ws = &w->speed[i];

		if (ws->probes == 0)
			continue;
		snprintf(a, sizeof(a), "%u", ws->cpu);
		json_object_begin(j);
		json_kv_string(j, "cpu", a);
		json_kv_u64(j, "probes", ws->probes);
		json_kv_double(j, "median", 100 * window_speed_median(ws), 0);
		json_kv_double(j, "mean", 100 * ws->sum / ws->probes, 2);
		json_kv_double(j, "min", 100 * ws->min, 2);
		json_object_end(j);
	}
	json_array_end(j);
	if (w->have_slowed) {
		json_key(j, "slowed");
		json_object_begin(j);
		time_format_rfc3339(w->slowed.start_ns, 0, a, sizeof(a));
		json_kv_string(j, "start", a);
		time_format_rfc3339(w->slowed.end_ns, 0, a, sizeof(a));
		json_kv_string(j, "end", a);
		snprintf(a, sizeof(a), "%u", w->slowed.cpu);
		json_kv_string(j, "cpu", a);
		json_kv_double(j, "speed_min", 100 * w->slowed.speed_min, 2);
		json_object_end(j);
	}
}

int
window_main(int argc, char **argv)
{
	struct window_opts o;
	struct window_run wr = {.o = &o};
	struct history_segment *seg;
	struct snapshot prev;
	struct report report;
	bool have_prev = false;
	uint64_t now = time_wall_ns();
	unsigned hz = 0;
	char note[16384];
	int dir_fd, n, status = 0;
	time_t tnow = (time_t)(now / NSEC_PER_SEC);
	struct tm tm;

	window_args(argc, argv, &o);
	if (o.until != NULL && parse_when(o.until, now, &wr.w.until_ns) < 0)
		cmdopts_usage_error(
		    "report", "--until '%s' is not a time", o.until);
	if (o.until == NULL)
		wr.w.until_ns = now;
	if (parse_when(o.since, wr.w.until_ns, &wr.w.since_ns) < 0)
		cmdopts_usage_error("report",
		    "--since '%s' is not a duration (24h) or a time", o.since);
	if (wr.w.since_ns >= wr.w.until_ns)
		cmdopts_usage_error("report", "--since must be before --until");
	wr.w.period_ns = window_period_ns(wr.w.until_ns - wr.w.since_ns);
	localtime_r(&tnow, &tm);
	wr.tz_offset_s = tm.tm_gmtoff;

	dir_fd = open(o.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0) {
		log_errorx("history %s: %s", o.dir, strerror(errno));
		return 1;
	}
	seg = calloc(HISTORY_SEGMENTS_MAX, sizeof(*seg));
	if (seg == NULL || snapshot_init(&prev, 8, true) < 0 ||
	    engine_init(&wr.all, &o.verdict, 100) < 0 ||
	    engine_init(&wr.period, &o.verdict, 100) < 0)
		fatalx("out of memory");
	if ((n = history_list(dir_fd, seg, HISTORY_SEGMENTS_MAX)) < 0) {
		log_errorx("history %s: %s", o.dir, strerror(-n));
		status = 1;
		n = 0;
	}
	for (int i = 0; i < n; i++) {
		int rc;

		/* Wholly before the window: its successor starts earlier. */
		if (i + 1 < n && seg[i + 1].start_wall_ns != 0 &&
		    seg[i + 1].start_wall_ns < wr.w.since_ns)
			continue;
		rc = window_segment(
		    &wr, dir_fd, seg[i].seq, &prev, &have_prev, &hz);
		if (rc < 0) {
			log_warnx("%s/%08u.sth: %s", o.dir, seg[i].seq,
			    strerror(-rc));
			status = 1;
		}
	}
	close(dir_fd);
	row_close(&wr);
	stretch_end(&wr);
	for (unsigned i = 0; i < wr.w.nspeed; i++)
		slowed_end(&wr.w, &wr.w.speed[i]);
	if (wr.all.run.intervals == 0 && wr.all.run.glitches == 0) {
		if (status == 0)
			log_errorx("history %s: no samples between %s and %s",
			    o.dir, o.since, o.until != NULL ? o.until : "now");
		status = 1;
		goto out;
	}
	if (o.per_cpu && check_cpus(&wr) < 0) {
		status = CLI_EXIT_USAGE;
		goto out;
	}
	print_rows(&wr, stdout);
	notes(&wr, note, sizeof(note));
	fflush(stdout);
	report_init(&report, STDOUT_FILENO);
	report.json = o.json;
	report.note = note;
	report.json_extra = speed_json;
	report.json_extra_arg = &wr;
	if (wr.w.have_worst) {
		const struct window_stretch *s = &wr.w.worst;

		report.have_worst = true;
		report.worst_start_ns = s->start_ns;
		report.worst_end_ns = s->end_ns;
		report.worst_verdict = s->verdict;
		report.worst_r = (double)s->steal_ticks /
		                 (double)(s->busy_ticks + s->steal_ticks);
	}
	if (report_summary(&report, &wr.all) < 0)
		status = 1;
	if (o.svg != NULL) {
		char title[256], a[32], b[32];
		int rc;

		fmt_time(&wr, wr.w.since_ns, true, a, sizeof(a));
		fmt_time(&wr, wr.w.until_ns, true, b, sizeof(b));
		snprintf(title, sizeof(title), "%s: CPU steal, %s to %s",
		    wr.w.host[0] != '\0' ? wr.w.host : "stealstat", a, b);
		if ((rc = window_svg(&wr.w, &wr.all, o.svg, title)) < 0) {
			log_errorx("--svg %s: %s", o.svg, strerror(-rc));
			status = 1;
		}
	}
out:
	free(wr.w.rows);
	free(wr.w.cpu_rows);
	free(wr.w.speed);
	free(wr.acc);
	free(seg);
	snapshot_free(&prev);
	engine_free(&wr.all);
	engine_free(&wr.period);
	return status;
}

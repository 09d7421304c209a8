/*
 * Output. The table path runs once per sample, so it formats numbers by
 * hand into one buffer and writes it with one write(2): printf's floating
 * point would cost more than the whole sample.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "json.h"
#include "report.h"
#include "timeutil.h"

void
report_init(struct report *r, int fd)
{
	/* Field by field: clearing the 32 KiB buffer would cost more
	 * instructions than twenty samples. */
	r->fd = fd;
	r->per_cpu = r->json = r->quiet = false;
	r->prom_path = NULL;
	r->rows = 0;
	r->tz_offset_s = 0;
	r->tz_valid_until_s = 0;
	r->len = 0;
}

/*
 * The row writers below copy byte by byte: the pieces are a few bytes
 * long, where a call to memcpy costs more than the copy.
 */
static void
put(struct report *r, const char *s, size_t n)
{
	char *out = r->buf + r->len;

	if (n > sizeof(r->buf) - r->len)
		n = sizeof(r->buf) - r->len;
	for (size_t i = 0; i < n; i++)
		out[i] = s[i];
	r->len += n;
}

static void
puts_(struct report *r, const char *s)
{
	put(r, s, strlen(s));
}

/* Writes the digits in [p, end) right-aligned in width. */
static void
put_right(struct report *r, const char *p, const char *end, size_t width)
{
	size_t n = (size_t)(end - p);
	char *out = r->buf + r->len;

	if (sizeof(r->buf) - r->len < width + n)
		return;
	for (; width > n; width--)
		*out++ = ' ';
	while (p < end)
		*out++ = *p++;
	r->len = (size_t)(out - r->buf);
}

/* Right-aligns an unsigned number in width. */
static void
put_uint(struct report *r, uint64_t v, size_t width)
{
	char tmp[24], *p = tmp + sizeof(tmp);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	put_right(r, p, tmp + sizeof(tmp), width);
}

/* Right-aligns v with one decimal in width; negative prints "-". */
static void
put_fixed1(struct report *r, double v, size_t width)
{
	char tmp[32], *p = tmp + sizeof(tmp);
	uint64_t tenths;

	if (!(v >= 0) || v > 1e15) {
		*--p = '-';
	} else {
		tenths = (uint64_t)(v * 10 + 0.5);
		*--p = (char)('0' + tenths % 10);
		*--p = '.';
		tenths /= 10;
		do {
			*--p = (char)('0' + tenths % 10);
			tenths /= 10;
		} while (tenths != 0);
	}
	put_right(r, p, tmp + sizeof(tmp), width);
}

static void
put_2digits(struct report *r, unsigned v)
{
	char two[2] = {(char)('0' + v / 10 % 10), (char)('0' + v % 10)};

	put(r, two, 2);
}

/*
 * Local wall clock "HH:MM:SS". The UTC offset is looked up once per hour
 * (localtime_r is the expensive part), which follows DST changes.
 */
static void
put_clock(struct report *r, uint64_t wall_ns)
{
	uint64_t s = wall_ns / NSEC_PER_SEC;
	int64_t local;

	if (s >= r->tz_valid_until_s || r->tz_valid_until_s == 0) {
		time_t t = (time_t)s;
		struct tm tm;

		if (localtime_r(&t, &tm) != NULL)
			r->tz_offset_s = tm.tm_gmtoff;
		r->tz_valid_until_s = s - s % 3600 + 3600;
	}
	local = (int64_t)s + r->tz_offset_s;
	if (local < 0)
		local = 0;
	put_2digits(r, (unsigned)(local / 3600 % 24));
	put(r, ":", 1);
	put_2digits(r, (unsigned)(local / 60 % 60));
	put(r, ":", 1);
	put_2digits(r, (unsigned)(local % 60));
}

static int
flush(struct report *r)
{
	size_t off = 0;

	while (off < r->len) {
		ssize_t n = write(r->fd, r->buf + off, r->len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r->len = 0;
			return -errno;
		}
		off += (size_t)n;
	}
	r->len = 0;
	return 0;
}

static void
table_header(struct report *r)
{
	puts_(r, r->per_cpu ? "time      cpu" : "time    ");
	puts_(r, "  %usr  %sys %idle %wait %steal  run  %psi  %thr  "
	         "verdict\n");
}

static void
table_row(struct report *r, const struct engine *e, const struct interval *iv,
    const struct cpu_interval *ci)
{
	char why[REASON_MAX];

	put_clock(r, iv->wall_ns);
	if (r->per_cpu) {
		if (ci->cpu < 0)
			puts_(r, "  all");
		else
			put_uint(r, (uint64_t)ci->cpu, 5);
	}
	put_fixed1(r, ci->pct_user, 6);
	put_fixed1(r, ci->pct_system, 6);
	put_fixed1(r, ci->pct_idle, 6);
	put_fixed1(r, ci->pct_iowait, 6);
	put_fixed1(r, ci->pct_steal, 7);
	if (ci->cpu < 0) {
		put_uint(r, iv->runnable, 5);
		put_fixed1(r, iv->have_psi ? 100 * iv->psi_some : -1, 6);
		put_fixed1(r, iv->have_cgroup ? 100 * iv->throttled : -1, 6);
	} else {
		puts_(r, "                 ");
	}
	puts_(r, "  ");
	puts_(r, verdict_name(ci->verdict));
	/* The evidence goes with every verdict that asks for action. */
	if (ci->verdict != VERDICT_OK || ci->why == REASON_NOT_SUSTAINED) {
		puts_(r, ": ");
		puts_(r, engine_reason(e, iv, ci, why, sizeof(why)));
	}
	puts_(r, "\n");
}

static void
glitch_row(struct report *r, const struct interval *iv)
{
	put_clock(r, iv->wall_ns);
	puts_(r, r->per_cpu ? "  all" : "");
	puts_(r, "  glitch: interval dropped: ");
	puts_(r, iv->glitch_reason);
	puts_(r, "\n");
}

static void
json_row(struct report *r, const struct engine *e, const struct interval *iv,
    const struct cpu_interval *ci)
{
	struct json_writer w;
	char text[4096], stamp[40], why[REASON_MAX];
	int n;

	time_format_rfc3339(iv->wall_ns, 3, stamp, sizeof(stamp));
	json_init(&w, text, sizeof(text) - 1);
	json_object_begin(&w);
	json_key(&w, "time");
	json_string(&w, stamp);
	json_key(&w, "cpu");
	if (ci->cpu < 0)
		json_string(&w, "all");
	else
		json_u64(&w, (uint64_t)ci->cpu);
	json_key(&w, "interval_s");
	json_double(&w, (double)iv->elapsed_ns / NSEC_PER_SEC, 3);
	if (!iv->glitch) {
		json_key(&w, "user");
		json_double(&w, ci->pct_user, 2);
		json_key(&w, "system");
		json_double(&w, ci->pct_system, 2);
		json_key(&w, "idle");
		json_double(&w, ci->pct_idle, 2);
		json_key(&w, "iowait");
		json_double(&w, ci->pct_iowait, 2);
		json_key(&w, "steal");
		json_double(&w, ci->pct_steal, 2);
		json_key(&w, "u");
		json_double(&w, ci->u, 4);
		json_key(&w, "r");
		json_double(&w, ci->r, 4);
		json_key(&w, "wake_delay_us");
		if (ci->wake_delay_us >= 0)
			json_double(&w, ci->wake_delay_us, 1);
		else
			json_null(&w);
		if (ci->cpu < 0) {
			json_key(&w, "running");
			json_u64(&w, iv->runnable);
			json_key(&w, "psi_some");
			if (iv->have_psi)
				json_double(&w, 100 * iv->psi_some, 2);
			else
				json_null(&w);
			json_key(&w, "throttled");
			if (iv->have_cgroup)
				json_double(&w, 100 * iv->throttled, 2);
			else
				json_null(&w);
			json_key(&w, "nr_throttled");
			if (iv->have_cgroup)
				json_u64(&w, iv->nr_throttled);
			else
				json_null(&w);
		}
	}
	json_key(&w, "verdict");
	json_string(&w, verdict_name(ci->verdict));
	json_key(&w, "reason");
	json_string(&w, engine_reason(e, iv, ci, why, sizeof(why)));
	json_object_end(&w);
	n = json_finish(&w);
	if (n > 0) {
		put(r, text, (size_t)n);
		put(r, "\n", 1);
	}
}

int
report_interval(
    struct report *r, const struct engine *e, const struct interval *iv)
{
	if (r->quiet)
		return 0;
	if (r->json) {
		json_row(r, e, iv, &iv->total);
		for (unsigned i = 0; r->per_cpu && i < iv->ncpu; i++)
			json_row(r, e, iv, &iv->cpu[i]);
		return flush(r);
	}
	if (r->per_cpu) {
		if (r->rows++ > 0)
			puts_(r, "\n");
		table_header(r);
	} else if (r->rows++ % 20 == 0) {
		table_header(r);
	}
	if (iv->glitch) {
		glitch_row(r, iv);
		return flush(r);
	}
	table_row(r, e, iv, &iv->total);
	for (unsigned i = 0; r->per_cpu && i < iv->ncpu; i++)
		table_row(r, e, iv, &iv->cpu[i]);
	return flush(r);
}

static void
verdict_counts(struct report *r, const struct run_totals *rt)
{
	char line[64];
	bool first = true;

	for (int v = 0; v < VERDICT_MAX; v++) {
		unsigned n =
		    v == VERDICT_GLITCH ? rt->glitches : rt->by_verdict[v];

		if (n == 0)
			continue;
		snprintf(line, sizeof(line), "%s%s %u", first ? "" : ", ",
		    verdict_name((enum verdict)v), n);
		puts_(r, line);
		first = false;
	}
	if (first)
		puts_(r, "none");
}

static void
summary_json(struct report *r, const struct engine *e, const struct summary *s)
{
	const struct run_totals *rt = &e->run;
	struct json_writer w;
	char text[4096];
	int n;

	json_init(&w, text, sizeof(text) - 1);
	json_object_begin(&w);
	json_key(&w, "summary");
	json_bool(&w, true);
	json_key(&w, "intervals");
	json_u64(&w, rt->intervals);
	json_key(&w, "dropped");
	json_u64(&w, rt->glitches);
	json_key(&w, "seconds");
	json_double(&w, (double)rt->elapsed_ns / NSEC_PER_SEC, 3);
	json_key(&w, "cpus");
	json_u64(&w, rt->ncpu);
	json_key(&w, "steal");
	json_double(&w, s->pct_steal, 3);
	json_key(&w, "max_steal");
	json_double(&w, rt->max_pct_steal, 2);
	json_key(&w, "u");
	json_double(&w, s->u, 4);
	json_key(&w, "r");
	json_double(&w, s->r, 4);
	json_key(&w, "psi_some");
	if (rt->have_psi)
		json_double(&w, 100 * s->psi_some, 2);
	else
		json_null(&w);
	json_key(&w, "throttled");
	if (rt->have_cgroup)
		json_double(&w, 100 * s->throttled, 2);
	else
		json_null(&w);
	json_key(&w, "wake_delay_us");
	if (s->wake_delay_us >= 0)
		json_double(&w, s->wake_delay_us, 1);
	else
		json_null(&w);
	json_key(&w, "verdicts");
	json_object_begin(&w);
	for (int v = 0; v < VERDICT_MAX; v++) {
		json_key(&w, verdict_name((enum verdict)v));
		json_u64(
		    &w, v == VERDICT_GLITCH ? rt->glitches : rt->by_verdict[v]);
	}
	json_object_end(&w);
	json_key(&w, "verdict");
	json_string(&w, verdict_name(s->verdict));
	json_key(&w, "reason");
	json_string(&w, s->reason);
	json_key(&w, "advice");
	json_string(&w, s->advice);
	json_object_end(&w);
	n = json_finish(&w);
	if (n > 0) {
		put(r, text, (size_t)n);
		put(r, "\n", 1);
	}
}

int
report_summary(struct report *r, const struct engine *e)
{
	const struct run_totals *rt = &e->run;
	struct summary s;
	char line[512];

	engine_summary(e, &s);
	if (r->json) {
		summary_json(r, e, &s);
		return flush(r);
	}
	snprintf(line, sizeof(line),
	    "\nsummary: %u intervals over %.1f s on %u CPUs (%u dropped)\n",
	    rt->intervals, (double)rt->elapsed_ns / NSEC_PER_SEC, rt->ncpu,
	    rt->glitches);
	puts_(r, line);
	snprintf(line, sizeof(line),
	    "  steal %.2f%% of all CPU time (peak interval %.1f%%), %.1f%% "
	    "of the time the CPUs wanted; busy %.0f%%\n",
	    s.pct_steal, rt->max_pct_steal, 100 * s.r, 100 * s.u);
	puts_(r, line);
	if (rt->have_psi || rt->have_cgroup) {
		snprintf(line, sizeof(line), "  PSI cpu some %s%.1f%%%s",
		    rt->have_psi ? "" : "(n/a) ", 100 * s.psi_some,
		    rt->have_cgroup ? "" : "\n");
		puts_(r, line);
		if (rt->have_cgroup) {
			snprintf(line, sizeof(line),
			    "; cgroup throttled %.1f%% (%llu periods)\n",
			    100 * s.throttled,
			    (unsigned long long)rt->nr_throttled);
			puts_(r, line);
		}
	}
	if (s.wake_delay_us >= 0 && rt->ticks[COL_STEAL] > 0) {
		snprintf(line, sizeof(line),
		    "  steal per interrupt ~%.0f us (an estimate of wakeup "
		    "delay)\n",
		    s.wake_delay_us);
		puts_(r, line);
	}
	puts_(r, "  intervals: ");
	verdict_counts(r, rt);
	puts_(r, "\n");
	snprintf(line, sizeof(line), "verdict: %s: %s\n",
	    verdict_name(s.verdict), s.reason);
	puts_(r, line);
	snprintf(line, sizeof(line), "advice: %s\n", s.advice);
	puts_(r, line);
	return flush(r);
}

static void
prom_help(
    char **p, char *end, const char *name, const char *type, const char *help)
{
	int n = snprintf(*p, (size_t)(end - *p), "# HELP %s %s\n# TYPE %s %s\n",
	    name, help, name, type);

	*p += n > 0 && n < end - *p ? n : 0;
}

static void
prom_value(char **p, char *end, const char *name, const char *cpu, double v)
{
	int n = snprintf(
	    *p, (size_t)(end - *p), "%s{cpu=\"%s\"} %.6g\n", name, cpu, v);

	*p += n > 0 && n < end - *p ? n : 0;
}

int
report_prometheus(
    struct report *r, const struct engine *e, const struct interval *iv)
{
	static char text[1 << 18];
	char *p = text, *end = text + sizeof(text);
	char cpu[16];
	int n;
	static const struct {
		const char *name, *help;
	} gauges[] = {
	    {"stealstat_steal_ratio", "Share of all CPU time stolen by "
	                              "the hypervisor over the last "
	                              "interval."},
	    {"stealstat_wanted_steal_ratio",
	        "Share of the CPU time the vCPU wanted that was stolen "
	        "(r)."},
	    {"stealstat_busy_ratio", "How busy the vCPU wanted to be "
	                             "(u)."},
	};

	if (r->prom_path == NULL || iv->glitch)
		return 0;
	for (size_t g = 0; g < sizeof(gauges) / sizeof(gauges[0]); g++) {
		prom_help(&p, end, gauges[g].name, "gauge", gauges[g].help);
		for (int i = -1; i < (int)iv->ncpu; i++) {
			const struct cpu_interval *ci =
			    i < 0 ? &iv->total : &iv->cpu[i];
			double v = g == 0   ? ci->pct_steal / 100
			           : g == 1 ? ci->r
			                    : ci->u;

			snprintf(
			    cpu, sizeof(cpu), i < 0 ? "all" : "%d", ci->cpu);
			prom_value(&p, end, gauges[g].name, cpu, v);
		}
	}
	prom_help(&p, end, "stealstat_verdict", "gauge",
	    "1 for the current verdict of each CPU, 0 for the others.");
	for (int i = -1; i < (int)iv->ncpu; i++) {
		const struct cpu_interval *ci =
		    i < 0 ? &iv->total : &iv->cpu[i];

		snprintf(cpu, sizeof(cpu), i < 0 ? "all" : "%d", ci->cpu);
		for (int v = 0; v < VERDICT_MAX; v++) {
			n = snprintf(p, (size_t)(end - p),
			    "stealstat_verdict{cpu=\"%s\",verdict=\"%s\"} "
			    "%d\n",
			    cpu, verdict_name((enum verdict)v),
			    ci->verdict == (enum verdict)v);
			p += n > 0 && n < end - p ? n : 0;
		}
	}
	if (iv->have_psi) {
		prom_help(&p, end, "stealstat_psi_cpu_some_ratio", "gauge",
		    "Share of the interval in which some task waited for a "
		    "CPU.");
		n = snprintf(p, (size_t)(end - p),
		    "stealstat_psi_cpu_some_ratio %.6g\n", iv->psi_some);
		p += n > 0 && n < end - p ? n : 0;
	}
	if (iv->have_cgroup) {
		prom_help(&p, end, "stealstat_cgroup_throttled_ratio", "gauge",
		    "Share of the interval the cgroup's CPU quota throttled "
		    "it.");
		n = snprintf(p, (size_t)(end - p),
		    "stealstat_cgroup_throttled_ratio %.6g\n", iv->throttled);
		p += n > 0 && n < end - p ? n : 0;
	}
	prom_help(&p, end, "stealstat_dropped_intervals_total", "counter",
	    "Intervals dropped as glitches (migration, suspend, hotplug).");
	n = snprintf(p, (size_t)(end - p),
	    "stealstat_dropped_intervals_total %u\n", e->run.glitches);
	p += n > 0 && n < end - p ? n : 0;
	if (p >= end - 1)
		return -ENOBUFS;
	return atomic_replace(r->prom_path, text, (size_t)(p - text), 0644);
}

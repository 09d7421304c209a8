/* SPDX-License-Identifier: ISC */
/*
 * Output. The table path runs once per sample, so it formats numbers by
 * hand into one buffer and writes it with one write(2): printf's floating
 * point would cost more than the whole sample.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "cmdopts.h"
#include "json.h"
#include "report.h"
#include "stealstat.h"
#include "timeutil.h"

void
report_init(struct report *r, int fd)
{
	/* Field by field: clearing the 32 KiB buffer would cost more
	 * instructions than twenty samples. */
	r->fd = fd;
	r->per_cpu = r->json = r->quiet = r->wide = false;
	r->cpus = NULL;
	r->prom_path = NULL;
	r->rows = 0;
	r->note = NULL;
	r->json_extra = NULL;
	r->have_worst = false;
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

/* Ends the JSON document in w (written into text) as one output line. */
static void
put_json_line(struct report *r, struct json_writer *w, const char *text)
{
	int n = json_finish(w);

	if (n > 0) {
		put(r, text, (size_t)n);
		put(r, "\n", 1);
	}
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

/* %spd appears once the speed probe has been seen, never before. */
static void
table_header(struct report *r, const struct engine *e)
{
	r->speed_col = e->speed_seen;
	puts_(r, r->per_cpu ? "time      cpu" : "time    ");
	puts_(r, "  %usr  %sys %idle %iowait %steal  run  %psi  %thr");
	puts_(r, r->speed_col ? "  %spd  verdict\n" : "  verdict\n");
}

static void
table_row(struct report *r, const struct engine *e, const struct interval *iv,
    const struct cpu_interval *ci)
{
	char why[REASON_MAX];
	size_t line = r->len;

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
	put_fixed1(r, ci->pct_iowait, 8);
	put_fixed1(r, ci->pct_steal, 7);
	if (ci->cpu < 0) {
		put_uint(r, iv->runnable, 5);
		put_fixed1(r, iv->have_psi ? 100 * iv->psi_some : -1, 6);
		put_fixed1(r, iv->have_cgroup ? 100 * iv->throttled : -1, 6);
	} else {
		puts_(r, "                 ");
	}
	if (r->speed_col)
		put_fixed1(r, ci->have_speed ? 100 * ci->speed : -1, 6);
	puts_(r, "  ");
	puts_(r, verdict_name(ci->verdict));
	/* The evidence goes with every verdict that asks for action; when
	 * it would pass column 100 it goes on the next line, under the
	 * numbers (--wide keeps it on the row). */
	if (ci->verdict != VERDICT_OK || ci->why == REASON_NOT_SUSTAINED) {
		const char *text = engine_reason(e, iv, ci, why, sizeof(why));

		if (r->wide || (r->len - line) + 2 + strlen(text) <= 100) {
			puts_(r, ": ");
		} else {
			puts_(r, ":\n");
			puts_(r, r->per_cpu ? "              " : "          ");
		}
		puts_(r, text);
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

	time_format_rfc3339(iv->wall_ns, 3, stamp, sizeof(stamp));
	json_init(&w, text, sizeof(text) - 1);
	json_object_begin(&w);
	json_kv_string(&w, "time", stamp);
	if (ci->cpu < 0) {
		json_kv_string(&w, "cpu", "all");
	} else {
		char id[16];

		snprintf(id, sizeof(id), "%d", ci->cpu);
		json_kv_string(&w, "cpu", id);
	}
	json_kv_double(
	    &w, "interval_s", (double)iv->elapsed_ns / NSEC_PER_SEC, 3);
	if (!iv->glitch) {
		json_kv_double(&w, "user", ci->pct_user, 2);
		json_kv_double(&w, "system", ci->pct_system, 2);
		json_kv_double(&w, "idle", ci->pct_idle, 2);
		json_kv_double(&w, "iowait", ci->pct_iowait, 2);
		json_kv_double(&w, "steal", ci->pct_steal, 2);
		json_kv_double(&w, "busy", 100 * ci->u, 2);
		json_kv_double(&w, "wanted_steal", 100 * ci->r, 2);
		json_kv_double_or_null(&w, "wake_delay_us",
		    ci->wake_delay_us >= 0, ci->wake_delay_us, 1);
		if (ci->cpu < 0) {
			json_kv_u64(&w, "running", iv->runnable);
			json_kv_double_or_null(&w, "psi_some", iv->have_psi,
			    100 * iv->psi_some, 2);
			json_kv_double_or_null(&w, "throttled", iv->have_cgroup,
			    100 * iv->throttled, 2);
			json_kv_double_or_null(&w, "nr_throttled",
			    iv->have_cgroup, (double)iv->nr_throttled, 0);
			json_kv_double_or_null(&w, "throttled_s",
			    iv->have_cgroup, iv->throttled_s, 3);
		}
		/* Only where the probe ran: older output stays as it was. */
		if (iv->have_speed) {
			json_kv_double_or_null(
			    &w, "speed", ci->have_speed, 100 * ci->speed, 2);
			json_kv_double_or_null(&w, "speed_lost_us",
			    ci->have_speed, ci->lost_us, 1);
		}
	}
	json_kv_string(&w, "verdict", verdict_name(ci->verdict));
	json_kv_string(
	    &w, "reason", engine_reason(e, iv, ci, why, sizeof(why)));
	json_object_end(&w);
	put_json_line(r, &w, text);
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
			if (cpu_list_has(r->cpus, iv->cpu[i].cpu))
				json_row(r, e, iv, &iv->cpu[i]);
		return flush(r);
	}
	if (r->per_cpu) {
		if (r->rows++ > 0)
			puts_(r, "\n");
		table_header(r, e);
	} else if (r->rows++ % 20 == 0 || r->speed_col != e->speed_seen) {
		table_header(r, e);
	}
	if (iv->glitch) {
		glitch_row(r, iv);
		return flush(r);
	}
	table_row(r, e, iv, &iv->total);
	for (unsigned i = 0; r->per_cpu && i < iv->ncpu; i++)
		if (cpu_list_has(r->cpus, iv->cpu[i].cpu))
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
	char text[24576], stamp[40]; /* with a report's speed_cpus */

	json_init(&w, text, sizeof(text) - 1);
	json_object_begin(&w);
	json_key(&w, "summary");
	json_bool(&w, true);
	json_kv_u64(&w, "intervals", rt->intervals);
	json_kv_u64(&w, "dropped", rt->glitches);
	json_kv_double(&w, "seconds", (double)rt->elapsed_ns / NSEC_PER_SEC, 3);
	json_kv_u64(&w, "cpus", rt->ncpu);
	if (rt->intervals > 0) {
		time_format_rfc3339(rt->start_wall_ns, 3, stamp, sizeof(stamp));
		json_kv_string(&w, "start", stamp);
		time_format_rfc3339(rt->end_wall_ns, 3, stamp, sizeof(stamp));
		json_kv_string(&w, "end", stamp);
	} else {
		json_key(&w, "start");
		json_null(&w);
		json_key(&w, "end");
		json_null(&w);
	}
	json_kv_double(&w, "steal", s->pct_steal, 3);
	json_kv_double(&w, "max_steal", rt->max_pct_steal, 2);
	json_kv_double(&w, "busy", 100 * s->u, 2);
	json_kv_double(&w, "wanted_steal", 100 * s->r, 2);
	json_kv_double_or_null(
	    &w, "psi_some", rt->have_psi, 100 * s->psi_some, 2);
	json_kv_double_or_null(
	    &w, "throttled", rt->have_cgroup, 100 * s->throttled, 2);
	json_kv_double_or_null(
	    &w, "wake_delay_us", s->wake_delay_us >= 0, s->wake_delay_us, 1);
	json_key(&w, "idle_poll");
	if (e->idle_poll[0] != '\0')
		json_string(&w, e->idle_poll);
	else
		json_null(&w);
	if (e->speed_seen)
		json_kv_double_or_null(
		    &w, "speed", s->speed >= 0, 100 * s->speed, 2);
	json_key(&w, "verdicts");
	json_object_begin(&w);
	for (int v = 0; v < VERDICT_MAX; v++)
		if (engine_verdict_shown(e, (enum verdict)v))
			json_kv_u64(&w, verdict_name((enum verdict)v),
			    v == VERDICT_GLITCH ? rt->glitches
			                        : rt->by_verdict[v]);
	json_object_end(&w);
	if (r->have_worst) {
		json_key(&w, "worst");
		json_object_begin(&w);
		time_format_rfc3339(r->worst_start_ns, 0, stamp, sizeof(stamp));
		json_kv_string(&w, "start", stamp);
		time_format_rfc3339(r->worst_end_ns, 0, stamp, sizeof(stamp));
		json_kv_string(&w, "end", stamp);
		json_kv_string(&w, "verdict", verdict_name(r->worst_verdict));
		json_kv_double(&w, "wanted_steal", 100 * r->worst_r, 2);
		json_object_end(&w);
	}
	if (r->json_extra != NULL)
		r->json_extra(&w, r->json_extra_arg);
	json_kv_string(&w, "verdict", verdict_name(s->verdict));
	json_kv_string(&w, "reason", s->reason);
	json_kv_string(&w, "advice", s->advice);
	json_object_end(&w);
	put_json_line(r, &w, text);
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
	    "\nsummary: %u interval%s over %.1f s on %u CPUs (%u dropped)\n",
	    rt->intervals, plural_s(rt->intervals),
	    (double)rt->elapsed_ns / NSEC_PER_SEC, rt->ncpu, rt->glitches);
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
			    "; cgroup throttled in %.1f%% of quota periods "
			    "(%llu of %llu)\n",
			    100 * s.throttled,
			    (unsigned long long)rt->nr_throttled,
			    (unsigned long long)rt->nr_periods);
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
	if (e->idle_poll[0] != '\0' && rt->ticks[COL_STEAL] > 0) {
		snprintf(line, sizeof(line),
		    "  note: idle vCPUs poll here (%s): a polling vCPU runs on "
		    "the host and can be preempted, so some of this steal may "
		    "have accrued while idle\n",
		    e->idle_poll);
		puts_(r, line);
	}
	puts_(r, "  intervals: ");
	verdict_counts(r, rt);
	puts_(r, "\n");
	if (r->note != NULL)
		puts_(r, r->note);
	snprintf(line, sizeof(line), "verdict: %s: %s\n",
	    verdict_name(s.verdict), s.reason);
	puts_(r, line);
	snprintf(line, sizeof(line), "advice: %s\n", s.advice);
	puts_(r, line);
	return flush(r);
}

/* The Prometheus text under construction; overflow sticks. */
struct prom_text {
	char buf[1 << 18];
	size_t len;
	bool overflow;
};

static void prom_printf(struct prom_text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
prom_printf(struct prom_text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(t->buf + t->len, sizeof(t->buf) - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(t->buf) - t->len)
		t->overflow = true;
	else
		t->len += (size_t)n;
}

static void
prom_help(
    struct prom_text *t, const char *name, const char *type, const char *help)
{
	prom_printf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The rows of an interval: the aggregate, then each CPU if computed. */
static unsigned
prom_rows(const struct interval *iv)
{
	return 1 + (iv->cpu_detail ? iv->ncpu : 0);
}

static const struct cpu_interval *
prom_row(const struct interval *iv, unsigned i, char *label, size_t size)
{
	const struct cpu_interval *ci = i == 0 ? &iv->total : &iv->cpu[i - 1];

	if (i == 0)
		snprintf(label, size, "all");
	else
		snprintf(label, size, "%d", ci->cpu);
	return ci;
}

int
report_prometheus(
    struct report *r, const struct engine *e, const struct interval *iv)
{
	static struct prom_text t;
	const struct cpu_interval *ci;
	char cpu[16];

	if (r->prom_path == NULL)
		return 0;
	t.len = 0;
	t.overflow = false;
	/* A dropped interval has no ratios, only its verdict. */
	if (!iv->glitch) {
		prom_help(&t, "stealstat_steal_ratio", "gauge",
		    "Share of all CPU time stolen by the hypervisor over the "
		    "last interval.");
		for (unsigned i = 0; i < prom_rows(iv); i++) {
			ci = prom_row(iv, i, cpu, sizeof(cpu));
			prom_printf(&t,
			    "stealstat_steal_ratio{cpu=\"%s\"} %.6g\n", cpu,
			    ci->pct_steal / 100);
		}
		prom_help(&t, "stealstat_wanted_steal_ratio", "gauge",
		    "Share of the CPU time the vCPU wanted that was stolen "
		    "(r).");
		for (unsigned i = 0; i < prom_rows(iv); i++) {
			ci = prom_row(iv, i, cpu, sizeof(cpu));
			prom_printf(&t,
			    "stealstat_wanted_steal_ratio{cpu=\"%s\"} %.6g\n",
			    cpu, ci->r);
		}
		prom_help(&t, "stealstat_busy_ratio", "gauge",
		    "How busy the vCPU wanted to be (u).");
		for (unsigned i = 0; i < prom_rows(iv); i++) {
			ci = prom_row(iv, i, cpu, sizeof(cpu));
			prom_printf(&t,
			    "stealstat_busy_ratio{cpu=\"%s\"} %.6g\n", cpu,
			    ci->u);
		}
		if (iv->have_psi) {
			prom_help(&t, "stealstat_psi_cpu_some_ratio", "gauge",
			    "Share of the interval in which some task waited "
			    "for a CPU.");
			prom_printf(&t, "stealstat_psi_cpu_some_ratio %.6g\n",
			    iv->psi_some);
		}
		if (iv->have_cgroup) {
			prom_help(&t, "stealstat_cgroup_throttled_ratio",
			    "gauge",
			    "Share of the cgroup's CPU quota periods in the "
			    "interval in which it was throttled.");
			prom_printf(&t,
			    "stealstat_cgroup_throttled_ratio %.6g\n",
			    iv->throttled);
		}
	}
	if (!iv->glitch && iv->have_speed) {
		prom_help(&t, "stealstat_cpu_speed_ratio", "gauge",
		    "Speed of the probe's fixed unit of work against the best "
		    "seen on that CPU (1: as fast as ever seen).");
		for (unsigned i = 0; i < prom_rows(iv); i++) {
			ci = prom_row(iv, i, cpu, sizeof(cpu));
			if (ci->have_speed)
				prom_printf(&t,
				    "stealstat_cpu_speed_ratio{cpu=\"%s\"} "
				    "%.6g\n",
				    cpu, ci->speed);
		}
	}
	prom_help(&t, "stealstat_verdict", "gauge",
	    "1 for the current verdict of each CPU, 0 for the others.");
	for (unsigned i = 0; i < prom_rows(iv); i++) {
		ci = prom_row(iv, i, cpu, sizeof(cpu));
		for (int v = 0; v < VERDICT_MAX; v++)
			if (engine_verdict_shown(e, (enum verdict)v))
				prom_printf(&t,
				    "stealstat_verdict{cpu=\"%s\",verdict=\"%"
				    "s\"} %d\n",
				    cpu, verdict_name((enum verdict)v),
				    ci->verdict == (enum verdict)v);
	}
	prom_help(&t, "stealstat_dropped_intervals_total", "counter",
	    "Intervals dropped as glitches (migration, suspend, hotplug).");
	prom_printf(
	    &t, "stealstat_dropped_intervals_total %u\n", e->run.glitches);
	if (t.overflow)
		return -ENOBUFS;
	/* Rewritten every interval: a crash costs nothing, so no fsync. */
	return atomic_replace_sync(
	    r->prom_path, t.buf, t.len, 0644, ATOMIC_SYNC_NONE);
}

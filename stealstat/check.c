/* SPDX-License-Identifier: ISC */
/*
 * The Nagios status of one interval. The status is the worse of two
 * judgements: steal of wanted time (r) against -w/-c, when the CPUs
 * wanted enough to make r meaningful, and the verdict through
 * --on-verdict (stolen and capped are at least WARNING). Perfdata gives
 * r only when it was judged, so an idle host's graph does not spike.
 */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "timeutil.h"

static const char *const status_word[] = {
    "OK", "WARNING", "CRITICAL", "UNKNOWN"};

void
check_opts_default(struct check_opts *o)
{
	*o = (struct check_opts){.warn = -1, .crit = -1};
	o->on_verdict[VERDICT_STOLEN] = NAGIOS_WARNING;
	o->on_verdict[VERDICT_CAPPED] = NAGIOS_WARNING;
}

int
check_on_verdict(const char *arg, struct check_opts *o)
{
	const char *p = arg;

	while (*p != '\0') {
		size_t n = strcspn(p, ",");
		const char *eq = memchr(p, '=', n);
		int v, st = -1;

		if (eq == NULL)
			return -EINVAL;
		for (v = 0; v < VERDICT_MAX; v++) {
			const char *name = verdict_name((enum verdict)v);

			if ((size_t)(eq - p) == strlen(name) &&
			    memcmp(p, name, strlen(name)) == 0)
				break;
		}
		for (int s = 0; s < NAGIOS_UNKNOWN; s++)
			if (strncasecmp(eq + 1, status_word[s],
			        n - (size_t)(eq + 1 - p)) == 0 &&
			    strlen(status_word[s]) == n - (size_t)(eq + 1 - p))
				st = s;
		if (v == VERDICT_MAX || st < 0)
			return -EINVAL;
		o->on_verdict[v] = (enum nagios)st;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

enum nagios
check_judge(const struct engine *e, const struct interval *iv,
    const struct check_opts *o, FILE *out)
{
	const struct cpu_interval *t = &iv->total;
	double seconds = (double)iv->elapsed_ns / NSEC_PER_SEC;
	/* CPUs' worth of time wanted: busy plus steal over the interval. */
	double wanted = seconds > 0 ? (double)(t->busy_ticks + t->steal_ticks) /
	                                  e->hz / seconds
	                            : 0;
	bool judged = wanted >= CHECK_MIN_WANTED;
	enum nagios by_r = NAGIOS_OK, by_v = o->on_verdict[t->verdict], st;
	char why[REASON_MAX];

	if (judged && t->r >= o->crit)
		by_r = NAGIOS_CRITICAL;
	else if (judged && t->r >= o->warn)
		by_r = NAGIOS_WARNING;
	st = by_r > by_v ? by_r : by_v;
	fprintf(out, "STEAL %s - ", status_word[st]);
	if (judged)
		fprintf(out,
		    "%.1f%% of wanted time stolen (warning %.0f%%, critical "
		    "%.0f%%)",
		    100 * t->r, 100 * o->warn, 100 * o->crit);
	else
		fprintf(out,
		    "steal of wanted time not judged: the CPUs wanted %.1f%% "
		    "of one CPU (under %.0f%%)",
		    100 * wanted, 100 * CHECK_MIN_WANTED);
	fprintf(out,
	    "; verdict %s%s: %s; steal %.1f%% of all time over %.1f s, "
	    "busy %.0f%%",
	    verdict_name(t->verdict), by_v > NAGIOS_OK ? " (--on-verdict)" : "",
	    engine_reason(e, iv, t, why, sizeof(why)), t->pct_steal, seconds,
	    100 * t->u);
	fprintf(out, " |");
	if (judged)
		fprintf(out, " wanted_steal=%.2f%%;%g;%g;0;100", 100 * t->r,
		    100 * o->warn, 100 * o->crit);
	fprintf(out,
	    " steal=%.2f%%;;;0;100 busy=%.2f%%;;;0;100 wanted_cpus=%.3f;;;0;",
	    t->pct_steal, 100 * t->u, wanted);
	if (iv->have_psi)
		fprintf(out, " psi_some=%.2f%%;;;0;100", 100 * iv->psi_some);
	if (iv->have_cgroup)
		fprintf(out, " throttled=%.2f%%;;;0;100", 100 * iv->throttled);
	fprintf(out, "\n");
	return st;
}

/* SPDX-License-Identifier: ISC */
/*
 * The verdict threshold options, shared by the subcommands.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "cmdopts.h"
#include "log.h"
#include "parse.h"
#include "stealstat.h"

int
cmdopts_verdict(int opt, const char *arg, struct verdict_opts *v, char *why,
    size_t why_size)
{
	static const char *const names[] = {"busy", "steal", "sustain",
	    "capped-util", "capped-spread", "psi", "runq", "throttle", "slow"};
	double *pct = NULL;
	uint32_t n;

	switch (opt) {
	case CMDOPT_BUSY:
		pct = &v->busy;
		break;
	case CMDOPT_STEAL:
		pct = &v->steal;
		break;
	case CMDOPT_CAPPED_UTIL:
		pct = &v->capped_util;
		break;
	case CMDOPT_CAPPED_SPREAD:
		pct = &v->capped_spread;
		break;
	case CMDOPT_PSI:
		pct = &v->psi;
		break;
	case CMDOPT_THROTTLE:
		pct = &v->throttle;
		break;
	case CMDOPT_SLOW:
		pct = &v->slow;
		break;
	case CMDOPT_SUSTAIN:
		if (parse_u32(arg, 1, ENGINE_WINDOW_MAX, &v->sustain) < 0) {
			snprintf(why, why_size,
			    "--sustain: '%s' is not a number of intervals "
			    "(1-%d)",
			    arg, ENGINE_WINDOW_MAX);
			return -EINVAL;
		}
		return 1;
	case CMDOPT_RUNQ:
		if (parse_u32(arg, 1, 1000, &n) < 0) {
			snprintf(why, why_size,
			    "--runq: '%s' is not a number of tasks per CPU "
			    "(1-1000)",
			    arg);
			return -EINVAL;
		}
		v->runq = n;
		return 1;
	default:
		return 0;
	}
	if (parse_percent(arg, pct) < 0) {
		snprintf(why, why_size,
		    "--%s: '%s' is not a percentage (0-100)",
		    names[opt - CMDOPT_BUSY], arg);
		return -EINVAL;
	}
	return 1;
}

void
cmdopts_usage_error(const char *sub, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_usage(sub, "%s", msg);
	exit(CLI_EXIT_USAGE);
}

int
cpu_list_parse(const char *s, struct cpu_list *out)
{
	struct cpu_list l = {.all = false, .n = 0};
	const char *p = s;

	if (strcasecmp(s, "ALL") == 0) {
		out->all = true;
		out->n = 0;
		return 0;
	}
	for (;;) {
		uint32_t lo = 0, hi;

		if (*p < '0' || *p > '9' || l.n == CPU_LIST_MAX)
			return -EINVAL;
		for (; *p >= '0' && *p <= '9'; p++)
			if ((lo = lo * 10 + (uint32_t)(*p - '0')) > CPU_ID_MAX)
				return -EINVAL;
		hi = lo;
		if (*p == '-') {
			if (*++p < '0' || *p > '9')
				return -EINVAL;
			for (hi = 0; *p >= '0' && *p <= '9'; p++)
				if ((hi = hi * 10 + (uint32_t)(*p - '0')) >
				    CPU_ID_MAX)
					return -EINVAL;
			if (hi < lo)
				return -EINVAL;
		}
		l.range[l.n].lo = lo;
		l.range[l.n++].hi = hi;
		if (*p == '\0')
			break;
		if (*p++ != ',')
			return -EINVAL;
	}
	*out = l;
	return 0;
}

bool
cpu_list_has(const struct cpu_list *l, int cpu)
{
	if (l == NULL || l->all)
		return true;
	for (unsigned i = 0; i < l->n; i++)
		if (cpu >= 0 && (uint32_t)cpu >= l->range[i].lo &&
		    (uint32_t)cpu <= l->range[i].hi)
			return true;
	return false;
}

static bool
has_id(const unsigned *ids, unsigned n, uint32_t cpu)
{
	for (unsigned i = 0; i < n; i++)
		if (ids[i] == cpu)
			return true;
	return false;
}

unsigned
cpu_list_missing(const struct cpu_list *l, const unsigned *ids, unsigned n,
    char *buf, size_t size, bool *some)
{
	unsigned missing = 0;
	size_t len = 0;

	if (size > 0)
		buf[0] = '\0';
	if (some != NULL)
		*some = l->all;
	if (l->all)
		return 0;
	for (unsigned r = 0; r < l->n; r++) {
		for (uint32_t c = l->range[r].lo; c <= l->range[r].hi; c++) {
			uint32_t end = c;
			int k;

			if (has_id(ids, n, c)) {
				if (some != NULL)
					*some = true;
				continue;
			}
			while (end < l->range[r].hi && !has_id(ids, n, end + 1))
				end++;
			missing += end - c + 1;
			k = end > c ? snprintf(buf + len, size - len, "%s%u-%u",
			                  len > 0 ? ", " : "", c, end)
			            : snprintf(buf + len, size - len, "%s%u",
			                  len > 0 ? ", " : "", c);
			if (k > 0 && (size_t)k < size - len)
				len += (size_t)k;
			c = end;
		}
	}
	return missing;
}

bool
cpu_list_looks_like(const char *s)
{
	/* As mpstat: "-P 1 5" is CPU 1 every 5 s; "-P 0.5" (a dot) is
	 * every CPU every 0.5 s.
	 * A word that starts like a list and is not a duration ("ALL,1",
	 * "2,x": a comma or a dash) is one, so a mistake in it is
	 * reported as a bad CPU list, not as a bad interval. */
	if (strncasecmp(s, "ALL", 3) == 0)
		return true;
	return *s >= '0' && *s <= '9' && !strchr(s, '.') &&
	       (s[strspn(s, "0123456789")] == '\0' || strpbrk(s, ",-") != NULL);
}

const char *
plural_s(unsigned long long n)
{
	return n == 1 ? "" : "s";
}

unsigned
stealstat_user_hz(void)
{
	long hz = sysconf(_SC_CLK_TCK);

	return hz > 0 ? (unsigned)hz : 100;
}

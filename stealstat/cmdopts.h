/* SPDX-License-Identifier: ISC */
/*
 * Command-line pieces the monitor and report subcommands share with live
 * mode: the verdict thresholds (same names, same meaning) and strict
 * number parsing with messages that name the option.
 */
#ifndef STEALSTAT_CMDOPTS_H
#define STEALSTAT_CMDOPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

enum {
	CMDOPT_BUSY = 512,
	CMDOPT_STEAL,
	CMDOPT_SUSTAIN,
	CMDOPT_CAPPED_UTIL,
	CMDOPT_CAPPED_SPREAD,
	CMDOPT_PSI,
	CMDOPT_RUNQ,
	CMDOPT_THROTTLE,
	CMDOPT_SLOW,
};

#define CMDOPTS_VERDICT_LONG                                                   \
	{"busy", required_argument, NULL, CMDOPT_BUSY},                        \
	    {"steal", required_argument, NULL, CMDOPT_STEAL},                  \
	    {"sustain", required_argument, NULL, CMDOPT_SUSTAIN},              \
	    {"capped-util", required_argument, NULL, CMDOPT_CAPPED_UTIL},      \
	    {"capped-spread", required_argument, NULL, CMDOPT_CAPPED_SPREAD},  \
	    {"psi", required_argument, NULL, CMDOPT_PSI},                      \
	    {"runq", required_argument, NULL, CMDOPT_RUNQ},                    \
	    {"slow", required_argument, NULL, CMDOPT_SLOW},                    \
	{                                                                      \
		"throttle", required_argument, NULL, CMDOPT_THROTTLE           \
	}

/*
 * Applies a verdict threshold option. Returns 1 if opt was one, 0 if
 * not, -EINVAL with why filled if arg is out of range.
 */
int cmdopts_verdict(int opt, const char *arg, struct verdict_opts *v, char *why,
    size_t why_size);

/*
 * A bad command line of subcommand sub ("monitor", "report"; NULL for
 * live mode): "stealstat: error: WHY" and a pointer to its --help
 * (log_usage, lib/log), then exit CLI_EXIT_USAGE.
 */
_Noreturn void cmdopts_usage_error(const char *sub, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The CPUs -P names: "ALL", or "0,2-3" (mpstat's forms). */
#define CPU_LIST_MAX 16
#define CPU_ID_MAX 65535
struct cpu_list {
	bool all;
	unsigned n;
	struct {
		uint32_t lo, hi;
	} range[CPU_LIST_MAX];
};

/*
 * Parses "ALL" (any case) or a comma-separated list of CPU numbers and
 * ranges LO-HI (LO <= HI <= CPU_ID_MAX), at most CPU_LIST_MAX items.
 * Returns 0, or -EINVAL with *out untouched. Pure: no I/O.
 */
int cpu_list_parse(const char *s, struct cpu_list *out);

/* Does the list hold cpu? A NULL list holds every CPU. */
bool cpu_list_has(const struct cpu_list *l, int cpu);

/*
 * Which CPUs of the list l are not among the n ids: written to buf as
 * "5, 7-9" (truncated to size). Returns how many are missing; *some (if
 * not NULL) tells whether any CPU of the list is among the ids. An
 * "ALL" list misses none. Pure: no I/O.
 */
unsigned cpu_list_missing(const struct cpu_list *l, const unsigned *ids,
    unsigned n, char *buf, size_t size, bool *some);

/*
 * Is s the word mpstat takes after -P ("ALL", "0,2-3")? Then "-P ALL 5"
 * is a list and an interval, not a flag and two operands.
 */
bool cpu_list_looks_like(const char *s);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * Command-line pieces the monitor and report subcommands share with live
 * mode: the verdict thresholds (same names, same meaning) and strict
 * number parsing with messages that name the option.
 */
#ifndef STEALSTAT_CMDOPTS_H
#define STEALSTAT_CMDOPTS_H

#include <getopt.h>
#include <stddef.h>

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
 * A bad command line of subcommand sub ("monitor", "report"): says why,
 * with a pointer to its --help, and exits 2.
 */
_Noreturn void cmdopts_usage_error(const char *sub, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif

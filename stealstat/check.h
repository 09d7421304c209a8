/* SPDX-License-Identifier: ISC */
/*
 * `stealstat check`, the Nagios plugin: the status of one interval from
 * what the man page says matters, steal of wanted time and the verdict.
 */
#ifndef STEALSTAT_CHECK_H
#define STEALSTAT_CHECK_H

#include <stdio.h>

#include "engine.h"

enum nagios { NAGIOS_OK, NAGIOS_WARNING, NAGIOS_CRITICAL, NAGIOS_UNKNOWN };

/* Steal of wanted time is judged only when the CPUs wanted this much of
 * one CPU: below it a few ticks of steal make a meaningless ratio. */
#define CHECK_MIN_WANTED 0.05

struct check_opts {
	double warn, crit; /* steal of wanted time, fractions */
	enum nagios on_verdict[VERDICT_MAX];
};

/* stolen and capped WARNING, the rest OK. */
void check_opts_default(struct check_opts *o);

/*
 * Parses --on-verdict "VERDICT=STATUS[,...]" (STATUS ok, warning or
 * critical) into o. Returns 0 or -EINVAL.
 */
int check_on_verdict(const char *arg, struct check_opts *o);

/*
 * Prints the status line with its performance data for the interval
 * iv and returns the status.
 */
enum nagios check_judge(const struct engine *e, const struct interval *iv,
    const struct check_opts *o, FILE *out);

#endif

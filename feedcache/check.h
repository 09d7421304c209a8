/* SPDX-License-Identifier: ISC */
/*
 * The operator's views of the cache that judge it: `check` (a Nagios /
 * Icinga plugin), `check-config`, and the staleness rule `status` and
 * the metrics share with them.
 */
#ifndef FEEDCACHE_CHECK_H
#define FEEDCACHE_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "feed.h"
#include "meta.h"

/* Nagios plugin exit codes. */
enum check_state {
	CHECK_OK = 0,
	CHECK_WARNING = 1,
	CHECK_CRITICAL = 2,
	CHECK_UNKNOWN = 3,
};

/*
 * The age (seconds since the origin last answered well) past which a
 * copy is stale: its interval, +10% jitter, plus max_backoff, the
 * longest a healthy schedule can leave it.
 */
int64_t feed_stale_after_s(const struct feed *f);

/* Is the copy m describes (have: a meta file was read) stale at now? */
bool feed_is_stale(
    const struct feed *f, const struct feed_meta *m, bool have, int64_t now);

/* check's options, read by main with the other commands' (lib/cli). */
struct check_args {
	uint64_t warn_ns, crit_ns; /* 0: the default */
	uint32_t max_fail;
};

void check_args_default(struct check_args *a);

/* check's usage (--help), to f. */
void check_usage(FILE *f);

/*
 * `feedcache check [-w AGE] [-c AGE | --max-age AGE] [--fail N] [NAME...]`
 * (names: the nnames NAMEs): prints one status line with perfdata,
 * returns the Nagios exit code.
 */
int cmd_check(const struct feedcache_conf *conf, const struct check_args *a,
    char **names, int nnames);

/*
 * `feedcache check-config`: conf was loaded (or not: err). Prints what it
 * found; returns 0, or 2 on an error.
 */
int cmd_check_config(const char *path);

#endif

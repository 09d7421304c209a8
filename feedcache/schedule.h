/* SPDX-License-Identifier: ISC */
/*
 * The scheduler: runs refreshes through one libcurl multi handle, ordered
 * by due time, at most max_parallel at once and one per origin. The
 * daemon runs it until stopped; `feedcache refresh` runs one pass.
 */
#ifndef FEEDCACHE_SCHEDULE_H
#define FEEDCACHE_SCHEDULE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "feed.h"
#include "fleet.h"
#include "meta.h"

struct sched_opts {
	bool daemon; /* until *stop; else one pass */
	bool force; /* one pass: ignore due times, not Retry-After */
	char *const *names; /* one pass: only these feeds (NULL: all) */
	size_t nnames;
	int wake_fd; /* readable when a signal arrived, or -1 */
	volatile sig_atomic_t *stop, *reload;
	void (*on_ready)(void); /* daemon: called once running */
};

/*
 * Runs the schedule over *conf. For a reload the daemon reloads conf in
 * place at once, transfers of unchanged feeds running on. Returns 0, or 1 if a
 * one-pass run had a feed that failed or could not run.
 */
int sched_run(struct feedcache_conf *conf, const struct sched_opts *o);

/*
 * Writes conf->metrics_file (Prometheus text, node_exporter textfile
 * format) atomically from stats[i] of conf->feeds[i], and the fleet
 * counters unless fleet is NULL. Returns 0 or -errno.
 */
int metrics_write(const struct feedcache_conf *conf,
    const struct feed_stats *stats, const struct fleet_counters *fleet,
    int64_t now);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * Rendering intervals and the run summary: the table, JSON lines and the
 * Prometheus textfile. Live mode and replay share it, so a replay prints
 * exactly what live mode did.
 */
#ifndef STEALSTAT_REPORT_H
#define STEALSTAT_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"

struct cpu_list;
struct json_writer;

struct report {
	int fd; /* where rows go (stdout) */
	bool per_cpu;
	const struct cpu_list *cpus; /* with per_cpu: who gets a row (NULL:
	                                all; cmdopts.h) */
	bool json;
	bool quiet; /* no rows, only the summary */
	bool wide; /* reasons stay on their row past column 100 */
	const char *prom_path; /* NULL: no Prometheus file */
	unsigned rows;
	/* The summary of a report over history: extra lines before the
	 * verdict, and the worst stretch for --json. */
	const char *note;
	bool have_worst;
	uint64_t worst_start_ns, worst_end_ns;
	enum verdict worst_verdict;
	double worst_r;
	/* More fields for the JSON summary (report's speed), or NULL. */
	void (*json_extra)(struct json_writer *w, const void *arg);
	const void *json_extra_arg;
	bool speed_col; /* the table has %spd (fixed at each header) */
	int64_t tz_offset_s; /* cached local time offset */
	uint64_t tz_valid_until_s;
	char buf[32768];
	size_t len;
};

void report_init(struct report *r, int fd);

/* Prints one interval. Returns 0 or -errno from writing. */
int report_interval(
    struct report *r, const struct engine *e, const struct interval *iv);

/*
 * Prints the verdict for the whole run with the numbers behind it and the
 * advice. Returns 0 or -errno.
 */
int report_summary(struct report *r, const struct engine *e);

/*
 * Writes the node_exporter textfile for the last interval, atomically.
 * Returns 0 or -errno.
 */
int report_prometheus(
    struct report *r, const struct engine *e, const struct interval *iv);

#endif

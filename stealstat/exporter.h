/* SPDX-License-Identifier: ISC */
/*
 * The monitor's Prometheus side: counters so rate() works over any
 * scrape interval, the text they render to, a /metrics listener served
 * from the monitor's own loop, and the node_exporter textfile.
 */
#ifndef STEALSTAT_EXPORTER_H
#define STEALSTAT_EXPORTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

#define EXPORTER_CONNS 8 /* clients served at once; more are closed */
#define EXPORTER_DEADLINE_NS (5 * 1000000000ULL) /* accept to last byte */
#define EXPORTER_REQUEST_MAX 2048

/* Per-CPU counters, in ticks, indexed by CPU id. */
struct exporter_cpu {
	bool seen;
	uint64_t steal, wanted, total;
	bool have_speed; /* the speed probe has measured this CPU */
	double speed; /* its latest speed, (0, 1] */
};

struct exporter_totals {
	unsigned hz;
	struct exporter_cpu *cpu;
	unsigned cpu_cap;
	double verdict_s[VERDICT_MAX]; /* of the aggregate */
	uint64_t dropped;
	enum verdict current;
	bool have_current;
	uint64_t history_bytes;
	bool have_history;
};

/* Folds one interval in. Returns 0 or -ENOMEM. */
int exporter_add(struct exporter_totals *t, const struct interval *iv);
void exporter_totals_free(struct exporter_totals *t);

/*
 * Renders the totals as Prometheus text into a malloc'd buffer (*out,
 * the caller frees). Returns the length or -ENOMEM.
 */
long exporter_render(const struct exporter_totals *t, char **out);

struct exporter_conn {
	int fd; /* -1: free */
	uint64_t deadline_ns;
	char req[EXPORTER_REQUEST_MAX];
	size_t req_len;
	char *resp;
	size_t resp_len, resp_off;
};

struct exporter {
	int listen_fd;
	struct exporter_conn conn[EXPORTER_CONNS];
};

/*
 * Listens on "ADDR:PORT" ("[::1]:PORT" for IPv6). Returns 0 or -errno
 * with why filled.
 */
int exporter_listen(
    struct exporter *x, const char *addr_port, char *why, size_t why_size);

/*
 * Serves clients until the monotonic deadline (or a signal sets *stop):
 * each connection gets one response and is closed, and is cut off
 * EXPORTER_DEADLINE_NS after it was accepted whatever it sends. x may
 * have no listener, then this only sleeps. Returns 0 or -errno.
 */
int exporter_wait(struct exporter *x, uint64_t deadline_ns,
    const struct exporter_totals *t, volatile int *stop);

void exporter_close(struct exporter *x);

/*
 * Parses the request head in buf: returns 0 while it is incomplete, else
 * the HTTP status to answer (200 for GET /metrics or /, 404, 405, 400).
 * *metrics tells /metrics from /. Pure, fuzzed.
 */
int exporter_parse_request(const char *buf, size_t len, bool *metrics);

/*
 * Checks at start that the textfile's directory takes a new file (the
 * file is written by rename from a temporary beside it). Returns 0 or
 * -errno.
 */
int textfile_check(const char *path);

#endif

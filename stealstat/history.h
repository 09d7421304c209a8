/* SPDX-License-Identifier: ISC */
/*
 * The history: what `stealstat monitor` keeps for months and `stealstat
 * report` judges later with the same engine as live mode.
 *
 * A directory of append-only segments NNNNNNNN.sth, oldest first, each a
 * sequence of records:
 *
 *	varint LEN | LEN bytes: KIND, PAYLOAD | CRC-32C (LE) of the above
 *
 * KIND 'H' (header, first in every segment): format version (1), USER_HZ,
 * the wall time of its first sample, how idle vCPUs poll, the host name. KIND
 *'K' (key sample): every counter absolute, the CPU ids. KIND 'D' (delta
 * sample): every counter as a zigzag varint difference from the sample
 * before it in the same segment. A sample's payload ends with extension
 * fields (varint TAG, varint LEN, LEN bytes) that readers skip when they
 * do not know the tag: new per-CPU fields go there without a version bump
 * (see history_ext in history.c; the speed probe's points are one). A
 * reader refuses a header version it
 * does not know.
 *
 * Appending a sample is one write(2) and one fdatasync(2) (a segment's
 * header goes in the same write as its first sample). A crash tears
 * at most the last record: its length or its CRC does not match, and the
 * reader ignores it. The writer never appends after a torn record: each
 * start of the monitor opens a new segment. A key sample every
 * HISTORY_KEY_EVERY samples bounds what a corrupt record in the middle
 * of a segment costs. Old segments are deleted whole.
 */
#ifndef STEALSTAT_HISTORY_H
#define STEALSTAT_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

#define HISTORY_VERSION 1
#define HISTORY_KEY_EVERY 360 /* an hour at 10 s */
#define HISTORY_RECORD_MAX (1u << 20)
#define HISTORY_SEGMENT_MAX_BYTES (256u << 20) /* a reader's limit */
#define HISTORY_SEGMENTS_MAX 4096
#define HISTORY_CPUS_MAX 16384 /* a reader's limit */

/* Sample flags: which optional sources the sample carries. */
#define HISTORY_HAVE_PSI (1u << 0)
#define HISTORY_HAVE_CGROUP (1u << 1)
#define HISTORY_HAVE_INTR (1u << 2)
#define HISTORY_HAVE_RUNNING (1u << 3)
#define HISTORY_NEW_RUN (1u << 4) /* first sample after a (re)start */

struct history_limits {
	uint64_t keep_ns; /* delete segments older than this (31 days) */
	uint64_t max_size; /* bytes, the whole directory (64 MiB) */
};

struct history_segment {
	uint32_t seq;
	uint64_t size;
	uint64_t start_wall_ns; /* from its header, 0 if unreadable */
};

/* The monitor's side. */
struct history_writer {
	int dir_fd, seg_fd;
	struct history_limits lim;
	unsigned hz;
	char idle_poll[64];
	char host[64];
	struct history_segment seg[HISTORY_SEGMENTS_MAX];
	unsigned nseg; /* the last one is being written */
	uint64_t seg_bytes_max; /* roll to a new segment past this */
	uint64_t seg_age_max_ns; /* or when it is this old */
	struct snapshot prev; /* what the next delta is taken against */
	bool have_prev, new_run;
	bool sync; /* fdatasync each sample (live); not for imports */
	bool seg_empty; /* no record yet: the header goes with the next */
	unsigned since_key;
	uint8_t *buf;
	size_t buf_size;
};

/*
 * Opens (creating it if needed) the history directory dir, takes its
 * lock (one monitor per directory), and starts a new segment. Returns 0,
 * or -errno with why filled ("another stealstat monitor holds DIR", ...).
 */
int history_open(struct history_writer *w, const char *dir,
    const struct history_limits *lim, unsigned hz, const char *idle_poll,
    char *why, size_t why_size);

/*
 * Appends s (with per-CPU detail) as one record, rolling to a new
 * segment and deleting old ones as the limits say. Returns 0 or -errno.
 */
int history_append(struct history_writer *w, const struct snapshot *s);

/* The bytes the history's segments hold, the one being written too. */
uint64_t history_size(const struct history_writer *w);

void history_close(struct history_writer *w);

/*
 * The report's side: one segment held in memory. Pure: no I/O, so it is
 * fuzzed.
 */
struct history_reader {
	const uint8_t *buf;
	size_t len, pos;
	unsigned version, hz;
	uint64_t start_wall_ns;
	char idle_poll[64];
	char host[64];
	struct snapshot cur; /* the sample just read */
	bool have_cur; /* cur holds a base the next delta applies to */
	unsigned flags; /* of the sample just read */
	struct speed_point *speed_spare; /* the next sample's speed goes here */
	unsigned speed_spare_cap;
	uint64_t records, corrupt; /* records read, records skipped */
	uint64_t torn_bytes; /* of an incomplete last record */
	char error[160];
};

/*
 * Checks the header record of the segment in buf (which must outlive
 * r). Returns 0, or -EINVAL / -ENOTSUP (a newer format) with r->error.
 */
int history_reader_open(
    struct history_reader *r, const uint8_t *buf, size_t len);

/*
 * Decodes the next sample into r->cur. Returns 1, 0 at the end (a torn
 * tail counted in r->torn_bytes), or -ENOMEM. Corrupt records in the
 * middle are skipped and counted; the deltas after one are skipped up to
 * the next key sample.
 */
int history_reader_next(struct history_reader *r);

void history_reader_free(struct history_reader *r);

/*
 * Lists the segments of the history in dir_fd, oldest first, into seg
 * (at most max). Returns how many, or -errno.
 */
int history_list(int dir_fd, struct history_segment *seg, unsigned max);

/* Copies src into dst, growing dst's CPU array. Returns 0 or -ENOMEM. */
int snapshot_copy(struct snapshot *dst, const struct snapshot *src);

#endif

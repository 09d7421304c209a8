/* SPDX-License-Identifier: ISC */
/*
 * The record format: raw snapshots in a text file, so a run can be
 * replayed exactly, shared in a bug report, and kept as a golden test.
 *
 *	stealstat-record 1
 *	hz 100
 *	idle-poll DESCRIPTION	(optional: how idle vCPUs poll, see idlepoll.h)
 *	# comments and blank lines are ignored between snapshots
 *	snapshot MONO_NS WALL_NS
 *	stat LEN
 *	<LEN bytes: /proc/stat as read>
 *	psi LEN			(optional)
 *	<LEN bytes: /proc/pressure/cpu>
 *	cgroup LEN		(optional)
 *	<LEN bytes: the cgroup's cpu.stat>
 *	speed LEN		(optional: the speed probe's blob, speed.h)
 *	<LEN bytes>
 *	end
 *
 * A snapshot without its "end" line is incomplete (a recorder killed
 * mid-write) and is reported, never used.
 */
#ifndef STEALSTAT_RECORD_H
#define STEALSTAT_RECORD_H

#include <stddef.h>

#include "snapshot.h"

#define RECORD_MAGIC "stealstat-record 1"
#define RECORD_MAX_BLOB (4u << 20)
/* The largest recording replay reads into memory. */
#define RECORD_MAX_BYTES (256u << 20)

struct record_reader {
	const char *name; /* for messages */
	const char *buf;
	size_t len, pos;
	unsigned line; /* line number at pos, from 1 */
	unsigned hz;
	char idle_poll[64]; /* "" when the recording says nothing */
	char error[256]; /* "NAME:LINE: what is wrong" */
};

/*
 * Checks the header of the record held in buf (which must outlive r).
 * Returns 0, or -EINVAL with r->error filled.
 */
int record_open(
    struct record_reader *r, const char *name, const char *buf, size_t len);

/*
 * Reads the next snapshot; out's text pointers point into the buffer.
 * Returns 1, 0 at the end of the record, or -EINVAL with r->error.
 */
int record_next(struct record_reader *r, struct raw_snapshot *out);

/* Writes the header; idle_poll may be "". Returns 0 or -errno. */
int record_write_header(int fd, unsigned hz, const char *idle_poll);

/* Appends one snapshot with a single writev. Returns 0 or -errno. */
int record_write_snapshot(int fd, const struct raw_snapshot *s);

#endif

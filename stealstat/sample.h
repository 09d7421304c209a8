/* SPDX-License-Identifier: ISC */
/*
 * The live sampler: the kernel files, kept open, read with one pread each
 * per sample into buffers sized once at start.
 */
#ifndef STEALSTAT_SAMPLE_H
#define STEALSTAT_SAMPLE_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "snapshot.h"

/* /proc/stat buffers: a 2-CPU VM needs ~3 KiB, 4096 CPUs some MiB. */
#define STAT_BUF_MIN (16 * 1024)
#define STAT_BUF_MAX (64 * 1024 * 1024)

struct sampler {
	int stat_fd, psi_fd, cgroup_fd; /* -1 when absent */
	char *stat_buf;
	size_t stat_size;
	char psi_buf[512];
	char cgroup_buf[1024];
	char stat_path[PATH_MAX];
	char cgroup_path[PATH_MAX]; /* "" when no cgroup is watched */
	int cgroup_error; /* -errno why cgroup_stat is not watched, or 0 */
};

/*
 * Opens PROC/stat (required), PROC/pressure/cpu (if present) and the
 * cgroup's cpu.stat: cgroup_stat if given, else the one found through
 * PROC/self/cgroup if that cgroup has a CPU quota, unless use_cgroup is
 * false. Returns 0 or -errno for
 * /proc/stat; the optional files are silently skipped when absent or
 * unreadable.
 */
int sampler_open(struct sampler *s, const char *proc_root,
    const char *cgroup_stat, bool use_cgroup);

/*
 * Reads every source into raw (pointing into the sampler's buffers,
 * valid until the next call). Returns 0 or -errno from /proc/stat.
 */
int sampler_read(struct sampler *s, struct raw_snapshot *raw);

void sampler_close(struct sampler *s);

/*
 * Reads the whole of a generated file (/proc/stat) with one pread at
 * offset 0 into *buf of *size bytes. The kernel makes the text afresh
 * on each read, so a second read further on could splice two different
 * snapshots: when a read fills the buffer, it doubles (up to max) and
 * the read starts over. Returns the length, or -errno (-EFBIG past max).
 */
ssize_t read_whole_at0(int fd, char **buf, size_t *size, size_t max);

#endif

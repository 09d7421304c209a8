/* SPDX-License-Identifier: ISC */
/*
 * Finding the cpu.stat file of the cgroup this process runs in.
 */
#ifndef STEALSTAT_CGROUP_H
#define STEALSTAT_CGROUP_H

#include <stddef.h>

/*
 * From the text of /proc/self/cgroup and /proc/self/mountinfo, works out
 * the path of this process's cpu.stat: the cgroup v1 "cpu" controller's
 * directory if one is mounted (hybrid systems keep it there), otherwise
 * the cgroup v2 directory. Pure. Returns 0, -ENOENT if neither is
 * mounted, -ENAMETOOLONG if out is too small.
 */
int cgroup_cpu_stat_path(const char *self_cgroup, size_t cgroup_len,
    const char *mountinfo, size_t mountinfo_len, char *out, size_t size);

/*
 * Is a CPU quota set? From cgroup v2 cpu.max ("max 100000" or
 * "50000 100000"), or from cgroup v1 cpu.cfs_quota_us ("-1" or "50000")
 * and cpu.cfs_period_us. Pure. Returns 1 and the quota in CPUs, 0 when
 * unlimited, -EINVAL when the text is not what the kernel writes.
 */
int cgroup_quota_v2(const char *cpu_max, size_t len, double *cpus);
int cgroup_quota_v1(const char *quota, size_t quota_len, const char *period,
    size_t period_len, double *cpus);

#endif

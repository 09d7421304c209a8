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

#endif

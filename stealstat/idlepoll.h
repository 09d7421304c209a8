/* SPDX-License-Identifier: ISC */
/*
 * Does an idle vCPU of this guest halt (and so accrue no steal on KVM or
 * Xen) or poll (and so keep running on the host, where it can be
 * preempted and accrue steal while idle)?
 */
#ifndef STEALSTAT_IDLEPOLL_H
#define STEALSTAT_IDLEPOLL_H

#include <stdbool.h>
#include <stddef.h>

/*
 * From the text of the cpuidle driver name, the haltpoll module's
 * guest_halt_poll_ns and the kernel command line (each may be NULL when
 * absent), describes how idle vCPUs poll, e.g. "cpuidle haltpoll, up to
 * 200 us" or "idle=poll". Pure. Returns true and the description in buf,
 * or false when idle vCPUs halt.
 */
bool idle_poll_describe(const char *driver, const char *poll_ns,
    const char *cmdline, char *buf, size_t size);

/*
 * Reads those files (under proc_root, and under /sys unless proc_root is
 * not "/proc") and describes the result as above.
 */
bool idle_poll_detect(const char *proc_root, char *buf, size_t size);

#endif

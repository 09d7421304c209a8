/* SPDX-License-Identifier: ISC */
/*
 * Monotonic and wall-clock time helpers, in nanoseconds.
 */
#ifndef TK_TIMEUTIL_H
#define TK_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#define NSEC_PER_USEC 1000ULL
#define NSEC_PER_MSEC 1000000ULL
#define NSEC_PER_SEC 1000000000ULL

uint64_t time_mono_ns(void); /* CLOCK_MONOTONIC */
/* CLOCK_MONOTONIC_RAW: not slewed by NTP, like the scheduler's clocks */
uint64_t time_mono_raw_ns(void);
uint64_t time_boot_ns(void); /* CLOCK_BOOTTIME: counts suspend too */
uint64_t time_wall_ns(void); /* CLOCK_REALTIME */
uint64_t time_thread_cpu_ns(void); /* CLOCK_THREAD_CPUTIME_ID */

/*
 * Sleeps until the CLOCK_MONOTONIC instant deadline_ns. Returns 0, or
 * -EINTR when a signal arrived first (the caller decides whether to go on).
 */
int time_sleep_until_ns(uint64_t deadline_ns);

/*
 * Formats wall_ns as RFC 3339 UTC with the given number of fractional
 * digits (0, 3, 6 or 9), e.g. "2026-11-26T05:15:26.123Z". Returns the
 * length written (excluding the NUL), -ENOBUFS if buf is too small
 * (32 bytes are always enough), or -EINVAL for other frac_digits.
 */
int time_format_rfc3339(
    uint64_t wall_ns, int frac_digits, char *buf, size_t size);

#endif

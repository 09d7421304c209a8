/* SPDX-License-Identifier: ISC */
/* timeutil.c: clocks in nanoseconds, absolute sleeps, RFC 3339 stamps. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timeutil.h"

/*
 * The clocks used here exist on every Linux we run on, so clock_gettime
 * cannot fail; 0 is returned if it ever did, rather than garbage.
 */
static uint64_t
clock_ns(clockid_t clock)
{
	struct timespec ts;

	if (clock_gettime(clock, &ts) == -1)
		return 0;
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t
time_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t
time_mono_raw_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC_RAW);
}

uint64_t
time_boot_ns(void)
{
	return clock_ns(CLOCK_BOOTTIME);
}

uint64_t
time_wall_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

uint64_t
time_thread_cpu_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

/*
 * An absolute deadline does not drift when the loop body runs late, and a
 * deadline already past returns at once.
 */
int
time_sleep_until_ns(uint64_t deadline_ns)
{
	struct timespec ts;
	int r;

	ts.tv_sec = (time_t)(deadline_ns / NSEC_PER_SEC);
	ts.tv_nsec = (long)(deadline_ns % NSEC_PER_SEC);
	/* clock_nanosleep returns the error number; it does not set errno. */
	r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	return -r;
}

int
time_format_rfc3339(uint64_t wall_ns, int frac_digits, char *buf, size_t size)
{
	static const uint32_t divisor[] = {
	    [0] = 1000000000, [3] = 1000000, [6] = 1000, [9] = 1};
	time_t secs = (time_t)(wall_ns / NSEC_PER_SEC);
	uint32_t nsec = (uint32_t)(wall_ns % NSEC_PER_SEC);
	char tmp[64];
	struct tm tm;
	int n;

	if (frac_digits < 0 || frac_digits > 9 || frac_digits % 3 != 0)
		return -EINVAL;
	if (gmtime_r(&secs, &tm) == NULL)
		return -EOVERFLOW;
	if (frac_digits == 0)
		n = snprintf(tmp, sizeof(tmp), "%04d-%02d-%02dT%02d:%02d:%02dZ",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec);
	else
		n = snprintf(tmp, sizeof(tmp),
		    "%04d-%02d-%02dT%02d:%02d:%02d.%0*uZ", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		    frac_digits, (unsigned)(nsec / divisor[frac_digits]));
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -EOVERFLOW;
	if ((size_t)n >= size)
		return -ENOBUFS;
	/* Copied only once it fits: buf is not touched on failure. */
	memcpy(buf, tmp, (size_t)n + 1);
	return n;
}

/* SPDX-License-Identifier: ISC */
/*
 * The subcommands that live in their own files, and what they share
 * with main.c.
 */
#ifndef STEALSTAT_STEALSTAT_H
#define STEALSTAT_STEALSTAT_H

/* `stealstat monitor ...` (argv[0] is "monitor"). Returns the exit status. */
int monitor_main(int argc, char **argv);

/* `stealstat report ...`. Returns the exit status. */
int window_main(int argc, char **argv);

/* "s" to follow a count of n things unless n is 1 (a static string). */
const char *plural_s(unsigned long long n);

/* USER_HZ, the unit of /proc/stat. */
unsigned stealstat_user_hz(void);

#endif

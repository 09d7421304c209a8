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

/* USER_HZ, the unit of /proc/stat. */
unsigned stealstat_user_hz(void);

#endif

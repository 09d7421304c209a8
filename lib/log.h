/* SPDX-License-Identifier: ISC */
/*
 * Logging to stderr with a level prefix. The only part of lib/ that prints.
 *
 * Lines look like "stealstat: warning: /proc/stat: Permission denied".
 * Under systemd (JOURNAL_STREAM names our stderr) the program name is
 * replaced by a syslog priority prefix such as "<4>", which journald turns
 * into the entry's priority.
 */
#ifndef TK_LOG_H
#define TK_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

/* progname is kept, not copied. Messages above max_level are dropped. */
void log_init(const char *progname, enum log_level max_level);
void log_set_level(enum log_level max_level);
enum log_level log_get_level(void);

/* log_warn and fatal append ": " and strerror(errno). */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * An error the program will exit on, but by its own exit status.
 * log_error appends ": " and strerror(errno), log_errorx does not.
 */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_errorx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * A bad command line: the reason as an error, then one line pointing at
 * the help of the command that was misused:
 *
 *	feedcache: error: unknown option '--bogus'
 *	Try 'feedcache status --help'.
 *
 * cmd is the subcommand ("status"), or NULL for the program itself. The
 * caller exits (CLI_EXIT_USAGE, lib/cli.h).
 */
void log_usage(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
_Noreturn void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Like log_warnx at an explicit level, with an explicit errno (0: none). */
void log_vmsg(enum log_level level, int errnum, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#endif

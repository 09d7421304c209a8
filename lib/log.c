/* SPDX-License-Identifier: ISC */
/* log.c: level-prefixed logging to stderr, journald-aware. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/* A line longer than this is cut short and ends in "...". */
#define LOG_LINE_MAX 2048

static const char *log_progname;
static enum log_level log_max_level = LOG_LEVEL_INFO;

void
log_init(const char *progname, enum log_level max_level)
{
	log_progname = progname;
	log_max_level = max_level;
}

void
log_set_level(enum log_level max_level)
{
	log_max_level = max_level;
}

enum log_level
log_get_level(void)
{
	return log_max_level;
}

/*
 * True when JOURNAL_STREAM ("DEV:INODE") names the file our stderr is
 * connected to. Checked on every line, not cached, so a program that
 * redirects stderr later (or a test) gets the plain format again.
 */
static int
log_stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev = 0, ino = 0;
	const char *p;
	struct stat st;

	if (env == NULL || *env == '\0')
		return 0;
	for (p = env; *p >= '0' && *p <= '9'; p++) {
		if (dev > (~0ULL - 9) / 10)
			return 0;
		dev = dev * 10 + (unsigned)(*p - '0');
	}
	if (p == env || *p != ':')
		return 0;
	env = ++p;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (ino > (~0ULL - 9) / 10)
			return 0;
		ino = ino * 10 + (unsigned)(*p - '0');
	}
	if (p == env || *p != '\0')
		return 0;
	if (fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

static const char *
log_level_word(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_ERROR:
		return "error: ";
	case LOG_LEVEL_WARNING:
		return "warning: ";
	case LOG_LEVEL_INFO:
		return "";
	case LOG_LEVEL_DEBUG:
		return "debug: ";
	}
	return "";
}

static int
log_syslog_priority(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_ERROR:
		return 3; /* LOG_ERR */
	case LOG_LEVEL_WARNING:
		return 4; /* LOG_WARNING */
	case LOG_LEVEL_INFO:
		return 6; /* LOG_INFO */
	case LOG_LEVEL_DEBUG:
		return 7; /* LOG_DEBUG */
	}
	return 6;
}

/* A line being built; text past cap is dropped and marked "...". */
struct log_line {
	char buf[LOG_LINE_MAX];
	size_t len;
	int truncated;
};

static void log_line_vappend(struct log_line *l, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
log_line_vappend(struct log_line *l, const char *fmt, va_list ap)
{
	const size_t cap = sizeof(l->buf) - 4; /* room for "...\n" */
	int n;

	if (l->truncated)
		return;
	n = vsnprintf(l->buf + l->len, cap - l->len + 1, fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n > cap - l->len) {
		l->len = cap;
		l->truncated = 1;
	} else
		l->len += (size_t)n;
}

static void log_line_append(struct log_line *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
log_line_append(struct log_line *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line_vappend(l, fmt, ap);
	va_end(ap);
}

/*
 * Writes the whole line with as few write(2) calls as the kernel allows
 * (one, for any line up to PIPE_BUF on a pipe), so that lines of several
 * processes sharing stderr do not interleave.
 */
static void
log_write_line(const char *line, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(STDERR_FILENO, line, len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return;
		}
		line += n;
		len -= (size_t)n;
	}
}

void
log_vmsg(enum log_level level, int errnum, const char *fmt, va_list ap)
{
	struct log_line line;
	char errbuf[128];
	int saved_errno = errno;

	if (level > log_max_level)
		return;

	line.len = 0;
	line.truncated = 0;
	if (log_stderr_is_journal())
		log_line_append(&line, "<%d>%s", log_syslog_priority(level),
		    log_level_word(level));
	else
		log_line_append(&line, "%s: %s",
		    log_progname != NULL ? log_progname
		                         : program_invocation_short_name,
		    log_level_word(level));
	log_line_vappend(&line, fmt, ap);
	if (errnum != 0)
		log_line_append(
		    &line, ": %s", strerror_r(errnum, errbuf, sizeof(errbuf)));
	if (line.truncated) {
		memcpy(line.buf + line.len, "...", 3);
		line.len += 3;
	}
	line.buf[line.len++] = '\n';
	log_write_line(line.buf, line.len);
	errno = saved_errno;
}

void
log_warn(const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_WARNING, saved_errno, fmt, ap);
	va_end(ap);
	errno = saved_errno;
}

void
log_warnx(const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_WARNING, 0, fmt, ap);
	va_end(ap);
	errno = saved_errno;
}

void
log_error(const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_ERROR, saved_errno, fmt, ap);
	va_end(ap);
	errno = saved_errno;
}

void
log_usage(const char *cmd, const char *fmt, ...)
{
	const char *prog =
	    log_progname != NULL ? log_progname : program_invocation_short_name;
	struct log_line line;
	int saved_errno = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_ERROR, 0, fmt, ap);
	va_end(ap);
	line.len = 0;
	line.truncated = 0;
	log_line_append(&line, "Try '%s%s%s --help'.", prog,
	    cmd != NULL ? " " : "", cmd != NULL ? cmd : "");
	line.buf[line.len++] = '\n';
	log_write_line(line.buf, line.len);
	errno = saved_errno;
}

void
log_errorx(const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_ERROR, 0, fmt, ap);
	va_end(ap);
	errno = saved_errno;
}

void
log_info(const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_INFO, 0, fmt, ap);
	va_end(ap);
	errno = saved_errno;
}

void
log_debug(const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_DEBUG, 0, fmt, ap);
	va_end(ap);
	errno = saved_errno;
}

void
fatal(const char *fmt, ...)
{
	int saved_errno = errno;
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_ERROR, saved_errno, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LEVEL_ERROR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

/* SPDX-License-Identifier: ISC */
/* test_log.c: the exact lines a user or journald sees on stderr. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "log.h"

static int saved_stderr = -1;
static int capture_fd = -1;
static char captured[8192];

/* Points stderr at an in-memory file until capture_end. */
static void
capture_begin(void)
{
	capture_fd = memfd_create("stderr", MFD_CLOEXEC);
	assert_true(capture_fd >= 0);
	saved_stderr = dup(STDERR_FILENO);
	assert_true(saved_stderr >= 0);
	assert_int_equal(dup2(capture_fd, STDERR_FILENO), STDERR_FILENO);
}

/* Restores stderr (so failures can be reported) and returns the text. */
static const char *
capture_end(void)
{
	ssize_t n;

	assert_int_equal(dup2(saved_stderr, STDERR_FILENO), STDERR_FILENO);
	close(saved_stderr);
	assert_int_equal(lseek(capture_fd, 0, SEEK_SET), 0);
	n = read(capture_fd, captured, sizeof(captured) - 1);
	assert_true(n >= 0);
	captured[n] = '\0';
	close(capture_fd);
	return captured;
}

static int
setup(void **state)
{
	(void)state;
	unsetenv("JOURNAL_STREAM");
	log_init("tktest", LOG_LEVEL_INFO);
	return 0;
}

static void
test_warn_appends_errno(void **state)
{
	char want[256];
	const char *got;

	(void)state;
	snprintf(want, sizeof(want), "tktest: warning: open %s: %s\n",
	    "/etc/x.conf", strerror(ENOENT));
	capture_begin();
	errno = ENOENT;
	log_warn("open %s", "/etc/x.conf");
	assert_int_equal(errno, ENOENT); /* errno survives the call */
	got = capture_end();
	assert_string_equal(got, want);
	assert_string_equal(got,
	    "tktest: warning: open /etc/x.conf: No such file or directory\n");
}

static void
test_warnx_has_no_errno(void **state)
{
	const char *got;

	(void)state;
	capture_begin();
	errno = EACCES;
	log_warnx("feed %s: bad line %d", "eu-1", 12);
	assert_int_equal(errno, EACCES);
	log_info("started, %u feeds", 3u);
	assert_int_equal(errno, EACCES);
	got = capture_end();
	assert_string_equal(got, "tktest: warning: feed eu-1: bad line 12\n"
	                         "tktest: started, 3 feeds\n");
}

/* A bad command line: the reason, then where the help is. */
static void
test_usage_points_at_help(void **state)
{
	const char *got;

	(void)state;
	capture_begin();
	log_usage(NULL, "unknown option '%s'", "-x");
	log_usage("status", "extra operand '%s'", "foo");
	got = capture_end();
	assert_string_equal(got, "tktest: error: unknown option '-x'\n"
	                         "Try 'tktest --help'.\n"
	                         "tktest: error: extra operand 'foo'\n"
	                         "Try 'tktest status --help'.\n");
}

/* Even when the write itself fails, the caller's errno is kept. */
static void
test_errno_kept_when_write_fails(void **state)
{
	int saved, ro;

	(void)state;
	saved = dup(STDERR_FILENO);
	assert_true(saved >= 0);
	ro = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(ro >= 0);
	assert_int_equal(dup2(ro, STDERR_FILENO), STDERR_FILENO);
	errno = ENOENT;
	log_warn("lost");
	log_warnx("lost");
	log_info("lost");
	assert_int_equal(errno, ENOENT);
	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	close(ro);
}

static void
test_level_filter(void **state)
{
	const char *got;

	(void)state;
	log_set_level(LOG_LEVEL_WARNING);
	assert_int_equal(log_get_level(), LOG_LEVEL_WARNING);
	capture_begin();
	log_info("hidden info");
	log_debug("hidden debug");
	log_warnx("shown");
	got = capture_end();
	assert_string_equal(got, "tktest: warning: shown\n");

	log_set_level(LOG_LEVEL_DEBUG);
	capture_begin();
	log_debug("tick %d", 1);
	got = capture_end();
	assert_string_equal(got, "tktest: debug: tick 1\n");

	log_set_level(LOG_LEVEL_ERROR);
	capture_begin();
	log_warnx("hidden warning");
	got = capture_end();
	assert_string_equal(got, "");
}

static void vmsg(enum log_level level, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
vmsg(enum log_level level, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, errnum, fmt, ap);
	va_end(ap);
}

static void
test_vmsg_explicit_errno(void **state)
{
	char want[256];
	const char *got;

	(void)state;
	snprintf(
	    want, sizeof(want), "tktest: error: cache: %s\n", strerror(ENOSPC));
	capture_begin();
	errno = 0;
	vmsg(LOG_LEVEL_ERROR, ENOSPC, "cache");
	vmsg(LOG_LEVEL_INFO, 0, "no errno");
	got = capture_end();
	assert_int_equal(strncmp(got, want, strlen(want)), 0);
	assert_string_equal(got + strlen(want), "tktest: no errno\n");
}

/* Under systemd, the priority prefix replaces the program name. */
static void
test_journal_prefix(void **state)
{
	char env[64], want[256];
	struct stat st;
	const char *got;

	(void)state;
	log_set_level(LOG_LEVEL_DEBUG);
	capture_begin();
	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", env, 1);
	errno = EPERM;
	log_warn("probe");
	log_warnx("plain");
	log_info("info");
	log_debug("debug");
	vmsg(LOG_LEVEL_ERROR, 0, "error");
	/* A JOURNAL_STREAM naming another file is not ours: plain format. */
	snprintf(env, sizeof(env), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", env, 1);
	log_warnx("not journal");
	setenv("JOURNAL_STREAM", "garbage", 1);
	log_warnx("still not");
	got = capture_end();
	unsetenv("JOURNAL_STREAM");

	snprintf(want, sizeof(want),
	    "<4>warning: probe: %s\n"
	    "<4>warning: plain\n"
	    "<6>info\n"
	    "<7>debug: debug\n"
	    "<3>error: error\n"
	    "tktest: warning: not journal\n"
	    "tktest: warning: still not\n",
	    strerror(EPERM));
	assert_string_equal(got, want);
}

static void
test_long_line_is_cut(void **state)
{
	char msg[5000];
	const char *got;
	size_t len;

	(void)state;
	memset(msg, 'z', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	capture_begin();
	errno = EIO;
	log_warn("%s", msg);
	log_warnx("after");
	got = capture_end();
	len = strcspn(got, "\n");
	assert_true(len > 1000 && len < 4096);
	assert_int_equal(strncmp(got, "tktest: warning: zzz", 20), 0);
	assert_int_equal(strncmp(got + len - 3, "...", 3), 0);
	assert_string_equal(got + len + 1, "tktest: warning: after\n");
}

/* fatal logs with errno and exits 1; fatalx without errno. */
static void
check_fatal(int with_errno)
{
	char buf[512], want[256];
	int pfd[2], status;
	ssize_t n, total = 0;
	pid_t pid;

	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pfd[1], STDERR_FILENO);
		close(pfd[0]);
		errno = EACCES;
		if (with_errno)
			fatal("open %s", "/var/lib/x");
		fatalx("bad config line %d", 7);
	}
	close(pfd[1]);
	while ((n = read(
	            pfd[0], buf + total, sizeof(buf) - 1 - (size_t)total)) > 0)
		total += n;
	buf[total] = '\0';
	close(pfd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	if (with_errno)
		snprintf(want, sizeof(want),
		    "tktest: error: open /var/lib/x: %s\n", strerror(EACCES));
	else
		snprintf(
		    want, sizeof(want), "tktest: error: bad config line 7\n");
	assert_string_equal(buf, want);
}

static void
test_fatal(void **state)
{
	(void)state;
	check_fatal(1);
	check_fatal(0);
	/* Errors are shown even at the quietest level. */
	log_set_level(LOG_LEVEL_ERROR);
	check_fatal(0);
}

/*
 * Several processes log to one pipe at once. Each line must arrive whole:
 * that holds only if every line is a single write(2).
 */
static void
test_concurrent_lines_do_not_mix(void **state)
{
	enum { WRITERS = 4, LINES = 500, WIDTH = 300 };
	static char all[WRITERS * LINES * (WIDTH + 64)];
	char body[WIDTH + 1], go;
	int pfd[2], gate[2], status, w, i, count = 0;
	size_t total = 0;
	ssize_t n;
	pid_t pids[WRITERS];
	char *line, *save = NULL;

	(void)state;
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(pipe(gate), 0);
	for (w = 0; w < WRITERS; w++) {
		pids[w] = fork();
		assert_true(pids[w] >= 0);
		if (pids[w] == 0) {
			close(pfd[0]);
			close(gate[1]);
			dup2(pfd[1], STDERR_FILENO);
			memset(body, 'a' + w, WIDTH);
			body[WIDTH] = '\0';
			/* Start together, when the parent closes the gate. */
			if (read(gate[0], &go, 1) < 0)
				_exit(2);
			for (i = 0; i < LINES; i++)
				log_warnx("%d %s", w, body);
			_exit(0);
		}
	}
	close(pfd[1]);
	close(gate[0]);
	close(gate[1]);
	while ((n = read(pfd[0], all + total, sizeof(all) - 1 - total)) > 0)
		total += (size_t)n;
	all[total] = '\0';
	close(pfd[0]);
	for (w = 0; w < WRITERS; w++) {
		assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
		assert_int_equal(status, 0);
	}

	for (line = strtok_r(all, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		int who;

		assert_int_equal(strncmp(line, "tktest: warning: ", 17), 0);
		who = line[17] - '0';
		assert_true(who >= 0 && who < WRITERS);
		assert_int_equal(strlen(line), 17 + 2 + WIDTH);
		for (i = 0; i < WIDTH; i++)
			assert_int_equal(line[19 + i], 'a' + who);
		count++;
	}
	assert_int_equal(count, WRITERS * LINES);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_warn_appends_errno, setup),
	    cmocka_unit_test_setup(test_warnx_has_no_errno, setup),
	    cmocka_unit_test_setup(test_usage_points_at_help, setup),
	    cmocka_unit_test_setup(test_errno_kept_when_write_fails, setup),
	    cmocka_unit_test_setup(test_level_filter, setup),
	    cmocka_unit_test_setup(test_vmsg_explicit_errno, setup),
	    cmocka_unit_test_setup(test_journal_prefix, setup),
	    cmocka_unit_test_setup(test_long_line_is_cut, setup),
	    cmocka_unit_test_setup(test_fatal, setup),
	    cmocka_unit_test_setup(test_concurrent_lines_do_not_mix, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: ISC */
/* test_readfile.c: whole files up to a bound, from disk and from pipes. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "readfile.h"

static char path[4096];

static void
write_file(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void
test_regular(void **state)
{
	struct stat st;
	size_t len = 0;
	char *buf = NULL;

	(void)state;
	write_file("hello\n");
	assert_int_equal(read_file_max(path, 6, &buf, &len, &st), 0);
	assert_int_equal(len, 6);
	assert_string_equal(buf, "hello\n"); /* NUL-terminated */
	assert_true(S_ISREG(st.st_mode));
	free(buf);
	assert_int_equal(read_file_max(path, 5, &buf, &len, NULL), -EFBIG);
	write_file("");
	assert_int_equal(read_file_max(path, 0, &buf, &len, NULL), 0);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);
	unlink(path);
	assert_int_equal(read_file_max(path, 5, &buf, &len, NULL), -ENOENT);
	assert_int_equal(read_file_max("/", 5, &buf, &len, NULL), -EISDIR);
}

/* A pipe has no size to trust: the buffer grows, and max still holds. */
static void
test_pipe(void **state)
{
	static char big[100000];
	size_t len = 0;
	char *buf = NULL;
	int fd[2];

	(void)state;
	memset(big, 'x', sizeof(big));
	for (size_t max = sizeof(big) - 1; max <= sizeof(big); max++) {
		assert_int_equal(pipe(fd), 0);
		if (fork() == 0) {
			close(fd[0]);
			(void)!write(fd[1], big, sizeof(big));
			_exit(0);
		}
		close(fd[1]);
		if (max < sizeof(big)) {
			assert_int_equal(
			    read_fd_max(fd[0], max, &buf, &len, NULL), -EFBIG);
		} else {
			assert_int_equal(
			    read_fd_max(fd[0], max, &buf, &len, NULL), 0);
			assert_int_equal(len, sizeof(big));
			assert_int_equal(buf[len], '\0');
			free(buf);
		}
		close(fd[0]);
		wait(NULL);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_regular),
	    cmocka_unit_test(test_pipe),
	};
	const char *dir = getenv("TK_TEST_TMPDIR");

	snprintf(path, sizeof(path), "%s/readfile.%ld", dir ? dir : "/tmp",
	    (long)getpid());
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: ISC */
/* test_atomicfile.c: readers see the old file or the new one, never less. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "atomicfile.h"

/* A fresh directory per test, under the build tree's scratch space. */
struct scratch {
	char dir[PATH_MAX];
	char target[PATH_MAX + 16];
};

static int
scratch_setup(void **state)
{
	const char *base = getenv("TK_TEST_TMPDIR");
	struct scratch *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return -1;
	if (base == NULL || *base == '\0')
		base = "/tmp";
	snprintf(s->dir, sizeof(s->dir), "%s/atomicfile.XXXXXX", base);
	if (mkdtemp(s->dir) == NULL) {
		free(s);
		return -1;
	}
	snprintf(s->target, sizeof(s->target), "%s/state.json", s->dir);
	*state = s;
	return 0;
}

static int
scratch_teardown(void **state)
{
	struct scratch *s = *state;
	struct dirent *de;
	char path[PATH_MAX * 2];
	DIR *d;

	if ((d = opendir(s->dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.' &&
			    (de->d_name[1] == '\0' ||
			        (de->d_name[1] == '.' &&
			            de->d_name[2] == '\0')))
				continue;
			snprintf(
			    path, sizeof(path), "%s/%s", s->dir, de->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(s->dir);
	free(s);
	return 0;
}

/* Number of entries in dir other than "." and "..". */
static int
count_entries(const char *dir)
{
	struct dirent *de;
	int n = 0;
	DIR *d;

	assert_non_null(d = opendir(dir));
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

/* The file's whole content, NUL-terminated, in buf. */
static void
read_all(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	assert_true((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0);
	n = read(fd, buf, size - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
}

static void
write_plain(const char *path, const char *text, mode_t mode)
{
	int fd;

	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	                 mode)) >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static mode_t
file_mode(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static void
test_create_mode_ignores_umask(void **state)
{
	struct scratch *s = *state;
	const char text[] = "{\"steal\":0.25}\n";
	char got[64];
	mode_t old_umask;
	int r;

	old_umask = umask(077);
	r = atomic_replace(s->target, text, strlen(text), 0644);
	umask(old_umask);
	assert_int_equal(r, 0);

	read_all(s->target, got, sizeof(got));
	assert_string_equal(got, text);
	assert_int_equal(file_mode(s->target), 0644);
	assert_int_equal(count_entries(s->dir), 1); /* no temp left */
}

static void
test_replace_existing(void **state)
{
	struct scratch *s = *state;
	struct stat before, after;
	char got[64];

	write_plain(s->target, "old content, longer than the new\n", 0644);
	assert_int_equal(stat(s->target, &before), 0);

	assert_int_equal(atomic_replace(s->target, "new\n", 4, 0600), 0);
	read_all(s->target, got, sizeof(got));
	assert_string_equal(got, "new\n");
	assert_int_equal(file_mode(s->target), 0600);
	/* A new inode: readers holding the old file keep a whole old file. */
	assert_int_equal(stat(s->target, &after), 0);
	assert_true(before.st_ino != after.st_ino);
	assert_int_equal(count_entries(s->dir), 1);

	/* Setuid and sticky bits pass through; file type bits do not. */
	assert_int_equal(atomic_replace(s->target, "x", 1, S_IFREG | 02640), 0);
	assert_int_equal(file_mode(s->target), 02640);
}

static void
test_empty_and_relative(void **state)
{
	struct scratch *s = *state;
	char cwd[PATH_MAX], path[PATH_MAX + 16], got[16];

	assert_int_equal(atomic_replace(s->target, NULL, 0, 0644), 0);
	read_all(s->target, got, sizeof(got));
	assert_string_equal(got, "");

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(s->dir), 0);
	assert_int_equal(atomic_replace("relative.txt", "rel", 3, 0644), 0);
	assert_int_equal(chdir(cwd), 0);
	snprintf(path, sizeof(path), "%s/relative.txt", s->dir);
	read_all(path, got, sizeof(got));
	assert_string_equal(got, "rel");
	assert_int_equal(count_entries(s->dir), 2);
}

static void
test_missing_directory(void **state)
{
	struct scratch *s = *state;
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/no-such-dir/state.json", s->dir);
	assert_int_equal(atomic_replace(path, "x", 1, 0644), -ENOENT);
	assert_int_equal(count_entries(s->dir), 0);

	snprintf(path, sizeof(path), "%s/", s->dir);
	assert_int_equal(atomic_replace(path, "x", 1, 0644), -EISDIR);
	assert_int_equal(atomic_replace("", "x", 1, 0644), -EINVAL);
	assert_int_equal(count_entries(s->dir), 0);
}

/*
 * A write that fails half-way (here: the file size limit, as a full disk
 * would) must leave the old file exactly as it was and no temp behind.
 */
static void
test_failed_write_keeps_target(void **state)
{
	struct scratch *s = *state;
	char big[4096], got[64];
	struct rlimit saved, small;
	void (*old_handler)(int);
	int r;

	write_plain(s->target, "precious\n", 0640);
	memset(big, 'A', sizeof(big));

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
	small = saved;
	small.rlim_cur = 100;
	old_handler = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	r = atomic_replace(s->target, big, sizeof(big), 0644);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
	signal(SIGXFSZ, old_handler);

	assert_int_equal(r, -EFBIG);
	read_all(s->target, got, sizeof(got));
	assert_string_equal(got, "precious\n");
	assert_int_equal(file_mode(s->target), 0640);
	assert_int_equal(count_entries(s->dir), 1);
}

static void
test_commit_after_failed_write(void **state)
{
	struct scratch *s = *state;
	struct atomic_file af;
	struct rlimit saved, small;
	void (*old_handler)(int);
	char big[512], got[64];

	write_plain(s->target, "precious\n", 0644);
	memset(big, 'B', sizeof(big));
	assert_int_equal(atomic_file_open(&af, s->target, 0644), 0);

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
	small = saved;
	small.rlim_cur = 100;
	old_handler = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	assert_int_equal(atomic_file_write(&af, big, sizeof(big)), -EFBIG);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
	signal(SIGXFSZ, old_handler);

	/* The truncated data must never be installed. */
	assert_int_equal(atomic_file_write(&af, "x", 1), -EBADF);
	assert_int_equal(atomic_file_commit(&af), -EBADF);
	atomic_file_abort(&af); /* harmless after commit */
	read_all(s->target, got, sizeof(got));
	assert_string_equal(got, "precious\n");
	assert_int_equal(count_entries(s->dir), 1);
}

static void
test_stepwise_and_abort(void **state)
{
	struct scratch *s = *state;
	struct atomic_file af;
	char got[64];

	write_plain(s->target, "v1\n", 0644);

	assert_int_equal(atomic_file_open(&af, s->target, 0644), 0);
	assert_true(fcntl(af.fd, F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(af.dir_fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(strncmp(af.tmp_name, ".state.json.", 12), 0);
	assert_int_equal(atomic_file_write(&af, "v2 ", 3), 0);
	assert_int_equal(atomic_file_write(&af, "in parts\n", 9), 0);
	/* Until commit, readers still see the old file. */
	read_all(s->target, got, sizeof(got));
	assert_string_equal(got, "v1\n");
	assert_int_equal(count_entries(s->dir), 2);
	assert_int_equal(atomic_file_commit(&af), 0);
	assert_int_equal(af.fd, -1);
	read_all(s->target, got, sizeof(got));
	assert_string_equal(got, "v2 in parts\n");
	assert_int_equal(count_entries(s->dir), 1);

	assert_int_equal(atomic_file_open(&af, s->target, 0644), 0);
	assert_int_equal(atomic_file_write(&af, "v3\n", 3), 0);
	atomic_file_abort(&af);
	atomic_file_abort(&af); /* twice is harmless */
	atomic_file_abort(NULL);
	read_all(s->target, got, sizeof(got));
	assert_string_equal(got, "v2 in parts\n");
	assert_int_equal(count_entries(s->dir), 1);
}

/*
 * A reader in another process opens the target over and over while it is
 * replaced: it must always find the file, and always whole.
 */
static void
test_target_never_missing(void **state)
{
	struct scratch *s = *state;
	static const char *const versions[] = {
	    "first version, whole\n", "second, also whole and a bit longer\n"};
	int status, i;
	pid_t reader;

	assert_int_equal(
	    atomic_replace(s->target, versions[0], strlen(versions[0]), 0644),
	    0);
	reader = fork();
	assert_true(reader >= 0);
	if (reader == 0) {
		char got[128];

		for (i = 0; i < 20000; i++) {
			ssize_t n;
			int fd = open(s->target, O_RDONLY | O_CLOEXEC);

			if (fd == -1)
				_exit(1);
			n = read(fd, got, sizeof(got) - 1);
			close(fd);
			if (n < 0)
				_exit(2);
			got[n] = '\0';
			if (strcmp(got, versions[0]) != 0 &&
			    strcmp(got, versions[1]) != 0)
				_exit(3);
		}
		_exit(0);
	}
	for (i = 0; i < 300; i++) {
		const char *v = versions[i % 2 == 0 ? 1 : 0];

		assert_int_equal(
		    atomic_replace(s->target, v, strlen(v), 0644), 0);
	}
	assert_int_equal(waitpid(reader, &status, 0), reader);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(count_entries(s->dir), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_create_mode_ignores_umask,
	        scratch_setup, scratch_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_replace_existing, scratch_setup, scratch_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_empty_and_relative, scratch_setup, scratch_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_missing_directory, scratch_setup, scratch_teardown),
	    cmocka_unit_test_setup_teardown(test_failed_write_keeps_target,
	        scratch_setup, scratch_teardown),
	    cmocka_unit_test_setup_teardown(test_commit_after_failed_write,
	        scratch_setup, scratch_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_stepwise_and_abort, scratch_setup, scratch_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_target_never_missing, scratch_setup, scratch_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

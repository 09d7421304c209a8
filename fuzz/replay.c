/* SPDX-License-Identifier: ISC */
/*
 * Runs a libFuzzer harness over saved inputs without libFuzzer, so every
 * seed corpus is also an ordinary test under ASan/UBSan:
 *
 *	fuzz_NAME DIR|FILE...
 *
 * Each regular file in each directory (sorted by name), or each file
 * given, is read into a buffer of exactly its size, so that a read past
 * the end trips ASan, and passed to LLVMFuzzerTestOneInput(). Exits 1
 * when an argument is missing or a directory holds no files: a replay
 * that ran nothing must not pass.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
/* Present only in sanitized builds; names the input that killed us. */
void __sanitizer_set_death_callback(void (*callback)(void))
    __attribute__((weak));

static const char *current_input;

static void
name_current_input(void)
{
	if (current_input != NULL)
		fprintf(stderr, "replay: died on input %s\n", current_input);
}

/* Reads path into a malloc'ed buffer of its exact size. Returns 0/-1. */
static int
read_input(const char *path, uint8_t **out, size_t *out_len)
{
	struct stat st;
	uint8_t *buf;
	size_t len = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	/* malloc(0) gives a valid pointer that no byte may be read from. */
	if ((buf = malloc((size_t)st.st_size)) == NULL && st.st_size > 0) {
		fprintf(stderr, "replay: %s: out of memory\n", path);
		close(fd);
		return -1;
	}
	while (len < (size_t)st.st_size) {
		n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "replay: %s: %s\n", path,
			    n == 0 ? "file shrank while read"
			           : strerror(errno));
			free(buf);
			close(fd);
			return -1;
		}
		len += (size_t)n;
	}
	close(fd);
	*out = buf;
	*out_len = len;
	return 0;
}

static int
run_one(const char *path)
{
	uint8_t *data = NULL;
	size_t len = 0;

	if (read_input(path, &data, &len) == -1)
		return -1;
	current_input = path;
	LLVMFuzzerTestOneInput(data, len);
	current_input = NULL;
	free(data);
	return 0;
}

/* Runs every regular file in dir, sorted; returns how many, or -1. */
static long
run_dir(const char *dir)
{
	struct dirent **names;
	char path[4096];
	struct stat st;
	long count = 0;
	int n, i, failed = 0;

	if ((n = scandir(dir, &names, NULL, alphasort)) == -1) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (failed)
			goto next;
		if (snprintf(path, sizeof(path), "%s/%s", dir,
		        names[i]->d_name) >= (int)sizeof(path)) {
			fprintf(stderr, "replay: %s/%s: path too long\n", dir,
			    names[i]->d_name);
			failed = 1;
			goto next;
		}
		if (stat(path, &st) == -1 || !S_ISREG(st.st_mode))
			goto next;
		if (run_one(path) == -1)
			failed = 1;
		else
			count++;
	next:
		free(names[i]);
	}
	free(names);
	return failed ? -1 : count;
}

int
main(int argc, char **argv)
{
	struct stat st;
	long count;
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
		return 1;
	}
	if (__sanitizer_set_death_callback)
		__sanitizer_set_death_callback(name_current_input);
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);

	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == -1) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
			    strerror(errno));
			return 1;
		}
		if (S_ISDIR(st.st_mode))
			count = run_dir(argv[i]);
		else
			count = run_one(argv[i]) == 0 ? 1 : -1;
		if (count < 0)
			return 1;
		if (count == 0) {
			fprintf(
			    stderr, "replay: %s: no inputs to run\n", argv[i]);
			return 1;
		}
		printf("replay: %ld inputs from %s\n", count, argv[i]);
	}
	return 0;
}

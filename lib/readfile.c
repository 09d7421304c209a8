/* SPDX-License-Identifier: ISC */
/* readfile.c: whole files of bounded size. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "readfile.h"

int
read_fd_max(int fd, size_t max, char **out, size_t *out_len, struct stat *st)
{
	struct stat sb;
	size_t cap = 16384, len = 0;
	char *buf, *grown;
	ssize_t n;
	int e;

	if (st == NULL)
		st = &sb;
	if (fstat(fd, st) == -1)
		return -errno;
	if (S_ISDIR(st->st_mode))
		return -EISDIR;
	if (S_ISREG(st->st_mode)) {
		if ((size_t)st->st_size > max)
			return -EFBIG;
		cap =
		    (size_t)st->st_size + 1; /* one read, and one to see EOF */
	}
	if ((buf = malloc(cap)) == NULL)
		return -ENOMEM;
	for (;;) {
		if (len == cap) {
			/* A full buffer of max + 1: more than max. */
			if (cap > max) {
				free(buf);
				return -EFBIG;
			}
			cap = cap > max / 2 ? max + 1 : cap * 2;
			if ((grown = realloc(buf, cap)) == NULL) {
				free(buf);
				return -ENOMEM;
			}
			buf = grown;
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			e = errno;
			free(buf);
			return -e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0'; /* len < cap: a full buffer grows before a read */
	*out = buf;
	*out_len = len;
	return 0;
}

int
read_file_max(
    const char *path, size_t max, char **buf, size_t *len, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	int r;

	if (fd == -1)
		return -errno;
	r = read_fd_max(fd, max, buf, len, st);
	close(fd);
	return r;
}

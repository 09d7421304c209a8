/* SPDX-License-Identifier: ISC */
/*
 * Reading a whole file of bounded size: configurations, keys, token
 * lists, recordings.
 */
#ifndef TK_READFILE_H
#define TK_READFILE_H

#include <stddef.h>
#include <sys/stat.h>

/*
 * Reads all of fd (a regular file, a pipe) into a malloc'ed buffer with
 * a NUL after the last byte, not counted in *len; the caller frees *buf.
 * st, when not NULL, gets the file's fstat. Returns 0, -EISDIR,
 * -EFBIG when there are more than max bytes, or -errno.
 */
int read_fd_max(int fd, size_t max, char **buf, size_t *len, struct stat *st);

/* The same for the file at path, opened read-only. */
int read_file_max(
    const char *path, size_t max, char **buf, size_t *len, struct stat *st);

#endif

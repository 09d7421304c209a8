/* SPDX-License-Identifier: ISC */
/* atomicfile.c: replace a file so readers see old or new, never a mix. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"

/* Largest single write(2); Linux moves at most about 2 GiB per call. */
#define ATOMIC_WRITE_CHUNK (1U << 30)

/* The final component of path, or NULL if it names no file. */
static const char *
path_base(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash != NULL ? slash + 1 : path;

	if (*base == '\0' || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return NULL;
	return base;
}

/* Closes and frees everything af holds, except the temporary file. */
static void
atomic_file_release(struct atomic_file *af)
{
	if (af->fd >= 0)
		(void)close(af->fd);
	af->fd = -1;
	if (af->dir_fd >= 0)
		(void)close(af->dir_fd);
	af->dir_fd = -1;
	free(af->path);
	af->path = NULL;
	free(af->tmp_name);
	af->tmp_name = NULL;
}

/* Closes and removes the temporary file; af keeps its directory. */
static void
atomic_file_discard_tmp(struct atomic_file *af)
{
	if (af->fd >= 0)
		(void)close(af->fd);
	af->fd = -1;
	if (af->tmp_name != NULL && af->dir_fd >= 0)
		(void)unlinkat(af->dir_fd, af->tmp_name, 0);
	free(af->tmp_name);
	af->tmp_name = NULL;
}

/*
 * Opens the directory of path and creates ".BASE.XXXXXX" in it. The
 * temporary file must live in the target's directory: rename(2) is only
 * atomic within one file system. Its mode is set with fchmod, which the
 * umask does not affect, before any data is in it.
 */
static int
atomic_file_open_common(
    struct atomic_file *af, const char *path, mode_t mode, bool fixed)
{
	struct atomic_file new = {.fd = -1, .dir_fd = -1};
	const char *base;
	char *dir = NULL, *tmpl = NULL;
	size_t dir_len, tmpl_size;
	int r;

	if (af == NULL || path == NULL || *path == '\0')
		return -EINVAL;
	if ((base = path_base(path)) == NULL)
		return -EISDIR;

	if (base == path)
		dir = strdup(".");
	else if (base == path + 1)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(base - path - 1));
	if (dir == NULL)
		return -ENOMEM;
	dir_len = strlen(dir);

	tmpl_size = dir_len + strlen(base) + sizeof("/..XXXXXX");
	if ((tmpl = malloc(tmpl_size)) == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	memcpy(tmpl, dir, dir_len);
	tmpl[dir_len] = '/';
	tmpl[dir_len + 1] = '.';
	memcpy(tmpl + dir_len + 2, base, strlen(base));
	memcpy(
	    tmpl + tmpl_size - sizeof(".XXXXXX"), ".XXXXXX", sizeof(".XXXXXX"));
	if (fixed)
		memcpy(tmpl + tmpl_size - sizeof(".XXXXXX"), ".tmp",
		    sizeof(".tmp"));

	if ((new.path = strdup(path)) == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	new.dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (new.dir_fd == -1) {
		r = -errno;
		goto fail;
	}
	if (fixed) {
		/* Whatever a killed writer left there (perhaps another
		 * user's file, which we could not open) is replaced, not
		 * reused: the caller's lock makes the name ours. */
		if (unlink(tmpl) == -1 && errno != ENOENT) {
			r = -errno;
			goto fail;
		}
		new.fd = open(tmpl,
		    O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	} else
		new.fd = mkostemp(tmpl, O_CLOEXEC);
	if (new.fd == -1) {
		r = -errno;
		goto fail;
	}
	if ((new.tmp_name = strdup(tmpl + dir_len + 1)) == NULL) {
		r = -ENOMEM;
		(void)unlink(tmpl);
		goto fail;
	}
	if (fchmod(new.fd, mode & 07777) == -1) {
		r = -errno;
		atomic_file_discard_tmp(&new);
		goto fail;
	}
	free(dir);
	free(tmpl);
	*af = new;
	return 0;

fail:
	atomic_file_release(&new);
	free(dir);
	free(tmpl);
	return r;
}

int
atomic_file_open(struct atomic_file *af, const char *path, mode_t mode)
{
	return atomic_file_open_common(af, path, mode, false);
}

int
atomic_file_open_fixed(struct atomic_file *af, const char *path, mode_t mode)
{
	return atomic_file_open_common(af, path, mode, true);
}

/*
 * A failed write abandons the replacement at once (the temporary file is
 * removed), so that a later commit cannot install a truncated file: it
 * fails with -EBADF instead.
 */
int
atomic_file_write(struct atomic_file *af, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;
	int r;

	if (af == NULL || (buf == NULL && len > 0))
		return -EINVAL;
	if (af->fd < 0)
		return -EBADF;
	while (len > 0) {
		n = write(af->fd, p,
		    len > ATOMIC_WRITE_CHUNK ? ATOMIC_WRITE_CHUNK : len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			r = -errno;
			atomic_file_discard_tmp(af);
			return r;
		}
		if (n == 0) {
			/* A regular file never does this; do not spin on it. */
			atomic_file_discard_tmp(af);
			return -EIO;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * The data is made durable before the rename, so a crash cannot leave the
 * target name pointing at an empty or partial file; the directory fsync
 * then makes the rename itself durable.
 */
int
atomic_file_commit(struct atomic_file *af)
{
	const char *base;
	int r;

	if (af == NULL)
		return -EINVAL;
	if (af->fd < 0 || af->tmp_name == NULL || af->path == NULL) {
		atomic_file_discard_tmp(af);
		atomic_file_release(af);
		return -EBADF;
	}
	if (af->sync != ATOMIC_SYNC_NONE && fsync(af->fd) == -1) {
		r = -errno;
		goto fail;
	}
	/* close can report a delayed write error (NFS): check it. */
	r = close(af->fd);
	af->fd = -1;
	if (r == -1) {
		r = -errno;
		goto fail;
	}
	base = path_base(af->path);
	if (renameat(af->dir_fd, af->tmp_name, af->dir_fd, base) == -1) {
		r = -errno;
		goto fail;
	}
	free(af->tmp_name);
	af->tmp_name = NULL;
	r = af->sync == ATOMIC_SYNC_ALL && fsync(af->dir_fd) == -1 ? -errno : 0;
	atomic_file_release(af);
	return r;

fail:
	atomic_file_discard_tmp(af);
	atomic_file_release(af);
	return r;
}

void
atomic_file_abort(struct atomic_file *af)
{
	if (af == NULL)
		return;
	atomic_file_discard_tmp(af);
	atomic_file_release(af);
}

int
atomic_replace(const char *path, const void *buf, size_t len, mode_t mode)
{
	return atomic_replace_sync(path, buf, len, mode, ATOMIC_SYNC_ALL);
}

int
atomic_replace_sync(const char *path, const void *buf, size_t len, mode_t mode,
    enum atomic_sync sync)
{
	struct atomic_file af;
	int r;

	r = atomic_file_open(&af, path, mode);
	if (r < 0)
		return r;
	af.sync = sync;
	r = atomic_file_write(&af, buf, len);
	if (r < 0) {
		atomic_file_abort(&af);
		return r;
	}
	return atomic_file_commit(&af);
}

/* SPDX-License-Identifier: ISC */
/*
 * Atomic replacement of a file that other programs read: a reader sees the
 * old complete file or the new complete file, never a mix, and never a
 * missing file once one existed.
 *
 * The sequence: temporary file in the same directory (O_CLOEXEC,
 * mkostemp), fchmod to the requested mode, write, fsync, rename over the
 * target, fsync of the directory. On any failure the temporary file is
 * removed and the target is left as it was.
 */
#ifndef TK_ATOMICFILE_H
#define TK_ATOMICFILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * How much a commit forces to disk. ATOMIC_SYNC_ALL (the default) is the
 * full sequence. ATOMIC_SYNC_DATA skips the directory fsync: after a
 * power loss the old file may be back, but never a partial new one.
 * ATOMIC_SYNC_NONE skips both, for files whose loss only costs work
 * (the rename still keeps readers from ever seeing a partial file).
 */
enum atomic_sync {
	ATOMIC_SYNC_ALL,
	ATOMIC_SYNC_DATA,
	ATOMIC_SYNC_NONE,
};

struct atomic_file {
	int fd; /* the temporary file, -1 when closed */
	enum atomic_sync sync; /* ATOMIC_SYNC_ALL unless set after open */
	int dir_fd; /* the directory holding path */
	char *path; /* target path, owned */
	char *tmp_name; /* temporary file's name within dir_fd, owned */
};

/*
 * Starts a replacement of path. The temporary file is created with mode.
 * Returns 0 or -errno; on failure af needs no cleanup.
 */
int atomic_file_open(struct atomic_file *af, const char *path, mode_t mode);

/*
 * As atomic_file_open, but the temporary file is always ".BASE.tmp",
 * replaced if it exists (whoever owns it). Only for callers that serialize
 * every writer of path (with a lock): a temporary left by a writer that was
 * killed is then reused instead of piling up.
 */
int atomic_file_open_fixed(
    struct atomic_file *af, const char *path, mode_t mode);

/*
 * Appends len bytes, retrying short writes. Returns 0 or -errno; after a
 * failure the temporary file is already gone and atomic_file_commit
 * fails with -EBADF (call it or atomic_file_abort to release af).
 */
int atomic_file_write(struct atomic_file *af, const void *buf, size_t len);

/*
 * fsyncs, renames over the target and fsyncs the directory. Always
 * releases af. Returns 0 or -errno; the target is unchanged unless the
 * error came from the final fsync of the directory (the new file is in
 * place then, but its rename may not survive a crash).
 */
int atomic_file_commit(struct atomic_file *af);

/*
 * Abandons the replacement, removing the temporary file. NULL-safe, and
 * harmless on an af already released by commit.
 */
void atomic_file_abort(struct atomic_file *af);

/* The whole sequence for a buffer held in memory. Returns 0 or -errno. */
int atomic_replace(const char *path, const void *buf, size_t len, mode_t mode);

/* The same with a chosen sync level (see enum atomic_sync). */
int atomic_replace_sync(const char *path, const void *buf, size_t len,
    mode_t mode, enum atomic_sync sync);

#endif

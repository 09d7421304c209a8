/* SPDX-License-Identifier: ISC */
/*
 * image-check. Every clone of an image starts with the image's files; the
 * ones below must be unique per machine, or every clone shares a secret
 * or an identity. --fix removes them so each clone makes its own at first
 * boot (sshd's keygen, systemd's machine-id setup, the random seed
 * service, cloud-init).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "imagecheck.h"

struct finding {
	const char *path; /* under root */
	const char *why;
	enum { FIX_REMOVE, FIX_TRUNCATE, FIX_REMOVE_TREE } fix;
	bool link_ok; /* a symlink here is the distribution's, not a copy */
};

static const struct finding fixed_paths[] = {
    {"/etc/machine-id",
        "every clone would have the same machine ID (journald, DHCP "
        "client IDs, D-Bus); an empty file makes systemd generate one at "
        "first boot",
        FIX_TRUNCATE, false},
    /* Debian and Ubuntu make it a symlink to /etc/machine-id. */
    {"/var/lib/dbus/machine-id", "a second copy of the machine ID", FIX_REMOVE,
        true},
    {"/var/lib/systemd/random-seed",
        "every clone would credit the same saved seed to its kernel pool "
        "at boot",
        FIX_REMOVE, false},
    {"/var/cache/pollinate/seeded",
        "pollinate would never seed a clone: it runs once per disk", FIX_REMOVE,
        false},
    {"/var/lib/cloud/instance",
        "cloud-init would treat a clone as the same instance and skip "
        "per-instance setup (host keys, passwords)",
        FIX_REMOVE_TREE, false},
    {"/var/lib/cloud/instances",
        "cloud-init's per-instance state, including the image builder's",
        FIX_REMOVE_TREE, false},
};

static int
remove_tree(int parent, const char *name)
{
	struct stat st;
	int fd, rc = 0;
	DIR *d;
	struct dirent *de;

	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(parent, name, 0) < 0 ? -errno : 0;
	if ((fd = openat(parent, name,
	         O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return -errno;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if ((rc = remove_tree(dirfd(d), de->d_name)) < 0)
			break;
	}
	closedir(d);
	if (rc == 0 && unlinkat(parent, name, AT_REMOVEDIR) < 0)
		rc = -errno;
	return rc;
}

/*
 * Opens directory rel (no leading slash) of the tree at rootfd, resolving
 * each symlink on the way as the image itself would: an absolute link in
 * a mounted image must not lead --fix out of it into this machine's own
 * files. Returns an fd or -errno.
 */
static int
open_dir_in_root(int rootfd, const char *rel)
{
	struct open_how how = {
	    .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	long fd = syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));

	return fd < 0 ? -errno : (int)fd;
}

/* Applies a fix to name in directory dirfd. */
static int
apply(int dirfd, const char *rel, int fix)
{
	int fd;

	switch (fix) {
	case FIX_TRUNCATE: {
		/* Only a regular file with no other name: a hard link to a
		 * host file, or a FIFO swapped in, is left alone. */
		struct stat st;
		int rc = 0;

		fd = openat(
		    dirfd, rel, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (fd < 0)
			return -errno;
		if (fstat(fd, &st) < 0)
			rc = -errno;
		else if (!S_ISREG(st.st_mode) || st.st_nlink != 1)
			rc = -EPERM;
		else if (ftruncate(fd, 0) < 0)
			rc = -errno;
		close(fd);
		return rc;
	}
	case FIX_REMOVE_TREE:
		return remove_tree(dirfd, rel);
	default:
		return unlinkat(dirfd, rel, 0) < 0 ? -errno : 0;
	}
}

/* path is the finding under root, name its last part, in dirfd. */
static int
report(FILE *out, int dirfd, const char *name, const char *root,
    const char *path, const char *why, int fix, bool do_fix)
{
	int rc;

	if (!do_fix) {
		fprintf(out, "%s%s: %s\n", strcmp(root, "/") ? root : "", path,
		    why);
		return 0;
	}
	rc = apply(dirfd, name, fix);
	fprintf(out, "%s%s: %s%s\n", strcmp(root, "/") ? root : "", path,
	    rc == 0 ? (fix == FIX_TRUNCATE ? "emptied" : "removed")
	            : "could not fix: ",
	    rc == 0 ? "" : strerror(-rc));
	return rc;
}

int
image_check(const char *root, bool fix, FILE *out)
{
	int rootfd, found = 0;
	struct stat st;
	DIR *d;
	struct dirent *de;
	char path[512], dir[512];
	int dirfd;

	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -errno;
	for (size_t i = 0; i < sizeof(fixed_paths) / sizeof(fixed_paths[0]);
	     i++) {
		const struct finding *f = &fixed_paths[i];
		const char *name = strrchr(f->path, '/') + 1;

		snprintf(dir, sizeof(dir), "%.*s", (int)(name - f->path - 2),
		    f->path + 1);
		if ((dirfd = open_dir_in_root(rootfd, dir)) < 0) {
			/* Absent is clean; anything else is not "clean". */
			if (dirfd == -ENOENT || dirfd == -ENOTDIR)
				continue;
			close(rootfd);
			return dirfd;
		}
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			close(dirfd);
			continue;
		}
		/* An empty machine-id is the right state for an image, and
		 * a link_ok symlink is not a copy. */
		if ((f->fix == FIX_TRUNCATE && st.st_size == 0) ||
		    (f->link_ok && S_ISLNK(st.st_mode))) {
			close(dirfd);
			continue;
		}
		found++;
		report(out, dirfd, name, root, f->path, f->why, f->fix, fix);
		close(dirfd);
	}
	/* SSH host keys: every clone would answer as the same server. */
	if ((dirfd = open_dir_in_root(rootfd, "etc/ssh")) < 0 &&
	    dirfd != -ENOENT && dirfd != -ENOTDIR) {
		close(rootfd);
		return dirfd;
	}
	if (dirfd >= 0) {
		if ((d = fdopendir(dirfd)) == NULL)
			close(dirfd);
		while (d != NULL && (de = readdir(d)) != NULL) {
			if (strncmp(de->d_name, "ssh_host_", 9) != 0 ||
			    strstr(de->d_name, "_key") == NULL)
				continue;
			snprintf(path, sizeof(path), "/etc/ssh/%s", de->d_name);
			found++;
			report(out, dirfd, de->d_name, root, path,
			    "an SSH host key: every clone would present the "
			    "same identity and share its private key",
			    FIX_REMOVE, fix);
		}
		if (d != NULL)
			closedir(d);
	}
	close(rootfd);
	return found;
}

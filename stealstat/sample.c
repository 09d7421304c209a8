/* SPDX-License-Identifier: ISC */
/*
 * Live sampling. Cost matters (a monitor must not be what it measures):
 * the files stay open and each sample is one pread per file into a buffer
 * sized at start, with no allocation in the steady state.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "sample.h"
#include "timeutil.h"

static int
open_ro(const char *path)
{
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* Reads a whole small file once, for discovery. Returns length or -1. */
static ssize_t
slurp(const char *path, char *buf, size_t size)
{
	int fd = open_ro(path);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size);
	close(fd);
	return n >= 0 && (size_t)n < size ? n : -1;
}

/* pread of the whole file; a full buffer means it may be cut. */
static ssize_t
read_at0(int fd, char *buf, size_t size)
{
	ssize_t n;

	do
		n = pread(fd, buf, size, 0);
	while (n < 0 && errno == EINTR);
	return n;
}

static void
find_cgroup(struct sampler *s, const char *proc_root)
{
	static char cg[8192], mi[65536];
	char path[PATH_MAX];
	ssize_t ncg, nmi;

	snprintf(path, sizeof(path), "%s/self/cgroup", proc_root);
	ncg = slurp(path, cg, sizeof(cg));
	snprintf(path, sizeof(path), "%s/self/mountinfo", proc_root);
	nmi = slurp(path, mi, sizeof(mi));
	if (ncg < 0 || nmi < 0 ||
	    cgroup_cpu_stat_path(cg, (size_t)ncg, mi, (size_t)nmi,
	        s->cgroup_path, sizeof(s->cgroup_path)) < 0)
		s->cgroup_path[0] = '\0';
}

/*
 * Throttling is only possible under a CPU quota, so an unlimited cgroup
 * is not sampled at all: one file fewer to read on every sample. When
 * the quota files cannot be read the cgroup is watched anyway.
 */
static bool
cgroup_is_limited(struct sampler *s)
{
	char dir[PATH_MAX], path[PATH_MAX + 32], a[64], b[64];
	double quota_cpus;
	ssize_t na, nb;
	size_t dlen = strlen(s->cgroup_path);
	int rc;

	if (dlen < 9 || strcmp(s->cgroup_path + dlen - 9, "/cpu.stat") != 0)
		return true;
	snprintf(dir, sizeof(dir), "%.*s", (int)(dlen - 9), s->cgroup_path);
	snprintf(path, sizeof(path), "%s/cpu.max", dir);
	if ((na = slurp(path, a, sizeof(a))) >= 0) {
		rc = cgroup_quota_v2(a, (size_t)na, &quota_cpus);
	} else {
		snprintf(path, sizeof(path), "%s/cpu.cfs_quota_us", dir);
		na = slurp(path, a, sizeof(a));
		snprintf(path, sizeof(path), "%s/cpu.cfs_period_us", dir);
		nb = slurp(path, b, sizeof(b));
		if (na < 0 || nb < 0)
			return true;
		rc = cgroup_quota_v1(a, (size_t)na, b, (size_t)nb, &quota_cpus);
	}
	return rc != 0;
}

int
sampler_open(struct sampler *s, const char *proc_root, const char *cgroup_stat,
    bool use_cgroup)
{
	char path[PATH_MAX];
	struct cgroup_cpu cg;
	ssize_t n;
	int rc;

	*s = (struct sampler){.stat_fd = -1, .psi_fd = -1, .cgroup_fd = -1};
	snprintf(s->stat_path, sizeof(s->stat_path), "%s/stat", proc_root);
	s->stat_fd = open_ro(s->stat_path);
	if (s->stat_fd < 0)
		return -errno;

	/* Sized here; it grows again only if CPUs are hot-added. */
	if ((n = read_whole_at0(
	         s->stat_fd, &s->stat_buf, &s->stat_size, STAT_BUF_MAX)) < 0) {
		rc = (int)n;
		goto fail;
	}

	snprintf(path, sizeof(path), "%s/pressure/cpu", proc_root);
	s->psi_fd = open_ro(path);

	if (cgroup_stat != NULL)
		snprintf(
		    s->cgroup_path, sizeof(s->cgroup_path), "%s", cgroup_stat);
	else if (use_cgroup) {
		find_cgroup(s, proc_root);
		if (s->cgroup_path[0] != '\0' && !cgroup_is_limited(s))
			s->cgroup_path[0] = '\0';
	}
	if (s->cgroup_path[0] != '\0') {
		s->cgroup_fd = open_ro(s->cgroup_path);
		if (s->cgroup_fd < 0)
			s->cgroup_error = -errno;
		/* The v2 root cgroup's cpu.stat has no throttling fields. */
		if (s->cgroup_fd >= 0 &&
		    ((n = read_at0(s->cgroup_fd, s->cgroup_buf,
		          sizeof(s->cgroup_buf))) <= 0 ||
		        cgroup_cpu_parse(s->cgroup_buf, (size_t)n, &cg) < 0)) {
			close(s->cgroup_fd);
			s->cgroup_fd = -1;
		}
		if (s->cgroup_fd < 0)
			s->cgroup_path[0] = '\0';
	}
	return 0;
fail:
	sampler_close(s);
	return rc;
}

int
sampler_read(struct sampler *s, struct raw_snapshot *raw)
{
	ssize_t n;

	n = read_whole_at0(
	    s->stat_fd, &s->stat_buf, &s->stat_size, STAT_BUF_MAX);
	if (n < 0)
		return (int)n;
	raw->mono_ns = time_mono_ns();
	raw->wall_ns = time_wall_ns();
	raw->stat = s->stat_buf;
	raw->stat_len = (size_t)n;

	raw->psi = NULL;
	raw->psi_len = 0;
	if (s->psi_fd >= 0 &&
	    (n = read_at0(s->psi_fd, s->psi_buf, sizeof(s->psi_buf))) > 0) {
		raw->psi = s->psi_buf;
		raw->psi_len = (size_t)n;
	}
	raw->cgroup = NULL;
	raw->cgroup_len = 0;
	if (s->cgroup_fd >= 0 && (n = read_at0(s->cgroup_fd, s->cgroup_buf,
	                              sizeof(s->cgroup_buf))) > 0) {
		raw->cgroup = s->cgroup_buf;
		raw->cgroup_len = (size_t)n;
	}
	return 0;
}

ssize_t
read_whole_at0(int fd, char **buf, size_t *size, size_t max)
{
	ssize_t n;
	char *bigger;

	if (*buf == NULL) {
		if ((*buf = malloc(STAT_BUF_MIN)) == NULL)
			return -ENOMEM;
		*size = STAT_BUF_MIN;
	}
	while ((n = read_at0(fd, *buf, *size)) >= 0 && (size_t)n == *size) {
		if (*size >= max)
			return -EFBIG;
		if ((bigger = realloc(*buf, *size * 2)) == NULL)
			return -ENOMEM;
		*buf = bigger;
		*size *= 2;
	}
	return n < 0 ? -errno : n;
}

void
sampler_close(struct sampler *s)
{
	if (s->stat_fd >= 0)
		close(s->stat_fd);
	if (s->psi_fd >= 0)
		close(s->psi_fd);
	if (s->cgroup_fd >= 0)
		close(s->cgroup_fd);
	free(s->stat_buf);
	s->stat_buf = NULL;
	s->stat_fd = s->psi_fd = s->cgroup_fd = -1;
}

/* SPDX-License-Identifier: ISC */
/*
 * cgroup discovery. Both cgroup versions exist in the wild: v1 (these
 * build machines, older distributions, some container hosts) keeps the
 * CPU controller in its own hierarchy with throttled_time in ns; v2 has
 * one hierarchy and throttled_usec.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cgroup.h"
#include "parse.h"

struct span {
	const char *p;
	size_t n;
};

static bool
span_eq(struct span s, const char *word)
{
	return s.n == strlen(word) && memcmp(s.p, word, s.n) == 0;
}

/* Does the comma-separated list contain word? */
static bool
list_has(struct span list, const char *word)
{
	const char *p = list.p, *end = list.p + list.n;

	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		struct span item = {p, (size_t)((comma ? comma : end) - p)};

		if (span_eq(item, word))
			return true;
		p = comma ? comma + 1 : end;
	}
	return false;
}

/* Splits line into at most max fields separated by sep. */
static unsigned
split(struct span line, char sep, struct span *f, unsigned max)
{
	const char *p = line.p, *end = line.p + line.n;
	unsigned n = 0;

	while (n < max) {
		const char *s = memchr(p, sep, (size_t)(end - p));

		f[n].p = p;
		f[n].n = (size_t)((s != NULL ? s : end) - p);
		n++;
		if (s == NULL)
			break;
		p = s + 1;
	}
	return n;
}

static bool
next_line(const char **p, const char *end, struct span *line)
{
	const char *nl;

	if (*p >= end)
		return false;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	line->p = *p;
	line->n = (size_t)((nl != NULL ? nl : end) - *p);
	*p = nl != NULL ? nl + 1 : end;
	return true;
}

/*
 * Finds the mount of a cgroup hierarchy in mountinfo: fstype "cgroup2",
 * or "cgroup" with the cpu controller among its super options. Fills the
 * mount point and the root of the mount within the hierarchy.
 */
static bool
find_mount(
    const char *mi, size_t len, bool v2, struct span *point, struct span *root)
{
	const char *p = mi, *end = mi + len;
	struct span line, f[32];

	while (next_line(&p, end, &line)) {
		unsigned n = split(line, ' ', f, 32), dash;

		/* Optional fields end at "-"; then fstype, source, options. */
		for (dash = 6; dash < n && !span_eq(f[dash], "-"); dash++)
			;
		if (dash + 3 >= n)
			continue;
		struct span fstype = f[dash + 1], opts = f[dash + 3];

		if (v2 ? span_eq(fstype, "cgroup2")
		       : span_eq(fstype, "cgroup") && list_has(opts, "cpu")) {
			*root = f[3];
			*point = f[4];
			return true;
		}
	}
	return false;
}

/* Finds the path of this process in the v1 cpu or the v2 hierarchy. */
static bool
find_path(const char *cg, size_t len, bool v2, struct span *path)
{
	const char *p = cg, *end = cg + len;
	struct span line, f[3];

	while (next_line(&p, end, &line)) {
		if (split(line, ':', f, 3) != 3)
			continue;
		if (v2 ? span_eq(f[0], "0") && f[1].n == 0
		       : list_has(f[1], "cpu")) {
			*path = f[2];
			return true;
		}
	}
	return false;
}

int
cgroup_cpu_stat_path(const char *self_cgroup, size_t cgroup_len,
    const char *mountinfo, size_t mountinfo_len, char *out, size_t size)
{
	struct span path, point, root;
	bool v2;
	int n;

	for (int pass = 0; pass < 2; pass++) {
		v2 = pass == 1;
		if (!find_path(self_cgroup, cgroup_len, v2, &path) ||
		    !find_mount(mountinfo, mountinfo_len, v2, &point, &root))
			continue;
		if (path.n == 0 || path.p[0] != '/' || point.n == 0)
			continue;
		/* A mount of a subtree: strip its root from our path. */
		if (!span_eq(root, "/") && path.n >= root.n &&
		    memcmp(path.p, root.p, root.n) == 0) {
			path.p += root.n;
			path.n -= root.n;
		}
		if (span_eq(path, "/"))
			path.n = 0;
		n = snprintf(out, size, "%.*s%.*s/cpu.stat", (int)point.n,
		    point.p, (int)path.n, path.p);
		if (n < 0 || (size_t)n >= size)
			return -ENAMETOOLONG;
		/* Never climb out of the hierarchy on a hostile path. */
		if (strstr(out, "/../") != NULL)
			return -EINVAL;
		return 0;
	}
	return -ENOENT;
}

/* Copies a short file's text without its newline, for parse_*(). */
static bool
copy_word(const char *text, size_t len, char *out, size_t size)
{
	if (len > 0 && text[len - 1] == '\n')
		len--;
	if (len == 0 || len >= size || memchr(text, '\0', len) != NULL)
		return false;
	memcpy(out, text, len);
	out[len] = '\0';
	return true;
}

static int
quota_ratio(uint64_t quota, uint64_t period, double *cpus)
{
	if (period == 0)
		return -EINVAL;
	*cpus = (double)quota / (double)period;
	return 1;
}

int
cgroup_quota_v2(const char *cpu_max, size_t len, double *cpus)
{
	char text[64], *sp;
	uint64_t quota, period;

	if (!copy_word(cpu_max, len, text, sizeof(text)) ||
	    (sp = strchr(text, ' ')) == NULL)
		return -EINVAL;
	*sp++ = '\0';
	if (parse_u64(sp, 1, UINT64_MAX, &period) < 0)
		return -EINVAL;
	if (strcmp(text, "max") == 0)
		return 0;
	if (parse_u64(text, 1, UINT64_MAX, &quota) < 0)
		return -EINVAL;
	return quota_ratio(quota, period, cpus);
}

int
cgroup_quota_v1(const char *quota, size_t quota_len, const char *period,
    size_t period_len, double *cpus)
{
	char q[32], p[32];
	uint64_t qv, pv;

	if (!copy_word(quota, quota_len, q, sizeof(q)) ||
	    !copy_word(period, period_len, p, sizeof(p)) ||
	    parse_u64(p, 1, UINT64_MAX, &pv) < 0)
		return -EINVAL;
	if (strcmp(q, "-1") == 0)
		return 0;
	if (parse_u64(q, 1, UINT64_MAX, &qv) < 0)
		return -EINVAL;
	return quota_ratio(qv, pv, cpus);
}

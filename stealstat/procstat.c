/* SPDX-License-Identifier: ISC */
/*
 * Parsers for /proc/stat, /proc/pressure/cpu and cgroup cpu.stat images.
 * They run on every sample, so they scan the buffer once, in place, and
 * allocate nothing. Every number is bounded: a value that does not fit in
 * 64 bits is an error, not a wrap.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "procstat.h"

struct cursor {
	const char *p;
	const char *end;
};

static bool
starts_with(const struct cursor *c, const char *word, size_t n)
{
	return (size_t)(c->end - c->p) >= n && memcmp(c->p, word, n) == 0;
}

static void
skip_blanks(struct cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
		c->p++;
}

static void
next_line(struct cursor *c)
{
	const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));

	c->p = nl != NULL ? nl + 1 : c->end;
}

static bool
at_line_end(const struct cursor *c)
{
	return c->p == c->end || *c->p == '\n';
}

static bool
is_digit(char ch)
{
	return (unsigned char)(ch - '0') < 10;
}

/*
 * Reads one unsigned decimal number, after optional blanks. Returns false
 * (cursor unspecified) if there is no digit or the value overflows. This
 * is the hot loop of every sample: 19 digits always fit in 64 bits, so
 * only a 20th digit needs an overflow check.
 */
static bool
read_u64(struct cursor *c, uint64_t *out)
{
	const char *p, *end = c->end, *fast_end;
	uint64_t v = 0;

	skip_blanks(c);
	p = c->p;
	fast_end = end - p > 19 ? p + 19 : end;
	while (p < fast_end && is_digit(*p))
		v = v * 10 + (uint64_t)(*p++ - '0');
	if (p == c->p)
		return false;
	if (p < end && is_digit(*p)) {
		unsigned d = (unsigned)(*p++ - '0');

		if (v > (UINT64_MAX - d) / 10 || (p < end && is_digit(*p)))
			return false;
		v = v * 10 + d;
	}
	c->p = p;
	*out = v;
	return true;
}

/* Reads the columns of a cpu line; returns how many, or -1 on junk. */
static int
read_cpu_columns(struct cursor *c, struct cpu_times *t)
{
	int n = 0;

	memset(t, 0, sizeof(*t));
	for (;;) {
		skip_blanks(c);
		if (at_line_end(c))
			return n;
		/* Columns a future kernel adds are counted but not kept. */
		uint64_t v;
		if (!read_u64(c, &v))
			return -1;
		if (n < COL_MAX)
			t->col[n] = v;
		if (c->p < c->end && *c->p != ' ' && *c->p != '\t' &&
		    *c->p != '\n')
			return -1;
		n++;
	}
}

/* Reads "NAME value" where the cursor is past NAME. */
static bool
read_single(struct cursor *c, uint64_t *out)
{
	return read_u64(c, out) &&
	       (at_line_end(c) || *c->p == ' ' || *c->p == '\t');
}

int
procstat_parse(const char *buf, size_t len, struct procstat *out)
{
	struct cursor c = {buf, buf + len};
	unsigned ncpu = 0;
	int ncols, n;
	uint64_t v;
	bool next_id_known = false;
	unsigned last_id = 0;

	out->have = 0;
	out->intr = out->ctxt = 0;
	out->procs_running = out->procs_blocked = 0;

	if (!starts_with(&c, "cpu ", 4))
		return -EINVAL;
	c.p += 4;
	ncols = read_cpu_columns(&c, &out->total);
	if (ncols < PROCSTAT_MIN_COLS)
		return -EINVAL;
	out->ncols = (unsigned)(ncols < COL_MAX ? ncols : COL_MAX);
	next_line(&c);

	while (c.p < c.end) {
		if (starts_with(&c, "cpu", 3) && c.end - c.p > 3 &&
		    c.p[3] >= '0' && c.p[3] <= '9') {
			c.p += 3;
			if (!read_u64(&c, &v) || v > 1u << 20)
				return -EINVAL;
			/* The kernel prints online CPUs in increasing order. */
			if (next_id_known && v <= last_id)
				return -EINVAL;
			next_id_known = true;
			last_id = (unsigned)v;
			if (ncpu >= out->cpu_cap) {
				out->ncpu = ncpu + 1;
				return -ENOSPC;
			}
			out->cpu[ncpu].id = (unsigned)v;
			if (out->cpu_detail) {
				n = read_cpu_columns(&c, &out->cpu[ncpu].t);
				if (n != ncols)
					return -EINVAL;
			}
			ncpu++;
		} else if (starts_with(&c, "intr ", 5)) {
			/* Only the total; the per-IRQ list can be kilobytes. */
			c.p += 5;
			if (!read_single(&c, &out->intr))
				return -EINVAL;
			out->have |= PROCSTAT_HAVE_INTR;
		} else if (starts_with(&c, "ctxt ", 5)) {
			c.p += 5;
			if (!read_single(&c, &out->ctxt))
				return -EINVAL;
			out->have |= PROCSTAT_HAVE_CTXT;
		} else if (starts_with(&c, "procs_running ", 14)) {
			c.p += 14;
			if (!read_single(&c, &v) || v > UINT32_MAX)
				return -EINVAL;
			out->procs_running = (uint32_t)v;
			out->have |= PROCSTAT_HAVE_RUNNING;
		} else if (starts_with(&c, "procs_blocked ", 14)) {
			c.p += 14;
			if (!read_single(&c, &v) || v > UINT32_MAX)
				return -EINVAL;
			out->procs_blocked = (uint32_t)v;
			out->have |= PROCSTAT_HAVE_BLOCKED;
		}
		next_line(&c);
	}
	out->ncpu = ncpu;
	return (int)ncpu;
}

/*
 * Reads the number of the line's last field, which must be "total=N"
 * (the kernel has printed it last since PSI appeared in 4.20).
 */
static bool
read_total(const char *p, const char *end, uint64_t *out)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	const char *line_end = nl != NULL ? nl : end;
	const char *eq = memrchr(p, '=', (size_t)(line_end - p));
	struct cursor c;

	if (eq == NULL || eq - p < 6 || memcmp(eq - 6, " total", 6) != 0)
		return false;
	c.p = eq + 1;
	c.end = line_end;
	return read_u64(&c, out) && at_line_end(&c);
}

/*
 * Only the "some" line is read: it is the first line, and the "full"
 * line (5.13 and later) says nothing stealstat uses.
 */
int
psi_parse(const char *buf, size_t len, struct psi_cpu *out)
{
	struct cursor c = {buf, buf + len};
	uint64_t some;

	for (; c.p < c.end; next_line(&c)) {
		if (!starts_with(&c, "some ", 5))
			continue;
		if (!read_total(c.p + 4, c.end, &some))
			return -EINVAL;
		out->some_total_us = some;
		return 0;
	}
	return -EINVAL;
}

int
cgroup_cpu_parse(const char *buf, size_t len, struct cgroup_cpu *out)
{
	struct cursor c = {buf, buf + len};
	struct cgroup_cpu r = {0, 0, 0};
	bool have_nr = false, have_time = false;
	uint64_t v;

	while (c.p < c.end) {
		if (starts_with(&c, "nr_periods ", 11)) {
			c.p += 11;
			if (!read_single(&c, &r.nr_periods))
				return -EINVAL;
		} else if (starts_with(&c, "nr_throttled ", 13)) {
			c.p += 13;
			if (!read_single(&c, &r.nr_throttled))
				return -EINVAL;
			have_nr = true;
		} else if (starts_with(&c, "throttled_usec ", 15)) {
			/* cgroup v2 */
			c.p += 15;
			if (!read_single(&c, &v) || v > UINT64_MAX / 1000)
				return -EINVAL;
			r.throttled_ns = v * 1000;
			have_time = true;
		} else if (starts_with(&c, "throttled_time ", 15)) {
			/* cgroup v1, already in nanoseconds */
			c.p += 15;
			if (!read_single(&c, &r.throttled_ns))
				return -EINVAL;
			have_time = true;
		}
		next_line(&c);
	}
	if (!have_nr || !have_time)
		return -EINVAL;
	*out = r;
	return 0;
}

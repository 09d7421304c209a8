/* SPDX-License-Identifier: ISC */
/*
 * Reading and writing the record format described in record.h. The reader
 * treats the file as hostile: every length is bounded, every number
 * checked, and an error names the line.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "parse.h"
#include "record.h"

static int
rec_error(struct record_reader *r, const char *fmt, ...)
{
	char msg[192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(
	    r->error, sizeof(r->error), "%s:%u: %s", r->name, r->line, msg);
	return -EINVAL;
}

/*
 * Copies the next line (without its newline) into out. Returns false at
 * the end of the buffer or if the line does not fit (then *too_long).
 */
static bool
next_line(struct record_reader *r, char *out, size_t size, bool *too_long)
{
	const char *p = r->buf + r->pos;
	size_t left = r->len - r->pos;
	const char *nl;
	size_t n;

	*too_long = false;
	if (left == 0)
		return false;
	nl = memchr(p, '\n', left);
	n = nl != NULL ? (size_t)(nl - p) : left;
	if (n >= size) {
		*too_long = true;
		return false;
	}
	memcpy(out, p, n);
	out[n] = '\0';
	r->pos += n + (nl != NULL);
	r->line++;
	return true;
}

/* Splits "WORD REST" in place. */
static char *
split_word(char *s)
{
	char *sp = strchr(s, ' ');

	if (sp == NULL)
		return NULL;
	*sp = '\0';
	return sp + 1;
}

int
record_open(
    struct record_reader *r, const char *name, const char *buf, size_t len)
{
	char line[128];
	bool too_long;
	uint32_t hz;

	*r = (struct record_reader){.name = name, .buf = buf, .len = len};
	if (!next_line(r, line, sizeof(line), &too_long) ||
	    strcmp(line, RECORD_MAGIC) != 0) {
		r->line = 1;
		return rec_error(r, "not a stealstat record (expected \"%s\")",
		    RECORD_MAGIC);
	}
	if (!next_line(r, line, sizeof(line), &too_long) ||
	    strncmp(line, "hz ", 3) != 0 ||
	    parse_u32(line + 3, 1, 100000, &hz) < 0)
		return rec_error(r, "expected \"hz N\" (USER_HZ, 1..100000)");
	r->hz = hz;
	/* Optional header lines, before the first snapshot. */
	if (r->len - r->pos > 10 &&
	    memcmp(r->buf + r->pos, "idle-poll ", 10) == 0) {
		if (!next_line(r, line, sizeof(line), &too_long) ||
		    strlen(line + 10) >= sizeof(r->idle_poll))
			return rec_error(r, "idle-poll line too long");
		snprintf(
		    r->idle_poll, sizeof(r->idle_poll), "%.63s", line + 10);
	}
	return 0;
}

/* Reads "NAME LEN\n" and then LEN bytes and a newline. */
static int
read_blob(struct record_reader *r, char *line, const char **text, size_t *len)
{
	char *arg = split_word(line);
	uint32_t n;

	if (arg == NULL || parse_u32(arg, 0, RECORD_MAX_BLOB, &n) < 0)
		return rec_error(
		    r, "bad length in \"%s\" (0..%u)", line, RECORD_MAX_BLOB);
	if (n > r->len - r->pos)
		return rec_error(r,
		    "truncated: %s needs %" PRIu32 " bytes, %zu left", line, n,
		    r->len - r->pos);
	*text = r->buf + r->pos;
	*len = n;
	for (uint32_t i = 0; i < n; i++)
		r->line += r->buf[r->pos + i] == '\n';
	r->pos += n;
	/* Blobs normally end with the file's own newline; allow one more. */
	if (r->pos < r->len && r->buf[r->pos] == '\n' &&
	    (n == 0 || r->buf[r->pos - 1] != '\n')) {
		r->pos++;
		r->line++;
	}
	return 0;
}

int
record_next(struct record_reader *r, struct raw_snapshot *out)
{
	char line[128];
	bool too_long;
	char *arg, *wall;
	uint64_t mono, wall_ns;
	int rc;

	/* Skip blank lines and comments until "snapshot". */
	for (;;) {
		if (!next_line(r, line, sizeof(line), &too_long)) {
			if (too_long) {
				r->line++;
				return rec_error(r, "line too long");
			}
			return 0;
		}
		if (line[0] != '\0' && line[0] != '#')
			break;
	}
	arg = split_word(line);
	if (arg == NULL || strcmp(line, "snapshot") != 0)
		return rec_error(r, "expected \"snapshot MONO_NS WALL_NS\"");
	wall = split_word(arg);
	if (wall == NULL || parse_u64(arg, 0, UINT64_MAX, &mono) < 0 ||
	    parse_u64(wall, 0, UINT64_MAX, &wall_ns) < 0)
		return rec_error(r, "bad snapshot timestamps");
	*out = (struct raw_snapshot){.mono_ns = mono, .wall_ns = wall_ns};

	for (;;) {
		if (!next_line(r, line, sizeof(line), &too_long)) {
			r->line += too_long;
			return rec_error(r, too_long ? "line too long"
			                             : "truncated snapshot "
			                               "(no \"end\" line)");
		}
		if (strcmp(line, "end") == 0)
			break;
		if (strncmp(line, "stat ", 5) == 0 && out->stat == NULL)
			rc = read_blob(r, line, &out->stat, &out->stat_len);
		else if (strncmp(line, "psi ", 4) == 0 && out->psi == NULL)
			rc = read_blob(r, line, &out->psi, &out->psi_len);
		else if (strncmp(line, "cgroup ", 7) == 0 &&
		         out->cgroup == NULL)
			rc = read_blob(r, line, &out->cgroup, &out->cgroup_len);
		else if (strncmp(line, "speed ", 6) == 0 && out->speed == NULL)
			rc = read_blob(r, line, &out->speed, &out->speed_len);
		else
			return rec_error(
			    r, "unexpected \"%.40s\" in a snapshot", line);
		if (rc < 0)
			return rc;
	}
	if (out->stat == NULL)
		return rec_error(r, "snapshot without a stat section");
	return 1;
}

int
record_write_header(int fd, unsigned hz, const char *idle_poll)
{
	char buf[192];
	int n = snprintf(buf, sizeof(buf), RECORD_MAGIC "\nhz %u\n", hz);

	if (idle_poll[0] != '\0' && strchr(idle_poll, '\n') == NULL)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n,
		    "idle-poll %.63s\n", idle_poll);

	if (write(fd, buf, (size_t)n) != n)
		return errno != 0 ? -errno : -EIO;
	return 0;
}

static bool
ends_with_newline(const char *text, size_t len)
{
	return len > 0 && text[len - 1] == '\n';
}

/*
 * A blob that does not end with a newline gets one, which the reader
 * skips, so the next header always starts a line.
 */
int
record_write_snapshot(int fd, const struct raw_snapshot *s)
{
	char head[96], h_stat[32], h_psi[32], h_cg[32], h_speed[32];
	struct iovec iov[16];
	int n = 0;
	ssize_t want = 0, got;

#define ADD(ptr, len)                                                          \
	do {                                                                   \
		iov[n].iov_base = (void *)(uintptr_t)(ptr);                    \
		iov[n].iov_len = (len);                                        \
		want += (ssize_t)iov[n++].iov_len;                             \
	} while (0)

	ADD(head,
	    (size_t)snprintf(head, sizeof(head),
	        "snapshot %" PRIu64 " %" PRIu64 "\n", s->mono_ns, s->wall_ns));
	ADD(h_stat, (size_t)snprintf(
	                h_stat, sizeof(h_stat), "stat %zu\n", s->stat_len));
	ADD(s->stat, s->stat_len);
	if (!ends_with_newline(s->stat, s->stat_len))
		ADD("\n", 1);
	if (s->psi != NULL) {
		ADD(h_psi, (size_t)snprintf(
		               h_psi, sizeof(h_psi), "psi %zu\n", s->psi_len));
		ADD(s->psi, s->psi_len);
		if (!ends_with_newline(s->psi, s->psi_len))
			ADD("\n", 1);
	}
	if (s->cgroup != NULL) {
		ADD(h_cg, (size_t)snprintf(h_cg, sizeof(h_cg), "cgroup %zu\n",
		              s->cgroup_len));
		ADD(s->cgroup, s->cgroup_len);
		if (!ends_with_newline(s->cgroup, s->cgroup_len))
			ADD("\n", 1);
	}
	if (s->speed != NULL) {
		ADD(h_speed, (size_t)snprintf(h_speed, sizeof(h_speed),
		                 "speed %zu\n", s->speed_len));
		ADD(s->speed, s->speed_len);
		if (!ends_with_newline(s->speed, s->speed_len))
			ADD("\n", 1);
	}
	ADD("end\n", 4);
#undef ADD
	got = writev(fd, iov, n);
	if (got < 0)
		return -errno;
	return got == want ? 0 : -EIO;
}

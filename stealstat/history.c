/* SPDX-License-Identifier: ISC */
/*
 * The history store: encoding, the monitor's writer with its bounds, and
 * the reader. The format is described in history.h.
 *
 * Bytes per sample: a delta record holds per CPU ten zigzag varints of
 * tick differences. At USER_HZ 100 and 10 s a CPU moves at most 1000
 * ticks, so idle (or busy) takes 2 bytes and the other columns 1: about
 * 12 bytes per CPU, 2 more per column for the aggregate line (up to
 * 8000 ticks), plus about 20 of framing, clock, interrupts, PSI and
 * CRC. On 8 vCPUs that is about 135 bytes; a month of 10 s samples
 * (267,840) is about 36 MB, inside the default 64 MiB with room for the
 * hourly key samples (about 450 bytes each) and cgroup counters.
 * The speed probe's points add about 5 bytes per CPU probed and 3 per
 * sample (13 a sample measured on 2 vCPUs): about 43 on 8, a month
 * about 48 MB.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "history.h"
#include "timeutil.h"

/*
 * Extension tags in a sample's tail: varint TAG, varint LEN, LEN bytes.
 * A reader skips what it does not know, so an older stealstat reads
 * every older field of a sample that carries a newer extension.
 *
 * HISTORY_EXT_SPEED (the speed probe, speed.h), written when the sample
 * carries a speed blob: varint N, then per probed CPU, ids ascending:
 *
 *	varint ID - (previous ID + 1)	(the first: ID)
 *	varint FLAGS | SAME_BEST	(SPEED_* flags; SAME_BEST: bit 3)
 *	varint BEST_NS			(absent with SAME_BEST)
 *	varint UNIT_NS - BEST_NS
 *	varint LOST_NS
 *
 * SAME_BEST says the best time is that of the same CPU in the sample
 * before, in a delta record only. The best changes rarely and the unit
 * runs close to it, so a CPU costs about 5 bytes. Times stay in ns:
 * a report recomputes every speed exactly as live mode did.
 */
enum history_ext {
	HISTORY_EXT_RESERVED = 0,
	HISTORY_EXT_SPEED = 1,
};

#define SPEED_EXT_SAME_BEST (1u << 3)

/* CRC-32C (Castagnoli), as iSCSI and ext4 use; table made on first use. */
static uint32_t crc_table[256];

static void
crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		crc_table[i] = c;
	}
}

static uint32_t
crc32c(const uint8_t *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;

	if (crc_table[1] == 0)
		crc_init();
	while (n-- > 0)
		c = crc_table[(c ^ *p++) & 0xFF] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

/* A bounded output buffer; overflow sticks. */
struct enc {
	uint8_t *p, *end;
	bool overflow;
};

static void
put_u8(struct enc *e, uint8_t v)
{
	if (e->p >= e->end) {
		e->overflow = true;
		return;
	}
	*e->p++ = v;
}

static void
put_varint(struct enc *e, uint64_t v)
{
	while (v >= 0x80) {
		put_u8(e, (uint8_t)(v | 0x80));
		v >>= 7;
	}
	put_u8(e, (uint8_t)v);
}

/* A counter difference; counters may step back (iowait, a bad host). */
static void
put_delta(struct enc *e, uint64_t prev, uint64_t cur)
{
	int64_t d = (int64_t)(cur - prev);

	put_varint(e, ((uint64_t)d << 1) ^ (uint64_t)(d >> 63));
}

static void
put_bytes(struct enc *e, const void *s, size_t n)
{
	if ((size_t)(e->end - e->p) < n) {
		e->overflow = true;
		return;
	}
	memcpy(e->p, s, n);
	e->p += n;
}

struct dec {
	const uint8_t *p, *end;
	bool bad;
};

static uint64_t
get_varint(struct dec *d)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		if (d->p >= d->end) {
			d->bad = true;
			return 0;
		}
		uint8_t b = *d->p++;

		v |= (uint64_t)(b & 0x7F) << shift;
		if (!(b & 0x80))
			return v;
	}
	d->bad = true;
	return 0;
}

static uint64_t
get_delta(struct dec *d, uint64_t prev)
{
	uint64_t z = get_varint(d);
	int64_t delta = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);

	return prev + (uint64_t)delta;
}

static unsigned
sample_flags(const struct snapshot *s)
{
	unsigned f = 0;

	if (s->have_psi)
		f |= HISTORY_HAVE_PSI;
	if (s->have_cgroup)
		f |= HISTORY_HAVE_CGROUP;
	if (s->stat.have & PROCSTAT_HAVE_INTR)
		f |= HISTORY_HAVE_INTR;
	if (s->stat.have & PROCSTAT_HAVE_RUNNING)
		f |= HISTORY_HAVE_RUNNING;
	return f;
}

/* A delta needs the same CPUs, columns and sources as its base. */
static bool
same_shape(const struct snapshot *a, const struct snapshot *b)
{
	if (a->stat.ncpu != b->stat.ncpu || a->stat.ncols != b->stat.ncols ||
	    sample_flags(a) != sample_flags(b))
		return false;
	for (unsigned i = 0; i < a->stat.ncpu; i++)
		if (a->stat.cpu[i].id != b->stat.cpu[i].id)
			return false;
	return true;
}

static void
put_cols(struct enc *e, const struct cpu_times *prev,
    const struct cpu_times *cur, unsigned ncols)
{
	for (unsigned c = 0; c < ncols; c++) {
		if (prev == NULL)
			put_varint(e, cur->col[c]);
		else
			put_delta(e, prev->col[c], cur->col[c]);
	}
}

/*
 * The speed extension (see history_ext). Its payload goes in a scratch
 * encoder first, for its length; at most 5 varints of 10 bytes a CPU.
 */
static void
put_speed(
    struct enc *e, const struct snapshot *prev, const struct snapshot *cur)
{
	size_t room = (size_t)(e->end - e->p);
	uint8_t *tmp = e->p + room / 2; /* the far half of e's buffer */
	struct enc x = {tmp, e->end, false};
	unsigned expect = 0;

	put_varint(&x, cur->nspeed);
	for (unsigned i = 0; i < cur->nspeed; i++) {
		const struct speed_point *p = &cur->speed[i];
		const struct speed_point *b =
		    prev != NULL ? snapshot_speed(prev, p->cpu) : NULL;
		bool same = b != NULL && b->best_ns == p->best_ns;

		put_varint(&x, p->cpu - expect);
		expect = p->cpu + 1;
		put_varint(&x, p->flags | (same ? SPEED_EXT_SAME_BEST : 0));
		if (!same)
			put_varint(&x, p->best_ns);
		put_varint(&x, p->unit_ns - p->best_ns);
		put_varint(&x, p->lost_ns);
	}
	if (x.overflow) {
		e->overflow = true;
		return;
	}
	size_t len = (size_t)(x.p - tmp);

	put_varint(e, HISTORY_EXT_SPEED);
	put_varint(e, len);
	/* The header is a few bytes and the payload sits half the room
	 * away: they never overlap, but memmove all the same. */
	if ((size_t)(e->end - e->p) < len) {
		e->overflow = true;
		return;
	}
	memmove(e->p, tmp, len);
	e->p += len;
}

/*
 * Frames the body in [body, e->p) that was encoded 5 bytes into buf:
 * the length goes just before it and the CRC after. Returns the record's
 * start through *start and its length, 0 on overflow.
 */
static size_t
frame(uint8_t *buf, struct enc *e, uint8_t **start)
{
	uint8_t *body = buf + 5, lenbuf[5];
	size_t body_len = (size_t)(e->p - body);
	struct enc le = {lenbuf, lenbuf + sizeof(lenbuf), false};
	size_t ll;
	uint32_t crc;

	if (e->overflow || body_len > HISTORY_RECORD_MAX)
		return 0;
	put_varint(&le, body_len);
	ll = (size_t)(le.p - lenbuf);
	*start = body - ll;
	memcpy(*start, lenbuf, ll);
	crc = crc32c(*start, ll + body_len);
	put_u8(e, (uint8_t)crc);
	put_u8(e, (uint8_t)(crc >> 8));
	put_u8(e, (uint8_t)(crc >> 16));
	put_u8(e, (uint8_t)(crc >> 24));
	if (e->overflow)
		return 0;
	return (size_t)(e->p - *start);
}

/*
 * Encodes a sample; the record starts at buf and is returned moved to
 * the front of buf. Returns its length, 0 if buf is too small.
 */
static size_t
history_encode_sample(uint8_t *buf, size_t size, const struct snapshot *prev,
    const struct snapshot *cur, unsigned flags)
{
	struct enc e = {buf + 5, buf + size, size < 5};
	const struct procstat *st = &cur->stat;
	uint64_t mono_us = cur->mono_ns / NSEC_PER_USEC;
	uint64_t wall_us = cur->wall_ns / NSEC_PER_USEC;
	uint8_t *start;
	size_t n;

	if (size < 5)
		return 0;
	flags |= sample_flags(cur);
	put_u8(&e, prev == NULL ? 'K' : 'D');
	put_varint(&e, flags);
	if (prev == NULL) {
		unsigned expect = 0;

		put_varint(&e, mono_us);
		put_varint(&e, wall_us);
		put_varint(&e, st->ncols);
		put_varint(&e, st->ncpu);
		for (unsigned i = 0; i < st->ncpu; i++) {
			put_varint(&e, st->cpu[i].id - expect);
			expect = st->cpu[i].id + 1;
		}
	} else {
		uint64_t pm = prev->mono_ns / NSEC_PER_USEC;
		uint64_t pw = prev->wall_ns / NSEC_PER_USEC;

		put_varint(&e, mono_us - pm);
		/* The wall clock's drift from the monotonic one: 0 unless
		 * it was stepped, so one byte. */
		put_delta(&e, pw + (mono_us - pm), wall_us);
	}
	if (flags & HISTORY_HAVE_RUNNING)
		put_varint(&e, st->procs_running);
	if (flags & HISTORY_HAVE_INTR) {
		if (prev == NULL)
			put_varint(&e, st->intr);
		else
			put_delta(&e, prev->stat.intr, st->intr);
	}
	if (flags & HISTORY_HAVE_PSI) {
		if (prev == NULL)
			put_varint(&e, cur->psi.some_total_us);
		else
			put_delta(&e, prev->psi.some_total_us,
			    cur->psi.some_total_us);
	}
	if (flags & HISTORY_HAVE_CGROUP) {
		const struct cgroup_cpu *c = &cur->cgroup;

		if (prev == NULL) {
			put_varint(&e, c->nr_periods);
			put_varint(&e, c->nr_throttled);
			put_varint(&e, c->throttled_ns);
		} else {
			put_delta(&e, prev->cgroup.nr_periods, c->nr_periods);
			put_delta(
			    &e, prev->cgroup.nr_throttled, c->nr_throttled);
			put_delta(
			    &e, prev->cgroup.throttled_ns, c->throttled_ns);
		}
	}
	put_cols(&e, prev ? &prev->stat.total : NULL, &st->total, st->ncols);
	for (unsigned i = 0; i < st->ncpu; i++)
		put_cols(&e, prev ? &prev->stat.cpu[i].t : NULL, &st->cpu[i].t,
		    st->ncols);
	if (cur->have_speed)
		put_speed(&e, prev, cur);
	n = frame(buf, &e, &start);
	if (n > 0 && start != buf)
		memmove(buf, start, n);
	return n;
}

static size_t
encode_header(uint8_t *buf, size_t size, unsigned hz, uint64_t wall_ns,
    const char *idle_poll, const char *host)
{
	struct enc e = {buf + 5, buf + size, false};
	size_t n, poll_len = strlen(idle_poll), host_len = strlen(host);
	uint8_t *start;

	put_u8(&e, 'H');
	put_varint(&e, HISTORY_VERSION);
	put_varint(&e, hz);
	put_varint(&e, wall_ns / NSEC_PER_USEC);
	put_varint(&e, poll_len);
	put_bytes(&e, idle_poll, poll_len);
	put_varint(&e, host_len);
	put_bytes(&e, host, host_len);
	n = frame(buf, &e, &start);
	if (n > 0 && start != buf)
		memmove(buf, start, n);
	return n;
}

int
snapshot_copy(struct snapshot *dst, const struct snapshot *src)
{
	struct procstat_cpu *cpu = dst->stat.cpu;
	unsigned cap = dst->stat.cpu_cap;

	if (src->stat.ncpu > cap) {
		cap = src->stat.ncpu;
		cpu = realloc(cpu, cap * sizeof(*cpu));
		if (cpu == NULL)
			return -ENOMEM;
	}
	struct speed_point *speed = dst->speed;
	unsigned speed_cap = dst->speed_cap;

	/* The speed points are owned too: never share src's array. */
	if (src->have_speed && src->nspeed > speed_cap) {
		speed = realloc(speed, src->nspeed * sizeof(*speed));
		if (speed == NULL) {
			dst->stat.cpu = cpu;
			dst->stat.cpu_cap = cap;
			return -ENOMEM;
		}
		speed_cap = src->nspeed;
	}
	*dst = *src;
	dst->stat.cpu = cpu;
	dst->stat.cpu_cap = cap;
	memcpy(cpu, src->stat.cpu, src->stat.ncpu * sizeof(*cpu));
	dst->speed = speed;
	dst->speed_cap = speed_cap;
	if (!src->have_speed)
		dst->nspeed = 0;
	else if (src->nspeed > 0)
		memcpy(speed, src->speed, src->nspeed * sizeof(*speed));
	return 0;
}

/* --- reading ----------------------------------------------------------- */

/*
 * Finds the record at r->pos: *body and *body_len on success (1), 0 when
 * the rest of the buffer is not a whole record (a torn tail), -1 when the
 * record is whole but its CRC is wrong.
 */
static int
next_record(struct history_reader *r, const uint8_t **body, size_t *body_len)
{
	struct dec d = {r->buf + r->pos, r->buf + r->len, false};
	uint64_t n = get_varint(&d);
	size_t ll = (size_t)(d.p - (r->buf + r->pos));
	const uint8_t *q;
	uint32_t crc;

	if (d.bad || n == 0 || n > HISTORY_RECORD_MAX ||
	    (size_t)(d.end - d.p) < n + 4)
		return 0;
	q = d.p + n;
	crc = (uint32_t)q[0] | (uint32_t)q[1] << 8 | (uint32_t)q[2] << 16 |
	      (uint32_t)q[3] << 24;
	*body = d.p;
	*body_len = (size_t)n;
	if (crc32c(r->buf + r->pos, ll + (size_t)n) != crc) {
		r->pos += ll + (size_t)n + 4;
		return -1;
	}
	r->pos += ll + (size_t)n + 4;
	return 1;
}

int
history_reader_open(struct history_reader *r, const uint8_t *buf, size_t len)
{
	const uint8_t *body;
	size_t body_len;
	struct dec d;
	uint64_t v, poll_len;

	*r = (struct history_reader){.buf = buf, .len = len};
	if (next_record(r, &body, &body_len) != 1 || body[0] != 'H') {
		snprintf(r->error, sizeof(r->error),
		    "not a stealstat history segment");
		return -EINVAL;
	}
	d = (struct dec){body + 1, body + body_len, false};
	v = get_varint(&d);
	if (!d.bad && v != HISTORY_VERSION) {
		snprintf(r->error, sizeof(r->error),
		    "history format %llu, this stealstat reads %d",
		    (unsigned long long)v, HISTORY_VERSION);
		return -ENOTSUP;
	}
	r->version = (unsigned)v;
	v = get_varint(&d);
	r->hz = v > 0 && v < 100000 ? (unsigned)v : 0;
	r->start_wall_ns = get_varint(&d) * NSEC_PER_USEC;
	poll_len = get_varint(&d);
	if (d.bad || r->hz == 0 || poll_len >= sizeof(r->idle_poll) ||
	    (size_t)(d.end - d.p) < poll_len) {
		snprintf(r->error, sizeof(r->error),
		    "history segment header is malformed");
		return -EINVAL;
	}
	memcpy(r->idle_poll, d.p, poll_len);
	r->idle_poll[poll_len] = '\0';
	d.p += poll_len;
	v = get_varint(&d);
	if (d.bad || v >= sizeof(r->host) || (size_t)(d.end - d.p) < v) {
		snprintf(r->error, sizeof(r->error),
		    "history segment header is malformed");
		return -EINVAL;
	}
	memcpy(r->host, d.p, v);
	r->host[v] = '\0';
	if (snapshot_init(&r->cur, 8, true) < 0) {
		snprintf(r->error, sizeof(r->error), "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static bool
get_cols(struct dec *d, struct cpu_times *t, unsigned ncols, bool key)
{
	for (unsigned c = 0; c < ncols; c++)
		t->col[c] = key ? get_varint(d) : get_delta(d, t->col[c]);
	for (unsigned c = ncols; c < COL_MAX; c++)
		t->col[c] = 0;
	return !d->bad;
}

/*
 * Reads a speed extension (see history_ext) of len bytes into r's spare
 * point array, a SAME_BEST best taken from r->cur (still the sample
 * before; never in a key record), then swaps the array into r->cur.
 * Returns 1, 0 when the payload does not make sense, -ENOMEM.
 */
static int
get_speed(struct history_reader *r, struct dec *d, size_t len, bool key)
{
	struct dec x = {d->p, d->p + len, false};
	struct snapshot *s = &r->cur;
	uint64_t n = get_varint(&x), id = 0;
	struct speed_point *out;
	unsigned cap;

	d->p += len;
	if (x.bad || n > SPEED_BEST_CPUS || n > len)
		return 0;
	if (n > r->speed_spare_cap) {
		out = realloc(r->speed_spare, (size_t)n * sizeof(*out));
		if (out == NULL)
			return -ENOMEM;
		r->speed_spare = out;
		r->speed_spare_cap = (unsigned)n;
	}
	out = r->speed_spare;
	for (uint64_t i = 0; i < n; i++) {
		struct speed_point *p = &out[i];
		const struct speed_point *b;
		uint64_t flags, unit;

		id += get_varint(&x);
		if (id >= SPEED_BEST_CPUS)
			return 0;
		p->cpu = (unsigned)id++;
		flags = get_varint(&x);
		if (flags & ~(uint64_t)(SPEED_FLAGS_ALL | SPEED_EXT_SAME_BEST))
			return 0;
		p->flags = (unsigned)flags & SPEED_FLAGS_ALL;
		if (flags & SPEED_EXT_SAME_BEST) {
			b = key ? NULL : snapshot_speed(s, p->cpu);
			if (b == NULL)
				return 0;
			p->best_ns = b->best_ns;
		} else {
			p->best_ns = get_varint(&x);
		}
		unit = get_varint(&x);
		p->lost_ns = get_varint(&x);
		if (x.bad || p->best_ns == 0 || unit > UINT64_MAX - p->best_ns)
			return 0;
		p->unit_ns = p->best_ns + unit;
	}
	if (x.bad || x.p != x.end)
		return 0;
	cap = r->speed_spare_cap;
	r->speed_spare = s->speed;
	r->speed_spare_cap = s->speed_cap;
	s->speed = out;
	s->speed_cap = cap;
	s->nspeed = (unsigned)n;
	s->have_speed = true;
	return 1;
}

/*
 * Applies one sample record to r->cur. Returns 1, 0 if it does not make
 * sense (then r->cur is no base for deltas), -ENOMEM.
 */
static int
decode_sample(struct history_reader *r, const uint8_t *body, size_t len)
{
	struct dec d = {body + 1, body + len, false};
	struct snapshot *s = &r->cur;
	struct procstat *st = &s->stat;
	bool key = body[0] == 'K';
	unsigned flags;

	if (!key && (body[0] != 'D' || !r->have_cur))
		return 0;
	r->have_cur = false;
	flags = (unsigned)get_varint(&d);
	if (key) {
		uint64_t ncols, ncpu, id = 0;

		s->mono_ns = get_varint(&d) * NSEC_PER_USEC;
		s->wall_ns = get_varint(&d) * NSEC_PER_USEC;
		ncols = get_varint(&d);
		ncpu = get_varint(&d);
		if (d.bad || ncols < PROCSTAT_MIN_COLS || ncols > COL_MAX ||
		    ncpu > (uint64_t)(d.end - d.p) || ncpu > HISTORY_CPUS_MAX)
			return 0;
		if (ncpu > st->cpu_cap) {
			struct procstat_cpu *cpu =
			    realloc(st->cpu, ncpu * sizeof(*cpu));

			if (cpu == NULL)
				return -ENOMEM;
			st->cpu = cpu;
			st->cpu_cap = (unsigned)ncpu;
		}
		st->ncols = (unsigned)ncols;
		st->ncpu = (unsigned)ncpu;
		for (unsigned i = 0; i < st->ncpu; i++) {
			id += get_varint(&d);
			if (id > UINT32_MAX - 1)
				return 0;
			st->cpu[i].id = (unsigned)id++;
		}
		st->have = 0;
	} else {
		uint64_t dm_us = get_varint(&d);

		if ((flags ^ r->flags) & ~HISTORY_NEW_RUN)
			return 0;
		s->mono_ns += dm_us * NSEC_PER_USEC;
		s->wall_ns = get_delta(&d, s->wall_ns / NSEC_PER_USEC + dm_us) *
		             NSEC_PER_USEC;
	}
	r->flags = flags;
	st->cpu_detail = true;
	st->have = 0;
	if (flags & HISTORY_HAVE_RUNNING) {
		uint64_t v = get_varint(&d);

		st->procs_running = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
		st->have |= PROCSTAT_HAVE_RUNNING;
	}
	if (flags & HISTORY_HAVE_INTR) {
		st->intr = key ? get_varint(&d) : get_delta(&d, st->intr);
		st->have |= PROCSTAT_HAVE_INTR;
	}
	s->have_psi = flags & HISTORY_HAVE_PSI;
	if (s->have_psi)
		s->psi.some_total_us =
		    key ? get_varint(&d) : get_delta(&d, s->psi.some_total_us);
	s->have_cgroup = flags & HISTORY_HAVE_CGROUP;
	if (s->have_cgroup) {
		struct cgroup_cpu *c = &s->cgroup;

		c->nr_periods =
		    key ? get_varint(&d) : get_delta(&d, c->nr_periods);
		c->nr_throttled =
		    key ? get_varint(&d) : get_delta(&d, c->nr_throttled);
		c->throttled_ns =
		    key ? get_varint(&d) : get_delta(&d, c->throttled_ns);
	}
	if (!get_cols(&d, &st->total, st->ncols, key))
		return 0;
	for (unsigned i = 0; i < st->ncpu; i++)
		if (!get_cols(&d, &st->cpu[i].t, st->ncols, key))
			return 0;
	/* Extensions: the ones this reader knows, the others skipped. */
	bool speed = false;

	while (d.p < d.end) {
		uint64_t tag = get_varint(&d);
		uint64_t n = get_varint(&d);
		int rc;

		if (d.bad || n > (uint64_t)(d.end - d.p))
			return 0;
		if (tag != HISTORY_EXT_SPEED || speed) {
			d.p += n;
			continue;
		}
		if ((rc = get_speed(r, &d, (size_t)n, key)) <= 0)
			return rc;
		speed = true;
	}
	if (!speed) {
		s->have_speed = false;
		s->nspeed = 0;
	}
	r->have_cur = true;
	return 1;
}

int
history_reader_next(struct history_reader *r)
{
	const uint8_t *body;
	size_t body_len;
	int rc;

	while (r->pos < r->len) {
		size_t at = r->pos;

		rc = next_record(r, &body, &body_len);
		if (rc == 0) {
			r->torn_bytes = r->len - at;
			r->pos = r->len;
			return 0;
		}
		if (rc < 0) {
			/* A bad CRC on the last record is a torn write. */
			if (r->pos >= r->len) {
				r->torn_bytes = r->len - at;
				return 0;
			}
			r->corrupt++;
			r->have_cur = false;
			continue;
		}
		r->records++;
		if (body[0] == 'H')
			continue;
		rc = decode_sample(r, body, body_len);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			r->corrupt++;
			continue;
		}
		return 1;
	}
	return 0;
}

void
history_reader_free(struct history_reader *r)
{
	snapshot_free(&r->cur);
	free(r->speed_spare);
	r->speed_spare = NULL;
	r->speed_spare_cap = 0;
}

/* --- the directory ------------------------------------------------------ */

static bool
segment_name(const char *name, uint32_t *seq)
{
	uint32_t v = 0;

	for (int i = 0; i < 8; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		v = v * 10 + (uint32_t)(name[i] - '0');
	}
	if (strcmp(name + 8, ".sth") != 0)
		return false;
	*seq = v;
	return true;
}

static int
seg_cmp(const void *a, const void *b)
{
	const struct history_segment *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The start time in a segment's header, 0 if it has none. */
static uint64_t
segment_start(int dir_fd, const char *name)
{
	uint8_t buf[128];
	struct history_reader r;
	ssize_t n;
	int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0 || history_reader_open(&r, buf, (size_t)n) < 0)
		return 0;
	history_reader_free(&r);
	return r.start_wall_ns;
}

int
history_list(int dir_fd, struct history_segment *seg, unsigned max)
{
	int fd = dup(dir_fd);
	DIR *d;
	struct dirent *de;
	unsigned n = 0;

	if (fd < 0)
		return -errno;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -errno;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL && n < max) {
		struct stat st;
		uint32_t seq;

		if (!segment_name(de->d_name, &seq) ||
		    fstatat(dir_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		seg[n++] = (struct history_segment){.seq = seq,
		    .size = (uint64_t)st.st_size,
		    .start_wall_ns = segment_start(dir_fd, de->d_name)};
	}
	closedir(d);
	qsort(seg, n, sizeof(*seg), seg_cmp);
	return (int)n;
}

static void
seg_filename(uint32_t seq, char name[16])
{
	snprintf(name, 16, "%08u.sth", seq % 100000000u);
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/*
 * Starts the next segment: an empty file now, so a directory we cannot
 * write fails at once; its header goes out with its first sample, in
 * the same write, dated by that sample.
 */
static int
segment_create(struct history_writer *w, uint64_t wall_ns)
{
	uint32_t seq = w->nseg > 0 ? w->seg[w->nseg - 1].seq + 1 : 1;
	char name[16];
	int fd;

	if (w->nseg == HISTORY_SEGMENTS_MAX)
		return -ENOSPC;
	seg_filename(seq, name);
	fd = openat(w->dir_fd, name,
	    O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
	    0644);
	if (fd < 0)
		return -errno;
	if (w->seg_fd >= 0)
		close(w->seg_fd);
	w->seg_fd = fd;
	w->seg[w->nseg++] = (struct history_segment){
	    .seq = seq, .size = 0, .start_wall_ns = wall_ns};
	w->have_prev = false; /* a segment starts with a key */
	w->seg_empty = true;
	/* The directory entry must survive a crash too. */
	fsync(w->dir_fd);
	return 0;
}

static void
segment_drop_oldest(struct history_writer *w)
{
	char name[16];

	seg_filename(w->seg[0].seq, name);
	unlinkat(w->dir_fd, name, 0);
	memmove(&w->seg[0], &w->seg[1], (w->nseg - 1) * sizeof(w->seg[0]));
	w->nseg--;
}

uint64_t
history_size(const struct history_writer *w)
{
	uint64_t t = 0;

	for (unsigned i = 0; i < w->nseg; i++)
		t += w->seg[i].size;
	return t;
}

/* Deletes whole segments past the age and size bounds, never the last. */
static void
enforce_limits(struct history_writer *w, uint64_t now_wall_ns, size_t adding)
{
	while (w->nseg > 1 &&
	       w->seg[1].start_wall_ns + w->lim.keep_ns < now_wall_ns)
		segment_drop_oldest(w);
	while (w->nseg > 1 && history_size(w) + adding > w->lim.max_size)
		segment_drop_oldest(w);
}

int
history_open(struct history_writer *w, const char *dir,
    const struct history_limits *lim, unsigned hz, const char *idle_poll,
    char *why, size_t why_size)
{
	int rc;

	*w = (struct history_writer){
	    .dir_fd = -1, .seg_fd = -1, .lim = *lim, .hz = hz, .new_run = true};
	snprintf(w->idle_poll, sizeof(w->idle_poll), "%s", idle_poll);
	if (gethostname(w->host, sizeof(w->host)) < 0)
		w->host[0] = '\0';
	w->host[sizeof(w->host) - 1] = '\0';
	w->seg_bytes_max = lim->max_size / 16;
	if (w->seg_bytes_max < 4096)
		w->seg_bytes_max = 4096;
	w->seg_age_max_ns = lim->keep_ns / 31;
	if (w->seg_age_max_ns < NSEC_PER_SEC)
		w->seg_age_max_ns = NSEC_PER_SEC;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(why, why_size, "history %s: %s", dir, strerror(-rc));
		return rc;
	}
	w->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->dir_fd < 0) {
		rc = -errno;
		snprintf(why, why_size, "history %s: %s", dir, strerror(-rc));
		return rc;
	}
	if (flock(w->dir_fd, LOCK_EX | LOCK_NB) < 0) {
		rc = -errno;
		snprintf(why, why_size,
		    rc == -EWOULDBLOCK
		        ? "history %s: another stealstat monitor is writing it"
		        : "history %s: lock: %s",
		    dir, strerror(-rc));
		history_close(w);
		return rc;
	}
	if ((rc = history_list(w->dir_fd, w->seg, HISTORY_SEGMENTS_MAX - 1)) <
	    0) {
		snprintf(why, why_size, "history %s: %s", dir, strerror(-rc));
		history_close(w);
		return rc;
	}
	w->nseg = (unsigned)rc;
	if (snapshot_init(&w->prev, 8, true) < 0) {
		history_close(w);
		return -ENOMEM;
	}
	/* A segment now, so an unwritable directory fails at start. */
	if ((rc = segment_create(w, time_wall_ns())) < 0) {
		snprintf(why, why_size, "history %s: new segment: %s", dir,
		    strerror(-rc));
		history_close(w);
		return rc;
	}
	return 0;
}

int
history_append(struct history_writer *w, const struct snapshot *s)
{
	struct history_segment *cur = &w->seg[w->nseg - 1];
	size_t need = 192 + (size_t)(s->stat.ncpu + 1) * COL_MAX * 10 +
	              (s->have_speed ? 2 * (16 + (size_t)s->nspeed * 50) : 0);
	size_t n, h = 0;
	bool key;
	int rc;

	if (need > w->buf_size) {
		uint8_t *b = realloc(w->buf, need);

		if (b == NULL)
			return -ENOMEM;
		w->buf = b;
		w->buf_size = need;
	}
	/* Roll by size, or by age (so the age bound drops a day at a time),
	 * or when the clock went back before the segment's start. */
	if (!w->seg_empty &&
	    (cur->size + need > w->seg_bytes_max ||
	        s->wall_ns >= cur->start_wall_ns + w->seg_age_max_ns ||
	        s->wall_ns + NSEC_PER_SEC < cur->start_wall_ns)) {
		if ((rc = segment_create(w, s->wall_ns)) < 0)
			return rc;
		cur = &w->seg[w->nseg - 1];
	}
	if (w->seg_empty) {
		cur->start_wall_ns = s->wall_ns;
		h = encode_header(w->buf, w->buf_size, w->hz, s->wall_ns,
		    w->idle_poll, w->host);
	}
	key = !w->have_prev || w->since_key >= HISTORY_KEY_EVERY ||
	      !same_shape(&w->prev, s);
	n = history_encode_sample(w->buf + h, w->buf_size - h,
	    key ? NULL : &w->prev, s, w->new_run ? HISTORY_NEW_RUN : 0);
	if (n == 0 || (w->seg_empty && h == 0))
		return -E2BIG;
	n += h;
	enforce_limits(w, s->wall_ns, n);
	if ((rc = write_all(w->seg_fd, w->buf, n)) < 0)
		return rc;
	/* At most the last sample is lost to a power cut. */
	if (w->sync && fdatasync(w->seg_fd) < 0 && errno != EINVAL)
		return -errno;
	cur->size += n;
	w->seg_empty = false;
	w->since_key = key ? 1 : w->since_key + 1;
	w->new_run = false;
	if ((rc = snapshot_copy(&w->prev, s)) < 0)
		return rc;
	w->have_prev = true;
	return 0;
}

void
history_close(struct history_writer *w)
{
	if (w->seg_fd >= 0)
		close(w->seg_fd);
	if (w->dir_fd >= 0)
		close(w->dir_fd);
	w->seg_fd = w->dir_fd = -1;
	snapshot_free(&w->prev);
	free(w->buf);
	w->buf = NULL;
}

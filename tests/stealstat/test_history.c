/* SPDX-License-Identifier: ISC */
/*
 * The history format: samples written by history_append read back the
 * same by the reader, with and without the speed probe's points, and a
 * reader skips an extension it does not know (as an older stealstat
 * skips the speed extension).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "history.h"
#include "timeutil.h"

#define NCPU 3
#define NSAMPLES 12

/* Sample k: counters that move, and (with speed) points that change. */
static void
make_sample(struct snapshot *s, unsigned k, bool speed)
{
	struct procstat *st = &s->stat;

	s->mono_ns = (1000 + 10ull * k) * NSEC_PER_SEC;
	s->wall_ns = (1795737600ull + 10ull * k) * NSEC_PER_SEC;
	st->ncols = COL_MAX;
	st->ncpu = NCPU;
	st->have = PROCSTAT_HAVE_RUNNING;
	st->procs_running = 1 + k % 3;
	memset(&st->total, 0, sizeof(st->total));
	for (unsigned i = 0; i < NCPU; i++) {
		st->cpu[i].id = i == 2 ? 5 : i; /* a gap in the ids */
		for (unsigned c = 0; c < COL_MAX; c++) {
			st->cpu[i].t.col[c] = 1000 * (i + 1) + c + 37 * k * c;
			st->total.col[c] += st->cpu[i].t.col[c];
		}
	}
	s->have_speed = speed && k != 4; /* a round that probed nothing */
	s->nspeed = 0;
	if (!s->have_speed)
		return;
	for (unsigned i = 0; i < NCPU; i++) {
		struct speed_point *p = &s->speed[s->nspeed];

		if (k == 7 && i == 1)
			continue; /* not its turn */
		p->cpu = st->cpu[i].id;
		p->best_ns = k < 6 ? 400000 + i : 396000 + i; /* a new best */
		p->unit_ns = p->best_ns + (k * 7919 + i * 104729) % 500000;
		p->lost_ns = k == 9 ? 0 : 3000 + 1000 * k + i;
		p->flags = (k + i) % 8;
		s->nspeed++;
	}
}

static void
tmp_dir(char *buf, size_t size, const char *name)
{
	const char *dir = getenv("TK_TEST_TMPDIR");
	char cmd[600];

	snprintf(buf, size, "%s/%s.%ld", dir != NULL ? dir : "/tmp", name,
	    (long)getpid());
	snprintf(cmd, sizeof(cmd), "rm -rf %s", buf);
	assert_int_equal(system(cmd), 0);
}

/* Writes NSAMPLES samples into a new history in dir. */
static void
write_history(const char *dir, bool speed)
{
	struct history_limits lim = {
	    .keep_ns = 86400 * NSEC_PER_SEC, .max_size = 1u << 20};
	struct history_writer w;
	struct snapshot s;
	char why[160];

	assert_int_equal(
	    history_open(&w, dir, &lim, 100, "", why, sizeof(why)), 0);
	assert_int_equal(snapshot_init(&s, NCPU, true), 0);
	s.speed = calloc(NCPU, sizeof(*s.speed));
	assert_non_null(s.speed);
	s.speed_cap = NCPU;
	for (unsigned k = 0; k < NSAMPLES; k++) {
		make_sample(&s, k, speed);
		assert_int_equal(history_append(&w, &s), 0);
	}
	snapshot_free(&s);
	history_close(&w);
}

static uint8_t *
read_segment(const char *dir, size_t *len)
{
	char path[600];
	uint8_t *buf = malloc(1u << 20);
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/00000001.sth", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_non_null(buf);
	n = read(fd, buf, 1u << 20);
	close(fd);
	assert_true(n > 0);
	*len = (size_t)n;
	return buf;
}

/* Reads buf and checks every sample against make_sample's. */
static void
check_samples(const uint8_t *buf, size_t len, bool speed)
{
	struct history_reader r;
	struct snapshot want;
	unsigned k = 0;

	assert_int_equal(snapshot_init(&want, NCPU, true), 0);
	want.speed = calloc(NCPU, sizeof(*want.speed));
	want.speed_cap = NCPU;
	assert_int_equal(history_reader_open(&r, buf, len), 0);
	while (history_reader_next(&r) > 0) {
		const struct snapshot *s = &r.cur;

		assert_true(k < NSAMPLES);
		make_sample(&want, k, speed);
		assert_true(s->mono_ns == want.mono_ns);
		assert_true(s->wall_ns == want.wall_ns);
		assert_int_equal(s->stat.ncpu, NCPU);
		for (unsigned i = 0; i < NCPU; i++) {
			assert_int_equal(
			    s->stat.cpu[i].id, want.stat.cpu[i].id);
			assert_memory_equal(&s->stat.cpu[i].t,
			    &want.stat.cpu[i].t, sizeof(struct cpu_times));
		}
		assert_int_equal(s->have_speed, want.have_speed);
		assert_int_equal(s->nspeed, want.nspeed);
		for (unsigned i = 0; i < want.nspeed; i++) {
			assert_int_equal(s->speed[i].cpu, want.speed[i].cpu);
			assert_true(
			    s->speed[i].unit_ns == want.speed[i].unit_ns);
			assert_true(
			    s->speed[i].best_ns == want.speed[i].best_ns);
			assert_true(
			    s->speed[i].lost_ns == want.speed[i].lost_ns);
			assert_int_equal(
			    s->speed[i].flags, want.speed[i].flags);
		}
		k++;
	}
	assert_int_equal(k, NSAMPLES);
	assert_true(r.corrupt == 0 && r.torn_bytes == 0);
	history_reader_free(&r);
	snapshot_free(&want);
}

static void
test_round_trip_without_speed(void **state)
{
	char dir[512];
	uint8_t *buf;
	size_t len;

	(void)state;
	tmp_dir(dir, sizeof(dir), "hist-nospeed");
	write_history(dir, false);
	buf = read_segment(dir, &len);
	check_samples(buf, len, false);
	free(buf);
}

static void
test_round_trip_with_speed(void **state)
{
	char dir[512], nodir[512];
	uint8_t *buf;
	size_t len, len_without;

	(void)state;
	tmp_dir(dir, sizeof(dir), "hist-speed");
	write_history(dir, true);
	buf = read_segment(dir, &len);
	check_samples(buf, len, true);
	free(buf);
	/* The speed costs bytes, a few a CPU and sample. */
	tmp_dir(nodir, sizeof(nodir), "hist-nospeed2");
	write_history(nodir, false);
	free(read_segment(nodir, &len_without));
	assert_true(len > len_without);
	assert_true(len - len_without < (size_t)NSAMPLES * NCPU * 20);
}

/* CRC-32C, as history.c frames records. */
static uint32_t
crc32c(const uint8_t *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;

	while (n-- > 0) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
	}
	return c ^ 0xFFFFFFFFu;
}

static size_t
put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/*
 * Copies the segment in, appending to each sample record the extension
 * ext (as a newer stealstat might write), framed anew.
 */
static size_t
add_extension(const uint8_t *in, size_t len, uint8_t *out, const uint8_t *ext,
    size_t ext_len)
{
	size_t i = 0, o = 0;

	while (i < len) {
		uint64_t body_len = 0;
		int shift = 0;
		const uint8_t *body;
		uint8_t rec[4096];
		size_t n, start;
		uint32_t crc;

		while (in[i] & 0x80)
			body_len |= (uint64_t)(in[i++] & 0x7F) << shift,
			    shift += 7;
		body_len |= (uint64_t)in[i++] << shift;
		body = in + i;
		i += body_len + 4;
		assert_true(body_len + ext_len < sizeof(rec));
		memcpy(rec, body, body_len);
		n = body_len;
		if (body[0] != 'H') {
			memcpy(rec + n, ext, ext_len);
			n += ext_len;
		}
		start = o;
		o += put_varint(out + o, n);
		memcpy(out + o, rec, n);
		o += n;
		crc = crc32c(out + start, o - start);
		for (int b = 0; b < 4; b++)
			out[o++] = (uint8_t)(crc >> (8 * b));
	}
	return o;
}

static void
test_unknown_extension_is_skipped(void **state)
{
	/* Tag 77 with 5 bytes, then tag 200 (two bytes of varint) with 2. */
	static const uint8_t ext[] = {
	    77, 5, 1, 2, 3, 4, 5, 0xC8, 0x01, 2, 9, 9};
	char dir[512];
	uint8_t *buf, *grown;
	size_t len, n;

	(void)state;
	tmp_dir(dir, sizeof(dir), "hist-ext");
	write_history(dir, true);
	buf = read_segment(dir, &len);
	grown = malloc(len + NSAMPLES * (sizeof(ext) + 8));
	assert_non_null(grown);
	n = add_extension(buf, len, grown, ext, sizeof(ext));
	assert_true(n > len);
	check_samples(grown, n, true);
	/* Without the speed in it, the same is true of an old segment. */
	free(buf);
	tmp_dir(dir, sizeof(dir), "hist-ext2");
	write_history(dir, false);
	buf = read_segment(dir, &len);
	n = add_extension(buf, len, grown, ext, sizeof(ext));
	check_samples(grown, n, false);
	free(grown);
	free(buf);
}

static void
test_damaged_speed_is_a_corrupt_record(void **state)
{
	/* A speed extension claiming a best time of 0. */
	static const uint8_t ext[] = {1, 6, 1, 0, 0, 0, 5, 0};
	struct history_reader r;
	char dir[512];
	uint8_t *buf, *grown;
	size_t len, n;
	unsigned samples = 0;

	(void)state;
	tmp_dir(dir, sizeof(dir), "hist-bad");
	write_history(dir, false);
	buf = read_segment(dir, &len);
	grown = malloc(len + NSAMPLES * (sizeof(ext) + 8));
	assert_non_null(grown);
	n = add_extension(buf, len, grown, ext, sizeof(ext));
	assert_int_equal(history_reader_open(&r, grown, n), 0);
	while (history_reader_next(&r) > 0)
		samples++;
	assert_int_equal(samples, 0);
	assert_true(r.corrupt > 0);
	history_reader_free(&r);
	free(grown);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip_without_speed),
	    cmocka_unit_test(test_round_trip_with_speed),
	    cmocka_unit_test(test_unknown_extension_is_skipped),
	    cmocka_unit_test(test_damaged_speed_is_a_corrupt_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: ISC */
/*
 * Replay of a hostile record: the record reader, the snapshot parsers and
 * the engine, end to end, exactly as `stealstat --replay` runs them.
 */
#include <stdint.h>
#include <stdlib.h>

#include "engine.h"
#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct record_reader rr;
	struct raw_snapshot raw;
	struct snapshot snaps[2], *prev = &snaps[0], *cur = &snaps[1], *t;
	struct verdict_opts opts;
	struct engine e;
	struct summary sum;
	const struct interval *iv;
	const char *what;
	char why[REASON_MAX];
	int have_prev = 0, rc;

	if (record_open(&rr, "fuzz", (const char *)data, size) < 0)
		return 0;
	verdict_opts_default(&opts);
	/* Odd sizes parse per-CPU columns, even sizes only the ids. */
	if (snapshot_init(prev, 2, size % 2) < 0 ||
	    snapshot_init(cur, 2, size % 2) < 0 ||
	    engine_init(&e, &opts, rr.hz) < 0)
		abort();
	while ((rc = record_next(&rr, &raw)) > 0) {
		if (snapshot_parse(&raw, have_prev ? cur : prev, &what) < 0)
			continue;
		if (have_prev) {
			iv = engine_step(&e, prev, cur);
			if (iv == NULL)
				abort();
			engine_reason(&e, iv, &iv->total, why, sizeof(why));
			for (unsigned i = 0; i < iv->ncpu; i++)
				engine_reason(
				    &e, iv, &iv->cpu[i], why, sizeof(why));
			t = prev;
			prev = cur;
			cur = t;
		}
		have_prev = 1;
	}
	engine_summary(&e, &sum);
	if (sum.verdict >= VERDICT_MAX || sum.advice == NULL)
		abort();
	engine_free(&e);
	snapshot_free(&snaps[0]);
	snapshot_free(&snaps[1]);
	return 0;
}

/* SPDX-License-Identifier: ISC */
/*
 * A hostile history segment: the reader, then the engine over every pair
 * of samples it returns, as `stealstat report` runs them.
 */
#include <stdint.h>
#include <stdlib.h>

#include "engine.h"
#include "history.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct history_reader r;
	struct snapshot prev;
	struct verdict_opts opts;
	struct engine e;
	struct summary sum;
	const struct interval *iv;
	char why[REASON_MAX];
	int have_prev = 0;

	if (history_reader_open(&r, data, size) < 0) {
		history_reader_free(&r);
		return 0;
	}
	verdict_opts_default(&opts);
	if (snapshot_init(&prev, 2, 1) < 0 || engine_init(&e, &opts, r.hz) < 0)
		abort();
	while (history_reader_next(&r) > 0) {
		if (have_prev && !(r.flags & HISTORY_NEW_RUN)) {
			iv = engine_step(&e, &prev, &r.cur);
			if (iv == NULL)
				abort();
			engine_reason(&e, iv, &iv->total, why, sizeof(why));
		}
		if (snapshot_copy(&prev, &r.cur) < 0)
			abort();
		have_prev = 1;
	}
	engine_summary(&e, &sum);
	engine_free(&e);
	snapshot_free(&prev);
	history_reader_free(&r);
	return 0;
}

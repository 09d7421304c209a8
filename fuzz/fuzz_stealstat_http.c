/* SPDX-License-Identifier: ISC */
/*
 * The request head a /metrics client sends to stealstat monitor.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "exporter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool metrics = false;
	int status;

	if (size > EXPORTER_REQUEST_MAX)
		size = EXPORTER_REQUEST_MAX;
	status = exporter_parse_request((const char *)data, size, &metrics);
	if (status != 0 && status != 200 && status != 400 && status != 404 &&
	    status != 405)
		abort();
	if (metrics && status != 200)
		abort();
	return 0;
}

/* SPDX-License-Identifier: ISC */
/*
 * The tokens file: any bytes. What parses holds only well-formed, unique
 * names; what does not names a line that exists and says why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokens.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t
count_lines(const uint8_t *data, size_t size)
{
	size_t lines = size > 0 && data[size - 1] != '\n', i;

	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	return lines;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tokens t = {0};
	unsigned line = 0;
	char why[128];
	size_t i, j, len;
	const char *name;

	why[0] = '\0';
	if (tokens_parse(
	        (const char *)data, size, &t, &line, why, sizeof(why)) < 0) {
		if (line == 0 || line > count_lines(data, size) ||
		    why[0] == '\0')
			abort();
		return 0;
	}
	for (i = 0; i < t.count; i++) {
		len = strlen(t.entries[i].name);
		if (len == 0 || len > TOKEN_NAME_MAX)
			abort();
		if (strspn(t.entries[i].name,
		        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		        "0123456789_.-") != len)
			abort();
		for (j = 0; j < i; j++)
			if (strcmp(t.entries[i].name, t.entries[j].name) == 0)
				abort();
	}
	/* The input as a presented token: any answer must be an entry. */
	name = tokens_check(&t, (const char *)data, size);
	if (name != NULL) {
		for (i = 0; i < t.count; i++)
			if (name == t.entries[i].name)
				break;
		if (i == t.count)
			abort();
	}
	tokens_free(&t);
	return 0;
}

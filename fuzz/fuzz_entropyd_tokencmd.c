/* SPDX-License-Identifier: ISC */
/*
 * entropyd token's edits of a tokens file: any bytes. An entry added to
 * a file that parsed still parses, with the name in it; revoking it
 * again gives a file that parses without it, and every other entry of
 * the original is still there.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokencmd.h"
#include "tokens.h"

#define H64 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
has_name(const struct tokens *t, const char *name)
{
	for (size_t i = 0; i < t->count; i++)
		if (strcmp(t->entries[i].name, name) == 0)
			return true;
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tokens before = {0}, added = {0}, after = {0};
	const char *text = (const char *)data;
	char why[128], when[64], *plus, *minus;
	unsigned line;
	int found;

	if (memchr(data, '\0', size) != NULL ||
	    tokens_parse(text, size, &before, &line, why, sizeof(why)) < 0 ||
	    has_name(&before, "fuzzed"))
		goto out;
	if ((plus = tokens_text_add(text, size, "fuzzed", H64, "T")) == NULL)
		abort();
	if (tokens_parse(plus, strlen(plus), &added, &line, why, sizeof(why)) <
	        0 ||
	    !has_name(&added, "fuzzed") || added.count != before.count + 1)
		abort();
	tokens_text_added(plus, strlen(plus), "fuzzed", when, sizeof(when));
	if (strcmp(when, "T") != 0)
		abort();
	if ((minus = tokens_text_revoke(
	         plus, strlen(plus), "fuzzed", &found)) == NULL)
		abort();
	if (!found ||
	    tokens_parse(
	        minus, strlen(minus), &after, &line, why, sizeof(why)) < 0 ||
	    has_name(&after, "fuzzed") || after.count != before.count)
		abort();
	for (size_t i = 0; i < before.count; i++)
		if (!has_name(&after, before.entries[i].name))
			abort();
	free(plus);
	free(minus);
out:
	tokens_free(&before);
	tokens_free(&added);
	tokens_free(&after);
	return 0;
}

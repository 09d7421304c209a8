/* SPDX-License-Identifier: ISC */
/*
 * fuzz_json.c: whatever bytes go into a string, the writer's output is
 * valid JSON text: no raw control characters, only valid UTF-8, and text
 * that was already clean comes out unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * An independent UTF-8 check (RFC 3629 as a decoder, not the writer's
 * table), so a bug in the writer's validation cannot hide itself.
 */
static int
valid_utf8(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n, k;

		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0)
			n = 1, cp = s[i] & 0x1f;
		else if ((s[i] & 0xf0) == 0xe0)
			n = 2, cp = s[i] & 0x0f;
		else if ((s[i] & 0xf8) == 0xf0)
			n = 3, cp = s[i] & 0x07;
		else
			return 0;
		if (i + n >= len)
			return 0; /* truncated */
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000))
			return 0; /* overlong */
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

/* True if the input needs no escaping at all. */
static int
plain_text(const unsigned char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] == '"' || s[i] == '\\')
			return 0;
	return valid_utf8(s, len);
}

/* Writes {"k":"<s>"} and checks the text; s is len bytes. */
static void
check_one(const char *s, size_t len, int by_length)
{
	/* Worst case: every byte becomes a six-byte escape. */
	size_t size = len * 6 + 16;
	char *out = malloc(size);
	struct json_writer w;
	int n;

	if (out == NULL)
		abort();
	json_init(&w, out, size);
	json_object_begin(&w);
	json_key(&w, "k");
	if (by_length)
		json_string_len(&w, s, len);
	else
		json_string(&w, s);
	json_object_end(&w);
	n = json_finish(&w);
	if (n < 8 || (size_t)n >= size || out[n] != '\0')
		abort();
	if (memcmp(out, "{\"k\":\"", 6) != 0 ||
	    memcmp(out + n - 2, "\"}", 2) != 0)
		abort();
	for (int i = 0; i < n; i++)
		if ((unsigned char)out[i] < 0x20)
			abort();
	if (!valid_utf8((const unsigned char *)out, (size_t)n))
		abort();
	if (plain_text((const unsigned char *)s, len) &&
	    ((size_t)n != len + 8 || memcmp(out + 6, s, len) != 0))
		abort();
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *str = malloc(size + 1);

	if (str == NULL)
		abort();
	memcpy(str, data, size);
	str[size] = '\0';
	check_one(str, strlen(str), 0); /* as a C string: up to a NUL */
	check_one(str, size, 1); /* every byte, NULs included */
	free(str);
	return 0;
}

/* SPDX-License-Identifier: ISC */
/* json.c: an allocation-free JSON writer into a caller-owned buffer. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include "json.h"

/*
 * What each byte needs inside a string: 0 is copied as is, 1 is escaped
 * (quote, backslash, control characters), 2 starts a UTF-8 sequence that
 * must be checked. Runs of class 0 are copied with one memcpy.
 */
enum { BYTE_PLAIN = 0, BYTE_ESCAPE = 1, BYTE_HIGH = 2 };

static const unsigned char json_byte_class[256] = {
    [0x00 ... 0x1f] = BYTE_ESCAPE,
    ['"'] = BYTE_ESCAPE,
    ['\\'] = BYTE_ESCAPE,
    [0x80 ... 0xff] = BYTE_HIGH,
};

static const char json_hex[] = "0123456789abcdef";

void
json_init(struct json_writer *w, char *buf, size_t size)
{
	memset(w, 0, sizeof(*w));
	w->buf = buf;
	/* Capped so that json_finish can always return the length as int. */
	w->size = buf == NULL ? 0 : size > INT_MAX ? INT_MAX : size;
}

static void
json_fail(struct json_writer *w, int error)
{
	if (w->error == 0)
		w->error = error;
}

/* True if n more bytes fit, leaving room for the final NUL. */
static inline int
json_room(struct json_writer *w, size_t n)
{
	if (w->error != 0)
		return 0;
	if (w->size == 0 || n >= w->size - w->len) {
		json_fail(w, -ENOBUFS);
		return 0;
	}
	return 1;
}

static inline void
json_put(struct json_writer *w, const void *p, size_t n)
{
	if (!json_room(w, n))
		return;
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static inline void
json_putc(struct json_writer *w, char c)
{
	if (!json_room(w, 1))
		return;
	w->buf[w->len++] = c;
}

/*
 * Called before every value: checks that a value may come here (after a
 * key in an object; anywhere in an array; once at the top level) and
 * writes the separating comma. Returns 0 if the value must not be written.
 */
static int
json_begin_value(struct json_writer *w)
{
	unsigned top;

	if (w->error != 0)
		return 0;
	if (w->depth == 0) {
		if (w->len > 0) {
			/* A second top-level value is not one JSON text. */
			json_fail(w, -EINVAL);
			return 0;
		}
		return 1;
	}
	top = w->depth - 1;
	if (w->in_object[top]) {
		if (!w->key_pending) {
			json_fail(w, -EINVAL);
			return 0;
		}
		w->key_pending = false;
		return 1;
	}
	if (w->has_items[top])
		json_putc(w, ',');
	w->has_items[top] = true;
	return w->error == 0;
}

/*
 * Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlongs,
 * no surrogates, nothing above U+10FFFF), or minus the length of its
 * longest ill-formed prefix, which becomes one U+FFFD (the "maximal
 * subpart" practice of Unicode, chapter 3).
 */
static int
utf8_sequence(const unsigned char *s, size_t avail)
{
	unsigned char lo = 0x80, hi = 0xbf;
	unsigned need, k;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		need = 1;
	else if (s[0] == 0xe0)
		need = 2, lo = 0xa0; /* below: overlong */
	else if (s[0] == 0xed)
		need = 2, hi = 0x9f; /* above: surrogates */
	else if (s[0] >= 0xe1 && s[0] <= 0xef)
		need = 2;
	else if (s[0] == 0xf0)
		need = 3, lo = 0x90; /* below: overlong */
	else if (s[0] == 0xf4)
		need = 3, hi = 0x8f; /* above: beyond U+10FFFF */
	else if (s[0] >= 0xf1 && s[0] <= 0xf3)
		need = 3;
	else
		return -1; /* continuation byte, C0, C1 or F5..FF */

	for (k = 1; k <= need; k++) {
		if (k >= avail || s[k] < lo || s[k] > hi)
			return -(int)k;
		lo = 0x80;
		hi = 0xbf;
	}
	return (int)need + 1;
}

static void
json_put_escape(struct json_writer *w, unsigned char c)
{
	char esc[6] = {'\\', 'u', '0', '0', json_hex[c >> 4], json_hex[c & 15]};

	switch (c) {
	case '"':
		json_put(w, "\\\"", 2);
		return;
	case '\\':
		json_put(w, "\\\\", 2);
		return;
	case '\b':
		json_put(w, "\\b", 2);
		return;
	case '\f':
		json_put(w, "\\f", 2);
		return;
	case '\n':
		json_put(w, "\\n", 2);
		return;
	case '\r':
		json_put(w, "\\r", 2);
		return;
	case '\t':
		json_put(w, "\\t", 2);
		return;
	}
	json_put(w, esc, sizeof(esc));
}

/* Writes s[0..len) as a quoted, escaped JSON string. */
static void
json_put_string(struct json_writer *w, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, start;
	int n;

	json_putc(w, '"');
	while (i < len && w->error == 0) {
		start = i;
		while (i < len && json_byte_class[s[i]] == BYTE_PLAIN)
			i++;
		if (i > start)
			json_put(w, s + start, i - start);
		if (i == len)
			break;
		if (json_byte_class[s[i]] == BYTE_ESCAPE) {
			json_put_escape(w, s[i]);
			i++;
			continue;
		}
		n = utf8_sequence(s + i, len - i);
		if (n > 0) {
			json_put(w, s + i, (size_t)n);
			i += (size_t)n;
		} else {
			json_put(w, "\\ufffd", 6);
			i += (size_t)-n;
		}
	}
	json_putc(w, '"');
}

void
json_object_begin(struct json_writer *w)
{
	if (w->error == 0 && w->depth >= JSON_MAX_DEPTH)
		json_fail(w, -EINVAL);
	if (!json_begin_value(w))
		return;
	json_putc(w, '{');
	w->in_object[w->depth] = true;
	w->has_items[w->depth] = false;
	w->depth++;
}

void
json_array_begin(struct json_writer *w)
{
	if (w->error == 0 && w->depth >= JSON_MAX_DEPTH)
		json_fail(w, -EINVAL);
	if (!json_begin_value(w))
		return;
	json_putc(w, '[');
	w->in_object[w->depth] = false;
	w->has_items[w->depth] = false;
	w->depth++;
}

static void
json_container_end(struct json_writer *w, bool object, char close)
{
	if (w->error != 0)
		return;
	if (w->depth == 0 || w->in_object[w->depth - 1] != object ||
	    w->key_pending) {
		json_fail(w, -EINVAL);
		return;
	}
	json_putc(w, close);
	w->depth--;
}

void
json_object_end(struct json_writer *w)
{
	json_container_end(w, true, '}');
}

void
json_array_end(struct json_writer *w)
{
	json_container_end(w, false, ']');
}

void
json_key(struct json_writer *w, const char *key)
{
	unsigned top;

	if (w->error != 0)
		return;
	if (key == NULL || w->depth == 0 || !w->in_object[w->depth - 1] ||
	    w->key_pending) {
		json_fail(w, -EINVAL);
		return;
	}
	top = w->depth - 1;
	if (w->has_items[top])
		json_putc(w, ',');
	w->has_items[top] = true;
	json_put_string(w, key, strlen(key));
	json_putc(w, ':');
	w->key_pending = true;
}

void
json_string_len(struct json_writer *w, const char *s, size_t len)
{
	if (s == NULL && len > 0) {
		json_fail(w, -EINVAL);
		return;
	}
	if (!json_begin_value(w))
		return;
	json_put_string(w, s != NULL ? s : "", len);
}

void
json_string(struct json_writer *w, const char *s)
{
	if (s == NULL) {
		json_fail(w, -EINVAL);
		return;
	}
	json_string_len(w, s, strlen(s));
}

/* Decimal digits of v, written backwards ending at end; returns start. */
static char *
u64_digits(uint64_t v, char *end)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return end;
}

void
json_u64(struct json_writer *w, uint64_t v)
{
	char tmp[20];
	char *p;

	if (!json_begin_value(w))
		return;
	p = u64_digits(v, tmp + sizeof(tmp));
	json_put(w, p, (size_t)(tmp + sizeof(tmp) - p));
}

void
json_i64(struct json_writer *w, int64_t v)
{
	char tmp[21];
	char *p;
	/* Negated as unsigned so INT64_MIN does not overflow. */
	uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	if (!json_begin_value(w))
		return;
	p = u64_digits(mag, tmp + sizeof(tmp));
	if (v < 0)
		*--p = '-';
	json_put(w, p, (size_t)(tmp + sizeof(tmp) - p));
}

/*
 * Writes a finite double of at least 2^64, which is always an integer, in
 * full: mantissa times a power of two, multiplied out in base 10^9 limbs.
 * DBL_MAX has 309 digits, so 35 limbs are enough.
 */
static void
json_put_huge_integer(struct json_writer *w, double a)
{
	uint32_t limb[36];
	size_t nlimbs = 0, i;
	uint64_t bits, mant, carry;
	int shift;
	char digits[9];

	memcpy(&bits, &a, sizeof(bits));
	mant = (bits & ((1ULL << 52) - 1)) | (1ULL << 52);
	shift = (int)((bits >> 52) & 0x7ff) - 1075;

	for (carry = mant; carry != 0; carry /= 1000000000)
		limb[nlimbs++] = (uint32_t)(carry % 1000000000);
	while (shift > 0) {
		int step = shift > 29 ? 29 : shift;

		carry = 0;
		for (i = 0; i < nlimbs; i++) {
			uint64_t x = ((uint64_t)limb[i] << step) + carry;

			limb[i] = (uint32_t)(x % 1000000000);
			carry = x / 1000000000;
		}
		while (carry != 0 && nlimbs < sizeof(limb) / sizeof(limb[0])) {
			limb[nlimbs++] = (uint32_t)(carry % 1000000000);
			carry /= 1000000000;
		}
		shift -= step;
	}

	for (i = nlimbs; i-- > 0;) {
		char *p = u64_digits(limb[i], digits + sizeof(digits));

		if (i == nlimbs - 1) {
			json_put(w, p, (size_t)(digits + sizeof(digits) - p));
		} else {
			while (p > digits)
				*--p = '0';
			json_put(w, digits, sizeof(digits));
		}
	}
}

/*
 * Fixed-point output without printf, so the result never depends on the
 * locale's decimal point and costs no format parsing on every sample.
 * Rounds half away from zero at the last decimal; "-" only when the
 * rounded value is not zero.
 */
void
json_double(struct json_writer *w, double v, int decimals)
{
	static const uint64_t pow10[] = {1, 10, 100, 1000, 10000, 100000,
	    1000000, 10000000, 100000000, 1000000000};
	char tmp[32];
	char *p, *end = tmp + sizeof(tmp);
	uint64_t whole, frac = 0;
	double a;
	int i;

	if (decimals < 0 || decimals > 9) {
		json_fail(w, -EINVAL);
		return;
	}
	if (!json_begin_value(w))
		return;
	if (isnan(v) || isinf(v)) {
		json_put(w, "null", 4);
		return;
	}
	a = v < 0 ? -v : v;
	if (a >= 18446744073709551616.0) {
		if (v < 0)
			json_putc(w, '-');
		json_put_huge_integer(w, a);
		if (decimals > 0) {
			json_putc(w, '.');
			for (i = 0; i < decimals; i++)
				json_putc(w, '0');
		}
		return;
	}
	whole = (uint64_t)a;
	if (a < 9007199254740992.0) { /* 2^53: a may have a fraction */
		/* a - whole is exact; only the scaling below rounds. */
		double scaled = (a - (double)whole) * (double)pow10[decimals];

		frac = (uint64_t)scaled;
		if (scaled - (double)frac >= 0.5)
			frac++;
		if (frac >= pow10[decimals]) {
			frac -= pow10[decimals];
			whole++;
		}
	}

	p = end;
	if (decimals > 0) {
		for (i = 0; i < decimals; i++) {
			*--p = (char)('0' + frac % 10);
			frac /= 10;
		}
		*--p = '.';
	}
	p = u64_digits(whole, p);
	if (v < 0) {
		for (i = 0; p + i < end; i++)
			if (p[i] >= '1' && p[i] <= '9') {
				*--p = '-';
				break;
			}
	}
	json_put(w, p, (size_t)(end - p));
}

void
json_bool(struct json_writer *w, bool v)
{
	if (!json_begin_value(w))
		return;
	if (v)
		json_put(w, "true", 4);
	else
		json_put(w, "false", 5);
}

void
json_null(struct json_writer *w)
{
	if (!json_begin_value(w))
		return;
	json_put(w, "null", 4);
}

int
json_finish(struct json_writer *w)
{
	if (w->error == 0 && (w->depth != 0 || w->key_pending || w->len == 0))
		json_fail(w, -EINVAL);
	if (w->error != 0) {
		/* Never leave half a document that looks like a string. */
		if (w->size > 0)
			w->buf[0] = '\0';
		return w->error;
	}
	w->buf[w->len] = '\0';
	return (int)w->len;
}

void
json_kv_string(struct json_writer *w, const char *key, const char *s)
{
	json_key(w, key);
	json_string(w, s);
}

void
json_kv_u64(struct json_writer *w, const char *key, uint64_t v)
{
	json_key(w, key);
	json_u64(w, v);
}

void
json_kv_double(struct json_writer *w, const char *key, double v, int decimals)
{
	json_key(w, key);
	json_double(w, v, decimals);
}

void
json_kv_double_or_null(struct json_writer *w, const char *key, bool present,
    double v, int decimals)
{
	json_key(w, key);
	if (present)
		json_double(w, v, decimals);
	else
		json_null(w);
}

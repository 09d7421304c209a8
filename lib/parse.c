/* SPDX-License-Identifier: ISC */
/* parse.c: strict, locale-free parsers for numbers, durations, sizes and
 * addresses. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "parse.h"

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char
ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Case-insensitive ASCII equality, whatever the locale says. */
static int
ascii_equal_nocase(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++)
		if (ascii_lower(*a) != ascii_lower(*b))
			return 0;
	return *a == *b;
}

/*
 * Reads a run of decimal digits at *sp into *out and advances *sp past
 * it. Returns 0, -EINVAL if there is no digit, or -ERANGE if the value
 * does not fit (*sp is still advanced past all digits, so the caller can
 * report junk in preference to overflow).
 */
static int
scan_digits(const char **sp, uint64_t *out)
{
	const char *s = *sp;
	uint64_t v = 0;
	int overflow = 0;

	if (!is_digit(*s))
		return -EINVAL;
	for (; is_digit(*s); s++) {
		unsigned d = (unsigned)(*s - '0');

		if (v > (UINT64_MAX - d) / 10)
			overflow = 1;
		else
			v = v * 10 + d;
	}
	*sp = s;
	*out = v;
	return overflow ? -ERANGE : 0;
}

int
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;
	int r;

	if (s == NULL)
		return -EINVAL;
	r = scan_digits(&s, &v);
	if (r == -EINVAL || *s != '\0')
		return -EINVAL;
	if (r < 0)
		return r;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int
parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v;
	int r;

	r = parse_u64(s, min, max, &v);
	if (r < 0)
		return r;
	*out = (uint32_t)v;
	return 0;
}

static const struct {
	const char *suffix;
	uint64_t ns;
} duration_units[] = {
    {"ns", 1},
    {"us", 1000ULL},
    {"ms", 1000000ULL},
    {"s", 1000000000ULL},
    {"m", 60 * 1000000000ULL},
    {"h", 3600 * 1000000000ULL},
    {"d", 86400 * 1000000000ULL},
};

/*
 * Computes floor(0.DIGITS * unit) exactly for the n fraction digits at
 * frac, however many there are: Horner's rule from the last digit, where
 * flooring at every step gives the same result as flooring once.
 */
static uint64_t
fraction_times(const char *frac, size_t n, uint64_t unit)
{
	uint64_t acc = 0;

	while (n-- > 0)
		acc = ((uint64_t)(frac[n] - '0') * unit + acc) / 10;
	return acc;
}

int
parse_duration_ns(const char *s, uint64_t *out_ns)
{
	const char *frac = NULL, *unit_str;
	size_t frac_len = 0, i;
	uint64_t whole, unit = 0, total;
	int r;

	if (s == NULL)
		return -EINVAL;
	r = scan_digits(&s, &whole);
	if (r == -EINVAL)
		return r;
	if (*s == '.') {
		frac = ++s;
		while (is_digit(*s))
			s++;
		frac_len = (size_t)(s - frac);
		if (frac_len == 0)
			return -EINVAL;
	}
	unit_str = s;
	if (*unit_str == '\0')
		unit = 1000000000ULL; /* a bare number is seconds */
	for (i = 0; unit == 0 &&
	            i < sizeof(duration_units) / sizeof(duration_units[0]);
	     i++)
		if (strcmp(unit_str, duration_units[i].suffix) == 0)
			unit = duration_units[i].ns;
	if (unit == 0)
		return -EINVAL;
	if (r < 0)
		return r;

	if (whole > UINT64_MAX / unit)
		return -ERANGE;
	total = whole * unit;
	if (frac != NULL) {
		uint64_t part = fraction_times(frac, frac_len, unit);

		if (total > UINT64_MAX - part)
			return -ERANGE;
		total += part;
	}
	*out_ns = total;
	return 0;
}

int
parse_size(const char *s, uint64_t *out_bytes)
{
	uint64_t v, mult = 1;
	int shift = 0, r;

	if (s == NULL)
		return -EINVAL;
	r = scan_digits(&s, &v);
	if (r == -EINVAL)
		return r;
	switch (ascii_lower(*s)) {
	case 'k':
		shift = 10;
		break;
	case 'm':
		shift = 20;
		break;
	case 'g':
		shift = 30;
		break;
	case 't':
		shift = 40;
		break;
	}
	if (shift != 0) {
		s++;
		if (ascii_lower(s[0]) == 'i' && ascii_lower(s[1]) == 'b')
			s += 2;
		else if (ascii_lower(s[0]) == 'b')
			s++;
	} else if (ascii_lower(s[0]) == 'b')
		s++;
	if (*s != '\0')
		return -EINVAL;
	if (r < 0)
		return r;
	mult <<= shift;
	if (v > UINT64_MAX / mult)
		return -ERANGE;
	*out_bytes = v * mult;
	return 0;
}

/*
 * The percentage is read as an exact decimal (digits and a count of
 * fraction digits) and divided once, so "12.5" gives exactly 0.125.
 * Fraction digits past the 17th (worth under 1e-19) are skipped.
 */
int
parse_percent(const char *s, double *out_fraction)
{
	uint64_t whole, frac = 0, scale = 100;
	int r, frac_digits = 0;
	double v;

	if (s == NULL)
		return -EINVAL;
	r = scan_digits(&s, &whole);
	if (r == -EINVAL)
		return r;
	if (*s == '.') {
		s++;
		if (!is_digit(*s))
			return -EINVAL;
		for (; is_digit(*s); s++) {
			if (frac_digits >= 17)
				continue;
			frac = frac * 10 + (uint64_t)(*s - '0');
			scale *= 10;
			frac_digits++;
		}
	}
	if (*s == '%')
		s++;
	if (*s != '\0')
		return -EINVAL;
	if (r < 0 || whole > 100 || (whole == 100 && frac != 0))
		return -ERANGE;
	/* whole <= 100 and scale <= 1e19: whole * (scale / 100) fits. */
	v = ((double)(whole * (scale / 100)) + (double)frac) / (double)scale;
	*out_fraction = v;
	return 0;
}

int
parse_mode(const char *s, uint32_t *out_mode)
{
	uint32_t v = 0;
	int overflow = 0;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '7')
			return -EINVAL;
		v = v * 8 + (uint32_t)(*s - '0');
		if (v > 07777) {
			overflow = 1;
			v = 07777 + 1; /* stays above the limit, never wraps */
		}
	}
	if (overflow)
		return -ERANGE;
	*out_mode = v;
	return 0;
}

int
parse_bool(const char *s, int *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	size_t i;

	if (s == NULL)
		return -EINVAL;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (ascii_equal_nocase(s, yes[i])) {
			*out = 1;
			return 0;
		}
		if (ascii_equal_nocase(s, no[i])) {
			*out = 0;
			return 0;
		}
	}
	return -EINVAL;
}

int
parse_sockaddr(const char *text, struct sockaddr_storage *out, socklen_t *len)
{
	char host[64];
	const char *colon, *port_text;
	uint32_t port;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (close == NULL || close[1] != ':')
			return -EINVAL;
		n = (size_t)(close - text - 1);
		port_text = close + 2;
		text++;
	} else {
		if ((colon = strrchr(text, ':')) == NULL ||
		    memchr(text, ':', (size_t)(colon - text)) != NULL)
			return -EINVAL;
		n = (size_t)(colon - text);
		port_text = colon + 1;
	}
	if (n == 0 || n >= sizeof(host) ||
	    parse_u32(port_text, 1, 65535, &port) < 0)
		return -EINVAL;
	memcpy(host, text, n);
	host[n] = '\0';
	struct sockaddr_in *in4 = (struct sockaddr_in *)out;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;

	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		*len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
		return 0;
	}
	return -EINVAL;
}

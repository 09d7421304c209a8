/* SPDX-License-Identifier: ISC */
/*
 * Checked parsing of numbers, durations, sizes and addresses from
 * configuration and command lines. Pure functions: no I/O, no allocation, no
 * locale.
 *
 * All return 0 on success, -EINVAL for empty input, junk, a sign or a
 * missing/unknown unit, -ERANGE for overflow or a value outside [min, max].
 * The output is not touched on failure.
 */
#ifndef TK_PARSE_H
#define TK_PARSE_H

#include <stdint.h>
#include <sys/socket.h>

/* Plain decimal digits only ("0", "42"); no sign, no spaces, no "0x". */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);

/*
 * A duration: a decimal number with an optional fraction and an optional
 * unit: "ns", "us", "ms", "s", "m", "h", "d". A bare number is seconds
 * ("0.5" is 500 ms). Result in nanoseconds; fractions below 1 ns are
 * truncated. "30s", "5m", "1h", "1.5s", "250ms".
 */
int parse_duration_ns(const char *s, uint64_t *out_ns);

/*
 * A size in bytes: decimal digits with an optional binary unit "K", "M",
 * "G", "T" (powers of 1024, optionally followed by "B" or "iB"; "B" alone
 * is bytes). "64K" is 65536, "5M" is 5242880.
 */
int parse_size(const char *s, uint64_t *out_bytes);

/* A percentage "12.5" or "12.5%" in [0, 100], as a fraction in [0, 1]. */
int parse_percent(const char *s, double *out_fraction);

/* An octal file mode "0644" or "644", at most 07777. */
int parse_mode(const char *s, uint32_t *out_mode);

/* "yes"/"no", "true"/"false", "on"/"off", "1"/"0", case-insensitive. */
int parse_bool(const char *s, int *out);

/*
 * A numeric listening address: "127.0.0.1:42443", "[::1]:42443" or
 * "[2001:db8::1]:443" (IPv6 in brackets), port 1-65535. A host name is
 * not accepted (no DNS at start, no surprise). Fills *out and *len;
 * returns 0 or -EINVAL.
 */
int parse_sockaddr(const char *s, struct sockaddr_storage *out, socklen_t *len);

#endif

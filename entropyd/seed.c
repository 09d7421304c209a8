/* SPDX-License-Identifier: ISC */
/*
 * seed.c: the pollen protocol: parse a challenge, answer it, draw bytes.
 *
 * What the pollinate client (Debian package, /usr/bin/pollinate, a shell
 * script) sends and checks, which is what this file must satisfy:
 *
 *  - challenge: `head -c 64 /dev/urandom | sha512sum | awk '{print $1}'`,
 *    so 128 lowercase hex characters.
 *  - body: `printf "challenge=%s" "$challenge"` into a file, posted with
 *    `curl --data @file`: exactly "challenge=<128 hex>", no trailing
 *    newline (curl --data would strip CR and LF anyway), Content-Type
 *    application/x-www-form-urlencoded, POST to the server URL as given.
 *  - expected answer: `printf "${challenge}" | sha512sum`, the SHA-512 of
 *    the 128 characters alone, no newline, as lowercase hex.
 *  - check: `[ "$expected" = $(head -n1 out) ]`: the first line of the
 *    body must be exactly those 128 characters; the substitution is
 *    unquoted, so a CR or a space in that line would break the test.
 *    The rest of the body (and curl's stderr) is then hashed with
 *    sha512sum and written to /dev/urandom, so the seed line's length
 *    and format are free; with -n/--no-challenge the body is empty.
 *
 * pollen (Go) answers with fmt.Fprintf(w, "%x\n%x\n", sha512(challenge),
 * seed), taking challenge from r.FormValue (URL-decoded, query or form).
 * We answer the same two lines, the seed being the random bytes
 * themselves in hex rather than pollen's SHA-512 of them and the
 * challenge.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "hex.h"
#include "parse.h"
#include "seed.h"

#define SHA512_LEN 64
#define FIELD_NAME_MAX 16 /* longer names are none of ours */
#define BYTES_TEXT_MAX 16

static void
set_why(char *why, size_t why_size, const char *reason)
{
	if (why != NULL && why_size > 0)
		snprintf(why, why_size, "%s", reason);
}

/*
 * URL-decodes s (len bytes: '+' is a space, "%XY" a byte) into out,
 * which holds size bytes including a NUL. Returns the decoded length,
 * -EINVAL for a bad escape, or -ENOBUFS if it does not fit.
 */
static int
form_decode(const char *s, size_t len, char *out, size_t size)
{
	size_t i, n = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '+')
			c = ' ';
		else if (c == '%') {
			if (len - i < 3 ||
			    (hi = hex_digit(s[i + 1], true)) < 0 ||
			    (lo = hex_digit(s[i + 2], true)) < 0)
				return -EINVAL;
			c = (char)(hi << 4 | lo);
			i += 2;
			/* A NUL would cut the value short unseen. */
			if (c == '\0')
				return -EINVAL;
		}
		if (n + 1 >= size)
			return -ENOBUFS;
		out[n++] = c;
	}
	out[n] = '\0';
	return (int)n;
}

/* Checks a decoded challenge; on error sets why and returns -EINVAL. */
static int
check_challenge(const char *c, size_t len, char *why, size_t why_size)
{
	char msg[96];
	size_t i;

	if (len == 0) {
		set_why(why, why_size, "challenge: empty");
		return -EINVAL;
	}
	for (i = 0; i < len; i++) {
		if (hex_digit(c[i], true) < 0) {
			set_why(why, why_size, "challenge: not hex");
			return -EINVAL;
		}
	}
	if (len < CHALLENGE_MIN) {
		snprintf(msg, sizeof(msg),
		    "challenge: too short (%zu hex digits, at least %d)", len,
		    CHALLENGE_MIN);
		set_why(why, why_size, msg);
		return -EINVAL;
	}
	return 0;
}

/*
 * Fields are read in order; the first error found is the one reported.
 * Unknown fields are skipped undecoded, as pollen ignores them too.
 */
int
seed_request_parse(const char *form, size_t len, struct seed_request *out,
    char *why, size_t why_size)
{
	struct seed_request req;
	bool have_challenge = false, have_bytes = false;
	char name[FIELD_NAME_MAX + 1], bytes_text[BYTES_TEXT_MAX + 1];
	char msg[96];
	size_t pos = 0;
	uint32_t bytes;
	int n;

	if (len > SEED_FORM_MAX) {
		set_why(why, why_size, "request: too long");
		return -EINVAL;
	}
	memset(&req, 0, sizeof(req));
	req.bytes = SEED_BYTES_DEFAULT;

	while (pos < len) {
		const char *field = form + pos, *amp, *eq, *value;
		size_t field_len, name_len, value_len;

		amp = memchr(field, '&', len - pos);
		field_len = amp != NULL ? (size_t)(amp - field) : len - pos;
		pos += field_len + (amp != NULL);
		if (field_len == 0)
			continue;
		eq = memchr(field, '=', field_len);
		name_len = eq != NULL ? (size_t)(eq - field) : field_len;
		value = eq != NULL ? eq + 1 : field + field_len;
		value_len = field_len - name_len - (eq != NULL);

		/* A name that does not decode or fit is none we know. */
		if (form_decode(field, name_len, name, sizeof(name)) < 0)
			continue;

		if (strcmp(name, "challenge") == 0) {
			if (have_challenge) {
				set_why(
				    why, why_size, "challenge: given twice");
				return -EINVAL;
			}
			have_challenge = true;
			n = form_decode(value, value_len, req.challenge,
			    sizeof(req.challenge));
			if (n == -ENOBUFS) {
				snprintf(msg, sizeof(msg),
				    "challenge: too long (more than %d hex "
				    "digits)",
				    CHALLENGE_MAX);
				set_why(why, why_size, msg);
				return -EINVAL;
			}
			if (n < 0) {
				set_why(
				    why, why_size, "challenge: bad %-escape");
				return -EINVAL;
			}
			if (check_challenge(
			        req.challenge, (size_t)n, why, why_size) < 0)
				return -EINVAL;
			req.challenge_len = (size_t)n;
		} else if (strcmp(name, "bytes") == 0) {
			if (have_bytes) {
				set_why(why, why_size, "bytes: given twice");
				return -EINVAL;
			}
			have_bytes = true;
			n = form_decode(
			    value, value_len, bytes_text, sizeof(bytes_text));
			if (n < 0 || parse_u32(bytes_text, SEED_BYTES_MIN,
			                 SEED_BYTES_MAX, &bytes) < 0) {
				snprintf(msg, sizeof(msg),
				    "bytes: not a whole number from %d to %d",
				    SEED_BYTES_MIN, SEED_BYTES_MAX);
				set_why(why, why_size, msg);
				return -EINVAL;
			}
			req.bytes = bytes;
		}
	}
	if (!have_challenge) {
		set_why(why, why_size, "challenge: missing");
		return -EINVAL;
	}
	*out = req;
	return 0;
}

int
seed_response_format(const struct seed_request *req, const unsigned char *seed,
    char *out, size_t size)
{
	unsigned char digest[SHA512_LEN];
	size_t need;
	char *p;

	if (req->challenge_len > CHALLENGE_MAX || req->bytes < SEED_BYTES_MIN ||
	    req->bytes > SEED_BYTES_MAX)
		return -EINVAL;
	need = 2 * SHA512_LEN + 1 + 2 * (size_t)req->bytes + 1;
	if (size < need + 1)
		return -ENOBUFS;
	/* The challenge string as sent, not the bytes its hex spells. */
	if (gnutls_hash_fast(GNUTLS_DIG_SHA512, req->challenge,
	        req->challenge_len, digest) < 0)
		return -EIO;
	p = hex_encode(out, digest, sizeof(digest));
	*p++ = '\n';
	p = hex_encode(p, seed, req->bytes);
	*p++ = '\n';
	*p = '\0';
	return (int)need;
}

/*
 * GRND_NONBLOCK turns "the pool is not initialized yet" into EAGAIN
 * instead of a wait, so the server can refuse (503) rather than hang or
 * serve early-boot bytes. A partial fill is wiped before an error
 * return so it cannot be sent by mistake.
 */
int
seed_random(unsigned char *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;
	int err;

	while (off < len) {
		n = getrandom(buf + off, len - off, GRND_NONBLOCK);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n == 0 ? -EIO : -errno;
			explicit_bzero(buf, len);
			return err;
		}
		off += (size_t)n;
	}
	return 0;
}

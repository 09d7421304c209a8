/* SPDX-License-Identifier: ISC */
/*
 * fleetkey.c: the fleet key file and the signatures made with it
 * (OpenSSL's HMAC, in libcrypto, which libcurl links already).
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fleetkey.h"
#include "hex.h"
#include "readfile.h"

/* Goes in front of the fields: a signature made for anything else
 * (another version of this format) never verifies as this one. */
#define SIG_DOMAIN "feedcache fleet record 1"

int
fleet_keys_parse(const char *text, size_t len, struct fleet_keys *out,
    char *why, size_t why_size)
{
	const char *p = text, *end = text + len;
	unsigned line = 0;

	out->count = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl != NULL ? nl : end, *b = p;
		size_t n;

		line++;
		p = nl != NULL ? nl + 1 : end;
		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		while (
		    e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		if (b == e || *b == '#')
			continue;
		n = (size_t)(e - b);
		for (const char *c = b; c < e; c++)
			if (*c <= ' ' || *c >= 0x7f) {
				snprintf(why, why_size,
				    "line %u: a key is printable ASCII without "
				    "spaces (e.g. from `openssl rand -hex 32`)",
				    line);
				return -EINVAL;
			}
		if (n < FLEET_KEY_MIN || n > FLEET_KEY_MAX) {
			snprintf(why, why_size,
			    "line %u: the key is %zu characters, it must be "
			    "%d to %d (e.g. `openssl rand -hex 32`)",
			    line, n, FLEET_KEY_MIN, FLEET_KEY_MAX);
			return -EINVAL;
		}
		if (out->count == 2) {
			snprintf(why, why_size,
			    "line %u: a third key; the file holds the signing "
			    "key and at most one old key",
			    line);
			return -EINVAL;
		}
		memcpy(out->key[out->count], b, n);
		out->len[out->count++] = n;
	}
	if (out->count == 0) {
		snprintf(why, why_size,
		    "no key in it (one line, e.g. from `openssl rand -hex "
		    "32`)");
		return -EINVAL;
	}
	return 0;
}

int
fleet_keys_load(
    const char *path, struct fleet_keys *out, char *why, size_t why_size)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (path[0] != '/') {
		snprintf(why, why_size, "not an absolute path");
		return -EINVAL;
	}
	rc = read_file_max(path, FLEET_KEY_FILE_MAX, &text, &len, &st);
	if (rc == -EFBIG) {
		snprintf(why, why_size, "larger than %d bytes; not a key file",
		    FLEET_KEY_FILE_MAX);
		return rc;
	}
	if (rc == -EACCES) {
		/* Typically root made the key and the service runs as its
		 * own user (feedcache.conf(5), SECURITY). */
		struct passwd *pw = getpwuid(geteuid());

		snprintf(why, why_size,
		    "%s: user %s cannot read it; chown it to the user "
		    "feedcache runs as (mode 0600)",
		    strerror(-rc), pw != NULL ? pw->pw_name : "?");
		return rc;
	}
	if (rc < 0) {
		snprintf(why, why_size, "%s", strerror(-rc));
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, why_size, "not a regular file");
		rc = -EINVAL;
	} else if (st.st_mode & 077) {
		/* Whoever can read the key can sign records every node
		 * follows; whoever can write it can stop the fleet. */
		snprintf(why, why_size,
		    "group or others may %s it (mode %04o); make it "
		    "0600 or 0400, owned by the user feedcache runs as",
		    st.st_mode & 044 ? "read" : "write",
		    (unsigned)(st.st_mode & 07777));
		rc = -EPERM;
	} else
		rc = fleet_keys_parse(text, len, out, why, why_size);
	explicit_bzero(text, len);
	free(text);
	if (rc == 0 && (out->path = strdup(path)) == NULL) {
		snprintf(why, why_size, "out of memory");
		rc = -ENOMEM;
	}
	if (rc < 0)
		fleet_keys_free(out);
	return rc;
}

void
fleet_keys_free(struct fleet_keys *k)
{
	free(k->path);
	explicit_bzero(k, sizeof(*k));
}

/* The signed message: the domain, then each field as "LEN:" and bytes. */
static unsigned char *
sig_message(const char *const field[SIG_FIELDS], const size_t len[SIG_FIELDS],
    size_t *out_len)
{
	size_t n = sizeof(SIG_DOMAIN), at;
	unsigned char *msg;

	for (int i = 0; i < SIG_FIELDS; i++) {
		if (len[i] > (1u << 30))
			return NULL;
		n += 21 + len[i];
	}
	if ((msg = malloc(n)) == NULL)
		return NULL;
	memcpy(msg, SIG_DOMAIN, sizeof(SIG_DOMAIN)); /* with its NUL */
	at = sizeof(SIG_DOMAIN);
	for (int i = 0; i < SIG_FIELDS; i++) {
		at +=
		    (size_t)snprintf((char *)msg + at, n - at, "%zu:", len[i]);
		if (len[i] > 0)
			memcpy(msg + at, field[i], len[i]);
		at += len[i];
	}
	*out_len = at;
	return msg;
}

static int
sign_raw(const struct fleet_keys *k, unsigned which, const unsigned char *msg,
    size_t msg_len, unsigned char mac[EVP_MAX_MD_SIZE])
{
	unsigned mac_len = 0;

	if (HMAC(EVP_sha256(), k->key[which], (int)k->len[which], msg, msg_len,
	        mac, &mac_len) == NULL ||
	    mac_len != FLEET_SIG_HEX / 2)
		return -EINVAL;
	return 0;
}

int
fleet_sign(const struct fleet_keys *k, unsigned which,
    const char *const field[SIG_FIELDS], const size_t len[SIG_FIELDS],
    char sig[FLEET_SIG_HEX + 1])
{
	unsigned char mac[EVP_MAX_MD_SIZE], *msg;
	size_t msg_len;
	int rc;

	sig[0] = '\0';
	if (which >= k->count)
		return -EINVAL;
	if ((msg = sig_message(field, len, &msg_len)) == NULL)
		return -ENOMEM;
	rc = sign_raw(k, which, msg, msg_len, mac);
	free(msg);
	if (rc == 0)
		*hex_encode(sig, mac, FLEET_SIG_HEX / 2) = '\0';
	return rc;
}

bool
fleet_verify(const struct fleet_keys *k, const char *const field[SIG_FIELDS],
    const size_t len[SIG_FIELDS], const char *sig, size_t siglen)
{
	unsigned char mac[EVP_MAX_MD_SIZE], *msg;
	char hex[FLEET_SIG_HEX + 1];
	size_t msg_len;
	bool ok = false;

	if (siglen != FLEET_SIG_HEX ||
	    (msg = sig_message(field, len, &msg_len)) == NULL)
		return false;
	for (unsigned i = 0; i < k->count && !ok; i++) {
		if (sign_raw(k, i, msg, msg_len, mac) < 0)
			continue;
		hex_encode(hex, mac, FLEET_SIG_HEX / 2);
		ok = CRYPTO_memcmp(hex, sig, FLEET_SIG_HEX) == 0;
	}
	free(msg);
	return ok;
}

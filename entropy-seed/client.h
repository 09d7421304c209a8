/* SPDX-License-Identifier: ISC */
/*
 * Fetching a seed from one server, and mixing it into the kernel.
 */
#ifndef ENTROPY_SEED_CLIENT_H
#define ENTROPY_SEED_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

/* Whether and when a failed request may be tried again. */
struct seed_retry {
	uint64_t after_ns; /* 0: do not retry this server */
	bool server_said; /* a Retry-After, not our own backoff */
	const char *what; /* "rate limited", "connection refused", ... */
};

/*
 * Asks url for len seed bytes within timeout_ns: a fresh challenge, the
 * answer checked completely (response.h). token may be NULL. On success
 * returns 0, fills seed and says in *verified whether the server's
 * certificate was verified (a CA or a pin); else -errno with the reason
 * in why, seed untouched, and in *retry whether the server asked to be
 * tried again later (429 or 503 with its Retry-After) or closed the
 * connection at accept (refused or reset: a busy server's limits).
 */
int seed_fetch(const struct seed_conf *c, const char *url, const char *token,
    uint64_t timeout_ns, unsigned char *seed, size_t len, bool *verified,
    struct seed_retry *retry, char *why, size_t why_size);

/*
 * Mixes seed into the kernel pool: RNDADDENTROPY crediting 8 bits a byte
 * if credit, then RNDRESEEDCRNG; without CAP_SYS_ADMIN, a plain write to
 * /dev/urandom (mixed, never credited). *how says which. Returns 0 or
 * -errno with why.
 */
int seed_mix(const unsigned char *seed, size_t len, bool credit,
    const char **how, char *why, size_t why_size);

#endif

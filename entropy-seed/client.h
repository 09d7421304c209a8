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

/*
 * Asks url for len seed bytes within timeout_ns: a fresh challenge, the
 * answer checked completely (response.h). token may be NULL. On success
 * returns 0, fills seed and says in *verified whether the server's
 * certificate was verified (a CA or a pin); else -errno with the reason
 * in why, and seed untouched.
 */
int seed_fetch(const struct seed_conf *c, const char *url, const char *token,
    uint64_t timeout_ns, unsigned char *seed, size_t len, bool *verified,
    char *why, size_t why_size);

/*
 * Mixes seed into the kernel pool: RNDADDENTROPY crediting 8 bits a byte
 * if credit, then RNDRESEEDCRNG; without CAP_SYS_ADMIN, a plain write to
 * /dev/urandom (mixed, never credited). *how says which. Returns 0 or
 * -errno with why.
 */
int seed_mix(const unsigned char *seed, size_t len, bool credit,
    const char **how, char *why, size_t why_size);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * Per-client token buckets in a bounded table: a flood of distinct
 * clients evicts the least recently seen ones instead of growing
 * without bound. Not thread-safe: the caller serializes.
 */
#ifndef ENTROPYD_RATELIMIT_H
#define ENTROPYD_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RL_KEY_MAX 72 /* 16-byte addresses or "t:"/"c:" + a name */

struct ratelimit;

/*
 * A table of at most capacity clients, each with a bucket of burst
 * tokens refilled at rate_per_s. Returns NULL on allocation failure.
 */
struct ratelimit *ratelimit_new(
    size_t capacity, double rate_per_s, unsigned burst);
void ratelimit_free(struct ratelimit *rl);

/* New rate and burst (SIGHUP); existing buckets are clamped to burst. */
void ratelimit_configure(
    struct ratelimit *rl, double rate_per_s, unsigned burst);

/*
 * Takes one token for the client key (len bytes) at time now_ns
 * (monotonic). Returns true if allowed; if not, *retry_after_s is the
 * whole seconds until a token is back (at least 1).
 */
bool ratelimit_take(struct ratelimit *rl, const void *key, size_t len,
    uint64_t now_ns, unsigned *retry_after_s);

/*
 * A client told to come back at until_ns that keeps coming back sooner
 * can be turned away before any work is done for it (at TCP accept,
 * before the TLS handshake). ratelimit_shun records each 429 and its
 * deadline; ratelimit_shunned, without touching the table, is true once
 * RL_SHUN_STRIKES 429s came within one deadline: an impatient client
 * still gets its 429s, a flood gets dropped connections.
 */
#define RL_SHUN_STRIKES 3
void ratelimit_shun(struct ratelimit *rl, const void *key, size_t len,
    uint64_t now_ns, uint64_t until_ns);
bool ratelimit_shunned(
    const struct ratelimit *rl, const void *key, size_t len, uint64_t now_ns);

/*
 * An address that an identified client (token or certificate) was
 * served from until until_ns is never shunned before then: a neighbour
 * behind the same NAT that floods cannot shut it out at accept.
 */
void ratelimit_vouch(struct ratelimit *rl, const void *key, size_t len,
    uint64_t now_ns, uint64_t until_ns);

size_t ratelimit_size(const struct ratelimit *rl); /* clients held */
uint64_t ratelimit_evictions(const struct ratelimit *rl);

/*
 * "6/min", "10/s", "100/h", "0.5/s" (units s, sec, m, min, h, hour):
 * tokens per second. Pure. Returns 0, -EINVAL for junk or -ERANGE for a
 * rate of zero.
 */
int rate_parse(const char *text, double *per_second);

#endif

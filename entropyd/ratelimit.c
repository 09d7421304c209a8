/* SPDX-License-Identifier: ISC */
/* ratelimit.c: token buckets in a bounded, keyed-hash, LRU-evicting table. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "ratelimit.h"

/*
 * Links are entry indexes; entry 0 is never used, so a zeroed link ends a
 * list and a freshly calloc'd table needs no initializing pass (which
 * would make every page of it resident at start).
 */
#define NONE 0
#define NS_PER_S 1e9
/* A bucket this close to a whole token counts as holding one. */
#define TOKEN_SLACK 1e-9

/*
 * One client. Entries live in one array allocated up front; links are
 * indexes into it. The LRU list runs from the most recently seen (head)
 * to the least (tail), which is the one evicted.
 */
struct rl_entry {
	uint8_t key[RL_KEY_MAX];
	uint8_t key_len;
	uint32_t chain; /* next entry in the same hash bucket */
	uint32_t newer, older; /* LRU neighbours */
	double tokens;
	uint64_t refilled_ns;
	uint64_t shunned_until_ns; /* see ratelimit_shun */
	uint64_t vouched_until_ns; /* see ratelimit_vouch */
	uint32_t strikes; /* 429s within that time */
};

struct ratelimit {
	struct rl_entry *entries;
	uint32_t *buckets; /* heads of hash chains */
	uint64_t hash_mask; /* bucket count - 1, a power of two less one */
	uint64_t sip_key[2];
	uint32_t capacity, used;
	uint32_t lru_head, lru_tail;
	double rate_per_s;
	unsigned burst;
	uint64_t evictions;
};

static uint64_t
rotl64(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static uint64_t
load_le64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

#define SIPROUND                                                               \
	do {                                                                   \
		v0 += v1;                                                      \
		v1 = rotl64(v1, 13);                                           \
		v1 ^= v0;                                                      \
		v0 = rotl64(v0, 32);                                           \
		v2 += v3;                                                      \
		v3 = rotl64(v3, 16);                                           \
		v3 ^= v2;                                                      \
		v0 += v3;                                                      \
		v3 = rotl64(v3, 21);                                           \
		v3 ^= v0;                                                      \
		v2 += v1;                                                      \
		v1 = rotl64(v1, 17);                                           \
		v1 ^= v2;                                                      \
		v2 = rotl64(v2, 32);                                           \
	} while (0)

/*
 * SipHash-2-4 (Aumasson and Bernstein) of len bytes under a 128-bit key
 * drawn per table from getrandom: a client choosing its own address or
 * token name cannot aim many keys at one hash chain without the key.
 */
static uint64_t
siphash24(const uint64_t k[2], const uint8_t *p, size_t len)
{
	uint64_t v0 = k[0] ^ 0x736f6d6570736575ULL;
	uint64_t v1 = k[1] ^ 0x646f72616e646f6dULL;
	uint64_t v2 = k[0] ^ 0x6c7967656e657261ULL;
	uint64_t v3 = k[1] ^ 0x7465646279746573ULL;
	uint64_t m;
	size_t left = len, i;

	for (; left >= 8; p += 8, left -= 8) {
		m = load_le64(p);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	m = (uint64_t)(len & 0xff) << 56;
	for (i = 0; i < left; i++)
		m |= (uint64_t)p[i] << (8 * i);
	v3 ^= m;
	SIPROUND;
	SIPROUND;
	v0 ^= m;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

static int
fill_random(void *buf, size_t len)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		n = getrandom(p, len, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Capacity is clamped to 1..UINT32_MAX-1 (entries are indexed from 1).
 * The arrays are allocated whole and zeroed by calloc; untouched pages
 * cost nothing until clients arrive. Returns NULL with errno set on failure.
 */
struct ratelimit *
ratelimit_new(size_t capacity, double rate_per_s, unsigned burst)
{
	struct ratelimit *rl;
	size_t nbuckets = 16;

	if (capacity == 0)
		capacity = 1;
	if (capacity >= UINT32_MAX)
		capacity = UINT32_MAX - 1;
	while (nbuckets < capacity)
		nbuckets *= 2;
	if ((rl = calloc(1, sizeof(*rl))) == NULL)
		return NULL;
	rl->entries = calloc(capacity + 1, sizeof(*rl->entries));
	rl->buckets = calloc(nbuckets, sizeof(*rl->buckets));
	if (rl->entries == NULL || rl->buckets == NULL ||
	    fill_random(rl->sip_key, sizeof(rl->sip_key)) == -1) {
		ratelimit_free(rl);
		return NULL;
	}
	rl->hash_mask = nbuckets - 1;
	rl->capacity = (uint32_t)capacity;
	rl->lru_head = rl->lru_tail = NONE;
	ratelimit_configure(rl, rate_per_s, burst);
	return rl;
}

void
ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	free(rl->entries);
	free(rl->buckets);
	free(rl);
}

/*
 * Buckets fuller than the new burst are clamped lazily: every take caps
 * the refilled level at the burst in force, before taking.
 */
void
ratelimit_configure(struct ratelimit *rl, double rate_per_s, unsigned burst)
{
	rl->rate_per_s =
	    rate_per_s > 0 && isfinite(rate_per_s) ? rate_per_s : 0;
	rl->burst = burst;
}

static void
lru_unlink(struct ratelimit *rl, uint32_t i)
{
	struct rl_entry *e = &rl->entries[i];

	if (e->newer != NONE)
		rl->entries[e->newer].older = e->older;
	else
		rl->lru_head = e->older;
	if (e->older != NONE)
		rl->entries[e->older].newer = e->newer;
	else
		rl->lru_tail = e->newer;
}

static void
lru_push_head(struct ratelimit *rl, uint32_t i)
{
	struct rl_entry *e = &rl->entries[i];

	e->newer = NONE;
	e->older = rl->lru_head;
	if (rl->lru_head != NONE)
		rl->entries[rl->lru_head].newer = i;
	rl->lru_head = i;
	if (rl->lru_tail == NONE)
		rl->lru_tail = i;
}

/* Takes entry i out of its hash chain. */
static void
chain_remove(struct ratelimit *rl, uint32_t i)
{
	struct rl_entry *e = &rl->entries[i];
	uint32_t *link;

	link = &rl->buckets[siphash24(rl->sip_key, e->key, e->key_len) &
	                    rl->hash_mask];
	while (*link != i)
		link = &rl->entries[*link].chain;
	*link = e->chain;
}

/*
 * The index of key's entry (key cut to RL_KEY_MAX, *len with it), or
 * NONE; *bucket gets the head of its hash chain.
 */
static uint32_t
find(
    const struct ratelimit *rl, const void *key, size_t *len, uint32_t **bucket)
{
	if (*len > RL_KEY_MAX)
		*len = RL_KEY_MAX;
	*bucket =
	    &rl->buckets[siphash24(rl->sip_key, key, *len) & rl->hash_mask];
	for (uint32_t i = **bucket; i != NONE; i = rl->entries[i].chain) {
		const struct rl_entry *e = &rl->entries[i];

		if (e->key_len == *len && memcmp(e->key, key, *len) == 0)
			return i;
	}
	return NONE;
}

/*
 * Finds the entry for key (cut to RL_KEY_MAX), or makes one (evicting
 * the least recently seen client if the table is full) with a full
 * bucket. Moves it to the head of the LRU list either way.
 */
static struct rl_entry *
lookup_or_insert(
    struct ratelimit *rl, const void *key, size_t len, uint64_t now_ns)
{
	uint32_t *bucket, i = find(rl, key, &len, &bucket);
	struct rl_entry *e;

	if (i != NONE) {
		lru_unlink(rl, i);
		lru_push_head(rl, i);
		return &rl->entries[i];
	}
	if (rl->used < rl->capacity)
		i = ++rl->used;
	else {
		i = rl->lru_tail;
		lru_unlink(rl, i);
		chain_remove(rl, i);
		rl->evictions++;
	}
	e = &rl->entries[i];
	memcpy(e->key, key, len);
	e->key_len = (uint8_t)len;
	e->tokens = rl->burst;
	e->refilled_ns = now_ns;
	e->shunned_until_ns = 0;
	e->vouched_until_ns = 0;
	e->strikes = 0;
	e->chain = *bucket;
	*bucket = i;
	lru_push_head(rl, i);
	return e;
}

/*
 * Keys longer than RL_KEY_MAX are cut to it. A clock that goes back
 * (it should not: now_ns is monotonic) refills nothing.
 */
bool
ratelimit_take(struct ratelimit *rl, const void *key, size_t len,
    uint64_t now_ns, unsigned *retry_after_s)
{
	struct rl_entry *e = lookup_or_insert(rl, key, len, now_ns);
	double wait;

	if (now_ns > e->refilled_ns) {
		e->tokens += (double)(now_ns - e->refilled_ns) / NS_PER_S *
		             rl->rate_per_s;
		e->refilled_ns = now_ns;
	}
	if (e->tokens > rl->burst)
		e->tokens = rl->burst;
	if (e->tokens >= 1 - TOKEN_SLACK) {
		e->tokens = e->tokens >= 1 ? e->tokens - 1 : 0;
		return true;
	}
	if (retry_after_s != NULL) {
		wait = rl->rate_per_s > 0 ? (1 - e->tokens) / rl->rate_per_s
		                          : INFINITY;
		wait -= TOKEN_SLACK;
		if (!(wait < UINT_MAX))
			*retry_after_s = UINT_MAX;
		else if (wait <= 1)
			*retry_after_s = 1;
		else {
			/* Rounded up: coming back early would be refused. */
			*retry_after_s = (unsigned)wait;
			if (*retry_after_s < wait)
				(*retry_after_s)++;
		}
	}
	return false;
}

size_t
ratelimit_size(const struct ratelimit *rl)
{
	return rl->used;
}

uint64_t
ratelimit_evictions(const struct ratelimit *rl)
{
	return rl->evictions;
}

static const struct {
	const char *name;
	double seconds;
} rate_units[] = {
    {"s", 1},
    {"sec", 1},
    {"m", 60},
    {"min", 60},
    {"h", 3600},
    {"hour", 3600},
};

/*
 * "N/unit", N decimal digits with an optional fraction (no sign, no
 * exponent, read without strtod so the locale cannot change '.'), at
 * most 9 digits before the point and 9 after, and more than zero.
 */
int
rate_parse(const char *text, double *per_second)
{
	const char *s = text;
	double whole = 0, frac = 0, scale = 1;
	int digits = 0, frac_digits = 0;
	size_t i;

	if (text == NULL)
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++, digits++)
		whole = whole * 10 + (*s - '0');
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9'; s++, frac_digits++) {
			scale /= 10;
			frac += (*s - '0') * scale;
		}
		if (frac_digits == 0)
			return -EINVAL;
	}
	if (digits == 0 || digits > 9 || frac_digits > 9 || *s != '/')
		return -EINVAL;
	s++;
	for (i = 0; i < sizeof(rate_units) / sizeof(rate_units[0]); i++) {
		if (strcmp(s, rate_units[i].name) != 0)
			continue;
		if (whole + frac <= 0)
			return -ERANGE;
		*per_second = (whole + frac) / rate_units[i].seconds;
		return 0;
	}
	return -EINVAL;
}

void
ratelimit_shun(struct ratelimit *rl, const void *key, size_t len,
    uint64_t now_ns, uint64_t until_ns)
{
	struct rl_entry *e = lookup_or_insert(rl, key, len, now_ns);

	e->strikes = now_ns < e->shunned_until_ns ? e->strikes + 1 : 1;
	e->shunned_until_ns = until_ns;
}

bool
ratelimit_shunned(
    const struct ratelimit *rl, const void *key, size_t len, uint64_t now_ns)
{
	uint32_t *bucket, i = find(rl, key, &len, &bucket);

	return i != NONE && now_ns < rl->entries[i].shunned_until_ns &&
	       rl->entries[i].strikes >= RL_SHUN_STRIKES &&
	       now_ns >= rl->entries[i].vouched_until_ns;
}

void
ratelimit_vouch(struct ratelimit *rl, const void *key, size_t len,
    uint64_t now_ns, uint64_t until_ns)
{
	struct rl_entry *e = lookup_or_insert(rl, key, len, now_ns);

	if (until_ns > e->vouched_until_ns)
		e->vouched_until_ns = until_ns;
}

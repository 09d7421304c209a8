/* SPDX-License-Identifier: ISC */
/*
 * Fleet mode: the feedcache daemons of many web servers share one Redis
 * so the origin sees one request per feed per interval. Per feed, under
 * PREFIX "fc:{NAME}:": "lease" (the node fetching now, with a TTL),
 * "meta" (a hash: version, hash, size, validators, times, the outcome)
 * and "body". The lease holder fetches and publishes body and meta in
 * one step; the others copy a newer body into their own cache. With
 * Redis down, each daemon runs single-node until it is back.
 */
#ifndef FEEDCACHE_FLEET_H
#define FEEDCACHE_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feed.h"
#include "meta.h"

struct redis_addr {
	char host[256];
	int port;
	int db;
	char user[128]; /* "" for the default user */
	char password[256]; /* "" for none; never logged */
};

/*
 * Parses redis://[[user]:password@]host[:port][/db]: host a name, an
 * IPv4 address or [IPv6], port 6379 and db 0 by default. Returns 0, or
 * -EINVAL with a reason in why (that never repeats the password).
 */
int redis_url_parse(
    const char *url, struct redis_addr *out, char *why, size_t why_size);

struct fleet;

/* A fleet for conf, or NULL (and a log line) without memory. */
struct fleet *fleet_new(const struct feedcache_conf *conf);
void fleet_free(struct fleet *fl);
/*
 * For a one-shot refresh, quiet on success: what is news in a daemon's
 * log ("connected as node", "updated from the fleet") is debug output
 * (-v). fl may be NULL.
 */
void fleet_quiet(struct fleet *fl);

enum fleet_verdict {
	FLEET_SOLO, /* no Redis to ask, or it refused: fetch single-node */
	FLEET_FETCH, /* this node holds the lease: fetch, then publish */
	FLEET_WAIT, /* not this node's turn: look again at *due */
};

/* One claim's lease, kept by the caller from claim to publish. */
struct fleet_lease {
	bool held;
	char token[FEED_NAME_MAX + 40]; /* "node:random hex", this claim's */
	char fleet_hash[65]; /* the fleet's body when claimed, "" if none */
	int64_t skew; /* Redis's clock minus ours, in seconds */
};

/* What makes the fleet's copy fresh enough not to fetch (max_age_s). */
#define FLEET_SCHEDULE (-1) /* its next due time is still ahead */
#define FLEET_FORCE 0 /* nothing: fetch (not before a Retry-After) */
/* N > 0: a reader's max-age, it was checked in the last N seconds */

/*
 * With the feed's local lock held: brings the local copy up to the
 * fleet's when the fleet's is newer (written atomically into the cache,
 * as if fetched, after the same checks) and says whether this node is
 * to contact the origin. Due times are Redis's clock, converted to
 * ours, so the nodes' clocks need not agree.
 */
enum fleet_verdict fleet_claim(struct fleet *fl, const struct feed *feed,
    int64_t max_age_s, int64_t now, int64_t *due, struct fleet_lease *lease);

/*
 * After a fetch under lease: publishes its outcome (m, the meta as
 * fetch_finish left it, saved or not), with this node's body whenever it
 * differs from the fleet's, and releases the lease, in one step; nothing
 * if the lease was lost meanwhile.
 */
void fleet_publish(struct fleet *fl, const struct feed *feed,
    const struct feed_meta *m, int64_t now, struct fleet_lease *lease);

/* Gives the lease back unused (compare-and-delete on the token). */
void fleet_release(struct fleet *fl, const struct feed *feed, int64_t now,
    struct fleet_lease *lease);

struct fleet_counters {
	bool up; /* Redis reachable at last contact */
	uint64_t leases_won, followed, redis_errors;
};

void fleet_counters(const struct fleet *fl, struct fleet_counters *out);

/* What `feedcache status` shows of a feed in fleet mode. */
struct fleet_view {
	char holder[128]; /* lease holder, "" if none */
	uint64_t version;
	char hash[65]; /* of the fleet's body, "" if none */
};

/* Returns 0, or -1 when Redis cannot say (reason logged once). */
int fleet_view(struct fleet *fl, const char *name, struct fleet_view *out);

#endif

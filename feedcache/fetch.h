/* SPDX-License-Identifier: ISC */
/*
 * One refresh of one feed, the code path every mode shares: lock,
 * conditional GET through libcurl into a temporary file, then classify,
 * validate, replace atomically or keep the old copy, and record the
 * outcome and the next due time in the meta file.
 */
#ifndef FEEDCACHE_FETCH_H
#define FEEDCACHE_FETCH_H

#include <curl/curl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "atomicfile.h"
#include "feed.h"
#include "meta.h"

struct fetch {
	const struct feed *feed;
	CURL *easy;
	/* Validators and the configured header lines, for the configured
	 * origin; validators alone, for any other origin a redirect names. */
	struct curl_slist *request_headers, *foreign_headers;
	char *origin; /* the configured URL's scheme://host:port, libcurl's
	                 spelling, owned */
	char *user, *password; /* from the configured URL, for hops on its
	                          origin; owned, NULL: none */
	char *ca_file; /* owned copy: the configuration may be reloaded */
	unsigned hop; /* 0: the configured URL; n: the nth redirect */
	uint64_t deadline_ns; /* monotonic: the whole fetch, every hop */
	enum addr_class home; /* of the configured origin, or unknown */
	char refused[200]; /* why a connection was refused, or "" */
	char redirect_error[300]; /* why a redirect was not followed, or "" */
	struct atomic_file body;
	bool body_open;
	void *sha; /* EVP_MD_CTX */
	uint64_t received;
	bool too_large;
	/* The stall rule, armed by the first body byte (see on_progress). */
	uint64_t stall_since_ns;
	uint64_t stall_base;
	bool stalled;
	int write_errno; /* a local write failed */
	bool conditional; /* validators were sent */
	bool body_known; /* the body on disk is the meta file's */
	int lock_fd;
	gid_t group; /* of the files written, (gid_t)-1: ours */
	/* From the final response's headers. */
	char etag[512], last_modified[128], retry_after[64];
	char content_type[128];
	char errbuf[CURL_ERROR_SIZE];
	struct feed_meta meta;
	char body_path[PATH_MAX], meta_path[PATH_MAX];
};

struct fetch_outcome {
	enum fetch_result result;
	int64_t next_due; /* unix seconds */
	char message[300]; /* for the log: what happened */
};

/*
 * Paths of a feed's files in the cache directory. Return -ENAMETOOLONG
 * if they do not fit.
 */
int feed_body_path(const struct feedcache_conf *conf, const char *name,
    char *buf, size_t size);
int feed_meta_path(const struct feedcache_conf *conf, const char *name,
    char *buf, size_t size);

/*
 * Takes the feed's lock without waiting: flock(LOCK_EX|LOCK_NB) on
 * CACHE_DIR/.NAME.lock. Returns the fd (the lock lasts while it is open)
 * or -EWOULDBLOCK when someone else is refreshing it, or -errno.
 */
int feed_lock(const struct feedcache_conf *conf, const char *name);

/*
 * Prepares a refresh of feed, which must hold lock_fd (ownership passes
 * to f). On success f->easy is ready for curl_multi_add_handle and 0 is
 * returned; on failure the lock is released and -errno returned with a
 * reason in why.
 */
int fetch_start(struct fetch *f, const struct feedcache_conf *conf,
    const struct feed *feed, int lock_fd, char *why, size_t why_size);

/*
 * Completes a refresh after libcurl reported code for f->easy (already
 * removed from any multi handle): keeps or replaces the copy, saves the
 * meta file, releases everything. Fills out.
 */
void fetch_finish(
    struct fetch *f, CURLcode code, int64_t now, struct fetch_outcome *out);

/*
 * After libcurl reported code for f->easy (removed from any multi
 * handle): if the answer was a redirect feedcache follows, prepares the
 * next request on f->easy and returns true (add it again, or perform it
 * again); else false, and fetch_finish completes the refresh. feedcache
 * follows redirects itself so that each hop gets only the headers meant
 * for its origin, an https feed never goes to http, and every hop counts
 * against the one timeout.
 */
bool fetch_next_hop(struct fetch *f, CURLcode code);

/* Gives up a refresh in flight: no file changes, lock released. */
void fetch_abandon(struct fetch *f);

/*
 * Pure helpers, unit-tested. backoff_delay: the wait after the
 * failures-th consecutive failure: full jitter over an exponentially
 * growing window (base min(interval, 10 s), doubling), at least 1 s and
 * at most max_backoff; rnd is a random 64-bit value. due_jitter: an
 * interval spread by +-10%.
 */
uint64_t backoff_delay_ns(uint32_t failures, uint64_t interval_ns,
    uint64_t max_backoff_ns, uint64_t rnd);
uint64_t due_jitter_ns(uint64_t interval_ns, uint64_t rnd);

/*
 * Parses a Retry-After value: delay-seconds or an HTTP-date (RFC 9110).
 * Returns the seconds to wait from now, clamped to [0, 86400], or -1 if
 * the value is neither.
 */
int64_t retry_after_parse(const char *value, int64_t now);

/* A random 64-bit value from a per-process generator seeded securely. */
uint64_t fetch_random(void);

#endif

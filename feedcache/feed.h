/* SPDX-License-Identifier: ISC */
/*
 * feedcache configuration: the [feedcache] section and one [feed NAME]
 * section per remote resource.
 */
#ifndef FEEDCACHE_FEED_H
#define FEEDCACHE_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "fleetkey.h"

#define FEED_NAME_MAX 64
#define FEED_MAX_HEADERS 32

enum validate_kind {
	VALIDATE_NONE,
	VALIDATE_NONEMPTY,
	VALIDATE_XML,
	VALIDATE_JSON,
};

struct feed_headers {
	char *line[FEED_MAX_HEADERS]; /* "Name: value", owned */
	unsigned count;
};

struct feed {
	char name[FEED_NAME_MAX + 1]; /* [A-Za-z0-9_-]+ */
	char *url; /* http:// or https:// */
	uint64_t interval_ns;
	uint64_t timeout_ns; /* the whole transfer, first byte included */
	uint64_t stall_timeout_ns; /* once the body flows: < 64 B/s this long */
	uint64_t max_size;
	uint64_t max_backoff_ns;
	uint32_t mode; /* of the cached file */
	int validate; /* enum validate_kind */
	struct feed_headers headers;
	char *ca_file; /* extra CA for this feed, or NULL */
	int allow_private; /* may reach loopback, private, link-local */
	char origin[256]; /* "scheme://host:port", for limits */
	char *on_change; /* command after a new body, or NULL (hook.h) */
};

struct feedcache_conf {
	char path[512];
	char *cache_dir;
	char *user_agent;
	char *metrics_file; /* NULL: no metrics */
	char *ca_file; /* extra CA for every feed, or NULL */
	char *group; /* the readers' group, or NULL */
	gid_t gid; /* its id, (gid_t)-1 without one */
	uint32_t max_parallel;
	char *on_change; /* the feeds' default, or NULL */
	uint64_t hook_timeout_ns;
	/* Fleet mode (see fleet.h): redis is NULL when off. */
	char *redis; /* redis://[[user]:password@]host[:port][/db] */
	char *node_name; /* default: the host name */
	char *redis_prefix; /* before every key, or NULL */
	uint64_t redis_timeout_ns;
	struct fleet_keys fleet_key; /* required with redis (fleetkey.h) */
	struct feed **feeds;
	size_t nfeeds, cap;
};

/*
 * Loads and checks the configuration at path. Returns 0, -errno if the
 * file cannot be read, or -EINVAL with err naming file, line and key.
 * On failure *conf holds nothing that needs freeing.
 */
int feedcache_conf_load(
    const char *path, struct feedcache_conf *conf, struct conf_error *err);

/* The same for text in memory; name stands for the file in messages. */
int feedcache_conf_load_buf(const char *name, const char *buf, size_t len,
    struct feedcache_conf *conf, struct conf_error *err);

void feedcache_conf_free(struct feedcache_conf *conf);

/* The feed called name, or NULL. */
struct feed *feedcache_conf_find(
    const struct feedcache_conf *conf, const char *name);

/* True if the two feeds would fetch the same thing the same way. */
bool feed_same(const struct feed *a, const struct feed *b);

/*
 * Writes a duration the way a configuration would say it ("10s", "2.5s",
 * "500ms", "5m", "2h"), so messages speak in the file's terms.
 */
void feed_duration_text(uint64_t ns, char *buf, size_t size);

/*
 * url with the password of any user:password@ replaced by ***, for
 * everything printed: status, logs, errors.
 */
void feed_url_masked(const char *url, char *buf, size_t size);

/* Is name a valid feed name: 1..64 of [A-Za-z0-9_-]? */
bool feed_name_valid(const char *name);

#endif

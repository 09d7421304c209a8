/* SPDX-License-Identifier: ISC */
/*
 * Prometheus textfile for node_exporter: per feed, the age of the copy,
 * the last success, origin requests by result, bytes, failures.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>

#include "atomicfile.h"
#include "check.h"
#include "schedule.h"
#include "textbuf.h"

static void
help(struct textbuf *t, const char *name, const char *type, const char *text)
{
	textbuf_printf(
	    t, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

/*
 * Several processes write the file (the daemon, a cron refresh), so they
 * take turns under CACHE_DIR/.metrics.file.lock; that makes a fixed
 * temporary name safe, and one left by a killed writer is reused, not
 * piled up. Its second dot keeps it apart from every feed's .NAME.lock
 * (a feed may be called "metrics": a slow fetch of it would hold up
 * every writer of this file).
 */
static int
replace_locked(const struct feedcache_conf *conf, const char *buf, size_t len)
{
	struct atomic_file af;
	char lock_path[4096];
	int lock, rc;

	if (snprintf(lock_path, sizeof(lock_path), "%s/.metrics.file.lock",
	        conf->cache_dir) >= (int)sizeof(lock_path))
		return -ENAMETOOLONG;
	if ((lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	         0644)) < 0)
		return -errno;
	if (flock(lock, LOCK_EX) < 0) {
		rc = -errno;
		close(lock);
		return rc;
	}
	if ((rc = atomic_file_open_fixed(&af, conf->metrics_file, 0644)) == 0) {
		af.sync =
		    ATOMIC_SYNC_NONE; /* regenerated: loss costs nothing */
		if ((rc = atomic_file_write(&af, buf, len)) < 0)
			atomic_file_abort(&af);
		else
			rc = atomic_file_commit(&af);
	}
	close(lock);
	return rc;
}

int
metrics_write(const struct feedcache_conf *conf, const struct feed_stats *stats,
    const struct fleet_counters *fleet, int64_t now)
{
	struct textbuf t;
	int rc;

	if (conf->metrics_file == NULL)
		return 0;
	if ((rc = textbuf_init(&t, 65536)) < 0)
		return rc;
	help(&t, "feedcache_age_seconds", "gauge",
	    "Seconds since the cached copy was last confirmed current.");
	for (size_t i = 0; i < conf->nfeeds; i++)
		if (stats[i].have_copy && stats[i].checked > 0)
			textbuf_printf(&t,
			    "feedcache_age_seconds{feed=\"%s\"} %lld\n",
			    conf->feeds[i]->name,
			    (long long)(now - stats[i].checked));
	help(&t, "feedcache_feed_age_seconds", "gauge",
	    "Seconds since the origin last answered well (no copy: absent).");
	for (size_t i = 0; i < conf->nfeeds; i++)
		if (stats[i].have_copy && stats[i].checked > 0)
			textbuf_printf(&t,
			    "feedcache_feed_age_seconds{feed=\"%s\"} %lld\n",
			    conf->feeds[i]->name,
			    (long long)(now - stats[i].checked));
	help(&t, "feedcache_feed_stale", "gauge",
	    "1 when the copy is missing or older than interval + 10% + "
	    "max_backoff.");
	for (size_t i = 0; i < conf->nfeeds; i++)
		textbuf_printf(&t, "feedcache_feed_stale{feed=\"%s\"} %d\n",
		    conf->feeds[i]->name,
		    !stats[i].have_copy || stats[i].checked <= 0 ||
		        now - stats[i].checked >
		            feed_stale_after_s(conf->feeds[i]));
	help(&t, "feedcache_last_success_timestamp_seconds", "gauge",
	    "When the origin last answered with a usable response.");
	for (size_t i = 0; i < conf->nfeeds; i++)
		textbuf_printf(&t,
		    "feedcache_last_success_timestamp_seconds{feed=\"%s\"} "
		    "%lld\n",
		    conf->feeds[i]->name, (long long)stats[i].checked);
	help(&t, "feedcache_origin_requests_total", "counter",
	    "Requests sent to the origin, by result.");
	for (size_t i = 0; i < conf->nfeeds; i++)
		for (int r = RESULT_NONE + 1; r < RESULT_MAX; r++)
			textbuf_printf(&t,
			    "feedcache_origin_requests_total{feed=\"%s\","
			    "result=\"%s\"} %llu\n",
			    conf->feeds[i]->name,
			    fetch_result_name((enum fetch_result)r),
			    (unsigned long long)stats[i].requests[r]);
	help(&t, "feedcache_fetched_bytes_total", "counter",
	    "Body bytes received from the origin.");
	for (size_t i = 0; i < conf->nfeeds; i++)
		textbuf_printf(&t,
		    "feedcache_fetched_bytes_total{feed=\"%s\"} %llu\n",
		    conf->feeds[i]->name, (unsigned long long)stats[i].bytes);
	help(&t, "feedcache_consecutive_failures", "gauge",
	    "Failed refreshes since the last success.");
	for (size_t i = 0; i < conf->nfeeds; i++)
		textbuf_printf(&t,
		    "feedcache_consecutive_failures{feed=\"%s\"} %u\n",
		    conf->feeds[i]->name, stats[i].failures);
	help(&t, "feedcache_size_bytes", "gauge", "Size of the cached copy.");
	for (size_t i = 0; i < conf->nfeeds; i++)
		if (stats[i].have_copy)
			textbuf_printf(&t,
			    "feedcache_size_bytes{feed=\"%s\"} %llu\n",
			    conf->feeds[i]->name,
			    (unsigned long long)stats[i].size);
	if (fleet != NULL) {
		help(&t, "feedcache_fleet_redis_up", "gauge",
		    "Whether Redis answered at last contact (fleet mode).");
		textbuf_printf(&t, "feedcache_fleet_redis_up %d\n", fleet->up);
		help(&t, "feedcache_fleet_leases_won_total", "counter",
		    "Times this node won a lease and fetched for the fleet.");
		textbuf_printf(&t, "feedcache_fleet_leases_won_total %llu\n",
		    (unsigned long long)fleet->leases_won);
		help(&t, "feedcache_fleet_followed_total", "counter",
		    "Bodies copied from the fleet into this node's cache.");
		textbuf_printf(&t, "feedcache_fleet_followed_total %llu\n",
		    (unsigned long long)fleet->followed);
		help(&t, "feedcache_fleet_redis_errors_total", "counter",
		    "Redis failures: unreachable, refused, or garbage.");
		textbuf_printf(&t, "feedcache_fleet_redis_errors_total %llu\n",
		    (unsigned long long)fleet->redis_errors);
	}
	rc = t.error ? t.error : replace_locked(conf, t.buf, t.len);
	textbuf_free(&t);
	return rc;
}

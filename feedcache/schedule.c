/* SPDX-License-Identifier: ISC */
/*
 * The schedule. Idle feeds wait in a min-heap ordered by due time; a due
 * feed moves to its origin's ready queue; an origin with ready feeds and
 * no transfer in flight is runnable. Every event costs O(log n), so ten
 * thousand feeds cost no more per refresh than ten.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fetch.h"
#include "hook.h"
#include "log.h"
#include "schedule.h"
#include "timeutil.h"

#define METRICS_MIN_GAP 1 /* seconds between metrics files */

struct sfeed {
	int64_t due; /* unix seconds */
	int origin;
	int next_ready; /* in its origin's ready queue, or -1 */
	struct fetch *fetch; /* in flight, or NULL */
	struct fleet_lease lease; /* held: fetching for the fleet */
	bool asked; /* a reader found the copy too old (see requests) */
};

struct sorigin {
	const char *name; /* points into a feed's origin[] */
	bool busy;
	bool runnable;
	int ready_head, ready_tail;
};

struct sched {
	struct feedcache_conf *conf;
	const struct sched_opts *opts;
	CURLM *multi;
	struct fleet *fleet; /* NULL: single-node */
	struct sfeed *feeds;
	struct feed_stats *stats;
	struct sorigin *origins;
	int norigins;
	int *heap; /* feed indices, min-heap by due */
	size_t heap_len;
	int *runnable; /* circular queue of origin indices */
	int run_head, run_len;
	unsigned active;
	int failed; /* one pass: a feed failed */
	bool metrics_dirty;
	int64_t metrics_written;
	struct hooks hooks; /* on_change commands still running */
};

static int64_t
now_s(void)
{
	return (int64_t)(time_wall_ns() / NSEC_PER_SEC);
}

/* Heap of feed indices keyed by sfeed.due. */
static bool
heap_less(const struct sched *s, size_t a, size_t b)
{
	return s->feeds[s->heap[a]].due < s->feeds[s->heap[b]].due;
}

static void
heap_swap(struct sched *s, size_t a, size_t b)
{
	int t = s->heap[a];

	s->heap[a] = s->heap[b];
	s->heap[b] = t;
}

static void
heap_push(struct sched *s, int i)
{
	size_t k = s->heap_len++;

	s->heap[k] = i;
	while (k > 0 && heap_less(s, k, (k - 1) / 2)) {
		heap_swap(s, k, (k - 1) / 2);
		k = (k - 1) / 2;
	}
}

static int
heap_pop(struct sched *s)
{
	int top = s->heap[0];
	size_t k = 0;

	s->heap[0] = s->heap[--s->heap_len];
	for (;;) {
		size_t l = 2 * k + 1, r = l + 1, m = k;

		if (l < s->heap_len && heap_less(s, l, m))
			m = l;
		if (r < s->heap_len && heap_less(s, r, m))
			m = r;
		if (m == k)
			break;
		heap_swap(s, k, m);
		k = m;
	}
	return top;
}

static void
make_runnable(struct sched *s, int o)
{
	struct sorigin *org = &s->origins[o];

	if (org->busy || org->runnable || org->ready_head < 0)
		return;
	org->runnable = true;
	s->runnable[(s->run_head + s->run_len++) % s->norigins] = o;
}

static void
make_ready(struct sched *s, int i)
{
	struct sorigin *org = &s->origins[s->feeds[i].origin];

	s->feeds[i].next_ready = -1;
	if (org->ready_tail < 0)
		org->ready_head = i;
	else
		s->feeds[org->ready_tail].next_ready = i;
	org->ready_tail = i;
	make_runnable(s, s->feeds[i].origin);
}

static int
ready_pop(struct sched *s, int o)
{
	struct sorigin *org = &s->origins[o];
	int i = org->ready_head;

	if (i >= 0) {
		org->ready_head = s->feeds[i].next_ready;
		if (org->ready_head < 0)
			org->ready_tail = -1;
	}
	return i;
}

/* Back to waiting: into the heap in the daemon, done in one pass. */
static void
reschedule(struct sched *s, int i, int64_t due)
{
	s->feeds[i].due = due;
	if (s->opts->daemon)
		heap_push(s, i);
}

static bool
wanted(const struct sched_opts *o, const char *name)
{
	if (o->names == NULL)
		return true;
	for (size_t i = 0; i < o->nnames; i++)
		if (strcmp(o->names[i], name) == 0)
			return true;
	return false;
}

/*
 * Names to indexes for one build, so a build is linear in the feeds
 * (10,000 feeds on 10,000 origins, reloaded, would otherwise cost 10^8
 * string compares): open addressing, at most half full, FNV-1a.
 */
struct name_index {
	const char **key;
	int *val;
	size_t mask;
};

static int
name_index_init(struct name_index *x, size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	x->key = calloc(cap, sizeof(*x->key));
	x->val = calloc(cap, sizeof(*x->val));
	x->mask = cap - 1;
	return x->key != NULL && x->val != NULL ? 0 : -ENOMEM;
}

static void
name_index_free(struct name_index *x)
{
	free(x->key);
	free(x->val);
}

/* The slot of name: its value, or where it would go (key NULL). */
static size_t
name_index_slot(const struct name_index *x, const char *name)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (const char *p = name; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	for (i = h & x->mask; x->key[i] != NULL; i = (i + 1) & x->mask)
		if (strcmp(x->key[i], name) == 0)
			break;
	return i;
}

/* The value for name, or -1. */
static int
name_index_get(const struct name_index *x, const char *name)
{
	size_t i = name_index_slot(x, name);

	return x->key[i] != NULL ? x->val[i] : -1;
}

/* Adds name (not yet there: the caller checked, or names are unique). */
static void
name_index_put(struct name_index *x, const char *name, int val)
{
	size_t i = name_index_slot(x, name);

	x->key[i] = name;
	x->val[i] = val;
}

/* The index of origin name in s->origins, added if new. */
static int
origin_of(struct sched *s, struct name_index *seen, const char *name)
{
	int o = name_index_get(seen, name);

	if (o >= 0)
		return o;
	s->origins[s->norigins] =
	    (struct sorigin){.name = name, .ready_head = -1, .ready_tail = -1};
	name_index_put(seen, name, s->norigins);
	return s->norigins++;
}

/*
 * Builds the schedule for s->conf. Due times come from the meta files:
 * the daemon resumes where it (or cron, or a reader) left off, and never
 * sends a request before a Retry-After deadline. On a reload, feeds that
 * did not change keep what prev had for them, and, when carry is true,
 * their transfer in flight too (taken out of prev, so the caller
 * abandons only what is left there).
 */
static int
sched_build(struct sched *s, int64_t now, struct sched *prev,
    const struct feedcache_conf *prev_conf, bool carry)
{
	size_t n = s->conf->nfeeds;
	struct name_index origins = {0}, before = {0};
	char path[4096];
	struct feed_meta m;
	int rc = -ENOMEM;

	s->feeds = calloc(n ? n : 1, sizeof(*s->feeds));
	s->stats = calloc(n ? n : 1, sizeof(*s->stats));
	s->origins = calloc(n ? n : 1, sizeof(*s->origins));
	s->heap = calloc(n ? n : 1, sizeof(*s->heap));
	s->runnable = calloc(n ? n : 1, sizeof(*s->runnable));
	if (name_index_init(&origins, n) < 0 ||
	    name_index_init(&before, prev ? prev_conf->nfeeds : 0) < 0)
		goto out;
	if (!s->feeds || !s->stats || !s->origins || !s->heap || !s->runnable)
		goto out;
	for (size_t j = 0; prev != NULL && j < prev_conf->nfeeds; j++)
		name_index_put(&before, prev_conf->feeds[j]->name, (int)j);
	s->norigins = 0;
	s->heap_len = 0;
	s->run_head = s->run_len = 0;
	s->active = 0;
	for (size_t i = 0; i < n; i++) {
		const struct feed *f = s->conf->feeds[i];
		struct sfeed *sf = &s->feeds[i];
		int j = name_index_get(&before, f->name);

		sf->origin = origin_of(s, &origins, f->origin);
		sf->next_ready = -1;
		sf->due = now;
		if (j >= 0 && feed_same(prev_conf->feeds[j], f)) {
			sf->due = prev->feeds[j].due;
			s->stats[i] = prev->stats[j];
			if (carry && prev->feeds[j].fetch != NULL) {
				/* Running, and running on: the same feed. */
				sf->fetch = prev->feeds[j].fetch;
				sf->fetch->feed = f;
				sf->lease = prev->feeds[j].lease;
				prev->feeds[j].fetch = NULL;
				s->origins[sf->origin].busy = true;
				s->active++;
				continue;
			}
		} else if (j >= 0 && prev->feeds[j].fetch != NULL) {
			/* Changed while in flight: abandoned, so due now. */
		} else if (feed_meta_path(
		               s->conf, f->name, path, sizeof(path)) == 0 &&
		           meta_load(path, &m) == 0) {
			meta_stats(&m, &s->stats[i]);
			sf->due = m.next_due;
			if (m.retry_after > sf->due)
				sf->due = m.retry_after;
		}
		if (s->opts->daemon) {
			heap_push(s, (int)i);
		} else if (wanted(s->opts, f->name)) {
			if (s->opts->force || sf->due <= now)
				make_ready(s, (int)i);
			else if (s->opts->names != NULL)
				log_info("feed %s: not due for %lld s (--force "
				         "refreshes it now)",
				    f->name, (long long)(sf->due - now));
		}
	}
	rc = 0;
out:
	name_index_free(&origins);
	name_index_free(&before);
	return rc;
}

static void
sched_free(struct sched *s)
{
	free(s->feeds);
	free(s->stats);
	free(s->origins);
	free(s->heap);
	free(s->runnable);
	s->feeds = NULL;
	s->stats = NULL;
	s->origins = NULL;
	s->heap = NULL;
	s->runnable = NULL;
}

/* Gives back the lease of feed i if it holds one. */
static void
unlease(struct sched *s, int i)
{
	fleet_release(s->fleet, s->conf->feeds[i], now_s(), &s->feeds[i].lease);
}

/*
 * In fleet mode, with feed i's lock held: catches up with the fleet and
 * asks whether this node is to fetch. On FLEET_WAIT the feed is
 * rescheduled for when the fleet says.
 */
static enum fleet_verdict
ask_fleet(struct sched *s, int i, int64_t now)
{
	const struct feed *f = s->conf->feeds[i];
	char meta[4096], body[4096], was[sizeof(((struct feed_meta *)0)->hash)];
	enum fleet_verdict v;
	struct feed_meta m;
	int64_t due = now;

	if (s->fleet == NULL)
		return FLEET_SOLO;
	if (feed_meta_path(s->conf, f->name, meta, sizeof(meta)) < 0)
		meta[0] = '\0';
	/* The hash before the claim: a body taken from the fleet is a new
	 * body for on_change too. */
	if (f->on_change == NULL || meta[0] == '\0' || meta_load(meta, &m) < 0)
		m.hash[0] = '\0';
	memcpy(was, m.hash, sizeof(was));
	v = fleet_claim(s->fleet, f,
	    s->opts->force && !s->opts->daemon ? FLEET_FORCE : FLEET_SCHEDULE,
	    now, &due, &s->feeds[i].lease);
	if (meta[0] != '\0' && meta_load(meta, &m) == 0) {
		meta_stats(&m, &s->stats[i]);
		if (f->on_change != NULL && m.hash[0] != '\0' &&
		    strcmp(m.hash, was) != 0 &&
		    feed_body_path(s->conf, f->name, body, sizeof(body)) == 0)
			hook_start(&s->hooks, f->name, f->on_change, body,
			    m.hash, s->conf->hook_timeout_ns);
	}
	s->metrics_dirty = true;
	if (v == FLEET_WAIT) {
		/* Like "not due": said to whoever named the feed, and under
		 * -v; a cron refresh of everything stays quiet. */
		if (!s->opts->daemon && s->opts->names != NULL)
			log_info("feed %s: the fleet has it in hand (next "
			         "check in %lld s)",
			    f->name, (long long)(due - now));
		else if (!s->opts->daemon)
			log_debug("feed %s: the fleet has it in hand (next "
			          "check in %lld s)",
			    f->name, (long long)(due - now));
		reschedule(s, i, due > now ? due : now + 1);
	}
	return v;
}

/*
 * Starts feed i if nobody else is refreshing it and it is still due by
 * its meta file (or the fleet's). Returns true if a transfer is now in
 * flight.
 */
static bool
start_feed(struct sched *s, int i, int64_t now)
{
	const struct feed *f = s->conf->feeds[i];
	struct sfeed *sf = &s->feeds[i];
	struct fetch *fx;
	char why[300];
	int lock, rc;

	lock = feed_lock(s->conf, f->name);
	if (lock == -EWOULDBLOCK) {
		/* Another process is at it: look again shortly. */
		if (s->opts->daemon)
			log_debug(
			    "feed %s: being refreshed elsewhere", f->name);
		else
			log_info("feed %s: being refreshed elsewhere, skipped",
			    f->name);
		reschedule(s, i, now + 1);
		return false;
	}
	if (lock < 0) {
		log_warnx("feed %s: lock: %s", f->name, strerror(-lock));
		s->failed = 1;
		reschedule(s, i, now + 60);
		return false;
	}
	switch (ask_fleet(s, i, now)) {
	case FLEET_WAIT:
		close(lock);
		return false;
	case FLEET_FETCH:
	case FLEET_SOLO:
		break;
	}
	if ((fx = malloc(sizeof(*fx))) == NULL) {
		close(lock);
		unlease(s, i);
		log_warnx("feed %s: out of memory", f->name);
		s->failed = 1;
		reschedule(s, i, now + 60);
		return false;
	}
	if ((rc = fetch_start(fx, s->conf, f, lock, why, sizeof(why))) < 0) {
		log_warnx("feed %s: %s", f->name, why);
		unlease(s, i);
		free(fx);
		s->failed = 1;
		reschedule(s, i, now + 60);
		return false;
	}
	/* Under the lock, the meta file is current: honour it (a lease
	 * says the fleet's copy is due, whatever this node's says). */
	if (fx->meta.retry_after > now ||
	    (!(s->opts->force && !s->opts->daemon) && !sf->lease.held &&
	        !(sf->asked && fx->meta.failures == 0) &&
	        fx->meta.next_due > now)) {
		sf->asked = false;
		int64_t due = fx->meta.next_due > fx->meta.retry_after
		                  ? fx->meta.next_due
		                  : fx->meta.retry_after;

		if (fx->meta.retry_after > now)
			log_info("feed %s: Retry-After until %lld s from now, "
			         "not asking",
			    f->name, (long long)(fx->meta.retry_after - now));
		meta_stats(&fx->meta, &s->stats[i]);
		fetch_abandon(fx);
		unlease(s, i);
		free(fx);
		reschedule(s, i, due);
		return false;
	}
	sf->asked = false;
	if (curl_multi_add_handle(s->multi, fx->easy) != CURLM_OK) {
		log_warnx("feed %s: cannot start the transfer", f->name);
		fetch_abandon(fx);
		unlease(s, i);
		free(fx);
		s->failed = 1;
		reschedule(s, i, now + 60);
		return false;
	}
	sf->fetch = fx;
	s->origins[sf->origin].busy = true;
	s->active++;
	{
		char url[2048];

		feed_url_masked(f->url, url, sizeof(url));
		log_debug("feed %s: GET %s", f->name, url);
	}
	return true;
}

/*
 * Starts what may start, for at most START_BUDGET_NS at a time in fleet
 * mode: every claim there is a Redis round trip (and maybe a follow),
 * and transfers already started, whose leases are running, must not
 * wait long for curl_multi_perform. The loop comes back for the rest.
 */
#define START_BUDGET_NS (100 * NSEC_PER_MSEC)

static void
start_ready(struct sched *s, int64_t now)
{
	uint64_t t0 = time_mono_ns();

	while (s->active < s->conf->max_parallel && s->run_len > 0) {
		if (s->fleet != NULL && s->active > 0 &&
		    time_mono_ns() - t0 > START_BUDGET_NS)
			break;
		int o = s->runnable[s->run_head];
		int i;

		s->run_head = (s->run_head + 1) % s->norigins;
		s->run_len--;
		s->origins[o].runnable = false;
		while ((i = ready_pop(s, o)) >= 0)
			if (start_feed(s, i, now))
				break;
		make_runnable(s, o);
	}
}

static void
finish_feed(struct sched *s, struct fetch *fx, CURLcode code, int64_t now)
{
	const struct feed *f = fx->feed;
	struct fetch_outcome out;
	int i;

	for (i = 0; s->feeds[i].fetch != fx; i++)
		;
	fetch_finish(fx, code, now, &out);
	meta_stats(&fx->meta, &s->stats[i]);
	/* Started, not waited for: a slow hook holds up no other feed. */
	if (out.result == RESULT_UPDATED && f->on_change != NULL) {
		char path[PATH_MAX];

		if (feed_body_path(s->conf, f->name, path, sizeof(path)) == 0)
			hook_start(&s->hooks, f->name, f->on_change, path,
			    fx->meta.hash, s->conf->hook_timeout_ns);
	}
	fleet_publish(s->fleet, f, &fx->meta, now, &s->feeds[i].lease);
	free(fx);
	s->feeds[i].fetch = NULL;
	s->origins[s->feeds[i].origin].busy = false;
	s->active--;
	s->metrics_dirty = true;
	if (fetch_result_ok(out.result)) {
		/* Quiet when nothing is wrong: cron mails what refresh
		 * prints, and a 304 every few minutes is not news. */
		if (s->opts->daemon && out.result != RESULT_NOT_MODIFIED)
			log_info("feed %s: %s", f->name, out.message);
		else
			log_debug("feed %s: %s", f->name, out.message);
	} else {
		char body[PATH_MAX];
		bool copy =
		    feed_body_path(s->conf, f->name, body, sizeof(body)) == 0 &&
		    access(body, F_OK) == 0;

		log_warnx("feed %s: %s; %s, next try in %lld s", f->name,
		    out.message, copy ? "keeping the old copy" : "no copy yet",
		    (long long)(out.next_due - now));
		s->failed = 1;
	}
	reschedule(s, i, out.next_due);
	make_runnable(s, s->feeds[i].origin);
}

static void
abandon_all(struct sched *s)
{
	for (size_t i = 0; i < s->conf->nfeeds; i++) {
		struct fetch *fx = s->feeds[i].fetch;

		if (fx == NULL)
			continue;
		curl_multi_remove_handle(s->multi, fx->easy);
		fetch_abandon(fx);
		unlease(s, (int)i);
		free(fx);
		s->feeds[i].fetch = NULL;
	}
	s->active = 0;
}

static void
write_metrics(struct sched *s, int64_t now, bool force)
{
	struct fleet_counters fc;
	int rc;

	if (!s->metrics_dirty ||
	    (!force && now - s->metrics_written < METRICS_MIN_GAP))
		return;
	fleet_counters(s->fleet, &fc);
	if ((rc = metrics_write(
	         s->conf, s->stats, s->fleet ? &fc : NULL, now)) < 0)
		log_warnx("%s: %s", s->conf->metrics_file, strerror(-rc));
	s->metrics_dirty = false;
	s->metrics_written = now;
}

static bool
str_same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	       (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* May a transfer started under a run on under b? What a fetch took
 * from the [feedcache] section must not have changed. */
static bool
transfers_carry(const struct feedcache_conf *a, const struct feedcache_conf *b)
{
	return str_same(a->cache_dir, b->cache_dir) &&
	       str_same(a->ca_file, b->ca_file) &&
	       str_same(a->user_agent, b->user_agent);
}

/* Does the fleet made for a still serve b? */
static bool
fleet_same(const struct feedcache_conf *a, const struct feedcache_conf *b)
{
	return str_same(a->redis, b->redis) &&
	       str_same(a->node_name, b->node_name) &&
	       str_same(a->redis_prefix, b->redis_prefix) &&
	       a->redis_timeout_ns == b->redis_timeout_ns;
}

/*
 * SIGHUP, applied at once, whatever is in flight: feeds that did not
 * change keep their schedule and their transfer, new ones start from
 * their meta file, removed ones are abandoned (their copy untouched),
 * changed ones are abandoned and start again. A bad file keeps the
 * running configuration.
 */
static int
apply_reload(struct sched *s, int64_t now)
{
	struct feedcache_conf fresh, old_conf;
	struct conf_error err;
	struct sched old = *s;
	unsigned abandoned = 0;
	bool keep_fleet;
	int rc;

	rc = feedcache_conf_load(s->conf->path, &fresh, &err);
	if (rc < 0) {
		log_warnx(
		    "reload: keeping the running configuration: %s", err.msg);
		return 0;
	}
	old_conf = *s->conf;
	*s->conf = fresh;
	keep_fleet = fleet_same(&old_conf, s->conf);
	rc = sched_build(
	    s, now, &old, &old_conf, transfers_carry(&old_conf, s->conf));
	/* What was not carried over: removed or changed, given up now
	 * (its lease given back through the fleet it was taken from). */
	for (size_t j = 0; j < old_conf.nfeeds; j++) {
		struct fetch *fx = old.feeds[j].fetch;

		if (fx == NULL)
			continue;
		curl_multi_remove_handle(s->multi, fx->easy);
		fetch_abandon(fx);
		fleet_release(
		    s->fleet, old_conf.feeds[j], now, &old.feeds[j].lease);
		free(fx);
		abandoned++;
	}
	if (!keep_fleet) {
		fleet_free(s->fleet);
		s->fleet = NULL;
	}
	feedcache_conf_free(&old_conf);
	sched_free(&old);
	if (rc < 0)
		return rc;
	/* The fleet points into the configuration: one for the new one,
	 * connected at the next claim, unless nothing of it changed. */
	if (!keep_fleet) {
		s->fleet = s->conf->redis != NULL ? fleet_new(s->conf) : NULL;
		if (!s->opts->daemon)
			fleet_quiet(s->fleet);
	}
	log_info("reloaded %s: %zu feeds, %u transfers running on, %u "
	         "abandoned",
	    s->conf->path, s->conf->nfeeds, s->active, abandoned);
	s->metrics_dirty = true;
	return 0;
}

/* Moves every feed that is due from the heap to its origin's queue. */
static void
release_due(struct sched *s, int64_t now)
{
	while (s->heap_len > 0 && s->feeds[s->heap[0]].due <= now)
		make_ready(s, heap_pop(s));
}

/* How long the event loop may sleep, in ms. */
static int
sleep_ms(const struct sched *s, int64_t now)
{
	int64_t wait = 1000;

	if (s->opts->daemon && s->heap_len > 0) {
		int64_t due = s->feeds[s->heap[0]].due;

		wait = due > now ? (due - now) * 1000 : 0;
		if (wait > 60000)
			wait = 60000;
	}
	return (int)wait;
}

static void
drain_wake_fd(int fd)
{
	char buf[64];

	if (fd >= 0)
		while (read(fd, buf, sizeof(buf)) > 0)
			;
}

/*
 * Readers' requests. A reader that may not refresh a feed itself (it
 * cannot read the configuration: the packaged web server user) writes
 * "NAME\n" into the FIFO CACHE_DIR/.requests, which the daemon creates
 * for the configured readers' group (mode 0620). A request makes the
 * feed due now unless it is backing off after failures or under a
 * Retry-After: readers cannot undo the backoff.
 */
#define REQUESTS_FIFO ".requests"

static int
requests_open(const struct feedcache_conf *conf)
{
	char path[4096];
	struct stat st;
	int fd;

	if (snprintf(path, sizeof(path), "%s/" REQUESTS_FIFO,
	        conf->cache_dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if (mkfifo(path, 0600) < 0 && errno != EEXIST)
		return -errno;
	fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode) ||
	    (conf->gid != (gid_t)-1 && fchown(fd, (uid_t)-1, conf->gid) < 0) ||
	    fchmod(fd, conf->gid != (gid_t)-1 ? 0620 : 0600) < 0) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

/* Makes feed i due now: the heap entry moves up to where it belongs. */
static void
request_feed(struct sched *s, int i, int64_t now)
{
	size_t k;

	if (s->feeds[i].fetch != NULL)
		return; /* in flight already */
	for (k = 0; k < s->heap_len && s->heap[k] != i; k++)
		;
	if (k == s->heap_len)
		return; /* queued already */
	s->feeds[i].asked = true;
	if (s->feeds[i].due <= now)
		return;
	s->feeds[i].due = now;
	while (k > 0 && heap_less(s, k, (k - 1) / 2)) {
		heap_swap(s, k, (k - 1) / 2);
		k = (k - 1) / 2;
	}
}

static void
read_requests(struct sched *s, int fd, int64_t now)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		char *line = buf, *nl;

		buf[n] = '\0';
		/* Requests are one write each, under PIPE_BUF: whole lines.
		 * A fragment at the end of a full buffer is dropped. */
		while ((nl = strchr(line, '\n')) != NULL) {
			*nl = '\0';
			for (size_t i = 0; i < s->conf->nfeeds; i++) {
				if (strcmp(s->conf->feeds[i]->name, line) != 0)
					continue;
				log_debug(
				    "feed %s: a reader asks for a refresh",
				    line);
				request_feed(s, (int)i, now);
			}
			line = nl + 1;
		}
	}
}

static bool
one_pass_done(const struct sched *s)
{
	return s->active == 0 && s->run_len == 0;
}

/*
 * Files made now belong to whoever runs this: say so once when that is
 * not the cache directory's owner (a refresh run by root for a cache the
 * service user keeps), naming both.
 */
static void
warn_foreign_owner(const struct feedcache_conf *conf)
{
	struct stat st;
	struct passwd *pw;
	char owner[64], me[64];
	uid_t euid = geteuid();

	if (stat(conf->cache_dir, &st) < 0 || st.st_uid == euid)
		return;
	pw = getpwuid(st.st_uid);
	snprintf(owner, sizeof(owner), "%s", pw ? pw->pw_name : "?");
	pw = getpwuid(euid);
	snprintf(me, sizeof(me), "%s", pw ? pw->pw_name : "?");
	log_warnx("cache_dir %s belongs to %s (uid %u), but feedcache runs as "
	          "%s (uid %u): the files it writes now belong to %s",
	    conf->cache_dir, owner, (unsigned)st.st_uid, me, (unsigned)euid,
	    me);
}

int
sched_run(struct feedcache_conf *conf, const struct sched_opts *o)
{
	struct sched s = {.conf = conf, .opts = o};
	struct curl_waitfd wait[2] = {
	    {.fd = o->wake_fd, .events = CURL_WAIT_POLLIN},
	    {.fd = -1, .events = CURL_WAIT_POLLIN}};
	unsigned nwait = o->wake_fd >= 0 ? 1 : 0;
	int requests = -1;
	int64_t now = now_s();
	int running, rc;

	warn_foreign_owner(conf);
	if ((s.multi = curl_multi_init()) == NULL)
		return -ENOMEM;
	if ((rc = sched_build(&s, now, NULL, NULL, false)) < 0)
		goto out;
	if (conf->redis != NULL)
		s.fleet = fleet_new(conf);
	/* A refresh is quiet on success: cron mails only failures. */
	if (!o->daemon)
		fleet_quiet(s.fleet);
	if (o->daemon && (requests = requests_open(conf)) < 0) {
		log_warnx("%s/" REQUESTS_FIFO ": %s; readers cannot ask for "
		          "refreshes",
		    conf->cache_dir, strerror(-requests));
		requests = -1;
	}
	if (requests >= 0) {
		wait[nwait].fd = requests;
		wait[nwait++].events = CURL_WAIT_POLLIN;
	}
	/* The daemon's metrics exist from the start, not from the first
	 * refresh, which may be an interval away. */
	s.metrics_dirty = o->daemon;
	if (o->on_ready != NULL)
		o->on_ready();

	for (;;) {
		CURLMsg *msg;
		size_t hooks_running;
		int left, ms;

		now = now_s();
		hooks_running = hook_reap(&s.hooks);
		if (*o->stop) {
			log_info("stopping: %u transfers abandoned", s.active);
			abandon_all(&s);
			break;
		}
		if (*o->reload) {
			*o->reload = 0;
			if ((rc = apply_reload(&s, now)) < 0)
				break;
		}
		if (requests >= 0)
			read_requests(&s, requests, now);
		if (o->daemon)
			release_due(&s, now);
		start_ready(&s, now);
		if (!o->daemon && one_pass_done(&s))
			break;

		curl_multi_perform(s.multi, &running);
		while ((msg = curl_multi_info_read(s.multi, &left)) != NULL) {
			struct fetch *fx;

			if (msg->msg != CURLMSG_DONE)
				continue;
			CURLcode code = msg->data.result;

			curl_easy_getinfo(
			    msg->easy_handle, CURLINFO_PRIVATE, (char **)&fx);
			curl_multi_remove_handle(s.multi, msg->easy_handle);
			/* A redirect feedcache follows: the same transfer,
			 * one hop further. */
			if (fetch_next_hop(fx, code) &&
			    curl_multi_add_handle(s.multi, fx->easy) ==
			        CURLM_OK)
				continue;
			finish_feed(&s, fx, code, now_s());
		}
		write_metrics(&s, now_s(), false);
		/* A transfer ended and another can start, or the pass is
		 * over: go round at once rather than sleep. */
		if ((s.active < conf->max_parallel && s.run_len > 0) ||
		    (!o->daemon && one_pass_done(&s)))
			continue;
		/* Running hooks are reaped, or killed at their deadline,
		 * within 100 ms. */
		ms = sleep_ms(&s, now_s());
		if (hooks_running > 0 && ms > 100)
			ms = 100;
		curl_multi_poll(
		    s.multi, nwait > 0 ? wait : NULL, nwait, ms, NULL);
		drain_wake_fd(o->wake_fd);
	}
	write_metrics(&s, now_s(), true);
	/* A one-shot refresh waits for its hooks (each bounded by
	 * hook_timeout); a stopping daemon ends them. */
	if (!o->daemon)
		hook_wait_all(&s.hooks);
	rc = s.failed;
out:
	hook_free(&s.hooks);
	if (requests >= 0)
		close(requests);
	fleet_free(s.fleet);
	sched_free(&s);
	curl_multi_cleanup(s.multi);
	return rc;
}

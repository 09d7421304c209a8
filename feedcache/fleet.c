/* SPDX-License-Identifier: ISC */
/*
 * fleet.c: fleet mode through Redis (hiredis, synchronous, every command
 * bounded by redis_timeout). Two Lua scripts carry the decisions that
 * must be atomic: taking the lease only if the fleet's copy is due, and
 * publishing body and meta together only while still holding the lease.
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <openssl/sha.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "fetch.h"
#include "fleet.h"
#include "hex.h"
#include "log.h"
#include "parse.h"
#include "readfile.h"
#include "timeutil.h"
#include "validate.h"

/* The lease outlives the feed's timeout by this, plus a second per
 * 8 MiB of max_size, for validating, writing and publishing the body; a
 * holder slower than that loses it (see publish). */
#define LEASE_MARGIN_MS 3000
#define RETRY_MIN_S 1
#define RETRY_MAX_S 30
#define RETRY_AFTER_MAX_S 86400 /* as for an origin's */

/*
 * KEYS: lease, meta. ARGV: token, lease ms, what makes the fleet's copy
 * fresh ("": its next due time is ahead; "force": nothing; a number N:
 * it was checked in the last N seconds, for a reader's max-age), the
 * furthest ahead a next due time may be (s). Decides on Redis's clock, so the
 * nodes' clocks need not agree. A deadline or next due time that is not
 * a plain number or is implausibly far ahead (beyond what any node's
 * interval, jitter and max_backoff, or a day's Retry-After, allow, with a
 * little slack for whole seconds) counts as none, and a lease nobody
 * could have set (no TTL, or one longer than the longest timeout and
 * max_size allow) is dropped: no value in Redis can silence the fleet,
 * and the next holder repairs it.
 * Returns {verdict, {meta fields}, now, next_due, retry_after}: verdict
 * "backoff" before the Retry-After, "fresh" before the next due time,
 * else "won" if the lease was free, "held" if not.
 */
static const char acquire_lua[] =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1])\n"
    "local m = redis.call('HMGET', KEYS[2], 'version', 'hash', 'size', "
    "'etag', 'last_modified', 'fetched', 'checked', 'url', 'failures', "
    "'sig')\n"
    "local f = redis.call('HMGET', KEYS[2], 'next_due', 'retry_after')\n"
    "local function num(v)\n"
    "  if v and string.match(v, '^%d+$') and #v < 16 then\n"
    "    return tonumber(v) end\n"
    "  return 0 end\n"
    "local nd, ra = num(f[1]), num(f[2])\n"
    "if nd > now + tonumber(ARGV[4]) then nd = 0 end\n"
    "if ra > now + 86400 + 60 then ra = 0 end\n"
    "local ttl = redis.call('PTTL', KEYS[1])\n"
    "if ttl == -1 or ttl > 4000000 then redis.call('DEL', KEYS[1]) end\n"
    "local v = 'held'\n"
    "if ra > now then v = 'backoff'\n"
    "elseif ARGV[3] == '' and nd > now then v = 'fresh'\n"
    "elseif ARGV[3] ~= '' and ARGV[3] ~= 'force' and\n"
    "  num(m[7]) >= now - tonumber(ARGV[3]) then v = 'fresh'\n"
    "elseif redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then\n"
    "  v = 'won' end\n"
    "return {v, m, now, nd, ra}\n";

/*
 * KEYS: lease, meta, body. ARGV: token, "1" with a new body or "0", the
 * body, then meta field/value pairs. Returns the version, or -1 if the
 * lease is no longer this claim's (nothing is written then).
 */
static const char publish_lua[] =
    "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end\n"
    "local v = redis.call('HGET', KEYS[2], 'version')\n"
    "v = (v and string.match(v, '^%d+$') and #v < 16) and tonumber(v) or 0\n"
    "if ARGV[2] == '1' then\n"
    "  v = v + 1\n"
    "  redis.call('SET', KEYS[3], ARGV[3])\n"
    "end\n"
    "redis.call('HSET', KEYS[2], 'version', v, unpack(ARGV, 4))\n"
    "redis.call('DEL', KEYS[1])\n"
    "return v\n";

/* KEYS: lease. ARGV: token, and "" to release or a new TTL (ms). */
static const char lease_lua[] =
    "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end\n"
    "if ARGV[2] == '' then return redis.call('DEL', KEYS[1]) end\n"
    "return redis.call('PEXPIRE', KEYS[1], ARGV[2])\n";

/* KEYS: body, meta. ARGV: the size and hash the meta said. The body, or
 * -1 if a publish changed it since, or its length when that is not the
 * size (so a huge value is never sent). */
static const char body_lua[] =
    "if redis.call('HGET', KEYS[2], 'hash') ~= ARGV[2] then return -1 end\n"
    "local n = redis.call('STRLEN', KEYS[1])\n"
    "if n ~= tonumber(ARGV[1]) then return n end\n"
    "return redis.call('GET', KEYS[1])\n";

enum {
	F_VERSION,
	F_HASH,
	F_SIZE,
	F_ETAG,
	F_LM,
	F_FETCHED,
	F_CHECKED,
	F_URL,
	F_FAILURES,
	F_SIG,
	F_COUNT
};

static const char *const field_names[F_COUNT] = {"version", "hash", "size",
    "etag", "last_modified", "fetched", "checked", "url", "failures", "sig"};

/* The fleet's record of a feed, times on our clock. */
struct fleet_meta {
	bool present; /* anything published yet */
	bool body_ok; /* version, hash and size make sense: may be followed */
	uint64_t version, size;
	char hash[65];
	char etag[512], last_modified[128];
	int64_t fetched, checked, next_due, retry_after;
	uint32_t failures; /* consecutive, fleet-wide */
	char url[2048];
};

/*
 * Why this node does not follow a feed's record in Redis, remembered so
 * the reason is logged once per feed, not once per cycle.
 */
enum distrust {
	TRUSTED,
	DISTRUST_GARBAGE, /* version, hash or size not as published */
	DISTRUST_UNSIGNED, /* no signature */
	DISTRUST_SIGNATURE, /* a signature no key of ours made */
	DISTRUST_BODY, /* a signed record whose body cannot be taken */
};

struct distrust_entry {
	char name[FEED_NAME_MAX + 1]; /* "" for a free slot */
	enum distrust why;
};

struct fleet {
	const struct feedcache_conf *conf;
	struct redis_addr addr;
	char where[300]; /* host:port/db, for messages */
	struct timeval timeout;
	redisContext *c;
	bool up; /* as last logged */
	bool logged; /* the state was logged once */
	bool quiet; /* routine news at debug level (fleet_quiet) */
	int64_t retry_at;
	unsigned retry_s;
	struct fleet_counters n;
	/* Feeds whose record was not followed: open addressing, power of
	 * two slots, at most half full; entries are reset, never removed. */
	struct distrust_entry *distrust;
	size_t distrust_slots, distrust_used;
};

int
redis_url_parse(
    const char *url, struct redis_addr *out, char *why, size_t why_size)
{
	const char *p, *at, *host, *host_end, *slash;
	uint32_t port = 6379, db = 0;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (strncmp(url, "redis://", 8) != 0) {
		snprintf(why, why_size, "must start with redis://");
		return -EINVAL;
	}
	p = url + 8;
	slash = strchr(p, '/');
	at = strchr(p, '@');
	if (at != NULL && (slash == NULL || at < slash)) {
		const char *colon = memchr(p, ':', (size_t)(at - p));

		if (colon == NULL) {
			snprintf(why, why_size,
			    "credentials must be [user]:password@");
			return -EINVAL;
		}
		n = (size_t)(colon - p);
		if (n >= sizeof(out->user) ||
		    (size_t)(at - colon - 1) >= sizeof(out->password)) {
			snprintf(why, why_size, "user or password too long");
			return -EINVAL;
		}
		memcpy(out->user, p, n);
		memcpy(out->password, colon + 1, (size_t)(at - colon - 1));
		p = at + 1;
	}
	host = p;
	if (*host == '[') {
		host_end = strchr(host, ']');
		if (host_end == NULL) {
			snprintf(why, why_size, "unclosed [ in the address");
			return -EINVAL;
		}
		host++;
		p = host_end + 1;
	} else {
		host_end = host + strcspn(host, ":/");
		p = host_end;
	}
	n = (size_t)(host_end - host);
	if (n == 0 || n >= sizeof(out->host)) {
		snprintf(why, why_size, "no host, or a host name too long");
		return -EINVAL;
	}
	memcpy(out->host, host, n);
	for (size_t i = 0; i < n; i++)
		if (out->host[i] <= ' ' || out->host[i] == 0x7f ||
		    out->host[i] == '@') {
			snprintf(why, why_size, "bad character in the host");
			return -EINVAL;
		}
	if (*p == ':') {
		char num[8];

		n = strcspn(++p, "/");
		if (n == 0 || n >= sizeof(num)) {
			snprintf(why, why_size, "bad port");
			return -EINVAL;
		}
		memcpy(num, p, n);
		num[n] = '\0';
		if (parse_u32(num, 1, 65535, &port) < 0) {
			snprintf(why, why_size, "port must be 1 to 65535");
			return -EINVAL;
		}
		p += n;
	}
	if (*p == '/' && p[1] != '\0' && parse_u32(p + 1, 0, 1000, &db) < 0) {
		snprintf(why, why_size, "the database must be a number");
		return -EINVAL;
	}
	if (*p != '\0' && *p != '/') {
		snprintf(why, why_size, "unexpected text after the host");
		return -EINVAL;
	}
	out->port = (int)port;
	out->db = (int)db;
	return 0;
}

struct fleet *
fleet_new(const struct feedcache_conf *conf)
{
	struct fleet *fl = calloc(1, sizeof(*fl));
	char why[128];

	if (fl == NULL) {
		log_warnx("fleet: out of memory; running single-node");
		return NULL;
	}
	fl->conf = conf;
	/* The configuration checked the URL as it was read. */
	redis_url_parse(conf->redis, &fl->addr, why, sizeof(why));
	snprintf(fl->where, sizeof(fl->where), "redis %s%s%s:%d/%d",
	    strchr(fl->addr.host, ':') ? "[" : "", fl->addr.host,
	    strchr(fl->addr.host, ':') ? "]" : "", fl->addr.port, fl->addr.db);
	fl->timeout.tv_sec = (time_t)(conf->redis_timeout_ns / NSEC_PER_SEC);
	fl->timeout.tv_usec =
	    (suseconds_t)(conf->redis_timeout_ns % NSEC_PER_SEC / 1000);
	fl->retry_s = RETRY_MIN_S;
	return fl;
}

static void
disconnect(struct fleet *fl)
{
	if (fl->c != NULL)
		redisFree(fl->c);
	fl->c = NULL;
}

void
fleet_free(struct fleet *fl)
{
	if (fl == NULL)
		return;
	disconnect(fl);
	explicit_bzero(&fl->addr, sizeof(fl->addr));
	free(fl->distrust);
	free(fl);
}

void
fleet_quiet(struct fleet *fl)
{
	if (fl != NULL)
		fl->quiet = true;
}

/* Redis is gone or refused us: single-node until retry_at, logged once. */
static void
went_down(struct fleet *fl, int64_t now, const char *why)
{
	char text[200];

	snprintf(text, sizeof(text), "%s", why);
	text_strip_controls(text); /* Redis's words are not ours */
	why = text;
	disconnect(fl);
	fl->n.redis_errors++;
	if (fl->up || !fl->logged)
		log_warnx("fleet: %s: %s; running single-node, retrying in "
		          "the background",
		    fl->where, why);
	fl->up = false;
	fl->logged = true;
	fl->retry_at = now + fl->retry_s;
	fl->retry_s =
	    fl->retry_s * 2 > RETRY_MAX_S ? RETRY_MAX_S : fl->retry_s * 2;
}

/* The most a reply other than a body may take: the acquire script's
 * fields, validators included, with room to spare. */
#define REPLY_MAX_SMALL (64 * 1024)
/* What a body's reply may take beyond the feed's max_size. */
#define REPLY_OVERHEAD 1024

/* Waits until fd is ready for events or the deadline (monotonic ns)
 * passes. Returns > 0 when ready, 0 on timeout, -1 on error. */
static int
wait_fd(int fd, short events, uint64_t deadline)
{
	for (;;) {
		uint64_t now = time_mono_ns();
		struct pollfd p = {.fd = fd, .events = events};
		int rc;

		if (now >= deadline)
			return 0;
		rc = poll(&p, 1,
		    (int)((deadline - now + NSEC_PER_MSEC - 1) /
		          NSEC_PER_MSEC));
		if (rc >= 0 || errno != EINTR)
			return rc;
	}
}

/*
 * Sends a command and reads its reply within redis_timeout in all, not
 * per read: a Redis that drips a byte at a time is cut off as surely as
 * one that never answers, so it can hold up neither refreshes nor
 * SIGTERM. No reply over max_reply bytes is read into memory. Returns
 * the reply, or NULL with why (the connection is then unusable).
 */
static redisReply *
roundtrip(struct fleet *fl, int argc, const char **argv, const size_t *lens,
    size_t max_reply, char *why, size_t why_size)
{
	uint64_t deadline = time_mono_ns() + fl->conf->redis_timeout_ns;
	unsigned long long ms = fl->conf->redis_timeout_ns / NSEC_PER_MSEC;
	redisContext *c = fl->c;
	void *reply = NULL;
	size_t got = 0;
	int done = 0;

	if (redisAppendCommandArgv(c, argc, argv, lens) != REDIS_OK) {
		snprintf(why, why_size, "%s", c->errstr);
		return NULL;
	}
	while (!done) {
		uint64_t left = deadline - time_mono_ns();
		struct timeval tv = {.tv_sec = (time_t)(left / NSEC_PER_SEC),
		    .tv_usec = (suseconds_t)(left % NSEC_PER_SEC / 1000)};

		/* A blocking write sleeps at most what is left. */
		if (wait_fd(c->fd, POLLOUT, deadline) <= 0 ||
		    redisSetTimeout(c, tv) != REDIS_OK) {
			snprintf(why, why_size,
			    "could not send a command within %llu ms", ms);
			return NULL;
		}
		if (redisBufferWrite(c, &done) != REDIS_OK) {
			snprintf(why, why_size, "%s", c->errstr);
			return NULL;
		}
	}
	for (;;) {
		char buf[16384];
		ssize_t n;

		if (redisGetReplyFromReader(c, &reply) != REDIS_OK) {
			snprintf(why, why_size, "%s", c->errstr);
			return NULL;
		}
		if (reply != NULL)
			return reply;
		if (wait_fd(c->fd, POLLIN, deadline) <= 0) {
			snprintf(why, why_size,
			    "no complete reply within %llu ms", ms);
			return NULL;
		}
		n = read(c->fd, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			snprintf(why, why_size, "%s",
			    n == 0 ? "connection closed" : strerror(errno));
			return NULL;
		}
		if ((got += (size_t)n) > max_reply) {
			snprintf(why, why_size,
			    "a reply larger than %zu bytes; not reading it",
			    max_reply);
			return NULL;
		}
		if (redisReaderFeed(c->reader, buf, (size_t)n) != REDIS_OK) {
			snprintf(why, why_size, "unreadable reply");
			return NULL;
		}
	}
}

/* A command; NULL (and Redis marked down) when the connection failed. */
static redisReply *
command_max(struct fleet *fl, int argc, const char **argv, const size_t *lens,
    size_t max_reply, int64_t now)
{
	char why[160];
	redisReply *r =
	    roundtrip(fl, argc, argv, lens, max_reply, why, sizeof(why));

	if (r == NULL)
		went_down(fl, now, why);
	return r;
}

static redisReply *
command(struct fleet *fl, int argc, const char **argv, const size_t *lens,
    int64_t now)
{
	return command_max(fl, argc, argv, lens, REPLY_MAX_SMALL, now);
}

/* A simple command that must not answer an error; false if it did. */
static bool
command_ok(struct fleet *fl, int argc, const char **argv, int64_t now)
{
	redisReply *r = command(fl, argc, argv, NULL, now);
	char why[200];

	if (r == NULL)
		return false;
	if (r->type != REDIS_REPLY_ERROR) {
		freeReplyObject(r);
		return true;
	}
	snprintf(why, sizeof(why), "%s refused: %.150s", argv[0], r->str);
	freeReplyObject(r);
	went_down(fl, now, why);
	return false;
}

/* Connected, or trying again if it is time; false: run single-node. */
static bool
connected(struct fleet *fl, int64_t now)
{
	char db[16];

	if (fl->c != NULL)
		return true;
	if (now < fl->retry_at)
		return false;
	fl->c =
	    redisConnectWithTimeout(fl->addr.host, fl->addr.port, fl->timeout);
	if (fl->c == NULL || fl->c->err) {
		char why[160];

		snprintf(why, sizeof(why), "cannot connect: %s",
		    fl->c ? fl->c->errstr : "out of memory");
		went_down(fl, now, why);
		return false;
	}
	redisSetTimeout(fl->c, fl->timeout);
	if (fl->addr.password[0] != '\0') {
		const char *auth[3] = {
		    "AUTH", fl->addr.user, fl->addr.password};
		bool with_user = fl->addr.user[0] != '\0';

		if (!with_user)
			auth[1] = fl->addr.password;
		if (!command_ok(fl, with_user ? 3 : 2, auth, now))
			return false;
	}
	snprintf(db, sizeof(db), "%d", fl->addr.db);
	if (fl->addr.db != 0 &&
	    !command_ok(fl, 2, (const char *[]){"SELECT", db}, now))
		return false;
	if (!fl->up) {
		if (fl->quiet)
			log_debug("fleet: %s: connected as node %s", fl->where,
			    fl->conf->node_name);
		else
			log_info("fleet: %s: connected as node %s", fl->where,
			    fl->conf->node_name);
	}
	fl->up = fl->logged = true;
	fl->retry_s = RETRY_MIN_S;
	return true;
}

static void
key(const struct fleet *fl, const char *name, const char *what, char *buf,
    size_t size)
{
	snprintf(buf, size, "%sfc:{%s}:%s",
	    fl->conf->redis_prefix ? fl->conf->redis_prefix : "", name, what);
}

/* A script run with EVAL, its reply at most max_reply bytes; NULL when
 * the connection failed. */
static redisReply *
eval_max(struct fleet *fl, const char *script, int nkeys, int argc,
    const char **argv, const size_t *lens, size_t max_reply, int64_t now)
{
	const char *a[48];
	size_t l[48];
	char n[8];

	if (argc + 3 > 48)
		return NULL;
	snprintf(n, sizeof(n), "%d", nkeys);
	a[0] = "EVAL";
	a[1] = script;
	a[2] = n;
	for (int i = 0; i < 3; i++)
		l[i] = strlen(a[i]);
	for (int i = 0; i < argc; i++) {
		a[i + 3] = argv[i];
		l[i + 3] = lens ? lens[i] : strlen(argv[i]);
	}
	return command_max(fl, argc + 3, a, l, max_reply, now);
}

static redisReply *
eval(struct fleet *fl, const char *script, int nkeys, int argc,
    const char **argv, const size_t *lens, int64_t now)
{
	return eval_max(
	    fl, script, nkeys, argc, argv, lens, REPLY_MAX_SMALL, now);
}

/* A plain decimal number from Redis, or false. */
static bool
digits(const redisReply *e, uint64_t max, uint64_t *out)
{
	return e->type == REDIS_REPLY_STRING && strlen(e->str) == e->len &&
	       parse_u64(e->str, 0, max, out) == 0;
}

/*
 * The acquire script's meta fields. Times the fleet cannot have meant
 * (not numbers, in the future) count as none; a body that cannot be
 * followed (version, hash or size not as published) leaves body_ok
 * false, with why naming the field.
 */
static void
parse_meta(const redisReply *a, int64_t skew, int64_t now, struct fleet_meta *m,
    char *why, size_t size)
{
	const redisReply *e[F_COUNT];
	uint64_t u;

	memset(m, 0, sizeof(*m));
	why[0] = '\0';
	for (int i = 0; i < F_COUNT; i++) {
		e[i] = a->element[i];
		m->present |= e[i]->type == REDIS_REPLY_STRING;
	}
	if (digits(e[F_FETCHED], INT64_MAX / 2, &u))
		m->fetched = (int64_t)u - skew;
	if (digits(e[F_CHECKED], INT64_MAX / 2, &u) && (int64_t)u - skew <= now)
		m->checked = (int64_t)u - skew;
	if (e[F_ETAG]->type == REDIS_REPLY_STRING)
		snprintf(m->etag, sizeof(m->etag), "%s", e[F_ETAG]->str);
	if (e[F_LM]->type == REDIS_REPLY_STRING)
		snprintf(m->last_modified, sizeof(m->last_modified), "%s",
		    e[F_LM]->str);
	if (e[F_URL]->type == REDIS_REPLY_STRING)
		snprintf(m->url, sizeof(m->url), "%s", e[F_URL]->str);
	if (digits(e[F_FAILURES], 1000000, &u))
		m->failures = (uint32_t)u;
	text_strip_controls(m->etag);
	text_strip_controls(m->last_modified);
	text_strip_controls(m->url);
	if (e[F_HASH]->type == REDIS_REPLY_NIL)
		return; /* nothing published yet */
	for (int i = F_VERSION; i <= F_SIZE; i++) {
		const redisReply *x = e[i];
		bool ok = i == F_HASH
		              ? x->type == REDIS_REPLY_STRING && x->len == 64 &&
		                    strspn(x->str, "0123456789abcdef") == 64
		              : digits(x, UINT64_MAX, &u);

		if (!ok) {
			snprintf(why, size, "field %s holds '%.40s'",
			    field_names[i],
			    x->type == REDIS_REPLY_STRING ? x->str : "(none)");
			text_strip_controls(why);
			return;
		}
		if (i == F_VERSION)
			m->version = u;
		else if (i == F_SIZE)
			m->size = u;
		else
			memcpy(m->hash, x->str, sizeof(m->hash));
	}
	m->body_ok = true;
}

/*
 * Copies the fleet's body into the cache, checking it as a fetched one
 * is checked. Updates *lm (the local meta as loaded). Returns 0, -EAGAIN
 * with why when Redis went away or a publish raced this read (nothing
 * wrong with the record), or -1 with why when the body cannot be taken.
 */
static int
follow(struct fleet *fl, const struct feed *feed, const struct fleet_meta *fm,
    const char *body_path, struct feed_meta *lm, int64_t now, char *why,
    size_t size)
{
	char k[FEED_NAME_MAX + 512], mk[FEED_NAME_MAX + 512], len[24];
	char hash[65], vwhy[200];
	unsigned char digest[SHA256_DIGEST_LENGTH];
	struct atomic_file af;
	struct stat st;
	redisReply *r;
	int rc;

	if (fm->size > feed->max_size) {
		snprintf(why, size, "its body (%llu bytes) is over max_size",
		    (unsigned long long)fm->size);
		return -1;
	}
	key(fl, feed->name, "body", k, sizeof(k));
	key(fl, feed->name, "meta", mk, sizeof(mk));
	snprintf(len, sizeof(len), "%llu", (unsigned long long)fm->size);
	r = eval_max(fl, body_lua, 2, 4, (const char *[]){k, mk, len, fm->hash},
	    NULL, feed->max_size + REPLY_OVERHEAD, now);
	if (r == NULL) {
		snprintf(why, size, "redis went away");
		return -EAGAIN;
	}
	rc = -1;
	if (r->type == REDIS_REPLY_INTEGER && r->integer == -1) {
		snprintf(why, size, "a newer version was published meanwhile");
		rc = -EAGAIN;
		goto out;
	}
	if (r->type != REDIS_REPLY_STRING || r->len != fm->size) {
		snprintf(why, size, "its body is missing or not %llu bytes",
		    (unsigned long long)fm->size);
		goto out;
	}
	SHA256((const unsigned char *)r->str, r->len, digest);
	*hex_encode(hash, digest, sizeof(digest)) = '\0';
	if (strcmp(hash, fm->hash) != 0) {
		snprintf(why, size, "its body does not match its hash");
		goto out;
	}
	if (validate_body(feed->validate, r->str, r->len, vwhy, sizeof(vwhy)) <
	    0) {
		snprintf(why, size, "its body is rejected: %s", vwhy);
		goto out;
	}
	if ((rc = atomic_file_open_fixed(&af, body_path, feed->mode)) < 0) {
		snprintf(why, size, "%.200s: %s", body_path, strerror(-rc));
		rc = -1;
		goto out;
	}
	af.sync = ATOMIC_SYNC_DATA;
	if ((rc = atomic_file_write(&af, r->str, r->len)) < 0 ||
	    fstat(af.fd, &st) < 0 || (rc = atomic_file_commit(&af)) < 0) {
		snprintf(why, size, "writing %.200s: %s", body_path,
		    strerror(rc < 0 ? -rc : errno));
		atomic_file_abort(&af);
		rc = -1;
		goto out;
	}
	meta_set_body(lm, fm->hash, fm->size, &st);
	lm->fetched = fm->fetched > 0 && fm->fetched <= now ? fm->fetched : now;
	snprintf(lm->etag, sizeof(lm->etag), "%s", fm->etag);
	snprintf(lm->last_modified, sizeof(lm->last_modified), "%s",
	    fm->last_modified);
	fl->n.followed++;
	rc = 0;
out:
	freeReplyObject(r);
	return rc;
}

static size_t
name_hash(const char *name)
{
	uint64_t h = 14695981039346656037ULL; /* FNV-1a */

	for (; *name != '\0'; name++)
		h = (h ^ (unsigned char)*name) * 1099511628211ULL;
	return (size_t)h;
}

/* Doubles the distrust table; false without memory. */
static bool
distrust_grow(struct fleet *fl)
{
	size_t slots = fl->distrust_slots ? fl->distrust_slots * 2 : 16;
	struct distrust_entry *t = calloc(slots, sizeof(*t));

	if (t == NULL)
		return false;
	for (size_t i = 0; i < fl->distrust_slots; i++) {
		size_t j;

		if (fl->distrust[i].name[0] == '\0')
			continue;
		j = name_hash(fl->distrust[i].name) & (slots - 1);
		while (t[j].name[0] != '\0')
			j = (j + 1) & (slots - 1);
		t[j] = fl->distrust[i];
	}
	free(fl->distrust);
	fl->distrust = t;
	fl->distrust_slots = slots;
	return true;
}

/* Feed name's entry in the distrust table, made (TRUSTED) if make;
 * NULL if there is none, or no memory for it. */
static struct distrust_entry *
distrust_entry(struct fleet *fl, const char *name, bool make)
{
	size_t mask, j;

	if (make && (fl->distrust_used + 1) * 2 > fl->distrust_slots &&
	    !distrust_grow(fl))
		return NULL;
	if (fl->distrust_slots == 0)
		return NULL;
	mask = fl->distrust_slots - 1;
	/* At most half full: the probe ends at a free slot. */
	for (j = name_hash(name) & mask;; j = (j + 1) & mask) {
		struct distrust_entry *e = &fl->distrust[j];

		if (strcmp(e->name, name) == 0)
			return e;
		if (e->name[0] != '\0')
			continue;
		if (!make)
			return NULL;
		snprintf(e->name, sizeof(e->name), "%s", name);
		e->why = TRUSTED;
		fl->distrust_used++;
		return e;
	}
}

/*
 * This node does not follow feed's record (text says why): logged when
 * the reason is new for the feed, not on every cycle.
 */
static void
distrust(struct fleet *fl, const struct feed *feed, enum distrust why,
    const char *text)
{
	struct distrust_entry *e = distrust_entry(fl, feed->name, true);

	if (e != NULL && e->why == why)
		return;
	if (e != NULL)
		e->why = why;
	log_warnx("fleet: feed %s: %s; not following it, fetching from the "
	          "origin",
	    feed->name, text);
}

/* Feed's record is followed again: said once, if it was not before. */
static void
trust(struct fleet *fl, const struct feed *feed)
{
	struct distrust_entry *e = distrust_entry(fl, feed->name, false);

	if (e == NULL || e->why == TRUSTED)
		return;
	e->why = TRUSTED;
	log_info("fleet: feed %s: the fleet's record is signed with "
	         "fleet_key again; following it",
	    feed->name);
}

/* What a signature covers, from the acquire script's fields (after the
 * feed's name, which the key says). */
static const int signed_field[SIG_FIELDS] = {
    -1, F_URL, F_HASH, F_SIZE, F_FETCHED, F_ETAG, F_LM};

/*
 * Does the record (a, the acquire script's fields, exactly as Redis
 * holds them) carry a signature of feed's name, url, body hash, size,
 * fetch time and validators under fleet_key? TRUSTED, or why not.
 */
static enum distrust
record_check(
    const struct fleet *fl, const struct feed *feed, const redisReply *a)
{
	const redisReply *sig = a->element[F_SIG];
	const char *field[SIG_FIELDS];
	size_t len[SIG_FIELDS];

	if (sig->type != REDIS_REPLY_STRING)
		return DISTRUST_UNSIGNED;
	field[SIG_NAME] = feed->name;
	len[SIG_NAME] = strlen(feed->name);
	for (int i = 1; i < SIG_FIELDS; i++) {
		const redisReply *e = a->element[signed_field[i]];
		bool str = e->type == REDIS_REPLY_STRING;

		field[i] = str ? e->str : "";
		len[i] = str ? e->len : 0;
	}
	return fleet_verify(
	           &fl->conf->fleet_key, field, len, sig->str, sig->len)
	           ? TRUSTED
	           : DISTRUST_SIGNATURE;
}

/* The lease's TTL: the transfer's timeout and the margin (ms). */
static uint64_t
lease_ms(const struct feed *feed)
{
	return feed->timeout_ns / 1000000 + LEASE_MARGIN_MS +
	       feed->max_size / (8 << 20) * 1000;
}

/* Runs lease_lua: renews the lease (ms > 0) or releases it; true if the
 * lease was still this claim's. */
static bool
lease_op(struct fleet *fl, const struct feed *feed, struct fleet_lease *l,
    uint64_t ms, int64_t now)
{
	char k[FEED_NAME_MAX + 512], ttl[24] = "";
	redisReply *r;
	bool ours;

	if (fl == NULL || fl->c == NULL || !l->held)
		return false;
	key(fl, feed->name, "lease", k, sizeof(k));
	if (ms > 0)
		snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)ms);
	r = eval(
	    fl, lease_lua, 1, 3, (const char *[]){k, l->token, ttl}, NULL, now);
	if (r == NULL)
		return false;
	ours = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
	freeReplyObject(r);
	return ours;
}

void
fleet_release(struct fleet *fl, const struct feed *feed, int64_t now,
    struct fleet_lease *lease)
{
	lease_op(fl, feed, lease, 0, now);
	lease->held = false;
}

enum fleet_verdict
fleet_claim(struct fleet *fl, const struct feed *feed, int64_t max_age_s,
    int64_t now, int64_t *due, struct fleet_lease *lease)
{
	char body_path[PATH_MAX], meta_path[PATH_MAX];
	char lk[FEED_NAME_MAX + 512], mk[FEED_NAME_MAX + 512];
	char ttl[24], ahead[24], mode[24], why[300];
	struct fleet_meta fm;
	struct feed_meta lm;
	char verdict[8], text[480];
	int64_t redis_now, most;
	enum distrust trusted = TRUSTED;
	redisReply *r;
	bool won;
	int rc;

	memset(lease, 0, sizeof(*lease));
	if (fl == NULL ||
	    feed_body_path(fl->conf, feed->name, body_path, sizeof(body_path)) <
	        0 ||
	    feed_meta_path(fl->conf, feed->name, meta_path, sizeof(meta_path)) <
	        0 ||
	    !connected(fl, now))
		return FLEET_SOLO;
	key(fl, feed->name, "lease", lk, sizeof(lk));
	key(fl, feed->name, "meta", mk, sizeof(mk));
	snprintf(lease->token, sizeof(lease->token), "%s:%016llx",
	    fl->conf->node_name, (unsigned long long)fetch_random());
	snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)lease_ms(feed));
	/* A holder's next due time is at most interval + 10% jitter, or
	 * its backoff, ahead. */
	most = (int64_t)((feed->interval_ns + feed->interval_ns / 10 +
	                     feed->max_backoff_ns) /
	                 NSEC_PER_SEC) +
	       2;
	snprintf(ahead, sizeof(ahead), "%lld", (long long)most);
	if (max_age_s > 0)
		snprintf(mode, sizeof(mode), "%lld", (long long)max_age_s);
	else
		snprintf(mode, sizeof(mode), "%s",
		    max_age_s == FLEET_FORCE ? "force" : "");
	r = eval(fl, acquire_lua, 2, 6,
	    (const char *[]){lk, mk, lease->token, ttl, mode, ahead}, NULL,
	    now);
	if (r == NULL)
		return FLEET_SOLO;
	if (r->type == REDIS_REPLY_ERROR) {
		fl->n.redis_errors++;
		text_strip_controls(r->str);
		log_warnx("fleet: feed %s: %s: %.200s; fetching single-node",
		    feed->name, mk, r->str);
		freeReplyObject(r);
		return FLEET_SOLO;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 5 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_ARRAY ||
	    r->element[1]->elements != F_COUNT ||
	    r->element[2]->type != REDIS_REPLY_INTEGER ||
	    r->element[3]->type != REDIS_REPLY_INTEGER ||
	    r->element[4]->type != REDIS_REPLY_INTEGER) {
		fl->n.redis_errors++;
		log_warnx("fleet: feed %s: unexpected reply from redis; "
		          "fetching single-node",
		    feed->name);
		freeReplyObject(r);
		return FLEET_SOLO;
	}
	snprintf(verdict, sizeof(verdict), "%s", r->element[0]->str);
	won = strcmp(verdict, "won") == 0;
	lease->held = won;
	redis_now = r->element[2]->integer;
	lease->skew = redis_now - now;
	parse_meta(r->element[1], lease->skew, now, &fm, why, sizeof(why));
	fm.next_due =
	    r->element[3]->integer ? r->element[3]->integer - lease->skew : 0;
	fm.retry_after =
	    r->element[4]->integer ? r->element[4]->integer - lease->skew : 0;
	/* Whoever can write to Redis is not trusted with content: only a
	 * record signed under fleet_key is followed. Without one, this node
	 * takes nothing from the record (body, validators, deadlines) and
	 * fetches for itself; a holder's publish repairs the record. */
	if (why[0] != '\0') {
		fl->n.redis_errors++;
		trusted = DISTRUST_GARBAGE;
		snprintf(text, sizeof(text), "%.200s: %.150s", mk, why);
	} else if (fm.body_ok &&
	           (trusted = record_check(fl, feed, r->element[1])) != TRUSTED)
		snprintf(text, sizeof(text), "the fleet's record (%.200s) %s",
		    mk,
		    trusted == DISTRUST_UNSIGNED
		        ? "has no signature"
		        : "is not signed with fleet_key (another key signed "
		          "it, or it was altered in Redis)");
	freeReplyObject(r);
	if (trusted != TRUSTED) {
		distrust(fl, feed, trusted, text);
		fm.body_ok = false;
	} else if (fm.present && fm.url[0] != '\0' &&
	           strcmp(fm.url, feed->url) != 0) {
		/* A changed url (or a rollout half done): the record is of
		 * another resource. Not followed; this node's publish, when
		 * it holds the lease, makes it this url's. */
		log_warnx("fleet: feed %s: the fleet's record is of %.200s, "
		          "this node fetches %s; not following it",
		    feed->name, fm.url, feed->url);
		fm.body_ok = false;
	}
	if (fm.body_ok)
		memcpy(lease->fleet_hash, fm.hash, sizeof(lease->fleet_hash));
	if (won)
		fl->n.leases_won++;
	log_debug("fleet: feed %s: %s; fleet version %llu fetched %lld "
	          "next %lld retry %lld (skew %lld s)",
	    feed->name, verdict, (unsigned long long)fm.version,
	    (long long)fm.fetched, (long long)fm.next_due,
	    (long long)fm.retry_after, (long long)lease->skew);

	/* The local copy catches up with the fleet's when that is newer: a
	 * holder then sends the fleet's validators, the others serve its
	 * body. A copy this node fetched itself since (while Redis was
	 * away) is not rolled back; it goes to the fleet when this node
	 * next holds the lease. */
	if (meta_load(meta_path, &lm) < 0)
		memset(&lm, 0, sizeof(lm));
	/* The backoff is the fleet's: a new holder goes on counting. */
	if (trusted == TRUSTED && fm.failures > lm.failures)
		lm.failures = fm.failures;
	if (fm.body_ok && strcmp(fm.hash, lm.hash) != 0 &&
	    fm.fetched >= lm.fetched) {
		rc = follow(
		    fl, feed, &fm, body_path, &lm, now, why, sizeof(why));
		if (rc == 0) {
			if (fl->quiet)
				log_debug("feed %s: updated from the fleet "
				          "(version %llu, %llu bytes)",
				    feed->name, (unsigned long long)fm.version,
				    (unsigned long long)fm.size);
			else
				log_info("feed %s: updated from the fleet "
				         "(version %llu, %llu bytes)",
				    feed->name, (unsigned long long)fm.version,
				    (unsigned long long)fm.size);
			trust(fl, feed);
		} else if (rc == -EAGAIN) {
			if (fl->c != NULL)
				log_warnx("feed %s: not taking the fleet's "
				          "version %llu: %s",
				    feed->name, (unsigned long long)fm.version,
				    why);
		} else {
			/* Signed, yet not what this node would have taken
			 * from the origin: no better than unsigned. */
			trusted = DISTRUST_BODY;
			snprintf(text, sizeof(text),
			    "the fleet's version %llu: %s",
			    (unsigned long long)fm.version, why);
			distrust(fl, feed, trusted, text);
			fm.body_ok = false;
			lease->fleet_hash[0] = '\0';
		}
	} else if (fm.body_ok)
		trust(fl, feed);
	if (trusted == TRUSTED && fm.hash[0] != '\0' &&
	    strcmp(fm.hash, lm.hash) == 0 && fm.checked > lm.checked)
		lm.checked = fm.checked;
	if (!won && trusted == TRUSTED) {
		/* Shared backoff: the fleet's deadlines become this node's,
		 * so readers' refreshes honour them too. */
		lm.retry_after = fm.retry_after;
		if (strcmp(verdict, "held") == 0)
			*due = now + 1;
		else
			*due = strcmp(verdict, "backoff") == 0 ? fm.retry_after
			                                       : fm.next_due;
		if (*due <= now) /* fresh by a reader's max-age */
			*due = now + 1;
		lm.next_due = *due;
	}
	if (lm.hash[0] != '\0' || lm.next_due != 0)
		meta_save(meta_path, &lm, feed->mode);
	if (fl->c == NULL || (!won && trusted != TRUSTED))
		return FLEET_SOLO; /* Redis lost on the way, or not trusted */
	/* The lease's time starts now that the follow is done. */
	if (won && !lease_op(fl, feed, lease, lease_ms(feed), now)) {
		lease->held = false;
		*due = now + 1;
		return fl->c != NULL ? FLEET_WAIT : FLEET_SOLO;
	}
	return won ? FLEET_FETCH : FLEET_WAIT;
}

void
fleet_publish(struct fleet *fl, const struct feed *feed,
    const struct feed_meta *mp, int64_t now, struct fleet_lease *lease)
{
	char body_path[PATH_MAX];
	char lk[FEED_NAME_MAX + 512], mk[FEED_NAME_MAX + 512];
	char bk[FEED_NAME_MAX + 512], num[8][24], hash[65];
	unsigned char digest[SHA256_DIGEST_LENGTH];
	const char *argv[40]; /* 6 and at most 16 field/value pairs */
	size_t lens[40];
	char sig[FLEET_SIG_HEX + 1];
	struct feed_meta m;
	char *body = NULL;
	size_t body_len = 0;
	bool ok, with_body = false;
	redisReply *r;
	int n = 0;

	if (fl == NULL || fl->c == NULL || !lease->held)
		return;
	if (feed_body_path(fl->conf, feed->name, body_path, sizeof(body_path)) <
	    0) {
		fleet_release(fl, feed, now, lease);
		return;
	}
	m = *mp;
	ok = fetch_result_ok(m.last_result);
	/* This node's body goes out when it is new or not the fleet's, and
	 * only if it is the very one its meta file describes. */
	if (ok &&
	    (m.last_result == RESULT_UPDATED ||
	        strcmp(m.hash, lease->fleet_hash) != 0) &&
	    read_file_max(body_path, feed->max_size, &body, &body_len, NULL) ==
	        0) {
		SHA256((unsigned char *)body, body_len, digest);
		*hex_encode(hash, digest, sizeof(digest)) = '\0';
		with_body = strcmp(hash, m.hash) == 0 && body_len == m.size;
	}
	key(fl, feed->name, "lease", lk, sizeof(lk));
	key(fl, feed->name, "meta", mk, sizeof(mk));
	key(fl, feed->name, "body", bk, sizeof(bk));
#define ARG(s, l) (argv[n] = (s), lens[n++] = (l))
#define STR(s) ARG((s), strlen(s))
#define TIME(i, t)                                                             \
	(snprintf(num[i], sizeof(num[i]), "%lld",                              \
	     (long long)((t) ? (t) + lease->skew : 0)),                        \
	    num[i])
	STR(lk);
	STR(mk);
	STR(bk);
	STR(lease->token);
	STR(with_body ? "1" : "0");
	ARG(with_body ? body : "", with_body ? body_len : 0);
	/* Validators and times of the fleet's body: only with it, or when
	 * this node's copy is that body. */
	if (with_body || (ok && strcmp(m.hash, lease->fleet_hash) == 0 &&
	                     m.hash[0] != '\0')) {
		snprintf(
		    num[0], sizeof(num[0]), "%llu", (unsigned long long)m.size);
		STR("hash");
		STR(m.hash);
		STR("size");
		STR(num[0]);
		STR("etag");
		STR(m.etag);
		STR("last_modified");
		STR(m.last_modified);
		STR("fetched");
		STR(TIME(1, m.fetched));
		STR("checked");
		STR(TIME(2, m.checked));
		/* Signed as written: what a follower reads back verbatim. */
		if (fleet_sign(&fl->conf->fleet_key, 0,
		        (const char *[]){feed->name, feed->url, m.hash, num[0],
		            num[1], m.etag, m.last_modified},
		        (const size_t[]){strlen(feed->name), strlen(feed->url),
		            strlen(m.hash), strlen(num[0]), strlen(num[1]),
		            strlen(m.etag), strlen(m.last_modified)},
		        sig) < 0)
			log_warnx("fleet: feed %s: cannot sign the record; "
			          "the other nodes will not follow it",
			    feed->name);
		STR("sig");
		STR(sig);
	}
	snprintf(num[5], sizeof(num[5]), "%u", m.failures);
	STR("next_due");
	STR(TIME(3, m.next_due));
	STR("retry_after");
	STR(TIME(4, m.retry_after));
	STR("failures");
	STR(num[5]);
	STR("result");
	STR(fetch_result_name(m.last_result));
	STR("url");
	STR(feed->url);
	STR("node");
	STR(fl->conf->node_name);
	STR("published");
	STR(TIME(6, now));
#undef TIME
#undef STR
#undef ARG
	r = eval(fl, publish_lua, 3, n, argv, lens, now);
	free(body);
	log_debug("fleet: feed %s: published %s%s", feed->name,
	    fetch_result_name(m.last_result),
	    with_body ? " with the body" : "");
	lease->held = false;
	if (r == NULL)
		return;
	if (r->type == REDIS_REPLY_INTEGER && r->integer < 0)
		log_warnx("fleet: feed %s: the lease ran out before the "
		          "outcome was published; this node's copy is updated, "
		          "the fleet's is not",
		    feed->name);
	else if (r->type == REDIS_REPLY_ERROR) {
		fl->n.redis_errors++;
		text_strip_controls(r->str);
		log_warnx(
		    "fleet: feed %s: publishing: %.200s", feed->name, r->str);
		lease->held = true;
		fleet_release(fl, feed, now, lease);
	}
	freeReplyObject(r);
}

void
fleet_counters(const struct fleet *fl, struct fleet_counters *out)
{
	memset(out, 0, sizeof(*out));
	if (fl != NULL) {
		*out = fl->n;
		out->up = fl->c != NULL;
	}
}

/* Redis text for a terminal: printable ASCII, the rest as '?'. */
static void
printable(char *dst, size_t size, const char *src)
{
	size_t i = 0;

	for (; src[i] != '\0' && i + 1 < size; i++)
		dst[i] = src[i] > ' ' && src[i] < 0x7f ? src[i] : '?';
	dst[i] = '\0';
}

int
fleet_view(struct fleet *fl, const char *name, struct fleet_view *out)
{
	char lk[FEED_NAME_MAX + 512], mk[FEED_NAME_MAX + 512];
	int64_t now = (int64_t)time(NULL);
	redisReply *r, *h;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (fl == NULL || !connected(fl, now))
		return -1;
	key(fl, name, "lease", lk, sizeof(lk));
	key(fl, name, "meta", mk, sizeof(mk));
	if ((r = command(fl, 2, (const char *[]){"GET", lk}, NULL, now)) ==
	    NULL)
		return -1;
	if (r->type == REDIS_REPLY_STRING) {
		/* "node:token": the node is what a reader wants */
		printable(out->holder, sizeof(out->holder), r->str);
		out->holder[strcspn(out->holder, ":")] = '\0';
	}
	freeReplyObject(r);
	h = command(
	    fl, 4, (const char *[]){"HMGET", mk, "version", "hash"}, NULL, now);
	if (h == NULL)
		return -1;
	if (h->type == REDIS_REPLY_ARRAY && h->elements == 2) {
		uint64_t v;

		if (digits(h->element[0], UINT64_MAX, &v))
			out->version = v;
		if (h->element[1]->type == REDIS_REPLY_STRING &&
		    h->element[1]->len == 64 &&
		    strspn(h->element[1]->str, "0123456789abcdef") == 64)
			memcpy(out->hash, h->element[1]->str, 65);
		rc = 0;
	}
	freeReplyObject(h);
	return rc;
}

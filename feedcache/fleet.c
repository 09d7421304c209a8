/*
 * fleet.c: fleet mode through Redis (hiredis, synchronous, every command
 * bounded by redis_timeout). Two Lua scripts carry the decisions that
 * must be atomic: taking the lease only if the fleet's copy is due, and
 * publishing body and meta together only while still holding the lease.
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "fleet.h"
#include "hex.h"
#include "log.h"
#include "parse.h"
#include "readfile.h"
#include "timeutil.h"
#include "validate.h"

/* The lease outlives the feed's timeout by this, for validating and
 * writing the body; a holder slower than that loses it (see publish). */
#define LEASE_MARGIN_MS 3000
#define RETRY_MIN_S 1
#define RETRY_MAX_S 30
#define RETRY_AFTER_MAX_S 86400 /* as for an origin's */

/*
 * KEYS: lease, meta. ARGV: node, lease ms, now (unix s), "force" or "".
 * Returns {verdict, {meta fields}}: "backoff" before the fleet's
 * Retry-After, "fresh" before its next due time, else "won" if the lease
 * was free, "held" if not.
 */
static const char acquire_lua[] =
    "local m = redis.call('HMGET', KEYS[2], 'version', 'hash', 'size', "
    "'etag', 'last_modified', 'fetched', 'checked', 'next_due', "
    "'retry_after', 'url')\n"
    "local now = tonumber(ARGV[3])\n"
    "if (tonumber(m[9]) or 0) > now then return {'backoff', m} end\n"
    "if ARGV[4] ~= 'force' and (tonumber(m[8]) or 0) > now then\n"
    "  return {'fresh', m} end\n"
    "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then\n"
    "  return {'won', m} end\n"
    "return {'held', m}\n";

/*
 * KEYS: lease, meta, body. ARGV: node, "1" with a new body or "0", the
 * body, then meta field/value pairs. Returns the version, or -1 if the
 * lease is no longer this node's (nothing is written then).
 */
static const char publish_lua[] =
    "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end\n"
    "local v = tonumber(redis.call('HGET', KEYS[2], 'version')) or 0\n"
    "if ARGV[2] == '1' then\n"
    "  v = v + 1\n"
    "  redis.call('SET', KEYS[3], ARGV[3])\n"
    "end\n"
    "redis.call('HSET', KEYS[2], 'version', v, unpack(ARGV, 4))\n"
    "redis.call('DEL', KEYS[1])\n"
    "return v\n";

static const char release_lua[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
    "  return redis.call('DEL', KEYS[1]) end\n"
    "return 0\n";

enum {
	F_VERSION,
	F_HASH,
	F_SIZE,
	F_ETAG,
	F_LM,
	F_FETCHED,
	F_CHECKED,
	F_NEXT_DUE,
	F_RETRY_AFTER,
	F_URL,
	F_COUNT
};

static const char *const field_names[F_COUNT] = {"version", "hash", "size",
    "etag", "last_modified", "fetched", "checked", "next_due", "retry_after",
    "url"};

/* The fleet's record of a feed, checked field by field. */
struct fleet_meta {
	bool present; /* anything published yet */
	uint64_t version, size;
	char hash[65];
	char etag[512], last_modified[128];
	int64_t fetched, checked, next_due, retry_after;
	char url[2048];
};

struct fleet {
	const struct feedcache_conf *conf;
	struct redis_addr addr;
	char where[300]; /* host:port/db, for messages */
	struct timeval timeout;
	redisContext *c;
	bool up; /* as last logged */
	bool logged; /* the state was logged once */
	int64_t retry_at;
	unsigned retry_s;
	struct fleet_counters n;
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
	free(fl);
}

/* Redis is gone or refused us: single-node until retry_at, logged once. */
static void
went_down(struct fleet *fl, int64_t now, const char *why)
{
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

/* A command; NULL (and Redis marked down) when the connection failed. */
static redisReply *
command(struct fleet *fl, int argc, const char **argv, const size_t *lens,
    int64_t now)
{
	redisReply *r = redisCommandArgv(fl->c, argc, argv, lens);

	if (r == NULL) {
		char why[160];

		snprintf(why, sizeof(why), "%s",
		    fl->c->errstr[0] ? fl->c->errstr : "connection lost");
		went_down(fl, now, why);
	}
	return r;
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
	if (!fl->up)
		log_info("fleet: %s: connected as node %s", fl->where,
		    fl->conf->node_name);
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

/* Parses the HMGET array of acquire_lua; false with why on garbage. */
static bool
parse_meta(const redisReply *a, struct fleet_meta *m, char *why, size_t size)
{
	const char *v[F_COUNT] = {0};
	uint64_t u;

	memset(m, 0, sizeof(*m));
	if (a->type != REDIS_REPLY_ARRAY || a->elements != F_COUNT) {
		snprintf(why, size, "unexpected reply");
		return false;
	}
	for (int i = 0; i < F_COUNT; i++) {
		const redisReply *e = a->element[i];

		if (e->type == REDIS_REPLY_STRING) {
			if (strlen(e->str) != e->len)
				goto bad;
			v[i] = e->str;
			m->present = true;
		}
	}
	for (int i = 0; i < F_COUNT; i++) {
		int64_t *times[] = {
		    &m->fetched, &m->checked, &m->next_due, &m->retry_after};

		if (v[i] == NULL)
			continue;
		switch (i) {
		case F_VERSION:
		case F_SIZE:
			if (parse_u64(v[i], 0, UINT64_MAX, &u) < 0)
				goto bad_field;
			*(i == F_VERSION ? &m->version : &m->size) = u;
			break;
		case F_FETCHED:
		case F_CHECKED:
		case F_NEXT_DUE:
		case F_RETRY_AFTER:
			if (parse_u64(v[i], 0, INT64_MAX, &u) < 0)
				goto bad_field;
			*times[i - F_FETCHED] = (int64_t)u;
			break;
		case F_HASH:
			if (strlen(v[i]) != 64 ||
			    strspn(v[i], "0123456789abcdef") != 64)
				goto bad_field;
			memcpy(m->hash, v[i], 65);
			break;
		case F_ETAG:
			snprintf(m->etag, sizeof(m->etag), "%s", v[i]);
			break;
		case F_LM:
			snprintf(m->last_modified, sizeof(m->last_modified),
			    "%s", v[i]);
			break;
		case F_URL:
			snprintf(m->url, sizeof(m->url), "%s", v[i]);
			break;
		}
		continue;
	bad_field:
		snprintf(
		    why, size, "field %s holds '%.40s'", field_names[i], v[i]);
		return false;
	}
	return true;
bad:
	snprintf(why, size, "a field holds binary data");
	return false;
}

/*
 * Copies the fleet's body into the cache when it is not the one there,
 * checking it as a fetched one is checked. Updates *lm (the local meta
 * as loaded). Returns 0, or -1 with why.
 */
static int
follow(struct fleet *fl, const struct feed *feed, const struct fleet_meta *fm,
    const char *body_path, struct feed_meta *lm, int64_t now, char *why,
    size_t size)
{
	const char *argv[2];
	char k[FEED_NAME_MAX + 512], hash[65], vwhy[200];
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
	argv[0] = "GET";
	argv[1] = k;
	if ((r = command(fl, 2, argv, NULL, now)) == NULL) {
		snprintf(why, size, "redis went away");
		return -1;
	}
	rc = -1;
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
		snprintf(why, size, "%s: %s", body_path, strerror(-rc));
		rc = -1;
		goto out;
	}
	af.sync = ATOMIC_SYNC_DATA;
	if ((rc = atomic_file_write(&af, r->str, r->len)) < 0 ||
	    fstat(af.fd, &st) < 0 || (rc = atomic_file_commit(&af)) < 0) {
		snprintf(why, size, "writing %s: %s", body_path,
		    strerror(rc < 0 ? -rc : errno));
		atomic_file_abort(&af);
		rc = -1;
		goto out;
	}
	memcpy(lm->hash, fm->hash, sizeof(lm->hash));
	lm->size = fm->size;
	lm->body_ino = (uint64_t)st.st_ino;
	lm->body_mtime_ns =
	    (int64_t)st.st_mtim.tv_sec * NSEC_PER_SEC + st.st_mtim.tv_nsec;
	lm->fetched = fm->fetched ? fm->fetched : now;
	snprintf(lm->etag, sizeof(lm->etag), "%s", fm->etag);
	snprintf(lm->last_modified, sizeof(lm->last_modified), "%s",
	    fm->last_modified);
	fl->n.followed++;
	rc = 0;
out:
	freeReplyObject(r);
	return rc;
}

/* Releases the lease of a claim that will not fetch after all. */
static enum fleet_verdict
solo(struct fleet *fl, const struct feed *feed, bool won)
{
	if (won)
		fleet_release(fl, feed);
	return FLEET_SOLO;
}

enum fleet_verdict
fleet_claim(struct fleet *fl, const struct feed *feed, const char *body_path,
    const char *meta_path, bool force, int64_t now, int64_t *due)
{
	char lease[FEED_NAME_MAX + 512], meta[FEED_NAME_MAX + 512];
	char ttl[24], nows[24], why[300];
	const char *argv[9];
	struct fleet_meta fm;
	struct feed_meta lm;
	redisReply *r;
	const char *verdict;
	bool won;

	if (fl == NULL || !connected(fl, now))
		return FLEET_SOLO;
	key(fl, feed->name, "lease", lease, sizeof(lease));
	key(fl, feed->name, "meta", meta, sizeof(meta));
	snprintf(ttl, sizeof(ttl), "%llu",
	    (unsigned long long)(feed->timeout_ns / 1000000 + LEASE_MARGIN_MS));
	snprintf(nows, sizeof(nows), "%lld", (long long)now);
	argv[0] = "EVAL";
	argv[1] = acquire_lua;
	argv[2] = "2";
	argv[3] = lease;
	argv[4] = meta;
	argv[5] = fl->conf->node_name;
	argv[6] = ttl;
	argv[7] = nows;
	argv[8] = force ? "force" : "";
	if ((r = command(fl, 9, argv, NULL, now)) == NULL)
		return FLEET_SOLO;
	if (r->type == REDIS_REPLY_ERROR) {
		fl->n.redis_errors++;
		log_warnx("fleet: feed %s: %s: %.200s; fetching single-node",
		    feed->name, meta, r->str);
		freeReplyObject(r);
		return FLEET_SOLO;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING) {
		fl->n.redis_errors++;
		log_warnx("fleet: feed %s: unexpected reply from redis; "
		          "fetching single-node",
		    feed->name);
		freeReplyObject(r);
		return FLEET_SOLO;
	}
	verdict = r->element[0]->str;
	won = strcmp(verdict, "won") == 0;
	if (!parse_meta(r->element[1], &fm, why, sizeof(why))) {
		fl->n.redis_errors++;
		log_warnx("fleet: feed %s: %s: %s; fetching single-node",
		    feed->name, meta, why);
		freeReplyObject(r);
		return solo(fl, feed, won);
	}
	if (fm.present && fm.url[0] != '\0' && strcmp(fm.url, feed->url) != 0) {
		log_warnx("fleet: feed %s: the fleet fetches %.200s, this node "
		          "%s; fetching single-node",
		    feed->name, fm.url, feed->url);
		freeReplyObject(r);
		return solo(fl, feed, won);
	}
	if (won)
		fl->n.leases_won++;

	/* The local copy catches up with the fleet's first: a holder then
	 * sends the fleet's validators, the others serve its body. */
	if (meta_load(meta_path, &lm) < 0)
		memset(&lm, 0, sizeof(lm));
	if (fm.hash[0] != '\0' && strcmp(fm.hash, lm.hash) != 0) {
		if (follow(fl, feed, &fm, body_path, &lm, now, why,
		        sizeof(why)) == 0)
			log_info("feed %s: updated from the fleet (version "
			         "%llu, %llu bytes)",
			    feed->name, (unsigned long long)fm.version,
			    (unsigned long long)fm.size);
		else if (fl->c != NULL)
			log_warnx("feed %s: not taking the fleet's version "
			          "%llu: %s",
			    feed->name, (unsigned long long)fm.version, why);
	}
	if (fm.checked > lm.checked)
		lm.checked = fm.checked;
	if (!won) {
		/* Shared backoff: the fleet's deadlines become this node's,
		 * so readers' refreshes honour them too; bounded, so that no
		 * value in Redis can stop this node for longer than its own
		 * settings would. */
		int64_t most =
		    now + (int64_t)((feed->interval_ns + feed->max_backoff_ns) /
		                    NSEC_PER_SEC);

		fm.next_due = fm.next_due < most ? fm.next_due : most;
		fm.retry_after = fm.retry_after < now + RETRY_AFTER_MAX_S
		                     ? fm.retry_after
		                     : now + RETRY_AFTER_MAX_S;
		lm.retry_after = fm.retry_after;
		if (strcmp(verdict, "held") == 0)
			*due = now + 1;
		else
			*due = strcmp(verdict, "backoff") == 0 ? fm.retry_after
			                                       : fm.next_due;
		lm.next_due = *due;
	}
	freeReplyObject(r);
	if (lm.hash[0] != '\0' || lm.next_due != 0)
		meta_save(meta_path, &lm);
	if (fl->c == NULL) /* lost during follow */
		return FLEET_SOLO;
	return won ? FLEET_FETCH : FLEET_WAIT;
}

void
fleet_publish(struct fleet *fl, const struct feed *feed, const char *body_path,
    const char *meta_path, int64_t now)
{
	char lease[FEED_NAME_MAX + 512], meta[FEED_NAME_MAX + 512];
	char body_key[FEED_NAME_MAX + 512], num[7][24], hash[65];
	unsigned char digest[SHA256_DIGEST_LENGTH];
	const char *argv[40]; /* 9 and at most 14 field/value pairs */
	size_t lens[40];
	struct feed_meta m;
	char *body = NULL;
	size_t body_len = 0;
	bool with_body;
	redisReply *r;
	int n = 0;

	if (fl == NULL || fl->c == NULL)
		return;
	key(fl, feed->name, "lease", lease, sizeof(lease));
	key(fl, feed->name, "meta", meta, sizeof(meta));
	key(fl, feed->name, "body", body_key, sizeof(body_key));
	if (meta_load(meta_path, &m) < 0) {
		fleet_release(fl, feed);
		return;
	}
	/* Only a body that is the one the meta file describes goes out. */
	with_body = m.last_result == RESULT_UPDATED &&
	            read_file_max(
	                body_path, feed->max_size, &body, &body_len, NULL) == 0;
	if (with_body) {
		SHA256((unsigned char *)body, body_len, digest);
		*hex_encode(hash, digest, sizeof(digest)) = '\0';
		with_body = strcmp(hash, m.hash) == 0 && body_len == m.size;
	}
#define ARG(s, l) (argv[n] = (s), lens[n++] = (l))
#define STR(s) ARG((s), strlen(s))
	STR("EVAL");
	STR(publish_lua);
	STR("3");
	STR(lease);
	STR(meta);
	STR(body_key);
	STR(fl->conf->node_name);
	STR(with_body ? "1" : "0");
	ARG(with_body ? body : "", with_body ? body_len : 0);
	if (with_body ||
	    (m.hash[0] != '\0' && fetch_result_ok(m.last_result))) {
		STR("hash");
		STR(m.hash);
		snprintf(
		    num[0], sizeof(num[0]), "%llu", (unsigned long long)m.size);
		STR("size");
		STR(num[0]);
		STR("etag");
		STR(m.etag);
		STR("last_modified");
		STR(m.last_modified);
		snprintf(num[1], sizeof(num[1]), "%lld", (long long)m.fetched);
		STR("fetched");
		STR(num[1]);
	}
	snprintf(num[2], sizeof(num[2]), "%lld", (long long)m.checked);
	snprintf(num[3], sizeof(num[3]), "%lld", (long long)m.next_due);
	snprintf(num[4], sizeof(num[4]), "%lld", (long long)m.retry_after);
	snprintf(num[5], sizeof(num[5]), "%u", m.failures);
	snprintf(num[6], sizeof(num[6]), "%lld", (long long)now);
	STR("checked");
	STR(num[2]);
	STR("next_due");
	STR(num[3]);
	STR("retry_after");
	STR(num[4]);
	STR("failures");
	STR(num[5]);
	STR("result");
	STR(fetch_result_name(m.last_result));
	STR("url");
	STR(feed->url);
	STR("node");
	STR(fl->conf->node_name);
	STR("published");
	STR(num[6]);
#undef STR
#undef ARG
	r = command(fl, n, argv, lens, now);
	free(body);
	if (r == NULL)
		return;
	if (r->type == REDIS_REPLY_INTEGER && r->integer < 0)
		log_warnx("fleet: feed %s: the lease ran out before the "
		          "outcome was published; this node's copy is updated, "
		          "the fleet's is not",
		    feed->name);
	else if (r->type == REDIS_REPLY_ERROR) {
		fl->n.redis_errors++;
		log_warnx(
		    "fleet: feed %s: publishing: %.200s", feed->name, r->str);
		fleet_release(fl, feed);
	}
	freeReplyObject(r);
}

void
fleet_release(struct fleet *fl, const struct feed *feed)
{
	char lease[FEED_NAME_MAX + 512];
	redisReply *r;

	if (fl == NULL || fl->c == NULL)
		return;
	key(fl, feed->name, "lease", lease, sizeof(lease));
	r = command(fl, 5,
	    (const char *[]){
	        "EVAL", release_lua, "1", lease, fl->conf->node_name},
	    NULL, 0);
	if (r != NULL)
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

int
fleet_view(struct fleet *fl, const char *name, struct fleet_view *out)
{
	char lease[FEED_NAME_MAX + 512], meta[FEED_NAME_MAX + 512];
	redisReply *r, *h;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (fl == NULL || !connected(fl, 0))
		return -1;
	key(fl, name, "lease", lease, sizeof(lease));
	key(fl, name, "meta", meta, sizeof(meta));
	if ((r = command(fl, 2, (const char *[]){"GET", lease}, NULL, 0)) ==
	    NULL)
		return -1;
	if (r->type == REDIS_REPLY_STRING)
		snprintf(out->holder, sizeof(out->holder), "%s", r->str);
	freeReplyObject(r);
	h = command(
	    fl, 4, (const char *[]){"HMGET", meta, "version", "hash"}, NULL, 0);
	if (h == NULL)
		return -1;
	if (h->type == REDIS_REPLY_ARRAY && h->elements == 2) {
		if (h->element[0]->type == REDIS_REPLY_STRING)
			parse_u64(
			    h->element[0]->str, 0, UINT64_MAX, &out->version);
		if (h->element[1]->type == REDIS_REPLY_STRING &&
		    strlen(h->element[1]->str) == 64)
			memcpy(out->hash, h->element[1]->str, 65);
		rc = 0;
	}
	freeReplyObject(h);
	return rc;
}

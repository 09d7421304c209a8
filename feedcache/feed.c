/* SPDX-License-Identifier: ISC */
/*
 * feedcache configuration: key tables for lib/config, then the checks
 * that span keys (a URL's scheme, the origin it names).
 */
#include <ctype.h>
#include <grp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feed.h"
#include "fleet.h"
#include "hook.h"
#include "parse.h"
#include "timeutil.h"

#define DEFAULT_CACHE_DIR "/var/cache/feedcache"
#define DEFAULT_USER_AGENT "feedcache/" TK_VERSION
#define SECONDS(n) ((uint64_t)(n)*NSEC_PER_SEC)

void
feed_duration_text(uint64_t ns, char *buf, size_t size)
{
	static const struct {
		uint64_t ns;
		const char *unit;
	} units[] = {
	    {86400 * NSEC_PER_SEC, "d"},
	    {3600 * NSEC_PER_SEC, "h"},
	    {60 * NSEC_PER_SEC, "m"},
	    {NSEC_PER_SEC, "s"},
	    {NSEC_PER_MSEC, "ms"},
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ns % units[i].ns == 0) {
			snprintf(buf, size, "%llu%s",
			    (unsigned long long)(ns / units[i].ns),
			    units[i].unit);
			return;
		}
	}
	if (ns > NSEC_PER_SEC) /* 2.5s: tenths are what people write */
		snprintf(buf, size, "%.1fs", (double)ns / (double)NSEC_PER_SEC);
	else
		snprintf(buf, size, "%.3fs", (double)ns / (double)NSEC_PER_SEC);
}

void
feed_url_masked(const char *url, char *buf, size_t size)
{
	const char *rest = strstr(url, "://"), *end, *at, *colon;

	if (rest == NULL) {
		snprintf(buf, size, "%s", url);
		return;
	}
	rest += 3;
	end = rest + strcspn(rest, "/?#");
	at = memchr(rest, '@', (size_t)(end - rest));
	if (at == NULL) {
		snprintf(buf, size, "%s", url);
		return;
	}
	colon = memchr(rest, ':', (size_t)(at - rest));
	if (colon == NULL) /* a user name alone is no secret */
		snprintf(buf, size, "%s", url);
	else
		snprintf(buf, size, "%.*s:***%s", (int)(colon - url), url, at);
}

bool
feed_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > FEED_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_' &&
		    name[i] != '-')
			return false;
	return true;
}

/*
 * "validate = xml | json | nonempty | none".
 */
static int
parse_validate(void *field, const char *value, char *why, size_t why_size)
{
	static const char *const names[] = {"none", "nonempty", "xml", "json"};

	for (int i = 0; i < 4; i++) {
		if (strcmp(value, names[i]) == 0) {
			*(int *)field = i;
			return 0;
		}
	}
	snprintf(why, why_size, "not one of xml, json, nonempty, none");
	return -EINVAL;
}

/*
 * "header = Name: value", repeatable. The name must be a token and the
 * value free of control characters, so a configuration cannot smuggle a
 * second header or a request line into the request.
 */
/* A header line as an error shows it: its name, never its value. */
static void
header_masked(const char *value, char *buf, size_t size)
{
	size_t name = strcspn(value, ": \t");

	if (value[name] == '\0')
		snprintf(buf, size, "%s", value);
	else
		snprintf(buf, size, "%.*s%s***", (int)name, value,
		    value[name] == ':' ? ": " : " ");
}

static int
parse_header(void *field, const char *value, char *why, size_t why_size)
{
	struct feed_headers *h = field;
	const char *colon = strchr(value, ':');

	if (colon == NULL || colon == value) {
		snprintf(why, why_size, "expected 'Name: value'");
		return -EINVAL;
	}
	for (const char *p = value; p < colon; p++) {
		if (!isalnum((unsigned char)*p) &&
		    strchr("!#$%&'*+-.^_`|~", *p) == NULL) {
			snprintf(why, why_size, "bad character in header name");
			return -EINVAL;
		}
	}
	for (const char *p = colon; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 && *p != '\t') {
			snprintf(why, why_size, "control character in header");
			return -EINVAL;
		}
	}
	if (h->count == FEED_MAX_HEADERS) {
		snprintf(
		    why, why_size, "more than %d headers", FEED_MAX_HEADERS);
		return -EINVAL;
	}
	if ((h->line[h->count] = strdup(value)) == NULL) {
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	h->count++;
	return 0;
}

/*
 * The host (hostlen bytes at host) and the port (port up to end, or NULL)
 * of a URL, as libcurl will take them: an IPv6 literal in brackets that
 * close right before the port or the path, a port of 1 to 65535 in
 * digits (an empty one is the scheme's). False with why otherwise, so
 * the configuration says so rather than the fetch.
 */
static bool
host_port_valid(const char *host, size_t hostlen, const char *port,
    const char *end, char *why, size_t why_size)
{
	const char *close = memchr(host, ']', hostlen);
	uint32_t n = 0;

	if (host[0] == '[' && (close == NULL || close != host + hostlen - 1)) {
		snprintf(why, why_size,
		    "an IPv6 address opened with '[' must close with ']' "
		    "right before ':port' or the path");
		return false;
	}
	if (host[0] != '[' &&
	    (close != NULL || memchr(host, '[', hostlen) != NULL)) {
		snprintf(why, why_size,
		    "'[' or ']' outside an IPv6 address ('[' starts the host, "
		    "e.g. http://[::1]:8080/)");
		return false;
	}
	if (port == NULL || port == end)
		return true;
	for (const char *p = port; p < end; p++) {
		if (*p < '0' || *p > '9' || n > 65535) {
			n = 0;
			break;
		}
		n = n * 10 + (uint32_t)(*p - '0');
	}
	if (n == 0 || n > 65535) {
		snprintf(why, why_size,
		    "port '%.*s' is not a number from 1 to 65535",
		    (int)(end - port > 16 ? 16 : end - port), port);
		return false;
	}
	return true;
}

/*
 * Checks a URL's scheme and fills origin with "scheme://host:port" (the
 * unit of the one-transfer-per-origin rule). Returns false with why.
 */
static bool
url_origin(
    const char *url, char *origin, size_t size, char *why, size_t why_size)
{
	const char *scheme, *rest, *end, *at, *port = NULL;
	size_t hostlen;

	for (const char *p = url; *p != '\0'; p++) {
		if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
			snprintf(
			    why, why_size, "space or control character in URL");
			return false;
		}
	}
	if (strncasecmp(url, "http://", 7) == 0) {
		scheme = "http";
		rest = url + 7;
	} else if (strncasecmp(url, "https://", 8) == 0) {
		scheme = "https";
		rest = url + 8;
	} else {
		snprintf(why, why_size, "only http:// and https:// URLs");
		return false;
	}
	end = rest + strcspn(rest, "/?#");
	if ((at = memchr(rest, '@', (size_t)(end - rest))) != NULL)
		rest = at + 1; /* user:password@ */
	if (rest == end) {
		snprintf(why, why_size, "no host in URL");
		return false;
	}
	hostlen = (size_t)(end - rest);
	/* The port follows the last ':' unless that is inside [IPv6]. */
	for (const char *p = end; p > rest && p[-1] != ']'; p--) {
		if (p[-1] == ':') {
			port = p;
			hostlen = (size_t)(p - 1 - rest);
			break;
		}
	}
	if (!host_port_valid(rest, hostlen, port, end, why, why_size))
		return false;
	if (port != NULL && port < end)
		snprintf(origin, size, "%s://%.*s:%.*s", scheme, (int)hostlen,
		    rest, (int)(end - port), port);
	else
		snprintf(origin, size, "%s://%.*s:%s", scheme, (int)hostlen,
		    rest, scheme[4] == 's' ? "443" : "80");
	for (char *p = origin; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return true;
}

/*
 * "mode = 0644": the cached file's (and its meta file's) permissions.
 * Never setuid, setgid or sticky, never world-writable: a file that any
 * local user may rewrite is no cache of what the origin sent. Always
 * readable and writable by the owner, the service itself.
 */
static int
parse_feed_mode(void *field, const char *value, char *why, size_t why_size)
{
	uint32_t mode;

	if (parse_mode(value, &mode) < 0) {
		snprintf(why, why_size, "not an octal file mode (e.g. 0640)");
		return -EINVAL;
	}
	if (mode & 07000) {
		snprintf(why, why_size,
		    "setuid, setgid and sticky bits are refused: a feed is "
		    "a plain file (e.g. 0644, 0640)");
		return -EINVAL;
	}
	if (mode & 0002) {
		snprintf(why, why_size,
		    "world-writable: every local user could rewrite the "
		    "cached copy (e.g. 0644, 0664)");
		return -EINVAL;
	}
	/* The service reads its own meta file back and rewrites both. */
	if ((mode & 0600) != 0600) {
		snprintf(why, why_size,
		    "the owner must be able to read and write it (e.g. 0644, "
		    "0640, 0600)");
		return -EINVAL;
	}
	*(uint32_t *)field = mode;
	return 0;
}

/* "url = http://..." or "https://...", nothing else. */
static int
parse_url(void *field, const char *value, char *why, size_t why_size)
{
	char origin[256];

	if (!url_origin(value, origin, sizeof(origin), why, why_size))
		return -EINVAL;
	if ((*(char **)field = strdup(value)) == NULL) {
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* "cache_dir = /absolute/path": the daemon may run from anywhere. */
static int
parse_abs_path(void *field, const char *value, char *why, size_t why_size)
{
	if (value[0] != '/') {
		snprintf(why, why_size, "not an absolute path");
		return -EINVAL;
	}
	if ((*(char **)field = strdup(value)) == NULL) {
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* "redis = redis://...": checked now, so the error names the line. */
static int
parse_redis(void *field, const char *value, char *why, size_t why_size)
{
	struct redis_addr addr;
	int rc = redis_url_parse(value, &addr, why, why_size);

	explicit_bzero(&addr, sizeof(addr));
	if (rc < 0)
		return rc;
	if ((*(char **)field = strdup(value)) == NULL) {
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* node_name and redis_prefix go into keys and logs: printable, no space. */
static int
parse_word(void *field, const char *value, char *why, size_t why_size)
{
	size_t n = strlen(value);

	if (n == 0 || n > 64) {
		snprintf(why, why_size, "must be 1 to 64 characters");
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		if (value[i] <= ' ' || value[i] >= 0x7f) {
			snprintf(
			    why, why_size, "only printable ASCII, no spaces");
			return -EINVAL;
		}
	if ((*(char **)field = strdup(value)) == NULL) {
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/*
 * "group = NAME": a word naming a group that exists, looked up now so
 * the error names the line and the value. conf_finish takes its gid.
 */
static int
parse_group(void *field, const char *value, char *why, size_t why_size)
{
	int rc = parse_word(field, value, why, why_size);

	if (rc < 0)
		return rc;
	if (getgrnam(value) == NULL) {
		free(*(char **)field);
		*(char **)field = NULL;
		snprintf(why, why_size,
		    "no such group; create it (addgroup --system) or remove "
		    "the key");
		return -EINVAL;
	}
	return 0;
}

/*
 * "fleet_key = /path": read now, so a key file anyone else may read (or
 * a short key) is an error naming the line, the file and the fault.
 */
static int
parse_fleet_key(void *field, const char *value, char *why, size_t why_size)
{
	return fleet_keys_load(value, field, why, why_size);
}

/* "on_change = /abs/program args": split now, so errors name the line. */
static int
parse_on_change(void *field, const char *value, char *why, size_t why_size)
{
	char *copy = strdup(value), *argv[HOOK_ARGS_MAX + 1];
	int rc;

	if (copy == NULL) {
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	rc = hook_split(copy, argv, why, why_size);
	free(copy);
	if (rc < 0)
		return rc;
	if ((*(char **)field = strdup(value)) == NULL) {
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static const struct conf_key main_keys[] = {
    CONF_KEY_CUSTOM(
        "cache_dir", struct feedcache_conf, cache_dir, parse_abs_path, false),
    CONF_KEY("user_agent", CONF_STRING, struct feedcache_conf, user_agent),
    CONF_KEY_RANGE(
        "max_parallel", CONF_U32, struct feedcache_conf, max_parallel, 1, 1024),
    CONF_KEY("metrics_file", CONF_STRING, struct feedcache_conf, metrics_file),
    CONF_KEY("ca_file", CONF_STRING, struct feedcache_conf, ca_file),
    CONF_KEY_CUSTOM("group", struct feedcache_conf, group, parse_group, false),
    CONF_KEY_SECRET("redis", struct feedcache_conf, redis, parse_redis),
    CONF_KEY_CUSTOM(
        "node_name", struct feedcache_conf, node_name, parse_word, false),
    CONF_KEY_CUSTOM(
        "redis_prefix", struct feedcache_conf, redis_prefix, parse_word, false),
    CONF_KEY_RANGE("redis_timeout", CONF_DURATION, struct feedcache_conf,
        redis_timeout_ns, NSEC_PER_SEC / 100, SECONDS(10)),
    CONF_KEY_CUSTOM(
        "fleet_key", struct feedcache_conf, fleet_key, parse_fleet_key, false),
    CONF_KEY_CUSTOM(
        "on_change", struct feedcache_conf, on_change, parse_on_change, false),
    CONF_KEY_RANGE("hook_timeout", CONF_DURATION, struct feedcache_conf,
        hook_timeout_ns, NSEC_PER_SEC / 10, SECONDS(3600)),
    CONF_KEY_END,
};

static const struct conf_key feed_keys[] = {
    /* Required and checked as it is read, so errors name its line. */
    {"url", CONF_CUSTOM, offsetof(struct feed, url), 0, 0, true, false,
        parse_url, false, feed_url_masked},
    CONF_KEY_RANGE("interval", CONF_DURATION, struct feed, interval_ns,
        SECONDS(1), SECONDS(86400 * 365)),
    CONF_KEY_RANGE("timeout", CONF_DURATION, struct feed, timeout_ns,
        NSEC_PER_SEC / 10, SECONDS(3600)),
    CONF_KEY_RANGE("stall_timeout", CONF_DURATION, struct feed,
        stall_timeout_ns, NSEC_PER_SEC, SECONDS(3600)),
    CONF_KEY_RANGE("max_size", CONF_SIZE, struct feed, max_size, 1, 1ULL << 30),
    CONF_KEY_RANGE("max_backoff", CONF_DURATION, struct feed, max_backoff_ns,
        SECONDS(1), SECONDS(86400 * 7)),
    CONF_KEY_CUSTOM("mode", struct feed, mode, parse_feed_mode, false),
    CONF_KEY("allow_private", CONF_BOOL, struct feed, allow_private),
    CONF_KEY_CUSTOM("validate", struct feed, validate, parse_validate, false),
    CONF_KEY_MASKED(
        "header", struct feed, headers, parse_header, true, header_masked),
    CONF_KEY("ca_file", CONF_STRING, struct feed, ca_file),
    CONF_KEY_CUSTOM(
        "on_change", struct feed, on_change, parse_on_change, false),
    CONF_KEY_END,
};

static void *
open_feed(void *ctx, const char *instance, char *why, size_t why_size)
{
	struct feedcache_conf *conf = ctx;
	struct feed *f, **grown;

	if (!feed_name_valid(instance)) {
		snprintf(why, why_size,
		    "a feed name is 1 to %d of A-Z a-z 0-9 _ -", FEED_NAME_MAX);
		return NULL;
	}
	if (conf->nfeeds == conf->cap) {
		size_t cap = conf->cap ? conf->cap * 2 : 16;

		if ((grown = realloc(conf->feeds, cap * sizeof(*grown))) ==
		    NULL) {
			snprintf(why, why_size, "out of memory");
			return NULL;
		}
		conf->feeds = grown;
		conf->cap = cap;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		snprintf(why, why_size, "out of memory");
		return NULL;
	}
	snprintf(f->name, sizeof(f->name), "%s", instance);
	f->interval_ns = SECONDS(300);
	f->timeout_ns = SECONDS(10);
	f->max_size = 5 << 20;
	f->max_backoff_ns = SECONDS(3600);
	f->mode = 0644;
	f->validate = VALIDATE_NONEMPTY;
	conf->feeds[conf->nfeeds++] = f;
	return f;
}

static const struct conf_section sections[] = {
    {"feedcache", false, main_keys, NULL},
    {"feed", true, feed_keys, open_feed},
    {NULL, false, NULL, NULL},
};

/* Defaults and the checks that span keys, after the file was read. */
static int
conf_finish(void *c, struct conf_error *err)
{
	struct feedcache_conf *conf = c;
	char why[128];

	if (conf->cache_dir == NULL &&
	    (conf->cache_dir = strdup(DEFAULT_CACHE_DIR)) == NULL)
		goto nomem;
	if (conf->user_agent == NULL &&
	    (conf->user_agent = strdup(DEFAULT_USER_AGENT)) == NULL)
		goto nomem;
	if (conf->redis != NULL && conf->node_name == NULL) {
		char host[256] = "";

		if (gethostname(host, sizeof(host) - 1) < 0 ||
		    host[0] == '\0' ||
		    parse_word(&conf->node_name, host, why, sizeof(why)) < 0) {
			conf_error_set(err, conf->path, 0, "node_name",
			    "cannot use the host name as node_name; set one.");
			return -EINVAL;
		}
	}
	/* Unsigned, a Redis record is whatever anyone who reaches Redis
	 * wrote: fleet mode does not run without a key. */
	if (conf->redis != NULL && conf->fleet_key.count == 0) {
		conf_error_set(err, conf->path, 0, "fleet_key",
		    "fleet mode (redis =) needs fleet_key = PATH, a file with "
		    "a secret key (e.g. `openssl rand -hex 32`) that only the "
		    "service user may read; see SECURITY in feedcache.conf(5)");
		return -EINVAL;
	}
	if (conf->group != NULL) {
		struct group *gr = getgrnam(conf->group);

		if (gr == NULL) {
			conf_error_set(err, conf->path, 0, "group",
			    "'%s': no such group; create it (addgroup "
			    "--system) or remove the key.",
			    conf->group);
			return -EINVAL;
		}
		conf->gid = gr->gr_gid;
	}
	/* The stall rule defaults to half the timeout, at least 1 s. */
	for (size_t i = 0; i < conf->nfeeds; i++) {
		struct feed *f = conf->feeds[i];

		if (f->stall_timeout_ns == 0)
			f->stall_timeout_ns = f->timeout_ns / 2 > SECONDS(1)
			                          ? f->timeout_ns / 2
			                          : SECONDS(1);
	}
	/* A feed without on_change runs the [feedcache] one, if any. */
	for (size_t i = 0; i < conf->nfeeds; i++)
		if (conf->on_change != NULL &&
		    conf->feeds[i]->on_change == NULL &&
		    (conf->feeds[i]->on_change = strdup(conf->on_change)) ==
		        NULL)
			goto nomem;
	/* parse_url has checked every url already. */
	for (size_t i = 0; i < conf->nfeeds; i++)
		url_origin(conf->feeds[i]->url, conf->feeds[i]->origin,
		    sizeof(conf->feeds[i]->origin), why, sizeof(why));
	return 0;
nomem:
	conf_error_set(err, conf->path, 0, "", "out of memory.");
	return -ENOMEM;
}

static void
conf_start(void *c, const char *name)
{
	struct feedcache_conf *conf = c;

	memset(conf, 0, sizeof(*conf));
	snprintf(conf->path, sizeof(conf->path), "%s", name);
	conf->max_parallel = 16;
	conf->gid = (gid_t)-1;
	conf->redis_timeout_ns = NSEC_PER_SEC / 2;
	conf->hook_timeout_ns = SECONDS(30);
}

static void
conf_release(void *c)
{
	feedcache_conf_free(c);
}

static const struct conf_loader loader = {
    sections, conf_start, conf_finish, conf_release};

int
feedcache_conf_load(
    const char *path, struct feedcache_conf *conf, struct conf_error *err)
{
	return conf_load(&loader, path, NULL, 0, conf, err);
}

int
feedcache_conf_load_buf(const char *name, const char *buf, size_t len,
    struct feedcache_conf *conf, struct conf_error *err)
{
	return conf_load(&loader, name, buf, len, conf, err);
}

static void
feed_free(struct feed *f)
{
	if (f == NULL)
		return;
	free(f->url);
	free(f->ca_file);
	free(f->on_change);
	for (unsigned i = 0; i < f->headers.count; i++)
		free(f->headers.line[i]);
	free(f);
}

void
feedcache_conf_free(struct feedcache_conf *conf)
{
	for (size_t i = 0; i < conf->nfeeds; i++)
		feed_free(conf->feeds[i]);
	free(conf->feeds);
	free(conf->cache_dir);
	free(conf->user_agent);
	free(conf->metrics_file);
	free(conf->ca_file);
	free(conf->group);
	free(conf->on_change);
	if (conf->redis != NULL) /* it may hold a password */
		explicit_bzero(conf->redis, strlen(conf->redis));
	free(conf->redis);
	free(conf->node_name);
	free(conf->redis_prefix);
	fleet_keys_free(&conf->fleet_key);
	memset(conf, 0, sizeof(*conf));
}

struct feed *
feedcache_conf_find(const struct feedcache_conf *conf, const char *name)
{
	for (size_t i = 0; i < conf->nfeeds; i++)
		if (strcmp(conf->feeds[i]->name, name) == 0)
			return conf->feeds[i];
	return NULL;
}

static bool
str_eq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	       (a != NULL && b != NULL && strcmp(a, b) == 0);
}

bool
feed_same(const struct feed *a, const struct feed *b)
{
	if (!str_eq(a->url, b->url) || !str_eq(a->ca_file, b->ca_file) ||
	    !str_eq(a->on_change, b->on_change) ||
	    a->interval_ns != b->interval_ns ||
	    a->timeout_ns != b->timeout_ns ||
	    a->stall_timeout_ns != b->stall_timeout_ns ||
	    a->max_size != b->max_size ||
	    a->max_backoff_ns != b->max_backoff_ns || a->mode != b->mode ||
	    a->validate != b->validate ||
	    a->allow_private != b->allow_private ||
	    a->headers.count != b->headers.count)
		return false;
	for (unsigned i = 0; i < a->headers.count; i++)
		if (strcmp(a->headers.line[i], b->headers.line[i]) != 0)
			return false;
	return true;
}

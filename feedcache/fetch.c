/* SPDX-License-Identifier: ISC */
/*
 * The refresh of one feed. The rule it keeps: nothing an origin does
 * (hang, drip, reset, lie about its length, send an error page or a huge
 * body, redirect to file://) can cost the good copy; only a complete,
 * validated 200 replaces it, atomically.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fetch.h"
#include "hex.h"
#include "timeutil.h"
#include "validate.h"

#define BACKOFF_BASE_NS (10 * NSEC_PER_SEC)
#define RETRY_AFTER_MAX 86400
#define MAX_REDIRECTS 5

uint64_t
fetch_random(void)
{
	static uint64_t state;

	/* xorshift64*, seeded once from the kernel: jitter, not secrets. */
	if (state == 0 &&
	    (getrandom(&state, sizeof(state), 0) != (ssize_t)sizeof(state) ||
	        state == 0))
		state = time_mono_ns() | 1;
	state ^= state >> 12;
	state ^= state << 25;
	state ^= state >> 27;
	return state * 0x2545F4914F6CDD1DULL;
}

uint64_t
backoff_delay_ns(uint32_t failures, uint64_t interval_ns,
    uint64_t max_backoff_ns, uint64_t rnd)
{
	uint64_t window =
	    interval_ns < BACKOFF_BASE_NS ? interval_ns : BACKOFF_BASE_NS;
	unsigned shift = failures > 1 ? failures - 1 : 0;

	if (shift > 40)
		shift = 40;
	if (window > max_backoff_ns >> shift)
		window = max_backoff_ns;
	else
		window <<= shift;
	if (window < NSEC_PER_SEC)
		window = NSEC_PER_SEC;
	/* Full jitter: anywhere in [1 s, window]. */
	return NSEC_PER_SEC + rnd % (window - NSEC_PER_SEC + 1);
}

uint64_t
due_jitter_ns(uint64_t interval_ns, uint64_t rnd)
{
	uint64_t spread = interval_ns / 5; /* +-10% */

	return interval_ns - interval_ns / 10 + (spread ? rnd % spread : 0);
}

int64_t
retry_after_parse(const char *value, int64_t now)
{
	static const char *const formats[] = {
	    "%a, %d %b %Y %H:%M:%S GMT", /* IMF-fixdate */
	    "%A, %d-%b-%y %H:%M:%S GMT", /* RFC 850 */
	    "%a %b %e %H:%M:%S %Y", /* asctime */
	};
	int64_t secs = 0;
	const char *p = value;
	struct tm tm;

	while (*p == ' ')
		p++;
	if (*p >= '0' && *p <= '9') {
		for (; *p >= '0' && *p <= '9'; p++)
			if ((secs = secs * 10 + (*p - '0')) > RETRY_AFTER_MAX)
				secs = RETRY_AFTER_MAX;
		while (*p == ' ')
			p++;
		return *p == '\0' ? secs : -1;
	}
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		const char *end;

		memset(&tm, 0, sizeof(tm));
		end = strptime(p, formats[i], &tm);
		if (end == NULL)
			continue;
		while (*end == ' ')
			end++;
		if (*end != '\0')
			continue;
		secs = (int64_t)timegm(&tm) - now;
		if (secs < 0)
			secs = 0;
		return secs > RETRY_AFTER_MAX ? RETRY_AFTER_MAX : secs;
	}
	return -1;
}

static int
cache_path(const struct feedcache_conf *conf, const char *prefix,
    const char *name, const char *suffix, char *buf, size_t size)
{
	int n = snprintf(
	    buf, size, "%s/%s%s%s", conf->cache_dir, prefix, name, suffix);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int
feed_body_path(
    const struct feedcache_conf *conf, const char *name, char *buf, size_t size)
{
	return cache_path(conf, "", name, "", buf, size);
}

int
feed_meta_path(
    const struct feedcache_conf *conf, const char *name, char *buf, size_t size)
{
	return cache_path(conf, ".", name, ".meta", buf, size);
}

int
feed_lock(const struct feedcache_conf *conf, const char *name)
{
	char path[PATH_MAX];
	int fd, rc;

	if ((rc = cache_path(conf, ".", name, ".lock", path, sizeof(path))) < 0)
		return rc;
	/* Read-only: flock needs no write access, so a lock file that
	 * root left behind does not shut the service user out. */
	fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	/* Readers in the group flock it too (O_RDONLY is enough). */
	if (conf->gid != (gid_t)-1)
		(void)!fchown(fd, (uid_t)-1, conf->gid);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		rc = errno == EWOULDBLOCK ? -EWOULDBLOCK : -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/* Copies a header's value, trimmed, if line is "name: value". */
static bool
header_value(
    const char *line, size_t len, const char *name, char *out, size_t size)
{
	size_t n = strlen(name);

	if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return false;
	line += n + 1;
	len -= n + 1;
	while (len > 0 && (*line == ' ' || *line == '\t')) {
		line++;
		len--;
	}
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n' ||
	                      line[len - 1] == ' '))
		len--;
	if (len >= size)
		len = 0; /* too long to be a validator we would send back */
	memcpy(out, line, len);
	out[len] = '\0';
	return true;
}

static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct fetch *f = arg;
	size_t len = size * nmemb;

	/* A new response (redirect, 100 Continue): forget the last one's. */
	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		f->etag[0] = f->last_modified[0] = f->retry_after[0] = '\0';
		f->content_type[0] = '\0';
		return len;
	}
	if (header_value(data, len, "ETag", f->etag, sizeof(f->etag)))
		text_strip_controls(f->etag);
	else if (header_value(data, len, "Last-Modified", f->last_modified,
	             sizeof(f->last_modified)))
		text_strip_controls(f->last_modified);
	else if (header_value(data, len, "Content-Type", f->content_type,
	             sizeof(f->content_type)))
		text_strip_controls(f->content_type);
	else if (header_value(data, len, "Retry-After", f->retry_after,
	             sizeof(f->retry_after)))
		text_strip_controls(f->retry_after);
	return len;
}

/*
 * The body goes to the temporary file as it arrives, hashed on the way,
 * and the size cap is enforced here: the transfer stops at the first
 * byte over max_size, whatever Content-Length said.
 */
static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct fetch *f = arg;
	size_t len = size * nmemb;
	long status = 0;
	int rc;

	if (f->received + len > f->feed->max_size) {
		f->too_large = true;
		return 0;
	}
	f->received += len;
	curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200)
		return len; /* an error page: counted, not kept */
	if ((rc = atomic_file_write(&f->body, data, len)) < 0) {
		f->write_errno = -rc;
		return 0;
	}
	EVP_DigestUpdate(f->sha, data, len);
	return len;
}

/*
 * The stall rule. Waiting for the first body byte is the timeout's
 * business alone (an origin may think for all of timeout); once the
 * body flows, fewer than STALL_MIN_RATE bytes a second over any
 * stall_timeout window stops the transfer early.
 */
#define STALL_MIN_RATE 64

static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
    curl_off_t ulnow)
{
	struct fetch *f = arg;
	uint64_t now = time_mono_ns(), need;

	(void)dltotal;
	(void)ultotal;
	(void)ulnow;
	if (dlnow <= 0)
		return 0;
	if (f->stall_since_ns == 0 || (uint64_t)dlnow < f->stall_base) {
		f->stall_since_ns = now; /* first byte, or a new response */
		f->stall_base = (uint64_t)dlnow;
		return 0;
	}
	if (now - f->stall_since_ns < f->feed->stall_timeout_ns)
		return 0;
	need = STALL_MIN_RATE * (f->feed->stall_timeout_ns / NSEC_PER_SEC);
	if ((uint64_t)dlnow - f->stall_base < (need > 0 ? need : 1)) {
		f->stalled = true;
		return 1;
	}
	f->stall_since_ns = now;
	f->stall_base = (uint64_t)dlnow;
	return 0;
}

/*
 * ca_file adds a CA to the system store rather than replacing it:
 * libcurl has loaded the default bundle into the context by now.
 */
static CURLcode
on_ssl_ctx(CURL *easy, void *ssl_ctx, void *arg)
{
	const char *ca_file = arg;
	X509_STORE *store = SSL_CTX_get_cert_store(ssl_ctx);

	(void)easy;
	if (store == NULL || X509_STORE_load_file(store, ca_file) != 1)
		return CURLE_SSL_CACERT_BADFILE;
	return CURLE_OK;
}

/*
 * Is the body on disk the one the meta file describes? Only then may its
 * validators and hash speak for it (see struct feed_meta).
 */
static bool
body_matches_meta(const char *path, const struct feed_meta *m)
{
	struct stat st;

	return lstat(path, &st) == 0 && meta_describes(m, &st);
}

/* Adds "name: value", or the configured line as it is if name is NULL. */
static int
add_header(struct curl_slist **list, const char *name, const char *value)
{
	char line[700];
	struct curl_slist *l;

	if (name != NULL)
		snprintf(line, sizeof(line), "%s: %s", name, value);
	else
		snprintf(line, sizeof(line), "%s", value);
	if ((l = curl_slist_append(*list, line)) == NULL)
		return -ENOMEM;
	*list = l;
	return 0;
}

/*
 * Judges a connection to addr (port) by its class: see addr_allowed. The
 * configured origin's class is learned from the first connection made
 * for it (hop 0) and kept in the meta file, so it holds across restarts;
 * when learn is false (the socket is not connected yet) nothing is
 * learned. Returns true, or false with the reason in f->refused.
 */
static bool
judge(
    struct fetch *f, enum addr_class c, const char *addr, long port, bool learn)
{
	enum addr_class home = f->home;

	if (home == ADDR_UNKNOWN && f->hop == 0 && c != ADDR_NEVER) {
		if (learn) {
			f->home = c;
			snprintf(f->meta.origin, sizeof(f->meta.origin), "%s",
			    f->feed->origin);
			snprintf(f->meta.origin_class,
			    sizeof(f->meta.origin_class), "%s",
			    addr_class_name(c));
		}
		return true;
	}
	if (addr_allowed(c, home, f->feed->allow_private != 0))
		return true;
	if (c == ADDR_NEVER)
		snprintf(f->refused, sizeof(f->refused),
		    "refused to connect to %s port %ld: an unspecified, "
		    "multicast or reserved address is never fetched from",
		    addr, port);
	else
		snprintf(f->refused, sizeof(f->refused),
		    "refused to connect to %s port %ld: a %s address, and "
		    "this feed's origin is %s (allow_private = yes allows "
		    "it)",
		    addr, port, addr_class_name(c),
		    home == ADDR_UNKNOWN ? "not yet known"
		                         : addr_class_name(home));
	return false;
}

/*
 * Every socket libcurl opens, before it connects: an address the feed
 * may not reach is never sent a packet (and libcurl goes on to the
 * name's next address, if it has one).
 */
static curl_socket_t
on_opensocket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct fetch *f = arg;
	char text[INET6_ADDRSTRLEN] = "?";
	long port = 0;

	(void)purpose;
	if (a->family == AF_INET) {
		const struct sockaddr_in *in = (void *)&a->addr;

		inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
		port = ntohs(in->sin_port);
	} else if (a->family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (void *)&a->addr;

		inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
		port = ntohs(in6->sin6_port);
	}
	if (!judge(f, addr_classify(&a->addr, a->addrlen), text, port, false))
		return CURL_SOCKET_BAD;
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/*
 * Every request, on a new connection or a reused one (the multi
 * handle's connections are shared between feeds), before it is sent:
 * the address the connection really reached.
 */
static int
on_prereq(void *arg, char *primary_ip, char *local_ip, int primary_port,
    int local_port)
{
	struct fetch *f = arg;

	(void)local_ip;
	(void)local_port;
	return judge(f, addr_classify_text(primary_ip), primary_ip,
	           primary_port, true)
	           ? CURL_PREREQFUNC_OK
	           : CURL_PREREQFUNC_ABORT;
}

/*
 * The user name and password in url, decoded, for the hops that stay on
 * its origin. None: both NULL. Returns 0, or -ENOMEM.
 */
static int
url_credentials(const char *url, char **user, char **password)
{
	CURLU *u = curl_url();
	char *v = NULL;
	int rc = 0;

	*user = *password = NULL;
	if (u == NULL)
		return -ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
		if (curl_url_get(u, CURLUPART_USER, &v, CURLU_URLDECODE) ==
		    CURLUE_OK) {
			if ((*user = strdup(v)) == NULL)
				rc = -ENOMEM;
			curl_free(v);
		}
		if (curl_url_get(u, CURLUPART_PASSWORD, &v, CURLU_URLDECODE) ==
		    CURLUE_OK) {
			if ((*password = strdup(v)) == NULL)
				rc = -ENOMEM;
			explicit_bzero(v, strlen(v));
			curl_free(v);
		}
	}
	curl_url_cleanup(u);
	return rc;
}

/* "scheme://host:port" of url as libcurl spells it, or NULL. Owned. */
static char *
url_origin_of(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *out = NULL;

	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
	        CURLUE_OK) {
		size_t n = strlen(scheme) + strlen(host) + strlen(port) + 5;

		if ((out = malloc(n)) != NULL) {
			snprintf(out, n, "%s://%s:%s", scheme, host, port);
			for (char *p = out; *p != '\0'; p++)
				if (*p >= 'A' && *p <= 'Z')
					*p = (char)(*p - 'A' + 'a');
		}
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return out;
}

/* The time left of the fetch's timeout, in ms (at least 1). */
static long
remaining_ms(const struct fetch *f)
{
	uint64_t now = time_mono_ns();

	if (now >= f->deadline_ns)
		return 1;
	return (
	    long)((f->deadline_ns - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC);
}

static int
setup_easy(
    struct fetch *f, const struct feedcache_conf *conf, const struct feed *feed)
{
	long timeout_ms = (long)(feed->timeout_ns / NSEC_PER_MSEC);
	CURL *e = f->easy;

	f->conditional = f->body_known && (f->meta.etag[0] != '\0' ||
	                                      f->meta.last_modified[0] != '\0');
	for (int k = 0; k < 2; k++) {
		struct curl_slist **l =
		    k == 0 ? &f->request_headers : &f->foreign_headers;

		if (f->conditional && f->meta.etag[0] != '\0' &&
		    add_header(l, "If-None-Match", f->meta.etag) < 0)
			return -ENOMEM;
		if (f->conditional && f->meta.last_modified[0] != '\0' &&
		    add_header(l, "If-Modified-Since", f->meta.last_modified) <
		        0)
			return -ENOMEM;
	}
	for (unsigned i = 0; i < feed->headers.count; i++)
		if (add_header(
		        &f->request_headers, NULL, feed->headers.line[i]) < 0)
			return -ENOMEM;
	if (url_credentials(feed->url, &f->user, &f->password) < 0)
		return -ENOMEM;
	/* A URL libcurl does not parse gets no origin here: the transfer
	 * then fails with libcurl's reason, recorded like any failure. */
	if ((f->origin = url_origin_of(feed->url)) == NULL &&
	    (f->origin = strdup("")) == NULL)
		return -ENOMEM;
	f->deadline_ns = time_mono_ns() + feed->timeout_ns;
	/* The origin's class, if a fetch of this very origin learned it. */
	f->home = strcmp(f->meta.origin, feed->origin) == 0
	              ? addr_class_parse(f->meta.origin_class)
	              : ADDR_UNKNOWN;
	if (f->home == ADDR_UNKNOWN)
		f->meta.origin[0] = f->meta.origin_class[0] = '\0';

	curl_easy_setopt(e, CURLOPT_URL, feed->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, f);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	/* An https feed is https all the way (see fetch_next_hop). */
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR,
	    strncasecmp(feed->url, "https:", 6) == 0 ? "https" : "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	/* Straight to the origin: through a proxy, the address judged
	 * would be the proxy's, not the one the bytes come from. */
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_opensocket);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, f);
	curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq);
	curl_easy_setopt(e, CURLOPT_PREREQDATA, f);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, conf->user_agent);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, f->request_headers);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	/* No CURLOPT_LOW_SPEED_*: it counts the wait for the first byte
	 * too, cutting a slow but honest origin at a fraction of timeout. */
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(e, CURLOPT_XFERINFODATA, f);
	curl_easy_setopt(
	    e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)feed->max_size);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, f);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, f->errbuf);
	if (f->ca_file != NULL) {
		curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
		curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, f->ca_file);
	}
	return 0;
}

static bool
is_redirect(long status)
{
	return status == 301 || status == 302 || status == 303 ||
	       status == 307 || status == 308;
}

bool
fetch_next_hop(struct fetch *f, CURLcode code)
{
	long status = 0;
	char *next = NULL, *origin, shown[216];
	bool same;

	if (code != CURLE_OK || f->too_large || f->write_errno != 0)
		return false;
	curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &status);
	if (!is_redirect(status) ||
	    curl_easy_getinfo(f->easy, CURLINFO_REDIRECT_URL, &next) !=
	        CURLE_OK ||
	    next == NULL)
		return false;
	/* Messages show where it led, without a password (a relative
	 * Location inherits the configured URL's). */
	feed_url_masked(next, shown, sizeof(shown));
	if (f->hop >= MAX_REDIRECTS) {
		snprintf(f->redirect_error, sizeof(f->redirect_error),
		    "more than %d redirects", MAX_REDIRECTS);
		return false;
	}
	if (strncasecmp(next, "http://", 7) != 0 &&
	    strncasecmp(next, "https://", 8) != 0) {
		snprintf(f->redirect_error, sizeof(f->redirect_error),
		    "redirect to a scheme other than http or https: %s", shown);
		return false;
	}
	if (strncasecmp(f->feed->url, "https:", 6) == 0 &&
	    strncasecmp(next, "https:", 6) != 0) {
		snprintf(f->redirect_error, sizeof(f->redirect_error),
		    "an https feed is never followed to http: %s", shown);
		return false;
	}
	if (time_mono_ns() >= f->deadline_ns) {
		snprintf(f->redirect_error, sizeof(f->redirect_error),
		    "timeout: %llu ms spent before following %s",
		    (unsigned long long)(f->feed->timeout_ns / NSEC_PER_MSEC),
		    shown);
		return false;
	}
	if ((origin = url_origin_of(next)) == NULL) {
		snprintf(f->redirect_error, sizeof(f->redirect_error),
		    "redirect to a URL that does not parse: %s", shown);
		return false;
	}
	/* The configured header lines are for the configured origin
	 * (scheme, host and port) and nowhere else. */
	same = strcmp(origin, f->origin) == 0;
	free(origin);
	if (curl_easy_setopt(f->easy, CURLOPT_URL, next) != CURLE_OK)
		return false;
	f->hop++;
	/* The redirect's own body was counted, never kept. */
	f->received = 0;
	curl_easy_setopt(f->easy, CURLOPT_HTTPHEADER,
	    same ? f->request_headers : f->foreign_headers);
	/* The URL's credentials too: libcurl takes them from the URL alone,
	 * and an absolute redirect on the same origin names none. */
	curl_easy_setopt(f->easy, CURLOPT_USERNAME, same ? f->user : NULL);
	curl_easy_setopt(f->easy, CURLOPT_PASSWORD, same ? f->password : NULL);
	curl_easy_setopt(f->easy, CURLOPT_TIMEOUT_MS, remaining_ms(f));
	curl_easy_setopt(f->easy, CURLOPT_CONNECTTIMEOUT_MS, remaining_ms(f));
	return true;
}

/* Releases everything a fetch holds; the lock last. */
static void
fetch_release(struct fetch *f)
{
	if (f->body_open)
		atomic_file_abort(&f->body);
	f->body_open = false;
	if (f->easy != NULL)
		curl_easy_cleanup(f->easy);
	f->easy = NULL;
	curl_slist_free_all(f->request_headers);
	f->request_headers = NULL;
	curl_slist_free_all(f->foreign_headers);
	f->foreign_headers = NULL;
	free(f->origin);
	f->origin = NULL;
	free(f->user);
	f->user = NULL;
	if (f->password != NULL)
		explicit_bzero(f->password, strlen(f->password));
	free(f->password);
	f->password = NULL;
	free(f->ca_file);
	f->ca_file = NULL;
	EVP_MD_CTX_free(f->sha);
	f->sha = NULL;
	if (f->lock_fd >= 0)
		close(f->lock_fd);
	f->lock_fd = -1;
}

int
fetch_start(struct fetch *f, const struct feedcache_conf *conf,
    const struct feed *feed, int lock_fd, char *why, size_t why_size)
{
	int rc;

	const char *ca_file = feed->ca_file ? feed->ca_file : conf->ca_file;

	memset(f, 0, sizeof(*f));
	f->feed = feed;
	f->lock_fd = lock_fd;
	if (ca_file != NULL && (f->ca_file = strdup(ca_file)) == NULL) {
		snprintf(why, why_size, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	if (feed_body_path(
	        conf, feed->name, f->body_path, sizeof(f->body_path)) < 0 ||
	    feed_meta_path(
	        conf, feed->name, f->meta_path, sizeof(f->meta_path)) < 0) {
		snprintf(why, why_size, "cache path too long");
		rc = -ENAMETOOLONG;
		goto fail;
	}
	/* The meta file on disk is the truth: another process may have
	 * refreshed since we last looked. A damaged one starts afresh. */
	rc = meta_load(f->meta_path, &f->meta);
	if (rc < 0)
		memset(&f->meta, 0, sizeof(f->meta));
	if ((rc = atomic_file_open_fixed(&f->body, f->body_path, feed->mode)) <
	    0) {
		snprintf(why, why_size, "%s: %s", f->body_path, strerror(-rc));
		goto fail;
	}
	f->body_open = true;
	f->group = conf->gid;
	if (f->group != (gid_t)-1 &&
	    fchown(f->body.fd, (uid_t)-1, f->group) < 0) {
		rc = -errno;
		snprintf(why, why_size, "%s: group %s: %s", f->body_path,
		    conf->group, strerror(errno));
		goto fail;
	}
	/* The data is synced before the rename; the directory is not: after
	 * a power cut the old copy may be back, with meta to match (see
	 * body_matches_meta), but never a partial new one. */
	f->body.sync = ATOMIC_SYNC_DATA;
	f->body_known = body_matches_meta(f->body_path, &f->meta);
	if ((f->sha = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(f->sha, EVP_sha256(), NULL) != 1 ||
	    (f->easy = curl_easy_init()) == NULL ||
	    setup_easy(f, conf, feed) < 0) {
		snprintf(why, why_size, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	return 0;
fail:
	fetch_release(f);
	return rc;
}

/* Reads the received body back for validation; NULL on failure. */
static char *
read_body(struct fetch *f)
{
	char *buf = malloc(f->received + 1);
	size_t off = 0;

	if (buf == NULL)
		return NULL;
	while (off < f->received) {
		ssize_t n =
		    pread(f->body.fd, buf + off, f->received - off, (off_t)off);

		if (n <= 0) {
			free(buf);
			return NULL;
		}
		off += (size_t)n;
	}
	buf[off] = '\0';
	return buf;
}

/* A 200: the same content, or new content to check and keep. */
static enum fetch_result
take_body(struct fetch *f, char *msg, size_t size)
{
	unsigned char digest[32];
	unsigned int dlen = 0;
	char hash[65], why[200];
	struct stat st;
	char *body = NULL;
	int rc;

	EVP_DigestFinal_ex(f->sha, digest, &dlen);
	*hex_encode(hash, digest, 32) = '\0';
	if (f->body_known && strcmp(hash, f->meta.hash) == 0) {
		snprintf(msg, size, "unchanged (%llu bytes)",
		    (unsigned long long)f->received);
		return RESULT_UNCHANGED;
	}
	/* Read back only for a check that parses it; most only count. */
	if (validate_reads_body(f->feed->validate) &&
	    (body = read_body(f)) == NULL) {
		snprintf(
		    msg, size, "reading the body back: %s", strerror(errno));
		return RESULT_LOCAL;
	}
	rc = validate_body(
	    f->feed->validate, body, f->received, why, sizeof(why));
	free(body);
	if (rc < 0) {
		snprintf(msg, size, "rejected: %s", why);
		return RESULT_INVALID;
	}
	/*
	 * The body and the meta file are replaced one after the other; the
	 * new file's identity goes into the meta file, so if we die in
	 * between, the old validators no longer match the file on disk and
	 * the next try is a plain GET, never a 304 that pins the wrong body.
	 */
	if (fstat(f->body.fd, &st) < 0) {
		snprintf(msg, size, "the new copy: %s", strerror(errno));
		return RESULT_LOCAL;
	}
	f->body_open = false;
	if ((rc = atomic_file_commit(&f->body)) < 0) {
		snprintf(msg, size, "replacing the copy: %s", strerror(-rc));
		return RESULT_LOCAL;
	}
	meta_set_body(&f->meta, hash, f->received, &st);
	snprintf(
	    msg, size, "updated (%llu bytes)", (unsigned long long)f->received);
	return RESULT_UPDATED;
}

/* What the transfer came to, before any file is touched. */
static enum fetch_result
classify(struct fetch *f, CURLcode code, long status, char *msg, size_t size)
{
	const char *detail =
	    f->errbuf[0] ? f->errbuf : curl_easy_strerror(code);
	char limit[32];

	if (f->too_large || code == CURLE_FILESIZE_EXCEEDED) {
		snprintf(msg, size, "body larger than max_size (%llu bytes)",
		    (unsigned long long)f->feed->max_size);
		return RESULT_TOO_LARGE;
	}
	if (f->write_errno != 0) {
		snprintf(msg, size, "writing the new copy: %s",
		    strerror(f->write_errno));
		return RESULT_LOCAL;
	}
	if (f->refused[0] != '\0' && (code == CURLE_COULDNT_CONNECT ||
	                                 code == CURLE_ABORTED_BY_CALLBACK)) {
		snprintf(msg, size, "%s", f->refused);
		return RESULT_REFUSED;
	}
	if (code == CURLE_OK && f->redirect_error[0] != '\0') {
		snprintf(msg, size, "%s", f->redirect_error);
		return strncmp(f->redirect_error, "timeout", 7) == 0
		           ? RESULT_TIMEOUT
		           : RESULT_REDIRECT;
	}
	switch (code) {
	case CURLE_OK:
		break;
	case CURLE_OPERATION_TIMEDOUT:
		/* In the configuration's terms, not libcurl's. */
		feed_duration_text(f->feed->timeout_ns, limit, sizeof(limit));
		if (f->stall_since_ns == 0)
			snprintf(
			    msg, size, "no answer within timeout = %s", limit);
		else
			snprintf(msg, size,
			    "transfer not complete within timeout = %s (%llu "
			    "bytes received)",
			    limit, (unsigned long long)f->received);
		return RESULT_TIMEOUT;
	case CURLE_ABORTED_BY_CALLBACK:
		if (!f->stalled) {
			snprintf(msg, size, "%s", detail);
			return RESULT_NETWORK;
		}
		feed_duration_text(
		    f->feed->stall_timeout_ns, limit, sizeof(limit));
		snprintf(msg, size,
		    "transfer stalled for %s (under %d bytes/s, "
		    "stall_timeout)",
		    limit, STALL_MIN_RATE);
		return RESULT_TIMEOUT;
	case CURLE_TOO_MANY_REDIRECTS:
		snprintf(msg, size, "more than %d redirects", MAX_REDIRECTS);
		return RESULT_REDIRECT;
	case CURLE_UNSUPPORTED_PROTOCOL:
		snprintf(msg, size,
		    "redirect to a scheme other than http or https: %.200s",
		    detail);
		return RESULT_REDIRECT;
	default:
		snprintf(msg, size, "%s", detail);
		return RESULT_NETWORK;
	}
	if (status == 200)
		return RESULT_UPDATED; /* decided by take_body */
	if (status == 304 && f->conditional) {
		snprintf(msg, size, "not modified");
		return RESULT_NOT_MODIFIED;
	}
	if (status == 429 || (status == 503 && f->retry_after[0] != '\0')) {
		snprintf(msg, size, "HTTP %ld%s%s", status,
		    f->retry_after[0] ? ", Retry-After: " : "", f->retry_after);
		return RESULT_RATE_LIMITED;
	}
	snprintf(msg, size, "HTTP %ld", status);
	return RESULT_HTTP_ERROR;
}

static void
update_validators(struct fetch *f, enum fetch_result r)
{
	/* A 200 replaces both; a 304 may refresh either. */
	if (r == RESULT_UPDATED || r == RESULT_UNCHANGED) {
		snprintf(f->meta.etag, sizeof(f->meta.etag), "%s", f->etag);
		snprintf(f->meta.last_modified, sizeof(f->meta.last_modified),
		    "%s", f->last_modified);
		snprintf(f->meta.content_type, sizeof(f->meta.content_type),
		    "%s", f->content_type);
	} else if (r == RESULT_NOT_MODIFIED) {
		if (f->etag[0] != '\0')
			snprintf(
			    f->meta.etag, sizeof(f->meta.etag), "%s", f->etag);
		if (f->last_modified[0] != '\0')
			snprintf(f->meta.last_modified,
			    sizeof(f->meta.last_modified), "%s",
			    f->last_modified);
	}
}

/* Due times are kept in whole seconds: round up, never sooner. */
static int64_t
seconds_up(uint64_t ns)
{
	return (int64_t)((ns + NSEC_PER_SEC - 1) / NSEC_PER_SEC);
}

void
fetch_finish(
    struct fetch *f, CURLcode code, int64_t now, struct fetch_outcome *out)
{
	struct feed_meta *m = &f->meta;
	const struct feed *feed = f->feed;
	long status = 0;
	enum fetch_result r;
	int64_t wait, delay;
	int rc;

	curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &status);
	r = classify(f, code, status, out->message, sizeof(out->message));
	if (r == RESULT_UPDATED)
		r = take_body(f, out->message, sizeof(out->message));

	/* The message may quote the origin (an error, a Retry-After). */
	text_strip_controls(out->message);
	m->attempted = now;
	m->last_result = r;
	m->requests[r]++;
	m->bytes += f->received;
	update_validators(f, r);
	if (fetch_result_ok(r)) {
		m->failures = 0;
		m->checked = now;
		m->retry_after = 0;
		m->last_error[0] = '\0';
		if (r == RESULT_UPDATED)
			m->fetched = now;
		delay = seconds_up(
		    due_jitter_ns(feed->interval_ns, fetch_random()));
	} else {
		m->failures++;
		snprintf(m->last_error, sizeof(m->last_error), "%.255s",
		    out->message);
		delay = seconds_up(backoff_delay_ns(m->failures,
		    feed->interval_ns, feed->max_backoff_ns, fetch_random()));
		wait = r == RESULT_RATE_LIMITED && f->retry_after[0] != '\0'
		           ? retry_after_parse(f->retry_after, now)
		           : -1;
		if (wait >= 0) {
			m->retry_after = now + wait;
			if (delay < wait)
				delay = wait;
		}
	}
	m->next_due = now + (delay > 0 ? delay : 1);
	if ((rc = meta_save_group(f->meta_path, m, feed->mode, f->group)) < 0)
		snprintf(out->message + strlen(out->message),
		    sizeof(out->message) - strlen(out->message),
		    "; saving %s: %s", f->meta_path, strerror(-rc));
	out->result = r;
	out->next_due = m->next_due;
	fetch_release(f);
}

void
fetch_abandon(struct fetch *f)
{
	fetch_release(f);
}

/* SPDX-License-Identifier: ISC */
/*
 * One server, one request. Nothing a server sends reaches the kernel
 * unless the whole answer checks out, and the seed never reaches a log.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/random.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <unistd.h>

#include "client.h"
#include "hex.h"
#include "response.h"
#include "timeutil.h"

#define CHALLENGE_BYTES 64

struct body {
	char data[RESPONSE_MAX + 1];
	size_t len;
	bool too_large;
};

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct body *b = arg;
	size_t n = size * nmemb;

	if (b->len + n > RESPONSE_MAX) {
		b->too_large = true;
		return 0;
	}
	memcpy(b->data + b->len, data, n);
	b->len += n;
	return n;
}

/*
 * The challenge only has to be unique, not secret, and this runs early
 * in boot, perhaps before the kernel RNG is ready: never block on it.
 * /dev/urandom does not block on any kernel.
 */
static int
make_challenge(unsigned char *buf, size_t len)
{
	ssize_t n = getrandom(buf, len, GRND_NONBLOCK);
	int fd;

	if (n == (ssize_t)len)
		return 0;
	if ((fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

/*
 * The first line of an error body, printable ASCII only and cut short:
 * a server's words for the log, never its bytes.
 */
static void
body_reason(const struct body *b, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < b->len && o + 1 < size && o < 80; i++) {
		char ch = b->data[i];

		if (ch == '\n' || ch == '\r')
			break;
		out[o++] = ch >= 0x20 && ch < 0x7f ? ch : '?';
	}
	out[o] = '\0';
}

/*
 * A connection closed before any HTTP answer because the server's accept
 * policy turned it away for now (entropyd's max_per_ip, its shun list,
 * a full backlog): refused, reset, or an end of stream inside the TLS
 * handshake. A certificate or protocol failure is not one.
 */
static const char *
closed_at_accept(CURLcode code, long os_errno, const char *errbuf)
{
	if (code == CURLE_COULDNT_CONNECT && os_errno == ECONNREFUSED)
		return "connection refused";
	if (code == CURLE_GOT_NOTHING || code == CURLE_RECV_ERROR ||
	    code == CURLE_SEND_ERROR)
		return "connection closed by the server";
	/* An overloaded server; but a name that does not resolve in time
	 * will not resolve on a second try within the deadline either. */
	if (code == CURLE_OPERATION_TIMEDOUT &&
	    strstr(errbuf, "Resolving") == NULL)
		return "timed out";
	if (code == CURLE_SSL_CONNECT_ERROR &&
	    (os_errno == ECONNRESET || os_errno == EPIPE ||
	        strstr(errbuf, "reset") != NULL ||
	        strstr(errbuf, "unexpected eof") != NULL ||
	        strstr(errbuf, "SSL_ERROR_SYSCALL") != NULL))
		return "connection closed during the handshake";
	return NULL;
}

int
seed_fetch(const struct seed_conf *c, const char *url, const char *token,
    uint64_t timeout_ns, unsigned char *seed, size_t len, bool *verified,
    struct seed_retry *retry, char *why, size_t why_size)
{
	unsigned char nonce[CHALLENGE_BYTES];
	char challenge[2 * CHALLENGE_BYTES + 1], form[300], auth[600];
	char errbuf[CURL_ERROR_SIZE] = "";
	bool https = strncasecmp(url, "https://", 8) == 0;
	struct curl_slist *headers = NULL;
	char reason[96];
	curl_off_t retry_after = -1;
	struct body *b;
	long status = 0, os_errno = 0;
	CURLcode code;
	CURL *e;
	int rc = -EIO;

	memset(retry, 0, sizeof(*retry));
	if (!https && !c->allow_plain_http) {
		snprintf(why, why_size,
		    "plain http is refused (set allow_plain_http = yes)");
		return -EPERM;
	}
	if (make_challenge(nonce, sizeof(nonce)) < 0) {
		snprintf(why, why_size, "no random bytes for the challenge: %s",
		    strerror(errno));
		return -EIO;
	}
	*hex_encode(challenge, nonce, sizeof(nonce)) = '\0';
	snprintf(form, sizeof(form), "challenge=%s&bytes=%zu", challenge, len);
	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (e = curl_easy_init()) == NULL) {
		free(b);
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	/* A bearer token never travels in clear text. */
	if (token != NULL && https) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
		headers = curl_slist_append(headers, auth);
		explicit_bzero(auth, sizeof(auth));
	}
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, https ? "https" : "http");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "entropy-seed/" TK_VERSION);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, form);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(
	    e, CURLOPT_TIMEOUT_MS, (long)(timeout_ns / NSEC_PER_MSEC) + 1);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(timeout_ns / NSEC_PER_MSEC) + 1);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	/* A resolver that never answers must not outlive the deadline:
	 * libcurl then leaves its resolver thread behind instead of
	 * waiting for it at cleanup. */
	curl_easy_setopt(e, CURLOPT_QUICK_EXIT, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->ca_file != NULL) {
		/* Instead of the system store: drop libcurl's default CA
		 * directory too, or it would still be trusted. */
		curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
		curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	}
	if (c->pins != NULL) {
		curl_easy_setopt(e, CURLOPT_PINNEDPUBLICKEY, c->pins);
		/* A pin without a CA: the pin is the verification (a
		 * self-signed server); curl still refuses any other key. */
		if (c->ca_file == NULL)
			curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
	}
	if (c->cert != NULL) {
		curl_easy_setopt(e, CURLOPT_SSLCERT, c->cert);
		curl_easy_setopt(e, CURLOPT_SSLKEY, c->key);
	}

	code = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &os_errno);
	curl_easy_getinfo(e, CURLINFO_RETRY_AFTER, &retry_after);
	if (b->too_large)
		snprintf(why, why_size, "answer over %d bytes", RESPONSE_MAX);
	else if (code != CURLE_OK) {
		snprintf(why, why_size, "%s",
		    errbuf[0] ? errbuf : curl_easy_strerror(code));
		if ((retry->what = closed_at_accept(code, os_errno, errbuf)) !=
		    NULL)
			retry->after_ns = 250 * NSEC_PER_MSEC;
	} else if (status != 200) {
		body_reason(b, reason, sizeof(reason));
		snprintf(why, why_size, "HTTP %ld%s%s%s%s", status,
		    reason[0] ? " (" : "", reason, reason[0] ? ")" : "",
		    status == 403 && token != NULL && !https
		        ? ": token not sent over plain http"
		        : "");
		if (status == 429 || status == 503) {
			retry->what = status == 429 ? "rate limited"
			                            : "server not ready (503)";
			retry->server_said = retry_after > 0;
			retry->after_ns =
			    retry_after > 0 && retry_after < 3600
			        ? (uint64_t)retry_after * NSEC_PER_SEC
			        : NSEC_PER_SEC;
		}
	} else if (response_check(b->data, b->len, challenge, len, seed, why,
	               why_size) == 0)
		rc = 0;
	if (rc == 0)
		*verified = https;
	explicit_bzero(b, sizeof(*b));
	free(b);
	/* libcurl's list holds its own copy of the token header. */
	for (struct curl_slist *l = headers; l != NULL; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(headers);
	curl_easy_cleanup(e);
	return rc;
}

int
seed_mix(const unsigned char *seed, size_t len, bool credit, const char **how,
    char *why, size_t why_size)
{
	/* struct rand_pool_info ends in a flexible array: room after it. */
	union {
		struct rand_pool_info info;
		unsigned char room[sizeof(struct rand_pool_info) + SEED_MAX];
	} p;
	int fd, rc = 0;

	why[0] = '\0';
	if (len > SEED_MAX) {
		snprintf(why, why_size, "seed too large");
		return -EINVAL;
	}
	if ((fd = open("/dev/urandom", O_WRONLY | O_CLOEXEC)) < 0) {
		snprintf(why, why_size, "/dev/urandom: %s", strerror(errno));
		return -errno;
	}
	p.info.entropy_count = credit ? (int)(8 * len) : 0;
	p.info.buf_size = (int)len;
	memcpy(p.info.buf, seed, len);
	if (ioctl(fd, RNDADDENTROPY, &p) == 0) {
		*how = credit ? "RNDADDENTROPY, credited"
		              : "RNDADDENTROPY, "
		                "not credited";
		/* Rekey now; ENODATA before the pool is ready is expected. */
		if (ioctl(fd, RNDRESEEDCRNG) < 0 && errno != ENODATA &&
		    errno != EPERM)
			snprintf(why, why_size, "RNDRESEEDCRNG: %s",
			    strerror(errno));
	} else if (errno == EPERM) {
		/* No CAP_SYS_ADMIN: mixed in, never credited. */
		*how = "written to /dev/urandom (no CAP_SYS_ADMIN: not "
		       "credited)";
		if (write(fd, seed, len) != (ssize_t)len) {
			snprintf(
			    why, why_size, "/dev/urandom: %s", strerror(errno));
			rc = -EIO;
		}
	} else {
		snprintf(why, why_size, "RNDADDENTROPY: %s", strerror(errno));
		rc = -errno;
	}
	explicit_bzero(&p, sizeof(p));
	close(fd);
	return rc;
}

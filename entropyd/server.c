/* SPDX-License-Identifier: ISC */
/*
 * entropyd's request handling on libmicrohttpd. The order of checks is
 * the security argument: route and method, then access (before a byte of
 * the body is read), then the request's form, then the client's rate,
 * then the kernel RNG; only then are seed bytes made, straight into the
 * response, never logged, and wiped when the response is freed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "readfile.h"
#include "seed.h"
#include "server.h"
#include "timeutil.h"

/*
 * Per connection: a request line, the headers a seed client sends (a
 * bearer token included) and a 1 KiB body fit with room to spare.
 */
#define CONNECTION_MEMORY 4096
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define LOG_TABLE 10000

static const char *const outcome_names[OUT_MAX] = {
    [OUT_SEED] = "seed",
    [OUT_BAD_REQUEST] = "bad_request",
    [OUT_FORBIDDEN] = "forbidden",
    [OUT_NOT_FOUND] = "not_found",
    [OUT_BAD_METHOD] = "bad_method",
    [OUT_TOO_LARGE] = "too_large",
    [OUT_RATE_LIMITED] = "rate_limited",
    [OUT_UNAVAILABLE] = "unavailable",
};

static const unsigned outcome_status[OUT_MAX] = {
    [OUT_SEED] = 200,
    [OUT_BAD_REQUEST] = 400,
    [OUT_FORBIDDEN] = 403,
    [OUT_NOT_FOUND] = 404,
    [OUT_BAD_METHOD] = 405,
    [OUT_TOO_LARGE] = 413,
    [OUT_RATE_LIMITED] = 429,
    [OUT_UNAVAILABLE] = 503,
};

/* A whole small regular file (a PEM, a tokens file). NULL with errno. */
static char *
read_text(const char *path, size_t max, size_t *len, struct stat *st)
{
	char *buf = NULL;
	int r = read_file_max(path, max, &buf, len, st);

	if (r == 0 && !S_ISREG(st->st_mode))
		r = -EINVAL;
	if (r < 0) {
		free(buf);
		errno = -r;
		return NULL;
	}
	return buf;
}

int
server_files_load(const struct entropyd_conf *conf, struct server_files *files,
    char *why, size_t why_size)
{
	struct stat st;
	size_t len;

	memset(files, 0, sizeof(*files));
	if ((files->key = read_text(conf->tls_key, 1 << 20, &len, &st)) ==
	    NULL) {
		snprintf(why, why_size, "tls_key %s: %s", conf->tls_key,
		    strerror(errno));
		return -errno;
	}
	/* A key others can read is a key others may have. */
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(why, why_size,
		    "tls_key %s: readable by group or others (mode %04o); "
		    "chmod 600 it",
		    conf->tls_key, (unsigned)(st.st_mode & 07777));
		server_files_free(files);
		return -EPERM;
	}
	if ((files->cert = read_text(conf->tls_cert, 1 << 20, &len, &st)) ==
	    NULL) {
		snprintf(why, why_size, "tls_cert %s: %s", conf->tls_cert,
		    strerror(errno));
		server_files_free(files);
		return -EINVAL;
	}
	if (conf->client_ca != NULL &&
	    (files->client_ca =
	            read_text(conf->client_ca, 1 << 20, &len, &st)) == NULL) {
		snprintf(why, why_size, "client_ca %s: %s", conf->client_ca,
		    strerror(errno));
		server_files_free(files);
		return -EINVAL;
	}
	return 0;
}

void
server_files_free(struct server_files *files)
{
	if (files->key != NULL)
		explicit_bzero(files->key, strlen(files->key));
	free(files->key);
	free(files->cert);
	free(files->client_ca);
	memset(files, 0, sizeof(*files));
}

int
policy_load(const struct entropyd_conf *conf, bool client_certs,
    struct policy *p, char *why, size_t why_size)
{
	char reason[128] = "out of memory";
	unsigned line = 0;
	struct stat st;
	size_t len;
	char *text;

	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < conf->allow.count; i++)
		if (acl_add(&p->allow, &conf->allow.ranges[i]) < 0) {
			snprintf(why, why_size, "out of memory");
			policy_free(p);
			return -ENOMEM;
		}
	p->allow_set = conf->allow.count > 0;
	p->client_certs = client_certs;
	if (conf->tokens_file != NULL) {
		text = read_text(conf->tokens_file, 16 << 20, &len, &st);
		if (text == NULL) {
			snprintf(why, why_size, "tokens_file %s: %s",
			    conf->tokens_file, strerror(errno));
			policy_free(p);
			return -errno;
		}
		if (tokens_parse(text, len, &p->tokens, &line, reason,
		        sizeof(reason)) < 0) {
			snprintf(why, why_size, "%s:%u: %s", conf->tokens_file,
			    line, reason);
			free(text);
			policy_free(p);
			return -EINVAL;
		}
		free(text);
		p->tokens_set = true;
	}
	return 0;
}

void
policy_free(struct policy *p)
{
	acl_free(&p->allow);
	tokens_free(&p->tokens);
	memset(p, 0, sizeof(*p));
}

int
server_init(
    struct server *s, const struct entropyd_conf *conf, struct policy *policy)
{
	memset(s, 0, sizeof(*s));
	pthread_rwlock_init(&s->policy_lock, NULL);
	pthread_mutex_init(&s->limit_lock, NULL);
	s->policy = *policy;
	memset(policy, 0, sizeof(*policy));
	s->limits = ratelimit_new(conf->clients, conf->rate_per_s, conf->burst);
	s->log_limits = ratelimit_new(LOG_TABLE, 1.0 / 60, 1);
	s->shunned = ratelimit_new(conf->clients, 1, 1);
	s->conns = ratelimit_new(conf->clients, 1, 1);
	s->max_per_client = conf->max_per_ip;
	if (s->limits == NULL || s->log_limits == NULL || s->shunned == NULL ||
	    s->conns == NULL)
		return -ENOMEM;
	return 0;
}

/* One request's state across libmicrohttpd's calls. */
struct request {
	char body[SEED_FORM_MAX + 1];
	size_t len;
	char query[SEED_FORM_MAX + 1]; /* as sent, not yet URL-decoded */
	size_t query_len;
	bool too_large;
	bool started;
	bool admitted;
	char who[160]; /* for the log: address and identity */
	uint8_t key[RL_KEY_MAX];
	uint8_t addr_key[16]; /* its address, IPv6 by /64 */
	size_t keylen;
};

/* text may live on the stack: libmicrohttpd copies it (a few bytes). */
static enum MHD_Result
respond_text(struct MHD_Connection *c, unsigned status, const char *text,
    const char *retry_after)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
	    strlen(text), (void *)(uintptr_t)text, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "text/plain");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (retry_after != NULL)
		MHD_add_response_header(r, "Retry-After", retry_after);
	if (status == 405)
		MHD_add_response_header(r, "Allow", "GET, POST");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
refuse_after(struct server *s, struct MHD_Connection *c, enum outcome o,
    const char *text, const char *retry_after)
{
	atomic_fetch_add(&s->requests[o], 1);
	return respond_text(c, outcome_status[o], text, retry_after);
}

static enum MHD_Result
refuse(struct server *s, struct MHD_Connection *c, enum outcome o,
    const char *text)
{
	return refuse_after(s, c, o, text, NULL);
}

/*
 * Logs a refusal at most once a minute per client, so that an attack
 * cannot flood the log.
 */
static void
log_refusal(struct server *s, const struct request *r, const char *what)
{
	unsigned wait;
	bool say;

	pthread_mutex_lock(&s->limit_lock);
	say = ratelimit_take(
	    s->log_limits, r->key, r->keylen, time_mono_ns(), &wait);
	pthread_mutex_unlock(&s->limit_lock);
	if (say)
		log_warnx(
		    "%s: %s (logged once a minute per client)", r->who, what);
}

/* The Common Name of a verified client certificate, or false. */
static bool
client_cert_name(struct MHD_Connection *c, char *name, size_t size)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	gnutls_session_t session;
	const gnutls_datum_t *certs;
	unsigned int status = 1, ncerts = 0;
	gnutls_x509_crt_t crt;
	size_t len = size;
	bool ok = false;

	if (ci == NULL || ci->tls_session == NULL)
		return false;
	session = ci->tls_session;
	/* Verified against client_ca, and fit for TLS client auth: a server
	 * certificate from the same CA is not a client's (a certificate
	 * without the extended key usage extension passes, as in RFC 5280). */
	gnutls_typed_vdata_st purpose = {GNUTLS_DT_KEY_PURPOSE_OID,
	    (unsigned char *)(uintptr_t)GNUTLS_KP_TLS_WWW_CLIENT, 0};
	if (gnutls_certificate_verify_peers(session, &purpose, 1, &status) <
	        0 ||
	    status != 0)
		return false;
	certs = gnutls_certificate_get_peers(session, &ncerts);
	if (certs == NULL || ncerts == 0 || gnutls_x509_crt_init(&crt) < 0)
		return false;
	if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) >= 0 &&
	    gnutls_x509_crt_get_dn_by_oid(
	        crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, name, &len) >= 0 &&
	    len > 0 && len < size)
		ok = true;
	gnutls_x509_crt_deinit(crt);
	/*
	 * The name keys the rate limit and goes into the log: only the
	 * characters a token name may have, so no log line can be forged,
	 * and all len of them (a NUL inside would cut "alice\0x" to alice).
	 */
	for (size_t i = 0; ok && i < len; i++)
		ok = token_name_char(name[i]);
	return ok;
}

/*
 * Access: every configured rule must pass (an allow list, a token, a
 * client certificate); with none configured, only loopback. Fills the
 * client's rate-limit key: its certificate name, else its token name,
 * else its address (IPv6 by /64).
 */
static bool
admit(struct server *s, struct MHD_Connection *c, struct request *r)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;
	const char *auth, *token, *name = NULL;
	char addr[64], cn[TOKEN_NAME_MAX + 1];
	bool ok = true;
	size_t len;

	if (sa == NULL)
		return false;
	addr_format(sa, addr, sizeof(addr));
	acl_client_key(sa, r->key);
	memcpy(r->addr_key, r->key, sizeof(r->addr_key));
	r->keylen = 16;
	snprintf(r->who, sizeof(r->who), "%s", addr);

	pthread_rwlock_rdlock(&s->policy_lock);
	if (policy_loopback_only(&s->policy))
		ok = addr_is_loopback(sa);
	if (ok && s->policy.allow_set)
		ok = acl_match(&s->policy.allow, sa);
	if (ok && s->policy.tokens_set) {
		auth = MHD_lookup_connection_value(
		    c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
		ok = auth != NULL && bearer_parse(auth, &token, &len) == 0 &&
		     (name = tokens_check(&s->policy.tokens, token, len)) !=
		         NULL;
		if (ok) {
			r->keylen = (size_t)snprintf(
			    (char *)r->key, sizeof(r->key), "t:%.64s", name);
			snprintf(r->who, sizeof(r->who), "%s token %.64s", addr,
			    name);
		}
	}
	if (ok && s->policy.client_certs) {
		ok = client_cert_name(c, cn, sizeof(cn));
		if (ok) {
			r->keylen = (size_t)snprintf(
			    (char *)r->key, sizeof(r->key), "c:%.64s", cn);
			snprintf(
			    r->who, sizeof(r->who), "%s cert %.64s", addr, cn);
		}
	}
	pthread_rwlock_unlock(&s->policy_lock);
	return ok;
}

struct secret {
	size_t len;
	char data[];
};

static void
free_secret(void *cls)
{
	struct secret *sec = cls;

	explicit_bzero(sec->data, sec->len);
	free(sec);
}

static enum MHD_Result
serve(struct server *s, struct MHD_Connection *c, const char *method,
    struct request *r)
{
	struct seed_request req;
	unsigned char seed[SEED_BYTES_MAX];
	char why[128], retry[16];
	struct MHD_Response *resp;
	struct secret *sec;
	uint64_t now;
	unsigned wait;
	bool allowed;
	enum MHD_Result ret;
	int n, rc;

	/* One byte of why is kept for the newline added below. */
	if (strcmp(method, MHD_HTTP_METHOD_GET) == 0)
		rc = seed_request_parse(
		    r->query, r->query_len, &req, why, sizeof(why) - 1);
	else
		rc = seed_request_parse(
		    r->body, r->len, &req, why, sizeof(why) - 1);
	if (rc < 0)
		return refuse(s, c, OUT_BAD_REQUEST, strcat(why, "\n"));

	now = time_mono_ns();
	pthread_mutex_lock(&s->limit_lock);
	allowed = ratelimit_take(s->limits, r->key, r->keylen, now, &wait);
	if (!allowed)
		ratelimit_shun(s->shunned, r->addr_key, sizeof(r->addr_key),
		    now, now + (uint64_t)wait * NSEC_PER_SEC);
	pthread_mutex_unlock(&s->limit_lock);
	if (!allowed) {
		log_refusal(s, r, "rate limited");
		snprintf(retry, sizeof(retry), "%u", wait);
		return refuse_after(
		    s, c, OUT_RATE_LIMITED, "rate limited\n", retry);
	}

	rc = seed_random(seed, req.bytes);
	if (rc < 0) {
		atomic_store(&s->rng_ready, rc != -EAGAIN);
		log_refusal(s, r,
		    rc == -EAGAIN ? "the kernel RNG is not initialized yet: "
		                    "no seed served"
		                  : "getrandom failed");
		return refuse(s, c, OUT_UNAVAILABLE, "no seed available yet\n");
	}
	atomic_store(&s->rng_ready, true);
	if ((sec = malloc(sizeof(*sec) + SEED_RESPONSE_MAX)) == NULL) {
		explicit_bzero(seed, sizeof(seed));
		return MHD_NO;
	}
	n = seed_response_format(&req, seed, sec->data, SEED_RESPONSE_MAX);
	explicit_bzero(seed, sizeof(seed));
	if (n < 0) {
		free(sec);
		return MHD_NO;
	}
	sec->len = (size_t)n;
	resp = MHD_create_response_from_buffer_with_free_callback_cls(
	    sec->len, sec->data, free_secret, sec);
	if (resp == NULL) {
		free_secret(sec);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "text/plain");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	ret = MHD_queue_response(c, 200, resp);
	MHD_destroy_response(resp);
	atomic_fetch_add(&s->requests[OUT_SEED], 1);
	atomic_fetch_add(&s->seed_bytes, req.bytes);
	return ret;
}

/*
 * Called with the request's URI as sent, before libmicrohttpd splits and
 * decodes its query. Keeping the raw query lets a GET form go through
 * the same parser as a POST body, so that a repeated field or an escaped
 * '&' is seen as the client sent it, and nothing is decoded twice. The
 * state made here becomes the request's *req_cls, freed in on_completed;
 * NULL (out of memory) makes on_request drop the connection.
 */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct request *r = calloc(1, sizeof(*r));
	const char *q = strchr(uri, '?');

	(void)cls;
	(void)c;
	if (r == NULL || q == NULL)
		return r;
	r->query_len = strlen(q + 1);
	if (r->query_len > SEED_FORM_MAX)
		r->too_large = true;
	else
		memcpy(r->query, q + 1, r->query_len + 1);
	return r;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **req_cls)
{
	struct server *s = cls;
	struct request *r = *req_cls;
	bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;

	(void)version;
	if (r == NULL)
		return MHD_NO;
	if (!r->started) {
		/* Headers are in, no body yet: route, method and access. */
		r->started = true;
		if (strcmp(url, "/") != 0)
			return refuse(s, c, OUT_NOT_FOUND, "not found\n");
		if (!post && strcmp(method, MHD_HTTP_METHOD_GET) != 0)
			return refuse(
			    s, c, OUT_BAD_METHOD, "only GET and POST\n");
		if (!admit(s, c, r)) {
			log_refusal(s, r, "access denied");
			return refuse(s, c, OUT_FORBIDDEN, "forbidden\n");
		}
		r->admitted = true;
		/*
		 * Answer on the next call, GET included: libmicrohttpd closes
		 * the connection after a response queued from this first
		 * call, which would end keep-alive for every GET.
		 */
		return MHD_YES;
	} else if (*upload_size > 0) {
		if (r->len + *upload_size > SEED_FORM_MAX)
			r->too_large = true;
		else
			memcpy(r->body + r->len, upload, *upload_size);
		if (!r->too_large)
			r->len += *upload_size;
		*upload_size = 0;
		return MHD_YES;
	}
	if (!r->admitted)
		return MHD_NO;
	if (r->too_large)
		return refuse(s, c, OUT_TOO_LARGE, "request form over 1 KiB\n");
	r->body[r->len] = '\0';
	return serve(s, c, method, r);
}

/*
 * A client that was told 429 and comes back before its Retry-After is
 * turned away at accept, before the TLS handshake: the costly part of
 * a request. So a flood from one address costs the server one handshake
 * per Retry-After, not one per connection, and allowed clients keep
 * their share of the CPU.
 */
static enum MHD_Result
on_accept(void *cls, const struct sockaddr *addr, socklen_t len)
{
	struct server *s = cls;
	uint8_t key[16];
	bool shunned;

	(void)len;
	acl_client_key(addr, key);
	pthread_mutex_lock(&s->limit_lock);
	shunned =
	    ratelimit_shunned(s->shunned, key, sizeof(key), time_mono_ns()) ||
	    ratelimit_conns_add(s->conns, key, sizeof(key), 0,
	        time_mono_ns()) >= s->max_per_client;
	pthread_mutex_unlock(&s->limit_lock);
	if (shunned)
		atomic_fetch_add(&s->shunned_connections, 1);
	return shunned ? MHD_NO : MHD_YES;
}

static void
on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	free(*req_cls);
	*req_cls = NULL;
}

/*
 * Counts open connections per client /64: libmicrohttpd's own per-IP
 * limit counts exact addresses, and an IPv6 host has a whole /64 to
 * open connections from.
 */
static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
    enum MHD_ConnectionNotificationCode code)
{
	struct server *s = cls;
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	int delta = code == MHD_CONNECTION_NOTIFY_STARTED ? 1 : -1;
	uint8_t key[16];

	(void)socket_ctx;
	atomic_fetch_add(&s->connections, delta);
	if (ci == NULL || ci->client_addr == NULL)
		return;
	acl_client_key(ci->client_addr, key);
	pthread_mutex_lock(&s->limit_lock);
	ratelimit_conns_add(s->conns, key, sizeof(key), delta, time_mono_ns());
	pthread_mutex_unlock(&s->limit_lock);
}

/* /metrics and /healthz on the admin listener. */
static enum MHD_Result
on_admin(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **req_cls)
{
	struct server *s = cls;
	struct MHD_Response *r;
	char text[4096];
	size_t len = 0;
	enum MHD_Result ret;

	(void)version;
	(void)upload;
	(void)upload_size;
	(void)req_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
		return respond_text(c, 405, "only GET\n", NULL);
	if (strcmp(url, "/healthz") == 0)
		return atomic_load(&s->rng_ready)
		           ? respond_text(c, 200, "ok\n", NULL)
		           : respond_text(
		                 c, 503, "kernel RNG not ready\n", NULL);
	if (strcmp(url, "/metrics") != 0)
		return respond_text(c, 404, "not found\n", NULL);
	len += (size_t)snprintf(text + len, sizeof(text) - len,
	    "# HELP entropyd_requests_total Requests by result.\n"
	    "# TYPE entropyd_requests_total counter\n");
	for (int o = 0; o < OUT_MAX; o++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		    "entropyd_requests_total{result=\"%s\"} %llu\n",
		    outcome_names[o],
		    (unsigned long long)atomic_load(&s->requests[o]));
	pthread_mutex_lock(&s->limit_lock);
	size_t clients = ratelimit_size(s->limits);
	uint64_t evicted = ratelimit_evictions(s->limits);
	pthread_mutex_unlock(&s->limit_lock);
	len += (size_t)snprintf(text + len, sizeof(text) - len,
	    "# HELP entropyd_seed_bytes_total Seed bytes served.\n"
	    "# TYPE entropyd_seed_bytes_total counter\n"
	    "entropyd_seed_bytes_total %llu\n"
	    "# HELP entropyd_connections Open client connections.\n"
	    "# TYPE entropyd_connections gauge\n"
	    "entropyd_connections %lld\n"
	    "# HELP entropyd_rng_ready 1 once the kernel RNG is initialized.\n"
	    "# TYPE entropyd_rng_ready gauge\n"
	    "entropyd_rng_ready %d\n"
	    "# HELP entropyd_rate_limit_clients Clients in the rate-limit "
	    "table.\n"
	    "# TYPE entropyd_rate_limit_clients gauge\n"
	    "entropyd_rate_limit_clients %zu\n"
	    "# HELP entropyd_rate_limit_evictions_total Clients evicted "
	    "from the full table.\n"
	    "# TYPE entropyd_rate_limit_evictions_total counter\n"
	    "entropyd_rate_limit_evictions_total %llu\n"
	    "# HELP entropyd_shunned_connections_total Connections refused "
	    "at accept from clients back before their Retry-After.\n"
	    "# TYPE entropyd_shunned_connections_total counter\n"
	    "entropyd_shunned_connections_total %llu\n",
	    (unsigned long long)atomic_load(&s->seed_bytes),
	    (long long)atomic_load(&s->connections),
	    atomic_load(&s->rng_ready) ? 1 : 0, clients,
	    (unsigned long long)evicted,
	    (unsigned long long)atomic_load(&s->shunned_connections));
	if (len >= sizeof(text))
		return MHD_NO;
	r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4");
	ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ret;
}

static int
bind_one(const struct sockaddr_storage *ss, socklen_t len, char *why,
    size_t why_size)
{
	char addr[64];
	int one = 1, fd;

	addr_format((const struct sockaddr *)ss, addr, sizeof(addr));
	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (ss->ss_family == AF_INET6 &&
	        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) <
	            0) ||
	    bind(fd, (const struct sockaddr *)ss, len) < 0 ||
	    listen(fd, 1024) < 0) {
		int e = errno;

		snprintf(why, why_size, "listen %s: %s", addr, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	return fd;
}

int
server_bind(
    const struct entropyd_conf *conf, int *fds, char *why, size_t why_size)
{
	const struct listen_addrs *lists[3] = {
	    &conf->listen, &conf->plain_listen, &conf->admin_listen};
	unsigned n = 0;

	for (int l = 0; l < 3; l++) {
		for (unsigned i = 0; i < lists[l]->count; i++) {
			int fd = bind_one(&lists[l]->addr[i], lists[l]->len[i],
			    why, why_size);

			if (fd < 0) {
				while (n > 0)
					close(fds[--n]);
				fds[0] = -1;
				return fd;
			}
			fds[n++] = fd;
		}
	}
	fds[n] = -1;
	return 0;
}

/*
 * The options every seed listener shares, as an MHD_OPTION_ARRAY: the
 * limits that keep one client (or a slowloris of them) from starving
 * the others.
 */
static unsigned
common_options(struct MHD_OptionItem *o, struct server *s,
    const struct entropyd_conf *conf, int fd)
{
	unsigned n = 0;

	o[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, fd, NULL};
	o[n++] = (struct MHD_OptionItem){
	    MHD_OPTION_CONNECTION_LIMIT, (intptr_t)conf->max_connections, NULL};
	o[n++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (intptr_t)conf->max_per_ip, NULL};
	o[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT,
	    (intptr_t)(conf->timeout_ns / NSEC_PER_SEC), NULL};
	o[n++] = (struct MHD_OptionItem){
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONNECTION_MEMORY, NULL};
	o[n++] = (struct MHD_OptionItem){
	    MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)conf->threads, NULL};
	o[n++] = (struct MHD_OptionItem){
	    MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, s};
	o[n++] = (struct MHD_OptionItem){
	    MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s};
	o[n++] = (struct MHD_OptionItem){
	    MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, s};
	return n;
}

static struct MHD_Daemon *
start_seed_listener(struct server *s, const struct entropyd_conf *conf,
    const struct server_files *files, int fd)
{
	struct MHD_OptionItem o[16];
	unsigned n = common_options(o, s, conf, fd);
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL;

	if (files != NULL) {
		flags |= MHD_USE_TLS;
		o[n++] = (struct MHD_OptionItem){
		    MHD_OPTION_HTTPS_MEM_KEY, 0, files->key};
		o[n++] = (struct MHD_OptionItem){
		    MHD_OPTION_HTTPS_MEM_CERT, 0, files->cert};
		o[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0,
		    (void *)(uintptr_t)TLS_PRIORITIES};
		if (files->client_ca != NULL)
			o[n++] = (struct MHD_OptionItem){
			    MHD_OPTION_HTTPS_MEM_TRUST, 0, files->client_ca};
	}
	o[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
	return MHD_start_daemon(flags, 0, on_accept, s, on_request, s,
	    MHD_OPTION_ARRAY, o, MHD_OPTION_END);
}

int
server_start(struct server *s, const struct entropyd_conf *conf,
    const struct server_files *files, const int *fds, char *why,
    size_t why_size)
{
	unsigned k = 0;
	struct MHD_Daemon *d;

	for (unsigned i = 0; i < conf->listen.count; i++, k++) {
		if ((d = start_seed_listener(s, conf, files, fds[k])) == NULL)
			goto fail;
		s->daemons[s->ndaemons++] = d;
	}
	for (unsigned i = 0; i < conf->plain_listen.count; i++, k++) {
		if ((d = start_seed_listener(s, conf, NULL, fds[k])) == NULL)
			goto fail;
		s->daemons[s->ndaemons++] = d;
	}
	for (unsigned i = 0; i < conf->admin_listen.count; i++, k++) {
		d = MHD_start_daemon(
		    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL,
		    NULL, on_admin, s, MHD_OPTION_LISTEN_SOCKET, fds[k],
		    MHD_OPTION_CONNECTION_LIMIT, 16U,
		    MHD_OPTION_CONNECTION_TIMEOUT,
		    (unsigned)(conf->timeout_ns / NSEC_PER_SEC),
		    MHD_OPTION_END);
		if (d == NULL)
			goto fail;
		s->daemons[s->ndaemons++] = d;
	}
	return 0;
fail:
	snprintf(why, why_size,
	    "libmicrohttpd would not start: a bad certificate or key?");
	server_stop(s);
	return -EINVAL;
}

void
server_reload(
    struct server *s, const struct entropyd_conf *conf, struct policy *fresh)
{
	struct policy old;

	pthread_rwlock_wrlock(&s->policy_lock);
	old = s->policy;
	s->policy = *fresh;
	pthread_rwlock_unlock(&s->policy_lock);
	memset(fresh, 0, sizeof(*fresh));
	policy_free(&old);
	pthread_mutex_lock(&s->limit_lock);
	ratelimit_configure(s->limits, conf->rate_per_s, conf->burst);
	pthread_mutex_unlock(&s->limit_lock);
}

void
server_stop(struct server *s)
{
	for (unsigned i = 0; i < s->ndaemons; i++)
		MHD_stop_daemon(s->daemons[i]);
	s->ndaemons = 0;
	ratelimit_free(s->limits);
	ratelimit_free(s->log_limits);
	ratelimit_free(s->shunned);
	ratelimit_free(s->conns);
	s->limits = s->log_limits = s->shunned = s->conns = NULL;
	policy_free(&s->policy);
}

/* SPDX-License-Identifier: ISC */
/*
 * entropyd's request handling on libmicrohttpd. The order of checks is
 * the security argument. At accept, before any TLS work: the allow list,
 * the shun list, the per-address connection limit. Then, once the
 * headers are in: route and method, then access (before a byte of the
 * body is read), then the request's form, then the client's rate, then
 * the kernel RNG; only then are seed bytes made, straight into the
 * response, never logged, and wiped when the response is freed.
 *
 * Every connection is on one list from its accept to its close; a
 * thread walks it and closes any that has not finished its request
 * within the deadline, whatever it trickles in meanwhile.
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
#include <time.h>
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
/*
 * TLS 1.3 as GnuTLS offers it; TLS 1.2 with forward secrecy and AEAD
 * only: no static RSA key exchange, no CBC, no SHA-1 anywhere.
 */
#define TLS_PRIORITIES                                                         \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-KX-ALL:+ECDHE-ECDSA:"     \
	"+ECDHE-RSA:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:" \
	"-MAC-ALL:+AEAD:-SIGN-RSA-SHA1:-SIGN-ECDSA-SHA1:-SIGN-DSA-SHA1"
#define LOG_TABLE 10000
/* Refusal lines for all clients together: a burst, then one a second. */
#define LOG_GLOBAL_BURST 30
#define LOG_GLOBAL_RATE 1.0
/* A connection younger than this is an honest handshake in progress. */
#define EVICT_AFTER_NS (NSEC_PER_SEC)
/* Repeated 403s: strikes within this long shun the address. */
#define FORBIDDEN_SHUN_NS (10 * NSEC_PER_SEC)
/* An identified client's address is not shunned for this long. */
#define VOUCH_NS (600 * NSEC_PER_SEC)
#define ADMIN_PER_ADDRESS 4
#define ADMIN_CONNECTIONS 16
#define REAPER_TICK_NS (200 * NSEC_PER_MSEC)

static const struct {
	const char *text, *label;
} refusals[REFUSE_MAX] = {
    [REFUSE_NOT_IN_ALLOW] = {"not in allow", "not_in_allow"},
    [REFUSE_NOT_LOOPBACK] =
        {"not loopback (no allow, tokens_file or client_ca is set)",
            "not_loopback"},
    [REFUSE_NO_AUTH] = {"no Authorization header", "no_authorization"},
    [REFUSE_BAD_AUTH] = {"Authorization header is not Bearer TOKEN",
        "bad_authorization"},
    [REFUSE_UNKNOWN_TOKEN] = {"unknown token", "unknown_token"},
    [REFUSE_NO_CERT] = {"no client certificate", "no_client_certificate"},
    [REFUSE_BAD_CERT] = {"certificate not from client_ca",
        "bad_client_certificate"},
    [REFUSE_RATE_LIMITED] = {"rate limited", "rate_limited"},
    [REFUSE_SHUNNED] = {"shunned at accept: repeated refusals", "shunned"},
    [REFUSE_TOO_MANY_CONNECTIONS] =
        {"max_per_ip connections open, none older than 1 s",
            "too_many_connections"},
    [REFUSE_EVICTED] =
        {"evicted: request unfinished after 1 s, max_per_ip reached",
            "evicted"},
    [REFUSE_DEADLINE] = {"timeout: handshake and request not done in time",
        "deadline"},
    [REFUSE_RNG_NOT_READY] = {"the kernel RNG is not initialized yet",
        "rng_not_ready"},
};

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

/*
 * Parses the certificate and the key each alone, so that a damaged one
 * is named by itself (and GnuTLS 3.7's pair loader, which leaks on a
 * damaged certificate, only ever sees two that parse).
 */
static int
pem_check(const struct entropyd_conf *conf, const gnutls_datum_t *cert,
    const gnutls_datum_t *key, char *why, size_t why_size)
{
	gnutls_x509_crt_t crt[8];
	gnutls_x509_privkey_t pk;
	unsigned count = 8;
	int e;

	e = gnutls_x509_crt_list_import(crt, &count, cert, GNUTLS_X509_FMT_PEM,
	    GNUTLS_X509_CRT_LIST_IMPORT_FAIL_IF_EXCEED);
	if (e < 0) {
		snprintf(why, why_size, "tls_cert %s: %s", conf->tls_cert,
		    gnutls_strerror(e));
		return -EINVAL;
	}
	for (int i = 0; i < e; i++)
		gnutls_x509_crt_deinit(crt[i]);
	if (gnutls_x509_privkey_init(&pk) < 0) {
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	e = gnutls_x509_privkey_import(pk, key, GNUTLS_X509_FMT_PEM);
	gnutls_x509_privkey_deinit(pk);
	if (e < 0) {
		snprintf(why, why_size, "tls_key %s: %s", conf->tls_key,
		    gnutls_strerror(e));
		return -EINVAL;
	}
	return 0;
}

/*
 * Loads the PEM texts into GnuTLS credentials as libmicrohttpd will, so
 * that a bad pair is found by --check-config and at start, named, rather
 * than by libmicrohttpd refusing to start without saying why.
 */
static int
files_check(const struct entropyd_conf *conf, const struct server_files *files,
    char *why, size_t why_size)
{
	gnutls_certificate_credentials_t cred;
	gnutls_datum_t cert = {
	    (unsigned char *)files->cert, (unsigned)strlen(files->cert)};
	gnutls_datum_t key = {
	    (unsigned char *)files->key, (unsigned)strlen(files->key)};
	int rc = 0, n;

	if (gnutls_certificate_allocate_credentials(&cred) < 0) {
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	rc = pem_check(conf, &cert, &key, why, why_size);
	if (rc == 0) {
		n = gnutls_certificate_set_x509_key_mem2(
		    cred, &cert, &key, GNUTLS_X509_FMT_PEM, NULL, 0);
		if (n == GNUTLS_E_CERTIFICATE_KEY_MISMATCH)
			snprintf(why, why_size,
			    "tls_key %s is not the key of tls_cert %s (they "
			    "do not match)",
			    conf->tls_key, conf->tls_cert);
		else if (n < 0)
			snprintf(why, why_size, "tls_cert %s, tls_key %s: %s",
			    conf->tls_cert, conf->tls_key, gnutls_strerror(n));
		if (n < 0)
			rc = -EINVAL;
	}
	if (rc == 0 && files->client_ca != NULL) {
		gnutls_datum_t ca = {(unsigned char *)files->client_ca,
		    (unsigned)strlen(files->client_ca)};

		n = gnutls_certificate_set_x509_trust_mem(
		    cred, &ca, GNUTLS_X509_FMT_PEM);
		if (n <= 0) {
			snprintf(why, why_size, "client_ca %s: %s",
			    conf->client_ca,
			    n < 0 ? gnutls_strerror(n)
			          : "no PEM certificate in it");
			rc = -EINVAL;
		}
	}
	gnutls_certificate_free_credentials(cred);
	return rc;
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
	if (files_check(conf, files, why, why_size) < 0) {
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
	pthread_mutex_init(&s->conn_lock, NULL);
	pthread_mutex_init(&s->stop_lock, NULL);
	pthread_cond_init(&s->stop_cond, NULL);
	s->policy = *policy;
	memset(policy, 0, sizeof(*policy));
	s->limits = ratelimit_new(conf->clients, conf->rate_per_s, conf->burst);
	s->log_limits = ratelimit_new(LOG_TABLE, 1.0 / 60, 1);
	s->log_global = ratelimit_new(1, LOG_GLOBAL_RATE, LOG_GLOBAL_BURST);
	s->shunned = ratelimit_new(conf->clients, 1, 1);
	s->max_per_client = conf->max_per_ip;
	s->ipv6_prefix = conf->ipv6_prefix;
	s->deadline_ns = conf->timeout_ns;
	if (s->limits == NULL || s->log_limits == NULL ||
	    s->log_global == NULL || s->shunned == NULL)
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
	bool identified; /* by token or certificate: key is not the address */
	bool plain; /* on a plain_listen listener */
	char who[160]; /* for the log: address and identity */
	uint8_t key[RL_KEY_MAX];
	uint8_t addr_key[16]; /* its address, IPv6 cut to ipv6_prefix */
	size_t keylen;
};

/* The connection c is on, or NULL. */
static struct conn *
conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci != NULL ? ci->socket_context : NULL;
}

/* An answer restarts the deadline: keep-alive serves the next request. */
static void
conn_answered(struct MHD_Connection *c)
{
	struct conn *k = conn_of(c);

	if (k != NULL)
		atomic_store(&k->since_ns, time_mono_ns());
}

/* "1234567" as "1,234,567". */
static void
format_thousands(uint64_t n, char *buf, size_t size)
{
	char digits[24];
	int len =
	    snprintf(digits, sizeof(digits), "%llu", (unsigned long long)n);
	size_t o = 0;

	for (int i = 0; i < len && o + 2 < size; i++) {
		if (i > 0 && (len - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
}

/* Whether a line about key may be logged now (once a minute per key). */
static bool
log_once_a_minute(struct server *s, const void *key, size_t keylen)
{
	unsigned wait;
	bool say;

	pthread_mutex_lock(&s->limit_lock);
	say = ratelimit_take(s->log_limits, key, keylen, time_mono_ns(), &wait);
	pthread_mutex_unlock(&s->limit_lock);
	return say;
}

/*
 * Counts a refusal and logs it: every one under -v; otherwise once a
 * minute per client (key) and reason, and no more than LOG_GLOBAL_BURST lines
 * then one a second for all clients together, the rest counted and summed up
 * once a minute by the reaper. So no flood, from one address or from
 * many, can flood the log.
 */
static void
note_refusal(struct server *s, enum refusal why, const void *key, size_t keylen,
    const char *who, const char *detail)
{
	uint8_t log_key[RL_KEY_MAX];
	unsigned wait;
	bool say = false;

	atomic_fetch_add(&s->refusals[why], 1);
	if (log_get_level() >= LOG_LEVEL_DEBUG) {
		log_debug("%s: refused: %s%s", who, refusals[why].text, detail);
		return;
	}
	/* Once a minute per client and reason: a new reason is news. */
	if (keylen > RL_KEY_MAX - 1)
		keylen = RL_KEY_MAX - 1;
	memcpy(log_key, key, keylen);
	log_key[keylen] = (uint8_t)why;
	pthread_mutex_lock(&s->limit_lock);
	if (ratelimit_take(
	        s->log_limits, log_key, keylen + 1, time_mono_ns(), &wait)) {
		say =
		    ratelimit_take(s->log_global, "", 0, time_mono_ns(), &wait);
		if (!say)
			atomic_fetch_add(&s->log_suppressed, 1);
	}
	pthread_mutex_unlock(&s->limit_lock);
	if (say)
		log_warnx("%s: refused: %s%s (logged once a minute per client "
		          "and reason)",
		    who, refusals[why].text, detail);
}

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
	conn_answered(c);
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
 * The Common Name of a verified client certificate into name: -1 if
 * there is one, else why not (no certificate, or not one of client_ca's
 * fit for a TLS client with a usable name).
 */
static int
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
		return REFUSE_NO_CERT;
	session = ci->tls_session;
	if (gnutls_certificate_get_peers(session, &ncerts) == NULL ||
	    ncerts == 0)
		return REFUSE_NO_CERT;
	/* Verified against client_ca, and fit for TLS client auth: a server
	 * certificate from the same CA is not a client's (a certificate
	 * without the extended key usage extension passes, as in RFC 5280). */
	gnutls_typed_vdata_st purpose = {GNUTLS_DT_KEY_PURPOSE_OID,
	    (unsigned char *)(uintptr_t)GNUTLS_KP_TLS_WWW_CLIENT, 0};
	if (gnutls_certificate_verify_peers(session, &purpose, 1, &status) <
	        0 ||
	    status != 0)
		return REFUSE_BAD_CERT;
	certs = gnutls_certificate_get_peers(session, &ncerts);
	if (certs == NULL || ncerts == 0 || gnutls_x509_crt_init(&crt) < 0)
		return REFUSE_BAD_CERT;
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
	return ok ? -1 : REFUSE_BAD_CERT;
}

/* The hint for a loopback client outside allow: a local test's mistake. */
#define LOOPBACK_HINT " (for a local test, add 127.0.0.0/8 and ::1 to allow)"

/*
 * The address rules, the only ones on_accept can check (before TLS):
 * -1 if sa passes them, else the reason. The caller holds policy_lock.
 */
static int
address_refusal(const struct policy *p, const struct sockaddr *sa)
{
	if (policy_loopback_only(p) && !addr_is_loopback(sa))
		return REFUSE_NOT_LOOPBACK;
	if (p->allow_set && !acl_match(&p->allow, sa))
		return REFUSE_NOT_IN_ALLOW;
	return -1;
}

/*
 * Access: every configured rule must pass (an allow list, a token, a
 * client certificate); with none configured, only loopback. Fills the
 * client's rate-limit key: its certificate name, else its token name,
 * else its address (IPv6 cut to ipv6_prefix). Returns -1 if admitted,
 * else the reason; *detail may get a hint for the log.
 */
static int
admit(struct server *s, struct MHD_Connection *c, struct request *r,
    const char **detail)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;
	const char *auth, *token, *name = NULL;
	char addr[64], cn[TOKEN_NAME_MAX + 1], note[80];
	bool newline = false;
	int why;
	size_t len;

	*detail = "";
	if (sa == NULL)
		return REFUSE_NOT_IN_ALLOW;
	addr_format(sa, addr, sizeof(addr));
	acl_client_key(sa, s->ipv6_prefix, r->key);
	memcpy(r->addr_key, r->key, sizeof(r->addr_key));
	r->keylen = 16;
	snprintf(r->who, sizeof(r->who), "%s", addr);

	pthread_rwlock_rdlock(&s->policy_lock);
	why = address_refusal(&s->policy, sa);
	if (why < 0 && s->policy.tokens_set) {
		auth = MHD_lookup_connection_value(
		    c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
		if (auth == NULL)
			why = REFUSE_NO_AUTH;
		else if (bearer_parse(auth, &token, &len) < 0)
			why = REFUSE_BAD_AUTH;
		else if ((name = tokens_check(&s->policy.tokens, token, len)) ==
		         NULL) {
			name =
			    tokens_check_newline(&s->policy.tokens, token, len);
			newline = name != NULL;
			if (name == NULL)
				why = REFUSE_UNKNOWN_TOKEN;
		}
		if (why < 0) {
			r->keylen = (size_t)snprintf(
			    (char *)r->key, sizeof(r->key), "t:%.64s", name);
			snprintf(r->who, sizeof(r->who), "%s token %.64s", addr,
			    name);
			snprintf(note, sizeof(note), "n:%.64s", name);
			r->identified = true;
		}
	}
	if (why < 0 && s->policy.client_certs) {
		why = client_cert_name(c, cn, sizeof(cn));
		if (why < 0) {
			r->keylen = (size_t)snprintf(
			    (char *)r->key, sizeof(r->key), "c:%.64s", cn);
			snprintf(
			    r->who, sizeof(r->who), "%s cert %.64s", addr, cn);
			r->identified = true;
		}
	}
	pthread_rwlock_unlock(&s->policy_lock);
	if (newline && log_once_a_minute(s, note, strlen(note)))
		log_warnx("tokens_file: the entry of %s is the SHA-256 of its "
		          "token and a newline (echo | sha256sum): accepted; "
		          "make it again with  entropyd token add",
		    note + 2);
	if (why == REFUSE_NOT_IN_ALLOW && addr_is_loopback(sa))
		*detail = LOOPBACK_HINT;
	if (why == REFUSE_NO_AUTH && r->plain)
		*detail = " (a plain http client sends no token: token not "
		          "sent over plain http)";
	return why;
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
	/* Only an anonymous client's own 429s can close its address at
	 * accept: a token or certificate is limited by its name alone, and
	 * its address vouched for, so no neighbour can shut it out. */
	if (!allowed && !r->identified)
		ratelimit_shun(s->shunned, r->addr_key, sizeof(r->addr_key),
		    now, now + (uint64_t)wait * NSEC_PER_SEC);
	if (r->identified)
		ratelimit_vouch(s->shunned, r->addr_key, sizeof(r->addr_key),
		    now, now + VOUCH_NS);
	pthread_mutex_unlock(&s->limit_lock);
	if (!allowed) {
		note_refusal(
		    s, REFUSE_RATE_LIMITED, r->key, r->keylen, r->who, "");
		snprintf(retry, sizeof(retry), "%u", wait);
		return refuse_after(
		    s, c, OUT_RATE_LIMITED, "rate limited\n", retry);
	}

	rc = seed_random(seed, req.bytes);
	if (rc < 0) {
		atomic_store(&s->rng_ready, rc != -EAGAIN);
		note_refusal(s, REFUSE_RNG_NOT_READY, r->key, r->keylen, r->who,
		    rc == -EAGAIN ? "" : ": getrandom failed");
		return refuse_after(
		    s, c, OUT_UNAVAILABLE, "no seed available yet\n", "1");
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
	conn_answered(c);
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

/*
 * A 403 with its reason. Repeated ones from one address shun it at
 * accept like repeated 429s, unless an identified client was served
 * from there lately (then the flood costs handshakes, not a neighbour).
 */
static enum MHD_Result
forbid(struct server *s, struct MHD_Connection *c, struct request *r, int why,
    const char *detail)
{
	char text[160];
	uint64_t now = time_mono_ns();

	pthread_mutex_lock(&s->limit_lock);
	ratelimit_shun(s->shunned, r->addr_key, sizeof(r->addr_key), now,
	    now + FORBIDDEN_SHUN_NS);
	pthread_mutex_unlock(&s->limit_lock);
	note_refusal(s, (enum refusal)why, r->addr_key, sizeof(r->addr_key),
	    r->who, detail);
	snprintf(text, sizeof(text), "forbidden: %s%s\n", refusals[why].text,
	    why == REFUSE_NO_AUTH && r->plain
	        ? " (token not sent over plain http?)"
	        : "");
	return refuse(s, c, OUT_FORBIDDEN, text);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **req_cls)
{
	struct server *s = cls;
	struct request *r = *req_cls;
	bool post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
	const char *detail;
	int why;

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
		r->plain = MHD_get_connection_info(
		               c, MHD_CONNECTION_INFO_GNUTLS_SESSION) == NULL;
		if ((why = admit(s, c, r, &detail)) >= 0)
			return forbid(s, c, r, why, detail);
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
 * Makes room for one more connection from key on the seed (or admin)
 * listeners: true if fewer than max are open, or if the oldest of them
 * has gone over EVICT_AFTER_NS without finishing a request, which is
 * then shut down. An honest handshake and request take milliseconds, so
 * a boot storm's own connections are never evicted, and a slowloris
 * behind the same NAT as an honest client cannot lock it out.
 * shutdown(2) here is safe against fd reuse: libmicrohttpd tells
 * on_connection of a close (which takes conn_lock) before it closes.
 */
static bool
make_room(struct server *s, const uint8_t key[16], bool admin, unsigned max,
    char *evicted, size_t evicted_size)
{
	uint64_t now = time_mono_ns(), oldest = UINT64_MAX;
	struct conn *victim = NULL;
	unsigned n = 0;

	evicted[0] = '\0';
	pthread_mutex_lock(&s->conn_lock);
	for (struct conn *k = s->conns; k != NULL; k = k->next) {
		uint64_t since = atomic_load(&k->since_ns);

		if (k->closing || k->admin != admin ||
		    memcmp(k->key, key, 16) != 0)
			continue;
		n++;
		if (since <= oldest) {
			oldest = since;
			victim = k;
		}
	}
	if (n >= max && victim != NULL && oldest < now &&
	    now - oldest >= EVICT_AFTER_NS) {
		shutdown(victim->fd, SHUT_RDWR);
		victim->closing = true;
		snprintf(evicted, evicted_size, "%s", victim->addr);
		n--;
	}
	pthread_mutex_unlock(&s->conn_lock);
	return n < max;
}

/*
 * The accept policy of the seed listeners, run before libmicrohttpd
 * makes a TLS session: the costly part of a request. A stranger (outside
 * allow) costs an accept and a close; a client shunned for repeated
 * refusals costs the same until its wait is over, so a flood costs one
 * handshake per Retry-After, not one per connection; and no address
 * holds more than max_per_ip connections.
 */
static enum MHD_Result
on_accept(void *cls, const struct sockaddr *addr, socklen_t len)
{
	struct server *s = cls;
	char who[64], evicted[64];
	uint8_t key[16];
	int why;

	(void)len;
	acl_client_key(addr, s->ipv6_prefix, key);
	pthread_rwlock_rdlock(&s->policy_lock);
	why = address_refusal(&s->policy, addr);
	pthread_rwlock_unlock(&s->policy_lock);
	if (why < 0) {
		pthread_mutex_lock(&s->limit_lock);
		if (ratelimit_shunned(
		        s->shunned, key, sizeof(key), time_mono_ns()))
			why = REFUSE_SHUNNED;
		pthread_mutex_unlock(&s->limit_lock);
	}
	if (why < 0 && !make_room(s, key, false, s->max_per_client, evicted,
	                   sizeof(evicted)))
		why = REFUSE_TOO_MANY_CONNECTIONS;
	addr_format(addr, who, sizeof(who));
	if (why < 0 && evicted[0] != '\0')
		note_refusal(s, REFUSE_EVICTED, key, sizeof(key), evicted,
		    " (to make room for a new connection)");
	if (why < 0)
		return MHD_YES;
	note_refusal(s, (enum refusal)why, key, sizeof(key), who,
	    why == REFUSE_NOT_IN_ALLOW && addr_is_loopback(addr)
	        ? LOOPBACK_HINT
	        : " (closed at accept)");
	return MHD_NO;
}

/* The admin listener: no access rules, but a per-address limit. */
static enum MHD_Result
on_admin_accept(void *cls, const struct sockaddr *addr, socklen_t len)
{
	struct server *s = cls;
	char who[64], evicted[64];
	uint8_t key[16];

	(void)len;
	acl_client_key(addr, s->ipv6_prefix, key);
	if (make_room(
	        s, key, true, ADMIN_PER_ADDRESS, evicted, sizeof(evicted)))
		return MHD_YES;
	addr_format(addr, who, sizeof(who));
	note_refusal(s, REFUSE_TOO_MANY_CONNECTIONS, key, sizeof(key), who,
	    " (admin listener)");
	return MHD_NO;
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
 * Puts each connection on the server's list when it opens (before its
 * TLS handshake) and takes it off when it closes. Out of memory, a
 * connection is left off the list: its deadline is then libmicrohttpd's
 * idle timeout only.
 */
static void
track_connection(struct server *s, struct MHD_Connection *c, void **socket_ctx,
    enum MHD_ConnectionNotificationCode code, bool admin)
{
	const union MHD_ConnectionInfo *ci;
	struct conn *k = *socket_ctx;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (k == NULL)
			return;
		if (!k->admin)
			atomic_fetch_add(&s->connections, -1);
		pthread_mutex_lock(&s->conn_lock);
		if (k->prev != NULL)
			k->prev->next = k->next;
		else
			s->conns = k->next;
		if (k->next != NULL)
			k->next->prev = k->prev;
		pthread_mutex_unlock(&s->conn_lock);
		free(k);
		*socket_ctx = NULL;
		return;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL)
		return;
	k->admin = admin;
	atomic_store(&k->since_ns, time_mono_ns());
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	k->fd = ci != NULL ? ci->connect_fd : -1;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci != NULL && ci->client_addr != NULL) {
		acl_client_key(ci->client_addr, s->ipv6_prefix, k->key);
		addr_format(ci->client_addr, k->addr, sizeof(k->addr));
	}
	if (k->fd < 0) {
		free(k);
		return;
	}
	if (!admin)
		atomic_fetch_add(&s->connections, 1);
	pthread_mutex_lock(&s->conn_lock);
	k->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = k;
	s->conns = k;
	pthread_mutex_unlock(&s->conn_lock);
	*socket_ctx = k;
}

static void
on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
    enum MHD_ConnectionNotificationCode code)
{
	track_connection(cls, c, socket_ctx, code, false);
}

static void
on_admin_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
    enum MHD_ConnectionNotificationCode code)
{
	track_connection(cls, c, socket_ctx, code, true);
}

/*
 * The deadline: every connection (seed or admin) that has not finished
 * a request within timeout of opening (or of its last answer) is shut
 * down, whatever it trickled in meanwhile; libmicrohttpd's own timeout
 * restarts with every byte. Once a minute, says how many refusals the
 * global log limit kept out of the log.
 */
static void *
reaper(void *arg)
{
	struct server *s = arg;
	uint64_t last_summary = time_mono_ns();
	struct timespec until;
	char who[64], n[32];
	uint8_t key[16];
	bool stop = false;

	while (!stop) {
		uint64_t now = time_mono_ns();
		bool found;

		do {
			found = false;
			pthread_mutex_lock(&s->conn_lock);
			for (struct conn *k = s->conns; k != NULL;
			     k = k->next) {
				uint64_t since = atomic_load(&k->since_ns);

				/* since may be after now: answered since. */
				if (k->closing || since >= now ||
				    now - since < s->deadline_ns)
					continue;
				shutdown(k->fd, SHUT_RDWR);
				k->closing = true;
				memcpy(key, k->key, sizeof(key));
				snprintf(who, sizeof(who), "%s", k->addr);
				found = true;
				break;
			}
			pthread_mutex_unlock(&s->conn_lock);
			if (found)
				note_refusal(s, REFUSE_DEADLINE, key,
				    sizeof(key), who, "");
		} while (found);
		if (now - last_summary >= 60 * NSEC_PER_SEC) {
			uint64_t suppressed =
			    atomic_exchange(&s->log_suppressed, 0);

			last_summary = now;
			if (suppressed > 0) {
				format_thousands(suppressed, n, sizeof(n));
				log_warnx("suppressed %s refusals in the last "
				          "minute",
				    n);
			}
		}
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += REAPER_TICK_NS;
		if (until.tv_nsec >= (long)NSEC_PER_SEC) {
			until.tv_sec++;
			until.tv_nsec -= (long)NSEC_PER_SEC;
		}
		pthread_mutex_lock(&s->stop_lock);
		if (!s->stopping)
			pthread_cond_timedwait(
			    &s->stop_cond, &s->stop_lock, &until);
		stop = s->stopping;
		pthread_mutex_unlock(&s->stop_lock);
	}
	return NULL;
}

/* /metrics and /healthz on the admin listener. */
static enum MHD_Result
on_admin(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **req_cls)
{
	struct server *s = cls;
	struct MHD_Response *r;
	char text[8192];
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
	    (unsigned long long)atomic_load(&s->refusals[REFUSE_SHUNNED]));
	if (len < sizeof(text))
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		    "# HELP entropyd_refusals_total Clients refused, by "
		    "reason.\n"
		    "# TYPE entropyd_refusals_total counter\n");
	for (int w = 0; w < REFUSE_MAX && len < sizeof(text); w++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		    "entropyd_refusals_total{reason=\"%s\"} %llu\n",
		    refusals[w].label,
		    (unsigned long long)atomic_load(&s->refusals[w]));
	if (len >= sizeof(text))
		return MHD_NO;
	conn_answered(c);
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
 * libmicrohttpd's own idle timeout: five seconds past the reaper's
 * absolute deadline (rounded up), so that the reaper closes, counts and
 * logs every late connection, even on a loaded machine, and
 * libmicrohttpd closes only one the reaper does not know (left off its
 * list, out of memory). Equal, libmicrohttpd won the race for a quiet
 * connection and closed it without a word.
 */
static unsigned
backstop_timeout_s(const struct entropyd_conf *conf)
{
	return (unsigned)((conf->timeout_ns + NSEC_PER_SEC - 1) /
	                  NSEC_PER_SEC) +
	       1;
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
	/* max_per_ip is on_accept's: by ipv6_prefix, with eviction. */
	o[n++] = (struct MHD_OptionItem){
	    MHD_OPTION_CONNECTION_TIMEOUT, backstop_timeout_s(conf), NULL};
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
		    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0,
		    on_admin_accept, s, on_admin, s, MHD_OPTION_LISTEN_SOCKET,
		    fds[k], MHD_OPTION_CONNECTION_LIMIT, ADMIN_CONNECTIONS,
		    MHD_OPTION_CONNECTION_TIMEOUT, backstop_timeout_s(conf),
		    MHD_OPTION_NOTIFY_CONNECTION, on_admin_connection, s,
		    MHD_OPTION_END);
		if (d == NULL)
			goto fail;
		s->daemons[s->ndaemons++] = d;
	}
	if (pthread_create(&s->reaper, NULL, reaper, s) != 0) {
		snprintf(why, why_size, "cannot start a thread");
		server_stop(s);
		return -EAGAIN;
	}
	s->reaper_started = true;
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
	if (s->reaper_started) {
		pthread_mutex_lock(&s->stop_lock);
		s->stopping = true;
		pthread_cond_signal(&s->stop_cond);
		pthread_mutex_unlock(&s->stop_lock);
		pthread_join(s->reaper, NULL);
		s->reaper_started = false;
	}
	for (unsigned i = 0; i < s->ndaemons; i++)
		MHD_stop_daemon(s->daemons[i]);
	s->ndaemons = 0;
	ratelimit_free(s->limits);
	ratelimit_free(s->log_limits);
	ratelimit_free(s->log_global);
	ratelimit_free(s->shunned);
	s->limits = s->log_limits = s->log_global = s->shunned = NULL;
	policy_free(&s->policy);
}

static size_t
describe_list(const struct listen_addrs *l, const char *kind, char *buf,
    size_t size, size_t len)
{
	char addr[64];

	for (unsigned i = 0; i < l->count && len < size; i++) {
		addr_format(
		    (const struct sockaddr *)&l->addr[i], addr, sizeof(addr));
		len += (size_t)snprintf(buf + len, size - len, "%s%s (%s)",
		    len > 0 ? ", " : "", addr, kind);
	}
	return len;
}

void
server_describe(const struct entropyd_conf *conf, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	len = describe_list(&conf->listen, "seeds over TLS", buf, size, len);
	len = describe_list(
	    &conf->plain_listen, "seeds over plain HTTP", buf, size, len);
	describe_list(
	    &conf->admin_listen, "admin: /metrics, /healthz", buf, size, len);
}

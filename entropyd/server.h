/* SPDX-License-Identifier: ISC */
/*
 * The HTTP(S) side of entropyd: libmicrohttpd daemons on sockets bound
 * beforehand, the request handler (access, rate limit, seed), and the
 * admin listener's /metrics and /healthz.
 */
#ifndef ENTROPYD_SERVER_H
#define ENTROPYD_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "acl.h"
#include "conf.h"
#include "ratelimit.h"
#include "tokens.h"

enum outcome {
	OUT_SEED, /* 200 */
	OUT_BAD_REQUEST, /* 400 */
	OUT_FORBIDDEN, /* 403 */
	OUT_NOT_FOUND, /* 404 */
	OUT_BAD_METHOD, /* 405 */
	OUT_TOO_LARGE, /* 413 */
	OUT_RATE_LIMITED, /* 429 */
	OUT_UNAVAILABLE, /* 503: the kernel RNG is not ready */
	OUT_MAX
};

/*
 * Why a client was turned away: each is counted in /metrics and logged
 * with its text (once a minute per client; every one under -v).
 */
enum refusal {
	REFUSE_NOT_IN_ALLOW, /* at accept, before any TLS */
	REFUSE_NOT_LOOPBACK, /* no access rule: loopback only */
	REFUSE_NO_AUTH,
	REFUSE_BAD_AUTH,
	REFUSE_UNKNOWN_TOKEN,
	REFUSE_NO_CERT,
	REFUSE_BAD_CERT,
	REFUSE_RATE_LIMITED,
	REFUSE_SHUNNED, /* at accept: back too soon after refusals */
	REFUSE_TOO_MANY_CONNECTIONS, /* at accept: max_per_ip, none evictable */
	REFUSE_EVICTED, /* slow connection closed to make room */
	REFUSE_DEADLINE, /* handshake plus request took over timeout */
	REFUSE_RNG_NOT_READY,
	REFUSE_MAX
};

/* One open connection, the socket context libmicrohttpd keeps for us. */
struct conn {
	struct conn *prev, *next;
	int fd;
	bool admin;
	bool closing; /* shut down by us: evicted or past its deadline */
	uint8_t key[16]; /* its address, IPv6 cut to ipv6_prefix */
	_Atomic uint64_t since_ns; /* opened, or last answered */
	char addr[64];
};
/* What SIGHUP can change, swapped whole under policy_lock. */
struct policy {
	struct acl allow;
	bool allow_set;
	struct tokens tokens;
	bool tokens_set;
	bool client_certs; /* the listener asks for client certificates */
};

/* No access rule at all: loopback clients only. */
static inline bool
policy_loopback_only(const struct policy *p)
{
	return !p->allow_set && !p->tokens_set && !p->client_certs;
}

struct server {
	pthread_rwlock_t policy_lock;
	struct policy policy;
	pthread_mutex_t limit_lock;
	struct ratelimit *limits; /* seeds per client */
	struct ratelimit *log_limits; /* log lines per client */
	struct ratelimit *shunned; /* addresses told to wait */
	struct ratelimit *log_global; /* log lines, all clients */
	unsigned max_per_client; /* max_per_ip, by ipv6_prefix */
	unsigned ipv6_prefix;
	uint64_t deadline_ns; /* timeout: handshake plus request */
	pthread_mutex_t conn_lock;
	struct conn *conns; /* every open connection, newest first */
	pthread_t reaper;
	bool reaper_started;
	pthread_mutex_t stop_lock;
	pthread_cond_t stop_cond;
	bool stopping;
	atomic_uint_fast64_t refusals[REFUSE_MAX];
	atomic_uint_fast64_t log_suppressed;
	atomic_uint_fast64_t requests[OUT_MAX];
	atomic_uint_fast64_t seed_bytes;
	atomic_int_fast64_t connections;
	atomic_bool rng_ready;
	struct MHD_Daemon *daemons[3 * LISTEN_MAX];
	unsigned ndaemons;
};

/* The files a configuration names, read while still privileged. */
struct server_files {
	char *cert, *key, *client_ca; /* PEM text, owned */
};

/*
 * Reads the certificate, key (refused if group or others may read it)
 * and client CA named by conf, and loads them as the server will: a key
 * that is not the certificate's, or a client CA with no certificate, is
 * an error naming the files. Returns 0, or -errno with a reason.
 */
int server_files_load(const struct entropyd_conf *conf,
    struct server_files *files, char *why, size_t why_size);
void server_files_free(struct server_files *files);

/*
 * Builds the policy of conf (reading its tokens file); client_certs says
 * whether the running listener asks for certificates (client_ca is read
 * at start only). Returns 0 or -errno with a reason in why naming the
 * file and line.
 */
int policy_load(const struct entropyd_conf *conf, bool client_certs,
    struct policy *p, char *why, size_t why_size);
void policy_free(struct policy *p);

/* Sets up s (no listener yet). Returns 0 or -ENOMEM. */
int server_init(
    struct server *s, const struct entropyd_conf *conf, struct policy *policy);

/*
 * Binds every listen, plain_listen and admin_listen address of conf.
 * Returns 0 or -errno with the address in why. fds gets -1-terminated.
 */
int server_bind(
    const struct entropyd_conf *conf, int *fds, char *why, size_t why_size);

/*
 * Starts the daemons on the bound fds, and the thread that enforces the
 * connection deadline. Returns 0 or -errno with why.
 */
int server_start(struct server *s, const struct entropyd_conf *conf,
    const struct server_files *files, const int *fds, char *why,
    size_t why_size);

/* SIGHUP: new access rules and rate settings, no connection dropped. */
void server_reload(
    struct server *s, const struct entropyd_conf *conf, struct policy *fresh);

void server_stop(struct server *s);

/*
 * "127.0.0.1:42443 (seeds over TLS), 127.0.0.1:9423 (admin)": every
 * listener of conf and its kind, for the start-up line.
 */
void server_describe(const struct entropyd_conf *conf, char *buf, size_t size);

#endif

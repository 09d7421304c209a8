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
	struct ratelimit *conns; /* open connections per /64 */
	unsigned max_per_client; /* max_per_ip, counted per /64 */
	atomic_uint_fast64_t requests[OUT_MAX];
	atomic_uint_fast64_t seed_bytes;
	atomic_uint_fast64_t shunned_connections;
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
 * and client CA named by conf. Returns 0, or -errno with a reason.
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

/* Starts the daemons on the bound fds. Returns 0 or -errno with why. */
int server_start(struct server *s, const struct entropyd_conf *conf,
    const struct server_files *files, const int *fds, char *why,
    size_t why_size);

/* SIGHUP: new access rules and rate settings, no connection dropped. */
void server_reload(
    struct server *s, const struct entropyd_conf *conf, struct policy *fresh);

void server_stop(struct server *s);

#endif

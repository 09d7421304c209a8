/* SPDX-License-Identifier: ISC */
/*
 * entropyd configuration: the [entropyd] section of /etc/entropyd.conf.
 */
#ifndef ENTROPYD_CONF_H
#define ENTROPYD_CONF_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "acl.h"
#include "config.h"

#define LISTEN_MAX 16

struct listen_addrs {
	struct sockaddr_storage addr[LISTEN_MAX];
	socklen_t len[LISTEN_MAX];
	unsigned count;
};

struct entropyd_conf {
	char path[512];
	struct listen_addrs listen; /* HTTPS */
	struct listen_addrs plain_listen; /* plain HTTP, off by default */
	struct listen_addrs admin_listen; /* /metrics, /healthz */
	char *tls_cert, *tls_key;
	char *client_ca; /* NULL: no client certificates */
	char *tokens_file; /* NULL: no tokens */
	struct acl allow;
	double rate_per_s;
	uint32_t burst;
	char *user;
	uint32_t max_connections;
	uint32_t max_per_ip;
	uint64_t timeout_ns; /* absolute: handshake plus request */
	uint32_t ipv6_prefix; /* IPv6 clients grouped by this prefix */
	uint32_t clients; /* rate-limit table size */
	uint32_t threads; /* per seed listener */
};

/*
 * Loads the configuration. Returns 0, -errno if the file cannot be read,
 * or -EINVAL with err naming file, line and key. On failure *conf holds
 * nothing to free.
 */
int entropyd_conf_load(
    const char *path, struct entropyd_conf *conf, struct conf_error *err);
int entropyd_conf_load_buf(const char *name, const char *buf, size_t len,
    struct entropyd_conf *conf, struct conf_error *err);
void entropyd_conf_free(struct entropyd_conf *conf);

/* Formats an address as "127.0.0.1:42443" or "[::1]:42443". */
void addr_format(const struct sockaddr *sa, char *buf, size_t size);

#endif

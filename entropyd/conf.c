/* SPDX-License-Identifier: ISC */
/*
 * entropyd configuration, through lib/config. Lists are comma-separated.
 * Defaults are safe (loopback only, TLS only) and sized for a fleet: a
 * group of 100 instances sharing one token or one address boots seeded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "parse.h"
#include "ratelimit.h"
#include "timeutil.h"

void
addr_format(const struct sockaddr *sa, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in4 = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &in4->sin_addr, host, sizeof(host));
		snprintf(buf, size, "%s:%u", host, ntohs(in4->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
		    (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(buf, size, "[%s]:%u", host, ntohs(in6->sin6_port));
	} else {
		snprintf(buf, size, "?");
	}
}

static int
add_listen(void *field, const char *item, char *why, size_t why_size)
{
	struct listen_addrs *l = field;

	if (l->count == LISTEN_MAX) {
		snprintf(why, why_size, "more than %d addresses", LISTEN_MAX);
		return -EINVAL;
	}
	if (parse_sockaddr(item, &l->addr[l->count], &l->len[l->count]) < 0) {
		snprintf(why, why_size, "not ADDRESS:PORT or [IPv6]:PORT");
		return -EINVAL;
	}
	l->count++;
	return 0;
}

static int
parse_listen(void *field, const char *value, char *why, size_t why_size)
{
	return conf_each_item(value, add_listen, field, why, why_size);
}

static int
add_cidr(void *field, const char *item, char *why, size_t why_size)
{
	struct cidr c;
	int rc = cidr_parse(item, &c);

	if (rc == -ERANGE) {
		snprintf(why, why_size, "the prefix length is more than %d",
		    strchr(item, ':') != NULL ? 128 : 32);
		return -EINVAL;
	}
	if (rc == -EDOM) {
		snprintf(why, why_size,
		    "host bits are set below the prefix length; write the "
		    "network address (10.0.0.0/8, not 10.0.0.1/8)");
		return -EINVAL;
	}
	if (rc < 0) {
		snprintf(why, why_size,
		    "not an address or a CIDR range (10.0.0.0/8, fd00::/8)");
		return -EINVAL;
	}
	if (acl_add(field, &c) < 0) {
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

static int
parse_allow(void *field, const char *value, char *why, size_t why_size)
{
	return conf_each_item(value, add_cidr, field, why, why_size);
}

static int
parse_rate(void *field, const char *value, char *why, size_t why_size)
{
	if (rate_parse(value, field) < 0) {
		snprintf(why, why_size, "not a rate like 6/min, 1/s, 100/h");
		return -EINVAL;
	}
	return 0;
}

static const struct conf_key keys[] = {
    CONF_KEY_CUSTOM(
        "listen", struct entropyd_conf, listen, parse_listen, false),
    CONF_KEY_CUSTOM("plain_listen", struct entropyd_conf, plain_listen,
        parse_listen, false),
    CONF_KEY_CUSTOM("admin_listen", struct entropyd_conf, admin_listen,
        parse_listen, false),
    CONF_KEY("tls_cert", CONF_STRING, struct entropyd_conf, tls_cert),
    CONF_KEY("tls_key", CONF_STRING, struct entropyd_conf, tls_key),
    CONF_KEY("client_ca", CONF_STRING, struct entropyd_conf, client_ca),
    CONF_KEY("tokens_file", CONF_STRING, struct entropyd_conf, tokens_file),
    CONF_KEY_CUSTOM("allow", struct entropyd_conf, allow, parse_allow, false),
    CONF_KEY_CUSTOM(
        "rate", struct entropyd_conf, rate_per_s, parse_rate, false),
    CONF_KEY_RANGE("burst", CONF_U32, struct entropyd_conf, burst, 1, 1000),
    CONF_KEY("user", CONF_STRING, struct entropyd_conf, user),
    CONF_KEY_RANGE("max_connections", CONF_U32, struct entropyd_conf,
        max_connections, 1, 1000000),
    CONF_KEY_RANGE(
        "max_per_ip", CONF_U32, struct entropyd_conf, max_per_ip, 1, 100000),
    CONF_KEY_RANGE("timeout", CONF_DURATION, struct entropyd_conf, timeout_ns,
        NSEC_PER_SEC, 3600 * NSEC_PER_SEC),
    CONF_KEY_RANGE(
        "ipv6_prefix", CONF_U32, struct entropyd_conf, ipv6_prefix, 32, 128),
    CONF_KEY_RANGE(
        "clients", CONF_U32, struct entropyd_conf, clients, 16, 100000000),
    CONF_KEY_RANGE("threads", CONF_U32, struct entropyd_conf, threads, 1, 64),
    CONF_KEY_END,
};

static const struct conf_section sections[] = {
    {"entropyd", false, keys, NULL},
    {NULL, false, NULL, NULL},
};

static void
conf_start(void *c, const char *name)
{
	struct entropyd_conf *conf = c;

	memset(conf, 0, sizeof(*conf));
	snprintf(conf->path, sizeof(conf->path), "%s", name);
	/* A group booting together shares one token or one address: 100
	 * at once, then 10 a second, is one autoscaling group's boot. */
	conf->rate_per_s = 10;
	conf->burst = 100;
	conf->max_connections = 1024;
	conf->max_per_ip = 32;
	conf->timeout_ns = 5 * NSEC_PER_SEC;
	conf->ipv6_prefix = 128;
	conf->clients = 100000;
	conf->threads = 1;
}

/* Defaults that need the file's values, and checks across keys. */
static int
conf_finish(void *c, struct conf_error *err)
{
	struct entropyd_conf *conf = c;
	struct sockaddr_storage ss;
	socklen_t len;

	if (conf->listen.count == 0) {
		/* Loopback only: a network listener is always a decision. */
		parse_sockaddr("127.0.0.1:42443", &ss, &len);
		conf->listen.addr[0] = ss;
		conf->listen.len[0] = len;
		parse_sockaddr("[::1]:42443", &ss, &len);
		conf->listen.addr[1] = ss;
		conf->listen.len[1] = len;
		conf->listen.count = 2;
	}
	if (conf->tls_cert == NULL || conf->tls_key == NULL) {
		conf_error_set(err, conf->path, 0,
		    conf->tls_cert ? "tls_key" : "tls_cert",
		    "required: entropyd serves seeds over TLS only (see "
		    "entropyd.conf(5) for making a key and certificate).");
		return -EINVAL;
	}
	if (conf->user == NULL && (conf->user = strdup("entropyd")) == NULL) {
		conf_error_set(err, conf->path, 0, "", "out of memory.");
		return -ENOMEM;
	}
	return 0;
}

static void
conf_release(void *c)
{
	entropyd_conf_free(c);
}

static const struct conf_loader loader = {
    sections, conf_start, conf_finish, conf_release};

int
entropyd_conf_load(
    const char *path, struct entropyd_conf *conf, struct conf_error *err)
{
	return conf_load(&loader, path, NULL, 0, conf, err);
}

int
entropyd_conf_load_buf(const char *name, const char *buf, size_t len,
    struct entropyd_conf *conf, struct conf_error *err)
{
	return conf_load(&loader, name, buf, len, conf, err);
}

void
entropyd_conf_free(struct entropyd_conf *conf)
{
	free(conf->tls_cert);
	free(conf->tls_key);
	free(conf->client_ca);
	free(conf->tokens_file);
	free(conf->user);
	acl_free(&conf->allow);
	memset(conf, 0, sizeof(*conf));
}

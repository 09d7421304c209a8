/* SPDX-License-Identifier: ISC */
/*
 * entropyd configuration, through lib/config. Lists are comma-separated.
 * Defaults are safe (loopback only, TLS only) and sized for a fleet: a
 * group of 100 instances sharing one token or one address boots seeded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
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

/*
 * Whether a and b cannot both be bound: one family, one port, and the
 * same address or a wildcard (IPv6 listeners are IPV6_V6ONLY, so the
 * two families never meet).
 */
static bool
addr_clash(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a,
		                         *y = (const void *)b;

		return x->sin_port == y->sin_port &&
		       (x->sin_addr.s_addr == y->sin_addr.s_addr ||
		           x->sin_addr.s_addr == htonl(INADDR_ANY) ||
		           y->sin_addr.s_addr == htonl(INADDR_ANY));
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;

	return x->sin6_port == y->sin6_port &&
	       (IN6_ARE_ADDR_EQUAL(&x->sin6_addr, &y->sin6_addr) ||
	           IN6_IS_ADDR_UNSPECIFIED(&x->sin6_addr) ||
	           IN6_IS_ADDR_UNSPECIFIED(&y->sin6_addr));
}

/*
 * Every listener must be bindable beside the others: a clash is found
 * here, by --check-config, not when the daemon starts.
 */
static int
check_listeners(const struct entropyd_conf *conf, struct conf_error *err)
{
	const struct {
		const char *key;
		const struct listen_addrs *l;
	} lists[] = {{"listen", &conf->listen},
	    {"plain_listen", &conf->plain_listen},
	    {"admin_listen", &conf->admin_listen}};
	struct {
		const char *key;
		const struct sockaddr_storage *ss;
	} all[3 * LISTEN_MAX];
	size_t n = 0;
	char a[64], b[64];

	for (size_t i = 0; i < 3; i++)
		for (unsigned j = 0; j < lists[i].l->count; j++) {
			all[n].key = lists[i].key;
			all[n++].ss = &lists[i].l->addr[j];
		}
	for (size_t i = 1; i < n; i++) {
		for (size_t k = 0; k < i; k++) {
			if (!addr_clash(all[i].ss, all[k].ss))
				continue;
			addr_format((const void *)all[i].ss, a, sizeof(a));
			addr_format((const void *)all[k].ss, b, sizeof(b));
			if (strcmp(a, b) != 0)
				conf_error_set(err, conf->path, 0, all[i].key,
				    "%s overlaps %s in %s; each address can "
				    "be bound once.",
				    a, b, all[k].key);
			else if (all[i].key == all[k].key)
				conf_error_set(err, conf->path, 0, all[i].key,
				    "%s is given twice; each address can be "
				    "bound once.",
				    a);
			else
				conf_error_set(err, conf->path, 0, all[i].key,
				    "%s is also in %s; each address can be "
				    "bound once.",
				    a, all[k].key);
			return -EINVAL;
		}
	}
	return 0;
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
	if (check_listeners(conf, err) < 0)
		return -EINVAL;
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

/* SPDX-License-Identifier: ISC */
/*
 * entropy-seed configuration: the [entropy-seed] section.
 */
#ifndef ENTROPY_SEED_CONF_H
#define ENTROPY_SEED_CONF_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

#define SERVERS_MAX 16

struct seed_conf {
	char path[512];
	char *servers[SERVERS_MAX]; /* in order of preference */
	unsigned nservers;
	char *ca_file; /* trusted instead of the system store */
	char *pins; /* "sha256//B64;sha256//B64" for libcurl */
	char *token_file;
	char *cert, *key; /* TLS client authentication */
	uint64_t timeout_ns; /* per server */
	uint64_t deadline_ns; /* for the whole run */
	int allow_plain_http;
	uint32_t bytes;
};

/*
 * Loads path; a missing file is fine when missing_ok (servers may come
 * from --server). Returns 0 or -errno, with err filled.
 */
int seed_conf_load(const char *path, bool missing_ok, struct seed_conf *c,
    struct conf_error *err);

/* Adds a server URL (--server). Returns 0, -EINVAL (scheme) or -ENOSPC. */
int seed_conf_add_server(
    struct seed_conf *c, const char *url, char *why, size_t why_size);

void seed_conf_free(struct seed_conf *c);

#endif

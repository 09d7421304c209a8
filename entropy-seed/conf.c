/* SPDX-License-Identifier: ISC */
/*
 * entropy-seed configuration through lib/config. Lists are
 * comma-separated.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "timeutil.h"

static bool
url_ok(const char *url)
{
	if (strncasecmp(url, "https://", 8) != 0 &&
	    strncasecmp(url, "http://", 7) != 0)
		return false;
	for (const char *p = url; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return false;
	return true;
}

int
seed_conf_add_server(
    struct seed_conf *c, const char *url, char *why, size_t why_size)
{
	if (!url_ok(url)) {
		snprintf(why, why_size, "not an https:// (or http://) URL");
		return -EINVAL;
	}
	if (c->nservers == SERVERS_MAX) {
		snprintf(why, why_size, "more than %d servers", SERVERS_MAX);
		return -ENOSPC;
	}
	if ((c->servers[c->nservers] = strdup(url)) == NULL) {
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	c->nservers++;
	return 0;
}

static int
add_server(void *ctx, const char *item, char *why, size_t why_size)
{
	return seed_conf_add_server(ctx, item, why, why_size);
}

/* Its key has offset 0, so field is the whole struct seed_conf. */
static int
parse_servers(void *field, const char *value, char *why, size_t why_size)
{
	return conf_each_item(value, add_server, field, why, why_size);
}

/* A base64 SHA-256 is 44 characters ending in '='. */
static int
add_pin(void *ctx, const char *item, char *why, size_t why_size)
{
	char **pins = ctx, *joined;
	size_t n = strlen(item), old = *pins ? strlen(*pins) : 0;

	if (strncmp(item, "sha256//", 8) == 0) {
		item += 8;
		n -= 8;
	}
	if (n != 44 || item[43] != '=' ||
	    strspn(item, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                 "0123456789+/") != 43) {
		snprintf(why, why_size,
		    "not a base64 SHA-256 of a public key (sha256//...=)");
		return -EINVAL;
	}
	if ((joined = realloc(*pins, old + 1 + 8 + n + 1)) == NULL) {
		snprintf(why, why_size, "out of memory");
		return -ENOMEM;
	}
	snprintf(
	    joined + old, 1 + 8 + n + 1, "%ssha256//%s", old ? ";" : "", item);
	*pins = joined;
	return 0;
}

static int
parse_pins(void *field, const char *value, char *why, size_t why_size)
{
	return conf_each_item(value, add_pin, field, why, why_size);
}

static const struct conf_key keys[] = {
    {"servers", CONF_CUSTOM, 0, 0, 0, false, false, parse_servers, false, NULL},
    CONF_KEY("ca_file", CONF_STRING, struct seed_conf, ca_file),
    CONF_KEY_CUSTOM("pin_sha256", struct seed_conf, pins, parse_pins, false),
    CONF_KEY("token_file", CONF_STRING, struct seed_conf, token_file),
    CONF_KEY("cert", CONF_STRING, struct seed_conf, cert),
    CONF_KEY("key", CONF_STRING, struct seed_conf, key),
    CONF_KEY_RANGE("timeout", CONF_DURATION, struct seed_conf, timeout_ns,
        NSEC_PER_SEC / 10, 600 * NSEC_PER_SEC),
    CONF_KEY_RANGE("deadline", CONF_DURATION, struct seed_conf, deadline_ns,
        NSEC_PER_SEC / 10, 3600 * NSEC_PER_SEC),
    CONF_KEY("allow_plain_http", CONF_BOOL, struct seed_conf, allow_plain_http),
    CONF_KEY_RANGE("bytes", CONF_U32, struct seed_conf, bytes, 16, 1024),
    CONF_KEY_END,
};

static const struct conf_section sections[] = {
    {"entropy-seed", false, keys, NULL},
    {NULL, false, NULL, NULL},
};

static void
conf_start(void *conf, const char *name)
{
	struct seed_conf *c = conf;

	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "%s", name);
	c->timeout_ns = 3 * NSEC_PER_SEC;
	c->deadline_ns = 10 * NSEC_PER_SEC;
	c->bytes = 64;
}

static int
conf_finish(void *conf, struct conf_error *err)
{
	struct seed_conf *c = conf;

	if ((c->cert == NULL) != (c->key == NULL)) {
		conf_error_set(err, c->path, 0, c->cert ? "key" : "cert",
		    "cert and key go together: set both, or neither.");
		return -EINVAL;
	}
	return 0;
}

static void
conf_release(void *c)
{
	seed_conf_free(c);
}

static const struct conf_loader loader = {
    sections, conf_start, conf_finish, conf_release};

int
seed_conf_load(const char *path, bool missing_ok, struct seed_conf *c,
    struct conf_error *err)
{
	int rc = conf_load(&loader, path, NULL, 0, c, err);

	if (rc == -ENOENT && missing_ok) {
		conf_start(c, path); /* no file: the defaults */
		return 0;
	}
	return rc;
}

void
seed_conf_free(struct seed_conf *c)
{
	for (unsigned i = 0; i < c->nservers; i++)
		free(c->servers[i]);
	free(c->ca_file);
	free(c->pins);
	free(c->token_file);
	free(c->cert);
	free(c->key);
	memset(c, 0, sizeof(*c));
}

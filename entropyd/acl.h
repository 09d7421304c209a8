/* SPDX-License-Identifier: ISC */
/*
 * Address access lists: CIDR ranges, IPv4 and IPv6.
 */
#ifndef ENTROPYD_ACL_H
#define ENTROPYD_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct cidr {
	uint8_t addr[16]; /* IPv4 as ::ffff:a.b.c.d */
	unsigned prefix; /* 0..128, IPv4 prefixes + 96 */
};

struct acl {
	struct cidr *ranges;
	size_t count, cap;
};

/*
 * Parses "10.0.0.0/8", "fd00::/8", "192.0.2.7" (a /32) or "::1" (a /128).
 * Host bits set below the prefix are an error ("10.0.0.1/8"), so a typo
 * cannot silently widen a range. Pure. Returns 0; -EINVAL when the text
 * is not ADDRESS or ADDRESS/LENGTH; -ERANGE when LENGTH is more than 32
 * (IPv4) or 128 (IPv6); -EDOM when host bits are set. *out is touched
 * only on success.
 */
int cidr_parse(const char *text, struct cidr *out);

/* Adds a range; returns 0 or -ENOMEM. */
int acl_add(struct acl *acl, const struct cidr *c);
void acl_free(struct acl *acl);

/* Is the address (AF_INET or AF_INET6, v4-mapped v6 too) in a range? */
bool acl_match(const struct acl *acl, const struct sockaddr *sa);

/*
 * The rate-limit key of an address: IPv4 as is, IPv6 cut to its first
 * ipv6_prefix bits (the ipv6_prefix setting: 128 where every instance
 * has its own address, 64 where a host has a whole /64 to pick
 * addresses from). 16 bytes.
 */
void acl_client_key(
    const struct sockaddr *sa, unsigned ipv6_prefix, uint8_t key[16]);

/* Is the address loopback (127.0.0.0/8, ::1, v4-mapped 127/8)? */
bool addr_is_loopback(const struct sockaddr *sa);

#endif

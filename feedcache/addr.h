/* SPDX-License-Identifier: ISC */
/*
 * Where a fetch may connect: the class of an IP address, and the rule
 * that judges a connection by the address it actually reached (never by
 * the text of the URL, which DNS, redirects and numeric spellings such as
 * http://2852039166/ can all disguise).
 */
#ifndef FEEDCACHE_ADDR_H
#define FEEDCACHE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

enum addr_class {
	ADDR_UNKNOWN, /* not yet seen (a feed's origin class only) */
	ADDR_PUBLIC,
	ADDR_LOOPBACK, /* 127/8, ::1 */
	ADDR_PRIVATE, /* 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7 */
	ADDR_LINK_LOCAL, /* 169.254/16, fe80::/10: cloud metadata lives here */
	ADDR_NEVER, /* unspecified, multicast, broadcast, reserved: 0/8,
	               240/4, ::, ff00::/8 */
	ADDR_CLASS_MAX
};

/*
 * The class of sa (AF_INET or AF_INET6; any other family is ADDR_NEVER).
 * IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) addresses
 * are judged by the IPv4 address they carry. Pure.
 */
enum addr_class addr_classify(const struct sockaddr *sa, size_t len);

/* The same for a numeric address in text ("10.0.0.1", "::1"); ADDR_NEVER
 * when text is not one. */
enum addr_class addr_classify_text(const char *text);

/* "public", "loopback", "private", "link-local", "unspecified or
 * multicast", "unknown". */
const char *addr_class_name(enum addr_class c);

/* The class named name (as addr_class_name, for the meta file), or
 * ADDR_UNKNOWN. */
enum addr_class addr_class_parse(const char *name);

/*
 * May a feed whose origin is of class home (ADDR_UNKNOWN: not yet known)
 * connect to an address of class c? Public addresses always; never the
 * ADDR_NEVER ones; the others when allow_private, or when c is home's
 * own class. Pure.
 */
bool addr_allowed(enum addr_class c, enum addr_class home, bool allow_private);

#endif

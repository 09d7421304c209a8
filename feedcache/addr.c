/* SPDX-License-Identifier: ISC */
/*
 * Address classes for the connection check (see addr.h). Only tables and
 * bit tests: it runs for every connection and must cost nothing.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "addr.h"

static const char *const class_names[ADDR_CLASS_MAX] = {
    [ADDR_UNKNOWN] = "unknown",
    [ADDR_PUBLIC] = "public",
    [ADDR_LOOPBACK] = "loopback",
    [ADDR_PRIVATE] = "private",
    [ADDR_LINK_LOCAL] = "link-local",
    [ADDR_NEVER] = "unspecified, multicast or reserved",
};

const char *
addr_class_name(enum addr_class c)
{
	return c < ADDR_CLASS_MAX ? class_names[c] : "unknown";
}

enum addr_class
addr_class_parse(const char *name)
{
	for (int c = ADDR_PUBLIC; c < ADDR_NEVER; c++)
		if (strcmp(name, class_names[c]) == 0)
			return (enum addr_class)c;
	return ADDR_UNKNOWN;
}

/* a is in host byte order. */
static enum addr_class
classify_v4(uint32_t a)
{
	if ((a >> 24) == 0 || (a >> 28) >= 14) /* 0/8; 224/4 and 240/4 */
		return ADDR_NEVER;
	if ((a >> 24) == 127)
		return ADDR_LOOPBACK;
	if ((a >> 24) == 10 || (a >> 20) == 0xac1 || /* 172.16/12 */
	    (a >> 16) == 0xc0a8 || /* 192.168/16 */
	    (a >> 22) == (100u << 2 | 1)) /* 100.64/10 */
		return ADDR_PRIVATE;
	if ((a >> 16) == 0xa9fe) /* 169.254/16 */
		return ADDR_LINK_LOCAL;
	return ADDR_PUBLIC;
}

static uint32_t
v4_at(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static enum addr_class
classify_v6(const unsigned char *b)
{
	static const unsigned char mapped[12] = {
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
	static const unsigned char zero[15];

	if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
		return classify_v4(v4_at(b + 12));
	if (memcmp(b, zero, 15) == 0) /* :: and ::1 */
		return b[15] == 1 ? ADDR_LOOPBACK : ADDR_NEVER;
	if (memcmp(b, zero, 12) == 0) /* ::a.b.c.d, deprecated */
		return ADDR_NEVER;
	if (b[0] == 0xff) /* multicast */
		return ADDR_NEVER;
	if ((b[0] & 0xfe) == 0xfc) /* fc00::/7 */
		return ADDR_PRIVATE;
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) /* fe80::/10 */
		return ADDR_LINK_LOCAL;
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) /* fec0::/10, site-local */
		return ADDR_PRIVATE;
	return ADDR_PUBLIC;
}

enum addr_class
addr_classify(const struct sockaddr *sa, size_t len)
{
	if (sa == NULL)
		return ADDR_NEVER;
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		return classify_v4(ntohl(in->sin_addr.s_addr));
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 =
		    (const struct sockaddr_in6 *)sa;

		return classify_v6(in6->sin6_addr.s6_addr);
	}
	return ADDR_NEVER;
}

enum addr_class
addr_classify_text(const char *text)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, text, &a4) == 1)
		return classify_v4(ntohl(a4.s_addr));
	if (inet_pton(AF_INET6, text, &a6) == 1)
		return classify_v6(a6.s6_addr);
	return ADDR_NEVER;
}

bool
addr_allowed(enum addr_class c, enum addr_class home, bool allow_private)
{
	if (c == ADDR_PUBLIC)
		return true;
	if (c == ADDR_NEVER || c == ADDR_UNKNOWN)
		return false;
	return allow_private || c == home;
}

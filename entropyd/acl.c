/* SPDX-License-Identifier: ISC */
/* acl.c: CIDR ranges and the addresses they admit, IPv4 held v4-mapped. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "parse.h"

/* Longest text worth looking at: an IPv6 address, '/', three digits. */
#define CIDR_TEXT_MAX (INET6_ADDRSTRLEN + 4)

static const uint8_t v4_mapped_prefix[12] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/*
 * Do a and b agree on their first bits bits? Both are 16-byte addresses
 * in network order.
 */
static bool
prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;
	uint8_t mask;

	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (uint8_t)(0xff << (8 - rest));
	return ((a[whole] ^ b[whole]) & mask) == 0;
}

/* Are all bits of addr from bit prefix on zero? */
static bool
host_bits_clear(const uint8_t *addr, unsigned prefix)
{
	unsigned i = prefix / 8;

	if (prefix % 8 != 0) {
		if ((addr[i] & (0xff >> (prefix % 8))) != 0)
			return false;
		i++;
	}
	for (; i < 16; i++)
		if (addr[i] != 0)
			return false;
	return true;
}

/*
 * Copies the address of sa into out as 16 bytes, IPv4 as ::ffff:a.b.c.d.
 * Returns false for any other family.
 */
static bool
sockaddr_to_v6(const struct sockaddr *sa, uint8_t out[16])
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	if (sa == NULL)
		return false;
	switch (sa->sa_family) {
	case AF_INET:
		sin = (const struct sockaddr_in *)sa;
		memcpy(out, v4_mapped_prefix, 12);
		memcpy(out + 12, &sin->sin_addr, 4);
		return true;
	case AF_INET6:
		sin6 = (const struct sockaddr_in6 *)sa;
		memcpy(out, &sin6->sin6_addr, 16);
		return true;
	default:
		return false;
	}
}

int
cidr_parse(const char *text, struct cidr *out)
{
	char buf[CIDR_TEXT_MAX + 1];
	struct cidr c;
	const char *slash;
	size_t addr_len;
	uint32_t prefix;
	unsigned max;
	int rc;

	if (text == NULL || strnlen(text, sizeof(buf)) >= sizeof(buf))
		return -EINVAL;
	slash = strchr(text, '/');
	addr_len = slash != NULL ? (size_t)(slash - text) : strlen(text);
	memcpy(buf, text, addr_len);
	buf[addr_len] = '\0';

	memset(&c, 0, sizeof(c));
	if (inet_pton(AF_INET, buf, c.addr + 12) == 1) {
		memcpy(c.addr, v4_mapped_prefix, 12);
		max = 32;
	} else if (inet_pton(AF_INET6, buf, c.addr) == 1)
		max = 128;
	else
		return -EINVAL;

	if (slash == NULL)
		prefix = max;
	else if ((rc = parse_u32(slash + 1, 0, max, &prefix)) < 0)
		return rc; /* -ERANGE: a length past max */
	c.prefix = max == 32 ? prefix + 96 : prefix;

	/* "10.0.0.1/8" is a typo more often than a wish for 10/8. */
	if (!host_bits_clear(c.addr, c.prefix))
		return -EDOM;
	*out = c;
	return 0;
}

int
acl_add(struct acl *acl, const struct cidr *c)
{
	struct cidr *grown;
	size_t cap;

	if (acl->count == acl->cap) {
		cap = acl->cap == 0 ? 8 : acl->cap * 2;
		grown = reallocarray(acl->ranges, cap, sizeof(*grown));
		if (grown == NULL)
			return -ENOMEM;
		acl->ranges = grown;
		acl->cap = cap;
	}
	acl->ranges[acl->count++] = *c;
	return 0;
}

void
acl_free(struct acl *acl)
{
	if (acl == NULL)
		return;
	free(acl->ranges);
	acl->ranges = NULL;
	acl->count = acl->cap = 0;
}

bool
acl_match(const struct acl *acl, const struct sockaddr *sa)
{
	uint8_t addr[16];
	size_t i;

	if (acl == NULL || !sockaddr_to_v6(sa, addr))
		return false;
	for (i = 0; i < acl->count; i++)
		if (prefix_equal(
		        addr, acl->ranges[i].addr, acl->ranges[i].prefix))
			return true;
	return false;
}

/*
 * An IPv6 host is handed a whole /64 and may use any address in it, so
 * keying on the full address would give one host 2^64 buckets. IPv4 and
 * v4-mapped addresses are keyed whole. Unknown families key to zeros.
 */
void
acl_client_key(const struct sockaddr *sa, unsigned ipv6_prefix, uint8_t key[16])
{
	uint8_t addr[16];
	unsigned whole, bits;

	memset(key, 0, 16);
	if (!sockaddr_to_v6(sa, addr))
		return;
	if (memcmp(addr, v4_mapped_prefix, 12) == 0) {
		memcpy(key, addr, 16);
		return;
	}
	if (ipv6_prefix > 128)
		ipv6_prefix = 128;
	whole = ipv6_prefix / 8;
	bits = ipv6_prefix % 8;
	memcpy(key, addr, whole);
	if (bits != 0)
		key[whole] = (uint8_t)(addr[whole] & (0xff00 >> bits));
}

bool
addr_is_loopback(const struct sockaddr *sa)
{
	static const uint8_t v6_loopback[16] = {[15] = 1};
	uint8_t addr[16];

	if (!sockaddr_to_v6(sa, addr))
		return false;
	if (memcmp(addr, v6_loopback, 16) == 0)
		return true;
	return memcmp(addr, v4_mapped_prefix, 12) == 0 && addr[12] == 127;
}

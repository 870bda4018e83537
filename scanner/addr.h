/*
 * addr.h - IPv4/IPv6 addresses as the scanner keeps them.
 *
 * An address is 16 bytes plus a family; IPv4 sits in the first 4 bytes and
 * the rest stays zero, so two addresses compare with memcmp.
 */
#ifndef LEAKSCAN_ADDR_H
#define LEAKSCAN_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ADDR_STRLEN 46  /* INET6_ADDRSTRLEN */

struct ipaddr {
    uint8_t family;     /* 4 or 6 */
    uint8_t b[16];
};

/* Writes the text form of a into buf (at least ADDR_STRLEN bytes). */
void addr_format(const struct ipaddr *a, char *buf, size_t len);

/* memcmp-style order: IPv4 before IPv6, then by bytes. */
int addr_cmp(const struct ipaddr *a, const struct ipaddr *b);

/* a and b are the same address.  Inline and branch-light: flow lookups and
 * the secrets memo ask it for every packet or value. */
static inline bool addr_equal(const struct ipaddr *a, const struct ipaddr *b)
{
    uint64_t x[2], y[2];
    memcpy(x, a->b, sizeof x);
    memcpy(y, b->b, sizeof y);
    return a->family == b->family && ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
}

#endif

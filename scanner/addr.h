/*
 * addr.h - IPv4/IPv6 addresses as the scanner keeps them.
 *
 * An address is 16 bytes plus a family; IPv4 sits in the first 4 bytes and
 * the rest stays zero, so two addresses compare with memcmp.
 */
#ifndef LEAKSCAN_ADDR_H
#define LEAKSCAN_ADDR_H

#include <stddef.h>
#include <stdint.h>

#define ADDR_STRLEN 46  /* INET6_ADDRSTRLEN */

struct ipaddr {
    uint8_t family;     /* 4 or 6 */
    uint8_t b[16];
};

/* Writes the text form of a into buf (at least ADDR_STRLEN bytes). */
void addr_format(const struct ipaddr *a, char *buf, size_t len);

/* memcmp-style order: IPv4 before IPv6, then by bytes. */
int addr_cmp(const struct ipaddr *a, const struct ipaddr *b);

#endif

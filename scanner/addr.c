/*
 * addr.c - text form and ordering of addresses (see addr.h).
 */
#include "addr.h"

#include <arpa/inet.h>
#include <string.h>

void addr_format(const struct ipaddr *a, char *buf, size_t len)
{
    int af = a->family == 6 ? AF_INET6 : AF_INET;
    if (inet_ntop(af, a->b, buf, (socklen_t)len) == NULL && len > 0)
        buf[0] = '\0';
}

int addr_cmp(const struct ipaddr *a, const struct ipaddr *b)
{
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    return memcmp(a->b, b->b, sizeof a->b);
}

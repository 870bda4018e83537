/*
 * flow.c - the flow table (see flow.h).
 *
 * A chained hash table of 2 * FLOW_MAX buckets on the unordered 5-tuple,
 * so both directions find the same flow, and three idle lists (TCP open,
 * TCP closed, UDP), each ordered by last activity: the head of each is the
 * next to time out, so sweeping costs nothing while nothing expires.
 */
#include "flow.h"

#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "stats.h"

#define FLOW_BUCKETS (2u * FLOW_MAX)
#define NS 1000000000ULL

static struct flow **buckets;
static struct flow *list_head[LIST_COUNT], *list_tail[LIST_COUNT];
static uint64_t active;
static uint64_t next_id = 1;

static const uint64_t list_timeout_ns[LIST_COUNT] = {
    [LIST_TCP] = FLOW_TCP_IDLE_S * NS,
    [LIST_TCP_CLOSED] = FLOW_TCP_CLOSED_S * NS,
    [LIST_UDP] = FLOW_UDP_IDLE_S * NS,
};

static uint64_t mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

/* Hash of one endpoint: the address as two 64-bit words and the port. */
static uint64_t endpoint_hash(const struct ipaddr *a, uint16_t port)
{
    uint64_t lo, hi;
    memcpy(&lo, a->b, 8);
    memcpy(&hi, a->b + 8, 8);
    return mix64(lo * 0x9e3779b97f4a7c15ULL ^ hi * 0xc2b2ae3d27d4eb4fULL ^ port);
}

/* Hash of the tuple that does not depend on the direction (the two
 * endpoint hashes are combined with a symmetric operation). */
static uint32_t flow_hash(uint8_t transport, const struct ipaddr *a, uint16_t ap,
                          const struct ipaddr *b, uint16_t bp)
{
    uint64_t h = endpoint_hash(a, ap) + endpoint_hash(b, bp);
    return (uint32_t)(mix64(h ^ transport) % FLOW_BUCKETS);
}

static bool flow_matches(const struct flow *f, uint8_t transport, const struct ipaddr *src,
                         uint16_t sport, const struct ipaddr *dst, uint16_t dport,
                         bool *to_server)
{
    if (f->transport != transport)
        return false;
    if (f->port[0] == sport && f->port[1] == dport &&
        addr_equal(&f->addr[0], src) && addr_equal(&f->addr[1], dst)) {
        *to_server = true;
        return true;
    }
    if (f->port[1] == sport && f->port[0] == dport &&
        addr_equal(&f->addr[1], src) && addr_equal(&f->addr[0], dst)) {
        *to_server = false;
        return true;
    }
    return false;
}

struct flow *flow_lookup(uint8_t transport, const struct ipaddr *src, uint16_t sport,
                         const struct ipaddr *dst, uint16_t dport, bool *to_server)
{
    if (buckets == NULL)
        return NULL;
    uint32_t h = flow_hash(transport, src, sport, dst, dport);
    for (struct flow *f = buckets[h]; f != NULL; f = f->hnext)
        if (flow_matches(f, transport, src, sport, dst, dport, to_server))
            return f;
    return NULL;
}

static void list_remove(struct flow *f)
{
    if (f->lprev != NULL)
        f->lprev->lnext = f->lnext;
    else
        list_head[f->list] = f->lnext;
    if (f->lnext != NULL)
        f->lnext->lprev = f->lprev;
    else
        list_tail[f->list] = f->lprev;
    f->lprev = f->lnext = NULL;
}

static void list_append(struct flow *f, enum flow_list l)
{
    f->list = l;
    f->lnext = NULL;
    f->lprev = list_tail[l];
    if (list_tail[l] != NULL)
        list_tail[l]->lnext = f;
    else
        list_head[l] = f;
    list_tail[l] = f;
}

/* Ended flows are kept for reuse (up to FLOW_SPARE_MAX, limits.h): a
 * capture creates and ends flows by the hundred thousand. */
static struct flow *spare;
static unsigned nspare;

static struct flow *flow_alloc(void)
{
    struct flow *f = spare;
    if (f == NULL)
        return calloc(1, sizeof *f);
    spare = f->hnext;
    nspare--;
    memset(f, 0, sizeof *f);
    return f;
}

struct flow *flow_create(uint8_t transport, const struct ipaddr *cli, uint16_t cport,
                         const struct ipaddr *srv, uint16_t sport, uint64_t ts_ns)
{
    if (buckets == NULL) {
        buckets = calloc(FLOW_BUCKETS, sizeof *buckets);
        if (buckets == NULL)
            return NULL;
    }
    if (active >= FLOW_MAX)
        return NULL;
    struct flow *f = flow_alloc();
    if (f == NULL)
        return NULL;
    f->id = next_id++;
    f->transport = transport;
    f->addr[0] = *cli;
    f->addr[1] = *srv;
    f->port[0] = cport;
    f->port[1] = sport;
    f->first_ns = f->last_ns = f->idle_ns = ts_ns;
    uint32_t h = flow_hash(transport, cli, cport, srv, sport);
    f->hnext = buckets[h];
    buckets[h] = f;
    list_append(f, transport == 6 ? LIST_TCP : LIST_UDP);
    active++;
    g_stats.flows++;
    if (transport == 6)
        g_stats.flows_tcp++;
    else
        g_stats.flows_udp++;
    g_stats.flows_active = active;
    if (active > g_stats.flows_active_peak)
        g_stats.flows_active_peak = active;
    return f;
}

void flow_touch(struct flow *f, uint64_t ts_ns, uint64_t clock_ns)
{
    /* capture time can step back (merged files, a second input older
     * than the first): last_ns never moves backwards, and the lists are
     * ordered by the engine clock, which does not step back at all */
    if (ts_ns > f->last_ns)
        f->last_ns = ts_ns;
    f->idle_ns = clock_ns;
    if (list_tail[f->list] != f) {
        enum flow_list l = f->list;
        list_remove(f);
        list_append(f, l);
    }
}

void flow_mark_closed(struct flow *f)
{
    if (f->list == LIST_TCP_CLOSED || f->transport != 6)
        return;
    list_remove(f);
    list_append(f, LIST_TCP_CLOSED);
}

void flow_unlink(struct flow *f)
{
    uint32_t h = flow_hash(f->transport, &f->addr[0], f->port[0], &f->addr[1], f->port[1]);
    struct flow **pp = &buckets[h];
    while (*pp != NULL && *pp != f)
        pp = &(*pp)->hnext;
    if (*pp == f)
        *pp = f->hnext;
    list_remove(f);
    active--;
    g_stats.flows_active = active;
}

void flow_release(struct flow *f)
{
    if (nspare >= FLOW_SPARE_MAX) {
        free(f);
        return;
    }
    f->hnext = spare;
    spare = f;
    nspare++;
}

struct flow *flow_next_expired(uint64_t now_ns)
{
    for (int l = 0; l < LIST_COUNT; l++) {
        struct flow *f = list_head[l];
        if (f == NULL)
            continue;
        if (now_ns == UINT64_MAX || now_ns > f->idle_ns + list_timeout_ns[l])
            return f;
    }
    return NULL;
}

struct flow *flow_oldest(bool *was_closed)
{
    *was_closed = list_head[LIST_TCP_CLOSED] != NULL;
    if (*was_closed)
        return list_head[LIST_TCP_CLOSED];
    struct flow *a = list_head[LIST_TCP], *b = list_head[LIST_UDP];
    if (a == NULL)
        return b;
    if (b == NULL)
        return a;
    return a->idle_ns <= b->idle_ns ? a : b;
}

uint64_t flow_active(void)
{
    return active;
}

void flow_table_free(void)
{
    while (spare != NULL) {
        struct flow *f = spare;
        spare = f->hnext;
        free(f);
    }
    nspare = 0;
    free(buckets);
    buckets = NULL;
    for (int l = 0; l < LIST_COUNT; l++)
        list_head[l] = list_tail[l] = NULL;
    active = 0;
    next_id = 1;
}

/* Ports at or above this are taken as ephemeral (client) ports. */
#define EPHEMERAL_MIN 32768

bool flow_src_is_client(uint8_t transport, uint16_t sport, uint16_t dport, uint8_t tcp_flags)
{
    if (transport == 6 && (tcp_flags & 0x12) == 0x02)      /* SYN */
        return true;
    if (transport == 6 && (tcp_flags & 0x12) == 0x12)      /* SYN-ACK */
        return false;
    /* Mid-stream: a well-known port is the server's; else a port in the
     * ephemeral range is the client's; else the lower port serves. */
    if ((sport < 1024) != (dport < 1024))
        return dport < 1024;
    if ((sport >= EPHEMERAL_MIN) != (dport >= EPHEMERAL_MIN))
        return sport >= EPHEMERAL_MIN;
    if (sport != dport)
        return sport > dport;
    return true;
}

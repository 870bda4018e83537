/*
 * service.c - the services inventory (see service.h).
 *
 * Services live in an open-addressed table on (transport, address, port),
 * at most SERVICES_MAX of them; a flow of a service that does not fit is
 * still counted in the totals, and services_dropped is raised.
 */
#include "service.h"

#include <stdlib.h>
#include <string.h>

#include "../scanner/limits.h"
#include "../scanner/stats.h"
#include "u64set.h"

#define SERVICE_COUNT_MAX 4096u

struct service {
    uint8_t transport;
    struct ipaddr server;
    uint16_t port;
    uint64_t key;
    const char *protos[SERVICE_MAX_PROTOS];
    uint64_t proto_flows[SERVICE_MAX_PROTOS];
    bool proto_dpi[SERVICE_MAX_PROTOS];
    size_t nprotos;
    char hosts[SERVICE_MAX_HOSTS][80];
    size_t nhosts;
    uint64_t flows, by_verdict[4];
    uint64_t bytes, packets;
    struct ipaddr clients[SERVICE_MAX_CLIENTS];
    size_t nclients;
    struct u64set client_set;
    uint64_t first_ns, last_ns;
};

static struct service **table;
static size_t table_cap;
static struct service **all;
static size_t nall;
static struct traffic_totals totals;
static struct proto_count *protos;
static size_t nprotos;

static uint64_t service_key(uint8_t transport, const struct ipaddr *a, uint16_t port)
{
    uint8_t buf[20];
    memcpy(buf, a->b, 16);
    buf[16] = transport;
    buf[17] = a->family;
    buf[18] = (uint8_t)(port >> 8);
    buf[19] = (uint8_t)port;
    return hash64(buf, sizeof buf, 0x5e);
}

static bool table_grow(void)
{
    size_t ncap = table_cap ? table_cap * 2 : 256;
    struct service **nt = calloc(ncap, sizeof *nt);
    if (nt == NULL)
        return false;
    for (size_t i = 0; i < table_cap; i++) {
        if (table[i] == NULL)
            continue;
        size_t j = (size_t)table[i]->key & (ncap - 1);
        while (nt[j] != NULL)
            j = (j + 1) & (ncap - 1);
        nt[j] = table[i];
    }
    free(table);
    table = nt;
    table_cap = ncap;
    return true;
}

static struct service *service_get(const struct service_flow *sf)
{
    uint64_t key = service_key(sf->transport, &sf->server, sf->port);
    if (table_cap > 0) {
        size_t j = (size_t)key & (table_cap - 1);
        for (; table[j] != NULL; j = (j + 1) & (table_cap - 1)) {
            struct service *s = table[j];
            if (s->key == key && s->transport == sf->transport && s->port == sf->port &&
                addr_cmp(&s->server, &sf->server) == 0)
                return s;
        }
    }
    if (nall >= SERVICES_MAX)
        return NULL;
    if ((nall + 1) * 2 > table_cap && !table_grow())
        return NULL;
    struct service *s = calloc(1, sizeof *s);
    struct service **na = realloc(all, (nall + 1) * sizeof *all);
    if (s == NULL || na == NULL) {
        free(s);
        if (na != NULL)
            all = na;
        return NULL;
    }
    all = na;
    s->transport = sf->transport;
    s->server = sf->server;
    s->port = sf->port;
    s->key = key;
    s->first_ns = sf->first_ns;
    s->client_set.max = SERVICE_COUNT_MAX;
    size_t j = (size_t)key & (table_cap - 1);
    while (table[j] != NULL)
        j = (j + 1) & (table_cap - 1);
    table[j] = s;
    all[nall++] = s;
    return s;
}

static void totals_add_protocol(const char *name, uint64_t bytes)
{
    for (size_t i = 0; i < nprotos; i++) {
        if (strcmp(protos[i].name, name) == 0) {
            protos[i].flows++;
            protos[i].bytes += bytes;
            return;
        }
    }
    struct proto_count *np = realloc(protos, (nprotos + 1) * sizeof *protos);
    if (np == NULL)
        return;
    protos = np;
    protos[nprotos].name = name;
    protos[nprotos].flows = 1;
    protos[nprotos].bytes = bytes;
    nprotos++;
}

static void service_add_protocol(struct service *s, const struct service_flow *sf)
{
    for (size_t i = 0; i < s->nprotos; i++) {
        if (strcmp(s->protos[i], sf->protocol) == 0) {
            s->proto_flows[i]++;
            s->proto_dpi[i] |= sf->by_dpi;
            return;
        }
    }
    if (s->nprotos < SERVICE_MAX_PROTOS) {
        s->protos[s->nprotos] = sf->protocol;
        s->proto_flows[s->nprotos] = 1;
        s->proto_dpi[s->nprotos] = sf->by_dpi;
        s->nprotos++;
    }
}

static void service_add_host(struct service *s, const char *host)
{
    if (host == NULL || host[0] == '\0')
        return;
    for (size_t i = 0; i < s->nhosts; i++)
        if (strcmp(s->hosts[i], host) == 0)
            return;
    if (s->nhosts < SERVICE_MAX_HOSTS) {
        size_t n = strnlen(host, sizeof s->hosts[0] - 1);
        memcpy(s->hosts[s->nhosts], host, n);
        s->hosts[s->nhosts][n] = '\0';
        s->nhosts++;
    }
}

void service_add_flow(const struct service_flow *sf)
{
    const char *proto = sf->protocol != NULL ? sf->protocol : "Unknown";
    totals.flows[sf->verdict]++;
    totals.bytes[sf->verdict] += sf->bytes;
    totals_add_protocol(proto, sf->bytes);

    struct service *s = service_get(sf);
    if (s == NULL) {
        g_stats.services_dropped++;
        return;
    }
    struct service_flow named = *sf;
    named.protocol = proto;
    service_add_protocol(s, &named);
    service_add_host(s, sf->host);
    s->flows++;
    s->by_verdict[sf->verdict]++;
    s->bytes += sf->bytes;
    s->packets += sf->packets;
    if (sf->first_ns < s->first_ns)
        s->first_ns = sf->first_ns;
    if (sf->last_ns > s->last_ns)
        s->last_ns = sf->last_ns;
    if (u64set_add(&s->client_set, hash64(&sf->client, sizeof sf->client, 0)) == 1 &&
        s->nclients < SERVICE_MAX_CLIENTS)
        s->clients[s->nclients++] = sf->client;
}

static int service_cmp(const void *a, const void *b)
{
    const struct service *x = *(struct service *const *)a;
    const struct service *y = *(struct service *const *)b;
    int c = addr_cmp(&x->server, &y->server);
    if (c != 0)
        return c;
    if (x->port != y->port)
        return x->port < y->port ? -1 : 1;
    return (int)x->transport - (int)y->transport;
}

static int addr_qcmp(const void *a, const void *b)
{
    return addr_cmp(a, b);
}

static int proto_cmp(const void *a, const void *b)
{
    return strcmp(((const struct proto_count *)a)->name, ((const struct proto_count *)b)->name);
}

void services_sort(void)
{
    if (nall > 0)
        qsort(all, nall, sizeof *all, service_cmp);
    for (size_t i = 0; i < nall; i++)
        qsort(all[i]->clients, all[i]->nclients, sizeof(struct ipaddr), addr_qcmp);
    if (nprotos > 0)
        qsort(protos, nprotos, sizeof *protos, proto_cmp);
}

size_t services_count(void)
{
    return nall;
}

void service_view_at(size_t i, struct service_view *v)
{
    const struct service *s = all[i];
    memset(v, 0, sizeof *v);
    v->transport = s->transport;
    v->server = s->server;
    v->port = s->port;
    /* the protocol of most flows; on a tie, the one named by DPI, then
     * the first in name order, so the choice is deterministic */
    size_t best = 0;
    for (size_t k = 1; k < s->nprotos; k++) {
        if (s->proto_flows[k] > s->proto_flows[best] ||
            (s->proto_flows[k] == s->proto_flows[best] &&
             (s->proto_dpi[k] > s->proto_dpi[best] ||
              (s->proto_dpi[k] == s->proto_dpi[best] &&
               strcmp(s->protos[k], s->protos[best]) < 0))))
            best = k;
    }
    v->protocol = s->nprotos ? s->protos[best] : "Unknown";
    v->by_dpi = s->nprotos ? s->proto_dpi[best] : false;
    for (size_t k = 0; k < s->nprotos; k++)
        v->protocols[k] = s->protos[k];
    v->nprotocols = s->nprotos;
    for (size_t k = 0; k < s->nhosts; k++)
        v->hosts[k] = s->hosts[k];
    v->nhosts = s->nhosts;
    v->flows = s->flows;
    v->flows_unknown = s->by_verdict[SV_UNKNOWN];
    v->flows_plaintext = s->by_verdict[SV_PLAINTEXT];
    v->flows_encrypted = s->by_verdict[SV_ENCRYPTED];
    v->flows_upgraded = s->by_verdict[SV_UPGRADED];
    v->bytes = s->bytes;
    v->packets = s->packets;
    v->clients = s->clients;
    v->nclients = s->nclients;
    v->clients_total = s->client_set.n;
    v->first_ns = s->first_ns;
    v->last_ns = s->last_ns;
}

const struct traffic_totals *services_totals(void)
{
    return &totals;
}

const struct proto_count *services_protocols(size_t *n)
{
    *n = nprotos;
    return protos;
}

void services_free(void)
{
    for (size_t i = 0; i < nall; i++) {
        u64set_free(&all[i]->client_set);
        free(all[i]);
    }
    free(all);
    free(table);
    free(protos);
    all = NULL;
    table = NULL;
    protos = NULL;
    nall = table_cap = nprotos = 0;
    memset(&totals, 0, sizeof totals);
}

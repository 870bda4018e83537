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
#define TLS_MAX_VERSIONS 8u
#define TLS_MAX_CIPHERS 8u
#define TLS_MAX_NAMES 4u
#define TLS_MAX_CERTS 4u

/* The TLS details of one service, allocated when the first facts come. */
struct service_tls_info {
    uint16_t versions[TLS_MAX_VERSIONS];
    size_t nversions;
    uint32_t ciphers[TLS_MAX_CIPHERS];
    char cipher_names[TLS_MAX_CIPHERS][64];
    const char *cipher_ptrs[TLS_MAX_CIPHERS];
    size_t nciphers;
    char snis[TLS_MAX_NAMES][128];
    const char *sni_ptrs[TLS_MAX_NAMES];
    size_t nsnis;
    char ja3[TLS_MAX_NAMES][33];
    const char *ja3_ptrs[TLS_MAX_NAMES];
    size_t nja3;
    char ja4[TLS_MAX_NAMES][40];
    const char *ja4_ptrs[TLS_MAX_NAMES];
    size_t nja4;
    struct service_tls certs[TLS_MAX_CERTS];
    const struct service_tls *cert_ptrs[TLS_MAX_CERTS];
    size_t ncerts;
    bool cert_encrypted;
};
static size_t ntls_infos;

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
    struct service_tls_info *tls;
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

static struct service *service_get(uint8_t transport, const struct ipaddr *server,
                                   uint16_t port, uint64_t first_ns)
{
    uint64_t key = service_key(transport, server, port);
    if (table_cap > 0) {
        size_t j = (size_t)key & (table_cap - 1);
        for (; table[j] != NULL; j = (j + 1) & (table_cap - 1)) {
            struct service *s = table[j];
            if (s->key == key && s->transport == transport && s->port == port &&
                addr_equal(&s->server, server))
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
    s->transport = transport;
    s->server = *server;
    s->port = port;
    s->key = key;
    s->first_ns = first_ns;
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

    struct service *s = service_get(sf->transport, &sf->server, sf->port, sf->first_ns);
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
    if (s->first_ns == 0 || sf->first_ns < s->first_ns)
        s->first_ns = sf->first_ns;
    if (sf->last_ns > s->last_ns)
        s->last_ns = sf->last_ns;
    if (u64set_add(&s->client_set, hash64(&sf->client, sizeof sf->client, 0)) == 1 &&
        s->nclients < SERVICE_MAX_CLIENTS)
        s->clients[s->nclients++] = sf->client;
}

/* Adds v to a list of distinct strings kept in fixed slots of width bytes
 * starting at base (ignored when the list is full). */
static void name_add(char *base, const char **ptrs, size_t *n, size_t max, size_t width,
                     const char *v)
{
    if (v == NULL || v[0] == '\0')
        return;
    for (size_t i = 0; i < *n; i++)
        if (strncmp(ptrs[i], v, width - 1) == 0)
            return;
    if (*n >= max)
        return;
    char *slot = base + *n * width;
    size_t len = strnlen(v, width - 1);
    memcpy(slot, v, len);
    slot[len] = '\0';
    ptrs[*n] = slot;
    (*n)++;
}

static void tls_merge(struct service_tls_info *ti, const struct service_tls *t)
{
    bool have = false;
    for (size_t i = 0; i < ti->nversions; i++)
        have |= ti->versions[i] == t->version;
    if (t->version && !have && ti->nversions < TLS_MAX_VERSIONS)
        ti->versions[ti->nversions++] = t->version;
    have = false;
    for (size_t i = 0; i < ti->nciphers; i++)
        have |= ti->ciphers[i] == t->cipher;
    if (t->cipher && !have && ti->nciphers < TLS_MAX_CIPHERS) {
        size_t k = ti->nciphers++;
        ti->ciphers[k] = t->cipher;
        size_t len = strnlen(t->cipher_name, sizeof ti->cipher_names[k] - 1);
        memcpy(ti->cipher_names[k], t->cipher_name, len);
        ti->cipher_names[k][len] = '\0';
        ti->cipher_ptrs[k] = ti->cipher_names[k];
    }
    name_add(&ti->snis[0][0], ti->sni_ptrs, &ti->nsnis, TLS_MAX_NAMES, sizeof ti->snis[0], t->sni);
    name_add(&ti->ja3[0][0], ti->ja3_ptrs, &ti->nja3, TLS_MAX_NAMES, sizeof ti->ja3[0], t->ja3);
    name_add(&ti->ja4[0][0], ti->ja4_ptrs, &ti->nja4, TLS_MAX_NAMES, sizeof ti->ja4[0], t->ja4);
    ti->cert_encrypted |= t->cert_encrypted;
    if (!t->cert_seen)
        return;
    for (size_t i = 0; i < ti->ncerts; i++)
        if (strcmp(ti->certs[i].cert_sha256, t->cert_sha256) == 0)
            return;
    if (ti->ncerts < TLS_MAX_CERTS) {
        ti->certs[ti->ncerts] = *t;
        ti->cert_ptrs[ti->ncerts] = &ti->certs[ti->ncerts];
        ti->ncerts++;
    }
}

void service_add_tls(uint8_t transport, const struct ipaddr *server, uint16_t port,
                     const struct service_tls *t)
{
    struct service *s = service_get(transport, server, port, 0);
    if (s == NULL) {
        g_stats.services_dropped++;
        return;
    }
    if (s->tls == NULL) {
        if (ntls_infos >= SERVICES_TLS_MAX) {
            g_stats.tls_details_dropped++;
            return;
        }
        s->tls = calloc(1, sizeof *s->tls);
        if (s->tls == NULL) {
            g_stats.tls_details_dropped++;
            return;
        }
        ntls_infos++;
    }
    tls_merge(s->tls, t);
}

static int u16_cmp(const void *a, const void *b)
{
    return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
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
    for (size_t i = 0; i < nall; i++) {
        qsort(all[i]->clients, all[i]->nclients, sizeof(struct ipaddr), addr_qcmp);
        if (all[i]->tls != NULL)
            qsort(all[i]->tls->versions, all[i]->tls->nversions, sizeof(uint16_t), u16_cmp);
    }
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
    const struct service_tls_info *ti = s->tls;
    if (ti == NULL)
        return;
    v->tls_versions = ti->versions;
    v->ntls_versions = ti->nversions;
    v->tls_ciphers = ti->ciphers;
    v->tls_cipher_names = ti->cipher_ptrs;
    v->ntls_ciphers = ti->nciphers;
    v->tls_snis = ti->sni_ptrs;
    v->ntls_snis = ti->nsnis;
    v->tls_ja3 = ti->ja3_ptrs;
    v->ntls_ja3 = ti->nja3;
    v->tls_ja4 = ti->ja4_ptrs;
    v->ntls_ja4 = ti->nja4;
    v->tls_certs = ti->cert_ptrs;
    v->ntls_certs = ti->ncerts;
    v->tls_cert_encrypted = ti->cert_encrypted;
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
        free(all[i]->tls);
        free(all[i]);
    }
    free(all);
    free(table);
    free(protos);
    all = NULL;
    table = NULL;
    protos = NULL;
    nall = table_cap = nprotos = ntls_infos = 0;
    memset(&totals, 0, sizeof totals);
}

/*
 * finding.c - aggregation of facts into findings (see finding.h).
 *
 * One finding per (rule, transport, server address, server port).  Each
 * keeps: the clients (a few listed, all counted up to a bound), first and
 * last time, occurrences, flows, the first FINDING_MAX_SAMPLES distinct
 * evidence samples (already redacted: no raw secret is stored here), and
 * the number of distinct secrets by fingerprint.
 */
#include "finding.h"

#include <stdlib.h>
#include <string.h>

#include "redact.h"
#include "u64set.h"

/* Distinct clients and secrets counted per finding. */
#define FINDING_COUNT_MAX 4096u

struct finding {
    const struct rule *rule;
    const char *protocol;
    uint8_t transport;
    struct ipaddr server;
    uint16_t server_port;
    uint64_t key;
    struct ipaddr clients[FINDING_MAX_CLIENTS];
    size_t nclients;
    struct u64set client_set;
    uint64_t first_ns, last_ns;
    uint64_t occurrences;
    uint64_t flows;
    struct finding_sample samples[FINDING_MAX_SAMPLES];
    uint64_t sample_keys[FINDING_MAX_SAMPLES];
    size_t nsamples;
    struct u64set secret_set;
    /* the last short, non-secret sample key worked out, with what it was
     * worked out of: a fact stated by every flow (a login, a session) is
     * the same text again and again */
    uint64_t last_key;
    uint8_t last_kind;
    uint8_t last_len;                   /* 0: none */
    char last_field[32];
    uint8_t last_value[64];
};

static struct finding **table;      /* open addressing on key */
static size_t table_cap;
static struct finding **all;        /* in order of creation */
static size_t nall;
static uint64_t dropped;
static bool show_secrets;
static struct finding **sorted;

/* The findings looked up last, by rule: a flow states its facts to one
 * server, and the flows of a server come together. */
#define FINDING_CACHE 16u
static struct finding *finding_cache[FINDING_CACHE];

static size_t finding_cache_slot(const struct rule *rule)
{
    return ((uintptr_t)rule >> 5) & (FINDING_CACHE - 1);
}

void finding_set_show_secrets(bool on)
{
    show_secrets = on;
}

bool finding_show_secrets(void)
{
    return show_secrets;
}

/* The table key of (rule, transport, server, port).  The rule's address
 * identifies it: keys never leave memory, so they need not be stable. */
static uint64_t finding_key(const struct fact *f)
{
    uint8_t buf[8 + 16 + 4];
    uintptr_t r = (uintptr_t)f->rule;
    memcpy(buf, &r, sizeof r < 8 ? sizeof r : 8);
    memcpy(buf + 8, f->server.b, 16);
    buf[24] = f->transport;
    buf[25] = f->server.family;
    buf[26] = (uint8_t)(f->server_port >> 8);
    buf[27] = (uint8_t)f->server_port;
    return hash64(buf, sizeof buf, 0);
}

/* Whether fd is the finding of f's rule and server. */
static bool finding_is(const struct finding *fd, const struct fact *f)
{
    return fd->rule == f->rule && fd->transport == f->transport &&
           fd->server_port == f->server_port && addr_equal(&fd->server, &f->server);
}

static bool table_grow(void)
{
    size_t ncap = table_cap ? table_cap * 2 : 256;
    struct finding **nt = calloc(ncap, sizeof *nt);
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

/* The finding of f's rule and server from the table, made when new. */
static struct finding *finding_lookup_table(const struct fact *f)
{
    uint64_t key = finding_key(f);
    if (table_cap > 0) {
        size_t j = (size_t)key & (table_cap - 1);
        while (table[j] != NULL) {
            if (table[j]->key == key && finding_is(table[j], f))
                return table[j];
            j = (j + 1) & (table_cap - 1);
        }
    }
    if (nall >= FINDINGS_MAX) {
        dropped++;
        return NULL;
    }
    if ((nall + 1) * 2 > table_cap && !table_grow()) {
        dropped++;
        return NULL;
    }
    struct finding *fd = calloc(1, sizeof *fd);
    struct finding **na = realloc(all, (nall + 1) * sizeof *all);
    if (fd == NULL || na == NULL) {
        free(fd);
        if (na != NULL)
            all = na;
        dropped++;
        return NULL;
    }
    all = na;
    fd->rule = f->rule;
    fd->protocol = f->protocol;
    fd->transport = f->transport;
    fd->server = f->server;
    fd->server_port = f->server_port;
    fd->key = key;
    fd->first_ns = f->ts_ns;
    fd->client_set.max = FINDING_COUNT_MAX;
    fd->secret_set.max = FINDING_COUNT_MAX;
    size_t j = (size_t)key & (table_cap - 1);
    while (table[j] != NULL)
        j = (j + 1) & (table_cap - 1);
    table[j] = fd;
    all[nall++] = fd;
    return fd;
}

static struct finding *finding_lookup(const struct fact *f)
{
    struct finding **c = &finding_cache[finding_cache_slot(f->rule)];
    if (*c != NULL && finding_is(*c, f))
        return *c;
    struct finding *fd = finding_lookup_table(f);
    if (fd != NULL)
        *c = fd;
    return fd;
}

static void finding_add_client(struct finding *fd, const struct ipaddr *c)
{
    /* the client counted last comes back most: it is in the set already */
    if (fd->nclients > 0 && addr_equal(&fd->clients[fd->nclients - 1], c))
        return;
    if (u64set_add(&fd->client_set, hash64(c, sizeof *c, 0)) != 1)
        return;
    if (fd->nclients < FINDING_MAX_CLIENTS)
        fd->clients[fd->nclients++] = *c;
}

/* A cheap identity of a sample: its field and value. */
static uint64_t sample_key_of(const struct fact *f)
{
    uint64_t h = hash64(f->value, f->value ? f->value_len : 0, f->kind);
    return f->field ? hash64(f->field, strlen(f->field), h) : h;
}

/* sample_key_of(), remembered for the last short text fd met. */
static uint64_t sample_key(struct finding *fd, const struct fact *f)
{
    size_t n = f->value != NULL ? f->value_len : 0;
    const char *field = f->field;
    if (f->kind == EV_SECRET || field == NULL || n >= sizeof fd->last_value ||
        strlen(field) >= sizeof fd->last_field)
        return sample_key_of(f);
    if (fd->last_len == n + 1 && fd->last_kind == (uint8_t)f->kind &&
        (n == 0 || memcmp(fd->last_value, f->value, n) == 0) &&
        strcmp(fd->last_field, field) == 0)
        return fd->last_key;
    fd->last_key = sample_key_of(f);
    fd->last_kind = (uint8_t)f->kind;
    fd->last_len = (uint8_t)(n + 1);
    if (n > 0)
        memcpy(fd->last_value, f->value, n);
    strcpy(fd->last_field, field);
    return fd->last_key;
}

/* Counts the secret and keeps the sample unless one with the same field
 * and value is kept.  Redaction and fingerprints (SHA-256) are computed
 * only for the few samples kept: a finding can gather millions of facts. */
static void finding_add_sample(struct finding *fd, const struct fact *f)
{
    if (f->kind == EV_SECRET && f->value_len > 0 && !fd->secret_set.full)
        u64set_add(&fd->secret_set, hash64(f->value, f->value_len, 0x5ec));
    if (fd->nsamples >= FINDING_MAX_SAMPLES)
        return;
    uint64_t key = sample_key(fd, f);
    for (size_t i = 0; i < fd->nsamples; i++)
        if (fd->sample_keys[i] == key)
            return;
    struct finding_sample *s = &fd->samples[fd->nsamples];
    memset(s, 0, sizeof *s);
    s->pkt_no = f->pkt_no;
    s->ts_ns = f->ts_ns;
    s->dir = f->dir;
    const char *field = f->field ? f->field : "";
    redact_printable((const uint8_t *)field, strlen(field), sizeof s->field - 4, s->field,
                     sizeof s->field);
    redact_excerpt(f->kind, f->value, f->value_len, show_secrets, s->excerpt, sizeof s->excerpt);
    if (f->kind == EV_SECRET && f->value_len > 0)
        redact_fingerprint(f->value, f->value_len, s->fingerprint);
    fd->sample_keys[fd->nsamples++] = key;
}

struct finding *finding_add(const struct fact *f)
{
    if (f == NULL || f->rule == NULL)
        return NULL;
    struct finding *fd = finding_lookup(f);
    if (fd == NULL)
        return NULL;
    finding_add_client(fd, &f->client);
    finding_add_again(fd, f);
    return fd;
}

void finding_add_occurrences(struct finding *fd, uint64_t ts_ns, uint64_t n)
{
    if (n == 0)
        return;
    fd->occurrences += n;
    if (ts_ns < fd->first_ns)
        fd->first_ns = ts_ns;
    if (ts_ns > fd->last_ns)
        fd->last_ns = ts_ns;
}

void finding_add_again(struct finding *fd, const struct fact *f)
{
    finding_add_occurrences(fd, f->ts_ns, 1);
    finding_add_sample(fd, f);
}

void finding_count_flow(struct finding *fd)
{
    if (fd != NULL)
        fd->flows++;
}

uint64_t findings_dropped(void)
{
    return dropped;
}

size_t findings_count(void)
{
    return nall;
}

void findings_per_severity(uint64_t out[SEV_COUNT])
{
    memset(out, 0, sizeof(uint64_t) * SEV_COUNT);
    for (size_t i = 0; i < nall; i++)
        out[all[i]->rule->severity]++;
}

int findings_max_severity(void)
{
    int max = -1;
    for (size_t i = 0; i < nall; i++)
        if ((int)all[i]->rule->severity > max)
            max = (int)all[i]->rule->severity;
    return max;
}

static int finding_cmp(const void *a, const void *b)
{
    const struct finding *x = *(struct finding *const *)a;
    const struct finding *y = *(struct finding *const *)b;
    if (x->rule->severity != y->rule->severity)
        return x->rule->severity > y->rule->severity ? -1 : 1;
    int c = strcmp(x->rule->id, y->rule->id);
    if (c != 0)
        return c;
    c = addr_cmp(&x->server, &y->server);
    if (c != 0)
        return c;
    if (x->server_port != y->server_port)
        return x->server_port < y->server_port ? -1 : 1;
    return (int)x->transport - (int)y->transport;
}

static int client_cmp(const void *a, const void *b)
{
    return addr_cmp(a, b);
}

struct finding *const *findings_sorted(size_t *n)
{
    free(sorted);
    sorted = NULL;
    *n = nall;
    if (nall == 0)
        return NULL;
    sorted = malloc(nall * sizeof *sorted);
    if (sorted == NULL) {
        *n = 0;
        return NULL;
    }
    memcpy(sorted, all, nall * sizeof *sorted);
    qsort(sorted, nall, sizeof *sorted, finding_cmp);
    for (size_t i = 0; i < nall; i++)
        qsort(sorted[i]->clients, sorted[i]->nclients, sizeof(struct ipaddr), client_cmp);
    return sorted;
}

void finding_view(const struct finding *fd, struct finding_view *v)
{
    memset(v, 0, sizeof *v);
    v->rule = fd->rule;
    v->protocol = fd->protocol;
    v->transport = fd->transport;
    v->server = fd->server;
    v->server_port = fd->server_port;
    v->clients = fd->clients;
    v->nclients = fd->nclients;
    v->clients_total = fd->client_set.n;
    v->first_ns = fd->first_ns;
    v->last_ns = fd->last_ns;
    v->occurrences = fd->occurrences;
    v->flows = fd->flows;
    v->samples = fd->samples;
    v->nsamples = fd->nsamples;
    v->distinct_secrets = fd->secret_set.n;
}

/* Bumped by findings_free(): what was stated before it is gone. */
uint64_t findings_epoch_now = 1;

void findings_free(void)
{
    findings_epoch_now++;
    for (size_t i = 0; i < nall; i++) {
        u64set_free(&all[i]->client_set);
        u64set_free(&all[i]->secret_set);
        free(all[i]);
    }
    free(all);
    free(table);
    free(sorted);
    memset(finding_cache, 0, sizeof finding_cache);
    all = NULL;
    table = NULL;
    sorted = NULL;
    nall = 0;
    table_cap = 0;
    dropped = 0;
}

const char *severity_name(enum severity s)
{
    static const char *const names[SEV_COUNT] = { "info", "low", "medium", "high", "critical" };
    return (unsigned)s < SEV_COUNT ? names[s] : "unknown";
}

int severity_parse(const char *s)
{
    for (int i = 0; i < SEV_COUNT; i++)
        if (strcmp(s, severity_name((enum severity)i)) == 0)
            return i;
    return -1;
}

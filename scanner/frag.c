/*
 * frag.c - IPv4 fragment reassembly (see frag.h).
 *
 *   IPv4 header fields used:  identification (bytes 4-5),
 *   flags+offset (6-7: MF = 0x2000, offset in 8-byte units = low 13 bits),
 *   protocol (9), source and destination (12-19).
 *
 * At most FRAG_MAX_DATAGRAMS datagrams are in progress; each keeps a
 * buffer grown to the highest offset seen (never past FRAG_MAX_SIZE) and a
 * list of the ranges it has.  Fragments are rare, so lookups are linear.
 */
#include "frag.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "limits.h"
#include "stats.h"

struct frag_range {
    uint32_t start, end;
};

struct frag_dgram {
    bool used;
    uint8_t src[4], dst[4];
    uint16_t id;
    uint8_t proto;
    uint64_t first_ns;
    uint8_t hdr[60];            /* header of the first fragment */
    uint32_t hdr_len;           /* 0 until the offset-0 fragment arrives */
    uint32_t total;             /* data length, 0 until the last fragment */
    uint8_t *data;
    uint32_t data_cap;
    struct frag_range ranges[FRAG_MAX_PIECES];
    uint32_t nranges;
};

static struct frag_dgram dgrams[FRAG_MAX_DATAGRAMS];
static uint8_t *out_buf;

static void frag_drop(struct frag_dgram *d)
{
    free(d->data);
    memset(d, 0, sizeof *d);
}

/* Finds the datagram, expiring old ones on the way; creates it if absent.
 * Returns NULL when the table is full. */
static struct frag_dgram *frag_find(const uint8_t *src, const uint8_t *dst, uint16_t id,
                                    uint8_t proto, uint64_t ts_ns)
{
    struct frag_dgram *free_slot = NULL;
    for (unsigned i = 0; i < FRAG_MAX_DATAGRAMS; i++) {
        struct frag_dgram *d = &dgrams[i];
        if (d->used && ts_ns > d->first_ns + (uint64_t)FRAG_TIMEOUT_S * 1000000000ULL) {
            g_stats.frag_dropped++;
            frag_drop(d);
        }
        if (!d->used) {
            if (free_slot == NULL)
                free_slot = d;
            continue;
        }
        if (d->id == id && d->proto == proto && memcmp(d->src, src, 4) == 0 &&
            memcmp(d->dst, dst, 4) == 0)
            return d;
    }
    if (free_slot == NULL)
        return NULL;
    free_slot->used = true;
    memcpy(free_slot->src, src, 4);
    memcpy(free_slot->dst, dst, 4);
    free_slot->id = id;
    free_slot->proto = proto;
    free_slot->first_ns = ts_ns;
    return free_slot;
}

/* Adds [start,end) to the ranges; false on overlap or too many pieces. */
static bool frag_add_range(struct frag_dgram *d, uint32_t start, uint32_t end)
{
    for (uint32_t i = 0; i < d->nranges; i++) {
        if (start < d->ranges[i].end && d->ranges[i].start < end) {
            /* an exact duplicate is a retransmission, not an attack */
            return start == d->ranges[i].start && end == d->ranges[i].end;
        }
    }
    if (d->nranges >= FRAG_MAX_PIECES)
        return false;
    d->ranges[d->nranges].start = start;
    d->ranges[d->nranges].end = end;
    d->nranges++;
    return true;
}

static bool frag_complete(const struct frag_dgram *d)
{
    if (d->total == 0 || d->hdr_len == 0)
        return false;
    /* ranges never overlap, so they cover [0, total) exactly when they
     * all lie inside it and add up to it */
    uint64_t covered = 0;
    for (uint32_t i = 0; i < d->nranges; i++) {
        if (d->ranges[i].end > d->total)
            return false;
        covered += d->ranges[i].end - d->ranges[i].start;
    }
    return covered == d->total;
}

uint32_t frag_add(const uint8_t *hdr, uint32_t len, uint64_t ts_ns, const uint8_t **out)
{
    struct cursor c = cursor_init(hdr, len);
    uint8_t vihl = cur_u8(&c);
    cur_skip(&c, 1);
    uint16_t tot = cur_be16(&c);
    uint16_t id = cur_be16(&c);
    uint16_t fo = cur_be16(&c);
    cur_skip(&c, 1);
    uint8_t proto = cur_u8(&c);
    cur_skip(&c, 2);
    const uint8_t *src = cur_take(&c, 4);
    const uint8_t *dst = cur_take(&c, 4);
    uint32_t ihl = (uint32_t)(vihl & 15) * 4;
    if (c.bad || ihl < 20 || ihl > len || tot < ihl) {
        g_stats.frag_dropped++;
        return 0;
    }
    /* a fragment cut by the snaplen cannot be rebuilt */
    if (tot > len) {
        g_stats.frag_dropped++;
        return 0;
    }
    uint32_t start = (uint32_t)(fo & 0x1fff) * 8;
    uint32_t dlen = tot - ihl;
    uint32_t end = start + dlen;
    bool more = (fo & 0x2000) != 0;
    if (end > FRAG_MAX_SIZE - 60 || (more && dlen % 8 != 0) || dlen == 0) {
        g_stats.frag_dropped++;
        return 0;
    }
    struct frag_dgram *d = frag_find(src, dst, id, proto, ts_ns);
    if (d == NULL) {
        g_stats.frag_dropped++;
        return 0;
    }
    if (!more) {
        if (d->total != 0 && d->total != end) {
            g_stats.frag_dropped++;
            frag_drop(d);
            return 0;
        }
        d->total = end;
    }
    if (!frag_add_range(d, start, end) || (d->total != 0 && end > d->total)) {
        g_stats.frag_dropped++;
        frag_drop(d);
        return 0;
    }
    if (end > d->data_cap) {
        uint8_t *nd = realloc(d->data, end);
        if (nd == NULL) {
            g_stats.frag_dropped++;
            frag_drop(d);
            return 0;
        }
        d->data = nd;
        d->data_cap = end;
    }
    memcpy(d->data + start, hdr + ihl, dlen);
    if (start == 0) {
        memcpy(d->hdr, hdr, ihl);
        d->hdr_len = ihl;
    }
    for (uint32_t i = 0; d->total != 0 && i < d->nranges; i++) {
        if (d->ranges[i].end > d->total) {
            /* data beyond the end the last fragment announced */
            g_stats.frag_dropped++;
            frag_drop(d);
            return 0;
        }
    }
    if (!frag_complete(d))
        return 0;

    /* Rebuild: first header, total length fixed, fragment fields cleared. */
    uint32_t full = d->hdr_len + d->total;
    if (out_buf == NULL)
        out_buf = malloc(FRAG_MAX_SIZE);
    if (out_buf == NULL || full > FRAG_MAX_SIZE) {
        g_stats.frag_dropped++;
        frag_drop(d);
        return 0;
    }
    memcpy(out_buf, d->hdr, d->hdr_len);
    memcpy(out_buf + d->hdr_len, d->data, d->total);
    out_buf[2] = (uint8_t)(full >> 8);
    out_buf[3] = (uint8_t)full;
    out_buf[6] = 0;
    out_buf[7] = 0;
    frag_drop(d);
    g_stats.ipv4_reassembled++;
    *out = out_buf;
    return full;
}

void frag_free(void)
{
    for (unsigned i = 0; i < FRAG_MAX_DATAGRAMS; i++)
        if (dgrams[i].used)
            frag_drop(&dgrams[i]);
    free(out_buf);
    out_buf = NULL;
}

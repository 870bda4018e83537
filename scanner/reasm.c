/*
 * reasm.c - TCP reassembly for one direction (see reasm.h).
 *
 * Sequence numbers wrap at 2^32; every comparison is a signed 32-bit
 * difference (RFC 793 modular arithmetic).
 */
#include "reasm.h"

#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "stats.h"

struct reasm_seg {
    struct reasm_seg *next;
    uint32_t seq;
    uint32_t len;               /* bytes held */
    uint32_t wire;              /* bytes on the wire (> len after a snaplen cut) */
    uint64_t pkt_no, ts_ns;
    uint8_t data[];
};

static int32_t seq_diff(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b);
}

void reasm_syn(struct reasm_dir *r, uint32_t seq)
{
    if (r->started)
        return;
    r->started = true;
    r->next_seq = seq + 1;
}

/* Delivers n captured bytes of wire bytes that start exactly at next_seq. */
static void reasm_deliver(struct reasm_dir *r, const uint8_t *p, uint32_t n, uint32_t wire,
                          uint64_t pkt_no, uint64_t ts_ns, const struct reasm_sink *sink)
{
    if (n > 0)
        sink->data(sink->arg, p, n, pkt_no, ts_ns);
    if (wire > n) {
        g_stats.tcp_gaps++;
        g_stats.tcp_gap_bytes += wire - n;
        sink->gap(sink->arg, wire - n);
    }
    r->next_seq += wire;
}

static void seg_release(struct reasm_dir *r, struct reasm_seg *s)
{
    r->ooo_bytes -= s->len;
    r->ooo_segs--;
    g_stats.reasm_bytes -= s->len + sizeof *s;
    free(s);
}

/* Delivers held segments that now continue the stream. */
static void reasm_drain(struct reasm_dir *r, const struct reasm_sink *sink)
{
    while (r->ooo != NULL) {
        struct reasm_seg *s = r->ooo;
        int32_t d = seq_diff(s->seq, r->next_seq);
        if (d > 0)
            return;
        r->ooo = s->next;
        uint32_t skip = (uint32_t)-d;
        if (skip < s->wire) {
            uint32_t n = skip < s->len ? s->len - skip : 0;
            reasm_deliver(r, s->data + (skip < s->len ? skip : s->len), n, s->wire - skip,
                          s->pkt_no, s->ts_ns, sink);
        }
        seg_release(r, s);
    }
}

/* Declares the hole before the first held segment lost, then drains. */
static void reasm_skip_hole(struct reasm_dir *r, const struct reasm_sink *sink)
{
    if (r->ooo == NULL)
        return;
    int32_t d = seq_diff(r->ooo->seq, r->next_seq);
    if (d > 0) {
        g_stats.tcp_gaps++;
        g_stats.tcp_gap_bytes += (uint32_t)d;
        sink->gap(sink->arg, (uint32_t)d);
        r->next_seq = r->ooo->seq;
    }
    reasm_drain(r, sink);
}

/* Holds one piece that overlaps nothing held, before *pp.  Returns false
 * when a cap refused it. */
static bool reasm_hold_piece(struct reasm_dir *r, struct reasm_seg **pp, uint32_t seq,
                             const uint8_t *p, uint32_t n, uint32_t wire, uint64_t pkt_no,
                             uint64_t ts_ns)
{
    if (r->ooo_bytes + n > REASM_MAX_OOO_BYTES || r->ooo_segs >= REASM_MAX_OOO_SEGS) {
        g_stats.reasm_ooo_cap++;
        return false;
    }
    if (g_stats.reasm_bytes + n > REASM_MEMCAP) {
        g_stats.reasm_memcap++;
        return false;
    }
    struct reasm_seg *s = malloc(sizeof *s + n);
    if (s == NULL) {
        g_stats.reasm_memcap++;
        return false;
    }
    s->seq = seq;
    s->len = n;
    s->wire = wire;
    s->pkt_no = pkt_no;
    s->ts_ns = ts_ns;
    if (n > 0)
        memcpy(s->data, p, n);
    s->next = *pp;
    *pp = s;
    r->ooo_bytes += n;
    r->ooo_segs++;
    g_stats.reasm_bytes += n + sizeof *s;
    if (g_stats.reasm_bytes > g_stats.reasm_bytes_peak)
        g_stats.reasm_bytes_peak = g_stats.reasm_bytes;
    return true;
}

/* Holds [seq, seq+wire) minus what is already held: held bytes came first
 * and win, the new segment fills the spaces around them.  Returns false
 * when a cap refused a piece. */
static bool reasm_hold(struct reasm_dir *r, uint32_t seq, const uint8_t *p, uint32_t n,
                       uint32_t wire, uint64_t pkt_no, uint64_t ts_ns)
{
    struct reasm_seg **pp = &r->ooo;
    bool overlapped = false;
    bool held = false;
    while (wire > 0) {
        /* skip held segments that end before seq */
        while (*pp != NULL && seq_diff((*pp)->seq + (*pp)->wire, seq) <= 0)
            pp = &(*pp)->next;
        /* trim the front against one that covers seq */
        if (*pp != NULL && seq_diff((*pp)->seq, seq) <= 0) {
            uint32_t cut = (uint32_t)seq_diff((*pp)->seq + (*pp)->wire, seq);
            overlapped = true;
            if (cut >= wire)
                break;
            seq += cut;
            wire -= cut;
            p += cut < n ? cut : n;
            n = cut < n ? n - cut : 0;
            pp = &(*pp)->next;
            continue;
        }
        /* hold what lies before the next held segment (or everything) */
        uint32_t take = wire;
        if (*pp != NULL && seq_diff(seq + wire, (*pp)->seq) > 0) {
            take = (uint32_t)seq_diff((*pp)->seq, seq);
            overlapped = true;
        }
        uint32_t ntake = n < take ? n : take;
        if (!reasm_hold_piece(r, pp, seq, p, ntake, take, pkt_no, ts_ns))
            return false;
        held = true;
        pp = &(*pp)->next;
        seq += take;
        wire -= take;
        p += ntake;
        n -= ntake;
    }
    if (!held)
        g_stats.tcp_retransmitted++;    /* every byte was held already */
    else if (overlapped)
        g_stats.tcp_overlaps++;
    else
        g_stats.tcp_out_of_order++;
    return true;
}

void reasm_segment(struct reasm_dir *r, uint32_t seq, const uint8_t *p, uint32_t n,
                   uint32_t wire, uint64_t pkt_no, uint64_t ts_ns,
                   const struct reasm_sink *sink)
{
    if (wire == 0)
        return;
    if (!r->started) {
        /* capture started mid-stream: this segment defines the start */
        r->started = true;
        r->next_seq = seq;
    }
    int32_t d = seq_diff(seq, r->next_seq);
    if (d < 0) {
        uint32_t old = 0u - (uint32_t)d;    /* |d|, INT32_MIN included */
        if (old >= wire) {
            g_stats.tcp_retransmitted++;
            return;
        }
        g_stats.tcp_overlaps++;
        seq += old;
        wire -= old;
        p += old < n ? old : n;
        n = old < n ? n - old : 0;
        d = 0;
    }
    if (d == 0) {
        /* in order: deliver straight from the packet, no copy */
        if (r->ooo != NULL && seq_diff(seq + wire, r->ooo->seq) > 0) {
            /* It runs into held data, which came first and wins: deliver
             * up to it, then the held data, then whatever of this segment
             * lies beyond (trimmed against what is delivered by then). */
            uint32_t keep = (uint32_t)seq_diff(r->ooo->seq, seq);
            uint32_t nk = n < keep ? n : keep;
            g_stats.tcp_overlaps++;
            reasm_deliver(r, p, nk, keep, pkt_no, ts_ns, sink);
            reasm_drain(r, sink);
            reasm_segment(r, seq + keep, p + nk, n - nk, wire - keep, pkt_no, ts_ns, sink);
            return;
        }
        reasm_deliver(r, p, n, wire, pkt_no, ts_ns, sink);
        reasm_drain(r, sink);
        return;
    }
    if (reasm_hold(r, seq, p, n, wire, pkt_no, ts_ns))
        return;
    /* No room to wait for the holes: declare them all lost, deliver what is
     * held, then jump to this segment.  After this it is in order (or
     * overlaps delivered data), so the call below never holds again. */
    reasm_flush(r, sink);
    d = seq_diff(seq, r->next_seq);
    if (d > 0) {
        g_stats.tcp_gaps++;
        g_stats.tcp_gap_bytes += (uint32_t)d;
        sink->gap(sink->arg, (uint32_t)d);
        r->next_seq = seq;
    }
    reasm_segment(r, seq, p, n, wire, pkt_no, ts_ns, sink);
}

void reasm_acked(struct reasm_dir *r, uint32_t ack, const struct reasm_sink *sink)
{
    if (!r->started || r->ooo == NULL)
        return;
    if (seq_diff(ack, r->ooo->seq) > 0)
        reasm_skip_hole(r, sink);
}

void reasm_flush(struct reasm_dir *r, const struct reasm_sink *sink)
{
    while (r->ooo != NULL)
        reasm_skip_hole(r, sink);
}

void reasm_free(struct reasm_dir *r)
{
    while (r->ooo != NULL) {
        struct reasm_seg *s = r->ooo;
        r->ooo = s->next;
        seg_release(r, s);
    }
}

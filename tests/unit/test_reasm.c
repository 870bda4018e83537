/*
 * test_reasm.c - TCP reassembly of one direction (scanner/reasm.c).
 *
 * A recording sink writes what comes out as one string: delivered bytes as
 * they are, a gap of N bytes as "<N>".  Segments carry letters, so the
 * expected stream reads like the conversation: "abc<3>ghi" is "abc", three
 * lost bytes, "ghi".  Segment bytes are placed with guarded_copy(), so a
 * read past a segment crashes.  The big tests (caps) use a checking sink
 * instead: every byte must be the one the sender put at that sequence
 * number, delivered once, in order, with gaps accounted for.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../scanner/limits.h"
#include "../../scanner/reasm.h"
#include "../../scanner/stats.h"
#include "unit.h"

/* ------------------------------------------------------------------ sinks */

struct rec {
    char log[4096];
    size_t len;
    unsigned ndata, ngap;
    uint64_t last_pkt;
};

static void rec_data(void *arg, const uint8_t *p, uint32_t n, uint64_t pkt_no, uint64_t ts_ns)
{
    struct rec *r = arg;
    (void)ts_ns;
    CHECK(n > 0);
    for (uint32_t i = 0; i < n && r->len + 1 < sizeof r->log; i++)
        r->log[r->len++] = (char)p[i];
    r->log[r->len] = '\0';
    r->ndata++;
    r->last_pkt = pkt_no;
}

static void rec_gap(void *arg, uint32_t len)
{
    struct rec *r = arg;
    CHECK(len > 0);
    int w = snprintf(r->log + r->len, sizeof r->log - r->len, "<%u>", len);
    if (w > 0 && r->len + (size_t)w < sizeof r->log)
        r->len += (size_t)w;
    r->ngap++;
}

static struct rec rec;
static const struct reasm_sink sink = { rec_data, rec_gap, &rec };

static void reset(struct reasm_dir *r)
{
    memset(r, 0, sizeof *r);
    memset(&rec, 0, sizeof rec);
    memset(&g_stats, 0, sizeof g_stats);
}

/* A segment of the C string s at seq, all of it captured. */
static void seg(struct reasm_dir *r, uint32_t seq, const char *s)
{
    uint32_t n = (uint32_t)strlen(s);
    const uint8_t *p = guarded_copy(s, n);
    reasm_segment(r, seq, p, n, n, 1, 0, &sink);
}

/* A segment of which only the first strlen(s) of wire bytes were captured. */
static void seg_cut(struct reasm_dir *r, uint32_t seq, const char *s, uint32_t wire)
{
    uint32_t n = (uint32_t)strlen(s);
    const uint8_t *p = guarded_copy(s, n);
    reasm_segment(r, seq, p, n, wire, 1, 0, &sink);
}

/* Held segments and the accounting agree. */
static void check_free(struct reasm_dir *r)
{
    reasm_free(r);
    CHECK(r->ooo == NULL);
    CHECK_EQ(r->ooo_bytes, 0);
    CHECK_EQ(r->ooo_segs, 0);
    CHECK_EQ(g_stats.reasm_bytes, 0);
}

/* ------------------------------------------------------------------ order */

static void test_in_order(void)
{
    struct reasm_dir r;
    reset(&r);
    reasm_syn(&r, 1000);
    seg(&r, 1001, "abc");
    seg(&r, 1004, "def");
    CHECK_STR(rec.log, "abcdef");
    CHECK_EQ(rec.ndata, 2);
    CHECK_EQ(r.next_seq, 1007);
    CHECK_EQ(g_stats.tcp_out_of_order, 0);
    CHECK(r.ooo == NULL);
    check_free(&r);
}

/* A segment exactly 2^31 behind the stream (the sequence distance is
 * INT32_MIN): an old retransmission, dropped without overflow (the UBSan
 * build checks the negation). */
static void test_half_space_behind(void)
{
    struct reasm_dir r;
    reset(&r);
    reasm_syn(&r, 1000);
    seg(&r, 1001, "abc");
    seg(&r, 1004u - 0x80000000u, "zzz");
    CHECK_STR(rec.log, "abc");
    CHECK_EQ(g_stats.tcp_retransmitted, 1);
    CHECK_EQ(r.next_seq, 1004);
    check_free(&r);
}

/* Three segments in reverse: held, then delivered in order, once. */
static void test_reverse(void)
{
    struct reasm_dir r;
    reset(&r);
    reasm_syn(&r, 1000);
    seg(&r, 1007, "ghi");
    seg(&r, 1004, "def");
    CHECK_STR(rec.log, "");
    CHECK_EQ(r.ooo_segs, 2);
    CHECK_EQ(r.ooo_bytes, 6);
    CHECK(g_stats.reasm_bytes > 6);
    seg(&r, 1001, "abc");
    CHECK_STR(rec.log, "abcdefghi");
    CHECK_EQ(g_stats.tcp_out_of_order, 2);
    CHECK_EQ(r.ooo_segs, 0);
    CHECK_EQ(g_stats.reasm_bytes, 0);
    reasm_flush(&r, &sink);
    CHECK_STR(rec.log, "abcdefghi");
    check_free(&r);
}

static void test_retransmission(void)
{
    struct reasm_dir r;
    reset(&r);
    reasm_syn(&r, 1000);
    seg(&r, 1001, "abc");
    seg(&r, 1001, "abc");
    seg(&r, 1004, "def");
    seg(&r, 1001, "abcdef");
    CHECK_STR(rec.log, "abcdef");
    CHECK_EQ(g_stats.tcp_retransmitted, 2);

    /* a held segment retransmitted before the hole fills */
    reset(&r);
    reasm_syn(&r, 1000);
    seg(&r, 1004, "def");
    seg(&r, 1004, "def");
    seg(&r, 1005, "ef");
    seg(&r, 1001, "abc");
    CHECK_STR(rec.log, "abcdef");
    CHECK_EQ(g_stats.tcp_retransmitted, 2);
    check_free(&r);
}

/* An overlap with different bytes: the first copy wins, so the stream is
 * the same whichever consumer looks. */
static void test_overlap_first_wins(void)
{
    struct reasm_dir r;
    reset(&r);
    reasm_syn(&r, 1000);
    seg(&r, 1001, "abcd");
    seg(&r, 1003, "XXef");                  /* 1003-1004 already delivered */
    CHECK_STR(rec.log, "abcdef");
    CHECK_EQ(g_stats.tcp_overlaps, 1);

    /* against held data: the held copy wins */
    reset(&r);
    reasm_syn(&r, 1000);
    seg(&r, 1004, "def");                   /* held */
    seg(&r, 1003, "cXXX");                  /* held too, trimmed to "c" */
    seg(&r, 1001, "ab");
    CHECK_STR(rec.log, "abcdef");
    CHECK(g_stats.tcp_overlaps >= 1);

    /* a new segment starting inside a held one */
    reset(&r);
    reasm_syn(&r, 1000);
    seg(&r, 1004, "def");
    seg(&r, 1005, "XXgh");                  /* trimmed to "gh" at 1007 */
    seg(&r, 1001, "abc");
    CHECK_STR(rec.log, "abcdefgh");
    check_free(&r);
}

/* An in-order segment that covers a held one and goes beyond it (a
 * retransmission that coalesces lost and new data, common with TSO): the
 * bytes past the held segment were captured and must be delivered. */
static void test_overlap_covering_in_order(void)
{
    struct reasm_dir r;
    reset(&r);
    reasm_syn(&r, 1000);
    seg(&r, 1004, "def");                   /* held */
    seg(&r, 1001, "abcXXXgh");              /* 1001-1008 */
    reasm_flush(&r, &sink);
    CHECK_STR(rec.log, "abcdefgh");
    CHECK_EQ(r.next_seq, 1009);
    check_free(&r);
}

/* The same while both are held. */
static void test_overlap_covering_held(void)
{
    struct reasm_dir r;
    reset(&r);
    reasm_syn(&r, 1000);
    seg(&r, 1005, "e");                     /* held */
    seg(&r, 1004, "dXf");                   /* held: 1004 and 1006 are new */
    seg(&r, 1001, "abc");
    reasm_flush(&r, &sink);
    CHECK_STR(rec.log, "abcdef");
    CHECK_EQ(r.next_seq, 1007);
    check_free(&r);
}

/* No SYN seen: the first segment defines the start. */
static void test_mid_stream(void)
{
    struct reasm_dir r;
    reset(&r);
    seg(&r, 5000, "abc");
    seg(&r, 5003, "def");
    CHECK_STR(rec.log, "abcdef");
    /* a later SYN does not restart a started stream */
    reasm_syn(&r, 1);
    seg(&r, 5006, "g");
    CHECK_STR(rec.log, "abcdefg");
    check_free(&r);
}

/* Sequence numbers wrap at 2^32, in order and out of order. */
static void test_wraparound(void)
{
    struct reasm_dir r;
    reset(&r);
    reasm_syn(&r, 0xfffffffcu);             /* stream starts at 0xfffffffd */
    seg(&r, 0xfffffffdu, "ab");
    seg(&r, 0xffffffffu, "cd");             /* crosses zero */
    seg(&r, 0x00000001u, "ef");
    CHECK_STR(rec.log, "abcdef");

    reset(&r);
    reasm_syn(&r, 0xfffffffdu);             /* stream starts at 0xfffffffe */
    seg(&r, 0x00000002u, "ef");             /* held, past zero */
    seg(&r, 0x00000000u, "cd");             /* held */
    CHECK_STR(rec.log, "");
    seg(&r, 0x00000001u, "dX");             /* retransmission + overlap */
    seg(&r, 0xfffffffeu, "ab");
    CHECK_STR(rec.log, "abcdef");
    CHECK_EQ(r.next_seq, 4);

    /* a SYN at 0xffffffff: data starts at 0 */
    reset(&r);
    reasm_syn(&r, 0xffffffffu);
    seg(&r, 0, "abc");
    CHECK_STR(rec.log, "abc");
    check_free(&r);
}

/* ------------------------------------------------------------------ holes */

static void test_hole_filled_later(void)
{
    struct reasm_dir r;
    reset(&r);
    reasm_syn(&r, 1000);
    seg(&r, 1001, "abc");
    seg(&r, 1007, "ghi");
    CHECK_STR(rec.log, "abc");
    seg(&r, 1004, "def");
    CHECK_STR(rec.log, "abcdefghi");
    CHECK_EQ(rec.ngap, 0);
    check_free(&r);
}

static void test_hole_never_filled(void)
{
    struct reasm_dir r;
    reset(&r);
    reasm_syn(&r, 1000);
    seg(&r, 1001, "abc");
    seg(&r, 1007, "ghi");
    seg(&r, 1013, "mno");
    reasm_flush(&r, &sink);
    CHECK_STR(rec.log, "abc<3>ghi<3>mno");
    CHECK_EQ(g_stats.tcp_gaps, 2);
    CHECK_EQ(g_stats.tcp_gap_bytes, 6);
    CHECK_EQ(r.next_seq, 1016);
    CHECK_EQ(g_stats.reasm_bytes, 0);
    /* the stream goes on after a flush */
    seg(&r, 1016, "p");
    CHECK_STR(rec.log, "abc<3>ghi<3>mnop");
    check_free(&r);
}

/* The receiver acknowledged past the hole: the capture lost it, waiting
 * is pointless. */
static void test_ack_beyond_hole(void)
{
    struct reasm_dir r;
    reset(&r);
    reasm_syn(&r, 1000);
    seg(&r, 1001, "abc");
    seg(&r, 1007, "ghi");
    seg(&r, 1013, "mno");
    reasm_acked(&r, 1004, &sink);           /* up to the hole: nothing to say */
    CHECK_STR(rec.log, "abc");
    reasm_acked(&r, 1010, &sink);           /* past the first hole only */
    CHECK_STR(rec.log, "abc<3>ghi");
    CHECK_EQ(g_stats.tcp_gaps, 1);
    CHECK_EQ(r.ooo_segs, 1);
    reasm_acked(&r, 1016, &sink);
    CHECK_STR(rec.log, "abc<3>ghi<3>mno");
    check_free(&r);

    /* an ACK on a stream that has not started does nothing */
    reset(&r);
    reasm_acked(&r, 1234, &sink);
    CHECK_STR(rec.log, "");
}

/* Snaplen cuts: what was captured, then a gap for the rest. */
static void test_snaplen_cut(void)
{
    struct reasm_dir r;
    reset(&r);
    reasm_syn(&r, 1000);
    seg_cut(&r, 1001, "abc", 10);
    CHECK_STR(rec.log, "abc<7>");
    seg(&r, 1011, "xyz");
    CHECK_STR(rec.log, "abc<7>xyz");
    CHECK_EQ(g_stats.tcp_gap_bytes, 7);

    /* a cut segment held out of order, then the hole filled */
    reset(&r);
    reasm_syn(&r, 1000);
    seg_cut(&r, 1004, "de", 5);             /* 1004-1008, 2 captured */
    seg(&r, 1009, "ij");
    seg(&r, 1001, "abc");
    CHECK_STR(rec.log, "abcde<3>ij");

    /* nothing captured at all */
    reset(&r);
    reasm_syn(&r, 1000);
    seg_cut(&r, 1001, "", 4);
    seg(&r, 1005, "e");
    CHECK_STR(rec.log, "<4>e");

    /* a retransmission of a cut segment brings the missing bytes?  No: the
     * gap was declared, the stream moved on, and the retransmission is old */
    seg(&r, 1001, "abcd");
    CHECK_STR(rec.log, "<4>e");
    check_free(&r);
}

/* Zero-length segments (pure ACKs) change nothing. */
static void test_empty_segments(void)
{
    struct reasm_dir r;
    reset(&r);
    reasm_segment(&r, 77, guarded_copy("", 0), 0, 0, 1, 0, &sink);
    CHECK(!r.started);
    reasm_syn(&r, 1000);
    reasm_segment(&r, 1001, guarded_copy("", 0), 0, 0, 1, 0, &sink);
    seg(&r, 1001, "a");
    CHECK_STR(rec.log, "a");
    check_free(&r);
}

static void test_packet_numbers(void)
{
    struct reasm_dir r;
    reset(&r);
    reasm_syn(&r, 1000);
    const uint8_t *p = guarded_copy("def", 3);
    reasm_segment(&r, 1004, p, 3, 3, 7, 70, &sink);
    p = guarded_copy("abc", 3);
    reasm_segment(&r, 1001, p, 3, 3, 8, 80, &sink);
    CHECK_STR(rec.log, "abcdef");
    CHECK_EQ(rec.last_pkt, 7);              /* "def" keeps its own packet */
    check_free(&r);
}

/* ------------------------------------------------------------------ caps */

/* The byte the sender put at sequence number s. */
static uint8_t pattern(uint32_t s)
{
    return (uint8_t)(s * 2654435761u >> 24);
}

/* Checks that bytes come once, in order, and are the sender's. */
struct check {
    uint32_t next;              /* sequence number of the next byte expected */
    uint64_t data, gaps, gap_bytes;
    bool bad;
};

static void check_data(void *arg, const uint8_t *p, uint32_t n, uint64_t pkt_no, uint64_t ts)
{
    struct check *c = arg;
    (void)pkt_no, (void)ts;
    for (uint32_t i = 0; i < n; i++)
        if (p[i] != pattern(c->next + i))
            c->bad = true;
    c->next += n;
    c->data += n;
}

static void check_gap(void *arg, uint32_t len)
{
    struct check *c = arg;
    c->next += len;
    c->gaps++;
    c->gap_bytes += len;
}

static uint8_t big[4096];

static void check_seg(struct reasm_dir *r, uint32_t seq, uint32_t n,
                      const struct reasm_sink *s)
{
    for (uint32_t i = 0; i < n; i++)
        big[i] = pattern(seq + i);
    reasm_segment(r, seq, big, n, n, 1, 0, s);
}

/* Out-of-order data past REASM_MAX_OOO_BYTES: the hole becomes a gap,
 * memory stays bounded, every captured byte still comes out once. */
static void test_ooo_byte_cap(void)
{
    struct reasm_dir r;
    struct check c = { 0 };
    struct reasm_sink s = { check_data, check_gap, &c };
    memset(&r, 0, sizeof r);
    memset(&g_stats, 0, sizeof g_stats);
    reasm_syn(&r, 999);
    c.next = 1000;
    check_seg(&r, 1000, 100, &s);
    /* byte 1100 never comes; 1101.. arrive in 1000-byte segments */
    uint32_t seq = 1101;
    uint32_t total = REASM_MAX_OOO_BYTES + 50 * 1000;
    for (uint32_t sent = 0; sent < total; sent += 1000) {
        check_seg(&r, seq, 1000, &s);
        seq += 1000;
        CHECK(r.ooo_bytes <= REASM_MAX_OOO_BYTES);
    }
    CHECK(g_stats.reasm_ooo_cap > 0);
    CHECK_EQ(c.gaps, 1);
    CHECK_EQ(c.gap_bytes, 1);
    CHECK(!c.bad);
    reasm_flush(&r, &s);
    CHECK_EQ(c.next, seq);
    CHECK_EQ(c.data, seq - 1000 - 1);
    CHECK(!c.bad);
    CHECK_EQ(g_stats.reasm_bytes, 0);
    reasm_free(&r);
}

/* Many tiny held segments: REASM_MAX_OOO_SEGS bounds them. */
static void test_ooo_segment_cap(void)
{
    struct reasm_dir r;
    struct check c = { 0 };
    struct reasm_sink s = { check_data, check_gap, &c };
    memset(&r, 0, sizeof r);
    memset(&g_stats, 0, sizeof g_stats);
    reasm_syn(&r, 0);
    c.next = 1;
    /* one byte every second sequence number: each is a held segment */
    uint32_t seq = 2;
    for (unsigned i = 0; i < REASM_MAX_OOO_SEGS + 100; i++, seq += 2) {
        check_seg(&r, seq, 1, &s);
        CHECK(r.ooo_segs <= REASM_MAX_OOO_SEGS);
    }
    CHECK(g_stats.reasm_ooo_cap > 0);
    CHECK(c.gaps > 0);
    reasm_flush(&r, &s);
    CHECK_EQ(c.next, seq - 1);
    CHECK(!c.bad);
    CHECK_EQ(c.data + c.gap_bytes, seq - 2);
    CHECK_EQ(g_stats.reasm_bytes, 0);
    reasm_free(&r);
}

/* The global reassembly memory cap (all flows together): out-of-order data
 * that would pass it is not held; the hole becomes a gap at once. */
static void test_memcap(void)
{
    struct reasm_dir r;
    reset(&r);
    g_stats.reasm_bytes = REASM_MEMCAP;         /* other flows hold it all */
    reasm_syn(&r, 1000);
    seg(&r, 1001, "abc");
    seg(&r, 1007, "ghi");
    CHECK_EQ(g_stats.reasm_memcap, 1);
    CHECK_STR(rec.log, "abc<3>ghi");
    CHECK(r.ooo == NULL);
    CHECK_EQ(g_stats.reasm_bytes, REASM_MEMCAP);
    g_stats.reasm_bytes = 0;
    check_free(&r);
}

/* Scrambled delivery with retransmissions and overlaps: every byte once,
 * in order, whatever the arrival order. */
static void test_scrambled(void)
{
    uint64_t rnd = 88172645463325252ULL;
    for (int round = 0; round < 200; round++) {
        struct reasm_dir r;
        struct check c = { 0 };
        struct reasm_sink s = { check_data, check_gap, &c };
        memset(&r, 0, sizeof r);
        memset(&g_stats, 0, sizeof g_stats);
        uint32_t isn = (uint32_t)(round * 0x01234567u) - 3000;  /* some rounds wrap */
        reasm_syn(&r, isn);
        c.next = isn + 1;
        const uint32_t len = 3000;
        for (int k = 0; k < 60; k++) {
            rnd ^= rnd << 13, rnd ^= rnd >> 7, rnd ^= rnd << 17;
            uint32_t off = (uint32_t)(rnd % len);
            uint32_t n = 1 + (uint32_t)((rnd >> 20) % 400);
            if (off + n > len)
                n = len - off;
            check_seg(&r, isn + 1 + off, n, &s);
        }
        /* then the whole stream again in order, a byte at a time: fills
         * every hole (test_overlap_covering_* cover longer segments) */
        for (uint32_t off = 0; off < len; off++)
            check_seg(&r, isn + 1 + off, 1, &s);
        CHECK(!c.bad);
        CHECK_EQ(c.gaps, 0);
        CHECK_EQ(c.data, len);
        CHECK(r.ooo == NULL);
        CHECK_EQ(g_stats.reasm_bytes, 0);
        reasm_free(&r);
    }
}

/* Accounting: held bytes are counted in g_stats.reasm_bytes and given back
 * by reasm_free (flow dropped) and by reasm_flush (flow ended). */
static void test_accounting(void)
{
    struct reasm_dir r;
    reset(&r);
    reasm_syn(&r, 1000);
    seg(&r, 1010, "jkl");
    seg(&r, 1020, "tuv");
    CHECK(g_stats.reasm_bytes >= 6);
    CHECK(g_stats.reasm_bytes_peak >= g_stats.reasm_bytes);
    reasm_free(&r);
    CHECK_EQ(g_stats.reasm_bytes, 0);
    CHECK(r.ooo == NULL);
    CHECK_STR(rec.log, "");                 /* freed, not delivered */

    reset(&r);
    reasm_syn(&r, 1000);
    seg(&r, 1010, "jkl");
    seg(&r, 1020, "tuv");
    reasm_flush(&r, &sink);
    CHECK_STR(rec.log, "<9>jkl<7>tuv");
    CHECK_EQ(g_stats.reasm_bytes, 0);
    CHECK_EQ(r.ooo_bytes, 0);
    CHECK_EQ(r.ooo_segs, 0);
    reasm_free(&r);
}

int main(void)
{
    RUN(test_in_order);
    RUN(test_reverse);
    RUN(test_half_space_behind);
    RUN(test_retransmission);
    RUN(test_overlap_first_wins);
    RUN(test_overlap_covering_in_order);
    RUN(test_overlap_covering_held);
    RUN(test_mid_stream);
    RUN(test_wraparound);
    RUN(test_hole_filled_later);
    RUN(test_hole_never_filled);
    RUN(test_ack_beyond_hole);
    RUN(test_snaplen_cut);
    RUN(test_empty_segments);
    RUN(test_packet_numbers);
    RUN(test_ooo_byte_cap);
    RUN(test_ooo_segment_cap);
    RUN(test_memcap);
    RUN(test_scrambled);
    RUN(test_accounting);
    return unit_done("test_reasm");
}

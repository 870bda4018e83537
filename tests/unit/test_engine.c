/*
 * test_engine.c - whole conversations through engine_packet() (scanner/
 * engine.c with flow.c, reasm.c, decode.c and, when asked, nDPI).
 *
 * Frames are Ethernet / IPv4 / TCP (or UDP) built by tcp_frame() below,
 * whose layout comment is the byte map, and placed with guarded_copy().
 * A test detector is installed with engine_use_detectors(): it writes the
 * bytes it is given into one log per direction, gaps as "<N>", and counts
 * on_start and on_end.  Its mode decides what on_data returns: everything,
 * one byte at a time, or 0 until a length-prefixed message is complete
 * (the consumed / need-more contract of detectors/detector.h).
 *
 * Each case runs with the classifier off and, where it matters, on (nDPI
 * decides later, so the held-bytes replay path is exercised).  Between
 * cases: engine_finish(), findings_free(), services_free(), engine_free(),
 * and g_stats is cleared.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../detectors/detector.h"
#include "../../reports/finding.h"
#include "../../reports/service.h"
#include "../../scanner/decode.h"
#include "../../scanner/engine.h"
#include "../../scanner/limits.h"
#include "../../scanner/stats.h"
#include "unit.h"

#define NS 1000000000ULL

/* ------------------------------------------------------------------ detector */

enum tmode {
    T_ALL,          /* consume everything */
    T_ONE,          /* one byte per call */
    T_FRAMED,       /* 1-byte length + payload: 0 until complete; logs "[payload]" */
    T_LINES,        /* "PASS x\n" lines: 0 until the newline; emits x as a secret */
    T_DETACH,       /* consume the first bytes offered, then detach */
};

static struct {
    enum tmode mode;
    char log[2][16384];
    size_t len[2];
    unsigned starts, ends, calls, gaps;
    uint16_t client_port, server_port;
    bool state_dirty;           /* a new flow's state was not zeroed */
} T;

static const struct rule rule_pw = {
    "test.cleartext-password", SEV_HIGH, "A password in clear",
    "Use TLS.", COMPLIANCE_CREDENTIALS
};
static const struct rule *const test_rules[] = { &rule_pw };

struct tstate {
    uint32_t calls;
};

static void t_append(int d, const void *p, size_t n)
{
    for (size_t i = 0; i < n && T.len[d] + 1 < sizeof T.log[d]; i++)
        T.log[d][T.len[d]++] = ((const char *)p)[i];
    T.log[d][T.len[d]] = '\0';
}

static void t_start(struct det_ctx *ctx)
{
    struct tstate *st = ctx->state;
    if (st->calls != 0)
        T.state_dirty = true;
    T.starts++;
    T.client_port = ctx->flow->client_port;
    T.server_port = ctx->flow->server_port;
}

static size_t t_data(struct det_ctx *ctx, enum dir d, const uint8_t *p, size_t n)
{
    struct tstate *st = ctx->state;
    st->calls++;
    T.calls++;
    switch (T.mode) {
    case T_ALL:
        t_append(d, p, n);
        return n;
    case T_ONE:
        t_append(d, p, 1);
        return 1;
    case T_FRAMED: {
        if (n < 1 || n < 1u + p[0])
            return 0;
        t_append(d, "[", 1);
        t_append(d, p + 1, p[0]);
        t_append(d, "]", 1);
        return 1u + p[0];
    }
    case T_LINES: {
        const uint8_t *nl = memchr(p, '\n', n);
        if (nl == NULL)
            return 0;
        size_t line = (size_t)(nl - p) + 1;
        t_append(d, p, line);
        if (d == DIR_TO_SERVER && line > 6 && memcmp(p, "PASS ", 5) == 0)
            detector_emit(ctx, &rule_pw, d, "password", p + 5, line - 6, EV_SECRET);
        return line;
    }
    case T_DETACH:
        t_append(d, p, n);
        detector_detach(ctx);
        return n;
    }
    return n;
}

static void t_gap(struct det_ctx *ctx, enum dir d, uint64_t len)
{
    (void)ctx;
    char s[32];
    int w = snprintf(s, sizeof s, "<%llu>", (unsigned long long)len);
    t_append(d, s, (size_t)w);
    T.gaps++;
}

static void t_end(struct det_ctx *ctx)
{
    (void)ctx;
    T.ends++;
}

static const struct detector detector_test = {
    .name = "test",
    .rules = test_rules,
    .nrules = 1,
    .state_size = sizeof(struct tstate),
    .wants = NULL,
    .on_start = t_start,
    .on_data = t_data,
    .on_gap = t_gap,
    .on_end = t_end,
};
static const struct detector *const test_list[] = { &detector_test, NULL };

/* ------------------------------------------------------------------ frames */

struct ep {
    uint8_t ip[4];
    uint16_t port;
};

/* The capture clock: every case starts well after the previous one ended,
 * so the engine's once-a-second sweep runs as it would on a fresh input. */
static uint64_t now_ns = 1700000000ULL * NS;
static uint64_t pkt_no;

/*
 * Ethernet / IPv4 / TCP, 54 bytes of headers:
 *   dst 00:11:22:33:44:55  src 66:77:88:99:aa:bb  type 0800
 *   45 00 len(2)  0000 4000  40 06 0000  src(4) dst(4)
 *   sport(2) dport(2) seq(4) ack(4) 50 flags(1) ffff 0000 0000
 *   payload
 */
static size_t tcp_frame(uint8_t *f, const struct ep *src, const struct ep *dst, uint32_t seq,
                        uint32_t ack, uint8_t flags, const void *data, size_t n)
{
    static const uint8_t eth[14] = {
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x08, 0x00
    };
    size_t tot = 40 + n;
    memcpy(f, eth, 14);
    uint8_t *ip = f + 14;
    memset(ip, 0, 40);
    ip[0] = 0x45;
    ip[2] = (uint8_t)(tot >> 8);
    ip[3] = (uint8_t)tot;
    ip[6] = 0x40;
    ip[8] = 64;
    ip[9] = 6;
    memcpy(ip + 12, src->ip, 4);
    memcpy(ip + 16, dst->ip, 4);
    uint8_t *t = ip + 20;
    t[0] = (uint8_t)(src->port >> 8), t[1] = (uint8_t)src->port;
    t[2] = (uint8_t)(dst->port >> 8), t[3] = (uint8_t)dst->port;
    t[4] = (uint8_t)(seq >> 24), t[5] = (uint8_t)(seq >> 16);
    t[6] = (uint8_t)(seq >> 8), t[7] = (uint8_t)seq;
    t[8] = (uint8_t)(ack >> 24), t[9] = (uint8_t)(ack >> 16);
    t[10] = (uint8_t)(ack >> 8), t[11] = (uint8_t)ack;
    t[12] = 0x50;
    t[13] = flags;
    t[14] = 0xff, t[15] = 0xff;
    if (n > 0)
        memcpy(t + 20, data, n);
    return 54 + n;
}

/* Ethernet / IPv4 / UDP: as above with protocol 17 and an 8-byte header
 * sport(2) dport(2) length(2) checksum(2). */
static size_t udp_frame(uint8_t *f, const struct ep *src, const struct ep *dst,
                        const void *data, size_t n)
{
    struct ep s = *src;
    size_t len = tcp_frame(f, &s, dst, 0, 0, 0, NULL, 0);
    (void)len;
    uint8_t *ip = f + 14;
    size_t tot = 28 + n;
    ip[2] = (uint8_t)(tot >> 8);
    ip[3] = (uint8_t)tot;
    ip[9] = 17;
    uint8_t *u = ip + 20;
    u[4] = (uint8_t)((8 + n) >> 8), u[5] = (uint8_t)(8 + n);
    u[6] = 0, u[7] = 0;
    memcpy(u + 8, data, n);
    return 42 + n;
}

/* Feeds one frame, of which `captured` bytes were kept (snaplen). */
static void feed(const uint8_t *frame, size_t len, size_t captured)
{
    const uint8_t *p = guarded_copy(frame, captured);
    engine_packet(1, p, (uint32_t)captured, (uint32_t)len, now_ns, ++pkt_no);
    now_ns += 1000000;              /* 1 ms between packets */
}

static void send_tcp(const struct ep *src, const struct ep *dst, uint32_t seq, uint32_t ack,
                     uint8_t flags, const char *data, size_t n)
{
    static uint8_t f[2048];
    size_t len = tcp_frame(f, src, dst, seq, ack, flags, data, n);
    feed(f, len, len);
}

static void send_udp(const struct ep *src, const struct ep *dst, const char *data, size_t n)
{
    static uint8_t f[2048];
    size_t len = udp_frame(f, src, dst, data, n);
    feed(f, len, len);
}

/* A TCP conversation: next sequence numbers of each side. */
struct conv {
    struct ep c, s;
    uint32_t cseq, sseq;
};

static struct conv conv_make(uint8_t client_last, uint16_t cport, uint8_t server_last,
                             uint16_t sport, uint32_t cisn, uint32_t sisn)
{
    struct conv v = {
        { { 10, 0, 0, client_last }, cport },
        { { 10, 0, 0, server_last }, sport },
        cisn + 1, sisn + 1
    };
    return v;
}

static void handshake(struct conv *v)
{
    send_tcp(&v->c, &v->s, v->cseq - 1, 0, TCP_SYN, NULL, 0);
    send_tcp(&v->s, &v->c, v->sseq - 1, v->cseq, TCP_SYN | TCP_ACK, NULL, 0);
    send_tcp(&v->c, &v->s, v->cseq, v->sseq, TCP_ACK, NULL, 0);
}

/* Client data at offset off from the next sequence number (not advanced). */
static void c2s_at(struct conv *v, uint32_t off, const char *s)
{
    send_tcp(&v->c, &v->s, v->cseq + off, v->sseq, TCP_PSH | TCP_ACK, s, strlen(s));
}

static void c2s(struct conv *v, const char *s)
{
    c2s_at(v, 0, s);
    v->cseq += (uint32_t)strlen(s);
}

static void s2c(struct conv *v, const char *s)
{
    send_tcp(&v->s, &v->c, v->sseq, v->cseq, TCP_PSH | TCP_ACK, s, strlen(s));
    v->sseq += (uint32_t)strlen(s);
}

static void fin_both(struct conv *v)
{
    send_tcp(&v->c, &v->s, v->cseq, v->sseq, TCP_FIN | TCP_ACK, NULL, 0);
    v->cseq++;
    send_tcp(&v->s, &v->c, v->sseq, v->cseq, TCP_FIN | TCP_ACK, NULL, 0);
    v->sseq++;
    send_tcp(&v->c, &v->s, v->cseq, v->sseq, TCP_ACK, NULL, 0);
}

/* ------------------------------------------------------------------ setup */

static void start(bool classify, enum tmode mode)
{
    now_ns += 100000 * NS;
    memset(&g_stats, 0, sizeof g_stats);
    memset(&T, 0, sizeof T);
    T.mode = mode;
    struct engine_options opt = { .classify = classify };
    char err[256] = "";
    int rc = engine_init(&opt, err, sizeof err);
    CHECK_EQ(rc, 0);
    if (rc != 0)
        fprintf(stderr, "engine_init: %s\n", err);
    engine_use_detectors(test_list);
}

/* Ends every flow; all reassembly and hold memory must be given back. */
static void finish(void)
{
    engine_finish();
    CHECK_EQ(g_stats.reasm_bytes, 0);
    CHECK_EQ(g_stats.flows_active, 0);
    CHECK(!T.state_dirty);
}

static void cleanup(void)
{
    findings_free();
    services_free();
    engine_free();
    engine_use_detectors(NULL);
}

/* The one service of a case, or false. */
static bool only_service(struct service_view *v)
{
    if (services_count() != 1) {
        fprintf(stderr, "  %zu services, expected 1\n", services_count());
        return false;
    }
    service_view_at(0, v);
    return true;
}

/* ------------------------------------------------------------------ streams */

/* Handshake, data both ways, FIN: the detector sees each direction exactly
 * and on_end once. */
static void test_conversation(void)
{
    for (int cls = 0; cls < 2; cls++) {
        start(cls, T_ALL);
        struct conv v = conv_make(1, 50000, 2, 3306, 1000, 5000);
        handshake(&v);
        c2s(&v, "hello ");
        s2c(&v, "hi there\n");
        c2s(&v, "world\n");
        s2c(&v, "bye\n");
        fin_both(&v);
        if (!cls) {
            /* without nDPI the flow is decided at once: bytes flow live */
            CHECK_STR(T.log[0], "hello world\n");
            CHECK_STR(T.log[1], "hi there\nbye\n");
        }
        finish();
        CHECK_STR(T.log[0], "hello world\n");
        CHECK_STR(T.log[1], "hi there\nbye\n");
        CHECK_EQ(T.starts, 1);
        CHECK_EQ(T.ends, 1);
        CHECK_EQ(T.gaps, 0);
        CHECK_EQ(T.client_port, 50000);
        CHECK_EQ(T.server_port, 3306);
        CHECK_EQ(g_stats.flows, 1);
        CHECK_EQ(g_stats.flows_tcp, 1);
        struct service_view sv;
        if (only_service(&sv)) {
            CHECK_EQ(sv.port, 3306);
            CHECK_EQ(sv.flows, 1);
            CHECK_EQ(sv.transport, 6);
            CHECK_EQ(sv.server.b[3], 2);
            CHECK_EQ(sv.flows_encrypted, 0);
        }
        cleanup();
    }
}

/* Segments out of order, retransmitted and overlapping (with different
 * bytes in the overlap: the first copy wins). */
static void test_out_of_order(void)
{
    for (int cls = 0; cls < 2; cls++) {
        start(cls, T_ALL);
        struct conv v = conv_make(1, 50000, 2, 3306, 0x7ffffff0u, 0xfffffffcu);
        handshake(&v);
        /* client: "abc" "def" "ghi" sent as ghi, def, abc, abc again */
        c2s_at(&v, 6, "ghi");
        c2s_at(&v, 3, "def");
        c2s_at(&v, 0, "abc");
        c2s_at(&v, 0, "abc");
        v.cseq += 9;
        /* server: "0123" then "XX4567" overlapping two bytes it sent
         * (sequence numbers wrap past 2^32 on this side) */
        s2c(&v, "0123");
        v.sseq -= 2;
        s2c(&v, "XX4567");
        c2s(&v, "j");
        fin_both(&v);
        finish();
        CHECK_STR(T.log[0], "abcdefghij");
        CHECK_STR(T.log[1], "01234567");
        CHECK_EQ(T.ends, 1);
        CHECK(g_stats.tcp_out_of_order >= 2);
        CHECK(g_stats.tcp_retransmitted >= 1);
        CHECK(g_stats.tcp_overlaps >= 1);
        cleanup();
    }
}

/* The capture starts mid-stream: no SYN; the first packet is the server's
 * reply.  Ports decide the roles (50000 is ephemeral, 3306 is not). */
static void test_mid_stream(void)
{
    for (int cls = 0; cls < 2; cls++) {
        start(cls, T_ALL);
        struct conv v = conv_make(1, 50000, 2, 3306, 123456, 654321);
        s2c(&v, "row 1\n");
        c2s(&v, "next\n");
        s2c(&v, "row 2\n");
        finish();
        CHECK_EQ(T.client_port, 50000);
        CHECK_EQ(T.server_port, 3306);
        CHECK_STR(T.log[0], "next\n");
        CHECK_STR(T.log[1], "row 1\nrow 2\n");
        CHECK_EQ(T.ends, 1);
        struct service_view sv;
        if (only_service(&sv))
            CHECK_EQ(sv.port, 3306);
        cleanup();
    }
}

/* Holes: one filled by the receiver's ACK (the capture lost it), one
 * never filled before the end. */
static void test_gaps(void)
{
    for (int cls = 0; cls < 2; cls++) {
        start(cls, T_ALL);
        struct conv v = conv_make(1, 50000, 2, 3306, 1000, 5000);
        handshake(&v);
        c2s(&v, "abc");
        c2s_at(&v, 3, "ghi");               /* "def" lost by the capture */
        v.cseq += 6;
        /* the server acknowledges everything: the hole is lost for good */
        send_tcp(&v.s, &v.c, v.sseq, v.cseq, TCP_ACK, NULL, 0);
        CHECK_STR(T.log[0], cls ? T.log[0] : "abc<3>ghi");
        c2s_at(&v, 4, "nop");               /* "jklm" never seen */
        finish();
        CHECK_STR(T.log[0], "abc<3>ghi<4>nop");
        CHECK_EQ(T.ends, 1);
        CHECK_EQ(g_stats.tcp_gaps, 2);
        CHECK_EQ(g_stats.tcp_gap_bytes, 7);
        cleanup();
    }
}

/* A frame cut by the snaplen: what was captured, then a gap. */
static void test_snaplen(void)
{
    start(false, T_ALL);
    struct conv v = conv_make(1, 50000, 2, 3306, 1000, 5000);
    handshake(&v);
    static uint8_t f[256];
    size_t len = tcp_frame(f, &v.c, &v.s, v.cseq, v.sseq, TCP_PSH | TCP_ACK, "abcdefghij", 10);
    feed(f, len, len - 6);
    v.cseq += 10;
    c2s(&v, "k");
    finish();
    CHECK_STR(T.log[0], "abcd<6>k");
    CHECK_EQ(g_stats.snaplen_cut, 1);
    cleanup();
}

/* Data on a SYN (TCP Fast Open) and on a FIN belongs to the stream. */
static void test_syn_fin_payload(void)
{
    for (int cls = 0; cls < 2; cls++) {
        start(cls, T_ALL);
        struct conv v = conv_make(1, 50000, 2, 80, 1000, 5000);
        send_tcp(&v.c, &v.s, v.cseq - 1, 0, TCP_SYN, "GET", 3);
        v.cseq += 3;
        send_tcp(&v.s, &v.c, v.sseq - 1, v.cseq, TCP_SYN | TCP_ACK, NULL, 0);
        send_tcp(&v.c, &v.s, v.cseq, v.sseq, TCP_ACK, NULL, 0);
        send_tcp(&v.c, &v.s, v.cseq, v.sseq, TCP_FIN | TCP_PSH | TCP_ACK, " /x", 3);
        v.cseq += 4;
        send_tcp(&v.s, &v.c, v.sseq, v.cseq, TCP_FIN | TCP_PSH | TCP_ACK, "ok", 2);
        finish();
        CHECK_STR(T.log[0], "GET /x");
        CHECK_STR(T.log[1], "ok");
        CHECK_EQ(T.ends, 1);
        cleanup();
    }
}

/* ------------------------------------------------------------------ contract */

/* A detector that returns 0 gets the same bytes again, followed by the
 * next ones: a message split over segments is parsed whole. */
static void test_need_more(void)
{
    for (int cls = 0; cls < 2; cls++) {
        start(cls, T_FRAMED);
        struct conv v = conv_make(1, 50000, 2, 3306, 1000, 5000);
        handshake(&v);
        c2s(&v, "\x05hel");
        c2s(&v, "lo\x03" "ab");
        c2s(&v, "c\x01");
        c2s(&v, "z\x02");
        s2c(&v, "\x02ok\x04");
        s2c(&v, "done");
        fin_both(&v);
        finish();
        CHECK_STR(T.log[0], "[hello][abc][z]");     /* "\x02" left pending at the end */
        CHECK_STR(T.log[1], "[ok][done]");
        CHECK_EQ(T.ends, 1);
        cleanup();
    }
}

/* A detector that consumes one byte per call sees every byte once. */
static void test_one_byte_at_a_time(void)
{
    for (int cls = 0; cls < 2; cls++) {
        start(cls, T_ONE);
        struct conv v = conv_make(1, 50000, 2, 3306, 1000, 5000);
        handshake(&v);
        c2s(&v, "SELECT 1;");
        s2c(&v, "1 row");
        c2s_at(&v, 4, "\n");
        c2s(&v, "quit");
        fin_both(&v);
        finish();
        CHECK_STR(T.log[0], "SELECT 1;quit\n");
        CHECK_STR(T.log[1], "1 row");
        CHECK(T.calls >= 19);
        cleanup();
    }
}

/* A message larger than REASM_MAX_PENDING: the detector is told of a gap
 * for what it was holding back, memory stays bounded, the cap is counted,
 * and the stream goes on (the next line is still parsed). */
static void test_pending_cap(void)
{
    start(false, T_LINES);
    struct conv v = conv_make(1, 50000, 2, 3306, 1000, 5000);
    handshake(&v);
    static char chunk[1401];
    memset(chunk, 'A', 1400);
    for (int i = 0; i < 100; i++) {
        c2s(&v, chunk);
        CHECK(g_stats.reasm_bytes <= REASM_MAX_PENDING + 4096);
    }
    c2s(&v, "\nPASS s3cr3tpassw0rd\n");
    finish();
    CHECK(g_stats.reasm_pending_cap > 0);
    CHECK(T.gaps > 0);
    CHECK(stats_incomplete());
    const char *tail = "\nPASS s3cr3tpassw0rd\n";
    CHECK(T.len[0] > strlen(tail) &&
          strcmp(T.log[0] + T.len[0] - strlen(tail), tail) == 0);
    CHECK_EQ(findings_count(), 1);
    CHECK_EQ(T.ends, 1);
    cleanup();
}

/* A detector that detaches gets nothing more, and still its on_end. */
static void test_detach(void)
{
    for (int cls = 0; cls < 2; cls++) {
        start(cls, T_DETACH);
        struct conv v = conv_make(1, 50000, 2, 3306, 1000, 5000);
        handshake(&v);
        c2s(&v, "first");
        c2s(&v, "second");
        s2c(&v, "reply");
        c2s_at(&v, 3, "held");
        fin_both(&v);
        finish();
        CHECK_STR(T.log[0], cls ? T.log[0] : "first");
        CHECK_EQ(T.calls, 1);
        CHECK_EQ(T.ends, 1);
        cleanup();
    }
}

/* ------------------------------------------------------------------ flow ends */

/* on_end exactly once whatever ends the flow. */
static void test_end_fin(void)
{
    start(false, T_ALL);
    struct conv v = conv_make(1, 50000, 2, 3306, 1000, 5000);
    handshake(&v);
    c2s(&v, "x");
    fin_both(&v);
    CHECK_EQ(T.ends, 0);
    /* another flow's packet 10 s later sweeps the closed one */
    now_ns += 10 * NS;
    struct conv w = conv_make(3, 50001, 2, 3306, 1, 1);
    handshake(&w);
    CHECK_EQ(T.ends, 1);
    CHECK_EQ(g_stats.flows_closed, 1);
    finish();
    /* w sent no payload: decided (and offered to detectors) at its end */
    CHECK_EQ(T.ends, 2);
    CHECK_EQ(T.starts, T.ends);
    cleanup();
}

static void test_end_rst(void)
{
    start(false, T_ALL);
    struct conv v = conv_make(1, 50000, 2, 3306, 1000, 5000);
    handshake(&v);
    c2s(&v, "x");
    send_tcp(&v.s, &v.c, v.sseq, v.cseq, TCP_RST | TCP_ACK, NULL, 0);
    /* late packets on the reset flow do not start a new one */
    c2s(&v, "y");
    now_ns += 10 * NS;
    struct conv w = conv_make(3, 50001, 2, 3306, 1, 1);
    handshake(&w);
    CHECK_EQ(T.ends, 1);
    CHECK_EQ(g_stats.flows_closed, 1);
    finish();
    CHECK_EQ(T.ends, 2);
    CHECK_EQ(T.starts, 2);
    cleanup();
}

static void test_end_idle_timeout(void)
{
    for (int cls = 0; cls < 2; cls++) {
        start(cls, T_ALL);
        struct conv v = conv_make(1, 50000, 2, 3306, 1000, 5000);
        handshake(&v);
        c2s(&v, "abc");
        c2s_at(&v, 2, "def");               /* a hole at the end of the flow */
        now_ns += (FLOW_TCP_IDLE_S + 1) * NS;
        struct conv w = conv_make(3, 50001, 2, 3306, 1, 1);
        handshake(&w);
        c2s(&w, "w");
        CHECK_EQ(g_stats.flows_timed_out, 1);
        CHECK_EQ(T.ends, 1);
        /* both flows write to the same log: v's stream, then w's "w" */
        CHECK_STR(T.log[0], cls ? T.log[0] : "abc<2>defw");
        finish();
        CHECK_EQ(T.ends, 2);
        CHECK_EQ(T.starts, 2);
        cleanup();
    }
}

static void test_end_of_input(void)
{
    for (int cls = 0; cls < 2; cls++) {
        start(cls, T_FRAMED);
        struct conv v = conv_make(1, 50000, 2, 3306, 1000, 5000);
        handshake(&v);
        c2s(&v, "\x03" "ab");                  /* incomplete at the end */
        CHECK_EQ(T.ends, 0);
        finish();
        CHECK_EQ(T.ends, 1);
        CHECK_STR(T.log[0], "");
        cleanup();
    }
}

/* Capture time that steps back (a second input older than the first, or
 * a merged file): idleness is measured on the engine's clock, which never
 * steps back, so a flow that started "in the past" times out once the
 * clock has moved on by the idle timeout, like every other flow. */
static void test_time_steps_back(void)
{
    start(false, T_ALL);
    uint64_t t0 = now_ns;
    now_ns = t0 + 2000 * NS;
    struct conv a = conv_make(1, 50000, 2, 3306, 1000, 5000);
    handshake(&a);
    c2s(&a, "a");
    now_ns = t0;                            /* the next input starts earlier */
    struct conv b = conv_make(3, 50001, 2, 3306, 1000, 5000);
    handshake(&b);
    c2s(&b, "b");
    now_ns = t0 + (FLOW_TCP_IDLE_S + 10) * NS;
    struct conv c = conv_make(4, 50002, 2, 3306, 1000, 5000);
    handshake(&c);
    c2s(&c, "c");
    CHECK_EQ(g_stats.flows_timed_out, 0);   /* the clock is still at t0 + 2000 s */
    now_ns = t0 + (2000 + FLOW_TCP_IDLE_S + 10) * NS;
    struct conv d = conv_make(5, 50003, 2, 3306, 1000, 5000);
    handshake(&d);
    CHECK_EQ(g_stats.flows_timed_out, 3);   /* a, b and c */
    CHECK_EQ(T.ends, 3);
    finish();
    CHECK_EQ(T.ends, 4);
    CHECK_EQ(g_stats.flows, 4);
    cleanup();
}

/* A SYN on a finished connection (same ports) is a new flow: the old one
 * ends first. */
static void test_port_reuse(void)
{
    start(false, T_ALL);
    struct conv v = conv_make(1, 50000, 2, 3306, 1000, 5000);
    handshake(&v);
    c2s(&v, "first");
    fin_both(&v);
    struct conv w = conv_make(1, 50000, 2, 3306, 90000, 80000);
    handshake(&w);
    CHECK_EQ(T.ends, 1);
    c2s(&w, "second");
    finish();
    CHECK_EQ(T.ends, 2);
    CHECK_EQ(T.starts, 2);
    CHECK_STR(T.log[0], "firstsecond");
    CHECK_EQ(g_stats.flows, 2);
    cleanup();
}

/* ------------------------------------------------------------------ TLS */

/* TLS 1.2 record (16 03 01, length 47) carrying a ClientHello (01, length
 * 43): version 0303, 32 random bytes, no session id, one suite (1301),
 * null compression, no extensions. */
static const char client_hello[] =
    "\x16\x03\x01\x00\x2f" "\x01\x00\x00\x2b" "\x03\x03"
    "RRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRR"
    "\x00" "\x00\x02\x13\x01" "\x01\x00" "\x00\x00";
#define CLIENT_HELLO_LEN (sizeof client_hello - 1)

static void send_hello(struct conv *v)
{
    send_tcp(&v->c, &v->s, v->cseq, v->sseq, TCP_PSH | TCP_ACK, client_hello,
             CLIENT_HELLO_LEN);
    v->cseq += (uint32_t)CLIENT_HELLO_LEN;
}

/* A flow that opens with a ClientHello is encrypted: no cleartext
 * detector attaches. */
static void test_tls_from_start(void)
{
    for (int cls = 0; cls < 2; cls++) {
        start(cls, T_ALL);
        struct conv v = conv_make(1, 50000, 2, 443, 1000, 5000);
        handshake(&v);
        send_hello(&v);
        s2c(&v, "\x16\x03\x03\x00\x04" "\x02\x00\x00\x00");
        fin_both(&v);
        finish();
        CHECK_EQ(T.starts, 0);
        CHECK_EQ(T.len[0], 0);
        if (T.starts != 0)
            fprintf(stderr, "  classify=%d: a cleartext detector was attached to a TLS flow\n",
                    cls);
        struct service_view sv;
        if (only_service(&sv)) {
            CHECK_EQ(sv.flows_encrypted, 1);
            CHECK_EQ(sv.flows_plaintext + sv.flows_unknown + sv.flows_upgraded, 0);
        }
        cleanup();
    }
}

/* Cleartext first (a STARTTLS-like exchange), then a ClientHello: the flow
 * is upgraded, and the cleartext detector never sees the TLS bytes (on_end
 * still comes). */
static void test_tls_upgrade(void)
{
    for (int cls = 0; cls < 2; cls++) {
        start(cls, T_ALL);
        struct conv v = conv_make(1, 50000, 2, 3306, 1000, 5000);
        handshake(&v);
        c2s(&v, "STARTTLS\r\n");
        s2c(&v, "220 go ahead\r\n");
        send_hello(&v);
        s2c(&v, "\x16\x03\x03\x00\x04" "\x02\x00\x00\x00");
        fin_both(&v);
        finish();
        CHECK_EQ(g_stats.tls_upgrades, 1);
        CHECK_STR(T.log[0], "STARTTLS\r\n");
        if (strcmp(T.log[0], "STARTTLS\r\n") != 0)
            fprintf(stderr, "  classify=%d: the cleartext detector got %zu bytes\n", cls,
                    T.len[0]);
        CHECK_STR(T.log[1], "220 go ahead\r\n");
        CHECK_EQ(T.ends, T.starts);
        struct service_view sv;
        if (only_service(&sv)) {
            CHECK_EQ(sv.flows_upgraded, 1);
            CHECK_EQ(sv.flows_plaintext, 0);
        }
        cleanup();
    }
}

/* ------------------------------------------------------------------ UDP */

/* Datagrams are messages: each is offered alone, what is not consumed is
 * not kept. */
static void test_udp(void)
{
    for (int cls = 0; cls < 2; cls++) {
        start(cls, T_ALL);
        struct ep c = { { 10, 0, 0, 1 }, 40000 }, s = { { 10, 0, 0, 2 }, 514 };
        send_udp(&c, &s, "<13>hello", 9);
        send_udp(&s, &c, "ack", 3);
        send_udp(&c, &s, "<13>world", 9);
        finish();
        CHECK_STR(T.log[0], "<13>hello<13>world");
        CHECK_STR(T.log[1], "ack");
        CHECK_EQ(T.ends, 1);
        CHECK_EQ(g_stats.flows_udp, 1);
        struct service_view sv;
        if (only_service(&sv)) {
            CHECK_EQ(sv.transport, 17);
            CHECK_EQ(sv.port, 514);
        }
        cleanup();
    }

    start(false, T_FRAMED);
    struct ep c = { { 10, 0, 0, 1 }, 40000 }, s = { { 10, 0, 0, 2 }, 514 };
    send_udp(&c, &s, "\x05hel", 4);         /* short: dropped, not kept */
    send_udp(&c, &s, "\x02" "ab\x01z", 5);
    finish();
    CHECK_STR(T.log[0], "[ab][z]");
    cleanup();

    /* UDP idle timeout */
    start(false, T_ALL);
    send_udp(&c, &s, "a", 1);
    now_ns += (FLOW_UDP_IDLE_S + 2) * NS;
    struct ep c2 = { { 10, 0, 0, 3 }, 40001 };
    send_udp(&c2, &s, "b", 1);
    CHECK_EQ(T.ends, 1);
    CHECK_EQ(g_stats.flows_timed_out, 1);
    finish();
    CHECK_EQ(T.ends, 2);
    cleanup();
}

/* ------------------------------------------------------------------ findings */

static const struct finding_view *find_server(struct finding_view *out, uint8_t last)
{
    size_t n;
    struct finding *const *all = findings_sorted(&n);
    for (size_t i = 0; i < n; i++) {
        finding_view(all[i], out);
        if (out->server.b[3] == last)
            return out;
    }
    return NULL;
}

/* detector_emit() through the engine: one finding per (rule, server), its
 * occurrences, flows and clients counted, secrets redacted. */
static void test_findings(void)
{
    start(false, T_LINES);
    struct conv a = conv_make(1, 50000, 2, 3306, 1000, 5000);
    handshake(&a);
    c2s(&a, "PASS hunter2hunter2\n");
    s2c(&a, "OK\n");
    c2s(&a, "PASS hunter2hunter2\n");
    fin_both(&a);
    struct conv b = conv_make(3, 50001, 2, 3306, 1000, 5000);
    handshake(&b);
    c2s(&b, "PASS ");
    c2s(&b, "0therSecret!\n");              /* split: still one password */
    fin_both(&b);
    struct conv c = conv_make(1, 50002, 9, 3306, 1000, 5000);
    handshake(&c);
    c2s(&c, "PASS x9x9x9x9x9x9\n");
    finish();

    size_t n;
    findings_sorted(&n);
    CHECK_EQ(n, 2);
    struct finding_view fv;
    if (find_server(&fv, 2) != NULL) {
        CHECK(fv.rule == &rule_pw);
        CHECK_EQ(fv.server_port, 3306);
        CHECK_EQ(fv.transport, 6);
        CHECK_EQ(fv.occurrences, 3);
        CHECK_EQ(fv.flows, 2);
        CHECK_EQ(fv.nclients, 2);
        CHECK_EQ(fv.clients_total, 2);
        if (fv.nclients == 2) {
            CHECK_EQ(fv.clients[0].b[3], 1);
            CHECK_EQ(fv.clients[1].b[3], 3);
        }
        CHECK_EQ(fv.distinct_secrets, 2);
        CHECK_EQ(fv.nsamples, 2);
        for (size_t i = 0; i < fv.nsamples; i++) {
            CHECK_STR(fv.samples[i].field, "password");
            CHECK(strstr(fv.samples[i].excerpt, "hunter2") == NULL);
            CHECK(strstr(fv.samples[i].excerpt, "Secret") == NULL);
            CHECK_EQ(strlen(fv.samples[i].fingerprint), 16);
            CHECK_EQ(fv.samples[i].dir, FDIR_TO_SERVER);
            CHECK(fv.samples[i].pkt_no > 0);
        }
    } else {
        CHECK(!"no finding for 10.0.0.2");
    }
    if (find_server(&fv, 9) != NULL) {
        CHECK_EQ(fv.occurrences, 1);
        CHECK_EQ(fv.flows, 1);
        CHECK_EQ(fv.nclients, 1);
    } else {
        CHECK(!"no finding for 10.0.0.9");
    }
    cleanup();
}

/* finding_add() directly: findings of one rule for servers and ports that
 * alternate stay apart (the last looked up per rule is kept at hand), and
 * samples are told apart by field, value and kind, whatever was worked out
 * for the fact before. */
static struct fact fact_of(const struct rule *r, uint8_t server, uint16_t port, uint8_t tr,
                           const char *field, const char *value, enum ev_kind kind)
{
    struct fact f = { 0 };
    f.rule = r;
    f.protocol = "Test";
    f.transport = tr;
    f.server.family = f.client.family = 4;
    f.server.b[0] = f.client.b[0] = 10;
    f.server.b[3] = server;
    f.client.b[3] = 1;
    f.server_port = port;
    f.pkt_no = 1;
    f.ts_ns = 1;
    f.field = field;
    f.value = (const uint8_t *)value;
    f.value_len = value != NULL ? strlen(value) : 0;
    f.kind = kind;
    return f;
}

static void add_fact(const struct rule *r, uint8_t server, uint16_t port, uint8_t tr,
                     const char *field, const char *value, enum ev_kind kind)
{
    struct fact f = fact_of(r, server, port, tr, field, value, kind);
    finding_add(&f);
}

/* Facts of one finding, each followed by the samples it must hold then. */
struct sample_step {
    const char *field, *value;
    enum ev_kind kind;
    size_t nsamples;
};

static void check_samples(const struct sample_step *steps, size_t nsteps)
{
    for (size_t i = 0; i < nsteps; i++) {
        add_fact(&rule_pw, 2, 3306, 6, steps[i].field, steps[i].value, steps[i].kind);
        size_t n;
        struct finding *const *all = findings_sorted(&n);
        struct finding_view v;
        finding_view(all[0], &v);
        CHECK_EQ(v.nsamples, steps[i].nsamples);
    }
    findings_free();
}

static void test_finding_add_direct(void)
{
    static const struct rule rule_other = {
        "test.other", SEV_LOW, "Another fact", "None.", COMPLIANCE_CREDENTIALS
    };
    findings_free();
    for (int i = 0; i < 5; i++) {
        add_fact(&rule_pw, 2, 3306, 6, "login", "user=a", EV_TEXT);
        add_fact(&rule_pw, 3, 3306, 6, "login", "user=a", EV_TEXT);
        add_fact(&rule_other, 2, 3306, 6, "login", "user=a", EV_TEXT);
    }
    /* right after the same server's finding on 3306/tcp */
    add_fact(&rule_pw, 2, 3306, 6, "login", "user=a", EV_TEXT);
    add_fact(&rule_pw, 2, 3307, 6, "login", "user=a", EV_TEXT);
    add_fact(&rule_pw, 2, 3306, 6, "login", "user=a", EV_TEXT);
    add_fact(&rule_pw, 2, 3306, 17, "login", "user=a", EV_TEXT);
    size_t n;
    struct finding *const *all = findings_sorted(&n);
    CHECK_EQ(n, 5);
    unsigned seen = 0;
    for (size_t i = 0; i < n; i++) {
        struct finding_view v;
        finding_view(all[i], &v);
        CHECK_EQ(v.nsamples, 1);
        if (v.rule == &rule_other) {
            CHECK_EQ(v.occurrences, 5);
            seen |= 1;
        } else if (v.server.b[3] == 3) {
            CHECK_EQ(v.occurrences, 5);
            seen |= 2;
        } else if (v.server_port == 3307 || v.transport == 17) {
            CHECK_EQ(v.occurrences, 1);
            seen |= v.transport == 17 ? 4 : 8;
        } else {
            CHECK_EQ(v.occurrences, 7);
            seen |= 16;
        }
    }
    CHECK_EQ(seen, 31);
    findings_free();

    /* samples: each new (field, value, kind) is one, a repeat is none */
    static const struct sample_step texts[] = {
        { "login", "user=a", EV_TEXT, 1 },
        { "login", "user=a", EV_TEXT, 1 },
        { "login", "user=b", EV_TEXT, 2 },
        { "login", "user=b", EV_TEXT, 2 },
        { "user", "user=b", EV_TEXT, 3 },
        { "login", "user=a", EV_TEXT, 3 },
    };
    check_samples(texts, sizeof texts / sizeof texts[0]);
    static const struct sample_step kinds[] = {
        { "q", "abc", EV_TEXT, 1 },
        { "q", "abc", EV_SQL, 2 },              /* another kind */
        { "q", "abc", EV_SQL, 2 },
        { NULL, "", EV_NONE, 3 },               /* no field is not the empty field */
    };
    check_samples(kinds, sizeof kinds / sizeof kinds[0]);
    static const struct sample_step fields[] = {
        { "", NULL, EV_NONE, 1 },
        { NULL, NULL, EV_NONE, 2 },
        { "", NULL, EV_NONE, 2 },
        { NULL, NULL, EV_NONE, 2 },
    };
    check_samples(fields, sizeof fields / sizeof fields[0]);
}

/* ------------------------------------------------------------------ accounting */

/* Many held bytes at once (out of order in many flows), then the end:
 * the reassembly memory counter returns to zero. */
static void test_memory_returns(void)
{
    for (int cls = 0; cls < 2; cls++) {
        start(cls, T_FRAMED);
        for (uint16_t i = 0; i < 20; i++) {
            struct conv v = conv_make((uint8_t)(10 + i), (uint16_t)(50000 + i), 2, 3306,
                                      1000, 5000);
            handshake(&v);
            c2s(&v, "\x09pending");         /* incomplete: kept pending */
            c2s_at(&v, 10, "later");        /* held out of order */
        }
        CHECK(g_stats.reasm_bytes > 0);
        finish();
        CHECK_EQ(T.ends, 20);
        cleanup();
    }
}

int main(void)
{
    RUN(test_conversation);
    RUN(test_out_of_order);
    RUN(test_mid_stream);
    RUN(test_gaps);
    RUN(test_snaplen);
    RUN(test_syn_fin_payload);
    RUN(test_need_more);
    RUN(test_one_byte_at_a_time);
    RUN(test_pending_cap);
    RUN(test_detach);
    RUN(test_end_fin);
    RUN(test_end_rst);
    RUN(test_end_idle_timeout);
    RUN(test_end_of_input);
    RUN(test_port_reuse);
    RUN(test_time_steps_back);
    RUN(test_tls_from_start);
    RUN(test_tls_upgrade);
    RUN(test_udp);
    RUN(test_findings);
    RUN(test_finding_add_direct);
    RUN(test_memory_returns);
    return unit_done("test_engine");
}

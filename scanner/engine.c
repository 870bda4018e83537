/*
 * engine.c - from packets to detector calls (see engine.h).
 *
 * Per packet: decode, find or create the flow, update its TCP state, check
 * for a switch to TLS, reassemble, and hand in-order bytes either to the
 * hold buffers (protocol not decided yet) or to the attached detectors.
 * Then nDPI sees the packet, until it names the protocol or we give up;
 * at that moment the detectors that want the flow are attached and the
 * held bytes are replayed to them in packet order.
 *
 * Once a flow is decided and no detector wants it, its packets are only
 * counted: no reassembly, no copies, no nDPI.  That is what keeps bulk TLS
 * and file transfers cheap.
 *
 * Whether a flow is encrypted is our own verdict from the bytes (TLS and
 * DTLS records, SSLv2 hellos, SSH banners, QUIC long headers, a ClientHello
 * after a cleartext start), not nDPI's label: nDPI 4.2 calls a MySQL
 * session that switched to TLS "MySQL".
 */
#include "engine.h"

#include <stdlib.h>
#include <string.h>

#include "../detectors/secrets.h"
#include "../reports/service.h"
#include "classify.h"
#include "cursor.h"
#include "decode.h"
#include "flow.h"
#include "limits.h"
#include "stats.h"

#define NS 1000000000ULL

enum end_reason { END_CLOSED, END_TIMEOUT, END_EVICTED, END_INPUT };

/* What a det_ctx's engine pointer refers to during a callback. */
struct call {
    struct flow *flow;
    struct det_slot *slot;
};

static struct engine_options options;
static const struct detector *const *detectors = detector_registry;
static size_t ndetectors = SIZE_MAX;   /* length of detectors, counted once */
static uint64_t last_sweep_ns;
static uint64_t clock_ns;           /* latest capture time seen: never steps back */
static bool classify_ready;

static void engine_flow_end(struct flow *f, enum end_reason why);

int engine_init(const struct engine_options *opt, char *err, size_t errlen)
{
    options = *opt;
    if (options.classify) {
        if (classify_init(err, errlen) != 0)
            return -1;
        classify_ready = true;
    }
    return 0;
}

/* ---------------------------------------------------------------- verdict */

/* Does this look like the first bytes of an encrypted protocol?  Checked on
 * the first payload of each direction. */
static bool sniff_encrypted(const uint8_t *p, uint32_t n, uint8_t transport)
{
    struct cursor c = cursor_init(p, n);
    uint8_t b0 = cur_u8(&c);
    uint8_t b1 = cur_u8(&c);
    uint8_t b2 = cur_u8(&c);
    uint16_t rlen = cur_be16(&c);
    if (c.bad)
        return false;
    /* TLS record: type 20-23, version 3.0-3.4, length within 2^14 + 2048 */
    if (b0 >= 0x14 && b0 <= 0x17 && b1 == 3 && b2 <= 4 && rlen > 0 && rlen <= 18432)
        return true;
    /* DTLS record: versions 1.0 (0xfeff), 1.2 (0xfefd), 1.3 (0xfefc) */
    if (transport == 17 && b0 >= 0x14 && b0 <= 0x17 && b1 == 0xfe && b2 >= 0xfc)
        return true;
    /* SSLv2-format ClientHello: 2-byte length with the high bit, type 1,
     * version 2.0 or 3.x */
    if ((b0 & 0x80) && b2 == 1 && ((rlen >> 8) == 3 || rlen == 2))
        return true;
    /* SSH: the identification line is clear, everything after is not */
    if (n >= 4 && memcmp(p, "SSH-", 4) == 0)
        return true;
    /* QUIC long header (RFC 9000 17.2): form and fixed bits, a known
     * version (v1, v2, IETF drafts, Google Q0xx) */
    if (transport == 17 && (b0 & 0xc0) == 0xc0 && n >= 5) {
        uint32_t v = (uint32_t)b1 << 24 | (uint32_t)b2 << 16 | rlen;
        if (v == 1 || v == 0x6b3343cf || (v & 0xffffff00) == 0xff000000 ||
            (v & 0xffff0000) == 0x51300000)
            return true;
    }
    return false;
}

/* A TLS ClientHello record: handshake, version 3.x, type 1. */
static bool is_client_hello(const uint8_t *p, uint32_t n)
{
    struct cursor c = cursor_init(p, n);
    uint8_t type = cur_u8(&c);
    uint8_t major = cur_u8(&c);
    uint8_t minor = cur_u8(&c);
    cur_skip(&c, 2);
    uint8_t hs = cur_u8(&c);
    return !c.bad && type == 0x16 && major == 3 && minor <= 4 && hs == 1;
}

/* The first bytes of a text protocol: a few printable characters. */
static bool looks_like_text(const uint8_t *p, uint32_t n)
{
    uint32_t k = n < 8 ? n : 8;
    if (k < 4)
        return false;
    for (uint32_t i = 0; i < k; i++)
        if (!((p[i] >= 0x20 && p[i] < 0x7f) || p[i] == '\r' || p[i] == '\n' || p[i] == '\t'))
            return false;
    return true;
}

static void verdict_first_bytes(struct flow *f, int d, const uint8_t *p, uint32_t n)
{
    f->sniffed[d] = true;
    if (looks_like_text(p, n) && !(n >= 4 && memcmp(p, "SSH-", 4) == 0))
        f->text_start = true;
    if (f->verdict == VERDICT_UNKNOWN && sniff_encrypted(p, n, f->transport)) {
        f->verdict = VERDICT_ENCRYPTED;
        f->tls_start = d == 0 && is_client_hello(p, n);
    }
}

/* ---------------------------------------------------------------- detectors */

static void slot_free_pending(struct det_slot *s)
{
    for (int d = 0; d < 2; d++) {
        g_stats.reasm_bytes -= s->pend_cap[d];
        free(s->pend[d]);
        s->pend[d] = NULL;
        s->pend_len[d] = s->pend_cap[d] = 0;
    }
}

static void slot_detach(struct flow *f, struct det_slot *s)
{
    if (s->detached)
        return;
    s->detached = true;
    f->nactive--;
    slot_free_pending(s);
}

static struct det_ctx ctx_make(struct flow *f, struct det_slot *s, struct call *call,
                               uint64_t pkt_no, uint64_t ts_ns)
{
    call->flow = f;
    call->slot = s;
    struct det_ctx ctx = { f->view, s->state, pkt_no, ts_ns, call };
    return ctx;
}

/* Tells the detector len bytes of direction d are lost. */
static void slot_gap(struct flow *f, struct det_slot *s, int d, uint64_t len)
{
    if (s->detached)
        return;
    /* bytes waiting before the hole can never complete a message */
    s->pend_len[d] = 0;
    if (s->det->on_gap != NULL) {
        struct call call;
        struct det_ctx ctx = ctx_make(f, s, &call, 0, f->last_ns);
        s->det->on_gap(&ctx, (enum dir)d, len);
    }
}

/* Makes room for need bytes in the pending buffer; false past the caps. */
static bool slot_reserve(struct det_slot *s, int d, uint32_t need)
{
    if (need <= s->pend_cap[d])
        return true;
    if (need > REASM_MAX_PENDING) {
        g_stats.reasm_pending_cap++;
        return false;
    }
    uint32_t cap = s->pend_cap[d] ? s->pend_cap[d] : 2048;
    while (cap < need)
        cap *= 2;
    if (cap > REASM_MAX_PENDING)
        cap = REASM_MAX_PENDING;
    if (g_stats.reasm_bytes + (cap - s->pend_cap[d]) > REASM_MEMCAP) {
        g_stats.reasm_memcap++;
        return false;
    }
    uint8_t *nb = realloc(s->pend[d], cap);
    if (nb == NULL) {
        g_stats.reasm_memcap++;
        return false;
    }
    g_stats.reasm_bytes += cap - s->pend_cap[d];
    if (g_stats.reasm_bytes > g_stats.reasm_bytes_peak)
        g_stats.reasm_bytes_peak = g_stats.reasm_bytes;
    s->pend[d] = nb;
    s->pend_cap[d] = cap;
    return true;
}

/* Calls on_data until it consumes everything or asks for more.  Returns
 * how many bytes were consumed. */
static size_t slot_feed(struct flow *f, struct det_slot *s, int d, const uint8_t *p,
                        size_t n, uint64_t pkt_no, uint64_t ts_ns)
{
    size_t done = 0;
    while (done < n && !s->detached) {
        struct call call;
        struct det_ctx ctx = ctx_make(f, s, &call, pkt_no, ts_ns);
        size_t used = s->det->on_data(&ctx, (enum dir)d, p + done, n - done);
        if (used > n - done)
            used = n - done;        /* a detector bug must not break us */
        if (used == 0)
            break;
        done += used;
    }
    return done;
}

/* Delivers in-order bytes to one detector, keeping what it does not
 * consume (bounded) for the next call. */
static void slot_deliver(struct flow *f, struct det_slot *s, int d, const uint8_t *p,
                         uint32_t n, uint64_t pkt_no, uint64_t ts_ns)
{
    if (s->detached || n == 0)
        return;
    if (f->transport != 6) {
        /* datagrams are messages: what is not consumed is not kept */
        slot_feed(f, s, d, p, n, pkt_no, ts_ns);
        return;
    }
    if (s->pend_len[d] == 0) {
        size_t used = slot_feed(f, s, d, p, n, pkt_no, ts_ns);
        if (used == n || s->detached)
            return;
        p += used;
        n -= (uint32_t)used;
    } else {
        if (!slot_reserve(s, d, s->pend_len[d] + n)) {
            /* the detector waits for a message larger than we keep: the
             * held part is lost to it, the new bytes start afresh */
            uint32_t lost = s->pend_len[d];
            slot_gap(f, s, d, lost);
            slot_deliver(f, s, d, p, n, pkt_no, ts_ns);
            return;
        }
        memcpy(s->pend[d] + s->pend_len[d], p, n);
        s->pend_len[d] += n;
        size_t used = slot_feed(f, s, d, s->pend[d], s->pend_len[d], pkt_no, ts_ns);
        if (s->detached)
            return;
        memmove(s->pend[d], s->pend[d] + used, s->pend_len[d] - used);
        s->pend_len[d] -= (uint32_t)used;
        return;
    }
    if (!slot_reserve(s, d, n)) {
        slot_gap(f, s, d, n);
        return;
    }
    memcpy(s->pend[d], p, n);
    s->pend_len[d] = n;
}

static void flow_deliver(struct flow *f, int d, const uint8_t *p, uint32_t n,
                         uint64_t pkt_no, uint64_t ts_ns)
{
    for (uint32_t i = 0; i < f->nslots && f->nactive > 0; i++)
        slot_deliver(f, &f->slots[i], d, p, n, pkt_no, ts_ns);
}

static void flow_gap(struct flow *f, int d, uint64_t len)
{
    for (uint32_t i = 0; i < f->nslots; i++)
        slot_gap(f, &f->slots[i], d, len);
}

/* ---------------------------------------------------------------- hold */

static void hold_free(struct hold *h)
{
    g_stats.reasm_bytes -= h->cap;
    free(h->buf);
    free(h->chunk);
    memset(h, 0, sizeof *h);
}

/* The chunk array, allocated on first use.  False when out of memory. */
static bool hold_chunks(struct hold *h)
{
    if (h->chunk == NULL)
        h->chunk = malloc(HOLD_MAX_CHUNKS * sizeof *h->chunk);
    return h->chunk != NULL;
}

/* Keeps bytes until the flow is decided.  Returns false when the hold is
 * full (the caller decides the flow now and delivers directly). */
static bool hold_add(struct hold *h, const uint8_t *p, uint32_t n, uint64_t pkt_no,
                     uint64_t ts_ns)
{
    if (h->len + n > CLASSIFY_HOLD_BYTES || h->nchunks >= HOLD_MAX_CHUNKS || !hold_chunks(h))
        return false;
    if (h->len + n > h->cap) {
        /* grow in steps: most flows are decided within a few hundred bytes */
        uint32_t cap = h->cap ? h->cap : 1024;
        while (cap < h->len + n)
            cap *= 2;
        if (cap > CLASSIFY_HOLD_BYTES)
            cap = CLASSIFY_HOLD_BYTES;
        if (g_stats.reasm_bytes + (cap - h->cap) > REASM_MEMCAP)
            return false;
        uint8_t *nb = realloc(h->buf, cap);
        if (nb == NULL)
            return false;
        g_stats.reasm_bytes += cap - h->cap;
        if (g_stats.reasm_bytes > g_stats.reasm_bytes_peak)
            g_stats.reasm_bytes_peak = g_stats.reasm_bytes;
        h->buf = nb;
        h->cap = cap;
    }
    memcpy(h->buf + h->len, p, n);
    h->len += n;
    struct hold_chunk *c = &h->chunk[h->nchunks++];
    c->end = h->len;
    c->gap = 0;
    c->pkt_no = pkt_no;
    c->ts_ns = ts_ns;
    return true;
}

/* Records len bytes lost in a held direction, after its last chunk (a
 * zero-length chunk carries a gap before any byte).  False when out of
 * memory (the caller decides the flow and signals the gap directly). */
static bool hold_gap(struct hold *h, uint32_t len)
{
    if (!hold_chunks(h))
        return false;
    if (h->nchunks == 0) {
        memset(&h->chunk[0], 0, sizeof h->chunk[0]);
        h->nchunks = 1;
    }
    h->chunk[h->nchunks - 1].gap += len;
    return true;
}

/* Replays both holds to the detectors, in packet order. */
static void hold_replay(struct flow *f)
{
    uint32_t next[2] = { 0, 0 };
    uint32_t start[2] = { 0, 0 };
    for (;;) {
        int d = -1;
        for (int k = 0; k < 2; k++) {
            if (next[k] >= f->hold[k].nchunks)
                continue;
            if (d < 0 || f->hold[k].chunk[next[k]].pkt_no < f->hold[d].chunk[next[d]].pkt_no)
                d = k;
        }
        if (d < 0)
            break;
        const struct hold_chunk *c = &f->hold[d].chunk[next[d]];
        if (c->end > start[d])      /* a chunk may carry only a gap (and no buffer yet) */
            flow_deliver(f, d, f->hold[d].buf + start[d], c->end - start[d], c->pkt_no,
                         c->ts_ns);
        if (c->gap > 0)
            flow_gap(f, d, c->gap);
        start[d] = c->end;
        next[d]++;
    }
    hold_free(&f->hold[0]);
    hold_free(&f->hold[1]);
}

/* ---------------------------------------------------------------- deciding */

static void view_build(struct flow *f)
{
    f->view = calloc(1, sizeof *f->view);
    if (f->view == NULL)
        return;
    struct flow_view *v = f->view;
    v->id = f->id;
    v->transport = f->transport;
    v->client = f->addr[0];
    v->server = f->addr[1];
    v->client_port = f->port[0];
    v->server_port = f->port[1];
    v->protocol = f->cls.name != NULL ? f->cls.name : "Unknown";
    v->by_dpi = f->cls.by_dpi;
    v->ndpi_master = f->cls.master;
    v->ndpi_app = f->cls.app;
}

const struct detector *const *detector_active(void)
{
    return detectors;
}

void engine_use_detectors(const struct detector *const *list)
{
    detectors = list != NULL ? list : detector_registry;
    ndetectors = SIZE_MAX;
}

static size_t detectors_len(void)
{
    if (ndetectors == SIZE_MAX) {
        ndetectors = 0;
        while (detectors[ndetectors] != NULL)
            ndetectors++;
    }
    return ndetectors;
}

static bool slot_attached(const struct flow *f, const struct detector *det)
{
    for (uint32_t i = 0; i < f->nslots; i++)
        if (f->slots[i].det == det)
            return true;
    return false;
}

/*
 * Detector states are recycled: a capture opens and closes flows by the
 * hundred thousand, and each wants a few KiB of zeroed state.  Up to
 * STATE_POOL_MAX freed states per size (scanner/limits.h) are kept on a
 * list (linked through their first bytes) and zeroed again on reuse.
 */

struct state_pool {
    size_t size;
    void *head;
    unsigned n;
};

static struct state_pool pools[STATE_POOL_SIZES];

static struct state_pool *pool_for(size_t size)
{
    for (unsigned i = 0; i < STATE_POOL_SIZES; i++) {
        if (pools[i].size == size)
            return &pools[i];
        if (pools[i].size == 0) {
            pools[i].size = size;
            return &pools[i];
        }
    }
    return NULL;
}

static void *state_get(size_t size)
{
    if (size < sizeof(void *))
        size = sizeof(void *);
    struct state_pool *p = pool_for(size);
    if (p == NULL || p->head == NULL)
        return calloc(1, size);
    void *st = p->head;
    memcpy(&p->head, st, sizeof(void *));
    p->n--;
    memset(st, 0, size);
    return st;
}

static void state_put(void *st, size_t size)
{
    if (st == NULL)
        return;
    if (size < sizeof(void *))
        size = sizeof(void *);
    struct state_pool *p = pool_for(size);
    if (p == NULL || p->n >= STATE_POOL_MAX) {
        free(st);
        return;
    }
    memcpy(st, &p->head, sizeof(void *));
    p->head = st;
    p->n++;
}

static void state_pools_free(void)
{
    for (unsigned i = 0; i < STATE_POOL_SIZES; i++) {
        while (pools[i].head != NULL) {
            void *st = pools[i].head;
            memcpy(&pools[i].head, st, sizeof(void *));
            free(st);
        }
        pools[i].n = 0;
    }
}

/* Adds a slot for det (the array holds one per detector, so it never
 * moves while a callback runs) and calls on_start. */
static void slot_attach(struct flow *f, const struct detector *det)
{
    if (f->slots == NULL) {
        f->slots = calloc(detectors_len(), sizeof *f->slots);
        if (f->slots == NULL)
            return;
    }
    struct det_slot *s = &f->slots[f->nslots];
    memset(s, 0, sizeof *s);
    s->det = det;
    s->state = state_get(det->state_size);
    if (s->state == NULL)
        return;
    f->nslots++;
    f->nactive++;
    if (det->on_start != NULL) {
        struct call call;
        struct det_ctx ctx = ctx_make(f, s, &call, 0, f->first_ns);
        det->on_start(&ctx);
    }
}

/* Offers the flow to every detector; an encrypted flow only to those that
 * read TLS. */
static void attach_detectors(struct flow *f)
{
    size_t n = detectors_len();
    if (n == 0 || f->view == NULL)
        return;
    bool encrypted = f->verdict == VERDICT_ENCRYPTED;
    for (int d = 0; d < 2; d++) {
        f->view->head[d] = f->hold[d].buf;
        f->view->head_len[d] = f->hold[d].len;
    }
    const struct detector *want[64];
    size_t nwant = 0;
    for (size_t i = 0; i < n && nwant < ARRAY_LEN(want); i++) {
        const struct detector *det = detectors[i];
        if (encrypted && !det->tls)
            continue;
        if (det->wants == NULL || det->wants(f->view))
            want[nwant++] = det;
    }
    for (int d = 0; d < 2; d++) {
        f->view->head[d] = NULL;
        f->view->head_len[d] = 0;
    }
    for (size_t i = 0; i < nwant; i++)
        slot_attach(f, want[i]);
}

/* The flow switched to TLS: cleartext detectors stop, TLS readers take
 * over from the bytes that follow. */
static void flow_giveup(struct flow *f);

static void flow_upgrade(struct flow *f)
{
    /* decide first, so the held cleartext reaches the cleartext detectors
     * and the TLS bytes that follow do not */
    if (!f->decided)
        flow_giveup(f);
    if (f->verdict != VERDICT_ENCRYPTED && f->verdict != VERDICT_UPGRADED) {
        f->verdict = VERDICT_UPGRADED;
        g_stats.tls_upgrades++;
    }
    for (uint32_t i = 0; i < f->nslots; i++)
        if (!f->slots[i].det->tls)
            slot_detach(f, &f->slots[i]);
    if (f->view == NULL || f->single_slot)
        return;
    if (f->stream_skipped) {
        /* reassembly was idle while nobody listened: restart it at the
         * next segment, as for a capture that starts mid-stream */
        for (int d = 0; d < 2; d++) {
            reasm_free(&f->rd[d]);
            f->rd[d].started = false;
        }
        f->stream_skipped = false;
    }
    for (size_t i = 0; detectors[i] != NULL; i++)
        if (detectors[i]->tls && !slot_attached(f, detectors[i]))
            slot_attach(f, detectors[i]);
}

/* The protocol is known (or will never be): attach detectors and replay. */
static void flow_decide(struct flow *f, const struct classify_result *res)
{
    if (f->decided)
        return;
    f->decided = true;
    if (res != NULL)
        f->cls = *res;
    else
        f->cls.name = "Unknown";
    if (f->cf != NULL) {
        classify_flow_free(f->cf);
        f->cf = NULL;
    }
    /* nDPI's label counts only where our own look at the bytes found
     * nothing: it calls an IMAP session that will STARTTLS "IMAPS", yet its
     * first lines are text, and text is what the IMAP detector must read */
    if (f->verdict == VERDICT_UNKNOWN && f->cls.by_dpi && (f->payload[0] || f->payload[1])) {
        bool encrypted = f->cls.encrypted_proto && !f->text_start;
        f->verdict = encrypted ? VERDICT_ENCRYPTED : VERDICT_PLAINTEXT;
    }
    view_build(f);
    attach_detectors(f);
    hold_replay(f);
}

static void flow_giveup(struct flow *f)
{
    struct classify_result res;
    memset(&res, 0, sizeof res);
    res.name = "Unknown";
    if (f->cf != NULL) {
        classify_giveup(f->cf, &res);
        g_stats.classify_giveups++;
    }
    flow_decide(f, &res);
}

/* ---------------------------------------------------------------- streams */

struct sink_arg {
    struct flow *flow;
    int dir;
};

static void sink_data(void *arg, const uint8_t *p, uint32_t n, uint64_t pkt_no, uint64_t ts_ns)
{
    struct sink_arg *a = arg;
    struct flow *f = a->flow;
    if (!f->sniffed[a->dir])
        verdict_first_bytes(f, a->dir, p, n);
    if (!f->decided) {
        if (hold_add(&f->hold[a->dir], p, n, pkt_no, ts_ns))
            return;
        /* the hold is full: decide with what nDPI has, then go on */
        flow_giveup(f);
    }
    flow_deliver(f, a->dir, p, n, pkt_no, ts_ns);
}

static void sink_gap(void *arg, uint32_t len)
{
    struct sink_arg *a = arg;
    struct flow *f = a->flow;
    if (!f->decided) {
        if (hold_gap(&f->hold[a->dir], len))
            return;
        flow_giveup(f);     /* out of memory: decide now, tell the detectors */
    }
    flow_gap(f, a->dir, len);
}

/* True while the stream still needs reassembly: before the decision, or
 * while a detector listens. */
static bool flow_wants_stream(const struct flow *f)
{
    return !f->decided || f->nactive > 0;
}

/* A cleartext flow whose client now sends a ClientHello switched to TLS. */
static void check_upgrade(struct flow *f, int d, const struct packet *pkt)
{
    if (d != 0 || pkt->payload_len < 6 || !f->sniffed[0])
        return;
    if (f->verdict == VERDICT_ENCRYPTED || f->verdict == VERDICT_UPGRADED)
        return;
    if (!is_client_hello(pkt->payload, pkt->payload_len))
        return;
    flow_upgrade(f);
}

static void flow_payload(struct flow *f, int d, const struct packet *pkt)
{
    struct sink_arg arg = { f, d };
    struct reasm_sink sink = { sink_data, sink_gap, &arg };
    if (f->transport == 6) {
        uint32_t seq = pkt->seq + ((pkt->tcp_flags & TCP_SYN) ? 1u : 0u);
        if (flow_wants_stream(f)) {
            reasm_segment(&f->rd[d], seq, pkt->payload, pkt->payload_len,
                          pkt->payload_wire, pkt->pkt_no, pkt->ts_ns, &sink);
            return;
        }
        f->stream_skipped = true;
        if (!f->sniffed[d])
            verdict_first_bytes(f, d, pkt->payload, pkt->payload_len);
        return;
    }
    if (flow_wants_stream(f))
        sink_data(&arg, pkt->payload, pkt->payload_len, pkt->pkt_no, pkt->ts_ns);
    else if (!f->sniffed[d])
        verdict_first_bytes(f, d, pkt->payload, pkt->payload_len);
}

/* ---------------------------------------------------------------- flows */

static void flow_tcp_state(struct flow *f, int d, const struct packet *pkt)
{
    uint8_t fl = pkt->tcp_flags;
    if (fl & TCP_SYN) {
        f->syn[d] = true;
        reasm_syn(&f->rd[d], pkt->seq);
    }
    if ((fl & TCP_ACK) && f->rd[!d].ooo != NULL && flow_wants_stream(f)) {
        struct sink_arg arg = { f, !d };
        struct reasm_sink sink = { sink_data, sink_gap, &arg };
        reasm_acked(&f->rd[!d], pkt->ack, &sink);
    }
    if (fl & TCP_RST) {
        f->rst = true;
        flow_mark_closed(f);
    }
    if (fl & TCP_FIN) {
        f->fin[d] = true;
        if (f->fin[!d])
            flow_mark_closed(f);
    }
}

static struct flow *flow_new(const struct packet *pkt)
{
    bool src_client = flow_src_is_client(pkt->l4proto, pkt->sport, pkt->dport, pkt->tcp_flags);
    const struct ipaddr *cli = src_client ? &pkt->src : &pkt->dst;
    const struct ipaddr *srv = src_client ? &pkt->dst : &pkt->src;
    uint16_t cport = src_client ? pkt->sport : pkt->dport;
    uint16_t sport = src_client ? pkt->dport : pkt->sport;

    struct flow *f = flow_create(pkt->l4proto, cli, cport, srv, sport, pkt->ts_ns);
    if (f == NULL && flow_active() >= FLOW_MAX) {
        bool was_closed;
        struct flow *old = flow_oldest(&was_closed);
        if (old != NULL)
            engine_flow_end(old, was_closed ? END_CLOSED : END_EVICTED);
        f = flow_create(pkt->l4proto, cli, cport, srv, sport, pkt->ts_ns);
    }
    if (f == NULL)
        return NULL;
    f->handshake_seen = pkt->l4proto == 6 && (pkt->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
    if (classify_ready)
        f->cf = classify_flow_new();
    if (f->cf == NULL) {
        /* no classifier: decide at the first payload from the bytes alone */
        f->classify_pkts = UINT32_MAX - 1;
    }
    return f;
}

static void sweep(uint64_t now_ns)
{
    struct flow *f;
    while ((f = flow_next_expired(now_ns)) != NULL)
        engine_flow_end(f, f->list == LIST_TCP_CLOSED ? END_CLOSED : END_TIMEOUT);
}

static void classify_step(struct flow *f, int d, const struct packet *pkt)
{
    if (f->decided)
        return;
    /* A flow that opened with a TLS handshake is TLS: no need for nDPI,
     * whose ClientHello parsing (JA3 strings, certificates) is the most
     * expensive thing it does.  The TLS detector reads the handshake. */
    if (f->verdict == VERDICT_ENCRYPTED && f->transport == 6 && f->tls_start) {
        struct classify_result res;
        memset(&res, 0, sizeof res);
        res.name = "TLS";
        res.by_dpi = true;
        res.encrypted_proto = true;
        flow_decide(f, &res);
        return;
    }
    if (pkt->payload_len > 0)
        f->classify_pkts++;
    /* Pure ACKs teach nDPI nothing after the handshake: skip them (it
     * still sees the SYNs, the first ACK, FIN/RST and every payload). */
    bool bare_ack = pkt->payload_len == 0 && !(pkt->tcp_flags & (TCP_SYN | TCP_FIN | TCP_RST));
    if (f->transport == 6 && bare_ack) {
        if (f->ack_fed)
            return;
        f->ack_fed = true;
    }
    if (f->cf != NULL) {
        g_stats.classify_calls++;
        struct classify_result res;
        if (classify_packet(f->cf, pkt->l3, pkt->l3_len, pkt->ts_ns, d == 0, &res)) {
            flow_decide(f, &res);
            return;
        }
    }
    /* give up only on a packet that carried bytes: a handshake alone must
     * not decide a flow before its first payload has been seen */
    uint32_t max = f->transport == 6 ? CLASSIFY_MAX_TCP_PKTS : CLASSIFY_MAX_UDP_PKTS;
    if (pkt->payload_len > 0 && f->classify_pkts >= max)
        flow_giveup(f);
}

void engine_packet(int linktype, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                   uint64_t ts_ns, uint64_t pkt_no)
{
    struct packet pkt;
    g_stats.packets++;
    g_stats.bytes += wirelen;
    g_stats.captured_bytes += caplen;
    if (caplen < wirelen)
        g_stats.snaplen_cut++;
    if (!decode_frame(linktype, data, caplen, wirelen, ts_ns, &pkt))
        return;
    pkt.pkt_no = pkt_no;
    if (pkt.l4proto != 6 && pkt.l4proto != 17)
        return;

    if (ts_ns > clock_ns)
        clock_ns = ts_ns;
    if (clock_ns > last_sweep_ns + FLOW_SWEEP_INTERVAL_S * NS) {
        if (last_sweep_ns != 0)
            sweep(clock_ns);
        last_sweep_ns = clock_ns;
    }

    bool to_server = true;
    struct flow *f = flow_lookup(pkt.l4proto, &pkt.src, pkt.sport, &pkt.dst, pkt.dport,
                                 &to_server);
    /* a new SYN on a finished connection starts a new flow (port reuse) */
    if (f != NULL && pkt.l4proto == 6 && (pkt.tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN &&
        (f->rst || (f->fin[0] && f->fin[1]))) {
        engine_flow_end(f, END_CLOSED);
        f = NULL;
    }
    if (f == NULL) {
        f = flow_new(&pkt);
        if (f == NULL)
            return;
        to_server = memcmp(&f->addr[0], &pkt.src, sizeof pkt.src) == 0 &&
                    f->port[0] == pkt.sport;
    }
    int d = to_server ? 0 : 1;
    f->pkts[d]++;
    f->bytes[d] += wirelen;
    f->payload[d] += pkt.payload_wire;
    flow_touch(f, ts_ns, clock_ns);

    if (f->transport == 6)
        flow_tcp_state(f, d, &pkt);
    if (pkt.payload_wire > 0) {
        if (f->transport == 6)
            check_upgrade(f, d, &pkt);
        flow_payload(f, d, &pkt);
    }
    classify_step(f, d, &pkt);
}

/* A detector that parsed the protocol knows better than nDPI's label
 * (nDPI 4.2 calls some LDAP flows "MQTT"). */
static const char *flow_protocol(const struct flow *f)
{
    if (f->proto_override != NULL)
        return f->proto_override;
    return f->cls.name != NULL ? f->cls.name : "Unknown";
}

static void flow_account(const struct flow *f)
{
    static const enum service_verdict map[] = {
        [VERDICT_UNKNOWN] = SV_UNKNOWN,
        [VERDICT_PLAINTEXT] = SV_PLAINTEXT,
        [VERDICT_ENCRYPTED] = SV_ENCRYPTED,
        [VERDICT_UPGRADED] = SV_UPGRADED,
    };
    struct service_flow sf = {
        .transport = f->transport,
        .server = f->addr[1],
        .client = f->addr[0],
        .port = f->port[1],
        .protocol = flow_protocol(f),
        .app = f->cls.app_name,
        .by_dpi = f->cls.by_dpi || f->proto_override != NULL,
        .verdict = map[f->verdict],
        .packets = f->pkts[0] + f->pkts[1],
        .bytes = f->bytes[0] + f->bytes[1],
        .first_ns = f->first_ns,
        .last_ns = f->last_ns,
        .host = f->cls.host,
    };
    service_add_flow(&sf);
}

static void engine_flow_end(struct flow *f, enum end_reason why)
{
    switch (why) {
    case END_CLOSED:
        g_stats.flows_closed++;
        break;
    case END_TIMEOUT:
        g_stats.flows_timed_out++;
        break;
    case END_EVICTED:
        g_stats.flows_evicted++;
        break;
    case END_INPUT:
        break;
    }
    if (!f->decided)
        flow_giveup(f);
    for (int d = 0; d < 2; d++) {
        if (f->nactive > 0) {
            struct sink_arg arg = { f, d };
            struct reasm_sink sink = { sink_data, sink_gap, &arg };
            reasm_flush(&f->rd[d], &sink);
        }
        reasm_free(&f->rd[d]);
    }
    for (uint32_t i = 0; i < f->nslots; i++) {
        struct det_slot *s = &f->slots[i];
        if (s->det->on_end != NULL) {
            struct call call;
            struct det_ctx ctx = ctx_make(f, s, &call, 0, f->last_ns);
            s->det->on_end(&ctx);
        }
        slot_free_pending(s);
        state_put(s->state, s->det->state_size);
    }
    free(f->slots);
    flow_account(f);
    hold_free(&f->hold[0]);
    hold_free(&f->hold[1]);
    classify_flow_free(f->cf);
    free(f->view);
    flow_unlink(f);
    flow_release(f);
}

void engine_finish(void)
{
    struct flow *f;
    while ((f = flow_next_expired(UINT64_MAX)) != NULL)
        engine_flow_end(f, END_INPUT);
    g_stats.findings_dropped = findings_dropped();
    services_sort();
}

void engine_free(void)
{
    state_pools_free();
    clock_ns = 0;
    last_sweep_ns = 0;
    flow_table_free();
    decode_free();
    if (classify_ready)
        classify_free();
    classify_ready = false;
    secrets_memo_free();
}

/* ---------------------------------------------------------------- detector API */

/* A flow has one server and one client: a rule it fed before goes to the
 * same finding, found here without the lookup (nor the addresses).  The
 * rules of the bulk (row and header secrets) came last: from the end. */
static struct finding *flow_fed(const struct flow *f, const struct rule *rule)
{
    for (uint32_t i = f->nfed; i-- > 0;)
        if (f->fed_rule[i] == rule)
            return f->fed[i];
    return NULL;
}

void detector_emit(struct det_ctx *ctx, const struct rule *rule, enum dir d,
                   const char *field, const void *value, size_t len, enum ev_kind kind)
{
    struct call *call = ctx->engine;
    struct flow *f = call->flow;
    struct fact fact = {
        .rule = rule,
        .pkt_no = ctx->pkt_no,
        .ts_ns = ctx->ts_ns ? ctx->ts_ns : f->last_ns,
        .dir = d == DIR_TO_SERVER ? FDIR_TO_SERVER : FDIR_TO_CLIENT,
        .field = field,
        .value = value,
        .value_len = len,
        .kind = kind,
    };
    struct finding *fed = flow_fed(f, rule);
    if (fed != NULL) {
        finding_add_again(fed, &fact);
        return;
    }
    fact.protocol = flow_protocol(f);
    fact.transport = f->transport;
    fact.server = f->addr[1];
    fact.server_port = f->port[1];
    fact.client = f->addr[0];
    struct finding *fd = finding_add(&fact);
    if (fd == NULL)
        return;
    finding_count_flow(fd);
    if (f->nfed < FLOW_MAX_FINDINGS) {
        f->fed_rule[f->nfed] = rule;
        f->fed[f->nfed++] = fd;
    }
}

bool detector_emit_again(struct det_ctx *ctx, const struct rule *rule, uint64_t n)
{
    struct call *call = ctx->engine;
    struct flow *f = call->flow;
    struct finding *fed = flow_fed(f, rule);
    if (fed == NULL)
        return false;
    finding_add_occurrences(fed, ctx->ts_ns ? ctx->ts_ns : f->last_ns, n);
    return true;
}

void detector_flow_encrypted(struct det_ctx *ctx)
{
    struct call *call = ctx->engine;
    slot_detach(call->flow, call->slot);
    flow_upgrade(call->flow);
}

void detector_flow_tls(struct det_ctx *ctx, const struct service_tls *t)
{
    struct call *call = ctx->engine;
    struct flow *f = call->flow;
    service_add_tls(f->transport, &f->addr[1], f->port[1], t);
}

void detector_flow_not_encrypted(struct det_ctx *ctx)
{
    struct call *call = ctx->engine;
    call->flow->verdict = VERDICT_PLAINTEXT;
}

void detector_flow_plaintext(struct det_ctx *ctx, const char *proto)
{
    struct call *call = ctx->engine;
    struct flow *f = call->flow;
    if (f->verdict == VERDICT_UNKNOWN)
        f->verdict = VERDICT_PLAINTEXT;
    if (proto != NULL && f->proto_override == NULL) {
        f->proto_override = proto;
        if (f->view != NULL)
            f->view->protocol = proto;
    }
}

void detector_detach(struct det_ctx *ctx)
{
    struct call *call = ctx->engine;
    slot_detach(call->flow, call->slot);
}

/* ---------------------------------------------------------------- tests */

int engine_run_detector(const struct detector *det, const struct flow_view *fv,
                        const struct det_step *steps, size_t nsteps, size_t chunk)
{
    if (det == NULL || fv == NULL || (steps == NULL && nsteps > 0))
        return -1;
    struct flow *f = calloc(1, sizeof *f);
    struct det_slot *s = calloc(1, sizeof *s);
    struct flow_view *v = malloc(sizeof *v);
    if (f == NULL || s == NULL || v == NULL) {
        free(f);
        free(s);
        free(v);
        return -1;
    }
    *v = *fv;
    v->head[0] = v->head[1] = NULL;
    v->head_len[0] = v->head_len[1] = 0;
    f->id = fv->id;
    f->transport = fv->transport ? fv->transport : 6;
    f->addr[0] = fv->client;
    f->addr[1] = fv->server;
    f->port[0] = fv->client_port;
    f->port[1] = fv->server_port;
    f->decided = true;
    f->single_slot = true;
    f->cls.name = fv->protocol != NULL ? fv->protocol : "Unknown";
    f->cls.by_dpi = fv->by_dpi;
    f->view = v;
    f->slots = s;
    f->nslots = 1;
    f->nactive = 1;
    s->det = det;
    s->state = calloc(1, det->state_size ? det->state_size : 1);
    if (s->state == NULL) {
        free(f);
        free(s);
        free(v);
        return -1;
    }
    struct call call;
    const uint64_t t0 = 1700000000ULL * NS;
    if (det->on_start != NULL) {
        struct det_ctx ctx = ctx_make(f, s, &call, 0, t0);
        det->on_start(&ctx);
    }
    for (size_t i = 0; i < nsteps; i++) {
        size_t step = chunk == 0 ? steps[i].n : chunk;
        for (size_t off = 0; off < steps[i].n; off += step) {
            size_t len = steps[i].n - off < step ? steps[i].n - off : step;
            slot_deliver(f, s, steps[i].d == DIR_TO_SERVER ? 0 : 1, steps[i].p + off,
                         (uint32_t)len, i + 1, t0 + i * 1000000ULL);
        }
    }
    if (det->on_end != NULL) {
        struct det_ctx ctx = ctx_make(f, s, &call, 0, t0 + nsteps * 1000000ULL);
        det->on_end(&ctx);
    }
    slot_free_pending(s);
    free(s->state);
    free(s);
    free(v);
    free(f);
    return 0;
}

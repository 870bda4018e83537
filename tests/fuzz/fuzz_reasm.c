/*
 * fuzz_reasm.c - TCP reassembly of one direction (scanner/reasm.c) driven
 * by a script.
 *
 * Input:
 *   isn(4, big-endian)                the sender's initial sequence number
 *   then steps, each starting with an op byte:
 *     op & 3 == 0  segment: offset(2) len(1) cut(1)
 *                  seq = isn + 1 + offset, or isn + 1 - offset when op & 4,
 *                  the offset counted in units of 256 bytes when op & 32;
 *                  wire length = len, times 64 when op & 8 (up to 16 KiB);
 *                  when op & 16, only wire - cut % (wire + 1) bytes were
 *                  captured (a snaplen cut)
 *     op & 3 == 1  SYN at isn + offset(2) - 1 (usually isn itself)
 *     op & 3 == 2  the receiver's ACK at isn + 1 + offset(2) * 4
 *     op & 3 == 3  flush (end of flow)
 *   A final flush and free always follow.
 *
 * Segment bytes are pattern(sequence number), so every copy of a byte is
 * the same and the sink can check each byte it gets.  Checked: bytes come
 * out in order, each position once, as data or as a gap; after every step
 * the stream position equals reasm's next_seq; the held-data counters stay
 * under their caps; every byte given is accounted for at the end (data or
 * gap: nothing silently dropped); g_stats.reasm_bytes returns to where it
 * started.  Define FUZZ_REASM_NO_LOSS_CHECK to skip the "nothing silently
 * dropped" check while hunting for other bugs.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../scanner/limits.h"
#include "../../scanner/reasm.h"
#include "../../scanner/stats.h"

static uint8_t pattern(uint32_t s)
{
    return (uint8_t)(s * 2654435761u >> 24);
}

struct model {
    int known;              /* the stream start is known */
    uint32_t start;         /* its first sequence number */
    uint32_t expect;        /* next position the sink should get */
    int64_t max_end;        /* furthest byte given, relative to start */
};

static struct model m;

static void die(const char *what)
{
    fprintf(stderr, "fuzz_reasm: %s (expect %u, start %u)\n", what, m.expect, m.start);
    abort();
}

static void sink_data(void *arg, const uint8_t *p, uint32_t n, uint64_t pkt_no, uint64_t ts)
{
    (void)arg, (void)pkt_no, (void)ts;
    if (!m.known)
        die("data before the stream started");
    if (n == 0)
        die("empty delivery");
    for (uint32_t i = 0; i < n; i++)
        if (p[i] != pattern(m.expect + i))
            die("wrong byte delivered");
    m.expect += n;
}

static void sink_gap(void *arg, uint32_t len)
{
    (void)arg;
    if (!m.known)
        die("gap before the stream started");
    if (len == 0)
        die("empty gap");
    if (len > 0x40000000u)
        die("absurd gap");
    m.expect += len;
}

static const struct reasm_sink sink = { sink_data, sink_gap, NULL };

static void check_dir(const struct reasm_dir *r)
{
    if (r->ooo_bytes > REASM_MAX_OOO_BYTES)
        die("held bytes over the cap");
    if (r->ooo_segs > REASM_MAX_OOO_SEGS)
        die("held segments over the cap");
    if ((r->ooo == NULL) != (r->ooo_segs == 0))
        die("held list and count disagree");
    if (r->started != m.known)
        die("started flag disagrees");
    if (m.known && r->next_seq != m.expect)
        die("next_seq is not where the stream is");
}

static void do_segment(struct reasm_dir *r, uint32_t seq, uint32_t wire, uint32_t captured)
{
    uint8_t *p = malloc(captured ? captured : 1);
    if (p == NULL)
        return;
    for (uint32_t i = 0; i < captured; i++)
        p[i] = pattern(seq + i);
    if (!r->started && wire > 0) {
        m.known = 1;
        m.start = m.expect = seq;
    }
    if (m.known && wire > 0) {
        int64_t rel = (int32_t)(seq - m.start);
        if (rel + (int64_t)wire > m.max_end)
            m.max_end = rel + wire;
    }
    reasm_segment(r, seq, p, captured, wire, 1, 0, &sink);
    free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    uint32_t isn = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 |
                   (uint32_t)data[2] << 8 | data[3];
    size_t off = 4;
    struct reasm_dir r;
    memset(&r, 0, sizeof r);
    memset(&m, 0, sizeof m);
    uint64_t base = g_stats.reasm_bytes;

    while (off < size) {
        uint8_t op = data[off++];
        uint32_t a = 0;
        if (size - off >= 2) {
            a = (uint32_t)data[off] << 8 | data[off + 1];
            off += 2;
        }
        switch (op & 3) {
        case 0: {
            uint32_t len = off < size ? data[off++] : 0;
            uint32_t cut = off < size ? data[off++] : 0;
            uint32_t wire = op & 8 ? len * 64 : len;
            uint32_t captured = op & 16 ? wire - cut % (wire + 1) : wire;
            uint32_t delta = op & 32 ? a * 256 : a;
            uint32_t seq = op & 4 ? isn + 1 - delta : isn + 1 + delta;
            do_segment(&r, seq, wire, captured);
            break;
        }
        case 1:
            if (!r.started) {
                m.known = 1;
                m.start = m.expect = isn + a;
            }
            reasm_syn(&r, isn + a - 1);
            break;
        case 2:
            reasm_acked(&r, isn + 1 + a * 4, &sink);
            break;
        case 3:
            reasm_flush(&r, &sink);
            if (r.ooo != NULL)
                die("flush left held data");
            break;
        }
        check_dir(&r);
    }
    reasm_flush(&r, &sink);
    check_dir(&r);
    if (r.ooo != NULL || r.ooo_bytes != 0)
        die("flush left held data");
#ifndef FUZZ_REASM_NO_LOSS_CHECK
    if (m.known && (int64_t)(int32_t)(m.expect - m.start) < m.max_end)
        die("bytes given were neither delivered nor reported as a gap");
#endif
    reasm_free(&r);
    if (g_stats.reasm_bytes != base)
        die("reassembly memory not given back");
    return 0;
}

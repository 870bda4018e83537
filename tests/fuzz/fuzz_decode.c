/*
 * fuzz_decode.c - decode_frame() on arbitrary frames (scanner/decode.c,
 * scanner/frag.c).
 *
 * Input:
 *   byte 0        link type: index into the supported DLTs below
 *   then frames:  length(2, big-endian) bytes(length) ...
 *                 (when the rest does not parse as such, it is one frame)
 *
 * Several frames per input let IPv4 fragments meet and be rebuilt; the
 * fragment table is emptied after every input, so an input replays alike.
 * Each frame is copied into a heap block of exactly its size, so a read of
 * one byte too many trips AddressSanitizer.  Beyond memory safety the
 * target checks what decode.h promises of a packet it returns: the IP
 * packet and the payload lie inside what was captured (or inside the
 * rebuilt datagram), and the captured payload is never longer than the
 * wire payload.  A broken promise aborts, so the fuzzer reports it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../scanner/decode.h"

static const int linktypes[] = {
    1,      /* EN10MB */
    0,      /* NULL */
    108,    /* LOOP */
    12,     /* RAW (Linux value) */
    101,    /* LINKTYPE_RAW */
    228,    /* IPV4 */
    229,    /* IPV6 */
    113,    /* LINUX_SLL */
    276,    /* LINUX_SLL2 */
    104,    /* C_HDLC */
    9,      /* PPP */
    50,     /* PPP_SERIAL */
    239,    /* NFLOG */
};
#define NLINKTYPES (sizeof linktypes / sizeof linktypes[0])

static int within(const void *p, size_t n, const void *start, size_t len)
{
    uintptr_t x = (uintptr_t)p, s = (uintptr_t)start;
    return x >= s && x <= s + len && n <= s + len - x;
}

static void fail(const char *what, const struct packet *pkt)
{
    fprintf(stderr, "fuzz_decode: %s (l3_len %u payload_len %u payload_wire %u)\n", what,
            pkt->l3_len, pkt->payload_len, pkt->payload_wire);
    abort();
}

static void check_packet(const struct packet *pkt, const uint8_t *f, uint32_t caplen)
{
    volatile unsigned sum = 0;
    if (pkt->l3 == NULL)
        fail("no IP header", pkt);
    /* l3 is in the frame, or in frag.c's rebuilt datagram (not in the
     * frame at all) */
    int in_frame = within(pkt->l3, 0, f, caplen);
    if (in_frame && !within(pkt->l3, pkt->l3_len, f, caplen))
        fail("IP packet runs past the captured bytes", pkt);
    if (pkt->payload_len > pkt->payload_wire)
        fail("captured payload longer than the wire payload", pkt);
    if (pkt->payload_len > 0 && !within(pkt->payload, pkt->payload_len, pkt->l3, pkt->l3_len))
        fail("payload outside its IP packet", pkt);
    for (uint32_t i = 0; i < pkt->l3_len; i++)
        sum += pkt->l3[i];
    for (uint32_t i = 0; i < pkt->payload_len; i++)
        sum += pkt->payload[i];
    (void)sum;
}

static void one_frame(int lt, const uint8_t *data, size_t n, uint64_t ts)
{
    uint8_t *f = malloc(n ? n : 1);
    if (f == NULL)
        return;
    if (n > 0)
        memcpy(f, data, n);
    struct packet pkt;
    if (decode_frame(lt, f, (uint32_t)n, (uint32_t)n, ts, &pkt))
        check_packet(&pkt, f, (uint32_t)n);
    free(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int lt = linktypes[data[0] % NLINKTYPES];
    const uint8_t *p = data + 1;
    size_t left = size - 1;
    uint64_t ts = 1700000000000000000ULL;

    /* a well-formed sequence of length-prefixed frames? */
    size_t off = 0;
    int framed = left >= 2;
    while (framed && off < left) {
        if (left - off < 2) {
            framed = 0;
            break;
        }
        size_t len = (size_t)p[off] << 8 | p[off + 1];
        if (len > left - off - 2)
            framed = 0;
        off += 2 + len;
    }
    if (!framed) {
        one_frame(lt, p, left, ts);
    } else {
        for (off = 0; off < left; ) {
            size_t len = (size_t)p[off] << 8 | p[off + 1];
            one_frame(lt, p + off + 2, len, ts);
            off += 2 + len;
            ts += 1000000;
        }
    }
    decode_free();
    return 0;
}

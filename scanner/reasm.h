/*
 * reasm.h - TCP reassembly for one direction of a flow.
 *
 * Segments go in in any order; bytes come out in order through a sink,
 * exactly once each.  Policy: the first copy of a byte wins (later
 * retransmissions and overlaps are dropped and counted), so every consumer
 * sees one consistent stream.  Out-of-order data is held up to
 * REASM_MAX_OOO_BYTES; a hole that cannot be filled (the cap, the
 * receiver's ACK beyond it, the end of the flow) is passed on as a gap of N
 * bytes, never hidden.  Snaplen cuts become gaps too.
 */
#ifndef LEAKSCAN_REASM_H
#define LEAKSCAN_REASM_H

#include <stdbool.h>
#include <stdint.h>

struct reasm_seg;

/* Where in-order bytes go.  data/len is borrowed for the call; gap() tells
 * of len bytes lost. */
struct reasm_sink {
    void (*data)(void *arg, const uint8_t *p, uint32_t n, uint64_t pkt_no, uint64_t ts_ns);
    void (*gap)(void *arg, uint32_t len);
    void *arg;
};

struct reasm_dir {
    bool started;               /* next_seq is known */
    uint32_t next_seq;          /* sequence number of the next byte to deliver */
    struct reasm_seg *ooo;      /* held segments, sorted by seq, not overlapping */
    uint32_t ooo_bytes;
    uint32_t ooo_segs;
};

/* A SYN (or SYN-ACK) from this direction: the stream starts at seq + 1. */
void reasm_syn(struct reasm_dir *r, uint32_t seq);

/* A segment: n bytes captured of wire bytes at seq. */
void reasm_segment(struct reasm_dir *r, uint32_t seq, const uint8_t *p, uint32_t n,
                   uint32_t wire, uint64_t pkt_no, uint64_t ts_ns,
                   const struct reasm_sink *sink);

/* The other side acknowledged up to ack: a hole before held data that the
 * receiver has acknowledged was lost by the capture, not the network. */
void reasm_acked(struct reasm_dir *r, uint32_t ack, const struct reasm_sink *sink);

/* End of flow: declare remaining holes as gaps and deliver held data. */
void reasm_flush(struct reasm_dir *r, const struct reasm_sink *sink);

/* Frees held segments without delivering them. */
void reasm_free(struct reasm_dir *r);

#endif

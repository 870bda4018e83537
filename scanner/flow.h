/*
 * flow.h - the flow table: bidirectional flows keyed by their 5-tuple,
 * with idle lists for timeouts and eviction.
 *
 * Index 0 of every per-direction array is the client (the side that sent
 * the SYN, or the side heuristics call the client on a mid-stream start),
 * index 1 the server.  The engine owns what hangs off a flow (reassembly,
 * nDPI state, detector states) and frees it in engine_flow_end().
 */
#ifndef LEAKSCAN_FLOW_H
#define LEAKSCAN_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "classify.h"
#include "limits.h"
#include "reasm.h"

struct detector;
struct flow_view;
struct finding;

enum flow_verdict {
    VERDICT_UNKNOWN = 0,        /* no payload, or bytes we cannot name */
    VERDICT_PLAINTEXT,          /* a cleartext protocol was seen */
    VERDICT_ENCRYPTED,          /* TLS/SSH/QUIC/DTLS from the start */
    VERDICT_UPGRADED,           /* cleartext that switched to TLS (STARTTLS) */
};

/* Which idle list a flow is on: each list has one timeout, so its head is
 * always the next flow to expire. */
enum flow_list { LIST_TCP = 0, LIST_TCP_CLOSED, LIST_UDP, LIST_COUNT };

/* Bytes of one direction held until the flow's protocol is decided, with
 * the packet boundaries so they can be replayed as they came. */
#define HOLD_MAX_CHUNKS 32u
struct hold_chunk {
    uint32_t end;               /* offset in buf just past the chunk's bytes */
    uint32_t gap;               /* bytes lost right after them */
    uint64_t pkt_no, ts_ns;
};
struct hold {
    uint8_t *buf;
    uint32_t len;
    uint32_t cap;
    uint32_t nchunks;
    struct hold_chunk *chunk;   /* HOLD_MAX_CHUNKS, allocated with the first bytes (a
                                 * flow that never carries any does not pay for them) */
};

/* One detector attached to a flow. */
struct det_slot {
    const struct detector *det;
    void *state;
    bool detached;
    uint8_t *pend[2];           /* bytes offered but not consumed, per direction */
    uint32_t pend_len[2];
    uint32_t pend_cap[2];
};

struct flow {
    struct flow *hnext;                 /* hash chain */
    struct flow *lprev, *lnext;         /* idle list */
    enum flow_list list;
    uint64_t id;
    uint8_t transport;                  /* 6 or 17 */
    struct ipaddr addr[2];              /* [0] client, [1] server */
    uint16_t port[2];
    uint64_t first_ns, last_ns;        /* capture times of the first and last packet */
    uint64_t idle_ns;                  /* engine clock at the last packet (orders the lists) */
    uint64_t pkts[2];
    uint64_t bytes[2];                  /* wire bytes */
    uint64_t payload[2];                /* payload bytes */
    bool syn[2], fin[2], rst;
    bool handshake_seen;                /* the SYN was seen: roles are certain */

    struct reasm_dir rd[2];
    struct classify_flow *cf;           /* nDPI state until decided */
    uint32_t classify_pkts;
    bool ack_fed;                       /* nDPI has seen one bare ACK */
    bool decided;                       /* protocol decided, detectors attached */
    struct classify_result cls;
    struct hold hold[2];
    enum flow_verdict verdict;
    const char *proto_override;         /* a detector's name for the protocol */
    bool sniffed[2];                    /* first payload bytes looked at */
    bool tls_start;                     /* the client opened with a ClientHello */
    bool text_start;                    /* a direction opened with printable text */
    bool stream_skipped;                /* payload passed by without reassembly */
    bool single_slot;                   /* engine_run_detector's flow: no takeover */

    struct flow_view *view;             /* what detectors see, once decided */
    struct det_slot *slots;
    uint32_t nslots;
    uint32_t nactive;                   /* slots not detached */

    struct finding *fed[FLOW_MAX_FINDINGS]; /* findings this flow contributed to */
    const struct rule *fed_rule[FLOW_MAX_FINDINGS];     /* and their rules */
    uint32_t nfed;
};

/* Looks up the flow of a packet; *to_server tells its direction. */
struct flow *flow_lookup(uint8_t transport, const struct ipaddr *src, uint16_t sport,
                         const struct ipaddr *dst, uint16_t dport, bool *to_server);

/* Creates a flow with the given client and server.  Returns NULL when the
 * table is full and nothing could be evicted (the caller counts it). */
struct flow *flow_create(uint8_t transport, const struct ipaddr *cli, uint16_t cport,
                         const struct ipaddr *srv, uint16_t sport, uint64_t ts_ns);

/* Marks activity at capture time ts_ns and engine clock clock_ns (the
 * latest time seen, which never goes back): moves the flow to the tail of
 * its list, so each list stays ordered by clock. */
void flow_touch(struct flow *f, uint64_t ts_ns, uint64_t clock_ns);
/* Moves a TCP flow to the closed list (short timeout). */
void flow_mark_closed(struct flow *f);

/* Removes the flow from the table and lists (the caller frees what hangs
 * off it, then calls flow_release()). */
void flow_unlink(struct flow *f);
void flow_release(struct flow *f);

/* The flow that should be ended now: idle past its list's timeout at
 * engine clock now_ns (NULL when none).  With now_ns == UINT64_MAX every
 * flow is due. */
struct flow *flow_next_expired(uint64_t now_ns);
/* The oldest flow to evict when the table is full (closed ones first). */
struct flow *flow_oldest(bool *was_closed);

uint64_t flow_active(void);
void flow_table_free(void);

/* Decides client and server for a flow whose handshake was not seen:
 * returns true when the packet's source is the client. */
bool flow_src_is_client(uint8_t transport, uint16_t sport, uint16_t dport, uint8_t tcp_flags);

#endif

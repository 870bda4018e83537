/*
 * decode.h - from a captured frame to the IP packet and TCP/UDP header
 * inside it, through link layers, VLAN tags, PPPoE, MPLS and tunnels.
 */
#ifndef LEAKSCAN_DECODE_H
#define LEAKSCAN_DECODE_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10

/* One decoded IP packet.  Pointers borrow the frame (or the fragment
 * reassembly buffer) and are valid until the next decode call. */
struct packet {
    uint64_t ts_ns;
    uint64_t pkt_no;
    uint32_t wirelen;           /* the frame's original length */
    const uint8_t *l3;          /* IP header (what nDPI wants) */
    uint32_t l3_len;            /* captured bytes of the IP packet */
    uint8_t ipver;              /* 4 or 6 */
    struct ipaddr src, dst;
    uint8_t l4proto;            /* 6 tcp, 17 udp, other */
    uint16_t sport, dport;
    uint8_t tcp_flags;
    uint32_t seq, ack;
    const uint8_t *payload;     /* TCP/UDP payload, captured part */
    uint32_t payload_len;       /* captured payload bytes */
    uint32_t payload_wire;      /* payload length per the headers (>= payload_len) */
};

/* True when decode_frame() knows this DLT link type. */
bool decode_linktype_supported(int linktype);

/* Decodes one frame.  Returns true when *pkt holds an IP packet (TCP, UDP
 * or another IP protocol); false when the frame is not IP, is malformed, or
 * is a fragment still waiting for the rest (each case is counted in
 * g_stats). */
bool decode_frame(int linktype, const uint8_t *frame, uint32_t caplen, uint32_t wirelen,
                  uint64_t ts_ns, struct packet *pkt);

/* Frees the fragment reassembly state. */
void decode_free(void);

#endif

/*
 * stats.h - counters of everything the scanner saw, dropped or capped.
 *
 * Malformed traffic is data: it is counted here and the scan moves on, with
 * no message per packet.  The report prints every non-zero counter, and
 * stats_incomplete() says whether a cap was hit (the scan is then
 * incomplete: exit code 3).
 */
#ifndef LEAKSCAN_STATS_H
#define LEAKSCAN_STATS_H

#include <stdbool.h>
#include <stdint.h>

#define STATS_FIELDS(X) \
    X(packets)              /* frames read */ \
    X(bytes)                /* their original (wire) length */ \
    X(captured_bytes)       /* bytes actually captured */ \
    X(snaplen_cut)          /* frames shorter than on the wire */ \
    X(non_ip)               /* ARP, LLDP, STP...: not scanned */ \
    X(decode_truncated)     /* a header cut short */ \
    X(decode_bad_ip)        /* impossible IP header */ \
    X(decode_bad_l4)        /* impossible TCP/UDP header */ \
    X(decode_too_deep)      /* tunnels nested too deep */ \
    X(other_ip_proto)       /* ICMP, ESP, SCTP...: counted only */ \
    X(tunnel_gre)           /* GRE/ERSPAN packets decapsulated */ \
    X(tunnel_vxlan)         /* VXLAN packets decapsulated */ \
    X(tunnel_other)         /* MPLS, PPPoE layers skipped */ \
    X(ipv4_fragments)       /* IPv4 fragments seen */ \
    X(ipv4_reassembled)     /* datagrams rebuilt from them */ \
    X(frag_dropped)         /* fragments dropped: cap, timeout, overlap */ \
    X(ipv6_fragments)       /* IPv6 fragments (not reassembled) */ \
    X(flows)                /* flows created */ \
    X(flows_tcp) \
    X(flows_udp) \
    X(flows_evicted)        /* ended early by FLOW_MAX (cap hit) */ \
    X(flows_timed_out) \
    X(flows_closed) \
    X(tcp_retransmitted)    /* segments entirely seen before */ \
    X(tcp_overlaps)         /* segments partly seen before (first copy kept) */ \
    X(tcp_out_of_order)     /* segments buffered until a hole filled */ \
    X(tcp_gaps)             /* holes declared lost */ \
    X(tcp_gap_bytes) \
    X(reasm_ooo_cap)        /* out-of-order cap hit (cap hit) */ \
    X(reasm_memcap)         /* global reassembly memory cap hit (cap hit) */ \
    X(reasm_pending_cap)    /* a detector's pending buffer overflowed (cap hit) */ \
    X(classify_calls)       /* packets given to nDPI */ \
    X(classify_giveups)     /* flows nDPI could not name */ \
    X(tls_upgrades)         /* plaintext flows that switched to TLS */ \
    X(findings_dropped)     /* FINDINGS_MAX hit (cap hit) */ \
    X(services_dropped)     /* SERVICES_MAX hit (cap hit) */ \
    X(tls_details_dropped)  /* SERVICES_TLS_MAX hit: TLS facts counted, not kept */ \
    /* inspection depths of the detectors: a message longer than a detector \
     * reads whole is read from its head, the rest passed over (as an IDS \
     * limits body depth); counted, not an incomplete scan */ \
    X(mysql_packet_cut)     /* MySQL packet > 16 KiB: its first 16 KiB read */ \
    X(tls_handshake_cut)    /* TLS handshake message > 64 KiB: its head read */ \
    X(http_header_cut)      /* HTTP header block > 64 KiB: the message skipped */ \
    X(http_inflate_cut)     /* decompressed HTTP body > 1 MiB: the rest not scanned */ \
    X(mongodb_message_cut)  /* MongoDB message > 64 KiB or inflating past it */

struct stats {
#define STATS_DECLARE(name) uint64_t name;
    STATS_FIELDS(STATS_DECLARE)
#undef STATS_DECLARE
    uint64_t reasm_bytes;       /* reassembly memory in use now */
    uint64_t reasm_bytes_peak;
    uint64_t flows_active;
    uint64_t flows_active_peak;
};

extern struct stats g_stats;

/* Name and value of counter i (0 .. stats_count()-1), for the report. */
unsigned stats_count(void);
const char *stats_name(unsigned i);
uint64_t stats_value(unsigned i);

/* True when a memory cap was hit: the scan is incomplete. */
bool stats_incomplete(void);

#endif

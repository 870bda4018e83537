/*
 * decode.c - link layers, IP and TCP/UDP headers (see decode.h).
 *
 * Link types: Ethernet (with 802.1Q / 802.1ad / QinQ tags, PPPoE session,
 * MPLS), Linux cooked v1 and v2, BSD NULL/LOOP, raw IPv4/IPv6, Cisco HDLC,
 * PPP, NFLOG.  Network: IPv4 (RFC 791, fragments rebuilt by frag.c), IPv6
 * (RFC 8200: hop-by-hop, routing, destination options, AH and mobility
 * headers skipped; fragments counted, not rebuilt).  Tunnels are opened and
 * the inner packet is what gets scanned: GRE (RFC 2784/2890, with ERSPAN
 * types I-III), VXLAN on UDP 4789 (RFC 7348), IP-in-IP.
 *
 * Nothing here prints: malformed frames are counted in g_stats and skipped.
 * Every read goes through the cursor.
 */
#include "decode.h"

#include <string.h>

#include <pcap/dlt.h>

#include "cursor.h"
#include "frag.h"
#include "limits.h"
#include "stats.h"

#define ETH_IPV4    0x0800
#define ETH_IPV6    0x86dd
#define ETH_VLAN    0x8100
#define ETH_QINQ    0x88a8
#define ETH_QINQ2   0x9100
#define ETH_PPPOE   0x8864
#define ETH_MPLS    0x8847
#define ETH_MPLS_M  0x8848
#define ETH_TEB     0x6558      /* transparent Ethernet bridging (GRE) */
#define ETH_ERSPAN2 0x88be
#define ETH_ERSPAN3 0x22eb

#define VXLAN_PORT  4789

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#ifndef DLT_NFLOG
#define DLT_NFLOG 239
#endif
#ifndef DLT_IPV4
#define DLT_IPV4 228
#endif
#ifndef DLT_IPV6
#define DLT_IPV6 229
#endif

static bool decode_ether(const uint8_t *p, uint32_t n, unsigned depth, struct packet *pkt);
static bool decode_ip(const uint8_t *p, uint32_t n, unsigned depth, struct packet *pkt);

bool decode_linktype_supported(int lt)
{
    switch (lt) {
    case DLT_EN10MB:
    case DLT_NULL:
    case DLT_LOOP:
    case DLT_RAW:
    case 101:               /* LINKTYPE_RAW as some files store it */
    case DLT_IPV4:
    case DLT_IPV6:
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
    case DLT_C_HDLC:
    case DLT_PPP:
    case DLT_PPP_SERIAL:
    case DLT_NFLOG:
        return true;
    default:
        return false;
    }
}

/* Dispatches on an EtherType (after tags have been removed). */
static bool decode_ethertype(uint16_t type, const uint8_t *p, uint32_t n, unsigned depth,
                             struct packet *pkt)
{
    struct cursor c = cursor_init(p, n);
    switch (type) {
    case ETH_IPV4:
    case ETH_IPV6:
        return decode_ip(p, n, depth, pkt);
    case ETH_TEB:
        return decode_ether(p, n, depth + 1, pkt);
    case ETH_PPPOE: {
        /*  ver/type(1) code(1) session(2) length(2) | PPP protocol(2) */
        cur_skip(&c, 6);
        uint16_t ppp = cur_be16(&c);
        if (c.bad) {
            g_stats.decode_truncated++;
            return false;
        }
        g_stats.tunnel_other++;
        if (ppp == 0x0021 || ppp == 0x0057)
            return decode_ip(cur_ptr(&c), (uint32_t)cur_left(&c), depth, pkt);
        g_stats.non_ip++;
        return false;
    }
    case ETH_MPLS:
    case ETH_MPLS_M: {
        /* label stack: 4 bytes each until the bottom-of-stack bit */
        for (unsigned i = 0; i < 16; i++) {
            uint32_t lse = cur_be32(&c);
            if (c.bad) {
                g_stats.decode_truncated++;
                return false;
            }
            if (lse & 0x100)
                break;
        }
        g_stats.tunnel_other++;
        /* no next-protocol field: the first nibble tells IPv4 from IPv6 */
        if (cur_left(&c) > 0 && ((cur_ptr(&c)[0] >> 4) == 4 || (cur_ptr(&c)[0] >> 4) == 6))
            return decode_ip(cur_ptr(&c), (uint32_t)cur_left(&c), depth, pkt);
        g_stats.non_ip++;
        return false;
    }
    default:
        g_stats.non_ip++;
        return false;
    }
}

/*
 *  dst(6) src(6) [TPID 0x8100/0x88a8/0x9100 + TCI](4)* type/length(2)
 */
static bool decode_ether(const uint8_t *p, uint32_t n, unsigned depth, struct packet *pkt)
{
    if (depth > DECODE_MAX_DEPTH) {
        g_stats.decode_too_deep++;
        return false;
    }
    struct cursor c = cursor_init(p, n);
    cur_skip(&c, 12);
    uint16_t type = cur_be16(&c);
    for (unsigned tags = 0; tags < 4 && (type == ETH_VLAN || type == ETH_QINQ ||
                                         type == ETH_QINQ2); tags++) {
        cur_skip(&c, 2);
        type = cur_be16(&c);
    }
    if (c.bad) {
        g_stats.decode_truncated++;
        return false;
    }
    if (type < 0x0600) {            /* 802.3 length: LLC/SNAP, not IP here */
        g_stats.non_ip++;
        return false;
    }
    return decode_ethertype(type, cur_ptr(&c), (uint32_t)cur_left(&c), depth, pkt);
}

/*
 * NFLOG (Linux netfilter log): family(1) version(1) resource id(2), then
 * TLVs: length(2, little-endian, includes the 4-byte TLV header) type(2);
 * each padded to 4 bytes.  Type 9 (NFULA_PAYLOAD) carries the IP packet.
 */
static bool decode_nflog(const uint8_t *p, uint32_t n, struct packet *pkt)
{
    struct cursor c = cursor_init(p, n);
    cur_skip(&c, 4);
    while (!c.bad && cur_left(&c) >= 4) {
        uint16_t len = cur_le16(&c);
        uint16_t type = cur_le16(&c);
        if (len < 4 || (size_t)(len - 4) > cur_left(&c)) {
            g_stats.decode_truncated++;
            return false;
        }
        if ((type & 0x7fff) == 9)
            return decode_ip(cur_ptr(&c), len - 4u, 0, pkt);
        cur_skip(&c, ((len + 3u) & ~3u) - 4u < cur_left(&c) ? ((len + 3u) & ~3u) - 4u
                                                             : cur_left(&c));
    }
    g_stats.non_ip++;
    return false;
}

static bool decode_ppp(const uint8_t *p, uint32_t n, struct packet *pkt)
{
    struct cursor c = cursor_init(p, n);
    /* address 0xff, control 0x03 are optional */
    if (n >= 2 && p[0] == 0xff && p[1] == 0x03)
        cur_skip(&c, 2);
    uint16_t proto = cur_be16(&c);
    if (c.bad) {
        g_stats.decode_truncated++;
        return false;
    }
    if (proto == 0x0021 || proto == 0x0057)
        return decode_ip(cur_ptr(&c), (uint32_t)cur_left(&c), 0, pkt);
    g_stats.non_ip++;
    return false;
}

bool decode_frame(int lt, const uint8_t *f, uint32_t caplen, uint32_t wirelen,
                  uint64_t ts_ns, struct packet *pkt)
{
    memset(pkt, 0, sizeof *pkt);
    pkt->ts_ns = ts_ns;
    pkt->wirelen = wirelen;
    struct cursor c = cursor_init(f, caplen);

    switch (lt) {
    case DLT_EN10MB:
        return decode_ether(f, caplen, 0, pkt);
    case DLT_NULL:
    case DLT_LOOP: {
        /* 4-byte address family, in the capturing host's byte order (NULL)
         * or network order (LOOP): try both.  2 = IPv4; 10, 24, 28, 30 =
         * IPv6 on Linux and the BSDs. */
        uint32_t fam = cur_le32(&c);
        if (c.bad) {
            g_stats.decode_truncated++;
            return false;
        }
        if (fam > 0xffff)
            fam = __builtin_bswap32(fam);
        if (fam == 2 || fam == 10 || fam == 24 || fam == 28 || fam == 30)
            return decode_ip(cur_ptr(&c), (uint32_t)cur_left(&c), 0, pkt);
        g_stats.non_ip++;
        return false;
    }
    case DLT_RAW:
    case 101:
    case DLT_IPV4:
    case DLT_IPV6:
        return decode_ip(f, caplen, 0, pkt);
    case DLT_LINUX_SLL: {
        /* packet type(2) ARPHRD(2) addr len(2) addr(8) protocol(2) */
        cur_skip(&c, 14);
        uint16_t type = cur_be16(&c);
        if (c.bad) {
            g_stats.decode_truncated++;
            return false;
        }
        return decode_ethertype(type, cur_ptr(&c), (uint32_t)cur_left(&c), 0, pkt);
    }
    case DLT_LINUX_SLL2: {
        /* protocol(2) reserved(2) ifindex(4) ARPHRD(2) pkttype(1) addrlen(1) addr(8) */
        uint16_t type = cur_be16(&c);
        cur_skip(&c, 18);
        if (c.bad) {
            g_stats.decode_truncated++;
            return false;
        }
        return decode_ethertype(type, cur_ptr(&c), (uint32_t)cur_left(&c), 0, pkt);
    }
    case DLT_C_HDLC: {
        /* address(1) control(1) protocol(2) */
        cur_skip(&c, 2);
        uint16_t type = cur_be16(&c);
        if (c.bad) {
            g_stats.decode_truncated++;
            return false;
        }
        return decode_ethertype(type, cur_ptr(&c), (uint32_t)cur_left(&c), 0, pkt);
    }
    case DLT_PPP:
    case DLT_PPP_SERIAL:
        return decode_ppp(f, caplen, pkt);
    case DLT_NFLOG:
        return decode_nflog(f, caplen, pkt);
    default:
        g_stats.non_ip++;
        return false;
    }
}

/*
 * GRE (RFC 2784, 2890):
 *   C(1) R(1) K(1) S(1) ... version(3) | protocol type(16)
 *   [checksum(2) reserved(2)] [key(4)] [sequence(4)]
 * ERSPAN type II/III follow with 8/12-byte headers, then Ethernet; ERSPAN
 * type I (no S bit) has no header at all.
 */
static bool decode_gre(const uint8_t *p, uint32_t n, unsigned depth, struct packet *pkt)
{
    struct cursor c = cursor_init(p, n);
    uint16_t flags = cur_be16(&c);
    uint16_t proto = cur_be16(&c);
    if (flags & 0x8000)
        cur_skip(&c, 4);
    if (flags & 0x2000)
        cur_skip(&c, 4);
    if (flags & 0x1000)
        cur_skip(&c, 4);
    if (c.bad || (flags & 7) != 0) {   /* version 1 is PPTP: not opened */
        g_stats.decode_bad_l4++;
        return false;
    }
    g_stats.tunnel_gre++;
    if (proto == ETH_ERSPAN2 && (flags & 0x1000))
        cur_skip(&c, 8);
    else if (proto == ETH_ERSPAN3) {
        const uint8_t *h = cur_take(&c, 12);
        if (h != NULL && (h[11] & 1))   /* O bit: optional 8-byte subheader */
            cur_skip(&c, 8);
    }
    if (c.bad) {
        g_stats.decode_truncated++;
        return false;
    }
    if (proto == ETH_ERSPAN2 || proto == ETH_ERSPAN3)
        return decode_ether(cur_ptr(&c), (uint32_t)cur_left(&c), depth + 1, pkt);
    return decode_ethertype(proto, cur_ptr(&c), (uint32_t)cur_left(&c), depth + 1, pkt);
}

/* TCP and UDP headers; opens VXLAN.  p/n is the L4 part of the packet as
 * captured, wire is its length according to the IP header. */
static bool decode_l4(const uint8_t *p, uint32_t n, uint32_t wire, unsigned depth,
                      struct packet *pkt)
{
    struct cursor c = cursor_init(p, n);
    if (pkt->l4proto == 6) {
        /* sport(2) dport(2) seq(4) ack(4) off/flags(2) win(2) sum(2) urg(2) */
        pkt->sport = cur_be16(&c);
        pkt->dport = cur_be16(&c);
        pkt->seq = cur_be32(&c);
        pkt->ack = cur_be32(&c);
        uint8_t off = cur_u8(&c);
        pkt->tcp_flags = cur_u8(&c);
        uint32_t hlen = (uint32_t)(off >> 4) * 4;
        if (c.bad) {
            g_stats.decode_truncated++;
            return false;
        }
        if (hlen < 20 || hlen > wire) {
            g_stats.decode_bad_l4++;
            return false;
        }
        if (hlen > n) {             /* options cut by the snaplen: no payload */
            pkt->payload = p + n;
            pkt->payload_len = 0;
            pkt->payload_wire = wire - hlen;
            return true;
        }
        pkt->payload = p + hlen;
        pkt->payload_len = n - hlen;
        pkt->payload_wire = wire - hlen;
        return true;
    }
    if (pkt->l4proto == 17) {
        pkt->sport = cur_be16(&c);
        pkt->dport = cur_be16(&c);
        uint16_t ulen = cur_be16(&c);
        cur_skip(&c, 2);            /* checksum: the header is 8 bytes */
        if (c.bad) {
            g_stats.decode_truncated++;
            return false;
        }
        /* trust the smaller of UDP and IP lengths (etherleak padding) */
        uint32_t len = ulen >= 8 && ulen <= wire ? ulen : wire;
        if (len < 8) {
            g_stats.decode_bad_l4++;
            return false;
        }
        pkt->payload = p + 8;
        pkt->payload_wire = len - 8;
        pkt->payload_len = n - 8 < len - 8 ? n - 8 : len - 8;
        if (pkt->dport == VXLAN_PORT && pkt->payload_len >= 8 &&
            (pkt->payload[0] & 0x08)) {
            /* VXLAN: flags(1, I bit 0x08) reserved(3) VNI(3) reserved(1) */
            g_stats.tunnel_vxlan++;
            return decode_ether(pkt->payload + 8, pkt->payload_len - 8, depth + 1, pkt);
        }
        return true;
    }
    return true;
}

static bool decode_ipv4(const uint8_t *p, uint32_t n, unsigned depth, struct packet *pkt)
{
    /* ver/ihl(1) tos(1) len(2) id(2) flags/frag(2) ttl(1) proto(1) sum(2) src(4) dst(4) */
    struct cursor c = cursor_init(p, n);
    uint8_t vihl = cur_u8(&c);
    cur_skip(&c, 1);
    uint16_t tot = cur_be16(&c);
    cur_skip(&c, 2);
    uint16_t fo = cur_be16(&c);
    cur_skip(&c, 1);
    uint8_t proto = cur_u8(&c);
    cur_skip(&c, 2);
    cur_skip(&c, 8);                /* addresses, read below */
    uint32_t ihl = (uint32_t)(vihl & 15) * 4;
    if (c.bad) {
        g_stats.decode_truncated++;
        return false;
    }
    if (ihl < 20 || tot < ihl) {
        g_stats.decode_bad_ip++;
        return false;
    }
    if (ihl > n) {
        g_stats.decode_truncated++;
        return false;
    }
    /* Honour a shorter total length than the frame: Ethernet pads short
     * frames, and the padding is not payload. */
    uint32_t caplen = n < tot ? n : tot;

    if (fo & 0x3fff) {              /* MF set or offset non-zero */
        g_stats.ipv4_fragments++;
        const uint8_t *whole = NULL;
        uint32_t wlen = frag_add(p, caplen, pkt->ts_ns, &whole);
        if (wlen == 0)
            return false;
        /* the rebuilt datagram carries the first fragment's header, whose
         * length may differ from this fragment's */
        p = whole;
        n = wlen;
        tot = (uint16_t)wlen;
        caplen = wlen;
        ihl = (uint32_t)(p[0] & 15) * 4;
        if (ihl < 20 || ihl > caplen) {
            g_stats.decode_bad_ip++;
            return false;
        }
    }
    /* p may now be the rebuilt datagram: read the addresses from it */
    struct cursor a = cursor_init(p, caplen);
    cur_skip(&a, 12);
    memset(&pkt->src, 0, sizeof pkt->src);
    memset(&pkt->dst, 0, sizeof pkt->dst);
    pkt->src.family = pkt->dst.family = 4;
    cur_copy(&a, pkt->src.b, 4);
    cur_copy(&a, pkt->dst.b, 4);
    pkt->ipver = 4;
    pkt->l3 = p;
    pkt->l3_len = caplen;
    pkt->l4proto = proto;

    const uint8_t *l4 = p + ihl;
    uint32_t l4n = caplen - ihl;
    uint32_t l4wire = (uint32_t)tot - ihl;
    if (proto == 47)
        return decode_gre(l4, l4n, depth, pkt);
    if (proto == 4 || proto == 41) {
        g_stats.tunnel_other++;
        if (depth >= DECODE_MAX_DEPTH) {
            g_stats.decode_too_deep++;
            return false;
        }
        return decode_ip(l4, l4n, depth + 1, pkt);
    }
    if (proto != 6 && proto != 17) {
        g_stats.other_ip_proto++;
        return true;
    }
    return decode_l4(l4, l4n, l4wire, depth, pkt);
}

static bool decode_ipv6(const uint8_t *p, uint32_t n, unsigned depth, struct packet *pkt)
{
    /* ver/tc/flow(4) payload len(2) next(1) hop(1) src(16) dst(16) */
    struct cursor c = cursor_init(p, n);
    cur_skip(&c, 4);
    uint16_t plen = cur_be16(&c);
    uint8_t next = cur_u8(&c);
    cur_skip(&c, 1);
    const uint8_t *src = cur_take(&c, 16);
    const uint8_t *dst = cur_take(&c, 16);
    if (c.bad) {
        g_stats.decode_truncated++;
        return false;
    }
    /* jumbograms (plen 0) are not expected on a capture: treat as bad */
    if (plen == 0 && next != 59) {
        g_stats.decode_bad_ip++;
        return false;
    }
    uint32_t tot = 40u + plen;
    uint32_t caplen = n < tot ? n : tot;
    pkt->ipver = 6;
    pkt->src.family = pkt->dst.family = 6;
    memcpy(pkt->src.b, src, 16);
    memcpy(pkt->dst.b, dst, 16);
    pkt->l3 = p;
    pkt->l3_len = caplen;

    c = cursor_init(p, caplen);
    cur_skip(&c, 40);
    uint32_t wire_left = plen;
    for (unsigned i = 0; i < 8; i++) {
        if (next == 0 || next == 43 || next == 60 || next == 135 || next == 51) {
            /* next(1) len(1): len in 8-byte units past the first 8, except AH
             * whose length is in 4-byte units past the first 8 */
            const uint8_t *h = cur_take(&c, 2);
            if (h == NULL) {
                g_stats.decode_truncated++;
                return false;
            }
            uint32_t hl = next == 51 ? ((uint32_t)h[1] + 2) * 4 : ((uint32_t)h[1] + 1) * 8;
            if (hl > wire_left) {
                g_stats.decode_bad_ip++;
                return false;
            }
            next = h[0];
            cur_skip(&c, hl - 2);
            wire_left -= hl;
            continue;
        }
        if (next == 44) {
            g_stats.ipv6_fragments++;
            return false;
        }
        break;
    }
    if (c.bad) {
        g_stats.decode_truncated++;
        return false;
    }
    pkt->l4proto = next;
    if (next == 47)
        return decode_gre(cur_ptr(&c), (uint32_t)cur_left(&c), depth, pkt);
    if (next == 4 || next == 41) {
        g_stats.tunnel_other++;
        if (depth >= DECODE_MAX_DEPTH) {
            g_stats.decode_too_deep++;
            return false;
        }
        return decode_ip(cur_ptr(&c), (uint32_t)cur_left(&c), depth + 1, pkt);
    }
    if (next != 6 && next != 17) {
        g_stats.other_ip_proto++;
        return true;
    }
    return decode_l4(cur_ptr(&c), (uint32_t)cur_left(&c), wire_left, depth, pkt);
}

static bool decode_ip(const uint8_t *p, uint32_t n, unsigned depth, struct packet *pkt)
{
    if (depth > DECODE_MAX_DEPTH) {
        g_stats.decode_too_deep++;
        return false;
    }
    if (n < 1) {
        g_stats.decode_truncated++;
        return false;
    }
    /* an inner packet (tunnel) replaces the outer one's transport facts */
    pkt->sport = pkt->dport = 0;
    pkt->tcp_flags = 0;
    pkt->seq = pkt->ack = 0;
    pkt->payload = NULL;
    pkt->payload_len = pkt->payload_wire = 0;
    switch (p[0] >> 4) {
    case 4:
        return decode_ipv4(p, n, depth, pkt);
    case 6:
        return decode_ipv6(p, n, depth, pkt);
    default:
        g_stats.decode_bad_ip++;
        return false;
    }
}

void decode_free(void)
{
    frag_free();
}

/*
 * test_decode.c - decode_frame() on crafted frames (scanner/decode.c,
 * scanner/frag.c).
 *
 * Every frame is a byte array with its layout in comments, placed with
 * guarded_copy() so that it ends right before an unreadable page: a read
 * of one byte too many crashes even without a sanitizer.  Most frames
 * carry the same inner packet, IPv4 10.0.0.1:50000 -> 10.0.0.2:3306 TCP
 * with "hello", so each link layer, tag and tunnel is checked against the
 * same expectations.  Then: IPv4 fragments in both orders, overlaps and
 * duplicates; every prefix of every frame (no crash, and either false or
 * a packet whose pointers stay inside what was captured); Ethernet
 * padding; snaplen cuts; impossible headers.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../../scanner/decode.h"
#include "../../scanner/stats.h"
#include "unit.h"

#define LT_NULL     0
#define LT_EN10MB   1
#define LT_RAW      12      /* DLT_RAW on Linux */
#define LT_RAW101   101     /* LINKTYPE_RAW */
#define LT_LOOP     108
#define LT_SLL      113
#define LT_IPV4     228
#define LT_SLL2     276

#define TS 1700000000000000000ULL

/* ------------------------------------------------------------------ frames */

/* Ethernet: dst 00:11:22:33:44:55 src 66:77:88:99:aa:bb (type follows) */
#define ETH_ADDRS \
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb

/* IPv4 + TCP + "hello", 45 bytes:
 *   45 00 002d    ver 4, IHL 5, total length 45
 *   1234 4000     id 0x1234, DF
 *   40 06 0000    TTL 64, TCP, checksum (not checked)
 *   0a000001 0a000002   10.0.0.1 -> 10.0.0.2
 *   c350 0cea     50000 -> 3306
 *   01020304      seq
 *   0a0b0c0d      ack
 *   50 18 ffff    data offset 5, PSH|ACK, window
 *   0000 0000     checksum, urgent
 *   "hello" */
#define IPV4_TCP_HELLO \
    0x45, 0x00, 0x00, 0x2d, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, \
    0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, \
    0xc3, 0x50, 0x0c, 0xea, 0x01, 0x02, 0x03, 0x04, 0x0a, 0x0b, 0x0c, 0x0d, \
    0x50, 0x18, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, \
    'h', 'e', 'l', 'l', 'o'
#define IPV4_TCP_HELLO_LEN 45

/* Ethernet II, type IPv4 */
static const uint8_t eth_tcp[] = {
    ETH_ADDRS, 0x08, 0x00,
    IPV4_TCP_HELLO
};

/* 802.1Q: TPID 8100, TCI 0064 (VLAN 100), type IPv4 */
static const uint8_t vlan_tcp[] = {
    ETH_ADDRS, 0x81, 0x00, 0x00, 0x64, 0x08, 0x00,
    IPV4_TCP_HELLO
};

/* QinQ: outer 88a8 TCI 00c8 (S-VLAN 200), inner 8100 TCI 0064, type IPv4 */
static const uint8_t qinq_tcp[] = {
    ETH_ADDRS, 0x88, 0xa8, 0x00, 0xc8, 0x81, 0x00, 0x00, 0x64, 0x08, 0x00,
    IPV4_TCP_HELLO
};

/* Linux cooked v1: packet type 0 (to us), ARPHRD_ETHER, address length 6,
 * address (8 bytes, padded), protocol IPv4 */
static const uint8_t sll_tcp[] = {
    0x00, 0x00, 0x00, 0x01, 0x00, 0x06,
    0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x00, 0x00,
    0x08, 0x00,
    IPV4_TCP_HELLO
};

/* Linux cooked v2: protocol IPv4, reserved, ifindex 2, ARPHRD_ETHER,
 * packet type 0, address length 6, address (8 bytes) */
static const uint8_t sll2_tcp[] = {
    0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
    0x00, 0x01, 0x00, 0x06,
    0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x00, 0x00,
    IPV4_TCP_HELLO
};

/* BSD NULL: address family 2 (AF_INET) in the writer's byte order */
static const uint8_t null_le_tcp[] = { 0x02, 0x00, 0x00, 0x00, IPV4_TCP_HELLO };
static const uint8_t null_be_tcp[] = { 0x00, 0x00, 0x00, 0x02, IPV4_TCP_HELLO };

/* raw IPv4, no link header */
static const uint8_t raw_tcp[] = { IPV4_TCP_HELLO };

/* PPPoE session (8864): ver/type 11, code 00, session 0001, length 47,
 * PPP protocol 0021 (IPv4) */
static const uint8_t pppoe_tcp[] = {
    ETH_ADDRS, 0x88, 0x64,
    0x11, 0x00, 0x00, 0x01, 0x00, 0x2f, 0x00, 0x21,
    IPV4_TCP_HELLO
};

/* MPLS unicast (8847): label 16 (no bottom-of-stack), label 32 (S=1),
 * TTL 64 each */
static const uint8_t mpls_tcp[] = {
    ETH_ADDRS, 0x88, 0x47,
    0x00, 0x01, 0x00, 0x40,
    0x00, 0x02, 0x01, 0x40,
    IPV4_TCP_HELLO
};

/* GRE: outer IPv4 192.168.0.1 -> 192.168.0.2, protocol 47, total 69;
 * GRE flags 0000, protocol 0800; inner IPv4/TCP */
static const uint8_t gre_tcp[] = {
    ETH_ADDRS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x45, 0x00, 0x01, 0x00, 0x00, 0x40, 0x2f, 0x00, 0x00,
    0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0x02,
    0x00, 0x00, 0x08, 0x00,
    IPV4_TCP_HELLO
};

/* GRE with key and sequence (K, S bits: 3000): 4 + 4 + 4 bytes */
static const uint8_t gre_ks_tcp[] = {
    ETH_ADDRS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x4d, 0x00, 0x01, 0x00, 0x00, 0x40, 0x2f, 0x00, 0x00,
    0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0x02,
    0x30, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x01,
    IPV4_TCP_HELLO
};

/* VXLAN: outer IPv4 192.168.0.1 -> 192.168.0.2 UDP, total 95;
 * UDP 49152 -> 4789, length 75; VXLAN flags 08 (I), VNI 42;
 * inner Ethernet + IPv4/TCP */
static const uint8_t vxlan_tcp[] = {
    ETH_ADDRS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x5f, 0x00, 0x02, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00,
    0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0x02,
    0xc0, 0x00, 0x12, 0xb5, 0x00, 0x4b, 0x00, 0x00,
    0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, 0x00,
    ETH_ADDRS, 0x08, 0x00,
    IPV4_TCP_HELLO
};

/* IPv6 2001:db8::1 -> 2001:db8::2, payload length 41, next header 0
 * (hop-by-hop); hop-by-hop: next 60, length 0, PadN(4); destination
 * options: next 6, length 0, PadN(4); TCP 50000 -> 3306 + "hello" */
static const uint8_t ipv6_ext_tcp[] = {
    ETH_ADDRS, 0x86, 0xdd,
    0x60, 0x00, 0x00, 0x00, 0x00, 0x29, 0x00, 0x40,
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
    0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
    0x06, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
    0xc3, 0x50, 0x0c, 0xea, 0x01, 0x02, 0x03, 0x04, 0x0a, 0x0b, 0x0c, 0x0d,
    0x50, 0x18, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
    'h', 'e', 'l', 'l', 'o'
};

/* IPv6 UDP: payload length 13, next 17; UDP 54321 -> 53, length 13 */
static const uint8_t ipv6_udp[] = {
    ETH_ADDRS, 0x86, 0xdd,
    0x60, 0x00, 0x00, 0x00, 0x00, 0x0d, 0x11, 0x40,
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
    0xd4, 0x31, 0x00, 0x35, 0x00, 0x0d, 0x00, 0x00,
    'h', 'e', 'l', 'l', 'o'
};

/* IPv4 UDP 40000 -> 514, total 33, UDP length 13, "hello" */
static const uint8_t eth_udp[] = {
    ETH_ADDRS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x21, 0x00, 0x03, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00,
    0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
    0x9c, 0x40, 0x02, 0x02, 0x00, 0x0d, 0x00, 0x00,
    'h', 'e', 'l', 'l', 'o'
};

/* ------------------------------------------------------------------ helpers */

static struct ipaddr ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    struct ipaddr x;
    memset(&x, 0, sizeof x);
    x.family = 4;
    x.b[0] = a, x.b[1] = b, x.b[2] = c, x.b[3] = d;
    return x;
}

static struct ipaddr ip6_db8(uint8_t last)
{
    struct ipaddr x;
    memset(&x, 0, sizeof x);
    x.family = 6;
    x.b[0] = 0x20, x.b[1] = 0x01, x.b[2] = 0x0d, x.b[3] = 0xb8;
    x.b[15] = last;
    return x;
}

static bool same_addr(const struct ipaddr *a, struct ipaddr b)
{
    return memcmp(a, &b, sizeof b) == 0;
}

static bool inside(const void *p, size_t n, const void *start, size_t len)
{
    uintptr_t x = (uintptr_t)p, s = (uintptr_t)start;
    return x >= s && x <= s + len && n <= s + len - x;
}

/* A decoded packet must point inside what was captured: the IP packet
 * inside the frame (unless it was rebuilt from fragments), the payload
 * inside the IP packet, the captured payload no longer than the wire
 * payload. */
static bool consistent(const struct packet *pkt, const uint8_t *frame, uint32_t caplen,
                       bool rebuilt)
{
    if (pkt->l3 == NULL)
        return false;
    if (!rebuilt && !inside(pkt->l3, pkt->l3_len, frame, caplen))
        return false;
    if (pkt->payload_len > pkt->payload_wire)
        return false;
    if (pkt->payload_len > 0 && !inside(pkt->payload, pkt->payload_len, pkt->l3, pkt->l3_len))
        return false;
    return true;
}

/* Reads every payload byte, so an out-of-bounds payload hits the guard. */
static unsigned touch(const struct packet *pkt)
{
    unsigned sum = 0;
    for (uint32_t i = 0; i < pkt->payload_len; i++)
        sum += pkt->payload[i];
    return sum;
}

static bool decode(int lt, const uint8_t *bytes, size_t n, struct packet *pkt)
{
    const uint8_t *f = guarded_copy(bytes, n);
    return decode_frame(lt, f, (uint32_t)n, (uint32_t)n, TS, pkt);
}

/* The inner packet every tunnel and link test carries. */
static void check_hello(const struct packet *pkt)
{
    CHECK_EQ(pkt->ipver, 4);
    CHECK(same_addr(&pkt->src, ip4(10, 0, 0, 1)));
    CHECK(same_addr(&pkt->dst, ip4(10, 0, 0, 2)));
    CHECK_EQ(pkt->l4proto, 6);
    CHECK_EQ(pkt->sport, 50000);
    CHECK_EQ(pkt->dport, 3306);
    CHECK_EQ(pkt->tcp_flags, TCP_PSH | TCP_ACK);
    CHECK_EQ(pkt->seq, 0x01020304);
    CHECK_EQ(pkt->ack, 0x0a0b0c0d);
    CHECK_EQ(pkt->l3_len, IPV4_TCP_HELLO_LEN);
    CHECK_EQ(pkt->payload_len, 5);
    CHECK_EQ(pkt->payload_wire, 5);
    CHECK(pkt->payload == pkt->l3 + 40);
    CHECK(pkt->payload_len == 5 && memcmp(pkt->payload, "hello", 5) == 0);
    CHECK_EQ(pkt->l3[0], 0x45);
}

/* Decodes a frame that carries IPV4_TCP_HELLO at offset l3_off. */
static void check_link(int lt, const uint8_t *bytes, size_t n, size_t l3_off)
{
    struct packet pkt;
    const uint8_t *f = guarded_copy(bytes, n);
    bool ok = decode_frame(lt, f, (uint32_t)n, (uint32_t)n + 4, TS + 7, &pkt);
    CHECK(ok);
    if (!ok)
        return;
    check_hello(&pkt);
    CHECK(pkt.l3 == f + l3_off);
    CHECK_EQ(pkt.wirelen, n + 4);
    CHECK(pkt.ts_ns == TS + 7);
}

/* ------------------------------------------------------------------ link layers */

static void test_ethernet_ipv4_tcp(void)
{
    memset(&g_stats, 0, sizeof g_stats);
    check_link(LT_EN10MB, eth_tcp, sizeof eth_tcp, 14);
    CHECK_EQ(g_stats.decode_truncated + g_stats.decode_bad_ip + g_stats.non_ip, 0);
}

static void test_vlan(void)
{
    check_link(LT_EN10MB, vlan_tcp, sizeof vlan_tcp, 18);
}

static void test_qinq(void)
{
    check_link(LT_EN10MB, qinq_tcp, sizeof qinq_tcp, 22);
}

static void test_sll(void)
{
    check_link(LT_SLL, sll_tcp, sizeof sll_tcp, 16);
}

static void test_sll2(void)
{
    check_link(LT_SLL2, sll2_tcp, sizeof sll2_tcp, 20);
}

static void test_null_loop(void)
{
    check_link(LT_NULL, null_le_tcp, sizeof null_le_tcp, 4);
    check_link(LT_NULL, null_be_tcp, sizeof null_be_tcp, 4);
    check_link(LT_LOOP, null_be_tcp, sizeof null_be_tcp, 4);
    check_link(LT_LOOP, null_le_tcp, sizeof null_le_tcp, 4);

    /* IPv6 families: 10 (Linux), 24 (NetBSD/OpenBSD), 28 (FreeBSD),
     * 30 (macOS); the IPv6 packet of ipv6_udp follows */
    static const uint8_t fams[] = { 10, 24, 28, 30 };
    for (size_t i = 0; i < sizeof fams; i++) {
        uint8_t f[4 + sizeof ipv6_udp - 14];
        memset(f, 0, 4);
        f[0] = fams[i];
        memcpy(f + 4, ipv6_udp + 14, sizeof ipv6_udp - 14);
        struct packet pkt;
        CHECK(decode(LT_NULL, f, sizeof f, &pkt));
        CHECK_EQ(pkt.ipver, 6);
        CHECK_EQ(pkt.dport, 53);
    }
    /* AF 7 (not IP) */
    uint8_t f[sizeof null_le_tcp];
    memcpy(f, null_le_tcp, sizeof f);
    f[0] = 7;
    struct packet pkt;
    memset(&g_stats, 0, sizeof g_stats);
    CHECK(!decode(LT_NULL, f, sizeof f, &pkt));
    CHECK_EQ(g_stats.non_ip, 1);
}

static void test_raw(void)
{
    check_link(LT_RAW, raw_tcp, sizeof raw_tcp, 0);
    check_link(LT_RAW101, raw_tcp, sizeof raw_tcp, 0);
    check_link(LT_IPV4, raw_tcp, sizeof raw_tcp, 0);
    CHECK(decode_linktype_supported(LT_RAW));
    CHECK(decode_linktype_supported(LT_SLL2));
    CHECK(!decode_linktype_supported(147));     /* USER0 */
    struct packet pkt;
    CHECK(!decode(147, raw_tcp, sizeof raw_tcp, &pkt));
}

static void test_pppoe(void)
{
    memset(&g_stats, 0, sizeof g_stats);
    check_link(LT_EN10MB, pppoe_tcp, sizeof pppoe_tcp, 22);
    CHECK_EQ(g_stats.tunnel_other, 1);
}

static void test_mpls(void)
{
    check_link(LT_EN10MB, mpls_tcp, sizeof mpls_tcp, 22);
}

static void test_gre(void)
{
    memset(&g_stats, 0, sizeof g_stats);
    check_link(LT_EN10MB, gre_tcp, sizeof gre_tcp, 38);
    check_link(LT_EN10MB, gre_ks_tcp, sizeof gre_ks_tcp, 46);
    CHECK_EQ(g_stats.tunnel_gre, 2);
}

static void test_vxlan(void)
{
    memset(&g_stats, 0, sizeof g_stats);
    check_link(LT_EN10MB, vxlan_tcp, sizeof vxlan_tcp, 64);
    CHECK_EQ(g_stats.tunnel_vxlan, 1);
}

/* VXLAN carrying ICMP (IPv4 protocol 1): the packet is the inner one, so
 * the ports and payload of the outer UDP must not be left in it. */
static void test_vxlan_inner_not_tcp(void)
{
    uint8_t f[sizeof vxlan_tcp];
    memcpy(f, vxlan_tcp, sizeof f);
    f[64 + 9] = 1;                  /* inner protocol: ICMP */
    struct packet pkt;
    const uint8_t *g = guarded_copy(f, sizeof f);
    bool ok = decode_frame(LT_EN10MB, g, sizeof f, sizeof f, TS, &pkt);
    CHECK(ok);
    CHECK_EQ(pkt.l4proto, 1);
    CHECK(pkt.l3 == g + 64);
    CHECK(consistent(&pkt, g, sizeof f, false));
    CHECK_EQ(pkt.payload_len, 0);
    CHECK_EQ(pkt.sport, 0);
    CHECK_EQ(pkt.dport, 0);
}

static void test_not_ip(void)
{
    /* ARP */
    static const uint8_t arp[] = {
        ETH_ADDRS, 0x08, 0x06,
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01
    };
    /* 802.3 length field (LLC) */
    static const uint8_t llc[] = { ETH_ADDRS, 0x00, 0x26, 0x42, 0x42, 0x03 };
    struct packet pkt;
    memset(&g_stats, 0, sizeof g_stats);
    CHECK(!decode(LT_EN10MB, arp, sizeof arp, &pkt));
    CHECK(!decode(LT_EN10MB, llc, sizeof llc, &pkt));
    CHECK_EQ(g_stats.non_ip, 2);
}

/* ------------------------------------------------------------------ IPv6 */

static void test_ipv6_ext_headers(void)
{
    struct packet pkt;
    const uint8_t *f = guarded_copy(ipv6_ext_tcp, sizeof ipv6_ext_tcp);
    CHECK(decode_frame(LT_EN10MB, f, sizeof ipv6_ext_tcp, sizeof ipv6_ext_tcp, TS, &pkt));
    CHECK_EQ(pkt.ipver, 6);
    CHECK(same_addr(&pkt.src, ip6_db8(1)));
    CHECK(same_addr(&pkt.dst, ip6_db8(2)));
    CHECK_EQ(pkt.l4proto, 6);
    CHECK_EQ(pkt.sport, 50000);
    CHECK_EQ(pkt.dport, 3306);
    CHECK_EQ(pkt.seq, 0x01020304);
    CHECK(pkt.l3 == f + 14);
    CHECK_EQ(pkt.l3_len, 40 + 41);
    CHECK(pkt.payload == f + sizeof ipv6_ext_tcp - 5);
    CHECK_EQ(pkt.payload_len, 5);
    CHECK_EQ(pkt.payload_wire, 5);
}

static void test_ipv6_udp(void)
{
    struct packet pkt;
    const uint8_t *f = guarded_copy(ipv6_udp, sizeof ipv6_udp);
    CHECK(decode_frame(LT_EN10MB, f, sizeof ipv6_udp, sizeof ipv6_udp, TS, &pkt));
    CHECK_EQ(pkt.ipver, 6);
    CHECK_EQ(pkt.l4proto, 17);
    CHECK_EQ(pkt.sport, 54321);
    CHECK_EQ(pkt.dport, 53);
    CHECK(pkt.payload == f + sizeof ipv6_udp - 5);
    CHECK_EQ(pkt.payload_len, 5);
    CHECK_EQ(pkt.payload_wire, 5);
}

/* Payload length 0 is a jumbogram (hop-by-hop option) unless there is no
 * next header at all (59). */
static void test_ipv6_zero_length(void)
{
    uint8_t f[14 + 40 + 8];
    memcpy(f, ipv6_udp, 14 + 40);
    memcpy(f + 54, ipv6_udp + 54, 8);
    f[14 + 4] = 0;
    f[14 + 5] = 0;
    struct packet pkt;
    memset(&g_stats, 0, sizeof g_stats);
    CHECK(!decode(LT_EN10MB, f, sizeof f, &pkt));
    CHECK_EQ(g_stats.decode_bad_ip, 1);

    f[14 + 6] = 59;                 /* no next header */
    CHECK(decode(LT_EN10MB, f, 54, &pkt));
    CHECK_EQ(pkt.l4proto, 59);
    CHECK_EQ(pkt.payload_len, 0);
    CHECK_EQ(g_stats.other_ip_proto, 1);

    /* jumbo: next header hop-by-hop with a Jumbo Payload option (c2) */
    static const uint8_t jumbo[] = {
        0x60, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40,
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
        0x11, 0x00, 0xc2, 0x04, 0x00, 0x01, 0x00, 0x10,
        0xd4, 0x31, 0x00, 0x35, 0x00, 0x00, 0x00, 0x00,
    };
    CHECK(!decode(LT_RAW, jumbo, sizeof jumbo, &pkt));
}

/* An IPv6 fragment header: counted, not rebuilt. */
static void test_ipv6_fragment(void)
{
    uint8_t f[14 + 40 + 8 + 13];
    memcpy(f, ipv6_udp, 14 + 40);
    f[14 + 5] = 8 + 13;
    f[14 + 6] = 44;
    static const uint8_t fh[] = { 0x11, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x99 };
    memcpy(f + 54, fh, 8);
    memcpy(f + 62, ipv6_udp + 54, 13);
    struct packet pkt;
    memset(&g_stats, 0, sizeof g_stats);
    CHECK(!decode(LT_EN10MB, f, sizeof f, &pkt));
    CHECK_EQ(g_stats.ipv6_fragments, 1);
}

/* ------------------------------------------------------------------ IPv4 details */

/* A 60-byte minimum Ethernet frame: the IPv4 total length (45) says where
 * the packet ends, not the frame. */
static void test_ethernet_padding(void)
{
    uint8_t f[64];
    memset(f, 0, sizeof f);
    memcpy(f, eth_tcp, sizeof eth_tcp);
    struct packet pkt;
    CHECK(decode(LT_EN10MB, f, sizeof f, &pkt));
    check_hello(&pkt);

    /* UDP: the smaller of IP and UDP lengths */
    uint8_t u[64];
    memset(u, 0xee, sizeof u);
    memcpy(u, eth_udp, sizeof eth_udp);
    CHECK(decode(LT_EN10MB, u, sizeof u, &pkt));
    CHECK_EQ(pkt.payload_len, 5);
    CHECK_EQ(pkt.payload_wire, 5);
    CHECK_EQ(pkt.l3_len, 33);
}

/* Cut by the snaplen: 2 of the 5 payload bytes captured. */
static void test_snaplen_cut(void)
{
    struct packet pkt;
    const uint8_t *f = guarded_copy(eth_tcp, sizeof eth_tcp - 3);
    CHECK(decode_frame(LT_EN10MB, f, sizeof eth_tcp - 3, sizeof eth_tcp, TS, &pkt));
    CHECK_EQ(pkt.payload_len, 2);
    CHECK_EQ(pkt.payload_wire, 5);
    CHECK_EQ(pkt.l3_len, IPV4_TCP_HELLO_LEN - 3);
    CHECK(pkt.payload == f + 54);

    /* cut inside the TCP header (past the flags): no payload, but the
     * payload length is still known */
    f = guarded_copy(eth_tcp, 14 + 20 + 16);
    CHECK(decode_frame(LT_EN10MB, f, 14 + 20 + 16, sizeof eth_tcp, TS, &pkt));
    CHECK_EQ(pkt.payload_len, 0);
    CHECK_EQ(pkt.payload_wire, 5);
    CHECK_EQ(pkt.seq, 0x01020304);
}

static void test_bad_ihl(void)
{
    uint8_t f[sizeof eth_tcp];
    struct packet pkt;

    memcpy(f, eth_tcp, sizeof f);
    f[14] = 0x44;                   /* IHL 4: 16 bytes, impossible */
    memset(&g_stats, 0, sizeof g_stats);
    CHECK(!decode(LT_EN10MB, f, sizeof f, &pkt));
    CHECK_EQ(g_stats.decode_bad_ip, 1);

    memcpy(f, eth_tcp, sizeof f);
    f[14] = 0x4f;                   /* IHL 15: 60 bytes, past the frame */
    CHECK(!decode(LT_EN10MB, f, sizeof f, &pkt));

    memcpy(f, eth_tcp, sizeof f);
    f[14 + 3] = 19;                 /* total length shorter than the header */
    CHECK(!decode(LT_EN10MB, f, sizeof f, &pkt));

    memcpy(f, eth_tcp, sizeof f);
    f[14] = 0x55;                   /* version 5 */
    CHECK(!decode(LT_EN10MB, f, sizeof f, &pkt));
}

/* IHL 6 with 4 option bytes (NOP NOP NOP EOL): TCP starts after them. */
static void test_ipv4_options(void)
{
    static const uint8_t f[] = {
        ETH_ADDRS, 0x08, 0x00,
        0x46, 0x00, 0x00, 0x31, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00,
        0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
        0x01, 0x01, 0x01, 0x00,
        0xc3, 0x50, 0x0c, 0xea, 0x01, 0x02, 0x03, 0x04, 0x0a, 0x0b, 0x0c, 0x0d,
        0x50, 0x18, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
        'h', 'e', 'l', 'l', 'o'
    };
    struct packet pkt;
    CHECK(decode(LT_EN10MB, f, sizeof f, &pkt));
    CHECK_EQ(pkt.sport, 50000);
    CHECK_EQ(pkt.payload_len, 5);
    CHECK(pkt.payload_len == 5 && memcmp(pkt.payload, "hello", 5) == 0);
}

static void test_bad_tcp_offset(void)
{
    uint8_t f[sizeof eth_tcp];
    memcpy(f, eth_tcp, sizeof f);
    f[14 + 20 + 12] = 0x40;         /* data offset 4: shorter than the header */
    struct packet pkt;
    memset(&g_stats, 0, sizeof g_stats);
    CHECK(!decode(LT_EN10MB, f, sizeof f, &pkt));
    CHECK_EQ(g_stats.decode_bad_l4, 1);
    f[14 + 20 + 12] = 0x70;         /* 28 bytes: more than the 25 on the wire */
    CHECK(!decode(LT_EN10MB, f, sizeof f, &pkt));
    CHECK_EQ(g_stats.decode_bad_l4, 2);
}

/* UDP length 4 (< 8) falls back to the IP length; larger than the IP
 * length, the IP length wins. */
static void test_udp_lengths(void)
{
    uint8_t f[sizeof eth_udp];
    struct packet pkt;
    memcpy(f, eth_udp, sizeof f);
    f[14 + 20 + 5] = 4;
    CHECK(decode(LT_EN10MB, f, sizeof f, &pkt));
    CHECK_EQ(pkt.payload_len, 5);
    f[14 + 20 + 5] = 200;
    CHECK(decode(LT_EN10MB, f, sizeof f, &pkt));
    CHECK_EQ(pkt.payload_len, 5);
    f[14 + 20 + 5] = 10;            /* 2 bytes of payload by UDP's count */
    CHECK(decode(LT_EN10MB, f, sizeof f, &pkt));
    CHECK_EQ(pkt.payload_len, 2);
    CHECK_EQ(pkt.payload_wire, 2);
}

/* The UDP header cut after the length field (6 or 7 of its 8 bytes): no
 * payload was captured, whatever the lengths say. */
static void test_udp_header_cut(void)
{
    for (uint32_t keep = 6; keep < 8; keep++) {
        uint32_t n = 14 + 20 + keep;
        const uint8_t *f = guarded_copy(eth_udp, n);
        struct packet pkt;
        bool ok = decode_frame(LT_EN10MB, f, n, sizeof eth_udp, TS, &pkt);
        if (ok) {
            CHECK(consistent(&pkt, f, n, false));
            CHECK_EQ(pkt.payload_len, 0);
            if (pkt.payload_len != 0)
                fprintf(stderr, "  UDP header cut at %u bytes: payload_len %u past the end\n",
                        keep, pkt.payload_len);
        }
    }
}

/* The same cut on the way to VXLAN (port 4789): the decoder must not look
 * at the VXLAN header past the captured bytes.  The whole frame sits in
 * memory here and only caplen says where the capture ends, so an
 * over-read shows as a result rather than a crash (test_every_prefix
 * shows the crash with a guard page). */
static void test_vxlan_header_cut(void)
{
    for (uint32_t keep = 6; keep < 8; keep++) {
        static uint8_t buf[sizeof vxlan_tcp];
        uint32_t n = 14 + 20 + keep;
        memcpy(buf, vxlan_tcp, sizeof vxlan_tcp);
        struct packet pkt;
        memset(&g_stats, 0, sizeof g_stats);
        bool ok = decode_frame(LT_EN10MB, buf, n, sizeof vxlan_tcp, TS, &pkt);
        CHECK_EQ(g_stats.tunnel_vxlan, 0);
        if (ok)
            CHECK(consistent(&pkt, buf, n, false));
    }
}

/* Tunnels within tunnels: IPv4-in-IPv4 three deep decodes, nine deep is
 * refused. */
static void test_nesting(void)
{
    for (unsigned depth = 1; depth <= 9; depth += 2) {
        uint8_t f[14 + 9 * 20 + IPV4_TCP_HELLO_LEN];
        static const uint8_t inner[] = { IPV4_TCP_HELLO };
        size_t o = 14;
        memcpy(f, eth_tcp, 14);
        for (unsigned i = 0; i < depth; i++) {
            /* IPv4 172.16.0.1 -> 172.16.0.2, protocol 4 (IP in IP) */
            uint16_t tot = (uint16_t)(20 * (depth - i) + IPV4_TCP_HELLO_LEN);
            const uint8_t h[20] = {
                0x45, 0x00, (uint8_t)(tot >> 8), (uint8_t)tot, 0x00, 0x00, 0x00, 0x00,
                0x40, 0x04, 0x00, 0x00, 172, 16, 0, 1, 172, 16, 0, 2
            };
            memcpy(f + o, h, 20);
            o += 20;
        }
        memcpy(f + o, inner, sizeof inner);
        o += sizeof inner;
        struct packet pkt;
        memset(&g_stats, 0, sizeof g_stats);
        bool ok = decode(LT_EN10MB, f, o, &pkt);
        if (depth <= 3) {
            CHECK(ok);
            if (ok)
                check_hello(&pkt);
        } else {
            CHECK(!ok);
            CHECK(g_stats.decode_too_deep > 0);
        }
    }
}

/* ------------------------------------------------------------------ fragments */

/* A UDP datagram 10.0.0.1:40000 -> 10.0.0.2:514 with 16 payload bytes
 * "0123456789abcdef", sent as two fragments (id 0xbeef):
 *   first:  offset 0, MF, 16 bytes = UDP header (length 24) + "01234567"
 *   second: offset 2 (16 bytes), last, "89abcdef" */
static const uint8_t frag_first[] = {
    ETH_ADDRS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x24, 0xbe, 0xef, 0x20, 0x00, 0x40, 0x11, 0x00, 0x00,
    0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
    0x9c, 0x40, 0x02, 0x02, 0x00, 0x18, 0x00, 0x00,
    '0', '1', '2', '3', '4', '5', '6', '7'
};
static const uint8_t frag_second[] = {
    ETH_ADDRS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x1c, 0xbe, 0xef, 0x00, 0x02, 0x40, 0x11, 0x00, 0x00,
    0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
    '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'
};
/* overlaps the first: offset 1 (8 bytes), last, 16 bytes */
static const uint8_t frag_overlap[] = {
    ETH_ADDRS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x24, 0xbe, 0xef, 0x00, 0x01, 0x40, 0x11, 0x00, 0x00,
    0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
    'X', 'X', 'X', 'X', 'X', 'X', 'X', 'X', '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'
};

static void check_whole_datagram(const struct packet *pkt)
{
    CHECK_EQ(pkt->ipver, 4);
    CHECK_EQ(pkt->l4proto, 17);
    CHECK(same_addr(&pkt->src, ip4(10, 0, 0, 1)));
    CHECK(same_addr(&pkt->dst, ip4(10, 0, 0, 2)));
    CHECK_EQ(pkt->sport, 40000);
    CHECK_EQ(pkt->dport, 514);
    CHECK_EQ(pkt->l3_len, 44);
    CHECK_EQ(pkt->payload_len, 16);
    CHECK_EQ(pkt->payload_wire, 16);
    CHECK(consistent(pkt, NULL, 0, true));
    CHECK(pkt->payload_len == 16 && memcmp(pkt->payload, "0123456789abcdef", 16) == 0);
}

static void test_fragments_in_order(void)
{
    struct packet pkt;
    decode_free();
    memset(&g_stats, 0, sizeof g_stats);
    CHECK(!decode(LT_EN10MB, frag_first, sizeof frag_first, &pkt));
    CHECK(decode(LT_EN10MB, frag_second, sizeof frag_second, &pkt));
    check_whole_datagram(&pkt);
    CHECK_EQ(g_stats.ipv4_fragments, 2);
    CHECK_EQ(g_stats.ipv4_reassembled, 1);
    CHECK_EQ(g_stats.frag_dropped, 0);
    decode_free();
}

static void test_fragments_reversed(void)
{
    struct packet pkt;
    decode_free();
    memset(&g_stats, 0, sizeof g_stats);
    CHECK(!decode(LT_EN10MB, frag_second, sizeof frag_second, &pkt));
    CHECK(decode(LT_EN10MB, frag_first, sizeof frag_first, &pkt));
    check_whole_datagram(&pkt);
    CHECK_EQ(g_stats.ipv4_reassembled, 1);
    /* the datagram is done: the same fragment again starts afresh */
    CHECK(!decode(LT_EN10MB, frag_second, sizeof frag_second, &pkt));
    decode_free();
}

static void test_fragments_overlap(void)
{
    struct packet pkt;
    decode_free();
    memset(&g_stats, 0, sizeof g_stats);
    CHECK(!decode(LT_EN10MB, frag_first, sizeof frag_first, &pkt));
    CHECK(!decode(LT_EN10MB, frag_overlap, sizeof frag_overlap, &pkt));
    CHECK_EQ(g_stats.frag_dropped, 1);
    /* the datagram was dropped: its other half alone completes nothing */
    CHECK(!decode(LT_EN10MB, frag_second, sizeof frag_second, &pkt));
    CHECK_EQ(g_stats.ipv4_reassembled, 0);
    decode_free();
}

static void test_fragments_duplicate(void)
{
    struct packet pkt;
    decode_free();
    memset(&g_stats, 0, sizeof g_stats);
    CHECK(!decode(LT_EN10MB, frag_first, sizeof frag_first, &pkt));
    CHECK(!decode(LT_EN10MB, frag_first, sizeof frag_first, &pkt));
    CHECK(decode(LT_EN10MB, frag_second, sizeof frag_second, &pkt));
    check_whole_datagram(&pkt);
    CHECK_EQ(g_stats.frag_dropped, 0);
    decode_free();
}

/* Fragments of two datagrams (ids beef and beee) interleaved. */
static void test_fragments_interleaved(void)
{
    uint8_t first2[sizeof frag_first], second2[sizeof frag_second];
    memcpy(first2, frag_first, sizeof first2);
    memcpy(second2, frag_second, sizeof second2);
    first2[14 + 5] = 0xee;
    second2[14 + 5] = 0xee;
    struct packet pkt;
    decode_free();
    CHECK(!decode(LT_EN10MB, frag_first, sizeof frag_first, &pkt));
    CHECK(!decode(LT_EN10MB, second2, sizeof second2, &pkt));
    CHECK(decode(LT_EN10MB, frag_second, sizeof frag_second, &pkt));
    check_whole_datagram(&pkt);
    CHECK(decode(LT_EN10MB, first2, sizeof first2, &pkt));
    check_whole_datagram(&pkt);
    decode_free();
}

/* A fragment cut by the snaplen cannot be rebuilt. */
static void test_fragment_snaplen(void)
{
    struct packet pkt;
    decode_free();
    memset(&g_stats, 0, sizeof g_stats);
    const uint8_t *f = guarded_copy(frag_first, sizeof frag_first - 2);
    CHECK(!decode_frame(LT_EN10MB, f, sizeof frag_first - 2, sizeof frag_first, TS, &pkt));
    CHECK(!decode(LT_EN10MB, frag_second, sizeof frag_second, &pkt));
    CHECK_EQ(g_stats.ipv4_reassembled, 0);
    decode_free();
}

/* A last fragment that arrives after data beyond its end:
 *   offset 4 (32..40), MF, "XXXXXXXX"
 *   offset 2 (16..24), last: the datagram is 24 bytes long
 *   offset 0 (0..8), MF, the UDP header
 * Bytes 8..16 never came, yet 8 + 8 + 8 == 24.  The datagram must not be
 * declared complete (its middle would be whatever the heap held). */
static void test_fragments_hole_not_complete(void)
{
    static const uint8_t beyond[] = {
        ETH_ADDRS, 0x08, 0x00,
        0x45, 0x00, 0x00, 0x1c, 0xbe, 0xef, 0x20, 0x04, 0x40, 0x11, 0x00, 0x00,
        0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
        'X', 'X', 'X', 'X', 'X', 'X', 'X', 'X'
    };
    static const uint8_t head[] = {
        ETH_ADDRS, 0x08, 0x00,
        0x45, 0x00, 0x00, 0x1c, 0xbe, 0xef, 0x20, 0x00, 0x40, 0x11, 0x00, 0x00,
        0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
        0x9c, 0x40, 0x02, 0x02, 0x00, 0x18, 0x00, 0x00,
    };
    struct packet pkt;
    decode_free();
    CHECK(!decode(LT_EN10MB, beyond, sizeof beyond, &pkt));
    CHECK(!decode(LT_EN10MB, frag_second, sizeof frag_second, &pkt));
    bool ok = decode(LT_EN10MB, head, sizeof head, &pkt);
    CHECK(!ok);
    if (ok)
        fprintf(stderr, "  rebuilt a 24-byte datagram with bytes 8..16 never received\n");
    decode_free();
}

/* The first fragment has IP options (IHL 6), the second has none (RFC 791
 * copies only some options).  The rebuilt datagram has the first
 * fragment's 24-byte header, whichever fragment completes it. */
static const uint8_t frag_first_opts[] = {
    ETH_ADDRS, 0x08, 0x00,
    0x46, 0x00, 0x00, 0x28, 0xbe, 0xef, 0x20, 0x00, 0x40, 0x11, 0x00, 0x00,
    0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02,
    0x01, 0x01, 0x01, 0x00,
    0x9c, 0x40, 0x02, 0x02, 0x00, 0x18, 0x00, 0x00,
    '0', '1', '2', '3', '4', '5', '6', '7'
};

static void test_fragments_header_lengths(void)
{
    struct packet pkt;
    decode_free();
    CHECK(!decode(LT_EN10MB, frag_second, sizeof frag_second, &pkt));
    CHECK(decode(LT_EN10MB, frag_first_opts, sizeof frag_first_opts, &pkt));
    CHECK_EQ(pkt.sport, 40000);
    CHECK_EQ(pkt.payload_len, 16);
    CHECK(consistent(&pkt, NULL, 0, true));

    decode_free();
    CHECK(!decode(LT_EN10MB, frag_first_opts, sizeof frag_first_opts, &pkt));
    bool ok = decode(LT_EN10MB, frag_second, sizeof frag_second, &pkt);
    CHECK(ok);
    CHECK_EQ(pkt.sport, 40000);
    CHECK_EQ(pkt.dport, 514);
    CHECK_EQ(pkt.payload_len, 16);
    CHECK(consistent(&pkt, NULL, 0, true));
    if (ok && consistent(&pkt, NULL, 0, true))
        CHECK(pkt.payload_len == 16 && memcmp(pkt.payload, "0123456789abcdef", 16) == 0);
    decode_free();
}

/* Worse: the completing fragment has a longer header (IHL 15, 40 option
 * bytes) than the rebuilt datagram's 20 bytes + 24 of data.  Using its
 * IHL on the rebuilt datagram runs past its end. */
static void test_fragments_long_header_last(void)
{
    uint8_t second[14 + 60 + 8];
    memcpy(second, frag_second, 14 + 20);
    second[14] = 0x4f;
    second[14 + 3] = 60 + 8;
    memset(second + 14 + 20, 0x01, 40);             /* NOP options */
    memcpy(second + 14 + 60, "89abcdef", 8);
    struct packet pkt;
    decode_free();
    CHECK(!decode(LT_EN10MB, frag_first, sizeof frag_first, &pkt));
    bool ok = decode(LT_EN10MB, second, sizeof second, &pkt);
    if (ok) {
        bool c = consistent(&pkt, NULL, 0, true);
        CHECK(c);
        if (!c)
            fprintf(stderr, "  rebuilt datagram of %u bytes, payload_len %u wire %u\n",
                    pkt.l3_len, pkt.payload_len, pkt.payload_wire);
        else
            check_whole_datagram(&pkt);
    }
    decode_free();
}

/* ------------------------------------------------------------------ prefixes */

struct frame_case {
    const char *name;
    int lt;
    const uint8_t *bytes;
    size_t len;
};

static const struct frame_case all_frames[] = {
    { "eth_tcp", LT_EN10MB, eth_tcp, sizeof eth_tcp },
    { "vlan_tcp", LT_EN10MB, vlan_tcp, sizeof vlan_tcp },
    { "qinq_tcp", LT_EN10MB, qinq_tcp, sizeof qinq_tcp },
    { "sll_tcp", LT_SLL, sll_tcp, sizeof sll_tcp },
    { "sll2_tcp", LT_SLL2, sll2_tcp, sizeof sll2_tcp },
    { "null_le_tcp", LT_NULL, null_le_tcp, sizeof null_le_tcp },
    { "loop_tcp", LT_LOOP, null_be_tcp, sizeof null_be_tcp },
    { "raw_tcp", LT_RAW, raw_tcp, sizeof raw_tcp },
    { "pppoe_tcp", LT_EN10MB, pppoe_tcp, sizeof pppoe_tcp },
    { "mpls_tcp", LT_EN10MB, mpls_tcp, sizeof mpls_tcp },
    { "gre_tcp", LT_EN10MB, gre_tcp, sizeof gre_tcp },
    { "gre_ks_tcp", LT_EN10MB, gre_ks_tcp, sizeof gre_ks_tcp },
    { "vxlan_tcp", LT_EN10MB, vxlan_tcp, sizeof vxlan_tcp },
    { "ipv6_ext_tcp", LT_EN10MB, ipv6_ext_tcp, sizeof ipv6_ext_tcp },
    { "ipv6_udp", LT_EN10MB, ipv6_udp, sizeof ipv6_udp },
    { "eth_udp", LT_EN10MB, eth_udp, sizeof eth_udp },
};

/* Every prefix of every frame, as a snaplen would cut it: never a crash,
 * and either false or a packet that stays inside the captured bytes.  The
 * whole frame must decode. */
static void test_every_prefix(void)
{
    for (size_t i = 0; i < sizeof all_frames / sizeof all_frames[0]; i++) {
        const struct frame_case *fc = &all_frames[i];
        for (size_t k = 0; k <= fc->len; k++) {
            const uint8_t *f = guarded_copy(fc->bytes, k);
            struct packet pkt;
            bool ok = decode_frame(fc->lt, f, (uint32_t)k, (uint32_t)fc->len, TS, &pkt);
            if (k == fc->len)
                CHECK(ok);
            if (!ok)
                continue;
            bool c = consistent(&pkt, f, (uint32_t)k, false);
            CHECK(c);
            if (!c) {
                fprintf(stderr, "  %s cut at %zu: payload_len %u wire %u l3_len %u\n",
                        fc->name, k, pkt.payload_len, pkt.payload_wire, pkt.l3_len);
                continue;
            }
            (void)touch(&pkt);
        }
    }
}

/* Every prefix with the IP lengths left as they are but the capture
 * shorter, for the fragment frames too (a cut fragment is dropped). */
static void test_every_prefix_fragments(void)
{
    const uint8_t *frames[] = { frag_first, frag_second, frag_first_opts };
    size_t lens[] = { sizeof frag_first, sizeof frag_second, sizeof frag_first_opts };
    for (size_t i = 0; i < 3; i++) {
        for (size_t k = 0; k < lens[i]; k++) {
            decode_free();
            const uint8_t *f = guarded_copy(frames[i], k);
            struct packet pkt;
            CHECK(!decode_frame(LT_EN10MB, f, (uint32_t)k, (uint32_t)lens[i], TS, &pkt));
        }
    }
    decode_free();
}

int main(void)
{
    RUN(test_ethernet_ipv4_tcp);
    RUN(test_vlan);
    RUN(test_qinq);
    RUN(test_sll);
    RUN(test_sll2);
    RUN(test_null_loop);
    RUN(test_raw);
    RUN(test_pppoe);
    RUN(test_mpls);
    RUN(test_gre);
    RUN(test_vxlan);
    RUN(test_vxlan_inner_not_tcp);
    RUN(test_not_ip);
    RUN(test_ipv6_ext_headers);
    RUN(test_ipv6_udp);
    RUN(test_ipv6_zero_length);
    RUN(test_ipv6_fragment);
    RUN(test_ethernet_padding);
    RUN(test_snaplen_cut);
    RUN(test_bad_ihl);
    RUN(test_ipv4_options);
    RUN(test_bad_tcp_offset);
    RUN(test_udp_lengths);
    RUN(test_udp_header_cut);
    RUN(test_vxlan_header_cut);
    RUN(test_nesting);
    RUN(test_fragments_in_order);
    RUN(test_fragments_reversed);
    RUN(test_fragments_overlap);
    RUN(test_fragments_duplicate);
    RUN(test_fragments_interleaved);
    RUN(test_fragment_snaplen);
    RUN(test_fragments_hole_not_complete);
    RUN(test_fragments_header_lengths);
    RUN(test_fragments_long_header_last);
    RUN(test_every_prefix_fragments);
    /* last: until the UDP header cut is fixed, this one crashes on the
     * guard page (VXLAN frame cut inside its UDP header) */
    RUN(test_every_prefix);
    decode_free();
    return unit_done("test_decode");
}

/*
 * gen_flows.c - a capture of many concurrent TCP flows, to drive the flow
 * cap (FLOW_MAX in scanner/limits.h) without a network.
 *
 *   build/rel/tools/gen_flows N OUT.pcap
 *
 * Writes a classic pcap (Ethernet, microsecond times) with N TCP SYNs from
 * distinct clients 10.x.y.z:40000+ to 192.0.2.1:80 (TEST-NET-1), one per
 * microsecond, so all N flows are open at once: none ends and none times
 * out before the capture does.  Checksums are left zero (leakscan does not
 * verify them).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: gen_flows N OUT.pcap\n");
        return 2;
    }
    long n = strtol(argv[1], NULL, 10);
    if (n <= 0 || n > 16L * 1000 * 1000) {
        fprintf(stderr, "gen_flows: N must be 1 to 16000000\n");
        return 2;
    }
    FILE *fp = fopen(argv[2], "wb");
    if (fp == NULL) {
        perror(argv[2]);
        return 2;
    }
    uint8_t gh[24] = { 0 };
    le32(gh, 0xa1b2c3d4);           /* magic: microseconds */
    gh[4] = 2;                      /* version 2.4 */
    gh[6] = 4;
    le32(gh + 16, 65535);           /* snaplen */
    le32(gh + 20, 1);               /* LINKTYPE_ETHERNET */
    fwrite(gh, 1, sizeof gh, fp);

    enum { FRAME = 14 + 20 + 20 };
    uint8_t rec[16 + FRAME];
    for (long i = 0; i < n; i++) {
        memset(rec, 0, sizeof rec);
        le32(rec, 1700000000u + (uint32_t)(i / 1000000));
        le32(rec + 4, (uint32_t)(i % 1000000));
        le32(rec + 8, FRAME);
        le32(rec + 12, FRAME);
        uint8_t *e = rec + 16;
        memcpy(e, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
        be16(e + 12, 0x0800);
        uint8_t *ip = e + 14;
        ip[0] = 0x45;
        be16(ip + 2, 40);
        ip[8] = 64;
        ip[9] = 6;
        uint32_t src = (10u << 24) | (uint32_t)(i / 16 + 1);
        ip[12] = (uint8_t)(src >> 24);
        ip[13] = (uint8_t)(src >> 16);
        ip[14] = (uint8_t)(src >> 8);
        ip[15] = (uint8_t)src;
        memcpy(ip + 16, "\xc0\x00\x02\x01", 4);     /* 192.0.2.1 */
        uint8_t *tcp = ip + 20;
        be16(tcp, (uint16_t)(40000 + i % 16));
        be16(tcp + 2, 80);
        le32(tcp + 4, (uint32_t)i * 7919u);
        tcp[12] = 0x50;
        tcp[13] = 0x02;                             /* SYN */
        be16(tcp + 14, 65535);
        if (fwrite(rec, 1, sizeof rec, fp) != sizeof rec) {
            perror(argv[2]);
            return 2;
        }
    }
    if (fclose(fp) != 0) {
        perror(argv[2]);
        return 2;
    }
    return 0;
}

/*
 * test_tls.c - the TLS detector on crafted handshakes.
 *
 * Records are built here from their fields (the helpers below write the
 * RFC 5246/8446 layouts), so each test reads as the handshake it plays:
 * ClientHello, ServerHello, Certificate ...  Handshake messages are split
 * over several records where the test says so, and every conversation is
 * replayed whole and cut at every segment size (detect_conv.h), so a hello
 * split anywhere must give the same verdict.  Truncated handshakes and
 * garbage on port 443 must neither crash nor report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../detectors/detector.h"
#include "../../detectors/tls.h"
#include "../../reports/finding.h"
#include "../../reports/service.h"
#include "../../scanner/engine.h"
#include "unit.h"
#include "detect_conv.h"

extern const struct detector detector_tls;

/* ------------------------------------------------------------------ builders */

struct msg {
    uint8_t b[16384];
    size_t n;
};

static void put8(struct msg *m, unsigned v)
{
    m->b[m->n++] = (uint8_t)v;
}

static void put16(struct msg *m, unsigned v)
{
    put8(m, v >> 8);
    put8(m, v & 0xff);
}

static void put24(struct msg *m, unsigned v)
{
    put8(m, v >> 16);
    put16(m, v & 0xffff);
}

static void putb(struct msg *m, const void *p, size_t n)
{
    memcpy(m->b + m->n, p, n);
    m->n += n;
}

/* Patches a length written as a placeholder at off (width 1, 2 or 3). */
static void patch_len(struct msg *m, size_t off, int width)
{
    size_t v = m->n - off - (size_t)width;
    for (int i = width - 1; i >= 0; i--) {
        m->b[off + (size_t)i] = (uint8_t)(v & 0xff);
        v >>= 8;
    }
}

/* Starts a handshake message of the given type; end it with hs_end(). */
static size_t hs_begin(struct msg *m, unsigned type)
{
    put8(m, type);
    size_t off = m->n;
    put24(m, 0);
    return off;
}

static void hs_end(struct msg *m, size_t off)
{
    patch_len(m, off, 3);
}

/* Appends handshake bytes to a step as records of at most frag bytes. */
static void records(struct conv *c, enum dir d, unsigned type, unsigned version,
                    const uint8_t *p, size_t n, size_t frag, bool glue)
{
    size_t off = 0;
    do {
        size_t k = n - off < frag ? n - off : frag;
        uint8_t h[5] = { (uint8_t)type, (uint8_t)(version >> 8), (uint8_t)version,
                         (uint8_t)(k >> 8), (uint8_t)k };
        conv_add(c, d, h, 5, glue);
        conv_add(c, d, p + off, k, true);
        glue = true;
        off += k;
    } while (off < n);
}

/* The ClientHello of a current browser, the JA4 specification's example
 * (FoxIO, "JA4: TLS Client Fingerprint"): 15 suites and 16 extensions
 * besides GREASE, SNI www.example.test, ALPN h2 then http/1.1,
 * supported_versions 1.3 and 1.2.  Its JA4 is t13d1516h2_8daaf6152771_
 * e5627efa2ab1 and its JA3 the well-known Chrome cd08e31494f9531f560d64c695473da9. */
static void client_hello_modern(struct msg *m, unsigned legacy_version, const uint8_t sid[32])
{
    static const unsigned suites[] = {
        0x0a0a,     /* GREASE */
        0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
        0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
    };
    static const unsigned sigalgs[] = {
        0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
    };
    size_t h = hs_begin(m, 1);
    put16(m, legacy_version);
    for (int i = 0; i < 32; i++)
        put8(m, 0x11);                          /* random */
    put8(m, 32);
    putb(m, sid, 32);                           /* session id */
    put16(m, sizeof suites / sizeof suites[0] * 2);
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
        put16(m, suites[i]);
    put8(m, 1);
    put8(m, 0);                                 /* compression: null */
    size_t exts = m->n;
    put16(m, 0);
    put16(m, 0x1a1a); put16(m, 0);              /* GREASE, empty */
    put16(m, 0x0000);                           /* server_name */
    put16(m, 21); put16(m, 19); put8(m, 0); put16(m, 16);
    putb(m, "www.example.test", 16);
    put16(m, 0x0017); put16(m, 0);              /* extended_master_secret */
    put16(m, 0xff01); put16(m, 1); put8(m, 0);  /* renegotiation_info */
    put16(m, 0x000a); put16(m, 10); put16(m, 8);    /* supported_groups */
    put16(m, 0x2a2a); put16(m, 0x001d); put16(m, 0x0017); put16(m, 0x0018);
    put16(m, 0x000b); put16(m, 2); put8(m, 1); put8(m, 0);  /* ec_point_formats */
    put16(m, 0x0023); put16(m, 0);              /* session_ticket */
    put16(m, 0x0010); put16(m, 14); put16(m, 12);   /* ALPN: h2, http/1.1 */
    put8(m, 2); putb(m, "h2", 2); put8(m, 8); putb(m, "http/1.1", 8);
    put16(m, 0x0005); put16(m, 5); put8(m, 1); put16(m, 0); put16(m, 0);
    put16(m, 0x000d); put16(m, 18); put16(m, 16);   /* signature_algorithms */
    for (size_t i = 0; i < sizeof sigalgs / sizeof sigalgs[0]; i++)
        put16(m, sigalgs[i]);
    put16(m, 0x0012); put16(m, 0);              /* signed_certificate_timestamp */
    put16(m, 0x0033); put16(m, 2); put16(m, 0); /* key_share: no share */
    put16(m, 0x002d); put16(m, 2); put8(m, 1); put8(m, 1);  /* psk_key_exchange_modes */
    put16(m, 0x002b); put16(m, 7); put8(m, 6);  /* supported_versions */
    put16(m, 0x3a3a); put16(m, 0x0304); put16(m, 0x0303);
    put16(m, 0x001b); put16(m, 3); put8(m, 2); put16(m, 2); /* compress_certificate */
    put16(m, 0x4469); put16(m, 5); put16(m, 3); put8(m, 2); putb(m, "h2", 2);
    put16(m, 0x0015); put16(m, 8);              /* padding */
    for (int i = 0; i < 8; i++)
        put8(m, 0);
    patch_len(m, exts, 2);
    hs_end(m, h);
}

/* A short ClientHello of an old client: no extensions. */
static void client_hello_old(struct msg *m, unsigned version)
{
    size_t h = hs_begin(m, 1);
    put16(m, version);
    for (int i = 0; i < 32; i++)
        put8(m, 0x22);
    put8(m, 0);
    put16(m, 6);
    put16(m, 0x0005); put16(m, 0x0004); put16(m, 0x000a);
    put8(m, 1);
    put8(m, 0);
    hs_end(m, h);
}

static const uint8_t hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65,
    0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2,
    0xc8, 0xa8, 0x33, 0x9c,
};

/* ServerHello: legacy version, cipher, optional supported_versions (0:
 * none), optional ALPN, session id echo. */
static void server_hello(struct msg *m, unsigned version, unsigned cipher, unsigned selected,
                         const char *alpn, const uint8_t *random, const uint8_t *sid,
                         size_t sid_len)
{
    size_t h = hs_begin(m, 2);
    put16(m, version);
    if (random != NULL) {
        putb(m, random, 32);
    } else {
        for (int i = 0; i < 32; i++)
            put8(m, 0x33);
    }
    put8(m, (unsigned)sid_len);
    putb(m, sid, sid_len);
    put16(m, cipher);
    put8(m, 0);
    size_t exts = m->n;
    put16(m, 0);
    put16(m, 0xff01); put16(m, 1); put8(m, 0);
    if (alpn != NULL) {
        size_t l = strlen(alpn);
        put16(m, 0x0010); put16(m, (unsigned)(l + 3)); put16(m, (unsigned)(l + 1));
        put8(m, (unsigned)l); putb(m, alpn, l);
    }
    if (selected != 0) {
        put16(m, 0x002b); put16(m, 2); put16(m, selected);
        put16(m, 0x0033); put16(m, 4); put16(m, 0x001d); put16(m, 0);
    }
    if (selected == 0 && alpn != NULL) {
        put16(m, 0x000b); put16(m, 2); put8(m, 1); put8(m, 0);
    }
    patch_len(m, exts, 2);
    hs_end(m, h);
}

static void certificate(struct msg *m, const uint8_t *der, size_t n)
{
    size_t h = hs_begin(m, 11);
    put24(m, (unsigned)(n + 3));
    put24(m, (unsigned)n);
    putb(m, der, n);
    hs_end(m, h);
}

static void empty_hs(struct msg *m, unsigned type, size_t body)
{
    size_t h = hs_begin(m, type);
    for (size_t i = 0; i < body; i++)
        put8(m, 0x44);
    hs_end(m, h);
}

static const uint8_t ccs_body[1] = { 1 };
static const uint8_t appdata[40] = { 0x55 };

/* weak: CN=old.example.test, self-signed, RSA 1024, sha1WithRSAEncryption,
 * valid 2010-01-01 to 2012-01-01 (expired at the test clock, 2023-11-14). */
static const uint8_t cert_weak[] = {
    0x30, 0x82, 0x01, 0xa5, 0x30, 0x82, 0x01, 0x0e, 0x02, 0x01, 0x01, 0x30, 0x0d, 0x06, 0x09, 0x2a,
    0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05, 0x05, 0x00, 0x30, 0x1b, 0x31, 0x19, 0x30, 0x17,
    0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x10, 0x6f, 0x6c, 0x64, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70,
    0x6c, 0x65, 0x2e, 0x74, 0x65, 0x73, 0x74, 0x30, 0x1e, 0x17, 0x0d, 0x31, 0x30, 0x30, 0x31, 0x30,
    0x31, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x5a, 0x17, 0x0d, 0x31, 0x32, 0x30, 0x31, 0x30, 0x31,
    0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x5a, 0x30, 0x1b, 0x31, 0x19, 0x30, 0x17, 0x06, 0x03, 0x55,
    0x04, 0x03, 0x0c, 0x10, 0x6f, 0x6c, 0x64, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e,
    0x74, 0x65, 0x73, 0x74, 0x30, 0x81, 0x9f, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
    0x0d, 0x01, 0x01, 0x01, 0x05, 0x00, 0x03, 0x81, 0x8d, 0x00, 0x30, 0x81, 0x89, 0x02, 0x81, 0x81,
    0x00, 0xa7, 0xb9, 0xfd, 0xe4, 0xd1, 0x16, 0xda, 0x9a, 0xc0, 0x86, 0x37, 0xe7, 0x40, 0x52, 0xa1,
    0xe3, 0x91, 0x1d, 0xcc, 0x5b, 0x1a, 0x22, 0x88, 0x65, 0x58, 0x4d, 0xd2, 0xc0, 0xc4, 0xe0, 0xda,
    0xd0, 0x06, 0xca, 0x7b, 0xcf, 0xeb, 0x0a, 0xd0, 0x86, 0x03, 0xbd, 0x76, 0x1e, 0x60, 0xa4, 0x24,
    0x3a, 0x62, 0x12, 0x03, 0xf8, 0xc2, 0xd3, 0xcd, 0x90, 0x47, 0x9a, 0x44, 0xb6, 0xdb, 0xfb, 0x60,
    0xc6, 0xfa, 0xfa, 0x9d, 0x48, 0x16, 0x2b, 0x55, 0x19, 0x60, 0x61, 0x2d, 0x83, 0xc9, 0xce, 0x9a,
    0x69, 0xe2, 0x38, 0xf9, 0xe3, 0x4c, 0x1d, 0x10, 0xa7, 0xb9, 0xf5, 0x60, 0x2b, 0x08, 0x89, 0x3e,
    0xa1, 0xde, 0x1f, 0xaf, 0xf5, 0x46, 0xc9, 0x32, 0xcf, 0xa0, 0x99, 0x28, 0xb3, 0x20, 0x0d, 0x23,
    0x66, 0xf5, 0x21, 0x52, 0x78, 0xb4, 0x30, 0x54, 0xe6, 0x61, 0x39, 0xfe, 0x5c, 0x42, 0x45, 0xbf,
    0x29, 0x02, 0x03, 0x01, 0x00, 0x01, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d,
    0x01, 0x01, 0x05, 0x05, 0x00, 0x03, 0x81, 0x81, 0x00, 0x4b, 0xfe, 0xaa, 0x6c, 0x3d, 0xe4, 0xbe,
    0x48, 0x19, 0xe5, 0x89, 0x05, 0x45, 0xd4, 0xe3, 0x13, 0x11, 0x4d, 0x7e, 0xc8, 0x47, 0x1c, 0xee,
    0x3b, 0x52, 0x0b, 0x4b, 0x2d, 0x17, 0x6c, 0x94, 0x6b, 0xaf, 0x1a, 0x75, 0x85, 0x50, 0x64, 0xbc,
    0x1d, 0x35, 0xd1, 0xbc, 0x93, 0x4a, 0x74, 0x76, 0xff, 0x10, 0x4d, 0xfd, 0x2d, 0x6c, 0x14, 0xa5,
    0x74, 0x25, 0xa2, 0x53, 0xfb, 0xb0, 0xde, 0x27, 0x22, 0xfd, 0xbd, 0x95, 0xa9, 0x93, 0x03, 0x1e,
    0x40, 0xe2, 0xa5, 0xf0, 0xcb, 0x83, 0x36, 0x9f, 0xde, 0x69, 0x70, 0x9b, 0x65, 0x08, 0x79, 0xa3,
    0xcf, 0xd9, 0x60, 0xbf, 0x78, 0xa4, 0x03, 0x33, 0x44, 0x05, 0x6c, 0xaf, 0x0a, 0xfd, 0x5f, 0x31,
    0x4a, 0x60, 0xe4, 0xa8, 0x3d, 0xd3, 0x0b, 0xff, 0x8a, 0xfd, 0xb6, 0x3c, 0xfa, 0xfa, 0x3f, 0x76,
    0x45, 0x28, 0x3b, 0x6d, 0xa8, 0xb2, 0xc7, 0xc7, 0x36,
};
/* leaf: CN=www.example.test issued by CN=Test Root CA, EC P-256,
 * ecdsa-with-SHA256, valid 2020-2030, SANs www.example.test, example.test,
 * 192.0.2.7: nothing to report. */
static const uint8_t cert_leaf[] = {
    0x30, 0x82, 0x01, 0x94, 0x30, 0x82, 0x01, 0x3a, 0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x01, 0x02,
    0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x30, 0x17, 0x31, 0x15,
    0x30, 0x13, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x0c, 0x54, 0x65, 0x73, 0x74, 0x20, 0x52, 0x6f,
    0x6f, 0x74, 0x20, 0x43, 0x41, 0x30, 0x1e, 0x17, 0x0d, 0x32, 0x30, 0x30, 0x31, 0x30, 0x31, 0x30,
    0x30, 0x30, 0x30, 0x30, 0x30, 0x5a, 0x17, 0x0d, 0x33, 0x30, 0x30, 0x31, 0x30, 0x31, 0x30, 0x30,
    0x30, 0x30, 0x30, 0x30, 0x5a, 0x30, 0x1b, 0x31, 0x19, 0x30, 0x17, 0x06, 0x03, 0x55, 0x04, 0x03,
    0x0c, 0x10, 0x77, 0x77, 0x77, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x74, 0x65,
    0x73, 0x74, 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
    0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04, 0x71, 0x94, 0x9d,
    0x0a, 0x45, 0xe0, 0x2f, 0xb5, 0x3f, 0x4f, 0x45, 0xc7, 0xac, 0x85, 0xc7, 0xdf, 0xaf, 0x78, 0x28,
    0xa1, 0x89, 0xdd, 0x4b, 0xb6, 0x6f, 0x69, 0x1d, 0x01, 0xa9, 0xa2, 0xff, 0x50, 0x92, 0x20, 0xc8,
    0x46, 0xcb, 0x6f, 0xde, 0xc8, 0xa1, 0x58, 0xfd, 0xd9, 0x63, 0x7f, 0x0c, 0x33, 0x03, 0x7b, 0xce,
    0x43, 0x04, 0x47, 0x13, 0xcf, 0x3d, 0x68, 0xef, 0x5e, 0xde, 0x89, 0xd5, 0xab, 0xa3, 0x73, 0x30,
    0x71, 0x30, 0x2f, 0x06, 0x03, 0x55, 0x1d, 0x11, 0x04, 0x28, 0x30, 0x26, 0x82, 0x10, 0x77, 0x77,
    0x77, 0x2e, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x74, 0x65, 0x73, 0x74, 0x82, 0x0c,
    0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x74, 0x65, 0x73, 0x74, 0x87, 0x04, 0xc0, 0x00,
    0x02, 0x07, 0x30, 0x1d, 0x06, 0x03, 0x55, 0x1d, 0x0e, 0x04, 0x16, 0x04, 0x14, 0x7d, 0x02, 0xdd,
    0xe4, 0x3d, 0x35, 0x19, 0x02, 0xe0, 0xbc, 0x78, 0xf9, 0x9e, 0x58, 0xa6, 0x70, 0x82, 0x01, 0x86,
    0xb4, 0x30, 0x1f, 0x06, 0x03, 0x55, 0x1d, 0x23, 0x04, 0x18, 0x30, 0x16, 0x80, 0x14, 0xc0, 0x95,
    0x95, 0xb8, 0x4d, 0x44, 0x4d, 0x3c, 0x0e, 0x43, 0xde, 0xc6, 0x32, 0x4a, 0x6c, 0xff, 0x6c, 0x46,
    0xb5, 0xe4, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x03, 0x48,
    0x00, 0x30, 0x45, 0x02, 0x20, 0x34, 0xa0, 0x77, 0x69, 0x97, 0xac, 0xa1, 0x67, 0x85, 0xf2, 0xc8,
    0x6f, 0xbf, 0xb7, 0xab, 0x89, 0xf1, 0x79, 0xb9, 0xba, 0x5d, 0x5b, 0xd7, 0x8e, 0x11, 0xb3, 0x25,
    0x56, 0x47, 0x5d, 0x22, 0x17, 0x02, 0x21, 0x00, 0xb0, 0x09, 0x0e, 0x62, 0x57, 0x31, 0x24, 0x1e,
    0x76, 0xdb, 0x6e, 0x8e, 0x9b, 0x9f, 0xd8, 0xb5, 0xa9, 0x67, 0x9c, 0xc1, 0x77, 0x84, 0xd2, 0x16,
    0x69, 0xcf, 0x09, 0xbe, 0x66, 0x20, 0x0d, 0xca,
};
/* future: the same leaf valid 2030-2040 (not yet valid in 2023): 286 bytes */
static const uint8_t cert_future[] = {
    0x30, 0x82, 0x01, 0x1a, 0x30, 0x81, 0xc0, 0x02, 0x01, 0x03, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
    0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x30, 0x17, 0x31, 0x15, 0x30, 0x13, 0x06, 0x03, 0x55, 0x04,
    0x03, 0x0c, 0x0c, 0x54, 0x65, 0x73, 0x74, 0x20, 0x52, 0x6f, 0x6f, 0x74, 0x20, 0x43, 0x41, 0x30,
    0x1e, 0x17, 0x0d, 0x33, 0x30, 0x30, 0x31, 0x30, 0x31, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x5a,
    0x17, 0x0d, 0x34, 0x30, 0x30, 0x31, 0x30, 0x31, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x5a, 0x30,
    0x1b, 0x31, 0x19, 0x30, 0x17, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x10, 0x77, 0x77, 0x77, 0x2e,
    0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x74, 0x65, 0x73, 0x74, 0x30, 0x59, 0x30, 0x13,
    0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d,
    0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04, 0x71, 0x94, 0x9d, 0x0a, 0x45, 0xe0, 0x2f, 0xb5, 0x3f,
    0x4f, 0x45, 0xc7, 0xac, 0x85, 0xc7, 0xdf, 0xaf, 0x78, 0x28, 0xa1, 0x89, 0xdd, 0x4b, 0xb6, 0x6f,
    0x69, 0x1d, 0x01, 0xa9, 0xa2, 0xff, 0x50, 0x92, 0x20, 0xc8, 0x46, 0xcb, 0x6f, 0xde, 0xc8, 0xa1,
    0x58, 0xfd, 0xd9, 0x63, 0x7f, 0x0c, 0x33, 0x03, 0x7b, 0xce, 0x43, 0x04, 0x47, 0x13, 0xcf, 0x3d,
    0x68, 0xef, 0x5e, 0xde, 0x89, 0xd5, 0xab, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d,
    0x04, 0x03, 0x02, 0x03, 0x49, 0x00, 0x30, 0x46, 0x02, 0x21, 0x00, 0xb7, 0x5d, 0xb0, 0x09, 0xbb,
    0x1e, 0xad, 0xc5, 0x1b, 0x00, 0x24, 0xe8, 0xba, 0x8e, 0x0a, 0x27, 0x1b, 0x9f, 0xeb, 0xeb, 0xb5,
    0x27, 0x03, 0x7e, 0xbb, 0x82, 0xec, 0x26, 0xd7, 0x75, 0x1f, 0x96, 0x02, 0x21, 0x00, 0xdb, 0xaa,
    0x21, 0x27, 0xe2, 0x75, 0xef, 0x60, 0xc4, 0x45, 0x33, 0x8c, 0x76, 0x7a, 0xd1, 0x3d, 0x37, 0x6f,
    0x03, 0x5e, 0xd4, 0x53, 0x76, 0x92, 0xda, 0x43, 0x9d, 0xf2, 0x8a, 0x08, 0x58, 0x94,
};

static const uint8_t sid_a[32] = { 0xa1, 0xa2, 0xa3, 0xa4, 0xa5 };

/* ------------------------------------------------------------------ helpers */

static struct service_view tls_service(void)
{
    struct service_view v;
    memset(&v, 0, sizeof v);
    services_sort();
    if (services_count() > 0)
        service_view_at(0, &v);
    return v;
}

static bool has_rule(const char *rule)
{
    struct finding_view v;
    return conv_finding(rule, &v);
}

/* A TLS 1.2 handshake: client hello, server flight with a certificate, the
 * client's key exchange, change cipher spec both ways, application data.
 * The server flight is cut into records of frag bytes. */
static void tls12_conv(struct conv *c, const uint8_t *der, size_t der_len, unsigned cipher,
                       unsigned version, size_t frag)
{
    static struct msg m;
    m.n = 0;
    client_hello_modern(&m, 0x0303, sid_a);
    records(c, DIR_TO_SERVER, 22, 0x0301, m.b, m.n, 16384, false);
    m.n = 0;
    server_hello(&m, version, cipher, 0, "h2", NULL, (const uint8_t *)"", 0);
    certificate(&m, der, der_len);
    empty_hs(&m, 12, 40);       /* ServerKeyExchange */
    empty_hs(&m, 14, 0);        /* ServerHelloDone */
    records(c, DIR_TO_CLIENT, 22, version, m.b, m.n, frag, false);
    m.n = 0;
    empty_hs(&m, 16, 33);       /* ClientKeyExchange */
    records(c, DIR_TO_SERVER, 22, version, m.b, m.n, 16384, false);
    records(c, DIR_TO_SERVER, 20, version, ccs_body, 1, 16384, true);
    records(c, DIR_TO_SERVER, 22, version, appdata, 40, 16384, true);   /* Finished */
    records(c, DIR_TO_CLIENT, 20, version, ccs_body, 1, 16384, false);
    records(c, DIR_TO_CLIENT, 22, version, appdata, 40, 16384, true);
    records(c, DIR_TO_SERVER, 23, version, appdata, 40, 16384, false);
    records(c, DIR_TO_CLIENT, 23, version, appdata, 40, 16384, false);
}

/* ------------------------------------------------------------------ tests */

/* TLS 1.2 with an expired, self-signed, RSA-1024, SHA-1 certificate whose
 * Certificate message spans three records. */
static void test_tls12_bad_cert(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 443, "TLS");
    tls12_conv(&c, cert_weak, sizeof cert_weak, 0xc02f, 0x0303, 200);
    conv_seal(&c);
    conv_check(&detector_tls, &fv, &c, NULL, 0);

    struct finding_view v;
    CHECK(conv_finding("tls.cert-expired", &v));
    CHECK(conv_sample(&v, "certificate", "notAfter=2012-01-01T00:00:00Z"));
    CHECK(conv_finding("tls.cert-self-signed", &v));
    CHECK(conv_sample(&v, "certificate", "CN=old.example.test"));
    CHECK(conv_finding("tls.cert-weak-key", &v));
    CHECK(conv_sample(&v, "certificate", "RSA 1024"));
    CHECK(conv_finding("tls.cert-weak-signature", &v));
    CHECK(conv_sample(&v, "certificate", "sha1WithRSAEncryption"));
    CHECK(!has_rule("tls.obsolete-version"));
    CHECK(!has_rule("tls.weak-cipher"));
    CHECK(!has_rule("tls.cert-not-yet-valid"));

    struct service_view s = tls_service();
    CHECK_EQ(s.ntls_versions, 1);
    CHECK_EQ(s.tls_versions[0], 0x0303);
    CHECK_EQ(s.ntls_ciphers, 1);
    CHECK_STR(s.tls_cipher_names[0], "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    CHECK_EQ(s.ntls_snis, 1);
    CHECK_STR(s.tls_snis[0], "www.example.test");
    CHECK_EQ(s.ntls_ja3, 1);
    CHECK_STR(s.tls_ja3[0], "cd08e31494f9531f560d64c695473da9");
    CHECK_EQ(s.ntls_ja4, 1);
    CHECK_STR(s.tls_ja4[0], "t13d1516h2_8daaf6152771_e5627efa2ab1");
    CHECK_EQ(s.ntls_certs, 1);
    if (s.ntls_certs == 1) {
        const struct service_tls *t = s.tls_certs[0];
        CHECK_STR(t->cert_subject, "CN=old.example.test");
        CHECK_STR(t->cert_issuer, "CN=old.example.test");
        CHECK_STR(t->cert_key, "RSA 1024");
        CHECK_STR(t->cert_sig_alg, "sha1WithRSAEncryption");
        CHECK(t->cert_self_signed);
        CHECK_STR(t->cert_sha256,
                  "64c6ae7fcb30c0bcb6af5d8665abcadd3ffc580074072fe31d607b8c8731f177");
        CHECK_EQ(t->cert_not_after_ns, 1325376000ULL * 1000000000ULL);
        CHECK_STR(t->alpn, "h2");
        CHECK_STR(t->ja3s, "2de81c22ea32a57162df5cb08d4a2795");
    }
    CHECK(!s.tls_cert_encrypted);
    conv_free(&c);
}

/* TLS 1.2 with a good CA-signed EC certificate, one record per message:
 * facts, and no finding at all. */
static void test_tls12_good_cert(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 443, "TLS");
    tls12_conv(&c, cert_leaf, sizeof cert_leaf, 0xc02b, 0x0303, 16384);
    conv_seal(&c);
    conv_check(&detector_tls, &fv, &c, NULL, 0);
    CHECK_EQ(conv_nfindings(), 0);
    struct service_view s = tls_service();
    CHECK_EQ(s.ntls_certs, 1);
    if (s.ntls_certs == 1) {
        const struct service_tls *t = s.tls_certs[0];
        CHECK_STR(t->cert_subject, "CN=www.example.test");
        CHECK_STR(t->cert_issuer, "CN=Test Root CA");
        CHECK_STR(t->cert_sans, "www.example.test,example.test,192.0.2.7");
        CHECK_STR(t->cert_key, "EC P-256");
        CHECK_STR(t->cert_sig_alg, "ecdsa-with-SHA256");
        CHECK(!t->cert_self_signed);
        CHECK_STR(t->cert_sha256,
                  "95fa1b39760e49e3913076d281111bb132e99bec11004e3bcce3a0cb97dcd47e");
    }
    CHECK_STR(s.tls_cipher_names[0], "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
    conv_free(&c);
}

/* A certificate valid only from 2030 on. */
static void test_cert_not_yet_valid(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 8443, "Unknown");
    tls12_conv(&c, cert_future, sizeof cert_future, 0xc02b, 0x0303, 100);
    conv_seal(&c);
    conv_check(&detector_tls, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("tls.cert-not-yet-valid", &v));
    CHECK(conv_sample(&v, "certificate", "notBefore=2030-01-01T00:00:00Z"));
    CHECK_EQ(conv_nfindings(), 1);
    conv_free(&c);
}

/* The server picks TLS 1.0 and RC4 although the client offered 1.3:
 * graded on the ServerHello, never the client's offer. */
static void test_tls10_rc4(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 443, "TLS");
    tls12_conv(&c, cert_leaf, sizeof cert_leaf, 0x0005, 0x0301, 16384);
    conv_seal(&c);
    conv_check(&detector_tls, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("tls.obsolete-version", &v));
    CHECK(conv_sample(&v, "version", "TLS 1.0"));
    CHECK(conv_finding("tls.weak-cipher", &v));
    CHECK(conv_sample(&v, "cipher", "TLS_RSA_WITH_RC4_128_SHA (RC4)"));
    struct service_view s = tls_service();
    CHECK_EQ(s.tls_versions[0], 0x0301);
    conv_free(&c);
}

/* A client that offers only TLS 1.0 and a server that would do 1.2: the
 * obsolete offer alone is not a finding. */
static void test_client_offer_not_graded(void)
{
    static struct msg m;
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 443, "TLS");
    m.n = 0;
    client_hello_old(&m, 0x0301);
    records(&c, DIR_TO_SERVER, 22, 0x0301, m.b, m.n, 16384, false);
    conv_seal(&c);
    conv_check(&detector_tls, &fv, &c, NULL, 0);
    CHECK_EQ(conv_nfindings(), 0);
    struct service_view s = tls_service();
    CHECK_EQ(s.ntls_versions, 0);
    CHECK_EQ(s.ntls_ja3, 1);
    CHECK_EQ(s.ntls_ja4, 1);
    if (s.ntls_ja4 == 1)
        CHECK_STR(s.tls_ja4[0], "t10i030000_53b29befa235_000000000000");
    conv_free(&c);
}

/* TLS 1.3: supported_versions decides, the certificate is encrypted. */
static void test_tls13(void)
{
    static struct msg m;
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 443, "TLS");
    m.n = 0;
    client_hello_modern(&m, 0x0303, sid_a);
    records(&c, DIR_TO_SERVER, 22, 0x0301, m.b, m.n, 100, false);
    m.n = 0;
    server_hello(&m, 0x0303, 0x1302, 0x0304, NULL, NULL, sid_a, 32);
    records(&c, DIR_TO_CLIENT, 22, 0x0303, m.b, m.n, 16384, false);
    records(&c, DIR_TO_CLIENT, 20, 0x0303, ccs_body, 1, 16384, true);
    records(&c, DIR_TO_CLIENT, 23, 0x0303, appdata, 40, 16384, true);
    records(&c, DIR_TO_SERVER, 20, 0x0303, ccs_body, 1, 16384, false);
    records(&c, DIR_TO_SERVER, 23, 0x0303, appdata, 40, 16384, true);
    conv_seal(&c);
    conv_check(&detector_tls, &fv, &c, NULL, 0);
    CHECK_EQ(conv_nfindings(), 0);
    struct service_view s = tls_service();
    CHECK_EQ(s.ntls_versions, 1);
    CHECK_EQ(s.tls_versions[0], 0x0304);
    CHECK_STR(s.tls_cipher_names[0], "TLS_AES_256_GCM_SHA384");
    CHECK(s.tls_cert_encrypted);
    CHECK_EQ(s.ntls_certs, 0);
    conv_free(&c);
}

/* HelloRetryRequest, the client's compatibility CCS, a second hello, then
 * the real ServerHello. */
static void test_hello_retry(void)
{
    static struct msg m;
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 443, "TLS");
    m.n = 0;
    client_hello_modern(&m, 0x0303, sid_a);
    records(&c, DIR_TO_SERVER, 22, 0x0301, m.b, m.n, 16384, false);
    m.n = 0;
    server_hello(&m, 0x0303, 0x1301, 0x0304, NULL, hrr_random, sid_a, 32);
    records(&c, DIR_TO_CLIENT, 22, 0x0303, m.b, m.n, 16384, false);
    records(&c, DIR_TO_SERVER, 20, 0x0303, ccs_body, 1, 16384, false);
    m.n = 0;
    client_hello_modern(&m, 0x0303, sid_a);
    records(&c, DIR_TO_SERVER, 22, 0x0303, m.b, m.n, 16384, true);
    m.n = 0;
    server_hello(&m, 0x0303, 0x1303, 0x0304, NULL, NULL, sid_a, 32);
    records(&c, DIR_TO_CLIENT, 22, 0x0303, m.b, m.n, 16384, false);
    records(&c, DIR_TO_CLIENT, 23, 0x0303, appdata, 40, 16384, true);
    conv_seal(&c);
    conv_check(&detector_tls, &fv, &c, NULL, 0);
    struct service_view s = tls_service();
    CHECK_EQ(s.ntls_versions, 1);
    CHECK_EQ(s.tls_versions[0], 0x0304);
    CHECK_EQ(s.ntls_ciphers, 1);
    CHECK_STR(s.tls_cipher_names[0], "TLS_CHACHA20_POLY1305_SHA256");
    conv_free(&c);
}

/* Session resumption: the server echoes the client's session id and sends
 * no certificate. */
static void test_resumption(void)
{
    static struct msg m;
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 443, "TLS");
    m.n = 0;
    client_hello_modern(&m, 0x0303, sid_a);
    records(&c, DIR_TO_SERVER, 22, 0x0301, m.b, m.n, 16384, false);
    m.n = 0;
    server_hello(&m, 0x0303, 0xc030, 0, NULL, NULL, sid_a, 32);
    records(&c, DIR_TO_CLIENT, 22, 0x0303, m.b, m.n, 16384, false);
    records(&c, DIR_TO_CLIENT, 20, 0x0303, ccs_body, 1, 16384, true);
    records(&c, DIR_TO_SERVER, 20, 0x0303, ccs_body, 1, 16384, false);
    conv_seal(&c);
    conv_check(&detector_tls, &fv, &c, NULL, 0);
    CHECK_EQ(conv_nfindings(), 0);
    struct service_view s = tls_service();
    CHECK_EQ(s.tls_versions[0], 0x0303);
    CHECK_EQ(s.ntls_certs, 0);
    CHECK(!s.tls_cert_encrypted);
    conv_free(&c);
}

/* SSL 2.0: CLIENT-HELLO, SERVER-HELLO with the certificate, and the
 * client's choice of 3DES in CLIENT-MASTER-KEY. */
static void test_sslv2(void)
{
    static struct msg m;
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 443, "Unknown");
    m.n = 0;
    put16(&m, 0x8000 | 31);
    put8(&m, 1); put16(&m, 0x0002); put16(&m, 6); put16(&m, 0); put16(&m, 16);
    put24(&m, 0x0700c0); put24(&m, 0x010080);
    for (int i = 0; i < 16; i++)
        put8(&m, 0x66);                         /* challenge */
    conv_add(&c, DIR_TO_SERVER, m.b, m.n, false);
    m.n = 0;
    size_t body = 11 + sizeof cert_weak + 6 + 16;
    put16(&m, 0x8000 | (unsigned)body);
    put8(&m, 4); put8(&m, 0); put8(&m, 1); put16(&m, 0x0002);
    put16(&m, sizeof cert_weak); put16(&m, 6); put16(&m, 16);
    putb(&m, cert_weak, sizeof cert_weak);
    put24(&m, 0x0700c0); put24(&m, 0x010080);
    for (int i = 0; i < 16; i++)
        put8(&m, 0x77);                         /* connection id */
    conv_add(&c, DIR_TO_CLIENT, m.b, m.n, false);
    m.n = 0;
    put16(&m, 0x8000 | 10);
    put8(&m, 2); put24(&m, 0x0700c0); put16(&m, 0); put16(&m, 0); put16(&m, 0);
    conv_add(&c, DIR_TO_SERVER, m.b, m.n, false);
    conv_seal(&c);
    conv_check(&detector_tls, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("tls.obsolete-version", &v));
    CHECK(conv_sample(&v, "version", "SSL 2.0"));
    CHECK(conv_finding("tls.weak-cipher", &v));
    CHECK(conv_sample(&v, "cipher", "SSL_CK_DES_192_EDE3_CBC_WITH_MD5 (3DES)"));
    CHECK(has_rule("tls.cert-self-signed"));
    struct service_view s = tls_service();
    CHECK_EQ(s.tls_versions[0], 0x0002);
    conv_free(&c);
}

/* An SSLv2-format hello from a TLS client (RFC 5246 E.2), answered with
 * TLS 1.0 records. */
static void test_sslv2_compat_hello(void)
{
    static struct msg m;
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 443, "TLS");
    m.n = 0;
    put16(&m, 0x8000 | 31);
    put8(&m, 1); put16(&m, 0x0301); put16(&m, 6); put16(&m, 0); put16(&m, 16);
    put24(&m, 0x000004); put24(&m, 0x010080);
    for (int i = 0; i < 16; i++)
        put8(&m, 0x66);
    conv_add(&c, DIR_TO_SERVER, m.b, m.n, false);
    m.n = 0;
    server_hello(&m, 0x0301, 0x0004, 0, NULL, NULL, (const uint8_t *)"", 0);
    certificate(&m, cert_leaf, sizeof cert_leaf);
    empty_hs(&m, 14, 0);
    records(&c, DIR_TO_CLIENT, 22, 0x0301, m.b, m.n, 16384, false);
    m.n = 0;
    empty_hs(&m, 16, 130);
    records(&c, DIR_TO_SERVER, 22, 0x0301, m.b, m.n, 16384, false);
    records(&c, DIR_TO_SERVER, 20, 0x0301, ccs_body, 1, 16384, true);
    conv_seal(&c);
    conv_check(&detector_tls, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("tls.obsolete-version", &v));
    CHECK(conv_sample(&v, "version", "TLS 1.0"));
    CHECK(conv_finding("tls.weak-cipher", &v));
    CHECK(conv_sample(&v, "cipher", "TLS_RSA_WITH_RC4_128_MD5"));
    conv_free(&c);
}

/* A cleartext start (an SMTP-like exchange), then TLS: the hello is found
 * after the cleartext, wherever the segments cut. */
static void test_after_cleartext(void)
{
    static struct msg m;
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 25, "SMTP");
    conv_text(&c, DIR_TO_CLIENT, "220 mail.example.test ESMTP\r\n");
    conv_text(&c, DIR_TO_SERVER, "EHLO client\r\n");
    conv_text(&c, DIR_TO_CLIENT, "250-mail.example.test\r\n250 STARTTLS\r\n");
    conv_text(&c, DIR_TO_SERVER, "STARTTLS\r\n");
    conv_text(&c, DIR_TO_CLIENT, "220 2.0.0 Ready to start TLS\r\n");
    m.n = 0;
    client_hello_modern(&m, 0x0303, sid_a);
    records(&c, DIR_TO_SERVER, 22, 0x0301, m.b, m.n, 16384, false);
    m.n = 0;
    server_hello(&m, 0x0303, 0xc02f, 0, NULL, NULL, (const uint8_t *)"", 0);
    certificate(&m, cert_leaf, sizeof cert_leaf);
    records(&c, DIR_TO_CLIENT, 22, 0x0303, m.b, m.n, 16384, false);
    conv_seal(&c);
    conv_check(&detector_tls, &fv, &c, NULL, 0);
    CHECK_EQ(conv_nfindings(), 0);
    struct service_view s = tls_service();
    CHECK_EQ(s.ntls_versions, 1);
    CHECK_EQ(s.tls_versions[0], 0x0303);
    CHECK_EQ(s.ntls_certs, 1);
    conv_free(&c);
}

/* The ServerHello was not captured, but the client's key exchange is in
 * clear: TLS 1.2 or below, and its record version is the negotiated one. */
static void test_version_from_record_layer(void)
{
    static struct msg m;
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 5432, "PostgreSQL");
    m.n = 0;
    client_hello_modern(&m, 0x0303, sid_a);
    records(&c, DIR_TO_SERVER, 22, 0x0301, m.b, m.n, 16384, false);
    m.n = 0;
    empty_hs(&m, 16, 70);       /* ClientKeyExchange */
    records(&c, DIR_TO_SERVER, 22, 0x0301, m.b, m.n, 16384, false);
    records(&c, DIR_TO_SERVER, 20, 0x0301, ccs_body, 1, 16384, true);
    conv_seal(&c);
    conv_check(&detector_tls, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("tls.obsolete-version", &v));
    CHECK(conv_sample(&v, "version", "TLS 1.0 (record layer)"));
    struct service_view s = tls_service();
    CHECK_EQ(s.ntls_versions, 1);
    CHECK_EQ(s.tls_versions[0], 0x0301);
    CHECK_EQ(s.ntls_ciphers, 0);
    conv_free(&c);
}

/* Every prefix of a handshake, in both directions: no crash, and never a
 * finding the whole handshake would not state. */
static void test_truncated(void)
{
    static struct msg cli, srv;
    cli.n = 0;
    srv.n = 0;
    {
        struct msg m;
        m.n = 0;
        client_hello_modern(&m, 0x0303, sid_a);
        uint8_t h[5] = { 22, 3, 1, (uint8_t)(m.n >> 8), (uint8_t)m.n };
        putb(&cli, h, 5);
        putb(&cli, m.b, m.n);
        m.n = 0;
        server_hello(&m, 0x0301, 0x0005, 0, NULL, NULL, (const uint8_t *)"", 0);
        certificate(&m, cert_weak, sizeof cert_weak);
        uint8_t s[5] = { 22, 3, 1, (uint8_t)(m.n >> 8), (uint8_t)m.n };
        putb(&srv, s, 5);
        putb(&srv, m.b, m.n);
    }
    struct flow_view fv = conv_view(6, 443, "TLS");
    for (size_t cut = 0; cut <= srv.n; cut += 7) {
        struct det_step steps[2] = {
            { DIR_TO_SERVER, guarded_copy(cli.b, cli.n), cli.n },
            { DIR_TO_CLIENT, guarded_copy(srv.b, cut), cut },
        };
        conv_reset();
        CHECK_EQ(engine_run_detector(&detector_tls, &fv, steps, 2, 0), 0);
        /* before the ServerHello is whole, nothing is graded */
        if (cut < 5 + 4 + 38 + 3)
            CHECK_EQ(conv_nfindings(), 0);
        CHECK(!has_rule("tls.cert-not-yet-valid"));
    }
    for (size_t cut = 0; cut <= cli.n; cut += 5) {
        struct det_step steps[1] = {
            { DIR_TO_SERVER, guarded_copy(cli.b, cut), cut },
        };
        conv_reset();
        CHECK_EQ(engine_run_detector(&detector_tls, &fv, steps, 1, 3), 0);
        CHECK_EQ(conv_nfindings(), 0);
    }
    conv_reset();
}

/* Bytes that are not TLS on port 443 (random, text, a record header with
 * an absurd length, lying lengths inside a hello): no crash, no finding,
 * no TLS facts. */
static void test_garbage_443(void)
{
    struct flow_view fv = conv_view(6, 443, "TLS");
    uint32_t x = 12345;
    uint8_t buf[4096];
    for (int round = 0; round < 200; round++) {
        size_t n = (size_t)(x % sizeof buf);
        for (size_t i = 0; i < n; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = (uint8_t)(x >> 16);
        }
        if (round % 3 == 1 && n > 6) {
            /* looks like a handshake record, then lies */
            buf[0] = 22; buf[1] = 3; buf[2] = (uint8_t)(round % 5);
            buf[5] = (uint8_t)(1 + round % 2);
        }
        struct det_step steps[2] = {
            { DIR_TO_SERVER, guarded_copy(buf, n), n },
            { DIR_TO_CLIENT, guarded_copy(buf, n / 2), n / 2 },
        };
        conv_reset();
        CHECK_EQ(engine_run_detector(&detector_tls, &fv, steps, 2, 1 + (size_t)round % 17), 0);
        CHECK_EQ(conv_nfindings(), 0);
    }
    static const char text[] = "GET / HTTP/1.1\r\nHost: example.test\r\n\r\n";
    struct det_step steps[1] = {
        { DIR_TO_SERVER, guarded_copy(text, sizeof text - 1), sizeof text - 1 },
    };
    conv_reset();
    CHECK_EQ(engine_run_detector(&detector_tls, &fv, steps, 1, 0), 0);
    CHECK_EQ(conv_nfindings(), 0);
    CHECK_EQ(services_count(), 0);
    conv_reset();
}

/* A hello whose inner lengths run past the message: read nothing wrong. */
static void test_lying_lengths(void)
{
    static struct msg m;
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 443, "TLS");
    m.n = 0;
    size_t h = hs_begin(&m, 2);
    put16(&m, 0x0301);
    for (int i = 0; i < 32; i++)
        put8(&m, 0);
    put8(&m, 200);              /* session id longer than the message */
    put16(&m, 0x0005);
    hs_end(&m, h);
    records(&c, DIR_TO_CLIENT, 22, 0x0301, m.b, m.n, 16384, false);
    m.n = 0;
    h = hs_begin(&m, 11);
    put24(&m, 5000);
    put24(&m, 4990);            /* a certificate that is not there */
    put8(&m, 0x30);
    hs_end(&m, h);
    records(&c, DIR_TO_CLIENT, 22, 0x0301, m.b, m.n, 16384, true);
    conv_seal(&c);
    conv_check(&detector_tls, &fv, &c, NULL, 0);
    CHECK_EQ(conv_nfindings(), 0);
    conv_free(&c);
}

static void test_cipher_table(void)
{
    CHECK_STR(tls_cipher_name(0x1302), "TLS_AES_256_GCM_SHA384");
    CHECK_STR(tls_cipher_name(0xc011), "TLS_ECDHE_RSA_WITH_RC4_128_SHA");
    CHECK_STR(tls_cipher_name(0x0000), "TLS_NULL_WITH_NULL_NULL");
    CHECK_STR(tls_cipher_name(0xd005), "TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256");
    CHECK(tls_cipher_name(0x0a0a) == NULL);
    CHECK(tls_cipher_weakness("TLS_AES_128_GCM_SHA256") == NULL);
    CHECK(tls_cipher_weakness("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384") == NULL);
    CHECK_STR(tls_cipher_weakness(tls_cipher_name(0x0001)), "NULL");
    CHECK_STR(tls_cipher_weakness(tls_cipher_name(0x0003)), "EXPORT");
    CHECK_STR(tls_cipher_weakness(tls_cipher_name(0x0034)), "anonymous");
    CHECK_STR(tls_cipher_weakness(tls_cipher_name(0xc011)), "RC4");
    CHECK_STR(tls_cipher_weakness(tls_cipher_name(0x0009)), "DES");
    CHECK_STR(tls_cipher_weakness(tls_cipher_name(0x000a)), "3DES");
    CHECK_STR(tls_cipher_weakness(tls_cipher_name(0xc0b4)), "NULL");
    CHECK_STR(tls_cipher_weakness(tls_ssl2_cipher_name(0x0700c0)), "3DES");
    CHECK_STR(tls_cipher_weakness(tls_ssl2_cipher_name(0x060040)), "DES");
    /* the table is sorted, so every listed suite is found by its number */
    for (unsigned id = 0; id <= 0xffff; id++) {
        const char *n = tls_cipher_name((uint16_t)id);
        if (n != NULL)
            CHECK(strncmp(n, "TLS_", 4) == 0);
    }
}

static void test_wants(void)
{
    static const uint8_t hello[] = { 0x16, 0x03, 0x01, 0x00, 0x40, 0x01 };
    static const uint8_t ssl2[] = { 0x80, 0x2e, 0x01, 0x00, 0x02, 0x00, 0x15 };
    static const uint8_t text[] = "GET / HTTP/1.1\r\n";
    struct flow_view fv = conv_view(6, 9999, "Unknown");
    fv.head[0] = hello;
    fv.head_len[0] = sizeof hello;
    CHECK(detector_tls.wants(&fv));
    fv.head[0] = ssl2;
    fv.head_len[0] = sizeof ssl2;
    CHECK(detector_tls.wants(&fv));
    fv.head[0] = text;
    fv.head_len[0] = sizeof text - 1;
    CHECK(!detector_tls.wants(&fv));
    fv.transport = 17;
    fv.head[0] = hello;
    fv.head_len[0] = sizeof hello;
    CHECK(!detector_tls.wants(&fv));
}

int main(void)
{
    RUN(test_tls12_bad_cert);
    RUN(test_tls12_good_cert);
    RUN(test_cert_not_yet_valid);
    RUN(test_tls10_rc4);
    RUN(test_client_offer_not_graded);
    RUN(test_tls13);
    RUN(test_hello_retry);
    RUN(test_resumption);
    RUN(test_sslv2);
    RUN(test_sslv2_compat_hello);
    RUN(test_after_cleartext);
    RUN(test_version_from_record_layer);
    RUN(test_truncated);
    RUN(test_garbage_443);
    RUN(test_lying_lengths);
    RUN(test_cipher_table);
    RUN(test_wants);
    return unit_done("test_tls");
}

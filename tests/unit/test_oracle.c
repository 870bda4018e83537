/*
 * test_oracle.c - the Oracle TNS detector on the session of the ndpi
 * oracle12.pcapng capture (sqlplus to an Oracle 12c listener, native
 * network encryption offered by the client, declined by the server) and
 * on variations of it, replayed whole and cut at every segment size
 * (detect_conv.h).
 */
#include "../../detectors/detector.h"
#include "unit.h"
#include "detect_conv.h"

extern const struct detector detector_oracle;

/* frame 4: CONNECT (type 1), version 315, the descriptor at offset 0x46 */
static const uint8_t tns_connect[] = {
    0x00, 0xd4, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x3b, 0x01, 0x2c,  /* .........;., */
    0x0c, 0x41, 0x20, 0x00, 0xff, 0xff, 0x7f, 0x08, 0x00, 0x00, 0x01, 0x00,  /* .A ......... */
    0x00, 0x8e, 0x00, 0x46, 0x00, 0x00, 0x08, 0x00, 0x41, 0x41, 0x00, 0x00,  /* ...F....AA.. */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  /* ............ */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  /* ............ */
    0x20, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x28, 0x44,  /*  .. ......(D */
    0x45, 0x53, 0x43, 0x52, 0x49, 0x50, 0x54, 0x49, 0x4f, 0x4e, 0x3d, 0x28,  /* ESCRIPTION=( */
    0x43, 0x4f, 0x4e, 0x4e, 0x45, 0x43, 0x54, 0x5f, 0x44, 0x41, 0x54, 0x41,  /* CONNECT_DATA */
    0x3d, 0x28, 0x53, 0x49, 0x44, 0x3d, 0x69, 0x67, 0x6f, 0x72, 0x29, 0x28,  /* =(SID=igor)( */
    0x43, 0x49, 0x44, 0x3d, 0x28, 0x50, 0x52, 0x4f, 0x47, 0x52, 0x41, 0x4d,  /* CID=(PROGRAM */
    0x3d, 0x73, 0x71, 0x6c, 0x70, 0x6c, 0x75, 0x73, 0x40, 0x6b, 0x61, 0x6c,  /* =sqlplus@kal */
    0x69, 0x29, 0x28, 0x48, 0x4f, 0x53, 0x54, 0x3d, 0x6b, 0x61, 0x6c, 0x69,  /* i)(HOST=kali */
    0x29, 0x28, 0x55, 0x53, 0x45, 0x52, 0x3d, 0x72, 0x6f, 0x6f, 0x74, 0x29,  /* )(USER=root) */
    0x29, 0x29, 0x28, 0x41, 0x44, 0x44, 0x52, 0x45, 0x53, 0x53, 0x3d, 0x28,  /* ))(ADDRESS=( */
    0x50, 0x52, 0x4f, 0x54, 0x4f, 0x43, 0x4f, 0x4c, 0x3d, 0x54, 0x43, 0x50,  /* PROTOCOL=TCP */
    0x29, 0x28, 0x48, 0x4f, 0x53, 0x54, 0x3d, 0x31, 0x30, 0x2e, 0x30, 0x2e,  /* )(HOST=10.0. */
    0x37, 0x32, 0x2e, 0x31, 0x33, 0x39, 0x29, 0x28, 0x50, 0x4f, 0x52, 0x54,  /* 72.139)(PORT */
    0x3d, 0x31, 0x35, 0x32, 0x31, 0x29, 0x29, 0x29,                          /* =1521))) */
};

/* frame 6: RESEND (type 11): the listener asks for the CONNECT again */
static const uint8_t tns_resend[] = {
    0x00, 0x08, 0x00, 0x00, 0x0b, 0x00, 0x00, 0x00,                          /* ........ */
};

/* frame 10: ACCEPT (type 2), version 315 (0x013b): 4-byte lengths from here on */
static const uint8_t tns_accept[] = {
    0x00, 0x29, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x3b, 0x0c, 0x41,  /* .).......;.A */
    0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x29, 0x41, 0x41,  /* .........)AA */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0x00,  /* .......... . */
    0x00, 0x20, 0x00, 0x00, 0x00,                                            /* . ... */
};

/* frame 11: DATA (4-byte length 0xa4), data flags 0, ANO magic 0xDEADBEEF, 4 services;
 * the encryption service (type 2) offers algorithms 00 11 06 10 0c ... */
static const uint8_t tns_client_ano[] = {
    0x00, 0x00, 0x00, 0xa4, 0x06, 0x20, 0x00, 0x00, 0x00, 0x00, 0xde, 0xad,  /* ..... ...... */
    0xbe, 0xef, 0x00, 0x9a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00,  /* ............ */
    0x04, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x05, 0x0c,  /* ............ */
    0x10, 0x02, 0x00, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x4a, 0x59, 0x7d,  /* .........JY} */
    0x2f, 0xd5, 0xdc, 0x00, 0x12, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef, 0x00,  /* ............ */
    0x03, 0x00, 0x00, 0x00, 0x04, 0x00, 0x04, 0x00, 0x01, 0x00, 0x01, 0x00,  /* ............ */
    0x02, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,  /* ............ */
    0x05, 0x0c, 0x10, 0x02, 0x00, 0x00, 0x02, 0x00, 0x03, 0xe0, 0xe1, 0x00,  /* ............ */
    0x02, 0x00, 0x06, 0xfc, 0xff, 0x00, 0x02, 0x00, 0x03, 0x00, 0x00, 0x00,  /* ............ */
    0x00, 0x00, 0x04, 0x00, 0x05, 0x0c, 0x10, 0x02, 0x00, 0x00, 0x0c, 0x00,  /* ............ */
    0x01, 0x00, 0x11, 0x06, 0x10, 0x0c, 0x0f, 0x0a, 0x0b, 0x08, 0x02, 0x01,  /* ............ */
    0x03, 0x00, 0x01, 0x00, 0x02, 0x01, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00,  /* ............ */
    0x00, 0x00, 0x00, 0x04, 0x00, 0x05, 0x0c, 0x10, 0x02, 0x00, 0x00, 0x06,  /* ............ */
    0x00, 0x01, 0x00, 0x03, 0x01, 0x04, 0x05, 0x06,                          /* ........ */
};

/* frame 13: DATA, the ANO answer: the encryption service (type 2) chose algorithm 0
 * (none), and so did the integrity service (type 3) */
static const uint8_t tns_server_ano[] = {
    0x00, 0x00, 0x00, 0x7f, 0x06, 0x20, 0x00, 0x00, 0x00, 0x00, 0xde, 0xad,  /* ..... ...... */
    0xbe, 0xef, 0x00, 0x75, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00,  /* ...u........ */
    0x04, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x05, 0x0c,  /* ............ */
    0x10, 0x02, 0x00, 0x00, 0x02, 0x00, 0x06, 0x00, 0x1f, 0x00, 0x0e, 0x00,  /* ............ */
    0x01, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x03, 0x00, 0x00, 0x00, 0x02, 0x00,  /* ............ */
    0x04, 0x00, 0x01, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,  /* ............ */
    0x04, 0x00, 0x05, 0x0c, 0x10, 0x02, 0x00, 0x00, 0x02, 0x00, 0x06, 0xfb,  /* ............ */
    0xff, 0x00, 0x02, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,  /* ............ */
    0x05, 0x0c, 0x10, 0x02, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x03,  /* ............ */
    0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x05, 0x0c, 0x10,  /* ............ */
    0x02, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00,                                /* ....... */
};

/* frame 14: DATA, TTI set protocol (01 06 ...) and the client platform "x86_64/Linux 2.4.xx" */
static const uint8_t tns_client_setprot[] = {
    0x00, 0x00, 0x00, 0x26, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x06,  /* ...&........ */
    0x05, 0x04, 0x03, 0x02, 0x01, 0x00, 0x78, 0x38, 0x36, 0x5f, 0x36, 0x34,  /* ......x86_64 */
    0x2f, 0x4c, 0x69, 0x6e, 0x75, 0x78, 0x20, 0x32, 0x2e, 0x34, 0x2e, 0x78,  /* .Linux 2.4.x */
    0x78, 0x00,                                                              /* x. */
};

/* Where the n bytes of needle first occur in p/len (tests only). */
static size_t find(const uint8_t *p, size_t len, const void *needle, size_t n)
{
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(p + i, needle, n) == 0)
            return i;
    fprintf(stderr, "pattern not found\n");
    exit(2);
}

/* A DATA packet with 4-byte length (after an ACCEPT of version 315):
 * length(4) type 6, flags, header checksum(2), data flags(2), payload. */
static void add_data(struct conv *c, enum dir d, const void *payload, size_t n)
{
    uint32_t len = (uint32_t)(8 + 2 + n);
    uint8_t hdr[10] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                        (uint8_t)len, 0x06, 0x00, 0x00, 0x00, 0x00, 0x00 };
    conv_add(c, d, hdr, sizeof hdr, false);
    conv_add(c, d, payload, n, true);
}

static void add(struct conv *c, enum dir d, const uint8_t *p, size_t n)
{
    conv_add(c, d, p, n, false);
}

/* The capture: the descriptor is the evidence, with why it is clear. */
static void test_capture(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 1521, "Unknown");
    add(&c, DIR_TO_SERVER, tns_connect, sizeof tns_connect);
    add(&c, DIR_TO_CLIENT, tns_resend, sizeof tns_resend);
    add(&c, DIR_TO_SERVER, tns_connect, sizeof tns_connect);
    add(&c, DIR_TO_CLIENT, tns_accept, sizeof tns_accept);
    add(&c, DIR_TO_SERVER, tns_client_ano, sizeof tns_client_ano);
    add(&c, DIR_TO_CLIENT, tns_server_ano, sizeof tns_server_ano);
    add(&c, DIR_TO_SERVER, tns_client_setprot, sizeof tns_client_setprot);
    conv_seal(&c);
    conv_check(&detector_oracle, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("oracle.cleartext-session", &v));
    CHECK(conv_sample(&v, "connect_data", "SID=igor USER=root PROGRAM=sqlplus@kali HOST=kali"));
    CHECK(conv_sample(&v, "encryption", "ANO negotiated without an encryption algorithm"));
    CHECK_EQ(v.rule->severity, SEV_MEDIUM);
    CHECK_EQ(conv_nfindings(), 1);
    conv_free(&c);
}

/* The same session with the server choosing AES256 (17): encrypted from
 * there on, nothing to report, nothing read after. */
static void test_native_encryption(void)
{
    static const uint8_t enc_service[] = { 0x00, 0x02, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00 };
    uint8_t ano[sizeof tns_server_ano];
    memcpy(ano, tns_server_ano, sizeof ano);
    /* service header, then the version sub-packet (8), then length and type (4) */
    size_t at = find(ano, sizeof ano, enc_service, sizeof enc_service) + 8 + 8 + 4;
    CHECK_EQ(ano[at], 0);
    ano[at] = 17;
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 1521, "Unknown");
    add(&c, DIR_TO_SERVER, tns_connect, sizeof tns_connect);
    add(&c, DIR_TO_CLIENT, tns_accept, sizeof tns_accept);
    add(&c, DIR_TO_SERVER, tns_client_ano, sizeof tns_client_ano);
    add(&c, DIR_TO_CLIENT, ano, sizeof ano);
    static const char row[] = "card 4111111111111111";
    add_data(&c, DIR_TO_SERVER, row, sizeof row - 1);
    conv_seal(&c);
    conv_check(&detector_oracle, &fv, &c, NULL, 0);
    CHECK_EQ(conv_nfindings(), 0);
    conv_free(&c);
}

/* No ANO at all: the first DATA is the TTI protocol negotiation, so the
 * session is clear; rows after it go through the secrets engine. */
static void test_no_ano(void)
{
    static const char row[] = "\x10\x17 row: 4111111111111111 ";
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 1521, "Unknown");
    add(&c, DIR_TO_SERVER, tns_connect, sizeof tns_connect);
    add(&c, DIR_TO_CLIENT, tns_accept, sizeof tns_accept);
    add(&c, DIR_TO_SERVER, tns_client_setprot, sizeof tns_client_setprot);
    add_data(&c, DIR_TO_CLIENT, row, sizeof row - 1);
    conv_seal(&c);
    conv_check(&detector_oracle, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("oracle.cleartext-session", &v));
    CHECK(conv_sample(&v, "encryption", "no Advanced Networking Option negotiation"));
    CHECK(conv_finding("pii.card-number", &v));
    CHECK_EQ(conv_nfindings(), 2);
    conv_free(&c);
}

/* A packet longer than what is read whole: its start is scanned, the rest
 * skipped, and the packet after it is read in step. */
static void test_long_packet(void)
{
    static uint8_t big[20000];
    memset(big, ' ', sizeof big);
    memcpy(big + 100, "4111111111111111", 16);
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 1521, "Unknown");
    add(&c, DIR_TO_SERVER, tns_connect, sizeof tns_connect);
    add(&c, DIR_TO_CLIENT, tns_accept, sizeof tns_accept);
    add(&c, DIR_TO_SERVER, tns_client_setprot, sizeof tns_client_setprot);
    add_data(&c, DIR_TO_CLIENT, big, sizeof big);
    static const char row[] = " 5555555555554444 ";
    add_data(&c, DIR_TO_CLIENT, row, sizeof row - 1);
    conv_seal(&c);
    static const size_t chunks[] = { 1, 7, 8, 9, 500, 16383, 16384, 16385, 20009 };
    conv_check(&detector_oracle, &fv, &c, chunks, sizeof chunks / sizeof chunks[0]);
    struct finding_view v;
    CHECK(conv_finding("pii.card-number", &v));
    CHECK_EQ(v.distinct_secrets, 2);
    conv_free(&c);
}

/* A descriptor too long for the CONNECT follows in the next DATA packet
 * (2-byte lengths: before the ACCEPT). */
static void test_descriptor_in_data(void)
{
    static const char desc[] =
        "(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=db1)(PORT=1521))(CONNECT_DATA="
        "(SERVICE_NAME=orclpdb.example.com)(CID=(PROGRAM=JDBC Thin Client)(HOST=__jdbc__)"
        "(USER=appuser))))";
    uint8_t head[0x46];
    memcpy(head, tns_connect, sizeof head);
    head[1] = sizeof head;              /* the CONNECT ends where its data would start */
    uint8_t data[10 + sizeof desc - 1];
    memset(data, 0, 10);
    data[1] = sizeof data;
    data[4] = 0x06;
    memcpy(data + 10, desc, sizeof desc - 1);
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 1521, "Unknown");
    add(&c, DIR_TO_SERVER, head, sizeof head);
    add(&c, DIR_TO_SERVER, data, sizeof data);
    add(&c, DIR_TO_CLIENT, tns_accept, sizeof tns_accept);
    add(&c, DIR_TO_SERVER, tns_client_setprot, sizeof tns_client_setprot);
    conv_seal(&c);
    conv_check(&detector_oracle, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("oracle.cleartext-session", &v));
    CHECK(conv_sample(&v, "connect_data", "SERVICE_NAME=orclpdb.example.com USER=appuser "
                                          "PROGRAM=JDBC Thin Client HOST=__jdbc__"));
    conv_free(&c);
}

/* A descriptor naming TCPS, and a listener that refuses: no finding. */
static void test_tcps_and_refuse(void)
{
    static const char tcp[] = "(PROTOCOL=TCP)(HOST=10";
    static const char tcps[] = "(PROTOCOL=TCPS)(HOST=1";
    /* REFUSE (type 4): user and system reason, data length 11, "(ERR=12505)" */
    static const uint8_t refuse[] = {
        0x00, 0x17, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x22, 0x00, 0x00, 0x0b,
        '(', 'E', 'R', 'R', '=', '1', '2', '5', '0', '5', ')',
    };
    uint8_t conn[sizeof tns_connect];
    memcpy(conn, tns_connect, sizeof conn);
    memcpy(conn + find(conn, sizeof conn, tcp, sizeof tcp - 1), tcps, sizeof tcps - 1);
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 1521, "Unknown");
    add(&c, DIR_TO_SERVER, conn, sizeof conn);
    add(&c, DIR_TO_CLIENT, tns_accept, sizeof tns_accept);
    add(&c, DIR_TO_SERVER, tns_client_setprot, sizeof tns_client_setprot);
    conv_seal(&c);
    conv_check(&detector_oracle, &fv, &c, NULL, 0);
    CHECK_EQ(conv_nfindings(), 0);
    conv_free(&c);

    struct conv r = { 0 };
    add(&r, DIR_TO_SERVER, tns_connect, sizeof tns_connect);
    add(&r, DIR_TO_CLIENT, refuse, sizeof refuse);
    conv_seal(&r);
    conv_check(&detector_oracle, &fv, &r, NULL, 0);
    CHECK_EQ(conv_nfindings(), 0);
    conv_free(&r);
}

/* Bytes that are not TNS: the detector stops at the first header. */
static void test_garbage(void)
{
    static const uint8_t junk[] = {
        0x00, 0x04, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    };
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 1521, "Oracle");
    conv_text(&c, DIR_TO_SERVER, "GET / HTTP/1.1\r\n\r\n");
    add(&c, DIR_TO_SERVER, tns_connect, sizeof tns_connect);
    add(&c, DIR_TO_CLIENT, tns_accept, sizeof tns_accept);
    conv_seal(&c);
    conv_check(&detector_oracle, &fv, &c, NULL, 0);
    CHECK_EQ(conv_nfindings(), 0);
    conv_free(&c);

    struct conv j = { 0 };
    add(&j, DIR_TO_SERVER, junk, sizeof junk);
    add(&j, DIR_TO_CLIENT, tns_accept, sizeof tns_accept);
    conv_seal(&j);
    conv_check(&detector_oracle, &fv, &j, NULL, 0);
    CHECK_EQ(conv_nfindings(), 0);
    conv_free(&j);
}

static struct flow_view heads(const uint8_t *c, size_t cn)
{
    struct flow_view fv = conv_view(6, 1521, "Unknown");
    fv.head[DIR_TO_SERVER] = guarded_copy(c, cn);
    fv.head_len[DIR_TO_SERVER] = cn;
    return fv;
}

static void test_wants(void)
{
    static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    struct flow_view fv = heads(tns_connect, sizeof tns_connect);
    CHECK(detector_oracle.wants(&fv));
    fv.server_port = 40000;             /* any port */
    CHECK(detector_oracle.wants(&fv));
    /* no descriptor in the head */
    fv = heads(tns_connect, 0x46);
    CHECK(!detector_oracle.wants(&fv));
    /* an impossible version */
    uint8_t v2[sizeof tns_connect];
    memcpy(v2, tns_connect, sizeof v2);
    v2[8] = 0x02;
    fv = heads(v2, sizeof v2);
    CHECK(!detector_oracle.wants(&fv));
    /* a data packet first, HTTP, UDP, nDPI's verdict */
    fv = heads(tns_client_setprot, sizeof tns_client_setprot);
    CHECK(!detector_oracle.wants(&fv));
    fv = heads((const uint8_t *)http, sizeof http - 1);
    CHECK(!detector_oracle.wants(&fv));
    fv = heads(tns_connect, sizeof tns_connect);
    fv.transport = 17;
    CHECK(!detector_oracle.wants(&fv));
    fv = conv_view(6, 1521, "Oracle");
    CHECK(detector_oracle.wants(&fv));
}

int main(void)
{
    RUN(test_capture);
    RUN(test_native_encryption);
    RUN(test_no_ano);
    RUN(test_long_packet);
    RUN(test_descriptor_in_data);
    RUN(test_tcps_and_refuse);
    RUN(test_garbage);
    RUN(test_wants);
    return unit_done("test_oracle");
}

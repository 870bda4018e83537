/*
 * test_pop3.c - the POP3 detector on scripted sessions, replayed whole and
 * cut at every segment size (detect_conv.h).
 */
#include "../../detectors/detector.h"
#include "unit.h"
#include "detect_conv.h"

extern const struct detector detector_pop3;

static const uint8_t client_hello[] = {
    0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x03,
};

/* USER/PASS, and a message whose body holds command-like lines. */
static void test_user_pass(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 110, "POP3");
    conv_text(&c, DIR_TO_CLIENT, "+OK POP3 server ready\r\n");
    conv_text(&c, DIR_TO_SERVER, "USER alice@example.test\r\n");
    conv_text(&c, DIR_TO_CLIENT, "+OK\r\n");
    conv_text(&c, DIR_TO_SERVER, "PASS pippozzo99\r\n");
    conv_text(&c, DIR_TO_CLIENT, "+OK 2 messages\r\n");
    conv_text(&c, DIR_TO_SERVER, "RETR 1\r\n");
    conv_text(&c, DIR_TO_CLIENT, "+OK 120 octets\r\nSubject: hi\r\n\r\nSTLS\r\n..dot\r\n.\r\n");
    conv_text(&c, DIR_TO_SERVER, "QUIT\r\n");
    conv_seal(&c);
    conv_check(&detector_pop3, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("pop3.cleartext-login", &v));
    CHECK(conv_sample(&v, "user", "alice@example.test"));
    CHECK(conv_sample(&v, "password", "chars"));
    CHECK_EQ(v.occurrences, 2);
    /* STLS inside the mail is not an offer */
    CHECK_EQ(conv_nfindings(), 1);
    conv_free(&c);
}

/* A fetched message goes through the secrets scanner: a card number in
 * the body is found, the listing lines (LIST) are not read as mail. */
static void test_retr_scanned(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 110, "POP3");
    conv_text(&c, DIR_TO_CLIENT, "+OK ready\r\n");
    conv_text(&c, DIR_TO_SERVER, "LIST\r\n");
    conv_text(&c, DIR_TO_CLIENT, "+OK\r\n1 4111111111111111\r\n.\r\n");
    conv_text(&c, DIR_TO_SERVER, "RETR 1\r\n");
    conv_text(&c, DIR_TO_CLIENT, "+OK\r\nSubject: refund\r\n\r\n"
                                 "card 5555 5555 5555 4444 exp 12/29\r\n.\r\n");
    conv_text(&c, DIR_TO_SERVER, "QUIT\r\n");
    conv_seal(&c);
    conv_check(&detector_pop3, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("pii.card-number", &v));
    CHECK_EQ(v.occurrences, 1);
    CHECK(conv_sample(&v, "mail", "(16 chars)"));
    conv_free(&c);
}

/* A client that pipelines RETR 1, LIST 1, RETR 2 (RFC 2449 PIPELINING):
 * each reply is matched to its command, both messages are scanned, the
 * one-line LIST answer is not taken for a message; a private key split
 * over lines, one of them dot-stuffed, is one key. */
static void test_pipelined(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 110, "POP3");
    conv_text(&c, DIR_TO_CLIENT, "+OK ready\r\n");
    conv_text(&c, DIR_TO_SERVER, "RETR 1\r\nLIST 1\r\nRETR 2\r\n");
    conv_text(&c, DIR_TO_CLIENT, "+OK\r\nSubject: a\r\n\r\ncard 4111 1111 1111 1111\r\n.\r\n"
                                 "+OK 1 120\r\n"
                                 "+OK\r\nSubject: b\r\n\r\n-----BEGIN RSA PRIVATE KEY-----\r\n"
                                 "..MIIEowIBAAKCAQEA\r\n-----END RSA PRIVATE KEY-----\r\n.\r\n");
    conv_text(&c, DIR_TO_SERVER, "QUIT\r\n");
    conv_text(&c, DIR_TO_CLIENT, "+OK bye\r\n");
    conv_seal(&c);
    conv_check(&detector_pop3, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("pii.card-number", &v));
    CHECK_EQ(v.occurrences, 1);
    CHECK(conv_finding("secret.private-key", &v));
    CHECK_EQ(v.occurrences, 1);
    CHECK(conv_sample(&v, "mail", "(79 chars)"));    /* the block whole, unstuffed */
    conv_free(&c);
}

/* APOP, then AUTH PLAIN on its own line, then XOAUTH2 with an initial
 * response, with STLS offered in CAPA. */
static void test_apop_auth(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 110, "POP3");
    conv_text(&c, DIR_TO_CLIENT, "+OK ready <1896.697170952@dbc.mtview.ca.us>\r\n");
    conv_text(&c, DIR_TO_SERVER, "CAPA\r\n");
    conv_text(&c, DIR_TO_CLIENT,
              "+OK Capability list follows\r\nUSER\r\nSTLS\r\nSASL PLAIN\r\n.\r\n");
    conv_text(&c, DIR_TO_SERVER, "APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n");
    conv_text(&c, DIR_TO_CLIENT, "-ERR no\r\n");
    conv_text(&c, DIR_TO_SERVER, "AUTH PLAIN\r\n");
    conv_text(&c, DIR_TO_CLIENT, "+ \r\n");
    /* "\0digital\0napier" */
    conv_text(&c, DIR_TO_SERVER, "AGRpZ2l0YWwAbmFwaWVy\r\n");
    conv_text(&c, DIR_TO_CLIENT, "-ERR authentication failed\r\n");
    /* "user=joe\x01auth=Bearer AAAA\x01\x01" */
    conv_text(&c, DIR_TO_SERVER, "AUTH XOAUTH2 dXNlcj1qb2UBYXV0aD1CZWFyZXIgQUFBQQEB\r\n");
    conv_text(&c, DIR_TO_CLIENT, "+OK Welcome.\r\n");
    conv_seal(&c);
    conv_check(&detector_pop3, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("pop3.cleartext-login", &v));
    CHECK(conv_sample(&v, "user", "mrose"));
    CHECK(conv_sample(&v, "apop-digest", "chars"));
    CHECK(conv_sample(&v, "user", "digital"));
    CHECK_EQ(v.occurrences, 6);
    CHECK(conv_finding("starttls.not-used", &v));
    CHECK(conv_sample(&v, "command", "offered STLS; client sent APOP in clear"));
    conv_free(&c);
}

/* STLS accepted, then TLS. */
static void test_stls(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 110, "POP3");
    conv_text(&c, DIR_TO_CLIENT, "+OK lavad\r\n");
    conv_text(&c, DIR_TO_SERVER, "CAPA\r\n");
    conv_text(&c, DIR_TO_CLIENT, "+OK Capabilities follow.\r\nSTLS\r\n.\r\n");
    conv_text(&c, DIR_TO_SERVER, "STLS\r\n");
    conv_text(&c, DIR_TO_CLIENT, "+OK Ready to start TLS negotiation.\r\n");
    conv_add(&c, DIR_TO_SERVER, client_hello, sizeof client_hello, false);
    conv_text(&c, DIR_TO_SERVER, "USER nobody\r\n");
    conv_seal(&c);
    conv_check(&detector_pop3, &fv, &c, NULL, 0);
    CHECK_EQ(conv_nfindings(), 0);
    conv_free(&c);
}

static void test_wants(void)
{
    struct flow_view fv = conv_view(6, 110, "Unknown");
    fv.head[DIR_TO_CLIENT] = (const uint8_t *)"+OK hi\r\n";
    fv.head_len[DIR_TO_CLIENT] = 8;
    CHECK(detector_pop3.wants(&fv));
    fv.server_port = 80;
    CHECK(!detector_pop3.wants(&fv));
    fv.protocol = "POP3";
    fv.by_dpi = true;
    CHECK(detector_pop3.wants(&fv));
}

int main(void)
{
    RUN(test_user_pass);
    RUN(test_apop_auth);
    RUN(test_retr_scanned);
    RUN(test_pipelined);
    RUN(test_stls);
    RUN(test_wants);
    return unit_done("test_pop3");
}

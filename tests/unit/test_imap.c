/*
 * test_imap.c - the IMAP detector on scripted sessions (quoted strings,
 * literals, SASL), replayed whole and cut at every segment size.
 */
#include "../../detectors/detector.h"
#include "unit.h"
#include "detect_conv.h"

extern const struct detector detector_imap;

static const uint8_t client_hello[] = {
    0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x03,
};

/* LOGIN with quoted strings, and a FETCH whose literal body holds a line
 * that looks like a LOGIN: it must not be read as one. */
static void test_login_quoted(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 143, "IMAP");
    conv_text(&c, DIR_TO_CLIENT, "* OK Microsoft Exchange IMAP4rev1 server ready\r\n");
    conv_text(&c, DIR_TO_SERVER, "a0001 LOGIN \"neulingern\" \"pa\\\"ss word\"\r\n");
    conv_text(&c, DIR_TO_CLIENT, "a0001 OK LOGIN completed.\r\n");
    conv_text(&c, DIR_TO_SERVER, "a0002 FETCH 1 BODY[]\r\n");
    conv_text(&c, DIR_TO_CLIENT, "* 1 FETCH (BODY[] {32}\r\n"
                                 "x LOGIN evil pass\r\n* CAPA STARTTLS)\r\n"
                                 "a0002 OK FETCH completed.\r\n");
    conv_seal(&c);
    conv_check(&detector_imap, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("imap.cleartext-login", &v));
    CHECK(conv_sample(&v, "user", "neulingern"));
    CHECK(conv_sample(&v, "password", "(10 chars)"));
    CHECK_EQ(v.occurrences, 2);
    CHECK_EQ(conv_nfindings(), 1);
    conv_free(&c);
}

/* LOGIN whose arguments are literals ({5} then the bytes). */
static void test_login_literals(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 143, "IMAP");
    conv_text(&c, DIR_TO_CLIENT, "* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] ready\r\n");
    conv_text(&c, DIR_TO_SERVER, "A1 LOGIN {5}\r\n");
    conv_text(&c, DIR_TO_CLIENT, "+ go ahead\r\n");
    conv_text(&c, DIR_TO_SERVER, "ma\"ry {8+}\r\nsecret99\r\n");
    conv_text(&c, DIR_TO_CLIENT, "A1 OK done\r\n");
    conv_seal(&c);
    conv_check(&detector_imap, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("imap.cleartext-login", &v));
    CHECK(conv_sample(&v, "user", "ma\"ry"));
    CHECK(conv_sample(&v, "password", "(8 chars)"));
    CHECK(conv_finding("starttls.not-used", &v));
    conv_free(&c);
}

/* AUTHENTICATE PLAIN with an initial response, then on a continuation. */
static void test_authenticate(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 143, "IMAP");
    conv_text(&c, DIR_TO_CLIENT, "* OK ready\r\n");
    /* "\0bob\0secret" */
    conv_text(&c, DIR_TO_SERVER, "1 AUTHENTICATE PLAIN AGJvYgBzZWNyZXQ=\r\n");
    conv_text(&c, DIR_TO_CLIENT, "1 NO failed\r\n");
    conv_text(&c, DIR_TO_SERVER, "2 AUTHENTICATE PLAIN\r\n");
    conv_text(&c, DIR_TO_CLIENT, "+ \r\n");
    /* "\0carol\0pw123456" */
    conv_text(&c, DIR_TO_SERVER, "AGNhcm9sAHB3MTIzNDU2\r\n");
    conv_text(&c, DIR_TO_CLIENT, "2 OK done\r\n");
    conv_text(&c, DIR_TO_SERVER, "3 SELECT INBOX\r\n");
    conv_seal(&c);
    conv_check(&detector_imap, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("imap.cleartext-login", &v));
    CHECK(conv_sample(&v, "user", "bob"));
    CHECK(conv_sample(&v, "user", "carol"));
    CHECK_EQ(v.occurrences, 4);
    conv_free(&c);
}

/* STARTTLS offered and used. */
static void test_starttls(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 143, "IMAP");
    conv_text(&c, DIR_TO_CLIENT, "* OK [CAPABILITY IMAP4rev1 STARTTLS AUTH=PLAIN] ready\r\n");
    conv_text(&c, DIR_TO_SERVER, ". CAPABILITY\r\n");
    conv_text(&c, DIR_TO_CLIENT, "* CAPABILITY IMAP4rev1 STARTTLS\r\n. OK done\r\n");
    conv_text(&c, DIR_TO_SERVER, ". STARTTLS\r\n");
    conv_text(&c, DIR_TO_CLIENT, ". OK Begin TLS negotiation now\r\n");
    conv_add(&c, DIR_TO_SERVER, client_hello, sizeof client_hello, false);
    conv_text(&c, DIR_TO_SERVER, "a LOGIN x y\r\n");
    conv_seal(&c);
    conv_check(&detector_imap, &fv, &c, NULL, 0);
    CHECK_EQ(conv_nfindings(), 0);
    conv_free(&c);
}

/* An APPEND literal that contains a LOGIN line is message data. */
static void test_append_literal(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 143, "IMAP");
    conv_text(&c, DIR_TO_SERVER, "a APPEND INBOX {25+}\r\nb LOGIN victim secret\r\n\r\n");
    conv_text(&c, DIR_TO_CLIENT, "a OK appended\r\n");
    conv_seal(&c);
    conv_check(&detector_imap, &fv, &c, NULL, 0);
    CHECK_EQ(conv_nfindings(), 0);
    conv_free(&c);
}

/* A FETCH answer's literal is a mail: an API key split across its bytes is
 * found once, the line after the literal is read as protocol again. */
static void test_fetch_scanned(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 143, "IMAP");
    static const char body[] = "Subject: keys\r\n\r\nuse AKIAIOSFODNN7EXAMPLE now\r\n";
    char line[128];
    snprintf(line, sizeof line, "* 1 FETCH (BODY[] {%zu}\r\n", sizeof body - 1);
    conv_text(&c, DIR_TO_CLIENT, "* OK IMAP4rev1 ready\r\n");
    conv_text(&c, DIR_TO_SERVER, "a1 FETCH 1 BODY[]\r\n");
    conv_text(&c, DIR_TO_CLIENT, line);
    conv_text(&c, DIR_TO_CLIENT, body);
    conv_text(&c, DIR_TO_CLIENT, ")\r\na1 OK done\r\n");
    conv_seal(&c);
    conv_check(&detector_imap, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("secret.api-key", &v));
    CHECK_EQ(v.occurrences, 1);
    CHECK(conv_sample(&v, "mail:aws-access-key-id", "(20 chars)"));
    conv_free(&c);
}

int main(void)
{
    RUN(test_login_quoted);
    RUN(test_login_literals);
    RUN(test_authenticate);
    RUN(test_starttls);
    RUN(test_append_literal);
    RUN(test_fetch_scanned);
    return unit_done("test_imap");
}

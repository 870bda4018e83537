/*
 * test_smtp.c - the SMTP detector on scripted sessions, replayed whole and
 * cut at every segment size (detect_conv.h).
 */
#include "../../detectors/detector.h"
#include "unit.h"
#include "detect_conv.h"

extern const struct detector detector_smtp;

static const uint8_t client_hello[] = {
    0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x03,
};

/* STARTTLS offered; AUTH LOGIN and a mail in clear; the message body holds
 * lines that look like commands. */
static void test_auth_login_and_mail(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 25, "SMTP");
    conv_text(&c, DIR_TO_CLIENT, "220 mx.example.test ESMTP Exim 4.69\r\n");
    conv_text(&c, DIR_TO_SERVER, "EHLO GP\r\n");
    conv_text(&c, DIR_TO_CLIENT, "250-mx.example.test Hello\r\n250-SIZE 52428800\r\n"
                                 "250-AUTH PLAIN LOGIN\r\n250-STARTTLS\r\n250 HELP\r\n");
    conv_text(&c, DIR_TO_SERVER, "AUTH LOGIN\r\n");
    conv_text(&c, DIR_TO_CLIENT, "334 VXNlcm5hbWU6\r\n");
    conv_text(&c, DIR_TO_SERVER, "Z3VycGFydGFwQHBhdHJpb3RzLmlu\r\n");  /* gurpartap@patriots.in */
    conv_text(&c, DIR_TO_CLIENT, "334 UGFzc3dvcmQ6\r\n");
    conv_text(&c, DIR_TO_SERVER, "cHVuamFiQDEyMw==\r\n");                 /* punjab@123 */
    conv_text(&c, DIR_TO_CLIENT, "235 Authentication succeeded\r\n");
    conv_text(&c, DIR_TO_SERVER, "MAIL FROM: <gurpartap@patriots.in>\r\n");
    conv_text(&c, DIR_TO_CLIENT, "250 OK\r\n");
    conv_text(&c, DIR_TO_SERVER, "RCPT TO: <raj@example.test>\r\n");
    conv_text(&c, DIR_TO_CLIENT, "250 Accepted\r\n");
    conv_text(&c, DIR_TO_SERVER, "DATA\r\n");
    conv_text(&c, DIR_TO_CLIENT, "354 Enter message\r\n");
    conv_text(&c, DIR_TO_SERVER, "Subject: test\r\n\r\nAUTH PLAIN AGEAYg==\r\nSTARTTLS\r\n.\r\n");
    conv_text(&c, DIR_TO_CLIENT, "250 OK id=1\r\n");
    conv_text(&c, DIR_TO_SERVER, "QUIT\r\n");
    conv_seal(&c);
    conv_check(&detector_smtp, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("smtp.cleartext-auth", &v));
    CHECK(conv_sample(&v, "user", "gurpartap@patriots.in"));
    CHECK(conv_sample(&v, "password", "(10 chars)"));
    CHECK_EQ(v.occurrences, 2);     /* the AUTH in the body is not read */
    /* the readable AUTH is the more specific finding: no session one */
    CHECK(!conv_finding("smtp.cleartext-session", &v));
    CHECK(conv_finding("starttls.not-used", &v));
    CHECK(conv_sample(&v, "command", "client sent AUTH in clear"));
    /* the envelope addresses go through the secrets and PII scanner */
    CHECK(conv_finding("pii.email", &v));
    CHECK_EQ(v.occurrences, 2);
    CHECK_EQ(conv_nfindings(), 3);
    conv_free(&c);
}

/* AUTH PLAIN with an initial response; BDAT chunks are passed over. */
static void test_auth_plain_bdat(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 587, "SMTP");
    conv_text(&c, DIR_TO_CLIENT, "220 smtp ESMTP\r\n");
    conv_text(&c, DIR_TO_SERVER, "EHLO x\r\n");
    conv_text(&c, DIR_TO_CLIENT, "250-smtp\r\n250 CHUNKING\r\n");
    conv_text(&c, DIR_TO_SERVER, "AUTH PLAIN AGJvYgBzZWNyZXQ=\r\n");      /* \0bob\0secret */
    conv_text(&c, DIR_TO_CLIENT, "235 ok\r\n");
    conv_text(&c, DIR_TO_SERVER, "MAIL FROM:<bob@example.test>\r\nRCPT TO:<x@example.test>\r\n");
    conv_text(&c, DIR_TO_SERVER, "BDAT 23 LAST\r\nAUTH LOGIN Zm9v\r\nQUIT\r\n");
    conv_text(&c, DIR_TO_CLIENT, "250 ok\r\n");
    conv_seal(&c);
    conv_check(&detector_smtp, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("smtp.cleartext-auth", &v));
    CHECK(conv_sample(&v, "user", "bob"));
    CHECK_EQ(v.occurrences, 2);
    CHECK(!conv_finding("smtp.cleartext-session", &v));
    CHECK(!conv_finding("starttls.not-used", &v));
    conv_free(&c);
}

/* A relay with no AUTH: the mail in clear is the finding, with its sender;
 * a card number in the body is found too. */
static void test_mail_without_auth(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 25, "SMTP");
    conv_text(&c, DIR_TO_CLIENT, "220 mx ESMTP Postfix\r\n");
    conv_text(&c, DIR_TO_SERVER, "EHLO app\r\n");
    conv_text(&c, DIR_TO_CLIENT, "250-mx\r\n250 8BITMIME\r\n");
    conv_text(&c, DIR_TO_SERVER, "MAIL FROM:<orders@shop.test>\r\n");
    conv_text(&c, DIR_TO_CLIENT, "250 ok\r\n");
    conv_text(&c, DIR_TO_SERVER, "RCPT TO:<billing@shop.test>\r\n");
    conv_text(&c, DIR_TO_CLIENT, "250 ok\r\n");
    conv_text(&c, DIR_TO_SERVER, "DATA\r\n");
    conv_text(&c, DIR_TO_CLIENT, "354 go ahead\r\n");
    conv_text(&c, DIR_TO_SERVER, "Subject: order 1042\r\n\r\ncard 4111 1111 1111 1111\r\n.\r\n");
    conv_text(&c, DIR_TO_CLIENT, "250 queued\r\n");
    conv_seal(&c);
    conv_check(&detector_smtp, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("smtp.cleartext-session", &v));
    CHECK(conv_sample(&v, "mail", "orders@shop.test"));
    CHECK(conv_finding("pii.card-number", &v));
    CHECK(!conv_finding("smtp.cleartext-auth", &v));
    conv_free(&c);
}

/* STARTTLS used: nothing in clear. */
static void test_starttls(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 25, "SMTP");
    conv_text(&c, DIR_TO_CLIENT, "220 mx ESMTP\r\n");
    conv_text(&c, DIR_TO_SERVER, "EHLO x\r\n");
    conv_text(&c, DIR_TO_CLIENT, "250-mx\r\n250 STARTTLS\r\n");
    conv_text(&c, DIR_TO_SERVER, "STARTTLS\r\n");
    conv_text(&c, DIR_TO_CLIENT, "220 2.0.0 Ready to start TLS\r\n");
    conv_add(&c, DIR_TO_SERVER, client_hello, sizeof client_hello, false);
    conv_text(&c, DIR_TO_SERVER, "AUTH PLAIN AGJvYgBzZWNyZXQ=\r\n");
    conv_seal(&c);
    conv_check(&detector_smtp, &fv, &c, NULL, 0);
    CHECK_EQ(conv_nfindings(), 0);
    conv_free(&c);
}

static void test_wants(void)
{
    struct flow_view fv = conv_view(6, 2500, "Unknown");
    fv.head[DIR_TO_CLIENT] = (const uint8_t *)"220 mail ESMTP Postfix\r\n";
    fv.head_len[DIR_TO_CLIENT] = 24;
    CHECK(detector_smtp.wants(&fv));
    fv.head[DIR_TO_CLIENT] = (const uint8_t *)"220 FTP server\r\n";
    fv.head_len[DIR_TO_CLIENT] = 16;
    CHECK(!detector_smtp.wants(&fv));
}

int main(void)
{
    RUN(test_auth_login_and_mail);
    RUN(test_auth_plain_bdat);
    RUN(test_mail_without_auth);
    RUN(test_starttls);
    RUN(test_wants);
    return unit_done("test_smtp");
}

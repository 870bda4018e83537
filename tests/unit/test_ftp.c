/*
 * test_ftp.c - the FTP detector on scripted control connections, replayed
 * whole and cut at every segment size (detect_conv.h).
 */
#include "../../detectors/detector.h"
#include "unit.h"
#include "detect_conv.h"

extern const struct detector detector_ftp;

static const uint8_t client_hello[] = {
    0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x03,
};

/* USER and PASS in clear: the user is shown, the password is not. */
static void test_login(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 21, "FTP_CONTROL");
    conv_text(&c, DIR_TO_CLIENT, "220 (vsFTPd 3.0.3)\r\n");
    conv_text(&c, DIR_TO_SERVER, "USER bob\r\n");
    conv_text(&c, DIR_TO_CLIENT, "331 Please specify the password.\r\n");
    conv_text(&c, DIR_TO_SERVER, "PASS s3cret-pass\r\n");
    conv_text(&c, DIR_TO_CLIENT, "230 Login successful.\r\n");
    conv_text(&c, DIR_TO_SERVER, "RETR file.txt\r\n");
    conv_seal(&c);
    conv_check(&detector_ftp, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("ftp.cleartext-login", &v));
    CHECK(conv_sample(&v, "user", "bob"));
    CHECK(conv_sample(&v, "password", "chars"));
    CHECK(!conv_sample(&v, "password", "s3cret"));
    CHECK_EQ(conv_nfindings(), 1);
    conv_free(&c);
}

/* FEAT lists AUTH TLS, the client logs in anyway. */
static void test_auth_tls_not_used(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 21, "FTP_CONTROL");
    conv_text(&c, DIR_TO_CLIENT, "220 ProFTPD Server\r\n");
    conv_text(&c, DIR_TO_SERVER, "FEAT\r\n");
    conv_text(&c, DIR_TO_CLIENT, "211-Features:\r\n EPSV\r\n AUTH TLS\r\n PBSZ\r\n211 End\r\n");
    conv_text(&c, DIR_TO_SERVER, "USER alice\r\nPASS wonderland\r\n");
    conv_seal(&c);
    conv_check(&detector_ftp, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("starttls.not-used", &v));
    CHECK(conv_sample(&v, "command", "FTP server offered AUTH TLS; client sent USER in clear"));
    CHECK(conv_finding("ftp.cleartext-login", &v));
    CHECK(conv_sample(&v, "user", "alice"));
    conv_free(&c);
}

/* AUTH TLS accepted, then TLS: nothing in clear to report. */
static void test_auth_tls_used(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 21, "FTP_CONTROL");
    conv_text(&c, DIR_TO_CLIENT, "220 (vsFTPd 3.0.5)\r\n");
    conv_text(&c, DIR_TO_SERVER, "FEAT\r\n");
    conv_text(&c, DIR_TO_CLIENT, "211-Features:\r\n AUTH TLS\r\n211 End\r\n");
    conv_text(&c, DIR_TO_SERVER, "AUTH TLS\r\n");
    conv_text(&c, DIR_TO_CLIENT, "234 Proceed with negotiation.\r\n");
    conv_add(&c, DIR_TO_SERVER, client_hello, sizeof client_hello, false);
    conv_text(&c, DIR_TO_SERVER, "USER looks-like-text-but-is-encrypted\r\n");
    conv_seal(&c);
    conv_check(&detector_ftp, &fv, &c, NULL, 0);
    CHECK_EQ(conv_nfindings(), 0);
    conv_free(&c);
}

/* A capture that starts after the login: the session is still in clear. */
static void test_session_without_login(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 21, "FTP_CONTROL");
    conv_text(&c, DIR_TO_SERVER, "CWD /pub\r\n");
    conv_text(&c, DIR_TO_CLIENT, "250 Directory successfully changed.\r\n");
    conv_text(&c, DIR_TO_SERVER, "RETR README\r\n");
    conv_seal(&c);
    conv_check(&detector_ftp, &fv, &c, NULL, 0);
    CHECK(conv_finding("ftp.cleartext-session", &(struct finding_view){ 0 }));
    CHECK_EQ(conv_nfindings(), 1);
    conv_free(&c);
}

/* An overlong line is cut and skipped; the next command is still read. */
static void test_long_line(void)
{
    static char line[5000];
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 21, "FTP_CONTROL");
    memset(line, 'A', sizeof line - 3);
    memcpy(line + sizeof line - 3, "\r\n", 3);
    conv_text(&c, DIR_TO_CLIENT, "220 FTP ready\r\n");
    conv_text(&c, DIR_TO_SERVER, line);
    conv_text(&c, DIR_TO_SERVER, "USER carol\r\n");
    conv_seal(&c);
    static const size_t chunks[] = { 1, 2, 3, 7, 100, 1023, 1024, 1025, 4096 };
    conv_check(&detector_ftp, &fv, &c, chunks, sizeof chunks / sizeof chunks[0]);
    struct finding_view v;
    CHECK(conv_finding("ftp.cleartext-login", &v));
    CHECK(conv_sample(&v, "user", "carol"));
    conv_free(&c);
}

static void test_wants(void)
{
    static const char banner[] = "220 Welcome to the FTP service\r\n";
    static const char smtp[] = "220 mail ESMTP Postfix\r\n";
    struct flow_view fv = conv_view(6, 2121, "Unknown");
    fv.head[DIR_TO_CLIENT] = (const uint8_t *)banner;
    fv.head_len[DIR_TO_CLIENT] = sizeof banner - 1;
    CHECK(detector_ftp.wants(&fv));
    fv.head[DIR_TO_CLIENT] = (const uint8_t *)smtp;
    fv.head_len[DIR_TO_CLIENT] = sizeof smtp - 1;
    CHECK(!detector_ftp.wants(&fv));
    fv.server_port = 21;
    fv.head[DIR_TO_CLIENT] = (const uint8_t *)"220 x\r\n";
    fv.head_len[DIR_TO_CLIENT] = 7;
    CHECK(detector_ftp.wants(&fv));
}

int main(void)
{
    RUN(test_login);
    RUN(test_auth_tls_not_used);
    RUN(test_auth_tls_used);
    RUN(test_session_without_login);
    RUN(test_long_line);
    RUN(test_wants);
    return unit_done("test_ftp");
}

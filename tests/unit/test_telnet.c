/*
 * test_telnet.c - the Telnet detector: option negotiation, character-mode
 * typing with echo, linemode, NEW-ENVIRON, replayed whole and cut at every
 * segment size (detect_conv.h).
 */
#include "../../detectors/detector.h"
#include "unit.h"
#include "detect_conv.h"

extern const struct detector detector_telnet;

/* IAC DO TERMINAL-TYPE, IAC WILL ECHO, IAC SB TERMINAL-TYPE SEND IAC SE */
static const uint8_t srv_neg[] = { 0xff, 0xfd, 0x18, 0xff, 0xfb, 0x01,
                                   0xff, 0xfa, 0x18, 0x01, 0xff, 0xf0 };
/* IAC WILL TERMINAL-TYPE, IAC SB TERMINAL-TYPE IS "xterm" IAC SE */
static const uint8_t cli_neg[] = { 0xff, 0xfb, 0x18, 0xff, 0xfa, 0x18, 0x00,
                                   'x', 't', 'e', 'r', 'm', 0xff, 0xf0 };

/* Character mode: one byte per segment, echoed by the server, a typo
 * corrected with backspace. */
static void test_char_mode(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 23, "Telnet");
    conv_add(&c, DIR_TO_CLIENT, srv_neg, sizeof srv_neg, false);
    conv_add(&c, DIR_TO_SERVER, cli_neg, sizeof cli_neg, false);
    conv_text(&c, DIR_TO_CLIENT, "\r\nOpenBSD/i386 (oof) (ttyp2)\r\n\r\nlogin: ");
    static const char typed[] = "fakx\x7f" "e\r";
    for (size_t i = 0; typed[i] != '\0'; i++) {
        conv_add(&c, DIR_TO_SERVER, typed + i, 1, false);
        if (typed[i] != '\r')
            conv_add(&c, DIR_TO_CLIENT, typed + i, 1, false);   /* echo */
    }
    conv_text(&c, DIR_TO_CLIENT, "\r\nPassword:");
    conv_text(&c, DIR_TO_SERVER, "us3r-pw\r\n");
    conv_text(&c, DIR_TO_CLIENT, "\r\nLast login: Sat Nov 27\r\n$ ");
    conv_text(&c, DIR_TO_SERVER, "ls -l\r\n");
    conv_seal(&c);
    conv_check(&detector_telnet, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("telnet.cleartext-session", &v));
    CHECK(conv_sample(&v, "user", "fake"));
    CHECK(conv_sample(&v, "password", "(7 chars)"));
    CHECK_EQ(v.occurrences, 2);
    conv_free(&c);
}

/* After the login: a command typed with a token in it, and a file shown by
 * the server with a key split by a Telnet command (IAC NOP): both found;
 * the password line is not scanned. */
static void test_session_scanned(void)
{
    static const uint8_t nop[] = { 0xff, 0xf1 };   /* IAC NOP inside the output */
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 23, "Telnet");
    conv_add(&c, DIR_TO_CLIENT, srv_neg, sizeof srv_neg, false);
    conv_text(&c, DIR_TO_CLIENT, "login: ");
    conv_text(&c, DIR_TO_SERVER, "ops\r\n");
    conv_text(&c, DIR_TO_CLIENT, "Password: ");
    conv_text(&c, DIR_TO_SERVER, "4111111111111111\r\n");
    conv_text(&c, DIR_TO_CLIENT, "\r\n$ ");
    conv_text(&c, DIR_TO_SERVER, "curl -H 'Authorization: Bearer "
                                 "ghp_abcdefghijklmnopqrstuvwxyz0123456789'\r\n");
    conv_text(&c, DIR_TO_CLIENT, "$ cat key\r\nAKIAIOSF");
    conv_add(&c, DIR_TO_CLIENT, nop, sizeof nop, false);
    conv_text(&c, DIR_TO_CLIENT, "ODNN7EXAMPLE\r\n$ ");
    conv_seal(&c);
    conv_check(&detector_telnet, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("secret.api-key", &v));
    CHECK_EQ(v.occurrences, 2);
    CHECK(conv_sample(&v, "typed:github-token", "(40 chars)"));
    CHECK(conv_sample(&v, "shown:aws-access-key-id", "(20 chars)"));
    /* the password was a card-like number: reported as the password only */
    CHECK(!conv_finding("pii.card-number", &v));
    conv_free(&c);
}

/* The login name sent in NEW-ENVIRON (RFC 1572): IAC SB 39 IS VAR "USER"
 * VALUE "root" IAC SE. */
static void test_environ(void)
{
    static const uint8_t env[] = { 0xff, 0xfa, 39, 0, 0, 'U', 'S', 'E', 'R', 1, 'r', 'o', 'o', 't',
                                   0, 'D', 'I', 'S', 'P', 'L', 'A', 'Y', 1, 'x', ':', '0',
                                   0xff, 0xf0 };
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 23, "Telnet");
    conv_add(&c, DIR_TO_CLIENT, srv_neg, sizeof srv_neg, false);
    conv_add(&c, DIR_TO_SERVER, env, sizeof env, false);
    conv_text(&c, DIR_TO_CLIENT, "Password: ");
    conv_seal(&c);
    conv_check(&detector_telnet, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("telnet.cleartext-session", &v));
    CHECK(conv_sample(&v, "user", "root"));
    CHECK_EQ(v.occurrences, 1);
    conv_free(&c);
}

/* Negotiation and output but no login seen: still a session in clear. */
static void test_session_only(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 23, "Unknown");
    conv_add(&c, DIR_TO_CLIENT, srv_neg, sizeof srv_neg, false);
    conv_text(&c, DIR_TO_CLIENT, "router> ");
    conv_text(&c, DIR_TO_SERVER, "show version\r\n");
    conv_seal(&c);
    conv_check(&detector_telnet, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("telnet.cleartext-session", &v));
    CHECK(conv_sample(&v, "session", ""));
    conv_free(&c);
}

/* IAC IAC is a data byte; a SB without end does not run away. */
static void test_iac_edge(void)
{
    static const uint8_t odd[] = {
        'l', 'o', 'g', 'i', 'n', ':', ' ', 0xff, 0xff, 0xff, 0xfa, 0x01,
    };
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 23, "Telnet");
    conv_add(&c, DIR_TO_CLIENT, odd, sizeof odd, false);
    conv_text(&c, DIR_TO_SERVER, "bob\r\n");
    conv_seal(&c);
    conv_check(&detector_telnet, &fv, &c, NULL, 0);
    CHECK_EQ(conv_nfindings(), 1);
    conv_free(&c);
}

static void test_wants(void)
{
    struct flow_view fv = conv_view(6, 2323, "Unknown");
    fv.head[DIR_TO_CLIENT] = srv_neg;
    fv.head_len[DIR_TO_CLIENT] = sizeof srv_neg;
    CHECK(detector_telnet.wants(&fv));
    fv.head[DIR_TO_CLIENT] = (const uint8_t *)"SSH-2.0-x\r\n";
    fv.head_len[DIR_TO_CLIENT] = 11;
    CHECK(!detector_telnet.wants(&fv));
}

int main(void)
{
    RUN(test_char_mode);
    RUN(test_environ);
    RUN(test_session_scanned);
    RUN(test_session_only);
    RUN(test_iac_edge);
    RUN(test_wants);
    return unit_done("test_telnet");
}

/*
 * test_rsh.c - the rsh/rlogin/rexec detector on the logins of the ndpi
 * rsh.pcap capture and on crafted rexec and rlogin sessions, replayed
 * whole and cut at every segment size (detect_conv.h).
 */
#include "../../detectors/detector.h"
#include "unit.h"
#include "detect_conv.h"

extern const struct detector detector_rsh;

/* The capture's second flow: stderr port "1021", client user "lns",
 * server user "someuser", the command; the server refuses with status 1
 * and a message. */
static const uint8_t rsh_port[] = { '1', '0', '2', '1', 0x00 };
static const uint8_t rsh_login[] = {
    'l', 'n', 's', 0x00, 's', 'o', 'm', 'e', 'u', 's', 'e', 'r', 0x00,
    's', 'o', 'm', 'e', ' ', 'r', 'a', 'n', 'd', 'o', 'm', ' ',
    'c', 'o', 'm', 'm', 'a', 'n', 'd', 0x00,
};
static const uint8_t rsh_refused[] = {
    0x01, 'L', 'o', 'g', 'i', 'n', ' ', 'i', 'n', 'c', 'o', 'r', 'r', 'e', 'c', 't', '.', '\n',
};

static void add(struct conv *c, enum dir d, const uint8_t *p, size_t n)
{
    conv_add(c, d, p, n, false);
}

/* rsh: both user names and the command, in one evidence sample. */
static void test_rsh_capture(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 514, "Unknown");
    add(&c, DIR_TO_SERVER, rsh_port, sizeof rsh_port);
    add(&c, DIR_TO_SERVER, rsh_login, sizeof rsh_login);
    add(&c, DIR_TO_CLIENT, rsh_refused, sizeof rsh_refused);
    conv_seal(&c);
    conv_check(&detector_rsh, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("rsh.cleartext-login", &v));
    CHECK(conv_sample(&v, "rsh", "client_user=lns server_user=someuser "
                                 "command=some random command"));
    CHECK_EQ(v.occurrences, 1);
    CHECK_EQ(v.rule->severity, SEV_CRITICAL);
    CHECK_EQ(conv_nfindings(), 1);
    conv_free(&c);
}

/* rexec: the password travels as a field; it is masked. */
static void test_rexec(void)
{
    static const char login[] = "0\0bob\0hunter2-rexec\0ls -l /etc\0";
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 512, "Unknown");
    conv_add(&c, DIR_TO_SERVER, login, sizeof login - 1, false);
    conv_add(&c, DIR_TO_CLIENT, "\0total 4\n", 9, false);
    conv_seal(&c);
    conv_check(&detector_rsh, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("rsh.cleartext-login", &v));
    CHECK(conv_sample(&v, "rexec", "user=bob command=ls -l /etc"));
    CHECK(!conv_sample(&v, "rexec", "hunter2"));
    CHECK(conv_sample(&v, "password", "chars"));
    CHECK(!conv_sample(&v, "password", "hunter2"));
    CHECK_EQ(v.distinct_secrets, 1);
    conv_free(&c);
}

/* rlogin without trust: the server prompts, the user types the password
 * (with a typo corrected by backspace); the session output is scanned. */
static void test_rlogin_password(void)
{
    static const char login[] = "\0lns\0root\0xterm/38400\0";
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 513, "Unknown");
    conv_add(&c, DIR_TO_SERVER, login, sizeof login - 1, false);
    conv_add(&c, DIR_TO_CLIENT, "\0", 1, false);
    conv_text(&c, DIR_TO_CLIENT, "Pass");
    conv_text(&c, DIR_TO_CLIENT, "word: ");
    conv_text(&c, DIR_TO_SERVER, "rl");
    conv_text(&c, DIR_TO_SERVER, "ogin-pw\x7f\x7fpw\r");
    conv_text(&c, DIR_TO_CLIENT, "\r\nLast login: today\r\n# ");
    conv_text(&c, DIR_TO_SERVER, "echo 4111111111111111\r");
    conv_seal(&c);
    conv_check(&detector_rsh, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("rsh.cleartext-login", &v));
    CHECK(conv_sample(&v, "rlogin", "client_user=lns server_user=root terminal=xterm/38400"));
    CHECK(conv_sample(&v, "password", "(9 chars)"));    /* "rlogin-pw" */
    CHECK(conv_finding("pii.card-number", &v));
    conv_free(&c);
}

/* rlogin's window size messages (RFC 1282: FF FF 's' 's', rows, columns,
 * x and y pixels, 16 bits each) go to the server whenever the terminal
 * asks, here right after the prompt and again in the middle of the
 * password: they are not typed text, and their NUL bytes must not end the
 * line.  Then a typed 0xff that opens no window message stays text. */
static void test_rlogin_window(void)
{
    static const char login[] = "\0lns\0root\0xterm/38400\0";
    /* 24 rows, 80 columns, no pixel sizes */
    static const uint8_t win[] = { 0xff, 0xff, 's', 's', 0x00, 0x18, 0x00, 0x50,
                                   0x00, 0x00, 0x00, 0x00 };
    /* a password with 0xff bytes that open no window message: 12 bytes */
    static const uint8_t stray[] = { 0xff, 's', 'e', 'c', 'r', 'e', 't', 0xff, 0xff, 'x',
                                     'y', 'z', '\r' };
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 513, "Unknown");
    conv_add(&c, DIR_TO_SERVER, login, sizeof login - 1, false);
    conv_add(&c, DIR_TO_CLIENT, "\0\x80", 2, false);
    conv_text(&c, DIR_TO_CLIENT, "Password: ");
    conv_add(&c, DIR_TO_SERVER, win, sizeof win, false);
    conv_text(&c, DIR_TO_SERVER, "rlog");
    conv_add(&c, DIR_TO_SERVER, win, sizeof win, false);
    conv_text(&c, DIR_TO_SERVER, "in-pw\r");
    conv_text(&c, DIR_TO_CLIENT, "\r\n$ ");
    conv_text(&c, DIR_TO_CLIENT, "Password: ");
    conv_add(&c, DIR_TO_SERVER, stray, sizeof stray, false);
    conv_seal(&c);
    conv_check(&detector_rsh, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("rsh.cleartext-login", &v));
    CHECK(conv_sample(&v, "password", "(9 chars)"));    /* "rlogin-pw" */
    CHECK(conv_sample(&v, "password", "(12 chars)"));   /* the stray 0xff bytes kept */
    CHECK_EQ(v.distinct_secrets, 2);
    conv_free(&c);

    /* a typed 0xff right before a window message: FF FF FF 's' 's' ... */
    static const uint8_t typed_ff[] = { 'p', 'w', 0xff };
    struct conv t = { 0 };
    conv_add(&t, DIR_TO_SERVER, login, sizeof login - 1, false);
    conv_add(&t, DIR_TO_CLIENT, "\0", 1, false);
    conv_text(&t, DIR_TO_CLIENT, "Password: ");
    conv_add(&t, DIR_TO_SERVER, typed_ff, sizeof typed_ff, false);
    conv_add(&t, DIR_TO_SERVER, win, sizeof win, false);
    conv_text(&t, DIR_TO_SERVER, "-rlogin\r");
    conv_seal(&t);
    conv_check(&detector_rsh, &fv, &t, NULL, 0);
    CHECK(conv_finding("rsh.cleartext-login", &v));
    CHECK(conv_sample(&v, "password", "(10 chars)"));   /* "pw\xff-rlogin" */
    CHECK_EQ(v.distinct_secrets, 1);
    conv_free(&t);
}

/* A command longer than what is kept: the evidence holds its start. */
static void test_long_command(void)
{
    static uint8_t login[4 + 2 + 5 + 3000 + 1];
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 514, "Unknown");
    memcpy(login, "988\0me\0root\0", 12);
    memset(login + 12, 'x', sizeof login - 13);
    login[sizeof login - 1] = 0;
    add(&c, DIR_TO_SERVER, login, sizeof login);
    conv_seal(&c);
    static const size_t chunks[] = { 1, 2, 3, 5, 13, 97, 1000, 2999, 3001 };
    conv_check(&detector_rsh, &fv, &c, chunks, sizeof chunks / sizeof chunks[0]);
    struct finding_view v;
    CHECK(conv_finding("rsh.cleartext-login", &v));
    CHECK(conv_sample(&v, "rsh", "client_user=me server_user=root command=xxxx"));
    CHECK(conv_sample(&v, "rsh", "xxx..."));
    conv_free(&c);
}

/* Syslog over TCP 514, a server that speaks first, a user name with a
 * space: not a remote-command login, nothing fires. */
static void test_garbage(void)
{
    struct flow_view fv = conv_view(6, 514, "Unknown");
    struct conv s = { 0 };
    conv_text(&s, DIR_TO_SERVER, "<13>Nov 29 18:00:00 host app: message\n");
    conv_seal(&s);
    conv_check(&detector_rsh, &fv, &s, NULL, 0);
    CHECK_EQ(conv_nfindings(), 0);
    conv_free(&s);

    struct conv f = { 0 };
    conv_add(&f, DIR_TO_SERVER, "1022\0", 5, false);
    conv_text(&f, DIR_TO_CLIENT, "SSH-2.0-OpenSSH_9.2\r\n");
    conv_add(&f, DIR_TO_SERVER, "lns\0root\0ls\0", 12, false);
    conv_seal(&f);
    conv_check(&detector_rsh, &fv, &f, NULL, 0);
    CHECK_EQ(conv_nfindings(), 0);
    conv_free(&f);

    struct conv u = { 0 };
    conv_add(&u, DIR_TO_SERVER, "1022\0a b\0root\0ls\0", 17, false);
    conv_seal(&u);
    conv_check(&detector_rsh, &fv, &u, NULL, 0);
    CHECK_EQ(conv_nfindings(), 0);
    conv_free(&u);
}

static struct flow_view heads(uint16_t port, const void *c, size_t cn, const void *s,
                              size_t sn)
{
    struct flow_view fv = conv_view(6, port, "Unknown");
    fv.head[DIR_TO_SERVER] = cn > 0 ? guarded_copy(c, cn) : NULL;
    fv.head_len[DIR_TO_SERVER] = cn;
    fv.head[DIR_TO_CLIENT] = sn > 0 ? guarded_copy(s, sn) : NULL;
    fv.head_len[DIR_TO_CLIENT] = sn;
    return fv;
}

static void test_wants(void)
{
    static const char rlogin[] = "\0lns\0root\0xterm/38400\0";
    static const char rshfull[] = "1022\0lns\0root\0mkdir testdir\0";
    struct flow_view fv;
    /* the stderr port alone is enough on the rsh and rexec ports */
    fv = heads(514, "1022", 5, NULL, 0);
    CHECK(detector_rsh.wants(&fv));
    fv = heads(512, rshfull, sizeof rshfull - 1, "\0", 1);
    CHECK(detector_rsh.wants(&fv));
    fv = heads(513, "\0", 1, NULL, 0);
    CHECK(detector_rsh.wants(&fv));
    /* elsewhere only a whole rlogin opening */
    fv = heads(2513, rlogin, sizeof rlogin - 1, NULL, 0);
    CHECK(detector_rsh.wants(&fv));
    fv = heads(2514, rshfull, sizeof rshfull - 1, NULL, 0);
    CHECK(!detector_rsh.wants(&fv));
    fv = heads(2513, "\0lns\0root\0xterm\0", 16, NULL, 0);
    CHECK(!detector_rsh.wants(&fv));
    /* syslog, a digit run without NUL, a server that spoke first, UDP */
    fv = heads(514, "<13>Nov 29 message\n", 19, NULL, 0);
    CHECK(!detector_rsh.wants(&fv));
    fv = heads(514, "123456\0", 7, NULL, 0);
    CHECK(!detector_rsh.wants(&fv));
    fv = heads(514, "1022", 5, "SSH-2.0", 7);
    CHECK(!detector_rsh.wants(&fv));
    fv = heads(514, "1022", 5, NULL, 0);
    fv.transport = 17;
    CHECK(!detector_rsh.wants(&fv));
}

int main(void)
{
    RUN(test_rsh_capture);
    RUN(test_rexec);
    RUN(test_rlogin_password);
    RUN(test_rlogin_window);
    RUN(test_long_command);
    RUN(test_garbage);
    RUN(test_wants);
    return unit_done("test_rsh");
}

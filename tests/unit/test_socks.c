/*
 * test_socks.c - the SOCKS detector on handshakes taken from the arkime
 * socks-http-pass.pcap capture (curl through a SOCKS5 proxy with
 * username/password authentication) and on crafted SOCKS4 requests,
 * replayed whole and cut at every segment size (detect_conv.h).
 */
#include "../../detectors/detector.h"
#include "unit.h"
#include "detect_conv.h"

extern const struct detector detector_socks;

/* greeting: VER 5, 3 methods: none, GSS-API, username/password */
static const uint8_t greeting[] = { 0x05, 0x03, 0x00, 0x01, 0x02 };
/* the server picks method 2, username/password */
static const uint8_t pick_userpass[] = { 0x05, 0x02 };
/* RFC 1929: VER 1, ULEN 8 "testuser", PLEN 8 "testuser" */
static const uint8_t auth_ok[] = {
    0x01, 0x08, 't', 'e', 's', 't', 'u', 's', 'e', 'r',
    0x08, 't', 'e', 's', 't', 'u', 's', 'e', 'r',
};
/* the same with the password "testpass", which the server refused */
static const uint8_t auth_bad[] = {
    0x01, 0x08, 't', 'e', 's', 't', 'u', 's', 'e', 'r',
    0x08, 't', 'e', 's', 't', 'p', 'a', 's', 's',
};
static const uint8_t status_ok[] = { 0x01, 0x00 };
static const uint8_t status_refused[] = { 0x01, 0xff };
/* CONNECT 93.184.216.119 port 80 */
static const uint8_t request[] = { 0x05, 0x01, 0x00, 0x01, 0x5d, 0xb8, 0xd8, 0x77, 0x00, 0x50 };
/* succeeded, bound 10.180.156.249:33214 */
static const uint8_t reply[] = { 0x05, 0x00, 0x00, 0x01, 0x0a, 0xb4, 0x9c, 0xf9, 0x81, 0xbe };

/* SOCKS4 CONNECT to 10.0.0.1:80 as user id "alice" */
static const uint8_t s4_request[] = {
    0x04, 0x01, 0x00, 0x50, 0x0a, 0x00, 0x00, 0x01, 'a', 'l', 'i', 'c', 'e', 0x00,
};
/* SOCKS4a: DSTIP 0.0.0.1, user id "bob", host "example.com" */
static const uint8_t s4a_request[] = {
    0x04, 0x01, 0x01, 0xbb, 0x00, 0x00, 0x00, 0x01, 'b', 'o', 'b', 0x00,
    'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm', 0x00,
};
/* granted (90) */
static const uint8_t s4_reply[] = { 0x00, 0x5a, 0x00, 0x50, 0x0a, 0x00, 0x00, 0x01 };

static void add(struct conv *c, enum dir d, const uint8_t *p, size_t n)
{
    conv_add(c, d, p, n, false);
}

/* The capture's successful session: the user is shown, the password is
 * masked and fingerprinted; the HTTP inside is not this detector's. */
static void test_userpass(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 1080, "Unknown");
    add(&c, DIR_TO_SERVER, greeting, sizeof greeting);
    add(&c, DIR_TO_CLIENT, pick_userpass, sizeof pick_userpass);
    add(&c, DIR_TO_SERVER, auth_ok, sizeof auth_ok);
    add(&c, DIR_TO_CLIENT, status_ok, sizeof status_ok);
    add(&c, DIR_TO_SERVER, request, sizeof request);
    add(&c, DIR_TO_CLIENT, reply, sizeof reply);
    conv_text(&c, DIR_TO_SERVER, "GET / HTTP/1.1\r\nAuthorization: Basic dXNlcjpwYXNz\r\n\r\n");
    conv_seal(&c);
    conv_check(&detector_socks, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("socks.cleartext-auth", &v));
    CHECK(conv_sample(&v, "user", "testuser"));
    CHECK(conv_sample(&v, "password", "chars"));
    CHECK(!conv_sample(&v, "password", "testuser"));
    CHECK_EQ(v.occurrences, 2);
    CHECK_EQ(v.rule->severity, SEV_CRITICAL);
    CHECK_EQ(conv_nfindings(), 1);
    conv_free(&c);
}

/* A refused password is still a password on the wire. */
static void test_refused_password(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 1080, "Unknown");
    add(&c, DIR_TO_SERVER, greeting, sizeof greeting);
    add(&c, DIR_TO_CLIENT, pick_userpass, sizeof pick_userpass);
    add(&c, DIR_TO_SERVER, auth_bad, sizeof auth_bad);
    add(&c, DIR_TO_CLIENT, status_refused, sizeof status_refused);
    conv_seal(&c);
    conv_check(&detector_socks, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("socks.cleartext-auth", &v));
    CHECK(conv_sample(&v, "user", "testuser"));
    CHECK_EQ(v.distinct_secrets, 1);
    conv_free(&c);
}

/* A client that sends greeting, credentials and request at once, before
 * any answer: read the same. */
static void test_pipelined(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 1080, "Unknown");
    conv_add(&c, DIR_TO_SERVER, greeting, sizeof greeting, true);
    conv_add(&c, DIR_TO_SERVER, auth_ok, sizeof auth_ok, true);
    conv_add(&c, DIR_TO_SERVER, request, sizeof request, true);
    add(&c, DIR_TO_CLIENT, pick_userpass, sizeof pick_userpass);
    conv_add(&c, DIR_TO_CLIENT, status_ok, sizeof status_ok, true);
    conv_add(&c, DIR_TO_CLIENT, reply, sizeof reply, true);
    conv_seal(&c);
    conv_check(&detector_socks, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("socks.cleartext-auth", &v));
    CHECK(conv_sample(&v, "user", "testuser"));
    CHECK_EQ(conv_nfindings(), 1);
    conv_free(&c);
}

/* SOCKS4 and SOCKS4a: the user id is what the proxy authorises on. */
static void test_socks4(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 1080, "Unknown");
    add(&c, DIR_TO_SERVER, s4_request, sizeof s4_request);
    add(&c, DIR_TO_CLIENT, s4_reply, sizeof s4_reply);
    conv_text(&c, DIR_TO_SERVER, "GET / HTTP/1.0\r\n\r\n");
    conv_seal(&c);
    conv_check(&detector_socks, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("socks.cleartext-auth", &v));
    CHECK(conv_sample(&v, "userid", "alice"));
    CHECK_EQ(v.occurrences, 1);
    conv_free(&c);

    struct conv c4a = { 0 };
    add(&c4a, DIR_TO_SERVER, s4a_request, sizeof s4a_request);
    add(&c4a, DIR_TO_CLIENT, s4_reply, sizeof s4_reply);
    conv_seal(&c4a);
    conv_check(&detector_socks, &fv, &c4a, NULL, 0);
    CHECK(conv_finding("socks.cleartext-auth", &v));
    CHECK(conv_sample(&v, "userid", "bob"));
    CHECK(!conv_sample(&v, "userid", "example"));
    conv_free(&c4a);
}

/* No authentication, or no acceptable method (the capture's first flow):
 * nothing to report. */
static void test_no_auth(void)
{
    static const uint8_t greet_none[] = { 0x05, 0x02, 0x00, 0x01 };
    static const uint8_t pick_none[] = { 0x05, 0x00 };
    static const uint8_t refused[] = { 0x05, 0xff };
    static const uint8_t s4_anon[] = { 0x04, 0x01, 0x00, 0x50, 0x0a, 0x00, 0x00, 0x01, 0x00 };
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 1080, "Unknown");
    add(&c, DIR_TO_SERVER, greet_none, sizeof greet_none);
    add(&c, DIR_TO_CLIENT, pick_none, sizeof pick_none);
    add(&c, DIR_TO_SERVER, request, sizeof request);
    add(&c, DIR_TO_CLIENT, reply, sizeof reply);
    conv_seal(&c);
    conv_check(&detector_socks, &fv, &c, NULL, 0);
    CHECK_EQ(conv_nfindings(), 0);
    conv_free(&c);

    struct conv r = { 0 };
    add(&r, DIR_TO_SERVER, greet_none, sizeof greet_none);
    add(&r, DIR_TO_CLIENT, refused, sizeof refused);
    conv_seal(&r);
    conv_check(&detector_socks, &fv, &r, NULL, 0);
    CHECK_EQ(conv_nfindings(), 0);
    conv_free(&r);

    struct conv a = { 0 };
    add(&a, DIR_TO_SERVER, s4_anon, sizeof s4_anon);
    add(&a, DIR_TO_CLIENT, s4_reply, sizeof s4_reply);
    conv_seal(&a);
    conv_check(&detector_socks, &fv, &a, NULL, 0);
    CHECK_EQ(conv_nfindings(), 0);
    conv_free(&a);
}

/* GSS-API chosen: its messages follow, the detector leaves. */
static void test_gssapi(void)
{
    static const uint8_t pick_gss[] = { 0x05, 0x01 };
    /* RFC 1961 token: VER 1, MTYP 1, length, token (bytes that start with 01) */
    static const uint8_t gss_token[] = { 0x01, 0x01, 0x00, 0x04, 0x60, 0x02, 0x06, 0x00 };
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 1080, "Unknown");
    add(&c, DIR_TO_SERVER, greeting, sizeof greeting);
    add(&c, DIR_TO_CLIENT, pick_gss, sizeof pick_gss);
    add(&c, DIR_TO_SERVER, gss_token, sizeof gss_token);
    conv_seal(&c);
    conv_check(&detector_socks, &fv, &c, NULL, 0);
    CHECK_EQ(conv_nfindings(), 0);
    conv_free(&c);
}

/* Bytes that are not SOCKS: the detector stops, nothing fires. */
static void test_garbage(void)
{
    static const uint8_t junk5[] = { 0x05, 0x02, 0xff, 0x41, 0x01, 0x04, 't', 'e', 's', 't' };
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 1080, "SOCKS");
    add(&c, DIR_TO_SERVER, junk5, sizeof junk5);
    conv_text(&c, DIR_TO_CLIENT, "HTTP/1.1 400 Bad Request\r\n\r\n");
    conv_text(&c, DIR_TO_SERVER, "\x01\x04userpass");
    conv_seal(&c);
    conv_check(&detector_socks, &fv, &c, NULL, 0);
    CHECK_EQ(conv_nfindings(), 0);
    conv_free(&c);

    struct conv t = { 0 };
    conv_text(&t, DIR_TO_SERVER, "\x04\x09 not socks at all, just text\r\n");
    conv_seal(&t);
    conv_check(&detector_socks, &fv, &t, NULL, 0);
    CHECK_EQ(conv_nfindings(), 0);
    conv_free(&t);
}

static struct flow_view heads(uint16_t port, const uint8_t *c, size_t cn, const uint8_t *s,
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
    static const uint8_t bad_pick[] = { 0x05, 0x07 };
    static const uint8_t greet_trail[] = { 0x05, 0x01, 0x00, 'G', 'E', 'T' };
    static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    struct flow_view fv;
    /* a greeting the server answers, on any port */
    fv = heads(8888, greeting, sizeof greeting, pick_userpass, sizeof pick_userpass);
    CHECK(detector_socks.wants(&fv));
    /* the whole pipelined handshake in the head */
    uint8_t all[sizeof greeting + sizeof auth_ok];
    memcpy(all, greeting, sizeof greeting);
    memcpy(all + sizeof greeting, auth_ok, sizeof auth_ok);
    fv = heads(8888, all, sizeof all, pick_userpass, sizeof pick_userpass);
    CHECK(detector_socks.wants(&fv));
    /* the server picks a method the client did not offer */
    fv = heads(8888, greeting, sizeof greeting, bad_pick, sizeof bad_pick);
    CHECK(!detector_socks.wants(&fv));
    /* no answer: only on the SOCKS port */
    fv = heads(8888, greeting, sizeof greeting, NULL, 0);
    CHECK(!detector_socks.wants(&fv));
    fv = heads(1080, greeting, sizeof greeting, NULL, 0);
    CHECK(detector_socks.wants(&fv));
    /* bytes after the greeting that are neither credentials nor request */
    fv = heads(1080, greet_trail, sizeof greet_trail, NULL, 0);
    CHECK(!detector_socks.wants(&fv));
    /* SOCKS4 with its reply */
    fv = heads(3128, s4_request, sizeof s4_request, s4_reply, sizeof s4_reply);
    CHECK(detector_socks.wants(&fv));
    fv = heads(3128, s4_request, sizeof s4_request, (const uint8_t *)"HTTP", 4);
    CHECK(!detector_socks.wants(&fv));
    /* HTTP, UDP, and nDPI's verdict */
    fv = heads(1080, (const uint8_t *)http, sizeof http - 1, NULL, 0);
    CHECK(!detector_socks.wants(&fv));
    fv = heads(1080, greeting, sizeof greeting, pick_userpass, sizeof pick_userpass);
    fv.transport = 17;
    CHECK(!detector_socks.wants(&fv));
    fv = conv_view(6, 1080, "SOCKS");
    CHECK(detector_socks.wants(&fv));
}

int main(void)
{
    RUN(test_userpass);
    RUN(test_refused_password);
    RUN(test_pipelined);
    RUN(test_socks4);
    RUN(test_no_auth);
    RUN(test_gssapi);
    RUN(test_garbage);
    RUN(test_wants);
    return unit_done("test_socks");
}

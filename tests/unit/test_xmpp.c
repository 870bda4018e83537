/*
 * test_xmpp.c - the XMPP detector on scripted streams (RFC 6120), replayed
 * whole and cut at every segment size (detect_conv.h).
 */
#include "../../detectors/detector.h"
#include "unit.h"
#include "detect_conv.h"

extern const struct detector detector_xmpp;

static const char stream_c[] =
    "<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' "
    "xmlns='jabber:client' to='example.test' version='1.0'>";
static const char stream_s[] =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' id='1' from='example.test' version='1.0'>";
static const char features[] =
    "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
    "<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism>"
    "</mechanisms></stream:features>";

/* STARTTLS offered, SASL PLAIN in clear. */
static void test_auth_in_clear(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 5222, "Unknown");
    conv_text(&c, DIR_TO_SERVER, stream_c);
    conv_text(&c, DIR_TO_CLIENT, stream_s);
    conv_text(&c, DIR_TO_CLIENT, features);
    /* "\0juliet\0r0m30myr0m30" */
    conv_text(&c, DIR_TO_SERVER, "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
                                 "mechanism=\"PLAIN\">AGp1bGlldAByMG0zMG15cjBtMzA=</auth>");
    conv_text(&c, DIR_TO_CLIENT, "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    conv_seal(&c);
    conv_check(&detector_xmpp, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("xmpp.cleartext-auth", &v));
    CHECK(conv_sample(&v, "user", "juliet"));
    CHECK(conv_sample(&v, "password", "(12 chars)"));
    CHECK(conv_finding("starttls.not-used", &v));
    conv_free(&c);
}

/* STARTTLS used: <starttls/>, <proceed/>, then TLS. */
static void test_starttls(void)
{
    static const uint8_t hello[] = { 0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x03 };
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 5222, "Jabber");
    conv_text(&c, DIR_TO_SERVER, stream_c);
    conv_text(&c, DIR_TO_CLIENT, stream_s);
    conv_text(&c, DIR_TO_CLIENT, features);
    conv_text(&c, DIR_TO_SERVER, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    conv_text(&c, DIR_TO_CLIENT, "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    conv_add(&c, DIR_TO_SERVER, hello, sizeof hello, false);
    conv_text(&c, DIR_TO_SERVER, "<auth mechanism='PLAIN'>AGp1bGlldAByMG0zMG15cjBtMzA=</auth>");
    conv_seal(&c);
    conv_check(&detector_xmpp, &fv, &c, NULL, 0);
    CHECK_EQ(conv_nfindings(), 0);
    conv_free(&c);
}

static void test_wants(void)
{
    struct flow_view fv = conv_view(6, 5222, "Unknown");
    fv.head[DIR_TO_SERVER] = (const uint8_t *)stream_c;
    fv.head_len[DIR_TO_SERVER] = sizeof stream_c - 1;
    CHECK(detector_xmpp.wants(&fv));
    fv.head[DIR_TO_SERVER] = (const uint8_t *)"<?xml version='1.0'?><soap>";
    fv.head_len[DIR_TO_SERVER] = 27;
    CHECK(!detector_xmpp.wants(&fv));
}

int main(void)
{
    RUN(test_auth_in_clear);
    RUN(test_starttls);
    RUN(test_wants);
    return unit_done("test_xmpp");
}

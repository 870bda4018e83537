/*
 * test_ldap.c - the LDAP detector on BER messages built here (RFC 4511),
 * replayed whole and cut at every segment size (detect_conv.h).
 */
#include "../../detectors/detector.h"
#include "unit.h"
#include "detect_conv.h"

extern const struct detector detector_ldap;

struct ber {
    uint8_t b[1024];
    size_t n;
};

/* Appends tag, length (long form 0x84 when asked, as Active Directory
 * writes it) and value. */
static void tlv(struct ber *o, uint8_t tag, const void *v, size_t n, bool long_form)
{
    o->b[o->n++] = tag;
    if (long_form) {
        o->b[o->n++] = 0x84;
        o->b[o->n++] = 0;
        o->b[o->n++] = 0;
        o->b[o->n++] = (uint8_t)(n >> 8);
        o->b[o->n++] = (uint8_t)n;
    } else if (n < 0x80) {
        o->b[o->n++] = (uint8_t)n;
    } else {
        o->b[o->n++] = 0x81;
        o->b[o->n++] = (uint8_t)n;
    }
    memcpy(o->b + o->n, v, n);
    o->n += n;
}

/* LDAPMessage { messageID, op } */
static void message(struct conv *c, enum dir d, uint8_t id, uint8_t op, const struct ber *body,
                    bool long_form)
{
    struct ber inner = { .n = 0 }, msg = { .n = 0 };
    tlv(&inner, 0x02, &id, 1, false);
    tlv(&inner, op, body->b, body->n, long_form);
    tlv(&msg, 0x30, inner.b, inner.n, long_form);
    conv_add(c, d, msg.b, msg.n, false);
}

static void bind_request(struct conv *c, uint8_t id, const char *dn, const char *pw)
{
    static const uint8_t v3 = 3;
    struct ber b = { .n = 0 };
    tlv(&b, 0x02, &v3, 1, false);
    tlv(&b, 0x04, dn, strlen(dn), false);
    tlv(&b, 0x80, pw, strlen(pw), false);
    message(c, DIR_TO_SERVER, id, 0x60, &b, false);
}

static void result(struct conv *c, uint8_t id, uint8_t op, uint8_t code)
{
    struct ber b = { .n = 0 };
    tlv(&b, 0x0a, &code, 1, false);
    tlv(&b, 0x04, "", 0, false);
    tlv(&b, 0x04, "", 0, false);
    message(c, DIR_TO_CLIENT, id, op, &b, true);
}

#define STARTTLS_OID "1.3.6.1.4.1.1466.20037"

static void test_simple_bind(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 32681, "Unknown");
    bind_request(&c, 1, "CN=svc,OU=Users,DC=example,DC=test", "passwor8d1");
    result(&c, 1, 0x61, 0);
    conv_seal(&c);
    conv_check(&detector_ldap, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("ldap.simple-bind", &v));
    CHECK(conv_sample(&v, "dn", "CN=svc,OU=Users,DC=example,DC=test"));
    CHECK(conv_sample(&v, "password", "(10 chars)"));
    CHECK_EQ(conv_nfindings(), 1);
    conv_free(&c);
}

/* Anonymous and unauthenticated binds reveal no password. */
static void test_anonymous(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 389, "LDAP");
    bind_request(&c, 1, "", "");
    result(&c, 1, 0x61, 0);
    bind_request(&c, 2, "cn=nobody", "");
    result(&c, 2, 0x61, 53);
    conv_seal(&c);
    conv_check(&detector_ldap, &fv, &c, NULL, 0);
    CHECK_EQ(conv_nfindings(), 0);
    conv_free(&c);
}

/* The root DSE lists StartTLS; the client binds in clear anyway. */
static void test_starttls_not_used(void)
{
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 389, "LDAP");
    struct ber vals = { .n = 0 }, attr = { .n = 0 }, attrs = { .n = 0 }, entry = { .n = 0 };
    tlv(&vals, 0x04, STARTTLS_OID, strlen(STARTTLS_OID), false);
    tlv(&attr, 0x04, "supportedExtension", 18, false);
    tlv(&attr, 0x31, vals.b, vals.n, false);
    tlv(&attrs, 0x30, attr.b, attr.n, false);
    tlv(&entry, 0x04, "", 0, false);
    tlv(&entry, 0x30, attrs.b, attrs.n, false);
    message(&c, DIR_TO_CLIENT, 1, 0x64, &entry, false);
    result(&c, 1, 0x65, 0);
    bind_request(&c, 2, "uid=admin,dc=example,dc=test", "hunter22");
    conv_seal(&c);
    conv_check(&detector_ldap, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("starttls.not-used", &v));
    CHECK(conv_sample(&v, "command", "LDAP server offered StartTLS"));
    CHECK(conv_finding("ldap.simple-bind", &v));
    conv_free(&c);
}

/* A searchResEntry with attributes: type, then a SET of values. */
static void search_entry(struct conv *c, uint8_t id, const char *dn, const char *type,
                         const char *const *values, size_t nvalues)
{
    struct ber vals = { .n = 0 }, attr = { .n = 0 }, attrs = { .n = 0 }, entry = { .n = 0 };
    for (size_t i = 0; i < nvalues; i++)
        tlv(&vals, 0x04, values[i], strlen(values[i]), false);
    tlv(&attr, 0x04, type, strlen(type), false);
    tlv(&attr, 0x31, vals.b, vals.n, false);
    tlv(&attrs, 0x30, attr.b, attr.n, false);
    tlv(&entry, 0x04, dn, strlen(dn), false);
    tlv(&entry, 0x30, attrs.b, attrs.n, false);
    message(c, DIR_TO_CLIENT, id, 0x64, &entry, false);
}

/* An anonymous search returns entries: the directory data read in clear
 * is the session finding, and the values go through the scanner (a card
 * number split over two values is two values, not a card). */
static void test_search_anonymous(void)
{
    static const char *const mail[] = { "alice@example.test" };
    static const char *const desc[] = { "corp card 4111 1111 1111 1111", "4111", "1111" };
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 389, "LDAP");
    bind_request(&c, 1, "", "");
    result(&c, 1, 0x61, 0);
    search_entry(&c, 2, "uid=alice,ou=people,dc=example,dc=test", "mail", mail, 1);
    search_entry(&c, 2, "uid=bob,ou=people,dc=example,dc=test", "description", desc, 3);
    result(&c, 2, 0x65, 0);
    conv_seal(&c);
    conv_check(&detector_ldap, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(conv_finding("ldap.cleartext-session", &v));
    CHECK(conv_sample(&v, "dn", "uid=alice,ou=people,dc=example,dc=test"));
    CHECK_EQ(v.occurrences, 1);
    CHECK(conv_finding("pii.email", &v));
    CHECK(conv_finding("pii.card-number", &v));
    CHECK_EQ(v.occurrences, 1);
    CHECK_EQ(conv_nfindings(), 3);
    conv_free(&c);
}

/* After a simple bind the bind is the finding: no session finding; the
 * root DSE (empty DN) is not directory data. */
static void test_search_after_bind(void)
{
    static const char *const mail[] = { "alice@example.test" };
    static const char *const ext[] = { STARTTLS_OID };
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 389, "LDAP");
    search_entry(&c, 1, "", "supportedExtension", ext, 1);
    result(&c, 1, 0x65, 0);
    bind_request(&c, 2, "uid=alice,ou=people,dc=example,dc=test", "Secr3t-pw");
    result(&c, 2, 0x61, 0);
    search_entry(&c, 3, "uid=alice,ou=people,dc=example,dc=test", "mail", mail, 1);
    conv_seal(&c);
    conv_check(&detector_ldap, &fv, &c, NULL, 0);
    struct finding_view v;
    CHECK(!conv_finding("ldap.cleartext-session", &v));
    CHECK(conv_finding("ldap.simple-bind", &v));
    CHECK(conv_finding("pii.email", &v));
    CHECK(conv_finding("starttls.not-used", &v));
    conv_free(&c);
}

/* StartTLS requested and granted, then TLS. */
static void test_starttls_used(void)
{
    static const uint8_t hello[] = { 0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x03 };
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 389, "LDAP");
    struct ber req = { .n = 0 };
    tlv(&req, 0x80, STARTTLS_OID, strlen(STARTTLS_OID), false);
    message(&c, DIR_TO_SERVER, 1, 0x77, &req, false);
    result(&c, 1, 0x78, 0);
    conv_add(&c, DIR_TO_SERVER, hello, sizeof hello, false);
    conv_seal(&c);
    conv_check(&detector_ldap, &fv, &c, NULL, 0);
    CHECK_EQ(conv_nfindings(), 0);
    conv_free(&c);
}

/* Not BER, or lengths that lie: no crash, no finding. */
static void test_garbage(void)
{
    static const uint8_t lie[] = { 0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x02, 0x01 };
    static const uint8_t bad[] = { 0x30, 0x05, 0x02, 0x09, 0x01, 0x60, 0x00 };
    struct conv c = { 0 };
    struct flow_view fv = conv_view(6, 389, "LDAP");
    conv_add(&c, DIR_TO_SERVER, bad, sizeof bad, false);
    conv_add(&c, DIR_TO_CLIENT, lie, sizeof lie, false);
    conv_text(&c, DIR_TO_SERVER, "GET / HTTP/1.0\r\n\r\n");
    conv_seal(&c);
    conv_check(&detector_ldap, &fv, &c, NULL, 0);
    CHECK_EQ(conv_nfindings(), 0);
    conv_free(&c);
}

int main(void)
{
    RUN(test_simple_bind);
    RUN(test_anonymous);
    RUN(test_starttls_not_used);
    RUN(test_starttls_used);
    RUN(test_search_anonymous);
    RUN(test_search_after_bind);
    RUN(test_garbage);
    return unit_done("test_ldap");
}

/*
 * test_textline.c - the shared line reader: lines, cut lines, words,
 * base64, SASL messages and typed lines.  Inputs end right before an
 * unreadable page (guarded_copy), so an over-read crashes.
 */
#include <stdio.h>
#include <string.h>

#include "../../detectors/textline.h"
#include "unit.h"

#define G(s) guarded_copy((s), sizeof(s) - 1), (sizeof(s) - 1)

static void test_lines(void)
{
    struct textline_reader r = { 0 };
    struct textline l;
    const uint8_t *p;
    size_t n;

    /* "USER bob\r\nPASS x\n": CRLF and bare LF both end a line */
    p = guarded_copy("USER bob\r\nPASS x\n", 17);
    n = 17;
    size_t used = textline_next(&r, p, n, 64, &l);
    CHECK_EQ(used, 10);
    CHECK_EQ(l.len, 8);
    CHECK(memcmp(l.p, "USER bob", 8) == 0);
    CHECK(!l.cut);
    used = textline_next(&r, p + 10, n - 10, 64, &l);
    CHECK_EQ(used, 7);
    CHECK_EQ(l.len, 6);

    /* no line end yet: need more */
    p = guarded_copy("USER b", 6);
    CHECK_EQ(textline_next(&r, p, 6, 64, &l), 0);
    CHECK(l.p == NULL);
    CHECK_EQ(textline_next(&r, p, 0, 64, &l), 0);

    /* an empty line */
    p = guarded_copy("\r\n", 2);
    CHECK_EQ(textline_next(&r, p, 2, 64, &l), 2);
    CHECK(l.p != NULL);
    CHECK_EQ(l.len, 0);
}

static void test_cut_lines(void)
{
    struct textline_reader r = { 0 };
    struct textline l;
    /* 10 bytes without LF against a maximum of 8: cut, then the rest of
     * the line is passed over up to its LF */
    const uint8_t *p = guarded_copy("0123456789", 10);
    CHECK_EQ(textline_next(&r, p, 10, 8, &l), 10);
    CHECK(l.cut);
    CHECK_EQ(l.len, 8);
    CHECK(r.skipping);
    p = guarded_copy("abc", 3);
    CHECK_EQ(textline_next(&r, p, 3, 8, &l), 3);
    CHECK(l.p == NULL);
    p = guarded_copy("def\nNEXT\n", 9);
    CHECK_EQ(textline_next(&r, p, 9, 8, &l), 4);
    CHECK(l.p == NULL);
    CHECK(!r.skipping);
    CHECK_EQ(textline_next(&r, p + 4, 5, 8, &l), 5);
    CHECK_EQ(l.len, 4);
    CHECK(memcmp(l.p, "NEXT", 4) == 0);

    /* a long line whose end is in the same bytes: cut, and the next line
     * is still read */
    p = guarded_copy("0123456789\nNEXT\n", 16);
    CHECK_EQ(textline_next(&r, p, 16, 8, &l), 11);
    CHECK(l.cut);
    CHECK(!r.skipping);
    CHECK_EQ(textline_next(&r, p + 11, 5, 8, &l), 5);
    CHECK(l.len == 4 && memcmp(l.p, "NEXT", 4) == 0);

    /* a line of exactly the maximum with its LF is whole */
    p = guarded_copy("01234567\n", 9);
    CHECK_EQ(textline_next(&r, p, 9, 8, &l), 9);
    CHECK(!l.cut);
    CHECK_EQ(l.len, 8);
}

static void test_delim(void)
{
    struct textline_reader r = { 0 };
    struct textline l;
    const uint8_t *p = guarded_copy("<a x='1'>text<b/>", 17);
    CHECK_EQ(textline_next_delim(&r, p, 17, 64, '>', &l), 9);
    CHECK_EQ(l.len, 9);
    CHECK(l.p[8] == '>');
    CHECK_EQ(textline_next_delim(&r, p + 9, 8, 64, '>', &l), 8);
    CHECK(memcmp(l.p, "text<b/>", 8) == 0);
    CHECK_EQ(textline_next_delim(&r, p + 17, 0, 64, '>', &l), 0);
}

static void test_words(void)
{
    const uint8_t *p = guarded_copy("  AUTH\tPLAIN  dGVzdA==", 22);
    struct cursor c = cursor_init(p, 22);
    const uint8_t *w;
    size_t n = textline_word(&c, &w);
    CHECK_EQ(n, 4);
    CHECK(textline_is(w, n, "auth"));
    CHECK(!textline_is(w, n, "AUTHX"));
    CHECK(!textline_is(w, n, "AUT"));
    n = textline_word(&c, &w);
    CHECK(textline_is(w, n, "PLAIN"));
    n = textline_rest(&c, &w);
    CHECK_EQ(n, 8);
    CHECK(memcmp(w, "dGVzdA==", 8) == 0);
    CHECK_EQ(textline_word(&c, &w), 0);
    CHECK_EQ(textline_rest(&c, &w), 0);
    CHECK(!c.bad);

    CHECK(textline_starts(p + 2, 20, "aUtH"));
    CHECK(!textline_starts(p, 3, "  AUTH"));
    CHECK(textline_contains(p, 22, "plain"));
    CHECK(!textline_contains(p, 22, "plains"));
    CHECK(!textline_contains(p, 0, "a"));
}

static void test_tls_bytes(void)
{
    static const uint8_t hello[] = { 0x16, 0x03, 0x01 };
    static const uint8_t text[] = { 'E', 'H', 'L' };
    CHECK(textline_is_tls(guarded_copy(hello, 3), 3));
    CHECK(!textline_is_tls(guarded_copy(hello, 2), 2));
    CHECK(!textline_is_tls(guarded_copy(text, 3), 3));
}

static void test_base64(void)
{
    uint8_t out[64];
    CHECK_EQ(textline_b64decode(G("dGVzdA=="), out, sizeof out), 4);
    CHECK(memcmp(out, "test", 4) == 0);
    CHECK_EQ(textline_b64decode(G("dGVzdA"), out, sizeof out), 4);     /* no padding */
    CHECK_EQ(textline_b64decode(G("YWJj"), out, sizeof out), 3);
    CHECK_EQ(textline_b64decode(G(""), out, sizeof out), 0);
    CHECK_EQ(textline_b64decode(G("dG*z"), out, sizeof out), -1);      /* not base64 */
    CHECK_EQ(textline_b64decode(G("dGVzdA=="), out, 3), -1);           /* does not fit */
    CHECK_EQ(textline_b64decode(G("+/+/"), out, sizeof out), 3);
    CHECK(out[0] == 0xfb && out[1] == 0xff && out[2] == 0xbf);
}

static void test_sasl_messages(void)
{
    struct textline_span u, s;
    /* "\0bob\0secret" */
    CHECK(textline_sasl_plain(guarded_copy("\0bob\0secret", 11), 11, &u, &s));
    CHECK(u.len == 3 && memcmp(u.p, "bob", 3) == 0);
    CHECK(s.len == 6 && memcmp(s.p, "secret", 6) == 0);
    /* "admin\0\0pw": authcid empty, the authzid names the user */
    CHECK(textline_sasl_plain(guarded_copy("admin\0\0pw", 9), 9, &u, &s));
    CHECK(u.len == 5 && memcmp(u.p, "admin", 5) == 0);
    CHECK(s.len == 2);
    CHECK(!textline_sasl_plain(guarded_copy("nozero", 6), 6, &u, &s));
    CHECK(!textline_sasl_plain(guarded_copy("one\0zero", 8), 8, &u, &s));
    /* "user=joe\x01auth=Bearer tok\x01\x01" */
    static const char x[] = "user=joe\x01" "auth=Bearer tok\x01\x01";
    CHECK(textline_sasl_xoauth2(guarded_copy(x, sizeof x - 1), sizeof x - 1, &u, &s));
    CHECK(u.len == 3 && memcmp(u.p, "joe", 3) == 0);
    CHECK(s.len == 3 && memcmp(s.p, "tok", 3) == 0);
    CHECK(!textline_sasl_xoauth2(guarded_copy("user=joe", 8), 8, &u, &s));
}

static void test_sasl_exchange(void)
{
    struct textline_sasl sasl = { 0 };
    struct textline_sasl_out out;
    /* AUTH LOGIN: "Ym9i" (bob), then "c2VjcmV0" (secret) */
    textline_sasl_start(&sasl, (const uint8_t *)"login", 5);
    CHECK_EQ(sasl.mech, TL_SASL_LOGIN);
    CHECK(textline_sasl_response(&sasl, G("Ym9i"), &out));
    CHECK(out.user.len == 3 && out.secret.len == 0);
    CHECK(sasl.mech == TL_SASL_LOGIN);
    CHECK(textline_sasl_response(&sasl, G("c2VjcmV0"), &out));
    CHECK(out.secret.len == 6 && memcmp(out.secret.p, "secret", 6) == 0);
    CHECK_EQ(sasl.mech, TL_SASL_NONE);
    /* PLAIN with an empty initial response "=", then the real one */
    textline_sasl_start(&sasl, (const uint8_t *)"PLAIN", 5);
    CHECK(!textline_sasl_response(&sasl, G("="), &out));
    CHECK_EQ(sasl.mech, TL_SASL_PLAIN);
    CHECK(textline_sasl_response(&sasl, G("AGJvYgBzZWNyZXQ="), &out));
    CHECK(out.user.len == 3);
    CHECK_EQ(sasl.mech, TL_SASL_NONE);
    /* cancelled */
    textline_sasl_start(&sasl, (const uint8_t *)"PLAIN", 5);
    CHECK(!textline_sasl_response(&sasl, G("*"), &out));
    /* CRAM-MD5: "bob 0123abcd" */
    textline_sasl_start(&sasl, (const uint8_t *)"CRAM-MD5", 8);
    CHECK(textline_sasl_response(&sasl, G("Ym9iIDAxMjNhYmNk"), &out));
    CHECK(out.user.len == 3);
    CHECK_STR(out.secret_field, "cram-md5-digest");
    /* a mechanism with nothing readable */
    textline_sasl_start(&sasl, (const uint8_t *)"GSSAPI", 6);
    CHECK(!textline_sasl_response(&sasl, G("YWJjZA=="), &out));
}

static void test_typed(void)
{
    struct textline_acc a = { 0 };
    const char *typed = "fakx\be\r";
    bool done = false;
    for (size_t i = 0; typed[i] != '\0'; i++)
        done = textline_acc_put(&a, (uint8_t)typed[i]);
    CHECK(done);
    CHECK_EQ(a.len, 4);
    CHECK(memcmp(a.buf, "fake", 4) == 0);
    textline_acc_reset(&a);
    CHECK(!textline_acc_put(&a, '\n'));     /* an empty line is not a line */
    for (int i = 0; i < 300; i++)
        textline_acc_put(&a, 'x');
    CHECK(a.cut);
    CHECK_EQ(a.len, TEXTLINE_ACC_MAX);
    CHECK(textline_acc_put(&a, '\r'));
}

int main(void)
{
    RUN(test_lines);
    RUN(test_cut_lines);
    RUN(test_delim);
    RUN(test_words);
    RUN(test_tls_bytes);
    RUN(test_base64);
    RUN(test_sasl_messages);
    RUN(test_sasl_exchange);
    RUN(test_typed);
    return unit_done("test_textline");
}

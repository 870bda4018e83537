/*
 * test_redact.c - how values become report evidence (reports/redact.c).
 *
 * The policy under test ("secrets are evidence, not payload"): a secret
 * never appears whole; a short one shows no character at all, a long one at
 * most two at each end, always with its length; SQL statements keep their
 * shape with every literal masked; text is printable and bounded;
 * --show-secrets prints values as they are.  Values are placed with
 * guarded_copy(), so reading one byte past a value crashes.
 */
#include <stdbool.h>
#include <string.h>

#include "../../reports/redact.h"
#include "unit.h"

#define OUTLEN (EVIDENCE_MAX_TEXT + 32)     /* what finding.c gives */

/* Redacts the C string s as kind into a static buffer. */
static const char *ex(enum ev_kind kind, const char *s, bool show_all)
{
    static char out[OUTLEN];
    size_t n = strlen(s);
    const uint8_t *v = guarded_copy(s, n);
    memset(out, 'Z', sizeof out);
    redact_excerpt(kind, v, n, show_all, out, sizeof out);
    CHECK(memchr(out, '\0', sizeof out) != NULL);
    return out;
}

/* True when no run of `run` consecutive characters of secret appears in
 * out. */
static bool no_run_of(const char *out, const char *secret, size_t run)
{
    size_t n = strlen(secret);
    for (size_t i = 0; i + run <= n; i++) {
        char piece[64];
        if (run >= sizeof piece)
            return false;
        memcpy(piece, secret + i, run);
        piece[run] = '\0';
        if (strstr(out, piece) != NULL)
            return false;
    }
    return true;
}

/* ------------------------------------------------------------------ secrets */

/* "hunter2" (7 chars): no character shown, length given. */
static void test_secret_short(void)
{
    const char *out = ex(EV_SECRET, "hunter2", false);
    CHECK_STR(out, "****** (7 chars)");
    /* every length under ten shows nothing */
    static const char pw[] = "abcdefghi";
    for (size_t n = 1; n < sizeof pw; n++) {
        char s[16];
        memcpy(s, pw, n);
        s[n] = '\0';
        out = ex(EV_SECRET, s, false);
        char want[32];
        snprintf(want, sizeof want, "****** (%zu chars)", n);
        CHECK_STR(out, want);
    }
}

/* "S3cr3t-T0ken-Value-XYZ" (22 chars): first two, stars, last two. */
static void test_secret_long(void)
{
    const char *s = "S3cr3t-T0ken-Value-XYZ";
    const char *out = ex(EV_SECRET, s, false);
    CHECK_STR(out, "S3******YZ (22 chars)");
    CHECK(no_run_of(out, s, 3));
}

/* 10 to 15 chars: one at each end. */
static void test_secret_medium(void)
{
    const char *out = ex(EV_SECRET, "Pa55w0rd!xyz", false);
    CHECK_STR(out, "P******z (12 chars)");
}

/* A secret is never shown whole, whatever its length (1 to 300). */
static void test_secret_never_whole(void)
{
    char s[301];
    for (size_t n = 1; n < sizeof s; n++) {
        for (size_t i = 0; i < n; i++)
            s[i] = (char)('a' + (i * 7 + n) % 26);
        s[n] = '\0';
        const char *out = ex(EV_SECRET, s, false);
        CHECK(no_run_of(out, s, n < 3 ? n : 3));
        char len[32];
        snprintf(len, sizeof len, "(%zu chars)", n);
        CHECK(strstr(out, len) != NULL);
    }
}

/* Non-printable bytes at the ends are escaped, not copied raw. */
static void test_secret_binary(void)
{
    static const uint8_t v[] = { 0x00, 0xff, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h',
                                 'i', 'j', 'k', 'l', 'm', '\n', 0x01 };
    char out[OUTLEN];
    const uint8_t *p = guarded_copy(v, sizeof v);
    redact_excerpt(EV_SECRET, p, sizeof v, false, out, sizeof out);
    CHECK_STR(out, "\\x00\\xff******\\x0a\\x01 (17 chars)");
}

/* The output buffer bounds everything, down to one byte. */
static void test_small_output(void)
{
    const char *s = "S3cr3t-T0ken-Value-XYZ";
    const uint8_t *v = guarded_copy(s, strlen(s));
    for (size_t outlen = 1; outlen < 40; outlen++) {
        char buf[40];
        memset(buf, 'Z', sizeof buf);
        redact_excerpt(EV_SECRET, v, strlen(s), false, buf, outlen);
        CHECK(memchr(buf, '\0', outlen) != NULL);
        CHECK_EQ(buf[outlen], 'Z');
        redact_excerpt(EV_SQL, v, strlen(s), false, buf, outlen);
        CHECK(memchr(buf, '\0', outlen) != NULL);
        CHECK_EQ(buf[outlen], 'Z');
        redact_excerpt(EV_TEXT, v, strlen(s), false, buf, outlen);
        CHECK(memchr(buf, '\0', outlen) != NULL);
        CHECK_EQ(buf[outlen], 'Z');
    }
}

static void test_none_and_empty(void)
{
    CHECK_STR(ex(EV_NONE, "secret", false), "");
    CHECK_STR(ex(EV_SECRET, "", false), "");
    char out[8] = "xxxxxxx";
    redact_excerpt(EV_SECRET, NULL, 5, false, out, sizeof out);
    CHECK_STR(out, "");
}

/* ------------------------------------------------------------------ SQL */

/* The card number and the id disappear; the shape stays. */
static void test_sql_literals(void)
{
    const char *q = "SELECT * FROM t WHERE card='4111111111111111' AND id=42";
    const char *out = ex(EV_SQL, q, false);
    CHECK_STR(out, "SELECT * FROM t WHERE card=? AND id=?");
    CHECK(strpbrk(out, "0123456789") == NULL);
}

/* Double quotes, escaped quotes, decimals, hex, negative numbers; digits
 * inside names stay. */
static void test_sql_shapes(void)
{
    /* 'it\'s s3cret' read both ways (backslash escape, or a literal 'it\'
     * followed by an unterminated one): everything either reading calls a
     * literal is masked, here to the end */
    CHECK_STR(ex(EV_SQL, "INSERT INTO users2 (name, pw) VALUES (\"bob\", 'it\\'s s3cret')",
                 false),
              "INSERT INTO users2 (name, pw) VALUES (?, ?");
    CHECK_STR(ex(EV_SQL, "UPDATE acct SET bal=-12.50, flags=0xff WHERE t1.id = 7", false),
              "UPDATE acct SET bal=-?, flags=? WHERE t1.id = ?");
    CHECK_STR(ex(EV_SQL, "SELECT 'a''b' FROM x", false), "SELECT ? FROM x");
    /* line breaks and tabs become spaces, other control bytes are escaped */
    CHECK_STR(ex(EV_SQL, "SELECT 1\r\nFROM\tdual\x01", false), "SELECT ?  FROM dual\\x01");
    /* an unterminated literal masks to the end */
    const char *out = ex(EV_SQL, "SELECT * FROM u WHERE pw='hunter2", false);
    CHECK_STR(out, "SELECT * FROM u WHERE pw=?");
}

/* A literal that ends with a backslash.  With PostgreSQL's standard
 * strings (the default since 9.1) and MySQL's NO_BACKSLASH_ESCAPES, the
 * backslash is an ordinary character and the literal ends at the quote
 * after it.  Whichever reading the redactor takes, the password in the
 * next literal must not appear. */
static void test_sql_backslash_literal(void)
{
    const char *out = ex(EV_SQL,
                         "UPDATE users SET home='C:\\', password='hunter2' WHERE id=1",
                         false);
    CHECK(strstr(out, "hunter2") == NULL);
    if (strstr(out, "hunter2") != NULL)
        fprintf(stderr, "  excerpt: %s\n", out);
}

/* Long statements are cut at EVIDENCE_MAX_TEXT input bytes with "...". */
static void test_sql_long(void)
{
    char q[600];
    size_t o = (size_t)snprintf(q, sizeof q, "SELECT a FROM t WHERE x IN (");
    while (o < 500)
        o += (size_t)snprintf(q + o, sizeof q - o, "'v%03zu',", o);
    q[o - 1] = ')';
    const char *out = ex(EV_SQL, q, false);
    size_t len = strlen(out);
    CHECK(len <= EVIDENCE_MAX_TEXT + 3);
    CHECK(len >= 3 && strcmp(out + len - 3, "...") == 0);
    CHECK(strchr(out, 'v') == NULL);
}

/* ------------------------------------------------------------------ text */

static void test_text_escaping(void)
{
    static const uint8_t v[] = { 'u', 's', 'e', 'r', '\\', 0x00, 0x7f, 0x80, '\t', 'x' };
    char out[OUTLEN];
    const uint8_t *p = guarded_copy(v, sizeof v);
    redact_excerpt(EV_TEXT, p, sizeof v, false, out, sizeof out);
    CHECK_STR(out, "user\\x5c\\x00\\x7f\\x80\\x09x");
}

static void test_text_truncation(void)
{
    char s[EVIDENCE_MAX_TEXT + 11];
    memset(s, 'a', sizeof s - 1);
    s[sizeof s - 1] = '\0';
    const char *out = ex(EV_TEXT, s, false);
    CHECK_EQ(strlen(out), EVIDENCE_MAX_TEXT + 3);
    CHECK(strcmp(out + EVIDENCE_MAX_TEXT, "...") == 0);
    /* exactly the maximum: no "..." */
    s[EVIDENCE_MAX_TEXT] = '\0';
    out = ex(EV_TEXT, s, false);
    CHECK_EQ(strlen(out), EVIDENCE_MAX_TEXT);
}

/* When the escapes fill the output before the input is all shown, the
 * excerpt must say it was cut ("..."), and must not show later bytes after
 * silently skipping earlier ones. */
static void test_text_escapes_fill_output(void)
{
    uint8_t v[108];
    memset(v, 0x01, 100);
    memcpy(v + 100, "ABCDEFGH", 8);
    char out[OUTLEN];
    const uint8_t *p = guarded_copy(v, sizeof v);
    redact_excerpt(EV_TEXT, p, sizeof v, false, out, sizeof out);
    size_t len = strlen(out);
    CHECK(len < sizeof out);
    CHECK(len >= 3 && strcmp(out + len - 3, "...") == 0);
    CHECK(strchr(out, 'A') == NULL);
    if (len < 3 || strcmp(out + len - 3, "...") != 0 || strchr(out, 'A') != NULL)
        fprintf(stderr, "  excerpt ends with: %s\n", len > 24 ? out + len - 24 : out);
}

static void test_printable_direct(void)
{
    char out[32];
    const uint8_t *p = guarded_copy("abcdef", 6);
    redact_printable(p, 6, 3, out, sizeof out);
    CHECK_STR(out, "abc...");
    redact_printable(p, 6, 6, out, sizeof out);
    CHECK_STR(out, "abcdef");
    redact_printable(p, 0, 6, out, sizeof out);
    CHECK_STR(out, "");
}

/* ------------------------------------------------------------------ show all */

/* --show-secrets prints values in full (redact.h), within the sample
 * buffer the report uses (OUTLEN): it must never show less than the
 * default mode, which keeps EVIDENCE_MAX_TEXT bytes of text. */
static void test_show_all(void)
{
    CHECK_STR(ex(EV_SECRET, "hunter2", true), "hunter2");
    const char *q = "SELECT * FROM t WHERE card='4111111111111111' AND id=42";
    CHECK_STR(ex(EV_SQL, q, true), q);
    CHECK_STR(ex(EV_SECRET, "S3cr3t-T0ken-Value-XYZ-0123456789", true),
              "S3cr3t-T0ken-Value-XYZ-0123456789");
    /* still printable */
    static const uint8_t v[] = { 'p', 'w', 0x00, '\n' };
    char out[OUTLEN];
    redact_excerpt(EV_SECRET, guarded_copy(v, sizeof v), sizeof v, true, out, sizeof out);
    CHECK_STR(out, "pw\\x00\\x0a");
}

/* ------------------------------------------------------------------ fingerprints */

static void test_fingerprint(void)
{
    char a[17], b[17], c[17];
    const uint8_t *v = guarded_copy("hunter2", 7);
    redact_fingerprint(v, 7, a);
    redact_fingerprint(v, 7, b);
    CHECK_EQ(strlen(a), 16);
    CHECK_STR(a, b);
    CHECK(strspn(a, "0123456789abcdef") == 16);
    redact_fingerprint(guarded_copy("hunter3", 7), 7, c);
    CHECK(strcmp(a, c) != 0);
    redact_fingerprint(v, 6, c);            /* a prefix differs too */
    CHECK(strcmp(a, c) != 0);
    redact_fingerprint(v, 0, c);
    CHECK_EQ(strlen(c), 16);
    CHECK(strcmp(a, c) != 0);
    /* the fingerprint is not a plain SHA-256 prefix of the value:
     * sha256("hunter2") = f52fbd32b2b3b86f... */
    CHECK(strcmp(a, "f52fbd32b2b3b86f") != 0);
}

/* Long values (past the internal buffer) stay stable and distinct by
 * length. */
static void test_fingerprint_long(void)
{
    static uint8_t big[2000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 31 + 7);
    const uint8_t *v = guarded_copy(big, sizeof big);
    char a[17], b[17], c[17];
    redact_fingerprint(v, sizeof big, a);
    redact_fingerprint(v, sizeof big, b);
    CHECK_STR(a, b);
    redact_fingerprint(v, sizeof big - 1, c);
    CHECK(strcmp(a, c) != 0);
    redact_fingerprint(v, 600, b);
    redact_fingerprint(v, 601, c);
    CHECK(strcmp(b, c) != 0);
}

int main(void)
{
    RUN(test_secret_short);
    RUN(test_secret_long);
    RUN(test_secret_medium);
    RUN(test_secret_never_whole);
    RUN(test_secret_binary);
    RUN(test_small_output);
    RUN(test_none_and_empty);
    RUN(test_sql_literals);
    RUN(test_sql_shapes);
    RUN(test_sql_backslash_literal);
    RUN(test_sql_long);
    RUN(test_text_escaping);
    RUN(test_text_truncation);
    RUN(test_text_escapes_fill_output);
    RUN(test_printable_direct);
    RUN(test_show_all);
    RUN(test_fingerprint);
    RUN(test_fingerprint_long);
    return unit_done("test_redact");
}

/*
 * test_secrets.c - the secrets engine (detectors/secrets.c): true and false
 * cases per pattern, and the equivalences the engine promises: the vector
 * prefilter changes nothing (compared with the byte table alone), and the
 * stream API finds exactly what a scan of the whole stream finds, however
 * the stream is cut; the memo of short values replays exactly what a scan
 * finds.  Inputs end at a guard page, so an over-read crashes.
 */
#include "unit.h"

#include "../../detectors/secrets.h"

#define MAX_HITS 64

struct hit {
    const char *rule;
    const char *kind;
    char value[2200];
    size_t offset;
};

struct hits {
    struct hit h[MAX_HITS];
    size_t n;
};

static void collect(void *arg, const struct secrets_match *m)
{
    struct hits *hs = arg;
    if (hs->n >= MAX_HITS)
        return;
    struct hit *h = &hs->h[hs->n++];
    h->rule = m->rule->id;
    h->kind = m->kind;
    size_t n = m->len < sizeof h->value - 1 ? m->len : sizeof h->value - 1;
    memcpy(h->value, m->value, n);
    h->value[n] = '\0';
    h->offset = m->offset;
}

/* Scans s (guarded) and returns the hits. */
static struct hits scan(const char *s)
{
    struct hits hs;
    memset(&hs, 0, sizeof hs);
    size_t n = strlen(s);
    secrets_find(guarded_copy(s, n), n, collect, &hs);
    return hs;
}

/* Exactly one hit of rule with this value. */
static int one(const char *s, const char *rule, const char *value)
{
    struct hits hs = scan(s);
    if (hs.n != 1 || strcmp(hs.h[0].rule, rule) != 0 || strcmp(hs.h[0].value, value) != 0) {
        fprintf(stderr, "  input \"%.80s\": %zu hits", s, hs.n);
        for (size_t k = 0; k < hs.n; k++)
            fprintf(stderr, " [%s \"%.40s\"]", hs.h[k].rule, hs.h[k].value);
        fprintf(stderr, ", expected %s \"%.40s\"\n", rule, value);
        return 0;
    }
    return 1;
}

static int none(const char *s)
{
    struct hits hs = scan(s);
    for (size_t k = 0; k < hs.n; k++)
        fprintf(stderr, "  input \"%.80s\": unexpected %s \"%.40s\"\n", s, hs.h[k].rule,
                hs.h[k].value);
    return hs.n == 0;
}

static void test_cards(void)
{
    /* the scheme test numbers, bare and in context */
    CHECK(one("4111111111111111", "pii.card-number", "4111111111111111"));
    CHECK(one("card=5555555555554444&exp=12/25", "pii.card-number", "5555555555554444"));
    CHECK(one("{\"pan\":\"378282246310005\"}", "pii.card-number", "378282246310005"));
    CHECK(one("42,6011111111111117,12/25", "pii.card-number", "6011111111111117"));
    CHECK(one("JCB 3530111333300000.", "pii.card-number", "3530111333300000"));
    CHECK(one("diners 30569309025904", "pii.card-number", "30569309025904"));
    CHECK(one("mc2 2221000000000009", "pii.card-number", "2221000000000009"));
    CHECK(one("SET card:alice 4111111111111111\r\n", "pii.card-number", "4111111111111111"));
    /* grouped: the value is the digits, so one card has one fingerprint */
    CHECK(one("4111 1111 1111 1111", "pii.card-number", "4111111111111111"));
    CHECK(one("pay 4111-1111-1111-1111 now", "pii.card-number", "4111111111111111"));
    CHECK(one("amex 3782 822463 10005", "pii.card-number", "378282246310005"));
    /* a date before the number does not hide it */
    CHECK(one("2024-01-05 4111111111111111", "pii.card-number", "4111111111111111"));

    /* Luhn-valid numbers inside longer digit runs */
    CHECK(none("14111111111111111"));
    CHECK(none("41111111111111110"));
    CHECK(none("order 44111111111111111111 shipped"));
    /* not Luhn-valid, or no card range, or wrong length */
    CHECK(none("4111111111111112"));
    CHECK(none("1234567812345670"));            /* Luhn-valid, no scheme starts with 1 */
    CHECK(none("411111111111111"));             /* Visa has no 15-digit numbers */
    CHECK(none("5555555555554"));
    /* timestamps and counters */
    CHECK(none("ts=1700000000123456 ns=1700000000123456789"));
    CHECK(none("2024-11-29 12:34:56.789012"));
    /* phone numbers */
    CHECK(none("+1 415-555-0132, +44 20 7946 0958, +4915112345678"));
    CHECK(none("tel:+4111111111111111"));
    /* UUIDs and hex */
    CHECK(none("123e4567-e89b-12d3-a456-426614174000"));
    CHECK(none("40000000-0000-0000-0000-000000000000"));
    CHECK(none("0x4111111111111111 deadbeef4111111111111111cafe"));
    /* glued to words, decimals */
    CHECK(none("id4111111111111111 4111111111111111abc 4111111111111111_x"));
    CHECK(none("0.4111111111111111 4111111111111111.5"));
    CHECK(none("4111111111111111@example"));
    /* separators: mixed, wrong groups, one group too many */
    CHECK(none("4111 1111-1111 1111"));
    CHECK(none("41111 111 1111 1111"));
    CHECK(none("4111 1111 1111 1111 1111"));
    CHECK(none("4111  1111  1111  1111"));
    /* base64 that happens to hold digits */
    CHECK(none("QUJD4111111111111111RUY= AAAA5555555555554444BBBB"));
}

static void test_ssn(void)
{
    CHECK(one("078-05-1120", "pii.ssn", "078-05-1120"));
    CHECK(one("ssn: 219-09-9999;", "pii.ssn", "219-09-9999"));
    CHECK(one("\"123-45-6789\"", "pii.ssn", "123-45-6789"));
    /* never issued: area 000, 666, 9xx; group 00; serial 0000 */
    CHECK(none("000-12-3456"));
    CHECK(none("666-12-3456"));
    CHECK(none("900-12-3456 999-99-9999"));
    CHECK(none("123-00-4567"));
    CHECK(none("123-45-0000"));
    /* only the dashed form, and not inside a longer number */
    CHECK(none("123456789"));
    CHECK(none("1123-45-6789"));
    CHECK(none("123-45-67890"));
    CHECK(none("555-123-45-6789"));
    CHECK(none("123-45-6789-1"));
    CHECK(none("a123-45-6789"));
    CHECK(none("415-555-0132"));
}

static const char jwt[] =
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiJhbGljZSIsIm5hbWUiOiJBbGljZSBFeGFtcGxlIiwicm9sZSI6ImN1c3RvbWVyIiwiaWF0"
    "IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDB9.IL26YEFrGZ8KCJ3OBqS_4_-DmHRfDYa2X5a7zVD9rbk";

static void test_jwt(void)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "Authorization: Bearer %s\r\n", jwt);
    CHECK(one(buf, "secret.jwt", jwt));
    snprintf(buf, sizeof buf, "token=%s&x=1", jwt);
    CHECK(one(buf, "secret.jwt", jwt));
    /* alg none: empty signature */
    CHECK(one("t=eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0. end", "secret.jwt",
              "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."));
    /* a header without "alg" ({"typ":"JWT"}) */
    CHECK(none("eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2ln"));
    /* base64 JSON without the dots of a JWT */
    CHECK(none("data eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9 more"));
    /* base64 that is not JSON, and a JWT glued inside a longer token */
    CHECK(none("eyJxxxxxxxxxxxxxxxx.yyyy.zzzz"));
    snprintf(buf, sizeof buf, "x%s", jwt);
    CHECK(none(buf));
}

static void test_api_keys(void)
{
    CHECK(one("aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n", "secret.api-key",
              "AKIAIOSFODNN7EXAMPLE"));
    CHECK(one("ASIAY34FZKBOKMUTVV7A", "secret.api-key", "ASIAY34FZKBOKMUTVV7A"));
    CHECK(one("token ghp_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ end", "secret.api-key",
              "ghp_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"));
    CHECK(one("glpat-xxxxxxxxxxxxxxxxxxxx", "secret.api-key", "glpat-xxxxxxxxxxxxxxxxxxxx"));
    CHECK(one("xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "secret.api-key",
              "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"));
    CHECK(one("\"sk_live_4eC39HqLyjWDarjtT1zdp7dc\"", "secret.api-key",
              "sk_live_4eC39HqLyjWDarjtT1zdp7dc"));
    CHECK(one("?key=AIzaSyA-1234567890abcdefghijklmnopqrstu&", "secret.api-key",
              "AIzaSyA-1234567890abcdefghijklmnopqrstu"));
    CHECK(one("SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
              "secret.api-key",
              "SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"));
    CHECK(one("SK0123456789abcdef0123456789abcdef", "secret.api-key",
              "SK0123456789abcdef0123456789abcdef"));
    /* wrong length, test keys, glued to a word */
    CHECK(none("AKIAIOSFODNN7EXAMPL AKIAIOSFODNN7EXAMPLEX"));
    CHECK(none("ghp_abcdefghijklmnopqrstuvwxyzABCDEFGHI"));
    CHECK(none("sk_test_4eC39HqLyjWDarjtT1zdp7dc"));
    CHECK(none("xAKIAIOSFODNN7EXAMPLE MASK0123456789abcdef0123456789abcdef"));
    CHECK(none("xoxb-not-a-token"));
}

static void test_private_key(void)
{
    const char *pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAvx\n"
                      "-----END RSA PRIVATE KEY-----";
    char buf[256];
    snprintf(buf, sizeof buf, "key:\n%s\ntrailer", pem);
    CHECK(one(buf, "secret.private-key", pem));
    struct hits hs = scan("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA");
    CHECK_EQ(hs.n, 1);
    CHECK(none("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"));
    CHECK(none("-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----"));
}

static void test_email(void)
{
    CHECK(one("contact alice@example.com.", "pii.email", "alice@example.com"));
    CHECK(one("<a href=\"mailto:bob.smith+shop@mail.example.co.uk\">", "pii.email",
              "bob.smith+shop@mail.example.co.uk"));
    CHECK(none("logo@2x.png user@localhost a@b.c @example.com"));
}

/* ------------------------------------------------------------------ equivalences */

static uint64_t rng = 88172645463325252ULL;

static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

/* Text built from fragments that almost match, so every check runs. */
static size_t fuzz_text(char *buf, size_t cap)
{
    static const char *const frag[] = {
        "4111", "1111", " ", "-", "5555555555554444", "078-05-1120", "12", "9", "0",
        "eyJ", "eyJhbGciOiJIUzI1NiJ9", ".", "eyJzdWIiOiJ4In0", "AKIA", "IOSFODNN7EXAMPLE",
        "ghp_", "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ", "@", "example.com", "alice",
        "-----BEGIN ", "RSA PRIVATE KEY", "-----", "sk_live_", "xoxb-", "glpat-", "_",
        "SK", "0123456789abcdef", "AIza", "SG.", "\n", "a", "Z", "+",
    };
    size_t n = 0;
    while (n + 64 < cap) {
        const char *f = frag[rnd() % ARRAY_LEN(frag)];
        size_t k = strlen(f);
        memcpy(buf + n, f, k);
        n += k;
    }
    return n;
}

static int hits_equal(const struct hits *a, const struct hits *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t k = 0; k < a->n; k++)
        if (strcmp(a->h[k].rule, b->h[k].rule) != 0 ||
            strcmp(a->h[k].value, b->h[k].value) != 0)
            return 0;
    return 1;
}

/* The vector prefilter only skips positions that cannot match, at both
 * widths, on long texts and on short ones (which it reads through the
 * zero-padded tail window). */
static void test_vector_same_as_bytes(void)
{
    static char buf[4096];
    for (int round = 0; round < 800; round++) {
        size_t cap = round % 2 ? 200 + rnd() % 3000 : 65 + rnd() % 120;
        size_t n = fuzz_text(buf, cap);
        if (round % 4 == 0 && n > 0)
            n = 1 + rnd() % n;      /* any length, down to one byte */
        const unsigned char *g = guarded_copy(buf, n);
        struct hits b;
        memset(&b, 0, sizeof b);
        secrets_use_vector(0);
        secrets_find(g, n, collect, &b);
        /* the same bytes followed by the zeros secrets_find_padded() wants */
        static char padded[4096 + SECRETS_PAD];
        memcpy(padded, buf, n);
        memset(padded + n, 0, SECRETS_PAD);
        const unsigned char *gp = guarded_copy(padded, n + SECRETS_PAD);
        for (unsigned width = 16; width <= 32; width += 16) {
            struct hits a, p;
            memset(&a, 0, sizeof a);
            memset(&p, 0, sizeof p);
            unsigned used = secrets_use_vector(width);
            secrets_find(g, n, collect, &a);
            secrets_find_padded(gp, n, collect, &p);
            CHECK(hits_equal(&a, &b));
            CHECK(hits_equal(&p, &b));
            if (!hits_equal(&a, &b) || !hits_equal(&p, &b)) {
                fprintf(stderr, "  round %d, n %zu, width %u: vector %zu hits, padded %zu, "
                                "bytes %zu\n", round, n, used, a.n, p.n, b.n);
                round = 800;
            }
        }
    }
    secrets_use_vector(32);
}

static int hits_same(const struct hits *a, const struct hits *b)
{
    if (!hits_equal(a, b))
        return 0;
    for (size_t k = 0; k < a->n; k++)
        if (strcmp(a->h[k].kind, b->h[k].kind) != 0 || a->h[k].offset != b->h[k].offset)
            return 0;
    return 1;
}

/* NUL-joined values (secrets_find_padded) find exactly what scanning each
 * value on its own finds: a PEM header without its END line, a two-part
 * JWT at a value's end, a card number cut over two values. */
static void test_joined_values(void)
{
    static const char *const fixed[] = {
        "-----BEGIN RSA PRIVATE KEY-----", "4111 1111 1111 1111",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0", "4111", "1111 1111 1111", "bob@example.com",
        "AKIAIOSFODNN7EXAMPLE", "078-05-1120",
    };
    static char joined[8192 + SECRETS_PAD], one[2048];
    for (int round = 0; round < 300; round++) {
        struct hits each, all;
        memset(&each, 0, sizeof each);
        memset(&all, 0, sizeof all);
        size_t len = 0;
        int nvalues = 1 + (int)(rnd() % 12);
        for (int k = 0; k < nvalues; k++) {
            size_t vn;
            if (rnd() % 2) {
                const char *f = fixed[rnd() % ARRAY_LEN(fixed)];
                vn = strlen(f);
                memcpy(one, f, vn);
            } else {
                vn = fuzz_text(one, 64 + rnd() % 400);
            }
            secrets_find(guarded_copy(one, vn), vn, collect, &each);
            memcpy(joined + len, one, vn);
            len += vn;
            joined[len++] = '\0';
        }
        memset(joined + len, 0, SECRETS_PAD);
        secrets_find_padded(guarded_copy(joined, len - 1 + SECRETS_PAD), len - 1, collect, &all);
        CHECK(hits_equal(&each, &all));
        if (!hits_equal(&each, &all)) {
            fprintf(stderr, "  round %d: each %zu hits, joined %zu\n", round, each.n, all.n);
            break;
        }
    }
}

/* The memo of short values replays exactly what a scan finds: the same
 * matches, kinds, offsets and values (read from the bytes now scanned, or
 * the digits of a grouped card kept with the entry), padded or not; values
 * too long or with too many matches are scanned every time. */
static void test_memo_same_as_scan(void)
{
    static char buf[4096];
    uint64_t hits0, misses0, hits1, misses1;
    secrets_memo_stats(&hits0, &misses0);
    for (int round = 0; round < 600; round++) {
        size_t n = fuzz_text(buf, 70 + rnd() % 260);
        if (round % 3 == 0)
            n = 1 + rnd() % n;
        struct hits want, first, again;
        memset(&want, 0, sizeof want);
        memset(&first, 0, sizeof first);
        memset(&again, 0, sizeof again);
        secrets_find(guarded_copy(buf, n), n, collect, &want);
        bool padded = round % 2;
        static char pb[4096 + SECRETS_PAD];
        memcpy(pb, buf, n);
        memset(pb + n, 0, SECRETS_PAD);
        secrets_find_memo(guarded_copy(pb, n + SECRETS_PAD), n, padded, collect, &first);
        /* the same bytes at another address: a memo hit reads them there */
        secrets_find_memo(guarded_copy(pb, n + SECRETS_PAD), n, padded, collect, &again);
        CHECK(hits_same(&want, &first));
        CHECK(hits_same(&want, &again));
        if (!hits_same(&want, &first) || !hits_same(&want, &again)) {
            fprintf(stderr, "  round %d, n %zu: scan %zu hits, memo %zu then %zu\n", round, n,
                    want.n, first.n, again.n);
            break;
        }
    }
    /* a row of a card in groups, an SSN and an address, twice: one hit */
    static const char row[] = "4111 1111 1111 1111\0" "078-05-1120\0" "bob@example.com";
    struct hits a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    secrets_memo_stats(&hits0, &misses0);
    secrets_find_memo((const uint8_t *)row, sizeof row - 1, false, collect, &a);
    secrets_find_memo(guarded_copy(row, sizeof row - 1), sizeof row - 1, false, collect, &b);
    secrets_memo_stats(&hits1, &misses1);
    CHECK(a.n == 3 && hits_same(&a, &b));
    CHECK(strcmp(b.h[0].value, "4111111111111111") == 0);
    CHECK(hits1 == hits0 + 1 && misses1 == misses0 + 1);
    /* more matches than an entry holds: scanned again, all found again */
    static const char many[] = "a@ex.com b@ex.com c@ex.com d@ex.com e@ex.com f@ex.com "
                               "g@ex.com h@ex.com";
    struct hits m1, m2;
    memset(&m1, 0, sizeof m1);
    memset(&m2, 0, sizeof m2);
    secrets_find_memo((const uint8_t *)many, sizeof many - 1, false, collect, &m1);
    secrets_find_memo((const uint8_t *)many, sizeof many - 1, false, collect, &m2);
    CHECK(m1.n == 8 && hits_same(&m1, &m2));
    secrets_memo_stats(&hits1, &misses1);
    /* longer than the memo keeps: scanned both times */
    static char longv[300];
    memset(longv, 'x', sizeof longv);
    memcpy(longv + 100, "bob@example.com", 15);
    secrets_find_memo((const uint8_t *)longv, sizeof longv, false, collect, &a);
    secrets_find_memo((const uint8_t *)longv, sizeof longv, false, collect, &a);
    secrets_memo_stats(&hits0, &misses0);
    CHECK(hits0 == hits1);
    secrets_memo_free();
}

/* Two guarded places (see guarded_copy()) used again and again, for
 * tests that scan tens of thousands of values: v ends right before an
 * unreadable page of place k.  At most a page. */
static const unsigned char *guarded_place(int k, const void *v, size_t n)
{
    static unsigned char *end[2];
    if (end[k] == NULL) {
        static unsigned char blank[4096];
        /* a page's worth of bytes: the place is the whole page before the guard */
        end[k] = (unsigned char *)guarded_copy(blank, sizeof blank) + sizeof blank;
    }
    unsigned char *dst = end[k] - n;
    memcpy(dst, v, n);
    return dst;
}

/* Scans v through the memo and through a plain scan, from two addresses:
 * the same? */
static bool memo_agrees(const char *v, size_t n)
{
    struct hits want, got;
    memset(&want, 0, sizeof want);
    memset(&got, 0, sizeof got);
    secrets_find(guarded_place(0, v, n), n, collect, &want);
    secrets_find_memo(guarded_place(1, v, n), n, false, collect, &got);
    return hits_same(&want, &got);
}

/* Values met again in the order met before are found through the memo's
 * guess of the next entry, without hashing; a guess that no longer holds
 * (another value of the same length, an entry replaced) changes nothing. */
static void test_memo_sequence(void)
{
    enum { N = 40 };
    static char v[N][200];
    size_t vn[N];
    uint64_t hits0, misses0, hits1, misses1;
    secrets_memo_free();
    for (int i = 0; i < N; i++)
        vn[i] = fuzz_text(v[i], 100 + rnd() % 90);     /* 36 to 189 bytes */
    for (int i = 0; i < N; i++)
        CHECK(memo_agrees(v[i], vn[i]));
    secrets_memo_stats(&hits0, &misses0);
    for (int i = 0; i < N; i++)
        CHECK(memo_agrees(v[i], vn[i]));
    secrets_memo_stats(&hits1, &misses1);
    CHECK_EQ(hits1 - hits0, N);
    CHECK_EQ(misses1, misses0);

    /* after v[0] comes a value as long as v[1] but not v[1] */
    static char w[200];
    memset(w, 'x', vn[1]);
    memcpy(w + vn[1] / 2 - 9, " bob@example.com ", 17);
    CHECK(memo_agrees(v[0], vn[0]));
    CHECK(memo_agrees(w, vn[1]));
    CHECK(memo_agrees(v[1], vn[1]));

    /* every entry replaced, then the old order again */
    static char junk[160];
    for (int i = 0; i < 6000; i++) {
        size_t jn = fuzz_text(junk, 20 + rnd() % 120);
        (void)memo_agrees(junk, jn);
    }
    for (int i = 0; i < N; i++)
        CHECK(memo_agrees(v[i], vn[i]));
    secrets_memo_free();
}

/* The same bytes scanned plain and as NUL-joined values can match
 * differently (a two-part JWT that ends its value): each way has its own
 * entry, whichever comes first. */
static void test_memo_namespaces(void)
{
    static const char v[] = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0\0.abc";
    static char pb[sizeof v + SECRETS_PAD];
    size_t n = sizeof v - 1;
    memcpy(pb, v, n);
    struct hits plain, padded;
    memset(&plain, 0, sizeof plain);
    memset(&padded, 0, sizeof padded);
    secrets_find(guarded_copy(pb, n), n, collect, &plain);
    secrets_find_padded(guarded_copy(pb, n + SECRETS_PAD), n, collect, &padded);
    CHECK(!hits_same(&plain, &padded));         /* else this tests nothing */
    /* twice the same way first: the entry then links to itself, and the
     * guess of the next lookup is that entry */
    static const int turns[] = { 0, 0, 1, 1, 0, 1 };
    for (int order = 0; order < 2; order++) {
        secrets_memo_free();
        for (size_t k = 0; k < ARRAY_LEN(turns); k++) {
            bool pad = (turns[k] + order) % 2 == 1;
            struct hits got;
            memset(&got, 0, sizeof got);
            secrets_find_memo(guarded_copy(pb, n + SECRETS_PAD), n, pad, collect, &got);
            CHECK(hits_same(pad ? &padded : &plain, &got));
        }
    }
    secrets_memo_free();
}

/* Blocks of values replayed in their order, in random turns, more values
 * than the memo holds and a quarter of them with more matches than an
 * entry keeps (their fills are dropped, leaving an entry that once held
 * something else behind the old links): every lookup as a scan gives. */
static void test_memo_churn(void)
{
    enum { BLOCKS = 80, PER = 50 };
    static char pool[BLOCKS * PER][160];
    static size_t pn[BLOCKS * PER];
    secrets_memo_free();
    for (int i = 0; i < BLOCKS * PER; i++) {
        if (rnd() % 4 == 0) {
            int k = snprintf(pool[i], sizeof pool[i], "%u", rnd() % 1000);
            for (int m = 0; m < 8; m++)
                k += snprintf(pool[i] + k, sizeof pool[i] - (size_t)k, " u%d@ex.com", m);
            pn[i] = (size_t)k;
        } else {
            pn[i] = fuzz_text(pool[i], 90 + rnd() % 70);
        }
    }
    int bad = 0;
    for (int round = 0; round < 400 && bad == 0; round++) {
        int b = (int)(rnd() % BLOCKS);
        for (int i = b * PER; i < (b + 1) * PER; i++)
            if (!memo_agrees(pool[i], pn[i]) && bad++ == 0)
                fprintf(stderr, "  round %d, value %d differs\n", round, i);
    }
    CHECK_EQ(bad, 0);
    secrets_memo_free();
}

/* Streaming in pieces finds what one scan finds. */
static void check_stream(const char *buf, size_t n, size_t piece)
{
    struct hits whole, parts;
    struct secrets_stream ss;
    memset(&whole, 0, sizeof whole);
    memset(&parts, 0, sizeof parts);
    memset(&ss, 0, sizeof ss);
    secrets_find((const uint8_t *)buf, n, collect, &whole);
    for (size_t off = 0; off < n; off += piece) {
        size_t k = n - off < piece ? n - off : piece;
        secrets_stream_feed_cb(&ss, guarded_copy(buf + off, k), k, collect, &parts);
    }
    secrets_stream_end_cb(&ss, collect, &parts);
    CHECK(hits_equal(&whole, &parts));
    if (!hits_equal(&whole, &parts))
        fprintf(stderr, "  piece %zu: whole %zu hits, stream %zu\n", piece, whole.n, parts.n);
}

static void test_stream_segmentation(void)
{
    static char buf[6000];
    /* every secret kind, one of them (a long JWT) across the lookahead */
    int n = snprintf(buf, sizeof buf,
                     "card 4111 1111 1111 1111; ssn 078-05-1120; mail alice@example.com\n"
                     "Bearer %s\nAKIAIOSFODNN7EXAMPLE -----BEGIN EC PRIVATE KEY-----\nMHcC\n"
                     "-----END EC PRIVATE KEY-----\n5555555555554444",
                     jwt);
    for (size_t piece = 1; piece <= (size_t)n + 1; piece++)
        check_stream(buf, (size_t)n, piece);
    /* long inputs: pieces larger than the lookahead take the other path */
    for (int round = 0; round < 20; round++) {
        size_t len = fuzz_text(buf, sizeof buf);
        check_stream(buf, len, 1 + rnd() % 3000);
        check_stream(buf, len, SECRETS_LOOKBACK + SECRETS_LOOKAHEAD + rnd() % 100);
    }
}

/* A token longer than the lookahead is found once, cut at the lookahead. */
static void test_long_token(void)
{
    static char buf[8192];
    size_t n = 0;
    memcpy(buf, "eyJhbGciOiJSUzI1NiJ9.", 21);
    n = 21;
    while (n < 5000)
        buf[n++] = 'A';
    buf[n++] = '.';
    buf[n++] = 's';
    struct hits hs = scan(buf);
    CHECK_EQ(hs.n, 1);
    CHECK_EQ(strlen(hs.h[0].value), SECRETS_LOOKAHEAD + 2);   /* from "ey" to the J's lookahead */
    check_stream(buf, n, 1000);
    check_stream(buf, n, 4000);
}

int main(void)
{
    RUN(test_cards);
    RUN(test_ssn);
    RUN(test_jwt);
    RUN(test_api_keys);
    RUN(test_private_key);
    RUN(test_email);
    RUN(test_vector_same_as_bytes);
    RUN(test_joined_values);
    RUN(test_memo_same_as_scan);
    RUN(test_memo_sequence);
    RUN(test_memo_namespaces);
    RUN(test_memo_churn);
    RUN(test_stream_segmentation);
    RUN(test_long_token);
    return unit_done("test_secrets");
}

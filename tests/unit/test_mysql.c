/*
 * test_mysql.c - the MySQL detector on crafted conversations.
 *
 * Each conversation is a list of packets written as byte strings with the
 * readable meaning beside them; the 4-byte packet header (length, sequence
 * id) is added by conv_pkt().  Every conversation is replayed whole and cut
 * into pieces of every size from 1 byte to its longest step; the findings
 * must be identical (segmentation independence).  Inputs sit right before
 * an unreadable page (guarded_copy), so an over-read crashes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../detectors/detector.h"
#include "../../detectors/secrets.h"
#include "../../reports/finding.h"
#include "../../scanner/engine.h"
#include "../../scanner/stats.h"
#include "unit.h"

extern const struct detector detector_mysql;

/* A payload given as a string literal: its bytes without the final NUL. */
#define P(s) (const uint8_t *)(s), (sizeof(s) - 1)

/* ------------------------------------------------------------------ conversations */

#define CONV_MAX_STEPS 32

struct conv {
    struct det_step steps[CONV_MAX_STEPS];
    uint8_t *raw[CONV_MAX_STEPS];
    size_t len[CONV_MAX_STEPS];
    enum dir d[CONV_MAX_STEPS];
    size_t nsteps;
    bool glue;          /* the next packet joins the last step (same segment) */
};

static void conv_bytes(struct conv *c, enum dir d, const uint8_t *p, size_t n)
{
    size_t i;
    if (c->glue && c->nsteps > 0 && c->d[c->nsteps - 1] == d) {
        i = c->nsteps - 1;
    } else {
        if (c->nsteps == CONV_MAX_STEPS) {
            fprintf(stderr, "conversation too long\n");
            exit(2);
        }
        i = c->nsteps++;
        c->d[i] = d;
    }
    c->raw[i] = realloc(c->raw[i], c->len[i] + n);
    if (c->raw[i] == NULL) {
        perror("realloc");
        exit(2);
    }
    memcpy(c->raw[i] + c->len[i], p, n);
    c->len[i] += n;
}

/* Appends one packet: 3-byte length, sequence id, payload. */
static void conv_pkt(struct conv *c, enum dir d, uint8_t seq, const uint8_t *p, size_t n)
{
    uint8_t h[4] = { (uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), seq };
    bool glue = c->glue;
    conv_bytes(c, d, h, 4);
    c->glue = true;
    conv_bytes(c, d, p, n);
    c->glue = glue;
}

/* Places every step before a guard page. */
static void conv_seal(struct conv *c)
{
    for (size_t i = 0; i < c->nsteps; i++) {
        c->steps[i].d = c->d[i];
        c->steps[i].p = guarded_copy(c->raw[i], c->len[i]);
        c->steps[i].n = c->len[i];
    }
}

static void conv_free(struct conv *c)
{
    for (size_t i = 0; i < c->nsteps; i++)
        free(c->raw[i]);
    memset(c, 0, sizeof *c);
}

static struct flow_view mysql_view(void)
{
    struct flow_view fv;
    memset(&fv, 0, sizeof fv);
    fv.id = 1;
    fv.transport = 6;
    fv.client.family = 4;
    fv.client.b[0] = 10, fv.client.b[3] = 1;
    fv.server.family = 4;
    fv.server.b[0] = 10, fv.server.b[3] = 2;
    fv.client_port = 40000;
    fv.server_port = 3306;
    fv.protocol = "MySQL";
    fv.by_dpi = true;
    return fv;
}

/* ------------------------------------------------------------------ findings */

/* Everything a finding says, as one string, to compare runs. */
static void findings_signature(char *out, size_t cap)
{
    size_t n, o = 0;
    struct finding *const *all = findings_sorted(&n);
    out[0] = '\0';
    for (size_t i = 0; i < n && o < cap; i++) {
        struct finding_view v;
        finding_view(all[i], &v);
        o += (size_t)snprintf(out + o, cap - o, "%s sev=%d occ=%llu flows=%llu\n",
                              v.rule->id, (int)v.rule->severity,
                              (unsigned long long)v.occurrences,
                              (unsigned long long)v.flows);
        for (size_t k = 0; k < v.nsamples && o < cap; k++)
            o += (size_t)snprintf(out + o, cap - o, "  pkt=%llu dir=%d %s=%s fp=%s\n",
                                  (unsigned long long)v.samples[k].pkt_no,
                                  (int)v.samples[k].dir, v.samples[k].field,
                                  v.samples[k].excerpt, v.samples[k].fingerprint);
    }
}

/* The finding of a rule, or false. */
static bool finding_of(const char *rule, struct finding_view *v)
{
    size_t n;
    struct finding *const *all = findings_sorted(&n);
    for (size_t i = 0; i < n; i++) {
        finding_view(all[i], v);
        if (strcmp(v->rule->id, rule) == 0)
            return true;
    }
    return false;
}

static bool sample_has(const struct finding_view *v, const char *field, const char *text)
{
    for (size_t k = 0; k < v->nsamples; k++)
        if (strcmp(v->samples[k].field, field) == 0 &&
            strstr(v->samples[k].excerpt, text) != NULL)
            return true;
    return false;
}

static char sig_whole[16384], sig_cut[16384];

/* Replays c with the given chunk sizes (0 first, then 1..max or the list),
 * checks every run states the same findings, and leaves the findings of
 * the whole run in the store for the caller. */
static void conv_check(const struct conv *c, const size_t *chunks, size_t nchunks)
{
    struct flow_view fv = mysql_view();
    size_t longest = 0;
    for (size_t i = 0; i < c->nsteps; i++)
        if (c->steps[i].n > longest)
            longest = c->steps[i].n;
    findings_free();
    CHECK_EQ(engine_run_detector(&detector_mysql, &fv, c->steps, c->nsteps, 0), 0);
    findings_signature(sig_whole, sizeof sig_whole);
    if (getenv("UNIT_VERBOSE") != NULL)
        printf("%s:\n%s", unit_current, sig_whole);
    findings_free();
    size_t total = chunks != NULL ? nchunks : longest;
    for (size_t i = 0; i < total; i++) {
        size_t chunk = chunks != NULL ? chunks[i] : i + 1;
        engine_run_detector(&detector_mysql, &fv, c->steps, c->nsteps, chunk);
        findings_signature(sig_cut, sizeof sig_cut);
        findings_free();
        if (strcmp(sig_whole, sig_cut) != 0) {
            fprintf(stderr, "%s: chunk %zu differs\n--- whole\n%s--- cut\n%s",
                    unit_current, chunk, sig_whole, sig_cut);
            CHECK(strcmp(sig_whole, sig_cut) == 0);
            break;
        }
    }
    engine_run_detector(&detector_mysql, &fv, c->steps, c->nsteps, 0);
}

/* ------------------------------------------------------------------ packets */

/* Server greeting of MariaDB 10.11 (HandshakeV10) offering TLS. */
static const char greet_ssl[] =
    "\x0a"                                  /* protocol 10 */
    "5.5.5-10.11.6-MariaDB-0+deb12u1" "\0"  /* version, MariaDB's 5.5.5- prefix */
    "\x05\x00\x00\x00"                      /* connection id 5 */
    "abcdefgh" "\0"                         /* scramble part 1, filler */
    "\xde\xff"                              /* caps: PROTOCOL_41 SSL SECURE_CONNECTION ... */
    "\x2d" "\x02\x00"                       /* charset, status AUTOCOMMIT */
    "\x3f\x00"                              /* caps: PLUGIN_AUTH CONNECT_ATTRS LENENC_DATA */
    "\x15"                                  /* auth data length 21 */
    "\0\0\0\0\0\0\0\0\0\0"                  /* reserved */
    "ijklmnopqrst" "\0"                     /* scramble part 2 */
    "mysql_native_password" "\0";           /* default auth plugin */

/* The same greeting without TLS (caps lower 0xf7de: no CLIENT_SSL). */
static const char greet_plain[] =
    "\x0a" "5.5.5-10.11.6-MariaDB-0+deb12u1" "\0" "\x05\x00\x00\x00" "abcdefgh" "\0"
    "\xde\xf7"                              /* caps: no SSL, no COMPRESS */
    "\x2d" "\x02\x00" "\x3f\x00" "\x15" "\0\0\0\0\0\0\0\0\0\0"
    "ijklmnopqrst" "\0" "mysql_native_password" "\0";

/* The same greeting offering compression (caps lower 0xf7fe: COMPRESS, no SSL). */
static const char greet_compress[] =
    "\x0a" "5.5.5-10.11.6-MariaDB-0+deb12u1" "\0" "\x05\x00\x00\x00" "abcdefgh" "\0"
    "\xfe\xf7"
    "\x2d" "\x02\x00" "\x3f\x00" "\x15" "\0\0\0\0\0\0\0\0\0\0"
    "ijklmnopqrst" "\0" "mysql_native_password" "\0";

/* HandshakeResponse41: user "app", database "shop", mysql_native_password,
 * program_name "mysql"; no CLIENT_SSL. */
static const char login_app[] =
    "\x8d\xa6\x3f\x00"      /* caps: PROTOCOL_41 SECURE_CONNECTION CONNECT_WITH_DB
                             * PLUGIN_AUTH CONNECT_ATTRS LENENC_DATA */
    "\x00\x00\x00\x01"      /* max packet 16 MiB */
    "\x2d"                  /* charset utf8mb4 */
    "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"     /* 23 filler bytes */
    "app" "\0"                                  /* user */
    "\x14" "0123456789abcdefghij"               /* auth response, 20 bytes */
    "shop" "\0"                                 /* database */
    "mysql_native_password" "\0"                /* plugin */
    "\x2b"                                      /* attributes, 43 bytes */
    "\x0c" "_client_name" "\x0a" "libmariadb"
    "\x0c" "program_name" "\x05" "mysql";

/* The same login negotiating compression (caps lower 0xa6ad). */
static const char login_compress[] =
    "\xad\xa6\x3f\x00" "\x00\x00\x00\x01" "\x2d"
    "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
    "app" "\0" "\x14" "0123456789abcdefghij" "shop" "\0" "mysql_native_password" "\0"
    "\x2b" "\x0c" "_client_name" "\x0a" "libmariadb" "\x0c" "program_name" "\x05" "mysql";

/* SSLRequest: the first 32 bytes of a login with CLIENT_SSL (caps 0xae8d). */
static const char ssl_request[] =
    "\x8d\xae\x3f\x00" "\x00\x00\x00\x01" "\x2d"
    "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";

/* OK: affected rows 0, insert id 0, status AUTOCOMMIT, no warnings. */
static const char ok_pkt[] = "\x00\x00\x00\x02\x00\x00\x00";

static const char query_card[] = "\x03" "SELECT card FROM users WHERE id=42";

/* Text result set: one column "card" of shop.users, one row, EOF-terminated. */
static const char rs_count[] = "\x01";                  /* 1 column */
static const char rs_coldef[] =
    "\x03" "def" "\x04" "shop" "\x05" "users" "\x05" "users" "\x04" "card" "\x04" "card"
    "\x0c" "\x2d\x00" "\x10\x00\x00\x00" "\xfd" "\x00\x00" "\x00" "\x00\x00";
static const char rs_eof[] = "\xfe\x00\x00\x22\x00";    /* EOF, status 0x0022 */
static const char rs_row[] = "\x10" "4111111111111111"; /* one value, 16 bytes */

/* ERR 3159 of require_secure_transport=ON. */
static const char err_tls_required[] =
    "\xff" "\x57\x0c" "#HY000"
    "Connections using insecure transport are prohibited while "
    "--require_secure_transport=ON.";

/* The greeting plus a plaintext login, the start of most cases. */
static void conv_login(struct conv *c, const uint8_t *greet, size_t gn, const uint8_t *login,
                       size_t ln)
{
    conv_pkt(c, DIR_TO_CLIENT, 0, greet, gn);
    conv_pkt(c, DIR_TO_SERVER, 1, login, ln);
}

/* A text row's payload, for conv_query_rows(). */
struct row {
    const uint8_t *p;
    size_t n;
};
#define ROW(s) { (const uint8_t *)(s), sizeof(s) - 1 }

/* query_card, then its text result set: the count of ncols columns, their
 * definitions, EOF, the rows, EOF, numbered in order. */
static void conv_query_rows(struct conv *c, uint8_t ncols, const struct row *rows, size_t nrows)
{
    uint8_t seq = 1;
    conv_pkt(c, DIR_TO_SERVER, 0, P(query_card));
    conv_pkt(c, DIR_TO_CLIENT, seq++, &ncols, 1);
    for (uint8_t k = 0; k < ncols; k++)
        conv_pkt(c, DIR_TO_CLIENT, seq++, P(rs_coldef));
    conv_pkt(c, DIR_TO_CLIENT, seq++, P(rs_eof));
    for (size_t i = 0; i < nrows; i++)
        conv_pkt(c, DIR_TO_CLIENT, seq++, rows[i].p, rows[i].n);
    conv_pkt(c, DIR_TO_CLIENT, seq, P(rs_eof));
}

/* ------------------------------------------------------------------ tests */

static void test_plain_session(void)
{
    struct conv c = { 0 };
    struct finding_view v;
    conv_login(&c, P(greet_ssl), P(login_app));
    conv_pkt(&c, DIR_TO_CLIENT, 2, P(ok_pkt));
    conv_pkt(&c, DIR_TO_SERVER, 0, P(query_card));
    c.glue = true;                      /* the whole result set in one segment */
    conv_pkt(&c, DIR_TO_CLIENT, 1, P(rs_count));
    conv_pkt(&c, DIR_TO_CLIENT, 2, P(rs_coldef));
    conv_pkt(&c, DIR_TO_CLIENT, 3, P(rs_eof));
    conv_pkt(&c, DIR_TO_CLIENT, 4, P(rs_row));
    conv_pkt(&c, DIR_TO_CLIENT, 5, P(rs_eof));
    c.glue = false;
    conv_pkt(&c, DIR_TO_SERVER, 0, P("\x01"));          /* COM_QUIT */
    conv_seal(&c);
    conv_check(&c, NULL, 0);

    /* the five MySQL rules, and the card number of the row through the
     * secrets scanner */
    CHECK_EQ(findings_count(), 6);
    CHECK(finding_of("pii.card-number", &v));
    CHECK(finding_of("mysql.cleartext-session", &v));
    CHECK_EQ(v.rule->severity, SEV_MEDIUM);
    CHECK(sample_has(&v, "server_version", "10.11.6-MariaDB-0+deb12u1 tls_offered=yes"));
    CHECK(finding_of("mysql.tls-not-enforced", &v));
    CHECK(sample_has(&v, "user", "app"));
    CHECK(finding_of("mysql.cleartext-login", &v));
    CHECK_EQ(v.rule->severity, SEV_HIGH);
    CHECK(sample_has(&v, "login",
                     "user=app db=shop plugin=mysql_native_password program=mysql"));
    CHECK_EQ(v.samples[0].pkt_no, 2);   /* dated by the login packet, not the OK */
    CHECK(finding_of("mysql.cleartext-query", &v));
    CHECK_EQ(v.occurrences, 1);
    CHECK(sample_has(&v, "COM_QUERY", "SELECT card FROM users WHERE id="));
    CHECK(finding_of("mysql.cleartext-resultset", &v));
    CHECK_EQ(v.occurrences, 1);
    CHECK(sample_has(&v, "row", ""));
    CHECK(!finding_of("mysql.cleartext-password", &v));
    findings_free();
    conv_free(&c);
}

/* Unprintable bytes of a login become '?' in its evidence, wherever they
 * fall in the eight-byte steps the copy takes; bytes 0x20 and 0x7e stay. */
static void test_login_unprintable(void)
{
    static const char login[] =
        "\x8d\xa6\x3f\x00" "\x00\x00\x00\x01" "\x2d"
        "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
        "ops\x1fuser\x7fname\xc3\xa9 abcdefgh~ij\x80" "\0"      /* user */
        "\x14" "0123456789abcdefghij"
        "shop" "\0"
        "mysql_native_password" "\0"
        "\x2b"
        "\x0c" "_client_name" "\x0a" "libmariadb"
        "\x0c" "program_name" "\x05" "my\tsq";
    struct conv c = { 0 };
    struct finding_view v;
    conv_login(&c, P(greet_ssl), P(login));
    conv_pkt(&c, DIR_TO_CLIENT, 2, P(ok_pkt));
    conv_seal(&c);
    conv_check(&c, NULL, 0);
    CHECK(finding_of("mysql.cleartext-login", &v));
    CHECK(sample_has(&v, "login", "user=ops?user?name?? abcdefgh~ij? db=shop "
                                  "plugin=mysql_native_password program=my?sq"));
    CHECK(finding_of("mysql.tls-not-enforced", &v));
    CHECK(sample_has(&v, "user", "ops?user?name?? abcdefgh~ij?"));
    findings_free();
    conv_free(&c);
}

/* The same rows again and again (the same query run twice, a row repeated):
 * every card is counted, each distinct card is one sample and one distinct
 * secret, whether the scanner searched the row or remembered it. */
static void test_repeated_rows(void)
{
    static const char row_b[] = "\x10" "5555555555554444";
    struct conv c = { 0 };
    struct finding_view v;
    conv_login(&c, P(greet_ssl), P(login_app));
    conv_pkt(&c, DIR_TO_CLIENT, 2, P(ok_pkt));
    const struct row rows[] = { ROW(rs_row), ROW(row_b), ROW(rs_row) };
    for (int q = 0; q < 2; q++)
        conv_query_rows(&c, 1, rows, 3);
    conv_seal(&c);
    conv_check(&c, NULL, 0);
    CHECK(finding_of("pii.card-number", &v));
    CHECK_EQ(v.occurrences, 6);
    CHECK_EQ(v.nsamples, 2);
    CHECK_EQ(v.distinct_secrets, 2);
    CHECK_EQ(v.first_ns < v.last_ns, true);
    findings_free();
    conv_free(&c);
}

/* Rows of several values, met again: the second time the memo states them
 * from the row's own bytes, and each match must still be the bytes of its
 * own value, after a NULL and after a length written in three bytes. */
static void test_repeated_wide_rows(void)
{
    /* id, NULL, a name with a 0xfc length, a card, an AWS key inside its
     * value, a card written in groups (reported without its spaces), an
     * address */
    static const char row_w[] = "\x02" "42" "\xfb" "\xfc\x05\x00" "alice"
                                "\x10" "5105105105105100" "\x18" "key=AKIAIOSFODNN7EXAMPLE"
                                "\x13" "4111 1111 1111 1111" "\x0f" "bob@example.com";
    /* the same card first, in another column */
    static const char row_v[] = "\x10" "5105105105105100" "\xfb" "\x01" "x";
    struct conv c = { 0 };
    struct finding_view v;
    uint64_t hits0, misses0, hits1, misses1;
    conv_login(&c, P(greet_ssl), P(login_app));
    conv_pkt(&c, DIR_TO_CLIENT, 2, P(ok_pkt));
    c.glue = true;      /* each response in one segment */
    const struct row rows[] = { ROW(row_w), ROW(row_v) };
    for (int q = 0; q < 3; q++)
        conv_query_rows(&c, 5, rows, 2);
    conv_seal(&c);
    /* conv_check replays the conversation several times over one memo (a
     * new epoch each time, so remembered rows are stated in full): searched
     * and remembered rows must agree.  Both rows, and the statement, are
     * searched once; every later row is a memo hit. */
    secrets_memo_free();
    secrets_memo_stats(&hits0, &misses0);
    conv_check(&c, NULL, 0);
    secrets_memo_stats(&hits1, &misses1);
    CHECK(misses1 - misses0 <= 3);
    CHECK(hits1 - hits0 >= 6 * 2);
    CHECK(finding_of("pii.card-number", &v));
    CHECK_EQ(v.occurrences, 9);
    CHECK_EQ(v.distinct_secrets, 2);
    CHECK(sample_has(&v, "row", "51******00 (16 chars)"));
    CHECK(sample_has(&v, "row", "41******11 (16 chars)"));
    CHECK(finding_of("pii.email", &v));
    CHECK_EQ(v.occurrences, 3);
    CHECK(finding_of("secret.api-key", &v));
    CHECK_EQ(v.occurrences, 3);
    CHECK_EQ(v.nsamples, 1);
    CHECK(sample_has(&v, "row:aws-access-key-id", "AK******LE (20 chars)"));
    findings_free();

    /* the same replay with the memo emptied first, as a new process has it */
    secrets_memo_free();
    conv_check(&c, NULL, 0);
    char first[sizeof sig_whole];
    findings_signature(first, sizeof first);
    findings_free();
    conv_check(&c, NULL, 0);
    findings_signature(sig_cut, sizeof sig_cut);
    CHECK_STR(first, sig_cut);
    findings_free();
    conv_free(&c);
}

/* The finding of rule for the server whose address ends in last. */
static bool finding_at(const char *rule, uint8_t last, struct finding_view *v)
{
    size_t n;
    struct finding *const *all = findings_sorted(&n);
    for (size_t i = 0; i < n; i++) {
        finding_view(all[i], v);
        if (strcmp(v->rule->id, rule) == 0 && v->server.b[3] == last)
            return true;
    }
    return false;
}

/* A result set that comes back byte for byte is stated from the memo of
 * runs (secrets_again_run()) as its rows would be: the same counts,
 * samples and distinct secrets as searching every row (conv_check()
 * compares the whole-segment replay with byte-chunked ones, where no run
 * forms).  A run that differs from one remembered only in its middle
 * (same length, same ends) is not taken for it.  The same run sent by
 * another server is stated in full for it. */
static void test_repeated_runs(void)
{
    static const char row_a[] = "\x01" "7" "\x10" "5105105105105100" "\x0f" "bob@example.com"
                                "\x18" "key=AKIAIOSFODNN7EXAMPLE";
    static const char row_b[] = "\x01" "8" "\x10" "4012888888881881" "\x0f" "eve@example.com"
                                "\xfb";
    static const char row_b2[] = "\x01" "8" "\x10" "4111111111111111" "\x0f" "eva@example.com"
                                 "\xfb";
    /* a long note: the segment of rows is long enough to be looked up whole */
    static const char row_c[] = "\x01" "9" "\xfb" "\x0f" "amy@example.com" "\xbb"
        "note: the customer asked for a callback about the order; nothing else to record "
        "here, and this text only pads the row so that the rows of the segment make a "
        "run the memo of runs looks up.";
    struct conv c = { 0 };
    struct finding_view v;
    uint64_t hits0, misses0, hits1, misses1;
    conv_login(&c, P(greet_ssl), P(login_app));
    conv_pkt(&c, DIR_TO_CLIENT, 2, P(ok_pkt));
    c.glue = true;      /* each response in one segment */
    const struct row rows[] = { ROW(row_a), ROW(row_b), ROW(row_c) };
    const struct row rows2[] = { ROW(row_a), ROW(row_b2), ROW(row_c) };  /* only the middle differs */
    for (int q = 0; q < 6; q++)
        conv_query_rows(&c, 4, q < 4 ? rows : rows2, 3);
    conv_seal(&c);
    secrets_memo_free();
    secrets_run_stats(&hits0, &misses0);
    conv_check(&c, NULL, 0);
    secrets_run_stats(&hits1, &misses1);
    CHECK(hits1 - hits0 >= 2);
    CHECK(finding_at("pii.card-number", 2, &v));
    CHECK_EQ(v.occurrences, 12);
    CHECK_EQ(v.distinct_secrets, 3);
    CHECK_EQ(v.nsamples, 3);
    CHECK(finding_at("pii.email", 2, &v));
    CHECK_EQ(v.occurrences, 18);
    CHECK_EQ(v.distinct_secrets, 4);
    CHECK(finding_at("secret.api-key", 2, &v));
    CHECK_EQ(v.occurrences, 6);
    CHECK(finding_at("mysql.cleartext-resultset", 2, &v));
    CHECK_EQ(v.occurrences, 6);

    /* another server, its findings beside the first one's: the runs it
     * sends are remembered as stated to the first server, so they are
     * stated again, in full */
    struct flow_view other = mysql_view();
    other.server.b[3] = 3;
    secrets_run_stats(&hits0, &misses0);
    engine_run_detector(&detector_mysql, &other, c.steps, c.nsteps, 0);
    secrets_run_stats(&hits1, &misses1);
    CHECK(hits1 - hits0 >= 2);
    CHECK(finding_at("pii.card-number", 3, &v));
    CHECK_EQ(v.occurrences, 12);
    CHECK_EQ(v.distinct_secrets, 3);
    CHECK_EQ(v.nsamples, 3);
    CHECK(finding_at("pii.email", 3, &v));
    CHECK_EQ(v.distinct_secrets, 4);
    CHECK(finding_at("pii.card-number", 2, &v));
    CHECK_EQ(v.occurrences, 12);
    findings_free();
    conv_free(&c);
}

/* A row longer than the memo holds (240 bytes) stops a segment from being
 * remembered as a run: replayed, the run would leave out that row's facts.
 * A segment of rows that are not text rows (a value runs past the packet)
 * counts no row, the first time or later.  Found by a differential review
 * of the memo of runs against the code before it. */
static void test_long_rows_in_runs(void)
{
    uint8_t rowl[300];
    size_t ln = 0;
    rowl[ln++] = 0xfc;                      /* one value of 260 bytes */
    rowl[ln++] = 4;
    rowl[ln++] = 1;
    memset(rowl + ln, 'a', 244);
    rowl[ln + 244] = ' ';
    ln += 245;
    memcpy(rowl + ln, "bob@example.com", 15);
    ln += 15;
    struct conv c = { 0 };
    struct finding_view v;
    conv_login(&c, P(greet_ssl), P(login_app));
    conv_pkt(&c, DIR_TO_CLIENT, 2, P(ok_pkt));
    c.glue = true;
    const struct row rows[] = { ROW(rs_row), { rowl, ln } };
    for (int q = 0; q < 3; q++)
        conv_query_rows(&c, 1, rows, 2);
    conv_seal(&c);
    secrets_memo_free();
    conv_check(&c, NULL, 0);
    struct flow_view other = mysql_view();
    other.server.b[3] = 3;
    engine_run_detector(&detector_mysql, &other, c.steps, c.nsteps, 0);
    for (uint8_t server = 2; server <= 3; server++) {
        CHECK(finding_at("pii.email", server, &v));
        CHECK_EQ(v.occurrences, 3);
        CHECK(finding_at("pii.card-number", server, &v));
        CHECK_EQ(v.occurrences, 3);
        CHECK(finding_at("mysql.cleartext-resultset", server, &v));
        CHECK_EQ(v.occurrences, 3);
    }
    findings_free();
    conv_free(&c);

    /* the first value claims 600 bytes: no text row */
    rowl[1] = 0x58;
    rowl[2] = 0x02;
    conv_login(&c, P(greet_ssl), P(login_app));
    conv_pkt(&c, DIR_TO_CLIENT, 2, P(ok_pkt));
    c.glue = true;
    const struct row bad[] = { { rowl, ln }, { rowl, ln } };
    for (int q = 0; q < 3; q++)
        conv_query_rows(&c, 1, bad, 2);
    conv_seal(&c);
    conv_check(&c, NULL, 0);
    engine_run_detector(&detector_mysql, &other, c.steps, c.nsteps, 0);
    CHECK(!finding_at("mysql.cleartext-resultset", 2, &v));
    CHECK(!finding_at("mysql.cleartext-resultset", 3, &v));
    findings_free();
    conv_free(&c);
}

/* An empty packet where a row should be is not a row, whether it comes
 * with the rows in one segment or on its own. */
static void test_empty_row_packet(void)
{
    struct conv c = { 0 };
    struct finding_view v;
    conv_login(&c, P(greet_ssl), P(login_app));
    conv_pkt(&c, DIR_TO_CLIENT, 2, P(ok_pkt));
    c.glue = true;
    const struct row empty[] = { { (const uint8_t *)"", 0 } };
    conv_query_rows(&c, 1, empty, 1);
    conv_seal(&c);
    conv_check(&c, NULL, 0);
    CHECK(finding_of("mysql.cleartext-query", &v));
    CHECK(!finding_of("mysql.cleartext-resultset", &v));
    findings_free();
    conv_free(&c);
}

static void test_ssl_request(void)
{
    struct conv c = { 0 };
    conv_pkt(&c, DIR_TO_CLIENT, 0, P(greet_ssl));
    conv_pkt(&c, DIR_TO_SERVER, 1, P(ssl_request));
    /* then TLS: a ClientHello start, which must not be read as MySQL */
    conv_bytes(&c, DIR_TO_SERVER, P("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"));
    conv_bytes(&c, DIR_TO_CLIENT, P("\x16\x03\x03\x00\x5d\x02\x00\x00\x59\x03\x03"));
    conv_seal(&c);
    conv_check(&c, NULL, 0);
    CHECK_EQ(findings_count(), 0);
    findings_free();
    conv_free(&c);
}

static void test_clear_password_switch(void)
{
    struct conv c = { 0 };
    struct finding_view v;
    conv_login(&c, P(greet_plain), P(login_app));
    /* AuthSwitchRequest to mysql_clear_password: the answer is the password */
    conv_pkt(&c, DIR_TO_CLIENT, 2, P("\xfe" "mysql_clear_password" "\0"));
    conv_pkt(&c, DIR_TO_SERVER, 3, P("s3cret-Passw0rd" "\0"));
    conv_pkt(&c, DIR_TO_CLIENT, 4, P(ok_pkt));
    conv_seal(&c);
    conv_check(&c, NULL, 0);

    CHECK(finding_of("mysql.cleartext-password", &v));
    CHECK_EQ(v.rule->severity, SEV_CRITICAL);
    CHECK_EQ(v.nsamples, 1);
    CHECK_STR(v.samples[0].field, "password");
    CHECK(strstr(v.samples[0].excerpt, "s3cret") == NULL);   /* masked */
    CHECK(v.samples[0].fingerprint[0] != '\0');
    CHECK_EQ(v.distinct_secrets, 1);
    CHECK(finding_of("mysql.cleartext-session", &v));
    CHECK(sample_has(&v, "server_version", "tls_offered=no"));
    CHECK(!finding_of("mysql.tls-not-enforced", &v));        /* TLS was not offered */
    CHECK(finding_of("mysql.cleartext-login", &v));
    findings_free();
    conv_free(&c);
}

static void test_clear_password_in_login(void)
{
    struct conv c = { 0 };
    struct finding_view v;
    /* the client's own plugin is mysql_clear_password: the password is in
     * the login's auth response */
    static const char login_clear[] =
        "\x8d\xa2\x0b\x00" "\x00\x00\x00\x01" "\x2d"    /* no CONNECT_ATTRS, no LENENC */
        "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
        "ldapuser" "\0"
        "\x08" "ldap-pw" "\0"                           /* 1-byte length, password+NUL */
        "crm" "\0"
        "mysql_clear_password" "\0";
    conv_login(&c, P(greet_plain), P(login_clear));
    conv_pkt(&c, DIR_TO_CLIENT, 2, P(ok_pkt));
    conv_seal(&c);
    conv_check(&c, NULL, 0);
    CHECK(finding_of("mysql.cleartext-password", &v));
    CHECK(finding_of("mysql.cleartext-login", &v));
    CHECK(sample_has(&v, "login", "user=ldapuser db=crm plugin=mysql_clear_password"));
    findings_free();
    conv_free(&c);
}

static void test_dialog_password(void)
{
    struct conv c = { 0 };
    struct finding_view v;
    conv_login(&c, P(greet_plain), P(login_app));
    /* MariaDB PAM: switch to "dialog", question type 4 (password) */
    conv_pkt(&c, DIR_TO_CLIENT, 2, P("\xfe" "dialog" "\0" "\x04" "Password: "));
    conv_pkt(&c, DIR_TO_SERVER, 3, P("pam-secret" "\0"));
    conv_pkt(&c, DIR_TO_CLIENT, 4, P(ok_pkt));
    conv_seal(&c);
    conv_check(&c, NULL, 0);
    CHECK(finding_of("mysql.cleartext-password", &v));
    CHECK_EQ(v.occurrences, 1);
    findings_free();
    conv_free(&c);
}

static void test_sha2_full_auth_no_password(void)
{
    struct conv c = { 0 };
    struct finding_view v;
    /* caching_sha2_password full authentication on a plain connection: the
     * client asks for the server's RSA key and sends the password encrypted */
    conv_login(&c, P(greet_plain), P(login_app));
    conv_pkt(&c, DIR_TO_CLIENT, 2, P("\xfe" "caching_sha2_password" "\0" "abcdefghijklmnopqrst"
                                     "\0"));
    conv_pkt(&c, DIR_TO_SERVER, 3, P("0123456789abcdefghij0123456789ab"));
    conv_pkt(&c, DIR_TO_CLIENT, 4, P("\x01\x04"));             /* perform full auth */
    conv_pkt(&c, DIR_TO_SERVER, 5, P("\x02"));                 /* request public key */
    conv_pkt(&c, DIR_TO_CLIENT, 6, P("\x01" "-----BEGIN PUBLIC KEY-----\n"));
    conv_pkt(&c, DIR_TO_SERVER, 7, P("\x7d\x11\x22\x33\x44\x55\x66\x77"));  /* RSA */
    conv_pkt(&c, DIR_TO_CLIENT, 8, P("\xff\x15\x04" "#28000" "Access denied for user 'app'"));
    conv_seal(&c);
    conv_check(&c, NULL, 0);
    CHECK(!finding_of("mysql.cleartext-password", &v));
    CHECK(!finding_of("mysql.cleartext-query", &v));
    CHECK(finding_of("mysql.cleartext-login", &v));          /* refused, but readable */
    CHECK(sample_has(&v, "login", "user=app"));
    findings_free();
    conv_free(&c);
}

static void test_tls_required(void)
{
    struct conv c = { 0 };
    struct finding_view v;
    conv_login(&c, P(greet_ssl), P(login_app));
    conv_pkt(&c, DIR_TO_CLIENT, 2, P(err_tls_required));
    conv_seal(&c);
    conv_check(&c, NULL, 0);
    CHECK_EQ(findings_count(), 1);
    CHECK(finding_of("mysql.tls-required", &v));
    CHECK_EQ(v.rule->severity, SEV_INFO);
    CHECK(sample_has(&v, "error", "insecure transport"));
    findings_free();
    conv_free(&c);

    /* the same refusal matched by its message alone (renumbered by a proxy) */
    memset(&c, 0, sizeof c);
    conv_login(&c, P(greet_ssl), P(login_app));
    conv_pkt(&c, DIR_TO_CLIENT, 2, P("\xff\x15\x04" "#HY000" "Connections using insecure "
                                     "transport are prohibited"));
    conv_seal(&c);
    conv_check(&c, NULL, 0);
    CHECK_EQ(findings_count(), 1);
    CHECK(finding_of("mysql.tls-required", &v));
    findings_free();
    conv_free(&c);
}

static void test_mariadb_refusal(void)
{
    struct conv c = { 0 };
    struct finding_view v;
    /* MariaDB under require_secure_transport=ON answers an insecure login
     * with a plain 1045, like a wrong password: the login was readable, but
     * nobody got in without TLS */
    conv_login(&c, P(greet_ssl), P(login_app));
    conv_pkt(&c, DIR_TO_CLIENT, 2, P("\xff\x15\x04" "#28000" "Access denied for user "
                                     "'app'@'127.0.0.1' (using password: YES)"));
    conv_seal(&c);
    conv_check(&c, NULL, 0);
    CHECK(finding_of("mysql.cleartext-login", &v));
    CHECK(finding_of("mysql.cleartext-session", &v));
    CHECK(!finding_of("mysql.tls-not-enforced", &v));
    CHECK(!finding_of("mysql.tls-required", &v));
    CHECK_EQ(findings_count(), 2);
    findings_free();
    conv_free(&c);
}

/* MySQL 8 style: CLIENT_DEPRECATE_EOF (no EOF after the column definitions,
 * an OK with 0xfe ends the rows) and CLIENT_QUERY_ATTRIBUTES (a parameter
 * count and set count before each statement). */
static const char greet_mysql8[] =
    "\x0a" "8.0.36" "\0" "\x09\x00\x00\x00" "abcdefgh" "\0"
    "\xff\xf7"                              /* caps lower: no SSL */
    "\xff" "\x02\x00"
    "\xff\x09"                              /* caps upper: DEPRECATE_EOF QUERY_ATTRIBUTES ... */
    "\x15" "\0\0\0\0\0\0\0\0\0\0" "ijklmnopqrst" "\0" "caching_sha2_password" "\0";
static const char login_mysql8[] =
    "\x85\xa6\x3f\x09" "\x00\x00\x00\x01" "\xff"    /* no CONNECT_WITH_DB */
    "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
    "root" "\0" "\x20" "0123456789abcdefghij0123456789ab"
    "caching_sha2_password" "\0" "\x00";
static const char ok_end[] = "\xfe\x00\x00\x02\x00\x00\x00";   /* OK as end of rows */

static void test_mysql8_deprecate_eof(void)
{
    struct conv c = { 0 };
    struct finding_view v;
    conv_login(&c, P(greet_mysql8), P(login_mysql8));
    conv_pkt(&c, DIR_TO_CLIENT, 2, P("\x01\x03"));                /* fast auth OK */
    conv_pkt(&c, DIR_TO_CLIENT, 3, P(ok_pkt));
    /* no attributes: 0x00 0x01 before the statement; an empty result */
    conv_pkt(&c, DIR_TO_SERVER, 0, P("\x03" "\x00\x01" "SELECT card FROM users WHERE 0"));
    c.glue = true;
    conv_pkt(&c, DIR_TO_CLIENT, 1, P(rs_count));
    conv_pkt(&c, DIR_TO_CLIENT, 2, P(rs_coldef));
    conv_pkt(&c, DIR_TO_CLIENT, 3, P(ok_end));
    c.glue = false;
    /* one attribute "tr" = "xyz" (type STRING), then the statement; one row */
    conv_pkt(&c, DIR_TO_SERVER, 0, P("\x03" "\x01\x01" "\x00" "\x01" "\xfe\x00" "\x02" "tr"
                                     "\x03" "xyz" "SELECT card FROM users"));
    c.glue = true;
    conv_pkt(&c, DIR_TO_CLIENT, 1, P(rs_count));
    conv_pkt(&c, DIR_TO_CLIENT, 2, P(rs_coldef));
    conv_pkt(&c, DIR_TO_CLIENT, 3, P(rs_row));
    conv_pkt(&c, DIR_TO_CLIENT, 4, P(ok_end));
    c.glue = false;
    conv_seal(&c);
    conv_check(&c, NULL, 0);
    CHECK(finding_of("mysql.cleartext-query", &v));
    CHECK_EQ(v.occurrences, 2);
    CHECK(sample_has(&v, "COM_QUERY", "SELECT card FROM users WHERE ?"));
    CHECK(sample_has(&v, "COM_QUERY", "SELECT card FROM users"));
    for (size_t k = 0; k < v.nsamples; k++)
        CHECK(strstr(v.samples[k].excerpt, "xyz") == NULL);
    CHECK(finding_of("mysql.cleartext-resultset", &v));
    CHECK_EQ(v.occurrences, 1);         /* the empty result set has no row */
    CHECK(finding_of("mysql.cleartext-session", &v));
    CHECK(sample_has(&v, "server_version", "8.0.36 tls_offered=no"));
    findings_free();
    conv_free(&c);
}

static void test_multi_resultset(void)
{
    struct conv c = { 0 };
    struct finding_view v;
    conv_login(&c, P(greet_plain), P(login_app));
    conv_pkt(&c, DIR_TO_CLIENT, 2, P(ok_pkt));
    conv_pkt(&c, DIR_TO_SERVER, 0, P("\x03" "CALL report()"));
    c.glue = true;
    conv_pkt(&c, DIR_TO_CLIENT, 1, P(rs_count));
    conv_pkt(&c, DIR_TO_CLIENT, 2, P(rs_coldef));
    conv_pkt(&c, DIR_TO_CLIENT, 3, P(rs_eof));
    conv_pkt(&c, DIR_TO_CLIENT, 4, P(rs_row));
    conv_pkt(&c, DIR_TO_CLIENT, 5, P("\xfe\x00\x00\x0a\x00"));   /* EOF, MORE_RESULTS */
    conv_pkt(&c, DIR_TO_CLIENT, 6, P(rs_count));
    conv_pkt(&c, DIR_TO_CLIENT, 7, P(rs_coldef));
    conv_pkt(&c, DIR_TO_CLIENT, 8, P(rs_eof));
    conv_pkt(&c, DIR_TO_CLIENT, 9, P(rs_row));
    conv_pkt(&c, DIR_TO_CLIENT, 10, P(rs_row));
    conv_pkt(&c, DIR_TO_CLIENT, 11, P("\xfe\x00\x00\x0a\x00"));
    conv_pkt(&c, DIR_TO_CLIENT, 12, P(ok_pkt));                     /* CALL's own status */
    c.glue = false;
    conv_seal(&c);
    conv_check(&c, NULL, 0);
    CHECK(finding_of("mysql.cleartext-resultset", &v));
    CHECK_EQ(v.occurrences, 2);
    findings_free();
    conv_free(&c);
}

static void test_old_protocol(void)
{
    struct conv c = { 0 };
    struct finding_view v;
    /* a 4.0 server and a HandshakeResponse320 client with a database */
    conv_pkt(&c, DIR_TO_CLIENT, 0, P("\x0a" "4.0.27" "\0" "\x01\x00\x00\x00" "abcdefgh" "\0"
                                     "\x2c\x00" "\x08" "\x02\x00" "\0\0\0\0\0\0\0\0\0\0"
                                     "\0\0\0"));
    conv_pkt(&c, DIR_TO_SERVER, 1, P("\x8d\x00" "\x00\x00\x01" "olduser" "\0"
                                     "\x41\x42\x43\x44\x45\x46\x47\x48" "\0" "legacy"));
    conv_pkt(&c, DIR_TO_CLIENT, 2, P("\x00\x00\x00\x02\x00"));
    conv_pkt(&c, DIR_TO_SERVER, 0, P("\x03" "SELECT 1"));
    conv_pkt(&c, DIR_TO_CLIENT, 1, P("\x00\x00\x00\x02\x00"));
    conv_seal(&c);
    conv_check(&c, NULL, 0);
    CHECK(finding_of("mysql.cleartext-login", &v));
    CHECK(sample_has(&v, "login", "user=olduser db=legacy"));
    CHECK(finding_of("mysql.cleartext-query", &v));
    CHECK(!finding_of("mysql.cleartext-password", &v));
    findings_free();
    conv_free(&c);
}

static void test_error_greeting(void)
{
    struct conv c = { 0 };
    /* refused before the handshake: MySQL, but nothing readable */
    conv_pkt(&c, DIR_TO_CLIENT, 0, P("\xff\x6a\x04" "Host '10.0.0.1' is not allowed to "
                                     "connect to this MySQL server"));
    conv_seal(&c);
    conv_check(&c, NULL, 0);
    CHECK_EQ(findings_count(), 0);
    findings_free();
    conv_free(&c);
}

/* Compressed packets made with zlib from the inner packets named in each
 * comment (7-byte header: compressed length, compressed seq, uncompressed
 * length). */

/* client, compressed seq 0, zlib: [len][seq 0] COM_QUERY "SELECT secret FROM vault" */
static const uint8_t z_query[] = {
    0x25, 0x00, 0x00, 0x00, 0x1d, 0x00, 0x00, 0x78, 0x9c, 0x93, 0x64, 0x60,
    0x60, 0x60, 0x0e, 0x76, 0xf5, 0x71, 0x75, 0x0e, 0x51, 0x28, 0x4e, 0x4d,
    0x2e, 0x4a, 0x2d, 0x51, 0x70, 0x0b, 0xf2, 0xf7, 0x55, 0x28, 0x4b, 0x2c,
    0xcd, 0x29, 0x01, 0x00, 0x62, 0x7c, 0x08, 0x23,
};
/* server, compressed seq 1, stored (uncompressed length 0): column count 1,
 * column "secret", EOF, and the first 5 bytes of the row packet */
static const uint8_t z_resp1[] = {
    0x4c, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0x01,
    0x30, 0x00, 0x00, 0x02, 0x03, 0x64, 0x65, 0x66, 0x04, 0x73, 0x68, 0x6f,
    0x70, 0x05, 0x76, 0x61, 0x75, 0x6c, 0x74, 0x05, 0x76, 0x61, 0x75, 0x6c,
    0x74, 0x06, 0x73, 0x65, 0x63, 0x72, 0x65, 0x74, 0x06, 0x73, 0x65, 0x63,
    0x72, 0x65, 0x74, 0x0c, 0x2d, 0x00, 0x10, 0x00, 0x00, 0x00, 0xfd, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x03, 0xfe, 0x00, 0x00, 0x22,
    0x00, 0x0b, 0x00, 0x00, 0x04, 0x0a, 0x68, 0x75, 0x6e, 0x74, 0x65,
};
/* server, compressed seq 2, zlib: the rest of the row "hunter2-pw", EOF */
static const uint8_t z_resp2[] = {
    0x16, 0x00, 0x00, 0x02, 0x0e, 0x00, 0x00, 0x78, 0x9c, 0x2b, 0x32, 0xd2,
    0x2d, 0x28, 0x67, 0x65, 0x60, 0x60, 0xfd, 0xc7, 0xc0, 0xa0, 0xc4, 0x00,
    0x00, 0x19, 0xeb, 0x02, 0xe3,
};

static void test_compressed(void)
{
    struct conv c = { 0 };
    struct finding_view v;
    conv_login(&c, P(greet_compress), P(login_compress));
    conv_pkt(&c, DIR_TO_CLIENT, 2, P(ok_pkt));         /* the last plain packet */
    conv_bytes(&c, DIR_TO_SERVER, z_query, sizeof z_query);
    c.glue = true;                                     /* both in one segment */
    conv_bytes(&c, DIR_TO_CLIENT, z_resp1, sizeof z_resp1);
    conv_bytes(&c, DIR_TO_CLIENT, z_resp2, sizeof z_resp2);
    conv_seal(&c);
    conv_check(&c, NULL, 0);
    CHECK(finding_of("mysql.cleartext-query", &v));
    CHECK(sample_has(&v, "COM_QUERY", "SELECT secret FROM vault"));
    CHECK(finding_of("mysql.cleartext-resultset", &v));
    CHECK_EQ(v.occurrences, 1);
    CHECK(finding_of("mysql.cleartext-login", &v));
    findings_free();
    conv_free(&c);

    /* a corrupt zlib stream: no crash, no query read from it */
    memset(&c, 0, sizeof c);
    uint8_t bad[sizeof z_query];
    memcpy(bad, z_query, sizeof bad);
    bad[12] ^= 0x55;
    conv_login(&c, P(greet_compress), P(login_compress));
    conv_pkt(&c, DIR_TO_CLIENT, 2, P(ok_pkt));
    conv_bytes(&c, DIR_TO_SERVER, bad, sizeof bad);
    conv_seal(&c);
    conv_check(&c, NULL, 0);
    CHECK(!finding_of("mysql.cleartext-query", &v));
    findings_free();
    conv_free(&c);
}

static void test_midstream(void)
{
    struct conv c = { 0 };
    struct finding_view v;
    /* the capture starts inside a result set: the tail of a row, then EOF */
    conv_bytes(&c, DIR_TO_CLIENT, P("lue-tail\x05\x00\x00\x07\xfe\x00\x00\x22\x00"));
    conv_pkt(&c, DIR_TO_SERVER, 0, P("\x03" "SELECT name, email FROM customers"));
    c.glue = true;
    conv_pkt(&c, DIR_TO_CLIENT, 1, P(rs_count));
    conv_pkt(&c, DIR_TO_CLIENT, 2, P(rs_coldef));
    conv_pkt(&c, DIR_TO_CLIENT, 3, P(rs_eof));
    conv_pkt(&c, DIR_TO_CLIENT, 4, P(rs_row));
    conv_pkt(&c, DIR_TO_CLIENT, 5, P(rs_eof));
    c.glue = false;
    conv_seal(&c);
    conv_check(&c, NULL, 0);
    CHECK(finding_of("mysql.cleartext-session", &v));
    CHECK(sample_has(&v, "server_version", "mid-session"));
    CHECK(finding_of("mysql.cleartext-query", &v));
    CHECK(finding_of("mysql.cleartext-resultset", &v));
    CHECK(!finding_of("mysql.cleartext-login", &v));
    findings_free();
    conv_free(&c);

    /* a short server tail (less than a header) before the query */
    memset(&c, 0, sizeof c);
    conv_bytes(&c, DIR_TO_CLIENT, P("\x22\x00"));
    conv_pkt(&c, DIR_TO_SERVER, 0, P("\x03" "SELECT 1"));
    conv_pkt(&c, DIR_TO_CLIENT, 1, P(rs_count));
    c.glue = true;
    conv_pkt(&c, DIR_TO_CLIENT, 2, P(rs_coldef));
    conv_pkt(&c, DIR_TO_CLIENT, 3, P(rs_eof));
    conv_pkt(&c, DIR_TO_CLIENT, 4, P(rs_row));
    conv_pkt(&c, DIR_TO_CLIENT, 5, P(rs_eof));
    c.glue = false;
    conv_seal(&c);
    conv_check(&c, NULL, 0);
    CHECK(finding_of("mysql.cleartext-resultset", &v));
    findings_free();
    conv_free(&c);
}

static void test_change_user(void)
{
    struct conv c = { 0 };
    struct finding_view v;
    conv_login(&c, P(greet_plain), P(login_app));
    conv_pkt(&c, DIR_TO_CLIENT, 2, P(ok_pkt));
    conv_pkt(&c, DIR_TO_SERVER, 0, P("\x11" "root2" "\0" "\x14" "0123456789abcdefghij"
                                     "shop" "\0" "\x2d\x00" "mysql_native_password" "\0"));
    conv_pkt(&c, DIR_TO_CLIENT, 1, P("\xfe" "mysql_native_password" "\0"
                                     "abcdefghijklmnopqrst" "\0"));
    conv_pkt(&c, DIR_TO_SERVER, 2, P("0123456789abcdefghij"));
    conv_pkt(&c, DIR_TO_CLIENT, 3, P(ok_pkt));
    conv_pkt(&c, DIR_TO_SERVER, 0, P("\x02" "shop"));              /* COM_INIT_DB */
    conv_pkt(&c, DIR_TO_CLIENT, 1, P(ok_pkt));
    conv_seal(&c);
    conv_check(&c, NULL, 0);
    CHECK(finding_of("mysql.cleartext-login", &v));
    CHECK_EQ(v.occurrences, 2);
    CHECK(sample_has(&v, "login", "user=app"));
    CHECK(sample_has(&v, "COM_CHANGE_USER", "user=root2 db=shop"));
    CHECK(finding_of("mysql.cleartext-query", &v));
    CHECK(sample_has(&v, "COM_INIT_DB", "shop"));
    CHECK(finding_of("mysql.cleartext-session", &v));
    CHECK_EQ(v.occurrences, 1);
    findings_free();
    conv_free(&c);
}

static void test_prepared(void)
{
    struct conv c = { 0 };
    struct finding_view v;
    conv_login(&c, P(greet_plain), P(login_app));
    conv_pkt(&c, DIR_TO_CLIENT, 2, P(ok_pkt));
    conv_pkt(&c, DIR_TO_SERVER, 0, P("\x16" "SELECT card FROM users WHERE id=?"));
    c.glue = true;
    /* PREPARE_OK: statement 1, 1 column, 1 parameter; then 1 param def +
     * EOF, 1 column def + EOF */
    conv_pkt(&c, DIR_TO_CLIENT, 1, P("\x00" "\x01\x00\x00\x00" "\x01\x00" "\x01\x00" "\x00"
                                     "\x00\x00"));
    conv_pkt(&c, DIR_TO_CLIENT, 2, P(rs_coldef));
    conv_pkt(&c, DIR_TO_CLIENT, 3, P(rs_eof));
    conv_pkt(&c, DIR_TO_CLIENT, 4, P(rs_coldef));
    conv_pkt(&c, DIR_TO_CLIENT, 5, P(rs_eof));
    c.glue = false;
    /* EXECUTE statement 1, parameter 42 (not decoded) */
    conv_pkt(&c, DIR_TO_SERVER, 0, P("\x17" "\x01\x00\x00\x00" "\x00" "\x01\x00\x00\x00"
                                     "\x00" "\x01" "\x03\x00" "\x2a\x00\x00\x00"));
    c.glue = true;
    conv_pkt(&c, DIR_TO_CLIENT, 1, P(rs_count));
    conv_pkt(&c, DIR_TO_CLIENT, 2, P(rs_coldef));
    conv_pkt(&c, DIR_TO_CLIENT, 3, P(rs_eof));
    conv_pkt(&c, DIR_TO_CLIENT, 4, P("\x00\x00" "\x10" "4111111111111111"));   /* binary row */
    conv_pkt(&c, DIR_TO_CLIENT, 5, P(rs_eof));
    c.glue = false;
    conv_seal(&c);
    conv_check(&c, NULL, 0);
    CHECK(finding_of("mysql.cleartext-query", &v));
    CHECK_EQ(v.occurrences, 1);
    CHECK(sample_has(&v, "COM_STMT_PREPARE", "SELECT card FROM users WHERE id="));
    CHECK(finding_of("mysql.cleartext-resultset", &v));
    CHECK_EQ(v.occurrences, 1);         /* the binary row, not the definitions */
    findings_free();
    conv_free(&c);
}

static void test_large_query(void)
{
    struct conv c = { 0 };
    struct finding_view v;
    /* a 200 KB statement, more than the engine keeps pending for us */
    size_t big = 200 * 1024;
    uint8_t *q = malloc(big);
    CHECK(q != NULL);
    if (q == NULL)
        return;
    memcpy(q, "\x03" "INSERT INTO blobs VALUES ('", 28);
    memset(q + 28, 'x', big - 30);
    memcpy(q + big - 2, "')", 2);
    conv_login(&c, P(greet_plain), P(login_app));
    conv_pkt(&c, DIR_TO_CLIENT, 2, P(ok_pkt));
    conv_pkt(&c, DIR_TO_SERVER, 0, q, big);
    conv_pkt(&c, DIR_TO_CLIENT, 1, P(ok_pkt));
    conv_pkt(&c, DIR_TO_SERVER, 0, P(query_card));
    conv_pkt(&c, DIR_TO_CLIENT, 1, P(ok_pkt));
    conv_seal(&c);
    static const size_t chunks[] = { 1, 2, 3, 7, 1000, 4096, 16383, 16384, 65536, 131072 };
    conv_check(&c, chunks, ARRAY_LEN(chunks));
    CHECK(finding_of("mysql.cleartext-query", &v));
    CHECK_EQ(v.occurrences, 2);
    CHECK(sample_has(&v, "COM_QUERY", "INSERT INTO blobs"));
    CHECK(sample_has(&v, "COM_QUERY", "SELECT card"));
    /* the statement is longer than the detector reads whole: counted */
    struct flow_view fv = mysql_view();
    findings_free();
    g_stats.mysql_packet_cut = 0;
    engine_run_detector(&detector_mysql, &fv, c.steps, c.nsteps, 0);
    CHECK_EQ(g_stats.mysql_packet_cut, 1);
    findings_free();
    conv_free(&c);
    free(q);
}

/* Garbage in both directions on a flow nDPI called MySQL: no finding, no crash. */
static void test_garbage(void)
{
    struct conv c = { 0 };
    uint32_t x = 12345;
    for (int s = 0; s < 8; s++) {
        uint8_t buf[300];
        for (size_t i = 0; i < sizeof buf; i++) {
            x = x * 1103515245u + 12345u;
            buf[i] = (uint8_t)(x >> 16);
        }
        conv_bytes(&c, s % 2 ? DIR_TO_SERVER : DIR_TO_CLIENT, buf, sizeof buf);
    }
    conv_seal(&c);
    conv_check(&c, NULL, 0);
    CHECK_EQ(findings_count(), 0);
    findings_free();
    conv_free(&c);

    /* a greeting cut in the middle, then nothing */
    memset(&c, 0, sizeof c);
    conv_pkt(&c, DIR_TO_CLIENT, 0, P(greet_ssl));
    c.len[0] = 30;
    conv_seal(&c);
    conv_check(&c, NULL, 0);
    CHECK_EQ(findings_count(), 0);
    findings_free();
    conv_free(&c);
}

/* Every prefix of a full conversation (a capture cut anywhere): no crash. */
static void test_truncated_prefixes(void)
{
    struct conv full = { 0 };
    conv_login(&full, P(greet_ssl), P(login_app));
    conv_pkt(&full, DIR_TO_CLIENT, 2, P(ok_pkt));
    conv_pkt(&full, DIR_TO_SERVER, 0, P(query_card));
    full.glue = true;
    conv_pkt(&full, DIR_TO_CLIENT, 1, P(rs_count));
    conv_pkt(&full, DIR_TO_CLIENT, 2, P(rs_coldef));
    conv_pkt(&full, DIR_TO_CLIENT, 3, P(rs_eof));
    conv_pkt(&full, DIR_TO_CLIENT, 4, P(rs_row));
    conv_pkt(&full, DIR_TO_CLIENT, 5, P(rs_eof));
    full.glue = false;
    struct flow_view fv = mysql_view();
    for (size_t last = 0; last < full.nsteps; last++) {
        for (size_t cut = 0; cut <= full.len[last]; cut++) {
            struct det_step steps[CONV_MAX_STEPS];
            for (size_t i = 0; i < last; i++) {
                steps[i].d = full.d[i];
                steps[i].p = guarded_copy(full.raw[i], full.len[i]);
                steps[i].n = full.len[i];
            }
            steps[last].d = full.d[last];
            steps[last].p = guarded_copy(full.raw[last], cut);
            steps[last].n = cut;
            CHECK_EQ(engine_run_detector(&detector_mysql, &fv, steps, last + 1, 0), 0);
            findings_free();
        }
    }
    conv_free(&full);
}

/* wants(): MySQL from nDPI or from the bytes, not HTTP, TLS or SSH. */
static bool wants_heads(const char *proto, bool by_dpi, const uint8_t *to_server, size_t ns,
                        const uint8_t *to_client, size_t nc)
{
    struct flow_view fv = mysql_view();
    fv.protocol = proto;
    fv.by_dpi = by_dpi;
    fv.head[DIR_TO_SERVER] = ns ? guarded_copy(to_server, ns) : NULL;
    fv.head_len[DIR_TO_SERVER] = ns;
    fv.head[DIR_TO_CLIENT] = nc ? guarded_copy(to_client, nc) : NULL;
    fv.head_len[DIR_TO_CLIENT] = nc;
    return detector_mysql.wants(&fv);
}

static void test_wants(void)
{
    struct conv c = { 0 };
    conv_pkt(&c, DIR_TO_CLIENT, 0, P(greet_ssl));
    conv_pkt(&c, DIR_TO_SERVER, 1, P(login_app));
    conv_pkt(&c, DIR_TO_CLIENT, 0, P("\xff\x10\x04" "Too many connections"));
    conv_pkt(&c, DIR_TO_SERVER, 0, P(query_card));
    /* steps: 0 greeting, 1 login, 2 error greeting, 3 query */

    CHECK(wants_heads("MySQL", true, NULL, 0, NULL, 0));
    CHECK(!wants_heads("MySQL", false, NULL, 0, NULL, 0));  /* a port guess alone */
    CHECK(wants_heads("Unknown", false, c.raw[1], c.len[1], c.raw[0], c.len[0]));
    CHECK(wants_heads("Unknown", false, NULL, 0, c.raw[0], 40));    /* greeting start */
    CHECK(wants_heads("Unknown", false, NULL, 0, c.raw[2], c.len[2]));
    CHECK(wants_heads("Unknown", false, c.raw[3], c.len[3], NULL, 0));
    CHECK(!wants_heads("Unknown", false, c.raw[3], 6, NULL, 0));    /* too little to tell */

    CHECK(!wants_heads("HTTP", true, P("GET / HTTP/1.1\r\nHost: db\r\n\r\n"),
                       P("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")));
    CHECK(!wants_heads("Unknown", false, P("GET / HTTP/1.1\r\n\r\n"), NULL, 0));
    CHECK(!wants_heads("TLS", true,
                       P("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\x01\x02\x03"),
                       P("\x16\x03\x03\x00\x5d\x02\x00\x00\x59\x03\x03\x01\x02\x03")));
    CHECK(!wants_heads("Unknown", false, NULL, 0, P("SSH-2.0-OpenSSH_9.2p1\r\n")));
    /* a greeting-shaped header with an unprintable version */
    CHECK(!wants_heads("Unknown", false, NULL, 0,
                       P("\x30\x00\x00\x00\x0a" "8.0\x01x" "\0" "\x01\x00\x00\x00"
                         "abcdefgh" "\0" "\xff\xff")));
    /* an error packet with an impossible code or binary message */
    CHECK(!wants_heads("Unknown", false, NULL, 0, P("\x05\x00\x00\x00\xff\x01\x00\x41\x42")));
    CHECK(!wants_heads("Unknown", false, NULL, 0, P("\x05\x00\x00\x00\xff\x10\x04\x01\x02")));
    /* COM_QUERY-shaped bytes that are no statement */
    CHECK(!wants_heads("Unknown", false, P("\x0c\x00\x00\x00\x03" "NOTSQL stuff"), NULL, 0));
    conv_free(&c);
}

int main(void)
{
    RUN(test_plain_session);
    RUN(test_repeated_rows);
    RUN(test_login_unprintable);
    RUN(test_repeated_wide_rows);
    RUN(test_repeated_runs);
    RUN(test_long_rows_in_runs);
    RUN(test_empty_row_packet);
    RUN(test_ssl_request);
    RUN(test_clear_password_switch);
    RUN(test_clear_password_in_login);
    RUN(test_dialog_password);
    RUN(test_sha2_full_auth_no_password);
    RUN(test_tls_required);
    RUN(test_mariadb_refusal);
    RUN(test_mysql8_deprecate_eof);
    RUN(test_multi_resultset);
    RUN(test_old_protocol);
    RUN(test_error_greeting);
    RUN(test_compressed);
    RUN(test_midstream);
    RUN(test_change_user);
    RUN(test_prepared);
    RUN(test_large_query);
    RUN(test_garbage);
    RUN(test_truncated_prefixes);
    RUN(test_wants);
    return unit_done("test_mysql");
}

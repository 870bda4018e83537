/*
 * test_pgsql.c - the PostgreSQL detector on crafted conversations.
 *
 * Each conversation is a list of steps (one direction's bytes each), run
 * through engine_run_detector() whole and then cut into pieces of every
 * size from 1 up to its longest step: the findings must not change with
 * the segmentation.  Messages are written as the bytes of the protocol
 * (docs: "Frontend/Backend Protocol", "Message Formats") with their
 * meaning beside them; guarded_copy() puts each step right before an
 * unreadable page, so an over-read crashes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../detectors/detector.h"
#include "../../reports/finding.h"
#include "../../scanner/engine.h"
#include "unit.h"
#include "replay.h"

extern const struct detector detector_pgsql;

/* ------------------------------------------------------------------ messages */

/* SSLRequest: length 8, code 80877103 */
static const char ssl_request[] =
    "\x00\x00\x00\x08\x04\xd2\x16\x2f";

/* GSSENCRequest: length 8, code 80877104 */
static const char gssenc_request[] =
    "\x00\x00\x00\x08\x04\xd2\x16\x30";

/* server: 'N', no TLS */
static const char answer_n[] =
    "N";

/* server: 'S', TLS follows */
static const char answer_s[] =
    "S";

/* StartupMessage 3.0: user=alice database=shop application_name=psql client_encoding=UTF8 */
static const char startup_alice[] =
    "\x00\x00\x00\x4d\x00\x03\x00\x00user\x00" "alice\x00" "database\x00shop\x00" "applic"
    "ation_name\x00psql\x00" "client_encoding\x00UTF8\x00\x00";

/* 'R' AuthenticationCleartextPassword (3) */
static const char auth_cleartext[] =
    "R\x00\x00\x00\x08\x00\x00\x00\x03";

/* 'p' PasswordMessage "s3cret-Pa55word" */
static const char password_clear[] =
    "p\x00\x00\x00\x14s3cret-Pa55word\x00";

/* 'R' AuthenticationOk (0) */
static const char auth_ok[] =
    "R\x00\x00\x00\x08\x00\x00\x00\x00";

/* 'S' ParameterStatus server_version=15.4 */
static const char param_version[] =
    "S\x00\x00\x00\x18server_version\x00" "15.4\x00";

/* 'K' BackendKeyData pid 4242 */
static const char key_data[] =
    "K\x00\x00\x00\x0c\x00\x00\x10\x92\x01\x23\x45\x67";

/* 'Z' ReadyForQuery, idle */
static const char ready_idle[] =
    "Z\x00\x00\x00\x05I";

/* 'Q' Query "SELECT name, card FROM customers WHERE id = 42" */
static const char query_select[] =
    "Q\x00\x00\x00\x33SELECT name, card FROM customers WHERE id = 42\x00";

/* 'T' RowDescription: name, card (table 16384, text) */
static const char row_desc[] =
    "T\x00\x00\x00\x34\x00\x02name\x00\x00\x00\x40\x00\x00\x01\x00\x00\x00\x19\xff\xff"
    "\xff\xff\xff\xff\x00\x00" "card\x00\x00\x00\x40\x00\x00\x01\x00\x00\x00\x19\xff\xff"
    "\xff\xff\xff\xff\x00\x00";

/* 'D' DataRow: 'Alice', '4111111111111111' */
static const char data_row1[] =
    "D\x00\x00\x00\x23\x00\x02\x00\x00\x00\x05" "Alice\x00\x00\x00\x10" "4111111111111111";

/* 'D' DataRow: 'Bob', NULL */
static const char data_row2[] =
    "D\x00\x00\x00\x11\x00\x02\x00\x00\x00\x03" "Bob\xff\xff\xff\xff";

/* 'C' CommandComplete "SELECT 2" */
static const char cmd_complete[] =
    "C\x00\x00\x00\x0dSELECT 2\x00";

/* 'X' Terminate */
static const char terminate[] =
    "X\x00\x00\x00\x04";

/* StartupMessage 3.0: user=bob database=bobdb */
static const char startup_bob[] =
    "\x00\x00\x00\x21\x00\x03\x00\x00user\x00" "bob\x00" "database\x00" "bobdb\x00\x00";

/* 'R' AuthenticationMD5Password (5), salt 9a 1b 2c 3d */
static const char auth_md5[] =
    "R\x00\x00\x00\x0c\x00\x00\x00\x05\x9a\x1b\x2c\x3d";

/* 'p' PasswordMessage: the MD5 response */
static const char password_md5[] =
    "p\x00\x00\x00\x28md5b9cd23fd4c15511e25389f7173173f2d\x00";

/* 'P' Parse statement s1 "INSERT INTO t VALUES ($1)", no types */
static const char parse_insert[] =
    "P\x00\x00\x00\x23s1\x00INSERT INTO t VALUES ($1)\x00\x00\x00";

/* 'R' AuthenticationSASL (10): SCRAM-SHA-256 */
static const char auth_sasl[] =
    "R\x00\x00\x00\x17\x00\x00\x00\x0aSCRAM-SHA-256\x00\x00";

/* 'p' SASLInitialResponse: SCRAM-SHA-256, client-first-message */
static const char sasl_initial[] =
    "p\x00\x00\x00\x32SCRAM-SHA-256\x00\x00\x00\x00\x1cn,,n=,r=rOprNGfwEbeRWgbNEkqO";

/* 'R' AuthenticationSASLContinue (11): server-first-message */
static const char auth_sasl_continue[] =
    "R\x00\x00\x00\x5e\x00\x00\x00\x0br=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k"
    "0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";

/* 'p' SASLResponse: client-final-message (the proof) */
static const char sasl_response[] =
    "p\x00\x00\x00\x6e" "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dH"
    "zbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";

/* 'R' AuthenticationSASLFinal (12) */
static const char auth_sasl_final[] =
    "R\x00\x00\x00\x36\x00\x00\x00\x0cv=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

/* StartupMessage 3.0: user=carol database=hr */
static const char startup_carol[] =
    "\x00\x00\x00\x20\x00\x03\x00\x00user\x00" "carol\x00" "database\x00hr\x00\x00";

/* 'E' ErrorResponse S FATAL, C 28000, M "no pg_hba.conf entry ... no encryption" */
static const char error_no_encryption[] =
    "E\x00\x00\x00\x69SFATAL\x00" "C28000\x00Mno pg_hba.conf entry for host \"10.0.0.7\","
    " user \"carol\", database \"hr\", no encryption\x00\x00";

/* the start of a TLS ClientHello record */
static const char tls_client_hello[] =
    "\x16\x03\x01\x00\x2c\x01\x00\x00\x28\x03\x03";

/* 'Q' Query "UPDATE accounts SET balance = 0 WHERE id = 7" */
static const char query_update[] =
    "Q\x00\x00\x00\x31UPDATE accounts SET balance = 0 WHERE id = 7\x00";

/* ------------------------------------------------------------------ harness */

static struct flow_view test_flow(void)
{
    struct flow_view fv;
    memset(&fv, 0, sizeof fv);
    fv.id = 1;
    fv.transport = 6;
    fv.client.family = 4;
    fv.client.b[0] = 10, fv.client.b[3] = 7;
    fv.server.family = 4;
    fv.server.b[0] = 10, fv.server.b[3] = 5;
    fv.client_port = 40000;
    fv.server_port = 5432;
    fv.protocol = "PostgreSQL";
    fv.by_dpi = true;
    return fv;
}

/* Runs the conversation through the pgsql detector (see replay.h). */
static void replay(const struct det_step *steps, size_t nsteps, size_t max_chunk)
{
    struct flow_view fv = test_flow();
    replay_with(&detector_pgsql, &fv, steps, nsteps, max_chunk);
}

/* The excerpt of the sample named field, or "" when there is none. */
static const char *sample(const struct finding_view *v, const char *field)
{
    for (size_t i = 0; i < v->nsamples; i++)
        if (strcmp(v->samples[i].field, field) == 0)
            return v->samples[i].excerpt;
    return "";
}

static size_t count(void)
{
    size_t n;
    (void)findings_sorted(&n);
    return n;
}

/* ------------------------------------------------------------------ cases */

/* SSLRequest refused, then a whole session in clear: cleartext password,
 * a query and its rows.  The server's messages after login come several
 * to a segment, as a real server writes them. */
static void test_ssl_refused_cleartext_password(void)
{
    static char login_ok[sizeof auth_ok + sizeof param_version + sizeof key_data +
                         sizeof ready_idle];
    static char rows[sizeof row_desc + sizeof data_row1 + sizeof data_row2 +
                     sizeof cmd_complete + sizeof ready_idle];
    size_t a = 0, b = 0;
#define CAT(buf, o, m) (memcpy((buf) + (o), (m), sizeof(m) - 1), (o) += sizeof(m) - 1)
    CAT(login_ok, a, auth_ok);
    CAT(login_ok, a, param_version);
    CAT(login_ok, a, key_data);
    CAT(login_ok, a, ready_idle);
    CAT(rows, b, row_desc);
    CAT(rows, b, data_row1);
    CAT(rows, b, data_row2);
    CAT(rows, b, cmd_complete);
    CAT(rows, b, ready_idle);
    struct det_step steps[] = {
        STEP(C2S, ssl_request),
        STEP(S2C, answer_n),
        STEP(C2S, startup_alice),
        STEP(S2C, auth_cleartext),
        STEP(C2S, password_clear),
        { S2C, guarded_copy(login_ok, a), a },
        STEP(C2S, query_select),
        { S2C, guarded_copy(rows, b), b },
        STEP(C2S, terminate),
    };
    replay(steps, ARRAY_LEN(steps), 0);

    struct finding_view v;
    /* six PostgreSQL rules, and the secrets scanner on the rows */
    CHECK_EQ(count(), 7);
    CHECK(find("pgsql.ssl-refused", &v));
    CHECK_EQ(v.occurrences, 1);
    CHECK(find("pgsql.cleartext-login", &v));
    CHECK(strstr(sample(&v, "startup"), "user=alice") != NULL);
    CHECK(strstr(sample(&v, "startup"), "database=shop") != NULL);
    CHECK(strstr(sample(&v, "startup"), "application_name=psql") != NULL);
    CHECK(strstr(sample(&v, "startup"), "UTF8") == NULL);
    CHECK(find("pgsql.cleartext-password", &v));
    CHECK_EQ(v.rule->severity, SEV_CRITICAL);
    CHECK(strstr(sample(&v, "password"), "s3cret") == NULL);
    CHECK(strstr(sample(&v, "password"), "15 chars") != NULL);
    CHECK(v.nsamples == 1 && v.samples[0].fingerprint[0] != '\0');
    CHECK_EQ(v.distinct_secrets, 1);
    CHECK(find("pgsql.cleartext-session", &v));
    CHECK_STR(sample(&v, "server_version"), "15.4");
    CHECK(find("pgsql.cleartext-query", &v));
    CHECK(strstr(sample(&v, "Query"), "SELECT name, card FROM customers") != NULL);
    CHECK(find("pgsql.cleartext-resultset", &v));
    CHECK_EQ(v.occurrences, 1);             /* one result set, two rows */
    CHECK_STR(sample(&v, "columns"), "name,card");
    CHECK(!find("pgsql.md5-password", &v));
}

/* SSLRequest answered 'S': TLS from the next byte.  Bytes after the switch
 * (here a ClientHello, then something that would parse as a startup in
 * clear) must never be read as PostgreSQL. */
static void test_ssl_accepted(void)
{
    struct det_step steps[] = {
        STEP(C2S, ssl_request),
        STEP(S2C, answer_s),
        STEP(C2S, tls_client_hello),
        STEP(C2S, startup_alice),
        STEP(S2C, auth_cleartext),
        STEP(C2S, password_clear),
    };
    replay(steps, ARRAY_LEN(steps), 0);
    CHECK_EQ(count(), 0);
}

/* MD5 authentication without SSLRequest, then an extended-protocol Parse. */
static void test_md5(void)
{
    static char ok[sizeof auth_ok + sizeof ready_idle];
    size_t a = 0;
    CAT(ok, a, auth_ok);
    CAT(ok, a, ready_idle);
    struct det_step steps[] = {
        STEP(C2S, startup_bob),
        STEP(S2C, auth_md5),
        STEP(C2S, password_md5),
        { S2C, guarded_copy(ok, a), a },
        STEP(C2S, parse_insert),
        STEP(C2S, terminate),
    };
    replay(steps, ARRAY_LEN(steps), 0);

    struct finding_view v;
    CHECK_EQ(count(), 4);
    CHECK(find("pgsql.md5-password", &v));
    CHECK_EQ(v.rule->severity, SEV_HIGH);
    CHECK(strstr(sample(&v, "md5 hash"), "b9cd23") == NULL);
    CHECK(find("pgsql.cleartext-login", &v));
    CHECK_STR(sample(&v, "startup"), "user=bob database=bobdb");
    CHECK(find("pgsql.cleartext-session", &v));
    CHECK(v.nsamples == 1 && strcmp(v.samples[0].field, "ReadyForQuery") == 0);
    CHECK(find("pgsql.cleartext-query", &v));
    CHECK(strstr(sample(&v, "Parse"), "INSERT INTO t VALUES") != NULL);
    CHECK(!find("pgsql.cleartext-password", &v));
    CHECK(!find("pgsql.ssl-refused", &v));
}

/* libpq's order when built with GSSAPI: GSSENCRequest (refused: routine,
 * no finding), SSLRequest (refused: a finding), then SCRAM, which proves
 * the password without showing it: no password finding. */
static void test_scram(void)
{
    static char fin[sizeof auth_sasl_final + sizeof auth_ok + sizeof param_version +
                    sizeof ready_idle];
    size_t a = 0;
    CAT(fin, a, auth_sasl_final);
    CAT(fin, a, auth_ok);
    CAT(fin, a, param_version);
    CAT(fin, a, ready_idle);
    struct det_step steps[] = {
        STEP(C2S, gssenc_request),
        STEP(S2C, answer_n),
        STEP(C2S, ssl_request),
        STEP(S2C, answer_n),
        STEP(C2S, startup_alice),
        STEP(S2C, auth_sasl),
        STEP(C2S, sasl_initial),
        STEP(S2C, auth_sasl_continue),
        STEP(C2S, sasl_response),
        { S2C, guarded_copy(fin, a), a },
        STEP(C2S, query_update),
    };
    replay(steps, ARRAY_LEN(steps), 0);

    struct finding_view v;
    CHECK(!find("pgsql.cleartext-password", &v));
    CHECK(!find("pgsql.md5-password", &v));
    CHECK(find("pgsql.ssl-refused", &v));
    CHECK_EQ(v.occurrences, 1);
    CHECK(find("pgsql.cleartext-login", &v));
    CHECK(find("pgsql.cleartext-session", &v));
    CHECK(find("pgsql.cleartext-query", &v));
    CHECK_EQ(count(), 4);
}

/* pg_hba.conf has only hostssl lines: a plaintext client is refused.  The
 * user name still crossed in clear; the refusal itself is inventory. */
static void test_tls_required(void)
{
    struct det_step steps[] = {
        STEP(C2S, startup_carol),
        STEP(S2C, error_no_encryption),
    };
    replay(steps, ARRAY_LEN(steps), 0);

    struct finding_view v;
    CHECK_EQ(count(), 2);
    CHECK(find("pgsql.tls-required", &v));
    CHECK_EQ(v.rule->severity, SEV_INFO);
    CHECK(strstr(sample(&v, "error"), "no encryption") != NULL);
    CHECK(find("pgsql.cleartext-login", &v));
    CHECK(strstr(sample(&v, "startup"), "user=carol") != NULL);
    CHECK(!find("pgsql.cleartext-session", &v));
}

/* The capture starts mid-session: the tail of an earlier message, then a
 * query; the server's side starts inside a row, then a ReadyForQuery. */
static void test_midstream(void)
{
    static const char client_tail[] =
        "ble WHERE x = 1\x00";                      /* the end of a query we missed */
    static const char server_tail[] =
        "\x00\x00\x00\x05hello\x43\x00\x00\x00\x0dSELECT 1\x00"  /* end of a row, 'C' */
        "Z\x00\x00\x00\x05I";                       /* 'Z' ReadyForQuery, idle */
    static char client[sizeof client_tail + sizeof query_update];
    size_t a = 0;
    CAT(client, a, client_tail);
    CAT(client, a, query_update);
    struct det_step steps[] = {
        { C2S, guarded_copy(client, a), a },
        STEP(S2C, server_tail),
        STEP(C2S, query_select),
    };
    replay(steps, ARRAY_LEN(steps), 0);

    struct finding_view v;
    CHECK(find("pgsql.cleartext-query", &v));
    CHECK_EQ(v.occurrences, 2);
    CHECK(strstr(sample(&v, "Query"), "UPDATE accounts") != NULL);
    CHECK(find("pgsql.cleartext-session", &v));
    CHECK(!find("pgsql.cleartext-login", &v));
}

/* A DataRow far larger than the engine keeps: skipped by count, and the
 * messages after it are still parsed. */
static void test_huge_datarow(void)
{
    const size_t value = 300 * 1024;
    const size_t total = 1 + 4 + 2 + 4 + value;
    uint8_t *row = malloc(total + sizeof cmd_complete + sizeof ready_idle);
    uint8_t *w = row;
    uint32_t len = (uint32_t)(total - 1);
    *w++ = 'D';                                     /* 'D' DataRow */
    *w++ = (uint8_t)(len >> 24), *w++ = (uint8_t)(len >> 16);
    *w++ = (uint8_t)(len >> 8), *w++ = (uint8_t)len;
    *w++ = 0, *w++ = 1;                             /* one column */
    *w++ = (uint8_t)(value >> 24), *w++ = (uint8_t)(value >> 16);
    *w++ = (uint8_t)(value >> 8), *w++ = (uint8_t)value;
    memset(w, 'x', value);                          /* 300 KiB of 'x' */
    w += value;
    memcpy(w, cmd_complete, sizeof cmd_complete - 1);
    w += sizeof cmd_complete - 1;
    memcpy(w, ready_idle, sizeof ready_idle - 1);
    w += sizeof ready_idle - 1;
    size_t n = (size_t)(w - row);

    struct det_step steps[] = {
        STEP(C2S, startup_bob),
        STEP(S2C, auth_ok),
        STEP(C2S, query_select),
        { S2C, guarded_copy(row, n), n },
        STEP(C2S, query_update),
    };
    findings_free();
    struct flow_view fv = test_flow();
    static const size_t chunks[] = { 0, 1, 1000, 4096, 65536, 131072 };
    for (size_t i = 0; i < ARRAY_LEN(chunks); i++) {
        struct finding_view v;
        findings_free();
        CHECK_EQ(engine_run_detector(&detector_pgsql, &fv, steps, ARRAY_LEN(steps), chunks[i]),
                 0);
        CHECK(find("pgsql.cleartext-resultset", &v));
        CHECK_EQ(v.occurrences, 1);
        CHECK(find("pgsql.cleartext-query", &v));
        CHECK_EQ(v.occurrences, 2);
    }
    free(row);
}

/* Bytes that are not PostgreSQL: nothing is stated, nothing crashes. */
static void test_garbage(void)
{
    static uint8_t noise[4096];
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < sizeof noise; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;    /* xorshift32 */
        noise[i] = (uint8_t)x;
    }
    static const char http[] = "GET / HTTP/1.1\r\nHost: db.example\r\n\r\n";
    struct det_step steps[] = {
        { C2S, guarded_copy(noise, 2048), 2048 },
        { S2C, guarded_copy(noise + 2048, 2048), 2048 },
    };
    replay(steps, ARRAY_LEN(steps), 64);
    CHECK_EQ(count(), 0);

    struct det_step steps2[] = {
        STEP(C2S, http),
        { S2C, guarded_copy(noise, 512), 512 },
    };
    replay(steps2, ARRAY_LEN(steps2), 0);
    CHECK_EQ(count(), 0);

    /* A v3 startup whose parameter list lies about its end. */
    static const char broken_startup[] =
        "\x00\x00\x00\x10\x00\x03\x00\x00user\x00" "bob";
    struct det_step steps3[] = {
        STEP(C2S, broken_startup),
        STEP(S2C, auth_cleartext),
        STEP(C2S, password_clear),
    };
    replay(steps3, ARRAY_LEN(steps3), 0);
    CHECK_EQ(count(), 0);
}

/* wants(): nDPI's verdict, or an opening only a PostgreSQL client sends. */
static void test_wants(void)
{
    struct flow_view fv = test_flow();
    static const char http[] = "GET / HTTP/1.1\r\n\r\n";
    static const char no_user[] =
        "\x00\x00\x00\x17\x00\x03\x00\x00" "database\x00shop\x00\x00";

    CHECK(detector_pgsql.wants(&fv));
    fv.protocol = "Unknown";
    fv.by_dpi = false;
    fv.head[C2S] = guarded_copy(startup_alice, sizeof startup_alice - 1);
    fv.head_len[C2S] = sizeof startup_alice - 1;
    CHECK(detector_pgsql.wants(&fv));
    fv.head_len[C2S] = sizeof startup_alice - 2;    /* not all of it yet */
    CHECK(!detector_pgsql.wants(&fv));
    fv.head[C2S] = guarded_copy(ssl_request, 8);
    fv.head_len[C2S] = 8;
    CHECK(detector_pgsql.wants(&fv));
    fv.head[C2S] = guarded_copy(gssenc_request, 8);
    CHECK(detector_pgsql.wants(&fv));
    fv.head[C2S] = guarded_copy(no_user, sizeof no_user - 1);
    fv.head_len[C2S] = sizeof no_user - 1;
    CHECK(!detector_pgsql.wants(&fv));
    fv.head[C2S] = guarded_copy(http, sizeof http - 1);
    fv.head_len[C2S] = sizeof http - 1;
    CHECK(!detector_pgsql.wants(&fv));
    fv.head[C2S] = guarded_copy("", 0);
    fv.head_len[C2S] = 0;
    CHECK(!detector_pgsql.wants(&fv));
    fv.protocol = "PostgreSQL";                     /* a port guess is not enough */
    CHECK(!detector_pgsql.wants(&fv));
}

int main(void)
{
    RUN(test_ssl_refused_cleartext_password);
    RUN(test_ssl_accepted);
    RUN(test_md5);
    RUN(test_scram);
    RUN(test_tls_required);
    RUN(test_midstream);
    RUN(test_huge_datarow);
    RUN(test_garbage);
    RUN(test_wants);
    findings_free();
    return unit_done("test_pgsql");
}

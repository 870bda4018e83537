/*
 * test_redis.c - the Redis detector on crafted conversations.
 *
 * Commands and replies are written as RESP (the "Redis serialization
 * protocol specification") or as inline lines, one protocol element per
 * string piece.  Each conversation runs through engine_run_detector()
 * whole and then cut into pieces of every size up to its longest step:
 * the findings must not change with the segmentation.  guarded_copy()
 * puts each step right before an unreadable page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../detectors/detector.h"
#include "../../reports/finding.h"
#include "../../scanner/engine.h"
#include "unit.h"
#include "replay.h"

extern const struct detector detector_redis;

/* ------------------------------------------------------------------ messages */

/* AUTH s3cretpass */
static const char auth_pw[] =
    "*2\r\n" "$4\r\n" "AUTH\r\n" "$10\r\n" "s3cretpass\r\n";

/* +OK */
static const char ok[] =
    "+OK\r\n";

/* SET session:42 {"uid":42,"role":"admin"} EX 3600 */
static const char set_session[] =
    "*5\r\n" "$3\r\n" "SET\r\n" "$10\r\n" "session:42\r\n" "$25\r\n"
    "{\"uid\":42,\"role\":\"admin\"}\r\n" "$2\r\n" "EX\r\n" "$4\r\n" "3600\r\n";

/* GET session:42 */
static const char get_session[] =
    "*2\r\n" "$3\r\n" "GET\r\n" "$10\r\n" "session:42\r\n";

/* bulk reply {"uid":42,"role":"admin"} */
static const char bulk_session[] =
    "$25\r\n" "{\"uid\":42,\"role\":\"admin\"}\r\n";

/* AUTH app-user Pa55w0rd!xyz */
static const char auth_user_pw[] =
    "*3\r\n" "$4\r\n" "AUTH\r\n" "$8\r\n" "app-user\r\n" "$12\r\n" "Pa55w0rd!xyz\r\n";

/* -WRONGPASS ... */
static const char wrongpass[] =
    "-WRONGPASS invalid username-password pair or user is disabled.\r\n";

/* inline: AUTH hunter2hunter2 */
static const char inline_auth[] =
    "AUTH hunter2hunter2\r\n";

/* inline: auth ops "pass word 1" (quoted) */
static const char inline_auth_user[] =
    "auth ops \"pass word 1\"\r\n";

/* inline: PING */
static const char inline_ping[] =
    "PING\r\n";

/* +PONG */
static const char pong[] =
    "+PONG\r\n";

/* inline, LF only: SET greeting "hello world" */
static const char inline_set[] =
    "SET greeting \"hello world\"\n";

/* HELLO 3 AUTH admin adm1nPass SETNAME myapp */
static const char hello_auth[] =
    "*7\r\n" "$5\r\n" "HELLO\r\n" "$1\r\n" "3\r\n" "$4\r\n" "AUTH\r\n" "$5\r\n"
    "admin\r\n" "$9\r\n" "adm1nPass\r\n" "$7\r\n" "SETNAME\r\n" "$5\r\n" "myapp\r\n";

/* RESP3 map: server redis, version 7.2.4, proto 3 */
static const char hello_reply[] =
    "%3\r\n" "$6\r\n" "server\r\n" "$5\r\n" "redis\r\n" "$7\r\n" "version\r\n" "$5\r\n"
    "7.2.4\r\n" "$5\r\n" "proto\r\n" ":3\r\n";

/* CONFIG SET maxmemory 100mb requirepass N3wServerPass */
static const char config_set[] =
    "*6\r\n" "$6\r\n" "CONFIG\r\n" "$3\r\n" "SET\r\n" "$9\r\n" "maxmemory\r\n" "$5\r\n"
    "100mb\r\n" "$11\r\n" "requirepass\r\n" "$13\r\n" "N3wServerPass\r\n";

/* ACL SETUSER bob on >b0bsPassword ~* +@all */
static const char acl_setuser[] =
    "*7\r\n" "$3\r\n" "ACL\r\n" "$7\r\n" "SETUSER\r\n" "$3\r\n" "bob\r\n" "$2\r\n"
    "on\r\n" "$13\r\n" ">b0bsPassword\r\n" "$2\r\n" "~*\r\n" "$5\r\n" "+@all\r\n";

/* PING */
static const char ping[] =
    "*1\r\n" "$4\r\n" "PING\r\n";

/* GET big */
static const char get_big[] =
    "*2\r\n" "$3\r\n" "GET\r\n" "$3\r\n" "big\r\n";

/* a POP3 greeting: +OK with text */
static const char pop3_greeting[] =
    "+OK POP3 server ready\r\n";

/* a POP3 client: AUTH PLAIN */
static const char pop3_auth[] =
    "AUTH PLAIN\r\n";

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
    fv.server.b[0] = 10, fv.server.b[3] = 6;
    fv.client_port = 40000;
    fv.server_port = 6379;
    fv.protocol = "Redis";
    fv.by_dpi = true;
    return fv;
}

/* Runs the conversation through the redis detector (see replay.h). */
static void replay(const struct det_step *steps, size_t nsteps, size_t max_chunk)
{
    struct flow_view fv = test_flow();
    replay_with(&detector_redis, &fv, steps, nsteps, max_chunk);
}

/* Whether a sample of v has this field and excerpt. */
static bool has_sample(const struct finding_view *v, const char *field, const char *excerpt)
{
    for (size_t i = 0; i < v->nsamples; i++)
        if (strcmp(v->samples[i].field, field) == 0 &&
            strcmp(v->samples[i].excerpt, excerpt) == 0)
            return true;
    return false;
}

/* The excerpt of the first sample named field, or "". */
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

/* AUTH with a password only (the "default" user), then SET and GET of a
 * session object. */
static void test_auth_password(void)
{
    struct det_step steps[] = {
        STEP(C2S, auth_pw),
        STEP(S2C, ok),
        STEP(C2S, set_session),
        STEP(S2C, ok),
        STEP(C2S, get_session),
        STEP(S2C, bulk_session),
    };
    replay(steps, ARRAY_LEN(steps), 0);

    struct finding_view v;
    CHECK_EQ(count(), 2);
    CHECK(find("redis.cleartext-auth", &v));
    CHECK_EQ(v.rule->severity, SEV_CRITICAL);
    CHECK(has_sample(&v, "user", "default"));
    CHECK(strstr(sample(&v, "password"), "s3cret") == NULL);
    CHECK(strstr(sample(&v, "password"), "10 chars") != NULL);
    CHECK_EQ(v.distinct_secrets, 1);
    CHECK(find("redis.cleartext-session", &v));
    CHECK_EQ(v.rule->severity, SEV_MEDIUM);
    CHECK_EQ(v.occurrences, 3);             /* AUTH, SET, GET: once each */
    CHECK(has_sample(&v, "command", "AUTH"));
    CHECK(has_sample(&v, "command", "SET"));
    CHECK(has_sample(&v, "command", "GET"));
}

/* AUTH user password in RESP; the server refuses it, which does not
 * unsay the password. */
static void test_auth_user_password(void)
{
    struct det_step steps[] = {
        STEP(C2S, auth_user_pw),
        STEP(S2C, wrongpass),
        STEP(C2S, auth_user_pw),
        STEP(S2C, ok),
        STEP(C2S, ping),
        STEP(S2C, pong),
    };
    replay(steps, ARRAY_LEN(steps), 0);

    struct finding_view v;
    CHECK(find("redis.cleartext-auth", &v));
    CHECK_EQ(v.occurrences, 4);             /* user and password, twice */
    CHECK(has_sample(&v, "user", "app-user"));
    CHECK(strstr(sample(&v, "password"), "Pa55w0rd") == NULL);
    CHECK_EQ(v.distinct_secrets, 1);
    CHECK(find("redis.cleartext-session", &v));
    CHECK_EQ(v.occurrences, 2);             /* AUTH, PING */
}

/* Inline commands, as redis-cli pipes and health checks send them:
 * CRLF and bare LF line ends, upper and lower case, a quoted password. */
static void test_inline(void)
{
    struct det_step steps[] = {
        STEP(C2S, inline_auth),
        STEP(S2C, ok),
        STEP(C2S, inline_ping),
        STEP(S2C, pong),
        STEP(C2S, inline_set),
        STEP(S2C, ok),
        STEP(C2S, inline_auth_user),
        STEP(S2C, wrongpass),
    };
    replay(steps, ARRAY_LEN(steps), 0);

    struct finding_view v;
    CHECK(find("redis.cleartext-auth", &v));
    CHECK_EQ(v.occurrences, 4);
    CHECK(has_sample(&v, "user", "default"));
    CHECK(has_sample(&v, "user", "ops"));
    CHECK(strstr(sample(&v, "password"), "hunter2") == NULL);
    CHECK_EQ(v.distinct_secrets, 2);        /* "hunter2hunter2", "pass word 1" */
    CHECK(find("redis.cleartext-session", &v));
    CHECK_EQ(v.occurrences, 3);             /* AUTH, PING, SET (auth again: seen) */
    CHECK(has_sample(&v, "command", "PING"));
}

/* HELLO 3 AUTH user password SETNAME name, answered with a RESP3 map. */
static void test_hello_auth(void)
{
    struct det_step steps[] = {
        STEP(C2S, hello_auth),
        STEP(S2C, hello_reply),
        STEP(C2S, get_session),
        STEP(S2C, bulk_session),
    };
    replay(steps, ARRAY_LEN(steps), 0);

    struct finding_view v;
    CHECK(find("redis.cleartext-auth", &v));
    CHECK_EQ(v.occurrences, 2);
    CHECK(has_sample(&v, "user", "admin"));
    CHECK(strstr(sample(&v, "password"), "adm1n") == NULL);
    CHECK(!has_sample(&v, "user", "myapp"));
    CHECK(find("redis.cleartext-session", &v));
    CHECK(has_sample(&v, "command", "HELLO"));
}

/* Passwords set through the admin commands travel in clear too. */
static void test_config_acl(void)
{
    struct det_step steps[] = {
        STEP(C2S, config_set),
        STEP(S2C, ok),
        STEP(C2S, acl_setuser),
        STEP(S2C, ok),
    };
    replay(steps, ARRAY_LEN(steps), 0);

    struct finding_view v;
    CHECK(find("redis.cleartext-auth", &v));
    CHECK_EQ(v.occurrences, 3);             /* requirepass; bob's user and password */
    CHECK(strstr(sample(&v, "requirepass"), "(13 chars)") != NULL);
    CHECK(has_sample(&v, "user", "bob"));
    CHECK(strstr(sample(&v, "password"), "(12 chars)") != NULL);    /* '>' not counted */
    CHECK(find("redis.cleartext-session", &v));
    CHECK(has_sample(&v, "command", "CONFIG"));
    CHECK(has_sample(&v, "command", "ACL"));
}

/* A value far larger than the engine keeps, both ways: skipped by count;
 * the AUTH after it is still read, and a huge AUTH argument is stated
 * without being held. */
static void test_big_value(void)
{
    const size_t value = 300 * 1024;
    char head[64];
    int hn = snprintf(head, sizeof head, "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$%zu\r\n", value);
    size_t n = (size_t)hn + value + 2;
    char *set = malloc(n);
    memcpy(set, head, (size_t)hn);
    memset(set + hn, 'v', value);                   /* 300 KiB of 'v' */
    memcpy(set + hn + value, "\r\n", 2);
    /* the reply to GET big: "$307200\r\n" then the same bytes */
    char *reply = malloc(value + 32);
    int rn = snprintf(reply, 32, "$%zu\r\n", value);
    memset(reply + rn, 'v', value);
    memcpy(reply + rn + value, "\r\n", 2);
    size_t rlen = (size_t)rn + value + 2;
    /* AUTH with an absurd 300 KiB password: stated, without its value */
    char *huge_auth = malloc(value + 64);
    int an = snprintf(huge_auth, 64, "*2\r\n$4\r\nAUTH\r\n$%zu\r\n", value);
    memset(huge_auth + an, 'p', value);
    memcpy(huge_auth + an + value, "\r\n", 2);
    size_t alen = (size_t)an + value + 2;

    struct det_step steps[] = {
        { C2S, guarded_copy(set, n), n },
        STEP(S2C, ok),
        STEP(C2S, get_big),
        { S2C, guarded_copy(reply, rlen), rlen },
        STEP(C2S, auth_pw),
        STEP(S2C, ok),
        { C2S, guarded_copy(huge_auth, alen), alen },
        STEP(S2C, wrongpass),
    };
    struct flow_view fv = test_flow();
    static const size_t chunks[] = { 0, 1, 1000, 4096, 65536, 131072 };
    for (size_t i = 0; i < ARRAY_LEN(chunks); i++) {
        struct finding_view v;
        findings_free();
        CHECK_EQ(engine_run_detector(&detector_redis, &fv, steps, ARRAY_LEN(steps), chunks[i]),
                 0);
        CHECK(find("redis.cleartext-auth", &v));
        CHECK_EQ(v.occurrences, 4);         /* two AUTHs: user and password each */
        CHECK_EQ(v.distinct_secrets, 1);    /* the huge one has no value to show */
        CHECK(find("redis.cleartext-session", &v));
        CHECK_EQ(v.occurrences, 3);         /* SET, GET, AUTH */
    }
    free(set);
    free(reply);
    free(huge_auth);
}

/* Bytes that are not Redis: nothing is stated, nothing crashes. */
static void test_garbage(void)
{
    static uint8_t noise[4096];
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < sizeof noise; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;    /* xorshift32 */
        noise[i] = (uint8_t)x;
    }
    struct det_step steps[] = {
        { C2S, guarded_copy(noise, 2048), 2048 },
        { S2C, guarded_copy(noise + 2048, 2048), 2048 },
    };
    replay(steps, ARRAY_LEN(steps), 64);
    CHECK_EQ(count(), 0);

    /* A text protocol whose first word is no Redis command. */
    static const char smtp[] = "EHLO mail.example\r\nMAIL FROM:<a@example>\r\n";
    struct det_step steps2[] = {
        STEP(C2S, smtp),
        STEP(S2C, ok),
    };
    replay(steps2, ARRAY_LEN(steps2), 0);
    CHECK_EQ(count(), 0);

    /* Headers that lie: a negative array, a bulk with no command. */
    static const char bad[] = "$5\r\nhello\r\n*-1\r\n";
    struct det_step steps3[] = {
        STEP(C2S, bad),
        { S2C, guarded_copy(noise, 300), 300 },
    };
    replay(steps3, ARRAY_LEN(steps3), 0);
    CHECK_EQ(count(), 0);
}

/* wants(): nDPI's verdict, a RESP command only Redis clients send, or an
 * inline command answered the way only Redis answers. */
/* What wants() sees of direction d: the first n bytes of p. */
static void set_head(struct flow_view *fv, int d, const char *p, size_t n)
{
    fv->head[d] = guarded_copy(p, n);
    fv->head_len[d] = n;
}

static void test_wants(void)
{
    struct flow_view fv = test_flow();
    static const char unknown_cmd[] = "*1\r\n$7\r\nFOOBARX\r\n";
    static const char http[] = "GET / HTTP/1.1\r\n\r\n";

    CHECK(detector_redis.wants(&fv));
    fv.protocol = "Unknown";
    fv.by_dpi = false;
    set_head(&fv, C2S, get_session, sizeof get_session - 1);
    CHECK(detector_redis.wants(&fv));
    set_head(&fv, C2S, auth_pw, 8);                 /* "*2\r\n$4\r\n": name not here yet */
    CHECK(!detector_redis.wants(&fv));
    set_head(&fv, C2S, unknown_cmd, sizeof unknown_cmd - 1);
    CHECK(!detector_redis.wants(&fv));

    set_head(&fv, C2S, inline_auth, sizeof inline_auth - 1);
    CHECK(!detector_redis.wants(&fv));              /* no reply seen */
    set_head(&fv, S2C, wrongpass, sizeof wrongpass - 1);
    CHECK(detector_redis.wants(&fv));
    set_head(&fv, S2C, ok, sizeof ok - 1);
    CHECK(detector_redis.wants(&fv));
    static const char bulk[] = "$5\r\nhello\r\n", integer[] = ":42\r\n", text[] = "hello\r\n";
    set_head(&fv, S2C, bulk, sizeof bulk - 1);
    CHECK(detector_redis.wants(&fv));
    set_head(&fv, S2C, integer, sizeof integer - 1);
    CHECK(detector_redis.wants(&fv));
    set_head(&fv, S2C, text, sizeof text - 1);
    CHECK(!detector_redis.wants(&fv));             /* not a reply */

    set_head(&fv, C2S, pop3_auth, sizeof pop3_auth - 1);
    set_head(&fv, S2C, pop3_greeting, sizeof pop3_greeting - 1);
    CHECK(!detector_redis.wants(&fv));              /* POP3, not Redis */

    set_head(&fv, C2S, http, sizeof http - 1);
    set_head(&fv, S2C, ok, sizeof ok - 1);
    CHECK(!detector_redis.wants(&fv));
    fv.protocol = "Redis";                          /* a port guess is not enough */
    CHECK(!detector_redis.wants(&fv));
}

int main(void)
{
    RUN(test_auth_password);
    RUN(test_auth_user_password);
    RUN(test_inline);
    RUN(test_hello_auth);
    RUN(test_config_acl);
    RUN(test_big_value);
    RUN(test_garbage);
    RUN(test_wants);
    findings_free();
    return unit_done("test_redis");
}

/*
 * test_mongodb.c - the MongoDB detector on real and crafted conversations.
 *
 * The real bytes come from nDPI's mongodb.pcap (PyMongo 3.4 and the 3.4
 * shell speaking OP_QUERY) and mongo_false_positive.pcapng (TLS records that
 * nDPI once took for MongoDB: they must not be); the crafted messages follow
 * the MongoDB Wire Protocol reference and BSON 1.1, built by the helpers
 * below with their structure in comments.  Every conversation runs whole and
 * cut into pieces of every size (conv_check): the findings must not change
 * with the segmentation.  Every step sits right before an unreadable page.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "unit.h"
#include "detect_conv.h"

extern const struct detector detector_mongodb;

/* ------------------------------------------------------------ real bytes */

/* PyMongo 3.4: OP_QUERY (d4 07 00 00) on "admin.$cmd", skip 0, return -1,
 * { ismaster: 1, client: { driver: { name: "PyMongo", version: "3.4.0" },
 * os: { type: "Darwin", ... }, platform: "CPython 2.7.10.final.0" } } */
static const unsigned char ismaster_pymongo[] = {
    0xf7, 0x00, 0x00, 0x00, 0x98, 0x36, 0x6e, 0x4d, 0x00, 0x00, 0x00, 0x00,
    0xd4, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x61, 0x64, 0x6d, 0x69,
    0x6e, 0x2e, 0x24, 0x63, 0x6d, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff,
    0xff, 0xff, 0xff, 0xd0, 0x00, 0x00, 0x00, 0x10, 0x69, 0x73, 0x6d, 0x61,
    0x73, 0x74, 0x65, 0x72, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03, 0x63, 0x6c,
    0x69, 0x65, 0x6e, 0x74, 0x00, 0xb5, 0x00, 0x00, 0x00, 0x03, 0x64, 0x72,
    0x69, 0x76, 0x65, 0x72, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x02, 0x6e, 0x61,
    0x6d, 0x65, 0x00, 0x08, 0x00, 0x00, 0x00, 0x50, 0x79, 0x4d, 0x6f, 0x6e,
    0x67, 0x6f, 0x00, 0x02, 0x76, 0x65, 0x72, 0x73, 0x69, 0x6f, 0x6e, 0x00,
    0x06, 0x00, 0x00, 0x00, 0x33, 0x2e, 0x34, 0x2e, 0x30, 0x00, 0x00, 0x03,
    0x6f, 0x73, 0x00, 0x55, 0x00, 0x00, 0x00, 0x02, 0x74, 0x79, 0x70, 0x65,
    0x00, 0x07, 0x00, 0x00, 0x00, 0x44, 0x61, 0x72, 0x77, 0x69, 0x6e, 0x00,
    0x02, 0x6e, 0x61, 0x6d, 0x65, 0x00, 0x07, 0x00, 0x00, 0x00, 0x44, 0x61,
    0x72, 0x77, 0x69, 0x6e, 0x00, 0x02, 0x61, 0x72, 0x63, 0x68, 0x69, 0x74,
    0x65, 0x63, 0x74, 0x75, 0x72, 0x65, 0x00, 0x07, 0x00, 0x00, 0x00, 0x78,
    0x38, 0x36, 0x5f, 0x36, 0x34, 0x00, 0x02, 0x76, 0x65, 0x72, 0x73, 0x69,
    0x6f, 0x6e, 0x00, 0x08, 0x00, 0x00, 0x00, 0x31, 0x30, 0x2e, 0x31, 0x31,
    0x2e, 0x36, 0x00, 0x00, 0x02, 0x70, 0x6c, 0x61, 0x74, 0x66, 0x6f, 0x72,
    0x6d, 0x00, 0x17, 0x00, 0x00, 0x00, 0x43, 0x50, 0x79, 0x74, 0x68, 0x6f,
    0x6e, 0x20, 0x32, 0x2e, 0x37, 0x2e, 0x31, 0x30, 0x2e, 0x66, 0x69, 0x6e,
    0x61, 0x6c, 0x2e, 0x30, 0x00, 0x00, 0x00,
};

/* OP_QUERY on "abtest.$cmd": { getnonce: 1 } (the first MONGODB-CR step) */
static const unsigned char getnonce[] = {
    0x3b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xd4, 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x61, 0x62, 0x74, 0x65,
    0x73, 0x74, 0x2e, 0x24, 0x63, 0x6d, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0xff, 0x13, 0x00, 0x00, 0x00, 0x10, 0x67, 0x65, 0x74,
    0x6e, 0x6f, 0x6e, 0x63, 0x65, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
};

/* mongo_false_positive.pcapng, the first 48 bytes each side sent on port
 * 443: TLS records of a session whose handshake was not captured.  Read as
 * a MongoDB header: length 17739, opcode 1 (OP_REPLY) from the client, an
 * unknown opcode from the server. */
static const unsigned char fp_client[] = {
    0x4b, 0x45, 0x00, 0x00, 0x02, 0x06, 0x01, 0x55, 0x00, 0x00, 0x03, 0x9e,
    0x01, 0x00, 0x00, 0x00, 0x8f, 0xe0, 0xa8, 0xcf, 0x6b, 0x86, 0x21, 0x01,
    0x00, 0xaa, 0x04, 0x9a, 0xc3, 0x85, 0x95, 0x88, 0x5b, 0x26, 0xe5, 0x35,
    0x6c, 0x8a, 0x3d, 0x81, 0x94, 0xf2, 0x3d, 0xfb, 0xb3, 0x11, 0xee, 0x81,
};
static const unsigned char fp_server[] = {
    0x4b, 0x45, 0x00, 0x00, 0x02, 0x06, 0x00, 0x00, 0x00, 0x00, 0x7c, 0x01,
    0x00, 0x00, 0x00, 0x8b, 0xc5, 0xb9, 0xc4, 0x78, 0x71, 0x01, 0xf1, 0x7f,
    0x41, 0x64, 0xf6, 0x79, 0x34, 0xfc, 0x94, 0x31, 0xbf, 0xa4, 0xc0, 0xc1,
    0x49, 0x12, 0x15, 0xd6, 0x47, 0xa3, 0x24, 0x38, 0x95, 0x91, 0x8a, 0xa1,
};

/* ------------------------------------------------------------ builders */

/* A BSON document under construction; nested documents and arrays are
 * opened and closed in order. */
struct bson {
    uint8_t b[96 * 1024];
    size_t n;
    size_t open[8];
    int depth;
};

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void bs_bytes(struct bson *d, const void *p, size_t n)
{
    memcpy(d->b + d->n, p, n);
    d->n += n;
}

static void bs_key(struct bson *d, uint8_t type, const char *key)
{
    d->b[d->n++] = type;
    bs_bytes(d, key, strlen(key) + 1);
}

static void bs_begin(struct bson *d)
{
    d->open[d->depth++] = d->n;
    d->n += 4;
}

static void bs_end(struct bson *d)
{
    d->b[d->n++] = 0;
    size_t at = d->open[--d->depth];
    put32(d->b + at, (uint32_t)(d->n - at));
}

static void bs_str(struct bson *d, const char *key, const char *val)
{
    uint8_t len[4];
    bs_key(d, 0x02, key);
    put32(len, (uint32_t)strlen(val) + 1);
    bs_bytes(d, len, 4);
    bs_bytes(d, val, strlen(val) + 1);
}

static void bs_int(struct bson *d, const char *key, uint32_t v)
{
    uint8_t b[4];
    bs_key(d, 0x10, key);
    put32(b, v);
    bs_bytes(d, b, 4);
}

static void bs_bin(struct bson *d, const char *key, const void *p, size_t n)
{
    uint8_t len[4];
    bs_key(d, 0x05, key);
    put32(len, (uint32_t)n);
    bs_bytes(d, len, 4);
    d->b[d->n++] = 0;                   /* subtype 0, generic */
    bs_bytes(d, p, n);
}

static void bs_sub(struct bson *d, uint8_t type, const char *key)
{
    bs_key(d, type, key);
    bs_begin(d);
}

/* Appends a message: header (length, requestID, responseTo, opCode), then
 * the body. */
static void msg(struct conv *c, enum dir d, uint32_t op, const void *body, size_t n)
{
    uint8_t h[16];
    put32(h, (uint32_t)(n + 16));
    put32(h + 4, 7);
    put32(h + 8, d == DIR_TO_SERVER ? 0 : 7);
    put32(h + 12, op);
    conv_add(c, d, h, sizeof h, true);
    conv_add(c, d, body, n, true);
}

/* OP_MSG: flagBits 0, one kind-0 section with the document. */
static void op_msg(struct conv *c, enum dir d, const struct bson *doc)
{
    static uint8_t body[96 * 1024 + 8];
    memset(body, 0, 5);
    memcpy(body + 5, doc->b, doc->n);
    msg(c, d, 2013, body, doc->n + 5);
}

/* OP_QUERY: flags 0, namespace, skip 0, return -1, the document. */
static void op_query(struct conv *c, const char *ns, const struct bson *doc)
{
    uint8_t body[4096];
    size_t n = 0;
    memset(body, 0, 4);
    n = 4;
    memcpy(body + n, ns, strlen(ns) + 1);
    n += strlen(ns) + 1;
    memcpy(body + n, "\x00\x00\x00\x00\xff\xff\xff\xff", 8);
    n += 8;
    memcpy(body + n, doc->b, doc->n);
    msg(c, DIR_TO_SERVER, 2004, body, n + doc->n);
}

/* { find: "customers", filter: { email: ..., card: ... }, $db: "shop" } */
static void doc_find(struct bson *d)
{
    memset(d, 0, sizeof *d);
    bs_begin(d);
    bs_str(d, "find", "customers");
    bs_sub(d, 0x03, "filter");
    bs_str(d, "email", "alice@example.com");
    bs_str(d, "card", "4111111111111111");
    bs_end(d);
    bs_int(d, "limit", 1);
    bs_str(d, "$db", "shop");
    bs_end(d);
}

/* ------------------------------------------------------------ harness */

static struct bson doc;

static void run(struct conv *c, const char *proto)
{
    struct flow_view fv = conv_view(6, 27017, proto);
    conv_seal(c);
    conv_check(&detector_mongodb, &fv, c, NULL, 0);
}

static const char *fingerprint(const struct finding_view *v, const char *field)
{
    for (size_t k = 0; k < v->nsamples; k++)
        if (strcmp(v->samples[k].field, field) == 0)
            return v->samples[k].fingerprint;
    return "";
}

/* ------------------------------------------------------------ tests */

/* The real PyMongo handshake: a command session in clear. */
static void test_mongo_real_ismaster(void)
{
    struct conv c = { 0 };
    struct finding_view v;
    conv_add(&c, DIR_TO_SERVER, ismaster_pymongo, sizeof ismaster_pymongo, false);
    run(&c, "MongoDB");
    CHECK_EQ(conv_nfindings(), 1);
    CHECK(conv_finding("mongodb.cleartext-session", &v));
    CHECK(conv_sample(&v, "command", "ismaster db=admin"));
    conv_free(&c);

    conv_add(&c, DIR_TO_SERVER, getnonce, sizeof getnonce, false);
    run(&c, "Unknown");
    CHECK(conv_finding("mongodb.cleartext-session", &v));
    CHECK(conv_sample(&v, "command", "getnonce db=abtest"));
    CHECK(!conv_finding("mongodb.cleartext-auth", &v));
    conv_free(&c);
}

/* OP_MSG find and its reply: the command, and the card, e-mail and SSN
 * in the documents. */
static void test_mongo_op_msg(void)
{
    struct conv c = { 0 };
    struct finding_view v;
    doc_find(&doc);
    op_msg(&c, DIR_TO_SERVER, &doc);
    /* { cursor: { firstBatch: [ { name: "Alice", ssn: "536-22-8012" } ],
     *   id: 0, ns: "shop.customers" }, ok: 1 } */
    memset(&doc, 0, sizeof doc);
    bs_begin(&doc);
    bs_sub(&doc, 0x03, "cursor");
    bs_sub(&doc, 0x04, "firstBatch");
    bs_sub(&doc, 0x03, "0");
    bs_str(&doc, "name", "Alice");
    bs_str(&doc, "ssn", "536-22-8012");
    bs_end(&doc);
    bs_end(&doc);
    bs_str(&doc, "ns", "shop.customers");
    bs_end(&doc);
    bs_int(&doc, "ok", 1);
    bs_end(&doc);
    op_msg(&c, DIR_TO_CLIENT, &doc);
    run(&c, "MongoDB");

    CHECK(conv_finding("mongodb.cleartext-session", &v));
    CHECK_EQ(v.occurrences, 1);
    CHECK(conv_sample(&v, "command", "find customers db=shop"));
    CHECK(conv_finding("pii.card-number", &v));
    CHECK(conv_finding("pii.email", &v));
    CHECK(conv_finding("pii.ssn", &v));
    CHECK(!conv_finding("mongodb.cleartext-auth", &v));
    conv_free(&c);
}

/* SASL PLAIN (LDAP users): the payload "\0alice\0s3cret-Pa55" is the
 * password in clear, as BinData (OP_MSG) or base64 (legacy OP_QUERY). */
static void test_mongo_plain_auth(void)
{
    struct conv c = { 0 };
    struct finding_view v;
    memset(&doc, 0, sizeof doc);
    bs_begin(&doc);
    bs_int(&doc, "saslStart", 1);
    bs_str(&doc, "mechanism", "PLAIN");
    bs_bin(&doc, "payload", "\0alice\0s3cret-Pa55", 18);
    bs_str(&doc, "$db", "$external");
    bs_end(&doc);
    op_msg(&c, DIR_TO_SERVER, &doc);
    run(&c, "MongoDB");

    CHECK(conv_finding("mongodb.cleartext-auth", &v));
    CHECK(conv_sample(&v, "user", "user=alice mechanism=PLAIN db=$external"));
    CHECK(strlen(fingerprint(&v, "password")) == 16);
    CHECK(conv_sample(&v, "password", "(11 chars)"));
    CHECK(!conv_sample(&v, "password", "s3cret"));
    char fp[17];
    snprintf(fp, sizeof fp, "%s", fingerprint(&v, "password"));
    CHECK(conv_finding("mongodb.cleartext-session", &v));
    CHECK(conv_sample(&v, "command", "saslStart db=$external"));
    conv_free(&c);

    /* base64("\0alice\0s3cret-Pa55") in a string, over OP_QUERY */
    memset(&doc, 0, sizeof doc);
    bs_begin(&doc);
    bs_int(&doc, "saslStart", 1);
    bs_str(&doc, "mechanism", "PLAIN");
    bs_str(&doc, "payload", "AGFsaWNlAHMzY3JldC1QYTU1");
    bs_end(&doc);
    op_query(&c, "$external.$cmd", &doc);
    run(&c, "MongoDB");
    CHECK(conv_finding("mongodb.cleartext-auth", &v));
    CHECK_STR(fingerprint(&v, "password"), fp);
    conv_free(&c);
}

/* SCRAM does not reveal the password: no auth finding, the user name
 * joins the session's evidence; also inside hello's
 * speculativeAuthenticate. */
static void test_mongo_scram(void)
{
    static const char first[] = "n,,n=bob,r=fyko+d2lbbFgONRv9qkxdawL";
    struct conv c = { 0 };
    struct finding_view v;
    memset(&doc, 0, sizeof doc);
    bs_begin(&doc);
    bs_int(&doc, "hello", 1);
    bs_sub(&doc, 0x03, "speculativeAuthenticate");
    bs_int(&doc, "saslStart", 1);
    bs_str(&doc, "mechanism", "SCRAM-SHA-256");
    bs_bin(&doc, "payload", first, sizeof first - 1);
    bs_str(&doc, "db", "admin");
    bs_end(&doc);
    bs_str(&doc, "$db", "admin");
    bs_end(&doc);
    op_msg(&c, DIR_TO_SERVER, &doc);
    run(&c, "MongoDB");

    CHECK(!conv_finding("mongodb.cleartext-auth", &v));
    CHECK(conv_finding("mongodb.cleartext-session", &v));
    CHECK(conv_sample(&v, "command", "hello db=admin"));
    CHECK(conv_sample(&v, "user", "user=bob mechanism=SCRAM-SHA-256 db=admin"));
    conv_free(&c);
}

/* MONGODB-CR: the key is md5(nonce + user + md5(user:mongo:password)),
 * crackable offline; createUser carries the new password as typed. */
static void test_mongo_cr_and_create_user(void)
{
    struct conv c = { 0 };
    struct finding_view v;
    memset(&doc, 0, sizeof doc);
    bs_begin(&doc);
    bs_int(&doc, "authenticate", 1);
    bs_str(&doc, "user", "carol");
    bs_str(&doc, "nonce", "2375531c32080ae8");
    bs_str(&doc, "key", "21742f26431831d5cfca035a08c5bdf6");
    bs_end(&doc);
    op_query(&c, "admin.$cmd", &doc);

    memset(&doc, 0, sizeof doc);
    bs_begin(&doc);
    bs_str(&doc, "createUser", "dave");
    bs_str(&doc, "pwd", "Winter2024!");
    bs_sub(&doc, 0x04, "roles");
    bs_end(&doc);
    bs_str(&doc, "$db", "admin");
    bs_end(&doc);
    op_msg(&c, DIR_TO_SERVER, &doc);
    run(&c, "MongoDB");

    CHECK(conv_finding("mongodb.cleartext-auth", &v));
    CHECK_EQ(v.occurrences, 4);
    CHECK(conv_sample(&v, "user", "user=carol mechanism=MONGODB-CR db=admin"));
    CHECK(strlen(fingerprint(&v, "key")) == 16);
    CHECK(conv_sample(&v, "user", "createUser=dave db=admin"));
    CHECK(!conv_sample(&v, "pwd", "Winter"));
    conv_free(&c);
}

/* OP_COMPRESSED: zlib is inflated and read; snappy is named only. */
static void test_mongo_compressed(void)
{
    static uint8_t raw[2048], body[2048];
    struct conv c = { 0 };
    struct finding_view v;
    doc_find(&doc);
    memset(raw, 0, 5);                  /* OP_MSG flagBits 0, kind 0 */
    memcpy(raw + 5, doc.b, doc.n);
    uLongf zlen = sizeof body - 9;
    CHECK(compress(body + 9, &zlen, raw, doc.n + 5) == Z_OK);
    /* originalOpcode 2013, uncompressedSize, compressorId 2 (zlib) */
    put32(body, 2013);
    put32(body + 4, (uint32_t)(doc.n + 5));
    body[8] = 2;
    msg(&c, DIR_TO_SERVER, 2012, body, 9 + zlen);
    /* the same, said to be snappy */
    body[8] = 1;
    msg(&c, DIR_TO_SERVER, 2012, body, 9 + zlen);
    run(&c, "MongoDB");

    CHECK(conv_finding("mongodb.cleartext-session", &v));
    CHECK_EQ(v.occurrences, 2);
    CHECK(conv_sample(&v, "command", "find customers db=shop"));
    CHECK(conv_sample(&v, "command", "OP_COMPRESSED snappy (not decoded)"));
    CHECK(conv_finding("pii.card-number", &v));
    CHECK_EQ(v.occurrences, 1);
    conv_free(&c);
}

/* A message longer than the detector waits for (an 80 KiB insert) is
 * read from its start and skipped; the next message is read again.  Its
 * "$db" comes last, past what is read. */
static void test_mongo_large_message(void)
{
    static const size_t chunks[] = { 3, 1000, 4096, 16384, 65536 };
    struct conv c = { 0 };
    struct finding_view v;
    char filler[1001];
    memset(filler, 'x', 1000);
    filler[1000] = '\0';
    memset(&doc, 0, sizeof doc);
    bs_begin(&doc);
    bs_str(&doc, "insert", "logs");
    bs_sub(&doc, 0x04, "documents");
    bs_sub(&doc, 0x03, "0");
    bs_str(&doc, "token", "AKIAIOSFODNN7EXAMPLF");
    bs_end(&doc);
    for (int i = 0; i < 80; i++) {
        char key[16];
        snprintf(key, sizeof key, "%d", i + 1);
        bs_sub(&doc, 0x03, key);
        bs_str(&doc, "line", filler);
        bs_end(&doc);
    }
    bs_end(&doc);
    bs_str(&doc, "$db", "app");
    bs_end(&doc);
    op_msg(&c, DIR_TO_SERVER, &doc);
    doc_find(&doc);
    op_msg(&c, DIR_TO_SERVER, &doc);
    conv_seal(&c);
    struct flow_view fv = conv_view(6, 27017, "MongoDB");
    conv_check(&detector_mongodb, &fv, &c, chunks, sizeof chunks / sizeof chunks[0]);

    CHECK(conv_finding("mongodb.cleartext-session", &v));
    CHECK(conv_sample(&v, "command", "insert logs"));
    CHECK(conv_sample(&v, "command", "find customers db=shop"));
    CHECK(conv_finding("secret.api-key", &v));
    CHECK(conv_finding("pii.card-number", &v));
    conv_free(&c);
}

/* Legacy opcodes (pre-3.6 drivers): OP_INSERT and OP_REPLY. */
static void test_mongo_legacy(void)
{
    uint8_t body[512];
    struct conv c = { 0 };
    struct finding_view v;
    memset(&doc, 0, sizeof doc);
    bs_begin(&doc);
    bs_str(&doc, "email", "bob@example.org");
    bs_end(&doc);
    /* OP_INSERT: flags 0, "crm.contacts", the document */
    memset(body, 0, 4);
    memcpy(body + 4, "crm.contacts", 13);
    memcpy(body + 17, doc.b, doc.n);
    msg(&c, DIR_TO_SERVER, 2002, body, 17 + doc.n);
    /* OP_REPLY: flags 8, cursor 0, from 0, 1 document */
    memset(body, 0, 20);
    body[0] = 8;
    body[16] = 1;
    memcpy(body + 20, doc.b, doc.n);
    msg(&c, DIR_TO_CLIENT, 1, body, 20 + doc.n);
    run(&c, "MongoDB");
    CHECK(conv_finding("mongodb.cleartext-session", &v));
    CHECK(conv_sample(&v, "command", "insert crm.contacts"));
    CHECK(conv_finding("pii.email", &v));
    CHECK_EQ(v.occurrences, 2);
    conv_free(&c);
}

/* Not MongoDB: nothing, whatever nDPI said. */
static void test_mongo_garbage(void)
{
    struct conv c = { 0 };
    conv_add(&c, DIR_TO_SERVER, fp_client, sizeof fp_client, false);
    conv_add(&c, DIR_TO_CLIENT, fp_server, sizeof fp_server, false);
    run(&c, "MongoDB");
    CHECK_EQ(conv_nfindings(), 0);
    conv_free(&c);

    conv_text(&c, DIR_TO_SERVER, "GET / HTTP/1.1\r\nHost: db\r\n\r\n");
    run(&c, "MongoDB");
    CHECK_EQ(conv_nfindings(), 0);
    conv_free(&c);
}

/* wants(): nDPI's name, or a header with a known opcode over BSON, in
 * either direction. */
static void test_mongo_wants(void)
{
    struct flow_view fv = conv_view(6, 27017, "Unknown");
    uint8_t bad[sizeof getnonce];

    fv.head[DIR_TO_SERVER] = ismaster_pymongo;
    fv.head_len[DIR_TO_SERVER] = sizeof ismaster_pymongo;
    CHECK(detector_mongodb.wants(&fv));
    /* cut after 60 bytes: what is there is well formed */
    fv.head_len[DIR_TO_SERVER] = 60;
    CHECK(detector_mongodb.wants(&fv));
    /* only the server's side seen */
    fv.head[DIR_TO_SERVER] = NULL;
    fv.head_len[DIR_TO_SERVER] = 0;
    fv.head[DIR_TO_CLIENT] = getnonce;
    fv.head_len[DIR_TO_CLIENT] = sizeof getnonce;
    CHECK(detector_mongodb.wants(&fv));

    /* the TLS bytes nDPI once took for MongoDB */
    fv.head[DIR_TO_SERVER] = fp_client;
    fv.head_len[DIR_TO_SERVER] = sizeof fp_client;
    fv.head[DIR_TO_CLIENT] = fp_server;
    fv.head_len[DIR_TO_CLIENT] = sizeof fp_server;
    CHECK(!detector_mongodb.wants(&fv));
    fv.protocol = "TLS";
    fv.by_dpi = true;
    CHECK(!detector_mongodb.wants(&fv));

    /* a good header over a body that is not BSON (a type byte 0x42) */
    memcpy(bad, getnonce, sizeof bad);
    bad[44] = 0x42;
    fv = conv_view(6, 27017, "Unknown");
    fv.head[DIR_TO_SERVER] = bad;
    fv.head_len[DIR_TO_SERVER] = sizeof bad;
    CHECK(!detector_mongodb.wants(&fv));
    /* a length past 48 MB */
    memcpy(bad, getnonce, sizeof bad);
    bad[3] = 0x7f;
    CHECK(!detector_mongodb.wants(&fv));
    fv.head[DIR_TO_SERVER] = (const unsigned char *)"GET / HTTP/1.1\r\n\r\n";
    fv.head_len[DIR_TO_SERVER] = 18;
    CHECK(!detector_mongodb.wants(&fv));

    fv = conv_view(6, 27017, "MongoDB");
    CHECK(detector_mongodb.wants(&fv));
    fv.transport = 17;
    CHECK(!detector_mongodb.wants(&fv));
}

int main(void)
{
    RUN(test_mongo_real_ismaster);
    RUN(test_mongo_op_msg);
    RUN(test_mongo_plain_auth);
    RUN(test_mongo_scram);
    RUN(test_mongo_cr_and_create_user);
    RUN(test_mongo_compressed);
    RUN(test_mongo_large_message);
    RUN(test_mongo_legacy);
    RUN(test_mongo_garbage);
    RUN(test_mongo_wants);
    return unit_done("test_mongodb");
}

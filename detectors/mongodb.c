/*
 * mongodb.c - MongoDB wire protocol sessions in clear: the commands and
 * collections, credentials, and secrets inside documents.
 *
 * Follows the MongoDB Wire Protocol reference (docs.mongodb.com,
 * "MongoDB Wire Protocol": standard message header, OP_MSG, OP_QUERY,
 * OP_REPLY, OP_COMPRESSED and the legacy opcodes), the BSON 1.1
 * specification (bsonspec.org) and the drivers' authentication
 * specification (SASL PLAIN as RFC 4616, SCRAM as RFC 5802, MONGODB-CR).
 * What we report: that a session runs in clear, with the commands, their
 * collection and database; credentials when they are readable (a PLAIN
 * SASL payload, a MONGODB-CR key, a password in createUser/updateUser);
 * string values of documents go through the secrets scanner.  A SCRAM
 * exchange does not reveal the password: its user name only joins the
 * session's evidence.  Left out on purpose: snappy and zstd compression
 * (the message is named, not decoded; zlib is inflated), the body of
 * messages past MONGO_PEEK bytes (read from their start, the rest
 * skipped), and GSSAPI/X.509 details beyond the user name.
 */
#include "detector.h"
#include "secrets.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../scanner/cursor.h"
#include "../scanner/limits.h"
#include "../scanner/stats.h"

/*
 * Standard message header, every message, both directions (all
 * integers little-endian):
 *
 *   +---------------+-----------+------------+--------+--------------+
 *   | messageLength | requestID | responseTo | opCode | body ...     |
 *   | int32 (incl.) | int32     | int32      | int32  |              |
 *   +---------------+-----------+------------+--------+--------------+
 */
#define MONGO_HDR_LEN       16u
/* The server's maxMessageSizeBytes: no message is longer. */
#define MONGO_MAX_LEN       48000000u
/* A message up to this size is waited for whole (the engine holds up to
 * REASM_MAX_PENDING); a longer one (a bulk insert, a big batch of
 * results) is read from its first MONGO_PEEK bytes and the rest skipped
 * by count, never buffered. */
#define MONGO_WHOLE_MAX     (64u * 1024u)
#define MONGO_PEEK          (16u * 1024u)
/* Output inflated from one OP_COMPRESSED message. */
#define MONGO_INFLATE_MAX   (64u * 1024u)
/* Nesting of documents walked (the server allows 100; secrets sit
 * shallow), and elements walked per message. */
#define MONGO_MAX_DEPTH     16u
#define MONGO_MAX_ELEMENTS  20000u
/* Longest key name and namespace read (the server's namespace limit is
 * 255 bytes). */
#define MONGO_NAME_MAX      1024u
#define MONGO_NS_MAX        512u
/* Distinct commands stated per flow: the evidence keeps three samples,
 * and a busy connection repeats the same few commands. */
#define MONGO_CMDS_MAX      8u
#define MONGO_CMD_LEN       32u
/* A SASL payload decoded (PLAIN: authzid, user, password). */
#define MONGO_SASL_MAX      768u

#define OP_REPLY            1u
#define OP_UPDATE           2001u
#define OP_INSERT           2002u
#define OP_QUERY            2004u
#define OP_GET_MORE         2005u
#define OP_DELETE           2006u
#define OP_KILL_CURSORS     2007u
#define OP_COMPRESSED       2012u
#define OP_MSG              2013u

/* OP_MSG flagBits: checksumPresent, moreToCome, exhaustAllowed; any
 * other bit is "required" and unknown, which the server refuses. */
#define OP_MSG_CHECKSUM     0x00000001u
#define OP_MSG_KNOWN_FLAGS  0x00010003u

/* BSON element types (bsonspec.org 1.1). */
#define BSON_DOUBLE         0x01u
#define BSON_STRING         0x02u
#define BSON_DOCUMENT       0x03u
#define BSON_ARRAY          0x04u
#define BSON_BINARY         0x05u
#define BSON_UNDEFINED      0x06u
#define BSON_OBJECTID       0x07u
#define BSON_BOOL           0x08u
#define BSON_DATETIME       0x09u
#define BSON_NULL           0x0au
#define BSON_REGEX          0x0bu
#define BSON_DBPOINTER      0x0cu
#define BSON_CODE           0x0du
#define BSON_SYMBOL         0x0eu
#define BSON_CODE_W_SCOPE   0x0fu
#define BSON_INT32          0x10u
#define BSON_TIMESTAMP      0x11u
#define BSON_INT64          0x12u
#define BSON_DECIMAL128     0x13u
#define BSON_MINKEY         0xffu
#define BSON_MAXKEY         0x7fu

struct mongo_state {
    uint64_t skip[2];           /* bytes of an oversized message still to skip */
    bool done;                  /* lost or detached: ignore everything */
    bool plaintext;             /* detector_flow_plaintext() was called */
    bool replies;               /* the server answered in clear */
    uint8_t ncmds;
    char cmds[MONGO_CMDS_MAX][MONGO_CMD_LEN];   /* commands stated on this flow */
};

static const struct rule rule_session = {
    .id = "mongodb.cleartext-session",
    .severity = SEV_MEDIUM,
    .title = "MongoDB session without TLS (commands and documents readable)",
    .remediation = "Set net.tls.mode: requireTLS with a certificate from the internal CA and "
                   "connect clients with tls=true; use SCRAM-SHA-256 or X.509 authentication.",
    .compliance = COMPLIANCE_SENSITIVE,
};

static const struct rule rule_auth = {
    .id = "mongodb.cleartext-auth",
    .severity = SEV_CRITICAL,
    .title = "MongoDB credentials readable (SASL PLAIN, MONGODB-CR key, or a password in a "
             "user-management command)",
    .remediation = "Set net.tls.mode: requireTLS; never use PLAIN (LDAP) authentication or "
                   "createUser/updateUser over a connection without TLS.",
    .compliance = COMPLIANCE_CREDENTIALS,
};

/* ------------------------------------------------------------------ BSON */

/* One element of a document; the bytes are borrowed from the message. */
struct bson_el {
    uint8_t type;
    const uint8_t *name;
    size_t name_len;
    const uint8_t *val;         /* string: its bytes without the NUL; document,
                                 * array: the whole sub-document; binary: the data */
    size_t val_len;
    uint8_t subtype;            /* binary subtype */
    bool cut;                   /* a document or array cut by the end of the bytes
                                 * we have: val holds its start, nothing follows */
};

/* Opens the document at p (int32 length, elements, 0x00): *elems covers
 * its elements, cut to the n bytes there are (*whole says whether all
 * are).  Returns false when the length cannot be a document's. */
static bool bson_open(const uint8_t *p, size_t n, struct cursor *elems, bool *whole)
{
    struct cursor c = cursor_init(p, n);
    uint32_t len = cur_le32(&c);
    if (c.bad || len < 5 || len > MONGO_MAX_LEN)
        return false;
    size_t body = len - 4;
    *whole = body <= cur_left(&c);
    *elems = cursor_init(cur_ptr(&c), *whole ? body : cur_left(&c));
    return true;
}

/* A string value: int32 length (with the NUL), bytes, NUL. */
static bool bson_string(struct cursor *c, struct bson_el *el)
{
    uint32_t len = cur_le32(c);
    if (c->bad || len < 1)
        return false;
    const uint8_t *s = cur_take(c, len);
    if (s == NULL)
        return false;
    struct cursor z = cursor_init(s, len);
    cur_skip(&z, len - 1);
    if (cur_u8(&z) != 0)
        return false;
    el->val = s;
    el->val_len = len - 1;
    return true;
}

/* Takes a value of a fixed size. */
static bool bson_fixed(struct cursor *c, struct bson_el *el, size_t size)
{
    el->val = cur_take(c, size);
    el->val_len = size;
    return el->val != NULL || size == 0;
}

/* The next element.  Returns 1 and fills el, 0 at the terminator, -1
 * when the bytes are malformed or cut. */
static int bson_next(struct cursor *c, struct bson_el *el)
{
    memset(el, 0, sizeof *el);
    el->type = cur_u8(c);
    if (c->bad)
        return -1;
    if (el->type == 0)
        return 0;
    el->name = cur_cstr(c, MONGO_NAME_MAX, &el->name_len);
    if (c->bad)
        return -1;
    bool ok;
    switch (el->type) {
    case BSON_DOUBLE: case BSON_DATETIME: case BSON_TIMESTAMP: case BSON_INT64:
        ok = bson_fixed(c, el, 8);
        break;
    case BSON_STRING: case BSON_CODE: case BSON_SYMBOL:
        ok = bson_string(c, el);
        break;
    case BSON_DOCUMENT: case BSON_ARRAY: case BSON_CODE_W_SCOPE: {
        struct cursor peek = *c;
        uint32_t len = cur_le32(&peek);
        ok = !peek.bad && len >= 5;
        /* the first bytes of a long message: walk into what is there */
        el->cut = ok && el->type != BSON_CODE_W_SCOPE && len > cur_left(c);
        ok = ok && bson_fixed(c, el, el->cut ? cur_left(c) : len);
        break;
    }
    case BSON_BINARY: {
        uint32_t len = cur_le32(c);
        el->subtype = cur_u8(c);
        ok = !c->bad && bson_fixed(c, el, len);
        break;
    }
    case BSON_UNDEFINED: case BSON_NULL: case BSON_MINKEY: case BSON_MAXKEY:
        ok = true;
        break;
    case BSON_OBJECTID:
        ok = bson_fixed(c, el, 12);
        break;
    case BSON_BOOL: {
        struct cursor peek = *c;
        ok = cur_u8(&peek) <= 1 && bson_fixed(c, el, 1);
        break;
    }
    case BSON_REGEX: {
        size_t a, b;
        (void)cur_cstr(c, MONGO_NAME_MAX, &a);
        (void)cur_cstr(c, MONGO_NAME_MAX, &b);
        ok = !c->bad;
        break;
    }
    case BSON_DBPOINTER:
        ok = bson_string(c, el) && bson_fixed(c, el, 12);
        break;
    case BSON_INT32:
        ok = bson_fixed(c, el, 4);
        break;
    case BSON_DECIMAL128:
        ok = bson_fixed(c, el, 16);
        break;
    default:
        ok = false;                     /* not a BSON type: not a document */
        break;
    }
    return ok && !c->bad ? 1 : -1;
}

/* Checks the document at p/n: 1 when it is whole and well formed (its
 * sub-documents too), 0 when what is there is well formed but cut, -1
 * when it is not BSON. */
static int bson_check(const uint8_t *p, size_t n, unsigned depth)
{
    struct cursor c;
    bool whole;
    if (depth > MONGO_MAX_DEPTH || !bson_open(p, n, &c, &whole))
        return -1;
    for (unsigned i = 0; i < MONGO_MAX_ELEMENTS; i++) {
        struct bson_el el;
        int r = bson_next(&c, &el);
        if (r == 0)
            return whole && cur_left(&c) == 0 ? 1 : -1;
        if (r < 0)
            return whole ? -1 : 0;
        if (el.cut)
            return whole ? -1 : bson_check(el.val, el.val_len, depth + 1);
        if ((el.type == BSON_DOCUMENT || el.type == BSON_ARRAY) &&
            bson_check(el.val, el.val_len, depth + 1) != 1)
            return -1;
    }
    return 0;
}

/* Runs the secrets scanner over every string value of the document at
 * p/n (cut documents as far as they go), within *budget elements. */
static void bson_scan(struct det_ctx *ctx, enum dir d, const uint8_t *p, size_t n,
                      unsigned depth, unsigned *budget)
{
    struct cursor c;
    bool whole;
    if (depth > MONGO_MAX_DEPTH || !bson_open(p, n, &c, &whole))
        return;
    while (*budget > 0) {
        struct bson_el el;
        if (bson_next(&c, &el) <= 0)
            return;
        (*budget)--;
        if (el.type == BSON_STRING && el.val_len > 0)
            secrets_scan(ctx, d, "document", el.val, el.val_len);
        else if (el.type == BSON_DOCUMENT || el.type == BSON_ARRAY)
            bson_scan(ctx, d, el.val, el.val_len, depth + 1, budget);
    }
}

/* Whether the element's name is lit. */
static bool bson_named(const struct bson_el *el, const char *lit)
{
    return el->name_len == strlen(lit) && memcmp(el->name, lit, el->name_len) == 0;
}

/* The element named lit of the top level of the document at p/n, as
 * far as it goes; false when there is none. */
static bool bson_find(const uint8_t *p, size_t n, const char *lit, struct bson_el *out)
{
    struct cursor c;
    bool whole;
    if (!bson_open(p, n, &c, &whole))
        return false;
    for (unsigned i = 0; i < MONGO_MAX_ELEMENTS; i++) {
        if (bson_next(&c, out) <= 0)
            return false;
        if (bson_named(out, lit))
            return true;
    }
    return false;
}

/* A string element's value, or NULL (and *n = 0) when it is not one. */
static const uint8_t *bson_str(const uint8_t *doc, size_t n, const char *key, size_t *len)
{
    struct bson_el el;
    *len = 0;
    if (!bson_find(doc, n, key, &el) || el.type != BSON_STRING)
        return NULL;
    *len = el.val_len;
    return el.val;
}

/* --------------------------------------------------------------- helpers */

static void mongo_stop(struct det_ctx *ctx, struct mongo_state *st)
{
    st->done = true;
    detector_detach(ctx);
}

static void mongo_mark_plaintext(struct det_ctx *ctx, struct mongo_state *st)
{
    if (st->plaintext)
        return;
    st->plaintext = true;
    detector_flow_plaintext(ctx, "MongoDB");
}

/* Appends n bytes to the NUL-terminated text buf of size cap, cutting what
 * does not fit. */
static void mongo_append(char *buf, size_t cap, const void *s, size_t n)
{
    size_t used = strnlen(buf, cap);
    if (used + 1 >= cap)
        return;
    size_t room = cap - used - 1;
    size_t k = n < room ? n : room;
    memcpy(buf + used, s, k);
    buf[used + k] = '\0';
}

static void mongo_append_str(char *buf, size_t cap, const char *s)
{
    mongo_append(buf, cap, s, strlen(s));
}

/* Decodes base64 (RFC 4648, padding optional) into out; returns the bytes
 * written or -1 when a character is not base64 or out is too small. */
static long mongo_base64(const uint8_t *p, size_t n, uint8_t *out, size_t cap)
{
    struct cursor c = cursor_init(p, n);
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t o = 0;
    while (cur_left(&c) > 0) {
        uint8_t b = cur_u8(&c);
        int v;
        if (b >= 'A' && b <= 'Z')
            v = b - 'A';
        else if (b >= 'a' && b <= 'z')
            v = b - 'a' + 26;
        else if (b >= '0' && b <= '9')
            v = b - '0' + 52;
        else if (b == '+')
            v = 62;
        else if (b == '/')
            v = 63;
        else if (b == '=')
            break;
        else
            return -1;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o == cap)
                return -1;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    return (long)o;
}

/* ------------------------------------------------------------ commands */

/* What a command document says, as far as this file cares. */
struct mongo_cmd {
    struct bson_el first;       /* the command: its name, and its value */
    const uint8_t *db;          /* "$db" (OP_MSG) or the namespace's database */
    size_t db_len;
    const uint8_t *body;        /* the command document */
    size_t body_len;
};

/* A SASL payload: BinData, or a base64 string (the legacy shell).
 * Returns its length in out, or -1. */
static long mongo_sasl_payload(const uint8_t *doc, size_t n, uint8_t *out, size_t cap)
{
    struct bson_el el;
    if (!bson_find(doc, n, "payload", &el))
        return -1;
    if (el.type == BSON_BINARY) {
        size_t k = el.val_len < cap ? el.val_len : cap;
        memcpy(out, el.val, k);
        return (long)k;
    }
    if (el.type == BSON_STRING)
        return mongo_base64(el.val, el.val_len, out, cap);
    return -1;
}

/* "user=U mechanism=M db=D" for the evidence. */
static void mongo_user_text(char *text, size_t cap, const uint8_t *user, size_t ulen,
                            const char *mech, const struct mongo_cmd *cmd)
{
    text[0] = '\0';
    mongo_append_str(text, cap, "user=");
    mongo_append(text, cap, user, ulen);
    mongo_append_str(text, cap, " mechanism=");
    mongo_append_str(text, cap, mech);
    if (cmd->db != NULL) {
        mongo_append_str(text, cap, " db=");
        mongo_append(text, cap, cmd->db, cmd->db_len);
    }
}

/*
 * saslStart (or the speculativeAuthenticate of hello/isMaster):
 *   { saslStart: 1, mechanism: "PLAIN" | "SCRAM-SHA-256" | ..., payload: BinData }
 * PLAIN (RFC 4616): authzid \0 authcid \0 password, all readable.
 * SCRAM (RFC 5802) client-first: gs2-header "n,," then "n=user,r=nonce":
 * the proof that follows does not reveal the password.
 */
static void mongo_sasl_start(struct det_ctx *ctx, const struct mongo_cmd *cmd,
                             const uint8_t *doc, size_t n)
{
    size_t mlen;
    const uint8_t *mech = bson_str(doc, n, "mechanism", &mlen);
    uint8_t payload[MONGO_SASL_MAX];
    long plen = mongo_sasl_payload(doc, n, payload, sizeof payload);
    char mname[32] = "";
    char text[200];
    if (mech == NULL || plen < 0)
        return;
    mongo_append(mname, sizeof mname, mech, mlen);
    struct cursor c = cursor_init(payload, (size_t)plen);

    if (strcmp(mname, "PLAIN") == 0) {
        size_t zlen, ulen;
        (void)cur_cstr(&c, MONGO_SASL_MAX, &zlen);
        const uint8_t *user = cur_cstr(&c, MONGO_SASL_MAX, &ulen);
        if (c.bad)
            return;                     /* not authzid\0user\0password */
        mongo_user_text(text, sizeof text, user, ulen, "PLAIN", cmd);
        detector_emit(ctx, &rule_auth, DIR_TO_SERVER, "user", text, strlen(text), EV_TEXT);
        detector_emit(ctx, &rule_auth, DIR_TO_SERVER, "password", cur_ptr(&c), cur_left(&c),
                      EV_SECRET);
        return;
    }
    if (strncmp(mname, "SCRAM-", 6) == 0) {
        /* skip the gs2 header: two commas ("n,," or "y,," or "p=x,a=y,") */
        const uint8_t *comma = memchr(payload, ',', (size_t)plen);
        if (comma == NULL)
            return;
        cur_skip(&c, (size_t)(comma - payload) + 1);
        const uint8_t *second = memchr(cur_ptr(&c), ',', cur_left(&c));
        if (second == NULL)
            return;
        cur_skip(&c, (size_t)(second - cur_ptr(&c)) + 1);
        const uint8_t *n_eq = cur_take(&c, 2);
        if (n_eq == NULL || memcmp(n_eq, "n=", 2) != 0)
            return;
        const uint8_t *end = memchr(cur_ptr(&c), ',', cur_left(&c));
        size_t ulen = end != NULL ? (size_t)(end - cur_ptr(&c)) : cur_left(&c);
        mongo_user_text(text, sizeof text, cur_ptr(&c), ulen, mname, cmd);
        detector_emit(ctx, &rule_session, DIR_TO_SERVER, "user", text, strlen(text), EV_TEXT);
    }
}

/*
 * authenticate (legacy):
 *   MONGODB-CR: { authenticate: 1, user, nonce, key: md5(nonce + user +
 *               md5(user ":mongo:" password)) } - crackable offline
 *   PLAIN (2.4): { authenticate: 1, mechanism: "PLAIN", user, pwd }
 *   MONGODB-X509: { authenticate: 1, mechanism: "MONGODB-X509", user: DN }
 */
static void mongo_authenticate(struct det_ctx *ctx, const struct mongo_cmd *cmd,
                               const uint8_t *doc, size_t n)
{
    size_t ulen, klen, plen, mlen;
    const uint8_t *user = bson_str(doc, n, "user", &ulen);
    const uint8_t *key = bson_str(doc, n, "key", &klen);
    const uint8_t *pwd = bson_str(doc, n, "pwd", &plen);
    const uint8_t *mech = bson_str(doc, n, "mechanism", &mlen);
    char mname[32] = "MONGODB-CR";
    char text[200];
    if (user == NULL)
        return;
    if (mech != NULL) {
        mname[0] = '\0';
        mongo_append(mname, sizeof mname, mech, mlen);
    }
    mongo_user_text(text, sizeof text, user, ulen, mname, cmd);
    if (key == NULL && pwd == NULL) {
        detector_emit(ctx, &rule_session, DIR_TO_SERVER, "user", text, strlen(text), EV_TEXT);
        return;
    }
    detector_emit(ctx, &rule_auth, DIR_TO_SERVER, "user", text, strlen(text), EV_TEXT);
    if (key != NULL)
        detector_emit(ctx, &rule_auth, DIR_TO_SERVER, "key", key, klen, EV_SECRET);
    if (pwd != NULL)
        detector_emit(ctx, &rule_auth, DIR_TO_SERVER, "password", pwd, plen, EV_SECRET);
}

/* createUser / updateUser: { createUser: "name", pwd: "cleartext", roles } -
 * drivers send the password as typed and the server digests it. */
static void mongo_user_admin(struct det_ctx *ctx, const struct mongo_cmd *cmd)
{
    size_t plen;
    const uint8_t *pwd = bson_str(cmd->body, cmd->body_len, "pwd", &plen);
    char text[200] = "";
    if (pwd == NULL || cmd->first.type != BSON_STRING)
        return;
    mongo_append(text, sizeof text, cmd->first.name, cmd->first.name_len);
    mongo_append_str(text, sizeof text, "=");
    mongo_append(text, sizeof text, cmd->first.val, cmd->first.val_len);
    if (cmd->db != NULL) {
        mongo_append_str(text, sizeof text, " db=");
        mongo_append(text, sizeof text, cmd->db, cmd->db_len);
    }
    detector_emit(ctx, &rule_auth, DIR_TO_SERVER, "user", text, strlen(text), EV_TEXT);
    detector_emit(ctx, &rule_auth, DIR_TO_SERVER, "pwd", pwd, plen, EV_SECRET);
}

/* States the command once per flow: "find customers db=shop". */
static void mongo_note_command(struct det_ctx *ctx, struct mongo_state *st,
                               const struct mongo_cmd *cmd)
{
    char name[MONGO_CMD_LEN] = "";
    mongo_append(name, sizeof name, cmd->first.name, cmd->first.name_len);
    for (unsigned i = 0; i < st->ncmds; i++)
        if (strcmp(st->cmds[i], name) == 0)
            return;
    if (st->ncmds == MONGO_CMDS_MAX)
        return;
    memcpy(st->cmds[st->ncmds++], name, sizeof name);

    char text[200];
    snprintf(text, sizeof text, "%s", name);
    if (cmd->first.type == BSON_STRING && cmd->first.val_len > 0) {
        mongo_append_str(text, sizeof text, " ");
        mongo_append(text, sizeof text, cmd->first.val, cmd->first.val_len);
    }
    if (cmd->db != NULL) {
        mongo_append_str(text, sizeof text, " db=");
        mongo_append(text, sizeof text, cmd->db, cmd->db_len);
    }
    detector_emit(ctx, &rule_session, DIR_TO_SERVER, "command", text, strlen(text), EV_TEXT);
}

/* A command document from the client; db/db_len is the database the
 * namespace named (OP_QUERY), or NULL to take "$db". */
static void mongo_command(struct det_ctx *ctx, struct mongo_state *st, const uint8_t *doc,
                          size_t n, const uint8_t *db, size_t db_len)
{
    struct mongo_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    struct cursor c;
    bool whole;
    if (!bson_open(doc, n, &c, &whole) || bson_next(&c, &cmd.first) != 1)
        return;
    /* OP_QUERY may wrap the command: { $query: { cmd... }, $readPreference } */
    if (cmd.first.type == BSON_DOCUMENT &&
        (bson_named(&cmd.first, "$query") || bson_named(&cmd.first, "query"))) {
        doc = cmd.first.val;
        n = cmd.first.val_len;
        if (!bson_open(doc, n, &c, &whole) || bson_next(&c, &cmd.first) != 1)
            return;
    }
    cmd.body = doc;
    cmd.body_len = n;
    cmd.db = db;
    cmd.db_len = db_len;
    if (cmd.db == NULL)
        cmd.db = bson_str(doc, n, "$db", &cmd.db_len);

    mongo_note_command(ctx, st, &cmd);
    if (bson_named(&cmd.first, "saslStart")) {
        mongo_sasl_start(ctx, &cmd, doc, n);
    } else if (bson_named(&cmd.first, "authenticate")) {
        mongo_authenticate(ctx, &cmd, doc, n);
    } else if (bson_named(&cmd.first, "createUser") || bson_named(&cmd.first, "updateUser")) {
        mongo_user_admin(ctx, &cmd);
    } else {
        /* hello/isMaster may carry the first authentication step */
        struct bson_el spec;
        if (bson_find(doc, n, "speculativeAuthenticate", &spec) &&
            spec.type == BSON_DOCUMENT) {
            struct bson_el kind;
            struct cursor sc;
            if (bson_open(spec.val, spec.val_len, &sc, &whole) && bson_next(&sc, &kind) == 1) {
                size_t sdb_len;
                const uint8_t *sdb = bson_str(spec.val, spec.val_len, "db", &sdb_len);
                struct mongo_cmd inner = cmd;
                if (sdb != NULL) {
                    inner.db = sdb;
                    inner.db_len = sdb_len;
                }
                if (bson_named(&kind, "saslStart"))
                    mongo_sasl_start(ctx, &inner, spec.val, spec.val_len);
                else if (bson_named(&kind, "authenticate"))
                    mongo_authenticate(ctx, &inner, spec.val, spec.val_len);
            }
        }
    }
}

/* A legacy write or read on a collection (OP_INSERT, OP_UPDATE, OP_DELETE,
 * OP_GET_MORE, OP_QUERY on a collection): "insert shop.customers". */
static void mongo_legacy_op(struct det_ctx *ctx, struct mongo_state *st, const char *op,
                            const uint8_t *ns, size_t ns_len)
{
    struct mongo_cmd cmd;
    memset(&cmd, 0, sizeof cmd);
    cmd.first.type = BSON_STRING;
    cmd.first.name = (const uint8_t *)op;
    cmd.first.name_len = strlen(op);
    cmd.first.val = ns;
    cmd.first.val_len = ns_len;
    mongo_note_command(ctx, st, &cmd);
}

/* ------------------------------------------------------------- opcodes */

/* Every document from the cursor's position to its end, scanned. */
static void mongo_scan_docs(struct det_ctx *ctx, enum dir d, struct cursor *c,
                            unsigned *budget)
{
    while (cur_left(c) > 0 && *budget > 0) {
        struct cursor peek = *c;
        uint32_t len = cur_le32(&peek);
        if (peek.bad || len < 5)
            return;
        size_t have = cur_left(c) < len ? cur_left(c) : len;
        bson_scan(ctx, d, cur_ptr(c), have, 0, budget);
        cur_skip(c, have);
    }
}

/*
 * OP_MSG (2013):
 *   flagBits uint32 | sections... | [CRC-32C uint32 when checksumPresent]
 *   section kind 0: one BSON document (the command, or the reply)
 *   section kind 1: int32 size | cstring identifier | BSON documents
 */
static void mongo_op_msg(struct det_ctx *ctx, struct mongo_state *st, enum dir d,
                         const uint8_t *p, size_t n, bool whole)
{
    struct cursor h = cursor_init(p, n);
    uint32_t flags = cur_le32(&h);
    unsigned budget = MONGO_MAX_ELEMENTS;
    if (h.bad)
        return;
    size_t sections = cur_left(&h);
    if ((flags & OP_MSG_CHECKSUM) && whole && sections >= 4)
        sections -= 4;                  /* the checksum is not a section */
    struct cursor c = cursor_init(cur_take(&h, sections), sections);
    while (cur_left(&c) > 0 && budget > 0) {
        uint8_t kind = cur_u8(&c);
        if (kind == 0) {
            struct cursor peek = c;
            uint32_t len = cur_le32(&peek);
            if (peek.bad || len < 5)
                return;
            size_t have = cur_left(&c) < len ? cur_left(&c) : len;
            const uint8_t *doc = cur_take(&c, have);
            if (d == DIR_TO_SERVER)
                mongo_command(ctx, st, doc, have, NULL, 0);
            bson_scan(ctx, d, doc, have, 0, &budget);
        } else if (kind == 1) {
            uint32_t size = cur_le32(&c);
            if (c.bad || size < 5)
                return;
            size_t have = cur_left(&c) < size - 4 ? cur_left(&c) : size - 4;
            struct cursor seq = cursor_init(cur_take(&c, have), have);
            size_t idlen;
            (void)cur_cstr(&seq, MONGO_NAME_MAX, &idlen);
            mongo_scan_docs(ctx, d, &seq, &budget);
        } else {
            return;                     /* kind 2 is internal; anything else: lost */
        }
    }
}

/* A namespace "db.collection": printable, with a dot. */
static const uint8_t *mongo_ns(struct cursor *c, size_t *len)
{
    const uint8_t *ns = cur_cstr(c, MONGO_NS_MAX, len);
    if (ns == NULL || *len < 3 || memchr(ns, '.', *len) == NULL)
        return NULL;
    struct cursor t = cursor_init(ns, *len);
    while (cur_left(&t) > 0) {
        uint8_t b = cur_u8(&t);
        if (b < 0x20 || b == 0x7f)
            return NULL;
    }
    return ns;
}

/*
 * OP_QUERY (2004):
 *   flags int32 | fullCollectionName cstring | numberToSkip int32 |
 *   numberToReturn int32 | query document | [returnFieldsSelector]
 * A query on "db.$cmd" is a command (how drivers spoke before OP_MSG).
 */
static void mongo_op_query(struct det_ctx *ctx, struct mongo_state *st, enum dir d,
                           const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    size_t ns_len;
    unsigned budget = MONGO_MAX_ELEMENTS;
    cur_skip(&c, 4);
    const uint8_t *ns = mongo_ns(&c, &ns_len);
    cur_skip(&c, 8);
    if (ns == NULL || c.bad || d != DIR_TO_SERVER)
        return;
    const uint8_t *dot = memchr(ns, '.', ns_len);
    size_t db_len = (size_t)(dot - ns);
    if (ns_len - db_len == 5 && memcmp(dot, ".$cmd", 5) == 0)
        mongo_command(ctx, st, cur_ptr(&c), cur_left(&c), ns, db_len);
    else
        mongo_legacy_op(ctx, st, "query", ns, ns_len);
    mongo_scan_docs(ctx, d, &c, &budget);
}

/* OP_REPLY (1): responseFlags int32 | cursorID int64 | startingFrom int32
 * | numberReturned int32 | documents. */
static void mongo_op_reply(struct det_ctx *ctx, const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    unsigned budget = MONGO_MAX_ELEMENTS;
    cur_skip(&c, 4 + 8 + 4 + 4);
    if (!c.bad)
        mongo_scan_docs(ctx, DIR_TO_CLIENT, &c, &budget);
}

/*
 * Legacy writes (removed in 6.0, still in old captures):
 *   OP_INSERT   flags int32 | ns cstring | documents
 *   OP_UPDATE   ZERO int32 | ns cstring | flags int32 | selector | update
 *   OP_DELETE   ZERO int32 | ns cstring | flags int32 | selector
 *   OP_GET_MORE ZERO int32 | ns cstring | numberToReturn int32 | cursorID int64
 */
static void mongo_op_legacy(struct det_ctx *ctx, struct mongo_state *st, uint32_t op,
                            const uint8_t *p, size_t n)
{
    static const struct { uint32_t op; const char *name; size_t after_ns; } ops[] = {
        { OP_INSERT, "insert", 0 },
        { OP_UPDATE, "update", 4 },
        { OP_DELETE, "delete", 4 },
        { OP_GET_MORE, "getMore", 12 },
    };
    for (size_t i = 0; i < ARRAY_LEN(ops); i++) {
        if (ops[i].op != op)
            continue;
        struct cursor c = cursor_init(p, n);
        size_t ns_len;
        unsigned budget = MONGO_MAX_ELEMENTS;
        cur_skip(&c, 4);
        const uint8_t *ns = mongo_ns(&c, &ns_len);
        cur_skip(&c, ops[i].after_ns);
        if (ns == NULL || c.bad)
            return;
        mongo_legacy_op(ctx, st, ops[i].name, ns, ns_len);
        if (op != OP_GET_MORE)
            mongo_scan_docs(ctx, DIR_TO_SERVER, &c, &budget);
        return;
    }
}

static void mongo_body(struct det_ctx *ctx, struct mongo_state *st, enum dir d, uint32_t op,
                       const uint8_t *p, size_t n, bool whole, bool inner);

/* Inflates a zlib stream into out (at most cap bytes); returns the bytes
 * produced, or 0 when the data is not zlib. */
static size_t mongo_inflate(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit(&zs) != Z_OK)
        return 0;
    zs.next_in = (Bytef *)(uintptr_t)in;    /* zlib does not write its input */
    zs.avail_in = (uInt)n;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    int rc = inflate(&zs, Z_SYNC_FLUSH);
    size_t got = cap - zs.avail_out;
    inflateEnd(&zs);
    return rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR ? got : 0;
}

/*
 * OP_COMPRESSED (2012):
 *   originalOpcode int32 | uncompressedSize int32 | compressorId uint8 |
 *   compressedMessage (the original body, without its header)
 * compressorId: 0 noop, 1 snappy, 2 zlib, 3 zstd.  Compression is not
 * encryption: zlib is inflated (bounded) and parsed; the others are
 * named in the evidence and not decoded.
 */
static void mongo_op_compressed(struct det_ctx *ctx, struct mongo_state *st, enum dir d,
                                const uint8_t *p, size_t n, bool whole)
{
    struct cursor c = cursor_init(p, n);
    uint32_t op = cur_le32(&c);
    uint32_t size = cur_le32(&c);
    uint8_t compressor = cur_u8(&c);
    if (c.bad || op == OP_COMPRESSED || size > MONGO_MAX_LEN)
        return;
    if (compressor == 0) {
        mongo_body(ctx, st, d, op, cur_ptr(&c), cur_left(&c), whole, true);
        return;
    }
    if (compressor != 2) {
        if (d == DIR_TO_SERVER)
            mongo_legacy_op(ctx, st, "OP_COMPRESSED",
                            (const uint8_t *)(compressor == 1 ? "snappy (not decoded)"
                                                              : "zstd (not decoded)"),
                            compressor == 1 ? 20 : 18);
        return;
    }
    size_t cap = size < MONGO_INFLATE_MAX ? size : MONGO_INFLATE_MAX;
    if (size > MONGO_INFLATE_MAX)
        g_stats.mongodb_message_cut++;
    uint8_t *out = malloc(cap > 0 ? cap : 1);
    if (out == NULL)
        return;
    size_t got = mongo_inflate(cur_ptr(&c), cur_left(&c), out, cap);
    if (got > 0)
        mongo_body(ctx, st, d, op, out, got, got == size, true);
    free(out);
}

/* One message body (after the header); whole says whether it is all
 * there or the first bytes of a longer one. */
static void mongo_body(struct det_ctx *ctx, struct mongo_state *st, enum dir d, uint32_t op,
                       const uint8_t *p, size_t n, bool whole, bool inner)
{
    switch (op) {
    case OP_MSG:
        mongo_op_msg(ctx, st, d, p, n, whole);
        break;
    case OP_QUERY:
        mongo_op_query(ctx, st, d, p, n);
        break;
    case OP_REPLY:
        mongo_op_reply(ctx, p, n);
        break;
    case OP_INSERT: case OP_UPDATE: case OP_DELETE: case OP_GET_MORE:
        if (d == DIR_TO_SERVER)
            mongo_op_legacy(ctx, st, op, p, n);
        break;
    case OP_COMPRESSED:
        if (!inner)
            mongo_op_compressed(ctx, st, d, p, n, whole);
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------- framing */

static bool mongo_opcode_known(uint32_t op)
{
    return op == OP_REPLY || op == OP_UPDATE || op == OP_INSERT || op == OP_QUERY ||
           op == OP_GET_MORE || op == OP_DELETE || op == OP_KILL_CURSORS ||
           op == OP_COMPRESSED || op == OP_MSG;
}

/* The header at p: its length and opcode, when sane. */
static bool mongo_header(const uint8_t *p, size_t n, uint32_t *len, uint32_t *op)
{
    struct cursor c = cursor_init(p, n);
    *len = cur_le32(&c);
    cur_skip(&c, 8);                    /* requestID, responseTo */
    *op = cur_le32(&c);
    return !c.bad && *len >= MONGO_HDR_LEN && *len <= MONGO_MAX_LEN &&
           mongo_opcode_known(*op);
}

static size_t mongo_on_data(struct det_ctx *ctx, enum dir d, const uint8_t *p, size_t n)
{
    struct mongo_state *st = ctx->state;
    struct cursor c = cursor_init(p, n);
    while (cur_left(&c) > 0 && !st->done) {
        if (st->skip[d] > 0) {
            size_t k = st->skip[d] < cur_left(&c) ? (size_t)st->skip[d] : cur_left(&c);
            st->skip[d] -= k;
            cur_skip(&c, k);
            continue;
        }
        uint32_t len, op;
        if (cur_left(&c) < MONGO_HDR_LEN)
            break;                      /* header not all here yet */
        if (!mongo_header(cur_ptr(&c), cur_left(&c), &len, &op)) {
            mongo_stop(ctx, st);        /* not a message header: the framing is lost */
            break;
        }
        bool whole = len <= MONGO_WHOLE_MAX;
        if (!whole)
            g_stats.mongodb_message_cut++;
        size_t want = whole ? len : MONGO_PEEK;
        if (cur_left(&c) < want)
            break;                      /* wait for the message (or a long one's start) */
        const uint8_t *msg = cur_take(&c, want);
        mongo_mark_plaintext(ctx, st);
        if (d == DIR_TO_CLIENT)
            st->replies = true;
        mongo_body(ctx, st, d, op, msg + MONGO_HDR_LEN, want - MONGO_HDR_LEN, whole, false);
        st->skip[d] = len - want;
    }
    /* Once detached, the rest is not ours to keep. */
    return st->done ? n : c.off;
}

/* Lost bytes inside a message we were skipping anyway cost nothing;
 * anywhere else the framing is gone, and we never parse across a gap. */
static void mongo_on_gap(struct det_ctx *ctx, enum dir d, uint64_t len)
{
    struct mongo_state *st = ctx->state;
    if (st->done)
        return;
    if (st->skip[d] >= len) {
        st->skip[d] -= len;
        return;
    }
    mongo_stop(ctx, st);
}

/* A flow where only the server's side was readable (or the client sent
 * nothing we name) still ran in clear. */
static void mongo_on_end(struct det_ctx *ctx)
{
    struct mongo_state *st = ctx->state;
    if (st->ncmds == 0 && st->replies)
        detector_emit(ctx, &rule_session, DIR_TO_CLIENT, "reply", NULL, 0, EV_NONE);
}

/* ------------------------------------------------------------- wants */

/* The first document of a message body at p/n is BSON (whole, or well
 * formed as far as the captured bytes go). */
static bool mongo_head_doc(const uint8_t *p, size_t n)
{
    return bson_check(p, n, 0) >= 0;
}

/* The body of a message (the n captured bytes of it) is what opcode op
 * carries. */
static bool mongo_head_body(uint32_t op, const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    size_t ns_len;
    switch (op) {
    case OP_MSG: {
        uint32_t flags = cur_le32(&c);
        uint8_t kind = cur_u8(&c);
        if (c.bad || (flags & ~OP_MSG_KNOWN_FLAGS) != 0 || kind > 1)
            return false;
        if (kind == 1) {
            cur_skip(&c, 4);
            (void)cur_cstr(&c, MONGO_NAME_MAX, &ns_len);
            if (c.bad)
                return false;
        }
        return mongo_head_doc(cur_ptr(&c), cur_left(&c));
    }
    case OP_QUERY: {
        uint32_t flags = cur_le32(&c);
        bool ns = mongo_ns(&c, &ns_len) != NULL;
        cur_skip(&c, 8);
        return !c.bad && (flags & 0xffffff01u) == 0 && ns &&
               mongo_head_doc(cur_ptr(&c), cur_left(&c));
    }
    case OP_REPLY: {
        uint32_t flags = cur_le32(&c);
        cur_skip(&c, 8 + 4);
        uint32_t returned = cur_le32(&c);
        return !c.bad && flags <= 0xf && (returned == 0 ? cur_left(&c) == 0
                                          : mongo_head_doc(cur_ptr(&c), cur_left(&c)));
    }
    case OP_COMPRESSED: {
        uint32_t orig = cur_le32(&c);
        uint32_t size = cur_le32(&c);
        uint8_t compressor = cur_u8(&c);
        return !c.bad && orig != OP_COMPRESSED && mongo_opcode_known(orig) &&
               size <= MONGO_MAX_LEN && compressor <= 3;
    }
    case OP_INSERT: case OP_UPDATE: case OP_DELETE: case OP_GET_MORE: {
        uint32_t first = cur_le32(&c);
        bool ns = mongo_ns(&c, &ns_len) != NULL;
        return !c.bad && ns && (op == OP_INSERT ? first <= 1 : first == 0);
    }
    default:
        return false;                   /* OP_KILL_CURSORS alone is too little to go on */
    }
}

/* A message header with a known opcode and a sane length, and a body
 * that is what the opcode says (its first document BSON). */
static bool mongo_head_is_message(const uint8_t *p, size_t n)
{
    uint32_t len, op;
    if (!mongo_header(p, n, &len, &op) || len < MONGO_HDR_LEN + 5)
        return false;
    size_t have = n < len ? n : len;
    return mongo_head_body(op, p + MONGO_HDR_LEN, have - MONGO_HDR_LEN);
}

static bool mongo_wants(const struct flow_view *f)
{
    if (f->transport != 6)
        return false;
    if (flow_dpi_is(f, "MongoDB"))
        return true;
    return mongo_head_is_message(f->head[DIR_TO_SERVER], f->head_len[DIR_TO_SERVER]) ||
           mongo_head_is_message(f->head[DIR_TO_CLIENT], f->head_len[DIR_TO_CLIENT]);
}

static const struct rule *const mongo_rules[] = {
    &rule_session,
    &rule_auth,
    &secrets_rule_jwt,          /* the secrets engine runs on string values */
    &secrets_rule_api_key,
    &secrets_rule_private_key,
    &secrets_rule_card,
    &secrets_rule_ssn,
    &secrets_rule_email,
};

const struct detector detector_mongodb = {
    .name       = "mongodb",               /* protocol name in the report */
    .rules      = mongo_rules,             /* rules this file can fire */
    .nrules     = ARRAY_LEN(mongo_rules),
    .state_size = sizeof(struct mongo_state),
    .wants      = mongo_wants,             /* nDPI verdict or a message header + BSON */
    .on_data    = mongo_on_data,
    .on_gap     = mongo_on_gap,
    .on_end     = mongo_on_end,
};

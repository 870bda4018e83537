/*
 * pgsql.c - PostgreSQL sessions in clear: login, password, queries, rows.
 *
 * Follows the frontend/backend protocol 3.0 (PostgreSQL documentation,
 * "Frontend/Backend Protocol", sections "Message Flow" and "Message
 * Formats"; minor version 3.2 of PostgreSQL 18 parses the same way).  The
 * client opens with untyped messages (SSLRequest, GSSENCRequest,
 * StartupMessage); an SSLRequest answered 'S' (or a GSSENCRequest answered
 * 'G') turns the stream into TLS/GSSAPI and we stop.  From the
 * StartupMessage on, every message is a type byte and a length.  What we
 * report: the TLS refusal, the login parameters, a cleartext or MD5
 * password, statements (simple query and Parse), and that result rows went
 * by.  Left out on purpose: protocol 2.0 (pre-7.4 servers), Bind parameter
 * values, COPY contents, function calls, and the replication sub-protocol;
 * a CancelRequest carries no credential and ends our interest in the flow.
 */
#define _GNU_SOURCE     /* memmem() */

#include "detector.h"
#include "secrets.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../scanner/cursor.h"
#include "../scanner/limits.h"

/* Untyped request codes of the client's first message. */
#define PGSQL_CODE_CANCEL       80877102u   /* 1234 << 16 | 5678 */
#define PGSQL_CODE_SSL          80877103u   /* 1234 << 16 | 5679 */
#define PGSQL_CODE_GSSENC       80877104u   /* 1234 << 16 | 5680 */
#define PGSQL_PROTO_MAJOR_3     3u          /* StartupMessage code 3 << 16 | minor */
#define PGSQL_PROTO_MINOR_MAX   2u          /* 3.0 to 3.2 are known */

/* Authentication request codes (server 'R' message). */
#define PGSQL_AUTH_OK           0u
#define PGSQL_AUTH_CLEARTEXT    3u
#define PGSQL_AUTH_MD5          5u

/* The server refuses a StartupMessage longer than this
 * (MAX_STARTUP_PACKET_LENGTH in the server's source). */
#define PGSQL_MAX_STARTUP       10000u
/* A typed message up to this size is waited for whole; half the engine's
 * pending cap leaves room for the bytes that arrive with it.  Larger ones
 * (a big DataRow, a COPY chunk, a huge INSERT) are judged on their first
 * PGSQL_PEEK bytes and the rest is skipped by count, never buffered. */
#define PGSQL_MAX_WHOLE         (REASM_MAX_PENDING / 2u)
#define PGSQL_PEEK              4096u
/* A length field beyond 1 GiB is beyond the server's own limit
 * (MaxAllocSize): the bytes are not PostgreSQL, or we lost the framing. */
#define PGSQL_MAX_LEN           0x40000000u
/* Bytes a mid-stream direction may drop while looking for a message it
 * can trust, before we give up on the flow. */
#define PGSQL_RESYNC_BUDGET     (64u * 1024u)
/* Text kept for evidence: login parameters, column names, server version. */
#define PGSQL_LOGIN_TEXT        200u
#define PGSQL_COLUMNS_TEXT      120u

/* Where one direction of the stream is. */
enum pgsql_phase {
    PGSQL_PH_START = 0,     /* client: untyped messages; server: typed */
    PGSQL_PH_TYPED,         /* type byte + length messages */
    PGSQL_PH_RESYNC,        /* mid-stream: looking for a message to trust */
};

/* What the client's pending TLS/GSS request was. */
enum pgsql_ask {
    PGSQL_ASK_NONE = 0,
    PGSQL_ASK_SSL,
    PGSQL_ASK_GSS,
};

struct pgsql_state {
    uint8_t phase[2];           /* enum pgsql_phase, per direction */
    uint64_t skip[2];           /* bytes of an oversized message left to skip */
    uint32_t resync_dropped[2]; /* bytes dropped while resynchronising */
    uint8_t ask;                /* enum pgsql_ask: request awaiting its one-byte answer */
    bool done;                  /* encrypted or detached: ignore everything */
    bool synced;                /* we saw the start of the conversation */
    bool midstream;             /* we did not: directions may resynchronise */
    bool plaintext;             /* detector_flow_plaintext() was called */
    bool auth_seen;             /* an Authentication request told us auth_code */
    uint32_t auth_code;         /* what the client's next 'p' message answers */
    bool session_open;          /* the server answered in clear after startup */
    bool session_emitted;       /* pgsql.cleartext-session stated for this flow */
    bool rows_emitted;          /* pgsql.cleartext-resultset stated for this result set */
    uint64_t row_values;        /* DataRow column values walked (see the hook) */
    char columns[PGSQL_COLUMNS_TEXT];   /* column names of the current result set */
};

/*
 * Rules.  Each sits next to the code that fires it; they are collected in
 * pgsql_rules[] at the end for the registry.
 */
#define PGSQL_FIX "Set ssl=on and use hostssl lines (not host) in pg_hba.conf with " \
                  "scram-sha-256; connect clients with sslmode=verify-full against " \
                  "the internal CA."

static const struct rule rule_ssl_refused = {
    .id = "pgsql.ssl-refused",
    .severity = SEV_MEDIUM,
    .title = "PostgreSQL server refused the client's SSLRequest; the session went on in clear",
    .remediation = PGSQL_FIX,
    .compliance = COMPLIANCE_SENSITIVE,
};

static const struct rule rule_login = {
    .id = "pgsql.cleartext-login",
    .severity = SEV_MEDIUM,
    .title = "PostgreSQL login parameters (user, database, application) readable",
    .remediation = PGSQL_FIX,
    .compliance = COMPLIANCE_SENSITIVE,
};

static const struct rule rule_session = {
    .id = "pgsql.cleartext-session",
    .severity = SEV_MEDIUM,
    .title = "PostgreSQL session without TLS",
    .remediation = PGSQL_FIX,
    .compliance = COMPLIANCE_SENSITIVE,
};

static const struct rule rule_password = {
    .id = "pgsql.cleartext-password",
    .severity = SEV_CRITICAL,
    .title = "PostgreSQL password sent in clear (password authentication)",
    .remediation = PGSQL_FIX,
    .compliance = COMPLIANCE_CREDENTIALS,
};

static const struct rule rule_md5 = {
    .id = "pgsql.md5-password",
    .severity = SEV_HIGH,
    .title = "PostgreSQL MD5 password response readable (crackable offline with the salt)",
    .remediation = PGSQL_FIX,
    .compliance = COMPLIANCE_CREDENTIALS,
};

static const struct rule rule_query = {
    .id = "pgsql.cleartext-query",
    .severity = SEV_HIGH,
    .title = "PostgreSQL statements readable",
    .remediation = PGSQL_FIX,
    .compliance = COMPLIANCE_SENSITIVE,
};

static const struct rule rule_resultset = {
    .id = "pgsql.cleartext-resultset",
    .severity = SEV_HIGH,
    .title = "PostgreSQL result rows readable",
    .remediation = PGSQL_FIX,
    .compliance = COMPLIANCE_SENSITIVE,
};

static const struct rule rule_tls_required = {
    .id = "pgsql.tls-required",
    .severity = SEV_INFO,
    .title = "PostgreSQL server refused a client that connected without encryption",
    .remediation = "None needed: the server enforces TLS.  Move the refused client to "
                   "sslmode=verify-full.",
    .compliance = COMPLIANCE_INVENTORY,
};

static void pgsql_stop(struct det_ctx *ctx, struct pgsql_state *st)
{
    st->done = true;
    detector_detach(ctx);
}

static void pgsql_mark_plaintext(struct det_ctx *ctx, struct pgsql_state *st)
{
    if (st->plaintext)
        return;
    st->plaintext = true;
    detector_flow_plaintext(ctx, "PostgreSQL");
}

/* True when the n bytes at p are text: printable ASCII, tab, CR, LF, or
 * bytes >= 0x80 (UTF-8 and the legacy encodings a database may use). */
static bool pgsql_is_text(const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    while (cur_left(&c) > 0) {
        uint8_t b = cur_u8(&c);
        if ((b < 0x20 && b != '\t' && b != '\r' && b != '\n') || b == 0x7f)
            return false;
    }
    return true;
}

/* Reads a string that should end with a NUL; a string cut short (the
 * prefix of an oversized message) runs to the end.  Returns its start and
 * length; the cursor moves past it and its NUL. */
static const uint8_t *pgsql_cstr(struct cursor *c, size_t *n)
{
    const uint8_t *s = cur_ptr(c);
    size_t left = cur_left(c);
    const uint8_t *z = left > 0 ? memchr(s, 0, left) : NULL;
    *n = z != NULL ? (size_t)(z - s) : left;
    cur_skip(c, z != NULL ? *n + 1 : left);
    return s;
}

/* Appends the n bytes at s to the NUL-terminated text buf of size cap,
 * cutting what does not fit. */
static void pgsql_append(char *buf, size_t cap, const void *s, size_t n)
{
    size_t used = strnlen(buf, cap);
    if (used + 1 >= cap)
        return;
    size_t room = cap - used - 1;
    size_t k = n < room ? n : room;
    memcpy(buf + used, s, k);
    buf[used + k] = '\0';
}

/* Case-sensitive comparison of a counted string with a C string. */
static bool pgsql_eq(const uint8_t *s, size_t n, const char *lit)
{
    return n == strlen(lit) && memcmp(s, lit, n) == 0;
}

/* True for "md5" followed by 32 lower-case hex digits: the PasswordMessage
 * of MD5 authentication (libpq's pg_md5_encrypt output). */
static bool pgsql_is_md5_hash(const uint8_t *s, size_t n)
{
    struct cursor c = cursor_init(s, n);
    const uint8_t *tag = cur_take(&c, 3);
    if (n != 35 || tag == NULL || memcmp(tag, "md5", 3) != 0)
        return false;
    while (cur_left(&c) > 0) {
        uint8_t b = cur_u8(&c);
        if (!((b >= '0' && b <= '9') || (b >= 'a' && b <= 'f')))
            return false;
    }
    return true;
}

/* States pgsql.cleartext-session once per flow; value is the server
 * version when ParameterStatus told it. */
static void pgsql_emit_session(struct det_ctx *ctx, struct pgsql_state *st,
                               const char *field, const uint8_t *v, size_t n)
{
    if (st->session_emitted)
        return;
    st->session_emitted = true;
    detector_emit(ctx, &rule_session, DIR_TO_CLIENT, field, v, n,
                  v != NULL ? EV_TEXT : EV_NONE);
}

/*
 * Client's untyped first messages:
 *
 *   +---------+---------+----------------------------------------------+
 *   | int32   | int32   | StartupMessage only:                         |
 *   | length  | code    | key\0 value\0 ... key\0 value\0 \0           |
 *   +---------+---------+----------------------------------------------+
 *   length counts itself.  code: 80877103 SSLRequest, 80877104
 *   GSSENCRequest (both length 8), 80877102 CancelRequest (length 16),
 *   3 << 16 | minor for a StartupMessage.
 */

/* Parses StartupMessage parameters (after length and code) and states
 * pgsql.cleartext-login with user, database and application_name.
 * Returns false when the parameter list is malformed. */
static bool pgsql_startup(struct det_ctx *ctx, const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    char text[PGSQL_LOGIN_TEXT] = "";

    for (;;) {
        size_t klen, vlen;
        const uint8_t *key = cur_cstr(&c, n, &klen);
        if (c.bad)
            return false;           /* list not NUL-terminated */
        if (klen == 0)
            break;                  /* the empty key ends the list */
        const uint8_t *val = cur_cstr(&c, n, &vlen);
        if (c.bad)
            return false;
        if (pgsql_eq(key, klen, "user") || pgsql_eq(key, klen, "database") ||
            pgsql_eq(key, klen, "application_name")) {
            if (text[0] != '\0')
                pgsql_append(text, sizeof(text), " ", 1);
            pgsql_append(text, sizeof(text), key, klen);
            pgsql_append(text, sizeof(text), "=", 1);
            pgsql_append(text, sizeof(text), val, vlen);
        }
    }
    detector_emit(ctx, &rule_login, DIR_TO_SERVER, "startup", text, strlen(text), EV_TEXT);
    return true;
}

/* One untyped client message.  Returns bytes consumed (0: need more, or
 * the phase changed and the caller goes round again). */
static size_t pgsql_client_untyped(struct det_ctx *ctx, struct pgsql_state *st,
                                   const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    uint32_t len = cur_be32(&c);
    uint32_t code = cur_be32(&c);
    if (c.bad)
        return 0;                   /* header not all here yet */

    if ((code == PGSQL_CODE_SSL || code == PGSQL_CODE_GSSENC) && len == 8) {
        st->ask = code == PGSQL_CODE_SSL ? PGSQL_ASK_SSL : PGSQL_ASK_GSS;
        st->synced = true;
        return 8;
    }
    if (code == PGSQL_CODE_CANCEL && len == 16) {
        /* A cancel connection carries a backend key and nothing else. */
        pgsql_stop(ctx, st);
        return 0;
    }
    if (code >> 16 == PGSQL_PROTO_MAJOR_3 && (code & 0xffffu) <= PGSQL_PROTO_MINOR_MAX &&
        len > 8 && len <= PGSQL_MAX_STARTUP) {
        if (n < len)
            return 0;               /* wait for the whole parameter list */
        const uint8_t *params = cur_take(&c, len - 8);
        if (!pgsql_startup(ctx, params, len - 8)) {
            pgsql_stop(ctx, st);    /* a v3 code with a broken list: not for us */
            return 0;
        }
        st->synced = true;
        st->phase[DIR_TO_SERVER] = PGSQL_PH_TYPED;
        pgsql_mark_plaintext(ctx, st);
        return len;
    }
    if (st->synced) {
        /* After an SSLRequest answered N, anything but a StartupMessage
         * (protocol 2.0, say) is a conversation we do not parse. */
        pgsql_stop(ctx, st);
        return 0;
    }
    /* The capture started mid-conversation: look for a query we can trust. */
    st->midstream = true;
    st->phase[DIR_TO_SERVER] = PGSQL_PH_RESYNC;
    return 0;
}

/* The server's one-byte answer to SSLRequest/GSSENCRequest: 'S' (TLS
 * follows), 'G' (GSSAPI encryption follows) or 'N' (go on in clear). */
static size_t pgsql_server_answer(struct det_ctx *ctx, struct pgsql_state *st,
                                  const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    uint8_t answer = cur_u8(&c);
    if (c.bad)
        return 0;
    enum pgsql_ask ask = st->ask;
    st->ask = PGSQL_ASK_NONE;

    if ((answer == 'S' && ask == PGSQL_ASK_SSL) || (answer == 'G' && ask == PGSQL_ASK_GSS)) {
        st->done = true;
        detector_flow_encrypted(ctx);
        return 0;
    }
    if (answer == 'N') {
        /* Refusing GSS encryption is routine (libpq then tries SSL); only a
         * refused SSLRequest means the server offers no TLS at all. */
        if (ask == PGSQL_ASK_SSL)
            detector_emit(ctx, &rule_ssl_refused, DIR_TO_CLIENT, "SSLRequest answer",
                          "N", 1, EV_TEXT);
        pgsql_mark_plaintext(ctx, st);
        return 1;
    }
    /* An ErrorResponse here comes from a server too old to know the
     * request; it is an ordinary typed message, parsed as such. */
    st->phase[DIR_TO_CLIENT] = PGSQL_PH_TYPED;
    return 0;
}

/*
 * Typed messages, both directions:
 *
 *   +------+---------+----------------------+
 *   | type | int32   | body (length - 4)    |
 *   | byte | length  |                      |
 *   +------+---------+----------------------+
 *   length counts itself, not the type byte.
 */

/* Message types each side may send; anything else means lost framing. */
static bool pgsql_type_known(enum dir d, uint8_t type)
{
    static const char client_types[] = "BCdcfDEHFpPQSX";
    static const char server_types[] = "RK23CdcGHWDIEVvnNAtS1sZT";
    const char *set = d == DIR_TO_SERVER ? client_types : server_types;
    return type != 0 && strchr(set, type) != NULL;
}

/* 'p': the PasswordMessage family.  What it holds depends on the
 * Authentication request it answers: a cleartext password (3), an MD5
 * hash of password, user and salt (5), or SASL (SCRAM) data, which proves
 * the password without revealing it: no finding. */
static void pgsql_password(struct det_ctx *ctx, struct pgsql_state *st,
                           const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    size_t len;
    const uint8_t *pw = pgsql_cstr(&c, &len);
    uint32_t code = st->auth_code;

    if (!st->auth_seen) {
        /* We missed the request (mid-stream).  A lone NUL-terminated text
         * is a password or an MD5 hash; SASL messages are not shaped so. */
        if (len + 1 != n || !pgsql_is_text(pw, len) || len == 0)
            return;
        code = pgsql_is_md5_hash(pw, len) ? PGSQL_AUTH_MD5 : PGSQL_AUTH_CLEARTEXT;
    }
    if (code == PGSQL_AUTH_CLEARTEXT)
        detector_emit(ctx, &rule_password, DIR_TO_SERVER, "password", pw, len, EV_SECRET);
    else if (code == PGSQL_AUTH_MD5)
        detector_emit(ctx, &rule_md5, DIR_TO_SERVER, "md5 hash", pw, len, EV_SECRET);
}

/* 'Q' (query\0) and 'P' (statement name\0 query\0 int16 n int32 types[n]). */
static void pgsql_query(struct det_ctx *ctx, uint8_t type, const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    size_t len;
    if (type == 'P')
        (void)pgsql_cstr(&c, &len);     /* the prepared statement's name */
    const uint8_t *sql = pgsql_cstr(&c, &len);
    if (len == 0)
        return;                         /* an empty query shows nothing */
    detector_emit(ctx, &rule_query, DIR_TO_SERVER, type == 'Q' ? "Query" : "Parse",
                  sql, len, EV_SQL);
    secrets_scan(ctx, DIR_TO_SERVER, "query", sql, len);
}

static void pgsql_client_message(struct det_ctx *ctx, struct pgsql_state *st,
                                 uint8_t type, const uint8_t *p, size_t n)
{
    switch (type) {
    case 'p':
        pgsql_password(ctx, st, p, n);
        break;
    case 'Q':
    case 'P':
        pgsql_query(ctx, type, p, n);
        break;
    default:
        break;          /* Bind values, COPY data, Sync...: not parsed (see top) */
    }
}

/* 'R': int32 code, then code-specific data (MD5 salt, SASL mechanisms). */
static void pgsql_auth_request(struct det_ctx *ctx, struct pgsql_state *st,
                               const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    uint32_t code = cur_be32(&c);
    if (c.bad)
        return;                         /* too short to say anything */
    st->auth_seen = true;
    st->auth_code = code;
    st->session_open = true;
    pgsql_mark_plaintext(ctx, st);
}

/* 'S' ParameterStatus: name\0 value\0.  server_version goes into the
 * session finding. */
static void pgsql_parameter_status(struct det_ctx *ctx, struct pgsql_state *st,
                                   const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    size_t klen, vlen;
    const uint8_t *key = pgsql_cstr(&c, &klen);
    const uint8_t *val = pgsql_cstr(&c, &vlen);
    if (pgsql_eq(key, klen, "server_version"))
        pgsql_emit_session(ctx, st, "server_version", val, vlen);
}

/* 'E' ErrorResponse: (field type byte, text\0)* \0.  SQLSTATE 28000 with
 * "no encryption" (PostgreSQL 14+) or "SSL off" (older) is pg_hba.conf
 * refusing a client that did not use TLS: the server enforces TLS. */
static void pgsql_error(struct det_ctx *ctx, const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    const uint8_t *sqlstate = NULL, *msg = NULL;
    size_t sqlstate_len = 0, msg_len = 0;

    while (cur_left(&c) > 0) {
        uint8_t field = cur_u8(&c);
        if (field == 0)
            break;
        size_t len;
        const uint8_t *s = pgsql_cstr(&c, &len);
        if (field == 'C') {
            sqlstate = s;
            sqlstate_len = len;
        } else if (field == 'M') {
            msg = s;
            msg_len = len;
        }
    }
    if (sqlstate == NULL || msg == NULL || !pgsql_eq(sqlstate, sqlstate_len, "28000"))
        return;
    if (memmem(msg, msg_len, "no encryption", 13) != NULL ||
        memmem(msg, msg_len, "SSL off", 7) != NULL)
        detector_emit(ctx, &rule_tls_required, DIR_TO_CLIENT, "error", msg, msg_len, EV_TEXT);
}

/* 'T' RowDescription: int16 n, then n times: name\0 int32 table oid,
 * int16 column, int32 type oid, int16 size, int32 modifier, int16 format.
 * The names become the evidence of the result set. */
static void pgsql_row_description(struct pgsql_state *st, const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    uint16_t nfields = cur_be16(&c);
    st->columns[0] = '\0';
    st->rows_emitted = false;
    for (uint16_t i = 0; i < nfields && cur_left(&c) > 0; i++) {
        size_t len;
        const uint8_t *name = pgsql_cstr(&c, &len);
        cur_skip(&c, 4 + 2 + 4 + 2 + 4 + 2);
        if (i > 0)
            pgsql_append(st->columns, sizeof(st->columns), ",", 1);
        pgsql_append(st->columns, sizeof(st->columns), name, len);
    }
}

/*
 * DataRow column values are where card numbers, tokens and personal data
 * leave a database: each goes through the secrets and PII scanner.
 *
 *   'D' DataRow: int16 n, then n times: int32 length (-1: NULL), bytes.
 *
 * p/n may be the prefix of an oversized row; the walk stops at its end.
 */
static void pgsql_scan_row_values(struct det_ctx *ctx, struct pgsql_state *st,
                                  const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    uint16_t ncols = cur_be16(&c);
    for (uint16_t i = 0; i < ncols && !c.bad; i++) {
        uint32_t len = cur_be32(&c);
        if (c.bad)
            break;
        if (len == 0xffffffffu)
            continue;                   /* NULL */
        size_t have = cur_left(&c) < len ? cur_left(&c) : len;
        const uint8_t *v = cur_take(&c, have);
        if (v != NULL)
            secrets_scan(ctx, DIR_TO_CLIENT, "row", v, have);
        st->row_values++;
        if (have < len)
            break;                      /* the rest of the row was skipped */
    }
}

/* 'D': rows are readable.  One finding per result set, not per row: a
 * million-row SELECT is one leak of one result. */
static void pgsql_data_row(struct det_ctx *ctx, struct pgsql_state *st,
                           const uint8_t *p, size_t n)
{
    pgsql_scan_row_values(ctx, st, p, n);
    if (st->rows_emitted)
        return;
    st->rows_emitted = true;
    if (st->columns[0] != '\0')
        detector_emit(ctx, &rule_resultset, DIR_TO_CLIENT, "columns", st->columns,
                      strlen(st->columns), EV_TEXT);
    else
        detector_emit(ctx, &rule_resultset, DIR_TO_CLIENT, "DataRow", NULL, 0, EV_NONE);
}

static void pgsql_server_message(struct det_ctx *ctx, struct pgsql_state *st,
                                 uint8_t type, const uint8_t *p, size_t n)
{
    switch (type) {
    case 'R':
        pgsql_auth_request(ctx, st, p, n);
        break;
    case 'S':
        pgsql_parameter_status(ctx, st, p, n);
        break;
    case 'Z':
        /* ReadyForQuery: the server took a session in clear. */
        st->session_open = true;
        pgsql_mark_plaintext(ctx, st);
        pgsql_emit_session(ctx, st, "ReadyForQuery", NULL, 0);
        break;
    case 'E':
        pgsql_error(ctx, p, n);
        break;
    case 'T':
        pgsql_row_description(st, p, n);
        break;
    case 'D':
        pgsql_data_row(ctx, st, p, n);
        break;
    case 'C':
        /* CommandComplete ends a result set; the next rows are another. */
        st->rows_emitted = false;
        st->columns[0] = '\0';
        break;
    default:
        break;
    }
}

/* The framing of direction d is lost: resynchronise when we joined
 * mid-stream, otherwise these are not the bytes we thought. */
static void pgsql_lost(struct det_ctx *ctx, struct pgsql_state *st, enum dir d)
{
    if (st->midstream || !st->synced)
        st->phase[d] = PGSQL_PH_RESYNC;
    else
        pgsql_stop(ctx, st);
}

/* One typed message.  Returns bytes consumed (0: need more, or the phase
 * changed). */
static size_t pgsql_typed(struct det_ctx *ctx, struct pgsql_state *st, enum dir d,
                          const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    uint8_t type = cur_u8(&c);
    uint32_t len = cur_be32(&c);
    if (c.bad)
        return 0;                       /* header not all here yet */
    if (len < 4 || len > PGSQL_MAX_LEN || !pgsql_type_known(d, type)) {
        pgsql_lost(ctx, st, d);
        return 0;
    }

    size_t body_len = len - 4;
    bool whole = body_len + 5 <= PGSQL_MAX_WHOLE;
    size_t want = whole ? body_len : PGSQL_PEEK;
    if (cur_left(&c) < want)
        return 0;                       /* wait for the message (or a huge one's start) */
    size_t have = whole ? body_len : cur_left(&c) < body_len ? cur_left(&c) : body_len;
    const uint8_t *body = cur_take(&c, have);

    if (d == DIR_TO_SERVER)
        pgsql_client_message(ctx, st, type, body, have);
    else
        pgsql_server_message(ctx, st, type, body, have);
    st->skip[d] = body_len - have;
    return 5 + have;
}

/* A query a mid-stream client direction can trust: 'Q', a sane length,
 * a body of text that starts with a letter and ends with the only NUL.
 * Returns 1 when the message at p is one, 0 when p/n is a plausible
 * beginning of one, -1 when it is not one. */
static int pgsql_plausible_query(const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    uint8_t type = cur_u8(&c);
    uint32_t len = cur_be32(&c);
    if (c.bad)
        return 0;
    if (type != 'Q' || len < 6 || (uint64_t)len + 1 > PGSQL_MAX_WHOLE)
        return -1;
    size_t body_len = len - 4;
    size_t have = cur_left(&c) < body_len ? cur_left(&c) : body_len;
    const uint8_t *body = cur_take(&c, have);
    struct cursor b = cursor_init(body, have);
    uint8_t first = cur_u8(&b);
    if (have > 0 && !((first >= 'A' && first <= 'Z') || (first >= 'a' && first <= 'z')))
        return -1;
    if (have < body_len)
        return pgsql_is_text(body, have) ? 0 : -1;
    /* Whole: text, and its NUL is the last byte. */
    struct cursor q = cursor_init(body, have);
    size_t sql_len;
    (void)pgsql_cstr(&q, &sql_len);
    return sql_len + 1 == have && pgsql_is_text(body, sql_len) ? 1 : -1;
}

/* A ReadyForQuery a mid-stream server direction can trust:
 * 'Z' 00 00 00 05 and a status of 'I', 'T' or 'E'. */
static int pgsql_plausible_ready(const uint8_t *p, size_t n)
{
    static const uint8_t z[5] = { 'Z', 0, 0, 0, 5 };
    struct cursor c = cursor_init(p, n);
    size_t k = n < sizeof(z) ? n : sizeof(z);
    const uint8_t *head = cur_take(&c, k);
    if (head == NULL || memcmp(head, z, k) != 0)
        return -1;
    uint8_t status = cur_u8(&c);
    if (c.bad)
        return 0;                       /* a ReadyForQuery may start here */
    return status == 'I' || status == 'T' || status == 'E' ? 1 : -1;
}

/* Mid-stream: drops bytes up to a message of direction d we can trust
 * (client: a query; server: ReadyForQuery), then parses typed messages
 * from there.  Returns bytes dropped. */
static size_t pgsql_resync(struct det_ctx *ctx, struct pgsql_state *st, enum dir d,
                           const uint8_t *p, size_t n)
{
    uint8_t anchor = d == DIR_TO_SERVER ? 'Q' : 'Z';
    struct cursor c = cursor_init(p, n);
    size_t drop = n;

    while (cur_left(&c) > 0) {
        const uint8_t *at = memchr(cur_ptr(&c), anchor, cur_left(&c));
        if (at == NULL)
            break;
        cur_skip(&c, (size_t)(at - cur_ptr(&c)));
        int verdict = d == DIR_TO_SERVER ? pgsql_plausible_query(cur_ptr(&c), cur_left(&c))
                                         : pgsql_plausible_ready(cur_ptr(&c), cur_left(&c));
        if (verdict >= 0) {
            drop = c.off;
            if (verdict == 1) {
                st->phase[d] = PGSQL_PH_TYPED;
                pgsql_mark_plaintext(ctx, st);
            }
            break;
        }
        cur_skip(&c, 1);
    }
    st->resync_dropped[d] += (uint32_t)(drop < PGSQL_RESYNC_BUDGET ? drop : PGSQL_RESYNC_BUDGET);
    if (st->resync_dropped[d] >= PGSQL_RESYNC_BUDGET)
        pgsql_stop(ctx, st);            /* nothing trustworthy: not PostgreSQL after all */
    return drop;
}

/* One step of direction d: skip, resync, or one message.  Returns bytes
 * consumed; 0 with an unchanged phase means "need more bytes". */
static size_t pgsql_step(struct det_ctx *ctx, struct pgsql_state *st, enum dir d,
                         const uint8_t *p, size_t n)
{
    if (st->skip[d] > 0) {
        size_t k = st->skip[d] < n ? (size_t)st->skip[d] : n;
        st->skip[d] -= k;
        return k;
    }
    if (st->phase[d] == PGSQL_PH_RESYNC)
        return pgsql_resync(ctx, st, d, p, n);
    if (d == DIR_TO_SERVER && st->phase[d] == PGSQL_PH_START)
        return pgsql_client_untyped(ctx, st, p, n);
    if (d == DIR_TO_CLIENT && st->ask != PGSQL_ASK_NONE)
        return pgsql_server_answer(ctx, st, p, n);
    return pgsql_typed(ctx, st, d, p, n);
}

static size_t pgsql_on_data(struct det_ctx *ctx, enum dir d, const uint8_t *p, size_t n)
{
    struct pgsql_state *st = ctx->state;
    struct cursor c = cursor_init(p, n);

    while (cur_left(&c) > 0 && !st->done) {
        uint8_t phase = st->phase[d];
        uint8_t ask = st->ask;
        size_t k = pgsql_step(ctx, st, d, cur_ptr(&c), cur_left(&c));
        cur_skip(&c, k);
        if (k == 0 && st->phase[d] == phase && st->ask == ask)
            break;                      /* need more bytes */
    }
    /* Once encrypted or detached, the rest is not ours to keep. */
    return st->done ? n : c.off;
}

/* Lost bytes inside a message we were skipping anyway cost nothing;
 * anywhere else the framing is gone, and we never parse across a gap. */
static void pgsql_on_gap(struct det_ctx *ctx, enum dir d, uint64_t len)
{
    struct pgsql_state *st = ctx->state;
    if (st->done)
        return;
    if (st->skip[d] >= len) {
        st->skip[d] -= len;
        return;
    }
    pgsql_stop(ctx, st);
}

/* A session the server answered in clear but that ended (or was cut)
 * before server_version or ReadyForQuery still ran in clear. */
static void pgsql_on_end(struct det_ctx *ctx)
{
    struct pgsql_state *st = ctx->state;
    if (st->session_open)
        pgsql_emit_session(ctx, st, "Authentication", NULL, 0);
}

/* The client's first bytes: SSLRequest or GSSENCRequest (exactly eight
 * bytes), or a whole v3 StartupMessage with a well-formed parameter list
 * that names a user.  Random bytes pass this with negligible chance. */
static bool pgsql_head_is_start(const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    uint32_t len = cur_be32(&c);
    uint32_t code = cur_be32(&c);
    if (c.bad)
        return false;
    if (code == PGSQL_CODE_SSL || code == PGSQL_CODE_GSSENC)
        return len == 8;
    if (code >> 16 != PGSQL_PROTO_MAJOR_3 || (code & 0xffffu) > PGSQL_PROTO_MINOR_MAX ||
        len <= 8 || len > PGSQL_MAX_STARTUP || n < len)
        return false;

    struct cursor params = cursor_init(cur_take(&c, len - 8), len - 8);
    bool user = false;
    for (;;) {
        size_t klen, vlen;
        const uint8_t *key = cur_cstr(&params, len, &klen);
        if (params.bad)
            return false;
        if (klen == 0)
            break;
        (void)cur_cstr(&params, len, &vlen);
        if (params.bad || !pgsql_is_text(key, klen))
            return false;
        user = user || pgsql_eq(key, klen, "user");
    }
    return user && cur_left(&params) == 0;
}

static bool pgsql_wants(const struct flow_view *f)
{
    if (f->transport != 6)
        return false;
    if (flow_dpi_is(f, "PostgreSQL"))
        return true;
    return pgsql_head_is_start(f->head[DIR_TO_SERVER], f->head_len[DIR_TO_SERVER]);
}

static const struct rule *const pgsql_rules[] = {
    &rule_session,
    &rule_ssl_refused,
    &rule_login,
    &rule_password,
    &rule_md5,
    &rule_query,
    &rule_resultset,
    &rule_tls_required,
};

const struct detector detector_pgsql = {
    .name       = "pgsql",                 /* protocol name in the report */
    .rules      = pgsql_rules,             /* rules this file can fire */
    .nrules     = ARRAY_LEN(pgsql_rules),
    .state_size = sizeof(struct pgsql_state),
    .wants      = pgsql_wants,             /* nDPI verdict or a v3 opening */
    .on_data    = pgsql_on_data,
    .on_gap     = pgsql_on_gap,
    .on_end     = pgsql_on_end,
};

/*
 * mysql.c - MySQL / MariaDB client/server protocol in clear.
 *
 * Follows the MySQL client/server protocol documentation (dev.mysql.com
 * "MySQL Source Code Documentation: Client/Server Protocol": Protocol::
 * Handshake v10, HandshakeResponse41/320, SSLRequest, AuthSwitchRequest,
 * COM_* commands, text and binary result sets, compression) and MariaDB's
 * "Clients & Connectors: Client/Server Protocol" pages for its differences.
 * Every message is a packet: a 3-byte little-endian payload length, a 1-byte
 * sequence id, then the payload.  The server speaks first (greeting), the
 * client logs in (or asks for TLS with a short SSLRequest and switches), the
 * server answers OK/ERR, possibly after an auth-plugin exchange; then the
 * client sends commands (sequence id 0) and the server answers each.
 *
 * What we report: the session in clear, TLS offered but not used, the login
 * (user, database, plugin), passwords of the cleartext plugins
 * (mysql_clear_password, MariaDB's PAM "dialog"), statements, and result rows.
 * A refusal because the server requires TLS is an info finding and nothing
 * else.  The compressed protocol (zlib) is unwrapped; zstd compression is
 * not (we stop reading).  Left out: decoding prepared-statement parameters,
 * replication streams, LOCAL INFILE contents, and the X protocol (33060).
 * zlib is included by this file only, as STYLE.md asks of a foreign library.
 *
 * The login findings wait for the server's verdict on the login: when MySQL
 * refuses the plaintext client because it requires TLS (error 3159), the
 * right report is "TLS is enforced" (info), not a cleartext session.
 * MariaDB 10.11 refuses it with a plain 1045 "Access denied", which cannot
 * be told from a wrong password: that login is reported as readable, but
 * mysql.tls-not-enforced needs a client that actually got in.
 */
#include "detector.h"
#include "secrets.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "../scanner/cursor.h"
#include "../scanner/limits.h"
#include "../scanner/stats.h"

/* Capability flags (greeting, HandshakeResponse, COM_CHANGE_USER). */
#define CLIENT_CONNECT_WITH_DB          0x00000008u
#define CLIENT_COMPRESS                 0x00000020u
#define CLIENT_PROTOCOL_41              0x00000200u
#define CLIENT_SSL                      0x00000800u
#define CLIENT_SECURE_CONNECTION        0x00008000u
#define CLIENT_PLUGIN_AUTH              0x00080000u
#define CLIENT_CONNECT_ATTRS            0x00100000u
#define CLIENT_PLUGIN_AUTH_LENENC_DATA  0x00200000u
#define CLIENT_DEPRECATE_EOF            0x01000000u
#define CLIENT_OPTIONAL_RESULTSET_METADATA 0x02000000u
#define CLIENT_ZSTD_COMPRESSION         0x04000000u
#define CLIENT_QUERY_ATTRIBUTES         0x08000000u

/* Server status flag: another result set follows this one. */
#define SERVER_MORE_RESULTS_EXISTS      0x0008u

/* Commands (first payload byte of a client packet with sequence id 0). */
#define COM_QUIT                0x01
#define COM_INIT_DB             0x02
#define COM_QUERY               0x03
#define COM_FIELD_LIST          0x04
#define COM_CHANGE_USER         0x11
#define COM_BINLOG_DUMP         0x12
#define COM_REGISTER_SLAVE      0x15
#define COM_STMT_PREPARE        0x16
#define COM_STMT_EXECUTE        0x17
#define COM_STMT_SEND_LONG_DATA 0x18
#define COM_STMT_CLOSE          0x19
#define COM_STMT_FETCH          0x1c
#define COM_BINLOG_DUMP_GTID    0x1e

/* ER_SECURE_TRANSPORT_REQUIRED: "Connections using insecure transport are
 * prohibited while --require_secure_transport=ON." */
#define MYSQL_ER_SECURE_TRANSPORT       3159

/* A packet payload of exactly this length continues in the next packet. */
#define MYSQL_MAX_PAYLOAD       0xffffffu

/*
 * The detector's own bounds (kept here because only this file uses them).
 * MYSQL_PEEK_MAX: bytes of one packet (header included) we wait for.  Every
 * message we decode (greeting, login, auth switch, command, column count)
 * fits easily; a larger packet (a big INSERT, a BLOB row) is decoded from
 * its first MYSQL_PEEK_MAX bytes and the rest is skipped as it arrives, so
 * the engine never holds more than this of ours (REASM_MAX_PENDING is 8x).
 */
#define MYSQL_PEEK_MAX          (16u * 1024u)
#define MYSQL_RUN_MIN           256u    /* shorter segments of rows are not looked up whole */
/* Statement text handed to the reporter (it shows the shape, literals masked). */
#define MYSQL_SQL_MAX           1024u
/* Compressed protocol: the largest compressed packet we wait for whole, and
 * the output we inflate from one packet.  Past either, the rest of that
 * packet is skipped and the inner stream resynchronises on the next command
 * (compressed sequence id 0).  Both stay well under REASM_MAX_PENDING. */
#define MYSQL_COMP_MAX          (64u * 1024u)
#define MYSQL_INFLATE_MAX       (64u * 1024u)
/* Inner buffer: an incomplete inner packet (< MYSQL_PEEK_MAX) plus one
 * packet's inflated output. */
#define MYSQL_INNER_CAP         (MYSQL_PEEK_MAX + MYSQL_INFLATE_MAX)
/* Mid-stream capture: client packets we walk looking for a COM_QUERY. */
#define MYSQL_RESYNC_MAX_PKTS   64u
/* A result set wider than this is not a result set we understand. */
#define MYSQL_MAX_COLUMNS       4096u

enum mysql_phase {
    PH_INIT = 0,        /* nothing seen yet */
    PH_GREETED,         /* server greeting seen, waiting for the login */
    PH_AUTH,            /* login (or COM_CHANGE_USER) sent, no verdict yet */
    PH_COMMAND,         /* authenticated: commands and responses */
    PH_UNSYNCED,        /* capture started mid-session: looking for a COM_QUERY */
    PH_CLOSED,          /* login refused: the server closes */
    PH_DONE,            /* detached (TLS, gap, zstd) */
};

/* What the next server packet of the command phase is. */
enum mysql_resp {
    R_NONE = 0,         /* nothing expected (or a response we do not follow) */
    R_SIMPLE,           /* one packet: OK, ERR, EOF or a string */
    R_FIRST,            /* OK, ERR, LOCAL INFILE, or a result set's column count */
    R_COLDEFS,          /* column definitions (left of them) */
    R_COLS_EOF,         /* the EOF after the column definitions (or a first row) */
    R_ROWS,             /* rows until EOF/OK */
    R_PREPARE,          /* COM_STMT_PREPARE_OK */
    R_SKIP,             /* left more packets of no interest */
    R_DEFS_EOF,         /* COM_FIELD_LIST: definitions until EOF */
};

/* The auth plugin of the exchange in progress, as far as it matters. */
enum mysql_auth {
    AUTH_OTHER = 0,     /* hash or challenge based: no password in clear */
    AUTH_CLEAR,         /* mysql_clear_password: the password itself */
    AUTH_DIALOG,        /* MariaDB PAM "dialog": answers to prompts, in clear */
};

/* Packet framing of one byte stream. */
struct mysql_framer {
    uint32_t skip;      /* bytes of an oversized packet still to pass over */
    bool cont;          /* the last packet was 0xffffff long: this one continues it */
};

/* Compressed protocol, allocated only once a session negotiates it. */
struct mysql_zstate {
    bool lost;                      /* inner stream lost: wait for compressed seq 0 */
    uint32_t len[2];                /* inflated bytes not yet parsed, per direction */
    struct mysql_framer fr[2];      /* inner packet framing */
    uint8_t buf[2][MYSQL_INNER_CAP];
};

struct mysql_state {
    uint8_t phase;              /* enum mysql_phase */
    uint8_t resp;               /* enum mysql_resp */
    uint8_t auth;               /* enum mysql_auth */
    bool caps_known;            /* greeting and login both seen */
    bool tls_offered;           /* greeting advertised CLIENT_SSL */
    bool binary;                /* the result set in progress is binary (COM_STMT_EXECUTE) */
    bool pw_next;               /* the next client auth packet is a password in clear */
    bool login_pending;         /* login findings wait for the server's verdict */
    bool change_user;           /* that login is a COM_CHANGE_USER */
    bool session_done;          /* mysql.cleartext-session stated for this flow */
    bool notenf_done;           /* mysql.tls-not-enforced stated for this flow */
    bool plaintext_done;        /* detector_flow_plaintext() called */
    bool compress_on;           /* compressed framing from here on */
    uint32_t server_caps, client_caps;
    uint32_t left;              /* column definitions or packets still to pass over */
    uint32_t rows;              /* rows of the result set in progress */
    uint32_t resync_pkts;       /* client packets walked while unsynced */
    uint32_t init_held;         /* server bytes left with the engine before we knew
                                 * the flow was mid-session (they precede the answer
                                 * to the query we resync on) */
    uint64_t greet_pkt, greet_ts;   /* where the greeting was seen */
    uint64_t login_pkt, login_ts;   /* where the pending login was seen */
    struct mysql_framer fr[2];
    struct mysql_zstate *z;     /* NULL unless compression is on; freed in on_end */
    char version[64];
    char user[48];
    char login[EVIDENCE_MAX_TEXT];
};

/* ------------------------------------------------------------------ helpers */

/* A length-encoded integer.  Returns false for the NULL marker (0xfb), the
 * invalid 0xff, or a short read (c->bad set). */
static bool mysql_lenenc(struct cursor *c, uint64_t *v)
{
    uint8_t b = cur_u8(c);
    *v = 0;
    if (c->bad || b == 0xfb || b == 0xff)
        return false;
    if (b < 0xfb)
        *v = b;
    else if (b == 0xfc)
        *v = cur_le16(c);
    else if (b == 0xfd)
        *v = cur_le24(c);
    else
        *v = cur_le64(c);
    return !c->bad;
}

/* A length-encoded string: returns its bytes and sets *n, or NULL when it
 * is not all there (c->bad set). */
static const uint8_t *mysql_lenenc_str(struct cursor *c, size_t *n)
{
    uint64_t len;
    *n = 0;
    if (!mysql_lenenc(c, &len)) {
        c->bad = true;
        return NULL;
    }
    if (len > cur_left(c)) {
        c->bad = true;
        return NULL;
    }
    *n = (size_t)len;
    return cur_take(c, *n);
}

/* A NUL-terminated string, or the rest of the packet when the terminator is
 * missing (several servers and clients omit it on the last field). */
static const uint8_t *mysql_str_or_rest(struct cursor *c, size_t max, size_t *n)
{
    struct cursor probe = *c;
    const uint8_t *s = cur_cstr(&probe, max, n);
    if (s != NULL) {
        *c = probe;
        return s;
    }
    *n = cur_left(c) < max ? cur_left(c) : max;
    s = cur_ptr(c);
    cur_skip(c, cur_left(c));
    return s;
}

/* Whether the eight bytes of w are all printable ASCII (0x20..0x7e): no
 * byte below 0x20 (the first term sets a byte's top bit then), none from
 * 0x7f up (the second). */
static bool mysql_printable8(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL;
    return ((((w - 0x20 * ones) & ~w) | ((w + ones) | w)) & 0x80 * ones) == 0;
}

/* Writes n bytes at buf[len] of a bounded C string (len < cap), replacing
 * unprintable bytes so the evidence stays one readable line.  Returns the
 * new length. */
static size_t mysql_text_at(char *buf, size_t cap, size_t len, const uint8_t *v, size_t n)
{
    if (len + 1 >= cap) {
        buf[cap - 1] = '\0';
        return cap - 1;
    }
    size_t m = n < cap - 1 - len ? n : cap - 1 - len, i = 0;
    for (uint64_t w; i + 8 <= m && (memcpy(&w, v + i, 8), mysql_printable8(w)); i += 8)
        memcpy(buf + len + i, &w, 8);
    for (; i < m; i++)
        buf[len + i] = (uint8_t)(v[i] - 0x20) < 0x5f ? (char)v[i] : '?';
    buf[len + m] = '\0';
    return len + m;
}

/* Appends n bytes to a bounded C string, as mysql_text_at() writes them. */
static void mysql_text_put(char *buf, size_t cap, const uint8_t *v, size_t n)
{
    mysql_text_at(buf, cap, strnlen(buf, cap), v, n);
}

/* Appends " key=value" ("key=value" at the start) to a bounded C string;
 * key is printable. */
static void mysql_text_add(char *buf, size_t cap, const char *key,
                           const uint8_t *v, size_t n)
{
    size_t len = strnlen(buf, cap), kn = strlen(key);
    if (len + kn + 2 >= cap) {  /* no room for the key: cut as the copy would */
        if (len > 0)
            len = mysql_text_at(buf, cap, len, (const uint8_t *)" ", 1);
        len = mysql_text_at(buf, cap, len, (const uint8_t *)key, kn);
        len = mysql_text_at(buf, cap, len, (const uint8_t *)"=", 1);
    } else {
        if (len > 0)
            buf[len++] = ' ';
        memcpy(buf + len, key, kn);
        len += kn;
        buf[len++] = '=';
    }
    mysql_text_at(buf, cap, len, v, n);
}

/* Copies n bytes as a bounded, printable C string. */
static void mysql_copy_str(char *dst, size_t cap, const uint8_t *s, size_t n)
{
    dst[0] = '\0';
    mysql_text_put(dst, cap, s, n);
}

/* Whether needle occurs in the n bytes at s. */
static bool mysql_contains(const uint8_t *s, size_t n, const char *needle)
{
    /* a few dozen bytes: memchr() to each first letter beats memmem()'s set-up */
    size_t k = strlen(needle);
    for (const uint8_t *end = s + n, *q; k > 0 && (size_t)(end - s) >= k &&
                                        (q = memchr(s, needle[0], (size_t)(end - s) - k + 1));
         s = q + 1)
        if (memcmp(q, needle, k) == 0)
            return true;
    return false;
}

static bool mysql_name_is(const uint8_t *s, size_t n, const char *name)
{
    return n == strlen(name) && memcmp(s, name, n) == 0;
}

static enum mysql_auth mysql_auth_kind(const uint8_t *s, size_t n)
{
    if (mysql_name_is(s, n, "mysql_clear_password"))
        return AUTH_CLEAR;
    if (mysql_name_is(s, n, "dialog"))
        return AUTH_DIALOG;
    return AUTH_OTHER;
}

/* Statements begin with one of these (after blanks, parentheses and
 * comments).  Used to resynchronise on a mid-stream capture and to accept
 * one on any port, so the list is of real statement verbs only. */
static const char *const mysql_verbs[] = {
    "SELECT", "INSERT", "UPDATE", "DELETE", "REPLACE", "SET", "SHOW", "USE",
    "CREATE", "DROP", "ALTER", "TRUNCATE", "BEGIN", "START", "COMMIT",
    "ROLLBACK", "CALL", "EXPLAIN", "DESCRIBE", "DESC", "WITH", "LOCK",
    "UNLOCK", "GRANT", "REVOKE", "ANALYZE", "OPTIMIZE", "FLUSH", "KILL",
    "LOAD", "HANDLER", "DO", "PREPARE", "EXECUTE", "SAVEPOINT", "RELEASE",
};

/* Whether n bytes look like the start of an SQL statement: a known verb,
 * then no control bytes but tab, CR and LF.  Strict on purpose: this decides
 * that arbitrary bytes are MySQL. */
static bool mysql_sql_plausible(const uint8_t *s, size_t n)
{
    struct cursor c = cursor_init(s, n);
    /* blanks, '(' and comments before the verb */
    for (;;) {
        struct cursor probe = c;
        uint8_t b = cur_u8(&probe);
        if (probe.bad)
            return false;
        if (b == ' ' || b == '\t' || b == '\r' || b == '\n' || b == '(') {
            c = probe;
            continue;
        }
        if (b == '/' && cur_u8(&probe) == '*' && !probe.bad) {
            const uint8_t *rest = cur_ptr(&probe);
            size_t left = cur_left(&probe);
            const uint8_t *end = NULL;
            for (size_t i = 0; i + 1 < left; i++) {
                if (rest[i] == '*' && rest[i + 1] == '/') {
                    end = rest + i;
                    break;
                }
            }
            if (end == NULL)
                return false;   /* comment not closed in what we see */
            cur_skip(&probe, (size_t)(end - rest) + 2);
            c = probe;
            continue;
        }
        break;
    }
    size_t left = cur_left(&c);
    const uint8_t *w = cur_ptr(&c);
    bool verb = false;
    for (size_t i = 0; i < ARRAY_LEN(mysql_verbs) && !verb; i++) {
        size_t vl = strlen(mysql_verbs[i]);
        if (left < vl)
            continue;
        bool same = strncasecmp((const char *)w, mysql_verbs[i], vl) == 0;
        /* the verb must end there: "SETUP" is not "SET" */
        if (same && left > vl) {
            uint8_t nx = w[vl];
            same = !((nx >= 'A' && nx <= 'Z') || (nx >= 'a' && nx <= 'z') ||
                     (nx >= '0' && nx <= '9') || nx == '_');
        }
        verb = same;
    }
    if (!verb)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0x20 && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return false;
        if (s[i] == 0x7f)
            return false;
    }
    return true;
}

/* Whether a client packet (header included, maybe only its start) is a
 * COM_QUERY carrying a plausible statement.  With query attributes the text
 * follows a parameter count and a set count; with none they are 0x00 0x01. */
static bool mysql_looks_like_query(const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    uint32_t len = cur_le24(&c);
    uint8_t seq = cur_u8(&c);
    uint8_t cmd = cur_u8(&c);
    if (c.bad || seq != 0 || cmd != COM_QUERY || len < 4 || len > MYSQL_MAX_PAYLOAD - 1)
        return false;
    size_t body = len - 1 < cur_left(&c) ? len - 1 : cur_left(&c);
    const uint8_t *s = cur_ptr(&c);
    if (body < 3)
        return false;   /* too little to tell */
    if (s[0] == 0x00 && s[1] == 0x01)
        return mysql_sql_plausible(s + 2, body - 2);
    return mysql_sql_plausible(s, body);
}

/* Whether the server's first bytes are a protocol-10 greeting: sequence id
 * 0, version byte 10, a short printable version string starting with a
 * digit, and (when present) the zero filler after the first scramble part.
 * Or a pre-handshake ERR packet (too many connections, host blocked), which
 * must then be complete and printable. */
static bool mysql_looks_like_greeting(const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    uint32_t len = cur_le24(&c);
    uint8_t seq = cur_u8(&c);
    uint8_t kind = cur_u8(&c);
    if (c.bad || seq != 0)
        return false;
    if (kind == 0xff) {
        uint16_t code = cur_le16(&c);
        if (c.bad || len < 4 || len > 512 || len > n - 4)
            return false;   /* an error greeting is short and arrives whole */
        if (code < 1000 || code >= 5000)
            return false;
        for (size_t i = 3; i < len; i++) {
            uint8_t b = cur_u8(&c);
            if (b < 0x20 || b >= 0x7f)
                return false;
        }
        return true;
    }
    if (kind != 10 || len < 16 || len > 1024)
        return false;
    size_t vn;
    const uint8_t *v = cur_cstr(&c, 100, &vn);
    if (v == NULL || vn == 0 || v[0] < '0' || v[0] > '9')
        return false;
    for (size_t i = 0; i < vn; i++)
        if (v[i] < 0x20 || v[i] >= 0x7f)
            return false;
    if (vn + 1 + 4 + 8 + 1 > len - 1)
        return false;   /* the declared length cannot hold the fixed fields */
    cur_skip(&c, 4 + 8);
    uint8_t filler = cur_u8(&c);
    return c.bad || filler == 0;
}

/* Calls detector_flow_plaintext() once per flow. */
static void mysql_plaintext(struct det_ctx *ctx, struct mysql_state *st)
{
    if (!st->plaintext_done) {
        st->plaintext_done = true;
        detector_flow_plaintext(ctx, "MySQL");
    }
}

/* Emits a fact as if it came with packet pkt at time ts (the login packet
 * of a finding we held until the server's verdict). */
static void mysql_emit_at(struct det_ctx *ctx, uint64_t pkt, uint64_t ts,
                          const struct rule *rule, enum dir d, const char *field,
                          const void *v, size_t n, enum ev_kind kind)
{
    uint64_t cur_pkt = ctx->pkt_no, cur_ts = ctx->ts_ns;
    ctx->pkt_no = pkt;
    ctx->ts_ns = ts;
    detector_emit(ctx, rule, d, field, v, n, kind);
    ctx->pkt_no = cur_pkt;
    ctx->ts_ns = cur_ts;
}

/* Stops reading this flow (the findings stay). */
static void mysql_stop(struct det_ctx *ctx, struct mysql_state *st)
{
    st->phase = PH_DONE;
    detector_detach(ctx);
}

/* ------------------------------------------------------------------ session */

static const struct rule rule_session = {
    .id = "mysql.cleartext-session",
    .severity = SEV_MEDIUM,
    .title = "MySQL/MariaDB session without TLS",
    .remediation = "Set require_secure_transport=ON on the server and connect clients "
                   "with ssl-mode=VERIFY_IDENTITY (MariaDB: --ssl-verify-server-cert) "
                   "against the internal CA.",
    .compliance = COMPLIANCE_SENSITIVE,
};

/* mysql.cleartext-session, once per flow.  The evidence names the server
 * version and whether it offered TLS, the two facts an operator acts on,
 * dated by the greeting; on a mid-session capture, by the current packet. */
static void mysql_emit_session(struct det_ctx *ctx, struct mysql_state *st)
{
    char text[EVIDENCE_MAX_TEXT];
    if (st->session_done)
        return;
    st->session_done = true;
    text[0] = '\0';
    if (st->version[0] != '\0') {
        mysql_copy_str(text, sizeof text, (const uint8_t *)st->version,
                       strlen(st->version));
        mysql_text_add(text, sizeof text, "tls_offered",
                       (const uint8_t *)(st->tls_offered ? "yes" : "no"),
                       st->tls_offered ? 3 : 2);
        mysql_emit_at(ctx, st->greet_pkt, st->greet_ts, &rule_session, DIR_TO_CLIENT,
                      "server_version", text, strlen(text), EV_TEXT);
    } else {
        static const char unknown[] = "unknown (capture started mid-session)";
        mysql_copy_str(text, sizeof text, (const uint8_t *)unknown, sizeof unknown - 1);
        detector_emit(ctx, &rule_session, DIR_TO_SERVER, "server_version", text,
                      strlen(text), EV_TEXT);
    }
}

/* ------------------------------------------------------------------ greeting */

/*
 * Server greeting, Protocol::HandshakeV10:
 *
 *   1   protocol version (10)
 *   NUL server version ("8.0.36", "5.5.5-10.11.6-MariaDB-0+deb12u1")
 *   4   connection id
 *   8   auth-plugin-data part 1
 *   1   filler (0)
 *   2   capability flags, lower half          (from here on optional in old servers)
 *   1   character set
 *   2   status flags
 *   2   capability flags, upper half
 *   1   auth-plugin-data length (or 0)
 *   10  reserved (MariaDB: 6 zero + 4 extended capabilities)
 *   n   auth-plugin-data part 2: max(13, length - 8)   if CLIENT_SECURE_CONNECTION
 *   NUL auth plugin name                               if CLIENT_PLUGIN_AUTH
 */
static bool mysql_parse_greeting(struct mysql_state *st, struct cursor *c)
{
    uint8_t proto = cur_u8(c);
    size_t vn;
    const uint8_t *v = cur_cstr(c, 120, &vn);
    if (c->bad || proto != 10 || v == NULL)
        return false;
    /* MariaDB prefixes "5.5.5-" so old clients accept it; show the real one */
    if (vn > 6 && memcmp(v, "5.5.5-", 6) == 0 && mysql_contains(v, vn, "MariaDB")) {
        v += 6;
        vn -= 6;
    }
    mysql_copy_str(st->version, sizeof st->version, v, vn);
    cur_skip(c, 4 + 8 + 1);
    uint32_t caps = cur_le16(c);
    if (c->bad)
        return true;    /* a pre-4.1 greeting ends here: no TLS, no plugin */
    cur_skip(c, 1 + 2);
    uint32_t upper = cur_le16(c);
    if (!c->bad)
        caps |= upper << 16;
    st->server_caps = caps;
    st->tls_offered = (caps & CLIENT_SSL) != 0;
    /* The plugin name is not needed: the client names its own plugin, and
     * an auth switch names the server's. */
    return true;
}

/* ------------------------------------------------------------------ login */

static const struct rule rule_login = {
    .id = "mysql.cleartext-login",
    .severity = SEV_HIGH,
    .title = "MySQL login readable on the wire (user, database, auth plugin)",
    .remediation = "Require TLS for every account (require_secure_transport=ON) and connect "
                   "clients with ssl-mode=VERIFY_IDENTITY: a captured login exchange can be "
                   "cracked offline.",
    .compliance = COMPLIANCE_CREDENTIALS,
};

static const struct rule rule_password = {
    .id = "mysql.cleartext-password",
    .severity = SEV_CRITICAL,
    .title = "MySQL password sent in cleartext",
    .remediation = "Change the exposed password, and allow cleartext auth plugins "
                   "(mysql_clear_password, PAM/dialog, LDAP simple) only over TLS: "
                   "REQUIRE SSL on those accounts and require_secure_transport=ON.",
    .compliance = COMPLIANCE_CREDENTIALS,
};

static const struct rule rule_notenf = {
    .id = "mysql.tls-not-enforced",
    .severity = SEV_MEDIUM,
    .title = "MySQL server offers TLS but accepts plaintext logins",
    .remediation = "The server already has TLS: set require_secure_transport=ON (or REQUIRE "
                   "SSL per account) and configure clients with ssl-mode=VERIFY_IDENTITY.",
    .compliance = COMPLIANCE_SENSITIVE,
};

/* A password in clear: the bytes up to a trailing NUL. */
static void mysql_emit_password(struct det_ctx *ctx, const uint8_t *pw, size_t n)
{
    if (n > 0 && pw[n - 1] == '\0')
        n--;
    if (n == 0)
        return;     /* an empty password: nothing readable */
    detector_emit(ctx, &rule_password, DIR_TO_SERVER, "password", pw, n, EV_SECRET);
}

/* States what a login showed, now that the server has answered it (or the
 * flow ended first): the session in clear, the login itself (dated by the
 * login packet), and, when the client got in (logged_in), that TLS was
 * offered but not required.  A refused login proves nothing about
 * enforcement: MariaDB refuses an insecure client under
 * require_secure_transport with a plain 1045 "Access denied", exactly as it
 * refuses a wrong password. */
static void mysql_flush_login(struct det_ctx *ctx, struct mysql_state *st, bool logged_in)
{
    if (!st->login_pending)
        return;
    st->login_pending = false;
    mysql_emit_session(ctx, st);
    if (logged_in && st->tls_offered && !st->notenf_done && !st->change_user) {
        st->notenf_done = true;
        mysql_emit_at(ctx, st->login_pkt, st->login_ts, &rule_notenf, DIR_TO_SERVER,
                      "user", st->user, strlen(st->user), EV_TEXT);
    }
    mysql_emit_at(ctx, st->login_pkt, st->login_ts, &rule_login, DIR_TO_SERVER,
                  st->change_user ? "COM_CHANGE_USER" : "login",
                  st->login, strlen(st->login), EV_TEXT);
}

/* Records a login for mysql_flush_login(): user, database, plugin (and the
 * client program when it says). */
static void mysql_hold_login(struct det_ctx *ctx, struct mysql_state *st, bool change_user,
                             const uint8_t *user, size_t un, const uint8_t *db, size_t dn,
                             const uint8_t *plugin, size_t pn)
{
    mysql_copy_str(st->user, sizeof st->user, user, un);
    st->login[0] = '\0';
    mysql_text_add(st->login, sizeof st->login, "user", user, un);
    if (db != NULL && dn > 0)
        mysql_text_add(st->login, sizeof st->login, "db", db, dn);
    if (plugin != NULL && pn > 0)
        mysql_text_add(st->login, sizeof st->login, "plugin", plugin, pn);
    st->login_pending = true;
    st->change_user = change_user;
    st->login_pkt = ctx->pkt_no;
    st->login_ts = ctx->ts_ns;
}

/* Connection attributes: a lenenc total, then lenenc key/value pairs.  Only
 * program_name is worth a line of evidence ("mysql", "php", "navicat"). */
static void mysql_parse_attrs(struct mysql_state *st, struct cursor *c)
{
    size_t total;
    const uint8_t *a = mysql_lenenc_str(c, &total);
    if (a == NULL)
        return;
    struct cursor ac = cursor_init(a, total);
    while (cur_left(&ac) > 0) {
        size_t kn, vn;
        const uint8_t *k = mysql_lenenc_str(&ac, &kn);
        const uint8_t *v = mysql_lenenc_str(&ac, &vn);
        if (ac.bad)
            return;     /* attributes cut or malformed: keep what we have */
        if (mysql_name_is(k, kn, "program_name")) {
            mysql_text_add(st->login, sizeof st->login, "program", v, vn);
            return;
        }
    }
}

/*
 * Client login, Protocol::HandshakeResponse41 (CLIENT_PROTOCOL_41):
 *
 *   4   capability flags            (CLIENT_SSL + nothing after "filler": SSLRequest)
 *   4   max packet size
 *   1   character set
 *   23  filler (0)
 *   NUL user name
 *   auth response: lenenc if CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA,
 *                  1-byte length if CLIENT_SECURE_CONNECTION, else NUL-terminated
 *   NUL database                    if CLIENT_CONNECT_WITH_DB
 *   NUL auth plugin name            if CLIENT_PLUGIN_AUTH
 *   lenenc connection attributes    if CLIENT_CONNECT_ATTRS
 *
 * Protocol::HandshakeResponse320 (old clients): 2 capability flags, 3 max
 * packet size, NUL user, then the old scrambled password (and NUL database).
 * Its SSLRequest is the first 5 bytes alone.
 */
static void mysql_parse_login(struct det_ctx *ctx, struct mysql_state *st,
                              const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    uint32_t caps = cur_le16(&c);
    bool p41 = (caps & CLIENT_PROTOCOL_41) != 0;
    if (p41) {
        caps |= (uint32_t)cur_le16(&c) << 16;
        cur_skip(&c, 4 + 1 + 23);
    } else {
        cur_skip(&c, 3);
    }
    if (c.bad)
        return;     /* shorter than any login: not one */
    st->client_caps = caps;
    st->caps_known = true;
    if ((caps & CLIENT_SSL) && cur_left(&c) == 0) {
        /* SSLRequest: TLS from the next byte on, both ways */
        detector_flow_encrypted(ctx);
        mysql_stop(ctx, st);
        return;
    }
    mysql_plaintext(ctx, st);
    size_t un, an = 0, dn = 0, pn = 0;
    const uint8_t *user = mysql_str_or_rest(&c, 256, &un);
    const uint8_t *auth = NULL, *db = NULL, *plugin = NULL;
    if (!p41) {
        /* old scrambled password (a hash), NUL-terminated when a database follows */
        if ((caps & CLIENT_CONNECT_WITH_DB) && cur_cstr(&c, 256, &an) != NULL)
            db = mysql_str_or_rest(&c, 256, &dn);
        mysql_hold_login(ctx, st, false, user, un, db, dn, NULL, 0);
        st->phase = PH_AUTH;
        return;
    }
    if (caps & CLIENT_PLUGIN_AUTH_LENENC_DATA) {
        auth = mysql_lenenc_str(&c, &an);
    } else if (caps & CLIENT_SECURE_CONNECTION) {
        an = cur_u8(&c);
        auth = cur_take(&c, an);
    } else {
        auth = cur_cstr(&c, 256, &an);
    }
    if ((caps & CLIENT_CONNECT_WITH_DB) && !c.bad)
        db = mysql_str_or_rest(&c, 256, &dn);
    if ((caps & CLIENT_PLUGIN_AUTH) && !c.bad)
        plugin = mysql_str_or_rest(&c, 64, &pn);
    mysql_hold_login(ctx, st, false, user, un, db, dn, plugin, pn);
    if ((caps & CLIENT_CONNECT_ATTRS) && !c.bad)
        mysql_parse_attrs(st, &c);
    st->auth = plugin != NULL ? mysql_auth_kind(plugin, pn) : AUTH_OTHER;
    /* mysql_clear_password as the client's own plugin: the first auth
     * response is the password itself */
    if (st->auth == AUTH_CLEAR && auth != NULL)
        mysql_emit_password(ctx, auth, an);
    st->phase = PH_AUTH;
}

/*
 * COM_CHANGE_USER: a new login inside the session.
 *
 *   1   0x11
 *   NUL user name
 *   auth response: 1-byte length if CLIENT_SECURE_CONNECTION, else NUL-terminated
 *   NUL database
 *   2   character set                   (optional from here on)
 *   NUL auth plugin name                if CLIENT_PLUGIN_AUTH
 *   lenenc connection attributes        if CLIENT_CONNECT_ATTRS
 */
static void mysql_parse_change_user(struct det_ctx *ctx, struct mysql_state *st,
                                    struct cursor *c)
{
    uint32_t caps = st->caps_known ? st->client_caps : CLIENT_SECURE_CONNECTION;
    size_t un, an = 0, dn = 0, pn = 0;
    const uint8_t *user = mysql_str_or_rest(c, 256, &un);
    const uint8_t *auth, *db = NULL, *plugin = NULL;
    if (caps & CLIENT_SECURE_CONNECTION) {
        an = cur_u8(c);
        auth = cur_take(c, an);
    } else {
        auth = cur_cstr(c, 256, &an);
    }
    if (!c->bad)
        db = mysql_str_or_rest(c, 256, &dn);
    cur_skip(c, 2);
    if ((caps & CLIENT_PLUGIN_AUTH) && !c->bad && cur_left(c) > 0)
        plugin = mysql_str_or_rest(c, 64, &pn);
    mysql_hold_login(ctx, st, true, user, un, db, dn, plugin, pn);
    st->auth = plugin != NULL ? mysql_auth_kind(plugin, pn) : AUTH_OTHER;
    if (st->auth == AUTH_CLEAR && auth != NULL)
        mysql_emit_password(ctx, auth, an);
    st->phase = PH_AUTH;
    st->resp = R_NONE;
}

/* A client packet of the auth exchange after the login (auth switch
 * response, dialog answer, public key request...). */
static void mysql_client_auth(struct det_ctx *ctx, struct mysql_state *st,
                              const uint8_t *p, size_t n)
{
    if (st->pw_next)
        mysql_emit_password(ctx, p, n);
    st->pw_next = false;
}

/* ------------------------------------------------------------------ verdict */

static const struct rule rule_tls_required = {
    .id = "mysql.tls-required",
    .severity = SEV_INFO,
    .title = "Server refused a plaintext client: TLS is enforced",
    .remediation = "Nothing to fix on the server; configure the refused client to connect "
                   "with ssl-mode=VERIFY_IDENTITY (MariaDB: --ssl-verify-server-cert).",
    .compliance = COMPLIANCE_INVENTORY,
};

/*
 * ERR packet: 0xff, 2 error code, ['#' 5 SQLSTATE] (protocol 4.1), message.
 * Whether it is the refusal of require_secure_transport: code 3159, or the
 * message of that error (servers and proxies that renumber it).
 */
static bool mysql_err_tls_required(const uint8_t *p, size_t n, const uint8_t **msg,
                                   size_t *mn)
{
    struct cursor c = cursor_init(p, n);
    cur_skip(&c, 1);
    uint16_t code = cur_le16(&c);
    struct cursor probe = c;
    if (cur_u8(&probe) == '#' && !probe.bad) {
        cur_skip(&probe, 5);
        if (!probe.bad)
            c = probe;
    }
    *msg = cur_ptr(&c);
    *mn = cur_left(&c);
    if (c.bad)
        return false;
    if (code == MYSQL_ER_SECURE_TRANSPORT)
        return true;
    return mysql_contains(*msg, *mn, "insecure transport");
}

/* Dialog question types: 2 ordinary, 4 password, |1 for the last one.  The
 * server may wrap the question in an AuthMoreData (0x01) byte. */
static void mysql_dialog_question(struct mysql_state *st, const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    uint8_t q = cur_u8(&c);
    if (q == 0x01)
        q = cur_u8(&c);
    if (!c.bad)
        st->pw_next = (q & ~1u) == 4;
}

/* A server packet while a login waits for its verdict. */
static void mysql_server_auth(struct det_ctx *ctx, struct mysql_state *st,
                              const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    uint8_t kind = cur_u8(&c);
    if (c.bad)
        return;
    if (kind == 0x00) {
        /* OK: logged in */
        mysql_flush_login(ctx, st, true);
        st->phase = PH_COMMAND;
        st->resp = R_NONE;
        uint32_t both = st->server_caps & st->client_caps;
        if (st->caps_known && (both & CLIENT_ZSTD_COMPRESSION)) {
            /* zstd-compressed from here on: unreadable for us, not encrypted */
            mysql_stop(ctx, st);
        } else if (st->caps_known && (both & CLIENT_COMPRESS)) {
            st->compress_on = true;
        }
        return;
    }
    if (kind == 0xff) {
        const uint8_t *msg;
        size_t mn;
        if (mysql_err_tls_required(p, n, &msg, &mn)) {
            /* the enforcement works: say so, and nothing else about this login */
            st->login_pending = false;
            detector_emit(ctx, &rule_tls_required, DIR_TO_CLIENT, "error", msg, mn, EV_TEXT);
        } else {
            mysql_flush_login(ctx, st, false);  /* refused, but it was readable */
        }
        st->phase = PH_CLOSED;
        return;
    }
    if (kind == 0xfe) {
        /* AuthSwitchRequest: 0xfe, NUL plugin name, plugin data.  A lone
         * 0xfe is the old-password switch (a hash, not the password). */
        size_t pn;
        const uint8_t *plugin = mysql_str_or_rest(&c, 64, &pn);
        st->auth = n > 1 ? mysql_auth_kind(plugin, pn) : AUTH_OTHER;
        st->pw_next = st->auth == AUTH_CLEAR;
        if (st->auth == AUTH_DIALOG)
            mysql_dialog_question(st, cur_ptr(&c), cur_left(&c));
        return;
    }
    /* AuthMoreData (0x01 ...) or a bare dialog question */
    if (st->auth == AUTH_DIALOG)
        mysql_dialog_question(st, p, n);
}

/* ------------------------------------------------------------------ commands */

static const struct rule rule_query = {
    .id = "mysql.cleartext-query",
    .severity = SEV_HIGH,
    .title = "SQL statements readable on the wire",
    .remediation = "Encrypt database connections (require_secure_transport=ON; clients with "
                   "ssl-mode=VERIFY_IDENTITY) so statements and their values cannot be read "
                   "on the network.",
    .compliance = COMPLIANCE_SENSITIVE,
};

/* Passes over one parameter value of the binary protocol, by type (query
 * attributes).  Returns false for a type whose size we cannot tell. */
static bool mysql_skip_binary_value(struct cursor *c, uint8_t type)
{
    size_t n;
    switch (type) {
    case 0x06:                          /* NULL */
        return true;
    case 0x01:                          /* TINY */
        cur_skip(c, 1);
        return !c->bad;
    case 0x02: case 0x0d:               /* SHORT, YEAR */
        cur_skip(c, 2);
        return !c->bad;
    case 0x03: case 0x09: case 0x04:    /* LONG, INT24, FLOAT */
        cur_skip(c, 4);
        return !c->bad;
    case 0x05: case 0x08:               /* DOUBLE, LONGLONG */
        cur_skip(c, 8);
        return !c->bad;
    case 0x07: case 0x0a: case 0x0b: case 0x0c:   /* TIMESTAMP, DATE, TIME, DATETIME */
        n = cur_u8(c);
        cur_skip(c, n);
        return !c->bad;
    case 0x00: case 0x0f: case 0x10:    /* DECIMAL, VARCHAR, BIT */
    case 0xf5: case 0xf6: case 0xf7: case 0xf8: case 0xf9:
    case 0xfa: case 0xfb: case 0xfc: case 0xfd: case 0xfe: case 0xff:
        (void)mysql_lenenc_str(c, &n);
        return !c->bad;
    default:
        return false;
    }
}

/*
 * COM_QUERY with CLIENT_QUERY_ATTRIBUTES, before the statement:
 *   lenenc parameter count, lenenc parameter set count (1), and when the
 *   count is not 0: NULL bitmap, new-params-bind flag (1), per parameter a
 *   2-byte type and a lenenc name, then the non-NULL values.
 * Leaves the cursor on the statement; returns false when the values cannot
 * be passed over.
 */
static bool mysql_skip_query_attrs(struct cursor *c)
{
    uint64_t count, sets;
    if (!mysql_lenenc(c, &count) || !mysql_lenenc(c, &sets))
        return false;
    if (count == 0)
        return true;
    if (count > 64)
        return false;   /* more attributes than anyone sends: not this layout */
    uint8_t types[64];
    const uint8_t *nulls = cur_take(c, (size_t)(count + 7) / 8);
    uint8_t bound = cur_u8(c);
    if (c->bad || bound != 1)
        return false;
    for (size_t i = 0; i < count; i++) {
        size_t nn;
        types[i] = (uint8_t)cur_le16(c);
        (void)mysql_lenenc_str(c, &nn);
    }
    for (size_t i = 0; i < count && !c->bad; i++) {
        if (nulls[i / 8] & (1u << (i % 8)))
            continue;
        if (!mysql_skip_binary_value(c, types[i]))
            return false;
    }
    return !c->bad;
}

/* A statement leaves as evidence (at most MYSQL_SQL_MAX bytes of it). */
static void mysql_emit_statement(struct det_ctx *ctx, const char *field,
                                 const uint8_t *s, size_t n)
{
    if (n > MYSQL_SQL_MAX)
        n = MYSQL_SQL_MAX;
    detector_emit(ctx, &rule_query, DIR_TO_SERVER, field, s, n, n ? EV_SQL : EV_NONE);
    secrets_scan(ctx, DIR_TO_SERVER, "query", s, n);
}

/* COM_QUERY: [query attributes] statement text (the rest of the packet). */
static void mysql_com_query(struct det_ctx *ctx, struct mysql_state *st, struct cursor *c)
{
    bool attrs;
    if (st->caps_known) {
        attrs = (st->server_caps & st->client_caps & CLIENT_QUERY_ATTRIBUTES) != 0;
    } else {
        /* mid-stream: an attribute-less prefix is 0x00 0x01 before the verb */
        struct cursor probe = *c;
        attrs = cur_u8(&probe) == 0x00 && cur_u8(&probe) == 0x01 && !probe.bad &&
                mysql_sql_plausible(cur_ptr(&probe), cur_left(&probe));
    }
    if (attrs && !mysql_skip_query_attrs(c)) {
        mysql_emit_statement(ctx, "COM_QUERY", NULL, 0);
        return;     /* attribute values we cannot pass: the fact without the text */
    }
    mysql_emit_statement(ctx, "COM_QUERY", cur_ptr(c), cur_left(c));
}

/* A client command (sequence id 0, after the login): states what it shows
 * and sets what the server will answer. */
static void mysql_command(struct det_ctx *ctx, struct mysql_state *st,
                          const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    uint8_t cmd = cur_u8(&c);
    if (c.bad)
        return;     /* an empty packet is no command */
    st->binary = false;
    st->rows = 0;
    switch (cmd) {
    case COM_QUERY:
        mysql_com_query(ctx, st, &c);
        st->resp = R_FIRST;
        break;
    case COM_INIT_DB:
        mysql_emit_statement(ctx, "COM_INIT_DB", cur_ptr(&c), cur_left(&c));
        st->resp = R_SIMPLE;
        break;
    case COM_STMT_PREPARE:
        mysql_emit_statement(ctx, "COM_STMT_PREPARE", cur_ptr(&c), cur_left(&c));
        st->resp = R_PREPARE;
        break;
    case COM_STMT_EXECUTE:
        /* parameters travel in clear too, but their types sit in the
         * PREPARE exchange; the statement was reported there */
        st->binary = true;
        st->resp = R_FIRST;
        break;
    case COM_STMT_FETCH:
        st->binary = true;
        st->resp = R_ROWS;
        break;
    case COM_FIELD_LIST:
        st->resp = R_DEFS_EOF;
        break;
    case COM_CHANGE_USER:
        mysql_parse_change_user(ctx, st, &c);
        break;
    case COM_QUIT:
    case COM_STMT_CLOSE:
    case COM_STMT_SEND_LONG_DATA:
        st->resp = R_NONE;      /* no answer */
        break;
    case COM_BINLOG_DUMP:
    case COM_BINLOG_DUMP_GTID:
    case COM_REGISTER_SLAVE:
        st->resp = R_NONE;      /* replication stream: not followed */
        break;
    default:
        st->resp = R_SIMPLE;
        break;
    }
}

/* ------------------------------------------------------------------ results */

static const struct rule rule_resultset = {
    .id = "mysql.cleartext-resultset",
    .severity = SEV_HIGH,
    .title = "MySQL result rows readable on the wire",
    .remediation = "Encrypt database connections (require_secure_transport=ON; clients with "
                   "ssl-mode=VERIFY_IDENTITY) so query results cannot be read on the network.",
    .compliance = COMPLIANCE_SENSITIVE,
};

/* The next value of a text row at c (cur_left(c) > 0): a lenenc string,
 * its bytes in *v and *vn, or 0xfb for NULL (*v NULL).  False when the
 * value runs past the packet. */
static bool mysql_row_value(struct cursor *c, const uint8_t **v, size_t *vn)
{
    uint8_t b = cur_ptr(c)[0];
    *v = NULL;
    *vn = 0;
    if (b == 0xfb) {
        cur_skip(c, 1);
        return true;
    }
    if (b < 0xfb) {
        cur_skip(c, 1);         /* the common case: the length in one byte */
        *vn = b;
        *v = cur_take(c, b);
    } else {
        *v = mysql_lenenc_str(c, vn);
    }
    return *v != NULL;
}

/* Where in the text row p..n lies byte off of the values gathered from it
 * (mysql_row_values() below): n + 1 when it lies in none. */
static size_t mysql_row_where(const uint8_t *p, size_t n, size_t off)
{
    struct cursor c = cursor_init(p, n);
    size_t at = 0;      /* where the value's bytes start among the gathered */
    while (cur_left(&c) > 0) {
        const uint8_t *v;
        size_t vn;
        if (!mysql_row_value(&c, &v, &vn))
            break;
        if (v == NULL)
            continue;   /* a NULL gathers nothing */
        if (off <= at + vn)
            return (size_t)(v - p) + (off - at);
        at += vn + 1;
    }
    return n + 1;
}

/*
 * Walks the values of a text result row: each a lenenc string, or 0xfb for
 * NULL.  Returns how many values it saw, or -1 when the packet is not such
 * a row (a value runs past the end of a packet we have whole).  A row cut
 * at MYSQL_PEEK_MAX is walked as far as it goes.
 *
 * The values are gathered into one buffer, each followed by a NUL byte, and
 * that buffer goes through the secrets and PII scanner in one call once the
 * row is known good, so card numbers, tokens and keys stored in tables are
 * found in result sets.  NUL ends every pattern the scanner knows, as the
 * end of a value does, so this finds exactly what a scan of each value on
 * its own would; the length bytes between values, which can look like
 * digits, never reach the scanner.  One call per row instead of one per
 * value lets the scanner's vector prefilter run on rows of short values.
 * Every value takes at least one length byte in the packet, so the values
 * and their separators never need more than n bytes.
 */
static int mysql_row_values(struct det_ctx *ctx, const uint8_t *p, size_t n, bool truncated)
{
    static uint8_t joined[MYSQL_PEEK_MAX + SECRETS_PAD];
    struct secrets_values row = { joined, MYSQL_PEEK_MAX, 0 };
    struct cursor c = cursor_init(p, n);
    int values = 0;
    while (cur_left(&c) > 0) {
        const uint8_t *v;
        size_t vn;
        if (!mysql_row_value(&c, &v, &vn)) {
            if (!truncated)
                return -1;
            break;
        }
        if (v != NULL)
            (void)secrets_values_add(&row, v, vn);     /* always fits: see above */
        values++;
    }
    if (truncated)
        secrets_scan_values(ctx, DIR_TO_CLIENT, "row", &row);
    else
        secrets_scan_record(ctx, DIR_TO_CLIENT, "row", &row, p, n, mysql_row_where);
    return values;
}

/* The status flags of an EOF (0xfe, 2 warnings, 2 status) or of an OK
 * (0x00 or 0xfe, lenenc affected rows, lenenc insert id, 2 status). */
static uint16_t mysql_end_status(const uint8_t *p, size_t n, bool ok_layout)
{
    struct cursor c = cursor_init(p, n);
    uint64_t ignored;
    cur_skip(&c, 1);
    if (ok_layout) {
        (void)mysql_lenenc(&c, &ignored);
        (void)mysql_lenenc(&c, &ignored);
        return cur_le16(&c);
    }
    cur_skip(&c, 2);
    return cur_le16(&c);
}

/* A row of the result set in progress was read: the finding once per
 * result set, at its first row. */
static void mysql_row_counted(struct det_ctx *ctx, struct mysql_state *st)
{
    if (st->rows == 0)
        detector_emit(ctx, &rule_resultset, DIR_TO_CLIENT, "row", NULL, 0, EV_NONE);
    st->rows++;
}

/* A whole text row: one met before (the same query run again) is stated
 * from the memo by its bytes, without gathering its values. */
static bool mysql_text_row(struct det_ctx *ctx, struct mysql_state *st,
                           struct secrets_again *again, const uint8_t *p, size_t n)
{
    if (!secrets_scan_again(again, p, n) && mysql_row_values(ctx, p, n, false) < 0)
        return false;   /* not a row after all */
    mysql_row_counted(ctx, st);
    return true;
}

/* The memo lookups of the rows of one segment. */
static void mysql_rows_again(struct secrets_again *again, struct det_ctx *ctx)
{
    secrets_again_init(again, ctx, DIR_TO_CLIENT, "row", mysql_row_where);
}

/* A row of the result set in progress. */
static void mysql_row(struct det_ctx *ctx, struct mysql_state *st,
                      const uint8_t *p, size_t n, bool truncated)
{
    if (!st->binary && !truncated) {
        struct secrets_again again;
        mysql_rows_again(&again, ctx);
        mysql_text_row(ctx, st, &again, p, n);
        secrets_again_end(&again);
        return;
    }
    if (st->binary) {
        struct cursor c = cursor_init(p, n);
        if (cur_u8(&c) != 0x00 || c.bad)
            return;     /* a binary row starts with 0x00: this is something else */
        /* values are not decoded without the column types, but strings sit
         * in the row as they are: scan the row's bytes whole */
        secrets_scan(ctx, DIR_TO_CLIENT, "row", cur_ptr(&c), cur_left(&c));
    } else if (mysql_row_values(ctx, p, n, truncated) < 0) {
        return;
    }
    mysql_row_counted(ctx, st);
}

/* The end of a result set: another may follow. */
static void mysql_rows_end(struct mysql_state *st, const uint8_t *p, size_t n)
{
    bool deprecate = st->caps_known &&
                     (st->server_caps & st->client_caps & CLIENT_DEPRECATE_EOF);
    uint16_t status = mysql_end_status(p, n, deprecate);
    st->rows = 0;
    st->resp = (status & SERVER_MORE_RESULTS_EXISTS) ? R_FIRST : R_NONE;
}

/* A server packet in the command phase, read as the answer to the last
 * command.  full is the packet's whole payload length (n may be less). */
static void mysql_response(struct det_ctx *ctx, struct mysql_state *st,
                           const uint8_t *p, size_t n, uint32_t full)
{
    struct cursor whole = cursor_init(p, n);
    struct cursor c = whole;
    uint8_t first = cur_u8(&c);
    bool truncated = n < full;
    bool deprecate = st->caps_known &&
                     (st->server_caps & st->client_caps & CLIENT_DEPRECATE_EOF);
    /* 0xfe in a short packet is EOF, or the OK that replaces it */
    bool is_end = first == 0xfe && full < MYSQL_MAX_PAYLOAD && (deprecate || full < 9);
    uint64_t count;
    if (c.bad)
        return;
    switch (st->resp) {
    case R_SIMPLE:
        st->resp = R_NONE;
        break;
    case R_FIRST:
        if (first == 0x00) {
            uint16_t status = mysql_end_status(p, n, true);
            st->resp = (status & SERVER_MORE_RESULTS_EXISTS) ? R_FIRST : R_NONE;
        } else if (first == 0xff) {
            st->resp = R_NONE;
        } else if (first == 0xfb) {
            /* LOCAL INFILE request: the client sends the file, then an OK */
        } else if (!mysql_lenenc(&whole, &count) || count == 0 ||
                   count > MYSQL_MAX_COLUMNS) {
            st->resp = R_NONE;      /* not a column count: stop following */
        } else {
            st->left = (uint32_t)count;
            st->rows = 0;
            st->resp = R_COLDEFS;
            if (st->caps_known &&
                (st->server_caps & st->client_caps & CLIENT_OPTIONAL_RESULTSET_METADATA)) {
                /* metadata_follows: 0 means no column definitions */
                struct cursor m = cursor_init(p, n);
                (void)mysql_lenenc(&m, &count);
                if (cur_u8(&m) == 0 && !m.bad)
                    st->resp = deprecate ? R_ROWS : R_COLS_EOF;
            }
        }
        break;
    case R_COLDEFS:
        if (first == 0xff) {
            st->resp = R_NONE;
            break;
        }
        if (--st->left == 0)
            st->resp = deprecate ? R_ROWS : R_COLS_EOF;
        break;
    case R_COLS_EOF:
        st->resp = R_ROWS;
        if (first == 0xfe && full < 9)
            break;
        /* no EOF: a mid-stream guess was wrong, this is a row (or the end) */
        /* fall through */
    case R_ROWS:
        if (first == 0xff)
            st->resp = R_NONE;
        else if (first == 0xfe && full < MYSQL_MAX_PAYLOAD)
            mysql_rows_end(st, p, n);
        else
            mysql_row(ctx, st, p, n, truncated);
        break;
    case R_PREPARE:
        st->resp = R_NONE;
        if (first == 0x00 && full >= 12) {
            /* COM_STMT_PREPARE_OK: 0x00, 4 statement id, 2 columns,
             * 2 parameters, 1 filler, 2 warnings; then the definitions */
            cur_skip(&c, 4);
            uint32_t cols = cur_le16(&c);
            uint32_t params = cur_le16(&c);
            if (c.bad)
                break;
            st->left = cols + params;
            if (!deprecate)
                st->left += (cols > 0) + (params > 0);
            if (st->left > 0)
                st->resp = R_SKIP;
        }
        break;
    case R_SKIP:
        if (--st->left == 0)
            st->resp = R_NONE;
        break;
    case R_DEFS_EOF:
        if (first == 0xff || is_end)
            st->resp = R_NONE;
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------------ packets */

/* Resynchronising a capture that started mid-session: the first client
 * packet that is clearly a COM_QUERY puts us in the command phase. */
static void mysql_resync(struct det_ctx *ctx, struct mysql_state *st,
                         const uint8_t *pkt, size_t n)
{
    if (!mysql_looks_like_query(pkt, n)) {
        if (++st->resync_pkts >= MYSQL_RESYNC_MAX_PKTS)
            mysql_stop(ctx, st);    /* not the MySQL we know: give up */
        return;
    }
    st->phase = PH_COMMAND;
    /* the server's next bytes answer this query: start its framing afresh,
     * after the bytes the engine still holds from before */
    memset(&st->fr[DIR_TO_CLIENT], 0, sizeof st->fr[DIR_TO_CLIENT]);
    st->fr[DIR_TO_CLIENT].skip = st->init_held;
    mysql_plaintext(ctx, st);
    mysql_emit_session(ctx, st);
}

/* The first payload byte, or 0 for an empty payload (no message starts
 * with 0 where we ask). */
static uint8_t mysql_first_byte(const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    return cur_u8(&c);
}

/* One packet: pkt is its start (header included), n the bytes we have of
 * it (all of it, or MYSQL_PEEK_MAX), full its payload length. */
static void mysql_packet(struct det_ctx *ctx, struct mysql_state *st, enum dir d,
                         const uint8_t *pkt, size_t n, uint32_t full)
{
    struct cursor c = cursor_init(pkt, n);
    cur_skip(&c, 3);
    uint8_t seq = cur_u8(&c);
    const uint8_t *p = cur_ptr(&c);
    size_t plen = cur_left(&c);

    if (d == DIR_TO_CLIENT) {
        switch (st->phase) {
        case PH_INIT:
            if (seq == 0 && mysql_first_byte(p, plen) == 0xff) {
                /* refused before the handshake (host blocked, too many
                 * connections): MySQL in clear, nothing readable */
                mysql_plaintext(ctx, st);
                st->phase = PH_CLOSED;
            } else if (seq == 0 && mysql_parse_greeting(st, &c)) {
                st->phase = PH_GREETED;
                st->greet_pkt = ctx->pkt_no;
                st->greet_ts = ctx->ts_ns;
            } else {
                st->phase = PH_UNSYNCED;
            }
            break;
        case PH_AUTH:
            mysql_server_auth(ctx, st, p, plen);
            break;
        case PH_COMMAND:
            mysql_response(ctx, st, p, plen, full);
            break;
        default:
            break;
        }
        return;
    }

    switch (st->phase) {
    case PH_INIT:
    case PH_UNSYNCED:
        /* the client spoke first: the capture began after the greeting */
        st->phase = PH_UNSYNCED;
        mysql_resync(ctx, st, pkt, n);
        if (st->phase == PH_COMMAND)
            mysql_command(ctx, st, p, plen);
        break;
    case PH_GREETED:
        if (seq == 1)
            mysql_parse_login(ctx, st, p, plen);
        break;
    case PH_AUTH:
        if (seq != 0) {
            mysql_client_auth(ctx, st, p, plen);
            break;
        }
        /* a command: the server said OK where we could not see it */
        mysql_flush_login(ctx, st, true);
        st->phase = PH_COMMAND;
        mysql_command(ctx, st, p, plen);
        break;
    case PH_COMMAND:
        /* packets with another sequence id are LOCAL INFILE data */
        if (seq == 0)
            mysql_command(ctx, st, p, plen);
        break;
    default:
        break;
    }
}

/*
 * Frames one packet of a plain byte stream and hands it on.  Returns the
 * bytes consumed, 0 to wait for more.  A packet up to MYSQL_PEEK_MAX is
 * taken whole; a larger one is handled from its first MYSQL_PEEK_MAX bytes
 * and the rest passed over through fr->skip as it arrives, so what we keep
 * waiting never exceeds MYSQL_PEEK_MAX and a 16 MiB packet costs nothing.
 *
 *   3   payload length, little-endian
 *   1   sequence id
 *   n   payload
 */
static size_t mysql_frame(struct det_ctx *ctx, struct mysql_state *st, enum dir d,
                          struct mysql_framer *fr, const uint8_t *p, size_t n)
{
    if (fr->skip > 0) {
        size_t take = n < fr->skip ? n : fr->skip;
        fr->skip -= (uint32_t)take;
        return take;
    }
    struct cursor c = cursor_init(p, n);
    uint32_t len = cur_le24(&c);
    (void)cur_u8(&c);
    if (c.bad)
        return 0;       /* header not all here yet */
    size_t total = 4 + (size_t)len;
    size_t want = total <= MYSQL_PEEK_MAX ? total : MYSQL_PEEK_MAX;
    if (n < want)
        return 0;       /* wait for the packet (or its first MYSQL_PEEK_MAX bytes) */
    bool continued = fr->cont;
    fr->cont = len == MYSQL_MAX_PAYLOAD;
    fr->skip = (uint32_t)(total - want);
    if (fr->skip > 0 && !continued)
        g_stats.mysql_packet_cut++;
    /* the tail of a payload split over packets is no new message */
    if (!continued)
        mysql_packet(ctx, st, d, p, want, len);
    return want;
}

/* The payload length of the whole packet at q (n bytes there) when the
 * rows' loop takes it: 0 for anything it leaves to mysql_frame(). */
static size_t mysql_row_packet(const uint8_t *q, size_t n)
{
    if (n < 5)
        return 0;
    size_t len = (size_t)q[0] | (size_t)q[1] << 8 | (size_t)q[2] << 16;
    if (len == 0 || 4 + len > MYSQL_PEEK_MAX || 4 + len > n || q[4] == 0xfe || q[4] == 0xff)
        return 0;
    return len;
}

/* Closes the rows' memo lookups; returns the bytes taken. */
static size_t mysql_rows_done(struct secrets_again *again, size_t off)
{
    secrets_again_end(again);
    return off;
}

/*
 * The bulk of a session: the column definitions and rows of a text result
 * set, many to a segment.  Takes whole packets of both as mysql_frame() and
 * mysql_response() would, without their general steps, and stops at
 * anything else (the EOF after the definitions, the end of the result set,
 * an error, an empty packet, a packet cut or still arriving) for them to
 * handle.  Returns the bytes consumed.
 */
static size_t mysql_rows(struct det_ctx *ctx, struct mysql_state *st, const uint8_t *p, size_t n)
{
    const struct mysql_framer *fr = &st->fr[DIR_TO_CLIENT];
    size_t off = 0;
    if (st->phase != PH_COMMAND || (st->resp != R_ROWS && st->resp != R_COLDEFS) ||
        st->compress_on || st->binary || fr->skip != 0 || fr->cont)
        return 0;
    struct secrets_again again;
    mysql_rows_again(&again, ctx);
    bool run = st->resp == R_ROWS && n >= MYSQL_RUN_MIN;
    uint32_t rows = 0;
    if (run && secrets_again_run(&again, p, n, &off, &rows)) {
        /* the same bytes as before: the same rows, stated at once */
        mysql_row_counted(ctx, st);
        st->rows += rows - 1;
        return mysql_rows_done(&again, off);
    }
    while (n - off >= 5) {
        const uint8_t *q = p + off;
        size_t len = mysql_row_packet(q, n - off);
        if (len == 0)
            break;
        if (st->resp == R_COLDEFS) {
            /* a definition: only counted, as mysql_response() does */
            if (--st->left == 0)
                st->resp = st->caps_known && (st->server_caps & st->client_caps &
                                              CLIENT_DEPRECATE_EOF) ? R_ROWS : R_COLS_EOF;
        } else if (st->resp == R_ROWS) {
            rows += mysql_text_row(ctx, st, &again, q + 4, len);
        } else {
            break;      /* the EOF that ends the definitions comes next */
        }
        off += 4 + len;
    }
    if (run)
        secrets_again_run_end(&again, off, rows);
    return mysql_rows_done(&again, off);
}

/* ------------------------------------------------------------------ compression */

/* Drops both inner streams: they resume at the next command. */
static void mysql_inner_lost(struct mysql_state *st)
{
    struct mysql_zstate *z = st->z;
    z->lost = true;
    z->len[0] = z->len[1] = 0;
    memset(z->fr, 0, sizeof z->fr);
    st->resp = R_NONE;
}

/* Parses the whole inner packets of direction d's inner buffer and keeps
 * the incomplete tail. */
static void mysql_inner_feed(struct det_ctx *ctx, struct mysql_state *st, enum dir d)
{
    struct mysql_zstate *z = st->z;
    size_t off = 0;
    while (off < z->len[d] && st->phase != PH_DONE) {
        size_t k = mysql_frame(ctx, st, d, &z->fr[d], z->buf[d] + off, z->len[d] - off);
        if (k == 0)
            break;
        off += k;
    }
    if (st->phase == PH_DONE)
        return;
    memmove(z->buf[d], z->buf[d] + off, z->len[d] - off);
    z->len[d] -= (uint32_t)off;
}

/* Inflates one compressed payload into direction d's inner buffer, at most
 * `room` bytes.  Returns false when the output was cut or is corrupt. */
static bool mysql_inflate(struct mysql_zstate *z, enum dir d, const uint8_t *in,
                          size_t n, uint32_t expect, size_t room)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit(&zs) != Z_OK)
        return false;
    zs.next_in = (Bytef *)(uintptr_t)in;    /* zlib does not write its input */
    zs.avail_in = (uInt)n;
    zs.next_out = z->buf[d] + z->len[d];
    zs.avail_out = (uInt)room;
    int rc = inflate(&zs, Z_SYNC_FLUSH);
    size_t out = room - zs.avail_out;
    inflateEnd(&zs);
    z->len[d] += (uint32_t)out;
    return rc == Z_STREAM_END && out == expect;
}

/*
 * Frames one compressed packet (after the login, when both sides set
 * CLIENT_COMPRESS) and feeds its content to the inner parser.
 *
 *   3   compressed payload length
 *   1   compressed sequence id (0 at each new command)
 *   3   uncompressed length (0: the payload is not compressed)
 *   n   payload: zlib stream, or plain packets
 *
 * The content is a slice of an ordinary packet stream: one compressed
 * packet may hold several packets or part of one.  Returns bytes consumed.
 */
static size_t mysql_compressed(struct det_ctx *ctx, struct mysql_state *st, enum dir d,
                               const uint8_t *p, size_t n)
{
    struct mysql_framer *fr = &st->fr[d];
    if (fr->skip > 0) {
        size_t take = n < fr->skip ? n : fr->skip;
        fr->skip -= (uint32_t)take;
        return take;
    }
    struct cursor c = cursor_init(p, n);
    uint32_t clen = cur_le24(&c);
    uint8_t cseq = cur_u8(&c);
    uint32_t ulen = cur_le24(&c);
    if (c.bad)
        return 0;       /* header not all here yet */
    size_t total = 7 + (size_t)clen;
    size_t want = total <= MYSQL_COMP_MAX ? total : MYSQL_COMP_MAX;
    if (n < want)
        return 0;
    fr->skip = (uint32_t)(total - want);
    if (st->z == NULL) {
        st->z = calloc(1, sizeof *st->z);
        if (st->z == NULL) {
            mysql_stop(ctx, st);    /* no memory: stop reading, keep findings */
            return n;
        }
    }
    struct mysql_zstate *z = st->z;
    if (d == DIR_TO_SERVER && cseq == 0 && z->lost) {
        /* a new command starts a fresh inner stream both ways */
        z->lost = false;
    }
    if (z->lost)
        return want;
    const uint8_t *body = cur_ptr(&c);
    size_t blen = want - 7;
    size_t room = MYSQL_INNER_CAP - z->len[d];
    if (room > MYSQL_INFLATE_MAX)
        room = MYSQL_INFLATE_MAX;
    bool whole;
    if (ulen == 0) {
        size_t k = blen < room ? blen : room;
        memcpy(z->buf[d] + z->len[d], body, k);
        z->len[d] += (uint32_t)k;
        whole = k == blen && want == total;
    } else {
        whole = mysql_inflate(z, d, body, blen, ulen, room) && want == total;
    }
    mysql_inner_feed(ctx, st, d);
    if (!whole && st->phase != PH_DONE)
        mysql_inner_lost(st);   /* part of the inner stream is missing */
    return want;
}

/* ------------------------------------------------------------------ callbacks */

/* MySQL when nDPI says so from the bytes, or when the server's first bytes
 * are a greeting (nDPI 4.2 misses MySQL 8 greetings), on any port; or when
 * the client's first bytes are a clear COM_QUERY (capture began mid-session). */
static bool mysql_wants(const struct flow_view *f)
{
    if (f->transport != 6)
        return false;
    if (flow_dpi_is(f, "MySQL"))
        return true;
    if (f->head[DIR_TO_CLIENT] != NULL &&
        mysql_looks_like_greeting(f->head[DIR_TO_CLIENT], f->head_len[DIR_TO_CLIENT]))
        return true;
    if (f->head[DIR_TO_SERVER] != NULL &&
        mysql_looks_like_query(f->head[DIR_TO_SERVER], f->head_len[DIR_TO_SERVER]))
        return true;
    return false;
}

static size_t mysql_on_data(struct det_ctx *ctx, enum dir d, const uint8_t *p, size_t n)
{
    struct mysql_state *st = ctx->state;
    size_t off = 0;
    if (st->phase == PH_INIT && d == DIR_TO_CLIENT && n >= 5) {
        /* a first server packet that is neither greeting nor error: we
         * joined mid-session and this side's framing is unknown */
        struct cursor c = cursor_init(p, n);
        cur_skip(&c, 3);
        uint8_t seq = cur_u8(&c);
        uint8_t kind = cur_u8(&c);
        if (seq != 0 || (kind != 10 && kind != 0xff))
            st->phase = PH_UNSYNCED;
    }
    while (off < n) {
        if (st->phase == PH_DONE || st->phase == PH_CLOSED)
            return n;   /* nothing more to learn from this flow */
        if (st->phase == PH_UNSYNCED && d == DIR_TO_CLIENT) {
            st->init_held = 0;
            return n;   /* server bytes are unframed until a query resyncs us */
        }
        size_t k;
        if (d == DIR_TO_CLIENT && (k = mysql_rows(ctx, st, p + off, n - off)) > 0) {
            off += k;
            continue;
        }
        if (st->compress_on)
            k = mysql_compressed(ctx, st, d, p + off, n - off);
        else
            k = mysql_frame(ctx, st, d, &st->fr[d], p + off, n - off);
        if (k == 0)
            break;      /* need more */
        off += k;
    }
    if (st->phase == PH_INIT && d == DIR_TO_CLIENT)
        st->init_held = (uint32_t)(n - off);
    return off;
}

/* A gap: the packet boundaries after it are unknown.  State what the login
 * showed and stop, as Zeek's MySQL analyzer does. */
static void mysql_on_gap(struct det_ctx *ctx, enum dir d, uint64_t len)
{
    struct mysql_state *st = ctx->state;
    (void)d;
    (void)len;
    if (st->phase == PH_DONE)
        return;
    mysql_flush_login(ctx, st, false);
    mysql_stop(ctx, st);
}

static void mysql_on_end(struct det_ctx *ctx)
{
    struct mysql_state *st = ctx->state;
    /* a login whose answer we never saw was still readable */
    mysql_flush_login(ctx, st, false);
    /* a greeting and nothing more (a health check) was MySQL in clear */
    if (st->phase == PH_GREETED)
        mysql_plaintext(ctx, st);
    free(st->z);
    st->z = NULL;
}

static const struct rule *const mysql_rules[] = {
    &rule_session,
    &rule_notenf,
    &rule_login,
    &rule_password,
    &rule_query,
    &rule_resultset,
    &rule_tls_required,
};

const struct detector detector_mysql = {
    .name       = "mysql",                  /* protocol name in the report */
    .rules      = mysql_rules,              /* rules this file can fire */
    .nrules     = ARRAY_LEN(mysql_rules),
    .state_size = sizeof(struct mysql_state),
    .wants      = mysql_wants,              /* nDPI verdict, or a greeting on any port */
    .on_data    = mysql_on_data,            /* both directions, packet by packet */
    .on_gap     = mysql_on_gap,             /* flush the login, stop */
    .on_end     = mysql_on_end,             /* flush the login, free the zlib buffers */
};

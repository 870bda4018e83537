/*
 * tds.c - Microsoft SQL Server (TDS 7.x) and Sybase ASE (TDS 4.2/5.0)
 * sessions in clear: the encryption negotiation, the login with its
 * password, SQL batches and RPC calls.
 *
 * Follows [MS-TDS] (Microsoft Open Specifications, "Tabular Data Stream
 * Protocol"): 2.2.3.1.1 packet header, 2.2.6.5 PRELOGIN and its ENCRYPTION
 * negotiation table, 2.2.6.4 LOGIN7, 2.2.6.7 SQL Batch, 2.2.6.6 RPC
 * Request, 2.2.5.3 ALL_HEADERS, 2.2.5.6 TYPE_INFO, and [MC-SMP] for MARS;
 * and the Sybase "TDS 5.0 Functional Specification" for the fixed-width
 * login record and the LANGUAGE token.
 *
 * The negotiation decides everything.  The client's PRELOGIN carries an
 * ENCRYPTION option, the server answers with its own; the outcome is one
 * of: no encryption at all (either side NOT_SUP: even LOGIN7 travels in
 * clear, and its password is only XOR/nibble-swap obfuscated), login only
 * (both OFF: TLS, carried inside PRELOGIN packets, protects LOGIN7 and is
 * dropped right after it, so the rest of the session is in clear), or the
 * whole session in TLS (ON/REQ: we record it and stop).  Sybase has no
 * PRELOGIN: its login record is in clear unless the listener is TLS, which
 * the TLS detector sees.
 *
 * Left out on purpose: TDS 8.0 strict encryption (TLS before any TDS byte:
 * the TLS detector's), the TLS handshake wrapped in PRELOGIN packets (not
 * graded: the TLS detector reads bare records only), NTLM and Kerberos
 * inside SSPI packets, result rows, bulk load, TDS 5.0 dynamic SQL and
 * cursors, and MARS sessions interleaved inside one SMP frame stream (each
 * DATA frame is read on its own).
 */
#include "detector.h"
#include "secrets.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../scanner/cursor.h"
#include "../scanner/limits.h"

/*
 * Packet header, every packet of every message, both directions:
 *
 *   +------+--------+----------------+--------+--------+--------+
 *   | type | status | length (BE 16) | spid   | pkt id | window |
 *   | 1    | 1      | 2, incl. these | 2      | 1      | 1      |
 *   +------+--------+----------------+--------+--------+--------+
 *   A message is one or more packets; the last has status bit EOM.
 */
#define TDS_HDR_LEN         8u
#define TDS_ST_EOM          0x01u
#define TDS_ST_IGNORE       0x02u   /* the client cancels this message */
#define TDS_ST_UNUSED       0xe0u   /* never set by a real stack */

#define TDS_SQL_BATCH       0x01u   /* TDS 7: UTF-16LE text; TDS 4.2: single-byte */
#define TDS_LOGIN5          0x02u   /* TDS 4.2/5.0 login record */
#define TDS_RPC             0x03u
#define TDS_RESPONSE        0x04u   /* server: tabular result, PRELOGIN answer */
#define TDS_ATTENTION       0x06u
#define TDS_BULK            0x07u
#define TDS_FEDAUTH         0x08u
#define TDS_TRANS_MGR       0x0eu
#define TDS_NORMAL5         0x0fu   /* TDS 5.0: tokenised request */
#define TDS_LOGIN7          0x10u
#define TDS_SSPI            0x11u
#define TDS_PRELOGIN        0x12u   /* also carries the TLS handshake */

/* PRELOGIN option tokens and ENCRYPTION values ([MS-TDS] 2.2.6.5). */
#define TDS_PL_VERSION      0x00u
#define TDS_PL_ENCRYPTION   0x01u
#define TDS_PL_TERMINATOR   0xffu
#define TDS_PL_MAX_OPTIONS  16u     /* eight are defined; more is not PRELOGIN */
#define TDS_ENC_OFF         0u
#define TDS_ENC_ON          1u
#define TDS_ENC_NOT_SUP     2u
#define TDS_ENC_REQ         3u
#define TDS_ENC_MASK        0x0fu   /* 0x80 ENCRYPT_CLIENT_CERT rides on ON/REQ */
#define TDS_ENC_UNSEEN      0xffu

/* A client's first PRELOGIN is about 50 bytes; the initial packet size
 * is 4096, so a larger one is not a PRELOGIN. */
#define TDS_PRELOGIN_MAX    4096u
/* LOGIN7 fixed part: up to ibAtchDBFile/cchAtchDBFile (TDS 7.0, 7.1);
 * TDS 7.2+ adds ibChangePassword, cchChangePassword, cbSSPILong. */
#define TDS_LOGIN7_FIXED    86u
#define TDS_LOGIN7_FIXED72  94u
/* LOGIN7's own Length field: the names are at most 128 characters each,
 * so only a large SSPI blob or feature extension makes it longer. */
#define TDS_LOGIN7_MAX      (128u * 1024u)
/* TDS 4.2/5.0 login record: name fields are 30 bytes + a length byte. */
#define TDS5_NAME_LEN       30u
#define TDS5_LOGIN_MIN      130u    /* up to the byte-order bytes */

/* Bytes of a client message kept to parse at its end (LOGIN7, PRELOGIN,
 * RPC): a LOGIN7 without SSPI is well under 1 KiB; an RPC is read from
 * its first bytes.  The server's PRELOGIN answer is about 40 bytes. */
#define TDS_KEEP_CLIENT     4096u
#define TDS_KEEP_SERVER     256u
/* ALL_HEADERS is a few dozen bytes (a query notification header holds two
 * short strings); two characters of text never read as so small a length. */
#define TDS_ALL_HEADERS_MAX 0xffffu
/* Statement text kept for the evidence (the reporter shows 160). */
#define TDS_STMT_KEEP       512u
/* RPC: parameters walked, and text of one string parameter scanned. */
#define TDS_RPC_MAX_PARAMS  64u
#define TDS_PARAM_TEXT      2048u

/* A TLS record (after the handshake the records are bare on TCP):
 * content type, version 3.x, length at most 2^14 + 2048. */
#define TDS_TLS_MAX_RECORD  (16384u + 2048u)
/* [MC-SMP] header: SMID 0x53, flags, SID, length, sequence, window. */
#define TDS_SMP_ID          0x53u
#define TDS_SMP_HDR_LEN     16u
#define TDS_SMP_DATA        0x08u

/* How far the encryption negotiation has come. */
enum tds_mode {
    TDS_M_START = 0,        /* nothing seen yet */
    TDS_M_NEGOTIATING,      /* the client's PRELOGIN seen, the answer not yet */
    TDS_M_CLEAR,            /* no encryption at all */
    TDS_M_LOGIN_TLS,        /* TLS for LOGIN7 only (both sides ENCRYPT_OFF) */
    TDS_M_TLS_UNKNOWN,      /* a TLS handshake went by, the answer was not seen */
};

/* One direction's message being assembled. */
struct tds_msg {
    uint8_t type;           /* packet type of the message's first packet */
    bool open;              /* started, its EOM not seen yet */
    bool ignore;            /* the rest of this message does not interest us */
    bool tls;               /* a PRELOGIN message carrying the TLS handshake */
    uint32_t kept;          /* bytes of it kept in the buffer */
};

struct tds_state {
    struct tds_msg msg[2];
    uint8_t mode;               /* enum tds_mode */
    uint8_t enc_client;         /* the client's ENCRYPTION value, TDS_ENC_UNSEEN */
    bool legacy;                /* a TDS 4.2/5.0 login: single-byte text */
    bool big_endian;            /* TDS 5.0 integers (the login's lint4) */
    bool done;                  /* encrypted or lost: ignore everything */
    bool plaintext;             /* detector_flow_plaintext() was called */
    bool enc_off_emitted;       /* tds.encryption-off stated for this flow */
    bool login_tls_seen;        /* the client's LOGIN7 went by inside TLS */
    /* The statement being streamed (SQL batch, TDS 5.0 LANGUAGE). */
    bool stmt_on;
    bool stmt_wide;             /* UTF-16LE (TDS 7) rather than single-byte */
    bool odd;                   /* a UTF-16 unit split between packets */
    const char *stmt_field;     /* "SQLBatch" or "LANGUAGE" */
    uint8_t odd_byte;
    uint32_t text_skip;         /* ALL_HEADERS bytes still to skip */
    uint32_t lang_left;         /* TDS 5.0 LANGUAGE text bytes still to come */
    uint16_t stmt_len;
    char stmt[TDS_STMT_KEEP];
    uint8_t cbuf[TDS_KEEP_CLIENT];
    uint8_t sbuf[TDS_KEEP_SERVER];
    struct secrets_stream ss;   /* statement text, for the secrets scanner */
};

/*
 * Rules.  One severity per rule: tds.encryption-off is critical for both
 * outcomes it covers.  With NOT_SUP the LOGIN7 password is on the wire,
 * reversible by anyone.  With ENCRYPT_OFF the login itself went through
 * TLS, but every statement and row after it is in clear, and a client
 * content with ENCRYPT_OFF also accepts a NOT_SUP answer: the PRELOGIN is
 * not authenticated, so one byte changed on path makes it send its
 * password obfuscated only.  The credentials are exactly as safe as the
 * network; that is the critical case of FINDINGS.md.
 */
#define TDS_FIX "SQL Server: set Force Encryption (Force Strict Encryption with TDS 8.0) " \
                "with a certificate from the internal CA and connect with Encrypt=True, " \
                "TrustServerCertificate=False.  Sybase ASE: enable SSL on the listener " \
                "and set 'net password encryption reqd'."

static const struct rule rule_encryption_off = {
    .id = "tds.encryption-off",
    .severity = SEV_CRITICAL,
    .title = "MS SQL session negotiated without encryption (PRELOGIN ENCRYPTION off or "
             "not supported)",
    .remediation = TDS_FIX,
    .compliance = COMPLIANCE_CREDENTIALS,
};

static const struct rule rule_login = {
    .id = "tds.cleartext-login",
    .severity = SEV_CRITICAL,
    .title = "MS SQL/Sybase login readable: user name and a password that is at most "
             "trivially obfuscated",
    .remediation = TDS_FIX,
    .compliance = COMPLIANCE_CREDENTIALS,
};

static const struct rule rule_query = {
    .id = "tds.cleartext-query",
    .severity = SEV_HIGH,
    .title = "MS SQL/Sybase statements readable (SQL batches, RPC calls)",
    .remediation = TDS_FIX,
    .compliance = COMPLIANCE_SENSITIVE,
};

/* ------------------------------------------------------------------ helpers */

static void tds_stop(struct det_ctx *ctx, struct tds_state *st)
{
    st->done = true;
    detector_detach(ctx);
}

static void tds_mark_plaintext(struct det_ctx *ctx, struct tds_state *st)
{
    if (st->plaintext)
        return;
    st->plaintext = true;
    detector_flow_plaintext(ctx, "TDS");
}

static const char *tds_enc_name(uint8_t v)
{
    static const char *const names[] = {
        "ENCRYPT_OFF", "ENCRYPT_ON", "ENCRYPT_NOT_SUP", "ENCRYPT_REQ"
    };
    if (v == TDS_ENC_UNSEEN)
        return "none";
    return v < ARRAY_LEN(names) ? names[v] : "unknown";
}

/* Appends text to the NUL-terminated buf of size cap, cutting what does
 * not fit. */
static void tds_append(char *buf, size_t cap, const char *s, size_t n)
{
    size_t used = strnlen(buf, cap);
    if (used + 1 >= cap)
        return;
    size_t room = cap - used - 1;
    size_t k = n < room ? n : room;
    memcpy(buf + used, s, k);
    buf[used + k] = '\0';
}

/* Appends the code point cp to out as UTF-8 if it fits whole. */
static void tds_put_utf8(char *out, size_t cap, size_t *o, uint32_t cp)
{
    char b[4];
    size_t k;
    if (cp < 0x80) {
        b[0] = (char)cp;
        k = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xc0 | cp >> 6);
        b[1] = (char)(0x80 | (cp & 0x3f));
        k = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xe0 | cp >> 12);
        b[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        b[2] = (char)(0x80 | (cp & 0x3f));
        k = 3;
    } else {
        b[0] = (char)(0xf0 | cp >> 18);
        b[1] = (char)(0x80 | (cp >> 12 & 0x3f));
        b[2] = (char)(0x80 | (cp >> 6 & 0x3f));
        b[3] = (char)(0x80 | (cp & 0x3f));
        k = 4;
    }
    if (*o + k >= cap)
        return;
    memcpy(out + *o, b, k);
    *o += k;
}

/* Decodes n bytes of UTF-16LE into UTF-8 in out (cap bytes, always
 * NUL-terminated); an unpaired surrogate becomes '?'.  Returns the length.
 * Names and passwords are shown as the user typed them. */
static size_t tds_utf16_utf8(const uint8_t *p, size_t n, char *out, size_t cap)
{
    struct cursor c = cursor_init(p, n);
    size_t o = 0;
    if (cap == 0)
        return 0;
    while (cur_left(&c) >= 2 && o + 1 < cap) {
        uint32_t u = cur_le16(&c);
        if (u >= 0xd800 && u < 0xdc00 && cur_left(&c) >= 2) {
            struct cursor peek = c;
            uint32_t lo = cur_le16(&peek);
            if (lo >= 0xdc00 && lo < 0xe000) {
                c = peek;
                u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
            } else {
                u = '?';
            }
        } else if (u >= 0xd800 && u < 0xe000) {
            u = '?';
        }
        tds_put_utf8(out, cap, &o, u);
    }
    out[o] = '\0';
    return o;
}

/* One UTF-16 code unit as the ASCII the evidence and the secrets scanner
 * read: non-ASCII becomes '?' (a card number or a key is ASCII anyway). */
static char tds_unit_ascii(uint16_t u)
{
    return u < 0x80 && u != 0 ? (char)u : '?';
}

/* ALL_HEADERS ([MS-TDS] 2.2.5.3), in front of SQL batches and RPC
 * requests from TDS 7.2 on:
 *
 *   +-------------+--------------+-------------+------+ ... +
 *   | TotalLength | HeaderLength | HeaderType  | data | more headers
 *   | LE32        | LE32         | LE16 (1..3) |      |
 *   +-------------+--------------+-------------+------+ ... +
 *
 * TDS 7.0/7.1 send the text straight away.  Text cannot pass for a
 * header: two UTF-16 characters read as TotalLength are >= 0x00200020.
 * Returns the bytes to skip (0: no ALL_HEADERS); p/n is the start of the
 * message. */
static uint32_t tds_all_headers_len(const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    uint32_t total = cur_le32(&c);
    uint32_t first = cur_le32(&c);
    uint16_t type = cur_le16(&c);
    if (c.bad)
        return 0;
    if (total < 10 || total > TDS_ALL_HEADERS_MAX || first < 6 || first > total - 4 ||
        type < 1 || type > 3)
        return 0;
    return total;
}

/* ------------------------------------------------------------ statements */

/* Starts streaming a statement: wide is UTF-16LE text (TDS 7); field
 * names it in the evidence. */
static void tds_stmt_begin(struct tds_state *st, bool wide, const char *field)
{
    st->stmt_on = true;
    st->stmt_field = field;
    st->stmt_wide = wide;
    st->odd = false;
    st->stmt_len = 0;
    st->stmt[0] = '\0';
}

/* The next n bytes of the statement text: kept (bounded) for the
 * evidence and fed to the secrets scanner as ASCII. */
static void tds_stmt_text(struct det_ctx *ctx, struct tds_state *st, const uint8_t *p,
                          size_t n)
{
    struct cursor c = cursor_init(p, n);
    char buf[256];
    size_t k = 0;
    while (cur_left(&c) > 0) {
        char ch;
        if (st->stmt_wide) {
            uint8_t b = cur_u8(&c);
            if (!st->odd) {
                st->odd = true;
                st->odd_byte = b;
                continue;
            }
            st->odd = false;
            ch = tds_unit_ascii((uint16_t)(b << 8 | st->odd_byte));
        } else {
            uint8_t b = cur_u8(&c);
            ch = b != 0 ? (char)b : '?';
        }
        buf[k++] = ch;
        if (st->stmt_len + 1u < sizeof st->stmt) {
            st->stmt[st->stmt_len++] = ch;
            st->stmt[st->stmt_len] = '\0';
        }
        if (k == sizeof buf) {
            secrets_stream_feed(ctx, &st->ss, DIR_TO_SERVER, st->stmt_field,
                                (const uint8_t *)buf, k);
            k = 0;
        }
    }
    if (k > 0)
        secrets_stream_feed(ctx, &st->ss, DIR_TO_SERVER, st->stmt_field,
                                (const uint8_t *)buf, k);
}

/* The statement is complete (or cut): one tds.cleartext-query fact. */
static void tds_stmt_end(struct det_ctx *ctx, struct tds_state *st)
{
    if (!st->stmt_on)
        return;
    st->stmt_on = false;
    secrets_stream_end(ctx, &st->ss, DIR_TO_SERVER, st->stmt_field);
    size_t start = 0;
    while (start < st->stmt_len && (st->stmt[start] == ' ' || st->stmt[start] == '\t' ||
                                    st->stmt[start] == '\r' || st->stmt[start] == '\n'))
        start++;
    if (start == st->stmt_len)
        return;                     /* an empty batch says nothing */
    detector_emit(ctx, &rule_query, DIR_TO_SERVER, st->stmt_field, st->stmt + start,
                  st->stmt_len - start, EV_SQL);
}

/* SQL batch packet ([MS-TDS] 2.2.6.7): [ALL_HEADERS] then the text,
 * UTF-16LE from TDS 7 on, single-byte after a TDS 4.2 login. */
static void tds_batch_packet(struct det_ctx *ctx, struct tds_state *st, bool first,
                             const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    if (first) {
        /* Without a login to tell, UTF-16 shows as a NUL in every second
         * byte of (ASCII) SQL. */
        struct cursor w = cursor_init(p, n);
        cur_skip(&w, 1);
        uint32_t headers = tds_all_headers_len(p, n);
        bool wide = !st->legacy && (n < 2 || cur_u8(&w) == 0 || headers > 0);
        st->text_skip = wide ? headers : 0;
        tds_stmt_begin(st, wide, "SQLBatch");
        tds_mark_plaintext(ctx, st);
    }
    size_t skip = st->text_skip < cur_left(&c) ? st->text_skip : cur_left(&c);
    cur_skip(&c, skip);
    st->text_skip -= (uint32_t)skip;
    tds_stmt_text(ctx, st, cur_ptr(&c), cur_left(&c));
}

/*
 * TDS 5.0 request packet (type 0x0f): tokens.  Only the LANGUAGE token is
 * read, the ad-hoc SQL of Sybase clients:
 *
 *   +------+-----------+--------+------------------------+
 *   | 0x21 | length 4  | status | text (length - 1 bytes) |
 *   +------+-----------+--------+------------------------+
 *   length is in the byte order the login announced (lint4).
 */
#define TDS5_TOKEN_LANGUAGE 0x21u

static void tds_normal5_packet(struct det_ctx *ctx, struct tds_state *st, bool first,
                               const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    if (first) {
        uint8_t token = cur_u8(&c);
        uint32_t len = st->big_endian ? cur_be32(&c) : cur_le32(&c);
        (void)cur_u8(&c);               /* status: parameters follow or not */
        if (c.bad || token != TDS5_TOKEN_LANGUAGE || len < 1) {
            st->msg[DIR_TO_SERVER].ignore = true;
            return;                     /* another token: not a statement */
        }
        st->lang_left = len - 1;
        tds_stmt_begin(st, false, "LANGUAGE");
        tds_mark_plaintext(ctx, st);
    }
    if (!st->stmt_on)
        return;
    size_t k = st->lang_left < cur_left(&c) ? st->lang_left : cur_left(&c);
    tds_stmt_text(ctx, st, cur_ptr(&c), k);
    st->lang_left -= (uint32_t)k;
}

/* ------------------------------------------------------------------ RPC */

/* Well-known procedure ids (ProcIDSwitch, [MS-TDS] 2.2.6.6) and which
 * string parameter carries the statement: 1 = the first, 2 = the second
 * (after the parameter declarations), 0 = none. */
struct tds_proc {
    const char *name;
    uint8_t stmt_param;
};

static const struct tds_proc tds_procs[] = {
    [1] = { "sp_cursor", 0 },
    [2] = { "sp_cursoropen", 1 },
    [3] = { "sp_cursorprepare", 2 },
    [4] = { "sp_cursorexecute", 0 },
    [5] = { "sp_cursorprepexec", 2 },
    [6] = { "sp_cursorunprepare", 0 },
    [7] = { "sp_cursorfetch", 0 },
    [8] = { "sp_cursoroption", 0 },
    [9] = { "sp_cursorclose", 0 },
    [10] = { "sp_executesql", 1 },
    [11] = { "sp_prepare", 2 },
    [12] = { "sp_execute", 0 },
    [13] = { "sp_prepexec", 2 },
    [14] = { "sp_prepexecrpc", 0 },
    [15] = { "sp_unprepare", 0 },
};

/* A string parameter value, read whole or cut to TDS_PARAM_TEXT. */
struct tds_text {
    char s[TDS_PARAM_TEXT];
    size_t n;
};

/* Appends n bytes (UTF-16LE when wide) to t as ASCII. */
static void tds_text_add(struct tds_text *t, const uint8_t *p, size_t n, bool wide)
{
    struct cursor c = cursor_init(p, n);
    while (cur_left(&c) >= (wide ? 2u : 1u) && t->n < sizeof t->s) {
        uint8_t b = cur_u8(&c);
        t->s[t->n++] = wide ? tds_unit_ascii((uint16_t)(cur_u8(&c) << 8 | b))
                            : (b != 0 ? (char)b : '?');
    }
}

/* A PLP value (partially length-prefixed, for the (MAX) types): LE64
 * total (all ones: NULL), then chunks of LE32 length + bytes, a zero
 * length ends them. */
static bool tds_plp(struct cursor *c, struct tds_text *t, bool wide, bool keep)
{
    uint64_t total = cur_le64(c);
    if (c->bad)
        return false;
    if (total == UINT64_MAX)
        return true;                    /* NULL */
    for (;;) {
        uint32_t len = cur_le32(c);
        if (c->bad)
            return false;
        if (len == 0)
            return true;
        const uint8_t *chunk = cur_take(c, len);
        if (chunk == NULL)
            return false;
        if (keep)
            tds_text_add(t, chunk, len, wide);
    }
}

/*
 * One RPC parameter ([MS-TDS] 2.2.6.6 ParameterData):
 *
 *   B_VARCHAR name (1 byte length in characters, UTF-16LE) | status 1 |
 *   TYPE_INFO | value
 *
 * Only the types RPC calls commonly use are walked; any other ends the
 * walk (returns false).  *is_text says whether the value was a string,
 * then in t.
 */
static bool tds_param(struct cursor *c, const uint8_t **name, size_t *name_len,
                      bool *is_text, struct tds_text *t)
{
    uint8_t nlen = cur_u8(c);
    *name = cur_take(c, (size_t)nlen * 2);
    *name_len = (size_t)nlen * 2;
    (void)cur_u8(c);                    /* status: by reference, default */
    uint8_t type = cur_u8(c);
    *is_text = false;
    t->n = 0;
    if (c->bad)
        return false;
    switch (type) {
    case 0x1f:                          /* NULL */
        return true;
    case 0x30: case 0x32:               /* INT1, BIT */
        cur_skip(c, 1);
        return !c->bad;
    case 0x34:                          /* INT2 */
        cur_skip(c, 2);
        return !c->bad;
    case 0x38: case 0x3a: case 0x3b: case 0x7a:   /* INT4, DATETIM4, FLT4, MONEY4 */
        cur_skip(c, 4);
        return !c->bad;
    case 0x3c: case 0x3d: case 0x3e: case 0x7f:   /* MONEY, DATETIME, FLT8, INT8 */
        cur_skip(c, 8);
        return !c->bad;
    case 0x24: case 0x26: case 0x68: case 0x6d: case 0x6e: case 0x6f:
        /* GUID, INTN, BITN, FLTN, MONEYN, DATETIMN: max length, then a
         * one-byte length and the value */
        cur_skip(c, 1);
        cur_skip(c, cur_u8(c));
        return !c->bad;
    case 0x28:                          /* DATEN */
        cur_skip(c, cur_u8(c));
        return !c->bad;
    case 0x29: case 0x2a: case 0x2b:    /* TIMEN, DATETIME2N, DATETIMEOFFSETN: scale */
        cur_skip(c, 1);
        cur_skip(c, cur_u8(c));
        return !c->bad;
    case 0x37: case 0x3f: case 0x6a: case 0x6c:   /* DECIMAL(N), NUMERIC(N) */
        cur_skip(c, 3);                 /* length, precision, scale */
        cur_skip(c, cur_u8(c));
        return !c->bad;
    case 0xa5: case 0xad: {             /* BIGVARBINARY, BIGBINARY */
        uint16_t max = cur_le16(c);
        if (max == 0xffff)
            return tds_plp(c, t, false, false);
        uint16_t len = cur_le16(c);
        if (len != 0xffff)
            cur_skip(c, len);
        return !c->bad;
    }
    case 0xa7: case 0xaf: case 0xe7: case 0xef: {
        /* BIGVARCHAR, BIGCHAR, NVARCHAR, NCHAR: max length, collation (5),
         * then a two-byte length (0xffff: NULL) or, for (MAX), PLP */
        bool wide = type == 0xe7 || type == 0xef;
        uint16_t max = cur_le16(c);
        cur_skip(c, 5);
        if (c->bad)
            return false;
        *is_text = true;
        if (max == 0xffff)
            return tds_plp(c, t, wide, true);
        uint16_t len = cur_le16(c);
        if (len == 0xffff)
            return !c->bad;             /* NULL */
        const uint8_t *v = cur_take(c, len);
        if (v == NULL)
            return false;
        tds_text_add(t, v, len, wide);
        return true;
    }
    default:
        return false;                   /* TEXT, XML, UDT, variants: not walked */
    }
}

/* True when the UTF-16LE name is "@stmt" (any case). */
static bool tds_is_stmt_name(const uint8_t *name, size_t n)
{
    char s[16];
    if (n != 10)
        return false;
    tds_utf16_utf8(name, n, s, sizeof s);
    return strcasecmp(s, "@stmt") == 0;
}

/*
 * RPC request ([MS-TDS] 2.2.6.6), from the kept start of the message:
 *
 *   [ALL_HEADERS] | NameLenProcID LE16 | ProcName (UTF-16LE) or, when
 *   NameLenProcID is 0xffff, ProcID LE16 | OptionFlags LE16 | parameters
 *
 * States the procedure and, for sp_executesql and friends, the statement
 * it runs; string parameters go through the secrets scanner.
 */
static void tds_rpc(struct det_ctx *ctx, const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    cur_skip(&c, tds_all_headers_len(p, n));
    uint16_t name_len = cur_le16(&c);
    char name[128] = "";
    uint8_t stmt_param = 0;
    if (name_len == 0xffff) {
        uint16_t id = cur_le16(&c);
        if (id < ARRAY_LEN(tds_procs) && tds_procs[id].name != NULL) {
            snprintf(name, sizeof name, "%s", tds_procs[id].name);
            stmt_param = tds_procs[id].stmt_param;
        } else {
            snprintf(name, sizeof name, "procedure id %u", (unsigned)id);
        }
    } else {
        const uint8_t *pn = name_len <= 128 ? cur_take(&c, (size_t)name_len * 2) : NULL;
        if (pn == NULL)
            return;                     /* a name longer than sysname: not RPC */
        tds_utf16_utf8(pn, (size_t)name_len * 2, name, sizeof name);
        for (size_t i = 0; i < ARRAY_LEN(tds_procs); i++)
            if (tds_procs[i].name != NULL && strcasecmp(name, tds_procs[i].name) == 0)
                stmt_param = tds_procs[i].stmt_param;
    }
    (void)cur_le16(&c);                 /* option flags */
    if (c.bad)
        return;

    struct tds_text t;
    char stmt[TDS_STMT_KEEP] = "";
    unsigned strings = 0;
    for (unsigned i = 0; i < TDS_RPC_MAX_PARAMS && cur_left(&c) > 0; i++) {
        const uint8_t *pname;
        size_t pname_len;
        bool is_text;
        if (!tds_param(&c, &pname, &pname_len, &is_text, &t))
            break;
        if (!is_text)
            continue;
        strings++;
        secrets_scan(ctx, DIR_TO_SERVER, "RPC parameter", (const uint8_t *)t.s, t.n);
        if (stmt[0] == '\0' && t.n > 0 &&
            (tds_is_stmt_name(pname, pname_len) || strings == stmt_param)) {
            size_t k = t.n < sizeof stmt - 1 ? t.n : sizeof stmt - 1;
            memcpy(stmt, t.s, k);
            stmt[k] = '\0';
        }
    }
    if (stmt[0] != '\0') {
        char field[48] = "RPC ";
        tds_append(field, sizeof field, name, strlen(name));
        detector_emit(ctx, &rule_query, DIR_TO_SERVER, field, stmt, strlen(stmt), EV_SQL);
    } else {
        detector_emit(ctx, &rule_query, DIR_TO_SERVER, "RPC", name, strlen(name), EV_TEXT);
    }
}

/* ------------------------------------------------------------ PRELOGIN */

/*
 * PRELOGIN payload ([MS-TDS] 2.2.6.5), both directions:
 *
 *   option list: token 1 | offset BE16 | length BE16, ..., 0xff
 *   then the option data; offsets count from the payload's start.
 *   VERSION (0x00, 6 bytes) comes first; ENCRYPTION (0x01) is 1 byte.
 *
 * Returns false when the list is not well formed; *enc is the
 * ENCRYPTION value (masked) or TDS_ENC_UNSEEN.
 */
static bool tds_prelogin_options(const uint8_t *p, size_t n, uint8_t *enc)
{
    struct cursor c = cursor_init(p, n);
    *enc = TDS_ENC_UNSEEN;
    for (unsigned i = 0; i <= TDS_PL_MAX_OPTIONS; i++) {
        uint8_t token = cur_u8(&c);
        if (c.bad)
            return false;
        if (token == TDS_PL_TERMINATOR)
            return i > 0;
        uint16_t off = cur_be16(&c);
        uint16_t len = cur_be16(&c);
        if (c.bad || (size_t)off + len > n || (i == 0 && token != TDS_PL_VERSION))
            return false;
        if (token == TDS_PL_VERSION && len != 6)
            return false;
        if (token == TDS_PL_ENCRYPTION) {
            struct cursor v = cursor_init(p, n);
            cur_skip(&v, off);
            uint8_t value = cur_u8(&v);
            if (len != 1 || v.bad || (value & TDS_ENC_MASK) > TDS_ENC_REQ)
                return false;
            *enc = value & TDS_ENC_MASK;
        }
    }
    return false;                       /* no terminator within the options allowed */
}

/* The client's PRELOGIN: remember what it asked for. */
static void tds_client_prelogin(struct det_ctx *ctx, struct tds_state *st,
                                const uint8_t *p, size_t n)
{
    uint8_t enc;
    if (!tds_prelogin_options(p, n, &enc)) {
        tds_stop(ctx, st);              /* a PRELOGIN type without options: not TDS */
        return;
    }
    st->enc_client = enc;
    st->mode = TDS_M_NEGOTIATING;
}

/* States tds.encryption-off once per flow, with the negotiation. */
static void tds_emit_encryption_off(struct det_ctx *ctx, struct tds_state *st,
                                    const char *field, const char *text)
{
    if (st->enc_off_emitted)
        return;
    st->enc_off_emitted = true;
    detector_emit(ctx, &rule_encryption_off, DIR_TO_CLIENT, field, text, strlen(text),
                  EV_TEXT);
}

/*
 * The server's PRELOGIN answer decides the session ([MS-TDS] 2.2.6.5):
 *
 *   client \ server  OFF          ON/REQ        NOT_SUP
 *   OFF              login only   TLS           none
 *   ON/REQ           TLS          TLS           terminated
 *   NOT_SUP          none         terminated    none
 *   (absent)         login only   TLS           none
 */
static void tds_server_prelogin(struct det_ctx *ctx, struct tds_state *st,
                                const uint8_t *p, size_t n)
{
    uint8_t srv;
    if (!tds_prelogin_options(p, n, &srv)) {
        tds_stop(ctx, st);              /* not the answer TDS gives */
        return;
    }
    uint8_t cli = st->enc_client;
    bool cli_wants = cli == TDS_ENC_ON || cli == TDS_ENC_REQ;
    char text[96];
    snprintf(text, sizeof text, "client=%s server=%s", tds_enc_name(cli), tds_enc_name(srv));

    if (srv == TDS_ENC_ON || srv == TDS_ENC_REQ) {
        st->done = true;
        if (cli == TDS_ENC_NOT_SUP)
            detector_detach(ctx);       /* the server hangs up on this client */
        else
            detector_flow_encrypted(ctx);
        return;
    }
    if ((srv == TDS_ENC_NOT_SUP || srv == TDS_ENC_UNSEEN) && cli_wants) {
        tds_stop(ctx, st);              /* the client hangs up: nothing was sent */
        return;
    }
    if (srv == TDS_ENC_OFF && cli_wants) {
        st->mode = TDS_M_TLS_UNKNOWN;   /* off the table: the TLS records will tell */
        return;
    }
    if (srv == TDS_ENC_NOT_SUP || srv == TDS_ENC_UNSEEN || cli == TDS_ENC_NOT_SUP) {
        st->mode = TDS_M_CLEAR;
        tds_append(text, sizeof text, ": no encryption, LOGIN7 in clear", 32);
    } else {
        st->mode = TDS_M_LOGIN_TLS;
        tds_append(text, sizeof text, ": only the login encrypted", 26);
    }
    tds_mark_plaintext(ctx, st);
    tds_emit_encryption_off(ctx, st, "PRELOGIN", text);
}

/* -------------------------------------------------------------- LOGIN7 */

/* One offset/length pair of LOGIN7: the field's bytes (cch UTF-16
 * characters at offset ib from the start of the login record), or NULL
 * when it lies outside what we kept. */
static const uint8_t *tds_login7_field(const uint8_t *p, size_t n, size_t at, size_t *len)
{
    struct cursor c = cursor_init(p, n);
    cur_skip(&c, at);
    uint16_t ib = cur_le16(&c);
    uint16_t cch = cur_le16(&c);
    *len = (size_t)cch * 2;
    if (c.bad || cch == 0)
        return NULL;
    struct cursor f = cursor_init(p, n);
    cur_skip(&f, ib);
    return cur_take(&f, *len);
}

/* Appends " key=value" (UTF-16LE value) to text. */
static void tds_login7_text(char *text, size_t cap, const char *key, const uint8_t *p,
                            size_t n, size_t at)
{
    size_t len;
    const uint8_t *v = tds_login7_field(p, n, at, &len);
    char val[128];
    if (v == NULL)
        return;
    tds_utf16_utf8(v, len, val, sizeof val);
    if (text[0] != '\0')
        tds_append(text, cap, " ", 1);
    tds_append(text, cap, key, strlen(key));
    tds_append(text, cap, "=", 1);
    tds_append(text, cap, val, strlen(val));
}

/* Reverses the LOGIN7 password obfuscation ([MS-TDS] 2.2.6.4): the client
 * swapped the nibbles of every byte, then XORed it with 0xA5.  Emits the
 * result (UTF-8) as a secret. */
static void tds_login7_password(struct det_ctx *ctx, const uint8_t *p, size_t n, size_t at,
                                const char *field)
{
    size_t len;
    const uint8_t *v = tds_login7_field(p, n, at, &len);
    uint8_t clear[256];
    char utf8[384];
    if (v == NULL || len > sizeof clear)
        return;                         /* no password (integrated auth), or not ours */
    struct cursor c = cursor_init(v, len);
    for (size_t i = 0; i < len; i++) {
        uint8_t b = (uint8_t)(cur_u8(&c) ^ 0xa5u);
        clear[i] = (uint8_t)(b << 4 | b >> 4);
    }
    size_t k = tds_utf16_utf8(clear, len, utf8, sizeof utf8);
    detector_emit(ctx, &rule_login, DIR_TO_SERVER, field, utf8, k, EV_SECRET);
}

/*
 * LOGIN7 ([MS-TDS] 2.2.6.4), offsets from the start of the record:
 *
 *    0 Length LE32      4 TDSVersion   8 PacketSize   12 ClientProgVer
 *   16 ClientPID       20 ConnectionID 24 flags (4)   28 TimeZone  32 LCID
 *   36 HostName  40 UserName  44 Password  48 AppName  52 ServerName
 *   56 Extension 60 CltIntName 64 Language 68 Database  (ib LE16, cch LE16)
 *   72 ClientID (6)  78 SSPI (ib, cb)  82 AtchDBFile
 *   86 ChangePassword (7.2+)  90 cbSSPILong (7.2+)
 */
static void tds_login7(struct det_ctx *ctx, struct tds_state *st, const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    uint32_t len = cur_le32(&c);
    uint32_t version = cur_le32(&c);
    if (c.bad || n < TDS_LOGIN7_FIXED || len < TDS_LOGIN7_FIXED) {
        tds_stop(ctx, st);              /* too short for the fixed part: not LOGIN7 */
        return;
    }
    tds_mark_plaintext(ctx, st);
    tds_emit_encryption_off(ctx, st, "LOGIN7", "LOGIN7 sent without encryption");

    char text[256] = "";
    tds_login7_text(text, sizeof text, "user", p, n, 40);
    tds_login7_text(text, sizeof text, "host", p, n, 36);
    tds_login7_text(text, sizeof text, "app", p, n, 48);
    tds_login7_text(text, sizeof text, "server", p, n, 52);
    tds_login7_text(text, sizeof text, "database", p, n, 68);
    char ver[32];
    snprintf(ver, sizeof ver, " tds=%08x", (unsigned)version);
    tds_append(text, sizeof text, ver, strlen(ver));
    detector_emit(ctx, &rule_login, DIR_TO_SERVER, "LOGIN7", text, strlen(text), EV_TEXT);
    tds_login7_password(ctx, p, n, 44, "password");
    if ((version >> 24) >= 0x72 && n >= TDS_LOGIN7_FIXED72)
        tds_login7_password(ctx, p, n, 86, "new-password");
}

/* ------------------------------------------------------- TDS 4.2 / 5.0 */

/* A fixed-width login name: 30 bytes then a length byte. */
static const uint8_t *tds5_name(const uint8_t *p, size_t n, size_t at, size_t *len)
{
    struct cursor c = cursor_init(p, n);
    cur_skip(&c, at);
    const uint8_t *s = cur_take(&c, TDS5_NAME_LEN);
    *len = cur_u8(&c);
    if (c.bad || *len > TDS5_NAME_LEN)
        return NULL;
    return s;
}

/* True for the printable ASCII a login name is made of. */
static bool tds_printable(const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    while (cur_left(&c) > 0) {
        uint8_t b = cur_u8(&c);
        if (b < 0x20 || b > 0x7e)
            return false;
    }
    return true;
}

/*
 * TDS 4.2/5.0 login record (Sybase "TDS 5.0 Functional Specification",
 * the login packet; also MS SQL Server 6.x):
 *
 *     0 hostname[30] len   31 username[30] len   62 password[30] len
 *    93 hostproc[30] len  124 lint2 lint4 lchar lflt ldate lusedb
 *   130 ldmpld, interface spare, type, bufsize[4], spare[3]
 *   140 appname[30] len  171 servername[30] len  202 remote password ...
 *
 * Returns false when the fields are not a login's.
 */
static bool tds5_login_fields(const uint8_t *p, size_t n)
{
    size_t hl, ul, pl, xl;
    const uint8_t *user = tds5_name(p, n, 31, &ul);
    struct cursor c = cursor_init(p, n);
    cur_skip(&c, 124);
    uint8_t lint2 = cur_u8(&c);
    uint8_t lint4 = cur_u8(&c);
    uint8_t lchar = cur_u8(&c);
    return tds5_name(p, n, 0, &hl) != NULL && user != NULL && ul > 0 &&
           tds_printable(user, ul) && tds5_name(p, n, 62, &pl) != NULL &&
           tds5_name(p, n, 93, &xl) != NULL && !c.bad && (lint2 == 2 || lint2 == 3) &&
           lint4 <= 1 && (lchar == 6 || lchar == 7);
}

static void tds5_login(struct det_ctx *ctx, struct tds_state *st, const uint8_t *p, size_t n)
{
    if (!tds5_login_fields(p, n)) {
        tds_stop(ctx, st);              /* a login type with other bytes: not TDS */
        return;
    }
    st->legacy = true;
    struct cursor c = cursor_init(p, n);
    cur_skip(&c, 125);
    st->big_endian = cur_u8(&c) == 0;   /* lint4: 0 big-endian, 1 little-endian */
    tds_mark_plaintext(ctx, st);

    size_t ul, hl, al, pl;
    const uint8_t *user = tds5_name(p, n, 31, &ul);
    const uint8_t *host = tds5_name(p, n, 0, &hl);
    const uint8_t *app = tds5_name(p, n, 140, &al);
    const uint8_t *pass = tds5_name(p, n, 62, &pl);
    char text[160] = "user=";
    tds_append(text, sizeof text, (const char *)user, ul);
    if (host != NULL && hl > 0) {
        tds_append(text, sizeof text, " host=", 6);
        tds_append(text, sizeof text, (const char *)host, hl);
    }
    if (app != NULL && al > 0) {
        tds_append(text, sizeof text, " app=", 5);
        tds_append(text, sizeof text, (const char *)app, al);
    }
    detector_emit(ctx, &rule_login, DIR_TO_SERVER, "login", text, strlen(text), EV_TEXT);
    if (pass != NULL && pl > 0)
        detector_emit(ctx, &rule_login, DIR_TO_SERVER, "password", pass, pl, EV_SECRET);
}

/* ------------------------------------------------------------- framing */

/* Keeps the next bytes of direction d's message, bounded. */
static void tds_keep(struct tds_state *st, enum dir d, const uint8_t *p, size_t n)
{
    struct tds_msg *m = &st->msg[d];
    uint8_t *buf = d == DIR_TO_SERVER ? st->cbuf : st->sbuf;
    size_t cap = d == DIR_TO_SERVER ? sizeof st->cbuf : sizeof st->sbuf;
    size_t room = cap - m->kept;
    size_t k = n < room ? n : room;
    struct cursor c = cursor_init(p, n);
    cur_copy(&c, buf + m->kept, k);
    m->kept += (uint32_t)k;
}

/* True when a PRELOGIN packet carries a TLS handshake record rather than
 * options (the option list starts with token 0x00). */
static bool tds_is_tls_payload(const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    uint8_t type = cur_u8(&c);
    uint8_t major = cur_u8(&c);
    return !c.bad && type >= 0x14 && type <= 0x17 && major == 3;
}

/* A whole client message (kept start) reached its end. */
static void tds_client_message(struct det_ctx *ctx, struct tds_state *st)
{
    struct tds_msg *m = &st->msg[DIR_TO_SERVER];
    switch (m->type) {
    case TDS_PRELOGIN:
        tds_client_prelogin(ctx, st, st->cbuf, m->kept);
        break;
    case TDS_LOGIN7:
        tds_login7(ctx, st, st->cbuf, m->kept);
        break;
    case TDS_LOGIN5:
        tds5_login(ctx, st, st->cbuf, m->kept);
        break;
    case TDS_RPC:
        tds_mark_plaintext(ctx, st);
        tds_rpc(ctx, st->cbuf, m->kept);
        break;
    default:
        break;
    }
}

/* One whole packet of direction d. */
static void tds_packet(struct det_ctx *ctx, struct tds_state *st, enum dir d, uint8_t type,
                       uint8_t status, const uint8_t *p, size_t n)
{
    struct tds_msg *m = &st->msg[d];
    bool first = !m->open;
    bool eom = (status & TDS_ST_EOM) != 0;
    if (first) {
        m->type = type;
        m->open = true;
        m->ignore = false;
        m->kept = 0;
        /* PRELOGIN options start with token 0x00, a TLS record with 0x14-0x17 */
        m->tls = type == TDS_PRELOGIN && tds_is_tls_payload(p, n);
    }

    if (m->tls) {
        /* The TLS handshake, carried in PRELOGIN packets: login only (we
         * know it) or an outcome we did not see. */
        if (st->mode == TDS_M_NEGOTIATING || st->mode == TDS_M_START ||
            st->mode == TDS_M_CLEAR)
            st->mode = TDS_M_TLS_UNKNOWN;
        m->ignore = true;
    } else if (m->ignore || (status & TDS_ST_IGNORE) != 0) {
        m->ignore = true;
    } else if (d == DIR_TO_SERVER) {
        if (first && st->mode == TDS_M_TLS_UNKNOWN && st->login_tls_seen &&
            (m->type == TDS_SQL_BATCH || m->type == TDS_RPC || m->type == TDS_NORMAL5)) {
            /* plain requests after one TLS record: login-only encryption,
             * though we missed the server's answer that chose it */
            st->mode = TDS_M_LOGIN_TLS;
            tds_emit_encryption_off(ctx, st, "requests",
                                    "TLS for the login only, then requests in clear");
        }
        switch (m->type) {
        case TDS_SQL_BATCH:
            tds_batch_packet(ctx, st, first, p, n);
            break;
        case TDS_NORMAL5:
            tds_normal5_packet(ctx, st, first, p, n);
            break;
        case TDS_PRELOGIN: case TDS_LOGIN7: case TDS_LOGIN5: case TDS_RPC:
            tds_keep(st, d, p, n);
            break;
        default:
            m->ignore = true;           /* attention, bulk rows, SSPI...: not read */
            break;
        }
    } else if (m->type == TDS_RESPONSE && st->mode == TDS_M_NEGOTIATING) {
        tds_keep(st, d, p, n);
    }

    if (!eom)
        return;
    m->open = false;
    if (d == DIR_TO_SERVER) {
        if (m->type == TDS_SQL_BATCH || m->type == TDS_NORMAL5)
            tds_stmt_end(ctx, st);
        else if (!m->ignore)
            tds_client_message(ctx, st);
    } else if (m->type == TDS_RESPONSE && st->mode == TDS_M_NEGOTIATING && !m->ignore) {
        tds_server_prelogin(ctx, st, st->sbuf, m->kept);
    }
}

/* Packet types each side sends; anything else means we lost the framing
 * (or this is not TDS). */
static bool tds_type_known(enum dir d, uint8_t type)
{
    if (d == DIR_TO_CLIENT)
        return type == TDS_RESPONSE || type == TDS_PRELOGIN;
    switch (type) {
    case TDS_SQL_BATCH: case TDS_LOGIN5: case TDS_RPC: case TDS_ATTENTION:
    case TDS_BULK: case TDS_FEDAUTH: case TDS_TRANS_MGR: case TDS_NORMAL5:
    case TDS_LOGIN7: case TDS_SSPI: case TDS_PRELOGIN:
        return true;
    default:
        return false;
    }
}

/* The packet header at p: true and its fields when it is a sane one. */
static bool tds_header(enum dir d, const uint8_t *p, size_t n, uint8_t *type,
                       uint8_t *status, uint16_t *len)
{
    struct cursor c = cursor_init(p, n);
    *type = cur_u8(&c);
    *status = cur_u8(&c);
    *len = cur_be16(&c);
    return !c.bad && *len >= TDS_HDR_LEN && (*status & TDS_ST_UNUSED) == 0 &&
           tds_type_known(d, *type);
}

/* Whole TDS packets inside one SMP DATA frame (MARS).  A packet split
 * between frames is not followed. */
static void tds_smp_data(struct det_ctx *ctx, struct tds_state *st, enum dir d,
                         const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    while (cur_left(&c) >= TDS_HDR_LEN && !st->done) {
        uint8_t type, status;
        uint16_t len;
        if (!tds_header(d, cur_ptr(&c), cur_left(&c), &type, &status, &len) ||
            len > cur_left(&c))
            return;
        const uint8_t *pkt = cur_take(&c, len);
        tds_packet(ctx, st, d, type, status, pkt + TDS_HDR_LEN, len - TDS_HDR_LEN);
    }
}

/* [MC-SMP] frame: 0x53 | flags | SID LE16 | length LE32 (incl. the 16-byte
 * header) | sequence LE32 | window LE32; DATA frames carry TDS packets.
 * Returns bytes consumed, 0 to wait. */
static size_t tds_smp(struct det_ctx *ctx, struct tds_state *st, enum dir d,
                      const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    cur_skip(&c, 1);
    uint8_t flags = cur_u8(&c);
    cur_skip(&c, 2);
    uint32_t len = cur_le32(&c);
    if (c.bad)
        return 0;
    if (len < TDS_SMP_HDR_LEN || len > TDS_SMP_HDR_LEN + 0xffffu ||
        (flags != 0x01 && flags != 0x02 && flags != 0x04 && flags != TDS_SMP_DATA)) {
        tds_stop(ctx, st);              /* not an SMP frame: the framing is lost */
        return 0;
    }
    if (n < len)
        return 0;
    if (flags == TDS_SMP_DATA)
        tds_smp_data(ctx, st, d, p + TDS_SMP_HDR_LEN, len - TDS_SMP_HDR_LEN);
    return len;
}

/* A bare TLS record after a handshake carried in PRELOGIN packets.  With
 * login-only encryption the client's first application record is LOGIN7
 * and plain TDS follows; any other application record (a second one from
 * the client, any from the server) means the whole session is TLS. */
static size_t tds_tls_record(struct det_ctx *ctx, struct tds_state *st, enum dir d,
                             const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    uint8_t type = cur_u8(&c);
    cur_skip(&c, 2);
    uint16_t len = cur_be16(&c);
    if (c.bad)
        return 0;
    if (len > TDS_TLS_MAX_RECORD) {
        tds_stop(ctx, st);              /* not a TLS record: the framing is lost */
        return 0;
    }
    if (n < (size_t)len + 5)
        return 0;
    if (type == 0x17) {
        if (d == DIR_TO_SERVER && !st->login_tls_seen) {
            st->login_tls_seen = true;
        } else {
            st->done = true;
            detector_flow_encrypted(ctx);
            return 0;
        }
    }
    return (size_t)len + 5;
}

/* One step of direction d: a TLS record, an SMP frame or a TDS packet.
 * Returns bytes consumed; 0 means "need more" (or done). */
static size_t tds_step(struct det_ctx *ctx, struct tds_state *st, enum dir d,
                       const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    uint8_t b0 = cur_u8(&c);
    uint8_t b1 = cur_u8(&c);
    if (c.bad)
        return 0;
    bool tls_ok = st->mode == TDS_M_LOGIN_TLS || st->mode == TDS_M_TLS_UNKNOWN;
    if (tls_ok && b0 >= 0x14 && b0 <= 0x17 && b1 == 3)
        return tds_tls_record(ctx, st, d, p, n);
    if (b0 == TDS_SMP_ID)
        return tds_smp(ctx, st, d, p, n);

    uint8_t type, status;
    uint16_t len;
    if (!tds_header(d, p, n, &type, &status, &len)) {
        if (n >= 4)
            tds_stop(ctx, st);          /* not a TDS packet: we lost the framing */
        return 0;
    }
    if (n < len)
        return 0;                       /* wait for the whole packet (<= 64 KiB) */
    tds_packet(ctx, st, d, type, status, p + TDS_HDR_LEN, len - TDS_HDR_LEN);
    return st->done ? 0 : len;
}

static void tds_on_start(struct det_ctx *ctx)
{
    struct tds_state *st = ctx->state;
    st->enc_client = TDS_ENC_UNSEEN;
}

static size_t tds_on_data(struct det_ctx *ctx, enum dir d, const uint8_t *p, size_t n)
{
    struct tds_state *st = ctx->state;
    struct cursor c = cursor_init(p, n);
    while (cur_left(&c) > 0 && !st->done) {
        size_t k = tds_step(ctx, st, d, cur_ptr(&c), cur_left(&c));
        if (k == 0)
            break;
        cur_skip(&c, k);
    }
    /* Once encrypted or detached, the rest is not ours to keep. */
    return st->done ? n : c.off;
}

/* The framing is gone after a gap: we never parse across one. */
static void tds_on_gap(struct det_ctx *ctx, enum dir d, uint64_t len)
{
    struct tds_state *st = ctx->state;
    (void)d;
    (void)len;
    if (st->done)
        return;
    tds_stmt_end(ctx, st);          /* readable up to the gap */
    tds_stop(ctx, st);
}

/* A statement cut by the end of the flow was still readable up to there. */
static void tds_on_end(struct det_ctx *ctx)
{
    struct tds_state *st = ctx->state;
    tds_stmt_end(ctx, st);
}

/* ------------------------------------------------------------- wants */

/* The client's first PRELOGIN, whole, with a well-formed option list. */
static bool tds_head_prelogin(const uint8_t *p, size_t n, uint8_t status, uint16_t len)
{
    uint8_t enc;
    if (status != TDS_ST_EOM || len > TDS_PRELOGIN_MAX || n < len)
        return false;
    return tds_prelogin_options(p + TDS_HDR_LEN, len - TDS_HDR_LEN, &enc);
}

/* A LOGIN7 start: its own length agrees with the packet, a TDS 7.x or
 * 8.0 version, the user name inside the record. */
static bool tds_head_login7(const uint8_t *p, size_t n, uint8_t status, uint16_t len)
{
    if (len < TDS_HDR_LEN + TDS_LOGIN7_FIXED || n < TDS_HDR_LEN + TDS_LOGIN7_FIXED)
        return false;
    struct cursor c = cursor_init(p, n);
    cur_skip(&c, TDS_HDR_LEN);
    uint32_t rec = cur_le32(&c);
    uint32_t version = cur_le32(&c);
    cur_skip(&c, 32);
    uint16_t ib_user = cur_le16(&c);
    uint16_t cch_user = cur_le16(&c);
    if (c.bad || rec < TDS_LOGIN7_FIXED || rec > TDS_LOGIN7_MAX)
        return false;
    if ((status & TDS_ST_EOM) && rec != (uint32_t)len - TDS_HDR_LEN)
        return false;
    bool v7 = (version >> 24) >= 0x70 && (version >> 24) <= 0x74;
    return (v7 || version == 0x08000000u) && cch_user <= 128 &&
           (uint32_t)ib_user + (uint32_t)cch_user * 2 <= rec;
}

/* A TDS 4.2/5.0 login record. */
static bool tds_head_login5(const uint8_t *p, size_t n, uint8_t status, uint16_t len)
{
    if (status > TDS_ST_EOM || len < TDS_HDR_LEN + TDS5_LOGIN_MIN ||
        n < TDS_HDR_LEN + TDS5_LOGIN_MIN)
        return false;
    return tds5_login_fields(p + TDS_HDR_LEN, n - TDS_HDR_LEN);
}

/* The client's first bytes open a TDS conversation: a PRELOGIN, a LOGIN7
 * (TDS 7.0 clients skip PRELOGIN) or a TDS 4.2/5.0 login, each checked
 * field by field.  Random bytes pass with negligible chance. */
static bool tds_head_is_start(const uint8_t *p, size_t n)
{
    uint8_t type, status;
    uint16_t len;
    if (!tds_header(DIR_TO_SERVER, p, n, &type, &status, &len))
        return false;
    switch (type) {
    case TDS_PRELOGIN:
        return tds_head_prelogin(p, n, status, len);
    case TDS_LOGIN7:
        return tds_head_login7(p, n, status, len);
    case TDS_LOGIN5:
        return tds_head_login5(p, n, status, len);
    default:
        return false;
    }
}

static bool tds_wants(const struct flow_view *f)
{
    if (f->transport != 6)
        return false;
    if (flow_dpi_is(f, "MsSQL-TDS") || flow_dpi_is(f, "TDS"))
        return true;
    return tds_head_is_start(f->head[DIR_TO_SERVER], f->head_len[DIR_TO_SERVER]);
}

static const struct rule *const tds_rules[] = {
    &rule_encryption_off,
    &rule_login,
    &rule_query,
    &secrets_rule_jwt,          /* the secrets engine runs on statements */
    &secrets_rule_api_key,
    &secrets_rule_private_key,
    &secrets_rule_card,
    &secrets_rule_ssn,
    &secrets_rule_email,
};

const struct detector detector_tds = {
    .name       = "tds",                   /* protocol name in the report */
    .rules      = tds_rules,               /* rules this file can fire */
    .nrules     = ARRAY_LEN(tds_rules),
    .state_size = sizeof(struct tds_state),
    .wants      = tds_wants,               /* nDPI verdict or a TDS opening */
    .on_start   = tds_on_start,
    .on_data    = tds_on_data,
    .on_gap     = tds_on_gap,
    .on_end     = tds_on_end,
};

/*
 * oracle.c - Oracle Net (TNS) sessions without network encryption.
 *
 * TNS packets start with an 8-byte header:
 *
 *   +--------+----------+------+-------+-----------------+
 *   | length | checksum | type | flags | header checksum |
 *   |   2    |    2     |  1   |   1   |        2        |
 *   +--------+----------+------+-------+-----------------+
 *
 * Types: 1 CONNECT, 2 ACCEPT, 4 REFUSE, 5 REDIRECT, 6 DATA, 11 RESEND,
 * 12 MARKER, 15 data descriptor (its data follows, not counted).  From
 * version 315 (Oracle 12c) on, the length takes 4 bytes (the checksum
 * field is gone) once the ACCEPT is sent; a packet checksum other than 0
 * or 4 means the same (Wireshark, packet-tns.c, reads it so).  The CONNECT
 * carries the connect descriptor, "(DESCRIPTION=(CONNECT_DATA=
 * (SERVICE_NAME=..)(CID=(PROGRAM=..)(HOST=..)(USER=..)))(ADDRESS=
 * (PROTOCOL=TCP)..))", in the packet or, when long, in the next DATA
 * packet.  After the ACCEPT, the first DATA packets may carry Advanced
 * Networking Option negotiation (magic 0xDEADBEEF, then services of
 * sub-packets: type 1 authentication, 2 encryption, 3 integrity, 4
 * supervisor); the server's answer to the encryption service names the
 * algorithm chosen, 0 for none.  A session the server accepts without an
 * encryption algorithm is in clear: oracle.cleartext-session (medium),
 * with the descriptor's service, program, host and OS user as evidence.
 * Once in clear, DATA packets go through the secrets engine.  Left out:
 * the TTI/OCI calls themselves (statements and rows are read only by the
 * secrets engine), and TCPS, which is TLS from the first byte
 * (detectors/tls.c reads it).
 */
#include "detector.h"
#include "textline.h"

#include <stdio.h>
#include <string.h>

#include "../scanner/cursor.h"
#include "secrets.h"

#define TNS_HEADER          8u
#define TNS_CONNECT         1u
#define TNS_ACCEPT          2u
#define TNS_REFUSE          4u
#define TNS_REDIRECT        5u
#define TNS_DATA            6u
#define TNS_DD              15u
#define TNS_TYPE_MAX        19u
/* ACCEPT versions from which lengths take 4 bytes (Oracle 12c). */
#define TNS_LARGE_VERSION   315u
/* Versions seen in CONNECT packets: 300 (Oracle 7) to 319 (23ai). */
#define TNS_VERSION_MIN     300u
#define TNS_VERSION_MAX     399u
/* A packet is at most the SDU, 2 MiB since 12c; past it, not TNS. */
#define TNS_PACKET_MAX      (2u * 1024u * 1024u + 64u)
/* The largest packet read whole; a longer one is read from its first
 * bytes (the secrets engine sees those) and the rest is skipped. */
#define TNS_PEEK_MAX        (16u * 1024u)
#define ANO_MAGIC           0xdeadbeefu
#define ANO_ENCRYPTION      2u
#define ANO_MAX_SERVICES    8u
#define ANO_MAX_SUBPACKETS  16u
/* Longest descriptor value kept for the evidence. */
#define ORA_VALUE_MAX       64u

struct ora_state {
    uint32_t skip[2];           /* bytes of an oversized packet still to skip */
    bool large;                 /* ACCEPT version >= 315: 4-byte lengths */
    bool plaintext;             /* detector_flow_plaintext() called */
    bool pending_cd;            /* the descriptor follows the CONNECT in a DATA packet */
    bool accepted;              /* ACCEPT seen */
    bool ano_asked;             /* the client opened an ANO negotiation */
    bool decided;               /* clear or encrypted is known */
    bool tcps;                  /* the descriptor names PROTOCOL=TCPS */
    char connect[4 * (ORA_VALUE_MAX + 16)];   /* "SERVICE_NAME=.. USER=.." */
};

static const struct rule rule_session = {
    .id = "oracle.cleartext-session",
    .severity = SEV_MEDIUM,
    .title = "Oracle database session (TNS) without network encryption",
    .remediation = "Require Oracle native network encryption on the server (sqlnet.ora: "
                   "SQLNET.ENCRYPTION_SERVER = REQUIRED, SQLNET.ENCRYPTION_TYPES_SERVER = "
                   "(AES256), SQLNET.CRYPTO_CHECKSUM_SERVER = REQUIRED), or a TCPS (TLS) "
                   "listener with clients using PROTOCOL=TCPS.",
    .compliance = COMPLIANCE_SENSITIVE,
};

/*
 * The length and type of the packet at p/n.  Returns false when the
 * header is not all here (*bad false) or is not TNS (*bad true).  *total
 * includes the data that follows a data descriptor packet.
 */
static bool tns_header(const uint8_t *p, size_t n, bool large, uint64_t *total,
                       uint8_t *type, bool *bad)
{
    struct cursor c = cursor_init(p, n);
    uint16_t hi = cur_be16(&c);
    uint16_t lo = cur_be16(&c);
    *type = cur_u8(&c);
    *bad = false;
    if (c.bad)
        return false;
    uint32_t len = (!large && (lo == 0 || lo == 4)) ? hi : (uint32_t)hi << 16 | lo;
    if (*type < TNS_CONNECT || *type > TNS_TYPE_MAX || len < TNS_HEADER ||
        len > TNS_PACKET_MAX) {
        *bad = true;
        return false;
    }
    *total = len;
    if (*type == TNS_DD) {
        /* a data descriptor: its data follows, counted at byte 12 */
        cur_skip(&c, 7);
        uint32_t dd = cur_be32(&c);
        if (c.bad)
            return false;
        if (dd > TNS_PACKET_MAX) {
            *bad = true;
            return false;
        }
        *total += dd;
    }
    return true;
}

/* Where "(key=" starts in p/n (any case), or n. */
static size_t ora_find(const uint8_t *p, size_t n, const char *key)
{
    struct cursor c = cursor_init(p, n);
    while (cur_left(&c) > 0) {
        const uint8_t *open = memchr(cur_ptr(&c), '(', cur_left(&c));
        if (open == NULL)
            break;
        cur_skip(&c, (size_t)(open - cur_ptr(&c)));
        if (textline_starts(cur_ptr(&c), cur_left(&c), key))
            return c.off;
        cur_skip(&c, 1);
    }
    return n;
}

/* Appends " KEY=value" for the first "(KEY=value)" of p/n, when there is one. */
static void ora_note(char *out, size_t cap, const uint8_t *p, size_t n, const char *key,
                     const char *label)
{
    size_t at = ora_find(p, n, key);
    if (at == n)
        return;
    struct cursor c = cursor_init(p, n);
    cur_skip(&c, at + strlen(key));
    const uint8_t *v = cur_ptr(&c);
    size_t len = 0;
    while (len < ORA_VALUE_MAX) {
        uint8_t ch = cur_u8(&c);
        if (c.bad || ch == ')' || ch < 0x20 || ch >= 0x7f)
            break;      /* the value ends at ')' (or at bytes no descriptor has) */
        len++;
    }
    size_t o = strlen(out);
    if (len == 0 || o >= cap)
        return;
    snprintf(out + o, cap - o, "%s%s=%.*s", o > 0 ? " " : "", label, (int)len,
             (const char *)v);
}

/* Reads a connect descriptor: the evidence, and whether it asks for TLS. */
static void ora_descriptor(struct det_ctx *ctx, struct ora_state *st, const uint8_t *p,
                           size_t n)
{
    if (!st->plaintext) {
        st->plaintext = true;
        detector_flow_plaintext(ctx, "Oracle TNS");
    }
    st->connect[0] = '\0';
    ora_note(st->connect, sizeof st->connect, p, n, "(SERVICE_NAME=", "SERVICE_NAME");
    ora_note(st->connect, sizeof st->connect, p, n, "(SID=", "SID");
    /* PROGRAM, HOST and USER of the client sit in CID; the ADDRESS has the
     * server's HOST, so read them from CID on */
    size_t cid = ora_find(p, n, "(CID=");
    struct cursor c = cursor_init(p, n);
    cur_skip(&c, cid);
    ora_note(st->connect, sizeof st->connect, cur_ptr(&c), cur_left(&c), "(USER=", "USER");
    ora_note(st->connect, sizeof st->connect, cur_ptr(&c), cur_left(&c), "(PROGRAM=",
             "PROGRAM");
    ora_note(st->connect, sizeof st->connect, cur_ptr(&c), cur_left(&c), "(HOST=", "HOST");
    st->tcps = ora_find(p, n, "(PROTOCOL=TCPS)") < n;
}

/*
 * CONNECT, after the header:
 *   version(2) compatible(2) options(2) SDU(2) TDU(2) protocol(2)
 *   turnaround(2) one(2) data length(2) data offset(2) ...
 * The descriptor sits at data offset (from the packet start), or in the
 * next DATA packet when the CONNECT ends before it.
 */
static void ora_connect(struct det_ctx *ctx, struct ora_state *st, const uint8_t *p,
                        size_t n)
{
    struct cursor c = cursor_init(p, n);
    cur_skip(&c, TNS_HEADER + 16);
    uint16_t cd_len = cur_be16(&c);
    uint16_t cd_off = cur_be16(&c);
    if (c.bad || cd_len == 0)
        return;
    st->decided = false;
    st->accepted = false;
    if (cd_off >= n) {
        st->pending_cd = true;
        return;
    }
    struct cursor d = cursor_init(p, n);
    cur_skip(&d, cd_off);
    size_t len = cur_left(&d) < cd_len ? cur_left(&d) : cd_len;
    ora_descriptor(ctx, st, cur_ptr(&d), len);
}

/* The session is in clear: states it once, with why. */
static void ora_cleartext(struct det_ctx *ctx, struct ora_state *st, const char *why)
{
    if (st->decided)
        return;
    st->decided = true;
    if (st->tcps)
        return;     /* the client asked for TCPS: this is not its session in clear */
    if (st->connect[0] != '\0')
        detector_emit(ctx, &rule_session, DIR_TO_SERVER, "connect_data", st->connect,
                      strlen(st->connect), EV_TEXT);
    detector_emit(ctx, &rule_session, DIR_TO_CLIENT, "encryption", why, strlen(why), EV_TEXT);
}

/*
 * The server's ANO answer (after the DATA flags):
 *   magic 0xDEADBEEF(4) length(2) version(4) services(2) flags(1), then per
 *   service: type(2) sub-packets(2) error(4), and per sub-packet:
 *   length(2) type(2) value(length).
 * Returns the encryption algorithm the server chose (0: none, also when
 * the encryption service is absent), or -1 when the answer is malformed.
 */
static int ora_ano_algorithm(const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    uint32_t magic = cur_be32(&c);
    cur_skip(&c, 2 + 4);
    uint16_t nserv = cur_be16(&c);
    cur_skip(&c, 1);
    if (c.bad || magic != ANO_MAGIC || nserv > ANO_MAX_SERVICES)
        return -1;
    for (unsigned s = 0; s < nserv; s++) {
        uint16_t stype = cur_be16(&c);
        uint16_t nsub = cur_be16(&c);
        cur_skip(&c, 4);
        if (c.bad || nsub > ANO_MAX_SUBPACKETS)
            return -1;
        for (unsigned k = 0; k < nsub; k++) {
            uint16_t len = cur_be16(&c);
            uint16_t type = cur_be16(&c);
            const uint8_t *value = cur_take(&c, len);
            if (value == NULL)
                return -1;
            struct cursor v = cursor_init(value, len);
            /* the first single byte (UB1, type 2) of the encryption
             * service is the algorithm chosen */
            if (stype == ANO_ENCRYPTION && type == 2 && len == 1)
                return cur_u8(&v);
        }
    }
    return 0;
}

/* Whether a DATA payload (after its flags) opens with the ANO magic. */
static bool ora_is_ano(const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    return cur_be32(&c) == ANO_MAGIC && !c.bad;
}

/* A DATA packet: the descriptor that did not fit the CONNECT, the ANO
 * negotiation, or the session's calls. */
static void ora_data(struct det_ctx *ctx, struct ora_state *st, enum dir d, const uint8_t *p,
                     size_t n)
{
    struct cursor c = cursor_init(p, n);
    cur_skip(&c, TNS_HEADER + 2);       /* header, data flags */
    if (c.bad)
        return;
    const uint8_t *body = cur_ptr(&c);
    size_t blen = cur_left(&c);
    if (d == DIR_TO_SERVER && st->pending_cd && !st->accepted) {
        st->pending_cd = false;
        size_t at = ora_find(body, blen, "(");
        cur_skip(&c, at);
        ora_descriptor(ctx, st, cur_ptr(&c), cur_left(&c));
        return;
    }
    if (!st->accepted)
        return;                 /* mid-session capture: no descriptor, no verdict */
    if (!st->decided) {
        bool ano = ora_is_ano(body, blen);
        if (d == DIR_TO_SERVER && !st->ano_asked && ano) {
            st->ano_asked = true;
            return;
        }
        if (d == DIR_TO_CLIENT && st->ano_asked && ano) {
            int alg = ora_ano_algorithm(body, blen);
            if (alg > 0) {
                /* native network encryption from the next packet on */
                st->decided = true;
                detector_flow_encrypted(ctx);
                return;
            }
            ora_cleartext(ctx, st, "ANO negotiated without an encryption algorithm");
            return;
        }
        ora_cleartext(ctx, st, "no Advanced Networking Option negotiation");
    }
    if (!st->tcps)
        secrets_scan(ctx, d, "data", body, blen);
}

/* One packet (or the first TNS_PEEK_MAX bytes of a longer one). */
static void ora_packet(struct det_ctx *ctx, struct ora_state *st, enum dir d, uint8_t type,
                       const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    cur_skip(&c, TNS_HEADER);
    if (type == TNS_CONNECT && d == DIR_TO_SERVER) {
        ora_connect(ctx, st, p, n);
    } else if (type == TNS_ACCEPT && d == DIR_TO_CLIENT) {
        uint16_t version = cur_be16(&c);
        if (c.bad)
            return;
        st->accepted = true;
        st->large = version >= TNS_LARGE_VERSION;
    } else if (type == TNS_DATA) {
        ora_data(ctx, st, d, p, n);
    }
    /* REFUSE and REDIRECT end this connection without a session; RESEND
     * brings the CONNECT again; MARKER and the rest carry nothing to read */
}

static size_t ora_on_data(struct det_ctx *ctx, enum dir d, const uint8_t *p, size_t n)
{
    struct ora_state *st = ctx->state;
    if (st->skip[d] > 0) {
        size_t take = st->skip[d] < n ? st->skip[d] : n;
        st->skip[d] -= (uint32_t)take;
        return take;
    }
    uint64_t total;
    uint8_t type;
    bool bad;
    if (!tns_header(p, n, st->large, &total, &type, &bad)) {
        if (!bad)
            return 0;               /* the header is not all here yet */
        detector_detach(ctx);       /* not (or no longer) TNS: stop */
        return n;
    }
    if (total <= n) {
        ora_packet(ctx, st, d, type, p, (size_t)total);
        return (size_t)total;
    }
    if (n < TNS_PEEK_MAX)
        return 0;                   /* wait for the rest */
    ora_packet(ctx, st, d, type, p, n);
    st->skip[d] = (uint32_t)(total - n);
    return n;
}

static void ora_on_gap(struct det_ctx *ctx, enum dir d, uint64_t len)
{
    (void)d;
    (void)len;
    detector_detach(ctx);           /* framing is lost: never parse across a gap */
}

/* An accepted session whose first DATA packets were not captured: no
 * encryption was negotiated that we saw, and no ANO offer is pending. */
static void ora_on_end(struct det_ctx *ctx)
{
    struct ora_state *st = ctx->state;
    if (st->accepted && !st->decided && !st->ano_asked)
        ora_cleartext(ctx, st, "no Advanced Networking Option negotiation");
}

/* A client's first packet that is a CONNECT of a known version carrying a
 * connect descriptor (in it, or in the packet after it). */
static bool ora_wants(const struct flow_view *f)
{
    if (f->transport != 6)
        return false;
    if (flow_dpi_is(f, "Oracle"))
        return true;
    const uint8_t *p = f->head[DIR_TO_SERVER];
    size_t n = f->head_len[DIR_TO_SERVER];
    uint64_t total;
    uint8_t type;
    bool bad;
    if (p == NULL || !tns_header(p, n, false, &total, &type, &bad) || type != TNS_CONNECT)
        return false;
    struct cursor c = cursor_init(p, n);
    cur_skip(&c, TNS_HEADER);
    uint16_t version = cur_be16(&c);
    uint16_t compat = cur_be16(&c);
    if (c.bad || version < TNS_VERSION_MIN || version > TNS_VERSION_MAX ||
        compat < TNS_VERSION_MIN || compat > version)
        return false;
    return textline_contains(p, n, "(DESCRIPTION=") || textline_contains(p, n, "(CONNECT_DATA=");
}

static const struct rule *const ora_rules[] = {
    &rule_session,
    &secrets_rule_jwt,
    &secrets_rule_api_key,
    &secrets_rule_private_key,
    &secrets_rule_card,
    &secrets_rule_ssn,
    &secrets_rule_email,
};

const struct detector detector_oracle = {
    .name       = "oracle",                 /* protocol name in the report */
    .rules      = ora_rules,                /* rules this file can fire */
    .nrules     = ARRAY_LEN(ora_rules),
    .state_size = sizeof(struct ora_state),
    .wants      = ora_wants,                /* nDPI Oracle, or a CONNECT with a descriptor */
    .on_data    = ora_on_data,              /* whole packets, both directions */
    .on_gap     = ora_on_gap,
    .on_end     = ora_on_end,               /* accepted, nothing more seen */
};

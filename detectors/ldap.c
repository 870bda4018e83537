/*
 * ldap.c - LDAP: simple binds (DN and password in clear), and StartTLS
 * offered but not used.
 *
 * Follows RFC 4511 in BER (X.690: tag, short or long length, value):
 *
 *    30 len                          LDAPMessage SEQUENCE
 *       02 len messageID             INTEGER
 *       60 len                       bindRequest [APPLICATION 0]
 *          02 01 03                  version 3
 *          04 len name               the bind DN
 *          80 len password           simple [0]  (a3: sasl [3])
 *       77 len                       extendedReq [APPLICATION 23]
 *          80 len requestName        1.3.6.1.4.1.1466.20037 = StartTLS (4511 4.14)
 *       78 len                       extendedResp [APPLICATION 24]
 *          0a 01 code ...            resultCode 0 = success: TLS follows
 *       64 len                       searchResEntry [APPLICATION 4]
 *
 * A server offers StartTLS by listing its OID in the root DSE's
 * supportedExtension (RFC 4512 5.1), which clients read with a search.
 * An anonymous bind (empty password, RFC 4513 5.1.1/5.1.2) reveals nothing
 * and is not reported.  Left out: SASL binds (their mechanisms protect or
 * not the password on their own terms), CLDAP over UDP, LDAPS on 636 (TLS
 * from the first byte: detectors/tls.c).
 */
#include "detector.h"
#include "textline.h"

#include <string.h>

#include "../scanner/cursor.h"

/* Largest message read whole; a larger one (a big search result) is passed
 * over by count.  Binds and extended operations are tiny. */
#define LDAP_MSG_MAX        (64u * 1024u)

#define LDAP_STARTTLS_OID   "1.3.6.1.4.1.1466.20037"

enum {
    OP_BIND_REQUEST = 0x60,
    OP_SEARCH_ENTRY = 0x64,
    OP_EXTENDED_REQUEST = 0x77,
    OP_EXTENDED_RESPONSE = 0x78,
};

struct ldap_state {
    uint32_t skip[2];       /* bytes of an oversized message still to pass over */
    bool ldap_seen;
    bool offered;           /* the root DSE listed StartTLS */
    bool requested;         /* the client sent the StartTLS extended request */
    bool not_used_done;
};

static const struct rule rule_simple_bind = {
    .id = "ldap.simple-bind",
    .severity = SEV_CRITICAL,
    .title = "LDAP simple bind: DN and password sent in cleartext",
    .remediation = "Require TLS for binds (LDAPS on 636, or StartTLS before the bind; "
                   "OpenLDAP olcSecurity: simple_bind=128, Active Directory LDAP signing and "
                   "channel binding), and change the exposed passwords.",
    .compliance = COMPLIANCE_CREDENTIALS,
};

/* A BER header: tag and length (short form, or long form of 1-4 bytes). */
static bool ldap_ber(struct cursor *c, uint8_t *tag, uint32_t *len)
{
    *tag = cur_u8(c);
    uint8_t b = cur_u8(c);
    if (c->bad)
        return false;
    if (b < 0x80) {
        *len = b;
        return true;
    }
    uint8_t k = b & 0x7f;
    if (k == 0 || k > 4)
        return false;       /* indefinite length is not allowed in LDAP (4511 5.1) */
    uint32_t v = 0;
    for (uint8_t i = 0; i < k; i++)
        v = v << 8 | cur_u8(c);
    *len = v;
    return !c->bad;
}

/* The operation of one whole message: its tag, and a cursor over its
 * contents.  False when the bytes are not an LDAPMessage. */
static bool ldap_op(const uint8_t *p, size_t n, uint8_t *op, struct cursor *body)
{
    struct cursor c = cursor_init(p, n);
    uint8_t tag;
    uint32_t len;
    if (!ldap_ber(&c, &tag, &len) || tag != 0x30)
        return false;
    if (!ldap_ber(&c, &tag, &len) || tag != 0x02 || len == 0 || len > 4)
        return false;       /* messageID: a small INTEGER */
    cur_skip(&c, len);
    if (!ldap_ber(&c, op, &len))
        return false;
    const uint8_t *b = cur_take(&c, len);
    if (b == NULL)
        return false;
    *body = cursor_init(b, len);
    return true;
}

static void ldap_is_ldap(struct det_ctx *ctx, struct ldap_state *st)
{
    if (st->ldap_seen)
        return;
    st->ldap_seen = true;
    detector_flow_plaintext(ctx, "LDAP");
}

/* bindRequest: version, name, then the authentication choice. */
static void ldap_bind(struct det_ctx *ctx, struct ldap_state *st, struct cursor *c)
{
    uint8_t tag;
    uint32_t len;
    if (!ldap_ber(c, &tag, &len) || tag != 0x02)
        return;
    cur_skip(c, len);
    if (!ldap_ber(c, &tag, &len) || tag != 0x04)
        return;
    const uint8_t *dn = cur_take(c, len);
    size_t dn_len = len;
    if (dn == NULL || !ldap_ber(c, &tag, &len))
        return;
    if (tag != 0x80)
        return;             /* SASL: not a simple bind */
    const uint8_t *pw = cur_take(c, len);
    if (pw == NULL || len == 0)
        return;             /* anonymous or unauthenticated bind: no secret */
    if (st->offered && !st->requested && !st->not_used_done) {
        st->not_used_done = true;
        textline_starttls_not_used(ctx, "LDAP", "StartTLS", (const uint8_t *)"bind", 4);
    }
    detector_emit(ctx, &rule_simple_bind, DIR_TO_SERVER, "dn", dn, dn_len, EV_TEXT);
    detector_emit(ctx, &rule_simple_bind, DIR_TO_SERVER, "password", pw, len, EV_SECRET);
}

/* extendedReq: is it StartTLS? */
static void ldap_extended(struct ldap_state *st, struct cursor *c)
{
    uint8_t tag;
    uint32_t len;
    if (!ldap_ber(c, &tag, &len) || tag != 0x80)
        return;
    const uint8_t *oid = cur_take(c, len);
    if (oid != NULL && len == strlen(LDAP_STARTTLS_OID) &&
        memcmp(oid, LDAP_STARTTLS_OID, len) == 0)
        st->requested = true;
}

static void ldap_message(struct det_ctx *ctx, struct ldap_state *st, enum dir d,
                         const uint8_t *p, size_t n)
{
    uint8_t op;
    struct cursor body;
    if (!ldap_op(p, n, &op, &body))
        return;
    ldap_is_ldap(ctx, st);
    if (d == DIR_TO_SERVER && op == OP_BIND_REQUEST)
        ldap_bind(ctx, st, &body);
    else if (d == DIR_TO_SERVER && op == OP_EXTENDED_REQUEST)
        ldap_extended(st, &body);
    else if (d == DIR_TO_CLIENT && op == OP_SEARCH_ENTRY &&
             textline_contains(cur_ptr(&body), cur_left(&body), LDAP_STARTTLS_OID))
        st->offered = true;
}

static size_t ldap_on_data(struct det_ctx *ctx, enum dir d, const uint8_t *p, size_t n)
{
    struct ldap_state *st = ctx->state;
    if (st->skip[d] > 0) {
        size_t k = n < st->skip[d] ? n : st->skip[d];
        st->skip[d] -= (uint32_t)k;
        return k;
    }
    if (d == DIR_TO_SERVER && textline_is_tls(p, n)) {
        detector_flow_encrypted(ctx);   /* the client started TLS (after StartTLS) */
        return n;
    }
    struct cursor c = cursor_init(p, n);
    uint8_t tag;
    uint32_t len;
    if (!ldap_ber(&c, &tag, &len)) {
        if (c.bad && n < 6)
            return 0;               /* the header is not all here yet */
        detector_detach(ctx);       /* not BER: not LDAP, or lost sync */
        return n;
    }
    if (tag != 0x30) {
        detector_detach(ctx);
        return n;
    }
    size_t total = c.off + (size_t)len;
    if (len > LDAP_MSG_MAX) {
        /* too large to keep: read nothing of it, pass over it */
        st->skip[d] = (uint32_t)(total - (n < total ? n : total));
        return n < total ? n : total;
    }
    if (n < total)
        return 0;                   /* wait for the whole message */
    ldap_message(ctx, st, d, p, total);
    return total;
}

static void ldap_on_gap(struct det_ctx *ctx, enum dir d, uint64_t len)
{
    struct ldap_state *st = ctx->state;
    if (st->skip[d] > 0 && len < st->skip[d]) {
        st->skip[d] -= (uint32_t)len;
        return;
    }
    /* a hole inside a message: BER cannot be resynchronised reliably */
    detector_detach(ctx);
}

static bool ldap_wants(const struct flow_view *f)
{
    if (f->transport != 6)
        return false;
    if (f->by_dpi && f->protocol != NULL && strcmp(f->protocol, "LDAP") == 0)
        return true;
    uint8_t op;
    struct cursor body;
    const uint8_t *h = f->head[DIR_TO_SERVER];
    size_t n = f->head_len[DIR_TO_SERVER];
    if (n == 0)
        return false;
    /* the client's first message is a whole LDAP request */
    if (!ldap_op(h, n, &op, &body))
        return false;
    return op == OP_BIND_REQUEST || op == OP_EXTENDED_REQUEST || op == 0x63 /* search */;
}

static const struct rule *const ldap_rules[] = {
    &rule_simple_bind,
    &textline_rule_starttls_not_used,
};

const struct detector detector_ldap = {
    .name       = "ldap",                   /* protocol name in the report */
    .rules      = ldap_rules,               /* rules this file can fire */
    .nrules     = ARRAY_LEN(ldap_rules),
    .state_size = sizeof(struct ldap_state),
    .wants      = ldap_wants,               /* nDPI LDAP, or an LDAP request first */
    .on_data    = ldap_on_data,             /* one message per call */
    .on_gap     = ldap_on_gap,              /* pass over or stop */
};

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
 *          04 len objectName         the entry's DN
 *          30 len                    attributes
 *             30 len                 one attribute
 *                04 len type         its name ("mail")
 *                31 len              its values, a SET
 *                   04 len value ...
 *
 * A server offers StartTLS by listing its OID in the root DSE's
 * supportedExtension (RFC 4512 5.1), which clients read with a search.
 * An anonymous bind (empty password, RFC 4513 5.1.1/5.1.2) reveals nothing
 * and is not reported.  Search result entries are directory data read in
 * clear: their attribute values go through the secrets and PII scanner,
 * and a flow that returns entries (other than the root DSE) with no simple
 * bind of its own is ldap.cleartext-session, the catalogue's "directory
 * queries" case.  Left out: SASL binds (their mechanisms protect or
 * not the password on their own terms), CLDAP over UDP, LDAPS on 636 (TLS
 * from the first byte: detectors/tls.c).
 */
#include "detector.h"
#include "secrets.h"
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
    bool bound;             /* a simple bind with a password was read */
    bool session_done;      /* ldap.cleartext-session stated */
};

static const struct rule rule_session = {
    .id = "ldap.cleartext-session",
    .severity = SEV_MEDIUM,
    .title = "LDAP directory entries returned in cleartext",
    .remediation = "Require TLS for directory access (LDAPS on 636, or StartTLS; OpenLDAP "
                   "olcSecurity: tls=128, Active Directory LDAP signing), including "
                   "anonymous and service-account searches.",
    .compliance = COMPLIANCE_SENSITIVE,
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

/* The operation of one whole message: its tag, and a cursor over its
 * contents.  False when the bytes are not an LDAPMessage. */
static bool ldap_op(const uint8_t *p, size_t n, uint8_t *op, struct cursor *body)
{
    struct cursor c = cursor_init(p, n);
    uint8_t tag;
    uint32_t len;
    if (!cur_ber(&c, &tag, &len) || tag != 0x30)
        return false;
    if (!cur_ber(&c, &tag, &len) || tag != 0x02 || len == 0 || len > 4)
        return false;       /* messageID: a small INTEGER */
    cur_skip(&c, len);
    if (!cur_ber(&c, op, &len))
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
    if (!cur_ber(c, &tag, &len) || tag != 0x02)
        return;
    cur_skip(c, len);
    if (!cur_ber(c, &tag, &len) || tag != 0x04)
        return;
    const uint8_t *dn = cur_take(c, len);
    size_t dn_len = len;
    if (dn == NULL || !cur_ber(c, &tag, &len))
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
    st->bound = true;
    detector_emit(ctx, &rule_simple_bind, DIR_TO_SERVER, "dn", dn, dn_len, EV_TEXT);
    detector_emit(ctx, &rule_simple_bind, DIR_TO_SERVER, "password", pw, len, EV_SECRET);
}

/* searchResEntry: the DN, then attributes, each a type and a SET of values.
 * The values, each followed by a NUL byte (which ends every pattern, as
 * the end of a value does), go through the scanner in one call; the BER
 * length bytes between them never do. */
static void ldap_search_entry(struct det_ctx *ctx, struct ldap_state *st, struct cursor *c)
{
    static uint8_t joined[LDAP_MSG_MAX + SECRETS_PAD];
    struct secrets_values entry = { joined, LDAP_MSG_MAX, 0 };
    uint8_t tag;
    uint32_t len;
    if (!cur_ber(c, &tag, &len) || tag != 0x04)
        return;
    const uint8_t *dn = cur_take(c, len);
    size_t dn_len = len;
    if (dn == NULL)
        return;
    if (dn_len == 0) {
        /* the root DSE: server facts, not directory data */
        if (textline_contains(cur_ptr(c), cur_left(c), LDAP_STARTTLS_OID))
            st->offered = true;     /* it lists StartTLS */
        return;
    }
    const uint8_t *ap;
    if (!cur_ber(c, &tag, &len) || tag != 0x30 || (ap = cur_take(c, len)) == NULL)
        return;
    struct cursor attrs = cursor_init(ap, len);
    while (cur_left(&attrs) > 0) {
        if (!cur_ber(&attrs, &tag, &len) || tag != 0x30)
            break;
        const uint8_t *a = cur_take(&attrs, len);
        if (a == NULL)
            break;
        struct cursor one = cursor_init(a, len);
        if (!cur_ber(&one, &tag, &len) || tag != 0x04 || cur_take(&one, len) == NULL)
            continue;               /* the attribute's type */
        const uint8_t *vp;
        if (!cur_ber(&one, &tag, &len) || tag != 0x31 || (vp = cur_take(&one, len)) == NULL)
            continue;
        struct cursor vals = cursor_init(vp, len);
        while (cur_left(&vals) > 0) {
            if (!cur_ber(&vals, &tag, &len) || tag != 0x04)
                break;
            const uint8_t *v = cur_take(&vals, len);
            if (v == NULL || !secrets_values_add(&entry, v, len))
                break;
        }
    }
    secrets_scan_values(ctx, DIR_TO_CLIENT, "entry", &entry);
    if (!st->bound && !st->session_done) {
        st->session_done = true;
        detector_emit(ctx, &rule_session, DIR_TO_CLIENT, "dn", dn, dn_len, EV_TEXT);
    }
}

/* extendedReq: is it StartTLS? */
static void ldap_extended(struct ldap_state *st, struct cursor *c)
{
    uint8_t tag;
    uint32_t len;
    if (!cur_ber(c, &tag, &len) || tag != 0x80)
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
    else if (d == DIR_TO_CLIENT && op == OP_SEARCH_ENTRY)
        ldap_search_entry(ctx, st, &body);
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
    if (!cur_ber(&c, &tag, &len)) {
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
    if (flow_dpi_is(f, "LDAP"))
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
    &rule_session,
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

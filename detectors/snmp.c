/*
 * snmp.c - SNMP v1 and v2c: the community string, which is the password,
 * travels in clear in every message.
 *
 * Follows RFC 1157 4.1 (v1 Message), RFC 1901/3416 (v2c: same outer
 * message, version 1) in BER (X.690 8.1: tag, length in short or long
 * form, value):
 *
 *    30 len                 Message SEQUENCE
 *       02 len version      INTEGER: 0 = v1, 1 = v2c, 3 = v3
 *       04 len community    OCTET STRING
 *       a0..a8 len ...      the PDU (get, getnext, response, set, trap...)
 *
 * SNMPv3 (version 3) has no community; its user-based security (RFC 3414)
 * is out of scope here.  One datagram is one message; each is read whole.
 */
#include "detector.h"

#include <string.h>

#include "../scanner/cursor.h"

struct snmp_state {
    bool seen;          /* a v1/v2c message was read */
    bool reported;      /* the community was stated for this flow */
};

static const struct rule rule_community = {
    .id = "snmp.community",
    .severity = SEV_CRITICAL,
    .title = "SNMP v1/v2c community string (the access password) sent in cleartext",
    .remediation = "Move to SNMPv3 with authPriv (SHA and AES), or at least replace default "
                   "communities, restrict them to read-only views and the management hosts' "
                   "addresses.",
    .compliance = COMPLIANCE_CREDENTIALS,
};

/* Reads the message's outer fields; false when it is not a v1/v2c
 * message.  The community is borrowed from p. */
static bool snmp_parse(const uint8_t *p, size_t n, uint32_t *version, const uint8_t **comm,
                       size_t *comm_len)
{
    struct cursor c = cursor_init(p, n);
    uint8_t tag;
    uint32_t len;
    if (!cur_ber(&c, &tag, &len) || tag != 0x30 || len > cur_left(&c))
        return false;
    if (!cur_ber(&c, &tag, &len) || tag != 0x02 || len == 0 || len > 4)
        return false;
    uint32_t v = 0;
    for (uint32_t i = 0; i < len; i++)
        v = v << 8 | cur_u8(&c);
    if (c.bad || (v != 0 && v != 1))
        return false;       /* v3, or not SNMP */
    if (!cur_ber(&c, &tag, &len) || tag != 0x04)
        return false;
    size_t slen = len;
    const uint8_t *s = cur_take(&c, slen);
    if (s == NULL)
        return false;
    if (!cur_ber(&c, &tag, &len) || tag < 0xa0 || tag > 0xa8)
        return false;       /* no PDU after the community: not a message we know */
    *version = v;
    *comm = s;
    *comm_len = slen;
    return true;
}

static size_t snmp_on_data(struct det_ctx *ctx, enum dir d, const uint8_t *p, size_t n)
{
    struct snmp_state *st = ctx->state;
    uint32_t version;
    const uint8_t *comm;
    size_t clen;
    if (!snmp_parse(p, n, &version, &comm, &clen))
        return n;           /* not v1/v2c: nothing to report for this datagram */
    if (!st->seen) {
        st->seen = true;
        detector_flow_plaintext(ctx, "SNMP");
    }
    if (!st->reported) {
        st->reported = true;
        detector_emit(ctx, &rule_community, d, version == 0 ? "community (v1)" :
                      "community (v2c)", comm, clen, EV_SECRET);
    }
    return n;
}

/* UDP to or from the agent (161) or trap (162) port, or nDPI "SNMP"; the
 * first datagram must parse as a v1/v2c message when it is there. */
static bool snmp_wants(const struct flow_view *f)
{
    if (f->transport != 17)
        return false;
    bool named = flow_dpi_is(f, "SNMP");
    bool port = f->server_port == 161 || f->server_port == 162 ||
                f->client_port == 161 || f->client_port == 162;
    if (!named && !port)
        return false;
    for (int d = 0; d < 2; d++) {
        uint32_t v;
        const uint8_t *c;
        size_t cl;
        if (f->head_len[d] > 0 && snmp_parse(f->head[d], f->head_len[d], &v, &c, &cl))
            return true;
    }
    return named;
}

static const struct rule *const snmp_rules[] = {
    &rule_community,
};

const struct detector detector_snmp = {
    .name       = "snmp",                   /* protocol name in the report */
    .rules      = snmp_rules,               /* rules this file can fire */
    .nrules     = ARRAY_LEN(snmp_rules),
    .state_size = sizeof(struct snmp_state),
    .wants      = snmp_wants,               /* UDP 161/162 or nDPI SNMP, v1/v2c message */
    .on_data    = snmp_on_data,             /* one datagram per call */
};

/*
 * elasticsearch.c - the Elasticsearch transport protocol (node-to-node and
 * transport clients, port 9300 by default) in clear.
 *
 * Every message starts with a fixed header (Elasticsearch source,
 * TcpHeader.java):
 *
 *    'E' 'S' | int32 message length (after these 6 bytes) | int64 request id
 *    | status byte (bit 0: response, bit 3: handshake) | int32 version | ...
 *
 * Requests carry the action name ("indices:data/read/search",
 * "internal:tcp/handshake") as a length-prefixed string after a header
 * block whose layout changed between versions; rather than follow every
 * version, the action is taken as the first run of printable bytes of the
 * form prefix:path with a known prefix.  The REST API (HTTP on 9200) is the
 * HTTP detector's.  Documents travel in the message bodies: they go
 * through the secrets and PII scanner, up to ES_PEEK_MAX bytes each.
 */
#include "detector.h"

#include <string.h>

#include "../scanner/cursor.h"
#include "secrets.h"

/* The largest message we take whole; longer ones are read from their first
 * ES_PEEK_MAX bytes and the rest is skipped as it arrives. */
#define ES_PEEK_MAX         (16u * 1024u)
/* No real message is this large: past it the stream is not ES. */
#define ES_MESSAGE_MAX      (512u * 1024u * 1024u)
#define ES_ACTIONS_MAX      4u

struct es_state {
    uint64_t skip[2];           /* bytes of an oversized message still to skip */
    char actions[ES_ACTIONS_MAX][48];
    unsigned nactions;
    bool plaintext;
};

static const struct rule rule_session = {
    .id = "elasticsearch.cleartext-session",
    .severity = SEV_MEDIUM,
    .title = "Elasticsearch transport protocol without TLS",
    .remediation = "Enable xpack.security.transport.ssl with certificates from the internal CA "
                   "(verification_mode: full) on every node and transport client.",
    .compliance = COMPLIANCE_SENSITIVE,
};

/* 'E' 'S' and a length no real message exceeds. */
static bool es_header(const uint8_t *p, size_t n, uint32_t *len)
{
    struct cursor c = cursor_init(p, n);
    uint8_t e = cur_u8(&c);
    uint8_t s = cur_u8(&c);
    *len = cur_be32(&c);
    return !c.bad && e == 'E' && s == 'S' && *len >= 13 && *len <= ES_MESSAGE_MAX;
}

static bool es_wants(const struct flow_view *f)
{
    uint32_t len;
    bool named = flow_dpi_is(f, "Elasticsearch");
    if (f->by_dpi && !named)
        return false;
    return es_header(f->head[DIR_TO_SERVER], f->head_len[DIR_TO_SERVER], &len) || named;
}

static bool es_action_byte(uint8_t b)
{
    return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') ||
           b == ':' || b == '/' || b == '_' || b == '[' || b == ']' || b == '-' || b == '.';
}

/* The action name of a request: the first "internal:", "indices:",
 * "cluster:" (...) word in its bytes, or NULL. */
static const uint8_t *es_action(const uint8_t *p, size_t n, size_t *len)
{
    static const char *const prefixes[] = {
        "internal:", "indices:", "cluster:", "monitor:", "transport:"
    };
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < ARRAY_LEN(prefixes); k++) {
            size_t pl = strlen(prefixes[k]);
            if (n - i < pl || memcmp(p + i, prefixes[k], pl) != 0)
                continue;
            size_t j = i;
            while (j < n && j - i < 47 && es_action_byte(p[j]))
                j++;
            *len = j - i;
            return p + i;
        }
    }
    return NULL;
}

static void es_note_action(struct det_ctx *ctx, struct es_state *st, const uint8_t *a,
                           size_t n)
{
    for (unsigned i = 0; i < st->nactions; i++)
        if (strlen(st->actions[i]) == n && memcmp(st->actions[i], a, n) == 0)
            return;
    if (st->nactions < ES_ACTIONS_MAX) {
        memcpy(st->actions[st->nactions], a, n);
        st->actions[st->nactions][n] = '\0';
        st->nactions++;
    }
    detector_emit(ctx, &rule_session, DIR_TO_SERVER, "action", a, n, EV_TEXT);
}

/* One message (or its first bytes): header, action, secrets in the body. */
static void es_message(struct det_ctx *ctx, struct es_state *st, enum dir d,
                       const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    cur_skip(&c, 6 + 8);
    uint8_t status = cur_u8(&c);
    if (c.bad)
        return;
    if (!st->plaintext) {
        st->plaintext = true;
        detector_flow_plaintext(ctx, "Elasticsearch");
    }
    size_t alen = 0;
    const uint8_t *a = (status & 1) ? NULL : es_action(cur_ptr(&c), cur_left(&c), &alen);
    if (a != NULL && d == DIR_TO_SERVER)
        es_note_action(ctx, st, a, alen);
    else if (st->nactions == 0 && d == DIR_TO_SERVER)
        detector_emit(ctx, &rule_session, DIR_TO_SERVER, "message", NULL, 0, EV_NONE);
    secrets_scan(ctx, d, "message", cur_ptr(&c), cur_left(&c));
}

static size_t es_on_data(struct det_ctx *ctx, enum dir d, const uint8_t *p, size_t n)
{
    struct es_state *st = ctx->state;
    if (st->skip[d] > 0) {
        size_t take = st->skip[d] < n ? (size_t)st->skip[d] : n;
        st->skip[d] -= take;
        return take;
    }
    uint32_t len;
    if (n < 6)
        return 0;
    if (!es_header(p, n, &len)) {
        /* not (or no longer) the transport protocol: stop here */
        detector_detach(ctx);
        return n;
    }
    uint64_t whole = 6ULL + len;
    if (whole <= n) {
        es_message(ctx, st, d, p, (size_t)whole);
        return (size_t)whole;
    }
    if (n < ES_PEEK_MAX)
        return 0;                   /* wait for the rest */
    es_message(ctx, st, d, p, n);
    st->skip[d] = whole - n;
    return n;
}

static void es_on_gap(struct det_ctx *ctx, enum dir d, uint64_t len)
{
    (void)d;
    (void)len;
    detector_detach(ctx);           /* framing is lost: never parse across a gap */
}

static const struct rule *const es_rules[] = {
    &rule_session,
};

const struct detector detector_elasticsearch = {
    .name       = "elasticsearch",          /* protocol name in the report */
    .rules      = es_rules,                 /* rules this file can fire */
    .nrules     = ARRAY_LEN(es_rules),
    .state_size = sizeof(struct es_state),
    .wants      = es_wants,                 /* an "ES" message header on any port */
    .on_data    = es_on_data,               /* whole messages, both directions */
    .on_gap     = es_on_gap,
};

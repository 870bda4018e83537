/*
 * xmpp.c - XMPP: SASL authentication in clear, and STARTTLS offered but
 * not used.
 *
 * Follows RFC 6120: the server's <stream:features> list
 * <starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/> (5.3.1), the client
 * answers <starttls/>, the server <proceed/>, and TLS starts on the same
 * connection (5.4.3.3); authentication is SASL in <auth mechanism='...'>
 * base64</auth> and <response>base64</response> elements (6.4.2).  The
 * stream is read one tag at a time (pieces ending with '>', through
 * detectors/textline.c), which is enough for these few elements: no XML
 * parser, no namespaces beyond the prefixes servers really use.  Left out:
 * XEP-0078 legacy iq:auth, and stanzas (messages) themselves.
 */
#include "detector.h"
#include "textline.h"

#include <string.h>

#include "../scanner/cursor.h"

/* Longest piece (text and one tag) read; SASL responses are short, a
 * longer piece (a big message body) is cut, which loses nothing we read. */
#define XMPP_PIECE_MAX  4096u

struct xmpp_state {
    struct textline_reader rd[2];
    struct textline_sasl sasl;
    bool in_sasl;           /* the text before the next tag is a SASL response */
    bool xmpp_seen;
    bool offered;           /* the features listed starttls */
    bool requested;         /* the client sent <starttls/> */
    bool not_used_done;
};

static const struct rule rule_auth = {
    .id = "xmpp.cleartext-auth",
    .severity = SEV_CRITICAL,
    .title = "XMPP SASL authentication (user name and password) sent in cleartext",
    .remediation = "Make STARTTLS mandatory on the XMPP server (ejabberd starttls_required, "
                   "Prosody c2s_require_encryption) and in clients, and change the exposed "
                   "passwords.",
    .compliance = COMPLIANCE_CREDENTIALS,
};

static void xmpp_is_xmpp(struct det_ctx *ctx, struct xmpp_state *st)
{
    if (st->xmpp_seen)
        return;
    st->xmpp_seen = true;
    detector_flow_plaintext(ctx, "XMPP");
}

/* The value of attribute name='...' or name="..." in a tag. */
static size_t xmpp_attr(const uint8_t *p, size_t n, const char *name, const uint8_t **v)
{
    *v = p;
    size_t k = strlen(name);
    for (size_t i = 0; k + 2 <= n && i <= n - k - 2; i++) {
        if (!textline_starts(p + i, n - i, name) || p[i + k] != '=')
            continue;
        uint8_t q = p[i + k + 1];
        if (q != '\'' && q != '"')
            continue;
        const uint8_t *s = p + i + k + 2;
        const uint8_t *e = memchr(s, q, n - (i + k + 2));
        if (e == NULL)
            return 0;
        *v = s;
        return (size_t)(e - s);
    }
    return 0;
}

/* The text before the tag of a piece (a SASL response's base64). */
static size_t xmpp_text(const struct textline *l)
{
    const uint8_t *lt = memchr(l->p, '<', l->len);
    return lt != NULL ? (size_t)(lt - l->p) : l->len;
}

static void xmpp_client(struct det_ctx *ctx, struct xmpp_state *st, const struct textline *l)
{
    size_t tn = xmpp_text(l);
    if (st->in_sasl) {
        st->in_sasl = false;
        struct textline_sasl_out out;
        if (tn > 0 && textline_sasl_response(&st->sasl, l->p, tn, &out))
            textline_sasl_emit(ctx, &rule_auth, &out);
    }
    const uint8_t *tag = l->p + tn;
    size_t tlen = l->len - tn;
    bool closed = tlen >= 2 && tag[tlen - 2] == '/';
    if (textline_starts(tag, tlen, "<stream:stream")) {
        xmpp_is_xmpp(ctx, st);
    } else if (textline_starts(tag, tlen, "<starttls")) {
        st->requested = true;
    } else if (textline_starts(tag, tlen, "<auth")) {
        const uint8_t *mech = tag;
        size_t mlen = xmpp_attr(tag, tlen, "mechanism", &mech);
        xmpp_is_xmpp(ctx, st);
        if (st->offered && !st->requested && !st->not_used_done) {
            st->not_used_done = true;
            textline_starttls_not_used(ctx, "XMPP", "STARTTLS", (const uint8_t *)"auth", 4);
        }
        textline_sasl_start(&st->sasl, mech, mlen);
        st->in_sasl = !closed;
    } else if (textline_starts(tag, tlen, "<response")) {
        st->in_sasl = !closed && st->sasl.mech != TL_SASL_NONE;
    }
}

static void xmpp_server(struct det_ctx *ctx, struct xmpp_state *st, const struct textline *l)
{
    size_t tn = xmpp_text(l);
    const uint8_t *tag = l->p + tn;
    size_t tlen = l->len - tn;
    if (textline_starts(tag, tlen, "<stream:stream") || textline_starts(tag, tlen, "<?xml"))
        xmpp_is_xmpp(ctx, st);
    else if (textline_starts(tag, tlen, "<starttls") &&
             textline_contains(tag, tlen, "xmpp-tls"))
        st->offered = true;
    else if (textline_starts(tag, tlen, "<success") || textline_starts(tag, tlen, "<failure"))
        st->sasl.mech = TL_SASL_NONE;
}

static size_t xmpp_on_data(struct det_ctx *ctx, enum dir d, const uint8_t *p, size_t n)
{
    struct xmpp_state *st = ctx->state;
    if (d == DIR_TO_SERVER && textline_is_tls(p, n)) {
        detector_flow_encrypted(ctx);   /* the client started TLS (after <proceed/>) */
        return n;
    }
    struct textline l;
    size_t used = textline_next_delim(&st->rd[d], p, n, XMPP_PIECE_MAX, '>', &l);
    if (used == 0 || l.p == NULL)
        return used;
    if (d == DIR_TO_SERVER)
        xmpp_client(ctx, st, &l);
    else
        xmpp_server(ctx, st, &l);
    return used;
}

static void xmpp_on_gap(struct det_ctx *ctx, enum dir d, uint64_t len)
{
    struct xmpp_state *st = ctx->state;
    (void)len;
    st->rd[d].skipping = true;      /* resync after the next '>' */
    if (d == DIR_TO_SERVER)
        st->in_sasl = false;
}

static bool xmpp_wants(const struct flow_view *f)
{
    if (f->transport != 6)
        return false;
    if (flow_dpi_is(f, "Jabber") || flow_dpi_is(f, "XMPP"))
        return true;
    const uint8_t *h = f->head[DIR_TO_SERVER];
    size_t n = f->head_len[DIR_TO_SERVER];
    size_t lim = n < 512 ? n : 512;
    return (textline_starts(h, n, "<?xml") || textline_starts(h, n, "<stream:stream")) &&
           textline_contains(h, lim, "jabber:");
}

static const struct rule *const xmpp_rules[] = {
    &rule_auth,
    &textline_rule_starttls_not_used,
};

const struct detector detector_xmpp = {
    .name       = "xmpp",                   /* protocol name in the report */
    .rules      = xmpp_rules,               /* rules this file can fire */
    .nrules     = ARRAY_LEN(xmpp_rules),
    .state_size = sizeof(struct xmpp_state),
    .wants      = xmpp_wants,               /* nDPI Jabber, or a jabber stream header */
    .on_data    = xmpp_on_data,             /* one tag per call */
    .on_gap     = xmpp_on_gap,              /* resync at the next tag */
};

/*
 * imap.c - IMAP: logins in clear (LOGIN, AUTHENTICATE), and STARTTLS
 * offered but not used.
 *
 * Follows RFC 3501 / RFC 9051: tagged commands ("a1 LOGIN user pass"),
 * arguments as atoms, quoted strings or literals ("{5}" CRLF then 5 raw
 * bytes; "{5+}" is RFC 7888's non-synchronizing form), untagged "*" and
 * continuation "+" replies, the CAPABILITY list (in the greeting's
 * response code or a CAPABILITY reply), STARTTLS (RFC 3501 6.2.1) and
 * AUTHENTICATE with SASL (6.2.2, SASL-IR RFC 4959).  Literals are taken
 * by count in both directions, so a mail body (FETCH, APPEND) is never read
 * as commands; their bytes go through the secrets and PII scanner as a
 * stream, so card numbers, keys or tokens in mail are found.  Left out:
 * IMAPS on port 993 (TLS from the first byte: detectors/tls.c),
 * COMPRESS=DEFLATE (RFC 4978).
 */
#include "detector.h"
#include "secrets.h"
#include "textline.h"

#include <string.h>

#include "../scanner/cursor.h"

/* Longest line read: RFC 7162 4 asks for 8192 octets of command line. */
#define IMAP_LINE_MAX   8192u
/* LOGIN arguments assembled across literals: user and password are short. */
#define IMAP_LOGIN_MAX  512u
/* One user name or password after unquoting. */
#define IMAP_ASTRING_MAX 256u

struct imap_state {
    struct textline_reader rd[2];
    struct textline_sasl sasl;
    uint32_t lit_left[2];       /* literal bytes still to pass over, per direction */
    struct secrets_stream lit_scan[2];  /* literal bytes (mail bodies) through the scanner */
    bool collecting;            /* the client's literal belongs to a LOGIN */
    uint16_t login_len;
    uint8_t login[IMAP_LOGIN_MAX];  /* LOGIN arguments, literals turned into quoted strings */
    bool imap_seen;
    bool offered;               /* CAPABILITY listed STARTTLS */
    bool requested;             /* the client sent STARTTLS */
    bool not_used_done;
};

static const struct rule rule_login = {
    .id = "imap.cleartext-login",
    .severity = SEV_CRITICAL,
    .title = "IMAP login (user name and password or token) sent in cleartext",
    .remediation = "Require TLS for IMAP: IMAPS on port 993, or STARTTLS before any login "
                   "with LOGINDISABLED until then (Dovecot disable_plaintext_auth=yes, "
                   "ssl=required), and change the exposed passwords.",
    .compliance = COMPLIANCE_CREDENTIALS,
};

static void imap_is_imap(struct det_ctx *ctx, struct imap_state *st)
{
    if (st->imap_seen)
        return;
    st->imap_seen = true;
    detector_flow_plaintext(ctx, "IMAP");
}

static void imap_check_not_used(struct det_ctx *ctx, struct imap_state *st,
                                const uint8_t *verb, size_t vlen)
{
    if (!st->offered || st->requested || st->not_used_done)
        return;
    st->not_used_done = true;
    textline_starttls_not_used(ctx, "IMAP", "STARTTLS", verb, vlen);
}

/* The size of a literal announced at the end of a line ("{123}" or
 * "{123+}"), or -1.  *at is where the announcement starts. */
static long imap_literal(const uint8_t *p, size_t n, size_t *at)
{
    if (n < 3 || p[n - 1] != '}')
        return -1;
    size_t i = n - 1;
    if (i > 0 && p[i - 1] == '+')
        i--;
    size_t end = i;
    while (i > 0 && p[i - 1] >= '0' && p[i - 1] <= '9')
        i--;
    if (i == 0 || p[i - 1] != '{' || i == end || end - i > 9)
        return -1;      /* no digits, or a size beyond a billion: not a literal */
    long v = 0;
    for (size_t k = i; k < end; k++)
        v = v * 10 + (p[k] - '0');
    *at = i - 1;
    return v;
}

/* Appends bytes to the LOGIN being assembled (bounded: a longer one is
 * cut, and its parse simply finds less). */
static void imap_login_put(struct imap_state *st, const uint8_t *p, size_t n)
{
    size_t room = IMAP_LOGIN_MAX - st->login_len;
    size_t k = n < room ? n : room;
    memcpy(st->login + st->login_len, p, k);
    st->login_len += (uint16_t)k;
}

/* An astring: atom, or quoted string with \\ and \" escapes.  Writes it
 * unquoted to out (at most cap bytes) and returns its length. */
static size_t imap_astring(struct cursor *c, uint8_t *out, size_t cap)
{
    while (cur_left(c) > 0 && *cur_ptr(c) == ' ')
        cur_skip(c, 1);
    size_t o = 0;
    if (cur_left(c) > 0 && *cur_ptr(c) == '"') {
        cur_skip(c, 1);
        while (cur_left(c) > 0) {
            uint8_t b = cur_u8(c);
            if (b == '"')
                break;
            if (b == '\\' && cur_left(c) > 0)
                b = cur_u8(c);
            if (o < cap)
                out[o++] = b;
        }
        return o;
    }
    while (cur_left(c) > 0 && *cur_ptr(c) != ' ') {
        uint8_t b = cur_u8(c);
        if (o < cap)
            out[o++] = b;
    }
    return o;
}

/* The assembled "user pass" of a LOGIN. */
static void imap_login_done(struct det_ctx *ctx, struct imap_state *st)
{
    uint8_t user[IMAP_ASTRING_MAX], pass[IMAP_ASTRING_MAX];
    struct cursor c = cursor_init(st->login, st->login_len);
    size_t ulen = imap_astring(&c, user, sizeof user);
    size_t plen = imap_astring(&c, pass, sizeof pass);
    st->login_len = 0;
    detector_emit(ctx, &rule_login, DIR_TO_SERVER, "user", user, ulen, EV_TEXT);
    if (plen > 0)
        detector_emit(ctx, &rule_login, DIR_TO_SERVER, "password", pass, plen, EV_SECRET);
}

/* LOGIN arguments (or their continuation after a literal).  A trailing
 * literal announcement is kept for the bytes that follow. */
static void imap_login_args(struct det_ctx *ctx, struct imap_state *st, const uint8_t *p,
                            size_t n)
{
    size_t at;
    long lit = imap_literal(p, n, &at);
    if (lit < 0) {
        imap_login_put(st, p, n);
        imap_login_done(ctx, st);
        st->collecting = false;
        return;
    }
    imap_login_put(st, p, at);
    imap_login_put(st, (const uint8_t *)"\"", 1);
    st->collecting = true;
    st->lit_left[DIR_TO_SERVER] = (uint32_t)lit;
    if (lit == 0)
        imap_login_put(st, (const uint8_t *)"\"", 1);
}

/* One client line: a tagged command, a SASL response, or the rest of a
 * LOGIN after a literal. */
static void imap_command(struct det_ctx *ctx, struct imap_state *st, const struct textline *l)
{
    if (st->collecting) {
        imap_login_args(ctx, st, l->p, l->len);
        return;
    }
    if (st->sasl.mech != TL_SASL_NONE) {
        struct textline_sasl_out out;
        if (textline_sasl_response(&st->sasl, l->p, l->len, &out))
            textline_sasl_emit(ctx, &rule_login, &out);
        return;
    }
    struct cursor c = cursor_init(l->p, l->len);
    const uint8_t *tag, *verb, *rest;
    size_t tlen = textline_word(&c, &tag);
    size_t vlen = textline_word(&c, &verb);
    struct cursor args = c;
    size_t rlen = textline_rest(&c, &rest);
    size_t at;
    long lit = imap_literal(l->p, l->len, &at);
    if (tlen == 0 || vlen == 0)
        return;
    if (textline_is(verb, vlen, "LOGIN")) {
        imap_is_imap(ctx, st);
        imap_check_not_used(ctx, st, verb, vlen);
        st->login_len = 0;
        imap_login_args(ctx, st, rest, rlen);
        return;
    }
    if (lit >= 0)
        st->lit_left[DIR_TO_SERVER] = (uint32_t)lit;    /* APPEND and the like */
    if (textline_is(verb, vlen, "AUTHENTICATE")) {
        const uint8_t *mech, *ir;
        size_t mlen = textline_word(&args, &mech);
        size_t irlen = textline_word(&args, &ir);
        imap_is_imap(ctx, st);
        imap_check_not_used(ctx, st, verb, vlen);
        textline_sasl_start(&st->sasl, mech, mlen);
        struct textline_sasl_out out;
        if (irlen > 0 && textline_sasl_response(&st->sasl, ir, irlen, &out))
            textline_sasl_emit(ctx, &rule_login, &out);
    } else if (textline_is(verb, vlen, "STARTTLS")) {
        st->requested = true;
    } else if (textline_is(verb, vlen, "CAPABILITY")) {
        imap_is_imap(ctx, st);
    }
}

/* One server line: capabilities, the end of an AUTHENTICATE, literals. */
static void imap_reply(struct det_ctx *ctx, struct imap_state *st, const struct textline *l)
{
    struct cursor c = cursor_init(l->p, l->len);
    const uint8_t *tag, *status;
    size_t tlen = textline_word(&c, &tag);
    size_t slen = textline_word(&c, &status);
    size_t at;
    long lit = imap_literal(l->p, l->len, &at);
    if (lit >= 0)
        st->lit_left[DIR_TO_CLIENT] = (uint32_t)lit;    /* FETCH bodies */
    if (tlen == 1 && tag[0] == '*') {
        if (textline_is(status, slen, "OK") || textline_is(status, slen, "PREAUTH") ||
            textline_is(status, slen, "CAPABILITY"))
            imap_is_imap(ctx, st);
        if (textline_contains(l->p, l->len, "CAPABILITY") &&
            textline_contains(l->p, l->len, " STARTTLS"))
            st->offered = true;
        return;
    }
    if (tlen == 1 && tag[0] == '+')
        return;         /* continuation: the client's response follows */
    /* a tagged completion ends any SASL exchange in progress */
    if (textline_is(status, slen, "OK") || textline_is(status, slen, "NO") ||
        textline_is(status, slen, "BAD"))
        st->sasl.mech = TL_SASL_NONE;
}

/* Scans (or, for a LOGIN, keeps) literal bytes: a FETCH answer or an
 * APPEND carries a mail, which goes through the secrets scanner whole. */
static size_t imap_literal_bytes(struct det_ctx *ctx, struct imap_state *st, enum dir d,
                                 const uint8_t *p, size_t n)
{
    size_t k = n < st->lit_left[d] ? n : st->lit_left[d];
    if (!(d == DIR_TO_SERVER && st->collecting)) {
        secrets_stream_feed(ctx, &st->lit_scan[d], d, "mail", p, k);
        if (k == st->lit_left[d])
            secrets_stream_end(ctx, &st->lit_scan[d], d, "mail");
    }
    if (d == DIR_TO_SERVER && st->collecting) {
        for (size_t i = 0; i < k; i++) {
            if (p[i] == '"' || p[i] == '\\')
                imap_login_put(st, (const uint8_t *)"\\", 1);
            imap_login_put(st, p + i, 1);
        }
        if (k == st->lit_left[d])
            imap_login_put(st, (const uint8_t *)"\"", 1);
    }
    st->lit_left[d] -= (uint32_t)k;
    return k;
}

static size_t imap_on_data(struct det_ctx *ctx, enum dir d, const uint8_t *p, size_t n)
{
    struct imap_state *st = ctx->state;
    if (st->lit_left[d] > 0)
        return imap_literal_bytes(ctx, st, d, p, n);
    if (d == DIR_TO_SERVER && textline_is_tls(p, n)) {
        detector_flow_encrypted(ctx);   /* the client started TLS (after STARTTLS) */
        return n;
    }
    struct textline l;
    size_t used = textline_next(&st->rd[d], p, n, IMAP_LINE_MAX, &l);
    if (used == 0 || l.p == NULL)
        return used;
    if (d == DIR_TO_SERVER)
        imap_command(ctx, st, &l);
    else
        imap_reply(ctx, st, &l);
    return used;
}

static void imap_on_gap(struct det_ctx *ctx, enum dir d, uint64_t len)
{
    struct imap_state *st = ctx->state;
    /* inside a literal the hole just shortens it; elsewhere resync at the
     * next line end */
    if (st->lit_left[d] > 0 && len < st->lit_left[d]) {
        st->lit_left[d] -= (uint32_t)len;
        secrets_stream_end(ctx, &st->lit_scan[d], d, "mail");  /* no match across it */
        return;
    }
    if (st->lit_left[d] > 0)
        secrets_stream_end(ctx, &st->lit_scan[d], d, "mail");
    st->lit_left[d] = 0;
    st->rd[d].skipping = true;
    if (d == DIR_TO_SERVER)
        st->collecting = false;
}

/* A literal cut by the end of the capture: decide its last bytes. */
static void imap_on_end(struct det_ctx *ctx)
{
    struct imap_state *st = ctx->state;
    for (int d = 0; d < 2; d++)
        if (st->lit_left[d] > 0)
            secrets_stream_end(ctx, &st->lit_scan[d], (enum dir)d, "mail");
}

/* nDPI "IMAP", or the usual port with an untagged greeting. */
static bool imap_wants(const struct flow_view *f)
{
    if (f->transport != 6)
        return false;
    if (flow_dpi_is(f, "IMAP"))
        return true;
    const uint8_t *s = f->head[DIR_TO_CLIENT];
    size_t sn = f->head_len[DIR_TO_CLIENT];
    return f->server_port == 143 &&
           (textline_starts(s, sn, "* OK") || textline_starts(s, sn, "* PREAUTH"));
}

static const struct rule *const imap_rules[] = {
    &rule_login,
    &textline_rule_starttls_not_used,
};

const struct detector detector_imap = {
    .name       = "imap",                   /* protocol name in the report */
    .rules      = imap_rules,               /* rules this file can fire */
    .nrules     = ARRAY_LEN(imap_rules),
    .state_size = sizeof(struct imap_state),
    .wants      = imap_wants,               /* nDPI IMAP, or "* OK" on port 143 */
    .on_data    = imap_on_data,             /* one line or one literal per call */
    .on_gap     = imap_on_gap,              /* shorten a literal, or resync at a line */
    .on_end     = imap_on_end,              /* the scanner's held bytes of a literal */
};

/*
 * pop3.c - POP3: logins in clear (USER/PASS, APOP, AUTH), and STLS offered
 * but not used.
 *
 * Follows RFC 1939 (USER, PASS, APOP; "+OK"/"-ERR" replies; multi-line
 * replies ended by a line holding only "."), RFC 2449 (CAPA), RFC 2595 4
 * (STLS) and RFC 5034 (AUTH with SASL, "+ " continuations).  Lines come
 * from detectors/textline.c, SASL decoding too.  The mail itself (RETR,
 * TOP) streams through the secrets and PII scanner, dot-unstuffed, so card
 * numbers, keys or tokens in fetched mail are found; commands a client
 * pipelines are matched to their replies in order.  Left out:
 * POP3S on port 995 (TLS from the first byte: detectors/tls.c).
 */
#include "detector.h"
#include "secrets.h"
#include "textline.h"

#include <string.h>

#include "../scanner/cursor.h"

/* Longest line read (RFC 2449 4: 512 octets for commands, 512 for
 * replies; mail lines can be longer and are cut, which loses nothing). */
#define POP3_LINE_MAX   1024u

/* What the next "+OK" opens. */
enum pop3_multi {
    MULTI_NONE = 0,     /* a one-line reply */
    MULTI_CAPA,         /* the capability list: look for STLS */
    MULTI_SKIP,         /* a listing: pass over to "." */
    MULTI_MAIL,         /* a message (RETR, TOP): streamed to the scanner */
};

/* Commands sent and not answered yet (a client may pipeline, RFC 2449 6.6):
 * the reply to each says what its "+OK" opens. */
#define POP3_PENDING    16u

struct pop3_state {
    struct textline_reader rd[2];
    struct textline_sasl sasl;
    uint8_t pending[POP3_PENDING];  /* enum pop3_multi of each unanswered command */
    uint8_t npending;
    uint8_t in_multi;       /* enum pop3_multi being read */
    struct secrets_stream mail;     /* the message being read */
    bool pop3_seen;
    bool offered;           /* CAPA listed STLS */
    bool requested;         /* the client sent STLS */
    bool not_used_done;
};

static const struct rule rule_login = {
    .id = "pop3.cleartext-login",
    .severity = SEV_CRITICAL,
    .title = "POP3 login (user name and password or token) sent in cleartext",
    .remediation = "Require TLS for POP3: POP3S on port 995, or STLS before any login with "
                   "plaintext logins refused (Dovecot disable_plaintext_auth=yes, "
                   "ssl=required), and change the exposed passwords.",
    .compliance = COMPLIANCE_CREDENTIALS,
};

static void pop3_is_pop3(struct det_ctx *ctx, struct pop3_state *st)
{
    if (st->pop3_seen)
        return;
    st->pop3_seen = true;
    detector_flow_plaintext(ctx, "POP3");
}

static void pop3_check_not_used(struct det_ctx *ctx, struct pop3_state *st,
                                const struct textline *l)
{
    if (!st->offered || st->requested || st->not_used_done)
        return;
    st->not_used_done = true;
    textline_starttls_not_used(ctx, "POP3", "STLS", l->p, l->len);
}

/* A command sent: its reply comes after those of the commands before it. */
static void pop3_push(struct pop3_state *st, uint8_t multi)
{
    if (st->npending == POP3_PENDING) {
        /* more unanswered than any client pipelines: forget the oldest */
        memmove(st->pending, st->pending + 1, POP3_PENDING - 1);
        st->npending--;
    }
    st->pending[st->npending++] = multi;
}

/* A status reply: it answers the oldest unanswered command. */
static uint8_t pop3_pop(struct pop3_state *st)
{
    if (st->npending == 0)
        return MULTI_NONE;      /* the greeting, or a command we did not see */
    uint8_t multi = st->pending[0];
    memmove(st->pending, st->pending + 1, --st->npending);
    return multi;
}

/* One client line: a command, or a SASL response while AUTH runs. */
static void pop3_command(struct det_ctx *ctx, struct pop3_state *st, const struct textline *l)
{
    struct textline_sasl_out out;
    if (st->sasl.mech != TL_SASL_NONE) {
        if (textline_sasl_response(&st->sasl, l->p, l->len, &out))
            textline_sasl_emit(ctx, &rule_login, &out);
        return;
    }
    struct cursor c = cursor_init(l->p, l->len);
    const uint8_t *verb, *arg;
    size_t vlen = textline_word(&c, &verb);
    uint8_t multi = MULTI_NONE;
    if (textline_is(verb, vlen, "USER")) {
        size_t alen = textline_rest(&c, &arg);
        pop3_is_pop3(ctx, st);
        pop3_check_not_used(ctx, st, l);
        detector_emit(ctx, &rule_login, DIR_TO_SERVER, "user", arg, alen, EV_TEXT);
    } else if (textline_is(verb, vlen, "PASS")) {
        size_t alen = textline_rest(&c, &arg);
        pop3_is_pop3(ctx, st);
        pop3_check_not_used(ctx, st, l);
        if (alen > 0)
            detector_emit(ctx, &rule_login, DIR_TO_SERVER, "password", arg, alen, EV_SECRET);
    } else if (textline_is(verb, vlen, "APOP")) {
        /* APOP name digest: MD5(timestamp + password), crackable offline */
        const uint8_t *digest;
        size_t alen = textline_word(&c, &arg);
        size_t dlen = textline_word(&c, &digest);
        pop3_is_pop3(ctx, st);
        pop3_check_not_used(ctx, st, l);
        detector_emit(ctx, &rule_login, DIR_TO_SERVER, "user", arg, alen, EV_TEXT);
        if (dlen > 0)
            detector_emit(ctx, &rule_login, DIR_TO_SERVER, "apop-digest", digest, dlen,
                          EV_SECRET);
    } else if (textline_is(verb, vlen, "AUTH")) {
        const uint8_t *ir;
        size_t mlen = textline_word(&c, &arg);
        size_t irlen = textline_word(&c, &ir);
        if (mlen == 0) {
            pop3_push(st, MULTI_SKIP);     /* "AUTH" alone lists the mechanisms */
            return;
        }
        pop3_is_pop3(ctx, st);
        pop3_check_not_used(ctx, st, l);
        textline_sasl_start(&st->sasl, arg, mlen);
        if (irlen > 0 && textline_sasl_response(&st->sasl, ir, irlen, &out))
            textline_sasl_emit(ctx, &rule_login, &out);
    } else if (textline_is(verb, vlen, "STLS")) {
        st->requested = true;
    } else if (textline_is(verb, vlen, "CAPA")) {
        multi = MULTI_CAPA;
    } else if (textline_is(verb, vlen, "RETR") || textline_is(verb, vlen, "TOP")) {
        multi = MULTI_MAIL;
    } else if (textline_is(verb, vlen, "LIST") || textline_is(verb, vlen, "UIDL")) {
        const uint8_t *msg;
        /* with a message number the reply is one line */
        multi = textline_word(&c, &msg) == 0 ? MULTI_SKIP : MULTI_NONE;
    }
    pop3_push(st, multi);
}

/* One server line. */
static void pop3_reply(struct det_ctx *ctx, struct pop3_state *st, const struct textline *l)
{
    if (st->in_multi != MULTI_NONE) {
        if (l->len == 1 && l->p[0] == '.') {
            if (st->in_multi == MULTI_MAIL)
                secrets_stream_end(ctx, &st->mail, DIR_TO_CLIENT, "mail");
            st->in_multi = MULTI_NONE;
            return;
        }
        if (st->in_multi == MULTI_CAPA && textline_is(l->p, l->len, "STLS")) {
            st->offered = true;
        } else if (st->in_multi == MULTI_MAIL) {
            /* the message as one text (a key's lines together), dot-unstuffed */
            size_t cut = l->len >= 2 && l->p[0] == '.' && l->p[1] == '.';
            secrets_stream_feed(ctx, &st->mail, DIR_TO_CLIENT, "mail", l->p + cut,
                                l->len - cut);
            secrets_stream_feed(ctx, &st->mail, DIR_TO_CLIENT, "mail",
                                (const uint8_t *)"\n", 1);
        }
        return;
    }
    if (textline_starts(l->p, l->len, "+OK")) {
        pop3_is_pop3(ctx, st);
        st->in_multi = pop3_pop(st);
    } else if (textline_starts(l->p, l->len, "-ERR")) {
        pop3_is_pop3(ctx, st);
        (void)pop3_pop(st);
        st->sasl.mech = TL_SASL_NONE;   /* a refused AUTH ends the exchange */
    }
}

static size_t pop3_on_data(struct det_ctx *ctx, enum dir d, const uint8_t *p, size_t n)
{
    struct pop3_state *st = ctx->state;
    if (d == DIR_TO_SERVER && textline_is_tls(p, n)) {
        detector_flow_encrypted(ctx);   /* the client started TLS (after STLS) */
        return n;
    }
    struct textline l;
    size_t used = textline_next(&st->rd[d], p, n, POP3_LINE_MAX, &l);
    if (used == 0 || l.p == NULL)
        return used;
    if (d == DIR_TO_SERVER)
        pop3_command(ctx, st, &l);
    else
        pop3_reply(ctx, st, &l);
    return used;
}

static void pop3_on_gap(struct det_ctx *ctx, enum dir d, uint64_t len)
{
    struct pop3_state *st = ctx->state;
    (void)len;
    st->rd[d].skipping = true;      /* read on from the next line end */
    if (d == DIR_TO_CLIENT && st->in_multi == MULTI_MAIL)
        secrets_stream_end(ctx, &st->mail, DIR_TO_CLIENT, "mail");   /* nothing across it */
}

/* A message cut by the end of the capture: decide its last bytes. */
static void pop3_on_end(struct det_ctx *ctx)
{
    struct pop3_state *st = ctx->state;
    if (st->in_multi == MULTI_MAIL)
        secrets_stream_end(ctx, &st->mail, DIR_TO_CLIENT, "mail");
}

/* nDPI "POP3", or the usual port with a "+OK" greeting. */
static bool pop3_wants(const struct flow_view *f)
{
    if (f->transport != 6)
        return false;
    if (flow_dpi_is(f, "POP3"))
        return true;
    const uint8_t *s = f->head[DIR_TO_CLIENT];
    size_t sn = f->head_len[DIR_TO_CLIENT];
    return f->server_port == 110 && textline_starts(s, sn, "+OK");
}

static const struct rule *const pop3_rules[] = {
    &rule_login,
    &textline_rule_starttls_not_used,
};

const struct detector detector_pop3 = {
    .name       = "pop3",                   /* protocol name in the report */
    .rules      = pop3_rules,               /* rules this file can fire */
    .nrules     = ARRAY_LEN(pop3_rules),
    .state_size = sizeof(struct pop3_state),
    .wants      = pop3_wants,               /* nDPI POP3, or +OK on port 110 */
    .on_data    = pop3_on_data,             /* one line per call */
    .on_gap     = pop3_on_gap,              /* resync at the next line */
    .on_end     = pop3_on_end,              /* the scanner's held bytes of a message */
};

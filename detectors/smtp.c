/*
 * smtp.c - SMTP: authentication in clear (AUTH PLAIN, LOGIN, XOAUTH2,
 * CRAM-MD5), mail carried in clear, and STARTTLS offered but not used.
 *
 * Follows RFC 5321 (commands, three-digit replies, "250-" continuation
 * lines, DATA ended by a line holding only "."), RFC 3207 (STARTTLS, reply
 * 220, then the TLS handshake), RFC 4954 (AUTH with SASL, "334"
 * challenges) and RFC 3030 (BDAT chunks, passed over by count).  Lines come
 * from detectors/textline.c, SASL decoding too.  Left out: SMTPS on port
 * 465 (TLS from the first byte: detectors/tls.c).  The envelope and every
 * line of a message sent in clear go through the secrets and PII scanner
 * (detectors/secrets.c), one line at a time.  smtp.cleartext-session is
 * stated for a flow's mail only when no AUTH of that flow was readable
 * (the catalogue keeps it for mail in clear with no more specific finding).
 */
#include "detector.h"
#include "secrets.h"
#include "textline.h"

#include <stdio.h>
#include <string.h>

#include "../scanner/cursor.h"

/* Longest line read: RFC 5321 4.5.3.1.4 (command line 512 octets) and
 * 4.5.3.1.6 (text line 1000 octets); a longer one is cut. */
#define SMTP_LINE_MAX   1024u
/* The sender kept for the evidence of a mail transaction. */
#define SMTP_FROM_MAX   128u

struct smtp_state {
    struct textline_reader rd[2];
    struct textline_sasl sasl;
    uint32_t bdat_left;         /* BDAT chunk bytes still to pass over */
    bool smtp_seen;
    bool data_asked;            /* the client sent DATA */
    bool in_data;               /* the message is being sent (after 354) */
    bool offered;               /* the EHLO reply listed STARTTLS */
    bool requested;             /* the client sent STARTTLS */
    bool not_used_done;
    bool session_done;          /* smtp.cleartext-session stated, or not needed */
    char from[SMTP_FROM_MAX];   /* MAIL FROM argument */
};

static const struct rule rule_auth = {
    .id = "smtp.cleartext-auth",
    .severity = SEV_CRITICAL,
    .title = "SMTP authentication (user name and password or token) sent in cleartext",
    .remediation = "Offer AUTH only after STARTTLS (Postfix smtpd_tls_auth_only=yes, Exim "
                   "auth_advertise_hosts restricted to TLS), use port 465 or STARTTLS on "
                   "587 in clients, and change the exposed passwords.",
    .compliance = COMPLIANCE_CREDENTIALS,
};

static const struct rule rule_session = {
    .id = "smtp.cleartext-session",
    .severity = SEV_MEDIUM,
    .title = "Mail sent over SMTP in cleartext (sender, recipients and message readable)",
    .remediation = "Enable STARTTLS on the server and require it from clients and relays "
                   "(Postfix smtp_tls_security_level=encrypt for known peers, MTA-STS or "
                   "DANE for the internet).",
    .compliance = COMPLIANCE_SENSITIVE,
};

static void smtp_is_smtp(struct det_ctx *ctx, struct smtp_state *st)
{
    if (st->smtp_seen)
        return;
    st->smtp_seen = true;
    detector_flow_plaintext(ctx, "SMTP");
}

static void smtp_check_not_used(struct det_ctx *ctx, struct smtp_state *st,
                                const struct textline *l)
{
    if (!st->offered || st->requested || st->not_used_done)
        return;
    st->not_used_done = true;
    textline_starttls_not_used(ctx, "SMTP", "STARTTLS", l->p, l->len);
}

/* A BDAT chunk size: "BDAT 1234 [LAST]". */
static uint32_t smtp_bdat_size(struct cursor *c)
{
    const uint8_t *w;
    size_t n = textline_word(c, &w);
    uint32_t v = 0;
    for (size_t i = 0; i < n && i < 9; i++) {
        if (w[i] < '0' || w[i] > '9')
            return 0;
        v = v * 10 + (uint32_t)(w[i] - '0');
    }
    return v;
}

/* A readable AUTH exchange: the more specific finding.  The catalogue keeps
 * smtp.cleartext-session for mail in clear without one, so this flow's
 * mail is not stated again (its content still goes through the scanner). */
static void smtp_auth_seen(struct det_ctx *ctx, struct smtp_state *st,
                           const struct textline_sasl_out *out)
{
    textline_sasl_emit(ctx, &rule_auth, out);
    if (out->user.len > 0 || out->secret.len > 0)
        st->session_done = true;
}

/* One client line: a command, a SASL response, or a line of the message. */
static void smtp_command(struct det_ctx *ctx, struct smtp_state *st, const struct textline *l)
{
    if (st->in_data) {
        if (l->len == 1 && l->p[0] == '.')
            st->in_data = false;    /* end of the message */
        else
            secrets_scan(ctx, DIR_TO_SERVER, "mail", l->p, l->len);
        return;
    }
    if (st->sasl.mech != TL_SASL_NONE) {
        struct textline_sasl_out out;
        if (textline_sasl_response(&st->sasl, l->p, l->len, &out))
            smtp_auth_seen(ctx, st, &out);
        return;
    }
    struct cursor c = cursor_init(l->p, l->len);
    const uint8_t *verb, *arg;
    size_t vlen = textline_word(&c, &verb);
    struct cursor args = c;
    if (textline_is(verb, vlen, "EHLO") || textline_is(verb, vlen, "HELO")) {
        smtp_is_smtp(ctx, st);
    } else if (textline_is(verb, vlen, "AUTH")) {
        const uint8_t *ir;
        size_t mlen = textline_word(&c, &arg);
        size_t irlen = textline_word(&c, &ir);
        smtp_is_smtp(ctx, st);
        smtp_check_not_used(ctx, st, l);
        textline_sasl_start(&st->sasl, arg, mlen);
        struct textline_sasl_out out;
        if (irlen > 0 && textline_sasl_response(&st->sasl, ir, irlen, &out))
            smtp_auth_seen(ctx, st, &out);
    } else if (textline_is(verb, vlen, "MAIL") || textline_is(verb, vlen, "RCPT")) {
        size_t alen = textline_rest(&args, &arg);
        secrets_scan(ctx, DIR_TO_SERVER, "envelope", arg, alen);
        if (!textline_is(verb, vlen, "MAIL"))
            return;
        smtp_is_smtp(ctx, st);
        smtp_check_not_used(ctx, st, l);
        size_t k = alen < SMTP_FROM_MAX - 1 ? alen : SMTP_FROM_MAX - 1;
        memcpy(st->from, arg, k);
        st->from[k] = '\0';
    } else if (textline_is(verb, vlen, "DATA")) {
        st->data_asked = true;
    } else if (textline_is(verb, vlen, "BDAT")) {
        st->bdat_left = smtp_bdat_size(&c);
        st->data_asked = true;
        st->in_data = false;
    } else if (textline_is(verb, vlen, "STARTTLS")) {
        st->requested = true;
    }
    if (st->data_asked && !st->session_done && textline_is(verb, vlen, "BDAT")) {
        st->session_done = true;
        detector_emit(ctx, &rule_session, DIR_TO_SERVER, "mail", st->from, strlen(st->from),
                      EV_TEXT);
    }
}

/* One server line: "NNN text" or "NNN-text". */
static void smtp_reply(struct det_ctx *ctx, struct smtp_state *st, const struct textline *l)
{
    struct cursor c = cursor_init(l->p, l->len);
    const uint8_t *code = cur_take(&c, 3);
    if (code == NULL || code[0] < '2' || code[0] > '5' || code[1] < '0' || code[1] > '9' ||
        code[2] < '0' || code[2] > '9')
        return;         /* not a reply line */
    smtp_is_smtp(ctx, st);
    if (code[0] == '2' && code[1] == '5' && code[2] == '0' && cur_left(&c) > 0) {
        const uint8_t *kw;
        cur_skip(&c, 1);
        size_t klen = textline_word(&c, &kw);
        if (textline_is(kw, klen, "STARTTLS"))
            st->offered = true;
    }
    if (code[0] == '3' && code[1] == '5' && code[2] == '4' && st->data_asked) {
        st->in_data = true;         /* the message follows */
        if (!st->session_done) {
            st->session_done = true;
            detector_emit(ctx, &rule_session, DIR_TO_SERVER, "mail", st->from,
                          strlen(st->from), EV_TEXT);
        }
    }
    if (code[0] == '2' || code[0] == '4' || code[0] == '5') {
        /* a final reply ends an AUTH exchange and answers DATA */
        st->sasl.mech = TL_SASL_NONE;
        st->data_asked = false;
    }
}

static size_t smtp_on_data(struct det_ctx *ctx, enum dir d, const uint8_t *p, size_t n)
{
    struct smtp_state *st = ctx->state;
    if (d == DIR_TO_SERVER && st->bdat_left > 0) {
        size_t k = n < st->bdat_left ? n : st->bdat_left;
        st->bdat_left -= (uint32_t)k;
        return k;
    }
    if (d == DIR_TO_SERVER && !st->in_data && textline_is_tls(p, n)) {
        detector_flow_encrypted(ctx);   /* the client started TLS (after STARTTLS) */
        return n;
    }
    struct textline l;
    size_t used = textline_next(&st->rd[d], p, n, SMTP_LINE_MAX, &l);
    if (used == 0 || l.p == NULL)
        return used;
    if (d == DIR_TO_SERVER)
        smtp_command(ctx, st, &l);
    else
        smtp_reply(ctx, st, &l);
    return used;
}

static void smtp_on_gap(struct det_ctx *ctx, enum dir d, uint64_t len)
{
    struct smtp_state *st = ctx->state;
    if (d == DIR_TO_SERVER && st->bdat_left > 0 && len < st->bdat_left) {
        st->bdat_left -= (uint32_t)len;
        return;
    }
    if (d == DIR_TO_SERVER)
        st->bdat_left = 0;
    st->rd[d].skipping = true;      /* resync at the next line end */
}

/* A "220" greeting naming SMTP (FTP greets with 220 too). */
static bool smtp_banner(const uint8_t *p, size_t n)
{
    const uint8_t *lf = memchr(p, '\n', n);
    size_t len = lf != NULL ? (size_t)(lf - p) : n;
    return (textline_starts(p, len, "220 ") || textline_starts(p, len, "220-")) &&
           textline_contains(p, len, "SMTP");
}

static bool smtp_wants(const struct flow_view *f)
{
    if (f->transport != 6)
        return false;
    if (flow_dpi_is(f, "SMTP"))
        return true;
    const uint8_t *s = f->head[DIR_TO_CLIENT];
    size_t sn = f->head_len[DIR_TO_CLIENT];
    if (sn > 0 && smtp_banner(s, sn))
        return true;
    bool port = f->server_port == 25 || f->server_port == 587 || f->server_port == 2525;
    return port && textline_starts(s, sn, "220");
}

static const struct rule *const smtp_rules[] = {
    &rule_auth,
    &rule_session,
    &textline_rule_starttls_not_used,
};

const struct detector detector_smtp = {
    .name       = "smtp",                   /* protocol name in the report */
    .rules      = smtp_rules,               /* rules this file can fire */
    .nrules     = ARRAY_LEN(smtp_rules),
    .state_size = sizeof(struct smtp_state),
    .wants      = smtp_wants,               /* nDPI SMTP, or a 220 SMTP greeting */
    .on_data    = smtp_on_data,             /* one line (or BDAT chunk) per call */
    .on_gap     = smtp_on_gap,              /* resync at the next line */
};

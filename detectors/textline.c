/*
 * textline.c - lines, words, base64 and SASL for the text protocols (see
 * textline.h).
 *
 * Lines end with LF (RFC 5321 2.3.8, RFC 3501 9, RFC 1939 3, RFC 959 and
 * RFC 854 all say CRLF; real peers also send a bare LF, so LF alone ends a
 * line and a CR before it is dropped).  Base64 is RFC 4648 4; SASL PLAIN
 * is RFC 4616 2; XOAUTH2 follows Google's "OAuth 2.0 Mechanism" page.
 * tcpdump's txtproto_print() (util-print.c) is the model: one reader, and
 * each protocol is its verb table.
 */
#include "textline.h"

#include <stdio.h>
#include <string.h>

static uint8_t textline_lower(uint8_t b)
{
    return (b >= 'A' && b <= 'Z') ? (uint8_t)(b + ('a' - 'A')) : b;
}

/* The reader of both: a piece ends with delim; strip_cr drops a CR before
 * it and the delimiter itself (lines), or keeps both (tags). */
static size_t textline_piece(struct textline_reader *r, const uint8_t *p, size_t n, size_t max,
                             uint8_t delim, bool strip, struct textline *line)
{
    line->p = NULL;
    line->len = 0;
    line->cut = false;
    size_t lim = n < max + 1 ? n : max + 1;
    const uint8_t *end = n > 0 ? memchr(p, delim, r->skipping ? n : lim) : NULL;
    if (end != NULL) {
        size_t len = (size_t)(end - p);
        size_t used = len + 1;
        if (r->skipping) {
            r->skipping = false;    /* the tail of a cut line: nothing to read */
            return used;
        }
        if (!strip)
            len++;
        else if (len > 0 && p[len - 1] == '\r')
            len--;
        line->p = p;
        line->len = len;
        return used;
    }
    if (r->skipping)
        return n;                   /* still inside the overlong line */
    if (n < max)
        return 0;                   /* the line is not all here yet */
    line->p = p;
    line->len = max;
    line->cut = true;
    /* pass over the rest of the line: up to its end when it is here */
    const uint8_t *rest = memchr(p + lim, delim, n - lim);
    if (rest != NULL)
        return (size_t)(rest - p) + 1;
    r->skipping = true;
    return n;
}

size_t textline_next(struct textline_reader *r, const uint8_t *p, size_t n, size_t max,
                     struct textline *line)
{
    return textline_piece(r, p, n, max, '\n', true, line);
}

size_t textline_next_delim(struct textline_reader *r, const uint8_t *p, size_t n, size_t max,
                           uint8_t delim, struct textline *line)
{
    return textline_piece(r, p, n, max, delim, false, line);
}

size_t textline_word(struct cursor *c, const uint8_t **w)
{
    while (cur_left(c) > 0 && (*cur_ptr(c) == ' ' || *cur_ptr(c) == '\t'))
        cur_skip(c, 1);
    *w = cur_ptr(c);
    size_t n = 0;
    size_t left = cur_left(c);
    while (n < left && (*w)[n] != ' ' && (*w)[n] != '\t')
        n++;
    cur_skip(c, n);
    return n;
}

size_t textline_rest(struct cursor *c, const uint8_t **w)
{
    while (cur_left(c) > 0 && (*cur_ptr(c) == ' ' || *cur_ptr(c) == '\t'))
        cur_skip(c, 1);
    *w = cur_ptr(c);
    size_t n = cur_left(c);
    cur_skip(c, n);
    return n;
}

bool textline_is(const uint8_t *w, size_t n, const char *word)
{
    return n == strlen(word) && textline_starts(w, n, word);
}

bool textline_starts(const uint8_t *p, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    if (n < k)
        return false;
    for (size_t i = 0; i < k; i++)
        if (textline_lower(p[i]) != textline_lower((uint8_t)prefix[i]))
            return false;
    return true;
}

bool textline_contains(const uint8_t *p, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; k <= n && i <= n - k; i++)
        if (textline_starts(p + i, n - i, needle))
            return true;
    return false;
}

bool textline_is_tls(const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    uint8_t type = cur_u8(&c);
    uint8_t major = cur_u8(&c);
    uint8_t minor = cur_u8(&c);
    return !c.bad && type == 0x16 && major == 3 && minor <= 4;
}

/* The value of a base64 digit, or -1. */
static int textline_b64val(uint8_t ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+')
        return 62;
    if (ch == '/')
        return 63;
    return -1;
}

long textline_b64decode(const uint8_t *s, size_t n, uint8_t *out, size_t cap)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    while (n > 0 && s[n - 1] == '=')
        n--;                        /* padding carries no data */
    for (size_t i = 0; i < n; i++) {
        int v = textline_b64val(s[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap)
                return -1;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    return (long)o;
}

bool textline_sasl_plain(const uint8_t *msg, size_t n, struct textline_span *user,
                         struct textline_span *pass)
{
    const uint8_t *z1 = memchr(msg, 0, n);
    if (z1 == NULL)
        return false;
    size_t a = (size_t)(z1 - msg);
    const uint8_t *z2 = memchr(z1 + 1, 0, n - a - 1);
    if (z2 == NULL)
        return false;
    size_t b = (size_t)(z2 - (z1 + 1));
    if (b > 0) {
        user->p = z1 + 1;
        user->len = b;
    } else {
        user->p = msg;
        user->len = a;
    }
    pass->p = z2 + 1;
    pass->len = n - a - b - 2;
    return true;
}

bool textline_sasl_xoauth2(const uint8_t *msg, size_t n, struct textline_span *user,
                           struct textline_span *token)
{
    if (!textline_starts(msg, n, "user="))
        return false;
    const uint8_t *u = msg + 5;
    const uint8_t *sep = memchr(u, 0x01, n - 5);
    if (sep == NULL)
        return false;
    user->p = u;
    user->len = (size_t)(sep - u);
    size_t off = (size_t)(sep - msg) + 1;
    token->p = msg + off;
    token->len = 0;
    if (textline_starts(msg + off, n - off, "auth=")) {
        off += 5;
        if (textline_starts(msg + off, n - off, "Bearer "))
            off += 7;
        token->p = msg + off;
        const uint8_t *end = memchr(msg + off, 0x01, n - off);
        token->len = end != NULL ? (size_t)(end - (msg + off)) : n - off;
    }
    return true;
}

void textline_sasl_start(struct textline_sasl *s, const uint8_t *mech, size_t n)
{
    s->step = 0;
    if (textline_is(mech, n, "PLAIN"))
        s->mech = TL_SASL_PLAIN;
    else if (textline_is(mech, n, "LOGIN"))
        s->mech = TL_SASL_LOGIN;
    else if (textline_is(mech, n, "XOAUTH2"))
        s->mech = TL_SASL_XOAUTH2;
    else if (textline_is(mech, n, "CRAM-MD5"))
        s->mech = TL_SASL_CRAM_MD5;
    else
        s->mech = TL_SASL_OTHER;
}

bool textline_sasl_response(struct textline_sasl *s, const uint8_t *b64, size_t n,
                            struct textline_sasl_out *out)
{
    memset(&out->user, 0, sizeof out->user);
    memset(&out->secret, 0, sizeof out->secret);
    out->secret_field = "password";
    if (n == 1 && b64[0] == '=')
        return false;               /* an empty initial response: the real one follows */
    uint8_t mech = s->mech;
    uint8_t step = s->step++;
    /* the last response of each mechanism ends the exchange */
    if (mech != TL_SASL_LOGIN || step >= 1)
        s->mech = TL_SASL_NONE;
    if (n == 1 && b64[0] == '*')
        return false;               /* the client cancelled */
    long len = textline_b64decode(b64, n, out->buf, sizeof out->buf);
    if (len <= 0)
        return false;               /* not base64: nothing to read */
    size_t dn = (size_t)len;
    switch (mech) {
    case TL_SASL_PLAIN:
        return textline_sasl_plain(out->buf, dn, &out->user, &out->secret);
    case TL_SASL_LOGIN:
        if (step == 0) {
            out->user.p = out->buf;
            out->user.len = dn;
        } else {
            out->secret.p = out->buf;
            out->secret.len = dn;
        }
        return true;
    case TL_SASL_XOAUTH2:
        out->secret_field = "token";
        return textline_sasl_xoauth2(out->buf, dn, &out->user, &out->secret);
    case TL_SASL_CRAM_MD5: {
        /* "user hex-digest" (RFC 2195 2) */
        const uint8_t *sp = memchr(out->buf, ' ', dn);
        if (sp == NULL)
            return false;
        out->user.p = out->buf;
        out->user.len = (size_t)(sp - out->buf);
        out->secret.p = sp + 1;
        out->secret.len = dn - out->user.len - 1;
        out->secret_field = "cram-md5-digest";
        return true;
    }
    default:
        return false;
    }
}

void textline_sasl_emit(struct det_ctx *ctx, const struct rule *rule,
                        const struct textline_sasl_out *out)
{
    if (out->user.len > 0)
        detector_emit(ctx, rule, DIR_TO_SERVER, "user", out->user.p, out->user.len, EV_TEXT);
    if (out->secret.len > 0)
        detector_emit(ctx, rule, DIR_TO_SERVER, out->secret_field, out->secret.p,
                      out->secret.len, EV_SECRET);
}

bool textline_acc_put(struct textline_acc *a, uint8_t b)
{
    if (b == '\r' || b == '\n' || b == 0)
        return a->len > 0 || a->cut;
    if (b == 0x08 || b == 0x7f) {   /* backspace, delete: the user corrects */
        if (a->len > 0)
            a->len--;
        return false;
    }
    if (a->len < TEXTLINE_ACC_MAX)
        a->buf[a->len++] = b;
    else
        a->cut = true;
    return false;
}

void textline_acc_reset(struct textline_acc *a)
{
    a->len = 0;
    a->cut = false;
}

const struct rule textline_rule_starttls_not_used = {
    .id = "starttls.not-used",
    .severity = SEV_MEDIUM,
    .title = "Server offered an upgrade to TLS (STARTTLS) but the client went on in clear",
    .remediation = "Configure clients to require STARTTLS (or to use the implicit-TLS port), "
                   "and have the server refuse authentication and mail before TLS "
                   "(e.g. Postfix smtpd_tls_auth_only, Dovecot ssl=required, vsftpd "
                   "force_local_logins_ssl).",
    .compliance = COMPLIANCE_SENSITIVE,
};

void textline_starttls_not_used(struct det_ctx *ctx, const char *proto, const char *offer,
                                const uint8_t *command, size_t len)
{
    char ev[EVIDENCE_MAX_TEXT];
    size_t o = (size_t)snprintf(ev, sizeof ev, "%s server offered %s; client sent ", proto,
                                offer);
    if (o >= sizeof ev)
        o = sizeof ev - 1;
    /* the command's verb only: its argument may be a credential */
    for (size_t i = 0; i < len && command[i] != ' ' && o + 1 < sizeof ev; i++)
        ev[o++] = (command[i] >= 0x20 && command[i] < 0x7f) ? (char)command[i] : '?';
    if (o + 10 < sizeof ev) {
        memcpy(ev + o, " in clear", 9);
        o += 9;
    }
    ev[o] = '\0';
    detector_emit(ctx, &textline_rule_starttls_not_used, DIR_TO_SERVER, "command", ev, o,
                  EV_TEXT);
}

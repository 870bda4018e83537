/*
 * irc.c - IRC client connections in clear: the registration (NICK, USER),
 * and the passwords IRC clients send: PASS, OPER, services logins
 * (NickServ IDENTIFY and REGISTER, Q AUTH), SASL PLAIN, and channel keys
 * (JOIN #chan key, MODE #chan +k key: RFC 2812 3.2.1, 3.2.3).
 *
 * Follows RFC 1459 and RFC 2812 (messages "[@tags] [:prefix] COMMAND
 * params [:trailing]" of at most 512 bytes, registration PASS, NICK, USER,
 * welcome numeric 001), the IRCv3 extensions (message tags, SASL through
 * AUTHENTICATE, STARTTLS answered by numeric 670) and the services
 * conventions of Atheme and Anope (PRIVMSG NickServ :IDENTIFY [account]
 * password, and the NICKSERV / NS aliases).  Each direction is read a line
 * at a time through detectors/textline.c; the text of private messages and
 * notices goes through the secrets engine.  Left out: DCC (its own
 * connections), CTCP, and server-to-server links beyond their PASS.
 */
#include "detector.h"
#include "textline.h"

#include <string.h>

#include "../scanner/cursor.h"
#include "secrets.h"

/* Longest line read: RFC 2812 allows 512 bytes, IRCv3 tags add up to 8191
 * before them; a longer line is cut, which loses only tag or text bytes. */
#define IRC_LINE_MAX    4096u

struct irc_state {
    struct textline_reader rd[2];
    struct textline_sasl sasl;  /* an AUTHENTICATE exchange in progress */
    bool irc_seen;              /* a command or numeric proved this is IRC */
    bool registered;            /* the server sent 001: NICK is no longer a login */
};

static const struct rule rule_login = {
    .id = "irc.cleartext-login",
    .severity = SEV_MEDIUM,
    .title = "IRC registration (nick and user name) and chat in cleartext",
    .remediation = "Connect to the IRC server over TLS (port 6697, or STARTTLS) and disable "
                   "the plaintext port on servers you run.",
    .compliance = COMPLIANCE_SENSITIVE,
};

static const struct rule rule_password = {
    .id = "irc.cleartext-password",
    .severity = SEV_CRITICAL,
    .title = "IRC password (PASS, OPER, NickServ IDENTIFY, SASL or channel key) sent in "
             "cleartext",
    .remediation = "Connect to the IRC server over TLS (port 6697) before sending any "
                   "password, prefer SASL EXTERNAL with a client certificate, and change the "
                   "exposed passwords.",
    .compliance = COMPLIANCE_CREDENTIALS,
};

static void irc_is_irc(struct det_ctx *ctx, struct irc_state *st)
{
    if (st->irc_seen)
        return;
    st->irc_seen = true;
    detector_flow_plaintext(ctx, "IRC");
}

/* The next parameter: a word, or (after ':') the rest of the line. */
static size_t irc_param(struct cursor *c, const uint8_t **w)
{
    size_t n = textline_word(c, w);
    if (textline_starts(*w, n, ":")) {
        /* the trailing parameter: from after ':' to the end of the line */
        struct cursor t = cursor_init(*w, cur_left(c) + n);
        cur_skip(&t, 1);
        *w = cur_ptr(&t);
        n = cur_left(&t);
        cur_skip(c, cur_left(c));
    }
    return n;
}

/* Skips IRCv3 tags ("@a=b;c") and a prefix (":nick!user@host"), then
 * returns the command word. */
static size_t irc_command(struct cursor *c, const uint8_t **verb)
{
    size_t n = textline_word(c, verb);
    if (textline_starts(*verb, n, "@"))
        n = textline_word(c, verb);
    if (textline_starts(*verb, n, ":"))
        n = textline_word(c, verb);
    return n;
}

/* Whether a PRIVMSG target is a services bot that takes logins: NickServ
 * (as "NickServ" or "NickServ@services.host") or QuakeNet's Q. */
static bool irc_services_target(const uint8_t *t, size_t n)
{
    const uint8_t *at = memchr(t, '@', n);
    size_t len = at != NULL ? (size_t)(at - t) : n;
    return textline_is(t, len, "NickServ") || textline_is(t, len, "Q");
}

/*
 * A services command: "IDENTIFY [account] password", "REGISTER password
 * [email]", "AUTH account password" (Q), "LOGIN account password".  The
 * last word of IDENTIFY, AUTH and LOGIN is the password, a word before it
 * the account.
 */
static void irc_services(struct det_ctx *ctx, const uint8_t *text, size_t n)
{
    struct cursor c = cursor_init(text, n);
    const uint8_t *cmd, *a1, *a2;
    size_t clen = textline_word(&c, &cmd);
    size_t l1 = textline_word(&c, &a1);
    size_t l2 = textline_word(&c, &a2);
    if (l1 == 0)
        return;
    if (textline_is(cmd, clen, "REGISTER")) {
        detector_emit(ctx, &rule_password, DIR_TO_SERVER, "password", a1, l1, EV_SECRET);
        return;
    }
    if (!textline_is(cmd, clen, "IDENTIFY") && !textline_is(cmd, clen, "AUTH") &&
        !textline_is(cmd, clen, "LOGIN"))
        return;
    if (l2 > 0) {
        detector_emit(ctx, &rule_password, DIR_TO_SERVER, "account", a1, l1, EV_TEXT);
        detector_emit(ctx, &rule_password, DIR_TO_SERVER, "password", a2, l2, EV_SECRET);
    } else {
        detector_emit(ctx, &rule_password, DIR_TO_SERVER, "password", a1, l1, EV_SECRET);
    }
}

/* AUTHENTICATE MECH starts a SASL exchange; each later AUTHENTICATE
 * carries one base64 response ("+" empty, "*" abort). */
static void irc_authenticate(struct det_ctx *ctx, struct irc_state *st, const uint8_t *arg,
                             size_t n)
{
    if (st->sasl.mech == TL_SASL_NONE) {
        textline_sasl_start(&st->sasl, arg, n);
        return;
    }
    if (textline_is(arg, n, "+"))
        return;         /* an empty response (the server's prompt echoed): wait */
    struct textline_sasl_out out;
    if (textline_sasl_response(&st->sasl, arg, n, &out))
        textline_sasl_emit(ctx, &rule_password, &out);
}

/* The next item of a comma-separated list at *p (n bytes left): its
 * length; *p and *n move past it and its comma. */
static size_t irc_item(const uint8_t **p, size_t *n, const uint8_t **item)
{
    const uint8_t *comma = memchr(*p, ',', *n);
    size_t k = comma != NULL ? (size_t)(comma - *p) : *n;
    *item = *p;
    *p += k + (comma != NULL);
    *n -= k + (comma != NULL);
    return k;
}

/* JOIN #a,#b keyA,keyB: each channel with a non-empty key. */
static void irc_join(struct det_ctx *ctx, const uint8_t *chans, size_t cn,
                     const uint8_t *keys, size_t kn)
{
    while (cn > 0 && kn > 0) {
        const uint8_t *chan, *key;
        size_t cl = irc_item(&chans, &cn, &chan);
        size_t kl = irc_item(&keys, &kn, &key);
        if (kl == 0 || cl == 0 || (kl == 1 && key[0] == '-'))
            continue;       /* no key, or the "-" placeholder some clients send */
        detector_emit(ctx, &rule_password, DIR_TO_SERVER, "channel", chan, cl, EV_TEXT);
        detector_emit(ctx, &rule_password, DIR_TO_SERVER, "channel-key", key, kl, EV_SECRET);
    }
}

/* MODE #chan +k key: the key is the parameter of 'k', after those of the
 * modes before it that take one: the member modes (o v h q a), the lists
 * (b e I), and 'l' when it is set (RFC 2811 4, and the common ircds). */
static void irc_mode(struct det_ctx *ctx, struct cursor *c, const uint8_t *chan, size_t cl)
{
    const uint8_t *modes, *arg;
    size_t ml = irc_param(c, &modes);
    bool adding = true;
    for (size_t i = 0; i < ml; i++) {
        uint8_t m = modes[i];
        if (m == '+' || m == '-') {
            adding = m == '+';
            continue;
        }
        bool takes = m == 'k' || (m == 'l' && adding) || memchr("ovhqabeI", m, 8) != NULL;
        if (!takes)
            continue;
        size_t al = irc_param(c, &arg);
        if (m == 'k' && adding && al > 0) {
            detector_emit(ctx, &rule_password, DIR_TO_SERVER, "channel", chan, cl, EV_TEXT);
            detector_emit(ctx, &rule_password, DIR_TO_SERVER, "channel-key", arg, al,
                          EV_SECRET);
        }
    }
}

/* One client line. */
static void irc_client(struct det_ctx *ctx, struct irc_state *st, const struct textline *l)
{
    struct cursor c = cursor_init(l->p, l->len);
    const uint8_t *verb, *a1, *a2;
    size_t vlen = irc_command(&c, &verb);
    if (vlen == 0)
        return;
    if (textline_is(verb, vlen, "NICK") || textline_is(verb, vlen, "USER")) {
        size_t l1 = irc_param(&c, &a1);
        irc_is_irc(ctx, st);
        if (l1 > 0 && !st->registered)
            detector_emit(ctx, &rule_login, DIR_TO_SERVER,
                          textline_is(verb, vlen, "NICK") ? "nick" : "user", a1, l1, EV_TEXT);
    } else if (textline_is(verb, vlen, "PASS")) {
        size_t l1 = irc_param(&c, &a1);
        irc_is_irc(ctx, st);
        if (l1 > 0)
            detector_emit(ctx, &rule_password, DIR_TO_SERVER, "password", a1, l1, EV_SECRET);
    } else if (textline_is(verb, vlen, "OPER")) {
        size_t l1 = irc_param(&c, &a1);
        size_t l2 = irc_param(&c, &a2);
        if (l2 > 0) {
            detector_emit(ctx, &rule_password, DIR_TO_SERVER, "oper", a1, l1, EV_TEXT);
            detector_emit(ctx, &rule_password, DIR_TO_SERVER, "password", a2, l2, EV_SECRET);
        }
    } else if (textline_is(verb, vlen, "JOIN")) {
        size_t l1 = irc_param(&c, &a1);
        size_t l2 = irc_param(&c, &a2);
        irc_join(ctx, a1, l1, a2, l2);
    } else if (textline_is(verb, vlen, "MODE")) {
        size_t l1 = irc_param(&c, &a1);
        if (l1 > 0 && (a1[0] == '#' || a1[0] == '&'))
            irc_mode(ctx, &c, a1, l1);
    } else if (textline_is(verb, vlen, "AUTHENTICATE")) {
        size_t l1 = irc_param(&c, &a1);
        if (l1 > 0)
            irc_authenticate(ctx, st, a1, l1);
    } else if (textline_is(verb, vlen, "NICKSERV") || textline_is(verb, vlen, "NS")) {
        size_t l1 = textline_rest(&c, &a1);
        irc_services(ctx, a1, l1);
    } else if (textline_is(verb, vlen, "PRIVMSG") || textline_is(verb, vlen, "NOTICE")) {
        size_t l1 = irc_param(&c, &a1);
        size_t l2 = irc_param(&c, &a2);
        if (l1 > 0 && irc_services_target(a1, l1))
            irc_services(ctx, a2, l2);
        else
            secrets_scan(ctx, DIR_TO_SERVER, "message", a2, l2);
    }
}

/* Whether a command word is a three-digit numeric reply. */
static bool irc_numeric(const uint8_t *w, size_t n)
{
    struct cursor c = cursor_init(w, n);
    for (int i = 0; i < 3; i++) {
        uint8_t b = cur_u8(&c);
        if (b < '0' || b > '9')
            return false;
    }
    return !c.bad && cur_left(&c) == 0;
}

/* One server line: a numeric reply or a relayed message. */
static void irc_server(struct det_ctx *ctx, struct irc_state *st, const struct textline *l)
{
    struct cursor c = cursor_init(l->p, l->len);
    const uint8_t *verb, *a1, *a2;
    size_t vlen = irc_command(&c, &verb);
    if (irc_numeric(verb, vlen)) {
        irc_is_irc(ctx, st);
        if (textline_is(verb, vlen, "001"))
            st->registered = true;
        return;
    }
    if (textline_is(verb, vlen, "PRIVMSG") || textline_is(verb, vlen, "NOTICE")) {
        (void)irc_param(&c, &a1);
        size_t l2 = irc_param(&c, &a2);
        secrets_scan(ctx, DIR_TO_CLIENT, "message", a2, l2);
    }
}

static size_t irc_on_data(struct det_ctx *ctx, enum dir d, const uint8_t *p, size_t n)
{
    struct irc_state *st = ctx->state;
    if (d == DIR_TO_SERVER && textline_is_tls(p, n)) {
        /* the client started TLS (after STARTTLS, answered 670) */
        detector_flow_encrypted(ctx);
        return n;
    }
    struct textline l;
    size_t used = textline_next(&st->rd[d], p, n, IRC_LINE_MAX, &l);
    if (used == 0 || l.p == NULL)
        return used;
    if (d == DIR_TO_SERVER)
        irc_client(ctx, st, &l);
    else
        irc_server(ctx, st, &l);
    return used;
}

/* A lost piece of a line: read on from the next line end. */
static void irc_on_gap(struct det_ctx *ctx, enum dir d, uint64_t len)
{
    struct irc_state *st = ctx->state;
    (void)len;
    st->rd[d].skipping = true;
    if (d == DIR_TO_SERVER)
        st->sasl.mech = TL_SASL_NONE;   /* a response may be lost: do not pair the next */
}

/* The first line of p/n when it is complete, within RFC 2812's 512 bytes
 * and printable (tabs and control bytes are not IRC). */
static bool irc_first_line(const uint8_t *p, size_t n, struct textline *l)
{
    struct textline_reader r = { false };
    if (p == NULL || n == 0)
        return false;
    size_t used = textline_next(&r, p, n, 512, l);
    if (used == 0 || l->p == NULL || l->cut || l->len == 0)
        return false;
    struct cursor c = cursor_init(l->p, l->len);
    while (cur_left(&c) > 0) {
        uint8_t b = cur_u8(&c);
        if (b < 0x20 || b == 0x7f)
            return false;
    }
    return true;
}

/* A client's first line that opens an IRC registration: "NICK n",
 * "USER u m * :real name" (four parameters), "PASS p", or "CAP LS" /
 * "CAP REQ" (IRCv3 capability negotiation). */
static bool irc_client_opening(const struct textline *l)
{
    struct cursor c = cursor_init(l->p, l->len);
    const uint8_t *verb, *w;
    size_t vlen = textline_word(&c, &verb);
    if (textline_is(verb, vlen, "CAP")) {
        size_t n = textline_word(&c, &w);
        return textline_is(w, n, "LS") || textline_is(w, n, "REQ");
    }
    size_t params = 0;
    while (irc_param(&c, &w) > 0)
        params++;
    if (textline_is(verb, vlen, "USER"))
        return params == 4;
    if (textline_is(verb, vlen, "NICK"))
        return params == 1 || params == 2;      /* RFC 1459 allows a hop count */
    if (textline_is(verb, vlen, "PASS"))
        return params >= 1;                     /* servers add "TS 6 :SID" */
    return false;
}

/* A server's first line of the usual greeting: ":server NOTICE * :***
 * Looking up your hostname", or "NOTICE AUTH :***" of older servers. */
static bool irc_server_opening(const struct textline *l)
{
    struct cursor c = cursor_init(l->p, l->len);
    const uint8_t *w;
    size_t n = textline_word(&c, &w);
    if (textline_starts(w, n, ":"))
        n = textline_word(&c, &w);
    if (!textline_is(w, n, "NOTICE"))
        return false;
    (void)textline_word(&c, &w);
    n = textline_word(&c, &w);
    return textline_starts(w, n, ":***");
}

/* Whether p/n and word agree on their common length (a head may be cut
 * anywhere). */
static bool irc_agrees(const uint8_t *p, size_t n, const char *word)
{
    struct cursor c = cursor_init(p, n);
    for (const char *w = word; *w != '\0' && cur_left(&c) > 0; w++)
        if (cur_u8(&c) != (uint8_t)*w)
            return false;
    return true;
}

/* Whether the server's first bytes may be IRC: a prefixed message
 * (":server ..."), or one of the few commands servers send without one. */
static bool irc_server_may_be(const uint8_t *p, size_t n)
{
    static const char *const starts[] = { ":", "NOTICE ", "PING ", "ERROR ", "CAP ",
                                          "AUTHENTICATE " };
    if (p == NULL || n == 0)
        return true;            /* the server has not spoken yet */
    for (size_t i = 0; i < ARRAY_LEN(starts); i++)
        if (irc_agrees(p, n, starts[i]))
            return true;
    return false;
}

static bool irc_wants(const struct flow_view *f)
{
    struct textline l;
    if (f->transport != 6)
        return false;
    if (flow_dpi_is(f, "IRC"))
        return true;
    /* a registration line from the client, unless the server's first
     * bytes are another protocol's greeting ("220 ", "+OK", "* OK") */
    if (irc_first_line(f->head[DIR_TO_SERVER], f->head_len[DIR_TO_SERVER], &l) &&
        irc_client_opening(&l) &&
        irc_server_may_be(f->head[DIR_TO_CLIENT], f->head_len[DIR_TO_CLIENT]))
        return true;
    return irc_first_line(f->head[DIR_TO_CLIENT], f->head_len[DIR_TO_CLIENT], &l) &&
           irc_server_opening(&l);
}

static const struct rule *const irc_rules[] = {
    &rule_login,
    &rule_password,
    &secrets_rule_jwt,
    &secrets_rule_api_key,
    &secrets_rule_private_key,
    &secrets_rule_card,
    &secrets_rule_ssn,
    &secrets_rule_email,
};

const struct detector detector_irc = {
    .name       = "irc",                    /* protocol name in the report */
    .rules      = irc_rules,                /* rules this file can fire */
    .nrules     = ARRAY_LEN(irc_rules),
    .state_size = sizeof(struct irc_state),
    .wants      = irc_wants,                /* nDPI IRC, or a registration line */
    .on_data    = irc_on_data,              /* one line per call */
    .on_gap     = irc_on_gap,               /* resync at the next line */
};

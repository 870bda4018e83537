/*
 * telnet.c - Telnet sessions in clear, with the login name (and the fact
 * that a password was typed) where the prompts show them.
 *
 * Follows RFC 854 (IAC commands: WILL/WONT/DO/DONT with an option byte,
 * SB ... IAC SE subnegotiation, IAC IAC for a data byte 255) and RFC 1572
 * (NEW-ENVIRON, whose USER variable names the login).  What the user types
 * is read a line at a time whether the client sends a byte per packet
 * (character mode, RFC 857 echo) or a whole line (RFC 1184 linemode),
 * through textline.c's accumulator; each typed line is classified by the
 * server's prompt that was showing when typing began ("login:",
 * "Password:").  What the server shows (IAC sequences removed) streams
 * through the secrets and PII scanner, and so does every typed line that
 * did not answer a password prompt, so a key printed by `cat` or a token in
 * a typed command is found.  Left out: classifying shell commands,
 * encryption options (RFC 2946, never deployed), and the 3270/5250 modes.
 */
#include "detector.h"
#include "secrets.h"
#include "textline.h"

#include <string.h>

#include "../scanner/cursor.h"

/* The server's current output line kept to recognise a prompt; prompts
 * are short, the rest of a long line does not matter. */
#define TELNET_PROMPT_MAX   64u
/* Subnegotiation bytes kept (NEW-ENVIRON with a few variables). */
#define TELNET_SB_MAX       256u

#define IAC     255
#define SB      250
#define SE      240
#define WILL    251
#define DONT    254
#define OPT_NEW_ENVIRON 39

enum telnet_parse {
    TP_DATA = 0,    /* ordinary bytes */
    TP_IAC,         /* after IAC */
    TP_OPT,         /* after IAC WILL/WONT/DO/DONT: the option byte */
    TP_SB,          /* inside a subnegotiation */
    TP_SB_IAC,      /* IAC inside a subnegotiation */
};

struct telnet_state {
    uint8_t parse[2];                   /* enum telnet_parse per direction */
    bool telnet_seen;                   /* IAC negotiation or nDPI said so */
    bool reported;                      /* the session finding was stated */
    bool user_seen;
    struct textline_acc typed;          /* the line the client is typing */
    uint8_t prompt[TELNET_PROMPT_MAX];  /* server line showing when typing began */
    uint8_t prompt_len;
    uint8_t line[TELNET_PROMPT_MAX];    /* the server's current output line (its end) */
    uint8_t line_len;
    uint8_t sb[TELNET_SB_MAX];          /* client subnegotiation being read */
    uint16_t sb_len;
    struct secrets_stream shown;        /* the server's output through the scanner */
};

static const struct rule rule_session = {
    .id = "telnet.cleartext-session",
    .severity = SEV_CRITICAL,
    .title = "Telnet session in cleartext (login, password and commands readable)",
    .remediation = "Replace Telnet with SSH (disable telnetd, or the device's telnet "
                   "service, and enable SSH with key authentication); change the passwords "
                   "used over Telnet.",
    .compliance = COMPLIANCE_ADMIN,
};

static void telnet_is_telnet(struct det_ctx *ctx, struct telnet_state *st)
{
    if (st->telnet_seen)
        return;
    st->telnet_seen = true;
    detector_flow_plaintext(ctx, "Telnet");
}

static void telnet_emit_user(struct det_ctx *ctx, struct telnet_state *st, const uint8_t *p,
                             size_t n)
{
    if (n == 0)
        return;
    st->reported = true;
    st->user_seen = true;
    detector_emit(ctx, &rule_session, DIR_TO_SERVER, "user", p, n, EV_TEXT);
}

/* A line the client typed, classified by the prompt it answered. */
static void telnet_typed_line(struct det_ctx *ctx, struct telnet_state *st)
{
    const uint8_t *pr = st->prompt;
    size_t pn = st->prompt_len;
    const uint8_t *v = st->typed.buf;
    size_t vn = st->typed.len;
    if (textline_contains(pr, pn, "password") || textline_contains(pr, pn, "passcode")) {
        st->reported = true;
        if (vn > 0)
            detector_emit(ctx, &rule_session, DIR_TO_SERVER, "password", v, vn, EV_SECRET);
    } else if (textline_contains(pr, pn, "login") || textline_contains(pr, pn, "username") ||
               textline_contains(pr, pn, "user name") || textline_contains(pr, pn, "user:")) {
        telnet_emit_user(ctx, st, v, vn);
    } else {
        secrets_scan(ctx, DIR_TO_SERVER, "typed", v, vn);
    }
}

/* A byte the client typed (IAC sequences removed). */
static void telnet_client_byte(struct det_ctx *ctx, struct telnet_state *st, uint8_t b)
{
    bool printable = b >= 0x20 && b < 0x7f;
    if (st->typed.len == 0 && !st->typed.cut && printable) {
        /* typing starts: remember what the server was asking */
        memcpy(st->prompt, st->line, st->line_len);
        st->prompt_len = st->line_len;
    }
    if (textline_acc_put(&st->typed, b)) {
        telnet_typed_line(ctx, st);
        textline_acc_reset(&st->typed);
        st->prompt_len = 0;
    }
}

/* A byte the server sent: the end of its current line is kept. */
static void telnet_server_byte(struct telnet_state *st, uint8_t b)
{
    if (b == '\n') {
        st->line_len = 0;
        return;
    }
    if (b == '\r' || b == 0)
        return;
    if (st->line_len == TELNET_PROMPT_MAX) {
        memmove(st->line, st->line + 1, TELNET_PROMPT_MAX - 1);
        st->line_len--;
    }
    st->line[st->line_len++] = b;
}

/*
 *  NEW-ENVIRON IS (RFC 1572):  IAC SB 39 0 { VAR|USERVAR name VALUE value } IAC SE
 *  with VAR 0, VALUE 1, ESC 2, USERVAR 3.  The USER variable is the login.
 */
static void telnet_environ(struct det_ctx *ctx, struct telnet_state *st)
{
    struct cursor c = cursor_init(st->sb, st->sb_len);
    uint8_t opt = cur_u8(&c);
    uint8_t cmd = cur_u8(&c);
    if (c.bad || opt != OPT_NEW_ENVIRON || cmd != 0)
        return;
    while (cur_left(&c) > 0) {
        uint8_t kind = cur_u8(&c);
        if (kind != 0 && kind != 3)
            continue;
        const uint8_t *name = cur_ptr(&c);
        size_t nlen = 0;
        while (nlen < cur_left(&c) && name[nlen] > 3)
            nlen++;
        cur_skip(&c, nlen);
        if (cur_left(&c) == 0 || *cur_ptr(&c) != 1)
            continue;               /* a variable without value */
        cur_skip(&c, 1);
        const uint8_t *val = cur_ptr(&c);
        size_t vlen = 0;
        while (vlen < cur_left(&c) && val[vlen] > 3)
            vlen++;
        cur_skip(&c, vlen);
        if (textline_is(name, nlen, "USER"))
            telnet_emit_user(ctx, st, val, vlen);
    }
}

/* One byte through the IAC state machine of direction d.  Returns whether
 * it is a data byte (not part of a Telnet command). */
static bool telnet_byte(struct det_ctx *ctx, struct telnet_state *st, enum dir d, uint8_t b)
{
    switch (st->parse[d]) {
    case TP_DATA:
        if (b == IAC) {
            st->parse[d] = TP_IAC;
            return false;
        }
        break;
    case TP_IAC:
        telnet_is_telnet(ctx, st);
        if (b == IAC) {
            st->parse[d] = TP_DATA;
            break;                  /* IAC IAC: a data byte 255 */
        }
        if (b >= WILL && b <= DONT) {
            st->parse[d] = TP_OPT;
        } else if (b == SB) {
            st->parse[d] = TP_SB;
            if (d == DIR_TO_SERVER)
                st->sb_len = 0;
        } else {
            st->parse[d] = TP_DATA;     /* a two-byte command (NOP, GA, ...) */
        }
        return false;
    case TP_OPT:
        st->parse[d] = TP_DATA;
        return false;
    case TP_SB:
        if (b == IAC)
            st->parse[d] = TP_SB_IAC;
        else if (d == DIR_TO_SERVER && st->sb_len < TELNET_SB_MAX)
            st->sb[st->sb_len++] = b;
        return false;
    case TP_SB_IAC:
        if (b == SE) {
            st->parse[d] = TP_DATA;
            if (d == DIR_TO_SERVER)
                telnet_environ(ctx, st);
        } else {
            st->parse[d] = TP_SB;   /* IAC IAC inside SB: a data byte */
            if (d == DIR_TO_SERVER && st->sb_len < TELNET_SB_MAX)
                st->sb[st->sb_len++] = b;
        }
        return false;
    default:
        st->parse[d] = TP_DATA;
        return false;
    }
    if (d == DIR_TO_SERVER)
        telnet_client_byte(ctx, st, b);
    else
        telnet_server_byte(st, b);
    return true;
}

/* Every byte is read as it comes: nothing waits for more.  The server's
 * data bytes are gathered and streamed to the scanner in pieces. */
static size_t telnet_on_data(struct det_ctx *ctx, enum dir d, const uint8_t *p, size_t n)
{
    struct telnet_state *st = ctx->state;
    uint8_t shown[512];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!telnet_byte(ctx, st, d, p[i]) || d != DIR_TO_CLIENT)
            continue;
        shown[k++] = p[i];
        if (k == sizeof shown) {
            secrets_stream_feed(ctx, &st->shown, DIR_TO_CLIENT, "shown", shown, k);
            k = 0;
        }
    }
    if (k > 0)
        secrets_stream_feed(ctx, &st->shown, DIR_TO_CLIENT, "shown", shown, k);
    return n;
}

/* Lost bytes: the line being typed or shown is no longer known. */
static void telnet_on_gap(struct det_ctx *ctx, enum dir d, uint64_t len)
{
    struct telnet_state *st = ctx->state;
    (void)len;
    st->parse[d] = TP_DATA;
    if (d == DIR_TO_SERVER) {
        textline_acc_reset(&st->typed);
        st->prompt_len = 0;
    } else {
        st->line_len = 0;
        secrets_stream_end(ctx, &st->shown, DIR_TO_CLIENT, "shown");
    }
}

/* A Telnet session with no login seen is still a session in clear. */
static void telnet_on_end(struct det_ctx *ctx)
{
    struct telnet_state *st = ctx->state;
    secrets_stream_end(ctx, &st->shown, DIR_TO_CLIENT, "shown");
    if (st->telnet_seen && !st->reported)
        detector_emit(ctx, &rule_session, DIR_TO_SERVER, "session", NULL, 0, EV_NONE);
}

/* Whether bytes open with a Telnet option negotiation (IAC WILL/WONT/DO/
 * DONT or SB). */
static bool telnet_head(const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    uint8_t a = cur_u8(&c);
    uint8_t b = cur_u8(&c);
    return !c.bad && a == IAC && (b == SB || (b >= WILL && b <= DONT));
}

static bool telnet_wants(const struct flow_view *f)
{
    if (f->transport != 6)
        return false;
    if (flow_dpi_is(f, "Telnet"))
        return true;
    if (telnet_head(f->head[DIR_TO_CLIENT], f->head_len[DIR_TO_CLIENT]) ||
        telnet_head(f->head[DIR_TO_SERVER], f->head_len[DIR_TO_SERVER]))
        return true;
    return f->server_port == 23 && (f->head_len[0] > 0 || f->head_len[1] > 0);
}

static const struct rule *const telnet_rules[] = {
    &rule_session,
};

const struct detector detector_telnet = {
    .name       = "telnet",                 /* protocol name in the report */
    .rules      = telnet_rules,             /* rules this file can fire */
    .nrules     = ARRAY_LEN(telnet_rules),
    .state_size = sizeof(struct telnet_state),
    .wants      = telnet_wants,             /* nDPI Telnet, IAC negotiation, port 23 */
    .on_data    = telnet_on_data,           /* byte by byte, all consumed */
    .on_gap     = telnet_on_gap,            /* forget the lines in progress */
    .on_end     = telnet_on_end,            /* a session without a visible login */
};

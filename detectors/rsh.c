/*
 * rsh.c - the BSD remote commands in clear: rsh (TCP 514), rlogin (513)
 * and rexec (512).  Their logins are user names the server trusts by host
 * (rsh, rlogin: .rhosts and hosts.equiv) or a password sent as is (rexec),
 * and everything after them is a shell session in clear.
 *
 * The client opens with NUL-terminated fields (rshd(8), rlogind(8),
 * rexecd(8); RFC 1282 for rlogin):
 *
 *   rsh     stderr-port NUL  client-user NUL  server-user NUL  command NUL
 *   rexec   stderr-port NUL  user NUL         password NUL     command NUL
 *   rlogin  NUL              client-user NUL  server-user NUL  terminal/speed NUL
 *
 * The server answers one byte, 0 (accepted) or 1 followed by an error
 * message, then the command's output (rsh, rexec) or the terminal session
 * (rlogin).  An rlogin that the server does not trust falls back to a
 * "Password:" prompt in the session: the typed line that follows is the
 * password.  rlogin's window size messages (RFC 1282: FF FF 's' 's' and
 * four 16-bit sizes), which the client sends whenever the server asks,
 * are taken out of what the user types.  What follows the login goes
 * through the secrets engine.  Left out: the stderr connection (the server
 * connects back to the client's stderr port: no handshake to recognise it
 * by), and Kerberos krsh/klogin (ports 544, 543).
 */
#include "detector.h"
#include "textline.h"

#include <stdio.h>
#include <string.h>

#include "../scanner/cursor.h"
#include "secrets.h"

#define RSH_PORT_REXEC      512u
#define RSH_PORT_RLOGIN     513u
#define RSH_PORT_RSH        514u

/* Field limits, from the daemons: user names of 16 bytes (netkit) to 255
 * (FreeBSD, MAXLOGNAME), passwords up to _PASSWORD_LEN (128), a command up
 * to ARG_MAX.  Past them the daemon refuses ("locuser too long"), so a
 * longer field is not this protocol; a command longer than RSH_CMD_MAX is
 * kept cut. */
#define RSH_PORT_DIGITS     5u
#define RSH_USER_MAX        255u
#define RSH_PASS_MAX        128u
#define RSH_TERM_MAX        64u
#define RSH_CMD_MAX         (256u * 1024u)
/* Bytes of each field kept for the evidence (the reporter shows at most
 * EVIDENCE_MAX_TEXT of the whole login); a whole rexec password fits, so
 * its fingerprint is the password's. */
#define RSH_KEEP            RSH_PASS_MAX
#define RSH_FIELDS          4u
/* rlogin window size message (RFC 1282): a 4-byte cookie, then rows,
 * columns, x and y pixels as 16-bit values. */
#define RSH_WIN_COOKIE      4u
#define RSH_WIN_LEN         12u

enum rsh_kind { RSH_RSH = 0, RSH_RLOGIN, RSH_REXEC };

struct rsh_state {
    uint8_t kind;               /* enum rsh_kind, from the server port */
    uint8_t field;              /* field being read; RSH_FIELDS: login read */
    uint32_t flen;              /* bytes of that field so far */
    uint8_t keep[RSH_FIELDS][RSH_KEEP];
    uint8_t klen[RSH_FIELDS];
    uint8_t cut;                /* bit i: field i was longer than RSH_KEEP */
    bool plaintext;             /* detector_flow_plaintext() called */
    bool pw_wait;               /* the server prompted for a password */
    uint8_t prompt;             /* bytes of "password:" matched in the server's output */
    uint8_t win;                /* rlogin: bytes of a window size message read so far */
    struct textline_acc typed;  /* rlogin: the line being typed */
    struct secrets_stream ss[2];
};

static const struct rule rule_login = {
    .id = "rsh.cleartext-login",
    .severity = SEV_CRITICAL,
    .title = "rsh/rlogin/rexec login in cleartext (user names, command or password readable)",
    .remediation = "Disable rshd, rlogind and rexecd (inetd/xinetd or systemd rsh.socket, "
                   "rlogin.socket, rexec.socket), remove .rhosts and hosts.equiv trust, and "
                   "use SSH with key authentication instead.",
    .compliance = COMPLIANCE_ADMIN,
};

static const char *const rsh_names[] = { "rsh", "rlogin", "rexec" };

/* Which of the three a server port is; false for other ports. */
static bool rsh_kind_of_port(uint16_t port, uint8_t *kind)
{
    if (port == RSH_PORT_RSH)
        *kind = RSH_RSH;
    else if (port == RSH_PORT_RLOGIN)
        *kind = RSH_RLOGIN;
    else if (port == RSH_PORT_REXEC)
        *kind = RSH_REXEC;
    else
        return false;
    return true;
}

/* The longest field i of a kind may be. */
static uint32_t rsh_field_max(uint8_t kind, unsigned i)
{
    switch (i) {
    case 0:
        return kind == RSH_RLOGIN ? 0 : RSH_PORT_DIGITS;
    case 1:
        return RSH_USER_MAX;
    case 2:
        return kind == RSH_REXEC ? RSH_PASS_MAX : RSH_USER_MAX;
    default:
        return kind == RSH_RLOGIN ? RSH_TERM_MAX : RSH_CMD_MAX;
    }
}

/* Whether byte b may appear in field i: digits for the port, visible
 * ASCII for user names and the terminal, any text for a password or a
 * command (UTF-8 included). */
static bool rsh_field_byte(uint8_t kind, unsigned i, uint8_t b)
{
    if (i == 0)
        return b >= '0' && b <= '9';
    if ((i == 1 || i == 2) && !(kind == RSH_REXEC && i == 2))
        return b > 0x20 && b < 0x7f;
    if (i == 3 && kind == RSH_RLOGIN)
        return b > 0x20 && b < 0x7f;
    return b >= 0x20 || b == '\t' || b == '\n' || b == '\r';
}

/* Whether an ended field of flen bytes is acceptable (user names are not
 * empty; an rexec password may be). */
static bool rsh_field_end_ok(uint8_t kind, unsigned i, uint32_t flen)
{
    if (i == 1 || (i == 2 && kind != RSH_REXEC))
        return flen > 0;
    return true;
}

/* What a run of handshake bytes did. */
enum rsh_step { RS_FIELD, RS_ENDED, RS_BAD };

/*
 * Reads the bytes of the current field at c, up to and including its NUL.
 * *field and *flen advance; kept bytes go to keep/klen when given.  Returns
 * RS_ENDED when the field ended (or a command reached RSH_CMD_MAX), RS_FIELD
 * when the bytes ran out first, RS_BAD when a byte or a length does not fit.
 */
static enum rsh_step rsh_read_field(uint8_t kind, unsigned field, uint32_t *flen,
                                    struct cursor *c, uint8_t *keep, uint8_t *klen,
                                    uint8_t *cut)
{
    uint32_t max = rsh_field_max(kind, field);
    while (cur_left(c) > 0) {
        uint8_t b = cur_u8(c);
        if (b == 0)
            return rsh_field_end_ok(kind, field, *flen) ? RS_ENDED : RS_BAD;
        if (!rsh_field_byte(kind, field, b))
            return RS_BAD;
        if (keep != NULL && *klen < RSH_KEEP)
            keep[(*klen)++] = b;
        else if (cut != NULL)
            *cut |= (uint8_t)(1u << field);
        (*flen)++;
        if (*flen >= max && field == 3 && kind != RSH_RLOGIN)
            return RS_ENDED;    /* a command this long: keep its start */
        if (*flen > max)
            return RS_BAD;
    }
    return RS_FIELD;
}

/* Checks the head of a client stream: how many fields it completes
 * validly, or -1 when a byte does not fit the kind. */
static int rsh_head_fields(uint8_t kind, const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    unsigned field = 0;
    uint32_t flen = 0;
    while (field < RSH_FIELDS && cur_left(&c) > 0) {
        enum rsh_step r = rsh_read_field(kind, field, &flen, &c, NULL, NULL, NULL);
        if (r == RS_BAD)
            return -1;
        if (r == RS_FIELD)
            break;
        field++;
        flen = 0;
    }
    return (int)field;
}

/* Appends "name=value" (the kept bytes of a field, "..." when it was
 * longer) to out. */
static void rsh_append(char *out, size_t cap, size_t *o, const char *name,
                       const uint8_t *v, size_t n, bool cut)
{
    if (*o >= cap)
        return;
    int w = snprintf(out + *o, cap - *o, "%s%s=%.*s%s", *o > 0 ? " " : "", name, (int)n,
                     (const char *)v, cut ? "..." : "");
    if (w > 0)
        *o += (size_t)w;
}

/* The client's fields are all read: states the login. */
static void rsh_login(struct det_ctx *ctx, struct rsh_state *st)
{
    static const char *const labels[3][RSH_FIELDS] = {
        [RSH_RSH] = { NULL, "client_user", "server_user", "command" },
        [RSH_RLOGIN] = { NULL, "client_user", "server_user", "terminal" },
        [RSH_REXEC] = { NULL, "user", NULL, "command" },
    };
    char text[3 * RSH_KEEP + 64];
    size_t o = 0;
    text[0] = '\0';
    for (unsigned i = 1; i < RSH_FIELDS; i++)
        if (labels[st->kind][i] != NULL)
            rsh_append(text, sizeof text, &o, labels[st->kind][i], st->keep[i], st->klen[i],
                       (st->cut >> i) & 1u);
    if (o > sizeof text - 1)
        o = sizeof text - 1;
    detector_emit(ctx, &rule_login, DIR_TO_SERVER, rsh_names[st->kind], text, o, EV_TEXT);
    if (st->kind == RSH_REXEC && st->klen[2] > 0)
        detector_emit(ctx, &rule_login, DIR_TO_SERVER, "password", st->keep[2], st->klen[2],
                      EV_SECRET);
}

/* The client's handshake, field by field; returns the bytes used (all of
 * p/n unless the login ended within them). */
static size_t rsh_client_login(struct det_ctx *ctx, struct rsh_state *st, const uint8_t *p,
                               size_t n)
{
    struct cursor c = cursor_init(p, n);
    while (st->field < RSH_FIELDS && cur_left(&c) > 0) {
        unsigned i = st->field;
        enum rsh_step r = rsh_read_field(st->kind, i, &st->flen, &c, st->keep[i],
                                         &st->klen[i], &st->cut);
        if (r == RS_BAD) {
            /* not a remote-command handshake: nothing to read here */
            detector_detach(ctx);
            return n;
        }
        if (r == RS_FIELD)
            break;
        st->field++;
        st->flen = 0;
        if (st->field == 1 && !st->plaintext) {
            st->plaintext = true;
            detector_flow_plaintext(ctx, st->kind == RSH_RLOGIN ? "RLOGIN" :
                                    st->kind == RSH_REXEC ? "REXEC" : "RSH");
        }
        if (st->field == RSH_FIELDS)
            rsh_login(ctx, st);
    }
    return c.off;
}

/* One byte the user typed: a line that ends after a password prompt is
 * the password (the terminal does not echo it). */
static void rsh_typed_byte(struct det_ctx *ctx, struct rsh_state *st, uint8_t b)
{
    if (!textline_acc_put(&st->typed, b))
        return;
    if (st->pw_wait)
        detector_emit(ctx, &rule_login, DIR_TO_SERVER, "password", st->typed.buf,
                      st->typed.len, EV_SECRET);
    st->pw_wait = false;
    textline_acc_reset(&st->typed);
}

/*
 * rlogin: follows what the user types, less the window size messages
 * (RFC 1282), byte by byte so that one split across segments is found:
 *   +------+------+-----+-----+------+------+--------+--------+
 *   | 0xff | 0xff | 's' | 's' | rows | cols | xpixel | ypixel |
 *   +------+------+-----+-----+------+------+--------+--------+
 *                               2 bytes each, network order
 * The client sends one whenever the server asks (urgent byte 0x80), which
 * BSD rlogind does as it starts login: one can fall between the Password:
 * prompt and the password, and its sizes hold NUL bytes, which would end
 * the typed line there.  Bytes that start like the cookie but break it
 * were typed, and go on to the line.
 */
static void rsh_typed(struct det_ctx *ctx, struct rsh_state *st, const uint8_t *p, size_t n)
{
    static const uint8_t cookie[RSH_WIN_COOKIE] = { 0xff, 0xff, 's', 's' };
    struct cursor c = cursor_init(p, n);
    while (cur_left(&c) > 0) {
        uint8_t b = cur_u8(&c);
        if (st->win >= RSH_WIN_COOKIE) {
            /* a size byte of a window message: not typed */
            st->win = (uint8_t)((st->win + 1u) % RSH_WIN_LEN);
            continue;
        }
        if (b == cookie[st->win]) {
            st->win++;
            continue;
        }
        if (st->win == 2 && b == 0xff) {
            /* FF FF FF: the first was typed, the last two may open a message */
            rsh_typed_byte(ctx, st, 0xff);
            continue;
        }
        /* not a window message after all: the held cookie bytes were typed */
        for (unsigned i = 0; i < st->win; i++)
            rsh_typed_byte(ctx, st, cookie[i]);
        st->win = 0;
        if (b == cookie[0])
            st->win = 1;
        else
            rsh_typed_byte(ctx, st, b);
    }
}

/* Looks for "password:" (any case) in the server's output, byte by byte so
 * a prompt split across segments is found. */
static void rsh_prompt(struct rsh_state *st, const uint8_t *p, size_t n)
{
    static const char word[] = "password:";
    struct cursor c = cursor_init(p, n);
    while (cur_left(&c) > 0) {
        uint8_t b = cur_u8(&c);
        if (b >= 'A' && b <= 'Z')
            b = (uint8_t)(b - 'A' + 'a');
        if (b == (uint8_t)word[st->prompt])
            st->prompt++;
        else
            st->prompt = b == 'p' ? 1 : 0;
        if (st->prompt == sizeof word - 1) {
            st->prompt = 0;
            st->pw_wait = true;
            textline_acc_reset(&st->typed);
        }
    }
}

static size_t rsh_on_data(struct det_ctx *ctx, enum dir d, const uint8_t *p, size_t n)
{
    struct rsh_state *st = ctx->state;
    if (st->field < RSH_FIELDS) {
        if (d == DIR_TO_CLIENT) {
            /* the server speaks only after the whole login: not ours */
            detector_detach(ctx);
            return n;
        }
        return rsh_client_login(ctx, st, p, n);
    }
    if (d == DIR_TO_SERVER && st->kind == RSH_RLOGIN)
        rsh_typed(ctx, st, p, n);
    if (d == DIR_TO_CLIENT)
        rsh_prompt(st, p, n);
    secrets_stream_feed(ctx, &st->ss[d], d, "session", p, n);
    return n;
}

static void rsh_on_gap(struct det_ctx *ctx, enum dir d, uint64_t len)
{
    struct rsh_state *st = ctx->state;
    (void)len;
    secrets_stream_end(ctx, &st->ss[d], d, "session");
    detector_detach(ctx);   /* never parse across lost bytes */
}

static void rsh_on_end(struct det_ctx *ctx)
{
    struct rsh_state *st = ctx->state;
    for (int d = 0; d < 2; d++)
        secrets_stream_end(ctx, &st->ss[d], (enum dir)d, "session");
}

static void rsh_on_start(struct det_ctx *ctx)
{
    struct rsh_state *st = ctx->state;
    uint8_t kind = RSH_RLOGIN;      /* other ports: only the rlogin shape is taken */
    (void)rsh_kind_of_port(ctx->flow->server_port, &kind);
    st->kind = kind;
}

/*
 * On the three ports, the client's first bytes must be a valid start of
 * the login (at least its first field, so a lone port number and NUL is
 * enough: rsh clients send it and wait) and the server must not have
 * spoken first with anything but the status byte.  On other ports only a
 * complete rlogin opening is taken ("\0user\0user\0term/speed\0").
 */
static bool rsh_wants(const struct flow_view *f)
{
    uint8_t kind;
    if (f->transport != 6)
        return false;
    const uint8_t *c = f->head[DIR_TO_SERVER], *s = f->head[DIR_TO_CLIENT];
    size_t cn = f->head_len[DIR_TO_SERVER], sn = f->head_len[DIR_TO_CLIENT];
    if (c == NULL || cn == 0)
        return false;
    if (rsh_kind_of_port(f->server_port, &kind)) {
        struct cursor sc = cursor_init(s, sn);
        uint8_t status = cur_u8(&sc);
        if (!sc.bad && status > 1)
            return false;
        return rsh_head_fields(kind, c, cn) >= 1;
    }
    if (rsh_head_fields(RSH_RLOGIN, c, cn) != (int)RSH_FIELDS)
        return false;
    /* the terminal field names a type and a speed: "xterm/38400" */
    struct cursor tc = cursor_init(c, cn);
    for (unsigned i = 0; i < RSH_FIELDS - 1; i++) {
        size_t len;
        (void)cur_cstr(&tc, RSH_USER_MAX, &len);
    }
    size_t tlen;
    const uint8_t *term = cur_cstr(&tc, RSH_TERM_MAX, &tlen);
    return term != NULL && memchr(term, '/', tlen) != NULL;
}

static const struct rule *const rsh_rules[] = {
    &rule_login,
    &secrets_rule_jwt,
    &secrets_rule_api_key,
    &secrets_rule_private_key,
    &secrets_rule_card,
    &secrets_rule_ssn,
    &secrets_rule_email,
};

const struct detector detector_rsh = {
    .name       = "rsh",                    /* protocol name in the report */
    .rules      = rsh_rules,                /* rules this file can fire */
    .nrules     = ARRAY_LEN(rsh_rules),
    .state_size = sizeof(struct rsh_state),
    .wants      = rsh_wants,                /* ports 512-514 with a login, or an rlogin opening */
    .on_start   = rsh_on_start,             /* which of the three, by port */
    .on_data    = rsh_on_data,              /* the login field by field, then the session */
    .on_gap     = rsh_on_gap,               /* stop at lost bytes */
    .on_end     = rsh_on_end,               /* decide the secrets engine's held bytes */
};

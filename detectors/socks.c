/*
 * socks.c - SOCKS proxy handshakes: the user name and password of SOCKS5
 * username/password authentication, and the SOCKS4 user id, in clear.
 *
 * Follows RFC 1928 (SOCKS5: method negotiation, request, reply), RFC 1929
 * (the username/password sub-negotiation: version 1, ULEN, UNAME, PLEN,
 * PASSWD) and the SOCKS4 and SOCKS4a notes (request VN=4 CD DSTPORT DSTIP
 * USERID NUL [HOSTNAME NUL], reply of 8 bytes).  The handshake is read in
 * both directions until the tunnel opens; then the detector leaves: the
 * tunnelled bytes belong to the detectors of what they carry (HTTP finds
 * its request after a SOCKS handshake by itself).  Left out: GSS-API
 * authentication (RFC 1961; its messages may be protected, and carry no
 * password), and the UDP ASSOCIATE datagrams.
 */
#include "detector.h"

#include <string.h>

#include "../scanner/cursor.h"

#define SOCKS_PORT          1080u
/* SOCKS4 user ids and SOCKS4a host names are NUL-terminated with no stated
 * limit; servers take 255 at most (Dante, ss5), as SOCKS5 does by design. */
#define SOCKS_NAME_MAX      255u

enum socks_method {
    SOCKS_M_NONE = 0x00,
    SOCKS_M_GSSAPI = 0x01,
    SOCKS_M_USERPASS = 0x02,
    SOCKS_M_REFUSED = 0xff,
};

/* Where each direction is in the handshake. */
enum socks_phase {
    SP_START = 0,           /* client: greeting or SOCKS4 request; server: first reply */
    SP_SOCKS5,              /* client: sub-negotiation or request; server: status or reply */
    SP_DONE,                /* the tunnel is open (or the handshake ended) */
};

struct socks_state {
    uint8_t phase[2];       /* enum socks_phase, per direction */
    uint8_t version;        /* 4 or 5, from the client's first byte */
    bool plaintext;         /* detector_flow_plaintext() called */
};

/* What a parse step found. */
enum socks_res {
    SR_MORE,                /* the message is not complete: wait */
    SR_OK,                  /* read; *used says how much */
    SR_BAD,                 /* not SOCKS */
};

static const struct rule rule_auth = {
    .id = "socks.cleartext-auth",
    .severity = SEV_CRITICAL,
    .title = "SOCKS proxy authentication (user name and password, or user id) sent in "
             "cleartext",
    .remediation = "Use an authenticated, encrypted tunnel (SSH dynamic forwarding or a TLS "
                   "proxy) instead of SOCKS username/password or SOCKS4 user ids, and change "
                   "the exposed passwords.",
    .compliance = COMPLIANCE_CREDENTIALS,
};

/*
 * SOCKS5 greeting (RFC 1928 3):
 *   +-----+----------+----------+
 *   | VER | NMETHODS | METHODS  |
 *   |  5  |    1     | 1 to 255 |
 *   +-----+----------+----------+
 * Methods: 0 none, 1 GSS-API, 2 username/password, 3-0x7f IANA, 0x80-0xfe
 * private; 0xff is only a reply.
 */
static enum socks_res socks5_greeting(const uint8_t *p, size_t n, size_t *used)
{
    struct cursor c = cursor_init(p, n);
    uint8_t ver = cur_u8(&c);
    uint8_t nm = cur_u8(&c);
    const uint8_t *m = cur_take(&c, nm);
    if (c.bad)
        return (n >= 1 && ver != 5) || (n >= 2 && nm == 0) ? SR_BAD : SR_MORE;
    if (ver != 5 || nm == 0)
        return SR_BAD;
    struct cursor mc = cursor_init(m, nm);
    while (cur_left(&mc) > 0) {
        uint8_t method = cur_u8(&mc);
        /* assigned methods stop at 0x09 (IANA registry); 0xff is no method */
        if ((method > 0x09 && method < 0x80) || method == SOCKS_M_REFUSED)
            return SR_BAD;
    }
    *used = c.off;
    return SR_OK;
}

/*
 * SOCKS4 request (and SOCKS4a when DSTIP is 0.0.0.x, x != 0):
 *   +----+----+---------+-------+--------+------+ - - - - - - +------+
 *   | VN | CD | DSTPORT | DSTIP | USERID | NUL  |  HOSTNAME   | NUL  |
 *   | 4  |1/2 |    2    |   4   |  var   |  1   |  (4a only)  |  1   |
 *   +----+----+---------+-------+--------+------+ - - - - - - +------+
 * Sets the user id span (may be empty).
 */
static bool socks_printable(const uint8_t *s, size_t n)
{
    struct cursor c = cursor_init(s, n);
    while (cur_left(&c) > 0) {
        uint8_t b = cur_u8(&c);
        if (b < 0x20 || b == 0x7f)
            return false;
    }
    return true;
}

/* A NUL-terminated name of at most SOCKS_NAME_MAX printable bytes. */
static enum socks_res socks_name(struct cursor *c, const uint8_t **s, size_t *len)
{
    size_t left = cur_left(c);
    *s = cur_cstr(c, SOCKS_NAME_MAX, len);
    if (*s == NULL)
        return left > SOCKS_NAME_MAX ? SR_BAD : SR_MORE;
    return socks_printable(*s, *len) ? SR_OK : SR_BAD;
}

static enum socks_res socks4_request(const uint8_t *p, size_t n, size_t *used,
                                     const uint8_t **uid, size_t *ulen)
{
    struct cursor c = cursor_init(p, n);
    uint8_t vn = cur_u8(&c);
    uint8_t cd = cur_u8(&c);
    cur_skip(&c, 2);
    uint32_t ip = cur_be32(&c);
    if (c.bad)
        return (n >= 1 && vn != 4) || (n >= 2 && cd != 1 && cd != 2) ? SR_BAD : SR_MORE;
    if (vn != 4 || (cd != 1 && cd != 2))
        return SR_BAD;
    enum socks_res r = socks_name(&c, uid, ulen);
    if (r != SR_OK)
        return r;
    if (ip > 0 && ip < 256) {
        const uint8_t *host;
        size_t hlen;
        r = socks_name(&c, &host, &hlen);
        if (r != SR_OK)
            return r;
        if (hlen == 0)
            return SR_BAD;      /* SOCKS4a names the host it wants */
    }
    *used = c.off;
    return SR_OK;
}

/* SOCKS4 reply: VN (0; some servers echo 4), CD 90-93, DSTPORT, DSTIP. */
static enum socks_res socks4_reply(const uint8_t *p, size_t n, size_t *used)
{
    struct cursor c = cursor_init(p, n);
    uint8_t vn = cur_u8(&c);
    uint8_t cd = cur_u8(&c);
    cur_skip(&c, 6);
    if (c.bad)
        return SR_MORE;
    if ((vn != 0 && vn != 4) || cd < 90 || cd > 93)
        return SR_BAD;
    *used = c.off;
    return SR_OK;
}

/*
 * RFC 1929 2:
 *   +----+------+----------+------+----------+
 *   |VER | ULEN |  UNAME   | PLEN |  PASSWD  |
 *   | 1  |  1   | 1 to 255 |  1   | 1 to 255 |
 *   +----+------+----------+------+----------+
 * VER is 1.  Some clients send PLEN 0; that is still a login.
 */
static enum socks_res socks5_userpass(const uint8_t *p, size_t n, size_t *used,
                                      const uint8_t **user, size_t *ulen,
                                      const uint8_t **pass, size_t *plen)
{
    struct cursor c = cursor_init(p, n);
    cur_skip(&c, 1);
    *ulen = cur_u8(&c);
    if (!c.bad && *ulen == 0)
        return SR_BAD;      /* RFC 1929: a user name of 1 to 255 bytes */
    *user = cur_take(&c, *ulen);
    *plen = cur_u8(&c);
    *pass = cur_take(&c, *plen);
    if (c.bad)
        return SR_MORE;
    *used = c.off;
    return SR_OK;
}

/*
 * SOCKS5 request and reply share a shape (RFC 1928 4 and 6):
 *   +-----+---------+-------+------+----------+----------+
 *   | VER | CMD/REP |  RSV  | ATYP | ADDR     | PORT     |
 *   |  5  |    1    |   0   |  1   | variable |    2     |
 *   +-----+---------+-------+------+----------+----------+
 * ATYP 1: 4 bytes, 3: a length byte and a name, 4: 16 bytes.  max_code
 * bounds CMD (3) or REP (8).
 */
static enum socks_res socks5_message(const uint8_t *p, size_t n, size_t *used,
                                     uint8_t max_code)
{
    struct cursor c = cursor_init(p, n);
    uint8_t ver = cur_u8(&c);
    uint8_t code = cur_u8(&c);
    uint8_t rsv = cur_u8(&c);
    uint8_t atyp = cur_u8(&c);
    if (c.bad)
        return SR_MORE;
    /* commands are 1-3 (CONNECT, BIND, UDP ASSOCIATE), replies 0-8 */
    if (ver != 5 || code > max_code || (max_code == 3 && code == 0) || rsv != 0)
        return SR_BAD;
    if (atyp == 1)
        cur_skip(&c, 4);
    else if (atyp == 3)
        cur_skip(&c, cur_u8(&c));
    else if (atyp == 4)
        cur_skip(&c, 16);
    else
        return SR_BAD;      /* no other address type exists */
    cur_skip(&c, 2);
    if (c.bad)
        return SR_MORE;
    *used = c.off;
    return SR_OK;
}

static void socks_is_socks(struct det_ctx *ctx, struct socks_state *st)
{
    if (st->plaintext)
        return;
    st->plaintext = true;
    detector_flow_plaintext(ctx, "SOCKS");
}

/* One client message; returns what it found, *used the bytes it took. */
static enum socks_res socks_client(struct det_ctx *ctx, struct socks_state *st,
                                   const uint8_t *p, size_t n, size_t *used)
{
    const uint8_t *user, *pass;
    size_t ulen, plen;
    enum socks_res r;
    struct cursor c = cursor_init(p, n);
    uint8_t first = cur_u8(&c);
    if (st->phase[DIR_TO_SERVER] == SP_START) {
        st->version = first;
        if (st->version == 4) {
            r = socks4_request(p, n, used, &user, &ulen);
            if (r != SR_OK)
                return r;
            socks_is_socks(ctx, st);
            if (ulen > 0)
                detector_emit(ctx, &rule_auth, DIR_TO_SERVER, "userid", user, ulen, EV_TEXT);
            st->phase[DIR_TO_SERVER] = SP_DONE;
            return SR_OK;
        }
        r = socks5_greeting(p, n, used);
        if (r != SR_OK)
            return r;
        socks_is_socks(ctx, st);
        st->phase[DIR_TO_SERVER] = SP_SOCKS5;
        return SR_OK;
    }
    /* after the greeting: the sub-negotiation (version 1) or the request
     * (version 5), told apart by their first byte, so a client that sends
     * them before the server's answer is read the same */
    if (first == 1) {
        r = socks5_userpass(p, n, used, &user, &ulen, &pass, &plen);
        if (r != SR_OK)
            return r;
        detector_emit(ctx, &rule_auth, DIR_TO_SERVER, "user", user, ulen, EV_TEXT);
        if (plen > 0)
            detector_emit(ctx, &rule_auth, DIR_TO_SERVER, "password", pass, plen, EV_SECRET);
        return SR_OK;
    }
    r = socks5_message(p, n, used, 3);
    if (r == SR_OK)
        st->phase[DIR_TO_SERVER] = SP_DONE;
    return r;
}

/* One server message. */
static enum socks_res socks_server(struct socks_state *st, const uint8_t *p, size_t n,
                                   size_t *used)
{
    struct cursor c = cursor_init(p, n);
    uint8_t b0 = cur_u8(&c);
    uint8_t b1 = cur_u8(&c);
    if (st->version == 4) {
        enum socks_res r = socks4_reply(p, n, used);
        if (r == SR_OK)
            st->phase[DIR_TO_CLIENT] = SP_DONE;
        return r;
    }
    if (st->version != 5)
        return SR_BAD;      /* the server spoke first: not SOCKS */
    if (c.bad)
        return SR_MORE;
    if (st->phase[DIR_TO_CLIENT] == SP_START) {
        /* method selection: VER 5, METHOD */
        if (b0 != 5)
            return SR_BAD;
        *used = 2;
        st->phase[DIR_TO_CLIENT] = b1 == SOCKS_M_REFUSED ? SP_DONE : SP_SOCKS5;
        if (b1 == SOCKS_M_GSSAPI)
            return SR_BAD;  /* GSS-API messages follow: nothing we read */
        return SR_OK;
    }
    if (b0 == 1) {
        /* sub-negotiation status: VER 1, STATUS (0 success) */
        *used = 2;
        if (b1 != 0)
            st->phase[DIR_TO_CLIENT] = SP_DONE;   /* refused: the server closes */
        return SR_OK;
    }
    enum socks_res r = socks5_message(p, n, used, 8);
    if (r == SR_OK)
        st->phase[DIR_TO_CLIENT] = SP_DONE;
    return r;
}

static size_t socks_on_data(struct det_ctx *ctx, enum dir d, const uint8_t *p, size_t n)
{
    struct socks_state *st = ctx->state;
    size_t used = 0;
    enum socks_res r;
    if (st->phase[d] == SP_DONE)
        return n;           /* tunnel bytes: another detector's */
    if (n == 0)
        return 0;
    if (d == DIR_TO_SERVER)
        r = socks_client(ctx, st, p, n, &used);
    else
        r = socks_server(st, p, n, &used);
    if (r == SR_MORE)
        return 0;
    if (r == SR_BAD) {
        /* not SOCKS (or GSS-API from here on): nothing more to read */
        detector_detach(ctx);
        return n;
    }
    if (st->phase[DIR_TO_SERVER] == SP_DONE && st->phase[DIR_TO_CLIENT] == SP_DONE)
        detector_detach(ctx);
    return used;
}

static void socks_on_gap(struct det_ctx *ctx, enum dir d, uint64_t len)
{
    (void)d;
    (void)len;
    detector_detach(ctx);   /* the message boundaries are lost: stop */
}

/* A server's first reply to a SOCKS5 greeting: VER 5 and a method the
 * client offered, or 0xff (none acceptable). */
static bool socks5_reply_fits(const uint8_t *s, size_t sn, const uint8_t *c, size_t cn)
{
    struct cursor sc = cursor_init(s, sn);
    struct cursor cc = cursor_init(c, cn);
    uint8_t ver = cur_u8(&sc);
    uint8_t method = cur_u8(&sc);
    cur_skip(&cc, 1);
    uint8_t nm = cur_u8(&cc);
    if (sc.bad || cc.bad || ver != 5)
        return false;
    if (method == SOCKS_M_REFUSED)
        return true;
    for (size_t i = 0; i < nm; i++)
        if (cur_u8(&cc) == method && !cc.bad)
            return true;
    return false;
}

/* SOCKS when nDPI says so, or when the client's first message is a SOCKS5
 * greeting or a SOCKS4 request and the server's first bytes answer it (on
 * the SOCKS port, a client message alone is enough: the server may not
 * have answered within the capture). */
static bool socks_wants(const struct flow_view *f)
{
    if (f->transport != 6)
        return false;
    if (flow_dpi_is(f, "SOCKS"))
        return true;
    const uint8_t *c = f->head[DIR_TO_SERVER], *s = f->head[DIR_TO_CLIENT];
    size_t cn = f->head_len[DIR_TO_SERVER], sn = f->head_len[DIR_TO_CLIENT];
    if (c == NULL || cn == 0)
        return false;
    size_t used;
    bool alone = (s == NULL || sn == 0) && f->server_port == SOCKS_PORT;
    if (socks5_greeting(c, cn, &used) == SR_OK) {
        /* the greeting is the whole first message: more bytes can only be
         * a sub-negotiation (1) or a request (5) sent without waiting */
        struct cursor next = cursor_init(c, cn);
        cur_skip(&next, used);
        uint8_t b = cur_u8(&next);
        if (!next.bad && b != 1 && b != 5)
            return false;
        return alone || (s != NULL && socks5_reply_fits(s, sn, c, cn));
    }
    const uint8_t *uid;
    size_t ulen;
    if (socks4_request(c, cn, &used, &uid, &ulen) == SR_OK)
        return alone || (s != NULL && socks4_reply(s, sn, &used) == SR_OK);
    return false;
}

static const struct rule *const socks_rules[] = {
    &rule_auth,
};

const struct detector detector_socks = {
    .name       = "socks",                  /* protocol name in the report */
    .rules      = socks_rules,              /* rules this file can fire */
    .nrules     = ARRAY_LEN(socks_rules),
    .state_size = sizeof(struct socks_state),
    .wants      = socks_wants,              /* nDPI SOCKS, or a greeting the server answers */
    .on_data    = socks_on_data,            /* one handshake message per call */
    .on_gap     = socks_on_gap,             /* framing lost: detach */
};

/*
 * ftp.c - FTP control connections: logins in clear, and AUTH TLS offered
 * but not used.
 *
 * Follows RFC 959 (commands USER, PASS; three-digit replies, multi-line
 * replies "211-" ... "211 "), RFC 2389 (FEAT) and RFC 4217 (AUTH TLS, reply
 * 234, then the TLS handshake on the same connection).  Each direction is
 * read a line at a time through detectors/textline.c.  Left out: data
 * connections (their bytes are the files; the control connection says what
 * moved), ACCT, and the FTP-over-SSH or implicit-FTPS ports (TLS from the
 * first byte: detectors/tls.c reads those).
 */
#include "detector.h"
#include "textline.h"

#include <string.h>

#include "../scanner/cursor.h"

/* Longest line read: commands are short (RFC 959 names no limit, servers
 * use 512); a longer reply line is cut, which loses nothing we read. */
#define FTP_LINE_MAX    1024u

struct ftp_state {
    struct textline_reader rd[2];
    bool ftp_seen;          /* a reply or command proved this is FTP */
    bool in_feat;           /* inside the multi-line FEAT reply */
    bool offered;           /* FEAT listed AUTH TLS or AUTH SSL */
    bool requested;         /* the client sent AUTH TLS/SSL */
    bool login_seen;        /* USER or PASS seen */
    bool not_used_done;     /* starttls.not-used stated */
    uint32_t commands;      /* client commands read that work on the server's files */
};

static const struct rule rule_login = {
    .id = "ftp.cleartext-login",
    .severity = SEV_CRITICAL,
    .title = "FTP login (user name and password) sent in cleartext",
    .remediation = "Replace FTP with SFTP, or require FTPS (AUTH TLS) for every login "
                   "(vsftpd force_local_logins_ssl=YES, ProFTPD TLSRequired on), and change "
                   "the exposed passwords.",
    .compliance = COMPLIANCE_CREDENTIALS,
};

static const struct rule rule_session = {
    .id = "ftp.cleartext-session",
    .severity = SEV_MEDIUM,
    .title = "FTP session in cleartext (commands and file names readable)",
    .remediation = "Replace FTP with SFTP, or require FTPS (AUTH TLS) for the control and "
                   "data connections.",
    .compliance = COMPLIANCE_SENSITIVE,
};

static void ftp_is_ftp(struct det_ctx *ctx, struct ftp_state *st)
{
    if (st->ftp_seen)
        return;
    st->ftp_seen = true;
    detector_flow_plaintext(ctx, "FTP");
}

/* A login command sent while the server had offered AUTH TLS. */
static void ftp_check_not_used(struct det_ctx *ctx, struct ftp_state *st,
                               const struct textline *l)
{
    if (!st->offered || st->requested || st->not_used_done)
        return;
    st->not_used_done = true;
    textline_starttls_not_used(ctx, "FTP", "AUTH TLS", l->p, l->len);
}

/* Commands that list, read or change files: what makes a session without
 * a login still worth reporting. */
static bool ftp_file_command(const uint8_t *verb, size_t n)
{
    static const char *const verbs[] = {
        "RETR", "STOR", "STOU", "APPE", "LIST", "NLST", "MLSD", "MLST", "CWD", "CDUP",
        "PWD", "MKD", "RMD", "DELE", "RNFR", "RNTO", "SIZE", "MDTM", "SITE",
    };
    for (size_t i = 0; i < ARRAY_LEN(verbs); i++)
        if (textline_is(verb, n, verbs[i]))
            return true;
    return false;
}

/* One client command: "VERB [argument]". */
static void ftp_command(struct det_ctx *ctx, struct ftp_state *st, const struct textline *l)
{
    struct cursor c = cursor_init(l->p, l->len);
    const uint8_t *verb, *arg;
    size_t vlen = textline_word(&c, &verb);
    size_t alen = textline_rest(&c, &arg);
    if (vlen == 0)
        return;
    if (ftp_file_command(verb, vlen))
        st->commands++;
    if (textline_is(verb, vlen, "USER")) {
        ftp_is_ftp(ctx, st);
        ftp_check_not_used(ctx, st, l);
        st->login_seen = true;
        detector_emit(ctx, &rule_login, DIR_TO_SERVER, "user", arg, alen, EV_TEXT);
    } else if (textline_is(verb, vlen, "PASS")) {
        ftp_is_ftp(ctx, st);
        ftp_check_not_used(ctx, st, l);
        st->login_seen = true;
        if (alen > 0)
            detector_emit(ctx, &rule_login, DIR_TO_SERVER, "password", arg, alen, EV_SECRET);
    } else if (textline_is(verb, vlen, "AUTH")) {
        /* AUTH TLS, SSL, TLS-C, TLS-P (RFC 4217 6); GSSAPI is not TLS */
        if (textline_starts(arg, alen, "TLS") || textline_starts(arg, alen, "SSL"))
            st->requested = true;
    }
}

/* One reply line: "NNN text" (last line) or "NNN-text" (more follow), or
 * a continuation line of a multi-line reply. */
static void ftp_reply(struct det_ctx *ctx, struct ftp_state *st, const struct textline *l)
{
    struct cursor c = cursor_init(l->p, l->len);
    const uint8_t *code = cur_take(&c, 3);
    uint8_t sep = cur_u8(&c);
    bool numbered = code != NULL && code[0] >= '1' && code[0] <= '5' && code[1] >= '0' &&
                    code[1] <= '9' && code[2] >= '0' && code[2] <= '9';
    if (numbered && (c.bad || sep == ' ' || sep == '-'))
        ftp_is_ftp(ctx, st);
    if (numbered && memcmp(code, "211", 3) == 0 && !c.bad && sep == '-') {
        st->in_feat = true;     /* the FEAT list follows, one feature a line */
        return;
    }
    if (st->in_feat) {
        if (textline_contains(l->p, l->len, "AUTH TLS") ||
            textline_contains(l->p, l->len, "AUTH SSL"))
            st->offered = true;
        if (numbered && (c.bad || sep == ' '))
            st->in_feat = false;
    }
}

static size_t ftp_on_data(struct det_ctx *ctx, enum dir d, const uint8_t *p, size_t n)
{
    struct ftp_state *st = ctx->state;
    if (d == DIR_TO_SERVER && textline_is_tls(p, n)) {
        /* the client started TLS (after AUTH TLS, or one we did not see) */
        detector_flow_encrypted(ctx);
        return n;
    }
    struct textline l;
    size_t used = textline_next(&st->rd[d], p, n, FTP_LINE_MAX, &l);
    if (used == 0 || l.p == NULL)
        return used;
    if (d == DIR_TO_SERVER)
        ftp_command(ctx, st, &l);
    else
        ftp_reply(ctx, st, &l);
    return used;
}

/* A lost piece of a line: read on from the next line end. */
static void ftp_on_gap(struct det_ctx *ctx, enum dir d, uint64_t len)
{
    struct ftp_state *st = ctx->state;
    (void)len;
    st->rd[d].skipping = true;
}

static void ftp_on_end(struct det_ctx *ctx)
{
    struct ftp_state *st = ctx->state;
    /* commands in clear but no login in the capture (it started later) */
    if (st->ftp_seen && !st->login_seen && !st->requested && st->commands > 0)
        detector_emit(ctx, &rule_session, DIR_TO_SERVER, "commands", NULL, 0, EV_NONE);
}

/* Whether the server's first line is an FTP greeting: "220" and the word
 * FTP, and not an SMTP greeting (which also starts with 220). */
static bool ftp_banner(const uint8_t *p, size_t n)
{
    const uint8_t *lf = memchr(p, '\n', n);
    size_t len = lf != NULL ? (size_t)(lf - p) : n;
    return (textline_starts(p, len, "220 ") || textline_starts(p, len, "220-")) &&
           textline_contains(p, len, "FTP") && !textline_contains(p, len, "SMTP");
}

static bool ftp_wants(const struct flow_view *f)
{
    if (f->transport != 6)
        return false;
    if (flow_dpi_is(f, "FTP_CONTROL"))
        return true;
    const uint8_t *s = f->head[DIR_TO_CLIENT];
    size_t sn = f->head_len[DIR_TO_CLIENT];
    if (sn > 0 && ftp_banner(s, sn))
        return true;
    /* the usual port, and a greeting-shaped first reply */
    return f->server_port == 21 && sn >= 4 && textline_starts(s, sn, "220");
}

static const struct rule *const ftp_rules[] = {
    &rule_login,
    &rule_session,
    &textline_rule_starttls_not_used,
};

const struct detector detector_ftp = {
    .name       = "ftp",                    /* protocol name in the report */
    .rules      = ftp_rules,                /* rules this file can fire */
    .nrules     = ARRAY_LEN(ftp_rules),
    .state_size = sizeof(struct ftp_state),
    .wants      = ftp_wants,                /* nDPI FTP_CONTROL, or a 220 FTP greeting */
    .on_data    = ftp_on_data,              /* one line per call */
    .on_gap     = ftp_on_gap,               /* resync at the next line */
    .on_end     = ftp_on_end,               /* a session without login */
};

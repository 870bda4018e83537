/*
 * redis.c - Redis sessions in clear: AUTH credentials and the commands run.
 *
 * Follows the Redis serialization protocol (RESP2 and RESP3, "Redis
 * serialization protocol specification" in the Redis documentation).  A
 * client sends each command as an array of bulk strings
 * (*N\r\n $len\r\n bytes\r\n ...) or as an inline line of words
 * ("AUTH secret\r\n", as telnet users and health checks do).  Credentials
 * travel in AUTH [user] password, HELLO proto AUTH user password,
 * CONFIG SET requirepass|masterauth value and ACL SETUSER user >password.
 * Server replies are walked item by item, without tracking nesting: an
 * aggregate header only announces items that follow as ordinary items.
 * Left out: MIGRATE's AUTH/AUTH2 options, the contents of replication
 * streams (PSYNC), and inline escapes (a quoted word is shown raw).
 * Bulk strings larger than the engine can hold are skipped by count.
 */
#define _GNU_SOURCE     /* memmem() */

#include "detector.h"
#include "secrets.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "../scanner/cursor.h"
#include "../scanner/limits.h"
#include "textline.h"

/* A bulk string up to this size is waited for whole; half the engine's
 * pending cap leaves room for the bytes that arrive with it.  Larger ones
 * (a cached page, a serialized object) are skipped by count. */
#define REDIS_MAX_BULK          (REASM_MAX_PENDING / 2u)
/* Redis's own limit on an inline command line (PROTO_INLINE_MAX_SIZE);
 * also bounds the simple-string and error lines of replies. */
#define REDIS_MAX_INLINE        (64u * 1024u)
/* "*2147483647\r\n": the longest array or bulk header. */
#define REDIS_MAX_HEADER        24u
/* Array sizes Redis itself accepts for a command (1024 * 1024). */
#define REDIS_MAX_ARGS          (1024u * 1024u)
/* Distinct command names one flow states in redis.cleartext-session:
 * enough to show what the session does, bounded whatever it runs. */
#define REDIS_MAX_CMD_NAMES     8u
#define REDIS_CMD_NAME_MAX      24u
/* A user name kept until its password arrives (ACL names are short). */
#define REDIS_USER_MAX          64u

/* Commands whose arguments carry credentials. */
enum redis_kind {
    REDIS_CMD_OTHER = 0,
    REDIS_CMD_AUTH,
    REDIS_CMD_HELLO,
    REDIS_CMD_CONFIG,
    REDIS_CMD_ACL,
};

/* What the next argument of a credential command is. */
enum redis_expect {
    REDIS_EXP_NONE = 0,
    REDIS_EXP_USER,             /* a user name, then its password */
    REDIS_EXP_PASSWORD,
    REDIS_EXP_SKIP,             /* one argument of no interest (HELLO SETNAME) */
    REDIS_EXP_PARAM,            /* CONFIG SET: a parameter name */
    REDIS_EXP_VALUE,            /* CONFIG SET: its value, not a secret */
    REDIS_EXP_CONFIG_SECRET,    /* CONFIG SET: its value, a password */
    REDIS_EXP_ACL_RULES,        /* ACL SETUSER: rules, '>' adds a password */
};

/* The client command being read. */
struct redis_cmd {
    uint32_t nargs;             /* arguments announced (RESP) or counted (inline) */
    uint32_t idx;               /* index of the next argument */
    uint8_t kind;               /* enum redis_kind, from argument 0 */
    uint8_t expect;             /* enum redis_expect */
    const char *secret_field;   /* CONFIG SET parameter holding the secret */
    uint8_t user_len;
    char user[REDIS_USER_MAX];
};

struct redis_state {
    bool done;                  /* detached: ignore everything */
    bool plaintext;             /* detector_flow_plaintext() was called */
    bool server_lost;           /* reply framing lost: replies are ignored */
    uint32_t elems_left;        /* bulk strings left in the client's command */
    uint64_t skip[2];           /* bytes of an oversized bulk (and CRLF) to skip */
    struct redis_cmd cmd;
    uint8_t ncmds;
    char cmds[REDIS_MAX_CMD_NAMES][REDIS_CMD_NAME_MAX];
    uint64_t values_seen;       /* values handed to the hook (see redis_scan_value) */
};

#define REDIS_FIX "Enable TLS (tls-port, tls-cert-file) and disable the plaintext port " \
                  "(port 0); use ACL users."

static const struct rule rule_session = {
    .id = "redis.cleartext-session",
    .severity = SEV_MEDIUM,
    .title = "Redis commands and data readable (no TLS)",
    .remediation = REDIS_FIX,
    .compliance = COMPLIANCE_SENSITIVE,
};

static const struct rule rule_auth = {
    .id = "redis.cleartext-auth",
    .severity = SEV_CRITICAL,
    .title = "Redis password sent in clear (AUTH, HELLO AUTH, CONFIG SET or ACL SETUSER)",
    .remediation = REDIS_FIX,
    .compliance = COMPLIANCE_CREDENTIALS,
};

/* Commands the first bytes of a flow may start with, for wants(). */
static const char *const redis_known[] = {
    "AUTH", "HELLO", "PING", "ECHO", "SELECT", "INFO", "CLIENT", "COMMAND", "CONFIG",
    "ACL", "QUIT", "GET", "SET", "SETEX", "SETNX", "MGET", "MSET", "GETSET", "DEL",
    "UNLINK", "EXISTS", "EXPIRE", "PEXPIRE", "TTL", "PTTL", "TYPE", "KEYS", "SCAN",
    "INCR", "INCRBY", "DECR", "DECRBY", "APPEND", "STRLEN", "HGET", "HSET", "HMSET",
    "HMGET", "HGETALL", "HDEL", "HINCRBY", "HSCAN", "LPUSH", "RPUSH", "LPOP", "RPOP",
    "LRANGE", "LLEN", "BLPOP", "BRPOP", "SADD", "SREM", "SMEMBERS", "SISMEMBER",
    "SCARD", "ZADD", "ZREM", "ZRANGE", "ZRANGEBYSCORE", "ZSCORE", "ZCARD", "XADD",
    "XREAD", "XREADGROUP", "XRANGE", "MULTI", "EXEC", "DISCARD", "WATCH", "EVAL",
    "EVALSHA", "SCRIPT", "FUNCTION", "FCALL", "SUBSCRIBE", "PSUBSCRIBE", "PUBLISH",
    "FLUSHALL", "FLUSHDB", "DBSIZE", "TIME", "ROLE", "MONITOR", "SYNC", "PSYNC",
    "REPLCONF", "CLUSTER", "READONLY", "SENTINEL", "MEMORY", "SLOWLOG", "LATENCY",
};

/* The next byte without consuming it, or 0 at the end. */
static uint8_t redis_peek(const struct cursor *c)
{
    struct cursor t = *c;
    return cur_u8(&t);
}

static bool redis_is_known(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < ARRAY_LEN(redis_known); i++)
        if (textline_is(s, n, redis_known[i]))
            return true;
    return false;
}

/* The line at the cursor, through the shared line reader (textline.c).
 * Returns 1 (the line is *len bytes without CR LF; the cursor moves past
 * its LF), 0 (no LF yet: need more) or -1 (max bytes and no LF: longer
 * than Redis accepts, so not Redis or framing lost).  A cut line is never
 * continued, so the reader's state does not outlive the call. */
static int redis_line(struct cursor *c, size_t max, const uint8_t **line, size_t *len)
{
    struct textline_reader r = { false };
    struct textline tl;
    size_t used = textline_next(&r, cur_ptr(c), cur_left(c), max, &tl);
    if (used == 0)
        return 0;
    if (tl.cut || tl.p == NULL)
        return -1;
    cur_skip(c, used);
    *line = tl.p;
    *len = tl.len;
    return 1;
}

/* Parses a header's decimal number (after its type byte): an optional
 * '-' and up to 18 digits.  Returns false on anything else. */
static bool redis_number(const uint8_t *s, size_t n, int64_t *out)
{
    struct cursor c = cursor_init(s, n);
    bool neg = false;
    int64_t v = 0;
    if (redis_peek(&c) == '-') {
        neg = true;
        cur_skip(&c, 1);
    }
    if (cur_left(&c) == 0 || cur_left(&c) > 18)
        return false;
    while (cur_left(&c) > 0) {
        uint8_t b = cur_u8(&c);
        if (b < '0' || b > '9')
            return false;
        v = v * 10 + (b - '0');
    }
    *out = neg ? -v : v;
    return true;
}

/* The number of a header line ("*3", "$12"): the line after its type byte. */
static bool redis_header_number(const uint8_t *line, size_t len, int64_t *out)
{
    struct cursor c = cursor_init(line, len);
    cur_skip(&c, 1);
    return !c.bad && redis_number(cur_ptr(&c), cur_left(&c), out);
}

/*
 * Values stored and read (SET arguments, bulk replies) are where tokens,
 * card numbers and session data sit in a cache: the secrets and PII
 * scanner reads each.  v/n is a whole value, or one piece of an oversized
 * value that is being skipped (a secret across two pieces is missed).
 */
static void redis_scan_value(struct det_ctx *ctx, struct redis_state *st, enum dir d,
                             const uint8_t *v, size_t n)
{
    if (n == 0)
        return;
    secrets_scan(ctx, d, "value", v, n);
    st->values_seen++;
}

static void redis_mark_plaintext(struct det_ctx *ctx, struct redis_state *st)
{
    if (st->plaintext)
        return;
    st->plaintext = true;
    detector_flow_plaintext(ctx, "Redis");
}

static void redis_stop(struct det_ctx *ctx, struct redis_state *st)
{
    st->done = true;
    detector_detach(ctx);
}

/* States one credential: the user (EV_TEXT, so the report names the
 * account) and the password (EV_SECRET, masked and fingerprinted).  A
 * password argument too large to hold (pw NULL) is stated without value. */
static void redis_emit_credential(struct det_ctx *ctx, const char *user, size_t user_len,
                                  const char *field, const uint8_t *pw, size_t pw_len)
{
    if (user != NULL)
        detector_emit(ctx, &rule_auth, DIR_TO_SERVER, "user", user, user_len, EV_TEXT);
    detector_emit(ctx, &rule_auth, DIR_TO_SERVER, field, pw, pw != NULL ? pw_len : 0,
                  pw != NULL ? EV_SECRET : EV_NONE);
}

static void redis_keep_user(struct redis_cmd *cmd, const uint8_t *v, size_t n)
{
    size_t k = v == NULL ? 0 : n < sizeof(cmd->user) ? n : sizeof(cmd->user);
    if (k > 0)
        memcpy(cmd->user, v, k);
    cmd->user_len = (uint8_t)k;
}

/* Argument 0: the command name.  Upper-cased, it picks the argument
 * logic, and each distinct name (up to REDIS_MAX_CMD_NAMES per flow) is
 * stated as evidence of the session. */
static void redis_command_name(struct det_ctx *ctx, struct redis_state *st,
                               const uint8_t *v, size_t n)
{
    struct redis_cmd *cmd = &st->cmd;
    char name[REDIS_CMD_NAME_MAX];
    struct cursor c = cursor_init(v, v == NULL ? 0 : n);

    if (v == NULL || n == 0 || n >= sizeof(name))
        return;                         /* not a name: Redis will refuse it */
    for (size_t i = 0; i < n; i++) {
        uint8_t b = cur_u8(&c);
        bool ok = (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z') ||
                  (b >= '0' && b <= '9') || b == '_' || b == '-' || b == '|' || b == '.';
        if (!ok)
            return;
        name[i] = (char)(b >= 'a' && b <= 'z' ? b - 'a' + 'A' : b);
    }
    name[n] = '\0';

    if (strcmp(name, "AUTH") == 0)
        cmd->kind = REDIS_CMD_AUTH;
    else if (strcmp(name, "HELLO") == 0)
        cmd->kind = REDIS_CMD_HELLO;
    else if (strcmp(name, "CONFIG") == 0)
        cmd->kind = REDIS_CMD_CONFIG;
    else if (strcmp(name, "ACL") == 0)
        cmd->kind = REDIS_CMD_ACL;

    redis_mark_plaintext(ctx, st);
    for (size_t i = 0; i < st->ncmds; i++)
        if (strcmp(st->cmds[i], name) == 0)
            return;
    if (st->ncmds >= REDIS_MAX_CMD_NAMES)
        return;
    memcpy(st->cmds[st->ncmds++], name, n + 1);
    detector_emit(ctx, &rule_session, DIR_TO_SERVER, "command", name, n, EV_TEXT);
}

/* AUTH password | AUTH user password. */
static void redis_auth_arg(struct det_ctx *ctx, struct redis_cmd *cmd, uint32_t idx,
                           const uint8_t *v, size_t n)
{
    if (cmd->nargs == 2 && idx == 1)
        redis_emit_credential(ctx, "default", 7, "password", v, n);
    else if (cmd->nargs == 3 && idx == 1)
        redis_keep_user(cmd, v, n);
    else if (cmd->nargs == 3 && idx == 2)
        redis_emit_credential(ctx, cmd->user, cmd->user_len, "password", v, n);
}

/* HELLO protover [AUTH user password] [SETNAME name]. */
static void redis_hello_arg(struct det_ctx *ctx, struct redis_cmd *cmd, uint32_t idx,
                            const uint8_t *v, size_t n)
{
    switch (cmd->expect) {
    case REDIS_EXP_USER:
        redis_keep_user(cmd, v, n);
        cmd->expect = REDIS_EXP_PASSWORD;
        break;
    case REDIS_EXP_PASSWORD:
        redis_emit_credential(ctx, cmd->user, cmd->user_len, "password", v, n);
        cmd->expect = REDIS_EXP_NONE;
        break;
    case REDIS_EXP_SKIP:
        cmd->expect = REDIS_EXP_NONE;
        break;
    default:
        if (idx >= 2 && textline_is(v, n, "AUTH"))
            cmd->expect = REDIS_EXP_USER;
        else if (idx >= 2 && textline_is(v, n, "SETNAME"))
            cmd->expect = REDIS_EXP_SKIP;
        break;
    }
}

/* CONFIG SET parameter value [parameter value ...]: requirepass and
 * masterauth values are passwords. */
static void redis_config_arg(struct det_ctx *ctx, struct redis_cmd *cmd, uint32_t idx,
                             const uint8_t *v, size_t n)
{
    if (idx == 1) {
        cmd->expect = textline_is(v, n, "SET") ? REDIS_EXP_PARAM : REDIS_EXP_NONE;
        return;
    }
    switch (cmd->expect) {
    case REDIS_EXP_PARAM:
        if (textline_is(v, n, "requirepass")) {
            cmd->secret_field = "requirepass";
            cmd->expect = REDIS_EXP_CONFIG_SECRET;
        } else if (textline_is(v, n, "masterauth")) {
            cmd->secret_field = "masterauth";
            cmd->expect = REDIS_EXP_CONFIG_SECRET;
        } else {
            cmd->expect = REDIS_EXP_VALUE;
        }
        break;
    case REDIS_EXP_CONFIG_SECRET:
        redis_emit_credential(ctx, NULL, 0, cmd->secret_field, v, n);
        cmd->expect = REDIS_EXP_PARAM;
        break;
    case REDIS_EXP_VALUE:
        cmd->expect = REDIS_EXP_PARAM;
        break;
    default:
        break;
    }
}

/* ACL SETUSER user rule...: a rule ">pw" adds, "<pw" removes a password;
 * both show it.  ("#hash" rules carry a SHA-256, not the password.) */
static void redis_acl_arg(struct det_ctx *ctx, struct redis_cmd *cmd, uint32_t idx,
                          const uint8_t *v, size_t n)
{
    struct cursor c = cursor_init(v, v == NULL ? 0 : n);
    uint8_t first = cur_u8(&c);

    if (idx == 1)
        cmd->expect = textline_is(v, n, "SETUSER") ? REDIS_EXP_USER : REDIS_EXP_NONE;
    else if (idx == 2 && cmd->expect == REDIS_EXP_USER) {
        redis_keep_user(cmd, v, n);
        cmd->expect = REDIS_EXP_ACL_RULES;
    } else if (cmd->expect == REDIS_EXP_ACL_RULES && !c.bad && (first == '>' || first == '<'))
        redis_emit_credential(ctx, cmd->user, cmd->user_len, "password",
                              cur_ptr(&c), cur_left(&c));
}

/* One argument of the client's command; v is NULL (and n 0) when the
 * argument was too large to hold: it is skipped by count. */
static void redis_arg(struct det_ctx *ctx, struct redis_state *st, const uint8_t *v, size_t n)
{
    struct redis_cmd *cmd = &st->cmd;
    uint32_t idx = cmd->idx++;

    if (idx == 0) {
        redis_command_name(ctx, st, v, n);
        return;
    }
    switch (cmd->kind) {
    case REDIS_CMD_AUTH:
        redis_auth_arg(ctx, cmd, idx, v, n);
        break;
    case REDIS_CMD_HELLO:
        redis_hello_arg(ctx, cmd, idx, v, n);
        break;
    case REDIS_CMD_CONFIG:
        redis_config_arg(ctx, cmd, idx, v, n);
        break;
    case REDIS_CMD_ACL:
        redis_acl_arg(ctx, cmd, idx, v, n);
        break;
    default:
        if (v != NULL)
            redis_scan_value(ctx, st, DIR_TO_SERVER, v, n);
        break;
    }
}

static void redis_begin_command(struct redis_state *st, uint32_t nargs)
{
    memset(&st->cmd, 0, sizeof(st->cmd));
    st->cmd.nargs = nargs;
}

/* The next word of an inline line: a run of non-blanks, or a "double" or
 * 'single' quoted string (backslash escapes stepped over, not decoded), as
 * Redis splits inline arguments (sdssplitargs); textline_word() knows no
 * quotes.  Returns false at the end of the line. */
static bool redis_inline_word(struct cursor *c, const uint8_t **w, size_t *n)
{
    while (cur_left(c) > 0 && (redis_peek(c) == ' ' || redis_peek(c) == '\t'))
        cur_skip(c, 1);
    if (cur_left(c) == 0)
        return false;
    uint8_t quote = redis_peek(c);
    if (quote == '"' || quote == '\'') {
        cur_skip(c, 1);
        *w = cur_ptr(c);
        size_t start = c->off;
        while (cur_left(c) > 0 && redis_peek(c) != quote)
            cur_skip(c, quote == '"' && redis_peek(c) == '\\' && cur_left(c) > 1 ? 2 : 1);
        *n = c->off - start;
        cur_skip(c, cur_left(c) > 0 ? 1 : 0);      /* the closing quote */
        return true;
    }
    *w = cur_ptr(c);
    size_t start = c->off;
    while (cur_left(c) > 0 && redis_peek(c) != ' ' && redis_peek(c) != '\t')
        cur_skip(c, 1);
    *n = c->off - start;
    return true;
}

/* True when an inline line is text (printable ASCII, tab, or UTF-8). */
static bool redis_is_text(const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    while (cur_left(&c) > 0) {
        uint8_t b = cur_u8(&c);
        if ((b < 0x20 && b != '\t') || b == 0x7f)
            return false;
    }
    return true;
}

/* An inline command: the whole line is here; its words are the arguments. */
static void redis_inline(struct det_ctx *ctx, struct redis_state *st,
                         const uint8_t *line, size_t len)
{
    struct cursor c = cursor_init(line, len);
    const uint8_t *w;
    size_t n;
    uint32_t words = 0;
    while (redis_inline_word(&c, &w, &n))
        words++;
    if (words == 0)
        return;                         /* an empty line: Redis ignores it */
    c = cursor_init(line, len);
    if (!st->plaintext) {
        /* A text line that starts no Redis command we know, before any
         * command made the session certain: another text protocol. */
        (void)redis_inline_word(&c, &w, &n);
        if (!redis_is_known(w, n)) {
            redis_stop(ctx, st);
            return;
        }
        c = cursor_init(line, len);
    }
    redis_begin_command(st, words);
    while (redis_inline_word(&c, &w, &n))
        redis_arg(ctx, st, w, n);
}

/*
 * Client direction, one element at a time:
 *
 *   *<nargs>\r\n                  array header (a new command)
 *   $<len>\r\n<len bytes>\r\n     one argument, nargs times
 *   or: word word ...\r\n         an inline command
 *
 * Returns bytes consumed; 0 means need more (or st->done).
 */
static size_t redis_client_step(struct det_ctx *ctx, struct redis_state *st,
                                const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    const uint8_t *line;
    size_t len;
    int64_t num;
    uint8_t type = redis_peek(&c);

    if (st->elems_left == 0 && type != '*') {
        int r = redis_line(&c, REDIS_MAX_INLINE, &line, &len);
        if (r == 0)
            return 0;                   /* the line is not complete yet */
        if (r < 0 || !redis_is_text(line, len)) {
            redis_stop(ctx, st);        /* neither RESP nor an inline command */
            return 0;
        }
        redis_inline(ctx, st, line, len);
        return c.off;
    }
    if (st->elems_left > 0 && type != '$') {
        redis_stop(ctx, st);            /* Redis accepts only bulk strings inside */
        return 0;
    }

    int r = redis_line(&c, REDIS_MAX_HEADER, &line, &len);
    if (r == 0)
        return 0;                       /* header not all here yet */
    if (r < 0 || !redis_header_number(line, len, &num)) {
        redis_stop(ctx, st);            /* a header we cannot read: framing lost */
        return 0;
    }

    if (type == '*') {
        if (num > (int64_t)REDIS_MAX_ARGS) {
            redis_stop(ctx, st);        /* more than Redis would accept */
            return 0;
        }
        if (num > 0) {
            redis_begin_command(st, (uint32_t)num);
            st->elems_left = (uint32_t)num;
        }
        return c.off;                   /* *0 and *-1 are ignored by Redis too */
    }

    /* '$': one argument of the command. */
    if (num < 0) {
        redis_stop(ctx, st);            /* a client never sends a null */
        return 0;
    }
    if ((uint64_t)num > REDIS_MAX_BULK) {
        st->elems_left--;
        redis_arg(ctx, st, NULL, 0);      /* too large to hold: seen, not read */
        st->skip[DIR_TO_SERVER] = (uint64_t)num + 2;
        return c.off;
    }
    const uint8_t *v = cur_take(&c, (size_t)num);
    const uint8_t *crlf = cur_take(&c, 2);
    if (c.bad)
        return 0;                       /* the bytes are not all here yet */
    if (memcmp(crlf, "\r\n", 2) != 0) {
        redis_stop(ctx, st);            /* the length lied: framing lost */
        return 0;
    }
    st->elems_left--;
    redis_arg(ctx, st, v, (size_t)num);
    return c.off;
}

/*
 * Server direction, one item at a time, nesting ignored:
 *
 *   + - : _ , # (   one line (simple string, error, number, null, ...)
 *   $ ! =           <len>\r\n<len bytes>\r\n (bulk, blob error, verbatim)
 *   * % ~ > |       <count>\r\n, the elements follow as items
 *
 * Returns bytes consumed; 0 means need more.
 */
static size_t redis_server_step(struct det_ctx *ctx, struct redis_state *st,
                                const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    const uint8_t *line;
    size_t len;
    int64_t num;
    uint8_t type = redis_peek(&c);

    if (type != 0 && strchr("+-:_,#(", type) != NULL) {
        int r = redis_line(&c, REDIS_MAX_INLINE, &line, &len);
        if (r < 0)
            st->server_lost = true;     /* an endless line: not a reply */
        return r > 0 ? c.off : 0;
    }
    if (type == 0 || strchr("$!=*%~>|", type) == NULL) {
        st->server_lost = true;         /* not a RESP type: framing lost */
        return 0;
    }
    int r = redis_line(&c, REDIS_MAX_HEADER, &line, &len);
    if (r == 0)
        return 0;
    if (r < 0 || !redis_header_number(line, len, &num)) {
        st->server_lost = true;
        return 0;
    }
    if (strchr("*%~>|", type) != NULL || num < 0)
        return c.off;                   /* aggregate header, or a null */
    if ((uint64_t)num > REDIS_MAX_BULK) {
        st->skip[DIR_TO_CLIENT] = (uint64_t)num + 2;
        return c.off;
    }
    const uint8_t *v = cur_take(&c, (size_t)num);
    const uint8_t *crlf = cur_take(&c, 2);
    if (c.bad)
        return 0;                       /* the bytes are not all here yet */
    if (memcmp(crlf, "\r\n", 2) != 0) {
        st->server_lost = true;         /* the length lied: framing lost */
        return 0;
    }
    redis_scan_value(ctx, st, DIR_TO_CLIENT, v, (size_t)num);
    return c.off;
}

/* Skips part of an oversized bulk, handing its value bytes (not the
 * final CRLF) to the hook. */
static size_t redis_skip(struct det_ctx *ctx, struct redis_state *st, enum dir d,
                         const uint8_t *p, size_t n)
{
    size_t k = st->skip[d] < n ? (size_t)st->skip[d] : n;
    uint64_t value_left = st->skip[d] > 2 ? st->skip[d] - 2 : 0;
    size_t value = value_left < k ? (size_t)value_left : k;
    redis_scan_value(ctx, st, d, p, value);
    st->skip[d] -= k;
    return k;
}

static size_t redis_on_data(struct det_ctx *ctx, enum dir d, const uint8_t *p, size_t n)
{
    struct redis_state *st = ctx->state;
    struct cursor c = cursor_init(p, n);

    while (cur_left(&c) > 0 && !st->done) {
        size_t k;
        if (st->skip[d] > 0)
            k = redis_skip(ctx, st, d, cur_ptr(&c), cur_left(&c));
        else if (d == DIR_TO_CLIENT && st->server_lost)
            k = cur_left(&c);           /* replies are not needed for any finding */
        else if (d == DIR_TO_SERVER)
            k = redis_client_step(ctx, st, cur_ptr(&c), cur_left(&c));
        else
            k = redis_server_step(ctx, st, cur_ptr(&c), cur_left(&c));
        if (k == 0 && !(d == DIR_TO_CLIENT && st->server_lost))
            break;                      /* need more bytes */
        cur_skip(&c, k);
    }
    return st->done ? n : c.off;
}

/* A gap inside a bulk we were skipping costs nothing.  Elsewhere: lost
 * replies only cost the hook its values; lost commands end the parse,
 * since we never guess across a gap. */
static void redis_on_gap(struct det_ctx *ctx, enum dir d, uint64_t len)
{
    struct redis_state *st = ctx->state;
    if (st->done)
        return;
    if (st->skip[d] >= len) {
        st->skip[d] -= len;
        return;
    }
    if (d == DIR_TO_CLIENT)
        st->server_lost = true;
    else
        redis_stop(ctx, st);
}

/* "*N\r\n$L\r\nNAME\r\n" with NAME a known command: only Redis clients
 * open a connection so. */
static bool redis_head_is_command(const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    const uint8_t *line;
    size_t len;
    int64_t nargs, nlen;

    if (redis_peek(&c) != '*')
        return false;
    if (redis_line(&c, REDIS_MAX_HEADER, &line, &len) != 1 ||
        !redis_header_number(line, len, &nargs) || nargs < 1 ||
        nargs > (int64_t)REDIS_MAX_ARGS)
        return false;
    if (redis_peek(&c) != '$')
        return false;
    if (redis_line(&c, REDIS_MAX_HEADER, &line, &len) != 1 ||
        !redis_header_number(line, len, &nlen) || nlen < 1 ||
        nlen >= REDIS_CMD_NAME_MAX)
        return false;
    const uint8_t *name = cur_take(&c, (size_t)nlen);
    const uint8_t *crlf = cur_take(&c, 2);
    return !c.bad && memcmp(crlf, "\r\n", 2) == 0 && redis_is_known(name, (size_t)nlen);
}

/* An inline first line whose first word is a known command, and which is
 * not an HTTP request line (GET is both an HTTP method and a command). */
static bool redis_head_is_inline(const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    const uint8_t *line, *w;
    size_t len, wlen;
    if (redis_line(&c, 512, &line, &len) != 1 || !redis_is_text(line, len) ||
        memmem(line, len, " HTTP/", 6) != NULL)
        return false;
    struct cursor l = cursor_init(line, len);
    return redis_inline_word(&l, &w, &wlen) && redis_is_known(w, wlen);
}

/* The server's first bytes are a Redis reply, and not the greeting of a
 * text protocol whose commands look alike (POP3 "+OK POP3 ready"): exactly
 * +OK or +PONG, an upper-case error code, or a typed header with a number. */
static bool redis_head_is_reply(const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    const uint8_t *line;
    size_t len;
    int64_t num;
    uint8_t first = redis_peek(&c);
    if (first == 0 || strchr("+-$:*%~_", first) == NULL)
        return false;   /* what follows would not be read as a reply either */
    if (redis_line(&c, 256, &line, &len) != 1 || len < 2)
        return false;
    struct cursor l = cursor_init(line, len);
    uint8_t type = cur_u8(&l);
    if (type == '+')
        return textline_is(cur_ptr(&l), cur_left(&l), "OK") ||
               textline_is(cur_ptr(&l), cur_left(&l), "PONG");
    if (type == '-') {
        size_t caps = 0;
        while (redis_peek(&l) >= 'A' && redis_peek(&l) <= 'Z') {
            cur_skip(&l, 1);
            caps++;
        }
        return caps >= 3 && (cur_left(&l) == 0 || redis_peek(&l) == ' ');
    }
    if (type == 0 || strchr("$:*%~_", type) == NULL)
        return false;
    return redis_number(cur_ptr(&l), cur_left(&l), &num);
}

static bool redis_wants(const struct flow_view *f)
{
    if (f->transport != 6)
        return false;
    if (flow_dpi_is(f, "Redis"))
        return true;
    /* nDPI 4.2 misses Redis when the first reply is -WRONGPASS, a bulk
     * string, or follows an inline command: look at the bytes ourselves. */
    if (redis_head_is_command(f->head[DIR_TO_SERVER], f->head_len[DIR_TO_SERVER]))
        return true;
    return redis_head_is_reply(f->head[DIR_TO_CLIENT], f->head_len[DIR_TO_CLIENT]) &&
           redis_head_is_inline(f->head[DIR_TO_SERVER], f->head_len[DIR_TO_SERVER]);
}

static const struct rule *const redis_rules[] = {
    &rule_session,
    &rule_auth,
};

const struct detector detector_redis = {
    .name       = "redis",                 /* protocol name in the report */
    .rules      = redis_rules,             /* rules this file can fire */
    .nrules     = ARRAY_LEN(redis_rules),
    .state_size = sizeof(struct redis_state),
    .wants      = redis_wants,             /* nDPI verdict or a RESP/inline opening */
    .on_data    = redis_on_data,
    .on_gap     = redis_on_gap,
    .on_end     = NULL,                    /* nothing is deferred to the end */
};

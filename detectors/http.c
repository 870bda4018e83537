/*
 * http.c - HTTP/1.x in clear, on any port: credentials, sessions, and the
 * secrets in headers and bodies.
 *
 * Follows RFC 9112 (HTTP/1.1 message syntax: start lines, header fields,
 * Content-Length and chunked framing, close-delimited responses, CONNECT),
 * RFC 9110 (semantics: which responses have no body, Upgrade and 101),
 * RFC 7617 (Basic), RFC 7616 (Digest), RFC 6750 (Bearer), RFC 4559 and
 * MS-NLMP 2.2.1.3 (NTLM/Negotiate and the AUTHENTICATE message), RFC 6265
 * (Cookie and Set-Cookie), RFC 7578 (multipart/form-data), RFC 1952/1950
 * (gzip and zlib bodies, inflated with zlib, bounded), RFC 7540 3.2/3.5
 * (h2c upgrade and prior-knowledge preface) and RFC 6455 (WebSocket upgrade).
 *
 * Both directions are parsed message by message: a header block is waited
 * for whole (up to HTTP_MAX_HEADER; a larger one loses the message and we
 * resynchronise on the next start line), bodies are streamed as they come,
 * never buffered: their bytes go through the inflater when compressed, a
 * form parser when they are a form or JSON, and the secrets engine
 * (detectors/secrets.c).  Pipelined requests are matched to responses in
 * order, which tells HEAD, CONNECT and upgrade answers apart.
 *
 * After a 101 Switching Protocols (WebSocket, h2c) or a 2xx answer to
 * CONNECT, the stream is no longer HTTP/1: its bytes only go through the
 * secrets engine (a TLS tunnel is taken over by the engine's TLS handling).
 * Left out: HTTP/2 frame and HPACK decoding, brotli and zstd bodies (not
 * decoded, not scanned), WebSocket unmasking, HTTP/0.9.
 */
#include "detector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "../scanner/cursor.h"
#include "../scanner/limits.h"
#include "../scanner/stats.h"
#include "secrets.h"
#include "textline.h"

/*
 * The detector's own bounds.
 * HTTP_MAX_HEADER: a header block we wait for whole (a start line and all
 * fields).  Servers refuse more (nginx: 4 x 8 KiB by default, Apache: 100
 * fields of 8 KiB); it stays under REASM_MAX_PENDING.
 * HTTP_MAX_CHUNK_LINE: a chunk-size line with its extensions.
 * HTTP_INFLATE_MAX: decompressed bytes scanned per body (a compression bomb
 * stops there; the rest of that body is passed over).
 * HTTP_PIPELINE: requests waiting for their responses.
 */
#define HTTP_MAX_HEADER         (64u * 1024u)
#define HTTP_MAX_CHUNK_LINE     1024u
#define HTTP_INFLATE_MAX        (1024u * 1024u)
#define HTTP_PIPELINE           16u
/* Form fields: a name we compare, a value we report. */
#define HTTP_FORM_KEY           64u
#define HTTP_FORM_VAL           256u
/* Multipart part headers and boundary (RFC 2046: at most 70 characters). */
#define HTTP_PART_LINE          512u
#define HTTP_BOUNDARY           72u
/* Decoded Authorization credentials we look into (NTLM messages are ~1 KiB). */
#define HTTP_AUTH_DECODED       4096u
/* A direction that did not start with HTTP: how far we look for its first
 * start line anywhere (after that, only at line starts). */
#define HTTP_SEEK_MAX           4096u

/* ------------------------------------------------------------------ rules */

static const struct rule rule_cleartext = {
    .id = "http.cleartext",
    .severity = SEV_LOW,
    .title = "HTTP service in clear",
    .remediation = "Serve the site over HTTPS only (redirect port 80, enable HSTS), "
                   "and call internal HTTP APIs over TLS.",
    .compliance = COMPLIANCE_SENSITIVE,
};

static const struct rule rule_basic = {
    .id = "http.basic-auth",
    .severity = SEV_CRITICAL,
    .title = "HTTP Basic credentials readable on the wire",
    .remediation = "Change the exposed passwords; accept Basic (and proxy) authentication "
                   "only over TLS.",
    .compliance = COMPLIANCE_CREDENTIALS,
};

static const struct rule rule_digest = {
    .id = "http.digest-auth",
    .severity = SEV_HIGH,
    .title = "HTTP Digest exchange readable on the wire (crackable offline)",
    .remediation = "Move the service to HTTPS; a captured Digest response can be cracked "
                   "offline, so change weak passwords of the users seen.",
    .compliance = COMPLIANCE_CREDENTIALS,
};

static const struct rule rule_ntlm = {
    .id = "http.ntlm-auth",
    .severity = SEV_HIGH,
    .title = "NTLM/Negotiate authentication over plain HTTP (crackable or relayable)",
    .remediation = "Require HTTPS with Extended Protection for Authentication, prefer "
                   "Kerberos, and disable NTLM where possible.",
    .compliance = COMPLIANCE_CREDENTIALS,
};

static const struct rule rule_other_auth = {
    .id = "http.other-auth",
    .severity = SEV_HIGH,
    .title = "HTTP credential (Authorization scheme or API-key header) readable on the wire",
    .remediation = "Rotate the exposed credential and send API credentials only over TLS.",
    .compliance = COMPLIANCE_CREDENTIALS,
};

static const struct rule rule_bearer = {
    .id = "http.bearer-token",
    .severity = SEV_HIGH,
    .title = "Bearer token readable on the wire",
    .remediation = "Send tokens only over TLS; revoke the tokens seen and shorten their "
                   "lifetime.",
    .compliance = COMPLIANCE_CREDENTIALS,
};

static const struct rule rule_session_cookie = {
    .id = "http.session-cookie",
    .severity = SEV_HIGH,
    .title = "Session cookie readable on the wire",
    .remediation = "Serve the application over HTTPS only, mark session cookies Secure, "
                   "and invalidate the sessions seen.",
    .compliance = COMPLIANCE_CREDENTIALS,
};

static const struct rule rule_set_cookie = {
    .id = "http.insecure-set-cookie",
    .severity = SEV_HIGH,
    .title = "Server sets a session cookie over plain HTTP",
    .remediation = "Issue session cookies only over HTTPS with Secure, HttpOnly and "
                   "SameSite, and redirect plain HTTP to HTTPS before any login.",
    .compliance = COMPLIANCE_CREDENTIALS,
};

static const struct rule rule_form_password = {
    .id = "http.form-password",
    .severity = SEV_CRITICAL,
    .title = "Password sent in an HTTP form or JSON body",
    .remediation = "Serve login and account forms over HTTPS only, and change the "
                   "passwords seen.",
    .compliance = COMPLIANCE_CREDENTIALS,
};

static const struct rule rule_url_credential = {
    .id = "http.url-credential",
    .severity = SEV_CRITICAL,
    .title = "Credential (token, key, password or signature) in a URL",
    .remediation = "Rotate the credential; pass credentials in headers over HTTPS, never in "
                   "URLs (they also land in logs, proxies and Referer headers).",
    .compliance = COMPLIANCE_CREDENTIALS,
};

/* ------------------------------------------------------------------ state */

enum http_phase {
    HP_HEAD = 0,        /* waiting for a start line and header block */
    HP_BODY_LEN,        /* Content-Length body: `left` bytes to go */
    HP_CHUNK_SIZE,      /* a chunk-size line */
    HP_CHUNK_DATA,      /* chunk data: `left` bytes to go */
    HP_CHUNK_END,       /* the CRLF after chunk data */
    HP_TRAILER,         /* trailer fields after the last chunk, to an empty line */
    HP_BODY_CLOSE,      /* a response body that ends with the connection */
    HP_TUNNEL,          /* no longer HTTP/1 (upgrade, CONNECT): secrets only */
    HP_RESYNC,          /* lost: looking for the next start line */
};

enum http_enc {
    ENC_NONE = 0,
    ENC_INFLATE,        /* gzip or deflate: through zlib */
    ENC_OPAQUE,         /* compressed in a way we do not decode, or broken */
};

enum http_form_kind {
    FK_NONE = 0,
    FK_SNIFF,           /* a request body without Content-Type: decide on its first byte */
    FK_URLENC,
    FK_MULTIPART,
    FK_JSON,
};

/* Requests waiting for their responses. */
#define REQ_HEAD        0x01u
#define REQ_CONNECT     0x02u
#define REQ_UPGRADE     0x04u
#define REQ_SIMPLE      0x08u   /* HTTP/0.9: the response is a bare body */

/* The streaming form parser of one body (urlencoded, multipart or JSON). */
struct http_form {
    uint8_t kind;               /* enum http_form_kind */
    uint8_t st;                 /* parser state, per kind */
    bool want;                  /* the current field is password-like: keep its value */
    bool esc;                   /* JSON: the last byte was a backslash */
    uint8_t mi;                 /* multipart: bytes of the delimiter matched */
    uint8_t blen;               /* multipart: delimiter length ("\r\n--" + boundary) */
    uint16_t klen, vlen;
    char key[HTTP_FORM_KEY];
    uint8_t val[HTTP_FORM_VAL + HTTP_BOUNDARY + 4];
    char delim[HTTP_BOUNDARY + 4];
};

struct http_dir {
    uint8_t phase;              /* enum http_phase */
    uint8_t enc;                /* enum http_enc of the body in progress */
    bool scan;                  /* the body goes through the secrets engine */
    bool in_body;               /* a body is in progress (its end is owed) */
    bool line_start;            /* HP_RESYNC: the next byte starts a line */
    bool synced;                /* a start line was parsed in this direction */
    uint64_t pos;               /* bytes of this direction consumed */
    uint64_t left;              /* body or chunk bytes to go */
    uint32_t inflated;          /* bytes inflated from this body */
    z_stream *z;                /* NULL unless a body is being inflated */
    struct http_form form;
    struct secrets_stream ss;
};

struct http_state {
    struct http_dir dir[2];
    uint8_t req[HTTP_PIPELINE]; /* REQ_* of requests not answered yet, oldest first */
    uint8_t nreq;
    bool plaintext_done;        /* detector_flow_plaintext() called */
    bool seen_request;
    bool upgrade_done;          /* the upgrade was stated */
};

/* ------------------------------------------------------------------ text helpers */

/* A run of bytes borrowed from the stream. */
struct span {
    const uint8_t *p;
    size_t n;
};

static bool http_ws(uint8_t b)
{
    return b == ' ' || b == '\t';
}

static struct span span_trim(struct span s)
{
    struct cursor c = cursor_init(s.p, s.n);
    while (cur_left(&c) > 0 && http_ws(*cur_ptr(&c)))
        cur_skip(&c, 1);
    s.p = cur_ptr(&c);
    s.n = cur_left(&c);
    while (s.n > 0 && (http_ws(s.p[s.n - 1]) || s.p[s.n - 1] == '\r'))
        s.n--;
    return s;
}

/* The bytes up to the first sep (not included) as *head, the rest after it
 * as *rest; false (head = all) when sep does not occur. */
static bool span_split(struct span s, uint8_t sep, struct span *head, struct span *rest)
{
    const uint8_t *x = s.n > 0 ? memchr(s.p, sep, s.n) : NULL;
    if (x == NULL) {
        *head = s;
        rest->p = s.p + s.n;
        rest->n = 0;
        return false;
    }
    head->p = s.p;
    head->n = (size_t)(x - s.p);
    rest->p = x + 1;
    rest->n = s.n - head->n - 1;
    return true;
}

static bool span_is(struct span s, const char *word)
{
    return textline_is(s.p, s.n, word);
}

/* Copies a span as a printable, NUL-terminated string (for field names). */
static void span_cstr(struct span s, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < s.n && k + 1 < cap; i++)
        out[k++] = (s.p[i] > 0x20 && s.p[i] < 0x7f) ? (char)s.p[i] : '?';
    out[k] = '\0';
}

/* Lower-case copy for name comparisons; a longer name is cut. */
static void http_lower(const uint8_t *s, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < cap; i++) {
        uint8_t b = s[i];
        out[k++] = (char)((b >= 'A' && b <= 'Z') ? b + 32 : b);
    }
    out[k] = '\0';
}

static int http_hex(uint8_t b)
{
    if (b >= '0' && b <= '9')
        return b - '0';
    if (b >= 'a' && b <= 'f')
        return b - 'a' + 10;
    if (b >= 'A' && b <= 'F')
        return b - 'A' + 10;
    return -1;
}

/* Percent-decodes (and '+' to space when plus) into out; returns length. */
static size_t http_unescape(const uint8_t *s, size_t n, bool plus, uint8_t *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < cap; i++) {
        if (s[i] == '%' && i + 2 < n && http_hex(s[i + 1]) >= 0 && http_hex(s[i + 2]) >= 0) {
            out[k++] = (uint8_t)(http_hex(s[i + 1]) << 4 | http_hex(s[i + 2]));
            i += 2;
        } else if (plus && s[i] == '+') {
            out[k++] = ' ';
        } else {
            out[k++] = s[i];
        }
    }
    return k;
}

/* ------------------------------------------------------------------ names */

/* Whether a form or JSON field name is a password: contains "passw",
 * "pwd", "passphrase", "passcode" or "secret", or is "pass", "pw", "pin". */
static bool http_password_name(const char *lower)
{
    static const char *const part[] = { "passw", "pwd", "passphrase", "passcode", "secret" };
    static const char *const whole[] = { "pass", "pw", "pin", "pword", "passwd" };
    for (size_t i = 0; i < ARRAY_LEN(part); i++)
        if (strstr(lower, part[i]) != NULL)
            return true;
    for (size_t i = 0; i < ARRAY_LEN(whole); i++)
        if (strcmp(lower, whole[i]) == 0)
            return true;
    return false;
}

/* Whether a URL query parameter names a credential.  Returns the shortest
 * value worth reporting (0: not a credential name). */
static size_t http_url_cred_name(const char *lower)
{
    static const char *const token[] = {
        "token", "access_token", "id_token", "refresh_token", "auth_token", "api_key",
        "apikey", "api-key", "key", "secret", "client_secret", "signature", "sig", "auth",
        "session", "sessionid", "session_id", "sid", "jwt", "bearer", "x-amz-signature",
        "x-amz-security-token", "x-goog-signature", "private_token", "access_key",
    };
    static const char *const suffix[] = { "_token", "-token", "_key", "-key", "_secret" };
    if (http_password_name(lower))
        return 1;
    for (size_t i = 0; i < ARRAY_LEN(token); i++)
        if (strcmp(lower, token[i]) == 0)
            return 6;
    size_t n = strlen(lower);
    for (size_t i = 0; i < ARRAY_LEN(suffix); i++) {
        size_t k = strlen(suffix[i]);
        if (n > k && strcmp(lower + n - k, suffix[i]) == 0)
            return 6;
    }
    return 0;
}

/* Cookies that carry a session by name (lower case; '*' ends a prefix). */
static bool http_session_cookie_name(const char *lower)
{
    static const char *const names[] = {
        "phpsessid", "jsessionid", "asp.net_sessionid", "aspsessionid*", "connect.sid",
        "laravel_session", "session", "sessionid", "session_id", "sid", "sess", "_session_id",
        "ci_session", "cfid", "cftoken", "_gitlab_session", "rack.session", "express.sid",
        "express:sess", "play_session", "jsessionidsso", "sess*", ".aspxauth",
        ".aspnetcore.session", ".aspnetcore.cookies", ".aspnetcore.identity.application",
        "wordpress_logged_in_*", "wordpress_sec_*", "auth_token", "access_token", "token",
        "jwt", "id_token", "remember_token", "remember_user_token", "symfony", "mojolicious",
        "__session", "_shibsession_*", "mod_auth_openidc_session", "oauth_token",
    };
    size_t n = strlen(lower);
    for (size_t i = 0; i < ARRAY_LEN(names); i++) {
        size_t k = strlen(names[i]);
        if (names[i][k - 1] == '*') {
            if (n >= k - 1 && strncmp(lower, names[i], k - 1) == 0)
                return true;
        } else if (strcmp(lower, names[i]) == 0) {
            return true;
        }
    }
    /* "app_session", "myapp-sess", "user_sid" */
    if (strstr(lower, "session") != NULL)
        return true;
    return n > 4 && (strcmp(lower + n - 4, "_sid") == 0 || strcmp(lower + n - 5, "-sess") == 0);
}

/* Cookies that are known not to be sessions (analytics, consent,
 * preferences), whatever their value looks like. */
static bool http_tracking_cookie_name(const char *lower)
{
    static const char *const prefix[] = {
        "_ga", "__utm", "_gid", "_gat", "_fbp", "_fbc", "_gcl_", "_hj", "ajs_", "mp_",
        "optimizely", "__cf_bm", "_cfuvid", "cookieconsent", "optanon", "_uetsid", "_uetvid",
        "__hs", "hubspotutk", "_pk_", "amplitude", "lang", "locale", "theme", "timezone",
    };
    for (size_t i = 0; i < ARRAY_LEN(prefix); i++)
        if (strncmp(lower, prefix[i], strlen(prefix[i])) == 0)
            return true;
    return false;
}

/* log2 of a positive integer without libm: the exponent by halving, the
 * mantissa in [1,2) by a 4th-degree polynomial (error < 1e-3). */
static double http_log2(unsigned v)
{
    double m = v, e = 0;
    while (m >= 2) {
        m /= 2;
        e += 1;
    }
    return e - 1.7417939 + (2.8212026 + (-1.4699568 + (0.44717955 - 0.056570851 * m) * m) * m) * m;
}

/*
 * Whether a cookie value looks like a random identifier: 16 to 512
 * characters of the token alphabets, letters and digits mixed, and a
 * Shannon entropy of at least 3.0 bits per character (random hex of that
 * length gives about 3.5, random base64 4 and more; words, dates, counters
 * and flags give less, or fail the mixed-classes test).
 */
static bool http_random_value(const uint8_t *v, size_t n)
{
    unsigned count[256];
    bool lower = false, upper = false, digit = false;
    if (n < 16 || n > 512)
        return false;
    memset(count, 0, sizeof count);
    for (size_t i = 0; i < n; i++) {
        uint8_t b = v[i];
        bool ok = (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
                  b == '-' || b == '_' || b == '.' || b == '%' || b == '+' || b == '/' ||
                  b == '=' || b == ':';
        if (!ok)
            return false;
        lower |= b >= 'a' && b <= 'z';
        upper |= b >= 'A' && b <= 'Z';
        digit |= b >= '0' && b <= '9';
        count[b]++;
    }
    if ((int)lower + (int)upper + (int)digit < 2)
        return false;
    /* H = log2(n) - (1/n) * sum c*log2(c) */
    double sum = 0;
    for (int b = 0; b < 256; b++)
        if (count[b] > 1)
            sum += count[b] * http_log2(count[b]);
    return http_log2((unsigned)n) - sum / (double)n >= 3.0;
}

/* ------------------------------------------------------------------ emits */

static void http_plaintext(struct det_ctx *ctx, struct http_state *st)
{
    if (!st->plaintext_done) {
        st->plaintext_done = true;
        detector_flow_plaintext(ctx, "HTTP");
    }
}

/* Emits a fact whose field is built from a span (a header, cookie or
 * parameter name), bounded and printable. */
static void http_emit_named(struct det_ctx *ctx, const struct rule *rule, enum dir d,
                            const char *prefix, struct span name, const void *v, size_t n,
                            enum ev_kind kind)
{
    char field[48];
    size_t k = strlen(prefix);
    if (k >= sizeof field)
        k = sizeof field - 1;
    memcpy(field, prefix, k);
    span_cstr(name, field + k, sizeof field - k);
    detector_emit(ctx, rule, d, field, v, n, kind);
}

/* ------------------------------------------------------------------ authorization */

/* A UTF-16LE or OEM string of an NTLM message, as ASCII text ('?' for the
 * rest). */
static void http_ntlm_string(const uint8_t *msg, size_t mn, uint16_t len, uint32_t off,
                             bool unicode, char *out, size_t cap)
{
    struct cursor c = cursor_init(msg, mn);
    size_t k = 0;
    out[0] = '\0';
    cur_skip(&c, off);
    const uint8_t *s = cur_take(&c, len);
    if (s == NULL)
        return;     /* the field points outside the message */
    size_t step = unicode ? 2 : 1;
    for (size_t i = 0; i + step <= len && k + 1 < cap; i += step) {
        uint8_t b = s[i];
        bool high = unicode && s[i + 1] != 0;
        out[k++] = (!high && b >= 0x20 && b < 0x7f) ? (char)b : '?';
    }
    out[k] = '\0';
}

/*
 * NTLMSSP messages (MS-NLMP 2.2.1), found raw or inside SPNEGO:
 *
 *   8   "NTLMSSP\0"
 *   4   message type (1 NEGOTIATE, 2 CHALLENGE, 3 AUTHENTICATE)
 *   AUTHENTICATE: six fields of (2 len, 2 max len, 4 offset):
 *       LM response, NT response, domain, user, workstation, session key
 *   4   negotiate flags (bit 0: strings are UTF-16LE)
 */
static void http_ntlm(struct det_ctx *ctx, const uint8_t *blob, size_t n, const char *scheme)
{
    static const uint8_t sig[8] = { 'N', 'T', 'L', 'M', 'S', 'S', 'P', 0 };
    const uint8_t *msg = NULL;
    for (size_t i = 0; i + sizeof sig <= n; i++) {
        if (memcmp(blob + i, sig, sizeof sig) == 0) {
            msg = blob + i;
            break;
        }
    }
    if (msg == NULL) {
        /* Negotiate carrying Kerberos (or something we cannot read) */
        detector_emit(ctx, &rule_ntlm, DIR_TO_SERVER, "message", scheme, strlen(scheme),
                      EV_TEXT);
        return;
    }
    size_t mn = n - (size_t)(msg - blob);
    struct cursor c = cursor_init(msg, mn);
    cur_skip(&c, 8);
    uint32_t type = cur_le32(&c);
    if (c.bad || type != 3) {
        static const char *const names[] = { "NTLM message", "NTLM negotiate (type 1)",
                                             "NTLM challenge (type 2)" };
        const char *t = type <= 2 ? names[type] : names[0];
        detector_emit(ctx, &rule_ntlm, DIR_TO_SERVER, "message", t, strlen(t), EV_TEXT);
        return;
    }
    uint16_t len[6];
    uint32_t off[6];
    for (int f = 0; f < 6; f++) {
        len[f] = cur_le16(&c);
        cur_skip(&c, 2);
        off[f] = cur_le32(&c);
    }
    uint32_t flags = cur_le32(&c);
    if (c.bad)
        return;     /* a cut AUTHENTICATE message: nothing to name */
    bool unicode = (flags & 1u) != 0;
    char domain[64], user[64], text[EVIDENCE_MAX_TEXT];
    http_ntlm_string(msg, mn, len[2], off[2], unicode, domain, sizeof domain);
    http_ntlm_string(msg, mn, len[3], off[3], unicode, user, sizeof user);
    size_t dl = strlen(domain), ul = strlen(user);
    size_t k = 0;
    if (dl > 0) {
        memcpy(text, domain, dl);
        k = dl;
        text[k++] = '\\';
    }
    memcpy(text + k, user, ul);
    k += ul;
    detector_emit(ctx, &rule_ntlm, DIR_TO_SERVER, "user", text, k, k ? EV_TEXT : EV_NONE);
}

/* Digest: the username="..." parameter (RFC 7616 3.4). */
static void http_digest(struct det_ctx *ctx, struct span params)
{
    struct span rest = params, item;
    while (rest.n > 0) {
        span_split(rest, ',', &item, &rest);
        item = span_trim(item);
        struct span name, value;
        if (!span_split(item, '=', &name, &value))
            continue;
        name = span_trim(name);
        value = span_trim(value);
        if (!span_is(name, "username"))
            continue;
        if (value.n >= 2 && value.p[0] == '"' && value.p[value.n - 1] == '"') {
            value.p++;
            value.n -= 2;
        }
        detector_emit(ctx, &rule_digest, DIR_TO_SERVER, "user", value.p, value.n, EV_TEXT);
        return;
    }
    detector_emit(ctx, &rule_digest, DIR_TO_SERVER, "digest", NULL, 0, EV_NONE);
}

/* Basic: base64("user:password") (RFC 7617).  The user is evidence, the
 * password leaves only as a secret (masked and fingerprinted). */
static void http_basic(struct det_ctx *ctx, struct span cred, bool proxy)
{
    uint8_t dec[512];
    long n = textline_b64decode(cred.p, cred.n, dec, sizeof dec);
    if (n < 0) {
        detector_emit(ctx, &rule_basic, DIR_TO_SERVER, proxy ? "proxy-credentials" :
                      "credentials", cred.p, cred.n, EV_SECRET);
        return;
    }
    struct span all = { dec, (size_t)n }, user, pass;
    span_split(all, ':', &user, &pass);
    detector_emit(ctx, &rule_basic, DIR_TO_SERVER, proxy ? "proxy-user" : "user",
                  user.p, user.n, user.n ? EV_TEXT : EV_NONE);
    if (pass.n > 0)
        detector_emit(ctx, &rule_basic, DIR_TO_SERVER, proxy ? "proxy-password" : "password",
                      pass.p, pass.n, EV_SECRET);
}

/* Authorization or Proxy-Authorization: "<scheme> <credentials>". */
static void http_authorization(struct det_ctx *ctx, struct span value, bool proxy)
{
    struct span scheme, cred;
    value = span_trim(value);
    span_split(value, ' ', &scheme, &cred);
    cred = span_trim(cred);
    if (span_is(scheme, "Basic")) {
        http_basic(ctx, cred, proxy);
    } else if (span_is(scheme, "Bearer")) {
        detector_emit(ctx, &rule_bearer, DIR_TO_SERVER, proxy ? "proxy-token" : "token",
                      cred.p, cred.n, cred.n ? EV_SECRET : EV_NONE);
    } else if (span_is(scheme, "Digest")) {
        http_digest(ctx, cred);
    } else if (span_is(scheme, "NTLM") || span_is(scheme, "Negotiate")) {
        uint8_t *dec = malloc(HTTP_AUTH_DECODED);
        long n = dec != NULL ? textline_b64decode(cred.p, cred.n, dec, HTTP_AUTH_DECODED) : -1;
        if (n > 0)
            http_ntlm(ctx, dec, (size_t)n, span_is(scheme, "NTLM") ? "NTLM" : "Negotiate");
        else
            detector_emit(ctx, &rule_ntlm, DIR_TO_SERVER, "message", scheme.p, scheme.n,
                          EV_TEXT);
        free(dec);
    } else if (scheme.n > 0) {
        /* any other scheme: the field names it, the credential is a secret */
        http_emit_named(ctx, &rule_other_auth, DIR_TO_SERVER,
                        proxy ? "Proxy-Authorization: " : "Authorization: ", scheme,
                        cred.p, cred.n, cred.n ? EV_SECRET : EV_NONE);
    }
}

/* Header fields that carry an API key or token by convention. */
static bool http_credential_header(struct span name)
{
    static const char *const names[] = {
        "X-Api-Key", "X-API-Token", "Api-Key", "Apikey", "X-Auth-Token", "X-Access-Token",
        "X-Amz-Security-Token", "Private-Token", "X-Vault-Token", "X-Goog-Api-Key",
        "Ocp-Apim-Subscription-Key", "X-Session-Token", "X-Auth-Key", "Authentication",
    };
    for (size_t i = 0; i < ARRAY_LEN(names); i++)
        if (span_is(name, names[i]))
            return true;
    return false;
}

/* ------------------------------------------------------------------ cookies */

/* Whether one cookie is a session: by name, or by a random-looking value
 * under a name that is not a known tracker. */
static bool http_is_session(struct span name, struct span value)
{
    char lower[64];
    http_lower(name.p, name.n, lower, sizeof lower);
    if (value.n == 0 || span_is(value, "deleted"))
        return false;
    if (http_session_cookie_name(lower))
        return value.n >= 4;
    if (http_tracking_cookie_name(lower))
        return false;
    return http_random_value(value.p, value.n);
}

/* Cookie: name=value; name=value (RFC 6265 5.4). */
static void http_cookie(struct det_ctx *ctx, struct span header)
{
    struct span rest = header, item;
    while (rest.n > 0) {
        span_split(rest, ';', &item, &rest);
        struct span name, value;
        if (!span_split(span_trim(item), '=', &name, &value))
            continue;
        name = span_trim(name);
        value = span_trim(value);
        if (value.n >= 2 && value.p[0] == '"' && value.p[value.n - 1] == '"') {
            value.p++;
            value.n -= 2;
        }
        if (name.n > 0 && http_is_session(name, value))
            http_emit_named(ctx, &rule_session_cookie, DIR_TO_SERVER, "", name, value.p, value.n,
                            EV_SECRET);
    }
}

/*
 * Set-Cookie: name=value; attributes (RFC 6265 4.1).  A session cookie is
 * one by name or random value, or one the server marks HttpOnly (it says
 * itself that scripts must not read it: an authentication cookie).  The
 * evidence is the name and the flags; the value stays out of the report.
 */
static void http_set_cookie(struct det_ctx *ctx, struct span header)
{
    struct span pair, attrs, name, value;
    span_split(header, ';', &pair, &attrs);
    if (!span_split(span_trim(pair), '=', &name, &value))
        return;
    name = span_trim(name);
    value = span_trim(value);
    bool secure = false, httponly = false, expired = false;
    struct span samesite = { NULL, 0 };
    struct span rest = attrs, item;
    while (rest.n > 0) {
        span_split(rest, ';', &item, &rest);
        struct span an, av;
        span_split(span_trim(item), '=', &an, &av);
        an = span_trim(an);
        if (span_is(an, "Secure"))
            secure = true;
        else if (span_is(an, "HttpOnly"))
            httponly = true;
        else if (span_is(an, "SameSite"))
            samesite = span_trim(av);
        else if (span_is(an, "Max-Age") && av.n > 0 && (av.p[0] == '0' || av.p[0] == '-'))
            expired = true;
    }
    if (name.n == 0 || value.n == 0 || expired || span_is(value, "deleted"))
        return;
    if (!httponly && !http_is_session(name, value))
        return;
    char flags[EVIDENCE_MAX_TEXT];
    size_t k = 0;
    const char *a = secure ? "Secure" : "no Secure";
    const char *b = httponly ? "; HttpOnly" : "; no HttpOnly";
    k += (size_t)snprintf(flags + k, sizeof flags - k, "%s%s; ", a, b);
    if (samesite.n > 0 && k < sizeof flags) {
        char ss[16];
        span_cstr(samesite, ss, sizeof ss);
        k += (size_t)snprintf(flags + k, sizeof flags - k, "SameSite=%s", ss);
    } else if (k < sizeof flags) {
        k += (size_t)snprintf(flags + k, sizeof flags - k, "no SameSite");
    }
    if (k >= sizeof flags)
        k = sizeof flags - 1;
    http_emit_named(ctx, &rule_set_cookie, DIR_TO_CLIENT, "", name, flags, k, EV_TEXT);
}

/* ------------------------------------------------------------------ URLs */

/* The query of a request target: credentials by parameter name; and a
 * user:password@ in an absolute URL (a proxy request). */
static void http_url(struct det_ctx *ctx, struct span target)
{
    struct span path, query;
    if (target.n > 7 && textline_starts(target.p, target.n, "http://")) {
        struct span auth = { target.p + 7, target.n - 7 }, host, after;
        span_split(auth, '/', &host, &after);
        struct span userinfo, hostport;
        if (span_split(host, '@', &userinfo, &hostport) && userinfo.n > 0) {
            struct span u, pw;
            if (span_split(userinfo, ':', &u, &pw) && pw.n > 0)
                detector_emit(ctx, &rule_url_credential, DIR_TO_SERVER, "userinfo", userinfo.p,
                              userinfo.n, EV_SECRET);
        }
    }
    if (!span_split(target, '?', &path, &query))
        return;
    span_split(query, '#', &query, &path);
    struct span rest = query, item;
    while (rest.n > 0) {
        span_split(rest, '&', &item, &rest);
        struct span name, value;
        if (!span_split(item, '=', &name, &value) || value.n == 0)
            continue;
        uint8_t nb[HTTP_FORM_KEY];
        char lower[HTTP_FORM_KEY];
        size_t nn = http_unescape(name.p, name.n, true, nb, sizeof nb - 1);
        http_lower(nb, nn, lower, sizeof lower);
        size_t min = http_url_cred_name(lower);
        if (min == 0 || value.n < min)
            continue;
        uint8_t vb[HTTP_FORM_VAL];
        size_t vn = http_unescape(value.p, value.n, true, vb, sizeof vb);
        struct span shown = { nb, nn };
        http_emit_named(ctx, &rule_url_credential, DIR_TO_SERVER, "", shown, vb, vn, EV_SECRET);
    }
}

/* ------------------------------------------------------------------ forms */

static void http_form_reset(struct http_form *f, uint8_t kind)
{
    uint8_t blen = f->blen;
    char delim[sizeof f->delim];
    memcpy(delim, f->delim, sizeof delim);
    memset(f, 0, sizeof *f);
    f->kind = kind;
    if (kind == FK_MULTIPART) {
        f->blen = blen;
        memcpy(f->delim, delim, sizeof delim);
        f->mi = 2;      /* the first delimiter has no CRLF before it */
    }
}

/* The current field's name decides whether its value is kept. */
static void http_form_key_done(struct http_form *f, bool urlenc)
{
    uint8_t dec[HTTP_FORM_KEY];
    char lower[HTTP_FORM_KEY];
    size_t n = urlenc ? http_unescape((const uint8_t *)f->key, f->klen, true, dec, sizeof dec - 1)
                      : f->klen;
    if (!urlenc)
        memcpy(dec, f->key, n);
    http_lower(dec, n, lower, sizeof lower);
    f->want = http_password_name(lower);
    f->vlen = 0;
}

static void http_form_emit(struct det_ctx *ctx, enum dir d, struct http_form *f, bool urlenc,
                           size_t vlen)
{
    if (!f->want || vlen == 0)
        return;
    uint8_t dec[HTTP_FORM_VAL];
    size_t n = vlen;
    if (urlenc)
        n = http_unescape(f->val, vlen, true, dec, sizeof dec);
    else
        memcpy(dec, f->val, n < sizeof dec ? n : sizeof dec);
    if (n > sizeof dec)
        n = sizeof dec;
    struct span name = { (const uint8_t *)f->key, f->klen };
    http_emit_named(ctx, &rule_form_password, d, "", name, dec, n, EV_SECRET);
    f->want = false;
}

/* application/x-www-form-urlencoded: name=value&name=value. */
static void http_form_urlenc(struct det_ctx *ctx, enum dir d, struct http_form *f,
                             const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t b = p[i];
        if (f->st == 0) {                       /* in a name */
            if (b == '=') {
                http_form_key_done(f, true);
                f->st = 1;
            } else if (b == '&') {
                f->klen = 0;
            } else if (f->klen < HTTP_FORM_KEY - 1) {
                f->key[f->klen++] = (char)b;
            }
        } else if (b == '&') {                  /* a value ends */
            http_form_emit(ctx, d, f, true, f->vlen);
            f->st = 0;
            f->klen = 0;
        } else if (f->want && f->vlen < HTTP_FORM_VAL) {
            f->val[f->vlen++] = b;
        }
    }
}

/* JSON: any "key": "value" pair, at any depth. */
enum { JS_OUT = 0, JS_STR, JS_AFTER_STR, JS_VAL_WAIT, JS_VAL };

static void http_form_json(struct det_ctx *ctx, enum dir d, struct http_form *f,
                           const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t b = p[i];
        switch (f->st) {
        case JS_OUT:
            if (b == '"') {
                f->st = JS_STR;
                f->klen = 0;
                f->esc = false;
            }
            break;
        case JS_STR:
            if (f->esc) {
                f->esc = false;
            } else if (b == '\\') {
                f->esc = true;
                break;
            } else if (b == '"') {
                f->st = JS_AFTER_STR;
                break;
            }
            if (f->klen < HTTP_FORM_KEY - 1)
                f->key[f->klen++] = (char)b;
            break;
        case JS_AFTER_STR:
            if (b == ':') {
                http_form_key_done(f, false);
                f->st = f->want ? JS_VAL_WAIT : JS_OUT;
            } else if (!http_ws(b) && b != '\r' && b != '\n') {
                f->st = b == '"' ? JS_STR : JS_OUT;    /* it was a value */
                f->klen = 0;
            }
            break;
        case JS_VAL_WAIT:
            if (b == '"') {
                f->st = JS_VAL;
                f->esc = false;
                f->vlen = 0;
            } else if (!http_ws(b) && b != '\r' && b != '\n') {
                f->st = JS_OUT;                 /* a number, object, null: no password */
                f->want = false;
            }
            break;
        case JS_VAL:
            if (!f->esc && b == '"') {
                http_form_emit(ctx, d, f, false, f->vlen);
                f->st = JS_OUT;
                break;
            }
            f->esc = !f->esc && b == '\\';
            if (f->vlen < HTTP_FORM_VAL)
                f->val[f->vlen++] = b;
            break;
        default:
            f->st = JS_OUT;
        }
    }
}

/* multipart/form-data: parts separated by "\r\n--boundary", each with
 * headers naming the field (Content-Disposition: form-data; name="..."). */
enum { MP_HEADERS = 0, MP_BODY };

static void http_part_header(struct http_form *f)
{
    struct span line = { f->val, f->vlen };
    if (!textline_starts(line.p, line.n, "Content-Disposition:"))
        return;
    struct span rest = line, item;
    while (rest.n > 0) {
        span_split(rest, ';', &item, &rest);
        struct span name, value;
        if (!span_split(span_trim(item), '=', &name, &value) || !span_is(span_trim(name), "name"))
            continue;
        value = span_trim(value);
        if (value.n >= 2 && value.p[0] == '"' && value.p[value.n - 1] == '"') {
            value.p++;
            value.n -= 2;
        }
        f->klen = (uint16_t)(value.n < HTTP_FORM_KEY - 1 ? value.n : HTTP_FORM_KEY - 1);
        memcpy(f->key, value.p, f->klen);
        return;
    }
}

static void http_form_multipart(struct det_ctx *ctx, enum dir d, struct http_form *f,
                                const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t b = p[i];
        /* the delimiter, matched across the whole body */
        if (f->blen > 0 && b == (uint8_t)f->delim[f->mi]) {
            if (++f->mi == f->blen) {
                if (f->st == MP_BODY) {
                    size_t keep = f->vlen > (size_t)f->blen - 1 ? f->vlen - (f->blen - 1u) : 0;
                    http_form_emit(ctx, d, f, false, keep);
                }
                f->st = MP_HEADERS;
                f->mi = 0;
                f->vlen = 0;
                f->klen = 0;
                f->want = false;
                continue;
            }
        } else if (f->mi > 0) {
            f->mi = b == '\r' ? 1 : 0;
        }
        if (f->st == MP_HEADERS) {
            if (b == '\n') {
                if (f->vlen == 0 || (f->vlen == 1 && f->val[0] == '\r')) {
                    if (f->klen > 0) {
                        http_form_key_done(f, false);
                        f->st = MP_BODY;
                    }
                } else {
                    http_part_header(f);
                }
                f->vlen = 0;
            } else if (f->vlen < HTTP_PART_LINE && f->vlen < sizeof f->val) {
                f->val[f->vlen++] = b;
            }
        } else if (f->want && f->vlen < sizeof f->val) {
            f->val[f->vlen++] = b;
        }
    }
}

static void http_form_feed(struct det_ctx *ctx, enum dir d, struct http_form *f,
                           const uint8_t *p, size_t n)
{
    if (f->kind == FK_SNIFF && n > 0) {
        /* no Content-Type: JSON by its first byte, else name=value pairs */
        struct cursor c = cursor_init(p, n);
        while (cur_left(&c) > 0 && (http_ws(*cur_ptr(&c)) || *cur_ptr(&c) == '\r' ||
                                    *cur_ptr(&c) == '\n'))
            cur_skip(&c, 1);
        if (cur_left(&c) == 0)
            return;
        uint8_t b = *cur_ptr(&c);
        http_form_reset(f, (b == '{' || b == '[') ? FK_JSON : FK_URLENC);
    }
    if (f->kind == FK_URLENC)
        http_form_urlenc(ctx, d, f, p, n);
    else if (f->kind == FK_JSON)
        http_form_json(ctx, d, f, p, n);
    else if (f->kind == FK_MULTIPART)
        http_form_multipart(ctx, d, f, p, n);
}

/* The body ended: a urlencoded value runs to the end. */
static void http_form_end(struct det_ctx *ctx, enum dir d, struct http_form *f)
{
    if (f->kind == FK_URLENC && f->st == 1)
        http_form_emit(ctx, d, f, true, f->vlen);
    f->kind = FK_NONE;
}

/* ------------------------------------------------------------------ bodies */

static void http_body_plain(struct det_ctx *ctx, struct http_dir *hd, enum dir d,
                            const uint8_t *p, size_t n)
{
    if (hd->form.kind != FK_NONE)
        http_form_feed(ctx, d, &hd->form, p, n);
    if (hd->scan)
        secrets_stream_feed(ctx, &hd->ss, d, "body", p, n);
}

static void http_inflate_stop(struct http_dir *hd, uint8_t enc)
{
    if (hd->z != NULL) {
        inflateEnd(hd->z);
        free(hd->z);
        hd->z = NULL;
    }
    hd->enc = enc;
}

/* Inflates n body bytes and passes the output on, up to HTTP_INFLATE_MAX
 * per body.  Broken data or the cap end the decoding of this body. */
static void http_inflate(struct det_ctx *ctx, struct http_dir *hd, enum dir d,
                         const uint8_t *p, size_t n)
{
    uint8_t out[16384];
    if (hd->z == NULL) {
        hd->z = calloc(1, sizeof *hd->z);
        /* 15 + 32: zlib or gzip header, detected (deflate bodies are
         * usually zlib-wrapped; raw deflate is tried below) */
        if (hd->z == NULL || inflateInit2(hd->z, 15 + 32) != Z_OK) {
            free(hd->z);
            hd->z = NULL;
            hd->enc = ENC_OPAQUE;
            return;
        }
        if (n > 0 && (p[0] & 0x0f) != 8 && p[0] != 0x1f) {
            /* neither a zlib (CM 8) nor a gzip header: raw deflate */
            inflateEnd(hd->z);
            if (inflateInit2(hd->z, -15) != Z_OK) {
                http_inflate_stop(hd, ENC_OPAQUE);
                return;
            }
        }
    }
    hd->z->next_in = (Bytef *)(uintptr_t)p;     /* zlib does not write its input */
    hd->z->avail_in = (uInt)n;
    while (hd->z->avail_in > 0) {
        size_t room = HTTP_INFLATE_MAX - hd->inflated;
        if (room > sizeof out)
            room = sizeof out;
        if (room == 0) {
            http_inflate_stop(hd, ENC_OPAQUE);  /* the cap: the rest is not scanned */
            g_stats.http_inflate_cut++;
            return;
        }
        hd->z->next_out = out;
        hd->z->avail_out = (uInt)room;
        int rc = inflate(hd->z, Z_SYNC_FLUSH);
        size_t got = room - hd->z->avail_out;
        hd->inflated += (uint32_t)got;
        if (got > 0)
            http_body_plain(ctx, hd, d, out, got);
        if (hd->z == NULL)
            return;
        if (rc == Z_STREAM_END) {
            http_inflate_stop(hd, ENC_OPAQUE);  /* trailing bytes are no content */
            return;
        }
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            http_inflate_stop(hd, ENC_OPAQUE);  /* corrupt: stop decoding this body */
            return;
        }
        if (got == 0 && rc == Z_BUF_ERROR)
            return;
    }
}

static void http_body_data(struct det_ctx *ctx, struct http_dir *hd, enum dir d,
                           const uint8_t *p, size_t n)
{
    if (hd->enc == ENC_NONE)
        http_body_plain(ctx, hd, d, p, n);
    else if (hd->enc == ENC_INFLATE)
        http_inflate(ctx, hd, d, p, n);
}

/* A body ends (or is cut): the last decisions, and the decoders freed. */
static void http_body_end(struct det_ctx *ctx, struct http_dir *hd, enum dir d)
{
    if (!hd->in_body)
        return;
    hd->in_body = false;
    http_form_end(ctx, d, &hd->form);
    if (hd->scan)
        secrets_stream_end(ctx, &hd->ss, d, "body");
    http_inflate_stop(hd, ENC_NONE);
    hd->scan = false;
}

/* ------------------------------------------------------------------ start lines */

/* Methods we accept in a request line (RFC 9110, WebDAV, and the few
 * others seen in the wild); the list also keeps binary junk out. */
static const char *const http_methods[] = {
    "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE",
    "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "REPORT", "SEARCH",
    "MKCALENDAR", "PURGE", "LINK", "UNLINK", "SUBSCRIBE", "NOTIFY",
};

/* Whether p starts with a known method and a space; *mlen its length. */
static bool http_method(const uint8_t *p, size_t n, size_t *mlen)
{
    for (size_t i = 0; i < ARRAY_LEN(http_methods); i++) {
        size_t k = strlen(http_methods[i]);
        if (n > k && memcmp(p, http_methods[i], k) == 0 && p[k] == ' ') {
            *mlen = k;
            return true;
        }
    }
    return false;
}

/* The HTTP/2 connection preface (RFC 9113 3.4), "prior knowledge" h2c. */
static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/* "METHOD SP target SP HTTP/1.x" within the first line of p/n. */
static bool http_request_line(const uint8_t *p, size_t n, struct span *method,
                              struct span *target)
{
    size_t mlen;
    if (!http_method(p, n, &mlen))
        return false;
    const uint8_t *eol = memchr(p, '\n', n < 8192 ? n : 8192);
    size_t ln = eol != NULL ? (size_t)(eol - p) : (n < 8192 ? n : 8192);
    struct span line = span_trim((struct span){ p, ln });
    if (line.n < mlen + 10 || memcmp(line.p + line.n - 8, "HTTP/1.", 7) != 0 ||
        line.p[line.n - 9] != ' ')
        return false;
    method->p = p;
    method->n = mlen;
    target->p = p + mlen + 1;
    target->n = line.n - mlen - 1 - 9;
    *target = span_trim(*target);
    return target->n > 0 && memchr(target->p, ' ', target->n) == NULL;
}

/* HTTP/0.9 (RFC 1945 4.1): "GET SP path CRLF" and nothing else on the
 * line.  Returns the line's length with its LF, or 0. */
static size_t http_simple_request(const uint8_t *p, size_t n, struct span *target)
{
    const uint8_t *eol = memchr(p, '\n', n < 8192 ? n : 8192);
    if (eol == NULL || n < 6 || memcmp(p, "GET /", 5) != 0)
        return 0;
    struct span line = span_trim((struct span){ p, (size_t)(eol - p) });
    target->p = line.p + 4;
    target->n = line.n - 4;
    if (memchr(target->p, ' ', target->n) != NULL)
        return 0;
    return (size_t)(eol - p) + 1;
}

/* "HTTP/1.x SP 3DIGIT" */
static int http_status_line(const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    const uint8_t *v = cur_take(&c, 9);
    const uint8_t *code = cur_take(&c, 3);
    if (v == NULL || code == NULL || memcmp(v, "HTTP/1.", 7) != 0 || v[8] != ' ')
        return -1;
    int s = 0;
    for (int i = 0; i < 3; i++) {
        if (code[i] < '0' || code[i] > '9')
            return -1;
        s = s * 10 + (code[i] - '0');
    }
    return s >= 100 && s <= 999 ? s : -1;
}

/* Where the first request line starts in p/n, wherever it is (after a
 * SOCKS handshake or other bytes before the HTTP): each " HTTP/1." is
 * traced back to the method before it.  Returns n when there is none. */
static size_t http_find_request(const uint8_t *p, size_t n)
{
    static const char ver[] = " HTTP/1.";
    const size_t vl = sizeof ver - 1;
    for (size_t i = 0; i + vl <= n; i++) {
        const uint8_t *v = memchr(p + i, ' ', n - i);
        if (v == NULL)
            break;
        i = (size_t)(v - p);
        if (i + vl > n || memcmp(v, ver, vl) != 0)
            continue;
        /* back over the target to the space after the method */
        size_t t = i;
        while (t > 0 && p[t - 1] != ' ' && p[t - 1] > 0x20 && p[t - 1] < 0x7f)
            t--;
        if (t < 2 || p[t - 1] != ' ')
            continue;
        size_t m = t - 1;
        while (m > 0 && p[m - 1] >= 'A' && p[m - 1] <= 'Z' && t - 1 - (m - 1) <= 12)
            m--;
        /* the byte before the method may be a letter too ("\x00P" of port
         * 80 in a SOCKS request): try each start up to the space */
        for (; m + 1 < t; m++) {
            struct span method, target;
            if (http_request_line(p + m, n - m, &method, &target))
                return m;
        }
    }
    return n;
}

/* Where the first status line starts in p/n, or n. */
static size_t http_find_status(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 12 <= n; i++) {
        const uint8_t *h = memchr(p + i, 'H', n - i);
        if (h == NULL)
            break;
        i = (size_t)(h - p);
        if (http_status_line(h, n - i) >= 0)
            return i;
    }
    return n;
}

/* Whether p/n can be the start of a message of direction d (perhaps cut
 * short): a method and a space, or "HTTP/1.". */
static bool http_start_prefix(enum dir d, const uint8_t *p, size_t n)
{
    size_t mlen;
    if (d == DIR_TO_CLIENT) {
        size_t k = n < 7 ? n : 7;
        return memcmp(p, "HTTP/1.", k) == 0;
    }
    if (http_method(p, n, &mlen) || memcmp(p, "PRI ", n < 4 ? n : 4) == 0)
        return true;
    if (n >= 12)
        return false;
    for (size_t i = 0; i < ARRAY_LEN(http_methods); i++) {
        size_t k = strlen(http_methods[i]);
        if (memcmp(p, http_methods[i], n < k ? n : k) == 0)
            return true;
    }
    return false;
}

/* ------------------------------------------------------------------ messages */

/* What the header fields of one message said about its framing. */
struct http_msg {
    bool chunked, has_length, bad_length, close, upgrade;
    uint64_t length;
    struct span host, ctype, cenc;
};

static bool http_binary_type(struct span ct)
{
    static const char *const types[] = {
        "image/", "audio/", "video/", "font/", "application/octet-stream", "application/zip",
        "application/gzip", "application/x-gzip", "application/pdf", "application/x-protobuf",
        "application/grpc", "application/vnd.ms-", "application/x-tar", "application/wasm",
    };
    for (size_t i = 0; i < ARRAY_LEN(types); i++)
        if (textline_starts(ct.p, ct.n, types[i]))
            return true;
    return false;
}

/* Sets up the body decoders of direction d from the message's fields. */
static void http_body_begin(struct http_dir *hd, const struct http_msg *m, bool request)
{
    hd->in_body = true;
    hd->inflated = 0;
    hd->scan = !http_binary_type(m->ctype);
    hd->enc = ENC_NONE;
    if (m->cenc.n > 0 && !span_is(m->cenc, "identity")) {
        if (span_is(m->cenc, "gzip") || span_is(m->cenc, "x-gzip") || span_is(m->cenc, "deflate"))
            hd->enc = ENC_INFLATE;
        else
            hd->enc = ENC_OPAQUE;   /* br, zstd, compress, or a chain: not decoded */
    }
    memset(&hd->form, 0, sizeof hd->form);
    struct span ct = m->ctype;
    if (textline_starts(ct.p, ct.n, "application/x-www-form-urlencoded")) {
        hd->form.kind = request ? FK_URLENC : FK_NONE;
    } else if (textline_contains(ct.p, ct.n, "json")) {
        hd->form.kind = FK_JSON;
    } else if (textline_starts(ct.p, ct.n, "multipart/form-data")) {
        /* boundary=... (possibly quoted) */
        struct span rest = ct, item;
        while (rest.n > 0) {
            span_split(rest, ';', &item, &rest);
            struct span name, value;
            if (!span_split(span_trim(item), '=', &name, &value) ||
                !span_is(span_trim(name), "boundary"))
                continue;
            value = span_trim(value);
            if (value.n >= 2 && value.p[0] == '"' && value.p[value.n - 1] == '"') {
                value.p++;
                value.n -= 2;
            }
            if (value.n == 0 || value.n > HTTP_BOUNDARY - 2)
                break;
            memcpy(hd->form.delim, "\r\n--", 4);
            memcpy(hd->form.delim + 4, value.p, value.n);
            hd->form.blen = (uint8_t)(4 + value.n);
            http_form_reset(&hd->form, FK_MULTIPART);
            break;
        }
    } else if (ct.n == 0 && request) {
        hd->form.kind = FK_SNIFF;
    }
}

/* One header field of a request (d == DIR_TO_SERVER) or response. */
static void http_field(struct det_ctx *ctx, enum dir d, struct span name, struct span value,
                       struct http_msg *m)
{
    if (span_is(name, "Content-Length")) {
        uint64_t v = 0;
        bool ok = value.n > 0 && value.n <= 15;
        for (size_t i = 0; i < value.n && ok; i++) {
            ok = value.p[i] >= '0' && value.p[i] <= '9';
            v = v * 10 + (uint64_t)(value.p[i] - '0');
        }
        if (!ok || (m->has_length && v != m->length))
            m->bad_length = true;
        m->has_length = true;
        m->length = v;
    } else if (span_is(name, "Transfer-Encoding")) {
        m->chunked = textline_contains(value.p, value.n, "chunked");
    } else if (span_is(name, "Content-Type")) {
        m->ctype = value;
    } else if (span_is(name, "Content-Encoding")) {
        m->cenc = value;
    } else if (span_is(name, "Host")) {
        m->host = value;
    } else if (span_is(name, "Connection")) {
        if (textline_contains(value.p, value.n, "close"))
            m->close = true;
        if (textline_contains(value.p, value.n, "upgrade"))
            m->upgrade = true;
    } else if (span_is(name, "Upgrade")) {
        m->upgrade = m->upgrade || value.n > 0;
    } else if (d == DIR_TO_SERVER && span_is(name, "Authorization")) {
        http_authorization(ctx, value, false);
    } else if (d == DIR_TO_SERVER && span_is(name, "Proxy-Authorization")) {
        http_authorization(ctx, value, true);
    } else if (d == DIR_TO_SERVER && span_is(name, "Cookie")) {
        http_cookie(ctx, value);
    } else if (d == DIR_TO_CLIENT && span_is(name, "Set-Cookie")) {
        http_set_cookie(ctx, value);
    } else if (d == DIR_TO_SERVER && http_credential_header(name) && value.n > 0) {
        http_emit_named(ctx, &rule_other_auth, d, "", name, value.p, value.n, EV_SECRET);
    }
}

/* Walks the header fields of a block (after its start line): each is
 * interpreted, and its value goes through the secrets engine. */
static void http_fields(struct det_ctx *ctx, enum dir d, struct span block, struct http_msg *m)
{
    struct span rest = block, line;
    while (rest.n > 0) {
        span_split(rest, '\n', &line, &rest);
        line = span_trim(line);
        struct span name, value;
        if (line.n == 0 || !span_split(line, ':', &name, &value))
            continue;   /* an obsolete folded line or junk: only secrets matter there */
        name = span_trim(name);
        value = span_trim(value);
        http_field(ctx, d, name, value, m);
        char field[48];
        span_cstr(name, field, 40);
        secrets_scan(ctx, d, field, value.p, value.n);
    }
}

/* http.cleartext: "METHOD host/path" without the query (credentials can
 * sit there; http_url reports those). */
static void http_emit_request(struct det_ctx *ctx, struct span method, struct span target,
                              struct span host)
{
    char text[EVIDENCE_MAX_TEXT];
    struct span path, query;
    span_split(target, '?', &path, &query);
    size_t k = 0;
    for (size_t j = 0; j < method.n && k < sizeof text - 1; j++)
        text[k++] = (char)method.p[j];
    if (k < sizeof text - 1)
        text[k++] = ' ';
    /* origin form: host then path; absolute form already names the host */
    if (path.n > 0 && path.p[0] == '/') {
        for (size_t j = 0; j < host.n && k < sizeof text - 1; j++)
            text[k++] = (char)host.p[j];
    }
    for (size_t j = 0; j < path.n && k < sizeof text - 1; j++)
        text[k++] = (char)path.p[j];
    if (query.n > 0 && k + 4 < sizeof text) {
        memcpy(text + k, "?...", 4);
        k += 4;
    }
    detector_emit(ctx, &rule_cleartext, DIR_TO_SERVER, "request", text, k, EV_TEXT);
}

static void http_push_request(struct http_state *st, uint8_t flags)
{
    if (st->nreq == HTTP_PIPELINE) {
        memmove(st->req, st->req + 1, HTTP_PIPELINE - 1);
        st->nreq--;
    }
    st->req[st->nreq++] = flags;
}

static uint8_t http_pop_request(struct http_state *st, bool final)
{
    if (st->nreq == 0)
        return 0;
    uint8_t f = st->req[0];
    if (final) {
        memmove(st->req, st->req + 1, st->nreq - 1u);
        st->nreq--;
    }
    return f;
}

/* Both directions leave HTTP/1 (an upgrade or a CONNECT tunnel). */
static void http_tunnel(struct det_ctx *ctx, struct http_state *st, const char *what)
{
    for (int d = 0; d < 2; d++) {
        http_body_end(ctx, &st->dir[d], (enum dir)d);
        st->dir[d].phase = HP_TUNNEL;
    }
    if (!st->upgrade_done) {
        st->upgrade_done = true;
        detector_emit(ctx, &rule_cleartext, DIR_TO_CLIENT, "upgrade", what, strlen(what),
                      EV_TEXT);
    }
}

/*
 * A request header block (block = start line to the empty line, n bytes).
 *
 *   METHOD SP request-target SP HTTP/1.x CRLF
 *   *( field-name ":" OWS field-value OWS CRLF )
 *   CRLF
 */
static void http_request(struct det_ctx *ctx, struct http_state *st, struct span block)
{
    struct http_dir *hd = &st->dir[DIR_TO_SERVER];
    struct span method, target, first, fields;
    span_split(block, '\n', &first, &fields);
    if (!http_request_line(block.p, block.n, &method, &target)) {
        hd->phase = HP_RESYNC;  /* not a request line: look for the next one */
        hd->line_start = false;
        return;
    }
    http_plaintext(ctx, st);
    st->seen_request = true;
    struct http_msg m;
    memset(&m, 0, sizeof m);
    http_fields(ctx, DIR_TO_SERVER, fields, &m);
    secrets_scan(ctx, DIR_TO_SERVER, "url", target.p, target.n);
    http_url(ctx, target);
    http_emit_request(ctx, method, target, m.host);
    uint8_t flags = 0;
    if (span_is(method, "HEAD"))
        flags |= REQ_HEAD;
    if (span_is(method, "CONNECT"))
        flags |= REQ_CONNECT;
    if (m.upgrade)
        flags |= REQ_UPGRADE;
    http_push_request(st, flags);
    if (m.bad_length) {
        hd->phase = HP_RESYNC;  /* framing we cannot trust (a smuggling attempt) */
        hd->line_start = false;
    } else if (m.chunked) {
        http_body_begin(hd, &m, true);
        hd->phase = HP_CHUNK_SIZE;
    } else if (m.has_length && m.length > 0) {
        http_body_begin(hd, &m, true);
        hd->phase = HP_BODY_LEN;
        hd->left = m.length;
    } else {
        hd->phase = HP_HEAD;
    }
}

/*
 * A response header block.
 *
 *   HTTP/1.x SP status-code SP [reason-phrase] CRLF
 *   *( field-line CRLF )
 *   CRLF
 */
static void http_response(struct det_ctx *ctx, struct http_state *st, struct span block)
{
    struct http_dir *hd = &st->dir[DIR_TO_CLIENT];
    int status = http_status_line(block.p, block.n);
    if (status < 0) {
        hd->phase = HP_RESYNC;
        hd->line_start = false;
        return;
    }
    http_plaintext(ctx, st);
    struct span first, fields;
    span_split(block, '\n', &first, &fields);
    struct http_msg m;
    memset(&m, 0, sizeof m);
    http_fields(ctx, DIR_TO_CLIENT, fields, &m);
    if (!st->seen_request) {
        /* the request was not captured: the response alone says HTTP */
        first = span_trim(first);
        detector_emit(ctx, &rule_cleartext, DIR_TO_CLIENT, "response", first.p,
                      first.n < 40 ? first.n : 40, EV_TEXT);
        st->seen_request = true;
    }
    bool interim = status >= 100 && status < 200 && status != 101;
    uint8_t req = http_pop_request(st, !interim);
    hd->phase = HP_HEAD;
    if (status == 101) {
        http_tunnel(ctx, st, m.upgrade ? "101 Switching Protocols (WebSocket or h2c)" :
                    "101 Switching Protocols");
        return;
    }
    if ((req & REQ_CONNECT) && status >= 200 && status < 300) {
        http_tunnel(ctx, st, "CONNECT tunnel");
        return;
    }
    if (interim || (req & REQ_HEAD) || status == 204 || status == 304)
        return;     /* no body (RFC 9112 6.3) */
    if (m.bad_length) {
        hd->phase = HP_RESYNC;
        hd->line_start = false;
    } else if (m.chunked) {
        http_body_begin(hd, &m, false);
        hd->phase = HP_CHUNK_SIZE;
    } else if (m.has_length) {
        if (m.length > 0) {
            http_body_begin(hd, &m, false);
            hd->phase = HP_BODY_LEN;
            hd->left = m.length;
        }
    } else {
        http_body_begin(hd, &m, false);
        hd->phase = HP_BODY_CLOSE;
    }
}

/* Where a header block ends in p/n: the offset after its empty line, or 0
 * when it is not all here. */
static size_t http_head_end(const uint8_t *p, size_t n)
{
    size_t off = 0;
    while (off < n) {
        const uint8_t *lf = memchr(p + off, '\n', n - off);
        if (lf == NULL)
            return 0;
        size_t k = (size_t)(lf - p) + 1;
        /* the next line is empty: LF or CR LF */
        if (k < n && p[k] == '\n')
            return k + 1;
        if (k + 1 < n && p[k] == '\r' && p[k + 1] == '\n')
            return k + 2;
        off = k;
    }
    return 0;
}

/* HP_HEAD: a start line and its fields, whole.  Returns bytes used (0:
 * need more). */
static size_t http_head(struct det_ctx *ctx, struct http_state *st, enum dir d,
                        const uint8_t *p, size_t n)
{
    struct http_dir *hd = &st->dir[d];
    size_t lead = 0;
    /* empty lines between messages (RFC 9112 2.2 allows them) */
    while (lead < n && (p[lead] == '\r' || p[lead] == '\n'))
        lead++;
    if (lead > 0)
        return lead;
    size_t pl = sizeof h2_preface - 1;
    if (d == DIR_TO_SERVER && n < pl && memcmp(p, h2_preface, n) == 0)
        return 0;       /* maybe the h2c preface, cut short */
    if (d == DIR_TO_SERVER && n >= pl && memcmp(p, h2_preface, pl) == 0) {
        http_plaintext(ctx, st);
        st->seen_request = true;
        http_tunnel(ctx, st, "HTTP/2 in clear (h2c, prior knowledge)");
        return pl;
    }
    if (!http_start_prefix(d, p, n)) {
        if (d == DIR_TO_CLIENT && st->nreq > 0 && (st->req[0] & REQ_SIMPLE)) {
            /* the answer to an HTTP/0.9 request: a bare body to the end */
            struct http_msg m;
            memset(&m, 0, sizeof m);
            http_pop_request(st, true);
            http_body_begin(hd, &m, false);
            hd->phase = HP_BODY_CLOSE;
            return 0;
        }
        hd->phase = HP_RESYNC;  /* not a start line: look for one */
        hd->line_start = false;
        return 0;
    }
    struct span target;
    size_t simple = d == DIR_TO_SERVER ? http_simple_request(p, n, &target) : 0;
    if (simple > 0) {
        struct span method = { p, 3 }, none = { NULL, 0 };
        http_plaintext(ctx, st);
        st->seen_request = true;
        hd->synced = true;
        secrets_scan(ctx, DIR_TO_SERVER, "url", target.p, target.n);
        http_url(ctx, target);
        http_emit_request(ctx, method, target, none);
        http_push_request(st, REQ_SIMPLE);
        return simple;
    }
    size_t end = http_head_end(p, n < HTTP_MAX_HEADER ? n : HTTP_MAX_HEADER);
    if (end == 0) {
        if (n < HTTP_MAX_HEADER)
            return 0;   /* the header block is not all here yet */
        hd->phase = HP_RESYNC;  /* larger than any server accepts: lost */
        g_stats.http_header_cut++;
        hd->line_start = false;
        return n;
    }
    struct span block = { p, end };
    if (d == DIR_TO_SERVER)
        http_request(ctx, st, block);
    else
        http_response(ctx, st, block);
    hd->synced = hd->synced || hd->phase != HP_RESYNC;
    return end;
}

/* HP_RESYNC: drops bytes up to the next line that starts a message; in
 * the first HTTP_SEEK_MAX bytes of a direction that never had one, a start
 * line anywhere (HTTP after a SOCKS handshake, a proxy preamble). */
static size_t http_resync(struct http_dir *hd, enum dir d, const uint8_t *p, size_t n)
{
    size_t off = 0;
    if (!hd->synced && hd->pos < HTTP_SEEK_MAX) {
        size_t lim = n < HTTP_SEEK_MAX - hd->pos ? n : (size_t)(HTTP_SEEK_MAX - hd->pos);
        size_t at = d == DIR_TO_SERVER ? http_find_request(p, lim) : http_find_status(p, lim);
        if (at < lim) {
            hd->phase = HP_HEAD;
            return at;
        }
        if (lim == n && n < 16)
            return 0;           /* too little to tell yet */
    }
    for (;;) {
        if (hd->line_start || off > 0) {
            const uint8_t *s = p + off;
            size_t left = n - off, mlen;
            bool start = d == DIR_TO_SERVER ? http_method(s, left, &mlen)
                                            : (left >= 7 && memcmp(s, "HTTP/1.", 7) == 0);
            if (start) {
                hd->phase = HP_HEAD;
                return off;
            }
            if (left < 12)
                return off;     /* maybe a start line cut short: wait for more */
        }
        const uint8_t *lf = memchr(p + off, '\n', n - off);
        if (lf == NULL) {
            hd->line_start = false;
            return n;
        }
        off = (size_t)(lf - p) + 1;
        hd->line_start = true;
        if (off == n)
            return n;
    }
}

/* HP_CHUNK_SIZE: "hex-size [; extensions] CRLF". */
static size_t http_chunk_size(struct det_ctx *ctx, struct http_dir *hd, enum dir d,
                              const uint8_t *p, size_t n)
{
    size_t lim = n < HTTP_MAX_CHUNK_LINE ? n : HTTP_MAX_CHUNK_LINE;
    const uint8_t *lf = memchr(p, '\n', lim);
    if (lf == NULL) {
        if (n < HTTP_MAX_CHUNK_LINE)
            return 0;
        http_body_end(ctx, hd, d);  /* no chunk line is that long: lost */
        hd->phase = HP_RESYNC;
        hd->line_start = false;
        return n;
    }
    size_t used = (size_t)(lf - p) + 1;
    uint64_t size = 0;
    size_t digits = 0;
    for (size_t i = 0; i < used && http_hex(p[i]) >= 0 && digits < 16; i++, digits++)
        size = size << 4 | (uint64_t)http_hex(p[i]);
    if (digits == 0) {
        http_body_end(ctx, hd, d);
        hd->phase = HP_RESYNC;
        hd->line_start = true;
        return used;
    }
    if (size == 0) {
        hd->phase = HP_TRAILER;
    } else {
        hd->phase = HP_CHUNK_DATA;
        hd->left = size;
    }
    return used;
}

/* HP_TRAILER: fields until an empty line; then the body is complete. */
static size_t http_trailer(struct det_ctx *ctx, struct http_dir *hd, enum dir d,
                           const uint8_t *p, size_t n)
{
    size_t lim = n < HTTP_MAX_CHUNK_LINE ? n : HTTP_MAX_CHUNK_LINE;
    const uint8_t *lf = memchr(p, '\n', lim);
    if (lf == NULL)
        return n < HTTP_MAX_CHUNK_LINE ? 0 : n;
    size_t used = (size_t)(lf - p) + 1;
    if (used <= 2) {
        http_body_end(ctx, hd, d);
        hd->phase = HP_HEAD;
    }
    return used;
}

/* ------------------------------------------------------------------ callbacks */

/* HTTP when nDPI says so from the bytes, or when the client's first bytes
 * are a request line (or the h2c preface), or the server's a status line,
 * on any port. */
static bool http_wants(const struct flow_view *f)
{
    struct span m, t;
    if (f->transport != 6)
        return false;
    if (f->by_dpi && f->protocol != NULL && strncmp(f->protocol, "HTTP", 4) == 0)
        return true;
    const uint8_t *c = f->head[DIR_TO_SERVER], *s = f->head[DIR_TO_CLIENT];
    size_t cn = f->head_len[DIR_TO_SERVER], sn = f->head_len[DIR_TO_CLIENT];
    if (c != NULL && http_request_line(c, cn, &m, &t))
        return true;
    if (c != NULL && http_find_request(c, cn < 1024 ? cn : 1024) < (cn < 1024 ? cn : 1024))
        return true;    /* after a SOCKS handshake or another preamble */
    if (c != NULL && http_simple_request(c, cn, &t) == cn)
        return true;    /* HTTP/0.9: one line, and nothing else from the client */
    if (c != NULL && cn >= sizeof h2_preface - 1 &&
        memcmp(c, h2_preface, sizeof h2_preface - 1) == 0)
        return true;
    return s != NULL && http_status_line(s, sn) >= 0;
}

static size_t http_on_data(struct det_ctx *ctx, enum dir d, const uint8_t *p, size_t n)
{
    struct http_state *st = ctx->state;
    struct http_dir *hd = &st->dir[d];
    size_t off = 0;
    while (off < n) {
        const uint8_t *q = p + off;
        size_t left = n - off, k = 0;
        uint8_t phase = hd->phase;
        switch (hd->phase) {
        case HP_HEAD:
            k = http_head(ctx, st, d, q, left);
            break;
        case HP_BODY_LEN:
        case HP_CHUNK_DATA:
            k = left < hd->left ? left : (size_t)hd->left;
            http_body_data(ctx, hd, d, q, k);
            hd->left -= k;
            if (hd->left == 0 && hd->phase == HP_BODY_LEN) {
                http_body_end(ctx, hd, d);
                hd->phase = HP_HEAD;
            } else if (hd->left == 0) {
                hd->phase = HP_CHUNK_END;
            }
            break;
        case HP_CHUNK_END:
            /* the CRLF after chunk data (a lone LF is tolerated) */
            if (q[0] == '\n') {
                k = 1;
                hd->phase = HP_CHUNK_SIZE;
            } else if (left < 2) {
                k = 0;
            } else if (q[0] == '\r' && q[1] == '\n') {
                k = 2;
                hd->phase = HP_CHUNK_SIZE;
            } else {
                http_body_end(ctx, hd, d);  /* broken chunking: lost */
                hd->phase = HP_RESYNC;
                hd->line_start = false;
                k = 0;
            }
            break;
        case HP_CHUNK_SIZE:
            k = http_chunk_size(ctx, hd, d, q, left);
            break;
        case HP_TRAILER:
            k = http_trailer(ctx, hd, d, q, left);
            break;
        case HP_BODY_CLOSE:
            http_body_data(ctx, hd, d, q, left);
            k = left;
            break;
        case HP_TUNNEL:
            secrets_stream_feed(ctx, &hd->ss, d, "tunnel", q, left);
            k = left;
            break;
        case HP_RESYNC:
            k = http_resync(hd, d, q, left);
            break;
        default:
            k = left;
        }
        if (k == 0 && hd->phase == phase)
            break;      /* need more */
        off += k;
        hd->pos += k;
    }
    return off;
}

/* A gap: inside a body of known length the framing survives (its decoders
 * do not); anywhere else we look for the next start line. */
static void http_on_gap(struct det_ctx *ctx, enum dir d, uint64_t len)
{
    struct http_state *st = ctx->state;
    struct http_dir *hd = &st->dir[d];
    if (hd->phase == HP_TUNNEL) {
        secrets_stream_end(ctx, &hd->ss, d, "tunnel");
        return;
    }
    if ((hd->phase == HP_BODY_LEN || hd->phase == HP_CHUNK_DATA) && len < hd->left) {
        hd->left -= len;
        if (hd->scan)
            secrets_stream_end(ctx, &hd->ss, d, "body");
        if (hd->enc == ENC_INFLATE)
            http_inflate_stop(hd, ENC_OPAQUE);
        http_form_end(ctx, d, &hd->form);
        return;
    }
    if (hd->phase == HP_BODY_CLOSE) {
        if (hd->scan)
            secrets_stream_end(ctx, &hd->ss, d, "body");
        if (hd->enc == ENC_INFLATE)
            http_inflate_stop(hd, ENC_OPAQUE);
        return;
    }
    http_body_end(ctx, hd, d);
    hd->phase = HP_RESYNC;
    hd->line_start = false;
}

static void http_on_end(struct det_ctx *ctx)
{
    struct http_state *st = ctx->state;
    for (int d = 0; d < 2; d++) {
        struct http_dir *hd = &st->dir[d];
        http_body_end(ctx, hd, (enum dir)d);
        if (hd->phase == HP_TUNNEL)
            secrets_stream_end(ctx, &hd->ss, (enum dir)d, "tunnel");
        http_inflate_stop(hd, ENC_NONE);
    }
}

static const struct rule *const http_rules[] = {
    &rule_cleartext,
    &rule_basic,
    &rule_digest,
    &rule_ntlm,
    &rule_other_auth,
    &rule_bearer,
    &rule_session_cookie,
    &rule_set_cookie,
    &rule_form_password,
    &rule_url_credential,
    &secrets_rule_jwt,          /* the secrets engine runs on headers and bodies */
    &secrets_rule_api_key,
    &secrets_rule_private_key,
    &secrets_rule_card,
    &secrets_rule_ssn,
    &secrets_rule_email,
};

const struct detector detector_http = {
    .name       = "http",                   /* protocol name in the report */
    .rules      = http_rules,               /* rules this file can fire */
    .nrules     = ARRAY_LEN(http_rules),
    .state_size = sizeof(struct http_state),
    .wants      = http_wants,               /* nDPI verdict, or a start line on any port */
    .on_data    = http_on_data,             /* both directions, message by message */
    .on_gap     = http_on_gap,              /* keep a body's framing, else resync */
    .on_end     = http_on_end,              /* last body decisions, free the inflaters */
};

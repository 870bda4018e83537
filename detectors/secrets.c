/*
 * secrets.c - secrets and personal data in any plaintext bytes (see secrets.h).
 *
 * One pass over the bytes.  A 256-entry table marks the "anchor" bytes: a
 * byte of each pattern's fixed prefix chosen to be rare in ordinary text
 * ("J" of the JWT header "eyJ", "I" of "AKIA"/"AIza", "_" of "ghp_", "-" of
 * "-----BEGIN" and "glpat-", "@" of an e-mail, digits for card numbers and
 * SSNs).  The loop skips non-anchor bytes eight at a time; at an anchor only
 * the patterns that contain that byte are checked, by memcmp of the prefix
 * and a bounded walk over the body.  No regular expressions.
 *
 * Formats and their sources:
 *   JWT: RFC 7519 / RFC 7515 compact serialisation (RFC 7516 JWE: 5 parts).
 *   Key formats: the vendors' documented prefixes and lengths (AWS IAM
 *   "Unique identifiers", GitHub "About authentication" token prefixes,
 *   GitLab token prefixes, Slack token types, Stripe API keys, Google API
 *   keys, SendGrid, Twilio API keys, npm, PyPI, OpenAI, Anthropic, Shopify,
 *   DigitalOcean, Square, Azure storage connection strings), with the exact
 *   charset and length; a key must not touch other word characters.
 *   PEM: RFC 7468 ("-----BEGIN <label>-----"), labels naming a PRIVATE KEY.
 *   Cards: ISO/IEC 7812 Luhn check; issuer ranges (IIN) and lengths of Visa,
 *   Mastercard, Amex, Discover, JCB, Diners, UnionPay, Maestro and Mir.
 *   SSN: SSA rules (area 000, 666 and 900-999, group 00 and serial 0000
 *   were never issued).  Only the dashed form: nine bare digits are too
 *   often something else.
 *   E-mail: RFC 5321 lengths (local part <= 64, domain <= 253).
 * Left out: generic "high entropy string" detection (callers that know a
 * value is a credential, like HTTP's Authorization header, report it
 * themselves), AWS secret access keys without their key id, and
 * numbers in words or in other encodings (URL or base64 encoded).
 *
 * Every decision at a position reads at most SECRETS_LOOKBACK bytes before
 * and SECRETS_LOOKAHEAD bytes after it, so the streaming API can give the
 * exact same answer as a scan of the whole stream (see secrets_stream_feed).
 * Unlike the protocol parsers, this file indexes bytes directly instead of
 * going through scanner/cursor.h: it is the hot loop of every plaintext
 * byte, and every index is bounded by the window [lo, hi) passed to each
 * check (tests/unit/test_secrets.c runs it against guard pages).
 */
#include "secrets.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../reports/u64set.h"
#include "../scanner/addr.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define SC_VECTOR 1     /* SSE2 always, AVX2 when the CPU has it */
#endif

/* ------------------------------------------------------------------ rules */

const struct rule secrets_rule_jwt = {
    .id = "secret.jwt",
    .severity = SEV_HIGH,
    .title = "JSON Web Token readable on the wire",
    .remediation = "Carry tokens only over TLS; revoke or let expire the tokens seen, and "
                   "keep their lifetime short.",
    .compliance = COMPLIANCE_CREDENTIALS,
};

const struct rule secrets_rule_api_key = {
    .id = "secret.api-key",
    .severity = SEV_CRITICAL,
    .title = "API key of a well-known service readable on the wire",
    .remediation = "Revoke and reissue the exposed key at its provider, and call the API "
                   "only over TLS.",
    .compliance = COMPLIANCE_CREDENTIALS,
};

const struct rule secrets_rule_private_key = {
    .id = "secret.private-key",
    .severity = SEV_CRITICAL,
    .title = "PEM private key readable on the wire",
    .remediation = "Treat the key as compromised: replace it and revoke its certificates; "
                   "move key material only over encrypted channels.",
    .compliance = COMPLIANCE_CREDENTIALS,
};

const struct rule secrets_rule_card = {
    .id = "pii.card-number",
    .severity = SEV_CRITICAL,
    .title = "Payment card number (PAN) readable on the wire",
    .remediation = "Encrypt every path that carries cardholder data (TLS 1.2+), and keep "
                   "PANs out of logs and internal APIs (tokenise or truncate them).",
    .compliance = COMPLIANCE_CARDHOLDER,
};

const struct rule secrets_rule_ssn = {
    .id = "pii.ssn",
    .severity = SEV_HIGH,
    .title = "US Social Security number readable on the wire",
    .remediation = "Encrypt the connections that carry personal data (TLS), and mask SSNs "
                   "where the full number is not needed.",
    .compliance = COMPLIANCE_SENSITIVE,
};

const struct rule secrets_rule_email = {
    .id = "pii.email",
    .severity = SEV_LOW,
    .title = "E-mail addresses readable on the wire",
    .remediation = "Encrypt the connections that carry personal data (TLS).",
    .compliance = COMPLIANCE_SENSITIVE,
};

const struct rule *const secrets_rules[SECRETS_NRULES] = {
    &secrets_rule_jwt,
    &secrets_rule_api_key,
    &secrets_rule_private_key,
    &secrets_rule_card,
    &secrets_rule_ssn,
    &secrets_rule_email,
};

/* ------------------------------------------------------------------ byte classes */

#define C_DIGIT     0x0001u
#define C_UPPER     0x0002u
#define C_LOWER     0x0004u
#define C_US        0x0008u     /* '_' */
#define C_DASH      0x0010u     /* '-' */
#define C_DOT       0x0020u     /* '.' */
#define C_HEXL      0x0040u     /* 0-9 a-f */
#define C_HEX       0x0080u     /* 0-9 a-f A-F */
#define C_B64STD    0x0100u     /* '+' '/' '=' of standard base64 */
#define C_LOCAL     0x0200u     /* e-mail local part: alnum . _ % + - */
#define C_PEMLABEL  0x0400u     /* A-Z 0-9 space */
#define C_ALNUM     (C_DIGIT | C_UPPER | C_LOWER)
#define C_WORD      (C_ALNUM | C_US)
#define C_B64URL    (C_ALNUM | C_US | C_DASH)

/* Anchor kinds: what the scan loop checks at a byte. */
enum sc_anchor {
    AN_NONE = 0,
    AN_DIGIT,       /* card number, SSN */
    AN_AT,          /* e-mail */
    AN_JWT,         /* 'J' of "eyJ" */
    AN_DASH,        /* PEM "-----BEGIN", and keys with a '-' in their prefix */
    AN_KEY,         /* other key prefixes: '_', 'I', 'G', 'K' */
};

static uint16_t sc_class[256];
static uint8_t sc_anchor[256];
static bool sc_ready;
static unsigned sc_block;       /* 32 (AVX2), 16 (SSE2) or 0 (bytes only) */

/* Fills the tables once (the scanner is single-threaded; secrets_find and
 * the stream functions call this first). */
static void sc_init(void)
{
    if (sc_ready)
        return;
    for (int c = 0; c < 256; c++) {
        uint16_t k = 0;
        if (c >= '0' && c <= '9')
            k |= C_DIGIT | C_HEXL | C_HEX | C_LOCAL | C_PEMLABEL;
        if (c >= 'A' && c <= 'Z')
            k |= C_UPPER | C_LOCAL | C_PEMLABEL;
        if (c >= 'a' && c <= 'z')
            k |= C_LOWER | C_LOCAL;
        if (c >= 'a' && c <= 'f')
            k |= C_HEXL | C_HEX;
        if (c >= 'A' && c <= 'F')
            k |= C_HEX;
        if (c == '_')
            k |= C_US | C_LOCAL;
        if (c == '-')
            k |= C_DASH | C_LOCAL;
        if (c == '.')
            k |= C_DOT | C_LOCAL;
        if (c == '+')
            k |= C_B64STD | C_LOCAL;
        if (c == '%')
            k |= C_LOCAL;
        if (c == '/' || c == '=')
            k |= C_B64STD;
        if (c == ' ')
            k |= C_PEMLABEL;
        sc_class[c] = k;
    }
    for (int c = '0'; c <= '9'; c++)
        sc_anchor[c] = AN_DIGIT;
    sc_anchor['@'] = AN_AT;
    sc_anchor['J'] = AN_JWT;
    sc_anchor['-'] = AN_DASH;
    sc_anchor['_'] = AN_KEY;
    sc_anchor['I'] = AN_KEY;
    sc_anchor['G'] = AN_KEY;
    sc_anchor['K'] = AN_KEY;
#ifdef SC_VECTOR
    __builtin_cpu_init();
    sc_block = __builtin_cpu_supports("avx2") ? 32 : 16;
#endif
    sc_ready = true;
}

static inline bool sc_is(uint8_t b, uint16_t cls)
{
    return (sc_class[b] & cls) != 0;
}

static inline bool sc_digit(uint8_t b)
{
    return b >= '0' && b <= '9';
}

/* Length of the run of class cls at w[i..hi), at most max. */
static size_t sc_run_len(const uint8_t *w, size_t i, size_t hi, uint16_t cls, size_t max)
{
    if (i >= hi)
        return 0;
    size_t end = hi - i < max ? hi : i + max, k = i;
    while (k < end && (sc_class[w[k]] & cls) != 0)
        k++;
    return k - i;
}

/* Where a scan reports to, and the window of one decision. */
struct sc_out {
    secrets_cb cb;
    void *arg;
    size_t count;
    bool values;        /* NUL-separated values: no decision reads past a NUL */
};

static void sc_report(struct sc_out *o, const struct rule *rule, const char *kind,
                      const uint8_t *v, size_t n, size_t off)
{
    struct secrets_match m = { rule, kind, v, n, off };
    o->count++;
    o->cb(o->arg, &m);
}

/* ------------------------------------------------------------------ cards, SSN */

/* Whether nd digits (ASCII) pass the Luhn check (ISO/IEC 7812-1 annex B). */
static bool sc_luhn(const uint8_t *dig, size_t nd)
{
    unsigned sum = 0;
    for (size_t k = 0; k < nd; k++) {
        unsigned v = (unsigned)(dig[nd - 1 - k] - '0');
        if (k % 2 == 1) {
            v *= 2;
            if (v > 9)
                v -= 9;
        }
        sum += v;
    }
    return sum % 10 == 0;
}

/* The first n digits as a number. */
static unsigned sc_prefix(const uint8_t *dig, size_t n)
{
    unsigned v = 0;
    for (size_t k = 0; k < n; k++)
        v = v * 10 + (unsigned)(dig[k] - '0');
    return v;
}

/* Whether the first digits and the length are those of a real card scheme. */
static bool sc_card_range(const uint8_t *dig, size_t nd)
{
    unsigned p1 = sc_prefix(dig, 1), p2 = sc_prefix(dig, 2);
    unsigned p3 = sc_prefix(dig, 3), p4 = sc_prefix(dig, 4);
    unsigned p6 = sc_prefix(dig, 6);
    bool l16_19 = nd >= 16 && nd <= 19;
    if (p1 == 4)                                            /* Visa */
        return nd == 13 || nd == 16 || nd == 19;
    if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720))   /* Mastercard */
        return nd == 16;
    if (p2 == 34 || p2 == 37)                               /* American Express */
        return nd == 15;
    if (p4 == 6011 || (p3 >= 644 && p3 <= 649) || p2 == 65 ||
        (p6 >= 622126 && p6 <= 622925))                     /* Discover */
        return l16_19;
    if (p2 == 62)                                           /* UnionPay */
        return l16_19;
    if (p4 >= 3528 && p4 <= 3589)                           /* JCB */
        return l16_19;
    if ((p3 >= 300 && p3 <= 305) || p4 == 3095 || p2 == 36 || p2 == 38 || p2 == 39)
        return nd >= 14 && nd <= 19;                        /* Diners Club */
    if (p4 == 5018 || p4 == 5020 || p4 == 5038 || p4 == 5893 || p4 == 6304 ||
        p4 == 6759 || p4 == 6761 || p4 == 6762 || p4 == 6763)  /* Maestro */
        return nd >= 13 && nd <= 19;
    if (p4 >= 2200 && p4 <= 2204)                           /* Mir */
        return l16_19;
    return false;
}

/* Whether the byte after a number ends it: not a word character, not '@',
 * and not a decimal point followed by a digit. */
static bool sc_num_ends(const uint8_t *w, size_t end, size_t hi)
{
    if (end >= hi)
        return true;
    uint8_t b = w[end];
    if (sc_is(b, C_WORD) || b == '@')
        return false;
    if (b == '.' && end + 1 < hi && sc_digit(w[end + 1]))
        return false;
    return true;
}

/*
 * At the first digit of a number (the previous byte is no digit).  Three
 * forms are tried:
 *   SSN        DDD-DD-DDDD
 *   contiguous 13-19 digits
 *   grouped    DDDD<s>DDD..<s>DDD.. with one separator s (space or dash) used
 *              throughout, 3 to 5 groups of 3 to 6 digits, the first of 4
 *              ("4111 1111 1111 1111", "3782-822463-10005")
 * Returns the position after the number, so its other digits are not
 * tried again.
 */
static size_t sc_number(struct sc_out *o, const uint8_t *w, size_t lo, size_t i, size_t hi)
{
    size_t run = sc_run_len(w, i, hi, C_DIGIT, 20);
    size_t end = i + run;
    while (end < hi && sc_digit(w[end]))
        end++;          /* the rest of a long number, which no rule wants */
    if (i > lo) {
        uint8_t b = w[i - 1];
        /* inside a word, an address or a decimal fraction: no card there */
        if (sc_is(b, C_WORD) || b == '@' || b == '+' ||
            (b == '.' && i - 1 > lo && sc_digit(w[i - 2])))
            return end;
    }
    /* "N-" or "N " before: this number continues another one */
    bool continues = i > lo + 1 && (w[i - 1] == ' ' || w[i - 1] == '-') && sc_digit(w[i - 2]);

    if (run == 3 && !continues && i + 11 <= hi && w[i + 3] == '-' && w[i + 6] == '-' &&
        sc_run_len(w, i + 4, hi, C_DIGIT, 3) == 2 && sc_run_len(w, i + 7, hi, C_DIGIT, 5) == 4 &&
        sc_num_ends(w, i + 11, hi) &&
        !(i + 12 < hi && w[i + 11] == '-' && sc_digit(w[i + 12]))) {
        unsigned area = sc_prefix(w + i, 3), group = sc_prefix(w + i + 4, 2);
        unsigned serial = sc_prefix(w + i + 7, 4);
        if (area != 0 && area != 666 && area < 900 && group != 0 && serial != 0)
            sc_report(o, &secrets_rule_ssn, "ssn", w + i, 11, i);
        return i + 11;
    }

    if (run >= 13 && run <= 19) {
        if (sc_num_ends(w, i + run, hi) && sc_card_range(w + i, run) && sc_luhn(w + i, run))
            sc_report(o, &secrets_rule_card, "card", w + i, run, i);
        return end;
    }

    if (run != 4 || continues || end >= hi || (w[end] != ' ' && w[end] != '-'))
        return end;
    uint8_t sep = w[end];
    uint8_t dig[19];
    size_t nd = 0, groups = 0, k = i;
    bool ok = true;
    for (;;) {
        size_t g = sc_run_len(w, k, hi, C_DIGIT, 7);
        if (g < 3 || g > 6 || nd + g > 19) {
            ok = false;
            break;
        }
        memcpy(dig + nd, w + k, g);
        nd += g;
        groups++;
        k += g;
        if (k + 1 < hi && w[k] == sep && sc_digit(w[k + 1]) && groups < 5) {
            k++;
            continue;
        }
        break;
    }
    if (!ok || groups < 3 || nd < 13)
        return end;
    /* one more group, or a digit glued on: part of a longer number */
    if (k + 1 < hi && w[k] == sep && sc_digit(w[k + 1]))
        return k;
    if (sc_num_ends(w, k, hi) && sc_card_range(dig, nd) && sc_luhn(dig, nd))
        sc_report(o, &secrets_rule_card, "card", dig, nd, i);
    return k;
}

/* ------------------------------------------------------------------ e-mail */

/* Top-level "domains" that are file extensions: "logo@2x.png" is no address. */
static bool sc_file_tld(const uint8_t *t, size_t n)
{
    static const char ext[][5] = {      /* NUL-padded: ext[k][n] is in bounds */
        "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "css", "js",
    };
    if (n > 4)
        return false;   /* longer than any of them: most real domains */
    for (size_t k = 0; k < ARRAY_LEN(ext); k++)
        if (ext[k][n] == '\0' && strncasecmp((const char *)t, ext[k], n) == 0)
            return true;
    return false;
}

/* At an '@': local part before it (1-64 characters, not starting or ending
 * with '.'), a domain after it (labels of letters, digits and inner '-',
 * at least two, the last 2-24 letters). */
static size_t sc_email(struct sc_out *o, const uint8_t *w, size_t lo, size_t i, size_t hi)
{
    size_t k = i;
    while (k > lo && i - k <= 64 && sc_is(w[k - 1], C_LOCAL))
        k--;
    size_t local = i - k;
    if (local == 0 || local > 64 || w[k] == '.' || w[i - 1] == '.')
        return i + 1;
    size_t j = i + 1, end = j, labels = 0, tld = 0, tld_at = 0;
    for (;;) {
        size_t n = sc_run_len(w, j, hi, C_ALNUM | C_DASH, 64);
        if (n == 0 || n > 63 || w[j] == '-' || w[j + n - 1] == '-')
            break;
        labels++;
        tld_at = j;
        tld = n;
        j += n;
        end = j;
        if (j + 1 < hi && w[j] == '.' && sc_is(w[j + 1], C_ALNUM)) {
            j++;
            continue;
        }
        break;
    }
    if (labels < 2 || end - (i + 1) > 253 || tld < 2 || tld > 24)
        return i + 1;
    for (size_t t = 0; t < tld; t++)
        if (!sc_is(w[tld_at + t], C_UPPER | C_LOWER))
            return i + 1;
    if (sc_file_tld(w + tld_at, tld))
        return i + 1;
    sc_report(o, &secrets_rule_email, "email", w + k, end - k, k);
    return end;
}

/* ------------------------------------------------------------------ JWT */

/* Decodes base64url (or standard base64) into out, at most cap bytes;
 * stops at the first byte outside the alphabet.  Returns bytes written. */
static size_t sc_b64_decode(const uint8_t *s, size_t n, uint8_t *out, size_t cap)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t k = 0; k < n && o < cap; k++) {
        uint8_t c = s[k];
        int v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '-' || c == '+')
            v = 62;
        else if (c == '_' || c == '/')
            v = 63;
        else
            break;
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    return o;
}

/* Whether the decoded header is a JSON object naming an "alg". */
static bool sc_jwt_header(const uint8_t *s, size_t n)
{
    uint8_t hdr[384];
    size_t hn = sc_b64_decode(s, n, hdr, sizeof hdr);
    size_t k = 0;
    while (k < hn && (hdr[k] == ' ' || hdr[k] == '\t' || hdr[k] == '\r' || hdr[k] == '\n'))
        k++;
    if (k >= hn || hdr[k] != '{')
        return false;
    for (; k + 5 <= hn; k++)
        if (memcmp(hdr + k, "\"alg\"", 5) == 0)
            return true;
    return false;
}

/*
 * At the 'J' of "eyJ" (base64url of '{"'): header.payload.signature, each
 * part base64url, the header a JSON object with "alg" (JWS); up to five
 * parts (JWE).  A token running past the lookahead is taken cut there.
 */
static size_t sc_jwt(struct sc_out *o, const uint8_t *w, size_t lo, size_t i, size_t hi)
{
    if (i < lo + 2 || w[i - 2] != 'e' || w[i - 1] != 'y')
        return i + 1;
    size_t s = i - 2;
    if (s > lo && (sc_is(w[s - 1], C_B64URL) || w[s - 1] == '.'))
        return i + 1;   /* inside a longer token (the payload of a JWT starts "eyJ" too) */
    size_t p1 = sc_run_len(w, s, hi, C_B64URL, hi - s);
    size_t j = s + p1;
    if (p1 < 10 || j + 1 >= hi || w[j] != '.')
        return i + 1;
    if (!sc_jwt_header(w + s, p1 < 512 ? p1 : 512))
        return i + 1;
    size_t parts = 1;
    while (j < hi && w[j] == '.' && parts < 5) {
        size_t pn = sc_run_len(w, j + 1, hi, C_B64URL, hi - j - 1);
        if (parts == 1 && pn < 2)
            return i + 1;   /* no payload */
        j += 1 + pn;
        parts++;
    }
    if (parts < 3 && j < hi)
        return i + 1;       /* two parts only, and not cut by the window */
    sc_report(o, &secrets_rule_jwt, "jwt", w + s, j - s, s);
    return j;
}

/* ------------------------------------------------------------------ PEM */

/* At a '-': "-----BEGIN <label>-----" whose label names a private key.  The
 * value runs to the end of the matching "-----END ...-----" line, or to the
 * lookahead. */
static size_t sc_pem(struct sc_out *o, const uint8_t *w, size_t lo, size_t i, size_t hi)
{
    static const char begin[] = "-----BEGIN ";
    const size_t bl = sizeof begin - 1;
    if ((i > lo && w[i - 1] == '-') || i + bl > hi || memcmp(w + i, begin, bl) != 0)
        return 0;
    size_t lab = i + bl;
    size_t ln = sc_run_len(w, lab, hi, C_PEMLABEL, 65);
    if (ln == 0 || ln > 64 || lab + ln + 5 > hi || memcmp(w + lab + ln, "-----", 5) != 0)
        return 0;
    bool priv = false;
    for (size_t k = 0; k + 11 <= ln && !priv; k++)
        priv = memcmp(w + lab + k, "PRIVATE KEY", 11) == 0;
    if (!priv)
        return 0;
    size_t end = hi;
    for (size_t k = lab + ln + 5; k + 9 <= hi; k++) {
        if (w[k] == '-' && memcmp(w + k, "-----END ", 9) == 0) {
            size_t e = k + 9;
            while (e < hi && sc_is(w[e], C_PEMLABEL))
                e++;
            end = e + 5 <= hi && memcmp(w + e, "-----", 5) == 0 ? e + 5 : e;
            break;
        }
    }
    sc_report(o, &secrets_rule_private_key, "private-key", w + i, end - i, i);
    return end;
}

/* ------------------------------------------------------------------ API keys */

/* Extra structure beyond prefix, charset and length. */
typedef bool (*sc_key_check)(const uint8_t *body, size_t n);

/* SendGrid: SG.<22>.<43> */
static bool sc_check_sendgrid(const uint8_t *b, size_t n)
{
    if (n != 66 || b[22] != '.')
        return false;
    for (size_t k = 0; k < n; k++)
        if (k != 22 && b[k] == '.')
            return false;
    return true;
}

/* Slack: <team digits>-<digits>-...: digits, then at least two dashes. */
static bool sc_check_slack(const uint8_t *b, size_t n)
{
    size_t dashes = 0;
    for (size_t k = 0; k < n; k++)
        dashes += b[k] == '-';
    return sc_digit(b[0]) && dashes >= 2;
}

/* OpenAI legacy keys: 20 characters, "T3BlbkFJ" (base64 of "openai"), 20. */
static bool sc_check_openai(const uint8_t *b, size_t n)
{
    return n == 48 && memcmp(b + 20, "T3BlbkFJ", 8) == 0;
}

struct sc_key {
    const char *prefix;
    uint8_t plen;           /* its length */
    uint8_t anchor;         /* index in prefix of the anchor byte */
    uint16_t charset;       /* classes of the body */
    uint16_t min, max;      /* body length */
    sc_key_check check;     /* or NULL */
    const char *kind;       /* for the evidence field */
};

#define KP(prefix) prefix, sizeof prefix - 1      /* a prefix and its length */
#define K_UPDIG (C_UPPER | C_DIGIT)
#define K_B64STD (C_ALNUM | C_B64STD)

/* Grouped by anchor byte; within a group, any order. */
static const struct sc_key sc_keys_us[] = {           /* anchor '_' */
    { KP("ghp_"), 3, C_ALNUM, 36, 36, NULL, "github-token" },
    { KP("gho_"), 3, C_ALNUM, 36, 36, NULL, "github-token" },
    { KP("ghu_"), 3, C_ALNUM, 36, 36, NULL, "github-token" },
    { KP("ghs_"), 3, C_ALNUM, 36, 36, NULL, "github-token" },
    { KP("ghr_"), 3, C_ALNUM, 36, 36, NULL, "github-token" },
    { KP("github_pat_"), 10, C_WORD, 82, 82, NULL, "github-token" },
    { KP("sk_live_"), 2, C_ALNUM, 24, 247, NULL, "stripe-key" },
    { KP("rk_live_"), 2, C_ALNUM, 24, 247, NULL, "stripe-key" },
    { KP("npm_"), 3, C_ALNUM, 36, 36, NULL, "npm-token" },
    { KP("shpat_"), 5, C_HEX, 32, 32, NULL, "shopify-token" },
    { KP("shpss_"), 5, C_HEX, 32, 32, NULL, "shopify-token" },
    { KP("shpca_"), 5, C_HEX, 32, 32, NULL, "shopify-token" },
    { KP("shppa_"), 5, C_HEX, 32, 32, NULL, "shopify-token" },
    { KP("dop_v1_"), 6, C_HEXL, 64, 64, NULL, "digitalocean-token" },
};

static const struct sc_key sc_keys_dash[] = {         /* anchor '-' */
    { KP("glpat-"), 5, C_B64URL, 20, 64, NULL, "gitlab-token" },
    { KP("xoxb-"), 4, C_ALNUM | C_DASH, 20, 250, sc_check_slack, "slack-token" },
    { KP("xoxa-"), 4, C_ALNUM | C_DASH, 20, 250, sc_check_slack, "slack-token" },
    { KP("xoxp-"), 4, C_ALNUM | C_DASH, 20, 250, sc_check_slack, "slack-token" },
    { KP("xoxr-"), 4, C_ALNUM | C_DASH, 20, 250, sc_check_slack, "slack-token" },
    { KP("xoxs-"), 4, C_ALNUM | C_DASH, 20, 250, sc_check_slack, "slack-token" },
    { KP("xapp-"), 4, C_ALNUM | C_DASH, 20, 250, sc_check_slack, "slack-token" },
    { KP("pypi-AgEIcHlwaS5vcmc"), 4, C_B64URL, 50, 1000, NULL, "pypi-token" },
    { KP("sk-ant-api03-"), 2, C_B64URL, 80, 120, NULL, "anthropic-key" },
    { KP("sk-proj-"), 2, C_B64URL, 40, 250, NULL, "openai-key" },
    { KP("sk-"), 2, C_ALNUM, 48, 48, sc_check_openai, "openai-key" },
    { KP("sq0atp-"), 6, C_B64URL, 22, 22, NULL, "square-token" },
    { KP("sq0csp-"), 6, C_B64URL, 43, 43, NULL, "square-secret" },
};

static const struct sc_key sc_keys_upper[] = {        /* anchors 'I', 'G', 'K' */
    { KP("AKIA"), 2, K_UPDIG, 16, 16, NULL, "aws-access-key-id" },
    { KP("ASIA"), 2, K_UPDIG, 16, 16, NULL, "aws-access-key-id" },
    { KP("AIza"), 1, C_B64URL, 35, 35, NULL, "google-api-key" },
    { KP("SG."), 1, C_B64URL | C_DOT, 66, 66, sc_check_sendgrid, "sendgrid-key" },
    { KP("SK"), 1, C_HEXL, 32, 32, NULL, "twilio-key" },
    { KP("AccountKey="), 7, K_B64STD, 86, 88, NULL, "azure-storage-key" },
};

/* Tries the keys of one group whose prefix has byte w[i] at its anchor. */
static size_t sc_keys(struct sc_out *o, const struct sc_key *keys, size_t nkeys,
                      const uint8_t *w, size_t lo, size_t i, size_t hi)
{
    for (size_t r = 0; r < nkeys; r++) {
        const struct sc_key *k = &keys[r];
        if (k->prefix[k->anchor] != w[i] || i < lo + k->anchor ||
            w[i - 1] != (uint8_t)k->prefix[k->anchor - 1])
            continue;
        size_t s = i - k->anchor;
        size_t pl = k->plen;
        if (s + pl > hi || w[s] != (uint8_t)k->prefix[0] || memcmp(w + s, k->prefix, pl) != 0)
            continue;
        if (s > lo && sc_is(w[s - 1], C_WORD))
            continue;   /* glued to a word: "MASK" is no "SK" key */
        size_t b = s + pl;
        size_t n = sc_run_len(w, b, hi, k->charset, (size_t)k->max + 1);
        if (n < k->min || n > k->max)
            continue;
        if (b + n < hi && sc_is(w[b + n], k->charset | C_WORD))
            continue;   /* longer than the format: something else */
        if (k->check != NULL && !k->check(w + b, n))
            continue;
        sc_report(o, &secrets_rule_api_key, k->kind, w + s, pl + n, s);
        return b + n;
    }
    return 0;
}

/* ------------------------------------------------------------------ the prefilter */

/*
 * The vector prefilter finds the next position worth a look, 16 (SSE2) or
 * 32 (AVX2) positions at a time.  It only drops positions whose check
 * cannot match, and skips nothing a check would not, so the result is the
 * same as with the byte table alone (it refines sc_anchor):
 *   digits     the first digit of DDD-DD-DDDD, of DDDD<sep>DDD (a grouped
 *              card), or of 13 digits in a row; dates, times, phone
 *              numbers and short numbers never get a look
 *   '-'        before another '-' (PEM) or after a lowercase letter (the
 *              key prefixes "glpat-", "xoxb-", "sk-"...)
 *   '_'        after a lowercase letter or '1' ("ghp_", "sk_live_", "dop_v1_")
 *   'J'        after 'y' ("eyJ")
 *   'I' 'G' 'K' after 'A', 'K', 'S' or 't' (AKIA, ASIA, AIza, SG., SK,
 *              AccountKey=)
 *   '@'
 * A block of B positions reads one byte before it and B bytes after it
 * (the digit patterns look up to 12 bytes ahead).
 */
#ifdef SC_VECTOR

/* Masks of the block's positions that start a number worth a look, from
 * the digit, separator and dash bit masks of 2B bytes (bit k = byte k) and
 * whether the byte before the block is a digit. */
static inline uint64_t sc_num_mask(uint64_t d, uint64_t sep, uint64_t dash, bool prev_digit)
{
    uint64_t start = d & ~(d << 1 | (uint64_t)prev_digit);
    uint64_t r2 = d & d >> 1, r3 = r2 & d >> 2, r4 = r2 & r2 >> 2;
    uint64_t r8 = r4 & r4 >> 4, r13 = r8 & r8 >> 5;
    uint64_t ssn = r3 & dash >> 3 & r2 >> 4 & dash >> 6 & r4 >> 7;
    uint64_t grouped = r4 & sep >> 4 & r3 >> 5;
    return start & (ssn | grouped | r13);
}

#define SC_RANGE(x, first, span) \
    cmpeq(min_u8(sub8((x), set1(first)), set1(span)), sub8((x), set1(first)))

/* The candidates of the block a candidate was found in (bit k: position
 * at + k), so the scan goes on after that candidate without examining the
 * block again: a position's bit depends on the bytes only, not on where the
 * block starts. */
struct sc_blk {
    size_t at;
    uint64_t m;
};

/* The body of sc_next_*: needs the vector macros of its width.  Examines
 * blocks from i while i < to and the block and the next are readable
 * (i + 2B <= wr); a last block that runs past to has its positions from to
 * on masked off.  Returns the first candidate, with its block's candidates
 * in *bk, or where it stopped (at most to). */
#define SC_NEXT_BODY(B, MOVEMASK) \
    const V zero = set1('0'), nine = set1(9), a_ = set1('a'), z_ = set1(25); \
    const V dash_ = set1('-'), space_ = set1(' '); \
    if (i == 0) \
        return 0; \
    for (; i < to && i + 2 * (B) <= wr; i += (B)) { \
        const uint8_t *q = w + i; \
        V v = load(q), vn = load(q + (B)), vm = load(q - 1), v1 = load(q + 1); \
        V dv = cmpeq(min_u8(sub8(v, zero), nine), sub8(v, zero)); \
        V dn = cmpeq(min_u8(sub8(vn, zero), nine), sub8(vn, zero)); \
        V hv = cmpeq(v, dash_), hn = cmpeq(vn, dash_); \
        uint64_t d = (uint64_t)MOVEMASK(dv) | (uint64_t)MOVEMASK(dn) << (B); \
        uint64_t h = (uint64_t)MOVEMASK(hv) | (uint64_t)MOVEMASK(hn) << (B); \
        uint64_t sp = (uint64_t)MOVEMASK(cmpeq(v, space_)) | \
                      (uint64_t)MOVEMASK(cmpeq(vn, space_)) << (B); \
        uint64_t m = sc_num_mask(d, sp | h, h, sc_digit(q[-1])); \
        V lower = cmpeq(min_u8(sub8(vm, a_), z_), sub8(vm, a_)); \
        V dash = and(hv, or(cmpeq(v1, dash_), lower)); \
        V us = and(cmpeq(v, set1('_')), or(lower, cmpeq(vm, set1('1')))); \
        V jwt = and(cmpeq(v, set1('J')), cmpeq(vm, set1('y'))); \
        V igk = or(cmpeq(v, set1('I')), or(cmpeq(v, set1('G')), cmpeq(v, set1('K')))); \
        V pre = or(or(cmpeq(vm, set1('A')), cmpeq(vm, set1('K'))), \
                   or(cmpeq(vm, set1('S')), cmpeq(vm, set1('t')))); \
        V one = or(or(jwt, and(igk, pre)), or(or(dash, us), cmpeq(v, set1('@')))); \
        m = (m & ((1ULL << (B)) - 1)) | (uint64_t)MOVEMASK(one); \
        if (to - i < (B)) \
            m &= (1ULL << (to - i)) - 1; \
        if (m != 0) { \
            bk->at = i; \
            bk->m = m; \
            return i + (size_t)__builtin_ctzll(m); \
        } \
    } \
    return i < to ? i : to;

static size_t sc_next_sse2(const uint8_t *w, size_t wr, size_t i, size_t to,
                           struct sc_blk *bk)
{
    typedef __m128i V;
#define load(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
#define set1(c) _mm_set1_epi8((char)(c))
#define cmpeq _mm_cmpeq_epi8
#define min_u8 _mm_min_epu8
#define sub8 _mm_sub_epi8
#define and _mm_and_si128
#define or _mm_or_si128
#define MM(x) (uint32_t)_mm_movemask_epi8(x)
    SC_NEXT_BODY(16, MM)
#undef load
#undef set1
#undef cmpeq
#undef min_u8
#undef sub8
#undef and
#undef or
#undef MM
}

__attribute__((target("avx2")))
static size_t sc_next_avx2(const uint8_t *w, size_t wr, size_t i, size_t to,
                           struct sc_blk *bk)
{
    typedef __m256i V;
#define load(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define set1(c) _mm256_set1_epi8((char)(c))
#define cmpeq _mm256_cmpeq_epi8
#define min_u8 _mm256_min_epu8
#define sub8 _mm256_sub_epi8
#define and _mm256_and_si256
#define or _mm256_or_si256
#define MM(x) (uint32_t)_mm256_movemask_epi8(x)
    SC_NEXT_BODY(32, MM)
#undef load
#undef set1
#undef cmpeq
#undef min_u8
#undef sub8
#undef and
#undef or
#undef MM
}
#endif

/* ------------------------------------------------------------------ the scan */

/* Decides one anchor position.  Returns the next position to examine, or 0
 * for "nothing here" (the next byte). */
static size_t sc_at(struct sc_out *o, const uint8_t *w, size_t lo, size_t i, size_t hi)
{
    switch (sc_anchor[w[i]]) {
    case AN_DIGIT:
        return sc_number(o, w, lo, i, hi);
    case AN_AT:
        return sc_email(o, w, lo, i, hi);
    case AN_JWT:
        return sc_jwt(o, w, lo, i, hi);
    case AN_DASH: {
        size_t next = sc_pem(o, w, lo, i, hi);
        if (next != 0)
            return next;
        return sc_keys(o, sc_keys_dash, ARRAY_LEN(sc_keys_dash), w, lo, i, hi);
    }
    case AN_KEY:
        if (w[i] == '_')
            return sc_keys(o, sc_keys_us, ARRAY_LEN(sc_keys_us), w, lo, i, hi);
        return sc_keys(o, sc_keys_upper, ARRAY_LEN(sc_keys_upper), w, lo, i, hi);
    default:
        return 0;
    }
}

/* Decides position i of the wn bytes at w; returns the next position to
 * decide (after a match, the position after it). */
static inline size_t sc_look(struct sc_out *o, const uint8_t *w, size_t wn, size_t i)
{
    if (sc_anchor[w[i]] == 0)
        return i + 1;
    size_t lo = i > SECRETS_LOOKBACK ? i - SECRETS_LOOKBACK : 0;
    size_t hi = wn - i > SECRETS_LOOKAHEAD ? i + SECRETS_LOOKAHEAD : wn;
    if (o->values) {
        /* the value ends at its NUL, as if scanned on its own (a PEM block
         * without its END line, or a JWT, must not run into the next) */
        const uint8_t *z = memchr(w + i, 0, hi - i);
        if (z != NULL)
            hi = (size_t)(z - w);
    }
    size_t next = sc_at(o, w, lo, i, hi);
    return next > i ? next : i + 1;
}

#ifdef SC_VECTOR
/* The prefilter on one block at the end of the bytes, where a block and the
 * one after it no longer fit: the block's bytes, the one before it and what
 * follows (up to a block) are copied into a zeroed window, so the end of the
 * bytes reads as NUL bytes, which start and continue no pattern.  Returns
 * the first candidate in [i, i + len), or i + len. */
__attribute__((noinline)) static size_t sc_next_tail(const uint8_t *w, size_t wn, size_t i,
                                                    size_t len)
{
    uint8_t pad[1 + 2 * 32];
    size_t have = wn - (i - 1);
    if (have > sizeof pad)
        have = sizeof pad;
    memset(pad, 0, sizeof pad);
    memcpy(pad, w + i - 1, have);
    struct sc_blk bk;
    size_t k = sc_block == 32 ? sc_next_avx2(pad, 1 + 2 * 32, 1, 1 + len, &bk)
                              : sc_next_sse2(pad, 1 + 2 * 16, 1, 1 + len, &bk);
    return i + (k - 1);
}
#endif

/*
 * Decides positions [from, to) of the wn bytes at w.  The decision at i
 * reads w[max(0, i - LOOKBACK) .. min(wn, i + LOOKAHEAD)) only.  Returns the
 * first position not yet decided: to, or more when a match runs past it
 * (its inside is not examined again).  The prefilter may read up to wr >= wn
 * bytes; those past wn must be zero.
 */
static size_t sc_run(struct sc_out *o, const uint8_t *w, size_t wn, size_t wr, size_t from,
                     size_t to)
{
    size_t i = from;
#ifdef SC_VECTOR
    struct sc_blk bk = { SIZE_MAX, 0 };
#endif
    while (i < to) {
#ifdef SC_VECTOR
        if (i >= bk.at && i - bk.at < sc_block) {
            /* in the block of the last candidate: its next one, if any */
            uint64_t m = bk.m >> (i - bk.at);
            if (m != 0) {
                i += (size_t)__builtin_ctzll(m);
                i = sc_look(o, w, wn, i);
                continue;
            }
            if (bk.at + sc_block >= to)
                break;      /* nothing left before to (i stays below it) */
            i = bk.at + sc_block;
        }
        if (sc_block == 32)
            i = sc_next_avx2(w, wr, i, to, &bk);
        else if (sc_block == 16)
            i = sc_next_sse2(w, wr, i, to, &bk);
        /* the last positions, where a block and the next are not readable:
         * most of a short value (a header, a row's field) would be here */
        while (sc_block != 0 && i > 0 && i < to && i + 2 * sc_block > wr) {
            size_t len = to - i < sc_block ? to - i : sc_block;
            size_t k = sc_next_tail(w, wn, i, len);
            if (k < i + len) {
                i = k;
                break;
            }
            i += len;
        }
        if (i >= to)
            break;
#endif
        i = sc_look(o, w, wn, i);
    }
    return i > to ? i : to;
}

unsigned secrets_use_vector(unsigned width)
{
    sc_init();
    sc_block = 0;
#ifdef SC_VECTOR
    if (width >= 32 && __builtin_cpu_supports("avx2"))
        sc_block = 32;
    else if (width >= 16)
        sc_block = 16;
#else
    (void)width;
#endif
    return sc_block;
}

size_t secrets_find(const uint8_t *p, size_t n, secrets_cb cb, void *arg)
{
    struct sc_out o = { cb, arg, 0, false };
    sc_init();
    if (p == NULL || n == 0)
        return 0;
    sc_run(&o, p, n, n, 0, n);
    return o.count;
}

size_t secrets_find_padded(const uint8_t *p, size_t n, secrets_cb cb, void *arg)
{
    struct sc_out o = { cb, arg, 0, true };
    sc_init();
    if (p == NULL || n == 0)
        return 0;
    sc_run(&o, p, n, n + SECRETS_PAD, 0, n);
    return o.count;
}

/* ------------------------------------------------------------------ streams */

/*
 * A stream is decided position by position, each with its full lookahead:
 * the last LOOKAHEAD bytes wait in s->buf (with LOOKBACK bytes of context
 * before them) until enough bytes follow.  Small pieces are joined to the
 * held bytes in a stack window; a large piece is scanned in place, only its
 * first LOOKBACK + LOOKAHEAD bytes joined to the held ones.
 */
void secrets_stream_feed_cb(struct secrets_stream *s, const uint8_t *p, size_t n,
                            secrets_cb cb, void *arg)
{
    enum { LB = SECRETS_LOOKBACK, LA = SECRETS_LOOKAHEAD };
    uint8_t w[2 * (LB + LA)];
    struct sc_out o = { cb, arg, 0, false };
    size_t have = (size_t)s->ctx_len + s->held;
    sc_init();
    if (p == NULL || n == 0)
        return;
    if (n >= LB + LA) {
        /* the held positions and p's first LB ones need the join */
        memcpy(w, s->buf, have);
        memcpy(w + have, p, LB + LA);
        size_t next = sc_run(&o, w, have + LB + LA, have + LB + LA, (size_t)s->ctx_len + s->skip,
                             have + LB);
        /* the rest of p has its own lookback; its last LA positions wait */
        next = sc_run(&o, p, n, n, next - have, n - LA);
        memcpy(s->buf, p + n - (LB + LA), LB + LA);
        s->ctx_len = LB;
        s->held = LA;
        s->skip = (uint16_t)(next - (n - LA));
        return;
    }
    memcpy(w, s->buf, have);
    memcpy(w + have, p, n);
    size_t wn = have + n;
    size_t from = (size_t)s->ctx_len + s->skip;
    size_t to = wn > LA ? wn - LA : 0;
    if (to < s->ctx_len)
        to = s->ctx_len;
    size_t next = from < to ? sc_run(&o, w, wn, wn, from, to) : from;
    size_t keep = to > LB ? to - LB : 0;
    memcpy(s->buf, w + keep, wn - keep);
    s->ctx_len = (uint16_t)(to - keep);
    s->held = (uint16_t)(wn - to);
    s->skip = (uint16_t)(next - to);
}

void secrets_stream_end_cb(struct secrets_stream *s, secrets_cb cb, void *arg)
{
    struct sc_out o = { cb, arg, 0, false };
    size_t have = (size_t)s->ctx_len + s->held;
    sc_init();
    if ((size_t)s->ctx_len + s->skip < have)
        sc_run(&o, s->buf, have, have, (size_t)s->ctx_len + s->skip, have);
    s->ctx_len = s->held = s->skip = 0;
}

/* ------------------------------------------------------------------ memo */

/*
 * The matches of recently scanned short values, by content.  Database rows,
 * header values and cookies repeat (the same query run again returns the
 * same rows), and a value seen before gives the same matches: they are
 * replayed, not searched for again.  Direct-mapped and exact: an entry
 * keeps the value's bytes and is used only when they are equal, so the
 * result is always what a scan would give.  A value with more matches than
 * an entry holds, or a match whose bytes are not the value's own (a card
 * number written in groups is reported without its separators) and longer
 * than a card, is not remembered.  Two entries per set, the one used less
 * recently replaced.  The scanner is single-threaded.
 */
/* The few functions every remembered value goes through, inlined into
 * each other: a row replayed from the memo costs a few hundred
 * instructions, and calls between them were a good part of that. */
#define SC_HOT __attribute__((always_inline)) inline

#define SC_MEMO_SETS    1024u       /* power of two; two entries each */
#define SC_MEMO_LEN     240u        /* longest value remembered */
#define SC_MEMO_HITS    6u          /* most matches per value remembered */
#define SC_MEMO_OWN     19u         /* longest match kept apart from the value */
#define SC_MEMO_NAMES   64u         /* most rules, and kinds, the memo tells apart */
#define SC_OWNERS       64u         /* owners remembered, direct-mapped */

/* A match: rule and kind by their place in sc_memo_rules and sc_memo_kinds. */
struct sc_memo_hit {
    uint8_t rule, kind;
    uint8_t own;                /* 0: the bytes at off; k: own[k - 1] (len bytes) */
    uint16_t off, len;
};

/* Where an entry's matches were stated last: a server endpoint (the key
 * of their findings, with the rule), a field and a direction.  Kept once
 * in sc_owners; entries name theirs by slot and generation. */
struct sc_owner {
    uint64_t epoch;             /* findings_epoch() when stated */
    struct ipaddr server;
    uint16_t port;
    uint8_t transport;
    uint8_t d;
    char field[48];             /* the field's text (callers build some in a buffer) */
};

/* Who asks for a scan: a flow (NULL for none), a direction and a field. */
struct sc_who {
    const struct flow_view *flow;
    enum dir d;
    const char *field;
};

/* An entry.  Its key is in sc_memo_keys, so that a lookup reads the entry
 * only when the key matches; a hit then reads the first line (counts,
 * owner, matches) and the lines of the value's bytes, nothing else unless
 * a match is kept apart. */
struct sc_memo {
    uint16_t n;
    uint8_t nhits;
    uint8_t owner;              /* slot in sc_owners */
    uint32_t owner_gen;         /* the slot's generation when stated; 0: none */
    uint8_t ns;                 /* how the bytes were scanned: sc_memo_ns() */
    uint16_t next;              /* 1 + the entry looked up right after this one; 0: none */
    struct sc_memo_hit hit[SC_MEMO_HITS];
    uint8_t bytes[SC_MEMO_LEN];
    uint8_t own[SC_MEMO_HITS][SC_MEMO_OWN];
} __attribute__((aligned(64)));

_Static_assert(offsetof(struct sc_memo, bytes) <= 64, "an entry's first line holds its matches");

/* Entries of the same bytes scanned differently differ: plain, as values
 * joined by NULs, or as the record a where() function maps joined values
 * into (one namespace per function). */
#define SC_NS_PLAIN     0u
#define SC_NS_PADDED    1u
#define SC_NS_WHERE     8u          /* most where() functions told apart */
#define SC_NS_NONE      0xffu       /* not one the memo can tell apart */

static struct sc_memo *sc_memo;     /* 2 * SC_MEMO_SETS entries, on first use */
static uint64_t *sc_memo_keys;      /* their keys (a hash of the bytes; 0: empty) */
static uint8_t *sc_memo_old;        /* per set: which entry was used less recently */
static uint64_t sc_memo_hits, sc_memo_misses;
static const void *sc_memo_rules[SC_MEMO_NAMES];     /* const struct rule * */
static const void *sc_memo_kinds[SC_MEMO_NAMES];     /* const char * */
static unsigned sc_memo_nrules, sc_memo_nkinds;
static secrets_where_fn sc_memo_wheres[SC_NS_WHERE];
static unsigned sc_memo_nwheres;
static uint32_t sc_memo_last;       /* 1 + the entry looked up last; 0: none */
static struct sc_owner sc_owners[SC_OWNERS];
static uint32_t sc_owners_gen[SC_OWNERS];   /* 0: empty */
static uint32_t sc_owners_last;             /* the last generation handed out */
static uint32_t sc_memo_clears;             /* how often generations started afresh */

/* The memo of runs (see secrets_again_run()). */
#define SC_RUN_SETS     32u         /* power of two; two entries each */
#define SC_RUN_LEN      4096u       /* longest run remembered */
#define SC_RUN_HITS     128u        /* most matches per run remembered */

struct sc_run {
    uint64_t key;               /* 0: empty */
    uint16_t n;                 /* bytes given, from which the run starts */
    uint16_t run_n;             /* the run's own bytes (the records taken) */
    uint32_t nrec;              /* its records */
    uint16_t nhits;
    uint8_t ns;
    uint8_t owner;              /* where its facts were stated last, as for records */
    uint32_t owner_gen;
    struct sc_memo_hit hit[SC_RUN_HITS];
    uint8_t bytes[SC_RUN_LEN];
};

static struct sc_run *sc_runs;      /* 2 * SC_RUN_SETS entries, on first use */
static uint64_t sc_runs_seen[256];  /* keys of runs met once, direct-mapped */
static uint8_t sc_runs_old[SC_RUN_SETS];
static uint64_t sc_run_hits, sc_run_misses;

/* The place of p in tab (added when new), or -1 when tab is full. */
static int sc_memo_name(const void **tab, unsigned *len, const void *p)
{
    for (unsigned i = 0; i < *len; i++)
        if (tab[i] == p)
            return (int)i;
    if (*len == SC_MEMO_NAMES)
        return -1;
    tab[*len] = p;
    return (int)(*len)++;
}

/* The namespace of a scan: plain, padded, or records of where(). */
static unsigned sc_memo_ns(bool padded, secrets_where_fn where)
{
    if (where == NULL)
        return padded ? SC_NS_PADDED : SC_NS_PLAIN;
    for (unsigned i = 0; i < sc_memo_nwheres; i++)
        if (sc_memo_wheres[i] == where)
            return 2 + i;
    if (sc_memo_nwheres == SC_NS_WHERE)
        return SC_NS_NONE;
    sc_memo_wheres[sc_memo_nwheres] = where;
    return 2 + sc_memo_nwheres++;
}

SC_HOT static bool sc_owner_is(const struct sc_owner *o, const struct sc_who *w)
{
    const struct flow_view *f = w->flow;
    if (f == NULL || o->d != w->d || o->port != f->server_port ||
        o->transport != f->transport || !addr_equal(&o->server, &f->server) ||
        o->epoch != findings_epoch())
        return false;
    /* fields are a few bytes: compared here rather than through strcmp() */
    const char *x = o->field, *y = w->field;
    while (*x != '\0' && *x == *y)
        x++, y++;
    return *x == *y;
}

/* Whether who stated e's matches last. */
SC_HOT static bool sc_memo_owned(const struct sc_memo *e, const struct sc_who *w)
{
    return e->owner_gen != 0 && sc_owners_gen[e->owner] == e->owner_gen &&
           sc_owner_is(&sc_owners[e->owner], w);
}

static void sc_memo_clear(void);

/* Marks e as stated by who: a slot of sc_owners that holds who, taken
 * over (with a new generation, so entries stamped before no longer match)
 * when it holds someone else. */
static void sc_owner_stamp(uint8_t *owner, uint32_t *owner_gen, const struct sc_who *w)
{
    *owner_gen = 0;
    const struct flow_view *f = w->flow;
    if (f == NULL)
        return;
    size_t flen = strlen(w->field);
    if (flen >= sizeof sc_owners[0].field)
        return;
    uint64_t a[2];
    memcpy(a, f->server.b, sizeof a);
    uint64_t seed = a[0] ^ (a[1] * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)f->server_port << 8) ^
                    ((uint64_t)w->d << 24) ^ ((uint64_t)f->transport << 32);
    unsigned s = (unsigned)hash64(w->field, flen, seed) & (SC_OWNERS - 1);
    struct sc_owner *o = &sc_owners[s];
    if (sc_owners_gen[s] == 0 || !sc_owner_is(o, w)) {
        if (sc_owners_last == UINT32_MAX) {
            sc_memo_clear();    /* generations would repeat: start afresh */
            sc_owner_stamp(owner, owner_gen, w);
            return;
        }
        o->epoch = findings_epoch();
        o->server = f->server;
        o->port = f->server_port;
        o->transport = f->transport;
        o->d = (uint8_t)w->d;
        memcpy(o->field, w->field, flen + 1);
        sc_owners_gen[s] = ++sc_owners_last;
    }
    *owner = (uint8_t)s;
    *owner_gen = sc_owners_gen[s];
}

static void sc_memo_stamp(struct sc_memo *e, const struct sc_who *w)
{
    sc_owner_stamp(&e->owner, &e->owner_gen, w);
}

/* Forwards each match of a scan being remembered and records it in e.
 * With where, p..n are values gathered from src and the entry keeps where
 * in src each match lies. */
struct sc_record {
    secrets_cb cb;
    void *arg;
    const uint8_t *p;
    size_t n;
    struct sc_memo *e;
    bool keep;
    unsigned nown;
    secrets_where_fn where;
    const uint8_t *src;
    size_t src_n;
};

static void sc_record(void *arg, const struct secrets_match *m)
{
    struct sc_record *r = arg;
    r->cb(r->arg, m);
    if (!r->keep)
        return;
    int rule = sc_memo_name(sc_memo_rules, &sc_memo_nrules, m->rule);
    int kind = sc_memo_name(sc_memo_kinds, &sc_memo_nkinds, m->kind);
    if (r->e->nhits >= SC_MEMO_HITS || rule < 0 || kind < 0 || m->len > UINT16_MAX) {
        r->keep = false;
        return;
    }
    struct sc_memo_hit *h = &r->e->hit[r->e->nhits++];
    h->rule = (uint8_t)rule;
    h->kind = (uint8_t)kind;
    h->len = (uint16_t)m->len;
    uintptr_t v = (uintptr_t)m->value, lo = (uintptr_t)r->p;
    bool own = !(v >= lo && v + m->len <= lo + r->n);
    size_t off = own ? m->offset : v - lo;
    if (r->where != NULL) {
        off = r->where(r->src, r->src_n, off);
        if (off > r->src_n || (!own && m->len > r->src_n - off)) {
            r->keep = false;    /* cannot be: do not remember it */
            return;
        }
    }
    h->off = (uint16_t)off;
    h->own = 0;
    if (own) {
        if (m->len > SC_MEMO_OWN) {
            r->keep = false;
            return;
        }
        memcpy(r->e->own[r->nown], m->value, m->len);
        h->own = (uint8_t)++r->nown;
    }
}

#ifdef SC_VECTOR
/* CRC-32C of the bytes, eight at a time (SSE4.2). */
__attribute__((target("sse4.2")))
static uint64_t sc_memo_crc(const uint8_t *p, size_t n)
{
    uint64_t c = 0xffffffffu;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        c = _mm_crc32_u64(c, w);
    }
    if (i + 4 <= n) {
        uint32_t w;
        memcpy(&w, p + i, 4);
        c = _mm_crc32_u32((uint32_t)c, w);
        i += 4;
    }
    for (; i < n; i++)
        c = _mm_crc32_u8((uint32_t)c, p[i]);
    return c;
}
#endif

/* The memo key of a value: a CRC-32C where the CPU has it (a collision only
 * costs a lookup, as entries are compared byte for byte), and the length. */
static uint64_t sc_memo_key(const uint8_t *p, size_t n)
{
    static int crc = -1;
#ifdef SC_VECTOR
    if (crc < 0)
        crc = __builtin_cpu_supports("sse4.2") ? 1 : 0;
    if (crc)
        return ((sc_memo_crc(p, n) * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)n << 1)) | 1;
#else
    (void)crc;
#endif
    return hash64(p, n, 0x5ca1) | 1;
}

static void sc_find_plain(const uint8_t *p, size_t n, bool padded, secrets_cb cb, void *arg)
{
    if (padded)
        secrets_find_padded(p, n, cb, arg);
    else
        secrets_find(p, n, cb, arg);
}

static bool sc_memo_ready(void)
{
    if (sc_memo != NULL)
        return true;
    sc_memo = aligned_alloc(_Alignof(struct sc_memo), 2 * SC_MEMO_SETS * sizeof *sc_memo);
    if (sc_memo != NULL)
        memset(sc_memo, 0, 2 * SC_MEMO_SETS * sizeof *sc_memo);
    sc_memo_keys = calloc(2 * SC_MEMO_SETS, sizeof *sc_memo_keys);
    sc_memo_old = calloc(SC_MEMO_SETS, 1);
    if (sc_memo == NULL || sc_memo_keys == NULL || sc_memo_old == NULL) {
        secrets_memo_free();
        return false;
    }
    return true;
}

/* Where bytes p..n scanned in namespace ns go: their key and set. */
static void sc_memo_slot(const uint8_t *p, size_t n, unsigned ns, uint64_t *key, size_t *set)
{
    uint64_t k = sc_memo_key(p, n) ^ ((uint64_t)ns * 0xff51afd7ed558ccdULL);
    *key = k | 1;
    *set = (size_t)(*key >> 40) & (SC_MEMO_SETS - 1);
}

/*
 * Entry i is the one looked up now: it is linked after the one looked up
 * before, and the entry that followed it last time is fetched into the
 * cache.  Rows come back in the order they came the last time the query
 * ran, so the next lookup usually finds its entry there, in the cache,
 * without hashing (sc_memo_get()).  The link is a guess, always checked.
 */
SC_HOT static void sc_memo_chain(size_t i)
{
    if (sc_memo_last != 0)
        sc_memo[sc_memo_last - 1].next = (uint16_t)(i + 1);
    sc_memo_last = (uint32_t)(i + 1);
    unsigned nx = sc_memo[i].next;
    if (nx != 0) {
        const char *q = (const char *)&sc_memo[nx - 1];
        __builtin_prefetch(&sc_memo_keys[nx - 1]);
        __builtin_prefetch(q);
        __builtin_prefetch(q + 64);
        __builtin_prefetch(q + 128);
    }
}

SC_HOT static bool sc_memo_holds(size_t i, const uint8_t *p, size_t n, unsigned ns)
{
    const struct sc_memo *e = &sc_memo[i];
    return sc_memo_keys[i] != 0 && e->n == n && e->ns == ns && memcmp(e->bytes, p, n) == 0;
}

/* The entry of bytes p..n scanned in namespace ns, or NULL; then *key and
 * *set say where it would go. */
SC_HOT static struct sc_memo *sc_memo_get(const uint8_t *p, size_t n, unsigned ns,
                                   uint64_t *key, size_t *set)
{
    size_t i;
    unsigned guess = sc_memo_last != 0 ? sc_memo[sc_memo_last - 1].next : 0;
    if (guess != 0 && sc_memo_holds(guess - 1, p, n, ns)) {
        i = guess - 1;
    } else {
        sc_memo_slot(p, n, ns, key, set);
        const uint64_t *keys = &sc_memo_keys[2 * *set];
        i = 2 * *set + (keys[1] == *key);
        if (sc_memo_keys[i] != *key || !sc_memo_holds(i, p, n, ns)) {
            sc_memo_misses++;
            return NULL;
        }
    }
    sc_memo_old[i / 2] = (uint8_t)!(i & 1);
    sc_memo_hits++;
    sc_memo_chain(i);
    return &sc_memo[i];
}

/* Counts a repeated fact of rule (the memo's rule r) for a's flow: the
 * first of a rule now, to learn whether the flow fed its finding, the rest
 * in secrets_again_end().  False: the flow fed none yet. */
SC_HOT static bool sc_again_count(struct secrets_again *a, unsigned r, const struct rule *rule)
{
    for (unsigned i = 0; i < a->nrules; i++)
        if (a->rule[i] == r) {
            a->count[i]++;
            return true;
        }
    if (!detector_emit_again(a->ctx, rule, 1))
        return false;
    if (a->nrules < SECRETS_AGAIN_RULES) {
        a->rule[a->nrules] = (uint8_t)r;
        a->count[a->nrules++] = 0;
    }
    return true;
}

/* States the matches of entry e for bytes p (what its offsets refer to).
 * With ctx: a value whose matches were stated last to the same server,
 * field and direction (owned: sc_memo_owned() of who) is counted through
 * detector_emit_again(), since its facts (same rule, server, field and
 * value) are in those findings already; anything else goes through cb. */
SC_HOT static void sc_memo_replay(struct sc_memo *e, const uint8_t *p, secrets_cb cb, void *arg,
                           const struct sc_who *who, struct det_ctx *ctx, bool owned)
{
    bool same = ctx != NULL && owned;
    for (unsigned i = 0; i < e->nhits; i++) {
        const struct sc_memo_hit *h = &e->hit[i];
        const struct rule *rule = sc_memo_rules[h->rule];
        if (same && detector_emit_again(ctx, rule, 1))
            continue;
        struct secrets_match m = { rule, sc_memo_kinds[h->kind],
                                   h->own ? e->own[h->own - 1] : p + h->off, h->len, h->off };
        cb(arg, &m);
    }
    if (!same)
        sc_memo_stamp(e, who);
}

/* Scans p..n through cb (padded: as joined values) and remembers the
 * matches under key in set: under the bytes themselves, or with where
 * under src..src_n, the record the values were gathered from. */
static void sc_memo_fill(const uint8_t *p, size_t n, bool padded, secrets_cb cb, void *arg,
                         const struct sc_who *who, unsigned ns, uint64_t key, size_t set,
                         secrets_where_fn where, const uint8_t *src, size_t src_n)
{
    unsigned way = sc_memo_old[set];
    struct sc_memo *e = &sc_memo[2 * set + way];
    sc_memo_old[set] = (uint8_t)!way;
    sc_memo_keys[2 * set + way] = 0;
    e->nhits = 0;
    e->next = 0;
    sc_memo_chain(2 * set + way);
    struct sc_record r = { cb, arg, p, n, e, true, 0, where, src, src_n };
    sc_find_plain(p, n, padded, sc_record, &r);
    if (!r.keep)
        return;
    const uint8_t *b = where != NULL ? src : p;
    size_t bn = where != NULL ? src_n : n;
    sc_memo_keys[2 * set + way] = key;
    e->n = (uint16_t)bn;
    e->ns = (uint8_t)ns;
    sc_memo_stamp(e, who);
    memcpy(e->bytes, b, bn);
}

static const struct sc_who sc_nobody = { NULL, DIR_TO_SERVER, "" };

/* The memo: see above. */
static void sc_find_memo(const uint8_t *p, size_t n, bool padded, secrets_cb cb, void *arg,
                         const struct sc_who *who, struct det_ctx *ctx)
{
    if (n == 0 || n > SC_MEMO_LEN || !sc_memo_ready()) {
        sc_find_plain(p, n, padded, cb, arg);
        return;
    }
    if (who == NULL)
        who = &sc_nobody;
    uint64_t key;
    size_t set;
    unsigned ns = sc_memo_ns(padded, NULL);
    struct sc_memo *e = sc_memo_get(p, n, ns, &key, &set);
    if (e != NULL)
        sc_memo_replay(e, p, cb, arg, who, ctx, ctx != NULL && sc_memo_owned(e, who));
    else
        sc_memo_fill(p, n, padded, cb, arg, who, ns, key, set, NULL, NULL, 0);
}

void secrets_find_memo(const uint8_t *p, size_t n, bool padded, secrets_cb cb, void *arg)
{
    sc_find_memo(p, n, padded, cb, arg, NULL, NULL);
}

void secrets_memo_stats(uint64_t *hits, uint64_t *misses)
{
    *hits = sc_memo_hits;
    *misses = sc_memo_misses;
}

/* Forgets every entry and owner (the rule and kind tables stay). */
static void sc_memo_clear(void)
{
    if (sc_memo_keys != NULL)
        memset(sc_memo_keys, 0, 2 * SC_MEMO_SETS * sizeof *sc_memo_keys);
    for (size_t i = 0; sc_runs != NULL && i < 2 * SC_RUN_SETS; i++)
        sc_runs[i].key = 0;
    memset(sc_owners_gen, 0, sizeof sc_owners_gen);
    sc_owners_last = 0;
    sc_memo_clears++;
    sc_memo_last = 0;
}

void secrets_memo_free(void)
{
    free(sc_memo);
    free(sc_memo_keys);
    free(sc_memo_old);
    free(sc_runs);
    sc_memo = NULL;
    sc_memo_keys = NULL;
    sc_memo_old = NULL;
    sc_runs = NULL;
    memset(sc_runs_seen, 0, sizeof sc_runs_seen);
    sc_memo_hits = sc_memo_misses = 0;
    sc_run_hits = sc_run_misses = 0;
    sc_memo_clear();
    sc_memo_nrules = sc_memo_nkinds = sc_memo_nwheres = 0;
}

/* ------------------------------------------------------------------ findings */

struct sc_emit {
    struct det_ctx *ctx;
    enum dir d;
    const char *field;
};

/* A match becomes a fact; API keys say which key in the field name. */
static void sc_emit(void *arg, const struct secrets_match *m)
{
    struct sc_emit *e = arg;
    char field[48];
    const char *f = e->field != NULL ? e->field : "data";
    if (m->rule == &secrets_rule_api_key) {
        snprintf(field, sizeof field, "%s:%s", f, m->kind);
        f = field;
    }
    detector_emit(e->ctx, m->rule, e->d, f, m->value, m->len, EV_SECRET);
}

static void sc_scan(struct det_ctx *ctx, enum dir d, const char *field, const uint8_t *p,
                    size_t n, bool padded)
{
    struct sc_emit e = { ctx, d, field };
    struct sc_who who = { ctx->flow, d, field != NULL ? field : "" };
    sc_find_memo(p, n, padded, sc_emit, &e, &who, ctx);
}

void secrets_scan(struct det_ctx *ctx, enum dir d, const char *field,
                  const uint8_t *p, size_t n)
{
    sc_scan(ctx, d, field, p, n, false);
}

bool secrets_values_add(struct secrets_values *v, const uint8_t *p, size_t n)
{
    if (n >= v->cap - v->len)
        return false;
    memcpy(v->buf + v->len, p, n);
    v->len += n;
    v->buf[v->len++] = '\0';
    return true;
}

void secrets_scan_values(struct det_ctx *ctx, enum dir d, const char *field,
                         struct secrets_values *v)
{
    if (v->len == 0)
        return;
    /* the last separator and the padding the scanner may read: zeros */
    memset(v->buf + v->len, 0, SECRETS_PAD);
    sc_scan(ctx, d, field, v->buf, v->len - 1, true);
    v->len = 0;
}

void secrets_again_init(struct secrets_again *a, struct det_ctx *ctx, enum dir d,
                        const char *field, secrets_where_fn where)
{
    /* field by field: the rule and count arrays are filled as they grow */
    a->ctx = ctx;
    a->d = d;
    a->field = field;           /* NULL: "data" in evidence, "" as the memo's owner */
    a->ns = sc_memo_ns(true, where);
    a->owner_gen = 0;
    a->clears = sc_memo_clears;
    a->nrules = 0;
    a->run = NULL;
}

void secrets_again_end(struct secrets_again *a)
{
    for (unsigned i = 0; i < a->nrules; i++)
        detector_emit_again(a->ctx, sc_memo_rules[a->rule[i]], a->count[i]);
    a->nrules = 0;
}

/* The turns secrets_scan_again() seldom takes, out of its way. */

/* Whether a's flow, direction and field own the owner slot (its generation
 * gen being current), learnt for the next records. */
static __attribute__((noinline)) bool sc_again_owner(unsigned owner, uint32_t gen,
                                                    struct secrets_again *a)
{
    struct sc_who who = { a->ctx->flow, a->d, a->field != NULL ? a->field : "" };
    if (!sc_owner_is(&sc_owners[owner], &who))
        return false;
    a->owner_gen = gen;
    a->clears = sc_memo_clears;
    return true;
}

/* Whether the facts of an entry stamped (owner, gen) were stated last for
 * a's flow, direction and field: generations are unique between clears,
 * so a's, once learnt, stands for a. */
SC_HOT static bool sc_again_same(unsigned owner, uint32_t gen, struct secrets_again *a)
{
    return gen != 0 && sc_owners_gen[owner] == gen &&
           ((gen == a->owner_gen && a->clears == sc_memo_clears) ||
            sc_again_owner(owner, gen, a));
}

/* States match h for the record at src in full; own: the entry's bytes
 * kept apart. */
static __attribute__((noinline)) void sc_again_state(const struct secrets_again *a,
                                                    const struct sc_memo_hit *h,
                                                    const uint8_t *own, const uint8_t *src)
{
    struct sc_emit em = { a->ctx, a->d, a->field };
    struct secrets_match m = { sc_memo_rules[h->rule], sc_memo_kinds[h->kind],
                               h->own ? own + (h->own - 1) * SC_MEMO_OWN : src + h->off,
                               h->len, h->off };
    sc_emit(&em, &m);
}

/* Stamps (owner, gen) with a's flow, direction and field, and learns the
 * owner slot that stands for them. */
static __attribute__((noinline)) void sc_again_stamp(uint8_t *owner, uint32_t *gen,
                                                    struct secrets_again *a)
{
    struct sc_who who = { a->ctx->flow, a->d, a->field != NULL ? a->field : "" };
    sc_owner_stamp(owner, gen, &who);
    if (*gen != 0) {
        a->owner_gen = *gen;
        a->clears = sc_memo_clears;
    }
}

/* The matches hit..nhits of a record or run at src, remembered stamped
 * (owner, gen), stated for a: counted when stated last for a (see
 * sc_again_count()), else in full, and then stamped for a.  own: the
 * entry's bytes kept apart (NULL for runs, which keep none). */
SC_HOT static void sc_again_replay(struct secrets_again *a, const struct sc_memo_hit *hit,
                                   unsigned nhits, const uint8_t *own, uint8_t *owner,
                                   uint32_t *gen, const uint8_t *src)
{
    bool same = sc_again_same(*owner, *gen, a);
    for (unsigned i = 0; i < nhits; i++)
        if (!same || !sc_again_count(a, hit[i].rule, sc_memo_rules[hit[i].rule]))
            sc_again_state(a, &hit[i], own, src);
    if (!same)
        sc_again_stamp(owner, gen, a);
}

static void sc_run_add(struct secrets_again *a, const struct sc_memo *e, const uint8_t *src);

/* sc_memo_replay() for a record of a: its facts stated to the same server,
 * field and direction last are counted (sc_again_count()), the rest stated
 * in full. */
bool secrets_scan_again(struct secrets_again *a, const uint8_t *src, size_t n)
{
    if (n - 1 >= SC_MEMO_LEN || a->ns == SC_NS_NONE || sc_memo == NULL) {
        a->run = NULL;  /* a record the memo cannot hold: no run holds it either */
        return false;   /* (n - 1 wraps when n is 0) */
    }
    uint64_t key;
    size_t set;
    struct sc_memo *e = sc_memo_get(src, n, a->ns, &key, &set);
    if (e == NULL) {
        a->run = NULL;      /* a run is remembered when all its records were */
        return false;
    }
    sc_again_replay(a, e->hit, e->nhits, &e->own[0][0], &e->owner, &e->owner_gen, src);
    if (a->run != NULL)
        sc_run_add(a, e, src);
    return true;
}

/*
 * Runs.  The rows of a result set come many to a segment, and a query run
 * again returns the same bytes: a run of whole records met before byte for
 * byte is stated from a memo of runs, in one lookup instead of one per
 * record.  The lookup is by the bytes the caller has (a segment), which
 * decide where its run of records ends, so the caller need not frame them
 * first.  A run is remembered when every record in it was a memo hit (so
 * from its second coming on): its matches are those entries' matches, at
 * the records' offsets in the run, in their order.  Entries keep the bytes
 * and are used only when they are equal, so, as with records, the result
 * is what the lookups of its records would give.  Matches whose bytes are
 * kept apart (a grouped card) keep a run from being remembered.
 */

/* Adds the matches of record entry e, at src in the run being recorded. */
static void sc_run_add(struct secrets_again *a, const struct sc_memo *e, const uint8_t *src)
{
    struct sc_run *r = a->run_entry;
    size_t off = (size_t)(src - a->run);
    if (src < a->run || off + e->n > a->run_n || r->nhits + e->nhits > SC_RUN_HITS) {
        a->run = NULL;
        return;
    }
    for (unsigned i = 0; i < e->nhits; i++) {
        struct sc_memo_hit h = e->hit[i];
        if (h.own != 0) {
            a->run = NULL;
            return;
        }
        h.off = (uint16_t)(h.off + off);
        r->hit[r->nhits++] = h;
    }
}

bool secrets_again_run(struct secrets_again *a, const uint8_t *p, size_t n, size_t *run_n,
                       uint32_t *nrec)
{
    a->run = NULL;
    if (n == 0 || n > SC_RUN_LEN || a->ns == SC_NS_NONE || sc_memo == NULL)
        return false;
    if (sc_runs == NULL && (sc_runs = calloc(2 * SC_RUN_SETS, sizeof *sc_runs)) == NULL)
        return false;
    /* keyed by the length and the first and last bytes: the bytes are
     * compared whole anyway, and hashing a run would cost a good part of
     * what its lookup saves */
    size_t k = n < 32 ? n : 32;
    uint64_t key = (hash64(p, k, n) ^ (hash64(p + n - k, k, a->ns) * 0x9e3779b97f4a7c15ULL)) | 1;
    size_t set = (size_t)(key >> 40) & (SC_RUN_SETS - 1);
    unsigned way = sc_runs[2 * set + 1].key == key;
    struct sc_run *r = &sc_runs[2 * set + way];
    if (r->key == key && r->n == n && r->ns == a->ns && memcmp(r->bytes, p, n) == 0) {
        sc_runs_old[set] = (uint8_t)!way;
        sc_run_hits++;
        sc_again_replay(a, r->hit, r->nhits, NULL, &r->owner, &r->owner_gen, p);
        *run_n = r->run_n;
        *nrec = r->nrec;
        return true;
    }
    sc_run_misses++;
    /* a run is recorded the second time it comes: most never come again,
     * and recording them would push out the ones that do */
    uint64_t *seen = &sc_runs_seen[(key >> 20) & 255];
    if (*seen != key) {
        *seen = key;
        return false;
    }
    way = sc_runs_old[set];
    sc_runs_old[set] = (uint8_t)!way;
    r = &sc_runs[2 * set + way];
    r->key = 0;
    r->nhits = 0;
    a->run = p;
    a->run_n = n;
    a->run_entry = r;
    a->run_key = key;
    a->run_clears = sc_memo_clears;
    return false;
}

void secrets_again_run_end(struct secrets_again *a, size_t done, uint32_t nrec)
{
    struct sc_run *r = a->run_entry;
    if (a->run == NULL || nrec < 2 || done > a->run_n || a->run_clears != sc_memo_clears) {
        a->run = NULL;
        return;
    }
    memcpy(r->bytes, a->run, a->run_n);
    r->n = (uint16_t)a->run_n;
    r->run_n = (uint16_t)done;
    r->nrec = nrec;
    r->ns = (uint8_t)a->ns;
    /* every fact of the run was stated for a just now, counted or in full */
    sc_again_stamp(&r->owner, &r->owner_gen, a);
    if (a->run_clears == sc_memo_clears)
        r->key = a->run_key;
    a->run = NULL;
}

void secrets_run_stats(uint64_t *hits, uint64_t *misses)
{
    *hits = sc_run_hits;
    *misses = sc_run_misses;
}

void secrets_scan_record(struct det_ctx *ctx, enum dir d, const char *field,
                         struct secrets_values *v, const uint8_t *src, size_t n,
                         secrets_where_fn where)
{
    if (n == 0 || n > SC_MEMO_LEN || v->len == 0 || !sc_memo_ready()) {
        secrets_scan_values(ctx, d, field, v);
        return;
    }
    memset(v->buf + v->len, 0, SECRETS_PAD);
    uint64_t key;
    size_t set;
    unsigned ns = sc_memo_ns(true, where);
    if (ns == SC_NS_NONE) {
        secrets_scan_values(ctx, d, field, v);
        return;
    }
    sc_memo_slot(src, n, ns, &key, &set);
    struct sc_emit em = { ctx, d, field };
    struct sc_who who = { ctx->flow, d, field != NULL ? field : "" };
    sc_memo_fill(v->buf, v->len - 1, true, sc_emit, &em, &who, ns, key, set, where, src, n);
    v->len = 0;
}

void secrets_stream_feed(struct det_ctx *ctx, struct secrets_stream *s, enum dir d,
                         const char *field, const uint8_t *p, size_t n)
{
    struct sc_emit e = { ctx, d, field };
    secrets_stream_feed_cb(s, p, n, sc_emit, &e);
}

void secrets_stream_end(struct det_ctx *ctx, struct secrets_stream *s, enum dir d,
                        const char *field)
{
    struct sc_emit e = { ctx, d, field };
    secrets_stream_end_cb(s, sc_emit, &e);
}

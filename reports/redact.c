/*
 * redact.c - how values appear in a report (see redact.h).
 *
 * Secrets: "ab******yz (24 chars)".  At most two characters are shown at
 * each end, fewer for short values, none for values under six characters,
 * so a short password never appears.  Statements: string and numeric
 * literals become '?', so the shape of a query (tables, columns) is shown
 * and the values in it are not.  Text: printable, bounded.
 */
#include "redact.h"

#include <stdio.h>
#include <string.h>

#include "hash.h"

/* Appends c to out if room remains (keeps one byte for the NUL). */
static bool put(char *out, size_t outlen, size_t *o, char c)
{
    if (*o + 1 >= outlen)
        return false;
    out[(*o)++] = c;
    return true;
}

/* Appends b, escaped when not printable.  Returns false (and appends
 * nothing) when it does not fit whole. */
static bool put_byte(char *out, size_t outlen, size_t *o, uint8_t b)
{
    static const char digits[] = "0123456789abcdef";
    if (b >= 0x20 && b < 0x7f && b != '\\')
        return put(out, outlen, o, (char)b);
    if (*o + 5 >= outlen)
        return false;
    put(out, outlen, o, '\\');
    put(out, outlen, o, 'x');
    put(out, outlen, o, digits[b >> 4]);
    put(out, outlen, o, digits[b & 15]);
    return true;
}

void redact_printable(const uint8_t *v, size_t n, size_t max, char *out, size_t outlen)
{
    size_t o = 0;
    size_t lim = n < max ? n : max;
    if (outlen == 0)
        return;
    size_t i = 0;
    /* keep room for "..." so a cut is always visible */
    size_t room = outlen > 4 ? outlen - 3 : outlen;
    for (; i < lim; i++)
        if (!put_byte(out, room, &o, v[i]))
            break;
    if (i < n) {
        put(out, outlen, &o, '.');
        put(out, outlen, &o, '.');
        put(out, outlen, &o, '.');
    }
    out[o] = '\0';
}

static void redact_secret(const uint8_t *v, size_t n, char *out, size_t outlen)
{
    size_t shown = n >= 16 ? 2 : n >= 10 ? 1 : 0;
    size_t o = 0;
    for (size_t i = 0; i < shown; i++)
        put_byte(out, outlen, &o, v[i]);
    for (size_t i = 0; i < 6; i++)
        put(out, outlen, &o, '*');
    for (size_t i = n - shown; i < n && shown > 0; i++)
        put_byte(out, outlen, &o, v[i]);
    out[o] = '\0';
    size_t used = strlen(out);
    snprintf(out + used, outlen - used, " (%zu chars)", n);
}

/* Statements longer than this are masked on their first bytes only (the
 * excerpt shows far fewer anyway). */
#define SQL_SCAN_MAX 4096u

/* Marks in mask[] the bytes inside '...' or "..." literals, reading a
 * backslash as an escape (MySQL's default) or as an ordinary character
 * (standard SQL, PostgreSQL) as `escapes` says. */
static void sql_literals(const uint8_t *v, size_t n, bool escapes, uint8_t *mask)
{
    size_t i = 0;
    while (i < n) {
        uint8_t q = v[i];
        if (q != '\'' && q != '"') {
            i++;
            continue;
        }
        size_t j = i + 1;
        while (j < n && v[j] != q) {
            if (escapes && v[j] == '\\' && j + 1 < n)
                j++;
            j++;
        }
        size_t end = j < n ? j + 1 : n;
        memset(mask + i, 1, end - i);
        i = end;
    }
}

static bool sql_word_byte(uint8_t c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

static bool sql_number_byte(uint8_t c)
{
    return (c >= '0' && c <= '9') || c == '.' || c == 'x' || c == 'X' ||
           (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Masks SQL literals: a byte inside a literal under either reading of the
 * backslash is hidden, so an excerpt never depends on guessing the
 * server's escaping mode right; each masked run and each number that is
 * not part of a name becomes '?'. */
static void redact_sql(const uint8_t *v, size_t n, char *out, size_t outlen)
{
    uint8_t mask[SQL_SCAN_MAX];
    uint8_t other[SQL_SCAN_MAX];
    size_t m = n < SQL_SCAN_MAX ? n : SQL_SCAN_MAX;
    memset(mask, 0, m);
    memset(other, 0, m);
    sql_literals(v, m, true, mask);
    sql_literals(v, m, false, other);
    for (size_t k = 0; k < m; k++)
        mask[k] |= other[k];

    size_t o = 0;
    size_t i = 0;
    size_t room = outlen > 4 ? outlen - 3 : outlen;
    if (room > EVIDENCE_MAX_TEXT + 1)
        room = EVIDENCE_MAX_TEXT + 1;
    bool full = false;
    while (i < m && !full) {
        uint8_t c = v[i];
        if (mask[i]) {
            while (i < m && mask[i])
                i++;
            full = !put(out, room, &o, '?');
            continue;
        }
        if (c >= '0' && c <= '9' && !(i > 0 && sql_word_byte(v[i - 1]))) {
            while (i < m && !mask[i] && sql_number_byte(v[i]))
                i++;
            full = !put(out, room, &o, '?');
            continue;
        }
        if (c == '\r' || c == '\n' || c == '\t')
            c = ' ';
        full = !put_byte(out, room, &o, c);
        if (!full)
            i++;
    }
    if (i < n) {
        put(out, outlen, &o, '.');
        put(out, outlen, &o, '.');
        put(out, outlen, &o, '.');
    }
    out[o] = '\0';
}

void redact_excerpt(enum ev_kind kind, const uint8_t *v, size_t n, bool show_all,
                    char *out, size_t outlen)
{
    if (outlen == 0)
        return;
    out[0] = '\0';
    if (v == NULL || n == 0 || kind == EV_NONE)
        return;
    if (show_all) {
        redact_printable(v, n, n, out, outlen);
        return;
    }
    switch (kind) {
    case EV_TEXT:
        redact_printable(v, n, EVIDENCE_MAX_TEXT, out, outlen);
        break;
    case EV_SECRET:
        redact_secret(v, n, out, outlen);
        break;
    case EV_SQL:
        redact_sql(v, n, out, outlen);
        break;
    case EV_NONE:
        break;
    }
}

void redact_fingerprint(const uint8_t *v, size_t n, char out[17])
{
    static const char prefix[] = "leakscan-fp-v1:";
    static const char digits[] = "0123456789abcdef";
    uint8_t buf[512];
    uint8_t md[32];
    size_t plen = sizeof prefix - 1;
    size_t take = n < sizeof buf - plen ? n : sizeof buf - plen;

    /* secrets longer than the buffer are fingerprinted by their first
     * bytes plus their length, which is still a stable identity */
    memcpy(buf, prefix, plen);
    if (take > 0)
        memcpy(buf + plen, v, take);
    sha256_once(buf, plen + take, md);
    if (take < n) {
        uint8_t again[40];
        memcpy(again, md, 32);
        uint64_t len = n;
        memcpy(again + 32, &len, 8);
        sha256_once(again, sizeof again, md);
    }
    for (int i = 0; i < 8; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 15];
    }
    out[16] = '\0';
}

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
static void put(char *out, size_t outlen, size_t *o, char c)
{
    if (*o + 1 < outlen)
        out[(*o)++] = c;
}

static void put_byte(char *out, size_t outlen, size_t *o, uint8_t b)
{
    static const char digits[] = "0123456789abcdef";
    if (b >= 0x20 && b < 0x7f && b != '\\') {
        put(out, outlen, o, (char)b);
        return;
    }
    /* never cut an escape in half */
    if (*o + 5 >= outlen)
        return;
    put(out, outlen, o, '\\');
    put(out, outlen, o, 'x');
    put(out, outlen, o, digits[b >> 4]);
    put(out, outlen, o, digits[b & 15]);
}

void redact_printable(const uint8_t *v, size_t n, size_t max, char *out, size_t outlen)
{
    size_t o = 0;
    size_t lim = n < max ? n : max;
    if (outlen == 0)
        return;
    for (size_t i = 0; i < lim; i++)
        put_byte(out, outlen, &o, v[i]);
    if (lim < n) {
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

/* Masks SQL literals: '...', "...", and numbers that are not part of a
 * name.  Backslash escapes inside quotes are honoured. */
static void redact_sql(const uint8_t *v, size_t n, char *out, size_t outlen)
{
    size_t o = 0;
    size_t i = 0;
    size_t lim = n < EVIDENCE_MAX_TEXT ? n : EVIDENCE_MAX_TEXT;
    while (i < n && o + 1 < outlen && i < lim) {
        uint8_t c = v[i];
        if (c == '\'' || c == '"') {
            size_t j = i + 1;
            while (j < n && v[j] != c) {
                if (v[j] == '\\' && j + 1 < n)
                    j++;
                j++;
            }
            put(out, outlen, &o, '?');
            i = j < n ? j + 1 : n;
            continue;
        }
        bool prev_word = i > 0 && (v[i - 1] == '_' || (v[i - 1] >= 'a' && v[i - 1] <= 'z') ||
                                   (v[i - 1] >= 'A' && v[i - 1] <= 'Z') ||
                                   (v[i - 1] >= '0' && v[i - 1] <= '9'));
        if (c >= '0' && c <= '9' && !prev_word) {
            while (i < n && ((v[i] >= '0' && v[i] <= '9') || v[i] == '.' ||
                             v[i] == 'x' || v[i] == 'X' ||
                             (v[i] >= 'a' && v[i] <= 'f') || (v[i] >= 'A' && v[i] <= 'F')))
                i++;
            put(out, outlen, &o, '?');
            continue;
        }
        if (c == '\r' || c == '\n' || c == '\t')
            c = ' ';
        put_byte(out, outlen, &o, c);
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
        redact_printable(v, n, outlen / 4, out, outlen);
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

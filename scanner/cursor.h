/*
 * cursor.h - bounds-checked reads of packet and stream bytes.
 *
 * Every read of untrusted bytes goes through a cursor.  A read past the end
 * sets the sticky `bad` flag, returns zero and touches no memory, so a
 * header can be read straight through and checked once at the end:
 *
 *     struct cursor c = cursor_init(p, n);
 *     uint32_t len = cur_le24(&c);
 *     uint8_t  seq = cur_u8(&c);
 *     if (c.bad)
 *         return 0;            (header not all here yet)
 *
 * Lengths are compared against what is left, never added to the pointer
 * first, so no intermediate pointer ever points outside the buffer.
 */
#ifndef LEAKSCAN_CURSOR_H
#define LEAKSCAN_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cursor {
    const uint8_t *p;   /* start of the buffer */
    size_t len;         /* its length */
    size_t off;         /* next byte to read */
    bool bad;           /* a read went past the end */
};

static inline struct cursor cursor_init(const void *p, size_t len)
{
    struct cursor c = { (const uint8_t *)p, len, 0, false };
    return c;
}

static inline size_t cur_left(const struct cursor *c)
{
    return c->bad ? 0 : c->len - c->off;
}

/* Pointer to the next byte; only meaningful together with cur_left().  A
 * cursor over no bytes may have a NULL base: it stays NULL. */
static inline const uint8_t *cur_ptr(const struct cursor *c)
{
    return c->p != NULL ? c->p + c->off : c->p;
}

/* Claim n bytes: returns a pointer to them, or NULL (and bad) if short. */
static inline const uint8_t *cur_take(struct cursor *c, size_t n)
{
    if (c->bad || n > c->len - c->off) {
        c->bad = true;
        return NULL;
    }
    const uint8_t *r = cur_ptr(c);
    c->off += n;
    return r;
}

static inline void cur_skip(struct cursor *c, size_t n)
{
    (void)cur_take(c, n);
}

static inline bool cur_copy(struct cursor *c, void *dst, size_t n)
{
    const uint8_t *s = cur_take(c, n);
    if (s == NULL)
        return false;
    memcpy(dst, s, n);
    return true;
}

static inline uint8_t cur_u8(struct cursor *c)
{
    const uint8_t *s = cur_take(c, 1);
    return s ? s[0] : 0;
}

static inline uint16_t cur_be16(struct cursor *c)
{
    const uint8_t *s = cur_take(c, 2);
    return s ? (uint16_t)(s[0] << 8 | s[1]) : 0;
}

static inline uint16_t cur_le16(struct cursor *c)
{
    const uint8_t *s = cur_take(c, 2);
    return s ? (uint16_t)(s[1] << 8 | s[0]) : 0;
}

static inline uint32_t cur_be24(struct cursor *c)
{
    const uint8_t *s = cur_take(c, 3);
    return s ? (uint32_t)s[0] << 16 | (uint32_t)s[1] << 8 | s[2] : 0;
}

static inline uint32_t cur_le24(struct cursor *c)
{
    const uint8_t *s = cur_take(c, 3);
    return s ? (uint32_t)s[2] << 16 | (uint32_t)s[1] << 8 | s[0] : 0;
}

static inline uint32_t cur_be32(struct cursor *c)
{
    const uint8_t *s = cur_take(c, 4);
    return s ? (uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 |
               (uint32_t)s[2] << 8 | s[3] : 0;
}

static inline uint32_t cur_le32(struct cursor *c)
{
    const uint8_t *s = cur_take(c, 4);
    return s ? (uint32_t)s[3] << 24 | (uint32_t)s[2] << 16 |
               (uint32_t)s[1] << 8 | s[0] : 0;
}

static inline uint64_t cur_le64(struct cursor *c)
{
    const uint8_t *s = cur_take(c, 8);
    uint64_t v = 0;
    for (int i = 7; s != NULL && i >= 0; i--)
        v = v << 8 | s[i];
    return v;
}

/* A NUL-terminated string of at most max bytes (terminator not counted).
 * Returns its start and sets *n, or NULL (and bad) when no NUL is found
 * within max bytes or before the end. */
static inline const uint8_t *cur_cstr(struct cursor *c, size_t max, size_t *n)
{
    size_t left = cur_left(c);
    size_t lim = left < max + 1 ? left : max + 1;
    const uint8_t *s = cur_ptr(c);
    const uint8_t *z = c->bad || s == NULL ? NULL : memchr(s, 0, lim);
    if (z == NULL) {
        c->bad = true;
        *n = 0;
        return NULL;
    }
    *n = (size_t)(z - s);
    c->off += *n + 1;
    return s;
}

/* A BER (X.690) header: one tag byte and a definite length, short form or
 * long form of 1 to 4 bytes.  False on a short read, or for the indefinite
 * form, which LDAP and SNMP never send. */
static inline bool cur_ber(struct cursor *c, uint8_t *tag, uint32_t *len)
{
    *tag = cur_u8(c);
    uint8_t b = cur_u8(c);
    if (c->bad)
        return false;
    if (b < 0x80) {
        *len = b;
        return true;
    }
    uint8_t k = b & 0x7f;
    if (k == 0 || k > 4)
        return false;
    uint32_t v = 0;
    for (uint8_t i = 0; i < k; i++)
        v = v << 8 | cur_u8(c);
    *len = v;
    return !c->bad;
}

#endif

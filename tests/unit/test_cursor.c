/*
 * test_cursor.c - the bounds-checked reader of scanner/cursor.h.
 *
 * Every input is placed with guarded_copy(), so it ends right before an
 * unreadable page: a read of one byte too many crashes the test even
 * without a sanitizer.  What is checked: each integer reader's byte order,
 * the sticky bad flag (once set, every later read returns zero, takes
 * nothing and leaves the offset alone), cur_take/cur_copy/cur_skip on
 * exact and short lengths, and cur_cstr with its maximum.
 */
#include <stdint.h>
#include <string.h>

#include "../../scanner/cursor.h"
#include "unit.h"

/* 01 02 03 04 05 06 07 08 09 0a: ten bytes with distinct values, so a byte
 * order mistake shows. */
static const uint8_t ten[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a };

static void test_integers_big_endian(void)
{
    const uint8_t *p = guarded_copy(ten, sizeof ten);
    struct cursor c = cursor_init(p, sizeof ten);
    CHECK_EQ(cur_u8(&c), 0x01);
    CHECK_EQ(cur_be16(&c), 0x0203);
    CHECK_EQ(cur_be24(&c), 0x040506);
    CHECK_EQ(cur_be32(&c), 0x0708090a);
    CHECK(!c.bad);
    CHECK_EQ(c.off, 10);
    CHECK_EQ(cur_left(&c), 0);
}

static void test_integers_little_endian(void)
{
    const uint8_t *p = guarded_copy(ten, sizeof ten);
    struct cursor c = cursor_init(p, sizeof ten);
    CHECK_EQ(cur_le16(&c), 0x0201);
    CHECK_EQ(cur_le24(&c), 0x050403);
    CHECK_EQ(cur_le32(&c), 0x09080706);
    CHECK(!c.bad);
    CHECK_EQ(cur_left(&c), 1);

    /* le64 over 01..08 */
    c = cursor_init(p, sizeof ten);
    CHECK(cur_le64(&c) == 0x0807060504030201ULL);
    CHECK_EQ(cur_left(&c), 2);
}

/* Reading the last bytes exactly succeeds; one more sets bad. */
static void test_exact_end(void)
{
    const uint8_t *p = guarded_copy(ten, 4);
    struct cursor c = cursor_init(p, 4);
    CHECK_EQ(cur_be32(&c), 0x01020304);
    CHECK(!c.bad);
    CHECK_EQ(cur_u8(&c), 0);
    CHECK(c.bad);
}

/* A wide read that does not fit returns zero and consumes nothing, even
 * when some bytes are left. */
static void test_short_reads(void)
{
    for (size_t n = 0; n < 4; n++) {
        const uint8_t *p = guarded_copy(ten, n);
        struct cursor c = cursor_init(p, n);
        CHECK_EQ(cur_be32(&c), 0);
        CHECK(c.bad);
        CHECK_EQ(c.off, 0);
        CHECK_EQ(cur_left(&c), 0);
    }
    const uint8_t *p = guarded_copy(ten, 2);
    struct cursor c = cursor_init(p, 2);
    CHECK_EQ(cur_be24(&c), 0);
    CHECK(c.bad);
    c = cursor_init(p, 2);
    CHECK_EQ(cur_le24(&c), 0);
    CHECK(c.bad);
    c = cursor_init(p, 1);
    CHECK_EQ(cur_le16(&c), 0);
    CHECK(c.bad);
}

/* cur_le64 is two cur_le32 reads: with 4 to 7 bytes left the first one
 * succeeds.  The contract (a short read returns zero) must still hold. */
static void test_le64_short(void)
{
    for (size_t n = 0; n < 8; n++) {
        const uint8_t *p = guarded_copy(ten, n);
        struct cursor c = cursor_init(p, n);
        uint64_t v = cur_le64(&c);
        CHECK(c.bad);
        if (v != 0)
            fprintf(stderr, "  le64 over %zu bytes returned %#llx\n", n, (unsigned long long)v);
        CHECK(v == 0);
        CHECK_EQ(cur_left(&c), 0);
    }
}

/* Once bad, always bad: later reads that would fit return zero too. */
static void test_sticky_bad(void)
{
    const uint8_t *p = guarded_copy(ten, sizeof ten);
    struct cursor c = cursor_init(p, sizeof ten);
    cur_skip(&c, 8);
    CHECK_EQ(cur_be32(&c), 0);      /* 2 left, 4 wanted */
    CHECK(c.bad);
    CHECK_EQ(c.off, 8);
    CHECK_EQ(cur_u8(&c), 0);        /* would fit, but the cursor is bad */
    CHECK_EQ(cur_be16(&c), 0);
    CHECK(cur_take(&c, 0) == NULL);
    CHECK_EQ(cur_left(&c), 0);
    CHECK_EQ(c.off, 8);
    uint8_t dst[2] = { 0xee, 0xee };
    CHECK(!cur_copy(&c, dst, 1));
    CHECK_EQ(dst[0], 0xee);         /* a failed copy writes nothing */
    size_t n = 99;
    CHECK(cur_cstr(&c, 16, &n) == NULL);
    CHECK_EQ(n, 0);
}

static void test_take_copy_skip(void)
{
    const uint8_t *p = guarded_copy(ten, sizeof ten);
    struct cursor c = cursor_init(p, sizeof ten);
    const uint8_t *t = cur_take(&c, 3);
    CHECK(t == p);
    CHECK(cur_ptr(&c) == p + 3);
    uint8_t dst[4];
    CHECK(cur_copy(&c, dst, 4));
    CHECK(memcmp(dst, ten + 3, 4) == 0);
    cur_skip(&c, 3);
    CHECK(!c.bad);
    CHECK_EQ(cur_left(&c), 0);
    CHECK(cur_take(&c, 0) == p + 10);   /* zero bytes at the end is fine */
    CHECK(!c.bad);
    cur_skip(&c, 1);
    CHECK(c.bad);

    /* a huge length must not wrap the pointer arithmetic */
    c = cursor_init(p, sizeof ten);
    cur_skip(&c, 1);
    CHECK(cur_take(&c, SIZE_MAX) == NULL);
    CHECK(c.bad);
    c = cursor_init(p, sizeof ten);
    cur_skip(&c, 2);
    CHECK(cur_take(&c, SIZE_MAX - 1) == NULL);
    CHECK(c.bad);
}

/* "root\0" "x\0" "abc" (no terminator) */
static const uint8_t strings[] = { 'r', 'o', 'o', 't', 0, 'x', 0, 'a', 'b', 'c' };

static void test_cstr(void)
{
    const uint8_t *p = guarded_copy(strings, sizeof strings);
    struct cursor c = cursor_init(p, sizeof strings);
    size_t n = 99;
    const uint8_t *s = cur_cstr(&c, 32, &n);
    CHECK(s == p);
    CHECK_EQ(n, 4);
    CHECK_EQ(c.off, 5);
    s = cur_cstr(&c, 1, &n);            /* "x": exactly the maximum */
    CHECK(s == p + 5);
    CHECK_EQ(n, 1);
    CHECK(!c.bad);
    s = cur_cstr(&c, 32, &n);           /* "abc" runs into the end */
    CHECK(s == NULL);
    CHECK(c.bad);
    CHECK_EQ(n, 0);
}

/* A string longer than max is refused even though its NUL is there. */
static void test_cstr_max(void)
{
    const uint8_t *p = guarded_copy(strings, sizeof strings);
    struct cursor c = cursor_init(p, sizeof strings);
    size_t n = 99;
    CHECK(cur_cstr(&c, 3, &n) == NULL);     /* "root" is 4 */
    CHECK(c.bad);
    c = cursor_init(p, sizeof strings);
    CHECK(cur_cstr(&c, 4, &n) == p);
    CHECK_EQ(n, 4);
    /* max 0: only an empty string */
    static const uint8_t empty[] = { 0, 'a' };
    p = guarded_copy(empty, sizeof empty);
    c = cursor_init(p, sizeof empty);
    CHECK(cur_cstr(&c, 0, &n) == p);
    CHECK_EQ(n, 0);
    CHECK(cur_cstr(&c, 0, &n) == NULL);     /* "a" with no NUL */
    CHECK(c.bad);
}

/* memchr must stop at the end: the bytes end at the guard page with no
 * NUL, whatever max says. */
static void test_cstr_no_read_past_end(void)
{
    static const uint8_t abc[] = { 'a', 'b', 'c' };
    for (size_t n = 0; n <= sizeof abc; n++) {
        const uint8_t *p = guarded_copy(abc, n);
        struct cursor c = cursor_init(p, n);
        size_t len = 99;
        CHECK(cur_cstr(&c, SIZE_MAX - 1, &len) == NULL);
        CHECK(c.bad);
        CHECK_EQ(len, 0);
    }
    /* max = SIZE_MAX: max + 1 wraps to 0, which must not mean "no limit"
     * (or look past the end) */
    const uint8_t *p = guarded_copy(strings, sizeof strings);
    struct cursor c = cursor_init(p, sizeof strings);
    size_t len = 99;
    const uint8_t *s = cur_cstr(&c, SIZE_MAX, &len);
    CHECK(s == NULL || (s == p && len == 4));
}

static void test_empty_buffer(void)
{
    const uint8_t *p = guarded_copy(ten, 0);
    struct cursor c = cursor_init(p, 0);
    CHECK_EQ(cur_left(&c), 0);
    CHECK(cur_take(&c, 0) == p);
    CHECK(!c.bad);
    CHECK_EQ(cur_u8(&c), 0);
    CHECK(c.bad);
}

int main(void)
{
    RUN(test_integers_big_endian);
    RUN(test_integers_little_endian);
    RUN(test_exact_end);
    RUN(test_short_reads);
    RUN(test_le64_short);
    RUN(test_sticky_bad);
    RUN(test_take_copy_skip);
    RUN(test_cstr);
    RUN(test_cstr_max);
    RUN(test_cstr_no_read_past_end);
    RUN(test_empty_buffer);
    return unit_done("test_cursor");
}

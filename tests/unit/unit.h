/*
 * unit.h - the smallest test framework that does the job.
 *
 * A test file defines test functions, lists them in main() with RUN(), and
 * returns unit_done().  Each failed CHECK prints file:line and the
 * expression; the binary prints "name: N passed, N failed" and exits 1 on
 * any failure, which tests/run.sh counts.
 *
 * guarded_copy() places bytes so they end right before an unreadable page,
 * so a parser that reads one byte too far crashes even without a sanitizer.
 */
#ifndef LEAKSCAN_UNIT_H
#define LEAKSCAN_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int unit_failed_checks;
static int unit_tests_passed, unit_tests_failed;
static const char *unit_current;

#define CHECK(expr) do { \
        if (!(expr)) { \
            fprintf(stderr, "%s:%d: %s: CHECK(%s) failed\n", \
                    __FILE__, __LINE__, unit_current, #expr); \
            unit_failed_checks++; \
        } \
    } while (0)

#define CHECK_EQ(a, b) do { \
        long long a_ = (long long)(a), b_ = (long long)(b); \
        if (a_ != b_) { \
            fprintf(stderr, "%s:%d: %s: %s == %lld, expected %s == %lld\n", \
                    __FILE__, __LINE__, unit_current, #a, a_, #b, b_); \
            unit_failed_checks++; \
        } \
    } while (0)

#define CHECK_STR(a, b) do { \
        const char *a_ = (a), *b_ = (b); \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) { \
            fprintf(stderr, "%s:%d: %s: %s == \"%s\", expected \"%s\"\n", \
                    __FILE__, __LINE__, unit_current, #a, a_ ? a_ : "(null)", \
                    b_ ? b_ : "(null)"); \
            unit_failed_checks++; \
        } \
    } while (0)

#define RUN(fn) do { \
        int before_ = unit_failed_checks; \
        unit_current = #fn; \
        fn(); \
        if (unit_failed_checks == before_) \
            unit_tests_passed++; \
        else \
            unit_tests_failed++; \
    } while (0)

static inline int unit_done(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, unit_tests_passed, unit_tests_failed);
    return unit_tests_failed ? 1 : 0;
}

/* Copies n bytes so that they end exactly at an inaccessible page.  The
 * mapping is leaked on purpose (tests are short-lived). */
static inline const unsigned char *guarded_copy(const void *src, size_t n)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    size_t span = (n + pg - 1) / pg * pg + pg;
    unsigned char *m = mmap(NULL, span, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    unsigned char *guard = m + span - pg;
    mprotect(guard, pg, PROT_NONE);
    unsigned char *dst = guard - n;
    if (n > 0)
        memcpy(dst, src, n);
    return dst;
}

#endif

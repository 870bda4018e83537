/*
 * secrets_bench.c - throughput of the secrets engine (detectors/secrets.c).
 *
 *   build/rel/tools/secrets_bench [MiB] [--min GBPS]
 *
 * Builds a synthetic plaintext corpus of MiB mebibytes (default 64) from a
 * fixed seed: a mix of HTML, JSON API traffic, access-log lines (dates,
 * addresses, UUIDs, numbers), CSV rows of customer-like data, English prose
 * and base64 blobs, with a few real-looking secrets sprinkled in (about one
 * per 64 KiB).  Then it scans it with secrets_find() in one call, and with
 * the stream API in 1448-byte pieces (one TCP segment each), best of 5 runs
 * each, and prints GB/s (10^9 bytes per second of this thread's CPU time,
 * so a busy machine does not count against the engine).  Also the two corner cases:
 * digit-heavy CSV, and random binary (encrypted-looking) bytes.
 * With --min, exits 1 when the one-call plaintext figure is below it (issue
 * 4 requires >= 1 GB/s on this machine).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../detectors/secrets.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

struct buf {
    uint8_t *p;
    size_t n, cap;
};

static void put(struct buf *b, const char *s)
{
    size_t k = strlen(s);
    if (b->n + k > b->cap)
        k = b->cap - b->n;
    memcpy(b->p + b->n, s, k);
    b->n += k;
}

static const char *const words[] = {
    "the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "was", "with",
    "be", "by", "on", "not", "he", "this", "are", "or", "his", "from", "at", "which",
    "but", "have", "an", "had", "they", "you", "were", "their", "one", "all", "we",
    "order", "customer", "shipping", "account", "delivery", "product", "kettle",
    "network", "server", "request", "response", "session", "payment", "invoice",
};

static void prose(struct buf *b, int nw)
{
    for (int k = 0; k < nw; k++) {
        put(b, words[rnd() % (sizeof words / sizeof words[0])]);
        put(b, (rnd() % 12) == 0 ? ". " : " ");
    }
}

static void hexstr(struct buf *b, int n)
{
    char s[2] = { 0, 0 };
    for (int k = 0; k < n; k++) {
        s[0] = "0123456789abcdef"[rnd() % 16];
        put(b, s);
    }
}

static void b64str(struct buf *b, int n)
{
    static const char a[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char s[2] = { 0, 0 };
    for (int k = 0; k < n; k++) {
        s[0] = a[rnd() % 64];
        put(b, s);
    }
}

static void number(struct buf *b, unsigned max)
{
    char s[24];
    snprintf(s, sizeof s, "%u", rnd() % max);
    put(b, s);
}

static void piece(struct buf *b)
{
    char s[256];
    switch (rnd() % 7) {
    case 0:     /* HTML */
        put(b, "<div class=\"product-card\"><a href=\"/products/");
        number(b, 100000);
        put(b, "\"><img src=\"/img/p");
        number(b, 1000);
        put(b, "@2x.png\" alt=\"");
        prose(b, 4);
        put(b, "\"></a><p>");
        prose(b, 30);
        put(b, "</p><span class=\"price\">$");
        number(b, 500);
        put(b, ".99</span></div>\n");
        break;
    case 1:     /* JSON API */
        put(b, "{\"id\":");
        number(b, 10000000);
        put(b, ",\"uuid\":\"");
        hexstr(b, 8);
        put(b, "-");
        hexstr(b, 4);
        put(b, "-4");
        hexstr(b, 3);
        put(b, "-a");
        hexstr(b, 3);
        put(b, "-");
        hexstr(b, 12);
        put(b, "\",\"created_at\":\"2024-11-");
        number(b, 28);
        put(b, "T12:34:56.789Z\",\"total\":");
        number(b, 100000);
        put(b, ".5,\"status\":\"shipped\",\"note\":\"");
        prose(b, 12);
        put(b, "\"}\n");
        break;
    case 2:     /* access log */
        snprintf(s, sizeof s, "10.%u.%u.%u - - [29/Nov/2024:18:10:%02u +0000] \"GET /api/v1/",
                 rnd() % 256, rnd() % 256, rnd() % 256, rnd() % 60);
        put(b, s);
        prose(b, 1);
        snprintf(s, sizeof s, "?page=%u&ts=%u HTTP/1.1\" 200 %u \"-\" \"Mozilla/5.0 "
                 "(X11; Linux x86_64) Chrome/120.0.%u.%u\"\n",
                 rnd() % 50, 1700000000u + rnd() % 1000000, rnd() % 100000,
                 rnd() % 9999, rnd() % 999);
        put(b, s);
        break;
    case 3:     /* CSV of customers: names, phone numbers, amounts */
        snprintf(s, sizeof s, "%u,Alice Example,+1 415-555-%04u,%u.%02u,2024-11-%02u,",
                 rnd() % 1000000, rnd() % 10000, rnd() % 10000, rnd() % 100,
                 1 + rnd() % 28);
        put(b, s);
        prose(b, 3);
        put(b, "\n");
        break;
    case 4:     /* prose */
        prose(b, 60);
        put(b, "\n");
        break;
    case 5:     /* base64 blob (an inline image, a certificate) */
        put(b, "data:image/jpeg;base64,");
        b64str(b, 200 + (int)(rnd() % 400));
        put(b, "\n");
        break;
    default:    /* headers */
        put(b, "Host: shop.example.com\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n"
               "X-Request-Id: ");
        hexstr(b, 32);
        put(b, "\r\nCache-Control: max-age=0\r\n\r\n");
        break;
    }
    if (rnd() % 300 == 0) {     /* about one secret per 64 KiB */
        static const char *const secrets[] = {
            " card 4111 1111 1111 1111 ", " ssn 078-05-1120 ", " mail alice@example.com ",
            " key AKIAIOSFODNN7EXAMPLE ",
            " Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSJ9."
            "IL26YEFrGZ8KCJ3OBqS_4_-DmHRfDYa2X5a7zVD9rbk ",
        };
        put(b, secrets[rnd() % 5]);
    }
}

/* CPU time of this thread: the machine may be shared, and time spent
 * waiting for a core is not the engine's. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void count_cb(void *arg, const struct secrets_match *m)
{
    (void)m;
    (*(size_t *)arg)++;
}

/* Best of five: GB/s of secrets_find over the whole buffer (piece == 0) or
 * of the stream API in pieces of `piece` bytes. */
static double measure(const uint8_t *p, size_t n, size_t piece, size_t *matches)
{
    double best = 0;
    static struct secrets_stream ss;
    for (int r = 0; r < 5; r++) {
        size_t cnt = 0;
        double t0 = now();
        if (piece == 0) {
            secrets_find(p, n, count_cb, &cnt);
        } else {
            memset(&ss, 0, sizeof ss);
            for (size_t off = 0; off < n; off += piece)
                secrets_stream_feed_cb(&ss, p + off, n - off < piece ? n - off : piece,
                                       count_cb, &cnt);
            secrets_stream_end_cb(&ss, count_cb, &cnt);
        }
        double dt = now() - t0;
        double gbps = (double)n / dt / 1e9;
        if (gbps > best)
            best = gbps;
        *matches = cnt;
    }
    return best;
}

int main(int argc, char **argv)
{
    size_t mib = 64;
    double min = 0;
    for (int k = 1; k < argc; k++) {
        if (strcmp(argv[k], "--min") == 0 && k + 1 < argc)
            min = atof(argv[++k]);
        else
            mib = (size_t)atol(argv[k]);
    }
    if (mib == 0)
        mib = 64;
    struct buf b = { malloc(mib << 20), 0, mib << 20 };
    uint8_t *bin = malloc(mib << 20);
    struct buf csv = { malloc(mib << 20), 0, mib << 20 };
    if (b.p == NULL || bin == NULL || csv.p == NULL) {
        fprintf(stderr, "secrets_bench: out of memory\n");
        return 2;
    }
    while (b.n < b.cap)
        piece(&b);
    while (csv.n < csv.cap) {
        char s[160];
        snprintf(s, sizeof s, "%u,%u,%u.%02u,%u,2024-11-%02u 12:%02u:%02u,%u%u\n",
                 rnd(), rnd() % 100000, rnd() % 10000, rnd() % 100, 1700000000u + rnd(),
                 1 + rnd() % 28, rnd() % 60, rnd() % 60, rnd(), rnd());
        put(&csv, s);
    }
    for (size_t k = 0; k < (mib << 20); k++)
        bin[k] = (uint8_t)rnd();

    size_t m1, m2, m3, m4;
    double text = measure(b.p, b.n, 0, &m1);
    double stream = measure(b.p, b.n, 1448, &m2);
    double digits = measure(csv.p, csv.n, 0, &m3);
    double random = measure(bin, mib << 20, 0, &m4);
    size_t m5;
    secrets_use_vector(0);
    double bytes = measure(b.p, b.n, 0, &m5);
    secrets_use_vector(32);
    printf("secrets engine, %zu MiB each, best of 5:\n", mib);
    printf("  plaintext mix, one call      %6.2f GB/s  (%zu matches)\n", text, m1);
    printf("  plaintext mix, 1448 B pieces %6.2f GB/s  (%zu matches)\n", stream, m2);
    printf("  digit-heavy CSV, one call    %6.2f GB/s  (%zu matches)\n", digits, m3);
    printf("  random binary, one call      %6.2f GB/s  (%zu matches)\n", random, m4);
    printf("  plaintext mix, no vectors    %6.2f GB/s  (%zu matches)\n", bytes, m5);
    if (m1 != m2 || m1 != m5)
        printf("  MISMATCH: one call %zu, stream %zu, no vectors %zu\n", m1, m2, m5);
    free(b.p);
    free(bin);
    free(csv.p);
    if (m1 != m2 || m1 != m5)
        return 1;
    return min > 0 && text < min ? 1 : 0;
}

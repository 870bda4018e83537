/*
 * hash.c - SHA-256 through libcrypto's EVP interface (see hash.h).
 */
#include "hash.h"

#include <stdbool.h>
#include <string.h>

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

struct sha256_stream {
    EVP_MD_CTX *ctx;
};

struct sha256_stream *sha256_stream_new(void)
{
    struct sha256_stream *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->ctx = EVP_MD_CTX_new();
    if (s->ctx == NULL || EVP_DigestInit_ex(s->ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(s->ctx);
        free(s);
        return NULL;
    }
    return s;
}

void sha256_stream_update(struct sha256_stream *s, const void *p, size_t n)
{
    if (s != NULL && n > 0)
        EVP_DigestUpdate(s->ctx, p, n);
}

void sha256_stream_final(struct sha256_stream *s, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    uint8_t md[32];
    unsigned int len = 0;

    hex[0] = '\0';
    if (s == NULL)
        return;
    if (EVP_DigestFinal_ex(s->ctx, md, &len) == 1 && len == 32) {
        for (int i = 0; i < 32; i++) {
            hex[2 * i] = digits[md[i] >> 4];
            hex[2 * i + 1] = digits[md[i] & 15];
        }
        hex[64] = '\0';
    }
    EVP_MD_CTX_free(s->ctx);
    free(s);
}

/* Used on the main thread only (fingerprints, finding ids): one fetched
 * algorithm and one context, instead of a lookup, a lock and an allocation
 * per call. */
void sha256_once(const void *p, size_t n, uint8_t out[32])
{
    static EVP_MD *md;
    static EVP_MD_CTX *ctx;
    unsigned int len = 0;
    if (md == NULL)
        md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (ctx == NULL)
        ctx = EVP_MD_CTX_new();
    if (md == NULL || ctx == NULL || EVP_DigestInit_ex2(ctx, md, NULL) != 1 ||
        EVP_DigestUpdate(ctx, p, n) != 1 || EVP_DigestFinal_ex(ctx, out, &len) != 1)
        memset(out, 0, 32);
}

struct sha256_job {
    pthread_t thread;
    int fd;
    struct sha256_stream *s;
    bool ok;
    char hex[65];
};

static void *sha256_file_run(void *arg)
{
    struct sha256_job *job = arg;
    struct sha256_stream *s = job->s;
    size_t cap = 1 << 20;
    char *buf = malloc(cap);
    job->ok = s != NULL && buf != NULL;
    while (job->ok) {
        ssize_t n = read(job->fd, buf, cap);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            job->ok = false;
        if (n <= 0)
            break;
        sha256_stream_update(s, buf, (size_t)n);
    }
    free(buf);
    sha256_stream_final(s, job->hex);
    if (!job->ok)
        job->hex[0] = '\0';
    return NULL;
}

struct sha256_job *sha256_file_start(const char *path)
{
    struct sha256_job *job = calloc(1, sizeof *job);
    if (job == NULL)
        return NULL;
    job->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (job->fd < 0) {
        free(job);
        return NULL;
    }
    /* made here, so that libcrypto's first use (its set-up) is always on
     * the calling thread, not on whichever thread comes first */
    job->s = sha256_stream_new();
    if (pthread_create(&job->thread, NULL, sha256_file_run, job) != 0) {
        close(job->fd);
        char hex[65];
        sha256_stream_final(job->s, hex);   /* frees it */
        free(job);
        return NULL;
    }
    return job;
}

void sha256_file_finish(struct sha256_job *job, char hex[65])
{
    hex[0] = '\0';
    if (job == NULL)
        return;
    pthread_join(job->thread, NULL);
    close(job->fd);
    memcpy(hex, job->hex, 65);
    free(job);
}

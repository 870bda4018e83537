/*
 * hash.c - SHA-256 through libcrypto's EVP interface (see hash.h).
 */
#include "hash.h"

#include <openssl/evp.h>
#include <stdlib.h>

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

void sha256_once(const void *p, size_t n, uint8_t out[32])
{
    unsigned int len = 0;
    EVP_Digest(p, n, out, &len, EVP_sha256(), NULL);
}

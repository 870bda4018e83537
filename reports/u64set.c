/*
 * u64set.c - bounded set of 64-bit keys (see u64set.h).
 */
#include "u64set.h"

#include <stdlib.h>
#include <string.h>

static uint64_t mix64(uint64_t h)
{
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
}

/* Eight bytes at a time (values can be long: JWTs, cookies) with a cheap
 * multiply and shift per word, then the tail, then a full mix so that low
 * bits are usable as an index.  For tables and counting sets, not for
 * anything an adversary could exploit: a collision costs a miscount at
 * worst, and the callers that must be exact compare the bytes. */
uint64_t hash64(const void *p, size_t n, uint64_t seed)
{
    const uint8_t *b = p;
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ seed ^ (n * 0xc2b2ae3d27d4eb4fULL);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, 8);
        h = (h ^ w) * 0x9fb21c651e98df25ULL;
        h ^= h >> 29;
    }
    uint64_t tail = 0;
    if (i < n && n >= 8) {
        memcpy(&tail, b + n - 8, 8);    /* the last word, overlapping */
    } else {
        for (size_t k = 0; i + k < n; k++)
            tail |= (uint64_t)b[i + k] << (8 * k);
    }
    h ^= mix64(tail ^ 0x51ed27a6b9f3c8d1ULL);
    return mix64(h);
}

static bool u64set_grow(struct u64set *s)
{
    size_t ncap = s->cap ? s->cap * 2 : 16;
    uint64_t *ns = calloc(ncap, sizeof *ns);
    if (ns == NULL)
        return false;
    for (size_t i = 0; i < s->cap; i++) {
        uint64_t k = s->slot[i];
        if (k == 0)
            continue;
        size_t j = (size_t)(k * 0x9e3779b97f4a7c15ULL >> 7) & (ncap - 1);
        while (ns[j] != 0)
            j = (j + 1) & (ncap - 1);
        ns[j] = k;
    }
    free(s->slot);
    s->slot = ns;
    s->cap = ncap;
    return true;
}

int u64set_add(struct u64set *s, uint64_t key)
{
    if (key == 0)
        key = 1;
    if (s->cap > 0) {
        size_t j = (size_t)(key * 0x9e3779b97f4a7c15ULL >> 7) & (s->cap - 1);
        while (s->slot[j] != 0) {
            if (s->slot[j] == key)
                return 0;
            j = (j + 1) & (s->cap - 1);
        }
    }
    if (s->n >= s->max) {
        s->full = true;
        return -1;
    }
    /* keep the load factor under one half */
    if ((s->n + 1) * 2 > s->cap && !u64set_grow(s)) {
        s->full = true;
        return -1;
    }
    size_t j = (size_t)(key * 0x9e3779b97f4a7c15ULL >> 7) & (s->cap - 1);
    while (s->slot[j] != 0)
        j = (j + 1) & (s->cap - 1);
    s->slot[j] = key;
    s->n++;
    return 1;
}

void u64set_free(struct u64set *s)
{
    free(s->slot);
    s->slot = NULL;
    s->cap = s->n = 0;
    s->full = false;
}

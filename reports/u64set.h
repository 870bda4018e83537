/*
 * u64set.h - a small bounded set of 64-bit keys (hashes of addresses,
 * fingerprints, flow ids), to count distinct things without keeping them.
 *
 * Open addressing, doubling up to `max` keys; past that, inserts are
 * refused and the caller reports the count as a lower bound.
 */
#ifndef LEAKSCAN_U64SET_H
#define LEAKSCAN_U64SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct u64set {
    uint64_t *slot;     /* 0 marks an empty slot; key 0 is stored as 1 */
    size_t cap;         /* slots, a power of two */
    size_t n;           /* keys stored */
    size_t max;         /* keys allowed */
    bool full;          /* an insert was refused */
};

/* Inserts key.  Returns 1 if it was new, 0 if present, -1 if refused
 * (the set is at max or out of memory). */
int u64set_add(struct u64set *s, uint64_t key);
void u64set_free(struct u64set *s);

/* A 64-bit hash of n bytes (FNV-1a, then mixed). */
uint64_t hash64(const void *p, size_t n, uint64_t seed);

#endif

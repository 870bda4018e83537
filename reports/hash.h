/*
 * hash.h - SHA-256 for input files and evidence fingerprints.
 *
 * OpenSSL's libcrypto does the work (and uses the CPU's SHA instructions);
 * this is the only file that includes it for hashing.
 */
#ifndef LEAKSCAN_HASH_H
#define LEAKSCAN_HASH_H

#include <stddef.h>
#include <stdint.h>

struct sha256_stream;   /* opaque */

/* Incremental hashing of an input file.  new() returns NULL when out of
 * memory; final() writes 64 hex digits and a NUL into hex[65] and frees. */
struct sha256_stream *sha256_stream_new(void);
void sha256_stream_update(struct sha256_stream *s, const void *p, size_t n);
void sha256_stream_final(struct sha256_stream *s, char hex[65]);

/* Hashes a regular file on a thread of its own, so the digest costs the
 * scan nothing on a machine with a second core.  start() returns NULL when
 * the thread cannot be started (hash inline then); finish() waits, writes
 * the hex digest ("" on a read error) and frees. */
struct sha256_job;
struct sha256_job *sha256_file_start(const char *path);
void sha256_file_finish(struct sha256_job *job, char hex[65]);

/* One-shot digest of p/n into out[32]. */
void sha256_once(const void *p, size_t n, uint8_t out[32]);

#endif

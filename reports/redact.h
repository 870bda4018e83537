/*
 * redact.h - the single place where a value becomes report evidence.
 *
 * Secrets are evidence, not payload: by default a secret is shown as its
 * first and last characters and its length, plus a fingerprint (a
 * truncated SHA-256) so the same secret can be followed across flows and
 * captures without being shown.  --show-secrets prints values in full.
 */
#ifndef LEAKSCAN_REDACT_H
#define LEAKSCAN_REDACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "finding.h"

/* Writes the shown form of v/n into out (always NUL-terminated). */
void redact_excerpt(enum ev_kind kind, const uint8_t *v, size_t n, bool show_all,
                    char *out, size_t outlen);

/* Writes 16 hex digits of SHA-256("leakscan-fp-v1:" || v) into out[17]. */
void redact_fingerprint(const uint8_t *v, size_t n, char out[17]);

/* Copies v/n into out as printable text: printable ASCII as is, anything
 * else as \xNN, cut at max input bytes with "..." appended. */
void redact_printable(const uint8_t *v, size_t n, size_t max, char *out, size_t outlen);

#endif

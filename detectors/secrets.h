/*
 * secrets.h - the one engine that finds secrets and personal data in any
 * plaintext bytes: HTTP headers and bodies, database statements and rows,
 * streams nDPI cannot name.
 *
 * What it finds (rule ids of ../shared/docs/FINDINGS.md):
 *   secret.jwt          three base64url parts whose header decodes to JSON with "alg"
 *   secret.api-key      well-known key formats with exact prefix, length and charset
 *                       (AWS access key ids, GitHub, GitLab, Slack, Stripe live keys,
 *                       Google API keys, SendGrid, Twilio, npm, PyPI, OpenAI, ...)
 *   secret.private-key  a PEM "-----BEGIN ... PRIVATE KEY-----" block
 *   pii.card-number     13-19 digits (single spaces or dashes between groups allowed),
 *                       Luhn-valid, in a real card range, not part of a longer number
 *   pii.ssn             US SSN in its dashed form AAA-GG-SSSS, invalid ranges excluded
 *   pii.email           an e-mail address (low, counted)
 * Every match leaves as EV_SECRET evidence: the reporter masks it and
 * fingerprints it (reports/redact.c); nothing here redacts.
 *
 * How to call it (ctx is the detector's callback context):
 *
 *   A whole value (a header, a row, a datagram):
 *       secrets_scan(ctx, DIR_TO_CLIENT, "row", p, n);
 *
 *   A stream that arrives in pieces (a body, an unknown TCP stream): keep a
 *   struct secrets_stream (zeroed) per direction in the detector's state and
 *       secrets_stream_feed(ctx, &st->ss[d], d, "body", p, n);   as bytes arrive
 *       secrets_stream_end(ctx, &st->ss[d], d, "body");          at its end, or at a gap
 *   A secret split across pieces is found once, exactly as if the stream had
 *   been scanned whole: the decision for every position is taken with the
 *   same SECRETS_LOOKBACK bytes before it and SECRETS_LOOKAHEAD bytes after
 *   it, whatever the segmentation.  Tokens longer than the lookahead (a JWT
 *   over 2 KiB) are still found, cut at the lookahead.
 *
 * The scan is one pass: a 256-entry table marks the few bytes that can be
 * part of a pattern's fixed prefix ("J" of "eyJ", "_" of "ghp_", "-" of
 * "-----BEGIN", "@", digits...), and only at those bytes is a pattern
 * checked.  tests/tools/secrets_bench.c measures it (>= 1 GB/s required).
 */
#ifndef LEAKSCAN_SECRETS_H
#define LEAKSCAN_SECRETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "detector.h"

/* Context every decision may read before and after the position it decides.
 * LOOKBACK covers the longest e-mail local part (64) and key prefix;
 * LOOKAHEAD bounds the longest value we take whole (a PEM block is cut
 * there, a longer JWT too). */
#define SECRETS_LOOKBACK        80u
#define SECRETS_LOOKAHEAD       2048u

/* The rules this engine fires, for the rule lists of the detectors that
 * call it (a detector lists every rule it can cause). */
extern const struct rule secrets_rule_jwt;
extern const struct rule secrets_rule_api_key;
extern const struct rule secrets_rule_private_key;
extern const struct rule secrets_rule_card;
extern const struct rule secrets_rule_ssn;
extern const struct rule secrets_rule_email;
#define SECRETS_NRULES 6
extern const struct rule *const secrets_rules[SECRETS_NRULES];

/* One match, borrowed for the duration of the callback.  value/len is what
 * the evidence shows (a card number with its separators removed, so one card
 * has one fingerprint however it was written); kind names the format
 * ("card", "ssn", "email", "jwt", "private-key", "github-token", ...). */
struct secrets_match {
    const struct rule *rule;
    const char *kind;
    const uint8_t *value;
    size_t len;
    size_t offset;              /* where it starts in the scanned bytes */
};

typedef void (*secrets_cb)(void *arg, const struct secrets_match *m);

/* Calls cb for every match in p[0..n), in order; returns how many.  The
 * pure engine: no detector context, used by the others, the unit tests and
 * the benchmark. */
size_t secrets_find(const uint8_t *p, size_t n, secrets_cb cb, void *arg);

/* secrets_find() for values joined with NUL bytes (a database row, a
 * directory entry's attributes) and followed by SECRETS_PAD readable zero
 * bytes (p[n .. n + SECRETS_PAD) must be 0): every match lies within one
 * value, exactly as if each were scanned on its own, and the prefilter
 * reads whole blocks to the end instead of copying the last ones. */
#define SECRETS_PAD 64
size_t secrets_find_padded(const uint8_t *p, size_t n, secrets_cb cb, void *arg);

/* What the detector-facing scans below use: secrets_find(), or with padded
 * secrets_find_padded(), through a memo of the matches of recent short
 * values (at most 240 bytes), so a value seen again (a row, a cookie) has
 * its matches replayed instead of searched for.  Same results, same order. */
void secrets_find_memo(const uint8_t *p, size_t n, bool padded, secrets_cb cb, void *arg);
/* How many memo lookups found the value, and how many did not. */
void secrets_memo_stats(uint64_t *hits, uint64_t *misses);
/* Frees the memo (the engine calls it at the end). */
void secrets_memo_free(void);

/* Test support: the vector prefilter's width, 32 (AVX2, where the CPU has
 * it, else 16), 16 (SSE2) or 0 (off: the byte table only).  Returns the
 * width in use.  The results must be identical at every width; only the
 * speed differs. */
unsigned secrets_use_vector(unsigned width);

/* Scans one whole value and emits a finding per match through ctx, with
 * direction d and the evidence field "<field>" ("<field>:<kind>" for API
 * keys, so the report says which key it was). */
void secrets_scan(struct det_ctx *ctx, enum dir d, const char *field,
                  const uint8_t *p, size_t n);
/* The values of one record (a database row, a directory entry), gathered
 * for one scan: buf holds cap bytes plus SECRETS_PAD, owned by the caller. */
struct secrets_values {
    uint8_t *buf;
    size_t cap;
    size_t len;                 /* start at 0 */
};
/* Appends a value and its NUL; false (nothing added) when it does not fit. */
bool secrets_values_add(struct secrets_values *v, const uint8_t *p, size_t n);
/* Scans the values gathered (secrets_find_padded(): no match crosses from
 * one value into the next) as secrets_scan() does, then empties v. */
void secrets_scan_values(struct det_ctx *ctx, enum dir d, const char *field,
                         struct secrets_values *v);

/* Records that hold their values verbatim (a MySQL text row: each value
 * after its length) can skip gathering when the record itself was seen
 * before.  where(src, n, off) gives the offset in the record src..n of the
 * byte at offset off of the values gathered from it; its address also
 * tells records of one format from another's. */
typedef size_t (*secrets_where_fn)(const uint8_t *src, size_t n, size_t off);
/* Records of one field and direction of one flow, looked up one after
 * another (the rows of a segment): whether the memo's matches were stated
 * last for this same field, direction and server is checked once, not per
 * record, and repeated facts are counted once per rule at the end.  Set up
 * with secrets_again_init(), close with secrets_again_end() before ctx
 * changes. */
#define SECRETS_AGAIN_RULES 4
struct secrets_again {
    struct det_ctx *ctx;
    enum dir d;
    const char *field;
    unsigned ns;                /* the memo's namespace of where() */
    uint32_t owner_gen;         /* the memo owner known to be this one; 0: none yet */
    uint32_t clears;            /* the memo's clears when owner_gen was learnt */
    unsigned nrules;
    uint8_t rule[SECRETS_AGAIN_RULES];      /* repeated facts not counted yet: */
    uint32_t count[SECRETS_AGAIN_RULES];    /* the memo's rule, and how many */
    const uint8_t *run;         /* the run being recorded (secrets_again_run()); NULL: none */
    size_t run_n;
    void *run_entry;
    uint64_t run_key;
    uint32_t run_clears;
};
void secrets_again_init(struct secrets_again *a, struct det_ctx *ctx, enum dir d,
                        const char *field, secrets_where_fn where);
void secrets_again_end(struct secrets_again *a);
/* When the memo holds the matches of the values of this very record,
 * states them as secrets_scan_values() did and returns true.  False: gather
 * the values and call secrets_scan_record(). */
bool secrets_scan_again(struct secrets_again *a, const uint8_t *src, size_t n);
/* A run: the whole records one after another at the start of the n bytes
 * at p (the rows of a segment), where the bytes alone decide where the run
 * ends.  When the same n bytes were met before, states the matches of all
 * the run's records as their secrets_scan_again() would, sets *run_n to
 * the run's length and *nrec to its records, and returns true.  Otherwise
 * returns false and records: the caller looks the run's records up in
 * order with secrets_scan_again(), then calls secrets_again_run_end() with
 * the bytes and records it took, and the run is remembered if they were
 * all memo hits. */
bool secrets_again_run(struct secrets_again *a, const uint8_t *p, size_t n, size_t *run_n,
                       uint32_t *nrec);
void secrets_again_run_end(struct secrets_again *a, size_t done, uint32_t nrec);
/* Test support: lookups of runs that hit and missed since the memo was freed. */
void secrets_run_stats(uint64_t *hits, uint64_t *misses);
/* secrets_scan_values() of the values v gathered from the record src..n,
 * remembered under the record's bytes (records up to 240 bytes). */
void secrets_scan_record(struct det_ctx *ctx, enum dir d, const char *field,
                         struct secrets_values *v, const uint8_t *src, size_t n,
                         secrets_where_fn where);

/* Streaming state for one direction of one stream: zero it to start.  It
 * holds the last bytes whose decision still waits for their lookahead. */
struct secrets_stream {
    uint16_t ctx_len;           /* bytes of lookback before the held bytes */
    uint16_t held;              /* bytes not decided yet */
    uint16_t skip;              /* held bytes inside a match already reported */
    uint8_t buf[SECRETS_LOOKBACK + SECRETS_LOOKAHEAD];
};

/* Feeds the next n bytes of a stream.  Matches whose lookahead is complete
 * are emitted now; the last SECRETS_LOOKAHEAD bytes wait in s. */
void secrets_stream_feed(struct det_ctx *ctx, struct secrets_stream *s, enum dir d,
                         const char *field, const uint8_t *p, size_t n);

/* The stream ends (or a gap cuts it): decides the held bytes with the
 * context there is and empties s, ready for a new stream. */
void secrets_stream_end(struct det_ctx *ctx, struct secrets_stream *s, enum dir d,
                        const char *field);

/* The same two without a detector context: matches go to cb. */
void secrets_stream_feed_cb(struct secrets_stream *s, const uint8_t *p, size_t n,
                            secrets_cb cb, void *arg);
void secrets_stream_end_cb(struct secrets_stream *s, secrets_cb cb, void *arg);

#endif

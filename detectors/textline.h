/*
 * textline.h - the line reader shared by the text protocols (FTP, SMTP,
 * POP3, IMAP, Telnet, ...): lines, words, base64 and the SASL messages
 * those protocols carry.
 *
 * A text detector takes one line per on_data call: textline_next() says
 * how many bytes that line used (0: the line is not complete yet, the
 * engine keeps the bytes and offers them again).  Every line has a maximum
 * length; a longer one is handed over cut, and its rest is passed over.
 * Words and searches work on borrowed bytes through the cursor, never past
 * the line.
 */
#ifndef LEAKSCAN_TEXTLINE_H
#define LEAKSCAN_TEXTLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../scanner/cursor.h"
#include "detector.h"

/* One line, borrowed from the caller's bytes. */
struct textline {
    const uint8_t *p;       /* the line without CR LF; NULL: nothing to read */
    size_t len;
    bool cut;               /* longer than the maximum: only its start is here */
};

/* Per direction: whether the rest of an overlong line is being passed over. */
struct textline_reader {
    bool skipping;
};

/*
 * Takes the next line (ended by LF, a CR before it dropped) from p/n.
 * Returns the bytes used: 0 when the line is not complete and shorter than
 * max (need more).  A line of max bytes or more without LF is returned cut
 * (all of p/n used) and its rest, up to its LF, comes back as a line with
 * p == NULL.
 */
size_t textline_next(struct textline_reader *r, const uint8_t *p, size_t n, size_t max,
                     struct textline *line);

/* The same for protocols whose units end with another byte (XMPP's '>'):
 * the piece includes its delimiter, nothing is dropped. */
size_t textline_next_delim(struct textline_reader *r, const uint8_t *p, size_t n, size_t max,
                           uint8_t delim, struct textline *line);

/* Skips blanks (space, tab), then takes the bytes up to the next blank.
 * Returns the word's length (0 at the end of the line); *w points at it. */
size_t textline_word(struct cursor *c, const uint8_t **w);

/* Skips blanks and returns the rest of the line (its length; *w at it). */
size_t textline_rest(struct cursor *c, const uint8_t **w);

/* Whether the n bytes at w are word, ignoring ASCII case. */
bool textline_is(const uint8_t *w, size_t n, const char *word);

/* Whether the n bytes at p start with prefix, ignoring ASCII case. */
bool textline_starts(const uint8_t *p, size_t n, const char *prefix);

/* Whether needle occurs in the n bytes at p, ignoring ASCII case. */
bool textline_contains(const uint8_t *p, size_t n, const char *needle);

/* Whether bytes look like the start of a TLS handshake record (a protocol
 * that switched to TLS without our seeing the switch). */
bool textline_is_tls(const uint8_t *p, size_t n);

/* Decodes base64 (RFC 4648, padding optional, blanks not allowed) into out
 * (at most cap bytes).  Returns the decoded length, or -1 when a character
 * is not base64 or the output does not fit. */
long textline_b64decode(const uint8_t *s, size_t n, uint8_t *out, size_t cap);

/* A part of a decoded SASL message (borrowed from it). */
struct textline_span {
    const uint8_t *p;
    size_t len;
};

/* SASL PLAIN (RFC 4616): "authzid NUL authcid NUL passwd".  Sets the user
 * (authcid, or authzid when authcid is empty) and the password; false when
 * the message is not of that shape. */
bool textline_sasl_plain(const uint8_t *msg, size_t n, struct textline_span *user,
                         struct textline_span *pass);

/* SASL XOAUTH2 (Google, Microsoft): "user=NAME\x01auth=Bearer TOKEN\x01\x01".
 * Sets the user and the token; false when the message is not of that shape. */
bool textline_sasl_xoauth2(const uint8_t *msg, size_t n, struct textline_span *user,
                           struct textline_span *token);

/*
 * The client's side of a SASL exchange in a text protocol (RFC 4422 and
 * the SMTP, IMAP and POP3 bindings: RFC 4954, 3501 6.2.2, 5034): the
 * mechanism named by the AUTH/AUTHENTICATE command, then one base64
 * response per line ("*" cancels).
 */
enum textline_mech {
    TL_SASL_NONE = 0,
    TL_SASL_PLAIN,          /* one response: user and password */
    TL_SASL_LOGIN,          /* two responses: user, then password */
    TL_SASL_XOAUTH2,        /* one response: user and bearer token */
    TL_SASL_CRAM_MD5,       /* one response: user and a crackable digest */
    TL_SASL_OTHER,          /* nothing readable (GSSAPI, SCRAM, NTLM...) */
};

struct textline_sasl {
    uint8_t mech;           /* enum textline_mech; TL_SASL_NONE: no exchange */
    uint8_t step;           /* responses read */
};

/* What one response revealed; spans point into buf. */
#define TEXTLINE_SASL_MAX 768u
struct textline_sasl_out {
    uint8_t buf[TEXTLINE_SASL_MAX];
    struct textline_span user, secret;
    const char *secret_field;   /* "password", "token", "cram-md5-digest" */
};

/* Starts an exchange for the named mechanism. */
void textline_sasl_start(struct textline_sasl *s, const uint8_t *mech, size_t n);

/* Reads one client response (base64, as on the wire).  Returns true when
 * it revealed a user name or a secret (set in out; an empty span is
 * absent).  The exchange ends by itself after its last response. */
bool textline_sasl_response(struct textline_sasl *s, const uint8_t *b64, size_t n,
                            struct textline_sasl_out *out);

/* States what a response revealed under rule: the user (EV_TEXT) and the
 * secret (EV_SECRET). */
void textline_sasl_emit(struct det_ctx *ctx, const struct rule *rule,
                        const struct textline_sasl_out *out);

/* Bytes typed one at a time (Telnet's character mode, RFC 854/857): a
 * bounded line that understands backspace and delete. */
#define TEXTLINE_ACC_MAX 128u
struct textline_acc {
    uint8_t buf[TEXTLINE_ACC_MAX];
    uint16_t len;
    bool cut;               /* more was typed than buf holds */
};

/* Adds one byte.  Returns true when it ends the line (CR or LF; an empty
 * line is not reported); the caller reads buf/len, then calls
 * textline_acc_reset(). */
bool textline_acc_put(struct textline_acc *a, uint8_t b);
void textline_acc_reset(struct textline_acc *a);

/*
 * STARTTLS, shared by every protocol that can upgrade in place (SMTP, IMAP,
 * POP3, FTP AUTH TLS, LDAP StartTLS, XMPP): the one `starttls.not-used`
 * rule, and the fact that fires it.  offer names what the server offered
 * ("STARTTLS", "STLS", "AUTH TLS"), command what the client sent in clear
 * instead.  Call it once per flow.
 */
extern const struct rule textline_rule_starttls_not_used;
void textline_starttls_not_used(struct det_ctx *ctx, const char *proto, const char *offer,
                                const uint8_t *command, size_t len);

#endif

/*
 * tls.c - grades every TLS session: negotiated version and cipher suite,
 * the server certificate, and the client's fingerprints.
 *
 * Follows RFC 5246 (TLS 1.2: records, section 6.2; handshake, section 7.4),
 * RFC 8446 (TLS 1.3: supported_versions 4.2.1, HelloRetryRequest 4.1.3),
 * RFC 6101 (SSL 3.0) and the SSL 2.0 draft (Hickman, 1995) for SSLv2
 * records and SSLv2-format ClientHellos (RFC 5246 appendix E.2).  Records
 * are parsed over the reassembled stream; handshake messages are rebuilt
 * across records (one message can span many records, one record can hold
 * many messages), and a record split over segments simply waits for the
 * rest (the consumed/need-more contract).
 *
 * What is graded comes from the server: the version in the ServerHello (or
 * its supported_versions extension), never the client's offer, which is
 * what nDPI 4.2 reports for TLS 1.2 and below.  The certificate is read in
 * TLS 1.2 and below; in TLS 1.3 it is encrypted and we say so.  Client
 * fingerprints: JA3 (Salesforce, MD5 of the ClientHello fields), JA3S, and
 * JA4 (FoxIO JA4 specification, "JA4: TLS Client Fingerprint").
 *
 * The detector reads encrypted streams (.tls): it is offered every flow
 * that starts with a TLS record or an SSLv2 hello, on any port, and the
 * engine attaches it when a cleartext flow switches to TLS (STARTTLS, MySQL
 * and PostgreSQL SSL requests).  Left out: DTLS, QUIC, renegotiation (a
 * second handshake is encrypted), the ALPN of TLS 1.3 (encrypted), and
 * certificate chains beyond the leaf.
 */
#include "detector.h"
#include "tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../scanner/cursor.h"
#include "../scanner/stats.h"

/* A record holds at most 2^14 bytes of plaintext plus 2048 of expansion
 * (RFC 5246 6.2.3); a longer length means these are not TLS records. */
#define TLS_RECORD_MAX      (16384u + 2048u)
/* Handshake bytes buffered per direction to rebuild one message.  A server
 * Certificate message with a whole chain can be tens of KiB; only its first
 * certificate matters, so a longer message is read as far as this and the
 * rest passed over. */
#define TLS_HS_MAX          (64u * 1024u)
/* SSLv2 record bodies are at most 32767 bytes (2-byte header, 15 bits). */
#define TLS_SSL2_MAX        32767u
/* Values kept per ClientHello list for JA3/JA4.  Real clients offer fewer
 * than 100 suites and 30 extensions; past the cap the fingerprint is
 * computed from what was kept. */
#define TLS_LIST_MAX        256u
/* The JA3 string: five lists of up to TLS_LIST_MAX decimal numbers. */
#define TLS_JA3_STR_MAX     (5u * TLS_LIST_MAX * 6u + 16u)
/* Cleartext bytes read per direction while waiting for a STARTTLS-style
 * switch: upgrades happen within the first exchanges, and past this a flow
 * that never switches costs nothing more. */
#define TLS_CLEAR_MAX       (64u * 1024u)
/* ServerHello extensions kept for JA3S. */
#define TLS_SH_EXT_MAX      64u

#define NS_PER_S 1000000000ULL

/* How one direction's bytes are read. */
enum tls_mode {
    M_START = 0,    /* nothing seen yet: TLS records or SSLv2? */
    M_RECORDS,      /* TLS/SSL 3.0 records, handshake in clear */
    M_SSL2,         /* SSLv2 records, hellos in clear */
    M_CLEAR,        /* a cleartext start (STARTTLS): waiting for the hello */
    M_ENCRYPTED,    /* keys are in use: nothing more to read */
    M_LOST,         /* after a gap: waiting for a record header */
    M_DONE,         /* not TLS, or nothing left to learn */
};

enum {
    REC_CCS = 20,
    REC_ALERT = 21,
    REC_HANDSHAKE = 22,
    REC_APPDATA = 23,
    REC_HEARTBEAT = 24,
};

enum {
    HS_CLIENT_HELLO = 1,
    HS_SERVER_HELLO = 2,
    HS_CERTIFICATE = 11,
    HS_CLIENT_KEY_EXCHANGE = 16,
};

enum {
    EXT_SERVER_NAME = 0,
    EXT_SUPPORTED_GROUPS = 10,
    EXT_EC_POINT_FORMATS = 11,
    EXT_SIGNATURE_ALGORITHMS = 13,
    EXT_ALPN = 16,
    EXT_PRE_SHARED_KEY = 41,
    EXT_SUPPORTED_VERSIONS = 43,
};

/* Handshake message reassembly for one direction. */
struct tls_hsbuf {
    uint8_t *buf;       /* malloc'd on first use, freed in on_end */
    uint32_t len, cap;
    uint32_t skip;      /* bytes of an oversized message still to pass over */
};

struct tls_state {
    uint8_t mode[2];            /* enum tls_mode */
    uint16_t rec_version[2];    /* version of the record being parsed */
    uint32_t clear_bytes[2];    /* cleartext read in M_CLEAR */
    bool ch_seen;               /* a ClientHello was parsed (fingerprints set) */
    bool sh_seen;               /* the ServerHello that counts was parsed */
    bool hrr_seen;              /* a HelloRetryRequest came first */
    bool tls13;                 /* TLS 1.3 (or a draft) negotiated */
    bool resumed;               /* session resumed: no certificate follows */
    bool cert_done;             /* the leaf certificate was looked at */
    bool reported;              /* facts handed to the inventory */
    bool version_inferred;      /* version from the record layer, not a ServerHello */
    uint16_t ch_version;        /* the ClientHello's legacy version */
    uint8_t sid_len;            /* session id the client offered */
    uint8_t sid[32];
    struct service_tls facts;
    struct tls_hsbuf hs[2];
};

/* ------------------------------------------------------------------ rules */

static const struct rule rule_obsolete = {
    .id = "tls.obsolete-version",
    .severity = SEV_HIGH,
    .title = "Obsolete SSL/TLS version negotiated (SSL 2.0, SSL 3.0, TLS 1.0 or TLS 1.1)",
    .remediation = "Disable SSLv2, SSLv3, TLS 1.0 and TLS 1.1 on the server (e.g. nginx "
                   "ssl_protocols TLSv1.2 TLSv1.3; OpenSSL MinProtocol = TLSv1.2) and "
                   "upgrade clients that cannot negotiate TLS 1.2.",
    .compliance = COMPLIANCE_CRYPTO,
};

static const struct rule rule_weak_cipher = {
    .id = "tls.weak-cipher",
    .severity = SEV_MEDIUM,
    .title = "Weak cipher suite negotiated (NULL, anonymous, EXPORT, RC4, DES or 3DES)",
    .remediation = "Restrict the server to AEAD suites with forward secrecy (TLS 1.3 suites, "
                   "ECDHE with AES-GCM or ChaCha20-Poly1305) and remove RC4, DES, 3DES, "
                   "NULL, anonymous and export suites from its list.",
    .compliance = COMPLIANCE_CRYPTO,
};

static const struct rule rule_cert_expired = {
    .id = "tls.cert-expired",
    .severity = SEV_MEDIUM,
    .title = "Server certificate had expired when the session was captured",
    .remediation = "Renew the certificate and automate renewal (ACME or the internal CA's "
                   "enrolment), and alert well before notAfter.",
    .compliance = COMPLIANCE_CRYPTO,
};

static const struct rule rule_cert_not_yet_valid = {
    .id = "tls.cert-not-yet-valid",
    .severity = SEV_MEDIUM,
    .title = "Server certificate was not yet valid when the session was captured",
    .remediation = "Check the server's clock and the certificate's notBefore; reissue it "
                   "with a correct validity period.",
    .compliance = COMPLIANCE_CRYPTO,
};

static const struct rule rule_cert_self_signed = {
    .id = "tls.cert-self-signed",
    .severity = SEV_MEDIUM,
    .title = "Server presents a self-signed certificate",
    .remediation = "Issue the server certificate from a public or internal CA that clients "
                   "verify, so a man in the middle cannot substitute his own.",
    .compliance = COMPLIANCE_CRYPTO,
};

static const struct rule rule_cert_weak_key = {
    .id = "tls.cert-weak-key",
    .severity = SEV_MEDIUM,
    .title = "Server certificate key is too short (RSA/DSA < 2048 bits, EC < 224 bits)",
    .remediation = "Reissue the certificate with an RSA key of at least 2048 bits or an EC "
                   "key on P-256 or stronger.",
    .compliance = COMPLIANCE_CRYPTO,
};

static const struct rule rule_cert_weak_sig = {
    .id = "tls.cert-weak-signature",
    .severity = SEV_MEDIUM,
    .title = "Server certificate is signed with MD5 or SHA-1",
    .remediation = "Reissue the certificate signed with SHA-256 or stronger; MD5 and SHA-1 "
                   "signatures can be forged with chosen-prefix collisions.",
    .compliance = COMPLIANCE_CRYPTO,
};

/* ------------------------------------------------------------------ helpers */

/* GREASE values (RFC 8701): 0x0a0a, 0x1a1a ... 0xfafa.  Left out of every
 * fingerprint, since clients pick them at random. */
static bool tls_grease(uint16_t v)
{
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* Copies n bytes as a bounded, printable C string. */
static void tls_copy_str(char *dst, size_t cap, const uint8_t *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < cap; i++)
        dst[o++] = (s[i] >= 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
    dst[o] = '\0';
}

/* The version as the report names it, for evidence. */
static void tls_version_str(uint16_t v, char *buf, size_t cap)
{
    if (v == 0x0002)
        snprintf(buf, cap, "SSL 2.0");
    else if (v == 0x0300)
        snprintf(buf, cap, "SSL 3.0");
    else if (v >= 0x0301 && v <= 0x0304)
        snprintf(buf, cap, "TLS 1.%u", (unsigned)(v - 0x0301));
    else if ((v & 0xff00) == 0x7f00)
        snprintf(buf, cap, "TLS 1.3 draft %u", (unsigned)(v & 0xff));
    else
        snprintf(buf, cap, "0x%04x", (unsigned)v);
}

/* TLS 1.3 or one of its drafts: the handshake after ServerHello is
 * encrypted. */
static bool tls_is_13(uint16_t v)
{
    return v == 0x0304 || (v & 0xff00) == 0x7f00;
}

/* A time as "2014-03-01T12:00:00Z". */
static void tls_time_str(uint64_t ns, char *buf, size_t cap)
{
    time_t s = (time_t)(ns / NS_PER_S);
    struct tm tm;
    if (gmtime_r(&s, &tm) == NULL || strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, cap, "?");
}

/* A bounded string builder for the fingerprint strings. */
struct tls_sb {
    char *p;
    size_t cap, len;
};

static void sb_puts(struct tls_sb *b, const char *s)
{
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap)
        n = b->cap - b->len - 1;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

/* Formats v as decimal or 4-digit lower-case hex into num[8].  Done by
 * hand: a ClientHello has a hundred numbers, and snprintf for each was the
 * largest cost of a TLS flow. */
static void u16_text(uint16_t v, bool hex, char num[8])
{
    static const char digits[] = "0123456789abcdef";
    if (hex) {
        num[0] = digits[v >> 12];
        num[1] = digits[(v >> 8) & 15];
        num[2] = digits[(v >> 4) & 15];
        num[3] = digits[v & 15];
        num[4] = '\0';
        return;
    }
    char tmp[6];
    int k = 0;
    do {
        tmp[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (int i = 0; i < k; i++)
        num[i] = tmp[k - 1 - i];
    num[k] = '\0';
}

/* Appends a list of numbers, decimal or 4-digit hex, joined by sep. */
static void sb_list(struct tls_sb *b, const uint16_t *v, size_t n, bool hex, const char *sep)
{
    for (size_t i = 0; i < n; i++) {
        char num[8];
        u16_text(v[i], hex, num);
        if (i > 0)
            sb_puts(b, sep);
        sb_puts(b, num);
    }
}

static int tls_cmp_u16(const void *a, const void *b)
{
    uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
    return (x > y) - (x < y);
}

/* Reads a list of 16-bit values (GREASE dropped) into out, at most max. */
static size_t tls_u16_list(const uint8_t *p, size_t n, uint16_t *out, size_t max)
{
    struct cursor c = cursor_init(p, n);
    size_t k = 0;
    while (cur_left(&c) >= 2) {
        uint16_t v = cur_be16(&c);
        if (!tls_grease(v) && k < max)
            out[k++] = v;
    }
    return k;
}

/* ------------------------------------------------------------------ facts */

/* Hands what the flow showed to the services inventory (once). */
static void tls_report(struct det_ctx *ctx, struct tls_state *st)
{
    const struct service_tls *f = &st->facts;
    if (st->reported)
        return;
    if (f->version == 0 && f->sni[0] == '\0' && f->ja3[0] == '\0' && !f->cert_seen)
        return;
    st->reported = true;
    detector_flow_tls(ctx, f);
}

static bool tls_dir_finished(uint8_t m)
{
    return m == M_ENCRYPTED || m == M_DONE;
}

/* Both directions have nothing more to tell: report and stop reading, so
 * the bulk of the session costs nothing. */
static void tls_maybe_detach(struct det_ctx *ctx, struct tls_state *st)
{
    if (!tls_dir_finished(st->mode[0]) || !tls_dir_finished(st->mode[1]))
        return;
    tls_report(ctx, st);
    detector_detach(ctx);
}

/* Grades the negotiated version and cipher (at the ServerHello, or the
 * SSLv2 messages that stand for it). */
static void tls_grade_version(struct det_ctx *ctx, struct tls_state *st)
{
    uint16_t v = st->facts.version;
    if (v == 0x0002 || v == 0x0300 || v == 0x0301 || v == 0x0302) {
        char buf[48];
        tls_version_str(v, buf, sizeof buf);
        if (st->version_inferred) {
            size_t l = strlen(buf);
            snprintf(buf + l, sizeof buf - l, " (record layer)");
        }
        detector_emit(ctx, &rule_obsolete, DIR_TO_CLIENT, "version", buf, strlen(buf), EV_TEXT);
    }
}

static void tls_grade_cipher(struct det_ctx *ctx, const char *name)
{
    const char *why = tls_cipher_weakness(name);
    if (why == NULL)
        return;
    char buf[96];
    snprintf(buf, sizeof buf, "%s (%s)", name, why);
    detector_emit(ctx, &rule_weak_cipher, DIR_TO_CLIENT, "cipher", buf, strlen(buf), EV_TEXT);
    /* a NULL cipher authenticates but does not encrypt: the session is
     * readable, so it does not count as encrypted */
    if (strcmp(why, "NULL") == 0)
        detector_flow_not_encrypted(ctx);
}

/* Sets the negotiated cipher and its name ("0xc0ff" when not in the table). */
static void tls_set_cipher(struct tls_state *st, uint16_t cipher)
{
    const char *name = tls_cipher_name(cipher);
    st->facts.cipher = cipher;
    if (name != NULL)
        snprintf(st->facts.cipher_name, sizeof st->facts.cipher_name, "%s", name);
    else
        snprintf(st->facts.cipher_name, sizeof st->facts.cipher_name, "0x%04X",
                 (unsigned)cipher);
}

/* The leaf certificate: facts for the inventory, findings against the
 * packet's time (a capture from 2013 is graded as of 2013). */
static void tls_certificate_leaf(struct det_ctx *ctx, struct tls_state *st,
                                 const uint8_t *der, size_t len)
{
    struct tls_cert_flags fl;
    struct service_tls *f = &st->facts;
    st->cert_done = true;
    if (!tls_cert_parse(der, len, f, &fl))
        return;         /* not a certificate we can read: no facts, no findings */
    char ev[EVIDENCE_MAX_TEXT];
    char when[32];
    uint64_t now = ctx->ts_ns;
    if (f->cert_not_after_ns != 0 && now > f->cert_not_after_ns) {
        tls_time_str(f->cert_not_after_ns, when, sizeof when);
        snprintf(ev, sizeof ev, "notAfter=%s subject=%.96s", when, f->cert_subject);
        detector_emit(ctx, &rule_cert_expired, DIR_TO_CLIENT, "certificate", ev, strlen(ev),
                      EV_TEXT);
    }
    if (f->cert_not_before_ns != 0 && now < f->cert_not_before_ns) {
        tls_time_str(f->cert_not_before_ns, when, sizeof when);
        snprintf(ev, sizeof ev, "notBefore=%s subject=%.96s", when, f->cert_subject);
        detector_emit(ctx, &rule_cert_not_yet_valid, DIR_TO_CLIENT, "certificate", ev,
                      strlen(ev), EV_TEXT);
    }
    if (f->cert_self_signed) {
        snprintf(ev, sizeof ev, "subject=%.96s", f->cert_subject);
        detector_emit(ctx, &rule_cert_self_signed, DIR_TO_CLIENT, "certificate", ev,
                      strlen(ev), EV_TEXT);
    }
    if (fl.weak_key) {
        snprintf(ev, sizeof ev, "key=%s subject=%.96s", f->cert_key, f->cert_subject);
        detector_emit(ctx, &rule_cert_weak_key, DIR_TO_CLIENT, "certificate", ev, strlen(ev),
                      EV_TEXT);
    }
    if (fl.weak_sig) {
        snprintf(ev, sizeof ev, "signature=%.40s subject=%.96s", f->cert_sig_alg, f->cert_subject);
        detector_emit(ctx, &rule_cert_weak_sig, DIR_TO_CLIENT, "certificate", ev, strlen(ev),
                      EV_TEXT);
    }
}

/* ------------------------------------------------------------------ ClientHello */

/* What JA3 and JA4 need from a ClientHello. */
struct tls_hello_lists {
    uint16_t ciphers[TLS_LIST_MAX];
    size_t nciphers;
    uint16_t exts[TLS_LIST_MAX];
    size_t nexts;
    uint16_t groups[TLS_LIST_MAX];
    size_t ngroups;
    uint16_t points[TLS_LIST_MAX];
    size_t npoints;
    uint16_t sigalgs[TLS_LIST_MAX];
    size_t nsigalgs;
    uint16_t max_version;       /* highest supported_versions value, 0 if none */
    bool sni;
    const uint8_t *alpn;        /* first ALPN protocol (borrowed) */
    size_t alpn_len;
};

/*
 *  server_name extension (RFC 6066 3):
 *    +--------------+------+------------+-----------+
 *    | list len (2) | type | name len(2)| host_name |   type 0 = host_name
 *    +--------------+------+------------+-----------+
 */
static void tls_ext_sni(struct tls_state *st, const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    uint16_t list = cur_be16(&c);
    struct cursor l = cursor_init(cur_take(&c, list), list);
    if (c.bad)
        return;     /* malformed list: no name */
    while (cur_left(&l) >= 3) {
        uint8_t type = cur_u8(&l);
        uint16_t len = cur_be16(&l);
        const uint8_t *name = cur_take(&l, len);
        if (l.bad)
            return;
        if (type == 0) {
            tls_copy_str(st->facts.sni, sizeof st->facts.sni, name, len);
            return;
        }
    }
}

/* First protocol of an ALPN list (RFC 7301 3.1): list len (2), then
 * length-prefixed names. */
static const uint8_t *tls_alpn_first(const uint8_t *p, size_t n, size_t *len)
{
    struct cursor c = cursor_init(p, n);
    cur_skip(&c, 2);
    uint8_t l = cur_u8(&c);
    const uint8_t *s = cur_take(&c, l);
    *len = s != NULL ? l : 0;
    return s;
}

static bool tls_alnum(uint8_t ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

/* The JA4 "a" part's two ALPN characters (JA4 spec: first and last
 * character of the first protocol; their hex digits when not
 * alphanumeric; "00" without ALPN). */
static void tls_ja4_alpn(const struct tls_hello_lists *h, char out[3])
{
    static const char hex[] = "0123456789abcdef";
    out[0] = '0';
    out[1] = '0';
    out[2] = '\0';
    if (h->alpn == NULL || h->alpn_len == 0)
        return;
    uint8_t a = h->alpn[0], z = h->alpn[h->alpn_len - 1];
    if (tls_alnum(a) && tls_alnum(z)) {
        out[0] = (char)a;
        out[1] = (char)z;
    } else {
        out[0] = hex[a >> 4];
        out[1] = hex[z & 15];
    }
}

static const char *tls_ja4_version(uint16_t v)
{
    switch (v) {
    case 0x0304: return "13";
    case 0x0303: return "12";
    case 0x0302: return "11";
    case 0x0301: return "10";
    case 0x0300: return "s3";
    case 0x0002: return "s2";
    default: return "00";
    }
}

/* JA3: "version,ciphers,extensions,groups,point formats", decimal values
 * joined by '-', GREASE left out; the fingerprint is its MD5. */
static void tls_ja3(struct tls_state *st, const struct tls_hello_lists *h)
{
    char s[TLS_JA3_STR_MAX];
    struct tls_sb b = { s, sizeof s, 0 };
    char num[8];
    s[0] = '\0';
    snprintf(num, sizeof num, "%u", (unsigned)st->ch_version);
    sb_puts(&b, num);
    sb_puts(&b, ",");
    sb_list(&b, h->ciphers, h->nciphers, false, "-");
    sb_puts(&b, ",");
    sb_list(&b, h->exts, h->nexts, false, "-");
    sb_puts(&b, ",");
    sb_list(&b, h->groups, h->ngroups, false, "-");
    sb_puts(&b, ",");
    sb_list(&b, h->points, h->npoints, false, "-");
    tls_md5_hex(s, b.len, st->facts.ja3);
}

/* JA4: t<version><d|i><ciphers><extensions><alpn>_<sha256/12 of the sorted
 * ciphers>_<sha256/12 of the sorted extensions (no SNI, no ALPN) "_"
 * signature algorithms in order>. */
static void tls_ja4(struct tls_state *st, struct tls_hello_lists *h)
{
    char alpn[3];
    char part_b[13], part_c[13];
    char s[TLS_JA3_STR_MAX];
    struct tls_sb b = { s, sizeof s, 0 };
    uint16_t v = h->max_version ? h->max_version : st->ch_version;
    size_t nc = h->nciphers > 99 ? 99 : h->nciphers;
    size_t ne = h->nexts > 99 ? 99 : h->nexts;

    tls_ja4_alpn(h, alpn);
    uint16_t sorted[TLS_LIST_MAX];
    memcpy(sorted, h->ciphers, h->nciphers * sizeof sorted[0]);
    qsort(sorted, h->nciphers, sizeof sorted[0], tls_cmp_u16);
    s[0] = '\0';
    sb_list(&b, sorted, h->nciphers, true, ",");
    if (h->nciphers == 0)
        snprintf(part_b, sizeof part_b, "000000000000");
    else
        tls_sha256_hex12(s, b.len, part_b);

    size_t k = 0;
    for (size_t i = 0; i < h->nexts; i++)
        if (h->exts[i] != EXT_SERVER_NAME && h->exts[i] != EXT_ALPN)
            sorted[k++] = h->exts[i];
    qsort(sorted, k, sizeof sorted[0], tls_cmp_u16);
    b.len = 0;
    s[0] = '\0';
    sb_list(&b, sorted, k, true, ",");
    if (h->nsigalgs > 0) {
        sb_puts(&b, "_");
        sb_list(&b, h->sigalgs, h->nsigalgs, true, ",");
    }
    if (k == 0)
        snprintf(part_c, sizeof part_c, "000000000000");
    else
        tls_sha256_hex12(s, b.len, part_c);

    snprintf(st->facts.ja4, sizeof st->facts.ja4, "t%s%c%02zu%02zu%s_%s_%s",
             tls_ja4_version(v), h->sni ? 'd' : 'i', nc, ne, alpn, part_b, part_c);
}

/* One ClientHello extension: what the fingerprints and facts need. */
static void tls_client_ext(struct tls_state *st, struct tls_hello_lists *h, uint16_t type,
                           const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    switch (type) {
    case EXT_SERVER_NAME:
        h->sni = true;
        tls_ext_sni(st, p, n);
        break;
    case EXT_SUPPORTED_GROUPS: {
        uint16_t l = cur_be16(&c);
        const uint8_t *v = cur_take(&c, l);
        if (v != NULL)
            h->ngroups = tls_u16_list(v, l, h->groups, TLS_LIST_MAX);
        break;
    }
    case EXT_EC_POINT_FORMATS: {
        uint8_t l = cur_u8(&c);
        const uint8_t *v = cur_take(&c, l);
        for (size_t i = 0; v != NULL && i < l && h->npoints < TLS_LIST_MAX; i++)
            h->points[h->npoints++] = v[i];
        break;
    }
    case EXT_SIGNATURE_ALGORITHMS: {
        uint16_t l = cur_be16(&c);
        const uint8_t *v = cur_take(&c, l);
        if (v != NULL)
            h->nsigalgs = tls_u16_list(v, l, h->sigalgs, TLS_LIST_MAX);
        break;
    }
    case EXT_ALPN:
        h->alpn = tls_alpn_first(p, n, &h->alpn_len);
        break;
    case EXT_SUPPORTED_VERSIONS: {
        uint8_t l = cur_u8(&c);
        const uint8_t *v = cur_take(&c, l);
        uint16_t vers[TLS_LIST_MAX];
        size_t nv = v != NULL ? tls_u16_list(v, l, vers, TLS_LIST_MAX) : 0;
        for (size_t i = 0; i < nv; i++)
            if (vers[i] > h->max_version && vers[i] <= 0x0304)
                h->max_version = vers[i];
        break;
    }
    default:
        break;
    }
}

/*
 *  ClientHello (RFC 5246 7.4.1.2, RFC 8446 4.1.2):
 *    +---------+-------------+-----------------+--------------------+
 *    | version | random (32) | session_id <1>  | cipher_suites <2>  |
 *    +---------+-------------+-----------------+--------------------+
 *    | compression_methods <1> | extensions <2> (optional)        |
 *    +-------------------------+----------------------------------+
 *  each extension: type (2), length (2), data.
 */
static void tls_client_hello(struct tls_state *st, const uint8_t *p, size_t n)
{
    struct tls_hello_lists h;
    struct cursor c = cursor_init(p, n);
    uint16_t version = cur_be16(&c);
    cur_skip(&c, 32);
    uint8_t sid_len = cur_u8(&c);
    const uint8_t *sid = cur_take(&c, sid_len);
    uint16_t cs_len = cur_be16(&c);
    const uint8_t *cs = cur_take(&c, cs_len);
    uint8_t comp_len = cur_u8(&c);
    cur_skip(&c, comp_len);
    if (c.bad || sid_len > 32 || (version >> 8) != 3)
        return;     /* not a ClientHello we can read: no fingerprint is better than a wrong one */
    if (st->ch_seen)
        return;     /* the second hello after a HelloRetryRequest: keep the first */
    memset(&h, 0, sizeof h);
    st->ch_version = version;
    st->sid_len = sid_len;
    memcpy(st->sid, sid, sid_len);
    h.nciphers = tls_u16_list(cs, cs_len, h.ciphers, TLS_LIST_MAX);
    if (cur_left(&c) >= 2) {
        uint16_t ext_len = cur_be16(&c);
        struct cursor e = cursor_init(cur_take(&c, ext_len), ext_len);
        if (c.bad)
            e = cursor_init(NULL, 0);   /* extensions cut short: fingerprint without them */
        while (cur_left(&e) >= 4) {
            uint16_t type = cur_be16(&e);
            uint16_t len = cur_be16(&e);
            const uint8_t *data = cur_take(&e, len);
            if (e.bad)
                break;
            if (!tls_grease(type) && h.nexts < TLS_LIST_MAX)
                h.exts[h.nexts++] = type;
            tls_client_ext(st, &h, type, data, len);
        }
    }
    st->ch_seen = true;
    tls_ja3(st, &h);
    tls_ja4(st, &h);
}

/* ------------------------------------------------------------------ ServerHello */

/* SHA-256("HelloRetryRequest"): the random of a HelloRetryRequest
 * (RFC 8446 4.1.3). */
static const uint8_t tls_hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65,
    0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2,
    0xc8, 0xa8, 0x33, 0x9c,
};

/*
 *  ServerHello (RFC 5246 7.4.1.3, RFC 8446 4.1.3):
 *    +---------+-------------+----------------+--------------+-------------+
 *    | version | random (32) | session_id <1> | cipher_suite | compression |
 *    +---------+-------------+----------------+--------------+-------------+
 *    | extensions <2> (optional): supported_versions carries TLS 1.3     |
 *    +-------------------------------------------------------------------+
 */
static void tls_server_hello(struct det_ctx *ctx, struct tls_state *st, const uint8_t *p,
                             size_t n)
{
    struct cursor c = cursor_init(p, n);
    uint16_t legacy = cur_be16(&c);
    const uint8_t *random = cur_take(&c, 32);
    uint8_t sid_len = 0;
    const uint8_t *sid = NULL;
    /* TLS 1.3 drafts up to 21 put their version here and had neither
     * session id nor compression method (draft-ietf-tls-tls13-21 4.1.3) */
    bool draft = (legacy & 0xff00) == 0x7f00;
    if (!draft) {
        sid_len = cur_u8(&c);
        sid = cur_take(&c, sid_len);
    }
    uint16_t cipher = cur_be16(&c);
    if (!draft)
        cur_skip(&c, 1);
    if (c.bad || sid_len > 32)
        return;     /* truncated or not a ServerHello: grade nothing rather than guess */
    if (memcmp(random, tls_hrr_random, sizeof tls_hrr_random) == 0) {
        st->hrr_seen = true;    /* the real ServerHello follows a second ClientHello */
        return;
    }
    if (st->sh_seen)
        return;
    uint16_t selected = 0;
    bool psk = false;
    uint16_t exts[TLS_SH_EXT_MAX];
    size_t nexts = 0;
    if (cur_left(&c) >= 2) {
        uint16_t ext_len = cur_be16(&c);
        struct cursor e = cursor_init(cur_take(&c, ext_len), ext_len);
        if (c.bad)
            e = cursor_init(NULL, 0);
        while (cur_left(&e) >= 4) {
            uint16_t type = cur_be16(&e);
            uint16_t len = cur_be16(&e);
            const uint8_t *data = cur_take(&e, len);
            if (e.bad)
                break;
            if (!tls_grease(type) && nexts < TLS_SH_EXT_MAX)
                exts[nexts++] = type;
            struct cursor x = cursor_init(data, len);
            if (type == EXT_SUPPORTED_VERSIONS && len == 2)
                selected = cur_be16(&x);
            else if (type == EXT_PRE_SHARED_KEY)
                psk = true;
            else if (type == EXT_ALPN) {
                size_t alen = 0;
                const uint8_t *a = tls_alpn_first(data, len, &alen);
                if (a != NULL)
                    tls_copy_str(st->facts.alpn, sizeof st->facts.alpn, a, alen);
            }
        }
    }
    st->sh_seen = true;
    st->facts.version = selected != 0 ? selected : legacy;
    st->version_inferred = false;
    tls_set_cipher(st, cipher);
    st->tls13 = tls_is_13(st->facts.version);
    if (st->tls13) {
        /* everything after the ServerHello is encrypted, both ways */
        st->resumed = psk;
        st->facts.cert_encrypted = !psk;
        st->mode[0] = M_ENCRYPTED;
        st->mode[1] = M_ENCRYPTED;
    } else {
        st->resumed = sid_len > 0 && sid_len == st->sid_len &&
                      memcmp(sid, st->sid, sid_len) == 0;
    }

    /* JA3S: "version,cipher,extensions" */
    char s[TLS_SH_EXT_MAX * 6 + 32];
    struct tls_sb b = { s, sizeof s, 0 };
    char num[8];
    s[0] = '\0';
    snprintf(num, sizeof num, "%u", (unsigned)legacy);
    sb_puts(&b, num);
    sb_puts(&b, ",");
    snprintf(num, sizeof num, "%u", (unsigned)cipher);
    sb_puts(&b, num);
    sb_puts(&b, ",");
    sb_list(&b, exts, nexts, false, "-");
    tls_md5_hex(s, b.len, st->facts.ja3s);

    tls_grade_version(ctx, st);
    tls_grade_cipher(ctx, st->facts.cipher_name);
}

/*
 *  Certificate (RFC 5246 7.4.2), TLS 1.2 and below:
 *    +-----------------------+----------------+-----------+-----
 *    | certificate_list (3)  | cert len (3)   | DER leaf  | ...
 *    +-----------------------+----------------+-----------+-----
 *  Only the first (the server's own) certificate is read.
 */
static void tls_certificate(struct det_ctx *ctx, struct tls_state *st, const uint8_t *p,
                            size_t n)
{
    struct cursor c = cursor_init(p, n);
    cur_skip(&c, 3);
    uint32_t len = cur_be24(&c);
    const uint8_t *der = cur_take(&c, len);
    if (c.bad || len == 0)
        return;     /* empty list, or a leaf larger than we keep */
    tls_certificate_leaf(ctx, st, der, len);
}

/* One whole (or, past TLS_HS_MAX, truncated) handshake message. */
static void tls_handshake(struct det_ctx *ctx, struct tls_state *st, enum dir d, uint8_t type,
                          const uint8_t *p, size_t n)
{
    if (d == DIR_TO_SERVER && type == HS_CLIENT_HELLO) {
        tls_client_hello(st, p, n);
    } else if (d == DIR_TO_CLIENT && type == HS_SERVER_HELLO) {
        tls_server_hello(ctx, st, p, n);
    } else if (d == DIR_TO_CLIENT && type == HS_CERTIFICATE) {
        if (!st->tls13 && !st->cert_done)
            tls_certificate(ctx, st, p, n);
    } else if (d == DIR_TO_SERVER && type == HS_CLIENT_KEY_EXCHANGE) {
        /* The ServerHello was lost (a capture gap) but the key exchange is
         * in clear: this is TLS 1.2 or below, and after the ServerHello
         * every record carries the negotiated version (RFC 5246 6.2.1,
         * E.1), so the record layer tells it. */
        uint16_t rv = st->rec_version[d];
        if (!st->sh_seen && st->facts.version == 0 && rv >= 0x0300 && rv <= 0x0303) {
            st->facts.version = rv;
            st->version_inferred = true;
            tls_grade_version(ctx, st);
        }
    }
}

/* ------------------------------------------------------------------ records */

static bool tls_hs_reserve(struct tls_hsbuf *h, uint32_t need)
{
    if (need <= h->cap)
        return true;
    uint32_t cap = h->cap ? h->cap : 4096;
    while (cap < need)
        cap *= 2;
    if (cap > TLS_HS_MAX)
        cap = TLS_HS_MAX;
    uint8_t *nb = realloc(h->buf, cap);
    if (nb == NULL)
        return false;
    h->buf = nb;
    h->cap = cap;
    return true;
}

/* Parses the complete handshake messages at the start of the buffer and
 * keeps the incomplete rest. */
static void tls_hs_drain(struct det_ctx *ctx, struct tls_state *st, enum dir d)
{
    struct tls_hsbuf *h = &st->hs[d];
    size_t off = 0;
    while (st->mode[d] == M_RECORDS) {
        struct cursor c = cursor_init(h->buf + off, h->len - off);
        uint8_t type = cur_u8(&c);
        uint32_t len = cur_be24(&c);
        if (c.bad)
            break;                      /* header not all here */
        const uint8_t *body = cur_take(&c, len);
        if (body != NULL) {
            tls_handshake(ctx, st, d, type, body, len);
            off += 4 + (size_t)len;
            continue;
        }
        if (4 + (size_t)len <= TLS_HS_MAX || h->len < TLS_HS_MAX)
            break;                      /* wait for the rest of the message */
        /* longer than we keep: read what we have, pass over the rest */
        g_stats.tls_handshake_cut++;
        tls_handshake(ctx, st, d, type, h->buf + off + 4, h->len - off - 4);
        h->skip = (uint32_t)(4 + (size_t)len - (h->len - off));
        off = h->len;
        break;
    }
    if (st->mode[d] != M_RECORDS)
        off = h->len;       /* the rest is encrypted: drop it */
    memmove(h->buf, h->buf + off, h->len - off);
    h->len -= (uint32_t)off;
}

/* Adds a handshake record's fragment to the direction's message stream. */
static void tls_hs_feed(struct det_ctx *ctx, struct tls_state *st, enum dir d,
                        const uint8_t *p, size_t n)
{
    struct tls_hsbuf *h = &st->hs[d];
    while (n > 0 && st->mode[d] == M_RECORDS) {
        if (h->skip > 0) {
            size_t k = n < h->skip ? n : h->skip;
            h->skip -= (uint32_t)k;
            p += k;
            n -= k;
            continue;
        }
        size_t room = TLS_HS_MAX - h->len;
        size_t k = n < room ? n : room;
        if (!tls_hs_reserve(h, h->len + (uint32_t)k)) {
            st->mode[d] = M_DONE;       /* out of memory: stop reading this side */
            return;
        }
        memcpy(h->buf + h->len, p, k);
        h->len += (uint32_t)k;
        p += k;
        n -= k;
        tls_hs_drain(ctx, st, d);
    }
}

/* A ChangeCipherSpec: from here this side's records are encrypted.  Not
 * in TLS 1.3, where it is a compatibility no-op and a client sends one
 * after a HelloRetryRequest, before its second (clear) ClientHello. */
static void tls_ccs(struct tls_state *st, enum dir d)
{
    if (st->hrr_seen && !st->sh_seen)
        return;
    st->mode[d] = M_ENCRYPTED;
}

static void tls_record(struct det_ctx *ctx, struct tls_state *st, enum dir d, uint8_t type,
                       const uint8_t *body, size_t len)
{
    switch (type) {
    case REC_HANDSHAKE:
        tls_hs_feed(ctx, st, d, body, len);
        break;
    case REC_CCS:
        tls_ccs(st, d);
        break;
    case REC_APPDATA:
        /* application data (or TLS 1.3's encrypted handshake): keys are in use */
        st->mode[d] = M_ENCRYPTED;
        break;
    case REC_ALERT:
        /* an alert in clear: before the ServerHello it ends a failed
         * handshake, and there is nothing to grade */
        if (!st->sh_seen && len >= 2 && body[0] == 2)
            st->mode[d] = M_DONE;
        break;
    default:
        break;          /* heartbeat: nothing to learn */
    }
}

static bool tls_record_plausible(uint8_t type, uint8_t major, uint8_t minor, uint16_t len)
{
    return type >= REC_CCS && type <= REC_HEARTBEAT && major == 3 && minor <= 4 &&
           len > 0 && len <= TLS_RECORD_MAX;
}

/*
 *  TLS record header (RFC 5246 6.2.1):
 *    +------+---------+---------+------------+----------+
 *    | type | major=3 | minor   | length (2) | fragment |
 *    +------+---------+---------+------------+----------+
 *  One record per call; 0 while the record is incomplete.
 */
static size_t tls_records(struct det_ctx *ctx, struct tls_state *st, enum dir d,
                          const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    uint8_t type = cur_u8(&c);
    uint8_t major = cur_u8(&c);
    uint8_t minor = cur_u8(&c);
    uint16_t len = cur_be16(&c);
    if (c.bad)
        return 0;               /* header not all here yet */
    if (!tls_record_plausible(type, major, minor, len)) {
        st->mode[d] = M_DONE;   /* not (or no longer) TLS records: stop, guess nothing */
        return n;
    }
    const uint8_t *body = cur_take(&c, len);
    if (body == NULL)
        return 0;               /* wait for the whole record (< REASM_MAX_PENDING) */
    st->rec_version[d] = (uint16_t)(major << 8 | minor);
    tls_record(ctx, st, d, type, body, len);
    return 5 + (size_t)len;
}

/* ------------------------------------------------------------------ SSLv2 */

/*
 *  SSLv2 CLIENT-HELLO (after the 2-byte record header, high bit set):
 *    +------+---------+-----------+-----------+----------+---------+-----+-----------+
 *    | 1    | version | specs len | sid len   | chal len | specs   | sid | challenge |
 *    +------+---------+-----------+-----------+----------+---------+-----+-----------+
 *  A version of 3.x makes it the SSLv2-compatible hello of an SSL 3.0/TLS
 *  client (RFC 5246 E.2): the rest of its stream is TLS records.
 */
static void tls_ssl2_client_hello(struct tls_state *st, const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    cur_skip(&c, 1);
    uint16_t version = cur_be16(&c);
    if (c.bad)
        return;
    st->ch_version = version;
    if ((version >> 8) == 3)
        st->mode[DIR_TO_SERVER] = M_RECORDS;
}

/*
 *  SSLv2 SERVER-HELLO:
 *    +---+----------+-----------+---------+----------+-----------+-------------+
 *    | 4 | sid hit  | cert type | version | cert len | specs len | conn id len |
 *    +---+----------+-----------+---------+----------+-----------+-------------+
 *    | certificate | cipher specs (3 bytes each) | connection id |
 *    +-------------+-----------------------------+---------------+
 *  The version it answers is what was negotiated; what follows from the
 *  server is encrypted.
 */
static void tls_ssl2_server_hello(struct det_ctx *ctx, struct tls_state *st,
                                  const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    cur_skip(&c, 1);
    cur_skip(&c, 1);
    uint8_t cert_type = cur_u8(&c);
    uint16_t version = cur_be16(&c);
    uint16_t cert_len = cur_be16(&c);
    cur_skip(&c, 4);
    const uint8_t *cert = cur_take(&c, cert_len);
    if (c.bad)
        return;     /* truncated: not graded */
    st->sh_seen = true;
    st->facts.version = version;
    tls_grade_version(ctx, st);
    if (cert_type == 1 && cert_len > 0 && !st->cert_done)
        tls_certificate_leaf(ctx, st, cert, cert_len);
    st->mode[DIR_TO_CLIENT] = M_ENCRYPTED;
}

/* SSLv2 CLIENT-MASTER-KEY: 2, cipher kind (3), ...: the chosen cipher. */
static void tls_ssl2_master_key(struct det_ctx *ctx, struct tls_state *st, const uint8_t *p,
                                size_t n)
{
    struct cursor c = cursor_init(p, n);
    cur_skip(&c, 1);
    uint32_t kind = cur_be24(&c);
    if (c.bad)
        return;
    const char *name = tls_ssl2_cipher_name(kind);
    if (name != NULL) {
        /* SSL 2.0 cipher kinds are 24-bit numbers */
        st->facts.cipher = kind;
        snprintf(st->facts.cipher_name, sizeof st->facts.cipher_name, "%s", name);
        tls_grade_cipher(ctx, name);
    }
    st->mode[DIR_TO_SERVER] = M_ENCRYPTED;
}

/*
 *  SSLv2 record header: two bytes, high bit set, 15-bit length (a 3-byte
 *  form with padding exists for encrypted records only).
 */
static size_t tls_ssl2(struct det_ctx *ctx, struct tls_state *st, enum dir d,
                       const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    uint16_t hdr = cur_be16(&c);
    if (c.bad)
        return 0;
    if (!(hdr & 0x8000)) {
        st->mode[d] = M_DONE;   /* the padded form only follows the key exchange */
        return n;
    }
    uint16_t len = hdr & 0x7fff;
    const uint8_t *body = cur_take(&c, len);
    if (body == NULL)
        return 0;               /* wait for the whole record */
    struct cursor m = cursor_init(body, len);
    uint8_t msg = cur_u8(&m);
    if (d == DIR_TO_SERVER && msg == 1)
        tls_ssl2_client_hello(st, body, len);
    else if (d == DIR_TO_CLIENT && msg == 4)
        tls_ssl2_server_hello(ctx, st, body, len);
    else if (d == DIR_TO_SERVER && msg == 2)
        tls_ssl2_master_key(ctx, st, body, len);
    return 2 + (size_t)len;
}

/* Whether the bytes start like an SSLv2 record holding the hello that
 * opens this direction (CLIENT-HELLO 1 from the client, SERVER-HELLO 4
 * from the server). */
static bool tls_ssl2_start(enum dir d, const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    uint16_t hdr = cur_be16(&c);
    uint8_t msg = cur_u8(&c);
    uint8_t major = cur_u8(&c);
    if (c.bad || !(hdr & 0x8000) || (hdr & 0x7fff) < 9)
        return false;
    if (d == DIR_TO_SERVER)
        return msg == 1 && (major == 0 || major == 3);
    return msg == 4;
}

static bool tls_record_start(const uint8_t *p, size_t n)
{
    struct cursor c = cursor_init(p, n);
    uint8_t type = cur_u8(&c);
    uint8_t major = cur_u8(&c);
    uint8_t minor = cur_u8(&c);
    uint16_t len = cur_be16(&c);
    return !c.bad && tls_record_plausible(type, major, minor, len);
}

/*
 * Where a handshake record holding a hello of the given type (1 client, 2
 * server) starts in p/n, or n when none does.  Used where a cleartext
 * protocol hands over to TLS (STARTTLS, an SSL request): the hello follows
 * the last cleartext command.  Ten bytes of structure must agree (record
 * header, message type, a message length that fits the record or runs on
 * past it, a 3.x hello version), so text never matches by chance.
 */
static size_t tls_find_hello(const uint8_t *p, size_t n, uint8_t hs_type)
{
    for (size_t i = 0; n >= 10 && i <= n - 10; i++) {
        struct cursor c = cursor_init(p + i, n - i);
        uint8_t type = cur_u8(&c);
        uint8_t major = cur_u8(&c);
        uint8_t minor = cur_u8(&c);
        uint16_t rlen = cur_be16(&c);
        uint8_t hs = cur_u8(&c);
        uint32_t hlen = cur_be24(&c);
        uint8_t vmajor = cur_u8(&c);
        if (c.bad)
            break;
        if (type != REC_HANDSHAKE || major != 3 || minor > 4 || hs != hs_type)
            continue;
        if (rlen < 40 || rlen > TLS_RECORD_MAX || hlen < 36 || hlen > TLS_HS_MAX)
            continue;
        if (vmajor != 3 && vmajor != 0x7f)
            continue;
        return i;
    }
    return n;
}

/* M_CLEAR: pass over cleartext until this side's hello (the server's only
 * after the client has switched). */
static size_t tls_clear(struct tls_state *st, enum dir d, const uint8_t *p, size_t n)
{
    bool client_switched = st->mode[DIR_TO_SERVER] != M_CLEAR &&
                           st->mode[DIR_TO_SERVER] != M_START;
    size_t at = n;
    if (d == DIR_TO_SERVER)
        at = tls_find_hello(p, n, HS_CLIENT_HELLO);
    else if (client_switched)
        at = tls_record_start(p, n) ? 0 : tls_find_hello(p, n, HS_SERVER_HELLO);
    if (at < n) {
        st->mode[d] = M_RECORDS;
        return at;
    }
    /* keep a possible hello's first bytes (fewer than the ten checked) for
     * the next call: 0 while nothing else is here asks for more */
    size_t keep = n < 9 ? n : 9;
    size_t used = n - keep;
    st->clear_bytes[d] += (uint32_t)used;
    if (st->clear_bytes[d] > TLS_CLEAR_MAX)
        st->mode[d] = M_DONE;   /* it never switched: stop looking */
    return used;
}

/* ------------------------------------------------------------------ callbacks */

static size_t tls_on_data(struct det_ctx *ctx, enum dir d, const uint8_t *p, size_t n)
{
    struct tls_state *st = ctx->state;
    size_t used = n;
    switch (st->mode[d]) {
    case M_START:
        if (n < 5)
            return 0;           /* too few bytes to tell a record from a hello */
        if (tls_record_start(p, n))
            st->mode[d] = M_RECORDS;
        else if (tls_ssl2_start(d, p, n))
            st->mode[d] = M_SSL2;
        else
            st->mode[d] = M_CLEAR;  /* cleartext first: TLS may follow (STARTTLS) */
        return tls_on_data(ctx, d, p, n);
    case M_CLEAR:
        used = tls_clear(st, d, p, n);
        if (used == 0 && st->mode[d] == M_RECORDS)
            return tls_on_data(ctx, d, p, n);
        break;
    case M_LOST:
        if (n < 5)
            return 0;
        if (!tls_record_start(p, n))
            return n;           /* still inside a record: keep looking at segment starts */
        st->mode[d] = M_RECORDS;
        return tls_on_data(ctx, d, p, n);
    case M_RECORDS:
        used = tls_records(ctx, st, d, p, n);
        break;
    case M_SSL2:
        used = tls_ssl2(ctx, st, d, p, n);
        break;
    default:
        break;                  /* encrypted or done: pass over */
    }
    tls_maybe_detach(ctx, st);
    return used;
}

/* Bytes lost: the message being rebuilt is gone; look for the next record
 * header at the start of the next bytes delivered. */
static void tls_on_gap(struct det_ctx *ctx, enum dir d, uint64_t len)
{
    struct tls_state *st = ctx->state;
    (void)len;
    st->hs[d].len = 0;
    st->hs[d].skip = 0;
    if (st->mode[d] == M_RECORDS || st->mode[d] == M_START)
        st->mode[d] = M_LOST;
    else if (st->mode[d] == M_SSL2)
        st->mode[d] = M_DONE;
}

static void tls_on_end(struct det_ctx *ctx)
{
    struct tls_state *st = ctx->state;
    tls_report(ctx, st);
    for (int d = 0; d < 2; d++) {
        free(st->hs[d].buf);
        st->hs[d].buf = NULL;
    }
}

/* nDPI's names for TLS and the protocols it sees inside TLS. */
static bool tls_ndpi_name(const char *name)
{
    static const char *const names[] = {
        "TLS", "IMAPS", "POPS", "POP3S", "SMTPS", "FTPS", "LDAPS", "DoT", "SSL",
    };
    if (name == NULL)
        return false;
    for (size_t i = 0; i < ARRAY_LEN(names); i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

/* TCP flows whose first bytes are a TLS record or an SSLv2 hello, on any
 * port; flows whose client switched to TLS after a cleartext start (a
 * ClientHello after the first commands: STARTTLS, SSL requests); and
 * flows nDPI names TLS.  A flow that upgrades later is attached by the
 * engine at that moment. */
static bool tls_wants(const struct flow_view *f)
{
    if (f->transport != 6)
        return false;
    const uint8_t *h = f->head[DIR_TO_SERVER];
    size_t n = f->head_len[DIR_TO_SERVER];
    if (n > 0 && (tls_record_start(h, n) || tls_ssl2_start(DIR_TO_SERVER, h, n) ||
                  tls_find_hello(h, n, HS_CLIENT_HELLO) < n))
        return true;
    h = f->head[DIR_TO_CLIENT];
    n = f->head_len[DIR_TO_CLIENT];
    if (n > 0 && (tls_record_start(h, n) || tls_ssl2_start(DIR_TO_CLIENT, h, n)))
        return true;
    return f->by_dpi && tls_ndpi_name(f->protocol);
}

static const struct rule *const tls_rules[] = {
    &rule_obsolete,
    &rule_weak_cipher,
    &rule_cert_expired,
    &rule_cert_not_yet_valid,
    &rule_cert_self_signed,
    &rule_cert_weak_key,
    &rule_cert_weak_sig,
};

const struct detector detector_tls = {
    .name       = "tls",                    /* protocol name in the report */
    .rules      = tls_rules,                /* rules this file can fire */
    .nrules     = ARRAY_LEN(tls_rules),
    .state_size = sizeof(struct tls_state),
    .tls        = true,                     /* reads encrypted streams, takes over upgrades */
    .wants      = tls_wants,                /* TLS record or SSLv2 hello first, any port */
    .on_data    = tls_on_data,              /* one record per call */
    .on_gap     = tls_on_gap,               /* drop the message, resync on a record header */
    .on_end     = tls_on_end,               /* report the facts, free the buffers */
};

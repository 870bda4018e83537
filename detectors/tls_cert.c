/*
 * tls_cert.c - the server certificate and the fingerprint digests, with
 * OpenSSL's libcrypto (see tls.h).
 *
 * X.509 is parsed by a well-kept library, never by hand (RFC 5280 has too
 * many corners for a passive tool to get right): d2i_X509 reads the DER,
 * and the accessors give names, validity, key and signature algorithm.
 * This is the only detector file that includes OpenSSL, so a library change
 * is one diff.  Left out: chain building and trust (a passive observer has
 * no trust store that matches the clients'), revocation, and name checks
 * against the SNI.
 */
#include "tls.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/ec.h>

#define NS_PER_S 1000000000ULL
/* Past this a time in ns no longer fits 64 bits (year 2554): clamp, the
 * certificate is simply "valid for ever". */
#define MAX_SECONDS (UINT64_MAX / NS_PER_S)

/* Copies a memory BIO's contents as a bounded C string. */
static void cert_bio_str(BIO *b, char *dst, size_t cap)
{
    char *data = NULL;
    long n = BIO_get_mem_data(b, &data);
    size_t len = n > 0 ? (size_t)n : 0;
    if (len >= cap)
        len = cap - 1;
    if (len > 0)
        memcpy(dst, data, len);
    dst[len] = '\0';
}

/* A distinguished name in RFC 2253 form ("CN=host,O=Org"), UTF-8 kept. */
static void cert_name(const X509_NAME *name, char *dst, size_t cap)
{
    dst[0] = '\0';
    BIO *b = BIO_new(BIO_s_mem());
    if (b == NULL)
        return;
    X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
    cert_bio_str(b, dst, cap);
    BIO_free(b);
}

/* Appends a SAN to the comma-separated list, if it fits whole. */
static void cert_san_add(char *dst, size_t cap, const char *v, size_t n)
{
    size_t len = strnlen(dst, cap);
    size_t need = n + (len > 0 ? 1 : 0);
    if (len + need + 1 > cap)
        return;
    if (len > 0)
        dst[len++] = ',';
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)v[i];
        dst[len++] = (ch >= 0x20 && ch < 0x7f && ch != ',') ? (char)ch : '?';
    }
    dst[len] = '\0';
}

/* DNS names and IP addresses of subjectAltName. */
static void cert_sans(X509 *x, char *dst, size_t cap)
{
    dst[0] = '\0';
    GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    if (gens == NULL)
        return;
    for (int i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type == GEN_DNS) {
            const ASN1_STRING *s = g->d.dNSName;
            cert_san_add(dst, cap, (const char *)ASN1_STRING_get0_data(s),
                         (size_t)ASN1_STRING_length(s));
        } else if (g->type == GEN_IPADD) {
            const ASN1_OCTET_STRING *s = g->d.iPAddress;
            char buf[INET6_ADDRSTRLEN];
            int n = ASN1_STRING_length(s);
            int fam = n == 4 ? AF_INET : n == 16 ? AF_INET6 : 0;
            if (fam != 0 && inet_ntop(fam, ASN1_STRING_get0_data(s), buf, sizeof buf) != NULL)
                cert_san_add(dst, cap, buf, strlen(buf));
        }
    }
    GENERAL_NAMES_free(gens);
}

/* An ASN.1 time as ns since the epoch; 0 when unreadable or before 1970. */
static uint64_t cert_time_ns(const ASN1_TIME *t)
{
    struct tm tm;
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
        return 0;
    time_t s = timegm(&tm);
    if (s <= 0)
        return 0;
    if ((uint64_t)s > MAX_SECONDS)
        return MAX_SECONDS * NS_PER_S;
    return (uint64_t)s * NS_PER_S;
}

/* "RSA 2048", "EC P-256", "Ed25519"; sets weak for short keys (NIST SP
 * 800-131A: RSA/DSA below 2048 bits, EC below 224 bits). */
static void cert_key(X509 *x, char *dst, size_t cap, bool *weak)
{
    EVP_PKEY *pk = X509_get0_pubkey(x);
    dst[0] = '\0';
    if (pk == NULL)
        return;
    int bits = EVP_PKEY_get_bits(pk);
    int id = EVP_PKEY_get_base_id(pk);
    if (id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS) {
        snprintf(dst, cap, "RSA %d", bits);
        *weak = bits > 0 && bits < 2048;
    } else if (id == EVP_PKEY_DSA) {
        snprintf(dst, cap, "DSA %d", bits);
        *weak = bits > 0 && bits < 2048;
    } else if (id == EVP_PKEY_EC) {
        char group[64] = "";
        size_t glen = 0;
        const char *nist = NULL;
        if (EVP_PKEY_get_group_name(pk, group, sizeof group, &glen) == 1)
            nist = EC_curve_nid2nist(OBJ_sn2nid(group));
        if (nist != NULL || group[0] != '\0')
            snprintf(dst, cap, "EC %.16s", nist != NULL ? nist : group);
        else
            snprintf(dst, cap, "EC %d", bits);
        *weak = bits > 0 && bits < 224;
    } else if (id == EVP_PKEY_ED25519) {
        snprintf(dst, cap, "Ed25519");
    } else if (id == EVP_PKEY_ED448) {
        snprintf(dst, cap, "Ed448");
    } else {
        const char *sn = OBJ_nid2sn(id);
        snprintf(dst, cap, "%s %d", sn != NULL ? sn : "unknown", bits);
    }
}

/* The signature algorithm's name; weak when its digest is MD2/4/5 or SHA-1
 * (collisions are practical: CA/B Forum baseline requirements 7.1.3). */
static void cert_sig(X509 *x, char *dst, size_t cap, bool *weak)
{
    int nid = X509_get_signature_nid(x);
    const char *ln = OBJ_nid2ln(nid);
    snprintf(dst, cap, "%s", ln != NULL ? ln : "unknown");
    int md = NID_undef, pk = NID_undef;
    if (OBJ_find_sigid_algs(nid, &md, &pk) == 1)
        *weak = md == NID_md5 || md == NID_sha1 || md == NID_md2 || md == NID_md4;
}

/* Self-signed: the issuer is the subject and the signature verifies with
 * the certificate's own key.  When OpenSSL cannot run the check at all (an
 * algorithm it no longer ships, such as MD2), the name match plus matching
 * key identifiers (X509_check_issued) decides. */
static bool cert_self_signed(X509 *x)
{
    if (X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) != 0)
        return false;
    EVP_PKEY *pk = X509_get0_pubkey(x);
    int v = pk != NULL ? X509_verify(x, pk) : -1;
    if (v == 1)
        return true;
    if (v == 0)
        return false;       /* signed by another key of the same name: a CA */
    return X509_check_issued(x, x) == X509_V_OK;
}

/*
 * Parsing a certificate (and verifying its signature to tell self-signed)
 * costs far more than anything else per flow, and a capture shows the same
 * few server certificates thousands of times.  The last TLS_CERT_CACHE
 * results are kept with their DER, compared in full before reuse.
 */
#define TLS_CERT_CACHE      16u
#define TLS_CERT_CACHE_DER  4096u

struct cert_cache_entry {
    size_t len;                 /* 0: empty */
    uint64_t key;
    uint8_t der[TLS_CERT_CACHE_DER];
    struct service_tls facts;   /* only the cert_* fields are meaningful */
    struct tls_cert_flags flags;
};

static struct cert_cache_entry cert_cache[TLS_CERT_CACHE];
static unsigned cert_cache_next;

static uint64_t cert_cache_key(const uint8_t *der, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ len;
    /* the tail holds the signature: distinct for distinct certificates */
    size_t from = len > 64 ? len - 64 : 0;
    for (size_t i = from; i < len; i++)
        h = (h ^ der[i]) * 0x100000001b3ULL;
    return h;
}

static void cert_copy_facts(struct service_tls *to, const struct service_tls *from)
{
    memcpy(to->cert_subject, from->cert_subject, sizeof to->cert_subject);
    memcpy(to->cert_issuer, from->cert_issuer, sizeof to->cert_issuer);
    memcpy(to->cert_sans, from->cert_sans, sizeof to->cert_sans);
    to->cert_not_before_ns = from->cert_not_before_ns;
    to->cert_not_after_ns = from->cert_not_after_ns;
    memcpy(to->cert_key, from->cert_key, sizeof to->cert_key);
    memcpy(to->cert_sig_alg, from->cert_sig_alg, sizeof to->cert_sig_alg);
    memcpy(to->cert_sha256, from->cert_sha256, sizeof to->cert_sha256);
    to->cert_self_signed = from->cert_self_signed;
    to->cert_seen = from->cert_seen;
}

static bool tls_cert_parse_uncached(const uint8_t *der, size_t len, struct service_tls *t,
                                    struct tls_cert_flags *fl);

bool tls_cert_parse(const uint8_t *der, size_t len, struct service_tls *t,
                    struct tls_cert_flags *fl)
{
    if (der == NULL || len == 0 || len > INT32_MAX)
        return false;
    uint64_t key = cert_cache_key(der, len);
    for (unsigned i = 0; i < TLS_CERT_CACHE; i++) {
        struct cert_cache_entry *e = &cert_cache[i];
        if (e->len == len && e->key == key && memcmp(e->der, der, len) == 0) {
            cert_copy_facts(t, &e->facts);
            *fl = e->flags;
            return true;
        }
    }
    if (!tls_cert_parse_uncached(der, len, t, fl))
        return false;
    if (len <= TLS_CERT_CACHE_DER) {
        struct cert_cache_entry *e = &cert_cache[cert_cache_next];
        cert_cache_next = (cert_cache_next + 1) % TLS_CERT_CACHE;
        e->len = len;
        e->key = key;
        memcpy(e->der, der, len);
        cert_copy_facts(&e->facts, t);
        e->flags = *fl;
    }
    return true;
}

static bool tls_cert_parse_uncached(const uint8_t *der, size_t len, struct service_tls *t,
                                    struct tls_cert_flags *fl)
{
    const unsigned char *pp = der;
    X509 *x = d2i_X509(NULL, &pp, (long)len);
    if (x == NULL)
        return false;
    memset(fl, 0, sizeof *fl);
    cert_name(X509_get_subject_name(x), t->cert_subject, sizeof t->cert_subject);
    cert_name(X509_get_issuer_name(x), t->cert_issuer, sizeof t->cert_issuer);
    cert_sans(x, t->cert_sans, sizeof t->cert_sans);
    t->cert_not_before_ns = cert_time_ns(X509_get0_notBefore(x));
    t->cert_not_after_ns = cert_time_ns(X509_get0_notAfter(x));
    cert_key(x, t->cert_key, sizeof t->cert_key, &fl->weak_key);
    cert_sig(x, t->cert_sig_alg, sizeof t->cert_sig_alg, &fl->weak_sig);
    t->cert_self_signed = cert_self_signed(x);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    t->cert_sha256[0] = '\0';
    if (X509_digest(x, EVP_sha256(), md, &mdlen) == 1) {
        static const char hex[] = "0123456789abcdef";
        for (unsigned int i = 0; i < mdlen && 2 * i + 2 < sizeof t->cert_sha256; i++) {
            t->cert_sha256[2 * i] = hex[md[i] >> 4];
            t->cert_sha256[2 * i + 1] = hex[md[i] & 15];
            t->cert_sha256[2 * i + 2] = '\0';
        }
    }
    t->cert_seen = true;
    X509_free(x);
    return true;
}

/* Digest of n bytes as hex, at most max_hex digits. */
static void tls_digest_hex(const EVP_MD *alg, const void *p, size_t n, char *out,
                           size_t max_hex)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    out[0] = '\0';
    /* one context for every digest: no allocation per call */
    static EVP_MD_CTX *ctx;
    if (ctx == NULL)
        ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestInit_ex2(ctx, alg, NULL) != 1 ||
        EVP_DigestUpdate(ctx, p, n) != 1 || EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
        return;
    size_t o = 0;
    for (unsigned int i = 0; i < mdlen && o + 2 <= max_hex; i++) {
        out[o++] = hex[md[i] >> 4];
        out[o++] = hex[md[i] & 15];
    }
    out[o] = '\0';
}

/* Algorithms fetched once: OpenSSL 3's implicit fetch (EVP_md5()) takes
 * a lock and a lookup on every use. */
static const EVP_MD *md_fetch(EVP_MD **slot, const char *name)
{
    if (*slot == NULL)
        *slot = EVP_MD_fetch(NULL, name, NULL);
    return *slot;
}

void tls_md5_hex(const void *p, size_t n, char out[33])
{
    static EVP_MD *md5;
    out[0] = '\0';
    if (md_fetch(&md5, "MD5") != NULL)
        tls_digest_hex(md5, p, n, out, 32);
}

void tls_sha256_hex12(const void *p, size_t n, char out[13])
{
    static EVP_MD *sha256;
    out[0] = '\0';
    if (md_fetch(&sha256, "SHA256") != NULL)
        tls_digest_hex(sha256, p, n, out, 12);
}

/*
 * tls.h - what the TLS detector (detectors/tls.c) shares with its two
 * helpers: the cipher-suite table (detectors/tls_ciphers.c) and the
 * certificate and digest code (detectors/tls_cert.c, the one detector file
 * that includes OpenSSL's libcrypto).
 */
#ifndef LEAKSCAN_TLS_H
#define LEAKSCAN_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../reports/service.h"

/* The IANA name of a cipher suite ("TLS_AES_256_GCM_SHA384"), or NULL when
 * the number is not in the table.  The string is static. */
const char *tls_cipher_name(uint16_t id);

/* The name of an SSL 2.0 cipher kind ("SSL_CK_RC4_128_WITH_MD5"), or NULL. */
const char *tls_ssl2_cipher_name(uint32_t kind);

/* Why a suite (by IANA name) is weak: "NULL", "anonymous", "EXPORT", "RC4",
 * "DES" or "3DES"; NULL when it is none of these.  The string is static. */
const char *tls_cipher_weakness(const char *name);

/* What the certificate checks found beyond the facts in service_tls. */
struct tls_cert_flags {
    bool weak_key;          /* RSA or DSA under 2048 bits, EC under 224 */
    bool weak_sig;          /* signed with MD2, MD4, MD5 or SHA-1 */
};

/*
 * Parses one DER certificate (the server's leaf) and fills the cert_*
 * fields of t: subject, issuer, SANs, validity, key, signature algorithm,
 * SHA-256 fingerprint, self-signed; sets t->cert_seen.  Returns false (and
 * leaves t untouched) when the bytes are not a certificate.  der is
 * borrowed for the call.
 */
bool tls_cert_parse(const uint8_t *der, size_t len, struct service_tls *t,
                    struct tls_cert_flags *fl);

/* MD5 of n bytes as 32 lower-case hex digits and a NUL (JA3, JA3S). */
void tls_md5_hex(const void *p, size_t n, char out[33]);

/* SHA-256 of n bytes, the first 12 lower-case hex digits and a NUL (JA4). */
void tls_sha256_hex12(const void *p, size_t n, char out[13]);

#endif

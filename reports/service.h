/*
 * service.h - the services inventory and the traffic totals.
 *
 * Every flow, when it ends, is added to the service of its server endpoint
 * (transport, address, port) and to the totals: encrypted, plaintext and
 * unknown flows and bytes, and per-protocol counts.  This is what an
 * auditor reads to see the encryption coverage of a segment.
 */
#ifndef LEAKSCAN_SERVICE_H
#define LEAKSCAN_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../scanner/addr.h"

enum service_verdict {
    SV_UNKNOWN = 0,
    SV_PLAINTEXT,
    SV_ENCRYPTED,
    SV_UPGRADED,        /* cleartext start, then TLS (counts as encrypted) */
};

/* A finished flow, as the inventory needs it (borrowed for the call). */
struct service_flow {
    uint8_t transport;
    struct ipaddr server, client;
    uint16_t port;
    const char *protocol;       /* "MySQL", "TLS", "Unknown" (static strings) */
    const char *app;            /* "Google" or NULL */
    bool by_dpi;
    enum service_verdict verdict;
    uint64_t packets, bytes;
    uint64_t first_ns, last_ns;
    const char *host;           /* SNI / Host, "" if none */
};

void service_add_flow(const struct service_flow *sf);

/* What one flow showed of its TLS (detectors/tls.c fills it).  Strings are
 * NUL-terminated; empty or zero means not seen. */
struct service_tls {
    uint16_t version;           /* negotiated: 0x0300 SSL 3.0 .. 0x0304 TLS 1.3; 0x0002 SSL 2 */
    uint32_t cipher;            /* negotiated cipher suite (IANA number; SSLv2 kinds are 24-bit) */
    char cipher_name[64];       /* its IANA name, "TLS_AES_256_GCM_SHA384" */
    char sni[128];
    char alpn[32];              /* negotiated ALPN protocol */
    char ja3[33], ja3s[33], ja4[40];
    bool cert_seen;             /* a certificate was readable (TLS 1.2 and below) */
    bool cert_encrypted;        /* TLS 1.3: the certificate was encrypted */
    char cert_subject[160];
    char cert_issuer[160];
    char cert_sans[256];        /* comma-separated */
    uint64_t cert_not_before_ns, cert_not_after_ns;
    char cert_key[24];          /* "RSA 2048", "EC P-256" */
    char cert_sig_alg[40];      /* "sha256WithRSAEncryption" */
    char cert_sha256[65];
    bool cert_self_signed;
};

/* Adds TLS facts to the service of (transport, server, port). */
void service_add_tls(uint8_t transport, const struct ipaddr *server, uint16_t port,
                     const struct service_tls *t);

#define SERVICE_MAX_PROTOS 4u
#define SERVICE_MAX_HOSTS 8u

struct service_view {
    uint8_t transport;
    struct ipaddr server;
    uint16_t port;
    const char *protocol;               /* the protocol of most flows */
    bool by_dpi;
    const char *protocols[SERVICE_MAX_PROTOS];  /* all names seen */
    size_t nprotocols;
    const char *hosts[SERVICE_MAX_HOSTS];
    size_t nhosts;
    uint64_t flows, flows_encrypted, flows_plaintext, flows_unknown, flows_upgraded;
    uint64_t bytes, packets;
    const struct ipaddr *clients;
    size_t nclients;
    uint64_t clients_total;
    uint64_t first_ns, last_ns;
    /* TLS seen on this service: distinct versions and ciphers, names, and
     * certificates (a few distinct of each, see service.c) */
    const uint16_t *tls_versions;
    size_t ntls_versions;
    const struct service_tls *const *tls_certs;     /* distinct by cert_sha256 */
    size_t ntls_certs;
    const uint32_t *tls_ciphers;
    const char *const *tls_cipher_names;
    size_t ntls_ciphers;
    const char *const *tls_snis;
    size_t ntls_snis;
    const char *const *tls_ja3;
    size_t ntls_ja3;
    const char *const *tls_ja4;
    size_t ntls_ja4;
    bool tls_cert_encrypted;
};


/* Services in address order; n set to their count.  Valid until
 * services_free(). */
size_t services_count(void);
void service_view_at(size_t i, struct service_view *v);
void services_sort(void);

struct traffic_totals {
    uint64_t flows[4], bytes[4];        /* indexed by enum service_verdict */
};
const struct traffic_totals *services_totals(void);

/* Per-protocol counts, in name order. */
struct proto_count {
    const char *name;
    uint64_t flows, bytes;
};
const struct proto_count *services_protocols(size_t *n);

void services_free(void);

#endif

/*
 * classify.h - names the protocol of a flow from its first packets (nDPI).
 *
 * This is the only interface to nDPI: scanner/classify.c is the only file
 * that includes it, so a change of nDPI version is one diff.
 */
#ifndef LEAKSCAN_CLASSIFY_H
#define LEAKSCAN_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct classify_result {
    uint16_t master, app;       /* nDPI protocol ids (0 = unknown) */
    const char *name;           /* the protocol: master if set, else app; "Unknown" */
    const char *app_name;       /* the application on top (TLS.Google: "Google"), or NULL */
    bool by_dpi;                /* confidence is DPI: identified from the bytes */
    bool encrypted_proto;       /* nDPI files the protocol as encrypted (TLS, SSH, QUIC...) */
    char host[80];              /* TLS SNI, HTTP Host or DNS name, "" if none */
};

struct classify_flow;       /* opaque nDPI flow state */

/* Sets up the nDPI module.  Returns -1 and fills err on failure. */
int classify_init(char *err, size_t errlen);
void classify_free(void);

/* nDPI's version string ("4.2.0"). */
const char *classify_version(void);

/* A new per-flow state (NULL when out of memory). */
struct classify_flow *classify_flow_new(void);

/* Gives nDPI one packet starting at its IP header.  to_server tells the
 * direction (we decide it, not nDPI).  Returns true once the flow is
 * decided (*out filled): named with nothing more to learn. */
bool classify_packet(struct classify_flow *cf, const uint8_t *l3, uint32_t len,
                     uint64_t ts_ns, bool to_server, struct classify_result *out);

/* Ends classification: takes nDPI's best answer without port guesses. */
void classify_giveup(struct classify_flow *cf, struct classify_result *out);

/* Frees the per-flow state (harvest the result first). */
void classify_flow_free(struct classify_flow *cf);

#endif

/*
 * detector.h - the contract between the scanner and the detectors.
 *
 * A detector sees four things about a flow: it starts, in-order bytes for
 * one direction, a gap of N bytes it will never see, it ends.  The engine
 * (scanner/engine.c) reassembles TCP, so a detector never does: a password
 * split over three segments arrives as one run of bytes.
 *
 * Lifecycle, per flow:
 *   1. The engine holds the first bytes of each direction until nDPI has
 *      named the protocol (or given up), then asks every registered
 *      detector's wants().  Those that say yes get a zeroed state of
 *      state_size bytes and on_start().
 *   2. on_data() is called with every in-order byte of one direction.  It
 *      returns how many bytes it consumed; the engine keeps the rest
 *      (bounded by REASM_MAX_PENDING) and offers them again, followed by
 *      the next bytes.  Returning 0 means "need more".
 *   3. on_gap() says len bytes of that direction are lost (capture loss,
 *      snaplen cut, a cap).  Resynchronise or detach; never parse across it.
 *   4. on_end() is called exactly once, on every path (close, timeout,
 *      eviction, end of input), before the state is freed.
 *
 * Bytes passed to a callback are borrowed for the duration of the call.
 * Findings leave through detector_emit(); a detector never builds JSON,
 * redacts, hashes or counts.
 */
#ifndef LEAKSCAN_DETECTOR_H
#define LEAKSCAN_DETECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../reports/finding.h"
#include "../reports/service.h"
#include "../scanner/addr.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

enum dir { DIR_TO_SERVER = 0, DIR_TO_CLIENT = 1 };

/* What a detector may know about its flow (read-only). */
struct flow_view {
    uint64_t id;                /* flow number, in order of first packet */
    uint8_t transport;          /* 6 tcp, 17 udp */
    struct ipaddr client, server;
    uint16_t client_port, server_port;
    const char *protocol;       /* nDPI's name ("MySQL", "HTTP", "Unknown") */
    bool by_dpi;                /* nDPI identified it from the bytes (not a guess) */
    uint16_t ndpi_master, ndpi_app;     /* nDPI protocol ids */
    /* The first bytes of each direction (up to CLASSIFY_HOLD_BYTES), for
     * wants() to sniff; valid only during wants(). */
    const uint8_t *head[2];
    size_t head_len[2];
};

/* Whether nDPI identified the flow from its bytes as the protocol name
 * (the first two letters are compared inline: wants() runs on every flow,
 * and "MySQL", "MongoDB" and "MsSQL-TDS" share the first). */
static inline bool flow_dpi_is(const struct flow_view *f, const char *name)
{
    return f->by_dpi && f->protocol != NULL && f->protocol[0] == name[0] &&
           (name[0] == '\0' || f->protocol[1] == name[1]) && strcmp(f->protocol, name) == 0;
}

/* The detector's handle on one flow, valid during a callback. */
struct det_ctx {
    const struct flow_view *flow;
    void *state;                /* state_size zeroed bytes, owned by the engine */
    uint64_t pkt_no;            /* packet that delivered the current bytes */
    uint64_t ts_ns;             /* its time, ns since the epoch */
    void *engine;               /* private to the engine */
};

struct detector {
    const char *name;                   /* short name, used by tests and the fuzzer */
    const struct rule *const *rules;    /* rules this detector can fire */
    size_t nrules;
    size_t state_size;
    /* Reads encrypted streams (the TLS detector): offered flows that start
     * encrypted, kept when a flow switches to TLS, and attached at that
     * moment when it was not attached yet (wants() is not asked then).
     * Detectors without it never see encrypted bytes. */
    bool tls;
    /* Attach to this flow?  Called once, when the protocol is decided. */
    bool (*wants)(const struct flow_view *f);
    void (*on_start)(struct det_ctx *ctx);                  /* optional */
    size_t (*on_data)(struct det_ctx *ctx, enum dir d, const uint8_t *p, size_t n);
    void (*on_gap)(struct det_ctx *ctx, enum dir d, uint64_t len);   /* optional */
    void (*on_end)(struct det_ctx *ctx);                    /* optional */
};

/* The registration table (detectors/registry.c), NULL-terminated. */
extern const struct detector *const detector_registry[];
size_t detector_count(void);
/* The detectors this run offers flows to, NULL-terminated, in table order:
 * detector_registry, or the --detectors selection (scanner/engine.c). */
const struct detector *const *detector_active(void);
const struct detector *detector_find(const char *name);
/* Fills out (room for detector_count() + 1) with the detectors named in
 * list, comma-separated, in the table's order and NULL-terminated; "all"
 * is every detector, "none" none.  Returns -1 with the first unknown name
 * in bad when a name is not a detector. */
int detector_select(const char *list, const struct detector **out, char *bad, size_t badlen);

/*
 * Services the engine offers to a detector during a callback.
 */

/* Counts n more occurrences of a fact of rule stated before, on this
 * flow's server, with the same field and value (a repeated value the
 * secrets scanner remembers), without stating it again: the finding's
 * samples and distinct-secret count already hold it.  Returns false (and
 * counts nothing) when this flow has not fed a finding of rule yet: the
 * caller then states the fact with detector_emit, which also counts the
 * flow. */
bool detector_emit_again(struct det_ctx *ctx, const struct rule *rule, uint64_t n);

/* States one fact.  field names what was seen ("user", "COM_QUERY");
 * value/len is the evidence (may be NULL/0), shown as kind says. */
void detector_emit(struct det_ctx *ctx, const struct rule *rule, enum dir d,
                   const char *field, const void *value, size_t len,
                   enum ev_kind kind);

/* The stream has switched to TLS (or another encryption) from here on:
 * the flow counts as encrypted, and this detector stops receiving data
 * (on_end still follows). */
void detector_flow_encrypted(struct det_ctx *ctx);

/* The flow looked encrypted but is not: TLS negotiated a NULL cipher, so
 * everything after the handshake is readable.  It counts as plaintext. */
void detector_flow_not_encrypted(struct det_ctx *ctx);

/* The detector recognised its protocol in clear: the flow counts as
 * plaintext, and the service is named proto when nDPI could not name it. */
void detector_flow_plaintext(struct det_ctx *ctx, const char *proto);

/* The detector wants no more data from this flow (on_end still follows). */
void detector_detach(struct det_ctx *ctx);

/* Facts about the TLS of this flow, for the services inventory (the
 * evidence an auditor needs for PCI DSS 4.2.1 and 12.3.3).  Fields left
 * zero or empty are unknown.  May be called more than once per flow; the
 * inventory keeps distinct values. */
void detector_flow_tls(struct det_ctx *ctx, const struct service_tls *t);

#endif

/*
 * finding.h - the finding model: rules, severities, compliance references,
 * and the aggregation of raw facts into one finding per (rule, server).
 *
 * Detectors state facts through detector_emit() (detectors/detector.h);
 * this module counts, aggregates and keeps a few evidence samples; redact.c
 * decides how a value is shown; json.c writes the document.  The catalogue
 * of rule ids is ../shared/docs/FINDINGS.md: ids are API, never renamed.
 */
#ifndef LEAKSCAN_FINDING_H
#define LEAKSCAN_FINDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../scanner/addr.h"
#include "../scanner/limits.h"

enum severity {
    SEV_INFO = 0,
    SEV_LOW,
    SEV_MEDIUM,
    SEV_HIGH,
    SEV_CRITICAL,
    SEV_COUNT
};

/* One requirement a finding is evidence against. */
struct compliance_ref {
    const char *framework;      /* "PCI DSS v4.0", "HIPAA", ... */
    const char *requirement;    /* "4.2.1", "45 CFR 164.312(e)(1)" */
};

/* Sets of references shared by many rules (reports/compliance.c).  Each
 * array ends with a {NULL, NULL} row. */
extern const struct compliance_ref COMPLIANCE_CREDENTIALS[];  /* secret in clear */
extern const struct compliance_ref COMPLIANCE_CARDHOLDER[];   /* PAN in clear */
extern const struct compliance_ref COMPLIANCE_SENSITIVE[];    /* data/session in clear */
extern const struct compliance_ref COMPLIANCE_ADMIN[];        /* admin access in clear */
extern const struct compliance_ref COMPLIANCE_CRYPTO[];       /* weak/obsolete crypto */
extern const struct compliance_ref COMPLIANCE_INVENTORY[];    /* protocol inventory */

struct rule {
    const char *id;                 /* "mysql.cleartext-query": stable API */
    enum severity severity;
    const char *title;              /* one line for humans */
    const char *remediation;        /* one or two sentences an operator can act on */
    const struct compliance_ref *compliance;   /* {NULL,NULL}-terminated */
};

/* How redact.c shows an evidence value. */
enum ev_kind {
    EV_NONE = 0,    /* no value: the field name says it all */
    EV_TEXT,        /* harmless text (user name, version, host): shown, bounded */
    EV_SECRET,      /* password, token, key, card number: masked + fingerprint */
    EV_SQL,         /* a statement: literals masked, shape shown */
};

enum finding_dir { FDIR_TO_SERVER = 0, FDIR_TO_CLIENT = 1 };

/* A raw fact from a detector, borrowed for the duration of finding_add(). */
struct fact {
    const struct rule *rule;
    const char *protocol;           /* "MySQL", as the report names it */
    uint8_t transport;              /* 6 tcp, 17 udp */
    struct ipaddr server;
    uint16_t server_port;
    struct ipaddr client;
    uint64_t pkt_no;                /* packet (1-based, over all inputs) that completed it */
    uint64_t ts_ns;                 /* its capture time, ns since the epoch */
    enum finding_dir dir;
    const char *field;              /* "user", "Authorization", "COM_QUERY" */
    const uint8_t *value;
    size_t value_len;
    enum ev_kind kind;
};

struct finding;     /* opaque: reports/finding.c */

/* Adds a fact to the finding of (rule, server).  Returns the finding, or NULL
 * when FINDINGS_MAX distinct findings exist already (counted in
 * findings_dropped()).  Flows are counted separately: the engine remembers
 * which findings a flow has fed and calls finding_count_flow() once each. */
struct finding *finding_add(const struct fact *f);
/* Adds a fact to fd, a finding that an earlier fact of the same rule, server
 * and client went to (the engine knows them per flow): finding_add() without
 * the lookup, for the hot path of a flow that repeats a fact.  Reads only
 * the fact's time, packet, direction, field and value. */
void finding_add_again(struct finding *fd, const struct fact *f);
/* Counts n more occurrences, at ts_ns, of a fact fd holds already (same
 * field and value): finding_add_again() without the sample and the
 * distinct-secret count, which it would not change. */
void finding_add_occurrences(struct finding *fd, uint64_t ts_ns, uint64_t n);
/* Counts one more flow for a finding (the engine calls it once per flow). */
void finding_count_flow(struct finding *fd);

/* Whether --show-secrets is in force (redact.c shows values in full). */
void finding_set_show_secrets(bool on);
bool finding_show_secrets(void);

uint64_t findings_dropped(void);
size_t findings_count(void);
/* Count of findings at each severity (SEV_COUNT entries). */
void findings_per_severity(uint64_t out[SEV_COUNT]);
/* Highest severity seen, or -1 when there is no finding. */
int findings_max_severity(void);

/* Sorted view for the writer: severity (high first), rule, server.  The
 * array is owned by finding.c and valid until findings_free(). */
struct finding *const *findings_sorted(size_t *n);
void findings_free(void);
/* Changes at every findings_free(): a fact stated under another epoch is
 * no longer in any finding.  Read on every remembered value, so inline. */
extern uint64_t findings_epoch_now;
static inline uint64_t findings_epoch(void)
{
    return findings_epoch_now;
}

/* Accessors for the writer. */
struct finding_sample {
    uint64_t pkt_no;
    uint64_t ts_ns;
    enum finding_dir dir;
    char field[48];
    char excerpt[EVIDENCE_MAX_TEXT + 32];   /* already redacted */
    char fingerprint[17];                   /* "" when the value is not a secret */
};

struct finding_view {
    const struct rule *rule;
    const char *protocol;
    uint8_t transport;
    struct ipaddr server;
    uint16_t server_port;
    const struct ipaddr *clients;
    size_t nclients;
    uint64_t clients_total;
    uint64_t first_ns, last_ns;
    uint64_t occurrences;
    uint64_t flows;
    const struct finding_sample *samples;
    size_t nsamples;
    uint64_t distinct_secrets;      /* distinct fingerprints seen (capped) */
};

void finding_view(const struct finding *fd, struct finding_view *v);

const char *severity_name(enum severity s);
/* Parses "critical".."info"; returns -1 when unknown. */
int severity_parse(const char *s);

#endif

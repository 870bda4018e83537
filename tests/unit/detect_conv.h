/*
 * detect_conv.h - scripted conversations for the detector tests of issue 5
 * (TLS, FTP, SMTP, POP3, IMAP, Telnet, LDAP, SNMP, XMPP).
 *
 * A conversation is a list of steps (direction, bytes).  conv_check()
 * replays it whole, then cut into pieces of every size from 1 byte to its
 * longest step (or the sizes given), and checks that every run states the
 * same findings and the same TLS facts (segmentation independence).  Every
 * step sits right before an unreadable page (guarded_copy), so a detector
 * that reads one byte too far crashes.  Include after unit.h.
 */
#ifndef LEAKSCAN_DETECT_CONV_H
#define LEAKSCAN_DETECT_CONV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../detectors/detector.h"
#include "../../reports/finding.h"
#include "../../reports/service.h"
#include "../../scanner/engine.h"

#define CONV_MAX_STEPS 48

struct conv {
    struct det_step steps[CONV_MAX_STEPS];
    uint8_t *raw[CONV_MAX_STEPS];
    size_t len[CONV_MAX_STEPS];
    enum dir d[CONV_MAX_STEPS];
    size_t nsteps;
};

/* Appends bytes as a new step (glue: to the last step when it has the
 * same direction). */
static inline void conv_add(struct conv *c, enum dir d, const void *p, size_t n, bool glue)
{
    size_t i;
    if (glue && c->nsteps > 0 && c->d[c->nsteps - 1] == d) {
        i = c->nsteps - 1;
    } else {
        if (c->nsteps == CONV_MAX_STEPS) {
            fprintf(stderr, "conversation too long\n");
            exit(2);
        }
        i = c->nsteps++;
        c->d[i] = d;
    }
    c->raw[i] = realloc(c->raw[i], c->len[i] + n + 1);
    if (c->raw[i] == NULL) {
        perror("realloc");
        exit(2);
    }
    memcpy(c->raw[i] + c->len[i], p, n);
    c->len[i] += n;
}

/* A text step: a string literal's bytes. */
static inline void conv_text(struct conv *c, enum dir d, const char *s)
{
    conv_add(c, d, s, strlen(s), false);
}

/* Places every step before a guard page. */
static inline void conv_seal(struct conv *c)
{
    for (size_t i = 0; i < c->nsteps; i++) {
        c->steps[i].d = c->d[i];
        c->steps[i].p = guarded_copy(c->raw[i], c->len[i]);
        c->steps[i].n = c->len[i];
    }
}

static inline void conv_free(struct conv *c)
{
    for (size_t i = 0; i < c->nsteps; i++)
        free(c->raw[i]);
    memset(c, 0, sizeof *c);
}

static inline struct flow_view conv_view(uint8_t transport, uint16_t server_port, const char *proto)
{
    struct flow_view fv;
    memset(&fv, 0, sizeof fv);
    fv.id = 1;
    fv.transport = transport;
    fv.client.family = 4;
    fv.client.b[0] = 10, fv.client.b[3] = 1;
    fv.server.family = 4;
    fv.server.b[0] = 10, fv.server.b[3] = 2;
    fv.client_port = 40000;
    fv.server_port = server_port;
    fv.protocol = proto;
    fv.by_dpi = proto != NULL && strcmp(proto, "Unknown") != 0;
    return fv;
}

/* Everything the findings and the TLS inventory say, as one string. */
static inline void conv_signature(char *out, size_t cap)
{
    size_t n, o = 0;
    struct finding *const *all = findings_sorted(&n);
    out[0] = '\0';
    for (size_t i = 0; i < n && o < cap; i++) {
        struct finding_view v;
        finding_view(all[i], &v);
        o += (size_t)snprintf(out + o, cap - o, "%s occ=%llu flows=%llu\n", v.rule->id,
                              (unsigned long long)v.occurrences, (unsigned long long)v.flows);
        for (size_t k = 0; k < v.nsamples && o < cap; k++)
            o += (size_t)snprintf(out + o, cap - o, "  [%llu %d] %s=%s fp=%s\n",
                                  (unsigned long long)v.samples[k].pkt_no, v.samples[k].dir,
                                  v.samples[k].field, v.samples[k].excerpt,
                                  v.samples[k].fingerprint);
    }
    services_sort();
    for (size_t i = 0; i < services_count() && o < cap; i++) {
        struct service_view v;
        service_view_at(i, &v);
        for (size_t k = 0; k < v.ntls_versions && o < cap; k++)
            o += (size_t)snprintf(out + o, cap - o, "version=%04x\n", v.tls_versions[k]);
        for (size_t k = 0; k < v.ntls_ciphers && o < cap; k++)
            o += (size_t)snprintf(out + o, cap - o, "cipher=%s\n", v.tls_cipher_names[k]);
        for (size_t k = 0; k < v.ntls_snis && o < cap; k++)
            o += (size_t)snprintf(out + o, cap - o, "sni=%s\n", v.tls_snis[k]);
        for (size_t k = 0; k < v.ntls_ja3 && o < cap; k++)
            o += (size_t)snprintf(out + o, cap - o, "ja3=%s\n", v.tls_ja3[k]);
        for (size_t k = 0; k < v.ntls_ja4 && o < cap; k++)
            o += (size_t)snprintf(out + o, cap - o, "ja4=%s\n", v.tls_ja4[k]);
        for (size_t k = 0; k < v.ntls_certs && o < cap; k++)
            o += (size_t)snprintf(out + o, cap - o, "cert=%s\n", v.tls_certs[k]->cert_sha256);
        if (v.tls_cert_encrypted && o < cap)
            o += (size_t)snprintf(out + o, cap - o, "cert_encrypted\n");
    }
}

static inline void conv_reset(void)
{
    findings_free();
    services_free();
}

static char conv_sig_whole[32768], conv_sig_cut[32768];

/* Replays steps whole and at every chunk size up to the longest step (or
 * the sizes listed); every run must state the same.  The whole run's
 * findings and services are left in the stores for the caller. */
static inline void conv_replay(const struct detector *det, const struct flow_view *fv,
                               const struct det_step *steps, size_t nsteps,
                               const size_t *chunks, size_t nchunks)
{
    size_t longest = 0;
    for (size_t i = 0; i < nsteps; i++)
        if (steps[i].n > longest)
            longest = steps[i].n;
    conv_reset();
    CHECK_EQ(engine_run_detector(det, fv, steps, nsteps, 0), 0);
    conv_signature(conv_sig_whole, sizeof conv_sig_whole);
    if (getenv("UNIT_VERBOSE") != NULL)
        printf("%s:\n%s", unit_current, conv_sig_whole);
    size_t total = chunks != NULL ? nchunks : longest;
    for (size_t i = 0; i < total; i++) {
        size_t chunk = chunks != NULL ? chunks[i] : i + 1;
        conv_reset();
        engine_run_detector(det, fv, steps, nsteps, chunk);
        conv_signature(conv_sig_cut, sizeof conv_sig_cut);
        if (strcmp(conv_sig_whole, conv_sig_cut) != 0) {
            fprintf(stderr, "%s: chunk %zu differs\n--- whole\n%s--- cut\n%s", unit_current,
                    chunk, conv_sig_whole, conv_sig_cut);
            CHECK(strcmp(conv_sig_whole, conv_sig_cut) == 0);
            break;
        }
    }
    conv_reset();
    engine_run_detector(det, fv, steps, nsteps, 0);
}

/* conv_replay() of a conversation built with conv_add(). */
static inline void conv_check(const struct detector *det, const struct flow_view *fv,
                              const struct conv *c, const size_t *chunks, size_t nchunks)
{
    conv_replay(det, fv, c->steps, c->nsteps, chunks, nchunks);
}

/* The finding of a rule, or false. */
static inline bool conv_finding(const char *rule, struct finding_view *v)
{
    size_t n;
    struct finding *const *all = findings_sorted(&n);
    for (size_t i = 0; i < n; i++) {
        finding_view(all[i], v);
        if (strcmp(v->rule->id, rule) == 0)
            return true;
    }
    return false;
}

static inline size_t conv_nfindings(void)
{
    size_t n;
    findings_sorted(&n);
    return n;
}

/* Whether a sample of v has this field and its excerpt contains text. */
static inline bool conv_sample(const struct finding_view *v, const char *field, const char *text)
{
    for (size_t k = 0; k < v->nsamples; k++)
        if (strcmp(v->samples[k].field, field) == 0 &&
            strstr(v->samples[k].excerpt, text) != NULL)
            return true;
    return false;
}

#endif

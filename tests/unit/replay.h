/*
 * replay.h - replays a scripted conversation through one detector, whole
 * and cut at every piece size, and checks that every run states the same
 * findings (segmentation independence).  Used by the PostgreSQL and Redis
 * tests; detect_conv.h offers the same with a conversation builder.
 * Include after unit.h.
 */
#ifndef LEAKSCAN_REPLAY_H
#define LEAKSCAN_REPLAY_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../../detectors/detector.h"
#include "../../reports/finding.h"
#include "../../scanner/engine.h"

#define STEP(dir, msg) { (dir), guarded_copy((msg), sizeof(msg) - 1), sizeof(msg) - 1 }
#define C2S DIR_TO_SERVER
#define S2C DIR_TO_CLIENT

/* Everything a run stated, as one comparable string: rule, counts and
 * every sample (packet, direction, field, excerpt, fingerprint). */
static void signature(char *out, size_t len)
{
    size_t n, o = 0;
    struct finding *const *all = findings_sorted(&n);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        struct finding_view v;
        finding_view(all[i], &v);
        o += (size_t)snprintf(out + o, len - o, "%s occ=%llu flows=%llu;", v.rule->id,
                              (unsigned long long)v.occurrences, (unsigned long long)v.flows);
        for (size_t s = 0; s < v.nsamples && o < len; s++)
            o += (size_t)snprintf(out + o, len - o, " [%llu %d %s=%s #%s]",
                                  (unsigned long long)v.samples[s].pkt_no, v.samples[s].dir,
                                  v.samples[s].field, v.samples[s].excerpt,
                                  v.samples[s].fingerprint);
        if (o < len)
            o += (size_t)snprintf(out + o, len - o, "\n");
        if (o >= len)
            break;
    }
}

/* Runs the conversation through det whole, then in pieces of 1..max_chunk bytes (0:
 * up to the longest step), checking each run states what the whole run
 * did.  Leaves the whole run's findings in the store for the caller. */
static void replay_with(const struct detector *det, const struct flow_view *fv,
                        const struct det_step *steps, size_t nsteps, size_t max_chunk)
{
    static char whole[16384], cut[16384];
    if (max_chunk == 0)
        for (size_t i = 0; i < nsteps; i++)
            max_chunk = steps[i].n > max_chunk ? steps[i].n : max_chunk;

    findings_free();
    CHECK_EQ(engine_run_detector(det, fv, steps, nsteps, 0), 0);
    signature(whole, sizeof whole);
    for (size_t chunk = 1; chunk <= max_chunk; chunk++) {
        findings_free();
        engine_run_detector(det, fv, steps, nsteps, chunk);
        signature(cut, sizeof cut);
        if (strcmp(whole, cut) != 0) {
            fprintf(stderr, "chunk %zu:\n%s\nwhole:\n%s\n", chunk, cut, whole);
            CHECK(strcmp(whole, cut) == 0);
            break;
        }
    }
    findings_free();
    engine_run_detector(det, fv, steps, nsteps, 0);
}

/* The finding of rule id, or false; fills v. */
static bool find(const char *id, struct finding_view *v)
{
    size_t n;
    struct finding *const *all = findings_sorted(&n);
    for (size_t i = 0; i < n; i++) {
        finding_view(all[i], v);
        if (strcmp(v->rule->id, id) == 0)
            return true;
    }
    memset(v, 0, sizeof *v);
    return false;
}

#endif

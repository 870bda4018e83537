/*
 * replay.h - replays a scripted conversation through one detector, whole
 * and cut at every piece size, and checks that every run states the same
 * findings (segmentation independence), on a static array of steps.  Used
 * by the PostgreSQL and Redis tests; the replay itself is detect_conv.h's,
 * which also offers a conversation builder.  Include after unit.h.
 */
#ifndef LEAKSCAN_REPLAY_H
#define LEAKSCAN_REPLAY_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../../detectors/detector.h"
#include "../../reports/finding.h"
#include "../../scanner/engine.h"
#include "detect_conv.h"

#define STEP(dir, msg) { (dir), guarded_copy((msg), sizeof(msg) - 1), sizeof(msg) - 1 }
#define C2S DIR_TO_SERVER
#define S2C DIR_TO_CLIENT

/* Runs the conversation through det whole, then in pieces of 1..max_chunk
 * bytes (0: up to the longest step), checking each run states what the
 * whole run did (detect_conv.h's conv_replay).  Leaves the whole run's
 * findings in the store for the caller. */
static void replay_with(const struct detector *det, const struct flow_view *fv,
                        const struct det_step *steps, size_t nsteps, size_t max_chunk)
{
    static size_t sizes[65536];
    if (max_chunk == 0 || max_chunk > ARRAY_LEN(sizes)) {
        conv_replay(det, fv, steps, nsteps, NULL, 0);
        return;
    }
    for (size_t i = 0; i < max_chunk; i++)
        sizes[i] = i + 1;
    conv_replay(det, fv, steps, nsteps, sizes, max_chunk);
}

/* The finding of rule id, or false; fills v. */
static bool find(const char *id, struct finding_view *v)
{
    if (conv_finding(id, v))
        return true;
    memset(v, 0, sizeof *v);
    return false;
}

#endif
